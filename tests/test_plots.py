"""Plots: each kind of domain gets its figure, the PNGs are not blank, bad requests fail clearly.

The networks are untrained (plots only need predictions) and the histories are made up.
"""

import math

import numpy as np
import pytest
import torch
from PIL import Image

import pinn
from pinn import plots
from pinn.problem import Unknowns


def result_of(problem, history=()):
    net = pinn.MLP(problem, hidden=[8])
    return pinn.Result(problem, net, Unknowns(problem.unknowns), history=list(history))


def history(unknowns=()):
    """Two stages, adam (steps 10-30) then lbfgs (40-50), with an error and unknowns."""
    records = []
    for step, stage, index, lr in [
        (10, "adam", 0, 1e-3),
        (20, "adam", 0, 1e-3),
        (30, "adam", 0, 5e-4),
        (40, "lbfgs", 1, 1.0),
        (50, "lbfgs", 1, 1.0),
    ]:
        records.append(
            {
                "step": step,
                "stage": stage,
                "stage_index": index,
                "lr": lr,
                "loss": 1.0 / step,
                "loss_pde": 0.6 / step,
                "loss_dirichlet": 0.4 / step,
                "error": 0.1 / step,
                **{f"unknown_{k}": 1 + step / 50 for k in unknowns},
                "time": step / 10,
            }
        )
    return records


def sine(domain, fields="u"):
    """A problem whose exact solution is sin(pi x0) in every field (the PDE is irrelevant)."""
    names = fields if isinstance(fields, tuple) else (fields,)
    return pinn.Problem(
        domain,
        fields=fields,
        pde=lambda f: f.d(names[0]),
        n_pde=16,
        exact=lambda x: torch.sin(math.pi * x[:, :1]).repeat(1, len(names)),
    )


def not_blank(path) -> bool:
    image = np.asarray(Image.open(path).convert("L"), dtype=float)
    return image.shape[0] > 100 and image.std() > 10


@pytest.mark.parametrize(
    "domain, fields, panels",
    [
        (pinn.Interval("x", -1.0, 1.0), "u", 2),  # curve and error
        (pinn.Interval("x", 0.0, 1.0) * pinn.Time(0.0, 1.0), "u", 2),  # curves at times
        (pinn.Time(0.0, 2.0), ("u", "v"), 4),  # trajectories
        (pinn.Rectangle((0.0, 0.0), (1.0, 2.0)), "u", 3 * 2),  # heat maps + colorbars
        (pinn.Disk(), "u", 3 * 2),
        (
            pinn.Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), names=("x", "y", "z")) * pinn.Time(0.0, 1.0),
            "u",
            3 * 2,
        ),
    ],
)
def test_solution_figure_for_each_kind_of_domain(domain, fields, panels, tmp_path):
    fig = plots.plot(result_of(sine(domain, fields)), "solution", path=tmp_path / "s.png")
    assert len(fig.axes) == panels
    assert not_blank(tmp_path / "s.png")


def test_curves_at_several_times_and_log_error():
    domain = pinn.Interval("x", 0.0, 1.0) * pinn.Time(0.0, 1.0)
    fig = plots.plot_solution(result_of(sine(domain)), times=4)
    curves, errors = fig.axes
    assert len(curves.get_lines()) == 2 * 4  # predicted and exact at each time
    assert errors.get_yscale() == "log" and len(errors.get_lines()) == 4


def test_disk_heat_map_is_masked_outside():
    fig = plots.plot_solution(result_of(sine(pinn.Disk())), resolution=50)
    image = fig.axes[0].get_images()[0].get_array()
    assert image.mask[0, 0] and not image.mask[25, 25]  # a corner is outside the unit disk


def test_without_exact_solution_only_the_prediction():
    p = pinn.Problem(pinn.Rectangle((0.0, 0.0), (1.0, 1.0)), pde=lambda f: f.u, n_pde=16)
    assert len(plots.plot_solution(result_of(p)).axes) == 2  # one map and its colorbar


def test_history_log_scale_stage_boundaries_and_lr(tmp_path):
    p = sine(pinn.Interval("x", -1.0, 1.0))
    fig = plots.plot(result_of(p, history()), "history", path=tmp_path / "h.png")
    losses, lr = fig.axes
    assert losses.get_yscale() == "log" and lr.get_yscale() == "log"
    labels = [line.get_label() for line in losses.get_lines()]
    assert labels[:4] == ["loss", "pde", "dirichlet", "error (rel. L2)"]
    boundaries = [line for line in losses.get_lines() if line.get_linestyle() == ":"]
    assert [line.get_xdata()[0] for line in boundaries] == [30.0]
    assert [t.get_text() for t in losses.texts] == ["adam", "lbfgs"]
    assert not_blank(tmp_path / "h.png")


def test_unknowns_over_training(tmp_path):
    p = pinn.Problem(
        pinn.Time(0.0, 1.0),
        pde=lambda f, p: f.u_t + p.k * f.u + p.c,
        conditions=[pinn.initial(1.0, n=1)],
        unknowns={"k": 0.5, "c": 0.0},
        n_pde=16,
    )
    result = result_of(p, history(unknowns=("k", "c")))
    fig = plots.plot(result, "unknowns", path=tmp_path / "u.png")
    assert [ax.get_ylabel() for ax in fig.axes] == ["k", "c"]
    assert not_blank(tmp_path / "u.png")
    k = fig.axes[0]  # the fitted curve, and the initial value dotted
    labels = [line.get_label() for line in k.get_lines()]
    assert [label for label in labels if not label.startswith("_")] == ["fitted", "initial 0.5"]
    truth = plots.plot_unknowns(result.history, initial=p.unknowns, truth={"k": 2.0})
    assert "true 2" in [line.get_label() for line in truth.axes[0].get_lines()]
    assert sorted(path.name for path in plots.save_plots(result, tmp_path)) == [
        "history.png",
        "residual.png",
        "solution.png",
        "unknowns.png",
    ]


def test_bad_requests_name_what_is_valid():
    result = result_of(sine(pinn.Interval("x", -1.0, 1.0)))
    with pytest.raises(
        ValueError, match="unknown plot kind 'loss'; valid: solution, residual, history"
    ):
        plots.plot(result, "loss")
    with pytest.raises(ValueError, match="no history"):
        plots.plot(result, "history")
    with pytest.raises(ValueError, match="not an inverse problem"):
        plots.plot_unknowns(history())


def test_result_plot_is_plots_plot(tmp_path):
    result = result_of(sine(pinn.Interval("x", -1.0, 1.0)), history())
    fig = result.plot("history", path=tmp_path / "h.png")
    assert len(fig.axes) == 2 and (tmp_path / "h.png").is_file()


def test_heat_maps_keep_equal_aspect_and_name_their_slice():
    fig = plots.plot_solution(result_of(sine(pinn.Disk())), resolution=20)
    assert fig.axes[0].get_aspect() == 1.0  # a disk is drawn round
    box = pinn.Box((0.0, 0.0, 0.0), (1.0, 1.0, 2.0), names=("x", "y", "z")) * pinn.Time(0.0, 1.0)
    title = plots.plot_solution(result_of(sine(box)), resolution=20).axes[0].get_title()
    assert title == "u predicted at z = 1, t = 1"


def test_reference_data_stand_in_for_an_exact_solution():
    """Without an exact solution, given (points, values) give the reference and error maps;
    data equal to the prediction give zero error."""
    p = pinn.Problem(pinn.Rectangle((0.0, 0.0), (1.0, 1.0)), pde=lambda f: f.u, n_pde=16)
    result = result_of(p)
    points = torch.rand(400, 2, dtype=torch.float64)
    fig = plots.plot_solution(result, resolution=20, reference=(points, result.predict(points)))
    assert len(fig.axes) == 6  # predicted, reference, |error|, each with a colorbar
    error = fig.axes[2].get_images()[0].get_array()
    assert np.nanmax(error) < 1e-2  # linear interpolation of the prediction itself
    with pytest.raises(ValueError, match="reference must be"):
        plots.plot_solution(result, reference=(points[:, :1], points))


def test_residual_is_zero_for_the_exact_solution_and_not_otherwise():
    p = sine(pinn.Interval("x", -1.0, 1.0))  # the residual is u itself
    exact = pinn.Result(p, pinn.nets.Lambda(lambda x: 0 * x), Unknowns({}), dtype=torch.float64)
    fig = plots.plot_residual(exact, resolution=50)
    assert np.abs(fig.axes[0].get_lines()[0].get_ydata()).max() == 0
    fig = plots.plot_residual(result_of(p), resolution=50)
    assert np.abs(fig.axes[0].get_lines()[0].get_ydata()).max() > 0
    maps = plots.plot_residual(result_of(sine(pinn.Disk())), resolution=20)
    assert maps.axes[0].get_title() == "|PDE residual|"


def test_observations_against_the_prediction():
    """Data equal to the prediction plus a known offset: every point sits that far off the
    line of agreement, and the title gives the misfit."""
    p0 = sine(pinn.Interval("x", -1.0, 1.0))
    result = result_of(p0)
    x = torch.linspace(-0.9, 0.9, 7, dtype=torch.float64).unsqueeze(1)
    observed = result.predict(x).double() + 0.25
    p = pinn.Problem(p0.domain, pde=lambda f: f.u, n_pde=16, conditions=[pinn.data(x, observed)])
    result = pinn.Result(p, result.net, Unknowns({}))
    fig = plots.plot(result, "observations")
    points = fig.axes[0].collections[0].get_offsets()
    assert np.allclose(points[:, 1], points[:, 0] - 0.25, atol=1e-6)
    assert fig.axes[0].get_title() == "u: 7 observations, RMS misfit 0.25"
    with pytest.raises(ValueError, match="no observations"):
        plots.plot(result_of(p0), "observations")
