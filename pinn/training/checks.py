"""Argument checks of `pinn.train`: every mistake fails before anything is drawn or trained,
naming the bad value and what is valid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..checkpoint import KEYS
from ..constraints import check_built_in
from ..engines import output_transform
from ..errors import BadType, BadValue
from ..problem import Problem
from ..supervised import Supervised
from .loops import first_order
from .sampling import Resample
from .stages import LBFGS, Adam, Stage
from .stopping import EarlyStopping
from .weighting import Combined, FixedWeights, Weighting

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(device) -> torch.device:
    """'auto' takes CUDA when present; 'cpu', 'cuda', 'cuda:N' (or a torch.device) otherwise,
    checked to exist here, so that a wrong one fails before anything is drawn or written."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    valid = "'auto', 'cpu'" + (", 'cuda', 'cuda:N'" if torch.cuda.is_available() else "")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise BadValue(f"unknown device {device!r}; valid: {valid}") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            why = "this torch is a CPU build" if torch.version.cuda is None else "no GPU is visible"
            raise BadValue(f"device {device!r} is not available here ({why}); valid: {valid}")
        count = torch.cuda.device_count()
        if resolved.index is not None and resolved.index >= count:
            raise BadValue(
                f"device {device!r} does not exist: {count} GPU(s), cuda:0 to cuda:{count - 1}"
            )
    elif resolved.type != "cpu":
        raise BadValue(f"device {device!r} is not supported; valid: {valid}")
    return resolved


def resolve_dtype(dtype) -> torch.dtype:
    if dtype in DTYPES.values():
        return dtype
    if dtype not in DTYPES:
        raise BadValue(f"unknown dtype {dtype!r}; valid: {', '.join(DTYPES)}")
    return DTYPES[dtype]


def check(problem, net, stages, l2, l1, log_every, seed, early_stopping, validation) -> list:
    """Validate the arguments of `train`; return the stages as a list."""
    if not isinstance(problem, (Problem, Supervised)):
        raise BadType(
            f"problem must be a pinn.Problem or pinn.Supervised, got {type(problem).__name__}"
        )
    if not isinstance(net, torch.nn.Module):
        raise BadType(f"net must be a torch.nn.Module such as pinn.MLP, got {type(net).__name__}")
    check_built_in(problem, output_transform(net))
    if stages is None:
        stages = [Adam(steps=1000), LBFGS(steps=1000)]
    if (
        not isinstance(stages, Sequence)
        or not stages
        or not all(isinstance(s, Stage) for s in stages)
    ):
        raise BadType(
            f"stages must be a non-empty list of pinn stages (pinn.Adam(...), "
            f"pinn.LBFGS(...), ...), got {stages!r}"
        )
    stages = list(stages)
    for name, value in (("l2", l2), ("l1", l1)):
        if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
            raise BadValue(f"{name} must be a finite number >= 0, got {value!r}")
    if log_every is not None and (
        isinstance(log_every, bool) or not isinstance(log_every, int) or log_every <= 0
    ):
        raise BadValue(f"log_every must be a positive integer or None, got {log_every!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise BadType(f"seed must be an integer, got {seed!r}")
    if early_stopping is not None:
        if not isinstance(early_stopping, EarlyStopping):
            raise BadType(f"early_stopping must be a pinn.EarlyStopping, got {early_stopping!r}")
        if validation is None:
            raise BadValue(
                "early_stopping needs a validation set: validation=(points, values), points, "
                "or a number of points (for problems with an exact solution)"
            )
    return stages


def check_options(n_eval, max_failures, on_step, on_stage_end, checkpoints, resume) -> None:
    """Validate the remaining arguments of `train` that are only used later in the run."""
    for name, value in (("n_eval", n_eval), ("max_failures", max_failures)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise BadValue(f"{name} must be a positive integer, got {value!r}")
    for name, fn in (("on_step", on_step), ("on_stage_end", on_stage_end)):
        if fn is not None and not callable(fn):
            raise BadType(f"{name} must be a callable or None, got {fn!r}")
    if checkpoints is not None and not all(
        callable(getattr(checkpoints, m, None)) for m in ("due", "save")
    ):
        raise BadType(
            f"checkpoints must be a pinn.checkpoint.Checkpoints(directory) writer or None, "
            f"got {checkpoints!r}"
        )
    if resume is not None and not (isinstance(resume, dict) and set(KEYS) <= set(resume)):
        got = f"a dict of {sorted(resume)}" if isinstance(resume, dict) else repr(resume)
        raise BadValue(
            f"resume must be a checkpoint state from pinn.checkpoint.load(path), a dict of "
            f"{list(KEYS)}; got {got}"
        )


def check_net(problem, net: torch.nn.Module, device, dtype) -> None:
    """Run `net` once on two points of the domain (in evaluation mode, so no random draws):
    it must map the coordinates to one column per field. Leaves it in training mode."""
    x = torch.as_tensor(problem.domain.sample(2, "uniform", 0), device=device, dtype=dtype)
    expected = f"(2, {len(problem.fields)}), one column per field {problem.fields}"
    net.eval()
    try:
        u = net(x)
    except RuntimeError as e:
        raise BadValue(
            f"net fails on points of shape (2, {problem.domain.dim}) (coordinates "
            f"{problem.coords}); it must map them to {expected}: {e}"
        ) from e
    finally:
        net.train()
    shape = tuple(u.shape) if torch.is_tensor(u) else type(u).__name__
    if shape != (2, len(problem.fields)):
        raise BadValue(
            f"net maps points of shape (2, {problem.domain.dim}) to {shape}; expected {expected}"
        )


def strategies(weighting, sampling, resample_every):
    """The weighting and sampling strategies of a run: the defaults for None, and
    `resample_every=N` as `Resample(every=N)`."""
    weighting = FixedWeights() if weighting is None else weighting
    if isinstance(weighting, (list, tuple)):
        if not weighting:
            raise BadValue("weighting=[] combines nothing; give one weighting, a list, or None")
        weighting = Combined(weighting)
    if not isinstance(weighting, Weighting):
        raise BadType(
            f"weighting must be a pinn weighting such as pinn.FixedWeights(), got {weighting!r}"
        )
    if resample_every is not None:
        if sampling is not None:
            raise BadValue(
                f"give sampling= or resample_every=, not both (got {sampling!r} and "
                f"resample_every={resample_every!r}); resample_every=N is pinn.Resample(every=N)"
            )
        try:
            sampling = Resample(every=resample_every)
        except ValueError:
            raise BadValue(
                f"resample_every must be a positive integer or None, got {resample_every!r}"
            ) from None
    return weighting, sampling  # the sampler checks `sampling` itself


def adapting(stages, weighting, sampling) -> None:
    """An adaptive weighting or a sampling strategy changes at first-order steps only (closure
    stages keep the function their line search minimises): with closure stages alone it would
    silently do nothing."""
    if any(stage.loop is first_order for stage in stages):
        return
    adapts = {"weighting": weighting if weighting.adaptive else None, "sampling": sampling}
    for what, which in adapts.items():
        if which is not None:
            names = ", ".join(sorted({type(s).__name__ for s in stages}))
            raise BadValue(
                f"{what}={which!r} adapts at first-order steps only, and every stage here is a "
                f"closure stage ({names}), under which it would never change; add a "
                "first-order stage (e.g. pinn.Adam) or drop it"
            )
