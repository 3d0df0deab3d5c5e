"""Reading a fitted factor model out of the store, in one place (private).

Every reader of a fit (``hm.get``, ``tl``, ``pl``, ``export``, ``report``) goes through these functions, so a
fit is read the same way everywhere (layout: docs/store.md, "Results"):

- ``obsm[key]``: the factor scores, samples x factors. A fit writes a float array whose column names are
  ``uns[key]["factor_names"]``; a DataFrame in ``obsm`` carries its own column names.
- ``mod[view].varm[key]``: the weights of each fitted view, features x factors, same factor order.
- ``uns[key]``: the model's description (``factor_names``, ``views``, variance explained, ...).

Conventions: tables of scores are indexed by the sample IDs (``obs_names``) in obs order, with the index named
``sample``; a result that is absent raises :class:`~harmonomics._errors.MissingResultError`; a result that is
present but does not follow the layout (wrong shape, names that do not match the columns) raises
:class:`~harmonomics._errors.StoreFormatError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import _keys
from ._errors import MissingResultError, StoreFormatError

logger = logging.getLogger(__name__)

SAMPLE_INDEX = "sample"


def _run_hint(key: str) -> str:
    return f"run hm.tl.mofa(mdata, key_added={key!r}) or hm.tl.load_mofa / hm.tl.project first"


def model_info(mdata: Any, key: str = _keys.KEY_MOFA) -> Mapping[str, Any]:
    """The description ``uns[key]`` of a fitted model; MissingResultError when absent."""
    info = mdata.uns.get(key) if hasattr(mdata, "uns") else None
    if not isinstance(info, Mapping):
        raise MissingResultError(
            f"no factor model in mdata.uns[{key!r}] (uns keys present: {sorted(mdata.uns.keys())}); {_run_hint(key)}"
        )
    return info


def _score_matrix(mdata: Any, key: str) -> Any:
    if key not in mdata.obsm:
        raise MissingResultError(
            f"no factor model under key {key!r}: no factor scores obsm[{key!r}] in the store "
            f"(obsm keys present: {sorted(mdata.obsm.keys())}); "
            f"{_run_hint(key)}"
        )
    return mdata.obsm[key]


def factor_names(mdata: Any, key: str = _keys.KEY_MOFA) -> list[str]:
    """Factor names of the scores ``obsm[key]``.

    The DataFrame's columns, else ``uns[key]["factor_names"]``, else ``Factor1..K`` for a bare array written
    without names.

    Raises
    ------
    MissingResultError
        No ``obsm[key]``.
    StoreFormatError
        ``obsm[key]`` is not samples x factors, or the names do not match its columns.
    """
    scores = _score_matrix(mdata, key)
    if isinstance(scores, pd.DataFrame):
        return [str(c) for c in scores.columns]
    shape = np.shape(scores)
    if len(shape) != 2:
        raise StoreFormatError(f"mdata.obsm[{key!r}] should be a samples x factors matrix; it has shape {shape}")
    info = mdata.uns.get(key) if hasattr(mdata, "uns") else None
    names = info.get("factor_names") if isinstance(info, Mapping) else None
    if names is None:
        return [f"Factor{i + 1}" for i in range(shape[1])]
    names = [str(n) for n in np.asarray(names).ravel().tolist()]
    if len(names) != shape[1]:
        raise StoreFormatError(
            f"uns[{key!r}]['factor_names'] has {len(names)} names but obsm[{key!r}] has {shape[1]} columns"
        )
    return names


def factor_scores(mdata: Any, key: str = _keys.KEY_MOFA) -> pd.DataFrame:
    """Factor scores ``obsm[key]`` as a float DataFrame: samples (obs order, index ``sample``) x factor names.

    Raises
    ------
    MissingResultError
        No ``obsm[key]``.
    StoreFormatError
        ``obsm[key]`` does not follow the layout (see :func:`factor_names`).
    """
    names = factor_names(mdata, key)
    scores = mdata.obsm[key]
    values = np.asarray(scores.to_numpy() if isinstance(scores, pd.DataFrame) else scores, dtype=np.float64)
    return pd.DataFrame(values, index=pd.Index(mdata.obs_names.astype(str), name=SAMPLE_INDEX), columns=names)


def r2_table(mdata: Any, key: str = _keys.KEY_MOFA) -> pd.DataFrame:
    """``uns[key]["r2_per_view_factor"]`` as a DataFrame view × factor (fractions 0..1)."""
    info = model_info(mdata, key)
    r2 = info.get("r2_per_view_factor")
    if r2 is None:
        raise MissingResultError(f"mdata.uns[{key!r}] has no 'r2_per_view_factor' table (view × factor R²)")
    if isinstance(r2, pd.DataFrame):
        out = r2.copy()
    else:
        arr = np.asarray(r2, dtype=float)
        views = [str(v) for v in np.asarray(info.get("views", [f"view{i}" for i in range(arr.shape[0])])).ravel()]
        out = pd.DataFrame(arr, index=views, columns=factor_names(mdata, key)[: arr.shape[1]])
    out.index = out.index.astype(str)
    out.columns = out.columns.astype(str)
    return out.astype(float)


def r2_total(mdata: Any, key: str = _keys.KEY_MOFA, *, per: str = "factor") -> pd.Series | None:
    """The fit's total R² per factor (over all views) or per view (over all factors): ``uns[key]["r2_per_factor"]``
    or ``uns[key]["r2_per_view"]`` as a Series on the names of :func:`r2_table` (fractions 0..1).

    None when the fit stored no such total, or one that cannot be read as one value per name (a fit may leave it
    out; the per-view × factor table is what every fit has).
    """
    if per not in ("factor", "view"):
        raise ValueError(f"per must be 'factor' or 'view'; got {per!r}")
    r2 = r2_table(mdata, key)
    names = list(r2.columns if per == "factor" else r2.index)
    stored = model_info(mdata, key).get(f"r2_per_{per}")
    if stored is None:
        return None
    try:
        if isinstance(stored, pd.DataFrame):
            stored = stored.iloc[:, 0] if stored.shape[1] == 1 else stored.iloc[0]
        if isinstance(stored, pd.Series):
            out = stored.astype(float)
            out.index = out.index.astype(str)
            return out.reindex(names)
        if isinstance(stored, Mapping):
            return pd.Series({str(k): float(np.asarray(v).ravel()[0]) for k, v in stored.items()}).reindex(names)
        values = np.asarray(stored, dtype=float).ravel()
        if values.size == len(names):
            return pd.Series(values, index=names)
    except (TypeError, ValueError, IndexError):
        pass
    logger.debug("uns[%r]['r2_per_%s'] of shape %s is not one value per %s", key, per, np.shape(stored), per)
    return None


def fit_views(mdata: Any, key: str = _keys.KEY_MOFA) -> list[str]:
    """Views (modalities) that hold weights ``varm[key]`` of the fit, in the fit's order (``uns[key]["views"]``)."""
    info = mdata.uns.get(key, {})
    views = info.get("views") if isinstance(info, Mapping) else None
    if views is None:
        views = list(mdata.mod)
    views = [str(v) for v in np.asarray(views).tolist()]
    found = [v for v in views if v in mdata.mod and key in mdata.mod[v].varm]
    if not found:
        raise MissingResultError(
            f"no modality holds weights of the fit {key!r} (mdata.mod[view].varm[{key!r}]); views listed: {views}"
        )
    return found


def view_weights(mdata: Any, key: str, view: str) -> pd.DataFrame:
    """Weights of one view as a float DataFrame: features (``var_names``) x factor names.

    Raises
    ------
    MissingResultError
        No modality ``view`` or no ``varm[key]`` in it.
    StoreFormatError
        The weights are not features x factors.
    """
    names = factor_names(mdata, key)
    if view not in mdata.mod:
        raise MissingResultError(f"no modality {view!r} in the store; modalities: {list(mdata.mod)}")
    adata = mdata.mod[view]
    if key not in adata.varm:
        raise MissingResultError(f"modality {view!r} has no weights under varm[{key!r}]")
    values = np.asarray(adata.varm[key], dtype=np.float64)
    if values.shape != (adata.n_vars, len(names)):
        raise StoreFormatError(
            f"mdata.mod[{view!r}].varm[{key!r}] has shape {values.shape}; expected {(adata.n_vars, len(names))}"
        )
    return pd.DataFrame(values, index=pd.Index(adata.var_names.astype(str)), columns=names)


def select(requested: Iterable[str] | str | None, available: Sequence[str], what: str) -> list[str]:
    """``requested`` names (all of ``available`` for None); KeyError naming the unknown ones."""
    if requested is None:
        return list(available)
    requested = [requested] if isinstance(requested, str) else [str(r) for r in requested]
    missing = [r for r in requested if r not in available]
    if missing:
        raise KeyError(f"unknown {what} {missing}; available: {list(available)}")
    return requested


def diablo_keys(mdata: Any) -> list[str]:
    """The ``uns`` keys that hold a DIABLO fit (a dict with ``"method": "diablo"``), in store order."""
    uns = getattr(mdata, "uns", {})
    return [str(k) for k, v in uns.items() if isinstance(v, Mapping) and str(v.get("method", "")) == "diablo"]


def sample_variable(mdata: Any, name: str) -> pd.Series:
    """Values of a per-sample variable (a covariate, a colouring), indexed like ``mdata.obs``; used by ``tl`` and
    ``pl`` alike.

    ``name`` is looked up, in order, as: an ``obs`` column; ``"<obsm key>:<column>"`` for a
    column of an obsm DataFrame (e.g. ``"immune:ESTIMATE_immune"``); a bare column name that
    exactly one obsm DataFrame has.

    Raises
    ------
    KeyError
        The covariate is found nowhere, or a bare name is ambiguous between obsm DataFrames.
    """
    if not isinstance(name, str):
        raise TypeError(f"per-sample variable names must be strings, got {name!r}")
    obs_names = pd.Index(mdata.obs_names)
    if name in mdata.obs.columns:
        return mdata.obs[name]
    frames = {k: v for k, v in mdata.obsm.items() if isinstance(v, pd.DataFrame)}
    if ":" in name:
        obsm_key, column = name.split(":", 1)
        if obsm_key in frames:
            if column not in frames[obsm_key].columns:
                raise KeyError(
                    f"per-sample variable {name!r}: obsm[{obsm_key!r}] has no column {column!r}; "
                    f"columns: {list(frames[obsm_key].columns)}"
                )
            return frames[obsm_key][column].reindex(obs_names).rename(name)
    holders = [k for k, frame in frames.items() if name in frame.columns]
    if len(holders) == 1:
        return frames[holders[0]][name].reindex(obs_names)
    if len(holders) > 1:
        raise KeyError(
            f"per-sample variable {name!r} is a column of several obsm tables {holders}; "
            f"name one as '<obsm key>:{name}', e.g. {holders[0] + ':' + name!r}"
        )
    raise KeyError(
        f"no per-sample variable {name!r}: not an obs column ({list(mdata.obs.columns)}) nor a column of an "
        f"obsm DataFrame ({ {k: list(v.columns)[:5] for k, v in frames.items()} }); "
        "use '<obsm key>:<column>' for obsm tables"
    )
