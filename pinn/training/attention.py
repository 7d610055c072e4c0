"""Per-point weights: `SelfAdaptive` (trainable weights, raised by gradient ascent) and `RBA`
(residual-based attention). Each keeps one weight per residual value of every point of every
term's set, the whole set's (a mini-batch or a process uses its rows of them); they start
again at 1 when the sampler replaces the points.

- SelfAdaptive (McClenny & Braga-Neto 2023): the term is mean(lambda**2 r**2) and lambda
  climbs its gradient 2 lambda r**2 / N with Adam, so the points that stay hard to fit gain
  weight; the network descends the same loss.
- RBA (Anagnostopoulos, Toscano, Stergiopulos & Karniadakis 2024): at each step
  lambda <- gamma lambda + eta |r| / max|r|, the max over the term's batch, and the term is
  mean(lambda**2 r**2); lambda stays below eta / (1 - gamma).
"""

from __future__ import annotations

import torch

from .balancing import _fraction
from .schedules import _positive
from .weighting import Weighting, check_terms, keep_finite, row_factor, term_names


class _PerPoint(Weighting):
    """A weight per residual value of each term's points (`lam`), squared in the loss."""

    terms: tuple | None

    def start(self, objective, sizes) -> None:
        check_terms(type(self).__name__, self.terms, sizes)
        self.group, self.device = objective.group, objective.params[0].device
        self.sizes, self.lam = dict(sizes), {}

    def points_changed(self, sizes, changed) -> None:
        self.sizes = dict(sizes)
        for name in changed:
            self.lam.pop(name, None)

    def _mine(self, residuals):
        return [k for k in residuals if self.terms is None or k in self.terms]

    def _lam(self, name, res):
        """The term's weights, made (at 1) the first time it is seen."""
        if name not in self.lam:
            self.lam[name] = torch.ones(
                self.sizes[name], res.r.shape[1], dtype=res.r.dtype, device=res.r.device
            )
        return self.lam[name]

    def factors(self, residuals):
        return {
            k: row_factor(self._lam(k, residuals[k]), residuals[k]).square()
            for k in self._mine(residuals)
        }

    def _whole(self, name, res, values):
        """Per-row `values` of this process's rows, placed in the whole set's rows and summed
        over the processes (zeros where no row is)."""
        if res.rows is None:  # the whole set, on one process
            return self.group.sum(values)
        full = torch.zeros_like(self.lam[name]).index_put((res.rows,), values, accumulate=True)
        return self.group.sum(full)

    def state_dict(self) -> dict:
        return {"lam": dict(self.lam), "sizes": dict(self.sizes)}

    def load_state_dict(self, state: dict) -> None:
        self.lam = {k: v.to(self.device) for k, v in state["lam"].items()}
        self.sizes = dict(state["sizes"])


class SelfAdaptive(_PerPoint):
    """Trainable per-point weights (module docstring): each residual value's weight lambda
    (starting at 1) rises by Adam ascent on the loss mean(lambda**2 r**2) at every
    first-order step.

    Args:
        lr: Adam's learning rate for the weights.
        terms: the names of the terms to weight (None: every term).
    """

    name = "self_adaptive"

    def __init__(self, lr: float = 5e-3, terms=None):
        _positive("SelfAdaptive: lr", lr)
        self.lr = lr
        self.terms = term_names(type(self).__name__, terms)

    def start(self, objective, sizes) -> None:
        super().start(objective, sizes)
        self.moments = {}

    def points_changed(self, sizes, changed) -> None:
        super().points_changed(sizes, changed)
        for name in changed:
            self.moments.pop(name, None)

    def update(self, residuals, others, step, objective, batch) -> None:
        for name in self._mine(residuals):
            res = residuals[name]
            lam = self._lam(name, res)
            mine = row_factor(lam, res)
            other = others.get(name, 1.0)
            # d/d lambda of mean(other lambda^2 r^2): this process's rows, over the batch count
            count = (res.total or len(res.r)) * res.r.shape[1]
            g = self._whole(name, res, (2 * mine * other * res.losses() / count).detach())
            g = g.nan_to_num(0.0, 0.0, 0.0)  # a NaN residual must not stay in the moments
            m, v, t = self.moments.get(name, (torch.zeros_like(lam), torch.zeros_like(lam), 0))
            m, v, t = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g.square(), t + 1
            step_ = self.lr * (m / (1 - 0.9**t)) / ((v / (1 - 0.999**t)).sqrt() + 1e-8)
            self.lam[name] = keep_finite(lam + step_, lam)
            self.moments[name] = (m, v, t)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "moments": dict(self.moments)}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.moments = {
            k: (m.to(self.device), v.to(self.device), t)
            for k, (m, v, t) in state["moments"].items()
        }


class RBA(_PerPoint):
    """Residual-based attention (module docstring): at every first-order step each residual
    value's weight becomes gamma * weight + eta * |r| / max|r|.

    Args:
        eta: the rate at which the normalized residual raises a weight.
        gamma: the memory of the weights, in [0, 1); weights stay below eta / (1 - gamma).
        terms: the names of the terms to weight (None: every term).
    """

    name = "rba"

    def __init__(self, eta: float = 0.01, gamma: float = 0.999, terms=None):
        _positive("RBA: eta", eta)
        _fraction("RBA: gamma", gamma)
        self.eta, self.gamma = eta, gamma
        self.terms = term_names(type(self).__name__, terms)

    def update(self, residuals, others, step, objective, batch) -> None:
        for name in self._mine(residuals):
            res = residuals[name]
            lam = self._lam(name, res)
            size = res.r.detach().abs()
            top = self.group.max(size.max() if len(size) else size.new_zeros(()))
            seen = self._whole(name, res, torch.ones_like(size)) > 0
            new = self._whole(
                name, res, self.eta * size / top.clamp_min(torch.finfo(size.dtype).tiny)
            )
            self.lam[name] = keep_finite(torch.where(seen, self.gamma * lam + new, lam), lam)
