"""Our calls against published ones: confusion heatmap, purity scatter, marker values by receptor status.

Every number drawn comes from the ``hm.tl`` comparison functions (``label_confusion``, ``compare_labels``,
``purity_values``, ``compare_purity``, ``status_values``, ``compare_status``); this module only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np

from .. import _style
from . import _utils as u

_STATUS_COLORS = {"Negative": "#3b6fb6", "Positive": "#c0392b"}
_PURITY_NAMES = {"purity_estimate": "ESTIMATE", "purity_absolute": "ABSOLUTE", "purity_cpe": "CPE"}


def label_confusion(
    mdata: Any,
    reference: str,
    *,
    key: str = "pam50",
    cmap: str = "Blues",
    ax: Any = None,
    save: str | PathLike | None = None,
) -> Any:
    """Heatmap of our calls (rows) against one published label (columns), with agreement and Cohen's kappa.

    Parameters
    ----------
    mdata
        Store with our calls in ``obs[key]`` and the published label in ``obs[reference]``.
    reference
        obs column of the published label (e.g. ``"pam50_xena"``).
    key
        obs column of our calls.
    cmap
        Matplotlib colormap of the counts.
    ax
        Draw into this Axes instead of a new figure.
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`, or ``ax`` when one was given.
    """
    from .. import tl

    u.check_ax(ax)
    long = tl.label_confusion(mdata, reference, key=key)
    stats = tl.compare_labels(mdata, key=key, references=[reference]).iloc[0]
    levels = list(dict.fromkeys(long["ours"]))
    matrix = long.pivot(index="ours", columns="reference", values="n").reindex(index=levels, columns=levels)
    fig, (ax_,), result = u.panels(ax, 1, figsize=(1.6 + 0.55 * len(levels), 1.3 + 0.5 * len(levels)))
    ax_.imshow(matrix.to_numpy(float), cmap=cmap, vmin=0)
    top = max(float(matrix.to_numpy().max()), 1.0)
    for i in range(len(levels)):
        for j in range(len(levels)):
            n = int(matrix.iat[i, j])
            ax_.text(
                j,
                i,
                str(n),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if n > 0.6 * top else "#222222",
                fontweight="bold" if i == j else "normal",
            )
    ax_.set_xticks(range(len(levels)), levels, rotation=45, ha="right", fontsize=9)
    ax_.set_yticks(range(len(levels)), levels, fontsize=9)
    ax_.set_xlabel(f"published ({reference})", fontsize=9)
    ax_.set_ylabel(f"ours ({key})", fontsize=9)
    kappa = "–" if not np.isfinite(stats["kappa"]) else f"{stats['kappa']:.2f}"
    ax_.set_title(f"{int(stats['n_agree'])}/{int(stats['n_compared'])} agree, κ {kappa}", fontsize=9, loc="left")
    return u.finish(fig, result, save)


def purity_comparison(
    mdata: Any,
    *,
    key: str = "immune",
    column: str = "estimate_purity",
    references: Sequence[str] | None = None,
    save: str | PathLike | None = None,
) -> Any:
    """Our purity against each published purity: one scatter per reference, with the identity line.

    Each panel is titled with the reference, n, Spearman ρ, Pearson r and the mean |difference| from
    :func:`harmonomics.tl.compare_purity`.

    Parameters
    ----------
    mdata
        Store with our purity in ``obsm[key][column]`` and published purity in obs.
    key, column
        Where our purity is.
    references
        obs columns of published purity (default: those of ``purity_estimate``, ``purity_absolute``,
        ``purity_cpe`` the store has).
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`.
    """
    import matplotlib.pyplot as plt

    from .. import tl

    pairs = tl.purity_values(mdata, key=key, column=column, references=references)
    stats = tl.compare_purity(mdata, key=key, column=column, references=references)
    stats = stats[stats["n"] > 0]
    if stats.empty:
        raise ValueError("no sample has both our purity and a published purity")
    fig, axes = plt.subplots(1, len(stats), figsize=(3.1 * len(stats), 3.3), layout="constrained", squeeze=False)
    for ax, row in zip(axes.ravel(), stats.itertuples(), strict=True):
        sub = pairs[pairs["reference"] == row.reference]
        ax.scatter(sub["published"], sub["ours"], s=12, color="#3d5a80", alpha=0.75, linewidths=0)
        lo = float(min(sub["published"].min(), sub["ours"].min(), 0.0))
        ax.plot([lo, 1.0], [lo, 1.0], color="#999999", linewidth=1, linestyle="--", zorder=0)
        ax.set_xlim(lo - 0.02, 1.02)
        ax.set_ylim(lo - 0.02, 1.02)
        ax.set_aspect("equal")
        name = _PURITY_NAMES.get(row.reference, row.reference)
        ax.set_xlabel(f"published {name} purity", fontsize=9)
        ax.set_ylabel("our ESTIMATE purity", fontsize=9)
        ax.set_title(
            f"{name}: n {row.n}, Spearman ρ {row.spearman_rho:.2f}\nPearson r {row.pearson_r:.2f}, "
            f"mean |diff| {row.mean_abs_diff:.3f}",
            fontsize=9,
            loc="left",
        )
        _style.style_axes(ax)
    return u.finish(fig, fig, save)


def status_markers(
    mdata: Any,
    *,
    markers: Sequence[tuple[str, str, str]] | None = None,
    save: str | PathLike | None = None,
) -> Any:
    """Marker values by receptor status (ER vs ESR1, HER2 vs ERBB2 expression and copy number): box and strip.

    Each panel is titled with the AUC and the Benjamini–Hochberg FDR of the Mann–Whitney test from
    :func:`harmonomics.tl.compare_status`.

    Parameters
    ----------
    mdata
        Store with status columns in obs and the marker features in its modalities.
    markers
        ``(status column, modality, feature)`` triples; see :func:`harmonomics.tl.status_values`.
    save
        Save the figure to this path; nothing is saved otherwise.

    Returns
    -------
    The new :class:`~matplotlib.figure.Figure`.
    """
    import matplotlib.pyplot as plt

    from .. import tl

    values = tl.status_values(mdata, markers=markers)
    stats = tl.compare_status(mdata, markers=markers)
    if stats.empty:
        raise ValueError("no receptor status column with a matching marker feature in the store")
    fig, axes = plt.subplots(1, len(stats), figsize=(2.6 * len(stats), 3.2), layout="constrained", squeeze=False)
    rng = np.random.default_rng(0)  # jitter only; fixed so figures are reproducible
    for ax, row in zip(axes.ravel(), stats.itertuples(), strict=True):
        sub = values[
            (values["status_column"] == row.status_column)
            & (values["mod"] == row.mod)
            & (values["feature"] == row.feature)
        ]
        groups = [g for g in ("Negative", "Positive") if (sub["status"] == g).any()]
        data = [sub.loc[sub["status"] == g, "value"].to_numpy(float) for g in groups]
        boxes = ax.boxplot(
            data, patch_artist=True, widths=0.55, showfliers=False, medianprops={"color": "black", "linewidth": 1.2}
        )
        for patch, g in zip(boxes["boxes"], groups, strict=True):
            patch.set_facecolor(_STATUS_COLORS[g])
            patch.set_alpha(0.35)
        for i, (g, d) in enumerate(zip(groups, data, strict=True)):
            ax.scatter(
                i + 1 + rng.uniform(-0.17, 0.17, d.size), d, s=7, color=_STATUS_COLORS[g], alpha=0.8, linewidths=0
            )
        ax.set_xticks(
            range(1, len(groups) + 1), [f"{g}\n(n={d.size})" for g, d in zip(groups, data, strict=True)], fontsize=8
        )
        ax.set_xlabel(row.status_column.replace("_", " "), fontsize=9)
        ax.set_ylabel(f"{row.feature} ({row.mod})", fontsize=9)
        fdr = f"{row.fdr:.1e}" if row.fdr < 1e-3 else f"{row.fdr:.2g}"
        ax.set_title(f"{row.feature} {row.mod}: AUC {row.auc:.2f}\nMann–Whitney FDR {fdr}", fontsize=9, loc="left")
        _style.style_axes(ax)
    return u.finish(fig, fig, save)
