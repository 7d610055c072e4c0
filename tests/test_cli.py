"""The `pinn` command line: end to end on a small library problem, and one readable line with
exit status 2 for each kind of bad input."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from processes import wait_for_second_stage

import pinn
from pinn import cli

# poisson1d made tiny: 32 points, one hidden layer of 8, 40 Adam + 20 L-BFGS steps.
SMALL = [
    "--set",
    "problem.n_pde=32",
    "--set",
    "net.hidden=[8]",
    "--set",
    "stages.0.steps=40",
    "--set",
    "stages.0.lr=0.01",
    "--set",
    "stages.1.steps=20",
    "--set",
    "log_every=10",
    "--checkpoint-every",
    "10",
    "--quiet",
]


def run_cli(capsys, *argv):
    """Exit status, stdout and stderr of `pinn ARGV`."""
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def params(result) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in result.net.parameters()])


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One uninterrupted small run, shared by the tests that read it."""
    out = tmp_path_factory.mktemp("runs") / "full"
    assert cli.main(["run", "poisson1d", *SMALL, "--out", str(out)]) == 0
    return out


def test_run_writes_every_file(finished):
    for name in (
        "config.json",
        "history.csv",
        "metrics.json",
        "history.png",
        "solution.png",
        "checkpoints/last.pt",
        "checkpoints/stage-0-adam.pt",
        "checkpoints/stage-1-lbfgs.pt",
    ):
        assert (finished / name).is_file(), name
    for png in ("history.png", "solution.png"):
        image = np.asarray(Image.open(finished / png).convert("L"), dtype=float)
        assert image.shape[0] > 100 and image.std() > 10, f"{png} looks blank"
    config = json.loads((finished / "config.json").read_text())
    assert config["run"]["module"] == "problems.poisson1d"
    assert config["problem"]["n_pde"] == 32 and config["net"]["hidden"] == [8]
    assert config["stages"][1]["type"] == "lbfgs" and config["n_eval"] == 10_000
    header = (finished / "history.csv").read_text().splitlines()[0].split(",")
    for column in ("step", "stage", "epoch", "lr", "loss_pde", "loss_dirichlet", "error", "time"):
        assert column in header


def test_metrics_match_the_loaded_model(finished):
    metrics = json.loads((finished / "metrics.json").read_text())
    result = pinn.load(finished)
    assert metrics["error"] == result.error()
    assert [s["stage"] for s in metrics["stages"]] == ["adam", "lbfgs"]
    assert metrics["stages"][0]["steps"] == 40 and metrics["stages"][0]["steps_per_s"] > 0
    assert metrics["seed"] == 0 and metrics["device"] == "cpu"
    assert set(metrics["versions"]) == {"python", "torch", "pinn"}
    assert metrics["peak_memory_mb"] > 0
    assert result.history[-1]["step"] == 60


def test_report_prints_summary_and_redraws(finished, capsys):
    (finished / "solution.png").unlink()
    status, out, _ = run_cli(capsys, "report", str(finished))
    assert status == 0 and "finished" in out and "relative L2 error" in out
    assert (finished / "solution.png").is_file()


def test_interrupted_by_sigkill_resumes_to_the_same_parameters(finished, tmp_path, capsys):
    out = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    argv = [
        sys.executable,
        "-m",
        "pinn",
        "run",
        "poisson1d",
        *SMALL,
        "--out",
        str(out),
        "--set",
        "stages.1.steps=400",
    ]  # long enough to be killed during L-BFGS
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last = out / "checkpoints" / "last.pt"
    wait_for_second_stage(proc, last)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    assert not (out / "metrics.json").exists()
    assert 40 < pinn.checkpoint.load(last)["step"] < 440  # killed during L-BFGS
    status, _, err = run_cli(capsys, "resume", str(out), "--quiet")
    assert status == 0, err
    whole = tmp_path / "whole"
    assert (
        cli.main(["run", "poisson1d", *SMALL, "--out", str(whole), "--set", "stages.1.steps=400"])
        == 0
    )
    assert torch.equal(params(pinn.load(out)), params(pinn.load(whole)))


def test_progress_lines_and_quiet(tmp_path, capsys):
    tiny = [*SMALL[:-1], "--set", "stages.0.steps=10", "--set", "stages.1.steps=5"]
    status, out, err = run_cli(capsys, "run", "poisson1d", *tiny, "--out", str(tmp_path / "a"))
    assert status == 0 and out.count("\n") == 1 and "relative L2 error" in out
    assert [line.split()[:4] for line in err.splitlines()] == [
        ["[1/2", "adam]", "step", "10"],
        ["[2/2", "lbfgs]", "step", "15"],
    ]
    status, out, err = run_cli(
        capsys, "run", "poisson1d", *tiny, "--quiet", "--out", str(tmp_path / "b")
    )
    assert status == 0 and out.count("\n") == 1 and err == ""


@pytest.mark.parametrize(
    "argv, words",
    [
        (["run", "nosuch"], ["unknown problem 'nosuch'", "poisson1d"]),
        (["run", "poisson1d", "--set", "stages.0.lr"], ["malformed", "key=value"]),
        (["run", "poisson1d", "--set", "net.hiden=[8]"], ["unknown key 'hiden'", "hidden"]),
        (["run", "poisson1d", "--set", "stages.0.steps=ten"], ["stages.0.steps", "integer"]),
        (["run", "poisson1d", "--set", "problem.n_pts=3"], ["unknown key 'n_pts'", "n_pde"]),
        (
            ["run", "poisson1d", "--dtype", "float16"],
            ["pinn run: error", "float16", "'float32', 'float64'"],
        ),
        (["run", "poisson1d", "--config", "missing.json"], ["missing.json"]),
        (["resume", "runs/none"], ["no run directory runs/none"]),
        (["report", "runs/none"], ["no run directory runs/none"]),
        (["frobnicate"], ["frobnicate", "list", "run", "resume"]),
        (["run", "poisson1d", "--threads", "0"], ["--threads", "positive integer or auto"]),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run_cli(capsys, *argv)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, err


MISSING_GPU = f"cuda:{torch.cuda.device_count()}"  # one past the last GPU (cuda:0 on a CPU build)


@pytest.mark.parametrize("device", [MISSING_GPU, "tpu", "mps"])
def test_a_device_that_is_not_here_exits_2_before_writing(device, tmp_path, capsys):
    status, out, err = run_cli(
        capsys, "run", "poisson1d", "--device", device, "--out", str(tmp_path / "r")
    )
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert f"device {device!r}" in err and "valid: 'auto', 'cpu'" in err
    assert not (tmp_path / "r").exists()
    with pytest.raises(ValueError, match=f"device {device!r}"):  # the API says the same
        pinn.training.checks.resolve_device(device)


def test_a_library_bug_shows_its_traceback(monkeypatch):
    """Only user input errors become one line: a TypeError from inside the library is raised."""

    def broken(args):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'")

    monkeypatch.setattr(cli, "cmd_list", broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        cli.main(["list"])


def test_tensorboard_logs_every_record_that_reads_back(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "tb"
    status, _, err = run_cli(capsys, "run", "poisson1d", *SMALL, "--tensorboard", "--out", str(out))
    assert status == 0, err
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    history = pinn.load(out).history
    for key in ("loss", "error", "loss_pde", "lr"):
        scalars = events.Scalars(key)
        assert [s.step for s in scalars] == [h["step"] for h in history], key
        for s, h in zip(scalars, history):
            assert s.value == pytest.approx(h[key], rel=1e-6), key  # stored as float32


def test_tensorboard_missing_exits_2_before_writing(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # not installed
    status, _, err = run_cli(
        capsys, "run", "poisson1d", "--tensorboard", "--out", str(tmp_path / "tb")
    )
    assert status == 2 and "pip install 'pinn[tensorboard]'" in err
    assert not (tmp_path / "tb" / "config.json").exists()


def test_missing_run_directory_lists_the_runs_beside_it(finished, capsys):
    status, _, err = run_cli(capsys, "resume", str(finished.parent / "nope"))
    assert status == 2 and str(finished) in err


def test_corrupted_checkpoint_exits_2(finished, tmp_path, capsys):
    broken = tmp_path / "broken"
    (broken / "checkpoints").mkdir(parents=True)
    (broken / "config.json").write_text((finished / "config.json").read_text())
    (broken / "checkpoints" / "last.pt").write_bytes(b"not a checkpoint")
    (broken / "checkpoints" / "stage-0-adam.pt").write_bytes(b"")
    status, _, err = run_cli(capsys, "resume", str(broken))
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "last.pt is corrupted" in err and "stage-0-adam.pt" in err


def test_help_for_every_command(capsys):
    for command in ("list", "run", "resume", "report", "check"):
        with pytest.raises(SystemExit) as exit:
            cli.main([command, "--help"])
        assert exit.value.code == 0
        assert "usage: pinn " + command in capsys.readouterr().out


def test_compiling_says_so_and_its_time_is_in_the_metrics(tmp_path, capsys, monkeypatch):
    class Eager(pinn.engines.Compiled):  # the same path through torch.compile, compiled fast
        def __init__(self):
            super().__init__(backend="eager")

    monkeypatch.setattr(pinn.engines, "Compiled", Eager)
    argv = [a for a in SMALL if a != "--quiet"] + ["--set", "engine=compiled"]
    status, _, err = run_cli(capsys, "run", "poisson1d", *argv, "--out", str(tmp_path / "c"))
    assert status == 0, err
    assert err.count("pinn: compiling the Taylor pass with torch.compile") == 1
    metrics = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert metrics["engine"] == "compiled" and metrics["compile_time"] > 0
    assert metrics["compile_time"] == metrics["first_step_time"]


@pytest.mark.parametrize("threads", ["1", "2"])
def test_threads_are_set_and_recorded(threads, tmp_path, capsys):
    try:
        status, _, err = run_cli(
            capsys, "run", "poisson1d", *SMALL, "--threads", threads, "--out", str(tmp_path / "t")
        )
        assert status == 0, err
        assert json.loads((tmp_path / "t" / "metrics.json").read_text())["threads"] == int(threads)
    finally:
        torch.set_num_threads(1)  # this test process's setting (conftest)


def test_small_problems_get_one_thread():
    from pinn.resources import SMALL as points
    from pinn.resources import threads_for

    assert threads_for(points - 1) == 1
    assert 1 <= threads_for(100 * points) <= (os.cpu_count() or 1)


def test_a_named_recipe_is_chosen_by_name_and_an_unknown_one_refused(tmp_path, capsys):
    status, _, err = run_cli(capsys, "run", "poisson1d", "--recipe", "precise")
    assert status == 2 and "unknown recipe 'precise'; this problem has default" in err
    plain = tmp_path / "plain.py"
    plain.write_text(
        "import pinn\n"
        "def problem():\n"
        "    return pinn.Problem(pinn.Interval('x', 0, 1), pde=lambda f: f.u_x)\n"
        "def recipe():\n"
        "    return {'net': {'hidden': [4]}, 'stages': [pinn.Adam(steps=2)]}\n"
    )
    status, _, err = run_cli(capsys, "run", str(plain), "--recipe", "precise")
    assert status == 2 and "recipe() offers no named recipes" in err
    out = tmp_path / "run"
    tiny = ["--set", "stages.0.steps=2", "--set", "stages.1.steps=2", "--quiet"]
    assert cli.main(["run", "oscillator", "--recipe", "precise", *tiny, "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["dtype"] == "float64" and config["stages"][1]["type"] == "bfgs"
    assert config["problem"]["n_pde"] == 400  # the recipe's own points
