"""The DIABLO section of hm.report, on a hand-made fit in the contract layout (tests/diablo_fixture.py)."""

from __future__ import annotations

import html
import importlib.util
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm

_spec = importlib.util.spec_from_file_location("_diablo_fixture", Path(__file__).parent / "diablo_fixture.py")
F = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(F)


def _section(text: str, sid: str) -> str | None:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', text, flags=re.S)
    return match.group(1) if match else None


def _rows(section: str) -> list[list[str]]:
    """The cells of every table row, as plain text."""
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", section, flags=re.S):
        out.append([html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)])
    return out


@pytest.fixture
def predicted():
    """The fixture store with a predict_diablo result: 2 of 16 Basal called LumA, 1 of 16 Her2 called Basal."""
    mdata = F.make_diablo_store()
    truth = mdata.obs["pam50"].astype(str).to_numpy()
    pred = truth.copy()
    basal, her2 = np.flatnonzero(truth == "Basal"), np.flatnonzero(truth == "Her2")
    pred[basal[:2]] = "LumA"
    pred[her2[:1]] = "Basal"
    mdata.obs["diablo_prediction"] = pd.Categorical(pred, categories=F.CLASSES)
    per_block = pd.DataFrame({"rna": truth, "mirna": pred}, index=mdata.obs_names, dtype=object)
    mdata.uns["diablo_prediction"] = {
        "per_block": per_block,
        "distance": "centroids",
        "vote": "weighted",
        "weights": {"rna": 0.5, "mirna": 0.5},
    }
    return mdata, truth, pred


def test_report_has_a_diablo_section_with_the_fit(predicted, tmp_path):
    mdata, truth, pred = predicted
    mdata.uns["diablo"]["tuning"] = pd.DataFrame(
        {"keep_rna": [5, 10, 20], "keep_mirna": [5, 5, 10], "balanced_error": [0.21, 0.125, 0.17]}
    )
    text = hm.report(mdata, tmp_path / "r.html").read_text(encoding="utf-8")
    section = _section(text, "diablo")
    assert section is not None and '<a href="#diablo">' in text
    rows = _rows(section)
    # parameters
    assert ["label", "pam50"] in rows and ["blocks", "rna, mirna, prot"] in rows
    assert ["classes", "Basal, Her2, LumA"] in rows and ["scaled", "yes"] in rows
    assert ["mods", "rna, mirna, prot"] in rows and ["max_iter", "100"] in rows  # from params
    # selected features per block and component: keep, count and the names, largest |loading| first
    for (block, k), chosen in F.SELECTED.items():
        assert [block, f"comp{k}", str(len(chosen)), str(len(chosen)), ", ".join(chosen)] in rows
    # every loading is listed
    assert ["GENE3", "rna", "1", "0.62"] in rows and ["PROT2", "prot", "2", "-0.9"] in rows
    # explained variance in %
    assert ["rna", "21", "8"] in rows and ["prot", "25", "11"] in rows
    # balanced error of the prediction, computed here: mean over classes of the fraction misclassified
    want = np.mean([np.mean(pred[truth == c] != c) for c in F.CLASSES])
    assert want == pytest.approx(3 / 48)
    assert ["all blocks (vote)", "48", f"{want:.3g}"] in rows
    assert ["rna", "48", "0"] in rows  # the rna block's calls are the truth
    assert "Lowest cross-validated balanced_error: <b>0.125</b>" in section
    # three figures: samples, correlation circle, heatmap
    assert len(re.findall(r'<img src="data:image/png;base64,', section)) == 3
    for alt in ("DIABLO sample plots", "DIABLO correlation circle", "DIABLO clustered heatmap"):
        assert f'alt="{alt}"' in section


def test_no_diablo_section_without_a_fit(tmp_path):
    mdata = F.make_diablo_store()
    del mdata.uns["diablo"]
    text = hm.report(mdata, tmp_path / "r.html").read_text(encoding="utf-8")
    assert _section(text, "diablo") is None and "#diablo" not in text


def test_diablo_section_without_prediction_says_how_to_get_one(tmp_path):
    mdata = F.make_diablo_store(key="diablo_rna_mirna")
    text = hm.report(mdata, tmp_path / "r.html").read_text(encoding="utf-8")
    section = _section(text, "diablo")
    assert "No prediction error in the store" in section and "hm.tl.predict_diablo" in section
    assert ["result key", "diablo_rna_mirna"] in _rows(section)
