"""Train problems/oscillator.py with its recipe and print the relative L2 error (seed 0).

Damped harmonic oscillator u'' + 2 zeta omega u' + omega^2 u = 0, u(0) = 1, u'(0) = 0.

    OMP_NUM_THREADS=1 python examples/oscillator.py
"""

import pinn
from problems import oscillator

problem = oscillator.problem()
recipe = oscillator.recipe()
result = pinn.train(problem, pinn.MLP(problem, **recipe.pop("net")), **recipe, verbose=True)
print(f"oscillator: relative L2 error {result.error():.2e}, {result.info['train_time']:.0f} s")
