"""Physics-informed initialization (PirateNets, Wang et al. 2024): a network that is linear in
its features at initialization has its output layer fit to the initial condition by least
squares."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import torch

from .embeddings import scaled
from .layers import set_weight
from .pointsets import _drawer, _fields_of, _target

LEVELS = 16  # times at which the initial values are fit, evenly spaced over the time interval
RCOND = 1e-6  # singular values below this fraction of the largest are dropped: a close fit
# (1e-4 to 4e-3 for sin(pi x) at width 256) with output weights of norm ~10-100, not 1e5


def initial_data(problem, levels: int = LEVELS) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """For each field index with an initial condition of a value (order 0, not hard): the
    points (N, d) and values (N, 1), float64 on the CPU. The condition's initial points are
    drawn as `problem.sample(seed=0)` draws them, and repeated at `levels` evenly spaced times
    with the same values (the initial condition held constant in time, as the PirateNet
    authors' code fits it). {} for a problem without such a condition or without time."""
    domain, conditions = problem.domain, getattr(problem, "conditions", ())
    if not conditions or domain.time is None:
        return {}
    constraint = getattr(problem, "constraint", None)
    hard = set(constraint.parts) if constraint is not None else set()
    j = domain.names.index(domain.time)
    times = torch.linspace(float(domain.lo[j]), float(domain.hi[j]), levels, dtype=torch.float64)
    rng = np.random.default_rng(0)
    parts: dict[int, list] = {}
    for c in conditions:
        if c.kind != "initial" or c.options.get("order") or c.options.get("hard"):
            continue
        fields = _fields_of(problem, c)
        draw = _drawer(domain, c.on, domain.initial(), c.n, problem.sampler)
        x0 = torch.as_tensor(draw(None, rng)[0], dtype=torch.float64)
        y0 = _target(c.value, len(fields), c.name or c.kind)(x0).expand(len(x0), len(fields))
        x = x0.repeat(levels, 1)
        x[:, j] = times.repeat_interleave(len(x0))
        y = y0.repeat(levels, 1)
        for k, name in enumerate(fields):
            field = problem.fields.index(name)
            if field not in hard:
                parts.setdefault(field, []).append((x, y[:, k : k + 1]))
    return {
        f: (torch.cat([x for x, _ in p]), torch.cat([y for _, y in p])) for f, p in parts.items()
    }


def fit_output(net, data: dict[int, tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Set the rows of `net.output` (weight and bias) of the fields in `data` to the
    least-squares fit of their values from the features Φ (the embedding of the scaled inputs,
    which the output layer reads while every α is 0), in float64 on the CPU (LAPACK's gelsd:
    deterministic, minimum norm); the other rows stay as drawn."""
    double = lambda t: t.detach().to("cpu", torch.float64)  # noqa: E731
    embed = None if net.embed is None else copy.deepcopy(net.embed).to("cpu", torch.float64)
    cpu = SimpleNamespace(embed=embed, shift=double(net.shift), scale=double(net.scale))
    layer = net.output
    w, b = double(layer.weight).clone(), double(layer.bias).clone()
    with torch.no_grad():
        for field, (x, y) in data.items():
            phi = scaled(cpu, x)
            a = torch.cat([phi, torch.ones_like(phi[:, :1])], 1)
            solution = torch.linalg.lstsq(a, y, rcond=RCOND, driver="gelsd").solution
            w[field], b[field] = solution[:-1, 0], solution[-1, 0]
    set_weight(layer, w, b)
