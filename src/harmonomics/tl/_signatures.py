"""Factor signatures (top-weighted features per factor and view) and per-sample signature scores.

Also the gene sets shipped with the package (:func:`builtin_gene_sets`). The fit is read through
``harmonomics._results``.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import FormatError, GeneMappingError
from .._genes import alias_table, strip_ensembl_version, symbols_for
from .._results import factor_names, fit_views, select, view_weights

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData
    from mudata import MuData

logger = logging.getLogger(__name__)

SIDES = ("positive", "negative")

# ---------------------------------------------------------------------------------------------
# Factor signatures
# ---------------------------------------------------------------------------------------------


def signature_table(
    mdata: MuData,
    *,
    key: str = _keys.KEY_MOFA,
    n_top: int = 50,
    views: Iterable[str] | str | None = None,
    factors: Iterable[str] | str | None = None,
) -> pd.DataFrame:
    """The table of :func:`factor_signatures`, computed without writing it to the store (the exports use it).

    Parameters
    ----------
    mdata
        Store holding a factor model under ``key``.
    key
        Key of the factor model.
    n_top
        Number of features per factor, view and side.
    views
        Views to use (default: every view of the fit).
    factors
        Factors to use, by name (default: all).

    Returns
    -------
    The tidy table described in :func:`factor_signatures`; the store is left as it was.
    """
    if not isinstance(n_top, (int, np.integer)) or isinstance(n_top, bool) or n_top < 1:
        raise ValueError(f"n_top must be a positive integer; got {n_top!r}")
    names = factor_names(mdata, key)
    views = select(views, fit_views(mdata, key), "view(s)")
    factors = select(factors, names, "factor(s)")
    rows = []
    for view in views:
        weights = view_weights(mdata, key, view)
        adata = mdata.mod[view]
        symbols = symbols_for(adata.var_names.astype(str), adata.var)
        symbols = pd.Series(symbols.to_numpy(), index=weights.index)
        for factor in factors:
            w = weights[factor].dropna()
            if w.empty:
                continue
            scale = float(np.abs(w).max()) or 1.0
            for side in SIDES:
                part = w[w > 0] if side == "positive" else w[w < 0]
                # stable order: by |weight|, ties by feature ID
                order = pd.DataFrame({"abs": -np.abs(part.to_numpy()), "id": part.index.to_numpy()}).sort_values(
                    ["abs", "id"], kind="mergesort"
                )
                top = part.iloc[order.index.to_numpy()[:n_top]]
                for rank, (feature, weight) in enumerate(top.items(), start=1):
                    symbol = symbols.get(feature)
                    rows.append(
                        {
                            "factor": factor,
                            "view": view,
                            "side": side,
                            "rank": rank,
                            "feature": feature,
                            "symbol": symbol if isinstance(symbol, str) else feature,
                            "weight": float(weight),
                            "weight_scaled": float(weight) / scale,
                        }
                    )
    columns = ["factor", "view", "side", "rank", "feature", "symbol", "weight", "weight_scaled"]
    table = pd.DataFrame(rows, columns=columns)
    table["rank"] = table["rank"].astype(int)
    return table


def factor_signatures(
    mdata: MuData,
    *,
    key: str = _keys.KEY_MOFA,
    n_top: int = 50,
    views: Iterable[str] | str | None = None,
    factors: Iterable[str] | str | None = None,
    key_added: str | None = None,
) -> pd.DataFrame:
    """Top features of each factor in each view, the positive and negative sides apart.

    Parameters
    ----------
    mdata
        Store holding a factor model under ``key`` (``obsm[key]``, ``mod[view].varm[key]``, ``uns[key]``).
    key
        Key of the factor model.
    n_top
        Number of features per factor, view and side (fewer when a side has fewer non-zero weights).
    views
        Views to use (default: every view of the fit).
    factors
        Factors to use, by name (default: all).
    key_added
        Where the table is written in ``mdata.uns`` (default ``f"{key}_signatures"``).

    Returns
    -------
    Tidy table, one row per factor x view x side x rank, with columns ``factor``, ``view``,
    ``side`` (``"positive"``/``"negative"``), ``rank`` (1 = largest absolute weight),
    ``feature`` (the feature ID), ``symbol`` (gene symbol where known, else the feature ID),
    ``weight`` and ``weight_scaled`` (weight divided by the largest absolute weight of that
    factor in that view, so views are comparable).

    Writes ``mdata.uns[key_added]``: the same table.

    Raises
    ------
    MissingResultError
        No factor model under ``key``.
    KeyError
        An unknown view or factor was asked for.
    """
    table = signature_table(mdata, key=key, n_top=n_top, views=views, factors=factors)
    mdata.uns[key_added or f"{key}_signatures"] = table
    logger.info("factor signatures: %d rows for key %r (n_top=%d)", len(table), key, n_top)
    return table


# ---------------------------------------------------------------------------------------------
# Gene sets: builtin, GMT, tables
# ---------------------------------------------------------------------------------------------

_PAM50_LABELS = {
    "luminal_a": "LumA",
    "luminal_b": "LumB",
    "her2": "Her2",
    "basal": "Basal",
    "normal": "Normal",
}
PAM50_UP_THRESHOLD = 0.3


def _clean_name(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.+-]+", "_", str(name).strip()).strip("_")


@lru_cache(maxsize=1)
def _builtin_gene_sets() -> tuple[tuple[str, tuple[str, ...], str], ...]:
    from .. import data

    sets: list[tuple[str, list[str], str]] = []
    annot = pd.read_csv(data.path("pam50", "pam50_annot.tsv"), sep="\t", dtype={"gene_name": str})
    sets.append(
        (
            "PAM50_proliferation",
            annot.loc[annot["proliferative"] == 1, "gene_name"].tolist(),
            "PAM50 proliferation genes (Parker 2009)",
        )
    )
    centroids = pd.read_csv(data.path("pam50", "pam50_centroids.tsv"), sep="\t", index_col=0)
    for column, label in _PAM50_LABELS.items():
        genes = centroids.index[centroids[column] > PAM50_UP_THRESHOLD].tolist()
        sets.append(
            (
                f"PAM50_{label}_up",
                genes,
                f"PAM50 genes with {label} centroid > {PAM50_UP_THRESHOLD} (Parker 2009)",
            )
        )
    estimate = pd.read_csv(data.path("signatures", "estimate_SI_geneset_yoshihara2013.tsv"), sep="\t", dtype=str)
    for signature, label in (("StromalSignature", "stromal"), ("ImmuneSignature", "immune")):
        genes = estimate.loc[estimate["signature"] == signature, "gene_hgnc_tidyestimate"].tolist()
        sets.append((f"ESTIMATE_{label}", genes, f"ESTIMATE {label} signature (Yoshihara 2013)"))
    tis = pd.read_csv(
        data.path("signatures", "tis_tcell_inflamed_gep_ayers2017_cristescu2018.tsv"),
        sep="\t",
        dtype={"gene": str},
    )
    sets.append(
        (
            "TIS_GEP18",
            tis.loc[tis["role"] == "signature", "gene"].tolist(),
            "T-cell-inflamed GEP, 18 genes (Ayers 2017)",
        )
    )
    other = pd.read_csv(data.path("signatures", "other_immune_gene_sets.tsv"), sep="\t", dtype=str)
    for signature, frame in other.groupby("signature", sort=False):
        sets.append((_clean_name(signature), frame["gene"].tolist(), f"{signature} (see harmonomics data PROVENANCE)"))
    danaher = pd.read_csv(data.path("signatures", "danaher2017_immune_cell_markers.tsv"), sep="\t", dtype=str)
    for cell_type, frame in danaher.groupby("cell_type", sort=False):
        sets.append(
            (
                f"Danaher_{_clean_name(cell_type)}",
                frame["current_hgnc"].tolist(),
                f"Danaher 2017 {cell_type} markers",
            )
        )
    mcp = pd.read_csv(data.path("signatures", "mcpcounter_genes.txt"), sep="\t", dtype=str)
    for population, frame in mcp.groupby("Cell population", sort=False):
        sets.append(
            (
                f"MCPcounter_{_clean_name(population)}",
                frame["HUGO symbols"].tolist(),
                f"MCP-counter {population} (Becht 2016)",
            )
        )
    return tuple(
        (name, tuple(dict.fromkeys(g for g in genes if isinstance(g, str) and g)), desc) for name, genes, desc in sets
    )


def builtin_gene_sets(*, with_descriptions: bool = False):
    """The gene sets shipped with harmonomics, by name.

    PAM50 (``PAM50_proliferation``: the 11 proliferation genes; ``PAM50_<subtype>_up``: PAM50
    genes whose centroid for that subtype exceeds 0.3), ESTIMATE stromal and immune
    (``ESTIMATE_stromal``, ``ESTIMATE_immune``), the 18-gene T-cell-inflamed GEP (``TIS_GEP18``),
    cytolytic activity (``CYT_rooney2015``), IFN-γ and expanded-immune signatures, immune
    checkpoints, Danaher 2017 cell-type markers (``Danaher_<cell type>``) and MCP-counter
    populations (``MCPcounter_<population>``). Sources: ``harmonomics/data/PROVENANCE.md``.

    Parameters
    ----------
    with_descriptions
        Also return ``{name: description}``.

    Returns
    -------
    ``{name: [gene symbols]}`` (and the descriptions when asked).
    """
    sets = {name: list(genes) for name, genes, _ in _builtin_gene_sets()}
    if with_descriptions:
        return sets, {name: desc for name, _, desc in _builtin_gene_sets()}
    return sets


_SET_COLUMNS = ("set", "gene_set", "signature", "term", "name")
_GENE_COLUMNS = ("gene", "symbol", "gene_symbol", "feature", "genes")


def _read_set_table(path: Path) -> pd.DataFrame:
    sep = "," if path.suffix.lower() == ".csv" else "\t"
    try:
        return pd.read_csv(path, sep=sep, dtype=str, comment=None)
    except pd.errors.ParserError as err:
        raise FormatError(f"cannot parse gene-set table: {err}", path=path) from err


def gene_set_table(gene_sets: Any) -> pd.DataFrame:
    """Normalise any accepted gene-set input to a tidy table.

    Parameters
    ----------
    gene_sets
        ``"builtin"``; a path to a ``.gmt`` file or to a TSV/CSV table with a set column
        (``set``/``gene_set``/``signature``/``term``) and a gene column (``gene``/``symbol``/``feature``)
        and optionally ``weight``; a ``{name: genes}`` mapping; such a DataFrame; or a table from
        :func:`factor_signatures`.

    Returns
    -------
    Columns ``set``, ``gene`` (symbol or feature ID), ``feature`` (feature ID when known, else None),
    ``weight`` (1.0 when not given), ``view`` (None unless the sets come from a factor model).
    """
    from .._gmt import read_gmt

    if isinstance(gene_sets, (str, os.PathLike)):
        if isinstance(gene_sets, str) and gene_sets == "builtin":
            gene_sets = builtin_gene_sets()
        else:
            path = Path(gene_sets)
            if not path.exists():
                raise FileNotFoundError(
                    f"gene-set file {str(path)!r} does not exist (give 'builtin', a .gmt file or a table)"
                )
            gene_sets = read_gmt(path) if path.suffix.lower() == ".gmt" else _read_set_table(path)
    if isinstance(gene_sets, pd.DataFrame):
        frame = gene_sets
        if {"factor", "view", "side", "feature", "weight"}.issubset(frame.columns):
            side = frame["side"].map({"positive": "up", "negative": "down"})
            if side.isna().any():
                raise ValueError("a factor-signature table's 'side' must be 'positive' or 'negative'")
            symbol = frame["symbol"] if "symbol" in frame.columns else frame["feature"]
            return pd.DataFrame(
                {
                    "set": (frame["factor"].astype(str) + "_" + frame["view"].astype(str) + "_" + side).to_numpy(),
                    "gene": symbol.astype(str).to_numpy(),
                    "feature": frame["feature"].astype(str).to_numpy(),
                    "weight": frame["weight"].astype(float).to_numpy(),
                    "view": frame["view"].astype(str).to_numpy(),
                    "base": (frame["factor"].astype(str) + "_" + frame["view"].astype(str)).to_numpy(),
                }
            )
        set_col = next((c for c in _SET_COLUMNS if c in frame.columns), None)
        gene_col = next((c for c in _GENE_COLUMNS if c in frame.columns), None)
        if set_col is None or gene_col is None:
            raise ValueError(
                f"a gene-set table needs a set column (one of {_SET_COLUMNS}) and a gene column "
                f"(one of {_GENE_COLUMNS}); "
                f"it has {list(frame.columns)}"
            )
        frame = frame.dropna(subset=[set_col, gene_col])
        weight = pd.to_numeric(frame["weight"], errors="raise").to_numpy(float) if "weight" in frame.columns else 1.0
        return pd.DataFrame(
            {
                "set": frame[set_col].astype(str).to_numpy(),
                "gene": frame[gene_col].astype(str).to_numpy(),
                "feature": None,
                "weight": weight,
                "view": frame["view"].astype(str).to_numpy() if "view" in frame.columns else None,
                "base": None,
            }
        )
    if isinstance(gene_sets, Mapping):
        rows = []
        for name, genes in gene_sets.items():
            if isinstance(genes, str):
                raise TypeError(f"gene set {name!r} must be a list of genes, not the string {genes!r}")
            rows.extend((str(name), str(g)) for g in genes if g is not None and str(g) != "")
        if not rows:
            raise ValueError("the gene-set mapping holds no genes")
        frame = pd.DataFrame(rows, columns=["set", "gene"])
        frame["feature"] = None
        frame["weight"] = 1.0
        frame["view"] = None
        frame["base"] = None
        return frame
    raise TypeError(
        f"gene sets must be 'builtin', a .gmt/.tsv path, a mapping or a DataFrame; got {type(gene_sets).__name__}"
    )


def gene_sets_dict(gene_sets: Any) -> dict[str, list[str]]:
    """``{set name: [genes]}`` from any input :func:`gene_set_table` accepts."""
    table = gene_set_table(gene_sets)
    return {name: list(dict.fromkeys(frame["gene"])) for name, frame in table.groupby("set", sort=False)}


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------


class _FeatureIndex:
    """Finds signature genes among one cohort's features: exact ID, unversioned Ensembl ID, then gene symbol."""

    def __init__(self, adata: AnnData) -> None:
        var_names = pd.Index(adata.var_names.astype(str))
        self.exact = set(var_names)
        self.unversioned = dict(zip(strip_ensembl_version(var_names), var_names, strict=True))
        symbols = symbols_for(var_names, adata.var)
        self.by_symbol: dict[str, str] = {}
        for feature, symbol in zip(var_names, symbols.to_numpy(), strict=True):
            if isinstance(symbol, str) and symbol not in self.by_symbol:
                self.by_symbol[symbol] = feature
        self._aliases = alias_table()

    def find(self, feature: str | None, symbol: str | None) -> str | None:
        if isinstance(feature, str):
            if feature in self.exact:
                return feature
            hit = self.unversioned.get(strip_ensembl_version([feature])[0])
            if hit is not None:
                return hit
        if isinstance(symbol, str):
            if symbol in self.exact:
                return symbol
            return self.by_symbol.get(self._aliases.get(symbol, symbol))
        return None


def _zscores(adata: AnnData, features: list[str], layer: str | None) -> pd.DataFrame:
    sub = adata[:, features]
    matrix = sub.layers[layer] if layer is not None else sub.X
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    values = np.asarray(matrix, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() >= 0 and finite.max() > 1000 and np.allclose(finite, np.round(finite)):
        logger.warning(
            "signature scoring: the data look like raw counts (non-negative integers up to %.0f); "
            "scores are meant for log-scale expression",
            finite.max(),
        )
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # features or samples without any value
        mean = np.nanmean(values, axis=0)
        sd = np.nanstd(values, axis=0)
        z = (values - mean) / sd
    z[:, ~(sd > 0)] = np.nan  # constant features carry no information
    return pd.DataFrame(z, index=pd.Index(sub.obs_names.astype(str)), columns=features)


def score_signatures(
    mdata: MuData | AnnData,
    signatures: Any,
    *,
    mod: str | None = None,
    layer: str | None = None,
    method: str = "mean_z",
    min_genes: int = 2,
    key_added: str = "signature_scores",
    copy: bool = False,
) -> MuData | AnnData | None:
    """Score every sample of a cohort with gene signatures.

    Each feature is z-scored across the cohort's samples; a signature's score is the mean z of its
    features (``method="mean_z"``) or their weight-weighted mean ``sum(w z) / sum(|w|)``
    (``method="weighted"``). Factor signatures (from :func:`factor_signatures`) give, per factor
    and view, an ``_up`` score (positive side), a ``_down`` score (negative side) and a net score
    named ``<factor>_<view>``: ``up - down`` for ``mean_z``, the signed weighted mean for ``weighted``.

    Parameters
    ----------
    mdata
        The cohort: a MuData store or a single AnnData (log-scale expression expected).
    signatures
        A table from :func:`factor_signatures`, ``"builtin"``, a GMT file, a gene-set table
        (TSV/CSV/DataFrame with set and gene columns, optional ``weight``) or ``{name: genes}``.
    mod
        Modality scored for gene sets without a view (default ``"rna"``). Factor signatures are
        scored in the modality of their view.
    layer
        Layer to use instead of ``X``.
    method
        ``"mean_z"`` or ``"weighted"``.
    min_genes
        Signatures with fewer matched features get NaN scores (and a log message).
    key_added
        Name of the results.
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None`` (or the modified copy with ``copy=True``). Writes

    - ``obsm[key_added]``: DataFrame samples x signatures (NaN for samples absent from the modality);
    - ``uns[key_added]``: DataFrame with one row per signature: ``signature``, ``mod``, ``n_genes``,
      ``n_found``, ``method``.

    Raises
    ------
    GeneMappingError
        No signature has ``min_genes`` features in the cohort.
    """
    if method not in ("mean_z", "weighted"):
        raise ValueError(f"method must be 'mean_z' or 'weighted'; got {method!r}")
    if not isinstance(min_genes, (int, np.integer)) or min_genes < 1:
        raise ValueError(f"min_genes must be a positive integer; got {min_genes!r}")
    table = gene_set_table(signatures)
    if table.empty:
        raise ValueError("no signature to score")
    target = mdata.copy() if copy else mdata
    is_mudata = hasattr(target, "mod")
    obs_names = pd.Index(target.obs_names.astype(str))

    def modality_for(view: Any) -> str | None:
        if not is_mudata:
            return None
        if isinstance(view, str) and view in target.mod:
            return view
        chosen = mod if mod is not None else ("rna" if "rna" in target.mod else None)
        if chosen is None or chosen not in target.mod:
            raise KeyError(f"modality {chosen!r} not in the store; modalities: {list(target.mod)} (pass mod=...)")
        return chosen

    if is_mudata:
        absent = sorted({v for v in table["view"] if isinstance(v, str) and v not in target.mod})
        if absent:
            logger.warning("signatures of view(s) %s not scored: the cohort has no such modality", absent)
            table = table[~table["view"].isin(absent)]
            if table.empty:
                raise GeneMappingError(
                    f"every signature belongs to view(s) {absent} that the cohort lacks; modalities: {list(target.mod)}"
                )
    table = table.assign(_mod=[modality_for(v) for v in table["view"]])
    indexes: dict[str | None, _FeatureIndex] = {}

    def index_for(modality: str | None) -> _FeatureIndex:
        if modality not in indexes:
            indexes[modality] = _FeatureIndex(target.mod[modality] if modality is not None else target)
        return indexes[modality]

    scores: dict[str, pd.Series] = {}
    coverage = []
    too_few: list[str] = []
    nets: dict[str, tuple[str | None, str | None]] = {}
    for (set_name, modality), frame in table.groupby(["set", "_mod"], sort=False, dropna=False):
        modality = None if (modality is None or (isinstance(modality, float) and np.isnan(modality))) else modality
        adata = target.mod[modality] if modality is not None else target
        finder = index_for(modality)
        hits = _matched(finder, frame)
        n_found = len(hits)
        coverage.append(
            {
                "signature": set_name,
                "mod": modality or "",
                "n_genes": int(frame["gene"].nunique()),
                "n_found": n_found,
                "method": method,
            }
        )
        base = frame["base"].iloc[0]
        if isinstance(base, str):
            up, down = nets.get(base, (None, None))
            nets[base] = (set_name, down) if set_name.endswith("_up") else (up, set_name)
        if n_found < min_genes:
            too_few.append(f"{set_name} ({n_found}/{frame['gene'].nunique()})")
            scores[set_name] = pd.Series(np.nan, index=obs_names)
            continue
        scores[set_name] = _set_score(adata, hits, layer, method, obs_names)
    if too_few:
        logger.warning(
            "%d signature(s) have fewer than min_genes=%d genes in the cohort; their scores are NaN: %s%s",
            len(too_few),
            min_genes,
            ", ".join(too_few[:10]),
            " ..." if len(too_few) > 10 else "",
        )
    if all(s.isna().all() for s in scores.values()):
        raise GeneMappingError(
            f"no signature has at least {min_genes} of its genes in the cohort; coverage: "
            + ", ".join(f"{c['signature']}: {c['n_found']}/{c['n_genes']}" for c in coverage[:10])
        )
    # net scores of factor signatures
    for base, (up, down) in nets.items():
        if method == "mean_z":
            if up is not None and down is not None:
                scores[base] = scores[up] - scores[down]
            elif up is not None:
                scores[base] = scores[up]
            elif down is not None:
                scores[base] = -scores[down]
        else:
            sub = table[table["base"] == base]
            modality = sub["_mod"].iloc[0] if is_mudata else None
            adata = target.mod[modality] if is_mudata else target
            hits = _matched(index_for(modality), sub)
            if len(hits) < min_genes:
                scores[base] = pd.Series(np.nan, index=obs_names)
                continue
            scores[base] = _set_score(adata, hits, layer, "weighted", obs_names)
    result = pd.DataFrame(scores, index=obs_names)
    result.index = target.obs_names
    target.obsm[key_added] = result
    target.uns[key_added] = pd.DataFrame(coverage, columns=["signature", "mod", "n_genes", "n_found", "method"])
    logger.info("scored %d signatures into obsm[%r]", result.shape[1], key_added)
    return target if copy else None


def _matched(finder: _FeatureIndex, frame: pd.DataFrame) -> dict[str, float]:
    """``{matched feature: weight}`` of one signature's rows, the first weight of a feature matched twice."""
    hits: dict[str, float] = {}
    for feature, gene, weight in zip(frame["feature"], frame["gene"], frame["weight"], strict=True):
        hit = finder.find(feature, gene)
        if hit is not None and hit not in hits:
            hits[hit] = float(weight)
    return hits


def _set_score(adata: Any, hits: dict[str, float], layer: str | None, method: str, obs_names: pd.Index) -> pd.Series:
    """One signature's score per sample: the mean z-score of its features, or (``"weighted"``) their weighted mean
    over the features measured in the sample; NaN where none is."""
    frame = _zscores(adata, list(hits), layer)
    z = frame.to_numpy()
    weights = np.array(list(hits.values()))
    present = np.isfinite(z)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "mean_z":
            values = np.nansum(z, axis=1) / present.sum(axis=1)
        else:
            denominator = (present * np.abs(weights)).sum(axis=1)
            values = np.where(denominator > 0, np.nansum(z * weights, axis=1) / denominator, np.nan)
    return pd.Series(values, index=frame.index).reindex(obs_names)
