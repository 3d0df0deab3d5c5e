"""Feature IDs: strip Ensembl versions, map symbols to Ensembl IDs from the files themselves, legacy aliases,
and aggregation of duplicate features by a documented rule."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .._genes import alias_table, known_ensembl_to_symbol, parse_gene_ids
from ..store import replace_modalities, store_to_modify

if TYPE_CHECKING:  # pragma: no cover
    import anndata as ad
    import mudata as md

logger = logging.getLogger(__name__)

GENE_MODALITIES = (_keys.RNA, _keys.CNV, _keys.MUT)

AGGREGATION_RULES = {
    "counts": "sum",  # raw counts of one gene split over rows add up
    "binary": "max",  # mutated if any row is mutated
    "continuous": "mean",  # NaN-aware mean of the rows
}
"""How duplicate features are combined, by the kind of values (see :func:`harmonize_feature_ids`)."""


def _symbol_columns(var: pd.DataFrame) -> pd.Series | None:
    for c in ("gene_name", "symbol", "gene_symbol", "Hugo_Symbol"):
        if c in var.columns:
            return var[c]
    return None


def symbol_to_ensembl_map(mdata: md.MuData) -> dict[str, str]:
    """Symbol → unversioned Ensembl ID learnt from the store's own files (var tables that have both), then the
    package's shipped table. Symbols that map to several IDs are left out (ambiguous). Empty when no file of the
    store links symbols to Ensembl IDs (then symbols stay symbols)."""
    pairs: list[tuple[str, str]] = []
    for a in mdata.mod.values():
        parsed = parse_gene_ids(a.var_names)
        syms = _symbol_columns(a.var)
        ens = parsed["ensembl"].to_numpy()
        if "gene_id" in a.var.columns:
            alt = parse_gene_ids(a.var["gene_id"].astype(str))["ensembl"].to_numpy()
            ens = np.where(pd.isna(ens), alt, ens)
        if syms is None:
            continue
        for s, e, py in zip(syms.to_numpy(), ens, parsed["par_y"].to_numpy(), strict=True):
            if isinstance(s, str) and s and isinstance(e, str) and not py:
                pairs.append((s, e))
    if not pairs:
        # no file of the store links symbols to Ensembl IDs: converting a few genes with the shipped table would
        # mix two ID systems in one modality, so symbols stay symbols
        return {}
    for e, s in known_ensembl_to_symbol().items():
        pairs.append((s, e))
    table = pd.DataFrame(pairs, columns=["symbol", "ensembl"]).drop_duplicates()
    counts = table.groupby("symbol")["ensembl"].nunique()
    unique = table[table["symbol"].isin(counts.index[counts == 1])]
    return dict(zip(unique["symbol"], unique["ensembl"], strict=True))


def _kind(a: ad.AnnData, mod: str) -> str:
    scale = str(a.uns.get("scale", ""))
    if mod == _keys.MUT or scale == "binary":
        return "binary"
    if scale == "counts":
        return "counts"
    return "continuous"


def aggregate_duplicates(a: ad.AnnData, new_names: Sequence[str], *, kind: str) -> tuple[ad.AnnData, pd.DataFrame]:
    """Rename features and combine those that share a name by :data:`AGGREGATION_RULES` ``[kind]``.

    Returns the new AnnData and a table ``new, old`` of the merged features.
    """
    import anndata as ad
    import scipy.sparse as sp

    names = pd.Index(np.asarray(new_names, dtype=object).astype(str))
    codes, uniq = pd.factorize(names, sort=False)
    if len(uniq) == len(names):
        b = a.copy()
        b.var_names = names
        return b, pd.DataFrame(columns=["new", "old"])
    rule = AGGREGATION_RULES[kind]
    G = sp.csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), len(uniq)))

    def combine(X):
        X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
        finite = np.isfinite(X)
        n = np.asarray(finite.astype(np.float64) @ G)
        if rule == "max":
            return _group_max(X, codes, len(uniq))
        total = np.asarray(np.where(finite, X, 0.0) @ G)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, total, np.nan) if rule == "sum" else total / n

    X = combine(a.X)
    layers = {k: combine(v) for k, v in a.layers.items()}
    first = np.zeros(len(uniq), dtype=int)
    seen = set()
    for i, c in enumerate(codes):
        if c not in seen:
            first[c] = i
            seen.add(c)
    var = a.var.iloc[first].copy()
    var.index = pd.Index(uniq.astype(str))
    var["n_merged"] = np.bincount(codes, minlength=len(uniq))
    b = ad.AnnData(X=X, obs=a.obs.copy(), var=var, layers=layers or None, uns=dict(a.uns), obsm=dict(a.obsm))
    dup = pd.Index(uniq)[np.bincount(codes) > 1]
    merged = pd.DataFrame({"new": names, "old": a.var_names}).loc[names.isin(dup)]
    return b, merged


def _group_max(X: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """Column-group maximum (NaN-aware) with ``np.maximum.reduceat``; every code in ``0..n-1`` is present."""
    order = np.argsort(codes, kind="stable")
    Xf = np.where(np.isfinite(X), X, -np.inf)[:, order]
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
    out = np.maximum.reduceat(Xf, starts, axis=1) if X.shape[0] else np.zeros((0, n))
    out[np.isinf(out)] = np.nan
    return out


def harmonize_feature_ids(
    mdata: md.MuData,
    *,
    mods: Sequence[str] | None = None,
    to: str = "ensembl",
    aliases: bool = True,
    copy: bool = False,
) -> md.MuData | None:
    """Put gene features of every gene-level modality on one ID system and combine duplicates.

    Steps, per modality (rna, cnv, mut by default):

    1. Ensembl versions are stripped (``ENSG00000141510.18`` → ``ENSG00000141510``; ``_PAR_Y`` is kept, so the
       pseudo-autosomal copies stay apart). The versioned ID stays in ``var["gene_id_versioned"]``.
    2. Legacy symbols are renamed to current HGNC symbols (``ORC6L`` → ``ORC6``, ``KNTC2`` → ``NDC80``,
       ``CDCA1`` → ``NUF2`` and the aliases of the shipped signatures), recorded as ``renamed``.
    3. With ``to="ensembl"`` symbols (``TP53``, ``TP53|7157``) become Ensembl IDs using the store's own files
       (any var table with both an Ensembl ID and a symbol, e.g. GDC STAR or copy-number files) and the
       package's table; symbols without a unique Ensembl ID stay symbols, and a store whose files hold no
       Ensembl IDs at all (cBioPortal, Xena, Firehose) keeps its symbols. With ``to="symbol"``, Ensembl IDs
       become their symbol (``var["gene_name"]``); unnamed genes keep their ID.
    4. Features that end up with the same ID are combined by :data:`AGGREGATION_RULES`: raw counts are summed,
       0/1 mutations take the maximum, everything else the NaN-aware mean. Each merge is recorded.

    Parameters
    ----------
    mdata
        The store.
    mods
        Modalities to process (default rna, cnv, mut where present).
    to
        ``"ensembl"`` or ``"symbol"``.
    aliases
        Apply the legacy-symbol table.
    copy
        Return a modified copy.

    Returns
    -------
    ``None`` (or the copy). Replaces the modalities' ``var_names``; adds ``var["symbol"]``,
    ``var["gene_id_versioned"]`` and ``var["n_merged"]`` (when features were combined); appends ``feature``
    rows (``renamed`` / ``merged``) to ``uns["harmonomics_report"]``; records the rule in
    ``uns["harmonomics"]["feature_ids"]``.
    """
    from ..store import add_report_rows

    if to not in ("ensembl", "symbol"):
        raise ValueError(f"to must be 'ensembl' or 'symbol', got {to!r}")
    mdata = store_to_modify(mdata, copy)
    mods = [m for m in (mods or GENE_MODALITIES) if m in mdata.mod]
    sym2ens = symbol_to_ensembl_map(mdata) if to == "ensembl" else {}
    alias = alias_table() if aliases else {}
    rows: list[dict] = []
    replaced = {}
    for mod in mods:
        a = mdata.mod[mod]
        parsed = parse_gene_ids(a.var_names)
        syms = _symbol_columns(a.var)
        symbol = parsed["symbol"].to_numpy(dtype=object).copy()
        if syms is not None:
            col = syms.to_numpy(dtype=object)
            symbol = np.where(pd.notna(col) & (col != ""), col, symbol)
        if aliases:
            for i, s in enumerate(symbol):
                if isinstance(s, str) and s in alias:
                    rows.append(
                        {
                            "level": "feature",
                            "item": s,
                            "omic": mod,
                            "sample": "",
                            "action": "renamed",
                            "reason": f"legacy symbol {s} → current symbol {alias[s]}",
                        }
                    )
                    symbol[i] = alias[s]
        ens = parsed["ensembl"].to_numpy(dtype=object)
        par = parsed["par_y"].to_numpy()
        if to == "ensembl":
            new = []
            for vid, e, py, s in zip(a.var_names, ens, par, symbol, strict=True):
                if isinstance(e, str):
                    new.append(e + ("_PAR_Y" if py else ""))
                elif isinstance(s, str) and s in sym2ens:
                    new.append(sym2ens[s])
                elif isinstance(s, str) and "|" not in str(vid):
                    new.append(s)
                else:
                    new.append(str(vid))
        else:
            new = [s if isinstance(s, str) and s else str(v) for v, s in zip(a.var_names, symbol, strict=True)]
        kind = _kind(a, mod)
        versioned = np.asarray(a.var_names, dtype=object)
        b, merged = aggregate_duplicates(a, new, kind=kind)
        b.var["symbol"] = pd.Series(symbol, dtype=object).groupby(pd.Index(new)).first().reindex(b.var_names).to_numpy()
        if any(isinstance(e, str) for e in ens):
            b.var["gene_id_versioned"] = (
                pd.Series(versioned).groupby(pd.Index(new)).first().reindex(b.var_names).to_numpy()
            )
        for new_id, grp in merged.groupby("new", sort=False):
            rows.append(
                {
                    "level": "feature",
                    "item": new_id,
                    "omic": mod,
                    "sample": "",
                    "action": "merged",
                    "reason": f"{len(grp)} features ({', '.join(map(str, grp['old'][:5]))}) share this ID; combined "
                    f"by {AGGREGATION_RULES[kind]} ({kind} values)",
                }
            )
        replaced[mod] = b
    replace_modalities(mdata, replaced)
    if rows:
        add_report_rows(mdata, rows)
    prov = mdata.uns.get(_keys.UNS_PROVENANCE, {})
    prov["feature_ids"] = {
        "to": to,
        "aliases": bool(aliases),
        "mods": list(mods),
        "aggregation": dict(AGGREGATION_RULES),
    }
    mdata.uns[_keys.UNS_PROVENANCE] = prov
    return mdata if copy else None
