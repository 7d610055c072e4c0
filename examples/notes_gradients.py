"""Vanishing and exploding gradients (the notes' lecture I.2 and Glorot & Bengio 2010).

Part 1: the product of 100 random Gaussian 5 x 5 matrices explodes (entries ~1e28 in the
notes), just as a signal or gradient passed through 100 layers with unscaled weights does.
Part 2: the gradient norm of each layer's weights in a 20-layer, 64-wide network at
initialization, with tanh and with sigmoid, Xavier-initialized (variance 2 / (fan_in +
fan_out)) and naive N(0, 1). Tanh with Xavier keeps the norms level across the layers; naive
weights (a gain of about sqrt(64) = 8 per layer) make them explode towards the first layers;
sigmoid, whose slope is at most 1/4, makes them vanish towards the first layers under Xavier.

    OMP_NUM_THREADS=1 python examples/notes_gradients.py --out docs/training
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from _figures import run, save

import pinn  # noqa: E402

DEPTH, WIDTH = 20, 64


def matrix_product(n=100, size=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    m = torch.randn(size, size, generator=g, dtype=torch.float64)
    product = m.clone()
    for _ in range(n - 1):
        product = product @ torch.randn(size, size, generator=g, dtype=torch.float64)
    return m, product


def layer_gradients(activation, init, seed=0):
    """The norm of d(loss)/d(W_k) for each layer k of a DEPTH-layer network at initialization."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(256, 1, generator=g, dtype=torch.float64) * 2 - 1
    p = pinn.Supervised(x, torch.sin(3 * x))
    torch.manual_seed(seed)
    net = pinn.MLP(p, hidden=[WIDTH] * DEPTH, activation=activation, init=init).double()
    p.losses(net, p.sample(dtype=torch.float64))["data"].backward()
    return [layer.weight.grad.norm().item() for layer in net.linears]


def main(out: Path) -> None:
    one, product = matrix_product()
    print(
        f"a single 5x5 Gaussian matrix: max |entry| {one.abs().max():.3f}; the product of 100: "
        f"max |entry| {product.abs().max():.3e}"
    )
    fig, ax = plt.subplots(figsize=(8, 5))
    for k, activation in enumerate(("tanh", "sigmoid")):
        for init, style in (("xavier_normal", "-o"), ("normal", "--s")):
            norms = torch.tensor(layer_gradients(activation, init))
            print(
                f"{activation:7s} {init:13s}: |grad W| first layer {norms[0]:.2e}, "
                f"last layer {norms[-1]:.2e}, ratio first/last {norms[0] / norms[-1]:.1e}"
            )
            ax.semilogy(
                range(1, len(norms) + 1),
                norms,
                f"C{k}{style}",
                ms=4,
                label=f"{activation}, {'Xavier' if init != 'normal' else 'N(0, 1)'}",
            )
    ax.set(
        xlabel="layer",
        ylabel="|dJ/dW| at initialization",
        title=f"gradient norm per layer, {DEPTH} hidden layers of {WIDTH}",
    )
    ax.legend()
    save(fig, out, "gradients.png")


if __name__ == "__main__":
    run(main, __doc__)
