"""Feature selection per omic: top variance, n per omic, optionally balanced across views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import MissingResultError
from ..store import replace_modalities, store_to_modify
from ._outofcore import _is_dask, feature_stats

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md


def select_features(
    mdata: md.MuData,
    *,
    n_top: int | Mapping[str, int] = 2000,
    mods: Sequence[str] | None = None,
    balance: bool = False,
    subset: bool = False,
    key_added: str = "highly_variable",
    client: Any = None,
    copy: bool = False,
) -> md.MuData | None:
    """Mark (or keep) the most variable features of each omic.

    Variance is computed over the samples present in each modality, ignoring NaN (by
    :func:`harmonomics.pp.feature_stats`, out of core for dask-backed omics); features with fewer than two observed
    values or zero variance are never selected.

    Parameters
    ----------
    mdata
        The store.
    n_top
        Features per omic: one number for all, or ``{modality: n}``. A modality with fewer features keeps all
        of its informative features.
    mods
        Modalities to process (default: all).
    balance
        Give every view the same size: ``n`` becomes the smallest number of informative features among the
        views (capped by ``n_top``), so no omic dominates a joint model by its size.
    subset
        Drop the unselected features instead of only marking them.
    key_added
        Name of the boolean ``var`` column.
    client
        A ``dask.distributed.Client`` for the variance of dask-backed omics (a store opened with
        ``hm.store.read(path, backed=True)``): those are computed out of core, and with ``subset=True`` only the
        selected features are loaded into memory.
    copy
        Return a modified copy.

    Returns
    -------
    ``None`` (or the copy). Writes ``mod[m].var["variance"]``, ``mod[m].var["variance_rank"]`` (1 = most
    variable) and ``mod[m].var[key_added]`` for every processed modality (and subsets them with
    ``subset=True``, adding one ``feature``/``dropped`` report row per modality), and
    ``uns["harmonomics"]["feature_selection"]`` (n per omic, balance flag).

    Raises
    ------
    MissingResultError
        A requested modality is not in the store.
    ValueError
        ``n_top`` is not positive.
    """
    mdata = store_to_modify(mdata, copy)
    mods = list(mods) if mods is not None else list(mdata.mod)
    for m in mods:
        if m not in mdata.mod:
            raise MissingResultError(f"modality {m!r} not in the store (has {list(mdata.mod)})")
    wanted = {
        m: int(n_top[m] if isinstance(n_top, Mapping) else n_top)
        for m in mods
        if not isinstance(n_top, Mapping) or m in n_top
    }
    if any(n <= 0 for n in wanted.values()):
        raise ValueError(f"n_top must be positive, got {n_top!r}")
    variances = {}
    for m in wanted:
        # one implementation for numpy and dask matrices: out of core on a lazily opened zarr store
        var = feature_stats(mdata, mod=m, client=client)["variance"].to_numpy()
        variances[m] = np.where(np.isfinite(var) & (var > 0), var, np.nan)
    if balance and wanted:
        informative = min(int(np.isfinite(v).sum()) for v in variances.values())
        common = min(min(wanted.values()), informative)
        wanted = {m: common for m in wanted}
    replaced = {}
    dropped_rows: list[dict] = []
    for m, n in wanted.items():
        a = mdata.mod[m]
        v = variances[m]
        rank = pd.Series(-v).rank(method="first", na_option="bottom").to_numpy()
        chosen = (rank <= n) & np.isfinite(v)
        a.var["variance"] = v
        a.var["variance_rank"] = rank.astype(int)
        a.var[key_added] = chosen
        wanted[m] = int(chosen.sum())
        if subset:
            replaced[m] = a[:, chosen].copy()
            if _is_dask(replaced[m].X):  # only the selected features are read from disk
                replaced[m].X = np.asarray(replaced[m].X.compute())
            if (~chosen).any():
                dropped_rows.append(
                    {
                        "level": "feature",
                        "item": f"{int((~chosen).sum())} features",
                        "omic": m,
                        "sample": "",
                        "action": "dropped",
                        "reason": f"not among the {n} most variable features (select_features, "
                        f"subset=True; balance={balance})",
                    }
                )
    if subset:
        replace_modalities(mdata, replaced)
        if dropped_rows:
            from ..store import add_report_rows

            add_report_rows(mdata, dropped_rows)
    prov = mdata.uns.get(_keys.UNS_PROVENANCE, {})
    prov["feature_selection"] = {
        "n_per_omic": wanted,
        "balance": bool(balance),
        "subset": bool(subset),
        "criterion": "variance",
    }
    mdata.uns[_keys.UNS_PROVENANCE] = prov
    return mdata if copy else None
