"""The harmonomics store: one MuData (one AnnData per omic) and its xarray view, on disk as h5mu, zarr or netCDF.

The layout is written down in docs/store.md and carries a format version (:data:`FORMAT_VERSION`) inside
``uns["harmonomics"]["format_version"]``. Every write is atomic: the data go to a temporary path in the
target folder, which then replaces the target with :func:`os.replace`, so a crash never leaves half a file.
Nothing is ever pickled: h5mu and zarr hold arrays, tables, numbers and strings; the netCDF form holds
``uns`` as JSON.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _keys
from ._compat import mudata_options, uses_mudata
from ._errors import StoreFormatError, StoreVersionError
from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    import anndata as ad
    import mudata as md
    import xarray as xr

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Version of the store layout written by this release (docs/store.md)."""

SUFFIXES = {".h5mu": "h5mu", ".zarr": "zarr", ".nc": "netcdf", ".nc4": "netcdf", ".netcdf": "netcdf"}

__all__ = [
    "FORMAT_VERSION",
    "add_report_rows",
    "clean_stale_temporaries",
    "from_xarray",
    "new_store",
    "provenance",
    "read",
    "to_xarray",
    "validate",
    "write",
]


# --------------------------------------------------------------------------------------------------------------
# building a store
# --------------------------------------------------------------------------------------------------------------
@uses_mudata
def new_store(
    modalities: Mapping[str, ad.AnnData],
    *,
    obs: pd.DataFrame | None = None,
    reader: str | None = None,
    files: list[dict[str, Any]] | None = None,
    parameters: Mapping[str, Any] | None = None,
    report: pd.DataFrame | None = None,
) -> md.MuData:
    """Assemble a MuData in the store layout.

    Parameters
    ----------
    modalities
        ``{modality name: AnnData}``; each AnnData's ``obs_names`` are sample keys. Samples missing an omic
        are simply absent from that AnnData.
    obs
        Global sample table (patient, sample type, clinical columns), indexed by sample key. Its rows are
        reindexed to the union of the modalities' samples; samples only in ``obs`` (clinical-only) are kept
        out of the store and should be listed in ``report``.
    reader
        Name of the reader that built the store, recorded in the provenance.
    files
        Source files, as dicts with at least ``path`` (see :func:`file_record`).
    parameters
        Reader / harmonization parameters, recorded in the provenance.
    report
        The harmonization report (columns ``level, item, omic, sample, action, reason``).

    Returns
    -------
    A MuData with ``uns["harmonomics"]`` (provenance) and ``uns["harmonomics_report"]`` set.
    """
    import mudata as md

    if not modalities:
        raise ValueError("a store needs at least one modality; got none")
    for name, adata in modalities.items():
        if not adata.obs_names.is_unique:
            dup = adata.obs_names[adata.obs_names.duplicated()][0]
            raise ValueError(f"modality {name!r} has duplicate sample {dup!r}; sample keys must be unique")
    with mudata_options():
        mdata = md.MuData(dict(modalities))
    if obs is not None:
        if not obs.index.is_unique:
            dup = obs.index[obs.index.duplicated()][0]
            raise ValueError(f"global obs has duplicate sample {dup!r}; sample keys must be unique")
        extra = obs.reindex(mdata.obs_names)
        for column in extra.columns:
            mdata.obs[column] = extra[column].array
    mdata.uns[_keys.UNS_PROVENANCE] = provenance(reader=reader, files=files, parameters=parameters)
    mdata.uns[_keys.UNS_REPORT] = _normalise_report(report)
    return mdata


def provenance(
    *,
    reader: str | None = None,
    files: list[dict[str, Any]] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The provenance record stored in ``uns["harmonomics"]``: format version, reader, files, versions, time."""
    import importlib.metadata as metadata

    versions = {"harmonomics": __version__}
    for package in ("anndata", "mudata", "numpy", "pandas"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    record: dict[str, Any] = {
        _keys.UNS_FORMAT_VERSION: FORMAT_VERSION,
        "reader": reader or "",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": versions,
        "parameters": _jsonable_dict(parameters or {}),
    }
    if files:
        record["files"] = pd.DataFrame(files).astype({"path": str})
    return record


def file_record(path: str | os.PathLike, *, md5: bool = True) -> dict[str, Any]:
    """``{"path", "size", "md5"}`` for a source file, for the provenance table."""
    import hashlib

    path = Path(path)
    record: dict[str, Any] = {"path": str(path), "size": path.stat().st_size}
    if md5:
        digest = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        record["md5"] = digest.hexdigest()
    return record


REPORT_COLUMNS = ["level", "item", "omic", "sample", "action", "reason"]


def _normalise_report(report: pd.DataFrame | None) -> pd.DataFrame:
    if report is None:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in REPORT_COLUMNS})
    missing = [c for c in REPORT_COLUMNS if c not in report.columns]
    if missing:
        raise ValueError(f"harmonization report lacks columns {missing}; expected {REPORT_COLUMNS}")
    out = report.reset_index(drop=True).copy()
    for column in out.columns:
        if out[column].dtype == object or isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(object).where(out[column].notna(), "").astype(str)
    return out


def add_report_rows(mdata: md.MuData, rows: pd.DataFrame | list[dict[str, Any]]) -> None:
    """Append rows to the harmonization report in ``uns["harmonomics_report"]``."""
    new = pd.DataFrame(rows)
    old = mdata.uns.get(_keys.UNS_REPORT)
    combined = new if old is None or len(old) == 0 else pd.concat([pd.DataFrame(old), new], ignore_index=True)
    mdata.uns[_keys.UNS_REPORT] = _normalise_report(
        combined.reindex(columns=list(dict.fromkeys([*REPORT_COLUMNS, *combined.columns])))
    )


def store_to_modify(mdata: md.MuData, copy: bool) -> md.MuData:
    """``mdata`` itself, or (with ``copy``) a copy of it made without mudata's shared-feature warnings."""
    if not copy:
        return mdata
    with mudata_options():
        return mdata.copy()


def replace_modalities(mdata: md.MuData, new: Mapping[str, ad.AnnData]) -> None:
    """Put new AnnData objects (features renamed or subset) into ``mdata`` and refresh it in place.

    mudata cannot update a store whose features were renamed and filtered at once. Emptying every modality's
    features first (a pure filter) and then putting the modalities back (pure additions) rebuilds the global
    ``var`` (which harmonomics does not use) in modality order through mudata's public API; ``varmap``/``varm``
    are rebuilt from the modalities.
    """
    modalities = {**dict(mdata.mod), **dict(new)}
    for key in list(mdata.varmap.keys()):
        del mdata.varmap[key]
    for key in list(mdata.varm.keys()):
        del mdata.varm[key]
    with mudata_options():
        for name, adata in modalities.items():
            mdata.mod[name] = adata[:, []].copy()
        mdata.update()
        for name, adata in modalities.items():
            mdata.mod[name] = adata
        mdata.update()


def validate(mdata: md.MuData) -> None:
    """Check that a MuData follows the store layout; raise :class:`StoreFormatError` saying what is wrong."""
    if not mdata.mod:
        raise StoreFormatError("store has no modalities; expected at least one omic")
    if not mdata.obs_names.is_unique:
        dup = mdata.obs_names[mdata.obs_names.duplicated()][0]
        raise StoreFormatError(f"store has duplicate sample {dup!r} in obs; sample keys must be unique")
    for name, adata in mdata.mod.items():
        if not adata.obs_names.is_unique:
            dup = adata.obs_names[adata.obs_names.duplicated()][0]
            raise StoreFormatError(f"modality {name!r} has duplicate sample {dup!r}")
        if not adata.var_names.is_unique:
            dup = adata.var_names[adata.var_names.duplicated()][0]
            raise StoreFormatError(f"modality {name!r} has duplicate feature {dup!r}; feature IDs must be unique")


# --------------------------------------------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------------------------------------------
def _format_of(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in set(SUFFIXES.values()):
            raise StoreFormatError(f"unknown store format {format!r}; expected one of {sorted(set(SUFFIXES.values()))}")
        return format
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise StoreFormatError(
            f"cannot tell the store format of {str(path)!r} from its suffix {suffix!r}; "
            f"use one of {sorted(SUFFIXES)} or pass format="
        )
    return SUFFIXES[suffix]


# Temporary names carry the writer's process ID, so that a later write can tell a live writer's temporary from
# one a killed writer left behind: ".<name>.<pid>.<random>.tmp" (the new store; earlier releases wrote
# ".<name>.<random>.tmp") and ".<name>.old-<pid>" (a zarr folder moved aside during the swap).
_PROCESS_STARTED = time.time()  # no write of this process can be older than the import of this module


def _leftover_of(path: Path, entry_name: str) -> tuple[str, int | None] | None:
    """``("tmp" | "aside", writer pid or None)`` when ``entry_name`` is a temporary of a write to ``path``."""
    prefix = f".{path.name}."
    if not entry_name.startswith(prefix):
        return None
    middle = entry_name[len(prefix) :]
    if middle.startswith("old-") and middle[4:].isdigit():
        return "aside", int(middle[4:])
    if not middle.endswith(".tmp") or len(middle) <= 4:
        return None
    pid, _, rest = middle[:-4].partition(".")
    return "tmp", int(pid) if rest and pid.isdigit() else None


def _process_alive(pid: int) -> bool | None:
    """Whether process ``pid`` runs (None where the platform can't tell without side effects)."""
    if os.name != "posix":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _is_stale(entry: Path, pid: int | None) -> bool:
    """A temporary is stale when its writer is gone, or (no writer recorded) when it predates this process."""
    if pid == os.getpid():
        return False  # this process's own write, perhaps in another thread
    alive = _process_alive(pid) if pid is not None else None
    if alive is not None:
        return not alive
    with contextlib.suppress(OSError):
        return entry.lstat().st_mtime < _PROCESS_STARTED
    return False


def clean_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove what killed writers left beside ``path``; return what was removed.

    A temporary new store (``.<name>.<pid>.*.tmp``) of a writer that no longer runs, or one without a process ID
    older than the current process, is deleted. A zarr folder moved aside by a writer killed in the middle of its
    swap (``.<name>.old-<pid>``) is the complete old store: it is put back when nothing is at ``path``, else
    deleted. Temporaries of writers still running are left alone. :func:`write` calls this first.
    """
    path = Path(path)
    removed: list[Path] = []
    if not path.parent.is_dir():
        return removed
    for entry in path.parent.iterdir():
        leftover = _leftover_of(path, entry.name)
        if leftover is None or not _is_stale(entry, leftover[1]):
            continue
        if leftover[0] == "aside" and not path.exists():
            os.replace(entry, path)
            logger.warning("put back %s, the store a killed writer had moved aside, at %s", entry.name, path)
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        logger.info("removed %s, left by an interrupted write", entry)
        removed.append(entry)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, directory: bool = False):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically, on error it is removed.

    For a directory target (zarr) the old directory is moved aside first and removed after the swap, so at
    every moment either the complete old store or the complete new one is at ``path`` (or, if the writer is
    killed between the two moves, beside it, where :func:`clean_stale_temporaries` puts it back).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent))
    target_tmp = tmp / path.name
    try:
        yield target_tmp
        if directory and path.exists():
            aside = path.parent / f".{path.name}.old-{os.getpid()}"
            os.replace(path, aside)
            os.replace(target_tmp, path)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(target_tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@uses_mudata
def write(
    mdata: md.MuData, path: str | os.PathLike, *, format: str | None = None, compression: str | None = "gzip"
) -> Path:
    """Write a store atomically.

    Parameters
    ----------
    mdata
        The store.
    path
        Target file; the suffix picks the format (``.h5mu``, ``.zarr``, ``.nc``) unless ``format`` is given.
    format
        ``"h5mu"``, ``"zarr"`` or ``"netcdf"``.
    compression
        h5mu dataset compression (``"gzip"``, ``"lzf"`` or None).

    Returns
    -------
    The path written.
    """
    path = Path(path)
    fmt = _format_of(path, format)
    validate(mdata)
    stamp_version(mdata)
    if fmt == "zarr":
        from ._errors import require

        require("zarr", extra="scale", purpose="writing a zarr store")
    with _portable_columns(mdata):
        if fmt == "h5mu":
            with atomic_path(path) as tmp:
                mdata.write_h5mu(tmp, compression=compression)
        elif fmt == "zarr":
            with atomic_path(path, directory=True) as tmp:
                mdata.write_zarr(tmp)
        else:
            ds = to_xarray(mdata)
            with atomic_path(path) as tmp:
                ds.to_netcdf(tmp, engine="h5netcdf")
    logger.info("wrote store %s (%s, %d samples, modalities %s)", path, fmt, mdata.n_obs, list(mdata.mod))
    return path


def stamp_version(mdata: md.MuData) -> None:
    """Record the format version and obs dtypes in ``uns[\"harmonomics\"]`` before a write."""
    record = dict(mdata.uns.get(_keys.UNS_PROVENANCE, {}))
    record[_keys.UNS_FORMAT_VERSION] = FORMAT_VERSION
    record.setdefault("versions", {"harmonomics": __version__})
    # mudata's update() runs DataFrame.convert_dtypes() on global obs when reading (float 1.0 -> Int64 1);
    # remember the dtypes so that read() can restore them exactly.
    record["obs_dtypes"] = {str(c): str(t) for c, t in mdata.obs.dtypes.items()}
    mdata.uns[_keys.UNS_PROVENANCE] = record


def _restore_obs_dtypes(mdata: md.MuData) -> None:
    record = mdata.uns.get(_keys.UNS_PROVENANCE, {})
    dtypes = record.get("obs_dtypes", {}) if isinstance(record, Mapping) else {}
    for column, dtype in dtypes.items():
        if column not in mdata.obs.columns or str(mdata.obs[column].dtype) == dtype:
            continue
        values = mdata.obs[column]
        with contextlib.suppress(TypeError, ValueError):
            if dtype == "object":
                mdata.obs[column] = values.astype(object).where(values.notna(), None)
            elif dtype.startswith(("float", "int", "bool")):
                mdata.obs[column] = values.to_numpy(dtype=dtype, na_value=np.nan if dtype.startswith("float") else None)


@uses_mudata
def read(path: str | os.PathLike, *, format: str | None = None, backed: bool = False) -> md.MuData:
    """Read a store written by :func:`write` (or any h5mu / zarr MuData).

    Parameters
    ----------
    path
        A ``.h5mu`` file, ``.zarr`` folder or ``.nc`` file.
    format
        Override the format inferred from the suffix.
    backed
        Keep the matrices on disk: an h5mu file opens in h5py-backed mode; a zarr store opens lazily, each
        omic's ``X`` and layers as dask arrays over the zarr chunks (the ``scale`` extra), so that
        :func:`to_xarray` and the out-of-core functions never load a whole matrix.

    Returns
    -------
    The MuData.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    StoreVersionError
        If the file was written by a newer, unknown store format version.
    StoreFormatError
        If the file is not a MuData store.
    """
    import mudata as md

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no store at {str(path)!r}")
    fmt = _format_of(path, format)
    try:
        with mudata_options():
            if fmt == "h5mu":
                mdata = md.read_h5mu(path, backed="r" if backed else False)
            elif fmt == "zarr":
                mdata = _read_zarr_lazy(path) if backed else md.read_zarr(path)
            else:
                import xarray as xr

                with xr.open_dataset(path, engine="h5netcdf") as ds:
                    mdata = from_xarray(ds.load())
    except (StoreFormatError, StoreVersionError):
        raise
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise StoreFormatError(f"{path}: not a readable {fmt} MuData store ({err})") from err
    check_version(mdata, path)
    _restore_columns(mdata)
    _restore_obs_dtypes(mdata)
    return mdata


def _read_zarr_lazy(path: Path) -> md.MuData:
    """Open a MuData zarr store with every omic's matrices as dask arrays; tables and uns are read eagerly."""
    from ._errors import require

    da = require("dask.array", extra="scale", purpose="opening a zarr store lazily")
    zarr = require("zarr", extra="scale", purpose="opening a zarr store lazily")
    import anndata as ad
    import mudata as md
    from anndata.io import read_elem

    root = zarr.open_group(str(path), mode="r")
    if "mod" not in root:
        raise StoreFormatError(f"{path}: no 'mod' group; expected a MuData zarr store")

    def lazy_matrix(node):
        if isinstance(node, zarr.Array):
            return da.from_zarr(node)
        return read_elem(node)  # sparse matrices: read eagerly (they are small by construction)

    modalities = {}
    for name in root["mod"].attrs.get("mod-order", list(root["mod"].group_keys())):
        group = root["mod"][name]
        adata = ad.AnnData(
            X=lazy_matrix(group["X"]) if "X" in group else None,
            obs=read_elem(group["obs"]),
            var=read_elem(group["var"]),
            uns=read_elem(group["uns"]) if "uns" in group else None,
            obsm=read_elem(group["obsm"]) if "obsm" in group else None,
            varm=read_elem(group["varm"]) if "varm" in group else None,
        )
        if "layers" in group:
            for layer in group["layers"]:
                adata.layers[layer] = lazy_matrix(group["layers"][layer])
        modalities[name] = adata
    with mudata_options():
        mdata = md.MuData(modalities)
    obs = read_elem(root["obs"])
    for column in obs.columns:
        mdata.obs[column] = obs[column].reindex(mdata.obs_names).array
    if "obsm" in root:
        for key, value in read_elem(root["obsm"]).items():
            mdata.obsm[key] = value
    if "uns" in root:
        mdata.uns.update(read_elem(root["uns"]))
    return mdata


def check_version(mdata: md.MuData, path: str | os.PathLike = "<memory>") -> int | None:
    """Return the store's format version; raise :class:`StoreVersionError` if it is newer than this release knows."""
    record = mdata.uns.get(_keys.UNS_PROVENANCE)
    if record is None:
        logger.warning("%s has no uns['harmonomics'] provenance; reading it as a plain MuData", path)
        return None
    version = int(np.asarray(record.get(_keys.UNS_FORMAT_VERSION, FORMAT_VERSION)))
    if version > FORMAT_VERSION:
        raise StoreVersionError(
            f"{path}: store format version {version} is newer than this harmonomics {__version__} understands "
            f"(up to version {FORMAT_VERSION}); upgrade harmonomics to read it"
        )
    return version


# --------------------------------------------------------------------------------------------------------------
# columns that the on-disk formats cannot hold as they are (docs/store.md, "Columns of mixed or missing values")
# --------------------------------------------------------------------------------------------------------------
_ENCODINGS_KEY = "column_encodings"
_ENCODING_COLUMNS = ["element", "column", "written_as", "original_dtype"]  # "dtype" would shadow DataFrame.dtype

# pandas' inferred type of a column's present values -> how the column is written
_KINDS = {
    "empty": "missing",
    "string": "text",
    "boolean": "bool",
    "integer": "int",
    "floating": "float",
    "mixed-integer-float": "float",
}


def _portable_column(series: pd.Series) -> tuple[pd.Series, str] | None:
    """``series`` in a form h5mu, zarr and netCDF all write, and its kind; None when it is writable as it is.

    Only bool, object and pandas string columns are touched: bools are written as nullable booleans (and read back
    as bools); object columns holding nothing but strings are written as they are; others are sorted by the types of
    their present values: none (all missing) -> float NaN, strings -> categorical with missing values, bools ->
    nullable boolean, ints -> nullable Int64, ints and floats -> float64; any other mix -> the values' text, as
    categorical.
    """
    string_dtype = isinstance(series.dtype, pd.StringDtype)
    if series.dtype == bool:  # mudata's alignment on read writes NA into plain bools (object): use nullable ones
        return pd.Series(pd.array(series.to_numpy(), dtype="boolean"), index=series.index), "bool"
    if series.dtype != object and not string_dtype:
        return None
    values = series.to_numpy(dtype=object)
    missing = pd.isna(values)
    present = values[~missing]
    if not string_dtype and not missing.any() and pd.api.types.infer_dtype(present) == "string":
        return None
    kind = _KINDS.get(pd.api.types.infer_dtype(present), "text")
    if kind == "missing":
        return pd.Series(np.nan, index=series.index, dtype=float), kind
    if kind in ("bool", "int"):
        with contextlib.suppress(TypeError, ValueError, OverflowError):
            return pd.Series(
                pd.array(np.where(missing, None, values), dtype="boolean" if kind == "bool" else "Int64"),
                index=series.index,
            ), kind
        kind = "text"  # integers beyond int64
    if kind == "float":
        return pd.Series(np.where(missing, np.nan, values).astype(float), index=series.index), kind
    text = np.array([None if gone else str(value) for value, gone in zip(values, missing, strict=False)], dtype=object)
    return pd.Series(pd.Categorical(text), index=series.index), kind


_RESTORE = {"missing": lambda value: None, "text": str, "bool": bool, "int": int, "float": float}


def _restored_column(series: pd.Series, kind: str, dtype: str) -> pd.Series:
    """Invert :func:`_portable_column`: an object column of Python values with None where missing."""
    convert = _RESTORE[kind]
    values = series.to_numpy(dtype=object)
    missing = pd.isna(values)
    out = np.array(
        [None if gone else convert(value) for value, gone in zip(values, missing, strict=False)], dtype=object
    )
    restored = pd.Series(out, index=series.index, name=series.name, dtype=object)
    return restored.astype(dtype) if dtype != "object" else restored


def _dataframes(mdata: md.MuData):
    """Every table of a store, as ``(element path, DataFrame)``: obs, var, obsm/varm and uns DataFrames."""
    yield "obs", mdata.obs
    yield from _frames_in(mdata.obsm, "obsm")
    yield from _frames_in(mdata.uns, "uns")
    for name, adata in mdata.mod.items():
        yield f"mod/{name}/obs", adata.obs
        yield f"mod/{name}/var", adata.var
        for slot in ("obsm", "varm", "uns"):
            yield from _frames_in(getattr(adata, slot), f"mod/{name}/{slot}")


def _frames_in(mapping: Mapping, prefix: str):
    for key, value in mapping.items():
        if isinstance(value, pd.DataFrame):
            yield f"{prefix}/{key}", value
        elif isinstance(value, Mapping):
            yield from _frames_in(value, f"{prefix}/{key}")


@contextlib.contextmanager
def _portable_columns(mdata: md.MuData):
    """Within the block, every column the formats cannot write is replaced by its portable form (in place, so
    that no matrix is copied) and the encodings are recorded in ``uns["harmonomics"]["column_encodings"]``;
    on exit the original columns come back (object columns too, which mudata's writer turns into categoricals)."""
    originals: list[tuple[pd.DataFrame, Any, pd.Series]] = []
    rows = []
    try:
        for element, frame in list(_dataframes(mdata)):
            for column in frame.columns:
                original = frame[column]
                if original.dtype == object:
                    originals.append((frame, column, original))  # mudata turns string columns into categoricals
                portable = _portable_column(original)
                if portable is None:
                    continue
                encoded, kind = portable
                if original.dtype != object:
                    originals.append((frame, column, original))
                frame[column] = encoded.values
                rows.append(
                    {
                        "element": element,
                        "column": str(column),
                        "written_as": kind,
                        "original_dtype": str(original.dtype),
                    }
                )
        record = mdata.uns[_keys.UNS_PROVENANCE]
        if rows:
            record[_ENCODINGS_KEY] = pd.DataFrame(rows, columns=_ENCODING_COLUMNS)
        yield
    finally:
        for frame, column, original in reversed(originals):
            frame[column] = original
        mdata.uns.get(_keys.UNS_PROVENANCE, {}).pop(_ENCODINGS_KEY, None)


def _restore_columns(mdata: md.MuData) -> None:
    """After a read: give back the columns :func:`_portable_columns` encoded, as they were written."""
    record = mdata.uns.get(_keys.UNS_PROVENANCE)
    if not isinstance(record, Mapping) or _ENCODINGS_KEY not in record:
        return
    encodings = pd.DataFrame(record.pop(_ENCODINGS_KEY))
    frames = dict(_dataframes(mdata))
    for element, column, kind, dtype in encodings[_ENCODING_COLUMNS].itertuples(index=False):
        frame = frames.get(element)
        if frame is None or column not in frame.columns:
            continue
        frame[column] = _restored_column(frame[column], kind, dtype).values


# --------------------------------------------------------------------------------------------------------------
# the xarray view
# --------------------------------------------------------------------------------------------------------------
_SAMPLE = "sample"
_UNS_ATTR = "harmonomics_uns_json"
_MODS_ATTR = "harmonomics_modalities"
_OBSM_COLUMN = "obsmcolumn_"


def _feature_dim(mod: str) -> str:
    return f"{mod}_feature"


def to_xarray(mdata: md.MuData, *, chunks: int | Mapping[str, int] | None = None) -> xr.Dataset:
    """The store as an :class:`xarray.Dataset`.

    One DataArray per omic (named like the modality) with dims ``sample`` × ``<omic>_feature``, over the
    union of samples in global obs order; NaN where a sample lacks the omic. Alongside:

    * ``<omic>_present`` (bool, ``sample``): whether the sample has that omic (NaN values alone can't tell);
    * ``obs_<column>`` (``sample``): global obs columns; ``<omic>_obs_<column>``: per-modality obs columns;
    * ``<omic>_var_<column>`` (``<omic>_feature``): var columns;
    * ``<omic>_layer_<name>``: layers; ``obsm_<key>`` and ``<omic>_varm_<key>``: embeddings and weights;
    * ``uns`` as JSON in the attribute ``harmonomics_uns_json``.

    Parameters
    ----------
    mdata
        The store.
    chunks
        If given, wrap the omic arrays in dask arrays with these sample-chunks (needs the ``scale`` extra).

    Returns
    -------
    The Dataset; :func:`from_xarray` inverts it.
    """
    import xarray as xr

    samples = pd.Index(mdata.obs_names)
    data_vars: dict[str, Any] = {}
    coords: dict[str, Any] = {_SAMPLE: samples.to_numpy(dtype=object)}

    for column in mdata.obs.columns:
        data_vars[f"obs_{column}"] = _column_to_var(mdata.obs[column], _SAMPLE)
    for key, value in mdata.obsm.items():
        frame = value if isinstance(value, pd.DataFrame) else None
        if frame is not None and not all(
            pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in frame.dtypes
        ):
            # a table of mixed columns: one variable per column, in order
            for position, column in enumerate(frame.columns):
                variable = _column_to_var(frame[column], _SAMPLE)
                variable.attrs.update(frame=str(key), column=str(column))
                data_vars[f"{_OBSM_COLUMN}{key}_{position}"] = variable
            continue
        matrix = np.asarray(frame.to_numpy(dtype=float) if frame is not None else value)
        col_dim = f"obsm_{key}_col"
        coords[col_dim] = np.asarray(frame.columns, dtype=object) if frame is not None else np.arange(matrix.shape[1])
        data_vars[f"obsm_{key}"] = xr.Variable((_SAMPLE, col_dim), matrix, attrs={"dataframe": int(frame is not None)})

    for mod, adata in mdata.mod.items():
        fdim = _feature_dim(mod)
        coords[fdim] = np.asarray(adata.var_names, dtype=object)
        rows = samples.get_indexer(adata.obs_names)
        present = np.zeros(len(samples), dtype=bool)
        present[rows] = True
        data_vars[f"{mod}_present"] = xr.Variable((_SAMPLE,), present.astype(np.int8), attrs={"dtype": "bool"})
        # the omic's own sample order, which may differ from the global one (-1: sample lacks the omic)
        position = np.full(len(samples), -1, dtype=np.int64)
        position[rows] = np.arange(len(rows))
        data_vars[f"{mod}_position"] = xr.Variable((_SAMPLE,), position)
        data_vars[mod] = xr.Variable((_SAMPLE, fdim), _expand(adata.X, rows, len(samples), chunks))
        for name, layer in adata.layers.items():
            data_vars[f"{mod}_layer_{name}"] = xr.Variable((_SAMPLE, fdim), _expand(layer, rows, len(samples), chunks))
        for column in adata.obs.columns:
            expanded = adata.obs[column].reindex(samples)
            data_vars[f"{mod}_obs_{column}"] = _column_to_var(expanded, _SAMPLE)
        for column in adata.var.columns:
            data_vars[f"{mod}_var_{column}"] = _column_to_var(adata.var[column], fdim)
        for key, value in adata.varm.items():
            col_dim = f"{mod}_varm_{key}_col"
            frame = value if isinstance(value, pd.DataFrame) else None
            matrix = np.asarray(frame.to_numpy(dtype=float) if frame is not None else value)
            coords[col_dim] = (
                np.asarray(frame.columns, dtype=object) if frame is not None else np.arange(matrix.shape[1])
            )
            data_vars[f"{mod}_varm_{key}"] = xr.Variable(
                (fdim, col_dim), matrix, attrs={"dataframe": int(frame is not None)}
            )

    attrs = {_UNS_ATTR: json.dumps(_to_json(dict(mdata.uns))), _MODS_ATTR: json.dumps(list(mdata.mod))}
    return xr.Dataset(data_vars=data_vars, coords=coords, attrs=attrs)


def _is_dask(matrix: Any) -> bool:
    return type(matrix).__module__.startswith("dask.")


def _expand(matrix: Any, rows: np.ndarray, n_samples: int, chunks: Any) -> Any:
    """Place a modality's rows into a samples-union matrix filled with NaN (lazily with dask when asked or when
    the matrix is already a dask array, as in a lazily opened zarr store)."""
    import scipy.sparse as sp

    if chunks is not None or _is_dask(matrix):
        from ._errors import require

        da = require("dask.array", extra="scale", purpose="a dask-backed xarray view")
        if _is_dask(matrix):
            lazy = matrix if chunks is None else matrix.rechunk((chunks, -1) if isinstance(chunks, int) else "auto")
        else:
            lazy = da.from_array(
                matrix.toarray() if sp.issparse(matrix) else matrix,
                chunks=(chunks, -1) if isinstance(chunks, int) else "auto",
            )
        if len(rows) == n_samples and np.array_equal(rows, np.arange(n_samples)):
            return lazy.astype(np.result_type(lazy.dtype, np.float32))
        order = np.full(n_samples, -1)
        order[rows] = np.arange(len(rows))
        dtype = np.result_type(lazy.dtype, np.float32)
        padded = da.concatenate(
            [lazy.astype(dtype), da.full((1, lazy.shape[1]), np.nan, dtype=dtype, chunks=(1, -1))], axis=0
        )
        return padded[np.where(order < 0, lazy.shape[0], order)]
    dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)
    out = np.full((n_samples, dense.shape[1]), np.nan, dtype=np.result_type(dense.dtype, np.float32))
    out[rows] = dense
    return out


def _column_to_var(series: pd.Series, dim: str):
    """A pandas column as an xarray Variable, remembering categorical / bool dtypes in attrs."""
    import xarray as xr

    attrs: dict[str, Any] = {}
    if isinstance(series.dtype, pd.CategoricalDtype):
        attrs["categories"] = json.dumps([str(c) for c in series.cat.categories])
        attrs["ordered"] = int(series.cat.ordered)
        values = series.astype(object).where(series.notna(), "").astype(str).to_numpy(dtype=object)
        attrs["missing_as_empty"] = 1
    elif series.dtype == bool:
        attrs["dtype"] = "bool"  # netCDF-4 has no bool type
        values = series.to_numpy(dtype=bool).astype(np.int8)
    elif isinstance(series.dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_numeric_dtype(series.dtype):
        attrs["dtype"] = str(series.dtype)  # nullable Int64 / boolean / Float64: float with NaN where missing
        values = series.to_numpy(dtype=float, na_value=np.nan)
    elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        attrs["missing_as_empty"] = 1
        attrs["dtype"] = "str"
        values = series.astype(object).where(series.notna(), "").astype(str).to_numpy(dtype=object)
    else:
        values = series.to_numpy()
    return xr.Variable((dim,), values, attrs=attrs)


def _var_to_column(variable, index: pd.Index) -> pd.Series:
    values = np.asarray(variable.values)
    attrs = variable.attrs
    if "categories" in attrs:
        categories = json.loads(attrs["categories"])
        text = pd.Series(values.astype(str), index=index)
        return pd.Series(
            pd.Categorical(
                text.where(text != "", None), categories=categories, ordered=bool(int(attrs.get("ordered", 0)))
            ),
            index=index,
        )
    if attrs.get("dtype") == "bool":
        return pd.Series(values.astype(bool), index=index)
    if attrs.get("dtype") not in (None, "str"):
        return pd.Series(values, index=index).astype(attrs["dtype"])
    if attrs.get("dtype") == "str":
        text = pd.Series(values.astype(str), index=index, dtype=object)
        return text.where(text != "", None)
    return pd.Series(values, index=index)


@uses_mudata
def from_xarray(ds: xr.Dataset) -> md.MuData:
    """Rebuild the MuData from :func:`to_xarray`'s Dataset (values, names, obs/var columns, layers, obsm/varm, uns).

    Raises
    ------
    StoreFormatError
        If the Dataset was not made by :func:`to_xarray` (no modality list in its attributes).
    """
    import anndata as ad
    import mudata as md

    if _MODS_ATTR not in ds.attrs:
        raise StoreFormatError(
            f"this Dataset has no {_MODS_ATTR!r} attribute; expected one written by harmonomics.store.to_xarray"
        )
    mods = json.loads(ds.attrs[_MODS_ATTR])
    samples = pd.Index(np.asarray(ds[_SAMPLE].values).astype(str), name=None)
    adatas = {}
    for mod in mods:
        fdim = _feature_dim(mod)
        present = np.asarray(ds[f"{mod}_present"].values, dtype=bool)
        if f"{mod}_position" in ds:  # the omic's own sample order (files of the first release lack it: global order)
            position = np.asarray(ds[f"{mod}_position"].values)
            present = np.flatnonzero(present)[np.argsort(position[present], kind="stable")]
        else:
            present = np.flatnonzero(present)
        obs_names = samples[present]
        var_names = pd.Index(np.asarray(ds[fdim].values).astype(str))
        X = np.asarray(ds[mod].values)[present]
        obs = pd.DataFrame(index=obs_names)
        var = pd.DataFrame(index=var_names)
        layers = {}
        varm = {}
        prefix_obs, prefix_var, prefix_layer, prefix_varm = (
            f"{mod}_obs_",
            f"{mod}_var_",
            f"{mod}_layer_",
            f"{mod}_varm_",
        )
        for name in ds.data_vars:
            if name.startswith(prefix_obs):
                obs[name[len(prefix_obs) :]] = _var_to_column(ds[name].variable, samples).iloc[present].array
            elif name.startswith(prefix_var):
                var[name[len(prefix_var) :]] = _var_to_column(ds[name].variable, var_names).array
            elif name.startswith(prefix_layer):
                layers[name[len(prefix_layer) :]] = np.asarray(ds[name].values)[present]
            elif name.startswith(prefix_varm):
                varm[name[len(prefix_varm) :]] = _matrix_back(ds, name, var_names)
        adata = ad.AnnData(X=X, obs=obs, var=var, layers=layers or None)
        for key, value in varm.items():
            adata.varm[key] = value
        adatas[mod] = adata

    with mudata_options():
        mdata = md.MuData(adatas)
    order = samples[samples.isin(mdata.obs_names)]
    if not order.equals(pd.Index(mdata.obs_names)):
        mdata = mdata[order].copy()
    rows = samples.get_indexer(mdata.obs_names)
    tables: dict[str, dict[str, Any]] = {}
    for name in ds.data_vars:
        if name.startswith("obs_"):
            mdata.obs[name[4:]] = _var_to_column(ds[name].variable, samples).reindex(mdata.obs_names).array
        elif name.startswith("obsm_"):
            matrix = _matrix_back(ds, name, samples)
            mdata.obsm[name[5:]] = matrix.iloc[rows] if isinstance(matrix, pd.DataFrame) else matrix[rows]
        elif name.startswith(_OBSM_COLUMN):
            attrs = ds[name].attrs
            position = int(name.rsplit("_", 1)[1])
            column = _var_to_column(ds[name].variable, samples).iloc[rows]
            tables.setdefault(attrs["frame"], {})[position] = (attrs["column"], column.array)
    for key, columns in tables.items():
        mdata.obsm[key] = pd.DataFrame(
            {label: values for _, (label, values) in sorted(columns.items())}, index=mdata.obs_names
        )
    mdata.uns.update(_from_json(json.loads(ds.attrs.get(_UNS_ATTR, "{}"))))
    return mdata


def _matrix_back(ds: xr.Dataset, name: str, index: pd.Index):
    variable = ds[name]
    matrix = np.asarray(variable.values)
    if variable.attrs.get("dataframe"):
        columns = np.asarray(ds[variable.dims[1]].values).astype(str)
        return pd.DataFrame(matrix, index=index, columns=columns)
    return matrix


# --------------------------------------------------------------------------------------------------------------
# JSON encoding of uns for the netCDF form (no pickles)
# --------------------------------------------------------------------------------------------------------------
def _to_json(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return {
            "__dataframe__": {
                "index": [_to_json(v) for v in value.index],
                "columns": [str(c) for c in value.columns],
                "data": {str(c): _to_json(value[c].to_numpy()) for c in value.columns},
                "dtypes": {str(c): str(value[c].dtype) for c in value.columns},
            }
        }
    if isinstance(value, pd.Series):
        return _to_json(value.to_frame(name=value.name if value.name is not None else 0))
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            return {
                "__ndarray__": [None if not np.isfinite(v) else float(v) for v in value.ravel().real],
                "shape": list(value.shape),
                "dtype": str(value.dtype),
            }
        return {
            "__ndarray__": [_to_json(v) for v in value.ravel().tolist()],
            "shape": list(value.shape),
            "dtype": str(value.dtype) if value.dtype.kind in "biu" else "object",
        }
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, np.generic):
        return _to_json(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return {"__float__": str(value)}
    if value is pd.NA or value is pd.NaT:
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "__dataframe__" in value:
            spec = value["__dataframe__"]
            frame = pd.DataFrame({c: _from_json(spec["data"][c]) for c in spec["columns"]}, index=spec["index"])
            for column, dtype in spec.get("dtypes", {}).items():
                if dtype not in ("object", "category") and not dtype.startswith("string"):
                    with contextlib.suppress(TypeError, ValueError):
                        frame[column] = frame[column].astype(dtype)
            return frame
        if "__ndarray__" in value:
            raw = value["__ndarray__"]
            dtype = value.get("dtype", "object")
            if dtype != "object" and np.dtype(dtype).kind in "fc":
                return np.array([np.nan if v is None else v for v in raw], dtype=dtype).reshape(value["shape"])
            if dtype == "object":
                out = np.empty(len(raw), dtype=object)
                out[:] = [_from_json(v) for v in raw]
                return out.reshape(value["shape"])
            return np.array(raw, dtype=dtype).reshape(value["shape"])
        if "__float__" in value:
            return float(value["__float__"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _jsonable_dict(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as plain JSON-able values (paths and other objects become strings)."""
    return _from_json(_to_json(dict(params)))
