"""Layers the networks share: random weight factorization, the initializers applied to either
kind of linear layer, the input scaling and output transform every network builds in, and the
Taylor pass of an MLP with an embedding (written with the `pinn.Jet` algebra)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .constraints import Constrained
from .embeddings import scaled
from .errors import BadType, BadValue
from .jets import Jet
from .mlp_pass import _affine, _dropped

RWF = (0.5, 0.1)  # the default (mu, sigma) of random weight factorization


class FactorizedLinear(nn.Module):
    """A linear layer whose weight is W = diag(exp(s)) V (random weight factorization, Wang et
    al. 2022): s (one per output) and V are the trained parameters, `weight` is computed from
    them, so code that reads `layer.weight` and `layer.bias` works unchanged."""

    def __init__(self, in_features: int, out_features: int, mu: float, sigma: float):
        super().__init__()
        self.in_features, self.out_features, self.mu, self.sigma = (
            in_features,
            out_features,
            mu,
            sigma,
        )
        self.s = nn.Parameter(torch.zeros(out_features))
        self.v = nn.Parameter(torch.zeros(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    @property
    def weight(self) -> torch.Tensor:
        return torch.exp(self.s).unsqueeze(1) * self.v

    def factorize(self, w0: torch.Tensor) -> None:
        """Draw s ~ N(mu, sigma²) and set V = W0 / exp(s), so that the weight is `w0`."""
        with torch.no_grad():
            self.s.normal_(self.mu, self.sigma)
            self.set_weight(w0)

    def set_weight(self, w: torch.Tensor) -> None:
        """Keep s and set V so that the weight is `w`."""
        with torch.no_grad():
            self.v.copy_(w.to(self.v) / torch.exp(self.s).unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, rwf=({self.mu}, {self.sigma})"


def rwf_setting(rwf) -> tuple[float, float] | None:
    """`rwf` (False/None, True, or a pair (mu, sigma)) as (mu, sigma) or None."""
    if rwf is None or rwf is False:
        return None
    if rwf is True:
        return RWF
    ok = (
        isinstance(rwf, (tuple, list))
        and len(rwf) == 2
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in rwf
        )
        and rwf[1] >= 0
    )
    if not ok:
        raise BadValue(
            f"rwf must be True, False or a pair (mu, sigma) of finite numbers with sigma >= 0 "
            f"(random weight factorization, default {RWF}), got {rwf!r}"
        )
    return float(rwf[0]), float(rwf[1])


def dense(a: int, b: int, rwf: tuple[float, float] | None) -> nn.Module:
    """An a -> b linear layer: nn.Linear, or a `FactorizedLinear` with rwf = (mu, sigma)."""
    return nn.Linear(a, b) if rwf is None else FactorizedLinear(a, b, *rwf)


def init_linear(layer: nn.Module, init) -> None:
    """The weight from the initializer `init` (in place on a tensor), zero bias; a factorized
    layer draws W0 the same way and factorizes it."""
    if isinstance(layer, FactorizedLinear):
        w0 = torch.empty_like(layer.v)
        init(w0)
        layer.factorize(w0)
    else:
        init(layer.weight)
    nn.init.zeros_(layer.bias)


def set_weight(layer: nn.Module, w: torch.Tensor, b: torch.Tensor) -> None:
    """Make `layer`'s weight `w` and bias `b` (any device and dtype)."""
    with torch.no_grad():
        if isinstance(layer, FactorizedLinear):
            layer.set_weight(w)
        else:
            layer.weight.copy_(w)
        layer.bias.copy_(b)


# -- what every network builds in -------------------------------------------------------------
def check_problem(problem) -> None:
    if not (hasattr(problem, "fields") and hasattr(problem, "domain")):
        raise BadType(
            f"problem must be a pinn.Problem or pinn.Supervised, got {type(problem).__name__}"
        )


def input_scaling(net: nn.Module, problem, scaling) -> None:
    """Register `net`'s `shift` and `scale` buffers: "minmax" maps the domain's bounds to
    [-1, 1], None leaves the inputs alone."""
    if scaling not in ("minmax", None):
        raise BadValue(f"unknown input_scaling {scaling!r}; valid: 'minmax', None")
    lo = torch.as_tensor(problem.domain.lo, dtype=torch.float32)
    hi = torch.as_tensor(problem.domain.hi, dtype=torch.float32)
    shift, scale = torch.zeros_like(lo), torch.ones_like(lo)
    if scaling == "minmax":
        shift, scale = (hi + lo) / 2, 2 / (hi - lo)
    net.register_buffer("shift", shift)
    net.register_buffer("scale", scale)


def output_transform(problem, transform):
    """A network's output transform: the user's `transform` (or None) followed by the
    problem's hard conditions, if it has any."""
    if transform is not None and not callable(transform):
        raise BadType(f"output_transform must be a callable g(x, u), got {transform!r}")
    constraint = getattr(problem, "constraint", None)
    return transform if constraint is None else Constrained(constraint, transform)


def width_list(hidden, what: str = "hidden") -> list[int]:
    if (
        isinstance(hidden, str)
        or not isinstance(hidden, (list, tuple))
        or not hidden
        or not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden)
    ):
        raise BadValue(f"{what} must be a non-empty list of positive widths, got {hidden!r}")
    return list(hidden)


# -- the Taylor pass of pinn.MLP with an embedding -----------------------------------------
def mlp_jet(net, jet: Jet) -> Jet:
    """`pinn.MLP`'s forward pass over a jet: embedding, then each layer (batch norm in
    evaluation mode an affine map per unit, dropout in training the forward's mask), then the
    output scaling. `pinn.mlp_pass` folds the first layer instead, which needs the inputs
    themselves, not an embedding of them."""
    h = scaled(net, jet)
    for i, layer in enumerate(net.linears[:-1]):
        h = h.linear(layer.weight, layer.bias)
        if net.norms is not None:
            g = _affine(net.norms[i])
            h = Jet(
                net.norms[i](h.value),
                [None if c is None else c * g for c in h.channels],
                h.chans,
                h.plan,
            )
        h = h.map(net.act)
        if net.dropouts is not None:
            y = _dropped(net, i, [h.value, *h.channels])
            h = Jet(y[0], y[1:], h.chans, h.plan)
    last = net.linears[-1]
    u = h.linear(last.weight, last.bias)
    return u * net.out_scale + net.out_shift if net.output_scaled else u
