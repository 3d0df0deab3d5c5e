"""The bundled real cohorts: shapes, labels, the missing protein block, survival, provenance."""

from __future__ import annotations

import numpy as np
import pandas as pd

import harmonomics as hm


def test_tcga_brca_mini_shapes_and_labels(shared_data):
    mdata = hm.datasets.tcga_brca_mini()
    assert mdata.n_obs == 220
    assert {m: (a.n_obs, a.n_vars) for m, a in mdata.mod.items()} == {
        "rna": (220, 200),
        "mirna": (220, 184),
        "prot": (150, 142),
    }
    obs = mdata.obs
    assert obs["split"].value_counts().to_dict() == {"train": 150, "test": 70}
    assert obs.loc[obs["split"] == "train", "pam50"].value_counts().to_dict() == {"LumA": 75, "Basal": 45, "Her2": 30}
    assert obs.loc[obs["split"] == "test", "pam50"].value_counts().to_dict() == {"LumA": 35, "Basal": 21, "Her2": 14}
    # the test split has no protein: absent from prot, not filled in
    test_samples = obs.index[obs["split"] == "test"]
    assert not set(test_samples) & set(mdata["prot"].obs_names)
    assert set(mdata["prot"].obs_names) == set(obs.index[obs["split"] == "train"])
    # patient barcodes where known (218 of 220)
    assert obs["patient"].notna().sum() == 218
    assert obs.loc["A0FJ", "patient"] == "TCGA-AN-A0FJ"


def test_tcga_brca_mini_values_match_source(shared_data):
    mdata = hm.datasets.tcga_brca_mini()
    source = pd.read_csv(
        shared_data / "tcga_brca_mixomics" / "test_mrna.tsv", sep="\t", index_col=0, float_precision="round_trip"
    )
    source.index = source.index.astype(str)
    np.testing.assert_array_equal(mdata["rna"][source.index, list(source.columns)].X, source.to_numpy())
    protein = pd.read_csv(
        shared_data / "tcga_brca_mixomics" / "train_protein.tsv", sep="\t", index_col=0, float_precision="round_trip"
    )
    protein.index = protein.index.astype(str)
    np.testing.assert_array_equal(mdata["prot"][protein.index, list(protein.columns)].X, protein.to_numpy())


def test_tcga_brca_mini_survival(shared_data):
    mdata = hm.datasets.tcga_brca_mini()
    clinical = pd.read_csv(shared_data / "tcga_brca_labels" / "clinical_pam50.tsv", sep="\t", index_col="patient")
    obs = mdata.obs.dropna(subset=["patient"])
    dead = clinical.loc[obs["patient"], "vital_status"].eq("Dead").to_numpy()
    np.testing.assert_array_equal(obs["os_event"].to_numpy(), dead.astype(float))
    expected_time = np.where(
        dead,
        clinical.loc[obs["patient"], "days_to_death"],
        clinical.loc[obs["patient"], "days_to_last_followup"],
    )
    np.testing.assert_array_equal(obs["os_time"].to_numpy(), expected_time)


def test_tcga_brca_mini_provenance_and_report():
    mdata = hm.datasets.tcga_brca_mini()
    record = mdata.uns["harmonomics"]
    assert record["format_version"] == hm.store.FORMAT_VERSION
    assert "mixOmics" in record["parameters"]["source"]
    report = mdata.uns["harmonomics_report"]
    assert (report["omic"] == "prot").sum() == 70


def test_tcga_brca_rnaseq10(shared_data):
    mdata = hm.datasets.tcga_brca_rnaseq10()
    rna = mdata["rna"]
    assert rna.shape == (10, 20530)
    assert mdata.obs["sample_type"].value_counts().to_dict() == {"TP": 5, "NT": 5}
    assert rna.obs.loc["TCGA-A7-A13D-01", "aliquot"] == "TCGA-A7-A13D-01A-13R-A12P-07"
    assert rna.var.loc["TSPAN6|7105", "gene_symbol"] == "TSPAN6"
    assert rna.var.loc["?|100133144", "gene_symbol"] is None
    assert rna.X[0, rna.var_names.get_loc("?|100133144")] == 20.47
