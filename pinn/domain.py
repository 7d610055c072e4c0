"""Domains with named coordinates: interior, boundary and initial-slice sampling, grids.

Every domain maps the unit cube onto its interior and onto each piece of its boundary, so
one set of samplers (uniform, Sobol, Halton, Latin hypercube from `scipy.stats.qmc`) serves
all shapes and their products. Points are float64 numpy arrays; the trainer converts them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from .errors import BadValue

METHODS = ("uniform", "sobol", "halton", "lhs")


def unit_samples(n: int, k: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """`n` points in the unit cube [0, 1)^k drawn by `method`."""
    if method not in METHODS:
        raise BadValue(f"unknown sampling method {method!r}; valid: {', '.join(METHODS)}")
    if k == 0 or n == 0:
        return np.zeros((n, k))
    if method == "uniform":
        return rng.random((n, k))
    engine = {"sobol": qmc.Sobol, "halton": qmc.Halton, "lhs": qmc.LatinHypercube}[method]
    with warnings.catch_warnings():  # Sobol's balance warning for n not a power of two
        warnings.simplefilter("ignore", UserWarning)
        return engine(k, rng=rng).random(n)


@dataclass(frozen=True)
class Piece:
    """A part of a boundary (or slice): its measure and a map from [0,1)^k to points, normals."""

    measure: float
    k: int
    map: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _allocate(n: int, weights: Sequence[float]) -> list[int]:
    """Split `n` into integer counts proportional to `weights` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    exact = n * w / w.sum()
    counts = np.floor(exact).astype(int)
    for i in np.argsort(counts - exact)[: n - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def _check_count(n, what="n"):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise BadValue(f"{what} must be a positive integer, got {n!r}")


def _floats(value, what: str) -> np.ndarray:
    """`value` (a number or a sequence of them) as floats; ValueError naming it otherwise."""
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise BadValue(f"{what} must be a number or a sequence of numbers, got {value!r}")
    return array.astype(float)


def _check_name(name):
    if not isinstance(name, str) or not name.isidentifier():
        raise BadValue(f"coordinate name must be an identifier such as 'x', got {name!r}")


class Domain:
    """A region of R^d with named coordinates. Subclasses define the maps from the unit cube."""

    names: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray

    @property
    def dim(self) -> int:
        return len(self.names)

    @property
    def factors(self) -> tuple[Domain, ...]:
        return (self,)

    @property
    def time(self) -> str | None:
        """The name of the time coordinate, if the domain has a `Time` factor."""
        return next((f.names[0] for f in self.factors if isinstance(f, Time)), None)

    def __mul__(self, other: Domain) -> Product:
        if not isinstance(other, Domain):
            return NotImplemented
        return Product(self.factors + other.factors)

    def __repr__(self) -> str:
        return " * ".join(_describe(f) for f in self.factors)

    # -- sampling ---------------------------------------------------------------------------
    def sample(self, n: int, method: str = "halton", rng=None) -> np.ndarray:
        """`n` points of the interior, shape (n, dim)."""
        _check_count(n)
        rng = np.random.default_rng(rng)
        return self._interior_map(unit_samples(n, self.dim, method, rng))

    def _interior_map(self, u: np.ndarray) -> np.ndarray:
        cols, i = [], 0
        for f in self.factors:
            cols.append(f._own_interior(u[:, i : i + f.dim]))
            i += f.dim
        return np.concatenate(cols, axis=1)

    @property
    def volume(self) -> float:
        return math.prod(f._own_volume() for f in self.factors)

    def contains(self, x: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Boolean mask of the rows of `x` (N, dim) that lie in the closed domain."""
        x = np.asarray(x, dtype=float)
        mask, i = np.ones(len(x), dtype=bool), 0
        for f in self.factors:
            mask &= f._own_contains(x[:, i : i + f.dim], tol)
            i += f.dim
        return mask

    def grid(self, n: int = 10_000) -> np.ndarray:
        """A regular grid of about `n` points covering the domain (for evaluation and plots)."""
        _check_count(n)
        m = max(2, round(n ** (1 / self.dim)))
        axes = [np.linspace(a, b, m) for a, b in zip(self.lo, self.hi)]
        pts = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
        return pts[self.contains(pts)]

    # -- boundary and initial slice --------------------------------------------------------
    def boundary(self, *coords: str) -> Subset:
        """The spatial boundary: all faces, or only those where one of `coords` is fixed."""
        for c in coords:
            if c not in self.names:
                raise BadValue(f"unknown coordinate {c!r}; this domain has {self.names}")
            if c == self.time:
                raise BadValue(
                    f"{c!r} is the time coordinate; use domain.initial() for t = t0, "
                    f"or pass a coordinate of {tuple(n for n in self.names if n != c)}"
                )
        pieces = []
        for i, f in enumerate(self.factors):
            if isinstance(f, Time):
                continue
            own = f._own_boundary(set(coords) if coords else None)
            pieces += [self._embed(i, p) for p in own]
        if not pieces:
            raise BadValue(f"domain {self!r} has no spatial boundary")
        label = f"boundary({', '.join(map(repr, coords))})"
        return Subset(self, tuple(pieces), label)

    def initial(self) -> Subset:
        """The slice t = t0 of a time-dependent domain (a single point for a pure `Time`)."""
        for i, f in enumerate(self.factors):
            if isinstance(f, Time):
                start = Piece(1.0, 0, lambda u, f=f: _point(len(u), [f.lo[0]], [-1.0]))
                return Subset(self, (self._embed(i, start),), "initial()")
        raise BadValue(f"domain {self!r} has no Time factor, so it has no initial slice")

    def _embed(self, index: int, piece: Piece) -> Piece:
        """A piece of factor `index`'s boundary times the interiors of the other factors."""
        others = [f for j, f in enumerate(self.factors) if j != index]
        k = piece.k + sum(f.dim for f in others)
        measure = piece.measure * math.prod(f._own_volume() for f in others)

        def embedded(u):
            pts, nrm, col = [], [], piece.k
            for j, f in enumerate(self.factors):
                if j == index:
                    p, nn = piece.map(u[:, : piece.k])
                else:
                    p = f._own_interior(u[:, col : col + f.dim])
                    nn = np.zeros_like(p)
                    col += f.dim
                pts.append(p)
                nrm.append(nn)
            return np.concatenate(pts, axis=1), np.concatenate(nrm, axis=1)

        return Piece(measure, k, embedded)


def _point(n, value, normal):
    return np.tile(np.asarray(value, float), (n, 1)), np.tile(np.asarray(normal, float), (n, 1))


def _describe(f: Domain) -> str:
    if isinstance(f, Time):
        return f"Time({f.lo[0]}, {f.hi[0]})"
    if isinstance(f, Interval):
        return f"Interval({f.names[0]!r}, {f.lo[0]}, {f.hi[0]})"
    if isinstance(f, Disk):
        return f"Disk({tuple(f.center)}, {f.radius}, names={f.names})"
    return f"Box({tuple(f.lo)}, {tuple(f.hi)}, names={f.names})"


class Box(Domain):
    """An axis-aligned box [lo, hi] in any dimension, e.g. `Box((0, 0, 0), (1, 1, 1))`.

    `lo` and `hi` are the corners (equal lengths, lo < hi); `names` the coordinates (default
    x, y, z, or x0, x1, ... beyond three).
    """

    def __init__(
        self, lo: Sequence[float], hi: Sequence[float], names: Sequence[str] | None = None
    ):
        lo, hi = np.atleast_1d(_floats(lo, "lo")), np.atleast_1d(_floats(hi, "hi"))
        if lo.ndim != 1 or lo.shape != hi.shape or len(lo) == 0:
            raise BadValue(f"lo and hi must be sequences of equal length, got {lo} and {hi}")
        if names is None:
            names = (
                ("x", "y", "z")[: len(lo)] if len(lo) <= 3 else [f"x{i}" for i in range(len(lo))]
            )
        names = tuple(names)
        if len(names) != len(lo):
            raise BadValue(f"{len(lo)} bounds but {len(names)} names {names}")
        for name in names:
            _check_name(name)
        if len(set(names)) != len(names):
            raise BadValue(f"coordinate names must be distinct, got {names}")
        for name, a, b in zip(names, lo, hi):
            if not (np.isfinite(a) and np.isfinite(b)) or a >= b:
                raise BadValue(f"coordinate {name!r}: need finite lo < hi, got lo={a}, hi={b}")
        self.names, self.lo, self.hi = names, lo, hi

    def _own_volume(self):
        return float(np.prod(self.hi - self.lo))

    def _own_interior(self, u):
        return self.lo + u * (self.hi - self.lo)

    def _own_contains(self, x, tol):
        return np.all((x >= self.lo - tol) & (x <= self.hi + tol), axis=1)

    def _own_boundary(self, coords):
        pieces = []
        d, side = self.dim, self.hi - self.lo
        for j, name in enumerate(self.names):
            if coords is not None and name not in coords:
                continue
            rest = [i for i in range(d) if i != j]
            for value, sign in ((self.lo[j], -1.0), (self.hi[j], 1.0)):

                def face(u, j=j, value=value, sign=sign, rest=rest):
                    p = np.empty((len(u), d))
                    p[:, rest] = self.lo[rest] + u * side[rest]
                    p[:, j] = value
                    nrm = np.zeros((len(u), d))
                    nrm[:, j] = sign
                    return p, nrm

                pieces.append(Piece(float(np.prod(side[rest])), d - 1, face))
        return pieces


class Interval(Box):
    """A 1-d interval [lo, hi] of the coordinate `name`."""

    def __init__(self, name: str, lo: float, hi: float):
        _check_name(name)
        super().__init__([lo], [hi], [name])


class Time(Interval):
    """The time interval [lo, hi] of the coordinate `name` (default "t"); its lower end is the
    initial slice of a product domain (`pinn.initial`)."""

    def __init__(self, lo: float, hi: float, name: str = "t"):
        super().__init__(name, lo, hi)


class Rectangle(Box):
    """An axis-aligned rectangle, e.g. `Rectangle((0, 0), (1, 1), names=("x", "y"))`: `lo`
    and `hi` are its 2-d corners, `names` its two coordinates (default x, y)."""

    def __init__(self, lo, hi, names: Sequence[str] = ("x", "y")):
        if len(np.atleast_1d(lo)) != 2 or len(np.atleast_1d(hi)) != 2:
            raise BadValue(f"Rectangle needs 2-d corners, got lo={lo}, hi={hi}; use Box for others")
        super().__init__(lo, hi, names)


class Disk(Domain):
    """The disk of `radius` (default 1) around `center` (default the origin) in the plane of
    the two coordinates `names` (default x, y)."""

    def __init__(self, center=(0.0, 0.0), radius: float = 1.0, names: Sequence[str] = ("x", "y")):
        center = _floats(center, "Disk center")
        names = tuple(names)
        if center.shape != (2,) or len(names) != 2:
            raise BadValue(f"Disk needs a 2-d center and 2 names, got {center}, {names}")
        if not np.isfinite(center).all():
            raise BadValue(f"Disk center must be finite, got {center.tolist()}")
        for name in names:
            _check_name(name)
        number = isinstance(radius, (int, float, np.number)) and not isinstance(radius, bool)
        if not (number and np.isfinite(radius) and radius > 0):
            raise BadValue(f"Disk radius must be a positive number, got {radius!r}")
        self.names, self.center, self.radius = names, center, float(radius)
        self.lo, self.hi = center - radius, center + radius

    def _own_volume(self):
        return math.pi * self.radius**2

    def _own_interior(self, u):
        r, th = self.radius * np.sqrt(u[:, 0]), 2 * math.pi * u[:, 1]
        return self.center + np.stack([r * np.cos(th), r * np.sin(th)], axis=1)

    def _own_contains(self, x, tol):
        return np.linalg.norm(x - self.center, axis=1) <= self.radius + tol

    def _own_boundary(self, coords):
        def circle(u):
            nrm = np.stack([np.cos(2 * math.pi * u[:, 0]), np.sin(2 * math.pi * u[:, 0])], axis=1)
            return self.center + self.radius * nrm, nrm

        return [Piece(2 * math.pi * self.radius, 1, circle)]


class Product(Domain):
    """The Cartesian product of the domains `factors`, written `a * b`; coordinates keep their
    order and must be distinct."""

    def __init__(self, factors: Sequence[Domain]):
        self._factors = tuple(factors)
        names = tuple(n for f in self._factors for n in f.names)
        if len(set(names)) != len(names):
            raise BadValue(f"coordinate names must be distinct across factors, got {names}")
        if sum(isinstance(f, Time) for f in self._factors) > 1:
            raise BadValue("a domain can have at most one Time factor")
        self.names = names
        self.lo = np.concatenate([f.lo for f in self._factors])
        self.hi = np.concatenate([f.hi for f in self._factors])

    @property
    def factors(self):
        return self._factors


class Subset:
    """A boundary or initial slice of a domain: samples points with their outward normals."""

    def __init__(self, domain: Domain, pieces: tuple[Piece, ...], label: str):
        self.domain, self.pieces, self.label = domain, pieces, label

    def __repr__(self):
        return f"{self.domain!r}.{self.label}"

    @property
    def measure(self) -> float:
        return sum(p.measure for p in self.pieces)

    def sample(self, n: int, method: str = "halton", rng=None) -> tuple[np.ndarray, np.ndarray]:
        """`n` points spread over the pieces by measure, and the unit outward normals there."""
        _check_count(n)
        rng = np.random.default_rng(rng)
        pts, nrm = [], []
        for piece, m in zip(self.pieces, _allocate(n, [p.measure for p in self.pieces])):
            if m:
                p, nn = piece.map(unit_samples(m, piece.k, method, rng))
                pts.append(p)
                nrm.append(nn)
        return np.concatenate(pts), np.concatenate(nrm)
