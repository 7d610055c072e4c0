"""Derivative engines: fast paths that precompute the derivatives a problem's residuals read.

An engine is a callable `engine(net, x, keys) -> (u, known)` (see `pinn.residuals.evaluate`); `keys` are
the (field index, sorted coordinate indices) derivatives the residuals read, and `known` maps
each of them to an (N, 1) tensor. `Fields` falls back to nested reverse mode (the reference)
for anything missing, so an engine may always return `(net(x), {})`; a `fields.Truncated`
`known` (results that do not track the points) makes it an error instead.

- `taylor`: for a network with a Taylor pass (a `taylor(jet)` method that maps a `pinn.Jet` of
  the coordinates as its forward pass maps x; `pinn.MLP` has one, docs/architecture.md), one
  forward pass carries exactly the derivative channels the residuals ask for (u, u_x, u_xt,
  u_xxx, ...) through the layers, so training needs one first-order backward instead of nested
  backward passes. The engine asks the network (unwrapping torch.compile and DDP), not its type.
- `Compiled`: `torch.compile` of the same pass (falls back to eager `taylor` with a warning).
- `resolve(name, net, work)`: "reverse" (None), "taylor", "compiled" or "auto" to a callable
  (`check(name)` validates a name alone); `name(engine)` the other way.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections import Counter

import torch
from torch._functorch import config as functorch_config

from .errors import BadValue
from .fields import Fields, Key, Truncated
from .jets import Channel, Jet, _plan, channels

ENGINES = ("auto", "reverse", "taylor", "compiled")
# point evaluations (steps x points per step) from which "auto" compiles: compiling takes
# 4-16 s on a 2-core CPU (Inductor's cache warm or cold) and saves about 1 us per point
# evaluation on burgers' 2-[20]x8-1 network (docs/benchmarks.md)
COMPILE_WORK = 2 * 10**7
log = logging.getLogger("pinn")


# -- the protocol: networks with a Taylor pass ----------------------------------------------
def inner(net):
    """The network itself inside a torch.compile or DistributedDataParallel wrapper."""
    while True:
        if isinstance(net, torch.nn.parallel.DistributedDataParallel):
            net = net.module
        elif hasattr(net, "_orig_mod") and isinstance(net._orig_mod, torch.nn.Module):
            net = net._orig_mod
        else:
            return net


def unsupported(net) -> str | None:
    """Why the Taylor pass cannot run `net` as it is now (None: it can)."""
    net = inner(net)
    if not callable(getattr(net, "taylor", None)):
        return (
            f"{type(net).__name__} has no Taylor pass (a taylor(jet) method, see "
            "docs/architecture.md)"
        )
    why = getattr(net, "taylor_unsupported", None)
    return why() if callable(why) else None


def output_transform(net):
    """The network's output transform g(x, u), applied after its Taylor pass, or None."""
    return getattr(inner(net), "output_transform", None)


def taylor_pass(net, x: torch.Tensor, chans: tuple[Channel, ...], rows=None):
    """The network output (before any output transform) and its derivative channels `chans`
    at `x`: (u (N, m), stacked (len(chans), rows, m)); only the first `rows` points (None: all)
    carry derivatives."""
    return _pass(inner(net), x, chans, _plan(chans), rows)


def _pass(net, x: torch.Tensor, chans: tuple[Channel, ...], plan, rows=None):
    if rows is not None and rows < len(x):  # the value alone beyond `rows`: a plain forward
        u, out = _pass(net, x[:rows], chans, plan)
        return torch.cat([u, net(x[rows:])]), out
    jet = net.taylor(Jet.input(x, chans, plan))
    return jet.value, jet.stacked()


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
        or output_transform(net) is not None
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
    chans, transform = channels(keys), output_transform(net)
    if transform is None:
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
    u = transform(x, v)
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
        self._announced = False

    def __call__(self, net, x, keys):
        why = unsupported(net)
        if why is not None:
            warnings.warn(f"compiled engine: {why}; using nested reverse mode", stacklevel=2)
            return net(x), {}
        return _known(net, x, keys, self._run, tracks_x=False)

    def _run(self, net, x, chans, rows=None):
        if self._failed is None:
            if not self._announced:  # the pinn logger; `pinn run` shows it unless --quiet
                self._announced = True
                log.info(
                    "compiling the Taylor pass with torch.compile before the first step: up to "
                    "a minute on a new machine, seconds once its cache is warm"
                )
            try:
                with functorch_config.patch(_BUDGET):
                    return self._compiled(inner(net), x, chans, _plan(chans), rows)
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
        raise BadValue(
            f"unknown engine {name!r}; valid: {', '.join(map(repr, ENGINES))}, "
            "None or a callable engine(net, x, keys)"
        )


def resolve(name, net=None, work: int | None = None, derivatives: bool = True):
    """The engine callable for `name`: "reverse" (None), "taylor", "compiled" or "auto".

    "auto" takes nested reverse mode for networks the Taylor pass does not cover, and says so
    once when the residuals read `derivatives`; for the others `compiled` when the run evaluates at least `COMPILE_WORK` points in all (`work`:
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
    if net is None:
        return None
    why = unsupported(net)
    if why is not None:
        if derivatives:
            warnings.warn(f"engine 'auto': {why}; using nested reverse mode", stacklevel=3)
        return None
    long = work is not None and work >= COMPILE_WORK
    return Compiled() if long and output_transform(net) is None else taylor


def name(engine) -> str:
    """The name of a resolved engine: "reverse", "taylor", "compiled" or "custom"."""
    if engine is None:
        return "reverse"
    if engine is taylor:
        return "taylor"
    return "compiled" if isinstance(engine, Compiled) else "custom"
