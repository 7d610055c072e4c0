"""Hessian spectrum of a PINN loss after Adam and after Adam -> L-BFGS (poisson1d).

Trains a small network, then computes the extreme eigenvalues of the loss Hessian over the
parameters by Lanczos (Hessian-vector products by double backward) and, the network being
small, the whole spectrum from the dense Hessian as a cross-check. A negative smallest
eigenvalue well above round-off means the end point is a saddle, not a minimum.

    OMP_NUM_THREADS=1 python examples/hessian_spectrum.py --out docs/assimilation
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import pinn
from pinn import adjoint, hessian
from problems import poisson1d


def analyse(problem, result, label):
    J = adjoint.flat_loss(problem, result.net)
    start = time.perf_counter()
    s = hessian.spectrum(J, J.x0, k=3)
    lanczos_s = time.perf_counter() - start
    w = torch.linalg.eigvalsh(hessian.full_hessian(J, J.x0)).numpy()
    row = dict(
        label=label,
        params=J.x0.numel(),
        loss=J(J.x0).item(),
        error=result.error(),
        grad_norm=s.grad_norm,
        smallest=s.smallest,
        largest=s.largest,
        kind=s.kind,
        dense_min=float(w[0]),
        dense_max=float(w[-1]),
        negative=int((w < -1e-6 * w[-1]).sum()),
        lanczos_seconds=lanczos_s,
        spectrum=w.tolist(),
    )
    print(
        f"{label}: loss {row['loss']:.3e}, rel. L2 error {row['error']:.2e}, params "
        f"{row['params']}\n{s}\n  dense: [{w[0]:.4g}, {w[-1]:.4g}], "
        f"{row['negative']} eigenvalues < -1e-6·lmax"
    )
    return row


def table(rows) -> str:
    lines = [
        "| after | loss | rel. L2 error | abs grad | λmin (Lanczos) | λmax (Lanczos) "
        "| λmin / λmax | # λ < −1e-6·λmax | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['loss']:.2e} | {r['error']:.2e} | {r['grad_norm']:.1e} "
            f"| {r['smallest'][0]:.3e} | {r['largest'][-1]:.3e} "
            f"| {r['smallest'][0] / r['largest'][-1]:.1e} | {r['negative']} | {r['kind']} |"
        )
    return "\n".join(lines)


def figure(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for r in rows:
        w = np.asarray(r["spectrum"])
        ax.plot(np.arange(len(w)), w, ".", ms=3, label=f"{r['label']} ({r['kind']})")
    ax.set_yscale("symlog", linthresh=1e-6)
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel("eigenvalue index")
    ax.set_ylabel("eigenvalue of the loss Hessian")
    ax.set_title("poisson1d, MLP [16, 16] tanh, float64")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/hessian_spectrum"))
    parser.add_argument("--adam", type=int, default=2000, help="Adam steps (2000)")
    parser.add_argument("--lbfgs", type=int, default=1000, help="L-BFGS steps after (1000)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    problem = poisson1d.problem(n_pde=64)
    net = pinn.MLP(problem, hidden=[16, 16], activation="tanh")
    common = dict(seed=0, dtype="float64", device="cpu")
    adam = pinn.train(problem, net, stages=[pinn.Adam(steps=args.adam, lr=1e-3)], **common)
    rows = [analyse(problem, adam, f"Adam ({args.adam})")]
    both = pinn.train(
        problem, adam.net, stages=[pinn.LBFGS(steps=args.lbfgs)], initialize=False, **common
    )
    rows.append(analyse(problem, both, f"Adam ({args.adam}) -> L-BFGS ({args.lbfgs})"))
    text = table(rows)
    print(text)
    (args.out / "hessian_table.md").write_text(text + "\n")
    (args.out / "hessian.json").write_text(json.dumps(rows))
    figure(rows, args.out / "hessian_spectrum.png")
    print(f"wrote {args.out}/hessian_table.md, hessian.json, hessian_spectrum.png")


if __name__ == "__main__":
    main()
