"""The default path needs no hand-holding: read_gdc → harmonize → mofa on a GDC download fits with no other call;
features without information are left out of the fit (and reported); steps that cannot run say why; projection
across ID systems raises and names the cause."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_mofa import FAST, make_planted  # the planted-factor generator of the MOFA tests

import harmonomics as hm
from harmonomics._errors import GeneMappingError, InsufficientDataError

N_FACTORS = 5


@pytest.fixture(scope="module")
def gdc(tmp_path_factory):
    """A synthetic GDC download, read, harmonized and fitted with nothing else in between."""
    hm.settings.verbosity = 1
    cohort = hm.datasets.write_synthetic_cohort(
        tmp_path_factory.mktemp("gdc") / "cohort",
        n_patients=40,
        seed=11,
        layouts=["gdc"],
        n_genes=600,
        n_mirnas=40,
        n_probes=100,
    )
    read = hm.io.read_gdc(cohort.gdc)
    mdata = read.copy()
    hm.pp.harmonize(mdata)
    hm.tl.mofa(mdata, n_factors=N_FACTORS)
    return cohort, read, mdata


def _star_counts(cohort, rna) -> pd.DataFrame:
    """Unstranded counts (genes x samples) straight from the STAR files of the samples the reader kept."""
    columns = {}
    for sample, path in rna.obs["source_file"].items():
        table = pd.read_csv(cohort.gdc / path, sep="\t", comment="#", index_col="gene_id")
        columns[sample] = table.loc[~table.index.str.startswith("N_"), "unstranded"].astype(float)
    return pd.DataFrame(columns)


def _report(mdata, omic, contains):
    rep = mdata.uns["harmonomics_report"]
    return rep[
        (rep["level"] == "feature")
        & (rep["action"] == "dropped")
        & (rep["omic"] == omic)
        & rep["reason"].str.contains(contains, regex=False)
    ]


def test_gdc_download_fits_with_no_other_call(gdc):
    cohort, read, mdata = gdc
    counts = _star_counts(cohort, read.mod["rna"])
    zero = counts.index[(counts == 0).all(axis=1)]
    par_y = [g for g in counts.index if g.endswith("_PAR_Y")]
    assert par_y and set(par_y) <= set(zero)  # the files' _PAR_Y rows are all zero, as in GDC downloads

    # harmonize dropped the empty _PAR_Y rows: one report row with their count
    rna = mdata.mod["rna"]
    assert not any(v.endswith("_PAR_Y") for v in rna.var_names)
    row = _report(mdata, "rna", "_PAR_Y copy")
    assert len(row) == 1 and row["item"].iloc[0] == f"{len(par_y)} features"
    assert par_y[0] in row["reason"].iloc[0]

    # the genes with no count in any sample are left out of the fit, weights NaN, counted and reported
    unexpressed = {g.split(".")[0] for g in zero if not g.endswith("_PAR_Y")}
    assert unexpressed
    w = rna.varm["mofa"]
    assert w.shape == (rna.n_vars, N_FACTORS)
    assert set(rna.var_names[np.isnan(w).all(axis=1)]) == unexpressed
    assert not np.isnan(w[~np.isin(rna.var_names, list(unexpressed))]).any()
    uns = mdata.uns["mofa"]
    assert uns["features_left_out"]["rna"] == len(unexpressed)
    assert uns["n_features_per_view"]["rna"] == rna.n_vars - len(unexpressed)
    row = _report(mdata, "rna", "left out of the MOFA fit 'mofa'")
    assert len(row) == 1 and row["item"].iloc[0] == f"{len(unexpressed)} features"
    assert row["reason"].iloc[0].startswith("constant")
    # every view: the report's counts add up to uns, and NaN weight rows are exactly the left-out features
    rep = mdata.uns["harmonomics_report"]
    fit_rows = rep[rep["reason"].str.endswith("left out of the MOFA fit 'mofa'")]
    assert fit_rows.groupby("omic").size().max() <= 2  # one row per view and reason, never one per feature
    for view, n in uns["features_left_out"].items():
        listed = fit_rows.loc[fit_rows["omic"] == view, "item"].str.split().str[0].astype(int).sum()
        assert listed == n == int(np.isnan(mdata.mod[view].varm["mofa"]).all(axis=1).sum()), view

    # and the fit finds the planted biology: the subtype factor of the synthetic truth
    truth = pd.read_csv(cohort.truth / "factors.tsv", sep="\t", index_col="sample")
    scores = pd.DataFrame(mdata.obsm["mofa"], index=mdata.obs_names).reindex(truth.index).dropna()
    planted = truth.loc[scores.index, "Z1_subtype"].to_numpy()
    best = max(abs(np.corrcoef(planted, scores[k])[0, 1]) for k in scores.columns)
    assert best >= 0.85


def test_left_out_features_do_not_change_the_fit():
    import anndata as ad
    import mudata as md

    base, _ = make_planted(n=60, dims={"rna": 40, "prot": 30}, k=2, seed=4)
    rna = base.mod["rna"]
    x = np.column_stack([rna.X, np.full(rna.n_obs, 3.0), np.full(rna.n_obs, np.nan)])
    x[5, -2] = np.nan  # constant where observed
    var = pd.DataFrame(index=[*rna.var_names, "flat", "empty"])
    padded = md.MuData({"rna": ad.AnnData(x, obs=rna.obs.copy(), var=var), "prot": base.mod["prot"].copy()})
    hm.tl.mofa(base, n_factors=2, seed=0, **FAST)
    hm.tl.mofa(padded, n_factors=2, seed=0, **FAST)
    np.testing.assert_allclose(padded.obsm["mofa"], base.obsm["mofa"], rtol=1e-10, atol=1e-12)
    w = padded.mod["rna"].varm["mofa"]
    np.testing.assert_allclose(w[:-2], base.mod["rna"].varm["mofa"], rtol=1e-10, atol=1e-12)
    assert np.isnan(w[-2:]).all()
    assert padded.uns["mofa"]["features_left_out"] == {"rna": 2, "prot": 0}
    rep = padded.uns["harmonomics_report"]
    assert sorted(rep["reason"].str.split(" ").str[0]) == ["constant", "missing"]
    assert rep["item"].tolist() == ["1 features", "1 features"]
    # refitting under the same key replaces its rows; another key adds its own
    hm.tl.mofa(padded, n_factors=2, seed=0, **FAST)
    assert len(padded.uns["harmonomics_report"]) == 2
    hm.tl.mofa(padded, n_factors=2, seed=0, key_added="other", **FAST)
    assert len(padded.uns["harmonomics_report"]) == 4
    # projection uses the fitted features only and reproduces the fit
    projected = hm.tl.project(padded, padded, key_added="p", copy=True).obsm["p"]
    for k in range(2):
        assert np.corrcoef(projected[:, k], padded.obsm["mofa"][:, k])[0, 1] >= 0.99


def test_steps_that_cannot_run_say_why():
    mdata, _ = make_planted(n=30, dims={"rna": 20, "prot": 10}, k=2, seed=1)
    with pytest.raises(InsufficientDataError, match=r"n_factors=40 is more than the 30 fitted samples.*n_factors=30 "):
        hm.tl.mofa(mdata, n_factors=40, copy=True, **FAST)
    flat = mdata.copy()
    flat.mod["prot"].X[:] = 1.0
    with pytest.raises(InsufficientDataError, match=r"view 'prot' has no feature that varies.*mods=\['rna'\]"):
        hm.tl.mofa(flat, n_factors=2, **FAST)
    one = mdata.copy()
    one.mod["prot"].X[1:] = np.nan
    with pytest.raises(InsufficientDataError, match=r"view 'prot' has data for 1 of the 30.*mods=\['rna'\]"):
        hm.tl.mofa(one, n_factors=2, **FAST)
    assert issubclass(InsufficientDataError, ValueError)


# --------------------------------------------------------------------------------------------------
# projection across ID systems
# --------------------------------------------------------------------------------------------------
def test_projection_across_id_systems_raises_and_names_the_cause(gdc):
    _, _, trained = gdc
    new = trained.copy()
    hm.pp.harmonize_feature_ids(new, to="symbol")  # the same samples, genes named by symbol
    with pytest.raises(
        GeneMappingError,
        match=r"view 'rna': none of the .* trained features.*"
        r"trained on Ensembl gene IDs, given names such as symbols.*"
        r"hm\.pp\.harmonize_feature_ids\(new_mdata, to='ensembl'\)",
    ):
        hm.tl.project(new, trained, key_added="p")
    assert "p" not in new.obsm
    # following the message fixes it: back on Ensembl IDs the training samples project onto their own scores
    hm.pp.harmonize_feature_ids(new, to="ensembl")
    hm.tl.project(new, trained, key_added="p")
    fitted = pd.DataFrame(trained.obsm["mofa"], index=trained.obs_names).loc[new.obs_names].to_numpy()
    ok = ~np.isnan(fitted).any(axis=1)
    for k in range(N_FACTORS):
        assert np.corrcoef(fitted[ok, k], new.obsm["p"][ok, k])[0, 1] >= 0.99


def test_projection_with_few_shared_features_warns_with_the_fraction():
    import mudata as md

    mdata, _ = make_planted(n=80, dims={"rna": 100, "prot": 40}, k=2, seed=2)
    hm.tl.mofa(mdata, n_factors=2, seed=0, **FAST)
    few = md.MuData({"rna": mdata.mod["rna"][:, :30].copy(), "prot": mdata.mod["prot"].copy()})
    with pytest.warns(UserWarning, match=r"view 'rna': the new data has only 30 of the 100 trained features \(30%"):
        hm.tl.project(few, mdata, key_added="p")
    assert few.uns["p"]["views_used"] == {"rna": 80, "prot": 80}
    # half or more of the features: no warning (pytest turns warnings into errors)
    half = md.MuData({"rna": mdata.mod["rna"][:, :50].copy(), "prot": mdata.mod["prot"].copy()})
    hm.tl.project(half, mdata, key_added="p")
    # a new sample set without a whole omic stays allowed: that view is simply missing
    no_prot = md.MuData({"rna": mdata.mod["rna"].copy()})
    hm.tl.project(no_prot, mdata, key_added="p")
    assert no_prot.uns["p"]["views_used"] == {"rna": 80, "prot": 0}
