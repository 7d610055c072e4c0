"""Every derivative engine against nested reverse mode (the reference), in float64.

Random MLPs with each activation, 1 to 3 inputs and 1 to 3 fields, every derivative up to third
order (mixed included); the losses and parameter gradients of toy problems and of every
problem in problems/ with its recipe's network; a short training run. `compiled` runs under
the fast "aot_eager" backend in the sweep (it checks what the engine hands to torch.compile)
and under the default inductor backend once.
"""

import contextlib
import importlib
import itertools
import math
import warnings
from pathlib import Path

import analytic
import pytest
import torch

import pinn
from pinn import engines, jets, mlp_pass
from pinn.fields import Fields

ACTIVATIONS = ["tanh", "sin", "sigmoid", "silu", "gelu", "relu", "leaky_relu"]
SHAPES = [(1, 1), (2, 3), (3, 2)]  # (inputs, fields)


@pytest.fixture(autouse=True)
def _double():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@contextlib.contextmanager
def no_fallback():
    """Fails if an engine warned that it fell back (to nested reverse mode or eager taylor)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    assert not [str(w.message) for w in caught if " engine: " in str(w.message)]


def make_engine(name, backend="aot_eager"):
    if name == "compiled":
        torch.compiler.reset()  # each test compiles afresh (dynamo caches per code object)
        return engines.Compiled(backend=backend)
    return engines.resolve(name)


def box(d):
    return pinn.Box([-1.0, 0.0, 0.5][:d], [2.0, 1.0, 3.0][:d], names=("x", "y", "z")[:d])


def random_net(d, m, activation, seed=0, **options):
    problem = pinn.Problem(box(d), fields=("u", "v", "w")[:m], pde=lambda f: f.u, n_pde=8)
    torch.manual_seed(seed)
    net = pinn.MLP(problem, hidden=[7, 5, 6], activation=activation, **options).double()
    for layer in net.linears:  # nonzero biases, so no derivative vanishes by symmetry
        torch.nn.init.normal_(layer.bias, std=0.5)
    return net


def all_keys(d, m, order=3):
    return {
        (i, tuple(sorted(c)))
        for i in range(m)
        for k in range(order + 1)
        for c in itertools.product(range(d), repeat=k)
    }


def reference(net, x, keys):
    f = Fields(x, net(x), range(x.shape[1]), range(len(net.linears[-1].bias)))
    return {key: f._derivative(key) for key in sorted(keys, key=lambda k: len(k[1]))}


def assert_matches(known, want, tol=1e-6):
    for key, value in want.items():
        scale = max(1.0, float(value.detach().abs().max()))
        err = float((known[key] - value).detach().abs().max())
        assert err <= tol * scale, f"{key}: max error {err:.2e} (scale {scale:.1e})"


def points(d, n=11, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(n, d, generator=gen) * 2 - 0.5).requires_grad_(True)


# -- random MLPs ------------------------------------------------------------------------------
def sweep(*axes, fast):
    """Every combination of `axes` with "taylor", and with "compiled" (slow but for `fast`)."""
    for case in itertools.product(*axes):
        name = "-".join(str(a).replace(" ", "") for a in case)
        yield pytest.param("taylor", *case, id=f"taylor-{name}")
        slow = () if case in fast else (pytest.mark.slow,)
        yield pytest.param("compiled", *case, marks=slow, id=f"compiled-{name}")


@pytest.mark.parametrize(
    "engine,activation,shape", sweep(ACTIVATIONS, SHAPES, fast=[("tanh", (2, 3))])
)
def test_every_derivative_to_third_order_matches_reverse(engine, activation, shape):
    d, m = shape
    net, x = random_net(d, m, activation), points(d)
    keys = all_keys(d, m)
    u, known = make_engine(engine)(net, x, keys)
    assert_matches(known, reference(net, x, keys))
    torch.testing.assert_close(u, net(x))


@pytest.mark.parametrize("engine,activation", sweep(["tanh", "gelu"], fast=[("tanh",)]))
def test_output_transform_and_scaling_match_reverse(engine, activation):
    def hard(x, u):  # vanishes at x = -1, mixes the inputs: a nontrivial g(x, u)
        return (x[:, :1] + 1) * u * torch.exp(-x[:, 1:2]) + torch.sin(x[:, :1] * x[:, 1:2])

    net = random_net(2, 2, activation, output_transform=hard, output_scaling=(0.5, [2.0, 3.0]))
    x, keys = points(2), all_keys(2, 2)
    u, known = make_engine(engine)(net, x, keys)
    assert_matches(known, reference(net, x, keys))
    torch.testing.assert_close(u, net(x))


@pytest.mark.parametrize("engine", ["taylor", "compiled"])
@pytest.mark.parametrize("transform", [None, lambda x, u: x * u], ids=["plain", "transform"])
def test_a_derivative_nobody_requested_is_exact_or_an_error(engine, transform):
    """Fields takes u_xxx from the engine's u_x by reverse mode: exact where the pass tracks x
    (eager, no transform), a clear error elsewhere, never a silently truncated value."""
    net, x = random_net(1, 1, "tanh", output_transform=transform), points(1)
    u, known = make_engine(engine)(net, x, {(0, (0,))})
    f = Fields(x, u, ("x",), ("u",), known)
    if engine == "taylor" and transform is None:
        want = reference(net, x, {(0, (0, 0, 0))})
        torch.testing.assert_close(f.u_xxx, want[0, (0, 0, 0)], atol=1e-10, rtol=1e-10)
    else:
        with pytest.raises(RuntimeError, match="probe did not see"):
            f.d("u", "x", "x", "x")
    torch.testing.assert_close(u, net(x))  # and the values are right either way
    (u * known[0, (0,)]).sum().backward()  # as is a first-order backward (training)


def test_order_four_and_a_sparse_key_set():
    """Only u_xxxx and v_t asked: the closure (x, xx, xxx) comes along, nothing else."""
    net, x = random_net(2, 2, "tanh"), points(2)
    keys = {(0, (0, 0, 0, 0)), (1, (1,))}
    _, known = engines.taylor(net, x, keys)
    assert engines.channels(keys) == ((), (0,), (1,), (0, 0), (0, 0, 0), (0, 0, 0, 0))
    assert_matches(known, reference(net, x, keys))


@pytest.mark.parametrize(
    "activation", ["tanh", "sigmoid", "sin", "silu", "gelu", *pinn.jets.FUNCTIONS]
)
def test_activation_derivatives_to_order_five(activation):
    """The named activations of pinn.MLP and the torch functions that pinn.Jet.map takes."""
    z = torch.linspace(-3, 3, 41).requires_grad_(True)
    act = pinn.nets.activation(activation) if isinstance(activation, str) else activation
    got = jets._derivatives(act)(z, 5)
    value = act(z)
    for k in range(6):
        torch.testing.assert_close(got[k], value, atol=1e-12, rtol=1e-10, msg=f"order {k}")
        (value,) = torch.autograd.grad(value.sum(), z, create_graph=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fast_tanh_is_within_two_ulp_of_tanh_and_differentiable_twice(dtype):
    tiny = torch.logspace(-30, 0, 3001, dtype=dtype)
    z = torch.cat([torch.linspace(-40, 40, 80_001, dtype=dtype), tiny, -tiny])
    want = torch.tanh(z.double())
    rel = (jets._fast_tanh(z).double() - want).abs() / want.abs()
    assert float(rel.max()) <= 2 * torch.finfo(dtype).eps
    edges = torch.tensor([-math.inf, math.inf, 0.0, -0.0, 1e4, math.nan], dtype=dtype)
    torch.testing.assert_close(jets._fast_tanh(edges), torch.tanh(edges), equal_nan=True)
    z = torch.randn(12).requires_grad_(True)
    assert torch.autograd.gradgradcheck(jets._fast_tanh, (z,))


@pytest.mark.parametrize("width", [3, 20])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 45])
def test_split_linear_gradients_for_any_number_of_points(n, width):
    """The weight gradient as two half products, plus the odd point's outer product; the bias
    gradient as rows of a multiple of 16 values, plus the points left over."""
    c, w, b = torch.randn(n, 5), torch.randn(width, 5), torch.randn(width)
    for args in ((c, w, b), (c, w, None)):
        args = [a if a is None else a.clone().requires_grad_(True) for a in args]
        z = mlp_pass._SplitLinear.apply(*args)
        torch.testing.assert_close(z, torch.nn.functional.linear(*args), rtol=0, atol=1e-14)
        assert torch.autograd.gradcheck(mlp_pass._SplitLinear.apply, args)


def test_dropout_in_training_draws_the_same_mask_as_the_forward():
    net, x = random_net(2, 1, "tanh", dropout=0.3), points(2, n=40)
    keys = all_keys(2, 1, order=2)
    torch.manual_seed(5)
    _, known = engines.taylor(net, x, keys)
    torch.manual_seed(5)
    assert_matches(known, reference(net, x, keys))


def test_batch_norm_in_evaluation_matches_and_in_training_falls_back():
    net, x = random_net(2, 1, "tanh", batch_norm=True), points(2, n=40)
    keys = all_keys(2, 1, order=2)
    net.train()
    net(torch.randn(64, 2))  # move the running statistics off their initial values
    with pytest.warns(UserWarning, match="batch norm in training mode"):
        u, known = engines.taylor(net, x, keys)
    assert known == {}
    net.eval()
    _, known = engines.taylor(net, x, keys)
    assert_matches(known, reference(net, x, keys))


def test_unsupported_networks_fall_back_with_a_warning():
    plain = random_net(1, 1, lambda z: z * torch.tanh(z))  # a callable: no known derivatives
    x = points(1)
    with pytest.warns(UserWarning, match="no known derivatives"):
        u, known = engines.taylor(plain, x, {(0, (0, 0))})
    assert known == {} and torch.equal(u, plain(x))
    seq = torch.nn.Sequential(torch.nn.Linear(1, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    assert engines.unsupported(seq).startswith("Sequential has no Taylor pass")
    assert engines.unsupported(random_net(1, 1, torch.nn.Softplus())) is not None


def test_compiled_runs_eager_when_compiling_fails():
    def broken(graph, inputs):
        raise RuntimeError("no compiler here")

    torch.compiler.reset()
    net, x, keys = random_net(2, 1, "tanh"), points(2), all_keys(2, 1, order=2)
    engine = engines.Compiled(backend=broken)
    with pytest.warns(UserWarning, match="torch.compile failed.*no compiler here"):
        _, known = engine(net, x, keys)
    assert_matches(known, reference(net, x, keys))


@pytest.mark.parametrize("engine", ["taylor", "compiled"])
def test_evaluate_takes_every_point_set_in_one_pass(engine, monkeypatch):
    """Sets that read derivatives (here the first and the last) go first, value-only sets after:
    each part gets what a call of its own gives, from a single pass."""
    net = random_net(2, 1, "tanh")
    parts = [
        (points(2, n=9, seed=1), all_keys(2, 1, order=2)),
        (points(2, n=5, seed=2), {(0, ())}),
        (points(2, n=4, seed=3), {(0, ())}),
        (points(2, n=6, seed=4), {(0, (1,))}),
    ]
    run, plan, passes = make_engine(engine), engines._plan, []

    def counted(chans):  # every pass plans its channels once
        passes.append(chans)
        return plan(chans)

    monkeypatch.setattr(engines, "_plan", counted)
    got = engines.evaluate(run, net, parts)
    assert len(passes) == 1
    for (x, keys), (u, known) in zip(parts, got):
        torch.testing.assert_close(u, net(x))
        assert_matches(known, reference(net, x, keys) if any(i for _, i in keys) else {})


@pytest.mark.parametrize("engine", ["taylor", "compiled"])
def test_evaluate_keeps_unrequested_derivatives_exact_or_an_error(engine):
    """u_x on a value-only part: through the stacking, exact in eager taylor, an error compiled."""
    net = random_net(1, 1, "tanh")
    x1, x2 = points(1, n=7, seed=1), points(1, n=3, seed=2)
    (_, _), (u2, known2) = engines.evaluate(
        make_engine(engine), net, [(x1, {(0, (0, 0))}), (x2, {(0, ())})]
    )
    f = Fields(x2, u2, ("x",), ("u",), known2)
    if engine == "taylor":
        torch.testing.assert_close(f.u_x, reference(net, x2, {(0, (0,))})[0, (0,)])
    else:
        with pytest.raises(RuntimeError, match="probe did not see"):
            f.d("u", "x")


def test_evaluate_calls_other_engines_once_per_set():
    net = random_net(1, 1, "tanh")
    calls = []

    def engine(net, x, keys):
        calls.append(len(x))
        return net(x), {}

    parts = [(points(1, n=3), {(0, (0,))}), (points(1, n=5), {(0, ())})]
    assert [len(u) for u, _ in engines.evaluate(engine, net, parts)] == [3, 5] == calls
    hard = random_net(1, 1, "tanh", output_transform=lambda x, u: x * u)
    assert [len(u) for u, _ in engines.evaluate(engines.taylor, hard, parts)] == [3, 5]


def test_resolve():
    net = random_net(2, 1, "tanh")
    assert engines.resolve("reverse", net) is None
    assert engines.resolve("taylor", net) is engines.taylor
    assert isinstance(engines.resolve("compiled", net), engines.Compiled)
    assert engines.resolve("auto", net) is engines.taylor
    with pytest.warns(UserWarning, match="engine 'auto': activation .* nested reverse mode"):
        assert engines.resolve("auto", random_net(2, 1, lambda z: z.tanh())) is None
    # "auto" compiles for runs long enough to repay the compile time
    assert engines.resolve("auto", net, work=engines.COMPILE_WORK - 1) is engines.taylor
    assert isinstance(engines.resolve("auto", net, work=engines.COMPILE_WORK), engines.Compiled)
    other = random_net(2, 1, lambda z: z.tanh())
    with warnings.catch_warnings():  # no derivatives read: nothing to say
        warnings.simplefilter("error")
        assert engines.resolve("auto", other, engines.COMPILE_WORK, derivatives=False) is None
    hard = random_net(2, 1, "tanh", output_transform=lambda x, u: x[:, :1] * u)
    assert engines.resolve("auto", hard, work=engines.COMPILE_WORK) is engines.taylor
    for name in ("reverse", "taylor", "compiled"):
        assert engines.name(engines.resolve(name, net)) == name
    assert engines.name(lambda net, x, keys: (net(x), {})) == "custom"
    assert engines.resolve(None) is None and engines.resolve(engines.taylor) is engines.taylor
    with pytest.raises(ValueError, match="unknown engine 'fast'; valid: 'auto', 'reverse'"):
        engines.resolve("fast", net)


# -- real problems: losses and their parameter gradients ------------------------------------
NU = 0.01 / math.pi


def burgers():
    domain = pinn.Interval("x", -1.0, 1.0) * pinn.Time(0.0, 1.0)
    return pinn.Problem(
        domain,
        pde=lambda f: f.u_t + f.u * f.u_x - NU * f.u_xx,
        conditions=[
            pinn.initial(lambda x: -torch.sin(math.pi * x[:, 0:1]), n=16),
            pinn.dirichlet(0.0, n=16),
            pinn.neumann(0.0, n=8, name="flux"),
        ],
        n_pde=64,
    )


def kdv():
    """Third order: u_t + 6 u u_x + u_xxx = 0, periodic in x, with u_xt in a second residual."""
    domain = pinn.Interval("x", 0.0, 2.0) * pinn.Time(0.0, 1.0)
    return pinn.Problem(
        domain,
        pde={"kdv": lambda f: f.u_t + 6 * f.u * f.u_x + f.u_xxx, "mixed": lambda f: f.u_xt},
        conditions=[
            pinn.initial(lambda x: torch.cos(math.pi * x[:, 0:1]), n=16),
            pinn.periodic("x", n=8, order=2),
        ],
        n_pde=64,
    )


def ode3():
    """u' = v, v' = w, w' = -u - p.k w with an unknown k: three fields, one input."""
    return pinn.Problem(
        pinn.Time(0.0, 2.0),
        fields=("u", "v", "w"),
        pde=[lambda f: f.u_t - f.v, lambda f: f.v_t - f.w, lambda f, p: f.w_t + f.u + p.k * f.w],
        conditions=[pinn.initial(1.0, field="u"), pinn.initial(0.0, field=("v", "w"))],
        unknowns={"k": 0.5},
        n_pde=40,
    )


# the shared analytic registry (every condition kind) and three without exact solutions
PROBLEMS = {**analytic.PROBLEMS, "burgers": burgers, "kdv": kdv, "ode3": ode3}


def losses_and_gradients(problem, net, unknowns, batch, engine):
    terms = problem.losses(net, batch, unknowns, engine)
    params = [*net.parameters(), *unknowns.parameters()]
    grads = torch.autograd.grad(sum(terms.values()), params)
    return terms, grads


def assert_problem_matches(problem, net, engine):
    unknowns = pinn.Unknowns(problem.unknowns).double()
    batch = problem.sample(seed=0, dtype=torch.float64)
    want, want_grads = losses_and_gradients(problem, net, unknowns, batch, None)
    got, got_grads = losses_and_gradients(problem, net, unknowns, batch, engine)
    assert got.keys() == want.keys()
    for term in want:
        torch.testing.assert_close(got[term], want[term], rtol=1e-10, atol=1e-12, msg=term)
    for g, w in zip(got_grads, want_grads):
        torch.testing.assert_close(g, w, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("engine,name", sweep(PROBLEMS, fast=[("kdv",)]))
def test_problem_losses_and_gradients_match_reverse(name, engine):
    problem = PROBLEMS[name]()
    torch.manual_seed(0)
    net = pinn.MLP(problem, hidden=[16, 16, 16], activation="tanh").double()
    assert_problem_matches(problem, net, make_engine(engine))


LIBRARY = sorted(p.stem for p in (Path(__file__).parents[1] / "problems").glob("[a-z]*.py"))


@pytest.mark.parametrize("engine,name", sweep(LIBRARY, fast=[("burgers",), ("wave1d",)]))
def test_library_problems_match_reverse_with_their_recipe_networks(name, engine):
    """Losses and parameter gradients of every problem in problems/, with the network and
    problem options of its recipe (architecture, embedding, activation, output transform, hard
    conditions, unknowns), at 48 collocation points."""
    module = importlib.import_module(f"problems.{name}")
    recipe = module.recipe()
    problem = module.problem(**{**recipe.get("problem", {}), "n_pde": 48})
    torch.manual_seed(0)
    net = pinn.make_net(problem, **recipe["net"]).double()
    with no_fallback():
        assert_problem_matches(problem, net, make_engine(engine))


def test_hard_constraint_poisson_matches_reverse():
    problem = analytic.poisson1d()
    torch.manual_seed(0)
    net = pinn.MLP(problem, hidden=[16, 16], output_transform=lambda x, u: (1 - x**2) * u)
    assert_problem_matches(problem, net.double(), engines.taylor)


def test_compiled_with_inductor_matches_reverse_on_burgers():
    problem = burgers()
    torch.manual_seed(0)
    net = pinn.MLP(problem, hidden=[16, 16], activation="sin").double()
    with no_fallback():  # a failed compile would warn and run eager
        assert_problem_matches(problem, net, make_engine("compiled", backend="inductor"))


def test_compiled_float32_matches_reverse_to_float32_round_off():
    """In float32 the compiled CPU pass runs its products through oneDNN (`mlp_pass._product`,
    checked to be called where available): losses and gradients agree with nested reverse
    mode in float64 to float32 round-off."""
    problem = burgers()
    torch.manual_seed(0)
    net = pinn.MLP(problem, hidden=[20, 20, 20], activation="tanh").float()
    for layer in net.linears:  # nonzero biases: the products add them
        torch.nn.init.uniform_(layer.bias, -0.5, 0.5)
    batch = problem.sample(seed=0, dtype=torch.float32)
    unknowns = pinn.Unknowns(problem.unknowns)
    engine = make_engine("compiled", backend="inductor")
    with no_fallback(), torch.profiler.profile() as prof:
        got, got_grads = losses_and_gradients(problem, net, unknowns, batch, engine)
    assert mlp_pass._ONEDNN == any(e.name == "pinn::linear" for e in prof.events())
    batch64 = problem.sample(seed=0, dtype=torch.float64)  # the same points, rounded apart
    want, want_grads = losses_and_gradients(problem, net.double(), unknowns.double(), batch64, None)
    for term in want:
        torch.testing.assert_close(got[term].double(), want[term], rtol=1e-5, atol=1e-7)
    for g, w in zip(got_grads, want_grads):
        torch.testing.assert_close(g.double(), w, rtol=1e-4, atol=1e-5)


def test_training_with_taylor_repeats_the_reverse_history():
    problem = burgers()
    histories = {}
    for name in ("reverse", "taylor"):
        net = pinn.MLP(problem, hidden=[12, 12], activation="tanh")
        result = pinn.train(
            problem,
            net,
            stages=[pinn.Adam(steps=6, lr=1e-2), pinn.LBFGS(steps=6)],
            dtype="float64",
            device="cpu",
            log_every=2,
            engine=engines.resolve(name, net),
        )
        histories[name] = [r["loss"] for r in result.history]
    assert len(histories["taylor"]) == len(histories["reverse"]) >= 6
    for a, b in zip(histories["taylor"], histories["reverse"]):
        assert abs(a - b) <= 1e-8 * abs(b), (a, b)
