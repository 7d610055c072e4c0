"""The benchmark suite measures what it says: its hand-written baseline computes the same losses
and gradients as pinn's engines, and a quick run writes every column the report shows."""

import json

import pytest
import torch

from benchmarks import __main__ as cli
from benchmarks.cases import Runner, cases

CPU = torch.device("cpu")


@pytest.mark.parametrize("case", cases(quick=True), ids=lambda c: c.name)
def test_handwritten_baseline_is_the_same_math_as_the_engines(case):
    """Ratios to the baseline mean something only if it trains the same loss: same value and
    same parameter gradients as nested reverse mode and the Taylor pass, same weights."""
    results = {}
    for config in ("handwritten", "reverse", "taylor"):
        runner = Runner(case, config, CPU)
        loss = runner.loss()
        loss.backward()
        results[config] = (loss.detach(), torch.cat([p.grad.flatten() for p in runner.params]))
    loss, grad = results["handwritten"]
    assert loss > 0
    for config in ("reverse", "taylor"):
        other_loss, other_grad = results[config]
        torch.testing.assert_close(other_loss, loss, rtol=2e-5, atol=0)
        torch.testing.assert_close(other_grad, grad, rtol=1e-4, atol=1e-6 * grad.abs().max())


def test_runner_lbfgs_counts_evaluations():
    runner = Runner(cases(quick=True)[1], "taylor", CPU)
    before = [p.detach().clone() for p in runner.params]
    evaluations = runner.lbfgs(3)
    assert evaluations >= 4  # one at the start, at least one per iteration
    assert any(not torch.equal(a, p) for a, p in zip(before, runner.params))


@pytest.mark.slow  # a benchmark run, however short, is not a unit test
def test_quick_throughput_run_writes_every_column(tmp_path):
    out = tmp_path / "bench"
    argv = ["--quick", "--only", "throughput", "--configs", "handwritten,taylor", "--out"]
    assert cli.main([*argv, str(out), "--threads", "1"]) == 0
    run = json.loads((out / "quick.json").read_text())
    rows = run["throughput"]
    assert {r["case"] for r in rows} == {"burgers", "poisson2d", "wide"}
    for row in rows:
        for key in ("adam_steps_per_s", "lbfgs_evals_per_s", "lbfgs_iters_per_s"):
            assert row[key] > 0, (row["config"], key)
        assert row["lbfgs_iters_per_s"] < row["lbfgs_evals_per_s"]  # >= 1 evaluation each
        if row["config"] == "handwritten":
            assert row["adam_vs_handwritten"] == row["lbfgs_iters_vs_handwritten"] == 1
    table = (out / "quick.md").read_text()
    assert "| L-BFGS iters/s |" in table and "| wide | taylor" in table


def test_unknown_config_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--quick", "--configs", "handwritten,jax"])
    assert exit_.value.code == 2
    assert "unknown config(s) ['jax']" in capsys.readouterr().err
