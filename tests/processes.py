"""Helpers for tests that run `pinn` in a subprocess and interrupt it."""

import time
from pathlib import Path

import pinn


def wait_for_second_stage(proc, last, timeout=120) -> None:
    """Wait until `proc` has written a checkpoint `last` inside its second stage (L-BFGS in
    the tests' recipes), or has ended, or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        state = pinn.checkpoint.load(last) if last.exists() else {}
        if state.get("stage") == 1 and state["stage_step"] > 0:
            return
        time.sleep(0.02)


def worker(launcher: int, rank: int, timeout=60) -> int:
    """The pid of torchrun's (pid `launcher`) worker process of `rank`, once it is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in Path("/proc").iterdir():
            try:
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                environ = (proc / "environ").read_bytes().split(b"\0")
            except (OSError, ValueError, IndexError):
                continue
            if parent == launcher and f"RANK={rank}".encode() in environ:
                return int(proc.name)
        time.sleep(0.05)
    raise TimeoutError(f"no worker of rank {rank} under pid {launcher}")
