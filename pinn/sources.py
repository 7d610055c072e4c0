"""Problem modules and their sources: a module with `problem()` and `recipe()`, found by its
dotted name or its file, and the SHA-256 of that file, which a run records so that resuming or
reporting it refuses to go on silently with a problem that has changed since."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .errors import BadValue


def digest(path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load(spec: str, needs=("problem", "recipe")) -> ModuleType:
    """The module `spec` names: a path to a .py file, or a dotted module name; it must define
    the functions `needs` (`pinn run` needs both, rebuilding a run's problem `problem()`)."""
    if spec.endswith(".py"):
        path = Path(spec).resolve()
        if not path.is_file():
            raise BadValue(f"no problem file {spec}")
        key = hashlib.sha256(f"{path}:{digest(path)}".encode()).hexdigest()[:16]
        name = f"pinn_user_{path.stem}_{key}"  # one module per file and version
        if name not in sys.modules:
            found = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(found)
            sys.modules[name] = module
            try:
                found.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
        module = sys.modules[name]
    else:
        try:
            module = importlib.import_module(spec)
        except ImportError as e:
            raise BadValue(
                f"cannot import problem module {spec!r} ({type(e).__name__}: {e}); give a "
                "library problem (`pinn list`), a module importable from here, or a .py file"
            ) from None
    missing = [f for f in needs if not callable(getattr(module, f, None))]
    if missing:
        raise BadValue(f"problem module {spec!r} has no {' or '.join(missing)}() function")
    return module


def origin(module: ModuleType, spec: str) -> dict:
    """What a run records of its problem module: how to load it again and its source's
    SHA-256 (None for a module without a file)."""
    file = getattr(module, "__file__", None)
    by_file = spec.endswith(".py")
    return {
        "module": None if by_file else spec,
        "file": str(Path(file).resolve()) if file else None,
        "sha256": digest(file) if file else None,
    }


def _source(spec: str) -> str | None:
    """The file a module name or path would load, found without running it (None if none)."""
    if spec.endswith(".py"):
        return str(Path(spec).resolve()) if Path(spec).is_file() else None
    try:
        found = importlib.util.find_spec(spec)
    except (ImportError, ValueError):
        return None
    return found.origin if found is not None and found.has_location else None


def reload(run: dict, allow_changed: bool = False) -> ModuleType:
    """The problem module a run recorded: by its name where that imports here, else from its
    recorded file; refused (unless `allow_changed`), before it runs, when the source it would
    load is not the one whose SHA-256 the run recorded."""
    name, file, sha = run.get("module"), run.get("file"), run.get("sha256")
    if name is None and file is None:
        raise BadValue("the run's config names no problem module; pass problem= to load it")
    spec = name if name is not None and _source(name) is not None else file
    source = _source(spec) if spec is not None else None
    if sha and not allow_changed and (source is None or digest(source) != sha):
        what = "is gone" if source is None else "has changed since the run started"
        raise BadValue(
            f"the run's problem source {source or file} {what} (SHA-256 {sha[:12]}... "
            "recorded); going on would train or report another problem. Restore it, or pass "
            "--allow-changed (allow_changed=True) to go on with it as it is"
        )
    return load(spec if spec is not None else name, needs=("problem",))
