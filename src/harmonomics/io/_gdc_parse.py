"""Per-format parsing for :func:`~harmonomics.io.read_gdc`: every file of one format in one pyarrow pass, then
one :class:`~harmonomics.io._build.Block` per omic (profiles, MAFs, copy-number segments)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _keys
from .._annotation import normalize_build
from .._errors import FormatError, SampleMismatchError
from . import _parsers as P
from ._batch import parse_many, parse_one
from ._build import Block, Report, decompress, parallel_map, stack_profiles
from ._detect import FORMATS
from ._gdc_discovery import _DATA_FORMATS, Record, _rel, recognised_chunks
from ._gdc_pairing import _aliquot_for, _check_sheet, _listed_samples, _pair, _pair_note
from ._maf import mut_block

_ANALYTE = {
    _keys.RNA: "rna",
    _keys.MIRNA: "rna",
    _keys.METH: "dna",
    _keys.CNV: "dna",
    _keys.MUT: "dna",
    _keys.PROT: None,
}
# the data formats parsed by io/_batch.parse_many (segments are parsed on their own, below)
_PARSED = ("gdc_star_counts", "gdc_mirna", "gdc_meth_betas", "gdc_gene_copy_number", "gdc_rppa", "gdc_maf")
_MATCHED_NORMAL = "matched_normal"
_GDC_BUILD = "GRCh38"  # GDC's harmonized data (GENCODE v36 gene model)


def read_and_parse(
    paths: list[Path],
    *,
    stream: dict[str, Path],
    wanted: set[str] | None,
    strict: bool,
    report: Report,
    rna_layers: tuple[str, ...],
    maf_columns: str | tuple[str, ...],
    chunk_bytes: int,
) -> tuple[list[Record], dict[str, list[tuple[Path, Any]]]]:
    """Read and recognise every file, and parse the data files of the wanted, not streamed omics.

    All files of one format go in one pyarrow pass (io/_batch.py), the formats in parallel threads, one chunk of
    about ``chunk_bytes`` at a time, so that only one chunk's text is held in memory. Returns every file's record
    and ``{format: [(path, parsed object, or the bytes of a file that is not parsed, or None)]}``.
    """
    records: list[Record] = []
    by_format: dict[str, list[tuple[Path, Any]]] = defaultdict(list)
    annotated: set[str] = set()  # formats whose feature annotation was read (from their first file)
    chunks = recognised_chunks(paths, stream=stream, strict=strict, report=report, chunk_bytes=chunk_bytes)
    for chunk_records, chunk_formats in chunks:
        records.extend(chunk_records)
        to_parse = [
            fmt
            for fmt in chunk_formats
            if fmt in _PARSED and _DATA_FORMATS[fmt] not in stream and (wanted is None or _DATA_FORMATS[fmt] in wanted)
        ]
        _parse_chunk(chunk_formats, to_parse, annotated, rna_layers=rna_layers, maf_columns=maf_columns)
        annotated.update(to_parse)
        for fmt, items in chunk_formats.items():
            if fmt in _PARSED and fmt not in to_parse:  # an omic not requested, or streamed: drop its text
                items = [(path, None) for path, _ in items]
            by_format[fmt].extend(items)
        del chunk_records, chunk_formats  # the chunk's text
    return records, by_format


def _parse_chunk(chunk_formats: dict, to_parse: list[str], annotated: set[str], *, rna_layers, maf_columns) -> None:
    """Replace the bytes of the ``to_parse`` formats' files in ``chunk_formats`` by their parsed objects."""

    def parse_format(job):
        fmt, items, annotate_first = job
        return parse_many(fmt, items, rna_layers=rna_layers, maf_columns=maf_columns, annotate_first=annotate_first)

    jobs = [(fmt, chunk_formats[fmt], fmt not in annotated) for fmt in to_parse]
    parsed = parallel_map(parse_format, jobs)
    for fmt, objects in zip(to_parse, parsed, strict=True):
        chunk_formats[fmt] = [(path, obj) for (path, _), obj in zip(chunk_formats[fmt], objects, strict=True)]


def parse_segment_files(items: list[tuple[Path, bytes]], folder: Path) -> list[tuple[Path, pd.DataFrame]]:
    """Each segment file's table, with its ``source_file``."""
    segments = []
    for path, data in items:
        seg = P.parse_segments(path, data=data)
        seg["source_file"] = _rel(path, folder)
        segments.append((path, seg))
    return segments


def aliquot_rows(fmt: str, items, lookup, folder: Path, report: Report) -> tuple[list[tuple], list[str]]:
    """``[(aliquot, file, profile)]`` of the profile files that belong to a sample, and each one's matched normal
    ('' if none); a file that belongs to no sample is left out with a report row."""
    omic = _DATA_FORMATS[fmt]
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
    return rows, normals


def profile_block(fmt: str, rows: list[tuple], normals: list[str], folder: Path, *, rna_layers, maf_columns) -> Block:
    """One omic's Block from its profiles (STAR counts, miRNA, betas, gene-level copy number, RPPA)."""
    omic = _DATA_FORMATS[fmt]
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
    return block


def add_segment_blocks(
    segments: list[tuple[Path, pd.DataFrame]],
    blocks: list[Block],
    gene_coordinates,
    lookup,
    report: Report,
    folder: Path,
    builds: dict[str, str],
) -> None:
    """Gene-level copy number from the segments, only where there are no gene-level copy-number files; else the
    segments are kept as a table only."""
    if not segments:
        return
    has_gene_level = any(b.omic == _keys.CNV for b in blocks)
    if not has_gene_level:
        blocks.append(_segment_block(segments, gene_coordinates, lookup, report, folder, builds))
        return
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


def _integer_copy(values: np.ndarray) -> np.ndarray:
    """Validated integer counts as an int32 (or int64) copy."""
    if values.size and np.isfinite(values).all() and (values == np.round(values)).all():
        return values.astype(np.int32 if values.max(initial=0) < 2**31 else np.int64)
    return values.copy()


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
