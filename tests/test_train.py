"""The training toolbox: optimizers against their update rules, multi-stage runs, L1/L2,
mini-batches and epochs, resampling, early stopping, callbacks, and bad input."""

import io

import numpy as np
import pytest
import torch

import pinn
from pinn.training.regularization import penalties, weights
from pinn.training.sampling import Sampler
from pinn.training.trainer import _work
from problems import poisson1d

# -- optimizers: each stage against the update rule of the notes, on f(w) = sum a w^2 / 2 -------
A = np.array([1.0, 4.0, 0.25])
W0 = np.array([1.0, -2.0, 3.0])


def run_stage(stage, steps=5):
    w = torch.tensor(W0, requires_grad=True)
    opt = stage.build([w])
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (torch.tensor(A) * w**2).sum()).backward()
        opt.step()
    return w.detach().numpy()


def rule(update, steps=5):
    """Iterate `update(w, g, state, t)` (t from 1) with g the gradient a * w."""
    w, state = W0.copy(), {}
    for t in range(1, steps + 1):
        w = update(w, A * w, state, t)
    return w


def sgd(lr, momentum=0.0, nesterov=False):
    def update(w, g, s, t):  # v = mu v + g (the notes' v = gamma v + eta g, scaled by 1/eta)
        s["v"] = momentum * s.get("v", 0) + g
        return w - lr * (g + momentum * s["v"] if nesterov else s["v"])

    return update


def adagrad(lr, eps):
    def update(w, g, s, t):
        s["G"] = s.get("G", 0) + g**2
        return w - lr * g / (np.sqrt(s["G"]) + eps)

    return update


def rmsprop(lr, alpha, eps):
    def update(w, g, s, t):
        s["K"] = alpha * s.get("K", 0) + (1 - alpha) * g**2
        return w - lr * g / (np.sqrt(s["K"]) + eps)

    return update


def adam(lr, b1, b2, eps, decoupled=0.0):
    def update(w, g, s, t):
        w = w - lr * decoupled * w
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g**2
        m_hat, v_hat = s["m"] / (1 - b1**t), s["v"] / (1 - b2**t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)

    return update


@pytest.mark.parametrize(
    "stage, update",
    [
        (pinn.SGD(lr=0.1), sgd(0.1)),
        (pinn.SGD(lr=0.1, momentum=0.9), sgd(0.1, 0.9)),
        (pinn.SGD(lr=0.1, momentum=0.9, nesterov=True), sgd(0.1, 0.9, nesterov=True)),
        (pinn.Adagrad(lr=0.5), adagrad(0.5, 1e-10)),
        (pinn.RMSprop(lr=0.01, alpha=0.9), rmsprop(0.01, 0.9, 1e-8)),
        (pinn.Adam(lr=0.1), adam(0.1, 0.9, 0.999, 1e-8)),
        (pinn.AdamW(lr=0.1, weight_decay=0.5), adam(0.1, 0.9, 0.999, 1e-8, decoupled=0.5)),
    ],
    ids=["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"],
)
def test_each_optimizer_follows_its_update_rule(stage, update):
    np.testing.assert_allclose(run_stage(stage), rule(update), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("stage", [pinn.Adam(), pinn.AdamW()], ids=["adam", "adamw"])
def test_adam_is_fused_on_the_cpu_for_mixed_dtypes(stage):
    """One kernel for all parameters (the update rule is checked above); float32 weights and
    float64 unknowns in one optimizer, as pinn.train builds it."""
    params = [
        torch.ones(3, requires_grad=True),
        torch.ones(2, dtype=torch.float64).requires_grad_(),
    ]
    opt = stage.build(params)
    assert opt.defaults["fused"] is True
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step()
    assert all(float(p.detach().max()) < 1 for p in params)


def test_lbfgs_minimizes_a_quadratic_to_round_off():
    w = torch.tensor(W0, requires_grad=True)
    opt = pinn.LBFGS().build([w])
    opt.param_groups[0]["max_iter"] = 20

    def closure():
        opt.zero_grad()
        f = 0.5 * (torch.tensor(A) * w**2).sum()
        f.backward()
        return f

    opt.step(closure)
    assert np.abs(w.detach().numpy()).max() < 1e-10


def test_any_torch_optimizer_class_is_a_stage():
    stage = pinn.TorchOptimizer(
        optim=torch.optim.NAdam, steps=5, lr=0.1, kwargs={"momentum_decay": 1e-3}
    )
    w = torch.tensor(W0, requires_grad=True)
    opt = stage.build([w])
    assert isinstance(opt, torch.optim.NAdam) and opt.defaults["momentum_decay"] == 1e-3
    assert np.abs(run_stage(stage, 30)).max() < np.abs(W0).max()
    with pytest.raises(TypeError, match="torch.optim.Optimizer class such as torch.optim.NAdam"):
        pinn.TorchOptimizer(optim="nadam")
    with pytest.raises(ValueError, match="use pinn.LBFGS"):
        pinn.TorchOptimizer(optim=torch.optim.LBFGS)


# -- training runs ---------------------------------------------------------------------------
def poisson(n_pde=32):
    """-u'' = pi^2 sin(pi x) on [-1, 1], u(+-1) = 0, with `n_pde` collocation points."""
    return poisson1d.problem(n_pde=n_pde)


def regression(n=20):
    x = torch.linspace(-1, 1, n, dtype=torch.float64).unsqueeze(1)
    return pinn.Supervised(x, torch.sin(3 * x))


def net(p, **kw):
    return pinn.MLP(p, hidden=[8], **kw)


@pytest.mark.parametrize(
    "stage",
    [
        pinn.SGD(steps=30, lr=0.05),
        pinn.SGD(steps=30, lr=0.05, momentum=0.9, nesterov=True),
        pinn.Adagrad(steps=30, lr=0.05),
        pinn.RMSprop(steps=30, lr=0.01),
        pinn.Adam(steps=30, lr=0.01),
        pinn.AdamW(steps=30, lr=0.01),
        pinn.LBFGS(steps=10),
        pinn.TorchOptimizer(optim=torch.optim.NAdam, steps=30, lr=0.01),
    ],
    ids=lambda s: s.name,
)
def test_every_optimizer_lowers_the_loss_in_train(stage):
    p = regression()
    r = pinn.train(p, net(p), stages=[stage], log_every=1)
    assert r.history[-1]["loss"] < 0.7 * r.history[0]["loss"]
    assert {h["stage"] for h in r.history} == {stage.name}


def test_three_stage_run_marks_the_stage_boundaries():
    p = poisson()
    stages = [
        pinn.SGD(steps=20, lr=1e-3, momentum=0.9),
        pinn.Adam(steps=30, lr=1e-2),
        pinn.LBFGS(steps=20),
    ]
    r = pinn.train(p, pinn.MLP(p, hidden=[16, 16]), stages=stages, log_every=10, dtype="float64")
    assert [h["stage_index"] for h in r.history] == [0, 0, 1, 1, 1, 2, 2]
    assert [h["step"] for h in r.history] == [10, 20, 30, 40, 50, 60, 70]
    assert r.info["stages"] == [
        {"name": "sgd", "first_step": 1, "last_step": 20},
        {"name": "adam", "first_step": 21, "last_step": 50},
        {"name": "lbfgs", "first_step": 51, "last_step": 70},
    ]
    assert r.history[-1]["loss"] < r.history[4]["loss"] < r.history[1]["loss"]


def _lbfgs_stopping_short(monkeypatch, iterations):
    """torch's L-BFGS returning after `iterations(call)` iterations, as it does on a direction
    that does not descend (call counts from 0)."""
    step, calls = torch.optim.LBFGS.step, []

    def short(self, closure):
        group, wanted = self.param_groups[0], self.param_groups[0]["max_iter"]
        group["max_iter"] = min(wanted, iterations(len(calls)))
        calls.append(group["max_iter"])
        try:
            return step(self, closure)
        finally:
            group["max_iter"] = wanted

    monkeypatch.setattr(torch.optim.LBFGS, "step", short)
    return calls


def test_lbfgs_starts_afresh_when_its_memory_gives_no_descent_direction(monkeypatch):
    calls = _lbfgs_stopping_short(monkeypatch, lambda call: 3 if call == 0 else 10**6)
    p = poisson()
    r = pinn.train(p, pinn.MLP(p, hidden=[8]), stages=[pinn.LBFGS(steps=20)], log_every=10)
    assert calls[:2] == [3, 7] and r.info["lbfgs_restarts"] == 1
    assert r.info["stages"] == [{"name": "lbfgs", "first_step": 1, "last_step": 20}]
    assert "notes" not in r.info


def test_lbfgs_ends_when_even_the_gradient_gives_no_descent(monkeypatch):
    """Short from a built-up memory: restart; short again right after the restart: the end."""
    calls = _lbfgs_stopping_short(monkeypatch, lambda call: [10, 4, 1][min(call, 2)])
    p = poisson()
    r = pinn.train(p, pinn.MLP(p, hidden=[8]), stages=[pinn.LBFGS(steps=40)], log_every=10)
    assert calls == [10, 4, 1] and r.info["lbfgs_restarts"] == 1
    assert r.info["stages"][0]["last_step"] == 15
    assert r.info["notes"] == [
        "lbfgs stage ended after 15 of 40 iterations: no descent direction left"
    ]


# -- regularization --------------------------------------------------------------------------
def test_l1_and_l2_gradients_are_alpha_sign_w_and_alpha_w():
    p = regression()
    m = net(p)
    torch.nn.init.normal_(m.linears[0].bias)
    for name, alpha, want in (
        ("l2", 0.3, lambda w: 0.3 * w),
        ("l1", 0.2, lambda w: 0.2 * w.sign()),
    ):
        m.zero_grad()
        penalties(weights(m), **{"l1": 0.0, "l2": 0.0, name: alpha})[name].backward()
        for layer in m.linears:
            torch.testing.assert_close(layer.weight.grad, want(layer.weight.detach()))
            assert layer.bias.grad is None  # biases are not penalized


def test_l2_works_under_lbfgs_and_shrinks_the_weights():
    p = regression()
    norms = []
    for l2 in (0.0, 1e-1):
        r = pinn.train(p, net(p), stages=[pinn.LBFGS(steps=30)], l2=l2, log_every=10)
        norms.append(sum(w.square().sum() for w in weights(r.net)))
        assert ("loss_l2" in r.history[-1]) == bool(l2)
    assert norms[1] < 0.5 * norms[0]


def test_l1_is_a_loss_term():
    p = regression()
    r = pinn.train(p, net(p), stages=[pinn.Adam(steps=3)], l1=1e-3, log_every=1)
    assert r.history[-1]["loss_l1"] == pytest.approx(
        1e-3 * float(sum(w.detach().abs().sum() for w in weights(r.net))), rel=0.05
    )


def test_adamw_decays_the_weights_apart_from_the_gradient():
    w = torch.tensor(W0, requires_grad=True)
    opt = pinn.AdamW(lr=0.1, weight_decay=0.5).build([w])
    (0 * w).sum().backward()  # zero gradient: only the decay acts
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), W0 * (1 - 0.1 * 0.5))


# -- mini-batches, epochs, resampling ------------------------------------------------------------
def rows(t):
    return sorted(map(tuple, t.tolist()))


def test_each_epoch_visits_every_point_once_and_reshuffles():
    p = pinn.Problem(
        pinn.Interval("x", 0.0, 1.0),
        pde=lambda f: f.u_xx,
        conditions=[pinn.dirichlet(0.0, n=2)],
        n_pde=50,
    )
    data = Sampler(
        p,
        batch_size=16,
        strategy=None,
        seed=0,
        dtype=torch.float64,
        device=torch.device("cpu"),
    )
    assert data.per_epoch == 4  # ceil(50 / 16)
    orders = []
    for epoch in (1, 2):
        batches = [data.next() for _ in range(4)]
        assert data.epoch == epoch and data.iteration == 4
        pde = torch.cat([b["pde"].x for b in batches])
        assert rows(pde) == rows(data.points["pde"].x)  # all 50 points, none twice
        assert max(len(b["pde"]) for b in batches) <= 16
        assert all(len(b["dirichlet"]) == 2 for b in batches)  # smaller than 4: whole
        orders.append(pde)
    assert not torch.equal(orders[0], orders[1])


def test_resampling_draws_new_collocation_points():
    data = Sampler(
        poisson(),
        batch_size=None,
        strategy=pinn.Resample(every=2),
        seed=0,
        dtype=torch.float64,
        device=torch.device("cpu"),
    )
    seen = [data.next()["pde"].x for _ in range(5)]
    assert torch.equal(seen[0], seen[1])
    assert not torch.equal(seen[1], seen[2]) and torch.equal(seen[2], seen[3])
    assert data.epoch == 5


class Spy(pinn.Supervised):
    """Records the batch size of every loss evaluation."""

    sizes: list

    def residuals(self, net, batch, unknowns=None, engine=None):
        self.sizes.append(len(batch["data"]))
        return super().residuals(net, batch, unknowns, engine)


def test_history_counts_epochs_and_iterations_and_lbfgs_runs_full_batch():
    x = torch.linspace(-1, 1, 20, dtype=torch.float64).unsqueeze(1)
    p = Spy(x, x**2)
    p.sizes = []
    stages = [pinn.Adam(steps=10), pinn.LBFGS(steps=3)]
    r = pinn.train(p, net(p), stages=stages, batch_size=5, log_every=1)
    assert r.info["batches_per_epoch"] == 4
    adam = [h for h in r.history if h["stage"] == "adam"]
    assert [(h["epoch"], h["iteration"]) for h in adam] == [
        (1 + k // 4, 1 + k % 4) for k in range(10)
    ]
    assert p.sizes[:10] == [5] * 10 and set(p.sizes[10:]) == {20}
    lbfgs = [h for h in r.history if h["stage"] == "lbfgs"]
    assert lbfgs[-1]["epoch"] == 3 + 3  # three epochs of Adam begun, then one per iteration


def test_the_run_length_sets_the_default_engine(monkeypatch):
    p = poisson1d.problem(n_pde=30)  # 30 + 2 points, in 4 batches of at most 8
    stages = [pinn.Adam(steps=10), pinn.LBFGS(steps=3)]
    data = Sampler(p, 8, None, 0, torch.float64, torch.device("cpu"))
    assert _work(stages, data) == 10 * 8 + 3 * 32
    seen = []
    monkeypatch.setattr(
        pinn.engines, "resolve", lambda name, net, work, derivatives: seen.append(work)
    )
    r = pinn.train(p, net(p), stages=stages, batch_size=8, dtype="float64")
    assert seen == [10 * 8 + 3 * 32] and r.info["engine"] == "reverse"
    monkeypatch.undo()
    assert pinn.train(p, net(p), stages=stages[:1]).info["engine"] == "taylor"


def test_a_restored_sampler_continues_with_the_same_batches():
    def sampler():
        return Sampler(
            poisson(40),
            batch_size=8,
            strategy=pinn.Resample(every=7),
            seed=0,
            dtype=torch.float64,
            device=torch.device("cpu"),
        )

    a = sampler()
    for _ in range(6):
        a.next()
    state = a.state_dict()
    b = sampler()
    b.load_state_dict(state)
    for _ in range(12):  # through an epoch end and a resampling
        x, y = a.next(), b.next()
        assert all(torch.equal(x[k].x, y[k].x) for k in x)
    assert (a.epoch, a.iteration, a.steps) == (b.epoch, b.iteration, b.steps)


def test_a_mini_batch_record_logs_the_mean_loss_since_the_last_record():
    p = regression()
    seen = []
    r = pinn.train(
        p,
        net(p),
        stages=[pinn.Adam(steps=8)],
        batch_size=5,
        log_every=4,
        on_step=lambda info: seen.append(float(info["loss"])),
    )
    assert [h["loss"] for h in r.history] == pytest.approx(
        [sum(seen[:4]) / 4, sum(seen[4:]) / 4], rel=1e-6
    )


def test_batches_are_reproducible_from_the_seed():
    p = poisson(64)
    runs = [
        pinn.train(p, net(p), stages=[pinn.Adam(steps=8)], batch_size=16, seed=3) for _ in range(2)
    ]
    assert torch.equal(runs[0].net.linears[0].weight, runs[1].net.linears[0].weight)


# -- validation and early stopping ---------------------------------------------------------------
def diverging(x_val_target=-10.0):
    """Training pulls the output towards +1 while the held-out values are -10, so the
    validation loss rises from the first check on."""
    x = torch.linspace(-1, 1, 20, dtype=torch.float64).unsqueeze(1)
    p = pinn.Supervised(x, torch.ones_like(x))
    return p, (x, torch.full_like(x, x_val_target))


def test_early_stopping_stops_after_patience_epochs_and_restores_the_best():
    p, held_out = diverging()
    r = pinn.train(
        p,
        net(p),
        stages=[pinn.SGD(steps=100, lr=0.05)],
        batch_size=5,
        log_every=4,
        validation=held_out,
        early_stopping=pinn.EarlyStopping(2),
        dtype="float64",
    )
    assert [h["epoch"] for h in r.history] == [1, 2, 3]  # best at epoch 1, two worse: stop
    losses = [h["val_loss"] for h in r.history]
    assert losses[0] < losses[1] < losses[2]
    assert r.info["early_stopping"] == {
        "stopped_at": 12,
        "best_step": 4,
        "restored_step": 4,
        "best_val_loss": losses[0],
    }
    x, y = held_out
    assert float(torch.nn.functional.mse_loss(r.predict(x), y)) == pytest.approx(losses[0])


def test_min_delta_counts_small_gains_as_no_gain():
    x = torch.linspace(-1, 1, 20, dtype=torch.float64).unsqueeze(1)
    p = pinn.Supervised(x, torch.sin(3 * x))
    kw = {"stages": [pinn.Adam(steps=50, lr=1e-3)], "log_every": 1, "validation": (x, p.y)}
    slow = pinn.train(p, net(p), early_stopping=pinn.EarlyStopping(3, min_delta=1.0), **kw)
    assert len(slow.history) == 4  # no gain is ever larger than 1.0
    assert len(pinn.train(p, net(p), early_stopping=pinn.EarlyStopping(3), **kw).history) == 50


def test_validation_points_alone_use_the_exact_solution():
    p = poisson()
    r = pinn.train(p, net(p), stages=[pinn.Adam(steps=2)], validation=64, log_every=1)
    assert all(h["val_loss"] > 0 for h in r.history)


# -- callbacks ---------------------------------------------------------------------------------
def test_callbacks_see_every_step_and_can_stop_the_run():
    p = regression()
    steps, ends = [], []

    def on_step(info):
        steps.append((info["step"], info["stage"], float(info["loss"]) > 0))
        return info["step"] == 7

    r = pinn.train(
        p,
        net(p),
        stages=[pinn.Adam(steps=5), pinn.SGD(steps=5), pinn.Adam(steps=5)],
        log_every=100,
        on_step=on_step,
        on_stage_end=lambda i, s, res: ends.append((i, s.name, len(res.history))),
    )
    assert steps == [(k, "adam" if k <= 5 else "sgd", True) for k in range(1, 8)]
    assert ends == [(0, "adam", 1), (1, "sgd", 2)]
    assert r.history[-1]["step"] == 7


# -- checkpoints -------------------------------------------------------------------------------
class Keep:
    """A checkpoint writer that keeps, in memory, the state written after step `at`."""

    def __init__(self, at):
        self.at, self.state = at, None

    def due(self, step):
        return step == self.at

    def save(self, state, stage_end=None):
        if stage_end is None and state["step"] == self.at:  # not the final checkpoint
            buffer = io.BytesIO()
            torch.save(state, buffer)  # plain data: loads with weights_only=True
            buffer.seek(0)
            self.state = torch.load(buffer, weights_only=True)


@pytest.mark.parametrize("at", [6, 13, 24])  # mid-epoch in SGD, in Adam; in L-BFGS
def test_resuming_from_a_checkpoint_equals_the_uninterrupted_run(at):
    p = poisson(24)
    stages = [
        pinn.SGD(steps=10, lr=1e-3, momentum=0.9, decay=pinn.CosineDecay()),
        pinn.Adam(steps=10, lr=1e-2, decay=pinn.ReduceOnPlateau(patience=1)),
        pinn.LBFGS(steps=6),
    ]
    kw = {
        "stages": stages,
        "batch_size": 5,
        "log_every": 3,
        "dtype": "float64",
        "validation": 16,
        "l2": 1e-4,
    }
    whole = pinn.train(p, net(p, dropout=0.1), **kw)
    keep = Keep(at)
    pinn.train(p, net(p, dropout=0.1), checkpoints=keep, **kw)
    assert keep.state["step"] == at
    resumed = pinn.train(p, net(p, dropout=0.1), resume=keep.state, **kw)
    for a, b in zip(whole.net.parameters(), resumed.net.parameters()):
        assert torch.equal(a, b)
    drop_time = [{k: v for k, v in h.items() if k != "time"} for h in whole.history]
    assert drop_time == [{k: v for k, v in h.items() if k != "time"} for h in resumed.history]
    assert resumed.info["stages"] == whole.info["stages"]


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"batch_size": 21},
            ValueError,
            r"batch_size=21 is larger than the largest point set \('data', 20 points\); "
            r"valid: 1 to 20, or None",
        ),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer or None, got 0"),
        ({"resample_every": -2}, ValueError, "resample_every must be a positive integer"),
        (
            {"early_stopping": pinn.EarlyStopping()},
            ValueError,
            "early_stopping needs a validation set",
        ),
        ({"validation": 10}, ValueError, "without an exact solution give a pair"),
        ({"early_stopping": 5, "validation": 10}, TypeError, "pinn.EarlyStopping"),
    ],
)
def test_bad_training_options_raise_before_training(kwargs, error, match):
    p = regression()
    with pytest.raises(error, match=match):
        pinn.train(p, net(p), stages=[pinn.Adam(steps=1)], **kwargs)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: pinn.Adam(lr=-1e-3), "Adam: lr must be a positive number, got -0.001"),
        (lambda: pinn.SGD(steps=-5), "SGD: steps must be a positive integer, got -5"),
        (lambda: pinn.LBFGS(steps=0), "LBFGS: steps must be a positive integer, got 0"),
        (lambda: pinn.SGD(nesterov=True), "nesterov=True needs momentum > 0"),
        (lambda: pinn.SGD(momentum=1.5), r"momentum must be in \[0, 1\), got 1.5"),
        (lambda: pinn.Adam(betas=(0.9, 1.0)), r"each of betas must be in \[0, 1\), got 1.0"),
        (lambda: pinn.RMSprop(alpha=-0.1), r"alpha must be in \[0, 1\), got -0.1"),
        (lambda: pinn.EarlyStopping(patience=0), "patience must be a positive integer, got 0"),
        (lambda: pinn.EarlyStopping(min_delta=-1), "min_delta must be a number >= 0, got -1"),
    ],
)
def test_bad_stage_arguments_name_the_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_seed_fixes_any_networks_initialization_and_leaves_the_global_rng_alone():
    """nn.Sequential has no reset_parameters of its own: its layers are reset from the seed."""
    p = poisson(16)

    def sequential():
        torch.manual_seed(int(torch.randint(1000, ())))  # a different draw at construction
        return torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))

    before = torch.get_rng_state()
    runs = [pinn.train(p, sequential(), stages=[pinn.Adam(steps=5)], seed=3) for _ in range(2)]
    after = torch.get_rng_state()
    first, second = ([q.detach() for q in r.net.parameters()] for r in runs)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    torch.set_rng_state(before)
    sequential(), sequential()
    assert torch.equal(after, torch.get_rng_state())  # only the constructions drew from it


def test_the_default_history_draws_every_stage():
    """log_every=None: about 100 records over the run (one every 10 to 100 steps), so a short
    L-BFGS stage after a long Adam stage still gets a curve (one record per 100 steps gave
    Adam ten points and L-BFGS one)."""
    stages = [pinn.Adam(steps=1000, lr=1e-2), pinn.LBFGS(steps=200)]
    assert pinn.training.trainer.log_interval(stages) == 12
    assert pinn.training.trainer.log_interval(stages[:1]) == 10  # at least 10 steps apart
    short = [pinn.Adam(steps=300, lr=1e-2), pinn.LBFGS(steps=60)]
    r = pinn.train(poisson(16), net(poisson(16)), stages=short, dtype="float64")
    per_stage = [sum(h["stage"] == s.name for h in r.history) for s in short]
    assert r.info["log_every"] == 10 and per_stage[0] == 30 and per_stage[1] >= 3, per_stage
