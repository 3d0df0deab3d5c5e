"""Reader for any plain samples × features or features × samples table (TSV/CSV, optionally gzipped)."""

from __future__ import annotations

import logging
import re
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import FormatError
from .._genes import parse_gene_ids
from . import _parsers as P
from ._build import Block, Report, assemble, feature_names, file_records, read_input
from ._matrices import ANALYTE, check_omic
from ._text import open_text

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)

ORIENTATIONS = ("auto", "features_x_samples", "samples_x_features")
_TCGA = re.compile(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}", re.IGNORECASE)


def _looks_gene(ids) -> float:
    ids = [str(i) for i in ids if str(i)]
    if not ids:
        return 0.0
    parsed = parse_gene_ids(ids)
    return float((parsed["id_type"] != "symbol").mean())


def _tcga_share(ids) -> float:
    ids = [str(i) for i in ids]
    return sum(bool(_TCGA.match(i)) for i in ids) / max(len(ids), 1)


def read_table(
    path: str | PathLike,
    *,
    omic: str,
    orientation: str = "auto",
    sep: str | None = None,
    sample_types: str | tuple[str, ...] | None = "primary",
    keep_all_aliquots: bool = False,
) -> md.MuData:
    """Read a plain delimited table of numbers into a one-modality store.

    Parameters
    ----------
    path
        TSV or CSV (gzip recognised by content). The first column holds row IDs, the header the column IDs.
        A second header row of labels (Firehose ``gene_id normalized_count``) is skipped.
    omic
        Modality name (``rna``, ``mirna``, ``meth``, ``cnv``, ``mut``, ``prot``).
    orientation
        ``"features_x_samples"``, ``"samples_x_features"`` or ``"auto"``: columns that are TCGA barcodes mean
        features × samples; a first column of barcodes means samples × features; else gene-like IDs
        (Ensembl, ``SYMBOL|ENTREZ``) decide; else the longer axis is taken as features.
    sep
        Delimiter; default: tab if the header has one, else comma, else semicolon.
    sample_types
        Sample-type policy for TCGA barcodes (see :func:`read_gdc`); ``"tumor_normal"`` keeps solid-tissue
        normals as their own samples. Other IDs are sample keys as they are.
    keep_all_aliquots
        Keep every aliquot as its own row, keyed by its barcode (global obs gets a ``sample`` column), instead
        of choosing one per sample: for QC of replicate aliquots. The sample-type policy still applies.

    Returns
    -------
    MuData with one modality ``omic`` (values as written; RNA also in ``layers["counts"]``), global obs
    (patient, sample_type, sample_type_code for TCGA barcodes), provenance and report.

    Raises
    ------
    EmptyInputError
        Empty file or a header without rows.
    FormatError
        A non-numeric value, a row of the wrong length (names line and column), duplicate IDs.
    """
    path = Path(path)
    check_omic(omic, path)
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}, got {orientation!r}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    md5, size, data = read_input(path, empty="the file is empty; expected a header row and data rows")
    tf = open_text(path, data=data, comment="#")
    first = tf.first_line
    if sep is None:
        sep = "\t" if "\t" in first else "," if "," in first else ";" if ";" in first else "\t"
    header = [h.strip('"') for h in first.split(sep)]
    if len(header) < 2:
        raise FormatError(f"the header has one column; expected an ID column then {sep!r}-separated columns",
                          path=path, line=tf.header_line)
    peek = tf.data[tf.body_offset : tf.body_offset + 200000].decode("utf-8", errors="replace").split("\n")[:-1][:200]
    row_ids = [ln.split(sep, 1)[0].strip('"') for ln in peek if ln.strip()]
    second = peek[0].rstrip("\r").split(sep) if peek else []
    skip = 1 if len(second) > 1 and not _numberish(second[1].strip('"')) and _numberish_row(peek[1:3], sep) else 0
    if skip:
        row_ids = row_ids[1:]
    if orientation == "auto":
        orientation = _orientation(header[1:], row_ids, path, tf)
    mat = P.parse_matrix(path, id_columns=1, tf=tf, skip_rows_after_header=skip, sep=sep,
                         what=f"a {orientation.replace('_x_', ' × ')} table")
    report = Report()
    if orientation == "features_x_samples":
        feat, samples, values = mat.row_ids, list(mat.columns), np.ascontiguousarray(mat.values.T)
    else:
        feat, samples, values = np.asarray(mat.columns, dtype=object), list(mat.row_ids), mat.values
        s = pd.Index(samples)
        if not s.is_unique:
            dup = s[s.duplicated()][0]
            raise FormatError(f"duplicate sample {dup!r}; expected each sample once", path=path,
                              line=mat.header_line + 1 + int(np.flatnonzero(s == dup)[1]))
    ids, var = feature_names(feat, path=path, header_line=mat.header_line)
    block = Block(omic=omic, ids=[str(x) for x in samples], source_files=[path.name] * len(samples), values=values,
                  var=var, analyte_kind=ANALYTE[omic])
    if omic == _keys.RNA:
        block.layers["counts"] = block.values.copy()
    report.add("file", str(path), omic, "", "kept",
               f"{orientation.replace('_x_', ' × ')} table: {len(ids)} features × {len(samples)} samples")
    return assemble([block], report=report, reader="harmonomics.io.read_table",
                    files=file_records([(path, md5, size, "table")]),
                    parameters={"path": str(path), "omic": omic, "orientation": orientation, "sep": sep},
                    sample_types=sample_types, join="union", keep_all_aliquots=keep_all_aliquots)


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


def _orientation(columns, row_ids, path, tf) -> str:
    col_tcga, row_tcga = _tcga_share(columns), _tcga_share(row_ids)
    if col_tcga >= 0.5 and col_tcga > row_tcga:
        return "features_x_samples"
    if row_tcga >= 0.5 and row_tcga > col_tcga:
        return "samples_x_features"
    col_gene, row_gene = _looks_gene(columns[:500]), _looks_gene(row_ids)
    if row_gene > 0.5 and col_gene < 0.2:
        return "features_x_samples"
    if col_gene > 0.5 and row_gene < 0.2:
        return "samples_x_features"
    n_rows = tf.data[tf.body_offset :].count(b"\n")
    return "features_x_samples" if n_rows >= len(columns) else "samples_x_features"
