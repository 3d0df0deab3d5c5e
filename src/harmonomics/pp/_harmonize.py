"""Harmonization: the `harmonize` pipeline on a store (sample policy, feature IDs, transforms, selection).

The sample policy itself (aliquot choice, sample types) lives in :mod:`harmonomics.samples`, below ``io``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._compat import mudata_options
from ..samples import report_row as _row
from ..samples import resolve_sample_types
from ..store import replace_modalities, store_to_modify


def _nothing_left(mdata, codes, sample_types) -> None:
    """Raise :class:`InsufficientDataError` saying which rule removed every sample and what to pass instead."""
    from .._errors import InsufficientDataError

    if codes is not None and "sample_type_code" in mdata.obs:
        present = mdata.obs["sample_type_code"].dropna().astype(str)
        if not present.isin(codes).any():
            raise InsufficientDataError(
                f"sample_types={sample_types!r} keeps none of the {mdata.n_obs} samples, whose types are "
                f"{', '.join(sorted(present.unique()))}; choose among those or keep the reader's choice "
                "(sample_types=None)"
            )
    raise InsufficientDataError(
        f"join='intersection' keeps none of the {mdata.n_obs} samples: no sample has every omic "
        f"({', '.join(mdata.mod)}); use join='union' (the default) or harmonize a store of fewer omics"
    )


def _apply_sample_policy(mdata, *, sample_types, join: str | None):
    """Drop samples of unwanted types / not in every omic from an existing store; return report rows."""
    rows: list[dict] = []
    codes = resolve_sample_types(sample_types) if sample_types is not None else None
    keep = pd.Series(True, index=mdata.obs_names)
    if codes is not None and "sample_type_code" in mdata.obs:
        st = mdata.obs["sample_type_code"]
        bad = st.notna() & ~st.astype(str).isin(codes)
        for s in mdata.obs_names[bad.to_numpy()]:
            rows.append(
                _row(
                    "sample",
                    s,
                    "",
                    s,
                    "dropped",
                    f"sample type {mdata.obs.at[s, 'sample_type_code']} is not among the kept types {', '.join(codes)}",
                )
            )
        keep &= ~bad
    if join == "intersection":
        present = pd.DataFrame(
            {m: mdata.obs_names.isin(a.obs_names) for m, a in mdata.mod.items()}, index=mdata.obs_names
        )
        missing = ~present.all(axis=1) & keep
        for s in mdata.obs_names[missing.to_numpy()]:
            lacks = [m for m in mdata.mod if not present.at[s, m]]
            rows.append(
                _row("sample", s, ",".join(lacks), s, "dropped", f"join='intersection': lacks {', '.join(lacks)}")
            )
        keep &= ~missing
    elif join not in (None, "union"):
        raise ValueError(f"join must be 'union' or 'intersection', got {join!r}")
    if len(keep) and not keep.any():
        _nothing_left(mdata, codes, sample_types)
    if not keep.all():
        kept = set(mdata.obs_names[keep.to_numpy()])
        for m, a in list(mdata.mod.items()):
            mask = a.obs_names.isin(list(kept))
            if not mask.all():
                with mudata_options():
                    mdata.mod[m] = a[mask].copy()

        with mudata_options():
            mdata.update()
    return rows


PAR_Y_SUFFIX = "_PAR_Y"
_EXAMPLES = 5


def _drop_empty_par_y(mdata) -> list[dict]:
    """Drop the GENCODE ``_PAR_Y`` features that are zero (or missing) in every sample; return report rows.

    GENCODE gives each gene of the pseudo-autosomal regions a second ID for its Y-chromosome copy
    (``ENSG00000002586.20_PAR_Y``). References that mask that copy (GDC's GRCh38.d1.vd1 does) count every read
    on the X copy, so the ``_PAR_Y`` row is all zero, and in a female cohort there is no Y copy at all. Such rows
    carry nothing and a constant feature only gets in the way of a model. ``_PAR_Y`` rows with any count are
    kept (as their own features).
    """
    from ._outofcore import _is_dask

    replaced, rows = {}, []
    for name, adata in mdata.mod.items():
        par = np.flatnonzero(pd.Index(adata.var_names).astype(str).str.endswith(PAR_Y_SUFFIX))
        if not len(par):
            continue
        x = adata.X[:, par]
        if _is_dask(x):
            x = x.compute()
        x = x.toarray() if hasattr(x, "toarray") else np.asarray(x, dtype=np.float64)
        empty = par[np.all((x == 0) | np.isnan(x), axis=0)]
        if not len(empty):
            continue
        keep = np.ones(adata.n_vars, dtype=bool)
        keep[empty] = False
        replaced[name] = adata[:, keep].copy()
        ids = [str(i) for i in adata.var_names[empty]]
        examples = ", ".join(ids[:_EXAMPLES]) + (", ..." if len(ids) > _EXAMPLES else "")
        rows.append(
            _row(
                "feature",
                f"{len(ids)} features",
                name,
                "",
                "dropped",
                f"{PAR_Y_SUFFIX} copy of a pseudo-autosomal gene with no count in any of the "
                f"{adata.n_obs} samples (e.g. {examples}): its reads are counted on the X-chromosome "
                "copy, which is kept",
            )
        )
    if replaced:
        replace_modalities(mdata, replaced)
    return rows


def harmonize(
    mdata,
    *,
    sample_types: str | tuple[str, ...] | None = None,
    join: str | None = None,
    feature_ids: str | None = "ensembl",
    rna: str | None = "log2cpm",
    meth: str = "beta",
    cnv: str | None = "log2ratio",
    n_top: int | dict[str, int] | None = None,
    balance: bool = False,
    drop_empty_par_y: bool = True,
    copy: bool = False,
):
    """Harmonize a store read by a reader: samples, feature IDs, per-omic transforms, feature selection.

    Parameters
    ----------
    mdata
        A store from one of the ``hm.io`` readers (they already chose one aliquot per sample).
    sample_types
        Apply a (stricter) sample-type policy: ``"primary"``, ``"tumor"``, ``"tumor_normal"``, ``"all"`` or codes.
        ``None`` keeps the reader's choice.
    join
        ``"intersection"`` keeps only samples present in every omic; ``"union"``/``None`` keeps all.
    feature_ids
        ``"ensembl"`` (default), ``"symbol"`` or ``None``: see :func:`harmonize_feature_ids`.
    rna
        RNA/miRNA transform: ``"log2cpm"`` (raw counts → log2 CPM + 1), ``"log2tpm"`` (GDC TPM → log2 TPM + 1)
        or ``None``. Values that are already normalised (RSEM) get log2(x + 1); log-scale values are left alone.
    meth
        ``"beta"`` (keep betas) or ``"m"`` (M-values; betas kept in ``layers["beta"]``).
    cnv
        ``"log2ratio"``, ``"gistic"`` or ``None`` for integer copy numbers (relative values are left alone).
    n_top, balance
        Feature selection (:func:`select_features`, marking only); ``None`` skips it.
    drop_empty_par_y
        Drop the GENCODE ``_PAR_Y`` features (Y copies of pseudo-autosomal genes) that are zero in every kept
        sample, as they are in GDC STAR files and in any female cohort; one report row per omic. ``_PAR_Y``
        features with counts are kept.
    copy
        Return a modified copy.

    Returns
    -------
    ``None`` (or the copy). Modifies the modalities as the steps say, appends report rows and records the
    parameters in ``uns["harmonomics"]["harmonize"]``.

    Raises
    ------
    InsufficientDataError
        ``sample_types`` or ``join`` would keep no sample (the store is left unchanged); the message names the
        sample types the store has.
    """
    from .. import _keys
    from ..store import add_report_rows
    from ._feature_ids import harmonize_feature_ids
    from ._features import select_features
    from ._transforms import beta_to_m, normalize_rna, transform_cnv

    if meth not in ("beta", "m"):
        raise ValueError(f"meth must be 'beta' or 'm', got {meth!r}")
    mdata = store_to_modify(mdata, copy)
    rows = _apply_sample_policy(mdata, sample_types=sample_types, join=join)
    if drop_empty_par_y:
        rows += _drop_empty_par_y(mdata)
    if rows:
        add_report_rows(mdata, rows)
    if feature_ids is not None:
        harmonize_feature_ids(mdata, to=feature_ids)
    steps = {}
    for m in (_keys.RNA, _keys.MIRNA):
        if m in mdata.mod and rna is not None:
            a = mdata.mod[m]
            scale = str(a.uns.get("scale", ""))
            if scale == "counts":
                normalize_rna(mdata, mod=m, method=rna if m == _keys.RNA or rna != "log2tpm" else "log2cpm")
            elif scale == "linear":
                normalize_rna(mdata, mod=m, method="log2", layer="raw")
            steps[m] = str(dict(a.uns.get("transform", {"method": "none"})).get("method"))
    if _keys.METH in mdata.mod and meth == "m":
        beta_to_m(mdata)
        steps[_keys.METH] = "m_value"
    if _keys.CNV in mdata.mod and cnv is not None and str(mdata.mod[_keys.CNV].uns.get("scale", "")) == "copy_number":
        transform_cnv(mdata, method=cnv)
        steps[_keys.CNV] = cnv
    if n_top is not None:
        select_features(mdata, n_top=n_top, balance=balance)
    prov = mdata.uns.get(_keys.UNS_PROVENANCE, {})
    prov["harmonize"] = {
        "sample_types": "reader"
        if sample_types is None
        else (sample_types if isinstance(sample_types, str) else list(sample_types)),
        "join": join or "union",
        "feature_ids": feature_ids or "none",
        "transforms": steps,
        "n_top": n_top if n_top is not None else "none",
        "balance": bool(balance),
        "drop_empty_par_y": bool(drop_empty_par_y),
    }
    mdata.uns[_keys.UNS_PROVENANCE] = prov
    return mdata if copy else None
