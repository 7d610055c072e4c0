"""Recipes as plain JSON configs, and `--set key=value` overrides on them.

A recipe holds objects (`{"net": {...}, "stages": [pinn.Adam(...), ...], "l2": ...}`); its
config holds the same settings as JSON values, each stage, schedule and strategy a dict with a
"type": `{"type": "adam", "steps": 2000, "lr": 0.001, "decay": {"type": "exponential", ...}}`,
`"weighting": [{"type": "causal", "tol": 1.0, "chunks": 32}, {"type": "gradnorm", ...}]`,
`"sampling": {"type": "rad", "every": 1000, ...}`. A
"problem" section, when present, holds the keyword arguments of the problem's `problem()` and
passes through unchanged. The syntax of overrides is documented in docs/training.md.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import torch

from .embeddings import FourierFeatures, Periodic
from .errors import BadValue
from .kinds import ANY, check_type, dataclass_kinds, kinds_of, signature
from .nets import architecture
from .training import (
    R3,
    RAD,
    RAR,
    RBA,
    Causal,
    GradNorm,
    NTKWeights,
    Resample,
    SelfAdaptive,
    trainer,
)
from .training.sampling import Sampling
from .training.schedules import SCHEDULES, Schedule
from .training.stages import Stage, TorchOptimizer, registry
from .training.stopping import EarlyStopping
from .training.weighting import Combined, FixedWeights, Weighting

WEIGHTINGS = {
    cls.name: cls for cls in (FixedWeights, GradNorm, NTKWeights, SelfAdaptive, RBA, Causal)
}
SAMPLINGS = {cls.name: cls for cls in (Resample, RAR, RAD, R3)}
EMBEDDINGS = {"fourier": FourierFeatures, "periodic": Periodic}
STRATEGIES = {"weighting": WEIGHTINGS, "sampling": SAMPLINGS, "embedding": EMBEDDINGS}

SCHEDULE_TYPES = {cls.name: cls for cls in SCHEDULES}
RUNTIME = (
    "verbose",
    "on_step",
    "on_stage_end",
    "checkpoints",
    "resume",
    "distributed",
)  # not settings


# -- recipe <-> config --------------------------------------------------------------------------
def recipe_to_config(recipe: dict) -> dict:
    """The recipe as JSON values: stages, schedules, strategies and early stopping become dicts
    with their every field, tuples become lists. Callables (an output transform, say) are kept
    as they are. A weighting or sampling strategy of your own has no config form: a recipe with
    one fails here, by name.
    """
    for key, kinds in (("weighting", WEIGHTINGS), ("sampling", SAMPLINGS)):
        value = recipe.get(key)
        for part in value if isinstance(value, (list, tuple)) else [value]:
            if part is not None and kinds.get(getattr(part, "name", None)) is not type(part):
                raise BadValue(
                    f"{key}={part!r} cannot be written to a run's config (only the built-in "
                    f"ones can: {', '.join(kinds)}); train it with pinn.train from Python"
                )
    return {key: _to_json(value) for key, value in recipe.items()}


def config_to_recipe(config: dict) -> dict:
    """The inverse of `recipe_to_config`: stage, schedule and early-stopping dicts become objects.

    Raises ValueError naming the offending key and the valid keys or types.
    """
    if not isinstance(config, dict):
        raise BadValue(f"a config must be a dict, got {type(config).__name__}")
    _check_keys(config, _top_keys(), "config")
    recipe = dict(config)
    if "net" in config:
        if not isinstance(config["net"], dict):
            raise BadValue(
                f'net must be a dict of network arguments (and "arch"), got {config["net"]!r}'
            )
        _check_keys(config["net"], net_keys(config["net"].get("arch", "MLP"), "net"), "net")
        embedding = config["net"].get("embedding")
        if embedding is not None:
            parts = embedding if isinstance(embedding, list) else [embedding]
            built = [_strategy(d, EMBEDDINGS, f"net.embedding.{i}") for i, d in enumerate(parts)]
            recipe["net"] = {
                **config["net"],
                "embedding": built if isinstance(embedding, list) else built[0],
            }
    if "stages" in config:
        stages = config["stages"]
        if not isinstance(stages, list) or not stages:
            raise BadValue(f"stages must be a non-empty list of stage dicts, got {stages!r}")
        recipe["stages"] = [_stage(d, f"stages.{i}") for i, d in enumerate(stages)]
    if config.get("early_stopping") is not None:
        recipe["early_stopping"] = _build(EarlyStopping, config["early_stopping"], "early_stopping")
    weighting = config.get("weighting")
    if isinstance(weighting, list):
        recipe["weighting"] = [
            _strategy(d, WEIGHTINGS, f"weighting.{i}") for i, d in enumerate(weighting)
        ]
    elif weighting is not None:
        recipe["weighting"] = _strategy(weighting, WEIGHTINGS, "weighting")
    if config.get("sampling") is not None:
        recipe["sampling"] = _strategy(config["sampling"], SAMPLINGS, "sampling")
    return recipe


def _to_json(value):
    if isinstance(value, Stage):
        value.check_config()
        return {"type": value.name, **_fields_json(value, skip=value.config_skip)}
    if isinstance(value, Schedule):
        return {"type": value.name, **_fields_json(value)}
    if isinstance(value, EarlyStopping):
        return _fields_json(value)
    if isinstance(value, (FourierFeatures, Periodic)):
        kind = next(k for k, cls in EMBEDDINGS.items() if isinstance(value, cls))
        return {"type": kind, **_fields_json(value)}
    if isinstance(value, Combined):
        return [_to_json(w) for w in value.parts]
    if isinstance(value, (Weighting, Sampling)):
        settings = _fields_json(value) if dataclasses.is_dataclass(value) else value.settings()
        return {"type": value.name, **_to_json(settings)}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value


def _fields_json(obj, skip=()) -> dict:
    return {
        f.name: _to_json(getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if f.name not in skip
    }


def _stage_class(kind, where):
    stages = registry()
    if kind in stages:
        return stages[kind]
    optim = getattr(torch.optim, kind, None) if isinstance(kind, str) else None
    if isinstance(optim, type) and issubclass(optim, torch.optim.Optimizer):
        return TorchOptimizer
    raise BadValue(
        f"{where}: unknown optimizer type {kind!r}; valid: {', '.join(stages)}, or the name of "
        f"a torch.optim class such as NAdam"
    )


def _stage(d, where) -> Stage:
    if not isinstance(d, dict):
        raise BadValue(f"{where}: a stage must be a dict with a 'type', got {d!r}")
    d = dict(d)
    kind = d.pop("type", None)
    cls = _stage_class(kind, where)
    if d.get("decay") is not None:
        d["decay"] = _schedule(d["decay"], f"{where}.decay")
    fixed = {"optim": getattr(torch.optim, kind)} if cls is TorchOptimizer else {}
    return _build(cls, d, where, kind, **fixed)


def _strategy(d, kinds: dict, where: str):
    """A weighting, sampling strategy or embedding from its dict: the class its "type" names,
    built with the other keys (each an argument of that class)."""
    if not isinstance(d, dict) or d.get("type") not in kinds:
        raise BadValue(
            f"{where}: expected a dict whose 'type' is one of {', '.join(kinds)}, got {d!r}"
        )
    d = dict(d)
    kind = d.pop("type")
    cls = kinds[kind]
    valid = signature(cls.__init__, skip=("self",))
    _check_keys(d, valid, where, kind)
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    try:
        return cls(**args)
    except (TypeError, ValueError) as e:
        raise BadValue(f"{where}: {e}") from None


def _schedule_class(kind, where):
    if kind not in SCHEDULE_TYPES:
        raise BadValue(
            f"{where}: unknown schedule type {kind!r}; valid: {', '.join(SCHEDULE_TYPES)}"
        )
    return SCHEDULE_TYPES[kind]


def _schedule(d, where) -> Schedule:
    if not isinstance(d, dict):
        raise BadValue(f"{where}: a schedule must be a dict with a 'type', got {d!r}")
    d = dict(d)
    kind = d.pop("type", None)
    return _build(_schedule_class(kind, where), d, where, kind)


def _build(cls, d: dict, where: str, kind: str | None = None, **fixed):
    """`cls(**d, **fixed)`, lists turned back into tuples where the field's default is one."""
    if not isinstance(d, dict):
        raise BadValue(f"{where} must be a dict, got {d!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in fixed}
    _check_keys(d, {*fields, *(["type"] if kind else [])}, where, kind)
    args = {
        k: tuple(v) if isinstance(v, list) and isinstance(fields[k].default, tuple) else v
        for k, v in d.items()
    }
    try:
        return cls(**args, **fixed)
    except (TypeError, ValueError) as e:
        raise BadValue(f"{where}: {e}") from None


def _check_keys(d: dict, valid, where: str, kind: str | None = None) -> None:
    for key in d:
        if key not in valid:
            of = f" of {kind}" if kind else ""
            raise BadValue(
                f"{where}: unknown key {key!r}{of}; valid keys: {', '.join(sorted(valid))}"
            )


# -- overrides ----------------------------------------------------------------------------------
def apply_overrides(config: dict, assignments: list[str]) -> dict:
    """A copy of `config` with each `key=value` assignment applied, then checked as a whole.

    Keys are dotted paths (`stages.0.lr`, `net.hidden`, `stages.0.decay.gamma`); values are
    parsed as JSON, or taken as a plain string when they are not JSON (`stages.1.type=sgd`).
    """
    config = copy.deepcopy(config)
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise BadValue(
                f"malformed assignment {assignment!r}; expected key=value, e.g. stages.0.lr=1e-3"
            )
        _assign(config, key, _parse(text.strip()))
    config_to_recipe(config)
    return config


def _parse(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _assign(config: dict, key: str, value) -> None:
    parts = key.split(".")
    node, schema, typed = config, _top_keys(), None
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise BadValue(
                    f"{here}: no such entry; {'.'.join(parts[:depth])} has {len(node)} entries "
                    f"(indices 0 to {len(node) - 1})"
                )
            index = int(part)
            if depth == len(parts) - 1:
                node[index] = value
                return
            # lists of typed dicts: stages, weightings, embeddings
            owner = parts[depth - 1]
            node, typed = node[index], "stage" if owner == "stages" else owner
            schema = _typed_schema(node, typed, here)
            continue
        if not isinstance(node, dict):
            raise BadValue(f"{here}: {'.'.join(parts[:depth])} is a value, not a section")
        if schema is not None and part not in schema:
            raise BadValue(f"{here}: unknown key {part!r}; valid keys: {', '.join(sorted(schema))}")
        if depth == len(parts) - 1:
            expected = schema[part] if schema is not None else ANY
            if node.get(part) is not None and expected == ANY:
                expected = kinds_of(node[part])
            check_type(here, value, expected)
            node[part] = value
            if part == "type" and typed:  # keep the fields the new type shares, drop the rest
                keep = _typed_schema(node, typed, here)
                for k in [k for k in node if k not in keep]:
                    del node[k]
            return
        child = node.get(part)
        kinds = schema[part] if schema is not None else ANY
        if child is None and kinds != ANY and not kinds & {"dict", "list"}:
            raise BadValue(f"{here} is a value, not a section")
        if child is None:
            raise BadValue(f"{here} is null; set the whole of it first, e.g. {_example(part)}")
        typed = "schedule" if part == "decay" else None
        node, schema = child, _section_schema(part, child, here)


def net_keys(arch, where: str) -> dict:
    """The keys of a "net" section: "arch" and the arguments of the class it names."""
    try:
        cls = architecture(arch)
    except ValueError as e:
        raise BadValue(f"{where}.arch: {e}") from None
    return signature(cls.__init__, skip=("self", "problem")) | {"arch": {"str"}}


def _top_keys() -> dict:
    keys = signature(trainer.train, skip=("problem", "net", "stages", *RUNTIME))
    return keys | {"net": {"dict"}, "stages": {"list"}, "problem": {"dict"}}


def _section_schema(name: str, child, where: str):
    """The valid keys (and their kinds) of a section reached by a dict key."""
    if name == "net":
        return net_keys(child.get("arch", "MLP"), where)
    if name == "problem":
        return {k: kinds_of(v) for k, v in child.items()}
    if name == "decay":
        return _typed_schema(child, "schedule", where)
    if name == "early_stopping":
        return dataclass_kinds(EarlyStopping)
    if name in STRATEGIES and isinstance(child, dict):
        return _typed_schema(child, name, where)
    return None  # free-form (the kwargs of a TorchOptimizer)


def _typed_schema(d, what: str, where: str) -> dict:
    """The valid keys of a stage or schedule dict, from the class its "type" names."""
    if not isinstance(d, dict):
        raise BadValue(f"{where}: a {what} must be a dict with a 'type', got {d!r}")
    if what in STRATEGIES:
        kinds = STRATEGIES[what]
        if d.get("type") not in kinds:
            raise BadValue(f"{where}: 'type' must be one of {', '.join(kinds)}, got {d!r}")
        return signature(kinds[d["type"]].__init__, skip=("self",)) | {"type": {"str"}}
    cls = (_stage_class if what == "stage" else _schedule_class)(d.get("type"), where)
    schema = dataclass_kinds(cls)
    schema.pop("optim", None)
    return schema | {"type": {"str"}}


def _example(part: str) -> str:
    if part == "decay":
        return f'{part}={{"type": "exponential", "gamma": 0.9, "every": 1000}}'
    if part == "early_stopping":
        return f'{part}={{"patience": 10}}'
    return f"{part}={{...}}"
