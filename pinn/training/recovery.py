"""The recovery part: non-finite steps are flagged on the device at every step, read at log
points, and answered by going back to the last good state.

Every step flags, on the device, whether its loss and gradient are finite; the flags are read
at the next log point (and when a checkpoint is due, which syncs anyway). After a bad step the
run goes back to its last good state, that of the last history record whose own loss and
gradient were then seen to be finite (network, unknowns, optimizer state, and the sampler's
and weighting's states, so that neither keeps what the bad steps did to them), and the stage
recovers as it knows how (`Stage.recover`: half the learning rate, an empty L-BFGS memory).
`max_failures` recoveries with no newly confirmed good state between them raise
`TrainingDiverged`. No checkpoint is written between a bad step and its recovery, so the last
good checkpoint stays on disk.
"""

from __future__ import annotations

import copy
import warnings

import torch

from ..result import Result


class TrainingDiverged(RuntimeError):
    """Training stopped after `max_failures` non-finite losses or gradients in a row.

    `message` says which stage failed at which step and what was tried; `result` holds the
    last good state and the history so far; no checkpoint was written after that state, so a
    run directory keeps its last good checkpoint.
    """

    def __init__(self, message: str, result: Result):
        super().__init__(message)
        self.result = result


class Guard:
    """Which steps since the last log point had a non-finite loss or gradient: one device
    flag per evaluation, read only when asked, so that checking every step costs no host sync.

    Under a closure stage (L-BFGS) a step is an iteration; the first one of a chunk also owns
    the evaluation at the chunk's start."""

    def __init__(self):
        self.reset()
        self.initial = None  # the run's first loss (a device tensor until read)

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
        if self.initial is None:
            self.initial = loss.detach()
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

    def initial_loss(self) -> float:
        """The run's first loss (a sync, once; checkpointed), or inf before any step."""
        if torch.is_tensor(self.initial):
            self.initial = float(self.initial)
        return float("inf") if self.initial is None else self.initial

    def first_ok(self) -> bool:
        """Whether the evaluation at the state of the last log point was finite (a sync)."""
        return self.first is not None and bool(self.first)


class Recovery:
    """The last good state, the candidate that becomes good once its own step is seen to be
    finite, and the count of recoveries in a row."""

    def __init__(self, result: Result, max_failures: int, parts: dict):
        """`parts`: the run's other stateful parts to go back with, by name (`state_dict()`)."""
        self.result, self.max_failures, self.parts = result, max_failures, parts
        self.guard = Guard()
        self.good = self.candidate = None  # snapshots: see `snapshot`
        self.failures = 0  # recoveries since a new state was last confirmed

    def snapshot(self, stage, optimizer, step: int) -> dict:
        """The step, the network and unknowns, the stage's optimizer snapshot and the parts'
        states."""
        return {
            "step": step,
            "model": self.result.state(),
            "optimizer": stage.snapshot(optimizer),
            "parts": {k: copy.deepcopy(part.state_dict()) for k, part in self.parts.items()},
        }

    def begin(self, stage, optimizer, step: int) -> None:
        """A new stage: its starting state is the one to come back to."""
        self.good, self.candidate = self.snapshot(stage, optimizer, step), None
        self.failures = 0

    def confirm(self, bad: int) -> None:
        """At a log point: the candidate becomes good if its own evaluation was finite."""
        if self.candidate is not None and (not bad or self.guard.first_ok()):
            self.good, self.failures = self.candidate, 0
        self.candidate = None
        self.guard.reset()

    def recover(self, stage, optimizer, scheduler, bad: int, why: str) -> None:
        """Go back to the last good state after a bad step `bad` (`why`: a non-finite loss or
        gradient, a diverging loss) and let the stage recover; raise TrainingDiverged at
        `max_failures` in a row."""
        self.failures += 1
        self.result.load_state(self.good["model"])
        for name, part in self.parts.items():
            part.load_state_dict(copy.deepcopy(self.good["parts"][name]))
        stop = self.failures >= self.max_failures
        if stop:
            action = f"stopped after {self.failures} failures in a row"
        else:
            action = stage.recover(optimizer, scheduler, self.good["optimizer"])
        self.result.info.setdefault("nonfinite", []).append(
            {"step": bad, "stage": stage.name, "restored_step": self.good["step"], "action": action}
        )
        message = (
            f"{stage.name} stage: {why} at step {bad}; restored the state "
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

    def state_dict(self) -> dict:
        checked = self.guard.first is not None  # and passed: checkpoints follow a good step
        return {
            "good": self.good,
            "candidate": self.candidate,
            "failures": self.failures,
            "checked": checked,
            "initial": self.guard.initial_loss(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.good, self.candidate = state["good"], state["candidate"]
        self.failures = state["failures"]
        self.guard.first = True if state["checked"] else None
        self.guard.initial = state["initial"] if state["initial"] != float("inf") else None
