"""2-d Poisson equation -Δu = 2 pi^2 sin(pi x) sin(pi y) on [0, 1]^2, u = 0 on the boundary."""

import math

import torch

import pinn
from problems import check_recipe


def exact(x):
    """sin(pi x) sin(pi y)."""
    return torch.sin(math.pi * x[:, 0:1]) * torch.sin(math.pi * x[:, 1:2])


def problem(n_pde: int = 2_000, n_bc: int = 400, bc_weight: float = 10.0) -> pinn.Problem:
    """The problem with `n_pde` collocation and `n_bc` boundary points.

    The boundary term weighs `bc_weight`: at weight 1 the PDE term (source of size 2 pi^2)
    drowns it and the boundary error, ~1e-3 after training, dominates the error.
    """
    domain = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))
    return pinn.Problem(
        domain,
        fields="u",
        pde=lambda f: -f.u_xx - f.u_yy - 2 * math.pi**2 * exact(f.points),
        conditions=[pinn.dirichlet(0.0, n=n_bc, weight=bc_weight)],
        n_pde=n_pde,
        exact=exact,
        name="poisson2d",
    )


def recipe(name: str = "default") -> dict:
    """Reaches a relative L2 error below 1e-3 (docs/problems.md); "precise" (float64, a small
    network, self-scaled Broyden BFGS) below 1e-7."""
    check_recipe(name, ("default", "precise"))
    if name == "precise":
        return {
            "net": {"hidden": [20] * 2, "activation": "tanh"},
            "problem": {"n_pde": 3_000, "n_bc": 600},
            "stages": [pinn.Adam(steps=500, lr=3e-3), pinn.BFGS(steps=10_000)],
            "dtype": "float64",
            "seed": 0,
        }
    return {
        "net": {"hidden": [32] * 3, "activation": "tanh"},
        "stages": [pinn.Adam(steps=2000, lr=1e-3), pinn.LBFGS(steps=1500)],
        "dtype": "float32",
        "seed": 0,
    }
