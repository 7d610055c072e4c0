"""Korteweg-de Vries equation u_t + u u_x + delta u_xxx = 0, x in [-1, 1] periodic, t in [0, 1].

u(x, 0) = cos(pi x), delta = 0.0025: the KdV example of Raissi et al. (2019), Zabusky &
Kruskal's (1965) setting with a larger dispersion (their delta^2 u_xxx with delta = 0.05
instead of 0.022). The cosine steepens and breaks into a train of solitons, up to ~2.3 high
by t = 0.75. No closed form: the reference is a Fourier pseudo-spectral solve with
ETDRK4 in time (`problems._spectral`), 512 modes, time step 2e-4, snapshots every 1e-3
interpolated by cubic Hermite in t and exactly (Fourier) in x.

Accuracy (measured in tests/test_spectral_reference.py): the solitons are smooth enough that
256 modes agree with 512 to 3e-15 (the largest coefficient from mode 80 on is 7e-16), so 512
modes leave no truncation or aliasing error to speak of and need no dealiasing; the time step
is converged to ~1e-10 (fourth order) and the Hermite interpolation in t adds ~2e-11. The mean
is conserved exactly, int u^2 and the Hamiltonian to 1e-11.
"""

import functools

import numpy as np
import torch

import pinn
from pinn.errors import BadValue
from problems import _spectral, check_recipe

DELTA = 0.0025
MODES = 512
DT = 2e-4  # time step
SPACING = 1e-3  # snapshot spacing


def initial(x):
    """u(x, 0) = cos(pi x) at torch points (N, 2) of (x, t)."""
    return torch.cos(torch.pi * x[:, 0:1])


def solve(
    delta: float = DELTA, modes: int = MODES, dt: float = DT, spacing: float = SPACING
) -> _spectral.Solution:
    """The spectral solution for dispersion `delta` (about 0.5 s at the defaults; cached)."""
    if not delta > 0:
        raise BadValue(f"kdv: delta must be positive, got {delta!r}")
    _spectral.check_modes("kdv", modes)
    return _solve(float(delta), modes, float(dt), float(spacing))


@functools.lru_cache(maxsize=4)
def _solve(delta: float, modes: int, dt: float, spacing: float) -> _spectral.Solution:
    x = _spectral.grid(-1.0, 2.0, modes)
    return _spectral.solve(
        symbol=lambda k: 1j * delta * k**3,  # -delta (ik)^3
        g=lambda u: -(u**2) / 2,  # u u_x = (u^2 / 2)_x
        derivative=1,
        u0=np.fft.rfft(np.cos(np.pi * x)) / modes,  # exact: one mode
        lo=-1.0,
        length=2.0,
        t_end=1.0,
        dt=dt,
        spacing=spacing,
    )


def exact(x, delta=DELTA):
    """The spectral reference at torch points (N, 2) of (x, t), as an (N, 1) tensor."""
    return solve(delta).at(x)


def problem(
    n_pde: int = 10_000, n_ic: int = 512, n_bc: int = 256, delta: float = DELTA, hard: bool = False
) -> pinn.Problem:
    """The problem with dispersion `delta` and the given numbers of points; periodicity
    holds for u, u_x and u_xx, as a third-order equation needs; `hard`: the initial condition
    built into the network (`pinn.initial(..., hard=True)`)."""
    domain = pinn.Interval("x", -1.0, 1.0) * pinn.Time(0.0, 1.0)
    return pinn.Problem(
        domain,
        fields="u",
        pde=lambda f: f.u_t + f.u * f.u_x + delta * f.u_xxx,
        conditions=[
            pinn.initial(initial, n=n_ic, hard=hard),
            pinn.periodic("x", n=n_bc, order=2),
        ],
        n_pde=n_pde,
        exact=lambda x: exact(x, delta),
        name="kdv",
    )


def recipe(name: str = "default") -> dict:
    """Reaches a relative L2 error below 1e-3 (docs/problems.md: 2.3e-4): the initial condition
    built in, x through an exact periodic embedding, a small sine network, causal weights for
    Adam, and the dense BFGS stage, which goes on in float32 until round-off leaves it no
    descent direction (about 2,600 iterations)."""
    check_recipe(name)
    return {
        "problem": {"n_pde": 4096, "hard": True},
        "net": {"hidden": [40] * 3, "activation": "sin", "embedding": pinn.Periodic({"x": 2.0})},
        "weighting": pinn.Causal(tol=1.0, chunks=16),
        "stages": [
            pinn.Adam(steps=2000, lr=1e-3, decay=pinn.ExponentialDecay(0.9, 200)),
            pinn.BFGS(steps=4000),
        ],
        "dtype": "float32",
        "seed": 0,
    }
