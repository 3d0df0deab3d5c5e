"""Figures of a DIABLO fit: sample plots, loadings, correlation circle, circos-style network, clustered heatmap.

Every number drawn comes from the store (variates, loadings) or from the ``hm.tl.diablo_*`` tables; nothing is
computed here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import MissingResultError
from . import _utils as u

logger = logging.getLogger(__name__)

POSITIVE, NEGATIVE = "#c0392b", "#2e6fb5"


def _fit(mdata: Any, key: str) -> Mapping[str, Any]:
    from .. import tl

    tl.diablo_selected(mdata, key=key)  # checks the fit; raises MissingResultError naming hm.tl.diablo
    return mdata.uns[key]


def _blocks(info: Mapping[str, Any]) -> list[str]:
    return [str(b) for b in np.asarray(info["blocks"], dtype=object).ravel()]


def _block_colors(blocks: Sequence[str], palette: Any = None) -> dict[str, str]:
    return u.category_colors(list(blocks), palette)


def _component(value: Any, info: Mapping[str, Any]) -> int:
    """A component given by number (``2``) or name (``"comp2"``) → its number, checked against the fit."""
    names = [f"comp{i + 1}" for i in range(int(info.get("n_components") or 0))]
    return int(u.resolve_factor(value, names)[len("comp") :])


def _variates(mdata: Any, key: str, where: str | None) -> pd.DataFrame:
    """A block's variates (``mod[where].obsm[key]``) or the consensus (``obsm[key]``, ``where=None``)."""
    holder = mdata if where is None else mdata.mod[where]
    slot = f"mdata.obsm[{key!r}]" if where is None else f"mod[{where!r}].obsm[{key!r}]"
    if key not in holder.obsm:
        raise MissingResultError(f"no DIABLO variates in {slot}; run hm.tl.diablo(mdata, key_added={key!r})")
    value = holder.obsm[key]
    frame = value.copy() if isinstance(value, pd.DataFrame) else pd.DataFrame(np.asarray(value, dtype=float))
    if not isinstance(value, pd.DataFrame):
        frame.columns = [f"comp{i + 1}" for i in range(frame.shape[1])]
    frame.index = holder.obs_names.astype(str)
    return frame.astype(float)


# ---------------------------------------------------------------------------------------------------------------
def diablo_samples(
    mdata: Any,
    *,
    key: str = _keys.KEY_DIABLO,
    x: int | str = 1,
    y: int | str = 2,
    blocks: Sequence[str] | None = None,
    consensus: bool = True,
    color: str | None = None,
    palette: Mapping[str, str] | Sequence[str] | str | None = None,
    size: float | None = None,
    alpha: float = 0.85,
    legend: bool = True,
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """Samples on two DIABLO components: one panel per block's variates, and one for the consensus.

    Parameters
    ----------
    mdata
        MuData with a fit of ``hm.tl.diablo`` under ``key``.
    key
        Result key of the fit.
    x, y
        Components on the axes (1-based number or ``"comp1"``).
    blocks
        Blocks to show (default: every block of the fit).
    consensus
        Add a panel of the consensus variates (``obsm[key]``, the mean of each sample's block variates).
    color
        The per-sample variable that colours the points (default: the fit's label, e.g. ``"pam50"``): an ``obs``
        column or a column of an obsm DataFrame; categories get a legend, numbers a colour bar.
    palette
        Colours for the classes: a ``{level: colour}`` dict, a list, or a colormap name.
    size
        Marker size (default from the number of samples).
    alpha
        Marker opacity.
    legend
        Draw the legend (on the last panel).
    ax
        Draw into this Axes (only when a single panel is asked for).
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    u.check_ax(ax)
    info = _fit(mdata, key)
    cx, cy = _component(x, info), _component(y, info)
    fit_blocks = _blocks(info)
    shown = fit_blocks if blocks is None else ([blocks] if isinstance(blocks, str) else list(blocks))
    bad = [b for b in shown if b not in fit_blocks]
    if bad:
        raise ValueError(f"block(s) {bad} are not blocks of the DIABLO fit {key!r}: {fit_blocks}")
    where: list[str | None] = [*shown, *([None] if consensus else [])]
    if not where:
        raise ValueError("nothing to draw: no block and consensus=False")
    if ax is not None and len(where) > 1:
        raise ValueError(f"ax= can hold one panel but {len(where)} are asked for; pass blocks=[one] or ax=None")
    name = color or str(info.get("label", _keys.KEY_PAM50))
    values = u.obs_vector(mdata, name).copy()
    values.index = mdata.obs_names.astype(str)
    categorical = u.is_categorical(values)
    levels = u.category_levels(values) if categorical else []
    colors = u.category_colors(levels, palette)

    n = len(where)
    fig, axes, result = u.panels(ax, n, figsize=(3.6 * n + 1.2, 3.6))
    for i, (panel, block) in enumerate(zip(axes, where, strict=True)):
        variates = _variates(mdata, key, block)
        for c in (cx, cy):
            if f"comp{c}" not in variates.columns:
                raise MissingResultError(f"the DIABLO fit {key!r} has no component comp{c}")
        xs, ys = variates[f"comp{cx}"], variates[f"comp{cy}"]
        ok = np.isfinite(xs.to_numpy()) & np.isfinite(ys.to_numpy())
        xs, ys = xs[ok], ys[ok]
        labels = values.reindex(xs.index).astype(object)
        s = size if size is not None else float(np.clip(3000.0 / max(len(xs), 1), 6.0, 50.0))
        missing = labels.isna().to_numpy()
        if missing.any():
            panel.scatter(xs[missing], ys[missing], s=s, c=u.NA_COLOR, alpha=alpha, linewidths=0, label="NA")
        if not categorical:  # a number per sample: a colour scale
            numbers = labels[~missing].astype(float).to_numpy()
            cmap = palette if isinstance(palette, str) else "viridis"
            points = panel.scatter(
                xs[~missing], ys[~missing], s=s, c=numbers, cmap=cmap, alpha=alpha, linewidths=0, label=name
            )
            if legend and i == n - 1:
                u.colorbar(fig, points, panel, name, shrink=0.8)
        for level in levels:
            sel = (labels.astype(str) == level).to_numpy() & ~missing
            panel.scatter(xs[sel], ys[sel], s=s, c=colors[level], alpha=alpha, linewidths=0, label=level)
        panel.set_xlabel(f"comp{cx}", fontsize=9)
        panel.set_ylabel(f"comp{cy}", fontsize=9)
        title = "consensus" if block is None else block
        panel.set_title(f"{title} (n={len(xs)})", fontsize=10, loc="left")
        u.style_axes(panel)
        if legend and categorical and i == n - 1:
            panel.legend(
                title=name, fontsize=8, title_fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1, 1)
            )
    return u.finish(fig, result, save)


def diablo_loadings(
    mdata: Any,
    *,
    block: str,
    key: str = _keys.KEY_DIABLO,
    component: int | str = 1,
    contrib: str = "max",
    method: str = "mean",
    n_top: int | None = None,
    palette: Mapping[str, str] | Sequence[str] | str | None = None,
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """Loadings of the features selected on one block and component, coloured by the class they characterise.

    As mixOmics ``plotLoadings(contrib="max")``: each bar is a selected feature's loading (largest ``|loading|``
    at the top), coloured by the class where the feature's mean (``method``) is highest (``contrib="max"``)
    or lowest (``"min"``) — the table of :func:`harmonomics.tl.diablo_contributions`.

    Parameters
    ----------
    mdata
        MuData with a fit of ``hm.tl.diablo`` under ``key``.
    block
        The block (modality).
    key
        Result key of the fit.
    component
        The component (1-based number or ``"comp1"``).
    contrib, method
        See :func:`harmonomics.tl.diablo_contributions`.
    n_top
        Show only the ``n_top`` largest loadings (default: every selected feature).
    palette
        Colours for the classes.
    ax
        Draw into this Axes.
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    from matplotlib.patches import Patch

    from .. import tl

    u.check_ax(ax)
    info = _fit(mdata, key)
    comp = _component(component, info)
    table = tl.diablo_contributions(mdata, key=key, block=block, component=comp, contrib=contrib, method=method)
    if table.empty:
        raise MissingResultError(f"the DIABLO fit {key!r} selected no feature of block {block!r} on comp{comp}")
    if n_top is not None:
        if not isinstance(n_top, (int, np.integer)) or isinstance(n_top, bool) or n_top < 1:
            raise ValueError(f"n_top must be a positive integer, got {n_top!r}")
        table = table.iloc[:n_top]
    classes = [str(c) for c in table["contributes"].cat.categories]
    colors = u.category_colors(classes, palette)
    fig, (panel,), result = u.panels(ax, 1, figsize=(5.2, 0.9 + 0.22 * len(table)))
    ypos = np.arange(len(table))[::-1]
    bar_colors = [colors[str(c)] if isinstance(c, str) else u.NA_COLOR for c in table["contributes"].astype(object)]
    panel.barh(ypos, table["loading"].to_numpy(float), color=bar_colors, height=0.75)
    panel.set_yticks(ypos, [u.shorten(f, 28) for f in table["feature"]], fontsize=8)
    panel.axvline(0.0, color="#555555", linewidth=0.8)
    panel.set_xlabel("loading", fontsize=9)
    panel.set_title(f"{block} · comp{comp}", fontsize=10, loc="left")
    present = [c for c in classes if (table["contributes"].astype(object) == c).any()]
    handles = [Patch(color=colors[c], label=c) for c in present]
    panel.legend(
        handles=handles,
        title=f"{method} {contrib}",
        fontsize=8,
        title_fontsize=9,
        frameon=False,
        loc="upper left",
        bbox_to_anchor=(1, 1),
    )
    u.style_axes(panel)
    return u.finish(fig, result, save)


def diablo_circle(
    mdata: Any,
    *,
    key: str = _keys.KEY_DIABLO,
    x: int | str = 1,
    y: int | str = 2,
    labels: bool = True,
    palette: Mapping[str, str] | Sequence[str] | str | None = None,
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """Correlation circle: each selected feature at its correlations with its block's variates on two components.

    Points are the ``variates`` table of :func:`harmonomics.tl.diablo_correlations` (features selected on
    ``x`` or ``y``), coloured by block; circles of radius 1 and 0.5 as in mixOmics ``plotVar``.

    Parameters
    ----------
    mdata
        MuData with a fit of ``hm.tl.diablo`` under ``key``.
    key
        Result key of the fit.
    x, y
        Components on the axes.
    labels
        Write the feature names beside the points.
    palette
        Colours for the blocks.
    ax
        Draw into this Axes.
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    from .. import tl

    u.check_ax(ax)
    info = _fit(mdata, key)
    cx, cy = _component(x, info), _component(y, info)
    table = tl.diablo_correlations(mdata, key=key, components=(cx, cy)).variates
    wide = table.set_index(["block", "feature", "component"])["correlation"].unstack("component")
    blocks = [b for b in _blocks(info) if b in wide.index.get_level_values("block")]
    colors = _block_colors(_blocks(info), palette)
    fig, (panel,), result = u.panels(ax, 1, figsize=(5.4, 4.6))
    theta = np.linspace(0, 2 * np.pi, 361)
    for radius in (1.0, 0.5):
        panel.plot(radius * np.cos(theta), radius * np.sin(theta), color="#888888", linewidth=0.8)
    panel.axhline(0, color="#bbbbbb", linewidth=0.6)
    panel.axvline(0, color="#bbbbbb", linewidth=0.6)
    for block in blocks:
        sub = wide.xs(block, level="block")
        xs, ys = sub[cx].to_numpy(float), sub[cy].to_numpy(float)
        panel.scatter(xs, ys, s=22, c=colors[block], label=block, linewidths=0, zorder=3)
        if labels:
            for name, px, py in zip(sub.index, xs, ys, strict=True):
                if np.isfinite(px) and np.isfinite(py):
                    panel.annotate(
                        u.shorten(str(name), 18),
                        (px, py),
                        fontsize=6.5,
                        color=colors[block],
                        xytext=(3, 2),
                        textcoords="offset points",
                    )
    panel.set_xlim(-1.08, 1.08)
    panel.set_ylim(-1.08, 1.08)
    panel.set_aspect("equal")
    panel.set_xlabel(f"correlation with comp{cx}", fontsize=9)
    panel.set_ylabel(f"correlation with comp{cy}", fontsize=9)
    panel.legend(title="block", fontsize=8, title_fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    u.style_axes(panel)
    return u.finish(fig, result, save)


def diablo_network(
    mdata: Any,
    *,
    key: str = _keys.KEY_DIABLO,
    components: Sequence[int] | int = (1, 2),
    cutoff: float = 0.7,
    labels: bool = True,
    palette: Mapping[str, str] | Sequence[str] | str | None = None,
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """Circos-style network: selected features on a circle grouped by block, chords between correlated features.

    Features selected on ``components`` sit on the circle, each block on its own coloured arc; a chord joins
    two features of different blocks whose correlation (the ``features`` table of
    :func:`harmonomics.tl.diablo_correlations`) has ``|r| >= cutoff`` — red for positive, blue for negative,
    wider for stronger.

    Parameters
    ----------
    mdata
        MuData with a fit of ``hm.tl.diablo`` under ``key``.
    key
        Result key of the fit.
    components
        Components whose selected features are shown.
    cutoff
        Smallest ``|r|`` drawn as a chord.
    labels
        Write the feature names around the circle.
    palette
        Colours for the blocks.
    ax
        Draw into this Axes.
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    from .. import tl

    u.check_ax(ax)
    info = _fit(mdata, key)
    comps = [components] if isinstance(components, (int, np.integer, str)) else list(components)
    comps = [_component(c, info) for c in comps]
    corr = tl.diablo_correlations(mdata, key=key, components=comps, cutoff=cutoff)
    selected = tl.diablo_selected(mdata, key=key)
    selected = selected[selected["component"].isin(comps)]
    blocks = [b for b in _blocks(info) if (selected["block"] == b).any()]
    nodes = [(b, f) for b in blocks for f in dict.fromkeys(selected.loc[selected["block"] == b, "feature"])]
    if not nodes:
        raise MissingResultError(f"the DIABLO fit {key!r} selected no feature on component(s) {comps}")
    colors = _block_colors(_blocks(info), palette)
    gap = 2 * np.pi * 0.04  # between blocks
    step = (2 * np.pi - gap * len(blocks)) / len(nodes)
    angle: dict[tuple[str, str], float] = {}
    arcs: dict[str, tuple[float, float]] = {}
    position = np.pi / 2
    for block in blocks:
        start = position
        for b, f in nodes:
            if b == block:
                angle[(b, f)] = position + step / 2
                position += step
        arcs[block] = (start, position)
        position += gap

    fig, (panel,), result = u.panels(ax, 1, figsize=(6.4, 6.4))
    for block, (a0, a1) in arcs.items():
        t = np.linspace(a0, a1, max(int((a1 - a0) / 0.02), 2))
        panel.plot(np.cos(t), np.sin(t), color=colors[block], linewidth=7, solid_capstyle="butt", label=block)
        mid = (a0 + a1) / 2
        panel.text(
            1.45 * np.cos(mid), 1.45 * np.sin(mid), block, ha="center", va="center", fontsize=10, fontweight="bold"
        )
    strongest = max(float(corr.features["correlation"].abs().max()) if len(corr.features) else 1.0, 1e-12)
    for row in corr.features.itertuples(index=False):
        a, b = angle[(row.block_a, row.feature_a)], angle[(row.block_b, row.feature_b)]
        r = 0.96
        path = Path(
            [(r * np.cos(a), r * np.sin(a)), (0.0, 0.0), (r * np.cos(b), r * np.sin(b))],
            [Path.MOVETO, Path.CURVE3, Path.CURVE3],
        )
        width = 0.4 + 2.0 * abs(row.correlation) / strongest
        panel.add_patch(
            PathPatch(
                path,
                facecolor="none",
                edgecolor=POSITIVE if row.correlation > 0 else NEGATIVE,
                linewidth=width,
                alpha=0.55,
                gid=f"{row.block_a}:{row.feature_a}|{row.block_b}:{row.feature_b}",
            )
        )
    if labels:
        for (block, feature), a in angle.items():
            degrees = np.degrees(a) % 360
            flip = 90 < degrees < 270
            panel.text(
                1.06 * np.cos(a),
                1.06 * np.sin(a),
                u.shorten(feature, 18),
                rotation=degrees + (180 if flip else 0),
                rotation_mode="anchor",
                ha="right" if flip else "left",
                va="center",
                fontsize=6.5,
                color=colors[block],
            )
    panel.set_xlim(-1.6, 1.6)
    panel.set_ylim(-1.6, 1.6)
    panel.set_aspect("equal")
    panel.axis("off")
    comps_text = ", ".join(f"comp{c}" for c in comps)
    panel.set_title(f"{comps_text}: |r| ≥ {cutoff:g} between blocks ({len(corr.features)} links)", fontsize=10)
    return u.finish(fig, result, save)


def diablo_heatmap(
    mdata: Any,
    *,
    key: str = _keys.KEY_DIABLO,
    components: Sequence[int] | int | None = None,
    method: str = "complete",
    metric: str = "euclidean",
    vmax: float = 3.0,
    cmap: str = "RdBu_r",
    palette: Mapping[str, str] | Sequence[str] | str | None = None,
    feature_labels: bool | None = None,
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """Clustered heatmap of the selected features × samples, samples annotated by class and features by block.

    The matrix, its order and both dendrograms are :func:`harmonomics.tl.diablo_clustered` (z-scores over the
    samples having every block, hierarchical clustering with scipy).

    Parameters
    ----------
    mdata
        MuData with a fit of ``hm.tl.diablo`` under ``key``.
    key
        Result key of the fit.
    components
        Features selected on any of these components (default: all).
    method, metric
        Linkage method and distance (:func:`scipy.cluster.hierarchy.linkage`).
    vmax
        Colour scale limit (z-scores beyond ±vmax saturate).
    cmap
        Diverging colormap.
    palette
        Colours for the classes.
    feature_labels
        Write the feature names (default: when there are at most 60 features).
    ax
        Draw only the matrix into this Axes (no dendrograms or annotation strips).
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch
    from scipy.cluster import hierarchy

    from .. import tl

    u.check_ax(ax)
    info = _fit(mdata, key)
    clustered = tl.diablo_clustered(mdata, key=key, components=components, method=method, metric=metric)
    matrix = clustered.matrix
    n_features, n_samples = matrix.shape
    show_names = feature_labels if feature_labels is not None else n_features <= 60
    row_names = [u.shorten(f, 24) for f in matrix.index.get_level_values("feature")]

    if ax is not None:
        fig, heat, result = ax.figure, ax, ax
    else:
        fig = plt.figure(figsize=(8.0, 2.2 + 0.16 * n_features), layout="constrained")
        grid = fig.add_gridspec(
            3, 3, width_ratios=[1.2, 0.25, 8.0], height_ratios=[1.2, 0.3, max(n_features * 0.16, 1.0)]
        )
        top = fig.add_subplot(grid[0, 2])
        classes_ax = fig.add_subplot(grid[1, 2])
        left = fig.add_subplot(grid[2, 0])
        blocks_ax = fig.add_subplot(grid[2, 1])
        heat = fig.add_subplot(grid[2, 2])
        result = fig
        with plt.rc_context({"lines.linewidth": 0.6}):
            hierarchy.dendrogram(
                clustered.sample_linkage, ax=top, no_labels=True, color_threshold=0, above_threshold_color="#555555"
            )
            if len(clustered.feature_linkage):
                hierarchy.dendrogram(
                    clustered.feature_linkage,
                    ax=left,
                    orientation="left",
                    no_labels=True,
                    color_threshold=0,
                    above_threshold_color="#555555",
                )
        for a in (top, left):
            a.axis("off")
        left.invert_yaxis()  # the dendrogram's first leaf at the top, as the matrix rows
        # class strip
        labels = clustered.labels.astype(object)
        levels = u.category_levels(mdata.obs[str(info.get("label", _keys.KEY_PAM50))])
        colors = u.category_colors(levels, palette)
        codes = np.array([levels.index(str(v)) if isinstance(v, str) and v in levels else -1 for v in labels])
        strip = np.ma.masked_less(codes[None, :], 0)
        classes_ax.imshow(
            strip,
            aspect="auto",
            cmap=ListedColormap([colors[lv] for lv in levels]),
            vmin=0,
            vmax=max(len(levels) - 1, 1),
            interpolation="nearest",
        )
        classes_ax.set_xticks([])
        classes_ax.set_yticks([0], [str(info.get("label", "class"))], fontsize=8)
        classes_ax.legend(
            handles=[Patch(color=colors[lv], label=lv) for lv in levels],
            fontsize=7,
            frameon=False,
            loc="lower left",
            bbox_to_anchor=(1.0, 0.0),
        )
        # block strip
        blocks = _blocks(info)
        block_colors = _block_colors(blocks)
        top.legend(
            handles=[Patch(color=block_colors[b], label=b) for b in blocks],
            title="block",
            fontsize=7,
            title_fontsize=8,
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
        )
        block_codes = np.array([blocks.index(b) for b in matrix.index.get_level_values("block")])
        blocks_ax.imshow(
            block_codes[:, None],
            aspect="auto",
            cmap=ListedColormap([block_colors[b] for b in blocks]),
            vmin=0,
            vmax=max(len(blocks) - 1, 1),
            interpolation="nearest",
        )
        blocks_ax.set_xticks([0], ["block"], fontsize=8, rotation=90)
        blocks_ax.set_yticks([])
    image = heat.imshow(
        matrix.to_numpy(float), aspect="auto", cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest"
    )
    heat.set_xticks([])
    heat.set_xlabel(f"{n_samples} samples", fontsize=9)
    if show_names:
        heat.set_yticks(range(n_features), row_names, fontsize=6.5)
        heat.yaxis.tick_right()
    else:
        heat.set_yticks([])
    u.colorbar(fig, image, heat, "z-score", shrink=0.6)
    return u.finish(fig, result, save)
