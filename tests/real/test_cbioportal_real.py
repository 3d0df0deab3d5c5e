"""read_cbioportal on files cBioPortal itself wrote (../shared/data/real_files/cbioportal, see its README).

Values are compared with the raw files as written, read here with pandas; the reader is never re-implemented.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics import store
from harmonomics._errors import EmptyInputError, FormatError

PRIMARY_TEST_IDS = ("TEST_SAMPLE_1", "TEST-A23C-01")
EXACT = "round_trip"  # pandas' default float parser may differ from the written decimal in the last bit


@pytest.fixture(scope="module")
def cbio(shared_data) -> Path:
    return shared_data / "real_files" / "cbioportal"


@pytest.fixture(scope="module")
def es0(cbio):
    return hm.io.read_cbioportal(cbio / "study_es_0")


def raw_matrix(path: Path) -> pd.DataFrame:
    """A cBioPortal genes × samples file as written: Hugo_Symbol rows, sample columns."""
    return (
        pd.read_csv(path, sep="\t", float_precision=EXACT, dtype={"Entrez_Gene_Id": str})
        .drop(columns="Entrez_Gene_Id")
        .set_index("Hugo_Symbol")
    )


def report(mdata) -> pd.DataFrame:
    return mdata.uns["harmonomics_report"]


# --------------------------------------------------------------------------- values equal the raw files
def test_log2_cna_equals_raw_file(es0, cbio):
    raw = raw_matrix(cbio / "study_es_0" / "data_cna_log2.txt")
    cnv = es0.mod["cnv"]
    assert cnv["TCGA-A1-A0SH-01", "ATAD3A"].X[0, 0] == raw.at["ATAD3A", "TCGA-A1-A0SH-01"] == -0.397
    samples = [s for s in raw.columns if s in cnv.obs_names]
    assert len(samples) > 700
    got = cnv[samples, list(raw.index)].X
    np.testing.assert_array_equal(got, raw[samples].to_numpy().T)
    assert cnv.uns["scale"] == "log2"


def test_discrete_long_format_equals_raw_file(es0, cbio):
    raw = pd.read_csv(cbio / "study_es_0" / "data_cna_discrete.txt", sep="\t", float_precision=EXACT)
    gistic = es0.mod["cnv"].to_df(layer="gistic")
    row = raw[(raw["Hugo_Symbol"] == "ATAD3A") & (raw["Sample_Id"] == "TCGA-A1-A0SD-01")].iloc[0]
    assert row["Value"] == -1 and gistic.at["TCGA-A1-A0SD-01", "ATAD3A"] == -1
    kept = raw[raw["Sample_Id"].isin(gistic.index)]
    assert len(kept) > 6000
    cells = gistic.to_numpy()[
        gistic.index.get_indexer(kept["Sample_Id"]), gistic.columns.get_indexer(kept["Hugo_Symbol"])
    ]
    np.testing.assert_array_equal(cells, kept["Value"].to_numpy(dtype=float))
    # ACP3 is only in the discrete file: cnv holds the union of genes, log2 NaN there
    assert np.isnan(es0.mod["cnv"]["TCGA-A1-A0SD-01", "ACP3"].X[0, 0])


def test_mrna_and_methylation_equal_raw_files(es0, cbio):
    for omic, name, gene, sample in (
        ("rna", "data_expression_median.txt", "MMP2", "TCGA-A1-A0SE-01"),
        ("meth", "data_methylation_hm27.txt", "SLMAP", "TCGA-A2-A04P-01"),
    ):
        raw = raw_matrix(cbio / "study_es_0" / name)
        adata = es0.mod[omic]
        assert adata[sample, gene].X[0, 0] == raw.at[gene, sample]
        samples = [s for s in raw.columns if s in adata.obs_names]
        np.testing.assert_array_equal(adata[samples, list(raw.index)].X, raw[samples].to_numpy().T)
    assert es0.mod["rna"]["TCGA-A1-A0SE-01", "MMP2"].X[0, 0] == 0.957833333333333
    assert es0.mod["meth"].uns["scale"] == "beta"


def test_maf_rows_become_mutations(es0, cbio):
    maf = pd.read_csv(
        cbio / "study_es_0" / "data_mutations_extended.maf", sep="\t", float_precision=EXACT, comment="#", dtype=str
    )
    row = maf[(maf["Hugo_Symbol"] == "ABLIM1")].iloc[0]
    assert row["Variant_Classification"] == "Missense_Mutation"
    mut = es0.mod["mut"]
    assert mut[row["Tumor_Sample_Barcode"], "ABLIM1"].X[0, 0] == 1
    assert maf["Entrez_Gene_Id"].isna().all()  # blank in every row of this MAF
    assert "entrez" not in mut.var or mut.var["entrez"].map(type).eq(str).all()
    kept = mut.uns["maf"]
    assert (
        (kept["Hugo_Symbol"] == "ABLIM1") & (kept["Start_Position"].astype(int) == int(row["Start_Position"]))
    ).any()
    # non-TCGA IDs: a variant of TEST_SAMPLE_1; a sequenced sample without variants is an all-zero row
    test_row = maf[maf["Tumor_Sample_Barcode"] == "TEST_SAMPLE_1"].iloc[0]
    assert mut["TEST_SAMPLE_1", test_row["Hugo_Symbol"]].X[0, 0] == 1
    assert "TEST_SAMPLE_5" not in set(maf["Tumor_Sample_Barcode"]) and mut["TEST_SAMPLE_5"].X.sum() == 0


def test_seg_file_becomes_gene_level_copy_number_on_its_own_build(es0, cbio, shared_data):
    seg = pd.read_csv(cbio / "study_es_0" / "data_cna_hg19.seg", sep="\t", float_precision=EXACT)
    genes = pd.read_csv(
        shared_data / "annotation" / "genes_hg19_grch37_ensembl.tsv.gz", sep="\t", float_precision=EXACT
    )
    nras = genes[genes["gene_name"] == "NRAS"].iloc[0]
    inside = seg[
        (seg["chrom"].astype(str) == "1") & (seg["loc.start"] <= nras["start"]) & (seg["loc.end"] >= nras["end"])
    ]
    assert len(inside) == 1
    segs = es0.mod["cnv_segments"]
    sample = inside["ID"].iloc[0]
    assert segs[sample, "NRAS"].X[0, 0] == inside["seg.mean"].iloc[0] == 0.0053
    # hg19 coordinates, not GRCh38 ones
    assert (segs.var.at["NRAS", "start"], segs.var.at["NRAS", "end"]) == (nras["start"], nras["end"])
    assert set(segs.var["build"]) == {"GRCh37"}
    assert "TP53" not in segs.var_names  # chr17: no segment
    files = pd.DataFrame(es0.uns["harmonomics"]["files"])
    assert files.loc[files["path"].str.endswith("data_cna_hg19.seg"), "build"].item() == "GRCh37"
    assert files.loc[files["path"].str.endswith("data_cna_log2.txt"), "build"].item() == "GRCh37"


def test_seg_file_on_hg38_uses_grch38_coordinates(cbio, shared_data, tmp_path):
    study = tmp_path / "s"
    study.mkdir()
    (study / "meta_study.txt").write_text(
        "type_of_cancer: brca\ncancer_study_identifier: s\nname: s\nreference_genome: hg38\n"
    )
    meta = (cbio / "study_es_0" / "meta_cna_hg19_seg.txt").read_text().replace("study_es_0", "s")
    (study / "meta_seg.txt").write_text(meta.replace("reference_genome_id: hg19", "reference_genome_id: hg38"))
    shutil.copy(cbio / "study_es_0" / "data_cna_hg19.seg", study / "data_cna_hg19.seg")
    m = hm.io.read_cbioportal(study)
    gencode = pd.read_csv(
        shared_data / "annotation" / "gencode.v36.annotation.gtf.gene.probemap.gz", sep="\t", float_precision=EXACT
    )
    nras = gencode[gencode["gene"] == "NRAS"].iloc[0]
    cnv = m.mod["cnv"]  # no gene-level copy-number file: the segments are cnv
    assert (cnv.var.at["NRAS", "start"], cnv.var.at["NRAS", "end"]) == (nras["chromStart"], nras["chromEnd"])
    assert set(cnv.var["build"]) == {"GRCh38"}
    # a build without shipped coordinates is reported, not mapped onto another build
    (study / "meta_seg.txt").write_text(meta.replace("reference_genome_id: hg19", "reference_genome_id: mm10"))
    meta_rna = "cancer_study_identifier: s\ngenetic_alteration_type: MRNA_EXPRESSION\ndatatype: CONTINUOUS\n"
    (study / "meta_rna.txt").write_text(meta_rna + "stable_id: mrna\ndata_filename: data_rna.txt\n")
    shutil.copy(cbio / "study_es_0" / "data_expression_median.txt", study / "data_rna.txt")
    m = hm.io.read_cbioportal(study)
    rep = report(m)
    assert "cnv" not in m.mod
    assert rep.loc[rep["item"] == "data_cna_hg19.seg", "reason"].str.contains("'mm10'.*no gene coordinates").any()


# --------------------------------------------------------------------------- every file is accounted for
def test_every_file_of_study_es_0_is_read_or_reported(es0, cbio):
    folder = cbio / "study_es_0"
    rep = report(es0)
    files = pd.DataFrame(es0.uns["harmonomics"]["files"])
    listed = set(files["path"])
    read = {
        "data_clinical_patients.txt",
        "data_clinical_samples.txt",
        "data_cna_discrete.txt",
        "data_cna_hg19.seg",
        "data_cna_log2.txt",
        "data_expression_median.txt",
        "data_gene_panel_matrix.txt",
        "data_gene_panel_testpanel1.txt",
        "data_gene_panel_testpanel2.txt",
        "data_methylation_hm27.txt",
        "data_mutations_extended.maf",
    }
    not_read = {
        "data_cancer_type.txt": "cancer type",
        "data_expression_median_Zscores.txt": "z-scores",
        "data_generic_assay_binary.txt": "GENERIC_ASSAY_BINARY",
        "data_generic_assay_categorical.txt": "GENERIC_ASSAY_CATEGORICAL",
        "data_generic_assay_patient_test.txt": "GENERIC_ASSAY_PATIENT_TEST",
        "data_gistic_genes_amp.txt": "GISTIC genes",
        "data_gsva_pvalues.txt": "GSVA p-values",
        "data_gsva_scores.txt": "GSVA scores",
        "data_mutational_signature.txt": "mutational signatures",
        "data_resource_definition.txt": "resource",
        "data_resource_patient.txt": "resource",
        "data_resource_sample.txt": "resource",
        "data_resource_study.txt": "resource",
        "data_structural_variants.txt": "structural variants",
        "data_treatment_ec50.txt": "treatment response",
        "data_treatment_ic50.txt": "treatment response",
        "study_tags.yml": "study tags",
    }
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        assert str(path) in listed, path
        if path.name.startswith("meta_") or path.parent.name == "case_lists":
            continue
        rows = rep[(rep["level"] == "file") & (rep["item"] == path.name)]
        assert len(rows), path.name
        if path.name in read:
            assert (rows["action"] == "kept").any() and not rows["reason"].str.startswith("not read").any()
        else:
            reason = rows.loc[rows["reason"].str.startswith("not read"), "reason"]
            assert len(reason) == 1 and not_read[path.name] in reason.item(), (path.name, list(rows["reason"]))
    assert {"rna", "cnv", "meth", "mut", "cnv_segments"} == set(es0.mod)


def test_tcga_barcodes_mixed_with_other_ids(es0, cbio):
    for ident in PRIMARY_TEST_IDS:
        assert ident in es0.obs_names
    assert es0.obs.at["TEST_SAMPLE_1", "patient"] == "TEST_PATIENT_1"  # from data_clinical_samples.txt
    patients = pd.read_csv(cbio / "study_es_0" / "data_clinical_patients.txt", sep="\t", comment="#", dtype=str)
    months = float(patients.set_index("PATIENT_ID").at["TEST-A23C", "OS_MONTHS"])
    assert es0.obs.at["TEST-A23C-01", "patient"] == "TEST-A23C"
    assert es0.obs.at["TEST-A23C-01", "os_time"] == pytest.approx(months * 30.4375)
    rep = report(es0)
    assert not ((rep["level"] == "patient") & (rep["item"] == "TEST_PATIENT_1")).any()
    assert es0.obs.at["TCGA-A1-A0SD-01", "sample_type"] == "TP"
    rep = report(es0)
    other = rep[rep["reason"].str.contains("not a TCGA barcode")]
    assert {"TEST_SAMPLE_1", "TEST-A23C-01"} <= set(other["item"])


def test_data_file_without_meta_and_missing_meta_study(cbio, tmp_path, caplog):
    study = tmp_path / "s"
    study.mkdir()
    for name in ("meta_expression_median.txt", "data_expression_median.txt", "data_cna_log2.txt"):
        shutil.copy(cbio / "study_es_0" / name, study / name)
    with caplog.at_level(logging.WARNING, logger="harmonomics.io._cbioportal"):
        m = hm.io.read_cbioportal(study)
    rep = report(m)
    orphan = rep[rep["item"] == "data_cna_log2.txt"]
    assert orphan["reason"].str.contains("no meta file names this file").all() and len(orphan) == 1
    assert (rep["item"] == "meta_study.txt").any()
    assert any("data_cna_log2.txt" in r.message for r in caplog.records)
    assert any("no meta_study.txt" in r.message for r in caplog.records)
    assert set(m.mod) == {"rna"}


# --------------------------------------------------------------------------- invalid studies
def test_study_quotes_is_rejected_at_the_first_quote(cbio):
    with pytest.raises(FormatError, match="quotation mark") as err:
        hm.io.read_cbioportal(cbio / "study_quotes")
    assert Path(err.value.path).name == "cases_custom.txt" and err.value.line == 5


@pytest.mark.parametrize(
    ("meta", "data", "line", "column"),
    [
        ("meta_CNA.txt", "data_CNA.txt", 6, "Hugo_Symbol"),  # ATAD3C"
        ("meta_mutations_extended.txt", "brca_tcga_pub.maf", 3, "Chromosome"),  # "22"
        ("meta_samples.txt", "data_samples.txt", 6, "SUBTYPE"),  # bas"al-like
    ],
)
def test_each_quoted_file_names_its_line(cbio, tmp_path, meta, data, line, column):
    study = tmp_path / "s"
    study.mkdir()
    for name in ("meta_study.txt", meta, data):
        shutil.copy(cbio / "study_quotes" / name, study / name)
    raw = (study / data).read_text().split("\n")
    assert '"' in raw[line - 1] and not any('"' in ln for ln in raw[: line - 1] if not ln.startswith("#"))
    with pytest.raises(FormatError, match="quotation mark") as err:
        hm.io.read_cbioportal(study)
    assert (Path(err.value.path).name, err.value.line, err.value.column) == (data, line, column)


def test_study_various_issues_reports_what_was_skipped(cbio):
    folder = cbio / "study_various_issues"
    m = hm.io.read_cbioportal(folder)
    rep = report(m)
    raw = pd.read_csv(folder / "data_patients.txt", sep="\t", float_precision=EXACT, comment="#", dtype=str)
    # the validator's error_file.txt: 'Value of numeric attribute is not a real number' at lines 536 and 540
    for line in (536, 540):
        patient = raw.iloc[line - 6]["PATIENT_ID"]
        assert raw.iloc[line - 6]["OS_MONTHS"] == "TEST"
        row = rep[rep["item"] == f"data_patients.txt line {line}"]
        assert len(row) == 1 and row["sample"].item() == patient and "OS_MONTHS" in row["reason"].item()
    assert rep.loc[rep["item"] == "error_file.txt", "reason"].str.startswith("not read").all()
    maf = pd.read_csv(folder / "brca_tcga_pub.maf", sep="\t", float_precision=EXACT, dtype=str)
    first = maf.iloc[0]
    assert m.mod["mut"][first["Tumor_Sample_Barcode"], first["Hugo_Symbol"]].X[0, 0] == 1
    assert m.mod["mut"].var.at["A1CF", "entrez"] == "29974"


# --------------------------------------------------------------------------- RPPA
def rppa_study(cbio: Path, tmp_path: Path, data_file: str) -> Path:
    study = tmp_path / "rppa"
    study.mkdir(parents=True)
    (study / "meta_study.txt").write_text("type_of_cancer: brca\ncancer_study_identifier: study_tcga_pub\nname: t\n")
    examples = cbio / "rppa_examples"
    shutil.copy(examples / "src_test_resources_incremental_protein_level_meta_rppa.txt", study / "meta_rppa.txt")
    shutil.copy(examples / data_file, study / "data_rppa.txt")
    return study


def test_rppa_valid_file_equals_raw(cbio, tmp_path):
    name = "tests_test_data_data_rppa_valid.txt"
    raw = pd.read_csv(cbio / "rppa_examples" / name, sep="\t", float_precision=EXACT, index_col=0)
    prot = hm.io.read_cbioportal(rppa_study(cbio, tmp_path, name)).mod["prot"]
    np.testing.assert_array_equal(prot[list(raw.columns), list(raw.index)].X, raw.to_numpy().T)
    assert prot.var.at["ACACA ACACB|ACC_pS79", "peptide_target"] == "ACC_pS79"
    assert prot.var.at["ACACA ACACB|ACC_pS79", "genes"] == "ACACA ACACB"


def test_rppa_rows_cbioportal_skips_are_reported(cbio, tmp_path):
    name = "src_test_resources_incremental_protein_level_data_rppa.txt"
    raw = pd.read_csv(cbio / "rppa_examples" / name, sep="\t", float_precision=EXACT, comment="#", index_col=0)
    m = hm.io.read_cbioportal(rppa_study(cbio, tmp_path, name))
    prot = m.mod["prot"]
    good = raw[raw.index.notna() & ~raw.index.isin(["///", "---", "NA|K-Ras"])]
    first = good[~good.index.duplicated()]
    np.testing.assert_array_equal(prot[list(raw.columns), list(first.index)].X, first.to_numpy().T)
    assert prot["TCGA-A1-A0SB-01", "AKT2|TEST"].X[0, 0] == 5.4424238579025e-05
    rep = report(m)
    assert rep["reason"].str.contains(r"data_rppa.txt line 16: repeats line 14").any()
    for line in (21, 22, 23, 24):
        assert rep["reason"].str.contains(f"data_rppa.txt line {line}: no gene symbol").any()
    assert rep["reason"].str.contains(r"8 '#' comment line\(s\) inside the data skipped").any()


def test_rppa_invalid_and_empty_files(cbio, tmp_path):
    with pytest.raises(FormatError, match="expected a number.*found 'abc'") as err:
        hm.io.read_cbioportal(rppa_study(cbio, tmp_path / "a", "src_test_resources_tabDelimitedData_data_rppa.txt"))
    assert (err.value.line, err.value.column) == (8, "SAMPLE1")
    with pytest.raises(EmptyInputError, match="empty"):
        hm.io.read_cbioportal(
            rppa_study(cbio, tmp_path / "b", "src_test_resources_incremental_tab_delim_data_data_rppa.txt")
        )


# --------------------------------------------------------------------------- the command line
def test_cli_loads_study_es_0_into_a_store(cbio, tmp_path):
    from harmonomics import cli

    out = tmp_path / "s.h5mu"
    assert cli.main(["-q", "load", "cbioportal", str(cbio / "study_es_0"), "--out", str(out)]) == 0
    back = store.read(out)
    assert {"rna", "cnv", "meth", "mut"} <= set(back.mod)
    cnv = back.mod["cnv"]
    raw = raw_matrix(cbio / "study_es_0" / "data_cna_log2.txt")
    assert cnv["TCGA-A1-A0SH-01", "ATAD3A"].X[0, 0] == raw.at["ATAD3A", "TCGA-A1-A0SH-01"]
    assert cnv["TCGA-A1-A0SD-01", "ATAD3A"].layers["gistic"][0, 0] == -1
    rep = back.uns["harmonomics_report"]
    assert rep["reason"].str.startswith("not read").sum() >= 17
    assert "TEST_SAMPLE_1" in back.obs_names


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("data_cna_discrete.txt", "cbioportal_cna_long"),
        ("data_cna_hg19.seg", "cbioportal_segments"),
        ("data_cna_log2.txt", "cbioportal_matrix"),
        ("data_structural_variants.txt", "cbioportal_structural_variants"),
        ("data_gene_panel_matrix.txt", "cbioportal_gene_panel_matrix"),
        ("data_gene_panel_testpanel1.txt", "cbioportal_gene_panel"),
        ("data_resource_sample.txt", "cbioportal_resource"),
        ("data_gsva_scores.txt", "cbioportal_gsva"),
        ("data_gistic_genes_amp.txt", "cbioportal_gistic_genes"),
        ("data_treatment_ic50.txt", "cbioportal_generic_assay"),
        ("data_clinical_samples.txt", "cbioportal_clinical"),
    ],
)
def test_detect_format_names_cbioportal_file_types(cbio, name, fmt):
    assert hm.io.detect_format(cbio / "study_es_0" / name) == fmt
