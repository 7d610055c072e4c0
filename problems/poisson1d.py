"""1-d Poisson equation -u'' = pi^2 sin(pi x) on [-1, 1], u(+-1) = 0; exact u = sin(pi x)."""

import math

import torch

import pinn
from problems import check_recipe


def exact(x):
    """sin(pi x)."""
    return torch.sin(math.pi * x[:, 0:1])


def problem(n_pde: int = 128) -> pinn.Problem:
    """The problem with `n_pde` collocation points (the boundary is its two end points)."""
    domain = pinn.Interval("x", -1.0, 1.0)
    return pinn.Problem(
        domain,
        fields="u",
        pde=lambda f: -f.u_xx - math.pi**2 * torch.sin(math.pi * f.x),
        conditions=[pinn.dirichlet(0.0, n=2)],
        n_pde=n_pde,
        exact=exact,
        name="poisson1d",
    )


def recipe(name: str = "default") -> dict:
    """Reaches a relative L2 error below 1e-4 (docs/problems.md)."""
    check_recipe(name)
    return {
        "net": {"hidden": [32] * 3, "activation": "tanh"},
        "stages": [pinn.Adam(steps=1000, lr=1e-3), pinn.LBFGS(steps=500)],
        "dtype": "float32",
        "seed": 0,
    }
