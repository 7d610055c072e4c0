"""Run directories: what a training run leaves behind, and `load` to get the model back.

    RUN_DIR/config.json      the fully resolved configuration (rebuilds problem, net, stages)
    RUN_DIR/history.csv      one row per logged step: step, stage, epoch, lr, losses, error, time
    RUN_DIR/metrics.json     final errors, training time, steps/s per stage, peak memory, seed,
                             device and the versions of python, torch and pinn
    RUN_DIR/checkpoints/     last.pt and one file per finished stage (see `pinn.checkpoint`)
    RUN_DIR/*.png            history.png, solution.png, unknowns.png (inverse problems)

`start` trains into a new run directory, `resume` continues one, `load` reads one back.
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import inspect
import json
import logging
import time
import warnings
from pathlib import Path

import torch

from . import checkpoint, sources
from .config import RUNTIME, config_to_recipe, recipe_to_config
from .distributed import ProcessFailed, local_device
from .distributed import group as processes
from .errors import BadValue
from .nets import architecture, make_net
from .problem import Unknowns
from .progress import Progress, TensorBoard
from .result import Result
from .run_metrics import metrics, stage_speeds
from .training import TrainingDiverged, train
from .training.checks import resolve_device, resolve_dtype

CONFIG, HISTORY, METRICS, CHECKPOINTS = "config.json", "history.csv", "metrics.json", "checkpoints"


def default_run_dir(name: str) -> Path:
    """runs/NAME-YYYYmmdd-HHMMSS under the current directory."""
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def last_checkpoint(run_dir) -> Path:
    return Path(run_dir) / CHECKPOINTS / checkpoint.LAST


def encode(value):
    """A config as JSON: a function becomes {"callable": "module:name"}, or None in its place
    when it has no importable name (a lambda, a local function), with its repr."""
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if callable(value):
        module, name = getattr(value, "__module__", None), getattr(value, "__qualname__", "<")
        importable = module not in (None, "__main__") and "<" not in name
        return {"callable": f"{module}:{name}" if importable else None, "repr": repr(value)}
    return value


def decode(value, where: str = "config"):
    """The inverse of `encode`: each {"callable": "module:name"} imported back."""
    if isinstance(value, list):
        return [decode(v, f"{where}.{i}") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if set(value) != {"callable", "repr"}:
        return {k: decode(v, f"{where}.{k}") for k, v in value.items()}
    if value["callable"] is None:
        raise BadValue(
            f"{where} = {value['repr']} cannot be rebuilt from config.json (it has "
            "no importable name); pass the net or problem in from Python"
        )
    module, _, name = value["callable"].partition(":")
    found = importlib.import_module(module)
    for part in name.split("."):
        found = getattr(found, part)
    return found


def write_config(run_dir, config: dict) -> None:
    checkpoint.atomic_write(
        Path(run_dir) / CONFIG, lambda f: json.dump(encode(config), f, indent=2)
    )


def read_config(run_dir) -> dict:
    """The config.json of `run_dir`; ValueError naming what is missing and the runs beside it."""
    path = Path(run_dir) / CONFIG
    if not Path(run_dir).is_dir():
        parent = Path(run_dir).parent
        runs = sorted(str(p.parent) for p in parent.glob(f"*/{CONFIG}")) if parent.is_dir() else []
        valid = f"; runs there: {', '.join(runs)}" if runs else f", and no run in {parent}"
        raise BadValue(f"no run directory {run_dir}{valid}")
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise BadValue(f"{run_dir} is not a run directory: cannot read {CONFIG} ({e})") from None


def write_history(run_dir, history: list[dict]) -> None:
    keys = list(dict.fromkeys(k for record in history for k in record))

    def write(f):
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(history)

    checkpoint.atomic_write(Path(run_dir) / HISTORY, write)


def write_results(result, run_dir, seed: int) -> dict:
    """Write history.csv, metrics.json and the plots of a finished run; return the metrics."""
    from .plots import save_plots  # matplotlib only when plotting: `import pinn` stays fast

    write_history(run_dir, result.history)
    summary = metrics(result, seed)
    checkpoint.atomic_write(Path(run_dir) / METRICS, lambda f: json.dump(summary, f, indent=2))
    save_plots(result, run_dir)
    return summary


# -- configuration ------------------------------------------------------------------------------


def _json_defaults(fn, skip) -> dict:
    """The keyword defaults of `fn` that JSON can hold (tuples as lists)."""
    out = {}
    for p in inspect.signature(fn).parameters.values():
        value = list(p.default) if isinstance(p.default, tuple) else p.default
        if (
            p.name not in skip
            and p.default is not p.empty
            and (value is None or isinstance(value, (bool, int, float, str, list)))
        ):
            out[p.name] = value
    return out


def resolve(config: dict, problem_fn=None) -> dict:
    """`config` with every default filled in: of `pinn.train`, of the network, and of
    `problem_fn` (the problem's `problem()`) in the "problem" section when given."""
    out = {**_json_defaults(train, ("problem", "net", "stages", *RUNTIME)), **config}
    net = {"arch": "MLP", **config.get("net", {})}
    out["net"] = {**_json_defaults(architecture(net["arch"]).__init__, ("self", "problem")), **net}
    if problem_fn is not None:
        out["problem"] = {**_json_defaults(problem_fn, ()), **config.get("problem", {})}
    return out


def build_problem(config: dict, allow_changed: bool = False):
    """The problem of a run from its config: `problem(**config["problem"])` of the module its
    "run" section records (`pinn.sources.reload`: refused if its source changed since)."""
    module = sources.reload(config.get("run", {}), allow_changed)
    return module.problem(**config.get("problem", {}))


# -- training into a run directory --------------------------------------------------------------
def start(
    problem,
    recipe: dict,
    run_dir,
    *,
    module: str | None = None,
    every: int = 1000,
    quiet: bool = False,
    tensorboard: bool = False,
    distributed="auto",
) -> Result:
    """Train `problem` with `recipe` (`{"net": ..., "stages": [...], **train options}`) and
    write the run directory `run_dir`: config, checkpoints every `every` steps, history,
    metrics and plots.

    `module` names the module whose `problem(**recipe["problem"])` rebuilds the problem (a
    dotted name or a .py file; so `pinn.load` and `pinn resume` need no `problem=`); the run
    records its source file's SHA-256 and refuses to resume or load from a changed one. `quiet`: no progress;
    `tensorboard`: also log to TensorBoard in RUN_DIR/tensorboard; `distributed`: as in
    `pinn.train` (under torchrun, rank 0 writes the run directory).
    """
    run_dir = Path(run_dir)
    if (
        _processes(recipe.get("device", "auto"), distributed).rank == 0
        and (run_dir / CONFIG).exists()
    ):
        raise BadValue(
            f"{run_dir} already holds a run; choose another directory, or "
            f"continue it with `pinn resume {run_dir}`"
        )
    config = resolve(recipe_to_config(recipe))
    return _train(
        problem,
        {"run": {**_origin(module), "every": every, "threads": torch.get_num_threads()}, **config},
        run_dir,
        None,
        quiet,
        tensorboard,
        distributed,
    )


def _origin(module: str | None) -> dict:
    if module is None:
        return {"module": None, "file": None, "sha256": None}
    return sources.origin(sources.load(module, needs=("problem",)), module)


def resume(
    run_dir,
    problem=None,
    *,
    quiet: bool = False,
    tensorboard: bool = False,
    allow_changed: bool = False,
    distributed="auto",
) -> Result:
    """Continue the run in `run_dir` from its last checkpoint, exactly as if never stopped
    (from the start if it was stopped before its first checkpoint). `allow_changed`: go on
    even though the problem's source file changed since the run started; `distributed`: as in
    `pinn.train` (under torchrun every process reads the run directory: on a shared filesystem
    across machines; another number of processes goes on with the same points)."""
    config = read_config(run_dir)
    last = last_checkpoint(run_dir)
    state = checkpoint.load(last) if last.exists() else None
    problem = build_problem(config, allow_changed) if problem is None else problem
    return _train(problem, config, Path(run_dir), state, quiet, tensorboard, distributed)


def _train(problem, config, run_dir, state, quiet, tensorboard, distributed) -> Result:
    """Train from `config` (with its "run" section) into `run_dir`, from `state` if given;
    everything is checked before config.json of a new run is written. In a data-parallel
    run, rank 0 writes and reports; the other processes only train."""
    options = config_to_recipe(decode({k: v for k, v in config.items() if k != "run"}))
    net, stages = make_net(problem, **options.pop("net")), options.pop("stages")
    options.pop("problem", None)
    resolve_dtype(options.get("dtype", "float32"))
    writer = _processes(options.get("device", "auto"), distributed).rank == 0
    saver = checkpoint.Checkpoints(run_dir / CHECKPOINTS, config["run"]["every"], writer)
    quiet, tensorboard = quiet or not writer, tensorboard and writer
    hooks = ([] if quiet else [Progress(stages)]) + (
        [TensorBoard(run_dir / "tensorboard")] if tensorboard else []
    )
    if state is None and writer:
        write_config(run_dir, config)

    def on_step(info):
        for h in hooks:
            h.on_step(info)

    def on_stage_end(*args):
        for h in hooks:
            h.on_stage_end(*args)

    try:
        with saver.deferred_interrupt(), _quiet(not writer):
            result = train(
                problem,
                net,
                stages,
                **options,
                checkpoints=saver,
                resume=state,
                on_step=on_step,
                on_stage_end=on_stage_end,
                distributed=distributed,
            )
    except (KeyboardInterrupt, TrainingDiverged, ProcessFailed):
        if writer and last_checkpoint(run_dir).exists():
            write_history(run_dir, checkpoint.load(last_checkpoint(run_dir))["history"]["records"])
        raise
    finally:
        for h in hooks:
            h.close()
    if writer:
        write_results(result, run_dir, config["seed"])
    return result


def _processes(device, distributed):
    """The processes of a run (`pinn.distributed.group`): of a data-parallel run under
    torchrun, or this one alone."""
    return processes(distributed, local_device(resolve_device(device)))


@contextlib.contextmanager
def _quiet(quiet: bool):
    """No warnings and no notices (pinn's log) inside, when `quiet`: a data-parallel run's
    processes other than rank 0, whose output would repeat rank 0's."""
    if not quiet:
        yield
        return
    log = logging.getLogger("pinn")
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


def report(run_dir, result) -> str:
    """A few lines on a run: finished or where it stopped, errors, unknowns, stage speeds."""
    config, run_dir = read_config(run_dir), Path(run_dir)
    state = checkpoint.load(last_checkpoint(run_dir))
    total = sum(stage["steps"] for stage in config["stages"])
    lines = [
        f"{run_dir}: "
        + (
            "finished"
            if state["stage"] == len(config["stages"])
            else f"stopped at step {state['step']} of {total}; `pinn resume {run_dir}` continues it"
        )
    ]
    if result.problem.exact is not None:
        errors = result.errors()
        lines.append(f"  relative L2 error {errors['l2']:.3e}, max error {errors['max']:.3e}")
        if len(errors["fields"]) > 1:
            lines.extend(
                f"    {name}: "
                + ("" if e["l2"] is None else f"relative L2 error {e['l2']:.3e}, ")
                + f"max error {e['max']:.3e}"
                for name, e in errors["fields"].items()
            )
    if result.unknowns:
        lines.append(
            "  unknowns: " + ", ".join(f"{k} = {v:.6g}" for k, v in result.unknowns.items())
        )
    for s in stage_speeds(result.history):
        speed = f", {s['steps_per_s']:.1f} steps/s" if s["steps_per_s"] else ""
        lines.append(f"  {s['stage']}: {s['steps']} steps{speed}")
    if (run_dir / METRICS).is_file():
        m = json.loads((run_dir / METRICS).read_text())
        memory = f", peak memory {m['peak_memory_mb']:.0f} MB" if "peak_memory_mb" in m else ""
        lines.append(
            f"  {m['train_time']:.1f} s on {m['device']} ({m['dtype']}){memory}, seed {m['seed']}"
        )
    return "\n".join(lines)


# -- reading a run back ---------------------------------------------------------------------------
def load(run_dir, problem=None, net=None, device="auto", allow_changed: bool = False) -> Result:
    """The trained (or, if interrupted, latest checkpointed) model of a run directory.

    Args:
        run_dir: a directory `pinn run` or `pinn.runs.start` wrote.
        problem: the run's problem; None rebuilds it from the module config.json names.
        net: an untrained network of the run's shape; None builds it from config.json.
        device: where to load it ("auto": CUDA when present).
        allow_changed: load even though the problem's source changed since the run started.

    The problem is rebuilt from config.json when the run names its module (runs of
    `pinn run`); otherwise pass `problem=`. The net is `pinn.make_net(problem, **config["net"])`
    unless `net=` gives an untrained one of the same shape (e.g. with an output transform).
    """
    config = read_config(run_dir)
    state = checkpoint.load(last_checkpoint(run_dir))
    problem = build_problem(config, allow_changed) if problem is None else problem
    net = make_net(problem, **decode(config["net"], "net")) if net is None else net
    unknowns = Unknowns(problem.unknowns)
    device, dtype = resolve_device(device), getattr(torch, state["dtype"])
    net.to(device=device, dtype=dtype)
    unknowns.to(device=device, dtype=dtype)
    net.load_state_dict(state["model"]["net"])
    unknowns.load_state_dict(state["model"]["unknowns"])
    return Result(
        problem,
        net,
        unknowns,
        device=device,
        dtype=dtype,
        n_eval=state["n_eval"],
        history=state["history"]["records"],
        info=state["info"],
    )
