"""Flat vectors of many tensors (parameters, gradients), as second-order stages and the
processes' all-reduce use them."""

from __future__ import annotations

import torch


def assign(tensors, flat: torch.Tensor) -> int:
    """Copy the leading entries of `flat` into `tensors`, in their order, in place (unlike
    `torch.nn.utils.vector_to_parameters`, which makes them views of `flat`); returns how many
    entries were used."""
    offset = 0
    with torch.no_grad():
        for t in tensors:
            t.copy_(flat[offset : offset + t.numel()].view_as(t))
            offset += t.numel()
    return offset
