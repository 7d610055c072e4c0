"""Domains with named coordinates: interior, boundary and initial-slice sampling, grids.

Every domain maps the unit cube onto its interior (or onto candidates that cover it) and onto
each piece of its boundary, so one set of samplers (`pinn.samplers`) serves all shapes and
their products. Points are float64 numpy arrays; the trainer converts them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from . import distances
from .errors import BadValue
from .samplers import UnitStream, accepted, check_count, check_name, floats
from .subsets import Piece, Subset


class Domain:
    """A region of R^d with named coordinates. Subclasses define the maps from the unit cube.

    Each factor maps the unit cube onto candidate points (`_own_interior`) that cover it; a
    factor whose candidates may fall outside it (a polygon, a ball in four dimensions, a
    constructive solid) says which to keep (`_own_keep`), and sampling draws until enough
    are kept.
    """

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

    def __sub__(self, other: Domain) -> Domain:
        return _solid("difference", self, other)

    def __or__(self, other: Domain) -> Domain:
        return _solid("union", self, other)

    def __and__(self, other: Domain) -> Domain:
        return _solid("intersection", self, other)

    def __repr__(self) -> str:
        return " * ".join(f._describe() for f in self.factors)

    # -- what each factor gives (primitives keep every candidate; see the class docstring) --
    @property
    def _exact(self) -> bool:
        """Whether `_own_interior` maps onto the factor itself (else `_own_keep` says which
        candidates belong)."""
        return True

    def _candidate_volume(self) -> float:
        return self._own_volume()

    def _own_volume_error(self) -> float:
        return 0.0

    def adf(self, x: torch.Tensor) -> torch.Tensor:
        """An approximate distance to the boundary of a shape at the rows of the tensor `x`:
        zero there, positive inside, with unit slope along smooth parts (`pinn.distances`)."""
        raise BadValue(f"{self!r} is a product; distance functions are defined for its factors")

    def sdf(self, x: np.ndarray) -> np.ndarray:
        """Signed distance to the boundary (negative inside) of a shape, at the rows of `x`;
        for constructive solids a bound whose sign is exact."""
        raise BadValue(f"{self!r} is a product; signed distances are defined for its factors")

    # -- sampling ---------------------------------------------------------------------------
    def sample(self, n: int, method: str = "halton", rng=None) -> np.ndarray:
        """`n` points of the interior, shape (n, dim)."""
        return self._sample(n, method, rng)

    def _sample(self, n, method, rng, where=None, what=None) -> np.ndarray:
        """`sample`, keeping only the points `where` accepts (a mask of (N, dim) points)."""
        check_count(n)
        stream = UnitStream(self.dim, method, np.random.default_rng(rng))
        keep = _both(self._keep, where)
        if keep is None:
            return self._interior_map(stream.draw(n))

        def draw(m):
            x = self._interior_map(stream.draw(m))
            return keep(x), x

        return accepted(n, draw, what or f"the interior of {self!r}")[0][:n]

    def _interior_map(self, u: np.ndarray) -> np.ndarray:
        cols, i = [], 0
        for f in self.factors:
            cols.append(f._own_interior(u[:, i : i + f.dim]))
            i += f.dim
        return np.concatenate(cols, axis=1)

    @property
    def _keep(self) -> Callable | None:
        """The mask of candidate points that lie in the domain; None if all do."""
        keeps = [(i, f) for i, f in zip(self._columns(), self.factors) if not f._exact]
        if not keeps:
            return None

        def keep(x):
            mask = np.ones(len(x), dtype=bool)
            for cols, f in keeps:
                mask &= f._own_keep(x[:, cols])
            return mask

        return keep

    def _columns(self) -> list[slice]:
        starts = np.cumsum([0] + [f.dim for f in self.factors])
        return [slice(a, b) for a, b in zip(starts[:-1], starts[1:])]

    @property
    def volume(self) -> float:
        """The volume (area, length): exact for boxes, balls and polygons, estimated by
        quasi-Monte Carlo for constructive solids (see `volume_error`)."""
        return math.prod(f._own_volume() for f in self.factors)

    @property
    def volume_error(self) -> float:
        """The standard error of `volume` (0 where it is exact)."""
        relative = sum(f._own_volume_error() / f._own_volume() for f in self.factors)
        return self.volume * relative

    def contains(self, x: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Boolean mask of the rows of `x` (N, dim) that lie in the closed domain."""
        x = np.asarray(x, dtype=float)
        mask = np.ones(len(x), dtype=bool)
        for cols, f in zip(self._columns(), self.factors):
            mask &= f._own_contains(x[:, cols], tol)
        return mask

    def grid(self, n: int = 10_000) -> np.ndarray:
        """A regular grid covering the domain, about `n` points of it (for evaluation, plots)."""
        check_count(n)
        fill = self.volume / float(np.prod(self.hi - self.lo))
        m = max(2, round((n / fill) ** (1 / self.dim)))
        axes = [np.linspace(a, b, m) for a, b in zip(self.lo, self.hi)]
        pts = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
        return pts[self.contains(pts)]

    # -- boundary and initial slice --------------------------------------------------------
    def boundary(self, *coords: str, of: Domain | None = None) -> Subset:
        """The spatial boundary with outward normals (into holes): all of it, only the faces
        where one of `coords` is fixed, and/or only the part on the boundary of `of`, a shape
        of some of this domain's coordinates (a hole, an operand of a constructive solid)."""
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
            held = f" holds one of {coords} fixed" if coords else " exists"
            raise BadValue(f"no spatial boundary piece of {self!r}{held}")
        label = ", ".join([repr(c) for c in coords] + ([f"of={of!r}"] if of is not None else []))
        part = ("coords", coords) if coords else ("all",)
        subset = Subset(self, tuple(pieces), f"boundary({label})", part)
        if of is None:
            return subset
        return subset.where(self._on(of), check=True, part=None if coords else ("of", of))

    def _on(self, shape: Domain) -> Callable:
        """A mask of the points of this domain that lie on the boundary of `shape`."""
        if not isinstance(shape, Domain) or len(shape.factors) != 1 or shape.time is not None:
            raise BadValue(f"of= takes a shape such as pinn.Disk(...), got {shape!r}")
        missing = [c for c in shape.names if c not in self.names]
        if missing:
            raise BadValue(f"of={shape!r} has coordinates {missing} that {self!r} lacks")
        cols = [self.names.index(c) for c in shape.names]
        tol = 1e-9 * max(1.0, float(np.max(shape.hi - shape.lo)))
        return lambda x: np.abs(shape.sdf(x[:, cols])) <= tol

    def initial(self) -> Subset:
        """The slice t = t0 of a time-dependent domain (a single point for a pure `Time`)."""
        for i, f in enumerate(self.factors):
            if isinstance(f, Time):
                start = Piece(1.0, 0, lambda u, f=f: _point(len(u), [f.lo[0]], [-1.0]))
                return Subset(self, (self._embed(i, start),), "initial()", ("initial",))
        raise BadValue(f"domain {self!r} has no Time factor, so it has no initial slice")

    def _embed(self, index: int, piece: Piece) -> Piece:
        """A piece of factor `index`'s boundary times the interiors of the other factors."""
        others = [f for j, f in enumerate(self.factors) if j != index]
        k = piece.k + sum(f.dim for f in others)
        measure = piece.measure * math.prod(f._candidate_volume() for f in others)
        columns = self._columns()

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

        def keep(x, normals):
            mask = np.ones(len(x), dtype=bool)
            for j, f in enumerate(self.factors):
                part = x[:, columns[j]]
                if j == index and piece.keep is not None:
                    mask &= piece.keep(part, normals[:, columns[j]])
                elif j != index and not f._exact:
                    mask &= f._own_keep(part)
            return mask

        filtered = piece.keep is not None or any(not f._exact for f in others)
        return Piece(measure, k, embedded, keep if filtered else None)


def _both(a: Callable | None, b: Callable | None) -> Callable | None:
    """The mask both accept (either may be None: accept all)."""
    if a is None or b is None:
        return a or b
    return lambda x: a(x) & b(x)


def _solid(op: str, a, b) -> Domain:
    from .solids import Solid

    return Solid(op, a, b) if isinstance(b, Domain) else NotImplemented


def _point(n, value, normal):
    return np.tile(np.asarray(value, float), (n, 1)), np.tile(np.asarray(normal, float), (n, 1))


class Box(Domain):
    """An axis-aligned box [lo, hi] in any dimension, e.g. `Box((0, 0, 0), (1, 1, 1))`.

    `lo` and `hi` are the corners (equal lengths, lo < hi); `names` the coordinates (default
    x, y, z, or x0, x1, ... beyond three).
    """

    def __init__(
        self, lo: Sequence[float], hi: Sequence[float], names: Sequence[str] | None = None
    ):
        lo, hi = np.atleast_1d(floats(lo, "lo")), np.atleast_1d(floats(hi, "hi"))
        if lo.ndim != 1 or lo.shape != hi.shape or len(lo) == 0:
            raise BadValue(f"lo and hi must be sequences of equal length, got {lo} and {hi}")
        names = check_names(names, len(lo))
        for name, a, b in zip(names, lo, hi):
            if not (np.isfinite(a) and np.isfinite(b)) or a >= b:
                raise BadValue(f"coordinate {name!r}: need finite lo < hi, got lo={a}, hi={b}")
        self.names, self.lo, self.hi = names, lo, hi

    def _describe(self) -> str:
        return f"Box({tuple(self.lo.tolist())}, {tuple(self.hi.tolist())}, names={self.names})"

    def _own_volume(self):
        return float(np.prod(self.hi - self.lo))

    def _own_interior(self, u):
        return self.lo + u * (self.hi - self.lo)

    def _own_contains(self, x, tol):
        return np.all((x >= self.lo - tol) & (x <= self.hi + tol), axis=1)

    def adf(self, x):
        return distances.box(self.lo, self.hi, x)

    def sdf(self, x):
        q = np.maximum(self.lo - x, x - self.hi)
        return np.linalg.norm(np.maximum(q, 0), axis=1) + np.minimum(q.max(axis=1), 0)

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


def check_names(names, d: int) -> tuple[str, ...]:
    """`names` (default x, y, z, or x0, x1, ... beyond three) checked for `d` coordinates."""
    if names is None:
        names = ("x", "y", "z")[:d] if d <= 3 else [f"x{i}" for i in range(d)]
    names = tuple(names) if isinstance(names, (list, tuple)) else (names,)
    if len(names) != d:
        raise BadValue(f"{d} coordinates but {len(names)} names {names}")
    for name in names:
        check_name(name)
    if len(set(names)) != len(names):
        raise BadValue(f"coordinate names must be distinct, got {names}")
    return names


class Interval(Box):
    """A 1-d interval [lo, hi] of the coordinate `name`."""

    def __init__(self, name: str, lo: float, hi: float):
        check_name(name)
        super().__init__([lo], [hi], [name])

    def _describe(self) -> str:
        return f"Interval({self.names[0]!r}, {self.lo[0]}, {self.hi[0]})"


class Time(Interval):
    """The time interval [lo, hi] of the coordinate `name` (default "t"); its lower end is the
    initial slice of a product domain (`pinn.initial`)."""

    def __init__(self, lo: float, hi: float, name: str = "t"):
        super().__init__(name, lo, hi)

    def _describe(self) -> str:
        return f"Time({self.lo[0]}, {self.hi[0]})"


class Rectangle(Box):
    """An axis-aligned rectangle, e.g. `Rectangle((0, 0), (1, 1), names=("x", "y"))`: `lo`
    and `hi` are its 2-d corners, `names` its two coordinates (default x, y)."""

    def __init__(self, lo, hi, names: Sequence[str] = ("x", "y")):
        if len(np.atleast_1d(lo)) != 2 or len(np.atleast_1d(hi)) != 2:
            raise BadValue(f"Rectangle needs 2-d corners, got lo={lo}, hi={hi}; use Box for others")
        super().__init__(lo, hi, names)


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
