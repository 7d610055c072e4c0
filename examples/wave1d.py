"""Train problems/wave1d.py with its recipe and print the relative L2 error (seed 0).

1-d wave equation u_tt = c^2 u_xx on [0, 1] x [0, 1] with c = 2 (PINNacle's Wave1d-C).

    OMP_NUM_THREADS=1 python examples/wave1d.py
"""

import pinn
from problems import wave1d

problem = wave1d.problem()
recipe = wave1d.recipe()
result = pinn.train(problem, pinn.MLP(problem, **recipe.pop("net")), **recipe, verbose=True)
print(f"wave1d: relative L2 error {result.error():.2e}, {result.info['train_time']:.0f} s")
