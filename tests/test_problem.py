"""Problem construction: conditions reach the right points, and bad input fails early by name."""

import math

import numpy as np
import pytest
import torch

import pinn
from pinn.nets import Lambda

LINE = pinn.Interval("x", 0.0, 1.0)
SPACE_TIME = pinn.Interval("x", -1.0, 1.0) * pinn.Time(0.0, 1.0)


def poisson(**kw):
    args = dict(
        pde=lambda f: -f.u_xx - math.pi**2 * torch.sin(math.pi * f.x),
        conditions=[pinn.dirichlet(0.0, n=2)],
        n_pde=32,
        exact=lambda x: torch.sin(math.pi * x[:, 0:1]),
    )
    args.update(kw)
    return pinn.Problem(LINE, **args)


Exact = Lambda  # a "network" that returns fn(x)


def test_exact_solution_has_zero_loss_and_a_wrong_one_does_not():
    p = poisson()
    batch = p.sample(dtype=torch.float64)
    exact = p.losses(Exact(lambda x: torch.sin(math.pi * x)), batch)
    assert set(exact) == {"pde", "dirichlet"} and max(exact.values()) < 1e-25
    wrong = p.losses(Exact(lambda x: torch.sin(math.pi * x) + x), batch)
    assert wrong["dirichlet"] > 0.1


def test_every_condition_kind_on_a_space_time_problem():
    u = lambda x: torch.cos(math.pi * x[:, 0:1]) * torch.exp(-x[:, 1:2])  # noqa: E731
    conditions = [
        pinn.initial(lambda x: torch.cos(math.pi * x[:, 0:1]), n=16),
        pinn.initial(lambda x: -torch.cos(math.pi * x[:, 0:1]), n=16, order=1),
        pinn.dirichlet(lambda x: -torch.exp(-x[:, 1:2]), on=SPACE_TIME.boundary("x"), n=16),
        pinn.neumann(0.0, n=16),  # u_x = 0 at x = ±1
        pinn.robin(lambda x: -2 * torch.exp(-x[:, 1:2]), alpha=2.0, beta=5.0, n=16),
        pinn.periodic("x", n=16),
        pinn.data([[0.25, 0.5]], [[math.cos(math.pi / 4) * math.exp(-0.5)]]),
        pinn.residual(lambda f: f.u_t + f.u, n=16),
        pinn.dirichlet(lambda x: -torch.exp(-x[:, 1:2]), on=lambda x: x[:, 0] > 0.5, n=8),
    ]
    p = pinn.Problem(
        SPACE_TIME, pde=lambda f: f.u_t - f.u_xx / math.pi**2, conditions=conditions, n_pde=64
    )
    assert p.terms == (
        "pde",
        "initial",
        "initial_2",
        "dirichlet",
        "neumann",
        "robin",
        "periodic",
        "data",
        "residual",
        "dirichlet_2",
    )
    losses = p.losses(Exact(u), p.sample(dtype=torch.float64))
    assert max(losses.values()) < 1e-25, losses
    # the predicate kept only x = +1
    assert (p.sample()["dirichlet_2"].x[:, 0] == 1).all()
    bump = lambda x: 0.1 * x[:, 0:1] ** 2 * (1 + x[:, 1:2])  # noqa: E731
    wrong = p.losses(Exact(lambda x: u(x) + bump(x)), p.sample(dtype=torch.float64))
    for term in ("pde", "initial", "initial_2", "dirichlet", "neumann", "robin", "data"):
        assert wrong[term] > 1e-5, term


def test_several_fields_and_inverse_parameters():
    def system(f, p):
        return [f.u_t - p.a * f.v, f.v_t + f.u]

    p = pinn.Problem(
        pinn.Time(0, 1),
        fields=("u", "v"),
        pde=system,
        conditions=[pinn.initial(1.0, field="u"), pinn.initial(0.0, field="v")],
        unknowns={"a": 1.0},
        n_pde=16,
    )
    u = Exact(lambda t: torch.cat([torch.cos(t), -torch.sin(t)], dim=1))
    losses = p.losses(u, p.sample(dtype=torch.float64), pinn.Unknowns({"a": 1.0}).double())
    assert max(losses.values()) < 1e-25
    losses = p.losses(u, p.sample(dtype=torch.float64), pinn.Unknowns({"a": 2.0}).double())
    assert losses["pde"] > 0.1


def test_pde_given_as_dict_names_its_terms():
    p = pinn.Problem(LINE, pde={"mass": lambda f: f.u_x, "energy": lambda f: f.u}, n_pde=8)
    assert p.terms == ("mass", "energy")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"pde": lambda f: f.v_xx}, ValueError, r"unknown name 'v_xx'.*fields are \('u',\)"),
        ({"pde": lambda f: f.u_yy}, ValueError, r"unknown name 'u_yy'.*coordinates are \('x',\)"),
        ({"pde": lambda f: f.u_xx.mean()}, ValueError, r"residual 'pde' returned shape \(\)"),
        ({"pde": lambda f: f.u_xx.T}, ValueError, r"returned shape \(1, 8\)"),
        ({"pde": lambda f: 3.0}, TypeError, "returned float"),
        ({"pde": lambda f, p: p.k * f.u}, ValueError, "unknown parameter 'k'"),
        ({"pde": lambda f: f.u / 0 * 0}, ValueError, "not finite at initialization"),
        ({"pde": "u_xx"}, TypeError, "pde must be a callable"),
        (
            {"exact": lambda x: x.repeat(1, 2)},
            ValueError,
            r"exact solution returned shape \(\d+, 2\)",
        ),
        ({"exact": lambda x: x / 0}, ValueError, "NaN or Inf"),
        ({"n_pde": 0}, ValueError, "n_pde must be a positive integer"),
        ({"n_pde": -5}, ValueError, "n_pde must be a positive integer"),
        ({"fields": "x"}, ValueError, "clash with coordinates"),
        ({"fields": ("u", "u")}, ValueError, "distinct"),
        ({"sampler": "random"}, ValueError, "valid: uniform, sobol, halton, lhs"),
        ({"unknowns": {"a": float("nan")}}, ValueError, "finite number"),
        ({"conditions": [pinn.dirichlet(0.0, field="w")]}, ValueError, "unknown field 'w'"),
        ({"conditions": ["u=0"]}, TypeError, "pinn conditions"),
        ({"conditions": [pinn.dirichlet(lambda x: x.repeat(1, 3))]}, ValueError, "value returned"),
        ({"conditions": [pinn.initial(0.0)]}, ValueError, "no Time factor"),
        ({"conditions": [pinn.periodic("y")]}, ValueError, "unknown coordinate 'y'"),
        ({"conditions": [pinn.dirichlet(0.0, on=lambda x: x[:, 0] > 5)]}, ValueError, "predicate"),
        ({"conditions": [pinn.data([[2.0]], [1.0])]}, ValueError, "outside the domain"),
        ({"conditions": [pinn.data([[0.5, 0.5]], [1.0])]}, ValueError, "2 columns"),
    ],
)
def test_bad_problems_raise_early_naming_the_mistake(kwargs, error, match):
    with pytest.raises(error, match=match):
        poisson(**kwargs)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: pinn.dirichlet(0.0, n=0), ValueError, "n must be a positive integer"),
        (lambda: pinn.dirichlet(0.0, n=2.5), ValueError, "n must be a positive integer"),
        (lambda: pinn.dirichlet(0.0, weight=-1), ValueError, "weight must be"),
        (lambda: pinn.dirichlet("zero"), TypeError, "value must be a number or a callable"),
        (lambda: pinn.dirichlet(0.0, on="left"), TypeError, "on= takes"),
        (lambda: pinn.initial(0.0, order=2), ValueError, "order must be 0"),
        (lambda: pinn.data(np.zeros((3, 1)), np.zeros(4)), ValueError, r"shape \(3, k\)"),
        (lambda: pinn.data([[np.nan]], [1.0]), ValueError, "NaN or Inf"),
        (lambda: pinn.residual("u_xx"), TypeError, "callable"),
        (lambda: pinn.Problem("domain"), TypeError, "pinn domain"),
    ],
)
def test_bad_conditions_raise_early(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_unknowns_read_by_no_residual_fail_by_name():
    with pytest.raises(pinn.errors.BadValue, match=r"unknowns \['c'\] are read by no residual"):
        pinn.Problem(
            LINE,
            pde=lambda f, p: f.u_xx - p.k,
            conditions=[pinn.dirichlet(0.0, n=2)],
            unknowns={"k": 1.0, "c": 2.0},
        )


def test_a_condition_named_pde_gets_its_own_point_set():
    p = pinn.Problem(
        LINE, pde=[lambda f: f.u_xx], conditions=[pinn.dirichlet(0.0, n=2, name="pde")], n_pde=8
    )
    assert [s.name for s in p.sets] == ["pde", "pde_2"]
    assert len(p.sample()["pde"]) == 8
