"""Long-term prediction of a chaotic system: a network trained on a Lorenz-63 trajectory.

The notes' demonstration (Uribarri & Mindlin): a 3-64-64-3 tanh network learns one RK4 step
(dt = 0.01) of Lorenz-63 from 100 time units of one trajectory (mini-batches of 1000 pairs,
Adam then L-BFGS, z-score input and output scaling), and is then iterated on its own from 20
states it never saw. Its one-step error is tiny, but errors grow like e^(0.906 t) on the
attractor: the forecast follows the truth for a few Lyapunov times (1 / 0.906 = 1.1 time
units) and then diverges. Prints the median time until the error passes 10% of the
attractor's size, in time units and Lyapunov times, and the fitted growth rate of the error.

    OMP_NUM_THREADS=1 python examples/notes_lorenz.py --out docs/training
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
from pinn import assimilation as da  # noqa: E402

DT, LYAPUNOV, TRAIN_STEPS, HORIZON, STARTS = 0.01, 0.906, 10_000, 1000, 20


def data():
    """A training trajectory, and STARTS later stretches of HORIZON steps to forecast."""
    l63 = da.Lorenz63(dt=DT)
    x0 = da.trajectory(l63, torch.tensor([1.0, 1.0, 20.0], dtype=torch.float64), 1000)[-1]
    train = da.trajectory(l63, x0, TRAIN_STEPS)
    tests = da.trajectory(l63, train[-1], 2 * HORIZON * STARTS)
    truths = torch.stack(
        [tests[k * 2 * HORIZON : (2 * k + 1) * HORIZON + 1] for k in range(STARTS)]
    )
    return train, truths.transpose(0, 1)  # (HORIZON + 1, STARTS, 3)


def forecast(result, x0, steps):
    """Iterate the learned step x -> x + net(x) from the states x0 (n, 3)."""
    out = [x0]
    for _ in range(steps):
        out.append(out[-1] + result.predict(out[-1]))
    return torch.stack(out)


def main(out: Path) -> None:
    train, truths = data()
    p = pinn.Supervised(
        train[:-1], train[1:] - train[:-1], names=("x", "y", "z"), fields=("dx", "dy", "dz")
    )
    net = pinn.MLP(p, hidden=[64, 64], input_scaling="zscore", output_scaling="zscore")
    stages = [
        pinn.Adam(steps=3000, lr=3e-3, decay=pinn.CosineDecay(min_lr=1e-4)),
        pinn.LBFGS(steps=500),
    ]
    r = pinn.train(p, net, stages=stages, batch_size=1000, dtype="float64", log_every=500)
    one_step = (r.predict(p.x) - p.y).norm(dim=1).mean().item()
    pred = forecast(r, truths[0], HORIZON)
    err = (pred - truths).norm(dim=2)  # (HORIZON + 1, STARTS)
    size = (train - train.mean(0)).norm(dim=1).square().mean().sqrt().item()
    t = torch.arange(HORIZON + 1) * DT
    valid = torch.tensor([t[(e > 0.1 * size).nonzero()[0, 0]] for e in err.T])
    median_err = err.median(dim=1).values
    grow = (median_err > 1e-2 * size) & (median_err < 0.1 * size)
    rate = (
        torch.linalg.lstsq(
            torch.stack([t[grow], torch.ones(int(grow.sum()))], 1).double(),
            median_err[grow].log().unsqueeze(1),
        )
        .solution[0, 0]
        .item()
    )
    print(
        f"mean one-step error {one_step:.2e} (step size ~{p.y.norm(dim=1).mean():.2f}); "
        f"attractor size {size:.1f}"
    )
    print(
        f"forecast within 10% of the attractor size for a median {valid.median():.2f} time "
        f"units = {valid.median() * LYAPUNOV:.1f} Lyapunov times (range {valid.min():.2f} to "
        f"{valid.max():.2f}); the error grows at rate {rate:.2f} (Lyapunov exponent 0.906)"
    )

    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    axes[0].plot(t, truths[:, 0, 0], "k", label="truth")
    axes[0].plot(t, pred[:, 0, 0], "C1--", label="network")
    axes[0].axvline(valid[0], color="0.5", lw=0.8)
    axes[0].set(xlabel="t", ylabel="x", title="x(t) from an unseen state: truth vs forecast")
    axes[0].legend()
    axes[1].semilogy(t, err, color="C0", alpha=0.2, lw=0.8)
    axes[1].semilogy(t, median_err, "C0", label="forecast error (median of 20)")
    e0 = median_err[grow][0].item() * math.exp(-LYAPUNOV * t[grow][0].item())
    axes[1].semilogy(t, e0 * torch.exp(LYAPUNOV * t), "k:", label="e^(0.906 t)")
    axes[1].axhline(0.1 * size, color="0.5", lw=0.8, label="10% of the attractor size")
    axes[1].set(xlabel="t", ylim=(1e-6, 100), title="error growth")
    axes[1].legend()
    save(fig, out, "lorenz.png")


if __name__ == "__main__":
    run(main, __doc__)
