"""Readers for plain tables (TSV/CSV files or DataFrames) as people have them: ``read_table`` and ``read_tables``.

The orientation of a table is decided from what its IDs are, never from its shape: feature IDs (gene symbols,
``SYMBOL|ENTREZ``, Ensembl, miRNA, CpG probes, RPPA antibodies; see :func:`harmonomics._genes.feature_id_kinds`)
on one axis, sample IDs (TCGA barcodes in any written form, GEO ``GSM…``, METABRIC ``MB-…``) or unrecognised IDs
on the other. When the IDs do not tell, :class:`~harmonomics._errors.AmbiguousOrientationError` asks for
``orientation=``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .. import barcodes as _bc
from .._errors import AmbiguousOrientationError, FormatError
from .._genes import feature_id_kinds
from .._text import NULL_VALUES, open_text
from . import _parsers as P
from ._build import Block, Report, assemble, feature_names, file_records, read_input
from ._matrices import ANALYTE, check_omic

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)

ORIENTATIONS = ("auto", "features_x_samples", "samples_x_features")
FEATURES_X_SAMPLES, SAMPLES_X_FEATURES = ORIENTATIONS[1:]

# A second ID column beside the feature ID, as cBioPortal and R exports write it (Hugo_Symbol, Entrez_Gene_Id).
_ENTREZ_COLUMN = re.compile(
    r"^(?:entrez(?:[ _.]?gene)?(?:[ _.]?ids?)?|entrezgene(?:_id)?|locus[ _.]?(?:link|id))$", re.IGNORECASE
)
# an axis is read as samples / features when at least this share of its IDs is recognised as such,
_AXIS_SHARE = 0.5
# and the other axis as not-features when at most this share of its IDs looks like features
_OTHER_AXIS_MAX = 0.25


@dataclass
class _Table:
    """A table as read, before its orientation is known: row IDs, column IDs and the numbers between them."""

    name: str  # the file, or "<DataFrame 'rna'>"
    path: Path | None
    row_ids: np.ndarray
    columns: np.ndarray
    values: np.ndarray  # rows × columns, float64
    header_line: int = 1
    entrez: np.ndarray | None = None  # a second ID column of the rows (Entrez IDs)
    notes: list[str] = field(default_factory=list)  # how the table was read, for the report
    record: tuple | None = None  # (path, md5, size, format) for the provenance


def read_table(
    path: str | PathLike | pd.DataFrame,
    *,
    omic: str,
    orientation: str = "auto",
    sep: str | None = None,
    sample_types: str | tuple[str, ...] | None = "primary",
    keep_all_aliquots: bool = False,
    join_on: str = "sample",
) -> md.MuData:
    """Read a plain table of numbers (a delimited file or a DataFrame) into a one-modality store.

    Parameters
    ----------
    path
        A TSV or CSV file (gzip recognised by content) or a DataFrame. In a file, the first column holds the row
        IDs and the header the column IDs; a header one cell short (as R's ``write.table`` writes it) is read
        with the first column as row names; a second header row of labels (Firehose ``gene_id
        normalized_count``) is skipped; a second ID column named like ``Entrez_Gene_Id`` (cBioPortal, R exports)
        goes to ``var["entrez"]``. A DataFrame's index holds the row IDs (or, for a default RangeIndex, its first
        column).
    omic
        Modality name (``rna``, ``mirna``, ``meth``, ``cnv``, ``mut``, ``prot``).
    orientation
        ``"features_x_samples"``, ``"samples_x_features"`` or ``"auto"``: the axis whose IDs are feature IDs
        (gene symbols of the shipped GENCODE/Ensembl vocabulary and legacy aliases, ``SYMBOL|ENTREZ``, Ensembl,
        miRNA names, CpG probes, RPPA antibody names) holds the features; the axis of sample IDs (TCGA barcodes
        in any written form, GEO ``GSM…``, METABRIC ``MB-…``), or the one that is not features, holds the
        samples. The decision and its evidence are in the report.
    sep
        Delimiter; default: tab if the header has one, else comma, else semicolon.
    sample_types
        Sample-type policy for TCGA barcodes (see :func:`read_gdc`); ``"tumor_normal"`` keeps solid-tissue
        normals as their own samples. Other IDs are sample keys as they are.
    keep_all_aliquots
        Keep every aliquot as its own row, keyed by its barcode (global obs gets a ``sample`` column), instead
        of choosing one per sample: for QC of replicate aliquots. The sample-type policy still applies.
    join_on
        ``"sample"`` (15-character keys) or ``"patient"`` (12-character keys; one sample per patient).

    Returns
    -------
    MuData with one modality ``omic`` (values as written; RNA also in ``layers["counts"]``), global obs
    (patient, sample_type, sample_type_code for TCGA barcodes, missing for other IDs), provenance and report.

    Raises
    ------
    AmbiguousOrientationError
        ``orientation="auto"`` and the IDs do not tell which axis holds the features.
    EmptyInputError
        Empty file or a header without rows.
    FormatError
        A non-numeric value, a row of the wrong length (names line and column), duplicate IDs, a malformed
        TCGA barcode.
    """
    check_omic(omic, path if not isinstance(path, pd.DataFrame) else None)
    _check_orientation(orientation)
    report = Report()
    table = _load(path, name=omic, sep=sep)
    block, used = _to_block(table, omic=omic, orientation=orientation, report=report)
    return assemble(
        [block],
        report=report,
        reader="harmonomics.io.read_table",
        files=file_records([table.record] if table.record else []),
        parameters={"path": table.name, "omic": omic, "orientation": used, "sep": sep},
        sample_types=sample_types,
        join="union",
        keep_all_aliquots=keep_all_aliquots,
        join_on=join_on,
    )


def read_tables(
    tables: Mapping[str, str | PathLike | pd.DataFrame],
    *,
    clinical: str | PathLike | pd.DataFrame | None = None,
    join_on: str = "sample",
    orientation: str | Mapping[str, str] = "auto",
    sep: str | None = None,
    sample_types: str | tuple[str, ...] | None = "primary",
    join: str = "union",
    keep_all_aliquots: bool = False,
) -> md.MuData:
    """Assemble one store from several tables, one per omic (files or DataFrames), with the readers' sample policy.

    Parameters
    ----------
    tables
        ``{omic: path or DataFrame}``, e.g. ``{"rna": "counts.tsv.gz", "prot": rppa_frame}``. Each table is read
        as by :func:`read_table` (orientation from its IDs, R-style barcodes normalised).
    clinical
        A table (file or DataFrame) with one row per patient or per sample: the first column (or a DataFrame's
        index) holds the IDs, in any barcode form. Patient-keyed tables fill every sample of the patient. Numeric
        columns are read as numbers, others as strings. A ``pam50`` column is derived from ``PAM50Call_RNAseq``,
        ``PAM50``, ``pam50_xena`` or ``SUBTYPE``, and ``os_time``/``os_event`` from ``vital_status``,
        ``days_to_death`` and ``days_to_last_followup``.
    join_on
        ``"sample"``: samples are keyed by the 15-character sample barcode (or the ID itself). ``"patient"``: by
        the 12-character patient barcode, so that omics keyed by aliquot, sample or patient (as R exports often
        are) come together; a patient with several samples of one omic keeps one (lowest sample-type code, then
        the aliquot rules) and the others are reported.
    orientation
        One orientation for all tables or ``{omic: orientation}``; see :func:`read_table`.
    sep
        Delimiter of the files (default: sniffed per file).
    sample_types
        Sample-type policy for TCGA barcodes (see :func:`read_gdc`).
    join
        ``"union"`` or ``"intersection"`` of samples across omics.
    keep_all_aliquots
        See :func:`read_table` (only with ``join_on="sample"``).

    Returns
    -------
    MuData with one modality per table, global obs (patient, sample type, clinical columns; with
    ``join_on="patient"`` also ``sample``, the sample the omics used), provenance and report.
    """
    if not tables:
        raise ValueError("read_tables needs at least one table: {omic: path or DataFrame}")
    report = Report()
    blocks, records, used = [], [], {}
    for omic, source in tables.items():
        check_omic(omic, source if not isinstance(source, pd.DataFrame) else None)
        wanted = orientation.get(omic, "auto") if isinstance(orientation, Mapping) else orientation
        _check_orientation(wanted)
        table = _load(source, name=omic, sep=sep)
        block, used[omic] = _to_block(table, omic=omic, orientation=wanted, report=report)
        blocks.append(block)
        if table.record:
            records.append(table.record)
    patient_clin = sample_clin = None
    clinical_name = None
    if clinical is not None:
        clin, level, clinical_name, record = _load_clinical(clinical, sep=sep)
        if record:
            records.append(record)
        report.add(
            "file",
            clinical_name,
            "clinical",
            "",
            "kept",
            f"clinical table keyed by {level}: {len(clin)} rows × {clin.shape[1]} columns",
        )
        if level == "patient":
            patient_clin = clin
        else:
            sample_clin = clin
    return assemble(
        blocks,
        report=report,
        reader="harmonomics.io.read_tables",
        files=file_records(records),
        parameters={
            "tables": {k: "<DataFrame>" if isinstance(v, pd.DataFrame) else str(v) for k, v in tables.items()},
            "clinical": clinical_name,
            "orientation": used,
            "join_on": join_on,
            "sep": sep,
        },
        sample_types=sample_types,
        join=join,
        keep_all_aliquots=keep_all_aliquots,
        join_on=join_on,
        patient_clinical=patient_clin,
        sample_clinical=sample_clin,
    )


def _check_orientation(orientation: str) -> None:
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}, got {orientation!r}")


# --------------------------------------------------------------------------- loading
def _load(source, *, name: str, sep: str | None) -> _Table:
    if isinstance(source, pd.DataFrame):
        return _load_frame(source, name=f"<DataFrame {name!r}>")
    return _load_file(Path(source), sep=sep)


def _sniff_sep(first_line: str) -> str:
    return "\t" if "\t" in first_line else "," if "," in first_line else ";" if ";" in first_line else "\t"


def _load_file(path: Path, *, sep: str | None) -> _Table:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    md5, size, data = read_input(path, empty="the file is empty; expected a header row and data rows")
    tf = open_text(path, data=data, comment="#")
    first = tf.first_line
    sep = sep or _sniff_sep(first)
    header = [h.strip().strip('"') for h in first.split(sep)]
    if len(header) < 2:
        raise FormatError(
            f"the header has one column; expected an ID column then {sep!r}-separated columns",
            path=path,
            line=tf.header_line,
        )
    notes: list[str] = []
    peek = [
        ln.rstrip("\r")
        for ln in tf.data[tf.body_offset : tf.body_offset + 200000]
        .decode("utf-8", errors="replace")
        .split("\n")[:-1][:5]
    ]
    peek = [ln for ln in peek if ln.strip()]
    if peek and len(peek[0].split(sep)) == len(header) + 1:
        # R's write.table: the header has no cell for the row names; give it an empty one
        data = tf.data[: tf.header_offset] + sep.encode() + tf.data[tf.header_offset :]
        tf = open_text(path, data=data, comment="#")
        header = [""] + header
        notes.append(
            "the header has no cell for the row-name column (as R's write.table writes it): "
            "the first column was read as row IDs"
        )
    second = peek[0].split(sep) if peek else []
    skip = 1 if (len(second) > 1 and not _numberish(second[1].strip('"')) and _numberish_row(peek[1:3], sep)) else 0
    id_columns = 2 if len(header) > 2 and _ENTREZ_COLUMN.match(header[1]) else 1
    if id_columns == 2:
        notes.append(f"second ID column {header[1]!r} read as Entrez IDs (var['entrez'])")
    mat = P.parse_matrix(path, id_columns=id_columns, tf=tf, skip_rows_after_header=skip, sep=sep, what="a table")
    row_ids = np.asarray([str(r).strip('"') if r is not None else "" for r in mat.row_ids], dtype=object)
    entrez = None
    if id_columns == 2:
        raw = mat.row_annotation[header[1]]
        entrez = np.asarray(["" if v is None else str(v).strip('"') for v in raw], dtype=object)
    return _Table(
        name=str(path),
        path=path,
        row_ids=row_ids,
        columns=np.asarray(mat.columns, dtype=object),
        values=mat.values,
        header_line=mat.header_line,
        entrez=entrez,
        notes=notes,
        record=(path, md5, size, "table"),
    )


def _load_frame(frame: pd.DataFrame, *, name: str) -> _Table:
    df = frame
    notes: list[str] = []
    entrez = None
    if isinstance(df.index, pd.RangeIndex) and df.shape[1] > 1 and not pd.api.types.is_numeric_dtype(df.iloc[:, 0]):
        first = df.columns[0]
        notes.append(f"the first column {first!r} was read as row IDs")
        df = df.set_index(first)
    if df.shape[1] > 1 and _ENTREZ_COLUMN.match(str(df.columns[0])):
        entrez = df.iloc[:, 0].astype(object).where(df.iloc[:, 0].notna(), "").astype(str).to_numpy(dtype=object)
        notes.append(f"second ID column {df.columns[0]!r} read as Entrez IDs (var['entrez'])")
        df = df.iloc[:, 1:]
    if df.empty:
        raise FormatError("the DataFrame has no rows or no value columns; expected IDs and numbers", path=name)
    values = np.empty(df.shape, dtype=np.float64)
    for j, column in enumerate(df.columns):
        col = df.iloc[:, j]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            values[:, j] = col.to_numpy(dtype=np.float64, na_value=np.nan)
            continue
        text = col.astype(object)
        numbers = pd.to_numeric(text.where(~text.isin(NULL_VALUES), None), errors="coerce")
        bad = numbers.isna().to_numpy() & text.notna().to_numpy() & ~text.isin(NULL_VALUES).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FormatError(
                f"expected a number, found {text.iloc[i]!r} (row {df.index[i]!r})", path=name, column=str(column)
            )
        values[:, j] = numbers.to_numpy(dtype=np.float64)
    return _Table(
        name=name,
        path=None,
        row_ids=np.asarray(df.index.astype(str), dtype=object),
        columns=np.asarray(pd.Index(df.columns).astype(str), dtype=object),
        values=values,
        entrez=entrez,
        notes=notes,
    )


def _numberish(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return x in ("NA", "", "NaN", "nan")
    return True


def _numberish_row(lines, sep) -> bool:
    for ln in lines:
        cells = ln.rstrip("\r").split(sep)
        if len(cells) > 1:
            return _numberish(cells[1].strip('"'))
    return False


# --------------------------------------------------------------------------- orientation
def _axis_evidence(ids: np.ndarray) -> dict:
    """What the IDs of one axis are: shares of sample IDs and feature IDs, with the kinds counted."""
    ids = np.asarray(ids, dtype=object)
    n = max(len(ids), 1)
    samples = _bc.sample_id_kinds(ids) if len(ids) else np.zeros(0, dtype=object)
    features = feature_id_kinds(ids) if len(ids) else np.zeros(0, dtype=object)
    sample_counts = pd.Series(samples[samples != "other"]).value_counts()
    feature_counts = pd.Series(features[features != ""]).value_counts()
    return {
        "n": len(ids),
        "sample_share": float((samples != "other").sum()) / n,
        "feature_share": float((features != "").sum()) / n,
        "samples": ", ".join(f"{v} {_SAMPLE_WORDS[k]}" for k, v in sample_counts.items()),
        "features": ", ".join(f"{v} {k}" for k, v in feature_counts.items()),
    }


_SAMPLE_WORDS = {"tcga": "TCGA barcodes", "geo": "GEO sample IDs", "metabric": "METABRIC IDs"}


def _say(axis: str, ev: dict) -> str:
    parts = []
    if ev["samples"]:
        parts.append(f"sample IDs: {ev['samples']}")
    if ev["features"]:
        parts.append(f"feature IDs: {ev['features']}")
    return f"{axis} ({ev['n']}): " + ("; ".join(parts) if parts else "none recognised")


def decide_orientation(row_ids, column_ids, *, name: str | None = None) -> tuple[str, str]:
    """``(orientation, evidence)`` of a table from its IDs; raises AmbiguousOrientationError when they do not tell."""
    rows, cols = _axis_evidence(row_ids), _axis_evidence(column_ids)
    said = f"{_say('rows', rows)}; {_say('columns', cols)}"
    if (
        cols["sample_share"] >= _AXIS_SHARE
        and rows["sample_share"] < _AXIS_SHARE
        and cols["feature_share"] < _AXIS_SHARE
    ):
        return FEATURES_X_SAMPLES, f"the columns are sample IDs ({said})"
    if (
        rows["sample_share"] >= _AXIS_SHARE
        and cols["sample_share"] < _AXIS_SHARE
        and rows["feature_share"] < _AXIS_SHARE
    ):
        return SAMPLES_X_FEATURES, f"the rows are sample IDs ({said})"
    if (
        rows["feature_share"] >= _AXIS_SHARE
        and cols["feature_share"] <= _OTHER_AXIS_MAX
        and cols["sample_share"] < _AXIS_SHARE
    ):
        return FEATURES_X_SAMPLES, f"the rows are feature IDs and the columns are not ({said})"
    if (
        cols["feature_share"] >= _AXIS_SHARE
        and rows["feature_share"] <= _OTHER_AXIS_MAX
        and rows["sample_share"] < _AXIS_SHARE
    ):
        return SAMPLES_X_FEATURES, f"the columns are feature IDs and the rows are not ({said})"
    raise AmbiguousOrientationError(
        f"cannot tell which axis holds the features: {said}; pass orientation='features_x_samples' "
        "(rows are features) or orientation='samples_x_features' (rows are samples)",
        path=name,
    )


def _to_block(table: _Table, *, omic: str, orientation: str, report: Report) -> tuple[Block, str]:
    if orientation == "auto":
        orientation, evidence = decide_orientation(table.row_ids, table.columns, name=table.name)
    else:
        evidence = "given as orientation="
    if orientation == FEATURES_X_SAMPLES:
        feat, samples, values = table.row_ids, table.columns, np.ascontiguousarray(table.values.T)
        entrez = table.entrez
    else:
        feat, samples, values = table.columns, table.row_ids, table.values
        entrez = None
        if table.entrez is not None:
            report.add(
                "file",
                table.name,
                omic,
                "",
                "dropped",
                "the second ID column describes the rows, which are samples here: not read",
            )
        s = pd.Index(samples)
        if not s.is_unique:
            dup = s[s.duplicated()][0]
            line = table.header_line + 1 + int(np.flatnonzero(s == dup)[1]) if table.path else None
            raise FormatError(f"duplicate sample {dup!r}; expected each sample once", path=table.name, line=line)
    ids, var = feature_names(feat, entrez, path=table.name, header_line=table.header_line)
    block = Block(
        omic=omic,
        ids=[str(x) for x in samples],
        source_files=[_source(table)] * len(samples),
        values=values,
        var=var,
        analyte_kind=ANALYTE[omic],
    )
    if omic == _keys.RNA:
        block.layers["counts"] = block.values.copy()
    for note in table.notes:
        report.add("file", table.name, omic, "", "kept", note)
    shape = orientation.replace("_x_", " × ")
    report.add(
        "file",
        table.name,
        omic,
        "",
        "kept",
        f"{shape} table: {len(ids)} features × {len(samples)} samples; orientation: {evidence}",
    )
    logger.info("%s: read as %s (%s)", table.name, shape, evidence)
    return block, orientation


def _source(table: _Table) -> str:
    return table.path.name if table.path is not None else table.name


# --------------------------------------------------------------------------- clinical
def _load_clinical(source, *, sep: str | None) -> tuple[pd.DataFrame, str, str, tuple | None]:
    """A clinical table keyed by normalised IDs; returns (table, "patient" | "sample", name, provenance record)."""
    record = None
    if isinstance(source, pd.DataFrame):
        name = "<DataFrame 'clinical'>"
        df = source.copy()
        if isinstance(df.index, pd.RangeIndex):
            df = df.set_index(df.columns[0])
        df = df.astype(object).where(df.notna(), None)
        df = df.apply(_typed_column)
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        md5, size, data = read_input(path, empty="the clinical file is empty; expected a header row and data rows")
        tf = open_text(path, data=data, comment="#")
        sep = sep or _sniff_sep(tf.first_line)
        header = [h.strip().strip('"') for h in tf.header(sep)]
        from .._text import arrow_table

        table = arrow_table(tf, column_names=header, strings=header, what="a clinical table", delimiter=sep)
        df = table.to_pandas().set_index(header[0])
        df = df.apply(_typed_column)
        name, record = str(path), (path, md5, size, "clinical_table")
    ids = pd.Index(df.index.astype(str))
    if (ids.str.strip() == "").any():
        raise FormatError("a clinical row has no ID; expected a patient or sample ID in the first column", path=name)
    norm = _bc.normalize_barcodes(ids)
    keys = norm["barcode"].to_numpy(dtype=object)
    kinds = _bc.sample_id_kinds(keys)
    level = "sample"
    if (kinds == "tcga").any():
        parsed = _bc.parse_barcodes(keys[kinds == "tcga"])
        if (parsed["level"] == "patient").all():
            level = "patient"
        else:
            deep = parsed["sample"].to_numpy(dtype=object)
            # vial or deeper barcodes (TCGA-A1-A0SD-01A) key the sample they belong to
            keys[kinds == "tcga"] = np.where(pd.isna(deep), keys[kinds == "tcga"], deep)
    df.index = pd.Index(keys, dtype=object)
    if not df.index.is_unique:
        dup = df.index[df.index.duplicated()][0]
        raise FormatError(f"duplicate clinical ID {dup!r}; expected one row per {level}", path=name)
    df.index.name = None
    df.columns = [str(c) for c in df.columns]
    if (
        "vital_status" in df.columns
        and "os_event" not in df.columns
        and ("days_to_death" in df.columns or "days_to_last_followup" in df.columns)
    ):
        from .._clinical import survival_from_days

        surv = survival_from_days(
            df["vital_status"], df.get("days_to_death"), df.get("days_to_last_followup"), path=name
        )
        df["os_time"] = surv["os_time"].to_numpy()
        df["os_event"] = surv["os_event"].to_numpy()
    if "pam50" not in df.columns:
        from .._clinical import pam50_column

        pam50 = pam50_column(df, ("PAM50Call_RNAseq", "PAM50_mRNA_nature2012", "PAM50", "pam50_xena", "SUBTYPE"))
        if pam50 is not None:
            df["pam50"] = pam50
    return df, level, name, record


def _typed_column(column: pd.Series) -> pd.Series:
    """Numbers when every present cell is a number, else strings (missing values stay missing)."""
    text = column.astype(object)
    present = text.notna() & ~text.astype(str).isin(NULL_VALUES)
    numbers = pd.to_numeric(text.where(present, None), errors="coerce")
    if present.any() and numbers[present].notna().all():
        return numbers.astype(np.float64)
    out = text.where(present, None)
    if not present.any():
        return pd.Series(np.nan, index=column.index, dtype=np.float64)
    return out.map(lambda v: v if v is None else str(v))
