"""The registry's exact solutions zero every loss term of their problems (so a test that uses
them checks the problem and not a typo in it), and a perturbed solution does not."""

import pytest
import torch
from analytic import PROBLEMS, Exact

import pinn


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_the_exact_solution_zeroes_every_term(name):
    problem = PROBLEMS[name]()
    batch = problem.sample(seed=0, dtype=torch.float64)
    unknowns = pinn.Unknowns(problem.unknowns).double()
    exact = problem.losses(Exact(problem.exact), batch, unknowns)
    assert max(float(v.detach()) for v in exact.values()) < 1e-20, exact
    bump = Exact(lambda x: problem.exact(x) + 0.1 * (x[:, :1] + 1) ** 2)
    wrong = problem.losses(bump, batch, unknowns)
    assert min(float(v.detach()) for v in wrong.values()) > 1e-6, wrong


def test_the_registry_covers_every_condition_kind():
    kinds = {c.kind for f in PROBLEMS.values() for c in f().conditions}
    orders = {
        c.options["order"] for f in PROBLEMS.values() for c in f().conditions if c.kind == "initial"
    }
    assert kinds == {"dirichlet", "neumann", "robin", "periodic", "initial", "data", "residual"}
    assert orders == {0, 1}
