"""Capacity, overfitting and early stopping on noisy samples of sin(x) (the notes' 1-100-1 fits).

Part 1: a 1-100-1 network with ReLU and with tanh fitted to 40 noisy samples: ReLU gives a
piecewise-linear fit, tanh a smooth one. Part 2: 20 noisy samples, 20 held out between them; a 10-neuron
hidden layer has the capacity to chase the noise, so past some epoch its training loss keeps
falling while its validation loss rises; a 3-neuron layer overfits only slightly.
Early stopping (patience 200 epochs) stops the 10-neuron run after its best validation
epoch and restores the parameters of that epoch.

    OMP_NUM_THREADS=1 python examples/notes_overfitting.py --out docs/training
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

NOISE, EPOCHS = 0.3, 5000


def samples(n, seed, offset=0.0):
    """`n` noisy samples of sin at evenly spaced x in [0, 2 pi], shifted by `offset` spacings."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.arange(n, dtype=torch.float64).unsqueeze(1) + 0.25 + offset) * 2 * math.pi / n
    return x, torch.sin(x) + NOISE * torch.randn(n, 1, generator=g, dtype=torch.float64)


def fit(x, y, hidden, activation, epochs, **kw):
    """Full-batch Adam: one step is one epoch; the history logs every epoch."""
    p = pinn.Supervised(x, y)
    net = pinn.MLP(
        p,
        hidden=[hidden],
        activation=activation,
        init="he_normal" if activation == "relu" else "xavier_normal",
    )
    stages = [pinn.Adam(steps=epochs, lr=1e-2)]
    return pinn.train(p, net, stages=stages, log_every=1, dtype="float64", **kw)


def main(out: Path) -> None:
    grid = torch.linspace(0, 2 * math.pi, 400, dtype=torch.float64).unsqueeze(1)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    x, y = samples(40, seed=0)
    axes[0].plot(x, y, "k.", label="noisy samples")
    for activation in ("relu", "tanh"):
        r = fit(x, y, 100, activation, 2000)
        err = r.error(grid, torch.sin(grid))
        print(
            f"1-100-1 {activation:4s}: training loss {r.history[-1]['loss']:.4f}, "
            f"relative L2 error against sin(x) {err:.3f}"
        )
        axes[0].plot(grid, r.predict(grid), label=f"1-100-1 {activation}")
    axes[0].set(title="1-100-1: ReLU vs tanh", xlabel="x")
    axes[0].legend()

    x, y = samples(20, seed=1)
    held_out = samples(20, seed=101, offset=0.5)  # between the training samples
    axes[1].plot(x, y, "k.", label="training samples")
    axes[1].plot(*held_out, "kx", label="validation samples")
    for hidden, style in ((10, "-"), (3, "--")):
        r = fit(x, y, hidden, "tanh", EPOCHS, validation=held_out)
        epochs = [h["epoch"] for h in r.history]
        train = [h["loss"] for h in r.history]
        val = [h["val_loss"] for h in r.history]
        best = min(range(len(val)), key=val.__getitem__)
        print(
            f"1-{hidden}-1 tanh: best validation loss {val[best]:.4f} at epoch {epochs[best]}; "
            f"at epoch {epochs[-1]} training loss {train[-1]:.4f} "
            f"(at best {train[best]:.4f}), validation loss {val[-1]:.4f}"
        )
        axes[2].semilogy(epochs, train, "C0" + style, label=f"1-{hidden}-1 training")
        axes[2].semilogy(epochs, val, "C1" + style, label=f"1-{hidden}-1 validation")
        axes[1].plot(grid, r.predict(grid), style, label=f"1-{hidden}-1, epoch {epochs[-1]}")
    stopped = fit(
        x,
        y,
        10,
        "tanh",
        EPOCHS,
        validation=held_out,
        early_stopping=pinn.EarlyStopping(patience=200),
    )
    info = stopped.info["early_stopping"]
    print(
        f"1-10-1 tanh with early stopping: stopped at epoch {info['stopped_at']}, restored "
        f"epoch {info['restored_step']} (validation loss {info['best_val_loss']:.4f})"
    )
    axes[1].plot(
        grid,
        stopped.predict(grid),
        ":",
        label=f"1-10-1, early stop (epoch {info['restored_step']})",
    )
    axes[2].axvline(info["restored_step"], color="0.5", lw=0.8)
    axes[1].set(title="capacity: 10 vs 3 hidden neurons", xlabel="x")
    axes[1].legend(fontsize=8)
    axes[2].set(title="loss per epoch (line: early-stopping choice)", xlabel="epoch")
    axes[2].legend(fontsize=8)
    save(fig, out, "overfitting.png")


if __name__ == "__main__":
    run(main, __doc__)
