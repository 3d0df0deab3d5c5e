"""Small hand-written fixture files in the real public formats (GDC, cBioPortal, Xena, Firehose)."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

MAF_COLUMNS = None


def maf_columns() -> list[str]:
    from harmonomics import data

    global MAF_COLUMNS
    if MAF_COLUMNS is None:
        MAF_COLUMNS = data.path("formats_gdc_masked_maf_columns.tsv").read_text().strip().split("\t")
    return MAF_COLUMNS


GENES = [
    ("ENSG00000000003.15", "TSPAN6", "protein_coding"),
    ("ENSG00000000005.6", "TNMD", "protein_coding"),
    ("ENSG00000141510.18", "TP53", "protein_coding"),
    ("ENSG00000121879.6", "PIK3CA", "protein_coding"),
    ("ENSG00000002586.20_PAR_Y", "CD99", "protein_coding"),
    ("ENSG00000252830.2", "Y_RNA", "misc_RNA"),
    ("ENSG00000253830.1", "Y_RNA", "misc_RNA"),
]


def star_text(counts: list[int]) -> str:
    lines = [
        "# gene-model: GENCODE v36",
        (
            "gene_id\tgene_name\tgene_type\tunstranded\tstranded_first\tstranded_second\ttpm_unstranded\t"
            "fpkm_unstranded\tfpkm_uq_unstranded"
        ),
    ]
    for name, n in (("N_unmapped", 100), ("N_multimapping", 50), ("N_noFeature", 20), ("N_ambiguous", 5)):
        lines.append(f"{name}\t\t\t{n}\t{n}\t{n}\t\t\t")
    total = sum(counts) or 1
    for (gid, name, gtype), c in zip(GENES, counts, strict=True):
        tpm = c / total * 1e6
        lines.append(f"{gid}\t{name}\t{gtype}\t{c}\t{c // 2}\t{c - c // 2}\t{tpm:.4f}\t{tpm / 2:.4f}\t{tpm / 3:.4f}")
    return "\n".join(lines) + "\n"


def maf_bytes(tumour: str, normal: str, variants: list[tuple[str, str]]) -> bytes:
    cols = maf_columns()
    head = [
        "#version gdc-1.0.0",
        "#annotation.spec gdc-2.0.0-aliquot-merged-masked",
        f"#tumor.aliquot {uuid.uuid4()}",
        f"#normal.aliquot {uuid.uuid4()}",
        "\t".join(cols),
    ]
    rows = []
    for i, (gene, vc) in enumerate(variants):
        row = {c: "" for c in cols}
        row.update(
            {
                "Hugo_Symbol": gene,
                "Entrez_Gene_Id": "7157" if gene == "TP53" else "5290",
                "Chromosome": "chr17",
                "Start_Position": str(7670000 + i),
                "End_Position": str(7670000 + i),
                "Variant_Classification": vc,
                "Variant_Type": "SNP",
                "Reference_Allele": "C",
                "Tumor_Seq_Allele2": "T",
                "Tumor_Sample_Barcode": tumour,
                "Matched_Norm_Sample_Barcode": normal,
                "HGVSp_Short": f"p.R{100 + i}H",
                "t_depth": "50",
                "t_alt_count": "12",
                "IMPACT": "MODERATE",
                "Gene": "ENSG00000141510",
                "callers": "muse;mutect2",
            }
        )
        rows.append("\t".join(row[c] for c in cols))
    return gzip.compress(("\n".join(head + rows) + "\n").encode())


def write_gdc(root: Path, *, mutate=None) -> Path:
    """A tiny GDC download: 3 patients, every omic, a duplicate RNA aliquot, a normal, 2 RPPA panels.

    ``mutate(files)`` may edit the dict ``{relative path: bytes or str}`` before it is written.
    """
    files: dict[str, bytes | str] = {}
    sheet = [
        (
            "File ID\tFile Name\tData Category\tData Type\tProject ID\tCase ID\tSample ID\tTissue Type\t"
            "Tumor Descriptor\tSpecimen Type\tPreservation Method"
        )
    ]
    meta = []

    def add(fid, name, content, category, dtype, case, sample_ids, entities, tissue="Tumor"):
        files[f"{fid}/{name}"] = content
        sheet.append(
            f"{fid}\t{name}\t{category}\t{dtype}\tTCGA-BRCA\t{case}\t{sample_ids}\t{tissue}\tPrimary\t"
            "Solid Tissue\tFrozen"
        )
        meta.append(
            {
                "file_id": fid,
                "file_name": name,
                "data_category": category,
                "data_type": dtype,
                "associated_entities": [
                    {
                        "entity_submitter_id": e,
                        "entity_type": "aliquot",
                        "entity_id": str(uuid.uuid4()),
                        "case_id": str(uuid.uuid4()),
                    }
                    for e in entities
                ],
                "cases": [{"project": {"project_id": "TCGA-BRCA"}}],
            }
        )

    rna = [
        ("TCGA-A1-A0SB-01A-11R-A144-07", [10, 0, 300, 40, 0, 3, 4]),
        ("TCGA-A1-A0SB-01A-21R-A144-07", [11, 1, 301, 41, 0, 3, 4]),  # duplicate: higher barcode wins
        ("TCGA-A2-A0CM-01A-31R-A034-07", [20, 2, 100, 80, 0, 5, 6]),
        ("TCGA-A2-A0CM-11A-22R-A034-07", [30, 3, 50, 20, 0, 7, 8]),  # normal
    ]
    for i, (aliquot, counts) in enumerate(rna):
        fid = f"00000000-0000-4000-8000-00000000000{i}"
        add(
            fid,
            f"{fid}.rna_seq.augmented_star_gene_counts.tsv",
            star_text(counts),
            "Transcriptome Profiling",
            "Gene Expression Quantification",
            aliquot[:12],
            aliquot[:16],
            [aliquot],
            tissue="Normal" if "-11A" in aliquot else "Tumor",
        )
    # MAF: A0SB with TP53 missense + silent PIK3CA; A0CM with PIK3CA missense; A0SH only a silent variant
    mafs = [
        (
            "TCGA-A1-A0SB-01A-11D-A142-09",
            "TCGA-A1-A0SB-10A-01D-A142-09",
            [("TP53", "Missense_Mutation"), ("PIK3CA", "Silent")],
        ),
        ("TCGA-A2-A0CM-01A-31D-A034-09", "TCGA-A2-A0CM-10A-01D-A034-09", [("PIK3CA", "Missense_Mutation")]),
        ("TCGA-A1-A0SH-01A-11D-A099-09", "TCGA-A1-A0SH-10A-01D-A099-09", [("TP53", "Intron")]),
    ]
    for i, (tum, nor, variants) in enumerate(mafs):
        fid = f"10000000-0000-4000-8000-00000000000{i}"
        add(
            fid,
            f"{fid}.wxs.aliquot_ensemble_masked.maf.gz",
            maf_bytes(tum, nor, variants),
            "Simple Nucleotide Variation",
            "Masked Somatic Mutation",
            f"{tum[:12]}, {tum[:12]}",
            f"{tum[:16]}, {nor[:16]}",
            [tum, nor],
        )
    # methylation
    for i, (aliquot, betas) in enumerate(
        [
            ("TCGA-A1-A0SB-01A-11D-A145-05", ["0.123456", "NA", "0.987654"]),
            ("TCGA-A1-A0SH-01A-11D-A099-05", ["0.5", "0.25", "NA"]),
        ]
    ):
        fid = f"20000000-0000-4000-8000-00000000000{i}"
        text = "".join(f"{p}\t{b}\n" for p, b in zip(["cg00000029", "cg00000108", "rs1019916"], betas, strict=True))
        add(
            fid,
            f"{fid}.methylation_array.sesame.level3betas.txt",
            text,
            "DNA Methylation",
            "Methylation Beta Value",
            aliquot[:12],
            aliquot[:16],
            [aliquot],
        )
    # gene-level copy number
    cn_header = "gene_id\tgene_name\tchromosome\tstart\tend\tcopy_number\tmin_copy_number\tmax_copy_number\n"
    for i, (aliquot, cns) in enumerate([("TCGA-A2-A0CM-01A-31D-A034-01", ["2", "3", "", "8"])]):
        fid = f"30000000-0000-4000-8000-00000000000{i}"
        rows = "".join(
            f"{g[0]}\t{g[1]}\tchr1\t{100 * k}\t{100 * k + 50}\t{c}\t{c}\t{c}\n"
            for k, (g, c) in enumerate(zip(GENES[:4], cns, strict=True))
        )
        add(
            fid,
            f"TCGA-BRCA.{fid}.ascat3.gene_level_copy_number.v36.tsv",
            cn_header + rows,
            "Copy Number Variation",
            "Gene Level Copy Number",
            aliquot[:12],
            aliquot[:16],
            [aliquot],
        )
    # RPPA, two panels
    rppa_header = "AGID\tlab_id\tcatalog_number\tset_id\tpeptide_target\tprotein_expression\n"
    for i, (portion, rows) in enumerate(
        [
            ("TCGA-A1-A0SB-01A-21-A13A-20", [("AGID00001", "AKT_pS473", "0.123456"), ("AGID00002", "ERALPHA", "NA")]),
            ("TCGA-A2-A0CM-01A-21-A13A-20", [("AGID00001", "AKT_pS473", "-1.5"), ("AGID00003", "HER2", "2.25")]),
        ]
    ):
        fid = f"40000000-0000-4000-8000-00000000000{i}"
        text = rppa_header + "".join(f"{a}\t{k}\tcat{k}\tset{i}\t{t}\t{v}\n" for k, (a, t, v) in enumerate(rows))
        add(
            fid,
            f"TCGA-BRCA.{fid}.RPPA_data.tsv",
            text,
            "Proteome Profiling",
            "Protein Expression Quantification",
            portion[:12],
            portion[:16],
            [portion],
        )
    # miRNA
    fid = "50000000-0000-4000-8000-000000000000"
    add(
        fid,
        f"{fid}.mirbase21.mirnas.quantification.txt",
        "miRNA_ID\tread_count\treads_per_million_miRNA_mapped\tcross-mapped\n"
        "hsa-let-7a-1\t1000\t5000.123456\tN\nhsa-mir-21\t20\t100.5\tY\n",
        "Transcriptome Profiling",
        "miRNA Expression Quantification",
        "TCGA-A1-A0SB",
        "TCGA-A1-A0SB-01A",
        ["TCGA-A1-A0SB-01A-11R-A144-13"],
    )
    files["gdc_sample_sheet.2024-06-01.tsv"] = "\n".join(sheet) + "\n"
    files["metadata.cart.2024-06-01.json"] = json.dumps(meta, indent=1)
    files["clinical.tsv"] = (
        "project.project_id\tcases.submitter_id\tdemographic.vital_status\tdemographic.days_to_death\t"
        "diagnoses.days_to_last_follow_up\tdiagnoses.ajcc_pathologic_stage\tdemographic.age_at_index\t"
        "treatments.treatment_type\n"
        "TCGA-BRCA\tTCGA-A1-A0SB\tAlive\t'--\t1000\tStage IIA\t50\tRadiation Therapy, NOS\n"
        "TCGA-BRCA\tTCGA-A1-A0SB\tAlive\t'--\t1000\tStage IIA\t50\tPharmaceutical Therapy, NOS\n"
        "TCGA-BRCA\tTCGA-A2-A0CM\tDead\t500\t'--\tStage IIIA\t61\t'--\n"
        "TCGA-BRCA\tTCGA-A1-A0SH\tDead\t800\t700\t'--\t'--\t'--\n"
        "TCGA-BRCA\tTCGA-B6-A0AA\tAlive\t'--\t2000\tStage I\t45\t'--\n"
    )
    if mutate is not None:
        mutate(files)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
    return root
