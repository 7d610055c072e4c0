"""Training: stages (optimizers), schedules, batching, early stopping and the loop that runs them."""

from .loop import TrainingDiverged, train
from .schedules import (
    Constant,
    CosineDecay,
    CyclicLR,
    ExponentialDecay,
    PowerDecay,
    ReduceOnPlateau,
    Schedule,
    StepDecay,
)
from .stages import LBFGS, SGD, Adagrad, Adam, AdamW, RMSprop, Stage, TorchOptimizer
from .stopping import EarlyStopping

__all__ = [
    "train",
    "TrainingDiverged",
    "Stage",
    "Adam",
    "AdamW",
    "SGD",
    "Adagrad",
    "RMSprop",
    "LBFGS",
    "TorchOptimizer",
    "Schedule",
    "Constant",
    "ExponentialDecay",
    "StepDecay",
    "PowerDecay",
    "CyclicLR",
    "CosineDecay",
    "ReduceOnPlateau",
    "EarlyStopping",
]
