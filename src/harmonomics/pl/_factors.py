"""Figures of a factor model: variance explained, factor scatter plots, top weights."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from .. import _keys, _results, _style
from .._errors import MissingResultError
from . import _utils as u

logger = logging.getLogger(__name__)


def variance_explained(
    mdata: Any,
    *,
    key: str = _keys.KEY_MOFA,
    totals: bool = True,
    annotate: bool = True,
    cmap: str = "Blues",
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """Heatmap of the variance explained (R², %) by each factor in each view, with totals.

    Parameters
    ----------
    mdata
        MuData with a factor model under ``key`` (``uns[key]["r2_per_view_factor"]``).
    key
        Result key of the factor model.
    totals
        Show the total R² of each view (bar on the right) and of each factor (bar on top). With
        ``ax`` given, the view totals go into the row labels instead.
    annotate
        Write the value in each cell.
    cmap
        Matplotlib colormap of the heatmap.
    ax
        Draw the heatmap into this Axes instead of a new figure.
    save
        Save the figure to this path (format from the suffix); nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    import matplotlib.pyplot as plt

    u.check_ax(ax)
    r2 = _results.r2_table(mdata, key) * 100.0
    if r2.size == 0:
        raise MissingResultError(f"mdata.uns[{key!r}]['r2_per_view_factor'] is empty")
    view_tot = _results.r2_total(mdata, key, per="view")
    if view_tot is None or view_tot.isna().all():
        view_tot = r2.sum(axis=1) / 100.0
    view_tot = view_tot * 100.0
    fac_tot = _results.r2_total(mdata, key, per="factor")
    if fac_tot is None or fac_tot.isna().all():
        fac_tot = r2.sum(axis=0) / 100.0
    fac_tot = fac_tot * 100.0
    n_views, n_factors = r2.shape

    if ax is None:
        width = 2.2 + 0.55 * n_factors + (1.6 if totals else 0.0)
        height = 1.3 + 0.48 * n_views + (1.1 if totals else 0.0)
        if totals:
            fig = plt.figure(figsize=(width, height), layout="constrained")
            grid = fig.add_gridspec(2, 2, width_ratios=[max(n_factors, 1), 2.2], height_ratios=[1.5, max(n_views, 1)])
            heat_ax = fig.add_subplot(grid[1, 0])
            top_ax = fig.add_subplot(grid[0, 0], sharex=heat_ax)
            right_ax = fig.add_subplot(grid[1, 1], sharey=heat_ax)
        else:
            fig, heat_ax = plt.subplots(figsize=(width, height), layout="constrained")
        result = fig
    else:
        heat_ax, fig, result = ax, ax.figure, ax
        totals_inline = totals
        totals = False

    vmax = max(float(np.nanmax(r2.to_numpy())), 1e-9)
    image = heat_ax.imshow(r2.to_numpy(), aspect="auto", cmap=cmap, vmin=0.0, vmax=vmax)
    heat_ax.set_xticks(range(n_factors), [str(c) for c in r2.columns], rotation=45, ha="right", fontsize=9)
    if ax is not None and totals_inline:
        ylabels = [f"{v}  ({view_tot[v]:.1f}%)" for v in r2.index]
    else:
        ylabels = [str(v) for v in r2.index]
    heat_ax.set_yticks(range(n_views), ylabels, fontsize=9)
    heat_ax.set_xlabel("factor")
    heat_ax.set_ylabel("view")
    if annotate:
        for i in range(n_views):
            for j in range(n_factors):
                value = r2.iat[i, j]
                if np.isfinite(value):
                    dark = value > 0.6 * vmax
                    heat_ax.text(
                        j,
                        i,
                        f"{value:.1f}",
                        ha="center",
                        va="center",
                        fontsize=7.5,
                        color="white" if dark else "#222222",
                    )
    u.colorbar(fig, image, heat_ax if ax is not None or not totals else right_ax, "R² (%)", shrink=0.9)

    if totals:
        top_ax.bar(range(n_factors), fac_tot.to_numpy(), color="#6b8fbf", width=0.7)
        top_ax.set_ylabel("total\nR² (%)", fontsize=8)
        top_ax.tick_params(axis="x", labelbottom=False, length=0)
        _style.style_axes(top_ax)
        right_ax.barh(range(n_views), view_tot.to_numpy(), color="#6b8fbf", height=0.6)
        for i, v in enumerate(view_tot.to_numpy()):
            if np.isfinite(v):
                right_ax.text(v, i, f" {v:.1f}", va="center", fontsize=8)
        right_ax.set_xlabel("total R² (%)", fontsize=8)
        right_ax.tick_params(axis="y", labelleft=False, length=0)
        right_ax.set_xlim(0, max(float(np.nanmax(view_tot.to_numpy())), 1e-9) * 1.35)
        _style.style_axes(right_ax)
        top_ax.set_title("Variance explained per view and factor", fontsize=11, loc="left")
    return u.finish(fig, result, save)


def factor_scatter(
    mdata: Any,
    x: str | int = 1,
    y: str | int = 2,
    *,
    key: str = _keys.KEY_MOFA,
    color: str | Sequence[str] | None = None,
    palette: Mapping[str, str] | Sequence[str] | str | None = None,
    size: float | None = None,
    alpha: float = 0.85,
    legend: bool = True,
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """Scatter plot of two factors, coloured by subtype, immune class or any per-sample variable.

    Parameters
    ----------
    mdata
        MuData with factor scores in ``obsm[key]``.
    x, y
        The factors on each axis, by name (``"Factor1"``) or 1-based number.
    key
        Result key of the factor model.
    color
        What colours the points: an ``obs`` column (e.g. ``"pam50"``, ``"immune_class"``, ``"age"``),
        a column of an obsm DataFrame (``"immune:CYT"``), or a list of them (one panel each). Categorical
        values get one colour per level (samples without a value in grey), numbers a colour scale.
    palette
        Colours for categories: a ``{level: colour}`` dict, a list, or a colormap name. Default: the
        conventional PAM50 / immune colours, else a qualitative palette.
    size
        Marker size (default from the number of samples).
    alpha
        Marker opacity.
    legend
        Draw the legend / colour bar.
    ax
        Draw into this Axes (only with a single ``color``).
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    u.check_ax(ax)
    scores = _results.factor_scores(mdata, key)
    names = list(scores.columns)
    fx, fy = u.resolve_factor(x, names), u.resolve_factor(y, names)
    colors: list[str | None]
    if color is None or isinstance(color, str):
        colors = [color]
    else:
        colors = list(color)
        if not colors:
            raise ValueError("color is an empty list: give an obs column name, a list of them, or None")
    if ax is not None and len(colors) > 1:
        raise ValueError(f"ax= can hold one panel but color names {len(colors)} variables; leave ax=None")
    values = [None if c is None else u.obs_vector(mdata, c) for c in colors]

    n = len(colors)
    fig, axes, result = u.panels(ax, n, figsize=(4.6 * n + 0.4, 4.0))
    s = size if size is not None else float(np.clip(3000.0 / max(len(scores), 1), 6.0, 60.0))
    for panel, name, vals in zip(axes, colors, values, strict=True):
        _scatter_panel(panel, scores[fx], scores[fy], name, vals, palette, s, alpha, legend, fig)
        panel.set_xlabel(fx)
        panel.set_ylabel(fy)
        _style.style_axes(panel)
    return u.finish(fig, result, save)


def _scatter_panel(ax, xs, ys, name, vals, palette, s, alpha, legend, fig) -> None:
    ok = np.isfinite(xs.to_numpy(dtype=float)) & np.isfinite(ys.to_numpy(dtype=float))
    xs, ys = xs[ok], ys[ok]
    if vals is None:
        ax.scatter(xs, ys, s=s, c="#4c72b0", alpha=alpha, linewidths=0)
        return
    vals = vals.reindex(xs.index)
    if u.is_categorical(vals):
        levels = _style.category_levels(vals)
        cmap = _style.category_colors(levels, palette)
        txt = vals.astype(object).where(vals.notna(), None)
        missing = txt.isna().to_numpy()
        if missing.any():
            ax.scatter(
                xs[missing],
                ys[missing],
                s=s,
                c=_style.NA_COLOR,
                alpha=alpha,
                linewidths=0,
                label=f"NA ({int(missing.sum())})",
            )
        for level in levels:
            sel = (txt.astype(str) == level).to_numpy() & ~missing
            ax.scatter(
                xs[sel], ys[sel], s=s, c=cmap[level], alpha=alpha, linewidths=0, label=f"{level} ({int(sel.sum())})"
            )
        if legend:
            ax.legend(
                title=name,
                fontsize=8,
                title_fontsize=9,
                frameon=False,
                loc="upper left",
                bbox_to_anchor=(1.0, 1.0),
                markerscale=1.3,
            )
            return  # the legend names the variable
    else:
        num = pd.to_numeric(vals, errors="coerce").to_numpy(dtype=float)
        missing = ~np.isfinite(num)
        if missing.any():
            ax.scatter(xs[missing], ys[missing], s=s, c=_style.NA_COLOR, alpha=alpha, linewidths=0)
        cmap = palette if isinstance(palette, str) else "viridis"
        points = ax.scatter(xs[~missing], ys[~missing], s=s, c=num[~missing], cmap=cmap, alpha=alpha, linewidths=0)
        if legend:
            bar = fig.colorbar(points, ax=ax, shrink=0.8, pad=0.01)
            bar.set_label(name, fontsize=9)
    ax.set_title(name, fontsize=10, loc="left")


def top_weights(
    mdata: Any,
    factor: str | int = 1,
    *,
    key: str = _keys.KEY_MOFA,
    views: Sequence[str] | None = None,
    n_top: int = 10,
    scale: bool = True,
    gene_symbols: str | None = None,
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """The features with the largest absolute weights on a factor, one panel per view.

    Parameters
    ----------
    mdata
        MuData with weights in ``mod[view].varm[key]``.
    factor
        The factor, by name or 1-based number.
    key
        Result key of the factor model.
    views
        Views to show (default: every modality holding weights under ``key``).
    n_top
        Number of features per view.
    scale
        Divide each view's weights by their largest absolute value (weights of different views are on
        different scales); the bars then run from -1 to 1.
    gene_symbols
        A ``var`` column holding the labels to show (default: the var names).
    ax
        Draw into this Axes (only with a single view).
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    u.check_ax(ax)
    if not isinstance(n_top, (int, np.integer)) or isinstance(n_top, bool) or n_top < 1:
        raise ValueError(f"n_top must be a positive integer, got {n_top!r}")
    names = _results.factor_names(mdata, key)
    fname = u.resolve_factor(factor, names)
    j = names.index(fname)
    with_weights = [m for m in mdata.mod if key in mdata.mod[m].varm]
    if views is None:
        views = with_weights
        if not views:
            raise MissingResultError(
                f"no modality holds weights in varm[{key!r}]: run hm.tl.mofa(mdata, key_added={key!r}) first"
            )
    else:
        views = [views] if isinstance(views, str) else list(views)
        bad = [v for v in views if v not in with_weights]
        if bad:
            raise ValueError(f"view(s) {bad} hold no weights under varm[{key!r}]; views with weights: {with_weights}")
    if ax is not None and len(views) > 1:
        raise ValueError(f"ax= can hold one panel but {len(views)} views were asked for; pass views=[one] or ax=None")

    n = len(views)
    fig, axes, result = u.panels(ax, n, figsize=(3.3 * n + 0.6, 0.9 + 0.24 * n_top))
    for panel, view in zip(axes, views, strict=True):
        mod = mdata.mod[view]
        w = np.asarray(mod.varm[key], dtype=float)
        if w.ndim != 2 or w.shape[1] <= j:
            raise MissingResultError(f"mod[{view!r}].varm[{key!r}] has shape {w.shape}; no column for {fname}")
        col = w[:, j]
        if gene_symbols is not None:
            if gene_symbols not in mod.var.columns:
                raise KeyError(f"mod[{view!r}].var has no column {gene_symbols!r} (columns: {list(mod.var.columns)})")
            labels = mod.var[gene_symbols].astype(str).to_numpy()
        else:
            labels = np.asarray(mod.var_names, dtype=str)
        finite = np.isfinite(col)
        denom = np.nanmax(np.abs(col[finite])) if scale and finite.any() else 1.0
        denom = denom if denom > 0 else 1.0
        order = np.argsort(-np.abs(np.where(finite, col, 0.0)), kind="stable")[: min(n_top, len(col))]
        vals = col[order] / denom
        # largest at the top
        ypos = np.arange(len(order))[::-1]
        panel.barh(ypos, vals, color=np.where(vals >= 0, "#c0392b", "#2e6fb5"), height=0.7)
        panel.set_yticks(ypos, [u.shorten(lb, 28) for lb in labels[order]], fontsize=8)
        panel.axvline(0.0, color="#555555", linewidth=0.8)
        lim = max(float(np.nanmax(np.abs(vals))) if len(vals) else 1.0, 1e-12) * 1.08
        panel.set_xlim(-lim, lim)
        panel.set_xlabel("scaled weight" if scale else "weight", fontsize=9)
        panel.set_title(f"{fname} · {view}", fontsize=10, loc="left")
        _style.style_axes(panel)
    return u.finish(fig, result, save)


def elbo(
    mdata: Any,
    *,
    key: str = _keys.KEY_MOFA,
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """The evidence lower bound of a factor fit, per training iteration.

    Every iteration is drawn; when the first values sit orders of magnitude away from the last, the axis is a
    symmetric log so that both the early climb and the final plateau stay readable.

    Parameters
    ----------
    mdata
        A store with a fit under ``uns[key]`` that recorded its ELBO (``hm.tl.mofa``).
    key
        The fit's key.
    ax
        Draw into this Axes instead of a new figure.
    save
        Write the figure to this path.

    Returns
    -------
    The new Figure, or ``ax`` when one was given.
    """
    u.check_ax(ax)
    info = _results.model_info(mdata, key)
    values = info.get("elbo")
    if values is None or np.asarray(values).size < 2:
        raise MissingResultError(f"fit {key!r} recorded no ELBO trace (uns[{key!r}]['elbo'])")
    values = np.asarray(values, dtype=float).ravel()
    iterations = np.arange(1, values.size + 1, dtype=float)
    recorded = info.get("elbo_iterations")
    if recorded is not None and np.asarray(recorded).size == values.size:
        iterations = np.asarray(recorded, dtype=float).ravel()
    fig, axes, result = u.panels(ax, 1, (6.0, 2.6))
    ax = axes[0]
    ok = np.isfinite(values)
    ax.plot(iterations[ok], values[ok], color="#3d5a80", linewidth=1.6, marker="." if ok.sum() < 60 else None)
    ax.set_xlabel("iteration")
    ax.set_ylabel("ELBO")
    magnitude = np.abs(values[ok][values[ok] != 0])
    if magnitude.size > 1 and magnitude.max() / magnitude.min() > 10:
        ax.set_yscale("symlog", linthresh=float(magnitude.min()))
        ax.set_ylabel("ELBO (symmetric log scale)")
    converged = info.get("converged")
    if converged is not None:
        n_iter = info.get("n_iterations")
        n = int(n_iter) if n_iter is not None else int(iterations[-1])
        state = "converged" if bool(converged) else "not converged"
        ax.set_title(f"{state} after {n} iterations", fontsize=10, loc="left")
    _style.style_axes(ax)
    return u.finish(fig, result, save)


def factors_by_group(
    mdata: Any,
    groupby: str,
    *,
    key: str = _keys.KEY_MOFA,
    factors: Sequence[str] | None = None,
    palette: Mapping[str, str] | Sequence[str] | None = None,
    save: str | PathLike | None = None,
) -> Any:
    """Every factor's scores per group of an obs column: box (quartiles, whiskers 1.5 IQR) and the samples.

    Parameters
    ----------
    mdata
        A store with a factor fit under ``key``.
    groupby
        A categorical obs column (e.g. ``"pam50"``, ``"immune_class"``).
    key
        The fit's key.
    factors
        Factors to draw (default: all), one panel each, five per row.
    palette
        Colours per level (mapping or sequence); default the PAM50 / immune colours, else a qualitative cycle.
    save
        Write the figure to this path.

    Returns
    -------
    The Figure.
    """
    import matplotlib.pyplot as plt

    scores = _results.factor_scores(mdata, key)
    names = _results.select(factors, list(scores.columns), "factor")
    groups = u.obs_vector(mdata, groupby).reindex(scores.index).astype(object)
    levels = _style.category_levels(groups)
    if not levels:
        raise ValueError(f"obs[{groupby!r}] has no value for any sample of fit {key!r}")
    colors = _style.category_colors(levels, palette)
    ncol = min(len(names), 5)
    nrow = int(np.ceil(len(names) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.3 * ncol, 2.1 * nrow + 0.2), layout="constrained", squeeze=False)
    rng = np.random.default_rng(0)  # jitter only; fixed so that the figure is reproducible
    text = groups.astype(str).where(groups.notna(), None)
    for ax, factor in zip(axes.ravel(), names, strict=False):
        data = [scores.loc[(text == lv).to_numpy(), factor].dropna().to_numpy() for lv in levels]
        parts = ax.boxplot(
            data, patch_artist=True, widths=0.6, showfliers=False, medianprops={"color": "black", "linewidth": 1.2}
        )
        for patch, lv in zip(parts["boxes"], levels, strict=True):
            patch.set_facecolor(colors[lv])
            patch.set_alpha(0.55)
            patch.set_edgecolor("#333333")
        for i, d in enumerate(data):
            jitter = rng.uniform(-0.18, 0.18, d.size)
            ax.scatter(i + 1 + jitter, d, s=4, color=colors[levels[i]], alpha=0.8, linewidths=0)
        ax.set_xticks(range(1, len(levels) + 1), levels, rotation=45, ha="right", fontsize=8)
        ax.set_title(factor, fontsize=9, loc="left")
        _style.style_axes(ax)
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    return u.finish(fig, fig, save)
