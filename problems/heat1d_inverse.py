"""Inverse heat problem: recover the diffusivity alpha of `heat1d` from noisy observations.

The forward problem's conditions, its residual u_t - alpha u_xx with alpha unknown (starting
from a guess), and `n_obs` observations of the exact solution at uniformly random points with
Gaussian noise of `noise` times the observations' standard deviation (fixed numpy seed).
"""

import numpy as np
import torch

import pinn
from problems import check_recipe

from . import heat1d


def observations(n_obs: int = 300, noise: float = 0.01, alpha: float = heat1d.ALPHA, seed=1234):
    """`n_obs` points of [0, 1]^2 and the noisy exact solution there, float64 tensors."""
    rng = np.random.default_rng(seed)
    x = torch.as_tensor(rng.random((n_obs, 2)))
    u = heat1d.exact(x, alpha)
    return x, u + noise * u.std() * torch.as_tensor(rng.standard_normal(u.shape))


def problem(
    n_pde: int = 2_000,
    n_ic: int = 256,
    n_bc: int = 256,
    n_obs: int = 300,
    noise: float = 0.01,
    alpha: float = heat1d.ALPHA,
    guess: float = 1.0,
) -> pinn.Problem:
    """The problem with true diffusivity `alpha` (for the data) and initial `guess` for it."""
    points, values = observations(n_obs, noise, alpha)
    return pinn.Problem(
        heat1d.domain(),
        fields="u",
        pde=lambda f, p: f.u_t - p.alpha * f.u_xx,
        conditions=[*heat1d.conditions(n_ic, n_bc), pinn.data(points, values)],
        n_pde=n_pde,
        exact=lambda x: heat1d.exact(x, alpha),
        unknowns={"alpha": guess},
        name="heat1d_inverse",
    )


def recipe(name: str = "default") -> dict:
    """Recovers alpha within 1% (docs/problems.md)."""
    check_recipe(name)
    return heat1d.recipe()
