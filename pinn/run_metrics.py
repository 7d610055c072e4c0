"""What metrics.json says of a finished run: its errors (each field's too), the steps/s of each
stage, the peak memory, the timings, threads, engine, device and the versions used."""

from __future__ import annotations

import platform
import sys

import torch


def peak_memory(device: torch.device) -> dict:
    """Peak CUDA memory allocated by torch, or the process's peak resident set size on a CPU."""
    if device.type == "cuda":
        return {
            "peak_memory_mb": torch.cuda.max_memory_allocated(device) / 2**20,
            "peak_memory_of": "cuda allocated",
        }
    if sys.platform == "win32":
        return {}
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return {
        "peak_memory_mb": rss / (2**20 if sys.platform == "darwin" else 2**10),
        "peak_memory_of": "process resident set",
    }


def stage_speeds(history: list[dict]) -> list[dict]:
    """Steps and steps/s of each stage, from the time of its last history record."""
    last = {}
    for record in history:
        last[record["stage_index"]] = record
    speeds, step, t = [], 0, 0.0
    for _, record in sorted(last.items()):
        steps, seconds = record["step"] - step, record["time"] - t
        speeds.append(
            {
                "stage": record["stage"],
                "steps": steps,
                "steps_per_s": steps / seconds if seconds > 0 else None,
            }
        )
        step, t = record["step"], record["time"]
    return speeds


def metrics(result, seed: int) -> dict:
    """The summary of a finished run that metrics.json holds."""
    from . import __version__

    out = {}
    if result.problem.exact is not None:
        errors = result.errors()
        out.update(error=errors["l2"], max_error=errors["max"], field_errors=errors["fields"])
    out.update(
        unknowns=result.unknowns,
        train_time=result.info.get("train_time"),
        stages=stage_speeds(result.history),
        **peak_memory(result.device),
        seed=seed,
        threads=torch.get_num_threads(),
        processes=result.info.get("processes", 1),
        device=str(result.device),
        dtype=str(result.dtype).removeprefix("torch."),
        engine=result.info.get("engine"),
        first_step_time=result.info.get("first_step_time"),
        **(
            {"compile_time": result.info.get("first_step_time")}
            if result.info.get("engine") == "compiled"
            else {}
        ),
        versions={
            "python": platform.python_version(),
            "torch": torch.__version__,
            "pinn": __version__,
        },
    )
    return out
