"""The `pinn` command line: list, run and check the problems of the library.

A user error (unknown problem, bad option) exits with status 2 and one readable line.
"""

from __future__ import annotations

import argparse
import sys

import torch


class UserError(Exception):
    """A mistake in the command line, reported as one line and exit status 2."""


def _problem_module(name: str):
    import problems

    try:
        return problems.get(name)
    except ValueError as e:
        raise UserError(str(e)) from None


def cmd_list(args) -> None:
    import problems

    for name in problems.names():
        doc = (problems.get(name).__doc__ or "").strip().splitlines()
        print(f"{name:16s} {doc[0] if doc else ''}")


def cmd_run(args) -> None:
    from . import MLP, train
    from .runs import default_run_dir, write_run

    module = _problem_module(args.name)
    problem, recipe = module.problem(), module.recipe()
    net_kwargs, stages = recipe.pop("net"), recipe.pop("stages")
    options = {**recipe, "seed": args.seed, "verbose": not args.quiet}
    if args.device:
        options["device"] = args.device
    if args.dtype:
        options["dtype"] = args.dtype
    result = train(problem, MLP(problem, **net_kwargs), stages=stages, **options)
    out = write_run(result, args.out or default_run_dir(args.name),
                    {"problem": args.name, "net": net_kwargs, "stages": stages, **options})
    error = f"relative L2 error {result.error():.3e}  " if problem.exact is not None else ""
    fitted = "".join(f"{k} = {v:.6g}  " for k, v in result.unknowns.items())
    print(f"{args.name}: {error}{fitted}({result.info['train_time']:.1f} s) -> {out}")


def cmd_check(args) -> None:
    from . import MLP
    from .adjoint import check_loss_gradient

    module = _problem_module(args.name)
    problem = module.problem()
    torch.manual_seed(args.seed)
    report = check_loss_gradient(problem, MLP(problem, **module.recipe()["net"]))
    print(report)
    if not report.passed:
        raise SystemExit(1)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pinn", description="Physics-informed neural networks.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the problems of the library").set_defaults(fn=cmd_list)
    run = sub.add_parser("run", help="train a problem with its recipe and write a run directory")
    run.add_argument("name", help="a problem name (see `pinn list`)")
    run.add_argument("--out", help="run directory (default runs/NAME-TIMESTAMP)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--device", help="auto (default), cpu, cuda, cuda:N")
    run.add_argument("--dtype", choices=["float32", "float64"], help="default: the recipe's")
    run.add_argument("--quiet", action="store_true", help="print only the final line")
    run.set_defaults(fn=cmd_run)
    check = sub.add_parser("check", help="Taylor-test the gradient of a problem's PINN loss")
    check.add_argument("name", help="a problem name (see `pinn list`)")
    check.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    check.set_defaults(fn=cmd_check)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        args.fn(args)
    except (UserError, ValueError, TypeError) as e:
        print(f"pinn {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"pinn {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
