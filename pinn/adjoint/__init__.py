"""Gradient checks in the style of variational data assimilation.

Backpropagation is the adjoint method of 4D-Var, so the checks that assimilation codes run on
their hand-written tangent-linear (TL) and adjoint models apply to every gradient this toolkit
relies on:

- :func:`taylor_test`: does ``J(x + εh) - J(x) - ε ∇J·h`` shrink like ε² (and, given a
  Hessian-vector product, the next remainder like ε³)?
- :func:`tangent_linear_test`: does ``M(x + α dx) - M(x) - α M'dx`` shrink faster than
  ``M(x + α dx) - M(x)``, linearly in α?
- :func:`adjoint_test`: the dot-product test ``<M'dx, dy> = <dx, M'ᵀdy>``.
- :func:`check_loss_gradient`: the Taylor test of a PINN's total loss over its parameters.

Each returns a small result object with ``passed`` and a readable ``table()``.
"""

from .checks import (
    AdjointResult,
    TangentLinearResult,
    TaylorResult,
    adjoint_test,
    tangent_linear_test,
    taylor_test,
)
from .loss import check_loss_gradient, flat_loss

__all__ = [
    "AdjointResult",
    "TangentLinearResult",
    "TaylorResult",
    "adjoint_test",
    "check_loss_gradient",
    "flat_loss",
    "tangent_linear_test",
    "taylor_test",
]
