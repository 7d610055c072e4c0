"""The residual Jacobian (pinn.jacobian), on every analytic problem: its vector's squared norm
is the loss, it matches torch.autograd.functional.jacobian of the reference (nested reverse
mode) residuals to 1e-12, and it passes a Taylor test."""

import math

import pytest
import torch
from analytic import PROBLEMS

import pinn
from pinn.jacobian import blocks, jacobian

F64 = torch.float64


def setup(name):
    torch.manual_seed(0)
    p = PROBLEMS[name]()
    net = pinn.MLP(p, hidden=[6, 6]).to(F64)
    unknowns = pinn.Unknowns(p.unknowns).to(F64)
    return p, net, unknowns, p.sample(seed=1, dtype=F64)


class Reference(torch.nn.Module):
    """The scaled residual vector by the reference path (nested reverse mode)."""

    def __init__(self, p, net, unknowns, batch):
        super().__init__()
        self.p, self.net, self.unknowns, self.batch = p, net, unknowns, batch

    def forward(self):
        res = self.p.residuals(self.net, self.batch, self.unknowns)
        return torch.cat(
            [math.sqrt(r.weight / r.r.numel()) * r.r.reshape(-1) for r in res.values()]
        )


def reference_vector(p, net, unknowns, batch):
    """The reference vector as a function of the parameters' values."""
    module = Reference(p, net, unknowns, batch)
    names = [k for k, _ in module.named_parameters()]
    return lambda *values: torch.func.functional_call(module, dict(zip(names, values)), ())


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_the_jacobian_matches_autograds_of_the_reference_residuals(name):
    p, net, unknowns, batch = setup(name)
    r, J = jacobian(p, net, unknowns, batch)
    params = [q.detach() for q in [*net.parameters(), *unknowns.parameters()]]
    vector = reference_vector(p, net, unknowns, batch)
    torch.testing.assert_close(r, vector(*params), rtol=1e-12, atol=1e-14)
    loss = sum(p.losses(net, batch, unknowns).values())
    assert float(r @ r) == pytest.approx(float(loss), rel=1e-12)
    reference = torch.autograd.functional.jacobian(vector, tuple(params))
    reference = torch.cat([j.reshape(len(r), -1) for j in reference], 1)
    assert J.shape == (len(r), sum(q.numel() for q in params))
    torch.testing.assert_close(J, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["advection", "inverse"])
def test_taylor_test_of_the_jacobian(name):
    """|r(theta + e v) - r(theta) - e J v| falls as e^2 (second-order rate)."""
    p, net, unknowns, batch = setup(name)
    r, J = jacobian(p, net, unknowns, batch)
    params = [*net.parameters(), *unknowns.parameters()]
    theta = torch.cat([q.detach().reshape(-1) for q in params])
    v = torch.randn(theta.shape, generator=torch.Generator().manual_seed(2), dtype=F64)

    def at(x):
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(x, params)
        return jacobian(p, net, unknowns, batch)[0]

    eps = [1e-2 / 2**k for k in range(5)]
    res = [float((at(theta + e * v) - r - e * (J @ v)).norm()) for e in eps]
    at(theta)
    rates = [math.log2(a / b) for a, b in zip(res, res[1:])]
    assert min(rates) > 1.9, rates


def test_blocks_in_chunks_equal_the_whole():
    p, net, unknowns, batch = setup("heat_neumann")
    r, J = jacobian(p, net, unknowns, batch)
    parts = list(blocks(p, net, unknowns, batch, chunk=3))
    assert len(parts) > len(p.sets)
    torch.testing.assert_close(torch.cat([b for _, b, _ in parts]), r, rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(torch.cat([j for _, _, j in parts]), J, rtol=1e-13, atol=1e-15)


def test_an_output_transform_is_refused_clearly():
    p = PROBLEMS["poisson1d"]()
    net = pinn.MLP(p, hidden=[4], output_transform=lambda x, u: (1 - x**2) * u)
    with pytest.raises(pinn.errors.BadValue, match="output transform"):
        jacobian(p, net, pinn.Unknowns({}), p.sample())
