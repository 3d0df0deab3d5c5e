"""hm.tl.actionable on real cohorts, checked against the raw MAF, segment and clinical files."""

from __future__ import annotations

import mudata as md
import numpy as np
import pandas as pd
import pytest
from precision_files import gdc_maf_download, raw_counts

import harmonomics as hm
from harmonomics import data
from harmonomics._errors import FormatError, MissingResultError
from harmonomics._mutations import normalize_protein_change

CONTRACT_COLUMNS = [
    "sample",
    "gene",
    "alteration",
    "alteration_type",
    "evidence",
    "biomarker",
    "therapy_class",
    "evidence_level",
    "source",
]
TRUNCATING = {"Nonsense_Mutation", "Frame_Shift_Del", "Frame_Shift_Ins", "Splice_Site"}
# GRCh37 gene spans (NCBI Gene, annotation release 105): the segment must cover the whole gene
ERBB2_GRCH37 = ("17", 37_844_347, 37_884_915)
PTEN_GRCH37 = ("10", 89_623_195, 89_728_532)


def raw(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")


@pytest.fixture(scope="module")
def cohort(brca121_base):
    return brca121_base.copy()


@pytest.fixture(scope="module")
def table(cohort):
    return hm.tl.actionable(cohort)


@pytest.fixture(scope="module")
def raw_maf():
    maf = raw(data.path("tcga_brca_121", "mutations.maf.gz"))
    return maf.assign(sample=maf["Tumor_Sample_Barcode"].str[:15])


def test_columns_and_storage_follow_the_contract(cohort, table):
    assert list(table.columns) == CONTRACT_COLUMNS
    assert cohort.uns["actionable"].equals(table)
    assert set(table["alteration_type"]) <= {"mutation", "amplification", "deletion", "high_expression", "tmb_high"}
    assert set(table["evidence_level"]) <= {"approved_breast", "guideline", "investigational"}
    assert (table["source"].str.len() > 0).all() and table["sample"].isin(cohort.obs_names).all()
    per_sample = table.drop_duplicates(["sample", "gene", "alteration"])["sample"].value_counts()
    n = cohort.obs["n_actionable"]
    assert n.dtype.kind == "i" and (n.reindex(per_sample.index) == per_sample).all()
    assert n.drop(per_sample.index).eq(0).all()
    rules = cohort.uns["actionable_rules"]
    assert (rules["status"] == "applied").all() and len(rules) >= 10


def test_pik3ca_h1047r_rows_are_raw_maf_lines(table, raw_maf):
    rows = table[(table["gene"] == "PIK3CA") & (table["alteration"] == "p.H1047R")]
    lines = raw_maf[(raw_maf["Hugo_Symbol"] == "PIK3CA") & (raw_maf["amino_acid_change_WU"] == "p.H1047R")]
    assert len(lines) == 6  # six tumours of the cohort carry H1047R in the WUSTL MAF
    assert set(rows["sample"]) == set(lines["sample"])
    assert (rows["evidence"] == "MAF: Missense_Mutation p.H1047R").all()
    assert {"PI3K-alpha inhibitor with endocrine therapy", "AKT inhibitor with endocrine therapy"} <= set(
        rows["therapy_class"]
    )


def test_every_mutation_row_is_a_raw_maf_line(table, raw_maf):
    mutations = table[table["alteration_type"] == "mutation"].drop_duplicates(["sample", "gene", "alteration"])
    columns = ["sample", "Hugo_Symbol", "amino_acid_change_WU"]
    by_protein = set(raw_maf[columns].itertuples(index=False, name=None))
    # a change that is no protein change (the splice site "e15-1") is written with its class
    by_class = {
        (s, g, f"{vc} {c}")
        for s, g, vc, c in raw_maf[[*columns[:2], "Variant_Classification", columns[2]]].itertuples(
            index=False, name=None
        )
    }
    assert len(mutations) > 10
    for sample, gene, alteration in zip(mutations["sample"], mutations["gene"], mutations["alteration"], strict=True):
        assert (sample, gene, alteration) in (by_protein if alteration.startswith("p.") else by_class)
    assert ("TCGA-BH-A0WA-01", "BRCA1", "Splice_Site e15-1") in set(
        zip(mutations["sample"], mutations["gene"], mutations["alteration"], strict=True)
    )
    # the raw file's PIK3CA non-hotspot missense (e.g. p.E365V, p.K111N) and BRCA missense are not actionable
    assert not table["alteration"].isin(["p.E365V", "p.K111N", "p.G1809V"]).any()
    pten = raw_maf[(raw_maf["Hugo_Symbol"] == "PTEN") & raw_maf["Variant_Classification"].isin(TRUNCATING)]
    pten_rows = table[(table["gene"] == "PTEN") & (table["alteration_type"] == "mutation")]
    assert set(pten_rows["sample"]) == set(pten["sample"]) and len(pten) == 3


def segment_values(path, span) -> pd.Series:
    """Each sample's Segment_Mean over a gene, where one segment covers the whole gene (raw segment file)."""
    seg = raw(path)
    chrom, start, end = span
    seg = seg[(seg["Chromosome"] == chrom) & (seg["Start"].astype(int) <= start) & (seg["End"].astype(int) >= end)]
    return seg.set_index(seg["Sample"].str[:15])["Segment_Mean"].astype(float)


def test_erbb2_amplification_rows_agree_with_raw_segments_and_clinical_her2(cohort, table):
    values = segment_values(data.path("tcga_brca_121", "cnv_segments.tsv.gz"), ERBB2_GRCH37)
    assert len(values) > 100  # nearly every sample has one segment over ERBB2
    amplified = set(table.loc[table["alteration_type"] == "amplification", "sample"])
    amplified = {s for s in amplified if s in values.index}
    assert amplified == set(values.index[values >= 1.0])
    # every amplification call is clinically HER2-positive (TCGA clinical her2_status)
    calls = set(table.loc[(table["gene"] == "ERBB2") & (table["alteration_type"] == "amplification"), "sample"])
    assert len(calls) >= 20 and (cohort.obs.loc[sorted(calls), "her2_status"] == "Positive").all()


def test_pten_deep_deletions_agree_with_raw_segments(table):
    values = segment_values(data.path("tcga_brca_121", "cnv_segments.tsv.gz"), PTEN_GRCH37)
    deleted = set(table.loc[(table["gene"] == "PTEN") & (table["alteration_type"] == "deletion"), "sample"])
    assert {s for s in deleted if s in values.index} == set(values.index[values <= -1.1])


def test_tmb_rule_uses_obs_tmb(cohort, table):
    rows = table[table["alteration_type"] == "tmb_high"]
    counts = raw_counts(data.path("tcga_brca_121", "mutations.maf.gz"), lambda s: s[:15])
    assert set(rows["sample"]) == set(counts.index[counts / 38.0 >= 10])  # raw counts over the 38 Mb exome
    assert "TCGA-AC-A23H-01" in set(rows["sample"])  # the 3,656-mutation tumour
    assert (rows["biomarker"] == "TMB_high").all() and (rows["therapy_class"] == "anti-PD-1 antibody").all()
    # with obs["tmb"] present the rule reads it (here: every sample set high by a lower exome size)
    other = hm.tl.tmb(cohort, exome_size_mb=0.1, copy=True)
    again = hm.tl.actionable(other, copy=True)
    assert set(again.loc[again["alteration_type"] == "tmb_high", "sample"]) == set(
        other.obs_names[other.obs["tmb"].notna()]
    )


def test_pdl1_reuses_immune_status_when_present(cohort):
    copy = cohort.copy()
    copy.obs["immune_pdl1_status"] = pd.Categorical(["low"] * copy.n_obs, categories=["low", "high"])
    copy.obs.loc[copy.obs_names[:2], "immune_pdl1_status"] = "high"
    result = hm.tl.actionable(copy)
    rows = result[result["gene"] == "CD274"]
    assert set(rows["sample"]) == set(copy.obs_names[:2]) and rows["evidence"].str.contains("immune_status").all()


def test_pdl1_from_expression_marks_the_cohort_top(cohort, table):
    rows = table[table["gene"] == "CD274"]
    assert not rows.empty and (rows["evidence"].str.match(r"rna z=\d")).all()
    rna = cohort.mod["rna"]
    cpm = np.asarray(rna.layers["counts"][:, rna.var_names.get_loc("CD274")]).ravel()
    cpm = cpm / np.asarray(rna.layers["counts"].sum(axis=1)).ravel()
    top = pd.Series(cpm, index=rna.obs_names).rank(ascending=False)
    assert (top[rows["sample"]] <= 0.1 * rna.n_obs).all()  # every PD-L1-high tumour is in the top 10% by CPM


def test_protein_change_forms_are_normalised():
    written = ["p.His1047Arg", "p.H1047R", "H1047R", "p.Glu17Lys", "p.Tyr537Ser", "p.Arg248Ter", "p.(Asp538Gly)"]
    assert normalize_protein_change(written).tolist() == [
        "H1047R",
        "H1047R",
        "H1047R",
        "E17K",
        "Y537S",
        "R248*",
        "D538G",
    ]
    assert normalize_protein_change(["", ".", None]).isna().all()


@pytest.fixture(scope="module")
def es0(shared_data):
    store = hm.io.read_cbioportal(shared_data / "real_files" / "cbioportal" / "study_es_0")
    with pytest.warns(UserWarning, match="no coding size for gene panel"):  # the refusal: tests/tl/test_tmb.py
        hm.tl.tmb(store)
    return store


def test_cbioportal_study_brca_rows_are_raw_truncating_lines(es0, shared_data):
    result = hm.tl.actionable(es0, copy=True)
    maf = raw(shared_data / "real_files" / "cbioportal" / "study_es_0" / "data_mutations_extended.maf")
    maf = maf[maf["Tumor_Sample_Barcode"].isin(es0.mod["mut"].obs_names)]
    truncating = maf[maf["Hugo_Symbol"].isin(["BRCA1", "BRCA2"]) & maf["Variant_Classification"].isin(TRUNCATING)]
    rows = result[result["biomarker"] == "BRCA_truncating"]
    expected = set(zip(truncating["Tumor_Sample_Barcode"], truncating["HGVSp_Short"], strict=True))
    assert len(expected) == 5 and set(zip(rows["sample"], rows["alteration"], strict=True)) == expected
    assert list(result.columns) == CONTRACT_COLUMNS
    # the cBioPortal MAF also writes three-letter HGVSp (p.Gln1323Ter): read alone, it gives the same p.Q1323*
    three_letter = es0.copy()
    maf = three_letter.mod["mut"].uns["maf"]
    three_letter.mod["mut"].uns["maf"] = maf.drop(columns=["HGVSp_Short", "amino_acid_change_WU"])
    again = hm.tl.actionable(three_letter, copy=True)
    brca1 = again[(again["gene"] == "BRCA1") & (again["biomarker"] == "BRCA_truncating")]
    assert set(brca1["alteration"]) == {"p.Q1323*"} and set(brca1["sample"]) == {"TCGA-A1-A0SB-01"}
    # BRCA2 lines with an empty HGVSp cell keep their class: still one row per raw line
    brca2 = again[(again["gene"] == "BRCA2") & (again["biomarker"] == "BRCA_truncating")]
    assert set(brca2["alteration"]) == {"Nonsense_Mutation"} and brca2["sample"].nunique() == 4


def test_cbioportal_gistic_layer_drives_copy_number_rules(es0):
    """study_es_0 has GISTIC calls beside log2: a GISTIC 2 / -2 cell of a rule's gene becomes a row."""
    copy = es0.copy()
    cnv = copy.mod["cnv"]
    gene = cnv.var_names[0]
    cnv.var_names = [("ERBB2" if g == gene else g) for g in cnv.var_names]
    gistic = np.asarray(cnv.layers["gistic"])[:, 0]
    result = hm.tl.actionable(copy)
    amplified = set(result.loc[result["alteration_type"] == "amplification", "sample"])
    assert amplified == set(cnv.obs_names[gistic == 2])
    assert (result.loc[result["alteration_type"] == "amplification", "evidence"] == "cnv GISTIC 2").all()


def test_assessed_samples_follow_the_omics_of_the_shipped_cohort(cohort, table, raw_maf):
    assessed = cohort.obsm["actionable_assessed"]
    assert list(assessed.index) == list(cohort.obs_names)
    with_maf = set(raw_maf["sample"])
    assert len(with_maf) == 110
    for biomarker in ("PIK3CA_hotspot", "BRCA_truncating", "AKT1_E17K", "ESR1_LBD_mutation", "TMB_high"):
        assert set(assessed.index[assessed[biomarker]]) == with_maf, biomarker
    # HER2 from copy number (119 samples) or expression (121); PTEN loss from the MAF (110) or copy number (119)
    assert assessed["HER2_positive"].all()
    cnv = set(cohort.mod["cnv"].obs_names)
    assert set(assessed.index[assessed["PTEN_loss"]]) == with_maf | cnv
    # every carrier was assessed for its biomarker
    for sample, biomarker in zip(table["sample"], table["biomarker"], strict=True):
        assert assessed.at[sample, biomarker], (sample, biomarker)


def test_samples_on_a_panel_without_the_gene_are_not_assessed(es0, study_es0_raw):
    hm.tl.actionable(es0)
    assessed = es0.obsm["actionable_assessed"]
    panel_of, genes = study_es0_raw.panel_matrix["mutations"], study_es0_raw.panel_genes
    mut = es0.mod["mut"].obs_names
    for biomarker, needed in (("BRCA_truncating", {"BRCA1", "BRCA2"}), ("AKT1_E17K", {"AKT1"})):
        expected = {
            s for s in mut if panel_of.get(s, "NA") == "NA" or needed <= genes[panel_of[s]]
        }  # exome samples, and panel samples whose panel holds every gene of the rule
        assert set(assessed.index[assessed[biomarker]]) == expected, biomarker
    assert assessed["BRCA_truncating"].sum() == 28 and assessed["AKT1_E17K"].sum() == 19
    # the by-group denominators are the assessed samples of each group, never the untested ones
    es0.obs["arm"] = np.where(np.arange(es0.n_obs) % 2 == 0, "A", "B")
    by_group = hm.tl.actionable_by_group(es0, groupby="arm").set_index(["biomarker", "arm"])
    for (biomarker, arm), row in by_group.iterrows():
        in_arm = es0.obs_names[(es0.obs["arm"] == arm).to_numpy()]
        assert row["n_group"] == int(assessed.loc[in_arm, biomarker].sum()), (biomarker, arm)


def test_gdc_download_store(shared_data, tmp_path):
    maf = (shared_data / "real_files" / "maf" / "brca.maf.gz").read_bytes()
    store = hm.io.read_gdc(gdc_maf_download(tmp_path / "download", maf, "TCGA-A8-A08B-01A-11D-A019-09"))
    result = hm.tl.actionable(store)
    assert list(result.columns) == CONTRACT_COLUMNS
    # maftools' brca.maf has no protein-change column and no BRCA/PTEN truncating line: nothing is actionable
    assert result.empty and store.obs["n_actionable"].tolist() == [0]
    rules = store.uns["actionable_rules"].set_index("rule")["status"]
    assert rules["erbb2_amplification"].startswith("skipped: no 'cnv'") and rules["pik3ca_hotspot"] == "applied"


def test_therapy_table_rows_are_cited():
    table = hm.tl.therapy_table()
    assert list(table.columns) == [
        "biomarker",
        "gene",
        "alteration_rule",
        "therapy_class",
        "example_agents",
        "evidence_level",
        "source",
    ]
    assert table["evidence_level"].isin(["approved_breast", "guideline", "investigational"]).all()
    assert (table["source"].str.strip().str.len() > 10).all() and table["source"].str.contains(r"(?:19|20)\d\d").all()
    assert set(table["evidence_level"]) == {"approved_breast", "guideline", "investigational"}
    first = data.path("precision", "biomarkers.tsv").read_text().splitlines()[0]
    assert first.startswith("#") and "RESEARCH ONLY" in first and "NOT FOR TREATMENT DECISIONS" in first
    # every biomarker a rule emits has therapy rows
    from harmonomics.tl._actionable import RULES

    assert {r.biomarker for r in RULES.values()} <= set(table["biomarker"])


def test_a_broken_therapy_table_names_its_line(tmp_path):
    good = data.path("precision", "biomarkers.tsv").read_text().splitlines()
    bad = good[:3] + [good[3].replace("approved_breast", "approved")] + good[4:]
    path = tmp_path / "biomarkers.tsv"
    path.write_text("\n".join(bad) + "\n")
    with pytest.raises(FormatError, match=r"line 4.*evidence level 'approved'"):
        hm.tl.therapy_table(path)


def test_missing_inputs_raise_specific_errors(cohort):
    with pytest.raises(MissingResultError, match=r"need mutations.*the store has \['prot'\]"):
        hm.tl.actionable(md.MuData({"prot": cohort.mod["prot"].copy()}))
    mut = cohort.mod["mut"].copy()
    del mut.uns["maf"]
    with pytest.raises(MissingResultError, match=r"uns\['maf'\] is absent.*hm\.io\.read_maf"):
        hm.tl.actionable(md.MuData({"mut": mut}))
