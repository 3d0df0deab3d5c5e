"""Tests of the MOFA+ wrapper (harmonomics.models.mofa): fit, write-back, files, projection, stability."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import (
    FormatError,
    InsufficientMemoryError,
    MissingDependencyError,
    MissingResultError,
)

FAST = {"engine": "mofapy2", "convergence": "fast"}


def make_planted(
    *,
    n: int = 160,
    dims: dict[str, int] | None = None,
    k: int = 3,
    seed: int = 0,
    noise_sd: float = 1.0,
    missing: dict[str, float] | None = None,
    mut: int = 0,
    groups: int = 1,
):
    """A MuData with planted factors; returns (mdata, truth dict).

    Each view m gets a weight matrix with factor k active (|w| ~ 1) on a random half of its features
    for the factors assigned to the view; ``missing`` gives the fraction of samples absent per view.
    Truth: scores Z (n x k, obs order), per-view in-sample signal R² = 1 - ||noise||² / ||Y - mean||².
    """
    import anndata as ad
    import mudata as md

    rng = np.random.default_rng(seed)
    dims = dims or {"rna": 200, "prot": 120}
    missing = missing or {}
    obs_names = [f"S{i:03d}" for i in range(n)]
    Z = rng.normal(size=(n, k))
    active = {m: [j for j in range(k) if (j + i) % 3 != 2 or k < 3] for i, m in enumerate(dims)}
    mods, r2, weights = {}, {}, {}
    for m, d in dims.items():
        W = np.zeros((d, k))
        for j in active[m]:
            on = rng.random(d) < 0.5
            W[on, j] = rng.normal(0, 1.0, on.sum())
        signal = Z @ W.T
        noise = rng.normal(0, noise_sd, size=(n, d))
        X = signal + noise + rng.normal(0, 2, size=d)  # feature offsets
        keep = np.ones(n, dtype=bool)
        if missing.get(m, 0) > 0:
            keep[rng.choice(n, round(missing[m] * n), replace=False)] = False
        Xc = X[keep] - X[keep].mean(0)
        r2[m] = 1 - float(np.sum((noise[keep] - noise[keep].mean(0)) ** 2) / np.sum(Xc**2))
        a = ad.AnnData(
            X[keep],
            obs=pd.DataFrame(index=np.array(obs_names)[keep]),
            var=pd.DataFrame(index=[f"{m}_f{i}" for i in range(d)]),
        )
        mods[m] = a
        weights[m] = W
    if mut:
        logits = Z[:, 0:1] @ rng.normal(0, 2.0, size=(1, mut)) - 1.0
        Xm = (rng.random((n, mut)) < 1 / (1 + np.exp(-logits))).astype(float)
        Xm[:, 0] = 1.0  # avoid constant features by construction below
        Xm[0, 0] = 0.0
        const = Xm.std(0) == 0
        Xm[0, const] = 1 - Xm[0, const]
        mods["mut"] = ad.AnnData(
            Xm, obs=pd.DataFrame(index=obs_names), var=pd.DataFrame(index=[f"G{i}" for i in range(mut)])
        )
    mdata = md.MuData(mods)
    if groups > 1:
        mdata.obs["batch"] = pd.Categorical([f"b{i % groups}" for i in range(n)])
    mdata.obs["z1"] = pd.Series(Z[:, 0], index=obs_names).reindex(mdata.obs_names).to_numpy()
    order = pd.Index(obs_names).get_indexer(mdata.obs_names)
    return mdata, {"Z": Z[order], "r2": r2, "W": weights, "active": active}


def max_abs_corr(est: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """For each planted factor (column of truth), the max |Pearson corr| with any estimated factor."""
    ok = ~np.isnan(est).any(axis=1)
    e, t = est[ok], truth[ok]
    e = (e - e.mean(0)) / e.std(0)
    t = (t - t.mean(0)) / t.std(0)
    c = np.abs(t.T @ e / len(e))
    return c.max(axis=1)


@pytest.fixture(scope="module")
def planted():
    return make_planted()


@pytest.fixture(scope="module")
def fitted(planted, tmp_path_factory):
    """One fit of the planted problem, with a model file."""
    mdata, truth = planted
    mdata = mdata.copy()
    path = tmp_path_factory.mktemp("mofa") / "model.hdf5"
    hm.tl.mofa(mdata, n_factors=3, seed=1, model_file=path, **FAST)
    return mdata, truth, path


# --------------------------------------------------------------------------------------------------
# the fit and its write-back
# --------------------------------------------------------------------------------------------------
def test_planted_factors_recovered_and_r2_matches_truth(fitted):
    mdata, truth, path = fitted
    z = mdata.obsm["mofa"]
    assert z.shape == (mdata.n_obs, 3) and z.dtype == np.float64 and not np.isnan(z).any()
    assert (max_abs_corr(z, truth["Z"]) >= 0.9).all()
    uns = mdata.uns["mofa"]
    for view, r2 in truth["r2"].items():
        assert abs(uns["r2_per_view"][view] - r2) <= 0.02, (view, uns["r2_per_view"][view], r2)
    # weights per modality, n_vars x K
    for m in ("rna", "prot"):
        assert mdata.mod[m].varm["mofa"].shape == (mdata.mod[m].n_vars, 3)
    # R² per view x factor in 0..1; per factor = view-variance weighted mean (documented formula)
    vf = uns["r2_per_view_factor"]
    assert list(vf.index) == ["rna", "prot"] and list(vf.columns) == ["Factor1", "Factor2", "Factor3"]
    assert ((vf.to_numpy() > -0.01) & (vf.to_numpy() <= 1)).all()
    ss = pd.Series(uns["view_total_ss"])
    expect = (vf.mul(ss, axis=0).sum() / ss.sum()).to_dict()
    assert expect == pytest.approx(uns["r2_per_factor"])
    # factor order = decreasing variance explained (as mofapy2 saves them)
    assert np.all(np.diff(vf.sum().to_numpy()) <= 1e-12)
    # bookkeeping
    assert uns["likelihoods"] == {"rna": "gaussian", "prot": "gaussian"}
    assert uns["seed"] == 1 and uns["engine"] == "mofapy2" and uns["converged"] is True
    assert uns["n_iterations"] > 1 and uns["time_s"] > 0
    assert len(uns["elbo"]) == len(uns["elbo_iterations"]) >= 2 and uns["elbo"][-1] > uns["elbo"][0]
    assert set(uns["versions"]) >= {"mofapy2", "harmonomics"}
    assert uns["options"]["n_factors"] == 3 and uns["options"]["convergence"] == "fast"
    assert uns["model_file"] == str(path.resolve())


def test_same_seed_same_result(planted):
    mdata, _ = planted
    a = hm.tl.mofa(mdata, n_factors=2, seed=3, max_iter=15, copy=True, **FAST)
    b = hm.tl.mofa(mdata, n_factors=2, seed=3, max_iter=15, copy=True, **FAST)
    np.testing.assert_array_equal(a.obsm["mofa"], b.obsm["mofa"])
    assert "mofa" not in mdata.obsm  # copy=True leaves the input alone
    assert a.uns["mofa"]["converged"] is False and a.uns["mofa"]["n_iterations"] == 14


def test_missing_samples_per_view_neither_imputed_nor_dropped():
    mdata, truth = make_planted(n=150, missing={"prot": 0.3}, seed=2)
    assert mdata.mod["prot"].n_obs == 105 and mdata.n_obs == 150
    x_before = mdata.mod["prot"].X.copy()
    hm.tl.mofa(mdata, n_factors=3, **FAST)
    z = mdata.obsm["mofa"]
    assert z.shape == (150, 3) and not np.isnan(z).any()  # samples without protein keep their scores
    assert mdata.mod["prot"].n_obs == 105  # nothing filled in
    np.testing.assert_array_equal(mdata.mod["prot"].X, x_before)
    assert mdata.uns["mofa"]["n_samples_per_view"] == {"rna": 150, "prot": 105}
    has_prot = mdata.obs_names.isin(mdata.mod["prot"].obs_names)
    assert (max_abs_corr(z[has_prot], truth["Z"][has_prot]) >= 0.9).all()
    # factors active in rna are recovered on every sample, those without protein included
    rna_factors = truth["active"]["rna"]
    assert (max_abs_corr(z, truth["Z"][:, rna_factors]) >= 0.9).all()
    for view, r2 in truth["r2"].items():
        assert abs(mdata.uns["mofa"]["r2_per_view"][view] - r2) <= 0.02


def test_samples_without_any_view_get_nan_scores():
    import anndata as ad
    import mudata as md

    mdata, _ = make_planted(n=80, seed=4)
    extra = ad.AnnData(np.ones((1, 1)), obs=pd.DataFrame(index=["LONELY"]), var=pd.DataFrame(index=["x"]))
    mods = {m: mdata.mod[m] for m in mdata.mod}
    mods["other"] = extra
    big = md.MuData(mods)
    hm.tl.mofa(big, n_factors=2, mods=["rna", "prot"], max_iter=20, **FAST)
    z = pd.DataFrame(big.obsm["mofa"], index=big.obs_names)
    assert z.loc["LONELY"].isna().all() and not z.drop("LONELY").isna().any().any()
    assert list(big.uns["mofa"]["samples_without_data"]) == ["LONELY"]
    assert "mofa" not in big.mod["other"].varm


@pytest.mark.filterwarnings("ignore:var_names are not unique:UserWarning")
def test_feature_names_shared_across_views(tmp_path):
    """Gene symbols in both rna and prot: passed to mofapy2 as view:feature, mapped back everywhere."""
    mdata, _ = make_planted(n=60, dims={"rna": 40, "prot": 30}, seed=7)
    mdata.mod["prot"].var_names = [f"rna_f{i}" for i in range(30)]  # same names as the first rna features
    path = tmp_path / "m.hdf5"
    hm.tl.mofa(mdata, n_factors=2, max_iter=10, model_file=path, **FAST)
    assert mdata.uns["mofa"]["feature_names_prefixed"] is True
    assert mdata.mod["prot"].varm["mofa"].shape == (30, 2)
    back = mdata.copy()
    hm.tl.load_mofa(back, path, key_added="re")
    np.testing.assert_allclose(back.mod["prot"].varm["re"], mdata.mod["prot"].varm["mofa"])
    p = hm.tl.project(mdata, mdata, key_added="p", copy=True).obsm["p"]
    assert np.corrcoef(p[:, 0], mdata.obsm["mofa"][:, 0])[0, 1] >= 0.99


def test_mutation_view_is_bernoulli_and_overridable():
    mdata, truth = make_planted(n=120, dims={"rna": 150, "prot": 80}, mut=30, seed=5)
    hm.tl.mofa(mdata, n_factors=3, **FAST)
    assert mdata.uns["mofa"]["likelihoods"] == {"rna": "gaussian", "prot": "gaussian", "mut": "bernoulli"}
    assert (max_abs_corr(mdata.obsm["mofa"], truth["Z"]) >= 0.9).all()
    m2 = hm.tl.mofa(
        mdata,
        n_factors=2,
        mods=["rna", "mut"],
        likelihoods={"mut": "gaussian"},
        max_iter=10,
        copy=True,
        **FAST,
    )
    assert m2.uns["mofa"]["likelihoods"] == {"rna": "gaussian", "mut": "gaussian"}
    with pytest.raises(FormatError, match="bernoulli.*expected 0/1"):
        hm.tl.mofa(mdata, n_factors=2, mods=["rna"], likelihoods="bernoulli", max_iter=5, **FAST)


def test_groups_key_multi_group():
    mdata, truth = make_planted(n=160, groups=2, seed=6)
    hm.tl.mofa(mdata, n_factors=3, groups_key="batch", **FAST)
    uns = mdata.uns["mofa"]
    assert uns["groups"] == ["b0", "b1"] and uns["groups_key"] == "batch"
    assert uns["options"]["ard_factors"] is True
    assert not np.isnan(mdata.obsm["mofa"]).any()
    assert max_abs_corr(mdata.obsm["mofa"], truth["Z"]).max() >= 0.9
    g = hm.get.variance_explained(mdata, level="group")
    assert set(g["group"]) == {"b0", "b1"} and len(g) == 2 * 2 * 3
    scores = hm.get.factor_scores(mdata)
    assert list(scores.columns) == ["sample", "group", "factor", "score"]
    # rows stay in mdata.obs order even though mofapy2 concatenates groups
    proj = hm.tl.project(mdata.copy(), mdata, key_added="p", copy=True).obsm["p"]
    for k in range(3):
        assert np.corrcoef(proj[:, k], mdata.obsm["mofa"][:, k])[0, 1] >= 0.99


# --------------------------------------------------------------------------------------------------
# files: h5mu round trip, model file, mofax, load_mofa
# --------------------------------------------------------------------------------------------------
def test_store_round_trip(fitted, tmp_path):
    import mudata as md

    mdata = fitted[0]
    path = tmp_path / "store.h5mu"
    try:
        from harmonomics import store

        store.write(mdata, path)
        back = store.read(path)
    except (ImportError, AttributeError):
        mdata.write_h5mu(path)
        back = md.read_h5mu(path)
    np.testing.assert_array_equal(back.obsm["mofa"], mdata.obsm["mofa"])
    np.testing.assert_array_equal(back.mod["rna"].varm["mofa"], mdata.mod["rna"].varm["mofa"])
    u0, u1 = mdata.uns["mofa"], back.uns["mofa"]
    pd.testing.assert_frame_equal(u1["r2_per_view_factor"], u0["r2_per_view_factor"], check_names=False)
    np.testing.assert_array_equal(u1["elbo"], u0["elbo"])
    assert bool(u1["converged"]) == u0["converged"] and int(u1["seed"]) == u0["seed"]
    assert list(u1["factor_names"]) == u0["factor_names"]
    # the reloaded store still projects and gives tables
    p = hm.tl.project(back, back, key_added="again", copy=True)
    np.testing.assert_allclose(p.obsm["again"], hm.tl.project(mdata, mdata, key_added="again", copy=True).obsm["again"])
    pd.testing.assert_frame_equal(hm.get.variance_explained(back), hm.get.variance_explained(mdata))


def test_model_file_opens_in_mofax_and_reloads(fitted):
    import mofax

    mdata, _, path = fitted
    assert path.is_file()
    model = mofax.mofa_model(str(path))
    try:
        assert model.nfactors == 3
        assert sorted(model.views) == ["prot", "rna"]
        f = model.get_factors(df=True)
        assert f.shape == (mdata.n_obs, 3)
        np.testing.assert_allclose(f.loc[mdata.obs_names].to_numpy(), mdata.obsm["mofa"], atol=1e-10)
        w = model.get_weights(views="rna", df=True)
        np.testing.assert_allclose(
            w.loc[mdata.mod["rna"].var_names].to_numpy(), mdata.mod["rna"].varm["mofa"], atol=1e-10
        )
    finally:
        model.close()

    back = mdata.copy()
    del back.uns["mofa"], back.obsm["mofa"]
    hm.tl.load_mofa(back, path, key_added="loaded")
    np.testing.assert_allclose(back.obsm["loaded"], mdata.obsm["mofa"], atol=1e-12)
    np.testing.assert_allclose(back.mod["prot"].varm["loaded"], mdata.mod["prot"].varm["mofa"], atol=1e-12)
    u0, u1 = mdata.uns["mofa"], back.uns["loaded"]
    pd.testing.assert_frame_equal(u1["r2_per_view_factor"], u0["r2_per_view_factor"], check_names=False)
    assert u1["r2_per_factor"] == pytest.approx(u0["r2_per_factor"])
    assert u1["model_file"] == str(path.resolve()) and u1["seed"] == 1


def test_load_mofa_of_a_plain_mofapy2_file(fitted, tmp_path):
    """A model file without the harmonomics group (as mofapy2/MOFA2 write it) loads and projects."""
    import shutil

    import h5py

    mdata, _, path = fitted
    plain = tmp_path / "plain.hdf5"
    shutil.copy(path, plain)
    with h5py.File(plain, "a") as f:
        del f["harmonomics"]
    back = mdata.copy()
    hm.tl.load_mofa(back, plain, key_added="plain")
    np.testing.assert_allclose(back.obsm["plain"], mdata.obsm["mofa"], atol=1e-12)
    u = back.uns["plain"]
    np.testing.assert_allclose(
        u["r2_per_view_factor"].to_numpy(), mdata.uns["mofa"]["r2_per_view_factor"].to_numpy(), atol=1e-6
    )
    p = hm.tl.project(back, back, key="plain", key_added="p", copy=True).obsm["p"]
    for k in range(3):
        assert np.corrcoef(p[:, k], mdata.obsm["mofa"][:, k])[0, 1] >= 0.99


def test_nothing_written_without_model_file(planted, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = hm.tl.mofa(planted[0], n_factors=2, max_iter=5, copy=True, **FAST)
    assert m.uns["mofa"]["model_file"] == "" and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------------
# projection
# --------------------------------------------------------------------------------------------------
def test_projection_of_training_samples_matches_fit(fitted):
    mdata = fitted[0]
    new = mdata.copy()
    del new.obsm["mofa"]
    hm.tl.project(new, mdata)
    z, p = mdata.obsm["mofa"], new.obsm["mofa"]
    for k in range(z.shape[1]):
        assert np.corrcoef(z[:, k], p[:, k])[0, 1] >= 0.99
    assert new.uns["mofa"]["projected_from"] == "mofa" and new.uns["mofa"]["views_used"] == {
        "rna": 160,
        "prot": 160,
    }


def test_projection_when_new_samples_lack_a_view(fitted):
    import mudata as md

    mdata = fitted[0]
    new = md.MuData({"rna": mdata.mod["rna"][:60].copy()})  # no protein at all
    hm.tl.project(new, mdata, key_added="proj")
    p = new.obsm["proj"]
    assert p.shape == (60, 3) and not np.isnan(p).any()
    assert new.uns["proj"]["views_used"] == {"rna": 60, "prot": 0}
    ref = pd.DataFrame(mdata.obsm["mofa"], index=mdata.obs_names).loc[new.obs_names].to_numpy()
    rna_r2 = mdata.uns["mofa"]["r2_per_view_factor"].loc["rna"].to_numpy()
    for k in np.flatnonzero(rna_r2 > 0.05):  # factors active in rna are recovered from rna alone
        assert abs(np.corrcoef(ref[:, k], p[:, k])[0, 1]) >= 0.95


# --------------------------------------------------------------------------------------------------
# stability and tables
# --------------------------------------------------------------------------------------------------
def test_mofa_stability():
    mdata, truth = make_planted(n=100, dims={"rna": 100, "prot": 60}, seed=8)
    table = hm.tl.mofa_stability(mdata, seeds=(0, 1, 2), n_factors=3, **FAST)
    assert list(table.columns) == ["factor", "seed", "matched_factor", "corr", "abs_corr"]
    assert len(table) == 2 * 3 and table["abs_corr"].between(0, 1 + 1e-9).all()
    uns = mdata.uns["mofa_stability"]
    st = uns["stability"]
    assert st["consensus_seed"] in (0, 1, 2) and int(np.argmax(st["final_elbo"])) == [0, 1, 2].index(
        st["consensus_seed"]
    )
    rep = st["reproducibility"]
    assert list(rep.index) == ["Factor1", "Factor2", "Factor3"] and (rep["min_abs_corr"] >= 0.9).all()
    assert mdata.obsm["mofa_stability"].shape == (mdata.n_obs, 3)
    assert uns["options"]["init"] == "random"  # seeds matter (mofapy2's PCA start would make them equal)
    assert (max_abs_corr(mdata.obsm["mofa_stability"], truth["Z"]) >= 0.9).all()
    # each seed's matching is one-to-one
    assert (table.groupby("seed")["matched_factor"].nunique() == 3).all()


def test_get_tables(fitted):
    mdata = fitted[0]
    s = hm.get.factor_scores(mdata)
    assert list(s.columns) == ["sample", "factor", "score"] and len(s) == mdata.n_obs * 3
    wide = hm.get.factor_scores(mdata, wide=True)
    np.testing.assert_array_equal(wide.to_numpy(), mdata.obsm["mofa"])
    w = hm.get.weights(mdata, mods="prot")
    assert list(w.columns) == ["view", "feature", "factor", "weight"] and len(w) == mdata.mod["prot"].n_vars * 3
    assert len(hm.get.weights(mdata, wide=True)) == mdata.mod["rna"].n_vars + mdata.mod["prot"].n_vars
    ve = hm.get.variance_explained(mdata)
    assert list(ve.columns) == ["view", "factor", "r2"] and len(ve) == 6
    assert list(hm.get.variance_explained(mdata, level="view").columns) == ["view", "r2"]
    f = hm.get.variance_explained(mdata, level="factor")
    assert f["r2"].to_numpy() == pytest.approx(list(mdata.uns["mofa"]["r2_per_factor"].values()))


# --------------------------------------------------------------------------------------------------
# behaviour: quiet stdout, logging, global state
# --------------------------------------------------------------------------------------------------
def test_quiet_stdout_logs_and_leaves_global_state(planted, capsys, caplog):
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    filters = list(warnings.filters)
    with caplog.at_level(logging.DEBUG, logger="harmonomics.models"):
        hm.tl.mofa(planted[0], n_factors=2, max_iter=8, copy=True, **FAST)
    out = capsys.readouterr().out
    assert out == ""  # mofapy2's banner and iteration prints go to logging
    assert any("Iteration" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    assert list(warnings.filters) == filters


def test_progress_bar_follows_iterations_and_elbo(planted, monkeypatch):
    from harmonomics.models import _mofa_run

    class Bar:
        def __init__(self, **kw):
            self.kw, self.n, self.postfix, self.closed = kw, 0, [], False

        def update(self, k):
            self.n += k

        def set_postfix_str(self, s, refresh=True):
            self.postfix.append(s)

        def close(self):
            self.closed = True

    bars = []
    monkeypatch.setattr(_mofa_run, "progress_bar", lambda **kw: bars.append(Bar(**kw)) or bars[-1])
    m = hm.tl.mofa(planted[0], n_factors=2, max_iter=12, copy=True, **FAST)
    (bar,) = bars
    assert bar.kw["total"] == 11 and bar.kw["unit"] == "iter" and bar.closed
    assert bar.n == m.uns["mofa"]["n_iterations"] == 11
    assert bar.postfix and bar.postfix[-1] == f"ELBO={m.uns['mofa']['elbo'][-1]:.4g}"


def test_fast_engine_matches_mofapy2(planted):
    a = hm.tl.mofa(planted[0], n_factors=3, seed=2, max_iter=60, engine="mofapy2", convergence="medium", copy=True)
    b = hm.tl.mofa(planted[0], n_factors=3, seed=2, max_iter=60, engine="fast", convergence="medium", copy=True)
    assert b.uns["mofa"]["engine"] == "fast"
    assert a.uns["mofa"]["n_iterations"] == b.uns["mofa"]["n_iterations"]
    for k in range(3):
        assert abs(np.corrcoef(a.obsm["mofa"][:, k], b.obsm["mofa"][:, k])[0, 1]) >= 0.999


def test_default_stopping_is_the_factors_rule_with_the_fast_engine(planted):
    """convergence="auto": the "factors" rule for the fast engine, medium for mofapy2; same factors as medium."""
    auto = hm.tl.mofa(planted[0], n_factors=3, seed=2, copy=True)
    medium = hm.tl.mofa(planted[0], n_factors=3, seed=2, convergence="medium", copy=True)
    uns = auto.uns["mofa"]
    assert uns["options"]["convergence"] == "factors" and uns["options"]["init"] == "svd"
    assert uns["stopping"]["rule"] == "factors" and uns["stopping"]["reason"].startswith("auto: checked")
    assert uns["stopping"]["stopped_at"] == uns["n_iterations"]
    assert uns["stopping"]["last_factor_movement"] < uns["stopping"]["factor_tol"] == 1e-5
    assert uns["converged"] and medium.uns["mofa"]["converged"]
    assert uns["time_build_s"] > 0 and uns["time_train_s"] > 0
    assert uns["time_build_s"] + uns["time_train_s"] <= uns["time_s"]
    for k in range(3):  # the same factors
        assert abs(np.corrcoef(auto.obsm["mofa"][:, k], medium.obsm["mofa"][:, k])[0, 1]) >= 0.99
    assert (
        hm.tl.mofa(planted[0], engine="mofapy2", n_factors=2, max_iter=3, copy=True).uns["mofa"]["options"]["init"]
        == "pca"
    )
    with pytest.raises(ValueError, match="'window' is a stopping rule of the fast engine"):
        hm.tl.mofa(planted[0], engine="mofapy2", convergence="window")


# --------------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------------
def test_bad_input_fit(planted, monkeypatch):
    mdata = planted[0].copy()
    with pytest.raises(MissingResultError, match="modality 'meth' is not in the MuData"):
        hm.tl.mofa(mdata, mods=["rna", "meth"], **FAST)
    with pytest.raises(ValueError, match="n_factors must be >= 1"):
        hm.tl.mofa(mdata, n_factors=0, **FAST)
    with pytest.raises(TypeError, match="n_factors must be an integer"):
        hm.tl.mofa(mdata, n_factors=2.5, **FAST)
    with pytest.raises(MissingResultError, match="groups_key 'nope' is not a column"):
        hm.tl.mofa(mdata, groups_key="nope", **FAST)
    with pytest.raises(ValueError, match="convergence must be one of"):
        hm.tl.mofa(mdata, convergence="quick", engine="mofapy2")
    with pytest.raises(ValueError, match="engine must be one of"):
        hm.tl.mofa(mdata, engine="torch")
    with pytest.raises(ValueError, match="init must be one of"):
        hm.tl.mofa(mdata, init="lanczos", **FAST)
    with pytest.raises(ValueError, match="likelihood 'normal'"):
        hm.tl.mofa(mdata, likelihoods={"rna": "normal"}, **FAST)
    with pytest.raises(ValueError, match="is a folder"):
        hm.tl.mofa(mdata, model_file=Path(__file__).parent, **FAST)
    # (constant features are left out of the fit: tests/models/test_default_path.py)
    mdata.mod["prot"].X[:, 3] = np.inf
    with pytest.raises(FormatError, match="infinite value"):
        hm.tl.mofa(mdata, **FAST)
    # memory estimate larger than the available memory
    from harmonomics.models import _mofa_data

    monkeypatch.setattr(_mofa_data, "available_memory", lambda: 1024)
    with pytest.raises(InsufficientMemoryError, match="needs about .* GiB, but only"):
        hm.tl.mofa(planted[0], **FAST)
    assert "mofa" not in planted[0].uns


def test_gpu_without_cupy_or_device_is_an_error(planted):
    try:
        import cupy

        has_gpu = cupy.cuda.runtime.getDeviceCount() > 0
    except (ImportError, RuntimeError):  # no cupy, or cupy without a CUDA driver/device
        has_gpu = False
    if has_gpu:
        pytest.skip("a GPU is present")
    with pytest.raises(MissingDependencyError, match="gpu=True"):
        hm.tl.mofa(planted[0], n_factors=2, gpu=True, copy=True, **FAST)


def test_bad_input_other_functions(fitted, tmp_path):
    mdata = fitted[0]
    empty = mdata.copy()
    del empty.uns["mofa"]
    with pytest.raises(MissingResultError, match="no MOFA result under key 'mofa'"):
        hm.tl.project(mdata, empty)
    with pytest.raises(ValueError, match="would overwrite the fit"):
        hm.tl.project(mdata, mdata)
    for fn in (hm.get.factor_scores, hm.get.weights, hm.get.variance_explained):
        with pytest.raises(MissingResultError):
            fn(mdata, key="absent")
    with pytest.raises(ValueError, match="level must be"):
        hm.get.variance_explained(mdata, level="sample")
    with pytest.raises(MissingResultError, match="view 'mut' is not part of the fit"):
        hm.get.weights(mdata, mods="mut")
    with pytest.raises(FileNotFoundError):
        hm.tl.load_mofa(mdata, tmp_path / "none.hdf5")
    import mudata as md

    only_rna = md.MuData({"rna": mdata.mod["rna"].copy()})
    with pytest.raises(FormatError, match="view 'prot' of the model file is not a modality"):
        hm.tl.load_mofa(only_rna, fitted[2])
    (tmp_path / "junk.hdf5").write_bytes(b"not hdf5")
    with pytest.raises(FormatError, match="not a MOFA model file"):
        hm.tl.load_mofa(mdata, tmp_path / "junk.hdf5")
    with pytest.raises(ValueError, match="at least 2 distinct seeds"):
        hm.tl.mofa_stability(mdata, seeds=(1,), **FAST)
    with pytest.raises(TypeError, match="unexpected argument"):
        hm.tl.mofa_stability(mdata, seeds=(1, 2), model_file="x.hdf5")


# --------------------------------------------------------------------------------------------------
# the real cohort
# --------------------------------------------------------------------------------------------------
def _auc(score: np.ndarray, positive: np.ndarray) -> float:
    from scipy.stats import rankdata

    r = rankdata(score)
    n1, n0 = positive.sum(), (~positive).sum()
    return float((r[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _real_cohort():
    """The bundled mixOmics TCGA-BRCA cohort (a broken dataset import fails the test, never skips it)."""
    return hm.datasets.tcga_brca_mini()


@pytest.mark.slow
def test_real_cohort_basal_factor_with_test_protein_missing():
    mdata = _real_cohort()
    test = mdata.obs["split"].astype(str) == "test"
    assert not mdata.mod["prot"].obs_names.isin(mdata.obs_names[test]).any()  # test protein really absent
    hm.tl.mofa(mdata, n_factors=6, seed=0, **FAST)
    z = mdata.obsm["mofa"]
    assert not np.isnan(z).any()
    pam50 = mdata.obs["pam50"].astype(str).to_numpy()
    keep = np.isin(pam50, ["Basal", "LumA", "LumB"])
    basal = pam50[keep] == "Basal"
    aucs = [max(a, 1 - a) for a in (_auc(z[keep, k], basal) for k in range(z.shape[1]))]
    assert max(aucs) >= 0.95, aucs
    # the same factor separates Basal among the test samples, whose protein was never seen
    k = int(np.argmax(aucs))
    tk = keep & test.to_numpy()
    a = _auc(z[tk, k], pam50[tk] == "Basal")
    assert max(a, 1 - a) >= 0.95
