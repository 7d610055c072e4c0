"""The Jacobian of a problem's residual vector in the network's parameters (and unknowns).

The residual vector stacks every term's rows, each scaled by sqrt(weight / (rows x columns)),
so that its squared norm is the loss of `pinn.FixedWeights` (sum of weight * mean(r**2)); in
a data-parallel run a process holds its share of the rows, scaled by the whole batch's count.
A point's residual rows depend on that point alone, so the Jacobian is computed point by point:
`torch.func.jacrev` of one point's residual (through the Taylor pass, which needs no autograd
inside) vectorised over the points with `torch.func.vmap`, in chunks of points so that memory
stays bounded. This costs about one backward pass per residual column, where reverse mode over
the stacked vector would cost one per row. Gauss-Newton and Levenberg-Marquardt steps use it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch.func import functional_call, jacrev, vmap

from . import engines
from .errors import BadValue
from .fields import Fields
from .pointsets import Points
from .residuals import terms


def unsupported(net) -> str | None:
    """Why the Jacobian cannot be taken through `net` (None: it can)."""
    why = engines.unsupported(net)
    if why is None and engines.output_transform(net) is not None:
        why = "its output transform runs nested reverse mode, which torch.func cannot take"
    return why


class _SetResidual(torch.nn.Module):
    """One point's (or one periodic pair's) residual rows of every term of a point set, as a
    module holding the network and the unknowns, so that `functional_call` can swap their
    parameters for the ones to differentiate in."""

    def __init__(self, problem, s, net, unknowns):
        super().__init__()
        self.problem, self.s, self.net, self.unknowns = problem, s, net, unknowns

    def forward(self, x, normals, target):
        u, known = engines.taylor(self.net, x, self.problem.derivatives[self.s.name])
        f = Fields(x, u, self.problem.coords, self.problem.fields, known)
        out = terms(self.s, f, Points(x, normals, target, self.s.paired), self.unknowns.view())
        return tuple(res.r.reshape(-1) for res in out.values())


def blocks(problem, net, unknowns, batch, chunk: int | None = None) -> Iterator:
    """(term, r, J) blocks of the scaled residual vector at `batch` and its Jacobian (rows: the
    block's residual values; columns: the parameters of `net`, then of `unknowns`, in their
    `parameters()` order), `chunk` points at a time (None: sized to about 64 MB a block)."""
    why = unsupported(net)
    if why is not None:
        raise BadValue(f"the residual Jacobian needs the network's Taylor pass, but {why}")
    for s in problem.sets:
        module = _SetResidual(problem, s, net, unknowns)
        theta = {k: v.detach() for k, v in module.named_parameters()}
        n = sum(v.numel() for v in theta.values())
        pts = batch[s.name]
        rows = 2 if pts.paired else 1
        per = [_pair(t, len(pts), rows) for t in (pts.x, pts.normals, pts.target)]
        dims = tuple(None if t is None else 0 for t in per)

        def one(th, x, normals, target, module=module):
            out = functional_call(module, th, (x, normals, target))
            return out, out

        jac = vmap(jacrev(one, has_aux=True), in_dims=(None, *dims))
        step = chunk or max(1, (64 << 20) // (8 * n * max(1, len(s.terms)) * rows))
        total = pts.total or len(pts)
        for start in range(0, len(pts), step):
            part = [None if t is None else t[start : start + step] for t in per]
            js, rs = jac(theta, *part)
            for term, j, r in zip(s.terms, js, rs):
                scale = math.sqrt(term.weight / (total * r.shape[1]))
                flat = torch.cat([v.reshape(v.shape[0], v.shape[1], -1) for v in j.values()], 2)
                yield term.name, scale * r.reshape(-1), scale * flat.reshape(-1, n)


def _pair(t: torch.Tensor | None, n: int, rows: int):
    """Rows of a point set as (n, rows, ...): a periodic pair's two rows together."""
    if t is None:
        return None
    return torch.stack([t[:n], t[n:]], 1) if rows == 2 else t.unsqueeze(1)


def jacobian(problem, net, unknowns, batch) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole scaled residual vector r and its Jacobian J (rows by parameters)."""
    parts = list(blocks(problem, net, unknowns, batch))
    return torch.cat([r for _, r, _ in parts]), torch.cat([j for _, _, j in parts])
