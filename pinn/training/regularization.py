"""L1 (lasso) and L2 (ridge) penalties on the weight matrices, as loss terms.

As loss terms (rather than optimizer options) they act under every optimizer, L-BFGS included.
Decoupled weight decay is the other kind of L2: `pinn.AdamW(weight_decay=...)`.
"""

from __future__ import annotations

import torch


def weights(net: torch.nn.Module) -> list[torch.Tensor]:
    """The weight matrices of `net`: parameters with two or more dimensions (no biases, no
    batch-norm scales)."""
    return [p for p in net.parameters() if p.ndim > 1]


def penalties(ws: list[torch.Tensor], l1: float, l2: float) -> dict[str, torch.Tensor]:
    """`l1 * sum|w|` and `l2 / 2 * sum w**2`, whose gradients are l1 * sign(w) and l2 * w."""
    terms = {}
    if l2:
        terms["l2"] = 0.5 * l2 * sum(w.square().sum() for w in ws)
    if l1:
        terms["l1"] = l1 * sum(w.abs().sum() for w in ws)
    return terms
