"""`summary(net)`: a table of a network's layers, like Keras' `model.summary()`."""

from __future__ import annotations

import torch
from torch import nn

from .errors import BadValue


def summary(net: nn.Module, input_size: int | None = None) -> str:
    """Each layer the forward pass runs, in order, with its output shape and parameter count,
    then the totals; a layer called twice (a shared activation) is listed each time and its
    parameters counted once.

    `input_size` is the number of inputs (default: the coordinates of a pinn network, else the
    inputs of the first `nn.Linear`). The net is run once on two zero inputs, in evaluation
    mode and without gradients.
    """
    shift = getattr(net, "shift", None)  # pinn's networks: one input shift per coordinate
    if input_size is None and torch.is_tensor(shift) and shift.ndim == 1:
        input_size = len(shift)
    if input_size is None:
        first = next((m for m in net.modules() if isinstance(m, nn.Linear)), None)
        if first is None:
            raise BadValue("summary: give input_size; the net has no nn.Linear to read it from")
        input_size = first.in_features
    names = {m: name for name, m in net.named_modules()}
    rows, counted = [], set()

    def hook(module, args, out):
        own = [p for p in module.parameters(recurse=False) if id(p) not in counted]
        counted.update(id(p) for p in own)
        shape = tuple(out.shape) if torch.is_tensor(out) else ()
        rows.append(
            (
                f"{names[module] or 'net'} ({type(module).__name__})",
                str((None, *shape[1:])),
                sum(p.numel() for p in own),
            )
        )

    leaves = [m for m in net.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    param = next(net.parameters(), None)
    x = torch.zeros(
        2,
        input_size,
        dtype=param.dtype if param is not None else None,
        device=param.device if param is not None else None,
    )
    was_training = net.training
    try:
        net.eval()
        with torch.no_grad():
            net(x)
    finally:
        net.train(was_training)
        for h in handles:
            h.remove()
    params = list(net.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    outside = total - sum(r[2] for r in rows)
    if outside:
        rows.append(("(parameters outside the layers run)", "", outside))
    width = max([len("Layer (type)"), *(len(r[0]) for r in rows)]) + 2
    shape_width = max([len("Output Shape"), *(len(r[1]) for r in rows)]) + 2
    line = "=" * (width + shape_width + 10)
    lines = [f"{'Layer (type)':<{width}}{'Output Shape':<{shape_width}}{'Param #':>10}", line]
    lines += [f"{n:<{width}}{s:<{shape_width}}{c:>10,}" for n, s, c in rows]
    lines += [
        line,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    return "\n".join(lines)
