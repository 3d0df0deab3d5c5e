"""One patient against the cohort: nearest samples in factor space, and actionable alterations per group.

Both feed the patient card and the cohort report (``hm.report``), which only show what these return.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from .. import _keys, _results
from .._errors import InsufficientDataError, MissingResultError, StoreFormatError
from .._lookup import resolve_sample

logger = logging.getLogger(__name__)

__all__ = ["nearest_samples", "actionable_by_group"]

#: Distances between two samples' factor scores, by name (``scipy.spatial.distance.cdist`` metrics).
METRICS = {
    "euclidean": "Euclidean distance between the factor-score vectors",
    "correlation": "1 − Pearson correlation between the factor-score vectors (0: same profile, 2: opposite)",
}
#: Per-sample labels copied beside each neighbour when the store has them.
NEIGHBOUR_LABELS = (_keys.KEY_PAM50, "clinical_group")
#: The uns table written by hm.tl.actionable (contract B) and its columns used here.
ACTIONABLE_KEY = _keys.KEY_ACTIONABLE
ACTIONABLE_COLUMNS = ("sample", "biomarker", "therapy_class")
#: Columns of the enrichment test that :func:`actionable_by_group` appends to the counts.
ENRICHMENT_COLUMNS = ("odds_ratio", "odds_ratio_low", "odds_ratio_high", "p", "fdr")
#: The test behind them, as recorded in the table's ``attrs["test"]``.
ENRICHMENT_TEST = (
    "two-sided Fisher exact test of each group against all other grouped samples (carriers / non-carriers); "
    "conditional maximum-likelihood odds ratio with exact 95% CI; Benjamini-Hochberg FDR over the tested rows"
)


def nearest_samples(
    mdata: Any,
    sample: str,
    *,
    key: str = _keys.KEY_MOFA,
    n: int = 5,
    metric: str = "euclidean",
) -> pd.DataFrame:
    """The ``n`` samples closest to one sample in factor space.

    Distances are computed between the rows of the factor scores ``obsm[key]`` (read through the result layer),
    over every factor; samples with a missing score are left out (logged).

    Parameters
    ----------
    mdata
        MuData with factor scores ``obsm[key]`` (e.g. from :func:`harmonomics.tl.mofa`).
    sample
        A sample ID of ``mdata.obs_names`` or a TCGA barcode of any level (a 12-character patient barcode means
        that patient's sample, its primary tumour when it has several).
    key
        Result key of the factor model.
    n
        Number of neighbours (fewer when the store has fewer other samples with scores).
    metric
        ``"euclidean"`` or ``"correlation"`` (see :data:`METRICS`).

    Returns
    -------
    Tidy DataFrame, one row per neighbour, nearest first: ``sample``, ``distance``, ``rank`` (1 = nearest; ties
    broken by sample ID), then ``patient``, ``pam50`` and ``clinical_group`` where ``obs`` has them. ``attrs``
    holds ``query`` (the resolved sample ID), ``key`` and ``metric``.

    Raises
    ------
    UnknownSampleError
        ``sample`` is not in the store (the message lists the closest IDs).
    MissingResultError
        No factor scores ``obsm[key]``.
    InsufficientDataError
        ``sample`` has no (or a missing) factor score, or no other sample has one.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    from scipy.spatial.distance import cdist

    query = resolve_sample(mdata, sample)
    scores = _results.factor_scores(mdata, key)
    complete = np.isfinite(scores.to_numpy()).all(axis=1)
    if not complete[scores.index.get_loc(query)]:
        raise InsufficientDataError(
            f"sample {query!r} has no complete factor scores in obsm[{key!r}] (missing values); "
            "no neighbours can be computed for it"
        )
    if (~complete).any():
        logger.info("nearest_samples: %d samples without complete factor scores left out", int((~complete).sum()))
    others = scores[complete & (scores.index != query)]
    if others.empty:
        raise InsufficientDataError(f"no sample other than {query!r} has factor scores in obsm[{key!r}]")
    distance = cdist(scores.loc[[query]].to_numpy(), others.to_numpy(), metric=metric)[0]
    table = pd.DataFrame({"sample": others.index.astype(str), "distance": distance})
    table = table.sort_values(["distance", "sample"], kind="stable").head(int(n)).reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    obs = mdata.obs
    for column in (_keys.OBS_PATIENT, *NEIGHBOUR_LABELS):
        if column in obs.columns:
            values = obs[column].reindex(table["sample"]).to_numpy()
            table[column] = pd.Series(values, dtype=obs[column].dtype)
    table.attrs.update({"query": query, "key": key, "metric": metric})
    return table


def actionable_by_group(
    mdata: Any,
    *,
    groupby: str = _keys.KEY_PAM50,
    key: str = ACTIONABLE_KEY,
) -> pd.DataFrame:
    """How many samples of each group carry each actionable biomarker, and whether the group is enriched for it.

    A sample counts once per biomarker however many of its alterations point to it. The denominator of a
    biomarker in a group is the samples of that ``obs[groupby]`` value that were **assessed** for it
    (``obsm[f"{key}_assessed"]`` of :func:`harmonomics.tl.actionable`: the omic present, the gene on the
    sample's gene panel); a sample not assessed is unknown, not a non-carrier. A store without that table
    (written before it existed) uses every sample of the group. Samples without a group value are not counted
    (logged).

    Each row is tested with a two-sided Fisher exact test (:data:`ENRICHMENT_TEST`) of the 2×2 table carriers /
    non-carriers in the group against carriers / non-carriers in all other grouped samples (the same
    denominators as the counts). The effect size is the conditional maximum-likelihood odds ratio with its exact
    95% confidence interval (:func:`scipy.stats.contingency.odds_ratio`, ``kind="conditional"``): above 1, the
    biomarker is more frequent in the group than in the rest. ``fdr`` is the Benjamini–Hochberg adjustment over
    every tested row of the returned table (one family). A row has no testable contrast, and gets NaN ``p``,
    ``fdr`` and odds ratio (not counted in the family), when the rest is empty (a single group holds every
    grouped sample) or when every grouped sample carries the biomarker (only one 2×2 table is then possible).

    Parameters
    ----------
    mdata
        MuData with the table ``uns[key]`` of :func:`harmonomics.tl.actionable` and the column ``obs[groupby]``.
    groupby
        Column of ``obs`` that defines the groups (default: the PAM50 call).
    key
        Key of the actionable-alterations table in ``uns``.

    Returns
    -------
    Tidy DataFrame, one row per biomarker and group (groups in their category order, biomarkers by the number
    of samples carrying them, most first): ``biomarker``, ``therapy_class`` (the classes the table gives for
    it, joined by "; "), ``groupby`` (named after the column), ``n_samples`` (with the biomarker), ``n_group``
    (the denominator: samples of the group assessed for the biomarker), ``percent`` (100 · n_samples /
    n_group; NaN when none was assessed), then the enrichment test of the group against
    the other grouped samples: ``odds_ratio`` (conditional MLE; ``inf`` when no sample of the rest carries it,
    0 when none of the group does), ``odds_ratio_low`` and ``odds_ratio_high`` (exact 95% CI), ``p`` (two-sided
    Fisher exact test) and ``fdr`` (Benjamini–Hochberg over the tested rows); NaN where the contrast is
    untestable (see above). ``attrs["test"]`` names the test and the correction, ``attrs["n_tests"]`` counts the
    tested rows. Empty (same columns) when no sample of a group carries any biomarker.

    Raises
    ------
    MissingResultError
        No ``uns[key]`` table or no ``obs[groupby]`` column.
    StoreFormatError
        The table lacks a needed column.
    """
    table = mdata.uns.get(key)
    if not isinstance(table, pd.DataFrame):
        raise MissingResultError(
            f"no actionable-alterations table in mdata.uns[{key!r}]; run hm.tl.actionable(mdata, key_added={key!r})"
        )
    missing = [c for c in ACTIONABLE_COLUMNS if c not in table.columns]
    if missing:
        raise StoreFormatError(
            f"mdata.uns[{key!r}] lacks the column(s) {missing}; it has {list(table.columns)} (see hm.tl.actionable)"
        )
    if groupby not in mdata.obs.columns:
        hint = " run hm.tl.pam50(mdata) first;" if groupby == _keys.KEY_PAM50 else ""
        raise MissingResultError(f"no column obs[{groupby!r}] to group by;{hint} obs has {list(mdata.obs.columns)}")
    groups = mdata.obs[groupby]
    levels = _levels(groups)
    known = groups.notna().to_numpy()
    if (~known).any():
        logger.info("actionable_by_group: %d samples without %s are not counted", int((~known).sum()), groupby)
    group_of = pd.Series(groups.astype(object).to_numpy(), index=mdata.obs_names.astype(str))[known].astype(str)
    n_group = group_of.value_counts().reindex(levels, fill_value=0)

    rows = table.loc[:, list(ACTIONABLE_COLUMNS)].astype({"sample": str})
    unknown = sorted(set(rows["sample"]) - set(mdata.obs_names.astype(str)))
    if unknown:
        logger.warning(
            "actionable_by_group: %d samples of uns[%r] are not in the store (e.g. %s); not counted",
            len(unknown),
            key,
            unknown[0],
        )
    carriers = rows[rows["sample"].isin(group_of.index)].drop_duplicates(["sample", "biomarker"])
    columns = ["biomarker", "therapy_class", groupby, "n_samples", "n_group", "percent", *ENRICHMENT_COLUMNS]
    if carriers.empty:
        floats = {"percent", *ENRICHMENT_COLUMNS}
        empty = pd.DataFrame({c: pd.Series(dtype=float if c in floats else object) for c in columns})
        empty.attrs.update({"test": ENRICHMENT_TEST, "n_tests": 0})
        return empty
    counts = pd.crosstab(carriers["biomarker"], carriers["sample"].map(group_of)).reindex(columns=levels, fill_value=0)
    order = counts.sum(axis=1).sort_values(ascending=False, kind="stable").index
    counts = counts.loc[order]
    denominators = _denominators(mdata, key, group_of, levels, list(order), n_group)
    classes = rows.groupby("biomarker")["therapy_class"].agg(lambda s: "; ".join(sorted({str(v) for v in s.dropna()})))
    out = counts.stack().rename("n_samples").reset_index()
    out.columns = ["biomarker", groupby, "n_samples"]
    out["therapy_class"] = out["biomarker"].map(classes).fillna("")
    out["n_group"] = [int(denominators.at[b, g]) for b, g in zip(out["biomarker"], out[groupby], strict=True)]
    out["n_samples"] = out["n_samples"].astype(int)
    out["percent"] = 100.0 * out["n_samples"] / out["n_group"].where(out["n_group"] > 0)
    out[groupby] = pd.Categorical(out[groupby], categories=levels)
    n_carriers = out["biomarker"].map(counts.sum(axis=1)).astype(int)
    n_total = out["biomarker"].map(denominators.sum(axis=1)).astype(int)
    enrichment = _enrichment(out["n_samples"], out["n_group"], n_carriers, n_total)
    for column in ENRICHMENT_COLUMNS:
        out[column] = enrichment[column]
    out = out[columns]
    out.attrs.update({"test": ENRICHMENT_TEST, "n_tests": int(np.isfinite(out["p"]).sum())})
    return out


def _denominators(
    mdata: Any, key: str, group_of: pd.Series, levels: list[str], biomarkers: list[str], n_group: pd.Series
) -> pd.DataFrame:
    """Biomarkers × groups: how many samples of each group were assessed for each biomarker (``obsm`` table of
    hm.tl.actionable), else every sample of the group."""
    out = pd.DataFrame({g: int(n_group[g]) for g in levels}, index=pd.Index(biomarkers, dtype=object))
    assessed = mdata.obsm.get(f"{key}_assessed") if f"{key}_assessed" in mdata.obsm else None
    if not isinstance(assessed, pd.DataFrame):
        return out
    assessed = assessed.set_axis(assessed.index.astype(str)).reindex(group_of.index)
    for biomarker in biomarkers:
        if biomarker in assessed.columns:
            flags = assessed[biomarker].eq(True)  # samples absent from the table (NaN) were not assessed
            out.loc[biomarker] = group_of[flags.to_numpy()].value_counts().reindex(levels, fill_value=0).to_numpy()
    return out


def _enrichment(in_group: pd.Series, n_group: pd.Series, n_carriers: pd.Series, n_total: pd.Series) -> pd.DataFrame:
    """Fisher exact test and conditional odds ratio of each group against the rest; BH over the tested rows."""
    from scipy.stats import fisher_exact
    from scipy.stats.contingency import odds_ratio

    from ._multitest import bh_fdr

    rows = []
    for a, size, carriers, total in zip(in_group, n_group, n_carriers, n_total, strict=True):
        rest_carriers, rest = carriers - a, total - size
        if size == 0 or rest == 0 or carriers == total:  # no sample assessed, one group only, or carried by all
            rows.append((np.nan, np.nan, np.nan, np.nan))
            continue
        table = [[a, size - a], [rest_carriers, rest - rest_carriers]]
        estimate = odds_ratio(table, kind="conditional")
        interval = estimate.confidence_interval(0.95)
        rows.append((estimate.statistic, interval.low, interval.high, fisher_exact(table).pvalue))
    result = pd.DataFrame(rows, columns=list(ENRICHMENT_COLUMNS[:-1]), index=in_group.index, dtype=float)
    result["fdr"] = bh_fdr(result["p"].to_numpy())
    return result


def _levels(values: pd.Series) -> list[str]:
    """Group levels in category order (canonical PAM50 order for PAM50 calls), else sorted; only those present."""
    present = {str(v) for v in values.dropna()}
    if isinstance(values.dtype, pd.CategoricalDtype):
        ordered = [str(c) for c in values.cat.categories]
    elif present <= set(_keys.PAM50_LABELS):
        ordered = list(_keys.PAM50_LABELS)
    else:
        ordered = sorted(present)
    return [level for level in ordered if level in present]
