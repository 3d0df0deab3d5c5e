"""Stream large per-sample omics (methylation betas, STAR counts) straight into a chunked zarr store.

The full 450k methylation array for 1,000 samples is ~1.8 GB in float32 and ~8 GB as text; it never has to sit
in memory. Files are parsed in batches of ``chunk_samples`` (in parallel: threads by default, or the workers of a
``dask.distributed`` Client), each batch becomes one row-block of a dask array, and anndata writes that array
chunk by chunk into the ``X`` of one modality of a MuData zarr store. Peak memory is a few batches, whatever the
number of samples. :func:`harmonomics.store.read` with ``backed=True`` then opens the store lazily (dask), and
:func:`harmonomics.pp.feature_stats` / :func:`harmonomics.pp.select_features` work on it out of core.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import EmptyInputError, FormatError, require

logger = logging.getLogger(__name__)

__all__ = ["stream_to_zarr"]

#: Columns per zarr chunk: wide enough for fast row writes, narrow enough that selecting a few thousand
#: features reads little more than it needs.
FEATURE_CHUNK = 65_536


def _parser_for(omic: str) -> Callable[[Path], Any]:
    from . import _parsers

    parsers = {_keys.METH: _parsers.parse_meth_betas, _keys.RNA: _parsers.parse_star_counts}
    if omic not in parsers:
        raise ValueError(f"streaming to zarr supports omics {sorted(parsers)}; got {omic!r}")
    return parsers[omic]


def _values_of(profile: Any, omic: str) -> np.ndarray:
    # STAR files: the unstranded counts are the matrix (the transforms run later, out of core)
    return np.asarray(profile.values)


def _fast_methylation(path: str, reference: Any) -> np.ndarray | None:
    """Betas of a well-formed methylation file whose probes equal the reference, straight from pyarrow.

    Returns None for anything unusual (a parse error, another probe order, a value outside [0, 1]); the caller
    then runs the validating parser, which either handles the file or raises a FormatError naming the line.
    """
    import pyarrow as pa
    from pyarrow import csv

    try:
        table = csv.read_csv(
            path,
            read_options=csv.ReadOptions(column_names=["probe", "beta"], use_threads=False),
            parse_options=csv.ParseOptions(delimiter="\t"),
            convert_options=csv.ConvertOptions(
                column_types={"probe": pa.string(), "beta": pa.float64()},
                null_values=["NA", ""],
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError):
        return None
    if table.num_rows != len(reference) or not table.column("probe").equals(reference):
        return None
    betas = table.column("beta").to_numpy()
    with np.errstate(invalid="ignore"):
        if np.any((betas < 0) | (betas > 1)):
            return None
    return betas


def _parse_batch(paths: Sequence[str], omic: str, reference: np.ndarray, dtype: str) -> np.ndarray:
    """Parse a batch of files into a (len(paths), n_features) block aligned to the reference feature order."""
    parse = _parser_for(omic)
    block = np.full((len(paths), len(reference)), np.nan, dtype=dtype)
    reference_index = None
    reference_arrow = None
    for row, path in enumerate(paths):
        if omic == _keys.METH:
            if reference_arrow is None:
                import pyarrow as pa

                reference_arrow = pa.chunked_array([pa.array(reference.astype(str), type=pa.string())])
            fast = _fast_methylation(path, reference_arrow)
            if fast is not None:
                block[row] = fast
                continue
        profile = parse(path)
        features = np.asarray(profile.features)
        values = _values_of(profile, omic)
        if len(features) == len(reference) and np.array_equal(features, reference):
            block[row] = values  # the usual case: one array platform, one probe order
            continue
        if reference_index is None:
            reference_index = pd.Index(reference)
        positions = reference_index.get_indexer(features)
        unknown = np.flatnonzero(positions < 0)
        if len(unknown):
            raise FormatError(
                f"feature {features[unknown[0]]!r} is not in the first file's feature list "
                f"({len(unknown)} such features); streaming to zarr expects every file on the same platform",
                path=path,
            )
        block[row, positions] = values
    return block


def stream_to_zarr(
    files: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    omic: str = _keys.METH,
    samples: Sequence[str] | None = None,
    aliquots: Sequence[str] | None = None,
    chunk_samples: int = 32,
    dtype: str = "float32",
    client: Any = None,
) -> Path:
    """Parse per-sample files straight into a chunked zarr store, without loading the whole matrix.

    Parameters
    ----------
    files
        One file per sample: GDC methylation beta files (``omic="meth"``) or STAR gene-count files
        (``omic="rna"``, unstranded counts), all from one platform.
    out
        Target ``.zarr`` folder; written atomically (see :func:`harmonomics.store.write`).
    omic
        ``"meth"`` or ``"rna"``.
    samples
        Sample keys, one per file (default: the file names without suffix). Must be unique.
    aliquots
        Aliquot barcodes, one per file, recorded in the modality's ``obs["aliquot"]``.
    chunk_samples
        Files parsed per task and rows per zarr chunk; peak memory is about
        ``2 × n_workers × chunk_samples × n_features × itemsize``.
    dtype
        Value type on disk (``float32`` halves the size of ``float64``).
    client
        A ``dask.distributed.Client`` (e.g. on a LocalCluster or a real cluster address) to parse on; by default
        dask's local threads.

    Returns
    -------
    The path of the zarr store: a MuData with one modality ``omic`` whose ``X`` is chunked
    ``(chunk_samples, 65536)``, ``obs`` with ``source_file`` (and ``aliquot``), and provenance in ``uns``.

    Raises
    ------
    EmptyInputError
        If ``files`` is empty.
    FormatError
        If a file is malformed or lists features the first file lacks (names the file and line).
    ValueError
        If ``samples``/``aliquots`` don't match the files or sample keys repeat.
    """
    require("dask.array", extra="scale", purpose="streaming omics into zarr")
    require("zarr", extra="scale", purpose="streaming omics into zarr")
    import anndata as ad
    import dask
    import dask.array as da
    import zarr

    from ..store import atomic_path, new_store, stamp_version, validate

    paths = [str(Path(f)) for f in files]
    if not paths:
        raise EmptyInputError("no files given to stream into zarr; expected one file per sample")
    if chunk_samples < 1:
        raise ValueError(f"chunk_samples must be >= 1, got {chunk_samples}")
    keys = list(samples) if samples is not None else [Path(p).name.split(".")[0] for p in paths]
    if len(keys) != len(paths):
        raise ValueError(f"got {len(keys)} sample keys for {len(paths)} files; expected one key per file")
    duplicated = pd.Index(keys)[pd.Index(keys).duplicated()]
    if len(duplicated):
        raise ValueError(f"sample key {duplicated[0]!r} is given for several files; sample keys must be unique")
    if aliquots is not None and len(aliquots) != len(paths):
        raise ValueError(f"got {len(aliquots)} aliquots for {len(paths)} files; expected one per file")

    first = _parser_for(omic)(paths[0])
    reference = np.asarray(first.features)
    n_features = len(reference)
    logger.info("streaming %d %s files × %d features into %s", len(paths), omic, n_features, out)

    blocks = []
    for start in range(0, len(paths), chunk_samples):
        batch = paths[start : start + chunk_samples]
        task = dask.delayed(_parse_batch, pure=True)(batch, omic, reference, dtype)
        blocks.append(da.from_delayed(task, shape=(len(batch), n_features), dtype=dtype))
    matrix = da.concatenate(blocks, axis=0).rechunk((chunk_samples, min(FEATURE_CHUNK, n_features)))

    obs = pd.DataFrame({_keys.MOD_OBS_SOURCE_FILE: [Path(p).name for p in paths]}, index=pd.Index(keys, dtype=object))
    if aliquots is not None:
        obs[_keys.MOD_OBS_ALIQUOT] = list(aliquots)
    var = pd.DataFrame(index=pd.Index(reference.astype(str), dtype=object))
    for name, column in getattr(first, "var", {}).items():
        var[name] = np.asarray(column)
    # The store's tables are written by mudata; X is written here, chunk-aligned, so that every dask block
    # goes straight into its own zarr chunks with no lock and no rechunking in the writer.
    mdata = new_store(
        {omic: ad.AnnData(obs=obs, var=var)},
        reader="harmonomics.io.stream_to_zarr",
        parameters={"omic": omic, "chunk_samples": chunk_samples, "dtype": dtype, "n_files": len(paths)},
    )
    validate(mdata)
    stamp_version(mdata)
    with atomic_path(out, directory=True) as tmp:
        mdata.write_zarr(tmp)
        group = zarr.open_group(str(tmp / "mod" / omic), mode="r+")
        if "X" in group:  # mudata may write a placeholder X for an AnnData without one
            del group["X"]
        target = group.create_array(
            "X", shape=matrix.shape, chunks=tuple(c[0] for c in matrix.chunks), dtype=dtype, fill_value=np.nan
        )
        target.attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
        with dask.config.set(scheduler=client if client is not None else "threads"):
            da.store(matrix, target, lock=False)
    logger.info("wrote %s: %d samples × %d features of %s", out, len(paths), n_features, omic)
    return Path(out)
