"""Cohort overview: which omics each sample has."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from .. import _style, tl
from . import _utils as u

logger = logging.getLogger(__name__)


def omics_overview(
    mdata: Any,
    *,
    kind: str = "upset",
    groupby: str | None = None,
    palette: Mapping[str, str] | Sequence[str] | str | None = None,
    max_combinations: int = 20,
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """Which omics each sample has.

    ``kind="upset"``: an UpSet-style figure — one bar per combination of omics (how many samples have
    exactly that combination), the combination as dots below, and the number of samples per omic on
    the left. ``kind="matrix"``: a samples × omics presence grid.

    Parameters
    ----------
    mdata
        MuData; a sample absent from a modality counts as not measured in that omic.
    kind
        ``"upset"`` or ``"matrix"``.
    groupby
        An obs column (e.g. ``"split"`` or ``"pam50"``) stacking the combination bars (``upset``) or
        drawn as a strip beside the grid (``matrix``).
    palette
        Colours for the ``groupby`` levels.
    max_combinations
        ``upset``: show at most this many combinations (the most frequent ones).
    ax
        Draw into this Axes (``kind="matrix"`` only; the UpSet figure needs several panels).
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    u.check_ax(ax)
    if kind not in ("upset", "matrix"):
        raise ValueError(f"kind must be 'upset' or 'matrix', got {kind!r}")
    if (
        not isinstance(max_combinations, (int, np.integer))
        or isinstance(max_combinations, bool)
        or max_combinations < 1
    ):
        raise ValueError(f"max_combinations must be a positive integer, got {max_combinations!r}")
    if kind == "upset" and ax is not None:
        raise ValueError("kind='upset' draws several panels and cannot use ax=; pass kind='matrix' or ax=None")
    presence = tl.omics_presence(mdata)
    group = None
    if groupby is not None:
        values = u.obs_vector(mdata, groupby)
        if not u.is_categorical(values):
            raise ValueError(f"groupby={groupby!r} is numeric; omics_overview groups by a categorical obs column")
        levels = _style.category_levels(values)
        group = values.astype(object).where(values.notna(), "NA").astype(str)
        if (group == "NA").any():
            levels = [*levels, "NA"]
        colors = _style.category_colors([lv for lv in levels if lv != "NA"], palette)
        colors["NA"] = _style.NA_COLOR
    if kind == "upset":
        fig = _upset(
            presence,
            group,
            levels if group is not None else None,
            colors if group is not None else None,
            groupby,
            int(max_combinations),
        )
        return u.finish(fig, fig, save)
    return _matrix(
        presence, group, levels if group is not None else None, colors if group is not None else None, groupby, ax, save
    )


def _patterns(presence: pd.DataFrame) -> tuple[pd.Series, list[tuple[bool, ...]]]:
    keys = [tuple(row) for row in presence.to_numpy()]
    pattern = pd.Series(keys, index=presence.index)
    counts = pattern.value_counts()
    order = sorted(counts.index, key=lambda p: (-counts[p], -sum(p)))
    return pattern, order


def _upset(presence, group, levels, colors, groupby, max_combinations):
    import matplotlib.pyplot as plt

    mods = list(presence.columns)
    pattern, order = _patterns(presence)
    n_all = len(order)
    order = order[:max_combinations]
    n_pat, n_mod = len(order), len(mods)
    fig = plt.figure(figsize=(3.6 + 0.55 * max(n_pat, 3), 2.8 + 0.32 * n_mod), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1.6, max(n_pat, 1) * 0.55], height_ratios=[2.4, 0.32 * n_mod + 0.2])
    bars = fig.add_subplot(grid[0, 1])
    dots = fig.add_subplot(grid[1, 1], sharex=bars)
    sizes = fig.add_subplot(grid[1, 0], sharey=dots)
    x = np.arange(n_pat)
    if group is None:
        heights = np.array([(pattern == p).sum() for p in order])
        bars.bar(x, heights, color="#3d5a80", width=0.65)
    else:
        bottom = np.zeros(n_pat)
        for lv in levels:
            h = np.array([((pattern == p) & (group == lv)).sum() for p in order], dtype=float)
            bars.bar(x, h, bottom=bottom, color=colors[lv], width=0.65, label=lv)
            bottom += h
        heights = bottom
        bars.legend(title=groupby, fontsize=8, title_fontsize=9, frameon=False, loc="upper right")
    for xi, h in zip(x, heights, strict=True):
        bars.text(xi, h, f"{int(h)}", ha="center", va="bottom", fontsize=8)
    bars.set_ylabel("samples with exactly\nthese omics", fontsize=9)
    bars.tick_params(axis="x", labelbottom=False, length=0)
    bars.set_ylim(0, max(heights.max(), 1) * 1.15)
    _style.style_axes(bars)
    shown = "" if n_all <= len(order) else f"; the {len(order)} most frequent of {n_all} combinations"
    fig.suptitle(f"Omics per sample ({len(presence)} samples{shown})", fontsize=10, x=0.02, ha="left")

    for yi in range(n_mod):
        if yi % 2 == 0:
            dots.axhspan(yi - 0.5, yi + 0.5, color="#f2f2f2", zorder=0)
    for xi, p in enumerate(order):
        on = [yi for yi, flag in enumerate(p) if flag]
        dots.scatter([xi] * n_mod, range(n_mod), s=55, color="#d9d9d9", zorder=1)
        if on:
            dots.scatter([xi] * len(on), on, s=55, color="#1b1b1b", zorder=2)
            if len(on) > 1:
                dots.plot([xi, xi], [min(on), max(on)], color="#1b1b1b", linewidth=2, zorder=2)
    dots.set_ylim(n_mod - 0.5, -0.5)
    dots.set_xlim(-0.6, n_pat - 0.4)
    dots.tick_params(axis="both", length=0, labelleft=False, labelbottom=False)
    _style.hide_spines(dots)

    totals = presence.sum(axis=0).to_numpy()
    sizes.barh(range(n_mod), totals, color="#7d8fa3", height=0.55)
    for yi, tot in enumerate(totals):
        sizes.text(tot, yi, f"{int(tot)} ", ha="right", va="center", fontsize=8, color="#333333")
    sizes.set_yticks(range(n_mod), mods, fontsize=9)
    sizes.yaxis.tick_right()
    sizes.set_xlim(max(float(totals.max()), 1.0) * 1.35, 0)  # reversed: bars grow leftwards
    sizes.set_xlabel("samples per omic", fontsize=9)
    _style.hide_spines(sizes, ("top", "left", "right"))
    sizes.tick_params(axis="y", length=0, labelsize=9)
    sizes.tick_params(axis="x", labelsize=8)
    return fig


def _matrix(presence, group, levels, colors, groupby, ax, save):
    from matplotlib.colors import ListedColormap

    pattern, order = _patterns(presence)
    rank = {p: i for i, p in enumerate(order)}
    sort_key = pattern.map(rank)
    if group is not None:
        sort_key = sort_key * 1000 + group.map({lv: i for i, lv in enumerate(levels)})
    idx = np.argsort(sort_key.to_numpy(), kind="stable")
    mat = presence.to_numpy()[idx].T.astype(float)
    fig, (ax_,), result = u.panels(ax, 1, figsize=(7.5, 0.9 + 0.35 * presence.shape[1]))
    ax_.imshow(mat, aspect="auto", cmap=ListedColormap(["#eeeeee", "#3d5a80"]), vmin=0, vmax=1, interpolation="nearest")
    ax_.set_yticks(range(presence.shape[1]), list(presence.columns), fontsize=9)
    ax_.set_xlabel(f"samples (n={presence.shape[0]}), sorted by omics combination")
    ax_.set_xticks([])
    if group is not None:
        strip = ax_.inset_axes([0.0, 1.02, 1.0, 0.08], sharex=ax_)
        codes = group.to_numpy()[idx]
        strip.imshow(
            np.array([[levels.index(c) for c in codes]]),
            aspect="auto",
            cmap=ListedColormap([colors[lv] for lv in levels]),
            vmin=-0.5,
            vmax=len(levels) - 0.5,
            interpolation="nearest",
        )
        strip.set_yticks([0], [groupby], fontsize=8)
        strip.set_xticks([])
        from matplotlib.patches import Patch

        ax_.legend(
            handles=[Patch(color=colors[lv], label=lv) for lv in levels],
            fontsize=8,
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            title=groupby,
            title_fontsize=8,
        )
    return u.finish(fig, result, save)
