"""Train problems/burgers.py with its recipe and print the relative L2 error (seed 0).

Viscous Burgers equation u_t + u u_x = nu u_xx on [-1, 1] x [0, 1], u(x, 0) = -sin(pi x).

    OMP_NUM_THREADS=1 python examples/burgers.py
"""

import pinn
from problems import burgers

problem = burgers.problem()
recipe = burgers.recipe()
result = pinn.train(problem, pinn.MLP(problem, **recipe.pop("net")), **recipe, verbose=True)
print(f"burgers: relative L2 error {result.error():.2e}, {result.info['train_time']:.0f} s")
