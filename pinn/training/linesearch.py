"""A strong-Wolfe line search that treats a NaN or Inf trial as a step too long, and is bounded.

Nocedal & Wright, Numerical Optimization (2nd ed.), Algorithms 3.5 (bracketing) and 3.6
(zoom), with the safeguarded cubic interpolation of their section 3.5. Written here rather than
taken from torch (`torch.optim.lbfgs._strong_wolfe`, private, which goes on evaluating NaN
trials) or SciPy (`line_search_wolfe2`, on NumPy arrays on the host): a trial whose loss or
slope is not finite shrinks the step, and the search never takes more than `max_evals`
evaluations. It returns the best point that decreases the loss, or none.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

C1, C2 = 1e-4, 0.9  # sufficient decrease and curvature constants (quasi-Newton values)


@dataclass
class Trial:
    """A point x + t d along the search direction: its loss, gradient and slope g . d."""

    t: float
    f: float
    g: torch.Tensor | None
    slope: float

    @property
    def finite(self) -> bool:
        return math.isfinite(self.f) and math.isfinite(self.slope)


def strong_wolfe(
    evaluate: Callable[[float], tuple[float, torch.Tensor]],
    start: Trial,
    d: torch.Tensor,
    t: float,
    max_evals: int,
) -> tuple[Trial | None, int]:
    """Search along `d` from `start` (t = 0) with first trial step `t`; `evaluate(t)` gives the
    loss and flat gradient at x + t d. Returns the accepted trial (strong Wolfe, or failing
    that the lowest one with sufficient decrease; None when no trial decreased the loss) and
    the evaluations made."""
    f0, slope0 = start.f, start.slope
    evals = 0

    def trial(step: float) -> Trial:
        nonlocal evals
        evals += 1
        f, g = evaluate(step)
        slope = float(g @ d) if math.isfinite(f) else math.nan
        return Trial(step, f, g, slope)

    def armijo(p: Trial) -> bool:
        return p.finite and p.f <= f0 + C1 * p.t * slope0

    def wolfe(p: Trial) -> bool:
        return armijo(p) and abs(p.slope) <= -C2 * slope0

    prev, best = start, None
    while evals < max_evals:
        p = trial(t)
        if not armijo(p) or (prev is not start and p.f >= prev.f):
            return _zoom(prev, p, trial, armijo, wolfe, lambda: evals < max_evals), evals
        if wolfe(p):
            return p, evals
        best = p
        if p.slope >= 0:
            return _zoom(p, prev, trial, armijo, wolfe, lambda: evals < max_evals), evals
        # still descending: extrapolate, between a little and ten times further
        step = _cubic(prev, p, p.t + 0.01 * (p.t - prev.t), 10 * p.t)
        prev, t = p, step
    return best, evals


def _zoom(lo: Trial, hi: Trial, trial, armijo, wolfe, more) -> Trial | None:
    """Narrow [lo, hi] (lo: the lowest trial with sufficient decrease, or the start) to a
    strong-Wolfe point; a non-finite hi is bisected towards lo."""
    while more():
        a, b = sorted((lo.t, hi.t))
        if b - a <= 1e-12 * max(1.0, b):
            break
        pad = 0.1 * (b - a)
        t = _cubic(lo, hi, a + pad, b - pad) if hi.finite else 0.5 * (lo.t + hi.t)
        p = trial(t)
        if not armijo(p) or p.f >= lo.f:
            hi = p
        else:
            if wolfe(p):
                return p
            if p.slope * (hi.t - lo.t) >= 0:
                hi = lo
            lo = p
    return lo if lo.t > 0 else None


def _cubic(p: Trial, q: Trial, lo: float, hi: float) -> float:
    """The minimiser of the cubic through two trials' values and slopes, clipped to
    [lo, hi] (the bisection of the interval when the cubic has none)."""
    lo, hi = min(lo, hi), max(lo, hi)
    if p.finite and q.finite and p.t != q.t:
        d1 = p.slope + q.slope - 3 * (p.f - q.f) / (p.t - q.t)
        square = d1 * d1 - p.slope * q.slope
        if square >= 0:
            d2 = math.copysign(math.sqrt(square), q.t - p.t)
            t = q.t - (q.t - p.t) * (q.slope + d2 - d1) / (q.slope - p.slope + 2 * d2)
            if math.isfinite(t):
                return min(max(t, lo), hi)
    return 0.5 * (lo + hi)
