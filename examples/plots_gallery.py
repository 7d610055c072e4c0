"""The figures of docs/plots.md: heat1d, Poisson on a disk and heat1d_inverse, each trained
briefly, with their solution, residual, observations and unknowns plots. Run: python examples/plots_gallery.py"""

from pathlib import Path

import pinn
from problems import heat1d, heat1d_inverse

OUT = Path(__file__).resolve().parents[1] / "docs" / "plots"


def disk():
    """-Δu = 1 on the unit disk, u = 0 on its circle: exact (1 - r²) / 4."""
    domain = pinn.Disk()
    return pinn.Problem(
        domain,
        pde=lambda f: f.u_xx + f.u_yy + 1.0,
        conditions=[pinn.dirichlet(0.0, n=256)],
        n_pde=1000,
        exact=lambda x: (1 - x.square().sum(1, keepdim=True)) / 4,
    )


def train(problem, adam, lbfgs):
    net = pinn.MLP(problem, hidden=[32] * 3)
    stages = [pinn.Adam(steps=adam, lr=1e-3), pinn.LBFGS(steps=lbfgs)]
    return pinn.train(problem, net, stages=stages, seed=0)


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, result in [
        ("heat1d", train(heat1d.problem(), 1000, 300)),
        ("disk", train(disk(), 1000, 300)),
    ]:
        result.plot("solution", OUT / f"{name}_solution.png")
        result.plot("residual", OUT / f"{name}_residual.png")
        print(f"{name}: relative L2 error {result.error():.2e}")
    inverse = train(heat1d_inverse.problem(), 1000, 300)
    inverse.plot("solution", OUT / "heat1d_inverse_solution.png")
    inverse.plot("observations", OUT / "heat1d_inverse_observations.png")
    inverse.plot("unknowns", OUT / "heat1d_inverse_unknowns.png", truth={"alpha": heat1d.ALPHA})
    print(f"heat1d_inverse: alpha {inverse.unknowns['alpha']:.4f} (true {heat1d.ALPHA})")
