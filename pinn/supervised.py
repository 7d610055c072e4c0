"""Plain supervised learning (regression or classification) with the same trainer and networks.

A `Supervised` problem stands where a `Problem` does in `pinn.MLP`, `pinn.train` and `Result`:
one point set, "data", of inputs and targets, and one loss term on it, so the whole training
toolbox (stages, schedules, mini-batches, early stopping, ...) applies to ordinary data fitting.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .domain import Box
from .errors import BadValue
from .pointsets import Points
from .residuals import Residual, mean_squares

LOSSES = {"mse": F.mse_loss, "cross_entropy": F.cross_entropy}


def _tensor(v) -> torch.Tensor:
    return torch.as_tensor(np.asarray(v) if not torch.is_tensor(v) else v)


class Supervised:
    """Inputs `x` (N, d) and targets `y`, fitted by minimizing `loss`.

    Args:
        x: (N, d) inputs.
        y: for loss="mse" (default), (N,) or (N, k) values; for loss="cross_entropy", (N,)
            integer class labels 0..k-1, and the network outputs k logits (the softmax is part
            of the loss: `result.predict(x).softmax(1)` gives the probabilities).
        names: the input coordinates (default x, y, z, or x0, x1, ... for d > 3).
        fields: the output names (default y or y0, y1, ...; class0, class1, ... for labels).
        name: for messages and run directories.

    Its `domain` is the bounding box of `x` (a constant column gets a unit width), which is
    what `pinn.MLP`'s default min-max input scaling maps to [-1, 1].
    """

    terms = ("data",)

    def __init__(self, x, y, loss: str = "mse", names=None, fields=None, name=None):
        if loss not in LOSSES:
            raise BadValue(f"unknown loss {loss!r}; valid: {', '.join(LOSSES)}")
        x, y = _tensor(x).double(), _tensor(y)
        if x.ndim != 2 or len(x) == 0:
            raise BadValue(f"x must be a non-empty (N, d) array, got shape {tuple(x.shape)}")
        if len(y) != len(x):
            raise BadValue(f"y has {len(y)} rows but x has {len(x)}")
        if not torch.isfinite(x).all():
            raise BadValue("x contains NaN or Inf")
        if loss == "cross_entropy":
            if y.ndim != 1 or y.is_floating_point() or y.min() < 0:
                raise BadValue(
                    f"cross_entropy needs y as (N,) integer labels 0..k-1, got dtype {y.dtype} "
                    f"and shape {tuple(y.shape)}"
                )
            y, k, prefix = y.long(), int(y.max()) + 1, "class"
        else:
            y = (y.unsqueeze(1) if y.ndim == 1 else y).double()
            if y.ndim != 2 or not torch.isfinite(y).all():
                raise BadValue(f"y must be finite (N,) or (N, k) values, shape {tuple(y.shape)}")
            k, prefix = y.shape[1], "y"
        lo, hi = x.min(0).values.numpy(), x.max(0).values.numpy()
        flat = hi <= lo
        self.domain = Box(np.where(flat, lo - 0.5, lo), np.where(flat, hi + 0.5, hi), names)
        self.coords = self.domain.names
        default = (prefix,) if k == 1 and prefix == "y" else tuple(f"{prefix}{i}" for i in range(k))
        self.fields = tuple(fields) if fields is not None else default
        if len(self.fields) != k:
            raise BadValue(f"{len(self.fields)} field names {self.fields} for {k} outputs")
        self.x, self.y, self.loss, self.name = x, y, loss, name
        self.criterion = LOSSES[loss]
        self.exact, self.unknowns = None, {}

    def __repr__(self):
        return f"Supervised({self.name or ''!s}, {len(self.x)} samples, loss={self.loss!r})"

    def target(self, y, device, dtype) -> torch.Tensor:
        """`y` in the form the loss takes: labels stay integers, values follow `dtype`."""
        y = _tensor(y).to(device)
        return y.long() if self.loss == "cross_entropy" else y.reshape(len(y), -1).to(dtype)

    def sample(self, seed=0, dtype=torch.float32, device="cpu", rng=None, cap=None) -> dict:
        """The data as the one point set "data" (the same every call: nothing to draw)."""
        n = min(len(self.x), cap or len(self.x))
        x, y = self.x[:n].to(device=device, dtype=dtype), self.target(self.y[:n], device, dtype)
        return {"data": Points(x, None, y)}

    def residuals(self, net, batch, unknowns=None, engine=None) -> dict[str, Residual]:
        """{"data": the per-point losses loss(net(x), y)} on the batch."""
        pts = batch["data"]
        losses = self.criterion(net(pts.x), pts.target, reduction="none")
        return {"data": Residual(losses, 1.0, pts.x, pointwise=True, total=pts.total)}

    def losses(self, net, batch, unknowns=None, engine=None) -> dict[str, torch.Tensor]:
        """{"data": mean of loss(net(x), y)} on the batch."""
        return mean_squares(self.residuals(net, batch))

    def exact_at(self, x):
        raise BadValue(
            "a Supervised problem has no exact solution; pass points and values to error()"
        )
