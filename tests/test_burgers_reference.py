"""Checks of the Cole-Hopf reference solution of viscous Burgers (problems/burgers.py)."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from problems.burgers import NU, cole_hopf

X = np.linspace(-1, 1, 201)[:, None]
T = np.concatenate([[1e-8, 1e-4, 1e-2], np.linspace(0.05, 1, 20)])[None, :]
X_FRONT = np.linspace(-0.02, 0.02, 41)[:, None]
T_FRONT = np.linspace(0.35, 0.95, 13)[None, :]


def fd_residual(u, x, t, h, k):
    """Max |u_t + u u_x - NU u_xx| with second-order central differences (steps h in x, k in t)."""
    up, u0, um = u(x + h, t), u(x, t), u(x - h, t)
    u_t = (u(x, t + k) - u(x, t - k)) / (2 * k)
    return np.abs(u_t + u0 * (up - um) / (2 * h) - NU * (up - 2 * u0 + um) / h**2).max()


# Measured max residuals of cole_hopf: away from the front (|x| in [0.1, 0.9], t in [0.05, 0.95])
# 1.63e-4 at h = k = 1e-3, 4.07e-5 at h = k = 5e-4; across the front (|x| <= 0.02,
# t in [0.35, 0.95]) 1.81e-4 at h = 2e-5, k = 1e-4, 4.54e-5 at h = 1e-5, k = 5e-5. The residual
# falls by 4.0 per halving, so it is pure O(h^2) truncation error; the terms it balances are ~0.17
# (NU u_xx) away and ~57 across the front. RES_TOL is ~6x the measured residual. Wrong formulas
# (u -> -u, nu -> 2 nu, nu -> nu / 2) give residuals >= 8.0e-2 away and >= 13 across the front.
RES_TOL = 1e-3
AWAY = (
    np.concatenate([np.linspace(-0.9, -0.1, 33), np.linspace(0.1, 0.9, 33)])[:, None],
    np.linspace(0.05, 0.95, 19)[None, :],
    1e-3,
    1e-3,
)
FRONT = (X_FRONT, T_FRONT, 2e-5, 1e-4)
WRONG = {
    "sign": lambda x, t: -cole_hopf(x, t),
    "2nu": lambda x, t: cole_hopf(x, t, nu=2 * NU),
    "nu/2": lambda x, t: cole_hopf(x, t, nu=NU / 2),
}


def test_initial_condition_is_exact():
    x = np.linspace(-1, 1, 1001)
    assert np.array_equal(cole_hopf(x, 0.0), -np.sin(np.pi * x))
    assert np.abs(cole_hopf(x, 1e-10) + np.sin(np.pi * x)).max() < 1e-8


def test_zeros_at_centre_and_boundaries():
    t = T.ravel()
    for x in (-1.0, 0.0, 1.0):
        assert np.abs(cole_hopf(x, t)).max() < 1e-12


def test_odd_symmetry():
    assert np.abs(cole_hopf(-X, T) + cole_hopf(X, T)).max() < 1e-12
    assert np.abs(cole_hopf(-X_FRONT, T_FRONT) + cole_hopf(X_FRONT, T_FRONT)).max() < 1e-12


@pytest.mark.parametrize("x, t, h, k", [AWAY, FRONT], ids=["away", "front"])
def test_pde_residual_is_second_order_truncation(x, t, h, k):
    r = fd_residual(cole_hopf, x, t, h, k)
    assert r < RES_TOL
    assert 3.5 < r / fd_residual(cole_hopf, x, t, h / 2, k / 2) < 4.5


@pytest.mark.parametrize("x, t, h, k", [AWAY, FRONT], ids=["away", "front"])
@pytest.mark.parametrize("name", WRONG)
def test_pde_residual_rejects_wrong_formulas(name, x, t, h, k):
    assert fd_residual(WRONG[name], x, t, h, k) > 10 * RES_TOL


def test_quadrature_converged():
    for x, t in ((X, T), (X_FRONT, T_FRONT)):
        assert np.abs(cole_hopf(x, t, nodes=256) - cole_hopf(x, t)).max() < 1e-10


# 20-digit values from mpmath adaptive quadrature (40 digits) of the eta-integrals directly.
MPMATH = [
    (0.001, 1.0, -0.083591549991330884167),
    (-0.004, 0.5, 0.54037462224420015877),
    (0.0025, 0.3, -0.062384872520622192665),
    (0.5, 0.75, -0.46141329685867133542),
    (-0.25, 0.001, 0.70865695453967007411),
    (0.9, 0.1, -0.23687988503922192874),
]


def test_matches_independent_quadrature():
    x, t, u = np.array(MPMATH).T
    assert np.abs(cole_hopf(x, t) - u).max() < 1e-13


def test_steepest_gradient_basdevant():
    """Basdevant et al. (1986): max |u_x(0, t)| = 152.00516 at t = 1.6037 / pi for NU = 0.01/pi."""
    h = 1e-6  # u_x(0) = u(h) / h by odd symmetry; truncation ~ u_xxx h^2 / 6 ~ 1e-6
    best = minimize_scalar(
        lambda t: cole_hopf(h, t) / h, bounds=(0.4, 0.6), method="bounded", options={"xatol": 1e-9}
    )
    assert abs(-best.fun - 152.00516) < 2e-5
    assert abs(best.x * math.pi - 1.6037) < 1e-4
