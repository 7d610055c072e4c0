"""The MLP's toolbox: initializers, dropout, batch norm, input and output scaling, summary."""

import math

import pytest
import torch

import pinn

WIDTH = 400


def line(n=8, d=1, k=1):
    x = torch.linspace(0, 1, n * d, dtype=torch.float64).reshape(n, d) * 4 + 1
    return pinn.Supervised(x, torch.arange(n * k, dtype=torch.float64).reshape(n, k))


# var of each init for a fan_in x fan_out = WIDTH x WIDTH layer, and whether it is uniform
INITS = {
    "xavier_normal": (2 / (WIDTH + WIDTH), False),
    "xavier_uniform": (2 / (WIDTH + WIDTH), True),
    "he_normal": (2 / WIDTH, False),
    "he_uniform": (2 / WIDTH, True),
    "normal": (1.0, False),
}


@pytest.mark.parametrize("init", INITS)
def test_initializer_variance_matches_its_formula(init):
    var, uniform = INITS[init]
    torch.manual_seed(0)
    w = pinn.MLP(line(), hidden=[WIDTH, WIDTH], init=init).linears[1].weight.detach().double()
    n = w.numel()
    # sampling std of the variance estimate: var * sqrt(2/n) (normal), var * sqrt(0.8/n) (uniform)
    assert w.var().item() == pytest.approx(
        var, abs=5 * var * math.sqrt((0.8 if uniform else 2) / n)
    )
    assert abs(w.mean().item()) < 5 * math.sqrt(var / n)
    bound = math.sqrt(3 * var)  # a uniform law of this variance lives in [-bound, bound]
    assert (w.abs().max().item() <= bound) == uniform
    assert all(not lin.bias.detach().any() for lin in pinn.MLP(line()).linears)


def test_dropout_is_active_in_training_and_off_in_evaluation():
    p = line(64)
    torch.manual_seed(0)
    dropped = pinn.MLP(p, hidden=[WIDTH, WIDTH], dropout=0.5)
    plain = pinn.MLP(p, hidden=[WIDTH, WIDTH])
    plain.load_state_dict(dropped.state_dict())
    x = p.x.float()
    dropped.eval()
    torch.testing.assert_close(dropped(x), plain(x))  # evaluation: the full network
    dropped.train()
    assert not torch.equal(dropped(x), dropped(x))  # training: a new mask every call
    hidden = []
    dropped.dropouts[0].register_forward_hook(lambda m, a, out: hidden.append(out))
    dropped(x)
    assert (hidden[0] == 0).float().mean().item() == pytest.approx(0.5, abs=0.02)


def test_dropout_per_layer():
    m = pinn.MLP(line(), hidden=[4, 4, 4], dropout=[0.5, 0.0, 0.2])
    assert [type(d).__name__ for d in m.dropouts] == ["Dropout", "Identity", "Dropout"]
    assert [getattr(d, "p", 0.0) for d in m.dropouts] == [0.5, 0.0, 0.2]
    assert pinn.MLP(line(), hidden=[4]).dropouts is None


@pytest.mark.parametrize("dropout", [1.0, -0.1, [0.5], [0.1, 1.2], "half"])
def test_dropout_outside_zero_one_raises(dropout):
    with pytest.raises(ValueError, match=r"dropout must be a probability in \[0, 1\), or a list"):
        pinn.MLP(line(), hidden=[4, 4], dropout=dropout)


def test_batch_norm_uses_batch_statistics_in_training_and_running_ones_in_evaluation():
    p = line(32)
    m = pinn.MLP(p, hidden=[16], batch_norm=True)
    x = p.x.float()
    seen = []
    m.norms[0].register_forward_hook(lambda mod, a, out: seen.append((a[0], out)))
    m.train()
    m(x)
    before, after = seen[0]
    v = before.var(0, unbiased=False)
    torch.testing.assert_close(after.mean(0), torch.zeros(16), atol=1e-5, rtol=0)
    torch.testing.assert_close(after.var(0, unbiased=False), v / (v + m.norms[0].eps))
    assert int(m.norms[0].num_batches_tracked) == 1 and m.norms[0].running_mean.abs().sum() > 0
    # training: a point's output depends on its batch; evaluation: it does not
    assert not torch.allclose(m(x[:1].repeat(2, 1) + torch.tensor([[0.0], [1.0]]))[0], m(x[:2])[0])
    m.eval()
    running = m.norms[0].running_mean.clone()
    torch.testing.assert_close(m(x)[:1], m(x[:1]))
    torch.testing.assert_close(m.norms[0].running_mean, running)  # not updated in evaluation


def test_minmax_and_zscore_input_scaling():
    p = line(50, d=2)
    mm = pinn.MLP(p, hidden=[4])
    lo, hi = p.x.min(0).values.float(), p.x.max(0).values.float()
    torch.testing.assert_close((lo - mm.shift) * mm.scale, -torch.ones(2))
    torch.testing.assert_close((hi - mm.shift) * mm.scale, torch.ones(2))
    z = pinn.MLP(p, hidden=[4], input_scaling="zscore")
    scaled = (p.x.float() - z.shift) * z.scale
    torch.testing.assert_close(scaled.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(scaled.std(0), torch.ones(2))


def test_output_scaling():
    p = line(50, k=2)
    m = pinn.MLP(p, hidden=[4], output_scaling="zscore")
    torch.testing.assert_close(m.out_shift, p.y.mean(0).float())
    torch.testing.assert_close(m.out_scale, p.y.std(0).float())
    fixed = pinn.MLP(p, hidden=[4], output_scaling=(1.0, [2.0, 3.0]))
    plain = pinn.MLP(p, hidden=[4])
    plain.load_state_dict(fixed.state_dict(), strict=False)
    x = p.x.float()
    torch.testing.assert_close(fixed(x), 1.0 + torch.tensor([2.0, 3.0]) * plain(x))
    with pytest.raises(ValueError, match="one per field"):
        pinn.MLP(p, hidden=[4], output_scaling=(0.0, [1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="unknown output_scaling 'minmax'"):
        pinn.MLP(p, hidden=[4], output_scaling="minmax")
    with pytest.raises(ValueError, match="unknown input_scaling 'unit'"):
        pinn.MLP(p, hidden=[4], input_scaling="unit")


def test_summary_counts_53_parameters_for_3_4_5_2():
    m = pinn.MLP(line(d=3, k=2), hidden=[4, 5])
    table = pinn.summary(m)
    rows = [r.split() for r in table.splitlines()]
    linears = [r for r in rows if r[1:2] == ["(Linear)"]]
    assert [r[-1] for r in linears] == ["16", "25", "12"]  # 3*4+4, 4*5+5, 5*2+2
    assert [" ".join(r[2:4]) for r in linears] == ["(None, 4)", "(None, 5)", "(None, 2)"]
    assert "Total params: 53" in table and "Trainable params: 53" in table
    assert sum(1 for r in rows if r[1:2] == ["(Tanh)"]) == 2
    m.linears[2].requires_grad_(False)
    assert "Non-trainable params: 12" in pinn.summary(m)


def test_summary_of_a_plain_torch_network_with_batch_norm():
    net = torch.nn.Sequential(
        torch.nn.Linear(64, 15),
        torch.nn.BatchNorm1d(15),
        torch.nn.Sigmoid(),
        torch.nn.Linear(15, 10),
    )
    table = pinn.summary(net)
    assert "0 (Linear)" in table and "1 (BatchNorm1d)" in table
    assert f"Total params: {64 * 15 + 15 + 2 * 15 + 15 * 10 + 10:,}" in table
    assert net.training  # restored after the summary's evaluation-mode pass
