"""Training: stages (optimizers), schedules and the loop that runs them."""

from .loop import train
from .schedules import CosineDecay, CyclicLR, ExponentialDecay, PowerDecay, StepDecay
from .stages import LBFGS, SGD, Adagrad, Adam, AdamW, RMSprop, Stage

__all__ = [
    "train",
    "Stage",
    "Adam",
    "AdamW",
    "SGD",
    "Adagrad",
    "RMSprop",
    "LBFGS",
    "ExponentialDecay",
    "StepDecay",
    "PowerDecay",
    "CyclicLR",
    "CosineDecay",
]
