"""hm.export.diablo_table / diablo_gmt, export_all with a DIABLO fit, and scoring a new cohort with the GMT.

The fits are hand-made in the contract layout (tests/diablo_fixture.py, and a stand-in fit on the real
tcga_brca_mini training split below); hm.tl.diablo itself is not called here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import MissingResultError
from harmonomics._gmt import read_gmt

HERE = Path(__file__).resolve().parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


F = _load("_diablo_fixture", HERE / "diablo_fixture.py")
PL = _load("_pl_fixtures", HERE / "pl" / "conftest.py")


@pytest.fixture
def dstore():
    return F.make_diablo_store()


@pytest.mark.parametrize("suffix", ["tsv", "csv", "parquet"])
def test_diablo_table_holds_the_selected_features(dstore, tmp_path, suffix):
    path = hm.export.diablo_table(dstore, tmp_path / f"selected.{suffix}")
    table = pd.read_parquet(path) if suffix == "parquet" else pd.read_csv(path, sep="," if suffix == "csv" else "\t")
    assert list(table.columns) == ["feature", "block", "component", "loading"]
    want = [(f, b, k, w) for (b, k), chosen in F.SELECTED.items() for f, w in chosen.items()]
    assert list(table.itertuples(index=False, name=None)) == want


def test_diablo_gmt_one_set_per_block_component_and_sign(dstore, tmp_path):
    path = hm.export.diablo_gmt(dstore, tmp_path / "diablo.gmt")
    sets, descriptions = read_gmt(path, with_descriptions=True)
    want = {}
    for (block, k), chosen in F.SELECTED.items():
        ranked = sorted(chosen, key=lambda f: -abs(chosen[f]))
        up = [f for f in ranked if chosen[f] > 0]
        down = [f for f in ranked if chosen[f] < 0]
        if up:
            want[f"diablo_comp{k}_{block}_up"] = up
        if down:
            want[f"diablo_comp{k}_{block}_down"] = down
    assert sets == want
    assert sets["diablo_comp1_rna_up"] == ["GENE3", "GENE7", "GENE12"]
    assert sets["diablo_comp1_rna_down"] == ["GENE0", "GENE1"]
    assert descriptions["diablo_comp1_rna_up"] == "harmonomics DIABLO diablo comp1 rna: 3 positive loadings"
    # the raw lines: name, description, members, tab-separated
    first = path.read_text(encoding="utf-8").splitlines()[0].split("\t")
    assert first == ["diablo_comp1_rna_up", descriptions["diablo_comp1_rna_up"], "GENE3", "GENE7", "GENE12"]
    only = read_gmt(hm.export.diablo_gmt(dstore, tmp_path / "mirna.gmt", blocks="mirna"))
    assert set(only) == {n for n in want if "_mirna_" in n}
    with pytest.raises(ValueError, match=r"block\(s\) \['cnv'\]"):
        hm.export.diablo_gmt(dstore, tmp_path / "x.gmt", blocks=["cnv"])
    with pytest.raises(MissingResultError, match="hm.tl.diablo"):
        hm.export.diablo_gmt(dstore, tmp_path / "x.gmt", key="nope")


def test_export_all_includes_a_diablo_fit(tmp_path):
    mdata = PL.make_store(n=40, k=3)
    plain = hm.export.export_all(mdata, tmp_path / "before", formats=("tsv", "gmt"))
    assert not [name for name in plain if "diablo" in name]
    F.add_diablo_fit(mdata, key="diablo")
    written = hm.export.export_all(mdata, tmp_path / "after", formats=("tsv", "parquet", "gmt"))
    assert {"diablo_selected.tsv", "diablo_selected.parquet", "diablo_signatures.gmt"} <= set(written)
    table = pd.read_csv(written["diablo_selected.tsv"], sep="\t")
    pd.testing.assert_frame_equal(table, hm.tl.diablo_selected(mdata))
    assert read_gmt(written["diablo_signatures.gmt"])["diablo_comp2_prot_down"] == ["PROT2"]


# ---------------------------------------------------------------------------------------------------------------
# a new cohort scored with the exported sets: the real tcga_brca_mini split
# ---------------------------------------------------------------------------------------------------------------
def _standin_fit(train, n_per_block: int = 12) -> None:
    """A contract-layout fit whose comp1 selects the features best separating Basal from LumA in ``train``.

    It stands in for hm.tl.diablo (written in parallel): loadings are Welch t statistics (Basal vs LumA)
    scaled to unit norm; comp2 selects nothing.
    """
    labels = train.obs["pam50"].astype(str)
    rows = []
    for block in ("rna", "mirna"):
        adata = train.mod[block]
        x = np.asarray(adata.X, dtype=float)
        y = labels.reindex(adata.obs_names).to_numpy()
        a, b = x[y == "Basal"], x[y == "LumA"]
        t = (a.mean(0) - b.mean(0)) / np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
        top = np.argsort(-np.abs(t))[:n_per_block]
        loadings = pd.DataFrame(0.0, index=adata.var_names, columns=["comp1", "comp2"])
        loadings.iloc[top, 0] = t[top] / np.linalg.norm(t[top])
        adata.varm["diablo"] = loadings
        centred = x - x.mean(0)
        adata.obsm["diablo"] = pd.DataFrame(
            centred @ loadings.to_numpy(), index=adata.obs_names, columns=loadings.columns
        )
        for i in top:
            rows.append((adata.var_names[i], block, 1, loadings.iat[i, 0]))
    selected = pd.DataFrame(rows, columns=["feature", "block", "component", "loading"])
    train.uns["diablo"] = {
        "method": "diablo",
        "label": "pam50",
        "classes": ["Basal", "Her2", "LumA"],
        "blocks": ["rna", "mirna"],
        "n_components": 2,
        "keep": {"rna": [n_per_block, 0], "mirna": [n_per_block, 0]},
        "selected": selected,
    }


def test_score_signatures_scores_a_new_cohort_with_the_diablo_gmt(tmp_path):
    mdata = hm.datasets.tcga_brca_mini()
    train = mdata[mdata.obs["split"] == "train"].copy()
    test = mdata[mdata.obs["split"] == "test"].copy()
    _standin_fit(train)
    path = hm.export.diablo_gmt(train, tmp_path / "diablo.gmt")
    sets = read_gmt(path)
    selected = train.uns["diablo"]["selected"]
    for (block, k), frame in selected.groupby(["block", "component"]):
        ranked = frame.iloc[np.argsort(-frame["loading"].abs().to_numpy(), kind="stable")]
        assert sets[f"diablo_comp{k}_{block}_up"] == ranked.loc[ranked["loading"] > 0, "feature"].tolist()
        down = ranked.loc[ranked["loading"] < 0, "feature"].tolist()
        assert sets.get(f"diablo_comp{k}_{block}_down", []) == down
    assert {"diablo_comp1_rna_up", "diablo_comp1_rna_down", "diablo_comp1_mirna_up"} <= set(sets)

    # every block's sets scored in that block's modality
    hm.tl.score_signatures(test, path, mod="rna", key_added="diablo_rna")
    hm.tl.score_signatures(test, path, mod="mirna", key_added="diablo_mirna")
    rna_scores, mirna_scores = test.obsm["diablo_rna"], test.obsm["diablo_mirna"]
    assert rna_scores["diablo_comp1_mirna_up"].isna().all()  # miRNA names are not rna features
    coverage = test.uns["diablo_rna"].set_index("signature")
    assert coverage.loc["diablo_comp1_rna_up", "n_found"] == len(sets["diablo_comp1_rna_up"])

    # the same scores from the raw test X: z-score each gene over the 70 test samples, mean over the set
    x = pd.DataFrame(
        np.asarray(test.mod["rna"].X, float), index=test.mod["rna"].obs_names, columns=test.mod["rna"].var_names
    )
    z = (x - x.mean()) / x.std(ddof=0)
    up = z[sets["diablo_comp1_rna_up"]].mean(axis=1)
    down = z[sets["diablo_comp1_rna_down"]].mean(axis=1)
    np.testing.assert_allclose(rna_scores["diablo_comp1_rna_up"].loc[x.index], up, atol=1e-10)
    np.testing.assert_allclose(rna_scores["diablo_comp1_rna_down"].loc[x.index], down, atol=1e-10)

    # comp1 (up minus down) separates the test split's Basal from LumA tumours, in both blocks
    labels = test.obs["pam50"].astype(str)
    for scores, block in ((rna_scores, "rna"), (mirna_scores, "mirna")):
        net = scores[f"diablo_comp1_{block}_up"] - scores.get(f"diablo_comp1_{block}_down", 0.0)
        basal, luma = net[labels == "Basal"].to_numpy(), net[labels == "LumA"].to_numpy()
        assert len(basal) == 21 and len(luma) == 35
        auc = (basal[:, None] > luma[None, :]).mean()  # Mann-Whitney AUC
        assert auc > 0.95, (block, auc)
