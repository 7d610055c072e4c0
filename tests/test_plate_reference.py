"""The plate_with_holes reference: a P2 finite-element solution whose error shrinks at the
expected rate as the mesh is refined (second order in L2: the holes are polygons whose
edges shrink with the mesh), and which takes its Dirichlet values."""

import numpy as np
import pytest

from problems import plate_with_holes as plate


@pytest.fixture(scope="module")
def grid():
    return plate.domain().grid(3000)


def test_refinement_converges_at_second_order(grid):
    finest = plate.solve(plate.H)(grid)
    errors = [
        np.linalg.norm(plate.solve(h)(grid) - finest) / np.linalg.norm(finest)
        for h in (0.08, 0.04, 0.02)
    ]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 2e-4 and (rates > 1.6).all(), (errors, rates)


def test_the_solution_takes_its_dirichlet_values():
    d = plate.domain()
    u = plate.solve(plate.H)
    hot, _ = d.boundary(of=plate.pinn.Disk(*plate.HOT)).sample(200, "halton", 0)
    edges, _ = d.boundary(of=plate.pinn.Rectangle((0, 0), (2, 1))).sample(200, "halton", 0)
    assert np.abs(u(hot) - 1).max() < 1e-4  # points of the true circle, off the polygon's
    assert np.abs(u(edges)).max() < 1e-12
