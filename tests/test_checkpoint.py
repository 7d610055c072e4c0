"""Checkpoint files: atomic writes, refusal to write NaN over a good checkpoint, clear errors
for damaged files, round trips of optimizer and RNG state, and Ctrl-C deferred to a step."""

import os
import signal

import numpy as np
import pytest
import torch

from pinn import checkpoint
from pinn.checkpoint import CheckpointError, Checkpoints


def state(step=10, value=1.0, **changes):
    net = torch.nn.Linear(2, 1)
    torch.nn.init.constant_(net.weight, value)
    opt = torch.optim.LBFGS(net.parameters(), history_size=3)
    x = torch.randn(8, 2)

    def closure():
        opt.zero_grad()
        loss = net(x).square().mean()
        loss.backward()
        return loss

    opt.step(closure)
    return {
        "format": checkpoint.FORMAT,
        "step": step,
        "stage": 1,
        "stage_step": 3,
        "model": {"net": net.state_dict(), "unknowns": {}},
        "optimizer": opt.state_dict(),
        "scheduler": None,
        "rng": checkpoint.rng_state(),
        "sampler": {"numpy": np.random.default_rng(5).bit_generator.state},
        "weighting": {},
        "history": {"records": [{"step": step, "loss": 0.5}], "sums": {}, "count": 0},
        "recovery": {"good": None, "candidate": None, "failures": 0, "checked": True},
        "stopping": {"best": None, "best_loss": float("inf"), "waited": 0, "stopped": False},
        "info": {"notes": []},
        "clock": {"elapsed": 1.5},
        "dtype": "float32",
        "n_eval": 100,
        **changes,
    }


def test_round_trip_keeps_lbfgs_state_and_big_integers(tmp_path):
    s = state()
    assert checkpoint.save(tmp_path / "c.pt", s)
    back = checkpoint.load(tmp_path / "c.pt")
    assert back["sampler"] == s["sampler"]  # a 128-bit PCG64 state survives weights_only
    lbfgs, lbfgs_back = s["optimizer"]["state"][0], back["optimizer"]["state"][0]
    assert set(lbfgs) == set(lbfgs_back) and torch.equal(lbfgs["d"], lbfgs_back["d"])
    assert torch.equal(back["rng"]["torch"], s["rng"]["torch"])
    assert os.listdir(tmp_path) == ["c.pt"]  # no temporary file left


def test_rng_state_restores_the_draws():
    saved = checkpoint.rng_state()
    a = torch.rand(3)
    checkpoint.set_rng_state(saved)
    assert torch.equal(torch.rand(3), a)


def test_write_failure_leaves_the_old_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("good")

    def failing(f):
        f.write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        checkpoint.atomic_write(path, failing)
    assert path.read_text() == "good" and os.listdir(tmp_path) == ["f.txt"]


def test_nan_model_never_overwrites_a_good_checkpoint(tmp_path):
    path = tmp_path / "last.pt"
    checkpoint.save(path, state(step=10))
    with pytest.warns(UserWarning, match="NaN/Inf"):
        assert not checkpoint.save(path, state(step=20, value=float("nan")))
    assert checkpoint.load(path)["step"] == 10


def test_damaged_files_name_the_file_and_the_other_checkpoints(tmp_path):
    (tmp_path / "stage-0-adam.pt").write_bytes(b"")
    (tmp_path / "last.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match=r"last.pt is corrupted .*: stage-0-adam.pt$"):
        checkpoint.load(tmp_path / "last.pt")
    torch.save({"weights": torch.ones(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="other.pt is not a pinn checkpoint"):
        checkpoint.load(tmp_path / "other.pt")
    checkpoint.save(tmp_path / "future.pt", state(format=99))
    with pytest.raises(
        CheckpointError, match=f"format 99; this pinn reads format {checkpoint.FORMAT}"
    ):
        checkpoint.load(tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="no checkpoint .*missing.pt"):
        checkpoint.load(tmp_path / "missing.pt")


def test_due_every_n_steps_from_where_the_run_starts(tmp_path):
    saver = Checkpoints(tmp_path, every=10)
    assert not saver.due(23) and not saver.due(29) and saver.due(30)  # a run starting at 23
    saver.save(state(step=30))
    assert not saver.due(39) and saver.due(40)
    with pytest.raises(ValueError, match="positive number of steps, got 0"):
        Checkpoints(tmp_path, every=0)


def test_ctrl_c_is_deferred_to_the_next_checkpoint(tmp_path):
    saver = Checkpoints(tmp_path, every=1000)
    with saver.deferred_interrupt():
        os.kill(os.getpid(), signal.SIGINT)  # handled: no KeyboardInterrupt here
        assert saver.interrupted and saver.due(1)
        with pytest.raises(KeyboardInterrupt):
            saver.save(state(step=7), stage_end="stage-1-lbfgs")
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C stops at once
            os.kill(os.getpid(), signal.SIGINT)
    assert checkpoint.load(tmp_path / "last.pt")["step"] == 7
    assert checkpoint.load(tmp_path / "stage-1-lbfgs.pt")["step"] == 7
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_checkpoint_of_an_older_format_says_so(tmp_path):
    old = {k: v for k, v in state().items() if k not in ("sampler", "recovery", "clock")}
    old.update(format=2, batches={}, run={})
    torch.save(old, tmp_path / "old.pt")
    with pytest.raises(
        CheckpointError, match=f"format 2; this pinn reads format {checkpoint.FORMAT}"
    ):
        checkpoint.load(tmp_path / "old.pt")
