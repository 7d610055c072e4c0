"""Dense quasi-Newton for high precision: BFGS and its self-scaled variants, with a full
inverse-Hessian matrix H on the network's device.

With s = x_{k+1} - x_k, y = g_{k+1} - g_k, the self-scaled Broyden family updates

    H+ = (1/tau) [H - (Hy)(Hy)^T / (y^T H y) + phi (y^T H y) v v^T] + s s^T / (y^T s),
    v = s / (y^T s) - H y / (y^T H y),

with b = s^T H^{-1} s / y^T s (= -t s^T g / y^T s, as s = -t H g) and h = y^T H y / y^T s:

- "bfgs": tau = 1, phi = 1 (Nocedal & Wright, eq. 6.17);
- "ssbfgs": tau = min(1, 1/b), phi = 1 (Al-Baali's self-scaled BFGS);
- "ssbroyden": Urbán, Stefanou & Pons (J. Comput. Phys. 2025), eqs. 13-23: a = b h - 1,
  c = sqrt(|a| / (1 + a)), rho- = min(1, h (1 - c)), theta- = (rho- - 1) / a,
  theta+ = 1 / rho-, theta = max(theta-, min(theta+, (1 - b) / b)), sigma = 1 + a theta,
  sigma~ = |sigma|^(1 / (1 - n)) for n parameters, rho = min(1, 1/b);
  tau = min(rho sigma~, sigma) if theta <= 0 else rho min(sigma~, 1 / theta);
  phi = (1 - theta) / sigma. With a = 0 (b h = 1) the update is BFGS's. a >= 0 for a positive
  definite H (Cauchy-Schwarz); round-off can make it negative, and it is then taken as 0.

H starts as the identity, scaled by y^T s / y^T y at the first update (Nocedal & Wright,
eq. 6.20). A pair with y^T s <= 0 (the line search fell back to mere decrease), or with
y^T H y <= 0 (round-off has cost H its positive definiteness, as in float32), leaves H as it
is; a direction that does not descend restarts from the gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import BadValue
from ..flat import assign
from ..resources import check_dense
from .linesearch import Trial, strong_wolfe
from .stages import MAX_EVALS, ClosureStage, Stage

VARIANTS = ("bfgs", "ssbfgs", "ssbroyden")


def scaling(variant: str, b: float, h: float, n: int) -> tuple[float, float]:
    """(tau, phi) of an update: the variant's formulas above, for b, h and n parameters."""
    if variant == "bfgs":
        return 1.0, 1.0
    rho = min(1.0, 1.0 / b)
    if variant == "ssbfgs":
        return rho, 1.0
    a = max(b * h - 1.0, 0.0)  # below 0 by round-off only
    if a == 0.0:
        return rho, 1.0
    c = math.sqrt(abs(a) / (1.0 + a))
    rho_minus = min(1.0, h * (1.0 - c))
    theta_minus, theta_plus = (rho_minus - 1.0) / a, 1.0 / rho_minus
    theta = max(theta_minus, min(theta_plus, (1.0 - b) / b))
    sigma = 1.0 + a * theta
    sigma_n = abs(sigma) ** (1.0 / (1.0 - n))
    tau = min(rho * sigma_n, sigma) if theta <= 0 else rho * min(sigma_n, 1.0 / theta)
    return tau, (1.0 - theta) / sigma


def update(H: torch.Tensor, s: torch.Tensor, y: torch.Tensor, b: float, variant: str) -> bool:
    """Update the inverse Hessian `H` in place with the pair (s, y); False (H unchanged)
    when the pair has no positive curvature, or H none along y (round-off)."""
    ys = float(y @ s)
    if not ys > 0:
        return False
    Hy = H @ y
    yHy = float(y @ Hy)
    if not yHy > 0:
        return False
    tau, phi = scaling(variant, b, yHy / ys, len(s))
    v = s / ys - Hy / yHy
    H.addr_(Hy, Hy, alpha=-1.0 / yHy).addr_(v, v, alpha=phi * yHy).div_(tau)
    H.addr_(s, s, alpha=1.0 / ys)
    return True


class DenseBFGS(torch.optim.Optimizer):
    """The optimizer of `pinn.BFGS`: each `step(closure)` runs up to `max_iter` iterations and
    `max_eval` evaluations; its state (H and the iteration count) lives with the first
    parameter, so `state_dict()` holds all of it. Each call starts with an evaluation at the
    parameters, so a resumed run takes the same steps."""

    def __init__(self, params, lr=1.0, variant="ssbroyden", max_iter=1, max_eval=25):
        super().__init__(
            params, {"lr": lr, "variant": variant, "max_iter": max_iter, "max_eval": max_eval}
        )
        self._params = self.param_groups[0]["params"]

    def _flat(self, grad: bool) -> torch.Tensor:
        parts = []
        for p in self._params:
            t = p.grad if grad else p.detach()
            parts.append(torch.zeros_like(p).reshape(-1) if t is None else t.reshape(-1))
        return torch.cat(parts)

    def _set(self, x: torch.Tensor) -> None:
        assign(self._params, x)

    @torch.no_grad()
    def step(self, closure):
        """Up to `max_iter` iterations from the parameters' current values; returns the loss
        at the point reached, where the parameters' gradients are left."""
        group, state = self.param_groups[0], self.state[self._params[0]]
        state.setdefault("n_iter", 0)
        last = {}

        def evaluate(x, t, d):
            self._set(x + t * d)
            with torch.enable_grad():
                f = float(closure().detach())
            last["g"] = g = self._flat(grad=True)
            return f, g

        x = self._flat(grad=False)
        f, g = evaluate(x, 0.0, x)
        evals = 1
        if not (math.isfinite(f) and bool(g.isfinite().all())):
            return torch.tensor(f)  # nothing to step from: the loop recovers or ends the stage
        for _ in range(group["max_iter"]):
            H = state.get("H")
            d = -g if H is None else -(H @ g)
            slope = float(g @ d)
            if H is not None and not slope < 0:  # round-off in H: from the gradient again
                H, d, slope = None, -g, -float(g @ g)
            if slope == 0 or evals >= group["max_eval"]:
                break
            t = group["lr"] * (1.0 if H is not None else min(1.0, 1.0 / float(g.abs().sum())))
            accepted, used = strong_wolfe(
                lambda step: evaluate(x, step, d),  # noqa: B023 (called here, at once)
                Trial(0.0, f, g, slope),
                d,
                t,
                group["max_eval"] - evals,
            )
            evals += used
            if accepted is None:  # no decrease along d
                if H is None:
                    break
                state.pop("H")  # try the gradient
                continue
            s, y = accepted.t * d, accepted.g - g
            ys = float(y @ s)
            if H is None:  # the first pair scales the identity (Nocedal & Wright, eq. 6.20)
                gamma = ys / float(y @ y) if ys > 0 else 1.0
                H = torch.eye(len(x), dtype=x.dtype, device=x.device).mul_(gamma)
                b = float(s @ s) / (gamma * ys) if ys > 0 else 1.0
            else:
                b = -accepted.t * float(s @ g) / ys if ys > 0 else 1.0
            update(H, s, y, b, group["variant"])
            state["H"], state["n_iter"] = H, state["n_iter"] + 1
            x, f, g = x + s, accepted.f, accepted.g
        if last["g"] is not g:  # the last evaluation was a rejected trial: back to x
            evaluate(x, 0.0, x)
        else:
            self._set(x)
        return torch.tensor(f)


@dataclass(frozen=True)
class BFGS(ClosureStage, Stage):
    """Dense quasi-Newton (the module's formulas) with a strong-Wolfe line search that steps
    back from NaN trials (`pinn.training.linesearch`), for small networks (a few thousand
    parameters): high precision in float64, and in float32 a finisher that goes further than
    L-BFGS before round-off stops it. Always full batch; `steps` counts iterations.

    Args:
        steps: iterations (default 1000).
        lr: the first trial step of each line search (default 1).
        decay: a learning-rate schedule or None.
        variant: "ssbroyden" (default: self-scaled Broyden), "ssbfgs" (self-scaled BFGS) or
            "bfgs".
    """

    lr: float = 1.0
    variant: str = "ssbroyden"
    optimizer = DenseBFGS
    name = "bfgs"
    title = "BFGS"
    rejects_nonfinite = True

    def __post_init__(self):
        super().__post_init__()
        if self.variant not in VARIANTS:
            raise BadValue(f"BFGS: variant must be one of {VARIANTS}, got {self.variant!r}")

    def options(self):
        return {"variant": self.variant, "max_iter": 1, "max_eval": MAX_EVALS}

    def check_params(self, params, device: torch.device, objective) -> None:
        check_dense(self.title, params, 3, device)  # H and an update's temporaries
