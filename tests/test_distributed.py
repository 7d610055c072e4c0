"""Data-parallel training on torch.distributed (gloo, 2 CPU processes under torchrun): equal to
one process, every process taking the same steps, faults ending the run clearly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from parallel_worker import run

HERE = Path(__file__).parent


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
    done = torchrun(str(HERE / "parallel_worker.py"), str(out), "poisson", "advection", "inverse")
    assert done.returncode == 0, done.stderr[-3000:]
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2)]


@pytest.mark.parametrize("name", ["poisson", "advection", "inverse"])
def test_two_processes_train_as_one(two_processes, name):
    torch.set_num_threads(1)
    alone = run(name, "off")
    for rank in two_processes:
        got = rank[name]
        assert got["info"]["processes"] == 2
        assert len(got["losses"]) == len(alone["losses"]) > 5
        torch.testing.assert_close(got["losses"], alone["losses"], rtol=1e-10, atol=0)
        torch.testing.assert_close(got["params"], alone["params"], rtol=1e-10, atol=1e-14)
    # and the processes hold the very same network: their steps were identical
    assert torch.equal(two_processes[0][name]["params"], two_processes[1][name]["params"])
