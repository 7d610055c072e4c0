"""Helpers for tests that run `pinn` in a subprocess and interrupt it."""

import time

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
