"""Damped harmonic oscillator u'' + 2 zeta omega u' + omega^2 u = 0, u(0) = 1, u'(0) = 0.

Underdamped (zeta = 0.1, omega = 2 pi) on t in [0, 2]: two periods, the amplitude decays to
exp(-0.4 pi) = 0.28.
"""

import math

import torch

import pinn
from pinn.errors import BadValue
from problems import check_recipe

ZETA, OMEGA, T = 0.1, 2 * math.pi, 2.0


def exact(x, zeta=ZETA, omega=OMEGA):
    """exp(-zeta omega t) (cos(w t) + zeta omega / w sin(w t)), w = omega sqrt(1 - zeta^2)."""
    t, w = x[:, 0:1], omega * math.sqrt(1 - zeta**2)
    return torch.exp(-zeta * omega * t) * (torch.cos(w * t) + zeta * omega / w * torch.sin(w * t))


def problem(
    n_pde: int = 256, zeta: float = ZETA, omega: float = OMEGA, t_end: float = T
) -> pinn.Problem:
    """The problem on [0, t_end] with `n_pde` collocation points; needs 0 < zeta < 1.

    The residual is the equation divided by omega^2, so its terms are O(1) like the initial ones.
    """
    if not 0 < zeta < 1:
        raise BadValue(f"zeta must be in (0, 1) (underdamped), got {zeta!r}")

    def oscillator(f):
        return f.u_tt / omega**2 + 2 * zeta / omega * f.u_t + f.u

    return pinn.Problem(
        pinn.Time(0.0, t_end),
        fields="u",
        pde=oscillator,
        conditions=[pinn.initial(1.0, n=1), pinn.initial(0.0, n=1, order=1)],
        n_pde=n_pde,
        exact=lambda x: exact(x, zeta, omega),
        name="oscillator",
    )


def recipe(name: str = "default") -> dict:
    """Reaches a relative L2 error below 1e-3 with a margin: 6.6e-5 to 3.3e-4 over seeds 0-4
    (32 wide: 2.7e-4 to 8.5e-4, too close to the target; docs/problems.md); "precise"
    (float64, a small network, self-scaled Broyden BFGS) below 1e-7."""
    check_recipe(name, ("default", "precise"))
    if name == "precise":
        return {
            "net": {"hidden": [20] * 2, "activation": "tanh"},
            "problem": {"n_pde": 400},
            "stages": [pinn.Adam(steps=1000, lr=3e-3), pinn.BFGS(steps=5_000)],
            "dtype": "float64",
            "seed": 0,
        }
    return {
        "net": {"hidden": [64] * 3, "activation": "tanh"},
        "stages": [pinn.Adam(steps=2000, lr=1e-3), pinn.LBFGS(steps=2000)],
        "dtype": "float32",
        "seed": 0,
    }
