"""Reliability: a non-finite loss or gradient is caught at its step and recovered from, the
same seed gives the same bits, a problem too large for memory fails with advice, and bad input
fails early with a message that names the bad value and what is valid."""

import contextlib
import io
import math
import signal
import warnings

import numpy as np
import pytest
import torch
from analytic import poisson1d, poisson_residual
from hypothesis import given, settings
from hypothesis import strategies as st

import pinn
from pinn import checkpoint, cli, runs

LINE = pinn.Interval("x", -1.0, 1.0)


class Poison:
    """The residual of -u'' = pi^2 sin(pi x), but NaN at evaluation number `at` (and at every
    later one if `forever`), counting from `arm()`: under first-order stages evaluation k is
    step k."""

    def __init__(self, at, forever=False):
        self.at, self.forever, self.calls = at, forever, None

    def arm(self):
        self.calls = 0

    def __call__(self, f):
        r = poisson_residual(f)
        if self.calls is None:  # the problem's check at construction
            return r
        self.calls += 1
        hit = self.calls == self.at or (self.forever and self.calls > self.at)
        return r * math.nan if hit else r


def poisson(pde=poisson_residual, n_pde=16):
    p = poisson1d(n_pde=n_pde, pde=pde)
    if isinstance(pde, Poison):
        pde.arm()
    return p


def params(result) -> torch.Tensor:
    return torch.cat([q.detach().flatten() for q in result.net.parameters()])


def train(p, stages, **kw):
    """Train a small net, collecting the warnings instead of showing them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = pinn.train(p, pinn.MLP(p, hidden=[8]), stages=stages, **kw)
    r.warnings = [str(w.message) for w in caught]
    return r


class Memory:
    """A checkpoint writer that keeps every checkpoint in memory (through torch.save, so each
    is a copy), by step; `at` limits it to some steps."""

    def __init__(self, at=None):
        self.at, self.states = at, {}

    def due(self, step):
        return self.at is None or step in self.at

    def save(self, state, stage_end=None):
        if stage_end is None and (self.at is None or state["step"] in self.at):
            buffer = io.BytesIO()
            torch.save(state, buffer)
            buffer.seek(0)
            self.states[state["step"]] = torch.load(buffer, weights_only=True)


def same(a, b) -> bool:
    """Equal nested structures, tensors bit for bit."""
    if torch.is_tensor(a):
        return torch.is_tensor(b) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def without_time(history):
    return [{k: v for k, v in h.items() if k != "time"} for h in history]


# -- a non-finite loss or gradient: caught at its step, recovered from ---------------------------
@pytest.mark.parametrize(
    "stage",
    [pinn.Adam(steps=20, lr=1e-2), pinn.SGD(steps=20, lr=1e-2, momentum=0.9), pinn.LBFGS(steps=20)],
    ids=lambda s: s.name,
)
def test_a_nan_loss_is_caught_at_its_step_and_training_goes_on(stage):
    p = poisson(Poison(at=7))
    r = train(p, [stage], log_every=5)
    (event,) = r.info["nonfinite"]
    assert event["stage"] == stage.name
    if isinstance(stage, pinn.LBFGS):  # evaluation 7 falls in the first chunk of 5 iterations
        assert 1 <= event["step"] <= 5 and event["restored_step"] == 0
        assert event["action"] == "restarted L-BFGS with an empty memory"
        steps = [h["step"] for h in r.history]  # none for the failed chunk, which ends at
        assert steps[-3:] == [10, 15, 20] and min(steps) > event["step"]  # the NaN trial
    else:  # the state of step 5 had a finite loss at step 6: it is the one to go back to
        assert (event["step"], event["restored_step"]) == (7, 5)
        assert event["action"] == f"halved the learning rate to {stage.lr / 2:.3g}"
        assert [h["step"] for h in r.history] == [5, 15, 20]  # none for the failed interval
        assert [h["lr"] for h in r.history] == [stage.lr] + [stage.lr / 2] * 2
    assert all(math.isfinite(h["loss"]) for h in r.history)
    assert r.history[-1]["loss"] < r.history[0]["loss"]
    assert torch.isfinite(params(r)).all()
    assert len(r.warnings) == 1 and "(failure 1 of at most 5 in a row)" in r.warnings[0]


def test_recovery_restores_parameters_and_optimizer_state_and_no_bad_checkpoint_is_written():
    p = poisson(Poison(at=7))
    saved = Memory()
    train(p, [pinn.Adam(steps=12, lr=1e-2)], log_every=5, checkpoints=saved)
    assert sorted(saved.states) == [1, 2, 3, 4, 5, 6, 10, 11, 12]  # none while 7..9 were bad
    good, back = saved.states[5], saved.states[10]
    assert same(back["model"], good["model"])
    assert same(back["optimizer"]["state"], good["optimizer"]["state"])  # Adam's moments, step
    assert back["optimizer"]["param_groups"][0]["lr"] == 5e-3
    assert back["recovery"]["failures"] == 1 and back["info"]["nonfinite"][0]["step"] == 7


def test_recovery_also_takes_the_sampler_and_the_weighting_back():
    """RBA's weights and the resampled points of the bad steps are dropped with them."""
    p = poisson(Poison(at=7))
    saved = Memory()
    kw = {"weighting": pinn.RBA(), "sampling": pinn.Resample(every=2), "checkpoints": saved}
    train(p, [pinn.Adam(steps=12, lr=1e-2)], log_every=5, **kw)
    good, back = saved.states[5], saved.states[10]
    assert not same(saved.states[6]["weighting"], good["weighting"])  # step 6 moved them
    assert not same(saved.states[6]["sampler"], good["sampler"])  # its count of steps
    assert not same(saved.states[12]["sampler"]["points"], good["sampler"]["points"])
    assert same(back["weighting"], good["weighting"])
    assert same(back["sampler"], good["sampler"])


def test_a_nan_gradient_under_a_finite_loss_is_caught_at_its_step():
    p = poisson()
    losses = []
    net = pinn.MLP(p, hidden=[8])
    backward = iter(range(1, 100))
    net.linears[0].weight.register_hook(lambda g: g * math.nan if next(backward) == 4 else g)
    with pytest.warns(UserWarning, match="non-finite loss or gradient at step 4"):
        r = pinn.train(
            p,
            net,
            stages=[pinn.Adam(steps=10)],
            log_every=5,
            on_step=lambda info: losses.append(float(info["loss"])),
        )
    assert math.isfinite(losses[3]) and math.isnan(losses[4])  # the loss went bad at step 5
    assert r.info["nonfinite"][0]["step"] == 4  # but the gradient of step 4 already was


def test_k_failures_in_a_row_stop_with_a_clear_message_and_keep_the_last_good_checkpoint(
    tmp_path,
):
    p = poisson(Poison(at=7, forever=True))
    saver = checkpoint.Checkpoints(tmp_path, every=1)
    with pytest.warns(UserWarning, match="halved the learning rate"):
        with pytest.raises(pinn.TrainingDiverged) as e:
            pinn.train(
                p,
                pinn.MLP(p, hidden=[8]),
                stages=[pinn.Adam(steps=50, lr=1e-2)],
                log_every=5,
                max_failures=3,
                checkpoints=saver,
            )
    message = str(e.value)
    for words in (
        "training diverged: adam stage: non-finite loss or gradient at step 16",
        "restored the state of step 5 and stopped after 3 failures in a row (max_failures=3)",
        "the last good checkpoint is kept",
        "Lower the learning rate",
    ):
        assert words in message, message
    assert isinstance(e.value, RuntimeError)
    result = e.value.result
    assert [ev["action"] for ev in result.info["nonfinite"]] == [
        "halved the learning rate to 0.005",
        "halved the learning rate to 0.0025",
        "stopped after 3 failures in a row",
    ]
    last = checkpoint.load(tmp_path / checkpoint.LAST)
    assert last["step"] == 15  # written after the second recovery, with step 5's parameters
    assert same(last["model"]["net"], result.net.state_dict())
    assert torch.isfinite(params(result)).all()


def test_a_diverged_run_directory_keeps_its_history_and_last_good_checkpoint(tmp_path):
    recipe = {"net": {"hidden": [8]}, "stages": [pinn.Adam(steps=40)], "log_every": 5}
    with pytest.warns(UserWarning), pytest.raises(pinn.TrainingDiverged):
        runs.start(
            poisson(Poison(at=7, forever=True)), recipe, tmp_path / "run", every=5, quiet=True
        )
    last = checkpoint.load(tmp_path / "run" / "checkpoints" / "last.pt")
    assert last["step"] == 25 and last["recovery"]["good"]["step"] == 5  # after the 4th recovery
    assert same(last["model"], last["recovery"]["good"]["model"])
    lines = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith("5,")  # the one good record
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_the_command_line_reports_a_diverged_run_in_one_line_with_status_1(monkeypatch, capsys):
    def diverge(args):
        raise pinn.TrainingDiverged("training diverged: adam stage:\n at step 7", None)

    monkeypatch.setattr(cli, "cmd_list", diverge)
    assert cli.main(["list"]) == 1
    assert capsys.readouterr().err == "pinn list: training diverged: adam stage: at step 7\n"


@contextlib.contextmanager
def deadline(seconds):
    """Fail the test, instead of hanging it, if the block runs longer than `seconds`."""

    def expired(signum, frame):
        raise AssertionError(f"still running after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_lbfgs_on_nan_trial_points_ends_within_seconds():
    """Every evaluation NaN from the third on: the line search used to evaluate NaN trial points
    without end; each NaN trial now ends its step, and five in a row end the run."""
    with deadline(60), pytest.raises(pinn.TrainingDiverged, match="5 failures in a row"):
        train(poisson(Poison(at=3, forever=True)), [pinn.LBFGS(steps=100)], dtype="float64")


def blowing_up():
    """Fitting y = 3x: SGD at these rates diverges to finite losses of 1e19 and more."""
    x = torch.linspace(-1, 1, 32, dtype=torch.float64).unsqueeze(1)
    return pinn.Supervised(x, 3 * x)


def test_a_finite_loss_that_blows_up_is_recovered_from_like_a_nan():
    r = train(blowing_up(), [pinn.SGD(steps=90, lr=2.0)], dtype="float64", log_every=10)
    first = r.info["nonfinite"][0]
    assert (first["step"], first["restored_step"]) == (10, 0)
    assert first["action"] == "halved the learning rate to 1"
    assert "over 1e+08 times the lowest seen at step 10" in r.warnings[0]
    # trained on at the lower rate (where it ends depends on the CPU: at rate 0.5 it sits at
    # the edge of stability, and a later blow-up restores a worse, finite state)
    assert min(h["loss"] for h in r.history) < 1e-2


def test_a_diverged_first_order_stage_then_lbfgs_ends_within_seconds():
    """The hang a user met: Nesterov SGD diverging to a finite loss, then L-BFGS."""
    stages = [pinn.SGD(steps=200, lr=20.0, momentum=0.9, nesterov=True), pinn.LBFGS(steps=50)]
    with deadline(60):
        try:
            r = train(blowing_up(), stages, dtype="float64", log_every=10)
        except pinn.TrainingDiverged as e:
            r = e.result
    assert r.info["nonfinite"] and all(np.isfinite(h["loss"]) for h in r.history)
    assert all(h["loss"] < 1e8 * r.history[0]["loss"] for h in r.history)


@pytest.mark.parametrize(
    "decay",
    [
        pinn.ExponentialDecay(gamma=0.5, every=10),
        pinn.PowerDecay(alpha=1.0, beta=0.5),
        pinn.StepDecay(milestones=(12,), gamma=0.1),
        pinn.CyclicLR(base_lr=1e-3, max_lr=1e-2, step_size=4),
        pinn.CosineDecay(),
    ],
    ids=lambda d: type(d).__name__,
)
def test_the_halved_rate_follows_the_schedule(decay):
    stages = [pinn.Adam(steps=20, lr=1e-2, decay=decay)]
    clean = train(poisson(), stages, log_every=5)
    hit = train(poisson(Poison(at=7)), stages, log_every=5)
    lrs = {h["step"]: h["lr"] for h in clean.history}
    assert [(h["step"], h["lr"]) for h in hit.history] == [
        (5, lrs[5]),
        (15, pytest.approx(lrs[15] / 2, rel=1e-12)),
        (20, pytest.approx(lrs[20] / 2, rel=1e-12)),
    ]


@pytest.mark.parametrize("at", [10, 17])  # a checkpoint before the failure, one after recovery
def test_resume_across_a_recovery_is_exact(at):
    p = poisson(n_pde=24)

    def run(**kw):
        net = pinn.MLP(p, hidden=[8], dropout=0.1)

        def poison(info):  # a NaN weight after step 12: step 13's loss is NaN
            if info["step"] == 12:
                with torch.no_grad():
                    net.linears[1].weight[0, 0] = math.nan

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pinn.train(
                p,
                net,
                stages=[pinn.Adam(steps=25, lr=1e-2), pinn.LBFGS(steps=5)],
                batch_size=8,
                log_every=5,
                on_step=poison,
                **kw,
            )

    whole = run()
    assert [e["step"] for e in whole.info["nonfinite"]] == [13]
    keep = Memory(at={at})
    run(checkpoints=keep)
    resumed = run(resume=keep.states[at])
    assert torch.equal(params(resumed), params(whole))
    assert without_time(resumed.history) == without_time(whole.history)
    assert resumed.info["nonfinite"] == whole.info["nonfinite"]


@pytest.mark.parametrize("at", [3, 9])
def test_resume_after_a_resampling_is_exact(at):
    """scipy's samplers spawn child generators, a count that the checkpoint must keep too."""
    p = poisson(n_pde=24)
    kw = {"stages": [pinn.Adam(steps=16)], "batch_size": 8, "resample_every": 4, "log_every": 2}
    whole = pinn.train(p, pinn.MLP(p, hidden=[8]), **kw)
    keep = Memory(at={at})
    pinn.train(p, pinn.MLP(p, hidden=[8]), checkpoints=keep, **kw)
    resumed = pinn.train(p, pinn.MLP(p, hidden=[8]), resume=keep.states[at], **kw)
    assert torch.equal(params(resumed), params(whole))


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["adam", "sgd", "rmsprop"]), st.integers(1, 6), st.integers(1, 14))
def test_every_failure_is_caught_at_its_step_and_goes_back_to_a_checked_state(kind, log_every, at):
    """The state to go back to is that of the last record whose own loss was seen finite:
    the last record before the bad step, unless the bad step was its very next one."""
    stage = {"adam": pinn.Adam, "sgd": pinn.SGD, "rmsprop": pinn.RMSprop}[kind](steps=15)
    r = train(poisson(Poison(at=at)), [stage], log_every=log_every)
    (event,) = r.info["nonfinite"]
    last = (at - 1) // log_every * log_every
    assert event["step"] == at
    assert event["restored_step"] == (last if at > last + 1 else max(last - log_every, 0))
    assert torch.isfinite(params(r)).all()


# -- schedules that are monotone where they should be (the decays are in test_properties) -------
@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(0, 10), min_size=1, max_size=40),
    st.floats(0.05, 0.95),
    st.integers(0, 3),
)
def test_reduce_on_plateau_never_raises_the_rate(losses, factor, patience):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-2)
    sched = pinn.ReduceOnPlateau(factor=factor, patience=patience).scheduler(opt, 100)
    rates = []
    for loss in losses:
        sched.step(loss)
        rates.append(opt.param_groups[0]["lr"])
    assert all(b <= a for a, b in zip([1e-2, *rates], rates))


@settings(max_examples=30, deadline=None)
@given(st.floats(1e-5, 1e-3), st.floats(1.5, 100), st.integers(1, 10))
def test_cyclic_rate_stays_in_its_band_and_is_monotone_on_each_half_cycle(base, ratio, size):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    sched = pinn.CyclicLR(base_lr=base, max_lr=base * ratio, step_size=size).scheduler(opt, 100)
    rates = []
    for _ in range(4 * size + 1):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert all(base * (1 - 1e-9) <= r <= base * ratio * (1 + 1e-9) for r in rates)
    for start in range(0, 4 * size, size):
        half = np.array(rates[start : start + size + 1])
        steps = np.diff(half) * (1 if start // size % 2 == 0 else -1)
        assert (steps >= -1e-12 * base * ratio).all()


# -- the same seed gives the same bits --------------------------------------------------------
def test_same_seed_same_bits_with_mini_batches_dropout_and_resampling():
    p = poisson(n_pde=40)

    def run(seed):
        net = pinn.MLP(p, hidden=[8, 8], dropout=0.2)
        return pinn.train(
            p,
            net,
            stages=[
                pinn.Adam(steps=20, lr=1e-2, decay=pinn.ExponentialDecay(0.5, 10)),
                pinn.SGD(steps=10, lr=1e-3, momentum=0.9),
                pinn.LBFGS(steps=5),
            ],
            batch_size=8,
            resample_every=7,
            validation=16,
            l2=1e-4,
            log_every=5,
            seed=seed,
        )

    a, b, c = run(3), run(3), run(4)
    assert torch.equal(params(a), params(b))
    assert without_time(a.history) == without_time(b.history)
    assert not torch.equal(params(a), params(c))
    assert a.history[0]["loss"] != c.history[0]["loss"]


@pytest.mark.slow
def test_same_seed_same_bits_with_the_compiled_engine():
    """The default compiles long runs: Inductor's kernels must repeat bit for bit too."""
    p = poisson(n_pde=200)

    def run(seed):
        net = pinn.MLP(p, hidden=[16, 16])
        stages = [pinn.Adam(steps=20, lr=1e-2), pinn.LBFGS(steps=5)]
        return pinn.train(p, net, stages=stages, engine="compiled", log_every=5, seed=seed)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a, b, c = run(3), run(3), run(4)
    assert not [w for w in caught if "compiled engine:" in str(w.message)]  # no eager fallback
    assert a.info["engine"] == "compiled"
    assert torch.equal(params(a), params(b))
    assert without_time(a.history) == without_time(b.history)
    assert not torch.equal(params(a), params(c))


# -- resource limits ------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [None, 64])
def test_more_points_than_fit_in_memory_fail_before_any_is_drawn(batch_size):
    huge = pinn.Problem(LINE * pinn.Time(0, 1), pde=lambda f: f.u_t - f.u_xx, n_pde=10**12)
    with pytest.raises(ValueError, match=r"GiB available; use fewer points \(n_pde=10+\) or "):
        pinn.train(huge, pinn.MLP(huge, hidden=[8]), [pinn.Adam(steps=1)], batch_size=batch_size)


# -- bad input: a ValueError or TypeError, early, naming the value and what is valid ----------
def space_time(**kw):
    return pinn.Problem(LINE * pinn.Time(0.0, 1.0), pde=lambda f: f.u_t - f.u_xx, n_pde=8, **kw)


def two_fields(**kw):
    return pinn.Problem(LINE, fields=("u", "v"), pde=lambda f: [f.u_x - f.v, f.v_x], **kw)


def fit(**kw):
    p = poisson()
    return pinn.train(p, kw.pop("net", None) or pinn.MLP(p, hidden=[4]), **kw)


def fitted():
    p = poisson()
    return pinn.train(p, pinn.MLP(p, hidden=[4]), stages=[pinn.Adam(steps=1)])


X = torch.tensor([[0.5]])
ADAM = [pinn.Adam(steps=1)]

BAD = [
    # training options (wrong types, names that do not exist, conflicting options)
    (lambda: fit(stages=pinn.Adam(steps=1)), TypeError, ["non-empty list", "Adam(steps=1"]),
    (lambda: fit(stages=ADAM, net=torch.nn.Linear(1, 3)), ValueError, ["to (2, 3)", "(2, 1)"]),
    (
        lambda: fit(stages=ADAM, net=torch.nn.Linear(2, 1)),
        ValueError,
        ["net fails on points of shape (2, 1)", "coordinates ('x',)"],
    ),
    (
        lambda: fit(stages=ADAM, checkpoints="runs/a"),
        TypeError,
        ["got 'runs/a'", "pinn.checkpoint.Checkpoints(directory)"],
    ),
    (
        lambda: fit(stages=ADAM, resume={"step": 3}),
        ValueError,
        ["a dict of ['step']", "pinn.checkpoint.load(path)", "'optimizer'"],
    ),
    (lambda: fit(stages=ADAM, on_step="print"), TypeError, ["on_step", "callable", "'print'"]),
    (lambda: fit(stages=ADAM, on_stage_end=5), TypeError, ["on_stage_end", "callable", "5"]),
    (lambda: fit(stages=ADAM, n_eval=0), ValueError, ["n_eval", "positive integer, got 0"]),
    (lambda: fit(stages=ADAM, max_failures=0), ValueError, ["max_failures", "positive", "0"]),
    (lambda: fit(stages=ADAM, engine="fast"), ValueError, ["'fast'", "'auto', 'reverse'"]),
    (lambda: fit(stages=ADAM, dtype=torch.float16), ValueError, ["float16", "float32, float64"]),
    (lambda: fit(stages=ADAM, batch_size="8"), ValueError, ["got '8'", "positive integer or None"]),
    (lambda: fit(stages=ADAM, l1=math.nan), ValueError, ["l1", "finite number >= 0, got nan"]),
    (
        lambda: fit(stages=ADAM, validation=(X, torch.tensor([[math.nan]]))),
        ValueError,
        ["validation", "must be finite, got NaN"],
    ),
    (
        lambda: fit(stages=ADAM, validation=(X, torch.ones(1, 2))),
        ValueError,
        ["2 columns", "expected 1, one per field ('u',)"],
    ),
    # networks
    (lambda: pinn.MLP("burgers"), TypeError, ["got str", "pinn.Problem or pinn.Supervised"]),
    (lambda: pinn.MLP(poisson(), hidden=8), ValueError, ["got 8", "list of positive widths"]),
    (lambda: pinn.MLP(poisson(), hidden="20"), ValueError, ["got '20'", "positive widths"]),
    (lambda: pinn.MLP(poisson(), batch_norm="yes"), TypeError, ["'yes'", "True or False"]),
    (lambda: pinn.MLP(poisson(), activation=5), TypeError, ["got 5", "a name, a callable"]),
    # problems: wrong types, NaN/Inf in values and exact solutions, mismatched field counts
    (
        lambda: pinn.Problem(LINE, fields=3, pde=poisson_residual),
        ValueError,
        ["got 3", "tuple of names"],
    ),
    (
        lambda: pinn.Problem(LINE, pde=poisson_residual, conditions=None),
        TypeError,
        ["got None", "list of pinn conditions"],
    ),
    (
        lambda: pinn.Problem(LINE, pde=poisson_residual, exact=lambda x: x.sine()),
        ValueError,
        ["the exact solution failed: AttributeError", "sine"],
    ),
    (
        lambda: pinn.Problem(
            LINE, pde=poisson_residual, exact=lambda x: torch.where(x > 0.5, math.nan, x)
        ),
        ValueError,
        ["exact solution returned NaN or Inf at", "e.g. [", "-> [nan]", "must be finite"],
    ),
    (
        lambda: pinn.Problem(LINE, pde=lambda f: f.u + math.inf),
        ValueError,
        ["'pde' is not finite at initialization (inf)", "division by 0"],
    ),
    (
        lambda: pinn.Problem(
            LINE, pde=poisson_residual, conditions=[pinn.dirichlet(lambda x: x / 0)]
        ),
        ValueError,
        ["dirichlet: value is NaN or Inf at", "e.g. [", "must be finite on the domain"],
    ),
    (
        lambda: space_time(conditions=[pinn.initial(lambda x: torch.log(x[:, 0:1] - 5))]),
        ValueError,
        ["initial: value is NaN or Inf at", "-> [nan]", "must be finite"],
    ),
    (lambda: pinn.dirichlet(math.nan), ValueError, ["dirichlet: value", "finite number, got nan"]),
    (lambda: pinn.initial(-math.inf), ValueError, ["initial: value", "finite number, got -inf"]),
    (lambda: pinn.data([[0.5]], [math.inf]), ValueError, ["data: values contain NaN or Inf"]),
    (lambda: pinn.data([["a"]], [1.0]), TypeError, ["data: points must be numbers", "<U1"]),
    (
        lambda: pinn.Problem(
            LINE, pde=poisson_residual, conditions=[pinn.data(X, [[1.0, 2.0, 3.0]])]
        ),
        ValueError,
        ["values have 3 columns for fields ('u',)"],
    ),
    (
        lambda: two_fields(conditions=[pinn.data(X, [[1.0, 2.0]], field="u")]),
        ValueError,
        ["values have 2 columns for fields ('u',)"],
    ),
    # points outside the domain, empty and degenerate domains
    (
        lambda: pinn.Problem(
            LINE, pde=poisson_residual, conditions=[pinn.dirichlet(0.0, on=X * 6)]
        ),
        ValueError,
        ["1 of 1 given points lie outside the domain Interval('x', -1.0, 1.0)", "[3.0]"],
    ),
    (
        lambda: pinn.Problem(
            LINE, pde=poisson_residual, conditions=[pinn.dirichlet(0.0, on=X.repeat(1, 2))]
        ),
        ValueError,
        ["shape (1, 2)", "expected (N, 1)"],
    ),
    (lambda: pinn.Box((0, 0), (1, 0)), ValueError, ["'y'", "finite lo < hi, got lo=0.0, hi=0.0"]),
    (lambda: pinn.Box((), ()), ValueError, ["sequences of equal length", "[] and []"]),
    (lambda: pinn.Time(1.0, 1.0), ValueError, ["'t'", "lo < hi, got lo=1.0, hi=1.0"]),
    (lambda: pinn.Box((0, "a"), (1, 1)), ValueError, ["lo must be", "numbers, got (0, 'a')"]),
    (lambda: pinn.Interval("x", None, 1.0), ValueError, ["lo must be a number", "got [None]"]),
    (lambda: pinn.Disk((math.nan, 0.0)), ValueError, ["center must be finite, got [nan, 0.0]"]),
    (lambda: pinn.Disk((0.0, 0.0), "1"), ValueError, ["radius must be a positive number", "'1'"]),
    (lambda: pinn.Box((0, 0), (1, 1), names=("x",)), ValueError, ["2 coordinates but 1 names"]),
    # conditions with conflicting options
    (lambda: pinn.robin(0.0, alpha="a"), ValueError, ["alpha must be a finite number, got 'a'"]),
    (lambda: pinn.robin(0.0, alpha=0, beta=0), ValueError, ["alpha and beta cannot both be 0"]),
    # stages
    (lambda: pinn.Adam(lr=math.inf), ValueError, ["lr must be a positive number, got inf"]),
    (
        lambda: pinn.TorchOptimizer(optim=torch.optim.NAdam, kwargs={"momentum": 0.9}),
        TypeError,
        ["unknown option(s) ['momentum']", "valid: betas, eps, weight_decay"],
    ),
    (
        lambda: pinn.TorchOptimizer(optim=torch.optim.NAdam, kwargs={"lr": 0.1}),
        TypeError,
        ["unknown option(s) ['lr']", "the stage's own lr="],
    ),
    # results and data sets
    (
        lambda: fitted().error(torch.zeros(3, 1), torch.zeros(4)),
        ValueError,
        ["values have shape (4,)", "expected (3, 1)"],
    ),
    (lambda: fitted().predict(torch.zeros(3, 2)), ValueError, ["got (3, 2)", "shape (N, 1)"]),
    (
        lambda: pinn.Supervised(torch.zeros(3, 1), torch.zeros(3, 2), fields=("a",)),
        ValueError,
        ["1 field names ('a',) for 2 outputs"],
    ),
]


@pytest.mark.parametrize("make, error, words", BAD, ids=[w[0][:40] for *_, w in BAD])
def test_bad_input_fails_early_naming_the_value_and_what_is_valid(make, error, words):
    with pytest.raises(error) as e:
        make()
    assert isinstance(e.value, pinn.errors.InputError)  # raised by a check, not deep in torch
    for word in words:
        assert word in str(e.value), str(e.value)


class Offset(pinn.FixedWeights):
    """Each term minus 100: losses below zero, as some weightings make them."""

    def __call__(self, residuals, step):
        return {k: v - 100.0 for k, v in super().__call__(residuals, step).items()}


def test_negative_losses_are_not_taken_for_a_divergence():
    r = train(poisson(), [pinn.Adam(steps=30, lr=1e-2)], weighting=Offset(), log_every=5)
    assert r.history[-1]["loss"] < 0 and "nonfinite" not in r.info
