"""Data-parallel training on torch.distributed (gloo, 2 CPU processes under torchrun): equal to
one process, every process taking the same steps, faults ending the run clearly."""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import analytic
import pytest
import torch
from parallel_worker import run
from processes import wait_for_second_stage, worker

import pinn
from pinn import cli

HERE = Path(__file__).parent
CASES = ["poisson", "advection", "inverse", "bfgs", "lm", "weighted", "refined"]


def torchrun(*args, nproc=2, timeout=300, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE)}
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    return subprocess.run(
        [*argv, f"--nproc-per-node={nproc}", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    out = tmp_path_factory.mktemp("parallel")
    done = torchrun(str(HERE / "parallel_worker.py"), str(out), *CASES)
    assert done.returncode == 0, done.stderr[-3000:]
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2)]


@pytest.mark.parametrize("name", CASES)
def test_two_processes_train_as_one(two_processes, name):
    torch.set_num_threads(1)
    alone = run(name, "off")
    for rank in two_processes:
        got = rank[name]
        assert got["info"]["processes"] == 2
        assert len(got["losses"]) == len(alone["losses"]) > 5
        # Levenberg-Marquardt solves the damped normal equations, whose conditioning
        # amplifies the other summation order of JᵀJ (two partial sums) to ~4e-10
        rtol = 1e-8 if name == "lm" else 1e-10
        torch.testing.assert_close(got["losses"], alone["losses"], rtol=rtol, atol=0)
        # atol: round-off on the parameters of size 1 (the adaptive weights pass it on to the
        # small ones too)
        torch.testing.assert_close(got["params"], alone["params"], rtol=rtol, atol=1e-12)
    # and the processes hold the very same network: their steps were identical
    assert torch.equal(two_processes[0][name]["params"], two_processes[1][name]["params"])


SMALL = [
    *("--set", "problem.n_pde=32", "--set", "net.hidden=[8]", "--set", "stages.0.steps=40"),
    *("--set", "stages.0.lr=0.01", "--set", "log_every=10", "--checkpoint-every", "10"),
    "--quiet",
]


def launch(*args, stderr=subprocess.PIPE):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    return subprocess.Popen(
        [*argv, *args], env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True
    )


def test_a_killed_process_ends_the_run_clearly_and_resume_continues_it(tmp_path):
    out, whole = tmp_path / "killed", tmp_path / "whole"
    run = ["-m", "pinn", "run", "poisson1d", *SMALL, "--set", "stages.1.steps=300"]
    proc = launch(*run, "--dtype", "float64", "--out", str(out))
    last = out / "checkpoints" / "last.pt"
    wait_for_second_stage(proc, last)
    os.kill(worker(proc.pid, 1), signal.SIGKILL)
    start = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - start < 60 and proc.returncode != 0
    assert re.search(r"rank\s*:\s*1 |process 1 ", err), err[-2000:]
    assert not (out / "metrics.json").exists() and pinn.checkpoint.load(last)["stage"] == 1
    alone = tmp_path / "alone"
    shutil.copytree(out, alone)
    resumed = launch("-m", "pinn", "resume", str(out), "--quiet")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()[-8000:]
    uninterrupted = launch(*run, "--dtype", "float64", "--out", str(whole))
    assert uninterrupted.wait(timeout=300) == 0, uninterrupted.stderr.read()[-8000:]
    assert json.loads((whole / "metrics.json").read_text())["processes"] == 2
    final = params(pinn.load(whole))
    assert torch.equal(params(pinn.load(out)), final)
    # on one process the same points go on, shared out anew: the same run to round-off (which
    # a long L-BFGS stage amplifies: compared over the next 20 steps)
    killed_at = pinn.checkpoint.load(alone / "checkpoints" / "last.pt")["step"]
    assert cli.main(["resume", str(alone), "--quiet"]) == 0
    assert json.loads((alone / "metrics.json").read_text())["processes"] == 1
    a, b = (
        [r["loss"] for r in pinn.load(d).history if r["step"] <= killed_at + 20]
        for d in (alone, whole)
    )
    assert len(a) == len(b) > 3
    torch.testing.assert_close(torch.tensor(a), torch.tensor(b), rtol=1e-9, atol=0)


def params(result) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in result.net.parameters()])


def test_a_hung_process_ends_the_run_within_the_timeout_naming_it(tmp_path):
    out = tmp_path / "hung"
    run = ["-m", "pinn", "run", "poisson1d", *SMALL, "--set", "stages.1.steps=3000"]
    proc = launch(*run, "--out", str(out), "--timeout", "5")
    wait_for_second_stage(proc, out / "checkpoints" / "last.pt")
    survivor, hung = worker(proc.pid, 0), worker(proc.pid, 1)
    os.kill(hung, signal.SIGSTOP)
    start = time.monotonic()
    try:  # the survivor: the 5 s timeout, then at most GRACE for word from the others
        while Path(f"/proc/{survivor}").exists() and time.monotonic() - start < 60:
            time.sleep(0.1)
        waited = time.monotonic() - start
    finally:  # torchrun's own SIGTERM cannot end a stopped process
        with contextlib.suppress(ProcessLookupError):
            os.kill(hung, signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert 5 < waited < 5 + pinn.distributed.GRACE + 10 and proc.returncode != 0
    assert "pinn run: process 0 of 2: lost the other processes: process 1 died or hung" in err


def test_processes_started_differently_fail_at_once_naming_the_difference(tmp_path):
    script = tmp_path / "differ.py"
    script.write_text(
        "import os, analytic, pinn\n"
        "p = analytic.poisson1d()\n"
        "pinn.train(p, pinn.MLP(p, hidden=[4]), stages=[pinn.Adam(steps=2)],\n"
        "           seed=int(os.environ['RANK']))\n"
    )
    done = torchrun(str(script), timeout=120)
    assert done.returncode != 0
    assert "the processes differ in their seed: rank 0 has 0, rank 1 has 1" in done.stderr


def test_bad_distributed_settings_fail_clearly():
    p = analytic.poisson1d()
    net = pinn.MLP(p, hidden=[4])
    with pytest.raises(pinn.errors.BadType, match="distributed must be 'auto', 'off' or"):
        pinn.train(p, net, stages=[pinn.Adam(steps=1)], distributed="on")
    with pytest.raises(pinn.errors.BadValue, match="no torchrun environment"):
        pinn.train(p, net, stages=[pinn.Adam(steps=1)], distributed=pinn.Distributed())
    with pytest.raises(pinn.errors.BadValue, match="timeout must be a positive number"):
        pinn.Distributed(timeout=0)
    assert cli.main(["run", "poisson1d", "--timeout", "-1", "--quiet"]) == 2


def test_the_exit_hook_takes_the_group_down_unless_the_caller_did(tmp_path):
    def start(name):
        url = f"file://{tmp_path / name}"
        torch.distributed.init_process_group("gloo", init_method=url, rank=0, world_size=1)

    start("first")
    pinn.distributed._leave()
    assert not torch.distributed.is_initialized()
    start("second")
    torch.distributed.destroy_process_group()
    pinn.distributed._leave()  # at exit after the caller's own: nothing left to do, no error


def test_alone_a_run_is_one_process_and_reduces_nothing():
    p = analytic.poisson1d()
    result = pinn.train(p, pinn.MLP(p, hidden=[4]), stages=[pinn.Adam(steps=2)])
    assert result.info["processes"] == 1
    group = pinn.distributed.Group()
    terms = {"pde": torch.tensor(1.0)}
    loss = torch.tensor(1.0)
    assert group.reduce(terms, loss, None, True) == (terms, loss, True)
    assert group.once(terms) is terms and group.value(0.5) == 0.5


def test_a_ctrl_c_stops_every_process_after_the_same_step_and_resumes_exactly(tmp_path):
    out, whole = tmp_path / "stopped", tmp_path / "whole"
    run = ["-m", "pinn", "run", "poisson1d", *SMALL, "--set", "stages.1.steps=300"]
    proc = launch(*run, "--dtype", "float64", "--out", str(out))
    wait_for_second_stage(proc, out / "checkpoints" / "last.pt")
    os.kill(worker(proc.pid, 1), signal.SIGINT)  # one process only: the flag reaches both
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "interrupted at step" in err, err[-2000:]
    assert "lost the other processes" not in err
    resumed = launch("-m", "pinn", "resume", str(out), "--quiet")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()[-8000:]
    uninterrupted = launch(*run, "--dtype", "float64", "--out", str(whole))
    assert uninterrupted.wait(timeout=300) == 0, uninterrupted.stderr.read()[-8000:]
    assert torch.equal(params(pinn.load(out)), params(pinn.load(whole)))
