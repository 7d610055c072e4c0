"""Train problems/poisson1d.py with its recipe and print the relative L2 error (seed 0).

1-d Poisson equation -u'' = pi^2 sin(pi x) on [-1, 1], u(+-1) = 0; exact u = sin(pi x).

    OMP_NUM_THREADS=1 python examples/poisson1d.py
"""

import pinn
from problems import poisson1d

problem = poisson1d.problem()
recipe = poisson1d.recipe()
result = pinn.train(problem, pinn.MLP(problem, **recipe.pop("net")), **recipe, verbose=True)
print(f"poisson1d: relative L2 error {result.error():.2e}, {result.info['train_time']:.0f} s")
