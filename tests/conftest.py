"""Shared test setup: one torch thread per process (2-core CI machines thrash otherwise)."""

import torch

torch.set_num_threads(1)
