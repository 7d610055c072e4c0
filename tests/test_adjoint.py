"""Taylor, tangent-linear and adjoint checks: they pass on right derivatives and fail on wrong
ones (a flipped sign, a dropped term), on analytic functions and on PINN losses."""

import importlib
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import pinn
from pinn import adjoint

F64 = torch.float64


def randn(*shape, seed=0, dtype=F64):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


A = randn(5, 5, seed=1)
A = A @ A.T + torch.eye(5, dtype=F64)  # symmetric


def J(x):
    """sin terms + a quadratic + a quartic: every derivative order is non-zero."""
    return torch.sin(x).sum() + 0.5 * x @ (A.to(x) @ x) + 0.25 * (x @ x) ** 2


def grad_J(x):
    return torch.cos(x) + A @ x + (x @ x) * x


def hess_J(x):
    return torch.diag(-torch.sin(x)) + A + (x @ x) * torch.eye(5, dtype=F64) + 2 * torch.outer(x, x)


X = randn(5, seed=2)


# --------------------------------------------------------------------------------------------
# taylor_test
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("grad", [None, grad_J(X), grad_J], ids=["autograd", "tensor", "callable"])
def test_taylor_passes_with_right_gradient_and_hessian(grad):
    r = adjoint.taylor_test(J, X, grad=grad, hvp=lambda v: hess_J(X) @ v)
    assert r.passed, r.table()
    assert abs(r.rates["R0"][-1] - 1) < 0.1
    assert all(abs(q - 2) < 0.05 for q in r.rates["R1"])
    assert all(abs(q - 3) < 0.1 for q in r.rates["R2"])
    assert len(r.residuals["R1"]) == 6 and r.eps[1] == r.eps[0] / 2
    assert "PASSED" in str(r) and "R2 rate" in r.table()


@pytest.mark.parametrize(
    "wrong",
    [
        lambda x: -grad_J(x),  # flipped sign
        lambda x: torch.cos(x) + A @ x,  # dropped quartic term
    ],
    ids=["flipped-sign", "dropped-term"],
)
def test_taylor_fails_with_wrong_gradient(wrong):
    r = adjoint.taylor_test(J, X, grad=wrong)
    assert not r.passed
    assert r.rate < 1.5, r.table()  # R1 shrinks like ε, not ε²
    assert "FAILED" in r.table()


def test_taylor_small_gradient_error_needs_smaller_eps():
    """A 1e-3 relative error hides behind the ε² term until ε is small enough."""
    slightly_off = grad_J(X) * (1 + 1e-3)
    assert adjoint.taylor_test(J, X, grad=slightly_off).passed  # ε down to 3e-4: unseen
    r = adjoint.taylor_test(J, X, grad=slightly_off, steps=14)  # ε down to 1.2e-6
    assert not r.passed and r.rates["R1"][-1] < 1.5, r.table()


def test_taylor_r2_catches_wrong_hessian():
    good = adjoint.taylor_test(J, X, grad=grad_J, hvp=lambda v: hess_J(X) @ v)
    dropped = adjoint.taylor_test(J, X, grad=grad_J, hvp=lambda v: (hess_J(X) - A) @ v)
    assert good.passed and not dropped.passed
    assert min(dropped.rates["R1"]) > 1.9  # the gradient is still right
    assert max(dropped.rates["R2"]) < 2.5


def test_taylor_warns_at_roundoff_and_cannot_pass_blind():
    # float32: residuals reach round-off, are flagged and their rates ignored
    with pytest.warns(RuntimeWarning, match="round-off"):
        r = adjoint.taylor_test(J, X.float(), eps=1e-2, steps=10)
    assert any(r.roundoff) and any(math.isnan(q) for q in r.rates["R1"])
    # a linear J: R1 is round-off from the start, so nothing was tested -> not passed
    c = randn(5, seed=3)
    with pytest.warns(RuntimeWarning):
        r = adjoint.taylor_test(lambda x: c @ x, X, grad=c)
    assert not r.passed and "nothing was tested" in r.table()


def test_taylor_bad_input():
    with pytest.raises(TypeError, match="J must be callable"):
        adjoint.taylor_test(1.0, X)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        adjoint.taylor_test(J, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"h has shape \(4,\).*\(5,\)"):
        adjoint.taylor_test(J, X, h=torch.ones(4, dtype=F64))
    with pytest.raises(ValueError, match=r"grad has shape \(3,\).*\(5,\)"):
        adjoint.taylor_test(J, X, grad=torch.ones(3, dtype=F64))
    with pytest.raises(ValueError, match=r"hvp has shape"):
        adjoint.taylor_test(J, X, hvp=torch.ones(2, dtype=F64))
    with pytest.raises(ValueError, match="J must return a scalar"):
        adjoint.taylor_test(lambda x: x * 2, X)
    with pytest.raises(ValueError, match="eps must be a positive"):
        adjoint.taylor_test(J, X, eps=0.0)
    with pytest.raises(ValueError, match="steps must be an integer >= 3"):
        adjoint.taylor_test(J, X, steps=2)


# --------------------------------------------------------------------------------------------
# tangent_linear_test and adjoint_test
# --------------------------------------------------------------------------------------------


def M(x):
    return torch.stack([x[0] * x[1], torch.sin(x[2]) + x[0] ** 2, x[1] * torch.exp(x[2])])


def M_tl(x, dx):
    return torch.stack(
        [
            dx[0] * x[1] + x[0] * dx[1],
            torch.cos(x[2]) * dx[2] + 2 * x[0] * dx[0],
            dx[1] * torch.exp(x[2]) + x[1] * torch.exp(x[2]) * dx[2],
        ]
    )


def M_ad(x, dy):
    return torch.stack(
        [
            x[1] * dy[0] + 2 * x[0] * dy[1],
            x[0] * dy[0] + torch.exp(x[2]) * dy[2],
            torch.cos(x[2]) * dy[1] + x[1] * torch.exp(x[2]) * dy[2],
        ]
    )


x3, dx3, dy3 = randn(3, seed=4), randn(3, seed=5), randn(3, seed=6)


def test_tangent_linear_passes_and_falls_linearly():
    r = adjoint.tangent_linear_test(M, M_tl, x3, dx3)
    assert r.passed, r.table()
    assert r.alphas[0] == 1.0 and r.alphas[-1] == pytest.approx(1e-8)
    assert sum(0.9 <= q <= 1.1 for q in r.rates) >= 5
    assert r.min_ratio < 1e-6


@pytest.mark.parametrize(
    "wrong",
    [
        lambda x, dx: -M_tl(x, dx),
        lambda x, dx: M_tl(x, dx) - torch.stack([0 * dx[0], 2 * x[0] * dx[0], 0 * dx[0]]),
    ],
    ids=["flipped-sign", "dropped-term"],
)
def test_tangent_linear_fails_with_wrong_tl(wrong):
    r = adjoint.tangent_linear_test(M, wrong, x3, dx3)
    assert not r.passed and r.min_ratio > 1e-3, r.table()


def test_adjoint_passes_and_catches_wrong_adjoint():
    r = adjoint.adjoint_test(M_tl, M_ad, x3, dx3, dy3)
    assert r.passed and r.rel_diff <= 1e-12, r.table()
    flipped = adjoint.adjoint_test(M_tl, lambda x, dy: -M_ad(x, dy), x3, dx3, dy3)
    dropped = adjoint.adjoint_test(
        M_tl,
        lambda x, dy: M_ad(x, dy) - torch.stack([2 * x[0] * dy[1], 0 * x[0], 0 * x[0]]),
        x3,
        dx3,
        dy3,
    )
    assert not flipped.passed and not dropped.passed
    assert "FAILED" in str(dropped)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 12), n=st.integers(1, 12), seed=st.integers(0, 10_000))
def test_adjoint_of_matrices(m, n, seed):
    """<A dx, dy> = <dx, Aᵀ dy> for any shape; A itself (not transposed) fails when m, n > 1."""
    Am = randn(m, n, seed=seed)
    dx, dy = randn(n, seed=seed + 1), randn(m, seed=seed + 2)
    r = adjoint.adjoint_test(lambda x, v: Am @ v, lambda x, w: Am.T @ w, dx, dx, dy)
    assert r.rel_diff <= 1e-12
    if m == n and m > 1:
        wrong = adjoint.adjoint_test(lambda x, v: Am @ v, lambda x, w: Am @ w, dx, dx, dy)
        assert not wrong.passed or torch.allclose(Am, Am.T)


def test_tl_and_adjoint_bad_input():
    with pytest.raises(ValueError, match=r"dx has shape \(2,\).*\(3,\)"):
        adjoint.tangent_linear_test(M, M_tl, x3, torch.ones(2, dtype=F64))
    with pytest.raises(ValueError, match=r"dy has shape \(4,\).*\(3,\)"):
        adjoint.adjoint_test(M_tl, M_ad, x3, dx3, torch.ones(4, dtype=F64))
    with pytest.raises(ValueError, match="M_ad"):
        adjoint.adjoint_test(M_tl, lambda x, dy: dy[:2], x3, dx3, dy3)
    with pytest.raises(TypeError, match="callables"):
        adjoint.adjoint_test(M_tl, None, x3, dx3, dy3)
    with pytest.raises(TypeError, match="floating-point"):
        adjoint.tangent_linear_test(M, M_tl, torch.ones(3, dtype=torch.int64), dx3)


# --------------------------------------------------------------------------------------------
# PINN losses
# --------------------------------------------------------------------------------------------


def library_problem(name, **small):
    module = importlib.import_module(f"problems.{name}")
    if not hasattr(module, "problem"):
        pytest.skip(f"problems.{name} has no problem() yet")
    return module.problem(**small)


def decay_problem():
    """An inverse ODE problem: u' = -lam u with data; lam is an unknown."""
    t = torch.linspace(0, 1, 8, dtype=F64).reshape(-1, 1)
    return pinn.Problem(
        pinn.Time(0.0, 1.0),
        fields="u",
        pde=lambda f, p: f.u_t + p.lam * f.u,
        conditions=[pinn.data(t, torch.exp(-2 * t))],
        n_pde=32,
        unknowns={"lam": 0.5},
    )


PINNS = {
    "poisson2d": lambda: library_problem("poisson2d", n_pde=64, n_bc=32),
    "burgers": lambda: library_problem("burgers", n_pde=64, n_ic=32, n_bc=32),
    "inverse-decay": decay_problem,
}


@pytest.mark.parametrize("name", list(PINNS))
def test_check_loss_gradient_passes(name):
    problem = PINNS[name]()
    torch.manual_seed(0)
    net = pinn.MLP(problem, hidden=[12, 12])
    before = [p.detach().clone() for p in net.parameters()]
    r = adjoint.check_loss_gradient(problem, net)
    assert r.passed, r.table()
    assert min(r.rates["R1"]) > 1.9 and min(r.rates["R2"]) > 2.9
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    assert next(net.parameters()).dtype == torch.float32  # the net itself is not converted


def test_flat_loss_includes_unknowns():
    problem = decay_problem()
    torch.manual_seed(0)
    net = pinn.MLP(problem, hidden=[8])
    J = adjoint.flat_loss(problem, net, unknowns={"lam": 1.5})
    assert J.names[-1] == "unknowns.lam" and J.x0[-1].item() == 1.5
    x = J.x0.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(J(x), x)
    assert g[-1].abs() > 0  # the loss depends on lam
    with pytest.raises(ValueError, match="unknowns"):
        adjoint.flat_loss(problem, net, unknowns={"mu": 1.0})


@pytest.mark.parametrize("mistake", ["flipped-sign", "dropped-term"])
def test_pinn_taylor_catches_wrong_gradient(mistake):
    problem = PINNS["poisson2d"]()
    torch.manual_seed(0)
    net = pinn.MLP(problem, hidden=[12, 12])
    J = adjoint.flat_loss(problem, net)
    x = J.x0.clone().requires_grad_(True)
    if mistake == "flipped-sign":  # the last layer's gradient with the wrong sign
        (g,) = torch.autograd.grad(J(x), x)
        g[-12 - 1 :] = -g[-12 - 1 :]
    else:  # the gradient of the PDE term only: the boundary term is dropped
        batch = problem.sample(seed=0, dtype=F64)  # the same points as flat_loss draws
        net64 = pinn.MLP(problem, hidden=[12, 12]).double()
        torch.nn.utils.vector_to_parameters(J.x0, net64.parameters())
        pde = problem.losses(net64, batch)["pde"]
        params = list(net64.parameters())
        grads = torch.autograd.grad(pde, params, allow_unused=True)
        g = torch.cat(
            [
                (torch.zeros_like(p) if q is None else q).reshape(-1)
                for p, q in zip(params, grads, strict=True)
            ]
        )
    r = adjoint.taylor_test(J, J.x0, grad=g)
    assert not r.passed, r.table()


def test_check_loss_gradient_bad_input():
    with pytest.raises(TypeError, match="net must be a torch.nn.Module"):
        adjoint.check_loss_gradient(decay_problem(), lambda x: x)
