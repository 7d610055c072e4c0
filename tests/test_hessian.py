"""Hessian-vector products, Lanczos extreme eigenvalues, minimum-or-saddle classification."""

import numpy as np
import pytest
import torch

import pinn
from pinn import adjoint, hessian

F64 = torch.float64


def randn(*shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def quadratic(eigs, seed=0):
    """J(x) = ½ xᵀ Q diag(eigs) Qᵀ x with a random orthogonal Q."""
    Q, _ = torch.linalg.qr(randn(len(eigs), len(eigs), seed=seed))
    H = Q @ torch.diag(torch.as_tensor(eigs, dtype=F64)) @ Q.T
    return (lambda x: 0.5 * x @ (H @ x)), H


def test_hvp_matches_dense_hessian():
    def J(x):
        return torch.sin(x).prod() + (x**3).sum() * x[0]

    x, v = randn(6, seed=1), randn(6, seed=2)
    H = torch.autograd.functional.hessian(J, x)
    torch.testing.assert_close(hessian.hvp(J, x, v), H @ v, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(hessian.full_hessian(J, x), H, rtol=1e-12, atol=1e-12)


def test_extreme_eigenvalues_by_lanczos():
    eigs = np.linspace(-2.0, 5.0, 60)
    J, _ = quadratic(eigs)
    lo, hi = hessian.extreme_eigenvalues(J, randn(60, seed=3), k=2)
    np.testing.assert_allclose(lo, eigs[:2], rtol=1e-8)
    np.testing.assert_allclose(hi, eigs[-2:], rtol=1e-8)


def test_lanczos_resolves_small_eigenvalues_next_to_a_cluster():
    """Like a PINN Hessian: a few large eigenvalues, a cluster at 0, one small negative."""
    eigs = np.r_[-1e-3, np.linspace(-1e-7, 1e-7, 190), np.linspace(1.0, 500.0, 9)]
    J, _ = quadratic(eigs, seed=5)
    lo, hi = hessian.extreme_eigenvalues(J, torch.zeros(200, dtype=F64), k=1)
    assert abs(lo[0] - (-1e-3)) < 1e-8 * 500 and hi[0] == pytest.approx(500.0)


def test_minimum_or_saddle():
    J, _ = quadratic(np.linspace(0.1, 3.0, 20))
    s = hessian.spectrum(J, torch.zeros(20, dtype=F64), k=1)
    assert s.kind == "minimum" and s.grad_norm == 0.0 and s.lmin == pytest.approx(0.1)
    J, _ = quadratic(np.r_[-0.5, np.linspace(0.1, 3.0, 19)])
    s = hessian.spectrum(J, torch.zeros(20, dtype=F64), k=1)
    assert s.kind == "saddle" and s.lmin == pytest.approx(-0.5)
    assert "saddle" in s.table()


def test_taylor_r2_uses_the_same_product():
    def J(x):
        return torch.cos(x).sum() + (x @ x) ** 2

    x = randn(8, seed=4)
    r = adjoint.taylor_test(J, x, hvp=lambda v: hessian.hvp(J, x, v))
    assert r.passed and min(r.rates["R2"]) > 2.9


def test_pinn_loss_spectrum_matches_dense():
    problem = pinn.Problem(
        pinn.Interval("x", 0.0, 1.0),
        fields="u",
        pde=lambda f: f.u_xx + 1.0,
        conditions=[pinn.dirichlet(0.0, n=2)],
        n_pde=16,
    )
    torch.manual_seed(0)
    net = pinn.MLP(problem, hidden=[6, 6])
    s = hessian.loss_spectrum(problem, net, k=2)
    J = adjoint.flat_loss(problem, net)
    w = torch.linalg.eigvalsh(hessian.full_hessian(J, J.x0)).numpy()
    np.testing.assert_allclose(s.smallest, w[:2], rtol=1e-6, atol=1e-8 * abs(w).max())
    np.testing.assert_allclose(s.largest, w[-2:], rtol=1e-6)
    assert s.kind in ("minimum", "saddle")


def test_bad_input():
    J, _ = quadratic([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"v has shape \(2,\).*\(3,\)"):
        hessian.hvp(J, torch.zeros(3, dtype=F64), torch.zeros(2, dtype=F64))
    with pytest.raises(ValueError, match="1-D floating tensor"):
        hessian.spectrum(J, torch.zeros(3, 1, dtype=F64))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        hessian.extreme_eigenvalues(J, torch.zeros(3, dtype=F64), k=0)
    c = torch.arange(3.0, dtype=F64)
    assert torch.equal(hessian.hvp(lambda x: c @ x, c, c), torch.zeros(3, dtype=F64))
    with pytest.raises(TypeError, match="J must be callable"):
        hessian.hvp(None, torch.zeros(3, dtype=F64), torch.zeros(3, dtype=F64))
