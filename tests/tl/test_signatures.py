"""Factor signatures, builtin gene sets, GMT reading and per-sample signature scores (planted fixtures)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics import data
from harmonomics._errors import FormatError, GeneMappingError, MissingResultError
from harmonomics._gmt import read_gmt, write_gmt
from harmonomics.tl._signatures import builtin_gene_sets, gene_set_table

BASAL_UP = ["FOXC1", "KRT5", "KRT14", "KRT17", "CDH3", "MIA", "SFRP1", "ACTR3B"]
LUMINAL = ["ESR1", "PGR", "FOXA1", "BCL2", "NAT1", "SLC39A6", "MAPT", "MLPH"]


def planted_store(seed: int = 0, n: int = 90):
    """Small MuData with a planted MOFA-like fit.

    rna (Ensembl IDs + gene_name symbols): Factor1 = basal vs luminal PAM50 genes, Factor2 = immune
    (ESTIMATE immune genes), Factor3/4 = noise. prot: plain names; meth: cg probes (no genes).
    """
    import anndata as ad
    import mudata as md

    rng = np.random.default_rng(seed)
    pam50 = pd.read_csv(data.path("signatures", "pam50_genes.tsv"), sep="\t")
    ens = dict(zip(pam50["gene_name"], pam50["gene_id"], strict=True))
    immune = builtin_gene_sets()["ESTIMATE_immune"][:60]
    fillers = [f"FILL{i}" for i in range(240)]
    symbols = list(dict.fromkeys([*BASAL_UP, *LUMINAL, *immune, *fillers]))
    var_names = [ens.get(s, f"ENSG{90000000000 + i:011d}.{1 + i % 3}") for i, s in enumerate(symbols)]
    k = 4
    W = rng.normal(0, 0.05, size=(len(symbols), k))
    index = {s: i for i, s in enumerate(symbols)}
    for s in BASAL_UP:
        W[index[s], 0] = rng.uniform(1.0, 2.0)
    for s in LUMINAL:
        W[index[s], 0] = -rng.uniform(1.0, 2.0)
    for s in immune:
        W[index[s], 1] = rng.uniform(0.6, 1.5)
    samples = [f"TCGA-A1-{i:04d}-01" for i in range(n)]
    Z = rng.normal(size=(n, k))
    X = Z @ W.T + rng.normal(0, 0.5, size=(n, len(symbols))) + 5
    rna = ad.AnnData(X, obs=pd.DataFrame(index=samples), var=pd.DataFrame({"gene_name": symbols}, index=var_names))
    rna.varm["mofa"] = W
    Wp = rng.normal(0, 0.3, size=(20, k))
    prot_samples = samples[: n - 10]  # 10 samples without protein data
    prot = ad.AnnData(
        Z[: n - 10] @ Wp.T + rng.normal(0, 0.5, size=(n - 10, 20)),
        obs=pd.DataFrame(index=prot_samples),
        var=pd.DataFrame(index=[f"PROT{i}" for i in range(20)]),
    )
    prot.varm["mofa"] = Wp
    Wm = rng.normal(0, 0.3, size=(30, k))
    meth = ad.AnnData(
        1 / (1 + np.exp(-(Z @ Wm.T))),
        obs=pd.DataFrame(index=samples),
        var=pd.DataFrame(index=[f"cg{i:08d}" for i in range(30)]),
    )
    meth.varm["mofa"] = Wm
    mdata = md.MuData({"rna": rna, "prot": prot, "meth": meth})
    mdata.obs["patient"] = [s[:12] for s in mdata.obs_names]
    mdata.obsm["mofa"] = Z
    names = [f"Factor{i + 1}" for i in range(k)]
    mdata.uns["mofa"] = {
        "factor_names": names,
        "views": ["rna", "prot", "meth"],
        "r2_per_view_factor": pd.DataFrame(
            rng.uniform(0, 0.2, size=(3, k)), index=["rna", "prot", "meth"], columns=names
        ),
        "r2_per_view": {"rna": 0.5, "prot": 0.3, "meth": 0.2},
        "elbo": np.linspace(-1000, -500, 20),
        "likelihoods": {"rna": "gaussian", "prot": "gaussian", "meth": "gaussian"},
        "seed": 0,
    }
    return mdata, {"Z": Z, "W": W, "symbols": symbols}


@pytest.fixture
def store():
    return planted_store()


def test_factor_signatures_planted(store):
    mdata, _ = store
    table = hm.tl.factor_signatures(mdata, n_top=8)
    assert list(table.columns) == [
        "factor",
        "view",
        "side",
        "rank",
        "feature",
        "symbol",
        "weight",
        "weight_scaled",
    ]
    assert mdata.uns["mofa_signatures"] is table
    f1 = table[(table["factor"] == "Factor1") & (table["view"] == "rna")]
    assert set(f1.loc[f1["side"] == "positive", "symbol"]) == set(BASAL_UP)
    assert set(f1.loc[f1["side"] == "negative", "symbol"]) == set(LUMINAL)
    pos = f1[f1["side"] == "positive"].sort_values("rank")
    assert (pos["weight"].diff().dropna() <= 0).all() and (pos["weight"] > 0).all()
    assert np.isclose(f1["weight_scaled"].abs().max(), 1.0)
    # Ensembl features are reported with their symbols; the feature column keeps the ID
    assert f1["feature"].str.startswith("ENSG").all()
    # every view and side present, at most n_top rows each
    counts = table.groupby(["factor", "view", "side"]).size()
    assert counts.max() <= 8 and set(table["view"]) == {"rna", "prot", "meth"}


def test_factor_signatures_subset_and_errors(store):
    mdata, _ = store
    table = hm.tl.factor_signatures(mdata, views="rna", factors=["Factor2"], n_top=3, key_added="sig")
    assert set(table["factor"]) == {"Factor2"} and set(table["view"]) == {"rna"} and len(table) == 6
    assert "sig" in mdata.uns
    with pytest.raises(MissingResultError, match="no factor model under key 'nope'"):
        hm.tl.factor_signatures(mdata, key="nope")
    with pytest.raises(ValueError, match="n_top"):
        hm.tl.factor_signatures(mdata, n_top=0)
    with pytest.raises(KeyError, match="unknown factor"):
        hm.tl.factor_signatures(mdata, factors="Factor9")
    with pytest.raises(KeyError, match="unknown view"):
        hm.tl.factor_signatures(mdata, views="cnv")


def test_signature_table_leaves_the_store_as_it_was(store):
    mdata, _ = store
    before = set(mdata.uns)
    table = hm.tl.signature_table(mdata, views="rna", factors="Factor1", n_top=8)
    assert set(mdata.uns) == before  # computed, not stored (the exports use it)
    # Factor1's planted positive side is the basal genes
    up = table[table["side"] == "positive"]
    assert set(up["symbol"]) == set(BASAL_UP) and up["rank"].tolist() == list(range(1, 9))
    stored = hm.tl.factor_signatures(mdata, views="rna", factors="Factor1", n_top=8)
    pd.testing.assert_frame_equal(table, stored)


def test_builtin_gene_sets_content():
    sets = builtin_gene_sets()
    assert set(sets["PAM50_proliferation"]) == {
        "BIRC5",
        "CCNB1",
        "CDC20",
        "CEP55",
        "MKI67",
        "NDC80",
        "NUF2",
        "PTTG1",
        "RRM2",
        "TYMS",
        "UBE2C",
    }
    assert {"KRT5", "FOXC1"} <= set(sets["PAM50_Basal_up"]) and "ESR1" not in sets["PAM50_Basal_up"]
    assert "ESR1" in sets["PAM50_LumA_up"]
    assert len(sets["ESTIMATE_immune"]) == 141 and len(sets["ESTIMATE_stromal"]) == 141
    assert len(sets["TIS_GEP18"]) == 18
    assert set(sets["CYT_rooney2015"]) == {"GZMA", "PRF1"}
    assert any(name.startswith("Danaher_") for name in sets) and any(name.startswith("MCPcounter_") for name in sets)
    assert all("\t" not in n and " " not in n for n in sets)


def test_gmt_roundtrip_and_strictness(tmp_path):
    path = write_gmt({"A": ["G1", "G2"], "B": ["G3"], "empty": []}, tmp_path / "x.gmt", descriptions={"A": "first"})
    lines = path.read_text().splitlines()
    assert lines == ["A\tfirst\tG1\tG2", "B\tna\tG3"]
    assert read_gmt(path) == {"A": ["G1", "G2"], "B": ["G3"]}
    bad = tmp_path / "bad.gmt"
    bad.write_text("A\tdesc\tG1\nB\tonly-two-fields\n")
    with pytest.raises(FormatError, match="line 2"):
        read_gmt(bad)
    bad.write_text("A\tdesc\tG1\nA\tdesc\tG2\n")
    with pytest.raises(FormatError, match="appears twice"):
        read_gmt(bad)
    bad.write_text("\n\n")
    with pytest.raises(FormatError, match="no gene set"):
        read_gmt(bad)
    with pytest.raises(ValueError, match="tab"):
        write_gmt({"A\tB": ["G1"]}, tmp_path / "y.gmt")


def test_gene_set_table_inputs(tmp_path):
    table = pd.DataFrame({"signature": ["S", "S", "T"], "gene": ["A", "B", "C"], "weight": [1, -1, 2]})
    out = gene_set_table(table)
    assert list(out["set"]) == ["S", "S", "T"] and list(out["weight"]) == [1.0, -1.0, 2.0]
    (tmp_path / "sets.tsv").write_text("set\tgene\nS\tA\nS\tB\n")
    assert list(gene_set_table(tmp_path / "sets.tsv")["gene"]) == ["A", "B"]
    with pytest.raises(ValueError, match="set column"):
        gene_set_table(pd.DataFrame({"x": [1]}))
    with pytest.raises(FileNotFoundError):
        gene_set_table(tmp_path / "missing.gmt")
    with pytest.raises(TypeError):
        gene_set_table(42)
    with pytest.raises(TypeError, match="list of genes"):
        gene_set_table({"S": "ABC"})


def test_score_signatures_recovers_planted_factor(store):
    mdata, _ = store
    signatures = hm.tl.factor_signatures(mdata, n_top=8, views="rna")
    # score a *new* cohort: same genes, different samples and a different seed
    new, new_truth = planted_store(seed=1, n=60)
    # make the new cohort's weights differ in noise but keep the planted biology
    assert hm.tl.score_signatures(new, signatures) is None
    scores = new.obsm["signature_scores"]
    assert list(scores.index) == list(new.obs_names)
    assert {"Factor1_rna_up", "Factor1_rna_down", "Factor1_rna", "Factor2_rna"} <= set(scores.columns)
    r = np.corrcoef(scores["Factor1_rna"], new_truth["Z"][:, 0])[0, 1]
    assert r > 0.9
    assert np.corrcoef(scores["Factor2_rna_up"], new_truth["Z"][:, 1])[0, 1] > 0.9
    coverage = new.uns["signature_scores"]
    assert set(coverage.columns) == {"signature", "mod", "n_genes", "n_found", "method"}
    assert (coverage.loc[coverage["signature"] == "Factor1_rna_up", "n_found"] == 8).all()


def test_score_signatures_weighted_gmt_and_missing_samples(store, tmp_path):
    mdata, truth = store
    signatures = hm.tl.factor_signatures(mdata, n_top=8)
    out = hm.tl.score_signatures(mdata, signatures, method="weighted", key_added="w", copy=True)
    assert "w" in out.obsm and "w" not in mdata.obsm
    # prot is missing for the last 10 samples: their prot scores are NaN, rna scores are not
    assert out.obsm["w"]["Factor1_prot"].iloc[-10:].isna().all()
    assert out.obsm["w"]["Factor1_rna"].notna().all()
    assert np.corrcoef(out.obsm["w"]["Factor1_rna"], truth["Z"][:, 0])[0, 1] > 0.9
    gmt = write_gmt({"basal": BASAL_UP, "tiny": ["KRT5", "NOT_A_GENE"]}, tmp_path / "s.gmt")
    hm.tl.score_signatures(mdata, gmt, key_added="g")
    assert np.corrcoef(mdata.obsm["g"]["basal"], truth["Z"][:, 0])[0, 1] > 0.8
    assert mdata.obsm["g"]["tiny"].isna().all()  # 1 gene found < min_genes=2
    # builtin sets are scored in rna by symbol through var["gene_name"]
    hm.tl.score_signatures(mdata, "builtin", key_added="b")
    assert np.corrcoef(mdata.obsm["b"]["ESTIMATE_immune"], truth["Z"][:, 1])[0, 1] > 0.9


def test_score_signatures_with_missing_values(store):
    mdata, truth = store
    rna = mdata.mod["rna"]
    features = [rna.var_names[rna.var["gene_name"] == g][0] for g in BASAL_UP]
    rna.X[:, rna.var_names.get_loc(features[0])] = np.nan  # a gene without any value
    rna.X[0, [rna.var_names.get_loc(f) for f in features]] = np.nan  # a sample without any value for the set
    hm.tl.score_signatures(mdata, {"basal": BASAL_UP})
    scores = mdata.obsm["signature_scores"]["basal"]
    assert np.isnan(scores.iloc[0]) and scores.iloc[1:].notna().all()
    assert np.corrcoef(scores.iloc[1:], truth["Z"][1:, 0])[0, 1] > 0.8


def test_score_signatures_bad_input(store):
    mdata, _ = store
    with pytest.raises(GeneMappingError, match="no signature"):
        hm.tl.score_signatures(mdata, {"x": ["NOPE1", "NOPE2"]})
    with pytest.raises(ValueError, match="method"):
        hm.tl.score_signatures(mdata, "builtin", method="median")
    with pytest.raises(KeyError, match="modality 'cnv'"):
        hm.tl.score_signatures(mdata, "builtin", mod="cnv")
    with pytest.raises(ValueError, match="min_genes"):
        hm.tl.score_signatures(mdata, "builtin", min_genes=0)


def test_score_signatures_skips_views_the_cohort_lacks(store):
    mdata, _ = store
    signatures = hm.tl.factor_signatures(mdata, n_top=5)
    import mudata as md

    rna_only = md.MuData({"rna": mdata.mod["rna"].copy()})
    hm.tl.score_signatures(rna_only, signatures)
    assert {c.split("_")[1] for c in rna_only.obsm["signature_scores"].columns} == {"rna"}
    with pytest.raises(GeneMappingError, match="lacks"):
        hm.tl.score_signatures(rna_only, signatures[signatures["view"] == "meth"])


def test_score_signatures_anndata(store):
    mdata, truth = store
    rna = mdata.mod["rna"].copy()
    hm.tl.score_signatures(rna, {"basal": BASAL_UP})
    assert np.corrcoef(rna.obsm["signature_scores"]["basal"], truth["Z"][:, 0])[0, 1] > 0.8


@pytest.mark.slow
def test_synthetic_cohort_done_when(tmp_path):
    """Issue 8 done-when on the synthetic cohort: GDC files -> read_gdc -> MOFA -> signatures, enrichment,
    survival and the MOFA HDF5 export, checked against the planted truth."""
    import mofax

    cohort = hm.datasets.write_synthetic_cohort(
        tmp_path / "cohort",
        n_patients=200,
        seed=0,
        layouts=("gdc",),
        omics=("rna",),
        n_genes=2000,
        mess=False,
    )
    mdata = hm.io.read_gdc(cohort.gdc)
    hm.pp.normalize_rna(mdata)
    hm.pp.select_features(mdata, n_top=5000, subset=True)
    hm.tl.mofa(mdata, n_factors=6, seed=0, convergence="fast")
    truth = pd.read_csv(cohort.truth / "factors.tsv", sep="\t").set_index("sample").loc[mdata.obs_names]
    scores = pd.DataFrame(mdata.obsm["mofa"], index=mdata.obs_names, columns=mdata.uns["mofa"]["factor_names"])
    corr = pd.DataFrame({t: scores.corrwith(truth[t]) for t in ("Z1_subtype", "Z2_immune", "Z4_survival")})
    match = corr.abs().idxmax()
    assert (corr.abs().max() > 0.8).all(), corr

    # 1. the subtype factor's rna signature holds the PAM50 genes that drive it: those whose basal and
    #    luminal A centroids differ most (|basal - luminal_a| > 1.5), each on its own side
    sig = hm.tl.factor_signatures(mdata, n_top=50, views="rna")
    subtype = sig[sig["factor"] == match["Z1_subtype"]]
    orientation = np.sign(corr.loc[match["Z1_subtype"], "Z1_subtype"])  # Z1 high = basal
    centroids = pd.read_csv(data.path("pam50", "pam50_centroids.tsv"), sep="\t", index_col=0)
    delta = centroids["basal"] - centroids["luminal_a"]
    drivers = delta[delta.abs() > 1.5]
    side_of = dict(zip(subtype["symbol"], subtype["side"], strict=True))
    expected = {g: "positive" if np.sign(d) * orientation > 0 else "negative" for g, d in drivers.items()}
    right = [g for g in expected if side_of.get(g) == expected[g]]
    wrong = [g for g in expected if g in side_of and side_of[g] != expected[g]]
    assert len(right) >= 0.6 * len(expected) and not wrong, (expected, side_of)
    assert {"ESR1", "FOXA1"} <= set(right)

    # 2. enrichment finds the immune gene set for the immune factor
    immune = match["Z2_immune"]
    enr = hm.tl.enrichment(mdata, factors=[immune], seed=0)
    row = enr[enr["gene_set"] == "ESTIMATE_immune"].iloc[0]
    assert row["fdr"] < 0.05
    assert np.sign(row["nes"]) == np.sign(corr.loc[immune, "Z2_immune"])

    # 3. the Cox model finds the planted survival effect (HR 1.6 per SD of Z4_survival)
    cox = hm.tl.survival(mdata).set_index("factor")
    survival_factor = match["Z4_survival"]
    sign = np.sign(corr.loc[survival_factor, "Z4_survival"])
    hr, lower, upper = (cox.loc[survival_factor, c] ** sign for c in ("hr", "hr_lower", "hr_upper"))
    lower, upper = min(lower, upper), max(lower, upper)
    assert cox.loc[survival_factor, "fdr"] < 0.05 and lower < 1.6 < upper and hr > 1.2
    assert cox["pvalue"].idxmin() == survival_factor

    # the real fit exports to a model file that mofax reads back
    path = hm.export.mofa_hdf5(mdata, tmp_path / "model.hdf5")
    model = mofax.mofa_model(str(path))
    try:
        np.testing.assert_allclose(model.get_factors(df=True).loc[list(mdata.obs_names)].to_numpy(), mdata.obsm["mofa"])
        assert model.views == ["rna"] and model.nfactors == 6
        r2 = model.get_variance_explained()
        np.testing.assert_allclose(
            r2.set_index("Factor")["R2"].loc[list(scores.columns)].to_numpy(),
            100 * mdata.uns["mofa"]["r2_per_view_factor"].loc["rna"].to_numpy(),
        )
    finally:
        model.close()
