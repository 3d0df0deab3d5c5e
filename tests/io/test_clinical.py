"""The one clinical → overall-survival mapping (harmonomics/_clinical.py), shared by the readers, datasets and hm.tl."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmonomics._clinical import (
    DAYS_PER_MONTH,
    pam50_column,
    survival_from_clinical,
    survival_from_days,
    survival_from_months,
)
from harmonomics._errors import FormatError


def test_survival_from_days_spellings_and_time_rule():
    status = pd.Series(["Dead", "Alive", "1", "0", "DECEASED", "living", "'--", None], name="vital_status")
    death = [100, None, "7", None, 30, None, 5, 5]
    follow = [50, 80, None, "12", 20, 60, 9, 9]
    out = survival_from_days(status, death, follow)
    assert out.index.equals(status.index)
    assert out["os_event"].tolist()[:6] == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    assert out["os_event"].iloc[6:].isna().all()
    # dead: days to death (else the last follow-up); alive: last follow-up; unknown status: no time
    assert out["os_time"].tolist()[:6] == [100.0, 80.0, 7.0, 12.0, 30.0, 60.0]
    assert out["os_time"].iloc[6:].isna().all()


def test_survival_from_days_dead_without_death_day_uses_follow_up():
    out = survival_from_days(["Dead"], [None], [365])
    assert out["os_time"].iloc[0] == 365.0
    assert out["os_event"].iloc[0] == 1.0


def test_survival_from_days_bad_input_names_the_column():
    with pytest.raises(FormatError, match="unknown vital status 'zombie'") as err:
        survival_from_days(pd.Series(["Alive", "zombie"], name="demographic.vital_status"), [1, 2], [3, 4])
    assert "demographic.vital_status" in str(err.value)
    with pytest.raises(FormatError, match="not a number") as err:
        survival_from_days(["Alive"], None, pd.Series(["soon"], name="days_to_last_followup"))
    assert "days_to_last_followup" in str(err.value)


def test_survival_from_months():
    out = survival_from_months(["1:DECEASED", "0:LIVING", "[Not Available]"], ["12", 0, "3"])
    assert out["os_event"].iloc[:2].tolist() == [1.0, 0.0]
    assert np.isnan(out["os_event"].iloc[2])
    assert out["os_time"].tolist() == pytest.approx([12 * DAYS_PER_MONTH, 0.0, 3 * DAYS_PER_MONTH])
    with pytest.raises(FormatError, match="OS_STATUS"):
        survival_from_months(["2:UNKNOWN"], [1])
    with pytest.raises(FormatError, match="not a number"):
        survival_from_months(["0:LIVING"], ["many"])


def test_tl_uses_the_io_implementation():
    import harmonomics as hm
    from harmonomics.tl import _survival

    assert hm.tl.survival_from_clinical.__wrapped__ is survival_from_clinical
    assert _survival.DAYS_PER_MONTH is DAYS_PER_MONTH
    assert pytest.approx(30.4375) == DAYS_PER_MONTH


def test_pam50_column_takes_the_first_candidate_present():
    df = pd.DataFrame({"PAM50": ["BRCA_Basal", "x"], "SUBTYPE": ["Luminal A", "Her2-enriched"]})
    assert pam50_column(df, ("SUBTYPE", "PAM50")).tolist() == ["LumA", "Her2"]
    assert pam50_column(df, ("PAM50_SUBTYPE", "PAM50"))[0] == "Basal"
    assert pam50_column(df, ("pam50",)) is None
