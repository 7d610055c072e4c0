"""Hessian diagnostics of a loss: Hessian-vector products and extreme eigenvalues.

A training run ends at a point where the gradient is (nearly) zero; only the Hessian says
whether it is a minimum (all eigenvalues ≥ 0) or a saddle (some < 0), notes 004. The Hessian
of a PINN loss has as many rows as the network has parameters, so it is never formed: its
products with vectors come from double backward (reverse over reverse, which also works
through the ``torch.autograd.grad`` calls that compute a PINN's derivatives), and its extreme
eigenvalues from Lanczos (``scipy.sparse.linalg.eigsh`` on a ``LinearOperator``). The Taylor
test's second-order residual R2 uses the same product (:func:`pinn.adjoint.taylor_test`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .errors import BadType, BadValue

__all__ = [
    "Spectrum",
    "extreme_eigenvalues",
    "full_hessian",
    "hessian_operator",
    "hvp",
    "loss_spectrum",
    "spectrum",
]


def _check(J, x) -> torch.Tensor:
    if not callable(J):
        raise BadType(f"J must be callable (a function of a tensor), got {type(J).__name__}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() != 1:
        got = f"shape {tuple(x.shape)}, {x.dtype}" if isinstance(x, torch.Tensor) else type(x)
        raise BadValue(f"x must be a 1-D floating tensor (flat parameters), got {got}")
    return x.detach()


def _gradient(J, x: torch.Tensor, create_graph: bool):
    x = x.detach().requires_grad_(True)
    value = J(x)
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise BadValue("J must return a scalar tensor")
    (g,) = torch.autograd.grad(value.reshape(()), x, create_graph=create_graph)
    return x, g


def hvp(J: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor):
    """H(x)·v for the Hessian H of the scalar J at x, by double backward."""
    x = _check(J, x)
    if not isinstance(v, torch.Tensor) or v.shape != x.shape:
        got = tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
        raise BadValue(f"v has shape {got}; it must match x's shape {tuple(x.shape)}")
    xg, g = _gradient(J, x, create_graph=True)
    if not g.requires_grad:  # J is linear in x
        return torch.zeros_like(x)
    (Hv,) = torch.autograd.grad(g, xg, v.to(g), allow_unused=True)
    return torch.zeros_like(x) if Hv is None else Hv.detach()


def hessian_operator(J, x: torch.Tensor):
    """The Hessian of J at x as a ``scipy.sparse.linalg.LinearOperator`` (float64).

    The gradient graph is built once and reused for every product (``retain_graph``).
    """
    from scipy.sparse.linalg import LinearOperator

    x = _check(J, x)
    xg, g = _gradient(J, x, create_graph=True)
    n = x.numel()

    def matvec(v):
        v = torch.as_tensor(np.asarray(v, dtype=np.float64).reshape(-1), dtype=g.dtype)
        if not g.requires_grad:  # J is linear in x
            return np.zeros(n)
        (Hv,) = torch.autograd.grad(g, xg, v, retain_graph=True, allow_unused=True)
        if Hv is None:  # (allow_unused, not materialize_grads: that costs ~1 s at first use)
            return np.zeros(n)
        return Hv.detach().double().cpu().numpy()

    return LinearOperator((n, n), matvec=matvec, dtype=np.float64)


def full_hessian(J, x: torch.Tensor) -> torch.Tensor:
    """The dense Hessian, one product per column: only for small x (a few thousand)."""
    x = _check(J, x)
    H = hessian_operator(J, x)
    eye = np.eye(x.numel())
    return torch.as_tensor(np.stack([H.matvec(e) for e in eye], axis=1), dtype=torch.float64)


def extreme_eigenvalues(J, x: torch.Tensor, k: int = 1, tol: float = 1e-8, maxiter=None, ncv=None):
    """(smallest k, largest k) eigenvalues of the Hessian of J at x, by Lanczos.

    The largest come from ``eigsh(H, which="LA")``; the smallest from the shifted
    ``H - λmax·I`` (all its eigenvalues ≤ 0, the wanted ones of largest magnitude), so that
    ARPACK's relative tolerance means ``tol·λmax`` in absolute terms: a PINN Hessian has many
    eigenvalues near 0, which an unshifted run cannot resolve relative to themselves. For x
    of fewer than ``2k + 2`` entries the dense Hessian is diagonalized instead. ``ncv``
    (Lanczos vectors, default ``max(4k + 1, 64)``) and ``maxiter`` go to ``eigsh``; if it stops
    before every eigenvalue has converged, the converged ones are kept and a warning says so.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    x = _check(J, x)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise BadValue(f"k must be a positive integer, got {k!r}")
    n = x.numel()
    if n < 2 * k + 2:
        w = np.linalg.eigvalsh(full_hessian(J, x).numpy())
        return w[:k], w[::-1][:k][::-1]
    H = hessian_operator(J, x)
    v0 = np.random.default_rng(0).standard_normal(n)
    ncv = min(n - 1, max(4 * k + 1, 64)) if ncv is None else ncv
    opts = dict(k=k, tol=tol, maxiter=maxiter, v0=v0, ncv=ncv, return_eigenvectors=False)

    def lanczos(op, which, what):
        try:
            return np.sort(eigsh(op, which=which, **opts))
        except ArpackNoConvergence as e:
            if len(e.eigenvalues) == 0:
                raise RuntimeError(
                    f"Lanczos found none of the {what} eigenvalues; raise maxiter or ncv"
                ) from e
            warnings.warn(
                f"Lanczos converged to {len(e.eigenvalues)} of the {k} {what} eigenvalues",
                RuntimeWarning,
                stacklevel=3,
            )
            return np.sort(np.real(e.eigenvalues))

    hi = lanczos(H, "LA", "largest")
    shift = max(abs(hi[-1]), np.finfo(np.float64).tiny)
    shifted = LinearOperator((n, n), matvec=lambda v: H.matvec(v) - shift * v, dtype=np.float64)
    lo = lanczos(shifted, "LM", "smallest") + shift
    return lo, hi


@dataclass
class Spectrum:
    """Extreme Hessian eigenvalues at a point and what they say about it.

    ``kind`` is "minimum" when the smallest eigenvalue is ≥ ``-rtol·|λmax|`` and "saddle"
    otherwise; ``grad_norm`` tells whether the point is (nearly) stationary at all.
    """

    smallest: list[float]
    largest: list[float]
    grad_norm: float
    kind: str
    rtol: float

    @property
    def lmin(self) -> float:
        return self.smallest[0]

    @property
    def lmax(self) -> float:
        return self.largest[-1]

    def table(self) -> str:
        fmt = lambda w: ", ".join(f"{v:.4g}" for v in w)  # noqa: E731
        return (
            f"smallest eigenvalues: {fmt(self.smallest)}\n"
            f"largest eigenvalues:  {fmt(self.largest)}\n"
            f"|grad| = {self.grad_norm:.3e}, lmin/lmax = {self.lmin / self.lmax:.3e} -> "
            f"{self.kind} (tolerance {self.rtol:g}·lmax)"
        )

    __str__ = table


def spectrum(J, x: torch.Tensor, k: int = 3, rtol: float = 1e-6, tol: float = 1e-8) -> Spectrum:
    """Extreme Hessian eigenvalues of J at x and whether x is a minimum or a saddle."""
    x = _check(J, x)
    lo, hi = extreme_eigenvalues(J, x, k=k, tol=tol)
    _, g = _gradient(J, x, create_graph=False)
    kind = "minimum" if lo[0] >= -rtol * abs(hi[-1]) else "saddle"
    return Spectrum(
        [float(v) for v in lo],
        [float(v) for v in hi],
        float(torch.linalg.vector_norm(g)),
        kind,
        rtol,
    )


def loss_spectrum(problem, net, unknowns=None, k: int = 3, rtol: float = 1e-6, seed: int = 0):
    """:func:`spectrum` of a PINN's total loss over its parameters (float64 copies)."""
    from pinn.adjoint import flat_loss

    J = flat_loss(problem, net, unknowns=unknowns, seed=seed)
    return spectrum(J, J.x0, k=k, rtol=rtol)
