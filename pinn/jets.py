"""Jets: a tensor carried together with its derivatives in the input coordinates, the algebra
of the Taylor-mode engine.

A derivative channel is a sorted multi-index `a` of coordinates, () being the value itself;
the channels of a pass are closed under sub-multi-indices (`channels`). A `Jet` holds the
value and every channel of one quantity. Linear maps act on each channel; an elementwise
function sigma acts by Faa di Bruno's formula, with sigma's derivatives known in closed form
(`FUNCTIONS`, and the activation modules of `pinn.MLP`); a product of two jets by Leibniz's
rule. A network that writes its forward pass with these operations has a Taylor pass (its
`taylor(jet)` method, docs/architecture.md), and the engine computes every derivative the
residuals read in one forward pass and one first-order backward.
"""

from __future__ import annotations

import functools
import math
from collections import Counter

import torch
from torch import nn

from .errors import BadValue

Channel = tuple[int, ...]  # a sorted multi-index of coordinates; () is the value itself


class Sin(nn.Module):
    """sin(x), the activation of SIREN-style networks (not in torch.nn)."""

    def forward(self, x):
        return torch.sin(x)


# -- elementwise functions: sigma and its derivatives up to order n ------------------------------------
def _tanh(z, n):
    t = _fast_tanh(z) if torch.compiler.is_compiling() else torch.tanh(z)
    return _riccati(t, lambda t: 1 - t.square(), lambda t: -2 * t, n)


def _fast_tanh(z):
    return _FastTanh.apply(z)


class _FastTanh(torch.autograd.Function):
    """tanh(z) as e / (e + 2), e = expm1(2z): within 2 ulp of torch.tanh (float32 and float64)
    and, compiled on the CPU, 2.5x faster, a vectorized expm1 being cheaper than tanh (eager,
    its five kernels are slower than one: the pass uses it only under torch.compile). z is
    capped at 20, where tanh rounds to 1 in float64 already, so that expm1 cannot overflow.
    The backward, g (1 - t^2), reads the saved output (differentiable to any order)."""

    @staticmethod
    def forward(ctx, z):
        e = torch.expm1(2 * z.clamp(max=20.0))
        t = e / (e + 2)
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        return grad * (1 - t * t)


def _sigmoid(z, n):
    return _riccati(torch.sigmoid(z), lambda s: s * (1 - s), lambda s: 1 - 2 * s, n)


def _riccati(f, p, dp, n):
    """f and its first n derivatives where f' = p(f), p quadratic with p'' = -2 (tanh, sigmoid).

    f'' = a f' with a = p'(f) and a' = -2 f', so by Leibniz
    f^(k+1) = a f^(k) - 2 sum_(j=1..k-1) C(k-1, j) f^(j) f^(k-j).
    """
    d = [f]
    if n >= 1:
        d.append(p(f))
    if n >= 2:
        a = dp(f)
        d.append(a * d[1])
    for k in range(2, n):
        d.append(a * d[k] - 2 * sum(math.comb(k - 1, j) * d[j] * d[k - j] for j in range(1, k)))
    return d


def _sin(z, n):
    d = [torch.sin(z), torch.cos(z)][: n + 1]
    for k in range(2, n + 1):  # sin'' = -sin
        d.append(-d[k - 2])
    return d


def _cos(z, n):
    d = [torch.cos(z), -torch.sin(z)][: n + 1]
    for k in range(2, n + 1):  # cos'' = -cos
        d.append(-d[k - 2])
    return d


def _exp(z, n):
    e = torch.exp(z)
    return [e] * (n + 1)


def _silu(z, n):
    s = _sigmoid(z, n)  # (z s)^(k) = z s^(k) + k s^(k-1)
    return [z * s[k] + k * s[k - 1] if k else z * s[0] for k in range(n + 1)]


def _gelu(z, n):
    # gelu = z Phi(z); Phi^(m) = (-1)^(m-1) He_(m-1)(z) phi(z) (probabilists' Hermite)
    phi = torch.exp(-0.5 * z.square()) / math.sqrt(2 * math.pi)
    cdf = [0.5 * (1 + torch.erf(z / math.sqrt(2)))]
    he = [None, z]  # He_1 = z, He_(m+1) = z He_m - m He_(m-1), He_0 = 1
    for m in range(1, n + 1):
        if m >= 3:
            he.append(z * he[m - 2] - (m - 2) * (he[m - 3] if m > 3 else 1))
        cdf.append(phi if m == 1 else (-1) ** (m - 1) * he[m - 1] * phi)
    return [z * cdf[k] + k * cdf[k - 1] if k else z * cdf[0] for k in range(n + 1)]


def _relu(z, n):
    # relu' is the step (0 at z = 0, as autograd has it); higher derivatives vanish
    return [torch.relu(z), (z > 0).to(z.dtype), *[None] * (n - 1)][: n + 1]


def _leaky(slope):
    def leaky(z, n):
        d1 = (z > 0).to(z.dtype) * (1 - slope) + slope
        return [nn.functional.leaky_relu(z, slope), d1, *[None] * (n - 1)][: n + 1]

    return leaky


FUNCTIONS = {torch.tanh: _tanh, torch.sigmoid: _sigmoid, torch.sin: _sin, torch.cos: _cos}
FUNCTIONS[torch.exp] = _exp


def _derivatives(act):
    """The function (z, n) -> [sigma(z), sigma'(z), ..., sigma^(n)(z)] of `act` (a module or
    one of the torch functions of `FUNCTIONS`), or None."""
    if act in FUNCTIONS:
        return FUNCTIONS[act]
    kind = type(act)
    if kind is nn.Tanh:
        return _tanh
    if kind is nn.Sigmoid:
        return _sigmoid
    if kind is Sin:
        return _sin
    if kind is nn.SiLU:
        return _silu
    if kind is nn.GELU and act.approximate == "none":
        return _gelu
    if kind is nn.ReLU:
        return _relu
    if kind is nn.LeakyReLU:
        return _leaky(act.negative_slope)
    return None


# -- the plan: which channels, and Faa di Bruno's formula for each ----------------------------
def channels(keys) -> tuple[Channel, ...]:
    """The coordinate multi-indices of `keys`, closed under sub-multi-indices, by order."""
    out = {()}
    for _, idx in keys:
        idx = tuple(sorted(idx))
        for mask in range(1 << len(idx)):
            out.add(tuple(c for b, c in enumerate(idx) if mask >> b & 1))
    return tuple(sorted(out, key=lambda a: (len(a), a)))


def _set_partitions(items: tuple):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        yield [(first,), *part]
        for i, block in enumerate(part):
            yield [*part[:i], (first, *block), *part[i + 1 :]]


@functools.lru_cache(maxsize=64)
def _plan(chans: tuple[Channel, ...]):
    """For each channel a, the terms of d^a sigma(z): (k, coefficient, channels multiplied).

    Faa di Bruno: d^a sigma(z) = sum over set partitions P of a's positions of
    sigma^(|P|)(z) * prod over blocks B of d^(a_B) z. Equal terms are merged.
    """
    index = {a: i for i, a in enumerate(chans)}
    plan = []
    for a in chans[1:]:
        terms = Counter()
        for part in _set_partitions(tuple(range(len(a)))):
            blocks = sorted(index[tuple(sorted(a[p] for p in b))] for b in part)
            terms[(len(part), tuple(blocks))] += 1
        plan.append(tuple((k, c, blocks) for (k, blocks), c in sorted(terms.items())))
    return tuple(plan)


def _activate(sigma, z: list, plan, order: int) -> list:
    """The channels of sigma(z) from those of z (None: identically zero), by `plan`."""
    d = sigma(z[0], order)
    y = [d[0]]
    for terms in plan:
        acc = None
        for k, c, blocks in terms:
            if d[k] is None or any(z[b] is None for b in blocks):
                continue
            t = z[blocks[0]] * c if c != 1 else z[blocks[0]]  # often a cheap (1, width) row
            for b in blocks[1:]:
                t = t * z[b]
            acc = t * d[k] if acc is None else torch.addcmul(acc, t, d[k])
        y.append(acc)
    return y


@functools.lru_cache(maxsize=64)
def _products(chans: tuple[Channel, ...]):
    """For each channel a, the terms of d^a (f g): (coefficient, channel of f, channel of g).

    Leibniz: d^a (f g) = sum over subsets S of a's positions of d^(a_S) f * d^(a \\ S) g."""
    index = {a: i for i, a in enumerate(chans)}
    plan = []
    for a in chans:
        terms = Counter()
        for mask in range(1 << len(a)):
            left = tuple(c for b, c in enumerate(a) if mask >> b & 1)
            right = tuple(c for b, c in enumerate(a) if not mask >> b & 1)
            terms[(index[left], index[right])] += 1
        plan.append(tuple((c, i, j) for (i, j), c in sorted(terms.items())))
    return tuple(plan)


def _add(a, b):
    return b if a is None else a if b is None else a + b


class Jet:
    """A value (N, k) and its derivative channels, one per multi-index of `chans` after ()
    (None: identically zero; a (1, k) row: the same for every point).

    `Jet.input(x, chans)` is the jet of the coordinates themselves; a network's `taylor(jet)`
    maps it through `linear`, `map`, `+`, `-`, `*` and `Jet.cat` as its forward pass maps x.
    `plan` is Faa di Bruno's formula for `chans` (computed when not given).
    """

    def __init__(self, value: torch.Tensor, channels: list | None, chans, plan=None):
        self.value, self.chans = value, chans
        self.plan = _plan(chans) if plan is None else plan
        self._channels = channels

    @classmethod
    def input(cls, x: torch.Tensor, chans, plan=None) -> Jet:
        """The jet of the coordinates x (N, d): d x / d x_j is the unit row e_j."""
        return cls(x, None, chans, plan)

    @property
    def is_input(self) -> bool:
        """Whether this is the jet of the coordinates themselves (`Jet.input`)."""
        return self._channels is None

    @property
    def channels(self) -> list:
        if self._channels is None:  # the input: unit rows, built only when asked for
            eye = torch.eye(self.value.shape[1], dtype=self.value.dtype, device=self.value.device)
            self._channels = [eye[a[0] : a[0] + 1] if len(a) == 1 else None for a in self.chans[1:]]
        return self._channels

    def _like(self, value, channels) -> Jet:
        return Jet(value, channels, self.chans, self.plan)

    def linear(self, layer, bias=None) -> Jet:
        """`layer(x)` for an nn.Linear (or x @ W.T + bias for a weight W): the bias reaches
        the value alone."""
        w, b = (layer.weight, layer.bias) if isinstance(layer, nn.Linear) else (layer, bias)
        if self._channels is None:  # the input: channel (j,) maps to the column W[:, j]
            channels = [w[:, a[0]].unsqueeze(0) if len(a) == 1 else None for a in self.chans[1:]]
        else:
            channels = [None if c is None else nn.functional.linear(c, w) for c in self.channels]
        return self._like(nn.functional.linear(self.value, w, b), channels)

    def map(self, fn) -> Jet:
        """sigma applied elementwise: `fn` an activation module of `pinn.MLP` or a torch
        function of `FUNCTIONS` (torch.tanh, torch.sin, torch.cos, torch.sigmoid, torch.exp)."""
        sigma = _derivatives(fn)
        if sigma is None:
            raise BadValue(
                f"Jet.map: no known derivatives for {fn!r}; use an activation module of "
                f"pinn.MLP or one of torch.tanh, torch.sin, torch.cos, torch.sigmoid, torch.exp"
            )
        y = _activate(sigma, [self.value, *self.channels], self.plan, len(self.chans[-1]))
        return self._like(y[0], y[1:])

    def __mul__(self, other) -> Jet:
        if not isinstance(other, Jet):  # a constant: every channel scales
            return self._like(
                self.value * other, [None if c is None else c * other for c in self.channels]
            )
        f, g = [self.value, *self.channels], [other.value, *other.channels]
        out = []
        for terms in _products(self.chans):
            acc = None
            for c, i, j in terms:
                if f[i] is not None and g[j] is not None:
                    acc = _add(acc, f[i] * g[j] * c if c != 1 else f[i] * g[j])
            out.append(acc)
        return self._like(out[0], out[1:])

    __rmul__ = __mul__

    def __add__(self, other) -> Jet:
        if not isinstance(other, Jet):  # a constant reaches the value alone
            return self._like(self.value + other, self.channels)
        channels = [_add(a, b) for a, b in zip(self.channels, other.channels)]
        return self._like(self.value + other.value, channels)

    __radd__ = __add__

    def __neg__(self) -> Jet:
        return self * -1.0

    def __sub__(self, other) -> Jet:
        return self + (-other)

    def __rsub__(self, other) -> Jet:
        return (-self) + other

    @staticmethod
    def cat(jets: list[Jet]) -> Jet:
        """The jets side by side along the feature (last) dimension."""
        first = jets[0]
        value = torch.cat([j.value for j in jets], -1)
        channels = []
        for k in range(len(first.chans) - 1):
            parts = [j.channels[k] for j in jets]
            if all(c is None for c in parts):
                channels.append(None)
                continue
            rows = max(1 if c is None else len(c) for c in parts)
            channels.append(
                torch.cat(
                    [
                        j.value.new_zeros(rows, j.value.shape[1])
                        if c is None
                        else c.expand(rows, -1)
                        for j, c in zip(jets, parts)
                    ],
                    -1,
                )
            )
        return first._like(value, channels)

    def stacked(self) -> torch.Tensor:
        """The value and every channel as one (len(chans), N, k) tensor, zeros for None."""
        v = self.value
        zero = torch.zeros_like(v)
        full = [
            zero if c is None else c if c.shape == v.shape else c.expand_as(v)
            for c in self.channels
        ]
        return torch.stack([v, *full])
