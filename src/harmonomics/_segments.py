"""Copy-number segments → gene-level values (for downloads that hold segments but no gene-level files).

The core shared by the segment readers (``hm.io``) and :func:`harmonomics.pp.segments_to_genes`, below both.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._errors import FormatError

if TYPE_CHECKING:  # pragma: no cover
    import anndata as ad

# a segment value column, in order of preference: ASCAT total copy number, then the SNP6 log2 ratio
SEGMENT_VALUES = ("Copy_Number", "Segment_Mean")
_SAMPLE_COLUMNS = ("aliquot", "GDC_Aliquot", "Sample", "ID")
_GENE_ID_COLUMNS = ("gene_id", "gene", "Gene", "gene_name", "Hugo_Symbol")


def normalize_chromosome(names) -> np.ndarray:
    """``chr17``/``17`` → ``17``; ``23``/``24`` (SNP6 numbering) → ``X``/``Y``; ``chrM``/``MT`` → ``M``."""
    out = pd.Series(np.asarray(names, dtype=object)).astype(str).str.strip()
    out = out.str.replace(r"^chr", "", regex=True, case=False).str.upper()
    return out.replace({"23": "X", "24": "Y", "MT": "M"}).to_numpy(dtype=object)


def read_gene_coordinates(source: str | PathLike | pd.DataFrame) -> pd.DataFrame:
    """Gene coordinates (index: gene ID; columns chromosome, start, end, and gene_name when given).

    ``source`` is a DataFrame or a tab-separated file with a gene column (``gene_id``, ``gene`` or
    ``gene_name``) and ``chromosome``, ``start``, ``end``: a GDC gene-level copy-number file is one.
    """
    what = "gene coordinates"
    where: Path | None = None
    if isinstance(source, pd.DataFrame):
        table = source.copy()
        named_index = not isinstance(table.index, pd.RangeIndex)
        if named_index and not any(c in table.columns for c in _GENE_ID_COLUMNS[:3]):
            table.insert(0, "gene_id", table.index.astype(str))  # the gene IDs are the index
    else:
        from ._text import arrow_table, open_text

        tf = open_text(source)
        header = tf.header()
        table = arrow_table(tf, column_names=header, strings=header, what="a gene-coordinates file").to_pandas()
        where = Path(source)
    columns = {c.lower(): c for c in table.columns}
    id_column = next((c for c in _GENE_ID_COLUMNS if c in table.columns), None)
    missing = [c for c in ("chromosome", "start", "end") if c not in columns]
    if id_column is None or missing:
        raise FormatError(
            f"{what} need a gene column ({' or '.join(_GENE_ID_COLUMNS[:3])}) and chromosome, start, "
            f"end; found columns {list(table.columns)[:10]}",
            path=where,
            line=1 if where else None,
        )
    starts = pd.to_numeric(table[columns["start"]], errors="coerce").to_numpy(dtype=float)
    ends = pd.to_numeric(table[columns["end"]], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(starts) | ~np.isfinite(ends) | (ends < starts))
    if len(bad):
        row = int(bad[0])
        raise FormatError(
            f"{what}: gene {table[id_column].iat[row]!r} has start {table[columns['start']].iat[row]!r} "
            f"and end {table[columns['end']].iat[row]!r}; expected integer positions with start ≤ end",
            path=where,
            line=row + 2 if where else None,
        )
    genes = pd.DataFrame(
        {
            "chromosome": normalize_chromosome(table[columns["chromosome"]]),
            "start": starts.astype(np.int64),
            "end": ends.astype(np.int64),
        },
        index=pd.Index(table[id_column].astype(str).to_numpy(), name=None, dtype=object),
    )
    if "gene_name" in table.columns and id_column != "gene_name":
        genes["gene_name"] = table["gene_name"].to_numpy(dtype=object)
    if not genes.index.is_unique:
        dup = genes.index[genes.index.duplicated()][0]
        raise FormatError(f"{what}: gene {dup!r} is listed twice; expected each gene once", path=where)
    return genes


def segments_to_genes(
    segments: pd.DataFrame,
    genes: str | PathLike | pd.DataFrame,
    *,
    value: str | None = None,
    sample_column: str | None = None,
) -> ad.AnnData:
    """Gene-level copy number from copy-number segments (ASCAT or SNP6 DNAcopy).

    Each gene takes the value of the segment that overlaps the most of it (from its start to its end, both
    included); genes that no segment touches are NaN. ``layers["min"]`` and ``layers["max"]`` hold the smallest
    and largest value among all segments overlapping the gene, as in GDC's gene-level files, so that a gene
    crossing a breakpoint can be told apart.

    Parameters
    ----------
    segments
        One row per segment: a sample column (``aliquot``, ``GDC_Aliquot``, ``Sample`` or ``ID``), ``Chromosome``,
        ``Start``, ``End`` and a value column. Segments of one sample must not overlap (consecutive segments that
        share their end base, as Firehose/DNAcopy files have them, are accepted). Chromosomes may be
        written ``chr17`` or ``17`` (SNP6's ``23``/``24`` are X/Y).
    genes
        Gene coordinates: a DataFrame or a TSV (see :func:`read_gene_coordinates`); a GDC gene-level
        copy-number file works.
    value
        The value column; default ``Copy_Number`` (ASCAT total copy number) when present, else
        ``Segment_Mean`` (SNP6, log2(CN/2)).
    sample_column
        The sample column; found among the usual names by default.

    Returns
    -------
    AnnData (samples × genes, samples in order of first appearance) with ``X`` the overlap-chosen value,
    ``layers["min"]``/``["max"]``, ``var`` the gene coordinates and ``uns["segments_to_genes"]`` (value column,
    rule, numbers of segments and genes).

    Raises
    ------
    ValueError
        Required columns are missing, a segment has start > end or a non-numeric value, or two segments of one
        sample overlap (the message names the sample and the segments).
    """
    import anndata as ad

    coords = read_gene_coordinates(genes)
    sample_column = sample_column or next((c for c in _SAMPLE_COLUMNS if c in segments.columns), None)
    value = value or next((c for c in SEGMENT_VALUES if c in segments.columns), None)
    missing = [
        c for c in (sample_column, "Chromosome", "Start", "End", value) if c is None or c not in segments.columns
    ]
    if missing or sample_column is None or value is None:
        raise ValueError(
            f"segments need a sample column ({', '.join(_SAMPLE_COLUMNS)}), Chromosome, Start, End and "
            f"a value column ({' or '.join(SEGMENT_VALUES)}); found columns {list(segments.columns)}"
        )
    seg_start = pd.to_numeric(segments["Start"], errors="coerce").to_numpy(dtype=float)
    seg_end = pd.to_numeric(segments["End"], errors="coerce").to_numpy(dtype=float)
    seg_value = pd.to_numeric(segments[value], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(
        ~np.isfinite(seg_start)
        | ~np.isfinite(seg_end)
        | (seg_end < seg_start)
        | (~np.isfinite(seg_value) & segments[value].notna().to_numpy())
    )
    if len(bad):
        row = segments.iloc[int(bad[0])]
        raise ValueError(
            f"segment {int(bad[0])} of sample {row[sample_column]!r} ({row['Chromosome']}:{row['Start']}-"
            f"{row['End']}, {value} {row[value]!r}): expected numeric positions with Start ≤ End and a "
            "numeric value"
        )

    # one genome-wide coordinate: chromosome rank × 2^40 + position, so that one sorted search covers all chromosomes
    chrom_seg = normalize_chromosome(segments["Chromosome"])
    chroms = pd.Index(pd.unique(np.concatenate([coords["chromosome"].to_numpy(dtype=object), chrom_seg])))
    offset = float(2**40)
    gene_lo = chroms.get_indexer(coords["chromosome"]) * offset + coords["start"].to_numpy(dtype=float)
    gene_hi = chroms.get_indexer(coords["chromosome"]) * offset + coords["end"].to_numpy(dtype=float)
    seg_lo = chroms.get_indexer(chrom_seg) * offset + seg_start
    seg_hi = chroms.get_indexer(chrom_seg) * offset + seg_end

    samples = pd.unique(segments[sample_column].astype(str))
    codes = pd.Index(samples).get_indexer(segments[sample_column].astype(str))
    n_genes = len(coords)
    X = np.full((len(samples), n_genes), np.nan)
    low = np.full_like(X, np.nan)
    high = np.full_like(X, np.nan)
    for k, sample in enumerate(samples):
        rows = np.flatnonzero(codes == k)
        order = rows[np.argsort(seg_lo[rows], kind="stable")]
        lo, hi, val = seg_lo[order], seg_hi[order], seg_value[order]
        overlapping = np.flatnonzero(lo[1:] < hi[:-1])  # a shared end base (as DNAcopy writes) is no overlap
        if len(overlapping):
            a, b = order[overlapping[0]], order[overlapping[0] + 1]
            raise ValueError(
                f"sample {sample!r}: segments {segments['Chromosome'].iat[a]}:{segments['Start'].iat[a]}-"
                f"{segments['End'].iat[a]} and {segments['Chromosome'].iat[b]}:{segments['Start'].iat[b]}-"
                f"{segments['End'].iat[b]} overlap; expected disjoint segments per sample"
            )
        first = np.searchsorted(hi, gene_lo, side="left")  # first segment ending at or after the gene start
        last = np.searchsorted(lo, gene_hi, side="right") - 1  # last segment starting at or before the gene end
        best_overlap = np.zeros(n_genes)
        for step in range(int(np.max(last - first, initial=-1)) + 1):
            idx = first + step
            hit = idx <= last
            if not hit.any():
                break
            j = idx[hit]
            genes_hit = np.flatnonzero(hit)
            overlap = np.minimum(gene_hi[hit], hi[j]) - np.maximum(gene_lo[hit], lo[j]) + 1
            v = val[j]
            better = overlap > best_overlap[genes_hit]
            X[k, genes_hit[better]] = v[better]
            best_overlap[genes_hit[better]] = overlap[better]
            low[k, genes_hit] = np.fmin(low[k, genes_hit], v)
            high[k, genes_hit] = np.fmax(high[k, genes_hit], v)
    adata = ad.AnnData(
        X=X,
        obs=pd.DataFrame(index=pd.Index(samples, dtype=object)),
        var=coords.copy(),
        layers={"min": low, "max": high},
    )
    adata.uns["segments_to_genes"] = {
        "value": value,
        "rule": "value of the segment overlapping the most of the gene; min/max over all overlapping segments",
        "n_segments": int(len(segments)),
        "n_genes_without_segment": int(np.isnan(X).all(axis=0).sum()),
    }
    return adata
