"""The objective part: what a stage minimises, from a batch of points.

`objective(batch, step)` gives the loss terms of a step: the weighting's terms of the
residuals and the L1/L2 penalties (counted once over the processes of a data-parallel run).
Gauss-Newton stages (`pinn.LevenbergMarquardt`) ask it for the normal equations of the
residual vector instead: JᵀJ, Jᵀr and the terms, summed over the processes.
"""

from __future__ import annotations

import torch

from .. import engines
from ..jacobian import blocks
from ..residuals import magnitudes
from .regularization import penalties, weights


class Objective:
    """The loss of one run: its problem, network, unknowns, derivative engine, weighting and
    penalties, and the processes it is shared among."""

    def __init__(self, problem, net, unknowns, engine, weighting, l1, l2, group):
        self.problem, self.net, self.unknowns, self.engine = problem, net, unknowns, engine
        self.weighting, self.l1, self.l2, self.group = weighting, l1, l2, group
        self.weights = weights(net)

    @property
    def params(self) -> list[torch.Tensor]:
        """The trained tensors: the network's parameters, then the unknowns'."""
        return [*self.net.parameters(), *self.unknowns.parameters()]

    def __call__(self, batch, step, adapt: bool = False) -> dict[str, torch.Tensor]:
        """The loss terms of `batch` at `step` (this process's part of them); `adapt`: a
        first-order step, at which an adaptive weighting updates its state first."""
        residuals = self.problem.residuals(self.net, batch, self.unknowns, self.engine)
        if adapt:
            self.weighting.update(residuals, {}, step, self, batch)
        terms = self.weighting(residuals, step)
        terms.update(self.group.once(penalties(self.weights, self.l1, self.l2)))
        return terms

    def magnitudes(self, x: torch.Tensor) -> torch.Tensor:
        """The PDE's squared residual at points `x`, per point (`pinn.residuals.magnitudes`),
        by the eager Taylor pass where the run compiles it (the candidates' count would
        compile it again)."""
        engine = engines.taylor if isinstance(self.engine, engines.Compiled) else self.engine
        return magnitudes(self.problem, self.net, x, self.unknowns, engine)

    def normal_equations(self, batch, params, chunk=None):
        """(A, b, terms) with A = JᵀJ and b = Jᵀr of the scaled residual vector r (its squared
        norm is the loss; `pinn.jacobian`) in `params` (the network's, then the unknowns'),
        with the L2 penalty's rows, summed over the processes; `terms` are the loss terms."""
        n = sum(p.numel() for p in params)
        x = params[0]
        A = torch.zeros(n, n, dtype=x.dtype, device=x.device)
        b = torch.zeros(n, dtype=x.dtype, device=x.device)
        # every term, even one without rows on this process (a shard can be empty)
        sums = {t.name: b.new_zeros(()) for s in self.problem.sets for t in s.terms}
        for name, r, J in blocks(self.problem, self.net, self.unknowns, batch, chunk):
            A.addmm_(J.T, J)
            b.addmv_(J.T, r)
            sums[name] = sums[name] + r @ r
        names = list(sums)
        flat = self.group.sum(torch.cat([A.reshape(-1), b, torch.stack([sums[k] for k in names])]))
        A, b = flat[: n * n].view(n, n), flat[n * n : n * n + n]
        terms = dict(zip(names, flat[n * n + n :].unbind()))
        if self.l2:  # rows sqrt(l2 / 2) w: (l2 / 2) on the weights' diagonal, (l2 / 2) w
            mask = torch.cat([p.detach().new_full((p.numel(),), float(p.ndim > 1)) for p in params])
            w = torch.cat([p.detach().reshape(-1) for p in params]) * mask
            A.diagonal().add_(0.5 * self.l2 * mask)
            b.add_(0.5 * self.l2 * w)
            terms["l2"] = 0.5 * self.l2 * (w @ w)
        return A, b, terms

    def total(self, batch, step) -> dict[str, torch.Tensor]:
        """The loss terms of `batch`, summed over the processes, without gradients."""
        with torch.no_grad():
            terms = self(batch, step)
        names = list(terms)
        flat = self.group.sum(torch.stack([terms[k].detach() for k in names]))
        return dict(zip(names, flat.unbind()))
