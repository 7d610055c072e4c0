"""Fourier pseudo-spectral ETDRK4 for semilinear periodic PDEs u_t = L u + d^m/dx^m g(u).

The reference solver of allen_cahn and kdv: L is a constant-coefficient linear operator given
by its Fourier symbol, integrated exactly; the nonlinear part is evaluated on the grid and
stepped by the fourth-order exponential time-differencing Runge-Kutta scheme of Cox &
Matthews (2002) with the phi-functions evaluated on a contour in the complex plane (Kassam &
Trefethen 2005), which stays accurate where the series cancel (hL near 0). The Nyquist mode is
kept at zero. There is no dealiasing: the callers use enough modes that the spectrum of the
solution, and so the aliasing of its products, is at round-off (tests/test_spectral_reference.py).

`solve` returns a `Solution`: the Fourier coefficients and their time derivatives (from the
PDE) at evenly spaced snapshots, evaluated anywhere by exact Fourier interpolation in x and
cubic Hermite interpolation in t (fourth order in the snapshot spacing).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from pinn.errors import BadValue

CONTOUR = 64  # trapezoid-rule points on the unit circle around each h L
CHUNK = 1 << 20  # complex numbers per block when evaluating at arbitrary points


def check_modes(problem: str, modes) -> None:
    """A clear error unless `modes` is an even integer >= 64."""
    if not (isinstance(modes, int) and modes >= 64 and modes % 2 == 0):
        raise BadValue(f"{problem}: modes must be an even integer >= 64, got {modes!r}")


def wavenumbers(length: float, modes: int) -> np.ndarray:
    """The rfft wavenumbers 2 pi n / length, n = 0 .. modes / 2."""
    return 2 * np.pi / length * np.arange(modes // 2 + 1)


def grid(lo: float, length: float, modes: int) -> np.ndarray:
    """The `modes` equispaced collocation points lo + j length / modes."""
    return lo + length * np.arange(modes) / modes


def phi_coefficients(hl: np.ndarray, h: float) -> tuple[np.ndarray, ...]:
    """ETDRK4's Q, f1, f2, f3 for the values h L (Kassam & Trefethen 2005): each a mean over
    CONTOUR points on the unit circle around h L, which converges geometrically and does not
    cancel near h L = 0 as the closed forms do."""
    r = np.exp(2j * np.pi * (np.arange(CONTOUR) + 0.5) / CONTOUR)
    z = hl[:, None] + r[None, :]
    ez = np.exp(z)
    q = h * np.mean((np.exp(z / 2) - 1) / z, axis=1)
    f1 = h * np.mean((-4 - z + ez * (4 - 3 * z + z**2)) / z**3, axis=1)
    f2 = h * np.mean((2 + z + ez * (z - 2)) / z**3, axis=1)
    f3 = h * np.mean((-4 - 3 * z - z**2 + ez * (4 - z)) / z**3, axis=1)
    out = (q, f1, f2, f3)
    return tuple(c.real for c in out) if np.isrealobj(hl) else out


@dataclass(frozen=True)
class Solution:
    """Snapshots c[j], c_t[j] of the coefficients at t = j * spacing (c = rfft(u) / modes)."""

    lo: float
    length: float
    modes: int
    spacing: float
    coef: np.ndarray  # (snapshots, modes // 2 + 1)
    rate: np.ndarray  # their time derivatives, from the PDE

    @property
    def t_end(self) -> float:
        return self.spacing * (len(self.coef) - 1)

    def snapshot(self, j: int) -> np.ndarray:
        """The grid values (`grid(lo, length, modes)`) at t = j * spacing."""
        return np.fft.irfft(self.coef[j] * self.modes, n=self.modes)

    def coefficients(self, t) -> np.ndarray:
        """The coefficients at the times `t` (an array, in [0, t_end]) by cubic Hermite
        interpolation between the snapshots: shape t.shape + (modes // 2 + 1,)."""
        t = np.asarray(t, dtype=float)
        if np.any(t < 0) or np.any(t > self.t_end * (1 + 1e-12)):
            raise BadValue(f"t must lie in [0, {self.t_end}], got [{t.min()}, {t.max()}]")
        j = np.minimum((t / self.spacing).astype(int), len(self.coef) - 2)
        s = (t / self.spacing - j)[..., None]
        return (
            (1 + 2 * s) * (1 - s) ** 2 * self.coef[j]
            + s * (1 - s) ** 2 * self.spacing * self.rate[j]
            + s**2 * (3 - 2 * s) * self.coef[j + 1]
            + s**2 * (s - 1) * self.spacing * self.rate[j + 1]
        )

    def on_grid(self, t: float) -> np.ndarray:
        """The grid values at time t (cheap: one inverse FFT)."""
        return np.fft.irfft(self.coefficients(t) * self.modes, n=self.modes)

    def __call__(self, x, t) -> np.ndarray:
        """u at broadcast arrays x, t (t in [0, t_end]; x anywhere: it is periodic), by
        exact Fourier interpolation in x of the coefficients at each point's time."""
        x, t = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(t, dtype=float))
        shape, x, t = x.shape, x.ravel(), t.ravel()
        k = wavenumbers(self.length, self.modes)
        weight = np.where(np.arange(len(k)) == 0, 1.0, 2.0)  # c_-n = conj(c_n)
        out = np.empty(len(x))
        step = max(1, CHUNK // len(k))
        for a in range(0, len(x), step):
            phase = np.exp(1j * np.outer(x[a : a + step] - self.lo, k))
            c = self.coefficients(t[a : a + step])
            out[a : a + step] = np.real(phase * c) @ weight
        return out.reshape(shape)

    def at(self, points: torch.Tensor) -> torch.Tensor:
        """u at torch points (N, 2) of (x, t), as an (N, 1) tensor of their dtype and device."""
        pts = points.detach().cpu().double().numpy()
        return torch.as_tensor(self(pts[:, 0], pts[:, 1])[:, None]).to(points)


def solve(
    symbol: Callable,
    g: Callable,
    derivative: int,
    u0: np.ndarray,
    lo: float,
    length: float,
    t_end: float,
    dt: float,
    spacing: float,
) -> Solution:
    """Integrate u_t = L u + d^m/dx^m g(u) from t = 0 to t_end in steps of dt.

    Args:
        symbol: k -> the symbol of L at the wavenumbers k (e.g. -eps k^2 for eps u_xx).
        g: the nonlinear function, applied to grid values.
        derivative: m, the order of the x-derivative applied to g(u).
        u0: the initial coefficients c = rfft(u) / modes, modes // 2 + 1 of them (modes even).
        lo, length: the period [lo, lo + length).
        t_end, dt, spacing: the final time, the time step and the snapshot spacing; t_end
            and spacing must be whole multiples of dt.
    """
    modes = 2 * (len(u0) - 1)
    if not (dt > 0 and spacing > 0):
        raise BadValue(f"dt and spacing must be positive, got {dt!r} and {spacing!r}")
    steps, every = round(t_end / dt), round(spacing / dt)
    if min(steps, every) < 1 or abs(steps * dt - t_end) > 1e-9 * t_end:
        raise BadValue(f"t_end {t_end} must be a positive whole multiple of dt {dt}")
    if abs(every * dt - spacing) > 1e-9 * spacing or steps % every:
        raise BadValue(f"the snapshot spacing {spacing} must divide t_end and be a multiple of dt")
    k = wavenumbers(length, modes)
    keep = np.arange(len(k)) < modes // 2  # the Nyquist mode stays 0
    lin = np.where(keep, symbol(k), 0)
    outer = np.where(keep, (1j * k) ** derivative, 0)

    def nonlinear(c):
        return outer * np.fft.rfft(g(np.fft.irfft(c * modes, n=modes))) / modes

    e, e2 = np.exp(dt * lin), np.exp(dt * lin / 2)
    q, f1, f2, f3 = phi_coefficients(dt * lin, dt)
    c = np.where(keep, u0, 0).astype(complex)
    nv = nonlinear(c)
    coef, rate = [c], [lin * c + nv]
    for n in range(1, steps + 1):
        a = e2 * c + q * nv
        na = nonlinear(a)
        b = e2 * c + q * na
        nb = nonlinear(b)
        cc = e2 * a + q * (2 * nb - nv)
        nc = nonlinear(cc)
        c = e * c + f1 * nv + 2 * f2 * (na + nb) + f3 * nc
        nv = nonlinear(c)
        if n % every == 0:
            coef.append(c)
            rate.append(lin * c + nv)
    if not np.isfinite(c).all():
        raise BadValue(f"the ETDRK4 solve blew up; dt = {dt} is too large for {modes} modes")
    return Solution(lo, length, modes, spacing, np.array(coef), np.array(rate))
