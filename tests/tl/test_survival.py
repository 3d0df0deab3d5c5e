"""Clinical -> overall survival mapping, Cox models per factor and Kaplan–Meier tables (planted effects)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics import data
from harmonomics._errors import FormatError, MissingResultError
from harmonomics.tl._survival import DAYS_PER_MONTH, add_clinical_survival, survival_from_clinical

LOG_HR = 0.8  # planted log hazard ratio per SD of Factor3


def planted_survival(seed: int = 0, n: int = 200):
    import anndata as ad
    import mudata as md

    rng = np.random.default_rng(seed)
    samples = [f"TCGA-B{i % 10}-{i:04d}-01" for i in range(n)]
    Z = rng.normal(size=(n, 4))
    rna = ad.AnnData(
        rng.normal(size=(n, 5)),
        obs=pd.DataFrame(index=samples),
        var=pd.DataFrame(index=[f"G{i}" for i in range(5)]),
    )
    rna.varm["mofa"] = rng.normal(size=(5, 4))
    mdata = md.MuData({"rna": rna})
    mdata.obsm["mofa"] = Z
    mdata.uns["mofa"] = {"factor_names": [f"Factor{i + 1}" for i in range(4)], "views": ["rna"]}
    age = rng.normal(58, 12, n)
    stage = rng.choice(["Stage_I", "Stage_II", "Stage_III"], n, p=[0.3, 0.5, 0.2])
    stage_effect = pd.Series(stage).map({"Stage_I": 0.0, "Stage_II": 0.3, "Stage_III": 0.9}).to_numpy()
    hazard = np.exp(LOG_HR * Z[:, 2] + 0.02 * (age - 58) + stage_effect)
    t_event = rng.exponential(1500 / hazard)
    t_cens = rng.uniform(200, 4000, n)
    mdata.obs["os_time"] = np.round(np.minimum(t_event, t_cens))
    mdata.obs["os_event"] = (t_event <= t_cens).astype(int)
    mdata.obs["age"] = age
    mdata.obs["stage"] = pd.Categorical(stage)
    mdata.obs["patient"] = [s[:12] for s in samples]
    return mdata, Z


@pytest.fixture(scope="module")
def store():
    return planted_survival()


def test_cox_finds_planted_factor(store):
    mdata, _ = store
    table = hm.tl.survival(mdata)
    assert list(table.columns) == [
        "factor",
        "n",
        "n_events",
        "hr",
        "hr_lower",
        "hr_upper",
        "pvalue",
        "fdr",
        "logrank_pvalue",
        "logrank_fdr",
        "concordance",
        "covariates",
        "note",
    ]
    assert mdata.uns["mofa_survival"] is table
    f3 = table.set_index("factor").loc["Factor3"]
    assert f3["fdr"] < 1e-4 and f3["hr_lower"] < np.exp(LOG_HR) < f3["hr_upper"] and f3["hr"] > 1.5
    assert f3["concordance"] > 0.6
    others = table[table["factor"] != "Factor3"]
    assert (others["fdr"] > 0.01).all()
    assert table.loc[table["pvalue"].idxmin(), "factor"] == "Factor3"
    assert (table["n"] == 200).all() and table["n_events"].iloc[0] == mdata.obs["os_event"].sum()
    # the log-rank column: the two-sample test of a median split, BH over the factors
    from lifelines.statistics import logrank_test
    from scipy.stats import false_discovery_control

    z, t, e = mdata.obsm["mofa"], mdata.obs["os_time"].to_numpy(), mdata.obs["os_event"].to_numpy()
    want = []
    for j in range(4):
        high = z[:, j] > np.median(z[:, j])
        want.append(logrank_test(t[high], t[~high], e[high], e[~high]).p_value)
    assert table["logrank_pvalue"].to_numpy() == pytest.approx(want)
    assert table["logrank_fdr"].to_numpy() == pytest.approx(false_discovery_control(want, method="bh"))
    assert table["fdr"].to_numpy() == pytest.approx(false_discovery_control(table["pvalue"], method="bh"))
    assert f3["logrank_fdr"] < 1e-3
    # any DataFrame of scores in obsm works as key (e.g. signature scores)
    mdata.obsm["scores"] = pd.DataFrame(mdata.obsm["mofa"][:, 2:4], index=mdata.obs_names, columns=["risk", "other"])
    by_name = hm.tl.survival(mdata, key="scores").set_index("factor")
    assert by_name.loc["risk", "hr"] == pytest.approx(f3["hr"])
    del mdata.obsm["scores"]


def test_cox_adjusted_for_covariates(store):
    mdata, _ = store
    table = hm.tl.survival(
        mdata, covariates=["age", "stage"], factors=["Factor3", "Factor4"], standardize=False, key_added="adj"
    )
    assert list(table["factor"]) == ["Factor3", "Factor4"]
    assert table["covariates"].iloc[0] == "age;stage[Stage_I];stage[Stage_III]"  # reference: most frequent level
    f3 = table.iloc[0]
    assert f3["hr_lower"] < np.exp(LOG_HR) < f3["hr_upper"] and f3["pvalue"] < 1e-6
    assert "adj" in mdata.uns


def test_survival_bad_input(store):
    mdata, _ = store
    with pytest.raises(MissingResultError, match="no 'dfs_time' column"):
        hm.tl.survival(mdata, time="dfs_time")
    with pytest.raises(KeyError, match="covariate"):
        hm.tl.survival(mdata, covariates=["bmi"])
    with pytest.raises(MissingResultError):
        hm.tl.survival(mdata, key="nope")
    bad = mdata.copy()
    bad.obs["os_event"] = bad.obs["os_event"] * 2
    with pytest.raises(ValueError, match="must be 0/1"):
        hm.tl.survival(bad)
    bad.obs["os_event"] = 0
    with pytest.raises(ValueError, match="no events"):
        hm.tl.survival(bad)
    bad.obs["os_event"] = mdata.obs["os_event"]
    bad.obs["os_time"] = -1.0
    with pytest.raises(ValueError, match="negative"):
        hm.tl.survival(bad)


def test_kaplan_meier_table(store):
    mdata, _ = store
    km = hm.tl.kaplan_meier(mdata, "Factor3")
    assert set(km["group"]) == {"low", "high"}
    assert {
        "time",
        "survival",
        "ci_lower",
        "ci_upper",
        "at_risk",
        "events",
        "censored",
        "n",
        "n_events",
        "logrank_pvalue",
    } <= set(km.columns)
    for _group, curve in km.groupby("group"):
        assert curve["time"].iloc[0] == 0 and curve["survival"].iloc[0] <= 1
        assert (curve["survival"].diff().dropna() <= 1e-12).all()  # non-increasing
        assert (curve["ci_lower"] <= curve["survival"] + 1e-12).all() and (
            curve["survival"] <= curve["ci_upper"] + 1e-12
        ).all()
        assert curve["at_risk"].iloc[0] == curve["n"].iloc[0]
    assert km["n"].groupby(km["group"]).first().sum() == 200
    assert km["logrank_pvalue"].iloc[0] < 1e-4
    high, low = km[km["group"] == "high"], km[km["group"] == "low"]
    assert high["survival"].iloc[-1] < low["survival"].iloc[-1]  # high Factor3 -> worse survival
    # tertiles: the middle third is left out
    km3 = hm.tl.kaplan_meier(mdata, "Factor3", quantile=(1 / 3, 2 / 3))
    assert km3["n"].groupby(km3["group"]).first().sum() == pytest.approx(134, abs=2)
    # a numeric obs column works too
    assert set(hm.tl.kaplan_meier(mdata, "age")["group"]) == {"low", "high"}
    # a categorical one gives one curve per level and the multivariate log-rank test
    from lifelines.statistics import multivariate_logrank_test

    by_stage = hm.tl.kaplan_meier(mdata, "stage")
    assert list(dict.fromkeys(by_stage["group"])) == ["Stage_I", "Stage_II", "Stage_III"]
    assert (by_stage["threshold"] == "").all()
    want = multivariate_logrank_test(mdata.obs["os_time"], mdata.obs["stage"].astype(str), mdata.obs["os_event"])
    assert by_stage["logrank_pvalue"].iloc[0] == pytest.approx(want.p_value)
    counts = by_stage.groupby("group")["n"].first()
    assert counts.to_dict() == mdata.obs["stage"].value_counts().to_dict()
    with pytest.raises(ValueError, match="quantile"):
        hm.tl.kaplan_meier(mdata, "Factor3", quantile=1.5)
    with pytest.raises(KeyError, match="neither a factor"):
        hm.tl.kaplan_meier(mdata, "Factor9")
    with pytest.raises(ValueError, match="quantile"):
        hm.tl.survival(mdata, quantile=0)


def test_survival_from_gdc_fields():
    clinical = pd.DataFrame(
        {
            "cases.submitter_id": [
                "TCGA-A1-0001",
                "TCGA-A1-0001",
                "TCGA-A1-0002",
                "TCGA-A1-0003",
                "TCGA-A1-0004",
            ],
            "demographic.vital_status": ["Dead", "Dead", "Alive", "'--", "Dead"],
            "demographic.days_to_death": ["500", "500", "'--", "'--", "'--"],
            "diagnoses.days_to_last_follow_up": ["300", "450", "1200", "80", "700"],
        }
    )
    out = survival_from_clinical(clinical)
    assert list(out.index) == ["TCGA-A1-0001", "TCGA-A1-0002", "TCGA-A1-0003", "TCGA-A1-0004"]
    assert out.loc["TCGA-A1-0001"].tolist() == [500.0, 1.0]
    assert out.loc["TCGA-A1-0002"].tolist() == [1200.0, 0.0]
    assert out.loc["TCGA-A1-0003"].isna().all()
    assert out.loc["TCGA-A1-0004"].tolist() == [700.0, 1.0]  # dead without day of death: last follow-up


def test_survival_from_cbioportal_fields(tmp_path):
    path = tmp_path / "data_clinical_patient.txt"
    path.write_text(
        "#Patient Identifier\tOverall Survival Status\tOverall Survival (Months)\n"
        "#Patient identifier\tstatus\tmonths\n#STRING\tSTRING\tNUMBER\n#1\t1\t1\n"
        "PATIENT_ID\tOS_STATUS\tOS_MONTHS\n"
        "TCGA-A1-0001\t1:DECEASED\t12\nTCGA-A1-0002\t0:LIVING\t24.5\nTCGA-A1-0003\t[Not Available]\t[Not Available]\n"
    )
    out = survival_from_clinical(path)
    assert out.loc["TCGA-A1-0001", "os_time"] == pytest.approx(12 * DAYS_PER_MONTH)
    assert out.loc["TCGA-A1-0001", "os_event"] == 1.0 and out.loc["TCGA-A1-0002", "os_event"] == 0.0
    assert out.loc["TCGA-A1-0003"].isna().all()


def test_survival_from_clinical_bad_input():
    with pytest.raises(FormatError, match="cannot tell the clinical source"):
        survival_from_clinical(pd.DataFrame({"x": [1]}))
    with pytest.raises(FormatError, match="unknown vital status 'zombie'"):
        survival_from_clinical(pd.DataFrame({"vital_status": ["zombie"], "days_to_death": ["1"]}))
    with pytest.raises(FormatError, match="not a number"):
        survival_from_clinical(pd.DataFrame({"vital_status": ["Dead"], "days_to_death": ["soon"]}))
    with pytest.raises(FormatError, match="OS_STATUS"):
        survival_from_clinical(pd.DataFrame({"OS_STATUS": ["2:UNDEAD"], "OS_MONTHS": ["3"]}))
    with pytest.raises(ValueError, match="source"):
        survival_from_clinical(pd.DataFrame({"vital_status": ["Dead"]}), source="xena")
    with pytest.raises(FileNotFoundError):
        survival_from_clinical("/nonexistent/clinical.tsv")


def test_bundled_cohort_survival():
    """The bundled TCGA-BRCA clinical table maps to os_time / os_event for every patient."""
    path = data.path("tcga_brca_labels", "clinical_pam50.tsv")
    raw = pd.read_csv(path, sep="\t")
    out = survival_from_clinical(path, source="gdc")
    assert len(out) == len(raw) == 224
    assert out["os_event"].sum() == (raw["vital_status"] == "Dead").sum() == 38
    assert out["os_time"].notna().all() and (out["os_time"] >= 0).all()
    dead = raw.set_index("patient").query("vital_status == 'Dead'")
    assert np.allclose(out.loc[dead.index, "os_time"], dead["days_to_death"])
    # joins onto a store by patient
    import anndata as ad
    import mudata as md

    samples = [f"{p}-01" for p in raw["patient"].iloc[:5]] + ["TCGA-ZZ-ZZZZ-01"]
    mdata = md.MuData({"rna": ad.AnnData(np.zeros((6, 1)), obs=pd.DataFrame(index=samples))})
    add_clinical_survival(mdata, path)  # no obs["patient"]: taken from the barcodes
    assert mdata.obs["os_time"].iloc[:5].notna().all() and np.isnan(mdata.obs["os_time"].iloc[5])
    assert set(mdata.obs["os_event"].dropna()) <= {0.0, 1.0}
    copy = add_clinical_survival(mdata, raw, source="gdc", time_key="t", event_key="e", copy=True)
    assert "t" in copy.obs.columns and "t" not in mdata.obs.columns


def test_add_clinical_survival_bad_input():
    import anndata as ad
    import mudata as md

    mdata = md.MuData({"rna": ad.AnnData(np.zeros((2, 1)), obs=pd.DataFrame(index=["s1", "s2"]))})
    clinical = pd.DataFrame({"patient": ["p1"], "vital_status": ["Dead"], "days_to_death": ["10"]})
    with pytest.raises(MissingResultError, match="not TCGA barcodes"):
        add_clinical_survival(mdata, clinical)
    mdata.obs["patient"] = ["p1", "p2"]
    add_clinical_survival(mdata, clinical)
    assert mdata.obs["os_time"].tolist()[0] == 10.0 and np.isnan(mdata.obs["os_time"].iloc[1])
