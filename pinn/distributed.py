"""Data-parallel training over `torch.distributed`: the processes of one run and the few
collectives the trainer needs.

Under `torchrun` every process holds the same network and draws the same global points (the
same seed gives the same draw whatever the number of processes); each evaluates its share of
the rows of every point set in every batch (`Sampler`), so the work is split while the run stays
the run of one process: each term's loss is the sum of squares over the process's rows divided
by the rows of the whole batch (`Residual.mean`), and one all-reduce per loss evaluation sums
the gradients and the loss terms. Every process then holds the global loss and gradient and
takes the same step, L-BFGS's line search included; rank 0 writes the run directory.

A collective that fails (a process died) or times out (a process hung) ends every other
process with `ProcessFailed`, naming the processes that went silent (each survivor leaves word
in torch.distributed's store, so the silent ones are those that did not).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
import time
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .errors import BadType, BadValue
from .flat import assign

TIMEOUT = 300.0  # seconds a collective waits for the other processes by default
GRACE = 10.0  # seconds a survivor waits for word from the others before naming the silent


class ProcessFailed(Exception):
    """Another process of a data-parallel run died or hung: this one cannot go on (not a
    RuntimeError, which a stage's loop may take for a failed step)."""


@dataclass(frozen=True)
class Distributed:
    """Data-parallel training under torchrun (`pinn.train(..., distributed=...)`).

    Args:
        timeout: seconds a collective waits for the other processes before the run ends with
            `ProcessFailed` (a process that hangs); it applies when pinn starts the process
            group (one started by the caller keeps its own).
    """

    timeout: float = TIMEOUT

    def __post_init__(self):
        t = self.timeout
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < 1e8:
            raise BadValue(
                f"Distributed: timeout must be a positive number of seconds (under 1e8), got {t!r}"
            )


def launched() -> bool:
    """Whether this process is one of several started by torchrun (or a process group is up)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size() > 1
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def rank() -> int:
    """This process's rank in a data-parallel run (0 when alone)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def local_processes() -> int:
    """The processes torchrun started on this machine (LOCAL_WORLD_SIZE; 1 without it)."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", "1")) if launched() else 1


def group(distributed, device: torch.device) -> Group:
    """The processes of this run: all of torchrun's under "auto" (starting the process group
    with gloo on the CPU, NCCL on CUDA), this one alone under "off" or without torchrun."""
    if distributed == "auto":
        distributed = Distributed() if launched() else "off"
    if distributed == "off":
        return Group()
    if not isinstance(distributed, Distributed):
        raise BadType(
            f"distributed must be 'auto', 'off' or a pinn.Distributed(timeout=...), "
            f"got {distributed!r}"
        )
    if not dist.is_available():
        raise BadValue("distributed: this torch build has no torch.distributed")
    if device.type == "cuda":  # NCCL's collectives use the current device: this process's
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        if not launched():
            raise BadValue(
                "distributed: no process group and no torchrun environment (WORLD_SIZE, RANK); "
                "start the run with `torchrun --nproc-per-node N ...`, or pass "
                "distributed='off'"
            )
        dist.init_process_group(
            "nccl" if device.type == "cuda" else "gloo",
            timeout=datetime.timedelta(seconds=distributed.timeout),
        )
        atexit.register(_leave)
    return Group(dist.get_rank(), dist.get_world_size(), distributed.timeout)


def _leave() -> None:
    """At exit: wait for the other processes, then take the process group down. gloo's
    threads can outlive `destroy_process_group` (once torch.optim is imported) and then abort
    a process in the interpreter's teardown ("terminate called without an active
    exception") when another still holds the group; leaving together narrows that race
    (docs/distributed.md). A process that failed, or saw the others fail, has left word in
    the store (`Group.reporting`, `Group._failed`) and does not wait. A group the caller took
    down already is left alone."""
    if not dist.is_initialized():
        return
    store, rank = _store(), dist.get_rank()
    with contextlib.suppress(RuntimeError):
        if store is not None and not any(
            store.check([f"pinn/{what}/{rank}"]) for what in ("failed", "error")
        ):
            dist.barrier()
    dist.destroy_process_group()


def _store():
    """The store the process group was started with (torchrun's, through MASTER_PORT), or
    None."""
    try:
        return dist.distributed_c10d._get_default_store()
    except (AttributeError, RuntimeError, ValueError):
        return None


def local_device(device: torch.device) -> torch.device:
    """A process's own GPU under torchrun (cuda:LOCAL_RANK) when `device` names none."""
    if device.type == "cuda" and device.index is None and launched():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


class Group:
    """This process's rank among `world` processes, and the collectives of the training step.
    `Group()` is a process on its own: every collective is then the identity."""

    def __init__(self, rank: int = 0, world: int = 1, timeout: float = TIMEOUT):
        self.rank, self.world, self.timeout = rank, world, timeout
        self.here = local_processes() if world > 1 else 1  # sharing this machine's memory

    def reduce(self, terms: dict, loss: torch.Tensor, optimizer, flag: bool = False):
        """After `loss.backward()` on this process's rows: the gradients of `optimizer`'s
        parameters, the loss terms and `flag` summed over all processes, in one all-reduce;
        returns the global terms (detached), their sum, and whether any process raised
        `flag` (a Ctrl-C, taken by all at the same step)."""
        if self.world == 1:
            return terms, loss, flag
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        names = list(terms)
        values = [terms[k].detach().reshape(1).to(grads[0].dtype) for k in names]
        mark = torch.full((1,), float(flag), dtype=grads[0].dtype, device=grads[0].device)
        flat = torch.cat([*(g.reshape(-1) for g in grads), *values, mark])
        self._collective(lambda: dist.all_reduce(flat))
        offset = assign(grads, flat)
        terms = dict(zip(names, flat[offset:-1].unbind()))
        return terms, sum(terms.values()), bool(flat[-1] > 0)

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """`values` summed over the processes (in place; as they are, alone)."""
        if self.world > 1:
            self._collective(lambda: dist.all_reduce(values))
        return values

    def max(self, values: torch.Tensor) -> torch.Tensor:
        """The elementwise maximum of `values` over the processes (in place)."""
        if self.world > 1:
            self._collective(lambda: dist.all_reduce(values, op=dist.ReduceOp.MAX))
        return values

    def value(self, x: float) -> float:
        """Rank 0's value of `x`, on every process: for a number that each process computes
        on its own (a validation loss) and that decisions depend on."""
        if self.world == 1:
            return x
        box = [x]
        self._collective(lambda: dist.broadcast_object_list(box, 0))
        return box[0]

    def once(self, terms: dict) -> dict:
        """Terms every process computes alike (penalties on the weights), counted once in the
        sum over processes: as they are on rank 0, times zero on the others."""
        return terms if self.rank == 0 else {k: 0 * v for k, v in terms.items()}

    def broadcast(self, tensors) -> None:
        """Give every process rank 0's values of `tensors` (parameters and buffers)."""
        tensors = list(tensors)
        if self.world == 1 or not tensors:
            return
        flat = torch.cat([t.detach().reshape(-1) for t in tensors])
        self._collective(lambda: dist.broadcast(flat, 0))
        assign(tensors, flat)

    def agree(self, settings: dict) -> None:
        """A clear error when the processes were not started alike (another seed, problem or
        recipe on one of them): every setting must be the same on all."""
        if self.world == 1:
            return
        values = [None] * self.world
        self._collective(lambda: dist.all_gather_object(values, settings))
        for r, theirs in enumerate(values):
            for key, mine in values[0].items():
                if theirs.get(key) != mine:
                    raise BadValue(
                        f"distributed: the processes differ in their {key}: rank 0 has "
                        f"{mine!r}, rank {r} has {theirs.get(key)!r}; every process must run "
                        "the same problem and recipe"
                    )

    @property
    def shard(self) -> tuple[int, int]:
        return self.rank, self.world

    @contextlib.contextmanager
    def reporting(self):
        """Leave word of this process's own failure in the store, for the others' message."""
        try:
            yield
        except BaseException as error:
            store = _store() if self.world > 1 else None
            if store is not None and not isinstance(error, ProcessFailed):
                with contextlib.suppress(RuntimeError):
                    store.set(f"pinn/error/{self.rank}", f"{type(error).__name__}: {error}"[:300])
            raise

    # -- failures -------------------------------------------------------------------------------
    def _collective(self, call):
        try:
            return call()
        except RuntimeError as e:  # torch's DistBackendError, gloo's timeouts and closed pairs
            raise self._failed(e) from e

    def _failed(self, error: RuntimeError) -> ProcessFailed:
        """Leave word that this process saw the failure, wait a little for the others' word,
        and name those that stayed silent (dead or hung) and what any of them reported."""
        silent, said = None, {}
        store = _store()
        others = [r for r in range(self.world) if r != self.rank]
        try:
            store.set(f"pinn/failed/{self.rank}", "1")
            deadline = time.monotonic() + min(GRACE, self.timeout)
            while True:
                silent = [r for r in others if not store.check([f"pinn/failed/{r}"])]
                if not silent or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            for r in silent:
                if store.check([f"pinn/error/{r}"]):
                    said[r] = store.get(f"pinn/error/{r}").decode()
        except (AttributeError, RuntimeError):  # no store, or it went with its host
            pass
        who = (
            "another process died or hung"
            if silent is None
            else "none went silent: the connection itself failed"
            if not silent
            else ", ".join(
                f"process {r}" + (f" failed ({said[r]})" if r in said else " died or hung")
                for r in silent
            )
        )
        return ProcessFailed(
            f"process {self.rank} of {self.world}: lost the other processes: "
            f"{who} ({' '.join(str(error).split())[:200]}); no checkpoint is left half-written"
        )
