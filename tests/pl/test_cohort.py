"""hm.pl.omics_overview: which omics each sample has."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

import harmonomics as hm


def test_presence_table(store):
    presence = hm.tl.omics_presence(store)
    assert list(presence.columns) == ["rna", "mirna", "prot"]
    assert presence["rna"].all()
    assert presence["prot"].sum() == store.mod["prot"].n_obs
    assert set(presence.index[presence["prot"]]) == set(store.mod["prot"].obs_names)


def test_upset_counts_each_combination(store):
    fig = hm.pl.omics_overview(store)
    assert isinstance(fig, Figure)
    n_prot = store.mod["prot"].n_obs
    bars = next(ax for ax in fig.axes if ax.patches and ax.patches[0].get_height() > ax.patches[0].get_width())
    assert [p.get_height() for p in bars.patches] == [n_prot, store.n_obs - n_prot]
    sizes = next(ax for ax in fig.axes if [t.get_text() for t in ax.get_yticklabels()] == ["rna", "mirna", "prot"])
    assert [p.get_width() for p in sizes.patches] == [store.n_obs, store.n_obs, n_prot]


def test_upset_stacked_by_group(store):
    fig = hm.pl.omics_overview(store, groupby="split")
    bars = next(ax for ax in fig.axes if ax.get_legend() is not None)
    assert [t.get_text() for t in bars.get_legend().get_texts()] == ["test", "train"]
    total = sum(p.get_height() for p in bars.patches)
    assert total == store.n_obs


def test_matrix_into_ax(store):
    fig, ax = plt.subplots()
    assert hm.pl.omics_overview(store, kind="matrix", groupby="pam50", ax=ax) is ax
    grid = ax.get_images()[0].get_array()
    assert grid.shape == (3, store.n_obs)
    assert grid.sum() == 2 * store.n_obs + store.mod["prot"].n_obs
    # sorted by combination: samples with every omic first
    assert np.all(grid[2, : store.mod["prot"].n_obs] == 1)


def test_omics_overview_bad_input(store):
    with pytest.raises(ValueError, match="kind must be"):
        hm.pl.omics_overview(store, kind="venn")
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="cannot use ax"):
        hm.pl.omics_overview(store, ax=ax)
    with pytest.raises(ValueError, match="numeric"):
        hm.pl.omics_overview(store, groupby="age")
    with pytest.raises(ValueError, match="at least one modality"):
        hm.pl.omics_overview(object())


def test_upset_caps_the_number_of_combinations():
    import anndata as ad
    import mudata as md

    rng = np.random.default_rng(1)
    mods = {}
    for m in ("rna", "mirna", "meth", "cnv", "mut", "prot"):
        keep = [f"S{i}" for i in range(80) if rng.uniform() < 0.6 or i == 0]
        mods[m] = ad.AnnData(np.zeros((len(keep), 2)))
        mods[m].obs_names = keep
        mods[m].var_names = [f"{m}{j}" for j in range(2)]
    mdata = md.MuData(mods)
    n_all = len(set(map(tuple, hm.tl.omics_presence(mdata).to_numpy())))
    assert n_all > 5
    fig = hm.pl.omics_overview(mdata, max_combinations=5)
    bars = next(ax for ax in fig.axes if ax.get_ylabel().startswith("samples with"))
    assert len(bars.patches) == 5
    assert f"5 most frequent of {n_all}" in fig.get_suptitle()
    with pytest.raises(ValueError, match="max_combinations"):
        hm.pl.omics_overview(mdata, max_combinations=0)
