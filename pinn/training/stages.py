"""Training stages: one optimizer run for a number of steps, each wrapping its torch.optim class.

What is special about an optimizer is a property of its stage, not a case in the trainer:
`full_batch` (runs on all the points whatever the batch size), `loop` (the step loop that
drives it: `loops.first_order`, or `loops.closure` for optimizers that re-evaluate the loss
themselves), `snapshot` (the optimizer state to come back to after a non-finite step) and
`recover` (what to do then). A new optimizer is a new `Stage` subclass.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import torch

from ..errors import BadType, BadValue
from . import loops
from .schedules import SCHEDULES, Schedule, _fraction, _positive

MAX_EVALS = 25  # loss evaluations per L-BFGS iteration, at most on average (torch's default)


def _nonnegative(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise BadValue(f"{name} must be a number >= 0, got {value!r}")


@dataclass(frozen=True)
class Stage:
    """Base of the stages: `steps` optimizer steps at learning rate `lr`, with an optional
    `decay` schedule (a `pinn.Schedule`). Subclasses name their `torch.optim` class."""

    steps: int = 1000
    lr: float = 1e-3
    decay: Schedule | None = None

    optimizer: ClassVar[type[torch.optim.Optimizer]]
    name: ClassVar[str]
    full_batch: ClassVar[bool] = False  # True: all the points at every step
    loop: ClassVar = staticmethod(loops.first_order)
    config_skip: ClassVar[tuple] = ()  # fields a config file does not hold
    # True: the optimizer rejects a NaN or Inf trial itself (its own line search), so the
    # loop neither aborts the step nor counts it as a failure
    rejects_nonfinite: ClassVar[bool] = False

    def __post_init__(self):
        _positive(f"{self.label}: steps", self.steps, integer=True)
        _positive(f"{self.label}: lr", self.lr)
        if self.decay is not None and not isinstance(self.decay, Schedule):
            raise BadType(
                f"{self.label}: decay must be a schedule such as "
                f"{', '.join(s.__name__ for s in SCHEDULES)}, got {self.decay!r}"
            )

    @property
    def label(self) -> str:
        return type(self).__name__

    def options(self) -> dict:
        """Keyword arguments of the torch optimizer besides `lr`."""
        return {}

    def build(self, params) -> torch.optim.Optimizer:
        return self.optimizer(params, lr=self.lr, **self.options())

    def check_config(self) -> None:
        """Raise a ValueError if the stage cannot be written to a config file."""

    def check_params(self, params, device: torch.device, objective) -> None:
        """Before the run: raise a clear error (or warn) if the stage cannot serve these
        parameters or this objective (`objective.Objective`: a dense matrix too large for
        `device`, a weighting it cannot take, say)."""

    def snapshot(self, optimizer) -> dict | None:
        """A copy of the optimizer state, to come back to after a non-finite step."""
        return copy.deepcopy(optimizer.state_dict())

    def recover(self, optimizer, scheduler, snapshot: dict | None) -> str:
        """After a non-finite step: the optimizer state of `snapshot` with half the learning
        rate (the schedule follows); returns what was done, for the warning and the record."""
        lrs = [group["lr"] / 2 for group in optimizer.param_groups]
        optimizer.load_state_dict(copy.deepcopy(snapshot))  # loading aliases the snapshot
        for group, lr in zip(optimizer.param_groups, lrs):
            group["lr"] = lr
        for name in ("base_lrs", "max_lrs"):  # what LambdaLR, CyclicLR, ... compute lr from
            if hasattr(scheduler, name):
                setattr(scheduler, name, [v / 2 for v in getattr(scheduler, name)])
        return f"halved the learning rate to {lrs[0]:.3g}"


@dataclass(frozen=True)
class Adam(Stage):
    """torch.optim.Adam (fused where torch has it).

    Args:
        steps: optimizer steps (default 1000).
        lr: the learning rate (default 1e-3).
        decay: a learning-rate schedule (`pinn.ExponentialDecay(...)`, ...) or None.
        betas: the moment decay rates (default (0.9, 0.999)); eps: added to the denominator.
        weight_decay: the coupled (L2-in-the-gradient) kind (default 0).
    """

    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    optimizer = torch.optim.Adam
    name = "adam"

    def __post_init__(self):
        super().__post_init__()
        if not (isinstance(self.betas, (tuple, list)) and len(self.betas) == 2):
            raise BadValue(f"{self.label}: betas must be a pair (beta1, beta2), got {self.betas!r}")
        for b in self.betas:
            _fraction(f"{self.label}: each of betas", b)
        _positive(f"{self.label}: eps", self.eps)
        _nonnegative(f"{self.label}: weight_decay", self.weight_decay)

    def options(self):
        return {"betas": tuple(self.betas), "eps": self.eps, "weight_decay": self.weight_decay}

    def build(self, params) -> torch.optim.Optimizer:
        """The fused implementation (one kernel for all parameters: 4x faster than the
        default for-loop on a CPU) where torch has it for the parameters' device."""
        params = list(params)
        fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)
        try:
            return self.optimizer(params, lr=self.lr, fused=fused, **self.options())
        except RuntimeError:  # torch < 2.4 has no fused CPU kernel
            return super().build(params)


@dataclass(frozen=True)
class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay, w <- w - lr * weight_decay * w
    each step. Takes `steps`, `lr`, `decay`, `betas` and `eps` as `Adam` does, and
    `weight_decay` (default 1e-2)."""

    weight_decay: float = 1e-2
    optimizer = torch.optim.AdamW
    name = "adamw"


@dataclass(frozen=True)
class SGD(Stage):
    """torch.optim.SGD.

    Args:
        steps: optimizer steps (default 1000).
        lr: the learning rate (default 1e-2).
        decay: a learning-rate schedule (`pinn.ExponentialDecay(...)`, ...) or None.
        momentum: in [0, 1); > 0 gives the heavy ball (default 0).
        nesterov: Nesterov's form of the momentum (needs momentum > 0).
    """

    lr: float = 1e-2
    momentum: float = 0.0
    nesterov: bool = False
    optimizer = torch.optim.SGD
    name = "sgd"

    def __post_init__(self):
        super().__post_init__()
        _fraction(f"{self.label}: momentum", self.momentum)
        if not isinstance(self.nesterov, bool):
            raise BadValue(f"{self.label}: nesterov must be True or False, got {self.nesterov!r}")
        if self.nesterov and self.momentum == 0:
            raise BadValue(f"{self.label}: nesterov=True needs momentum > 0, got momentum=0")

    def options(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


@dataclass(frozen=True)
class Adagrad(Stage):
    """torch.optim.Adagrad: each step divided by the root of the summed squared gradients.

    Args:
        steps: optimizer steps (default 1000).
        lr: the learning rate (default 1e-2).
        decay: a learning-rate schedule (`pinn.ExponentialDecay(...)`, ...) or None.
        eps: added to the denominator (default 1e-10).
    """

    lr: float = 1e-2
    eps: float = 1e-10
    optimizer = torch.optim.Adagrad
    name = "adagrad"

    def __post_init__(self):
        super().__post_init__()
        _positive(f"{self.label}: eps", self.eps)

    def options(self):
        return {"eps": self.eps}


@dataclass(frozen=True)
class RMSprop(Stage):
    """torch.optim.RMSprop: squared gradients averaged with decay `alpha`.

    Args:
        steps: optimizer steps (default 1000).
        lr: the learning rate (default 1e-3).
        decay: a learning-rate schedule (`pinn.ExponentialDecay(...)`, ...) or None.
        alpha: the averaging decay in [0, 1) (default 0.99); eps: added to the denominator.
        momentum: in [0, 1) (default 0).
    """

    alpha: float = 0.99
    eps: float = 1e-8
    momentum: float = 0.0
    optimizer = torch.optim.RMSprop
    name = "rmsprop"

    def __post_init__(self):
        super().__post_init__()
        _fraction(f"{self.label}: alpha", self.alpha)
        _positive(f"{self.label}: eps", self.eps)
        _fraction(f"{self.label}: momentum", self.momentum)

    def options(self):
        return {"alpha": self.alpha, "eps": self.eps, "momentum": self.momentum}


class ClosureStage:
    """What the closure loop (`loops.closure`) asks of a stage whose optimizer runs several
    iterations per `step(closure)` and counts them as `n_iter` in the state of its first
    parameter (torch's L-BFGS, `pinn.BFGS`): it runs on all the points, and after a
    non-finite step starts again from the gradient."""

    full_batch = True
    loop = staticmethod(loops.closure)
    title: ClassVar[str]  # the method's name in messages

    def snapshot(self, optimizer) -> None:
        """Nothing: after a failure the stage starts again with an empty memory."""
        return None

    def recover(self, optimizer, scheduler, snapshot) -> str:
        self.restart(optimizer)
        return f"restarted {self.title} with an empty memory"

    def iterations(self, optimizer) -> int:
        """Iterations done so far."""
        return optimizer.state[optimizer.param_groups[0]["params"][0]].get("n_iter", 0)

    def limit(self, optimizer, iterations: int) -> None:
        """Let the next `optimizer.step(closure)` run at most `iterations` iterations and
        `MAX_EVALS` evaluations each on average: a line search may take all the evaluations
        left, so this bounds it (a NaN trial ends the step before, in the loop)."""
        optimizer.param_groups[0]["max_iter"] = iterations
        optimizer.param_groups[0]["max_eval"] = MAX_EVALS * iterations

    def restart(self, optimizer) -> None:
        """Empty the memory: the next iteration starts from the gradient."""
        optimizer.state.clear()


@dataclass(frozen=True)
class LBFGS(ClosureStage, Stage):
    """L-BFGS with a strong-Wolfe line search; `steps` counts iterations and is honoured exactly.

    torch's own stopping tests (tolerance_grad, tolerance_change) are disabled so that the
    stage runs all its iterations. When its memory yields a direction that does not descend
    (round-off), the trainer empties the memory and goes on from the gradient; the stage ends
    early only when even the gradient gives no decrease.
    It always runs full batch (on all the points), whatever the trainer's `batch_size`.

    Args:
        steps: iterations (default 1000).
        lr: the initial step of each line search (default 1).
        decay: a learning-rate schedule or None.
        history_size: curvature pairs kept (default 50).
        line_search: "strong_wolfe" (default) or None (fixed steps of `lr`).
    """

    lr: float = 1.0
    history_size: int = 50
    line_search: str | None = "strong_wolfe"
    optimizer = torch.optim.LBFGS
    name = "lbfgs"
    title = "L-BFGS"

    def __post_init__(self):
        super().__post_init__()
        _positive(f"{self.label}: history_size", self.history_size, integer=True)
        if self.line_search not in ("strong_wolfe", None):
            raise BadValue(
                f"LBFGS: line_search must be 'strong_wolfe' or None, got {self.line_search!r}"
            )

    def options(self):
        return {
            "history_size": self.history_size,
            "line_search_fn": self.line_search,
            "tolerance_grad": 0.0,
            "tolerance_change": 0.0,
            "max_iter": 1,
            "max_eval": MAX_EVALS,
        }


@dataclass(frozen=True, kw_only=True)
class TorchOptimizer(Stage):
    """Any first-order `torch.optim.Optimizer` class with its keyword arguments, e.g.
    `TorchOptimizer(optim=torch.optim.NAdam, steps=500, lr=1e-3, kwargs={"momentum_decay": 4e-3})`.
    """

    optim: type[torch.optim.Optimizer] | None = None
    kwargs: Mapping = field(default_factory=dict)
    config_skip = ("optim",)  # a config names the class by its "type"

    def __post_init__(self):
        super().__post_init__()
        if not (isinstance(self.optim, type) and issubclass(self.optim, torch.optim.Optimizer)):
            raise BadType(
                f"TorchOptimizer: optim must be a torch.optim.Optimizer class such as "
                f"torch.optim.NAdam, got {self.optim!r}"
            )
        if issubclass(self.optim, torch.optim.LBFGS):
            raise BadValue("TorchOptimizer: use pinn.LBFGS for torch.optim.LBFGS")
        if not isinstance(self.kwargs, Mapping):
            raise BadType(f"{self.label}: kwargs must be a dict, got {self.kwargs!r}")
        valid = [k for k in inspect.signature(self.optim).parameters if k not in ("params", "lr")]
        unknown = sorted(set(self.kwargs) - set(valid))
        if unknown:
            raise BadType(
                f"{self.label}: unknown option(s) {unknown} in kwargs; valid: "
                f"{', '.join(valid)} (and the stage's own lr=)"
            )

    @property
    def label(self) -> str:
        return f"TorchOptimizer({getattr(self.optim, '__name__', self.optim)})"

    def check_config(self) -> None:
        if getattr(torch.optim, self.name, None) is not self.optim:
            raise BadValue(f"{self.label}: only torch.optim classes can be written to a config")

    @property
    def name(self) -> str:
        return self.optim.__name__

    @property
    def optimizer(self) -> type[torch.optim.Optimizer]:
        return self.optim

    def options(self):
        return dict(self.kwargs)


def registry() -> dict[str, type[Stage]]:
    """Every stage class by its config name ("adam", "lbfgs", ...), subclasses defined later
    included: a new stage reaches config files and `--set stages.K.type=` by being defined."""
    found = {}

    def visit(cls):  # depth first, in the order of definition
        if isinstance(cls.__dict__.get("name"), str):
            found.setdefault(cls.name, cls)
        for sub in cls.__subclasses__():
            visit(sub)

    visit(Stage)
    return found


def warn_float32(stage: str, dtype: torch.dtype) -> None:
    """Second-order stages reach their accuracy in float64 only: say so in float32."""
    if dtype != torch.float64:
        warnings.warn(
            f"{stage}: second-order steps reach their accuracy only in float64 "
            f"(dtype='float64'); in {str(dtype).removeprefix('torch.')} round-off stops them "
            "early",
            stacklevel=3,
        )
