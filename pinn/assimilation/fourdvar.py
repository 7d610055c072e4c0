"""Strong-constraint 4D-Var: the cost, its gradient by the backward adjoint sweep of the
model's hand-written adjoint, and its minimization by L-BFGS."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ..errors import BadType, BadValue
from .models import _state

# --------------------------------------------------------------------------------------------
# Strong-constraint 4D-Var
# --------------------------------------------------------------------------------------------


def _covariance(name: str, C, n: int, dtype) -> torch.Tensor:
    """An (n, n) symmetric positive-definite matrix from a number, a diagonal or a matrix."""
    if isinstance(C, bool):
        raise BadType(f"{name} must be a number, a 1-D diagonal or an (n, n) tensor, got bool")
    if isinstance(C, (int, float)):
        C = torch.tensor(float(C), dtype=dtype)
    if not isinstance(C, torch.Tensor):
        raise BadType(
            f"{name} must be a number, a 1-D diagonal or an (n, n) tensor, got {type(C).__name__}"
        )
    C = C.to(dtype)
    if C.dim() == 0:
        C = C * torch.eye(n, dtype=dtype)
    elif C.dim() == 1:
        if C.shape[0] != n:
            raise BadValue(f"{name} diagonal has length {C.shape[0]}; it must be {n}")
        C = torch.diag(C)
    if C.shape != (n, n):
        raise BadValue(f"{name} has shape {tuple(C.shape)}; it must be ({n}, {n})")
    if not torch.isfinite(C).all():
        raise BadValue(f"{name} has non-finite entries")
    if not torch.allclose(C, C.T, rtol=1e-12, atol=1e-12 * C.abs().max().item()):
        raise BadValue(f"{name} must be symmetric (a covariance matrix)")
    L, info = torch.linalg.cholesky_ex(C)
    if info.item() != 0:
        eig = torch.linalg.eigvalsh(C).min().item()
        raise BadValue(f"{name} must be positive definite; its smallest eigenvalue is {eig:.3g}")
    return C


class FourDVar:
    """Strong-constraint 4D-Var for a model with ``step`` and ``step_ad``.

    J(x0) = ½(x0 − xb)ᵀB⁻¹(x0 − xb) + ½ Σ_k (y_k − H x_k)ᵀ R⁻¹ (y_k − H x_k),
    x_k = M^k(x0). ``obs`` maps a step index k (0 ≤ k ≤ window) to the observed vector y_k;
    H is the identity unless given (a (p, n) matrix). B and R are numbers (times I),
    diagonals or matrices; they must be symmetric positive definite. ``window`` (steps)
    defaults to the last observed step.

    ``gradient`` runs the backward adjoint sweep of the notes: λ_K = 0;
    λ_{k} = M_kᵀ λ_{k+1} + Hᵀ R⁻¹ (H x_k − y_k) at observed k; ∇J = B⁻¹(x0 − xb) + λ_0.
    ``minimize`` runs L-BFGS (scipy) and leaves its result in ``self.result``
    (``self.result.nit`` iterations).
    """

    def __init__(self, model, xb, B, R, obs: Mapping[int, torch.Tensor], H=None, window=None):
        for attr in ("n", "step", "step_ad"):
            if not hasattr(model, attr):
                raise BadType(f"model must have {attr!r} (like Lorenz63), got {model!r}")
        self.model = model
        n = model.n
        self.xb = _state("xb", xb, n).detach()
        if self.xb.shape != (n,):
            raise BadValue(f"xb has shape {tuple(self.xb.shape)}; it must be ({n},)")
        dtype = self.xb.dtype
        if not isinstance(obs, Mapping) or not obs:
            raise BadType("obs must be a non-empty dict {step index: observed vector}")
        if H is None:
            self.H = None
            p = n
        else:
            if not isinstance(H, torch.Tensor) or H.dim() != 2 or H.shape[1] != n:
                got = tuple(H.shape) if isinstance(H, torch.Tensor) else type(H).__name__
                raise BadValue(f"H has shape {got}; it must be a (p, {n}) tensor")
            self.H = H.to(dtype)
            p = H.shape[0]
        for k in obs:
            if isinstance(k, bool) or not isinstance(k, int):
                raise BadType(f"obs keys must be integer step indices, got {k!r}")
        if window is None:
            window = max(max(obs), 0)
        if isinstance(window, bool) or not isinstance(window, int) or window < 0:
            raise BadValue(f"window must be a non-negative number of steps, got {window!r}")
        self.window = window
        self.obs = {}
        for k in sorted(obs):
            if not 0 <= k <= window:
                raise BadValue(
                    f"observation at step {k} is outside the window: valid steps are 0..{window}"
                )
            y = _state(f"obs[{k}]", obs[k])
            if y.shape != (p,):
                raise BadValue(
                    f"obs[{k}] has shape {tuple(y.shape)}; with H of {p} rows it must be ({p},)"
                )
            self.obs[k] = y.detach().to(dtype)
        self.B = _covariance("B", B, n, dtype)
        self.R = _covariance("R", R, p, dtype)
        self.B_inv = torch.cholesky_inverse(torch.linalg.cholesky(self.B))
        self.R_inv = torch.cholesky_inverse(torch.linalg.cholesky(self.R))
        self.result = None

    def _x0(self, x0) -> torch.Tensor:
        x0 = _state("x0", x0, self.model.n)
        if x0.shape != self.xb.shape:
            raise BadValue(f"x0 has shape {tuple(x0.shape)}; it must be {tuple(self.xb.shape)}")
        return x0

    def _innovation(self, k, x):
        Hx = x if self.H is None else self.H @ x
        return Hx - self.obs[k]

    def cost(self, x0: torch.Tensor) -> torch.Tensor:
        """J(x0); differentiable by autograd (the reference for :meth:`gradient`)."""
        x = self._x0(x0)
        d = x - self.xb
        J = 0.5 * d @ (self.B_inv @ d)
        for k in range(self.window + 1):
            if k > 0:
                x = self.model.step(x)
            if k in self.obs:
                e = self._innovation(k, x)
                J = J + 0.5 * e @ (self.R_inv @ e)
        return J

    def value_and_gradient(self, x0: torch.Tensor):
        """(J(x0), ∇J(x0)), the gradient by the backward adjoint sweep (no autograd)."""
        x = self._x0(x0).detach()
        with torch.no_grad():
            d = x - self.xb
            J = 0.5 * d @ (self.B_inv @ d)
            states = [x]
            forcing = {}
            for k in range(self.window + 1):
                if k > 0:
                    x = self.model.step(x)
                    states.append(x)
                if k in self.obs:
                    e = self._innovation(k, x)
                    w = self.R_inv @ e
                    J = J + 0.5 * e @ w
                    forcing[k] = w if self.H is None else self.H.T @ w
            lam = torch.zeros_like(x)
            for k in range(self.window, -1, -1):
                if k in forcing:
                    lam = lam + forcing[k]
                if k > 0:
                    lam = self.model.step_ad(states[k - 1], lam)
            return J, self.B_inv @ d + lam

    def gradient(self, x0: torch.Tensor) -> torch.Tensor:
        """∇J(x0) by the backward adjoint sweep."""
        return self.value_and_gradient(x0)[1]

    def minimize(
        self, x_start=None, maxiter: int = 1_000, gtol: float = 1e-8, ftol: float = 1e-12
    ) -> torch.Tensor:
        """The analysis: argmin J by L-BFGS (scipy ``L-BFGS-B``) from ``x_start`` (xb).

        Returns the analysed initial state; ``self.result`` keeps scipy's result
        (``nit`` iterations, ``nfev`` evaluations, ``fun``, ``success``, ``message``).
        """
        from scipy.optimize import minimize

        x_start = self.xb if x_start is None else self._x0(x_start)
        dtype = self.xb.dtype

        def fun(z):
            J, g = self.value_and_gradient(torch.as_tensor(z, dtype=dtype))
            return J.item(), g.numpy().astype(np.float64)

        self.result = minimize(
            fun,
            x_start.detach().cpu().numpy().astype(np.float64),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": maxiter, "gtol": gtol, "ftol": ftol},
        )
        return torch.as_tensor(self.result.x, dtype=dtype)
