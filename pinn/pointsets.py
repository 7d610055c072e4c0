"""Point sets: where each loss term of a problem takes its points, and its residual there.

`build(problem)` turns the PDE and the conditions into `PointSet`s: a draw function (which
part of the domain, how many points, by which sampler), the target values and the terms whose
residual functions `(f, p, points) -> (N, k)` read the fields there. `Points` are one draw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import torch

from .conditions import Condition, takes_params
from .domain import Domain
from .errors import BadType, BadValue
from .subsets import Subset


@dataclass(frozen=True)
class Points:
    """Sampled points of one set, with outward normals and targets where the set has them."""

    x: torch.Tensor
    normals: torch.Tensor | None = None
    target: torch.Tensor | None = None
    paired: bool = False  # periodic sets hold (lo face; hi face) rows, kept together
    total: int | None = None  # a process's share of a batch: the batch's rows (pairs)
    rows: torch.Tensor | None = None  # these rows' indices in the set's points (None: all)

    def __len__(self) -> int:
        return len(self.x) // 2 if self.paired else len(self.x)

    def take(self, idx: torch.Tensor) -> Points:
        """The rows `idx` (pairs kept together), for mini-batches."""
        rows = torch.cat([idx, idx + len(self)]) if self.paired else idx
        pick = lambda t: None if t is None else t[rows]  # noqa: E731
        index = idx if self.rows is None else self.rows[idx]
        return Points(self.x[rows], pick(self.normals), pick(self.target), self.paired, rows=index)

    def share(self, rows: torch.Tensor | None, rank: int, world: int) -> Points:
        """Process `rank`'s part of the rows `rows` (None: all rows), in order, of `world`
        equal parts (sizes differ by at most one), knowing the batch's size."""
        if rows is None:
            rows = torch.arange(len(self), device=self.x.device)
        return replace(self.take(rows.tensor_split(world)[rank]), total=len(rows))

    def head(self, n: int, rank: int, world: int) -> Points:
        """Process `rank`'s part of the first `n` rows of the batch these points are its share
        of (`share`; alone: the first `n` rows): the same rows however many processes."""
        total = self.total or len(self)
        start = rank * (total // world) + min(rank, total % world)  # as tensor_split cuts
        keep = max(0, min(len(self), n - start))
        return replace(self.take(torch.arange(keep, device=self.x.device)), total=min(n, total))


@dataclass(frozen=True)
class Term:
    """A named loss term of a point set: `weight * mean(residual(f, p, points)**2)`."""

    name: str
    weight: float
    residual: Callable


@dataclass(frozen=True)
class PointSet:
    """Where a group of terms takes its points: a draw function and the target values."""

    name: str
    draw: Callable  # (n cap or None, rng) -> (points, normals or None)
    target: Callable | None  # torch points -> (N, k) tensor
    terms: tuple[Term, ...]
    size: int  # points drawn (rows of x)
    paired: bool = False


def build(problem) -> tuple[PointSet, ...]:
    """The point sets of a problem: the PDE's collocation points, then one per condition."""
    return tuple(_point_sets(problem))


def _point_sets(problem):
    terms = _pde_terms(problem.pde)
    if terms:
        draw = lambda cap, rng: (  # noqa: E731
            problem.domain.sample(min(problem.n_pde, cap or problem.n_pde), problem.sampler, rng),
            None,
        )
        yield PointSet("pde", draw, None, tuple(terms), problem.n_pde)
    seen = {t.name for t in terms} | ({"pde"} if terms else set())  # term and set names
    for c in problem.conditions:
        if c.options.get("hard"):  # built into the network's output (`pinn.constraints`)
            continue
        name = c.name or c.kind
        if name in seen:
            name = next(f"{name}_{i}" for i in range(2, 10_000) if f"{name}_{i}" not in seen)
        seen.add(name)
        yield _condition_set(problem, c, name)


def _condition_set(problem, c: Condition, name: str) -> PointSet:
    fields = _fields_of(problem, c)
    default = None
    if c.kind in ("dirichlet", "neumann", "robin", "periodic"):
        default = problem.domain.boundary()
    elif c.kind == "initial":
        default = problem.domain.initial()
    _check_where(problem.domain, c)
    if c.kind == "periodic":
        return _periodic_set(problem, c, name, fields)
    if c.kind == "data":
        if c.on.shape[1] != problem.domain.dim:
            raise BadValue(
                f"data: points have {c.on.shape[1]} columns but the domain has "
                f"{problem.domain.dim} coordinates {problem.coords}"
            )
        if c.value.shape[1] not in (1, len(fields)):
            raise BadValue(f"data: values have {c.value.shape[1]} columns for fields {fields}")
    normals = c.options.get("normals")
    draw = _drawer(problem.domain, c.on, default, c.n, problem.sampler, normals)
    residual = _residual_of(c, fields, problem.coords, problem.domain.time)
    if c.kind == "data":  # fixed rows: the target is the given values, row for row
        target = lambda x: c.value[: len(x)].to(x)  # noqa: E731
    else:
        target = None if c.kind == "residual" else _target(c.value, len(fields), name)
    fixed = isinstance(c.on, (torch.Tensor, np.ndarray))
    size = len(c.on) if fixed else c.n
    return PointSet(name, draw, target, (Term(name, float(c.weight), residual),), size)


def _periodic_set(problem, c: Condition, name, fields) -> PointSet:
    coord = c.options["coord"]
    subset = problem.domain.boundary(coord)  # validates the coordinate
    j = problem.coords.index(coord)
    lo, hi = problem.domain.lo[j], problem.domain.hi[j]

    def draw(cap, rng):
        pts, _ = subset.sample(2 * c.n, problem.sampler, rng)
        low = pts[pts[:, j] == lo][: min(c.n, cap or c.n)]
        high = low.copy()
        high[:, j] = hi
        return np.concatenate([low, high]), None

    def residual(f, p, pts):
        m = len(pts)
        return torch.cat(
            [
                (d := f.d(u, *[coord] * k))[:m] - d[m:]
                for u in fields
                for k in range(c.options["order"] + 1)
            ],
            dim=1,
        )

    term = Term(name, float(c.weight), residual)
    return PointSet(name, draw, None, (term,), 2 * c.n, paired=True)


def _fields_of(problem, c: Condition) -> tuple[str, ...]:
    if c.field is None:
        return problem.fields
    fields = _names(c.field)
    for u in fields:
        if u not in problem.fields:
            raise BadValue(f"{c.kind}: unknown field {u!r}; fields are {problem.fields}")
    return fields


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple))


def _names(fields) -> tuple[str, ...]:
    names = (fields,) if isinstance(fields, str) else tuple(fields) if _is_list(fields) else ()
    if not names or not all(isinstance(n, str) and n.isidentifier() for n in names):
        raise BadValue(f"fields must be a name such as 'u' or a tuple of names, got {fields!r}")
    if len(set(names)) != len(names):
        raise BadValue(f"field names must be distinct, got {names}")
    return names


def _pde_terms(pde) -> list[Term]:
    if pde is None:
        return []
    if callable(pde):
        items = [("pde", pde)]
    elif isinstance(pde, Mapping):
        items = list(pde.items())
    elif isinstance(pde, (list, tuple)):
        items = [(f"pde{i}", fn) for i, fn in enumerate(pde)]
    else:
        raise BadType(f"pde must be a callable, a list or a dict of callables, got {pde!r}")
    for name, fn in items:
        if not callable(fn):
            raise BadType(f"pde residual {name!r} must be a callable of f (and p), got {fn!r}")
    return [Term(str(name), 1.0, _user_residual(fn)) for name, fn in items]


def _user_residual(fn):
    if takes_params(fn):
        return lambda f, p, pts: fn(f, p)
    return lambda f, p, pts: fn(f)


def _target(value, k: int, name: str):
    """The condition value at (N, d) points as (N, 1) or (N, k), checked to be finite (a
    host sync: at sampling, not in the step loop)."""

    def target(x):
        if callable(value):
            v = torch.as_tensor(value(x), dtype=x.dtype, device=x.device)
        else:
            v = torch.as_tensor(value, dtype=x.dtype, device=x.device)
        if v.ndim == 0:
            v = v.expand(len(x), k)
        if v.ndim == 1:
            v = v.unsqueeze(1)
        if v.ndim != 2 or v.shape[0] != len(x) or v.shape[1] not in (1, k):
            raise BadValue(
                f"{name}: value returned shape {tuple(v.shape)} for {len(x)} points; "
                f"expected ({len(x)},), ({len(x)}, 1) or ({len(x)}, {k})"
            )
        _check_finite(x, v, f"{name}: value is")
        return v

    return target


def _check_finite(x: torch.Tensor, v: torch.Tensor, what: str) -> None:
    """ValueError naming the first point where `v` (one row per point of `x`) is NaN or Inf."""
    bad = ~torch.isfinite(v).all(dim=1)
    if bad.any():
        raise BadValue(
            f"{what} NaN or Inf at {int(bad.sum())} of {len(x)} points, e.g. "
            f"{x[bad][0].tolist()} -> {v[bad][0].tolist()}; it must be finite on the domain"
        )


def _check_where(domain: Domain, c: Condition) -> None:
    """A ValueError for an `on=` that would silently pose another problem."""
    normal = c.kind in ("neumann", "robin")
    fixed = isinstance(c.on, (torch.Tensor, np.ndarray))
    given = c.options.get("normals")
    if normal and fixed and given is None:
        raise BadValue(
            f"{c.kind}: fixed points given as on= need their outward unit normals: pass "
            "normals=, an (N, d) array, or give on= as a part of domain.boundary()"
        )
    if given is not None and not (normal and fixed):
        raise BadValue(f"{c.kind}: normals= goes with fixed points given as on=")
    if given is not None and given.shape != tuple(np.shape(c.on)):
        raise BadValue(
            f"{c.kind}: normals have shape {tuple(given.shape)} but the points given as on= "
            f"have {tuple(np.shape(c.on))}"
        )
    if given is not None and domain.time is not None:
        j = domain.names.index(domain.time)
        if given[:, j].abs().max() > 0:
            raise BadValue(f"{c.kind}: normals must be spatial: their {domain.time!r} column is 0")
    if not isinstance(c.on, Subset):
        return
    if repr(c.on.domain) != repr(domain):
        raise BadValue(
            f"{c.kind}: on={c.on!r} is a part of another domain than this problem's "
            f"{domain!r}; for the part of this domain on a shape's boundary (a hole's edge) "
            "write domain.boundary(of=shape)"
        )
    if normal and c.on.part == ("initial",):
        raise BadValue(
            f"{c.kind}: the initial slice has no outward spatial normal; for u_t at t0 "
            "write pinn.initial(value, order=1)"
        )


def _drawer(domain: Domain, on, default: Subset | None, n, method, normals=None):
    """A function (cap, rng) -> (points, normals or None) for a condition's `on=`."""
    if isinstance(on, (torch.Tensor, np.ndarray)):
        x = np.asarray(on.detach().cpu() if torch.is_tensor(on) else on, dtype=float)
        if x.ndim != 2 or x.shape[1] != domain.dim:
            raise BadValue(f"points given in on= have shape {x.shape}; expected (N, {domain.dim})")
        outside = ~domain.contains(x, tol=1e-6)
        if outside.any():
            raise BadValue(
                f"{outside.sum()} of {len(x)} given points lie outside the domain "
                f"{domain!r}, e.g. {x[outside][0].tolist()}"
            )
        nrm = None if normals is None else normals.numpy()
        return lambda cap, rng: (x[:cap], None if nrm is None else nrm[:cap])
    source = on if isinstance(on, Subset) else default
    if callable(on) and not isinstance(on, Subset):  # a predicate on points
        keep = lambda x: np.asarray(on(torch.as_tensor(x)), dtype=bool).reshape(-1)  # noqa: E731
        what = "the predicate given as on="
        if source is None:
            return lambda cap, rng: (
                domain._sample(min(n, cap or n), method, rng, keep, what),
                None,
            )
        source = source.where(keep, f"{source.label} where {what}")
    if source is None:
        return lambda cap, rng: (domain.sample(min(n, cap or n), method, rng), None)
    return lambda cap, rng: source.sample(min(n, cap or n), method, rng)


def _residual_of(c: Condition, fields, coords, time):
    """The residual function (f, p, points) -> (N, k) of a condition."""
    kind = c.kind
    if kind == "residual":
        return _user_residual(c.value)

    def values(f):
        return torch.cat([f.d(u) for u in fields], dim=1)

    def normal_derivative(f, pts):
        spatial = [j for j, name in enumerate(coords) if name != time]
        return torch.cat(
            [sum(pts.normals[:, j : j + 1] * f.d(u, coords[j]) for j in spatial) for u in fields],
            dim=1,
        )

    if kind in ("dirichlet", "data") or (kind == "initial" and c.options["order"] == 0):
        return lambda f, p, pts: values(f) - pts.target
    if kind == "initial":
        return lambda f, p, pts: torch.cat([f.d(u, time) for u in fields], dim=1) - pts.target
    if kind == "neumann":
        return lambda f, p, pts: normal_derivative(f, pts) - pts.target
    if kind == "robin":
        a, b = c.options["alpha"], c.options["beta"]
        return lambda f, p, pts: a * values(f) + b * normal_derivative(f, pts) - pts.target
    raise BadValue(f"unknown condition kind {kind!r}")
