"""read_gdc on tumour–normal pair files, MAFs missing columns, MAF-only folders; read_maf on small MAFs."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
from gdc_files import write_gdc

import harmonomics as hm
from harmonomics._errors import FormatError

CN_FILE_ID = "30000000-0000-4000-8000-000000000000"
TUMOUR = "TCGA-A2-A0CM-01A-31D-A034-01"
NORMAL = "TCGA-A2-A0CM-10A-01D-A034-01"


def _normal_first(files, *, with_metadata=True):
    """List the copy-number file, and every MAF, as GDC does: the blood normal first, then the tumour."""
    sheet = files["gdc_sample_sheet.2024-06-01.tsv"].splitlines()
    out = [sheet[0]]
    for line in sheet[1:]:
        cells = line.split("\t")
        if cells[0] == CN_FILE_ID:
            cells[5] = f"{TUMOUR[:12]}, {TUMOUR[:12]}"
            cells[6] = f"{NORMAL[:16]}, {TUMOUR[:16]}"
            cells[7] = "Normal, Tumor"
        elif ", " in cells[6]:  # the MAFs: "tumour, normal" → "normal, tumour"
            for k in (6, 7):
                cells[k] = ", ".join(reversed(cells[k].split(", ")))
        out.append("\t".join(cells))
    files["gdc_sample_sheet.2024-06-01.tsv"] = "\n".join(out) + "\n"
    meta = json.loads(files["metadata.cart.2024-06-01.json"])
    for record in meta:
        if record["file_id"] == CN_FILE_ID:
            normal = dict(record["associated_entities"][0], entity_submitter_id=NORMAL)
            record["associated_entities"] = [normal, *record["associated_entities"]]
        else:
            record["associated_entities"].reverse()
    if with_metadata:
        files["metadata.cart.2024-06-01.json"] = json.dumps(meta)
    else:
        del files["metadata.cart.2024-06-01.json"]


@pytest.mark.parametrize("with_metadata", [True, False])
def test_pair_files_belong_to_the_tumour_whatever_the_order(tmp_path, with_metadata):
    folder = write_gdc(tmp_path / "g", mutate=lambda f: _normal_first(f, with_metadata=with_metadata))
    m = hm.io.read_gdc(folder)
    cnv = m.mod["cnv"]
    assert list(cnv.obs_names) == ["TCGA-A2-A0CM-01"]
    expected_tumour = TUMOUR if with_metadata else TUMOUR[:16]  # the sample sheet names vials only
    expected_normal = NORMAL if with_metadata else NORMAL[:16]
    assert cnv.obs["aliquot"].iat[0] == expected_tumour
    assert cnv.obs["matched_normal"].iat[0] == expected_normal
    # the values of the file as written (fixture: 2, 3, empty, 8)
    np.testing.assert_array_equal(np.asarray(cnv.X)[0], [2, 3, np.nan, 8])
    mut = m.mod["mut"]
    assert set(mut.obs_names) == {"TCGA-A1-A0SB-01", "TCGA-A2-A0CM-01", "TCGA-A1-A0SH-01"}
    assert mut.obs["matched_normal"].str[13:15].eq("10").all()
    assert mut.obs["aliquot"].str[13:15].eq("01").all()
    report = m.uns["harmonomics_report"]
    assert not report["reason"].str.contains("sample type 10").any()
    pair_rows = report[report["reason"].str.contains("a tumour–normal pair's file: it belongs to the tumour")]
    assert set(pair_rows["omic"]) == {"cnv", "mut"}
    assert pair_rows["reason"].str.contains(expected_normal).any()


def test_masked_maf_missing_required_columns_raises_naming_them(tmp_path):
    def strip_columns(files):
        key = next(k for k in files if k.endswith(".maf.gz"))
        lines = gzip.decompress(files[key]).decode().splitlines()
        comments = [x for x in lines if x.startswith("#")]
        table = pd.DataFrame(
            [x.split("\t") for x in lines[len(comments) + 1 :]], columns=lines[len(comments)].split("\t")
        )
        table = table.drop(columns=["Tumor_Sample_Barcode", "Variant_Classification"])
        body = "\t".join(table.columns) + "\n" + "".join("\t".join(r) + "\n" for r in table.to_numpy())
        files[key] = gzip.compress(("\n".join(comments) + "\n" + body).encode())

    folder = write_gdc(tmp_path / "g", mutate=strip_columns)
    with pytest.raises(
        FormatError,
        match=r"line 5: wrong header for a MAF file: missing column\(s\) "
        r"\['Variant_Classification', 'Tumor_Sample_Barcode'\]",
    ):
        hm.io.read_gdc(folder)


def test_detect_format_tells_maf_kinds_by_content(tmp_path):
    header = "Hugo_Symbol\tChromosome\tStart_Position\tVariant_Classification\tTumor_Sample_Barcode\n"
    legacy = tmp_path / "legacy.txt"
    legacy.write_text(header + "TP53\t17\t7577120\tMissense_Mutation\tTCGA-A8-A08B\n")
    assert hm.io.detect_format(legacy) == "gdc_maf"  # no #version line, 12-character barcodes
    cbio = tmp_path / "data_mutations.txt"
    cbio.write_text("#version 2.4\n" + header + "TP53\t17\t7577120\tMissense_Mutation\tTCGA-A8-A08B-01\n")
    assert hm.io.detect_format(cbio) == "cbioportal_mutations"
    masked = tmp_path / "masked.maf"
    masked.write_text(
        "Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\nTP53\tchr17\t7670000\tC\tT\n"
    )
    assert hm.io.detect_format(masked) == "gdc_maf"  # a MAF missing columns is still a MAF: its parser names them
    with pytest.raises(
        FormatError,
        match=r"line 1: wrong header for a MAF file: missing column\(s\) "
        r"\['Variant_Classification', 'Tumor_Sample_Barcode'\]",
    ):
        hm.io.read_maf(masked)


def _legacy_maf(path, rows):
    header = [
        "Hugo_Symbol",
        "Chromosome",
        "Start_Position",
        "Variant_Classification",
        "Variant_Type",
        "Reference_Allele",
        "Tumor_Seq_Allele2",
        "Tumor_Sample_Barcode",
        "Matched_Norm_Sample_Barcode",
        "Protein_Change",
    ]
    text = "\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows)
    path.write_bytes(gzip.compress(text.encode()))
    return path


ROWS = [
    (
        "TP53",
        "17",
        "7577120",
        "Missense_Mutation",
        "SNP",
        "C",
        "T",
        "TCGA-A8-A08B-01A-11W-A019-09",
        "TCGA-A8-A08B-10A-01W-A021-09",
        "p.R248Q",
    ),
    (
        "PIK3CA",
        "3",
        "178952085",
        "Silent",
        "SNP",
        "A",
        "G",
        "TCGA-A8-A08B-01A-11W-A019-09",
        "TCGA-A8-A08B-10A-01W-A021-09",
        "p.H1047H",
    ),
    # a second aliquot of the same sample: analyte D wins over W (FORMATS.md), reported
    (
        "GATA3",
        "10",
        "8115874",
        "Frame_Shift_Ins",
        "INS",
        "-",
        "A",
        "TCGA-A8-A08B-01A-11D-A019-09",
        "TCGA-A8-A08B-10A-01D-A021-09",
        "p.P409fs",
    ),
    (
        "CDH1",
        "16",
        "68835600",
        "Nonsense_Mutation",
        "SNP",
        "C",
        "T",
        "TCGA-BH-A0B3-01A-11D-A10Y-09",
        "TCGA-BH-A0B3-10A-01D-A110-09",
        "p.Q23*",
    ),
    (
        "CDH1",
        "16",
        "68835600",
        "Nonsense_Mutation",
        "SNP",
        "C",
        "T",
        "TCGA-BH-A0B3-11A-11D-A10Y-09",
        "TCGA-BH-A0B3-10A-01D-A110-09",
        "p.Q23*",
    ),
]


def test_read_maf_chooses_one_aliquot_per_sample_and_keeps_protein_changes(tmp_path):
    m = hm.io.read_maf(_legacy_maf(tmp_path / "legacy.maf.gz", ROWS))
    mut = m.mod["mut"]
    assert list(mut.obs_names) == ["TCGA-A8-A08B-01", "TCGA-BH-A0B3-01"]
    assert mut.obs.loc["TCGA-A8-A08B-01", "aliquot"] == "TCGA-A8-A08B-01A-11D-A019-09"
    assert mut.obs.loc["TCGA-A8-A08B-01", "matched_normal"] == "TCGA-A8-A08B-10A-01D-A021-09"
    assert mut["TCGA-A8-A08B-01", "GATA3"].X[0, 0] == 1
    # TP53 is mutated only in the aliquot not chosen
    assert mut["TCGA-A8-A08B-01", "TP53"].X[0, 0] == 0 and mut.var.loc["TP53", "n_mutated"] == 0
    maf = mut.uns["maf"]
    assert {"sample", "aliquot", "protein_change", "Protein_Change", "Variant_Type"} <= set(maf.columns)
    assert maf.loc[maf["Hugo_Symbol"] == "CDH1", "protein_change"].tolist() == ["p.Q23*"]
    report = m.uns["harmonomics_report"]
    dropped = report[report["action"] == "dropped"]
    assert set(dropped["item"]) == {"TCGA-A8-A08B-01A-11W-A019-09", "TCGA-BH-A0B3-11A-11D-A10Y-09"}
    assert "build" not in mut.uns  # no NCBI_Build column
    assert report["reason"].str.contains("no NCBI_Build column").any()


def test_read_gdc_reads_a_folder_of_maf_files_without_sample_sheet(tmp_path):
    folder = tmp_path / "mafs"
    folder.mkdir()
    _legacy_maf(folder / "cohort.maf.gz", ROWS)
    m = hm.io.read_gdc(folder)
    mut = m.mod["mut"]
    assert list(mut.obs_names) == ["TCGA-A8-A08B-01", "TCGA-BH-A0B3-01"]
    assert mut.obs.loc["TCGA-A8-A08B-01", "aliquot"] == "TCGA-A8-A08B-01A-11D-A019-09"
    report = m.uns["harmonomics_report"]
    assert report["reason"].str.contains("read for the 4 tumour sample\\(s\\) its Tumor_Sample_Barcode names").any()
    assert (report["item"] == "TCGA-A8-A08B-01A-11W-A019-09").any()


def test_read_maf_records_the_build_and_writes_to_h5mu(tmp_path):
    rows = [r[:9] for r in ROWS[:1]]
    header = (
        "Hugo_Symbol\tChromosome\tStart_Position\tVariant_Classification\tVariant_Type\tReference_Allele\t"
        "Tumor_Seq_Allele2\tTumor_Sample_Barcode\tMatched_Norm_Sample_Barcode\tNCBI_Build\tEntrez_Gene_Id\n"
    )
    path = tmp_path / "b.maf"
    path.write_text(header + "".join("\t".join(r) + "\tGRCh37\t\n" for r in rows))
    m = hm.io.read_maf(path)
    assert m.mod["mut"].uns["build"] == "GRCh37"
    assert m.uns["harmonomics"]["files"]["build"].tolist() == ["GRCh37"]
    hm.store.write(m, tmp_path / "b.h5mu")  # a blank Entrez_Gene_Id column must not break the writer
    back = hm.store.read(tmp_path / "b.h5mu")
    assert back.mod["mut"].uns["build"] == "GRCh37"
