"""The four benchmark suites: throughput, time to accuracy, memory, scaling.

Each returns plain dicts (JSON-ready). Timed configurations are interleaved (A, B, A, B, ...)
in one process, so a machine whose load drifts slows all of them alike; medians are reported.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

import pinn
from pinn import engines

from . import dde
from .cases import ENGINES, Case, Runner, cases, sync, timed


def _runners(case: Case, configs, device, notes: list) -> list:
    out = []
    for config in configs:
        if config == "deepxde":
            version = dde.available()
            if version is None:
                notes.append("deepxde: not importable (pip install deepxde==1.15.0); skipped")
                continue
            out.append(dde.DeepXDERunner(case, device))
        else:
            out.append(Runner(case, config, device))
    return out


def _cheap(configs, drop: tuple, notes: list, where: str) -> list:
    """`configs` less those in `drop` (slow to start: quick runs leave them out), with a note."""
    left = [c for c in configs if c not in drop]
    if len(left) < len(configs):
        notes.append(f"quick run: {where} without {', '.join(c for c in configs if c in drop)}")
    return left


# -- (1) throughput ---------------------------------------------------------------------------
def throughput(quick: bool, device, configs, notes: list) -> list[dict]:
    """Adam steps/s, L-BFGS function evaluations/s and L-BFGS iterations/s of every
    configuration on every case."""
    rounds, steps, iters = (5, 3, 3) if quick else (15, 5, 5)
    rows = []
    for i, case in enumerate(cases(quick)):
        torch.compiler.reset()  # dynamo's per-function cache holds at most 8 compiled variants
        drop = ("compiled",) if quick and i > 0 else ()  # compiling takes 5-50 s
        runners = _runners(case, _cheap(configs, drop, notes, case.name), device, notes)
        first = {r.config: timed(r.adam, 1)[0] for r in runners}  # includes compiling
        adam = {r.config: [] for r in runners}
        for _ in range(rounds):
            for r in runners:
                adam[r.config].append(timed(r.adam, steps)[0] / steps)
        for r in runners:  # the first L-BFGS round compiles nothing new but warms the history
            r.lbfgs(iters)
        lbfgs = {r.config: [] for r in runners}  # (evaluations/s, iterations/s) per round
        for _ in range(rounds):
            for r in runners:
                seconds, evals = timed(r.lbfgs, iters)
                lbfgs[r.config].append((evals / seconds, iters / seconds))
        for r in runners:
            step = statistics.median(adam[r.config])
            rows.append(
                {
                    "case": case.name,
                    "config": r.config,
                    "points": case.n,
                    "hidden": list(case.hidden),
                    "adam_ms": 1e3 * step,
                    "adam_steps_per_s": 1 / step,
                    "lbfgs_evals_per_s": statistics.median(e for e, _ in lbfgs[r.config]),
                    "lbfgs_iters_per_s": statistics.median(i for _, i in lbfgs[r.config]),
                    "first_step_s": first[r.config],
                    "default": r.config == case.default_engine(),
                    "adam_ms_all": [1e3 * t for t in adam[r.config]],
                }
            )
    for row in rows:  # ratios to the hand-written loop and to DeepXDE, case by case
        for ref in ("handwritten", "deepxde"):
            base = next((b for b in rows if b["case"] == row["case"] and b["config"] == ref), None)
            if base is not None:
                row[f"adam_vs_{ref}"] = row["adam_steps_per_s"] / base["adam_steps_per_s"]
                row[f"lbfgs_vs_{ref}"] = row["lbfgs_evals_per_s"] / base["lbfgs_evals_per_s"]
                row[f"lbfgs_iters_vs_{ref}"] = row["lbfgs_iters_per_s"] / base["lbfgs_iters_per_s"]
    return rows


# -- (2) time to accuracy ---------------------------------------------------------------------
def accuracy(quick: bool, device, configs, notes: list, target=1e-3, budget=None) -> list[dict]:
    """Train each problem's recipe with each engine in `configs` until relative L2 <= target
    (or `budget` s).

    The error is checked every 50 steps on a fixed 4,096-point grid; checking time is not
    counted, compiling is. Budgets (unless given): poisson2d 60 s, burgers 30 s (far short
    of its recipe: raise it with --budget). `quick` trains 1,000 points for at most 150 steps
    per stage (the target is then out of reach: it only shows that the suite runs).
    """
    rows = []
    for name, default in (("poisson2d", 60.0), ("burgers", 30.0)):
        limit = budget or (10.0 if quick else default)
        try:
            module = importlib.import_module(f"problems.{name}")
        except ImportError:
            notes.append(f"time to accuracy: problems.{name} not found; skipped")
            continue
        torch.compiler.reset()
        drop = ("compiled",) if quick else ()
        chosen = [e for e in ENGINES if e in configs]
        for engine in _cheap(chosen, drop, notes, f"accuracy of {name}"):
            rows.append(_to_target(module, name, engine, quick, device, target, limit))
    return rows


def _to_target(module, name, engine, quick, device, target, budget) -> dict:
    problem = module.problem(n_pde=1_000) if quick else module.problem()
    recipe = dict(module.recipe())
    net = pinn.MLP(problem, **recipe.pop("net"))
    stages = recipe.pop("stages")
    if quick:
        stages = [dataclasses.replace(s, steps=min(s.steps, 150)) for s in stages]
    grid = torch.as_tensor(problem.domain.grid(4_096), dtype=torch.float32, device=device)
    exact = problem.exact_at(grid)
    state = {"eval": 0.0, "best": float("inf"), "hit": None, "steps": 0, "stop": "recipe end"}
    start = time.perf_counter()

    def check(info) -> bool:
        state["steps"] = info["step"]
        if info["step"] % 50 and info["stage"] != "lbfgs":
            return False
        sync(device)
        now = time.perf_counter()
        elapsed = now - start - state["eval"]  # training time so far, checks excluded
        with torch.no_grad():
            err = float(pinn.relative_l2(net(grid), exact))
        state["eval"] += time.perf_counter() - now
        state["best"] = min(state["best"], err)
        if err <= target:
            state["hit"], state["stop"] = (elapsed, info["step"]), "target"
        elif elapsed > budget:
            state["stop"] = "budget"
        return state["stop"] != "recipe end"

    recipe.update(device=device, log_every=50, engine=engines.resolve(engine, net))
    result = pinn.train(problem, net, stages, on_step=check, **recipe)
    hit = state["hit"]
    return {
        "problem": name,
        "engine": engine,
        "target": target,
        "reached": hit is not None,
        "time_s": hit[0] if hit else None,
        "steps": hit[1] if hit else state["steps"],
        "best_error": state["best"],
        "train_s": result.info["train_time"] - state["eval"],
        "ms_per_step": 1e3 * (result.info["train_time"] - state["eval"]) / max(state["steps"], 1),
        "stopped_by": state["stop"],
    }


# -- (3) memory -------------------------------------------------------------------------------
def memory(quick: bool, device, configs, notes: list) -> list[dict]:
    """Peak memory of a few Adam and L-BFGS steps, each configuration in a fresh process
    (`quick`: the first case only)."""
    rows = []
    for case in cases(quick)[:1] if quick else cases(quick):
        drop = ("compiled", "deepxde") if quick else ()  # DeepXDE takes seconds to import
        for config in _cheap(configs, drop, notes, "memory"):
            cmd = [sys.executable, "-m", "benchmarks", "--probe-memory", case.name, config]
            cmd += ["--device", str(device)] + (["--quick"] if quick else [])
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            if done.returncode:
                notes.append(f"memory {case.name}/{config}: {done.stderr.strip()[-300:]}")
                continue
            line = done.stdout.strip().splitlines()[-1]
            if line.startswith("skip"):
                continue
            rows.append({"case": case.name, "config": config, **json.loads(line)})
    return rows


def probe_memory(case_name: str, config: str, quick: bool, device) -> dict | None:
    """Run in a fresh process: memory before and after 3 Adam steps and 3 L-BFGS iterations."""
    case = next(c for c in cases(quick) if c.name == case_name)
    runners = _runners(case, [config], device, [])
    if not runners:
        return None
    runner = runners[0]
    before = _rss_mb()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    runner.adam(3)
    runner.lbfgs(3)
    out = {"rss_before_mb": before, "peak_rss_mb": _peak_rss_mb()}
    out["peak_increase_mb"] = out["peak_rss_mb"] - before
    if device.type == "cuda":
        out["cuda_peak_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def _rss_mb() -> float:
    return _status("VmRSS")


def _peak_rss_mb() -> float:
    """The process's peak RSS since exec (VmHWM; ru_maxrss would include the forking parent's)."""
    return _status("VmHWM")


def _status(field: str) -> float:
    """A memory field of /proc/self/status in MiB (Linux); ru_maxrss where there is none."""
    try:
        with open("/proc/self/status") as f:
            line = next(x for x in f if x.startswith(field + ":"))
        return int(line.split()[1]) / 1024  # kB
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- (4) scaling ------------------------------------------------------------------------------
def scaling(quick: bool, device, notes: list) -> dict:
    """Time per Adam step against collocation points and against width, with log-log slopes.

    Points: burgers 2-[20]x8-1 on 1k..100k points; width: burgers 2-[w]x4-1, w = 20..256, on
    8,192 points. Engines "reverse" and "taylor" ("compiled" would compile once per size).
    """
    points = [500, 1_000, 2_000, 4_000] if quick else [1_000, 3_000, 10_000, 30_000, 100_000]
    widths = [16, 32, 64] if quick else [20, 32, 64, 128, 256]
    n_width = 1_024 if quick else 8_192
    sweeps = {
        "points": [(n, Case(f"n={n}", "burgers", (20,) * 8, n, 64)) for n in points],
        "width": [(w, Case(f"w={w}", "burgers", (w,) * 4, n_width, 64)) for w in widths],
    }
    out = {}
    for axis, sizes in sweeps.items():
        rows = []
        for size, case in sizes:
            runners = [Runner(case, e, device) for e in ("reverse", "taylor")]
            for r in runners:
                r.adam(1)
            times = {r.config: [] for r in runners}
            for _ in range(3):
                for r in runners:
                    times[r.config].append(timed(r.adam, 1)[0])
            for r in runners:
                rows.append(
                    {axis: size, "engine": r.config, "ms": 1e3 * np.median(times[r.config])}
                )
        fits = {}
        for engine in ("reverse", "taylor"):
            xs = [r[axis] for r in rows if r["engine"] == engine]
            ys = [r["ms"] for r in rows if r["engine"] == engine]
            fits[engine] = float(np.polyfit(np.log(xs), np.log(ys), 1)[0])
        out[axis] = {"rows": rows, "exponent": fits}
    return out
