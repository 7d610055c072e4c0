"""The `pinn` command line: list, run, resume, report and check the problems of the library.

A user error (unknown problem, bad option, missing run directory, corrupted checkpoint: any
`pinn.errors.InputError`) exits with status 2 and one readable line that names what is wrong
and what is valid; a run that diverges (`pinn.TrainingDiverged`) or that loses a process of a
data-parallel run (`pinn.distributed.ProcessFailed`) exits with status 1 and one line;
anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import sys
from pathlib import Path

import torch

from .distributed import ProcessFailed, local_processes, rank
from .errors import InputError
from .training import TrainingDiverged

EPILOG = "See docs/cli.md for the run directory, checkpoints and the --set syntax."


class UserError(InputError):
    """A mistake in the command line, reported as one line and exit status 2."""

    def __init__(self, message: str, prog: str | None = None):
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (no usage block) and exit 2."""

    def error(self, message):
        raise UserError(f"{message} (see `{self.prog} --help`)", self.prog)


def _problem_module(name: str):
    """The module of a problem: a library name (`pinn list`), a dotted module name or a .py
    file, each with `problem()` and `recipe()`."""
    import problems

    from .sources import load

    if name in problems.names():
        return problems.get(name)
    if name.endswith(".py") or "." in name:
        return load(name)
    raise UserError(
        f"unknown problem {name!r}; valid: {', '.join(problems.names())}, a module name "
        "(my_package.my_problem) or a file (path/to/my_problem.py)"
    )


def _spec(name: str, module) -> str:
    """How a run records its module: the dotted name, or the file as given."""
    return name if name.endswith(".py") else module.__name__


def _read_json(path: str) -> dict:
    from .runs import decode

    try:
        config = json.loads(Path(path).read_text())
    except OSError as e:
        raise UserError(f"cannot read --config {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise UserError(f"--config {path} is not valid JSON: {e}") from None
    if not isinstance(config, dict):
        raise UserError(f"--config {path} must hold a JSON object (a config), not {config!r}")
    config.pop("run", None)  # a run's config.json works as --config too
    return decode(config)


def run_config(module, args) -> dict:
    """The resolved config of `pinn run`: the problem's recipe, then --config, --set and the
    --seed/--device/--dtype flags, in that order."""
    from .config import apply_overrides, recipe_to_config
    from .runs import resolve

    config = resolve(recipe_to_config(_recipe(module, args.recipe)), module.problem)
    for key, value in (_read_json(args.config) if args.config else {}).items():
        both = isinstance(value, dict) and isinstance(config.get(key), dict)
        config[key] = {**config[key], **value} if both else value
    flags = [
        f"{k}={json.dumps(getattr(args, k))}"
        for k in ("seed", "device", "dtype")
        if getattr(args, k) is not None
    ]
    return apply_overrides(config, [*args.set, *flags])


def _recipe(module, name: str | None) -> dict:
    """The module's recipe `name` (None: its default, `recipe()`)."""
    if name is None:
        return module.recipe()
    if "name" not in inspect.signature(module.recipe).parameters:
        raise UserError(
            f"--recipe {name}: {module.__name__}.recipe() offers no named recipes "
            "(recipe(name='default') would)"
        )
    return module.recipe(name)


def cmd_list(args) -> None:
    import problems

    for name in problems.names():
        doc = (problems.get(name).__doc__ or "").strip().splitlines()
        print(f"{name:16s} {doc[0] if doc else ''}")


def _threads(args, problem) -> None:
    """Set torch's threads: --threads N, or for "auto" `resources.threads_for` the problem."""
    from .resources import threads_for

    if args.threads == "auto":
        points = sum(s.size for s in getattr(problem, "sets", ())) or len(problem.x)
        torch.set_num_threads(threads_for(points, local_processes()))
    else:
        torch.set_num_threads(args.threads)


def _thread_count(text: str):
    if text == "auto":
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or auto, got {text!r}")
    return int(text)


def cmd_run(args) -> None:
    from .config import config_to_recipe
    from .runs import default_run_dir, start

    module = _problem_module(args.name)
    config = run_config(module, args)
    label = Path(args.name).stem if args.name.endswith(".py") else args.name.split(".")[-1]
    out = args.out = Path(args.out) if args.out else default_run_dir(label)
    problem = module.problem(**config["problem"])
    _threads(args, problem)
    result = start(
        problem,
        config_to_recipe(config),
        out,
        module=_spec(args.name, module),
        every=args.checkpoint_every,
        quiet=args.quiet,
        tensorboard=args.tensorboard,
        distributed=_distributed(args),
    )
    _final_line(args.name, result, out)


def cmd_resume(args) -> None:
    from .runs import build_problem, read_config, resume

    config = read_config(args.run_dir)
    problem = build_problem(config, args.allow_changed)
    recorded = config.get("run", {}).get("threads")
    if args.threads == "auto" and recorded:  # the run's own count: its arithmetic stays the same
        torch.set_num_threads(recorded)
    else:
        _threads(args, problem)
    result = resume(
        args.run_dir,
        problem,
        quiet=args.quiet,
        tensorboard=args.tensorboard,
        allow_changed=args.allow_changed,
        distributed=_distributed(args),
    )
    _final_line(Path(args.run_dir).name, result, args.run_dir)


def _distributed(args):
    """Under torchrun: data-parallel, with --timeout if given (checked, and unused alone)."""
    from .distributed import Distributed, launched

    if args.timeout is None:
        return "auto"
    given = Distributed(timeout=args.timeout)
    return given if launched() else "auto"


def _final_line(name, result, out) -> None:
    if rank():  # a data-parallel run's rank 0 speaks for it
        return
    error = f"relative L2 error {result.error():.3e}  " if result.problem.exact is not None else ""
    fitted = "".join(f"{k} = {v:.6g}  " for k, v in result.unknowns.items())
    print(f"{name}: {error}{fitted}({result.info['train_time']:.1f} s) -> {out}")


def cmd_report(args) -> None:
    from .plots import save_plots
    from .runs import load, report, write_history

    result = load(args.run_dir, allow_changed=args.allow_changed)
    write_history(args.run_dir, result.history)
    paths = save_plots(result, args.run_dir)
    print(report(args.run_dir, result))
    print(f"plots: {', '.join(str(p) for p in paths)}")


def cmd_check(args) -> None:
    from . import make_net
    from .adjoint import check_loss_gradient

    module = _problem_module(args.name)
    problem = module.problem()
    torch.manual_seed(args.seed)
    result = check_loss_gradient(problem, make_net(problem, **module.recipe()["net"]))
    print(result)
    if not result.passed:
        raise SystemExit(1)


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="pinn", description="Physics-informed neural networks.", epilog=EPILOG)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    sub.add_parser(
        "list",
        help="list the problems of the library",
        description="List the problems of the library, one line each.",
    ).set_defaults(fn=cmd_list)

    run = sub.add_parser(
        "run",
        help="train a problem and write a run directory",
        epilog=EPILOG,
        description="Train a problem (of the library, or a module or file of your own) with its recipe (changed by --config and "
        "--set) and write a run directory: config, history, metrics, checkpoints and plots.",
    )
    run.add_argument(
        "name",
        help="a problem of the library (see `pinn list`), a module (my_package.my_problem) "
        "or a file (path/to/my_problem.py) with problem() and recipe()",
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one setting, e.g. stages.0.lr=1e-3, net.hidden=[32,32], "
        "problem.n_pde=500 (repeatable; values are JSON)",
    )
    run.add_argument(
        "--config",
        metavar="FILE",
        help="a JSON config (e.g. a run's config.json) applied over the recipe",
    )
    run.add_argument(
        "--recipe",
        metavar="NAME",
        help="one of the problem's named recipes, e.g. precise (float64, second-order "
        "stages); default: its default recipe",
    )
    run.add_argument("--device", help="auto (default: CUDA when present), cpu, cuda, cuda:N")
    run.add_argument("--dtype", choices=["float32", "float64"], help="default: the recipe's")
    run.add_argument("--seed", type=int, help="random seed (default: the recipe's)")
    run.add_argument("--out", metavar="DIR", help="run directory (default runs/NAME-TIMESTAMP)")
    run.add_argument(
        "--checkpoint-every",
        type=int,
        default=1000,
        metavar="N",
        help="steps between checkpoints (default 1000; also at each stage end)",
    )
    run.set_defaults(fn=cmd_run)

    resume = sub.add_parser(
        "resume",
        help="continue an interrupted run from its last checkpoint",
        description="Continue an interrupted run exactly where its last checkpoint left it.",
    )
    resume.add_argument("run_dir", metavar="RUN_DIR", help="a directory that `pinn run` wrote")
    resume.set_defaults(fn=cmd_resume)
    for command in (run, resume):
        command.add_argument("--quiet", action="store_true", help="print only the final line")
        command.add_argument(
            "--threads",
            type=_thread_count,
            default="auto",
            metavar="N",
            help="torch threads: N, or auto (default: one for problems under 5,000 points per "
            "step, else the cores other processes leave idle; resume: the run's own count)",
        )
        command.add_argument(
            "--timeout",
            type=float,
            metavar="SECONDS",
            help="under torchrun: how long the processes wait for one another before a "
            "process that hangs ends the run (default 300)",
        )
        command.add_argument(
            "--tensorboard",
            action="store_true",
            help="also log to RUN_DIR/tensorboard (needs pinn[tensorboard])",
        )

    report = sub.add_parser(
        "report",
        help="print a run's summary and draw its plots again",
        description="Print the summary of a finished or interrupted run and write its "
        "history.csv and plots again.",
    )
    report.add_argument("run_dir", metavar="RUN_DIR", help="a directory that `pinn run` wrote")
    report.set_defaults(fn=cmd_report)
    for command in (resume, report):
        command.add_argument(
            "--allow-changed",
            action="store_true",
            help="go on although the problem's source file changed since the run started",
        )

    check = sub.add_parser(
        "check",
        help="Taylor-test the gradient of a problem's PINN loss",
        description="Taylor test (float64) of the gradient of a problem's PINN loss with "
        "respect to the network parameters; exit 1 if it fails.",
    )
    check.add_argument("name", help="a problem name (see `pinn list`)")
    check.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    check.set_defaults(fn=cmd_check)
    return p


def _notices(show: bool) -> None:
    """Show the library's notices (a compile about to take a while) on stderr, or not."""
    logger = logging.getLogger("pinn")
    for handler in [h for h in logger.handlers if getattr(h, "pinn_cli", False)]:
        logger.removeHandler(handler)
    if show:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("pinn: %(message)s"))
        handler.pinn_cli = True
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def main(argv=None) -> int:
    command, args = "pinn", None
    try:
        args = parser().parse_args(argv)
        command = f"pinn {args.command}"
        _notices(not getattr(args, "quiet", True))
        args.fn(args)
    except InputError as e:
        command = getattr(e, "prog", None) or command
        message = " ".join(str(e).split())
        print(f"{command}: error: {message}", file=sys.stderr)
        return 2
    except (TrainingDiverged, ProcessFailed) as e:
        print(f"{command}: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        where = getattr(args, "run_dir", None) or getattr(args, "out", None)
        hint = f"; continue with `pinn resume {where}`" if where else ""
        print(f"{command}: interrupted {e}".rstrip() + hint, file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
