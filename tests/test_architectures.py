"""Embeddings and architectures: pinn.FourierFeatures, pinn.Periodic, random weight
factorization, pinn.ModifiedMLP and pinn.PirateNet.

Every network with every embedding (alone and composed), with and without rwf, and with a
hard constraint, against nested reverse mode to third order in float64; exact periodicity;
the statistics of what is drawn; PirateNet's physics-informed initialization; state dicts;
errors; and a short training run of each on the Taylor engine.
"""

import dataclasses
import json
import math

import pytest
import torch
from analytic import heat_neumann, poisson1d
from test_engines import _double, all_keys, no_fallback  # noqa: F401 (_double: autouse)

import pinn
from pinn import engines
from pinn.fields import Fields
from pinn.layers import FactorizedLinear


def box():
    return pinn.Box([-1.0, 0.0], [2.0, 1.0], names=("x", "y"))


def problem(fields=("u", "v"), conditions=()):
    return pinn.Problem(box(), fields=fields, pde=lambda f: f.u, conditions=conditions, n_pde=8)


EMBEDDINGS = {
    "none": None,
    "fourier": pinn.FourierFeatures(1.0, 4),
    "periodic": pinn.Periodic({"x": 3.0}, harmonics=2),
    "periodic+fourier": [pinn.Periodic({"y": 1.0}), pinn.FourierFeatures(2.0, 3)],
    "fourier+fourier": [pinn.FourierFeatures(1.0, 3), pinn.FourierFeatures(0.5, 2)],
}


def build(arch, p, embedding=None, rwf=False, seed=0, **options):
    torch.manual_seed(seed)
    if arch == "MLP":
        net = pinn.MLP(p, hidden=[6, 5], embedding=embedding, rwf=rwf, **options)
    elif arch == "ModifiedMLP":
        net = pinn.ModifiedMLP(p, hidden=[5, 5, 5], embedding=embedding, rwf=rwf, **options)
    else:
        embedding = [] if embedding is None else embedding  # None: the default Fourier features
        net = pinn.PirateNet(p, blocks=2, width=6, embedding=embedding, rwf=rwf, **options)
    net = net.double()
    with torch.no_grad():  # off the initial values: nonzero biases and alphas, mixed gates
        for param in net.parameters():
            param.add_(0.3 * torch.randn_like(param))
    return net


def points(n=11, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, generator=gen) * torch.tensor([3.0, 1.0]) - torch.tensor([1.0, 0.0])


def max_error(net, x, keys, engine=engines.taylor):
    """max |engine - nested reverse mode| over `keys`, relative to max(1, |reference|)."""
    x = x.detach().requires_grad_(True)
    with no_fallback():
        u, known = engine(net, x, keys)
    f = Fields(x, net(x), range(2), range(u.shape[1]))
    worst = float((u - net(x)).detach().abs().max())
    for key in sorted(keys, key=lambda k: len(k[1])):
        want = f._derivative(key).detach()
        worst = max(
            worst,
            float((known[key].detach() - want).abs().max()) / max(1.0, float(want.abs().max())),
        )
    return worst


ARCHS = ["MLP", "ModifiedMLP", "PirateNet"]


@pytest.mark.parametrize("rwf", [False, True], ids=["plain", "rwf"])
@pytest.mark.parametrize("embedding", EMBEDDINGS)
@pytest.mark.parametrize("arch", ARCHS)
def test_taylor_matches_reverse_mode_to_third_order(arch, embedding, rwf):
    net = build(arch, problem(), EMBEDDINGS[embedding], rwf)
    assert engines.unsupported(net) is None
    assert max_error(net, points(), all_keys(2, 2)) < 1e-10


@pytest.mark.parametrize("arch", ARCHS)
def test_taylor_matches_reverse_mode_with_a_hard_constraint(arch):
    hard = problem(("u",), [pinn.dirichlet(lambda x: torch.sin(x[:, :1]), hard=True)])
    net = build(arch, hard, [pinn.Periodic({"y": 1.0}), pinn.FourierFeatures(1.0, 3)], rwf=True)
    assert net.output_transform is not None
    assert max_error(net, points(), all_keys(2, 1)) < 1e-10


def test_an_embedded_mlp_with_batch_norm_dropout_and_output_scaling_matches_reverse_mode():
    p = problem()
    net = build(
        "MLP", p, pinn.FourierFeatures(1.0, 3), batch_norm=True, output_scaling=(0.5, [2.0, 3.0])
    )
    net.eval()  # batch norm: running statistics
    assert max_error(net, points(), all_keys(2, 2)) < 1e-10
    drop = build("MLP", p, pinn.FourierFeatures(1.0, 3), dropout=0.3)  # training: one mask
    keys, x = all_keys(2, 2, order=2), points(n=30)
    torch.manual_seed(5)
    _, known = engines.taylor(drop, x, keys)
    torch.manual_seed(5)
    x = x.detach().requires_grad_(True)
    f = Fields(x, drop(x), range(2), range(2))
    for key in keys:
        torch.testing.assert_close(known[key], f._derivative(key), rtol=1e-10, atol=1e-12)


@pytest.mark.slow  # compiling takes ~12 s on two cores
def test_the_compiled_engine_runs_the_pass_of_a_piratenet():
    torch.compiler.reset()
    net = build(
        "PirateNet", problem(), [pinn.Periodic({"x": 3.0}), pinn.FourierFeatures(1.0, 3)], True
    )
    assert (
        max_error(net, points(), all_keys(2, 2, order=2), engines.Compiled(backend="aot_eager"))
        < 1e-10
    )


# -- embeddings -------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", ARCHS)
def test_periodic_is_exact_for_values_and_derivatives(arch):
    period = 3.0
    net = build(
        arch,
        problem(),
        [pinn.Periodic({"x": period}, harmonics=2), pinn.FourierFeatures(1.0, 3)],
        rwf=True,
    )
    x = points()
    keys = all_keys(2, 2)
    _, here = engines.taylor(net, x, keys)
    here = {key: value.detach() for key, value in here.items()}
    for k in (1, -1):  # rounding of the phase grows with |x|: 3e-13 at one period
        shifted = x + torch.tensor([k * period, 0.0])
        u, there = engines.taylor(net, shifted, keys)
        torch.testing.assert_close(u, net(x), rtol=0, atol=1e-12)
        for key in keys:  # to 1e-12 of each derivative's size (third ones reach ~1e3)
            scale = max(1.0, float(here[key].abs().max()))
            assert float((there[key].detach() - here[key]).abs().max()) <= 1e-12 * scale, key


def test_periodic_features_come_from_the_raw_coordinate_and_the_others_pass_scaled():
    net = pinn.MLP(problem(), hidden=[4], embedding=pinn.Periodic({"x": 2.0}, harmonics=2)).double()
    x = points()
    phi = net.embed(x, net.shift, net.scale)
    w = 2 * math.pi * x[:, :1] / 2.0
    want = torch.cat(
        [2 * x[:, 1:] - 1, torch.cos(w), torch.cos(2 * w), torch.sin(w), torch.sin(2 * w)], 1
    )
    torch.testing.assert_close(phi, want)
    assert net.embed.width == 5 and net.linears[0].in_features == 5


def test_fourier_features_are_a_buffer_drawn_with_the_given_scale():
    p = problem()
    torch.manual_seed(0)
    net = pinn.MLP(p, hidden=[4], embedding=pinn.FourierFeatures(scale=3.0, features=4000))
    b = net.embed.B0
    assert b.shape == (4000, 2) and net.linears[0].in_features == 8000
    assert "embed.B0" in net.state_dict() and all(q is not b for q in net.parameters())
    n = b.numel()  # the std of a sample variance: var * sqrt(2 / n)
    assert float(b.var()) == pytest.approx(9.0, abs=5 * 9.0 * math.sqrt(2 / n))
    assert abs(float(b.mean())) < 5 * 3.0 / math.sqrt(n)
    # the scaled inputs: gamma = [cos(B h), sin(B h)], h = (x - shift) * scale
    x = points()
    z = ((x - net.shift) * net.scale) @ b.T
    torch.testing.assert_close(net.embed(x, net.shift, net.scale), torch.cat([z.cos(), z.sin()], 1))
    before = b.clone()
    net.reset_parameters()  # a fresh draw
    assert not torch.equal(before, net.embed.B0)
    torch.manual_seed(0)
    again = pinn.MLP(p, hidden=[4], embedding=pinn.FourierFeatures(scale=3.0, features=4000))
    torch.testing.assert_close(again.embed.B0, before, rtol=0, atol=0)


def test_embeddings_are_plain_dataclasses_a_config_can_write():
    for spec in (pinn.FourierFeatures(2.0, 16), pinn.Periodic({"x": 2.0, "y": 1.0}, harmonics=3)):
        fields = dataclasses.asdict(spec)
        assert type(spec)(**fields) == spec and hash(type(spec)(**fields)) == hash(spec)
        with pytest.raises(dataclasses.FrozenInstanceError):
            spec.harmonics = 2
    assert dataclasses.asdict(pinn.Periodic({"x": 2})) == {"periods": {"x": 2.0}, "harmonics": 1}


def test_embeddings_and_architectures_round_trip_through_a_config():
    from pinn.config import config_to_recipe, recipe_to_config

    net = {
        "arch": "PirateNet",
        "width": 16,
        "embedding": [pinn.Periodic({"x": 2.0}), pinn.FourierFeatures(1.0, 8)],
        "rwf": (1.0, 0.1),
    }
    config = recipe_to_config({"net": net})
    assert config["net"]["embedding"] == [
        {"type": "periodic", "periods": {"x": 2.0}, "harmonics": 1},
        {"type": "fourier", "scale": 1.0, "features": 8},
    ]
    back = config_to_recipe(json.loads(json.dumps(config)))["net"]
    assert back["embedding"] == net["embedding"]
    p = problem(fields=("u",))
    built = pinn.make_net(p, **{**back, "embedding": [pinn.FourierFeatures(1.0, 8)]})
    assert isinstance(built, pinn.PirateNet)
    with pytest.raises(ValueError, match="net.embedding.0: expected a dict whose 'type' is one of"):
        config_to_recipe({"net": {"embedding": {"type": "gaussian"}}})


def test_summary_reads_the_inputs_of_any_pinn_network():
    p = problem(fields=("u",))
    for net in (pinn.PirateNet(p, width=8, blocks=1), pinn.MLP(p, hidden=[4], rwf=True)):
        assert "Total params" in pinn.summary(net)


# -- random weight factorization --------------------------------------------------------------
def test_rwf_starts_at_the_initializers_weight_and_trains_s_and_v():
    p = problem()
    torch.manual_seed(0)
    net = pinn.MLP(p, hidden=[400, 300], rwf=True)
    torch.manual_seed(0)  # the same draws: each layer's W0, then its s
    for layer in net.linears:
        assert isinstance(layer, FactorizedLinear)
        w0 = torch.nn.init.xavier_normal_(torch.empty(layer.out_features, layer.in_features))
        torch.empty(layer.out_features).normal_()
        torch.testing.assert_close(layer.weight, w0, rtol=1e-12, atol=0)
        torch.testing.assert_close(
            torch.exp(layer.s).unsqueeze(1) * layer.v, w0, rtol=1e-12, atol=0
        )
    s = net.linears[1].s.detach()
    assert float(s.mean()) == pytest.approx(0.5, abs=5 * 0.1 / math.sqrt(300))
    assert float(s.std()) == pytest.approx(0.1, rel=0.25)
    names = {name for name, _ in net.named_parameters()}
    assert names == {f"linears.{i}.{k}" for i in range(3) for k in ("s", "v", "bias")}
    same = pinn.MLP(p, hidden=[3], rwf=(1.0, 0.0))
    assert torch.equal(same.linears[0].s.detach(), torch.ones(3))


def test_plain_networks_keep_plain_linear_layers():
    net = pinn.MLP(problem(), hidden=[4])
    assert all(type(layer) is torch.nn.Linear for layer in net.linears) and net.embed is None


# -- PirateNet ----------------------------------------------------------------------------------
def initial_problem(hard=False, order=0, fields=("u",)):
    domain = pinn.Interval("x", -1.0, 1.0) * pinn.Time(0.0, 1.0)
    u0 = lambda x: torch.sin(math.pi * x[:, :1])  # noqa: E731
    ic = pinn.initial(u0, n=64, hard=hard, order=order, field="u")
    pde = lambda f: f.u_t - 0.1 * f.u_xx  # noqa: E731
    return pinn.Problem(domain, fields, pde, [ic, pinn.dirichlet(0.0, n=8)], n_pde=16)


def test_piratenet_alphas_start_at_zero_and_pi_init_fits_the_initial_condition():
    p = initial_problem()
    torch.set_default_dtype(torch.float32)  # built in float32, as pinn.train draws it
    torch.manual_seed(0)
    net = pinn.PirateNet(p)  # width 256, Fourier features (1.0, 128), rwf
    assert torch.equal(net.alpha.detach(), torch.zeros(3)) and net.alpha.requires_grad
    assert net.embed.width == 256 and net.embed.specs == (pinn.FourierFeatures(1.0, 128),)
    x, y = net._initial[0]
    assert len(x) == 16 * 64 and set(x[:, 1].tolist()) == set(
        torch.linspace(0, 1, 16, dtype=torch.float64).tolist()
    )
    slice0 = x[:64]
    assert torch.equal(slice0[:, 1], torch.zeros(64))  # the initial points at t0 first
    with torch.no_grad():
        err = (net(x.float()) - y.float()).abs().max()
        assert float(err) < 1e-2  # measured 4e-3 (float32)
        net.double()
        torch.testing.assert_close(
            net(slice0), torch.sin(math.pi * slice0[:, :1]), atol=1e-2, rtol=0
        )
    # the fit happens at every reset (training calls it), on the net's dtype
    torch.manual_seed(3)
    with torch.no_grad():
        net.alpha.fill_(0.7)
    net.reset_parameters()
    assert net.output.weight.dtype == torch.float64 and not net.alpha.detach().any()
    with torch.no_grad():
        assert float((net(x) - y).abs().max()) < 1e-2
    # deterministic: the same seed, the same network
    state = {k: v.clone() for k, v in net.state_dict().items()}
    torch.manual_seed(3)
    net.reset_parameters()
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k


@pytest.mark.parametrize(
    "case",
    [
        "no initial condition",
        "hard initial condition",
        "order 1",
        "output transform",
        "pi_init off",
    ],
)
def test_piratenet_keeps_the_ordinary_initialization_where_no_fit_applies(case):
    p = {
        "no initial condition": poisson1d(),
        "hard initial condition": initial_problem(hard=True),
        "order 1": initial_problem(order=1),
    }.get(case, initial_problem())
    options = {
        "output transform": {"output_transform": lambda x, u: u},
        "pi_init off": {"pi_init": False},
    }.get(case, {})
    torch.manual_seed(0)
    net = pinn.PirateNet(p, blocks=1, width=8, **options)
    torch.manual_seed(0)
    plain = pinn.PirateNet(p, blocks=1, width=8, pi_init=False)
    assert net._initial == {}
    for (name, a), b in zip(net.state_dict().items(), plain.state_dict().values()):
        assert torch.equal(a, b), name


def test_pi_init_fits_only_the_fields_with_an_initial_condition():
    p = initial_problem(fields=("u", "v"))
    torch.manual_seed(0)
    net = pinn.PirateNet(p, blocks=1, width=32)
    torch.manual_seed(0)
    plain = pinn.PirateNet(p, blocks=1, width=32, pi_init=False)
    assert set(net._initial) == {0}
    w, w0 = net.output.weight.detach(), plain.output.weight.detach()
    assert torch.equal(w[1], w0[1]) and not torch.equal(w[0], w0[0])


# -- state, registry, errors --------------------------------------------------------------------
@pytest.mark.parametrize("arch", ARCHS)
def test_state_dict_round_trip_reproduces_the_outputs(arch):
    p, emb = problem(), [pinn.Periodic({"x": 3.0}), pinn.FourierFeatures(1.0, 3)]
    a, b = build(arch, p, emb, rwf=True, seed=0), build(arch, p, emb, rwf=True, seed=1)
    x = points()
    assert not torch.equal(a(x), b(x))
    b.load_state_dict(a.state_dict())
    assert torch.equal(a(x), b(x))


def test_make_net_builds_each_architecture():
    p = problem()
    for arch, options in (
        ("ModifiedMLP", {"hidden": [4, 4]}),
        ("PirateNet", {"blocks": 1, "width": 4}),
    ):
        net = pinn.make_net(p, arch=arch, **options)
        assert type(net).__name__ == arch and net(points()).shape == (11, 2)
    with pytest.raises(ValueError, match="valid: MLP, ModifiedMLP, PirateNet"):
        pinn.make_net(p, arch="ResNet")
    summary = pinn.summary(pinn.PirateNet(p, blocks=1, width=4, rwf=False), input_size=2)
    assert "Total params" in summary


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: pinn.FourierFeatures(0.0, 4), "scale must be a finite number > 0"),
        (lambda: pinn.FourierFeatures(math.nan, 4), "scale must be a finite number > 0"),
        (lambda: pinn.FourierFeatures(1.0, 0), "features must be a positive integer"),
        (lambda: pinn.FourierFeatures(1.0, 2.5), "features must be a positive integer"),
        (lambda: pinn.Periodic({"x": -1.0}), "the period of 'x' must be a finite number > 0"),
        (lambda: pinn.Periodic({}), "periods must be a non-empty dict"),
        (lambda: pinn.Periodic({"x": 1.0}, harmonics=0), "harmonics must be a positive integer"),
        (
            lambda: pinn.MLP(problem(), embedding=pinn.Periodic({"z": 1.0})),
            r"unknown coordinate 'z'; the problem's coordinates are \('x', 'y'\)",
        ),
        (
            lambda: pinn.MLP(
                problem(), embedding=[pinn.FourierFeatures(), pinn.Periodic({"x": 1.0})]
            ),
            "Periodic must come first",
        ),
        (
            lambda: pinn.MLP(problem(), embedding="fourier"),
            "embedding must be pinn.FourierFeatures",
        ),
        (
            lambda: pinn.MLP(problem(), rwf="yes"),
            r"rwf must be True, False or a pair \(mu, sigma\)",
        ),
        (lambda: pinn.ModifiedMLP(problem(), rwf=(0.5, -0.1)), "sigma >= 0"),
        (lambda: pinn.ModifiedMLP(problem(), hidden=[4, 5]), "two or more equal widths"),
        (lambda: pinn.ModifiedMLP(problem(), hidden=[4]), "two or more equal widths"),
        (lambda: pinn.ModifiedMLP(problem(), init="glorot"), "unknown init 'glorot'"),
        (lambda: pinn.PirateNet(problem(), blocks=0), "blocks must be a positive integer"),
        (lambda: pinn.PirateNet(problem(), width=2.5), "width must be a positive integer"),
        (lambda: pinn.PirateNet(problem(), pi_init="yes"), "pi_init must be True or False"),
        (
            lambda: pinn.PirateNet(problem(), input_scaling="zscore"),
            "unknown input_scaling 'zscore'",
        ),
        (lambda: pinn.PirateNet(problem(), activation="swish"), "unknown activation 'swish'"),
    ],
)
def test_bad_arguments_give_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda p: pinn.MLP(p, hidden=[8], embedding=pinn.FourierFeatures(1.0, 4), rwf=True),
        lambda p: pinn.ModifiedMLP(p, hidden=[8, 8], embedding=pinn.FourierFeatures(1.0, 4)),
        lambda p: pinn.PirateNet(p, blocks=1, width=8),
    ],
    ids=ARCHS,
)
def test_each_network_trains_on_the_taylor_engine(make):
    p = heat_neumann()
    with no_fallback():
        result = pinn.train(p, make(p), stages=[pinn.Adam(steps=30, lr=1e-2)], log_every=10)
    assert result.info["engine"] == "taylor"
    losses = [h["loss"] for h in result.history]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
