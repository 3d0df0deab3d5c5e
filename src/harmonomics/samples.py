"""Sample policy: sample-type policies, the choice of one row per sample or patient, and the sample table.

It lives below ``io`` and ``pp`` (both use it): readers choose one aliquot per sample with it, and
:func:`harmonomics.pp.harmonize` applies a stricter policy to a store.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import barcodes as _bc
from ._errors import FormatError

# Named policies for ``sample_types``.
SAMPLE_TYPE_POLICIES: dict[str, tuple[str, ...] | None] = {
    "primary": ("01",),
    "tumor": tuple(_bc.SAMPLE_TYPES.index[_bc.SAMPLE_TYPES["category"] == "tumor"]),
    "tumor_normal": ("01", "11"),
    "primary_and_normal": ("01", "10", "11", "12", "14"),
    "all": None,
}


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
    if key_level not in KEY_LEVELS:
        raise ValueError(f"key_level must be one of {KEY_LEVELS}, got {key_level!r}")
    if keep_all_aliquots and key_level == "patient":
        raise ValueError(
            "keep_all_aliquots=True keeps every aliquot apart; it cannot be combined with one row per patient"
        )
    norm = _bc.normalize_barcodes([str(i) for i in ids])
    ids = list(norm["barcode"])
    files = list(source_files) if source_files is not None else [""] * len(ids)
    rows: list[dict] = []
    for change, group in norm[norm["change"] != ""].groupby("change", sort=True):
        examples = ", ".join(f"{a} → {b}" for a, b in zip(group["id"][:3], group["barcode"][:3], strict=True))
        rows.append(
            report_row(
                "sample",
                f"{len(group)} IDs",
                omic,
                "",
                "renamed",
                f"{_bc.NORMALIZATIONS[change]}: {len(group)} ID(s), e.g. {examples}",
            )
        )
    first_pos: dict[str, int] = {}
    for pos, ident in enumerate(ids):
        if ident in first_pos:
            rows.append(
                report_row(
                    "aliquot",
                    ident,
                    omic,
                    "",
                    "dropped",
                    f"the same aliquot is also in {files[first_pos[ident]] or 'another column'}; "
                    f"kept that one, dropped {files[pos] or 'this copy'}",
                )
            )
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
        raise FormatError(
            f"{err}; expected a well-formed TCGA barcode (IDs that are not TCGA barcodes, such as "
            f"MB-0001 or GSM123456, are used as they are)",
            path=files[first_pos[bad]] or None,
        ) from err
    chosen_pos: list[int] = []
    chosen_keys: list[str] = []
    others = [i for i, k in zip(unique, kinds, strict=True) if k != "tcga"]
    if others:
        counts = pd.Series(kinds[kinds != "tcga"]).value_counts()
        what = ", ".join(f"{n} {_KIND_NAMES[k]}" for k, n in counts.items())
        rows.append(
            report_row(
                "sample",
                f"{len(others)} IDs",
                omic,
                "",
                "kept",
                f"{len(others)} sample ID(s) are not TCGA barcodes ({what}; e.g. {', '.join(others[:3])}): "
                "used as sample keys as they are, with no sample type",
            )
        )
        for ident in others:
            rows.append(
                report_row("sample", ident, omic, ident, "kept", "not a TCGA barcode: the ID is the sample key")
            )
            chosen_pos.append(first_pos[ident])
            chosen_keys.append(ident)
    tcga = [i for i, k in zip(unique, kinds, strict=True) if k == "tcga"]
    if tcga:
        pos, keys, tcga_rows = _choose_barcodes(
            tcga,
            first_pos,
            files,
            omic=omic,
            analyte_kind=analyte_kind,
            sample_types=sample_types,
            keep_all_aliquots=keep_all_aliquots,
        )
        rows.extend(tcga_rows)
        chosen_pos.extend(pos)
        chosen_keys.extend(keys)
    if key_level == "patient":
        chosen_pos, chosen_keys = _one_per_patient(
            ids, chosen_pos, chosen_keys, omic=omic, analyte_kind=analyte_kind, rows=rows
        )
    order = np.argsort(chosen_pos, kind="stable")
    return (
        np.asarray(chosen_pos, dtype=int)[order],
        pd.Index(np.asarray(chosen_keys, dtype=object)[order]),
        _frame(rows),
    )


def _choose_barcodes(unique, first_pos, files, *, omic, analyte_kind, sample_types, keep_all_aliquots):
    """The sample policy on well-formed TCGA barcodes: positions, keys and report rows."""
    rows: list[dict] = []
    parsed = _bc.parse_barcodes(unique)
    if keep_all_aliquots:
        wanted = set(sample_types) if sample_types is not None else None
        pos, keys = [], []
        for ident, code, sample in zip(unique, parsed["sample_type_code"], parsed["sample"], strict=True):
            if wanted is not None and code is not None and code not in wanted:
                rows.append(
                    report_row(
                        "aliquot",
                        ident,
                        omic,
                        sample or "",
                        "dropped",
                        f"sample type {code} is not among the kept types {', '.join(sorted(wanted))}",
                    )
                )
                continue
            pos.append(first_pos[ident])
            keys.append(ident)
            rows.append(
                report_row(
                    "aliquot",
                    ident,
                    omic,
                    sample or "",
                    "kept",
                    "keep_all_aliquots=True: every aliquot is its own row, keyed by its barcode",
                )
            )
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
            rows.append(report_row("aliquot", item, omic, r.sample or "", r.action, reason))
        for key, aliquot in zip(chosen.index, chosen["aliquot"], strict=True):
            chosen_pos.append(first_pos[aliquot])
            chosen_keys.append(key)
    shallow = [i for i, d in zip(unique, deep, strict=True) if not d]
    if shallow:
        wanted = set(sample_types) if sample_types is not None else None
        sub = parsed.loc[shallow]
        by_key: dict[str, list[str]] = {}
        for ident, code, sample, patient in zip(
            shallow, sub["sample_type_code"], sub["sample"], sub["patient"], strict=True
        ):
            key = sample if sample is not None else patient
            if wanted is not None and code is not None and code not in wanted:
                name = _bc.SAMPLE_TYPES.at[code, "name"]
                rows.append(
                    report_row(
                        "sample",
                        ident,
                        omic,
                        key,
                        "dropped",
                        f"sample type {code} ({name}) is not among the kept types {', '.join(sorted(wanted))}",
                    )
                )
                continue
            if key in chosen_keys:
                rows.append(
                    report_row(
                        "sample",
                        ident,
                        omic,
                        key,
                        "dropped",
                        "an aliquot-level barcode of the same sample was kept instead",
                    )
                )
                continue
            by_key.setdefault(key, []).append(ident)
        for key, cands in by_key.items():
            cands = sorted(cands)  # vial A before B
            win = cands[0]
            chosen_pos.append(first_pos[win])
            chosen_keys.append(key)
            rows.append(
                report_row(
                    "sample",
                    win,
                    omic,
                    key,
                    "kept",
                    "only column of this sample" if len(cands) == 1 else f"lowest vial of {len(cands)}",
                )
            )
            for loser in cands[1:]:
                rows.append(
                    report_row(
                        "sample", loser, omic, key, "dropped", f"duplicate of sample {key}: kept {win} (vial order)"
                    )
                )
    return chosen_pos, chosen_keys, rows


def _one_per_patient(ids, positions, keys, *, omic, analyte_kind, rows) -> tuple[list[int], list[str]]:
    """Keep one row per patient: lowest sample-type code, then vial A before B, analyte priority, highest barcode."""
    chosen = [ids[p] for p in positions]
    kinds = _bc.sample_id_kinds(chosen) if chosen else np.zeros(0, dtype=object)
    table = pd.DataFrame(
        {"pos": positions, "key": keys, "id": chosen, "patient": keys, "code": "", "vial": "A", "analyte": None}
    )
    is_tcga = kinds == "tcga"
    if is_tcga.any():
        parsed = _bc.parse_barcodes(table.loc[is_tcga, "id"])
        table.loc[is_tcga, "patient"] = parsed["patient"].to_numpy()
        # a patient-level barcode (no sample type) ranks after any sample of that patient
        table.loc[is_tcga, "code"] = parsed["sample_type_code"].fillna("zz").to_numpy()
        table.loc[is_tcga, "vial"] = parsed["vial"].fillna("A").to_numpy()
        table.loc[is_tcga, "analyte"] = parsed["analyte"].to_numpy()
    table["analyte_rank"] = _bc._analyte_ranks(table["analyte"], analyte_kind)
    table = table.sort_values(
        ["patient", "code", "vial", "analyte_rank", "id"], ascending=[True, True, True, True, False], kind="mergesort"
    )
    winner = ~table["patient"].duplicated().to_numpy()
    best = table[winner].set_index("patient")
    for r in table[~winner].itertuples(index=False):
        b = best.loc[r.patient]
        rule = (
            "sample type"
            if r.code != b.code
            else "vial"
            if r.vial != b.vial
            else "analyte"
            if r.analyte_rank != b.analyte_rank
            else "barcode order"
        )
        rows.append(
            report_row(
                "sample",
                r.key,
                omic,
                r.patient,
                "dropped",
                f"join_on='patient': patient {r.patient} has several {omic} samples; kept {b.key} (rule: {rule})",
            )
        )
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


def report_row(level: str, item: str, omic: str, sample: str, action: str, reason: str) -> dict:
    """One harmonization report row (level, item, omic, sample, action, reason)."""
    return {"level": level, "item": item, "omic": omic, "sample": sample, "action": action, "reason": reason}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["level", "item", "omic", "sample", "action", "reason"])
