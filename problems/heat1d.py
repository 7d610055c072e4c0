"""1-d heat equation u_t = alpha u_xx on [0, 1] x [0, 1] with alpha = 0.1.

u(x, 0) = sin(pi x), u(0, t) = u(1, t) = 0; exact u = exp(-alpha pi^2 t) sin(pi x).
"""

import math

import torch

import pinn
from problems import check_recipe

ALPHA = 0.1


def exact(x, alpha=ALPHA):
    """exp(-alpha pi^2 t) sin(pi x) at points (x, t)."""
    return torch.exp(-alpha * math.pi**2 * x[:, 1:2]) * torch.sin(math.pi * x[:, 0:1])


def domain() -> pinn.Domain:
    """[0, 1] x [0, 1] in (x, t)."""
    return pinn.Interval("x", 0.0, 1.0) * pinn.Time(0.0, 1.0)


def conditions(n_ic: int, n_bc: int) -> list[pinn.Condition]:
    """u(x, 0) = sin(pi x) and u = 0 at x = 0, 1."""
    return [
        pinn.initial(lambda x: torch.sin(math.pi * x[:, 0:1]), n=n_ic),
        pinn.dirichlet(0.0, n=n_bc),
    ]


def problem(
    n_pde: int = 2_000, n_ic: int = 256, n_bc: int = 256, alpha: float = ALPHA
) -> pinn.Problem:
    """The problem with diffusivity `alpha` and the given numbers of points."""
    return pinn.Problem(
        domain(),
        fields="u",
        pde=lambda f: f.u_t - alpha * f.u_xx,
        conditions=conditions(n_ic, n_bc),
        n_pde=n_pde,
        exact=lambda x: exact(x, alpha),
        name="heat1d",
    )


def recipe(name: str = "default") -> dict:
    """Reaches a relative L2 error below 1e-3 (docs/problems.md); "precise" (float64, a small
    network, self-scaled Broyden BFGS) below 1e-6."""
    check_recipe(name, ("default", "precise"))
    if name == "precise":
        return {
            "net": {"hidden": [20] * 2, "activation": "tanh"},
            "problem": {"n_pde": 3_000, "n_ic": 300, "n_bc": 300},
            "stages": [pinn.Adam(steps=500, lr=3e-3), pinn.BFGS(steps=10_000)],
            "dtype": "float64",
            "seed": 0,
        }
    return {
        "net": {"hidden": [32] * 3, "activation": "tanh"},
        "stages": [pinn.Adam(steps=2000, lr=1e-3), pinn.LBFGS(steps=1000)],
        "dtype": "float32",
        "seed": 0,
    }
