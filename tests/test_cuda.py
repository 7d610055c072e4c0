"""The CUDA path: every engine, every stage and the checkpoint round trip on a GPU, against the
same run on the CPU. Marked `cuda` and skipped where torch sees no GPU; `benchmarks/gpu.sh`
runs them with the GPU benchmarks on a machine that has one."""

import pytest
import torch
from analytic import heat_neumann, poisson1d

import pinn

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU visible to torch"),
]

STAGES = {
    "adam": pinn.Adam(steps=20, lr=1e-2),
    "adamw": pinn.AdamW(steps=20, lr=1e-2),
    "sgd": pinn.SGD(steps=20, lr=1e-2, momentum=0.9, nesterov=True),
    "adagrad": pinn.Adagrad(steps=20),
    "rmsprop": pinn.RMSprop(steps=20, lr=1e-3),
    "lbfgs": pinn.LBFGS(steps=20),
}


def run(problem, device, **options):
    net = pinn.MLP(problem, hidden=[16, 16])
    return pinn.train(problem, net, dtype="float64", device=device, log_every=5, **options)


def params(result) -> torch.Tensor:
    return torch.cat([p.detach().flatten().cpu() for p in result.net.parameters()])


@pytest.mark.parametrize("engine", ["reverse", "taylor", "compiled"])
def test_every_engine_on_cuda_matches_the_cpu(engine):
    stages = [pinn.Adam(steps=20, lr=1e-2), pinn.LBFGS(steps=10)]
    gpu = run(heat_neumann(), "cuda", stages=stages, engine=engine)
    cpu = run(heat_neumann(), "cpu", stages=stages, engine=engine)
    assert gpu.info["engine"] == engine and next(gpu.net.parameters()).is_cuda
    for a, b in zip(gpu.history, cpu.history):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)
    assert torch.allclose(params(gpu), params(cpu), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_stage_trains_on_cuda(name):
    result = run(poisson1d(n_pde=64), "cuda", stages=[STAGES[name]])
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert result.predict([[0.5]]).device.type == "cpu"  # returned where the points were


def test_checkpoint_resume_on_cuda_is_exact(tmp_path):
    stages = [pinn.Adam(steps=20, lr=1e-2), pinn.LBFGS(steps=20)]
    whole = run(poisson1d(), "cuda", stages=stages)
    writer = pinn.checkpoint.Checkpoints(tmp_path, every=10)
    run(poisson1d(), "cuda", stages=stages, checkpoints=writer)
    state = pinn.checkpoint.load(tmp_path / "stage-0-adam.pt")  # tensors come back on the CPU
    resumed = run(poisson1d(), "cuda", stages=stages, resume=state)
    assert torch.equal(params(resumed), params(whole))


def test_a_bad_device_index_fails_by_name():
    count = torch.cuda.device_count()
    with pytest.raises(pinn.errors.BadValue, match=f"{count} GPU"):
        run(poisson1d(), f"cuda:{count}", stages=[pinn.Adam(steps=1)])
