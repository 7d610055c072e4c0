"""Extending the trainer as a user would, through the public protocol only: a weighting, a
sampling strategy and a network with its own Taylor pass, none of which touches pinn/."""

import dataclasses
import itertools
import warnings

import pytest
import torch
from analytic import poisson1d

import pinn


class HeavyBoundary(pinn.Weighting):
    """The boundary term ten times heavier; counts its calls (state a resume restores)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, residuals, step):
        self.calls += 1
        return {
            name: (10.0 if name == "dirichlet" else 1.0) * res.weight * res.mean_square()
            for name, res in residuals.items()
        }

    def state_dict(self):
        return {"calls": self.calls}

    def load_state_dict(self, state):
        self.calls = state["calls"]


def run(problem, **options):
    net = pinn.MLP(problem, hidden=[8, 8])
    stages = [pinn.Adam(steps=6, lr=1e-2), pinn.LBFGS(steps=3)]
    return pinn.train(problem, net, stages=stages, dtype="float64", log_every=1, **options)


def test_a_custom_weighting_trains_and_its_state_is_checkpointed(tmp_path):
    plain, weighting = run(poisson1d()), HeavyBoundary()
    heavy = run(poisson1d(), weighting=weighting, checkpoints=pinn.checkpoint.Checkpoints(tmp_path))
    first, first_plain = heavy.history[0], plain.history[0]  # the same initial network
    assert abs(first["loss_dirichlet"] / first_plain["loss_dirichlet"] - 10) < 1e-9
    assert first["loss_pde"] == first_plain["loss_pde"]
    assert weighting.calls >= 6 + 3  # every Adam step and every L-BFGS evaluation
    state = pinn.checkpoint.load(tmp_path / "last.pt")
    assert state["weighting"] == {"calls": weighting.calls}


class Halved(pinn.Sampling):
    """Every 3 steps, fresh PDE points squeezed into the middle half of the interval."""

    every = 3

    def points(self, sampler):
        points = sampler.draw()
        pde = points["pde"]
        points["pde"] = dataclasses.replace(pde, x=pde.x / 2)
        return points


class Spy(pinn.FixedWeights):
    """FixedWeights that records the farthest PDE point of every step."""

    def __init__(self):
        self.reach = []

    def __call__(self, residuals, step):
        self.reach.append(float(residuals["pde"].x.abs().max()))
        return super().__call__(residuals, step)


def test_a_custom_sampling_strategy_replaces_the_points():
    spy = Spy()
    net = pinn.MLP(poisson1d(), hidden=[8])
    pinn.train(poisson1d(), net, stages=[pinn.Adam(steps=7)], sampling=Halved(), weighting=spy)
    assert all(r > 0.6 for r in spy.reach[:3]) and all(r <= 0.5 for r in spy.reach[3:])
    assert len(spy.reach) == 7


class Gated(torch.nn.Module):
    """Fourier features, then a tanh layer gated by a sine layer (u = h * g), as a user
    writes it: a forward pass and the same pass over a pinn.Jet."""

    def __init__(self, inputs, outputs, width=6):
        super().__init__()
        self.features = torch.nn.Linear(inputs, width)
        self.h, self.g = torch.nn.Linear(2 * width, width), torch.nn.Linear(2 * width, width)
        self.out = torch.nn.Linear(width, outputs)

    def forward(self, x):
        z = self.features(x)
        z = torch.cat([torch.sin(z), torch.cos(z)], dim=1)
        a = self.h(z)
        return self.out(torch.tanh(a) * torch.sin(self.g(z)) - 0.5 * a)

    def taylor(self, jet):
        z = jet.linear(self.features)
        z = pinn.Jet.cat([z.map(torch.sin), z.map(torch.cos)])
        a = z.linear(self.h)
        return (a.map(torch.tanh) * z.linear(self.g).map(torch.sin) - 0.5 * a).linear(self.out)


def test_a_custom_network_with_a_taylor_pass_matches_reverse_mode_to_third_order():
    torch.manual_seed(0)
    net, x = Gated(2, 2).double(), torch.rand(20, 2, dtype=torch.float64)
    multi = [i for k in range(4) for i in itertools.combinations_with_replacement((0, 1), k)]
    keys = {(field, idx) for field in (0, 1) for idx in multi}
    _, known = pinn.engines.taylor(net, x.requires_grad_(True), keys)
    reference = pinn.Fields(x, net(x), ("x", "t"), ("u", "v"))
    for field, idx in keys:
        want = reference.d("uv"[field], *("xt"[i] for i in idx))
        torch.testing.assert_close(known[field, idx], want, rtol=1e-10, atol=1e-12)


def test_a_custom_network_trains_on_the_taylor_engine():
    from analytic import heat_neumann

    problem, net = heat_neumann(), Gated(2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to nested reverse mode
        result = pinn.train(problem, net, stages=[pinn.Adam(steps=150, lr=1e-2)], log_every=10)
    assert result.info["engine"] == "taylor"
    assert result.history[-1]["loss"] < 0.25 * result.history[0]["loss"]
    assert pinn.engines.unsupported(torch.compile(net)) is None  # asked through the wrapper


def test_an_mlp_subclass_that_overrides_forward_is_not_run_on_the_mlp_pass():
    class Shifted(pinn.MLP):
        def forward(self, x):
            return super().forward(x) + x

    net = Shifted(poisson1d(), hidden=[8])
    assert pinn.engines.unsupported(net) == "Shifted overrides forward but not taylor"


def test_an_mlp_inside_a_taylor_pass_must_take_the_coordinates_themselves():
    mlp = pinn.MLP(poisson1d(), hidden=[8]).double()
    x = torch.rand(4, 1, dtype=torch.float64)
    jet = pinn.Jet.input(x, ((), (0,)))
    assert mlp.taylor(jet).value.shape == (4, 1)
    with pytest.raises(pinn.errors.BadValue, match="jet of the coordinates themselves"):
        mlp.taylor(jet.map(torch.sin))
