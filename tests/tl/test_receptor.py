"""Receptor status (ER, PR, HER2) from expression and copy number, on the real 121-patient TCGA-BRCA cohort.

Clinical truth: the cohort's ``er_status`` (68 Positive, 53 Negative) and ``her2_status`` (39 Positive, 82
Negative; PathAnalyser's labels). The cohort has no PR label. Balanced accuracy counts our Equivocal calls as
wrong. Measured (docs/precision.md): ER 0.918 (62/68 Positive, 49/53 Negative, 3 Equivocal); HER2 0.769 (the 21
ERBB2-amplified tumours are all clinical Positive, none of the 82 Negatives is called Positive; 18 clinical
Positives have neither amplification nor high ERBB2 expression, nor more RPPA HER2 protein than the Negatives,
which caps any ERBB2-based call, see test_her2_labels_cap_any_erbb2_rule).
"""

from __future__ import annotations

import logging
import warnings

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import InsufficientDataError, MissingResultError

CALL_COLUMNS = ["er_call", "pr_call", "her2_call"]
SCORE_COLUMNS = ["er_score", "pr_score", "her2_score"]


def _balanced_accuracy(truth: pd.Series, calls: pd.Series) -> float:
    """Mean over the clinical classes of the fraction called the same; Equivocal and NaN calls are wrong."""
    truth, calls = truth.astype(object), calls.astype(object)
    return float(np.mean([(calls[truth == c] == c).mean() for c in ("Positive", "Negative")]))


@pytest.fixture(scope="module")
def cohort(brca121_base):
    mdata = brca121_base.copy()
    hm.tl.receptor_status(mdata)
    return mdata


# ------------------------------------------------------------------------------------------ real cohort
def test_er_balanced_accuracy_on_the_real_cohort(cohort):
    obs = cohort.obs
    assert obs["er_status"].value_counts().to_dict() == {"Positive": 68, "Negative": 53}
    assert _balanced_accuracy(obs["er_status"], obs["er_call"]) >= 0.90  # measured 0.918
    table = pd.crosstab(obs["er_call"], obs["er_status"])
    assert table.loc["Positive", "Positive"] == 62 and table.loc["Negative", "Negative"] == 49
    assert int((obs["er_call"] == "Equivocal").sum()) == 3


def test_her2_calls_on_the_real_cohort(cohort):
    obs = cohort.obs
    ba = _balanced_accuracy(obs["her2_status"], obs["her2_call"])
    assert ba >= 0.75  # measured 0.769; the 0.85 is above what these labels allow (next test)
    negatives = obs["her2_status"] == "Negative"
    assert (obs.loc[negatives, "her2_call"] == "Positive").sum() == 0  # no false positive among 82
    # every tumour with ERBB2 log2(CN/2) >= 1 in the raw segments is called Positive and is clinically Positive
    cn = cohort.mod["cnv"]
    erbb2 = pd.Series(np.asarray(cn[:, "ERBB2"].X).ravel(), index=cn.obs_names)
    amplified = erbb2.index[erbb2 >= 1.0]
    assert len(amplified) == 21
    assert (obs.loc[amplified, "her2_call"] == "Positive").all()
    assert (obs.loc[amplified, "her2_status"] == "Positive").all()
    assert (obs.loc[amplified, "her2_score"] == 1.0).all()


def test_her2_labels_cap_any_erbb2_rule(cohort):
    """Even a threshold chosen ON the labels (ERBB2 expression or copy number) stays below 0.85 balanced accuracy."""
    obs = cohort.obs
    truth = obs["her2_status"].astype(object)
    rna, cn = cohort.mod["rna"], cohort.mod["cnv"]
    for adata in (rna, cn):
        values = pd.Series(np.asarray(adata[:, "ERBB2"].X).ravel(), index=adata.obs_names).dropna()
        sub = truth.reindex(values.index)
        best = max(
            _balanced_accuracy(sub, pd.Series(np.where(values > t, "Positive", "Negative"), index=values.index))
            for t in np.unique(values)
        )
        assert best < 0.83  # ceilings 0.816 (expression) and 0.821 (copy number)
    # independent protein evidence (RPPA, not used by the method): the clinical Positives we call Negative have no
    # more HER2 protein than the clinical Negatives, while those we call Positive have more than nearly all of them
    prot = cohort.mod["prot"]
    protein = pd.Series(np.asarray(prot[:, "HER2"].X).ravel(), index=prot.obs_names)
    status, call = truth.reindex(protein.index), obs["her2_call"].astype(object).reindex(protein.index)
    missed = protein[(status == "Positive") & (call == "Negative")]
    found = protein[(status == "Positive") & (call == "Positive")]
    negatives = protein[status == "Negative"]
    assert len(missed) == 16 and len(found) == 16 and len(negatives) == 68
    assert missed.max() < negatives.max()  # 0.64 < 0.80
    assert found.median() > negatives.quantile(0.99)  # 2.49


def test_compare_receptor_status_counts_equivocal_as_wrong(cohort):
    table = hm.tl.compare_receptor_status(cohort).set_index("marker")
    assert list(table.index) == ["ER", "HER2"]  # no PR label in this cohort
    er = table.loc["ER"]
    assert (er["n_labelled"], er["n_positive"], er["n_negative"], er["n_called"]) == (121, 68, 53, 118)
    assert er["balanced_accuracy"] == pytest.approx(_balanced_accuracy(cohort.obs["er_status"], cohort.obs["er_call"]))
    assert er["balanced_accuracy"] == pytest.approx((62 / 68 + 49 / 53) / 2)
    assert er["coverage"] == pytest.approx(118 / 121)
    assert er["balanced_accuracy_called"] > er["balanced_accuracy"]
    assert table.loc["HER2", "specificity"] == 1.0


def test_output_layout_follows_the_contract(cohort):
    obs = cohort.obs
    for column in CALL_COLUMNS:
        assert list(obs[column].cat.categories) == ["Positive", "Equivocal", "Negative"]
    assert list(obs["clinical_group"].cat.categories) == ["HR+/HER2-", "HER2+", "triple-negative"]
    for call, score in zip(CALL_COLUMNS, SCORE_COLUMNS, strict=True):
        values = obs[score]
        assert values.between(0, 1).all()
        # the call is the score read through the 0.1 / 0.9 rule
        assert (obs.loc[values > 0.9, call] == "Positive").all()
        assert (obs.loc[values < 0.1, call] == "Negative").all()
        assert (obs.loc[values.between(0.1, 0.9), call] == "Equivocal").all()
    record = cohort.uns["receptor"]
    assert record["method"] == "receptor_status"
    assert list(record["thresholds"].columns) == ["marker", "feature", "rule", "value", "how_set"]
    assert list(record["evidence"].columns) == ["sample", "marker", "source", "feature", "value", "call"]
    # clinical group from the three calls
    her2_positive = obs["her2_call"] == "Positive"
    assert (obs.loc[her2_positive, "clinical_group"] == "HER2+").all()
    tn = (obs["her2_call"] == "Negative") & (obs["er_call"] == "Negative") & (obs["pr_call"] == "Negative")
    assert (obs.loc[tn, "clinical_group"] == "triple-negative").all()
    assert obs.loc[obs["clinical_group"] == "triple-negative", "pam50_xena"].value_counts().idxmax() == "Basal"


def test_evidence_holds_the_raw_file_values(cohort):
    """ESR1 log2(CPM + 1) from the raw counts file, ERBB2 log2(CN/2) = the covering segment's mean in the file."""
    from harmonomics import data

    counts = pd.read_csv(data.path("tcga_brca_121", "rna_counts.tsv.gz"), sep="\t", index_col=0)
    column = counts["TCGA.UU.A93S"]
    expected = np.log2(column["ESR1"] / column.sum() * 1e6 + 1)
    evidence = cohort.uns["receptor"]["evidence"].set_index(["sample", "feature", "source"])
    assert evidence.loc[("TCGA-UU-A93S-01", "ESR1", "rna"), "value"] == pytest.approx(expected, rel=1e-9)
    cnv = evidence.loc[("TCGA-UU-A93S-01", "ERBB2", "cnv (log2)")]
    assert cnv["value"] == pytest.approx(3.3119) and cnv["call"] == "amplified"
    thresholds = cohort.uns["receptor"]["thresholds"].set_index(["marker", "rule"])
    er_cut = thresholds.xs("ER", level="marker")
    high = er_cut.loc[er_cut.index.str.startswith("posterior > 0.9"), "value"].iloc[0]
    low = er_cut.loc[er_cut.index.str.startswith("posterior < 0.1"), "value"].iloc[0]
    esr1 = evidence.xs("rna", level="source").xs("ESR1", level="feature")["value"]
    er_calls = cohort.obs["er_call"].astype(object)
    assert (er_calls[esr1.index[esr1 > high + 1e-9]] == "Positive").all()
    assert (er_calls[esr1.index[esr1 < low - 1e-9]] == "Negative").all()


def test_thresholds_do_not_depend_on_the_labels(cohort):
    shuffled = cohort.copy()
    rng = np.random.default_rng(0)
    for column in ("er_status", "her2_status"):
        shuffled.obs[column] = rng.permutation(shuffled.obs[column].to_numpy())
    hm.tl.receptor_status(shuffled)
    pd.testing.assert_frame_equal(shuffled.obs[CALL_COLUMNS + SCORE_COLUMNS], cohort.obs[CALL_COLUMNS + SCORE_COLUMNS])
    pd.testing.assert_frame_equal(shuffled.uns["receptor"]["thresholds"], cohort.uns["receptor"]["thresholds"])


def test_raw_counts_give_the_same_calls(cohort):
    """A store holding the raw counts in X (uns scale "counts") is put on log2(CPM + 1) first: same calls."""
    rna = cohort.mod["rna"]
    raw = ad.AnnData(rna.layers["counts"].copy(), obs=pd.DataFrame(index=rna.obs_names), var=rna.var.copy())
    raw.uns["scale"] = "counts"
    store = md.MuData({"rna": raw})
    hm.tl.receptor_status(store)
    ours = store.obs.loc[cohort.obs_names, ["er_call", "pr_call"]]
    pd.testing.assert_frame_equal(ours, cohort.obs[["er_call", "pr_call"]], check_names=False)
    assert store.uns["receptor"]["params"]["expression_scale"] == "counts"


def test_rna_only_and_cnv_only_stores(cohort):
    rna_only = md.MuData({"rna": cohort.mod["rna"].copy()})
    hm.tl.receptor_status(rna_only)
    assert rna_only.obs["her2_call"].notna().all()
    report = rna_only.uns["harmonomics_report"]
    assert ((report["item"] == "cnv") & (report["action"] == "absent")).any()
    assert set(rna_only.uns["receptor"]["evidence"]["source"]) == {"rna"}

    cnv_only = md.MuData({"cnv": cohort.mod["cnv"].copy()})
    hm.tl.receptor_status(cnv_only)
    assert cnv_only.obs["er_call"].isna().all() and cnv_only.obs["pr_call"].isna().all()
    her2_positive = cnv_only.obs["her2_call"] == "Positive"  # HER2+ needs no hormone-receptor call
    assert (cnv_only.obs.loc[her2_positive, "clinical_group"] == "HER2+").all()
    assert cnv_only.obs.loc[~her2_positive, "clinical_group"].isna().all()
    her2 = cnv_only.obs["her2_call"]
    assert int((her2 == "Positive").sum()) == 21 and int((her2 == "Negative").sum()) == 98
    assert set(cnv_only.obs["her2_score"].dropna()) == {0.0, 1.0}


# ------------------------------------------------------------------------------------------ a hand-made store
def _tiny(
    n_low: int = 20, n_high: int = 20, *, cn: dict[int, float] | None = None, gistic: dict[int, int] | None = None
):
    """Samples s00.. with ESR1/PGR/ERBB2 log2 expression: the first n_low at about 2, the rest at about 10, plus one
    sample (the last) exactly halfway (6.0). ERBB2 copy number 0 except ``cn``; GISTIC 0 except ``gistic``."""
    offsets = np.linspace(-0.3, 0.3, max(n_low, n_high))
    values = np.concatenate([2 + offsets[:n_low], 10 + offsets[:n_high], [6.0]])
    names = [f"s{i:02d}" for i in range(values.size)]
    genes = ["ESR1", "PGR", "ERBB2", "ACTB"]
    x = np.column_stack([values, values, 12.0 - values, np.full(values.size, 8.0)])  # ERBB2 mirrors ESR1
    rna = ad.AnnData(x, obs=pd.DataFrame(index=names), var=pd.DataFrame(index=genes))
    rna.uns["scale"] = "log2"
    copy_number = np.zeros((values.size, 2))
    for i, v in (cn or {}).items():
        copy_number[i, :] = v
    cnv = ad.AnnData(copy_number, obs=pd.DataFrame(index=names), var=pd.DataFrame(index=["ERBB2", "GRB7"]))
    cnv.uns["scale"] = "log2"
    if gistic is not None:
        levels = np.zeros_like(copy_number)
        for i, v in gistic.items():
            levels[i, :] = v
        cnv.layers["gistic"] = levels
    return md.MuData({"rna": rna, "cnv": cnv})


def test_tiny_store_known_calls():
    # s00..s19 low ESR1/PGR and high ERBB2 (mirrored), s20..s39 the reverse, s40 halfway in all three; s39 (ERBB2
    # low) is amplified (log2 1.5); s20 has a gain just below the cut-off (0.99)
    mdata = _tiny(cn={39: 1.5, 20: 0.99})
    hm.tl.receptor_status(mdata)
    obs = mdata.obs
    low, high = [f"s{i:02d}" for i in range(20)], [f"s{i:02d}" for i in range(20, 40)]
    assert (obs.loc[low, "er_call"] == "Negative").all() and (obs.loc[high, "er_call"] == "Positive").all()
    assert obs.at["s40", "er_call"] == "Equivocal" and obs.at["s40", "pr_call"] == "Equivocal"
    assert 0.1 <= obs.at["s40", "er_score"] <= 0.9
    # ERBB2 expression is high in s00..s19: Positive; s39 is low but amplified → Positive, score 1
    assert (obs.loc[low, "her2_call"] == "Positive").all()
    assert obs.at["s39", "her2_call"] == "Positive" and obs.at["s39", "her2_score"] == 1.0
    assert obs.at["s20", "her2_call"] == "Negative"  # 0.99 < 1: expression decides
    assert (obs.loc[high[:-1], "her2_call"] == "Negative").all()
    assert (obs.loc[low, "clinical_group"] == "HER2+").all()
    assert (obs.loc[high[:-1], "clinical_group"] == "HR+/HER2-").all()
    assert pd.isna(obs.at["s40", "clinical_group"])
    thresholds = mdata.uns["receptor"]["thresholds"]
    er = thresholds[(thresholds["marker"] == "ER") & (thresholds["feature"] == "ESR1")]
    assert (er["value"].iloc[0] > 6.0) and (er["value"].iloc[1] < 6.0)  # the cuts straddle the midpoint
    mixture = mdata.uns["receptor"]["mixtures"].set_index("feature").loc["ESR1"]
    assert mixture["n"] == 41
    assert mixture["mean_negative"] == pytest.approx(2.0, abs=0.2) and mixture["mean_positive"] == pytest.approx(
        10.0, abs=0.2
    )
    assert mixture["weight_positive"] == pytest.approx(0.5, abs=0.03)


def test_triple_negative_group():
    mdata = _tiny()
    rna = mdata.mod["rna"]
    rna.X[:, 2] = rna.X[:, 0]  # ERBB2 follows ESR1: low group is ER-, PR-, HER2-
    hm.tl.receptor_status(mdata)
    assert (mdata.obs.loc[[f"s{i:02d}" for i in range(20)], "clinical_group"] == "triple-negative").all()


def test_gistic_layer_is_preferred_over_log2():
    mdata = _tiny(cn={5: 1.8}, gistic={30: 2, 5: 1})
    hm.tl.receptor_status(mdata)
    obs = mdata.obs
    assert obs.at["s30", "her2_call"] == "Positive" and obs.at["s30", "her2_score"] == 1.0  # GISTIC 2, log2 0
    record = mdata.uns["receptor"]
    assert record["params"]["copy_number_source"] == "gistic"
    rule = record["thresholds"].query("feature == 'ERBB2' and marker == 'HER2'")["rule"].iloc[-1]
    assert rule.startswith("GISTIC >= 2")
    evidence = record["evidence"].set_index(["sample", "feature", "source"])
    assert evidence.loc[("s05", "ERBB2", "cnv (gistic)"), "call"] == "not amplified"  # gain (1) is not amplification
    assert evidence.loc[("s05", "GRB7", "cnv (gistic)"), "call"] == "not amplified (supporting only)"


def _absolute_copy_number():
    mdata = _tiny()
    cn = mdata.mod["cnv"]
    cn.X = np.full(cn.shape, 2.0)
    cn.X[30, :] = 4.0  # log2(4/2) = 1: amplified
    cn.X[31, :] = 3.0  # a gain
    cn.uns["scale"] = "copy_number"  # as read_gdc reads GDC gene-level copy number
    return mdata


def test_absolute_copy_number_raw_or_transformed_gives_the_same_calls():
    raw = _absolute_copy_number()
    hm.tl.receptor_status(raw)
    assert raw.obs.at["s30", "her2_call"] == "Positive" and raw.obs.at["s30", "her2_score"] == 1.0
    assert raw.obs.at["s31", "her2_call"] == "Negative"
    assert raw.uns["receptor"]["params"]["copy_number_source"] == "log2 from copy number"
    transformed = _absolute_copy_number()
    from harmonomics.pp._transforms import transform_cnv  # the step hm.pp.harmonize runs on copy numbers

    transform_cnv(transformed)  # X → log2(CN/2); uns["scale"] still says copy_number
    hm.tl.receptor_status(transformed)
    pd.testing.assert_frame_equal(transformed.obs[CALL_COLUMNS + SCORE_COLUMNS], raw.obs[CALL_COLUMNS + SCORE_COLUMNS])
    assert transformed.uns["receptor"]["params"]["copy_number_source"] == "log2"


def test_copy_returns_a_new_store():
    mdata = _tiny()
    copied = hm.tl.receptor_status(mdata, key_added="rec", copy=True)
    assert "er_call" not in mdata.obs.columns and "rec" not in mdata.uns
    assert "er_call" in copied.obs.columns and "rec" in copied.uns
    assert hm.tl.receptor_status(mdata) is None


def test_results_survive_a_write_and_read(tmp_path):
    mdata = _tiny(cn={39: 1.5})
    hm.tl.receptor_status(mdata)
    path = hm.store.write(mdata, tmp_path / "receptor.h5mu")
    back = hm.store.read(path)
    for column in [*CALL_COLUMNS, "clinical_group"]:
        assert list(back.obs[column].cat.categories) == list(mdata.obs[column].cat.categories)
        assert back.obs[column].astype(object).fillna("").equals(mdata.obs[column].astype(object).fillna(""))
    pd.testing.assert_frame_equal(back.uns["receptor"]["thresholds"], mdata.uns["receptor"]["thresholds"])
    assert back.uns["receptor"]["evidence"].shape == mdata.uns["receptor"]["evidence"].shape


# ------------------------------------------------------------------------------------------ bad input
def test_anndata_is_refused():
    with pytest.raises(TypeError, match="MuData"):
        hm.tl.receptor_status(_tiny().mod["rna"])


def test_no_expression_or_copy_number_raises():
    prot = ad.AnnData(np.zeros((30, 2)), obs=pd.DataFrame(index=[f"s{i}" for i in range(30)]))
    with pytest.raises(MissingResultError, match="needs expression"):
        hm.tl.receptor_status(md.MuData({"prot": prot}))


def test_too_few_samples_raises():
    mdata = _tiny()
    small = md.MuData({"rna": mdata.mod["rna"][:5].copy()})
    with pytest.raises(InsufficientDataError, match="5 expression profile"):
        hm.tl.receptor_status(small)


def test_missing_gene_gives_nan_calls_and_a_report_row(caplog):
    mdata = _tiny()
    rna = mdata.mod["rna"][:, ["ESR1", "ERBB2", "ACTB"]].copy()
    store = md.MuData({"rna": rna, "cnv": mdata.mod["cnv"].copy()})
    with caplog.at_level(logging.WARNING, logger="harmonomics.tl._receptor"):
        hm.tl.receptor_status(store)
    assert store.obs["pr_call"].isna().all() and store.obs["pr_score"].isna().all()
    assert store.obs["er_call"].notna().all()
    report = store.uns["harmonomics_report"]
    row = report[(report["item"] == "PGR") & (report["omic"] == "rna")]
    assert len(row) == 1 and row["action"].iloc[0] == "absent"
    assert "PGR" in caplog.text


def test_unimodal_marker_is_not_called():
    mdata = _tiny()
    rng = np.random.default_rng(0)
    mdata.mod["rna"].X[:, 1] = rng.normal(5.0, 1.0, mdata.n_obs)  # PGR: one population
    hm.tl.receptor_status(mdata)
    assert mdata.obs["pr_call"].isna().all()
    report = mdata.uns["harmonomics_report"]
    assert report.loc[report["item"] == "PGR", "reason"].str.contains("not bimodal").all()


def test_copy_number_on_an_unknown_scale_raises():
    mdata = _tiny()
    mdata.mod["cnv"].uns["scale"] = "beta"
    with pytest.raises(MissingResultError, match="scale 'beta'"):
        hm.tl.receptor_status(mdata)


# ------------------------------------------------------------------------------------------ confidence intervals
Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def _wilson_closed_form(k: int, n: int) -> tuple[float, float]:
    """Wilson (1927) score interval: (p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2)) / (1 + Z95**2 / n)
    return centre - half, centre + half


def test_wilson_intervals_from_the_raw_clinical_file(cohort, shared_data):
    clinical = pd.read_csv(shared_data / "tcga_brca_121" / "clinical.tsv", sep="\t", dtype=str).set_index("patient")
    patient_call = cohort.obs.set_index("patient")
    table = hm.tl.compare_receptor_status(cohort).set_index("marker")
    for marker, status, call in (("ER", "er_status", "er_call"), ("HER2", "her2_status", "her2_call")):
        truth = clinical[status]
        ours = patient_call[call].astype(object).reindex(truth.index)  # Equivocal / missing: never equal, wrong
        for label, column in (("Positive", "sensitivity"), ("Negative", "specificity")):
            k, n = int(((truth == label) & (ours == label)).sum()), int((truth == label).sum())
            low, high = _wilson_closed_form(k, n)
            row = table.loc[marker]
            assert row[column] == pytest.approx(k / n)
            assert row[f"{column}_low"] == pytest.approx(low, abs=1e-12)
            assert row[f"{column}_high"] == pytest.approx(high, abs=1e-12)
    er = table.loc["ER"]
    assert (er["sensitivity"], er["specificity"]) == (62 / 68, 49 / 53)
    assert table.loc["HER2", "specificity_high"] == pytest.approx(1.0)  # 82/82: the Wilson bound stays inside [0, 1]
    # bootstrap of the balanced accuracy: covers the point estimate, the same for the same seed
    for marker in ("ER", "HER2"):
        assert table.loc[marker, "balanced_accuracy_low"] < table.loc[marker, "balanced_accuracy"]
        assert table.loc[marker, "balanced_accuracy"] < table.loc[marker, "balanced_accuracy_high"]
    again = hm.tl.compare_receptor_status(cohort, seed=0).set_index("marker")
    pd.testing.assert_frame_equal(table, again)
    other = hm.tl.compare_receptor_status(cohort, seed=1).set_index("marker")
    assert other.loc["ER", "balanced_accuracy_low"] != table.loc["ER", "balanced_accuracy_low"]
    assert list(table.columns[-6:]) == [
        "sensitivity_low",
        "sensitivity_high",
        "specificity_low",
        "specificity_high",
        "balanced_accuracy_low",
        "balanced_accuracy_high",
    ]


def _synthetic(n_per_class: int, right: float = 0.8) -> md.MuData:
    """n Positives and n Negatives, the first ``right`` share of each called correctly, the rest Equivocal/wrong."""
    k = round(right * n_per_class)
    truth = ["Positive"] * n_per_class + ["Negative"] * n_per_class
    calls = ["Positive"] * k + ["Equivocal"] * (n_per_class - k) + ["Negative"] * k + ["Positive"] * (n_per_class - k)
    names = [f"S{i:04d}" for i in range(2 * n_per_class)]
    mdata = md.MuData({"rna": ad.AnnData(np.zeros((len(names), 1)), obs=pd.DataFrame(index=names))})
    mdata.obs["er_status"] = truth
    mdata.obs["er_call"] = pd.Categorical(calls, categories=["Positive", "Equivocal", "Negative"])
    return mdata


def test_bootstrap_interval_narrows_with_more_samples():
    widths = {}
    for n in (25, 400):
        row = hm.tl.compare_receptor_status(_synthetic(n), references={"ER": "er_status"}, seed=3).iloc[0]
        assert row["balanced_accuracy"] == pytest.approx(0.8)
        assert row["balanced_accuracy_low"] < 0.8 < row["balanced_accuracy_high"]
        widths[n] = row["balanced_accuracy_high"] - row["balanced_accuracy_low"]
    # the balanced accuracy's sd is sqrt(0.8 · 0.2 / n / 2); its 95% interval is about 2 · 1.96 sd wide
    for n, width in widths.items():
        assert width == pytest.approx(2 * Z95 * np.sqrt(0.16 / n / 2), rel=0.2)
    assert widths[400] < widths[25] / 3


def test_no_clinical_positive_gives_missing_intervals_without_warnings():
    mdata = _synthetic(10)
    mdata.obs["er_status"] = "Negative"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = hm.tl.compare_receptor_status(mdata, references={"ER": "er_status"}).iloc[0]
    assert row["n_positive"] == 0
    for column in ("sensitivity", "balanced_accuracy"):
        assert np.isnan(row[column]) and np.isnan(row[f"{column}_low"]) and np.isnan(row[f"{column}_high"])
    # all 20 are now clinical Negatives; 8 of them are called Negative
    assert row["specificity"] == pytest.approx(8 / 20)
    assert (row["specificity_low"], row["specificity_high"]) == pytest.approx(_wilson_closed_form(8, 20))
