"""HDF5 helpers for MOFA model files: a small, pickle-free encoding of the ``uns`` dict, and the reader.

The model file is the one mofapy2 writes (so mofax and MOFA2 open it); harmonomics adds one group,
``/harmonomics``, holding the full ``uns[key]`` record (R² tables, options, the training centring and
noise needed for projection). Everything is plain datasets and attributes.

Private module of :mod:`harmonomics.models.mofa`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

H5_GROUP = "harmonomics"
_STR = None  # h5py string dtype, created lazily


def _sdt():
    global _STR
    if _STR is None:
        import h5py

        _STR = h5py.string_dtype(encoding="utf-8")
    return _STR


def write_value(parent, name: str, value) -> None:
    """Write ``value`` (nested dicts, DataFrames, arrays, lists, strings, numbers) under ``parent[name]``."""
    if isinstance(value, dict):
        g = parent.create_group(name)
        g.attrs["kind"] = "dict"
        g.attrs["keys"] = (
            np.array([str(k) for k in value], dtype=object).astype(_sdt()) if value else np.array([], dtype="S1")
        )
        for i, (_k, v) in enumerate(value.items()):
            write_value(g, f"k{i}", v)
    elif isinstance(value, pd.DataFrame):
        g = parent.create_group(name)
        g.attrs["kind"] = "dataframe"
        g.attrs["columns"] = np.array([str(c) for c in value.columns], dtype=object).astype(_sdt())
        g.attrs["index_name"] = "" if value.index.name is None else str(value.index.name)
        write_value(g, "index", np.asarray(value.index.astype(str), dtype=object))
        for i, c in enumerate(value.columns):
            col = value[c]
            arr = (
                np.asarray(col.astype(str), dtype=object)
                if col.dtype == object
                or isinstance(col.dtype, pd.CategoricalDtype)
                or pd.api.types.is_string_dtype(col.dtype)
                else col.to_numpy()
            )
            write_value(g, f"c{i}", arr)
    elif isinstance(value, str):
        d = parent.create_dataset(name, data=value, dtype=_sdt())
        d.attrs["kind"] = "str"
    elif isinstance(value, (bool, np.bool_)):
        d = parent.create_dataset(name, data=bool(value))
        d.attrs["kind"] = "bool"
    elif isinstance(value, (int, np.integer)):
        d = parent.create_dataset(name, data=int(value))
        d.attrs["kind"] = "int"
    elif isinstance(value, (float, np.floating)):
        d = parent.create_dataset(name, data=float(value))
        d.attrs["kind"] = "float"
    elif isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        kind = "list" if isinstance(value, (list, tuple)) else "array"
        if arr.dtype.kind in ("U", "O", "S"):
            d = parent.create_dataset(
                name,
                data=np.asarray([str(x) for x in arr.ravel()], dtype=object).reshape(arr.shape),
                dtype=_sdt(),
            )
            d.attrs["kind"] = kind + "_str"
        else:
            opts = {"compression": "gzip", "compression_opts": 4} if arr.size > 1024 else {}
            d = parent.create_dataset(name, data=arr, **opts)
            d.attrs["kind"] = kind
    else:
        raise TypeError(f"cannot store a {type(value).__name__} in a MOFA model file ({name!r})")


def _decode(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def read_value(obj):
    """Inverse of :func:`write_value`."""
    kind = _decode(obj.attrs.get("kind", "array"))
    if kind == "dict":
        keys = [_decode(k) for k in obj.attrs["keys"]]
        return {k: read_value(obj[f"k{i}"]) for i, k in enumerate(keys)}
    if kind == "dataframe":
        cols = [_decode(c) for c in obj.attrs["columns"]]
        index = pd.Index(read_value(obj["index"]))
        name = _decode(obj.attrs["index_name"])
        index.name = name or None
        return pd.DataFrame({c: read_value(obj[f"c{i}"]) for i, c in enumerate(cols)}, index=index)
    if kind == "str":
        return _decode(obj[()])
    if kind == "bool":
        return bool(obj[()])
    if kind == "int":
        return int(obj[()])
    if kind == "float":
        return float(obj[()])
    if kind.endswith("_str"):
        arr = np.array([_decode(x) for x in np.asarray(obj[()]).ravel()], dtype=object).reshape(obj.shape)
        return list(arr) if kind.startswith("list") else arr.astype(str)
    arr = np.asarray(obj[()])
    return arr.tolist() if kind == "list" else arr


def strings(ds) -> list[str]:
    return [_decode(x) for x in np.asarray(ds[()]).ravel()]


def read_model_file(path) -> dict:
    """Read what harmonomics needs from a mofapy2 HDF5 model file (factors in file order).

    Returns a dict with ``views``, ``groups``, ``samples`` (per group), ``features`` (per view), ``Z``
    (per group, n_g x K), ``W`` (per view, D x K), ``data`` and ``intercepts`` (per view, per group, when
    saved), ``likelihoods``, ``elbo``, ``training_opts`` (dict), ``r2`` (per group, M x K, fraction) and
    ``harmonomics`` (the stored ``uns`` record, or None for files written by other tools).
    """
    import h5py

    out: dict = {}
    with h5py.File(path, "r") as f:
        for req in ("views", "groups", "samples", "features", "expectations"):
            if req not in f:
                raise KeyError(req)
        views = strings(f["views"]["views"])
        groups = strings(f["groups"]["groups"])
        out["views"], out["groups"] = views, groups
        out["samples"] = {g: strings(f["samples"][g]) for g in groups}
        out["features"] = {m: strings(f["features"][m]) for m in views}
        out["Z"] = {g: np.asarray(f["expectations"]["Z"][g][()], dtype=np.float64).T for g in groups}
        out["W"] = {m: np.asarray(f["expectations"]["W"][m][()], dtype=np.float64).T for m in views}
        if "data" in f:
            out["data"] = {m: {g: np.asarray(f["data"][m][g][()], dtype=np.float64) for g in groups} for m in views}
        if "intercepts" in f:
            out["intercepts"] = {
                m: {g: np.asarray(f["intercepts"][m][g][()], dtype=np.float64) for g in groups} for m in views
            }
        if "model_options" in f and "likelihoods" in f["model_options"]:
            out["likelihoods"] = dict(zip(views, strings(f["model_options"]["likelihoods"]), strict=False))
        else:
            out["likelihoods"] = {m: "gaussian" for m in views}
        if "training_stats" in f and "elbo" in f["training_stats"]:
            out["elbo"] = np.asarray(f["training_stats"]["elbo"][()], dtype=np.float64)
        if "training_opts" in f:
            names = strings(f["training_opts"].attrs["names"]) if "names" in f["training_opts"].attrs else []
            vals = np.asarray(f["training_opts"][()]).ravel()
            out["training_opts"] = dict(zip(names, [float(v) for v in vals], strict=False))
        if "variance_explained" in f and "r2_per_factor" in f["variance_explained"]:
            out["r2"] = {
                g: np.asarray(f["variance_explained"]["r2_per_factor"][g][()], dtype=np.float64) / 100 for g in groups
            }
        out["harmonomics"] = read_value(f[H5_GROUP]) if H5_GROUP in f else None
    return out
