"""Domains: sampled points lie where they should, normals are unit and outward, sizes add up."""

import math

import numpy as np
import pytest

import pinn
from pinn.samplers import METHODS


@pytest.mark.parametrize("method", METHODS)
def test_interior_samples_lie_inside(method):
    d = pinn.Rectangle((0, -1), (2, 1)) * pinn.Time(0, 3)
    x = d.sample(500, method, rng=1)
    assert x.shape == (500, 3)
    assert d.contains(x).all()
    assert np.all(x.min(0) >= [0, -1, 0]) and np.all(x.max(0) <= [2, 1, 3])
    assert x.std(0).min() > 0.25  # spread over the domain, not collapsed


def test_same_seed_same_points_and_different_seed_differs():
    d = pinn.Interval("x", 0, 1) * pinn.Time(0, 1)
    assert np.array_equal(d.sample(64, "sobol", 3), d.sample(64, "sobol", 3))
    assert not np.array_equal(d.sample(64, "sobol", 3), d.sample(64, "sobol", 4))


def test_rectangle_boundary_points_normals_and_allocation():
    d = pinn.Rectangle((0, 0), (2, 1))
    x, n = d.boundary().sample(600, "uniform", 0)
    assert x.shape == n.shape == (600, 2)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0)
    on_face = (
        np.isclose(x[:, 0], 0)
        | np.isclose(x[:, 0], 2)
        | np.isclose(x[:, 1], 0)
        | np.isclose(x[:, 1], 1)
    )
    assert on_face.all()
    # outward: moving along the normal leaves the domain
    assert not d.contains(x + 1e-3 * n, tol=0).any()
    # allocation follows the perimeter: the two long faces (length 2) get 2/3 of the points
    long = np.isclose(x[:, 1], 0) | np.isclose(x[:, 1], 1)
    assert long.sum() == 400


def test_boundary_of_one_coordinate_and_space_time_product():
    d = pinn.Interval("x", -1, 1) * pinn.Time(0, 1)
    x, n = d.boundary("x").sample(100, "halton", 0)
    assert np.all(np.isclose(np.abs(x[:, 0]), 1))
    np.testing.assert_array_equal(n[:, 1], 0)
    np.testing.assert_array_equal(n[:, 0], np.sign(x[:, 0]))
    assert x[:, 1].min() >= 0 and x[:, 1].max() <= 1 and x[:, 1].std() > 0.2
    assert np.array_equal(
        d.boundary().sample(50, "uniform", 0)[0], d.boundary("x").sample(50, "uniform", 0)[0]
    )


def test_initial_slice():
    d = pinn.Rectangle((0, 0), (1, 1)) * pinn.Time(0.5, 2)
    x, _ = d.initial().sample(200, "lhs", 0)
    np.testing.assert_array_equal(x[:, 2], 0.5)
    assert d.contains(x).all()
    t, _ = pinn.Time(0, 1).initial().sample(3)
    np.testing.assert_array_equal(t, [[0.0], [0.0], [0.0]])


def test_disk_interior_is_uniform_and_boundary_is_the_circle():
    d = pinn.Disk((1, 2), 0.5)
    x = d.sample(20_000, "uniform", 0)
    r = np.linalg.norm(x - [1, 2], axis=1)
    assert r.max() <= 0.5
    assert abs((r < 0.25).mean() - 0.25) < 0.02  # area fraction of the inner disk
    b, n = d.boundary().sample(100, "uniform", 0)
    np.testing.assert_allclose(np.linalg.norm(b - [1, 2], axis=1), 0.5)
    np.testing.assert_allclose(b - [1, 2], 0.5 * n, atol=1e-12)
    assert math.isclose(d.volume, math.pi / 4)


def test_box_3d_faces_and_grid():
    d = pinn.Box((0, 0, 0), (1, 2, 3))
    assert d.names == ("x", "y", "z")
    x, n = d.boundary("z").sample(10, "uniform", 0)
    assert set(np.unique(x[:, 2])) == {0.0, 3.0}
    g = d.grid(1000)
    assert len(g) == 1000 and d.contains(g).all()
    assert len(pinn.Disk().grid(10_000)) == pytest.approx(10_000, rel=0.03)  # about n inside


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: pinn.Interval("x", 1.0, 0.0), "lo < hi"),
        (lambda: pinn.Interval("x", 0.0, 0.0), "lo < hi"),
        (lambda: pinn.Interval("x", 0.0, math.inf), "finite"),
        (lambda: pinn.Interval("1x", 0.0, 1.0), "identifier"),
        (lambda: pinn.Disk((0, 0), -1.0), "radius"),
        (lambda: pinn.Rectangle((0, 0, 0), (1, 1, 1)), "2-d"),
        (lambda: pinn.Interval("x", 0, 1) * pinn.Interval("x", 0, 1), "distinct"),
        (lambda: pinn.Time(0, 1) * pinn.Time(0, 1, name="s"), "one Time"),
        (lambda: pinn.Interval("x", 0, 1).sample(0), "positive integer"),
        (lambda: pinn.Interval("x", 0, 1).sample(10, "random"), "sobol"),
        (lambda: pinn.Interval("x", 0, 1).boundary("y"), "unknown coordinate 'y'"),
        (lambda: (pinn.Interval("x", 0, 1) * pinn.Time(0, 1)).boundary("t"), "initial"),
        (lambda: pinn.Interval("x", 0, 1).initial(), "no Time"),
    ],
)
def test_bad_domains_raise_clearly(make, match):
    with pytest.raises(ValueError, match=match):
        make()
