"""Preranked enrichment of factor weights (gseapy prerank) on a planted fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics import data
from harmonomics._errors import GeneMappingError, MissingResultError
from harmonomics._gmt import write_gmt
from harmonomics.tl._signatures import builtin_gene_sets


def planted_fit(seed: int = 0):
    """rna weights over ~700 genes (Ensembl IDs, symbols in var): Factor1 up = PAM50 Basal genes,
    Factor2 up = ESTIMATE immune genes, Factor3 down = ESTIMATE stromal genes; meth probes (no genes)."""
    import anndata as ad
    import mudata as md

    rng = np.random.default_rng(seed)
    sets = builtin_gene_sets()
    pam50 = pd.read_csv(data.path("signatures", "pam50_genes.tsv"), sep="\t")
    ens = dict(zip(pam50["gene_name"], pam50["gene_id"], strict=True))
    basal, immune, stromal = sets["PAM50_Basal_up"], sets["ESTIMATE_immune"], sets["ESTIMATE_stromal"]
    fillers = [f"FILL{i}" for i in range(400)]
    symbols = list(dict.fromkeys([*pam50["gene_name"], *immune, *stromal, *fillers]))
    var_names = [ens.get(s, f"ENSG{80000000000 + i:011d}") for i, s in enumerate(symbols)]
    W = rng.normal(0, 1.0, size=(len(symbols), 3))
    position = {s: i for i, s in enumerate(symbols)}
    for s in basal:
        W[position[s], 0] += 3.0
    for s in immune:
        W[position[s], 1] += 2.0
    for s in stromal:
        W[position[s], 2] -= 2.0
    n = 20
    samples = [f"S{i}" for i in range(n)]
    rna = ad.AnnData(
        rng.normal(size=(n, len(symbols))),
        obs=pd.DataFrame(index=samples),
        var=pd.DataFrame({"gene_name": symbols}, index=var_names),
    )
    rna.varm["mofa"] = W
    meth = ad.AnnData(
        rng.random((n, 40)),
        obs=pd.DataFrame(index=samples),
        var=pd.DataFrame(index=[f"cg{i:08d}" for i in range(40)]),
    )
    meth.varm["mofa"] = rng.normal(size=(40, 3))
    mdata = md.MuData({"rna": rna, "meth": meth})
    mdata.obsm["mofa"] = rng.normal(size=(n, 3))
    mdata.uns["mofa"] = {"factor_names": ["Factor1", "Factor2", "Factor3"], "views": ["rna", "meth"]}
    return mdata


@pytest.fixture(scope="module")
def fitted():
    mdata = planted_fit()
    table = hm.tl.enrichment(mdata, gene_sets="builtin", seed=1)
    return mdata, table


def test_enrichment_finds_planted_sets(fitted):
    mdata, table = fitted
    assert list(table.columns) == [
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
    assert set(table["view"]) == {"rna"}  # methylation probes are not genes: skipped
    assert mdata.uns["mofa_enrichment"] is table

    def row(factor, gene_set):
        hit = table[(table["factor"] == factor) & (table["gene_set"] == gene_set)]
        assert len(hit) == 1
        return hit.iloc[0]

    basal = row("Factor1", "PAM50_Basal_up")
    assert basal["fdr"] < 0.05 and basal["nes"] > 0 and basal["direction"] == "positive"
    immune = row("Factor2", "ESTIMATE_immune")
    assert immune["fdr"] < 0.05 and immune["nes"] > 0
    stromal = row("Factor3", "ESTIMATE_stromal")
    assert stromal["fdr"] < 0.05 and stromal["nes"] < 0 and stromal["direction"] == "negative"
    # the immune set is the immune factor's strongest hit, and not enriched in the basal factor
    f2 = table[table["factor"] == "Factor2"].sort_values(["pvalue", "nes"], ascending=[True, False])
    assert f2.iloc[0]["gene_set"] == "ESTIMATE_immune"
    assert row("Factor1", "ESTIMATE_immune")["fdr"] > 0.05
    assert (table["n_genes"] >= 5).all() and table["pvalue"].between(0, 1).all() and table["fdr"].between(0, 1).all()


def test_enrichment_deterministic_and_gmt(fitted, tmp_path):
    mdata, table = fitted
    again = hm.tl.enrichment(mdata, gene_sets="builtin", seed=1, factors=["Factor2"], key_added="again")
    pd.testing.assert_frame_equal(table[table["factor"] == "Factor2"].reset_index(drop=True), again)
    sets = builtin_gene_sets()
    gmt = write_gmt({"immune": sets["ESTIMATE_immune"], "basal": sets["PAM50_Basal_up"]}, tmp_path / "s.gmt")
    res = hm.tl.enrichment(
        mdata,
        gene_sets=gmt,
        factors=["Factor2"],
        views="rna",
        method="permutation",
        permutation_num=200,
        seed=3,
    )
    assert set(res["gene_set"]) == {"immune", "basal"} and set(res["method"]) == {"permutation"}
    immune = res[res["gene_set"] == "immune"].iloc[0]
    assert immune["pvalue"] == pytest.approx(1 / 201)  # floored at 1 / (permutations + 1)
    assert immune["fdr"] < 0.05


def test_enrichment_skips_inactive_factor():
    mdata = planted_fit()
    mdata.mod["rna"].varm["mofa"][:, 2] = 0.0  # Factor3 switched off
    table = hm.tl.enrichment(mdata, factors=["Factor2", "Factor3"], method="permutation", permutation_num=100)
    assert set(table["factor"]) == {"Factor2"}


def test_enrichment_bad_input(fitted):
    mdata, _ = fitted
    with pytest.raises(GeneMappingError, match="no view"):
        hm.tl.enrichment(mdata, gene_sets={"x": [f"NOPE{i}" for i in range(10)]})
    with pytest.raises(ValueError, match="method"):
        hm.tl.enrichment(mdata, method="fast")
    with pytest.raises(ValueError, match="min_size"):
        hm.tl.enrichment(mdata, min_size=10, max_size=5)
    with pytest.raises(KeyError, match="unknown view"):
        hm.tl.enrichment(mdata, views="cnv")
    with pytest.raises(MissingResultError):
        hm.tl.enrichment(mdata, key="other")
    with pytest.raises(FileNotFoundError):
        hm.tl.enrichment(mdata, gene_sets="/nonexistent/sets.gmt")
    with pytest.raises(ValueError, match="eps"):
        hm.tl.enrichment(mdata, eps=2.0)
