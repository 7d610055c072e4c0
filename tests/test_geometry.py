"""Shapes and constructive solids: points where they belong, normals unit and outward, each
part of a boundary getting its share of points by measure (chi-squared tests), and a clear
error for each way of posing a problem on the wrong part of a domain."""

import math

import numpy as np
import pytest
import torch
from analytic import Exact
from scipy.stats import chisquare

import pinn
from pinn.errors import BadValue
from pinn.samplers import METHODS

SQUARE = pinn.Rectangle((-1, -1), (1, 1))
LSHAPE = SQUARE - pinn.Rectangle((0, -1), (1, 0))
ANNULUS = pinn.Disk((0, 0), 1.0) - pinn.Disk((0, 0), 0.5)
HOLES = [((0.5, 0.5), 0.2), ((1.3, 0.4), 0.25), ((1.5, 0.8), 0.1)]
PLATE = pinn.Rectangle((0, 0), (2, 1))
for _c, _r in HOLES:
    PLATE = PLATE - pinn.Disk(_c, _r)
LENS = pinn.Disk((0, 0), 1.0) | pinn.Disk((1, 0), 1.0)
NESTED = (pinn.Rectangle((0, 0), (2, 2)) - pinn.Disk((1, 1), 0.5)) | pinn.Disk((1, 1), 0.25)
CUT = pinn.Rectangle((0, 0), (1, 1)) & pinn.Disk((0, 0), 1.0)
TRIANGLE = pinn.Polygon([(0, 0), (2, 0), (0.5, 1)])
CONCAVE = pinn.Polygon([(0, 0), (2, 0), (2, 2), (1, 0.5), (0, 2)])
SHAPES = {
    "lshape": LSHAPE,
    "annulus": ANNULUS,
    "plate": PLATE,
    "lens": LENS,
    "nested": NESTED,
    "cut": CUT,
    "triangle": TRIANGLE,
    "concave": CONCAVE,
    "ball": pinn.Ball((0, 0, 0), 1.0),
    "ball4": pinn.Ball((0, 0, 0, 0), 2.0),
    "shell": pinn.Ball((0, 0, 0), 1.0) - pinn.Ball((0.2, 0, 0), 0.4),
    "box_minus_ball": pinn.Box((0, 0, 0), (1, 1, 1)) - pinn.Ball((1, 1, 1), 0.5),
    "lshape_time": LSHAPE * pinn.Time(0, 2),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_interior_points_are_inside_and_none_in_holes(name):
    d = SHAPES[name]
    x = d.sample(2000, "halton", 0)
    assert x.shape == (2000, d.dim)
    assert d.contains(x, tol=0).all()
    shape = d.factors[0]
    assert (shape.sdf(x[:, : shape.dim]) < 0).all()  # strictly inside: none in a hole


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_boundary_points_lie_on_it_with_unit_outward_normals(name):
    d = SHAPES[name]
    x, n = d.boundary().sample(3000, "sobol", 1)
    shape, k = d.factors[0], d.factors[0].dim
    assert np.abs(shape.sdf(x[:, :k])).max() < 1e-9
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-12)
    step = 1e-7 * n
    assert not d.contains(x + step, tol=0).any()  # one step out leaves the domain
    assert d.contains(x - step, tol=0).all()  # one step in stays


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ["plate", "concave", "shell", "lshape_time"])
def test_every_sampler_gives_exactly_n_points_inside(name, method):
    d = SHAPES[name]
    x = d.sample(777, method, 3)
    b, n = d.boundary().sample(333, method, 3)
    assert len(x) == 777 and len(b) == len(n) == 333
    assert d.contains(x, tol=0).all() and d.contains(b).all()


def _chi2(counts, measures):
    counts, measures = np.asarray(counts), np.asarray(measures, dtype=float)
    expected = counts.sum() * measures / measures.sum()
    return chisquare(counts, expected).pvalue


def test_lshape_sides_get_points_by_length():
    x, n = LSHAPE.boundary().sample(4000, "uniform", 2)
    # sides, told apart by their outward normal and position; lengths 2, 2, 1, 1, 1, 1
    sides = [
        n[:, 0] == -1,
        n[:, 1] == 1,
        (n[:, 0] == 1) & (x[:, 0] == 1),
        (n[:, 1] == -1) & (x[:, 1] == -1),
        (n[:, 0] == 1) & (x[:, 0] == 0),
        (n[:, 1] == -1) & (x[:, 1] == 0),
    ]
    counts = [s.sum() for s in sides]
    assert sum(counts) == 4000
    assert _chi2(counts, [2, 2, 1, 1, 1, 1]) > 1e-3


def test_plate_holes_and_sides_get_points_by_length():
    x, n = PLATE.boundary().sample(6000, "uniform", 3)
    outer = np.isclose(PLATE.factors[0].a.a.a.sdf(x), 0, atol=1e-9)
    holes = [np.isclose(np.linalg.norm(x - c, axis=1), r) for c, r in HOLES]
    assert (outer.astype(int) + sum(h.astype(int) for h in holes) == 1).all()
    counts = [outer.sum()] + [h.sum() for h in holes]
    assert _chi2(counts, [6] + [2 * math.pi * r for _, r in HOLES]) > 1e-3
    for (c, r), h in zip(HOLES, holes):  # normals point into the holes
        np.testing.assert_allclose(n[h], -(x[h] - c) / r, atol=1e-12)


def test_union_and_interior_shares_follow_measure():
    x, _ = LENS.boundary().sample(3000, "uniform", 4)
    left = x[:, 0] < 0.5  # each disk keeps an arc of 4 pi / 3
    assert _chi2([left.sum(), (~left).sum()], [1, 1]) > 1e-3
    y = LSHAPE.sample(3000, "uniform", 5)
    quarters = [(y[:, 0] < 0) & (y[:, 1] > 0), (y[:, 0] > 0) & (y[:, 1] > 0), y[:, 1] < 0]
    assert _chi2([q.sum() for q in quarters], [1, 1, 1]) > 1e-3


def test_polygon_edges_and_spheres_get_points_by_measure():
    x, n = CONCAVE.boundary().sample(3000, "uniform", 6)
    v = CONCAVE.vertices

    def cross(a, b):
        return a[0] * b[:, 1] - a[1] * b[:, 0]

    edges = [
        np.abs(cross(q - p, x - p)) < 1e-9 * np.linalg.norm(q - p)
        for p, q in zip(v, np.roll(v, -1, axis=0))
    ]
    counts = [e.sum() for e in edges]
    assert sum(counts) == 3000
    assert _chi2(counts, [np.linalg.norm(q - p) for p, q in zip(v, np.roll(v, -1, axis=0))]) > 1e-3
    x, _ = SHAPES["shell"].boundary().sample(3000, "uniform", 7)
    outer = np.isclose(np.linalg.norm(x, axis=1), 1.0)
    assert _chi2([outer.sum(), (~outer).sum()], [1.0, 0.4**2]) > 1e-3
    x, _ = SHAPES["ball4"].boundary().sample(3000, "uniform", 8)
    assert _chi2([(x[:, 3] > 0).sum(), (x[:, 3] < 0).sum()], [1, 1]) > 1e-3


def test_volumes_exact_or_estimated_with_their_error():
    assert math.isclose(pinn.Ball((0, 0, 0), 2).volume, 32 * math.pi / 3)
    assert math.isclose(pinn.Ball((0,) * 4, 1).volume, math.pi**2 / 2)
    assert math.isclose(TRIANGLE.volume, 1.0)
    assert math.isclose(CONCAVE.volume, 4 - 1.5)
    assert pinn.Ball().volume_error == 0
    exact = 2 - math.pi * sum(r * r for _, r in HOLES)
    assert 0 < PLATE.volume_error < 1e-3
    assert abs(PLATE.volume - exact) < 5 * PLATE.volume_error
    assert abs(LENS.volume - (2 * math.pi - (2 * math.pi / 3 - math.sqrt(3) / 2))) < 1e-3
    assert math.isclose(ANNULUS.boundary().measure, 3 * math.pi, rel_tol=1e-3)


def test_edges_a_difference_leaves_bare_are_not_in_it():
    """The removed square's sides x = 1 and y = -1 below the L's notch touch no point of it."""
    bare = np.array([[1.0, -0.5], [0.5, -1.0], [1.0, -1.0]])
    assert not LSHAPE.contains(bare).any()
    assert LSHAPE.contains(np.array([[0.0, -0.5], [0.5, 0.0], [1.0, 0.5], [-1.0, -1.0]])).all()
    g = LSHAPE.grid(2000)
    assert not ((g[:, 0] > 0) & (g[:, 1] < 0)).any()


def test_grids_cover_the_shape():
    """About n points, none outside, and every interior point near one of them."""
    for d in (LSHAPE, ANNULUS, PLATE, TRIANGLE):
        g = d.grid(5000)
        assert d.contains(g).all() and abs(len(g) - 5000) < 500
        spacing = (g[:, 0].max() - g[:, 0].min()) / (np.unique(g[:, 0]).size - 1)
        x = d.sample(500, "uniform", 0)
        gap = np.min(np.linalg.norm(x[:, None] - g[None], axis=2), axis=1)
        assert gap.max() < spacing


def test_a_union_keeps_a_side_its_first_operand_leaves_bare():
    """b's bottom edge y = 0, 1 < x < 2 runs along a's bare edge (a's notch), which a's
    boundary does not hold: b's piece must."""
    a = pinn.Rectangle((0, 0), (2, 1)) - pinn.Rectangle((1, 0), (2, 0.5))
    u = a | pinn.Rectangle((1, 0), (3, 0.5))
    assert math.isclose(u.boundary().measure, 8.0, rel_tol=1e-3)
    x, n = u.boundary().sample(800, "uniform", 0)
    bottom = (x[:, 1] == 0) & (x[:, 0] > 1) & (x[:, 0] < 2)
    assert bottom.sum() > 50 and (n[bottom] == [0, -1]).all()


def test_a_repeated_polygon_vertex_is_dropped():
    p = pinn.Polygon([(0, 0), (1, 0), (1, 0), (0, 1)])
    assert len(p.vertices) == 3 and math.isclose(p.volume, 0.5)
    x, n = p.boundary().sample(100, "halton", 0)
    assert np.isfinite(n).all()
    assert torch.isfinite(p.adf(torch.as_tensor(p.sample(100, "halton", 0)))).all()


def test_boundary_of_a_hole_and_of_a_shape():
    hole = pinn.Disk((0.5, 0.5), 0.2)
    x, n = PLATE.boundary(of=hole).sample(200, "halton", 0)
    np.testing.assert_allclose(np.linalg.norm(x - 0.5, axis=1), 0.2)
    np.testing.assert_allclose(n, -(x - 0.5) / 0.2, atol=1e-12)
    x, _ = (PLATE * pinn.Time(0, 1)).boundary(of=hole).sample(50, "halton", 0)
    assert x.shape == (50, 3) and x[:, 2].std() > 0.1
    with pytest.raises(BadValue, match="selected none"):
        PLATE.boundary(of=pinn.Disk((5, 5), 1))


def test_every_wall_but_the_lid_gets_each_wall_its_share():
    box = pinn.Rectangle((0, 0), (1, 1))
    walls = pinn.dirichlet(0.0, on=lambda x: ~torch.isclose(x[:, 1], torch.tensor(1.0).to(x)))
    problem = pinn.Problem(box, "u", lambda f: f.u_xx + f.u_yy, conditions=[walls], n_pde=16)
    x = problem.sample(seed=0, dtype=torch.float64)["dirichlet"].x.numpy()
    counts = [
        np.isclose(x[:, 0], 0).sum(),
        np.isclose(x[:, 0], 1).sum(),
        np.isclose(x[:, 1], 0).sum(),
    ]
    assert len(x) == 256 and not np.isclose(x[:, 1], 1).any()
    assert min(counts) > 60 and _chi2(counts, [1, 1, 1]) > 1e-3


def test_a_predicate_finds_a_small_piece():
    strip = pinn.Rectangle((0, 0), (100, 1))  # the face x = 0 is 1/202 of the boundary
    x, n = strip.boundary().where(lambda x: x[:, 0] == 0).sample(256, "halton", 0)
    assert (x[:, 0] == 0).all() and (n[:, 0] == -1).all() and x[:, 1].std() > 0.2


def test_initial_on_a_predicate_takes_part_of_the_slice():
    d = pinn.Interval("x", 0, 1) * pinn.Time(0, 1)
    ic = pinn.initial(1.0, on=lambda x: x[:, 0] < 0.5)
    problem = pinn.Problem(d, "u", lambda f: f.u_t - f.u_xx, conditions=[ic], n_pde=16)
    x = problem.sample(seed=0)["initial"].x
    assert (x[:, 1] == 0).all() and (x[:, 0] < 0.5).all() and len(x) == 256


def test_neumann_on_given_points_uses_the_given_normals():
    def problem(normals):
        pts = torch.tensor([[1.0, 0.2], [1.0, 0.7], [0.0, 0.5]], dtype=torch.float64)
        bc = pinn.neumann(lambda x: 2 * (x[:, 0:1] * normals[:, 0:1]), on=pts, normals=normals)
        return pinn.Problem(SQUARE, "u", lambda f: f.u_xx + f.u_yy - 4, conditions=[bc])

    normals = torch.tensor([[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64)
    p = problem(normals)
    batch = p.sample(seed=0, dtype=torch.float64)
    exact = Exact(lambda x: x[:, 0:1] ** 2 + x[:, 1:2] ** 2)
    assert float(p.losses(exact, batch)["neumann"].detach()) < 1e-24
    np.testing.assert_array_equal(batch["neumann"].normals.numpy(), normals.numpy())


def _problem(*conditions, domain=SQUARE):
    return pinn.Problem(domain, "u", lambda f: f.u_xx, conditions=list(conditions), n_pde=16)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: _problem(pinn.dirichlet(on=pinn.Disk((0, 0), 0.5).boundary())), "another domain"),
        (
            lambda: _problem(
                pinn.dirichlet(on=pinn.Disk().boundary()),
                domain=pinn.Disk() * pinn.Time(0, 1),
            ),
            "another domain",
        ),
        (
            lambda: _problem(
                pinn.neumann(on=(SQUARE * pinn.Time(0, 1)).initial()),
                domain=SQUARE * pinn.Time(0, 1),
            ),
            "initial slice has no outward",
        ),
        (lambda: _problem(pinn.dirichlet(on=lambda x: x[:, 0] > 5)), "selected none"),
        (lambda: _problem(pinn.neumann(on=torch.zeros(3, 2))), "need their outward unit normals"),
        (lambda: pinn.neumann(on=torch.zeros(1, 2), normals=[[1.0, 1.0]]), "unit vectors"),
        (
            lambda: _problem(pinn.neumann(on=torch.zeros(2, 2), normals=[[1.0, 0.0]])),
            "normals have shape",
        ),
        (lambda: pinn.Rectangle((0, 0), (1, 1)) - pinn.Interval("x", 0, 1), "same coordinates"),
        (lambda: (SQUARE * pinn.Time(0, 1)) - SQUARE, "not products"),
        (lambda: pinn.Rectangle((0, 0), (1, 1)) & pinn.Disk((3, 3), 1), "empty"),
        (lambda: pinn.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), "simple polygon"),
        (lambda: pinn.Polygon([(0, 0), (1, 1)]), "3 or more"),
        (lambda: pinn.Ball((0,), 1), "2 or more numbers"),
        (lambda: pinn.Ball((0, 0), -1), "positive"),
        (lambda: LSHAPE.boundary(of=LSHAPE * pinn.Time(0, 1)), "of= takes a shape"),
    ],
)
def test_bad_geometry_is_refused_at_construction(make, match):
    with pytest.raises(BadValue, match=match):
        make()
