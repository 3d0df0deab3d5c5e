"""Reader for UCSC Xena matrices (genomic matrices with a ``sample`` header cell, ``*_clinicalMatrix``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from os import PathLike
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .._clinical import pam50_column, survival_from_days
from .._errors import EmptyInputError, FormatError, UnknownFormatError
from . import _parsers as P
from ._build import Block, Report, assemble, feature_names, file_records
from ._detect import FORMATS
from ._matrices import ANALYTE, check_omic, detected_files, list_files, omic_from_content, omic_from_name

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)


def read_xena(
    path: str | PathLike,
    *,
    omics: Mapping[str, str] | None = None,
    sample_types: str | tuple[str, ...] | None = "primary",
    join: str = "union",
    strict: bool = True,
) -> md.MuData:
    """Read UCSC Xena files (a folder of them, or one file) into a harmonized store.

    Genomic matrices have the first header cell ``sample`` and 15-character sample barcodes as columns
    (``HiSeqV2``, ``miRNA_HiSeq_gene``, ``HumanMethylation450``, ``Gistic2_…``, ``mutation_broad_gene``,
    ``RPPA``); the clinical matrix has the first header cell ``sampleID`` (``BRCA_clinicalMatrix``).

    Parameters
    ----------
    path
        A folder of Xena files or a single file.
    omics
        ``{file name: modality}`` overrides; otherwise the modality comes from the file name (``HiSeqV2`` → rna,
        ``Gistic2`` → cnv, ``mutation`` → mut, ``RPPA`` → prot, ``miRNA`` → mirna, ``Methylation`` → meth) or,
        failing that, from the content (probe IDs, miRNA IDs, 0/1 values, GISTIC integers).
    sample_types
        Sample-type policy (see :func:`read_gdc`); Xena holds normals (``-11``) and metastases (``-06``).
    join
        ``"union"`` or ``"intersection"`` of samples across omics.
    strict
        Raise on files of unknown format (default) instead of listing them in the report.

    Returns
    -------
    MuData with one modality per matrix (values as written: log2(RSEM+1) for HiSeqV2, GISTIC levels, 0/1
    mutations, betas, RPPA), global obs from the clinical matrix (``pam50`` from ``PAM50Call_RNAseq``,
    ``os_time``, ``os_event``, ``age``, ``stage``, ...), the provenance and the report.

    Raises
    ------
    EmptyInputError, FormatError, UnknownFormatError
        Empty folder or file, malformed file, unrecognised file.
    """
    root, paths = list_files(path, "UCSC Xena matrices")
    omics = dict(omics or {})
    report = Report()
    records, blocks, sample_clin = [], {}, None
    for p, data, fmt in detected_files(paths, report, records, strict=strict):
        if fmt == "xena_clinical":
            tf = P.open_text(p, data=data, comment=None)
            header = tf.header()
            from .._text import arrow_table

            table = arrow_table(tf, column_names=header, strings=header, what="a Xena clinical matrix").to_pandas()
            dup = table["sampleID"].duplicated()
            if dup.any():
                raise FormatError(
                    f"duplicate sampleID {table['sampleID'][dup].iloc[0]!r}; expected one row per sample",
                    path=p,
                    column="sampleID",
                )
            sample_clin = xena_clinical(table)
            report.add("file", p.name, "clinical", "", "kept", f"Xena clinical matrix, {len(table)} samples")
            continue
        if fmt not in ("xena_matrix", "table"):
            if strict and fmt not in ("gdc_annotations",):
                raise UnknownFormatError(
                    f"not a Xena file: the content is {FORMATS[fmt][2]}; expected a matrix whose "
                    "first header cell is `sample` or a clinical matrix (`sampleID`)",
                    path=p,
                )
            report.add("file", p.name, "", "", "dropped", f"{FORMATS[fmt][2]}: not read by read_xena")
            continue
        mat = P.parse_matrix(p, id_columns=1, data=data, what="a Xena matrix")
        omic = omics.get(p.name) or omic_from_name(p.name) or omic_from_content(mat.row_ids, mat.values)
        check_omic(omic, p)
        ids, var = feature_names(mat.row_ids, path=p, header_line=mat.header_line)
        if omic == _keys.PROT:
            var = pd.DataFrame({"peptide_target": np.asarray(ids, dtype=object)}, index=ids)
        elif omic in (_keys.METH, _keys.MIRNA):
            var = pd.DataFrame(index=ids)
        if omic in blocks:
            report.add(
                "file", p.name, omic, "", "dropped", f"a second {omic} matrix; {blocks[omic].source_files[0]} is used"
            )
            continue
        blocks[omic] = Block(
            omic=omic,
            ids=list(mat.columns),
            source_files=[p.relative_to(root).as_posix()] * len(mat.columns),
            values=np.ascontiguousarray(mat.values.T),
            var=var,
            analyte_kind=ANALYTE[omic],
        )
        report.add(
            "file", p.name, omic, "", "kept", f"Xena {omic} matrix: {len(ids)} features × {len(mat.columns)} samples"
        )
    if not blocks:
        raise EmptyInputError("no Xena genomic matrix found (first header cell `sample`)", path=path)
    return assemble(
        list(blocks.values()),
        report=report,
        reader="harmonomics.io.read_xena",
        files=file_records(records),
        parameters={"path": str(path), "omics": omics},
        sample_types=sample_types,
        join=join,
        sample_clinical=sample_clin,
    )


def xena_clinical(table: pd.DataFrame) -> pd.DataFrame:
    """Sample-level clinical columns from a Xena clinical matrix (pam50, os_time, os_event, age, stage, ...)."""
    df = table.set_index("sampleID")
    df.index.name = None
    out = pd.DataFrame(index=df.index)
    pam50 = pam50_column(df, ("PAM50Call_RNAseq", "PAM50_mRNA_nature2012", "PAM50"))
    if pam50 is not None:
        out["pam50"] = pam50
    if "vital_status" in df:
        surv = survival_from_days(df["vital_status"], df.get("days_to_death"), df.get("days_to_last_followup"))
        out["os_time"] = surv["os_time"].to_numpy()
        out["os_event"] = surv["os_event"].to_numpy()
    if "age_at_initial_pathologic_diagnosis" in df:
        out["age"] = pd.to_numeric(df["age_at_initial_pathologic_diagnosis"], errors="coerce").to_numpy()
    if "pathologic_stage" in df:
        out["stage"] = df["pathologic_stage"].to_numpy()
    # the source's other columns, added at once (a wide matrix has ~150 of them)
    rest = [c for c in df.columns if c not in ("_PATIENT",) and c not in out.columns]
    return pd.concat([out, df[rest]], axis=1)
