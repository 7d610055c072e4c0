"""`train`: run the stages in order on one problem and network, logging every `log_every` steps.

Loss values stay on the device inside the step loop; they are read back (a host sync) only at
log points, so the same loop keeps a GPU busy.

Non-finite training: every step flags, on the device, whether its loss and gradient are
finite; the flags are read at the next log point (and when a checkpoint is due, which syncs
anyway). After a bad step the run goes back to its last good state, that of the last history
record whose own loss and gradient were then seen to be finite (network, unknowns, optimizer
state), with half the learning rate (first-order stages) or an empty L-BFGS memory, and goes
on. `max_failures` recoveries with no newly confirmed good state between them raise
`TrainingDiverged`. No checkpoint is written between a bad step and its recovery, so the last
good checkpoint stays on disk.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import torch

from .. import engines
from ..checkpoint import FORMAT, KEYS, rng_state, set_rng_state
from ..problem import Problem, Unknowns
from ..resources import check_fits
from ..result import Result
from ..supervised import Supervised
from .batches import Batches
from .regularization import penalties, weights
from .stages import LBFGS, Adam, Stage
from .stopping import EarlyStopping, validation_set

DTYPES = {"float32": torch.float32, "float64": torch.float64}


class TrainingDiverged(RuntimeError):
    """Training stopped after `max_failures` non-finite losses or gradients in a row.

    `result` holds the last good state and the history so far; no checkpoint was written
    after that state, so a run directory keeps its last good checkpoint.
    """

    def __init__(self, message: str, result: Result):
        super().__init__(message)
        self.result = result


def resolve_device(device) -> torch.device:
    """'auto' takes CUDA when present; anything torch accepts otherwise."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(
            f"unknown device {device!r}; valid: 'auto', 'cpu', 'cuda', 'cuda:N'"
        ) from e


def resolve_dtype(dtype) -> torch.dtype:
    if dtype in DTYPES.values():
        return dtype
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; valid: {', '.join(DTYPES)}")
    return DTYPES[dtype]


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
    log_every: int = 100,
    initialize: bool = True,
    n_eval: int = 10_000,
    engine="auto",
    verbose: bool = False,
    batch_size: int | None = None,
    resample_every: int | None = None,
    validation=None,
    early_stopping: EarlyStopping | None = None,
    max_failures: int = 5,
    on_step: Callable[[dict], bool | None] | None = None,
    on_stage_end: Callable[[int, Stage, Result], None] | None = None,
    checkpoints=None,
    resume: dict | None = None,
) -> Result:
    """Train `net` on `problem` with each stage in turn (default: Adam, then L-BFGS).

    Args:
        l2, l1: penalties `l2/2 * sum w**2` and `l1 * sum |w|` on the weight matrices, added as
            loss terms (so they act under L-BFGS too).
        seed: fixes the initialization (when `initialize`), the sampling and the ordering.
        device: "auto" (CUDA when present), "cpu", "cuda", ...; dtype: "float32" or "float64".
        log_every: steps between history records (each reads the loss back from the device).
            A record's loss is that of its step; with mini-batches, the mean over the steps
            since the previous record (set log_every to the batches per epoch for epochs).
        initialize: draw fresh weights from `seed` first; False keeps the net's current ones.
        n_eval: size of the evaluation grid for the error against `problem.exact`.
        engine: how derivatives are computed: "auto" (the default: for MLPs it supports the
            Taylor-mode pass, compiled when the run evaluates at least
            `engines.COMPILE_WORK` points in all, else nested reverse mode), "reverse",
            "taylor", "compiled" (torch.compile of the Taylor pass), None (reverse) or a
            callable engine(net, x, keys). The one used is `result.info["engine"]`.
        verbose: print one line per history record.
        batch_size: mini-batch size of the largest point set, the others cut into as many
            batches (see `pinn.train.batches`); None: full batch. L-BFGS is always full batch.
        resample_every: draw fresh collocation points every this many steps (None: never).
        validation: held-out data, checked at each log point as `val_loss`: a pair (points,
            values), points alone or a number of random points (values from `problem.exact`).
        early_stopping: a `pinn.EarlyStopping` on the validation loss (needs `validation`).
        max_failures: a non-finite loss or gradient sends the run back to its last good
            state, with half the learning rate (first-order stages) or an empty L-BFGS memory,
            each recovery noted in `result.info["nonfinite"]`; this many in a row raise
            `pinn.TrainingDiverged`.
        on_step: called after every optimizer step (under L-BFGS, every logged chunk) with a
            dict of step, stage, stage_index, stage_step, epoch, iteration, lr, loss (a device
            tensor) and history (the records so far); returning True ends the training.
        on_stage_end: called with (stage index, stage, result) after each stage.
        checkpoints: a `pinn.checkpoint.Checkpoints` writer: a checkpoint (see `_Run.state`)
            whenever it says one is due, and at each stage end.
        resume: a checkpoint's state (`pinn.checkpoint.load`): continue from it exactly.
    """
    stages = _check(problem, net, stages, l2, l1, log_every, seed, early_stopping, validation)
    _check_options(n_eval, max_failures, on_step, on_stage_end, checkpoints, resume)
    device, dtype = resolve_device(device), resolve_dtype(dtype)
    engines.check(engine)  # resolved once the points are drawn (it depends on their number)
    torch.manual_seed(seed)
    if initialize and hasattr(net, "reset_parameters"):
        net.reset_parameters()
    net.to(device=device, dtype=dtype)
    _check_net(problem, net, device, dtype)
    unknowns = Unknowns(problem.unknowns).to(device=device, dtype=dtype)
    if isinstance(problem, Problem):  # before drawing the points, which may not fit either
        full = any(isinstance(s, LBFGS) for s in stages) or not isinstance(batch_size, int)
        check_fits(problem, net, dtype, device, None if full else batch_size)
    data = Batches(problem, batch_size, resample_every, seed, dtype, device)
    engine = engines.resolve(engine, net, work=_work(stages, data))
    result = Result(problem, net, unknowns, device=device, dtype=dtype, n_eval=n_eval)
    held_out = validation_set(problem, validation, seed, dtype, device)
    params, ws = [*net.parameters(), *unknowns.parameters()], weights(net)

    def loss_terms(batch):
        terms = problem.losses(net, batch, unknowns, engine)
        terms.update(penalties(ws, l1, l2))
        return terms

    run = _Run(
        result,
        data,
        log_every,
        verbose,
        held_out,
        early_stopping,
        on_step,
        checkpoints,
        max_failures,
    )
    result.info.update(batches_per_epoch=data.per_epoch, stages=[], engine=engines.name(engine))
    first_stage, done = run.restore(resume) if resume is not None else (0, 0)
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
            run.begin(optimizer)
        step = _lbfgs_stage if isinstance(stage, LBFGS) else _first_order_stage
        step(stage, index, optimizer, scheduler, loss_terms, run, done)
        done = 0
        result.info["stages"].append(
            {"name": stage.name, "first_step": first, "last_step": run.step}
        )
        run.save(index + 1, stage_end=f"stage-{index}-{stage.name}")
        if on_stage_end is not None:
            on_stage_end(index, stage, result)
    run.finish()
    result.info["train_time"] = time.perf_counter() - run.start
    if checkpoints is not None:  # the final state: early stopping's best, the training time
        checkpoints.save(run.state(len(stages), None, None, 0))
    return result


def _work(stages, data: Batches) -> int:
    """The points the run will evaluate: each stage's steps times its points per step."""
    points = sum(len(p) for p in data.points.values())
    return sum(
        s.steps * (points if isinstance(s, LBFGS) else math.ceil(points / data.per_epoch))
        for s in stages
    )


def _check(problem, net, stages, l2, l1, log_every, seed, early_stopping, validation) -> list:
    """Validate the arguments of `train`; return the stages as a list."""
    if not isinstance(problem, (Problem, Supervised)):
        raise TypeError(
            f"problem must be a pinn.Problem or pinn.Supervised, got {type(problem).__name__}"
        )
    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"net must be a torch.nn.Module such as pinn.MLP, got {type(net).__name__}")
    if stages is None:
        stages = [Adam(steps=1000), LBFGS(steps=1000)]
    if (
        not isinstance(stages, Sequence)
        or not stages
        or not all(isinstance(s, Stage) for s in stages)
    ):
        raise TypeError(
            f"stages must be a non-empty list of pinn stages (pinn.Adam(...), "
            f"pinn.LBFGS(...), ...), got {stages!r}"
        )
    stages = list(stages)
    for name, value in (("l2", l2), ("l1", l1)):
        if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if isinstance(log_every, bool) or not isinstance(log_every, int) or log_every <= 0:
        raise ValueError(f"log_every must be a positive integer, got {log_every!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if early_stopping is not None:
        if not isinstance(early_stopping, EarlyStopping):
            raise TypeError(f"early_stopping must be a pinn.EarlyStopping, got {early_stopping!r}")
        if validation is None:
            raise ValueError(
                "early_stopping needs a validation set: validation=(points, values), points, "
                "or a number of points (for problems with an exact solution)"
            )
    return stages


def _check_options(n_eval, max_failures, on_step, on_stage_end, checkpoints, resume) -> None:
    """Validate the remaining arguments of `train` that are only used later in the run."""
    for name, value in (("n_eval", n_eval), ("max_failures", max_failures)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    for name, fn in (("on_step", on_step), ("on_stage_end", on_stage_end)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be a callable or None, got {fn!r}")
    if checkpoints is not None and not all(
        callable(getattr(checkpoints, m, None)) for m in ("due", "save")
    ):
        raise TypeError(
            f"checkpoints must be a pinn.checkpoint.Checkpoints(directory) writer or None, "
            f"got {checkpoints!r}"
        )
    if resume is not None and not (isinstance(resume, dict) and set(KEYS) <= set(resume)):
        got = f"a dict of {sorted(resume)}" if isinstance(resume, dict) else repr(resume)
        raise ValueError(
            f"resume must be a checkpoint state from pinn.checkpoint.load(path), a dict of "
            f"{list(KEYS)}; got {got}"
        )


def _check_net(problem, net: torch.nn.Module, device, dtype) -> None:
    """Run `net` once on two points of the domain (in evaluation mode, so no random draws):
    it must map the coordinates to one column per field. Leaves it in training mode."""
    x = torch.as_tensor(problem.domain.sample(2, "uniform", 0), device=device, dtype=dtype)
    expected = f"(2, {len(problem.fields)}), one column per field {problem.fields}"
    net.eval()
    try:
        u = net(x)
    except RuntimeError as e:
        raise ValueError(
            f"net fails on points of shape (2, {problem.domain.dim}) (coordinates "
            f"{problem.coords}); it must map them to {expected}: {e}"
        ) from e
    finally:
        net.train()
    shape = tuple(u.shape) if torch.is_tensor(u) else type(u).__name__
    if shape != (2, len(problem.fields)):
        raise ValueError(
            f"net maps points of shape (2, {problem.domain.dim}) to {shape}; expected {expected}"
        )


class _Guard:
    """Which steps since the last log point had a non-finite loss or gradient: one device
    flag per evaluation, read only when asked (at log points, when a checkpoint is due), so
    that checking every step costs no host sync.

    Under L-BFGS a step is an iteration; the first one of a chunk also owns the evaluation at
    the chunk's start."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.flags, self.steps, self.seen = [], [], 0  # `seen`: the first bad step once read
        self.first = None  # the first flag: the evaluation at the state of the last log point

    def check(self, loss: torch.Tensor, optimizer, step: int) -> None:
        """Flag whether this step's loss and the gradients `optimizer` is about to use are all
        finite (device operations only)."""
        grads = [
            p.grad.reshape(-1)
            for g in optimizer.param_groups
            for p in g["params"]
            if p.grad is not None
        ]
        ok = torch.cat([loss.detach().reshape(1), *grads]).isfinite().all()
        self.first = ok if self.first is None else self.first
        self.flags.append(ok)
        self.steps.append(step)

    def first_bad(self) -> int:
        """The first bad step since the last reset, or 0 (a host sync)."""
        if not self.seen and self.flags:
            bad = torch.stack(self.flags).logical_not().nonzero().flatten().tolist()
            self.seen = self.steps[bad[0]] if bad else 0
            self.flags, self.steps = [], []  # all read: a later call looks at later steps only
        return self.seen

    def first_ok(self) -> bool:
        """Whether the evaluation at the state of the last log point was finite (a sync)."""
        return self.first is not None and bool(self.first)


class _Run:
    """Bookkeeping across stages: the global step, the history, the last good and best states."""

    def __init__(
        self,
        result: Result,
        data: Batches,
        log_every,
        verbose,
        held_out,
        stopping,
        on_step,
        checkpoints,
        max_failures,
    ):
        self.result, self.data, self.log_every, self.verbose = result, data, log_every, verbose
        self.held_out, self.stopping, self.on_step = held_out, stopping, on_step
        self.checkpoints, self.max_failures = checkpoints, max_failures
        self.guard = _Guard()
        self.step, self.stage_step, self.start = 0, 0, time.perf_counter()
        self.good = self.candidate = self.best = None  # snapshots: see `snapshot`
        self.failures = 0  # recoveries since a new state was last confirmed
        self.best_loss, self.waited, self.stopped = float("inf"), 0, False
        self.sums, self.count = {}, 0

    def state(self, index, optimizer, scheduler, stage_step) -> dict:
        """A checkpoint: all that `restore` and the stage in progress need to go on exactly."""
        result = self.result
        run = {
            k: getattr(self, k)
            for k in (
                "good",
                "candidate",
                "failures",
                "best",
                "best_loss",
                "waited",
                "stopped",
                "sums",
                "count",
            )
        }
        run["checked"] = self.guard.first is not None  # and passed: see `save`
        return {
            "format": FORMAT,
            "step": self.step,
            "stage": index,
            "stage_step": stage_step,
            "model": result.state(),
            "optimizer": None if optimizer is None else optimizer.state_dict(),
            "scheduler": None if scheduler is None else scheduler.state_dict(),
            "rng": rng_state(),
            "batches": self.data.state_dict(),
            "run": {**run, "elapsed": time.perf_counter() - self.start},
            "history": result.history,
            "info": result.info,
            "dtype": str(result.dtype).removeprefix("torch."),
            "n_eval": result.n_eval,
        }

    def restore(self, state: dict) -> tuple[int, int]:
        """Load a checkpoint's state; return the stage to go on with and its steps done."""
        self.result.load_state(state["model"])
        set_rng_state(state["rng"])
        self.data.load_state_dict(state["batches"])
        self.result.history[:] = state["history"]
        self.result.info.update(state["info"])
        run = dict(state["run"])
        self.start = time.perf_counter() - run.pop("elapsed")
        run["sums"] = {k: v.to(self.result.device) for k, v in run["sums"].items()}
        self.guard.first = True if run.pop("checked") else None
        for k, v in run.items():
            setattr(self, k, v)
        self.step = state["step"]
        return state["stage"], state["stage_step"]

    def save(self, index, optimizer=None, scheduler=None, stage_end=None) -> None:
        """Write a checkpoint when the writer says one is due, and always at a stage end
        (`index` is then the next stage)."""
        if self.checkpoints is None or (stage_end is None and not self.checkpoints.due(self.step)):
            return
        if self.guard.first_bad():  # a bad step not yet recovered from: keep the last good one
            return
        stage_step = 0 if stage_end else self.stage_step
        self.checkpoints.save(self.state(index, optimizer, scheduler, stage_step), stage_end)

    def track(self, terms) -> None:
        """With mini-batches, add the step's loss terms to the running sums of this record."""
        if self.data.per_epoch > 1:
            self.sums = {k: self.sums.get(k, 0) + v.detach() for k, v in terms.items()}
            self.count += 1

    def callback(self, stage, index, lr, loss) -> bool:
        """Call `on_step`; True (and the run marked stopped) if it asks to stop."""
        if self.on_step is not None and self.on_step(
            {
                "step": self.step,
                "stage": stage.name,
                "stage_index": index,
                "stage_step": self.stage_step,
                "epoch": self.data.epoch,
                "iteration": self.data.iteration,
                "lr": lr,
                "loss": loss.detach(),
                "history": self.result.history,
            }
        ):
            self.stopped = True
        return self.stopped

    def snapshot(self, optimizer) -> dict:
        """The current step, network and unknowns, and the optimizer state of a first-order
        stage (L-BFGS starts with an empty memory after a failure instead)."""
        lbfgs = isinstance(optimizer, torch.optim.LBFGS)
        return {
            "step": self.step,
            "model": self.result.state(),
            "optimizer": None if lbfgs else copy.deepcopy(optimizer.state_dict()),
        }

    def begin(self, optimizer) -> None:
        """A new stage: its starting state is the one to come back to."""
        self.good, self.candidate, self.failures = self.snapshot(optimizer), None, 0

    def log(self, stage, index, lr, terms, optimizer, scheduler) -> bool:
        """Record one history entry, then step a plateau schedule and early stopping; after a
        non-finite loss or gradient since the last record, `recover` instead.

        The state of a record is a candidate: it becomes the good state to come back to once
        its own loss and gradient (at the next step) have been finite.
        False ends the stage: when the run is to stop.
        """
        if self.count:  # mini-batches: the mean over the steps since the last record
            terms = {k: v / self.count for k, v in self.sums.items()}
            self.sums, self.count = {}, 0
        values = {f"loss_{k}": float(v.detach()) for k, v in terms.items()}
        loss = sum(values.values())
        bad = self.guard.first_bad() or (0 if np.isfinite(loss) else self.step)
        if self.candidate is not None and (not bad or self.guard.first_ok()):
            self.good, self.failures = self.candidate, 0
        self.candidate = None
        self.guard.reset()
        if bad:
            self.recover(stage, optimizer, scheduler, bad)
            return not self.stopped
        self.candidate = self.snapshot(optimizer)
        record = {
            "step": self.step,
            "stage": stage.name,
            "stage_index": index,
            "epoch": self.data.epoch,
            "iteration": self.data.iteration,
            "lr": lr,
            "loss": loss,
            **values,
            **{f"unknown_{k}": v for k, v in self.result.unknowns.items()},
        }
        if self.result.problem.exact is not None:
            record["error"] = self.result.error()
        if self.held_out is not None:
            record["val_loss"] = self.held_out.loss(self.result)
        record["time"] = time.perf_counter() - self.start
        self.result.history.append(record)
        if self.verbose:
            extra = "".join(f"  {k} {record[k]:.3e}" for k in ("error", "val_loss") if k in record)
            print(
                f"[{stage.name}] step {self.step:6d}  epoch {self.data.epoch:5d}  "
                f"loss {loss:.3e}{extra}  lr {lr:.2e}",
                flush=True,
            )
        monitored = record.get("val_loss", loss)
        if scheduler is not None and stage.decay.on_log:
            scheduler.step(monitored)
        if self.stopping is not None:
            self._check_stop(monitored)
        return not self.stopped

    def recover(self, stage, optimizer, scheduler, bad: int) -> None:
        """Go back to the last good state after a non-finite loss or gradient at step `bad`,
        with half the learning rate (first-order) or an empty memory (L-BFGS); raise
        TrainingDiverged when that makes `max_failures` in a row."""
        self.failures += 1
        self.result.load_state(self.good["model"])
        stop = self.failures >= self.max_failures
        if stop:
            action = f"stopped after {self.failures} failures in a row"
        elif isinstance(optimizer, torch.optim.LBFGS):
            optimizer.state.clear()
            action = "restarted L-BFGS with an empty memory"
        else:
            lrs = [group["lr"] / 2 for group in optimizer.param_groups]
            optimizer.load_state_dict(copy.deepcopy(self.good["optimizer"]))  # loading aliases
            for group, lr in zip(optimizer.param_groups, lrs):
                group["lr"] = lr
            for name in ("base_lrs", "max_lrs"):  # what LambdaLR, CyclicLR, ... compute lr from
                if hasattr(scheduler, name):
                    setattr(scheduler, name, [v / 2 for v in getattr(scheduler, name)])
            action = f"halved the learning rate to {lrs[0]:.3g}"
        self.result.info.setdefault("nonfinite", []).append(
            {"step": bad, "stage": stage.name, "restored_step": self.good["step"], "action": action}
        )
        message = (
            f"{stage.name} stage: non-finite loss or gradient at step {bad}; restored the state "
            f"of step {self.good['step']} and {action}"
        )
        if stop:
            raise TrainingDiverged(
                f"training diverged: {message} (max_failures={self.max_failures}); the last good "
                "checkpoint is kept. Lower the learning rate, use dtype='float64', or look for a "
                "division by zero or an overflow in the residuals",
                self.result,
            )
        warnings.warn(
            f"{message} (failure {self.failures} of at most {self.max_failures} in a row)",
            stacklevel=5,  # the caller of `train`
        )

    def _check_stop(self, value: float) -> None:
        if self.stopping.improved(value, self.best_loss):
            self.best_loss, self.best, self.waited = value, (self.step, self.candidate["model"]), 0
            return
        self.waited += 1
        if self.waited >= self.stopping.patience:
            self.stopped = True
            self.result.info["early_stopping"] = {
                "stopped_at": self.step,
                "best_step": self.best[0],
                "best_val_loss": self.best_loss,
            }

    def finish(self) -> None:
        """Restore the best validated parameters when early stopping asks for them."""
        if self.stopping is not None and self.stopping.restore_best and self.best is not None:
            self.result.load_state(self.best[1])
            self.result.info.setdefault("early_stopping", {}).update(
                restored_step=self.best[0], best_val_loss=self.best_loss
            )


def _first_order_stage(stage, index, optimizer, scheduler, loss_terms, run: _Run, done: int):
    per_step = scheduler is not None and not stage.decay.on_log
    for k in range(done, stage.steps):
        batch = run.data.next()
        optimizer.zero_grad(set_to_none=True)
        terms = loss_terms(batch)
        loss = sum(terms.values())
        loss.backward()
        run.guard.check(loss, optimizer, run.step + 1)
        lr = optimizer.param_groups[0]["lr"]
        optimizer.step()
        if per_step:
            scheduler.step()
        run.step, run.stage_step = run.step + 1, k + 1
        run.track(terms)
        last = run.callback(stage, index, lr, loss) or k == stage.steps - 1
        if (run.step % run.log_every == 0 or last) and not run.log(
            stage, index, lr, terms, optimizer, scheduler
        ):
            return
        run.save(index, optimizer, scheduler)


def _lbfgs_stage(stage, index, optimizer, scheduler, loss_terms, run: _Run, done: int):
    """Run L-BFGS on all the points in chunks of `log_every` iterations (its state carries
    across chunks; a recovery from a non-finite step empties it)."""
    batch, last, first = run.data.full(), {}, optimizer.param_groups[0]["params"][0]

    def iterations() -> int:  # torch counts them in the state of the first parameter
        return optimizer.state[first].get("n_iter", 0)

    def closure():
        optimizer.zero_grad(set_to_none=True)
        terms = loss_terms(batch)
        total = sum(terms.values())
        total.backward()
        run.guard.check(total, optimizer, run.step + max(1, iterations() - before))
        last.update(terms)
        return total

    per_step = scheduler is not None and not stage.decay.on_log
    while done < stage.steps:
        chunk = min(run.log_every - run.step % run.log_every, stage.steps - done)
        optimizer.param_groups[0]["max_iter"] = chunk
        before, lr = iterations(), optimizer.param_groups[0]["lr"]
        try:
            loss = optimizer.step(closure)
        except RuntimeError:  # torch's line search can fail on a NaN: recover as from it
            if not run.guard.first_bad():
                raise
            loss = sum(last.values())
        failed = run.guard.first_bad()  # a sync, but L-BFGS syncs at every evaluation anyway
        taken = iterations() - before
        done += taken
        run.step, run.stage_step = run.step + taken, done
        run.data.count_full(taken)
        for _ in range(taken if per_step else 0):
            scheduler.step()
        run.callback(stage, index, lr, loss)
        if not run.log(stage, index, lr, last, optimizer, scheduler):
            return
        ended = taken < chunk and not failed  # torch stopped short: no descent direction
        if ended and (taken > 1 or iterations() > taken):  # from a built-up memory (round-off
            optimizer.state.clear()  # in its curvature pairs): start afresh from the gradient
            info = run.result.info
            info["lbfgs_restarts"], ended = info.get("lbfgs_restarts", 0) + 1, False
        run.save(index, optimizer, scheduler)
        if ended:  # even the gradient itself gave no decrease
            run.result.info.setdefault("notes", []).append(
                f"{stage.name} stage ended after {done} of {stage.steps} iterations: "
                "no descent direction left"
            )
            return
