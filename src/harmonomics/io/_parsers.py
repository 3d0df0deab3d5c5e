"""Parsers for each public file type (GDC, cBioPortal, Xena, Firehose), built on pyarrow.

Each parser validates the header, parses the values and returns plain numpy/pandas objects. Errors are
:class:`~harmonomics._errors.FormatError` naming the file, line and column, and what was expected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import EmptyInputError, FormatError
from .._text import (
    NULL_VALUES,
    TextFile,
    arrow_table,
    column_numpy,
    column_strings,
    locate_row,
    open_text,
    require_columns,
)


@dataclass
class Profile:
    """One file's values for one aliquot: features, values (and extra value columns), feature annotation."""

    features: np.ndarray  # object array of feature IDs
    values: np.ndarray  # float64
    layers: dict[str, np.ndarray] = field(default_factory=dict)
    var: dict[str, np.ndarray] = field(default_factory=dict)  # feature annotation columns
    qc: dict[str, float] = field(default_factory=dict)  # per-file numbers (e.g. STAR N_unmapped)
    meta: dict[str, str] = field(default_factory=dict)


def _check_unique(tf: TextFile, ids: np.ndarray, column: str, what: str) -> None:
    uniq, counts = np.unique(ids.astype(str), return_counts=True)
    if len(uniq) != len(ids):
        dup = uniq[counts > 1][0]
        rows = np.flatnonzero(ids.astype(str) == dup)
        line = locate_row(tf, int(rows[1]))
        raise FormatError(
            f"duplicate {column} {dup!r} in {what} (first at line {locate_row(tf, int(rows[0]))}); expected unique IDs",
            path=tf.path,
            line=line,
            column=column,
        )


def _check_missing_ids(tf: TextFile, ids: np.ndarray, column: str, what: str) -> None:
    bad = np.flatnonzero(pd.isna(ids))
    if len(bad):
        raise FormatError(
            f"empty {column} in {what}; expected an identifier on every row",
            path=tf.path,
            line=locate_row(tf, int(bad[0])),
            column=column,
        )


def _arrow(table, name: str):
    """A column as one pyarrow Array (features stay in Arrow until they are needed as Python objects)."""
    col = table.column(name)
    return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)


def pa_array(mask: np.ndarray):
    import pyarrow as pa

    return pa.array(mask, type=pa.bool_())


def _check_missing_arrow(tf: TextFile, table, column: str, what: str, *, skip_header: bool = True) -> None:
    col = table.column(column)
    if col.null_count:
        bad = int(np.flatnonzero(pd.isna(col.to_numpy(zero_copy_only=False)))[0])
        raise FormatError(
            f"empty {column} in {what}; expected an identifier on every row",
            path=tf.path,
            line=locate_row(tf, bad, skip_header=skip_header),
            column=column,
        )


def as_numpy(values) -> np.ndarray:
    """Features or annotation as a numpy array, whether they are numpy or pyarrow."""
    if isinstance(values, np.ndarray):
        return values
    return values.to_numpy(zero_copy_only=False)


def same_values(a, b) -> bool:
    if len(a) != len(b):
        return False
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        return a.equals(b)
    return bool(np.array_equal(as_numpy(a), as_numpy(b)))


# --------------------------------------------------------------------------- GDC
STAR_COLUMNS = (
    "gene_id",
    "gene_name",
    "gene_type",
    "unstranded",
    "stranded_first",
    "stranded_second",
    "tpm_unstranded",
    "fpkm_unstranded",
    "fpkm_uq_unstranded",
)
STAR_REQUIRED = ("gene_id", "gene_name", "unstranded")


def parse_star_counts(
    path: str | PathLike, *, layers: tuple[str, ...] = ("tpm_unstranded",), data=None, annotate: bool = True
) -> Profile:
    """GDC STAR gene counts: unstranded counts as values, other columns (e.g. TPM) as layers.

    ``annotate=False`` skips the gene name / type columns (readers annotate from one file of a batch).
    """
    tf = open_text(path, data=data)
    header = tf.header()
    require_columns(tf, header, STAR_REQUIRED, "a GDC STAR gene-counts file")
    layers = tuple(c for c in layers if c in header)
    numeric = ["unstranded", *layers]
    names = ["gene_name", *(["gene_type"] if "gene_type" in header else [])] if annotate else []
    keep = ["gene_id", *names, *numeric]
    table = arrow_table(
        tf,
        column_names=header,
        include=keep,
        numeric=numeric,
        strings=[c for c in keep if c not in numeric],
        what="a STAR gene-counts file",
    )
    import pyarrow.compute as pc

    _check_missing_arrow(tf, table, "gene_id", "a STAR gene-counts file")
    is_qc = pc.starts_with(table.column("gene_id"), "N_").to_numpy(zero_copy_only=False)
    n_qc = int(is_qc.sum())
    # the N_ rows come first; keep positions for error messages
    qc_rows = table.filter(pa_array(is_qc))
    qc = {
        str(k): float(v) if v is not None else float("nan")
        for k, v in zip(qc_rows.column("gene_id").to_pylist(), qc_rows.column("unstranded").to_pylist(), strict=True)
    }
    genes_table = table.filter(pa_array(~is_qc)) if n_qc else table
    if genes_table.num_rows == 0:
        raise EmptyInputError("the STAR gene-counts file has no gene rows; the file may be truncated", path=tf.path)
    counts = column_numpy(genes_table, "unstranded")
    bad = np.flatnonzero(bad_count(counts))
    if len(bad):
        row = int(np.flatnonzero(~is_qc)[bad[0]])
        raise FormatError(
            f"expected a non-negative integer count, found {counts[bad[0]]!r}",
            path=tf.path,
            line=locate_row(tf, row),
            column="unstranded",
        )
    prof = Profile(features=_arrow(genes_table, "gene_id"), values=counts, qc=qc)
    for c in layers:
        prof.layers[c] = column_numpy(genes_table, c)
    for c in names:
        prof.var[c] = _arrow(genes_table, c)
    prof.meta = comment_meta(tf.comments)
    return prof


def bad_count(counts: np.ndarray) -> np.ndarray:
    """Where a read count is not a non-negative integer."""
    return ~np.isfinite(counts) | (counts < 0) | (counts != np.floor(counts))


def bad_beta(betas: np.ndarray) -> np.ndarray:
    """Where a methylation beta lies outside [0, 1] (a missing beta is allowed)."""
    with np.errstate(invalid="ignore"):
        return (betas < 0) | (betas > 1)


def comment_meta(comments: list[str]) -> dict[str, str]:
    """``# key: value`` comment lines (e.g. STAR's ``# gene-model: GENCODE v36``) as a dict."""
    meta = {}
    for line in comments:
        if ":" in line:
            k, v = line.lstrip("#").split(":", 1)
            meta[k.strip()] = v.strip()
    return meta


def parse_gene_copy_number(path: str | PathLike, *, data=None, annotate: bool = True) -> Profile:
    """GDC gene-level copy number (ASCAT): integer total copy number per gene, NaN where no segment."""
    tf = open_text(path, data=data)
    header = tf.header()
    require_columns(tf, header, ("gene_id", "gene_name", "copy_number"), "a GDC gene-level copy-number file")
    extra = [c for c in ("chromosome", "start", "end") if c in header] if annotate else []
    numeric = ["copy_number"]
    names = ["gene_name"] if annotate else []
    table = arrow_table(
        tf,
        column_names=header,
        include=["gene_id", *names, *extra, *numeric],
        numeric=numeric + [c for c in ("start", "end") if c in extra],
        strings=["gene_id", *names, *[c for c in ("chromosome",) if c in extra]],
        what="a gene-level copy-number file",
    )
    _check_missing_arrow(tf, table, "gene_id", "a gene-level copy-number file")
    prof = Profile(features=_arrow(table, "gene_id"), values=column_numpy(table, "copy_number"))
    for c in names:
        prof.var[c] = _arrow(table, c)
    for c in extra:
        prof.var[c] = _arrow(table, c) if c == "chromosome" else column_numpy(table, c)
    return prof


def parse_mirna(path: str | PathLike, *, data=None) -> Profile:
    """GDC miRNA quantification: read counts as values, reads per million as a layer."""
    tf = open_text(path, data=data)
    header = tf.header()
    require_columns(
        tf, header, ("miRNA_ID", "read_count", "reads_per_million_miRNA_mapped"), "a GDC miRNA quantification file"
    )
    numeric = ["read_count", "reads_per_million_miRNA_mapped"]
    table = arrow_table(
        tf,
        column_names=header,
        include=["miRNA_ID", *numeric],
        numeric=numeric,
        strings=["miRNA_ID"],
        what="a miRNA quantification file",
    )
    _check_missing_arrow(tf, table, "miRNA_ID", "a miRNA quantification file")
    prof = Profile(features=_arrow(table, "miRNA_ID"), values=column_numpy(table, "read_count"))
    prof.layers["rpm"] = column_numpy(table, "reads_per_million_miRNA_mapped")
    return prof


RPPA_ANNOTATION = ("lab_id", "catalog_number", "set_id", "peptide_target")


def parse_rppa(path: str | PathLike, *, data=None) -> Profile:
    """GDC RPPA: protein expression per antibody (AGID), peptide target as annotation."""
    tf = open_text(path, data=data)
    header = tf.header()
    require_columns(tf, header, ("AGID", "peptide_target", "protein_expression"), "a GDC RPPA file")
    ann = [c for c in RPPA_ANNOTATION if c in header]
    table = arrow_table(
        tf,
        column_names=header,
        include=["AGID", *ann, "protein_expression"],
        numeric=["protein_expression"],
        strings=["AGID", *ann],
        what="an RPPA file",
    )
    _check_missing_arrow(tf, table, "AGID", "an RPPA file")
    prof = Profile(features=_arrow(table, "AGID"), values=column_numpy(table, "protein_expression"))
    for c in ann:
        prof.var[c] = _arrow(table, c)
    return prof


def parse_meth_betas(path: str | PathLike, *, data=None) -> Profile:
    """GDC SeSAMe level-3 betas: no header, probe ID and beta in [0, 1] or NA."""
    tf = open_text(path, comment=None, data=data)
    first = tf.first_line.split("\t")
    if len(first) != 2 or not looks_like_probe(first[0]):
        raise FormatError(
            f"wrong first line for a methylation beta file: found {tf.first_line[:80]!r}; expected no header and "
            "two tab-separated columns, a probe ID (cg…, ch.…, rs…) and a beta value",
            path=tf.path,
            line=1,
        )
    table = arrow_table(
        tf,
        column_names=["probe", "beta"],
        skip_header=False,
        numeric=["beta"],
        strings=["probe"],
        what="a methylation beta file",
    )
    _check_missing_arrow(tf, table, "probe", "a methylation beta file", skip_header=False)
    ids = _arrow(table, "probe")
    betas = column_numpy(table, "beta")
    bad = np.flatnonzero(bad_beta(betas))
    if len(bad):
        raise FormatError(
            f"expected a beta value in [0, 1], found {betas[bad[0]]!r}",
            path=tf.path,
            line=locate_row(tf, int(bad[0]), skip_header=False),
            column=2,
        )
    return Profile(features=ids, values=betas)


def looks_like_probe(x: str) -> bool:
    return x.startswith(("cg", "ch.", "rs", "ch", "nv"))


MAF_KEY_COLUMNS = (
    "Hugo_Symbol",
    "Entrez_Gene_Id",
    "Chromosome",
    "Start_Position",
    "End_Position",
    "Variant_Classification",
    "Variant_Type",
    "Reference_Allele",
    "Tumor_Seq_Allele1",
    "Tumor_Seq_Allele2",
    "Tumor_Sample_Barcode",
    "Matched_Norm_Sample_Barcode",
    "HGVSc",
    "HGVSp_Short",
    "HGVSp",
    "Protein_Change",
    "amino_acid_change_WU",
    "amino_acid_change",
    "NCBI_Build",
    "End_position",
    "Transcript_ID",
    "t_depth",
    "t_ref_count",
    "t_alt_count",
    "n_depth",
    "Gene",
    "IMPACT",
    "callers",
)
MAF_REQUIRED = ("Hugo_Symbol", "Variant_Classification", "Tumor_Sample_Barcode")
# where MAFs of different origins write the protein change (GDC/cBioPortal, legacy TCGA, Firehose WUSTL), in order
PROTEIN_CHANGE_COLUMNS = ("HGVSp_Short", "Protein_Change", "amino_acid_change_WU", "amino_acid_change", "HGVSp")


MAF_INTEGER_COLUMNS = (
    "Start_Position",
    "End_Position",
    "End_position",
    "t_depth",
    "t_ref_count",
    "t_alt_count",
    "n_depth",
)


def maf_keep_columns(header: list[str], columns: str | tuple[str, ...]) -> list[str]:
    """The MAF columns kept for ``columns`` (``"key"``, ``"all"`` or names) among those in ``header``."""
    if columns == "key":
        return [c for c in MAF_KEY_COLUMNS if c in header]
    if columns == "all":
        return list(dict.fromkeys(header))
    keep = [c for c in columns if c in header]
    return keep + [c for c in MAF_REQUIRED if c not in keep]


def parse_maf(path: str | PathLike, *, columns: str | tuple[str, ...] = "key", data=None, as_arrow: bool = False):
    """A MAF (GDC masked or cBioPortal data_mutations): the long table, and its comment lines.

    ``columns="key"`` keeps :data:`MAF_KEY_COLUMNS` present in the file, ``"all"`` every column. Positions and
    read counts are integers, everything else strings. A file with a header and no variants gives an empty
    table (a sample without mutations). ``as_arrow=True`` returns a :class:`pyarrow.Table` instead of pandas.
    """
    import pyarrow as pa

    tf = open_text(path, data=data)
    header = tf.header()
    require_columns(tf, header, MAF_REQUIRED, "a MAF file")
    keep = maf_keep_columns(header, columns)
    integer = [c for c in MAF_INTEGER_COLUMNS if c in keep]
    if not tf.has_body():
        table = pa.table({c: pa.array([], type=pa.int64() if c in integer else pa.string()) for c in keep})
    else:
        table = arrow_table(
            tf,
            column_names=header,
            include=keep,
            integer=integer,
            strings=[c for c in keep if c not in integer],
            what="a MAF file",
        )
        tsb = table.column("Tumor_Sample_Barcode")
        if tsb.null_count:
            bad = int(np.flatnonzero(pd.isna(tsb.to_numpy(zero_copy_only=False)))[0])
            raise FormatError(
                "empty Tumor_Sample_Barcode in a MAF file; expected an identifier on every row",
                path=tf.path,
                line=locate_row(tf, bad),
                column="Tumor_Sample_Barcode",
            )
    if as_arrow:
        return table, tf.comments
    return table.to_pandas(), tf.comments


def parse_segments(path: str | PathLike, *, data=None) -> pd.DataFrame:
    """Copy-number segments (ASCAT or SNP6 DNAcopy; first column GDC_Aliquot or Sample)."""
    tf = open_text(path, data=data)
    header = tf.header()
    sample_col = (
        "GDC_Aliquot"
        if "GDC_Aliquot" in header
        else "Sample"
        if "Sample" in header
        else "ID"
        if "ID" in header
        else None
    )
    if sample_col is None:
        raise FormatError(
            f"wrong header for a copy-number segment file: found {header[:7]}; expected GDC_Aliquot (or Sample) "
            "Chromosome Start End and Copy_Number or Segment_Mean",
            path=tf.path,
            line=tf.header_line,
        )
    chrom = "Chromosome" if "Chromosome" in header else "chrom"
    start = "Start" if "Start" in header else "loc.start"
    end = "End" if "End" in header else "loc.end"
    require_columns(tf, header, (sample_col, chrom, start, end), "a copy-number segment file")
    numeric = [c for c in header if c not in (sample_col, chrom)]
    table = arrow_table(
        tf, column_names=header, numeric=numeric, strings=[sample_col, chrom], what="a copy-number segment file"
    )
    df = table.to_pandas().rename(columns={sample_col: "aliquot", chrom: "Chromosome", start: "Start", end: "End"})
    if "Segment_Mean" not in df and "seg.mean" in df:
        df = df.rename(columns={"seg.mean": "Segment_Mean"})
    return df


def parse_gdc_clinical(path: str | PathLike, *, data=None) -> pd.DataFrame:
    """GDC clinical.tsv: string table with ``'--`` as missing; several rows per case. Column names as written."""
    tf = open_text(path, comment=None, data=data)
    header = tf.header()
    case_col = next((c for c in ("cases.submitter_id", "case_submitter_id", "submitter_id") if c in header), None)
    if case_col is None:
        raise FormatError(
            f"wrong header for a GDC clinical.tsv: found {header[:6]}; expected a cases.submitter_id "
            "(or case_submitter_id) column",
            path=tf.path,
            line=tf.header_line,
        )
    table = arrow_table(tf, column_names=header, strings=header, what="a GDC clinical.tsv")
    df = table.to_pandas()
    _check_missing_ids(tf, df[case_col].to_numpy(), case_col, "a GDC clinical.tsv")
    return df


def parse_sample_sheet(path: str | PathLike, *, data=None) -> pd.DataFrame:
    """GDC sample sheet (current or older columns) as strings, with the 1-based file line in ``_line``."""
    tf = open_text(path, comment=None, data=data)
    header = tf.header()
    require_columns(
        tf, header, ("File ID", "File Name", "Data Type", "Project ID", "Case ID", "Sample ID"), "a GDC sample sheet"
    )
    table = arrow_table(tf, column_names=header, strings=header, what="a GDC sample sheet")
    df = table.to_pandas()
    df["_line"] = [locate_row(tf, i) for i in range(len(df))] if len(df) < 50 else _row_lines(tf, len(df))
    return df


def _row_lines(tf: TextFile, n: int) -> list[int]:
    lines = []
    for i, line in enumerate(tf.data[tf.body_offset :].split(b"\n")):
        if line.strip(b"\r"):
            lines.append(tf.header_line + 1 + i)
    return lines[:n]


def parse_metadata_json(path: str | PathLike) -> list[dict]:
    """GDC metadata export: a JSON list of file records with ``associated_entities``."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        raise EmptyInputError("the metadata JSON file is empty; expected a list of file records", path=path)
    try:
        records = json.loads(text)
    except json.JSONDecodeError as err:
        raise FormatError(
            f"invalid JSON ({err.msg}); expected the GDC metadata export (a list of file records)",
            path=path,
            line=err.lineno,
            column=err.colno,
        ) from err
    if isinstance(records, dict) and "data" in records:
        records = records["data"].get("hits", records["data"]) if isinstance(records["data"], dict) else records["data"]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FormatError("expected a JSON list of file records (GDC metadata export)", path=path)
    for i, r in enumerate(records):
        if "file_id" not in r or "associated_entities" not in r:
            raise FormatError(
                f"record {i} lacks file_id or associated_entities; expected the GDC metadata export", path=path
            )
    return records


# --------------------------------------------------------------------------- generic matrices
@dataclass
class Matrix:
    """A features × samples (or samples × features) matrix read from a text file."""

    row_ids: np.ndarray  # feature IDs (after id columns were combined)
    columns: list[str]  # sample IDs as written
    values: np.ndarray  # rows × columns float64
    row_annotation: dict[str, np.ndarray] = field(default_factory=dict)
    header_line: int = 1


def parse_matrix(
    path: str | PathLike,
    *,
    id_columns: int | tuple[str, ...] = 1,
    skip_rows_after_header: int = 0,
    comment: str | None = "#",
    what: str = "a matrix file",
    data=None,
    tf: TextFile | None = None,
    sep: str = "\t",
) -> Matrix:
    """Parse a tab-separated matrix: leading ID column(s), then one numeric column per sample.

    ``id_columns`` is a number of leading columns or the names of the annotation columns.
    ``skip_rows_after_header`` skips e.g. Firehose's second header row.
    """
    if tf is None:
        tf = open_text(path, comment=comment, data=data)
    header = [h.strip('"') for h in tf.header(sep)]
    ann = header[:id_columns] if isinstance(id_columns, int) else [c for c in header if c in id_columns]
    samples = [c for c in header if c not in ann]
    if not samples:
        raise FormatError(
            f"{what} has no sample columns; expected ID column(s) {ann} followed by sample columns",
            path=tf.path,
            line=tf.header_line,
        )
    dupes = sorted({s for s in samples if samples.count(s) > 1})
    if dupes:
        raise FormatError(
            f"duplicate sample column(s) {dupes[:5]} in {what}; expected each sample once",
            path=tf.path,
            line=tf.header_line,
        )
    if "" in samples:
        raise FormatError(
            f"empty sample name in the header of {what}", path=tf.path, line=tf.header_line, column=header.index("") + 1
        )
    if skip_rows_after_header:
        offset = tf.body_offset
        for k in range(skip_rows_after_header):
            nl = tf.data.find(b"\n", offset)
            row = tf.data[offset : len(tf.data) if nl < 0 else nl].decode("utf-8", errors="replace").rstrip("\r")
            if len(row.split(sep)) != len(header):
                raise FormatError(
                    f"expected {len(header)} fields in the second header row of {what}, found {len(row.split(sep))}",
                    path=tf.path,
                    line=tf.header_line + 1 + k,
                )
            offset = len(tf.data) if nl < 0 else nl + 1
        sub = TextFile(tf.path, tf.data, tf.comments, tf.header_offset, tf.header_line)
        # re-point the body: emulate by a new TextFile whose "header" is the last skipped row
        last_nl = tf.data.rfind(b"\n", 0, offset - 1)
        sub.header_offset = last_nl + 1 if last_nl >= 0 else 0
        sub.header_line = tf.header_line + skip_rows_after_header
        tf_body = sub
    else:
        tf_body = tf
    table = arrow_table(tf_body, column_names=header, numeric=samples, strings=ann, what=what, delimiter=sep)
    values = np.empty((table.num_rows, len(samples)), dtype=np.float64)
    for j, s in enumerate(samples):
        values[:, j] = column_numpy(table, s)
    row_annotation = {c: column_strings(table, c) for c in ann}
    return Matrix(
        row_ids=row_annotation[ann[0]] if ann else np.arange(table.num_rows).astype(str),
        columns=samples,
        values=values,
        row_annotation=row_annotation,
        header_line=tf.header_line,
    )


def parse_key_value(path: str | PathLike) -> dict[str, str]:
    """A cBioPortal meta file or case list: ``key: value`` lines."""
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise EmptyInputError("the file is empty; expected `key: value` lines", path=path)
    out: dict[str, str] = {}
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if ":" not in line:
            raise FormatError(f"expected a `key: value` line, found {line[:60]!r}", path=path, line=i)
        k, v = line.split(":", 1)
        out[k.strip()] = v.strip()
    return out


def parse_cbio_clinical(path: str | PathLike, *, data=None) -> tuple[pd.DataFrame, list[str]]:
    """cBioPortal clinical file: the # lines (display names, descriptions, datatypes, priorities), then a table."""
    tf = open_text(path, data=data)
    header = tf.header()
    if "PATIENT_ID" not in header and "SAMPLE_ID" not in header:
        raise FormatError(
            f"wrong header for a cBioPortal clinical file: found {header[:5]}; expected PATIENT_ID (and SAMPLE_ID "
            "for sample attributes) after the four # lines",
            path=tf.path,
            line=tf.header_line,
        )
    if tf.comments and len(tf.comments) != 4:
        raise FormatError(
            f"found {len(tf.comments)} leading # lines; expected 4 (display names, descriptions, datatypes, "
            "priorities)",
            path=tf.path,
            line=len(tf.comments),
        )
    table = arrow_table(tf, column_names=header, strings=header, what="a cBioPortal clinical file")
    df = table.to_pandas()
    key = "SAMPLE_ID" if "SAMPLE_ID" in header else "PATIENT_ID"
    ids = df[key].to_numpy()
    _check_missing_ids(tf, ids, key, "a cBioPortal clinical file")
    _check_unique(tf, ids, key, "a cBioPortal clinical file")
    dtypes = tf.comments[2].lstrip("#").split("\t") if len(tf.comments) == 4 else []
    not_numbers = []  # (column, row, line, value) of NUMBER cells that are not numbers: the reader reports them
    for name, kind in zip(header, dtypes, strict=False):
        if kind.strip().upper() == "NUMBER":
            numbers = pd.to_numeric(df[name], errors="coerce")
            for row in np.flatnonzero(numbers.isna().to_numpy() & df[name].notna().to_numpy()):
                not_numbers.append((name, int(row), locate_row(tf, int(row)), str(df[name].iat[row])))
            df[name] = numbers
    df.attrs["not_numbers"] = not_numbers
    return df, tf.comments


__all__ = [
    "NULL_VALUES",
    "Matrix",
    "Profile",
    "parse_cbio_clinical",
    "parse_gdc_clinical",
    "parse_gene_copy_number",
    "parse_key_value",
    "parse_maf",
    "parse_matrix",
    "parse_metadata_json",
    "parse_meth_betas",
    "parse_mirna",
    "parse_rppa",
    "parse_sample_sheet",
    "parse_segments",
    "parse_star_counts",
]
