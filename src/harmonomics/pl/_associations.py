"""Factor ↔ covariate association heatmap (from the tidy table of ``hm.tl.associate``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from .. import _keys
from . import _utils as u

logger = logging.getLogger(__name__)

_REQUIRED = ("factor", "covariate")


def associations(
    data: Any,
    *,
    key: str = _keys.KEY_MOFA,
    covariates: Sequence[str] | None = None,
    value: str = "fdr",
    alpha: float = 0.05,
    annotate: bool = True,
    cmap: str = "OrRd",
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """Heatmap of factor ↔ covariate associations: colour = −log10 of the (adjusted) p-value.

    Each cell is one factor × covariate test. Numeric covariates are annotated with Spearman's ρ;
    categorical ones with the level whose samples differ most on the factor (↑: higher scores in that
    level, from the one-vs-rest AUC). Cells below ``alpha`` are marked with ``*``.

    Parameters
    ----------
    data
        The tidy table returned by ``hm.tl.associate`` (columns ``factor``, ``covariate``, ``kind``,
        ``test``, ``statistic``, ``pvalue``, ``fdr`` and, where relevant, ``level``, ``auc``, ``rho``),
        or a MuData, in which case ``hm.tl.associate(data, key=key, covariates=covariates)`` is called.
    key
        Result key of the factor model (MuData input only).
    covariates
        Covariates to show, in this order (default: all in the table).
    value
        Column to colour by: ``"fdr"`` or ``"pvalue"``.
    alpha
        Significance threshold for the ``*`` marks.
    annotate
        Write ρ / the most distinct level in each cell.
    cmap
        Matplotlib colormap.
    ax
        Draw into this Axes instead of a new figure.
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    u.check_ax(ax)
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if isinstance(data, pd.DataFrame):
        table = data
    elif hasattr(data, "mod") and hasattr(data, "obsm"):
        from .. import tl

        kwargs = {"key": key}
        if covariates is not None:
            kwargs["covariates"] = tuple(covariates)
        table = tl.associate(data, **kwargs)
    else:
        raise TypeError(f"data must be the DataFrame from hm.tl.associate or a MuData, got {type(data).__name__}")
    summary = summarise(table, value=value)
    if covariates is not None:
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        unknown = [c for c in covariates if c not in set(summary["covariate"])]
        if unknown:
            raise ValueError(f"covariate(s) {unknown} are not in the table; it has {sorted(set(summary['covariate']))}")
        summary = summary[summary["covariate"].isin(covariates)]
        rows = covariates
    else:
        rows = list(dict.fromkeys(summary["covariate"]))
    cols = sorted(dict.fromkeys(summary["factor"]), key=_natural)
    if not rows or not cols:
        raise ValueError("the association table has no rows to plot")
    pmat = summary.pivot(index="covariate", columns="factor", values="p").reindex(index=rows, columns=cols)
    labels = summary.pivot(index="covariate", columns="factor", values="label").reindex(index=rows, columns=cols)
    with np.errstate(divide="ignore"):
        logp = -np.log10(pmat.to_numpy(dtype=float).clip(1e-300, 1.0))
    top = float(np.nanmax(logp)) if np.isfinite(logp).any() else 0.0
    # one extreme test must not wash out the rest: the scale saturates at 1e-10
    vmax = max(min(top, 10.0), -np.log10(alpha) * 1.5)

    fig, (ax_,), result = u.panels(ax, 1, figsize=(2.6 + 0.78 * len(cols), 1.2 + 0.46 * len(rows)))
    image = ax_.imshow(np.ma.masked_invalid(logp), aspect="auto", cmap=cmap, vmin=0.0, vmax=vmax)
    ax_.set_facecolor("#eeeeee")
    ax_.set_xticks(range(len(cols)), cols, rotation=45, ha="right", fontsize=9)
    ax_.set_yticks(range(len(rows)), rows, fontsize=9)
    if annotate:
        for i in range(len(rows)):
            for j in range(len(cols)):
                p = pmat.iat[i, j]
                if not np.isfinite(p):
                    continue
                text = str(labels.iat[i, j] or "")
                significant = p < alpha
                if significant:
                    text = f"{text}*" if text else "*"
                dark = min(logp[i, j], vmax) > 0.6 * vmax
                ax_.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7,
                    fontweight="bold" if significant else "normal",
                    color="white" if dark else "#222222",
                )
    u.colorbar(
        fig,
        image,
        ax_,
        f"−log10 {'FDR' if value == 'fdr' else 'p'}",
        shrink=0.85,
        extend="max" if top > vmax else "neither",
    )
    ax_.set_title(f"Factor ↔ covariate associations (* {value} < {alpha:g})", fontsize=10, loc="left")
    return u.finish(fig, result, save)


def summarise(table: pd.DataFrame, *, value: str = "fdr") -> pd.DataFrame:
    """One row per factor × covariate: the overall p-value (or FDR) and a short label.

    Overall test rows are those without a ``level`` (when a table has one-vs-rest detail rows per
    level as well); where a covariate has only per-level rows, the smallest value is used.
    Columns of the result: ``factor``, ``covariate``, ``kind``, ``test`` (the table's test name, e.g.
    ``kruskal`` or ``spearman``; empty when the table has none), ``p``, ``label``, ``level``, ``auc``, ``rho``.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"expected a DataFrame from hm.tl.associate, got {type(table).__name__}")
    missing = [c for c in (*_REQUIRED, value) if c not in table.columns]
    if missing:
        raise ValueError(
            f"association table lacks column(s) {missing}; expected the table of hm.tl.associate with "
            f"columns factor, covariate, kind, test, statistic, pvalue, fdr (got {list(table.columns)})"
        )
    t = table.copy()
    t["factor"] = t["factor"].astype(str)
    t["covariate"] = t["covariate"].astype(str)
    has_level = "level" in t.columns
    if has_level:
        lv = t["level"]
        t["_overall"] = lv.isna() | (lv.astype(str).str.strip().isin(["", "nan", "None"]))
    else:
        t["_overall"] = True
    out = []
    for (factor, cov), g in t.groupby(["factor", "covariate"], sort=False):
        overall = g[g["_overall"]]
        detail = g[~g["_overall"]]
        vals = pd.to_numeric(overall[value] if len(overall) else g[value], errors="coerce")
        p = float(vals.min()) if vals.notna().any() else np.nan
        kind = str(g["kind"].iloc[0]) if "kind" in g.columns else ""
        test = str(g["test"].iloc[0]) if "test" in g.columns else ""
        rho = np.nan
        if "rho" in g.columns:
            r = pd.to_numeric(g["rho"], errors="coerce").dropna()
            rho = float(r.iloc[0]) if len(r) else np.nan
        level, auc = None, np.nan
        if has_level and "auc" in g.columns and len(detail):
            a = pd.to_numeric(detail["auc"], errors="coerce")
            if a.notna().any():
                best = (a - 0.5).abs().idxmax()
                level, auc = str(detail.loc[best, "level"]), float(a[best])
        if kind == "numeric" or (kind == "" and np.isfinite(rho)):
            label = f"{rho:+.2f}" if np.isfinite(rho) else ""
        elif level is not None:
            label = f"{u.shorten(level, 12)} {'↑' if auc >= 0.5 else '↓'}"
        else:
            label = ""
        out.append(
            {
                "factor": factor,
                "covariate": cov,
                "kind": kind,
                "test": test,
                "p": p,
                "label": label,
                "level": level,
                "auc": auc,
                "rho": rho,
            }
        )
    return pd.DataFrame(out, columns=["factor", "covariate", "kind", "test", "p", "label", "level", "auc", "rho"])


def _natural(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(name))]
