"""pinn.LevenbergMarquardt: one step solves a linear least-squares problem as the damping goes
to zero (both solvers), the damping answers the gain ratio and NaN trials, and in training it
beats the first-order stages, fits unknowns, resumes exactly and refuses what it cannot take."""

import math
import warnings

import pytest
import torch
from analytic import inverse, poisson1d
from test_reliability import Memory, params, without_time

import pinn
from pinn.training.levenberg import _iterate, solve

F64 = torch.float64


class Linear:
    """An objective whose residual M x - c is linear in one parameter vector x; `nan` first
    trials evaluate to NaN."""

    def __init__(self, M, c, nan=0):
        self.M, self.c, self.nan = M, c, nan

    def _r(self, x):
        return self.M @ x - self.c

    def normal_equations(self, batch, params, chunk=None):
        x = params[0].detach()
        r = self._r(x)
        return self.M.T @ self.M, self.M.T @ r, {"pde": r @ r}

    def total(self, batch, step):
        r = self._r(batch["x"][0].detach())
        if self.nan:
            self.nan -= 1
            return {"pde": torch.tensor(math.nan, dtype=F64)}
        return {"pde": r @ r}


def linear_case(nan=0):
    gen = torch.Generator().manual_seed(0)
    M = torch.randn(12, 5, generator=gen, dtype=F64)
    c = torch.randn(12, generator=gen, dtype=F64)
    x = torch.nn.Parameter(torch.zeros(5, dtype=F64))
    return M, c, x, Linear(M, c, nan)


def test_one_step_solves_linear_least_squares_as_the_damping_vanishes():
    M, c, x, objective = linear_case()
    best = torch.linalg.lstsq(M, c[:, None]).solution[:, 0]
    stage, state = pinn.LevenbergMarquardt(damping=1e-14), {}
    terms = _iterate(stage, objective, {"x": [x]}, [x], state, 1.0, 1)
    torch.testing.assert_close(x.detach(), best, rtol=1e-10, atol=1e-12)
    assert float(terms["pde"]) == pytest.approx(float((M @ best - c).square().sum()), rel=1e-12)
    assert state["mu"] < 1e-13 and state["nu"] == 2.0  # a gain ratio of 1: mu / 3
    r0 = -c  # at x = 0
    for how in ("cholesky", "lstsq"):
        h = solve(M.T @ M, M.T @ r0, (r0, M), 1e-14, how)
        torch.testing.assert_close(h, best, rtol=1e-10, atol=1e-12)


def test_a_nan_trial_raises_the_damping_and_the_next_trial_is_taken():
    M, c, x, objective = linear_case(nan=2)
    stage, state = pinn.LevenbergMarquardt(damping=1e-3), {}
    A = M.T @ M
    assert _iterate(stage, objective, {"x": [x]}, [x], state, 1.0, 1) is not None
    # two NaN trials: mu * 2, then * 4; then the linear model is exact, rho = 1, and
    # mu * max(1/3, 1 - (2 rho - 1)^3) = mu / 3
    mu0 = 1e-3 * float(A.diagonal().max())
    assert state["mu"] == pytest.approx(mu0 * 8 / 3, rel=1e-12) and state["nu"] == 2.0
    assert float(objective.total({"x": [x]}, 1)["pde"]) < float(c @ c)


def test_no_decrease_leaves_the_parameters_and_says_so():
    M, c, x, objective = linear_case(nan=10**6)  # every trial NaN
    state = {}
    assert _iterate(pinn.LevenbergMarquardt(), objective, {"x": [x]}, [x], state, 1.0, 1) is None
    assert torch.equal(x.detach(), torch.zeros(5, dtype=F64)) and state["nu"] == 2.0**31


def train(p, stage, **kw):
    net = pinn.MLP(p, hidden=[8, 8])
    stages = [pinn.Adam(steps=100, lr=1e-2), stage]
    return pinn.train(p, net, stages=stages, dtype="float64", log_every=10, engine="taylor", **kw)


def test_in_training_it_beats_the_quasi_newton_stages_and_resumes_exactly():
    p = poisson1d()
    lm = train(p, pinn.LevenbergMarquardt(steps=40))
    bfgs = train(p, pinn.BFGS(steps=40))
    assert lm.history[-1]["loss"] < 1e-2 * bfgs.history[-1]["loss"]
    assert lm.history[-1]["stage"] == "lm" and lm.info["stages"][-1]["last_step"] == 140
    keep = Memory(at={120})
    train(p, pinn.LevenbergMarquardt(steps=40), checkpoints=keep)
    resumed = train(p, pinn.LevenbergMarquardt(steps=40), resume=keep.states[120])
    assert torch.equal(params(resumed), params(lm))
    assert without_time(resumed.history) == without_time(lm.history)


def test_it_fits_the_unknowns_of_an_inverse_problem():
    result = train(inverse(), pinn.LevenbergMarquardt(steps=30))
    assert result.unknowns["k"] == pytest.approx(2.0, abs=2e-3)
    assert result.history[-1]["loss"] < 1e-7


def test_what_it_cannot_take_is_refused_before_training():
    p = poisson1d()
    transformed = pinn.MLP(p, hidden=[4], output_transform=lambda x, u: (1 - x**2) * u)
    cases = [
        ({"net": transformed}, "needs the network's Taylor pass, but its output transform"),
        ({"l1": 1e-3}, "l1=0.001 is not a sum of squares"),
        ({"weighting": pinn.Weighting()}, "the weighting must be pinn.FixedWeights()"),
    ]
    for kw, message in cases:
        net = kw.pop("net", pinn.MLP(p, hidden=[4]))
        stages = [pinn.Adam(steps=5), pinn.LevenbergMarquardt(steps=2)]
        with pytest.raises(
            pinn.errors.BadValue, match=message.replace("(", r"\(").replace(")", r"\)")
        ):
            pinn.train(p, net, stages=stages, **kw)
    with pytest.raises(pinn.errors.BadValue, match="solve must be 'cholesky' or 'lstsq'"):
        pinn.LevenbergMarquardt(solve="qr")
    with pytest.raises(pinn.errors.BadValue, match="no l2 penalty"):
        pinn.train(
            p, pinn.MLP(p, hidden=[4]), stages=[pinn.LevenbergMarquardt(solve="lstsq")], l2=1e-4
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pinn.train(p, pinn.MLP(p, hidden=[4]), stages=[pinn.LevenbergMarquardt(steps=2)])
    assert any("reach their accuracy only in float64" in str(w.message) for w in caught)
