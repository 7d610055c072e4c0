"""Error measures of a prediction against a reference, both (N, k) tensors."""

import torch


def relative_l2(pred: torch.Tensor, ref: torch.Tensor) -> float:
    """||pred - ref|| / ||ref|| over all points and fields."""
    return float(torch.linalg.vector_norm(pred - ref) / torch.linalg.vector_norm(ref))


def max_error(pred: torch.Tensor, ref: torch.Tensor) -> float:
    """max |pred - ref|."""
    return float((pred - ref).abs().max())
