"""Our calls against published ones: PAM50 labels, ESTIMATE purity, ER/HER2 status against their marker genes.

Each ``compare_*`` function returns a tidy table of agreement statistics; the ``*_values`` / ``label_confusion``
functions return the per-sample (or per-pair) data those statistics are computed on, for plotting. Columns that
a store lacks are left out; a store with none of them gives an empty table, never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import MissingResultError
from ._multitest import bh_fdr

if TYPE_CHECKING:  # pragma: no cover
    from mudata import MuData

logger = logging.getLogger(__name__)

#: Published PAM50 calls a store may carry as global obs columns (tcga_brca_121: UCSC Xena and TCGA 2012).
PUBLISHED_PAM50 = ("pam50_xena", "pam50_tcga2012")
#: Published purity columns (Aran et al. 2015, Nat Commun 6:8971): ESTIMATE, ABSOLUTE and CPE.
PUBLISHED_PURITY = ("purity_estimate", "purity_absolute", "purity_cpe")
#: Receptor status columns and the features that should separate their classes: (status column, modality, gene).
STATUS_MARKERS = (
    ("er_status", _keys.RNA, "ESR1"),
    ("her2_status", _keys.RNA, "ERBB2"),
    ("her2_status", _keys.CNV, "ERBB2"),
)

# the TCGA 2012 vocabulary (and its "BRCA." prefixed form) onto the PAM50 labels used everywhere else
_PAM50_SYNONYMS = {
    "luminal a": "LumA",
    "luma": "LumA",
    "luminal b": "LumB",
    "lumb": "LumB",
    "her2-enriched": "Her2",
    "her2": "Her2",
    "basal-like": "Basal",
    "basal": "Basal",
    "normal-like": "Normal",
    "normal": "Normal",
}
_NOT_A_CALL = {"", "not_applicable", "not applicable", "na", "nan", "none", "[not available]"}


def normalize_pam50(values: pd.Series) -> pd.Series:
    """PAM50 labels in the package's vocabulary (LumA, LumB, Her2, Basal, Normal); NaN for no call.

    Accepts the TCGA 2012 names with or without the ``BRCA.`` prefix (``BRCA.Luminal A`` → ``LumA``) and
    ``Not_Applicable`` (→ NaN). Unknown labels are kept as they are, so that they show in a confusion table.
    """

    def one(value):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return np.nan
        text = str(value).strip()
        if text.upper().startswith("BRCA."):
            text = text[5:]
        if text.lower() in _NOT_A_CALL:
            return np.nan
        return _PAM50_SYNONYMS.get(text.lower(), text)

    return pd.Series([one(v) for v in values.astype(object)], index=values.index, dtype=object)


def _obs_column(mdata: MuData, column: str) -> pd.Series:
    values = mdata.obs[column].copy()
    values.index = pd.Index(mdata.obs_names.astype(str))
    return values


def _label_pairs(mdata: MuData, key: str, reference: str) -> pd.DataFrame:
    if key not in mdata.obs.columns:
        raise MissingResultError(f"no calls obs[{key!r}] in the store; run hm.tl.pam50(mdata) first")
    if reference not in mdata.obs.columns:
        raise KeyError(f"no reference column obs[{reference!r}]; obs columns: {list(mdata.obs.columns)}")
    pairs = pd.DataFrame(
        {
            "ours": normalize_pam50(_obs_column(mdata, key)),
            "reference": normalize_pam50(_obs_column(mdata, reference)),
        }
    )
    return pairs.dropna()


def _present(mdata: MuData, columns: Sequence[str] | str | None, default: Sequence[str]) -> list[str]:
    if columns is None:
        return [c for c in default if c in mdata.obs.columns and mdata.obs[c].notna().any()]
    columns = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in columns if c not in mdata.obs.columns]
    if missing:
        raise KeyError(f"reference column(s) {missing} not in obs; obs columns: {list(mdata.obs.columns)}")
    return columns


def compare_labels(
    mdata: MuData,
    *,
    key: str = _keys.KEY_PAM50,
    references: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """Agreement of our PAM50 calls with published labels.

    Parameters
    ----------
    mdata
        Store with our calls in ``obs[key]`` and published labels in obs.
    key
        obs column of our calls (:func:`harmonomics.tl.pam50` writes ``"pam50"``).
    references
        obs columns of published labels (default: those of :data:`PUBLISHED_PAM50` the store has). Labels are
        compared after :func:`normalize_pam50`.

    Raises
    ------
    MissingResultError
        The store has published labels but no calls in ``obs[key]``.

    Returns
    -------
    Tidy table (empty when the store has no published label), one row per reference: ``reference``,
    ``n_compared`` (samples with both a call and a label),
    ``n_agree``, ``agreement`` (``n_agree / n_compared``), ``kappa`` (Cohen's kappa, unweighted; NaN with fewer
    than two samples or a single label on both sides).
    """
    from sklearn.metrics import cohen_kappa_score

    rows = []
    for reference in _present(mdata, references, PUBLISHED_PAM50):
        pairs = _label_pairs(mdata, key, reference)
        n, agree = len(pairs), int((pairs["ours"] == pairs["reference"]).sum())
        kappa = np.nan
        if n >= 2 and len(set(pairs["ours"]) | set(pairs["reference"])) > 1:
            kappa = float(cohen_kappa_score(pairs["ours"], pairs["reference"]))
        rows.append(
            {
                "reference": reference,
                "n_compared": n,
                "n_agree": agree,
                "agreement": agree / n if n else np.nan,
                "kappa": kappa,
            }
        )
    return pd.DataFrame(rows, columns=["reference", "n_compared", "n_agree", "agreement", "kappa"])


def label_confusion(mdata: MuData, reference: str, *, key: str = _keys.KEY_PAM50) -> pd.DataFrame:
    """Confusion table of our calls against one published label, as a tidy long table.

    Parameters
    ----------
    mdata
        Store with our calls in ``obs[key]`` and the published label in ``obs[reference]``.
    reference
        obs column of the published label (compared after :func:`normalize_pam50`).
    key
        obs column of our calls.

    Returns
    -------
    One row per (our call, published label) pair over the labels seen on either side (PAM50 order first),
    zeros included: ``ours``, ``reference``, ``n``. ``pivot(index="ours", columns="reference", values="n")``
    gives the usual matrix.
    """
    pairs = _label_pairs(mdata, key, reference)
    seen = set(pairs["ours"]) | set(pairs["reference"])
    levels = [lv for lv in _keys.PAM50_LABELS if lv in seen] + sorted(seen - set(_keys.PAM50_LABELS))
    counts = pairs.value_counts(["ours", "reference"])
    index = pd.MultiIndex.from_product([levels, levels], names=["ours", "reference"])
    return counts.reindex(index, fill_value=0).rename("n").reset_index()


def purity_values(
    mdata: MuData,
    *,
    key: str = _keys.KEY_IMMUNE,
    column: str = "estimate_purity",
    references: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """Our purity and each published purity, per sample (the data :func:`compare_purity` uses).

    Parameters
    ----------
    mdata
        Store with our purity in ``obsm[key][column]`` and published purity in obs.
    key, column
        Where our purity is.
    references
        obs columns of published purity (default: those of :data:`PUBLISHED_PURITY` the store has).

    Returns
    -------
    Tidy table, one row per sample x reference where both values exist: ``sample``, ``reference``, ``ours``,
    ``published``.

    Raises
    ------
    MissingResultError
        The store has published purity but no ``obsm[key][column]`` (run :func:`harmonomics.tl.immune_scores`).
    """
    present = _present(mdata, references, PUBLISHED_PURITY)
    if not present:
        return pd.DataFrame(columns=["sample", "reference", "ours", "published"])
    table = mdata.obsm.get(key, None)
    if not isinstance(table, pd.DataFrame) or column not in table.columns:
        raise MissingResultError(
            f"no purity obsm[{key!r}][{column!r}] in the store; run hm.tl.immune_scores(mdata) on RNA data first"
        )
    ours = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    parts = []
    for reference in present:
        published = pd.to_numeric(mdata.obs[reference], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(ours) & np.isfinite(published)
        parts.append(
            pd.DataFrame(
                {
                    "sample": mdata.obs_names.astype(str)[ok],
                    "reference": reference,
                    "ours": ours[ok],
                    "published": published[ok],
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["sample", "reference", "ours", "published"])
    return pd.concat(parts, ignore_index=True)


def compare_purity(
    mdata: MuData,
    *,
    key: str = _keys.KEY_IMMUNE,
    column: str = "estimate_purity",
    references: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """Our ESTIMATE purity against published purity estimates (ESTIMATE, ABSOLUTE, CPE; Aran et al. 2015).

    Parameters
    ----------
    mdata
        Store with our purity in ``obsm[key][column]`` and published purity in obs.
    key, column
        Where our purity is (:func:`harmonomics.tl.immune_scores` writes ``obsm["immune"]["estimate_purity"]``).
    references
        obs columns of published purity (default: those of :data:`PUBLISHED_PURITY` the store has).

    Raises
    ------
    MissingResultError
        The store has published purity but no ``obsm[key][column]``.

    Returns
    -------
    Tidy table (empty when the store has no published purity), one row per reference: ``reference``, ``n``
    (samples with both), ``spearman_rho``,
    ``spearman_pvalue``, ``spearman_fdr``, ``pearson_r``, ``pearson_pvalue``, ``pearson_fdr``, ``mean_abs_diff``
    (mean of |ours − published|), ``mean_diff`` (mean of ours − published). The FDRs are Benjamini–Hochberg
    across the references, one family per test. Statistics are NaN with fewer than three samples.
    """
    from scipy.stats import pearsonr, spearmanr

    pairs = purity_values(mdata, key=key, column=column, references=references)
    rows = []
    for reference in _present(mdata, references, PUBLISHED_PURITY):
        sub = pairs[pairs["reference"] == reference]
        row = {
            "reference": reference,
            "n": len(sub),
            "spearman_rho": np.nan,
            "spearman_pvalue": np.nan,
            "pearson_r": np.nan,
            "pearson_pvalue": np.nan,
            "mean_abs_diff": np.nan,
            "mean_diff": np.nan,
        }
        if len(sub) >= 3 and np.ptp(sub["ours"]) > 0 and np.ptp(sub["published"]) > 0:
            rho = spearmanr(sub["ours"], sub["published"])
            r = pearsonr(sub["ours"], sub["published"])
            diff = sub["ours"] - sub["published"]
            row.update(
                spearman_rho=float(rho.statistic),
                spearman_pvalue=float(rho.pvalue),
                pearson_r=float(r.statistic),
                pearson_pvalue=float(r.pvalue),
                mean_abs_diff=float(diff.abs().mean()),
                mean_diff=float(diff.mean()),
            )
        rows.append(row)
    table = pd.DataFrame(
        rows,
        columns=[
            "reference",
            "n",
            "spearman_rho",
            "spearman_pvalue",
            "pearson_r",
            "pearson_pvalue",
            "mean_abs_diff",
            "mean_diff",
        ],
    )
    table.insert(4, "spearman_fdr", bh_fdr(table["spearman_pvalue"]))
    table.insert(7, "pearson_fdr", bh_fdr(table["pearson_pvalue"]))
    return table


def _feature_vector(mdata: MuData, mod: str, feature: str) -> pd.Series | None:
    """One feature of a modality by var name or ``var["gene_name"]``, indexed by the global sample names."""
    if mod not in mdata.mod:
        return None
    adata = mdata.mod[mod]
    names = pd.Index(adata.var_names.astype(str))
    if feature in names:
        position = int(names.get_indexer([feature])[0])
    elif "gene_name" in adata.var.columns and (adata.var["gene_name"].astype(str) == feature).any():
        position = int(np.flatnonzero((adata.var["gene_name"].astype(str) == feature).to_numpy())[0])
    else:
        return None
    column = adata.X[:, position]
    values = np.asarray(column.toarray() if hasattr(column, "toarray") else column, dtype=float).ravel()
    series = pd.Series(values, index=pd.Index(adata.obs_names.astype(str)))
    return series.reindex(pd.Index(mdata.obs_names.astype(str)))


def _status(values: pd.Series) -> pd.Series:
    text = (
        values.astype(object).where(values.notna(), None).map(lambda v: None if v is None else str(v).strip().lower())
    )
    return text.map({"positive": "Positive", "negative": "Negative", "pos": "Positive", "neg": "Negative"})


def status_values(mdata: MuData, *, markers: Sequence[tuple[str, str, str]] | None = None) -> pd.DataFrame:
    """Per sample, each receptor status and the value of its marker feature (the data :func:`compare_status` uses).

    Parameters
    ----------
    mdata
        Store with status columns in obs and the marker features in its modalities.
    markers
        ``(status column, modality, feature)`` triples (default :data:`STATUS_MARKERS`: ER vs ESR1 expression,
        HER2 vs ERBB2 expression and ERBB2 copy number). Triples whose column, modality or feature the store lacks
        are left out. The feature is found among the modality's var names or in ``var["gene_name"]``; the value is
        the modality's ``X``.

    Returns
    -------
    Tidy table, one row per sample x marker with a Positive/Negative status and a value: ``sample``,
    ``status_column``, ``status`` (``Positive``/``Negative``; other statuses such as Equivocal are left out),
    ``mod``, ``feature``, ``value``.
    """
    parts = []
    for status_column, mod, feature in markers if markers is not None else STATUS_MARKERS:
        if status_column not in mdata.obs.columns:
            continue
        values = _feature_vector(mdata, mod, feature)
        if values is None:
            logger.info("status: no feature %r in modality %r; %s not compared with it", feature, mod, status_column)
            continue
        status = _status(_obs_column(mdata, status_column))
        ok = status.notna() & values.notna()
        parts.append(
            pd.DataFrame(
                {
                    "sample": status.index[ok],
                    "status_column": status_column,
                    "status": status[ok].to_numpy(),
                    "mod": mod,
                    "feature": feature,
                    "value": values[ok].to_numpy(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["sample", "status_column", "status", "mod", "feature", "value"])
    return pd.concat(parts, ignore_index=True)


def compare_status(mdata: MuData, *, markers: Sequence[tuple[str, str, str]] | None = None) -> pd.DataFrame:
    """How well each marker separates the Positive from the Negative samples of a receptor status.

    Mann–Whitney U test (two-sided) per marker; the p-values are Benjamini–Hochberg adjusted across the markers
    compared (one family).

    Parameters
    ----------
    mdata
        Store with status columns in obs (``er_status``, ``her2_status``: Positive/Negative) and the marker
        features in its modalities.
    markers
        See :func:`status_values`.

    Returns
    -------
    Tidy table, one row per marker: ``status_column``, ``mod``, ``feature``, ``n_positive``, ``n_negative``,
    ``median_positive``, ``median_negative``, ``auc`` (probability that a Positive sample has the higher value;
    ties count one half), ``statistic`` (U of the Positive samples), ``pvalue``, ``fdr``.
    """
    from scipy.stats import mannwhitneyu

    values = status_values(mdata, markers=markers)
    rows = []
    for (status_column, mod, feature), sub in values.groupby(["status_column", "mod", "feature"], sort=False):
        pos = sub.loc[sub["status"] == "Positive", "value"].to_numpy(float)
        neg = sub.loc[sub["status"] == "Negative", "value"].to_numpy(float)
        row = {
            "status_column": status_column,
            "mod": mod,
            "feature": feature,
            "n_positive": pos.size,
            "n_negative": neg.size,
            "median_positive": float(np.median(pos)) if pos.size else np.nan,
            "median_negative": float(np.median(neg)) if neg.size else np.nan,
            "auc": np.nan,
            "statistic": np.nan,
            "pvalue": np.nan,
        }
        if pos.size and neg.size:
            test = mannwhitneyu(pos, neg, alternative="two-sided")
            row.update(
                auc=float(test.statistic) / (pos.size * neg.size),
                statistic=float(test.statistic),
                pvalue=float(test.pvalue),
            )
        rows.append(row)
    table = pd.DataFrame(
        rows,
        columns=[
            "status_column",
            "mod",
            "feature",
            "n_positive",
            "n_negative",
            "median_positive",
            "median_negative",
            "auc",
            "statistic",
            "pvalue",
        ],
    )
    table["fdr"] = bh_fdr(table["pvalue"])
    return table
