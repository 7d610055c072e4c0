"""Recipes as JSON configs and `--set key=value` overrides: round trips and readable errors."""

import json

import pytest
import torch

import pinn
from pinn.config import apply_overrides, config_to_recipe, recipe_to_config

RECIPE = {
    "net": {"hidden": [32] * 3, "activation": "tanh", "dropout": 0.0},
    "stages": [
        pinn.SGD(
            steps=100,
            lr=1e-2,
            momentum=0.9,
            nesterov=True,
            decay=pinn.StepDecay(milestones=(50, 80), gamma=0.5),
        ),
        pinn.Adam(steps=2000, lr=1e-3, decay=pinn.ExponentialDecay(gamma=0.9, every=500)),
        pinn.TorchOptimizer(optim=torch.optim.NAdam, steps=10, kwargs={"momentum_decay": 1e-3}),
        pinn.LBFGS(steps=1000),
    ],
    "early_stopping": pinn.EarlyStopping(patience=5),
    "dtype": "float32",
    "seed": 0,
}


def config():
    return {**recipe_to_config(RECIPE), "problem": {"n_pde": 2000, "n_bc": 400}}


def test_recipe_to_config_is_json_and_inverts():
    c = config()
    assert json.loads(json.dumps(c)) == c
    assert c["stages"][1] == {
        "type": "adam",
        "steps": 2000,
        "lr": 1e-3,
        "betas": [0.9, 0.999],
        "eps": 1e-8,
        "weight_decay": 0.0,
        "decay": {"type": "exponential", "gamma": 0.9, "every": 500},
    }
    assert c["stages"][2]["type"] == "NAdam"
    back = config_to_recipe(c)
    assert back["stages"] == RECIPE["stages"]
    assert back["early_stopping"] == RECIPE["early_stopping"]
    assert back["problem"] == {"n_pde": 2000, "n_bc": 400}


@pytest.mark.parametrize(
    "kind, cls",
    [
        ("sgd", pinn.SGD),
        ("adagrad", pinn.Adagrad),
        ("rmsprop", pinn.RMSprop),
        ("adam", pinn.Adam),
        ("adamw", pinn.AdamW),
        ("lbfgs", pinn.LBFGS),
    ],
)
def test_every_optimizer_and_schedule_is_reachable_by_name(kind, cls):
    for schedule in ("constant", "step", "exponential", "power", "cyclic", "cosine", "plateau"):
        stage = config_to_recipe({"stages": [{"type": kind, "decay": {"type": schedule}}]})
        assert type(stage["stages"][0]) is cls
        assert stage["stages"][0].decay.name == schedule


def test_overrides_of_the_documented_forms():
    c = apply_overrides(
        config(),
        [
            "net.hidden=[16,16]",
            "stages.1.lr=5e-4",
            "stages.3.steps=500",
            "stages.1.decay.gamma=0.5",
            "l2=1e-4",
            "batch_size=256",
            "problem.n_pde=4000",
            "net.activation=sin",
            "stages.0.decay=null",
            "early_stopping.patience=8",
            "validation=1000",
            "stages.2.kwargs.momentum_decay=0.01",
            "net.dropout=[0.1, 0, 0.2]",
        ],
    )
    r = config_to_recipe(c)
    assert c["net"]["hidden"] == [16, 16] and c["net"]["activation"] == "sin"
    assert r["stages"][1].lr == 5e-4 and r["stages"][1].decay.gamma == 0.5
    assert r["stages"][3].steps == 500 and r["stages"][0].decay is None
    assert (r["l2"], r["batch_size"], r["validation"]) == (1e-4, 256, 1000)
    assert r["problem"]["n_pde"] == 4000 and r["early_stopping"].patience == 8
    assert r["stages"][2].kwargs == {"momentum_decay": 0.01}
    assert config() == {**recipe_to_config(RECIPE), "problem": {"n_pde": 2000, "n_bc": 400}}


def test_switching_a_type_keeps_the_shared_fields_and_drops_the_others():
    c = apply_overrides(config(), ["stages.3.type=rmsprop", "stages.1.decay.type=power"])
    r = config_to_recipe(c)
    assert r["stages"][3] == pinn.RMSprop(steps=1000, lr=1.0)  # history_size etc. dropped
    assert r["stages"][1].decay == pinn.PowerDecay()
    c = apply_overrides(config(), ['stages.3={"type": "rmsprop", "steps": 50, "lr": 1e-3}'])
    assert config_to_recipe(c)["stages"][3] == pinn.RMSprop(steps=50, lr=1e-3)


@pytest.mark.parametrize(
    "assignment, match",
    [
        ("stages.0.lr", r"malformed assignment 'stages.0.lr'; expected key=value"),
        ("stages..lr=1", "malformed assignment"),
        (
            "stages.0.type=adamx",
            "unknown optimizer type 'adamx'; valid: adam, adamw, sgd, adagrad, rmsprop, lbfgs",
        ),
        (
            "stages.1.decay.type=linear",
            "unknown schedule type 'linear'; valid: constant, step, exponential, power, cyclic, "
            "cosine, plateau",
        ),
        ("stages.1.lr=-1", "stages.1: Adam: lr must be a positive number, got -1"),
        ("stages.1.steps=-10", "stages.1: Adam: steps must be a positive integer, got -10"),
        ("stages.1.lr=fast", 'stages.1.lr: expected a number, got "fast"'),
        ("stages.1.steps=1.5", "stages.1.steps: expected an integer, got 1.5"),
        ("stages.7.lr=1", r"stages.7: no such entry; stages has 4 entries \(indices 0 to 3\)"),
        ("stages.1.momentum=0.9", "unknown key 'momentum'; valid keys: betas, decay, eps, lr"),
        ("nett.hidden=[3]", "unknown key 'nett'; valid keys: batch_size, device"),
        (
            "net.widths=[3]",
            "unknown key 'widths'; valid keys: activation, arch, batch_norm, dropout",
        ),
        ("problem.n_pdf=10", "unknown key 'n_pdf'; valid keys: n_bc, n_pde"),
        ("problem.n_pde=many", 'problem.n_pde: expected an integer, got "many"'),
        ("batch_size=[1]", "batch_size: expected an integer, got \\[1\\]"),
        ("net.batch_norm=yes", 'net.batch_norm: expected true or false, got "yes"'),
        ("stages.3.decay.gamma=0.5", "stages.3.decay is null; set the whole of it first"),
        ("l2.value=1", "l2 is a value, not a section"),
        ("early_stopping.patience=0", "patience must be a positive integer, got 0"),
    ],
)
def test_bad_overrides_raise_one_readable_sentence(assignment, match):
    with pytest.raises(ValueError, match=match):
        apply_overrides(config(), [assignment])


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"stages": [{"type": "nadamw"}]}, "stages.0: unknown optimizer type 'nadamw'"),
        ({"stages": [{"steps": 5}]}, "stages.0: unknown optimizer type None"),
        (
            {"stages": [{"type": "sgd", "decay": {"type": "exp"}}]},
            "stages.0.decay: unknown schedule type 'exp'; valid: constant",
        ),
        (
            {"stages": [{"type": "sgd", "betas": [0.9, 0.9]}]},
            "stages.0: unknown key 'betas' of sgd; valid keys: decay, lr, momentum, nesterov",
        ),
        ({"stages": []}, "stages must be a non-empty list"),
        ({"optimizer": "adam"}, "config: unknown key 'optimizer'; valid keys:"),
        ({"net": {"depth": 3}}, "net: unknown key 'depth'; valid keys: activation"),
    ],
)
def test_bad_configs_name_the_key_and_the_valid_choices(bad, match):
    with pytest.raises(ValueError, match=match):
        config_to_recipe(bad)


def test_a_config_trains():
    c = apply_overrides(
        {"net": {"hidden": [8]}, "stages": [{"type": "adam", "steps": 5}]},
        ["stages.0.lr=0.01", "batch_size=5", "l1=1e-4"],
    )
    r = config_to_recipe(c)
    x = torch.linspace(-1, 1, 20).unsqueeze(1)
    p = pinn.Supervised(x, x**2)
    result = pinn.train(p, pinn.MLP(p, **r.pop("net")), **r)
    assert result.history[-1]["step"] == 5 and "loss_l1" in result.history[-1]


def test_resample_has_a_config_form():
    from pinn.config import config_to_recipe, recipe_to_config

    config = recipe_to_config({"stages": [pinn.Adam()], "sampling": pinn.Resample(every=5)})
    assert config["sampling"] == {"type": "resample", "every": 5}
    assert config_to_recipe(config)["sampling"] == pinn.Resample(every=5)
