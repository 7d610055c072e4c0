"""Recover the diffusivity of the heat equation from noisy data (problems/heat1d_inverse.py).

Prints the recovered alpha, its relative error against the true 0.1, and the relative L2 error
of the field.

    OMP_NUM_THREADS=1 python examples/heat1d_inverse.py
"""

import pinn
from problems import heat1d, heat1d_inverse

problem = heat1d_inverse.problem()
recipe = heat1d_inverse.recipe()
result = pinn.train(problem, pinn.MLP(problem, **recipe.pop("net")), **recipe, verbose=True)
alpha = result.unknowns["alpha"]
print(
    f"heat1d_inverse: alpha = {alpha:.5f} (true {heat1d.ALPHA}, relative error "
    f"{abs(alpha - heat1d.ALPHA) / heat1d.ALPHA:.2e}), field relative L2 error "
    f"{result.error():.2e}, {result.info['train_time']:.0f} s"
)
