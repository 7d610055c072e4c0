"""Train problems/poisson2d.py with its recipe and print the relative L2 error (seed 0).

2-d Poisson equation -Δu = 2 pi^2 sin(pi x) sin(pi y) on [0, 1]^2, u = 0 on the boundary.

    OMP_NUM_THREADS=1 python examples/poisson2d.py
"""

import pinn
from problems import poisson2d

problem = poisson2d.problem()
recipe = poisson2d.recipe()
result = pinn.train(problem, pinn.MLP(problem, **recipe.pop("net")), **recipe, verbose=True)
print(f"poisson2d: relative L2 error {result.error():.2e}, {result.info['train_time']:.0f} s")
