"""Run directories from Python: start, interrupt, resume, load; the resolved config; progress."""

import io
import json
import math
import os
import signal
import sys

import pytest
import torch

import pinn
from pinn import runs
from pinn.progress import Progress, TensorBoard


def decay_problem():
    """u' = -k u with k unknown (true k = 2), observed at 8 times: a small inverse problem."""
    t = torch.linspace(0.0, 1.0, 8, dtype=torch.float64).unsqueeze(1)
    return pinn.Problem(
        pinn.Time(0.0, 1.0),
        pde=lambda f, p: f.u_t + p.k * f.u,
        conditions=[pinn.data(t, torch.exp(-2.0 * t))],
        unknowns={"k": 0.5},
        n_pde=32,
        exact=lambda x: torch.exp(-2.0 * x),
    )


def recipe(adam=30, lbfgs=10, **options):
    return {
        "net": {"hidden": [8], "dropout": 0.1},
        "stages": [
            pinn.Adam(steps=adam, lr=1e-2, decay=pinn.ExponentialDecay(0.5, 10)),
            pinn.LBFGS(steps=lbfgs),
        ],
        "log_every": 5,
        "batch_size": 8,
        **options,
    }


def params(result) -> torch.Tensor:
    return torch.cat(
        [
            p.detach().flatten()
            for p in [*result.net.parameters(), *result.unknowns_module.parameters()]
        ]
    )


def test_resolved_config_has_every_default():
    config = runs.resolve({"net": {"hidden": [8]}, "seed": 3})
    assert config["seed"] == 3 and config["log_every"] is None and config["dtype"] == "float32"
    assert config["net"] == {**config["net"], "hidden": [8], "activation": "tanh"}
    assert not set(runs.RUNTIME) & set(config)
    json.dumps(config)


def test_python_run_writes_the_directory_and_loads_back(tmp_path):
    problem = decay_problem()
    result = runs.start(problem, recipe(), tmp_path / "run", quiet=True)
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {
        "config.json",
        "history.csv",
        "metrics.json",
        "checkpoints",
        "history.png",
        "solution.png",
        "unknowns.png",
    }
    assert "unknown_k" in result.history[-1]
    with pytest.raises(ValueError, match="names no problem module; pass problem="):
        pinn.load(tmp_path / "run")
    again = pinn.load(tmp_path / "run", problem=problem)
    assert torch.equal(params(again), params(result)) and again.error() == result.error()
    assert again.history == result.history
    with pytest.raises(ValueError, match="already holds a run"):
        runs.start(problem, recipe(), tmp_path / "run")


@pytest.mark.parametrize("at", [13, 35])  # during Adam (mid-epoch), during L-BFGS
def test_ctrl_c_then_resume_equals_the_uninterrupted_run(at, tmp_path, monkeypatch):
    problem = decay_problem()
    whole = runs.start(problem, recipe(), tmp_path / "whole", quiet=True)

    class CtrlC(Progress):  # presses Ctrl-C during step `at`
        def on_step(self, info):
            if info["step"] == at:
                os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(runs, "Progress", CtrlC)
    with pytest.raises(KeyboardInterrupt):
        runs.start(problem, recipe(), tmp_path / "cut")
    assert (tmp_path / "cut" / "history.csv").is_file()
    assert not (tmp_path / "cut" / "metrics.json").exists()
    assert pinn.checkpoint.load(tmp_path / "cut" / "checkpoints" / "last.pt")["step"] == at
    resumed = runs.resume(tmp_path / "cut", problem=problem, quiet=True)
    assert torch.equal(params(resumed), params(whole))
    assert resumed.history == [
        {**h, "time": r["time"]} for h, r in zip(whole.history, resumed.history)
    ]


def vanish_at_ends(x, u):
    """A module-level output transform: config.json names it and `load` imports it back."""
    return x * (1 - x) * u


def test_functions_in_the_config_are_named_or_must_be_passed_in(tmp_path):
    problem = pinn.Problem(
        pinn.Interval("x", 0.0, 1.0),
        pde=lambda f: f.u_xx + 2.0,
        n_pde=16,
        exact=lambda x: x * (1 - x),
    )
    named = {
        "net": {"hidden": [8], "output_transform": vanish_at_ends},
        "stages": [pinn.Adam(steps=5)],
    }
    result = runs.start(problem, named, tmp_path / "named", quiet=True)
    config = json.loads((tmp_path / "named" / "config.json").read_text())
    assert config["net"]["output_transform"]["callable"] == "test_runs:vanish_at_ends"
    assert pinn.load(tmp_path / "named", problem=problem).error() == result.error()

    anonymous = {
        "net": {"hidden": [8], "output_transform": lambda x, u: x * (1 - x) * u},
        "stages": [pinn.Adam(steps=5)],
    }
    result = runs.start(problem, anonymous, tmp_path / "lambda", quiet=True)
    with pytest.raises(
        ValueError, match="net.output_transform = <function .*<lambda>.*pass the net or problem in"
    ):
        pinn.load(tmp_path / "lambda", problem=problem)
    net = pinn.MLP(problem, hidden=[8], output_transform=lambda x, u: x * (1 - x) * u)
    assert pinn.load(tmp_path / "lambda", problem=problem, net=net).error() == result.error()


def test_report_of_an_interrupted_and_a_finished_run(tmp_path):
    problem = decay_problem()
    result = runs.start(problem, recipe(), tmp_path / "r", quiet=True)
    text = runs.report(tmp_path / "r", result)
    assert "finished" in text and "unknowns: k = " in text and "adam: 30 steps" in text
    checkpoints = tmp_path / "r" / "checkpoints"
    (checkpoints / "last.pt").write_bytes((checkpoints / "stage-0-adam.pt").read_bytes())
    interrupted = pinn.load(tmp_path / "r", problem=problem)
    assert "stopped at step 30 of 40; `pinn resume" in runs.report(tmp_path / "r", interrupted)


def test_stage_speeds_from_the_history():
    history = [
        {"step": 10, "stage": "adam", "stage_index": 0, "time": 1.0},
        {"step": 20, "stage": "adam", "stage_index": 0, "time": 2.0},
        {"step": 25, "stage": "lbfgs", "stage_index": 1, "time": 7.0},
    ]
    assert runs.stage_speeds(history) == [
        {"stage": "adam", "steps": 20, "steps_per_s": 10.0},
        {"stage": "lbfgs", "steps": 5, "steps_per_s": 1.0},
    ]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def fake_steps(progress, stages, history):
    """Feed `progress` the on_step calls of a run whose records are `history`."""
    seen = []
    for step in range(1, history[-1]["step"] + 1):
        index = 0 if step <= stages[0].steps else 1
        stage_step = step if index == 0 else step - stages[0].steps
        progress.on_step(
            {"step": step, "stage_index": index, "stage_step": stage_step, "history": seen}
        )
        seen += [r for r in history if r["step"] == step]
        if stage_step == stages[index].steps:
            progress.on_stage_end(
                index, stages[index], pinn.Result(None, None, None, history=list(seen))
            )


HISTORY = [
    {
        "step": s,
        "stage": "adam" if s <= 20 else "lbfgs",
        "stage_index": int(s > 20),
        "loss": 1 / s,
        "error": 0.1 / s,
        "lr": 1e-3,
        "time": s / 10,
    }
    for s in (5, 10, 15, 20, 25, 30)
]


def test_plain_lines_every_n_steps_when_not_a_terminal():
    stages, out = [pinn.Adam(steps=20), pinn.LBFGS(steps=10)], io.StringIO()
    fake_steps(Progress(stages, every=10, stream=out), stages, HISTORY)
    lines = out.getvalue().splitlines()
    assert [line.split()[3] for line in lines] == ["5", "15", "20", "30"]  # and stage ends
    assert lines[0].startswith("[1/2 adam] step 5  loss 2.000e-01  error 2.000e-02  lr 1.00e-03")
    assert lines[-1].startswith("[2/2 lbfgs] step 30")


def test_a_bar_per_stage_on_a_terminal():
    stages, out = [pinn.Adam(steps=20), pinn.LBFGS(steps=10)], Terminal()
    fake_steps(Progress(stages, stream=out), stages, HISTORY)
    text = out.getvalue()
    assert "1/2 adam: 100%" in text and "20/20" in text and "2/2 lbfgs: 100%" in text
    assert "loss=3.333e-02" in text and "error=3.333e-03" in text and "lr=1.00e-03" in text


def test_tensorboard_without_the_package_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ValueError, match=r"pip install 'pinn\[tensorboard\]'"):
        TensorBoard(tmp_path)


def test_solution_with_exact_has_error_in_metrics(tmp_path):
    p = pinn.Problem(
        pinn.Interval("x", -1.0, 1.0),
        pde=lambda f: -f.u_xx - math.pi**2 * torch.sin(math.pi * f.x),
        conditions=[pinn.dirichlet(0.0, n=2)],
        n_pde=16,
        exact=lambda x: torch.sin(math.pi * x[:, 0:1]),
    )
    result = runs.start(
        p,
        {"net": {"hidden": [8]}, "stages": [pinn.Adam(steps=10)], "log_every": 5},
        tmp_path / "p",
        quiet=True,
    )
    metrics = json.loads((tmp_path / "p" / "metrics.json").read_text())
    assert metrics["error"] == result.error() and metrics["max_error"] > 0
    assert metrics["engine"] == "taylor"
