"""Copy-number segment files → gene-level copy number, on gene coordinates of the segments' own genome build."""

from __future__ import annotations

import logging
import re
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import GenomeBuildError
from . import _parsers as P
from ._build import Block, Report, assemble, read_input, uns_table

if TYPE_CHECKING:  # pragma: no cover
    import anndata as ad
    import mudata as md

logger = logging.getLogger(__name__)

# a build named in a file name, e.g. TCGA.AB.3009.hg19.seg.txt or BRCA.snp6.GRCh38.seg
_BUILD_IN_NAME = re.compile(r"(?<![a-z0-9])(hg1[89]|hg38|grch3[78]|b3[78])(?![a-z0-9])", re.IGNORECASE)
# the sample, chromosome and position columns as the sources name them (GDC, Firehose/TCGA legacy, cBioPortal .seg)
_FRAME_COLUMNS = {
    "aliquot": ("aliquot", "GDC_Aliquot", "Sample", "sample", "ID"),
    "Chromosome": ("Chromosome", "chrom", "chr", "chromosome"),
    "Start": ("Start", "loc.start", "start"),
    "End": ("End", "loc.end", "end"),
    "Segment_Mean": ("Segment_Mean", "seg.mean"),
}


def read_segments(
    path_or_frame: str | PathLike | pd.DataFrame,
    *,
    build: str | None = None,
    gene_coordinates: str | PathLike | pd.DataFrame | None = None,
    value: str | None = None,
    sample_types: str | tuple[str, ...] | None = "primary",
    keep_all_aliquots: bool = False,
) -> md.MuData:
    """Read a copy-number segment file into gene-level copy number (the ``cnv`` modality).

    Each gene takes the value of the segment that overlaps the most of it (see
    :func:`harmonomics.pp.segments_to_genes`), on the gene coordinates of the segments' own genome build: by
    default the coordinates shipped with harmonomics (GRCh37 = Ensembl 75, GRCh38 = GENCODE v36). Segments are
    never mapped onto coordinates of another build.

    Parameters
    ----------
    path_or_frame
        A segment file (GDC ASCAT ``GDC_Aliquot Chromosome Start End Copy_Number …``, SNP6 / Firehose / TCGA legacy
        ``Sample Chromosome Start End Num_Probes Segment_Mean``, cBioPortal ``.seg`` ``ID chrom loc.start loc.end
        num.mark seg.mean``; plain or gzip) or a DataFrame with such columns. Chromosomes may be written ``chr17``
        or ``17``; SNP6's ``23``/``24`` are X/Y.
    build
        The segments' genome build (``"hg19"``/``"GRCh37"``/``"37"`` or ``"hg38"``/``"GRCh38"``). Needed unless the
        file name names it (``*.hg19.seg.txt``), which is then used as a hint and reported. Without either, a
        :class:`~harmonomics._errors.GenomeBuildError` asks for it.
    gene_coordinates
        Gene coordinates to use instead of the shipped ones (a TSV or DataFrame with a gene column and
        chromosome, start, end, as for :func:`harmonomics.pp.segments_to_genes`). Their build is told from a
        ``build`` column or by comparing gene positions with the shipped tables; coordinates of another build
        than ``build`` are refused.
    value
        The value column: default ``Copy_Number`` (ASCAT total copy number) when present, else ``Segment_Mean``
        (log2(CN/2)).
    sample_types, keep_all_aliquots
        Sample policy, as in :func:`harmonomics.io.read_gdc` (default: primary tumours, one aliquot per sample,
        every aliquot not kept reported). Patient-level IDs (12 characters) carry no sample type and are kept.

    Returns
    -------
    MuData with one modality ``cnv``: samples × genes. **Var names are gene symbols** (what users and
    ``tl.pam50`` or receptor calls look up); a symbol that two genes share stays bare on the first and becomes
    ``SYMBOL|ENSG…`` on the others. ``var`` holds ``gene_id`` (Ensembl, unversioned for the shipped tables),
    ``gene_name``, ``chromosome``, ``start``, ``end``. ``layers["segment_min"]``/``["segment_max"]``: smallest and
    largest value among the segments overlapping each gene. ``obs``: ``aliquot``, ``source_file``.
    ``uns["build"]`` is the genome build (also recorded for the file in ``uns["harmonomics"]["files"]``),
    ``uns["segments"]`` the segment table as read, ``uns["segments_to_genes"]`` the rule and counts.

    Raises
    ------
    GenomeBuildError
        The build is unknown (pass ``build=``), is not GRCh37 or GRCh38, or ``gene_coordinates`` are of
        another build than the segments.
    FormatError
        The file lacks the sample, chromosome, start or end column or a value column.
    """
    report = Report()
    files: list[dict] = []
    if isinstance(path_or_frame, pd.DataFrame):
        segments = frame_segments(path_or_frame)
        name, source = None, "DataFrame"
    else:
        path = Path(path_or_frame)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        md5, size, data = read_input(path)
        segments = P.parse_segments(path, data=data)
        name, source = path.name, path.name
        files.append({"path": str(path), "md5": md5, "size": int(size), "format": "segments"})
    canonical = segment_build(build, name, report, source=source)
    for record in files:
        record["build"] = canonical
    coords = coordinates_for(canonical, gene_coordinates, report, source=source)
    genes = genes_from_segments(segments, coords, value=value)
    rows = genes.obs_names.astype(str)
    var = genes.var.copy()
    var.insert(0, "gene_id", var.index.astype(str))
    var.index = symbol_names(var)
    for sample in rows:
        report.add(
            "aliquot",
            sample,
            _keys.CNV,
            "",
            "kept",
            f"copy-number segments of {sample} in {source}: gene-level {genes.uns['segments_to_genes']['value']} "
            f"on {canonical} coordinates, from the segment that overlaps the most of each gene",
        )
    block = Block(
        omic=_keys.CNV,
        ids=list(rows),
        source_files=[source] * len(rows),
        values=np.asarray(genes.X),
        var=var,
        layers={"segment_min": genes.layers["min"], "segment_max": genes.layers["max"]},
        uns={"segments_to_genes": dict(genes.uns["segments_to_genes"]), "build": canonical},
        analyte_kind="dna",
    )
    mdata = assemble(
        [block],
        report=report,
        reader="harmonomics.io.read_segments",
        files=files,
        parameters={
            "source": source,
            "build": canonical,
            "value": genes.uns["segments_to_genes"]["value"],
            "gene_coordinates": "shipped" if gene_coordinates is None else "given",
        },
        sample_types=sample_types,
        join="union",
        keep_all_aliquots=keep_all_aliquots,
    )
    mdata.mod[_keys.CNV].uns["segments"] = uns_table(segments)
    return mdata


def frame_segments(frame: pd.DataFrame) -> pd.DataFrame:
    """A segment DataFrame with the column names :func:`~harmonomics.io._parsers.parse_segments` gives."""
    rename = {}
    for ours, names in _FRAME_COLUMNS.items():
        found = next((c for c in names if c in frame.columns), None)
        if found is not None and found != ours:
            rename[found] = ours
    out = frame.rename(columns=rename)
    missing = [c for c in ("aliquot", "Chromosome", "Start", "End") if c not in out.columns]
    if missing:
        raise ValueError(
            f"segments need a sample column ({', '.join(_FRAME_COLUMNS['aliquot'])}), Chromosome, Start "
            f"and End; missing {missing} among the columns {list(frame.columns)}"
        )
    return out


def build_from_name(name: str | None) -> str | None:
    """The build a file name names (``TCGA.AB.3009.hg19.seg.txt`` → ``GRCh37``), or None."""
    from .._annotation import normalize_build

    if not name:
        return None
    found = _BUILD_IN_NAME.search(name)
    if found is None:
        return None
    try:
        return normalize_build(found.group(1))
    except ValueError:
        raise GenomeBuildError(
            f"{name}: the file name says genome build {found.group(1)!r}; harmonomics maps segments "
            "of GRCh37 (hg19) or GRCh38 (hg38) only: lift the segments over first (UCSC liftOver "
            "or CrossMap)"
        ) from None


def segment_build(
    build: str | None,
    name: str | None,
    report: Report,
    *,
    source: str,
    default: str | None = None,
    default_reason: str = "",
) -> str:
    """The segments' build: ``build=``, else the file name's hint (reported), else ``default``, else raise."""
    from .._annotation import normalize_build

    hint = build_from_name(name)
    if build is not None:
        try:
            canonical = normalize_build(build)
        except ValueError as err:
            raise GenomeBuildError(f"{err}; lift the segments over to one of them first") from None
        if canonical is None:
            raise GenomeBuildError("build= is empty; expected 'hg19'/'GRCh37' or 'hg38'/'GRCh38'")
        if hint is not None and hint != canonical:
            logger.warning(
                "%s: the file name suggests %s but build=%r was given; using %s", source, hint, build, canonical
            )
            report.add(
                "file",
                source,
                _keys.CNV,
                "",
                "kept",
                f"genome build {canonical} from build={build!r}; the file name suggests {hint} (ignored)",
            )
        else:
            report.add("file", source, _keys.CNV, "", "kept", f"genome build {canonical} from build={build!r}")
        return canonical
    if hint is not None:
        logger.info("%s: genome build %s taken from the file name", source, hint)
        report.add(
            "file",
            source,
            _keys.CNV,
            "",
            "kept",
            f"genome build {hint} taken from the file name (a hint: pass build= to state it)",
        )
        return hint
    if default is not None:
        report.add("file", source, _keys.CNV, "", "kept", f"genome build {default}: {default_reason}")
        return default
    raise GenomeBuildError(
        f"{source}: the genome build of the segments is unknown (neither the file name nor its "
        "metadata name it); pass build='hg19' (GRCh37: TCGA legacy, Firehose, most .seg files) or "
        "build='hg38' (GRCh38: current GDC files)"
    )


def coordinates_build(coords: pd.DataFrame) -> str | None:
    """The build of gene coordinates: their ``build`` column, else the shipped table whose positions they match."""
    from .._annotation import BUILDS, gene_coordinates, normalize_build

    if "build" in coords:
        written = {normalize_build(b) for b in pd.unique(coords["build"].dropna().astype(str)) if str(b).strip()}
        written.discard(None)
        if len(written) == 1:
            return written.pop()
    sample = coords.iloc[:: max(1, len(coords) // 2000)]
    ids = pd.Index(sample.index.astype(str)).str.replace(r"\.\d+(?=$|_PAR_Y$)", "", regex=True)
    share = {}
    for candidate in BUILDS:
        shipped = gene_coordinates(candidate)
        by_id = shipped["start"].reindex(ids).to_numpy(dtype=float)
        if "gene_name" in sample:
            by_name = shipped.drop_duplicates("gene_name").set_index("gene_name")["start"]
            by_id = np.where(
                np.isnan(by_id), by_name.reindex(sample["gene_name"].astype(str)).to_numpy(dtype=float), by_id
            )
        known = ~np.isnan(by_id)
        if known.sum() < 20:
            return None
        # ±1: 0-based (BED) and 1-based starts are the same position
        share[candidate] = float(np.mean(np.abs(by_id[known] - sample["start"].to_numpy(dtype=float)[known]) <= 1))
    best = max(share, key=share.get)
    others = [v for k, v in share.items() if k != best]
    return best if share[best] >= 0.8 and all(v <= 0.5 for v in others) else None


def coordinates_for(build: str, gene_coordinates, report: Report, *, source: str) -> pd.DataFrame:
    """The gene coordinates to map ``build`` segments with: the shipped table, or the user's of the same build."""
    from .._annotation import gene_coordinates as shipped_coordinates
    from .._segments import read_gene_coordinates

    if gene_coordinates is None:
        coords = shipped_coordinates(build).drop(columns="build")
        report.add(
            "file", source, _keys.CNV, "", "kept", f"gene coordinates: the shipped {build} table ({len(coords)} genes)"
        )
        return coords
    coords = read_gene_coordinates(gene_coordinates)
    given = gene_coordinates.get("build") if isinstance(gene_coordinates, pd.DataFrame) else None
    if given is not None:
        coords["build"] = given.to_numpy()
    theirs = coordinates_build(coords)
    coords = coords.drop(columns="build", errors="ignore")
    if theirs is not None and theirs != build:
        raise GenomeBuildError(
            f"{source}: the segments are on {build} but the gene coordinates given are {theirs}; segments are not "
            f"mapped across builds. Pass gene_coordinates=None to use the shipped {build} coordinates "
            f"(harmonomics._annotation.gene_coordinates({build!r})), give {build} coordinates, or lift the segments "
            f"over to {theirs} first (UCSC liftOver or CrossMap)"
        )
    report.add(
        "file",
        source,
        _keys.CNV,
        "",
        "kept",
        f"gene coordinates given ({len(coords)} genes), "
        + (
            f"their positions are those of {theirs}"
            if theirs
            else f"of a build that could not be told from their positions: assumed to be {build}, as the segments"
        ),
    )
    return coords


def genes_from_segments(
    segments: pd.DataFrame, coords: pd.DataFrame, *, value: str | None = None, sample_column: str = "aliquot"
) -> ad.AnnData:
    """:func:`harmonomics.pp.segments_to_genes` on segments whose value column is checked first."""
    from .._errors import FormatError
    from .._segments import SEGMENT_VALUES, segments_to_genes

    value = value or next((c for c in SEGMENT_VALUES if c in segments.columns), None)
    if value is None or value not in segments.columns:
        raise FormatError(
            f"the segments have no value column {value or ' or '.join(SEGMENT_VALUES)}; found {list(segments.columns)}"
        )
    return segments_to_genes(segments, coords, value=value, sample_column=sample_column)


def symbol_names(var: pd.DataFrame) -> pd.Index:
    """Unique gene symbols as var names: a symbol shared by genes is bare on the first, ``SYMBOL|ID`` on the others.

    Genes on the primary assembly come first (GENCODE's ``_PAR_Y`` copies last), so that e.g. ``CD99`` names the
    gene on chromosome X. A gene without a symbol is named by its ID.
    """
    ids = var["gene_id"].astype(str).to_numpy(dtype=object)
    names = var["gene_name"].astype(object).where(var["gene_name"].notna(), "").astype(str).to_numpy(dtype=object)
    names = np.where(names == "", ids, names)
    priority = pd.Series(ids).str.endswith("_PAR_Y").to_numpy()
    order = np.lexsort((np.arange(len(ids)), priority))
    seen = pd.Series(names[order]).duplicated().to_numpy()
    later = np.zeros(len(ids), dtype=bool)
    later[order] = seen
    out = np.where(later, np.array([f"{n}|{i}" for n, i in zip(names, ids, strict=True)], dtype=object), names)
    return pd.Index(out.astype(str), dtype=object)


__all__ = ["read_segments"]
