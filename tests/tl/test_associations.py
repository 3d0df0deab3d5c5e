"""Factor <-> covariate associations on planted factors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control, kruskal, spearmanr

import harmonomics as hm
from harmonomics._errors import MissingResultError

CONTRACT_COLUMNS = {
    "factor",
    "covariate",
    "kind",
    "test",
    "statistic",
    "pvalue",
    "fdr",
    "level",
    "auc",
    "mean_diff",
    "rho",
}


@pytest.fixture(scope="module")
def planted():
    """120 samples, 6 factors: Factor3 separates Basal, Factor5 tracks an immune score, the rest are noise."""
    import anndata as ad
    import mudata as md

    hm.tl  # noqa: B018 - configures mudata
    rng = np.random.default_rng(7)
    n = 120
    names = [f"S{i:03d}" for i in range(n)]
    subtype = np.array(["LumA", "LumB", "Her2", "Basal"])[rng.integers(0, 4, n)]
    immune = rng.normal(size=n)
    scores = rng.normal(size=(n, 6))
    scores[:, 2] += 2.5 * (subtype == "Basal") - 1.0 * (subtype == "LumA")
    scores[:, 4] += 1.5 * immune
    rna = ad.AnnData(rng.normal(size=(n, 4)), obs=pd.DataFrame(index=names), var=pd.DataFrame(index=list("abcd")))
    mdata = md.MuData({"rna": rna})
    mdata.obs["pam50"] = pd.Categorical(subtype, categories=["LumA", "LumB", "Her2", "Basal", "Normal"])
    mdata.obs["age"] = rng.normal(60, 10, n)
    mdata.obs["er"] = np.where(subtype == "Basal", "neg", "pos")
    mdata.obsm["mofa"] = scores
    mdata.uns["mofa"] = {"factor_names": [f"Factor{i + 1}" for i in range(6)]}
    mdata.obsm["immune"] = pd.DataFrame({"ESTIMATE_immune": immune, "CYT": rng.normal(size=n)}, index=pd.Index(names))
    return mdata


def test_subtype_factor_ranked_first(planted):
    table = hm.tl.associate(planted, covariates=("pam50",))
    assert set(table.columns) >= CONTRACT_COLUMNS
    assert (table["kind"] == "categorical").all() and (table["test"] == "kruskal").all()
    assert table["factor"].iloc[0] == "Factor3"
    # one row per factor x observed level (Normal has no samples)
    assert len(table) == 6 * 4 and set(table["level"]) == {"LumA", "LumB", "Her2", "Basal"}

    f3 = table[table["factor"] == "Factor3"].set_index("level")
    x = planted.obsm["mofa"][:, 2]
    labels = planted.obs["pam50"].astype(str).to_numpy()
    h, p = kruskal(*[x[labels == lv] for lv in ["LumA", "LumB", "Her2", "Basal"]])
    assert f3["statistic"].iloc[0] == pytest.approx(h) and f3["pvalue"].iloc[0] == pytest.approx(p)
    from sklearn.metrics import roc_auc_score

    for level in f3.index:
        inside = labels == level
        assert f3.loc[level, "auc"] == pytest.approx(roc_auc_score(inside, x))
        assert f3.loc[level, "mean_diff"] == pytest.approx(x[inside].mean() - x[~inside].mean())
        assert f3.loc[level, "n_level"] == inside.sum()
    assert f3.loc["Basal", "auc"] > 0.9 and f3.loc["Basal", "mean_diff"] > 2
    assert f3.loc["LumA", "auc"] < 0.4
    assert f3["rho"].isna().all()


def test_numeric_covariates_from_obs_and_obsm(planted):
    table = hm.tl.associate(planted, covariates=("immune:ESTIMATE_immune", "CYT", "age"))
    assert list(table["covariate"].unique()) == ["immune:ESTIMATE_immune", "CYT", "age"]
    assert (table["kind"] == "numeric").all() and (table["test"] == "spearman").all()
    assert table["level"].isna().all() and table["auc"].isna().all()
    first = table[table["covariate"] == "immune:ESTIMATE_immune"].iloc[0]
    assert first["factor"] == "Factor5"
    rho, p = spearmanr(planted.obsm["mofa"][:, 4], planted.obsm["immune"]["ESTIMATE_immune"])
    assert (
        first["rho"] == pytest.approx(rho)
        and first["statistic"] == pytest.approx(rho)
        and first["pvalue"] == pytest.approx(p)
    )
    assert first["rho"] > 0.7
    # BH over all Spearman tests
    np.testing.assert_allclose(table["fdr"], false_discovery_control(table["pvalue"].to_numpy()))
    # within a covariate, rows are ordered strongest first
    for _, rows in table.groupby("covariate", sort=False):
        assert rows["pvalue"].is_monotonic_increasing


def test_mixed_covariates_fdr_per_test(planted):
    table = hm.tl.associate(planted, covariates=("pam50", "er", "ESTIMATE_immune"))
    kw = table[table["test"] == "kruskal"].drop_duplicates(["factor", "covariate"])
    np.testing.assert_allclose(kw["fdr"], false_discovery_control(kw["pvalue"].to_numpy()))
    # the FDR of a Kruskal-Wallis test is repeated on each of its level rows
    assert (table[table["test"] == "kruskal"].groupby(["factor", "covariate"])["fdr"].nunique() == 1).all()
    er = table[table["covariate"] == "er"]
    assert set(er["level"]) == {"neg", "pos"} and er["factor"].iloc[0] == "Factor3"


def test_missing_values_are_left_out(planted):
    mdata = planted.copy()
    scores = mdata.obsm["mofa"].copy()
    scores[:10] = np.nan  # samples without factor scores (e.g. not in the fit)
    mdata.obsm["mofa"] = scores
    pam50 = mdata.obs["pam50"].copy()
    pam50.iloc[10:20] = np.nan
    mdata.obs["pam50"] = pam50
    table = hm.tl.associate(mdata, covariates=("pam50", "age"))
    assert (table.loc[table["covariate"] == "pam50", "n"] == 100).all()
    assert (table.loc[table["covariate"] == "age", "n"] == 110).all()
    assert table["factor"].iloc[0] == "Factor3"
    # too few samples: NaN statistics rather than an error
    small = hm.tl.associate(mdata, covariates=("age",), min_samples=500)
    assert small["pvalue"].isna().all() and len(small) == 6


def test_factor_subset_and_dataframe_scores(planted):
    mdata = planted.copy()
    mdata.obsm["scores_df"] = pd.DataFrame(mdata.obsm["mofa"][:, :3], index=mdata.obs_names, columns=["A", "B", "C"])
    table = hm.tl.associate(mdata, key="scores_df", covariates="pam50", factors=["C", "A"])
    assert set(table["factor"]) == {"A", "C"} and table["factor"].iloc[0] == "C"
    # without factor_names, factors are numbered
    del mdata.uns["mofa"]
    assert set(hm.tl.associate(mdata, covariates=("age",))["factor"]) == {f"Factor{i}" for i in range(1, 7)}


def test_bad_inputs(planted):
    mdata = planted.copy()
    with pytest.raises(MissingResultError, match=r"no factor scores obsm\['nmf'\]"):
        hm.tl.associate(mdata, key="nmf")
    with pytest.raises(KeyError, match="no per-sample variable 'grade'"):
        hm.tl.associate(mdata, covariates=("grade",))
    with pytest.raises(KeyError, match="has no column 'TIS'"):
        hm.tl.associate(mdata, covariates=("immune:TIS",))
    with pytest.raises(ValueError, match="at least one covariate"):
        hm.tl.associate(mdata, covariates=())
    with pytest.raises(ValueError, match="listed twice"):
        hm.tl.associate(mdata, covariates=("age", "age"))
    with pytest.raises(KeyError, match=r"factors \['Factor9'\]"):
        hm.tl.associate(mdata, factors=["Factor9"])
    mdata.obsm["other"] = pd.DataFrame({"CYT": np.zeros(mdata.n_obs)}, index=mdata.obs_names)
    with pytest.raises(KeyError, match="several obsm tables"):
        hm.tl.associate(mdata, covariates=("CYT",))
    mdata.uns["mofa"] = {"factor_names": ["F1", "F2"]}
    with pytest.raises(ValueError, match="has 2 names but"):
        hm.tl.associate(mdata)
