"""1-d wave equation u_tt = c^2 u_xx on [0, 1] x [0, 1] with c = 2 (PINNacle's Wave1d-C).

u(x, 0) = sin(pi x) + 0.5 sin(4 pi x), u_t(x, 0) = 0, u(0, t) = u(1, t) = 0; exact
u = sin(pi x) cos(c pi t) + 0.5 sin(4 pi x) cos(4 c pi t): two standing waves, the faster
one making four periods in t.
"""

import math

import torch

import pinn
from problems import check_recipe

C = 2.0


def initial_shape(x):
    """u(x, 0) = sin(pi x) + 0.5 sin(4 pi x)."""
    return torch.sin(math.pi * x[:, 0:1]) + 0.5 * torch.sin(4 * math.pi * x[:, 0:1])


def exact(x, c=C):
    """sin(pi x) cos(c pi t) + 0.5 sin(4 pi x) cos(4 c pi t) at points (x, t)."""
    s, t = x[:, 0:1], x[:, 1:2]
    slow = torch.sin(math.pi * s) * torch.cos(c * math.pi * t)
    fast = torch.sin(4 * math.pi * s) * torch.cos(4 * c * math.pi * t)
    return slow + 0.5 * fast


def problem(
    n_pde: int = 4_000, n_ic: int = 256, n_bc: int = 256, c: float = C, weight: float = 1.0
) -> pinn.Problem:
    """The problem with wave speed `c`, the given numbers of points and conditions' `weight`."""
    domain = pinn.Interval("x", 0.0, 1.0) * pinn.Time(0.0, 1.0)
    return pinn.Problem(
        domain,
        fields="u",
        pde=lambda f: f.u_tt - c**2 * f.u_xx,
        conditions=[
            pinn.initial(initial_shape, n=n_ic, weight=weight),
            pinn.initial(0.0, n=n_ic, order=1, weight=weight),
            pinn.dirichlet(0.0, n=n_bc, weight=weight),
        ],
        n_pde=n_pde,
        exact=lambda x: exact(x, c),
        name="wave1d",
    )


def hard_constraints(x, u):
    """u0(x) + 10 x (1 - x) (1 - exp(-(t / 0.1)^2)) u: every condition holds exactly.

    The factor of u vanishes at x = 0, 1 and, with its t-derivative, at t = 0. Its time factor
    grows like (t / 0.1)^2 and saturates at 1, so the network's output stays O(1) both near
    t = 0 (where u - u0 ~ t^2 u_tt / 2 with u_tt(x, 0) up to ~300) and later (u - u0 ~ 1);
    a plain t^2 would need outputs in the hundreds near t = 0. Only the PDE term is left: with
    the conditions as loss terms instead (even weighted 100) the error stays near 0.3 (measured).
    """
    s, t = x[:, 0:1], x[:, 1:2]
    return initial_shape(x) + 10 * s * (1 - s) * (1 - torch.exp(-((t / 0.1) ** 2))) * u


def recipe(name: str = "default") -> dict:
    """Reaches a relative L2 error below 1e-3 (docs/problems.md: 2.6e-4): a small network whose
    dense BFGS stage goes on in float32 until round-off leaves it no descent direction (about
    1,900 iterations), where L-BFGS on a 64x4 network stopped at 7.0e-3; "precise" (float64,
    the same network) below 1e-4."""
    check_recipe(name, ("default", "precise"))
    net = {"hidden": [30] * 3, "activation": "sin", "output_transform": hard_constraints}
    if name == "precise":
        return {
            "net": net,
            "stages": [pinn.Adam(steps=1000, lr=1e-3), pinn.BFGS(steps=6_000)],
            "dtype": "float64",
            "seed": 0,
        }
    return {
        "net": net,
        "stages": [pinn.Adam(steps=1000, lr=1e-3), pinn.BFGS(steps=4000)],
        "dtype": "float32",
        "seed": 0,
    }
