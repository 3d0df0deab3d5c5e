"""GDC clinical.tsv files → one row per patient.

The field mappings shared with the other readers, ``datasets`` and ``tl`` (PAM50 spellings, overall survival) are in
:mod:`harmonomics._clinical`.
"""

from __future__ import annotations

import pandas as pd

from .._clinical import find_column, normalize_pam50, survival_from_days, to_numbers


def gdc_patient_table(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per patient from a GDC clinical.tsv (several rows per case): first non-missing value wins,
    the largest follow-up is used. Adds ``pam50`` when a subtype column exists, ``os_time``, ``os_event``,
    ``age``, ``stage``, ``vital_status`` and ``project_id``.
    """
    case = raw[find_column(raw, ("cases.submitter_id", "case_submitter_id", "submitter_id"))]
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
            vals = to_numbers(df[c])
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
