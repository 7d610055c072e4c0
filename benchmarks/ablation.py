"""`python -m benchmarks.ablation NAME [NAME ...]`: each problem's recipe as it is, then once
without each accuracy technique it uses (each weighting of its list, its sampling strategy,
its network's embedding and random weight factorization, a gated architecture replaced by the
plain MLP of the same width and depth), timed alone. Prints a markdown table (docs/ablation.md).
Run it alone on the machine: two busy processes on two cores distort every time."""

from __future__ import annotations

import argparse
import copy
import time
import warnings

import torch

import pinn
from problems import get


def variants(recipe: dict) -> dict[str, dict]:
    """The recipe ("all on"), and one recipe per technique it uses, without that technique."""
    out = {"all on": recipe}
    weighting = recipe.get("weighting")
    parts = weighting if isinstance(weighting, list) else [weighting] if weighting else []
    for i, w in enumerate(parts):
        rest = parts[:i] + parts[i + 1 :]
        out[f"without {w!r}"] = {**recipe, "weighting": rest or None}
    if recipe.get("sampling") is not None:
        out[f"without {recipe['sampling']!r}"] = {**recipe, "sampling": None}
    net = recipe["net"]
    if net.get("embedding"):
        out["without the embedding"] = {**recipe, "net": {**net, "embedding": None}}
    if net.get("rwf"):
        out["without rwf"] = {**recipe, "net": {**net, "rwf": False}}
    if net.get("arch", "MLP") != "MLP":
        depth = net.get("blocks", 3) * 3 if net["arch"] == "PirateNet" else len(net["hidden"])
        width = net.get("width", 256) if net["arch"] == "PirateNet" else net["hidden"][0]
        plain = {k: v for k, v in net.items() if k in ("activation", "embedding", "rwf")}
        out["plain MLP"] = {**recipe, "net": {**plain, "hidden": [width] * depth}}
    return out


def run(name: str, recipe: dict) -> tuple[float, float]:
    """(error, seconds) of one recipe of problem `name`."""
    recipe = copy.deepcopy(recipe)
    problem = get(name).problem(**recipe.pop("problem", {}))
    net = pinn.make_net(problem, **recipe.pop("net"))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = pinn.train(problem, net, **recipe)
    return result.error(), time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    print("| problem | variant | error | time |")
    print("|---|---|---|---|")
    for name in args.names:
        for label, recipe in variants(get(name).recipe()).items():
            error, seconds = run(name, recipe)
            print(f"| {name} | {label} | {error:.1e} | {seconds:.0f} s |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
