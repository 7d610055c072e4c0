"""The shared registry of small analytic test problems: each with its exact solution, together
covering every condition kind (dirichlet, neumann, robin, periodic, initial of order 0 and 1,
data, residual). Engine, trainer, extension and reliability tests take their problems here.
`test_analytic.py` checks that every exact solution zeroes every loss term."""

import math

import torch

import pinn


def poisson_residual(f):
    """The residual of -u'' = pi^2 sin(pi x)."""
    return -f.u_xx - math.pi**2 * torch.sin(math.pi * f.x)


def poisson1d(n_pde=16, pde=poisson_residual, **kw):
    """-u'' = pi^2 sin(pi x) on [-1, 1], u(+-1) = 0; exact sin(pi x). `pde` replaces the
    residual (a poisoned one, say)."""
    return pinn.Problem(
        pinn.Interval("x", -1.0, 1.0),
        pde=pde,
        conditions=[pinn.dirichlet(0.0, n=2)],
        n_pde=n_pde,
        exact=lambda x: torch.sin(math.pi * x[:, 0:1]),
        **kw,
    )


def robin1d(n_pde=16):
    """u'' = u on [0, 1] with a Robin condition u + u_n = value on both ends; exact e^x."""
    exact = lambda x: torch.exp(x[:, 0:1])  # noqa: E731
    # outward normal -1 at x = 0 and +1 at x = 1: u + u_n is 0 at 0 and 2e at 1
    value = lambda x: 2 * math.e * (x[:, 0:1] > 0.5).to(x.dtype)  # noqa: E731
    return pinn.Problem(
        pinn.Interval("x", 0.0, 1.0),
        pde=lambda f: f.u_xx - f.u,
        conditions=[pinn.robin(value, alpha=1.0, beta=1.0, n=2)],
        n_pde=n_pde,
        exact=exact,
    )


def heat_neumann(n_pde=32):
    """u_t = u_xx on [0, 1] x [0, 1], insulated ends (Neumann 0); exact e^(-pi^2 t) cos(pi x)."""
    domain = pinn.Interval("x", 0.0, 1.0) * pinn.Time(0.0, 1.0)
    exact = lambda x: torch.exp(-(math.pi**2) * x[:, 1:2]) * torch.cos(math.pi * x[:, 0:1])  # noqa: E731
    return pinn.Problem(
        domain,
        pde=lambda f: f.u_t - f.u_xx,
        conditions=[
            pinn.initial(lambda x: torch.cos(math.pi * x[:, 0:1]), n=8),
            pinn.neumann(0.0, n=8),
        ],
        n_pde=n_pde,
        exact=exact,
    )


def advection(n_pde=32):
    """u_t + u_x = 0 on [0, 2 pi] x [0, 1], periodic in x; exact sin(x - t)."""
    domain = pinn.Interval("x", 0.0, 2 * math.pi) * pinn.Time(0.0, 1.0)
    return pinn.Problem(
        domain,
        pde=lambda f: f.u_t + f.u_x,
        conditions=[
            pinn.initial(lambda x: torch.sin(x[:, 0:1]), n=8),
            pinn.periodic("x", n=8, order=1),
        ],
        n_pde=n_pde,
        exact=lambda x: torch.sin(x[:, 0:1] - x[:, 1:2]),
    )


def oscillator(n_pde=16):
    """u'' + u = 0 on [0, 2] with u(0) = 1, u'(0) = 0, and two data points; exact cos(t)."""
    t = torch.tensor([[0.5], [1.5]], dtype=torch.float64)
    return pinn.Problem(
        pinn.Time(0.0, 2.0),
        pde=lambda f: f.u_tt + f.u,
        conditions=[
            pinn.initial(1.0),
            pinn.initial(0.0, order=1, name="velocity"),
            pinn.data(t, torch.cos(t)),
        ],
        n_pde=n_pde,
        exact=lambda x: torch.cos(x),
    )


def inverse(n_pde=16):
    """u' = -k u on [0, 1], u(0) = 1, with an unknown k (true 2) and a residual condition
    u' + 2u = 0 at t = 1; exact e^(-2t)."""
    return pinn.Problem(
        pinn.Time(0.0, 1.0),
        pde=lambda f, p: f.u_t + p.k * f.u,
        conditions=[
            pinn.initial(1.0),
            pinn.residual(lambda f: f.u_t + 2 * f.u, on=torch.tensor([[1.0]]), name="end"),
        ],
        n_pde=n_pde,
        unknowns={"k": 2.0},
        exact=lambda x: torch.exp(-2 * x),
    )


PROBLEMS = {
    f.__name__: f for f in (poisson1d, robin1d, heat_neumann, advection, oscillator, inverse)
}


class Exact(torch.nn.Module):
    """A 'network' that returns an exact solution: every loss term of its problem vanishes."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)
