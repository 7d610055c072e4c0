"""Property-based tests: sampled points stay in their domain, normals are unit and outward,
and the derivative engine differentiates random polynomials exactly."""

import math

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import pinn
from pinn.fields import Fields

bound = st.floats(-10, 10, allow_nan=False)
width = st.floats(0.1, 5, allow_nan=False)


@st.composite
def boxes(draw, max_dim=3):
    d = draw(st.integers(1, max_dim))
    lo = np.array([draw(bound) for _ in range(d)])
    hi = lo + np.array([draw(width) for _ in range(d)])
    return pinn.Box(lo, hi, names=[f"x{i}" for i in range(d)])


@st.composite
def domains(draw):
    """A box, optionally times a disk, optionally times a time interval."""
    domain = draw(boxes())
    if draw(st.booleans()):
        domain = domain * pinn.Disk((draw(bound), draw(bound)), draw(width), names=("p", "q"))
    if draw(st.booleans()):
        t0 = draw(bound)
        domain = domain * pinn.Time(t0, t0 + draw(width))
    return domain


methods = st.sampled_from(["uniform", "sobol", "halton", "lhs"])


@settings(max_examples=40, deadline=None)
@given(domains(), methods, st.integers(1, 200), st.integers(0, 2**31))
def test_interior_points_lie_inside(domain, method, n, seed):
    x = domain.sample(n, method, seed)
    assert x.shape == (n, domain.dim)
    assert domain.contains(x, tol=1e-9).all()


@settings(max_examples=40, deadline=None)
@given(domains(), methods, st.integers(1, 200), st.integers(0, 2**31))
def test_boundary_points_have_unit_outward_normals(domain, method, n, seed):
    x, normals = domain.boundary().sample(n, method, seed)
    assert x.shape == normals.shape == (n, domain.dim)
    assert domain.contains(x, tol=1e-9).all()
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, rtol=1e-12)
    if domain.time is not None:  # the spatial boundary never points along time
        np.testing.assert_array_equal(normals[:, domain.names.index(domain.time)], 0.0)
    step = 1e-6 * (domain.hi - domain.lo).max()
    assert not domain.contains(x + step * normals, tol=0).any()  # outward
    assert domain.contains(x - step * normals, tol=1e-12).all()  # and inward is inside


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.floats(-3, 3)), min_size=1, max_size=6
    ),
    st.lists(st.sampled_from([0, 1]), min_size=0, max_size=3),
)
def test_derivatives_of_random_polynomials_are_exact(terms, order):
    """u = sum c x^a y^b; d^order u compared with the closed-form derivative."""
    x = torch.rand(20, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    xr = x.clone().requires_grad_(True)
    u = sum(c * xr[:, 0:1] ** a * xr[:, 1:2] ** b for a, b, c in terms)
    f = Fields(xr, u, ("x", "y"), ("u",))
    got = f.d("u", *["xy"[i] for i in order])
    nx, ny = order.count(0), order.count(1)

    def falling(p, k):
        return math.prod(range(p - k + 1, p + 1)) if k <= p else 0

    want = sum(
        c
        * falling(a, nx)
        * falling(b, ny)
        * x[:, 0:1] ** max(a - nx, 0)
        * x[:, 1:2] ** max(b - ny, 0)
        for a, b, c in terms
    )
    torch.testing.assert_close(got.detach(), want + 0 * got.detach(), atol=1e-9, rtol=1e-9)


schedules = st.one_of(
    st.builds(pinn.ExponentialDecay, st.floats(0.05, 1.0), st.integers(1, 100)),
    st.builds(pinn.PowerDecay, st.floats(0.1, 3), st.floats(1e-4, 1)),
    st.builds(pinn.StepDecay, st.just((5, 20, 40)), st.floats(0.05, 1.0)),
    st.builds(pinn.CosineDecay, st.floats(0, 1e-4)),
)


@settings(max_examples=30, deadline=None)
@given(schedules)
def test_decaying_schedules_never_increase_the_rate(schedule):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)
    sched = schedule.scheduler(opt, 50)
    rates = []
    for _ in range(50):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert all(b <= a * (1 + 1e-12) for a, b in zip(rates, rates[1:]))
    assert rates[0] == 1e-3
