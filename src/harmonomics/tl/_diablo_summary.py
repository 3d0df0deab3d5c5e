"""Tables that show a DIABLO fit: selected features, correlations, class contributions, clustered data.

Each function reads a fit written by ``hm.tl.diablo`` (layout in ``tl/_diablo.py``: block variates in
``mod[block].obsm[key]``, loadings in ``mod[block].varm[key]``, ``uns[key]`` with ``"method": "diablo"``,
``"label"``, ``"classes"``, ``"blocks"`` and the tidy ``"selected"`` table) and the stored data (each block's
``X``); nothing is refitted. The figures of ``hm.pl.diablo_*``, the DIABLO exports and the report draw these
tables.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import MissingResultError

if TYPE_CHECKING:  # pragma: no cover
    from mudata import MuData

logger = logging.getLogger(__name__)

KEY_DIABLO = _keys.KEY_DIABLO
SELECTED_COLUMNS = ["feature", "block", "component", "loading"]


class DiabloCorrelations(NamedTuple):
    """The two correlation tables of :func:`diablo_correlations`."""

    #: feature, block, component, correlation: each selected feature with its block's variates
    variates: pd.DataFrame
    #: feature_a, block_a, feature_b, block_b, n, correlation: selected features of different blocks
    features: pd.DataFrame


class DiabloClustered(NamedTuple):
    """What :func:`diablo_clustered` returns: the ordered matrix and the two dendrograms."""

    #: z-scores, rows (block, feature) and columns samples, both in dendrogram order; NaN where a value is missing
    matrix: pd.DataFrame
    #: scipy linkage matrix of the rows (features), in the original (unordered) row order
    feature_linkage: np.ndarray
    #: scipy linkage matrix of the columns (samples), in the original (unordered) column order
    sample_linkage: np.ndarray
    #: the class of each sample (column order of ``matrix``)
    labels: pd.Series


# ---------------------------------------------------------------------------------------------------------------
# reading the fit
# ---------------------------------------------------------------------------------------------------------------
def diablo_fit(mdata: MuData, key: str = KEY_DIABLO) -> Mapping[str, Any]:
    """``uns[key]`` of a DIABLO fit, checked; a :class:`MissingResultError` naming ``hm.tl.diablo`` otherwise."""
    info = mdata.uns.get(key) if hasattr(mdata, "uns") else None
    if not isinstance(info, Mapping) or str(info.get("method", "")) != "diablo":
        raise MissingResultError(
            f"no DIABLO fit under key {key!r}: mdata.uns[{key!r}] is "
            + ("missing" if info is None else "not a dict with 'method': 'diablo'")
            + f"; run hm.tl.diablo(mdata, key_added={key!r})"
        )
    for field in ("blocks", "selected"):
        if field not in info:
            raise MissingResultError(f"the DIABLO fit mdata.uns[{key!r}] has no {field!r} entry")
    missing = [b for b in _blocks(info) if b not in mdata.mod]
    if missing:
        raise MissingResultError(
            f"the DIABLO fit {key!r} names block(s) {missing} that the store lacks; modalities: {list(mdata.mod)}"
        )
    return info


def _blocks(info: Mapping[str, Any]) -> list[str]:
    return [str(b) for b in np.asarray(info["blocks"], dtype=object).ravel()]


def _classes(mdata: MuData, info: Mapping[str, Any]) -> list[str]:
    classes = info.get("classes")
    if classes is not None:
        return [str(c) for c in np.asarray(classes, dtype=object).ravel()]
    labels = _labels(mdata, info)
    return sorted(labels.dropna().astype(str).unique())


def _labels(mdata: MuData, info: Mapping[str, Any]) -> pd.Series:
    label = str(info.get("label", "pam50"))
    if label not in mdata.obs.columns:
        raise MissingResultError(f"the DIABLO fit's label column {label!r} is not in mdata.obs")
    values = mdata.obs[label]
    return values.astype(object).where(values.notna(), None).rename(label)


def _variates(mdata: MuData, key: str, block: str) -> pd.DataFrame:
    adata = mdata.mod[block]
    if key not in adata.obsm:
        raise MissingResultError(f"the DIABLO fit {key!r} has no variates for block {block!r} (mod[{block!r}].obsm)")
    value = adata.obsm[key]
    if isinstance(value, pd.DataFrame):
        frame = value.copy()
    else:
        array = np.asarray(value, dtype=float)
        frame = pd.DataFrame(array, columns=[f"comp{i + 1}" for i in range(array.shape[1])])
    frame.index = adata.obs_names.astype(str)
    return frame.astype(float)


def _block_data(mdata: MuData, block: str, features: Sequence[str]) -> pd.DataFrame:
    """The block's ``X`` for ``features`` (samples × features), as floats."""
    adata = mdata.mod[block]
    names = pd.Index(adata.var_names.astype(str))
    absent = [f for f in features if f not in names]
    if absent:
        raise MissingResultError(
            f"selected feature(s) {absent[:5]} of block {block!r} are not in mod[{block!r}].var_names; "
            "the store was subset after the DIABLO fit"
        )
    columns = names.get_indexer(list(features))
    matrix = adata.X[:, columns]
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    return pd.DataFrame(np.asarray(matrix, dtype=float), index=adata.obs_names.astype(str), columns=list(features))


def _component_list(components: Any, n_components: int | None) -> list[int]:
    if isinstance(components, (int, np.integer)) and not isinstance(components, bool):
        components = [components]
    out = []
    for c in components:
        if isinstance(c, str) and c.startswith("comp") and c[4:].isdigit():
            c = int(c[4:])
        if not isinstance(c, (int, np.integer)) or isinstance(c, bool) or c < 1:
            raise ValueError(f"components must be numbers 1..K (or 'comp1'...); got {c!r}")
        if n_components is not None and c > n_components:
            raise ValueError(f"component {c} is out of range: the fit has components 1..{n_components}")
        out.append(int(c))
    if not out:
        raise ValueError("components is empty")
    return list(dict.fromkeys(out))


def _selected_on(table: pd.DataFrame, components: list[int], blocks: list[str]) -> dict[str, list[str]]:
    """Features selected on any of ``components``, per block, in the table's order."""
    sub = table[table["component"].isin(components)]
    return {b: list(dict.fromkeys(sub.loc[sub["block"] == b, "feature"])) for b in blocks}


# ---------------------------------------------------------------------------------------------------------------
# public tables
# ---------------------------------------------------------------------------------------------------------------
def diablo_selected(
    mdata: MuData,
    *,
    key: str = KEY_DIABLO,
    block: str | None = None,
    component: int | None = None,
) -> pd.DataFrame:
    """The features a DIABLO fit selected: one row per feature and component.

    Parameters
    ----------
    mdata
        A store with a fit of ``hm.tl.diablo`` under ``key``.
    key
        Result key of the fit.
    block
        Only this block (modality).
    component
        Only this component (1-based).

    Returns
    -------
    A copy of ``uns[key]["selected"]``: columns ``feature``, ``block``, ``component`` (int), ``loading``, ordered
    by block, component and decreasing ``|loading|``.

    Raises
    ------
    MissingResultError
        No DIABLO fit under ``key``.
    """
    info = diablo_fit(mdata, key)
    table = info["selected"]
    if not isinstance(table, pd.DataFrame) or not set(SELECTED_COLUMNS) <= set(table.columns):
        raise MissingResultError(
            f"mdata.uns[{key!r}]['selected'] must be a table with columns {SELECTED_COLUMNS}; "
            f"it is {type(table).__name__}"
            + (f" with columns {list(table.columns)}" if isinstance(table, pd.DataFrame) else "")
        )
    table = table[SELECTED_COLUMNS].reset_index(drop=True).copy()
    table["feature"] = table["feature"].astype(str)
    table["block"] = table["block"].astype(str)
    table["component"] = table["component"].astype(int)
    table["loading"] = table["loading"].astype(float)
    if block is not None:
        if block not in _blocks(info):
            raise ValueError(f"block {block!r} is not a block of the DIABLO fit {key!r}: {_blocks(info)}")
        table = table[table["block"] == block]
    if component is not None:
        (component,) = _component_list(component, info.get("n_components"))
        table = table[table["component"] == component]
    return table.reset_index(drop=True)


def diablo_correlations(
    mdata: MuData,
    *,
    key: str = KEY_DIABLO,
    components: Sequence[int] | int = (1, 2),
    cutoff: float = 0.0,
) -> DiabloCorrelations:
    """Correlations of the features a DIABLO fit selected: with the variates, and across blocks.

    Parameters
    ----------
    mdata
        A store with a fit of ``hm.tl.diablo`` under ``key``.
    key
        Result key of the fit.
    components
        Components whose selected features are used (a feature selected on any of them counts), and whose
        variates the features are correlated with.
    cutoff
        Keep feature pairs with ``|r| >= cutoff`` in the cross-block table.

    Returns
    -------
    :class:`DiabloCorrelations` ``(variates, features)``:

    - ``variates``: ``feature``, ``block``, ``component``, ``correlation``: Pearson correlation of each
      selected feature (the block's ``X``) with the block's own variate of each component, over the block's
      samples (pairwise complete). These are the coordinates of the correlation circle.
    - ``features``: ``feature_a``, ``block_a``, ``feature_b``, ``block_b``, ``n``, ``correlation``: Pearson
      correlation of every pair of selected features of two different blocks, over the ``n`` samples having
      both blocks and both values; blocks in fit order, rows ordered by decreasing ``|correlation|``.

    Raises
    ------
    MissingResultError
        No DIABLO fit under ``key``, or a selected feature is no longer in the store.
    """
    if not np.isfinite(cutoff) or not 0.0 <= float(cutoff) <= 1.0:
        raise ValueError(f"cutoff must be between 0 and 1; got {cutoff!r}")
    info = diablo_fit(mdata, key)
    blocks = _blocks(info)
    comps = _component_list(components, info.get("n_components"))
    chosen = _selected_on(diablo_selected(mdata, key=key), comps, blocks)
    data = {b: _block_data(mdata, b, chosen[b]) for b in blocks if chosen[b]}

    rows = []
    for block, frame in data.items():
        variates = _variates(mdata, key, block)
        for c in comps:
            column = f"comp{c}"
            if column not in variates.columns:
                raise MissingResultError(f"block {block!r} has no variate {column!r} under key {key!r}")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a constant feature: NaN, not a warning
                r = frame.corrwith(variates[column].reindex(frame.index))
            rows.append(pd.DataFrame({"feature": r.index, "block": block, "component": c, "correlation": r.to_numpy()}))
    variate_table = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame({"feature": [], "block": [], "component": [], "correlation": []})
    )

    pairs = []
    names = list(data)
    for i, block_a in enumerate(names):
        for block_b in names[i + 1 :]:
            a, b = data[block_a], data[block_b]
            common = a.index.intersection(b.index)
            if len(common) < 3:
                logger.info("diablo_correlations: blocks %s and %s share %d samples", block_a, block_b, len(common))
                continue
            a, b = a.loc[common], b.loc[common]
            r, n = _cross_correlation(a.to_numpy(), b.to_numpy())
            ia, ib = np.nonzero(np.isfinite(r) & (np.abs(r) >= cutoff))
            pairs.append(
                pd.DataFrame(
                    {
                        "feature_a": a.columns.to_numpy()[ia],
                        "block_a": block_a,
                        "feature_b": b.columns.to_numpy()[ib],
                        "block_b": block_b,
                        "n": n[ia, ib],
                        "correlation": r[ia, ib],
                    }
                )
            )
    columns = ["feature_a", "block_a", "feature_b", "block_b", "n", "correlation"]
    feature_table = pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame({c: [] for c in columns})
    order = np.argsort(-np.abs(feature_table["correlation"].to_numpy(float)), kind="stable")
    feature_table = feature_table.iloc[order].reset_index(drop=True)
    return DiabloCorrelations(variate_table, feature_table)


def _cross_correlation(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of every column of ``a`` with every column of ``b``, over rows where both are finite."""
    ma, mb = np.isfinite(a), np.isfinite(b)
    if ma.all() and mb.all():
        za = (a - a.mean(0)) / np.where(a.std(0) > 0, a.std(0), np.nan)
        zb = (b - b.mean(0)) / np.where(b.std(0) > 0, b.std(0), np.nan)
        return za.T @ zb / a.shape[0], np.full((a.shape[1], b.shape[1]), a.shape[0])
    r = np.full((a.shape[1], b.shape[1]), np.nan)
    n = np.zeros((a.shape[1], b.shape[1]), dtype=int)
    for i in range(a.shape[1]):
        for j in range(b.shape[1]):
            both = ma[:, i] & mb[:, j]
            n[i, j] = both.sum()
            x, y = a[both, i], b[both, j]
            if n[i, j] >= 3 and x.std() > 0 and y.std() > 0:
                r[i, j] = np.corrcoef(x, y)[0, 1]
    return r, n


def diablo_contributions(
    mdata: MuData,
    *,
    block: str,
    component: int = 1,
    key: str = KEY_DIABLO,
    contrib: str = "max",
    method: str = "mean",
) -> pd.DataFrame:
    """Which class each selected feature characterises: the class where its values are highest (or lowest).

    As mixOmics ``plotLoadings(contrib=, method=)``: for each feature selected on ``component`` of ``block``,
    the mean (or median) of its values in each class, over the block's samples with a label.

    Parameters
    ----------
    mdata
        A store with a fit of ``hm.tl.diablo`` under ``key``.
    block
        The block (modality).
    component
        The component (1-based).
    key
        Result key of the fit.
    contrib
        ``"max"``: the class with the highest value; ``"min"``: the lowest.
    method
        ``"mean"`` or ``"median"`` per class.

    Returns
    -------
    The selected rows of ``block`` and ``component`` (``feature``, ``block``, ``component``, ``loading``, in
    the fit's order) with ``contributes`` (the class, categorical with the fit's classes), and one column per
    class holding that class's mean (median) — named by the class.
    """
    if contrib not in ("max", "min"):
        raise ValueError(f"contrib must be 'max' or 'min'; got {contrib!r}")
    if method not in ("mean", "median"):
        raise ValueError(f"method must be 'mean' or 'median'; got {method!r}")
    info = diablo_fit(mdata, key)
    table = diablo_selected(mdata, key=key, block=block, component=component)
    classes = _classes(mdata, info)
    labels = _labels(mdata, info)
    data = _block_data(mdata, block, list(table["feature"]))
    label_of = labels.reindex(data.index).astype(object)
    if label_of.isna().all():
        raise MissingResultError(f"no sample of block {block!r} has a label in obs[{labels.name!r}]")
    grouped = data.groupby(label_of.astype(str).where(label_of.notna()), dropna=True)
    per_class = (grouped.mean() if method == "mean" else grouped.median()).T.reindex(columns=classes)
    values = per_class.to_numpy(float)
    finite = np.isfinite(values)
    filled = np.where(finite, values, -np.inf if contrib == "max" else np.inf)
    pick = filled.argmax(axis=1) if contrib == "max" else filled.argmin(axis=1)
    winner = [classes[k] if finite[i].any() else None for i, k in enumerate(pick)]
    out = table.reset_index(drop=True)
    out["contributes"] = pd.Categorical(winner, categories=classes)
    for c in classes:
        out[c] = per_class[c].to_numpy(float)
    return out


def diablo_clustered(
    mdata: MuData,
    *,
    key: str = KEY_DIABLO,
    components: Sequence[int] | int | None = None,
    method: str = "complete",
    metric: str = "euclidean",
) -> DiabloClustered:
    """Selected features × samples, z-scored and ordered by hierarchical clustering (the DIABLO heatmap).

    Samples having every block are used (as mixOmics ``cimDiablo``); each feature is z-scored over them. Rows
    and columns are clustered with :func:`scipy.cluster.hierarchy.linkage`; a missing value counts as the
    feature's mean (z = 0) in the distances and stays NaN in the matrix.

    Parameters
    ----------
    mdata
        A store with a fit of ``hm.tl.diablo`` under ``key``.
    key
        Result key of the fit.
    components
        Features selected on any of these components (default: all components).
    method, metric
        Linkage method and distance metric (:func:`scipy.cluster.hierarchy.linkage`).

    Returns
    -------
    :class:`DiabloClustered` ``(matrix, feature_linkage, sample_linkage, labels)``.
    """
    from scipy.cluster import hierarchy

    info = diablo_fit(mdata, key)
    blocks = _blocks(info)
    table = diablo_selected(mdata, key=key)
    n_components = info.get("n_components")
    if components is None:
        comps = sorted(table["component"].unique().tolist())
    else:
        comps = _component_list(components, n_components)
    chosen = _selected_on(table, comps, blocks)
    frames = {b: _block_data(mdata, b, chosen[b]) for b in blocks if chosen[b]}
    if not frames:
        raise MissingResultError(f"the DIABLO fit {key!r} selected no feature on component(s) {comps}")
    common = None
    for frame in frames.values():
        common = frame.index if common is None else common.intersection(frame.index, sort=False)
    if len(common) < 2:
        raise MissingResultError(f"fewer than 2 samples have every block {list(frames)}; nothing to cluster")
    parts = []
    for block, frame in frames.items():
        values = frame.loc[common]
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (values - values.mean()) / values.std(ddof=1)
        z.columns = pd.MultiIndex.from_product([[block], list(z.columns)], names=["block", "feature"])
        parts.append(z)
    z = pd.concat(parts, axis=1).T  # (block, feature) × samples
    filled = np.nan_to_num(z.to_numpy(float), nan=0.0)
    feature_linkage = hierarchy.linkage(filled, method=method, metric=metric) if len(z) > 1 else np.empty((0, 4))
    sample_linkage = hierarchy.linkage(filled.T, method=method, metric=metric)
    row_order = hierarchy.leaves_list(feature_linkage) if len(z) > 1 else np.array([0])
    col_order = hierarchy.leaves_list(sample_linkage)
    matrix = z.iloc[row_order, col_order]
    labels = _labels(mdata, info).reindex(matrix.columns)
    return DiabloClustered(matrix, feature_linkage, sample_linkage, labels)
