"""Harmonization: sample policy (aliquot choice, sample types, union/intersection) and the `harmonize` pipeline."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import barcodes as _bc
from .._compat import quiet_mudata

# Named policies for ``sample_types``.
SAMPLE_TYPE_POLICIES: dict[str, tuple[str, ...] | None] = {
    "primary": ("01",),
    "tumor": tuple(_bc.SAMPLE_TYPES.index[_bc.SAMPLE_TYPES["category"] == "tumor"]),
    "tumor_normal": ("01", "11"),
    "primary_and_normal": ("01", "10", "11", "12", "14"),
    "all": None,
}



def store_to_modify(mdata, copy: bool):
    """``mdata`` itself, or (with ``copy``) a copy of it made without mudata's shared-feature warnings."""
    if not copy:
        return mdata
    with quiet_mudata():
        return mdata.copy()


def replace_modalities(mdata, new: dict) -> None:
    """Put new AnnData objects (features renamed or subset) into ``mdata`` and refresh it in place.

    mudata cannot update a store whose features were renamed and filtered at once; the global ``var`` (which
    harmonomics does not use) and ``varmap``/``varm`` are rebuilt from the modalities instead.
    """
    for name, adata in new.items():
        mdata.mod[name] = adata
    mdata._var = mdata._var.iloc[0:0]
    for key in list(mdata.varmap.keys()):
        del mdata.varmap[key]
    for key in list(mdata.varm.keys()):
        del mdata.varm[key]
    with quiet_mudata():
        mdata.update()


def resolve_sample_types(sample_types: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """Turn a policy name (``"primary"``, ``"tumor"``, ``"tumor_normal"``, ``"all"``) or codes into codes.

    ``None`` and ``"all"`` keep every sample type. Codes may be two-digit (``"01"``) or letter codes (``"TP"``).
    """
    if sample_types is None:
        return None
    if isinstance(sample_types, str):
        if sample_types in SAMPLE_TYPE_POLICIES:
            return SAMPLE_TYPE_POLICIES[sample_types]
        sample_types = (sample_types,)
    codes = _bc._normalise_sample_types(tuple(sample_types))
    return tuple(sorted(codes)) if codes is not None else None


def looks_like_tcga(ids: Sequence[str]) -> bool:
    """Whether any of the IDs is a TCGA barcode (in any written form: dashes, dots, lower case)."""
    ids = [str(i) for i in ids]
    return bool(ids) and bool((_bc.sample_id_kinds(ids) == "tcga").any())


KEY_LEVELS = ("sample", "patient")
_KIND_NAMES = {"geo": "GEO sample", "metabric": "METABRIC", "other": "other"}


def choose_samples(
    ids: Sequence[str],
    *,
    omic: str,
    analyte_kind: str | None,
    sample_types: tuple[str, ...] | None,
    source_files: Sequence[str] | None = None,
    keep_all_aliquots: bool = False,
    key_level: str = "sample",
) -> tuple[np.ndarray, pd.Index, pd.DataFrame]:
    """Choose one row per sample (or per patient) among ``ids``: aliquot, portion, vial, sample, patient or other IDs.

    TCGA barcodes may be written with dots (R) or in lower case; they are read in the dashed upper-case form and
    the report gets one row per kind of change. IDs that are not TCGA barcodes (``MB-0001``, ``GSM123456``,
    free-form) are sample keys as they are, counted in the report; a malformed barcode (``TCGA-XX``) raises.

    Parameters
    ----------
    key_level
        ``"sample"``: one row per sample (15-character key). ``"patient"``: one row per patient (12-character key);
        of a patient's several samples the lowest sample-type code wins (01 before 06 before 11), then the aliquot
        rules (vial, analyte, barcode order), and the others are reported.

    Returns
    -------
    positions
        Integer positions in ``ids`` of the rows kept, one per key.
    keys
        The key of each kept row (TCGA sample or patient barcode, the ID itself otherwise).
    report
        Rows ``level, item, omic, sample, action, reason`` for every input ID.
    """
    from .._errors import FormatError

    if key_level not in KEY_LEVELS:
        raise ValueError(f"key_level must be one of {KEY_LEVELS}, got {key_level!r}")
    if keep_all_aliquots and key_level == "patient":
        raise ValueError("keep_all_aliquots=True keeps every aliquot apart; it cannot be combined with one row per patient")
    norm = _bc.normalize_barcodes([str(i) for i in ids])
    ids = list(norm["barcode"])
    files = list(source_files) if source_files is not None else [""] * len(ids)
    rows: list[dict] = []
    for change, group in norm[norm["change"] != ""].groupby("change", sort=True):
        examples = ", ".join(f"{a} → {b}" for a, b in zip(group["id"][:3], group["barcode"][:3], strict=True))
        rows.append(_row("sample", f"{len(group)} IDs", omic, "", "renamed",
                         f"{_bc.NORMALIZATIONS[change]}: {len(group)} ID(s), e.g. {examples}"))
    first_pos: dict[str, int] = {}
    for pos, ident in enumerate(ids):
        if ident in first_pos:
            rows.append(_row("aliquot", ident, omic, "", "dropped",
                             f"the same aliquot is also in {files[first_pos[ident]] or 'another column'}; "
                             f"kept that one, dropped {files[pos] or 'this copy'}"))
        else:
            first_pos[ident] = pos
    unique = list(first_pos)
    if not unique:
        return np.zeros(0, dtype=int), pd.Index([], dtype=object), _frame(rows)

    kinds = _bc.sample_id_kinds(unique)
    malformed = _bc.looks_like_barcode(unique) & (kinds != "tcga")
    if malformed.any():
        bad = unique[int(np.flatnonzero(malformed)[0])]
        try:
            _bc.parse_barcode(bad)
            err: Exception = _bc.BarcodeError(f"malformed TCGA barcode {bad!r}")
        except _bc.BarcodeError as parse_error:
            err = parse_error
        raise FormatError(f"{err}; expected a well-formed TCGA barcode (IDs that are not TCGA barcodes, such as "
                          f"MB-0001 or GSM123456, are used as they are)", path=files[first_pos[bad]] or None) from err
    chosen_pos: list[int] = []
    chosen_keys: list[str] = []
    others = [i for i, k in zip(unique, kinds, strict=True) if k != "tcga"]
    if others:
        counts = pd.Series(kinds[kinds != "tcga"]).value_counts()
        what = ", ".join(f"{n} {_KIND_NAMES[k]}" for k, n in counts.items())
        rows.append(_row("sample", f"{len(others)} IDs", omic, "", "kept",
                         f"{len(others)} sample ID(s) are not TCGA barcodes ({what}; e.g. {', '.join(others[:3])}): "
                         "used as sample keys as they are, with no sample type"))
        for ident in others:
            rows.append(_row("sample", ident, omic, ident, "kept", "not a TCGA barcode: the ID is the sample key"))
            chosen_pos.append(first_pos[ident])
            chosen_keys.append(ident)
    tcga = [i for i, k in zip(unique, kinds, strict=True) if k == "tcga"]
    if tcga:
        pos, keys, tcga_rows = _choose_barcodes(tcga, first_pos, files, omic=omic, analyte_kind=analyte_kind,
                                                sample_types=sample_types, keep_all_aliquots=keep_all_aliquots)
        rows.extend(tcga_rows)
        chosen_pos.extend(pos)
        chosen_keys.extend(keys)
    if key_level == "patient":
        chosen_pos, chosen_keys = _one_per_patient(ids, chosen_pos, chosen_keys, omic=omic, analyte_kind=analyte_kind,
                                                   rows=rows)
    order = np.argsort(chosen_pos, kind="stable")
    return (np.asarray(chosen_pos, dtype=int)[order], pd.Index(np.asarray(chosen_keys, dtype=object)[order]), _frame(rows))


def _choose_barcodes(unique, first_pos, files, *, omic, analyte_kind, sample_types, keep_all_aliquots):
    """The sample policy on well-formed TCGA barcodes: positions, keys and report rows."""
    rows: list[dict] = []
    parsed = _bc.parse_barcodes(unique)
    if keep_all_aliquots:
        wanted = set(sample_types) if sample_types is not None else None
        pos, keys = [], []
        for ident, code, sample in zip(unique, parsed["sample_type_code"], parsed["sample"], strict=True):
            if wanted is not None and code is not None and code not in wanted:
                rows.append(_row("aliquot", ident, omic, sample or "", "dropped",
                                 f"sample type {code} is not among the kept types {', '.join(sorted(wanted))}"))
                continue
            pos.append(first_pos[ident])
            keys.append(ident)
            rows.append(_row("aliquot", ident, omic, sample or "", "kept",
                             "keep_all_aliquots=True: every aliquot is its own row, keyed by its barcode"))
        return pos, keys, rows
    level = parsed["level"].to_numpy()
    deep = np.isin(level, ["portion", "analyte", "aliquot"])
    chosen_pos: list[int] = []
    chosen_keys: list[str] = []
    if deep.any():
        deep_ids = [i for i, d in zip(unique, deep, strict=True) if d]
        chosen, rep = _bc.choose_aliquots(deep_ids, analyte_kind=analyte_kind, sample_types=sample_types)
        for r in rep.itertuples(index=False):
            item = r.aliquot
            where = files[first_pos[item]]
            reason = r.reason + (f" (file {where})" if where else "")
            rows.append(_row("aliquot", item, omic, r.sample or "", r.action, reason))
        for key, aliquot in zip(chosen.index, chosen["aliquot"], strict=True):
            chosen_pos.append(first_pos[aliquot])
            chosen_keys.append(key)
    shallow = [i for i, d in zip(unique, deep, strict=True) if not d]
    if shallow:
        wanted = set(sample_types) if sample_types is not None else None
        sub = parsed.loc[shallow]
        by_key: dict[str, list[str]] = {}
        for ident, code, sample, patient in zip(shallow, sub["sample_type_code"], sub["sample"], sub["patient"],
                                                strict=True):
            key = sample if sample is not None else patient
            if wanted is not None and code is not None and code not in wanted:
                name = _bc.SAMPLE_TYPES.at[code, "name"]
                rows.append(_row("sample", ident, omic, key, "dropped",
                                 f"sample type {code} ({name}) is not among the kept types {', '.join(sorted(wanted))}"))
                continue
            if key in chosen_keys:
                rows.append(_row("sample", ident, omic, key, "dropped",
                                 "an aliquot-level barcode of the same sample was kept instead"))
                continue
            by_key.setdefault(key, []).append(ident)
        for key, cands in by_key.items():
            cands = sorted(cands)  # vial A before B
            win = cands[0]
            chosen_pos.append(first_pos[win])
            chosen_keys.append(key)
            rows.append(_row("sample", win, omic, key, "kept",
                             "only column of this sample" if len(cands) == 1 else f"lowest vial of {len(cands)}"))
            for loser in cands[1:]:
                rows.append(_row("sample", loser, omic, key, "dropped", f"duplicate of sample {key}: kept {win} (vial order)"))
    return chosen_pos, chosen_keys, rows


def _one_per_patient(ids, positions, keys, *, omic, analyte_kind, rows) -> tuple[list[int], list[str]]:
    """Keep one row per patient: lowest sample-type code, then vial A before B, analyte priority, highest barcode."""
    chosen = [ids[p] for p in positions]
    kinds = _bc.sample_id_kinds(chosen) if chosen else np.zeros(0, dtype=object)
    table = pd.DataFrame({"pos": positions, "key": keys, "id": chosen, "patient": keys,
                          "code": "", "vial": "A", "analyte": None})
    is_tcga = kinds == "tcga"
    if is_tcga.any():
        parsed = _bc.parse_barcodes(table.loc[is_tcga, "id"])
        table.loc[is_tcga, "patient"] = parsed["patient"].to_numpy()
        # a patient-level barcode (no sample type) ranks after any sample of that patient
        table.loc[is_tcga, "code"] = parsed["sample_type_code"].fillna("zz").to_numpy()
        table.loc[is_tcga, "vial"] = parsed["vial"].fillna("A").to_numpy()
        table.loc[is_tcga, "analyte"] = parsed["analyte"].to_numpy()
    table["analyte_rank"] = _bc._analyte_ranks(table["analyte"], analyte_kind)
    table = table.sort_values(["patient", "code", "vial", "analyte_rank", "id"],
                              ascending=[True, True, True, True, False], kind="mergesort")
    winner = ~table["patient"].duplicated().to_numpy()
    best = table[winner].set_index("patient")
    for r in table[~winner].itertuples(index=False):
        b = best.loc[r.patient]
        rule = ("sample type" if r.code != b.code else "vial" if r.vial != b.vial
                else "analyte" if r.analyte_rank != b.analyte_rank else "barcode order")
        rows.append(_row("sample", r.key, omic, r.patient, "dropped",
                         f"join_on='patient': patient {r.patient} has several {omic} samples; kept {b.key} "
                         f"(rule: {rule})"))
    return list(best["pos"]), list(best.index)


def sample_table(keys: Sequence[str]) -> pd.DataFrame:
    """Global obs columns derived from sample keys: patient, sample_type, sample_type_code (and sample).

    Keys that are not TCGA barcodes are their own patient and have no sample type (missing). Every column holds
    strings and missing values only, so that it can be written to h5mu.
    """
    keys = pd.Index(keys, dtype=object)
    out = pd.DataFrame(index=keys)
    n = len(keys)
    patient = np.asarray(keys, dtype=object).copy()
    sample = np.full(n, None, dtype=object)
    sample_type = np.full(n, None, dtype=object)
    code = np.full(n, None, dtype=object)
    tcga = _bc.sample_id_kinds(list(keys)) == "tcga" if n else np.zeros(0, dtype=bool)
    add_sample = False
    if tcga.any():
        parsed = _bc.parse_barcodes(_bc.normalize_barcodes(keys[tcga])["barcode"])
        patient[tcga] = parsed["patient"].to_numpy()
        sample[tcga] = parsed["sample"].to_numpy()
        sample_type[tcga] = parsed["sample_type"].to_numpy()
        code[tcga] = parsed["sample_type_code"].to_numpy()
        add_sample = bool(parsed["level"].isin(["vial", "portion", "analyte", "aliquot"]).any())
    out["patient"] = patient
    if add_sample:
        sample[~tcga] = np.asarray(keys, dtype=object)[~tcga]
        out["sample"] = writable_strings(sample)
    out["sample_type"] = writable_strings(sample_type)
    out["sample_type_code"] = writable_strings(code)
    return out


def writable_strings(values) -> pd.Series | pd.Categorical | np.ndarray:
    """Strings with missing values (None/NaN) in a form h5mu can write.

    A column with some strings stays an object column (str and NaN); one with none becomes an empty categorical,
    because h5py cannot write an object column of missing values only.
    """
    arr = np.asarray(values, dtype=object)
    missing = pd.isna(arr)
    if missing.all():
        return pd.Categorical(np.full(len(arr), np.nan, dtype=object), categories=pd.Index([], dtype=object))
    out = arr.copy()
    out[missing] = np.nan
    out[~missing] = [str(v) for v in arr[~missing]]
    return out


def _row(level, item, omic, sample, action, reason) -> dict:
    return {"level": level, "item": item, "omic": omic, "sample": sample, "action": action, "reason": reason}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["level", "item", "omic", "sample", "action", "reason"])


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
            rows.append(_row("sample", s, "", s, "dropped",
                             f"sample type {mdata.obs.at[s, 'sample_type_code']} is not among the kept types {', '.join(codes)}"))
        keep &= ~bad
    if join == "intersection":
        present = pd.DataFrame({m: mdata.obs_names.isin(a.obs_names) for m, a in mdata.mod.items()}, index=mdata.obs_names)
        missing = ~present.all(axis=1) & keep
        for s in mdata.obs_names[missing.to_numpy()]:
            lacks = [m for m in mdata.mod if not present.at[s, m]]
            rows.append(_row("sample", s, ",".join(lacks), s, "dropped", f"join='intersection': lacks {', '.join(lacks)}"))
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
                with quiet_mudata():
                    mdata.mod[m] = a[mask].copy()

        with quiet_mudata():
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
        rows.append(_row("feature", f"{len(ids)} features", name, "", "dropped",
                         f"{PAR_Y_SUFFIX} copy of a pseudo-autosomal gene with no count in any of the "
                         f"{adata.n_obs} samples (e.g. {examples}): its reads are counted on the X-chromosome "
                         "copy, which is kept"))
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
    prov["harmonize"] = {"sample_types": "reader" if sample_types is None else (sample_types if isinstance(sample_types, str) else list(sample_types)),
                         "join": join or "union", "feature_ids": feature_ids or "none", "transforms": steps,
                         "n_top": n_top if n_top is not None else "none", "balance": bool(balance),
                         "drop_empty_par_y": bool(drop_empty_par_y)}
    mdata.uns[_keys.UNS_PROVENANCE] = prov
    return mdata if copy else None
