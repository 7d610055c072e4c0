"""Training stages: one optimizer run for a number of steps, each wrapping its torch.optim class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from .schedules import SCHEDULES, _positive


@dataclass(frozen=True)
class Stage:
    """`steps` optimizer steps at learning rate `lr`, with an optional `decay` schedule."""

    steps: int = 1000
    lr: float = 1e-3
    decay: Any = None

    optimizer: ClassVar[type[torch.optim.Optimizer]]
    name: ClassVar[str]

    def __post_init__(self):
        _positive(f"{type(self).__name__}: steps", self.steps, integer=True)
        _positive(f"{type(self).__name__}: lr", self.lr)
        if self.decay is not None and not hasattr(self.decay, "scheduler"):
            raise TypeError(
                f"{type(self).__name__}: decay must be a schedule such as "
                f"{', '.join(s.__name__ for s in SCHEDULES)}, got {self.decay!r}"
            )

    def options(self) -> dict:
        """Keyword arguments of the torch optimizer besides `lr`."""
        return {}

    def build(self, params) -> torch.optim.Optimizer:
        return self.optimizer(params, lr=self.lr, **self.options())


@dataclass(frozen=True)
class Adam(Stage):
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    optimizer = torch.optim.Adam
    name = "adam"

    def options(self):
        return {"betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay}


@dataclass(frozen=True)
class AdamW(Adam):
    weight_decay: float = 1e-2
    optimizer = torch.optim.AdamW
    name = "adamw"


@dataclass(frozen=True)
class SGD(Stage):
    lr: float = 1e-2
    momentum: float = 0.0
    nesterov: bool = False
    optimizer = torch.optim.SGD
    name = "sgd"

    def options(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


@dataclass(frozen=True)
class Adagrad(Stage):
    lr: float = 1e-2
    optimizer = torch.optim.Adagrad
    name = "adagrad"


@dataclass(frozen=True)
class RMSprop(Stage):
    alpha: float = 0.99
    momentum: float = 0.0
    optimizer = torch.optim.RMSprop
    name = "rmsprop"

    def options(self):
        return {"alpha": self.alpha, "momentum": self.momentum}


@dataclass(frozen=True)
class LBFGS(Stage):
    """L-BFGS with a strong-Wolfe line search; `steps` counts iterations and is honoured exactly.

    torch's own stopping tests (tolerance_grad, tolerance_change) are disabled so that the
    stage runs all its iterations; it ends early only when no descent direction is left.
    """

    lr: float = 1.0
    history_size: int = 50
    line_search: str | None = "strong_wolfe"
    optimizer = torch.optim.LBFGS
    name = "lbfgs"

    def __post_init__(self):
        super().__post_init__()
        if self.line_search not in ("strong_wolfe", None):
            raise ValueError(
                f"LBFGS: line_search must be 'strong_wolfe' or None, got {self.line_search!r}"
            )

    def options(self):
        return {
            "history_size": self.history_size,
            "line_search_fn": self.line_search,
            "tolerance_grad": 0.0,
            "tolerance_change": 0.0,
            "max_iter": 1,
            "max_eval": 10**9,
        }
