"""Problem = domain + fields + PDE residuals + conditions (+ exact solution, unknowns).

A problem is a declaration: its point sets (`pinn.pointsets`) say where each loss term takes
its points and what its residual is; `sample` draws the points, and `pinn.residuals` evaluates
a network's residuals on them (`losses` is their plain weighted mean square). It is checked once at construction by evaluating every
residual and condition on a few points with a small probe network, so a misspelt field, a
residual of the wrong shape or an exact solution of the wrong shape fails here, by name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping

import numpy as np
import torch

from . import constraints, residuals
from .conditions import Condition
from .domain import Domain
from .errors import BadType, BadValue, InputError
from .fields import Fields, Params
from .pointsets import Points, _check_finite, _is_list, _names, build
from .samplers import METHODS, check_count

Batch = dict[str, Points]


class Unknowns(torch.nn.Module):
    """The unknown scalar parameters of an inverse problem, trained beside the network:
    `initial` maps each name to its starting value (float64 parameters, moved to the run's
    device and dtype by `pinn.train`)."""

    def __init__(self, initial: Mapping[str, float]):
        super().__init__()
        self.values = torch.nn.ParameterDict(
            {
                k: torch.nn.Parameter(torch.tensor(float(v), dtype=torch.float64))
                for k, v in initial.items()
            }
        )

    def view(self) -> Params:
        return Params(dict(self.values.items()))

    def as_dict(self) -> dict[str, float]:
        return {k: float(v.detach()) for k, v in self.values.items()}


class Problem:
    """A PDE or ODE problem: a domain, the fields, the PDE residuals and the conditions.

    Args:
        domain: a pinn domain (`Interval`, `Time`, `Rectangle`, `Box`, `Disk`, or a product
            `a * b`); its coordinate names are what residuals read (`f.x`, `f.u_x`).
        fields: the unknown functions: a name such as "u" or a tuple ("u", "v", "p").
        pde: the PDE residual `f -> (N, 1) tensor` (or `(f, p)` reading unknowns `p`), a list
            of them (terms "pde0", "pde1", ...) or a dict name -> residual; None: no PDE term.
        conditions: a list of conditions (`pinn.dirichlet`, `neumann`, `robin`, `initial`,
            `periodic`, `data`, `residual`); each becomes a loss term.
        n_pde: collocation points of the PDE terms (default 2,000).
        exact: the exact solution, an (N, d) tensor -> (N, n_fields) tensor, for `error()`.
        unknowns: the unknown parameters of an inverse problem, name -> initial value.
        sampler: how points are drawn: "halton" (default), "sobol", "uniform" or
            "lhs" (Latin hypercube).
        name: for messages and run directories.

    Every argument is checked here, and every residual, condition and the exact solution is
    evaluated once on a few points, so that a mistake fails at construction, by name.
    """

    def __init__(
        self,
        domain: Domain,
        fields: str | tuple[str, ...] = "u",
        pde=None,
        conditions=(),
        n_pde: int = 2_000,
        exact: Callable | None = None,
        unknowns: Mapping[str, float] | None = None,
        sampler: str = "halton",
        name: str | None = None,
    ):
        if not isinstance(domain, Domain):
            raise BadType(
                f"domain must be a pinn domain (Interval, Time, Box, ...), got {domain!r}"
            )
        self.domain, self.coords = domain, domain.names
        self.fields = _names(fields)
        clash = set(self.fields) & set(self.coords)
        if clash:
            raise BadValue(f"field names {sorted(clash)} clash with coordinates {self.coords}")
        check_count(n_pde, "n_pde")
        if sampler not in METHODS:
            raise BadValue(f"unknown sampler {sampler!r}; valid: {', '.join(METHODS)}")
        if exact is not None and not callable(exact):
            raise BadType(f"exact must be a callable of the (N, d) points, got {exact!r}")
        self.unknowns = _unknowns(unknowns)
        self.n_pde, self.exact, self.sampler, self.name = n_pde, exact, sampler, name
        self.pde, self.conditions = pde, tuple(_conditions(conditions))
        self.sets = build(self)
        self.derivatives = self._probe()
        self.constraint = constraints.build(self)

    def __repr__(self):
        return f"Problem({self.name or ''!s}, fields={self.fields}, domain={self.domain!r})"

    @property
    def terms(self) -> tuple[str, ...]:
        """The names of the loss terms, in order."""
        return tuple(t.name for s in self.sets for t in s.terms)

    # -- sampling -------------------------------------------------------------------------
    def sample(self, seed=0, dtype=torch.float32, device="cpu", rng=None, cap=None) -> Batch:
        """Draw every point set; `rng` (a numpy Generator) overrides `seed`; `cap` limits n."""
        rng = rng if rng is not None else np.random.default_rng(seed)
        batch = {}
        for s in self.sets:
            x, normals = s.draw(cap, rng)
            x = torch.as_tensor(x, dtype=dtype, device=device)
            normals = (
                None if normals is None else torch.as_tensor(normals, dtype=dtype, device=device)
            )
            target = None if s.target is None else s.target(x)
            batch[s.name] = Points(x, normals, target, s.paired)
        return batch

    # -- residuals and losses -----------------------------------------------------------------
    def residuals(self, net, batch: Batch, unknowns: Unknowns | None = None, engine=None) -> dict:
        """The `pinn.residuals.Residual` of every term for `net` on `batch`, by name."""
        return residuals.evaluate(self, net, batch, unknowns, engine)

    def losses(
        self, net, batch: Batch, unknowns: Unknowns | None = None, engine=None
    ) -> dict[str, torch.Tensor]:
        """The weighted mean-square loss `weight * mean(r**2)` of every term, by name (the
        loss of `pinn.FixedWeights`); `engine` as in `pinn.residuals.evaluate`."""
        return residuals.mean_squares(self.residuals(net, batch, unknowns, engine))

    # -- construction -------------------------------------------------------------------------
    def _probe(self) -> dict[str, set]:
        """Evaluate everything once on a few points; return the derivatives each set reads."""
        gen = torch.Generator().manual_seed(0)
        d, m = self.domain.dim, len(self.fields)
        w1, w2 = torch.randn(d, 16, generator=gen), torch.randn(16, m, generator=gen)
        net = lambda x: torch.tanh(x @ w1.double() + 0.1) @ w2.double()  # noqa: E731
        batch = self.sample(seed=0, dtype=torch.float64, cap=8)
        params = Unknowns(self.unknowns).double().view()
        requested = {}
        for s in self.sets:
            with _calling(f"loss term(s) {[t.name for t in s.terms]}"):
                x = batch[s.name].x.detach().requires_grad_(True)
                f = Fields(x, net(x), self.coords, self.fields)
                out = residuals.mean_squares(residuals.terms(s, f, batch[s.name], params))
            for term, value in out.items():
                if not torch.isfinite(value):
                    raise BadValue(
                        f"loss term {term!r} is not finite at initialization ({value}); "
                        f"check its residual and target for NaN/Inf or division by 0"
                    )
            requested[s.name] = f.requested
        unread = sorted(set(self.unknowns) - params._read)
        if unread:
            raise BadValue(
                f"unknowns {unread} are read by no residual, so nothing could fit them; read "
                f"them in a residual of (f, p) as p.{unread[0]}, or leave them out of unknowns"
            )
        if self.exact is not None:
            x = torch.as_tensor(self.domain.grid(64), dtype=torch.float64)
            with _calling("the exact solution"):
                self.exact_at(x)
        return requested

    def exact_at(self, x: torch.Tensor) -> torch.Tensor:
        """The exact solution at `x`, checked to have shape (N, n_fields) and finite values."""
        if self.exact is None:
            raise BadValue(
                "this problem has no exact solution; pass exact= to Problem, or "
                "give reference points and values to error()"
            )
        u = torch.as_tensor(self.exact(x), dtype=x.dtype, device=x.device)
        if u.ndim == 1 and len(self.fields) == 1:
            u = u.unsqueeze(1)
        if u.shape != (len(x), len(self.fields)):
            raise BadValue(
                f"exact solution returned shape {tuple(u.shape)} for {len(x)} points; "
                f"expected ({len(x)}, {len(self.fields)}) for fields {self.fields}"
            )
        _check_finite(x, u, "exact solution returned")
        return u


# -- helpers ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _calling(what: str):
    """Report a failure inside user code (a residual, an exact solution) as a ValueError."""
    try:
        yield
    except InputError:
        raise
    except Exception as e:
        raise BadValue(f"evaluating {what} failed: {type(e).__name__}: {e}") from e


def _unknowns(unknowns) -> dict[str, float]:
    if unknowns is None:
        return {}
    if not isinstance(unknowns, Mapping):
        raise BadType(f"unknowns must be a dict of name -> initial value, got {unknowns!r}")
    for k, v in unknowns.items():
        if not (isinstance(k, str) and k.isidentifier()):
            raise BadValue(f"unknown parameter name must be an identifier, got {k!r}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise BadValue(f"unknown {k!r}: initial value must be a finite number, got {v!r}")
    return {k: float(v) for k, v in unknowns.items()}


def _conditions(conditions):
    if isinstance(conditions, Condition):
        conditions = [conditions]
    if not _is_list(conditions):
        raise BadType(
            f"conditions must be a list of pinn conditions (pinn.dirichlet(...), ...), "
            f"got {conditions!r}"
        )
    for c in conditions:
        if not isinstance(c, Condition):
            raise BadType(
                f"conditions must be pinn conditions (pinn.dirichlet(...), ...), got {c!r}"
            )
    return conditions
