"""The precision-medicine layer end to end on the real cohort: receptor status, TMB and actionable alterations
computed by the package itself, then shown by the patient card and the cohort report.

Values are checked against the raw files the cohort ships (the MAF) and the clinical status, not against the
functions' own output alone.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics import data


@pytest.fixture(scope="module")
def cohort(brca121_base):
    mdata = brca121_base.copy()
    hm.tl.receptor_status(mdata)
    hm.tl.tmb(mdata)
    hm.tl.actionable(mdata)
    return mdata


def _raw_maf() -> pd.DataFrame:
    return pd.read_csv(data.path("tcga_brca_121", "mutations.maf.gz"), sep="\t", comment="#", low_memory=False)


def test_clinical_groups_follow_the_receptor_calls(cohort):
    obs = cohort.obs
    her2_pos = obs["her2_call"] == "Positive"
    assert (obs.loc[her2_pos, "clinical_group"] == "HER2+").all()
    tn = (obs["er_call"] == "Negative") & (obs["pr_call"] == "Negative") & (obs["her2_call"] == "Negative")
    assert (obs.loc[tn, "clinical_group"] == "triple-negative").all()
    # the ER call agrees with the clinic for the large majority (the benchmark reports balanced accuracy 0.92)
    called = obs["er_call"].isin(["Positive", "Negative"]) & obs["er_status"].isin(["Positive", "Negative"])
    agree = (obs.loc[called, "er_call"].astype(str) == obs.loc[called, "er_status"].astype(str)).mean()
    assert agree > 0.9


def test_pik3ca_h1047r_rows_are_raw_maf_lines(cohort):
    table = cohort.uns["actionable"]
    rows = table[(table["gene"] == "PIK3CA") & table["alteration"].astype(str).str.contains("H1047R")]
    raw = _raw_maf()
    protein = next(c for c in ("HGVSp_Short", "Protein_Change", "amino_acid_change_WU") if c in raw.columns)
    hits = raw[(raw["Hugo_Symbol"] == "PIK3CA") & raw[protein].astype(str).str.contains("H1047R")]
    raw_patients = {str(b)[:12] for b in hits["Tumor_Sample_Barcode"]}
    assert len(rows) > 0
    assert {s[:12] for s in rows["sample"]} == raw_patients


def test_card_shows_the_computed_calls(cohort, tmp_path):
    table = cohort.uns["actionable"]
    sample = table.loc[table["gene"] == "ERBB2", "sample"].iloc[0]
    text = html.unescape(hm.report(cohort, tmp_path / "card.html", patient=sample).read_text())
    obs = cohort.obs.loc[sample]
    assert sample in text
    assert str(obs["her2_call"]) in text and str(obs["er_call"]) in text
    assert f"{obs['tmb']:.2f}" in text or f"{obs['tmb']:.1f}" in text
    for gene in table.loc[table["sample"] == sample, "gene"]:
        assert gene in text
    assert "not for treatment decisions" in text.lower()


def test_cohort_report_has_the_actionable_table(cohort, tmp_path):
    hm.tl.pam50(cohort)
    text = hm.report(cohort, tmp_path / "report.html").read_text()
    section = text[text.index('id="actionable"') :]
    section = section[: section.index("</section>")]
    assert "ERBB2" in section or "HER2" in section
    counts = hm.tl.actionable_by_group(cohort, groupby="pam50")
    assert np.all(counts["n_samples"] <= counts["n_group"])
    # the enrichment table: every row with BH FDR < 0.25, by p, with its counts, odds ratio (CI), p and FDR
    section = html.unescape(section)
    n_tests = int(np.isfinite(counts["p"]).sum())
    assert f"Benjamini–Hochberg over the {n_tests} tests of this table" in section
    assert "two-sided Fisher exact test" in section
    enrichment = section[section.index("Enrichment by PAM50 call") :]
    passed = counts[counts["fdr"] < 0.25].sort_values("p")
    assert len(passed) > 0  # HER2-positive tumours are enriched among the Her2 calls (TCGA 2012)
    assert enrichment.count("<tr>") == len(passed) + 1  # header + one row per passing test
    positions = []
    for row in passed.itertuples():
        cell = f"{row.n_samples} / {row.n_group}"
        line = f"<td>{row.biomarker}</td><td>{row.pam50}</td><td>{cell}</td>"
        assert line in enrichment, line
        positions.append(enrichment.index(line))
    assert positions == sorted(positions)
    her2 = counts.set_index(["biomarker", "pam50"]).loc[("HER2_positive", "Her2")]
    assert her2["fdr"] < 0.05 and her2["odds_ratio_low"] > 1
    assert f"{her2['odds_ratio']:.3g} ({her2['odds_ratio_low']:.3g}–{her2['odds_ratio_high']:.3g})" in enrichment


def test_calls_and_cbioportal_exports_carry_the_precision_calls(cohort, tmp_path):
    table = pd.read_csv(hm.export.calls(cohort, tmp_path / "calls.tsv"), sep="\t", index_col="sample_id")
    for column in ("er_call", "pr_call", "her2_call", "clinical_group"):
        expected = cohort.obs[column].astype(object).where(cohort.obs[column].notna(), np.nan)
        pd.testing.assert_series_equal(table[column], expected, check_names=False, check_index=False)
    np.testing.assert_allclose(table["tmb"].to_numpy(), cohort.obs["tmb"].to_numpy(dtype=float), equal_nan=True)
    fitted = cohort.copy()
    hm.tl.mofa(fitted, n_factors=2, mods=["prot"], seed=0)  # the cBioPortal files carry factor scores beside calls
    paths = hm.export.cbioportal(fitted, tmp_path / "cbio")
    clinical = pd.read_csv(paths["clinical_data"], sep="\t", comment="#", index_col="SAMPLE_ID")
    assert clinical.loc[cohort.obs_names, "HARMONOMICS_HER2_CALL"].fillna("NA").tolist() == [
        "NA" if pd.isna(v) else str(v) for v in cohort.obs["her2_call"]
    ]


def test_cohort_report_scores_our_receptor_calls_against_the_clinic(cohort, tmp_path):
    text = hm.report(cohort, tmp_path / "report.html").read_text()
    start = text.index("Our receptor calls against the clinical status")
    block = html.unescape(text[start : text.index("</table>", start)])
    scores = hm.tl.compare_receptor_status(cohort).set_index("marker")
    for marker in ("ER", "HER2"):
        row = scores.loc[marker]
        for column in ("sensitivity", "specificity", "balanced_accuracy"):
            low, high = row[f"{column}_low"], row[f"{column}_high"]
            assert f"{row[column]:.3f} ({low:.3f}–{high:.3f})" in block
    assert "Wilson score intervals" in block and "bootstrap resamples drawn within each clinical class" in block
    # the benchmark's figure (benchmarks/results/precision.md): ER 0.918 (0.864–0.964)
    assert "0.918 (0.864–0.964)" in block
    # ER: the benchmark's figure, Equivocal counted as wrong
    assert scores.loc["ER", "balanced_accuracy"] >= 0.90
