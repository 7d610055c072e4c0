"""Every learning-rate schedule: its sequence matches its formula, also as logged by `train`."""

import math

import pytest
import torch

import pinn

LR0, STEPS = 0.1, 40


def rates(schedule, steps=STEPS, lr=LR0):
    """The learning rate of each of `steps` optimizer steps under `schedule`."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = schedule.scheduler(opt, steps)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def triangle(t, base, top, s):
    cycle = math.floor(1 + t / (2 * s))
    return base + (top - base) * max(0.0, 1 - abs(t / s - 2 * cycle + 1))


FORMULAS = [
    (pinn.Constant(), lambda t: LR0),
    (pinn.ExponentialDecay(gamma=0.5, every=10), lambda t: LR0 * 0.5 ** (t / 10)),
    (
        pinn.StepDecay(milestones=(10, 25), gamma=0.1),
        lambda t: LR0 * 0.1 ** ((t >= 10) + (t >= 25)),
    ),
    (pinn.PowerDecay(alpha=0.5, beta=0.3), lambda t: LR0 / (1 + 0.3 * t) ** 0.5),
    (pinn.CyclicLR(base_lr=1e-3, max_lr=1e-2, step_size=7), lambda t: triangle(t, 1e-3, 1e-2, 7)),
    (
        pinn.CosineDecay(min_lr=1e-3),
        lambda t: 1e-3 + (LR0 - 1e-3) * (1 + math.cos(math.pi * t / STEPS)) / 2,
    ),
]


@pytest.mark.parametrize("schedule, formula", FORMULAS, ids=lambda v: type(v).__name__)
def test_rate_sequence_matches_the_formula(schedule, formula):
    assert rates(schedule) == pytest.approx([formula(t) for t in range(STEPS)], rel=1e-9)


def test_reduce_on_plateau_cuts_the_rate_after_patience_flat_checks():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR0)
    sched = pinn.ReduceOnPlateau(factor=0.5, patience=2).scheduler(opt, 100)
    seen = []
    for _ in range(10):  # a loss that never improves after the first check
        sched.step(1.0)
        seen.append(opt.param_groups[0]["lr"])
    # the first check sets the best; each run of patience + 1 = 3 flat checks then halves it
    assert seen == pytest.approx([LR0 * 0.5 ** (k // 3) for k in range(10)])


def tiny_fit(stage, **kw):
    x = torch.linspace(-1, 1, 16).unsqueeze(1)
    p = pinn.Supervised(x, torch.sin(3 * x))
    return pinn.train(p, pinn.MLP(p, hidden=[8]), stages=[stage], log_every=1, **kw)


def test_the_history_logs_the_rate_each_step_used():
    r = tiny_fit(pinn.SGD(steps=12, lr=LR0, decay=pinn.PowerDecay(alpha=1.0, beta=0.5)))
    assert [h["lr"] for h in r.history] == pytest.approx(
        [LR0 / (1 + 0.5 * t) for t in range(12)], rel=1e-12
    )


def test_plateau_schedule_steps_at_log_points_with_the_logged_loss():
    # threshold=1: no check counts as an improvement, so with patience 0 the rate halves at
    # every log point, after the step that the record logs
    decay = pinn.ReduceOnPlateau(factor=0.5, patience=0, threshold=1.0)
    r = tiny_fit(pinn.Adam(steps=6, lr=LR0, decay=decay))
    assert [h["lr"] for h in r.history] == pytest.approx([LR0 * 0.5**k for k in range(6)])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: pinn.ExponentialDecay(gamma=0.0), r"gamma must be in \(0, 1\], got 0"),
        (lambda: pinn.ExponentialDecay(every=0), "every must be a positive integer, got 0"),
        (lambda: pinn.StepDecay(milestones=(20, 10)), "increasing positive integers"),
        (lambda: pinn.PowerDecay(alpha=-1), "alpha must be a positive number, got -1"),
        (lambda: pinn.CyclicLR(base_lr=1.0, max_lr=0.1), "base_lr=1.0 must be < max_lr=0.1"),
        (lambda: pinn.CosineDecay(min_lr=-1), "min_lr must be a number >= 0, got -1"),
        (lambda: pinn.ReduceOnPlateau(factor=2), r"factor must be in \(0, 1\), got 2"),
        (lambda: pinn.ReduceOnPlateau(patience=-1), "patience must be an integer >= 0"),
    ],
)
def test_bad_schedule_arguments_name_the_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_a_stage_rejects_a_decay_that_is_not_a_schedule():
    with pytest.raises(TypeError, match="decay must be a schedule such as Constant, StepDecay"):
        pinn.Adam(decay=0.9)
