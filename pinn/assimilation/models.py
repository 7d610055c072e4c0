"""The models of the 4D-Var toys: the scalar model of the notes, Lorenz-63 and Lorenz-96 as RK4
steps with hand-written tangent-linear and adjoint steps, trajectories and the largest
Lyapunov exponent."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from ..errors import BadType, BadValue


def _state(name: str, x, n: int | None = None) -> torch.Tensor:
    """Check that x is a floating tensor whose last dimension is n."""
    if not isinstance(x, torch.Tensor):
        raise BadType(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise BadType(f"{name} must be a floating-point tensor (float64), got {x.dtype}")
    if n is not None and (x.dim() == 0 or x.shape[-1] != n):
        raise BadValue(f"{name} has shape {tuple(x.shape)}; the model state needs shape (..., {n})")
    return x


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadType(f"{name} must be a number, got {type(value).__name__}")
    if not (value > 0 and math.isfinite(value)):
        raise BadValue(f"{name} must be positive and finite, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------------------------
# The scalar toy of the notes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScalarModel:
    """x1 = α·x0² with its tangent-linear and adjoint, as notes 004 derive them.

    ``cost`` is J = ½Σ(x1 − y)² + ½Σ(x0 − xb)²/b (the background term only when ``xb`` is
    given); ``gradient`` returns (∂J/∂x0, ∂J/∂α) from the hand-written adjoint variables.
    Works elementwise, so x0 may have any shape; as a 4D-Var model its state has n = 1.
    """

    alpha: float = 0.5
    n: int = field(default=1, init=False)

    def __post_init__(self):
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)):
            raise BadType(f"alpha must be a number, got {type(self.alpha).__name__}")

    def _a(self, alpha):
        return self.alpha if alpha is None else alpha

    def step(self, x0: torch.Tensor, alpha=None) -> torch.Tensor:
        """x1 = α·x0²."""
        return self._a(alpha) * x0 * x0

    def step_tl(self, x0: torch.Tensor, dx0: torch.Tensor, dalpha=None, alpha=None):
        """δx1 = 2α·x0·δx0 + x0²·δα."""
        dx1 = 2.0 * self._a(alpha) * x0 * dx0
        return dx1 if dalpha is None else dx1 + x0 * x0 * dalpha

    def step_ad(self, x0: torch.Tensor, x1_adj: torch.Tensor, alpha=None) -> torch.Tensor:
        """x̃0 = 2α·x0·x̃1 (the contribution of x̃1 to the adjoint of x0)."""
        return 2.0 * self._a(alpha) * x0 * x1_adj

    def alpha_ad(self, x0: torch.Tensor, x1_adj: torch.Tensor) -> torch.Tensor:
        """α̃ = Σ x0²·x̃1 (α is shared by every element)."""
        return torch.sum(x0 * x0 * x1_adj)

    def cost(self, x0, y, alpha=None, xb=None, b: float = 1.0) -> torch.Tensor:
        """J = ½Σ(α·x0² − y)² + ½Σ(x0 − xb)²/b."""
        J = 0.5 * torch.sum((self.step(x0, alpha) - y) ** 2)
        if xb is not None:
            J = J + 0.5 * torch.sum((x0 - xb) ** 2) / b
        return J

    def gradient(self, x0, y, alpha=None, xb=None, b: float = 1.0):
        """(∂J/∂x0, ∂J/∂α) by the adjoint variables, accumulated as in the notes."""
        x1 = self.step(x0, alpha)
        x1_adj = torch.zeros_like(x1)
        x0_adj = torch.zeros_like(x0)
        alpha_adj = torch.zeros((), dtype=x0.dtype)
        x1_adj = x1_adj + (x1 - y)  # x̃1 = x̃1 + (x1 − y)
        x0_adj = x0_adj + self.step_ad(x0, x1_adj, alpha)  # x̃0 = x̃0 + 2αx0·x̃1
        alpha_adj = alpha_adj + self.alpha_ad(x0, x1_adj)  # α̃ = α̃ + x0²·x̃1
        if xb is not None:
            x0_adj = x0_adj + (x0 - xb) / b
        return x0_adj, alpha_adj


# --------------------------------------------------------------------------------------------
# RK4 and its tangent-linear and adjoint, for any right-hand side f with f_tl and f_ad
# --------------------------------------------------------------------------------------------


def _rk4(f, x, dt):
    k1 = f(x)
    k2 = f(x + (0.5 * dt) * k1)
    k3 = f(x + (0.5 * dt) * k2)
    k4 = f(x + dt * k3)
    return x + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def _rk4_stages(f, x, dt):
    """The points where RK4 evaluates f, and the step's result."""
    k1 = f(x)
    x2 = x + (0.5 * dt) * k1
    k2 = f(x2)
    x3 = x + (0.5 * dt) * k2
    k3 = f(x3)
    x4 = x + dt * k3
    k4 = f(x4)
    return (x, x2, x3, x4), x + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def _rk4_tl(f_tl, stages, dx, dt):
    """Tangent linear of one RK4 step: differentiate each line of _rk4_stages."""
    x1, x2, x3, x4 = stages
    dk1 = f_tl(x1, dx)
    dk2 = f_tl(x2, dx + (0.5 * dt) * dk1)
    dk3 = f_tl(x3, dx + (0.5 * dt) * dk2)
    dk4 = f_tl(x4, dx + dt * dk3)
    return dx + (dt / 6.0) * (dk1 + 2.0 * dk2 + 2.0 * dk3 + dk4)


def _rk4_ad(f_ad, stages, lam, dt):
    """Adjoint of one RK4 step: the lines of _rk4_tl transposed, in reverse order."""
    x1, x2, x3, x4 = stages
    # dx_new = dx + dt/6 (dk1 + 2 dk2 + 2 dk3 + dk4)
    lam_x = lam
    # dk4 = f_tl(x4, dx + dt dk3)
    u = f_ad(x4, (dt / 6.0) * lam)
    lam_x = lam_x + u
    lam_k3 = (dt / 3.0) * lam + dt * u
    # dk3 = f_tl(x3, dx + dt/2 dk2)
    u = f_ad(x3, lam_k3)
    lam_x = lam_x + u
    lam_k2 = (dt / 3.0) * lam + (0.5 * dt) * u
    # dk2 = f_tl(x2, dx + dt/2 dk1)
    u = f_ad(x2, lam_k2)
    lam_x = lam_x + u
    lam_k1 = (dt / 6.0) * lam + (0.5 * dt) * u
    # dk1 = f_tl(x1, dx)
    return lam_x + f_ad(x1, lam_k1)


class _RK4Model:
    """step / step_tl / step_ad of an RK4 discretization of dx/dt = f(x).

    A subclass provides ``n``, ``dt`` and the right-hand side ``f`` with its hand-written
    Jacobian products ``f_tl(x, dx) = f'(x) dx`` and ``f_ad(x, lam) = f'(x)ᵀ lam``.
    """

    n: int
    dt: float

    def step(self, x: torch.Tensor) -> torch.Tensor:
        """One RK4 step of length dt."""
        return _rk4(self.f, _state("x", x, self.n), self.dt)

    def step_tl(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        """Hand-written tangent linear of the RK4 step at x, applied to dx."""
        stages, _ = _rk4_stages(self.f, _state("x", x, self.n), self.dt)
        return _rk4_tl(self.f_tl, stages, _state("dx", dx, self.n), self.dt)

    def step_ad(self, x: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
        """Hand-written adjoint of the RK4 step at x, applied to lam."""
        stages, _ = _rk4_stages(self.f, _state("x", x, self.n), self.dt)
        return _rk4_ad(self.f_ad, stages, _state("lam", lam, self.n), self.dt)

    def step_with_tl(self, x: torch.Tensor, dx: torch.Tensor):
        """(step(x), step_tl(x, dx)) sharing the RK4 stages: the Lyapunov loop's step."""
        stages, x_new = _rk4_stages(self.f, x, self.dt)
        return x_new, _rk4_tl(self.f_tl, stages, dx, self.dt)


@dataclass(frozen=True)
class Lorenz63(_RK4Model):
    """Lorenz (1963): x' = σ(y − x), y' = x(ρ − z) − y, z' = xy − βz; RK4 with step dt."""

    dt: float = 0.01
    sigma: float = 10.0
    rho: float = 28.0
    beta: float = 8.0 / 3.0
    n: int = field(default=3, init=False)

    def __post_init__(self):
        _positive("dt", self.dt)
        for name in ("sigma", "rho", "beta"):
            _positive(name, getattr(self, name))

    def f(self, x):
        a, b, c = x.unbind(-1)
        return torch.stack(
            (self.sigma * (b - a), a * (self.rho - c) - b, a * b - self.beta * c), -1
        )

    def f_tl(self, x, dx):
        a, b, c = x.unbind(-1)
        da, db, dc = dx.unbind(-1)
        return torch.stack(
            (
                self.sigma * (db - da),
                (self.rho - c) * da - db - a * dc,
                b * da + a * db - self.beta * dc,
            ),
            -1,
        )

    def f_ad(self, x, lam):
        # The transpose of [[-σ, σ, 0], [ρ − z, −1, −x], [y, x, −β]].
        a, b, c = x.unbind(-1)
        l1, l2, l3 = lam.unbind(-1)
        return torch.stack(
            (
                -self.sigma * l1 + (self.rho - c) * l2 + b * l3,
                self.sigma * l1 - l2 + a * l3,
                -a * l2 - self.beta * l3,
            ),
            -1,
        )


@dataclass(frozen=True)
class Lorenz96(_RK4Model):
    """Lorenz (1996): x_i' = (x_{i+1} − x_{i−2}) x_{i−1} − x_i + F, periodic in i; RK4."""

    n: int = 40
    forcing: float = 8.0
    dt: float = 0.05

    def __post_init__(self):
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 4:
            raise BadValue(f"n must be an integer >= 4, got {self.n!r}")
        _positive("dt", self.dt)
        if not isinstance(self.forcing, (int, float)) or not math.isfinite(self.forcing):
            raise BadValue(f"forcing must be a finite number, got {self.forcing!r}")

    def f(self, x):
        return (x.roll(-1, -1) - x.roll(2, -1)) * x.roll(1, -1) - x + self.forcing

    def f_tl(self, x, dx):
        return (
            (dx.roll(-1, -1) - dx.roll(2, -1)) * x.roll(1, -1)
            + (x.roll(-1, -1) - x.roll(2, -1)) * dx.roll(1, -1)
            - dx
        )

    def f_ad(self, x, lam):
        # (f'ᵀλ)_j = λ_{j−1} x_{j−2} − λ_{j+2} x_{j+1} + λ_{j+1}(x_{j+2} − x_{j−1}) − λ_j
        return (
            lam.roll(1, -1) * x.roll(2, -1)
            - lam.roll(-2, -1) * x.roll(-1, -1)
            + lam.roll(-1, -1) * (x.roll(-2, -1) - x.roll(1, -1))
            - lam
        )


def trajectory(model, x0: torch.Tensor, steps: int) -> torch.Tensor:
    """States x_0 … x_steps of the model from x0, stacked along a new first dimension."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise BadValue(f"steps must be a non-negative integer, got {steps!r}")
    x = _state("x0", x0, model.n)
    out = [x]
    with torch.no_grad():
        for _ in range(steps):
            x = model.step(x)
            out.append(x)
    return torch.stack(out)


# --------------------------------------------------------------------------------------------
# Lyapunov exponent
# --------------------------------------------------------------------------------------------


def lyapunov_exponent(
    model,
    x0: torch.Tensor,
    steps: int = 100_000,
    spinup: int = 1_000,
    renorm_every: int = 10,
    seed: int = 0,
) -> float:
    """Largest Lyapunov exponent by Benettin's method on the tangent-linear model.

    x0 is spun up ``spinup`` steps (state and tangent vector, uncounted), then a tangent
    vector is carried by ``model.step_with_tl`` (or ``step`` and ``step_tl``) for ``steps``
    steps and renormalized every ``renorm_every`` steps; the exponent is the mean of the log
    growth factors per unit time. An x0 of shape (m, n) runs m trajectories at once and
    returns their mean, which estimates the exponent as well as one trajectory m times as
    long, at nearly the cost of one. About 0.906 for Lorenz-63.
    """
    x = _state("x0", x0, model.n).detach()
    for name, v, low in (
        ("steps", steps, 1),
        ("spinup", spinup, 0),
        ("renorm_every", renorm_every, 1),
    ):
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise BadValue(f"{name} must be an integer >= {low}, got {v!r}")
    gen = torch.Generator().manual_seed(seed)
    dx = torch.randn(x.shape, generator=gen, dtype=x.dtype).to(x.device)
    dx = dx / torch.linalg.vector_norm(dx, dim=-1, keepdim=True)
    step = getattr(model, "step_with_tl", None) or (
        lambda s, d: (model.step(s), model.step_tl(s, d))
    )
    with torch.inference_mode():
        log_growth = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
        for k in range(1 - spinup, steps + 1):  # k > 0: counted steps
            x, dx = step(x, dx)
            if k % renorm_every == 0 or k == steps:
                norm = torch.linalg.vector_norm(dx, dim=-1, keepdim=True)
                dx = dx / norm
                if k > 0:
                    log_growth = log_growth + norm.squeeze(-1).log()
        if not torch.isfinite(log_growth).all():
            raise FloatingPointError("the tangent vector overflowed: lower renorm_every")
    return (log_growth / (steps * model.dt)).mean().item()
