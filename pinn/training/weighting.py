"""Loss weighting: the part of the training step that turns the residual vector of every term
into the loss terms that are summed and differentiated.

A weighting is a value passed as `pinn.train(..., weighting=...)`; a list of them combines
(`[pinn.Causal(), pinn.GradNorm()]`: their factors multiply). It sees the residuals of one step
(`pinn.residuals.Residual`: the rows `r`, the term's declared weight, the points) and returns
one scalar tensor per term. The built-in ones give each term's rows a factor (`factors`: one
number per term, or one per row), so the term is `weight * mean(factor * r**2)`.

An adaptive weighting changes its factors in `update`, which the first-order stages call once
per step before the loss (closure stages such as L-BFGS keep the factors as they are: their
line search needs one fixed function). Its state (`state_dict()` / `load_state_dict()`) is
checkpointed, so a run resumes exactly. Updates stay on the device: no value is read back.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch

from ..errors import BadType, BadValue
from ..residuals import Residual, mean_squares


class Weighting:
    """Base of the weightings: `weighting(residuals, step) -> {term: loss}`.

    The built-ins implement `factors` (and `update`, `start`, `points_changed` when they adapt);
    one of your own may implement `__call__` alone (docs/architecture.md). `name` is its
    type in a run's config, where its settings (`settings()`) are its other keys.
    """

    name: str = ""

    def settings(self) -> dict:
        """The arguments it was made with (its constructor's, read back from its attributes)."""
        names = inspect.signature(type(self).__init__).parameters
        return {k: getattr(self, k) for k in names if k != "self" and hasattr(self, k)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"

    def start(self, objective, sizes: dict[str, int]) -> None:
        """A run begins (`objective`: its problem, network and processes): fresh state.
        `sizes` are the rows of each term's point set."""

    def factors(self, residuals: dict[str, Residual]) -> dict[str, torch.Tensor]:
        """Each term's factor on its rows' squared residuals: a scalar tensor, or one value per
        row (N, 1) or per entry (N, k) of `r`; a term left out has factor 1."""
        return {}

    def update(self, residuals, others: dict, step: int, objective, batch) -> None:
        """Adapt the state at first-order step `step`. `others` are the factors of the other
        weightings combined with this one (the terms' losses are taken with them)."""

    @property
    def adaptive(self) -> bool:
        """Whether it changes as training goes on (it implements `update`)."""
        return type(self).update is not Weighting.update

    def points_changed(self, sizes: dict[str, int], changed: set[str]) -> None:
        """The sampler replaced the points of the terms `changed` (their per-point state
        starts again); `sizes` are the rows of every term's set now."""

    def __call__(self, residuals: dict[str, Residual], step: int) -> dict[str, torch.Tensor]:
        return weighted(residuals, self.factors(residuals))

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Nothing to restore for a weighting without state."""


def weighted(residuals: dict[str, Residual], factors: dict) -> dict[str, torch.Tensor]:
    """`weight * mean(factor * r**2)` of every term (factor 1 where none is given)."""
    return {
        name: res.weight
        * (res.mean(factors[name] * res.losses()) if name in factors else res.mean_square())
        for name, res in residuals.items()
    }


def product(parts: list[dict]) -> dict:
    """The factors of several weightings multiplied term by term."""
    out: dict = {}
    for part in parts:
        for name, f in part.items():
            out[name] = f if name not in out else out[name] * f
    return out


def term_loss(res: Residual, factor) -> torch.Tensor:
    """mean(factor * r**2) of one term, without its declared weight."""
    return res.mean_square() if factor is None else res.mean(factor * res.losses())


def row_factor(values: torch.Tensor, res: Residual) -> torch.Tensor:
    """The rows of a per-point state `values` (rows of the whole set) that `res` holds."""
    return values if res.rows is None else values[res.rows]


def term_names(owner: str, terms) -> tuple | None:
    """`terms=` of a weighting: None (every term) or term names, as a tuple."""
    if terms is not None and (isinstance(terms, str) or not all(isinstance(t, str) for t in terms)):
        raise BadValue(f"{owner}: terms must be a list of term names or None, got {terms!r}")
    return None if terms is None else tuple(terms)


def check_terms(owner: str, terms, sizes: dict) -> None:
    """A clear error for a name in `terms` that is not a term of the problem."""
    if terms is not None and not set(terms) <= set(sizes):
        raise BadValue(
            f"{owner}: no terms {sorted(set(terms) - set(sizes))}; the problem's terms are "
            f"{sorted(sizes)}"
        )


def keep_finite(new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    """`new` where it is finite, else `old`: a NaN residual never spoils the state (no sync)."""
    return torch.where(torch.isfinite(new), new, old)


@dataclass(frozen=True)
class FixedWeights(Weighting):
    """Each term's declared weight times its mean squared residual, `weight * mean(r**2)`
    (the default)."""

    name = "fixed"

    def __call__(self, residuals: dict[str, Residual], step: int) -> dict[str, torch.Tensor]:
        return mean_squares(residuals)


class Combined(Weighting):
    """Several weightings at once: their factors multiply; each adapts seeing the others'."""

    def __init__(self, parts):
        parts = list(parts)
        self.parts = parts
        for w in parts:
            if not _combinable(w):
                raise BadType(
                    f"a list of weightings takes built-in ones (pinn.GradNorm(), "
                    f"pinn.Causal(), ...) or ones that define their loss by factors() and do "
                    f"not override __call__; got {w!r}"
                )

    def __repr__(self) -> str:
        return repr(self.parts)

    def start(self, objective, sizes) -> None:
        for w in self.parts:
            w.start(objective, sizes)

    def factors(self, residuals):
        return product([w.factors(residuals) for w in self.parts])

    def update(self, residuals, others, step, objective, batch) -> None:
        for i, w in enumerate(self.parts):
            rest = [p.factors(residuals) for j, p in enumerate(self.parts) if j != i]
            w.update(residuals, product([others, *rest]), step, objective, batch)

    @property
    def adaptive(self) -> bool:
        return any(w.adaptive for w in self.parts)

    def points_changed(self, sizes, changed) -> None:
        for w in self.parts:
            w.points_changed(sizes, changed)

    def state_dict(self) -> dict:
        return {"parts": [w.state_dict() for w in self.parts]}

    def load_state_dict(self, state: dict) -> None:
        for w, s in zip(self.parts, state["parts"]):
            w.load_state_dict(s)


def _combinable(w) -> bool:
    """Whether `w`'s loss is given by its factors alone, so that it can multiply others'."""
    return isinstance(w, FixedWeights) or (
        isinstance(w, Weighting) and type(w).__call__ is Weighting.__call__
    )
