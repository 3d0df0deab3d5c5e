"""hm.tl.tmb against mutation counts taken from the raw MAF files with pandas."""

from __future__ import annotations

import mudata as md
import numpy as np
import pandas as pd
import pytest
from precision_files import NON_SYNONYMOUS, gdc_maf_download, raw_counts

import harmonomics as hm
from harmonomics import data
from harmonomics._errors import MissingResultError


@pytest.fixture(scope="module")
def cohort(brca121_base):
    mdata = brca121_base.copy()
    hm.tl.tmb(mdata)
    return mdata


def test_tmb_equals_the_raw_maf_counts_of_the_shipped_cohort(cohort):
    counts = raw_counts(data.path("tcga_brca_121", "mutations.maf.gz"), lambda s: s[:15])
    assert len(counts) == 110
    obs = cohort.obs
    sequenced = obs.index[obs["tmb"].notna()]
    assert sorted(sequenced) == sorted(counts.index)
    np.testing.assert_array_equal(obs.loc[counts.index, "tmb_mutations"].astype(int), counts.to_numpy())
    np.testing.assert_allclose(obs.loc[counts.index, "tmb"], counts.to_numpy() / 38.0)
    # the hypermutated tumour of the cohort: 3,656 distinct coding variants in the raw file
    assert counts["TCGA-AC-A23H-01"] == 3656 and obs.at["TCGA-AC-A23H-01", "hypermutated"]
    # the cohort median is about 1 mutation/Mb, as published for TCGA breast exomes
    assert 0.5 < obs["tmb"].median() < 2.0


def test_samples_without_mutation_data_are_nan_and_flags_follow_the_threshold(cohort):
    obs = cohort.obs
    no_maf = obs.index[~obs.index.isin(cohort.mod["mut"].obs_names)]
    assert len(no_maf) == 11
    assert obs.loc[no_maf, "tmb"].isna().all() and obs.loc[no_maf, "tmb_mutations"].isna().all()
    assert str(obs["hypermutated"].dtype) == "boolean" and obs.loc[no_maf, "hypermutated"].isna().all()
    known = obs["tmb"].notna()
    assert (obs.loc[known, "hypermutated"].astype(bool) == (obs.loc[known, "tmb"] >= 10)).all()
    info = cohort.uns["tmb"]
    assert info["exome_size_mb"] == 38.0 and info["threshold"] == 10.0
    assert set(info["variant_classes"]) == set(NON_SYNONYMOUS) and "Chalmers" in info["source"]
    assert info["repeated_rows_counted_once"] > 0  # the WUSTL MAF repeats rows: each repeat is reported
    report = cohort.uns["harmonomics_report"]
    merged = report[(report["action"] == "merged") & report["reason"].str.startswith("TMB:")]
    assert "TCGA-A7-A4SE-01" in set(merged["sample"])  # ABCA6 p.L306fs and others written twice in the raw MAF


def test_exome_size_and_threshold_are_parameters(cohort):
    other = hm.tl.tmb(cohort, exome_size_mb=30.0, hypermutated=5.0, key_added="tmb30", copy=True)
    np.testing.assert_allclose(other.obs["tmb30"] * 30.0, cohort.obs["tmb"] * 38.0)
    assert "tmb30" not in cohort.obs
    with pytest.raises(ValueError, match="exome_size_mb"):
        hm.tl.tmb(cohort, exome_size_mb=0, copy=True)


def test_tmb_of_a_real_legacy_maf(shared_data):
    path = shared_data / "real_files" / "maf" / "tcga_laml.maf.gz"
    mdata = hm.io.read_maf(path)
    hm.tl.tmb(mdata)
    counts = raw_counts(path)
    assert mdata.obs["tmb"].notna().all()
    np.testing.assert_array_equal(mdata.obs.loc[counts.index, "tmb_mutations"].astype(int), counts.to_numpy())
    # every sample in the file has a value; those with only non-coding variants have 0
    raw = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    only_noncoding = set(raw["Tumor_Sample_Barcode"]) - set(counts.index)
    assert all(mdata.obs.at[s, "tmb"] == 0 for s in only_noncoding)


def test_tmb_of_a_cbioportal_study_divides_panel_samples_by_their_panel(study_es0_raw):
    study = study_es0_raw.folder
    mdata = hm.io.read_cbioportal(study)
    # TESTPANEL1/2 are cBioPortal's test panels: no published size, so TMB refuses to guess for their samples
    with pytest.warns(UserWarning, match="no coding size for gene panel.*TESTPANEL1, TESTPANEL2"):
        hm.tl.tmb(mdata)
    panels = study_es0_raw.panel_matrix["mutations"]
    on_panel = set(panels.index[panels != "NA"])
    counts = raw_counts(study / "data_mutations_extended.maf")
    mut = mdata.mod["mut"]
    # the reader keeps primary tumours: the recurrence TCGA-A1-A0SB-02 is dropped (and reported)
    assert set(counts.index) - set(mut.obs_names) == {"TCGA-A1-A0SB-02"}
    exome = [s for s in mut.obs_names if s not in on_panel]
    assert len(exome) == 19 and mdata.obs.loc[exome, "tmb_size_mb"].eq(38.0).all()
    for sample in exome:  # whole-exome samples: the raw count over 38 Mb (0 for a sequenced sample without variant)
        assert mdata.obs.at[sample, "tmb_mutations"] == counts.get(sample, 0)
        assert mdata.obs.at[sample, "tmb"] == pytest.approx(counts.get(sample, 0) / 38.0)
    panel_samples = [s for s in mut.obs_names if s in on_panel]
    assert len(panel_samples) == 11 and mdata.obs.loc[panel_samples, "tmb"].isna().all()
    assert mdata.obs.loc[panel_samples, "tmb_size_mb"].isna().all()
    table = mdata.uns["tmb"]["panels"].set_index("panel")
    assert table.loc["TESTPANEL1", "n_samples"] == 9 and np.isnan(table.loc["TESTPANEL1", "size_mb"])
    report = mdata.uns["harmonomics_report"]
    refused = report[report["reason"].str.contains("no known coding size")]
    assert set(refused["sample"]) == set(panel_samples)
    assert "caveat" not in mdata.uns["tmb"]  # the panels were read: nothing is left unsaid


def test_panel_sizes_given_by_the_user_are_used_and_off_panel_variants_not_counted(study_es0_raw):
    mdata = hm.io.read_cbioportal(study_es0_raw.folder)
    hm.tl.tmb(mdata, panel_size_mb={"TESTPANEL1": 0.05, "TESTPANEL2": 0.04})
    raw, panel_genes = study_es0_raw.coding_maf, study_es0_raw.panel_genes
    panels = study_es0_raw.panel_matrix["mutations"]
    for sample in ("TCGA-A1-A0SB-01", "TEST_SAMPLE_15", "TEST_SAMPLE_14"):
        panel = panels[sample]
        rows = raw[(raw["Tumor_Sample_Barcode"] == sample) & raw["Hugo_Symbol"].isin(panel_genes[panel])]
        n = len(rows.drop_duplicates(["Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele2"]))
        size = {"TESTPANEL1": 0.05, "TESTPANEL2": 0.04}[panel]
        assert mdata.obs.at[sample, "tmb_mutations"] == n
        assert mdata.obs.at[sample, "tmb"] == pytest.approx(n / size)
        assert mdata.obs.at[sample, "tmb_size_mb"] == size
    assert mdata.obs.at["TCGA-A1-A0SB-01", "tmb_mutations"] == 12  # 6 missense, 3 frame shifts, 2 nonsense, 1 splice
    table = mdata.uns["tmb"]["panels"].set_index("panel")
    assert table.loc["TESTPANEL2", "source"] == "given (panel_size_mb)"
    with pytest.raises(ValueError, match="panel_size_mb\\['X'\\]"):
        hm.tl.tmb(mdata, panel_size_mb={"X": 0})


def test_shipped_panel_sizes_cite_a_source():
    sizes = hm.tl.panel_sizes()
    assert {"IMPACT341", "IMPACT410", "IMPACT468"} <= set(sizes["panel"])
    assert sizes["source"].str.contains("Samstein et al. 2019").all()
    assert sizes.set_index("panel").loc["IMPACT468", "size_mb"] == 1.22
    assert hm.tl.panel_sizes({"IMPACT468": 1.3}).set_index("panel").loc["IMPACT468", "size_mb"] == 1.3


def test_an_impact_panel_sample_is_divided_by_the_published_size(shared_data):
    study = shared_data / "real_files" / "cbioportal" / "study_es_0"
    mdata = hm.io.read_cbioportal(study)
    mut = mdata.mod["mut"]
    sample = "TEST_SAMPLE_4"
    mut.obs["gene_panel"] = pd.Categorical(np.where(mut.obs_names == sample, "IMPACT468", None))
    del mdata.uns["gene_panels"]  # no gene list for IMPACT468 here: every coding variant of the sample counts
    hm.tl.tmb(mdata)
    n = raw_counts(study / "data_mutations_extended.maf")[sample]
    assert mdata.obs.at[sample, "tmb"] == pytest.approx(n / 1.22)


@pytest.fixture(scope="module")
def gdc_store(shared_data, tmp_path_factory):
    maf = (shared_data / "real_files" / "maf" / "brca.maf.gz").read_bytes()
    root = gdc_maf_download(tmp_path_factory.mktemp("gdc_tmb") / "download", maf, "TCGA-A8-A08B-01A-11D-A019-09")
    return hm.io.read_gdc(root)


def test_tmb_of_a_gdc_download(gdc_store, shared_data):
    counts = raw_counts(shared_data / "real_files" / "maf" / "brca.maf.gz")
    assert counts.to_dict() == {"TCGA-A8-A08B": 31}  # 27 missense + 4 nonsense in the raw file
    hm.tl.tmb(gdc_store)
    assert gdc_store.obs["tmb_mutations"].tolist() == [31]
    assert gdc_store.obs["tmb"].tolist() == [31 / 38.0]
    assert gdc_store.obs["hypermutated"].tolist() == [False]


def test_patient_card_of_a_gdc_download(gdc_store, tmp_path):
    store = gdc_store.copy()
    hm.tl.tmb(store)
    hm.tl.actionable(store)
    path = hm.report(store, tmp_path / "card.html", patient="TCGA-A8-A08B")
    text = path.read_text(encoding="utf-8")
    assert "TCGA-A8-A08B" in text and 'class="note error"' not in text
    # 31 coding variants in the raw MAF over the 38 Mb exome
    assert f"{31 / 38.0:.3g}" in text and "exome size used (Mb)" in text


def test_tmb_by_subtype_from_raw_counts_and_published_labels(cohort, shared_data):
    from scipy.stats import kruskal

    counts = raw_counts(data.path("tcga_brca_121", "mutations.maf.gz"), lambda s: s[:12])
    clinical = pd.read_csv(shared_data / "tcga_brca_121" / "clinical.tsv", sep="\t", dtype=str).set_index("patient")
    labelled = clinical["pam50_xena"].dropna()
    # a sequenced patient without a coding variant has TMB 0: the MAF's patients, counts or not
    maf = pd.read_csv(data.path("tcga_brca_121", "mutations.maf.gz"), sep="\t", dtype=str, usecols=[15])
    sequenced = set(maf.iloc[:, 0].str[:12])
    per_patient = pd.Series({p: counts.get(p, 0) / 38.0 for p in sequenced if p in labelled.index})
    table = hm.tl.tmb_by_group(cohort, groupby="pam50_xena").set_index("pam50_xena")
    for group, values in per_patient.groupby(labelled.reindex(per_patient.index)):
        assert table.at[group, "n"] == len(values)
        assert table.at[group, "median"] == pytest.approx(values.median())
    h, p = kruskal(*[v.to_numpy() for _, v in per_patient.groupby(labelled.reindex(per_patient.index)) if len(v) >= 2])
    attrs = table.attrs
    assert attrs["statistic"] == pytest.approx(h) and attrs["p"] == pytest.approx(p) and attrs["n_tests"] == 1
    k, n = attrs["n_groups"], attrs["n"]
    assert attrs["epsilon_squared"] == pytest.approx((h - k + 1) / (n - k))
    # published: basal-like and HER2-enriched tumours carry more mutations than luminal A (TCGA 2012, Nature 490:61)
    assert table.at["Basal", "median"] > table.at["LumA", "median"] and p < 0.05
    with pytest.raises(MissingResultError, match="obs\\['nope'\\]"):
        hm.tl.tmb_by_group(cohort, groupby="nope")


def test_missing_mutation_data_names_what_is_missing(cohort):
    no_mut = md.MuData({"rna": cohort.mod["rna"].copy()})
    with pytest.raises(MissingResultError, match=r"no 'mut' modality.*hm\.io\.read_maf"):
        hm.tl.tmb(no_mut)
    stripped = cohort.mod["mut"].copy()
    del stripped.uns["maf"]
    with pytest.raises(MissingResultError, match=r"uns\['maf'\] is absent"):
        hm.tl.tmb(md.MuData({"mut": stripped}))
