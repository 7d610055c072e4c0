"""`python -m benchmarks.trainer_ab OLD_TREE [--rounds 5] [--steps 400]`: Adam steps/s of
`pinn.train` on burgers' 2-[20]x8-1 network (the same in both trees, whatever their recipes) in this source tree and in OLD_TREE (another checkout),
run alone and interleaved A, B, B, A, A, B, ... in fresh processes (the order alternates, as
the second of two back-to-back processes measured slower on a busy VM), so that a change of the trainer
is measured against its baseline side by side. The first 50 steps (compiling, warm-up) are
not timed. Prints each round and the median ratio new / old per engine."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

JOB = """
import sys, time, torch
sys.path.insert(0, sys.argv[1])
import pinn
from problems import burgers
torch.set_num_threads(int(sys.argv[4]))
problem = burgers.problem()
net = pinn.MLP(problem, hidden=[20] * 8, activation="tanh")
marks = {}
def on_step(info):
    if info["step"] in (50, int(sys.argv[3])):
        marks[info["step"]] = time.perf_counter()
pinn.train(problem, net, stages=[pinn.Adam(steps=int(sys.argv[3]), lr=1e-3)],
           engine=sys.argv[2], on_step=on_step, log_every=100)
print((int(sys.argv[3]) - 50) / (marks[int(sys.argv[3])] - marks[50]))
"""


def steps_per_s(tree: Path, engine: str, steps: int, threads: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", JOB, str(tree), engine, str(steps), str(threads)],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the baseline checkout")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engines", default="taylor,compiled")
    args = parser.parse_args(argv)
    new = Path(__file__).resolve().parents[1]
    for engine in args.engines.split(","):
        ratios = []
        for k in range(args.rounds):
            pair = [(args.old.resolve(), "a"), (new, "b")][:: 1 if k % 2 == 0 else -1]
            speeds = {
                key: steps_per_s(tree, engine, args.steps, args.threads) for tree, key in pair
            }
            a, b = speeds["a"], speeds["b"]
            ratios.append(b / a)
            print(f"{engine} round {k + 1}: old {a:.1f} new {b:.1f} steps/s, new/old {b / a:.3f}")
        print(f"{engine}: median new/old {statistics.median(ratios):.3f} over {args.rounds} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
