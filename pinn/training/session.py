"""The session: the parts of one training run and what happens at a log point.

The step loops (`loops`) call the session after each step: `track` (mini-batch sums),
`callback` (`on_step`), `log` at log points (a record, recovery after a non-finite step,
plateau schedule, early stopping) and `save` when a checkpoint is due. A checkpoint is the
run's position plus `{part: part.state_dict()}`, written and read back by the parts.
"""

from __future__ import annotations

import time

import numpy as np

from ..checkpoint import FORMAT, rng_state, set_rng_state
from ..result import Result
from .history import History
from .recovery import Recovery
from .sampling import Sampler
from .stopping import Stopper

# A logged loss this many times above the lowest loss of the run (its first loss, or the
# lowest logged; when that is positive: a weighting may make losses negative) is taken as a
# divergence, like a NaN: on the library's recipes the largest such ratio is far below it
# (docs/training.md), while a diverging first-order stage passes it within a few steps.
BLOWUP = 1e8


class Session:
    """The parts of a run (sampler, weighting, history, recovery, stopping) and its counters:
    the global step and the step within the stage in progress."""

    def __init__(self, result: Result, sampler: Sampler, weighting, options: dict):
        self.result, self.sampler, self.weighting = result, sampler, weighting
        self.log_every, self.held_out = options["log_every"], options["held_out"]
        self.on_step, self.checkpoints = options["on_step"], options["checkpoints"]
        self.group = options["group"]  # the processes of a data-parallel run (`pinn.distributed`)
        self.history = History(result.history, options["verbose"] and self.group.rank == 0)
        parts = {"sampler": sampler, "weighting": weighting}
        self.recovery = Recovery(result, options["max_failures"], parts)
        self.stopping = Stopper(options["early_stopping"], result.info)
        self.step, self.stage_step, self.start = 0, 0, time.perf_counter()

    @property
    def guard(self):
        return self.recovery.guard

    @property
    def stopped(self) -> bool:
        return self.stopping.stopped

    # -- checkpoints --------------------------------------------------------------------------
    def state(self, index, optimizer, scheduler, stage_step) -> dict:
        """A checkpoint: all that `restore` and the stage in progress need to go on exactly."""
        result = self.result
        return {
            "format": FORMAT,
            "step": self.step,
            "stage": index,
            "stage_step": stage_step,
            "dtype": str(result.dtype).removeprefix("torch."),
            "n_eval": result.n_eval,
            "model": result.state(),
            "optimizer": None if optimizer is None else optimizer.state_dict(),
            "scheduler": None if scheduler is None else scheduler.state_dict(),
            "rng": rng_state(),
            "sampler": self.sampler.state_dict(),
            "weighting": self.weighting.state_dict(),
            "history": self.history.state_dict(),
            "recovery": self.recovery.state_dict(),
            "stopping": self.stopping.state_dict(),
            "info": result.info,
            "clock": {"elapsed": time.perf_counter() - self.start},
        }

    def restore(self, state: dict) -> tuple[int, int]:
        """Load a checkpoint's state; return the stage to go on with and its steps done."""
        self.result.load_state(state["model"])
        set_rng_state(state["rng"])
        self.sampler.load_state_dict(state["sampler"])
        self.weighting.load_state_dict(state["weighting"])
        self.history.load_state_dict(state["history"], self.result.device)
        self.recovery.load_state_dict(state["recovery"])
        self.stopping.load_state_dict(state["stopping"])
        self.result.info.update(state["info"])
        self.start = time.perf_counter() - state["clock"]["elapsed"]
        self.step = state["step"]
        return state["stage"], state["stage_step"]

    def save(self, index, optimizer=None, scheduler=None, stage_end=None) -> None:
        """Write a checkpoint when the writer says one is due, and always at a stage end
        (`index` is then the next stage); in a data-parallel run, rank 0 writes."""
        if self.checkpoints is None or (stage_end is None and not self.checkpoints.due(self.step)):
            return
        if self.guard.first_bad():  # a bad step not yet recovered from: keep the last good one
            return
        self._write((index, optimizer, scheduler, 0 if stage_end else self.stage_step), stage_end)

    def finish(self, stages: int) -> None:
        """The final checkpoint: early stopping's best state, the training time."""
        if self.checkpoints is not None:
            self._write((stages, None, None, 0), None)

    def _write(self, position, stage_end) -> None:
        if self.group.rank:  # rank 0 writes the same state; a pending Ctrl-C still ends here
            self.checkpoints.passed(self.step)
        else:
            self.checkpoints.save(self.state(*position), stage_end)

    # -- after each step --------------------------------------------------------------------
    def reduce(self, terms, loss, optimizer):
        """After the backward pass: the loss terms and gradients summed over the processes of
        a data-parallel run (as they are, alone); a Ctrl-C on any process is taken by all at
        this step, so that rank 0 checkpoints the step every process stops at."""
        asked = bool(getattr(self.checkpoints, "interrupted", False))
        terms, loss, anyone = self.group.reduce(terms, loss, optimizer, asked)
        if anyone and not asked:
            self.checkpoints.interrupted = True
        return terms, loss

    def track(self, terms) -> None:
        """With mini-batches, add the step's loss terms to the running sums of this record."""
        if self.sampler.per_epoch > 1:
            self.history.accumulate(terms)

    def callback(self, stage, index, lr, loss) -> bool:
        """Call `on_step`; True (and the run marked stopped) if it asks to stop. After the
        run's first step (or L-BFGS chunk), record the time it took (`info["first_step_time"]`,
        compiling included)."""
        if "first_step_time" not in self.result.info:
            self.result.info["first_step_time"] = time.perf_counter() - self.start
        if self.on_step is not None and self.on_step(
            {
                "step": self.step,
                "stage": stage.name,
                "stage_index": index,
                "stage_step": self.stage_step,
                "epoch": self.sampler.epoch,
                "iteration": self.sampler.iteration,
                "lr": lr,
                "loss": loss.detach(),
                "history": self.result.history,
            }
        ):
            self.stopping.stopped = True
        return self.stopped

    def begin(self, stage, optimizer) -> None:
        """A new stage: its starting state is the one to come back to."""
        self.recovery.begin(stage, optimizer, self.step)

    def log(self, stage, index, lr, terms, optimizer, scheduler) -> bool:
        """Record one history entry, then step a plateau schedule and early stopping; after a
        non-finite loss or gradient since the last record, recover instead.

        The state of a record is a candidate: it becomes the good state to come back to once
        its own loss and gradient (at the next step) have been finite.
        False ends the stage: when the run is to stop.
        """
        values = {f"loss_{k}": float(v.detach()) for k, v in self.history.mean(terms).items()}
        loss = sum(values.values())
        bad, why = self.guard.first_bad(), "non-finite loss or gradient"
        lowest = min(self.history.lowest, self.guard.initial_loss())
        if not bad and np.isfinite(loss) and lowest > 0 and loss > BLOWUP * lowest:
            bad, why = self.step, f"loss {loss:.3g}, over {BLOWUP:.0e} times the lowest seen"
        bad = bad or (0 if np.isfinite(loss) else self.step)
        self.recovery.confirm(bad)
        if bad:
            self.recovery.recover(stage, optimizer, scheduler, bad, why)
            return not self.stopped
        self.recovery.candidate = self.recovery.snapshot(stage, optimizer, self.step)
        record = {
            "step": self.step,
            "stage": stage.name,
            "stage_index": index,
            "epoch": self.sampler.epoch,
            "iteration": self.sampler.iteration,
            "lr": lr,
            "loss": loss,
            **values,
            **{f"unknown_{k}": v for k, v in self.result.unknowns.items()},
        }
        if self.result.problem.exact is not None:
            record["error"] = self.result.error()
        if self.held_out is not None:
            record["val_loss"] = self.group.value(self.held_out.loss(self.result))
        record["time"] = time.perf_counter() - self.start
        self.history.append(record)
        monitored = record.get("val_loss", loss)
        if scheduler is not None and stage.decay.on_log:
            scheduler.step(monitored)
        self.stopping.check(monitored, self.step, self.recovery.candidate["model"])
        return not self.stopped
