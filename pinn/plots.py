"""Plots of a training run as matplotlib Figures (saved as PNG by `save_plots`).

`history`: each loss term on a log scale with the stage boundaries, and the LR;
`solution`: the prediction against the exact solution, or given reference data, with the
absolute error (ODEs: trajectories; 1-d in space: curves at several times; 2-d and more: heat
maps at equal aspect, the slice named in each title);
`residual`: the magnitude of the PDE residual over the same curves or maps;
`unknowns`: the unknowns of an inverse problem over training, with their initial values and,
when given, their true values;
`observations`: the prediction against each observation of the `pinn.data` conditions.
Figures are built without pyplot, so plotting never touches a global figure state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from .errors import BadValue

KINDS = ("solution", "residual", "history", "unknowns", "observations")


def plot(result, kind: str = "solution", path=None, **options) -> Figure:
    """The figure `kind` ("solution", "residual", "history", "unknowns" or "observations") of
    `result`, saved to `path`; `options` go to the `plot_KIND` function."""
    if kind not in KINDS:
        raise BadValue(f"unknown plot kind {kind!r}; valid: {', '.join(KINDS)}")
    if kind == "solution":
        fig = plot_solution(result, **options)
    elif kind == "residual":
        fig = plot_residual(result, **options)
    elif kind == "observations":
        fig = plot_observations(result, **options)
    elif kind == "unknowns":
        fig = plot_unknowns(result.history, initial=result.problem.unknowns, **options)
    else:
        fig = plot_history(result.history, **options)
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def save_plots(result, out) -> list[Path]:
    """Write solution.png, residual.png (problems with PDE terms), observations.png (problems
    with data), and history.png and (inverse problems) unknowns.png once the run has a
    history, into `out`."""
    logged = ["history"] + (["unknowns"] if result.unknowns else []) if result.history else []
    kinds = ["solution", *(["residual"] if _pde_set(result.problem) else [])]
    kinds += ["observations"] if _observations(result.problem) else []
    kinds += logged
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


def plot_unknowns(history: list[dict], initial=None, truth=None) -> Figure:
    """The value of each unknown parameter (history keys `unknown_NAME`) over the steps, with
    its `initial` value (dotted) and, given `truth` (name -> value), its true value (dashed)."""
    keys = [k for k in (history[0] if history else {}) if k.startswith("unknown_")]
    if not keys:
        raise BadValue("the run has no unknowns in its history (not an inverse problem)")
    steps = _column(history, "step")
    fig = Figure(figsize=(8, 2.5 * len(keys)), layout="constrained")
    for ax, key in zip(np.atleast_1d(fig.subplots(len(keys), 1, sharex=True)), keys):
        name = key.removeprefix("unknown_")
        ax.plot(steps, _column(history, key), label="fitted")
        if initial and name in initial:
            ax.axhline(
                initial[name], color="0.5", linestyle=":", label=f"initial {initial[name]:.4g}"
            )
        if truth and name in truth:
            ax.axhline(truth[name], color="k", linestyle="--", label=f"true {truth[name]:.4g}")
        ax.legend(fontsize=8)
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        _stage_boundaries(ax, history)
    ax.set_xlabel("step")
    return fig


# -- solution and residual --------------------------------------------------------------------
def _truth(result, reference):
    """The values to compare with at given points: `reference` data (points, values)
    interpolated linearly (NaN outside their hull), else the exact solution; None without."""
    if reference is not None:
        points, values = (
            np.asarray(torch.as_tensor(np.asarray(v) if not torch.is_tensor(v) else v).double())
            for v in reference
        )
        values = values.reshape(len(points), -1)
        dim, fields = result.problem.domain.dim, len(result.problem.fields)
        if points.ndim != 2 or points.shape[1] != dim or values.shape[1] != fields:
            raise BadValue(
                f"reference must be (points (N, {dim}), values (N, {fields})), got "
                f"{points.shape} and {values.shape}"
            )
        if dim == 1:
            order = np.argsort(points[:, 0])
            return lambda pts: np.stack(
                [np.interp(pts[:, 0], points[order, 0], v[order]) for v in values.T], axis=1
            )
        from scipy.interpolate import griddata

        return lambda pts: griddata(points, values, pts, method="linear")
    if result.problem.exact is None:
        return None
    exact = result.problem.exact_at
    return lambda pts: exact(torch.as_tensor(pts, dtype=torch.float64)).cpu().numpy()


def _prediction(result, truth):
    """A function of points: (prediction, values to compare with or None), as numpy."""

    def values(pts):
        pred = result.predict(torch.as_tensor(pts, dtype=torch.float64)).double().cpu().numpy()
        return pred, None if truth is None else truth(pts)

    return values


def _pde_set(problem):
    return next((s for s in getattr(problem, "sets", ()) if s.name == "pde"), None)


def _residual(result):
    """A function of points: (the root-sum-square of every PDE residual term, None)."""
    from .fields import Fields
    from .pointsets import Points
    from .residuals import terms

    problem, pde = result.problem, _pde_set(result.problem)
    if pde is None:
        raise BadValue("the problem has no PDE terms: no residual to plot")

    def values(pts):
        net, dtype = result.net, result.dtype
        was_training = net.training
        net.eval()
        try:
            x = torch.as_tensor(pts, dtype=dtype, device=result.device).requires_grad_(True)
            f = Fields(x, net(x), problem.coords, problem.fields)
            out = terms(pde, f, Points(x), result.unknowns_module.view())
        finally:
            net.train(was_training)
        squares = sum(r.r.detach().square().sum(1) for r in out.values())
        return squares.sqrt().double().cpu().numpy()[:, None], None

    return values


def plot_solution(result, times: int = 5, resolution: int = 200, reference=None) -> Figure:
    """The prediction against the exact solution (or `reference`, a pair (points, values) of
    reference data, interpolated linearly), and the absolute error, one row per field.

    ODEs: trajectories over time; one space coordinate: curves at `times` times (or one curve
    without time); more: heat maps over the first two space coordinates at equal aspect, at
    the final time, other coordinates at their midpoints (named in the titles). `resolution`
    points per plotted axis.
    """
    values = _prediction(result, _truth(result, reference))
    return _figure(result.problem.domain, result.problem.fields, values, times, resolution)


def plot_residual(result, times: int = 5, resolution: int = 200) -> Figure:
    """The magnitude of the PDE residual (the root-sum-square of its terms) over the same
    curves or heat maps as `plot_solution`: where the network satisfies the equation least."""
    values = _residual(result)
    return _figure(result.problem.domain, ("|PDE residual|",), values, times, resolution)


def _figure(domain, names, values, times, resolution) -> Figure:
    space = [c for c in domain.names if c != domain.time]
    if len(space) <= 1:
        return _curves(domain, names, values, space, times, resolution)
    return _heat_maps(domain, names, values, space[:2], resolution)


def _curves(domain, names, values, space, times, resolution) -> Figure:
    axis = space[0] if space else domain.time
    j = domain.names.index(axis)
    line = np.linspace(domain.lo[j], domain.hi[j], resolution)
    slices = [None]  # one curve, unless there is time and a space axis
    if space and domain.time is not None:
        k = domain.names.index(domain.time)
        slices = list(np.linspace(domain.lo[k], domain.hi[k], times))
    fig = Figure(figsize=(10, 3.2 * len(names)), layout="constrained")
    axes = np.asarray(fig.subplots(len(names), 2, squeeze=False))
    colors = [f"C{i}" for i in range(len(slices))]
    residual = names == ("|PDE residual|",)
    for t, color in zip(slices, colors):
        pts = np.repeat(((domain.lo + domain.hi) / 2)[None], resolution, axis=0)
        pts[:, j] = line
        if t is not None:
            pts[:, k] = t
        pred, exact = values(pts)
        label = "predicted" if t is None else f"{domain.time} = {t:.3g}"
        for i in range(len(names)):
            axes[i, 0].plot(line, pred[:, i], color=color, label=label)
            if exact is not None:
                axes[i, 0].plot(line, exact[:, i], "k:", linewidth=1)
                err = np.maximum(np.abs(pred[:, i] - exact[:, i]), 1e-16)
                axes[i, 1].semilogy(line, err, color=color, label=label)
            elif residual:
                axes[i, 1].semilogy(line, np.maximum(pred[:, i], 1e-16), color=color, label=label)
    for i, name in enumerate(names):
        axes[i, 0].set_ylabel(name)
        axes[i, 0].set_title(
            f"{name}"
            + ("" if residual else ": predicted")
            + (" (reference dotted)" if exact is not None else "")
        )
        axes[i, 1].set_title(
            f"|{name} - reference|"
            if exact is not None
            else f"{name}, log scale"
            if residual
            else "no exact solution or reference"
        )
        for ax in axes[i]:
            ax.set_xlabel(axis)
            ax.grid(True, alpha=0.3)
    if slices[0] is not None:
        axes[0, 0].legend(fontsize=8)
    return fig


def _heat_maps(domain, names, values, plane, resolution) -> Figure:
    a, b = (domain.names.index(c) for c in plane)
    ga, gb = np.meshgrid(
        np.linspace(domain.lo[a], domain.hi[a], resolution),
        np.linspace(domain.lo[b], domain.hi[b], resolution),
        indexing="xy",
    )
    pts = np.repeat(((domain.lo + domain.hi) / 2)[None], ga.size, axis=0)
    pts[:, a], pts[:, b] = ga.ravel(), gb.ravel()
    if domain.time is not None:
        pts[:, domain.names.index(domain.time)] = domain.hi[domain.names.index(domain.time)]
    fixed = [c for c in domain.names if c not in plane]  # the slice, named in every title
    where = " at " + ", ".join(f"{c} = {pts[0, domain.names.index(c)]:.3g}" for c in fixed)
    where = where if fixed else ""
    pred, exact = values(pts)
    outside = ~domain.contains(pts)
    panels = ["predicted"] + (["reference", "|error|"] if exact is not None else [])
    fig = Figure(figsize=(4.2 * len(panels), 3.6 * len(names)), layout="constrained")
    axes = np.asarray(fig.subplots(len(names), len(panels), squeeze=False))
    extent = (domain.lo[a], domain.hi[a], domain.lo[b], domain.hi[b])
    for i, name in enumerate(names):
        shown = [pred[:, i]]
        if exact is not None:
            shown += [exact[:, i], np.abs(pred[:, i] - exact[:, i])]
        for ax, panel, v in zip(axes[i], panels, shown):
            image = np.where(outside, np.nan, v).reshape(ga.shape)
            im = ax.imshow(
                image,
                origin="lower",
                extent=extent,
                aspect="equal",  # space is space: a disk stays round
                cmap="magma" if panel == "|error|" or name.startswith("|") else "viridis",
            )
            fig.colorbar(im, ax=ax)
            ax.set_title(f"{name}{'' if name.startswith('|') else ' ' + panel}{where}")
            ax.set_xlabel(plane[0])
            ax.set_ylabel(plane[1])
    return fig


def _observations(problem):
    """The `pinn.data` conditions of a problem (none for a `pinn.Supervised`)."""
    return [c for c in getattr(problem, "conditions", ()) if c.kind == "data"]


def plot_observations(result) -> Figure:
    """Each observation of the problem's `pinn.data` conditions against the prediction at its
    point, one panel per observed field, with the line of agreement."""
    problem = result.problem
    conditions = _observations(problem)
    if not conditions:
        raise BadValue("the problem has no observations (no pinn.data condition)")
    pairs = {}  # field -> (observed, predicted) arrays
    for c in conditions:
        fields = (
            problem.fields
            if c.field is None
            else (c.field,)
            if isinstance(c.field, str)
            else c.field
        )
        predicted = result.predict(c.on).double().cpu().numpy()
        observed = c.value.double().cpu().numpy()
        for k, name in enumerate(fields):
            column = observed[:, k if observed.shape[1] > 1 else 0]
            seen, pred = pairs.get(name, ([], []))
            pairs[name] = ([*seen, column], [*pred, predicted[:, problem.fields.index(name)]])
    fig = Figure(figsize=(4.2 * len(pairs), 4), layout="constrained")
    for ax, (name, (seen, pred)) in zip(np.atleast_1d(fig.subplots(1, len(pairs))), pairs.items()):
        seen, pred = np.concatenate(seen), np.concatenate(pred)
        ax.scatter(seen, pred, s=8, alpha=0.6)
        low, high = min(seen.min(), pred.min()), max(seen.max(), pred.max())
        ax.plot([low, high], [low, high], "k--", linewidth=1)
        rms = float(np.sqrt(np.mean((pred - seen) ** 2)))
        ax.set_title(f"{name}: {len(seen)} observations, RMS misfit {rms:.3g}")
        ax.set_xlabel(f"observed {name}")
        ax.set_ylabel(f"predicted {name}")
        ax.set_aspect("equal")
        ax.grid(True, alpha=0.3)
    return fig
