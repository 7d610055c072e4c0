"""Memory checks before training: a problem too large for the machine fails with advice.

The estimate is deliberately rough (the activations autograd keeps per point and layer, times
the derivative passes the residuals need); its job is to turn an out-of-memory kill an hour
into a run into a readable error at the start.
"""

from __future__ import annotations

import math
import os

import torch

from .errors import BadValue

FRACTION = 0.8  # of the available memory a full-batch step may take


def available_memory(device: torch.device) -> int:
    """Free bytes on `device`: CUDA's free memory, or the host's MemAvailable."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def step_memory(
    problem, net: torch.nn.Module, dtype: torch.dtype, points: int | None = None
) -> int:
    """Rough bytes of one loss-and-gradient evaluation over all point sets (or `points` each)."""
    width = sum(m.out_features for m in net.modules() if isinstance(m, torch.nn.Linear)) or 64
    size = torch.tensor([], dtype=dtype).element_size()
    total = 0
    for s in problem.sets:
        n = min(s.size, points) if points else s.size
        passes = 1 + len({k for k in problem.derivatives.get(s.name, ()) if k[1]})
        total += 6 * n * width * size * passes  # activations, their grads, derivative channels
    return total


def points_memory(problem, dtype: torch.dtype) -> int:
    """Rough bytes of all the training points: drawn in float64, kept in `dtype`, normals."""
    size = torch.tensor([], dtype=dtype).element_size()
    return sum(2 * s.size * problem.domain.dim * (8 + size) for s in problem.sets)


def check_fits(problem, net, dtype, device, points: int | None = None, shard=(1, 1)) -> None:
    """Raise a ValueError suggesting mini-batches if the points and one step (on `points` of
    each set, or all) would not fit in memory. `shard`: (processes, of them on this machine)
    of a data-parallel run, each holding all the points and evaluating its share of them;
    on the CPU those of one machine share its memory."""
    processes, here = shard
    need = -(-step_memory(problem, net, dtype, points) // processes) + points_memory(problem, dtype)
    need *= here if device.type == "cpu" else 1
    have = available_memory(device)
    if need > FRACTION * have:
        gib = 2**30
        raise BadValue(
            f"the points and one training step need about {need / gib:.1f} GiB but {device} has "
            f"{have / gib:.1f} GiB available; use fewer points (n_pde={problem.n_pde}) or "
            f"mini-batches (batch_size=...) so that each step fits"
        )


SMALL = 5_000  # points per step under which one thread is as fast as two (docs/cli.md)


def threads_for(points: int, processes: int = 1) -> int:
    """Torch threads for a run evaluating `points` points per step: one for small problems,
    where a second thread gains nothing (measured: poisson1d 128 points, heat1d 2,500), else
    the cores that other processes leave idle (1-minute load average), at least one. On two
    cores with one other busy process, two threads ran 3x slower than one (they spin).
    `processes`: those of a data-parallel run on this machine, each with its share of the
    points and of the cores."""
    cores = os.cpu_count() or 1
    if points // processes < SMALL:
        return 1
    busy = round(os.getloadavg()[0]) if hasattr(os, "getloadavg") else 0
    return max(1, min(cores, cores - busy) // processes)


def check_dense(stage: str, params: list, copies: int, device: torch.device) -> None:
    """A clear error before training when `copies` dense n x n matrices of the parameters
    (a second-order stage's) would not fit in half of `device`'s available memory."""
    available = available_memory(device)
    n = sum(p.numel() for p in params)
    size = params[0].element_size()
    need = copies * n * n * size
    if need > 0.5 * available:
        limit = int(math.sqrt(0.5 * available / (copies * size)))
        raise BadValue(
            f"{stage}: dense {n} x {n} matrices of the {n} parameters need about "
            f"{need / 2**30:.1f} GiB, more than half of the {available / 2**30:.1f} GiB "
            f"available on {device}; use a network of at most {limit} parameters, or pinn.LBFGS"
        )
