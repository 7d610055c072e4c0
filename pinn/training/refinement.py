"""Residual-driven sampling: strategies that move the PDE's collocation points to where the
residual is large. Every `every` first-order steps they evaluate the PDE's squared residual
e(x) (summed over its terms and columns) at candidate points, in chunks (bounded memory), and
replace the "pde" set; the other sets keep their points. Candidates come from the sampler's
random stream and the choices from its torch generator, so a resumed run draws the same.

- `RAR` (residual-based adaptive refinement, Lu, Meng, Mao & Karniadakis 2021): add the
  `add` candidates of largest residual to the set, which grows.
- `RAD` (residual-based adaptive distribution, Wu, Zhu, Tan, Kartha & Lu 2023): draw a new
  set from the candidates with probability p(x) ~ e(x)^(k/2) / mean(e^(k/2)) + c (k = 1,
  c = 1: half of the points where |r| is large, half uniform).
- `R3` (retain, resample, release; Daw, Bu, Wang, Perdikaris & Karpatne 2023): keep the points
  whose |r| (the root of e) is above the set's mean |r|, replace each of the others by a
  fresh point.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from ..errors import BadValue
from .sampling import Sampling
from .schedules import _positive


def _candidates(strategy, sampler) -> int:
    return strategy.candidates or 10 * len(sampler.points["pde"])


def _check(name, every, candidates=None):
    _positive(f"{name}: every", every, integer=True)
    if candidates is not None:
        _positive(f"{name}: candidates", candidates, integer=True)


def _replaced(sampler, x: torch.Tensor) -> dict:
    """The sampler's points with the "pde" set's replaced by `x`."""
    points = dict(sampler.points)
    points["pde"] = dataclasses.replace(points["pde"], x=x, rows=None)
    return points


@dataclass(frozen=True)
class RAR(Sampling):
    """Residual-based adaptive refinement (module docstring): every `every` steps the `add`
    candidates of largest residual, out of `candidates` (None: 10 times the set), join the
    PDE's points."""

    name = "rar"
    every: int = 1000
    add: int = 100
    candidates: int | None = None
    residuals = True

    def __post_init__(self):
        _check("RAR", self.every, self.candidates)
        _positive("RAR: add", self.add, integer=True)

    def points(self, sampler) -> dict:
        n = _candidates(self, sampler)
        if self.add > n:
            raise BadValue(f"RAR: add={self.add} is more than the {n} candidates")
        x = sampler.candidates(n)
        top = sampler.magnitudes(x).nan_to_num(nan=-1.0).topk(self.add).indices
        return _replaced(sampler, torch.cat([sampler.points["pde"].x, x[top]]))


@dataclass(frozen=True)
class RAD(Sampling):
    """Residual-based adaptive distribution (module docstring): every `every` steps a new set
    of the PDE's points, drawn without replacement from `candidates` (None: 10 times the set)
    with probability e^(k/2) / mean(e^(k/2)) + c."""

    name = "rad"
    every: int = 1000
    k: float = 1.0
    c: float = 1.0
    candidates: int | None = None
    residuals = True

    def __post_init__(self):
        _check("RAD", self.every, self.candidates)
        _positive("RAD: k", self.k)
        if isinstance(self.c, bool) or not isinstance(self.c, (int, float)) or self.c < 0:
            raise BadValue(f"RAD: c must be a number >= 0, got {self.c!r}")

    def points(self, sampler) -> dict:
        n = len(sampler.points["pde"])
        x = sampler.candidates(max(n, _candidates(self, sampler)))
        density = sampler.magnitudes(x).pow(self.k / 2)
        p = density / density.mean() + self.c
        p = torch.where(torch.isfinite(p), p, torch.ones_like(p)).clamp_min(1e-30)
        rows = torch.multinomial(p, n, replacement=False, generator=sampler.generator)
        return _replaced(sampler, x[rows])


@dataclass(frozen=True)
class R3(Sampling):
    """Retain, resample, release (module docstring): every `every` steps each of the PDE's
    points whose residual is at most the set's mean is replaced by a fresh point."""

    name = "r3"
    every: int = 1000
    residuals = True

    def __post_init__(self):
        _check("R3", self.every)

    def points(self, sampler) -> dict:
        old = sampler.points["pde"].x
        r = sampler.magnitudes(old).sqrt()  # |r| of each point
        keep = (r > r.nan_to_num(nan=0.0).mean()).unsqueeze(1)
        return _replaced(sampler, torch.where(keep, old, sampler.candidates(len(old))))
