"""The spectral ETDRK4 references of allen_cahn and kdv (problems/_spectral.py): converged in
modes and in time step, interpolated to the stated accuracy, satisfying the PDE and its
invariants, and telling a wrong parameter apart.

Every number in a comment was measured with the default settings (allen_cahn: 2,048 modes,
dt = 1e-3; kdv: 512 modes, dt = 2e-4; snapshots every 1e-3).
"""

import numpy as np
import pytest
from scipy.integrate import quad

from pinn.errors import BadValue
from problems import _spectral, allen_cahn, kdv

RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, 400)  # off the grids


def step_differences(solve, steps) -> list:
    """Between solves at successive time steps: the sum over modes of |coefficient
    differences|, the max over the snapshots t = 0.004 k."""
    return [
        np.abs(solve(dt=a, spacing=4e-3).coef - solve(dt=b, spacing=4e-3).coef).sum(axis=1).max()
        for a, b in zip(steps, steps[1:])
    ]


def snapshots(solution):
    """The grid values at every snapshot, (snapshots, modes)."""
    return np.array([solution.snapshot(j) for j in range(len(solution.coef))])


def dx(u, order):
    """The order-th x-derivative of periodic grid values on [-1, 1) (rows), by FFT."""
    m = u.shape[-1]
    k = np.pi * np.fft.fftfreq(m, 1 / m)
    k[m // 2] = 0  # the Nyquist mode has no derivative
    return np.real(np.fft.ifft((1j * k) ** order * np.fft.fft(u, axis=-1), axis=-1))


def dt(u, spacing):
    """du/dt at the snapshots 2 .. n - 3 by fourth-order central differences."""
    return (-u[4:] + 8 * u[3:-1] - 8 * u[1:-3] + u[:-4]) / (12 * spacing)


def allen_cahn_residual(u, spacing, eps):
    return dt(u, spacing) - eps * dx(u, 2)[2:-2] + 5 * u[2:-2] ** 3 - 5 * u[2:-2]


def kdv_residual(u, spacing, delta):
    c = u[2:-2]
    return dt(u, spacing) + c * dx(c, 1) + delta * dx(c, 3)


def times(solution, lo):
    return np.arange(len(solution.coef))[2:-2] * solution.spacing >= lo


@pytest.fixture(scope="module")
def ac():
    return allen_cahn.solve()


@pytest.fixture(scope="module")
def kd():
    return kdv.solve()


# -- Allen-Cahn ---------------------------------------------------------------------------------
def test_allen_cahn_initial_coefficients_match_quadrature():
    c = allen_cahn.initial_coefficients(64)
    for n in (0, 1, 2, 5, 31):
        u0 = lambda x, n=n: x**2 * np.cos(np.pi * x) * np.cos(np.pi * n * (x + 1))  # noqa: E731
        assert abs(c[n] - quad(u0, -1, 1, limit=200)[0] / 2) < 1e-14


def test_allen_cahn_starts_from_the_truncated_initial_value(ac):
    # measured: 4.0e-4 at x = +-1 (the kink), 1.2e-6 for |x| <= 0.9, 2.6e-7 for |x| <= 0.5
    x = np.linspace(-1, 1, 2001)
    err = np.abs(ac(x, 0.0) - x**2 * np.cos(np.pi * x))
    assert err.max() < 5e-4
    assert err[np.abs(x) <= 0.9].max() < 2e-6


def test_allen_cahn_converged_in_modes(ac):
    # measured max |2,048 - 4,096 modes|: 3.8e-10 at t = 0.01, 3.0e-11 at 0.02, 1.6e-11 at
    # 0.05, < 1e-12 from 0.25 on; 1,024 vs 4,096: 4.7e-6. Earlier the kink is not yet smoothed
    # below the grid scale: 2.1e-5 at t = 1e-3, 9.9e-8 at 5e-3 (docstring of allen_cahn)
    t = np.array([0.01, 0.02, 0.05, 0.25, 0.5, 1.0])[:, None]
    fine = allen_cahn.solve(modes=4096)(X, t)
    assert np.abs(ac(X, t) - fine).max() < 2e-9
    assert np.abs(allen_cahn.solve(modes=1024)(X, t) - fine).max() > 1e-6


def test_allen_cahn_converged_in_time_step_at_fourth_order(ac):
    # measured (sum over modes of |coefficient differences|, max over the snapshots
    # t = 0.004 k): |dt 4e-3 - 2e-3| = 2.9e-8, |2e-3 - 1e-3| = 1.6e-9, a rate of 4.2; the
    # default's own error, 1/15 of the last, is ~1e-10
    d = step_differences(allen_cahn.solve, (4e-3, 2e-3, 1e-3))
    rate = np.log2(d[0] / d[1])
    assert 3.5 < rate < 4.5, (d, rate)
    assert d[1] / 15 < 1e-9


# measured at the midpoints, spacings 4e-3 and 2e-3: for t >= 0.05 7.3e-10 and 4.3e-11 (rate
# 4.1), for t >= 0.01 1.6e-7 and 6.8e-9 (rate 4.5); directly at the default spacing 1e-3
# (dt 5e-4): 2.8e-12 for t >= 0.05, 5.0e-10 for t in [0.01, 0.05), 4.1e-9 in [0.005, 0.01)
# and 1.2e-7 before, where modes decaying at eps k^2 ~ 1e3 are not smooth on the spacing
@pytest.mark.parametrize("t_lo, tol", [(0.05, 1e-11), (0.01, 1e-9)])
def test_allen_cahn_hermite_interpolation_error(ac, t_lo, tol):
    _hermite_error(allen_cahn, ac, t_lo, tol)


def test_allen_cahn_even_in_x(ac):
    t = RNG.uniform(0, 1, 400)
    assert np.abs(ac(X, t) - ac(-X, t)).max() < 1e-12  # measured 9.0e-15


def test_allen_cahn_maximum_principle(ac):
    assert np.abs(snapshots(ac)).max() <= 1  # measured 1 - 1.1e-6


def test_allen_cahn_energy_decays_as_its_gradient_flow(ac):
    """E = int eps/2 u_x^2 + 5/4 (u^2 - 1)^2 dx falls, at the rate dE/dt = -int u_t^2 dx."""
    u, h = snapshots(ac), 2 / ac.modes
    energy = h * np.sum(allen_cahn.EPS / 2 * dx(u, 1) ** 2 + 1.25 * (u**2 - 1) ** 2, axis=1)
    assert (np.diff(energy) < 0).all()
    u_t = np.array([np.fft.irfft(r * ac.modes, n=ac.modes) for r in ac.rate])
    rate = -h * np.sum(u_t**2, axis=1)[2:-2]
    # measured relative misfit: 2.9e-10 for t >= 0.05 (4.0e-7 counting t < 0.01)
    late = times(ac, 0.05)
    misfit = np.abs(dt(energy, ac.spacing) - rate)[late] / np.abs(rate[late])
    assert misfit.max() < 1e-8


def test_allen_cahn_satisfies_the_pde(ac):
    # time derivative by fourth-order differences of the snapshots, x-derivatives by FFT:
    # measured max residual 2.3e-9 for t >= 0.05 (2.6e-6 for t >= 0.01, 3.8e-4 counting the
    # first steps), against terms up to 5; with eps = 2e-4 solved instead it is 0.45
    r = np.abs(allen_cahn_residual(snapshots(ac), ac.spacing, allen_cahn.EPS))
    assert r[times(ac, 0.05)].max() < 1e-8
    wrong = allen_cahn.solve(eps=2e-4)
    r = np.abs(allen_cahn_residual(snapshots(wrong), wrong.spacing, allen_cahn.EPS))
    assert r[times(wrong, 0.05)].max() > 1e-2


def test_allen_cahn_parameter_matters(ac):
    # measured: max |eps 1e-4 - eps 2e-4| = 0.083 (the fronts sit nearly where they formed)
    t = np.array([0.25, 0.5, 1.0])[:, None]
    assert np.abs(allen_cahn.solve(eps=2e-4)(X, t) - ac(X, t)).max() > 0.05


# -- KdV ----------------------------------------------------------------------------------------
def test_kdv_converged_in_modes(kd):
    # measured max |512 - 256 modes| = 2.9e-15; 128 modes: 8.5e-12, 96: 1.3e-8, 64: 1.9e-5.
    # The largest coefficient from mode 80 on is 6.8e-16, from mode 100 on 2.8e-17.
    t = np.array([0.1, 0.5, 0.75, 1.0])[:, None]
    u = kd(X, t)
    assert np.abs(kdv.solve(modes=256)(X, t) - u).max() < 1e-13
    assert np.abs(kdv.solve(modes=64)(X, t) - u).max() > 1e-6
    assert np.abs(kd.coef[:, 100:]).max() < 1e-15


def test_kdv_converged_in_time_step_at_fourth_order(kd):
    # measured: |dt 8e-4 - 4e-4| = 2.4e-8, |4e-4 - 2e-4| = 1.4e-9 (rate 4.1); the default's own
    # error, 1/15 of the last, is ~1e-10
    d = step_differences(kdv.solve, (8e-4, 4e-4, 2e-4))
    rate = np.log2(d[0] / d[1])
    assert 3.5 < rate < 4.6, (d, rate)
    assert d[1] / 15 < 1e-9


def test_kdv_hermite_interpolation_error(kd):
    # measured: 5.2e-9 and 3.2e-10 at spacings 4e-3 and 2e-3 (rate 4.0): ~2e-11 at 1e-3
    _hermite_error(kdv, kd, 0.0, 1e-10)


def test_kdv_invariants(kd):
    """The mean, int u^2 and the Hamiltonian int u^3 / 6 - delta / 2 u_x^2 stay constant."""
    u, h = snapshots(kd), 2 / kd.modes
    mean = u.mean(axis=1)
    mass2 = h * np.sum(u**2, axis=1)
    energy = h * np.sum(u**3 / 6 - kdv.DELTA / 2 * dx(u, 1) ** 2, axis=1)
    # measured: mean 1.4e-16 (mode 0 never changes), int u^2 7.7e-12 relative, energy 2.4e-12
    assert np.abs(mean).max() < 1e-15
    assert np.abs(mass2 / mass2[0] - 1).max() < 1e-10
    assert np.abs(energy / energy[0] - 1).max() < 1e-10


def test_kdv_satisfies_the_pde(kd):
    # measured max residual 6.9e-8 (fourth-order differences in t; u_t is up to 6); with
    # delta = 0.003 solved instead it is 5.4
    r = np.abs(kdv_residual(snapshots(kd), kd.spacing, kdv.DELTA))
    assert r.max() < 3e-7
    wrong = kdv.solve(delta=0.003)
    assert np.abs(kdv_residual(snapshots(wrong), wrong.spacing, kdv.DELTA)).max() > 1e-2


def test_kdv_parameter_matters(kd):
    # measured: max |delta 0.0025 - delta 0.0022| = 0.74
    t = np.array([0.5, 1.0])[:, None]
    assert np.abs(kdv.solve(delta=0.0022)(X, t) - kd(X, t)).max() > 0.1


# -- shared -------------------------------------------------------------------------------------
def _hermite_error(module, solution, t_lo, tol):
    """Cubic Hermite in t: the error at the midpoints between snapshots, measured against the
    snapshots there of the same solve saved twice as often (so the grids of t and x agree and
    nothing but the interpolation differs), for spacings 4e-3 and 2e-3; fourth order, the
    default spacing 1e-3 has 1/16 of the last."""
    errors = []
    for spacing in (4e-3, 2e-3):
        coarse = module.solve(spacing=spacing)
        fine = solution if spacing / 2 == solution.spacing else module.solve(spacing=spacing / 2)
        mid = np.arange(1, len(fine.coef), 2)
        mid = mid[mid * fine.spacing >= t_lo]
        errors.append(
            max(np.abs(coarse.on_grid(j * fine.spacing) - fine.snapshot(j)).max() for j in mid)
        )
    rate = np.log2(errors[0] / errors[1])
    assert rate > 3.5 and errors[1] / 16 < tol, (errors, rate)


@pytest.mark.parametrize("module", [allen_cahn, kdv])
def test_bad_settings_are_refused(module):
    param = "eps" if module is allen_cahn else "delta"
    for value in (0.0, -1e-4, float("nan")):
        with pytest.raises(BadValue, match=f"{param} must be positive"):
            module.solve(**{param: value})
    for modes in (32, 513, 512.0):
        with pytest.raises(BadValue, match="modes must be an even integer"):
            module.solve(modes=modes)
    with pytest.raises(BadValue, match="multiple of dt"):
        module.solve(dt=3e-4, spacing=1e-3)
    with pytest.raises(BadValue, match="t must lie in"):
        module.solve()(0.0, 1.5)


def test_phi_coefficients_match_their_series():
    """Q, f1..f3 at small h L against their Taylor series (where the direct formulas cancel):
    Q = h (1/2 + z/8 + z^2/48), f1 = h (1/6 + z/6 + 3 z^2 / 40), f2 = h (1/6 + z/12 + z^2/40),
    f3 = h (1/6 - z^2 / 120) up to O(z^3), z = h L."""
    z = np.array([1e-6, -1e-5, 1e-4])
    q, f1, f2, f3 = _spectral.phi_coefficients(z, 1.0)
    for got, series in (
        (q, 1 / 2 + z / 8 + z**2 / 48),
        (f1, 1 / 6 + z / 6 + 3 * z**2 / 40),
        (f2, 1 / 6 + z / 12 + z**2 / 40),
        (f3, 1 / 6 - z**2 / 120),
    ):
        assert np.abs(got - series).max() < 1e-13
