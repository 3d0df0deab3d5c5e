"""Tests of hm.datasets.write_synthetic_cohort: determinism, the planted mess, truth consistency, spot checks
read back with an independent parser, and the planted biology."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonomics.datasets._synthetic import SyntheticCohort, write_synthetic_cohort

_CPU_SECONDS: dict[str, float] = {}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> SyntheticCohort:
    t0 = time.process_time()
    out = write_synthetic_cohort(tmp_path_factory.mktemp("syn") / "cohort", n_patients=100, seed=3)
    _CPU_SECONDS["100"] = time.process_time() - t0
    return out


def _tsv(path: Path, **kw) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, **kw)


def _truth(cohort, name) -> pd.DataFrame:
    return _tsv(cohort.truth / name)


def _sheet(cohort) -> pd.DataFrame:
    return _tsv(next(cohort.gdc.glob("gdc_sample_sheet.*.tsv")))


# ------------------------------------------------------------------ independent mini parser
def _lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode().rstrip("\n").split("\n")


_PARSED: dict[Path, tuple[list[str], list[list[str]]]] = {}


def _parse(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a tab-separated file, leading '#' lines skipped; checks the row widths."""
    if path not in _PARSED:
        body = [x for x in _lines(path) if not x.startswith("#")]
        header = body[0].split("\t")
        rows = [x.split("\t") for x in body[1:]]
        for row in rows:
            assert len(row) == len(header), f"{path}: row of {len(row)} cells under a header of {len(header)}"
        _PARSED[path] = (header, rows)
    return _PARSED[path]


def _read_cell(root: Path, spot: dict) -> str:
    path = root / spot["path"]
    if spot["key_column"] == "":  # header-less methylation: probe, beta
        for line in _lines(path):
            probe, beta = line.split("\t")
            if probe == spot["feature"]:
                return beta
        raise AssertionError(f"{spot['feature']} not in {path}")
    header, rows = _parse(path)
    ki = header.index(spot["key_column"])
    ci = header.index(spot["column"])
    hits = [r for r in rows if r[ki] == spot["feature"]]
    if spot["layout"] == "cbioportal" and spot["omic"] == "mut":
        ti = header.index("Tumor_Sample_Barcode")
        hits = [r for r in hits if r[ti] == spot["sample"]]
    if spot["layout"] == "gdc" and spot["omic"] == "clinical":
        values = {r[ci] for r in hits}
        assert len(values) == 1, f"case-level column {spot['column']} differs between rows: {values}"
    assert hits, f"{spot['feature']} not found in column {spot['key_column']} of {path}"
    if spot["layout"] != "gdc" or spot["omic"] != "clinical":
        assert len(hits) == 1, f"{spot['feature']} is not unique in {path}"
    return hits[0][ci]


# ------------------------------------------------------------------ tests
def test_returns_paths(cohort):
    import harmonomics as hm

    assert hm.datasets.write_synthetic_cohort.__wrapped__ is write_synthetic_cohort
    assert isinstance(cohort, SyntheticCohort)
    for name in ("root", "gdc", "cbioportal", "xena", "firehose", "truth"):
        assert cohort[name].is_dir()
    assert set(cohort.as_dict()) == {"root", "gdc", "cbioportal", "xena", "firehose", "truth"}
    assert cohort.params["n_patients"] == 100
    with pytest.raises(KeyError):
        cohort["nope"]


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_deterministic(tmp_path):
    kw = dict(n_patients=20, n_genes=900, n_mirnas=40, n_probes=120)
    a = write_synthetic_cohort(tmp_path / "a", seed=7, **kw)
    b = write_synthetic_cohort(tmp_path / "b", seed=7, **kw)
    c = write_synthetic_cohort(tmp_path / "c", seed=8, **kw)
    da, db, dc = _digest(a.root), _digest(b.root), _digest(c.root)
    assert da == db
    assert len(da) > 100
    assert da["truth/patients.tsv"] != dc["truth/patients.tsv"]


def test_gdc_mess_present(cohort, shared_data):
    sheet = _sheet(cohort)
    assert list(sheet.columns) == [
        "File ID",
        "File Name",
        "Data Category",
        "Data Type",
        "Project ID",
        "Case ID",
        "Sample ID",
        "Tissue Type",
        "Tumor Descriptor",
        "Specimen Type",
        "Preservation Method",
    ]
    single = sheet[~sheet["Sample ID"].str.contains(",")]
    assert single["Sample ID"].str.len().eq(16).all()
    codes = single["Sample ID"].str[13:16]
    assert {"01A", "01B", "11A", "06A"} <= set(codes)
    rna = single[single["Data Type"] == "Gene Expression Quantification"]
    assert rna["Sample ID"].str[:15].duplicated().any()  # duplicate aliquots of one sample
    multi = sheet[sheet["Sample ID"].str.contains(", ")]
    assert set(multi["Data Type"]) == {"Masked Somatic Mutation", "Gene Level Copy Number"}
    # a tumour–normal pair's file lists both samples in one row, in either order, as GDC does
    pairs = [s.split(", ") for s in multi["Sample ID"]]
    assert all(sorted(x[13:15] for x in pair) == ["01", "10"] for pair in pairs)
    normal_first = [pair[0][13:15] == "10" for pair in pairs]
    assert any(normal_first) and not all(normal_first)
    for row in multi.itertuples():  # the other cells follow the same order
        tissue = row._8.split(", ")
        assert tissue == (["Normal", "Tumor"] if row._7.split(", ")[0][13:15] == "10" else ["Tumor", "Normal"])
    # patients missing an omic and clinical-only patients
    pts = _truth(cohort, "patients.tsv")
    clinical_only = set(pts.loc[pts["clinical_only"] == "1", "patient"])
    assert clinical_only and not clinical_only & set(sheet["Case ID"].str[:12])
    for dtype in (
        "Gene Expression Quantification",
        "Methylation Beta Value",
        "Protein Expression Quantification",
    ):
        with_data = set(sheet.loc[sheet["Data Type"] == dtype, "Case ID"].str[:12])
        assert len(with_data) < len(pts) - len(clinical_only)
    # STAR file
    path = cohort.gdc / rna["File ID"].iat[0] / rna["File Name"].iat[0]
    lines = _lines(path)
    assert lines[0] == "# gene-model: GENCODE v36"
    assert lines[1].split("\t")[3:6] == ["unstranded", "stranded_first", "stranded_second"]
    assert [x.split("\t")[0] for x in lines[2:6]] == [
        "N_unmapped",
        "N_multimapping",
        "N_noFeature",
        "N_ambiguous",
    ]
    assert lines[2].split("\t")[6:] == ["", "", ""]
    genes = [x.split("\t") for x in lines[6:]]
    assert all(g[0].startswith("ENSG") and "." in g[0] for g in genes)
    assert any(g[0].endswith("_PAR_Y") for g in genes)
    names = pd.Series([g[1] for g in genes])
    assert names.duplicated().any()
    assert all(len(g[6].split(".")[1]) == 4 for g in genes)
    assert "ENSG00000141736" in {g[0].split(".")[0] for g in genes}  # ERBB2's real ID
    # clinical
    clin = _tsv(cohort.gdc / "clinical.tsv")
    assert "cases.submitter_id" in clin.columns and "demographic.vital_status" in clin.columns
    assert (clin == "'--").any().any()
    assert clin["cases.submitter_id"].duplicated().any()
    assert set(clin["cases.submitter_id"]) == set(pts["patient"])
    # MAF
    maf = sheet[sheet["Data Type"] == "Masked Somatic Mutation"].iloc[0]
    lines = _lines(cohort.gdc / maf["File ID"] / maf["File Name"])
    assert lines[0] == "#version gdc-1.0.0"
    header = next(x for x in lines if not x.startswith("#")).split("\t")
    expected = (shared_data / "formats" / "gdc_masked_maf_columns.tsv").read_text().strip().split("\t")
    assert header == expected and len(header) == 140
    # RPPA panels differ between batches
    rppa = sheet[sheet["Data Type"] == "Protein Expression Quantification"]
    panels = {}
    for fid, fname in zip(rppa["File ID"], rppa["File Name"], strict=True):
        t = _tsv(cohort.gdc / fid / fname)
        panels.setdefault(t["set_id"].iat[0], set(t["AGID"]))
    assert len(panels) == 2
    a, b = panels.values()
    assert a != b and len(a & b) > 0.8 * len(a)
    assert rppa["Sample ID"].str.len().eq(16).all()


def test_metadata_manifest(cohort):
    sheet = _sheet(cohort)
    meta = json.loads(next(cohort.gdc.glob("metadata.cart.*.json")).read_text())
    manifest = _tsv(next(cohort.gdc.glob("gdc_manifest.*.txt")))
    assert list(manifest.columns) == ["id", "filename", "md5", "size", "state"]
    assert len(meta) == len(sheet) == len(manifest)
    by_id = {m["file_id"]: m for m in meta}
    for row in manifest.iloc[::25].itertuples():
        data = (cohort.gdc / row.id / row.filename).read_bytes()
        assert hashlib.md5(data).hexdigest() == row.md5 == by_id[row.id]["md5sum"]
        assert len(data) == int(row.size) == by_id[row.id]["file_size"]
    rppa = [m for m in meta if m["data_type"] == "Protein Expression Quantification"]
    assert all(len(e["entity_submitter_id"]) == 27 for m in rppa for e in m["associated_entities"])
    rna = [m for m in meta if m["data_type"] == "Gene Expression Quantification"]
    assert all(len(m["associated_entities"][0]["entity_submitter_id"]) == 28 for m in rna)


def _rank(aliquot: str):
    """Independent restatement of the FORMATS.md choice rules: larger is better."""
    analyte = aliquot[19]
    order = {"H": 3, "R": 2, "T": 1, "D": 3, "G": 1, "W": 1, "X": 1}
    return (aliquot[15] == "A", order.get(analyte, 0), aliquot)


def test_truth_aliquots_consistent(cohort):
    meta = json.loads(next(cohort.gdc.glob("metadata.cart.*.json")).read_text())
    entity = {}
    for m in meta:  # a pair's file lists the tumour and the matched normal, in either order
        for e in m["associated_entities"]:
            if e["entity_submitter_id"][13:15] != "10":
                entity[e["entity_submitter_id"]] = m
    chosen = _truth(cohort, "chosen_aliquots.tsv")
    dropped = _truth(cohort, "dropped_aliquots.tsv")
    assert not chosen.duplicated(["layout", "omic", "sample"]).any()
    assert set(dropped["reason"]) == {"vial", "analyte", "barcode_order"}
    g = chosen[chosen["layout"] == "gdc"]
    for row in g.itertuples():
        m = entity[row.aliquot]
        assert m["file_id"] == row.file_id and m["file_name"] == row.file_name
        assert (cohort.gdc / row.file_id / row.file_name).is_file()
        assert row.aliquot[:15] == row.sample
    # re-derive every choice independently
    alls = pd.concat(
        [
            g[["omic", "sample", "aliquot"]],
            dropped.loc[dropped["layout"] == "gdc", ["omic", "sample", "aliquot"]],
        ]
    )
    for (omic, sample), grp in alls.groupby(["omic", "sample"]):
        if omic == "prot":
            continue
        best = max(grp["aliquot"], key=_rank)
        assert best == g.loc[(g["omic"] == omic) & (g["sample"] == sample), "aliquot"].iat[0]
    assert len(dropped[dropped["layout"] == "gdc"]) >= 8
    # the non-primary samples are recorded
    samples = _truth(cohort, "samples.tsv")
    assert {"01", "06", "11"} <= set(samples["sample_type_code"])


def test_spot_checks_read_back(cohort):
    spots = _truth(cohort, "spot_checks.tsv")
    assert len(spots) >= 300
    covered = set(zip(spots["layout"], spots["omic"], strict=True))
    for layout in ("gdc", "cbioportal", "xena"):
        for omic in ("rna", "mirna", "meth", "cnv", "mut", "prot", "clinical"):
            assert (layout, omic) in covered, (layout, omic)
    assert ("firehose", "rna") in covered
    failures = []
    for spot in spots.to_dict("records"):
        got = _read_cell(cohort.root, spot)
        if got != spot["expected"]:
            failures.append((spot, got))
    assert not failures, failures[:3]


def test_layouts_agree(cohort):
    pts = _truth(cohort, "patients.tsv").set_index("patient")
    samples = _truth(cohort, "samples.tsv")
    csample = _tsv(cohort.cbioportal / "data_clinical_sample.txt", comment="#")
    assert set(csample["SAMPLE_ID"]) == set(samples.loc[samples["in_cbioportal"] == "1", "sample"])
    assert (csample["SUBTYPE"] == "BRCA_" + pts.loc[csample["PATIENT_ID"], "subtype"].to_numpy()).all()
    cpat = _tsv(cohort.cbioportal / "data_clinical_patient.txt", comment="#").set_index("PATIENT_ID")
    days = cpat["OS_MONTHS"].astype(float) * 30.436875
    assert np.allclose(days, pts.loc[cpat.index, "os_time_days"].astype(float), atol=0.2)
    assert (cpat["OS_STATUS"].str[0] == pts.loc[cpat.index, "os_event"]).all()
    xclin = _tsv(cohort.xena / "BRCA_clinicalMatrix").set_index("sampleID")
    prim = xclin[xclin.index.str.endswith("-01")]
    assert (prim["PAM50Call_RNAseq"] == pts.loc[prim["_PATIENT"], "subtype"].to_numpy()).all()
    assert (xclin.loc[xclin.index.str.endswith("-11"), "PAM50Call_RNAseq"] == "").all()
    # the same RNA values in cBioPortal, Xena and Firehose for primary samples
    cb = pd.read_csv(cohort.cbioportal / "data_mrna_seq_v2_rsem.txt", sep="\t", index_col=1).drop(columns="Hugo_Symbol")
    xe = pd.read_csv(cohort.xena / "HiSeqV2", sep="\t", index_col=0)
    fh = pd.read_csv(cohort.firehose / "BRCA.uncv2.mRNAseq_RSEM_normalized_log2.txt", sep="\t", index_col=0)
    genes = _truth(cohort, "genes.tsv")
    erbb2 = genes.loc[genes["gene_name"] == "ERBB2", "entrez"].iat[0]
    common = [s for s in cb.columns if s in xe.columns]
    assert len(common) == len(cb.columns)
    assert np.allclose(np.log2(cb.loc[int(erbb2), common].astype(float) + 1), xe.loc["ERBB2", common], atol=2e-4)
    assert np.allclose(fh.loc[f"ERBB2|{erbb2}", common], xe.loc["ERBB2", common], atol=1e-9)
    assert any(i.startswith("?|") for i in fh.index)
    assert (cb.index.astype(str).isin(genes["entrez"])).all()


def test_pam50_expression_follows_centroids(cohort, shared_data):
    cent = pd.read_csv(shared_data / "pam50" / "pam50_centroids.tsv", sep="\t", index_col=0)
    xe = pd.read_csv(cohort.xena / "HiSeqV2", sep="\t", index_col=0)
    pts = _truth(cohort, "patients.tsv").set_index("patient")
    cols = [c for c in xe.columns if c.endswith("-01")]
    x = xe.loc[cent.index, cols]
    x = x.sub(x.median(axis=1), axis=0)
    rx = x.rank().to_numpy()  # Spearman = Pearson on ranks
    rc = cent.rank().to_numpy()
    rx = (rx - rx.mean(0)) / rx.std(0)
    rc = (rc - rc.mean(0)) / rc.std(0)
    corr = pd.DataFrame(rx.T @ rc / len(rx), index=cols, columns=cent.columns)
    names = {"basal": "Basal", "her2": "Her2", "luminal_a": "LumA", "luminal_b": "LumB", "normal": "Normal"}
    call = corr.idxmax(axis=1).map(names)
    truth = pts.loc[[c[:12] for c in cols], "subtype"].to_numpy()
    assert (call.to_numpy() == truth).mean() > 0.75
    own = np.array([corr.loc[c, {v: k for k, v in names.items()}[t]] for c, t in zip(cols, truth, strict=True)])
    assert np.median(own) > 0.4


def test_immune_stromal_and_drivers(cohort):
    xe = pd.read_csv(cohort.xena / "HiSeqV2", sep="\t", index_col=0)
    pts = _truth(cohort, "patients.tsv").set_index("patient")
    cols = [c for c in xe.columns if c.endswith("-01")]
    immune = xe.loc[["GZMA", "PRF1", "CD8A", "CD274", "CXCL9", "LAG3"], cols].mean()
    assert np.corrcoef(immune, pts.loc[[c[:12] for c in cols], "immune_level"].astype(float))[0, 1] > 0.7
    stromal = xe.loc[["DCN", "COL1A1", "COL3A1"], cols].mean()
    assert np.corrcoef(stromal, pts.loc[[c[:12] for c in cols], "stromal_level"].astype(float))[0, 1] > 0.6
    muts = _truth(cohort, "mutations.tsv")
    sub = pts["subtype"]
    tp53 = set(muts.loc[muts["gene"] == "TP53", "patient"])
    seq = set(muts["patient"])
    rate = {s: np.mean([p in tp53 for p in seq if sub[p] == s]) for s in ("Basal", "LumA")}
    assert rate["Basal"] > rate["LumA"] + 0.3
    cna = pd.read_csv(cohort.cbioportal / "data_cna.txt", sep="\t", index_col=0).drop(columns="Entrez_Gene_Id")
    amp = cna.loc["ERBB2"] == 2
    her2 = sub[[c[:12] for c in cna.columns]].to_numpy() == "Her2"
    assert amp[her2].mean() > 0.5 > amp[~her2].mean() + 0.3
    # truth factors and R²
    z = _truth(cohort, "factors.tsv")
    assert list(z.columns[:2]) == ["patient", "sample"] and len(z.columns) == 7
    assert np.allclose(z["Z2_immune"].astype(float), pts.loc[z["patient"], "immune_level"].astype(float))
    r2 = _truth(cohort, "r2.tsv")
    vals = r2["r2"].astype(float)
    assert ((vals > -1e-9) & (vals <= 1)).all()
    params = json.loads((cohort.truth / "params.json").read_text())
    assert params["survival"]["hazard_ratio"]["subtype[Basal]"] == 2.0


def test_clean_subset(tmp_path):
    c = write_synthetic_cohort(
        tmp_path / "c",
        n_patients=15,
        seed=1,
        omics=("rna", "mut"),
        layouts=("gdc",),
        mess=False,
        n_genes=800,
        n_factors=6,
        annotations=True,
    )
    assert c.cbioportal is None and c.xena is None and c.firehose is None
    sheet = _sheet(c)
    # annotations.txt beside some files, never listed in the sheet
    notes = list(c.gdc.glob("*/annotations.txt"))
    assert notes and all(p.parent.name in set(sheet["File ID"]) for p in notes)
    assert "annotations.txt" not in set(sheet["File Name"])
    assert set(sheet["Data Type"]) == {"Gene Expression Quantification", "Masked Somatic Mutation"}
    assert len(sheet) == 30
    assert _truth(c, "dropped_aliquots.tsv").empty
    assert set(_truth(c, "samples.tsv")["sample_type_code"]) == {"01"}
    assert list(_truth(c, "factors.tsv").columns[2:]) == [
        "Z1_subtype",
        "Z2_immune",
        "Z3_stromal",
        "Z4_survival",
        "Z5_free",
        "Z6_free",
    ]
    assert _truth(c, "patients.tsv")["clinical_only"].eq("0").all()


def test_timing_100_patients(cohort):
    # CPU time of the module fixture's 100-patient cohort (wall time depends on the machine's load)
    assert _CPU_SECONDS["100"] < 6.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"layouts": ("gdc", "tcga")}, "unknown layout"),
        ({"omics": ("rna", "atac")}, "unknown or no omics"),
        ({"omics": ()}, "unknown or no omics"),
        ({"n_patients": 5}, "n_patients"),
        ({"n_patients": 20.5}, "n_patients"),
        ({"n_genes": 100}, "n_genes"),
        ({"n_factors": 3}, "n_factors"),
        ({"seed": -1}, "seed"),
        ({"compresslevel": 12}, "compresslevel"),
    ],
)
def test_bad_input(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        write_synthetic_cohort(tmp_path / "x", **kwargs)


def test_refuses_non_empty_folder(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        write_synthetic_cohort(tmp_path / "busy", n_patients=10)
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        write_synthetic_cohort(tmp_path / "f", n_patients=10)
