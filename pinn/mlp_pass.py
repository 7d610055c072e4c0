"""The Taylor pass of `pinn.MLP`, tuned for the CPU and for torch.compile: the first layer
folded into the second, one product per channel, oneDNN's products for float32 on the CPU
and a weight gradient split over both cores (docs/benchmarks.md gives the measurements)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .jets import Channel, _activate, _derivatives


def mlp_pass(net, x: torch.Tensor, chans: tuple[Channel, ...], plan) -> tuple:
    """The output of `pinn.MLP` `net` at `x` (before its output transform) and its derivative
    channels `chans` (a list, None for a channel known to vanish).

    The input scaling (x - shift) * scale makes the first layer's first-order channels the
    constant rows W[:, j] * scale[j] and its higher ones zero, so after the first activation
    channel a is sigma^(|a|)(z) times a constant row, which is folded into the second layer's
    weight: the first layer's elementwise work grows with the order, not with the channels.
    A linear layer maps every channel by its weight and adds the bias to the value only, one
    product per channel (stacked, the larger operands no longer stay in cache between a
    product and the activation after it: slower, see docs/benchmarks.md).
    """
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
    return z[0], z[1:]


def _affine(norm: nn.BatchNorm1d) -> torch.Tensor:
    """The per-unit factor of a batch norm in evaluation mode."""
    g = torch.rsqrt(norm.running_var + norm.eps)
    return g * norm.weight if norm.affine else g


def _dropped(net, i: int, y: list) -> list:
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
