"""Reader for a GDC (Genomic Data Commons) download folder.

:func:`read_gdc` orchestrates four steps, each in its own module: discovery (``_gdc_discovery``: the files, their
formats, the sample sheet and metadata), per-format parsing (``_gdc_parse``: one pass per format, one block per
omic), pairing (``_gdc_pairing``: which tumour aliquot a file belongs to, and its matched normal) and assembly
(here: the blocks into a MuData with its report, or the streamed omics into zarr).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import _keys
from .._errors import FormatError
from . import _parsers as P
from ._build import Block, Report, assemble, file_records, uns_table
from ._gdc_discovery import _DATA_FORMATS, GdcFiles, describe, find_files
from ._gdc_parse import (
    _ANALYTE,
    _maf_block,
    add_segment_blocks,
    aliquot_rows,
    parse_segment_files,
    profile_block,
    read_and_parse,
)
from ._maf import finish_mut

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)

# bytes of files read before their chunk is parsed: bounds the text held in memory (a real STAR download is ~5 GB);
# chunks of this size still amortise the per-parse cost, and measured no slower than larger ones
_CHUNK_BYTES = 32 * 2**20


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
    extra = [Path(p) for p in (sample_sheet, metadata, clinical) if p is not None]
    paths = find_files(folder, extra)
    report = Report()
    wanted = set(omics) if omics is not None else None
    targets = _stream_targets(stream)
    records, by_format = read_and_parse(
        paths,
        stream=targets,
        wanted=wanted,
        strict=strict,
        report=report,
        rna_layers=tuple(rna_layers),
        maf_columns=maf_columns,
        chunk_bytes=_CHUNK_BYTES,
    )
    gdc = describe(folder, records, by_format, sample_sheet=sample_sheet, report=report)
    found = _data_blocks(
        gdc,
        report,
        omics=omics,
        stream=targets,
        sample_types=sample_types,
        client=client,
        rna_layers=rna_layers,
        maf_columns=maf_columns,
    )
    add_segment_blocks(found.segments, found.blocks, gene_coordinates, gdc.lookup, report, folder, found.builds)
    if not found.blocks and found.streamed:
        from ..store import read

        first = next(iter(found.streamed.values()))
        logger.info("every data file was streamed to zarr; returning the lazily opened store %s", first)
        return read(first, backed=True)
    if not found.blocks:
        raise FormatError(
            "no data file could be matched to a sample: the folder needs the GDC sample sheet or the "
            "metadata JSON export that list its files",
            path=folder,
        )
    parameters = {
        "folder": str(folder),
        "omics": list(omics) if omics else "all",
        "rna_layers": list(rna_layers),
        "maf_columns": maf_columns if isinstance(maf_columns, str) else list(maf_columns),
        "metadata": bool(gdc.meta),
        "sample_sheet": gdc.sheet is not None,
    }
    return _assemble(
        found,
        gdc,
        report,
        parameters=parameters,
        sample_types=sample_types,
        join=join,
        keep_all_aliquots=keep_all_aliquots,
    )


def _stream_targets(stream: Mapping[str, str | PathLike] | None) -> dict[str, Path]:
    """``{omic: zarr path}`` of the omics to stream; only ``meth`` and ``rna`` can be."""
    targets = {omic: Path(target) for omic, target in (stream or {}).items()}
    unknown_stream = sorted(set(targets) - {_keys.METH, _keys.RNA})
    if unknown_stream:
        raise ValueError(f"stream supports the omics 'meth' and 'rna'; got {unknown_stream}")
    return targets


@dataclass
class _Found:
    """The data read from a folder: blocks, segment tables, the zarr stores streamed into, each file's build."""

    blocks: list[Block] = field(default_factory=list)
    segments: list[tuple[Path, pd.DataFrame]] = field(default_factory=list)
    streamed: dict[str, Path] = field(default_factory=dict)
    builds: dict[str, str] = field(default_factory=dict)  # genome build of each file with positions (segments, MAFs)


def _data_blocks(
    gdc: GdcFiles, report: Report, *, omics, stream, sample_types, client, rna_layers, maf_columns
) -> _Found:
    """One block per wanted omic (MAFs, profiles), the segment tables, and the streamed omics' zarr stores."""
    found = _Found()
    wanted = set(omics) if omics is not None else None
    for fmt, items in sorted(gdc.by_format.items()):
        omic = _DATA_FORMATS[fmt]
        if wanted is not None and omic not in wanted and not (omic == "segments" and _keys.CNV in wanted):
            for path, _ in items:
                report.add("file", str(path), omic, "", "dropped", f"omic {omic!r} not requested (omics={omics})")
            continue
        if fmt == "gdc_maf":
            block = _maf_block(items, gdc.lookup, report, gdc.folder, found.builds)
            if block is not None:
                found.blocks.append(block)
            continue
        if fmt == "gdc_segments":
            found.segments.extend(parse_segment_files(items, gdc.folder))
            continue
        rows, normals = aliquot_rows(fmt, items, gdc.lookup, gdc.folder, report)
        if not rows:
            continue
        if omic in stream:
            found.streamed[omic] = _stream_omic(omic, rows, stream[omic], gdc.folder, sample_types, report, client)
            continue
        found.blocks.append(
            profile_block(fmt, rows, normals, gdc.folder, rna_layers=rna_layers, maf_columns=maf_columns)
        )
        for i in range(len(items)):
            items[i] = (items[i][0], b"")
    gdc.by_format.clear()
    return found


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


def _assemble(
    found: _Found, gdc: GdcFiles, report: Report, *, parameters: dict, sample_types, join, keep_all_aliquots
) -> md.MuData:
    """The MuData of the blocks, with the clinical table, every file's provenance and the report."""
    patient_clinical = _clinical_table(gdc.clinical, report)
    _report_missing_from_sheet(gdc, report)
    files = file_records(gdc.records)
    for record in files:
        record["build"] = found.builds.get(record["path"], "")
    mdata = assemble(
        found.blocks,
        report=report,
        reader="harmonomics.io.read_gdc",
        files=files,
        parameters=parameters,
        sample_types=sample_types,
        join=join,
        patient_clinical=patient_clinical,
        keep_all_aliquots=keep_all_aliquots,
    )
    finish_mut(mdata)
    if found.streamed:
        mdata.uns["harmonomics"]["streamed"] = {omic: str(path) for omic, path in found.streamed.items()}
    segments = [seg for _, seg in found.segments]
    if segments and _keys.CNV in mdata.mod:
        mdata.mod[_keys.CNV].uns["segments"] = uns_table(pd.concat(segments, ignore_index=True))
    elif segments:
        mdata.uns["cnv_segments"] = uns_table(pd.concat(segments, ignore_index=True))
    return mdata


def _clinical_table(clin_files: list[tuple[Path, bytes]], report: Report) -> pd.DataFrame | None:
    """One row per patient from the ``clinical.tsv`` files (None without one)."""
    if not clin_files:
        return None
    from ._clinical import gdc_patient_table

    raws = [P.parse_gdc_clinical(p, data=d) for p, d in clin_files]
    patient_clinical = gdc_patient_table(pd.concat(raws, ignore_index=True))
    for p, _ in clin_files:
        report.add("file", str(p), "clinical", "", "kept", f"clinical table, {len(patient_clinical)} patients")
    return patient_clinical


def _report_missing_from_sheet(gdc: GdcFiles, report: Report) -> None:
    """A report row for each file the sample sheet lists that the folder lacks."""
    if gdc.sheet is None:
        return
    present = {str(r[0].parent.name) for r in gdc.records} | {r[0].name for r in gdc.records}
    for rec in gdc.sheet_records:
        if rec["File ID"] not in present and rec["File Name"] not in present:
            report.add(
                "file",
                rec["File Name"],
                "",
                str(rec["Sample ID"])[:15],
                "dropped",
                "listed in the sample sheet but missing from the folder",
            )
