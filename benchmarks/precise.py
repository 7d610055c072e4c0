"""`python -m benchmarks.precise [NAME ...] [--budget SECONDS]`: each problem's precise
recipe (float64, second-order stage), timed, and beside it Adam -> L-BFGS in float64 given the
same time: the recipe's network, points and Adam stage, then L-BFGS until the recipe's time is
spent. Prints a markdown table (docs/problems.md). `--budget` skips the precise run and gives
L-BFGS that many seconds in all (for one problem)."""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import torch

import pinn
from problems import get

NAMES = ("poisson2d", "heat1d", "oscillator", "helmholtz2d", "wave1d", "burgers")


def run(name: str, budget: float | None = None) -> tuple[float, float, str]:
    """(error, seconds, how the second stage ended) of the precise recipe, or with `budget`
    of Adam -> L-BFGS stopped once `budget` seconds have passed."""
    module = get(name)
    recipe = module.recipe("precise")
    problem = module.problem(**recipe.pop("problem", {}))
    net = pinn.make_net(problem, **recipe.pop("net"))
    stop = None
    if budget is not None:
        recipe["stages"] = [recipe["stages"][0], pinn.LBFGS(steps=10**7)]

        def stop(info):  # `start` is set below, before training
            return time.perf_counter() - start >= budget

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = pinn.train(problem, net, on_step=stop, log_every=100, **recipe)
    stage = result.info["stages"][-1]
    ended = "; ".join(result.info.get("notes", [])) or "ran its time"
    steps = f"{stage['last_step'] - stage['first_step'] + 1} iterations, {ended}"
    return result.error(), time.perf_counter() - start, steps


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(NAMES))
    parser.add_argument("--budget", type=float)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    print("| problem | precise recipe: error | time | Adam → L-BFGS, float64, same time: error |")
    print("|---|---|---|---|")
    for name in args.names:
        error, seconds, _ = (None, args.budget, "") if args.budget else run(name)
        baseline, _, steps = run(name, budget=seconds)
        shown = "—" if error is None else f"{error:.1e}"
        print(f"| {name} | {shown} | {seconds:.0f} s | {baseline:.1e} ({steps}) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
