"""Feature statistics that run out of core on dask-backed omics (and in memory on numpy ones, identically).

Both paths compute the same quantities with the same formulas, per feature over the samples that have a value:
``n_missing``, ``missing_fraction``, ``mean`` and the sample variance (``ddof=1``). On a dask array (a zarr store
opened with ``hm.store.read(path, backed=True)``) the sums are accumulated chunk by chunk, so memory stays at a
few chunks whatever the matrix size; with a ``dask.distributed`` Client the chunks are reduced on its workers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import require

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)


def _is_dask(matrix: Any) -> bool:
    return type(matrix).__module__.startswith("dask.")


def _moments(matrix: Any) -> tuple[Any, Any, Any]:
    """Per-column count of values, sum and sum of squares (float64 accumulation), lazily for dask input."""
    if _is_dask(matrix):
        da = require("dask.array", extra="scale", purpose="out-of-core feature statistics")
        present = ~da.isnan(matrix)
        filled = da.where(present, matrix, 0).astype(np.float64)
        return present.sum(axis=0), filled.sum(axis=0), (filled * filled).sum(axis=0)
    import scipy.sparse as sp

    dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)
    present = ~np.isnan(dense)
    filled = np.where(present, dense, 0).astype(np.float64)
    return present.sum(axis=0), filled.sum(axis=0), (filled * filled).sum(axis=0)


def feature_stats(mdata: md.MuData, *, mod: str, layer: str | None = None, client: Any = None) -> pd.DataFrame:
    """Per-feature mean, variance and missingness of one omic, out of core when its matrix is a dask array.

    Parameters
    ----------
    mdata
        The store (in memory, or opened lazily with ``hm.store.read(path, backed=True)``).
    mod
        The omic.
    layer
        Use this layer instead of ``X``.
    client
        A ``dask.distributed.Client`` to reduce the chunks on (dask input only).

    Returns
    -------
    DataFrame indexed by feature with ``n_samples`` (values present), ``n_missing``, ``missing_fraction``,
    ``mean`` and ``variance`` (sample variance, ddof = 1; NaN with fewer than two values).

    Raises
    ------
    KeyError
        If ``mod`` or ``layer`` is not in the store.
    """
    if mod not in mdata.mod:
        raise KeyError(f"no modality {mod!r} in the store; it has {list(mdata.mod)}")
    adata = mdata.mod[mod]
    if layer is not None and layer not in adata.layers:
        raise KeyError(f"modality {mod!r} has no layer {layer!r}; it has {list(adata.layers)}")
    matrix = adata.X if layer is None else adata.layers[layer]
    count, total, squares = _moments(matrix)
    if _is_dask(matrix):
        import dask

        with dask.config.set(scheduler=client if client is not None else "threads"):
            count, total, squares = dask.compute(count, total, squares)
    count = np.asarray(count, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        variance = (squares - count * mean * mean) / (count - 1)
    variance = np.where(count > 1, np.maximum(variance, 0.0), np.nan)
    n_samples = adata.n_obs
    return pd.DataFrame(
        {
            "n_samples": count.astype(np.int64),
            "n_missing": (n_samples - count).astype(np.int64),
            "missing_fraction": (n_samples - count) / max(n_samples, 1),
            "mean": mean,
            "variance": variance,
        },
        index=adata.var_names.copy(),
    )


def top_variance_features(stats: pd.DataFrame, n_top: int, *, max_missing: float = 1.0) -> pd.Index:
    """The ``n_top`` features of highest variance among those with at most ``max_missing`` missingness.

    Ties are broken by the feature order in ``stats`` (a stable sort), so the in-memory and out-of-core paths
    select the same features.

    Parameters
    ----------
    stats
        The table of :func:`feature_stats`.
    n_top
        How many features to keep.
    max_missing
        Largest missing fraction a feature may have (0 to 1).

    Returns
    -------
    The selected feature IDs, highest variance first.

    Raises
    ------
    ValueError
        If ``n_top`` < 1.
    """
    if n_top < 1:
        raise ValueError(f"n_top must be >= 1, got {n_top}")
    eligible = stats[(stats["missing_fraction"] <= max_missing) & stats["variance"].notna()]
    order = np.argsort(-eligible["variance"].to_numpy(), kind="stable")
    return eligible.index[order[:n_top]]
