"""Learning-rate schedules: small values that build the matching `torch.optim.lr_scheduler`.

Each schedule is stepped once per optimizer step, so `t` below counts steps of its stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch.optim import lr_scheduler


def _positive(name, value, integer=False):
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or not value > 0:
        kind = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {kind}, got {value!r}")


@dataclass(frozen=True)
class ExponentialDecay:
    """lr(t) = lr0 * gamma ** (t / every)."""

    gamma: float = 0.9
    every: int = 1000

    def __post_init__(self):
        if not (isinstance(self.gamma, (int, float)) and 0 < self.gamma <= 1):
            raise ValueError(f"ExponentialDecay: gamma must be in (0, 1], got {self.gamma!r}")
        _positive("ExponentialDecay: every", self.every, integer=True)

    def scheduler(self, optimizer, steps):
        return lr_scheduler.ExponentialLR(optimizer, gamma=self.gamma ** (1 / self.every))


@dataclass(frozen=True)
class StepDecay:
    """Piecewise constant: lr0 * gamma ** (number of milestones passed)."""

    milestones: Sequence[int] = (1000,)
    gamma: float = 0.1

    def __post_init__(self):
        ms = list(self.milestones)
        if (
            not ms
            or any(isinstance(m, bool) or not isinstance(m, int) or m <= 0 for m in ms)
            or (ms != sorted(set(ms)))
        ):
            raise ValueError(
                f"StepDecay: milestones must be increasing positive integers, "
                f"got {self.milestones!r}"
            )
        _positive("StepDecay: gamma", self.gamma)

    def scheduler(self, optimizer, steps):
        return lr_scheduler.MultiStepLR(optimizer, list(self.milestones), gamma=self.gamma)


@dataclass(frozen=True)
class PowerDecay:
    """lr(t) = lr0 / (1 + beta * t) ** alpha."""

    alpha: float = 1.0
    beta: float = 1e-3

    def __post_init__(self):
        _positive("PowerDecay: alpha", self.alpha)
        _positive("PowerDecay: beta", self.beta)

    def scheduler(self, optimizer, steps):
        a, b = self.alpha, self.beta
        return lr_scheduler.LambdaLR(optimizer, lambda t: (1 + b * t) ** -a)


@dataclass(frozen=True)
class CyclicLR:
    """Triangular cycles between base_lr and max_lr, `step_size` steps up then down."""

    base_lr: float = 1e-4
    max_lr: float = 1e-2
    step_size: int = 500

    def __post_init__(self):
        _positive("CyclicLR: base_lr", self.base_lr)
        _positive("CyclicLR: max_lr", self.max_lr)
        _positive("CyclicLR: step_size", self.step_size, integer=True)
        if self.base_lr >= self.max_lr:
            raise ValueError(f"CyclicLR: base_lr={self.base_lr} must be < max_lr={self.max_lr}")

    def scheduler(self, optimizer, steps):
        return lr_scheduler.CyclicLR(
            optimizer, self.base_lr, self.max_lr, self.step_size, cycle_momentum=False
        )


@dataclass(frozen=True)
class CosineDecay:
    """Half a cosine from lr0 down to min_lr over the stage's steps."""

    min_lr: float = 0.0

    def __post_init__(self):
        if not (isinstance(self.min_lr, (int, float)) and self.min_lr >= 0):
            raise ValueError(f"CosineDecay: min_lr must be a number >= 0, got {self.min_lr!r}")

    def scheduler(self, optimizer, steps):
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=self.min_lr)


SCHEDULES = (ExponentialDecay, StepDecay, PowerDecay, CyclicLR, CosineDecay)
