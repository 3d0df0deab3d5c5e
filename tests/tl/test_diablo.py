"""DIABLO (multi-block sparse PLS-DA): the math against independent computations, the store layout, the published
TCGA-BRCA split."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import InsufficientDataError, MissingResultError

CLASSES = ("LumA", "Her2", "Basal")


def _store(blocks: dict[str, np.ndarray], labels: np.ndarray, *, samples=None, missing: dict | None = None):
    """A MuData of ``blocks`` (samples x features) with ``obs["pam50"]``; ``missing`` drops samples per block."""
    n = labels.size
    samples = np.asarray(samples if samples is not None else [f"S{i:03d}" for i in range(n)])
    mods = {}
    for name, x in blocks.items():
        keep = np.ones(n, dtype=bool)
        if missing and name in missing:
            keep[missing[name]] = False
        mods[name] = ad.AnnData(
            x[keep],
            obs=pd.DataFrame(index=samples[keep]),
            var=pd.DataFrame(index=[f"{name}_f{j}" for j in range(x.shape[1])]),
        )
    mdata = md.MuData(mods)
    mdata.obs["pam50"] = pd.Categorical(pd.Series(labels, index=samples).reindex(mdata.obs_names), categories=CLASSES)
    return mdata


def _labels(n: int, rng) -> np.ndarray:
    return np.asarray(CLASSES)[rng.permutation(np.arange(n) % 3)]


def _planted(n: int = 90, seed: int = 0):
    """Two blocks; a few features per block carry the class (a shift along one class axis), the rest are noise."""
    rng = np.random.default_rng(seed)
    labels = _labels(n, rng)
    signal = pd.Series({"LumA": -1.5, "Her2": 0.0, "Basal": 1.5})[labels].to_numpy()
    rna = rng.normal(size=(n, 50))
    prot = rng.normal(size=(n, 40))
    planted = {"rna": [3, 11, 19, 27, 42], "prot": [5, 17, 33, 38]}
    for j, col in enumerate(planted["rna"]):
        rna[:, col] += (1.0 + 0.1 * j) * signal
    for j, col in enumerate(planted["prot"]):
        prot[:, col] += (1.0 + 0.1 * j) * signal
    return _store({"rna": rna, "prot": prot}, labels), planted


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)


@pytest.mark.parametrize("scheme", ["horst", "centroid", "factorial"])
def test_one_block_all_features_is_the_leading_singular_pair_of_xty(scheme):
    # with one block and the outcome, every scheme maximises the one covariance: the leading singular pair
    rng = np.random.default_rng(1)
    n = 60
    labels = _labels(n, rng)
    x = rng.normal(size=(n, 15)) + np.outer(labels == "Basal", rng.normal(size=15))
    mdata = _store({"rna": x}, labels)
    hm.tl.diablo(mdata, n_components=1, keep=None, tol=1e-13, max_iter=10_000, scheme=scheme)
    assert mdata.uns["diablo"]["params"]["scheme"] == scheme

    y = _standardise(np.column_stack([(labels == c).astype(float) for c in CLASSES]))
    u, _, vt = np.linalg.svd(_standardise(x).T @ y)
    weights = mdata.mod["rna"].varm["diablo"]["comp1"].to_numpy()
    y_weights = np.asarray(mdata.uns["diablo"]["model"]["y_weights"])[:, 0]
    assert min(np.abs(weights - u[:, 0]).max(), np.abs(weights + u[:, 0]).max()) < 1e-8
    assert min(np.abs(y_weights - vt[0]).max(), np.abs(y_weights + vt[0]).max()) < 1e-8
    # the block variate is the standardised block times its weights
    variates = mdata.mod["rna"].obsm["diablo"]["comp1"].to_numpy()
    np.testing.assert_allclose(variates, _standardise(x) @ weights, atol=1e-10)


def _criteria(mdata, blocks, design: float) -> dict[str, float]:
    """The three sGCCA criteria of a one-component fit, from its stored variates and numpy covariances."""
    y = _standardise(np.column_stack([(mdata.obs["pam50"] == c).to_numpy(float) for c in CLASSES]))
    y_weights = np.asarray(mdata.uns["diablo"]["model"]["y_weights"])[:, 0]
    variates = [mdata.mod[b].obsm["diablo"]["comp1"].to_numpy() for b in blocks] + [y @ y_weights]
    links = [(j, k, design) for j in range(len(blocks)) for k in range(j + 1, len(blocks))]
    links += [(j, len(blocks), 1.0) for j in range(len(blocks))]
    cov = [(c, float(variates[j] @ variates[k]) / len(y)) for j, k, c in links]
    return {
        "horst": sum(c * v for c, v in cov),
        "centroid": sum(c * abs(v) for c, v in cov),
        "factorial": sum(c * v * v for c, v in cov),
    }


def test_each_scheme_reaches_the_best_value_of_its_own_criterion():
    # the real training split: mRNA, miRNA and protein of 150 tumours, no sparsity, blocks fully linked
    mdata = hm.datasets.tcga_brca_mini()
    train = mdata[mdata.obs["split"] == "train"].copy()
    blocks = ["rna", "mirna", "prot"]
    values = {}
    for scheme in ("horst", "centroid", "factorial"):
        hm.tl.diablo(train, mods=blocks, n_components=1, design=1.0, scheme=scheme, tol=1e-12, max_iter=5000)
        assert train.uns["diablo"]["params"]["converged"] == [True]
        values[scheme] = _criteria(train, blocks, 1.0)
    for criterion in values:
        best = max(v[criterion] for v in values.values())
        assert values[criterion][criterion] >= best - 1e-9, (criterion, values)
    with pytest.raises(ValueError, match="scheme='mode_b' is not known"):
        hm.tl.diablo(train, mods=blocks, scheme="mode_b")


def test_centroid_allows_blocks_linked_against_the_classes_horst_does_not():
    # block b holds y - 2e (strongly class-linked, but anti-correlated with block a's y + e through e) and 0.6y + n:
    # horst needs cov(t_a, t_b) > 0 and takes the second; centroid (|cov|) and factorial (cov²) take the first
    rng = np.random.default_rng(5)
    n = 120
    labels = _labels(n, rng)
    y = np.select([labels == "LumA", labels == "Basal"], [-1.0, 1.0], 0.0)
    e = 1.5 * rng.normal(size=n)
    a = np.column_stack([y + e, rng.normal(size=(n, 3))])
    b = np.column_stack([y - 2 * e, 0.6 * y + rng.normal(size=n), rng.normal(size=(n, 3))])
    mdata = _store({"a": a, "b": b}, labels)
    values, link = {}, {}
    for scheme in ("horst", "centroid", "factorial"):
        hm.tl.diablo(mdata, mods=["a", "b"], n_components=1, design=1.0, scheme=scheme, tol=1e-12, max_iter=5000)
        values[scheme] = _criteria(mdata, ["a", "b"], 1.0)
        t = [mdata.mod[m].obsm["diablo"]["comp1"].to_numpy() for m in ("a", "b")]
        link[scheme] = float(t[0] @ t[1])
        weights = mdata.mod["b"].varm["diablo"]["comp1"].abs()
        assert weights.idxmax() == ("b_f1" if scheme == "horst" else "b_f0"), scheme
    assert link["horst"] > 0 and link["centroid"] < 0 and link["factorial"] < 0
    for criterion in values:
        assert values[criterion][criterion] >= max(v[criterion] for v in values.values()) - 1e-9, (criterion, values)


def test_successive_variates_are_orthogonal_per_block():
    mdata, _ = _planted(seed=2)
    hm.tl.diablo(mdata, n_components=3, keep={"rna": [5, 10, 8], "prot": [4, 6, 12]})
    for block in ("rna", "prot"):
        t = mdata.mod[block].obsm["diablo"].to_numpy()
        gram = t.T @ t
        off = gram - np.diag(np.diag(gram))
        assert np.abs(off).max() < 1e-8 * np.diag(gram).max(), block


def test_planted_two_block_signature_is_recovered_exactly():
    mdata, planted = _planted(seed=3)
    hm.tl.diablo(mdata, n_components=1, keep={"rna": 5, "prot": 4})
    selected = mdata.uns["diablo"]["selected"]
    for block, columns in planted.items():
        found = set(selected.loc[selected["block"] == block, "feature"])
        assert found == {f"{block}_f{j}" for j in columns}


def test_sparsity_is_exact_and_selected_table_matches_loadings():
    mdata, _ = _planted(seed=4)
    keep = {"rna": [3, 7], "prot": [2, 9]}
    hm.tl.diablo(mdata, n_components=2, keep=keep)
    selected = mdata.uns["diablo"]["selected"]
    for block, values in keep.items():
        loadings = mdata.mod[block].varm["diablo"]
        assert list(loadings.columns) == ["comp1", "comp2"]
        for h, k in enumerate(values):
            assert int((loadings.iloc[:, h] != 0).sum()) == k
            rows = selected[(selected["block"] == block) & (selected["component"] == h + 1)]
            assert len(rows) == k
            assert np.all(np.diff(np.abs(rows["loading"].to_numpy())) <= 0)  # ordered by |loading|
            assert set(rows["feature"]) == set(loadings.index[loadings.iloc[:, h] != 0])
        # loadings are unit vectors
        np.testing.assert_allclose(np.linalg.norm(loadings.to_numpy(), axis=0), 1.0)
    uns = mdata.uns["diablo"]
    assert uns["keep"] == keep
    assert uns["classes"] == list(CLASSES)
    assert uns["blocks"] == ["rna", "prot"]
    assert uns["design"].loc["rna", "prot"] == pytest.approx(0.1)
    assert list(uns["explained_variance"].index) == ["rna", "prot"]
    assert list(uns["outcome_correlation"].columns) == ["comp1", "comp2"]


def test_samples_missing_a_block_fit_keep_consensus_and_predict():
    mdata, _ = _planted(seed=5)
    lacking = np.arange(0, 90, 6)  # 15 samples without protein
    full = {m: mdata.mod[m].X for m in ("rna", "prot")}
    labels = mdata.obs["pam50"].astype(str).to_numpy()
    partial = _store(full, labels, missing={"prot": lacking})
    hm.tl.diablo(partial, n_components=2, keep={"rna": 5, "prot": 4})
    names = partial.obs_names[lacking]
    assert partial.n_obs == 90
    assert not set(names) & set(partial.mod["prot"].obsm["diablo"].index)
    consensus = partial.obsm["diablo"].loc[names]
    np.testing.assert_allclose(consensus.to_numpy(), partial.mod["rna"].obsm["diablo"].loc[names].to_numpy())
    both = partial.obs_names.difference(names)
    expected = (partial.mod["rna"].obsm["diablo"].loc[both] + partial.mod["prot"].obsm["diablo"].loc[both]) / 2
    np.testing.assert_allclose(partial.obsm["diablo"].loc[both].to_numpy(), expected.to_numpy())
    assert partial.uns["diablo"]["params"]["n_samples_per_block"] == {"rna": 90, "prot": 75}

    # new samples: 30 with rna only, drawn the same way
    new, _ = _planted(n=30, seed=6)
    rna_only = md.MuData({"rna": new.mod["rna"].copy()})
    rna_only.obs["pam50"] = new.obs["pam50"]
    hm.tl.predict_diablo(rna_only, partial)
    pred = rna_only.obs["diablo_prediction"]
    assert list(pred.cat.categories) == list(CLASSES)
    assert pred.notna().all()
    assert hm.tl.balanced_error(rna_only.obs["pam50"], pred) < 0.2
    per_block = rna_only.uns["diablo_prediction"]["per_block"]
    assert list(per_block.columns) == ["rna"]
    assert list(rna_only.obsm["diablo_prediction"].columns) == list(CLASSES)


def test_prediction_with_a_block_missing_for_some_samples_and_every_rule():
    mdata, _ = _planted(seed=7)
    hm.tl.diablo(mdata, n_components=2, keep={"rna": 5, "prot": 4})
    new, _ = _planted(n=30, seed=8)
    labels = new.obs["pam50"].astype(str).to_numpy()
    new = _store({m: new.mod[m].X for m in ("rna", "prot")}, labels, missing={"prot": [0, 1, 2]})
    for distance in ("centroids", "max", "mahalanobis"):
        for vote in ("weighted", "majority", "average"):
            out = hm.tl.predict_diablo(new, mdata, distance=distance, vote=vote, copy=True)
            per_block = out.uns["diablo_prediction"]["per_block"]
            assert per_block["prot"].iloc[:3].isna().all()
            assert per_block["rna"].notna().all()
            # chance is 2/3; max.dist is weak for the middle class of a one-axis signal (its indicator is flat)
            limit = 0.4 if distance == "max" else 0.2
            assert hm.tl.balanced_error(out.obs["pam50"], out.obs["diablo_prediction"]) < limit, (distance, vote)
    with pytest.raises(ValueError, match="distance"):
        hm.tl.predict_diablo(new, mdata, distance="euclid")


def test_store_round_trip_keeps_the_fit(tmp_path):
    mdata, _ = _planted(seed=9)
    hm.tl.diablo(mdata, n_components=2, keep={"rna": 5, "prot": 4})
    path = hm.store.write(mdata, tmp_path / "diablo.h5mu")
    back = hm.store.read(path)
    before, after = mdata.uns["diablo"], back.uns["diablo"]
    assert after["method"] == "diablo"
    assert list(after["classes"]) == list(CLASSES)
    pd.testing.assert_frame_equal(after["selected"].reset_index(drop=True), before["selected"], check_dtype=False)
    np.testing.assert_allclose(back.obsm["diablo"].to_numpy(), mdata.obsm["diablo"].to_numpy())
    np.testing.assert_allclose(back.mod["rna"].varm["diablo"].to_numpy(), mdata.mod["rna"].varm["diablo"].to_numpy())
    # the read-back store predicts exactly as the fitted one
    new, _ = _planted(n=20, seed=10)
    a = hm.tl.predict_diablo(new, mdata, copy=True).obs["diablo_prediction"]
    b = hm.tl.predict_diablo(new, back, copy=True).obs["diablo_prediction"]
    assert a.astype(str).tolist() == b.astype(str).tolist()


def test_bad_inputs_raise_specific_errors():
    mdata, _ = _planted(seed=11)
    with pytest.raises(MissingResultError, match="'subtype'.*not in obs"):
        hm.tl.diablo(mdata, label="subtype")
    with pytest.raises(MissingResultError, match="'meth'.*not in the store"):
        hm.tl.diablo(mdata, mods=["rna", "meth"])
    with pytest.raises(InsufficientDataError, match="keep=60 for block 'prot'.*40 usable features"):
        hm.tl.diablo(mdata, keep={"rna": 5, "prot": 60})
    one = mdata.copy()
    one.obs["pam50"] = pd.Categorical(["LumA"] * one.n_obs, categories=CLASSES)
    with pytest.raises(InsufficientDataError, match="1 class.*expected at least two"):
        hm.tl.diablo(one)
    with pytest.raises(MissingResultError, match="no DIABLO fit"):
        hm.tl.predict_diablo(mdata, mdata, key="nothing")


def test_tuning_table_components_one_at_a_time_and_keep_tune(tmp_path):
    mdata, planted = _planted(n=60, seed=12)
    grid = {"rna": [2, 5, 20], "prot": [4, 15]}
    table = hm.tl.diablo_tune(mdata, n_components=2, grid=grid, folds=3, repeats=2, seed=0)
    assert list(table.columns) == [
        "component",
        "keep_rna",
        "keep_prot",
        "distance",
        "vote",
        "predict_mods",
        "mean_ber",
        "sd_ber",
        "repeats",
        "folds",
        "best",
    ]
    assert len(table) == 2 * 3 * 2  # every combination, per component
    assert table.groupby("component")["best"].sum().tolist() == [1, 1]
    for _, rows in table.groupby("component"):
        best = rows.loc[rows["best"]].iloc[0]
        assert best["mean_ber"] == rows["mean_ber"].min()
    # the planted class signal is found: the best first component predicts well out of fold
    assert table.loc[table["best"] & (table["component"] == 1), "mean_ber"].iloc[0] < 0.15
    hm.tl.diablo(mdata, n_components=2, keep=table)
    best = table[table["best"]].sort_values("component")
    assert mdata.uns["diablo"]["keep"] == {b: best[f"keep_{b}"].astype(int).tolist() for b in ("rna", "prot")}
    pd.testing.assert_frame_equal(mdata.uns["diablo"]["tuning"], table)
    back = hm.store.read(hm.store.write(mdata, tmp_path / "tuned.h5mu"))
    assert len(back.uns["diablo"]["tuning"]) == len(table)


def test_published_tcga_brca_split_test_balanced_error():
    """Train on the 150 training samples (mRNA, miRNA, protein), predict the 70 test samples (no protein).

    mixOmics' DIABLO case study on this split reports a test balanced error rate of 0.0254 (mixOmics.org
    mixDIABLO case study; Singh et al. 2019). The keep values are those ``hm.tl.diablo_tune`` chose in
    benchmarks/bench_diablo.py (seed 0, 3 x 5-fold CV, centroids distance, weighted vote, held-out samples
    predicted from rna + miRNA, the blocks the test samples have); the tuning itself runs in the benchmark.
    """
    mdata = hm.datasets.tcga_brca_mini()
    train = mdata[mdata.obs["split"] == "train"].copy()
    test = mdata[mdata.obs["split"] == "test"].copy()
    assert (train.n_obs, test.n_obs) == (150, 70)
    assert test.obs_names.isin(mdata.mod["prot"].obs_names).sum() == 0
    keep = {"rna": [30, 10], "mirna": [15, 30], "prot": [10, 5]}
    hm.tl.diablo(train, mods=["rna", "mirna", "prot"], n_components=2, keep=keep)
    hm.tl.predict_diablo(test, train, distance="centroids", vote="weighted")
    per_block = test.uns["diablo_prediction"]["per_block"]
    assert per_block["prot"].isna().all() and per_block[["rna", "mirna"]].notna().all().all()
    ber = hm.tl.balanced_error(test.obs["pam50"], test.obs["diablo_prediction"])
    assert ber <= 0.0254
