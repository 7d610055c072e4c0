"""Hard constraints: the distance functions vanish on their part (to 1e-12) and are positive
inside; a network built on a problem with hard conditions takes the given values there
exactly; its derivatives on the Taylor engine match nested reverse mode; bad uses are refused."""

import itertools
import math

import numpy as np
import pytest
import torch

import pinn
from pinn import engines
from pinn.constraints import domain_distance
from pinn.errors import BadValue
from pinn.fields import Fields

SQUARE = pinn.Rectangle((-1, -1), (1, 1))
LSHAPE = SQUARE - pinn.Rectangle((0, -1), (1, 0))
ANNULUS = pinn.Disk((0, 0), 1.0) - pinn.Disk((0, 0), 0.5)
PLATE = (
    pinn.Rectangle((0, 0), (2, 1))
    - pinn.Disk((0.5, 0.5), 0.2)
    - pinn.Disk((1.3, 0.4), 0.25)
    - pinn.Disk((1.5, 0.8), 0.1)
)
DOMAINS = {
    "square": SQUARE,
    "disk": pinn.Disk((0.5, 0.0), 2.0),
    "concave": pinn.Polygon([(0, 0), (2, 0), (2, 2), (1, 0.5), (0, 2)]),
    "lshape": LSHAPE,
    "annulus": ANNULUS,
    "plate": PLATE,
    "lens": pinn.Disk((0, 0), 1.0) | pinn.Disk((1, 0), 1.0),
    "ball": pinn.Ball((0, 0, 0), 1.0),
    "box_minus_ball": pinn.Box((0, 0, 0), (1, 1, 1)) - pinn.Ball((1, 1, 1), 0.5),
    "lshape_time": LSHAPE * pinn.Time(0, 1),
}


def tensor(x):
    return torch.as_tensor(x, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_the_boundary_distance_vanishes_there_and_is_positive_inside(name):
    d = DOMAINS[name]
    on, _ = d.boundary().sample(2000, "halton", 0)
    inside = d.sample(2000, "halton", 1)
    assert float(domain_distance(d, tensor(on)).abs().max()) < 1e-12
    assert float(domain_distance(d, tensor(inside)).min()) > 0


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_the_distance_has_unit_slope_into_the_domain(name):
    d = DOMAINS[name]
    on, n = d.boundary().sample(1000, "halton", 0)
    x = tensor(on - 1e-7 * n).requires_grad_(True)  # just inside: every part is smooth there
    (grad,) = torch.autograd.grad(domain_distance(d, x).sum(), x)
    spatial = [j for j, c in enumerate(d.names) if c != d.time]
    off = np.linalg.norm(grad.numpy()[:, spatial] + n[:, spatial], axis=1)
    assert np.mean(off < 1e-3) > 0.98  # all but the points next to a corner


def _problem(domain, *conditions, fields="u"):
    first = fields if isinstance(fields, str) else fields[0]
    pde = lambda f: f.d(first)  # noqa: E731
    return pinn.Problem(domain, fields, pde, conditions=list(conditions), n_pde=8)


def _net(problem):
    torch.manual_seed(0)
    net = pinn.MLP(problem, hidden=[8, 8]).double()
    for layer in net.linears:
        torch.nn.init.normal_(layer.bias, std=0.5)
    return net


def test_a_constrained_network_takes_each_parts_value_exactly():
    d = pinn.Interval("x", 0, 2) * pinn.Time(0, 1)
    left = lambda x: torch.sin(3 * x[:, 1:2]) + 1  # noqa: E731
    problem = _problem(
        d,
        pinn.dirichlet(left, on=d.boundary("x"), hard=True),
        pinn.initial(lambda x: torch.cos(x[:, 0:1]), hard=True),
    )
    assert problem.terms == ("pde",)
    net = _net(problem)
    walls, _ = d.boundary().sample(500, "halton", 0)
    walls = walls[(walls[:, 1] > 1e-3)]  # off the corners, where the values differ
    start, _ = d.initial().sample(500, "halton", 0)
    start = start[(start[:, 0] > 1e-3) & (start[:, 0] < 2 - 1e-3)]
    x, y = tensor(walls), tensor(start)
    assert float((net(x) - left(x)).abs().max()) < 1e-12
    assert float((net(y) - torch.cos(y[:, 0:1])).abs().max()) < 1e-12
    inside = tensor(d.sample(200, "halton", 2))
    assert float(problem.constraint.distance(inside).min()) > 0


def test_hard_conditions_on_holes_and_of_a_shape():
    outer = pinn.Rectangle((0, 0), (2, 1))
    problem = _problem(
        PLATE,
        pinn.dirichlet(2.0, on=PLATE.boundary(of=outer), hard=True),
        pinn.dirichlet(
            lambda x: x[:, 0], on=PLATE.boundary(of=pinn.Disk((1.3, 0.4), 0.25)), hard=True
        ),
    )
    net = _net(problem)
    a, _ = PLATE.boundary(of=outer).sample(300, "halton", 0)
    b, _ = PLATE.boundary(of=pinn.Disk((1.3, 0.4), 0.25)).sample(300, "halton", 0)
    assert float((net(tensor(a)) - 2).abs().max()) < 1e-12
    assert float((net(tensor(b)) - tensor(b)[:, :1]).abs().max()) < 1e-12
    phi = problem.constraint.distance(tensor(PLATE.sample(2000, "halton", 0)))
    assert float(phi.min()) > 0


def test_only_the_constrained_fields_are_touched():
    problem = _problem(SQUARE, pinn.dirichlet(1.0, field="v", hard=True), fields=("u", "v"))
    net = _net(problem)
    x, _ = SQUARE.boundary().sample(100, "halton", 0)
    out = net(tensor(x))
    assert float((out[:, 1] - 1).abs().max()) < 1e-12 and float(out[:, 0].std()) > 1e-3


def test_the_taylor_engine_matches_reverse_mode_through_the_constraint():
    d = LSHAPE * pinn.Time(0, 1)
    problem = _problem(
        d, pinn.dirichlet(lambda x: x[:, 0] * x[:, 2], hard=True), pinn.initial(0.5, hard=True)
    )
    net = _net(problem)
    x = tensor(d.sample(13, "halton", 3)).requires_grad_(True)
    keys = {(0, tuple(sorted(c))) for k in range(4) for c in itertools.product(range(3), repeat=k)}
    u, known = engines.taylor(net, x, keys)
    f = Fields(x, net(x), range(3), range(1))
    for key in sorted(keys, key=lambda k: len(k[1])):
        want = f._derivative(key)
        scale = max(1.0, float(want.detach().abs().max()))
        assert float((known[key] - want).detach().abs().max()) <= 1e-10 * scale, key


def test_a_hard_condition_trains_the_annulus():
    """Poisson with u = r^2: Dirichlet built in on the outer circle, Neumann on the hole."""
    exact = lambda x: x[:, 0:1] ** 2 + x[:, 1:2] ** 2  # noqa: E731
    problem = pinn.Problem(
        ANNULUS,
        "u",
        lambda f: f.u_xx + f.u_yy - 4,
        conditions=[
            pinn.dirichlet(exact, on=ANNULUS.boundary(of=pinn.Disk((0, 0), 1.0)), hard=True),
            pinn.neumann(-1.0, on=ANNULUS.boundary(of=pinn.Disk((0, 0), 0.5)), n=64),
        ],
        exact=exact,
        n_pde=256,
    )
    net = pinn.MLP(problem, hidden=[16, 16])
    stages = [pinn.Adam(steps=200, lr=3e-3), pinn.LBFGS(steps=200)]
    result = pinn.train(problem, net, stages=stages, log_every=100, n_eval=2000)
    assert result.error() < 1e-3


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: _problem(SQUARE, pinn.dirichlet(on=lambda x: x[:, 0] > 0, hard=True)), "soft"),
        (
            lambda: _problem(
                SQUARE,  # the band's sides x = +-0.5 cross the square
                pinn.dirichlet(
                    on=SQUARE.boundary(of=pinn.Rectangle((-0.5, -1), (0.5, 1))), hard=True
                ),
            ),
            "runs through the interior",
        ),
        (
            lambda: _problem(LSHAPE, pinn.dirichlet(on=LSHAPE.boundary("x"), hard=True)),
            "box factors",
        ),
        (lambda: _problem(SQUARE, pinn.initial(1.0, hard=True)), "no Time factor"),
        (
            lambda: _problem(SQUARE, pinn.dirichlet(on=pinn.Disk((0, 0), 2).boundary(), hard=True)),
            "another domain",
        ),
        (lambda: _problem(pinn.Time(0, 1), pinn.dirichlet(0.0, hard=True)), "no spatial boundary"),
        (lambda: pinn.initial(1.0, order=1, hard=True), "order=0"),
        (lambda: pinn.dirichlet(hard=1), "True or False"),
    ],
)
def test_bad_hard_conditions_are_refused(make, match):
    with pytest.raises((BadValue, TypeError), match=match):
        make()


def test_where_two_hard_parts_meet_the_network_stays_finite():
    """At (x = 0, t = 0) the boundary's and the initial slice's distances both vanish: the
    values and the derivatives there are finite, and u is the mean of the two values."""
    d = pinn.Interval("x", 0, 1) * pinn.Time(0, 1)
    problem = _problem(d, pinn.dirichlet(1.0, hard=True), pinn.initial(3.0, hard=True))
    net = _net(problem)
    corners = tensor([[0.0, 0.0], [1.0, 0.0]]).requires_grad_(True)
    u = net(corners)
    (grad,) = torch.autograd.grad(u.sum(), corners)
    assert torch.allclose(u, tensor([[2.0], [2.0]])) and torch.isfinite(grad).all()
    grid = tensor(d.grid(400))
    assert torch.isfinite(net(grid)).all()
    square = _problem(SQUARE, pinn.dirichlet(0.0, on=SQUARE.boundary("x", "y"), hard=True))
    assert torch.isfinite(_net(square)(tensor(SQUARE.grid(400)))).all()


def test_a_network_without_the_constraint_is_refused_by_train():
    problem = _problem(SQUARE, pinn.dirichlet(1.0, hard=True))
    plain = pinn.MLP(_problem(SQUARE), hidden=[4])
    with pytest.raises(BadValue, match="does not build in"):
        pinn.train(problem, plain, stages=[pinn.Adam(steps=1)])
    assert math.isfinite(
        pinn.train(problem, pinn.MLP(problem, hidden=[4]), stages=[pinn.Adam(steps=1)]).history[-1][
            "loss"
        ]
    )
