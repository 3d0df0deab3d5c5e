"""Recognise a public file's format from its content (not only its name)."""

from __future__ import annotations

import re
from collections.abc import Callable
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
_PATIENT = re.compile(r"^tcga-[a-z0-9]{2}-[a-z0-9]{4}$", re.IGNORECASE)


def _is_number_or_na(x: str) -> bool:
    return bool(_NUMBER.match(x)) or x in ("NA", "", "NaN", "nan")


# columns that only a MAF has (besides the required Hugo_Symbol, Variant_Classification, Tumor_Sample_Barcode)
_MAF_ONLY_COLUMNS = frozenset(
    {
        "Start_Position",
        "End_Position",
        "Reference_Allele",
        "Tumor_Seq_Allele1",
        "Tumor_Seq_Allele2",
        "Variant_Type",
        "Matched_Norm_Sample_Barcode",
        "NCBI_Build",
        "HGVSp_Short",
        "t_alt_count",
        "Matched_Norm_Sample_UUID",
    }
)


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
        "Hugo_Symbol" in header or "Tumor_Sample_Barcode" in header or "Variant_Classification" in header
    )


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


class Head:
    """The beginning of a text file as the sniffers see it: comment preamble, header cells, first data row."""

    def __init__(self, text: str, path: Path, *, truncated: bool) -> None:
        self.text = text
        self.path = path
        # the comment preamble, the header and a few rows decide the format: no need to split the whole window
        lines = text.split("\n", SNIFF_LINES)
        if len(lines) > SNIFF_LINES or (len(lines) > 1 and truncated):
            lines = lines[:-1]  # the rest of the text, or a last line cut by the sniffing window
        self.lines = [ln.rstrip("\r") for ln in lines]
        n_comments = 0
        while n_comments < len(self.lines) and self.lines[n_comments].startswith("#"):
            n_comments += 1
        self.comments = self.lines[:n_comments]
        self.body = [ln for ln in self.lines[n_comments:] if ln.strip()]
        self.header = self.body[0].split("\t") if self.body else []
        self.cells = frozenset(self.header)
        self.first = self.header[0] if self.header else ""
        self.second = self.body[1].split("\t") if len(self.body) > 1 else []
        self.keys = self._key_value_keys(n_comments)

    def _key_value_keys(self, n_comments: int) -> frozenset[str]:
        """The keys of a ``key: value`` file (cBioPortal meta files, case lists, gene panels); empty otherwise."""
        kv = [ln for ln in self.lines[: n_comments + 20] if ln.strip()]
        if kv and all(re.match(r"^[A-Za-z_][\w.]*\s*:", ln) for ln in kv[: min(len(kv), 5)]):
            return frozenset(ln.split(":", 1)[0].strip() for ln in kv)
        return frozenset()


Sniff = Callable[[Head], bool]


def _is_maf(h: Head) -> bool:
    return "Tumor_Sample_Barcode" in h.cells and "Variant_Classification" in h.cells


def _gdc_maf(h: Head) -> bool:
    if _is_maf(h):
        return _maf_kind(h.header, h.second, h.comments) == "gdc_maf"
    return _looks_like_maf(h.header, h.comments)  # a MAF that lacks required columns: its parser names them


def _cbioportal_mutations(h: Head) -> bool:
    return _is_maf(h) and _maf_kind(h.header, h.second, h.comments) == "cbioportal_mutations"


def _gdc_clinical(h: Head) -> bool:
    return bool({"cases.submitter_id", "case_submitter_id", "project.project_id"} & h.cells) or (
        {"project_id", "case_id"} <= h.cells
    )


def _cbioportal_gene_panel_matrix(h: Head) -> bool:
    return (
        h.first == "SAMPLE_ID"
        and not h.comments
        and "PATIENT_ID" not in h.cells
        and len(h.second) > 1
        and not all(_is_number_or_na(x) for x in h.second[1:])
    )  # panel IDs, not numbers


def _hybridization_ref_matrix(h: Head) -> bool:
    """A Firehose ``Hybridization REF`` file with samples as columns (not a clinical matrix of patients)."""
    if h.first != "Hybridization REF" or (len(h.header) > 1 and _PATIENT.match(h.header[1])):
        return False
    return bool(h.second and h.second[0] in ("gene_id", "Composite Element REF", "miRNA_ID", "gene")) or (
        len(h.header) > 1 and bool(_BARCODE.match(h.header[1]))
    )


def _firehose_matrix(h: Head) -> bool:
    return _hybridization_ref_matrix(h) or (
        h.first in ("gene", "Gene", "gene_id") and bool(h.second) and "|" in h.second[0]
    )


def _firehose_clinical(h: Head) -> bool:
    return (h.first == "Hybridization REF" and not _hybridization_ref_matrix(h)) or h.first == "bcr_patient_barcode"


def _gdc_annotations(h: Head) -> bool:
    if h.first == "annotation_id" or "annotation" in h.first.lower() and "notes" in h.text.lower()[:2000]:
        return True
    first_line = set(h.text.split("\n", 1)[0].split("\t"))
    return {"entity_submitter_id", "category", "classification"} <= first_line  # annotations.txt beside a file


def _table(h: Head) -> bool:
    """A plain delimited table: several columns, numbers in the body."""
    for sep in ("\t", ",", ";"):
        cells = h.body[0].split(sep)
        if len(cells) >= 2 and len(h.body) >= 2:
            row = h.body[1].split(sep)
            if len(row) == len(cells) and sum(_is_number_or_na(c) for c in row[1:]) >= max(1, (len(row) - 1) // 2):
                return True
    return False


JSON_SNIFFERS: list[tuple[str, Sniff]] = [
    ("gdc_metadata", lambda h: '"file_id"' in h.text[:5000] or '"associated_entities"' in h.text[:20000]),
]
"""The formats of JSON files, with the test that recognises each."""

SNIFFERS: list[tuple[str, Sniff]] = [
    ("gdc_maf", _gdc_maf),
    ("cbioportal_mutations", _cbioportal_mutations),
    ("gdc_star_counts", lambda h: {"gene_id", "unstranded"} <= h.cells),
    ("gdc_gene_copy_number", lambda h: {"gene_id", "copy_number"} <= h.cells),
    (
        "gdc_segments",
        lambda h: {"Chromosome", "Start", "End"} <= h.cells and h.first in ("GDC_Aliquot", "Sample", "ID"),
    ),
    ("gdc_rppa", lambda h: {"AGID", "protein_expression"} <= h.cells),
    ("gdc_mirna", lambda h: {"miRNA_ID", "read_count"} <= h.cells),
    ("gdc_meth_betas", lambda h: len(h.header) == 2 and bool(_PROBE.match(h.first)) and _is_number_or_na(h.header[1])),
    ("gdc_sample_sheet", lambda h: h.first in ("File ID", "file_id") and "File Name" in h.cells),
    ("gdc_manifest", lambda h: h.header[:4] == ["id", "filename", "md5", "size"]),
    ("gdc_clinical", _gdc_clinical),
    (
        "cbioportal_cna_long",
        lambda h: {"Sample_Id", "Value"} <= h.cells and bool({"Hugo_Symbol", "Entrez_Gene_Id"} & h.cells),
    ),
    ("cbioportal_segments", lambda h: h.first == "ID" and {"chrom", "loc.start", "loc.end"} <= h.cells),
    (
        "cbioportal_structural_variants",
        lambda h: "Sample_Id" in h.cells and bool({"Site1_Hugo_Symbol", "Site1_Entrez_Gene_Id"} & h.cells),
    ),
    ("cbioportal_gene_panel_matrix", _cbioportal_gene_panel_matrix),
    ("cbioportal_resource", lambda h: "RESOURCE_ID" in h.cells),
    ("cbioportal_timeline", lambda h: {"PATIENT_ID", "START_DATE", "EVENT_TYPE"} <= h.cells),
    ("cbioportal_gsva", lambda h: h.first == "geneset_id"),
    ("cbioportal_gistic_genes", lambda h: {"chromosome", "peak_start", "peak_end", "q_value"} <= h.cells),
    ("cbioportal_clinical", lambda h: "PATIENT_ID" in h.cells or ("SAMPLE_ID" in h.cells and len(h.comments) >= 4)),
    ("cbioportal_case_list", lambda h: bool({"case_list_ids", "case_list_category"} & h.keys)),
    ("cbioportal_gene_panel", lambda h: {"gene_list", "stable_id"} <= h.keys),
    (
        "cbioportal_meta",
        lambda h: bool({"cancer_study_identifier", "genetic_alteration_type", "type_of_cancer"} & h.keys),
    ),
    ("cbioportal_matrix", lambda h: h.first in ("Hugo_Symbol", "Entrez_Gene_Id")),
    ("cbioportal_generic_assay", lambda h: h.first == "ENTITY_STABLE_ID"),
    (
        "cbioportal_rppa",
        lambda h: (
            h.first in ("Composite.Element.REF", "Composite Element REF")
            and len(h.header) > 1
            and bool(_BARCODE.match(h.header[1]))
        ),
    ),
    ("xena_clinical", lambda h: h.first == "sampleID"),
    ("xena_mutations", lambda h: h.first == "sample" and {"chr", "start"} <= h.cells),
    ("xena_matrix", lambda h: h.first == "sample"),
    ("firehose_matrix", _firehose_matrix),
    ("firehose_clinical", _firehose_clinical),
    ("gdc_annotations", _gdc_annotations),
    ("table", _table),
]
"""The formats of text files, each with the test that recognises it, in order: the first that says yes names the
file (a MAF before anything with a sample column, named headers before the generic matrices, a plain table last)."""


def detect_text(text: str, path: str | PathLike = "<text>", *, truncated: bool = False) -> str:
    """:func:`detect_format` on the first bytes of a file, already decoded (``truncated``: more follows).

    The format is the first of :data:`SNIFFERS` (:data:`JSON_SNIFFERS` for a JSON file) whose test accepts the
    file's :class:`Head`.
    """
    path = path if isinstance(path, Path) else Path(path)
    if not text.strip():
        raise EmptyInputError("the file holds only whitespace", path=path)
    head = Head(text, path, truncated=truncated)
    if text.lstrip()[:1] in "[{":
        for name, sniff in JSON_SNIFFERS:
            if sniff(head):
                return name
        raise UnknownFormatError(
            "a JSON file that is not a GDC metadata export (no file_id / associated_entities)", path=path
        )
    if not head.body:
        raise EmptyInputError(f"the file has {len(head.comments)} comment line(s) and nothing else", path=path)
    for name, sniff in SNIFFERS:
        if sniff(head):
            return name
    raise UnknownFormatError(
        f"unknown format: the first line is {head.body[0][:100]!r}; expected a GDC, cBioPortal, Xena or Firehose "
        "file or a delimited table of numbers (see docs/readers.md for the recognised formats)",
        path=path,
        line=len(head.comments) + 1,
    )
