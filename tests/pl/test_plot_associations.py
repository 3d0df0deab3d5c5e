"""hm.pl.associations: the factor ↔ covariate heatmap."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import harmonomics as hm
from harmonomics._errors import MissingResultError


@pytest.fixture
def table(store):
    return hm.tl.associate(store, covariates=("pam50", "immune_class", "age", "CYT"))


def _cells(ax):
    (image,) = ax.get_images()
    rows = [t.get_text() for t in ax.get_yticklabels()]
    cols = [t.get_text() for t in ax.get_xticklabels()]
    return pd.DataFrame(np.ma.filled(image.get_array(), np.nan), index=rows, columns=cols)


def test_associations_heatmap_finds_planted_links(store, table):
    fig = hm.pl.associations(table)
    assert isinstance(fig, Figure)
    cells = _cells(fig.axes[0])
    assert list(cells.index) == ["pam50", "immune_class", "age", "CYT"]
    assert list(cells.columns) == ["Factor1", "Factor2", "Factor3", "Factor4"]
    # planted: Factor1 ~ Basal, Factor2 ~ immune class and CYT
    assert cells.loc["pam50"].idxmax() == "Factor1"
    assert cells.loc["immune_class"].idxmax() == "Factor2"
    assert cells.loc["CYT"].idxmax() == "Factor2"
    # colour = -log10 FDR (the scale saturates at 10)
    fdr = table.query("factor == 'Factor3' and covariate == 'age'")["fdr"].iloc[0]
    assert cells.loc["age", "Factor3"] == pytest.approx(-np.log10(fdr))
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "Basal ↑*" in texts  # categorical: the most distinct level, significant
    rho = table.query("factor == 'Factor2' and covariate == 'CYT'")["rho"].iloc[0]
    assert f"{rho:+.2f}*" in texts


def test_associations_from_mudata_into_ax_with_pvalues(store):
    # pl only draws: a MuData must carry the table of hm.tl.associate (uns["mofa_associations"])
    with pytest.raises(
        MissingResultError, match=r"run hm.tl.associate\(mdata, key='mofa'.*key_added='mofa_associations'"
    ):
        hm.pl.associations(store)
    table = hm.tl.associate(store, covariates=("pam50", "age", "CYT"), key_added="mofa_associations")
    stored = store.uns["mofa_associations"]
    assert stored[["factor", "covariate", "pvalue", "fdr"]].equals(table[["factor", "covariate", "pvalue", "fdr"]])
    assert set(stored.loc[stored["kind"] == "numeric", "level"]) == {""}  # h5mu has no None
    fig, ax = plt.subplots()
    out = hm.pl.associations(store, covariates=["age", "pam50"], value="pvalue", ax=ax, annotate=False)
    assert out is ax
    assert list(_cells(ax).index) == ["age", "pam50"]
    assert not ax.texts
    pvalue = table.query("factor == 'Factor1' and covariate == 'age'")["pvalue"].iloc[0]
    assert _cells(ax).loc["age", "Factor1"] == pytest.approx(-np.log10(pvalue))


def test_association_summary_one_row_per_test(table):
    summary = hm.tl.association_summary(table)
    assert len(summary) == 4 * 4
    row = summary.query("factor == 'Factor1' and covariate == 'pam50'").iloc[0]
    assert row["level"] == "Basal" and row["auc"] > 0.8 and row["label"] == "Basal ↑"
    # a table with an overall row (level empty) uses that row's value
    extra = pd.DataFrame(
        [
            {"factor": "F", "covariate": "c", "kind": "categorical", "level": None, "fdr": 0.5},
            {"factor": "F", "covariate": "c", "kind": "categorical", "level": "a", "fdr": 0.01, "auc": 0.2},
        ]
    )
    got = hm.tl.association_summary(extra).iloc[0]
    assert got["p"] == 0.5 and got["label"] == "a ↓"


def test_associations_bad_input(table):
    with pytest.raises(ValueError, match="lacks column"):
        hm.pl.associations(table.drop(columns=["fdr"]))
    with pytest.raises(TypeError, match="hm.tl.associate"):
        hm.pl.associations([1, 2, 3])
    with pytest.raises(ValueError, match="alpha"):
        hm.pl.associations(table, alpha=5)
    with pytest.raises(ValueError, match="not in the table"):
        hm.pl.associations(table, covariates=["stage"])
    with pytest.raises(ValueError, match="no rows"):
        hm.pl.associations(table.iloc[:0])
