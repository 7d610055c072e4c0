"""The outcome of a training run: the trained network, its history and its errors."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch

from .errors import BadValue
from .metrics import max_error, relative_l2


@dataclass
class Result:
    """A trained model with the problem it solves; `pinn.train` and `pinn.load` return one.

    Fields: `problem`, `net`, `unknowns_module` (the trained `pinn.Unknowns`; `unknowns` gives
    their values by name), the `device` and `dtype` it was trained in, `n_eval` (the size of the
    evaluation grid of `error()`), `history` (one dict per logged step) and `info` (the engine,
    the stages' steps, recoveries, timings).
    """

    problem: object
    net: torch.nn.Module
    unknowns_module: torch.nn.Module
    device: torch.device = torch.device("cpu")
    dtype: torch.dtype = torch.float32
    n_eval: int = 10_000
    history: list[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self._grid = None

    @property
    def unknowns(self) -> dict[str, float]:
        """The fitted unknown parameters of an inverse problem, by name."""
        return self.unknowns_module.as_dict()

    def predict(self, points) -> torch.Tensor:
        """The fields at `points` (N, d), as an (N, n_fields) tensor on the points' device."""
        given = torch.as_tensor(np.asarray(points) if not torch.is_tensor(points) else points)
        if given.ndim != 2 or given.shape[1] != self.problem.domain.dim:
            raise BadValue(
                f"points must have shape (N, {self.problem.domain.dim}) for "
                f"coordinates {self.problem.coords}, got {tuple(given.shape)}"
            )
        was_training = self.net.training
        self.net.eval()
        with torch.no_grad():
            u = self.net(given.to(device=self.device, dtype=self.dtype))
        self.net.train(was_training)
        return u.to(given.device)

    def grid(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The evaluation grid and the exact solution on it (computed once per result)."""
        if self._grid is None:
            x = torch.as_tensor(self.problem.domain.grid(self.n_eval), dtype=torch.float64)
            self._grid = (x, self.problem.exact_at(x))
        return self._grid

    def _pair(self, points, values):
        if points is None:
            if values is not None:
                raise BadValue("values given without points")
            points, values = self.grid()
        elif values is None:
            points = torch.as_tensor(np.asarray(points) if not torch.is_tensor(points) else points)
            values = self.problem.exact_at(points.double())
        values = torch.as_tensor(np.asarray(values) if not torch.is_tensor(values) else values)
        pred = self.predict(points).double().cpu()
        values = values.double().cpu()
        if values.numel() == pred.numel():  # (N,) for one field, say
            values = values.reshape(pred.shape)
        if values.shape != pred.shape:
            raise BadValue(f"values have shape {tuple(values.shape)}; expected {tuple(pred.shape)}")
        return pred, values

    def error(self, points=None, values=None, fields=None) -> float:
        """Relative L2 error against the exact solution on the evaluation grid, or given data;
        `fields`: over these fields alone (e.g. `("u", "v")`, a velocity without its pressure)."""
        pred, values = self._pair(points, values)
        if fields is not None:
            fields = (fields,) if isinstance(fields, str) else tuple(fields)
            unknown = [f for f in fields if f not in self.problem.fields]
            if unknown or not fields:
                raise BadValue(
                    f"error: fields must be some of {self.problem.fields}, got {fields!r}"
                )
            cols = [self.problem.fields.index(f) for f in fields]
            pred, values = pred[:, cols], values[:, cols]
        return relative_l2(pred, values)

    def errors(self, points=None, values=None) -> dict:
        """Relative L2 and max absolute error of all fields together ("l2", "max"), and of
        each field by name ("fields": {"u": {"l2": ..., "max": ...}, ...}; "l2" is None for a
        field whose reference is zero everywhere)."""
        pred, values = self._pair(points, values)
        fields = {
            name: {
                # a field whose reference is zero everywhere has no relative error (None)
                "l2": relative_l2(p, v) if bool(v.abs().max() > 0) else None,
                "max": max_error(p, v),
            }
            for i, name in enumerate(self.problem.fields)
            for p, v in [(pred[:, i : i + 1], values[:, i : i + 1])]
        }
        return {"l2": relative_l2(pred, values), "max": max_error(pred, values), "fields": fields}

    def plot(self, kind: str = "solution", path=None, **options):
        """A matplotlib Figure of the solution, the loss history or the unknowns (see pinn.plots)."""
        from .plots import plot

        return plot(self, kind, path, **options)

    def state(self) -> dict:
        """A copy of the trainable state (network and unknowns)."""
        return copy.deepcopy(
            {"net": self.net.state_dict(), "unknowns": self.unknowns_module.state_dict()}
        )

    def load_state(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.unknowns_module.load_state_dict(state["unknowns"])
