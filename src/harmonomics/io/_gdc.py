"""Reader for a GDC (Genomic Data Commons) download folder."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _keys
from .._annotation import normalize_build
from .._errors import (
    EmptyInputError,
    FormatError,
    MixedProjectsError,
    SampleMismatchError,
    UnknownFormatError,
)
from .._progress import progress_bar
from .._text import head_text
from . import _parsers as P
from ._batch import parse_many, parse_one
from ._build import (
    Block,
    Report,
    assemble,
    decompress,
    file_records,
    parallel_map,
    read_input,
    stack_profiles,
    uns_table,
)
from ._detect import FORMATS, detect_bytes, detect_text
from ._maf import finish_mut, mut_block

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)

_DATA_FORMATS = {
    "gdc_star_counts": _keys.RNA,
    "gdc_mirna": _keys.MIRNA,
    "gdc_meth_betas": _keys.METH,
    "gdc_gene_copy_number": _keys.CNV,
    "gdc_maf": _keys.MUT,
    "gdc_rppa": _keys.PROT,
    "gdc_segments": "segments",
}
_ANALYTE = {
    _keys.RNA: "rna",
    _keys.MIRNA: "rna",
    _keys.METH: "dna",
    _keys.CNV: "dna",
    _keys.MUT: "dna",
    _keys.PROT: None,
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


def read_gdc(
    folder: str | PathLike,
    *,
    sample_sheet: str | PathLike | None = None,
    metadata: str | PathLike | None = None,
    clinical: str | PathLike | None = None,
    sample_types: str | tuple[str, ...] | None = "primary",
    join: str = "union",
    omics: tuple[str, ...] | None = None,
    rna_layers: tuple[str, ...] = ("tpm_unstranded",),
    maf_columns: str | tuple[str, ...] = "key",
    strict: bool = True,
    keep_all_aliquots: bool = False,
    stream: Mapping[str, str | PathLike] | None = None,
    client: Any = None,
    gene_coordinates: str | PathLike | pd.DataFrame | None = None,
) -> md.MuData:
    """Read a GDC download folder (``<file_id>/<file_name>``) into a harmonized store.

    Reads STAR gene counts, masked somatic MAFs, gene-level copy number, copy-number segments, SeSAMe
    methylation betas, RPPA, miRNA quantification and ``clinical.tsv``. Every file's format is recognised by
    its content; the file name only serves to flag misnamed files in the report.

    Parameters
    ----------
    folder
        The download folder. Sample sheet, metadata JSON and ``clinical.tsv`` inside it are found by content.
    sample_sheet, metadata, clinical
        Explicit paths, when they are elsewhere. The metadata JSON gives the aliquot barcodes
        (``associated_entities[].entity_submitter_id``); without it files are matched to samples by the
        sample sheet's 16-character Sample ID (no aliquot choice beyond the vial).
    sample_types
        Sample-type policy: ``"primary"`` (default, ``01``), ``"tumor"``, ``"tumor_normal"`` (``01`` and ``11``,
        normals become their own samples), ``"all"``/``None``, or a tuple of codes (``("01", "11")``).
    join
        ``"union"`` (a sample is kept if any omic has it) or ``"intersection"`` (only samples with every omic).
    omics
        Restrict to these modalities (default: all found).
    rna_layers
        STAR columns kept as layers besides the unstranded counts (``X`` and ``layers["counts"]``).
    maf_columns
        ``"key"`` (the key MAF columns), ``"all"``, or a tuple of column names for the long table kept in
        ``mod["mut"].uns["maf"]``.
    strict
        Raise :class:`~harmonomics._errors.UnknownFormatError` on a file of unknown format (default); with
        ``False`` such files are skipped and listed in the report.
    keep_all_aliquots
        Keep every aliquot as its own row, keyed by its barcode (global obs gets a ``sample`` column), instead
        of choosing one per sample: for QC of replicate aliquots. The sample-type policy still applies.
    stream
        ``{omic: zarr path}`` for omics too large for memory (``"meth"`` on the 450k array, ``"rna"``): their
        files are not loaded here; after the same aliquot choice they are streamed into a chunked zarr store
        with :func:`harmonomics.io.stream_to_zarr` (open it with ``hm.store.read(path, backed=True)``). The
        returned store lacks those omics and records the zarr paths in ``uns["harmonomics"]["streamed"]``;
        when every data file is streamed, the lazily opened zarr store of the first omic is returned.
    client
        A ``dask.distributed.Client`` for the streamed omics' parsing (see ``stream``).
    gene_coordinates
        Gene coordinates for a folder that holds copy-number segments but no gene-level copy-number files: the
        ``cnv`` modality is computed from the segments with :func:`harmonomics.pp.segments_to_genes` (ASCAT
        ``Copy_Number`` when present, else SNP6 ``Segment_Mean``). Default: the GRCh38 coordinates shipped with
        harmonomics (GENCODE v36, what GDC uses). A TSV or DataFrame with a gene column and chromosome, start, end
        (a GDC gene-level copy-number file is one) replaces them; coordinates of another build are refused with
        :class:`~harmonomics._errors.GenomeBuildError`.

    Returns
    -------
    MuData with modalities among rna (X and layers["counts"] = unstranded counts, layers such as
    ``tpm_unstranded``; var ``gene_name``, ``gene_type``), mirna (X = read counts, layers["rpm"]), meth (betas),
    cnv (integer copy number; ``uns["segments"]`` when segment files exist; ``uns["build"]``), mut (0/1
    protein-altering mutations, ``uns["maf"]`` the long table of the chosen aliquots), prot (RPPA, outer join of
    the panels). A file that describes a tumour–normal pair (listed with both samples, in either order: ASCAT
    gene-level copy number, masked MAF, segments) belongs to the tumour; its matched normal is recorded in the
    modality's ``obs["matched_normal"]`` and never chosen as a sample. A MAF in neither the sample sheet nor the
    metadata JSON (e.g. a folder of legacy TCGA MAFs) is read for the samples its ``Tumor_Sample_Barcode`` names.
    Global obs: patient, sample_type, sample_type_code and clinical columns (os_time, os_event, age, stage,
    vital_status, ...). Per-modality obs: aliquot, source_file (and matched_normal). ``uns["harmonomics"]``
    (provenance with every file's md5, size and, for segments and MAFs, genome build) and
    ``uns["harmonomics_report"]``.

    Raises
    ------
    EmptyInputError
        The folder holds no files, or a file is empty or truncated.
    FormatError
        A file is malformed (names the file, line and column and what was expected).
    UnknownFormatError
        A file's content matches no known format (with ``strict=True``).
    SampleMismatchError
        A barcode in the metadata or in a MAF disagrees with the sample sheet.
    MixedProjectsError
        The folder mixes files of several projects.
    GenomeBuildError
        ``gene_coordinates`` are not GRCh38, or a segment file's name says another build.
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise FormatError("expected a GDC download folder, found a file", path=folder)
    paths = _walk(folder)
    extra = [Path(p) for p in (sample_sheet, metadata, clinical) if p is not None]
    paths += [p for p in extra if p not in paths]
    if not paths:
        raise EmptyInputError(
            "the folder holds no files; expected a GDC download (sample sheet, metadata JSON and "
            "<file_id>/<file_name> data files)",
            path=folder,
        )
    report = Report()
    wanted = set(omics) if omics is not None else None

    # 1. read, hash and recognise every file (one pass over the bytes, in parallel threads)
    stream = {omic: Path(target) for omic, target in (stream or {}).items()}
    unknown_stream = sorted(set(stream) - {_keys.METH, _keys.RNA})
    if unknown_stream:
        raise ValueError(f"stream supports the omics 'meth' and 'rna'; got {unknown_stream}")

    def load(path: Path):
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

    def parse_format(job):
        fmt, items, annotate_first = job
        return parse_many(
            fmt, items, rna_layers=tuple(rna_layers), maf_columns=maf_columns, annotate_first=annotate_first
        )

    # 2. parse: all files of one format in one pyarrow pass (io/_batch.py), the formats in parallel threads. The
    #    files go in chunks of about _CHUNK_BYTES, so that only one chunk's text is held in memory at a time.
    records = []
    by_format: dict[str, list[tuple[Path, Any]]] = defaultdict(list)
    annotated: set[str] = set()  # formats whose feature annotation was read (from their first file)
    with progress_bar(desc="GDC files", total=len(paths), unit="file") as bar:
        for chunk in _chunks(paths, _CHUNK_BYTES):
            chunk_formats: dict[str, list[tuple[Path, Any]]] = defaultdict(list)
            for item in parallel_map(_safe(load, strict), chunk, bar=bar):
                if isinstance(item, UnknownFormatError):
                    report.add("file", item.path, "", "", "dropped", f"unknown format: {item}")
                    continue
                path, md5, size, fmt, data = item
                records.append((path, md5, size, fmt))
                chunk_formats[fmt].append((path, data))
                hint = _name_hint(path.name) if fmt in _DATA_FORMATS else None
                if hint is not None and hint != fmt:
                    report.add(
                        "file",
                        str(path),
                        _DATA_FORMATS[fmt],
                        "",
                        "renamed",
                        f"the file name suggests {FORMATS[hint][2]} but the content is {FORMATS[fmt][2]}; "
                        "read as the latter",
                    )
            to_parse = [
                fmt
                for fmt in chunk_formats
                if fmt in _PARSED
                and _DATA_FORMATS[fmt] not in stream
                and (wanted is None or _DATA_FORMATS[fmt] in wanted)
            ]
            jobs = [(fmt, chunk_formats[fmt], fmt not in annotated) for fmt in to_parse]
            parsed = parallel_map(parse_format, jobs)
            annotated.update(to_parse)
            for fmt, objects in zip(to_parse, parsed, strict=True):
                chunk_formats[fmt] = [(path, obj) for (path, _), obj in zip(chunk_formats[fmt], objects, strict=True)]
            for fmt, items in chunk_formats.items():
                if fmt in _PARSED and fmt not in to_parse:  # an omic not requested, or streamed: drop its text
                    items = [(path, None) for path, _ in items]
                by_format[fmt].extend(items)
            del chunk_formats, jobs, parsed  # the chunk's text
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

    # 3. projects
    _check_projects(sheet, meta, clin_files, folder)

    # 4. which aliquot each file belongs to
    sheet_records = [] if sheet is None else sheet.to_dict("records")
    sheet_by_id = {r["File ID"]: r for r in sheet_records}
    sheet_by_name = {r["File Name"]: r for r in sheet_records}
    meta_by_id = {r["file_id"]: r for r in meta}
    meta_by_name = {r.get("file_name"): r for r in meta}

    def lookup(path: Path):
        fid = path.parent.name
        m = meta_by_id.get(fid) or meta_by_name.get(path.name)
        s = sheet_by_id.get(fid) or sheet_by_name.get(path.name)
        return m, s

    blocks: list[Block] = []
    builds: dict[str, str] = {}  # genome build of each file that has positions (segments, MAFs), for the provenance
    streamed: dict[str, Path] = {}
    segments = []
    for fmt, items in sorted(by_format.items()):
        omic = _DATA_FORMATS[fmt]
        if wanted is not None and omic not in wanted and not (omic == "segments" and _keys.CNV in wanted):
            for path, _ in items:
                report.add("file", str(path), omic, "", "dropped", f"omic {omic!r} not requested (omics={omics})")
            continue
        if fmt == "gdc_maf":
            block = _maf_block(items, lookup, report, folder, builds)
            if block is not None:
                blocks.append(block)
            continue
        if fmt == "gdc_segments":
            for path, data in items:
                seg = P.parse_segments(path, data=data)
                seg["source_file"] = _rel(path, folder)
                segments.append((path, seg))
            continue
        rows = []
        normals = []
        for path, prof in items:
            m, s = lookup(path)
            aliquot, normal = _aliquot_for(path, m, s, omic, report)
            if aliquot is None:
                continue
            rows.append((aliquot, _rel(path, folder), prof))
            normals.append(normal)
            report.add(
                "file", str(path), omic, aliquot, "kept", f"{FORMATS[fmt][2]} of aliquot {aliquot}" + _pair_note(normal)
            )
        if not rows:
            continue
        if omic in stream:
            streamed[omic] = _stream_omic(omic, rows, stream[omic], folder, sample_types, report, client)
            continue
        if not any(prof.var for _, _, prof in rows):  # the annotated file was not kept: annotate from a kept one
            first = folder / rows[0][1] if not Path(rows[0][1]).is_absolute() else Path(rows[0][1])
            rows[0] = (
                rows[0][0],
                rows[0][1],
                parse_one(
                    fmt,
                    first,
                    decompress(first, first.read_bytes()),
                    rna_layers=tuple(rna_layers),
                    maf_columns=maf_columns,
                ),
            )
        block = stack_profiles(omic, rows, analyte_kind=_ANALYTE[omic], outer=omic == _keys.PROT, what=f"{omic} file")
        if any(normals):
            block.obs = pd.DataFrame() if block.obs is None else block.obs
            block.obs[_MATCHED_NORMAL] = normals
        if omic == _keys.CNV:
            block.uns["build"] = _GDC_BUILD  # GDC's gene-level copy number is on GENCODE v36
        if omic in (_keys.RNA, _keys.MIRNA):
            # raw counts in their own (integer) layer, so that an in-place change of X never alters them
            block.layers = {"counts": _integer_copy(block.values), **block.layers}
        blocks.append(block)
        for i in range(len(items)):
            items[i] = (items[i][0], b"")
    by_format.clear()
    if segments:
        # gene-level values come from the gene-level files; from the segments only where those are absent
        has_gene_level = any(b.omic == _keys.CNV for b in blocks)
        if not has_gene_level:
            blocks.append(_segment_block(segments, gene_coordinates, lookup, report, folder, builds))
        else:
            for path, _ in segments:
                builds[str(path)] = _GDC_BUILD
                report.add(
                    "file",
                    str(path),
                    _keys.CNV,
                    "",
                    "kept",
                    "copy-number segments, kept as a table in "
                    "mod['cnv'].uns['segments'] (gene-level values come from the gene-level copy-number files)",
                )
        segments = [seg for _, seg in segments]
    if not blocks and streamed:
        from ..store import read

        logger.info(
            "every data file was streamed to zarr; returning the lazily opened store %s", next(iter(streamed.values()))
        )
        return read(next(iter(streamed.values())), backed=True)
    if not blocks:
        raise FormatError(
            "no data file could be matched to a sample: the folder needs the GDC sample sheet or the "
            "metadata JSON export that list its files",
            path=folder,
        )

    patient_clinical = None
    if clin_files:
        from ._clinical import gdc_patient_table

        raws = [P.parse_gdc_clinical(p, data=d) for p, d in clin_files]
        patient_clinical = gdc_patient_table(pd.concat(raws, ignore_index=True))
        for p, _ in clin_files:
            report.add("file", str(p), "clinical", "", "kept", f"clinical table, {len(patient_clinical)} patients")
    if sheet is not None:
        present = {str(r[0].parent.name) for r in records} | {r[0].name for r in records}
        for rec in sheet_records:
            if rec["File ID"] not in present and rec["File Name"] not in present:
                report.add(
                    "file",
                    rec["File Name"],
                    "",
                    str(rec["Sample ID"])[:15],
                    "dropped",
                    "listed in the sample sheet but missing from the folder",
                )

    files = file_records(records)
    for record in files:
        record["build"] = builds.get(record["path"], "")
    mdata = assemble(
        blocks,
        report=report,
        reader="harmonomics.io.read_gdc",
        files=files,
        parameters={
            "folder": str(folder),
            "omics": list(omics) if omics else "all",
            "rna_layers": list(rna_layers),
            "maf_columns": maf_columns if isinstance(maf_columns, str) else list(maf_columns),
            "metadata": bool(meta),
            "sample_sheet": sheet is not None,
        },
        sample_types=sample_types,
        join=join,
        patient_clinical=patient_clinical,
        keep_all_aliquots=keep_all_aliquots,
    )
    finish_mut(mdata)
    if streamed:
        mdata.uns["harmonomics"]["streamed"] = {omic: str(path) for omic, path in streamed.items()}
    if segments and _keys.CNV in mdata.mod:
        mdata.mod[_keys.CNV].uns["segments"] = uns_table(pd.concat(segments, ignore_index=True))
    elif segments:
        mdata.uns["cnv_segments"] = uns_table(pd.concat(segments, ignore_index=True))
    return mdata


# the data formats parsed by io/_batch.parse_many (segments are parsed on their own, below)
_PARSED = ("gdc_star_counts", "gdc_mirna", "gdc_meth_betas", "gdc_gene_copy_number", "gdc_rppa", "gdc_maf")
# bytes of files read before their chunk is parsed: bounds the text held in memory (a real STAR download is ~5 GB);
# chunks of this size still amortise the per-parse cost, and measured no slower than larger ones
_CHUNK_BYTES = 32 * 2**20


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


# ----------------------------------------------------------------------------------------------------------
def _stream_omic(omic: str, rows: list, out: Path, folder: Path, sample_types, report: Report, client: Any) -> Path:
    """Choose one aliquot per sample among ``rows`` (aliquot, file, _) and stream the chosen files to zarr."""
    from ..samples import choose_samples, resolve_sample_types
    from ._stream import stream_to_zarr

    aliquots = [aliquot for aliquot, _, _ in rows]
    files = [source for _, source, _ in rows]
    positions, keys, choice = choose_samples(
        aliquots,
        omic=omic,
        analyte_kind=_ANALYTE[omic],
        sample_types=resolve_sample_types(sample_types),
        source_files=files,
    )
    report.extend(choice)
    paths = [folder / files[i] if not Path(files[i]).is_absolute() else Path(files[i]) for i in positions]
    stream_to_zarr(paths, out, omic=omic, samples=list(keys), aliquots=[aliquots[i] for i in positions], client=client)
    report.add(
        "file", str(out), omic, "", "kept", f"{len(paths)} {omic} files streamed into the chunked zarr store {out}"
    )
    return out


def _integer_copy(values: np.ndarray) -> np.ndarray:
    """Validated integer counts as an int32 (or int64) copy."""
    if values.size and np.isfinite(values).all() and (values == np.round(values)).all():
        return values.astype(np.int32 if values.max(initial=0) < 2**31 else np.int64)
    return values.copy()


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


_MATCHED_NORMAL = "matched_normal"
_GDC_BUILD = "GRCh38"  # GDC's harmonized data (GENCODE v36 gene model)


def _sample_kind(barcode: str) -> str | None:
    """``"tumour"`` (sample type 01–09), ``"normal"`` (10–19) or None (another type, or not a TCGA barcode)."""
    import re

    found = re.match(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}-(\d{2})", barcode.strip(), re.IGNORECASE)
    if found is None:
        return None
    code = int(found.group(1))
    return "tumour" if 1 <= code <= 9 else "normal" if 10 <= code <= 19 else None


def _pair(listed: list[str]) -> tuple[str, str]:
    """(tumour, matched normal) among the samples a file lists; the normal is '' for a single-sample file.

    GDC lists a tumour–normal pair's file (ASCAT gene-level copy number, masked MAF, segments) with both samples,
    in either order: such a file describes the tumour, never the normal.
    """
    listed = [x.strip() for x in listed if x and x.strip()]
    if len(listed) <= 1:
        return (listed[0] if listed else ""), ""
    tumours = [x for x in listed if _sample_kind(x) == "tumour"]
    tumour = tumours[0] if tumours else listed[0]
    return tumour, ", ".join(x for x in listed if x != tumour)


def _pair_note(normal: str) -> str:
    if not normal:
        return ""
    return (
        f"; a tumour–normal pair's file: it belongs to the tumour, the matched normal {normal} is recorded in "
        "obs['matched_normal'] and never chosen as a sample"
    )


def _listed_samples(m: dict | None, s: dict | None) -> tuple[list[str] | None, str]:
    """The samples the metadata JSON (aliquots) or else the sample sheet (vial-level IDs) list for a file."""
    if m is not None:
        ents = [e.get("entity_submitter_id") for e in m.get("associated_entities", []) if e.get("entity_submitter_id")]
        if not ents:
            raise FormatError(
                f"metadata record {m['file_id']} has no associated_entities[].entity_submitter_id; "
                "expected the aliquot barcode",
                path=m.get("_json"),
            )
        return ents, "metadata"
    if s is not None:
        return [x.strip() for x in str(s["Sample ID"]).split(",") if x.strip()], "sheet"
    return None, ""


def _check_sheet(path: Path, s: dict | None, m: dict | None, aliquot: str) -> None:
    if s is None or m is None:
        return
    sheet_ids = [x.strip() for x in str(s["Sample ID"]).split(",")]
    if aliquot[:16] not in sheet_ids:
        raise SampleMismatchError(
            f"{s['_sheet']}, line {s['_line']}: the sample sheet says file {path.name} is sample "
            f"{s['Sample ID']!r}, but the metadata JSON ({m.get('_json')}) gives aliquot {aliquot!r} "
            f"(sample {aliquot[:16]}); expected them to agree"
        )


def _aliquot_for(path: Path, m: dict | None, s: dict | None, omic: str, report: Report) -> tuple[str | None, str]:
    """The aliquot barcode a file belongs to and its matched normal ('' if none), cross-checked with the sheet."""
    listed, source = _listed_samples(m, s)
    if listed is None:
        report.add(
            "file",
            str(path),
            omic,
            "",
            "dropped",
            "not in the sample sheet nor in the metadata JSON: cannot tell which sample it belongs to",
        )
        return None, ""
    aliquot, normal = _pair(listed)
    _check_sheet(path, s, m, aliquot)
    if source == "sheet":
        report.add(
            "file",
            str(path),
            omic,
            aliquot[:15],
            "kept",
            "no metadata JSON record: sample from the sample sheet (vial level; no aliquot choice by analyte)",
        )
    return aliquot, normal


def _maf_block(items, lookup, report: Report, folder: Path, builds: dict[str, str]) -> Block | None:
    """The mut Block of the MAF files: each GDC MAF belongs to its pair's tumour; a MAF listed in neither the sample
    sheet nor the metadata JSON is read for the samples its ``Tumor_Sample_Barcode`` names."""
    import pyarrow as pa
    import pyarrow.compute as pc

    tables, ids, files, normals = [], [], [], []
    for path, table in items:
        m, s = lookup(path)
        rel = _rel(path, folder)
        n = table.num_rows
        barcodes = pc.utf8_trim_whitespace(table.column("Tumor_Sample_Barcode").cast(pa.string()))
        in_file = pc.unique(barcodes).to_pylist() if n else []
        listed, _source = _listed_samples(m, s)
        if listed is None:
            # a MAF that names its own samples: a legacy TCGA / Firehose MAF, or a GDC MAF without its sample sheet
            if not in_file:
                report.add(
                    "file",
                    str(path),
                    _keys.MUT,
                    "",
                    "dropped",
                    "MAF without variants, in neither the sample sheet nor the metadata JSON: no sample to give it to",
                )
                continue
            table = table.append_column("aliquot", barcodes)
            table = table.append_column("source_file", pa.array([rel] * n, type=pa.string()))
            tables.append(table)
            for barcode in in_file:
                ids.append(barcode)
                files.append(rel)
                normals.append("")
            report.add(
                "file",
                str(path),
                _keys.MUT,
                "",
                "kept",
                f"MAF in neither the sample sheet nor the metadata JSON: read for the {len(in_file)} tumour "
                f"sample(s) its Tumor_Sample_Barcode names ({n} variants)",
            )
            continue
        tumour, normal = _pair(listed)
        if len(in_file) == 1 and len(in_file[0]) > len(tumour) and in_file[0].startswith(tumour):
            tumour = in_file[0]  # only the sample sheet's vial-level ID: the MAF names the aliquot itself
        bad = [b for b in in_file if not (tumour.startswith(b) if len(b) < len(tumour) else b == tumour)]
        if bad:
            raise SampleMismatchError(
                f"{path}: Tumor_Sample_Barcode {bad[0]!r} disagrees with the tumour aliquot {tumour!r} that the "
                "metadata JSON / sample sheet give for this file; expected one tumour aliquot per GDC MAF"
            )
        _check_sheet(path, s, m, tumour)
        if normal and "Matched_Norm_Sample_Barcode" in table.column_names and n:
            written = pc.unique(table.column("Matched_Norm_Sample_Barcode")).to_pylist()
            if len(written) == 1 and written[0] and written[0].startswith(normal) and len(written[0]) > len(normal):
                normal = written[0]  # the MAF names the normal's aliquot
        table = table.append_column("aliquot", pa.array([tumour] * n, type=pa.string()))
        table = table.append_column("source_file", pa.array([rel] * n, type=pa.string()))
        tables.append(table)
        ids.append(tumour)
        files.append(rel)
        normals.append(normal)
        report.add(
            "file", str(path), _keys.MUT, tumour, "kept", f"masked somatic MAF, {n} variants" + _pair_note(normal)
        )
    if not ids:
        return None
    maf = pa.concat_tables(tables, promote_options="default").to_pandas() if tables else pd.DataFrame()
    block = mut_block(maf, report=report, ids=ids, files=files, normals=normals)
    found = set()
    if "NCBI_Build" in maf and len(maf):
        for rel, written in maf.groupby("source_file", sort=False)["NCBI_Build"].first().items():
            try:
                build = normalize_build(written)
            except ValueError:
                build = None
            if build is not None:
                builds[str(folder / rel) if not Path(rel).is_absolute() else rel] = build
                found.add(build)
    if len(found) == 1:
        block.uns["build"] = found.pop()
    elif found:
        report.add(
            "file",
            str(folder),
            _keys.MUT,
            "",
            "kept",
            f"the MAF files are of several genome builds ({sorted(found)}); no single build is recorded",
        )
    return block


def _segment_block(
    segments: list[tuple[Path, pd.DataFrame]],
    gene_coordinates,
    lookup,
    report: Report,
    folder: Path,
    builds: dict[str, str],
) -> Block:
    """Gene-level copy number of each segment file's aliquot (see :func:`harmonomics.pp.segments_to_genes`).

    GDC's segments are on GRCh38: without ``gene_coordinates`` the shipped GRCh38 (GENCODE v36) coordinates are
    used; coordinates of another build, or a file whose name says another build, are refused.
    """
    from ..barcodes import is_valid
    from ._segments import coordinates_for, genes_from_segments, segment_build

    # one unit per matrix: ASCAT total copy number when any file has it, else the SNP6 log2 ratio
    value = "Copy_Number" if any("Copy_Number" in seg for _, seg in segments) else "Segment_Mean"
    used, aliquots, files, normals = [], [], [], []
    for path, seg in segments:
        build = segment_build(None, path.name, Report(), source=str(path), default=_GDC_BUILD)
        if build != _GDC_BUILD:
            from .._errors import GenomeBuildError

            raise GenomeBuildError(
                f"{path}: the file name says the segments are on {build}, but GDC files are on {_GDC_BUILD} and the "
                "other segments of this folder are mapped onto GRCh38 gene coordinates; read this file on its own "
                f"with hm.io.read_segments(path, build={build!r})"
            )
        builds[str(path)] = build
        if value not in seg:
            report.add(
                "file",
                str(path),
                _keys.CNV,
                "",
                "kept",
                f"copy-number segments without {value}, kept in the segments table only: the gene-level values "
                f"use {value} from the other segment files",
            )
            continue
        m, s = lookup(path)
        aliquot, normal = _aliquot_for(path, m, s, _keys.CNV, report)
        if aliquot is None:
            continue
        written = [a for a in pd.unique(seg["aliquot"].astype(str)) if is_valid(a)]  # (real GDC files hold UUIDs)
        if any(not (aliquot.startswith(a) or a.startswith(aliquot)) for a in written):
            raise SampleMismatchError(
                f"{path}: the segments are of {written[0]!r}, but the metadata JSON / sample sheet "
                f"give aliquot {aliquot!r} for this file; expected them to agree"
            )
        used.append(seg.assign(_file=str(len(used))))
        aliquots.append(aliquot)
        files.append(_rel(path, folder))
        normals.append(normal)
        report.add(
            "file",
            str(path),
            _keys.CNV,
            aliquot,
            "kept",
            f"copy-number segments of aliquot {aliquot}: gene-level {value} from the segment that overlaps the "
            f"most of each gene, on {_GDC_BUILD} gene coordinates" + _pair_note(normal),
        )
    if not used:
        raise FormatError("no copy-number segment file could be matched to a sample", path=folder)
    coords = coordinates_for(_GDC_BUILD, gene_coordinates, report, source=str(folder))
    genes = genes_from_segments(pd.concat(used, ignore_index=True), coords, value=value, sample_column="_file")
    rows = genes.obs_names.astype(int)  # files in the order they were added
    obs = pd.DataFrame({_MATCHED_NORMAL: [normals[i] for i in rows]}) if any(normals) else None
    return Block(
        omic=_keys.CNV,
        ids=[aliquots[i] for i in rows],
        source_files=[files[i] for i in rows],
        values=np.asarray(genes.X),
        var=genes.var,
        obs=obs,
        layers={"segment_min": genes.layers["min"], "segment_max": genes.layers["max"]},
        uns={"segments_to_genes": dict(genes.uns["segments_to_genes"]), "build": _GDC_BUILD},
        analyte_kind="dna",
    )
