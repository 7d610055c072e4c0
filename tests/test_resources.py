"""A problem too large for memory fails at the start with advice, not an out-of-memory kill."""

import pytest
import torch

import pinn
from pinn.resources import check_fits, step_memory


def problem(n_pde):
    return pinn.Problem(
        pinn.Interval("x", 0, 1) * pinn.Time(0, 1),
        pde=lambda f: f.u_t - f.u_xx,
        conditions=[pinn.initial(0.0)],
        n_pde=n_pde,
    )


def test_estimate_grows_with_points_and_derivatives():
    p, net = problem(1000), None
    net = pinn.MLP(p, hidden=[20] * 4)
    small = step_memory(p, net, torch.float32)
    assert step_memory(problem(100_000), net, torch.float32) > 50 * small
    assert step_memory(p, net, torch.float64) == 2 * small
    assert step_memory(problem(100_000), net, torch.float32, points=1000) < 2 * small


def test_too_many_points_fail_with_advice():
    p = problem(10**11)
    with pytest.raises(ValueError, match=r"GiB available.*batch_size"):
        check_fits(p, pinn.MLP(p, hidden=[64] * 4), torch.float32, torch.device("cpu"))
    check_fits(problem(1000), pinn.MLP(p), torch.float32, torch.device("cpu"))  # fits
