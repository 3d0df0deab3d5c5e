"""hm.report(..., patient=...): the one-patient card, on the real 121-patient TCGA-BRCA cohort.

The receptor calls, TMB and actionable table (contract B) are written by other slices' functions; here the fixture
sets them itself, and the card must show exactly those values. PAM50, ROR and the immune scores are the package's
own calls on the real RNA; the factor scores are principal components of it (stored by the test). Also: the
"not computed — run hm.tl.X(mdata)" messages of a store without results, the cohort report's "Actionable
alterations by subtype" table, the CLI option, and the card in headless chromium.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import UnknownSampleError

PATIENT = "TCGA-A1-A0SK"  # Basal-like, ER-/HER2- (clinical), has every omic
SAMPLE = f"{PATIENT}-01"
RECEPTOR_LEVELS = ["Positive", "Equivocal", "Negative"]
GROUP_LEVELS = ["HR+/HER2-", "HER2+", "triple-negative"]


def principal_components(mdata, k: int = 5, n_genes: int = 2000) -> pd.DataFrame:
    rna = mdata["rna"]
    x = np.asarray(rna.X, dtype=float)
    x = x[:, np.argsort(-x.var(axis=0), kind="stable")[:n_genes]]
    x = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    scores = pd.DataFrame(u[:, :k] * s[:k], index=rna.obs_names, columns=[f"Factor{i + 1}" for i in range(k)])
    return scores.reindex(mdata.obs_names)


def add_contract_results(mdata) -> None:
    """Receptor calls, clinical group, TMB and an actionable table as contract B lays them out (values set here)."""
    n = mdata.n_obs
    others = np.arange(n) != mdata.obs_names.get_loc(SAMPLE)
    er = np.where(others, "Positive", "Negative")
    mdata.obs["er_call"] = pd.Categorical(er, categories=RECEPTOR_LEVELS)
    mdata.obs["er_score"] = np.where(others, 0.93, 0.021)
    mdata.obs["pr_call"] = pd.Categorical(np.where(others, "Positive", None), categories=RECEPTOR_LEVELS)
    mdata.obs["pr_score"] = np.where(others, 0.8, np.nan)
    mdata.obs["her2_call"] = pd.Categorical(np.where(others, "Negative", "Equivocal"), categories=RECEPTOR_LEVELS)
    mdata.obs["her2_score"] = np.where(others, 0.1, 0.512)
    mdata.obs["clinical_group"] = pd.Categorical(np.where(others, "HR+/HER2-", None), categories=GROUP_LEVELS)
    mdata.obs["tmb"] = np.where(others, 1.0, 12.25)
    mdata.obs["tmb_mutations"] = np.where(others, 30, 392)
    mdata.obs["hypermutated"] = pd.array(np.where(others, False, True), dtype="boolean")
    mdata.uns["tmb"] = {"exome_size_mb": 32.0, "threshold": 10.0, "variant_classes": ["Missense_Mutation"]}
    mdata.uns["actionable"] = pd.DataFrame(
        {
            "sample": [SAMPLE, SAMPLE, "TCGA-A1-A0SD-01"],
            "gene": ["PIK3CA", "ERBB2", "AKT1"],
            "alteration": ["p.H1047R", "amplification", "p.E17K"],
            "alteration_type": ["mutation", "amplification", "mutation"],
            "evidence": ["MAF: Missense_Mutation p.H1047R", "cnv GISTIC 2", "MAF: Missense_Mutation p.E17K"],
            "biomarker": ["PIK3CA activating mutation", "ERBB2 amplification", "AKT1 E17K"],
            "therapy_class": ["PI3K-alpha inhibitor", "anti-HER2 <antibody>", "AKT inhibitor"],
            "evidence_level": ["approved_breast", "guideline", "investigational"],
            "source": ["FDA label (test)", "NCCN (test)", "trial (test)"],
        }
    )
    mdata.obs["n_actionable"] = np.where(others, 0, 2)


@pytest.fixture(scope="module")
def cohort(brca121_base):
    mdata = brca121_base.copy()
    hm.tl.pam50(mdata)
    hm.tl.immune_scores(mdata)
    hm.tl.immune_status(mdata, factors_key=None)
    mdata.obsm["mofa"] = principal_components(mdata)
    mdata.uns["mofa"] = {"factor_names": list(mdata.obsm["mofa"].columns)}
    add_contract_results(mdata)
    return mdata


def lean(mdata, samples=None, *, n_vars: int = 50, obs=("patient", "sample_type_code", "pam50")):
    """The cohort reduced to a few features per omic and a few obs columns (cheap to write and to report on)."""
    import mudata as md

    samples = list(mdata.obs_names if samples is None else samples)
    mods = {m: a[a.obs_names.isin(samples), :n_vars].copy() for m, a in mdata.mod.items()}
    out = md.MuData(mods)
    for column in obs:
        out.obs[column] = mdata.obs[column].reindex(out.obs_names).to_numpy()
    for key in ("actionable",):
        if key in mdata.uns:
            out.uns[key] = mdata.uns[key]
    return out


@pytest.fixture(scope="module")
def card(cohort, tmp_path_factory):
    before = (list(cohort.obs.columns), sorted(cohort.uns), sorted(cohort.obsm))
    path = hm.report(cohort, tmp_path_factory.mktemp("card") / "card.html", patient=PATIENT)
    after = (list(cohort.obs.columns), sorted(cohort.uns), sorted(cohort.obsm))
    return {"path": path, "text": path.read_text(encoding="utf-8"), "unchanged": before == after}


def _section(text: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', text, flags=re.S)
    assert match, f"section {sid} missing"
    return match.group(1)


def _rows(fragment: str) -> list[list[str]]:
    """The body rows of the HTML tables in a fragment, as lists of unescaped cell texts."""
    rows = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", fragment, flags=re.S):
        for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            rows.append([html.unescape(re.sub(r"<[^>]+>", "", c)) for c in cells])
    return rows


def _facts(fragment: str) -> dict[str, str]:
    return {r[0]: r[1] for r in _rows(fragment) if len(r) == 2}


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_card_identifies_the_sample_and_its_omics(card, cohort):
    assert card["path"].name == "card.html"
    text = card["text"]
    assert "<title>Patient card — TCGA-A1-A0SK-01</title>" in text
    assert 'class="note error"' not in text
    facts = _facts(_section(text, "patient"))
    assert facts["sample"] == SAMPLE and facts["patient"] == PATIENT and facts["sample type"] == "TP"
    assert facts["stage"] == cohort.obs.at[SAMPLE, "stage"]
    omics = {r[0]: r for r in _rows(_section(text, "patient")) if len(r) == 4}
    assert set(omics) == {"rna", "cnv", "mut", "prot"}
    for mod, row in omics.items():
        assert row[2] == "yes"
        assert row[3] == cohort[mod].obs.at[SAMPLE, "aliquot"]


def _tiles(fragment: str) -> dict[str, str]:
    pairs = re.findall(r'<div class="card-label">(.*?)</div><div class="card-value">(.*?)</div>', fragment)
    return {html.unescape(k): html.unescape(v) for k, v in pairs}


def test_card_tiles_give_the_main_calls(card, cohort):
    assert _tiles(_section(card["text"], "patient")) == {
        "PAM50": "Basal",
        "clinical group": "–",  # set missing for this sample by the fixture
        "immune class": cohort.obs.at[SAMPLE, "immune_class"],
        "TMB / Mb": "12.2",
        "actionable alterations": "2",
    }


def test_card_shows_pam50_and_ror(card, cohort):
    facts = _facts(_section(card["text"], "subtype"))
    obs = cohort.obs.loc[SAMPLE]
    assert facts["PAM50 call"] == obs["pam50"] == "Basal"
    assert facts["published PAM50 (xena)"] == "Basal" and facts["published PAM50 (tcga2012)"] == "Basal"
    assert facts["confidence (correlation to the centroid)"] == f"{obs['pam50_confidence']:.3g}"
    ror = facts["risk of recurrence, ROR-S (subtype), 0–100"]
    assert ror == f"{obs['pam50_ror_s']:,.1f} ({obs['pam50_ror_s_group']} risk)"


def test_card_shows_receptor_calls_beside_the_clinical_status(card):
    section = _section(card["text"], "receptors")
    rows = {r[0]: r[1:] for r in _rows(section) if len(r) == 4}
    assert rows == {
        "ER": ["Negative", "0.021", "Negative"],
        "PR": ["no call", "–", "not in the store"],
        "HER2": ["Equivocal", "0.512", "Negative"],
    }
    assert _facts(section)["clinical group"] == "no group (a call missing or Equivocal)"


def test_card_shows_immune_status_and_pdl1(card, cohort):
    facts = _facts(_section(card["text"], "immune"))
    assert facts["immune class"] == cohort.obs.at[SAMPLE, "immune_class"]
    assert facts["PD-L1 (CD274) expression call"] == cohort.obs.at[SAMPLE, "immune_pdl1_status"]
    scores = cohort.obsm["immune"].loc[SAMPLE]
    assert facts["PD-L1 (CD274) expression, log2(TPM + 1)"] == f"{scores['pdl1']:.3g}"
    assert float(facts["cytolytic activity (GZMA, PRF1)"]) == pytest.approx(scores["cyt"], rel=5e-3)


def test_card_shows_tmb(card):
    facts = _facts(_section(card["text"], "tmb"))
    assert facts == {
        "TMB (mutations per Mb)": "12.2",
        "mutations counted": "392",
        "hypermutated (TMB ≥ 10/Mb)": "yes",
        "exome size used (Mb)": "32",
    }


def test_card_shows_exactly_the_samples_actionable_rows(card):
    section = _section(card["text"], "actionable")
    assert _rows(section) == [
        [
            "PIK3CA",
            "p.H1047R",
            "mutation",
            "MAF: Missense_Mutation p.H1047R",
            "PIK3CA activating mutation",
            "PI3K-alpha inhibitor",
            "approved_breast",
            "FDA label (test)",
        ],
        [
            "ERBB2",
            "amplification",
            "amplification",
            "cnv GISTIC 2",
            "ERBB2 amplification",
            "anti-HER2 <antibody>",
            "guideline",
            "NCCN (test)",
        ],
    ]
    assert "anti-HER2 &lt;antibody&gt;" in section  # escaped
    assert "AKT1" not in section  # another sample's row
    assert "For research, not for treatment decisions." in _text(section)
    assert "For research, not for treatment decisions." in _text(card["text"].split("</header>")[0])


def test_card_lists_the_nearest_patients_from_the_stored_scores(card, cohort):
    section = _section(card["text"], "neighbours")
    scores = cohort.obsm["mofa"].to_numpy()
    q = cohort.obs_names.get_loc(SAMPLE)
    distance = pd.Series(np.sqrt(((scores - scores[q]) ** 2).sum(axis=1)), index=cohort.obs_names).drop(SAMPLE)
    nearest = distance.sort_values().head(5)
    rows = _rows(section)
    assert [r[0] for r in rows] == list(nearest.index)
    assert [float(r[1]) for r in rows] == pytest.approx(nearest.to_numpy(), rel=2e-3)
    assert [r[4] for r in rows] == list(cohort.obs.loc[nearest.index, "pam50"].astype(str))
    assert [r[5] for r in rows] == list(cohort.obs.loc[nearest.index, "clinical_group"].astype(str))
    assert "This sample: PAM50 Basal." in _text(section)


def test_card_is_self_contained_and_leaves_the_store_unchanged(card):
    text = card["text"]
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert "default-src 'none'" in text
    assert card["unchanged"]


MESSAGES = {
    "subtype": "PAM50 subtype: not computed — run hm.tl.pam50(mdata).",
    "receptors": "Receptor calls from the omics: not computed — run hm.tl.receptor_status(mdata).",
    "immune": "Immune scores and PD-L1: not computed — run hm.tl.immune_scores(mdata).",
    "tmb": "Tumour mutational burden: not computed — run hm.tl.tmb(mdata).",
    "actionable": "Actionable alterations: not computed — run hm.tl.actionable(mdata).",
    "neighbours": "Factor scores (obsm['mofa']): not computed — run hm.tl.mofa(mdata, key_added='mofa').",
}


def test_card_of_a_store_without_results_says_what_to_run(brca121_base, tmp_path):
    mdata = brca121_base.copy()
    text = hm.report(mdata, tmp_path, patient="tcga.a1.a0sk").read_text(encoding="utf-8")
    assert set(_tiles(_section(text, "patient")).values()) == {"not computed"}
    for sid, message in MESSAGES.items():
        assert message in _text(_section(text, sid)), sid
    immune = _text(_section(text, "immune"))
    assert "Immune class (hot / intermediate / cold): not computed — run hm.tl.immune_status(mdata)." in immune
    # clinical status is still shown without the calls
    rows = {r[0]: r[1:] for r in _rows(_section(text, "receptors")) if len(r) == 4}
    assert rows["ER"] == ["not computed", "–", "Negative"] and "PR" not in rows
    assert 'class="note error"' not in text
    assert (tmp_path / "harmonomics_card_TCGA-A1-A0SK-01.html").is_file()


def test_card_of_a_sample_without_mutation_data(cohort, tmp_path):
    sample = next(s for s in cohort.obs_names if s not in cohort["mut"].obs_names)
    mdata = cohort.copy()
    mdata.obs.loc[sample, "tmb"] = np.nan
    immune = mdata.obsm["immune"].copy()
    immune.loc[sample] = np.nan  # as for a sample without expression data
    mdata.obsm["immune"] = immune
    text = hm.report(mdata, tmp_path / "c.html", patient=sample).read_text(encoding="utf-8")
    assert "No tumour mutational burden for this sample (the store has no mutation data for it)." in _text(text)
    omics = {r[0]: r[2] for r in _rows(_section(text, "patient")) if len(r) == 4}
    assert omics["mut"] == "no"
    assert "This sample has no immune scores (no expression data for it)." in _text(_section(text, "immune"))
    assert "No alteration of this sample matches a biomarker of the table (3 matches in the whole store)." in _text(
        _section(text, "actionable")
    )


def test_card_of_a_panel_sequenced_sample_says_its_panel(shared_data, tmp_path):
    study = shared_data / "real_files" / "cbioportal" / "study_es_0"
    mdata = hm.io.read_cbioportal(study)
    with pytest.warns(UserWarning, match="no coding size for gene panel"):
        hm.tl.tmb(mdata)
    text = hm.report(mdata, tmp_path / "p.html", patient="TEST_SAMPLE_4").read_text(encoding="utf-8")
    assert "sequenced on gene panel TESTPANEL1, whose coding size is unknown" in _text(_section(text, "tmb"))
    hm.tl.tmb(mdata, panel_size_mb={"TESTPANEL1": 0.05, "TESTPANEL2": 0.05})
    text = hm.report(mdata, tmp_path / "q.html", patient="TEST_SAMPLE_4").read_text(encoding="utf-8")
    facts = _facts(_section(text, "tmb"))
    # TEST_SAMPLE_4 has one coding variant in the raw MAF (ACP3 missense), on its panel
    assert facts["mutations counted"] == "1" and facts["TMB (mutations per Mb)"] == "20"
    assert facts["gene panel TESTPANEL1: coding size used (Mb)"] == "0.05"
    # TESTPANEL1 holds BRCA1/BRCA2 but not PIK3CA, AKT1, ESR1, ERBB2 or PTEN: those are unknown, not absent
    hm.tl.actionable(mdata)
    text = hm.report(mdata, tmp_path / "r.html", patient="TEST_SAMPLE_4").read_text(encoding="utf-8")
    note = _text(_section(text, "actionable"))
    assert "Not assessed for this sample (no data for it, or the gene is not on its gene panel TESTPANEL1)" in note
    listed = note.split("unknown rather than absent:")[1].split(".")[0]
    assert "PIK3CA_hotspot" in listed and "AKT1_E17K" in listed and "BRCA_truncating" not in listed


def test_card_unknown_patient_writes_nothing(cohort, tmp_path):
    with pytest.raises(UnknownSampleError, match=r"'TCGA-A1-A0SX' is not in the store.*closest: TCGA-A1-A0SK"):
        hm.report(cohort, tmp_path / "card.html", patient="TCGA-A1-A0SX")
    with pytest.raises(ValueError, match=r"\.html"):
        hm.report(cohort, tmp_path / "card.pdf", patient=PATIENT)
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ the cohort report's actionable table
def test_cohort_report_counts_actionable_biomarkers_per_subtype(cohort, tmp_path):
    mdata = lean(cohort)  # every sample and the real PAM50 calls; a cheap report (no model, few columns)
    mdata.obs["pam50"] = pd.Categorical(mdata.obs["pam50"], categories=["LumA", "LumB", "Her2", "Basal", "Normal"])
    text = hm.report(mdata, tmp_path / "r.html").read_text(encoding="utf-8")
    section = _section(text, "actionable")
    table = mdata.uns["actionable"].drop_duplicates(["sample", "biomarker"])
    pam50 = mdata.obs["pam50"].astype(str)
    expected = pd.crosstab(table["biomarker"], pam50.loc[table["sample"]].to_numpy())
    sizes = pam50.value_counts()
    head = re.search(r"<thead><tr>(.*?)</tr></thead>", section, flags=re.S).group(1)
    columns = [html.unescape(c) for c in re.findall(r"<th>(.*?)</th>", head)]
    levels = ["LumA", "LumB", "Her2", "Basal", "Normal"]
    assert columns == ["biomarker", "therapy class", *[f"{g} (n={sizes[g]})" for g in levels]]
    for row in _rows(section):
        biomarker = row[0]
        for g, cell in zip(levels, row[2:], strict=True):
            n = int(expected.at[biomarker, g]) if g in expected.columns else 0
            # this contract table has no assessed-samples record: every sample of the call is the denominator
            assert cell == f"{n} / {sizes[g]} ({100 * n / sizes[g]:.0f}%)", (biomarker, g)
    assert {r[0] for r in _rows(section)} == set(table["biomarker"])
    assert "For research, not for treatment decisions." in _text(section)

    del mdata.uns["actionable"]
    text = hm.report(mdata, tmp_path / "r2.html").read_text(encoding="utf-8")
    assert "Actionable alterations: not computed — run hm.tl.actionable(mdata)." in _text(_section(text, "actionable"))


def test_cohort_report_states_tmb_and_its_one_test_by_subtype(cohort, tmp_path):
    from scipy.stats import kruskal

    mdata = lean(cohort)
    mdata.obs["pam50"] = pd.Categorical(mdata.obs["pam50"], categories=["LumA", "LumB", "Her2", "Basal", "Normal"])
    hm.tl.tmb(mdata)  # the real burden from the cohort's MAF (the fixture's contract values are made up)
    text = hm.report(mdata, tmp_path / "t.html").read_text(encoding="utf-8")
    section = _section(text, "tmb")
    tmb = mdata.obs["tmb"].astype(float)
    facts = _facts(section)
    assert facts["samples with a TMB"] == f"{int(tmb.notna().sum())} of {mdata.n_obs}"
    by_group = {r[0]: r for r in _rows(section) if len(r) == 4}
    groups = {g: tmb[(mdata.obs["pam50"] == g).to_numpy() & tmb.notna().to_numpy()] for g in by_group}
    for g, row in by_group.items():
        assert int(row[1]) == len(groups[g])
    h, p = kruskal(*[v for v in groups.values() if len(v) >= 2])
    sentence = _text(section)
    assert f"Kruskal–Wallis H = {h:.2f}" in sentence and "needs no multiple-testing correction" in sentence
    assert ("differs between" if p < 0.05 else "does not differ detectably") in sentence


# ------------------------------------------------------------------ command line
def test_cli_writes_a_card(cohort, tmp_path, capsys):
    from harmonomics import cli

    small = lean(cohort, cohort.obs_names[:12])
    assert SAMPLE in small.obs_names
    store = tmp_path / "small.h5mu"
    hm.store.write(small, store)
    out = tmp_path / "card.html"
    assert cli.main(["report", str(store), "--out", str(out), "--patient", PATIENT]) == 0
    assert f"card -> {out}" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert "<title>Patient card — TCGA-A1-A0SK-01</title>" in text
    assert _facts(_section(text, "subtype"))["PAM50 call"] == "Basal"
    assert cli.main(["report", str(store), "--out", str(out), "--patient", "TCGA-A1-A0SX"]) != 0
    err = capsys.readouterr().err
    assert "'TCGA-A1-A0SX' is not in the store" in err and "closest: TCGA-A1-A0SK" in err
    assert cli.main(["report", "--config", str(tmp_path / "c.yaml"), "--patient", PATIENT]) != 0
    assert "--patient writes one patient's card from a STORE" in capsys.readouterr().err


# ------------------------------------------------------------------ in a real browser
@pytest.mark.browser
def test_card_renders_in_headless_chromium(card, tmp_path):
    browser = next(
        (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
    )
    if browser is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=3000",
        "--dump-dom",
        card["path"].as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    headings = re.findall(r'<section id="([a-z]+)"><h2>', done.stdout)
    assert headings == ["patient", "subtype", "receptors", "immune", "tmb", "actionable", "neighbours"], done.stderr
    problems = [
        line
        for line in done.stderr.splitlines()
        if "CONSOLE" in line and any(b in line.lower() for b in ("error", "refused", "violates", "blocked"))
    ]
    assert not problems
