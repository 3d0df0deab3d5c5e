"""Kaplan–Meier curves with a number-at-risk table, drawn from :func:`harmonomics.tl.kaplan_meier`.

Every number shown (curves, confidence bands, numbers at risk, the log-rank p-value) comes from the
tidy table of ``hm.tl.kaplan_meier``; this module only draws it."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from .. import _keys, _style
from . import _utils as u

logger = logging.getLogger(__name__)

DAYS_PER_YEAR = 365.25


def kaplan_meier(
    mdata: Any,
    groupby: str = "pam50",
    *,
    time: str = "os_time",
    event: str = "os_event",
    key: str = _keys.KEY_MOFA,
    quantile: float | Sequence[float] = 0.5,
    years: bool = True,
    risk_table: bool = True,
    ci: bool = False,
    palette: Mapping[str, str] | Sequence[str] | str | None = None,
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """Kaplan–Meier survival curves per group, with the log-rank p-value and a number-at-risk table.

    Parameters
    ----------
    mdata
        MuData with follow-up in ``obs[time]`` (days) and ``obs[event]`` (1 = death, 0 = censored).
    groupby
        The grouping: a categorical per-sample variable (``"pam50"``, ``"immune_class"``, an obsm
        DataFrame column as ``"<obsm key>:<column>"``), or a factor (``"Factor3"``) / numeric variable,
        split at ``quantile`` into a low and a high group (see :func:`harmonomics.tl.kaplan_meier`).
    time, event
        obs columns of follow-up time in days and the event indicator.
    key
        Result key of the factor model (when ``groupby`` is a factor).
    quantile
        Quantile at which a numeric ``groupby`` is split (0.5: the median), or a pair such as
        ``(1/3, 2/3)`` to compare the bottom and top groups.
    years
        Show time in years (days / 365.25) instead of days.
    risk_table
        Draw the number of samples at risk below the curves.
    ci
        Shade the 95% confidence band of each curve.
    palette
        Colours for the groups (dict, list or colormap name).
    ax
        Draw the curves into this Axes (the risk table goes into an inset below it).
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    import matplotlib.pyplot as plt

    u.check_ax(ax)
    from .. import tl

    curves = tl.kaplan_meier(mdata, groupby, key=key, time=time, event=event, quantile=quantile)
    split = bool(curves["threshold"].astype(str).str.len().gt(0).any())
    groups = list(dict.fromkeys(curves["group"]))
    names = {g: (f"{groupby} {g}" if split else g) for g in groups}
    if palette is None and split:
        palette = {names[g]: ("#2e6fb5" if g == "low" else "#c0392b") for g in groups}
    colors = dict(zip(groups, _style.category_colors([names[g] for g in groups], palette).values(), strict=True))
    scale = DAYS_PER_YEAR if years else 1.0
    curves = curves.assign(t=curves["time"] / scale)

    if ax is None:
        table_h = 0.2 * len(groups) + 0.35
        height = 3.4 + (table_h if risk_table else 0.0)
        fig = plt.figure(figsize=(5.0, height), layout="constrained")
        if risk_table:
            grid = fig.add_gridspec(2, 1, height_ratios=[3.4, table_h])
            main = fig.add_subplot(grid[0])
            table_ax = fig.add_subplot(grid[1], sharex=main)
        else:
            main = fig.add_subplot()
        result = fig
    else:
        fig, main, result = ax.figure, ax, ax
        if risk_table:
            h = 0.07 * len(groups) + 0.06
            table_ax = main.inset_axes([0.0, -0.22 - h, 1.0, h], sharex=main)

    for g in groups:
        sub = curves[curves["group"] == g]
        label = f"{names[g]} (n={int(sub['n'].iloc[0])}, {int(sub['n_events'].iloc[0])} events)"
        main.step(sub["t"], sub["survival"], where="post", color=colors[g], linewidth=1.8, label=label)
        if ci:
            main.fill_between(sub["t"], sub["ci_lower"], sub["ci_upper"], step="post", color=colors[g], alpha=0.15)
        censored = sub[sub["censored"] > 0]
        if len(censored):
            main.plot(censored["t"], censored["survival"], "|", color=colors[g], markersize=6, markeredgewidth=1.0)
    main.set_ylim(-0.02, 1.04)
    main.set_xlim(left=0.0)
    main.set_ylabel("survival probability")
    main.set_xlabel("time (years)" if years else "time (days)")
    _style.style_axes(main)
    if len(groups) > 1:
        pvalue = float(curves["logrank_pvalue"].iloc[0])
        main.set_title(f"log-rank p = {_fmt_p(pvalue)}", fontsize=9, loc="right")
    main.legend(fontsize=8, frameon=False, loc="best", title=groupby, title_fontsize=9)
    main.set_title(f"Overall survival by {groupby}", fontsize=10, loc="left")

    if risk_table:
        ticks = [x for x in main.get_xticks() if 0 <= x <= curves["t"].max() * 1.0001]
        main.set_xticks(ticks)
        for row, g in enumerate(groups):
            sub = curves[curves["group"] == g]
            for x in ticks:
                table_ax.text(x, row, str(_at_risk(sub, x)), ha="center", va="center", fontsize=8, color=colors[g])
        table_ax.set_ylim(len(groups) - 0.5, -0.5)
        table_ax.set_yticks(range(len(groups)), [u.shorten(names[g], 18) for g in groups], fontsize=8)
        for label, g in zip(table_ax.get_yticklabels(), groups, strict=True):
            label.set_color(colors[g])
        table_ax.tick_params(axis="x", labelbottom=False, length=0)
        table_ax.tick_params(axis="y", length=0, pad=16)
        _style.hide_spines(table_ax)
        table_ax.set_title("number at risk", fontsize=8, loc="left")
        if ax is None:
            main.tick_params(axis="x", labelbottom=True)
    return u.finish(fig, result, save)


def _at_risk(curve: pd.DataFrame, x: float) -> int:
    """Number at risk at time ``x``: the table's count at its first time point at or after ``x``."""
    later = curve.loc[curve["t"] >= x - 1e-9, "at_risk"]
    return int(later.iloc[0]) if len(later) else 0


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"
