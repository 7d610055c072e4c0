"""`train`: assemble a run's parts and run its stages in order.

The training step is a pipeline of small parts, each a value with `state_dict()`:
sampler (`sampling.Sampler`: the points, mini-batches, resampling) -> residuals (the problem
and the derivative engine: one residual vector per term, `pinn.residuals`) -> weighting
(`weighting.FixedWeights`, ...: the loss terms) -> stage (the optimizer, driven by its own
loop, `loops`). The session (`session.Session`) holds the parts and the history, recovery and
stopping that act at log points. docs/architecture.md shows the whole and how to add a part.

Loss values stay on the device inside the step loop; they are read back (a host sync) only at
log points, so the same loop keeps a GPU busy.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence

import torch

from .. import engines
from ..distributed import group as processes
from ..distributed import local_device
from ..problem import Problem, Unknowns
from ..resources import check_fits
from ..result import Result
from ..supervised import Supervised
from .checks import (
    adapting,
    check,
    check_net,
    check_options,
    resolve_device,
    resolve_dtype,
    strategies,
)
from .objective import Objective
from .sampling import Sampler, Sampling
from .session import Session
from .stages import Stage
from .stopping import EarlyStopping, validation_set
from .weighting import Weighting


def train(
    problem: Problem | Supervised,
    net: torch.nn.Module,
    stages: Sequence[Stage] | None = None,
    *,
    l2: float = 0.0,
    l1: float = 0.0,
    seed: int = 0,
    device="auto",
    dtype="float32",
    log_every: int | None = None,
    initialize: bool = True,
    n_eval: int = 10_000,
    engine="auto",
    verbose: bool = False,
    batch_size: int | None = None,
    resample_every: int | None = None,
    validation=None,
    early_stopping: EarlyStopping | None = None,
    weighting: Weighting | None = None,
    sampling: Sampling | None = None,
    max_failures: int = 5,
    on_step: Callable[[dict], bool | None] | None = None,
    on_stage_end: Callable[[int, Stage, Result], None] | None = None,
    checkpoints=None,
    resume: dict | None = None,
    distributed="auto",
) -> Result:
    """Train `net` on `problem` with each stage in turn (default: Adam, then L-BFGS).

    Args:
        l2, l1: penalties `l2/2 * sum w**2` and `l1 * sum |w|` on the weight matrices, added as
            loss terms (so they act under L-BFGS too).
        seed: fixes the initialization (when `initialize`), the sampling and the ordering.
        device: "auto" (CUDA when present), "cpu", "cuda", ...; dtype: "float32" or "float64".
        log_every: steps between history records (each reads the loss back from the device);
            None: about `RECORDS` records over the run, one every 10 to 100 steps
            (`log_interval`), so that every stage's curve can be drawn.
            A record's loss is that of its step; with mini-batches, the mean over the steps
            since the previous record (set log_every to the batches per epoch for epochs).
        initialize: draw fresh weights from `seed` first (`reset`: any network whose modules
            have `reset_parameters`); False keeps the net's current ones. The run leaves
            torch's global random generators as it found them.
        n_eval: size of the evaluation grid for the error against `problem.exact`.
        engine: how derivatives are computed: "auto" (the default: for networks with a Taylor
            pass (`pinn.MLP`, or any with a `taylor` method, docs/architecture.md) that pass,
            compiled when the run evaluates at least `engines.COMPILE_WORK` points in all;
            else nested reverse mode, with a warning), "reverse",
            "taylor", "compiled" (torch.compile of the Taylor pass), None (reverse) or a
            callable engine(net, x, keys). The one used is `result.info["engine"]`.
        verbose: print one line per history record.
        batch_size: mini-batch size of the largest point set, the others cut into as many
            batches (see `pinn.training.sampling`); None: full batch. L-BFGS is always full batch.
        resample_every: draw fresh collocation points every this many steps (None: never);
            the same as `sampling=pinn.Resample(every=resample_every)`.
        validation: held-out data, checked at each log point as `val_loss`: a pair (points,
            values), points alone or a number of random points (values from `problem.exact`).
        early_stopping: a `pinn.EarlyStopping` on the validation loss (needs `validation`).
        weighting: turns the residuals of each step into the loss terms; None: the default
            `pinn.FixedWeights()`, each term's weight times its mean squared residual.
        sampling: a sampling strategy that replaces the training points as training goes on
            (`pinn.Resample(every)`, or a `pinn.Sampling` of your own); None: the points are
            drawn once.
        max_failures: a non-finite loss or gradient sends the run back to its last good
            state, with half the learning rate (first-order stages) or an empty L-BFGS memory,
            each recovery noted in `result.info["nonfinite"]`; this many in a row raise
            `pinn.TrainingDiverged`.
        on_step: called after every optimizer step (under L-BFGS, every logged chunk) with a
            dict of step, stage, stage_index, stage_step, epoch, iteration, lr, loss (a device
            tensor) and history (the records so far); returning True ends the training.
        on_stage_end: called with (stage index, stage, result) after each stage.
        checkpoints: a `pinn.checkpoint.Checkpoints` writer: a checkpoint (`Session.state`)
            whenever it says one is due, and at each stage end.
        resume: a checkpoint's state (`pinn.checkpoint.load`): continue from it exactly.
        distributed: "auto" (the default): under `torchrun --nproc-per-node N`, train
            data-parallel on the N processes (`pinn.distributed`: each evaluates its share of
            every batch's points, every stage takes the same step on all, rank 0 writes the
            checkpoints); "off": this process alone; `pinn.Distributed(timeout=...)`: "auto"
            with another timeout for a process that hangs.
    """
    stages = check(problem, net, stages, l2, l1, log_every, seed, early_stopping, validation)
    log_every = log_interval(stages) if log_every is None else log_every
    check_options(n_eval, max_failures, on_step, on_stage_end, checkpoints, resume)
    weighting, sampling = strategies(weighting, sampling, resample_every)
    adapting(stages, weighting, sampling)
    device, dtype = local_device(resolve_device(device)), resolve_dtype(dtype)
    group = processes(distributed, device)
    given = (seed, stages, dtype, l1, l2, batch_size, log_every, engine, weighting, sampling)
    group.agree({"points": _sizes(problem), **dict(zip(AGREED, map(_setting, given)))})
    engines.check(engine)  # resolved once the points are drawn (it depends on their number)
    # the run draws from torch's global generators (initialization, dropout) under its own
    # seed, and leaves the caller's generators as they were: those of every CUDA device too,
    # as a resume sets them all (checkpoint.set_rng_state)
    cuda = list(range(torch.cuda.device_count())) if device.type == "cuda" else []
    with group.reporting(), torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        if initialize:
            reset(net)
        net.to(device=device, dtype=dtype)
        check_net(problem, net, device, dtype)
        unknowns = Unknowns(problem.unknowns).to(device=device, dtype=dtype)
        group.broadcast([*net.parameters(), *net.buffers(), *unknowns.parameters()])
        if isinstance(problem, Problem):  # before drawing the points, which may not fit either
            full = any(s.full_batch for s in stages) or not isinstance(batch_size, int)
            batch = None if full else batch_size
            check_fits(problem, net, dtype, device, batch, (group.world, group.here))
        sampler = Sampler(problem, batch_size, sampling, seed, dtype, device, group.shard)
        reads = any(idx for keys in getattr(problem, "derivatives", {}).values() for _, idx in keys)
        work = _work(stages, sampler) // group.world  # this process's share
        engine = engines.resolve(engine, net, work=work, derivatives=reads)
        result = Result(problem, net, unknowns, device=device, dtype=dtype, n_eval=n_eval)
        loss_terms = Objective(problem, net, unknowns, engine, weighting, l1, l2, group)
        params = loss_terms.params
        sampler.objective = loss_terms
        weighting.start(loss_terms, sampler.sizes())  # before a resume loads its state
        for stage in stages:  # a dense matrix too large, say: before any step
            stage.check_params(params, device, loss_terms)

        run = Session(
            result,
            sampler,
            weighting,
            {
                "log_every": log_every,
                "verbose": verbose,
                "held_out": validation_set(problem, validation, seed, dtype, device),
                "early_stopping": early_stopping,
                "on_step": on_step,
                "checkpoints": checkpoints,
                "max_failures": max_failures,
                "group": group,
            },
        )
        result.info.update(batches_per_epoch=sampler.per_epoch, stages=[], log_every=log_every)
        first_stage, done = run.restore(resume) if resume is not None else (0, 0)
        # this part of the run's (a resume may go on with another number of processes)
        result.info.update(engine=engines.name(engine), processes=group.world)
        for index in range(first_stage, len(stages)):
            if run.stopped:  # by early stopping or on_step (also in the run being resumed)
                break
            stage = stages[index]
            optimizer, first = stage.build(params), run.step + 1 - done
            scheduler = stage.decay.scheduler(optimizer, stage.steps) if stage.decay else None
            if done:  # resuming inside this stage
                optimizer.load_state_dict(resume["optimizer"])
                if scheduler is not None:
                    scheduler.load_state_dict(resume["scheduler"])
            else:
                run.begin(stage, optimizer)
            stage.loop(stage, index, optimizer, scheduler, loss_terms, run, done)
            done = 0
            result.info["stages"].append(
                {"name": stage.name, "first_step": first, "last_step": run.step}
            )
            run.save(index + 1, stage_end=f"stage-{index}-{stage.name}")
            if on_stage_end is not None:
                on_stage_end(index, stage, result)
        run.stopping.finish(result)
        result.info["train_time"] = time.perf_counter() - run.start
        run.finish(len(stages))
        return result


# what every process of a data-parallel run must be given alike (and its points)
AGREED = ("seed", "stages", "dtype", "l1", "l2", "batch_size", "log_every", "engine")
AGREED += ("weighting", "sampling")

RECORDS = 100  # history records of a run when log_every is not given


def log_interval(stages) -> int:
    """The default `log_every`: about `RECORDS` records over all the stages' steps, between
    every 10 steps and every 100. Each record costs one read-back and an error evaluation,
    and under L-BFGS one more loss evaluation (a chunk of iterations starts with one), so
    short runs keep 10 steps between records."""
    return max(10, min(100, sum(s.steps for s in stages) // RECORDS))


def reset(net: torch.nn.Module) -> None:
    """Fresh weights from torch's generator: `net.reset_parameters()` where the network has
    one, else that of each outermost submodule that has one (nn.Linear, a pinn.MLP inside)."""
    if callable(getattr(net, "reset_parameters", None)):
        net.reset_parameters()
        return
    for child in net.children():
        reset(child)


def _work(stages, sampler: Sampler) -> int:
    """The points the run will evaluate: each stage's steps times its points per step."""
    points = sum(len(p) for p in sampler.points.values())
    return sum(
        s.steps * (points if s.full_batch else math.ceil(points / sampler.per_epoch))
        for s in stages
    )


def _setting(value):
    """A setting as the processes compare it: plain values and dataclasses (stages,
    strategies) by value, anything else by its class or function name."""
    if value is None or isinstance(value, (str, int, float, bool, torch.dtype)):
        return value
    if isinstance(value, (list, tuple)):
        return [_setting(v) for v in value]
    if dataclasses.is_dataclass(value):
        return repr(value)
    return getattr(value, "__qualname__", type(value).__qualname__)


def _sizes(problem) -> dict:
    """The points of each set (what every process of a data-parallel run must agree on)."""
    return {s.name: s.size for s in getattr(problem, "sets", ())} or {"data": len(problem.x)}
