"""Hard constraints: Dirichlet and initial conditions built into the network's output.

A field with hard conditions is `u = g + phi * N`: N the network's output, phi an
approximate distance function of the constrained part (`pinn.distances`: zero there,
positive in the domain) and g the condition's value, which must be defined on the whole
domain. Several parts on one field are joined by transfinite interpolation (Sukumar &
Srivastava 2022): phi = 1 / sum(1 / phi_i) and g = sum(w_i g_i), w_i proportional to
1 / phi_i, both written with products of the other parts' distances, each kept off zero by
`pinn.distances.floor`, so that they stay finite on a part and where two parts meet (there g
is the mean of their values).
"""

from __future__ import annotations

import numpy as np
import torch

from .distances import floor, r_and
from .domain import Box
from .errors import BadValue
from .pointsets import _check_where, _fields_of, _target

STRICT = 1e-7  # how far inside (relative to the domain's size) counts as the interior


class Constraint:
    """The output transform `(x, u) -> u` of a problem's hard conditions."""

    def __init__(self, problem, conditions):
        self.fields, self.parts = problem.fields, {}
        x = torch.as_tensor(problem.domain.grid(64), dtype=torch.float64)
        for c in conditions:
            name, fields = c.name or c.kind, _fields_of(problem, c)
            _target(c.value, len(fields), f"{name} (hard)")(x)  # shape and finiteness, once
            phi = carrier(problem.domain, c)
            for k, field in enumerate(fields):
                column = _column(c.value, k)
                self.parts.setdefault(problem.fields.index(field), []).append((phi, column))

    def distance(self, x: torch.Tensor) -> torch.Tensor:
        """phi at `x`, one column per field (1 for a field without hard conditions)."""
        ones = x.new_ones(len(x), 1)
        return torch.cat(
            [self._joined(x, j)[0] if j in self.parts else ones for j in range(len(self.fields))],
            dim=1,
        )

    def __call__(self, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        cols = []
        for j in range(u.shape[1]):
            if j in self.parts:
                phi, g = self._joined(x, j)
                cols.append(g + phi * u[:, j : j + 1])
            else:
                cols.append(u[:, j : j + 1])
        return torch.cat(cols, dim=1)

    def _joined(self, x, j):
        """(phi, g) of field `j`'s parts, (N, 1) each."""
        parts = self.parts[j]
        phis = torch.cat([phi(x) for phi, _ in parts], dim=1)
        phis = phis.clamp_min(floor(phis))
        gs = torch.cat([g(x) for _, g in parts], dim=1)
        if len(parts) == 1:
            return phis, gs
        others = torch.stack(  # the product of the other parts' distances: ~ 1 / phi_k
            [torch.cat([phis[:, :k], phis[:, k + 1 :]], 1).prod(1) for k in range(len(parts))],
            dim=1,
        )
        total = others.sum(dim=1, keepdim=True)
        return phis.prod(1, keepdim=True) / total, (others * gs).sum(1, keepdim=True) / total


def _column(value, k: int):
    """Column `k` of a condition's value at (N, d) points, (N, 1), built on the points'
    device (a number becomes a filled tensor: no copy from the host each step)."""
    if not callable(value):
        return lambda x: x.new_full((len(x), 1), float(value))

    def column(x):
        v = torch.as_tensor(value(x), dtype=x.dtype, device=x.device)
        v = v.reshape(len(x), -1)
        return v[:, k : k + 1] if v.shape[1] > 1 else v

    return column


class Constrained:
    """A network's own output transform (if any) followed by a problem's hard constraints."""

    def __init__(self, constraint: Constraint, inner=None):
        self.constraint, self.inner = constraint, inner

    def __call__(self, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return self.constraint(x, u if self.inner is None else self.inner(x, u))


def check_built_in(problem, transform) -> None:
    """A ValueError if `problem` has hard conditions that the network's output `transform`
    does not build in (a network made without the problem's constraint)."""
    constraint = getattr(problem, "constraint", None)
    if constraint is None:
        return
    if not (isinstance(transform, Constrained) and transform.constraint is constraint):
        raise BadValue(
            "this problem has hard conditions (hard=True) that the network does not build in: "
            "make it with pinn.MLP(problem, ...) or pinn.make_net(problem, ...); a network "
            "class of your own takes output_transform=pinn.constraints.Constrained("
            "problem.constraint)"
        )


def build(problem) -> Constraint | None:
    """The constraint of a problem's hard conditions, or None when it has none."""
    hard = [c for c in problem.conditions if c.options.get("hard")]
    return Constraint(problem, hard) if hard else None


def domain_distance(domain, x: torch.Tensor) -> torch.Tensor:
    """The distance function of the whole spatial boundary of `domain`, (N, 1) (a domain
    without one is refused by `carrier`)."""
    phi, start = None, 0
    for f in domain.factors:
        if f.time is None:
            own = f.adf(x[:, start : start + f.dim])
            phi = own if phi is None else r_and(phi, own)
        start += f.dim
    return phi.unsqueeze(1)


def carrier(domain, c):
    """phi(x) -> (N, 1) for the hard condition `c`: zero on the part it constrains, positive
    in the domain; a ValueError for a part it cannot describe."""
    _check_where(domain, c)
    if c.kind == "initial":
        if domain.time is None:
            raise BadValue(f"initial: domain {domain!r} has no Time factor, so no initial slice")
        j = domain.names.index(domain.time)
        t0 = float(domain.lo[j])
        return lambda x: x[:, j : j + 1] - t0
    part = ("all",) if c.on is None else getattr(c.on, "part", None)
    if part is None or part[0] not in ("all", "coords", "of"):
        raise BadValue(
            f"{c.kind}: hard=True takes on= as the whole boundary (None), "
            "domain.boundary('x', ...) of boxes or domain.boundary(of=shape); for a part a "
            "predicate or given points choose, use a soft condition"
        )
    if part[0] == "all":
        if all(f.time is not None for f in domain.factors):
            raise BadValue(f"{c.kind}: domain {domain!r} has no spatial boundary to build in")
        return lambda x: domain_distance(domain, x)
    if part[0] == "of":
        shape = part[1]
        _check_carrier(domain, shape)
        cols = [domain.names.index(n) for n in shape.names]
        return lambda x: shape.adf(x[:, cols]).abs().unsqueeze(1)
    return _faces(domain, part[1], c.kind)


def _faces(domain, coords, kind):
    """phi of the faces of the box factors where one of `coords` is fixed."""
    faces, start = [], 0
    for f in domain.factors:
        if f.time is None and any(n in coords for n in f.names):
            if not isinstance(f, Box):
                raise BadValue(
                    f"{kind}: hard=True on domain.boundary({coords}) needs box factors; for "
                    f"{f!r} write domain.boundary(of=shape) with the shape whose boundary it is"
                )
            for j, name in enumerate(f.names):
                if name in coords:
                    col = start + j
                    faces += [(col, float(f.lo[j]), 1.0), (col, float(f.hi[j]), -1.0)]
        start += f.dim

    def phi(x):
        inverse = sum(
            1 / (s * (x[:, col : col + 1] - v)).clamp_min(floor(x)) for col, v, s in faces
        )
        return 1 / inverse

    return phi


def _check_carrier(domain, shape) -> None:
    """A ValueError if `shape`'s boundary, where phi vanishes, runs through the interior."""
    pts = shape.boundary().sample(4096, "halton", 0)[0]
    full = np.tile((domain.lo + domain.hi) / 2, (len(pts), 1))
    full[:, [domain.names.index(n) for n in shape.names]] = pts
    inside = domain.contains(full, tol=-STRICT * float(np.max(domain.hi - domain.lo)))
    if inside.any():
        raise BadValue(
            f"hard=True on the boundary of {shape!r}: part of that boundary runs through the "
            f"interior of {domain!r} (e.g. {full[inside][0].tolist()}), where u would be "
            "pinned too; use a soft condition there"
        )
