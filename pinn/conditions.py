"""Conditions: each names where its points come from and the residual it drives to zero.

A condition is a plain value: `where` (a boundary or initial `Subset`, a predicate on
boundary points, a fixed tensor of points, or None for the kind's default), how many points,
the target `value`, the fields it constrains and a weight. `Problem` resolves the defaults
(the domain, the fields) and samples the points.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any

import numpy as np
import torch

from .errors import BadType, BadValue
from .samplers import check_count
from .subsets import Subset


@dataclass(frozen=True)
class Condition:
    """One loss term: `weight * mean(residual**2)` over its points. Built by `dirichlet`,
    `neumann`, `robin`, `initial`, `periodic`, `data` and `residual`, whose arguments the fields
    hold: `kind` (which of them), `value`, `on`, `n`, `field`, `weight`, `name` and the
    kind's `options` (robin's alpha and beta, initial's order, periodic's coord and order)."""

    kind: str
    value: Any = 0.0
    on: Any = None
    n: int | None = None
    field: str | tuple[str, ...] | None = None
    weight: float = 1.0
    name: str | None = None
    options: dict = _field(default_factory=dict)

    def __post_init__(self):
        if self.n is not None:
            check_count(self.n, f"{self.kind}: n")
        if (
            isinstance(self.weight, bool)
            or not isinstance(self.weight, (int, float))
            or not (np.isfinite(self.weight) and self.weight >= 0)
        ):
            raise BadValue(f"{self.kind}: weight must be a finite number >= 0, got {self.weight!r}")
        if not (
            callable(self.value)
            or _is_number(self.value)
            or self.kind in ("data", "residual", "periodic")
        ):
            raise BadType(
                f"{self.kind}: value must be a number or a callable of the points, got "
                f"{type(self.value).__name__}"
            )
        if _is_number(self.value) and not np.isfinite(self.value):
            raise BadValue(f"{self.kind}: value must be a finite number, got {self.value!r}")
        if self.on is not None and not (
            isinstance(self.on, (Subset, torch.Tensor, np.ndarray)) or callable(self.on)
        ):
            raise BadType(
                f"{self.kind}: on= takes domain.boundary(...), domain.initial(), a predicate on "
                f"points or a tensor of points, got {type(self.on).__name__}"
            )


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.number)) and not isinstance(v, bool)


def dirichlet(
    value=0.0, on=None, n=256, field=None, weight=1.0, name=None, hard=False
) -> Condition:
    """u = value on the boundary.

    Args:
        value: a number, or a callable of the (N, d) points giving (N,) or (N, k) values.
        on: where: `domain.boundary()` (the default: the whole spatial boundary),
            `domain.boundary("x")` (the faces where x is fixed), `domain.boundary(of=shape)`
            (the part on a shape's boundary, e.g. a hole), a predicate `points -> bool
            tensor` on the boundary, or a fixed (N, d) tensor of points.
        n: points drawn for the term (default 256; ignored for fixed points).
        field: the field(s) it constrains, a name or a tuple (default: every field).
        weight: the term's weight in the loss (default 1).
        name: the loss term's name (default the kind, numbered when repeated).
        hard: build the condition into the network's output (u = g + phi * N, phi a distance
            to the constrained part) instead of a loss term; `value` must then be defined
            on the whole domain (see docs/geometry.md).
    """
    return Condition("dirichlet", value, on, n, field, weight, name, {"hard": _flag(hard)})


def neumann(
    value=0.0, on=None, n=256, field=None, weight=1.0, name=None, normals=None
) -> Condition:
    """du/dn = value, the derivative along the outward unit normal.

    Args:
        value: a number, or a callable of the (N, d) points giving (N,) or (N, k) values.
        on: where: a part of the spatial boundary as for `dirichlet` (default: all of it),
            or fixed (N, d) points with their `normals`.
        n: points drawn for the term (default 256).
        field, weight, name: as for `dirichlet`.
        normals: the (N, d) outward unit normals at fixed points `on` (time column 0).
    """
    options = {"normals": _normals(normals, "neumann")}
    return Condition("neumann", value, on, n, field, weight, name, options)


def robin(
    value=0.0,
    on=None,
    n=256,
    field=None,
    weight=1.0,
    name=None,
    alpha=1.0,
    beta=1.0,
    normals=None,
):
    """alpha * u + beta * du/dn = value, du/dn along the outward unit normal.

    Args:
        value, on, n, field, weight, name, normals: as for `neumann`.
        alpha, beta: the coefficients (default 1 and 1; not both 0).
    """
    for what, v in (("alpha", alpha), ("beta", beta)):
        if not (_is_number(v) and np.isfinite(v)):
            raise BadValue(f"robin: {what} must be a finite number, got {v!r}")
    if alpha == 0 and beta == 0:
        raise BadValue("robin: alpha and beta cannot both be 0 (that leaves 0 = value)")
    options = {"alpha": alpha, "beta": beta, "normals": _normals(normals, "robin")}
    return Condition("robin", value, on, n, field, weight, name, options)


def initial(
    value=0.0, n=256, order=0, field=None, weight=1.0, name=None, on=None, hard=False
) -> Condition:
    """u(x, t0) = value (`order=0`) or u_t(x, t0) = value (`order=1`) on the initial slice.

    Args:
        value: a number, or a callable of the full (N, d) points (time column included).
        n: points drawn on the slice t = t0 (default 256; one point on a pure `Time` domain).
        order: 0 (the value, default) or 1 (the time derivative).
        field: the field(s) it constrains, a name or a tuple (default: every field).
        weight: the term's weight in the loss (default 1).
        name: the loss term's name (default the kind, numbered when repeated).
        on: a predicate `points -> bool tensor` choosing part of the slice (default: all).
        hard: build u(x, t0) = value into the network's output (u = g + (t - t0) * N)
            instead of a loss term (order 0, the whole slice).
    """
    if order not in (0, 1):
        raise BadValue(f"initial: order must be 0 (u) or 1 (u_t), got {order!r}")
    if on is not None and not callable(on):
        raise BadType(f"initial: on= takes a predicate on points, got {type(on).__name__}")
    if hard and (order != 0 or on is not None):
        raise BadValue("initial: hard=True builds in u(x, t0) on the whole slice: order=0, no on=")
    options = {"order": order, "hard": _flag(hard)}
    return Condition("initial", value, on, n, field, weight, name, options)


def _normals(normals, kind: str) -> torch.Tensor | None:
    """Given normals as a float64 (N, d) tensor, checked finite and of unit length."""
    if normals is None:
        return None
    array = normals if torch.is_tensor(normals) else np.asarray(normals)
    if not torch.is_tensor(array) and array.dtype.kind not in "iuf":
        raise BadType(f"{kind}: normals must be numbers, got an array of {array.dtype}")
    n = torch.as_tensor(array, dtype=torch.float64)
    if n.ndim != 2 or len(n) == 0 or not torch.isfinite(n).all():
        raise BadValue(f"{kind}: normals must be a finite (N, d) array, got shape {tuple(n.shape)}")
    length = n.norm(dim=1)
    bad = (length - 1).abs() > 1e-6
    if bad.any():
        i = int(bad.nonzero()[0])
        raise BadValue(
            f"{kind}: normals must be unit vectors; row {i} {n[i].tolist()} has length "
            f"{float(length[i]):.6g}"
        )
    return n


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise BadType(f"hard must be True or False, got {value!r}")
    return value


def periodic(coord: str, n=256, order=1, field=None, weight=1.0, name=None) -> Condition:
    """u and its `coord`-derivatives up to `order` agree on the two faces where `coord` is fixed.

    Args:
        coord: the periodic coordinate, e.g. "x".
        n: pairs of points, one on each face (default 256).
        order: the highest derivative that must agree (default 1: value and slope).
        field: the field(s) it constrains, a name or a tuple (default: every field).
        weight: the term's weight in the loss (default 1).
        name: the loss term's name (default the kind, numbered when repeated).
    """
    if not isinstance(coord, str):
        raise BadType(f"periodic: coord must be a coordinate name such as 'x', got {coord!r}")
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise BadValue(f"periodic: order must be an integer >= 0, got {order!r}")
    return Condition(
        "periodic", None, None, n, field, weight, name, {"coord": coord, "order": order}
    )


def data(points, values, field=None, weight=1.0, name=None) -> Condition:
    """u(points) = values: observations.

    Args:
        points: (N, d) points inside the domain (array, tensor or nested lists).
        values: (N,) or (N, k) observed values, k the number of fields it constrains.
        field: the field(s) it constrains, a name or a tuple (default: every field).
        weight: the term's weight in the loss (default 1).
        name: the loss term's name (default the kind, numbered when repeated).
    """
    points, values = _numbers(points, "points"), _numbers(values, "values")
    if points.ndim != 2 or len(points) == 0:
        raise BadValue(
            f"data: points must be a non-empty (N, d) array, got shape {tuple(points.shape)}"
        )
    if values.ndim == 1:
        values = values.unsqueeze(1)
    if values.ndim != 2 or len(values) != len(points):
        raise BadValue(
            f"data: values must have shape ({len(points)}, k) to match the points, "
            f"got {tuple(values.shape)}"
        )
    for what, t in (("points", points), ("values", values)):
        if not torch.isfinite(t.double()).all():
            raise BadValue(f"data: {what} contain NaN or Inf")
    return Condition("data", values.double(), points.double(), None, field, weight, name)


def _numbers(value, what: str) -> torch.Tensor:
    """`value` (an array, tensor or nested list of numbers) as a tensor; TypeError otherwise."""
    array = value if torch.is_tensor(value) else np.asarray(value)
    if not torch.is_tensor(array) and array.dtype.kind not in "iuf":
        raise BadType(f"data: {what} must be numbers, got an array of {array.dtype}")
    return torch.as_tensor(array)


def residual(fn: Callable, on=None, n=256, weight=1.0, name=None) -> Condition:
    """A residual `fn(f)` or `fn(f, p)` (p: the unknowns) driven to zero on `on`.

    Args:
        fn: returns one value per point, (N,) or (N, k), from the fields `f`.
        on: where (default: the interior, drawn like the PDE points); as for `dirichlet`.
        n: points drawn for the term (default 256).
        weight: the term's weight in the loss (default 1).
        name: the loss term's name (default "residual", numbered when repeated).
    """
    if not callable(fn):
        raise BadType(f"residual: fn must be a callable of f (and p), got {type(fn).__name__}")
    return Condition("residual", fn, on, n, None, weight, name)


def takes_params(fn: Callable) -> bool:
    """True if a residual is written `fn(f, p)` rather than `fn(f)`."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)
