"""Clinical tables: PAM50 label normalisation and overall survival (os_time in days, os_event 0/1)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .._keys import PAM50_LABELS

DAYS_PER_MONTH = 30.4375

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


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


def survival_from_days(vital_status, days_to_death, days_to_last_follow_up) -> pd.DataFrame:
    """os_time (days) and os_event (1 = dead) from GDC-style fields."""
    vs = pd.Series(vital_status, dtype=object).astype(str).str.strip().str.lower()
    dead = vs.isin(["dead", "deceased", "1", "1:deceased"])
    alive = vs.isin(["alive", "living", "0", "0:living"])
    dtd = _num(pd.Series(days_to_death))
    dlf = _num(pd.Series(days_to_last_follow_up))
    time = pd.Series(np.where(dead, dtd.where(dtd.notna(), dlf), dlf.where(dlf.notna(), dtd)), index=vs.index, dtype=float)
    event = pd.Series(np.where(dead, 1.0, np.where(alive, 0.0, np.nan)), index=vs.index)
    return pd.DataFrame({"os_time": time.to_numpy(), "os_event": event.to_numpy()}, index=pd.Series(vital_status).index)


def survival_from_months(os_status, os_months) -> pd.DataFrame:
    """os_time (days = months × 30.4375) and os_event from cBioPortal ``OS_STATUS`` / ``OS_MONTHS``."""
    st = pd.Series(os_status, dtype=object)
    code = st.astype(str).str.strip().str.upper()
    event = np.where(code.str.startswith("1") | code.str.contains("DECEASED"), 1.0,
                     np.where(code.str.startswith("0") | code.str.contains("LIVING"), 0.0, np.nan))
    months = _num(pd.Series(os_months, index=st.index))
    return pd.DataFrame({"os_time": (months * DAYS_PER_MONTH).to_numpy(), "os_event": event}, index=st.index)


def _pick(df: pd.DataFrame, *names: str) -> pd.Series | None:
    for n in names:
        if n in df.columns:
            return df[n]
    return None


def gdc_patient_table(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per patient from a GDC clinical.tsv (several rows per case): first non-missing value wins,
    the largest follow-up is used. Adds ``pam50`` when a subtype column exists, ``os_time``, ``os_event``,
    ``age``, ``stage``, ``vital_status`` and ``project_id``.
    """
    case = _pick(raw, "cases.submitter_id", "case_submitter_id", "submitter_id")
    df = raw.copy()
    df.index = case.to_numpy()
    # flat names: strip the "demographic." / "diagnoses." prefixes (keep the first column of each name)
    flat = {}
    for c in df.columns:
        short = c.split(".", 1)[1] if "." in c else c
        if short not in flat:
            flat[short] = c
    num_cols = ("days_to_death", "days_to_last_follow_up", "age_at_index", "age_at_diagnosis")
    out = pd.DataFrame(index=pd.Index(pd.unique(df.index), name=None))
    grouped = df.groupby(level=0, sort=False)
    first = grouped.first()

    def col(short):
        c = flat.get(short)
        return None if c is None else first[c]

    for short in num_cols:
        c = flat.get(short)
        if c is not None:
            vals = _num(df[c])
            out[short] = vals.groupby(level=0, sort=False).max().reindex(out.index)
    vital = col("vital_status")
    if vital is not None:
        out["vital_status"] = vital.reindex(out.index)
    stage = col("ajcc_pathologic_stage")
    if stage is not None:
        out["stage"] = stage.reindex(out.index)
    if "age_at_index" in out:
        out["age"] = out["age_at_index"]
    elif "age_at_diagnosis" in out:
        out["age"] = (out["age_at_diagnosis"] / 365.25).round(1)
    proj = col("project_id")
    if proj is not None:
        out["project_id"] = proj.reindex(out.index)
    for short in ("paper_BRCA_Subtype_PAM50", "BRCA_Subtype_PAM50", "subtype", "pam50", "PAM50", "SUBTYPE"):
        c = flat.get(short)
        if c is not None:
            out["pam50"] = normalize_pam50(first[c].reindex(out.index)).to_numpy()
            break
    if "vital_status" in out:
        surv = survival_from_days(out["vital_status"], out.get("days_to_death"), out.get("days_to_last_follow_up"))
        out["os_time"] = surv["os_time"].to_numpy()
        out["os_event"] = surv["os_event"].to_numpy()
    # keep remaining informative columns, flattened, for the user
    for short, c in flat.items():
        if short not in out.columns and short not in ("submitter_id", "case_submitter_id") and c in first:
            series = first[c].reindex(out.index)
            if series.notna().any():
                out[short] = series.to_numpy()
    return out


__all__ = ["gdc_patient_table", "normalize_pam50", "survival_from_days", "survival_from_months"]
