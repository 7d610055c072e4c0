"""Lorenz-63 strong-constraint 4D-Var: analysis error against window length.

dt = 0.01, full-state observations every 25 steps, R = 2I, B = 2I; for each window length
(0.25 … 4 time units) and each seed: a true state on the attractor, a background
xb = truth + N(0, B), observations y_k = x_k + N(0, R); L-BFGS from xb with the adjoint
gradient. Prints the median RMSE of the analysed x0 and the median L-BFGS iterations, writes
them as a Markdown table and JSON, and a figure: errors grow like e^{0.906 t}, so over long
windows the cost has many minima and L-BFGS started at xb stops in a wrong one.

    OMP_NUM_THREADS=1 python examples/fourdvar_lorenz63.py --seeds 20 --out docs/assimilation
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

import torch

from pinn import assimilation as da

F64 = torch.float64
WINDOWS = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0)
LYAPUNOV = 0.906


def case(seed: int, window_steps: int, every: int = 25, var_b: float = 2.0, var_r: float = 2.0):
    """The truth, background and observations of one seed (the same truth for every window)."""
    l63 = da.Lorenz63(dt=0.01)
    g = torch.Generator().manual_seed(seed)
    x = torch.tensor([1.0, 1.0, 20.0], dtype=F64) + 5 * torch.randn(3, generator=g, dtype=F64)
    truth0 = da.trajectory(l63, x, 1000)[-1]  # 10 time units of spin-up: on the attractor
    xb = truth0 + math.sqrt(var_b) * torch.randn(3, generator=g, dtype=F64)
    truth = da.trajectory(l63, truth0, window_steps)
    noise = math.sqrt(var_r) * torch.randn(len(truth), 3, generator=g, dtype=F64)
    obs = {k: truth[k] + noise[k] for k in range(every, window_steps + 1, every)}
    return l63, truth, xb, obs


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def rmse(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).pow(2).mean().sqrt().item()


def run(seeds: int, windows=WINDOWS):
    rows = []
    for T in windows:
        K = round(T / 0.01)
        runs = []
        start = time.perf_counter()
        for s in range(seeds):
            l63, truth, xb, obs = case(s, K)
            var = da.FourDVar(l63, xb=xb, B=2.0, R=2.0, obs=obs)
            xa = var.minimize(xb)
            runs.append(
                dict(
                    seed=s,
                    rmse_b=rmse(xb, truth[0]),
                    rmse_a=rmse(xa, truth[0]),
                    rmse_end_b=rmse(da.trajectory(l63, xb, K)[-1], truth[-1]),
                    rmse_end_a=rmse(da.trajectory(l63, xa, K)[-1], truth[-1]),
                    iters=int(var.result.nit),
                    nfev=int(var.result.nfev),
                    cost_a=float(var.result.fun),
                    cost_truth=var.cost(truth[0]).item(),
                )
            )
        row = dict(
            window=T,
            steps=K,
            n_obs=len(obs),
            rmse_b=median(runs, "rmse_b"),
            rmse_a=median(runs, "rmse_a"),
            rmse_end_b=median(runs, "rmse_end_b"),
            rmse_end_a=median(runs, "rmse_end_a"),
            iters=median(runs, "iters"),
            nfev=median(runs, "nfev"),
            improved=sum(r["rmse_a"] < r["rmse_b"] for r in runs) / len(runs),
            below_truth_cost=sum(r["cost_a"] <= r["cost_truth"] for r in runs) / len(runs),
            growth=math.exp(LYAPUNOV * T),
            seconds=time.perf_counter() - start,
            runs=runs,
        )
        rows.append(row)
        print(
            f"T={T:4.2f}  obs={row['n_obs']:2d}  rmse_b={row['rmse_b']:.3f}  "
            f"rmse_a={row['rmse_a']:.3f}  end: {row['rmse_end_b']:.3f} -> "
            f"{row['rmse_end_a']:.3f}  iters={row['iters']:.0f}  "
            f"improved={row['improved']:.0%}  ({row['seconds']:.1f} s)",
            flush=True,
        )
    return rows


def table(rows) -> str:
    lines = [
        "| window T | obs | e^{0.906 T} | RMSE x0: xb | RMSE x0: xa | RMSE x_T: from xb "
        "| RMSE x_T: from xa | L-BFGS iters | J(xa) > J(truth) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['window']:g} | {r['n_obs']} | {r['growth']:.1f} "
            f"| {r['rmse_b']:.3f} | {r['rmse_a']:.3f} | {r['rmse_end_b']:.3f} "
            f"| {r['rmse_end_a']:.3f} | {r['iters']:.0f} | {1 - r['below_truth_cost']:.0%} |"
        )
    return "\n".join(lines)


def figure(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, cx, bx) = plt.subplots(1, 3, figsize=(15, 4.2))
    T = [r["window"] for r in rows]

    def band(axis, key, label, style):
        med = [r[key] for r in rows]
        quart = [statistics.quantiles([x[key] for x in r["runs"]], n=4) for r in rows]
        (line,) = axis.plot(T, med, style, label=f"{label} (median, quartiles shaded)")
        lo, hi = [q[0] for q in quart], [q[2] for q in quart]
        axis.fill_between(T, lo, hi, alpha=0.2, color=line.get_color())

    band(ax, "rmse_a", "analysis xa", "o-")
    band(ax, "rmse_b", "background xb", "s--")
    for r in rows:
        ax.annotate(
            f"{1 - r['below_truth_cost']:.0%}",
            (r["window"], r["rmse_a"]),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            fontsize=8,
        )
    ax.set_xlabel("window length T (time units)")
    ax.set_ylabel("RMSE of x0")
    ax.set_title("error of x0 (labels: runs with J(xa) > J(truth))", fontsize=10)
    ax.legend(fontsize=8)

    band(cx, "rmse_end_b", "free run from xb", "s--")
    band(cx, "rmse_end_a", "run from xa", "o-")
    cx.plot(T, [rows[0]["rmse_b"] * r["growth"] for r in rows], ":", label="RMSE(xb) × e^{0.906 T}")
    cx.set_yscale("log")
    cx.set_xlabel("window length T (time units)")
    cx.set_ylabel("RMSE at the end of the window")
    cx.set_title("error at t = T", fontsize=10)
    cx.legend(fontsize=8)

    # The cost along a line through the truth: smooth for short windows, rugged for long.
    s = torch.linspace(-4, 4, 401, dtype=F64)
    for T in (0.5, 1.0, 2.0, 4.0):
        l63, truth, xb, obs = case(0, round(T / 0.01))
        var = da.FourDVar(l63, xb=xb, B=2.0, R=2.0, obs=obs)
        e = torch.tensor([1.0, 1.0, 0.0], dtype=F64) / math.sqrt(2)
        with torch.no_grad():
            J = torch.stack([var.cost(truth[0] + si * e) for si in s])
        bx.plot(s, (J - J.min()) / (J.max() - J.min()), label=f"T = {T:g}")
    bx.set_xlabel("distance from the true x0 along (1, 1, 0)/√2")
    bx.set_ylabel("J, scaled to [0, 1]")
    bx.set_title("4D-Var cost along a line (seed 0)", fontsize=10)
    bx.legend(fontsize=8)
    fig.suptitle("Lorenz-63 strong-constraint 4D-Var, dt = 0.01, obs every 25 steps, B = R = 2I")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def fit_pinn(var, T, steps=2000, unknowns=None, seed=0):
    """Train the PINN of the same 4D-Var problem; returns (x0, result, seconds)."""
    import pinn

    pp = da.lorenz63_pinn(var, n_pde=max(128, round(256 * T)), unknowns=unknowns, pde_weight=100.0)
    net = pinn.MLP(pp.problem, hidden=[64] * 3, output_transform=pp.output_transform)
    start = time.perf_counter()
    result = pinn.train(
        pp.problem,
        net,
        stages=[pinn.Adam(steps=steps, lr=1e-3), pinn.LBFGS(steps=steps)],
        seed=seed,
        dtype="float64",
        device="cpu",
        log_every=500,
    )
    return pp.x0(result.net), result, time.perf_counter() - start


def run_pinn(seeds: int, windows):
    rows = []
    for T in windows:
        K = round(T / 0.01)
        runs = []
        for s in range(seeds):
            l63, truth, xb, obs = case(s, K)
            var = da.FourDVar(l63, xb=xb, B=2.0, R=2.0, obs=obs)
            xa = var.minimize(xb)
            xp, result, seconds = fit_pinn(var, T, seed=s)
            runs.append(
                dict(
                    seed=s,
                    rmse_b=rmse(xb, truth[0]),
                    rmse_a=rmse(xa, truth[0]),
                    rmse_p=rmse(xp, truth[0]),
                    rmse_end_a=rmse(da.trajectory(l63, xa, K)[-1], truth[-1]),
                    rmse_end_p=rmse(da.trajectory(l63, xp, K)[-1], truth[-1]),
                    cost_a=var.cost(xa).item(),
                    cost_p=var.cost(xp).item(),
                    pde_loss=result.history[-1].get("loss_lorenz", float("nan")),
                    seconds=seconds,
                )
            )
            r = runs[-1]
            print(
                f"  PINN T={T:g} seed={s}: rmse x0 4D-Var {r['rmse_a']:.3f} PINN "
                f"{r['rmse_p']:.3f}; J {r['cost_a']:.3f} vs {r['cost_p']:.3f} ({seconds:.0f} s)",
                flush=True,
            )
        row = dict(window=T, seeds=seeds, runs=runs)
        for key in (
            "rmse_b",
            "rmse_a",
            "rmse_p",
            "rmse_end_a",
            "rmse_end_p",
            "cost_a",
            "cost_p",
            "seconds",
        ):
            row[key] = median(runs, key)
        row["ratio"] = statistics.median(r["cost_p"] / r["cost_a"] for r in runs)
        rows.append(row)
    return rows


def pinn_table(rows) -> str:
    lines = [
        "| window T | seeds | RMSE x0: 4D-Var | RMSE x0: PINN | RMSE x_T: 4D-Var "
        "| RMSE x_T: PINN | J(xa) 4D-Var | J(x0) PINN | J ratio PINN / 4D-Var | s per PINN |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['window']:g} | {r['seeds']} | {r['rmse_a']:.3f} | {r['rmse_p']:.3f} "
            f"| {r['rmse_end_a']:.3f} | {r['rmse_end_p']:.3f} | {r['cost_a']:.3f} "
            f"| {r['cost_p']:.3f} | {r['ratio']:.2f} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def pinn_parameters(T=1.0, seed=0, guess=None):
    """x0 and (sigma, rho, beta) from the observations, starting from wrong guesses."""
    guess = guess or {"sigma": 8.0, "rho": 25.0, "beta": 2.0}
    l63, truth, xb, obs = case(seed, round(T / 0.01))
    var = da.FourDVar(l63, xb=xb, B=2.0, R=2.0, obs=obs)
    xp, result, seconds = fit_pinn(var, T, unknowns=guess, seed=seed)
    found = result.unknowns
    text = (
        f"PINN with unknown parameters (T = {T:g}, seed {seed}, {seconds:.0f} s): "
        + ", ".join(
            f"{k} {guess[k]:g} -> {found[k]:.3f} (true {getattr(l63, k):.3f})" for k in guess
        )
        + f"; RMSE x0 {rmse(xp, truth[0]):.3f} (background {rmse(xb, truth[0]):.3f})"
    )
    print(text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per window (20)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/fourdvar_lorenz63"),
        help="directory for table.md, results.json and fourdvar_lorenz63.png",
    )
    parser.add_argument("--windows", type=float, nargs="+", default=list(WINDOWS))
    parser.add_argument("--pinn", action="store_true", help="also the PINN comparison")
    parser.add_argument("--pinn-seeds", type=int, default=5, help="seeds per window (5)")
    parser.add_argument("--pinn-windows", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--skip-4dvar", action="store_true", help="only the PINN part")
    parser.add_argument("--plot-only", action="store_true", help="redraw from results.json")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.plot_only:
        figure(
            json.loads((args.out / "results.json").read_text()), args.out / "fourdvar_lorenz63.png"
        )
        return
    if not args.skip_4dvar:
        rows = run(args.seeds, args.windows)
        text = table(rows)
        print(text)
        (args.out / "table.md").write_text(text + "\n")
        (args.out / "results.json").write_text(json.dumps(rows, indent=1))
        if args.seeds >= 2:
            figure(rows, args.out / "fourdvar_lorenz63.png")
    if args.pinn:
        rows = run_pinn(args.pinn_seeds, args.pinn_windows)
        text = pinn_table(rows) + "\n\n" + pinn_parameters()
        print(text)
        (args.out / "pinn_table.md").write_text(text + "\n")
        (args.out / "pinn_results.json").write_text(json.dumps(rows, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
