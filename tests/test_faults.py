"""Crash safety by fault injection: training processes killed (SIGKILL) at random moments and
inside checkpoint writes always leave a loadable checkpoint, never load a partial file, and
resume to the parameters of an uninterrupted run, bit for bit; damaged files are detected."""

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

import pinn
from pinn import checkpoint, runs
from pinn.checkpoint import CheckpointError

# A small run with the state a resume needs (mini-batches, resampling, a schedule, Adam then
# L-BFGS), checkpointed at every step so that kills often land inside a write; it prints the
# step of each checkpoint it writes.
# FAULT=partial:N or FAULT=unrenamed:N kills the process inside its N-th checkpoint write:
# after writing half the file, or with the file written but not yet renamed into place.
JOB = """
import io, itertools, os, signal, sys

import torch

import pinn
from pinn import checkpoint, runs


def problem():
    return pinn.Problem(
        pinn.Time(0.0, 1.0),
        pde=lambda f: f.u_t + 2.0 * f.u,
        conditions=[pinn.initial(1.0, n=1)],
        n_pde=64,
        exact=lambda t: torch.exp(-2.0 * t),
    )


RECIPE = {
    "net": {"hidden": [16]},
    "stages": [
        pinn.Adam(steps=400, lr=1e-2, decay=pinn.ExponentialDecay(0.5, 100)),
        pinn.LBFGS(steps=100),
    ],
    "batch_size": 16,
    "resample_every": 50,
    "log_every": 10,
}


def inject(kind, n):
    # die by SIGKILL inside the n-th torch.save: halfway through the file ("partial") or
    # with the whole file written but not yet renamed into place ("unrenamed")
    count, real_save = itertools.count(1), torch.save

    def save(obj, f, *args, **kwargs):
        if next(count) != n:
            return real_save(obj, f, *args, **kwargs)
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        data = buffer.getvalue()
        f.write(data if kind == "unrenamed" else data[: len(data) // 2])
        f.flush()
        os.fsync(f.fileno())
        os.kill(os.getpid(), signal.SIGKILL)

    torch.save = save


def report():
    # print the step of every checkpoint written, for the parent to time its kill
    save = checkpoint.Checkpoints.save

    def saved(self, state, stage_end=None):
        save(self, state, stage_end)
        print(state["step"], flush=True)

    checkpoint.Checkpoints.save = saved


if __name__ == "__main__":
    report()
    if os.environ.get("FAULT"):
        kind, n = os.environ["FAULT"].split(":")
        inject(kind, int(n))
    if sys.argv[1] == "run":
        runs.start(problem(), RECIPE, sys.argv[2], module="faultjob", every=1, quiet=True)
    else:
        runs.resume(sys.argv[2], quiet=True)
"""


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """A folder with the job module, importable here and in its subprocesses, and the
    job's uninterrupted run (checkpointed only at stage ends)."""
    folder = tmp_path_factory.mktemp("faults")
    (folder / "faultjob.py").write_text(JOB)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        sys.modules.pop("faultjob", None)
        import faultjob

        reference = runs.start(
            faultjob.problem(), faultjob.RECIPE, folder / "reference", module="faultjob", quiet=True
        )
        yield folder, reference
    sys.modules.pop("faultjob", None)


def spawn(folder, command, out, fault=None):
    """`python faultjob.py run|resume OUT` with the thread count of this process; its output
    is the steps checkpointed, its errors go to FOLDER/errors.txt."""
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    env.pop("FAULT", None)
    if fault:
        env["FAULT"] = fault
    argv = [sys.executable, str(folder / "faultjob.py"), command, str(out)]
    with open(folder / "errors.txt", "w") as errors:
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)


def params(result) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in result.net.parameters()])


def without_time(history):
    return [{k: v for k, v in h.items() if k != "time"} for h in history]


def check_after_kill(out) -> tuple[int, int]:
    """Every checkpoint loads (its digest checked), and so does the run; the only other files
    are temporary ones of an interrupted write (.NAME.pt.XXXX), which no loader reads.
    Returns last.pt's step and the number of temporary files."""
    names = os.listdir(out / "checkpoints")
    temporary = [n for n in names if n.startswith(".") and ".pt." in n]
    done = [n for n in names if n not in temporary]
    assert "last.pt" in done and all(n.endswith(".pt") for n in done), names
    states = {n: checkpoint.load(out / "checkpoints" / n) for n in done}
    assert torch.isfinite(params(pinn.load(out))).all()
    return states["last.pt"]["step"], len(temporary)


def assert_same_run(out, reference):
    resumed = pinn.load(out)
    assert torch.equal(params(resumed), params(reference))
    assert without_time(resumed.history) == without_time(reference.history)
    assert (out / "metrics.json").is_file()
    assert not [n for n in os.listdir(out / "checkpoints") if n.startswith(".")]


@pytest.mark.parametrize(
    "kills, seed",
    [(2, 5), pytest.param(10, 10, marks=pytest.mark.slow)],  # 5: once in Adam, once in L-BFGS
    ids=["2-kills", "10-kills"],
)
def test_sigkill_at_random_moments_then_resume_gives_the_same_parameters(job, kills, seed):
    """Each kill comes a few milliseconds after the checkpoint of a step drawn uniformly from
    those left, or up to half a second into writing the results; a run whose training is
    done, or that finishes before its kill, is checked and another started."""
    folder, reference = job
    rng = random.Random(seed)
    total = sum(stage["steps"] for stage in runs.read_config(folder / "reference")["stages"])
    moments, finished = [], 0
    out = folder / f"kills-{kills}-run-0"
    while len(moments) < kills:
        last = out / "checkpoints" / "last.pt"
        start = checkpoint.load(last)["step"] if last.exists() else 0
        target = rng.randint(start + 1, total + 10) if start < total else None
        proc = spawn(folder, "resume" if (out / "config.json").exists() else "run", out)
        for line in proc.stdout:
            if target is not None and int(line) >= min(target, total):
                time.sleep(rng.uniform(0, 0.005) + 0.05 * max(target - total, 0))
                proc.send_signal(signal.SIGKILL)
                break
        if proc.wait() == 0:  # finished before the kill: check it, start another run
            assert_same_run(out, reference)
            finished += 1
            out = folder / f"kills-{kills}-run-{finished}"
            continue
        assert proc.returncode == -signal.SIGKILL, (folder / "errors.txt").read_text()
        moments.append((target, *check_after_kill(out)))
    proc = spawn(folder, "resume", out)
    assert proc.wait(timeout=300) == 0, (folder / "errors.txt").read_text()
    assert_same_run(out, reference)
    print(f"kills (target step, step of last.pt, temporary files): {moments}; runs: {finished + 1}")


def test_kills_inside_checkpoint_writes_keep_the_previous_checkpoint(job):
    """A run killed halfway through its 40th checkpoint write (that of step 41: the first is
    at step 2), then its resume killed with its 20th written but not renamed (step 61): each
    time last.pt is the checkpoint before, the temporary file is never loaded, and the last
    resume ends as the uninterrupted run."""
    folder, reference = job
    out, last = folder / "cut", folder / "cut" / "checkpoints" / "last.pt"
    for command, fault, step in (("run", "partial:40", 40), ("resume", "unrenamed:20", 60)):
        proc = spawn(folder, command, out, fault=fault)
        assert proc.wait(timeout=300) == -signal.SIGKILL, (folder / "errors.txt").read_text()
        (temporary,) = [p for p in last.parent.iterdir() if p.name.startswith(".last.pt.")]
        assert checkpoint.load(last)["step"] == step
        with pytest.raises(CheckpointError) as e:  # not offered in place of a missing file
            checkpoint.load(last.parent / "missing.pt")
        assert temporary.name not in str(e.value)
        if fault.startswith("partial"):
            with pytest.raises(CheckpointError, match="is corrupted"):
                checkpoint.load(temporary)
    proc = spawn(folder, "resume", out)
    assert proc.wait(timeout=300) == 0, (folder / "errors.txt").read_text()
    assert_same_run(out, reference)


# -- damaged files, in-process --------------------------------------------------------------
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A real checkpoint of a small run, and its bytes."""
    path = tmp_path_factory.mktemp("ckpt") / "last.pt"
    p = pinn.Problem(pinn.Time(0.0, 1.0), pde=lambda f: f.u_t + f.u, n_pde=16)

    class One:
        def due(self, step):
            return True

        def save(self, state, stage_end=None):
            checkpoint.save(path, state)

    pinn.train(
        p, pinn.MLP(p, hidden=[4]), [pinn.Adam(steps=3), pinn.LBFGS(steps=2)], checkpoints=One()
    )
    return path, path.read_bytes()


def test_a_truncated_checkpoint_is_detected(saved, tmp_path):
    path, data = saved
    for n in sorted({0, 1, 100, len(data) // 2, len(data) - 100, len(data) - 22, len(data) - 1}):
        (tmp_path / "last.pt").write_bytes(data[:n])
        with pytest.raises(CheckpointError, match="last.pt is corrupted"):
            checkpoint.load(tmp_path / "last.pt")


def test_a_damaged_byte_is_detected_or_harmless(saved, tmp_path):
    """Flip single bytes all over the file: either loading fails clearly, or it gives back
    exactly what was written (the byte was padding, a CRC that torch does not check, ...)."""
    path, data = saved
    original = checkpoint.load(path)
    rng = np.random.default_rng(0)
    caught = 0
    for position in rng.choice(len(data), size=150, replace=False):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        (tmp_path / "last.pt").write_bytes(bytes(damaged))
        try:
            state = checkpoint.load(tmp_path / "last.pt")
        except CheckpointError as e:
            assert "last.pt" in str(e)
            caught += 1
            continue
        assert checkpoint.digest(state) == checkpoint.digest(original), position
    assert caught > 100  # most bytes are data: the digest is what catches those


def test_temporary_files_of_a_killed_write_are_never_offered_and_are_cleaned_up(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    (folder / ".last.pt.k2j4h1").write_bytes(b"half a checkpoint")
    (folder / "stage-0-adam.pt").write_bytes(b"")
    with pytest.raises(CheckpointError) as e:
        checkpoint.load(folder / "last.pt")
    assert str(e.value).endswith("other checkpoints there: stage-0-adam.pt")
    checkpoint.Checkpoints(folder)
    assert sorted(os.listdir(folder)) == ["stage-0-adam.pt"]


def test_a_run_killed_before_its_first_checkpoint_resumes_from_the_start(job):
    folder, reference = job
    out = folder / "early"  # config.json written, killed before the first step
    runs.write_config(out, runs.read_config(folder / "reference"))
    assert torch.equal(params(runs.resume(out, quiet=True)), params(reference))
