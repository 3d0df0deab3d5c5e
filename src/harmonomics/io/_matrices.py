"""Helpers shared by the matrix readers (Xena, Firehose, plain tables): file listing, omic guessing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

import numpy as np

from .. import _keys
from .._errors import EmptyInputError, FormatError, UnknownFormatError
from ._build import Report, read_input
from ._detect import detect_bytes

_OMIC_HINTS = (
    (re.compile(r"mirna|mir_|mirseq|mirnaseq", re.IGNORECASE), _keys.MIRNA),
    (re.compile(r"methylation|meth", re.IGNORECASE), _keys.METH),
    (re.compile(r"gistic|copynumber|copy_number|cnv|cna|snp6|segment", re.IGNORECASE), _keys.CNV),
    (re.compile(r"mutation|maf|mc3", re.IGNORECASE), _keys.MUT),
    (re.compile(r"rppa|protein", re.IGNORECASE), _keys.PROT),
    (re.compile(r"hiseqv2|rnaseq|mrna|rsem|expression|gene_exp|illuminahiseq", re.IGNORECASE), _keys.RNA),
)
ANALYTE = {
    _keys.RNA: "rna",
    _keys.MIRNA: "rna",
    _keys.METH: "dna",
    _keys.CNV: "dna",
    _keys.MUT: "dna",
    _keys.PROT: None,
}


def list_files(path: str | PathLike, what: str) -> tuple[Path, list[Path]]:
    """The files of a folder (sorted, no hidden files) or the one file given; EmptyInputError when none."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_file():
        return path.parent, [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise EmptyInputError(f"the folder holds no files; expected {what}", path=path)
    return path, files


def detected_files(
    paths: list[Path], report: Report, records: list, *, strict: bool
) -> Iterator[tuple[Path, bytes, str]]:
    """Each readable file as ``(path, content, format)``, its ``(path, md5, size, format)`` appended to ``records``.

    A file of unknown format raises with ``strict``, else it is listed in the report as dropped and skipped.
    """
    for p in paths:
        md5, size, data = read_input(p)
        try:
            fmt = detect_bytes(data, p)
        except UnknownFormatError as err:
            if strict:
                raise
            report.add("file", p.name, "", "", "dropped", str(err))
            continue
        records.append((p, md5, size, fmt))
        yield p, data, fmt


def omic_from_name(name: str) -> str | None:
    for pattern, omic in _OMIC_HINTS:
        if pattern.search(name):
            return omic
    return None


def omic_from_content(row_ids: np.ndarray, values: np.ndarray) -> str:
    """Guess the omic of a features × samples matrix from its IDs and values."""
    ids = [str(x) for x in row_ids[:200]]
    if ids and sum(i.startswith(("cg", "ch.", "rs")) for i in ids) > 0.8 * len(ids):
        return _keys.METH
    if ids and sum(i.lower().startswith(("hsa-", "mir")) for i in ids) > 0.8 * len(ids):
        return _keys.MIRNA
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return _keys.RNA
    if np.all(np.isin(finite, (0.0, 1.0))):
        return _keys.MUT
    if np.all(finite == np.round(finite)) and finite.min() >= -2 and finite.max() <= 2:
        return _keys.CNV
    if finite.min() >= 0 and finite.max() <= 1:
        return _keys.METH
    if finite.min() < 0:
        return _keys.PROT
    return _keys.RNA


def check_omic(omic: str, path) -> str:
    if omic not in _keys.MODALITIES:
        raise FormatError(f"unknown omic {omic!r}; expected one of {list(_keys.MODALITIES)}", path=path)
    return omic
