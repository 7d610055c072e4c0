"""The sampler part of the training step: it draws and holds the training points, cuts them
into mini-batches, and lets a sampling strategy replace them as training goes on.

Mini-batches and epochs over a problem's points, reshuffled every epoch:

Every point set is cut into the same number of mini-batches per epoch, n = ceil(largest set /
batch_size), so one epoch visits every point of every set exactly once and each loss term keeps
its weight in every mini-batch; a set with fewer than n points is used whole in each of them.
The permutations are drawn on the points' device, so batching adds no host sync.

In a data-parallel run (`pinn.distributed`) every process draws the same global points and
batches; each evaluates its share of every set's rows in every batch (`Points.share`).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import BadType, BadValue
from ..pointsets import Points
from .schedules import _positive


class Sampling:
    """Base of the sampling strategies: every `every` steps the sampler calls
    `points(sampler)` for the new training points (a dict point-set name -> `Points`, as
    `sampler.draw()` gives) and starts a new epoch on them. A strategy with state has
    `state_dict()` / `load_state_dict()`."""

    every: int

    def points(self, sampler: Sampler) -> dict:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Nothing to restore for a strategy without state."""


@dataclass(frozen=True)
class Resample(Sampling):
    """Fresh points, drawn as the first ones were, every `every` steps."""

    name = "resample"
    every: int = 1000

    def __post_init__(self):
        _positive("Resample: every", self.every, integer=True)

    def points(self, sampler: Sampler) -> dict:
        return sampler.draw()


def _count_or_none(name, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise BadValue(f"{name} must be a positive integer or None, got {value!r}")


class Sampler:
    """The points of one training run: `next()` gives the next mini-batch, `full()` all points.

    Args:
        batch_size: points per mini-batch of the largest set; None: full batch.
        strategy: a `Sampling` that replaces the points every `strategy.every` steps, starting
            a new epoch; None: keep the first draw.
        shard: (rank, processes): the batches give this process its share of the rows.
    """

    def __init__(
        self, problem, batch_size, strategy: Sampling | None, seed, dtype, device, shard=(0, 1)
    ):
        _count_or_none("batch_size", batch_size)
        if strategy is not None and not isinstance(strategy, Sampling):
            raise BadType(
                f"sampling must be a pinn sampling strategy such as pinn.Resample(every=1000), "
                f"or None, got {strategy!r}"
            )
        if strategy is not None:
            _positive(f"{type(strategy).__name__}: every", getattr(strategy, "every", None), True)
            if getattr(strategy, "residuals", False) and "pde" not in {
                s.name for s in getattr(problem, "sets", ())
            }:
                raise BadValue(
                    f"{type(strategy).__name__} moves the PDE's collocation points, but this "
                    "problem has no PDE residual"
                )
        self.problem, self.dtype, self.device = problem, dtype, device
        self.strategy, self.shard, self.batch_size = strategy, shard, batch_size
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.points = self.draw()
        name, largest = max(((k, len(p)) for k, p in self.points.items()), key=lambda kv: kv[1])
        if batch_size is not None and batch_size > largest:
            raise BadValue(
                f"batch_size={batch_size} is larger than the largest point set ({name!r}, "
                f"{largest} points); valid: 1 to {largest}, or None for full batch"
            )
        self.epoch = self.iteration = self.steps = self.drawn_at = 0
        self._queue: list = []
        self.objective = None  # the run's loss (`Objective`), which the strategies may read

    def terms(self) -> dict[str, str]:
        """The point set of each loss term, by term name."""
        sets = getattr(self.problem, "sets", None)
        if sets is None:
            return {k: k for k in self.points}
        return {t.name: s.name for s in sets for t in s.terms}

    def sizes(self) -> dict[str, int]:
        """The rows of each loss term's point set."""
        return {t: len(self.points[s]) for t, s in self.terms().items()}

    def candidates(self, n: int) -> torch.Tensor:
        """`n` fresh points in the domain (N, d), from the sampler's random stream."""
        x = self.problem.domain.sample(n, self.problem.sampler, self.rng)
        return torch.as_tensor(x, dtype=self.dtype, device=self.device)

    def magnitudes(self, x: torch.Tensor) -> torch.Tensor:
        """The PDE's squared residual at `x` per point, for the network as it is now."""
        return self.objective.magnitudes(x)

    def draw(self) -> dict:
        """A fresh draw of every point set, from the sampler's random stream."""
        return self.problem.sample(dtype=self.dtype, device=self.device, rng=self.rng)

    def _shuffle(self) -> list[dict]:
        """One epoch: for each mini-batch, the rows of each set (None: the whole set)."""
        n, chunks = self.per_epoch, {}
        for name, pts in self.points.items():
            if n == 1 or len(pts) < n:
                chunks[name] = [None] * n
            else:
                perm = torch.randperm(len(pts), generator=self.generator, device=self.device)
                chunks[name] = list(perm.tensor_split(n))
        return [{name: rows[k] for name, rows in chunks.items()} for k in range(n)]

    def next(self) -> dict:
        """The next mini-batch; a new epoch (reshuffled) when the current one is used up."""
        due = self.strategy is not None and self.steps - self.drawn_at >= self.strategy.every
        if due:
            old, self.points = self.points, self.strategy.points(self)
            self._queue, self.drawn_at = [], self.steps
            if self.objective is not None:
                sets = {k for k, p in self.points.items() if p is not old.get(k)}
                # rank 0's points on every process, whatever round-off chose them
                self.objective.group.broadcast([self.points[k].x for k in sorted(sets)])
                changed = {t for t, s in self.terms().items() if s in sets}
                self.objective.weighting.points_changed(self.sizes(), changed)
        if not self._queue:
            self._queue = self._shuffle()
            self.epoch, self.iteration = self.epoch + 1, 0
        self.iteration += 1
        self.steps += 1
        rows = self._queue.pop()
        return {k: self._part(k, p, rows[k]) for k, p in self.points.items()}

    def full(self) -> dict:
        """All the current points (for L-BFGS); ends any unfinished epoch."""
        self._queue = []
        return {k: self._part(k, p, None) for k, p in self.points.items()}

    @property
    def points(self) -> dict:
        """The current training points of every set, by name."""
        return self._points

    @points.setter
    def points(self, value: dict) -> None:
        self._points, self._whole = value, {}  # this process's shares of the whole sets
        # mini-batches per epoch: the largest set (which RAR grows) in batches of batch_size
        largest = max(len(p) for p in value.values())
        self.per_epoch = 1 if self.batch_size is None else math.ceil(largest / self.batch_size)

    def _part(self, name: str, points: Points, rows) -> Points:
        """The rows `rows` of a set (None: all), or this process's share of them."""
        if self.shard[1] == 1:
            return points if rows is None else points.take(rows)
        if rows is None:  # the same share at every step until the points change
            if name not in self._whole:
                self._whole[name] = points.share(None, *self.shard)
            return self._whole[name]
        return points.share(rows, *self.shard)

    def count_full(self, passes: int) -> None:
        """Count `passes` full-batch iterations, one epoch each."""
        self.epoch += passes
        self.iteration = 1
        self.steps += passes

    def state_dict(self) -> dict:
        """Everything needed to continue with the same batches (for checkpoints)."""
        return {
            "rng": self.rng.bit_generator.state,
            # scipy's QMC samplers spawn child generators: how many is state as well
            "spawned": self.rng.bit_generator.seed_seq.n_children_spawned,
            "generator": self.generator.get_state(),
            "points": {k: dataclasses.asdict(p) for k, p in self.points.items()},
            "queue": copy.deepcopy(self._queue),
            "strategy": None if self.strategy is None else self.strategy.state_dict(),
            **{k: getattr(self, k) for k in ("epoch", "iteration", "steps", "drawn_at")},
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state_dict()` (its tensors may come back on the CPU)."""
        seq = self.rng.bit_generator.seed_seq
        seq = np.random.SeedSequence(
            seq.entropy,
            spawn_key=seq.spawn_key,
            pool_size=seq.pool_size,
            n_children_spawned=state["spawned"],
        )
        self.rng = np.random.Generator(type(self.rng.bit_generator)(seq))
        self.rng.bit_generator.state = state["rng"]
        self.generator.set_state(state["generator"])
        move = lambda t: None if t is None else t.to(self.device)  # noqa: E731
        self.points = {
            k: Points(move(p["x"]), move(p["normals"]), move(p["target"]), p["paired"])
            for k, p in state["points"].items()
        }
        self._queue = [{k: move(rows) for k, rows in b.items()} for b in state["queue"]]
        for k in ("epoch", "iteration", "steps", "drawn_at"):
            setattr(self, k, state[k])
        if self.strategy is not None:
            self.strategy.load_state_dict(state["strategy"])
