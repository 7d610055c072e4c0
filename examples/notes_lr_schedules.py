"""Learning-rate schedules on noisy gradients: SGD on f(x) = x1² + 2·x2² from (-5, -2.5).

The notes' demonstration (lecture I.2): every gradient gets N(0, 1) noise added, as a
mini-batch gradient would. A constant rate (0.1) keeps jittering around the minimum; an
exponential decay 0.1·e^(-0.1 t) freezes before it gets there; a power decay
0.1 / (1 + t)^0.5 keeps moving and settles closest. Prints the final distance to the minimum
(seed 0, and the mean over 500 seeds) and plots the seed-0 paths over the contours of f.

    OMP_NUM_THREADS=1 python examples/notes_lr_schedules.py --out docs/training
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _figures import run, save

import pinn  # noqa: E402

START, LR, STEPS, SEEDS = (-5.0, -2.5), 0.1, 1000, 500
SCHEDULES = {
    "constant": pinn.Constant(),
    "exponential": pinn.ExponentialDecay(gamma=math.exp(-0.1), every=1),
    "power": pinn.PowerDecay(alpha=0.5, beta=1.0),
}


def descend(schedule, steps=STEPS, seeds=SEEDS):
    """Paths (steps + 1, seeds, 2) of SGD with noisy gradients, one independent run per row."""
    noise = torch.Generator().manual_seed(0)
    x = torch.tensor(START, dtype=torch.float64).repeat(seeds, 1).requires_grad_(True)
    stage = pinn.SGD(steps=steps, lr=LR, decay=schedule)
    optimizer = stage.build([x])
    scheduler = schedule.scheduler(optimizer, steps)
    path = [x.detach().clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        (x[:, 0] ** 2 + 2 * x[:, 1] ** 2).sum().backward()  # each row its own f
        x.grad += torch.randn(x.shape, generator=noise, dtype=x.dtype)
        optimizer.step()
        scheduler.step()
        path.append(x.detach().clone())
    return torch.stack(path)


def main(out: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
    g1, g2 = torch.meshgrid(
        torch.linspace(-5.5, 1.5, 200), torch.linspace(-3, 1.5, 200), indexing="ij"
    )
    for ax, (name, schedule) in zip(axes, SCHEDULES.items()):
        path = descend(schedule)
        dist = path[-1].norm(dim=1)
        print(
            f"{name:12s} final distance to the minimum: seed 0 {dist[0]:.4f}, "
            f"mean over {SEEDS} seeds {dist.mean():.4f}"
        )
        ax.contour(g1, g2, g1**2 + 2 * g2**2, levels=20, colors="0.8")
        ax.plot(path[:, 0, 0], path[:, 0, 1], ".-", lw=0.6, ms=2)
        ax.plot(0, 0, "k+", ms=12)
        ax.set(title=f"{name}: |x - x*| = {dist[0]:.3f}", xlabel="x1")
    axes[0].set_ylabel("x2")
    save(fig, out, "lr_schedules.png")


if __name__ == "__main__":
    run(main, __doc__)
