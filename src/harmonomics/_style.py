"""Colours and the look of figures, shared by ``pl`` and the report (``harmonomics._report``).

Pure presentation: palettes that give a subtype or immune class the same colour in every figure, the order in which
category levels are shown, and the light axes style. Imports no namespace, so that both ``pl`` and the report,
which sits above ``pl``, may use it (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

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


def hide_spines(ax: Any, sides: Sequence[str] = ("top", "right", "bottom", "left")) -> None:
    """Hide the frame lines of ``ax`` on ``sides``."""
    for side in sides:
        ax.spines[side].set_visible(False)


def style_axes(ax: Any) -> None:
    """A light, uncluttered look shared by every figure."""
    hide_spines(ax, ("top", "right"))
    ax.tick_params(labelsize=9)
