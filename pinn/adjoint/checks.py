"""The Taylor (gradient), tangent-linear and adjoint (dot-product) tests, with their results."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ..errors import BadType, BadValue

# Pass thresholds of the Taylor test (DESIGN.md, principle 4).
R1_RATE = 1.9
R2_RATE = 2.9
# A residual below ROUNDOFF * eps_machine * |J| is treated as round-off noise.
ROUNDOFF = 1e3


def _check_tensor(name: str, value, like: torch.Tensor | None = None) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise BadType(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise BadType(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if like is not None and value.shape != like.shape:
        raise BadValue(
            f"{name} has shape {tuple(value.shape)}; it must match x's shape {tuple(like.shape)}"
        )
    return value


def _scalar(name: str, value) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise BadValue(f"{name} must return a scalar tensor (one element), got {shape}")
    return value.reshape(())


def _rate(a: float, b: float, factor: float) -> float:
    """Observed convergence order between residuals a (step k) and b (step k+1)."""
    if a <= 0.0 or b <= 0.0:
        return math.nan
    return math.log(a / b) / math.log(factor)


# --------------------------------------------------------------------------------------------
# Taylor test
# --------------------------------------------------------------------------------------------


@dataclass
class TaylorResult:
    """Residuals and rates of a Taylor test.

    ``residuals[k]`` and ``rates[k]`` (k in ``"R0"``, ``"R1"``, ``"R2"``) are lists over the
    ε sequence; ``rates[k][i]`` is the order observed between ε_i and ε_{i+1} (NaN where a
    residual is at round-off). Expected: R0 rate 1, R1 rate 2, R2 rate 3.
    """

    eps: list[float]
    residuals: dict[str, list[float]]
    rates: dict[str, list[float]]
    passed: bool
    roundoff: list[bool]
    floor: float
    message: str = ""

    @property
    def rate(self) -> float:
        """Smallest R1 rate that is above round-off (NaN if none)."""
        good = [r for r in self.rates["R1"] if not math.isnan(r)]
        return min(good) if good else math.nan

    def table(self) -> str:
        keys = [k for k in ("R0", "R1", "R2") if k in self.residuals]
        head = f"{'eps':>10} " + " ".join(f"{k:>11} {k + ' rate':>8}" for k in keys)
        lines = [head, "-" * len(head)]
        for i, e in enumerate(self.eps):
            cells = []
            for k in keys:
                rate = self.rates[k][i - 1] if i > 0 else math.nan
                rate_s = "" if math.isnan(rate) else f"{rate:8.3f}"
                cells.append(f"{self.residuals[k][i]:11.3e} {rate_s:>8}")
            mark = "  (round-off)" if self.roundoff[i] else ""
            lines.append(f"{e:10.3e} " + " ".join(cells) + mark)
        need = f"R1 rate > {R1_RATE}" + (f", R2 rate > {R2_RATE}" if "R2" in keys else "")
        lines.append(f"{'PASSED' if self.passed else 'FAILED'} ({need}){self.message}")
        return "\n".join(lines)

    __str__ = table


def taylor_test(
    J: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    h: torch.Tensor | None = None,
    grad: torch.Tensor | Callable | None = None,
    hvp: torch.Tensor | Callable | None = None,
    eps: float = 1e-2,
    steps: int = 6,
) -> TaylorResult:
    """Taylor test of the gradient (and optionally the Hessian) of ``J`` at ``x``.

    Arguments:
        J: callable of a tensor shaped like ``x`` returning a scalar tensor.
        x: the point (a floating tensor; float64 for meaningful rates).
        h: the direction; default a standard normal draw (seed 0) shaped like ``x``.
        grad: ∇J(x) as a tensor, or a callable ``x -> ∇J(x)``; None: autograd.
        hvp: the Hessian-vector product H(x)·h as a tensor, or a callable ``v -> H(x)v``;
            None: no second-order residual R2.
        eps: the first ε; it halves at each of the ``steps`` steps.

    Passes when every R1 rate above round-off exceeds 1.9 (and every R2 rate 2.9). Residuals
    below ``1e3 · eps_machine · |J(x)|`` are round-off: they are flagged, their rates are NaN
    and a warning is issued. A test with no rate above round-off fails (it could not fail).
    """
    if not callable(J):
        raise BadType(f"J must be callable (a function of a tensor), got {type(J).__name__}")
    x = _check_tensor("x", x)
    if not (isinstance(eps, (int, float)) and eps > 0 and math.isfinite(eps)):
        raise BadValue(f"eps must be a positive finite number, got {eps!r}")
    if not isinstance(steps, int) or steps < 3:
        raise BadValue(f"steps must be an integer >= 3, got {steps!r}")
    if h is None:
        gen = torch.Generator(device="cpu").manual_seed(0)
        h = torch.randn(x.shape, generator=gen, dtype=x.dtype).to(x.device)
    h = _check_tensor("h", h, like=x)
    x = x.detach()

    if grad is None:
        xg = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(_scalar("J", J(xg)), xg)
    elif callable(grad):
        g = grad(x)
    else:
        g = grad
    g = _check_tensor("grad", g, like=x).detach()
    Hh = None
    if hvp is not None:
        Hh = _check_tensor("hvp", hvp(h) if callable(hvp) else hvp, like=x).detach()

    J0 = _scalar("J", J(x)).item()
    gh = torch.sum(g * h).item()
    hHh = torch.sum(Hh * h).item() if Hh is not None else None
    eps_list, R = [], {"R0": [], "R1": []}
    if Hh is not None:
        R["R2"] = []
    e = float(eps)
    for _ in range(steps):
        Je = _scalar("J", J(x + e * h)).item()
        R["R0"].append(abs(Je - J0))
        R["R1"].append(abs(Je - J0 - e * gh))
        if hHh is not None:
            R["R2"].append(abs(Je - J0 - e * gh - 0.5 * e * e * hHh))
        eps_list.append(e)
        e /= 2.0

    floor = ROUNDOFF * torch.finfo(x.dtype).eps * max(abs(J0), 1e-300)
    top = "R2" if "R2" in R else "R1"
    roundoff = [r < floor for r in R[top]]
    rates = {}
    for k, res in R.items():
        rates[k] = [
            math.nan if (res[i] < floor or res[i + 1] < floor) else _rate(res[i], res[i + 1], 2)
            for i in range(steps - 1)
        ]
    message = ""
    passed = True
    for k, need in (("R1", R1_RATE), ("R2", R2_RATE)):
        if k not in rates:
            continue
        good = [r for r in rates[k] if not math.isnan(r)]
        if not good:
            passed = False
            message += f"; every {k} residual is at round-off: nothing was tested (raise eps)"
        elif min(good) <= need:
            passed = False
    if any(r < floor for res in R.values() for r in res):
        warnings.warn(
            f"Taylor test: some residuals reached round-off (< {floor:.2e}); their rates are "
            "ignored. Use float64 or a larger eps.",
            RuntimeWarning,
            stacklevel=2,
        )
    return TaylorResult(eps_list, R, rates, passed, roundoff, floor, message)


# --------------------------------------------------------------------------------------------
# Tangent-linear test
# --------------------------------------------------------------------------------------------


@dataclass
class TangentLinearResult:
    """Ratios ‖M(x+α dx) − M(x) − α M′dx‖ / ‖M(x+α dx) − M(x)‖ over α = 1 … 1e-8.

    ``rates[i]`` is log10(ratio_i / ratio_{i+1}): about 1 while the TL is right and round-off
    has not set in.
    """

    alphas: list[float]
    ratios: list[float]
    rates: list[float]
    passed: bool
    min_ratio: float

    def table(self) -> str:
        lines = [f"{'alpha':>8} {'ratio':>11} {'rate':>7}", "-" * 28]
        for i, (a, r) in enumerate(zip(self.alphas, self.ratios, strict=True)):
            rate = f"{self.rates[i - 1]:7.3f}" if i > 0 and math.isfinite(self.rates[i - 1]) else ""
            lines.append(f"{a:8.0e} {r:11.3e} {rate:>7}")
        lines.append(
            f"{'PASSED' if self.passed else 'FAILED'} (ratio falls like alpha over >= 3 decades, "
            f"min ratio {self.min_ratio:.1e})"
        )
        return "\n".join(lines)

    __str__ = table


def tangent_linear_test(
    M: Callable[[torch.Tensor], torch.Tensor],
    M_tl: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    dx: torch.Tensor,
    alphas: Sequence[float] | None = None,
) -> TangentLinearResult:
    """Test a tangent-linear model ``M_tl(x, dx) = M'(x) dx`` against the model ``M``.

    The ratio must fall by a decade per decade of α (rate in [0.9, 1.1]) over at least three
    consecutive decades before round-off, and reach ``100·sqrt(eps_machine)`` (1.5e-6 in
    float64). A wrong TL (a flipped sign, a dropped term) makes the ratio level off instead.
    """
    if not callable(M) or not callable(M_tl):
        raise BadType("M and M_tl must be callables: M(x) and M_tl(x, dx)")
    x = _check_tensor("x", x).detach()
    dx = _check_tensor("dx", dx, like=x).detach()
    alphas = [10.0**-k for k in range(9)] if alphas is None else [float(a) for a in alphas]
    if len(alphas) < 4 or any(a <= 0 for a in alphas):
        raise BadValue(f"alphas must be >= 4 positive numbers, got {alphas}")
    Mx = M(x)
    tl = M_tl(x, dx)
    if not isinstance(tl, torch.Tensor) or tl.shape != Mx.shape:
        got = tuple(tl.shape) if isinstance(tl, torch.Tensor) else type(tl).__name__
        raise BadValue(f"M_tl(x, dx) returned {got}; M(x) has shape {tuple(Mx.shape)}")
    ratios = []
    for a in alphas:
        diff = M(x + a * dx) - Mx
        den = torch.linalg.vector_norm(diff).item()
        num = torch.linalg.vector_norm(diff - a * tl).item()
        ratios.append(num / den if den > 0 else math.inf)
    rates = [
        math.log10(ratios[i] / ratios[i + 1]) / math.log10(alphas[i] / alphas[i + 1])
        if 0 < ratios[i + 1] < math.inf and 0 < ratios[i] < math.inf
        else math.nan
        for i in range(len(alphas) - 1)
    ]
    run = best = 0
    for r in rates:
        run = run + 1 if 0.9 <= r <= 1.1 else 0
        best = max(best, run)
    min_ratio = min(ratios)
    threshold = 100 * math.sqrt(torch.finfo(x.dtype).eps)
    passed = best >= 3 and min_ratio <= threshold
    return TangentLinearResult(alphas, ratios, rates, passed, min_ratio)


# --------------------------------------------------------------------------------------------
# Adjoint (dot-product) test
# --------------------------------------------------------------------------------------------


@dataclass
class AdjointResult:
    """The dot-product test: ``lhs = <M'dx, dy>`` against ``rhs = <dx, M'ᵀdy>``."""

    lhs: float
    rhs: float
    rel_diff: float
    tol: float
    passed: bool

    def table(self) -> str:
        return (
            f"<M'dx, dy>    = {self.lhs: .17e}\n<dx, M'^T dy> = {self.rhs: .17e}\n"
            f"relative difference {self.rel_diff:.2e} (tol {self.tol:.0e}): "
            f"{'PASSED' if self.passed else 'FAILED'}"
        )

    __str__ = table


def adjoint_test(
    M_tl: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    M_ad: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    dx: torch.Tensor,
    dy: torch.Tensor,
    tol: float | None = None,
) -> AdjointResult:
    """Dot-product test of an adjoint ``M_ad(x, dy) = M'(x)ᵀ dy`` against ``M_tl(x, dx)``.

    ``tol`` defaults to 1e-12 in float64 (1e-5 in float32): the relative difference
    ``|lhs − rhs| / max(|lhs|, |rhs|)`` must not exceed it.
    """
    if not callable(M_tl) or not callable(M_ad):
        raise BadType("M_tl and M_ad must be callables: M_tl(x, dx) and M_ad(x, dy)")
    x = _check_tensor("x", x).detach()
    dx = _check_tensor("dx", dx, like=x).detach()
    dy = _check_tensor("dy", dy).detach()
    if tol is None:
        tol = 1e-12 if x.dtype == torch.float64 else 1e-5
    tl = M_tl(x, dx)
    if tl.shape != dy.shape:
        raise BadValue(
            f"dy has shape {tuple(dy.shape)}; it must match M_tl(x, dx)'s shape {tuple(tl.shape)}"
        )
    ad = M_ad(x, dy)
    if not isinstance(ad, torch.Tensor) or ad.shape != x.shape:
        got = tuple(ad.shape) if isinstance(ad, torch.Tensor) else type(ad).__name__
        raise BadValue(f"M_ad(x, dy) returned {got}; it must have x's shape {x.shape}")
    lhs = torch.sum(tl * dy).item()
    rhs = torch.sum(dx * ad).item()
    scale = max(abs(lhs), abs(rhs))
    rel = abs(lhs - rhs) / scale if scale > 0 else 0.0
    return AdjointResult(lhs, rhs, rel, tol, rel <= tol)
