"""Loss weighting: the part of the training step that turns the residual vector of every term
into the loss terms that are summed and differentiated.

A weighting is a value passed as `pinn.train(..., weighting=...)`. It sees the residuals of
one step (`pinn.residuals.Residual`: the rows `r`, the term's declared weight, the points)
and returns one scalar tensor per term. One that adapts its weights keeps them as state, with
`state_dict()` / `load_state_dict()`, so that a run resumes exactly; it must read values back
from the device only when it updates (every so many steps), never at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..residuals import Residual, mean_squares


class Weighting:
    """Base of the weightings: `weighting(residuals, step) -> {term: loss}`; no state."""

    def __call__(self, residuals: dict[str, Residual], step: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Nothing to restore for a weighting without state."""


@dataclass(frozen=True)
class FixedWeights(Weighting):
    """Each term's declared weight times its mean squared residual, `weight * mean(r**2)`
    (the default)."""

    def __call__(self, residuals: dict[str, Residual], step: int) -> dict[str, torch.Tensor]:
        return mean_squares(residuals)
