"""Poisson's equation -Δu = f between the circles r = 0.4 and r = 1, with u given on the
outer circle and the flux du/dn given on the hole's edge (n pointing into the hole), for the
manufactured solution u = sin(2x + y) + (x^2 + y^2) / 4."""

import torch

import pinn
from problems import check_recipe

INNER, OUTER = 0.4, 1.0


def exact(x):
    """sin(2x + y) + r^2 / 4."""
    return torch.sin(2 * x[:, 0:1] + x[:, 1:2]) + (x[:, 0:1] ** 2 + x[:, 1:2] ** 2) / 4


def source(x):
    """f = -Δu = 5 sin(2x + y) - 1."""
    return 5 * torch.sin(2 * x[:, 0:1] + x[:, 1:2]) - 1


def flux(x):
    """du/dn on the hole's edge, n = -x / |x| (out of the domain, into the hole)."""
    s = torch.cos(2 * x[:, 0:1] + x[:, 1:2])
    ux, uy = 2 * s + x[:, 0:1] / 2, s + x[:, 1:2] / 2
    r = torch.sqrt(x[:, 0:1] ** 2 + x[:, 1:2] ** 2)
    return -(ux * x[:, 0:1] + uy * x[:, 1:2]) / r


def problem(n_pde: int = 4_000, n_bc: int = 800) -> pinn.Problem:
    """The problem with `n_pde` collocation points and `n_bc` points on each circle."""
    outer, hole = pinn.Disk((0.0, 0.0), OUTER), pinn.Disk((0.0, 0.0), INNER)
    domain = outer - hole
    return pinn.Problem(
        domain,
        fields="u",
        pde=lambda f: -f.u_xx - f.u_yy - source(f.points),
        conditions=[
            pinn.dirichlet(exact, on=domain.boundary(of=outer), n=n_bc),
            pinn.neumann(flux, on=domain.boundary(of=hole), n=n_bc),
        ],
        n_pde=n_pde,
        exact=exact,
        name="annulus",
    )


def recipe(name: str = "default") -> dict:
    """Reaches a relative L2 error below 1e-3 (docs/problems.md)."""
    check_recipe(name)
    return {
        "net": {"hidden": [32] * 3, "activation": "tanh"},
        "stages": [pinn.Adam(steps=2000, lr=1e-3), pinn.LBFGS(steps=2000)],
        "dtype": "float32",
        "seed": 0,
    }
