"""ESTIMATE (Yoshihara et al. 2013): stromal, immune and ESTIMATE scores and tumour purity.

Private helpers of :func:`harmonomics.tl.immune_scores`. The method, per sample:

1. restrict the data to ESTIMATE's "common genes" (10,391 genes measured on six platforms),
   matching current HGNC symbols first and then old symbols through the synonym table
   (the conservative rule of tidyestimate: a missing common gene is matched only when exactly
   one of its synonyms is found in the data and that data row matches no other missing gene);
2. rank the genes of the sample (average ties) and scale the ranks to ``10000 * rank / n``;
3. order the genes by decreasing value (ties keep the gene order), weight hits by value**0.25;
   running sum of ``hit * weight / sum(hit weights) - miss / n_misses``; the score is the sum
   of the running sum over all genes (single-sample GSEA, Barbie et al. 2009);
4. ESTIMATE score = stromal + immune; purity = cos(0.6049872018 + 0.0001467884 * ESTIMATE)
   (calibrated on Affymetrix arrays; NaN where the cosine is negative).

Everything is per sample: no statistic of the other samples enters a sample's score.
The sum of the running sum is computed in closed form (``sum_i cumsum(P)_i = sum_j (n - j) P_j``
for 0-based position ``j``), so the whole cohort is scored with one rank and one argsort.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

PURITY_INTERCEPT = 0.6049872018
PURITY_SLOPE = 0.0001467884
SIGNATURES = {"stromal": "StromalSignature", "immune": "ImmuneSignature"}


@lru_cache(maxsize=1)
def common_genes() -> pd.DataFrame:
    """ESTIMATE common genes: ``entrezgene_id``, ``hgnc_symbol``, ``external_synonym`` (row per synonym)."""
    from .. import data

    return pd.read_csv(data.path("estimate", "common_genes.tsv"), sep="\t", dtype=str)


@lru_cache(maxsize=1)
def signatures() -> dict[str, tuple[str, ...]]:
    """``{"stromal": genes, "immune": genes}`` in current HGNC symbols (141 genes each)."""
    from .. import data

    table = pd.read_csv(data.path("signatures", "estimate_SI_geneset_yoshihara2013.tsv"), sep="\t", dtype=str)
    return {
        name: tuple(table.loc[table["signature"] == label, "gene_hgnc_tidyestimate"])
        for name, label in SIGNATURES.items()
    }


def match_common_genes(symbols: pd.Series) -> pd.DataFrame:
    """Match a cohort's features to the ESTIMATE common genes.

    Parameters
    ----------
    symbols
        Gene symbol of every feature (index = feature ID, None where unknown), in feature order.

    Returns
    -------
    DataFrame with one row per common gene found, in the order of ``hgnc_symbol``: ``hgnc_symbol``,
    ``feature`` (the feature ID used), ``position`` (0-based feature position) and ``via``
    (``"symbol"`` or ``"synonym"``). A common gene matched by several features uses the first.
    """
    table = common_genes()
    wanted = pd.Index(table["hgnc_symbol"].unique())
    features = pd.DataFrame(
        {
            "feature": symbols.index.astype(str),
            "symbol": symbols.to_numpy(dtype=object),
            "position": np.arange(len(symbols)),
        }
    )
    known = features[features["symbol"].notna()]
    direct = known[known["symbol"].isin(wanted)].drop_duplicates("symbol", keep="first")
    direct = direct.assign(hgnc_symbol=direct["symbol"], via="symbol")

    missing = wanted.difference(direct["hgnc_symbol"])
    candidates = table[table["hgnc_symbol"].isin(missing) & table["external_synonym"].notna()]
    candidates = candidates[["hgnc_symbol", "external_synonym"]].drop_duplicates()
    # every data row carrying that synonym, as in tidyestimate (rows matched directly included)
    hits = candidates.merge(known, left_on="external_synonym", right_on="symbol", how="inner")
    hits = hits[hits.groupby("hgnc_symbol")["hgnc_symbol"].transform("size") == 1]
    hits = hits[hits.groupby("position")["position"].transform("size") == 1]
    hits = hits.assign(via="synonym")

    columns = ["hgnc_symbol", "feature", "position", "via"]
    found = pd.concat([direct[columns], hits[columns]], ignore_index=True)
    return found.sort_values("hgnc_symbol", kind="stable").reset_index(drop=True)


def ssgsea_scores(
    values: np.ndarray, gene_sets: dict[str, np.ndarray], *, alpha: float = 0.25, chunk: int = 128
) -> dict[str, np.ndarray]:
    """Single-sample enrichment scores as in ESTIMATE, for every sample (row) of ``values``.

    Parameters
    ----------
    values
        samples × genes, finite and non-negative (only the order within each row matters, so any
        per-sample monotone transform such as log2 or library-size scaling gives the same scores).
    gene_sets
        ``{name: column indices of the set's genes}`` (unique indices).
    alpha
        Weight exponent applied to the scaled ranks (ESTIMATE: 0.25).
    chunk
        Samples processed at once (bounds the memory; results do not depend on it).

    Returns
    -------
    ``{name: scores}``, one float per sample; NaN for an empty set.

    Notes
    -----
    One stable ascending sort per sample gives both the average ranks (ties share the mean rank)
    and the positions in decreasing order (tied genes keep their column order, as R's ``order``
    does); the score of a set is then ``sum_hits (n - pos) w / sum_hits w - sum_misses (n - pos) / n_misses``,
    the sum of the running sum written in closed form.
    """
    values = np.asarray(values, dtype=float)
    n_samples, n_genes = values.shape
    masks = {}
    for name, idx in gene_sets.items():
        mask = np.zeros(n_genes, dtype=bool)
        mask[np.asarray(idx, dtype=int)] = True
        masks[name] = mask
    out = {name: np.full(n_samples, np.nan) for name in gene_sets}
    usable = {name: mask for name, mask in masks.items() if 0 < mask.sum() < n_genes}
    if not usable or n_samples == 0:
        return out
    total = n_genes * (n_genes + 1) / 2.0  # sum over all genes of (n - position)
    index = np.arange(n_genes)
    for start in range(0, n_samples, chunk):
        block = values[start : start + chunk] + 0.0  # -0.0 -> 0.0
        if (block >= 0).all():
            # non-negative floats sort like their int64 bit patterns, and integer sorting is faster
            order = np.argsort(block.view(np.int64), axis=1, kind="stable")
        else:
            order = np.argsort(block, axis=1, kind="stable")
        ordered = np.take_along_axis(block, order, axis=1)
        starts = np.ones(ordered.shape, dtype=bool)
        starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        ends = np.ones(ordered.shape, dtype=bool)
        ends[:, :-1] = starts[:, 1:]
        low = np.maximum.accumulate(np.where(starts, index, 0), axis=1)
        high = np.minimum.accumulate(np.where(ends, index, n_genes - 1)[:, ::-1], axis=1)[:, ::-1]
        weight = ((low + high) / 2.0 + 1.0) * (10000.0 / n_genes)  # scaled average rank
        weight **= alpha
        tail = (n_genes - ((n_genes - 1 - high) + (index - low))).astype(float)  # n - decreasing position
        del low, high, starts, ends, ordered
        for name, mask in usable.items():
            hit = mask[order]
            n_hits = int(mask.sum())
            hit_weight = np.where(hit, weight, 0.0)
            hit_part = (hit_weight * tail).sum(axis=1) / hit_weight.sum(axis=1)
            miss_part = (total - np.where(hit, tail, 0.0).sum(axis=1)) / (n_genes - n_hits)
            out[name][start : start + chunk] = hit_part - miss_part
    return out


def purity(estimate_score: np.ndarray) -> np.ndarray:
    """ESTIMATE purity ``cos(0.6049872018 + 0.0001467884 * score)``; NaN where negative (Affymetrix fit)."""
    value = np.cos(PURITY_INTERCEPT + PURITY_SLOPE * np.asarray(estimate_score, dtype=float))
    return np.where(value < 0, np.nan, value)
