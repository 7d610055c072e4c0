"""The 4D-Var toy models: hand-written TL/adjoint pass the checks, broken ones fail them."""

import math
from dataclasses import dataclass

import pytest
import torch

from pinn import adjoint
from pinn import assimilation as da

F64 = torch.float64


def randn(*shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def on_attractor(model, seed=0):
    x0 = randn(model.n, seed=seed) + (8.0 if isinstance(model, da.Lorenz96) else 0.0)
    return da.trajectory(model, x0, 300)[-1]


# --------------------------------------------------------------------------------------------
# Broken variants: each check must catch them (a check that cannot fail is not a check).
# --------------------------------------------------------------------------------------------


def _flip(x, v, i, j):
    """2·x·v_j placed in row i: adding it flips the sign of a term -x·v_j of row i."""
    rows = [torch.zeros_like(x[..., 0])] * 3
    rows[i] = 2 * x[..., 0] * v[..., j]
    return torch.stack(rows, -1)


@dataclass(frozen=True)
class FlippedTL63(da.Lorenz63):
    """A sign error in the TL only: -x·dz written as +x·dz in row y."""

    def f_tl(self, x, dx):
        return super().f_tl(x, dx) + _flip(x, dx, 1, 2)


@dataclass(frozen=True)
class FlippedAD63(da.Lorenz63):
    """The same sign error in the adjoint only (row z of the transposed Jacobian)."""

    def f_ad(self, x, lam):
        return super().f_ad(x, lam) + _flip(x, lam, 2, 1)


@dataclass(frozen=True)
class FlippedBoth63(FlippedTL63, FlippedAD63):
    """The sign error in both: a consistent but wrong pair, which only the dot-product test
    cannot see; the TL test and the Taylor test must."""


@dataclass(frozen=True)
class DroppedAD96(da.Lorenz96):
    """The adjoint misses the term λ_{j+1}(x_{j+2} − x_{j−1}); the TL is right."""

    def f_ad(self, x, lam):
        return lam.roll(1, -1) * x.roll(2, -1) - lam.roll(-2, -1) * x.roll(-1, -1) - lam


@dataclass(frozen=True)
class DroppedTL96(da.Lorenz96):
    """The TL misses the term (x_{i+1} − x_{i−2}) dx_{i−1}."""

    def f_tl(self, x, dx):
        return (dx.roll(-1, -1) - dx.roll(2, -1)) * x.roll(1, -1) - dx


MODELS = {
    "lorenz63": da.Lorenz63(dt=0.01),
    "lorenz96": da.Lorenz96(n=40, forcing=8.0, dt=0.05),
}


# --------------------------------------------------------------------------------------------
# The scalar toy of the notes
# --------------------------------------------------------------------------------------------


def test_scalar_adjoint_variables_match_autograd():
    m = da.ScalarModel(alpha=0.7)
    x0 = torch.tensor([1.3, -0.4], dtype=F64, requires_grad=True)
    alpha = torch.tensor(0.7, dtype=F64, requires_grad=True)
    y, xb = torch.tensor([0.5, 0.9], dtype=F64), torch.tensor([1.0, 0.0], dtype=F64)
    J = m.cost(x0, y, alpha=alpha, xb=xb, b=2.0)
    ref_x0, ref_alpha = torch.autograd.grad(J, (x0, alpha))
    g_x0, g_alpha = m.gradient(x0.detach(), y, alpha=alpha.detach(), xb=xb, b=2.0)
    # x̃1 = x1 − y, x̃0 = 2αx0·x̃1 (+ background), α̃ = x0²·x̃1, as written out by hand:
    x1 = 0.7 * x0.detach() ** 2
    by_hand = 2 * 0.7 * x0.detach() * (x1 - y) + (x0.detach() - xb) / 2.0
    torch.testing.assert_close(g_x0, ref_x0, rtol=1e-14, atol=0)
    torch.testing.assert_close(g_x0, by_hand, rtol=1e-14, atol=0)
    torch.testing.assert_close(g_alpha, ref_alpha, rtol=1e-14, atol=0)


def test_scalar_three_checks_pass_and_catch_wrong_adjoint():
    m = da.ScalarModel(alpha=0.7)
    y = torch.tensor([0.5], dtype=F64)
    z = torch.tensor([1.3, 0.7], dtype=F64)  # the control (x0, α)

    def J(z):
        return m.cost(z[:1], y, alpha=z[1], xb=torch.ones(1, dtype=F64))

    def grad(z):
        gx, ga = m.gradient(z[:1], y, alpha=z[1], xb=torch.ones(1, dtype=F64))
        return torch.cat([gx, ga.reshape(1)])

    assert adjoint.taylor_test(J, z, grad=grad).passed
    x, dx, dy = torch.tensor([1.3], dtype=F64), randn(1, seed=1), randn(1, seed=2)
    assert adjoint.tangent_linear_test(m.step, m.step_tl, x, dx).passed
    assert adjoint.adjoint_test(m.step_tl, m.step_ad, x, dx, dy).rel_diff <= 1e-12

    # a dropped factor 2 in x̃0 = 2αx0·x̃1, and a flipped sign of α̃
    def bad_ad(x, lam):
        return 0.7 * x * lam

    assert not adjoint.adjoint_test(m.step_tl, bad_ad, x, dx, dy).passed
    assert not adjoint.tangent_linear_test(m.step, bad_ad, x, dx).passed

    def bad_grad(z):
        g = grad(z)
        return torch.stack([g[0], -g[1]])

    assert not adjoint.taylor_test(J, z, grad=bad_grad).passed


# --------------------------------------------------------------------------------------------
# Lorenz-63 and Lorenz-96: RK4 step, TL and adjoint
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
def test_rk4_tangent_linear_and_adjoint(name):
    model = MODELS[name]
    x = on_attractor(model)
    dx, dy = randn(model.n, seed=1), randn(model.n, seed=2)
    tl = adjoint.tangent_linear_test(model.step, model.step_tl, x, dx)
    assert tl.passed, tl.table()
    assert tl.min_ratio < 1e-7
    ad = adjoint.adjoint_test(model.step_tl, model.step_ad, x, dx, dy)
    assert ad.passed and ad.rel_diff <= 1e-12, ad.table()
    # the hand-written codes equal autograd's JVP and VJP of the RK4 step
    _, jvp = torch.autograd.functional.jvp(model.step, x, dx)
    _, vjp = torch.autograd.functional.vjp(model.step, x, dy)
    torch.testing.assert_close(model.step_tl(x, dx), jvp, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(model.step_ad(x, dy), vjp, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", list(MODELS))
def test_rk4_step_batched(name):
    model = MODELS[name]
    xs = torch.stack([on_attractor(model, seed=s) for s in range(3)])
    dx = randn(3, model.n, seed=4)
    for fn, args in ((model.step, (xs,)), (model.step_tl, (xs, dx)), (model.step_ad, (xs, dx))):
        rows = torch.stack([fn(*(a[i] for a in args)) for i in range(3)])
        torch.testing.assert_close(fn(*args), rows, rtol=1e-15, atol=1e-15)


def test_lorenz63_rk4_is_fourth_order():
    l63 = da.Lorenz63()
    x0 = on_attractor(l63)
    ref = da.trajectory(da.Lorenz63(dt=0.0005), x0, 200)[-1]
    errs = [(da.trajectory(da.Lorenz63(dt=0.1 / k), x0, k)[-1] - ref).norm() for k in (4, 8)]
    assert 3.8 < math.log2(errs[0] / errs[1]) < 4.2


@pytest.mark.parametrize(
    "bad, catches",
    [
        (FlippedTL63(), {"tl", "adjoint"}),
        (FlippedAD63(), {"adjoint", "taylor"}),
        (FlippedBoth63(), {"tl", "taylor"}),
        (DroppedTL96(), {"tl", "adjoint"}),
        (DroppedAD96(), {"adjoint", "taylor"}),
    ],
    ids=["l63-tl-sign", "l63-ad-sign", "l63-both-sign", "l96-tl-dropped", "l96-ad-dropped"],
)
def test_checks_catch_wrong_tl_and_adjoint(bad, catches):
    """Each check fails on the errors in its scope and passes on the others."""
    x = on_attractor(bad)
    dx, dy = randn(bad.n, seed=1), randn(bad.n, seed=2)
    tl = adjoint.tangent_linear_test(bad.step, bad.step_tl, x, dx)
    ad = adjoint.adjoint_test(bad.step_tl, bad.step_ad, x, dx, dy)
    var = fourdvar(bad, window=20, every=10)  # its gradient comes from the (broken) adjoint
    taylor = adjoint.taylor_test(var.cost, var.xb, grad=var.gradient(var.xb))
    assert tl.passed == ("tl" not in catches), tl.table()
    assert ad.passed == ("adjoint" not in catches), ad.table()
    assert taylor.passed == ("taylor" not in catches), taylor.table()


def test_lyapunov_exponent_lorenz63():
    # 64 trajectories x 4000 steps (40 time units each) after a 5-unit spin-up: ~1 s.
    x0 = 5 * randn(64, 3, seed=3) + torch.tensor([0.0, 0.0, 25.0], dtype=F64)
    lam = da.lyapunov_exponent(da.Lorenz63(dt=0.01), x0, steps=4000, spinup=500)
    assert abs(lam - 0.906) < 0.03 * 0.906


# --------------------------------------------------------------------------------------------
# Strong-constraint 4D-Var
# --------------------------------------------------------------------------------------------


def fourdvar(model, window=50, every=25, seed=0, B=2.0, R=2.0):
    truth = da.trajectory(model, on_attractor(model, seed=seed), window)
    g = torch.Generator().manual_seed(seed + 100)
    obs = {
        k: truth[k] + math.sqrt(R) * torch.randn(model.n, generator=g, dtype=F64)
        for k in range(every, window + 1, every)
    }
    xb = truth[0] + math.sqrt(B) * torch.randn(model.n, generator=g, dtype=F64)
    var = da.FourDVar(model, xb=xb, B=B, R=R, obs=obs)
    var.truth = truth[0]
    return var


@pytest.mark.parametrize("name, window", [("lorenz63", 50), ("lorenz96", 20)])
def test_fourdvar_gradient_equals_autograd_and_passes_taylor(name, window):
    var = fourdvar(MODELS[name], window=window, every=5)  # 0.5 and 1 time unit
    x0 = var.xb + randn(var.model.n, seed=7)
    x = x0.clone().requires_grad_(True)
    (ref,) = torch.autograd.grad(var.cost(x), x)
    J, g = var.value_and_gradient(x0)
    assert (g - ref).norm() / ref.norm() <= 1e-10
    torch.testing.assert_close(J, var.cost(x0), rtol=1e-14, atol=0)

    def hvp(v):
        return torch.autograd.functional.hvp(var.cost, x0, v)[1]

    r = adjoint.taylor_test(var.cost, x0, grad=g, hvp=hvp)
    assert r.passed, r.table()
    assert r.rate > 1.9


def test_fourdvar_partial_observations_with_H():
    l96 = da.Lorenz96(n=8)
    H = torch.eye(8, dtype=F64)[::2]  # every other variable
    truth = da.trajectory(l96, on_attractor(l96), 20)
    obs = {k: H @ truth[k] for k in (0, 10, 20)}
    var = da.FourDVar(
        l96,
        xb=truth[0] + 0.5,
        B=torch.full((8,), 0.5, dtype=F64),
        R=0.1 * torch.eye(4, dtype=F64),
        obs=obs,
        H=H,
    )
    x = (truth[0] + 0.3).requires_grad_(True)
    (ref,) = torch.autograd.grad(var.cost(x), x)
    assert (var.gradient(x.detach()) - ref).norm() / ref.norm() <= 1e-10


def test_fourdvar_scalar_model_gradient():
    m = da.ScalarModel(alpha=0.9)
    obs = {1: torch.tensor([0.8], dtype=F64), 3: torch.tensor([0.5], dtype=F64)}
    var = da.FourDVar(m, xb=torch.tensor([0.9], dtype=F64), B=0.5, R=0.1, obs=obs)
    x = torch.tensor([0.95], dtype=F64, requires_grad=True)
    (ref,) = torch.autograd.grad(var.cost(x), x)
    torch.testing.assert_close(var.gradient(x.detach()), ref, rtol=1e-12, atol=0)


def test_fourdvar_minimize_improves_on_background():
    var = fourdvar(da.Lorenz63(), window=50, every=25, seed=1)
    xa = var.minimize(var.xb)
    assert isinstance(xa, torch.Tensor) and xa.shape == (3,) and xa.dtype == F64
    assert var.result.nit > 0
    assert var.cost(xa) < var.cost(var.xb)
    assert torch.linalg.vector_norm(var.gradient(xa)) < 1e-4
    rmse_a = (xa - var.truth).pow(2).mean().sqrt()
    rmse_b = (var.xb - var.truth).pow(2).mean().sqrt()
    assert rmse_a < rmse_b


# --------------------------------------------------------------------------------------------
# Bad input gets a clear error
# --------------------------------------------------------------------------------------------


def good_args(**change):
    l63 = da.Lorenz63()
    args = dict(xb=torch.zeros(3, dtype=F64), B=2.0, R=2.0, obs={5: torch.ones(3, dtype=F64)})
    args.update(change)
    return l63, args


@pytest.mark.parametrize(
    "change, error, words",
    [
        ({"xb": torch.zeros(4, dtype=F64)}, ValueError, ["xb", "(4,)", "3"]),
        ({"xb": [0.0, 0.0, 0.0]}, TypeError, ["xb", "list"]),
        ({"B": torch.eye(2, dtype=F64)}, ValueError, ["B", "(2, 2)", "(3, 3)"]),
        ({"B": torch.ones(4, dtype=F64)}, ValueError, ["B", "4", "3"]),
        (
            {"B": torch.diag(torch.tensor([1.0, -1.0, 1.0], dtype=F64))},
            ValueError,
            ["B", "positive definite", "-1"],
        ),
        (
            {"B": torch.tensor([[1.0, 0.5, 0], [0, 1, 0], [0, 0, 1]], dtype=F64)},
            ValueError,
            ["B", "symmetric"],
        ),
        ({"R": 0.0}, ValueError, ["R", "positive definite"]),
        ({"R": "2"}, TypeError, ["R", "str"]),
        ({"obs": {5: torch.ones(2, dtype=F64)}}, ValueError, ["obs[5]", "(2,)", "(3,)"]),
        ({"obs": {-1: torch.ones(3, dtype=F64)}}, ValueError, ["-1", "outside the window"]),
        ({"obs": {0.5: torch.ones(3, dtype=F64)}}, TypeError, ["0.5", "integer"]),
        ({"obs": {}}, TypeError, ["obs", "non-empty"]),
        (
            {"obs": {5: torch.ones(3, dtype=F64)}, "window": 4},
            ValueError,
            ["step 5", "outside the window", "0..4"],
        ),
        ({"H": torch.eye(2, 4, dtype=F64)}, ValueError, ["H", "(2, 4)", "(p, 3)"]),
        ({"H": torch.eye(2, 3, dtype=F64)}, ValueError, ["obs[5]", "(3,)", "(2,)"]),
    ],
)
def test_fourdvar_bad_input(change, error, words):
    model, args = good_args(**change)
    with pytest.raises(error) as info:
        da.FourDVar(model, **args)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_models_bad_input():
    with pytest.raises(ValueError, match="dt must be positive"):
        da.Lorenz63(dt=-0.01)
    with pytest.raises(ValueError, match="n must be an integer >= 4"):
        da.Lorenz96(n=3)
    with pytest.raises(ValueError, match=r"shape \(4,\).*\(\.\.\., 3\)"):
        da.Lorenz63().step(torch.zeros(4, dtype=F64))
    with pytest.raises(TypeError, match="floating-point"):
        da.Lorenz63().step(torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"dx has shape \(2,\)"):
        da.Lorenz63().step_tl(torch.zeros(3, dtype=F64), torch.zeros(2, dtype=F64))
    with pytest.raises(ValueError, match="x0 has shape"):
        fourdvar(da.Lorenz63(), window=10, every=5).cost(torch.zeros(2, 3, dtype=F64))
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        da.lyapunov_exponent(da.Lorenz63(), torch.ones(3, dtype=F64), steps=0)


# --------------------------------------------------------------------------------------------
# The same 4D-Var problem as a PINN
# --------------------------------------------------------------------------------------------


def test_lorenz63_pinn_problem_and_its_loss_gradient():
    import pinn

    var = fourdvar(da.Lorenz63(), window=50, every=25)
    pp = da.lorenz63_pinn(var, n_pde=32, unknowns={"sigma": 8.0, "rho": 25.0})
    assert pp.problem.terms == ("lorenz", "obs", "background")
    assert set(pp.problem.unknowns) == {"sigma", "rho"}
    torch.manual_seed(0)
    net = pinn.MLP(pp.problem, hidden=[8, 8], output_transform=pp.output_transform)
    assert pp.x0(net).shape == (3,)
    r = adjoint.check_loss_gradient(pp.problem, net)  # network weights and sigma, rho
    assert r.passed, r.table()
    with pytest.raises(ValueError, match="unknown parameter 'gamma'"):
        da.lorenz63_pinn(var, unknowns={"gamma": 1.0})
    with pytest.raises(TypeError, match="FourDVar of a Lorenz63"):
        da.lorenz63_pinn(fourdvar(da.Lorenz96(n=8), window=10, every=5))
