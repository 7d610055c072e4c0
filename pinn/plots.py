"""Plots of a training run as matplotlib Figures (saved as PNG by `save_plots`).

`history`: each loss term on a log scale with the stage boundaries, and the LR;
`solution`: the prediction against the exact solution with the absolute error (ODEs:
trajectories; 1-d in space: curves at several times; 2-d and more: heat maps);
`unknowns`: the unknowns of an inverse problem over training.
Figures are built without pyplot, so plotting never touches a global figure state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from .errors import BadValue

KINDS = ("solution", "history", "unknowns")


def plot(result, kind: str = "solution", path=None, **options) -> Figure:
    """The figure `kind` ("solution", "history" or "unknowns") of `result`, saved to `path`."""
    if kind not in KINDS:
        raise BadValue(f"unknown plot kind {kind!r}; valid: {', '.join(KINDS)}")
    if kind == "solution":
        fig = plot_solution(result, **options)
    else:
        fig = (plot_history if kind == "history" else plot_unknowns)(result.history, **options)
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def save_plots(result, out) -> list[Path]:
    """Write solution.png, and history.png and (inverse problems) unknowns.png once the run
    has a history, into `out`."""
    logged = ["history"] + (["unknowns"] if result.unknowns else []) if result.history else []
    kinds = ["solution", *logged]
    paths = [Path(out) / f"{kind}.png" for kind in kinds]
    for kind, path in zip(kinds, paths):
        plot(result, kind, path)
    return paths


# -- history ----------------------------------------------------------------------------------
def _column(history, key) -> np.ndarray:
    return np.array([float(h[key]) for h in history])


def _stage_boundaries(ax, history) -> None:
    """A dotted line at the end of each stage but the last, and each stage's name above."""
    ends = [
        i
        for i in range(len(history))
        if i + 1 == len(history) or history[i + 1]["stage_index"] != history[i]["stage_index"]
    ]
    ax.set_xlim(0, float(history[-1]["step"]))  # training starts at step 0
    start = 0.0
    for i in ends:
        step = float(history[i]["step"])
        if i + 1 < len(history):
            ax.axvline(step, color="0.5", linestyle=":", linewidth=1)
        ax.text(
            (start + step) / 2,
            1.01,
            history[i]["stage"],
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=8,
        )
        start = step


def plot_history(history: list[dict]) -> Figure:
    """Each loss term, the total loss and the error (log scale) over the steps; the LR below."""
    if not history:
        raise BadValue("the run has no history to plot yet (no step was logged)")
    steps = _column(history, "step")
    fig = Figure(figsize=(8, 6), layout="constrained")
    loss_ax, lr_ax = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    loss_ax.semilogy(steps, _column(history, "loss"), color="k", linewidth=2, label="loss")
    for key in (k for k in history[0] if k.startswith("loss_")):
        loss_ax.semilogy(steps, _column(history, key), linewidth=1, label=key.removeprefix("loss_"))
    if "error" in history[0]:
        loss_ax.semilogy(steps, _column(history, "error"), "k--", label="error (rel. L2)")
    loss_ax.legend(fontsize=8, ncol=2)
    loss_ax.grid(True, which="major", alpha=0.3)
    _stage_boundaries(loss_ax, history)
    lr_ax.semilogy(steps, _column(history, "lr"), color="tab:purple", drawstyle="steps-pre")
    lr_ax.set_ylabel("learning rate")
    lr_ax.set_xlabel("step")
    lr_ax.grid(True, alpha=0.3)
    return fig


def plot_unknowns(history: list[dict]) -> Figure:
    """The value of each unknown parameter (history keys `unknown_NAME`) over the steps."""
    keys = [k for k in (history[0] if history else {}) if k.startswith("unknown_")]
    if not keys:
        raise BadValue("the run has no unknowns in its history (not an inverse problem)")
    steps = _column(history, "step")
    fig = Figure(figsize=(8, 2.5 * len(keys)), layout="constrained")
    for ax, key in zip(np.atleast_1d(fig.subplots(len(keys), 1, sharex=True)), keys):
        ax.plot(steps, _column(history, key))
        ax.set_ylabel(key.removeprefix("unknown_"))
        ax.grid(True, alpha=0.3)
        _stage_boundaries(ax, history)
    ax.set_xlabel("step")
    return fig


# -- solution ---------------------------------------------------------------------------------
def _evaluate(result, pts: np.ndarray):
    """Prediction and exact solution (None without one) at the rows of `pts`, as numpy."""
    x = torch.as_tensor(pts, dtype=torch.float64)
    pred = result.predict(x).double().cpu().numpy()
    exact = result.problem.exact_at(x).cpu().numpy() if result.problem.exact is not None else None
    return pred, exact


def plot_solution(result, times: int = 5, resolution: int = 200) -> Figure:
    """The prediction against the exact solution, and the absolute error, one row per field.

    ODEs: trajectories over time; one space coordinate: curves at `times` times (or one curve
    without time); more: heat maps over the first two space coordinates at the final time,
    other coordinates at their midpoints. `resolution` points per plotted axis.
    """
    domain = result.problem.domain
    space = [c for c in domain.names if c != domain.time]
    if len(space) <= 1:
        return _curves(result, space, times, resolution)
    return _heat_maps(result, space[:2], resolution)


def _curves(result, space, times, resolution) -> Figure:
    domain, fields = result.problem.domain, result.problem.fields
    axis = space[0] if space else domain.time
    j = domain.names.index(axis)
    line = np.linspace(domain.lo[j], domain.hi[j], resolution)
    slices = [None]  # one curve, unless there is time and a space axis
    if space and domain.time is not None:
        k = domain.names.index(domain.time)
        slices = list(np.linspace(domain.lo[k], domain.hi[k], times))
    fig = Figure(figsize=(10, 3.2 * len(fields)), layout="constrained")
    axes = np.asarray(fig.subplots(len(fields), 2, squeeze=False))
    colors = [f"C{i}" for i in range(len(slices))]
    for t, color in zip(slices, colors):
        pts = np.repeat(((domain.lo + domain.hi) / 2)[None], resolution, axis=0)
        pts[:, j] = line
        if t is not None:
            pts[:, k] = t
        pred, exact = _evaluate(result, pts)
        label = "predicted" if t is None else f"{domain.time} = {t:.3g}"
        for i in range(len(fields)):
            axes[i, 0].plot(line, pred[:, i], color=color, label=label)
            if exact is not None:
                axes[i, 0].plot(line, exact[:, i], "k:", linewidth=1)
                err = np.maximum(np.abs(pred[:, i] - exact[:, i]), 1e-16)
                axes[i, 1].semilogy(line, err, color=color, label=label)
    for i, name in enumerate(fields):
        axes[i, 0].set_ylabel(name)
        axes[i, 0].set_title(
            f"{name}: predicted" + (" (exact dotted)" if exact is not None else "")
        )
        axes[i, 1].set_title(f"|{name} - exact|" if exact is not None else "no exact solution")
        for ax in axes[i]:
            ax.set_xlabel(axis)
            ax.grid(True, alpha=0.3)
    if slices[0] is not None:
        axes[0, 0].legend(fontsize=8)
    return fig


def _heat_maps(result, plane, resolution) -> Figure:
    domain, fields = result.problem.domain, result.problem.fields
    a, b = (domain.names.index(c) for c in plane)
    ga, gb = np.meshgrid(
        np.linspace(domain.lo[a], domain.hi[a], resolution),
        np.linspace(domain.lo[b], domain.hi[b], resolution),
        indexing="xy",
    )
    pts = np.repeat(((domain.lo + domain.hi) / 2)[None], ga.size, axis=0)
    pts[:, a], pts[:, b] = ga.ravel(), gb.ravel()
    where = ""
    if domain.time is not None:
        k = domain.names.index(domain.time)
        pts[:, k] = domain.hi[k]
        where = f" at {domain.time} = {domain.hi[k]:.3g}"
    pred, exact = _evaluate(result, pts)
    outside = ~domain.contains(pts)
    panels = ["predicted"] + (["exact", "|error|"] if exact is not None else [])
    fig = Figure(figsize=(4.2 * len(panels), 3.6 * len(fields)), layout="constrained")
    axes = np.asarray(fig.subplots(len(fields), len(panels), squeeze=False))
    extent = (domain.lo[a], domain.hi[a], domain.lo[b], domain.hi[b])
    for i, name in enumerate(fields):
        values = [pred[:, i]]
        if exact is not None:
            values += [exact[:, i], np.abs(pred[:, i] - exact[:, i])]
        for ax, panel, v in zip(axes[i], panels, values):
            image = np.where(outside, np.nan, v).reshape(ga.shape)
            im = ax.imshow(
                image,
                origin="lower",
                extent=extent,
                aspect="auto",
                cmap="magma" if panel == "|error|" else "viridis",
            )
            fig.colorbar(im, ax=ax)
            ax.set_title(f"{name} {panel}{where}")
            ax.set_xlabel(plane[0])
            ax.set_ylabel(plane[1])
    return fig
