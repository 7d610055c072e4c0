"""The derivative engine against analytic derivatives, and the accessor's spellings."""

import pytest
import torch

import pinn
from pinn.fields import Fields


def analytic(x):
    """u = x^3 t^2 + sin(x) sin(2t), v = x t^3 with their derivatives (x, t columns)."""
    X, T = x[:, 0:1], x[:, 1:2]
    u = X**3 * T**2 + torch.sin(X) * torch.sin(2 * T)
    v = X * T**3
    return torch.cat([u, v], dim=1)


EXPECTED = {
    ("u", ()): lambda X, T: X**3 * T**2 + torch.sin(X) * torch.sin(2 * T),
    ("u", ("x",)): lambda X, T: 3 * X**2 * T**2 + torch.cos(X) * torch.sin(2 * T),
    ("u", ("t",)): lambda X, T: 2 * X**3 * T + 2 * torch.sin(X) * torch.cos(2 * T),
    ("u", ("x", "x")): lambda X, T: 6 * X * T**2 - torch.sin(X) * torch.sin(2 * T),
    ("u", ("x", "t")): lambda X, T: 6 * X**2 * T + 2 * torch.cos(X) * torch.cos(2 * T),
    ("u", ("t", "t")): lambda X, T: 2 * X**3 - 4 * torch.sin(X) * torch.sin(2 * T),
    ("u", ("x", "x", "x")): lambda X, T: 6 * T**2 - torch.cos(X) * torch.sin(2 * T),
    ("u", ("x", "x", "t")): lambda X, T: 12 * X * T - 2 * torch.sin(X) * torch.cos(2 * T),
    ("u", ("x", "t", "t")): lambda X, T: 6 * X**2 - 4 * torch.cos(X) * torch.sin(2 * T),
    ("v", ("t", "t", "t")): lambda X, T: 6 * X + 0 * T,
    ("v", ("x", "x")): lambda X, T: 0 * X,
}


def fields_at(x):
    x = x.clone().requires_grad_(True)
    return Fields(x, analytic(x), ("x", "t"), ("u", "v")), x.detach()


@pytest.mark.parametrize("key", list(EXPECTED))
def test_derivatives_match_analytic_in_float64(key):
    x = torch.rand(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    f, x0 = fields_at(x)
    field, coords = key
    got = f.d(field, *coords)
    want = EXPECTED[key](x0[:, 0:1], x0[:, 1:2])
    torch.testing.assert_close(got, want, atol=1e-10, rtol=1e-10)
    # every spelling gives the same tensor
    name = field + ("_" + "".join(coords) if coords else "")
    assert torch.equal(getattr(f, name), got) and torch.equal(f[name], got)


def test_mixed_partials_commute_and_are_computed_once():
    x = torch.rand(10, 2, dtype=torch.float64)
    f, _ = fields_at(x)
    assert f.u_xt is f.u_tx
    calls = []
    original = torch.autograd.grad
    try:
        torch.autograd.grad = lambda *a, **k: calls.append(1) or original(*a, **k)
        f2, _ = fields_at(x)
        f2.u_xx, f2.u_xt, f2.u_x, f2.u_t, f2.u_xx  # noqa: B018
    finally:
        torch.autograd.grad = original
    assert len(calls) == 2  # grad(u) gives u_x and u_t; grad(u_x) gives u_xx and u_xt


def test_coordinates_and_multi_letter_names():
    x = torch.rand(5, 2, dtype=torch.float64, requires_grad=True)
    u = (x[:, 0:1] ** 2) * x[:, 1:2]
    f = Fields(x, u, ("x1", "x2"), ("phi",))
    torch.testing.assert_close(f.x1, x[:, 0:1])
    torch.testing.assert_close(f.phi_x1x1, 2 * x[:, 1:2])
    torch.testing.assert_close(f.d("phi", "x1", "x2"), 2 * x[:, 0:1])


def test_gradients_flow_to_parameters():
    w = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    x = torch.rand(7, 1, dtype=torch.float64, requires_grad=True)
    f = Fields(x, torch.sin(w * x), ("x",), ("u",))
    (g,) = torch.autograd.grad(f.u_xx.sum(), w)
    X = x.detach()
    want = (-2 * w * torch.sin(w * X) - w**2 * X * torch.cos(w * X)).sum()
    torch.testing.assert_close(g, want.detach())


@pytest.mark.parametrize(
    "name, match",
    [("w", "unknown name 'w'"), ("u_y", "unknown name 'u_y'"), ("u_", "unknown name")],
)
def test_unknown_names_raise_with_the_valid_ones(name, match):
    f, _ = fields_at(torch.rand(3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=match) as e:
        getattr(f, name)
    assert "fields are ('u', 'v')" in str(e.value) and "('x', 't')" in str(e.value)
    with pytest.raises(ValueError, match="unknown coordinate 'y'"):
        f.d("u", "y")
    with pytest.raises(ValueError, match="unknown field 'w'"):
        f.d("w", "x")


def test_problem_reads_derivatives_through_the_accessor():
    domain = pinn.Interval("x", 0, 1)
    p = pinn.Problem(domain, pde=lambda f: f.u_xxx - 6, conditions=[], n_pde=16)
    cube = lambda x: x**3  # noqa: E731 - u = x^3 has u_xxx = 6
    batch = p.sample(dtype=torch.float64)
    assert p.losses(cube, batch)["pde"] < 1e-20
