"""The accuracy strategies: each weighting's and sampler's formula against a hand computation,
their state round trips, exact resumes with each of them on, and their clear errors."""

import copy
import json
import math

import pytest
import torch
from analytic import advection, heat_neumann, poisson1d
from test_reliability import Memory, params, without_time

import pinn
from pinn.config import config_to_recipe, recipe_to_config
from pinn.distributed import Group
from pinn.pointsets import Points
from pinn.residuals import Residual, magnitudes
from pinn.training.objective import Objective
from pinn.training.sampling import Sampler
from pinn.training.weighting import Combined

F64 = torch.float64


def setup(problem, weighting, hidden=(8,)):
    """A float64 net, the points training with seed 0 starts from, and the run's objective."""
    torch.manual_seed(0)
    net = pinn.MLP(problem, hidden=list(hidden)).double()
    batch = problem.sample(seed=0, dtype=F64)
    unknowns = pinn.Unknowns(problem.unknowns).double()
    objective = Objective(problem, net, unknowns, pinn.engines.taylor, weighting, 0, 0, Group())
    sizes = {t.name: len(batch[s.name]) for s in problem.sets for t in s.terms}
    weighting.start(objective, sizes)
    return net, batch, objective


def flat_grad(loss, theta) -> torch.Tensor:
    """d loss / d theta as one vector (zeros for a parameter it does not reach)."""
    grads = torch.autograd.grad(loss, theta, retain_graph=True, allow_unused=True)
    return torch.cat(
        [(torch.zeros_like(p) if g is None else g).flatten() for p, g in zip(theta, grads)]
    )


def grad_norms(problem, net, batch):
    """Each term's gradient norm of its mean squared residual, by plain autograd."""
    theta = list(net.parameters())
    res = problem.residuals(net, batch)
    return {name: flat_grad(r.r.square().mean(), theta).norm() for name, r in res.items()}


# -- weightings ----------------------------------------------------------------------------------
def test_gradnorm_weights_are_the_ratio_of_gradient_norms():
    p = poisson1d(n_pde=16)
    w = pinn.GradNorm(every=5, alpha=0.0)
    net, batch, objective = setup(p, w)
    objective(batch, 0, adapt=True)
    n = grad_norms(p, net, batch)
    total = n["pde"] + n["dirichlet"]
    assert torch.allclose(w.weights["pde"], total / n["pde"], rtol=1e-12)
    assert torch.allclose(w.weights["dirichlet"], total / n["dirichlet"], rtol=1e-12)
    # the loss uses them: weight * lambda * mean(r^2)
    terms = objective(batch, 1)
    res = p.residuals(net, batch)
    for k in ("pde", "dirichlet"):
        assert torch.allclose(terms[k], w.weights[k] * res[k].r.square().mean(), rtol=1e-12)


def test_gradnorm_moves_by_its_average_and_only_every_few_steps():
    p = poisson1d(n_pde=16)
    w = pinn.GradNorm(every=5, alpha=0.75)
    net, batch, objective = setup(p, w)
    objective(batch, 0, adapt=True)
    n = grad_norms(p, net, batch)
    hat = (n["pde"] + n["dirichlet"]) / n["pde"]
    assert torch.allclose(w.weights["pde"], 0.75 + 0.25 * hat, rtol=1e-12)
    before = dict(w.weights)
    for step in (1, 2, 3, 4):
        objective(batch, step, adapt=True)
    assert all(torch.equal(w.weights[k], before[k]) for k in before)
    objective(batch, 7)  # not a first-order step: no update even at a multiple
    assert all(torch.equal(w.weights[k], before[k]) for k in before)


def test_gradnorm_balances_only_the_terms_it_is_given():
    p = poisson1d(n_pde=16)
    w = pinn.GradNorm(every=1, alpha=0.0, terms=["pde"])
    _, batch, objective = setup(p, w)
    objective(batch, 0, adapt=True)
    assert set(w.weights) == {"pde"} and torch.allclose(w.weights["pde"], torch.ones((), dtype=F64))


def test_ntk_weights_are_the_ratio_of_kernel_traces():
    p = poisson1d(n_pde=12)
    w = pinn.NTKWeights(every=1, alpha=0.0, points=5)
    net, batch, objective = setup(p, w)
    objective(batch, 0, adapt=True)
    theta = list(net.parameters())
    traces = {}
    for name, res in p.residuals(net, batch).items():
        rows = res.r[:5, 0]
        per = [flat_grad(r, theta).square().sum() for r in rows]
        traces[name] = torch.stack(per).mean()
    total = traces["pde"] + traces["dirichlet"]
    for k in traces:
        assert torch.allclose(w.weights[k], total / traces[k], rtol=1e-10)


def test_causal_weights_on_a_known_residual_profile():
    p = advection(n_pde=32)  # u_t + u_x = 0 on a Time domain
    w = pinn.Causal(tol=2.0, chunks=4)
    _, _, objective = setup(p, w)
    t0, t1 = (float(p.domain.lo[1]), float(p.domain.hi[1]))
    t = torch.tensor([0.1, 0.2, 0.3, 0.6, 0.9, 0.95], dtype=F64)
    t = t0 + (t1 - t0) * t  # slices 0, 0, 1, 2, 3, 3
    x = torch.stack([torch.zeros_like(t), t], 1)
    r = torch.tensor([[1.0], [3.0], [2.0], [0.5], [4.0], [1.0]], dtype=F64)
    res = {"pde": Residual(r, 1.0, x)}
    w.update(res, {}, 0, objective, None)
    L = [(1 + 9) / 2, 4.0, 0.25, (16 + 1) / 2]
    expect = torch.tensor([math.exp(-2.0 * sum(L[:k])) for k in range(4)], dtype=F64)
    assert torch.allclose(w.weights, expect, rtol=1e-12)
    f = w.factors(res)["pde"]
    assert torch.allclose(f.squeeze(1), expect[[0, 0, 1, 2, 3, 3]], rtol=1e-12)
    assert "initial" not in w.factors({**res, "initial": res["pde"]})  # the PDE's terms only


def test_rba_update_on_known_residuals():
    p = poisson1d(n_pde=4)
    w = pinn.RBA(eta=0.1, gamma=0.9, terms=("pde",))
    _, _, objective = setup(p, w)
    r = torch.tensor([[1.0], [-2.0], [0.5], [4.0]], dtype=F64)
    res = {"pde": Residual(r, 1.0, torch.zeros(4, 1, dtype=F64))}
    w.update(res, {}, 0, objective, None)
    lam = 0.9 + 0.1 * r.abs() / 4.0
    assert torch.allclose(w.lam["pde"], lam, rtol=1e-12)
    w.update(res, {}, 1, objective, None)
    assert torch.allclose(w.lam["pde"], 0.9 * lam + 0.1 * r.abs() / 4.0, rtol=1e-12)
    assert torch.allclose(w.factors(res)["pde"], w.lam["pde"].square())
    # a mini-batch moves only its rows
    part = {
        "pde": Residual(r[[1, 3]], 1.0, torch.zeros(2, 1, dtype=F64), rows=torch.tensor([1, 3]))
    }
    before = w.lam["pde"].clone()
    w.update(part, {}, 2, objective, None)
    assert torch.equal(w.lam["pde"][[0, 2]], before[[0, 2]])
    assert torch.allclose(w.lam["pde"][[1, 3]], 0.9 * before[[1, 3]] + 0.1 * r[[1, 3]].abs() / 4)


def test_self_adaptive_first_step_is_adam_ascent():
    p = poisson1d(n_pde=4)
    w = pinn.SelfAdaptive(lr=0.01, terms=("pde",))
    _, _, objective = setup(p, w)
    r = torch.tensor([[1.0], [0.0], [0.5], [4.0]], dtype=F64)
    res = {"pde": Residual(r, 1.0, torch.zeros(4, 1, dtype=F64))}
    w.update(res, {}, 0, objective, None)
    # Adam's first step is lr * g / (|g| + eps): lr where the gradient 2 lambda r^2 / N > 0
    expect = torch.tensor([[1.01], [1.0], [1.01], [1.01]], dtype=F64)
    assert torch.allclose(w.lam["pde"], expect, rtol=1e-9)
    loss = w(res, 0)["pde"]
    assert torch.allclose(loss, (expect.square() * r.square()).mean(), rtol=1e-12)


def test_nan_residuals_leave_the_state_as_it_was():
    p = poisson1d(n_pde=4)
    w = pinn.RBA(terms=("pde",))
    _, _, objective = setup(p, w)
    r = torch.tensor([[1.0], [math.nan], [0.5], [4.0]], dtype=F64)
    w.update({"pde": Residual(r, 1.0, torch.zeros(4, 1, dtype=F64))}, {}, 0, objective, None)
    assert torch.isfinite(w.lam["pde"]).all()


@pytest.mark.parametrize("paired", [False, True])
def test_ntk_points_are_the_batch_s_first_whatever_the_processes(paired):
    # NTKWeights takes the first `points` rows of each set in the batch; with the batch
    # shared among processes, each takes its part of the same rows
    x = torch.arange(22.0).reshape(-1, 1)
    batch = Points(x, paired=paired).take(torch.tensor([8, 1, 6, 3, 0, 9, 2, 5, 7, 10]))
    for n in (1, 4, 7, 10, 12):
        alone = batch.head(n, 0, 1)
        assert alone.total == min(n, 10)
        for world in (2, 3, 4):
            parts = [batch.share(None, r, world).head(n, r, world) for r in range(world)]
            assert {p.total for p in parts} == {alone.total}
            assert torch.equal(torch.cat([p.rows for p in parts]), alone.rows)
            halves = [p.x.reshape(2 if paired else 1, -1) for p in [*parts, alone]]
            assert torch.equal(torch.cat(halves[:-1], 1), halves[-1])


def test_ntk_weights_with_terms_and_a_zero_weight_term():
    p = poisson1d(n_pde=12)
    p = pinn.Problem(
        p.domain,
        pde=p.pde,
        conditions=[pinn.dirichlet(0.0, n=2), pinn.dirichlet(0.0, n=2, weight=0.0, name="off")],
        n_pde=12,
    )
    w = pinn.NTKWeights(every=1, alpha=0.0, points=5, terms=["pde", "dirichlet", "off"])
    _, batch, objective = setup(p, w)
    objective(batch, 0, adapt=True)
    assert set(w.weights) == {"pde", "dirichlet"}  # "off" has no kernel: it keeps 1
    assert all(torch.isfinite(v) and v > 0 for v in w.weights.values())
    only = pinn.NTKWeights(every=1, alpha=0.0, points=5, terms=["pde"])
    _, batch, objective = setup(p, only)
    objective(batch, 0, adapt=True)
    assert set(only.weights) == {"pde"}


def test_a_nan_residual_leaves_causal_and_self_adaptive_state_finite():
    p = advection(n_pde=8)
    causal, sa = pinn.Causal(chunks=4), pinn.SelfAdaptive(terms=("pde",))
    _, _, objective = setup(p, Combined([causal, sa]))
    x = torch.stack([torch.zeros(4, dtype=F64), torch.tensor([0.1, 0.3, 0.6, 0.9], dtype=F64)], 1)
    good = {"pde": Residual(torch.ones(4, 1, dtype=F64), 1.0, x, rows=torch.arange(4))}
    bad = {
        "pde": Residual(
            torch.tensor([[1.0], [math.nan], [1.0], [1.0]], dtype=F64), 1.0, x, rows=torch.arange(4)
        )
    }
    for res in (good, bad, good):
        causal.update(res, {}, 0, objective, None)
        sa.update(res, {}, 0, objective, None)
    assert torch.isfinite(causal.weights).all()
    assert all(torch.isfinite(t).all() for t in sa.moments["pde"][:2])


def test_combined_weightings_multiply_and_see_each_other():
    p = advection(n_pde=32)
    causal, norm = pinn.Causal(tol=1.0, chunks=4), pinn.GradNorm(every=1, alpha=0.0)
    both = Combined([causal, norm])
    net, batch, objective = setup(p, both)
    objective(batch, 0, adapt=True)
    res = p.residuals(net, batch)
    f = causal.factors(res)["pde"]
    terms = both(res, 0)
    expect = norm.weights["pde"] * (f * res["pde"].r.square()).mean()
    assert torch.allclose(terms["pde"], expect, rtol=1e-12)
    # GradNorm balanced the causal-weighted PDE loss, not the plain one
    theta = list(net.parameters())
    n_pde = flat_grad((f * res["pde"].r.square()).mean(), theta).norm()
    assert torch.allclose(norm.weights["pde"] * n_pde, sum_norms(res, theta, f), rtol=1e-10)


def sum_norms(res, theta, f):
    total = 0
    for name, r in res.items():
        loss = ((f if name == "pde" else 1.0) * r.r.square()).mean()
        total = total + flat_grad(loss, theta).norm()
    return total


@pytest.mark.parametrize(
    "make",
    [
        lambda: pinn.GradNorm(every=2),
        lambda: pinn.NTKWeights(every=2, points=8),
        lambda: pinn.SelfAdaptive(),
        lambda: pinn.RBA(),
        lambda: pinn.Causal(chunks=4),
    ],
)
def test_state_round_trips(make):
    p = advection(n_pde=16)
    w = make()
    net, batch, objective = setup(p, w)
    for step in range(3):
        objective(batch, step, adapt=True)
    other = make()
    setup(p, other)
    other.load_state_dict(copy.deepcopy(w.state_dict()))
    res = p.residuals(net, batch)
    a, b = w(res, 0), other(res, 0)
    assert all(torch.equal(a[k], b[k]) for k in a)


STRATEGIES = {
    "gradnorm": {"weighting": pinn.GradNorm(every=3)},
    "ntk": {"weighting": pinn.NTKWeights(every=3, points=8)},
    "self-adaptive": {"weighting": pinn.SelfAdaptive()},
    "rba": {"weighting": pinn.RBA()},
    "causal": {"weighting": pinn.Causal(chunks=4)},
    "combined": {"weighting": [pinn.Causal(chunks=4), pinn.GradNorm(every=3), pinn.RBA()]},
    "rar": {"sampling": pinn.RAR(every=4, add=3)},
    "rad": {"sampling": pinn.RAD(every=4)},
    "r3": {"sampling": pinn.R3(every=4)},
}


@pytest.mark.parametrize("name", STRATEGIES)
def test_resume_is_exact_with_each_strategy(name):
    p = advection(n_pde=24)
    kw = {
        "stages": [pinn.Adam(steps=14, lr=1e-2), pinn.LBFGS(steps=4)],
        "batch_size": 12,
        "log_every": 2,
        **STRATEGIES[name],
    }
    whole = pinn.train(p, pinn.MLP(p, hidden=[8]), **kw)
    keep = Memory(at={7, 10})
    pinn.train(p, pinn.MLP(p, hidden=[8]), checkpoints=keep, **kw)
    for at in (7, 10):
        resumed = pinn.train(p, pinn.MLP(p, hidden=[8]), resume=keep.states[at], **kw)
        assert torch.equal(params(resumed), params(whole))
        assert without_time(resumed.history) == without_time(whole.history)


def test_a_weighting_object_starts_afresh_in_each_run():
    p = poisson1d(n_pde=16)
    w = pinn.GradNorm(every=2)
    kw = {"stages": [pinn.Adam(steps=6)], "weighting": w}
    first = pinn.train(p, pinn.MLP(p, hidden=[8]), **kw)
    second = pinn.train(p, pinn.MLP(p, hidden=[8]), **kw)
    assert torch.equal(params(first), params(second))


# -- sampling ------------------------------------------------------------------------------------
def recording(sampler):
    """The sampler, keeping the candidates it draws in `sampler.drawn`."""
    draw, sampler.drawn = sampler.candidates, []
    sampler.candidates = lambda n: sampler.drawn.append(draw(n)) or sampler.drawn[-1]
    return sampler


def test_rar_adds_the_largest_residuals_among_the_candidates():
    p = heat_neumann(n_pde=32)
    net = pinn.MLP(p, hidden=[8]).double()
    sampler = Sampler(p, None, pinn.RAR(every=1, add=4, candidates=50), 0, F64, torch.device("cpu"))
    sampler.objective = Objective(
        p, net, pinn.Unknowns({}), None, pinn.FixedWeights(), 0, 0, Group()
    )
    old = sampler.points["pde"].x
    new = pinn.RAR(every=1, add=4, candidates=50).points(recording(sampler))["pde"].x
    cand = sampler.drawn[0]
    e = magnitudes(p, net, cand)
    assert torch.equal(new[:32], old) and len(new) == 36
    assert torch.equal(new[32:], cand[e.topk(4).indices])


def test_mini_batches_stay_within_batch_size_as_rar_grows_the_points():
    p = heat_neumann(n_pde=32)
    sampler = Sampler(p, 8, pinn.RAR(every=4, add=6, candidates=50), 0, F64, torch.device("cpu"))
    sampler.objective = Objective(
        p,
        pinn.MLP(p, hidden=[8]).double(),
        pinn.Unknowns({}),
        None,
        pinn.FixedWeights(),
        0,
        0,
        Group(),
    )
    seen = [len(sampler.next()["pde"]) for _ in range(12)]
    assert len(sampler.points["pde"]) == 44 and sampler.per_epoch == 6  # 32 + 2 x 6 points
    assert max(seen) == 8 and seen[-1] < 8  # 44 points in 6 batches of 7 or 8


def test_r3_keeps_the_points_above_the_mean_and_replaces_the_others():
    p = heat_neumann(n_pde=64)
    net = pinn.MLP(p, hidden=[8]).double()
    sampler = Sampler(p, None, pinn.R3(every=1), 0, F64, torch.device("cpu"))
    sampler.objective = Objective(
        p, net, pinn.Unknowns({}), None, pinn.FixedWeights(), 0, 0, Group()
    )
    old = sampler.points["pde"].x
    r = magnitudes(p, net, old).sqrt()
    new = pinn.R3(every=1).points(sampler)["pde"].x
    keep = r > r.mean()
    assert 0 < keep.sum() < 64
    assert torch.equal(new[keep], old[keep])
    assert not (new[~keep] == old[~keep]).all(1).any()
    assert p.domain.contains(new.numpy()).all()


def test_rad_draws_where_the_residual_is_large():
    """With c = 0 and a large k most of the draw lies where e is largest; with c large it is
    uniform over the candidates."""
    p = heat_neumann(n_pde=100)
    net = pinn.MLP(p, hidden=[8]).double()
    sampler = Sampler(p, None, None, 0, F64, torch.device("cpu"))
    sampler.objective = Objective(
        p, net, pinn.Unknowns({}), None, pinn.FixedWeights(), 0, 0, Group()
    )
    recording(sampler)

    def in_top(rad):
        x = rad.points(sampler)["pde"].x
        cand = sampler.drawn[-1]
        e = magnitudes(p, net, cand)
        chosen = (x[:, None, :] == cand[None]).all(-1).any(0)
        assert chosen.sum() == 100  # a hundred distinct candidates
        return (chosen & (e >= e.quantile(0.8))).sum()

    assert in_top(pinn.RAD(k=8.0, c=0.0, candidates=1000)) >= 70  # most in the top fifth
    assert in_top(pinn.RAD(k=1.0, c=1e6, candidates=1000)) <= 35  # uniform: 20 expected, sd 4


def test_candidate_residuals_are_the_same_in_chunks():
    p = heat_neumann(n_pde=16)
    net = pinn.MLP(p, hidden=[8]).double()
    x = torch.rand(1000, 2, dtype=F64)
    whole = magnitudes(p, net, x, chunk=1000)
    assert torch.allclose(magnitudes(p, net, x, chunk=7), whole, rtol=1e-12)
    assert torch.allclose(magnitudes(p, net, x, engine=pinn.engines.taylor, chunk=64), whole)
    res = p.residuals(net, {**p.sample(dtype=F64), "pde": pinn.pointsets.Points(x)})
    assert torch.allclose(whole, res["pde"].r.square().sum(1), rtol=1e-12)


def test_adaptive_sampling_trains_and_per_point_weights_restart_on_new_points():
    p = heat_neumann(n_pde=32)
    w = pinn.RBA()
    pinn.train(
        p,
        pinn.MLP(p, hidden=[8]),
        [pinn.Adam(steps=6)],
        weighting=w,
        sampling=pinn.RAR(every=3, add=5),
    )
    assert w.lam["pde"].shape == (37, 1)  # one refinement, at step 3: weights for 37 points


# -- clear errors ----------------------------------------------------------------------------------
def test_clear_errors():
    p = poisson1d(n_pde=8)
    net = pinn.MLP(p, hidden=[4])
    with pytest.raises(ValueError, match="time coordinate"):
        pinn.train(p, net, [pinn.Adam(steps=1)], weighting=pinn.Causal())
    with pytest.raises(ValueError, match="alpha must be a number in"):
        pinn.GradNorm(alpha=1.0)
    with pytest.raises(ValueError, match="every"):
        pinn.NTKWeights(every=0)
    with pytest.raises(ValueError, match="gamma"):
        pinn.RBA(gamma=1.5)
    with pytest.raises(ValueError, match="no terms"):
        pinn.train(p, net, [pinn.Adam(steps=1)], weighting=pinn.RBA(terms=("boundary",)))
    with pytest.raises(ValueError, match="no terms"):
        pinn.train(p, net, [pinn.Adam(steps=1)], weighting=pinn.GradNorm(terms=["gauge"]))
    with pytest.raises(ValueError, match="terms must be a list of term names"):
        pinn.SelfAdaptive(terms="pde")
    with pytest.raises(ValueError, match="combines nothing"):
        pinn.train(p, net, [pinn.Adam(steps=1)], weighting=[])

    class Own(pinn.Weighting):
        def __call__(self, residuals, step):
            return {k: r.mean_square() for k, r in residuals.items()}

    with pytest.raises(TypeError, match="factors"):
        pinn.train(p, net, [pinn.Adam(steps=1)], weighting=[Own(), pinn.RBA()])
    with pytest.raises(ValueError, match="add=50 is more than"):
        pinn.train(p, net, [pinn.Adam(steps=3)], sampling=pinn.RAR(every=1, add=50, candidates=10))
    closure = [pinn.LBFGS(steps=2), pinn.BFGS(steps=2)]
    with pytest.raises(ValueError, match=r"every stage here is a closure stage \(BFGS, LBFGS\)"):
        pinn.train(p, net, closure, weighting=[pinn.FixedWeights(), pinn.RBA()])
    with pytest.raises(ValueError, match="sampling=R3.* adapts at first-order steps only"):
        pinn.train(p, net, closure, sampling=pinn.R3(every=1))
    pinn.train(p, net, closure, weighting=[pinn.FixedWeights()])  # nothing to adapt
    pinn.train(p, net, [pinn.LBFGS(steps=2), pinn.Adam(steps=1)], weighting=pinn.RBA())
    data = pinn.Supervised(torch.rand(8, 1), torch.rand(8, 1))
    with pytest.raises(ValueError, match="no PDE residual"):
        pinn.train(data, pinn.MLP(data, hidden=[4]), [pinn.Adam(steps=1)], sampling=pinn.RAD())
    hard = pinn.Problem(
        pinn.Interval("x", 0.0, 1.0),
        pde=lambda f: f.u_xx,
        conditions=[pinn.dirichlet(0.0, hard=True)],
    )
    with pytest.raises(ValueError, match="NTKWeights needs the residual Jacobian"):
        pinn.train(
            hard, pinn.MLP(hard, hidden=[4]), [pinn.Adam(steps=1)], weighting=pinn.NTKWeights()
        )


def test_strategies_have_a_config_form():
    recipe = {
        "weighting": [
            pinn.Causal(tol=5.0, chunks=8),
            pinn.GradNorm(every=50),
            pinn.RBA(terms=["pde"]),
        ],
        "sampling": pinn.RAD(every=200, k=2.0),
    }
    config = recipe_to_config(recipe)
    assert json.loads(json.dumps(config)) == config
    assert config["weighting"][0] == {"type": "causal", "tol": 5.0, "chunks": 8}
    back = config_to_recipe(config)
    assert (
        repr(back["weighting"]) == repr(recipe["weighting"])
        and back["sampling"] == recipe["sampling"]
    )
    for name in ("fixed", "gradnorm", "ntk", "self_adaptive", "rba", "causal"):
        assert type(config_to_recipe({"weighting": {"type": name}})["weighting"]).name == name
    from pinn.config import apply_overrides

    changed = apply_overrides(config, ["weighting.0.tol=10", "sampling.k=3"])
    assert changed["weighting"][0]["tol"] == 10 and changed["sampling"]["k"] == 3
    with pytest.raises(ValueError, match="unknown key 'tl'"):
        apply_overrides(config, ["weighting.0.tl=10"])
    with pytest.raises(ValueError, match="unknown key 'evry' of gradnorm"):
        config_to_recipe({"weighting": {"type": "gradnorm", "evry": 3}})
    with pytest.raises(ValueError, match="one of fixed, gradnorm"):
        config_to_recipe({"weighting": {"type": "softadapt"}})

    class Own(pinn.Weighting):
        def __call__(self, residuals, step):
            return {}

    with pytest.raises(ValueError, match="cannot be written to a run's config"):
        recipe_to_config({"weighting": Own()})
