"""Approximate distance functions (ADFs) of shapes and of parts of a domain's boundary, in
torch, for hard constraints (`pinn.constraints`).

A shape's `adf(x)` is zero on its boundary, positive inside, negative outside, with unit
slope along the normal where the boundary is smooth: (r^2 - |x - c|^2) / (2r) for balls,
R-functions for boxes and constructive solids (Rvachev's R-conjunction f + g - sqrt(f^2 +
g^2) and disjunction f + g + sqrt(f^2 + g^2) keep a boundary's zero set and its slope), and
for polygons the join 1 / sum(1 / phi_i) of trimmed segment distances (Sukumar & Srivastava
2022), signed by a crossing test. Square roots and inverses are kept off zero by `floor`, so
values and derivatives stay finite on the boundary and at its corners. Constants enter as
Python floats, so nothing is copied to the device per call.
"""

from __future__ import annotations

import numpy as np
import torch


def floor(t: torch.Tensor) -> float:
    """The smallest distance kept apart from zero, sqrt of the dtype's smallest normal
    number (1e-19 in float32): its inverse squared is still finite."""
    return torch.finfo(t.dtype).tiny ** 0.5


def _hypot(f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """sqrt(f^2 + g^2), with a finite derivative where both vanish."""
    return torch.sqrt(f * f + g * g + floor(f) ** 2)


def r_and(f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Positive where both are, zero on the boundary of that region (R-conjunction)."""
    return f + g - _hypot(f, g)


def r_or(f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Positive where either is, zero on the boundary of that region (R-disjunction)."""
    return f + g + _hypot(f, g)


def box(lo, hi, x: torch.Tensor) -> torch.Tensor:
    """The ADF of the box [lo, hi] at the (N, d) points `x`, (N,)."""
    phi = None
    for j, (a, b) in enumerate(zip(lo.tolist(), hi.tolist())):
        for face in (x[:, j] - a, b - x[:, j]):
            phi = face if phi is None else r_and(phi, face)
    return phi


def ball(center, radius: float, x: torch.Tensor) -> torch.Tensor:
    """(r^2 - |x - c|^2) / (2 r): zero on the sphere, with unit slope there."""
    square = sum((x[:, j] - c) ** 2 for j, c in enumerate(center.tolist()))
    return (radius**2 - square) / (2 * radius)


def polygon(vertices: np.ndarray, x: torch.Tensor) -> torch.Tensor:
    """The signed ADF of the polygon with counter-clockwise `vertices` at 2-d points `x`."""
    px, py = x[:, 0], x[:, 1]
    inverse, inside = 0.0, torch.zeros_like(px, dtype=torch.bool)
    for (x0, y0), (x1, y1) in zip(vertices.tolist(), np.roll(vertices, -1, axis=0).tolist()):
        length = float(np.hypot(x1 - x0, y1 - y0))
        f = ((px - x0) * (y1 - y0) - (py - y0) * (x1 - x0)) / length  # to the edge's line
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        t = ((length / 2) ** 2 - (px - mx) ** 2 - (py - my) ** 2) / length  # >= 0 near the edge
        phi = _hypot(f, (_hypot(t, f * f) - t) / 2)
        inverse = inverse + 1 / phi
        if y0 != y1:  # crossing test of a ray in +x
            crosses = (y0 > py) != (y1 > py)
            inside = inside ^ (crosses & (px < (x1 - x0) * (py - y0) / (y1 - y0) + x0))
    unsigned = 1 / inverse
    return torch.where(inside, unsigned, -unsigned)
