"""read_gdc on small hand-written GDC folders: values, aliquot choice, report, and every kind of bad input."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from gdc_files import write_gdc

import harmonomics as hm
from harmonomics._errors import (
    EmptyInputError,
    FormatError,
    MixedProjectsError,
    SampleMismatchError,
    UnknownFormatError,
)


def _first(files, suffix):
    return next(k for k in files if k.endswith(suffix))


def test_reads_every_omic(gdc_folder):
    m = hm.io.read_gdc(gdc_folder)
    assert list(m.mod) == ["rna", "mirna", "meth", "cnv", "mut", "prot"]
    assert set(m.obs_names) == {"TCGA-A1-A0SB-01", "TCGA-A2-A0CM-01", "TCGA-A1-A0SH-01"}
    rna = m.mod["rna"]
    # the duplicate aliquot with the higher barcode wins; the normal is dropped by the default policy
    assert rna.obs.loc["TCGA-A1-A0SB-01", "aliquot"] == "TCGA-A1-A0SB-01A-21R-A144-07"
    assert rna["TCGA-A1-A0SB-01", "ENSG00000141510.18"].layers["counts"][0, 0] == 301
    assert rna.obs.loc["TCGA-A1-A0SB-01", "N_unmapped"] == 100
    assert "ENSG00000002586.20_PAR_Y" in rna.var_names
    assert rna.var.loc["ENSG00000252830.2", "gene_name"] == "Y_RNA"
    assert np.isclose(
        rna["TCGA-A1-A0SB-01", "ENSG00000141510.18"].layers["tpm_unstranded"][0, 0], round(301 / 361 * 1e6, 4)
    )
    meth = m.mod["meth"]
    assert meth["TCGA-A1-A0SB-01", "cg00000029"].X[0, 0] == 0.123456
    assert np.isnan(meth["TCGA-A1-A0SB-01", "cg00000108"].X[0, 0])
    cnv = m.mod["cnv"]
    assert np.isnan(cnv["TCGA-A2-A0CM-01", "ENSG00000141510.18"].X[0, 0])
    assert cnv["TCGA-A2-A0CM-01", "ENSG00000121879.6"].X[0, 0] == 8
    # RPPA: two panels joined outer
    prot = m.mod["prot"]
    assert set(prot.var_names) == {"AGID00001", "AGID00002", "AGID00003"}
    assert np.isnan(prot["TCGA-A1-A0SB-01", "AGID00003"].X[0, 0])
    assert prot["TCGA-A2-A0CM-01", "AGID00003"].X[0, 0] == 2.25
    assert m.mod["mirna"].layers["rpm"][0, 0] == 5000.123456
    # mutations: only protein-altering count; a sample with only an intron variant is an all-zero row
    mut = m.mod["mut"]
    assert mut["TCGA-A1-A0SB-01", "TP53"].X[0, 0] == 1
    assert mut["TCGA-A1-A0SB-01", "PIK3CA"].X[0, 0] == 0  # silent
    assert mut["TCGA-A2-A0CM-01", "PIK3CA"].X[0, 0] == 1
    assert mut["TCGA-A1-A0SH-01"].X.sum() == 0
    maf = mut.uns["maf"]
    assert len(maf) == 4 and set(maf["Variant_Classification"]) >= {"Silent", "Intron"}
    # clinical: several rows per case, '-- missing, survival
    obs = m.obs
    assert obs.loc["TCGA-A2-A0CM-01", "os_time"] == 500 and obs.loc["TCGA-A2-A0CM-01", "os_event"] == 1
    assert obs.loc["TCGA-A1-A0SB-01", "os_time"] == 1000 and obs.loc["TCGA-A1-A0SB-01", "os_event"] == 0
    assert obs.loc["TCGA-A1-A0SH-01", "os_time"] == 800
    assert np.isnan(obs.loc["TCGA-A1-A0SH-01", "age"])
    assert list(m.obs["sample_type"].unique()) == ["TP"]


def test_report_lists_every_file_aliquot_and_sample(gdc_folder):
    m = hm.io.read_gdc(gdc_folder)
    rep = m.uns["harmonomics_report"]
    assert list(rep.columns) == ["level", "item", "omic", "sample", "action", "reason"]
    dropped = rep[rep["action"] == "dropped"]
    assert "TCGA-A1-A0SB-01A-11R-A144-07" in set(dropped["item"])  # duplicate
    assert "TCGA-A2-A0CM-11A-22R-A034-07" in set(dropped["item"])  # normal
    assert "TCGA-B6-A0AA" in set(dropped["item"])  # clinical-only patient
    data_files = [p for p in gdc_folder.rglob("*") if p.is_file() and p.parent != gdc_folder]
    assert len(rep[rep["level"] == "file"]) >= len(data_files)
    prov = m.uns["harmonomics"]
    assert prov["reader"] == "harmonomics.io.read_gdc"
    files = prov["files"]
    assert len(files) == len([p for p in gdc_folder.rglob("*") if p.is_file()])
    assert files["md5"].str.len().eq(32).all() and (files["size"] > 0).all()


def test_normals_kept_as_own_samples(gdc_folder):
    m = hm.io.read_gdc(gdc_folder, sample_types="tumor_normal")
    assert "TCGA-A2-A0CM-11" in m.mod["rna"].obs_names
    assert m.obs.loc["TCGA-A2-A0CM-11", "sample_type"] == "NT"
    # clinical columns come from the patient
    assert m.obs.loc["TCGA-A2-A0CM-11", "os_time"] == 500


def test_intersection_join(gdc_folder):
    m = hm.io.read_gdc(gdc_folder, omics=("rna", "mut"), join="intersection")
    assert set(m.obs_names) == {"TCGA-A1-A0SB-01", "TCGA-A2-A0CM-01"}
    rep = m.uns["harmonomics_report"]
    assert ((rep["item"] == "TCGA-A1-A0SH-01") & (rep["action"] == "dropped")).any()


def test_misnamed_file_read_by_content(tmp_path):
    def rename(files):
        key = _first(files, ".mirbase21.mirnas.quantification.txt")
        files[key.replace("mirnas.quantification", "level3betas")] = files.pop(key)
        sheet = files["gdc_sample_sheet.2024-06-01.tsv"]
        files["gdc_sample_sheet.2024-06-01.tsv"] = sheet.replace("mirnas.quantification", "level3betas")
        files["metadata.cart.2024-06-01.json"] = files["metadata.cart.2024-06-01.json"].replace(
            "mirnas.quantification", "level3betas"
        )

    m = hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=rename))
    assert m.mod["mirna"].n_obs == 1
    rep = m.uns["harmonomics_report"]
    assert (rep["action"] == "renamed").sum() == 1


def test_detect_format_by_content(gdc_folder):
    kinds = {hm.io.detect_format(p) for p in gdc_folder.rglob("*") if p.is_file()}
    assert kinds == {
        "gdc_star_counts",
        "gdc_maf",
        "gdc_meth_betas",
        "gdc_gene_copy_number",
        "gdc_rppa",
        "gdc_mirna",
        "gdc_sample_sheet",
        "gdc_metadata",
        "gdc_clinical",
    }


# ---------------------------------------------------------------------------------------------- bad input
def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyInputError, match="no files"):
        hm.io.read_gdc(tmp_path / "empty")


def test_empty_file(tmp_path):
    def empty(files):
        files[_first(files, "level3betas.txt")] = ""

    with pytest.raises(EmptyInputError, match="level3betas.txt.*empty"):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=empty))


def test_truncated_star_file_names_line(tmp_path):
    def truncate(files):
        key = _first(files, "star_gene_counts.tsv")
        files[key] = files[key][: files[key].rfind("\t", 0, len(files[key]) - 30)]

    with pytest.raises(FormatError, match=r"star_gene_counts.tsv, line 13: expected 9 tab-separated.*truncated"):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=truncate))


def test_star_file_with_missing_rows_is_truncated(tmp_path):
    def cut(files):
        key = _first(files, "star_gene_counts.tsv")
        files[key] = "\n".join(files[key].split("\n")[:-3]) + "\n"

    with pytest.raises(FormatError, match="looks truncated"):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=cut))


def test_truncated_gzip(tmp_path):
    def cut(files):
        key = _first(files, ".maf.gz")
        files[key] = files[key][: len(files[key]) // 2]

    with pytest.raises(FormatError, match="maf.gz.*gzip stream is truncated"):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=cut))


def test_wrong_header(tmp_path):
    def bad(files):
        key = _first(files, "star_gene_counts.tsv")
        files[key] = files[key].replace("unstranded\tstranded_first", "counts\tstranded_first")

    with pytest.raises(FormatError, match=r"line 2: wrong header for a GDC STAR.*missing column\(s\) \['unstranded'\]"):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=bad))


def test_value_not_a_number(tmp_path):
    def bad(files):
        for key in [k for k in files if k.endswith("RPPA_data.tsv")]:
            files[key] = files[key].replace("-1.5", "high")

    with pytest.raises(
        FormatError, match=r"RPPA_data.tsv, line 2, column 'protein_expression': expected a number.*'high'"
    ):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=bad))


def test_beta_out_of_range(tmp_path):
    def bad(files):
        key = _first(files, "level3betas.txt")
        files[key] = files[key].replace("0.987654", "1.5")

    with pytest.raises(FormatError, match=r"line 3.*expected a beta value in \[0, 1\]"):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=bad))


def test_barcode_disagrees_with_sample_sheet(tmp_path):
    def bad(files):
        meta = json.loads(files["metadata.cart.2024-06-01.json"])
        meta[0]["associated_entities"][0]["entity_submitter_id"] = "TCGA-A1-A0SB-01B-11R-A144-07"
        files["metadata.cart.2024-06-01.json"] = json.dumps(meta)

    with pytest.raises(SampleMismatchError, match=r"gdc_sample_sheet.*line 2.*TCGA-A1-A0SB-01A.*TCGA-A1-A0SB-01B-11R"):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=bad))


def test_maf_barcode_disagrees(tmp_path):
    def bad(files):
        key = _first(files, ".maf.gz")
        text = (
            gzip.decompress(files[key]).decode().replace("TCGA-A1-A0SB-01A-11D-A142-09", "TCGA-A1-A0SB-01A-11D-A999-09")
        )
        files[key] = gzip.compress(text.encode())

    with pytest.raises(SampleMismatchError, match="Tumor_Sample_Barcode 'TCGA-A1-A0SB-01A-11D-A999-09'"):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=bad))


def test_two_projects_mixed(tmp_path):
    def bad(files):
        lines = files["gdc_sample_sheet.2024-06-01.tsv"].split("\n")
        lines[3] = lines[3].replace("TCGA-BRCA", "TCGA-LUAD")
        files["gdc_sample_sheet.2024-06-01.tsv"] = "\n".join(lines)

    with pytest.raises(MixedProjectsError, match=r"mixes 2 projects.*TCGA-LUAD: 1 entries.*line 4"):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=bad))


def test_unknown_format(tmp_path):
    def bad(files):
        files["notes/readme.txt"] = "This folder holds my downloads.\nNothing else.\n"

    folder = write_gdc(tmp_path / "g", mutate=bad)
    with pytest.raises(UnknownFormatError, match=r"readme.txt, line 1: unknown format"):
        hm.io.read_gdc(folder)
    m = hm.io.read_gdc(folder, strict=False)
    rep = m.uns["harmonomics_report"]
    assert ((rep["action"] == "dropped") & rep["item"].str.endswith("readme.txt")).any()


def test_unknown_ids_file_without_sample(tmp_path):
    """A data file that neither the sheet nor the metadata knows is reported, not silently dropped."""

    def bad(files):
        files["99999999-0000-4000-8000-000000000000/x.methylation_array.sesame.level3betas.txt"] = "cg1\t0.5\n"

    m = hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=bad))
    rep = m.uns["harmonomics_report"]
    row = rep[rep["item"].str.endswith("x.methylation_array.sesame.level3betas.txt")]
    assert list(row["action"]) == ["dropped"] and "cannot tell which sample" in row["reason"].iloc[0]


def test_malformed_barcode(tmp_path):
    def bad(files):
        text = files["metadata.cart.2024-06-01.json"].replace("TCGA-A2-A0CM-01A-31R-A034-07", "TCGA-A2-A0CM-0XA-31R")
        files["metadata.cart.2024-06-01.json"] = text
        files["gdc_sample_sheet.2024-06-01.tsv"] = files["gdc_sample_sheet.2024-06-01.tsv"]

    with pytest.raises(ValueError, match="TCGA-A2-A0CM-0XA"):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=bad))


def test_duplicate_gene_ids(tmp_path):
    def bad(files):
        key = _first(files, "mirnas.quantification.txt")
        files[key] = files[key].replace("hsa-mir-21", "hsa-let-7a-1")

    with pytest.raises(FormatError, match="duplicate feature 'hsa-let-7a-1'"):
        hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=bad))


def test_duplicate_aliquot_files_reported(tmp_path):
    """The same aliquot in two files: one is kept, the other reported."""

    def dup(files):
        key = _first(files, "level3betas.txt")
        fid, name = key.split("/")
        files[f"21111111-0000-4000-8000-000000000000/{name}"] = files[key]
        meta = json.loads(files["metadata.cart.2024-06-01.json"])
        rec = dict(next(r for r in meta if r["file_id"] == fid))
        rec["file_id"] = "21111111-0000-4000-8000-000000000000"
        meta.append(rec)
        files["metadata.cart.2024-06-01.json"] = json.dumps(meta)

    m = hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=dup), sample_types="all")
    rep = m.uns["harmonomics_report"]
    assert (rep["reason"].str.contains("the same aliquot is also in")).sum() == 1


def test_manifest_md5_mismatch(tmp_path):
    """A file whose md5 differs from the download manifest is reported as corrupt or truncated."""
    import hashlib

    def with_manifest(files, corrupt):
        rows = ["id\tfilename\tmd5\tsize\tstate"]
        for key, content in files.items():
            if "/" in key:
                raw = content.encode() if isinstance(content, str) else content
                fid, name = key.split("/")
                rows.append(f"{fid}\t{name}\t{hashlib.md5(raw).hexdigest()}\t{len(raw)}\treleased")
        files["gdc_manifest.2024-06-01.txt"] = "\n".join(rows) + "\n"
        if corrupt:
            key = _first(files, "level3betas.txt")
            files[key] = files[key].replace("0.123456", "0.123457")

    ok = hm.io.read_gdc(write_gdc(tmp_path / "ok", mutate=lambda f: with_manifest(f, False)))
    assert ok.mod["meth"].n_obs == 2
    with pytest.raises(FormatError, match=r"level3betas.txt: md5 .* differs from .* download manifest .*line \d+"):
        hm.io.read_gdc(write_gdc(tmp_path / "bad", mutate=lambda f: with_manifest(f, True)))


def test_copy_number_segments_kept(tmp_path):
    def add_segments(files):
        fid = "60000000-0000-4000-8000-000000000000"
        files[f"{fid}/TCGA-BRCA.{fid}.ascat3.allelic_specific.seg.txt"] = (
            "GDC_Aliquot\tChromosome\tStart\tEnd\tCopy_Number\tMajor_Copy_Number\tMinor_Copy_Number\n"
            "TCGA-A2-A0CM-01A-31D-A034-01\tchr1\t1\t1000\t3\t2\t1\n"
            "TCGA-A2-A0CM-01A-31D-A034-01\tchr2\t1\t5000\t2\t1\t1\n"
        )

    m = hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=add_segments))
    seg = m.mod["cnv"].uns["segments"]
    assert list(seg["Copy_Number"]) == [3, 2] and set(seg["aliquot"]) == {"TCGA-A2-A0CM-01A-31D-A034-01"}


def test_older_layouts(tmp_path):
    """Flat clinical column names, the older sample-sheet columns and a MAF with fewer columns are read."""

    def older(files):
        clin = files["clinical.tsv"].split("\n")
        clin[0] = (
            "project_id\tcase_submitter_id\tvital_status\tdays_to_death\tdays_to_last_follow_up\t"
            "ajcc_pathologic_stage\tage_at_index\ttreatment_type"
        )
        files["clinical.tsv"] = "\n".join(clin)
        sheet = files["gdc_sample_sheet.2024-06-01.tsv"].split("\n")
        sheet[0] = "File ID\tFile Name\tData Category\tData Type\tProject ID\tCase ID\tSample ID\tSample Type"
        files["gdc_sample_sheet.2024-06-01.tsv"] = "\n".join("\t".join(r.split("\t")[:8]) for r in sheet)
        key = _first(files, ".maf.gz")
        lines = gzip.decompress(files[key]).decode().split("\n")
        body = [ln for ln in lines if not ln.startswith("#")]
        cols = body[0].split("\t")
        keep = [cols.index(c) for c in ("Hugo_Symbol", "Variant_Classification", "Tumor_Sample_Barcode")]
        files[key] = gzip.compress("\n".join("\t".join(r.split("\t")[i] for i in keep) for r in body if r).encode())

    m = hm.io.read_gdc(write_gdc(tmp_path / "g", mutate=older))
    assert m.obs.loc["TCGA-A2-A0CM-01", "os_time"] == 500 and m.obs.loc["TCGA-A2-A0CM-01", "stage"] == "Stage IIIA"
    assert m.mod["mut"]["TCGA-A1-A0SB-01", "TP53"].X[0, 0] == 1


def test_without_metadata_or_sheet(tmp_path):
    def no_meta(files):
        del files["metadata.cart.2024-06-01.json"]

    m = hm.io.read_gdc(write_gdc(tmp_path / "a", mutate=no_meta))
    assert m.mod["rna"].obs.loc["TCGA-A1-A0SB-01", "aliquot"] == "TCGA-A1-A0SB-01A"  # vial level only
    assert m.mod["mut"].n_obs == 3
    rep = m.uns["harmonomics_report"]
    assert rep["reason"].str.contains("no metadata JSON record").any()

    def neither(files):
        del files["metadata.cart.2024-06-01.json"]
        del files["gdc_sample_sheet.2024-06-01.tsv"]

    # the MAFs name their tumour aliquot; every other file is reported as unmatched
    m = hm.io.read_gdc(write_gdc(tmp_path / "b", mutate=neither))
    assert list(m.mod) == ["mut"]
    rep = m.uns["harmonomics_report"]
    assert rep["reason"].str.contains("cannot tell which sample").sum() == 10  # 4 rna, 2 meth, 1 cnv, 2 prot, 1 mirna

    def only_star(files):
        neither(files)
        for key in [k for k in files if not k.endswith("star_gene_counts.tsv")]:
            del files[key]

    with pytest.raises(FormatError, match="no data file could be matched to a sample"):
        hm.io.read_gdc(write_gdc(tmp_path / "c", mutate=only_star))


@pytest.mark.parametrize("chunk_bytes", [1 << 10, 1 << 25])
def test_same_store_serial_threaded_and_in_small_chunks(gdc_folder, monkeypatch, chunk_bytes):
    """One thread or several, one chunk or a chunk per file: the store and its report are the same."""
    import harmonomics.io._gdc as gdc

    reference = hm.io.read_gdc(gdc_folder)
    monkeypatch.setattr(gdc, "_CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(hm.settings, "n_jobs", 1)
    other = hm.io.read_gdc(gdc_folder)
    assert list(other.mod) == list(reference.mod)
    for name, mod in reference.mod.items():
        assert list(other.mod[name].obs_names) == list(mod.obs_names)
        assert list(other.mod[name].var_names) == list(mod.var_names)
        np.testing.assert_array_equal(np.asarray(other.mod[name].X), np.asarray(mod.X))
        assert list(other.mod[name].var.columns) == list(mod.var.columns)
    report, other_report = reference.uns["harmonomics_report"], other.uns["harmonomics_report"]
    assert (
        report.sort_values(list(report.columns)).to_numpy().tolist()
        == other_report.sort_values(list(report.columns)).to_numpy().tolist()
    )
