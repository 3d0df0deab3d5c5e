"""Shared helpers for the plotting functions (private).

Nothing here writes to the store; a fit is read through ``harmonomics._results`` (docs/store.md, "Results").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

# Conventional colours, so that the same subtype has the same colour in every figure.
PAM50_COLORS = {
    "LumA": "#1f5fa8",
    "LumB": "#7fb2e0",
    "Her2": "#d14a9c",
    "Basal": "#d7301f",
    "Normal": "#3a9e4a",
}
IMMUNE_COLORS = {"hot": "#c0392b", "intermediate": "#f0a04b", "cold": "#3b6fb6"}
NA_COLOR = "#c8c8c8"
# A qualitative palette for everything else (tab10 without its grey).
QUALITATIVE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
)


def resolve_factor(factor: str | int, names: Sequence[str]) -> str:
    """A factor given by name (``"Factor3"``) or 1-based number (``3``) → its name."""
    if isinstance(factor, (int, np.integer)) and not isinstance(factor, bool):
        if not 1 <= int(factor) <= len(names):
            raise ValueError(f"factor number {factor} is out of range: the model has factors 1..{len(names)}")
        return names[int(factor) - 1]
    if isinstance(factor, str) and factor in names:
        return factor
    raise ValueError(f"unknown factor {factor!r}: expected one of {list(names)} or a number 1..{len(names)}")


def as_series(obj: Any, index: Sequence[str]) -> pd.Series | None:
    """A per-view / per-factor total stored as Series, dict, DataFrame or array → Series on ``index``."""
    if obj is None:
        return None
    try:
        if isinstance(obj, pd.DataFrame):
            obj = obj.iloc[:, 0] if obj.shape[1] == 1 else obj.iloc[0]
        if isinstance(obj, pd.Series):
            s = obj.astype(float)
            s.index = s.index.astype(str)
            return s.reindex(list(index))
        if isinstance(obj, Mapping):
            return pd.Series({str(k): float(np.asarray(v).ravel()[0]) for k, v in obj.items()}).reindex(list(index))
        arr = np.asarray(obj, dtype=float).ravel()
        if arr.size == len(index):
            return pd.Series(arr, index=list(index))
    except (TypeError, ValueError, IndexError):
        pass
    logger.debug("could not read a total of shape %s", getattr(obj, "shape", None))
    return None


def obs_vector(mdata: Any, column: str) -> pd.Series:
    """A per-sample variable: a global ``obs`` column, or a column of a DataFrame in ``obsm``.

    ``"immune:CYT"`` names column ``CYT`` of ``obsm["immune"]``; a bare name is looked up in ``obs``
    first, then in every obsm DataFrame.
    """
    if column in mdata.obs.columns:
        return mdata.obs[column]
    if ":" in column:
        slot, col = column.split(":", 1)
        table = mdata.obsm.get(slot) if slot in mdata.obsm else None
        if isinstance(table, pd.DataFrame) and col in table.columns:
            s = table[col].copy()
            s.index = mdata.obs_names
            return s.rename(column)
    for slot in mdata.obsm:
        table = mdata.obsm[slot]
        if isinstance(table, pd.DataFrame) and column in table.columns:
            s = table[column].copy()
            s.index = mdata.obs_names
            return s
    raise KeyError(
        f"no per-sample variable {column!r}: not an obs column ({list(mdata.obs.columns)}) "
        "nor a column of a DataFrame in obsm (use 'slot:column' to name one)"
    )


def is_categorical(values: pd.Series) -> bool:
    """Whether a per-sample variable should be coloured by category."""
    if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == bool:
        return True
    return not pd.api.types.is_numeric_dtype(values)


def category_levels(values: pd.Series) -> list[str]:
    """Category levels in a stable, meaningful order (categorical order, PAM50/immune order, else sorted)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().astype(str))
        return [str(c) for c in values.cat.categories if str(c) in present]
    present = [str(v) for v in pd.unique(values.dropna())]
    for known in (PAM50_COLORS, IMMUNE_COLORS):
        if set(present) <= set(known):
            return [k for k in known if k in present]
    return sorted(present)


def category_colors(levels: Sequence[str], palette: Mapping[str, str] | Sequence[str] | None = None) -> dict:
    """Colour for each level: the user's palette, else PAM50 / immune colours, else a qualitative cycle."""
    if isinstance(palette, Mapping):
        missing = [lv for lv in levels if lv not in palette]
        if missing:
            raise ValueError(f"palette has no colour for level(s) {missing}; it covers {list(palette)}")
        return {lv: palette[lv] for lv in levels}
    if palette is not None and not isinstance(palette, str):
        cycle = list(palette)
        return {lv: cycle[i % len(cycle)] for i, lv in enumerate(levels)}
    if palette is not None:  # a matplotlib colormap name
        import matplotlib

        cmap = matplotlib.colormaps[palette]
        n = max(len(levels) - 1, 1)
        return {lv: matplotlib.colors.to_hex(cmap(i / n)) for i, lv in enumerate(levels)}
    known = {**PAM50_COLORS, **IMMUNE_COLORS}
    if all(lv in known for lv in levels):
        return {lv: known[lv] for lv in levels}
    return {lv: QUALITATIVE[i % len(QUALITATIVE)] for i, lv in enumerate(levels)}


def check_ax(ax: Any) -> None:
    """Raise TypeError unless ``ax`` is None or a matplotlib Axes."""
    if ax is None:
        return
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")


def finish(fig: Any, result: Any, save: str | PathLike | None, dpi: int | None = None) -> Any:
    """Save ``fig`` when asked (never otherwise) and return ``result``."""
    if save is not None:
        fig.savefig(save, bbox_inches="tight", dpi=dpi or "figure")
        logger.info("saved figure to %s", save)
    return result


def hide_spines(ax: Any, sides: Sequence[str] = ("top", "right", "bottom", "left")) -> None:
    """Hide the frame lines of ``ax`` on ``sides``."""
    for side in sides:
        ax.spines[side].set_visible(False)


def style_axes(ax: Any) -> None:
    """A light, uncluttered look shared by every figure."""
    hide_spines(ax, ("top", "right"))
    ax.tick_params(labelsize=9)


def panels(ax: Any, n: int, figsize: tuple[float, float]) -> tuple[Any, list, Any]:
    """``n`` side-by-side Axes in a new figure of ``figsize``, or the one given ``ax``.

    Returns
    -------
    ``(figure, axes, result)``: ``result`` is what the plotting function returns, the new figure, or ``ax``
    when one was given.
    """
    if ax is not None:
        return ax.figure, [ax], ax
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=figsize, layout="constrained", squeeze=False)
    return fig, list(axes[0]), fig


def colorbar(fig: Any, image: Any, ax: Any, label: str, **kwargs: Any) -> Any:
    """A colour bar for ``image`` beside ``ax``, labelled, in the small type of the heatmaps."""
    bar = fig.colorbar(image, ax=ax, pad=0.02, **kwargs)
    bar.set_label(label, fontsize=9)
    bar.ax.tick_params(labelsize=8)
    return bar


def shorten(label: str, width: int) -> str:
    """``label`` cut to ``width`` characters, with an ellipsis where it was cut."""
    return label if len(label) <= width else label[: width - 1] + "…"
