"""Networks: the MLP with named activations and initializers, input and output scaling,
dropout, batch normalization and output transforms."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from .constraints import Constrained
from .embeddings import Embedding, scaled, specs
from .errors import BadType, BadValue
from .jets import Jet, Sin, _derivatives
from .layers import dense, init_linear, mlp_jet, rwf_setting
from .mlp_pass import mlp_pass

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
}

INITS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "xavier_normal": nn.init.xavier_normal_,
    "xavier_uniform": nn.init.xavier_uniform_,
    "he_normal": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "he_uniform": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "normal": nn.init.normal_,
}

SCALINGS = ("minmax", "zscore", None)


class Lambda(nn.Module):
    """Wraps a plain callable activation as a module."""

    def __init__(self, fn: Callable):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def activation(spec) -> nn.Module:
    """A fresh activation module from a name, a module or a callable."""
    if isinstance(spec, str):
        if spec == "sin":
            return Sin()
        if spec not in ACTIVATIONS:
            raise BadValue(
                f"unknown activation {spec!r}; valid: "
                f"{', '.join(['sin', *ACTIVATIONS])}, or a callable / torch.nn.Module"
            )
        return ACTIVATIONS[spec]()
    if isinstance(spec, nn.Module):
        return spec
    if callable(spec):
        return Lambda(spec)
    raise BadType(f"activation must be a name, a callable or a torch.nn.Module, got {spec!r}")


def _statistics(problem):
    """Mean and std of all training points of `problem`, and of its float targets with one
    column per field (None if it has none): the z-score scalings."""
    batch = problem.sample(seed=0, dtype=torch.float64)
    x = torch.cat([p.x for p in batch.values()])
    ys = [
        p.target
        for p in batch.values()
        if p.target is not None
        and p.target.is_floating_point()
        and p.target.shape[1:] == (len(problem.fields),)
    ]
    y = torch.cat(ys) if ys else None
    safe = lambda t: torch.where(t > 0, t, torch.ones_like(t))  # noqa: E731
    return (x.mean(0), safe(x.std(0))), None if y is None else (y.mean(0), safe(y.std(0)))


def _per_field(value, fields, what) -> torch.Tensor:
    """A number or one number per field, as a float32 tensor of one value per field."""
    try:
        t = torch.as_tensor(value, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        t = None
    if t is None or t.shape not in ((), (len(fields),)) or not torch.isfinite(t).all():
        raise BadValue(
            f"output_scaling {what} must be a finite number or {len(fields)} of them (one per "
            f"field {fields}), got {value!r}"
        )
    return t.expand(len(fields)).clone()


def _per_layer_dropout(dropout, n: int) -> list[float]:
    rates = list(dropout) if isinstance(dropout, (list, tuple)) else [dropout] * n
    if len(rates) != n or not all(
        isinstance(p, (int, float)) and not isinstance(p, bool) and 0.0 <= p < 1.0 for p in rates
    ):
        raise BadValue(
            f"dropout must be a probability in [0, 1), or a list of {n} of them (one per hidden "
            f"layer), got {dropout!r}"
        )
    return rates


class MLP(nn.Module):
    """A fully connected network from the problem's coordinates to its fields.

    Args:
        problem: a `pinn.Problem` or `pinn.Supervised`; gives the input size (coordinates),
            the output size (fields) and the statistics of the scalings.
        hidden: widths of the hidden layers, e.g. `[20] * 8`.
        activation: "tanh" (default), "sin", "sigmoid", "relu", "leaky_relu", "silu", "gelu",
            or any callable / module.
        init: "xavier_normal" (default), "xavier_uniform", "he_normal" or "he_uniform" for
            the weights ("normal": naive N(0, 1), to show why the others exist); biases start
            at zero.
        input_scaling: "minmax" (default) maps the domain's bounds to [-1, 1]; "zscore"
            subtracts the mean and divides by the std of the training points (for
            data-driven problems); None: no scaling.
        output_scaling: None (default); "zscore": the net predicts standardized targets and
            scales them back by the targets' mean and std; or a pair (shift, scale) of
            numbers or per-field sequences, giving `shift + scale * output`.
        output_transform: `g(x, u) -> u` applied last, for constraints of your own
            (e.g. `lambda x, u: x * (1 - x) * u` makes u vanish at x = 0 and 1); the
            problem's hard conditions (`hard=True`) are built in after it.
        dropout: probability of dropping each hidden unit in training, one for all hidden
            layers or a list with one per layer (0: none); off in evaluation (`net.eval()`).
        batch_norm: a BatchNorm1d after each hidden linear layer: batch statistics in
            training, running statistics in evaluation. Under batch norm a point's output
            depends on the other points of its batch, and so do its derivatives.
        embedding: None (default), `pinn.FourierFeatures(scale, features)`,
            `pinn.Periodic({"x": period})` or a list of them applied in turn (Periodic
            first): the first layer reads the embedding of the inputs instead of the scaled
            inputs themselves.
        rwf: random weight factorization (Wang et al. 2022): False (default); True or a pair
            (mu, sigma) makes every weight W = diag(exp(s)) V with s ~ N(mu, sigma²) (default
            (0.5, 0.1)) and V = W0 / exp(s) from the initializer's W0; s and V are trained.
    """

    def __init__(
        self,
        problem,
        hidden: Sequence[int] = (20, 20, 20),
        activation: str | Callable | nn.Module = "tanh",
        init: str = "xavier_normal",
        input_scaling: str | None = "minmax",
        output_transform: Callable | None = None,
        dropout: float | Sequence[float] = 0.0,
        batch_norm: bool = False,
        output_scaling: str | tuple | None = None,
        embedding=None,
        rwf: bool | tuple = False,
    ):
        super().__init__()
        if not (hasattr(problem, "fields") and hasattr(problem, "domain")):
            raise BadType(
                f"problem must be a pinn.Problem or pinn.Supervised, got {type(problem).__name__}"
            )
        if (
            isinstance(hidden, str)
            or not isinstance(hidden, Sequence)
            or not hidden
            or not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden)
        ):
            raise BadValue(f"hidden must be a non-empty list of positive widths, got {hidden!r}")
        hidden = list(hidden)
        if not isinstance(batch_norm, bool):
            raise BadType(f"batch_norm must be True or False, got {batch_norm!r}")
        if init not in INITS:
            raise BadValue(f"unknown init {init!r}; valid: {', '.join(INITS)}")
        if input_scaling not in SCALINGS:
            raise BadValue(f"unknown input_scaling {input_scaling!r}; valid: {SCALINGS}")
        if not (
            output_scaling in (None, "zscore")
            or (isinstance(output_scaling, (tuple, list)) and len(output_scaling) == 2)
        ):
            raise BadValue(
                f"unknown output_scaling {output_scaling!r}; valid: None, 'zscore' or a pair "
                "(shift, scale)"
            )
        rates = _per_layer_dropout(dropout, len(hidden))
        if output_transform is not None and not callable(output_transform):
            raise BadType(f"output_transform must be a callable g(x, u), got {output_transform!r}")
        self.activation_name = activation if isinstance(activation, str) else None
        constraint = getattr(problem, "constraint", None)
        if constraint is not None:
            output_transform = Constrained(constraint, output_transform)
        self.init, self.output_transform = init, output_transform
        fields, embedding, rwf = len(problem.fields), specs(embedding), rwf_setting(rwf)
        self.embed = Embedding(embedding, problem.domain.names) if embedding else None
        self.embedding, self.rwf = embedding, rwf
        dims = [problem.domain.dim if self.embed is None else self.embed.width, *hidden, fields]
        self.linears = nn.ModuleList(dense(a, b, rwf) for a, b in zip(dims[:-1], dims[1:]))
        self.act = globals()["activation"](activation)
        self.norms = nn.ModuleList(nn.BatchNorm1d(h) for h in hidden) if batch_norm else None
        self.dropouts = (
            nn.ModuleList(nn.Dropout(p) if p else nn.Identity() for p in rates)
            if any(rates)
            else None
        )
        stats = _statistics(problem) if "zscore" in (input_scaling, output_scaling) else None
        lo = torch.as_tensor(problem.domain.lo, dtype=torch.float32)
        hi = torch.as_tensor(problem.domain.hi, dtype=torch.float32)
        shift, scale = torch.zeros_like(lo), torch.ones_like(lo)
        if input_scaling == "minmax":
            shift, scale = (hi + lo) / 2, 2 / (hi - lo)
        elif input_scaling == "zscore":
            shift, scale = stats[0][0], 1 / stats[0][1]
        self.register_buffer("shift", shift.float())
        self.register_buffer("scale", scale.float())
        self.output_scaled = output_scaling is not None
        if output_scaling == "zscore":
            if stats[1] is None:
                raise BadValue(
                    f"output_scaling='zscore' needs target values with one column per field "
                    f"{problem.fields} (data); give a pair (shift, scale) instead"
                )
            out = stats[1]
        else:
            out = output_scaling or (0.0, 1.0)
        self.register_buffer("out_shift", _per_field(out[0], problem.fields, "shift"))
        self.register_buffer("out_scale", _per_field(out[1], problem.fields, "scale"))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights with the network's initializer (torch's global RNG); zero biases.
        The embedding's frequencies are drawn first."""
        if self.embed is not None:
            self.embed.reset_parameters()
        for layer in self.linears:
            init_linear(layer, INITS[self.init])
        for norm in self.norms or ():
            norm.reset_parameters()

    def taylor(self, jet: Jet) -> Jet:
        """The Taylor pass (docs/architecture.md): the output before `output_transform` and
        its derivative channels, by the tuned pass of `pinn.mlp_pass` (with an embedding, the
        layers over `pinn.Jet`s: `pinn.layers.mlp_jet`)."""
        if not jet.is_input:
            raise BadValue(
                "pinn.MLP's Taylor pass takes the jet of the coordinates themselves; inside a "
                "network of your own, write the layers with Jet.linear and Jet.map instead"
            )
        if self.embed is not None:
            return mlp_jet(self, jet)
        u, channels = mlp_pass(self, jet.value, jet.chans, jet.plan)
        return Jet(u, channels, jet.chans, jet.plan)

    def taylor_unsupported(self) -> str | None:
        """Why `taylor` cannot run the network as it is now (None: it can)."""
        if type(self).forward is not MLP.forward and type(self).taylor is MLP.taylor:
            return f"{type(self).__name__} overrides forward but not taylor"
        if _derivatives(self.act) is None:
            return f"activation {self.act!r} has no known derivatives (use a named one)"
        if self.norms is not None and any(n.training or n.running_mean is None for n in self.norms):
            return "batch norm in training mode couples the points (batch statistics)"
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = scaled(self, x)
        for i, layer in enumerate(self.linears[:-1]):
            h = layer(h)
            if self.norms is not None:
                h = self.norms[i](h)
            h = self.act(h)
            if self.dropouts is not None:
                h = self.dropouts[i](h)
        u = self.linears[-1](h)
        if self.output_scaled:
            u = self.out_shift + self.out_scale * u
        return u if self.output_transform is None else self.output_transform(x, u)


ARCHITECTURES: dict[str, type[nn.Module]] = {"MLP": MLP}

# registered here; pinn.architectures reads INITS and activation from this module only when it
# builds a network, so either module may be imported first
from .architectures import ModifiedMLP, PirateNet  # noqa: E402

ARCHITECTURES.update(ModifiedMLP=ModifiedMLP, PirateNet=PirateNet)


def architecture(arch: str) -> type[nn.Module]:
    """The network class a recipe's `"arch"` names; a ValueError listing the valid names."""
    if arch not in ARCHITECTURES:
        raise BadValue(f"unknown network architecture {arch!r}; valid: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch]


def make_net(problem, arch: str = "MLP", **options) -> nn.Module:
    """The network `arch` (default "MLP") for `problem`, built with `options` (the keyword
    arguments of that class): what config files, `pinn run` and `pinn resume` build from a
    recipe's `"net"` section, e.g. `make_net(problem, **recipe["net"])`."""
    return architecture(arch)(problem, **options)
