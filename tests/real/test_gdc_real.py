"""GDC, MAF and segment readers on files that other projects and the portals' own tools wrote.

GDC download folders are assembled here from real file contents (GDC's own STAR tool output, BCGSC's miRNA
quantification, maftools' legacy TCGA MAFs) with a sample sheet, metadata JSON and manifest in the layouts of
../shared/FORMATS.md. Every value is compared with the raw file's cell, read with pandas.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import GenomeBuildError

SHEET_COLUMNS = [
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
PATIENT = "TCGA-A8-A08B"  # the patient of maftools' brca.maf.gz
STAR_ALIQUOT = f"{PATIENT}-01A-11R-A00Z-07"
MIRNA_ALIQUOT = f"{PATIENT}-01A-11R-A00Y-13"
PROTEIN_ALTERING = {
    "Missense_Mutation",
    "Nonsense_Mutation",
    "Frame_Shift_Del",
    "Frame_Shift_Ins",
    "In_Frame_Del",
    "In_Frame_Ins",
    "Splice_Site",
    "Translation_Start_Site",
    "Nonstop_Mutation",
}  # FORMATS.md


def _raw(path, **kw) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, **kw)


@pytest.fixture(scope="module")
def real(shared_data):
    return shared_data / "real_files"


@pytest.fixture(scope="module")
def gdc_download(real, tmp_path_factory):
    """A GDC download of one patient: GDC's STAR file, BCGSC's miRNA file and a MAF listed as a tumour–normal
    pair with the normal first (as GDC may list it)."""
    root = tmp_path_factory.mktemp("gdc_real") / "download"
    contents = real / "gdc_file_contents"
    files = [
        (
            "11111111-1111-4111-8111-111111111111",
            "rna_seq.augmented_star_gene_counts.tsv",
            (contents / "star_gene_counts_gdc_rnaseq_tool_test_set_1.tsv").read_bytes(),
            "Transcriptome Profiling",
            "Gene Expression Quantification",
            [STAR_ALIQUOT],
        ),
        (
            "22222222-2222-4222-8222-222222222222",
            "mirbase21.mirnas.quantification.txt",
            (contents / "mirnas_quantification_bcgsc_m00038.txt").read_bytes(),
            "Transcriptome Profiling",
            "miRNA Expression Quantification",
            [MIRNA_ALIQUOT],
        ),
        (
            "33333333-3333-4333-8333-333333333333",
            "wxs.aliquot_ensemble_masked.maf.gz",
            (real / "maf" / "brca.maf.gz").read_bytes(),
            "Simple Nucleotide Variation",
            "Masked Somatic Mutation",
            [f"{PATIENT}-10A-01D-A021-09", f"{PATIENT}-01A-11D-A019-09"],
        ),
    ]
    sheet, meta, manifest = [], [], []
    for fid, suffix, data, category, dtype, aliquots in files:
        name = f"{fid}.{suffix}"
        (root / fid).mkdir(parents=True)
        (root / fid / name).write_bytes(data)
        md5 = hashlib.md5(data).hexdigest()
        tissue = ["Normal" if a[13:15] == "10" else "Tumor" for a in aliquots]
        sheet.append(
            [
                fid,
                name,
                category,
                dtype,
                "TCGA-BRCA",
                ", ".join(a[:12] for a in aliquots),
                ", ".join(a[:16] for a in aliquots),
                ", ".join(tissue),
                ", ".join("Not Applicable" if t == "Normal" else "Primary" for t in tissue),
                ", ".join("Peripheral Whole Blood" if t == "Normal" else "Solid Tissue" for t in tissue),
                ", ".join("Frozen" for _ in tissue),
            ]
        )
        meta.append(
            {
                "file_id": fid,
                "file_name": name,
                "data_category": category,
                "data_type": dtype,
                "md5sum": md5,
                "file_size": len(data),
                "state": "released",
                "associated_entities": [
                    {
                        "entity_submitter_id": a,
                        "entity_type": "aliquot",
                        "entity_id": f"{k}0000000-0000-4000-8000-000000000000",
                        "case_id": "aaaaaaaa-0000-4000-8000-000000000000",
                    }
                    for k, a in enumerate(aliquots)
                ],
                "cases": [{"project": {"project_id": "TCGA-BRCA"}}],
            }
        )
        manifest.append([fid, name, md5, str(len(data)), "released"])
    (root / "gdc_sample_sheet.2024-06-01.tsv").write_text(
        "\t".join(SHEET_COLUMNS) + "\n" + "".join("\t".join(r) + "\n" for r in sheet)
    )
    (root / "metadata.cart.2024-06-01.json").write_text(json.dumps(meta, indent=1))
    (root / "gdc_manifest.2024-06-01.txt").write_text(
        "id\tfilename\tmd5\tsize\tstate\n" + "".join("\t".join(r) + "\n" for r in manifest)
    )
    return root


@pytest.fixture(scope="module")
def gdc_store(gdc_download):
    return hm.io.read_gdc(gdc_download)


def test_gdc_star_file_values_equal_the_raw_cells(real, gdc_store):
    raw = _raw(real / "gdc_file_contents" / "star_gene_counts_gdc_rnaseq_tool_test_set_1.tsv", comment="#")
    genes = raw[~raw["gene_id"].str.startswith("N_")]
    qc = raw[raw["gene_id"].str.startswith("N_")]
    assert len(genes) == 96 and len(qc) == 4
    rna = gdc_store.mod["rna"]
    assert list(rna.obs_names) == [f"{PATIENT}-01"] and rna.obs["aliquot"].iat[0] == STAR_ALIQUOT
    assert list(rna.var_names) == genes["gene_id"].tolist()
    assert rna.var["gene_name"].tolist() == genes["gene_name"].tolist()
    np.testing.assert_array_equal(np.asarray(rna.layers["counts"])[0], genes["unstranded"].astype(float))
    np.testing.assert_array_equal(rna.layers["tpm_unstranded"][0], genes["tpm_unstranded"].astype(float))
    for name, value in zip(qc["gene_id"], qc["unstranded"], strict=True):  # the N_ rows are per-file QC, not genes
        assert rna.obs[name].iat[0] == float(value)


def test_gdc_mirna_file_values_equal_the_raw_cells(real, gdc_store):
    raw = _raw(real / "gdc_file_contents" / "mirnas_quantification_bcgsc_m00038.txt")
    mirna = gdc_store.mod["mirna"]
    assert mirna.n_vars == len(raw) == 1881
    assert list(mirna.var_names) == raw["miRNA_ID"].tolist()
    np.testing.assert_array_equal(np.asarray(mirna.X)[0], raw["read_count"].astype(float))
    np.testing.assert_array_equal(mirna.layers["rpm"][0], raw["reads_per_million_miRNA_mapped"].astype(float))


def test_gdc_pair_maf_belongs_to_the_tumour(real, gdc_store):
    """The MAF is listed with the blood normal first: it is the tumour's, the normal is recorded, not a sample."""
    raw = _raw(real / "maf" / "brca.maf.gz")
    mut = gdc_store.mod["mut"]
    assert list(mut.obs_names) == [f"{PATIENT}-01"]
    assert mut.obs["aliquot"].iat[0] == f"{PATIENT}-01A-11D-A019-09"
    assert mut.obs["matched_normal"].iat[0] == f"{PATIENT}-10A-01D-A021-09"
    altering = set(raw.loc[raw["Variant_Classification"].isin(PROTEIN_ALTERING), "Hugo_Symbol"])
    assert set(mut.var_names[np.asarray(mut.X)[0] == 1]) == altering
    maf = mut.uns["maf"]
    assert len(maf) == len(raw)  # every row, whatever its classification (TMB needs them all)
    assert maf["Variant_Classification"].tolist() == raw["Variant_Classification"].tolist()
    assert maf["Start_Position"].astype(int).tolist() == raw["Start_Position"].astype(int).tolist()
    report = gdc_store.uns["harmonomics_report"]
    assert report["reason"].str.contains("a tumour–normal pair's file: it belongs to the tumour").any()
    assert not report["reason"].str.contains("sample type 10").any()
    files = gdc_store.uns["harmonomics"]["files"]
    assert len(files) == 6 and files["md5"].str.len().eq(32).all()  # 3 data files, sheet, metadata, manifest


def test_read_gdc_reads_a_folder_of_legacy_mafs_without_sample_sheet(real, tmp_path):
    folder = tmp_path / "mafs"
    folder.mkdir()
    for name in ("tcga_laml.maf.gz", "brca.maf.gz"):
        (folder / name).write_bytes((real / "maf" / name).read_bytes())
    m = hm.io.read_gdc(folder)
    laml = _raw(real / "maf" / "tcga_laml.maf.gz")
    expected = set(laml["Tumor_Sample_Barcode"]) | {PATIENT}  # 12-character barcodes: the patient is the key
    assert set(m.mod["mut"].obs_names) == expected and len(expected) == 194
    assert len(m.mod["mut"].uns["maf"]) == len(laml) + len(_raw(real / "maf" / "brca.maf.gz"))


@pytest.mark.parametrize(
    "name, samples, build, protein_column",
    [
        ("maf/tcga_laml.maf.gz", 193, "GRCh37", "Protein_Change"),
        ("maf/brca.maf.gz", 1, None, None),
        ("../tcga_brca_121/mutations.maf.gz", 110, "GRCh37", "amino_acid_change_WU"),
    ],
)
def test_read_maf_on_legacy_tcga_mafs(real, name, samples, build, protein_column):
    path = real / name
    raw = _raw(path)
    m = hm.io.read_maf(path)
    mut = m.mod["mut"]
    assert mut.n_obs == samples == raw["Tumor_Sample_Barcode"].nunique()
    assert mut.uns.get("build") == build
    maf = mut.uns["maf"]
    assert len(maf) == len(raw)  # one aliquot per sample in these files: every row kept
    for column in (
        "Hugo_Symbol",
        "Variant_Classification",
        "Chromosome",
        "Reference_Allele",
        "Tumor_Seq_Allele2",
        "Tumor_Sample_Barcode",
    ):
        assert maf[column].tolist() == raw[column].tolist(), column
    if protein_column is not None:
        assert maf["protein_change"].fillna("").tolist() == raw[protein_column].replace("NULL", "").tolist()
    # the 0/1 matrix: exactly the (sample, gene) pairs with a protein-altering row in the raw file
    hits = raw[raw["Variant_Classification"].isin(PROTEIN_ALTERING)]
    key = dict(zip(mut.obs["aliquot"], mut.obs_names, strict=True))
    expected = set(zip(hits["Tumor_Sample_Barcode"].map(key), hits["Hugo_Symbol"], strict=True))
    rows, cols = np.nonzero(np.asarray(mut.X))
    assert set(zip(mut.obs_names[rows], mut.var_names[cols], strict=True)) == expected


def test_firehose_maf_keeps_aliquots_and_matched_normals(shared_data):
    path = shared_data / "tcga_brca_121" / "mutations.maf.gz"
    raw = _raw(path)
    mut = hm.io.read_maf(path).mod["mut"]
    assert mut.obs["aliquot"].str.len().eq(28).all()
    for aliquot, recorded in zip(mut.obs["aliquot"], mut.obs["matched_normal"], strict=True):
        normals = list(dict.fromkeys(raw.loc[raw["Tumor_Sample_Barcode"] == aliquot, "Matched_Norm_Sample_Barcode"]))
        assert recorded.split(", ") == normals
    # one tumour was called against its blood normal and its solid-tissue normal
    assert mut.obs.loc["TCGA-A7-A4SE-01", "matched_normal"].count(", ") == 1
    assert (mut.obs_names == mut.obs["aliquot"].str[:15]).all()
    assert raw["Entrez_Gene_Id"].eq("0").all() and mut.var["entrez"].eq("0").all()


def _annotation(shared_data, build):
    if build == "GRCh37":
        table = _raw(shared_data / "annotation" / "genes_hg19_grch37_ensembl.tsv.gz")
        return table.astype({"start": int, "end": int})
    table = _raw(shared_data / "annotation" / "gencode.v36.annotation.gtf.gene.probemap.gz")
    return table.rename(
        columns={"id": "gene_id", "gene": "gene_name", "chrom": "chromosome", "chromStart": "start", "chromEnd": "end"}
    ).astype({"start": int, "end": int})


def _covering_segments(raw: pd.DataFrame, genes: pd.DataFrame) -> list[tuple[str, str, float]]:
    """(sample, gene, Segment_Mean) for genes that lie wholly inside one raw segment (chromosome 23 = X)."""
    seg = raw.assign(
        chrom=raw["Chromosome"].replace({"23": "X", "24": "Y"}),
        lo=raw["Start"].astype(float),
        hi=raw["End"].astype(float),
        value=raw["Segment_Mean"].astype(float),
    )
    out = []
    for g in genes.itertuples(index=False):
        chrom = g.chromosome.removeprefix("chr")
        hit = seg[(seg["chrom"] == chrom) & (seg["lo"] <= g.start) & (seg["hi"] >= g.end)]
        for sample, value in zip(hit["Sample"], hit["value"], strict=True):
            out.append((sample, g.gene_name, value))
    return out


def test_read_segments_hg19_gene_values_equal_the_covering_segment(real, shared_data):
    path = real / "segments" / "TCGA.AB.3009.hg19.seg.txt"
    raw = _raw(path)
    m = hm.io.read_segments(path)  # the build comes from the file name (a hint, reported)
    cnv = m.mod["cnv"]
    assert cnv.uns["build"] == "GRCh37"
    assert m.uns["harmonomics"]["files"]["build"].tolist() == ["GRCh37"]
    report = m.uns["harmonomics_report"]
    assert report["reason"].str.contains("genome build GRCh37 taken from the file name").any()
    assert list(cnv.obs_names) == ["TCGA-AB-3009"]
    genes = _annotation(shared_data, "GRCh37")
    picked = genes[genes["gene_name"].isin(["ERBB2", "ESR1", "TP53", "MYC", "GATA3", "PTEN", "CCND1", "XIST"])]
    checks = _covering_segments(raw, picked)
    assert len(checks) >= 6
    for sample, gene, value in checks:
        assert float(np.asarray(cnv[sample, gene].X)[0, 0]) == value, gene
    # var names are symbols; the Ensembl ID is kept in var
    assert cnv.var.loc["ERBB2", "gene_id"] == "ENSG00000141736"


def test_read_segments_tcga_brca_121(shared_data):
    path = shared_data / "tcga_brca_121" / "cnv_segments.tsv.gz"
    raw = _raw(path)
    with pytest.raises(GenomeBuildError, match="pass build='hg19'"):
        hm.io.read_segments(path)  # nothing in the file or its name says the build
    cnv = hm.io.read_segments(path, build="hg19").mod["cnv"]
    assert cnv.n_obs == raw["Sample"].nunique() == 119
    assert cnv.obs["aliquot"].tolist() == sorted(raw["Sample"].unique())
    genes = _annotation(shared_data, "GRCh37")
    picked = genes[genes["gene_name"].isin(["ERBB2", "XIST", "ESR1"])]  # XIST: chromosome 23 is X
    checks = _covering_segments(raw, picked)
    assert len(checks) > 200 and any(gene == "XIST" for _, gene, _ in checks)
    for aliquot, gene, value in checks:
        assert float(np.asarray(cnv[aliquot[:15], gene].X)[0, 0]) == value, (aliquot, gene)


def test_segments_are_never_mapped_across_builds(real, shared_data):
    path = real / "segments" / "TCGA.AB.3009.hg19.seg.txt"
    grch38 = _annotation(shared_data, "GRCh38")
    with pytest.raises(
        GenomeBuildError,
        match="segments are on GRCh37 but the gene coordinates given are GRCh38.*gene_coordinates=None",
    ):
        hm.io.read_segments(path, gene_coordinates=grch38)
    with pytest.raises(GenomeBuildError, match="the segments are on GRCh37"):
        hm.io.read_segments(_raw(path), build="hg19", gene_coordinates=grch38)
