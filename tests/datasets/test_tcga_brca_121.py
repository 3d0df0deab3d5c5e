"""hm.datasets.tcga_brca_121: shapes, raw values, clinical columns, the report, the cache, and the headline truth
(our PAM50 calls against both published labels; ESTIMATE purity against the published values)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

import harmonomics as hm

ERBB2_HG19 = ("17", 37_844_167, 37_886_679)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    previous = hm.settings.cache_dir
    hm.settings.cache_dir = tmp_path_factory.mktemp("cache")
    yield hm.settings.cache_dir
    hm.settings.cache_dir = previous


@pytest.fixture(scope="module")
def cohort(cache_dir):
    """Built once (and cached) for the module; tests that modify it take a copy."""
    return hm.datasets.tcga_brca_121()


@pytest.fixture(scope="module")
def raw(shared_data):
    return shared_data / "tcga_brca_121"


def test_shapes_and_overlaps_match_the_data_readme(cohort):
    assert cohort.n_obs == 121
    assert {m: a.n_obs for m, a in cohort.mod.items()} == {"rna": 121, "cnv": 119, "mut": 110, "prot": 100}
    assert cohort["rna"].n_vars == 20124
    assert cohort["prot"].n_vars == 226
    in_all = set.intersection(*(set(a.obs_names) for a in cohort.mod.values()))
    assert len(in_all) == 91
    # 15-character primary-tumour sample keys, one per patient
    assert cohort.obs_names.str.fullmatch(r"TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}-01").all()
    assert cohort.obs["patient"].is_unique
    assert (cohort.obs["sample_type"] == "TP").all()
    # the two patients with only a blood-normal CNV profile have no cnv
    assert {"TCGA-A8-A07C-01", "TCGA-AN-A0G0-01"} == set(cohort.obs_names) - set(cohort["cnv"].obs_names)


def test_rna_counts_and_rppa_equal_the_raw_files(cohort, raw):
    counts = pd.read_csv(raw / "rna_counts.tsv.gz", sep="\t", index_col="gene")
    for gene, column in (("ESR1", "TCGA.A1.A0SD"), ("ERBB2", "TCGA.A2.A0CM"), ("CD274", "TCGA.E2.A1B5")):
        sample = column.replace(".", "-") + "-01"
        assert cohort["rna"][sample, gene].layers["counts"].item() == counts.at[gene, column]
        assert cohort["rna"][sample].obs["id_as_written"].item() == column
    # X is log2(CPM + 1) of the counts: the library size of one sample gives back its count
    sample, column = "TCGA-A1-A0SD-01", "TCGA.A1.A0SD"
    cpm = 2 ** cohort["rna"][sample, "ESR1"].X.item() - 1
    assert cpm * counts[column].sum() / 1e6 == pytest.approx(counts.at["ESR1", column], rel=1e-9)

    rppa = pd.read_csv(raw / "rppa.tsv.gz", sep="\t", index_col="bcr_patient_barcode", float_precision="round_trip")
    portion = "TCGA-A1-A0SK-01A-21-A13A-20"
    for antibody in ("ER-alpha", "HER2", "14-3-3_beta"):
        assert cohort["prot"]["TCGA-A1-A0SK-01", antibody].X.item() == rppa.at[portion, antibody]
    assert cohort["prot"]["TCGA-A1-A0SK-01"].obs["aliquot"].item() == portion
    assert int(np.isnan(cohort["prot"].X).sum()) == int(rppa.isna().sum().sum()) == 396


def test_mutations_follow_the_maf_rows(cohort, raw):
    maf = pd.read_csv(raw / "mutations.maf.gz", sep="\t", dtype=str, keep_default_na=False)
    maf["sample"] = maf["Tumor_Sample_Barcode"].str[:15]
    row = maf.iloc[0]  # ANK3 Missense_Mutation in TCGA-A1-A0SD
    assert row["Variant_Classification"] == "Missense_Mutation"
    assert cohort["mut"][row["sample"], row["Hugo_Symbol"]].X.item() == 1
    # a gene with only silent variants in a sample is not mutated there (but is mutated elsewhere)
    by_pair = maf.groupby(["sample", "Hugo_Symbol"])["Variant_Classification"].agg(set)
    silent_only = [(s, g) for (s, g), v in by_pair.items() if v == {"Silent"} and g in cohort["mut"].var_names]
    sample, gene = silent_only[0]
    assert cohort["mut"][sample, gene].X.item() == 0
    # the long table is kept, every row, with its sample key
    long = cohort["mut"].uns["maf"]
    assert len(long) == len(maf) == 14999
    assert long["sample"].tolist() == maf["sample"].tolist()
    assert long["Hugo_Symbol"].iloc[0] == "ANK3"


def test_erbb2_copy_number_is_the_hg19_segment_covering_erbb2(cohort, raw):
    segments = pd.read_csv(raw / "cnv_segments.tsv.gz", sep="\t")
    chrom, start, end = ERBB2_HG19
    covering = segments[
        (segments["Chromosome"].astype(str) == chrom) & (segments["Start"] <= start) & (segments["End"] >= end)
    ]
    assert cohort["cnv"].var.loc["ERBB2", ["start", "end"]].tolist() == [start, end]
    # the most amplified sample whose ERBB2 lies in one segment, and the least
    for pick in (covering["Segment_Mean"].idxmax(), covering["Segment_Mean"].idxmin()):
        aliquot = covering.at[pick, "Sample"]
        value = cohort["cnv"][aliquot[:15], "ERBB2"].X.item()
        assert value == covering.at[pick, "Segment_Mean"]
        assert cohort["cnv"][aliquot[:15]].obs["aliquot"].item() == aliquot
    assert covering["Segment_Mean"].max() > 1  # an ERBB2 amplicon really is in the data


def test_clinical_columns(cohort, raw):
    obs = cohort.obs
    assert int(obs["os_event"].sum()) == 13
    assert obs["os_time"].notna().all()
    assert obs.at["TCGA-A1-A0SK-01", "os_time"] == 967 and obs.at["TCGA-A1-A0SK-01", "os_event"] == 1  # dead
    assert obs.at["TCGA-A1-A0SD-01", "os_time"] == 437 and obs.at["TCGA-A1-A0SD-01", "os_event"] == 0  # follow-up
    assert obs["er_status"].value_counts().to_dict() == {"Positive": 68, "Negative": 53}
    assert obs["her2_status"].value_counts().to_dict() == {"Negative": 82, "Positive": 39}
    assert obs["pam50_xena"].value_counts().to_dict() == {"LumA": 35, "Basal": 30, "Her2": 16, "LumB": 16, "Normal": 2}
    assert obs["pam50_tcga2012"].value_counts().to_dict() == {
        "LumA": 23,
        "Basal": 21,
        "Her2": 11,
        "LumB": 10,
        "Normal": 2,
    }
    assert (obs["pam50_tcga2012_label"] == "Not_Applicable").sum() == 31
    assert obs["pam50_tcga2012"].isna().sum() == 121 - 67
    assert [int(obs[c].notna().sum()) for c in ("purity_estimate", "purity_absolute", "purity_cpe")] == [121, 100, 121]
    clinical = pd.read_csv(raw / "clinical.tsv", sep="\t", index_col="patient")
    assert obs.at["TCGA-A1-A0SD-01", "purity_estimate"] == clinical.at["TCGA-A1-A0SD", "purity_estimate"]
    assert obs.at["TCGA-A1-A0SD-01", "age"] == clinical.at["TCGA-A1-A0SD", "age_at_diagnosis"]
    assert obs.at["TCGA-A1-A0SD-01", "stage"] == clinical.at["TCGA-A1-A0SD", "pathologic_stage"]


def test_report_lists_every_sample_not_used(cohort):
    report = cohort.uns["harmonomics_report"]
    dropped = report[report["action"] == "dropped"]
    # the source aliquots the data README lists as not used
    for omic, barcode in (
        ("prot", "TCGA-E9-A1ND-11A-51-A43O-20"),
        ("cnv", "TCGA-E2-A1LL-11A-21D-A141-01"),
        ("mut", "TCGA-AC-A2QH-01B-04D-A22N-09"),
        ("purity", "TCGA-AC-A3QQ-01B"),
    ):
        assert ((dropped["item"] == barcode) & (dropped["omic"] == omic)).sum() == 1
    assert (dropped["level"] == "aliquot").sum() == 10 + 12 + 1 + 2
    absent = report[report["action"] == "absent"]
    assert absent.groupby("omic").size().to_dict() == {"cnv": 2, "mut": 11, "prot": 21}
    kept = report[(report["level"] == "sample") & (report["action"] == "kept") & report["item"].str.len().eq(15)]
    assert set(kept["item"]) == set(cohort.obs_names)


def test_cache_is_reused_deterministic_and_rebuilt_when_damaged(cohort, cache_dir):
    cached = list((cache_dir / "datasets").glob("tcga_brca_121-*.h5mu"))
    assert len(cached) == 1
    started = time.perf_counter()
    again = hm.datasets.tcga_brca_121()
    assert time.perf_counter() - started < 10
    fresh = hm.datasets.tcga_brca_121(cache=False)
    for m in cohort.mod:
        assert again[m].obs_names.equals(cohort[m].obs_names) and fresh[m].var_names.equals(cohort[m].var_names)
        np.testing.assert_array_equal(fresh[m].X, cohort[m].X)

    def plain(obs):  # NaN and None are both "missing"; dtypes as the store restores them
        return {c: [None if pd.isna(v) else v for v in obs[c]] for c in obs.columns}

    assert fresh.obs_names.equals(cohort.obs_names)
    assert plain(fresh.obs) == plain(cohort.obs)
    # a damaged cache file is rebuilt, never trusted
    cached[0].write_bytes(b"not an h5mu file")
    rebuilt = hm.datasets.tcga_brca_121()
    np.testing.assert_array_equal(rebuilt["cnv"].X, cohort["cnv"].X)
    assert cached[0].stat().st_size > 1_000_000


def test_headline_our_pam50_and_estimate_purity_agree_with_published(cohort):
    mdata = cohort.copy()
    hm.tl.pam50(mdata)
    hm.tl.immune_scores(mdata, layer="counts")
    obs = mdata.obs
    for column, total, at_least in (("pam50_xena", 99, 97), ("pam50_tcga2012", 67, 61)):
        labelled = obs[column].notna()
        assert labelled.sum() == total
        agree = int((obs.loc[labelled, "pam50"].astype(str) == obs.loc[labelled, column].astype(str)).sum())
        assert agree >= at_least, f"{column}: our calls agree on {agree} of {total}"
    purity = mdata.obsm["immune"]["estimate_purity"]
    rho = spearmanr(purity, obs["purity_estimate"]).statistic
    assert rho >= 0.97
    assert float((purity - obs["purity_estimate"]).abs().mean()) < 0.03
    # PD-L1 (CD274) expression is scored on every sample
    assert mdata.obsm["immune"]["pdl1"].notna().all()
