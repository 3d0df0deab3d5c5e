"""Kaplan–Meier curves with a number-at-risk table."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from .._errors import MissingResultError
from . import _utils as u

logger = logging.getLogger(__name__)

DAYS_PER_YEAR = 365.25


def survival_groups(
    mdata: Any,
    groupby: str,
    *,
    time: str = "os_time",
    event: str = "os_event",
    key: str = "mofa",
    split: float = 0.5,
) -> pd.DataFrame:
    """Per-sample ``time``, ``event`` and ``group`` for a Kaplan–Meier plot (private helper, also used by the report).

    ``groupby`` is a categorical per-sample variable (e.g. ``"pam50"``), or a factor / numeric variable
    split at its ``split`` quantile into ``"<name> low"`` and ``"<name> high"``. Samples missing any
    of the three are dropped.
    """
    for col in (time, event):
        if col not in mdata.obs.columns:
            raise MissingResultError(
                f"mdata.obs has no column {col!r}: survival needs follow-up time (days) and an event indicator "
                f"(0/1) per sample (obs columns: {list(mdata.obs.columns)})"
            )
    if not 0.0 < float(split) < 1.0:
        raise ValueError(f"split must be a quantile strictly between 0 and 1, got {split!r}")
    t = pd.to_numeric(mdata.obs[time], errors="coerce")
    e_raw = mdata.obs[event]
    e = pd.to_numeric(e_raw.astype(float) if e_raw.dtype == bool else e_raw, errors="coerce")
    bad = e.dropna()[~e.dropna().isin([0, 1])]
    if len(bad):
        raise ValueError(
            f"obs[{event!r}] must be 0 (censored) or 1 (event); sample {bad.index[0]!r} has {bad.iloc[0]!r}"
        )
    neg = t.dropna()[t.dropna() < 0]
    if len(neg):
        raise ValueError(f"obs[{time!r}] must be non-negative; sample {neg.index[0]!r} has {neg.iloc[0]!r}")

    names: list[str] = []
    if key in mdata.obsm:
        names = u.factor_names(mdata, key)
    if groupby in names:
        values = u.mofa_scores(mdata, key)[groupby]
    else:
        values = u.obs_vector(mdata, groupby)
    if u.is_categorical(values):
        levels = u.category_levels(values)
        group = values.astype(object).where(values.notna(), None)
        group = group.map(lambda v: None if v is None else str(v))
        order = levels
    else:
        num = pd.to_numeric(values, errors="coerce")
        cut = float(num.quantile(split))
        group = pd.Series(np.where(num > cut, f"{groupby} high", f"{groupby} low"), index=num.index, dtype=object)
        group[num.isna()] = None
        order = [f"{groupby} low", f"{groupby} high"]
    df = pd.DataFrame({"time": t, "event": e, "group": group}, index=mdata.obs_names).dropna()
    df["event"] = df["event"].astype(int)
    order = [g for g in order if g in set(df["group"])]
    df["group"] = pd.Categorical(df["group"], categories=order)
    return df


def kaplan_meier(
    mdata: Any,
    groupby: str = "pam50",
    *,
    time: str = "os_time",
    event: str = "os_event",
    key: str = "mofa",
    split: float = 0.5,
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
        DataFrame column), or a factor (``"Factor3"``) / numeric variable, split at the ``split``
        quantile into a low and a high group.
    time, event
        obs columns of follow-up time in days and the event indicator.
    key
        Result key of the factor model (when ``groupby`` is a factor).
    split
        Quantile at which a numeric ``groupby`` is split (0.5: the median).
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
    lifelines = u_require_lifelines()
    df = survival_groups(mdata, groupby, time=time, event=event, key=key, split=split)
    if df.empty:
        raise ValueError(f"no sample has {time!r}, {event!r} and {groupby!r} all present")
    groups = list(df["group"].cat.categories)
    if palette is None and groups and all(g.endswith((" low", " high")) for g in groups):
        palette = {g: ("#2e6fb5" if g.endswith(" low") else "#c0392b") for g in groups}
    colors = u.category_colors(groups, palette)
    scale = DAYS_PER_YEAR if years else 1.0
    df = df.assign(t=df["time"] / scale)

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

    fitter = lifelines.KaplanMeierFitter()
    for g in groups:
        sub = df[df["group"] == g]
        label = f"{g} (n={len(sub)}, {int(sub['event'].sum())} events)"
        fitter.fit(sub["t"], sub["event"], label=label)
        sf = fitter.survival_function_.iloc[:, 0]
        main.step(sf.index, sf.to_numpy(), where="post", color=colors[g], linewidth=1.8, label=label)
        if ci:
            band = fitter.confidence_interval_survival_function_
            main.fill_between(band.index, band.iloc[:, 0], band.iloc[:, 1], step="post", color=colors[g], alpha=0.15)
        censored = sub.loc[sub["event"] == 0, "t"].to_numpy()
        if censored.size:
            main.plot(censored, fitter.survival_function_at_times(censored).to_numpy(), "|", color=colors[g],
                      markersize=6, markeredgewidth=1.0)  # fmt: skip
    main.set_ylim(-0.02, 1.04)
    main.set_xlim(left=0.0)
    main.set_ylabel("survival probability")
    main.set_xlabel("time (years)" if years else "time (days)")
    u.style_axes(main)
    if len(groups) > 1:
        pvalue = logrank_p(df)
        main.set_title(f"log-rank p = {_fmt_p(pvalue)}", fontsize=9, loc="right")
    main.legend(fontsize=8, frameon=False, loc="best", title=groupby, title_fontsize=9)
    main.set_title(f"Overall survival by {groupby}", fontsize=10, loc="left")

    if risk_table:
        ticks = [x for x in main.get_xticks() if 0 <= x <= df["t"].max() * 1.0001]
        main.set_xticks(ticks)
        for row, g in enumerate(groups):
            tg = df.loc[df["group"] == g, "t"].to_numpy()
            for x in ticks:
                table_ax.text(x, row, str(int((tg >= x).sum())), ha="center", va="center", fontsize=8,
                              color=colors[g])  # fmt: skip
        table_ax.set_ylim(len(groups) - 0.5, -0.5)
        table_ax.set_yticks(range(len(groups)), [u.shorten(g, 18) for g in groups], fontsize=8)
        for label, g in zip(table_ax.get_yticklabels(), groups, strict=True):
            label.set_color(colors[g])
        table_ax.tick_params(axis="x", labelbottom=False, length=0)
        table_ax.tick_params(axis="y", length=0, pad=16)
        u.hide_spines(table_ax)
        table_ax.set_title("number at risk", fontsize=8, loc="left")
        if ax is None:
            main.tick_params(axis="x", labelbottom=True)
    return u.finish(fig, result, save)


def logrank_p(df: pd.DataFrame) -> float:
    """Log-rank test p-value across the groups of a :func:`survival_groups` table (NaN with one group)."""
    if df["group"].nunique() < 2:
        return float("nan")
    u_require_lifelines()
    from lifelines.statistics import multivariate_logrank_test

    return float(multivariate_logrank_test(df["time"], df["group"].astype(str), df["event"]).p_value)


def u_require_lifelines():
    from .._errors import require

    return require("lifelines", extra="survival", purpose="Kaplan–Meier curves")


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"
