"""The residuals part of the training step: a network evaluated on a problem's points gives
one residual vector per loss term.

`evaluate(problem, net, batch, unknowns, engine)` runs the derivative engine once over the
point sets (`engines.evaluate`), hands each set's fields to its terms, and returns a
`Residual` per term: the (N, k) residual rows, the term's declared weight and the points.
A weighting (`pinn.FixedWeights`, ...) turns them into the loss; `mean_squares` is the
plain `weight * mean(r**2)` that `Problem.losses` and `FixedWeights` share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from . import engines
from .errors import BadType, BadValue
from .fields import Fields, Params
from .pointsets import Points


@dataclass(frozen=True)
class Residual:
    """One loss term's residual at its points.

    `r` holds one row per point; `pointwise=True` marks values that are already per-point
    losses (a supervised cross-entropy) rather than residuals to be squared. In a
    data-parallel run `r` holds one process's share of the rows, and `total` the rows of the
    whole batch, so that means over the batch (`mean`) are summed over the processes.
    """

    r: torch.Tensor
    weight: float
    x: torch.Tensor
    pointwise: bool = False
    total: int | None = None  # rows of the batch over all processes; None: these rows
    rows: torch.Tensor | None = None  # the rows' indices in the set's points; None: all

    def losses(self) -> torch.Tensor:
        """The per-point losses: r**2 (or r itself when already pointwise)."""
        return self.r if self.pointwise else self.r.square()

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """The mean over the batch's points (and columns) of per-point `values` (rows as `r`):
        in a data-parallel run this process's part of it, the sum of its rows over the whole
        batch's count, so that the processes' parts add up to the mean. A weighting reduces
        through it to stay right on any number of processes."""
        if self.total is None:
            return values.mean()
        return values.sum() / (self.total * math.prod(values.shape[1:]))

    def mean_square(self) -> torch.Tensor:
        """mean(r**2) over points and columns: the unweighted loss of the term."""
        return self.mean(self.losses())


def mean_squares(residuals: dict[str, Residual]) -> dict[str, torch.Tensor]:
    """`weight * mean(r**2)` of every term, by name."""
    return {name: res.weight * res.mean_square() for name, res in residuals.items()}


def evaluate(problem, net, batch, unknowns=None, engine=None, sets=None) -> dict[str, Residual]:
    """The residual of every term of `problem` (of its point sets `sets`; None: all) for `net`
    on `batch`, by term name.

    `engine(net, x, keys) -> (u, {key: derivative})` precomputes the derivatives that the
    residuals read (found by the problem's probe at construction); None: nested reverse mode.
    """
    sets = problem.sets if sets is None else sets
    p = unknowns.view() if unknowns is not None else Params({})
    xs = [batch[s.name].x.detach().requires_grad_(True) for s in sets]
    if engine is None:
        evaluated = [(net(x), {}) for x in xs]
    else:
        parts = [(x, problem.derivatives[s.name]) for s, x in zip(sets, xs)]
        evaluated = engines.evaluate(engine, net, parts)
    out = {}
    for s, x, (u, known) in zip(sets, xs, evaluated):
        f = Fields(x, u, problem.coords, problem.fields, known)
        out.update(terms(s, f, batch[s.name], p))
    return out


def terms(s, f: Fields, pts, p: Params) -> dict[str, Residual]:
    """The residual of each term of point set `s`, given its fields `f`."""
    x = f.points.detach()
    x = x[: len(pts)] if pts.paired else x  # periodic sets: the rows of the low face
    return {
        t.name: Residual(
            as_residual(t.residual(f, p, pts), len(pts), t.name),
            t.weight,
            x,
            total=pts.total,
            rows=pts.rows,
        )
        for t in s.terms
    }


def as_residual(r, n: int, name: str) -> torch.Tensor:
    """A residual function's value as (n, k) rows; a clear error for any other shape."""
    if isinstance(r, (list, tuple)):
        return torch.cat([as_residual(x, n, name) for x in r], dim=1)
    if not torch.is_tensor(r):
        raise BadType(
            f"residual {name!r} returned {type(r).__name__}; expected a tensor "
            f"with one value per point, shape ({n},) or ({n}, 1)"
        )
    if r.ndim == 1:
        r = r.unsqueeze(1)
    if r.ndim != 2 or r.shape[0] != n:
        raise BadValue(
            f"residual {name!r} returned shape {tuple(r.shape)} for {n} points; "
            f"expected ({n},) or ({n}, k): one value per point (no .mean() or sum)"
        )
    return r


def magnitudes(problem, net, x, unknowns=None, engine=None, chunk: int = 4096) -> torch.Tensor:
    """The squared residual of the PDE at points `x` (N, d), summed over its terms and
    columns: (N,), detached, evaluated `chunk` points at a time so memory stays bounded (for
    adaptive sampling: `pinn.RAD`, `pinn.RAR`, `pinn.R3`)."""
    pde = tuple(s for s in problem.sets if s.name == "pde")
    out = []
    with torch.enable_grad():  # nested reverse mode differentiates in the points
        for part in x.detach().split(chunk):
            res = evaluate(problem, net, {"pde": Points(part)}, unknowns, engine, sets=pde)
            out.append(sum(r.losses().detach().sum(1) for r in res.values()))
    return torch.cat(out)
