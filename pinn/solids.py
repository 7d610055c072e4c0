"""Constructive solid geometry: `a - b`, `a | b`, `a & b` of shapes of the same coordinates,
nested to any depth.

Interior points are candidates of `a` (or of the bounding box of a union) kept where the
solid's signed distance is negative. The boundary is made of the pieces of both operands
(the subtracted one's normals turned round), keeping a point where a small step inward stays
in the solid and a small step outward leaves it; where the two boundaries coincide, `a`'s
piece holds the points.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from . import distances
from .domain import Box, Domain
from .errors import BadValue
from .samplers import unit_samples
from .subsets import Piece

SYMBOLS = {"difference": "-", "union": "|", "intersection": "&"}
STEP = 1e-6  # the step in and out, relative to the solid's size
TOL = 1e-9  # what counts as on a boundary, relative to the solid's size


class Solid(Domain):
    """`a - b` (difference), `a | b` (union) or `a & b` (intersection) of two shapes."""

    def __init__(self, op: str, a: Domain, b: Domain):
        for s in (a, b):
            if len(s.factors) != 1 or s.time is not None:
                raise BadValue(
                    f"{SYMBOLS[op]} combines shapes, not products such as {s!r}: combine "
                    f"the spatial shapes first, then multiply by the Time"
                )
        if a.names != b.names:
            raise BadValue(
                f"{SYMBOLS[op]} needs shapes of the same coordinates, got {a.names} and {b.names}"
            )
        self.op, self.a, self.b, self.names = op, a, b, a.names
        if op == "union":
            self.lo, self.hi = np.minimum(a.lo, b.lo), np.maximum(a.hi, b.hi)
        elif op == "intersection":
            self.lo, self.hi = np.maximum(a.lo, b.lo), np.minimum(a.hi, b.hi)
        else:
            self.lo, self.hi = a.lo, a.hi
        if np.any(self.lo >= self.hi):
            raise BadValue(f"{self!r} is empty")
        self.scale = float(np.max(self.hi - self.lo))
        if self._own_volume() <= 0:
            raise BadValue(f"{self!r} is empty")

    def _describe(self) -> str:
        return f"({self.a!r} {SYMBOLS[self.op]} {self.b!r})"

    @functools.cached_property
    def _base(self) -> Domain:
        """Where interior candidates come from: `a`, or the bounding box of a union."""
        return Box(self.lo, self.hi, self.names) if self.op == "union" else self.a

    def sdf(self, x):
        sa, sb = self.a.sdf(x), self.b.sdf(x)
        if self.op == "difference":
            return np.maximum(sa, -sb)
        return np.minimum(sa, sb) if self.op == "union" else np.maximum(sa, sb)

    def adf(self, x):
        fa, fb = self.a.adf(x), self.b.adf(x)
        if self.op == "difference":
            return distances.r_and(fa, -fb)
        return distances.r_or(fa, fb) if self.op == "union" else distances.r_and(fa, fb)

    def _own_contains(self, x, tol):
        """Points within `tol` of the closure of the interior: not the edges a difference
        leaves where two boundaries meet with nothing of the solid beside them (the sides of
        the removed square that the L-shape's outline shares with it), which have no interior
        point among their neighbours a step away."""
        s = self.sdf(x)
        mask = s <= tol
        edge = mask & (s > -tol)
        if tol <= 0 or not edge.any():
            return mask
        step, near = 2 * tol + TOL * self.scale, np.zeros(int(edge.sum()), dtype=bool)
        for offset in itertools.product((-1.0, 0.0, 1.0), repeat=self.dim):
            if any(offset):
                near |= self.sdf(x[edge] + step * np.asarray(offset)) < 0
        mask[edge] = near
        return mask

    def _own_interior(self, u):
        return self._base._own_interior(u)

    def _candidate_volume(self):
        return self._base._candidate_volume()

    _exact = False

    def _own_keep(self, x):
        return self.sdf(x) < 0

    @functools.cached_property
    def _volume(self) -> tuple[float, float]:
        """The volume and its standard error, from the share of candidates kept in 16
        independent scrambled Sobol sets of 2^14 points."""
        rng = np.random.default_rng(0)
        shares = [
            np.mean(self._own_keep(self._own_interior(unit_samples(2**14, self.dim, "sobol", rng))))
            for _ in range(16)
        ]
        v = self._candidate_volume()
        return v * float(np.mean(shares)), v * float(np.std(shares, ddof=1)) / 4

    def _own_volume(self):
        return self._volume[0]

    def _own_volume_error(self):
        return self._volume[1]

    def _own_boundary(self, coords):
        edge = self._on_edge
        own = [p.where(edge) for p in self.a._own_boundary(coords)]
        flip = self.op == "difference"
        other = [
            (_turned(p) if flip else p).where(edge).where(self._not_held_by_a)
            for p in self.b._own_boundary(coords)
        ]
        return own + other

    def _not_held_by_a(self, x, normals):
        """Whether `a`'s boundary does not hold the point with the same outward normal (where
        it does, `a`'s piece has it already)."""
        step = STEP * self.scale * normals
        on = np.abs(self.a.sdf(x)) <= TOL * self.scale
        return ~(on & (self.a.sdf(x - step) < 0) & (self.a.sdf(x + step) > 0))

    def _on_edge(self, x, normals):
        """Whether the point is on the solid's boundary, a step inward staying in the solid
        and a step outward leaving it."""
        step = STEP * self.scale * normals
        on = np.abs(self.sdf(x)) <= TOL * self.scale
        return on & (self.sdf(x - step) < 0) & (self.sdf(x + step) > 0)


def _turned(piece: Piece) -> Piece:
    """The piece with its normals turned round (the boundary of a hole faces into it)."""

    def turned(u):
        x, n = piece.map(u)
        return x, -n

    keep = piece.keep
    flipped = None if keep is None else lambda x, n: keep(x, -n)
    return Piece(piece.measure, piece.k, turned, flipped)
