"""Clinical tables: PAM50 label normalisation and overall survival (os_time in days, os_event 0/1).

How clinical fields map to ``os_time`` (days) and ``os_event`` (0/1):

* **GDC / TCGAbiolinks / Xena / Firehose** (``vital_status``, ``days_to_death``, ``days_to_last_follow_up``; the
  dotted names of current GDC clinical.tsv files, ``demographic.vital_status`` etc., and the
  TCGAbiolinks spelling ``days_to_last_followup`` are accepted):
  ``os_event = 1`` if vital status is Dead (``Deceased``, ``1``), ``0`` if Alive (``Living``, ``0``);
  ``os_time = days_to_death`` for the dead and ``days_to_last_follow_up`` for the living. A dead patient
  without ``days_to_death`` gets the last follow-up as time of death (a lower bound).
  In :func:`survival_from_clinical`, several rows per case (one per diagnosis or treatment) are collapsed:
  Dead wins over Alive, the largest day counts are kept.
* **cBioPortal** (``OS_STATUS``, ``OS_MONTHS``): ``os_event = 1`` for ``1:DECEASED`` (or
  ``DECEASED``), ``0`` for ``0:LIVING`` (or ``LIVING``); ``os_time = OS_MONTHS * 30.4375``
  (days per mean month, 365.25 / 12).

Missing markers (``'--``, ``NA``, ``[Not Available]``, empty, ...) become NaN; unknown status values and
non-numeric day/month counts raise :class:`~harmonomics._errors.FormatError` naming the column.
:func:`survival_from_clinical` also sets negative times to NaN with a log message.

This is the one implementation: the readers in ``harmonomics.io``, ``harmonomics.datasets`` and
``harmonomics.tl.survival_from_clinical`` all use it. It lies below ``io`` and ``tl`` (a shared base module, like
``harmonomics.samples``) and imports no namespace, so that each of them may use it (docs/architecture.md).
:func:`uns_table` (a table made safe for h5mu) lives here for the same reason.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import FormatError
from ._keys import PAM50_LABELS

logger = logging.getLogger(__name__)

DAYS_PER_MONTH = 365.25 / 12  # 30.4375

MISSING_VALUES = (
    "",
    "'--",
    "--",
    "NA",
    "N/A",
    "NaN",
    "nan",
    "None",
    "[Not Available]",
    "[Not Applicable]",
    "[Unknown]",
    "[Not Evaluated]",
    "[Discrepancy]",
    "[Completed]",
    "Not Reported",
    "not reported",
    "Unknown",
    "unknown",
)

# lower-case vital status (GDC, TCGAbiolinks, Xena, Firehose) and upper-case OS_STATUS (cBioPortal) -> os_event
_VITAL_EVENTS = {
    "dead": 1.0,
    "deceased": 1.0,
    "1": 1.0,
    "1:deceased": 1.0,
    "alive": 0.0,
    "living": 0.0,
    "0": 0.0,
    "0:living": 0.0,
}
_OS_STATUS_EVENTS = {"1:DECEASED": 1.0, "DECEASED": 1.0, "1": 1.0, "0:LIVING": 0.0, "LIVING": 0.0, "0": 0.0}

_GDC_COLUMNS = {
    "vital_status": ("vital_status", "demographic.vital_status"),
    "days_to_death": ("days_to_death", "demographic.days_to_death"),
    "days_to_last_follow_up": (
        "days_to_last_follow_up",
        "days_to_last_followup",
        "diagnoses.days_to_last_follow_up",
        "follow_ups.days_to_follow_up",
    ),
}
_GDC_ID_COLUMNS = (
    "cases.submitter_id",
    "case_submitter_id",
    "bcr_patient_barcode",
    "submitter_id",
    "patient",
)
_CBIO_ID_COLUMNS = ("PATIENT_ID", "patient")

_PAM50_MAP = {
    "luma": "LumA",
    "luminala": "LumA",
    "lumb": "LumB",
    "luminalb": "LumB",
    "her2": "Her2",
    "her2enriched": "Her2",
    "erbb2": "Her2",
    "basal": "Basal",
    "basallike": "Basal",
    "normal": "Normal",
    "normallike": "Normal",
}


def normalize_pam50(values) -> pd.Series:
    """Map every source spelling of a PAM50 call to LumA, LumB, Her2, Basal or Normal (NaN otherwise).

    Handles ``LumA`` (Xena, TCGAbiolinks), ``BRCA_LumA`` (cBioPortal), ``BRCA.LumA`` (PanCanAtlas tables),
    ``Luminal A`` / ``Basal-like`` / ``HER2-enriched`` / ``Normal-like`` (2012 papers), any case.
    """
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values.astype(object)

    def one(v):
        if not isinstance(v, str):
            return np.nan
        key = re.sub(r"^(brca[._\s-]?)", "", v.strip().lower())
        key = re.sub(r"[\s_.\-]", "", key)
        return _PAM50_MAP.get(key, np.nan)

    out = s.map(one)
    return pd.Series(pd.Categorical(out, categories=list(PAM50_LABELS)), index=s.index, name="pam50")


def pam50_column(df: pd.DataFrame, candidates: Sequence[str]) -> np.ndarray | None:
    """:func:`normalize_pam50` of the first of the ``candidates`` columns that ``df`` has (None if it has none)."""
    column = find_column(df, candidates)
    return None if column is None else normalize_pam50(df[column]).to_numpy()


def to_numbers(s: pd.Series) -> pd.Series:
    """``s`` as numbers; text that is no number becomes NaN."""
    return pd.to_numeric(s, errors="coerce")


def find_column(df: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    """The first of ``candidates`` that is a column of ``df`` (None if none is)."""
    return next((c for c in candidates if c in df.columns), None)


def _clean(series: pd.Series) -> pd.Series:
    values = series.astype(object)
    stripped = values.map(lambda v: v.strip() if isinstance(v, str) else v)
    return stripped.mask(stripped.isin(MISSING_VALUES))


def _numbers(series: pd.Series, column: str, path: str | None) -> pd.Series:
    cleaned = _clean(series)
    numbers = pd.to_numeric(cleaned, errors="coerce")
    bad = numbers.isna() & cleaned.notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(
            f"value {cleaned.iloc[position]!r} (row {series.index[position]!r}) is not a number of days/months",
            path=path,
            column=column,
        )
    return numbers.astype(float)


def _vital_events(series: pd.Series, column: str, path: str | None) -> pd.Series:
    """os_event (1.0 dead, 0.0 alive, NaN missing) from a vital status column; unknown values raise."""
    status = _clean(series).map(lambda v: v if pd.isna(v) else str(v).lower())
    unknown = status.notna() & ~status.isin(list(_VITAL_EVENTS))
    if unknown.any():
        raise FormatError(
            f"unknown vital status {status[unknown].iloc[0]!r}; expected Alive or Dead", path=path, column=column
        )
    return status.map(_VITAL_EVENTS).astype(float)


def _os_status_events(series: pd.Series, column: str, path: str | None) -> pd.Series:
    """os_event from a cBioPortal ``OS_STATUS`` column; unknown values raise."""
    status = _clean(series).map(lambda v: v if pd.isna(v) else str(v).upper())
    unknown = status.notna() & ~status.isin(list(_OS_STATUS_EVENTS))
    if unknown.any():
        raise FormatError(
            f"unknown OS_STATUS {status[unknown].iloc[0]!r}; expected '0:LIVING' or '1:DECEASED'",
            path=path,
            column=column,
        )
    return status.map(_OS_STATUS_EVENTS).astype(float)


def _os_time(event: pd.Series, death: pd.Series, follow: pd.Series) -> pd.Series:
    """Days to death for the dead (the last follow-up where that is missing), last follow-up for the living."""
    death_time = death.where(death.notna(), follow)
    time = pd.Series(
        np.where(event == 1, death_time, np.where(event == 0, follow, np.nan)), index=event.index, dtype=float
    )
    no_death_day = (event == 1) & death.isna() & follow.notna()
    if no_death_day.any():
        logger.info(
            "%d dead patient(s) without days_to_death: the last follow-up is used as the time of death (a lower bound)",
            int(no_death_day.sum()),
        )
    return time


def _column(values, index: pd.Index | None, default: str) -> pd.Series:
    """``values`` as a Series (position-wise on ``index`` when given) named after its column, or ``default``."""
    name = getattr(values, "name", None) or default
    if values is None:
        return pd.Series(np.nan, index=index, name=name, dtype=object)
    if index is None:
        return pd.Series(values, dtype=object, name=name)
    return pd.Series(np.asarray(values, dtype=object), index=index, name=name)


def survival_from_days(vital_status, days_to_death, days_to_last_follow_up, *, path: str | None = None) -> pd.DataFrame:
    """os_time (days) and os_event (1 = dead) from GDC-style fields, one row per input row.

    Parameters
    ----------
    vital_status
        Alive/Dead (also Living/Deceased, 0/1) per row; missing markers give NaN.
    days_to_death, days_to_last_follow_up
        Day counts in the same row order (``None``: the column is missing).
    path
        File named in error messages.

    Returns
    -------
    DataFrame with float columns ``os_time`` and ``os_event``, on the index of ``vital_status``.

    Raises
    ------
    FormatError
        Unknown vital status or non-numeric day counts (the message names the column).
    """
    status = _column(vital_status, None, "vital_status")
    event = _vital_events(status, status.name, path)
    death = _column(days_to_death, status.index, "days_to_death")
    follow = _column(days_to_last_follow_up, status.index, "days_to_last_follow_up")
    time = _os_time(event, _numbers(death, death.name, path), _numbers(follow, follow.name, path))
    return pd.DataFrame({"os_time": time.to_numpy(), "os_event": event.to_numpy()}, index=status.index)


def survival_from_months(os_status, os_months, *, path: str | None = None) -> pd.DataFrame:
    """os_time (days = months × 30.4375) and os_event from cBioPortal ``OS_STATUS`` / ``OS_MONTHS``, per row.

    Raises
    ------
    FormatError
        Unknown ``OS_STATUS`` or non-numeric ``OS_MONTHS`` (the message names the column).
    """
    status = _column(os_status, None, "OS_STATUS")
    months = _column(os_months, status.index, "OS_MONTHS")
    event = _os_status_events(status, status.name, path)
    time = _numbers(months, months.name, path) * DAYS_PER_MONTH
    return pd.DataFrame({"os_time": time.to_numpy(), "os_event": event.to_numpy()}, index=status.index)


def _detect_source(df: pd.DataFrame) -> str:
    if "OS_STATUS" in df.columns or "OS_MONTHS" in df.columns:
        return "cbioportal"
    if find_column(df, _GDC_COLUMNS["vital_status"]) is not None:
        return "gdc"
    raise FormatError(
        "cannot tell the clinical source: expected GDC columns (vital_status, days_to_death, days_to_last_follow_up) "
        f"or cBioPortal columns (OS_STATUS, OS_MONTHS); found {list(df.columns)[:20]}"
    )


def survival_from_clinical(
    clinical: pd.DataFrame | str | os.PathLike,
    *,
    source: str = "auto",
    id_column: str | None = None,
) -> pd.DataFrame:
    """Overall survival (``os_time`` in days, ``os_event`` 0/1) from GDC or cBioPortal clinical fields.

    Parameters
    ----------
    clinical
        The clinical table (a DataFrame, or a path to a tab-separated file; ``#`` lines at the top,
        as in cBioPortal files, are skipped).
    source
        ``"gdc"`` (also TCGAbiolinks tables), ``"cbioportal"`` or ``"auto"`` (decided from the columns).
    id_column
        Column identifying the patient; default: the first of ``cases.submitter_id``,
        ``case_submitter_id``, ``bcr_patient_barcode``, ``submitter_id``, ``patient`` (GDC) or
        ``PATIENT_ID`` (cBioPortal) present, else the table's index.

    Returns
    -------
    DataFrame indexed by patient ID (unique) with float columns ``os_time`` (days) and ``os_event``
    (1.0 death, 0.0 censored, NaN unknown). The mapping is described in this module's docstring.

    Raises
    ------
    FormatError
        Missing columns, unknown vital-status values or non-numeric day counts (the message names the column).
    """
    path = None
    if isinstance(clinical, (str, os.PathLike)):
        path = str(clinical)
        if not Path(path).exists():
            raise FileNotFoundError(f"clinical file {path!r} does not exist")
        clinical = pd.read_csv(path, sep="\t", dtype=str, comment="#", keep_default_na=False)
    if not isinstance(clinical, pd.DataFrame):
        raise TypeError(f"clinical must be a DataFrame or a path; got {type(clinical).__name__}")
    if source == "auto":
        source = _detect_source(clinical)
    if source not in ("gdc", "cbioportal"):
        raise ValueError(f"source must be 'gdc', 'cbioportal' or 'auto'; got {source!r}")
    df = clinical.copy()
    id_candidates = (
        (id_column,) if id_column is not None else (_GDC_ID_COLUMNS if source == "gdc" else _CBIO_ID_COLUMNS)
    )
    id_col = find_column(df, id_candidates)
    if id_column is not None and id_col is None:
        raise FormatError(f"no id column {id_column!r}", path=path, column=id_column)
    ids = df[id_col].astype(str).str.strip() if id_col is not None else pd.Series(df.index.astype(str), index=df.index)

    if source == "gdc":
        columns = {name: find_column(df, cands) for name, cands in _GDC_COLUMNS.items()}
        if columns["vital_status"] is None:
            raise FormatError("GDC clinical table has no vital status column", path=path, column="vital_status")
        if columns["days_to_death"] is None and columns["days_to_last_follow_up"] is None:
            raise FormatError(
                "GDC clinical table has neither days_to_death nor days_to_last_follow_up",
                path=path,
                column="days_to_death",
            )
        dead = _vital_events(df[columns["vital_status"]], columns["vital_status"], path)
        death, follow = (
            _numbers(df[columns[name]], columns[name], path) if columns[name] else pd.Series(np.nan, index=df.index)
            for name in ("days_to_death", "days_to_last_follow_up")
        )
        frame = pd.DataFrame(
            {
                "id": ids.to_numpy(),
                "dead": dead.to_numpy(float),
                "death": death.to_numpy(),
                "follow": follow.to_numpy(),
            }
        )
        collapsed = frame.groupby("id", sort=False)[["dead", "death", "follow"]].max()
        event = collapsed["dead"]
        time = _os_time(event, collapsed["death"], collapsed["follow"])
    else:
        for column in ("OS_STATUS", "OS_MONTHS"):
            if column not in df.columns:
                raise FormatError(f"cBioPortal clinical table has no {column} column", path=path, column=column)
        frame = survival_from_months(df["OS_STATUS"], df["OS_MONTHS"], path=path)
        frame.index = ids.to_numpy()
        if frame.index.duplicated().any():
            first = frame.index[frame.index.duplicated()][0]
            raise FormatError(
                f"patient {first!r} appears more than once in a cBioPortal patient table",
                path=path,
                column=id_col,
            )
        event, time = frame["os_event"], frame["os_time"]
    negative = time < 0
    if negative.any():
        logger.warning(
            "%d negative survival time(s) set to NaN (e.g. patient %r)",
            int(negative.sum()),
            time.index[negative][0],
        )
        time = time.mask(negative)
    out = pd.DataFrame({"os_time": time.astype(float), "os_event": event.astype(float)})
    out.index = pd.Index(out.index.astype(str), name="patient")
    return out


def uns_table(df: pd.DataFrame) -> pd.DataFrame:
    """A table (clinical, MAF, segments, test results) made safe for h5mu: object and categorical columns as
    strings ('' for missing), the index and column names as strings."""
    out = df.copy()
    out.index = pd.Index(out.index.astype(str), name=None) if not isinstance(out.index, pd.RangeIndex) else out.index
    for c in out.columns:
        if out[c].dtype == object or isinstance(out[c].dtype, pd.CategoricalDtype):
            col = out[c].astype(object)
            out[c] = col.where(col.notna(), "").astype(str)
    out.columns = [str(c) for c in out.columns]
    return out


__all__ = [
    "DAYS_PER_MONTH",
    "MISSING_VALUES",
    "normalize_pam50",
    "pam50_column",
    "survival_from_clinical",
    "survival_from_days",
    "survival_from_months",
    "to_numbers",
    "find_column",
    "uns_table",
]
