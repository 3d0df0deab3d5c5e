"""read_xena, read_firehose, read_table and detect_format on small files; the real 10-sample table."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import EmptyInputError, FormatError, UnknownFormatError

S1, S2, N1 = "TCGA-A1-A0SB-01", "TCGA-A2-A0CM-01", "TCGA-A2-A0CM-11"


def _xena(root, *, hiseq=None, clinical=None, extra=None):
    root.mkdir(parents=True, exist_ok=True)
    (root / "HiSeqV2").write_text(hiseq or f"sample\t{S1}\t{S2}\t{N1}\nTP53\t10.5\t11.25\t9.0\nESR1\t12\tNA\t3.5\n")
    (root / "Gistic2_CopyNumber_Gistic2_all_thresholded.by_genes").write_text(
        f"Gene Symbol\t{S1}\t{S2}\nTP53\t-1\t0\nERBB2\t2\t0\n".replace("Gene Symbol", "sample")
    )
    (root / "mutation_broad_gene").write_text(f"sample\t{S1}\nTP53\t1\nPIK3CA\t0\n")
    (root / "BRCA_clinicalMatrix").write_text(
        clinical
        or (
            "sampleID\t_PATIENT\tsample_type\tPAM50Call_RNAseq\tvital_status\tdays_to_death\tdays_to_last_followup\n"
            f"{S1}\tTCGA-A1-A0SB\tPrimary Tumor\tLumA\tLIVING\t\t1000\n"
            f"{S2}\tTCGA-A2-A0CM\tPrimary Tumor\tBasal\tDECEASED\t500\t\n"
            f"{N1}\tTCGA-A2-A0CM\tSolid Tissue Normal\t\tDECEASED\t500\t\n"
            "TCGA-B6-A0AA-01\tTCGA-B6-A0AA\tPrimary Tumor\tHer2\tLIVING\t\t20\n"
        )
    )
    for name, text in (extra or {}).items():
        (root / name).write_text(text)
    return root


def test_xena(tmp_path):
    m = hm.io.read_xena(_xena(tmp_path / "x"))
    assert set(m.mod) == {"rna", "cnv", "mut"}
    assert set(m.obs_names) == {S1, S2}
    assert m.mod["rna"][S2, "TP53"].X[0, 0] == 11.25 and np.isnan(m.mod["rna"][S2, "ESR1"].X[0, 0])
    assert m.mod["cnv"].uns["scale"] == "gistic" and m.mod["mut"].uns["scale"] == "binary"
    assert list(m.obs.loc[[S1, S2], "pam50"]) == ["LumA", "Basal"]
    assert list(m.obs.loc[[S1, S2], "os_time"]) == [1000, 500] and list(m.obs.loc[[S1, S2], "os_event"]) == [0, 1]
    rep = m.uns["harmonomics_report"]
    assert ((rep["item"] == N1) & (rep["action"] == "dropped")).any()
    assert ((rep["item"] == "TCGA-B6-A0AA-01") & (rep["reason"].str.contains("without any omic"))).sum() == 1
    m2 = hm.io.read_xena(tmp_path / "x", sample_types="tumor_normal")
    assert N1 in m2.obs_names and m2.obs.loc[N1, "sample_type"] == "NT"


def test_xena_bad_inputs(tmp_path):
    with pytest.raises(EmptyInputError):
        (tmp_path / "e").mkdir()
        hm.io.read_xena(tmp_path / "e")
    with pytest.raises(FormatError, match=r"HiSeqV2, line 2, column 'TCGA-A2-A0CM-01': expected a number"):
        hm.io.read_xena(_xena(tmp_path / "a", hiseq=f"sample\t{S1}\t{S2}\nTP53\t1\tx\n"))
    with pytest.raises(FormatError, match=r"HiSeqV2, line 3: expected 3 tab-separated.*truncated"):
        hm.io.read_xena(_xena(tmp_path / "b", hiseq=f"sample\t{S1}\t{S2}\nTP53\t1\t2\nESR1\t1"))
    with pytest.raises(FormatError, match="duplicate sample column"):
        hm.io.read_xena(_xena(tmp_path / "c", hiseq=f"sample\t{S1}\t{S1}\nTP53\t1\t2\n"))
    with pytest.raises(FormatError, match="duplicate feature 'TP53'"):
        hm.io.read_xena(_xena(tmp_path / "d", hiseq=f"sample\t{S1}\nTP53\t1\nTP53\t2\n"))
    with pytest.raises(UnknownFormatError, match="notes.txt, line 1: unknown format"):
        hm.io.read_xena(_xena(tmp_path / "f", extra={"notes.txt": "hello world\n"}))
    with pytest.raises(ValueError, match="TCGA-XX"):
        hm.io.read_xena(_xena(tmp_path / "g", hiseq="sample\tTCGA-XX\nTP53\t1\n"))
    wrong = "sample_id\t_PATIENT\tPAM50Call_RNAseq\n" + f"{S1}\tTCGA-A1-A0SB\tLumA\n"
    with pytest.raises(UnknownFormatError, match="BRCA_clinicalMatrix, line 1: unknown format"):
        hm.io.read_xena(_xena(tmp_path / "h", clinical=wrong))
    dup = "sampleID\tPAM50Call_RNAseq\n" + f"{S1}\tLumA\n{S1}\tBasal\n"
    with pytest.raises(FormatError, match="duplicate sampleID"):
        hm.io.read_xena(_xena(tmp_path / "i", clinical=dup))


FIREHOSE_RSEM = (
    "Hybridization REF\tTCGA-A1-A0SB-01A-11R-A144-07\tTCGA-A1-A0SB-01A-21R-A144-07\tTCGA-A2-A0CM-11A-22R-A034-07\n"
    "gene_id\tnormalized_count\tnormalized_count\tnormalized_count\n"
    "?|100130426\t0.0000\t1.5000\t2.0000\nTP53|7157\t1000.5000\t900.2500\t300.0000\n"
)
FIREHOSE_CLIN = (
    "Hybridization REF\ttcga-a1-a0sb\ttcga-a2-a0cm\nComposite Element REF\tvalue\tvalue\n"
    "years_to_birth\t50\t61\nvital_status\t0\t1\ndays_to_death\tNA\t500\ndays_to_last_followup\t1000\tNA\n"
)


def test_firehose(tmp_path):
    root = tmp_path / "f"
    root.mkdir()
    (root / "BRCA.rnaseqv2__RSEM_genes_normalized__data.data.txt").write_text(FIREHOSE_RSEM)
    (root / "BRCA.clin.merged.picked.txt").write_text(FIREHOSE_CLIN)
    m = hm.io.read_firehose(root, sample_types="tumor_normal")
    rna = m.mod["rna"]
    assert rna.obs.loc["TCGA-A1-A0SB-01", "aliquot"] == "TCGA-A1-A0SB-01A-21R-A144-07"
    assert rna["TCGA-A1-A0SB-01", "TP53|7157"].X[0, 0] == 900.25
    assert rna.var.loc["TP53|7157", "symbol"] == "TP53" and rna.var.loc["?|100130426", "entrez"] == "100130426"
    assert m.obs.loc["TCGA-A2-A0CM-11", "sample_type"] == "NT" and m.obs.loc["TCGA-A2-A0CM-11", "os_event"] == 1
    assert m.obs.loc["TCGA-A1-A0SB-01", "os_time"] == 1000
    assert hm.io.detect_format(root / "BRCA.clin.merged.picked.txt") == "firehose_clinical"


def test_firehose_bad_inputs(tmp_path):
    root = tmp_path / "f"
    root.mkdir()
    bad = root / "BRCA.rnaseqv2__RSEM_genes_normalized__data.data.txt"
    bad.write_text(FIREHOSE_RSEM.replace("900.2500", "n/a"))
    with pytest.raises(FormatError, match=r"line 4, column 'TCGA-A1-A0SB-01A-21R-A144-07': expected a number"):
        hm.io.read_firehose(root)
    bad.write_text(FIREHOSE_RSEM[:-10])
    with pytest.raises(FormatError, match=r"line 4: expected 4 tab-separated fields.*truncated"):
        hm.io.read_firehose(root)
    bad.write_text(FIREHOSE_RSEM.replace("TCGA-A1-A0SB-01A-21R-A144-07", "TCGA-A1-A0SB-01A-11R-A144-07"))
    with pytest.raises(FormatError, match="line 1: duplicate sample column"):
        hm.io.read_firehose(root)
    bad.write_text(
        FIREHOSE_RSEM.replace(
            "gene_id\tnormalized_count\tnormalized_count\tnormalized_count", "gene_id\tnormalized_count"
        )
    )
    with pytest.raises(FormatError, match="line 2: expected 4 fields in the second header row"):
        hm.io.read_firehose(root)
    bad.write_text(FIREHOSE_RSEM.replace("TCGA-A2-A0CM-11A-22R-A034-07", "TCGA-A2-A0CM-1XA"))
    with pytest.raises(FormatError, match="TCGA-A2-A0CM-1XA"):
        hm.io.read_firehose(root)
    bad.write_text("")
    with pytest.raises(EmptyInputError):
        hm.io.read_firehose(root)
    bad.unlink()
    with pytest.raises(EmptyInputError, match="no files"):
        hm.io.read_firehose(root)


def test_read_table_orientations(tmp_path):
    fs = tmp_path / "fs.csv"
    fs.write_text(f"gene,{S1},{S2}\nENSG00000141510.18,5,6\nENSG00000091831.24,7,8\n")
    m = hm.io.read_table(fs, omic="rna")
    assert m.mod["rna"].shape == (2, 2) and m.mod["rna"][S2, "ENSG00000091831.24"].X[0, 0] == 8
    sf = tmp_path / "sf.tsv"
    sf.write_text("id\tTP53\tESR1\tGATA3\npatient1\t1.5\t2\t3\npatient2\t4\t5\t6\n")
    m = hm.io.read_table(sf, omic="prot", orientation="samples_x_features")
    assert list(m.obs_names) == ["patient1", "patient2"] and m.mod["prot"]["patient2", "ESR1"].X[0, 0] == 5
    assert m.obs.loc["patient1", "patient"] == "patient1"
    auto = hm.io.read_table(sf, omic="prot")  # 2 rows, 3 columns, symbols in the header
    assert list(auto.obs_names) == ["patient1", "patient2"]


def test_read_table_bad_inputs(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("")
    with pytest.raises(EmptyInputError, match="empty"):
        hm.io.read_table(p, omic="rna")
    p.write_text(f"gene\t{S1}\t{S2}\n")
    with pytest.raises(EmptyInputError, match="no data rows"):
        hm.io.read_table(p, omic="rna")
    p.write_text(f"gene\t{S1}\t{S2}\nTP53\t1\tabc\n")
    with pytest.raises(FormatError, match=rf"t.tsv, line 2, column '{S2}': expected a number in .*'abc'"):
        hm.io.read_table(p, omic="rna")
    p.write_text("id\tTP53\nsample1\t1\nsample1\t2\n")
    with pytest.raises(FormatError, match="duplicate sample 'sample1'"):
        hm.io.read_table(p, omic="rna", orientation="samples_x_features")
    p.write_text(f"gene\t{S1}\nTP53\t1\n")
    with pytest.raises(FormatError, match="unknown omic 'protein'"):
        hm.io.read_table(p, omic="protein")
    p.write_text(f"gene\t{S1}\tTCGA-A2-A0CM-1XA\nTP53\t1\t2\n")
    with pytest.raises(FormatError, match="TCGA-A2-A0CM-1XA"):
        hm.io.read_table(p, omic="rna")
    # issue 14: an ID that is not a TCGA barcode beside barcodes is its own sample, reported, never fatal
    p.write_text(f"gene\t{S1}\tnot-a-barcode\nTP53\t1\t2\n")
    mixed = hm.io.read_table(p, omic="rna")
    assert mixed.mod["rna"]["not-a-barcode", "TP53"].X[0, 0] == 2
    rep = mixed.uns["harmonomics_report"]
    assert ((rep["item"] == "not-a-barcode") & rep["reason"].str.contains("not a TCGA barcode")).any()
    p.write_text(f"gene\t{S1}\t{S2}\nTP53\t1\t2\nESR1\t3\n")
    with pytest.raises(FormatError, match="line 3: expected 3 tab-separated fields.*truncated"):
        hm.io.read_table(p, omic="rna")


def test_detect_format_rejects_unknown(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("just some words\nand more words\n")
    with pytest.raises(UnknownFormatError, match="unknown format"):
        hm.io.detect_format(p)
    g = tmp_path / "betas.gz"
    g.write_bytes(gzip.compress(b"cg00000029\t0.5\ncg00000108\tNA\n"))
    assert hm.io.detect_format(g) == "gdc_meth_betas"
    e = tmp_path / "e.txt"
    e.write_text("")
    with pytest.raises(EmptyInputError):
        hm.io.detect_format(e)


def test_real_rnaseq10_tumours_and_normals(shared_data):
    path = shared_data / "tcga_brca_rnaseq10" / "dataBRCA_rsem_counts.tsv.gz"
    m = hm.io.read_table(path, omic="rna", sample_types="tumor_normal")
    rna = m.mod["rna"]
    assert rna.shape == (10, 20530)
    assert m.obs["sample_type"].value_counts().to_dict() == {"TP": 5, "NT": 5}
    assert (m.obs["patient"].str.len() == 12).all() and rna.obs["aliquot"].str.len().eq(28).all()
    raw = pd.read_csv(path, sep="\t", index_col=0, nrows=50)
    col = raw.columns[3]
    assert np.array_equal(rna[col[:15], raw.index[:50]].X.ravel(), raw[col].to_numpy())
    assert rna.var.loc["TSPAN6|7105", "symbol"] == "TSPAN6"
    # default policy: primary tumours only; the normals are in the report
    prim = hm.io.read_firehose(path)
    assert prim.n_obs == 5
    rep = prim.uns["harmonomics_report"]
    assert (rep["action"] == "dropped").sum() == 5
