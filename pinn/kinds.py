"""JSON kinds of settings: what kinds of value ("int", "list", "dict", ...) a function's
arguments or a dataclass's fields take, read from their annotations, and a check of a value
against them. Config files and `--set` overrides (`pinn.config`) validate with these."""

from __future__ import annotations

import dataclasses
import inspect
import json

from .errors import BadValue

ANY = "any"  # an annotation the kinds cannot express: any value is taken


_KINDS = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "None": "null",
    "tuple": "list",
    "list": "list",
    "Sequence": "list",
    "dict": "dict",
    "Mapping": "dict",
    "Schedule": "dict",
    "EarlyStopping": "dict",
}
_NAMES = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "null": "null",
    "list": "a list",
    "dict": "an object {...}",
}


def signature(fn, skip=()) -> dict:
    """The kinds of each argument of `fn` but those in `skip`, by name."""
    params = inspect.signature(fn).parameters.values()
    return {p.name: kinds(p.annotation) for p in params if p.name not in skip}


def dataclass_kinds(cls) -> dict:
    """The kinds of each field of dataclass `cls`, by name."""
    return {f.name: kinds(f.type) for f in dataclasses.fields(cls)}


def kinds(annotation):
    """The JSON kinds an annotation allows ("int | None" -> {"int", "null"}), or ANY."""
    if annotation is inspect.Parameter.empty or not isinstance(annotation, str):
        return ANY
    parts, depth, start = [], 0, 0
    for i, c in enumerate(annotation + "|"):
        depth += (c == "[") - (c == "]")
        if c == "|" and depth == 0:
            parts.append(annotation[start:i].strip().split("[")[0])
            start = i + 1
    found = {_KINDS.get(p) for p in parts}
    return ANY if None in found else found


def kind_of(value) -> str | None:
    """The JSON kind of a value ("int", "list", ...), None for other objects."""
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}.get(
        type(value)
    )


def kinds_of(value):
    """The kinds a setting whose current value is `value` takes: its own, or null."""
    kind = kind_of(value)
    return {kind, "null"} if kind else ANY


def check_type(key: str, value, expected) -> None:
    """A clear error, naming `key`, unless `value` is of the `expected` kinds (an int passes
    for a float; None passes always)."""
    if expected == ANY or value is None:
        return
    kind = kind_of(value)
    if kind in expected or (kind == "int" and "float" in expected):
        return
    names = " or ".join(_NAMES[k] for k in sorted(expected - {"null"}) or ["null"])
    raise BadValue(f"{key}: expected {names}, got {json.dumps(value)}")
