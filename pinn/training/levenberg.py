"""Levenberg-Marquardt: damped Gauss-Newton steps on the residual vector, for high precision.

With r the scaled residual vector (its squared norm is the loss, `pinn.jacobian`) and J its
Jacobian in the parameters (and unknowns), each iteration solves

    (JᵀJ + mu I) h = -Jᵀr

and tries x + h. The damping follows the gain ratio rho = (L(x) - L(x + h)) / (mu h·h - h·Jᵀr)
(the decrease over the one the linear model predicts): a step with rho > 0 is taken and
mu *= max(1/3, 1 - (2 rho - 1)^3); otherwise mu *= nu, nu *= 2 and the step is tried again
(Madsen, Nielsen & Tingleff, Methods for non-linear least squares problems, 2004, eq. 3.16);
mu starts at `damping` times the largest diagonal entry of JᵀJ. A NaN or Inf trial counts as
a failed one. JᵀJ and Jᵀr are summed block by block over the points (memory: one n x n matrix
and a block of J), and over the processes of a data-parallel run.

`solve="cholesky"` solves the damped normal equations by Cholesky; `"lstsq"` solves the
equivalent least-squares problem min |J h + r|^2 + mu |h|^2 by QR on the stacked [J; sqrt(mu) I]
(J whole in memory, one process), which does not square J's condition number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from ..errors import BadValue
from ..flat import assign
from ..jacobian import blocks, unsupported
from ..resources import check_dense
from .schedules import _positive
from .stages import ClosureStage, Stage, warn_float32
from .weighting import FixedWeights

TRIES = 30  # trial steps of one iteration, each with a larger damping, before giving up


class Damping(torch.optim.Optimizer):
    """The state of a Levenberg-Marquardt stage: the damping mu, its factor nu and the
    iterations done, with the first parameter (so that a checkpoint holds it as it holds any
    optimizer's). The stage's loop moves the parameters; `step` is not used."""

    def __init__(self, params, lr=1.0, damping=1e-3):
        super().__init__(params, {"lr": lr, "damping": damping})

    def step(self, closure=None):
        raise NotImplementedError("a LevenbergMarquardt stage steps in its own loop")


def solve(A, b, r_and_J, mu: float, how: str) -> torch.Tensor | None:
    """The damped Gauss-Newton step h of (A + mu I) h = -b, or None when the matrix is not
    positive definite in floating point (a larger mu will be)."""
    if how == "lstsq":
        r, J = r_and_J
        n = J.shape[1]
        stacked = torch.cat([J, math.sqrt(mu) * torch.eye(n, dtype=J.dtype, device=J.device)])
        rhs = torch.cat([-r, r.new_zeros(n)])
        Q, R = torch.linalg.qr(stacked)
        return torch.linalg.solve_triangular(R, (Q.T @ rhs)[:, None], upper=True)[:, 0]
    L, info = torch.linalg.cholesky_ex(A + mu * torch.eye(len(A), dtype=A.dtype, device=A.device))
    if int(info):
        return None
    return torch.cholesky_solve(-b[:, None], L)[:, 0]


def iterations(stage, index, optimizer, scheduler, objective, run, done: int) -> None:
    """The stage's loop: chunks of iterations up to the next log point, each iteration a
    Jacobian, a factorisation and one loss evaluation per trial step."""
    batch, group = run.sampler.full(), optimizer.param_groups[0]
    params, state = group["params"], optimizer.state[group["params"][0]]
    state.setdefault("n_iter", 0)
    per_step = scheduler is not None and not stage.decay.on_log
    while done < stage.steps:
        chunk = min(run.log_every - run.step % run.log_every, stage.steps - done)
        lr, taken, terms = group["lr"], 0, None
        for _ in range(chunk):
            terms = _iterate(stage, objective, batch, params, state, group["lr"], run.step + 1)
            if terms is None:
                break
            taken += 1
            state["n_iter"] += 1
            if per_step:
                scheduler.step()
        done += taken
        run.step, run.stage_step = run.step + taken, done
        run.sampler.count_full(taken)
        terms = terms or objective.total(batch, run.step)
        run.callback(stage, index, lr, sum(terms.values()))
        if not run.log(stage, index, lr, terms, optimizer, scheduler):
            return
        run.save(index, optimizer, scheduler)
        if taken < chunk:
            run.result.info.setdefault("notes", []).append(
                f"{stage.name} stage ended after {done} of {stage.steps} iterations: "
                f"no damping up to {state.get('mu', 0):.3g} gave a decrease"
            )
            return


def _iterate(stage, objective, batch, params, state, lr, step):
    """One iteration from the parameters' current values: the loss terms at the point taken,
    or None (parameters unchanged) when no trial step decreased the loss."""
    with torch.no_grad():
        x = torch.cat([p.detach().reshape(-1) for p in params])
    r_and_J = None
    if stage.solve == "lstsq":
        parts = list(blocks(objective.problem, objective.net, objective.unknowns, batch))
        r_and_J = torch.cat([r for _, r, _ in parts]), torch.cat([J for _, _, J in parts])
        A, b = None, r_and_J[1].T @ r_and_J[0]
        loss = float(r_and_J[0] @ r_and_J[0])
        diagonal = float(r_and_J[1].square().sum(0).max())
    else:
        A, b, terms = objective.normal_equations(batch, params, stage.chunk)
        loss = float(sum(terms.values()))
        diagonal = float(A.diagonal().max())
    if not (math.isfinite(loss) and bool(b.isfinite().all())):
        return None
    mu = state.get("mu", stage.damping * diagonal)
    nu = state.get("nu", 2.0)
    for _ in range(TRIES):
        h = solve(A, b, r_and_J, mu, stage.solve)
        if h is not None and bool(h.isfinite().all()):
            assign(params, x + lr * h)
            trial = objective.total(batch, step)
            new = float(sum(trial.values()))
            # the linear model's decrease for the step lr h, as h^T JᵀJ h = -h·b - mu h·h
            predicted = lr * (2 - lr) * -float(h @ b) + lr * lr * mu * float(h @ h)
            rho = (loss - new) / predicted if predicted > 0 else -1.0
            if math.isfinite(new) and rho > 0:
                state["mu"] = mu * max(1 / 3, 1 - (2 * rho - 1) ** 3)
                state["nu"] = 2.0
                return trial
        mu, nu = mu * nu, 2 * nu
    assign(params, x)
    state["mu"], state["nu"] = mu, nu
    return None


@dataclass(frozen=True)
class LevenbergMarquardt(ClosureStage, Stage):
    """Levenberg-Marquardt (damped Gauss-Newton) on the residual vector of the problem's terms
    with their declared weights (see the module), for high precision in float64 on small
    networks with a Taylor pass. Always full batch; `steps` counts iterations.

    Args:
        steps: iterations (default 1000).
        lr: scales each step (default 1: the damped Gauss-Newton step itself).
        decay: a learning-rate schedule or None.
        damping: the first damping, relative to the largest diagonal entry of JᵀJ (1e-3).
        solve: "cholesky" (default: the damped normal equations) or "lstsq" (QR of the
            stacked Jacobian; one process).
        chunk: points per Jacobian block (None: blocks of about 64 MB).
    """

    lr: float = 1.0
    damping: float = 1e-3
    solve: str = "cholesky"
    chunk: int | None = None
    optimizer = Damping
    name = "lm"
    title = "Levenberg-Marquardt"
    loop: ClassVar = staticmethod(iterations)

    def __post_init__(self):
        super().__post_init__()
        _positive(f"{self.label}: damping", self.damping)
        if self.solve not in ("cholesky", "lstsq"):
            raise BadValue(f"{self.label}: solve must be 'cholesky' or 'lstsq', got {self.solve!r}")
        if self.chunk is not None:
            _positive(f"{self.label}: chunk", self.chunk, integer=True)

    def options(self):
        return {"damping": self.damping}

    def check_params(self, params, device: torch.device, objective) -> None:
        why = unsupported(objective.net)
        if why is not None:
            raise BadValue(f"{self.label}: needs the network's Taylor pass, but {why}")
        if not isinstance(objective.weighting, FixedWeights):
            raise BadValue(
                f"{self.label}: works on the residuals with their declared weights, so the "
                f"weighting must be pinn.FixedWeights(), got {objective.weighting!r}"
            )
        if objective.l1:
            raise BadValue(f"{self.label}: l1={objective.l1} is not a sum of squares; use l2")
        if self.solve == "lstsq" and (objective.group.world > 1 or objective.l2):
            raise BadValue(
                f"{self.label}: solve='lstsq' needs the whole Jacobian on one process and no "
                "l2 penalty; use solve='cholesky'"
            )
        if not hasattr(objective.problem, "sets"):
            raise BadValue(f"{self.label}: needs a pinn.Problem (residuals at points)")
        check_dense(self.label, params, 3, device)  # JᵀJ, its damped copy and its factor
        warn_float32(self.label, params[0].dtype)
