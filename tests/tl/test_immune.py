"""Immune scores and immune status: published values, per-sample independence, ID types, scales, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import GeneMappingError, MissingResultError, ScaleError

TUMOURS_PUBLISHED = "tcga_brca_labels/tumor_purity_aran2015.tsv"


@pytest.fixture(scope="module")
def counts() -> pd.DataFrame:
    """RSEM counts of the 10 TCGA-BRCA samples, samples × genes (SYMBOL|ENTREZ IDs)."""
    from harmonomics import data

    table = pd.read_csv(data.path("tcga_brca_rnaseq10", "dataBRCA_rsem_counts.tsv.gz"), sep="\t", index_col=0)
    table.columns = [c[:15] for c in table.columns]
    return table.T.astype(float)


def _adata(frame: pd.DataFrame, var: pd.DataFrame | None = None):
    import anndata as ad

    return ad.AnnData(
        frame.to_numpy(copy=True),
        obs=pd.DataFrame(index=frame.index.astype(str)),
        var=var if var is not None else pd.DataFrame(index=frame.columns.astype(str)),
    )


def _scores(frame: pd.DataFrame, var: pd.DataFrame | None = None, **kwargs) -> pd.DataFrame:
    adata = _adata(frame, var)
    hm.tl.immune_scores(adata, **kwargs)
    return adata.obsm["immune"]


@pytest.fixture(scope="module")
def tcga_scores(counts) -> pd.DataFrame:
    return _scores(counts)


# ------------------------------------------------------------------------------------------ real data
def test_tcga_estimate_purity_matches_published(tcga_scores, shared_data):
    published = pd.read_csv(shared_data / TUMOURS_PUBLISHED, sep="\t", index_col=0)["ESTIMATE"]
    tumours = [s for s in tcga_scores.index if s.endswith("-01")]
    assert len(tumours) == 5
    ours = tcga_scores.loc[tumours, "estimate_purity"].to_numpy()
    theirs = published.loc[[f"{s}A" for s in tumours]].to_numpy()
    assert np.abs(ours - theirs).max() < 0.002  # spec: 0.005 per tumour; observed max 0.0016


def test_tcga_tumours_and_normals_separate(tcga_scores):
    kind = np.where(tcga_scores.index.str.endswith("-01"), "tumour", "normal")
    medians = tcga_scores.groupby(kind).median()
    # normal breast is stroma/adipose-rich: higher stromal and ESTIMATE scores, lower "purity"
    assert medians.loc["normal", "estimate_stromal"] > medians.loc["tumour", "estimate_stromal"] + 500
    assert medians.loc["normal", "estimate_score"] > medians.loc["tumour", "estimate_score"] + 500
    assert medians.loc["normal", "estimate_purity"] < medians.loc["tumour", "estimate_purity"]
    assert medians.loc["normal", "mcp_endothelial_cells"] > medians.loc["tumour", "mcp_endothelial_cells"]
    assert medians.loc["normal", "estimate_immune"] > medians.loc["tumour", "estimate_immune"]


def test_output_layout(counts):
    adata = _adata(counts)
    hm.tl.immune_scores(adata)
    frame = adata.obsm["immune"]
    assert list(frame.index) == list(adata.obs_names)
    assert {
        "estimate_stromal",
        "estimate_immune",
        "estimate_score",
        "estimate_purity",
        "cyt",
        "tis",
        "pdl1",
    } <= set(frame)
    assert sum(c.startswith("mcp_") for c in frame) == 10 and sum(c.startswith("danaher_") for c in frame) == 14
    assert frame.notna().all().all()
    uns = adata.uns["immune"]
    assert uns["params"]["scale_detected"] == "counts" and uns["params"]["tpm_source"] == "cpm"
    genes = uns["genes"]
    assert {"score", "gene", "found", "feature"} <= set(genes.columns)
    # missing genes are reported per score (NRDE2, a TIS housekeeping gene, is absent from this file)
    summary = uns["summary"].set_index("score")
    assert "NRDE2" in summary.loc["tis_housekeeping", "missing"]
    assert set(adata.obs["immune_pdl1_status"].astype(str)) <= {"low", "high"}


def test_mudata_store_layout_and_absent_samples(tmp_path):
    import mudata as md

    mdata = hm.datasets.tcga_brca_rnaseq10()
    present = list(mdata.obs_names[:7])
    import anndata as ad

    other = ad.AnnData(np.ones((10, 2)), obs=pd.DataFrame(index=mdata.obs_names))  # an omic all samples have
    mdata = md.MuData({"rna": mdata.mod["rna"][present].copy(), "mirna": other})  # 3 samples lack RNA
    assert mdata.n_obs == 10
    hm.tl.immune_scores(mdata, layer="counts")
    frame = mdata.obsm["immune"]
    assert frame.shape[0] == 10
    assert frame.loc[present].notna().all().all() and frame.drop(index=present).isna().all().all()
    mdata.obsm["mofa"] = np.random.default_rng(0).normal(size=(10, 2))
    hm.tl.immune_status(mdata)
    path = tmp_path / "immune.h5mu"
    mdata.write(path)
    back = md.read_h5mu(path)
    pd.testing.assert_frame_equal(back.obsm["immune"], frame, check_names=False)
    assert "most_immune_factor" in back.uns["immune"]["status"]
    assert list(back.obs["immune_class"].cat.categories) == ["cold", "intermediate", "hot"]


def test_copy_leaves_input_untouched(counts):
    adata = _adata(counts.iloc[:3])
    out = hm.tl.immune_scores(adata, methods=["cyt"], copy=True)
    assert "immune" not in adata.obsm and "immune" in out.obsm


# ------------------------------------------------------------------------------------------ per sample
def test_scores_do_not_depend_on_other_samples(counts, tcga_scores):
    alone = pd.concat([_scores(counts.iloc[[i]]) for i in (0, 9)])
    rng = np.random.default_rng(1)
    extra = counts.iloc[:4] * rng.uniform(0.1, 10, size=(4, counts.shape[1]))
    extra.index = [f"extra{i}" for i in range(4)]
    shuffled = _scores(pd.concat([extra, counts.iloc[::-1]]))
    for other in (alone, shuffled):
        common = other.index.intersection(tcga_scores.index)
        np.testing.assert_allclose(
            other.loc[common].to_numpy(), tcga_scores.loc[common].to_numpy(), rtol=1e-12, atol=1e-12
        )


# ------------------------------------------------------------------------------------------ gene IDs
def _id_variants(counts: pd.DataFrame):
    from harmonomics._genes import parse_gene_ids

    parsed = parse_gene_ids(counts.columns)
    keep = parsed["symbol"].notna() & ~parsed["symbol"].duplicated(keep=False)
    sub = counts.loc[:, keep.to_numpy()]
    symbols = parsed.loc[keep, "symbol"].to_numpy()
    entrez = parsed.loc[keep, "entrez"].to_numpy()
    as_symbols = sub.set_axis(symbols, axis=1)
    symbol_var = pd.DataFrame({"entrez": entrez}, index=symbols)
    ensembl_ids = [f"ENSG{i:011d}.{i % 7 + 1}" for i in range(sub.shape[1])]
    as_ensembl = sub.set_axis(ensembl_ids, axis=1)
    ensembl_var = pd.DataFrame({"gene_name": symbols, "entrez": entrez}, index=ensembl_ids)
    return sub, (as_symbols, symbol_var), (as_ensembl, ensembl_var)


def test_symbol_entrez_symbol_and_ensembl_ids_give_the_same_scores(counts):
    sub, (as_symbols, symbol_var), (as_ensembl, ensembl_var) = _id_variants(counts.iloc[:3])
    genes = _adata(sub)
    hm.tl.immune_scores(genes)
    reference = genes.obsm["immune"]
    pd.testing.assert_frame_equal(_scores(as_symbols, symbol_var), reference)
    pd.testing.assert_frame_equal(_scores(as_ensembl, ensembl_var), reference)
    # without Entrez IDs, MCP markers known under an older symbol (ADGRL4 = ELTD1) are missing, and reported
    adata = _adata(as_ensembl, ensembl_var.drop(columns="entrez"))
    hm.tl.immune_scores(adata, methods=["mcp"])
    summary = adata.uns["immune"]["summary"].set_index("score")
    assert "ADGRL4" in summary.loc["mcp_endothelial_cells", "missing"]
    table = genes.uns["immune"]["genes"].query("method == 'mcp'").set_index("gene")
    assert table.loc["ADGRL4", "found"] and table.loc["ADGRL4", "feature"].startswith("ELTD1|")


def test_ensembl_ids_without_symbols_raise(counts):
    _, _, (as_ensembl, _) = _id_variants(counts.iloc[:2])
    with pytest.raises(GeneMappingError, match="gene_name"):
        _scores(as_ensembl)


# ------------------------------------------------------------------------------------------ scales
def test_counts_cpm_and_log2_give_the_same_scores(counts):
    sub = counts.iloc[:3]
    cpm = sub.div(sub.sum(axis=1), axis=0) * 1e6
    from_counts = _scores(sub)
    from_tpm = _scores(cpm)
    from_log = _scores(np.log2(cpm + 1))
    np.testing.assert_allclose(from_tpm.to_numpy(), from_counts.to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(from_log.to_numpy(), from_counts.to_numpy(), rtol=1e-7, atol=1e-7)


def test_gene_lengths_give_tpm(counts):
    sub = counts.iloc[:2]
    lengths = np.random.default_rng(2).uniform(500, 5000, size=sub.shape[1])
    var = pd.DataFrame({"length": lengths}, index=sub.columns)
    adata = _adata(sub, var)
    hm.tl.immune_scores(adata, methods=["cyt"])
    rate = sub / lengths
    tpm = rate.div(rate.sum(axis=1), axis=0) * 1e6
    gzma, prf1 = (
        [c for c in sub.columns if c.startswith("GZMA|")][0],
        [c for c in sub.columns if c.startswith("PRF1|")][0],
    )
    expected = np.sqrt((tpm[gzma] + 0.01) * (tpm[prf1] + 0.01))
    np.testing.assert_allclose(adata.obsm["immune"]["cyt"], expected, rtol=1e-10)
    assert adata.uns["immune"]["params"]["tpm_source"] == "counts / gene length"


@pytest.mark.parametrize(
    ("transform", "kwargs", "match"),
    [
        (lambda x: x - x.mean(axis=0), {}, "negative"),  # gene-centred
        (lambda x: x, {"scale": "log2"}, "scale='log2'"),  # counts declared log2
        (lambda x: np.log2(x + 1), {"scale": "counts"}, "log-transformed"),
        (lambda x: x, {"scale": "tpm"}, "look like counts"),
        (lambda x: pd.concat([x.iloc[:1], np.log2(x.iloc[1:] + 1)]), {}, "different scales"),
        (lambda x: x.mask(x == x.iloc[0, 5], np.nan), {}, "missing or infinite"),
    ],
)
def test_wrong_scale_is_an_error(counts, transform, kwargs, match):
    with pytest.raises(ScaleError, match=match):
        _scores(transform(counts.iloc[:3]), **kwargs)


# ------------------------------------------------------------------------------------------ missing genes
def test_missing_gene_gives_nan_and_warning(counts):
    sub = counts.iloc[:2].loc[:, [c for c in counts.columns if not c.startswith("GZMA|")]]
    with pytest.warns(UserWarning, match="'cyt'.*GZMA"):
        frame = _scores(sub, methods=["cyt", "mcp"])
    assert frame["cyt"].isna().all()
    assert frame.drop(columns="cyt").notna().all().all()


def test_no_usable_gene_is_an_error(counts):
    sub = counts.iloc[:2, :300]  # 300 unrelated genes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(GeneMappingError, match="no immune score"):
            _scores(sub, methods=["cyt", "tis", "pdl1"])


def test_bad_arguments(counts):
    adata = _adata(counts.iloc[:2])
    with pytest.raises(ValueError, match="unknown immune score method"):
        hm.tl.immune_scores(adata, methods=["cibersort"])
    with pytest.raises(ValueError, match="scale must be"):
        hm.tl.immune_scores(adata, scale="fpkm")
    with pytest.raises(ValueError, match="pdl1_threshold"):
        hm.tl.immune_scores(adata, pdl1_threshold=-1)
    import mudata as md

    with pytest.raises(MissingResultError, match="modality 'rna'"):
        hm.tl.immune_scores(md.MuData({"prot": adata}))


# ------------------------------------------------------------------------------------------ status
def _status_adata(scores: pd.DataFrame):
    import anndata as ad

    adata = ad.AnnData(np.zeros((len(scores), 1)), obs=pd.DataFrame(index=scores.index))
    adata.obsm["immune"] = scores
    return adata


def test_immune_classes_follow_the_documented_thresholds():
    scores = pd.DataFrame(
        {
            "estimate_immune": [2000, 500, -800, 1500, np.nan],
            "cyt": [20, 5, 1, 1, np.nan],
            "tis": [-0.2, -0.7, -1.5, -0.7, np.nan],
        },
        index=[f"s{i}" for i in range(5)],
    )
    adata = _status_adata(scores)
    hm.tl.immune_status(adata, factors_key=None)
    got = adata.obs["immune_class"].astype(object).tolist()
    assert got[:4] == ["hot", "intermediate", "cold", "intermediate"]
    assert pd.isna(got[4])
    assert set(adata.uns["immune"]["status"]["thresholds"]["score"]) == {"estimate_immune", "cyt", "tis"}


def test_immune_status_names_the_planted_factor():
    rng = np.random.default_rng(3)
    level = rng.normal(size=60)
    scores = pd.DataFrame(
        {
            "estimate_immune": 800 * level + rng.normal(0, 200, 60),
            "cyt": np.exp(level + rng.normal(0, 0.3, 60)),
            "tis": 0.3 * level - 0.7 + rng.normal(0, 0.1, 60),
            "estimate_stromal": rng.normal(0, 500, 60),
        },
        index=[f"s{i}" for i in range(60)],
    )
    adata = _status_adata(scores)
    factors = rng.normal(size=(60, 4))
    factors[:, 2] = level + rng.normal(0, 0.3, 60)
    adata.obsm["mofa"] = factors
    adata.uns["mofa"] = {"factor_names": ["Factor1", "Factor2", "Factor3", "Factor4"]}
    hm.tl.immune_status(adata)
    status = adata.uns["immune"]["status"]
    assert status["most_immune_factor"] == "Factor3"
    table = status["associations"]
    assert {"factor", "covariate", "rho", "pvalue", "fdr"} <= set(table.columns)
    assert len(table) == 4 * 4
    row = table[(table["factor"] == "Factor3") & (table["covariate"] == "immune:estimate_immune")].iloc[0]
    assert row["rho"] > 0.8 and row["fdr"] < 1e-6


def test_immune_status_bad_input():
    import anndata as ad

    adata = ad.AnnData(np.zeros((3, 1)))
    with pytest.raises(MissingResultError, match="immune_scores"):
        hm.tl.immune_status(adata)
    scored = _status_adata(pd.DataFrame({"cyt": [1.0, 2.0, 3.0]}, index=["a", "b", "c"]))
    with pytest.raises(MissingResultError, match="mofa"):
        hm.tl.immune_status(scored)
    with pytest.raises(ValueError, match="low <= high"):
        hm.tl.immune_status(scored, factors_key=None, thresholds={"cyt": (5, 1)})
    with pytest.raises(MissingResultError, match="none of the classification scores"):
        hm.tl.immune_status(scored, factors_key=None, thresholds={"tis": (0, 1)})


# ------------------------------------------------------------------------------------------ synthetic cohort
@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A synthetic GDC cohort (RNA only) with a planted immune level, read back with hm.io.read_gdc."""
    cohort = hm.datasets.write_synthetic_cohort(
        tmp_path_factory.mktemp("immune_cohort"), n_patients=60, seed=0, layouts=["gdc"], omics=["rna"]
    )
    mdata = hm.io.read_gdc(cohort.gdc)
    truth = pd.read_csv(cohort.truth / "factors.tsv", sep="\t", index_col="sample")
    return mdata, truth


def test_synthetic_scores_follow_the_planted_immune_level(synthetic):
    from scipy.stats import spearmanr

    mdata, truth = synthetic
    mdata = mdata.copy()
    hm.tl.immune_scores(mdata, layer="counts", estimate_genes="all")
    scores = mdata.obsm["immune"].dropna()
    level = truth.loc[scores.index, "Z2_immune"]
    for name in ("estimate_immune", "cyt", "tis", "danaher_t_cells"):
        assert spearmanr(scores[name], level).statistic >= 0.8, name
    assert spearmanr(scores["estimate_stromal"], truth.loc[scores.index, "Z3_stromal"]).statistic >= 0.8
    # the published method ranks only ESTIMATE's common genes: few in a 2,000-gene synthetic panel -> warning
    with pytest.warns(UserWarning, match="common genes"):
        hm.tl.immune_scores(mdata, layer="counts", key_added="immune_common")
    common = mdata.obsm["immune_common"].loc[scores.index]
    assert spearmanr(common["estimate_immune"], level).statistic >= 0.7


def test_synthetic_immune_status_names_the_immune_factor(synthetic):
    from scipy.stats import spearmanr

    mdata, truth = synthetic
    mdata = mdata.copy()
    hm.tl.immune_scores(mdata, layer="counts", estimate_genes="all")
    hm.pp.normalize_rna(mdata)
    hm.pp.select_features(mdata, n_top=1000, subset=True)
    hm.tl.mofa(mdata, n_factors=5, seed=0)
    hm.tl.immune_status(mdata)
    status = mdata.uns["immune"]["status"]
    factors = pd.DataFrame(mdata.obsm["mofa"], index=mdata.obs_names, columns=mdata.uns["mofa"]["factor_names"])
    level = truth.loc[factors.index, "Z2_immune"]
    driven = factors.apply(lambda f: abs(spearmanr(f, level).statistic)).idxmax()
    assert status["most_immune_factor"] == driven
    assert abs(spearmanr(factors[driven], level).statistic) >= 0.8
    assert set(mdata.obs["immune_class"].dropna().astype(str)) <= {"cold", "intermediate", "hot"}


def test_sparse_integer_counts_give_the_same_scores(counts):
    import scipy.sparse as sp

    sub = counts.iloc[:2].round()
    adata = _adata(sub)
    adata.X = sp.csr_matrix(sub.to_numpy().astype(np.int64))
    hm.tl.immune_scores(adata)
    pd.testing.assert_frame_equal(adata.obsm["immune"], _scores(sub))
