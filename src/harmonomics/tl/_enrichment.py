"""Preranked gene-set enrichment of factor weights (gseapy's ``prerank``).

Each factor's weights in a view are a ranking of the view's genes; a gene set enriched at the top
(positive normalised enrichment score) or at the bottom (negative) of that ranking is what the
factor is about. gseapy's ``multilevel`` method (a port of fgsea's adaptive multilevel
Monte-Carlo) gives accurate small p-values quickly; the classic ``permutation`` method is also
available. Both are deterministic for a given ``seed``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import GeneMappingError, require
from .._genes import symbols_for
from .._progress import progress
from .._results import factor_names, fit_views, select, view_weights
from ._multitest import bh_fdr
from ._signatures import gene_sets_dict

if TYPE_CHECKING:  # pragma: no cover
    from mudata import MuData

logger = logging.getLogger(__name__)

COLUMNS = [
    "factor",
    "view",
    "gene_set",
    "n_genes",
    "es",
    "nes",
    "pvalue",
    "fdr",
    "direction",
    "leading_edge",
    "method",
]


def _ranking(mdata: MuData, key: str, view: str) -> pd.DataFrame:
    """Weights of a view indexed by gene symbol (duplicates: the feature with the largest |weight| per factor kept)."""
    weights = view_weights(mdata, key, view)
    adata = mdata.mod[view]
    symbols = symbols_for(adata.var_names.astype(str), adata.var).to_numpy()
    keep = np.array([isinstance(s, str) and s != "" for s in symbols])
    weights = weights.loc[keep]
    weights.index = pd.Index(symbols[keep], name="gene")
    if weights.index.has_duplicates:
        # per factor, keep the largest absolute weight among features of one gene
        collapsed = {}
        for factor in weights.columns:
            col = weights[factor].dropna()
            order = np.argsort(-np.abs(col.to_numpy()), kind="mergesort")
            col = col.iloc[order]
            collapsed[factor] = col[~col.index.duplicated(keep="first")]
        weights = pd.DataFrame(collapsed)
    return weights


def _prerank(gseapy, rnk, gene_sets, method, min_size, max_size, permutation_num, seed, eps) -> pd.DataFrame:
    with warnings.catch_warnings():
        # gseapy uses pandas APIs deprecated in recent pandas; the warnings are theirs to fix
        warnings.filterwarnings("ignore", module=r"gseapy(\..*)?$")
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        return gseapy.prerank(
            rnk=rnk,
            gene_sets=gene_sets,
            min_size=min_size,
            max_size=max_size,
            permutation_num=permutation_num,
            threads=1,
            seed=int(seed),
            no_plot=True,
            outdir=None,
            verbose=False,
            method=method,
            eps=eps,
        ).res2d.copy()


def enrichment(
    mdata: MuData,
    *,
    key: str = _keys.KEY_MOFA,
    gene_sets: Any = "builtin",
    views: Iterable[str] | str | None = None,
    factors: Iterable[str] | str | None = None,
    method: str = "multilevel",
    min_size: int = 5,
    max_size: int = 500,
    permutation_num: int = 1000,
    seed: int = 0,
    eps: float = 1e-10,
    key_added: str | None = None,
) -> pd.DataFrame:
    """Preranked enrichment of each factor's weights (gseapy ``prerank``).

    Features are mapped to gene symbols (Ensembl IDs through ``var`` symbol columns or the shipped
    tables, ``SYMBOL|ENTREZ`` IDs split); a gene with several features keeps the largest absolute
    weight. Views whose features match no gene set of ``min_size`` genes (methylation probes,
    miRNAs) are skipped when ``views`` is not given.

    Parameters
    ----------
    mdata
        Store holding a factor model under ``key``.
    key
        Key of the factor model.
    gene_sets
        ``"builtin"`` (PAM50 groups, ESTIMATE, TIS, CYT, Danaher, MCP-counter; see
        :func:`harmonomics.tl._signatures.builtin_gene_sets`), a path to a GMT file, a
        ``{name: genes}`` mapping or a gene-set table.
    views
        Views to test (default: every view of the fit whose genes overlap the gene sets).
    factors
        Factors to test (default: all).
    method
        ``"multilevel"`` (fgsea-style, default) or ``"permutation"`` (classic GSEA gene-set permutation).
    min_size, max_size
        Gene sets with fewer / more genes present in the ranking are not tested.
    permutation_num
        Permutations (``method="permutation"``); the smallest reportable p is ``1 / (permutation_num + 1)``.
    seed
        Random seed; the same seed gives the same table.
    eps
        ``method="multilevel"``: the smallest p-value estimated (smaller ones are reported as ``eps``);
        lower values cost time. Sets whose multilevel p-value is undefined (a one-sided null) are
        retested with ``permutation_num`` permutations; ``method`` says which test gave each row.
    key_added
        Where the table is written in ``uns`` (default ``f"{key}_enrichment"``).

    Returns
    -------
    Tidy table, one row per factor x view x gene set tested: ``factor``, ``view``, ``gene_set``,
    ``n_genes`` (genes of the set in the ranking), ``es``, ``nes`` (the statistic: normalised
    enrichment score, positive when the set sits at the factor's positive end), ``pvalue``,
    ``fdr`` (Benjamini–Hochberg over the gene sets of one factor and view), ``direction``
    (``positive``/``negative``), ``leading_edge`` (``;``-separated genes), ``method``.

    Writes ``mdata.uns[key_added]``: the same table.

    Raises
    ------
    GeneMappingError
        No view has a gene set with at least ``min_size`` genes.
    """
    gseapy = require("gseapy", extra="enrichment", purpose="preranked gene-set enrichment")
    if method not in ("multilevel", "permutation"):
        raise ValueError(f"method must be 'multilevel' or 'permutation'; got {method!r}")
    if not (
        isinstance(min_size, (int, np.integer))
        and isinstance(max_size, (int, np.integer))
        and 1 <= min_size <= max_size
    ):
        raise ValueError(f"need integers 1 <= min_size <= max_size; got min_size={min_size!r}, max_size={max_size!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer; got {seed!r}")
    if not 0 <= eps < 1:
        raise ValueError(f"eps must lie in [0, 1); got {eps!r}")
    sets = gene_sets_dict(gene_sets)
    names = factor_names(mdata, key)
    factors = select(factors, names, "factor(s)")
    explicit = views is not None
    views = select(views, fit_views(mdata, key), "view(s)")

    rows = []
    tested_any = False
    for view in views:
        ranking = _ranking(mdata, key, view)
        genes = set(ranking.index)
        usable = {}
        for name, members in sets.items():
            overlap = [g for g in members if g in genes]
            if min_size <= len(overlap) <= max_size:
                usable[name] = overlap
        if not usable:
            message = (
                f"view {view!r}: no gene set has between {min_size} and {max_size} of its genes among the view's "
                "features"
            )
            if explicit:
                logger.warning(message)
            else:
                logger.info(message + "; skipped")
            continue
        tested_any = True
        for factor in progress(factors, desc=f"enrichment ({view})", unit="factor"):
            rnk = ranking[factor].dropna()
            if (rnk != 0).sum() < min_size:
                logger.info(
                    "factor %s has fewer than %d non-zero weights in view %s: not tested",
                    factor,
                    min_size,
                    view,
                )
                continue
            rnk = rnk.sort_values(ascending=False, kind="mergesort")
            result = _prerank(gseapy, rnk, usable, method, min_size, max_size, permutation_num, seed, eps)
            result["method"] = method
            unresolved = result["NOM p-val"].astype(float).isna()
            if method == "multilevel" and unresolved.any():
                # fgsea's multilevel null can be too one-sided for a set; fall back to permutations for those sets
                terms = result.loc[unresolved, "Term"].astype(str).tolist()
                logger.info(
                    "factor %s, view %s: multilevel p-value undefined for %s; using %d permutations",
                    factor,
                    view,
                    terms,
                    permutation_num,
                )
                redo = _prerank(
                    gseapy,
                    rnk,
                    {t: usable[t] for t in terms},
                    "permutation",
                    min_size,
                    max_size,
                    permutation_num,
                    seed,
                    eps,
                )
                redo["method"] = "permutation"
                result = pd.concat([result.loc[~unresolved], redo], ignore_index=True)
            rows.append(_result_table(result, usable, factor, view, permutation_num))
    if not tested_any:
        raise GeneMappingError(
            f"no view of fit {key!r} ({views}) has a gene set with at least {min_size} genes among its features; "
            "are the features gene symbols or Ensembl IDs?"
        )
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=COLUMNS)
    table = table[COLUMNS]
    mdata.uns[key_added or f"{key}_enrichment"] = table
    logger.info("enrichment: %d tests (%s), %d with FDR < 0.05", len(table), method, int((table["fdr"] < 0.05).sum()))
    return table


def _result_table(result: pd.DataFrame, usable: dict, factor: str, view: str, permutation_num: int) -> pd.DataFrame:
    """One factor × view's gseapy result as tidy rows, with BH FDR over its sets (permutation p floored at 1/(n+1))."""
    pvalues = result["NOM p-val"].astype(float).to_numpy()
    is_perm = (result["method"] == "permutation").to_numpy()
    pvalues = np.where(is_perm, np.maximum(pvalues, 1.0 / (permutation_num + 1)), pvalues)
    nes = result["NES"].astype(float).to_numpy()
    part = pd.DataFrame(
        {
            "factor": factor,
            "view": view,
            "gene_set": result["Term"].astype(str).to_numpy(),
            "n_genes": [len(usable[t]) for t in result["Term"].astype(str)],
            "es": result["ES"].astype(float).to_numpy(),
            "nes": nes,
            "pvalue": pvalues,
            "fdr": bh_fdr(pvalues),
            "direction": np.where(nes >= 0, "positive", "negative"),
            "leading_edge": result["Lead_genes"].astype(str).to_numpy(),
            "method": result["method"].to_numpy(),
        }
    )
    return part.sort_values(["pvalue", "gene_set"], kind="mergesort")
