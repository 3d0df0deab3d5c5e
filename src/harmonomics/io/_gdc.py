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
from .._errors import (
    EmptyInputError,
    FormatError,
    MixedProjectsError,
    SampleMismatchError,
    UnknownFormatError,
)
from .._progress import progress_bar
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
from ._text import head_text

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
_ANALYTE = {_keys.RNA: "rna", _keys.MIRNA: "rna", _keys.METH: "dna", _keys.CNV: "dna", _keys.MUT: "dna", _keys.PROT: None}
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
        Gene coordinates (a TSV or DataFrame with a gene column and chromosome, start, end; a GDC gene-level
        copy-number file is one) for a folder that holds copy-number segments but no gene-level copy-number
        files: the ``cnv`` modality is then computed from the segments with
        :func:`harmonomics.pp.segments_to_genes` (ASCAT ``Copy_Number`` when present, else SNP6
        ``Segment_Mean``). Without it such segments stay a table in ``uns["cnv_segments"]``.

    Returns
    -------
    MuData with modalities among rna (X and layers["counts"] = unstranded counts, layers such as
    ``tpm_unstranded``; var ``gene_name``, ``gene_type``), mirna (X = read counts, layers["rpm"]), meth (betas),
    cnv (integer copy number; ``uns["segments"]`` when segment files exist), mut (0/1 protein-altering
    mutations, ``uns["maf"]`` the long table of the chosen aliquots), prot (RPPA, outer join of the panels).
    Global obs: patient, sample_type, sample_type_code and clinical columns (os_time, os_event, age, stage,
    vital_status, ...). Per-modality obs: aliquot, source_file. ``uns["harmonomics"]`` (provenance with every
    file's md5 and size) and ``uns["harmonomics_report"]``.

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
        raise EmptyInputError("the folder holds no files; expected a GDC download (sample sheet, metadata JSON and "
                              "<file_id>/<file_name> data files)", path=folder)
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
                    path=path, line=1)
            fmt = hint
        return path, md5, size, fmt, data

    def parse_format(job):
        fmt, items, annotate_first = job
        return parse_many(fmt, items, rna_layers=tuple(rna_layers), maf_columns=maf_columns,
                          annotate_first=annotate_first)

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
                    report.add("file", str(path), _DATA_FORMATS[fmt], "", "renamed",
                               f"the file name suggests {FORMATS[hint][2]} but the content is {FORMATS[fmt][2]}; "
                               "read as the latter")
            to_parse = [fmt for fmt in chunk_formats if fmt in _PARSED and _DATA_FORMATS[fmt] not in stream
                        and (wanted is None or _DATA_FORMATS[fmt] in wanted)]
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
                report.add("file", str(path), "", "", "kept" if fmt in ("gdc_manifest", "gdc_annotations") else "dropped",
                           f"{FORMATS[fmt][2]}: not a data file of this reader")
    if not any(by_format.values()):
        raise EmptyInputError("no GDC data files found (STAR counts, MAF, copy number, methylation, RPPA, miRNA); "
                              f"found formats {sorted({r[3] for r in records})}", path=folder)

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
    streamed: dict[str, Path] = {}
    segments = []
    for fmt, items in sorted(by_format.items()):
        omic = _DATA_FORMATS[fmt]
        if wanted is not None and omic not in wanted and not (omic == "segments" and _keys.CNV in wanted):
            for path, _ in items:
                report.add("file", str(path), omic, "", "dropped", f"omic {omic!r} not requested (omics={omics})")
            continue
        if fmt == "gdc_maf":
            blocks.append(_maf_block(items, lookup, sheet, maf_columns, report, folder))
            continue
        if fmt == "gdc_segments":
            for path, data in items:
                seg = P.parse_segments(path, data=data)
                seg["source_file"] = _rel(path, folder)
                segments.append((path, seg))
            continue
        rows = []
        for path, prof in items:
            m, s = lookup(path)
            aliquot = _aliquot_for(path, m, s, omic, report)
            if aliquot is None:
                continue
            rows.append((aliquot, _rel(path, folder), prof))
            report.add("file", str(path), omic, aliquot, "kept", f"{FORMATS[fmt][2]} of aliquot {aliquot}")
        if not rows:
            continue
        if omic in stream:
            streamed[omic] = _stream_omic(omic, rows, stream[omic], folder, sample_types, report, client)
            continue
        if not any(prof.var for _, _, prof in rows):  # the annotated file was not kept: annotate from a kept one
            first = folder / rows[0][1] if not Path(rows[0][1]).is_absolute() else Path(rows[0][1])
            rows[0] = (rows[0][0], rows[0][1], parse_one(fmt, first, decompress(first, first.read_bytes()),
                                                         rna_layers=tuple(rna_layers), maf_columns=maf_columns))
        block = stack_profiles(omic, rows, analyte_kind=_ANALYTE[omic], outer=omic == _keys.PROT, what=f"{omic} file")
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
        if not has_gene_level and gene_coordinates is not None:
            blocks.append(_segment_block(segments, gene_coordinates, lookup, report, folder))
        else:
            where = "mod['cnv'].uns['segments']" if has_gene_level else "uns['cnv_segments']"
            why = ("gene-level values come from the gene-level copy-number files" if has_gene_level else
                   "pass gene_coordinates= for gene-level values")
            for path, _ in segments:
                report.add("file", str(path), _keys.CNV, "", "kept", f"copy-number segments, kept as a table in {where} "
                           f"({why})")
        segments = [seg for _, seg in segments]
    if not blocks and streamed:
        from ..store import read

        logger.info("every data file was streamed to zarr; returning the lazily opened store %s", next(iter(streamed.values())))
        return read(next(iter(streamed.values())), backed=True)
    if not blocks:
        raise FormatError("no data file could be matched to a sample: the folder needs the GDC sample sheet or the "
                          "metadata JSON export that list its files", path=folder)

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
                report.add("file", rec["File Name"], "", str(rec["Sample ID"])[:15], "dropped",
                           "listed in the sample sheet but missing from the folder")

    mdata = assemble(
        blocks, report=report, reader="harmonomics.io.read_gdc",
        files=file_records(records),
        parameters={"folder": str(folder), "omics": list(omics) if omics else "all", "rna_layers": list(rna_layers),
                    "maf_columns": maf_columns if isinstance(maf_columns, str) else list(maf_columns),
                    "metadata": bool(meta), "sample_sheet": sheet is not None},
        sample_types=sample_types, join=join, patient_clinical=patient_clinical, keep_all_aliquots=keep_all_aliquots,
    )
    _finish_mut(mdata)
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
    from ..pp._harmonize import choose_samples, resolve_sample_types
    from ._stream import stream_to_zarr

    aliquots = [aliquot for aliquot, _, _ in rows]
    files = [source for _, source, _ in rows]
    positions, keys, choice = choose_samples(
        aliquots, omic=omic, analyte_kind=_ANALYTE[omic], sample_types=resolve_sample_types(sample_types), source_files=files
    )
    report.extend(choice)
    paths = [folder / files[i] if not Path(files[i]).is_absolute() else Path(files[i]) for i in positions]
    stream_to_zarr(paths, out, omic=omic, samples=list(keys), aliquots=[aliquots[i] for i in positions], client=client)
    report.add("file", str(out), omic, "", "kept", f"{len(paths)} {omic} files streamed into the chunked zarr store {out}")
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
            raise FormatError(f"wrong header for a GDC manifest: found {header[:5]}; expected id filename md5 size "
                              "state", path=path, line=1) from None
        expected = {}
        for lineno, line in enumerate(text[1:], start=2):
            cells = line.split("\t")
            if len(cells) <= max(i_id, i_name, i_md5):
                if line.strip():
                    raise FormatError(f"expected {len(header)} tab-separated fields, found {len(cells)}", path=path,
                                      line=lineno)
                continue
            expected[(cells[i_id], cells[i_name])] = (cells[i_md5], lineno)
        by_name = {name: v for (_, name), v in expected.items()}
        for rec_path, md5, _size, _fmt in records:
            key = (rec_path.parent.name, rec_path.name)
            want = expected.get(key) or (by_name.get(rec_path.name) if rec_path.parent != folder else None)
            if want is not None and md5 and want[0] != md5:  # streamed files are not hashed (md5 "")
                raise FormatError(f"md5 {md5} differs from {want[0]} in the download manifest ({path.name}, line "
                                  f"{want[1]}); the file is corrupt or truncated: download it again", path=rec_path)


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
        raise MixedProjectsError(f"{folder}: the folder mixes {len(projects)} projects ({detail}); expected one "
                                 "project per folder: read each project separately")


def _aliquot_for(path: Path, m: dict | None, s: dict | None, omic: str, report: Report) -> str | None:
    """The aliquot barcode of a single-sample file, cross-checked against the sample sheet."""
    aliquot = None
    if m is not None:
        ents = [e.get("entity_submitter_id") for e in m.get("associated_entities", []) if e.get("entity_submitter_id")]
        if not ents:
            raise FormatError(f"metadata record {m['file_id']} has no associated_entities[].entity_submitter_id; "
                              "expected the aliquot barcode", path=m.get("_json"))
        aliquot = ents[0]
        if s is not None:
            sheet_ids = [x.strip() for x in str(s["Sample ID"]).split(",")]
            if aliquot[:16] not in sheet_ids:
                raise SampleMismatchError(
                    f"{s['_sheet']}, line {s['_line']}: the sample sheet says file {path.name} is sample "
                    f"{s['Sample ID']!r}, but the metadata JSON ({m.get('_json')}) gives aliquot {aliquot!r} "
                    f"(sample {aliquot[:16]}); expected them to agree")
    elif s is not None:
        aliquot = str(s["Sample ID"]).split(",")[0].strip()
        report.add("file", str(path), omic, aliquot[:15], "kept",
                   "no metadata JSON record: sample from the sample sheet (vial level; no aliquot choice by analyte)")
    else:
        report.add("file", str(path), omic, "", "dropped",
                   "not in the sample sheet nor in the metadata JSON: cannot tell which sample it belongs to")
        return None
    return aliquot


def _maf_block(items, lookup, sheet, maf_columns, report: Report, folder: Path) -> Block:
    import pyarrow as pa

    from ..barcodes import parse_barcodes
    from ..pp._transforms import _mutation_arrays

    parsed_files = items
    # the tumour aliquot of each file: the associated entity with a tumour sample type (one vectorised parse)
    entities = {}
    for path, _ in parsed_files:
        m, _s = lookup(path)
        if m is not None:
            entities[path] = [e.get("entity_submitter_id") for e in m.get("associated_entities", []) if e.get("entity_submitter_id")]
    all_ids = sorted({e for ents in entities.values() for e in ents})
    codes = parse_barcodes(all_ids)["sample_type_code"].to_dict() if all_ids else {}
    tables, ids, files = [], [], []
    for path, table in parsed_files:
        m, s = lookup(path)
        tumour = None
        if entities.get(path):
            ents = entities[path]
            tum = [e for e in ents if codes.get(e) is not None and int(codes[e]) < 10]
            tumour = tum[0] if tum else ents[0]
        in_file = pa.compute.unique(table.column("Tumor_Sample_Barcode")).to_pylist() if table.num_rows else []
        if tumour is None:
            if s is not None:
                tumour = str(s["Sample ID"]).split(",")[0].strip()
            elif len(in_file) == 1:
                tumour = in_file[0]
            else:
                report.add("file", str(path), _keys.MUT, "", "dropped",
                           "MAF not in the sample sheet nor the metadata JSON and not one tumour sample")
                continue
        if len(in_file) == 1 and len(in_file[0]) > len(tumour) and in_file[0].startswith(tumour):
            tumour = in_file[0]  # only the sample sheet's vial-level ID: the MAF names the aliquot itself
        bad = [b for b in in_file if not (tumour.startswith(b) if len(b) < len(tumour) else b == tumour)]
        if bad:
            raise SampleMismatchError(
                f"{path}: Tumor_Sample_Barcode {bad[0]!r} disagrees with the tumour aliquot {tumour!r} that the "
                "metadata JSON / sample sheet give for this file; expected one tumour aliquot per GDC MAF")
        if s is not None and m is not None:
            sheet_ids = [x.strip() for x in str(s["Sample ID"]).split(",")]
            if tumour[:16] not in sheet_ids:
                raise SampleMismatchError(
                    f"{s['_sheet']}, line {s['_line']}: the sample sheet lists {s['Sample ID']!r} for {path.name}, "
                    f"but the metadata JSON gives tumour aliquot {tumour!r}; expected them to agree")
        rel = _rel(path, folder)
        n = table.num_rows
        table = table.append_column("aliquot", pa.array([tumour] * n, type=pa.string()))
        table = table.append_column("source_file", pa.array([rel] * n, type=pa.string()))
        tables.append(table)
        ids.append(tumour)
        files.append(rel)
        report.add("file", str(path), _keys.MUT, tumour, "kept", f"masked somatic MAF, {n} variants")
    maf = pa.concat_tables(tables, promote_options="default").to_pandas() if tables else pd.DataFrame()
    matrix, _, var = _mutation_arrays(maf, sample_column="aliquot", samples=ids)
    return Block(omic=_keys.MUT, ids=ids, source_files=files, values=matrix, var=var,
                 uns={"maf": maf}, analyte_kind="dna")


def _segment_block(segments: list[tuple[Path, pd.DataFrame]], gene_coordinates, lookup, report: Report,
                   folder: Path) -> Block:
    """Gene-level copy number of each segment file's aliquot (see :func:`harmonomics.pp.segments_to_genes`)."""
    from ..barcodes import is_valid
    from ..pp._segments import segments_to_genes

    # one unit per matrix: ASCAT total copy number when any file has it, else the SNP6 log2 ratio
    value = "Copy_Number" if any("Copy_Number" in seg for _, seg in segments) else "Segment_Mean"
    used, aliquots, files = [], [], []
    for path, seg in segments:
        if value not in seg:
            report.add("file", str(path), _keys.CNV, "", "kept",
                       f"copy-number segments without {value}, kept in the segments table only: the gene-level values "
                       f"use {value} from the other segment files")
            continue
        m, s = lookup(path)
        aliquot = _aliquot_for(path, m, s, _keys.CNV, report)
        if aliquot is None:
            continue
        written = [a for a in pd.unique(seg["aliquot"].astype(str)) if is_valid(a)]  # (real GDC files hold UUIDs)
        if any(not (aliquot.startswith(a) or a.startswith(aliquot)) for a in written):
            raise SampleMismatchError(f"{path}: the segments are of {written[0]!r}, but the metadata JSON / sample sheet "
                                      f"give aliquot {aliquot!r} for this file; expected them to agree")
        used.append(seg.assign(_file=str(len(used))))
        aliquots.append(aliquot)
        files.append(_rel(path, folder))
        report.add("file", str(path), _keys.CNV, aliquot, "kept",
                   f"copy-number segments of aliquot {aliquot}: gene-level {value} from the segment that overlaps the "
                   "most of each gene")
    if not used:
        raise FormatError("no copy-number segment file could be matched to a sample", path=folder)
    genes = segments_to_genes(pd.concat(used, ignore_index=True), gene_coordinates, value=value,
                              sample_column="_file")
    rows = genes.obs_names.astype(int)  # files in the order they were added
    return Block(omic=_keys.CNV, ids=[aliquots[i] for i in rows], source_files=[files[i] for i in rows],
                 values=np.asarray(genes.X), var=genes.var,
                 layers={"segment_min": genes.layers["min"], "segment_max": genes.layers["max"]},
                 uns={"segments_to_genes": dict(genes.uns["segments_to_genes"])}, analyte_kind="dna")


def _finish_mut(mdata) -> None:
    """Keep only the chosen aliquots' rows in the long MAF table and add the sample key."""
    if _keys.MUT not in mdata.mod:
        return
    mut = mdata.mod[_keys.MUT]
    maf = mut.uns.get("maf")
    if maf is None or not isinstance(maf, pd.DataFrame) or "aliquot" not in maf:
        return
    to_sample = pd.Series(mut.obs_names.to_numpy(), index=mut.obs["aliquot"].to_numpy())
    maf = maf[maf["aliquot"].isin(to_sample.index)].copy()
    maf.insert(0, "sample", maf["aliquot"].map(to_sample).to_numpy())
    mut.uns["maf"] = uns_table(maf.reset_index(drop=True))
