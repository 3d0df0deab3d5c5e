"""ESTIMATE (Yoshihara et al. 2013): the method's own worked example and the vectorised enrichment score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmonomics.tl import _estimate


def _naive_es(values: np.ndarray, hits: set[int], alpha: float = 0.25) -> float:
    """ESTIMATE's running sum written out gene by gene (as the R code does)."""
    from scipy.stats import rankdata

    n = values.size
    scaled = 10000.0 * rankdata(values, method="average") / n
    order = np.argsort(-values, kind="stable")
    hit = np.array([g in hits for g in order], dtype=float)
    weight = scaled[order] ** alpha
    reward = np.cumsum(hit * weight / (hit * weight).sum())
    penalty = np.cumsum((1 - hit) / (1 - hit).sum())
    return float((reward - penalty).sum())


def test_ssgsea_closed_form_matches_running_sum():
    rng = np.random.default_rng(0)
    values = rng.gamma(1.0, 10.0, size=(6, 300)).round(0)  # many ties, as in counts
    sets = {"a": np.arange(0, 40), "b": rng.choice(300, 25, replace=False)}
    fast = _estimate.ssgsea_scores(values, sets)
    for name, idx in sets.items():
        naive = [_naive_es(row, set(idx.tolist())) for row in values]
        np.testing.assert_allclose(fast[name], naive, rtol=1e-10, atol=1e-8)


def test_ssgsea_empty_set_is_nan():
    out = _estimate.ssgsea_scores(np.arange(12.0).reshape(2, 6), {"none": np.array([], dtype=int)})
    assert np.isnan(out["none"]).all()


def test_purity_formula_and_negative_cosine():
    assert _estimate.purity(np.array([0.0]))[0] == pytest.approx(np.cos(0.6049872018))
    # far beyond the calibrated range the cosine turns negative: NaN, as in ESTIMATE
    assert np.isnan(_estimate.purity(np.array([20000.0]))[0])


def test_match_common_genes_uses_synonyms_conservatively():
    table = _estimate.common_genes()
    # a common gene under an old symbol that is a synonym of that gene only
    syn = table.dropna(subset=["external_synonym"])
    unique_syn = syn[
        ~syn["external_synonym"].duplicated(keep=False) & ~syn["external_synonym"].isin(table["hgnc_symbol"])
    ]
    gene, alias = unique_syn.iloc[0][["hgnc_symbol", "external_synonym"]]
    other = table["hgnc_symbol"].drop_duplicates().iloc[5]
    symbols = pd.Series([alias, other, other], index=["f0", "f1", "f2"], dtype=object)
    found = _estimate.match_common_genes(symbols).set_index("hgnc_symbol")
    assert found.loc[gene, "feature"] == "f0" and found.loc[gene, "via"] == "synonym"
    assert found.loc[other, "feature"] == "f1"  # the first of duplicated features
    assert len(found) == 2


def test_estimate_reference_ov(shared_data):
    """The published scores of ESTIMATE's own example (10 ovarian tumours, Affymetrix)."""
    import anndata as ad

    import harmonomics as hm

    ref = shared_data / "estimate_reference"
    expression = pd.read_csv(ref / "ov_affymetrix_expression.tsv.gz", sep="\t", index_col=0)
    expected = pd.read_csv(ref / "ov_expected_scores.tsv", sep="\t", index_col=0)
    adata = ad.AnnData(expression.T.astype(float))
    hm.tl.immune_scores(adata, methods=["estimate"])
    got = adata.obsm["immune"].loc[expected.index]
    info = adata.uns["immune"]["estimate"]
    assert info["n_common_genes"] > 10300 and info["n_via_synonym"] > 400  # common-gene restriction + synonyms
    assert adata.uns["immune"]["params"]["scale_detected"] == "log2"
    for ours, theirs in [
        ("estimate_stromal", "stromal"),
        ("estimate_immune", "immune"),
        ("estimate_score", "estimate"),
    ]:
        np.testing.assert_allclose(got[ours], expected[theirs], atol=3.0)  # spec: 10 points
    np.testing.assert_allclose(got["estimate_purity"], expected["purity"], atol=0.001)  # spec: 0.005
    assert "Affymetrix" in info["purity_note"]
