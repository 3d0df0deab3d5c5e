"""Discovery for :func:`~harmonomics.io.read_gdc`: the folder's files, each one's format (by content), and the
sample sheet, metadata JSON, manifest and clinical tables that say which sample each data file belongs to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from .. import _keys
from .._errors import EmptyInputError, FormatError, MixedProjectsError, UnknownFormatError
from .._progress import progress_bar
from .._text import head_text
from . import _parsers as P
from ._build import Report, parallel_map, read_input
from ._detect import FORMATS, detect_bytes, detect_text

_DATA_FORMATS = {
    "gdc_star_counts": _keys.RNA,
    "gdc_mirna": _keys.MIRNA,
    "gdc_meth_betas": _keys.METH,
    "gdc_gene_copy_number": _keys.CNV,
    "gdc_maf": _keys.MUT,
    "gdc_rppa": _keys.PROT,
    "gdc_segments": "segments",
}
# what a file name says about its content (used only to flag misnamed files in the report)
_NAME_HINTS = {
    "augmented_star_gene_counts": "gdc_star_counts",
    "mirnas.quantification": "gdc_mirna",
    "level3betas": "gdc_meth_betas",
    "gene_level_copy_number": "gdc_gene_copy_number",
    ".maf": "gdc_maf",
    "rppa_data": "gdc_rppa",
    "seg.txt": "gdc_segments",
}


# one recognised file: (path, md5, size on disk, format); a streamed file is not hashed (md5 "")
Record = tuple[Path, str, int, str]


@dataclass
class GdcFiles:
    """What a GDC folder holds: every file's record, the data files by format (parsed, or their bytes), the
    sample sheet, the metadata JSON records and the clinical tables."""

    folder: Path
    records: list[Record]
    by_format: dict[str, list[tuple[Path, Any]]]
    sheet: pd.DataFrame | None
    meta: list[dict]
    clinical: list[tuple[Path, bytes]]
    _index: dict[str, dict] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sheet_records = self.sheet_records
        self._index = {
            "sheet_by_id": {r["File ID"]: r for r in sheet_records},
            "sheet_by_name": {r["File Name"]: r for r in sheet_records},
            "meta_by_id": {r["file_id"]: r for r in self.meta},
            "meta_by_name": {r.get("file_name"): r for r in self.meta},
        }

    @property
    def sheet_records(self) -> list[dict]:
        return [] if self.sheet is None else self.sheet.to_dict("records")

    def lookup(self, path: Path) -> tuple[dict | None, dict | None]:
        """The metadata JSON record and the sample-sheet row of a file (by its folder's file id, else its name)."""
        fid = path.parent.name
        index = self._index
        m = index["meta_by_id"].get(fid) or index["meta_by_name"].get(path.name)
        s = index["sheet_by_id"].get(fid) or index["sheet_by_name"].get(path.name)
        return m, s


def find_files(folder: Path, extra: list[Path]) -> list[Path]:
    """Every file of the download folder, plus the explicitly given sample sheet, metadata or clinical files."""
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise FormatError("expected a GDC download folder, found a file", path=folder)
    paths = _walk(folder)
    paths += [p for p in extra if p not in paths]
    if not paths:
        raise EmptyInputError(
            "the folder holds no files; expected a GDC download (sample sheet, metadata JSON and "
            "<file_id>/<file_name> data files)",
            path=folder,
        )
    return paths


def recognise(path: Path, stream: dict[str, Path]) -> tuple[Path, str, int, str, bytes | None]:
    """Read, hash and recognise one file: ``(path, md5, size, format, bytes)``.

    A file of a streamed omic is recognised from its first bytes only, and neither hashed nor held (bytes None).
    """
    if stream:
        # recognise the file from its first bytes; a streamed omic's file is parsed later, in batches
        try:
            fmt = detect_text(head_text(path), path, truncated=True)
        except UnknownFormatError:
            fmt = _name_hint(path.name)
        if _DATA_FORMATS.get(fmt) in stream:
            return path, "", path.stat().st_size, fmt, None
    md5, size, data = read_input(path)
    unknown = None
    try:
        fmt = detect_bytes(data, path)
    except UnknownFormatError as err:
        fmt, unknown = None, err
    if fmt is None or fmt == "table":
        # content unrecognised: a file named like a GDC data file is parsed as one, so that the parser says
        # precisely what is wrong (e.g. a wrong header); anything else is an unknown format
        hint = _name_hint(path.name)
        if hint is None:
            if unknown is not None:
                raise unknown
            raise UnknownFormatError(
                "unknown format: neither the content nor the name is that of a GDC file (STAR counts, MAF, "
                "copy number, segments, methylation betas, RPPA, miRNA, clinical.tsv, sample sheet, metadata)",
                path=path,
                line=1,
            )
        fmt = hint
    return path, md5, size, fmt, data


def recognised_chunks(
    paths: list[Path], *, stream: dict[str, Path], strict: bool, report: Report, chunk_bytes: int
) -> Iterator[tuple[list[Record], dict[str, list[tuple[Path, Any]]]]]:
    """Recognise the files (in parallel threads), ``chunk_bytes`` on disk at a time: yields each chunk's records
    and its ``{format: [(path, bytes)]}``, so that only one chunk's text is held in memory at a time.

    An unknown format raises with ``strict``, else its file is left out with a report row; a file whose name
    suggests another format than its content gets a report row.
    """
    recognise_file = _safe(partial(recognise, stream=stream), strict)
    with progress_bar(desc="GDC files", total=len(paths), unit="file") as bar:
        for chunk in _chunks(paths, chunk_bytes):
            records: list[Record] = []
            by_format: dict[str, list[tuple[Path, Any]]] = defaultdict(list)
            for item in parallel_map(recognise_file, chunk, bar=bar):
                if isinstance(item, UnknownFormatError):
                    report.add("file", item.path, "", "", "dropped", f"unknown format: {item}")
                    continue
                path, md5, size, fmt, data = item
                records.append((path, md5, size, fmt))
                by_format[fmt].append((path, data))
                _report_misnamed(path, fmt, report)
            yield records, by_format
            del records, by_format  # the chunk's text


def _report_misnamed(path: Path, fmt: str, report: Report) -> None:
    hint = _name_hint(path.name) if fmt in _DATA_FORMATS else None
    if hint is not None and hint != fmt:
        report.add(
            "file",
            str(path),
            _DATA_FORMATS[fmt],
            "",
            "renamed",
            f"the file name suggests {FORMATS[hint][2]} but the content is {FORMATS[fmt][2]}; read as the latter",
        )


def describe(
    folder: Path,
    records: list[Record],
    by_format: dict[str, list[tuple[Path, Any]]],
    *,
    sample_sheet: Path | str | None,
    report: Report,
) -> GdcFiles:
    """Split the recognised files into data files and the tables that describe them; check the manifest's md5s
    and that the folder holds one project. Files of other formats are listed in the report."""
    sheet = _read_sheets(by_format.pop("gdc_sample_sheet", []), sample_sheet)
    meta = _read_metadata(by_format.pop("gdc_metadata", []))
    clin_files = by_format.pop("gdc_clinical", [])
    _check_manifest(by_format.get("gdc_manifest", []), records, folder)
    for fmt in list(by_format):
        if fmt not in _DATA_FORMATS:
            for path, _ in by_format.pop(fmt):
                report.add(
                    "file",
                    str(path),
                    "",
                    "",
                    "kept" if fmt in ("gdc_manifest", "gdc_annotations") else "dropped",
                    f"{FORMATS[fmt][2]}: not a data file of this reader",
                )
    if not any(by_format.values()):
        raise EmptyInputError(
            "no GDC data files found (STAR counts, MAF, copy number, methylation, RPPA, miRNA); "
            f"found formats {sorted({r[3] for r in records})}",
            path=folder,
        )
    _check_projects(sheet, meta, clin_files, folder)
    return GdcFiles(folder, records, by_format, sheet, meta, clin_files)


def _chunks(paths: list[Path], max_bytes: int):
    """``paths`` in consecutive runs of at most ``max_bytes`` on disk (a larger file is a run of its own)."""
    import os

    run: list[Path] = []
    size = 0
    for path in paths:
        try:
            n = os.path.getsize(path)
        except OSError:  # vanished or unreadable: its own read reports it
            n = 0
        if run and size + n > max_bytes:
            yield run
            run, size = [], 0
        run.append(path)
        size += n
    if run:
        yield run


def _name_hint(name: str) -> str | None:
    low = name.lower()
    for key, fmt in _NAME_HINTS.items():
        if key in low:
            return fmt
    return None


def _walk(folder: Path) -> list[Path]:
    """Every file under ``folder`` (sorted; hidden files skipped), with os.walk (faster than Path.rglob)."""
    import os

    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        out.extend(os.path.join(dirpath, f) for f in filenames if not f.startswith("."))
    return [Path(p) for p in sorted(out)]


def _rel(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def _safe(func, strict: bool):
    def run(path):
        try:
            return func(path)
        except UnknownFormatError as err:
            if strict:
                raise
            return err

    return run


def _check_manifest(items, records, folder: Path) -> None:
    """Compare every file's md5 with the download manifest (``id filename md5 size state``), when there is one."""
    for path, data in items:
        text = data.decode("utf-8", errors="replace").splitlines()
        header = text[0].split("\t")
        try:
            i_id, i_name, i_md5 = header.index("id"), header.index("filename"), header.index("md5")
        except ValueError:
            raise FormatError(
                f"wrong header for a GDC manifest: found {header[:5]}; expected id filename md5 size state",
                path=path,
                line=1,
            ) from None
        expected = {}
        for lineno, line in enumerate(text[1:], start=2):
            cells = line.split("\t")
            if len(cells) <= max(i_id, i_name, i_md5):
                if line.strip():
                    raise FormatError(
                        f"expected {len(header)} tab-separated fields, found {len(cells)}", path=path, line=lineno
                    )
                continue
            expected[(cells[i_id], cells[i_name])] = (cells[i_md5], lineno)
        by_name = {name: v for (_, name), v in expected.items()}
        for rec_path, md5, _size, _fmt in records:
            key = (rec_path.parent.name, rec_path.name)
            want = expected.get(key) or (by_name.get(rec_path.name) if rec_path.parent != folder else None)
            if want is not None and md5 and want[0] != md5:  # streamed files are not hashed (md5 "")
                raise FormatError(
                    f"md5 {md5} differs from {want[0]} in the download manifest ({path.name}, line "
                    f"{want[1]}); the file is corrupt or truncated: download it again",
                    path=rec_path,
                )


def _read_sheets(items, explicit) -> pd.DataFrame | None:
    if not items:
        if explicit is not None:
            raise FormatError("the file given as sample_sheet is not a GDC sample sheet", path=explicit)
        return None
    frames = []
    for path, data in items:
        df = P.parse_sample_sheet(path, data=data)
        df["_sheet"] = str(path)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _read_metadata(items) -> list[dict]:
    out: list[dict] = []
    for path, _ in items:
        for r in P.parse_metadata_json(path):
            r = dict(r)
            r["_json"] = str(path)
            out.append(r)
    return out


def _check_projects(sheet, meta, clin_files, folder) -> None:
    projects: dict[str, set[str]] = defaultdict(set)
    if sheet is not None:
        for proj, sheet_path, line in zip(sheet["Project ID"], sheet["_sheet"], sheet["_line"], strict=True):
            for p in str(proj).split(", "):
                projects[p].add(f"{sheet_path} line {line}")
    for r in meta:
        for case in r.get("cases", []) or []:
            p = (case.get("project") or {}).get("project_id")
            if p:
                projects[p].add(f"{r['_json']} file {r['file_id']}")
    for path, data in clin_files:
        tf_head = data[:200000].decode("utf-8", errors="replace").split("\n")
        header = tf_head[0].rstrip("\r").split("\t")
        col = next((c for c in ("project.project_id", "project_id") if c in header), None)
        if col is not None:
            j = header.index(col)
            for k, line in enumerate(tf_head[1:], start=2):
                cells = line.rstrip("\r").split("\t")
                if len(cells) > j and cells[j] not in ("", "'--"):
                    projects[cells[j]].add(f"{path} line {k}")
    if len(projects) > 1:
        detail = "; ".join(f"{p}: {len(w)} entries, e.g. {min(w)}" for p, w in sorted(projects.items()))
        raise MixedProjectsError(
            f"{folder}: the folder mixes {len(projects)} projects ({detail}); expected one "
            "project per folder: read each project separately"
        )
