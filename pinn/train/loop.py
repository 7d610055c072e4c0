"""`train`: run the stages in order on one problem and network, logging every `log_every` steps.

Loss values stay on the device inside the step loop; they are read back (a host sync) only at
log points, so the same loop keeps a GPU busy.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..checkpoint import FORMAT, rng_state, set_rng_state
from ..engines import resolve as resolve_engine
from ..problem import Problem, Unknowns
from ..resources import check_fits
from ..result import Result
from ..supervised import Supervised
from .batches import Batches
from .regularization import penalties, weights
from .stages import LBFGS, Adam, Stage
from .stopping import EarlyStopping, validation_set

DTYPES = {"float32": torch.float32, "float64": torch.float64}


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
        engine: how derivatives are computed: "auto" (the default: the Taylor-mode pass for
            MLPs it supports, else nested reverse mode), "reverse", "taylor", "compiled"
            (torch.compile of the Taylor pass), None (reverse) or a callable engine(net, x, keys).
        verbose: print one line per history record.
        batch_size: mini-batch size of the largest point set, the others cut into as many
            batches (see `pinn.train.batches`); None: full batch. L-BFGS is always full batch.
        resample_every: draw fresh collocation points every this many steps (None: never).
        validation: held-out data, checked at each log point as `val_loss`: a pair (points,
            values), points alone or a number of random points (values from `problem.exact`).
        early_stopping: a `pinn.EarlyStopping` on the validation loss (needs `validation`).
        on_step: called after every optimizer step (under L-BFGS, every logged chunk) with a
            dict of step, stage, stage_index, stage_step, epoch, iteration, lr, loss (a device
            tensor) and history (the records so far); returning True ends the training.
        on_stage_end: called with (stage index, stage, result) after each stage.
        checkpoints: a `pinn.checkpoint.Checkpoints` writer: a checkpoint (see `_Run.state`)
            whenever it says one is due, and at each stage end.
        resume: a checkpoint's state (`pinn.checkpoint.load`): continue from it exactly.
    """
    stages = _check(problem, net, stages, l2, l1, log_every, seed, early_stopping, validation)
    device, dtype = resolve_device(device), resolve_dtype(dtype)
    engine = resolve_engine(engine, net)
    torch.manual_seed(seed)
    if initialize and hasattr(net, "reset_parameters"):
        net.reset_parameters()
    net.to(device=device, dtype=dtype).train()
    unknowns = Unknowns(problem.unknowns).to(device=device, dtype=dtype)
    data = Batches(problem, batch_size, resample_every, seed, dtype, device)
    if isinstance(problem, Problem):
        full = any(isinstance(s, LBFGS) for s in stages) or batch_size is None
        check_fits(problem, net, dtype, device, None if full else batch_size)
    result = Result(problem, net, unknowns, device=device, dtype=dtype, n_eval=n_eval)
    held_out = validation_set(problem, validation, seed, dtype, device)
    params, ws = [*net.parameters(), *unknowns.parameters()], weights(net)

    def loss_terms(batch):
        terms = problem.losses(net, batch, unknowns, engine)
        terms.update(penalties(ws, l1, l2))
        return terms

    run = _Run(result, data, log_every, verbose, held_out, early_stopping, on_step, checkpoints)
    result.info.update(batches_per_epoch=data.per_epoch, stages=[])
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


def _check(problem, net, stages, l2, l1, log_every, seed, early_stopping, validation) -> list:
    """Validate the arguments of `train`; return the stages as a list."""
    if not isinstance(problem, (Problem, Supervised)):
        raise TypeError(
            f"problem must be a pinn.Problem or pinn.Supervised, got {type(problem).__name__}"
        )
    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"net must be a torch.nn.Module such as pinn.MLP, got {type(net).__name__}")
    stages = list(stages) if stages is not None else [Adam(steps=1000), LBFGS(steps=1000)]
    if not stages or not all(isinstance(s, Stage) for s in stages):
        raise TypeError(
            f"stages must be a non-empty list of pinn stages (pinn.Adam(...), "
            f"pinn.LBFGS(...), ...), got {stages!r}"
        )
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
    ):
        self.result, self.data, self.log_every, self.verbose = result, data, log_every, verbose
        self.held_out, self.stopping, self.on_step = held_out, stopping, on_step
        self.checkpoints = checkpoints
        self.step, self.stage_step, self.start = 0, 0, time.perf_counter()
        self.good = self.best = None
        self.best_loss, self.waited, self.stopped = float("inf"), 0, False
        self.sums, self.count = {}, 0

    def state(self, index, optimizer, scheduler, stage_step) -> dict:
        """A checkpoint: all that `restore` and the stage in progress need to go on exactly."""
        result = self.result
        run = {
            k: getattr(self, k)
            for k in ("good", "best", "best_loss", "waited", "stopped", "sums", "count")
        }
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
        for k, v in run.items():
            setattr(self, k, v)
        self.step = state["step"]
        return state["stage"], state["stage_step"]

    def save(self, index, optimizer=None, scheduler=None, stage_end=None) -> None:
        """Write a checkpoint when the writer says one is due, and always at a stage end
        (`index` is then the next stage)."""
        if self.checkpoints is None or (stage_end is None and not self.checkpoints.due(self.step)):
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

    def log(self, stage, index, lr, terms, scheduler) -> bool:
        """Record one history entry, then step a plateau schedule and early stopping.

        False ends the stage: on a non-finite loss (after restoring the last good state) or
        when the run is to stop.
        """
        if self.count:  # mini-batches: the mean over the steps since the last record
            terms = {k: v / self.count for k, v in self.sums.items()}
            self.sums, self.count = {}, 0
        values = {f"loss_{k}": float(v.detach()) for k, v in terms.items()}
        loss = sum(values.values())
        if not np.isfinite(loss):
            if self.good is not None:
                self.result.load_state(self.good)
            warnings.warn(
                f"{stage.name} stage: the loss became {loss} at step {self.step}; "
                "restored the last finite state and ended the stage",
                stacklevel=3,
            )
            return False
        self.good = self.result.state()
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

    def _check_stop(self, value: float) -> None:
        if self.stopping.improved(value, self.best_loss):
            self.best_loss, self.best, self.waited = value, (self.step, self.good), 0
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
        lr = optimizer.param_groups[0]["lr"]
        optimizer.step()
        if per_step:
            scheduler.step()
        run.step, run.stage_step = run.step + 1, k + 1
        run.track(terms)
        last = run.callback(stage, index, lr, loss) or k == stage.steps - 1
        if (run.step % run.log_every == 0 or last) and not run.log(
            stage, index, lr, terms, scheduler
        ):
            return
        run.save(index, optimizer, scheduler)


def _lbfgs_stage(stage, index, optimizer, scheduler, loss_terms, run: _Run, done: int):
    """Run L-BFGS on all the points in chunks of `log_every` iterations (its state carries
    across chunks)."""
    batch, last = run.data.full(), {}

    def closure():
        optimizer.zero_grad(set_to_none=True)
        terms = loss_terms(batch)
        total = sum(terms.values())
        total.backward()
        last.update(terms)
        return total

    state = optimizer.state[optimizer.param_groups[0]["params"][0]]
    per_step = scheduler is not None and not stage.decay.on_log
    while done < stage.steps:
        chunk = min(run.log_every - run.step % run.log_every, stage.steps - done)
        optimizer.param_groups[0]["max_iter"] = chunk
        before, lr = state.get("n_iter", 0), optimizer.param_groups[0]["lr"]
        loss = optimizer.step(closure)
        iterations = state.get("n_iter", 0) - before
        done += iterations
        run.step, run.stage_step = run.step + iterations, done
        run.data.count_full(iterations)
        for _ in range(iterations if per_step else 0):
            scheduler.step()
        run.callback(stage, index, lr, loss)
        if not run.log(stage, index, lr, last, scheduler):
            return
        run.save(index, optimizer, scheduler)
        if iterations < chunk:  # no descent direction left (converged to round-off)
            run.result.info.setdefault("notes", []).append(
                f"{stage.name} stage ended after {done} of {stage.steps} iterations: "
                "no descent direction left"
            )
            return
