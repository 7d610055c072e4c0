"""Training: the trainer and its parts: stages (optimizers), schedules, sampling, weighting,
early stopping, recovery and the loops that run them (`pinn.train` is the function)."""

from .bfgs import BFGS
from .levenberg import LevenbergMarquardt
from .recovery import TrainingDiverged
from .sampling import Resample, Sampler, Sampling
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
from .trainer import train
from .weighting import FixedWeights, Weighting

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
    "BFGS",
    "LevenbergMarquardt",
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
    "Weighting",
    "FixedWeights",
    "Sampling",
    "Sampler",
    "Resample",
]
