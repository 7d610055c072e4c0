"""The same strong-constraint 4D-Var problem as a PINN inverse problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from ..errors import BadType, BadValue
from .fourdvar import FourDVar
from .models import Lorenz63, _positive

# --------------------------------------------------------------------------------------------
# The same 4D-Var problem as a PINN
# --------------------------------------------------------------------------------------------


@dataclass
class Lorenz63PINN:
    """A PINN for a Lorenz-63 :class:`FourDVar`: see :func:`lorenz63_pinn`.

    ``problem`` is the ``pinn.Problem``; pass ``output_transform`` to ``pinn.MLP`` so that the
    network's O(1) outputs map to the state's range; ``x0(net)`` reads the analysis u(t=0).
    """

    problem: object
    center: torch.Tensor
    scale: float

    def output_transform(self, t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return self.center.to(u) + self.scale * u

    def x0(self, net) -> torch.Tensor:
        p = next(net.parameters())
        with torch.no_grad():
            return net(torch.zeros(1, 1, dtype=p.dtype, device=p.device))[0].double().cpu()


def lorenz63_pinn(
    var: FourDVar,
    n_pde: int = 512,
    unknowns: Mapping[str, float] | None = None,
    pde_weight: float = 1.0,
) -> Lorenz63PINN:
    """The strong-constraint 4D-Var problem of ``var`` as a PINN inverse problem.

    A network u(t) = (x1, x2, x3) over the window [0, K·dt] is fitted to the Lorenz-63
    equations (residuals divided by the state scale, weight ``pde_weight``), to the
    observations and to the background at t = 0, the last two weighted as in J (for B and R
    proportional to I: R/B per observation, so that obs : background = N_obs : 1 as in J).
    ``unknowns`` (a dict with some of "sigma", "rho", "beta" and their first guesses) makes
    those parameters unknowns too. The analysis is u(0).
    """
    import pinn

    if not isinstance(var, FourDVar) or not isinstance(var.model, Lorenz63):
        raise BadType("var must be a FourDVar of a Lorenz63 model")
    if var.H is not None:
        raise BadValue("lorenz63_pinn needs full-state observations (H = identity)")
    unknowns = dict(unknowns or {})
    for k in unknowns:
        if k not in ("sigma", "rho", "beta"):
            raise BadValue(f"unknown parameter {k!r}; valid: 'sigma', 'rho', 'beta'")
    m = var.model
    T = var.window * m.dt
    if T <= 0:
        raise BadValue("the window has no length: observe at least one step after 0")
    t_obs = torch.tensor([[k * m.dt] for k in var.obs], dtype=torch.float64)
    y = torch.stack(list(var.obs.values()))
    both = torch.cat([y, var.xb[None]])
    center, scale = both.mean(0), both.std().item()
    w = _positive("pde_weight", pde_weight) ** 0.5 / scale  # weight·mean(r²) = mean((√w·r)²)
    b, r = var.B.diagonal().mean().item(), var.R.diagonal().mean().item()

    def coefficient(p, name):
        return getattr(p, name) if name in unknowns else getattr(m, name)

    def lorenz(f, p):
        sigma, rho, beta = (coefficient(p, k) for k in ("sigma", "rho", "beta"))
        return [
            w * (f.x1_t - sigma * (f.x2 - f.x1)),
            w * (f.x2_t - (f.x1 * (rho - f.x3) - f.x2)),
            w * (f.x3_t - (f.x1 * f.x2 - beta * f.x3)),
        ]

    problem = pinn.Problem(
        pinn.Time(0.0, T),
        fields=("x1", "x2", "x3"),
        pde={"lorenz": lorenz},
        conditions=[
            pinn.data(t_obs, y, name="obs"),
            pinn.data(
                torch.zeros(1, 1, dtype=torch.float64),
                var.xb[None],
                name="background",
                weight=r / (b * len(var.obs)),
            ),
        ],
        n_pde=n_pde,
        unknowns=unknowns or None,
        name="lorenz63_4dvar",
    )
    return Lorenz63PINN(problem, center, scale)
