"""Train problems/lorenz.py with its recipe and print the relative L2 error (seed 0).

Lorenz-63 x' = sigma (y - x), y' = x (rho - z) - y, z' = x y - beta z on t in [0, 1].

    OMP_NUM_THREADS=1 python examples/lorenz.py
"""

import pinn
from problems import lorenz

problem = lorenz.problem()
recipe = lorenz.recipe()
result = pinn.train(problem, pinn.MLP(problem, **recipe.pop("net")), **recipe, verbose=True)
print(f"lorenz: relative L2 error {result.error():.2e}, {result.info['train_time']:.0f} s")
