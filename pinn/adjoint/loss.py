"""The Taylor test of a PINN's total loss over its flat parameter vector."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from ..errors import BadType, BadValue
from .checks import TaylorResult, taylor_test

# --------------------------------------------------------------------------------------------
# PINN loss gradient
# --------------------------------------------------------------------------------------------


@dataclass
class FlatLoss:
    """A PINN's total loss as a function ``J(theta)`` of one flat parameter vector.

    ``theta`` is the network's parameters, flattened in ``named_parameters`` order, followed by
    the unknowns; ``x0`` holds their current values and ``names`` what each block is.
    """

    fn: Callable[[torch.Tensor], torch.Tensor]
    x0: torch.Tensor
    names: list[str] = field(default_factory=list)

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        return self.fn(theta)


class _UnknownValues:
    """Stands in for a ``pinn.Unknowns`` module: ``view()`` gives the values of theta."""

    def __init__(self, values: dict[str, torch.Tensor]):
        self.values = values

    def view(self):
        from pinn.fields import Params

        return Params(self.values)


def _unknown_values(problem, unknowns) -> dict[str, float]:
    names = list(getattr(problem, "unknowns", None) or {})
    if unknowns is None:
        values = dict(getattr(problem, "unknowns", None) or {})
    elif isinstance(unknowns, Mapping):
        values = dict(unknowns)
    elif hasattr(unknowns, "as_dict"):
        values = unknowns.as_dict()
    else:
        raise BadType(
            f"unknowns must be a pinn.Unknowns, a dict name -> value or None, got {unknowns!r}"
        )
    if set(values) != set(names):
        raise BadValue(f"unknowns {sorted(values)} do not match the problem's {sorted(names)}")
    return {k: float(values[k]) for k in names}


def flat_loss(
    problem, net, unknowns=None, batch=None, seed: int = 0, dtype: torch.dtype = torch.float64
) -> FlatLoss:
    """Wrap ``problem.losses`` as ``J(theta)`` over the flattened parameters.

    The network is copied to ``dtype`` (float64 by default; dropout switched off so that J is
    deterministic); the unknowns (a ``pinn.Unknowns``, a dict, or None for the problem's
    initial values) become the last entries of theta. The training points are drawn once
    (``problem.sample(seed=seed)``) unless ``batch`` is given.
    """
    if not isinstance(net, torch.nn.Module):
        raise BadType(f"net must be a torch.nn.Module such as pinn.MLP, got {net!r}")
    if not hasattr(problem, "losses"):
        raise BadType(f"problem must be a pinn.Problem, got {type(problem).__name__}")
    net = copy.deepcopy(net).to(dtype)
    if any(isinstance(m, torch.nn.Dropout) for m in net.modules()):
        net.eval()
    known = _unknown_values(problem, unknowns)
    if batch is None:
        batch = problem.sample(seed=seed, dtype=dtype, device="cpu")
    named = [(n, p.detach()) for n, p in net.named_parameters()]
    sizes = [p.numel() for _, p in named] + [1] * len(known)
    x0 = torch.cat(
        [p.reshape(-1) for _, p in named] + [torch.tensor([v], dtype=dtype) for v in known.values()]
    )

    def J(theta: torch.Tensor) -> torch.Tensor:
        chunks = torch.split(theta, sizes)
        params = {n: c.view(p.shape) for (n, p), c in zip(named, chunks, strict=False)}
        values = {k: c.reshape(()) for k, c in zip(known, chunks[len(named) :], strict=True)}

        def model(x):
            return torch.func.functional_call(net, params, (x,))

        terms = problem.losses(model, batch, unknowns=_UnknownValues(values) if known else None)
        return sum(terms.values())

    return FlatLoss(J, x0, [n for n, _ in named] + [f"unknowns.{k}" for k in known])


def check_loss_gradient(problem, net, unknowns=None, seed: int = 0, **taylor) -> TaylorResult:
    """Taylor test of a PINN's total loss w.r.t. the network parameters (and unknowns).

    Runs in float64 on copies (the given network is not changed), with the gradient from
    autograd and R2 from the double-backward Hessian-vector product. Keyword arguments go to
    :func:`taylor_test`.
    """
    from pinn.hessian import hvp

    J = flat_loss(problem, net, unknowns=unknowns, seed=seed)
    x = J.x0
    taylor.setdefault("hvp", lambda v: hvp(J, x, v))
    return taylor_test(J, x, **taylor)
