"""Points of the unit cube by several samplers, and drawing until enough candidates are kept.

Every region maps the unit cube onto candidate points (uniform, Sobol, Halton, Latin
hypercube from `scipy.stats.qmc`); where some candidates fall outside the region (a polygon,
a hole), `accepted` draws rounds of them until enough are kept.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import qmc

from .errors import BadValue

METHODS = ("uniform", "sobol", "halton", "lhs")


class UnitStream:
    """Points of the unit cube [0, 1)^k drawn by `method`; a Sobol or Halton sequence
    continues from one `draw` to the next, so candidates drawn in rounds stay one sequence
    (uniform and Latin hypercube points are drawn afresh each round)."""

    def __init__(self, k: int, method: str, rng: np.random.Generator):
        if method not in METHODS:
            raise BadValue(f"unknown sampling method {method!r}; valid: {', '.join(METHODS)}")
        self.k, self.rng, self.engine = k, rng, None
        if k and method != "uniform":
            engine = {"sobol": qmc.Sobol, "halton": qmc.Halton, "lhs": qmc.LatinHypercube}
            self.engine = engine[method](k, rng=rng)

    def draw(self, n: int) -> np.ndarray:
        if self.k == 0 or n == 0:
            return np.zeros((n, self.k))
        if self.engine is None:
            return self.rng.random((n, self.k))
        with warnings.catch_warnings():  # Sobol's balance warning for n not a power of two
            warnings.simplefilter("ignore", UserWarning)
            return self.engine.random(n)


def unit_samples(n: int, k: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """`n` points in the unit cube [0, 1)^k drawn by `method`."""
    return UnitStream(k, method, rng).draw(n)


# candidates tried before a region that keeps few of them is called too small to sample
MAX_CANDIDATES = 2**22


def accepted(n: int, draw: Callable, what: str) -> tuple[np.ndarray, ...]:
    """The kept rows, at least `n`, of candidates `draw(m) -> (mask, *arrays)` (one row per
    candidate in each array), drawing rounds until there are enough; a ValueError saying
    what was found when `MAX_CANDIDATES` do not give them."""
    parts, tried, found = [], 0, 0
    while found < n:
        rate = found / tried if found else 1.0 / tried if tried else 1.0
        m = min(MAX_CANDIDATES - tried, int(1.25 * (n - found) / rate) + 64)
        if m <= 0:
            share = f"{found} of {tried:,}" if found else f"none of {tried:,}"
            raise BadValue(
                f"{what} selected {share} candidate points, too few for {n}; it must select a "
                "part with positive measure (a face: torch.isclose(x[:, 0], torch.tensor(1.0).to(x)))"
            )
        mask, *arrays = draw(m)
        mask = np.asarray(mask, dtype=bool).reshape(-1)
        if mask.shape != (m,):
            raise BadValue(f"{what} returned {mask.shape[0]} values for {m} points; need one each")
        parts.append([x[mask] for x in arrays])
        tried, found = tried + m, found + int(mask.sum())
    return tuple(np.concatenate(cols) for cols in zip(*parts))


def allocate(n: int, weights: Sequence[float]) -> list[int]:
    """Split `n` into integer counts proportional to `weights` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    exact = n * w / w.sum()
    counts = np.floor(exact).astype(int)
    for i in np.argsort(counts - exact)[: n - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def check_count(n, what="n"):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise BadValue(f"{what} must be a positive integer, got {n!r}")


def floats(value, what: str) -> np.ndarray:
    """`value` (a number or a sequence of them) as floats; ValueError naming it otherwise."""
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise BadValue(f"{what} must be a number or a sequence of numbers, got {value!r}")
    return array.astype(float)


def check_name(name):
    if not isinstance(name, str) or not name.isidentifier():
        raise BadValue(f"coordinate name must be an identifier such as 'x', got {name!r}")
