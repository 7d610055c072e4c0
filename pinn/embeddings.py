"""Input embeddings of the networks: random Fourier features and exact periodicity.

`FourierFeatures` and `Periodic` are settings only (small frozen dataclasses that a config
writes by their fields); the network holds what they draw, in an `Embedding` module built from
the list. The embedding is written once over tensors and `pinn.Jet`s alike (`lin`, `apply`,
`cat`), so a network's forward pass and its Taylor pass run the same code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from .errors import BadType, BadValue
from .jets import Jet


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _positive_number(value) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


@dataclass(frozen=True)
class FourierFeatures:
    """Random Fourier features gamma(h) = [cos(B h), sin(B h)] of the network's scaled inputs
    (or of the embedding before it in a list): B is a (features, inputs) matrix of N(0, scale²)
    entries drawn from torch's global generator when the network draws its weights (a buffer,
    not trained).

    Args:
        scale: the standard deviation of B's entries (default 1.0): higher scales give higher
            frequencies (on inputs scaled to [-1, 1], scale s reaches wavelengths ~ 2π / s).
        features: the number of frequencies (default 64); the embedding has 2 * features
            outputs.
    """

    scale: float = 1.0
    features: int = 64

    def __post_init__(self):
        if not _positive_number(self.scale):
            raise BadValue(
                f"FourierFeatures: scale must be a finite number > 0 (the std of the "
                f"frequencies), got {self.scale!r}"
            )
        if not _positive_int(self.features):
            raise BadValue(
                f"FourierFeatures: features must be a positive integer (the number of "
                f"frequencies), got {self.features!r}"
            )


@dataclass(frozen=True)
class Periodic:
    """Exact periodicity in the named coordinates: coordinate x enters the network as
    cos(2πk x / period), sin(2πk x / period) for k = 1 .. harmonics, computed from the raw,
    unscaled coordinate; the other coordinates pass through scaled. It must come first in a
    list of embeddings (it reads the coordinates by name).

    Args:
        periods: the period of each periodic coordinate by name, e.g. {"x": 2.0}.
        harmonics: how many multiples of the base frequency each one takes (default 1).
    """

    periods: Mapping[str, float]
    harmonics: int = 1

    def __post_init__(self):
        if not isinstance(self.periods, Mapping) or not self.periods:
            raise BadType(
                f"Periodic: periods must be a non-empty dict coordinate name -> period, e.g. "
                f'{{"x": 2.0}}, got {self.periods!r}'
            )
        for name, period in self.periods.items():
            if not isinstance(name, str):
                raise BadType(f"Periodic: coordinate names must be strings, got {name!r}")
            if not _positive_number(period):
                raise BadValue(
                    f"Periodic: the period of {name!r} must be a finite number > 0, got {period!r}"
                )
        if not _positive_int(self.harmonics):
            raise BadValue(
                f"Periodic: harmonics must be a positive integer, got {self.harmonics!r}"
            )
        object.__setattr__(self, "periods", {k: float(v) for k, v in self.periods.items()})

    def __hash__(self):
        return hash((tuple(self.periods.items()), self.harmonics))


EMBEDDINGS = (FourierFeatures, Periodic)


def specs(embedding) -> tuple:
    """`embedding` (None, one embedding or a list) as a checked tuple of embeddings."""
    if embedding is None:
        return ()
    items = list(embedding) if isinstance(embedding, (list, tuple)) else [embedding]
    for i, spec in enumerate(items):
        if not isinstance(spec, EMBEDDINGS):
            raise BadType(
                f"embedding must be pinn.FourierFeatures(scale, features), "
                f"pinn.Periodic({{name: period}}), a list of them or None, got {spec!r}"
            )
        if isinstance(spec, Periodic) and i > 0:
            raise BadValue(
                "embedding: pinn.Periodic must come first in the list (it reads the raw "
                f"coordinates by name), got it at position {i} of {items!r}"
            )
    return tuple(items)


# -- one code path for tensors and jets ------------------------------------------------------
def lin(h, layer=None, weight=None, bias=None):
    """`layer(h)` (or h @ weight.T + bias) for a tensor or a `pinn.Jet`."""
    if layer is not None:
        weight, bias = layer.weight, layer.bias
        if not isinstance(h, Jet):
            return layer(h)
    if isinstance(h, Jet):
        return h.linear(weight, bias)
    return nn.functional.linear(h, weight, bias)


def apply(fn, h):
    """The elementwise `fn` (an activation module or torch.sin, ...) of a tensor or a jet."""
    return h.map(fn) if isinstance(h, Jet) else fn(h)


def cat(parts: list):
    """Tensors or jets side by side along the features."""
    return Jet.cat(parts) if isinstance(parts[0], Jet) else torch.cat(parts, -1)


def _channelwise(a: Jet, b: Jet, both, only_a, only_b) -> Jet:
    """A jet from `both(ca, cb)` of each pair of channels (`only_a(ca)`, `only_b(cb)` where
    the other is zero): an affine combination in one kernel per channel."""
    out = []
    for ca, cb in zip(a.channels, b.channels):
        if ca is None:
            out.append(None if cb is None else only_b(cb))
        else:
            out.append(only_a(ca) if cb is None else both(ca, cb))
    return Jet(both(a.value, b.value), out, a.chans, a.plan)


def sub(a, b):
    """a - b for tensors or jets (a jet's `-` negates, then adds: two kernels per channel)."""
    if isinstance(a, Jet):
        return _channelwise(a, b, torch.sub, lambda c: c, torch.neg)
    return a - b


def lerp(a, b, w: torch.Tensor):
    """(1 - w) a + w b, w a 0-dim tensor, for tensors or jets: one kernel per channel."""
    if isinstance(a, Jet):
        return _channelwise(
            a, b, lambda x, y: torch.lerp(x, y, w), lambda x: x - x * w, lambda y: y * w
        )
    return torch.lerp(a, b, w)


class Embedding(nn.Module):
    """The input map of a network: the raw coordinates to the features its first layer reads
    (`specs`: embeddings in order, checked against the problem's coordinate `names`)."""

    def __init__(self, embeddings: tuple, names: tuple[str, ...]):
        super().__init__()
        self.specs, d = embeddings, len(names)
        self.omegas: list[float] = []  # 2πk / period, one per periodic feature pair
        width = d
        eye = torch.eye(d)
        if embeddings and isinstance(embeddings[0], Periodic):
            p = embeddings[0]
            unknown = [n for n in p.periods if n not in names]
            if unknown:
                raise BadValue(
                    f"Periodic: unknown coordinate {unknown[0]!r}; the problem's coordinates "
                    f"are {names}"
                )
            cols = [names.index(n) for n in p.periods]
            rows = [j for j in cols for _ in range(p.harmonics)]
            self.omegas = [
                2 * math.pi * k / p.periods[names[j]]
                for j in cols
                for k in range(1, p.harmonics + 1)
            ]
            keep = [j for j in range(d) if j not in cols]
            # 0/1 selections, exact in any dtype: the frequencies stay Python floats (exact
            # periodicity in float64, no host copy per call)
            self.register_buffer("periodic_rows", eye[rows].clone())
            self.register_buffer("kept_rows", eye[keep].clone())
            width = len(keep) + 2 * len(rows)
        self.fourier = []
        for i, spec in enumerate(embeddings):
            if isinstance(spec, FourierFeatures):
                self.register_buffer(f"B{i}", torch.zeros(spec.features, width))
                self.fourier.append((f"B{i}", spec.scale))
                width = 2 * spec.features
        self.width = width

    def reset_parameters(self) -> None:
        """Draw each B with N(0, scale²) entries from torch's global generator."""
        with torch.no_grad():
            for name, scale in self.fourier:
                getattr(self, name).normal_(0.0, scale)

    def forward(self, x, shift: torch.Tensor, scale: torch.Tensor):
        """The features of the raw coordinates `x` (a tensor or the jet of the coordinates),
        `shift` and `scale` the network's input scaling."""
        if self.omegas:
            parts = []
            if len(self.kept_rows):
                w = self.kept_rows * scale  # rows of diag(scale)
                parts.append(lin(x, weight=w, bias=-(w @ shift)))
            z = cat(
                [
                    lin(x, weight=self.periodic_rows[i : i + 1] * omega)
                    for i, omega in enumerate(self.omegas)
                ]
            )
            h = cat([*parts, apply(torch.cos, z), apply(torch.sin, z)])
        elif isinstance(x, Jet):
            h = x.linear(torch.diag(scale), -shift * scale)
        else:
            h = (x - shift) * scale
        for name, _ in self.fourier:
            z = lin(h, weight=getattr(self, name))
            h = cat([apply(torch.cos, z), apply(torch.sin, z)])
        return h


def scaled(net, x):
    """The inputs of `net`'s first layer: its embedding of `x` (a tensor or a jet), or the
    scaled coordinates (x - shift) * scale."""
    if net.embed is not None:
        return net.embed(x, net.shift, net.scale)
    if isinstance(x, Jet):
        return x.linear(torch.diag(net.scale), -net.shift * net.scale)
    return (x - net.shift) * net.scale
