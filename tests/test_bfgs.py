"""pinn.BFGS: the dense quasi-Newton updates against hand computations and their theory, the
NaN-safe bounded line search, and the stage in training (resume, size check)."""

import math

import pytest
import torch
from analytic import inverse, poisson1d
from test_reliability import Memory, params, without_time

import pinn
from pinn.resources import check_dense
from pinn.training.bfgs import DenseBFGS, scaling, update
from pinn.training.linesearch import Trial, strong_wolfe

F64 = torch.float64


@pytest.mark.parametrize(
    "variant, expected",
    [  # H = I, s = (2, 0), y = (1, 1): y's = 2, Hy = (1, 1), y'Hy = 2, h = 1, b = s's / y's = 2,
        # v = s / 2 - Hy / 2 = (1/2, -1/2), v v' = [[1, -1], [-1, 1]] / 4
        # bfgs: tau = phi = 1: I - [[1, 1], [1, 1]] / 2 + 2 v v' + s s' / 2
        ("bfgs", [[3.0, -1.0], [-1.0, 1.0]]),
        # ssbfgs: tau = min(1, 1/b) = 1/2, phi = 1: 2 [[1, -1], [-1, 1]] + [[2, 0], [0, 0]]
        ("ssbfgs", [[4.0, -2.0], [-2.0, 2.0]]),
        # ssbroyden: a = bh - 1 = 1, c = 1/sqrt 2, rho- = 1 - c, theta- = -c, theta+ = 1/rho-,
        # theta = max(-c, min(theta+, (1 - b)/b = -1/2)) = -1/2, sigma = 1/2, sigma~ = 2
        # (n = 2), rho = 1/2, tau = min(rho sigma~, sigma) = 1/2, phi = (1 - theta)/sigma = 3:
        # 2 (I - [[1, 1], [1, 1]] / 2 + 6 v v') + s s' / 2 = [[6, -4], [-4, 4]]
        ("ssbroyden", [[6.0, -4.0], [-4.0, 4.0]]),
    ],
)
def test_each_update_matches_its_formula_by_hand(variant, expected):
    H = torch.eye(2, dtype=F64)
    s, y = torch.tensor([2.0, 0.0], dtype=F64), torch.tensor([1.0, 1.0], dtype=F64)
    assert update(H, s, y, b=2.0, variant=variant)
    torch.testing.assert_close(H, torch.tensor(expected, dtype=F64), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(H @ y, s, rtol=1e-14, atol=1e-14)  # the secant equation


def test_no_update_without_positive_curvature():
    H = torch.eye(2, dtype=F64)
    assert not update(
        H, torch.tensor([1.0, 0.0], dtype=F64), torch.tensor([-1.0, 0.0], dtype=F64), 1.0, "bfgs"
    )
    assert torch.equal(H, torch.eye(2, dtype=F64))


def test_round_off_in_h_neither_breaks_nor_corrupts_an_update():
    """In float32 H can lose its positive definiteness: y'Hy <= 0 leaves H as it is (the
    next direction is checked to descend), and b h < 1 (impossible in exact arithmetic)
    scales like BFGS instead of taking the square root of a negative number."""
    s, y = torch.tensor([1.0, 0.0], dtype=F64), torch.tensor([1.0, 1.0], dtype=F64)
    H = torch.tensor([[1.0, 0.0], [0.0, -3.0]], dtype=F64)  # y'Hy = -2
    assert not update(H, s, y, 1.0, "ssbroyden")
    assert torch.equal(H, torch.tensor([[1.0, 0.0], [0.0, -3.0]], dtype=F64))
    assert scaling("ssbroyden", 0.5, 1.5, 10) == (1.0, 1.0)  # b h - 1 = -0.25: as BFGS
    assert scaling("ssbroyden", 0.5, 0.5, 10) == (1.0, 1.0)  # -0.75: rho- would be negative


@pytest.mark.parametrize("variant", ["bfgs", "ssbfgs", "ssbroyden"])
def test_exact_line_searches_minimise_a_quadratic_in_n_steps(variant):
    """Quadratic termination: with exact steps, n iterations reach the minimiser of a strictly
    convex quadratic in n dimensions, and (for BFGS) H becomes the inverse Hessian."""
    n, gen = 6, torch.Generator().manual_seed(0)
    M = torch.randn(n, n, generator=gen, dtype=F64)
    A, c = M @ M.T + torch.eye(n, dtype=F64), torch.randn(n, generator=gen, dtype=F64)
    x, H = torch.zeros(n, dtype=F64), torch.eye(n, dtype=F64)
    g = A @ x - c
    for _ in range(n):
        d = -(H @ g)
        t = -float(g @ d) / float(d @ A @ d)  # the exact minimiser along d
        s = t * d
        y = A @ s
        update(H, s, y, -t * float(s @ g) / float(y @ s), variant)
        x, g = x + s, g + y
    solution = torch.linalg.solve(A, c)
    assert float((x - solution).norm() / solution.norm()) < 1e-10
    if variant == "bfgs":
        torch.testing.assert_close(H, torch.linalg.inv(A), rtol=1e-9, atol=1e-9)


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


@pytest.mark.parametrize("variant", ["bfgs", "ssbfgs", "ssbroyden"])
def test_the_optimizer_solves_rosenbrock_to_round_off(variant):
    x = torch.tensor([-1.2, 1.0], dtype=F64, requires_grad=True)
    opt = DenseBFGS([x], variant=variant, max_iter=200, max_eval=2000)

    def closure():
        opt.zero_grad()
        f = rosenbrock(x)
        f.backward()
        return f

    assert float(opt.step(closure)) < 1e-20
    assert opt.state[x]["n_iter"] < 60
    torch.testing.assert_close(x.detach(), torch.ones(2, dtype=F64), rtol=1e-10, atol=1e-10)


def test_a_nan_trial_shortens_the_step_and_the_search_is_bounded():
    d = torch.tensor([1.0], dtype=F64)
    calls = []

    def evaluate(t):  # (x - 1)^2 from x = 0 along +1, NaN beyond x = 0.6
        calls.append(t)
        f = math.nan if t > 0.6 else (t - 1.0) ** 2
        return f, torch.tensor([2 * (t - 1.0)], dtype=F64)

    start = Trial(0.0, 1.0, torch.tensor([-2.0], dtype=F64), -2.0)
    accepted, evals = strong_wolfe(evaluate, start, d, 4.0, max_evals=25)
    assert 0 < accepted.t <= 0.6 and accepted.f < 1.0 and evals == len(calls) <= 25
    nowhere = lambda t: (math.nan, torch.tensor([math.nan], dtype=F64))  # noqa: E731
    assert strong_wolfe(nowhere, start, d, 1.0, max_evals=7) == (None, 7)


def test_in_training_float64_bfgs_beats_lbfgs_and_resume_is_exact():
    p = poisson1d(n_pde=24)
    kw = {"dtype": "float64", "log_every": 5, "engine": "taylor"}

    def run(stage, **more):
        return pinn.train(
            p, pinn.MLP(p, hidden=[8]), stages=[pinn.Adam(steps=50, lr=1e-2), stage], **kw, **more
        )

    bfgs, lbfgs = run(pinn.BFGS(steps=40)), run(pinn.LBFGS(steps=40))
    assert bfgs.history[-1]["loss"] < 0.1 * lbfgs.history[-1]["loss"]
    assert bfgs.error() < lbfgs.error() / 3
    keep = Memory(at={70})
    run(pinn.BFGS(steps=40), checkpoints=keep)
    resumed = run(pinn.BFGS(steps=40), resume=keep.states[70])
    assert torch.equal(params(resumed), params(bfgs))
    assert without_time(resumed.history) == without_time(bfgs.history)


def test_too_many_parameters_and_a_bad_variant_fail_before_training():
    big = [torch.zeros(10_000, 1_000)]
    with pytest.raises(
        pinn.errors.BadValue,
        match=r"BFGS: dense 10000000 x 10000000 matrices of the 10000000 parameters need about "
        r".* use a network of at most \d+ parameters, or pinn.LBFGS",
    ):
        check_dense("BFGS", big, 3, torch.device("cpu"))
    with pytest.raises(pinn.errors.BadValue, match="variant must be one of"):
        pinn.BFGS(variant="sr1")


def test_bfgs_fits_the_unknowns_of_an_inverse_problem():
    p = inverse()
    stages = [pinn.Adam(steps=100, lr=1e-2), pinn.BFGS(steps=60)]
    result = pinn.train(p, pinn.MLP(p, hidden=[8, 8]), stages=stages, dtype="float64")
    assert result.unknowns["k"] == pytest.approx(2.0, abs=1e-2)
    assert result.history[-1]["loss"] < 1e-6
