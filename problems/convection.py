"""Linear convection u_t + beta u_x = 0, x in [0, 2 pi] periodic, t in [0, 1], beta = 40.

u(x, 0) = sin x; exact u = sin(x - beta t): the wave crosses the domain beta / (2 pi) ~ 6.4
times. A "failure mode" of Krishnapriyan et al. (2021): plain PINNs fail once beta reaches a
few tens.
"""

import math

import torch

import pinn
from pinn.errors import BadValue
from problems import check_recipe

BETA = 40.0


def exact(x, beta=BETA):
    """sin(x - beta t) at points (x, t)."""
    return torch.sin(x[:, 0:1] - beta * x[:, 1:2])


def problem(
    n_pde: int = 10_000, n_ic: int = 256, n_bc: int = 256, beta: float = BETA, hard: bool = False
) -> pinn.Problem:
    """The problem with speed `beta` and the given numbers of points; `hard`: the initial
    condition built into the network (`pinn.initial(..., hard=True)`)."""
    if not math.isfinite(beta):
        raise BadValue(f"convection: beta must be a finite number, got {beta!r}")
    domain = pinn.Interval("x", 0.0, 2 * math.pi) * pinn.Time(0.0, 1.0)
    return pinn.Problem(
        domain,
        fields="u",
        pde=lambda f: f.u_t + beta * f.u_x,
        conditions=[
            pinn.initial(lambda x: torch.sin(x[:, 0:1]), n=n_ic, hard=hard),
            pinn.periodic("x", n=n_bc, order=1),
        ],
        n_pde=n_pde,
        exact=lambda x: exact(x, beta),
        name="convection",
    )


def recipe(name: str = "default") -> dict:
    """Reaches a relative L2 error below 1e-3 (docs/problems.md: 2.8e-4): the initial condition
    built in (as a loss term the network settles on u = 0, the initial term's 0.5 being
    cheaper than a wave whose residual has the factor 40), x through an exact periodic
    embedding, a small sine network, causal weights for Adam, and the dense BFGS stage, which
    goes on in float32 until round-off leaves it no descent direction (about 1,900
    iterations). 8,192 points, twice what the network needs, for a margin: on 4,096 a run can
    fit the points and miss the wave (docs/ablation.md). With tanh instead of sine the error
    is 10 times larger; without the BFGS stage no run came below 0.76."""
    check_recipe(name)
    return {
        "problem": {"n_pde": 8192, "hard": True},
        "net": {
            "hidden": [40] * 3,
            "activation": "sin",
            "embedding": pinn.Periodic({"x": 2 * math.pi}),
        },
        "weighting": pinn.Causal(tol=0.01, chunks=16),
        "stages": [
            pinn.Adam(steps=2000, lr=1e-3, decay=pinn.ExponentialDecay(0.9, 200)),
            pinn.BFGS(steps=4000),
        ],
        "dtype": "float32",
        "seed": 0,
    }
