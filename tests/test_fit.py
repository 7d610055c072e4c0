"""The trainer end to end on small problems: accuracy, stage bookkeeping, seeds, dtypes."""

import math

import pytest
import torch

import pinn
from problems import poisson1d


def poisson(n_pde=64):
    """-u'' = pi^2 sin(pi x) on [-1, 1], u(+-1) = 0, with `n_pde` collocation points."""
    return poisson1d.problem(n_pde=n_pde)


def fit(problem, stages, **kw):
    net = pinn.MLP(problem, hidden=[16, 16])
    return pinn.train(problem, net, stages=stages, log_every=50, **kw)


def test_adam_then_lbfgs_reaches_small_error_and_honours_steps():
    r = fit(poisson(), [pinn.Adam(steps=300, lr=1e-2), pinn.LBFGS(steps=120)], dtype="float64")
    assert r.error() < 2e-3
    steps = [h["step"] for h in r.history]
    assert steps == [50, 100, 150, 200, 250, 300, 350, 400, 420]
    assert [h["stage"] for h in r.history] == ["adam"] * 6 + ["lbfgs"] * 3
    assert r.history[-1]["error"] == pytest.approx(r.error())
    first_lbfgs = r.history[6]
    assert first_lbfgs["loss"] < r.history[5]["loss"]  # L-BFGS improves on Adam
    assert set(r.history[0]) >= {
        "step",
        "stage",
        "lr",
        "loss",
        "loss_pde",
        "loss_dirichlet",
        "error",
        "time",
    }


def test_same_seed_same_parameters_and_different_seed_differs():
    runs = [fit(poisson(), [pinn.Adam(steps=30)], seed=s) for s in (1, 1, 2)]
    params = [torch.cat([p.flatten() for p in r.net.parameters()]) for r in runs]
    assert torch.equal(params[0], params[1])
    assert not torch.equal(params[0], params[2])


def test_float32_and_float64_follow_the_request():
    for dtype, want in (("float32", torch.float32), ("float64", torch.float64)):
        r = fit(poisson(), [pinn.Adam(steps=5)], dtype=dtype)
        assert next(r.net.parameters()).dtype == want
        assert r.predict([[0.5]]).shape == (1, 1)


def test_inverse_problem_recovers_the_parameter():
    k = 2.0
    t = torch.linspace(0, 1, 20, dtype=torch.float64).unsqueeze(1)
    p = pinn.Problem(
        pinn.Time(0.0, 1.0),
        pde=lambda f, p: f.u_t + p.k * f.u,
        conditions=[pinn.initial(1.0, n=1), pinn.data(t, torch.exp(-k * t))],
        unknowns={"k": 0.5},
        n_pde=64,
    )
    r = fit(p, [pinn.Adam(steps=500, lr=1e-2), pinn.LBFGS(steps=200)], dtype="float64")
    assert r.unknowns["k"] == pytest.approx(k, rel=1e-3)


def test_l2_regularization_is_a_loss_term():
    r = fit(poisson(), [pinn.Adam(steps=50)], l2=1e-3)
    assert r.history[-1]["loss_l2"] > 0


def test_error_against_given_reference_data():
    r = fit(poisson(), [pinn.Adam(steps=10)])
    x = torch.linspace(-1, 1, 11).unsqueeze(1)
    assert r.error(x, torch.sin(math.pi * x)) == pytest.approx(r.error(x), rel=1e-6)
    errs = r.errors()
    assert errs["max"] > 0 and errs["l2"] == pytest.approx(r.error())


def test_error_over_some_fields():
    p = pinn.Problem(
        pinn.Interval("x", 0.0, 1.0),
        fields=("u", "v"),
        pde=lambda f: [f.u_x - 1, f.v_x],
        n_pde=8,
        exact=lambda x: torch.cat([x, 3 + 0 * x], 1),
    )
    r = pinn.train(p, pinn.MLP(p, hidden=[4]), [pinn.Adam(steps=2)])
    x = torch.linspace(0, 1, 5).unsqueeze(1)
    ref = torch.cat([x, 3 + 0 * x], 1)
    pred = r.predict(x)
    assert r.error(x, ref, fields=("v",)) == pytest.approx(
        float((pred[:, 1] - 3).norm() / ref[:, 1].norm()), rel=1e-6
    )
    assert r.error(fields="u") != r.error(fields=("u", "v"))
    with pytest.raises(ValueError, match="fields must be some of"):
        r.error(fields=("p",))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"stages": []}, TypeError, "non-empty list of pinn stages"),
        ({"stages": ["adam"]}, TypeError, "pinn stages"),
        ({"dtype": "float16"}, ValueError, "valid: float32, float64"),
        ({"device": "gpu"}, ValueError, "unknown device 'gpu'"),
        ({"l2": -1.0}, ValueError, "l2 must be"),
        ({"log_every": 0}, ValueError, "log_every"),
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_bad_training_arguments_raise_early(kwargs, error, match):
    p = poisson()
    with pytest.raises(error, match=match):
        pinn.train(p, pinn.MLP(p), **{"stages": [pinn.Adam(steps=1)], **kwargs})


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: pinn.MLP(p, activation="swish"), "unknown activation 'swish'.*tanh"),
        (lambda p: pinn.MLP(p, init="glorot"), "unknown init 'glorot'.*xavier_normal"),
        (lambda p: pinn.MLP(p, hidden=[0]), "positive widths"),
        (lambda p: pinn.Adam(steps=-1), "steps must be a positive integer"),
        (lambda p: pinn.Adam(lr=0), "lr must be a positive number"),
        (lambda p: pinn.ExponentialDecay(gamma=1.5), "gamma must be in"),
    ],
)
def test_bad_net_and_stage_arguments_raise_early(make, match):
    with pytest.raises(ValueError, match=match):
        make(poisson())


def test_a_diverging_run_stops_with_the_last_good_state():
    p = poisson()
    net = pinn.MLP(p, hidden=[8])
    with pytest.warns(UserWarning, match="halved the learning rate"):
        with pytest.raises(pinn.TrainingDiverged, match="5 failures in a row") as e:
            pinn.train(p, net, stages=[pinn.SGD(steps=200, lr=1e6)], log_every=1)
    r = e.value.result
    assert all(math.isfinite(v) for v in (h["loss"] for h in r.history))
    assert all(torch.isfinite(q).all() for q in r.net.parameters())


def test_errors_of_each_field():
    """Two fields, one predicted exactly and one off by a constant: each field's error says so."""
    p = pinn.Problem(
        pinn.Interval("x", 0.0, 1.0),
        fields=("u", "v"),
        pde=[lambda f: f.u_x - 1.0, lambda f: f.v_x],
        conditions=[pinn.dirichlet(0.0, field="u", n=1), pinn.dirichlet(1.0, field="v", n=1)],
        exact=lambda x: torch.cat([x, torch.ones_like(x)], dim=1),
    )
    net = pinn.nets.Lambda(lambda x: torch.cat([x, torch.full_like(x, 1.5)], dim=1))
    r = pinn.Result(p, net, pinn.Unknowns({}), dtype=torch.float64)
    e = r.errors()
    assert e["fields"]["u"] == {"l2": 0.0, "max": 0.0}
    assert e["fields"]["v"]["l2"] == pytest.approx(0.5) and e["fields"]["v"]["max"] == 0.5
    assert e["max"] == 0.5 and 0 < e["l2"] < 0.5
