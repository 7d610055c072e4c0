"""pinn: physics-informed neural networks in PyTorch.

Define a problem in a few lines, train it Adam -> L-BFGS, and measure its error against the
exact solution. Everything users import lives here.
"""

from . import adjoint, assimilation, distributed, engines, errors
from .architectures import ModifiedMLP, PirateNet
from .conditions import Condition, data, dirichlet, initial, neumann, periodic, residual, robin
from .distributed import Distributed
from .domain import Box, Domain, Interval, Product, Rectangle, Time
from .embeddings import FourierFeatures, Periodic
from .fields import Fields
from .jets import Jet
from .metrics import max_error, relative_l2
from .nets import MLP, make_net
from .problem import Problem, Unknowns
from .result import Result
from .runs import load
from .shapes import Ball, Disk, Polygon
from .summary import summary
from .supervised import Supervised
from .training import (
    BFGS,
    LBFGS,
    R3,
    RAD,
    RAR,
    RBA,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Causal,
    Constant,
    CosineDecay,
    CyclicLR,
    EarlyStopping,
    ExponentialDecay,
    FixedWeights,
    GradNorm,
    LevenbergMarquardt,
    NTKWeights,
    PowerDecay,
    ReduceOnPlateau,
    Resample,
    RMSprop,
    Sampling,
    Schedule,
    SelfAdaptive,
    Stage,
    StepDecay,
    TorchOptimizer,
    TrainingDiverged,
    Weighting,
    train,
)

__version__ = "0.1.0"

__all__ = [
    "adjoint",
    "assimilation",
    "distributed",
    "Distributed",
    "engines",
    "errors",
    "Ball",
    "Box",
    "Disk",
    "Domain",
    "Interval",
    "Polygon",
    "Product",
    "Rectangle",
    "Time",
    "Condition",
    "data",
    "dirichlet",
    "initial",
    "neumann",
    "periodic",
    "residual",
    "robin",
    "Fields",
    "Problem",
    "Unknowns",
    "MLP",
    "ModifiedMLP",
    "PirateNet",
    "FourierFeatures",
    "Periodic",
    "make_net",
    "Jet",
    "Result",
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
    "Resample",
    "RAR",
    "RAD",
    "R3",
    "Supervised",
    "summary",
    "relative_l2",
    "max_error",
    "load",
]
