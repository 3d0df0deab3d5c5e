"""PAM50 intrinsic subtypes, proliferation score and risk of recurrence (Parker et al. 2009).

The caller reproduces the UNC reference implementation (hoadley-lab/pam50, shipped test data
in ``harmonomics/data/pam50``) exactly:

1. map the cohort's genes to the 50 PAM50 genes (symbols, Ensembl IDs with or without version,
   ``SYMBOL|ENTREZ``, legacy names KNTC2/CDCA1/ORC6L);
2. log-transform linear-scale data (RNA-seq counts, TPM) with ``log2(x + 1)``;
3. centre each gene (cohort median, ER-balanced median, or not at all);
4. standardise each sample over its genes present (mean 0, standard deviation 1);
5. Spearman correlation of each sample to the five centroids over the genes present in that
   sample; the call is the centroid with the highest correlation, the confidence the gap
   between the two highest correlations;
6. proliferation score = mean of the 11 proliferation genes of step 4;
7. risk of recurrence: linear combinations of the correlations to the four tumour centroids
   (plus proliferation score and tumour size for the variants that use them), grouped
   low/medium/high with the reference thresholds on the raw score and reported on the
   reference's 0-100 scale ``100 * (raw + 0.35) / 0.85``.
"""

from __future__ import annotations

import json
import logging
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import GeneMappingError, ScaleError

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData
    from mudata import MuData

logger = logging.getLogger(__name__)

#: reference centroid names -> harmonomics labels
CENTROID_LABELS = {
    "luminal_a": "LumA",
    "luminal_b": "LumB",
    "her2": "Her2",
    "basal": "Basal",
    "normal": "Normal",
}
#: the fewest PAM50 genes the caller accepts
MIN_GENES = 40
#: values above this on data without negative values are taken as linear scale (counts, TPM, FPKM)
LINEAR_SCALE_MAX = 100.0
#: ROR models: harmonomics suffix -> (reference coefficient key(s), threshold key, needs prolif, needs size)
ROR_MODELS = {
    "s": (("subtype",), "subtype", False, False),
    "p": (("prolif",), "prolif", True, False),
    "c": (("clinical",), "clinical", False, True),
    "pt": (("prolif_clinical", "prolif_clinial"), "prolif_clinical", True, True),
}
_ER_POSITIVE = {"positive", "pos", "+", "1", "1.0", "true", "er+", "yes", "y", "p"}
_ER_NEGATIVE = {"negative", "neg", "-", "0", "0.0", "false", "er-", "no", "n"}


@lru_cache(maxsize=1)
def reference() -> dict[str, Any]:
    """The bundled PAM50 reference: centroids, proliferation genes, ROR coefficients and thresholds.

    Returns
    -------
    dict with ``centroids`` (DataFrame 50 genes x 5 centroids, columns LumA/LumB/Her2/Basal/Normal,
    current HGNC symbols as index), ``proliferation_genes`` (list of symbols), ``ror_coeffs`` and
    ``ror_thresholds`` (dicts as in the reference JSON files).
    """
    from .. import data

    centroids = pd.read_csv(data.path("pam50", "pam50_centroids.tsv"), sep="\t", index_col=0)
    centroids = centroids.rename(columns=CENTROID_LABELS)[list(_keys.PAM50_LABELS)]
    annot = pd.read_csv(data.path("pam50", "pam50_annot.tsv"), sep="\t", index_col=0)
    prolif = [g for g in centroids.index if int(annot.loc[g, "proliferative"]) == 1]
    with open(data.path("pam50", "ror_coeffs.json")) as handle:
        coeffs = json.load(handle)
    with open(data.path("pam50", "ror_thresholds.json")) as handle:
        thresholds = json.load(handle)
    return {
        "centroids": centroids.astype(float),
        "proliferation_genes": prolif,
        "ror_coeffs": coeffs,
        "ror_thresholds": thresholds,
    }


def _container_and_modality(mdata, mod: str):
    """Return (object whose obs/obsm/uns receive results, AnnData holding the expression)."""
    from anndata import AnnData
    from mudata import MuData

    if isinstance(mdata, MuData):
        if mod not in mdata.mod:
            raise KeyError(f"PAM50: modality {mod!r} not in the store; it holds {sorted(mdata.mod)}")
        return mdata, mdata.mod[mod]
    if isinstance(mdata, AnnData):
        return mdata, mdata
    raise TypeError(f"PAM50: expected a MuData or AnnData, got {type(mdata).__name__}")


def _dense(matrix) -> np.ndarray:
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    return np.asarray(matrix, dtype=float)


def _spearman_rows(values: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Spearman correlation of every row of ``values`` (samples x genes, NaN = missing) to each centroid column.

    Correlations use, for each sample, the genes it has (average ranks for ties), like R's
    ``cor(method="spearman", use="pairwise.complete.obs")``.
    """
    from scipy.stats import rankdata

    n, k = values.shape[0], centroids.shape[1]
    out = np.full((n, k), np.nan)
    present = ~np.isnan(values)
    patterns, inverse = np.unique(present, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    for p, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse == p)
        if pattern.sum() < 3:
            continue
        rv = rankdata(values[np.ix_(rows, np.flatnonzero(pattern))], axis=1)
        rc = rankdata(centroids[pattern], axis=0)
        rv = rv - rv.mean(axis=1, keepdims=True)
        rc = rc - rc.mean(axis=0, keepdims=True)
        num = rv @ rc
        den = np.sqrt((rv**2).sum(axis=1))[:, None] * np.sqrt((rc**2).sum(axis=0))[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[rows] = num / den
    return out


def _standardize_rows(values: np.ndarray) -> np.ndarray:
    """Centre and scale each row over its non-missing values, with R ``scale()``'s arithmetic.

    Means and sums of squares are accumulated in extended precision and rounded once to double,
    as R does; the ranks of the standardised values (and so the Spearman correlations, where
    values differ in their last bits) then agree with the reference implementation exactly.
    """
    present = ~np.isnan(values)
    n = present.sum(axis=1)
    filled = np.where(present, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (filled.astype(np.longdouble).sum(axis=1) / n).astype(float)
        centred = values - mean[:, None]
        squares = np.where(present, centred * centred, 0.0)
        sd = np.sqrt(squares.astype(np.longdouble).sum(axis=1).astype(float) / np.maximum(1, n - 1))
        return centred / sd[:, None]


def _otsu_split(values: np.ndarray) -> float:
    """Threshold maximising the between-group variance of ``values`` (Otsu's method, 1-D)."""
    v = np.sort(values[np.isfinite(values)])
    n = v.size
    csum = np.cumsum(v)
    total = csum[-1]
    best, cut = -np.inf, v[0]
    for i in range(1, n):
        if v[i] == v[i - 1]:
            continue
        m1 = csum[i - 1] / i
        m2 = (total - csum[i - 1]) / (n - i)
        between = i * (n - i) * (m1 - m2) ** 2
        if between > best:
            best, cut = between, (v[i - 1] + v[i]) / 2
    return float(cut)


def _er_status(
    container, samples: pd.Index, er_status: str | None, esr1: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, str]:
    """ER+ and ER- masks for ``samples`` (unknown status in neither) and a description of how ER was decided."""
    if er_status is not None:
        if er_status not in container.obs.columns:
            raise KeyError(f"PAM50: er_status column {er_status!r} not in obs; columns: {list(container.obs.columns)}")
        raw = container.obs[er_status].reindex(samples)
        labels = raw.astype(object).map(lambda v: str(v).strip().lower() if pd.notna(v) else None)
        unknown = sorted({v for v in labels.dropna() if v not in _ER_POSITIVE | _ER_NEGATIVE})
        if unknown:
            raise ValueError(
                f"PAM50: er_status column {er_status!r} has values {unknown} that are neither positive "
                f"({sorted(_ER_POSITIVE)}) nor negative ({sorted(_ER_NEGATIVE)})"
            )
        return (
            labels.isin(_ER_POSITIVE).to_numpy(),
            labels.isin(_ER_NEGATIVE).to_numpy(),
            f"obs column {er_status!r}",
        )
    if esr1 is None:
        raise GeneMappingError(
            "PAM50: centering='er_balanced' needs ER status: give er_status=<obs column> or data with ESR1 expression"
        )
    known = np.isfinite(esr1)
    if known.sum() < 2:
        raise ValueError(
            "PAM50: ESR1 is measured in fewer than 2 samples; give er_status=<obs column> to decide ER status"
        )
    cut = _otsu_split(esr1[known])
    return (
        known & (esr1 > cut),
        known & (esr1 <= cut),
        f"ESR1 expression above {cut:.4g} (Otsu split of log ESR1)",
    )


def _tumor_size(container, samples: pd.Index, column: str) -> np.ndarray:
    if column not in container.obs.columns:
        raise KeyError(f"PAM50: tumor_size column {column!r} not in obs; columns: {list(container.obs.columns)}")
    raw = container.obs[column].reindex(samples)
    if raw.dtype == bool or str(raw.dtype) == "boolean":
        values = raw.astype(float).to_numpy()
    else:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = raw.notna().to_numpy() & ~np.isin(values, [0.0, 1.0])
        if bad.any():
            example = raw[bad].iloc[0]
            raise ValueError(
                f"PAM50: tumor_size column {column!r} must be an indicator of tumour size > 2 cm (0/1 or bool); "
                f"sample {samples[bad][0]!r} has {example!r}"
            )
    return values


def _ror_group(raw: np.ndarray, low: float, high: float) -> pd.Categorical:
    group = np.where(raw >= high, "high", np.where(raw <= low, "low", "medium")).astype(object)
    group[~np.isfinite(raw)] = np.nan
    return pd.Categorical(group, categories=["low", "medium", "high"], ordered=True)


def pam50(
    mdata: MuData | AnnData,
    *,
    mod: str = _keys.RNA,
    centering: Literal["median", "er_balanced", "none"] = "median",
    layer: str | None = None,
    log_transform: bool | None = None,
    er_status: str | None = None,
    tumor_size: str | None = None,
    random_state: int = 0,
    key_added: str = _keys.KEY_PAM50,
    copy: bool = False,
) -> MuData | AnnData | None:
    """Call PAM50 intrinsic subtypes with proliferation score and risk of recurrence (ROR).

    Reproduces the UNC reference implementation (Parker et al. 2009, *J Clin Oncol* 27:1160;
    hoadley-lab/pam50): on its 200-subject test set all calls, correlations, proliferation
    scores and ROR values agree.

    Parameters
    ----------
    mdata
        The store (MuData); an AnnData of expression (samples x genes) also works.
    mod
        Modality holding mRNA expression.
    centering
        How each gene is centred before correlating to the centroids:

        ``"median"``
            subtract each gene's median over the cohort. Right for cohorts with a mix of
            subtypes roughly like the population the centroids were trained on (unselected
            breast cancers, TCGA-BRCA).
        ``"er_balanced"``
            subtract each gene's median over an ER-balanced subset: every sample of the
            smaller ER group plus as many samples, drawn at random (``random_state``), from the
            larger group. Use it for cohorts skewed to ER+ (e.g. a luminal trial) or ER−
            (a triple-negative series), where the cohort median would shift all calls. ER
            status comes from the ``er_status`` obs column if given, else from ESR1:
            samples above Otsu's threshold of log ESR1 (the cut that best separates the two
            groups) are ER+.
        ``"none"``
            use the data as they are: for data already centred (e.g. against a platform
            reference) or for single samples.
    layer
        Layer of the modality to use instead of ``.X``.
    log_transform
        ``True``: apply ``log2(x + 1)``; ``False``: use the values as they are; ``None``
        (default): log-transform when the data look linear-scale (no negative values and a
        maximum above 100, as RNA-seq counts, TPM or FPKM are).
    er_status
        obs column with ER status (positive/negative, 1/0, True/False) for ``"er_balanced"``;
        samples with a missing status (or, without ``er_status``, without ESR1) are left out
        of the balanced subset.
    tumor_size
        obs column indicating tumour size > 2 cm (0/1 or bool). When given, the clinical ROR
        variants (ROR-C and ROR-PT) are computed as well.
    random_state
        Seed for the ER-balanced subset.
    key_added
        Prefix of the result slots.
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None``, or the modified copy with ``copy=True``. Written (samples without the modality get NaN):

    ``obs[key_added]``
        categorical call: LumA, LumB, Her2, Basal, Normal.
    ``obs[key_added + "_confidence"]``
        gap between the highest and second-highest correlation.
    ``obs[key_added + "_proliferation"]``
        proliferation score (mean of the 11 proliferation genes after centring and per-sample
        standardisation).
    ``obs[key_added + "_ror_s"]``, ``obs[key_added + "_ror_s_group"]``
        ROR from subtype correlations (0-100 scale) and its low/medium/high group.
    ``obs[key_added + "_ror_p"]``, ``obs[key_added + "_ror_p_group"]``
        ROR from subtype correlations and proliferation score.
    ``obs[key_added + "_ror_c"]``, ``..._ror_c_group``, ``..._ror_pt``, ``..._ror_pt_group``
        with ``tumor_size``: ROR with tumour size (ROR-C) and with proliferation and tumour size (ROR-PT).
    ``obsm[key_added + "_corr"]``
        DataFrame samples x 5 centroids of Spearman correlations.
    ``uns[key_added]``
        dict: ``genes_used``, ``genes_missing`` (symbols), ``features_used`` (the cohort's
        IDs), ``centers`` (value subtracted per gene used), ``log_transformed``, ``n_samples``,
        ``params`` (mod, layer, centering, ER details, tumour-size column), ``reference`` and
        ``ror_scale``.

    Raises
    ------
    GeneMappingError
        Fewer than 40 of the 50 PAM50 genes were found.
    ScaleError
        ``log_transform=True`` on data with negative values.
    """
    if centering not in ("median", "er_balanced", "none"):
        raise ValueError(f"PAM50: centering must be 'median', 'er_balanced' or 'none', got {centering!r}")
    if copy:
        mdata = mdata.copy()
    container, adata = _container_and_modality(mdata, mod)
    ref = reference()
    centroids: pd.DataFrame = ref["centroids"]
    genes = list(centroids.index)

    found, used, values, missing = _pam50_genes(adata, genes, mod=mod, layer=layer)
    if adata.n_obs < 2 and centering != "none":
        raise ValueError(
            f"PAM50: centering={centering!r} needs at least 2 samples, got {adata.n_obs}; "
            "use centering='none' for pre-centred data"
        )

    values, log_transform = _log_scale(values, mod=mod, log_transform=log_transform)

    samples = pd.Index(adata.obs_names)
    params: dict[str, Any] = {
        "mod": mod,
        "layer": layer or "X",
        "centering": centering,
        "tumor_size": tumor_size or "",
    }
    centers = _centers(values, used, centering, container, samples, er_status, random_state, params)
    centred = values - centers

    z = _standardize_rows(centred)

    corr = _spearman_rows(z, centroids.loc[used].to_numpy())
    corr_df = pd.DataFrame(corr, index=samples, columns=list(_keys.PAM50_LABELS))
    valid = np.isfinite(corr).all(axis=1)
    order = np.argsort(-np.where(np.isfinite(corr), corr, -np.inf), axis=1)
    calls = np.asarray(_keys.PAM50_LABELS, dtype=object)[order[:, 0]]
    calls[~valid] = np.nan
    top = np.take_along_axis(corr, order[:, :2], axis=1)
    confidence = np.where(valid, top[:, 0] - top[:, 1], np.nan)

    prolif_idx = [used.index(g) for g in ref["proliferation_genes"] if g in used]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        prolif = np.nanmean(z[:, prolif_idx], axis=1) if prolif_idx else np.full(len(samples), np.nan)

    results = pd.DataFrame(index=samples)
    results[key_added] = pd.Categorical(calls, categories=list(_keys.PAM50_LABELS))
    results[f"{key_added}_confidence"] = confidence
    results[f"{key_added}_proliferation"] = prolif

    _add_ror(results, corr_df, prolif, ref, container, samples, tumor_size=tumor_size, key_added=key_added)

    # write into the container (global obs for a MuData), NaN for samples without the modality
    if key_added in container.obs.columns:
        logger.info("PAM50: overwriting obs column %r", key_added)
    obs_names = pd.Index(container.obs_names)
    for column in results.columns:
        container.obs[column] = results[column].reindex(obs_names)
    container.obsm[f"{key_added}_corr"] = corr_df.reindex(obs_names)
    container.uns[key_added] = {
        "genes_used": list(used),
        "genes_missing": list(missing),
        "features_used": [str(found[g]) for g in used],
        "centers": np.asarray(centers, dtype=float),
        "log_transformed": bool(log_transform),
        "n_samples": len(samples),
        "params": params,
        "reference": "Parker et al. 2009 J Clin Oncol 27:1160; UNC reference implementation hoadley-lab/pam50",
        "ror_scale": "100 * (raw + 0.35) / 0.85; groups from the raw score",
    }
    counts = results[key_added].value_counts().to_dict()
    logger.info("PAM50: %d samples called on %d genes: %s", int(valid.sum()), len(used), counts)
    return mdata if copy else None


def _pam50_genes(adata: AnnData, genes: list[str], *, mod: str, layer: str | None):
    """The PAM50 genes measured in ``adata``: (symbol → feature, genes used, their values, genes missing).

    A gene measured in no sample counts as missing; fewer than ``MIN_GENES`` raise, any missing gene warns.
    """
    from .._genes import match_symbols

    found = match_symbols(genes, adata.var_names, adata.var)
    if layer is not None and layer not in adata.layers:
        raise KeyError(f"PAM50: layer {layer!r} not in modality {mod!r}; layers: {list(adata.layers)}")
    matrix = adata.layers[layer] if layer is not None else adata.X
    used = [g for g in genes if g in found]
    columns = [adata.var_names.get_loc(found[g]) for g in used]
    values = _dense(matrix[:, columns]) if used else np.empty((adata.n_obs, 0))
    # a gene measured in no sample counts as missing
    keep = ~np.all(np.isnan(values), axis=0) if adata.n_obs else np.zeros(len(used), dtype=bool)
    used = [g for g, k in zip(used, keep, strict=True) if k]
    values = values[:, keep]
    missing = [g for g in genes if g not in used]
    if len(used) < MIN_GENES:
        too_few = f"PAM50: only {len(used)} of the 50 PAM50 genes found in modality {mod!r} (need at least {MIN_GENES})"
        raise GeneMappingError(
            f"{too_few}; missing: {missing}. Expected gene symbols, Ensembl IDs "
            f"or SYMBOL|ENTREZ IDs (feature IDs seen: {list(adata.var_names[:3])}...)",
            reason=too_few,
            missing=missing,
        )
    if missing:
        warnings.warn(
            f"PAM50: {len(missing)} of the 50 PAM50 genes missing from modality {mod!r}: {missing}; "
            f"calls use the {len(used)} genes present",
            UserWarning,
            stacklevel=3,
        )
    return found, used, values, missing


def _log_scale(values: np.ndarray, *, mod: str, log_transform: bool | None) -> tuple[np.ndarray, bool]:
    """``log2(x + 1)`` of linear-scale values (``log_transform=None`` decides from the values' range)."""
    finite = values[np.isfinite(values)]
    has_negative = finite.size > 0 and finite.min() < 0
    if log_transform is None:
        log_transform = bool(finite.size and not has_negative and finite.max() > LINEAR_SCALE_MAX)
    if log_transform:
        if has_negative:
            raise ScaleError(
                f"PAM50: log_transform=True but modality {mod!r} has negative values (min {finite.min():.3g}); "
                "expected non-negative counts/TPM. Pass log_transform=False for data already on a log scale"
            )
        values = np.log2(values + 1.0)
        logger.info(
            "PAM50: data look linear-scale (max %.3g); applied log2(x + 1)",
            finite.max() if finite.size else np.nan,
        )
    return values, log_transform


def _centers(values, used, centering, container, samples, er_status, random_state, params) -> np.ndarray:
    """The value subtracted per gene: the cohort median, the median of an ER-balanced subset, or 0.

    ER-balanced centring records its ER counts and subset size in ``params``.
    """
    if centering == "median":
        return np.nanmedian(values, axis=0)
    if centering == "none":
        return np.zeros(values.shape[1])
    esr1 = values[:, used.index("ESR1")] if "ESR1" in used else None
    is_pos, is_neg, source = _er_status(container, samples, er_status, esr1)
    pos, neg = np.flatnonzero(is_pos), np.flatnonzero(is_neg)
    if min(pos.size, neg.size) < 3:
        raise ValueError(
            f"PAM50: centering='er_balanced' needs at least 3 ER+ and 3 ER- samples; found {pos.size} ER+ and "
            f"{neg.size} ER- ({source}). Use centering='median' or 'none'"
        )
    rng = np.random.default_rng(random_state)
    small, large = (pos, neg) if pos.size <= neg.size else (neg, pos)
    subset = np.sort(np.concatenate([small, rng.choice(large, size=small.size, replace=False)]))
    centers = np.nanmedian(values[subset], axis=0)
    params.update(
        {
            "er_source": source,
            "n_er_positive": int(pos.size),
            "n_er_negative": int(neg.size),
            "n_er_unknown": int(len(samples) - pos.size - neg.size),
            "n_centering_subset": int(subset.size),
            "random_state": int(random_state),
        }
    )
    logger.info(
        "PAM50: ER-balanced centring on %d samples (%d ER+, %d ER- in cohort; %s)",
        subset.size,
        pos.size,
        neg.size,
        source,
    )
    return centers


def _add_ror(results, corr_df, prolif, ref, container, samples, *, tumor_size, key_added) -> None:
    """Risk-of-recurrence scores and groups of each ROR model the data allow, as columns of ``results``."""
    size = _tumor_size(container, samples, tumor_size) if tumor_size is not None else None
    tumour_centroids = {"basal": "Basal", "her2": "Her2", "luminal_a": "LumA", "luminal_b": "LumB"}
    for suffix, (coef_keys, threshold_key, needs_prolif, needs_size) in ROR_MODELS.items():
        if needs_size and size is None:
            continue
        coefs = next(ref["ror_coeffs"][k] for k in coef_keys if k in ref["ror_coeffs"])
        raw = sum(coefs[name] * corr_df[label].to_numpy() for name, label in tumour_centroids.items())
        if needs_prolif:
            raw = raw + coefs["prolif_score"] * prolif
        if needs_size:
            raw = raw + coefs["tumor_size"] * size
        thresholds = ref["ror_thresholds"][threshold_key]
        results[f"{key_added}_ror_{suffix}"] = 100.0 * (raw + 0.35) / 0.85
        results[f"{key_added}_ror_{suffix}_group"] = _ror_group(raw, thresholds["low"], thresholds["high"])
