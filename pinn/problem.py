"""Problem = domain + fields + PDE residuals + conditions (+ exact solution, unknowns).

A problem knows how to draw its training points (`sample`) and how to turn a network into
its weighted loss terms (`losses`). It is checked once at construction by evaluating every
residual and condition on a few points with a small probe network, so a misspelt field, a
residual of the wrong shape or an exact solution of the wrong shape fails here, by name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from . import engines
from .conditions import Condition, takes_params
from .domain import METHODS, Domain, Subset, _check_count
from .fields import Fields, Params

Batch = dict[str, "Points"]


@dataclass(frozen=True)
class Points:
    """Sampled points of one set, with outward normals and targets where the set has them."""

    x: torch.Tensor
    normals: torch.Tensor | None = None
    target: torch.Tensor | None = None
    paired: bool = False  # periodic sets hold (lo face; hi face) rows, kept together

    def __len__(self) -> int:
        return len(self.x) // 2 if self.paired else len(self.x)

    def take(self, idx: torch.Tensor) -> Points:
        """The rows `idx` (pairs kept together), for mini-batches."""
        rows = torch.cat([idx, idx + len(self)]) if self.paired else idx
        pick = lambda t: None if t is None else t[rows]  # noqa: E731
        return Points(self.x[rows], pick(self.normals), pick(self.target), self.paired)


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


class Unknowns(torch.nn.Module):
    """The unknown scalar parameters of an inverse problem, trained beside the network."""

    def __init__(self, initial: Mapping[str, float]):
        super().__init__()
        self.values = torch.nn.ParameterDict(
            {
                k: torch.nn.Parameter(torch.tensor(float(v), dtype=torch.float64))
                for k, v in initial.items()
            }
        )

    def view(self) -> Params:
        return Params(dict(self.values.items()))

    def as_dict(self) -> dict[str, float]:
        return {k: float(v.detach()) for k, v in self.values.items()}


class Problem:
    """A PDE or ODE problem. See DESIGN.md for the full signature; every argument is checked."""

    def __init__(
        self,
        domain: Domain,
        fields: str | tuple[str, ...] = "u",
        pde=None,
        conditions=(),
        n_pde: int = 2_000,
        exact: Callable | None = None,
        unknowns: Mapping[str, float] | None = None,
        sampler: str = "halton",
        name: str | None = None,
    ):
        if not isinstance(domain, Domain):
            raise TypeError(
                f"domain must be a pinn domain (Interval, Time, Box, ...), got {domain!r}"
            )
        self.domain, self.coords = domain, domain.names
        self.fields = _names(fields)
        clash = set(self.fields) & set(self.coords)
        if clash:
            raise ValueError(f"field names {sorted(clash)} clash with coordinates {self.coords}")
        _check_count(n_pde, "n_pde")
        if sampler not in METHODS:
            raise ValueError(f"unknown sampler {sampler!r}; valid: {', '.join(METHODS)}")
        if exact is not None and not callable(exact):
            raise TypeError(f"exact must be a callable of the (N, d) points, got {exact!r}")
        self.unknowns = _unknowns(unknowns)
        self.n_pde, self.exact, self.sampler, self.name = n_pde, exact, sampler, name
        self.pde, self.conditions = pde, tuple(_conditions(conditions))
        self.sets = tuple(self._point_sets())
        self.derivatives = self._probe()

    def __repr__(self):
        return f"Problem({self.name or ''!s}, fields={self.fields}, domain={self.domain!r})"

    @property
    def terms(self) -> tuple[str, ...]:
        """The names of the loss terms, in order."""
        return tuple(t.name for s in self.sets for t in s.terms)

    # -- sampling -------------------------------------------------------------------------
    def sample(self, seed=0, dtype=torch.float32, device="cpu", rng=None, cap=None) -> Batch:
        """Draw every point set; `rng` (a numpy Generator) overrides `seed`; `cap` limits n."""
        rng = rng if rng is not None else np.random.default_rng(seed)
        batch = {}
        for s in self.sets:
            x, normals = s.draw(cap, rng)
            x = torch.as_tensor(x, dtype=dtype, device=device)
            normals = (
                None if normals is None else torch.as_tensor(normals, dtype=dtype, device=device)
            )
            target = None if s.target is None else s.target(x)
            batch[s.name] = Points(x, normals, target, s.paired)
        return batch

    # -- losses ---------------------------------------------------------------------------
    def losses(
        self, net, batch: Batch, unknowns: Unknowns | None = None, engine=None
    ) -> dict[str, torch.Tensor]:
        """The weighted mean-square loss of every term, by name.

        `engine(net, x, keys) -> (u, {key: derivative})` precomputes the derivatives that the
        residuals read (found by the probe at construction); None: nested reverse mode only.
        The Taylor engines take all the point sets in one call (`engines.evaluate`).
        """
        p = unknowns.view() if unknowns is not None else Params({})
        xs = [batch[s.name].x.detach().requires_grad_(True) for s in self.sets]
        if engine is None:
            evaluated = [(net(x), {}) for x in xs]
        else:
            evaluated = engines.evaluate(
                engine, net, [(x, self.derivatives[s.name]) for s, x in zip(self.sets, xs)]
            )
        out = {}
        for s, x, (u, known) in zip(self.sets, xs, evaluated):
            f = Fields(x, u, self.coords, self.fields, known)
            out.update(self._terms(s, f, batch[s.name], p))
        return out

    def _terms(self, s: PointSet, f: Fields, pts: Points, p: Params) -> dict[str, torch.Tensor]:
        """The weighted mean-square loss of each term of set `s`, given its fields `f`."""
        out = {}
        for term in s.terms:
            r = _as_residual(term.residual(f, p, pts), len(pts), term.name)
            out[term.name] = term.weight * r.square().mean()
        return out

    # -- construction -------------------------------------------------------------------------
    def _point_sets(self):
        terms = _pde_terms(self.pde)
        if terms:
            draw = lambda cap, rng: (  # noqa: E731
                self.domain.sample(min(self.n_pde, cap or self.n_pde), self.sampler, rng),
                None,
            )
            yield PointSet("pde", draw, None, tuple(terms), self.n_pde)
        seen = set(t.name for t in terms)
        for c in self.conditions:
            name = c.name or c.kind
            if name in seen:
                name = next(f"{name}_{i}" for i in range(2, 10_000) if f"{name}_{i}" not in seen)
            seen.add(name)
            yield self._condition_set(c, name)

    def _condition_set(self, c: Condition, name: str) -> PointSet:
        fields = self._fields_of(c)
        default = None
        if c.kind in ("dirichlet", "neumann", "robin", "periodic"):
            default = self.domain.boundary()
        elif c.kind == "initial":
            default = self.domain.initial()
        if c.kind in ("neumann", "robin") and c.on is not None and not isinstance(c.on, Subset):
            if not callable(c.on):
                raise ValueError(
                    f"{c.kind}: needs outward normals, so on= must be a boundary "
                    f"Subset or a predicate, not a fixed tensor of points"
                )
        if c.kind == "periodic":
            return self._periodic_set(c, name, fields)
        if c.kind == "data":
            if c.on.shape[1] != self.domain.dim:
                raise ValueError(
                    f"data: points have {c.on.shape[1]} columns but the domain has "
                    f"{self.domain.dim} coordinates {self.coords}"
                )
            if c.value.shape[1] not in (1, len(fields)):
                raise ValueError(
                    f"data: values have {c.value.shape[1]} columns for fields {fields}"
                )
        draw = _drawer(self.domain, c.on, default, c.n, self.sampler)
        residual = _residual_of(c, fields, self.coords, self.domain.time)
        if c.kind == "data":  # fixed rows: the target is the given values, row for row
            target = lambda x: c.value[: len(x)].to(x)  # noqa: E731
        else:
            target = None if c.kind == "residual" else _target(c.value, len(fields), name)
        fixed = isinstance(c.on, (torch.Tensor, np.ndarray))
        size = len(c.on) if fixed else c.n
        return PointSet(name, draw, target, (Term(name, float(c.weight), residual),), size)

    def _periodic_set(self, c: Condition, name, fields) -> PointSet:
        coord = c.options["coord"]
        subset = self.domain.boundary(coord)  # validates the coordinate
        j = self.coords.index(coord)
        lo, hi = self.domain.lo[j], self.domain.hi[j]

        def draw(cap, rng):
            pts, _ = subset.sample(2 * c.n, self.sampler, rng)
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

    def _fields_of(self, c: Condition) -> tuple[str, ...]:
        if c.field is None:
            return self.fields
        fields = _names(c.field)
        for u in fields:
            if u not in self.fields:
                raise ValueError(f"{c.kind}: unknown field {u!r}; fields are {self.fields}")
        return fields

    def _probe(self) -> dict[str, set]:
        """Evaluate everything once on a few points; return the derivatives each set reads."""
        gen = torch.Generator().manual_seed(0)
        d, m = self.domain.dim, len(self.fields)
        w1, w2 = torch.randn(d, 16, generator=gen), torch.randn(16, m, generator=gen)
        net = lambda x: torch.tanh(x @ w1.double() + 0.1) @ w2.double()  # noqa: E731
        batch = self.sample(seed=0, dtype=torch.float64, cap=8)
        params = Unknowns(self.unknowns).double().view()
        requested = {}
        for s in self.sets:
            with _calling(f"loss term(s) {[t.name for t in s.terms]}"):
                x = batch[s.name].x.detach().requires_grad_(True)
                f = Fields(x, net(x), self.coords, self.fields)
                out = self._terms(s, f, batch[s.name], params)
            for term, value in out.items():
                if not torch.isfinite(value):
                    raise ValueError(
                        f"loss term {term!r} is not finite at initialization ({value}); "
                        f"check its residual and target for NaN/Inf or division by 0"
                    )
            requested[s.name] = f.requested
        if self.exact is not None:
            x = torch.as_tensor(self.domain.grid(64), dtype=torch.float64)
            with _calling("the exact solution"):
                self.exact_at(x)
        return requested

    def exact_at(self, x: torch.Tensor) -> torch.Tensor:
        """The exact solution at `x`, checked to have shape (N, n_fields) and finite values."""
        if self.exact is None:
            raise ValueError(
                "this problem has no exact solution; pass exact= to Problem, or "
                "give reference points and values to error()"
            )
        u = torch.as_tensor(self.exact(x), dtype=x.dtype, device=x.device)
        if u.ndim == 1 and len(self.fields) == 1:
            u = u.unsqueeze(1)
        if u.shape != (len(x), len(self.fields)):
            raise ValueError(
                f"exact solution returned shape {tuple(u.shape)} for {len(x)} points; "
                f"expected ({len(x)}, {len(self.fields)}) for fields {self.fields}"
            )
        _check_finite(x, u, "exact solution returned")
        return u


# -- helpers ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _calling(what: str):
    """Report a failure inside user code (a residual, an exact solution) as a ValueError."""
    try:
        yield
    except (ValueError, TypeError):
        raise
    except Exception as e:
        raise ValueError(f"evaluating {what} failed: {type(e).__name__}: {e}") from e


def _names(fields) -> tuple[str, ...]:
    names = (fields,) if isinstance(fields, str) else tuple(fields) if _is_list(fields) else ()
    if not names or not all(isinstance(n, str) and n.isidentifier() for n in names):
        raise ValueError(f"fields must be a name such as 'u' or a tuple of names, got {fields!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"field names must be distinct, got {names}")
    return names


def _unknowns(unknowns) -> dict[str, float]:
    if unknowns is None:
        return {}
    if not isinstance(unknowns, Mapping):
        raise TypeError(f"unknowns must be a dict of name -> initial value, got {unknowns!r}")
    for k, v in unknowns.items():
        if not (isinstance(k, str) and k.isidentifier()):
            raise ValueError(f"unknown parameter name must be an identifier, got {k!r}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise ValueError(f"unknown {k!r}: initial value must be a finite number, got {v!r}")
    return {k: float(v) for k, v in unknowns.items()}


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple))


def _conditions(conditions):
    if isinstance(conditions, Condition):
        conditions = [conditions]
    if not _is_list(conditions):
        raise TypeError(
            f"conditions must be a list of pinn conditions (pinn.dirichlet(...), ...), "
            f"got {conditions!r}"
        )
    for c in conditions:
        if not isinstance(c, Condition):
            raise TypeError(
                f"conditions must be pinn conditions (pinn.dirichlet(...), ...), got {c!r}"
            )
    return conditions


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
        raise TypeError(f"pde must be a callable, a list or a dict of callables, got {pde!r}")
    for name, fn in items:
        if not callable(fn):
            raise TypeError(f"pde residual {name!r} must be a callable of f (and p), got {fn!r}")
    return [Term(str(name), 1.0, _user_residual(fn)) for name, fn in items]


def _user_residual(fn):
    if takes_params(fn):
        return lambda f, p, pts: fn(f, p)
    return lambda f, p, pts: fn(f)


def _as_residual(r, n: int, name: str) -> torch.Tensor:
    if isinstance(r, (list, tuple)):
        return torch.cat([_as_residual(x, n, name) for x in r], dim=1)
    if not torch.is_tensor(r):
        raise TypeError(
            f"residual {name!r} returned {type(r).__name__}; expected a tensor "
            f"with one value per point, shape ({n},) or ({n}, 1)"
        )
    if r.ndim == 1:
        r = r.unsqueeze(1)
    if r.ndim != 2 or r.shape[0] != n:
        raise ValueError(
            f"residual {name!r} returned shape {tuple(r.shape)} for {n} points; "
            f"expected ({n},) or ({n}, k): one value per point (no .mean() or sum)"
        )
    return r


def _target(value, k: int, name: str):
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
            raise ValueError(
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
        raise ValueError(
            f"{what} NaN or Inf at {int(bad.sum())} of {len(x)} points, e.g. "
            f"{x[bad][0].tolist()} -> {v[bad][0].tolist()}; it must be finite on the domain"
        )


def _drawer(domain: Domain, on, default: Subset | None, n, method):
    """A function (cap, rng) -> (points, normals or None) for a condition's `on=`."""
    if isinstance(on, (torch.Tensor, np.ndarray)):
        x = np.asarray(on.detach().cpu() if torch.is_tensor(on) else on, dtype=float)
        if x.ndim != 2 or x.shape[1] != domain.dim:
            raise ValueError(
                f"points given in on= have shape {x.shape}; expected (N, {domain.dim})"
            )
        outside = ~domain.contains(x, tol=1e-6)
        if outside.any():
            raise ValueError(
                f"{outside.sum()} of {len(x)} given points lie outside the domain "
                f"{domain!r}, e.g. {x[outside][0].tolist()}"
            )
        return lambda cap, rng: (x[:cap] if cap else x, None)
    if isinstance(on, Subset):
        return lambda cap, rng: on.sample(min(n, cap or n), method, rng)
    source = default
    if on is None:
        if source is None:
            return lambda cap, rng: (domain.sample(min(n, cap or n), method, rng), None)
        return lambda cap, rng: source.sample(min(n, cap or n), method, rng)

    def filtered(cap, rng):  # `on` is a predicate on points
        want, got, nrm = min(n, cap or n), [], []
        for _ in range(20):
            if source is None:
                pts, normals = (
                    domain.sample(4 * want, method, rng),
                    np.zeros((4 * want, domain.dim)),
                )
            else:
                pts, normals = source.sample(4 * want, method, rng)
            keep = np.asarray(on(torch.as_tensor(pts)), dtype=bool).reshape(-1)
            got.append(pts[keep])
            nrm.append(normals[keep])
            if sum(map(len, got)) >= want:
                return np.concatenate(got)[:want], np.concatenate(nrm)[:want]
        raise ValueError(
            f"the predicate given as on= selected {sum(map(len, got))} of "
            f"{80 * want} candidate points; it must select a part of the boundary "
            "with positive measure (use torch.isclose for faces)"
        )

    return filtered


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
    raise ValueError(f"unknown condition kind {kind!r}")
