"""`python -m benchmarks [--quick] [--only SUITES] [--out DIR]`: run the suites, write JSON + Markdown.

See docs/benchmarks.md for what each suite measures and the full-run command.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import torch

from pinn.training.checks import resolve_device

from . import report, suites
from .cases import CONFIGS

SUITES = ("throughput", "accuracy", "memory", "scaling")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, < 1 minute")
    parser.add_argument("--only", default=",".join(SUITES), help="comma-separated suites")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated configs")
    parser.add_argument("--out", default="runs/benchmarks", help="directory for the results")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--budget", type=float, default=None, help="seconds per accuracy run")
    parser.add_argument(
        "--probe-memory", nargs=2, metavar=("CASE", "CONFIG"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.probe_memory:  # internal: one memory measurement in this fresh process
        result = suites.probe_memory(*args.probe_memory, args.quick, device)
        print("skip" if result is None else json.dumps(result))
        return 0
    only = [s for s in args.only.split(",") if s]
    configs = [c for c in args.configs.split(",") if c]
    for name, given, valid in (("suite", only, SUITES), ("config", configs, CONFIGS)):
        bad = [g for g in given if g not in valid]
        if bad:
            parser.error(f"unknown {name}(s) {bad}; valid: {', '.join(valid)}")

    start = time.perf_counter()
    run = {
        "meta": {
            "command": "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv),
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "torch": torch.__version__,
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "threads": torch.get_num_threads(),
            "quick": args.quick,
            "load_before": _load(),
        },
        "notes": [],
    }
    run["meta"]["suite_seconds"] = {}
    for suite in only:
        print(f"[benchmarks] {suite} ...", flush=True)
        began = time.perf_counter()
        if suite == "throughput":
            run[suite] = suites.throughput(args.quick, device, configs, run["notes"])
        elif suite == "accuracy":
            run[suite] = suites.accuracy(
                args.quick, device, configs, run["notes"], budget=args.budget
            )
        elif suite == "memory":
            run[suite] = suites.memory(args.quick, device, configs, run["notes"])
        else:
            run[suite] = suites.scaling(args.quick, device, run["notes"])
        run["meta"]["suite_seconds"][suite] = round(time.perf_counter() - began, 1)
    run["meta"].update(load_after=_load(), seconds=time.perf_counter() - start)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "quick" if args.quick else "full"
    (out / f"{stem}.json").write_text(json.dumps(run, indent=1))
    (out / f"{stem}.md").write_text(report.markdown(run))
    print(report.markdown(run))
    print(f"[benchmarks] wrote {out / stem}.json and .md", flush=True)
    return 0


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
