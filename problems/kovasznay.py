"""Kovasznay flow: steady incompressible Navier-Stokes at Re = 20 on [-0.5, 1] x [-0.5, 1.5].

u u_x + v u_y + p_x - (u_xx + u_yy) / Re = 0, u v_x + v v_y + p_y - (v_xx + v_yy) / Re = 0,
u_x + v_y = 0, with u, v and p given on the whole boundary. Exact (Kovasznay 1948), with
lam = Re / 2 - sqrt(Re^2 / 4 + 4 pi^2): u = 1 - exp(lam x) cos(2 pi y),
v = lam / (2 pi) exp(lam x) sin(2 pi y), p = (1 - exp(2 lam x)) / 2: the laminar wake
behind a row of cylinders.
"""

import math

import torch

import pinn
from pinn.errors import BadValue
from problems import check_recipe

RE = 20.0


def lam(re: float = RE) -> float:
    """Re / 2 - sqrt(Re^2 / 4 + 4 pi^2)."""
    return re / 2 - math.sqrt(re**2 / 4 + 4 * math.pi**2)


def exact(x, re=RE):
    """(u, v, p) at points (x, y), as an (N, 3) tensor."""
    a = lam(re)
    e = torch.exp(a * x[:, 0:1])
    wave = 2 * math.pi * x[:, 1:2]
    u = 1 - e * torch.cos(wave)
    v = a / (2 * math.pi) * e * torch.sin(wave)
    p = (1 - e**2) / 2
    return torch.cat([u, v, p], dim=1)


def navier_stokes(re: float) -> dict:
    """The steady incompressible Navier-Stokes residuals with viscosity 1 / re, by name."""
    return {
        "momentum_x": lambda f: f.u * f.u_x + f.v * f.u_y + f.p_x - (f.u_xx + f.u_yy) / re,
        "momentum_y": lambda f: f.u * f.v_x + f.v * f.v_y + f.p_y - (f.v_xx + f.v_yy) / re,
        "continuity": lambda f: f.u_x + f.v_y,
    }


def problem(n_pde: int = 4_000, n_bc: int = 400, re: float = RE) -> pinn.Problem:
    """The problem at Reynolds number `re` with the given numbers of points."""
    if not re > 0:
        raise BadValue(f"kovasznay: re must be positive, got {re!r}")
    return pinn.Problem(
        pinn.Rectangle((-0.5, -0.5), (1.0, 1.5)),
        fields=("u", "v", "p"),
        pde=navier_stokes(re),
        conditions=[pinn.dirichlet(lambda x: exact(x, re), n=n_bc)],
        n_pde=n_pde,
        exact=lambda x: exact(x, re),
        name="kovasznay",
    )


def recipe(name: str = "default") -> dict:
    """Reaches a relative L2 error below 1e-3 on (u, v, p) (docs/problems.md: 4.8e-4)."""
    check_recipe(name)
    return {
        "net": {"hidden": [50] * 4, "activation": "tanh"},
        "stages": [pinn.Adam(steps=2000, lr=1e-3), pinn.LBFGS(steps=8000)],
        "dtype": "float32",
        "seed": 0,
    }
