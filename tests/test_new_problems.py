"""allen_cahn, kdv, convection, kovasznay and cavity beyond test_problems.py (which checks
that each exact solution satisfies its problem): the numerical references follow the physical
parameters, bad values are refused, Kovasznay's formulas hold at spot values."""

import importlib

import numpy as np
import pytest
import torch

from pinn.errors import BadValue

ANALYTIC = {"convection": {"beta": 20.0}, "kovasznay": {"re": 40.0}}
NUMERICAL = {"allen_cahn": {"eps": 2e-4}, "kdv": {"delta": 0.003}, "cavity": {"re": 50.0}}
NAMES = list(ANALYTIC) + list(NUMERICAL)
BAD = {
    "allen_cahn": {"eps": 0.0},
    "kdv": {"delta": -0.0025},
    "convection": {"beta": float("nan")},
    "kovasznay": {"re": 0.0},
    "cavity": {"re": -100.0},
}
N_PDE = 64


def module(name):
    return importlib.import_module(f"problems.{name}")


@pytest.mark.parametrize("name", NUMERICAL)
def test_numerical_reference_follows_the_parameter(name):
    p = module(name).problem(n_pde=N_PDE, **NUMERICAL[name])
    default = module(name).problem(n_pde=N_PDE)
    x = torch.as_tensor(p.domain.grid(400), dtype=torch.float64)
    ref = module(name).solve(**NUMERICAL[name])
    pts = x.numpy()
    expected = ref(pts) if name == "cavity" else ref(pts[:, 0], pts[:, 1])[:, None]
    assert np.array_equal(p.exact(x).numpy(), expected)
    assert (p.exact(x) - default.exact(x)).abs().max() > 1e-2


@pytest.mark.parametrize("name", NAMES)
def test_bad_parameters_are_refused(name):
    [(param, value)] = BAD[name].items()
    with pytest.raises(BadValue, match=param):
        module(name).problem(n_pde=N_PDE, **BAD[name])


def test_kovasznay_pressure_and_velocity_formulas():
    """Spot values of the exact solution against the formulas in numpy (Re = 20)."""
    from problems.kovasznay import exact, lam

    a = 10 - np.sqrt(100 + 4 * np.pi**2)
    assert lam() == pytest.approx(a, rel=1e-15)
    x = np.array([[-0.5, -0.5], [0.25, 0.1], [1.0, 1.5]])
    e = np.exp(a * x[:, 0])
    want = np.stack(
        [
            1 - e * np.cos(2 * np.pi * x[:, 1]),
            a / (2 * np.pi) * e * np.sin(2 * np.pi * x[:, 1]),
            (1 - e**2) / 2,
        ],
        axis=1,
    )
    assert np.abs(exact(torch.as_tensor(x)).numpy() - want).max() < 1e-14
