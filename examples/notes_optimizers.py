"""Optimizers on one PINN problem: SGD, momentum, RMSprop, Adam, and Adam then L-BFGS.

The 2-d Poisson problem of the library (problems/poisson2d.py, 1000 collocation points), the
same 3 x 20 tanh network and seed for each, 2000 steps in all (Adam → L-BFGS: 1000 + 1000).
Loss and relative L2 error of each on one log-scale plot; prints the final ones. As the notes
say, a second-order method after a first-order one does best.

    OMP_NUM_THREADS=1 python examples/notes_optimizers.py --out docs/training
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from _figures import run, save

import pinn  # noqa: E402
from problems import poisson2d  # noqa: E402

STEPS = 2000
RUNS = {
    "SGD": [pinn.SGD(steps=STEPS, lr=1e-3)],
    "SGD + momentum 0.9": [pinn.SGD(steps=STEPS, lr=1e-3, momentum=0.9)],
    "RMSprop": [pinn.RMSprop(steps=STEPS, lr=1e-3)],
    "Adam": [pinn.Adam(steps=STEPS, lr=1e-3)],
    "Adam → L-BFGS": [pinn.Adam(steps=STEPS // 2, lr=1e-3), pinn.LBFGS(steps=STEPS // 2)],
}


def main(out: Path) -> None:
    problem = poisson2d.problem(n_pde=1000, n_bc=200)
    fig, ax = plt.subplots(figsize=(8, 5))
    for k, (name, stages) in enumerate(RUNS.items()):
        net = pinn.MLP(problem, hidden=[20] * 3, activation="tanh")
        r = pinn.train(problem, net, stages=stages, seed=0, log_every=20, n_eval=2500)
        steps = [h["step"] for h in r.history]
        ax.semilogy(steps, [h["loss"] for h in r.history], f"C{k}-", label=f"{name}: loss")
        ax.semilogy(steps, [h["error"] for h in r.history], f"C{k}--", label=f"{name}: error")
        print(
            f"{name:20s} loss {r.history[-1]['loss']:.3e}  relative L2 error "
            f"{r.history[-1]['error']:.3e}  ({r.info['train_time']:.0f} s)"
        )
    ax.set(xlabel="step", title="poisson2d: loss (solid) and relative L2 error (dashed)")
    ax.legend(fontsize=8, ncol=2)
    save(fig, out, "optimizers.png")


if __name__ == "__main__":
    run(main, __doc__)
