"""Parts of a domain's boundary (or initial slice): pieces that map the unit cube onto points
with their outward normals, and the subsets that sample them by measure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .samplers import UnitStream, accepted, allocate, check_count, unit_samples

if TYPE_CHECKING:
    from .domain import Domain


@dataclass(frozen=True)
class Piece:
    """A part of a boundary (or slice): a map from [0,1)^k to points and outward normals,
    the measure of what it covers, and `keep(points, normals)`, a mask of the mapped points
    that belong to the part (None: all; a hole's edge, say, keeps what lies inside the outer
    shape)."""

    measure: float
    k: int
    map: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    keep: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    def where(self, keep: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Piece:
        """The part of this piece that `keep(points, normals)` also accepts."""
        own = self.keep
        both = keep if own is None else lambda x, n: own(x, n) & keep(x, n)
        return Piece(self.measure, self.k, self.map, both)


class Subset:
    """A boundary or initial slice of a domain: samples points with their outward normals.

    `part` says which, for distance functions (`pinn.distances`): ("all",), ("coords",
    names), ("of", shape), ("initial",), or None for a part a predicate chose."""

    def __init__(self, domain: Domain, pieces: tuple[Piece, ...], label: str, part=None):
        self.domain, self.pieces, self.label, self.part = domain, pieces, label, part

    def __repr__(self):
        return f"{self.domain!r}.{self.label}"

    def where(self, keep: Callable, label: str | None = None, check=False, part=None) -> Subset:
        """The part of this subset whose points `keep` (a mask of (N, dim) points) accepts
        (`part` as in the class docstring); `check`: a ValueError now if it holds no point."""
        pieces = tuple(p.where(lambda x, n: keep(x)) for p in self.pieces)
        subset = Subset(self.domain, pieces, label or self.label, part)
        if check:
            subset.sample(1, "uniform", 0)
        return subset

    @property
    def measure(self) -> float:
        """The measure: exact where every point of the pieces belongs, else estimated from
        the share of 2^16 quasi-random candidates kept."""
        if all(p.keep is None for p in self.pieces):
            return sum(p.measure for p in self.pieces)
        rng = np.random.default_rng(0)
        total = 0.0
        for p in self.pieces:
            kept = _kept_by(p, *p.map(unit_samples(2**16, p.k, "sobol", rng)))
            total += p.measure * float(np.mean(kept))
        return total

    def sample(self, n: int, method: str = "halton", rng=None) -> tuple[np.ndarray, np.ndarray]:
        """`n` points spread over the pieces by measure, and the unit outward normals there."""
        check_count(n)
        rng = np.random.default_rng(rng)
        if any(p.keep is not None for p in self.pieces):
            return self._kept(n, method, rng)
        pts, nrm = [], []
        for piece, m in zip(self.pieces, allocate(n, [p.measure for p in self.pieces])):
            if m:
                p, nn = piece.map(unit_samples(m, piece.k, method, rng))
                pts.append(p)
                nrm.append(nn)
        return np.concatenate(pts), np.concatenate(nrm)

    def _kept(self, n, method, rng):
        """`sample` when pieces keep part of what they map: candidates on every piece in
        proportion to its mapped measure, the kept ones, then `n` of them at random, so each
        part's share follows its measure."""
        streams = [UnitStream(p.k, method, rng) for p in self.pieces]
        share = np.array([p.measure for p in self.pieces]) / sum(p.measure for p in self.pieces)

        def draw(m):
            parts = [
                piece.map(stream.draw(c))
                for piece, stream, c in zip(self.pieces, streams, rng.multinomial(m, share))
            ]
            x, nrm = (np.concatenate(cols) for cols in zip(*parts))
            mask = np.concatenate([_kept_by(p, *part) for p, part in zip(self.pieces, parts)])
            return mask, x, nrm

        x, nrm = accepted(n, draw, f"{self!r}")
        rows = np.sort(rng.choice(len(x), n, replace=False))
        return x[rows], nrm[rows]


def _kept_by(piece: Piece, x: np.ndarray, normals: np.ndarray) -> np.ndarray:
    return np.ones(len(x), dtype=bool) if piece.keep is None else piece.keep(x, normals)
