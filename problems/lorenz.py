"""Lorenz-63 x' = sigma (y - x), y' = x (rho - z) - y, z' = x y - beta z on t in [0, 0.5].

From x0 = (-8, 7, 27), near the attractor, over [0, 0.5]: a fast transient (x' = 150 at t = 0)
and half a loop around a wing (x runs from -8 to 13). The window is short for two reasons.
It is under half the Lyapunov time 1 / 0.906 = 1.1, so the solution is well-conditioned
(nearby solutions separate by at most e^0.45 = 1.6) and what is tested is the PINN, not the
chaos. And on [0, 1] the PINN (recipe below, measured) converges to a wrong, trivial solution:
x and y jump to 0 right after t = 0 and z decays along the origin's stable manifold, a
residual-minimiser that is exact except near t = 0; longer windows need causal training or
time marching. The reference is `scipy.integrate.solve_ivp` (DOP853, rtol 1e-10, atol 1e-12).
"""

import numpy as np
import torch
from scipy.integrate import solve_ivp

import pinn
from problems import check_recipe

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0
X0 = (-8.0, 7.0, 27.0)
T = 0.5
SCALE = 20.0  # the solution's magnitude


def rhs(u, sigma=SIGMA, rho=RHO, beta=BETA):
    """The right-hand side (x', y', z') of a state (x, y, z): numbers, arrays or tensors."""
    x, y, z = u
    return sigma * (y - x), x * (rho - z) - y, x * y - beta * z


def reference(x0=X0, t_end=T, sigma=SIGMA, rho=RHO, beta=BETA):
    """The reference solution: a function of torch points (N, 1) of t -> (N, 3) tensor."""
    sol = solve_ivp(
        lambda t, u: rhs(u, sigma, rho, beta),
        (0.0, t_end),
        np.asarray(x0, dtype=float),
        method="DOP853",
        rtol=1e-10,
        atol=1e-12,
        dense_output=True,
    )

    def at(x):
        t = x.detach().cpu().double().numpy()[:, 0]
        return torch.as_tensor(sol.sol(t).T.copy()).to(x)

    return at


def problem(
    n_pde: int = 1_000,
    t_end: float = T,
    sigma: float = SIGMA,
    rho: float = RHO,
    beta: float = BETA,
) -> pinn.Problem:
    """The problem on [0, t_end] with `n_pde` collocation points (x0 fixed: see `recipe`)."""
    start = torch.as_tensor(X0, dtype=torch.float64)

    def residuals(f):
        x, y, z = rhs((f.x, f.y, f.z), sigma, rho, beta)
        return [f.x_t - x, f.y_t - y, f.z_t - z]

    return pinn.Problem(
        pinn.Time(0.0, t_end),
        fields=("x", "y", "z"),
        pde=residuals,
        conditions=[pinn.initial(lambda t: start.to(t).expand(len(t), 3), n=1)],
        n_pde=n_pde,
        exact=reference(X0, t_end, sigma, rho, beta),
        name="lorenz",
    )


def start_at_x0(x, u):
    """x0 + 20 t u: the initial condition holds exactly, the network's O(1) output is scaled.

    With the initial condition as a loss term instead, the PINN converges to the trivial
    solution above even on [0, 0.5] (measured).
    """
    return torch.as_tensor(X0).to(x) + SCALE * x * u


def recipe(name: str = "default") -> dict:
    """Reaches a relative L2 error below 1e-2 (docs/problems.md)."""
    check_recipe(name)
    return {
        "net": {"hidden": [64] * 4, "activation": "tanh", "output_transform": start_at_x0},
        "stages": [pinn.Adam(steps=2000, lr=1e-3), pinn.LBFGS(steps=1000)],
        "dtype": "float32",
        "seed": 0,
    }
