"""Curved and polygonal shapes: balls in any dimension (`Disk` in the plane) and polygons.

Polygons use shapely (validity, area, point-in-polygon and distances, all vectorized and
robust at vertices) rather than hand-written ray casting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from scipy.special import ndtri
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity

from . import distances
from .domain import Domain, check_names
from .errors import BadValue
from .samplers import floats
from .subsets import Piece


class Ball(Domain):
    """The ball of `radius` (default 1) around `center` (default the origin of R^3) in the
    coordinates `names` (default x, y, z, as many as the center has); any dimension >= 2."""

    def __init__(
        self,
        center: Sequence[float] = (0.0, 0.0, 0.0),
        radius: float = 1.0,
        names: Sequence[str] | None = None,
    ):
        kind = type(self).__name__
        center = np.atleast_1d(floats(center, f"{kind} center"))
        if center.ndim != 1 or len(center) < 2:
            raise BadValue(f"{kind} center must be 2 or more numbers, got {center.tolist()}")
        if not np.isfinite(center).all():
            raise BadValue(f"{kind} center must be finite, got {center.tolist()}")
        number = isinstance(radius, (int, float, np.number)) and not isinstance(radius, bool)
        if not (number and np.isfinite(radius) and radius > 0):
            raise BadValue(f"{kind} radius must be a positive number, got {radius!r}")
        self.names = check_names(names, len(center))
        self.center, self.radius = center, float(radius)
        self.lo, self.hi = center - radius, center + radius

    def _describe(self) -> str:
        return f"{type(self).__name__}({tuple(self.center.tolist())}, {self.radius}, names={self.names})"

    def _own_volume(self):
        d = self.dim
        return math.pi ** (d / 2) / math.gamma(d / 2 + 1) * self.radius**d

    def _own_interior(self, u):
        if self.dim == 2:
            r, th = self.radius * np.sqrt(u[:, 0]), 2 * math.pi * u[:, 1]
            return self.center + np.stack([r * np.cos(th), r * np.sin(th)], axis=1)
        if self.dim == 3:
            return self.center + self.radius * np.cbrt(u[:, :1]) * _sphere(u[:, 1:])
        return self.lo + u * (self.hi - self.lo)  # candidates from the cube around it

    def _candidate_volume(self):
        return self._own_volume() if self.dim <= 3 else float(np.prod(self.hi - self.lo))

    @property
    def _exact(self):
        return self.dim <= 3

    def _own_keep(self, x):
        return self.sdf(x) < 0

    def _own_contains(self, x, tol):
        return self.sdf(x) <= tol

    def sdf(self, x):
        return np.linalg.norm(x - self.center, axis=1) - self.radius

    def adf(self, x):
        return distances.ball(self.center, self.radius, x)

    def _own_boundary(self, coords):
        if coords is not None:  # no coordinate is fixed on a sphere
            return []

        def sphere(u):
            nrm = _sphere(u)
            return self.center + self.radius * nrm, nrm

        area = self.dim * self._own_volume() / self.radius
        return [Piece(area, self.dim - 1 if self.dim <= 3 else self.dim, sphere)]


class Disk(Ball):
    """The disk of `radius` (default 1) around `center` (default the origin) in the plane of
    the two coordinates `names` (default x, y)."""

    def __init__(self, center=(0.0, 0.0), radius: float = 1.0, names: Sequence[str] = ("x", "y")):
        if np.shape(center) != (2,) or len(tuple(names)) != 2:
            raise BadValue(f"Disk needs a 2-d center and 2 names, got {center}, {names}")
        super().__init__(center, radius, names)


def _sphere(u: np.ndarray) -> np.ndarray:
    """Points of the unit sphere, uniform for uniform `u`: the circle from one column, the
    2-sphere from two (equal-area map), higher spheres from normalized Gaussians."""
    if u.shape[1] == 1:
        th = 2 * math.pi * u[:, 0]
        return np.stack([np.cos(th), np.sin(th)], axis=1)
    if u.shape[1] == 2:
        z, ph = 1 - 2 * u[:, 0], 2 * math.pi * u[:, 1]
        s = np.sqrt(np.maximum(1 - z**2, 0))
        return np.stack([s * np.cos(ph), s * np.sin(ph), z], axis=1)
    g = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


class Polygon(Domain):
    """A simple polygon (no self-intersection) with the given `vertices` in order, either
    orientation, e.g. `Polygon([(0, 0), (2, 0), (1, 1)])`, in the coordinates `names`."""

    def __init__(self, vertices, names: Sequence[str] = ("x", "y")):
        v = floats(vertices, "Polygon vertices")
        if v.ndim != 2 or v.shape[1] != 2 or len(v) < 3 or not np.isfinite(v).all():
            raise BadValue(f"Polygon needs 3 or more finite (x, y) vertices, got {vertices!r}")
        shape = shapely.Polygon(v)
        if not shape.is_valid or shape.area <= 0:
            raise BadValue(
                f"Polygon vertices {v.tolist()} do not bound a simple polygon: "
                f"{explain_validity(shape)}"
            )
        # counter-clockwise, so the outward normal is to the right; a repeated vertex (an
        # edge of length 0) dropped
        self.shape = orient(shapely.remove_repeated_points(shape), 1.0)
        shapely.prepare(self.shape)
        self.vertices = np.asarray(self.shape.exterior.coords)[:-1]
        self.names = check_names(names, 2)
        self.lo, self.hi = self.vertices.min(axis=0), self.vertices.max(axis=0)

    def _describe(self) -> str:
        return f"Polygon({self.vertices.tolist()}, names={self.names})"

    def _own_volume(self):
        return float(self.shape.area)

    def _own_interior(self, u):  # candidates from the bounding box
        return self.lo + u * (self.hi - self.lo)

    def _candidate_volume(self):
        return float(np.prod(self.hi - self.lo))

    _exact = False

    def _own_keep(self, x):
        return shapely.contains_xy(self.shape, x[:, 0], x[:, 1])

    def _own_contains(self, x, tol):
        return self.sdf(x) <= tol

    def adf(self, x):
        return distances.polygon(self.vertices, x)

    def sdf(self, x):
        distance = shapely.distance(self.shape.exterior, shapely.points(x))
        return np.where(self._own_keep(x), -distance, distance)

    def _own_boundary(self, coords):
        if coords is not None:
            return []
        pieces = []
        for p, q in zip(self.vertices, np.roll(self.vertices, -1, axis=0)):
            edge = q - p
            length = float(np.linalg.norm(edge))
            normal = np.array([edge[1], -edge[0]]) / length

            def side(u, p=p, edge=edge, normal=normal):
                return p + u * edge, np.tile(normal, (len(u), 1))

            pieces.append(Piece(length, 1, side))
        return pieces
