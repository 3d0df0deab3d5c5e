"""DIABLO's summaries, exports and report section on the real published split (tcga_brca_mini), fitted by
hm.tl.diablo itself (tests/diablo_fixture.py checks the same faces on a hand-made fit)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import harmonomics as hm

KEEP = {"rna": [30, 10], "mirna": [15, 30], "prot": [10, 5]}  # the tuned values (tests/tl/test_diablo.py)


@pytest.fixture(scope="module")
def split():
    mdata = hm.datasets.tcga_brca_mini()
    train = mdata[mdata.obs["split"] == "train"].copy()
    test = mdata[mdata.obs["split"] == "test"].copy()
    hm.tl.diablo(train, mods=["rna", "mirna", "prot"], n_components=2, keep=KEEP)
    return train, test


def test_circle_coordinates_are_pearson_correlations_with_the_variates(split):
    train, _ = split
    variates = hm.tl.diablo_correlations(train).variates
    row = variates[(variates["block"] == "rna") & (variates["component"] == 1)].iloc[0]
    rna = train.mod["rna"]
    x = np.asarray(rna[:, row["feature"]].X, dtype=float).ravel()
    comp = rna.obsm["diablo"]["comp1"].to_numpy()
    assert row["correlation"] == pytest.approx(np.corrcoef(x, comp)[0, 1], abs=1e-10)


def test_exported_signature_scores_a_new_cohort(split, tmp_path):
    train, test = split
    gmt = hm.export.diablo_gmt(train, tmp_path / "diablo.gmt", blocks=["rna"])
    hm.tl.score_signatures(test, gmt, mod="rna")
    scores = test.obsm["signature_scores"]
    up, down = scores["diablo_comp1_rna_up"], scores["diablo_comp1_rna_down"]
    pam50 = test.obs["pam50"].astype(str)
    keep = pam50.isin(["Basal", "LumA"]).to_numpy()
    auc = roc_auc_score(pam50[keep] == "Basal", (up - down)[keep])
    assert max(auc, 1 - auc) > 0.95


def test_report_lists_the_selected_features(split, tmp_path):
    train, _ = split
    text = hm.report(train, tmp_path / "r.html").read_text()
    section = text[text.index('id="diablo"') :]
    section = section[: section.index("</section>")]
    selected = train.uns["diablo"]["selected"]
    for feature in selected.loc[(selected["block"] == "rna") & (selected["component"] == 1), "feature"].head(5):
        assert feature in section
