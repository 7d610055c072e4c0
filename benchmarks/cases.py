"""The benchmark cases and, for each, every configuration that trains it.

A configuration is a `Runner`: the same network (same initial weights) and points, trained by
one of the pinn engines ("reverse", "taylor", "compiled"), by the hand-written baseline
("handwritten": the same math in plain PyTorch, derivatives by nested `torch.autograd.grad`),
or by DeepXDE's pytorch backend ("deepxde", when it is importable).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

import pinn
from pinn import engines
from pinn.training import LBFGS, Adam

NU = 0.01 / math.pi
ENGINES = ("reverse", "taylor", "compiled")
CONFIGS = ("handwritten", *ENGINES, "deepxde")


@dataclass(frozen=True)
class Case:
    """A problem at a size: `kind` is "burgers" or "poisson2d"; `n` collocation points;
    `steps`: the length of its recipe (Adam + L-BFGS), which sets the default engine."""

    name: str
    kind: str
    hidden: tuple[int, ...]
    n: int
    n_bc: int
    steps: int = 5_000

    def default_engine(self) -> str:
        """The engine `pinn.train` takes by default for a run of the recipe's length."""
        problem = self.problem()
        points = sum(len(p) for p in problem.sample().values())  # full batch, as the recipes
        net = pinn.MLP(problem, hidden=list(self.hidden), activation="tanh")
        return engines.name(engines.resolve("auto", net, work=self.steps * points))

    def problem(self) -> pinn.Problem:
        if self.kind == "burgers":
            domain = pinn.Interval("x", -1.0, 1.0) * pinn.Time(0.0, 1.0)
            return pinn.Problem(
                domain,
                pde=lambda f: f.u_t + f.u * f.u_x - NU * f.u_xx,
                conditions=[
                    pinn.initial(lambda x: -torch.sin(math.pi * x[:, 0:1]), n=self.n_bc),
                    pinn.dirichlet(0.0, n=self.n_bc),
                ],
                n_pde=self.n,
            )
        return pinn.Problem(
            pinn.Rectangle((0.0, 0.0), (1.0, 1.0)),
            pde=lambda f: -f.u_xx - f.u_yy - 2 * math.pi**2 * _source(f.points),
            conditions=[pinn.dirichlet(0.0, n=self.n_bc, weight=10.0)],
            n_pde=self.n,
        )


def _source(x):
    return torch.sin(math.pi * x[:, 0:1]) * torch.sin(math.pi * x[:, 1:2])


def cases(quick: bool) -> list[Case]:
    """burgers 2-[20]x8-1 on 10,000 + 256 + 256 points, poisson2d 2-[32]x3-1 (its recipe) on
    2,000 + 400, and a wide burgers 2-[128]x4-1 on 8,192 + 256 + 256, each for its recipe's
    steps (the wide case: burgers'); `quick`: ~1/8 the points."""
    k = 8 if quick else 1
    return [
        Case("burgers", "burgers", (20,) * 8, 10_000 // k, 256 // k),
        Case("poisson2d", "poisson2d", (32,) * 3, 2_000 // k, 400 // k, steps=3_500),
        Case("wide", "burgers", (128,) * 4, 8_192 // k, 256 // k),
    ]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Runner:
    """One configuration of one case: `adam(steps)` and `lbfgs(iterations) -> evaluations`."""

    def __init__(self, case: Case, config: str, device: torch.device, seed: int = 0):
        self.case, self.config, self.device = case, config, device
        self.problem = case.problem()
        torch.manual_seed(seed)
        self.net = pinn.MLP(self.problem, hidden=list(case.hidden), activation="tanh")
        self.net.to(device=device, dtype=torch.float32)
        self.batch = self.problem.sample(seed=seed, dtype=torch.float32, device=device)
        if config == "handwritten":
            self.plain = plain_copy(self.net)
            self.params = list(self.plain.parameters())
            loss = BASELINES[case.kind]
            self.loss = lambda: loss(self.plain, self.net.shift, self.net.scale, self.batch)
            self.adam_opt = torch.optim.Adam(self.params, lr=1e-3)  # pinn's Adam is fused
        else:
            engine = engines.resolve(config, self.net)
            self.params = list(self.net.parameters())
            self.loss = lambda: sum(
                self.problem.losses(self.net, self.batch, None, engine).values()
            )
            self.adam_opt = Adam(steps=1, lr=1e-3).build(self.params)
        self.lbfgs_opt = None

    def adam(self, steps: int) -> None:
        for _ in range(steps):
            self.adam_opt.zero_grad(set_to_none=True)
            self.loss().backward()
            self.adam_opt.step()
        sync(self.device)

    def lbfgs(self, iterations: int) -> int:
        """Run `iterations` L-BFGS iterations (state kept across calls); the evaluations made."""
        if self.lbfgs_opt is None:
            self.lbfgs_opt = LBFGS(steps=1).build(self.params)
        count = [0]

        def closure():
            count[0] += 1
            self.lbfgs_opt.zero_grad(set_to_none=True)
            loss = self.loss()
            loss.backward()
            return loss

        self.lbfgs_opt.param_groups[0]["max_iter"] = iterations
        self.lbfgs_opt.step(closure)
        sync(self.device)
        return count[0]


def plain_copy(net: pinn.MLP) -> torch.nn.Sequential:
    """The MLP's layers as a plain `torch.nn.Sequential` of Linear and Tanh (same weights)."""
    layers = []
    for linear in net.linears[:-1]:
        layers += [_copy(linear), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers, _copy(net.linears[-1]))


def _copy(linear: torch.nn.Linear) -> torch.nn.Linear:
    new = torch.nn.Linear(linear.in_features, linear.out_features)
    new.load_state_dict(linear.state_dict())
    return new.to(linear.weight)


# -- the hand-written baseline: the same losses, nested torch.autograd.grad ------------------
def _grad(y, x):
    return torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True)[0]


def burgers_loss(net, shift, scale, batch):
    x = batch["pde"].x.detach().requires_grad_(True)
    u = net((x - shift) * scale)
    du = _grad(u, x)
    u_x, u_t = du[:, 0:1], du[:, 1:2]
    u_xx = _grad(u_x, x)[:, 0:1]
    pde = (u_t + u * u_x - NU * u_xx).square().mean()
    x0, xb = batch["initial"].x, batch["dirichlet"].x
    ic = (net((x0 - shift) * scale) + torch.sin(math.pi * x0[:, 0:1])).square().mean()
    bc = net((xb - shift) * scale).square().mean()
    return pde + ic + bc


def poisson2d_loss(net, shift, scale, batch):
    x = batch["pde"].x.detach().requires_grad_(True)
    u = net((x - shift) * scale)
    du = _grad(u, x)
    u_xx = _grad(du[:, 0:1], x)[:, 0:1]
    u_yy = _grad(du[:, 1:2], x)[:, 1:2]
    pde = (-u_xx - u_yy - 2 * math.pi**2 * _source(x)).square().mean()
    xb = batch["dirichlet"].x
    return pde + 10.0 * net((xb - shift) * scale).square().mean()


BASELINES = {"burgers": burgers_loss, "poisson2d": poisson2d_loss}


def timed(fn, *args) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out
