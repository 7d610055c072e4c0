"""`train`: run the stages in order on one problem and network, logging every `log_every` steps.

Loss values stay on the device inside the step loop; they are read back (a host sync) only at
log points, so the same loop keeps a GPU busy.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence

import numpy as np
import torch

from ..problem import Problem, Unknowns
from ..result import Result
from .stages import LBFGS, Adam, Stage

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(device) -> torch.device:
    """'auto' takes CUDA when present; anything torch accepts otherwise."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(
            f"unknown device {device!r}; valid: 'auto', 'cpu', 'cuda', 'cuda:N'"
        ) from e


def resolve_dtype(dtype) -> torch.dtype:
    if dtype in DTYPES.values():
        return dtype
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; valid: {', '.join(DTYPES)}")
    return DTYPES[dtype]


def regularization(net: torch.nn.Module, l1: float, l2: float) -> dict[str, torch.Tensor]:
    """L1 and L2 penalties on the weight matrices (not biases) as loss terms."""
    weights = [p for p in net.parameters() if p.ndim > 1]
    terms = {}
    if l2:
        terms["l2"] = l2 * sum(w.square().sum() for w in weights)
    if l1:
        terms["l1"] = l1 * sum(w.abs().sum() for w in weights)
    return terms


def train(
    problem: Problem,
    net: torch.nn.Module,
    stages: Sequence[Stage] | None = None,
    *,
    l2: float = 0.0,
    l1: float = 0.0,
    seed: int = 0,
    device="auto",
    dtype="float32",
    log_every: int = 100,
    initialize: bool = True,
    n_eval: int = 10_000,
    engine=None,
    verbose: bool = False,
) -> Result:
    """Train `net` on `problem` with each stage in turn (default: Adam, then L-BFGS).

    Args:
        l2, l1: penalties on the weights, added as loss terms (so they act under L-BFGS too).
        seed: fixes the initialization (when `initialize`), the sampling and the ordering.
        device: "auto" (CUDA when present), "cpu", "cuda", ...; dtype: "float32" or "float64".
        log_every: steps between history records (each reads the loss back from the device).
        initialize: draw fresh weights from `seed` first; False keeps the net's current ones.
        n_eval: size of the evaluation grid for the error against `problem.exact`.
        engine: the derivative engine (see `Problem.losses`); None: nested reverse mode.
        verbose: print one line per history record.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a pinn.Problem, got {type(problem).__name__}")
    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"net must be a torch.nn.Module such as pinn.MLP, got {type(net).__name__}")
    stages = list(stages) if stages is not None else [Adam(steps=1000), LBFGS(steps=1000)]
    if not stages or not all(isinstance(s, Stage) for s in stages):
        raise TypeError(
            f"stages must be a non-empty list of pinn stages (pinn.Adam(...), "
            f"pinn.LBFGS(...), ...), got {stages!r}"
        )
    for name, value in (("l2", l2), ("l1", l1)):
        if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if isinstance(log_every, bool) or not isinstance(log_every, int) or log_every <= 0:
        raise ValueError(f"log_every must be a positive integer, got {log_every!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    device, dtype = resolve_device(device), resolve_dtype(dtype)

    torch.manual_seed(seed)
    if initialize and hasattr(net, "reset_parameters"):
        net.reset_parameters()
    net.to(device=device, dtype=dtype).train()
    unknowns = Unknowns(problem.unknowns).to(device=device, dtype=dtype)
    batch = problem.sample(seed=seed, dtype=dtype, device=device)
    result = Result(problem, net, unknowns, device=device, dtype=dtype, n_eval=n_eval)
    params = [*net.parameters(), *unknowns.parameters()]

    def loss_terms():
        terms = problem.losses(net, batch, unknowns, engine)
        terms.update(regularization(net, l1, l2))
        return terms

    run = _Run(result, log_every, verbose)
    for index, stage in enumerate(stages):
        optimizer = stage.build(params)
        scheduler = stage.decay.scheduler(optimizer, stage.steps) if stage.decay else None
        step = _lbfgs_stage if isinstance(stage, LBFGS) else _first_order_stage
        step(stage, index, optimizer, scheduler, loss_terms, params, run)
    result.info["train_time"] = time.perf_counter() - run.start
    return result


class _Run:
    """Bookkeeping across stages: the global step, the history and the last good state."""

    def __init__(self, result: Result, log_every: int, verbose: bool):
        self.result, self.log_every, self.verbose = result, log_every, verbose
        self.step, self.start = 0, time.perf_counter()
        self.good = None

    def log(self, stage, index, lr, terms) -> bool:
        """Record one history entry; False (after restoring the last good state) if non-finite."""
        values = {f"loss_{k}": float(v) for k, v in terms.items()}
        loss = sum(values.values())
        if not np.isfinite(loss):
            if self.good is not None:
                self.result.load_state(self.good)
            warnings.warn(
                f"{stage.name} stage: the loss became {loss} at step {self.step}; "
                "restored the last finite state and ended the stage",
                stacklevel=3,
            )
            return False
        self.good = self.result.state()
        record = {
            "step": self.step,
            "stage": stage.name,
            "stage_index": index,
            "lr": lr,
            "loss": loss,
            **values,
        }
        if self.result.problem.exact is not None:
            record["error"] = self.result.error()
        record["time"] = time.perf_counter() - self.start
        self.result.history.append(record)
        if self.verbose:
            err = f"  error {record['error']:.3e}" if "error" in record else ""
            print(
                f"[{stage.name}] step {self.step:6d}  loss {loss:.3e}{err}  lr {lr:.2e}", flush=True
            )
        return True


def _first_order_stage(stage, index, optimizer, scheduler, loss_terms, params, run: _Run):
    for k in range(stage.steps):
        optimizer.zero_grad(set_to_none=True)
        terms = loss_terms()
        sum(terms.values()).backward()
        lr = optimizer.param_groups[0]["lr"]
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        run.step += 1
        if (run.step % run.log_every == 0 or k == stage.steps - 1) and not run.log(
            stage, index, lr, {n: v.detach() for n, v in terms.items()}
        ):
            return


def _lbfgs_stage(stage, index, optimizer, scheduler, loss_terms, params, run: _Run):
    """Run L-BFGS in chunks of `log_every` iterations (its state carries across chunks)."""
    last = {}

    def closure():
        optimizer.zero_grad(set_to_none=True)
        terms = loss_terms()
        total = sum(terms.values())
        total.backward()
        last.update(terms)
        return total

    done = 0
    while done < stage.steps:
        chunk = min(run.log_every - run.step % run.log_every, stage.steps - done)
        optimizer.param_groups[0]["max_iter"] = chunk
        state = optimizer.state[optimizer._params[0]]
        before = state.get("n_iter", 0)
        lr = optimizer.param_groups[0]["lr"]
        optimizer.step(closure)
        iterations = state.get("n_iter", 0) - before
        done += iterations
        run.step += iterations
        for _ in range(iterations if scheduler is not None else 0):
            scheduler.step()
        if not run.log(stage, index, lr, {n: v.detach() for n, v in last.items()}):
            return
        if iterations < chunk:  # no descent direction left (converged to round-off)
            run.result.info.setdefault("notes", []).append(
                f"{stage.name} stage ended after {done} of {stage.steps} iterations: "
                "no descent direction left"
            )
            return
