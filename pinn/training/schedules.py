"""Learning-rate schedules: small values that build the matching `torch.optim.lr_scheduler`.

Each schedule except `ReduceOnPlateau` is stepped once per optimizer step, so `t` below counts
steps of its stage; `ReduceOnPlateau` is stepped at log points, with the logged loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from torch.optim import lr_scheduler

from ..errors import BadValue


def _positive(name, value, integer=False):
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or not 0 < value < float("inf"):
        kind = "a positive integer" if integer else "a positive number"
        raise BadValue(f"{name} must be {kind}, got {value!r}")


def _fraction(name, value, high_open=True):
    """A number in [0, 1) (or [0, 1] when `high_open` is False)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not (0 <= value < 1 if high_open else 0 <= value <= 1):
        raise BadValue(f"{name} must be in [0, 1{')' if high_open else ']'}, got {value!r}")


@dataclass(frozen=True)
class Schedule:
    """Base of the schedules: `scheduler(optimizer, steps)` builds the torch scheduler."""

    name: ClassVar[str]
    on_log: ClassVar[bool] = False  # stepped at log points with the loss, not every step

    def scheduler(self, optimizer, steps):
        raise NotImplementedError


@dataclass(frozen=True)
class Constant(Schedule):
    """lr(t) = lr0 (the same as no schedule; here so that configs can name it)."""

    name = "constant"

    def scheduler(self, optimizer, steps):
        return lr_scheduler.LambdaLR(optimizer, lambda t: 1.0)


@dataclass(frozen=True)
class ExponentialDecay(Schedule):
    """lr(t) = lr0 * gamma ** (t / every)."""

    gamma: float = 0.9
    every: int = 1000
    name = "exponential"

    def __post_init__(self):
        if not (isinstance(self.gamma, (int, float)) and 0 < self.gamma <= 1):
            raise BadValue(f"ExponentialDecay: gamma must be in (0, 1], got {self.gamma!r}")
        _positive("ExponentialDecay: every", self.every, integer=True)

    def scheduler(self, optimizer, steps):
        return lr_scheduler.ExponentialLR(optimizer, gamma=self.gamma ** (1 / self.every))


@dataclass(frozen=True)
class StepDecay(Schedule):
    """Piecewise constant: lr0 * gamma ** (number of milestones passed)."""

    milestones: Sequence[int] = (1000,)
    gamma: float = 0.1
    name = "step"

    def __post_init__(self):
        ms = list(self.milestones) if isinstance(self.milestones, (list, tuple)) else None
        if (
            not ms
            or any(isinstance(m, bool) or not isinstance(m, int) or m <= 0 for m in ms)
            or (ms != sorted(set(ms)))
        ):
            raise BadValue(
                f"StepDecay: milestones must be increasing positive integers, "
                f"got {self.milestones!r}"
            )
        _positive("StepDecay: gamma", self.gamma)

    def scheduler(self, optimizer, steps):
        return lr_scheduler.MultiStepLR(optimizer, list(self.milestones), gamma=self.gamma)


@dataclass(frozen=True)
class PowerDecay(Schedule):
    """lr(t) = lr0 / (1 + beta * t) ** alpha."""

    alpha: float = 1.0
    beta: float = 1e-3
    name = "power"

    def __post_init__(self):
        _positive("PowerDecay: alpha", self.alpha)
        _positive("PowerDecay: beta", self.beta)

    def scheduler(self, optimizer, steps):
        a, b = self.alpha, self.beta
        return lr_scheduler.LambdaLR(optimizer, lambda t: (1 + b * t) ** -a)


@dataclass(frozen=True)
class CyclicLR(Schedule):
    """Triangular cycles between base_lr and max_lr, `step_size` steps up then down."""

    base_lr: float = 1e-4
    max_lr: float = 1e-2
    step_size: int = 500
    name = "cyclic"

    def __post_init__(self):
        _positive("CyclicLR: base_lr", self.base_lr)
        _positive("CyclicLR: max_lr", self.max_lr)
        _positive("CyclicLR: step_size", self.step_size, integer=True)
        if self.base_lr >= self.max_lr:
            raise BadValue(f"CyclicLR: base_lr={self.base_lr} must be < max_lr={self.max_lr}")

    def scheduler(self, optimizer, steps):
        return lr_scheduler.CyclicLR(
            optimizer, self.base_lr, self.max_lr, self.step_size, cycle_momentum=False
        )


@dataclass(frozen=True)
class CosineDecay(Schedule):
    """Half a cosine from lr0 down to min_lr over the stage's steps."""

    min_lr: float = 0.0
    name = "cosine"

    def __post_init__(self):
        if not (isinstance(self.min_lr, (int, float)) and self.min_lr >= 0):
            raise BadValue(f"CosineDecay: min_lr must be a number >= 0, got {self.min_lr!r}")

    def scheduler(self, optimizer, steps):
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=self.min_lr)


@dataclass(frozen=True)
class ReduceOnPlateau(Schedule):
    """lr *= factor once the logged loss (`val_loss` when there is a validation set) has not
    fallen by a relative `threshold` for more than `patience` log points; never below min_lr."""

    factor: float = 0.5
    patience: int = 10
    threshold: float = 1e-4
    min_lr: float = 0.0
    name = "plateau"
    on_log = True

    def __post_init__(self):
        if not (isinstance(self.factor, (int, float)) and 0 < self.factor < 1):
            raise BadValue(f"ReduceOnPlateau: factor must be in (0, 1), got {self.factor!r}")
        if (
            isinstance(self.patience, bool)
            or not isinstance(self.patience, int)
            or (self.patience < 0)
        ):
            raise BadValue(
                f"ReduceOnPlateau: patience must be an integer >= 0, got {self.patience!r}"
            )
        _fraction("ReduceOnPlateau: threshold", self.threshold, high_open=False)
        if not (isinstance(self.min_lr, (int, float)) and self.min_lr >= 0):
            raise BadValue(f"ReduceOnPlateau: min_lr must be a number >= 0, got {self.min_lr!r}")

    def scheduler(self, optimizer, steps):
        return lr_scheduler.ReduceLROnPlateau(
            optimizer,
            factor=self.factor,
            patience=self.patience,
            threshold=self.threshold,
            min_lr=self.min_lr,
        )


SCHEDULES = (
    Constant,
    StepDecay,
    ExponentialDecay,
    PowerDecay,
    CyclicLR,
    CosineDecay,
    ReduceOnPlateau,
)
