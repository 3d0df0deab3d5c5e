"""Recognise a public file's format from its content (not only its name)."""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path

from .._errors import EmptyInputError, UnknownFormatError
from .._text import head_text

# format name -> (source, omic or role, description)
FORMATS: dict[str, tuple[str, str, str]] = {
    "gdc_star_counts": ("gdc", "rna", "GDC STAR gene counts (augmented_star_gene_counts.tsv)"),
    "gdc_maf": ("gdc", "mut", "MAF (GDC masked somatic mutation, or a legacy TCGA / Firehose MAF)"),
    "gdc_gene_copy_number": ("gdc", "cnv", "GDC gene-level copy number (ASCAT)"),
    "gdc_segments": ("gdc", "segments", "copy-number segments (ASCAT or SNP6 DNAcopy)"),
    "gdc_meth_betas": ("gdc", "meth", "GDC SeSAMe level-3 methylation betas"),
    "gdc_rppa": ("gdc", "prot", "GDC RPPA protein expression"),
    "gdc_mirna": ("gdc", "mirna", "GDC miRNA quantification"),
    "gdc_clinical": ("gdc", "clinical", "GDC clinical.tsv"),
    "gdc_sample_sheet": ("gdc", "sample_sheet", "GDC sample sheet"),
    "gdc_manifest": ("gdc", "manifest", "GDC download manifest"),
    "gdc_metadata": ("gdc", "metadata", "GDC metadata JSON export"),
    "gdc_annotations": ("gdc", "annotations", "GDC annotations.txt"),
    "cbioportal_meta": ("cbioportal", "meta", "cBioPortal meta file"),
    "cbioportal_case_list": ("cbioportal", "case_list", "cBioPortal case list"),
    "cbioportal_clinical": ("cbioportal", "clinical", "cBioPortal clinical file"),
    "cbioportal_matrix": ("cbioportal", "matrix", "cBioPortal genes × samples matrix"),
    "cbioportal_generic_assay": ("cbioportal", "matrix", "cBioPortal generic-assay matrix"),
    "cbioportal_rppa": ("cbioportal", "prot", "cBioPortal RPPA matrix"),
    "cbioportal_mutations": ("cbioportal", "mut", "cBioPortal data_mutations MAF"),
    "cbioportal_cna_long": ("cbioportal", "cnv", "cBioPortal discrete copy number, long format (Sample_Id, Value)"),
    "cbioportal_segments": ("cbioportal", "segments", "cBioPortal .seg copy-number segments (ID chrom loc.start …)"),
    "cbioportal_structural_variants": ("cbioportal", "structural_variants", "cBioPortal structural variants"),
    "cbioportal_gene_panel": ("cbioportal", "gene_panel", "cBioPortal gene panel definition (stable_id, gene_list)"),
    "cbioportal_gene_panel_matrix": ("cbioportal", "gene_panel_matrix", "cBioPortal gene panel matrix"),
    "cbioportal_resource": ("cbioportal", "resource", "cBioPortal resource definitions or links (RESOURCE_ID)"),
    "cbioportal_timeline": ("cbioportal", "timeline", "cBioPortal timeline (clinical events)"),
    "cbioportal_gsva": ("cbioportal", "gsva", "cBioPortal GSVA scores or p-values (geneset_id)"),
    "cbioportal_study_tags": ("cbioportal", "study_tags", "cBioPortal study tags (YAML named by meta_study.txt)"),
    "cbioportal_gistic_genes": ("cbioportal", "gistic_genes", "cBioPortal GISTIC genes (amplified or deleted peaks)"),
    "xena_matrix": ("xena", "matrix", "UCSC Xena genomic matrix (first header cell `sample`)"),
    "xena_clinical": ("xena", "clinical", "UCSC Xena clinical matrix (first header cell `sampleID`)"),
    "xena_mutations": ("xena", "mut", "UCSC Xena mutation table (sample chr start end …)"),
    "firehose_matrix": ("firehose", "matrix", "Broad Firehose matrix (Hybridization REF or gene, SYMBOL|ENTREZ IDs)"),
    "firehose_clinical": ("firehose", "clinical", "Broad Firehose clinical matrix (attributes × patients)"),
    "table": ("table", "matrix", "plain delimited table"),
}

_PROBE = re.compile(r"^(cg\d+|ch\.\w+|rs\d+|ch\d+\S*)$")
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_BARCODE = re.compile(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}", re.IGNORECASE)


def _is_number_or_na(x: str) -> bool:
    return bool(_NUMBER.match(x)) or x in ("NA", "", "NaN", "nan")


def _cbioportal_non_matrix(header: list[str], comments: list[str], second: list[str]) -> str | None:
    """cBioPortal files that are neither matrices, MAFs nor clinical attributes, told apart by their header."""
    cells = set(header)
    first = header[0]
    if {"Sample_Id", "Value"} <= cells and ("Hugo_Symbol" in cells or "Entrez_Gene_Id" in cells):
        return "cbioportal_cna_long"
    if first == "ID" and {"chrom", "loc.start", "loc.end"} <= cells:
        return "cbioportal_segments"
    if "Sample_Id" in cells and ("Site1_Hugo_Symbol" in cells or "Site1_Entrez_Gene_Id" in cells):
        return "cbioportal_structural_variants"
    if first == "SAMPLE_ID" and not comments and "PATIENT_ID" not in cells and len(second) > 1 and not all(
            _is_number_or_na(x) for x in second[1:]):  # panel IDs, not numbers
        return "cbioportal_gene_panel_matrix"
    if "RESOURCE_ID" in cells:
        return "cbioportal_resource"
    if "PATIENT_ID" in cells and "START_DATE" in cells and "EVENT_TYPE" in cells:
        return "cbioportal_timeline"
    if first == "geneset_id":
        return "cbioportal_gsva"
    if {"chromosome", "peak_start", "peak_end", "q_value"} <= cells:
        return "cbioportal_gistic_genes"
    return None


# columns that only a MAF has (besides the required Hugo_Symbol, Variant_Classification, Tumor_Sample_Barcode)
_MAF_ONLY_COLUMNS = frozenset({
    "Start_Position", "End_Position", "Reference_Allele", "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "Variant_Type",
    "Matched_Norm_Sample_Barcode", "NCBI_Build", "HGVSp_Short", "t_alt_count", "Matched_Norm_Sample_UUID",
})


def _maf_kind(header: list[str], second: list[str], comments: list[str]) -> str:
    """``gdc_maf`` for a GDC masked MAF or a legacy TCGA MAF, ``cbioportal_mutations`` for cBioPortal's.

    GDC MAFs open with ``#version gdc-…``; cBioPortal's ``data_mutations`` with ``#version 2.x``. Legacy TCGA MAFs
    (Firehose, TCGA portal, maftools' examples) have no ``#version`` line: they are told by TCGA barcodes of any
    length (12, 15, 16 or 28 characters) in ``Tumor_Sample_Barcode``.
    """
    if any(c.startswith("#version gdc") for c in comments) or "Matched_Norm_Sample_UUID" in header:
        return "gdc_maf"
    if any(c.startswith("#version") for c in comments):
        return "cbioportal_mutations"
    column = header.index("Tumor_Sample_Barcode")
    if len(second) > column and _BARCODE.match(second[column].strip()):
        return "gdc_maf"
    return "cbioportal_mutations"


def _looks_like_maf(header: list[str], comments: list[str]) -> bool:
    """A MAF header missing some required columns (so that the MAF parser, not a matrix reader, judges it)."""
    if any(c.startswith("#version gdc") for c in comments) and "Hugo_Symbol" in header:
        return True
    return len(_MAF_ONLY_COLUMNS.intersection(header)) >= 3 and (
        "Hugo_Symbol" in header or "Tumor_Sample_Barcode" in header or "Variant_Classification" in header)


def detect_format(path: str | PathLike) -> str:
    """Name the format of a file from its content.

    Parameters
    ----------
    path
        A file (plain or gzip-compressed; the compression is recognised by its magic number).

    Returns
    -------
    One of the keys of ``harmonomics.io._detect.FORMATS``, e.g. ``"gdc_star_counts"``, ``"gdc_maf"``,
    ``"cbioportal_clinical"``, ``"xena_matrix"``, ``"firehose_matrix"`` or ``"table"``.

    Raises
    ------
    EmptyInputError
        The file is empty.
    UnknownFormatError
        The content matches no known format; the message lists what was found and what is recognised.
    """
    path = Path(path)
    if path.is_dir():
        raise UnknownFormatError("expected a file, found a folder", path=path)
    if path.stat().st_size == 0:
        raise EmptyInputError("the file is empty", path=path)
    text = head_text(path)
    return detect_text(text, path, truncated=len(text) >= 65536)


SNIFF_LINES = 64
SNIFF_BYTES = 16_384
"""How much of a file's beginning :func:`detect_bytes` reads: every header we recognise fits well within it."""


def detect_bytes(data: bytes, path: str | PathLike) -> str:
    """:func:`detect_text` on the first 16 KiB of a file's (decompressed) content."""
    return detect_text(data[:SNIFF_BYTES].decode("utf-8", errors="replace"), path, truncated=len(data) > SNIFF_BYTES)


def detect_text(text: str, path: str | PathLike = "<text>", *, truncated: bool = False) -> str:
    """:func:`detect_format` on the first bytes of a file, already decoded (``truncated``: more follows)."""
    path = path if isinstance(path, Path) else Path(path)
    if not text.strip():
        raise EmptyInputError("the file holds only whitespace", path=path)
    # the comment preamble, the header and a few rows decide the format: no need to split the whole window
    lines = text.split("\n", SNIFF_LINES)
    if len(lines) > SNIFF_LINES or (len(lines) > 1 and truncated):
        lines = lines[:-1]  # the rest of the text, or a last line cut by the sniffing window
    lines = [ln.rstrip("\r") for ln in lines]
    stripped = text.lstrip()
    if stripped[:1] in "[{":
        if '"file_id"' in text[:5000] or '"associated_entities"' in text[:20000]:
            return "gdc_metadata"
        raise UnknownFormatError("a JSON file that is not a GDC metadata export (no file_id / associated_entities)",
                                 path=path)

    comments = []
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        comments.append(lines[i])
        i += 1
    body = [ln for ln in lines[i:] if ln.strip()]
    if not body:
        raise EmptyInputError(f"the file has {len(comments)} comment line(s) and nothing else", path=path)
    header = body[0].split("\t")
    first = header[0]
    second = body[1].split("\t") if len(body) > 1 else []

    if "Tumor_Sample_Barcode" in header and "Variant_Classification" in header:
        return _maf_kind(header, second, comments)
    if _looks_like_maf(header, comments):
        return "gdc_maf"  # a MAF that lacks required columns: its parser names them
    if "gene_id" in header and "unstranded" in header:
        return "gdc_star_counts"
    if "gene_id" in header and "copy_number" in header:
        return "gdc_gene_copy_number"
    if {"Chromosome", "Start", "End"} <= set(header) and (first in ("GDC_Aliquot", "Sample", "ID")):
        return "gdc_segments"
    if "AGID" in header and "protein_expression" in header:
        return "gdc_rppa"
    if "miRNA_ID" in header and "read_count" in header:
        return "gdc_mirna"
    if len(header) == 2 and _PROBE.match(first) and _is_number_or_na(header[1]):
        return "gdc_meth_betas"
    if first in ("File ID", "file_id") and "File Name" in header:
        return "gdc_sample_sheet"
    if header[:4] == ["id", "filename", "md5", "size"]:
        return "gdc_manifest"
    if any(h in header for h in ("cases.submitter_id", "case_submitter_id")) or (
        "project.project_id" in header or ("project_id" in header and "case_id" in header)
    ):
        return "gdc_clinical"
    cbioportal_other = _cbioportal_non_matrix(header, comments, second)
    if cbioportal_other:
        return cbioportal_other
    if "PATIENT_ID" in header or ("SAMPLE_ID" in header and len(comments) >= 4):
        return "cbioportal_clinical"
    kv = [ln for ln in lines[: i + 20] if ln.strip()]
    if kv and all(re.match(r"^[A-Za-z_][\w.]*\s*:", ln) for ln in kv[: min(len(kv), 5)]):
        keys = {ln.split(":", 1)[0].strip() for ln in kv}
        if "case_list_ids" in keys or "case_list_category" in keys:
            return "cbioportal_case_list"
        if "gene_list" in keys and "stable_id" in keys:
            return "cbioportal_gene_panel"
        if "cancer_study_identifier" in keys or "genetic_alteration_type" in keys or "type_of_cancer" in keys:
            return "cbioportal_meta"
    if first in ("Hugo_Symbol", "Entrez_Gene_Id"):
        return "cbioportal_matrix"
    if first == "ENTITY_STABLE_ID":
        return "cbioportal_generic_assay"
    if first in ("Composite.Element.REF", "Composite Element REF") and len(header) > 1 and _BARCODE.match(header[1]):
        return "cbioportal_rppa"
    if first == "sampleID":
        return "xena_clinical"
    if first == "sample" and {"chr", "start"} <= set(header):
        return "xena_mutations"
    if first == "sample":
        return "xena_matrix"
    if first == "Hybridization REF":
        if len(header) > 1 and re.match(r"^tcga-[a-z0-9]{2}-[a-z0-9]{4}$", header[1], re.IGNORECASE):
            return "firehose_clinical"
        if second and second[0] in ("gene_id", "Composite Element REF", "miRNA_ID", "gene"):
            return "firehose_matrix"
        if len(header) > 1 and _BARCODE.match(header[1]):
            if second and not _is_number_or_na(second[1] if len(second) > 1 else ""):
                return "firehose_matrix"
            return "firehose_matrix"
        return "firehose_clinical"
    if first in ("gene", "Gene", "gene_id") and second and "|" in second[0]:
        return "firehose_matrix"
    if first in ("bcr_patient_barcode",):
        return "firehose_clinical"
    if first == "annotation_id" or "annotation" in first.lower() and "notes" in text.lower()[:2000]:
        return "gdc_annotations"
    header_cells = set(text.split("\n", 1)[0].split("\t"))
    if {"entity_submitter_id", "category", "classification"} <= header_cells:  # annotations.txt beside a file
        return "gdc_annotations"
    # plain delimited table: several columns, numbers in the body
    for sep in ("\t", ",", ";"):
        cells = body[0].split(sep)
        if len(cells) >= 2 and len(body) >= 2:
            row = body[1].split(sep)
            if len(row) == len(cells) and sum(_is_number_or_na(c) for c in row[1:]) >= max(1, (len(row) - 1) // 2):
                return "table"
    shown = body[0][:100]
    raise UnknownFormatError(
        f"unknown format: the first line is {shown!r}; expected a GDC, cBioPortal, Xena or Firehose file or a "
        "delimited table of numbers (see docs/readers.md for the recognised formats)",
        path=path,
        line=len(comments) + 1,
    )
