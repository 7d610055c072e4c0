"""The field accessor `f` that residuals read, and the reverse-mode derivative engine behind it.

`f.u` is a field, `f.u_xt` its mixed derivative, `f.x` a coordinate, `f.d("u", "x", "x")` the
spelled-out form and `f["u_xx"]` an alias. Each derivative is computed once per evaluation:
one `autograd.grad` call gives the whole gradient of a quantity, and every column of it is
kept, so `u_xx` and `u_xt` share the graph of `u_x`.
"""

from __future__ import annotations

import torch

from .errors import BadValue

Key = tuple[int, tuple[int, ...]]  # (field index, sorted coordinate indices)


class Truncated(dict):
    """Derivatives from an engine whose results do not track the points to every order (a
    compiled pass, an output transform): `Fields` refuses a derivative beyond them instead of
    taking it by reverse mode, which would give zero or a truncated series."""

    def __init__(self, values, channels):
        super().__init__(values)
        self.channels = channels

    def error(self) -> RuntimeError:
        return RuntimeError(
            f"a residual read a derivative that the problem's probe did not see, beyond the "
            f"channels {self.channels} this engine computed (compiled, or with an output "
            f"transform); use engine='taylor' without output_transform, or 'reverse'"
        )


class Fields:
    """Fields, their derivatives and the coordinates at one set of points: what a residual
    receives as `f`.

    Built by the trainer from the points `x` (N, d) (requiring grad), the network output `u`
    (N, n_fields), the names of the `coords` and `fields`, and the derivatives an engine
    already computed (`known`, by (field index, coordinate indices)); any other derivative is
    taken by nested reverse mode, once per evaluation.
    """

    def __init__(self, x: torch.Tensor, u: torch.Tensor, coords, fields, known=None):
        self._x, self._u = x, u
        self._coords, self._fields = tuple(coords), tuple(fields)
        self._cache: dict[Key, torch.Tensor] = dict(known or {})
        self._truncated = known if isinstance(known, Truncated) else None
        self.requested: set[Key] = set()

    @property
    def points(self) -> torch.Tensor:
        """The (N, d) points the fields are evaluated at."""
        return self._x

    def d(self, field: str, *coords: str) -> torch.Tensor:
        """The derivative of `field` with respect to `coords` (none: the field itself), (N, 1)."""
        if field not in self._fields:
            raise BadValue(f"unknown field {field!r}; fields are {self._fields}")
        for c in coords:
            if c not in self._coords:
                raise BadValue(
                    f"unknown coordinate {c!r} in d({field!r}, ...); coordinates are {self._coords}"
                )
        key = (self._fields.index(field), tuple(sorted(self._coords.index(c) for c in coords)))
        self.requested.add(key)
        return self._derivative(key)

    def _derivative(self, key: Key) -> torch.Tensor:
        if key in self._cache:
            return self._cache[key]
        i, idx = key
        if not idx:
            value = self._u[:, i : i + 1]
            self._cache[key] = value
            return value
        if self._truncated is not None:
            raise self._truncated.error()
        parent = self._derivative((i, idx[:-1]))
        grad = None
        if parent.requires_grad:
            (grad,) = torch.autograd.grad(
                parent, self._x, torch.ones_like(parent), create_graph=True, allow_unused=True
            )
        if grad is None:  # the parent does not depend on the points: its derivatives vanish
            grad = torch.zeros_like(self._x)
        for j in range(self._x.shape[1]):
            self._cache.setdefault((i, tuple(sorted(idx[:-1] + (j,)))), grad[:, j : j + 1])
        return self._cache[key]

    def __getattr__(self, name: str) -> torch.Tensor:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._fields:
            return self.d(name)
        if name in self._coords:
            return self._x[:, self._coords.index(name)].unsqueeze(1)
        for field in sorted(self._fields, key=len, reverse=True):
            if name.startswith(field + "_"):
                coords = _split(name[len(field) + 1 :], self._coords)
                if coords:
                    return self.d(field, *coords)
        raise BadValue(
            f"unknown name {name!r} in a residual: fields are {self._fields}, coordinates are "
            f"{self._coords}; derivatives are written like {self._fields[0]}_{self._coords[0]} "
            f"or f.d({self._fields[0]!r}, {self._coords[0]!r})"
        )

    __getitem__ = __getattr__


def _split(suffix: str, coords: tuple[str, ...]) -> tuple[str, ...] | None:
    """Split 'xxt' into coordinate names ('x', 'x', 't'), longest names first; None if it can't."""
    if not suffix:
        return ()
    for c in sorted(coords, key=len, reverse=True):
        if suffix.startswith(c):
            rest = _split(suffix[len(c) :], coords)
            if rest is not None:
                return (c, *rest)
    return None


class Params:
    """Read-only view of the unknown parameters that a residual `(f, p)` receives as `p`."""

    def __init__(self, values: dict[str, torch.Tensor]):
        self._values = values
        self._read: set[str] = set()  # the names read so far (the problem's probe checks them)

    def __getattr__(self, name: str) -> torch.Tensor:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._values:
            raise BadValue(
                f"unknown parameter {name!r}; the problem's unknowns are "
                f"{tuple(self._values) or 'none (pass unknowns={...} to Problem)'}"
            )
        self._read.add(name)
        return self._values[name]

    __getitem__ = __getattr__
