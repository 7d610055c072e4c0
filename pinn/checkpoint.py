"""Checkpoints: everything a run needs to continue exactly where it stopped.

A checkpoint is one `torch.save` file of plain data: the run's position (stage and step
counters) and the `state_dict()` of each part of the training step: the network and unknowns,
the optimizer and scheduler of the stage in progress, the RNG states, the sampler, the
weighting, the history, the recovery and stopping states (`pinn.training.session`). Plain data means `torch.load(weights_only=True)`
reads it safely and a problem's lambdas never need pickling (the run's config.json rebuilds
the problem). Files are written atomically (a temporary file, then a rename), and a model
with NaN/Inf is never written, so a crash or a diverging run leaves the last good checkpoint.
Each file carries a SHA-256 digest of its contents, checked on loading: torch's zip format
keeps CRCs but does not check them, so without it a damaged file could load as wrong numbers.

Layout in a run directory: `checkpoints/last.pt` (every `every` steps and at each stage
end; `pinn resume` continues from it) and `checkpoints/stage-K-NAME.pt` (kept, one per stage).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import tempfile
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch

from .errors import BadValue

FORMAT = 4  # 4: recovery snapshots hold the sampler and weighting states
KEYS = (  # the run's position, then one entry per part, each that part's state_dict()
    "format",
    "step",
    "stage",
    "stage_step",
    "dtype",
    "n_eval",
    "model",
    "optimizer",
    "scheduler",
    "rng",
    "sampler",
    "weighting",
    "history",
    "recovery",
    "stopping",
    "info",
    "clock",
)
LAST = "last.pt"
DIGEST = "digest"


class CheckpointError(BadValue):
    """A checkpoint that is missing, unreadable or not a pinn checkpoint."""


def atomic_write(path: Path, write, binary: bool = False) -> None:
    """Write through `write(file)` to a temporary file beside `path`, then rename it over."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"newline": ""})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide run files from other users
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def rng_state() -> dict:
    """The global torch RNG states (CPU, and CUDA when in use): dropout and init draw on them."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else []
    return {"torch": torch.get_rng_state(), "cuda": cuda}


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])


def digest(state: dict) -> str:
    """SHA-256 of everything in `state` but its digest: tensors by dtype, shape and bytes,
    containers in order, other values by repr."""
    h = hashlib.sha256()

    def walk(value):
        if torch.is_tensor(value):
            t = value.detach().cpu().clone(memory_format=torch.contiguous_format).reshape(-1)
            h.update(f"tensor {t.dtype} {tuple(value.shape)}".encode())
            h.update(t.view(torch.uint8).numpy().tobytes())
        elif isinstance(value, Mapping):
            h.update(b"{")
            for k, v in value.items():
                walk(k)
                walk(v)
            h.update(b"}")
        elif isinstance(value, (list, tuple)):
            h.update(b"[" if isinstance(value, list) else b"(")
            for v in value:
                walk(v)
            h.update(b"]")
        else:
            h.update(f"{type(value).__name__} {value!r};".encode())

    walk({k: v for k, v in state.items() if k != DIGEST})
    return h.hexdigest()


def _finite(model: dict) -> bool:
    return all(
        torch.isfinite(t).all()
        for part in model.values()
        for t in part.values()
        if t.is_floating_point()
    )


def save(path, state: dict) -> bool:
    """Write `state` (the KEYS) to `path` atomically; False, writing nothing, if not finite."""
    missing = set(KEYS) - set(state)
    if missing:
        raise BadValue(f"checkpoint state lacks {sorted(missing)}")
    if not _finite(state["model"]):
        warnings.warn(
            f"not writing {path}: the model has NaN/Inf; the last good checkpoint stays",
            stacklevel=2,
        )
        return False
    sealed = {**state, DIGEST: digest(state)}
    atomic_write(path, lambda f: torch.save(sealed, f), binary=True)
    return True


def load(path, map_location="cpu") -> dict:
    """Read and check a checkpoint; CheckpointError naming the file and what is wrong."""
    path = Path(path)
    others = sorted(p.name for p in path.parent.glob("*.pt") if p != path)
    choices = f"; other checkpoints there: {', '.join(others)}" if others else ""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint {path}{choices}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises several kinds for truncated or foreign files
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"checkpoint {path} is corrupted ({reason}){choices}") from None
    if not isinstance(state, dict) or "format" not in state:
        raise CheckpointError(f"{path} is not a pinn checkpoint{choices}")
    if state["format"] != FORMAT:
        raise CheckpointError(
            f"{path} has checkpoint format {state['format']}; this pinn reads format {FORMAT}"
        )
    if set(KEYS) - set(state):
        raise CheckpointError(f"{path} is not a pinn checkpoint{choices}")
    if state.get(DIGEST) != digest(state):
        raise CheckpointError(
            f"checkpoint {path} is corrupted (its contents do not match their digest){choices}"
        )
    return state


class Checkpoints:
    """The trainer's checkpoint writer for one run: `directory/last.pt` every `every` steps
    and at each stage end, `directory/stage-K-NAME.pt` at the end of stage K.

    Inside `deferred_interrupt()`, Ctrl-C (SIGINT) writes a checkpoint at the next step and
    then raises KeyboardInterrupt, so an interrupted run resumes exactly; a second Ctrl-C
    interrupts at once. `writer=False`: another process writes the run's checkpoints (a
    data-parallel run's rank 0); this one counts them and honours Ctrl-C alike.
    """

    def __init__(self, directory, every: int = 1000, writer: bool = True):
        if isinstance(every, bool) or not isinstance(every, int) or every <= 0:
            raise BadValue(f"checkpoint interval must be a positive number of steps, got {every!r}")
        self.directory, self.every = Path(directory), every
        for stale in self.directory.glob(".*.pt.*") if writer else ():  # `atomic_write`'s,
            stale.unlink()  # left by a killed run (a data-parallel run's rank 0 cleans them)
        self.saved_at: int | None = None  # the step of the last checkpoint written
        self.interrupted = False

    def due(self, step: int) -> bool:
        """Whether the trainer should `save` after `step` (no host sync: plain integers)."""
        if self.saved_at is None:
            self.saved_at = step - step % self.every
        return self.interrupted or step - self.saved_at >= self.every

    def save(self, state: dict, stage_end: str | None = None) -> None:
        """Write `state` as last.pt (and as `stage_end`.pt); then honour a pending Ctrl-C."""
        if save(self.directory / LAST, state) and stage_end is not None:
            save(self.directory / f"{stage_end}.pt", state)
        self.passed(state["step"])

    def passed(self, step: int) -> None:
        """A checkpoint of `step` is written (by this process or another: a data-parallel
        run's rank 0); then honour a pending Ctrl-C."""
        self.saved_at = step
        if self.interrupted:
            raise KeyboardInterrupt(f"at step {step}")

    @contextlib.contextmanager
    def deferred_interrupt(self):
        """Turn Ctrl-C into a checkpoint at the next step (main thread only; else a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self.interrupted:
                raise KeyboardInterrupt
            self.interrupted = True

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
