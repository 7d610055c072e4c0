"""Causal weighting for time-dependent problems (Wang, Sankaran & Perdikaris, "Respecting
causality is all you need for training physics-informed neural networks", 2024).

The time interval is cut into `chunks` equal slices; L_k is the mean squared residual of the
PDE's terms over the collocation points in slice k, and the points of slice k get the weight

    w_k = exp(-tol * sum_(j < k) L_j),

held fixed (no gradient flows through it). A slice counts only once the ones before it are
fitted, so the network cannot settle on a solution of later times that ignores the initial
condition. The weights are recomputed at every first-order step and kept as they are under
L-BFGS (`pinn.training.weighting`). After training, `weights` holds the slices' weights:
all near 1 means every slice was fitted in turn. The other weightings combined with it do not
change L_k (the causal front follows the residual itself).
"""

from __future__ import annotations

import torch

from ..errors import BadValue
from .schedules import _positive
from .weighting import Weighting, keep_finite


class Causal(Weighting):
    """Temporal-causality weights on the PDE's terms (module docstring).

    Args:
        tol: how strongly an unfitted earlier slice holds back the later ones (the paper
            uses 1 to 100; larger is stricter).
        chunks: the number of time slices.
    """

    name = "causal"

    def __init__(self, tol: float = 1.0, chunks: int = 32):
        _positive("Causal: tol", tol)
        _positive("Causal: chunks", chunks, integer=True)
        self.tol, self.chunks, self.weights = tol, chunks, None

    def start(self, objective, sizes) -> None:
        problem = objective.problem
        t = problem.domain.time
        if t is None:
            raise BadValue(
                f"Causal weighting needs a time coordinate (a pinn.Time factor); the domain "
                f"{problem.domain!r} has none"
            )
        self.column = problem.coords.index(t)
        self.t0 = float(problem.domain.lo[self.column])
        self.t1 = float(problem.domain.hi[self.column])
        self.terms = tuple(t.name for s in problem.sets if s.name == "pde" for t in s.terms)
        self.group, self.weights = objective.group, None
        self.device = objective.params[0].device

    def _slice(self, res) -> torch.Tensor:
        """The slice of each of the term's points, 0 to chunks - 1."""
        t = res.x[:, self.column]
        k = ((t - self.t0) * (self.chunks / (self.t1 - self.t0))).long()
        return k.clamp(0, self.chunks - 1)

    def factors(self, residuals):
        if self.weights is None:
            return {}
        return {
            k: self.weights[self._slice(residuals[k])].unsqueeze(1)
            for k in self.terms
            if k in residuals
        }

    def update(self, residuals, others, step, objective, batch) -> None:
        mine = [k for k in self.terms if k in residuals]
        if not mine:
            return
        first = residuals[mine[0]]
        sums = first.r.new_zeros(self.chunks)
        counts = first.r.new_zeros(self.chunks)
        k = self._slice(first)
        for name in mine:  # the terms of one set share their points
            losses = residuals[name].losses().detach().mean(1)
            sums = sums.index_add(0, k, losses)
        counts = counts.index_add(0, k, torch.ones_like(losses))
        both = self.group.sum(torch.cat([sums, counts]))
        means = both[: self.chunks] / both[self.chunks :].clamp_min(1)
        before = torch.cumsum(means, 0) - means
        new = torch.exp(-self.tol * before)
        self.weights = keep_finite(
            new, torch.ones_like(new) if self.weights is None else self.weights
        )

    def state_dict(self) -> dict:
        return {"weights": self.weights}

    def load_state_dict(self, state: dict) -> None:
        w = state["weights"]
        self.weights = None if w is None else w.to(self.device)
