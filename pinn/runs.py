"""Run directories: the resolved configuration, the history and the final metrics of a run."""

from __future__ import annotations

import csv
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch


def default_run_dir(name: str) -> Path:
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def atomic_write(path: Path, write) -> None:
    """Write through `write(file)` to a temporary file, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_run(result, out, config: dict) -> Path:
    """Write config.json, history.csv and metrics.json of `result` into the directory `out`."""
    from . import __version__

    out = Path(out)
    atomic_write(out / "config.json", lambda f: json.dump(config, f, indent=2, default=repr))
    keys = list(dict.fromkeys(k for record in result.history for k in record))

    def history(f):
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(result.history)

    atomic_write(out / "history.csv", history)
    metrics = {
        "train_time": result.info.get("train_time"),
        "unknowns": result.unknowns,
        "device": str(result.device),
        "dtype": str(result.dtype).removeprefix("torch."),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "pinn": __version__},
    }
    if result.problem.exact is not None:
        metrics["errors"] = result.errors()
    atomic_write(out / "metrics.json", lambda f: json.dump(metrics, f, indent=2))
    return out
