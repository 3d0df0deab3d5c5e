"""Helpers of the precision-medicine tests: raw MAF counts with pandas, a GDC download of one real MAF."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

# Non-synonymous coding classes (FORMATS.md protein-altering set), written out here rather than imported
NON_SYNONYMOUS = [
    "Missense_Mutation",
    "Nonsense_Mutation",
    "Frame_Shift_Del",
    "Frame_Shift_Ins",
    "In_Frame_Del",
    "In_Frame_Ins",
    "Splice_Site",
    "Translation_Start_Site",
    "Nonstop_Mutation",
]
ONE_VARIANT = ["Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele2"]


def raw_counts(path, sample_key=lambda s: s) -> pd.Series:
    """Distinct non-synonymous variants per sample, straight from the file."""
    raw = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    raw = raw[raw["Variant_Classification"].isin(NON_SYNONYMOUS)]
    raw = raw.assign(sample=raw["Tumor_Sample_Barcode"].map(sample_key))
    return raw.drop_duplicates(["sample", *ONE_VARIANT])["sample"].value_counts()


def gdc_maf_download(root, maf_bytes: bytes, aliquot: str):
    """A GDC download of one masked-MAF file, with sample sheet, metadata and manifest (FORMATS.md layouts)."""
    fid = "33333333-3333-4333-8333-333333333333"
    name = f"{fid}.wxs.aliquot_ensemble_masked.maf.gz"
    (root / fid).mkdir(parents=True)
    (root / fid / name).write_bytes(maf_bytes)
    md5 = hashlib.md5(maf_bytes).hexdigest()
    columns = ["File ID", "File Name", "Data Category", "Data Type", "Project ID", "Case ID", "Sample ID"]
    columns += ["Tissue Type", "Tumor Descriptor", "Specimen Type", "Preservation Method"]
    row = [fid, name, "Simple Nucleotide Variation", "Masked Somatic Mutation", "TCGA-BRCA", aliquot[:12]]
    row += [aliquot[:16], "Tumor", "Primary", "Solid Tissue", "Frozen"]
    (root / "gdc_sample_sheet.2024-06-01.tsv").write_text("\t".join(columns) + "\n" + "\t".join(row) + "\n")
    meta = {
        "file_id": fid,
        "file_name": name,
        "data_category": "Simple Nucleotide Variation",
        "data_type": "Masked Somatic Mutation",
        "md5sum": md5,
        "file_size": len(maf_bytes),
        "state": "released",
        "associated_entities": [
            {
                "entity_submitter_id": aliquot,
                "entity_type": "aliquot",
                "entity_id": "00000000-0000-4000-8000-000000000000",
                "case_id": "aaaaaaaa-0000-4000-8000-000000000000",
            }
        ],
        "cases": [{"project": {"project_id": "TCGA-BRCA"}}],
    }
    (root / "metadata.cart.2024-06-01.json").write_text(json.dumps([meta]))
    (root / "gdc_manifest.2024-06-01.txt").write_text(
        f"id\tfilename\tmd5\tsize\tstate\n{fid}\t{name}\t{md5}\t{len(maf_bytes)}\treleased\n"
    )
    return root
