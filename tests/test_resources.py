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


def test_a_data_parallel_process_needs_its_share_of_the_step():
    from pinn.resources import available_memory, points_memory

    have, net = available_memory(torch.device("cpu")), None
    p = problem(1000)
    net = pinn.MLP(p, hidden=[64] * 4)
    per_point = step_memory(p, net, torch.float32) / 1000
    n = int(1.5 * have / per_point)  # one step on all the points would not fit ...
    big = problem(n)
    assert points_memory(big, torch.float32) < 0.1 * have
    with pytest.raises(ValueError, match="GiB available"):
        check_fits(big, net, torch.float32, torch.device("cpu"))
    check_fits(big, net, torch.float32, torch.device("cpu"), shard=(4, 1))  # ... a quarter does
    with pytest.raises(ValueError, match="GiB available"):  # unless 4 share this machine
        check_fits(big, net, torch.float32, torch.device("cpu"), shard=(4, 4))
