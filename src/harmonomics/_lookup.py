"""Finding one sample of a store from what a person types: a sample ID or a TCGA patient barcode (private).

Shared by the tools that take a single sample (``hm.tl.nearest_samples``) and by the patient card
(``hm.report(..., patient=...)``), so that both accept the same spellings and fail with the same message.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np
import pandas as pd

from . import _keys
from ._errors import AmbiguousSampleError, UnknownSampleError
from .barcodes import is_valid, normalize_barcodes, parse_barcodes

#: Sample-type code of a primary tumour: the sample a patient barcode means when the store also holds others.
PRIMARY_TUMOUR_CODE = "01"
_MAX_CLOSE_MATCHES = 5


def resolve_sample(mdata: Any, sample: str) -> str:
    """The store's sample ID for ``sample``: an ID of ``mdata.obs_names`` or a TCGA barcode of any level.

    Resolution, in order: the ID as given; the ID in dashed upper-case form (``tcga.a8.a08x`` →
    ``TCGA-A8-A08X``); a barcode at sample level or deeper (``TCGA-A8-A08X-01A-11R``) matches the store's sample
    of the same 15-character barcode; a 12-character patient barcode matches the samples of that patient (the
    ``patient`` column of ``obs``, else the barcodes themselves) — when there are several, the one primary tumour
    (sample type 01) is chosen. A patient ID of another kind matches through the ``patient`` column alone.

    Parameters
    ----------
    mdata
        MuData (or AnnData) whose ``obs_names`` are the sample IDs.
    sample
        What to look for.

    Returns
    -------
    The matching entry of ``obs_names``.

    Raises
    ------
    UnknownSampleError
        Nothing matches; the message names ``sample`` and lists the closest IDs and patient barcodes.
    AmbiguousSampleError
        A patient barcode names several samples of which none, or more than one, is a primary tumour.
    """
    if not isinstance(sample, str) or not sample.strip():
        raise TypeError(f"sample must be a non-empty string (a sample ID or a patient barcode), got {sample!r}")
    ids = pd.Index(np.asarray(mdata.obs_names, dtype=object).astype(str))
    query = sample.strip()
    if query in ids:
        return query
    written = str(normalize_barcodes([query])["barcode"].iloc[0])
    if written in ids:
        return written
    table = _barcode_table(mdata, ids)
    if bool(is_valid(written)):
        parsed = parse_barcodes([written]).iloc[0]
        if parsed["sample"] is not None:
            same_sample = table.index[(table["sample"] == parsed["sample"]).to_numpy()]
            if len(same_sample) == 1:
                return str(same_sample[0])
            if len(same_sample) > 1:
                raise AmbiguousSampleError(
                    f"sample {sample!r} matches {len(same_sample)} samples of the store "
                    f"({', '.join(map(str, same_sample))}); give one of them",
                    candidates=[str(s) for s in same_sample],
                )
            # a store keyed by patient: a sample barcode of that patient's primary tumour means the patient's row
            keyed_by_patient = table.index[(table["level"] == "patient").to_numpy()]
            if parsed["sample_type_code"] == PRIMARY_TUMOUR_CODE and parsed["patient"] in keyed_by_patient:
                return str(parsed["patient"])
        else:
            return _one_of_patient(sample, str(parsed["patient"]), table)
    elif (table["patient"] == query).any():  # patient IDs of another kind, from the obs column
        return _one_of_patient(sample, query, table)
    raise UnknownSampleError(
        _unknown_message(sample, ids, table), sample=sample, close_matches=_close(query, ids, table)
    )


def _barcode_table(mdata: Any, ids: pd.Index) -> pd.DataFrame:
    """Per sample ID: ``patient`` (obs column, else from the barcode), ``sample`` (15-char barcode), ``level`` and
    ``sample_type_code``, where the ID is a TCGA barcode (None elsewhere)."""
    out = pd.DataFrame(index=ids, columns=["patient", "sample", "level", "sample_type_code"], dtype=object)
    valid = np.asarray(is_valid(list(ids)), dtype=bool) if len(ids) else np.zeros(0, dtype=bool)
    if valid.any():
        parsed = parse_barcodes(ids[valid])
        for column in out.columns:
            out.loc[ids[valid], column] = parsed[column].to_numpy()
    obs = getattr(mdata, "obs", None)
    if obs is not None and _keys.OBS_PATIENT in obs.columns:
        given = obs[_keys.OBS_PATIENT].astype(object).to_numpy()
        known = pd.notna(given)
        out.loc[ids[known], "patient"] = [str(p) for p in given[known]]
    if obs is not None and _keys.OBS_SAMPLE_TYPE_CODE in obs.columns:
        codes = obs[_keys.OBS_SAMPLE_TYPE_CODE].astype(object).to_numpy()
        known = pd.notna(codes)
        out.loc[ids[known], "sample_type_code"] = [str(c) for c in codes[known]]
    return out


def _one_of_patient(sample: str, patient: str, table: pd.DataFrame) -> str:
    mine = table[(table["patient"] == patient).to_numpy()]
    if len(mine) == 1:
        return str(mine.index[0])
    if len(mine) > 1:
        primary = mine.index[(mine["sample_type_code"] == PRIMARY_TUMOUR_CODE).to_numpy()]
        if len(primary) == 1:
            return str(primary[0])
        raise AmbiguousSampleError(
            f"patient {sample!r} has {len(mine)} samples in the store ({', '.join(map(str, mine.index))}) and "
            f"{'no' if len(primary) == 0 else 'more than one'} primary tumour (sample type "
            f"{PRIMARY_TUMOUR_CODE}) among them; give the sample ID",
            candidates=[str(s) for s in mine.index],
        )
    ids = pd.Index(table.index)
    raise UnknownSampleError(
        _unknown_message(sample, ids, table), sample=sample, close_matches=_close(sample, ids, table)
    )


def _close(query: str, ids: pd.Index, table: pd.DataFrame) -> list[str]:
    patients = [str(p) for p in table["patient"].dropna().unique()]
    choices = list(dict.fromkeys([*map(str, ids), *patients]))
    written = str(normalize_barcodes([query])["barcode"].iloc[0])
    return difflib.get_close_matches(written, choices, n=_MAX_CLOSE_MATCHES, cutoff=0.6)


def _unknown_message(sample: str, ids: pd.Index, table: pd.DataFrame) -> str:
    close = _close(sample, ids, table)
    hint = f"closest: {', '.join(close)}" if close else f"e.g. {', '.join(map(str, ids[:3]))}"
    return (
        f"sample {sample!r} is not in the store ({len(ids):,} samples; neither a sample ID nor a patient barcode "
        f"of it); {hint}"
    )
