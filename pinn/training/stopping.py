"""Held-out validation and early stopping.

The validation loss is checked at every log point (set `log_every` to the steps of one epoch
to check once per epoch); it is the mean squared error of the prediction (cross-entropy for a
classification `Supervised` problem), with dropout off and batch norm on its running statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import BadValue
from ..supervised import Supervised


@dataclass(frozen=True)
class EarlyStopping:
    """Stop training once the validation loss has not fallen below its best by more than
    `min_delta` for `patience` checks in a row; with `restore_best` the net ends with the
    parameters of the best check."""

    patience: int = 10
    min_delta: float = 0.0
    restore_best: bool = True

    def __post_init__(self):
        if (
            isinstance(self.patience, bool)
            or not isinstance(self.patience, int)
            or (self.patience <= 0)
        ):
            raise BadValue(
                f"EarlyStopping: patience must be a positive integer, got {self.patience!r}"
            )
        if (
            isinstance(self.min_delta, bool)
            or not isinstance(self.min_delta, (int, float))
            or (not self.min_delta >= 0)
        ):
            raise BadValue(
                f"EarlyStopping: min_delta must be a number >= 0, got {self.min_delta!r}"
            )
        if not isinstance(self.restore_best, bool):
            raise BadValue(
                f"EarlyStopping: restore_best must be True or False, got {self.restore_best!r}"
            )

    def improved(self, value: float, best: float) -> bool:
        return value < best - self.min_delta


@dataclass(frozen=True)
class Validation:
    """Held-out points and values, on the training device and dtype, and the loss on them."""

    x: torch.Tensor
    y: torch.Tensor
    criterion: object

    def loss(self, result) -> float:
        return float(self.criterion(result.predict(self.x), self.y))


def validation_set(problem, validation, seed: int, dtype, device) -> Validation | None:
    """`validation` as given to `train`: None, a number n of random points of the domain (with
    the exact solution as values), points alone (exact values), or a pair (points, values)."""
    if validation is None:
        return None
    if isinstance(validation, tuple) and len(validation) == 2:
        x, y = (torch.as_tensor(np.asarray(v) if not torch.is_tensor(v) else v) for v in validation)
    else:
        if isinstance(validation, bool) or problem.exact is None:
            raise BadValue(
                f"validation={_short(validation)}: without an exact solution give a pair "
                "(points, values) of held-out data"
            )
        if isinstance(validation, int):
            if validation <= 0:
                raise BadValue(f"validation must be a positive number of points, got {validation}")
            rng = np.random.default_rng([seed, 1])
            x = torch.as_tensor(problem.domain.sample(validation, "uniform", rng))
        else:
            x = torch.as_tensor(
                np.asarray(validation) if not torch.is_tensor(validation) else validation
            )
        y = problem.exact_at(x.double())
    if x.ndim != 2 or x.shape[1] != problem.domain.dim or len(y) != len(x):
        raise BadValue(
            f"validation points must have shape (N, {problem.domain.dim}) with N values, got "
            f"points {tuple(x.shape)} and values {tuple(y.shape)}"
        )
    if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
        raise BadValue("validation points and values must be finite, got NaN or Inf")
    if isinstance(problem, Supervised):
        return Validation(x.to(device, dtype), problem.target(y, device, dtype), problem.criterion)
    y = y.reshape(len(x), -1).to(device, dtype)
    if y.shape[1] != len(problem.fields):
        raise BadValue(
            f"validation values have {y.shape[1]} columns; expected {len(problem.fields)}, "
            f"one per field {problem.fields}"
        )
    return Validation(x.to(device, dtype), y, F.mse_loss)


def _short(value) -> str:
    return repr(value) if isinstance(value, (int, float, str, type(None))) else type(value).__name__


class Stopper:
    """The stopping part: whether the run is to stop (early stopping, or `on_step` asking),
    and early stopping's best validated state."""

    def __init__(self, rule: EarlyStopping | None, info: dict):
        self.rule, self.info = rule, info
        self.best = None  # (step, model state) of the best check
        self.best_loss, self.waited, self.stopped = float("inf"), 0, False

    def check(self, value: float, step: int, model: dict) -> None:
        """A validation loss at a log point, with the state it belongs to."""
        if self.rule is None:
            return
        if self.rule.improved(value, self.best_loss):
            self.best_loss, self.best, self.waited = value, (step, model), 0
            return
        self.waited += 1
        if self.waited >= self.rule.patience:
            self.stopped = True
            self.info["early_stopping"] = {
                "stopped_at": step,
                "best_step": self.best[0],
                "best_val_loss": self.best_loss,
            }

    def finish(self, result) -> None:
        """Restore the best validated parameters when early stopping asks for them."""
        if self.rule is not None and self.rule.restore_best and self.best is not None:
            result.load_state(self.best[1])
            result.info.setdefault("early_stopping", {}).update(
                restored_step=self.best[0], best_val_loss=self.best_loss
            )

    def state_dict(self) -> dict:
        keys = ("best", "best_loss", "waited", "stopped")
        return {k: getattr(self, k) for k in keys}

    def load_state_dict(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)
