"""The same cases in DeepXDE (pytorch backend), when it is importable.

DeepXDE is timed through `Model._train_step`, its inner training step: `Model.train` adds two
test-loss evaluations per call, which would charge a per-round overhead to it alone.
Its `set_LBFGS_options` does not reach the torch optimizer (the per-step limits are computed
once, at import), so `LBFGS_options["iter_per_step"]` and `["fun_per_step"]` are set too; its
memory is set to `pinn.LBFGS`'s (50 pairs; DeepXDE's default is 100), so both run the same method.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import math
import os

import numpy as np
import torch

from pinn.training import LBFGS

from .cases import NU, Case, sync


def available() -> str | None:
    """DeepXDE's version, or None when it cannot be imported with the pytorch backend."""
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    try:
        with _quiet():  # DeepXDE prints its backend as it loads
            dde = importlib.import_module("deepxde")
    except Exception:  # not installed, or a backend that fails to load
        return None
    return dde.__version__ if dde.backend.backend_name == "pytorch" else None


class DeepXDERunner:
    """One case trained by DeepXDE: the `Runner` interface (`adam`, `lbfgs`)."""

    config = "deepxde"

    def __init__(self, case: Case, device: torch.device, seed: int = 0):
        import deepxde as dde

        self.dde, self.case, self.device = dde, case, device
        with _quiet():  # DeepXDE prints as it sets up and compiles
            dde.config.set_random_seed(seed)
            dde.config.set_default_float("float32")
            self.model = dde.Model(_data(dde, case), _net(dde, case))
            self.model.compile("adam", lr=1e-3, loss_weights=_weights(case))
            self.model.train(iterations=1, display_every=10**9, verbose=0)  # the train state
        self.lbfgs_ready = False

    def _step(self):
        s = self.model.train_state
        self.model._train_step(s.X_train, s.y_train, s.train_aux_vars)

    def adam(self, steps: int) -> None:
        for _ in range(steps):
            self._step()
        sync(self.device)

    def lbfgs(self, iterations: int) -> int:
        opts = self.dde.optimizers.config.LBFGS_options
        if not self.lbfgs_ready:
            self.dde.optimizers.set_LBFGS_options(
                maxcor=LBFGS(steps=1).history_size, maxiter=iterations, ftol=0.0, gtol=0.0
            )
            opts["iter_per_step"], opts["fun_per_step"] = iterations, 10**9
            with _quiet():
                self.model.compile("L-BFGS", loss_weights=_weights(self.case))
            self.lbfgs_ready = True
        state = self.model.opt.state[self.model.opt._params[0]]
        before = state.get("func_evals", 0)
        self._step()
        sync(self.device)
        return state["func_evals"] - before


@contextlib.contextmanager
def _quiet():
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def _net(dde, case: Case):
    return dde.nn.FNN([2, *case.hidden, 1], "tanh", "Glorot normal")


def _weights(case: Case):
    return [1.0, 10.0] if case.kind == "poisson2d" else [1.0, 1.0, 1.0]


def _data(dde, case: Case):
    grad = dde.grad
    if case.kind == "burgers":
        geom = dde.geometry.GeometryXTime(
            dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 1)
        )

        def pde(x, u):
            u_x = grad.jacobian(u, x, i=0, j=0)
            u_t = grad.jacobian(u, x, i=0, j=1)
            u_xx = grad.hessian(u, x, i=0, j=0)
            return u_t + u * u_x - NU * u_xx

        ic = dde.icbc.IC(geom, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on: on)
        bc = dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on: on)
        return dde.data.TimePDE(
            geom, pde, [ic, bc], num_domain=case.n, num_boundary=case.n_bc, num_initial=case.n_bc
        )
    geom = dde.geometry.Rectangle([0, 0], [1, 1])

    def pde(x, u):
        source = torch.sin(math.pi * x[:, 0:1]) * torch.sin(math.pi * x[:, 1:2])
        laplacian = grad.hessian(u, x, i=0, j=0) + grad.hessian(u, x, i=1, j=1)
        return -laplacian - 2 * math.pi**2 * source

    bc = dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on: on)
    return dde.data.PDE(geom, pde, [bc], num_domain=case.n, num_boundary=case.n_bc)
