"""hm.pp: feature IDs, per-omic transforms, mutation matrix, feature selection and the harmonize pipeline."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._compat import mudata_options
from harmonomics._errors import FormatError, MissingResultError, ScaleError
from harmonomics.store import new_store

SAMPLES = ["TCGA-A1-A0SB-01", "TCGA-A2-A0CM-01", "TCGA-A2-A0CM-11"]


def _store():
    rna_ids = [
        "ENSG00000141510.18",
        "ENSG00000002586.20",
        "ENSG00000002586.20_PAR_Y",
        "ENSG00000091831.24",
        "ENSG00000900000001.1",
        "ENSG00000900000002.1",
    ]
    rna_var = pd.DataFrame({"gene_name": ["TP53", "CD99", "CD99", "ESR1", "Y_RNA", "Y_RNA"]}, index=rna_ids)
    counts = np.array([[10, 0, 0, 90, 5, 5], [30, 10, 0, 60, 1, 3], [50, 20, 0, 30, 0, 0]], dtype=float)
    rna = ad.AnnData(
        counts.copy(),
        obs=pd.DataFrame({"aliquot": ["a", "b", "c"]}, index=SAMPLES),
        var=rna_var,
        layers={"counts": counts.copy(), "tpm_unstranded": counts / counts.sum(1, keepdims=True) * 1e6},
    )
    rna.uns["scale"] = "counts"
    cnv = ad.AnnData(
        np.array([[2.0, 8.0, 0.0], [1.0, 2.0, np.nan]]),
        obs=pd.DataFrame(index=SAMPLES[:2]),
        var=pd.DataFrame(index=["TP53", "ESR1", "ORC6L"]),
    )
    cnv.uns["scale"] = "copy_number"
    meth = ad.AnnData(
        np.array([[0.5, 0.2], [np.nan, 0.9]]),
        obs=pd.DataFrame(index=SAMPLES[:2]),
        var=pd.DataFrame(index=["cg1", "cg2"]),
    )
    meth.uns["scale"] = "beta"
    mut = ad.AnnData(
        np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
        obs=pd.DataFrame(index=SAMPLES[:2]),
        var=pd.DataFrame(index=["TP53|7157", "PIK3CA", "TP53"]),
    )
    mut.uns["scale"] = "binary"
    obs = pd.DataFrame({"patient": [s[:12] for s in SAMPLES], "sample_type_code": ["01", "01", "11"]}, index=SAMPLES)
    with mudata_options():  # TP53 is a feature of several modalities, as in any multi-omics store
        return new_store({"rna": rna, "meth": meth, "cnv": cnv, "mut": mut}, obs=obs, reader="test")


def test_harmonize_feature_ids_to_ensembl():
    m = _store()
    hm.pp.harmonize_feature_ids(m)
    rna = m.mod["rna"]
    assert "ENSG00000141510" in rna.var_names and "ENSG00000002586_PAR_Y" in rna.var_names
    assert rna.var.loc["ENSG00000141510", "gene_id_versioned"] == "ENSG00000141510.18"
    # symbols of cnv/mut mapped to Ensembl with the STAR file's own gene_name column
    assert "ENSG00000141510" in m.mod["cnv"].var_names and "ENSG00000091831" in m.mod["cnv"].var_names
    # legacy alias ORC6L -> ORC6 -> its Ensembl ID from the shipped table
    assert "ENSG00000091651" in m.mod["cnv"].var_names
    # duplicates in mut (TP53|7157 and TP53) merged by max
    mut = m.mod["mut"]
    assert list(mut[:, "ENSG00000141510"].X.ravel()) == [1.0, 0.0] and mut.var.loc["ENSG00000141510", "n_merged"] == 2
    rep = m.uns["harmonomics_report"]
    assert ((rep["action"] == "renamed") & (rep["item"] == "ORC6L")).any()
    merged = rep[(rep["action"] == "merged") & (rep["omic"] == "mut")]
    assert len(merged) == 1 and "max" in merged["reason"].iloc[0]
    assert m.uns["harmonomics"]["feature_ids"]["aggregation"]["counts"] == "sum"


def test_harmonize_feature_ids_to_symbol_sums_counts():
    m = _store()
    hm.pp.harmonize_feature_ids(m, to="symbol", mods=["rna"])
    rna = m.mod["rna"]
    assert "Y_RNA" in rna.var_names and "CD99" in rna.var_names
    assert list(rna[:, "Y_RNA"].layers["counts"].ravel()) == [10, 4, 0]  # counts summed
    assert rna.var.loc["Y_RNA", "n_merged"] == 2


def test_normalize_rna_log2cpm_keeps_counts():
    m = _store()
    hm.pp.normalize_rna(m)
    rna = m.mod["rna"]
    counts = rna.layers["counts"]
    expected = np.log2(counts / counts.sum(1, keepdims=True) * 1e6 + 1)
    np.testing.assert_allclose(rna.X, expected)
    assert rna.uns["transform"]["method"] == "log2cpm"
    with pytest.raises(ScaleError, match="already transformed"):
        hm.pp.normalize_rna(m)
    m2 = _store()
    out = hm.pp.normalize_rna(m2, method="log2tpm", copy=True)
    np.testing.assert_allclose(out.mod["rna"].X, np.log2(m2.mod["rna"].layers["tpm_unstranded"] + 1))
    assert m2.mod["rna"].uns.get("transform") is None
    with pytest.raises(MissingResultError):
        hm.pp.normalize_rna(m2, mod="mirna")
    with pytest.raises(ValueError, match="method must be"):
        hm.pp.normalize_rna(m2, method="vst")


def test_beta_to_m():
    m = _store()
    hm.pp.beta_to_m(m)
    meth = m.mod["meth"]
    assert meth.X[0, 0] == 0.0 and np.isclose(meth.X[1, 1], np.log2(0.9 / 0.1)) and np.isnan(meth.X[1, 0])
    assert meth.layers["beta"][0, 1] == 0.2
    with pytest.raises(ScaleError, match="outside"):
        m.mod["meth"].layers.clear()
        hm.pp.beta_to_m(m)


def test_mutation_matrix_protein_altering_only():
    maf = pd.DataFrame(
        {
            "Tumor_Sample_Barcode": ["s1", "s1", "s1", "s2", "s2", "s3"],
            "Hugo_Symbol": ["TP53", "TP53", "PIK3CA", "GATA3", "CDH1", "KMT2C"],
            "Variant_Classification": [
                "Missense_Mutation",
                "Nonsense_Mutation",
                "Silent",
                "Frame_Shift_Ins",
                "3'UTR",
                "Splice_Region",
            ],
        }
    )
    mm = hm.pp.mutation_matrix(maf, samples=["s1", "s2", "s3", "s4"])
    assert list(mm.index) == ["s1", "s2", "s3", "s4"] and list(mm.columns) == ["GATA3", "TP53"]
    assert (
        mm.loc["s1", "TP53"] == 1 and mm.loc["s2", "GATA3"] == 1 and mm.loc["s3"].sum() == 0 and mm.loc["s4"].sum() == 0
    )
    assert mm.dtypes.unique().tolist() == [np.int8]
    with pytest.raises(FormatError, match="lacks column 'Variant_Classification'"):
        hm.pp.mutation_matrix(maf.drop(columns="Variant_Classification"))
    with pytest.raises(FormatError, match="not among the expected samples"):
        hm.pp.mutation_matrix(maf, samples=["s1"])


def test_select_features_top_variance_and_balance():
    m = _store()
    hm.pp.select_features(m, n_top=2)
    rna = m.mod["rna"]
    assert rna.var["highly_variable"].sum() == 2
    assert set(rna.var_names[rna.var["highly_variable"]]) == {"ENSG00000141510.18", "ENSG00000091831.24"}
    assert not rna.var.loc["ENSG00000002586.20_PAR_Y", "highly_variable"]  # zero variance never chosen
    m2 = _store()
    hm.pp.select_features(m2, n_top=5, balance=True, subset=True)
    sizes = {k: a.n_vars for k, a in m2.mod.items()}
    assert len(set(sizes.values())) == 1, sizes
    with pytest.raises(ValueError, match="positive"):
        hm.pp.select_features(m2, n_top=0)
    with pytest.raises(MissingResultError):
        hm.pp.select_features(m2, mods=["prot"])


def test_harmonize_pipeline():
    m = _store()
    out = hm.pp.harmonize(m, sample_types="primary", n_top=2, meth="m", cnv="gistic", copy=True)
    assert set(out.obs_names) == set(SAMPLES[:2]) and m.n_obs == 3
    assert out.mod["rna"].uns["transform"]["method"] == "log2cpm"
    assert out.mod["meth"].uns["transform"]["method"] == "m_value"
    assert list(out.mod["cnv"][:, "ENSG00000091831"].X.ravel()) == [2.0, 0.0]  # CN 8 -> 2, CN 2 -> 0
    rep = out.uns["harmonomics_report"]
    assert ((rep["item"] == "TCGA-A2-A0CM-11") & (rep["action"] == "dropped")).any()
    assert out.uns["harmonomics"]["harmonize"]["transforms"]["cnv"] == "gistic"
    inter = hm.pp.harmonize(_store(), join="intersection", copy=True, feature_ids=None)
    assert set(inter.obs_names) == set(SAMPLES[:2])
    with pytest.raises(ValueError, match="meth must be"):
        hm.pp.harmonize(_store(), meth="mvalue")
    with pytest.raises(ValueError, match="join must be"):
        hm.pp.harmonize(_store(), join="outer")


def test_harmonize_drops_empty_par_y_rows():
    m = _store()
    counts = m.mod["rna"].layers["counts"]  # column 2 is the Y copy of CD99 (column 1): zero in every sample
    assert (counts[:, 2] == 0).all() and (counts[:, 1] > 0).any()
    hm.pp.harmonize(m)
    rna = m.mod["rna"]
    assert "ENSG00000002586_PAR_Y" not in rna.var_names and "ENSG00000002586" in rna.var_names
    assert rna.n_vars == 4  # 6 read, the _PAR_Y row dropped, the two Y_RNA rows merged by symbol
    rep = m.uns["harmonomics_report"]
    row = rep[(rep["omic"] == "rna") & rep["reason"].str.contains("_PAR_Y copy", regex=False)]
    assert row[["level", "item", "action"]].values.tolist() == [["feature", "1 features", "dropped"]]
    assert "ENSG00000002586.20_PAR_Y" in row["reason"].iloc[0] and "3 samples" in row["reason"].iloc[0]
    assert m.uns["harmonomics"]["harmonize"]["drop_empty_par_y"] is True
    # a _PAR_Y row with counts is a feature like any other; the step can be switched off
    m2 = _store()
    m2.mod["rna"].X[1, 2] = 4.0
    hm.pp.harmonize(m2)
    assert "ENSG00000002586_PAR_Y" in m2.mod["rna"].var_names
    m3 = _store()
    hm.pp.harmonize(m3, drop_empty_par_y=False)
    assert "ENSG00000002586_PAR_Y" in m3.mod["rna"].var_names


def test_harmonize_that_would_keep_no_sample_says_why():
    from harmonomics._errors import InsufficientDataError

    m = _store()
    with pytest.raises(
        InsufficientDataError,
        match=r"sample_types=\('06',\) keeps none of the 3 samples, whose "
        r"types are 01, 11; .*sample_types=None",
    ):
        hm.pp.harmonize(m, sample_types=("06",))
    assert m.n_obs == 3 and m.mod["rna"].n_obs == 3  # the store is left as it was
    m.mod["meth"] = m.mod["meth"][:0].copy()  # no sample has every omic
    with pytest.raises(InsufficientDataError, match=r"join='intersection' keeps none .*use join='union'"):
        hm.pp.harmonize(m, join="intersection")


def test_gistic_levels():
    from harmonomics.pp._transforms import gistic_levels

    assert list(gistic_levels(np.array([0, 1, 2, 3, 4, 5, 12, np.nan]))[:7]) == [-2, -1, 0, 1, 1, 2, 2]
