"""Term weights that balance the loss terms by their gradients: `GradNorm` (learning-rate
annealing) and `NTKWeights` (the trace of each term's neural tangent kernel).

Both keep one weight per term, start at 1 and move it every `every` steps towards

    w_i = sum_j s_j / s_i

by an exponential average `w <- alpha w + (1 - alpha) w_new`, where s_i is the term's
gradient scale: the norm of the gradient of its mean squared residual in the parameters
(GradNorm; Wang, Wang & Perdikaris, "An expert's guide to training PINNs", 2023, after Wang,
Teng & Perdikaris 2021), or the mean over its residual values of |d r / d theta|^2, the trace
of its NTK block per value (NTKWeights; Wang, Yu & Perdikaris 2022). Each weighted term then
pulls on the parameters about as hard as every other. A term's declared weight multiplies on
top, as a preference. Everything stays on the device; a term whose scale is zero (or not
finite) keeps its weight.
"""

from __future__ import annotations

import torch

from ..errors import BadValue
from ..jacobian import blocks, unsupported
from .schedules import _positive
from .weighting import Weighting, check_terms, keep_finite, term_loss, term_names


def _fraction(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise BadValue(f"{name} must be a number in [0, 1), got {value!r}")


class _Balancing(Weighting):
    """A weight per term, moved every `every` steps towards sum_j s_j / s_i."""

    def __init__(self, every: int, alpha: float, terms):
        _positive(f"{type(self).__name__}: every", every, integer=True)
        _fraction(f"{type(self).__name__}: alpha", alpha)
        self.every, self.alpha, self.weights = every, alpha, {}
        self.terms = term_names(type(self).__name__, terms)

    def start(self, objective, sizes) -> None:
        check_terms(type(self).__name__, self.terms, sizes)
        self.weights, self.device = {}, objective.params[0].device

    def factors(self, residuals):
        return {k: w for k, w in self.weights.items() if k in residuals}

    def scales(self, residuals, others, objective, batch) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def update(self, residuals, others, step, objective, batch) -> None:
        if step % self.every:
            return
        if self.terms is not None:
            residuals = {k: r for k, r in residuals.items() if k in self.terms}
        s = self.scales(residuals, others, objective, batch)
        total = sum(s.values())
        for name, si in s.items():
            old = self.weights.get(name, torch.ones_like(si))
            new = torch.where(si > 0, total / si, old)
            self.weights[name] = keep_finite(self.alpha * old + (1 - self.alpha) * new, old)

    def state_dict(self) -> dict:
        return {"weights": dict(self.weights)}

    def load_state_dict(self, state: dict) -> None:
        self.weights = {k: w.to(self.device) for k, w in state["weights"].items()}


class GradNorm(_Balancing):
    """Term weights from gradient norms: every `every` steps each term's weight moves towards
    (sum of all terms' gradient norms) / (its own), with the average `alpha` (module docstring).

    Args:
        every: steps between updates (each costs one backward pass per term).
        alpha: the weight of the old value in the moving average, in [0, 1).
        terms: the names of the terms to balance (None: every term); the others keep
            weight 1. Leave out a term whose gradient is tiny by design (a one-point gauge
            of the pressure, say): its weight would grow without bound.
    """

    name = "gradnorm"

    def __init__(self, every: int = 100, alpha: float = 0.9, terms=None):
        super().__init__(every, alpha, terms)

    def scales(self, residuals, others, objective, batch):
        params = [p for p in objective.params if p.requires_grad]
        rows = []
        for name, res in residuals.items():
            grads = torch.autograd.grad(
                term_loss(res, others.get(name)), params, retain_graph=True, allow_unused=True
            )
            rows.append(
                torch.cat(
                    [
                        (torch.zeros_like(p) if g is None else g).reshape(-1)
                        for p, g in zip(params, grads)
                    ]
                )
            )
        grads = objective.group.sum(torch.stack(rows))  # the whole batch's, one collective
        return dict(zip(residuals, torch.linalg.vector_norm(grads, dim=1).unbind()))


class NTKWeights(_Balancing):
    """Term weights from the trace of each term's neural tangent kernel: every `every` steps
    each term's weight moves towards (sum of the traces) / (its own), the trace taken per
    residual value on the first `points` points of each set in the batch, whatever the number
    of processes (module docstring). It needs the network's Taylor pass (the residual
    Jacobian, `pinn.jacobian`).

    Args:
        every: steps between updates.
        alpha: the weight of the old value in the moving average, in [0, 1).
        points: points per set whose Jacobian rows are taken (bounded work and memory).
        terms: the names of the terms to balance (None: every term); the others keep
            weight 1.
    """

    name = "ntk"

    def __init__(self, every: int = 100, alpha: float = 0.9, points: int = 256, terms=None):
        super().__init__(every, alpha, terms)
        _positive("NTKWeights: points", points, integer=True)
        self.points = points

    def start(self, objective, sizes) -> None:
        why = unsupported(objective.net)
        if why is not None:
            raise BadValue(f"NTKWeights needs the residual Jacobian, but {why}")
        super().start(objective, sizes)

    def scales(self, residuals, others, objective, batch):
        group = objective.group
        sub = {k: p.head(self.points, group.rank, group.world) for k, p in batch.items()}
        weight = {t.name: t.weight for s in objective.problem.sets for t in s.terms}
        # a term of declared weight 0 has no kernel to balance: it keeps its factor
        traces = {name: None for name in residuals if weight.get(name, 1.0) > 0}
        with torch.no_grad():
            for name, _, J in blocks(objective.problem, objective.net, objective.unknowns, sub):
                if name in traces:  # rows scaled by sqrt(weight / count)
                    part = J.square().sum() / weight[name]
                    traces[name] = part if traces[name] is None else traces[name] + part
        zero = objective.params[0].new_zeros(())
        flat = torch.stack([zero if t is None else t for t in traces.values()])
        flat = group.sum(flat)  # each process's part of the mean over the same points
        return dict(zip(traces, flat.unbind()))
