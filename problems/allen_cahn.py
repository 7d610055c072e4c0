"""Allen-Cahn equation u_t - eps u_xx + 5 u^3 - 5 u = 0, x in [-1, 1] periodic, t in [0, 1].

u(x, 0) = x^2 cos(pi x), eps = 1e-4: the PINN benchmark of Raissi et al. (2019) and Wight &
Zhao (2020). The solution sharpens into flat phases u = +-1 joined by fronts of width
~sqrt(2 eps / 5) ~ 6e-3. No closed form: the reference is a Fourier pseudo-spectral solve
with ETDRK4 in time (`problems._spectral`), 2,048 modes, time step 1e-3, snapshots every
1e-3 interpolated by cubic Hermite in t and exactly (Fourier) in x.

Accuracy (measured in tests/test_spectral_reference.py): for t >= 0.01 the reference is
converged to 4e-10 in modes (2,048 against 4,096; 3e-11 from t = 0.02 on) and to ~1e-10 in
time step (fourth order), and the Hermite interpolation in t adds 5e-10 (3e-12 for
t >= 0.05, 1.2e-7 for t < 0.005). The periodic extension of u(x, 0) has a kink at x = +-1 (its slope jumps from -2
to 2) that no Fourier series resolves: the reference starts from the exact Fourier
coefficients of u(x, 0), truncated, which differ from u(x, 0) by 4e-4 at x = +-1 (1.2e-6 at
|x| <= 0.9). Diffusion smooths the kink at the rate eps k^2, so near x = +-1 the error is
2e-5 at t = 1e-3, 1e-7 at t = 5e-3 and below 1e-9 from t = 0.01 on. There is no dealiasing:
by then the spectrum falls to round-off well before the last mode, so the aliasing of u^3 is
at round-off too.
"""

import functools

import numpy as np
import torch

import pinn
from pinn.errors import BadValue
from problems import _spectral, check_recipe

EPS = 1e-4
MODES = 2048
DT = 1e-3  # time step
SPACING = 1e-3  # snapshot spacing


def initial(x):
    """u(x, 0) = x^2 cos(pi x) at torch points (N, 2) of (x, t)."""
    return x[:, 0:1] ** 2 * torch.cos(torch.pi * x[:, 0:1])


def initial_coefficients(modes: int) -> np.ndarray:
    """The exact Fourier coefficients c_n, n = 0 .. modes / 2, of x^2 cos(pi x) on [-1, 1)
    in the rfft convention (u = sum_n c_n exp(i pi n (x + 1))): (-1)^n a_n with
    a_n = int_0^1 x^2 cos(pi x) cos(pi n x) dx = (I(n - 1) + I(n + 1)) / 2 and
    I(m) = int_0^1 x^2 cos(m pi x) dx = 2 (-1)^m / (m pi)^2, I(0) = 1 / 3. Sampling u(x, 0)
    on the grid instead would alias the kink's slow 1/n^2 tail into every mode (measured:
    an error of 1e-5 at t = 0.1 and 1e-7 at t = 0.5 with 2,048 modes)."""
    n = np.arange(modes // 2 + 1)

    def i(m):
        m = np.abs(m)
        return np.where(m == 0, 1 / 3, 2.0 * (-1.0) ** m / (np.pi * np.maximum(m, 1)) ** 2)

    return (-1.0) ** n * (i(n - 1) + i(n + 1)) / 2


def solve(
    eps: float = EPS, modes: int = MODES, dt: float = DT, spacing: float = SPACING
) -> _spectral.Solution:
    """The spectral solution for diffusivity `eps` (about 1 s at the defaults; cached)."""
    if not eps > 0:
        raise BadValue(f"allen_cahn: eps must be positive, got {eps!r}")
    _spectral.check_modes("allen_cahn", modes)
    return _solve(float(eps), modes, float(dt), float(spacing))


@functools.lru_cache(maxsize=4)
def _solve(eps: float, modes: int, dt: float, spacing: float) -> _spectral.Solution:
    return _spectral.solve(
        symbol=lambda k: 5 - eps * k**2,
        g=lambda u: -5 * u**3,
        derivative=0,
        u0=initial_coefficients(modes),
        lo=-1.0,
        length=2.0,
        t_end=1.0,
        dt=dt,
        spacing=spacing,
    )


def exact(x, eps=EPS):
    """The spectral reference at torch points (N, 2) of (x, t), as an (N, 1) tensor."""
    return solve(eps).at(x)


def problem(
    n_pde: int = 10_000, n_ic: int = 512, n_bc: int = 256, eps: float = EPS, hard: bool = False
) -> pinn.Problem:
    """The problem with diffusivity `eps` and the given numbers of points; `hard`: the
    initial condition built into the network (`pinn.initial(..., hard=True)`)."""
    domain = pinn.Interval("x", -1.0, 1.0) * pinn.Time(0.0, 1.0)
    return pinn.Problem(
        domain,
        fields="u",
        pde=lambda f: f.u_t - eps * f.u_xx + 5 * f.u**3 - 5 * f.u,
        conditions=[
            pinn.initial(initial, n=n_ic, hard=hard),
            pinn.periodic("x", n=n_bc, order=1),
        ],
        n_pde=n_pde,
        exact=lambda x: exact(x, eps),
        name="allen_cahn",
    )


def recipe(name: str = "default") -> dict:
    """Reaches a relative L2 error below 1e-2 (docs/problems.md: 7.9e-3): the initial condition
    built in, x through an exact periodic embedding, a modified MLP and causal weights; Adam
    alone (L-BFGS after it finds no descent direction within a few iterations, measured)."""
    check_recipe(name)
    return {
        "problem": {"n_pde": 2048, "hard": True},
        "net": {
            "arch": "ModifiedMLP",
            "hidden": [64] * 4,
            "activation": "tanh",
            "embedding": pinn.Periodic({"x": 2.0}),
        },
        "weighting": pinn.Causal(tol=1.0, chunks=16),
        "stages": [
            pinn.Adam(steps=32_000, lr=1e-3, decay=pinn.ExponentialDecay(0.9, 2000)),
        ],
        "dtype": "float32",
        "seed": 0,
    }
