"""Networks: the MLP with named activations and initializers, input scaling, output transforms."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

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
}

SCALINGS = ("minmax", None)


class Sin(nn.Module):
    """sin(x), the activation of SIREN-style networks (not in torch.nn)."""

    def forward(self, x):
        return torch.sin(x)


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
            raise ValueError(
                f"unknown activation {spec!r}; valid: "
                f"{', '.join(['sin', *ACTIVATIONS])}, or a callable / torch.nn.Module"
            )
        return ACTIVATIONS[spec]()
    if isinstance(spec, nn.Module):
        return spec
    if callable(spec):
        return Lambda(spec)
    raise TypeError(f"activation must be a name, a callable or a torch.nn.Module, got {spec!r}")


class MLP(nn.Module):
    """A fully connected network from the problem's coordinates to its fields.

    Args:
        problem: gives the input size (coordinates), output size (fields) and the bounds used
            to scale each input to [-1, 1] (`input_scaling="minmax"`, the default; None: off).
        hidden: widths of the hidden layers, e.g. `[20] * 8`.
        activation: "tanh" (default), "sin", "sigmoid", "relu", "leaky_relu", "silu", "gelu",
            or any callable / module.
        init: "xavier_normal" (default), "xavier_uniform", "he_normal" or "he_uniform" for
            the weights; biases start at zero.
        output_transform: `g(x, u) -> u` applied last, for hard constraints
            (e.g. `lambda x, u: x * (1 - x) * u` makes u vanish at x = 0 and 1).
        dropout: probability of dropping each hidden unit in training (0: none).
        batch_norm: a BatchNorm1d after each hidden linear layer.
    """

    def __init__(
        self,
        problem,
        hidden: Sequence[int] = (20, 20, 20),
        activation: str | Callable | nn.Module = "tanh",
        init: str = "xavier_normal",
        input_scaling: str | None = "minmax",
        output_transform: Callable | None = None,
        dropout: float = 0.0,
        batch_norm: bool = False,
    ):
        super().__init__()
        hidden = list(hidden)
        if not hidden or not all(
            isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden
        ):
            raise ValueError(f"hidden must be a non-empty list of positive widths, got {hidden!r}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; valid: {', '.join(INITS)}")
        if input_scaling not in SCALINGS:
            raise ValueError(f"unknown input_scaling {input_scaling!r}; valid: {SCALINGS}")
        if not (isinstance(dropout, (int, float)) and 0.0 <= dropout < 1.0):
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        if output_transform is not None and not callable(output_transform):
            raise TypeError(
                f"output_transform must be a callable g(x, u), got {output_transform!r}"
            )
        self.activation_name = activation if isinstance(activation, str) else None
        self.init, self.output_transform = init, output_transform
        dims = [problem.domain.dim, *hidden, len(problem.fields)]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.act = globals()["activation"](activation)
        self.norms = nn.ModuleList(nn.BatchNorm1d(h) for h in hidden) if batch_norm else None
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        lo = torch.as_tensor(problem.domain.lo, dtype=torch.float32)
        hi = torch.as_tensor(problem.domain.hi, dtype=torch.float32)
        scaled = input_scaling == "minmax"
        self.register_buffer("shift", (hi + lo) / 2 if scaled else torch.zeros_like(lo))
        self.register_buffer("scale", 2 / (hi - lo) if scaled else torch.ones_like(lo))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights with the network's initializer (torch's global RNG); zero biases."""
        for layer in self.linears:
            INITS[self.init](layer.weight)
            nn.init.zeros_(layer.bias)
        for norm in self.norms or ():
            norm.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = (x - self.shift) * self.scale
        for i, layer in enumerate(self.linears[:-1]):
            h = layer(h)
            if self.norms is not None:
                h = self.norms[i](h)
            h = self.act(h)
            if self.dropout is not None:
                h = self.dropout(h)
        u = self.linears[-1](h)
        return u if self.output_transform is None else self.output_transform(x, u)
