"""hm.tl.diablo_selected / diablo_correlations / diablo_contributions / diablo_clustered on a hand-made fit.

The fit (tests/diablo_fixture.py) is written in the contract layout without hm.tl.diablo; every expected value
is recomputed here with numpy from the stored X and variates.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import MissingResultError

_spec = importlib.util.spec_from_file_location("_diablo_fixture", Path(__file__).parents[1] / "diablo_fixture.py")
F = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(F)


@pytest.fixture
def store():
    return F.make_diablo_store()


def _column(mdata, block, feature):
    adata = mdata.mod[block]
    return pd.Series(np.asarray(adata.X, dtype=float)[:, list(adata.var_names).index(feature)], index=adata.obs_names)


def _pearson(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    return np.corrcoef(x[ok], y[ok])[0, 1], int(ok.sum())


def test_selected_is_the_stored_table(store):
    table = hm.tl.diablo_selected(store)
    assert list(table.columns) == ["feature", "block", "component", "loading"]
    want = [(f, b, k, w) for (b, k), chosen in F.SELECTED.items() for f, w in chosen.items()]
    assert list(table.itertuples(index=False, name=None)) == want
    assert table["component"].dtype.kind == "i"
    rna2 = hm.tl.diablo_selected(store, block="rna", component=2)
    assert rna2["feature"].tolist() == list(F.SELECTED[("rna", 2)])
    # a copy: editing it leaves the store alone
    table.loc[0, "loading"] = 99.0
    assert store.uns["diablo"]["selected"].loc[0, "loading"] == 0.62


def test_selected_bad_input(store):
    with pytest.raises(MissingResultError, match=r"hm.tl.diablo\(mdata, key_added='other'\)"):
        hm.tl.diablo_selected(store, key="other")
    store.uns["mofa_like"] = {"method": "mofa", "selected": None, "blocks": []}
    with pytest.raises(MissingResultError, match="not a dict with 'method': 'diablo'"):
        hm.tl.diablo_selected(store, key="mofa_like")
    with pytest.raises(ValueError, match="block 'cnv' is not a block"):
        hm.tl.diablo_selected(store, block="cnv")
    with pytest.raises(ValueError, match="out of range"):
        hm.tl.diablo_selected(store, component=3)


def test_feature_variate_correlations_equal_numpy(store):
    table = hm.tl.diablo_correlations(store).variates
    assert list(table.columns) == ["feature", "block", "component", "correlation"]
    n_expected = 0
    for block in F.BLOCKS:
        features = list(dict.fromkeys([*F.SELECTED[(block, 1)], *F.SELECTED[(block, 2)]]))
        n_expected += 2 * len(features)
        variates = store.mod[block].obsm["diablo"]
        for feature in features:
            for k in (1, 2):
                row = table[(table["block"] == block) & (table["feature"] == feature) & (table["component"] == k)]
                r, _ = _pearson(_column(store, block, feature), variates[f"comp{k}"])
                assert row["correlation"].item() == pytest.approx(r, abs=1e-12)
    assert len(table) == n_expected
    # GENE0 is selected on both components: one row per component, not two
    assert ((table["feature"] == "GENE0") & (table["component"] == 1)).sum() == 1
    # components=1: only features selected on comp1, only comp1 correlations
    one = hm.tl.diablo_correlations(store, components=1).variates
    assert set(one["component"]) == {1}
    assert set(one.loc[one["block"] == "mirna", "feature"]) == set(F.SELECTED[("mirna", 1)])


def test_cross_block_correlations_equal_numpy_on_shared_samples(store):
    cutoff = 0.6
    table = hm.tl.diablo_correlations(store, cutoff=cutoff).features
    assert list(table.columns) == ["feature_a", "block_a", "feature_b", "block_b", "n", "correlation"]
    expected = {}
    for i, block_a in enumerate(F.BLOCKS):
        for block_b in F.BLOCKS[i + 1 :]:
            shared = store.mod[block_a].obs_names.intersection(store.mod[block_b].obs_names)
            for fa in dict.fromkeys([*F.SELECTED[(block_a, 1)], *F.SELECTED[(block_a, 2)]]):
                for fb in dict.fromkeys([*F.SELECTED[(block_b, 1)], *F.SELECTED[(block_b, 2)]]):
                    a = _column(store, block_a, fa).loc[shared]
                    b = _column(store, block_b, fb).loc[shared]
                    r, n = _pearson(a, b)
                    if abs(r) >= cutoff:
                        expected[(fa, block_a, fb, block_b)] = (n, r)
    got = {(r.feature_a, r.block_a, r.feature_b, r.block_b): (r.n, r.correlation) for r in table.itertuples()}
    assert set(got) == set(expected) and len(got) == len(table) > 10
    for pair, (n, r) in expected.items():
        assert got[pair][0] == n
        assert got[pair][1] == pytest.approx(r, abs=1e-12)
    # pairs with prot use only the 36 samples with protein; GENE3 misses 3 values, all in samples with protein
    prot = table[table["block_b"] == "prot"]
    assert prot["n"].max() == store.mod["prot"].n_obs == 36
    gene3 = table[table["feature_a"] == "GENE3"]
    assert set(gene3.loc[gene3["block_b"] == "mirna", "n"]) == {45}
    assert set(gene3.loc[gene3["block_b"] == "prot", "n"]) == {33}
    # ordered by decreasing |r|; a stricter cutoff keeps a subset
    assert np.all(np.diff(table["correlation"].abs().to_numpy()) <= 0)
    strict = hm.tl.diablo_correlations(store, cutoff=0.9).features
    assert 0 < len(strict) < len(table) and (strict["correlation"].abs() >= 0.9).all()
    with pytest.raises(ValueError, match="cutoff"):
        hm.tl.diablo_correlations(store, cutoff=1.5)


def test_contributions_are_class_means(store):
    table = hm.tl.diablo_contributions(store, block="mirna", component=1)
    assert table["feature"].tolist() == list(F.SELECTED[("mirna", 1)])
    labels = store.obs["pam50"].reindex(store.mod["mirna"].obs_names).astype(str).to_numpy()
    for row in table.itertuples(index=False):
        x = _column(store, "mirna", row.feature).to_numpy()
        means = {c: np.nanmean(x[labels == c]) for c in F.CLASSES}
        for c in F.CLASSES:
            assert getattr(row, c) == pytest.approx(means[c], abs=1e-12)
        assert row.contributes == max(means, key=means.get)
    assert list(table["contributes"].cat.categories) == F.CLASSES
    low = hm.tl.diablo_contributions(store, block="mirna", component=1, contrib="min", method="median")
    x = _column(store, "mirna", "hsa-mir-4").to_numpy()
    medians = {c: np.median(x[labels == c]) for c in F.CLASSES}
    assert low.loc[low["feature"] == "hsa-mir-4", "contributes"].item() == min(medians, key=medians.get)
    # the fixture plants hsa-mir-4 (negative loading on comp1) high in LumA and low in Basal
    assert table.loc[table["feature"] == "hsa-mir-4", "contributes"].item() == "LumA"
    with pytest.raises(ValueError, match="contrib"):
        hm.tl.diablo_contributions(store, block="rna", contrib="mean")


def test_clustered_matrix_is_zscores_of_samples_with_every_block(store):
    result = hm.tl.diablo_clustered(store)
    matrix = result.matrix
    shared = set(store.mod["prot"].obs_names)  # prot is the smallest block; rna and mirna hold everyone
    assert set(matrix.columns) == shared
    n_features = len({(b, f) for (b, _), chosen in F.SELECTED.items() for f in chosen})
    assert matrix.shape == (n_features, len(shared))
    samples = list(matrix.columns)
    for block, feature in [("rna", "GENE3"), ("mirna", "hsa-mir-2"), ("prot", "PROT8")]:
        x = _column(store, block, feature).loc[samples].to_numpy()
        z = (x - np.nanmean(x)) / np.nanstd(x, ddof=1)
        np.testing.assert_allclose(matrix.loc[(block, feature)].to_numpy(), z, atol=1e-12)
    from scipy.cluster import hierarchy

    assert result.sample_linkage.shape == (len(shared) - 1, 4)
    assert result.feature_linkage.shape == (n_features - 1, 4)
    assert hierarchy.is_valid_linkage(result.sample_linkage)
    assert result.labels.astype(str).tolist() == store.obs["pam50"].reindex(samples).astype(str).tolist()
    comp2 = hm.tl.diablo_clustered(store, components=2)
    assert set(comp2.matrix.index.get_level_values("feature")) == {
        f for (_, k), chosen in F.SELECTED.items() if k == 2 for f in chosen
    }
