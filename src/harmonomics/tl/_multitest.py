"""Multiple-testing correction shared by every tl function that reports a family of tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def bh_fdr(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (FDR) of one family of tests; NaN stays NaN and is not counted.

    Thin wrapper over :func:`scipy.stats.false_discovery_control` (``method="bh"``) that keeps the
    positions of untestable entries (NaN p-values) so a table's rows stay aligned.

    Parameters
    ----------
    pvalues
        The p-values of one family of tests; NaN marks a test that could not be run.

    Returns
    -------
    Array of the same shape: the adjusted p-values, NaN where the input was NaN.
    """
    from scipy.stats import false_discovery_control

    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = false_discovery_control(p[ok], method="bh")
    return out
