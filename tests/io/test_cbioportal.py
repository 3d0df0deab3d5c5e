"""read_cbioportal on a small hand-written study folder, and its bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import EmptyInputError, FormatError, MixedProjectsError

S1, S2, S3 = "TCGA-A1-A0SB-01", "TCGA-A2-A0CM-01", "TCGA-A1-A0SH-01"


def write_study(root: Path, *, mutate=None) -> Path:
    files = {
        "meta_study.txt": "type_of_cancer: brca\ncancer_study_identifier: brca_test\nname: test\n",
        "meta_clinical_patient.txt": "cancer_study_identifier: brca_test\ngenetic_alteration_type: CLINICAL\n"
        "datatype: PATIENT_ATTRIBUTES\ndata_filename: data_clinical_patient.txt\n",
        "data_clinical_patient.txt": "#Patient Identifier\tOverall Survival Status\tOverall Survival (Months)\tAge\n"
        "#Patient\tstatus\tmonths\tage\n#STRING\tSTRING\tNUMBER\tNUMBER\n#1\t1\t1\t1\n"
        "PATIENT_ID\tOS_STATUS\tOS_MONTHS\tAGE\n"
        "TCGA-A1-A0SB\t0:LIVING\t32.85\t50\nTCGA-A2-A0CM\t1:DECEASED\t16.43\t61\n"
        "TCGA-A1-A0SH\t1:DECEASED\t26.28\t[Not Available]\nTCGA-B6-A0AA\t0:LIVING\t65.71\t45\n",
        "meta_clinical_sample.txt": "cancer_study_identifier: brca_test\ngenetic_alteration_type: CLINICAL\n"
        "datatype: SAMPLE_ATTRIBUTES\ndata_filename: data_clinical_sample.txt\n",
        "data_clinical_sample.txt": "#Sample\tPatient\tSubtype\n#s\tp\tsubtype\n#STRING\tSTRING\tSTRING\n#1\t1\t1\n"
        f"SAMPLE_ID\tPATIENT_ID\tSUBTYPE\n{S1}\tTCGA-A1-A0SB\tBRCA_LumA\n"
        f"{S2}\tTCGA-A2-A0CM\tBRCA_Basal\n{S3}\tTCGA-A1-A0SH\tBRCA_Her2\n",
        "meta_mrna_seq_v2_rsem.txt": "cancer_study_identifier: brca_test\ngenetic_alteration_type: MRNA_EXPRESSION\n"
        "datatype: CONTINUOUS\nstable_id: rna_seq_v2_mrna\ndata_filename: data_mrna_seq_v2_rsem.txt\n",
        "data_mrna_seq_v2_rsem.txt": f"Hugo_Symbol\tEntrez_Gene_Id\t{S1}\t{S2}\n"
        "TP53\t7157\t100.5\t200.25\n\t100130426\t1.5\t0\nORC6L\t23594\t12.0\t13.0\n"
        "DUP\t1\t1\t2\nDUP\t2\t3\t4\n",
        "meta_mrna_seq_v2_rsem_zscores.txt": "cancer_study_identifier: brca_test\n"
        "genetic_alteration_type: MRNA_EXPRESSION\n"
        "datatype: Z-SCORE\nstable_id: rna_seq_v2_mrna_median_Zscores\n"
        "data_filename: data_mrna_seq_v2_rsem_zscores.txt\n",
        "data_mrna_seq_v2_rsem_zscores.txt": f"Hugo_Symbol\tEntrez_Gene_Id\t{S1}\t{S2}\nTP53\t7157\t-1\t1\n",
        "meta_cna.txt": "cancer_study_identifier: brca_test\ngenetic_alteration_type: COPY_NUMBER_ALTERATION\n"
        "datatype: DISCRETE\nstable_id: gistic\ndata_filename: data_cna.txt\n",
        "data_cna.txt": f"Hugo_Symbol\tEntrez_Gene_Id\t{S1}\t{S3}\nTP53\t7157\t-1\t2\nERBB2\t2064\t0\t2\n",
        "meta_log2_cna.txt": "cancer_study_identifier: brca_test\ngenetic_alteration_type: COPY_NUMBER_ALTERATION\n"
        "datatype: LOG2-VALUE\nstable_id: log2CNA\ndata_filename: data_log2_cna.txt\n",
        "data_log2_cna.txt": f"Hugo_Symbol\tEntrez_Gene_Id\t{S1}\t{S3}\n"
        "TP53\t7157\t-0.5\t1.2\nERBB2\t2064\t0.01\t2.5\n",
        "meta_methylation_hm450.txt": "cancer_study_identifier: brca_test\ngenetic_alteration_type: GENERIC_ASSAY\n"
        "generic_assay_type: METHYLATION\ndatatype: LIMIT-VALUE\nstable_id: methylation_hm450\n"
        "generic_entity_meta_properties: NAME,DESCRIPTION,TRANSCRIPT_ID\n"
        "data_filename: data_methylation_hm450.txt\n",
        "data_methylation_hm450.txt": f"ENTITY_STABLE_ID\tNAME\tDESCRIPTION\tTRANSCRIPT_ID\t{S1}\t{S2}\n"
        "cg00000029\tRBL2\tdesc\tNM_1\t0.25\tNA\ncg00000108\tC3orf35\tdesc\tNM_2\t0.5\t0.75\n",
        "meta_rppa.txt": "cancer_study_identifier: brca_test\ngenetic_alteration_type: PROTEIN_LEVEL\n"
        "datatype: LOG2-VALUE\n"
        "stable_id: rppa\ndata_filename: data_rppa.txt\n",
        "data_rppa.txt": f"Composite.Element.REF\t{S1}\t{S2}\n"
        "AKT1 AKT2 AKT3|Akt_pS473\t0.5\t-0.25\nERBB2|HER2\tNA\t1.5\n",
        "meta_mutations.txt": "cancer_study_identifier: brca_test\ngenetic_alteration_type: MUTATION_EXTENDED\n"
        "datatype: MAF\nstable_id: mutations\ndata_filename: data_mutations.txt\n",
        "data_mutations.txt": "#version 2.4\n"
        "Hugo_Symbol\tEntrez_Gene_Id\tChromosome\tStart_Position\tVariant_Classification\t"
        "Tumor_Sample_Barcode\tHGVSp_Short\n"
        f"TP53\t7157\t17\t7675088\tMissense_Mutation\t{S1}\tp.R175H\n"
        f"PIK3CA\t5290\t3\t179234297\tSilent\t{S1}\tp.H1047=\n"
        f"PIK3CA\t5290\t3\t179234297\tMissense_Mutation\t{S2}\tp.H1047R\n",
        "case_lists/cases_sequenced.txt": "cancer_study_identifier: brca_test\nstable_id: brca_test_sequenced\n"
        f"case_list_name: seq\ncase_list_ids: {S1}\t{S2}\t{S3}\n",
        "case_lists/cases_all.txt": "cancer_study_identifier: brca_test\nstable_id: brca_test_all\n"
        f"case_list_ids: {S1}\t{S2}\t{S3}\n",
    }
    if mutate is not None:
        mutate(files)
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_reads_study(tmp_path):
    m = hm.io.read_cbioportal(write_study(tmp_path / "s"))
    assert set(m.mod) == {"rna", "cnv", "meth", "prot", "mut"}
    assert set(m.obs_names) == {S1, S2, S3}
    rna = m.mod["rna"]
    assert rna[S1, "TP53"].X[0, 0] == 100.5
    assert "?|100130426" in rna.var_names and {"DUP|1", "DUP|2"} <= set(rna.var_names)
    assert rna.var.loc["TP53", "entrez"] == "7157"
    cnv = m.mod["cnv"]
    assert cnv[S3, "ERBB2"].X[0, 0] == 2.5 and cnv[S3, "ERBB2"].layers["gistic"][0, 0] == 2
    assert m.mod["meth"].var.loc["cg00000029", "name"] == "RBL2"
    assert np.isnan(m.mod["meth"][S2, "cg00000029"].X[0, 0])
    assert m.mod["prot"].var.loc["AKT1 AKT2 AKT3|Akt_pS473", "peptide_target"] == "Akt_pS473"
    mut = m.mod["mut"]
    assert mut[S3].X.sum() == 0  # sequenced, no variant
    assert mut[S1, "TP53"].X[0, 0] == 1 and mut[S1, "PIK3CA"].X[0, 0] == 0
    assert list(m.obs.loc[[S1, S2, S3], "pam50"]) == ["LumA", "Basal", "Her2"]
    assert m.obs.loc[S2, "os_event"] == 1 and m.obs.loc[S2, "os_time"] == pytest.approx(16.43 * 30.4375)
    assert np.isnan(m.obs.loc[S3, "age"])
    rep = m.uns["harmonomics_report"]
    assert ((rep["item"] == "data_mrna_seq_v2_rsem_zscores.txt") & (rep["action"] == "dropped")).any()
    assert ((rep["item"] == "TCGA-B6-A0AA") & (rep["action"] == "dropped")).any()


def test_gistic_as_main_cnv(tmp_path):
    m = hm.io.read_cbioportal(write_study(tmp_path / "s"), cnv="gistic")
    assert m.mod["cnv"][S3, "ERBB2"].X[0, 0] == 2 and m.mod["cnv"][S3, "ERBB2"].layers["log2"][0, 0] == 2.5


def test_empty_folder(tmp_path):
    (tmp_path / "e").mkdir()
    with pytest.raises(EmptyInputError, match="empty"):
        hm.io.read_cbioportal(tmp_path / "e")


def test_truncated_matrix(tmp_path):
    def cut(files):
        files["data_mrna_seq_v2_rsem.txt"] = files["data_mrna_seq_v2_rsem.txt"][:-6]

    with pytest.raises(FormatError, match=r"data_mrna_seq_v2_rsem.txt, line 6: expected 4 tab-separated.*truncated"):
        hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=cut))


def test_wrong_header(tmp_path):
    def bad(files):
        files["data_rppa.txt"] = files["data_rppa.txt"].replace("Composite.Element.REF", "Antibody")

    with pytest.raises(FormatError, match=r"data_rppa.txt.*line 1.*(wrong header|content looks like)"):
        hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=bad))


def test_clinical_needs_four_hash_lines(tmp_path):
    def bad(files):
        files["data_clinical_patient.txt"] = "\n".join(files["data_clinical_patient.txt"].split("\n")[1:])

    with pytest.raises(FormatError, match="found 3 leading # lines; expected 4"):
        hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=bad))


def test_not_a_number(tmp_path):
    def bad(files):
        files["data_log2_cna.txt"] = files["data_log2_cna.txt"].replace("0.01", "0,01")

    with pytest.raises(FormatError, match=r"data_log2_cna.txt, line 3, column 'TCGA-A1-A0SB-01': expected a number"):
        hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=bad))


def test_duplicate_samples(tmp_path):
    def bad(files):
        files["data_cna.txt"] = files["data_cna.txt"].replace(S3, S1)

    with pytest.raises(FormatError, match=r"data_cna.txt, line 1: duplicate sample column"):
        hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=bad))


def test_duplicate_clinical_ids(tmp_path):
    def bad(files):
        files["data_clinical_sample.txt"] = files["data_clinical_sample.txt"].replace(S3, S1)

    with pytest.raises(FormatError, match=r"line 8, column 'SAMPLE_ID': duplicate SAMPLE_ID"):
        hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=bad))


def test_unknown_ids(tmp_path):
    def bad(files):
        files["data_mrna_seq_v2_rsem.txt"] = files["data_mrna_seq_v2_rsem.txt"].replace(S2, "TCGA-A2-A0CM-9Z")

    with pytest.raises(ValueError, match="TCGA-A2-A0CM-9Z"):
        hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=bad))


def test_two_studies_mixed(tmp_path):
    def bad(files):
        files["meta_rppa.txt"] = files["meta_rppa.txt"].replace("brca_test", "luad_test")

    with pytest.raises(MixedProjectsError, match="2 studies"):
        hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=bad))


def test_meta_points_to_missing_file(tmp_path):
    def bad(files):
        del files["data_rppa.txt"]

    with pytest.raises(FormatError, match=r"meta_rppa.txt: data_filename 'data_rppa.txt' does not exist"):
        hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=bad))


LONG_META = (
    "cancer_study_identifier: brca_test\ngenetic_alteration_type: COPY_NUMBER_ALTERATION\n"
    "datatype: DISCRETE_LONG\nstable_id: gistic\ndata_filename: data_cna.txt\n"
)


def _long_format(files, body):
    files["meta_cna.txt"] = LONG_META
    files["data_cna.txt"] = "Hugo_Symbol\tEntrez_Gene_Id\tSample_Id\tValue\tcbp_driver\n" + body


def test_discrete_long_format(tmp_path):
    body = f"TP53\t7157\t{S1}\t-1\t\nERBB2\t2064\t{S3}\t2\tPutative_Driver\nTP53\t7157\t{S3}\t0\t\n"
    m = hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=lambda f: _long_format(f, body)))
    cnv = m.mod["cnv"]
    assert cnv[S3, "ERBB2"].layers["gistic"][0, 0] == 2 and cnv[S1, "TP53"].layers["gistic"][0, 0] == -1
    assert np.isnan(cnv[S1, "ERBB2"].layers["gistic"][0, 0])  # no row for that gene and sample
    assert cnv[S3, "ERBB2"].X[0, 0] == 2.5  # log2 stays X
    assert m.uns["harmonomics_report"]["reason"].str.contains("columns not read: cbp_driver").any()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"TP53\t7157\t{S1}\t-1\t\nTP53\t7157\t{S1}\t0\t\n", r"data_cna.txt, line 3: gene 'TP53' of sample .* twice"),
        (f"TP53\t7157\t{S1}\tamp\t\n", r"data_cna.txt, line 2, column 'Value': expected a number"),
    ],
)
def test_discrete_long_format_errors(tmp_path, body, message):
    with pytest.raises(FormatError, match=message):
        hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=lambda f: _long_format(f, body)))


def test_unknown_or_unread_types_are_reported_not_fatal(tmp_path):
    def add(files):
        files["meta_timeline.txt"] = (
            "cancer_study_identifier: brca_test\ngenetic_alteration_type: CLINICAL\n"
            "datatype: TIMELINE\ndata_filename: data_timeline.txt\n"
        )
        files["data_timeline.txt"] = "PATIENT_ID\tSTART_DATE\tSTOP_DATE\tEVENT_TYPE\nTCGA-A1-A0SB\t0\t\tSTATUS\n"
        files["meta_new.txt"] = (
            "cancer_study_identifier: brca_test\ngenetic_alteration_type: SOMETHING_NEW\n"
            "datatype: WHATEVER\ndata_filename: data_new.txt\n"
        )
        files["data_new.txt"] = "anything at all\n"
        files["data_orphan.txt"] = f"Hugo_Symbol\tEntrez_Gene_Id\t{S1}\nTP53\t7157\t1\n"

    m = hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=add))
    rep = m.uns["harmonomics_report"].set_index("item")
    assert rep.at["data_timeline.txt", "reason"].startswith("not read: timeline")
    assert rep.at["data_new.txt", "reason"].startswith("not read: unknown type SOMETHING_NEW/WHATEVER")
    assert "no meta file names this file" in rep.at["data_orphan.txt", "reason"]
    assert set(m.mod) == {"rna", "cnv", "meth", "prot", "mut"}


def test_no_reference_genome_means_hg19(tmp_path):
    m = hm.io.read_cbioportal(write_study(tmp_path / "s"))
    assert m.uns["harmonomics"]["parameters"]["reference_genome"] == "hg19"
    files = pd.DataFrame(m.uns["harmonomics"]["files"]).set_index("path")
    assert files.at[str(tmp_path / "s" / "data_log2_cna.txt"), "build"] == "GRCh37"


def test_maf_with_entrez_zero_everywhere_writes(tmp_path):
    def zero(files):
        files["data_mutations.txt"] = (
            files["data_mutations.txt"].replace("\t7157\t", "\t0\t").replace("\t5290\t", "\t\t")
        )

    m = hm.io.read_cbioportal(write_study(tmp_path / "s", mutate=zero), omics=("mut",))
    assert "entrez" not in m.mod["mut"].var
    hm.store.write(m, tmp_path / "m.h5mu")
    back = hm.store.read(tmp_path / "m.h5mu")
    assert back.mod["mut"][S1, "TP53"].X[0, 0] == 1
