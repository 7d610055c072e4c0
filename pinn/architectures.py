"""Gated networks for PINNs: the modified MLP (Wang, Teng & Perdikaris 2021) and PirateNet
(Wang, Sankaran, Wang & Perdikaris 2024), each with an embedding, random weight factorization,
the problem's hard conditions built in and a Taylor pass.

Each network writes its layers once (`_body`) over tensors and `pinn.Jet`s alike, so that the
forward pass and the Taylor pass run the same code; gates are written V + f (U - V) for
f U + (1 - f) V (one product of jets instead of two), and differences and the residual update
with `sub` and `lerp` (one kernel per channel).
"""

from __future__ import annotations

import torch
from torch import nn

from .constraints import Constrained
from .embeddings import Embedding, FourierFeatures, apply, lerp, lin, scaled, specs, sub
from .errors import BadValue
from .jets import Jet, _derivatives
from .layers import (
    check_problem,
    dense,
    init_linear,
    input_scaling,
    output_transform,
    rwf_setting,
    width_list,
)
from .pi_init import fit_output, initial_data


class _Network(nn.Module):
    """What the gated networks share: input scaling and embedding, activation, initializer,
    random weight factorization, output transform, forward and Taylor passes over `_body`."""

    def __init__(self, problem, act, init, embedding, rwf, scaling, transform):
        super().__init__()
        from .nets import INITS, activation  # nets registers these classes: imported late

        check_problem(problem)
        if init not in INITS:
            raise BadValue(f"unknown init {init!r}; valid: {', '.join(INITS)}")
        self.activation_name = act if isinstance(act, str) else None
        self.act, self.init, self.rwf = activation(act), init, rwf_setting(rwf)
        self.embedding = specs(embedding)
        self.embed = Embedding(self.embedding, problem.domain.names) if self.embedding else None
        input_scaling(self, problem, scaling)
        self.output_transform = output_transform(problem, transform)
        self.inputs = problem.domain.dim if self.embed is None else self.embed.width
        self.outputs = len(problem.fields)

    def _dense(self, a: int, b: int) -> nn.Module:
        return dense(a, b, self.rwf)

    def _init(self, *layers) -> None:
        from .nets import INITS

        for layer in layers:
            init_linear(layer, INITS[self.init])

    def _body(self, h):
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = self._body(scaled(self, x))
        return u if self.output_transform is None else self.output_transform(x, u)

    def taylor(self, jet: Jet) -> Jet:
        """The Taylor pass (docs/architecture.md): the output before `output_transform` and
        its derivative channels, the forward pass's layers over `pinn.Jet`s."""
        if not jet.is_input:
            raise BadValue(
                f"pinn.{type(self).__name__}'s Taylor pass takes the jet of the coordinates "
                "themselves (its embedding reads them by name)"
            )
        return self._body(scaled(self, jet))

    def taylor_unsupported(self) -> str | None:
        """Why `taylor` cannot run the network as it is now (None: it can)."""
        kind = type(self)
        if kind.forward is not _Network.forward and kind.taylor is _Network.taylor:
            return f"{kind.__name__} overrides forward but not taylor"
        if _derivatives(self.act) is None:
            return f"activation {self.act!r} has no known derivatives (use a named one)"
        return None


class ModifiedMLP(_Network):
    """The modified MLP of Wang, Teng & Perdikaris 2021 ("Understanding and mitigating
    gradient pathologies in physics-informed neural networks"): two encoders of the inputs
    gate every hidden layer,

        U = σ(X W_u + b_u), V = σ(X W_v + b_v), H_1 = σ(X W_1 + b_1),
        Z_k = σ(H_k W_k + b_k), H_(k+1) = (1 - Z_k) ⊙ U + Z_k ⊙ V  (k = 1 .. n - 1),

    and the output is linear in H_n; X is the embedding of the scaled inputs (or the scaled
    inputs themselves).

    Args:
        problem: a `pinn.Problem` or `pinn.Supervised` (inputs, fields, hard conditions).
        hidden: the widths of H_1 .. H_n, all equal (the gates U and V have that width) and
            at least two (default [64] * 4).
        activation: σ, "tanh" (default) or another name of `pinn.MLP`, or a module.
        init: the initializer of the weights, as for `pinn.MLP` (default "xavier_normal");
            biases start at zero.
        embedding: None (default), `pinn.FourierFeatures`, `pinn.Periodic` or a list of them.
        rwf: random weight factorization of every layer: False (default), True or (mu, sigma),
            as for `pinn.MLP`.
        input_scaling: "minmax" (default: the domain's bounds to [-1, 1]) or None.
        output_transform: `g(x, u) -> u` applied last; the problem's hard conditions are built
            in after it.
    """

    def __init__(
        self,
        problem,
        hidden=(64, 64, 64, 64),
        activation="tanh",
        init: str = "xavier_normal",
        embedding=None,
        rwf=False,
        input_scaling: str | None = "minmax",
        output_transform=None,
    ):
        super().__init__(problem, activation, init, embedding, rwf, input_scaling, output_transform)
        hidden = width_list(hidden)
        if len(set(hidden)) != 1 or len(hidden) < 2:
            raise BadValue(
                f"ModifiedMLP: hidden must be two or more equal widths (H_1 and the gated "
                f"layers; the gates U and V have that width), got {hidden!r}"
            )
        width = hidden[0]
        self.u, self.v = self._dense(self.inputs, width), self._dense(self.inputs, width)
        dims = [self.inputs, *hidden, self.outputs]
        self.linears = nn.ModuleList(self._dense(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fresh weights from the initializer (torch's global RNG), zero biases; the
        embedding's frequencies first."""
        if self.embed is not None:
            self.embed.reset_parameters()
        self._init(self.u, self.v, *self.linears)

    def _body(self, x):
        act = self.act
        u, v = apply(act, lin(x, self.u)), apply(act, lin(x, self.v))
        d = sub(u, v)
        h = apply(act, lin(x, self.linears[0]))
        for layer in self.linears[1:-1]:
            h = sub(u, apply(act, lin(h, layer)) * d)  # (1 - Z) U + Z V
        return lin(h, self.linears[-1])


class PirateNet(_Network):
    """PirateNet (Wang, Sankaran, Wang & Perdikaris 2024, "PirateNets: physics-informed deep
    learning with residual adaptive networks"): the embedding Φ of the scaled inputs, gates
    U = σ(Φ W_u + b_u), V = σ(Φ W_v + b_v), and `blocks` residual blocks from x = Φ,

        f = σ(x W_1 + b_1), z_1 = f ⊙ U + (1 - f) ⊙ V,
        g = σ(z_1 W_2 + b_2), z_2 = g ⊙ U + (1 - g) ⊙ V,
        h = σ(z_2 W_3 + b_3), x <- α h + (1 - α) x,

    with a trainable α per block starting at 0; the output is linear in the last x. The
    residual stream x has the embedding's width (the last layer of each block maps back to
    it, as in the authors' code); the default embedding makes that `width`.

    At initialization (α = 0) the network is the linear map of Φ, so with `pi_init` its
    output layer is fit by least squares (physics-informed initialization): for each field
    with an initial condition `pinn.initial(value)` (order 0, not hard) to that value held
    constant in time, at the condition's initial points (drawn as `problem.sample(seed=0)`
    draws them) at 16 evenly spaced times of the time interval, as the authors' code does.
    Fields without one, a problem without one (or without time), a field with a hard
    condition and a network with an `output_transform` of its own keep the ordinary
    initialization. The fit runs in float64 on the CPU, in `reset_parameters`, after the
    random draws: the same seed gives the same network.

    Args:
        problem: a `pinn.Problem` or `pinn.Supervised` (inputs, fields, conditions).
        blocks: the number of residual blocks (default 3).
        width: the width of the gates and of each block's layers (default 256).
        activation: σ, "tanh" (default) or another name of `pinn.MLP`, or a module.
        init: the initializer of the weights, as for `pinn.MLP` (default "xavier_normal").
        embedding: None (default): `pinn.FourierFeatures(1.0, width // 2)`, the paper's;
            an embedding or a list of them (e.g. `[pinn.Periodic({"x": 2.0}),
            pinn.FourierFeatures(1.0, 128)]`); [] for the scaled inputs themselves.
        rwf: random weight factorization of every layer: True (default, as in the paper;
            (mu, sigma) = (0.5, 0.1)), a pair (mu, sigma), or False.
        pi_init: fit the output layer to the initial condition (default True; see above).
        input_scaling: "minmax" (default: the domain's bounds to [-1, 1]) or None.
        output_transform: `g(x, u) -> u` applied last (no pi_init fit then); the problem's
            hard conditions are built in after it.
    """

    def __init__(
        self,
        problem,
        blocks: int = 3,
        width: int = 256,
        activation="tanh",
        init: str = "xavier_normal",
        embedding=None,
        rwf=True,
        pi_init: bool = True,
        input_scaling: str | None = "minmax",
        output_transform=None,
    ):
        for what, value in (("blocks", blocks), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadValue(f"PirateNet: {what} must be a positive integer, got {value!r}")
        if not isinstance(pi_init, bool):
            raise BadValue(f"PirateNet: pi_init must be True or False, got {pi_init!r}")
        if embedding is None:
            embedding = FourierFeatures(1.0, max(1, width // 2))
        super().__init__(problem, activation, init, embedding, rwf, input_scaling, output_transform)
        self.pi_init, self.width = pi_init, width
        stream = self.inputs
        self.u, self.v = self._dense(stream, width), self._dense(stream, width)
        self.blocks = nn.ModuleList(
            nn.ModuleList(
                [self._dense(stream, width), self._dense(width, width), self._dense(width, stream)]
            )
            for _ in range(blocks)
        )
        self.alpha = nn.Parameter(torch.zeros(blocks))
        self.output = self._dense(stream, self.outputs)
        fits = pi_init and transform_free(self)
        self._initial = initial_data(problem) if fits else {}
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fresh weights from the initializer (torch's global RNG; the embedding's frequencies
        first), zero biases, every α = 0, then the physics-informed fit of the output layer
        where it applies."""
        if self.embed is not None:
            self.embed.reset_parameters()
        self._init(self.u, self.v, *[layer for block in self.blocks for layer in block])
        self._init(self.output)
        with torch.no_grad():
            self.alpha.zero_()
        if self._initial:
            fit_output(self, self._initial)

    def _body(self, x):
        act = self.act
        u, v = apply(act, lin(x, self.u)), apply(act, lin(x, self.v))
        d = sub(u, v)
        for i, (first, second, third) in enumerate(self.blocks):
            z = v + apply(act, lin(x, first)) * d  # f U + (1 - f) V
            z = v + apply(act, lin(z, second)) * d
            h = apply(act, lin(z, third))
            x = lerp(x, h, self.alpha[i])  # α h + (1 - α) x
        return lin(x, self.output)


def transform_free(net) -> bool:
    """Whether `net`'s outputs are its last layer's, up to the problem's hard conditions
    (which leave the fields without one alone)."""
    t = net.output_transform
    return t is None or (isinstance(t, Constrained) and t.inner is None)
