"""Train problems/helmholtz2d.py with its recipe and print the relative L2 error (seed 0).

2-d Helmholtz equation Δu + k^2 u = q on [-1, 1]^2, u = 0 on the boundary.

    OMP_NUM_THREADS=1 python examples/helmholtz2d.py
"""

import pinn
from problems import helmholtz2d

problem = helmholtz2d.problem()
recipe = helmholtz2d.recipe()
result = pinn.train(problem, pinn.MLP(problem, **recipe.pop("net")), **recipe, verbose=True)
print(f"helmholtz2d: relative L2 error {result.error():.2e}, {result.info['train_time']:.0f} s")
