"""4D-Var toy problems with hand-written tangent-linear and adjoint models.

Backpropagation is the adjoint method of variational data assimilation (notes 004): the
adjoint variables x̃ that carry ∂J back through a model step are what autograd computes for a
network layer. This module writes them by hand, as assimilation codes do, for

- :class:`ScalarModel`: x1 = α·x0², J = ½(x1 − y)² (+ a background term);
- :class:`Lorenz63` and :class:`Lorenz96`: an RK4 step, its tangent-linear and its adjoint;
- :class:`FourDVar`: the strong-constraint 4D-Var cost, its gradient by the backward adjoint
  sweep, and its minimization by L-BFGS;
- :func:`lyapunov_exponent`: the largest Lyapunov exponent from the tangent-linear model.

States are float64 tensors of shape (..., n); leading dimensions are independent copies
(an ensemble), which the Lyapunov estimate uses to average trajectories at no extra
Python-level cost. The hand-written codes are checked against autograd and by the tests of
:mod:`pinn.adjoint` in ``tests/test_assimilation.py``.
"""

from .fourdvar import FourDVar
from .models import Lorenz63, Lorenz96, ScalarModel, lyapunov_exponent, trajectory
from .pinn_form import Lorenz63PINN, lorenz63_pinn

__all__ = [
    "FourDVar",
    "Lorenz63",
    "Lorenz96",
    "ScalarModel",
    "lyapunov_exponent",
    "trajectory",
    "Lorenz63PINN",
    "lorenz63_pinn",
]
