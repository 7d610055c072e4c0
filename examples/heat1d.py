"""Train problems/heat1d.py with its recipe and print the relative L2 error (seed 0).

1-d heat equation u_t = alpha u_xx on [0, 1] x [0, 1] with alpha = 0.1.

    OMP_NUM_THREADS=1 python examples/heat1d.py
"""

import pinn
from problems import heat1d

problem = heat1d.problem()
recipe = heat1d.recipe()
result = pinn.train(problem, pinn.MLP(problem, **recipe.pop("net")), **recipe, verbose=True)
print(f"heat1d: relative L2 error {result.error():.2e}, {result.info['train_time']:.0f} s")
