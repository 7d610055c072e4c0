"""The Markdown report of a benchmark run (the JSON beside it holds every number)."""

from __future__ import annotations


def _f(value, digits=3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_f(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(run: dict) -> str:
    meta = run["meta"]
    out = [
        "# pinn benchmarks",
        "",
        f"`{meta['command']}` — {meta['date']}, torch {meta['torch']}, {meta['device']}, "
        f"{meta['threads']} thread(s), load average {meta['load_before']} → "
        f"{meta['load_after']}, {meta['seconds']:.0f} s in all "
        f"({', '.join(f'{k} {v:.0f} s' for k, v in meta['suite_seconds'].items())}).",
        "",
    ]
    out += [f"- {note}" for note in run["notes"]]
    if "throughput" in run:
        out += ["", "## Throughput (float32; medians of interleaved rounds)", ""]
        rows = [
            [
                r["case"],
                r["config"] + (" (default)" if r.get("default") else ""),
                r["adam_ms"],
                r["adam_steps_per_s"],
                r.get("adam_vs_handwritten"),
                r.get("adam_vs_deepxde"),
                r["lbfgs_evals_per_s"],
                r.get("lbfgs_vs_handwritten"),
                r.get("lbfgs_vs_deepxde"),
                r.get("lbfgs_iters_per_s"),
                r.get("lbfgs_iters_vs_deepxde"),
                r["first_step_s"],
            ]
            for r in run["throughput"]
        ]
        header = ["case", "config", "Adam ms/step", "Adam steps/s", "× hand", "× DeepXDE"]
        header += ["L-BFGS evals/s", "× hand", "× DeepXDE", "L-BFGS iters/s", "× DeepXDE"]
        header.append("first step s")
        out.append(_table(header, rows))
    if "accuracy" in run:
        out += ["", "## Time to accuracy (the problem's recipe)", ""]
        rows = [
            [
                r["problem"],
                r["engine"],
                r["target"],
                r["reached"],
                r["time_s"],
                r["steps"],
                r["best_error"],
                r["train_s"],
                r["ms_per_step"],
                r["stopped_by"],
            ]
            for r in run["accuracy"]
        ]
        header = ["problem", "engine", "target", "reached", "time s", "steps", "best error"]
        out.append(_table(header + ["trained s", "ms/step", "stopped by"], rows))
    if "memory" in run:
        out += ["", "## Memory (3 Adam steps + 3 L-BFGS iterations, a process each)", ""]
        rows = [
            [
                r["case"],
                r["config"],
                r["rss_before_mb"],
                r["peak_rss_mb"],
                r["peak_increase_mb"],
                r.get("cuda_peak_mb"),
            ]
            for r in run["memory"]
        ]
        header = ["case", "config", "RSS before MB", "peak RSS MB", "increase MB", "CUDA peak MB"]
        out.append(_table(header, rows))
    if "scaling" in run:
        out += ["", "## Scaling (ms per Adam step)", ""]
        for axis, sweep in run["scaling"].items():
            sizes = sorted({r[axis] for r in sweep["rows"]})
            ms = {(r[axis], r["engine"]): r["ms"] for r in sweep["rows"]}
            rows = [
                [s, ms[s, "reverse"], ms[s, "taylor"], ms[s, "reverse"] / ms[s, "taylor"]]
                for s in sizes
            ]
            out += [_table([axis, "reverse ms", "taylor ms", "taylor speed-up"], rows), ""]
            fit = ", ".join(f"{e} {k:.2f}" for e, k in sweep["exponent"].items())
            out += [f"Fitted exponent (time ∝ {axis}^k): {fit}.", ""]
    return "\n".join(out).rstrip() + "\n"
