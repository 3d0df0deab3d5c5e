"""Shared helpers for the plotting functions (private).

Nothing here writes to the store; a fit is read through ``harmonomics._results`` (docs/store.md, "Results").
Palettes and the axes style, which the report shares, are in ``harmonomics._style``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

# the palettes and the axes style live in harmonomics._style, which the report shares; named here too so that
# pl modules may keep writing u.style_axes, u.category_colors, ...
from .. import _results
from .._style import (
    IMMUNE_COLORS,
    NA_COLOR,
    PAM50_COLORS,
    QUALITATIVE,
    category_colors,
    category_levels,
    hide_spines,
    style_axes,
)

__all__ = [
    "IMMUNE_COLORS",
    "NA_COLOR",
    "PAM50_COLORS",
    "QUALITATIVE",
    "category_colors",
    "category_levels",
    "check_ax",
    "colorbar",
    "finish",
    "hide_spines",
    "is_categorical",
    "obs_vector",
    "panels",
    "resolve_factor",
    "shorten",
    "style_axes",
]

logger = logging.getLogger(__name__)


def resolve_factor(factor: str | int, names: Sequence[str]) -> str:
    """A factor given by name (``"Factor3"``) or 1-based number (``3``) → its name."""
    if isinstance(factor, (int, np.integer)) and not isinstance(factor, bool):
        if not 1 <= int(factor) <= len(names):
            raise ValueError(f"factor number {factor} is out of range: the model has factors 1..{len(names)}")
        return names[int(factor) - 1]
    if isinstance(factor, str) and factor in names:
        return factor
    raise ValueError(f"unknown factor {factor!r}: expected one of {list(names)} or a number 1..{len(names)}")


def obs_vector(mdata: Any, column: str) -> pd.Series:
    """A per-sample variable (:func:`harmonomics._results.sample_variable`): an ``obs`` column, ``"slot:column"``
    of an obsm DataFrame, or a bare column name that exactly one obsm DataFrame has."""
    return _results.sample_variable(mdata, column)


def is_categorical(values: pd.Series) -> bool:
    """Whether a per-sample variable should be coloured by category."""
    if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == bool:
        return True
    return not pd.api.types.is_numeric_dtype(values)


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
