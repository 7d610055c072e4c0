"""Run under torchrun by test_distributed.py: train the cases named on the command line and
save, per process, each case's history losses and final parameters (`cases` holds them)."""

import os
import sys
from pathlib import Path

import torch

import pinn

sys.path.insert(0, str(Path(__file__).parent))
import analytic  # noqa: E402


def cases():
    """name -> (problem, train options): float64 runs that cover Adam with penalties,
    mini-batches with resampling and a periodic set, L-BFGS, an inverse problem, BFGS,
    Levenberg-Marquardt, and the adaptive strategies (weightings of terms and of points,
    residual-driven sampling, in full and mini-batches)."""
    lbfgs = pinn.LBFGS(steps=15)
    return {
        "poisson": (
            analytic.poisson1d(n_pde=41),
            {"stages": [pinn.Adam(steps=30, lr=1e-2), lbfgs], "l2": 1e-4, "l1": 1e-5},
        ),
        "advection": (
            analytic.advection(n_pde=45),
            {
                "stages": [pinn.Adam(steps=30, lr=1e-2), lbfgs],
                "batch_size": 16,
                "sampling": pinn.Resample(every=10),
            },
        ),
        "inverse": (analytic.inverse(n_pde=23), {"stages": [pinn.Adam(steps=20, lr=1e-2), lbfgs]}),
        "bfgs": (
            analytic.heat_neumann(n_pde=37),
            {"stages": [pinn.Adam(steps=20, lr=1e-2), pinn.BFGS(steps=15)], "l2": 1e-5},
        ),
        "lm": (
            analytic.inverse(n_pde=23),
            {"stages": [pinn.Adam(steps=20, lr=1e-2), pinn.LevenbergMarquardt(steps=10)]},
        ),
        "weighted": (
            analytic.advection(n_pde=45),
            {
                "stages": [pinn.Adam(steps=30, lr=1e-2), lbfgs],
                "weighting": [pinn.GradNorm(every=5), pinn.RBA(), pinn.Causal(chunks=4)],
                "sampling": pinn.RAD(every=10, candidates=300),
            },
        ),
        "refined": (
            analytic.advection(n_pde=45),
            {
                "stages": [pinn.Adam(steps=30, lr=1e-2)],
                "batch_size": 16,
                "weighting": [pinn.NTKWeights(every=5, points=8), pinn.SelfAdaptive()],
                "sampling": pinn.RAR(every=10, add=7, candidates=200),
            },
        ),
    }


def run(name, distributed):
    problem, options = cases()[name]
    net = pinn.MLP(problem, hidden=[12, 12])
    result = pinn.train(
        problem,
        net,
        seed=1,
        dtype="float64",
        engine="taylor",
        log_every=5,
        distributed=distributed,
        **options,
    )
    losses = torch.tensor([r["loss"] for r in result.history], dtype=torch.float64)
    params = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    unknowns = torch.tensor(list(result.unknowns.values()), dtype=torch.float64)
    return {"losses": losses, "params": torch.cat([params, unknowns]), "info": result.info}


if __name__ == "__main__":
    out, names = Path(sys.argv[1]), sys.argv[2:]
    rank = int(os.environ["RANK"])
    torch.save({n: run(n, "auto") for n in names}, out / f"rank{rank}.pt")
