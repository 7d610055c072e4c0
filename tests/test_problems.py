"""The problem library: each exact solution satisfies its problem; each recipe reaches its target.

The fast tests evaluate `problem.losses` with a float64 "network" that returns the exact
solution in differentiable torch ops, so the residuals see its true derivatives: every loss
term must vanish to round-off, and a wrong solution must not. The slow tests train the recipes.
"""

import importlib
import inspect

import numpy as np
import pytest
import torch

import pinn
import problems
from pinn.nets import Lambda
from problems.burgers import NU
from problems.heat1d import ALPHA

# problem -> relative L2 error its recipe must reach (docs/problems.md)
TARGETS = {
    "poisson1d": 1e-4,
    "poisson2d": 1e-3,
    "helmholtz2d": 5e-2,
    "heat1d": 1e-3,
    "wave1d": 1e-3,
    "burgers": 3e-4,
    "oscillator": 1e-3,
    "lorenz": 1e-2,
    "heat1d_inverse": 1e-2,
    "lshape": 5e-3,
    "annulus": 1e-3,
    "plate_with_holes": 5e-3,
    "heat_ball": 5e-3,
    "kovasznay": 1e-3,
    "cavity": 2e-2,
    "allen_cahn": 1e-2,
    "convection": 1e-3,
    "kdv": 1e-3,
}
# problems whose target is on some fields only (cavity: the velocity, the pressure's level
# being fixed by one point)
TARGET_FIELDS = {"cavity": ("u", "v")}
# the recipes whose runs are long enough for the default engine to compile the Taylor pass
COMPILED = {"burgers", "lshape", "annulus", "heat_ball", "kovasznay", "cavity"}
# problem -> relative L2 error its recipe("precise") (float64, second-order stages) must reach
PRECISE = {
    "poisson2d": 1e-7,
    "heat1d": 1e-6,
    "oscillator": 1e-7,
    "helmholtz2d": 1e-5,
    "wave1d": 1e-4,
    "burgers": 1e-5,
}
# every problem of the library, with non-default physical parameters: the exact solution must
# follow them (a problem without a target yet is here and not in TARGETS)
OVERRIDES = {
    "poisson1d": {},
    "poisson2d": {"bc_weight": 1.0},
    "helmholtz2d": {"k": 3.0},
    "heat1d": {"alpha": 0.3},
    "wave1d": {"c": 1.0},
    "burgers": {"nu": 2 * NU},
    "oscillator": {"zeta": 0.3, "omega": 3.0},
    "lorenz": {"rho": 20.0, "t_end": 0.25},
    "heat1d_inverse": {"alpha": 0.3},
    "lshape": {"bc_weight": 1.0},
    "annulus": {},
    "plate_with_holes": {"bc_weight": 1.0},
    "heat_ball": {"alpha": 0.2},
    "convection": {"beta": 20.0},
    "kovasznay": {"re": 40.0},
    "allen_cahn": {"eps": 2e-4},
    "kdv": {"delta": 0.003},
    "cavity": {"re": 50.0},
}
# numerical references (numpy, whose derivatives torch reads as 0): their PDE terms are checked
# in their own tests (test_burgers_reference.py, test_spectral_reference.py,
# test_cavity_reference.py), their conditions here
NUMERICAL = {
    "burgers": ("pde",),
    "allen_cahn": ("pde",),
    "kdv": ("pde",),
    "cavity": ("momentum_x", "momentum_y", "continuity"),
}
N_PDE = 64  # collocation points in the fast tests
TOL = 1e-20  # the mean-square terms of an analytic solution are round-off, ~1e-28
# Lorenz: its reference is solve_ivp's (rtol 1e-10) through a degree-80 interpolant, which
# leaves a mean-square residual ~1e-14 against right-hand sides ~100
TOL_LORENZ_PDE = 1e-10
WRONG = 1e-3  # the smallest total loss that 1.1 u + 0.1 must give


def module(name):
    return importlib.import_module(f"problems.{name}")


Solution = Lambda  # a "network" that returns fn(x)


class Chebyshev(torch.nn.Module):
    """The Chebyshev interpolant of fn on [0, t_end], in torch ops so that torch can
    differentiate it: the stand-in for a numerical reference (Lorenz)."""

    def __init__(self, fn, t_end, degree=80):
        super().__init__()
        s = np.cos(np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1))
        values = fn(torch.as_tensor((s[:, None] + 1) * t_end / 2)).numpy()
        self.coef = torch.as_tensor(np.polynomial.chebyshev.chebfit(s, values, degree))
        self.t_end = t_end

    def forward(self, x):
        s = 2 * x / self.t_end - 1
        a, b = torch.ones_like(s), s
        out = self.coef[0] * a + self.coef[1] * b
        for c in self.coef[2:]:
            a, b = b, 2 * s * b - a
            out = out + c * b
        return out


def losses(p, fn, alpha=ALPHA):
    """The loss terms of the "network" fn on a float64 sample (alpha: the inverse's unknown)."""
    unknowns = None
    if p.unknowns:
        unknowns = pinn.Unknowns({"alpha": alpha}).double()
        with torch.no_grad():  # Unknowns holds its initial value rounded to float32
            unknowns.values["alpha"].fill_(alpha)
    batch = p.sample(seed=0, dtype=torch.float64)
    return {k: float(v.detach()) for k, v in p.losses(Solution(fn), batch, unknowns).items()}


@pytest.mark.parametrize("overridden", [False, True], ids=["default", "override"])
@pytest.mark.parametrize("name", OVERRIDES)
def test_exact_solution_satisfies_problem(name, overridden):
    kwargs = OVERRIDES[name] if overridden else {}
    p = module(name).problem(n_pde=N_PDE, **kwargs)
    exact = p.exact
    if name == "lorenz":
        exact = Chebyshev(p.exact, p.domain.hi[0])
    terms = losses(p, exact, kwargs.get("alpha", ALPHA))
    tol = dict.fromkeys(terms, TOL)
    for term in NUMERICAL.get(name, ()):
        del terms[term]
    if name == "allen_cahn":
        # the truncated Fourier series of u(x, 0), 4e-4 off at the kink x = +-1: 3.0e-11
        tol["initial"] = 1e-9
    if name == "lorenz":
        tol["pde"] = TOL_LORENZ_PDE
    if name == "plate_with_holes":
        # a finite-element solution (numpy, so its derivatives read as 0; its error is shown
        # by refinement in test_plate_reference.py), on a mesh whose holes are polygons: its
        # values on the true circles differ from the conditions' by ~1e-5
        terms = {k: terms[k] for k in ("edges", "hot")}
        tol = dict.fromkeys(terms, 1e-8)
    if name == "heat1d_inverse":
        # the observations carry noise of 1% of their standard deviation: the mean-square
        # misfit of the exact solution is that noise's variance
        _, values = module(name).observations(alpha=kwargs.get("alpha", ALPHA))
        assert terms.pop("data") == pytest.approx(float(0.01 * values.std()) ** 2, rel=0.2)
    for term, value in terms.items():
        assert value < tol[term], f"{name}: loss term {term!r} = {value:.3e}"
    wrong = losses(p, lambda x: 1.1 * exact(x) + 0.1, kwargs.get("alpha", ALPHA))
    assert sum(wrong.values()) > WRONG, f"{name}: a wrong solution gives losses {wrong}"


@pytest.mark.parametrize("name", OVERRIDES)
def test_problem_honours_overrides(name):
    p = module(name).problem(n_pde=N_PDE, **OVERRIDES[name])
    assert len(p.sample(seed=0)["pde"]) == N_PDE
    assert p.name == name
    with pytest.raises(TypeError, match="unexpected keyword"):
        module(name).problem(n_pdf=N_PDE)


def test_every_problem_of_the_library_is_checked():
    assert set(OVERRIDES) == set(problems.names()) and set(TARGETS) <= set(OVERRIDES)


RECIPES = [(name, "default") for name in OVERRIDES] + [(name, "precise") for name in PRECISE]


@pytest.mark.parametrize("name, which", RECIPES)
def test_recipe_structure(name, which):
    r = module(name).recipe(which)
    assert isinstance(r["net"], dict)
    assert r["stages"] and all(isinstance(s, pinn.Stage) for s in r["stages"])
    rest = set(r) - {"net", "stages", "problem"}
    assert rest <= set(inspect.signature(pinn.train).parameters), rest
    assert r.get("seed", 0) == 0 and r.get("dtype", "float32") in ("float32", "float64")
    assert which == "default" or r["dtype"] == "float64"
    p = module(name).problem(**{**r.get("problem", {}), "n_pde": N_PDE})
    net = pinn.make_net(p, **r["net"])
    assert net(torch.zeros(3, p.domain.dim)).shape == (3, len(p.fields))
    assert module(name).recipe(which)["net"] is not r["net"]  # fresh dicts: safe to pop from


@pytest.mark.parametrize("name", OVERRIDES)
def test_an_unknown_recipe_name_is_refused(name):
    with pytest.raises(pinn.errors.BadValue, match="unknown recipe 'fastest'; this problem has"):
        module(name).recipe("fastest")


def train(name, which="default"):
    """Train the problem with its recipe, as docs/problems.md says it was measured."""
    r = module(name).recipe(which)
    p = module(name).problem(**r.pop("problem", {}))
    return pinn.train(p, pinn.make_net(p, **r.pop("net")), **r)


@pytest.mark.slow
@pytest.mark.parametrize("name", TARGETS)
def test_recipe_reaches_target(name):
    result = train(name)
    assert "nonfinite" not in result.info  # no recovery, no loss over BLOWUP x the lowest
    # the default engine compiles for long runs without an output transform
    # (engines.COMPILE_WORK)
    assert result.info["engine"] == ("compiled" if name in COMPILED else "taylor")
    if name == "heat1d_inverse":
        assert result.unknowns["alpha"] == pytest.approx(ALPHA, rel=0.01)
    assert result.error(fields=TARGET_FIELDS.get(name)) <= TARGETS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", PRECISE)
def test_precise_recipe_reaches_target(name):
    """Float64 and second-order stages (docs/problems.md gives the times, up to 30 minutes)."""
    result = train(name, "precise")
    assert "nonfinite" not in result.info
    assert result.error() <= PRECISE[name]
