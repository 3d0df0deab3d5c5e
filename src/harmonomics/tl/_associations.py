"""Factor <-> covariate associations: which latent factors track subtype, immune scores, age...

One tidy table, shared by the subtype and immune tools (contract in docs/dev/helpers_contract.md):
one row per factor x covariate, and for categorical covariates one row per level.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys, _results
from .._clinical import uns_table
from .._results import factor_scores
from ._multitest import bh_fdr

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData
    from mudata import MuData

logger = logging.getLogger(__name__)

COLUMNS = [
    "factor",
    "covariate",
    "kind",
    "test",
    "level",
    "n",
    "n_level",
    "statistic",
    "pvalue",
    "fdr",
    "auc",
    "mean_diff",
    "level_pvalue",
    "rho",
]


resolve_covariate = _results.sample_variable


def _is_categorical(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def _categorical_rows(factor: str, covariate: str, x: np.ndarray, labels: pd.Series) -> list[dict]:
    from scipy.stats import kruskal, mannwhitneyu

    levels = [
        lv
        for lv in (
            labels.cat.categories if isinstance(labels.dtype, pd.CategoricalDtype) else sorted(labels.unique(), key=str)
        )
        if (labels == lv).any()
    ]
    groups = [x[(labels == lv).to_numpy()] for lv in levels]
    statistic = pvalue = np.nan
    if len(levels) >= 2 and np.ptp(x) > 0:
        statistic, pvalue = kruskal(*groups)
    rows = []
    for level, inside in zip(levels, groups, strict=True):
        outside = x[(labels != level).to_numpy()]
        auc = mean_diff = level_p = np.nan
        if inside.size and outside.size:
            u = mannwhitneyu(inside, outside, alternative="two-sided")
            auc = float(u.statistic) / (inside.size * outside.size)
            level_p = float(u.pvalue)
            mean_diff = float(inside.mean() - outside.mean())
        rows.append(
            {
                "factor": factor,
                "covariate": covariate,
                "kind": "categorical",
                "test": "kruskal",
                "level": str(level),
                "n": int(x.size),
                "n_level": int(inside.size),
                "statistic": float(statistic),
                "pvalue": float(pvalue),
                "auc": auc,
                "mean_diff": mean_diff,
                "level_pvalue": level_p,
                "rho": np.nan,
            }
        )
    return rows


def _empty_row(factor: str, covariate: str, kind: str, n: int) -> dict:
    return {
        "factor": factor,
        "covariate": covariate,
        "kind": kind,
        "test": "kruskal" if kind == "categorical" else "spearman",
        "level": None,
        "n": n,
        "n_level": np.nan,
        "statistic": np.nan,
        "pvalue": np.nan,
        "auc": np.nan,
        "mean_diff": np.nan,
        "level_pvalue": np.nan,
        "rho": np.nan,
    }


def _numeric_row(factor: str, covariate: str, x: np.ndarray, y: np.ndarray) -> dict:
    from scipy.stats import spearmanr

    rho = pvalue = np.nan
    if x.size >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
        result = spearmanr(x, y)
        rho, pvalue = float(result.statistic), float(result.pvalue)
    return {
        "factor": factor,
        "covariate": covariate,
        "kind": "numeric",
        "test": "spearman",
        "level": None,
        "n": int(x.size),
        "n_level": np.nan,
        "statistic": rho,
        "pvalue": pvalue,
        "auc": np.nan,
        "mean_diff": np.nan,
        "level_pvalue": np.nan,
        "rho": rho,
    }


def associate(
    mdata: MuData | AnnData,
    *,
    key: str = _keys.KEY_MOFA,
    covariates: Sequence[str] = (_keys.KEY_PAM50,),
    factors: Sequence[str] | None = None,
    min_samples: int = 5,
    key_added: str | None = None,
) -> pd.DataFrame:
    """Test every factor against every covariate.

    Categorical covariates (strings, categories, booleans): Kruskal-Wallis test of the factor
    across levels, and for each level one-vs-rest AUC (probability that a sample of the level
    scores higher than one outside it), mean difference (level minus rest) and Mann-Whitney p.
    Numeric covariates: Spearman correlation. Samples missing the factor score or the
    covariate are left out of that test. To treat a numeric code (e.g. 0/1) as categorical,
    cast the column to ``category`` first.

    Parameters
    ----------
    mdata
        Store with factor scores ``obsm[key]`` (samples x factors, NaN rows allowed).
    key
        Factor result key (``obsm[key]``, names from ``uns[key]["factor_names"]``).
    covariates
        Names resolved as: an ``obs`` column; ``"<obsm key>:<column>"`` for a column of an
        obsm DataFrame, e.g. ``"immune:ESTIMATE_immune"``; or a bare column name found in
        exactly one obsm DataFrame.
    factors
        Subset of factor names to test (default: all).
    min_samples
        Factor x covariate pairs with fewer complete samples are reported with NaN statistics.
    key_added
        Also store the table in ``mdata.uns[key_added]`` (default: not stored). ``f"{key}_associations"`` is
        where :func:`harmonomics.pl.associations` and the pipeline look. The stored copy is h5mu-safe: ``level``
        is ``""`` on rows without a level.

    Returns
    -------
    Tidy DataFrame, one row per factor x covariate (x level for categorical covariates), with
    columns ``factor``, ``covariate``, ``kind`` ("categorical"/"numeric"), ``test``
    ("kruskal"/"spearman"), ``level`` (categorical rows), ``n`` (samples tested),
    ``n_level``, ``statistic`` (H or rho), ``pvalue``, ``fdr`` (Benjamini-Hochberg over all
    tests of the same kind; a Kruskal-Wallis test counts once, its value repeated on its level
    rows), ``auc``, ``mean_diff``, ``level_pvalue`` (categorical rows) and ``rho`` (numeric rows).
    Rows are ordered by covariate (as given), then p-value (strongest first), then level.

    Raises
    ------
    MissingResultError
        No factor scores ``obsm[key]``.
    KeyError
        A covariate or factor is not found.
    """
    if isinstance(covariates, str):
        covariates = (covariates,)
    covariates = list(covariates)
    if not covariates:
        raise ValueError("associate: give at least one covariate")
    if len(set(covariates)) != len(covariates):
        raise ValueError(f"associate: covariates listed twice: {covariates}")
    scores = factor_scores(mdata, key)
    if factors is not None:
        factors = [factors] if isinstance(factors, str) else list(factors)
        unknown = [f for f in factors if f not in scores.columns]
        if unknown:
            raise KeyError(f"associate: factors {unknown} not in obsm[{key!r}]; factors: {list(scores.columns)}")
        scores = scores[factors]

    rows: list[dict] = []
    for covariate in covariates:
        values = resolve_covariate(mdata, covariate).reindex(scores.index)
        categorical = _is_categorical(values)
        if categorical and not isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object).where(values.notna(), None)
        for factor in scores.columns:
            x = scores[factor].to_numpy()
            ok = np.isfinite(x) & values.notna().to_numpy()
            if categorical:
                labels = values[ok]
                if isinstance(labels.dtype, pd.CategoricalDtype):
                    labels = labels.cat.remove_unused_categories()
                else:
                    labels = labels.astype(str)
                new = _categorical_rows(factor, covariate, x[ok], labels) if ok.sum() >= min_samples else []
                if not new:  # too few usable samples: one row of NaN statistics
                    new = [_empty_row(factor, covariate, "categorical", int(ok.sum()))]
                rows.extend(new)
            else:
                y = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
                ok &= np.isfinite(y)
                if ok.sum() >= min_samples:
                    row = _numeric_row(factor, covariate, x[ok], y[ok])
                else:
                    row = _empty_row(factor, covariate, "numeric", int(ok.sum()))
                rows.append(row)

    table = pd.DataFrame(rows)
    table["fdr"] = np.nan
    for test in table["test"].unique():
        in_test = table["test"] == test
        # one p-value per factor x covariate test (categorical tests span several level rows)
        tests = table.loc[in_test, ["factor", "covariate", "pvalue"]].drop_duplicates(["factor", "covariate"])
        tests["fdr"] = bh_fdr(tests["pvalue"].to_numpy())
        merged = table.loc[in_test, ["factor", "covariate"]].merge(tests[["factor", "covariate", "fdr"]], how="left")
        table.loc[in_test, "fdr"] = merged["fdr"].to_numpy()

    order = {c: i for i, c in enumerate(covariates)}
    factor_order = {f: i for i, f in enumerate(scores.columns)}
    table["_cov"] = table["covariate"].map(order)
    table["_p"] = table["pvalue"].fillna(np.inf)
    table["_s"] = -table["statistic"].abs().fillna(-np.inf)
    table["_f"] = table["factor"].map(factor_order)
    table["_row"] = np.arange(len(table))
    table = table.sort_values(["_cov", "_p", "_s", "_f", "_row"], kind="stable").drop(
        columns=["_cov", "_p", "_s", "_f", "_row"]
    )
    table = table.reset_index(drop=True)[COLUMNS]
    table["level"] = table["level"].astype(object)
    table["n"] = table["n"].astype(int)
    if key_added is not None:
        mdata.uns[key_added] = uns_table(table)
        logger.info("associate: %d rows stored in uns[%r]", len(table), key_added)
    return table


SUMMARY_COLUMNS = ["factor", "covariate", "kind", "test", "p", "label", "level", "auc", "rho"]


def association_summary(table: pd.DataFrame, *, value: str = "fdr") -> pd.DataFrame:
    """One row per factor × covariate test of an :func:`associate` table: its p-value (or FDR) and effect.

    Overall test rows are those without a ``level`` (when a table has one-vs-rest detail rows per level as
    well); where a covariate has only per-level rows, the smallest value is used. For a categorical covariate
    the effect is the level whose samples differ most on the factor (the one-vs-rest AUC furthest from 0.5);
    for a numeric one, Spearman's ρ.

    Parameters
    ----------
    table
        The tidy table of :func:`associate` (or its stored copy in ``uns``): columns ``factor``,
        ``covariate``, the one named by ``value`` and, where present, ``kind``, ``test``, ``level``, ``auc``,
        ``rho``.
    value
        The column that gives ``p``: ``"fdr"`` or ``"pvalue"``.

    Returns
    -------
    DataFrame with columns ``factor``, ``covariate``, ``kind``, ``test`` (the table's test name, e.g.
    ``kruskal`` or ``spearman``; empty when the table has none), ``p``, ``label`` (a short text of the effect:
    ``"+0.42"`` for ρ, ``"Basal ↑"`` for a level with higher (↑) or lower (↓) scores), ``level``, ``auc``,
    ``rho``; in the table's order of first appearance.

    Raises
    ------
    TypeError
        ``table`` is no DataFrame.
    ValueError
        A needed column is missing.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"expected a DataFrame from hm.tl.associate, got {type(table).__name__}")
    missing = [c for c in ("factor", "covariate", value) if c not in table.columns]
    if missing:
        raise ValueError(
            f"association table lacks column(s) {missing}; expected the table of hm.tl.associate with "
            f"columns factor, covariate, kind, test, statistic, pvalue, fdr (got {list(table.columns)})"
        )
    t = table.copy()
    t["factor"] = t["factor"].astype(str)
    t["covariate"] = t["covariate"].astype(str)
    has_level = "level" in t.columns
    if has_level:
        lv = t["level"]
        t["_overall"] = lv.isna() | (lv.astype(str).str.strip().isin(["", "nan", "None"]))
    else:
        t["_overall"] = True
    out = []
    for (factor, cov), g in t.groupby(["factor", "covariate"], sort=False):
        overall = g[g["_overall"]]
        detail = g[~g["_overall"]]
        vals = pd.to_numeric(overall[value] if len(overall) else g[value], errors="coerce")
        p = float(vals.min()) if vals.notna().any() else np.nan
        kind = str(g["kind"].iloc[0]) if "kind" in g.columns else ""
        test = str(g["test"].iloc[0]) if "test" in g.columns else ""
        rho = np.nan
        if "rho" in g.columns:
            r = pd.to_numeric(g["rho"], errors="coerce").dropna()
            rho = float(r.iloc[0]) if len(r) else np.nan
        level, auc = None, np.nan
        if has_level and "auc" in g.columns and len(detail):
            a = pd.to_numeric(detail["auc"], errors="coerce")
            if a.notna().any():
                best = (a - 0.5).abs().idxmax()
                level, auc = str(detail.loc[best, "level"]), float(a[best])
        if kind == "numeric" or (kind == "" and np.isfinite(rho)):
            label = f"{rho:+.2f}" if np.isfinite(rho) else ""
        elif level is not None:
            label = f"{_shorten(level, 12)} {'↑' if auc >= 0.5 else '↓'}"
        else:
            label = ""
        out.append(
            {
                "factor": factor,
                "covariate": cov,
                "kind": kind,
                "test": test,
                "p": p,
                "label": label,
                "level": level,
                "auc": auc,
                "rho": rho,
            }
        )
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def _shorten(label: str, width: int) -> str:
    # a level name short enough for a heatmap cell
    return label if len(label) <= width else label[: width - 1] + "…"
