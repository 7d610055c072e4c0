"""Training: the trainer and its parts: stages (optimizers), schedules, sampling, weighting,
early stopping, recovery and the loops that run them (`pinn.train` is the function)."""

from .attention import RBA, SelfAdaptive
from .balancing import GradNorm, NTKWeights
from .bfgs import BFGS
from .causal import Causal
from .levenberg import LevenbergMarquardt
from .recovery import TrainingDiverged
from .refinement import R3, RAD, RAR
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
    "GradNorm",
    "NTKWeights",
    "SelfAdaptive",
    "RBA",
    "Causal",
    "Sampling",
    "Sampler",
    "Resample",
    "RAR",
    "RAD",
    "R3",
]
