"""Classification with the same toolbox: a 64-15-10 network on scikit-learn's 8 x 8 digits.

In the spirit of the notes' 784-15-10 MNIST network: 1797 bundled 8 x 8 images (no
download), 1437 for training and 360 held out; a sigmoid hidden layer of 15 units, a softmax
output (inside the cross-entropy loss), SGD with momentum on mini-batches of 32, reshuffled
every epoch, 30 epochs. Prints the model summary, the loss per epoch and the test accuracy;
plots the losses and some test digits with their predicted labels.

Needs scikit-learn (`pip install scikit-learn`), for the data only.

    OMP_NUM_THREADS=1 python examples/notes_digits.py --out docs/training
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

EPOCHS, BATCH = 30, 32


def digits(seed=0, test=360):
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SystemExit("this example needs scikit-learn: pip install scikit-learn") from None
    d = load_digits()
    x, y = torch.as_tensor(d.data, dtype=torch.float64), torch.as_tensor(d.target)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    return (x[order[test:]], y[order[test:]]), (x[order[:test]], y[order[:test]])


def main(out: Path) -> None:
    (x, y), (x_test, y_test) = digits()
    p = pinn.Supervised(x, y, loss="cross_entropy", name="digits")
    net = pinn.MLP(p, hidden=[15], activation="sigmoid")
    print(pinn.summary(net))
    per_epoch = math.ceil(len(x) / BATCH)
    r = pinn.train(
        p,
        net,
        stages=[pinn.SGD(steps=EPOCHS * per_epoch, lr=0.5, momentum=0.9)],
        batch_size=BATCH,
        log_every=per_epoch,
        validation=(x_test, y_test),
    )
    for h in r.history[:: EPOCHS // 6]:
        print(
            f"epoch {h['epoch']:3d}: training loss {h['loss']:.4f}, test loss {h['val_loss']:.4f}"
        )
    predicted = r.predict(x_test).argmax(1)
    accuracy = (predicted == y_test).double().mean().item()
    print(
        f"test accuracy after {EPOCHS} epochs: {accuracy:.2%} ({int((predicted == y_test).sum())}"
        f" of {len(y_test)})"
    )

    fig = plt.figure(figsize=(12, 4))
    grid = fig.add_gridspec(3, 7)
    ax = fig.add_subplot(grid[:, :3])
    epochs = [h["epoch"] for h in r.history]
    ax.semilogy(epochs, [h["loss"] for h in r.history], label="training (mean over the epoch)")
    ax.semilogy(epochs, [h["val_loss"] for h in r.history], label="test")
    ax.set(xlabel="epoch", ylabel="cross-entropy", title=f"test accuracy {accuracy:.1%}")
    ax.legend()
    for k in range(12):
        sub = fig.add_subplot(grid[k // 4, 3 + k % 4])
        sub.imshow(x_test[k].reshape(8, 8), cmap="gray_r")
        ok = predicted[k] == y_test[k]
        sub.set_title(
            f"predicted {int(predicted[k])}" + ("" if ok else f" (is {int(y_test[k])})"),
            color="k" if ok else "r",
            fontsize=9,
        )
        sub.axis("off")
    save(fig, out, "digits.png")


if __name__ == "__main__":
    run(main, __doc__)
