"""Derivative engines: fast paths that precompute the derivatives a problem's residuals read.

An engine is a callable `engine(net, x, keys) -> (u, known)` (see `Problem.losses`); `keys` are
the (field index, sorted coordinate indices) derivatives the residuals read, and `known` maps
each of them to an (N, 1) tensor. `Fields` falls back to nested reverse mode (the reference)
for anything missing, so an engine may always return `(net(x), {})`; a `fields.Truncated`
`known` (results that do not track the points) makes it an error instead.

- `taylor`: for `pinn.MLP` with an elementwise activation, one forward pass carries exactly the
  derivative channels the residuals ask for (u, u_x, u_xt, u_xxx, ...) through the layers, so
  training needs one first-order backward instead of nested backward passes.
- `Compiled`: `torch.compile` of the same pass (falls back to eager `taylor` with a warning).
- `resolve(name, net, work)`: "reverse" (None), "taylor", "compiled" or "auto" to a callable
  (`check(name)` validates a name alone); `name(engine)` the other way.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections import Counter

import torch
from torch import nn
from torch._functorch import config as functorch_config

from .fields import Fields, Key, Truncated
from .nets import MLP, Sin

ENGINES = ("auto", "reverse", "taylor", "compiled")
# point evaluations (steps x points per step) from which "auto" compiles: compiling takes
# 4-16 s on a 2-core CPU (Inductor's cache warm or cold) and saves about 1 us per point
# evaluation on burgers' 2-[20]x8-1 network (docs/benchmarks.md)
COMPILE_WORK = 2 * 10**7

Channel = tuple[int, ...]  # a sorted multi-index of coordinates; () is the value itself


# -- activations: sigma and its derivatives up to order n ------------------------------------
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


def _derivatives(act: nn.Module):
    """The function (z, n) -> [sigma(z), sigma'(z), ..., sigma^(n)(z)] of `act`, or None."""
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


# -- the Taylor-mode pass -------------------------------------------------------------------
def unsupported(net) -> str | None:
    """Why the Taylor pass cannot run `net` as it is now (None: it can)."""
    if not isinstance(net, MLP) or type(net).forward is not MLP.forward:
        return f"{type(net).__name__} is not a pinn.MLP"
    if _derivatives(net.act) is None:
        return f"activation {net.act!r} has no known derivatives (use a named one)"
    if net.norms is not None and any(n.training or n.running_mean is None for n in net.norms):
        return "batch norm in training mode couples the points (batch statistics)"
    return None


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


def taylor_pass(net: MLP, x: torch.Tensor, chans: tuple[Channel, ...], rows=None):
    """The network output and its derivative channels `chans` at `x`: (u (N, m), stacked
    (len(chans), rows, m)); only the first `rows` points (None: all) carry derivatives.

    The input scaling (x - shift) * scale makes the first layer's first-order channels the
    constant rows W[:, j] * scale[j] and its higher ones zero, so after the first activation
    channel a is sigma^(|a|)(z) times a constant row, which is folded into the second layer's
    weight: the first layer's elementwise work grows with the order, not with the channels.
    Channels known to vanish are carried as None and skipped. A linear layer maps every channel
    by its weight and adds the bias to the value only, one product per channel (stacked, the
    larger operands no longer stay in cache between a product and the activation after it:
    slower, see docs/benchmarks.md).
    """
    return _pass(net, x, chans, _plan(chans), rows)


def _pass(net: MLP, x: torch.Tensor, chans: tuple[Channel, ...], plan, rows=None):
    if rows is not None and rows < len(x):  # the value alone beyond `rows`: a plain forward
        u, out = _pass(net, x[:rows], chans, plan)
        return torch.cat([u, net(x[rows:])]), out
    sigma, order = _derivatives(net.act), len(chans[-1])
    first, second = net.linears[0], net.linears[1]
    z = first((x - net.shift) * net.scale)
    w = first.weight * net.scale  # column j: the constant derivative of z in x_j
    if net.norms is not None:
        g = _affine(net.norms[0])
        z, w = net.norms[0](z), w * g[:, None]
    d = _dropped(net, 0, sigma(z, order))
    # channel a of the first activation is sigma^(|a|)(z) times the row prod_j w[:, a_j]
    z = [_linear(d[0], second.weight, second.bias)]
    for a in chans[1:]:
        row = w[:, a[0]]
        for j in a[1:]:
            row = row * w[:, j]
        z.append(None if d[len(a)] is None else _linear(d[len(a)], second.weight * row))
    for i, layer in enumerate(net.linears[2:], start=1):
        if net.norms is not None:  # eval mode: an affine map per unit
            g = _affine(net.norms[i])
            z = [net.norms[i](z[0]), *[None if c is None else c * g for c in z[1:]]]
        y = _dropped(net, i, _activate(sigma, z, plan, order))
        z = [
            _linear(y[0], layer.weight, layer.bias),
            *[None if c is None else _linear(c, layer.weight) for c in y[1:]],
        ]
    if net.output_scaled:
        z = [
            net.out_shift + net.out_scale * z[0],
            *[c if c is None else net.out_scale * c for c in z[1:]],
        ]
    zero = torch.zeros_like(z[0])
    return z[0], torch.stack([zero if c is None else c for c in z])


def _affine(norm: nn.BatchNorm1d) -> torch.Tensor:
    """The per-unit factor of a batch norm in evaluation mode."""
    g = torch.rsqrt(norm.running_var + norm.eps)
    return g * norm.weight if norm.affine else g


def _dropped(net: MLP, i: int, y: list) -> list:
    """The channels `y` of hidden layer i under its dropout (in training: one mask for all)."""
    drop = net.dropouts[i] if net.dropouts is not None else None
    if isinstance(drop, nn.Dropout) and drop.training:
        mask = drop(torch.ones_like(y[0]))  # the same draw as drop(y[0])
        y = [None if c is None else c * mask for c in y]
    return y


def _linear(c: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """c @ w.T (+ b). Compiled: for one output, a product and a sum that fuse with their
    neighbours (a one-column matrix product is slow on the CPU, and its backward an outer
    product); on the CPU otherwise `_SplitLinear`: its weight gradient uses both cores, its other
    products oneDNN."""
    if torch.compiler.is_compiling():
        if w.shape[0] == 1:
            z = (c * w).sum(-1, keepdim=True)
            return z if b is None else z + b
        if c.device.type == "cpu":
            return _SplitLinear.apply(c, w, b)
    return nn.functional.linear(c, w, b)


class _SplitLinear(torch.autograd.Function):
    """c @ w.T (+ b) whose weight gradient g.T @ c is two half products in one batched product:
    a (width, N) @ (N, width) product is long only in its inner dimension, which MKL does not
    split between threads; a batch of two runs on two (25% faster on two cores). The products
    with w go to oneDNN where it applies (`_product`)."""

    @staticmethod
    def forward(ctx, c, w, b):
        ctx.save_for_backward(c, w)
        ctx.bias = b is not None
        return _product(c, w, b)

    @staticmethod
    def backward(ctx, g):
        c, w = ctx.saved_tensors
        half, m, k = len(c) // 2, g.shape[1], c.shape[1]
        gt, ct = g[: 2 * half].view(2, half, m), c[: 2 * half].view(2, half, k)
        gw = torch.bmm(gt.transpose(1, 2), ct).sum(0)
        if len(c) % 2:
            gw = torch.addmm(gw, g[-1:].T, c[-1:])
        return _product(g, w.T), gw, _column_sum(g) if ctx.bias else None


def _product(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """x @ w.T (+ b): by oneDNN for float32 on the CPU, whose kernels run the pass's skinny
    (N, 20) @ (20, 20) products 20-35% faster than MKL's, fastest with w stored input-major
    (a copy for an (out, in) weight, none for the view w.T); elsewhere torch's linear."""
    if x.dtype == torch.float32 and x.device.type == "cpu" and _ONEDNN:
        return torch.ops.pinn.linear(x, w.T.contiguous().T, b)
    return nn.functional.linear(x, w, b)


# oneDNN's linear as an operator of our own, which torch.compile calls as it is (Inductor lowers
# torch's own only for constant, prepacked weights); oneDNN takes no float64
_ONEDNN = (
    torch.backends.mkldnn.is_available()
    and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    and hasattr(torch.library, "register_fake")  # torch >= 2.4
)
if _ONEDNN and not hasattr(torch.ops.pinn, "linear"):  # once per process, as reloads go
    torch.library.define("pinn::linear", "(Tensor x, Tensor w, Tensor? b) -> Tensor")

    @torch.library.impl("pinn::linear", "cpu")
    def _onednn_linear(x, w, b):
        return torch.ops.mkldnn._linear_pointwise(x, w, b, "none", [], "")

    @torch.library.register_fake("pinn::linear")
    def _linear_shape(x, w, b):
        return x.new_empty(x.shape[0], w.shape[0])


def _column_sum(g: torch.Tensor) -> torch.Tensor:
    """g.sum(0) of an (N, m) g, reduced as rows of k * m values, k * m a multiple of 16: the
    CPU kernel then runs whole vectors (m = 20 would be 16 + 4 lanes, the data read twice)."""
    n, m = g.shape
    k = 16 // math.gcd(m, 16)
    full = n - n % k
    total = g[:full].reshape(-1, k * m).sum(0).view(k, m).sum(0)
    return total + g[full:].sum(0) if full < n else total


def taylor(net, x: torch.Tensor, keys) -> tuple[torch.Tensor, dict[Key, torch.Tensor]]:
    """Engine: every derivative in `keys` (and its sub-derivatives) by one Taylor-mode pass.

    Falls back to nested reverse mode, with a warning, for networks the pass does not cover
    (see `unsupported`). With an output transform g(x, u) the network's channels are fed
    through g as a Taylor polynomial in x and the (cheap) rest is nested reverse mode on g.
    """
    why = unsupported(net)
    if why is not None:
        warnings.warn(f"taylor engine: {why}; using nested reverse mode", stacklevel=2)
        return net(x), {}
    return _known(net, x, keys, taylor_pass, tracks_x=True)


def evaluate(engine, net, parts) -> list[tuple[torch.Tensor, dict[Key, torch.Tensor]]]:
    """`engine(net, x, keys)` for each (x, keys) of `parts` (a problem's point sets).

    `taylor` and `Compiled` evaluate every point independently, so they take all the sets in
    one pass over the stacked points: the sets that read derivatives first, the others
    carrying the value only. One call instead of one per set saves the per-call costs (a
    compiled call's guards and wrappers, the small matrix products) of every extra set.
    Other engines, networks the pass does not cover and output transforms: one call per set.
    """
    if (
        len(parts) < 2
        or not (engine is taylor or isinstance(engine, Compiled))
        or unsupported(net) is not None
        or net.output_transform is not None
    ):
        return [engine(net, x, keys) for x, keys in parts]
    run = taylor_pass if engine is taylor else engine._run
    reads = [any(idx for _, idx in keys) for _, keys in parts]
    order = sorted(range(len(parts)), key=lambda i: not reads[i])  # stable
    rows = sum(len(parts[i][0]) for i in order if reads[i]) or None  # None: all, by value
    keys = set().union(*(keys for _, keys in parts))
    x = torch.cat([parts[i][0] for i in order])
    u, known = _known(net, x, keys, run, tracks_x=engine is taylor, rows=rows)
    out, start = [None] * len(parts), 0
    for i in order:
        stop = start + len(parts[i][0])
        part = {key: _rows(value, start, stop) for key, value in known.items()} if reads[i] else {}
        if isinstance(known, Truncated):
            part = Truncated(part, known.channels)
        out[i], start = (_rows(u, start, stop), part), stop
    return out


def _rows(value: torch.Tensor, start: int, stop: int) -> torch.Tensor:
    """value[start:stop], without a slice (and its backward) where that is all of it."""
    return value if start == 0 and stop == len(value) else value[start:stop]


def _known(net, x, keys, run, tracks_x: bool, rows=None):
    """(u, known) from the output and channels `run(net, x, chans, rows)` gives; the
    derivatives cover the first `rows` points (None: all).

    `tracks_x`: the pass is differentiable in x to every order (eager, no output transform),
    so `Fields` may take a derivative that nobody requested from its results; otherwise the
    derivatives come as `Truncated`, and `Fields` turns such a derivative into an error
    instead of a wrong value.
    """
    chans = channels(keys)
    if net.output_transform is None:
        u, out = run(net, x if tracks_x else x.detach(), chans, rows)
        known = {
            (i, a): out[c, :, i : i + 1] for c, a in enumerate(chans) for i in range(u.shape[1])
        }
        return (u, known) if tracks_x else (u, Truncated(known, chans))
    # v(x') = sum_a V_a (x' - x)^a / a! matches the network's channels at x, and only the
    # monomials depend on x', so nested reverse mode through the small g is cheap
    x0 = x.detach()
    out = run(net, x0, chans)[1]
    v = sum(out[c] * _monomial(x - x0, a) for c, a in enumerate(chans))
    u = net.output_transform(x, v)
    f = Fields(x, u, range(x.shape[1]), range(out.shape[2]))
    known = {key: f._derivative(key) for key in sorted(keys, key=lambda k: len(k[1]))}
    # these track x only to the carried order: differentiating them again by hand is an error
    guard = _Guard.apply(x, Truncated({}, chans))
    return u + guard, Truncated({key: value + guard for key, value in known.items()}, chans)


class _Guard(torch.autograd.Function):
    """Zeros (N, 1) whose derivative in x is zero in a first-order backward (training) and
    the `Truncated` error in a nested one."""

    @staticmethod
    def forward(ctx, x, truncated):
        ctx.shape, ctx.truncated = x.shape, truncated
        return x.new_zeros(x.shape[0], 1)

    @staticmethod
    def backward(ctx, grad):
        if torch.is_grad_enabled():  # create_graph=True: a derivative of an engine's result
            raise ctx.truncated.error()
        return grad.new_zeros(ctx.shape), None


def _monomial(dx: torch.Tensor, a: Channel) -> torch.Tensor:
    """(x' - x)^a / a! as an (N, 1) column (value 0 unless a is empty)."""
    t = torch.ones_like(dx[:, :1])
    for j, k in Counter(a).items():
        t = t * dx[:, j : j + 1] ** k / math.factorial(k)
    return t


# -- compiled ---------------------------------------------------------------------------------
# a memory budget makes the forward/backward split save fewer activations and recompute cheap
# ones, in fewer, faster fused kernels: 6-7% per compiled burgers step (torch >= 2.4)
_BUDGET = (
    {"activation_memory_budget": 0.9}
    if hasattr(functorch_config, "activation_memory_budget")
    else {}
)


class Compiled:
    """Engine: `taylor` with its pass under `torch.compile` (eager `taylor` where it fails).

    The first call for each point set compiles (seconds); later calls reuse the compiled code.
    """

    def __init__(self, **options):
        self._compiled = torch.compile(_pass, **options)
        self._failed = None

    def __call__(self, net, x, keys):
        why = unsupported(net)
        if why is not None:
            warnings.warn(f"compiled engine: {why}; using nested reverse mode", stacklevel=2)
            return net(x), {}
        return _known(net, x, keys, self._run, tracks_x=False)

    def _run(self, net, x, chans, rows=None):
        if self._failed is None:
            try:
                with functorch_config.patch(_BUDGET):
                    return self._compiled(net, x, chans, _plan(chans), rows)
            except Exception as e:  # inductor needs a working C++ (CPU) or Triton (CUDA) toolchain
                self._failed = " ".join(f"{type(e).__name__}: {e}".split("\n\n")[0].split())
                warnings.warn(
                    f"compiled engine: torch.compile failed ({self._failed}); using eager taylor",
                    stacklevel=3,
                )
        return taylor_pass(net, x, chans, rows)


# -- names ------------------------------------------------------------------------------------
def check(name) -> None:
    """Raise a ValueError unless `name` is an engine name, None or a callable."""
    if not (name is None or callable(name) or name in ENGINES):
        raise ValueError(
            f"unknown engine {name!r}; valid: {', '.join(map(repr, ENGINES))}, "
            "None or a callable engine(net, x, keys)"
        )


def resolve(name, net=None, work: int | None = None):
    """The engine callable for `name`: "reverse" (None), "taylor", "compiled" or "auto".

    "auto" takes nested reverse mode for networks the Taylor pass does not cover; for the
    others `compiled` when the run evaluates at least `COMPILE_WORK` points in all (`work`:
    the sum over steps of the points per step), where the compile time is repaid, and eager
    `taylor` for shorter runs, when `work` is not known, and with an output transform (whose
    nested reverse mode stays eager: compiling measured no gain on helmholtz2d and wave1d).
    A callable or None passes through.
    """
    if name is None or callable(name):
        return name
    check(name)
    if name == "reverse":
        return None
    if name == "taylor":
        return taylor
    if name == "compiled":
        return Compiled()
    if net is None or unsupported(net) is not None:
        return None
    long = work is not None and work >= COMPILE_WORK
    return Compiled() if long and net.output_transform is None else taylor


def name(engine) -> str:
    """The name of a resolved engine: "reverse", "taylor", "compiled" or "custom"."""
    if engine is None:
        return "reverse"
    if engine is taylor:
        return "taylor"
    return "compiled" if isinstance(engine, Compiled) else "custom"
