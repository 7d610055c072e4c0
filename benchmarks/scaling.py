"""`python -m benchmarks.scaling [--rounds 3] [--points 8000] [--procs 2]`: data-parallel
scaling of `pinn.train` under torchrun (gloo on the CPU, or NCCL with `--device cuda`).

On burgers' 2-[20]x8-1 network, time per Adam step and per L-BFGS iteration (after 30 warm-up
steps) of: one process, one thread (the baseline); one process with `--procs` threads (what
the cores give without torchrun); `--procs` processes of one thread on the same points
(strong scaling: efficiency t1 / (P tP)); and on P times the points (weak scaling: t1 / tP).
The runs alternate round by round, each alone, in fresh processes; medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

JOB = """
import json, os, sys, time, torch
import pinn
from problems import burgers
points, steps, device, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
problem = burgers.problem(n_pde=points)
net = pinn.MLP(problem, hidden=[20] * 8, activation="tanh")
marks = {}
def on_step(info):
    marks.setdefault(info["stage"], []).append((info["stage_step"], time.perf_counter()))
pinn.train(problem, net, stages=[pinn.Adam(steps=steps), pinn.LBFGS(steps=steps)],
           engine="taylor", device=device, log_every=10, on_step=on_step)
def per_step(stage):
    (s0, t0), (s1, t1) = [m for m in marks[stage] if m[0] >= 30][0], marks[stage][-1]
    return (t1 - t0) / (s1 - s0)
if int(os.environ.get("RANK", "0")) == 0:
    with open(out, "w") as f:
        json.dump({"adam": per_step("adam"), "lbfgs": per_step("lbfgs")}, f)
"""


def timed(procs: int, threads: int, points: int, steps: int, device: str) -> dict:
    """Seconds per Adam step and per L-BFGS iteration of one run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "times.json"
        script = Path(tmp) / "job.py"
        script.write_text(JOB)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(threads)}
        launcher = [sys.executable]
        if procs > 1:
            launcher += ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={procs}"]
        args = [str(script), str(points), str(steps), device, str(out)]
        done = subprocess.run([*launcher, *args], env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{launcher[1:]} {args} failed:\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--points", type=int, default=8000, help="collocation points (strong)")
    parser.add_argument("--steps", type=int, default=150, help="steps of each stage")
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    p, n = args.procs, args.points
    runs = {
        "1 process, 1 thread": (1, 1, n),
        f"1 process, {p} threads": (1, p, n),
        f"{p} processes (strong: same points)": (p, 1, n),
        f"1 process, 1 thread, {p}x points": (1, 1, p * n),
        f"{p} processes ({p}x points: weak)": (p, 1, p * n),
    }
    times = {k: [] for k in runs}
    for r in range(args.rounds):
        order = list(runs) if r % 2 == 0 else list(runs)[::-1]
        for name in order:
            times[name].append(timed(*runs[name], args.steps, args.device))
            print(f"round {r + 1} {name}: {times[name][-1]}", file=sys.stderr, flush=True)
    med = {
        k: {s: statistics.median(t[s] for t in v) for s in ("adam", "lbfgs")}
        for k, v in times.items()
    }
    base, strong, weak = med["1 process, 1 thread"], med[list(runs)[2]], med[list(runs)[4]]
    print(f"| run ({n} points unless said) | Adam ms/step | L-BFGS ms/iteration |")
    print("|---|---|---|")
    for name, m in med.items():
        print(f"| {name} | {1e3 * m['adam']:.1f} | {1e3 * m['lbfgs']:.1f} |")
    for stage in ("adam", "lbfgs"):
        print(
            f"{stage}: strong efficiency t1(n) / ({p} tP(n)) = "
            f"{base[stage] / (p * strong[stage]):.2f}; weak efficiency t1(n) / tP({p}n) = "
            f"{base[stage] / weak[stage]:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
