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
from .._errors import MissingResultError
from . import _utils as u

logger = logging.getLogger(__name__)


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

    The tests come from ``hm.tl.associate``; this function only draws them (the one row per test it shows is
    ``hm.tl.association_summary``). Each cell is one factor × covariate test. Numeric covariates are annotated
    with Spearman's ρ; categorical ones with the level whose samples differ most on the factor (↑: higher scores
    in that level, from the one-vs-rest AUC). Cells below ``alpha`` are marked with ``*``.

    Parameters
    ----------
    data
        The tidy table returned by ``hm.tl.associate`` (columns ``factor``, ``covariate``, ``kind``,
        ``test``, ``statistic``, ``pvalue``, ``fdr`` and, where relevant, ``level``, ``auc``, ``rho``),
        or a MuData holding that table in ``uns[f"{key}_associations"]``: run
        ``hm.tl.associate(mdata, covariates=..., key_added=f"{key}_associations")`` first (the pipeline does).
    key
        Result key of the factor model (MuData input only): the table is read from ``uns[f"{key}_associations"]``.
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

    Raises
    ------
    MissingResultError
        A MuData without an association table in ``uns[f"{key}_associations"]``.
    """
    from .. import tl

    u.check_ax(ax)
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if isinstance(data, pd.DataFrame):
        table = data
    elif hasattr(data, "mod") and hasattr(data, "obsm"):
        slot = f"{key}_associations"
        table = data.uns.get(slot)
        if not isinstance(table, pd.DataFrame):
            raise MissingResultError(
                f"no factor ↔ covariate table in uns[{slot!r}]: run hm.tl.associate(mdata, key={key!r}, "
                f"covariates=[...], key_added={slot!r}) first, or pass the table hm.tl.associate returns"
            )
    else:
        raise TypeError(f"data must be the DataFrame from hm.tl.associate or a MuData, got {type(data).__name__}")
    summary = tl.association_summary(table, value=value)
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


def _natural(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(name))]
