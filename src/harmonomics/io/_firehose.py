"""Reader for Broad GDAC Firehose files (RSEM matrices with aliquot columns, preprocessed log2, clinical)."""

from __future__ import annotations

import logging
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .._clinical import pam50_column, survival_from_days
from .._errors import EmptyInputError, FormatError, UnknownFormatError
from .._text import arrow_table
from . import _parsers as P
from ._build import Block, Report, assemble, feature_names, file_records
from ._detect import FORMATS
from ._matrices import ANALYTE, check_omic, detected_files, list_files, omic_from_content, omic_from_name

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)


def read_firehose_matrix(path: Path, data: bytes, *, what: str = "a Firehose matrix") -> P.Matrix:
    """A Firehose matrix: ``Hybridization REF`` + a second header row (skipped), or ``gene`` + one header row."""
    tf = P.open_text(path, data=data, comment=None)
    header = tf.header()
    skip = 0
    body = tf.data[tf.body_offset : tf.body_offset + 4096].decode("utf-8", errors="replace").split("\n", 1)[0]
    cells = body.rstrip("\r").split("\t")
    second_header = header[0] == "Hybridization REF" or cells[0] in ("gene_id", "Composite Element REF")
    if second_header and len(cells) > 1 and not _numberish(cells[1]):
        skip = 1
    return P.parse_matrix(path, id_columns=1, tf=tf, skip_rows_after_header=skip, what=what)


def _numberish(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return x in ("NA", "", "NaN")
    return True


def read_firehose(
    path: str | PathLike,
    *,
    omics: dict[str, str] | None = None,
    rna: str = "normalized",
    sample_types: str | tuple[str, ...] | None = "primary",
    join: str = "union",
    strict: bool = True,
    keep_all_aliquots: bool = False,
) -> md.MuData:
    """Read Broad GDAC Firehose files (a folder or one file) into a harmonized store.

    Recognised by content: RSEM "genes normalized" matrices (header ``Hybridization REF`` + 28-character
    aliquot barcodes, a second header row ``gene_id normalized_count``, ``SYMBOL|ENTREZ`` rows), preprocessed
    log2 matrices (first column ``gene``, 15-character samples or aliquots), and the transposed clinical file
    (``BRCA.clin.merged.picked.txt``). Aliquot columns go through the aliquot choice of the sample policy,
    so tumours and normals of one patient are told apart and duplicates are reported.

    Parameters
    ----------
    path
        Folder or file.
    omics
        ``{file name: modality}`` overrides (default from the file name, then from the content).
    rna
        When both an RSEM-normalised matrix and a log2 matrix exist: ``"normalized"`` (default) or ``"log2"``;
        the other is listed in the report as not used.
    sample_types
        Sample-type policy (see :func:`read_gdc`).
    join
        ``"union"`` or ``"intersection"``.
    strict
        Raise on files of unknown format.
    keep_all_aliquots
        Keep every aliquot as its own row, keyed by its barcode (global obs gets a ``sample`` column), instead
        of choosing one per sample: for QC of replicate aliquots. The sample-type policy still applies.

    Returns
    -------
    MuData (values as written), global obs
    with clinical columns (``os_time``, ``os_event``, ``age``, ``stage``), provenance and report.
    """
    root, paths = list_files(path, "Firehose files")
    omics = dict(omics or {})
    report = Report()
    records, candidates, patient_clin = [], {}, None
    for p, data, fmt in detected_files(paths, report, records, strict=strict):
        if fmt == "firehose_clinical":
            patient_clin = firehose_clinical(p, data)
            report.add("file", p.name, "clinical", "", "kept", f"Firehose clinical, {len(patient_clin)} patients")
            continue
        if fmt not in ("firehose_matrix", "table", "xena_matrix"):
            if strict:
                raise UnknownFormatError(
                    f"not a Firehose file: the content is {FORMATS[fmt][2]}; expected a matrix "
                    "(Hybridization REF / gene header) or the clinical file",
                    path=p,
                )
            report.add("file", p.name, "", "", "dropped", f"{FORMATS[fmt][2]}: not read by read_firehose")
            continue
        mat = read_firehose_matrix(p, data)
        omic = omics.get(p.name) or omic_from_name(p.name) or omic_from_content(mat.row_ids, mat.values)
        check_omic(omic, p)
        _, var = feature_names(mat.row_ids, path=p, header_line=mat.header_line)
        kind = (
            "log2"
            if ("log2" in p.name.lower() or mat.values[np.isfinite(mat.values)].max(initial=0) < 30)
            else "normalized"
        )
        block = Block(
            omic=omic,
            ids=list(mat.columns),
            source_files=[p.relative_to(root).as_posix()] * len(mat.columns),
            values=np.ascontiguousarray(mat.values.T),
            var=var,
            analyte_kind=ANALYTE[omic],
        )
        candidates.setdefault(omic, []).append((kind, p.name, block))
    blocks = {}
    for omic, cands in candidates.items():
        if len(cands) > 1 and omic == _keys.RNA:
            cands = sorted(cands, key=lambda c: c[0] != rna)
        kind, name, block = cands[0]
        blocks[omic] = block
        report.add(
            "file",
            name,
            omic,
            "",
            "kept",
            f"Firehose {omic} matrix ({kind}): {block.values.shape[1]} features × {block.values.shape[0]} columns",
        )
        for other in cands[1:]:
            report.add(
                "file", other[1], omic, "", "dropped", f"a second {omic} matrix; {name} ({kind}) is used (rna={rna!r})"
            )
    if not blocks:
        raise EmptyInputError("no Firehose matrix found", path=path)
    return assemble(
        list(blocks.values()),
        report=report,
        reader="harmonomics.io.read_firehose",
        files=file_records(records),
        parameters={"path": str(path), "rna": rna, "omics": omics},
        sample_types=sample_types,
        join=join,
        patient_clinical=patient_clin,
        keep_all_aliquots=keep_all_aliquots,
    )


def firehose_clinical(path: Path, data: bytes) -> pd.DataFrame:
    """The transposed Firehose clinical file as one row per patient (upper-case barcodes)."""
    tf = P.open_text(path, data=data, comment=None)
    header = tf.header()
    table = arrow_table(tf, column_names=header, strings=header, what="a Firehose clinical file").to_pandas()
    table = table.set_index(header[0])
    table = table[table.index != "Composite Element REF"]
    df = table.T
    df.index = df.index.str.upper()
    df.columns.name = None
    if not df.index.is_unique:
        dup = df.index[df.index.duplicated()][0]
        raise FormatError(f"duplicate patient column {dup!r}; expected one column per patient", path=path, line=1)
    out = pd.DataFrame(index=df.index)
    if "vital_status" in df:
        surv = survival_from_days(
            df["vital_status"], df.get("days_to_death"), df.get("days_to_last_followup"), path=str(path)
        )
        out["os_time"] = surv["os_time"].to_numpy()
        out["os_event"] = surv["os_event"].to_numpy()
    if "years_to_birth" in df:
        out["age"] = pd.to_numeric(df["years_to_birth"], errors="coerce").to_numpy()
    if "pathologic_stage" in df:
        out["stage"] = df["pathologic_stage"].to_numpy()
    pam50 = pam50_column(df, ("subtype", "PAM50", "pam50"))  # subtype wins over PAM50, PAM50 over pam50
    if pam50 is not None:
        out["pam50"] = pam50
    for c in df.columns:
        if c not in out.columns:
            out[c] = df[c].to_numpy()
    return out
