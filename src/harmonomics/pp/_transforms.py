"""Per-omic transforms: RNA log2 CPM / TPM, beta → M, binary mutation matrix, copy-number scales."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from .. import _keys
from .._errors import MissingResultError, ScaleError
from .._mutations import PROTEIN_ALTERING, mutation_matrix
from ..store import store_to_modify

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)


def _as_array(x):
    import scipy.sparse as sp

    return x.toarray() if sp.issparse(x) else np.asarray(x, dtype=np.float64)


def _store_and_modality(mdata: md.MuData, mod: str, copy: bool):
    """The store to modify (a copy with ``copy``) and its modality ``mod``; MissingResultError when absent."""
    mdata = store_to_modify(mdata, copy)
    if mod not in mdata.mod:
        raise MissingResultError(f"modality {mod!r} not in the store (has {list(mdata.mod)})")
    return mdata, mdata.mod[mod]


def normalize_rna(
    mdata: md.MuData,
    *,
    mod: str = _keys.RNA,
    method: str = "log2cpm",
    layer: str = "counts",
    pseudocount: float = 1.0,
    copy: bool = False,
) -> md.MuData | None:
    """Put RNA (or miRNA) counts on a log scale: ``log2(CPM + 1)`` or ``log2(TPM + 1)``; raw counts stay in a layer.

    Parameters
    ----------
    mdata
        The store.
    mod
        Modality (``"rna"`` or ``"mirna"``).
    method
        ``"log2cpm"`` (counts per million of the counts layer) or ``"log2tpm"`` (from a ``tpm_unstranded`` /
        ``tpm`` layer) or ``"log2"`` (``log2(X + pseudocount)`` of values already normalised, e.g. RSEM).
    layer
        Layer with the raw counts (created from ``X`` when absent, so that raw values are never lost).
    pseudocount
        Added before the log.
    copy
        Return a modified copy instead of modifying in place.

    Returns
    -------
    ``None`` (or the copy). Writes ``mod[mod].X`` (float64, log2 scale), ``layers[layer]`` (raw values, if it
    was missing) and ``mod[mod].uns["transform"]`` (``{"method", "pseudocount", "source_layer"}``).

    Raises
    ------
    MissingResultError
        ``mod`` is not in the store, or the TPM layer is missing for ``method="log2tpm"``.
    ScaleError
        The values are negative or already on a log scale (a second transform).
    """
    mdata, a = _store_and_modality(mdata, mod, copy)
    previous = a.uns.get("transform")
    if previous is not None and str(dict(previous).get("method", "")).startswith("log2"):
        raise ScaleError(f"mod[{mod!r}] is already transformed ({dict(previous)}); expected raw values in X")
    if layer not in a.layers:
        a.layers[layer] = _as_array(a.X).copy()
    if method == "log2cpm":
        counts = _as_array(a.layers[layer])
        if counts.size and np.nanmin(counts) < 0:
            raise ScaleError(f"mod[{mod!r}].layers[{layer!r}] has negative values; expected raw counts")
        lib = np.nansum(counts, axis=1, keepdims=True)
        lib[lib == 0] = 1.0
        a.X = np.log2(counts / lib * 1e6 + pseudocount)
        source = layer
    elif method == "log2tpm":
        source = next((k for k in ("tpm_unstranded", "tpm") if k in a.layers), None)
        if source is None:
            raise MissingResultError(
                f"method='log2tpm' needs a 'tpm_unstranded' or 'tpm' layer in mod[{mod!r}]; "
                f"found layers {list(a.layers)}"
            )
        a.X = np.log2(_as_array(a.layers[source]) + pseudocount)
    elif method == "log2":
        values = _as_array(a.layers[layer])
        if values.size and np.nanmin(values) < 0:
            raise ScaleError(f"mod[{mod!r}] has negative values; expected non-negative normalised values")
        a.X = np.log2(values + pseudocount)
        source = layer
    else:
        raise ValueError(f"method must be 'log2cpm', 'log2tpm' or 'log2', got {method!r}")
    a.uns["transform"] = {"method": method, "pseudocount": float(pseudocount), "source_layer": source}
    return mdata if copy else None


def beta_to_m(
    mdata: md.MuData,
    *,
    mod: str = _keys.METH,
    layer: str = "beta",
    epsilon: float = 1e-6,
    copy: bool = False,
) -> md.MuData | None:
    """Methylation beta values → M-values ``log2(beta / (1 − beta))``; betas stay in a layer.

    Parameters
    ----------
    mdata
        The store.
    mod
        Methylation modality.
    layer
        Layer to keep the raw betas in (created from ``X``).
    epsilon
        Betas are clipped to ``[epsilon, 1 − epsilon]`` before the logit.
    copy
        Return a modified copy instead of modifying in place.

    Returns
    -------
    ``None`` (or the copy). Writes ``mod[mod].X`` (M-values, NaN kept), ``layers[layer]`` (betas) and
    ``uns["transform"]``.

    Raises
    ------
    ScaleError
        Values outside [0, 1] (not betas, or already M-values).
    """
    mdata, a = _store_and_modality(mdata, mod, copy)
    beta = _as_array(a.layers[layer]) if layer in a.layers else _as_array(a.X)
    finite = beta[np.isfinite(beta)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        raise ScaleError(
            f"mod[{mod!r}] has values outside [0, 1] (min {finite.min():.3g}, max {finite.max():.3g}); "
            "expected beta values (already M-values?)"
        )
    if layer not in a.layers:
        a.layers[layer] = beta.copy()
    b = np.clip(beta, epsilon, 1 - epsilon)
    a.X = np.log2(b / (1 - b))
    a.uns["transform"] = {"method": "m_value", "epsilon": float(epsilon), "source_layer": layer}
    return mdata if copy else None


def gistic_levels(copy_number: np.ndarray, *, ploidy: float = 2.0) -> np.ndarray:
    """Integer copy number → GISTIC-like levels: 0 → −2, < ploidy → −1, = ploidy → 0, ≤ 2·ploidy → 1, more → 2."""
    cn = np.asarray(copy_number, dtype=np.float64)
    out = np.select([cn <= 0, cn < ploidy, cn == ploidy, cn <= 2 * ploidy], [-2.0, -1.0, 0.0, 1.0], default=2.0)
    out[np.isnan(cn)] = np.nan
    return out


def transform_cnv(
    mdata: md.MuData,
    *,
    mod: str = _keys.CNV,
    method: str = "log2ratio",
    layer: str = "copy_number",
    ploidy: float = 2.0,
    copy: bool = False,
) -> md.MuData | None:
    """Copy number → ``log2(CN / ploidy)`` (CN 0 floored at 0.1) or GISTIC-like levels; raw CN kept in a layer.

    Values already on a log2-ratio or GISTIC scale (negative values present) are left as they are.
    """
    mdata, a = _store_and_modality(mdata, mod, copy)
    raw = _as_array(a.layers[layer]) if layer in a.layers else _as_array(a.X)
    finite = raw[np.isfinite(raw)]
    if finite.size and finite.min() < 0:
        a.uns["transform"] = {"method": "none", "reason": "values already relative (negative values present)"}
        return mdata if copy else None
    if layer not in a.layers:
        a.layers[layer] = raw.copy()
    if method == "log2ratio":
        a.X = np.log2(np.maximum(raw, 0.1) / ploidy)
    elif method == "gistic":
        a.X = gistic_levels(raw, ploidy=ploidy)
    else:
        raise ValueError(f"method must be 'log2ratio' or 'gistic', got {method!r}")
    a.uns["transform"] = {"method": method, "ploidy": float(ploidy), "source_layer": layer}
    return mdata if copy else None


__all__ = ["PROTEIN_ALTERING", "beta_to_m", "gistic_levels", "mutation_matrix", "normalize_rna", "transform_cnv"]
