"""hm.pl.variance_explained, factor_scatter, top_weights."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

import harmonomics as hm
from harmonomics._errors import MissingResultError


# ---------------------------------------------------------------- variance_explained
def test_variance_explained_heatmap_matches_r2(store):
    fig = hm.pl.variance_explained(store)
    assert isinstance(fig, Figure)
    r2 = store.uns["mofa"]["r2_per_view_factor"]
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 1
    np.testing.assert_allclose(images[0].get_array(), r2.to_numpy() * 100)
    heat = images[0].axes
    assert [t.get_text() for t in heat.get_yticklabels()] == list(r2.index)
    assert [t.get_text() for t in heat.get_xticklabels()] == list(r2.columns)
    # totals: per-factor bars on top, per-view bars on the right, from uns
    bars = {len(ax.patches): ax for ax in fig.axes if ax.patches}
    top, right = bars[r2.shape[1]], bars[r2.shape[0]]
    info = store.uns["mofa"]
    np.testing.assert_allclose([p.get_height() for p in top.patches], [100 * info["r2_per_factor"][f] for f in r2])
    np.testing.assert_allclose([p.get_width() for p in right.patches], [100 * info["r2_per_view"][v] for v in r2.index])


def test_variance_explained_into_ax_puts_totals_in_labels(store):
    fig, ax = plt.subplots()
    out = hm.pl.variance_explained(store, ax=ax, annotate=False)
    assert out is ax
    total = store.uns["mofa"]["r2_per_view"]["rna"] * 100
    assert ax.get_yticklabels()[0].get_text() == f"rna  ({total:.1f}%)"
    assert not ax.texts  # annotate=False


def test_variance_explained_saves_only_when_asked(store, tmp_path):
    path = tmp_path / "r2.png"
    hm.pl.variance_explained(store, totals=False, save=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(tmp_path.iterdir()) == [path]


def test_variance_explained_bad_input(store):
    del store.uns["mofa"]
    with pytest.raises(MissingResultError, match="hm.tl.mofa"):
        hm.pl.variance_explained(store)
    with pytest.raises(TypeError, match="ax must be"):
        hm.pl.variance_explained(store, ax="not an axes")


# ---------------------------------------------------------------- factor_scatter
def test_factor_scatter_categorical_colours(store):
    fig = hm.pl.factor_scatter(store, 1, "Factor2", color="pam50")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Factor1" and ax.get_ylabel() == "Factor2"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    counts = store.obs["pam50"].value_counts()
    assert labels == [f"{lv} ({counts[lv]})" for lv in ["LumA", "LumB", "Her2", "Basal", "Normal"]]
    # the points of each level are exactly that level's factor scores
    basal = next(c for c in ax.collections if c.get_label().startswith("Basal"))
    want = store.obsm["mofa"][(store.obs["pam50"] == "Basal").to_numpy()][:, :2]
    np.testing.assert_allclose(basal.get_offsets(), want)
    np.testing.assert_allclose(basal.get_facecolor()[0][:3], (0xD7 / 255, 0x30 / 255, 0x1F / 255))


def test_factor_scatter_several_panels_numeric_and_missing(store):
    store.obs.loc[store.obs_names[:4], "immune_class"] = np.nan
    fig = hm.pl.factor_scatter(store, 1, 3, color=["immune_class", "age", "immune:CYT"])
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 3
    na = next(c for c in panels[0].collections if c.get_label().startswith("NA"))
    assert na.get_label() == "NA (4)" and len(na.get_offsets()) == 4
    np.testing.assert_allclose(panels[1].collections[-1].get_array(), store.obs["age"].to_numpy())
    assert len(fig.axes) == 5  # two colour bars for the numeric panels


def test_factor_scatter_into_ax(store):
    fig, ax = plt.subplots()
    assert hm.pl.factor_scatter(store, 2, 1, ax=ax) is ax
    assert len(ax.collections[0].get_offsets()) == store.n_obs


def test_factor_scatter_bad_input(store):
    with pytest.raises(ValueError, match="out of range"):
        hm.pl.factor_scatter(store, 1, 9)
    with pytest.raises(ValueError, match="unknown factor"):
        hm.pl.factor_scatter(store, "Factor1", "F2")
    with pytest.raises(KeyError, match="no per-sample variable 'nope'"):
        hm.pl.factor_scatter(store, color="nope")
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="one panel"):
        hm.pl.factor_scatter(store, color=["pam50", "age"], ax=ax)
    with pytest.raises(ValueError, match="palette has no colour"):
        hm.pl.factor_scatter(store, color="pam50", palette={"LumA": "red"})
    del store.obsm["mofa"]
    with pytest.raises(MissingResultError):
        hm.pl.factor_scatter(store)


# ---------------------------------------------------------------- top_weights
def test_top_weights_are_the_largest_absolute_weights(store):
    fig = hm.pl.top_weights(store, "Factor1", n_top=5)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["Factor1 · rna", "Factor1 · mirna", "Factor1 · prot"]
    w = store.mod["rna"].varm["mofa"][:, 0]
    order = np.argsort(-np.abs(w))[:5]
    ax = fig.axes[0]
    # bars top-down = decreasing |weight|; scaled so the largest is ±1
    bars = sorted(ax.patches, key=lambda p: -p.get_y())
    np.testing.assert_allclose([b.get_width() for b in bars], w[order] / np.abs(w).max())
    labels = [t.get_text() for t in sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])]
    assert labels == list(store.mod["rna"].var_names[order])


def test_top_weights_one_view_into_ax_unscaled_with_symbols(store):
    store.mod["prot"].var["symbol"] = [f"P{i}" for i in range(store.mod["prot"].n_vars)]
    fig, ax = plt.subplots()
    out = hm.pl.top_weights(store, 2, views="prot", n_top=3, scale=False, gene_symbols="symbol", ax=ax)
    assert out is ax
    w = store.mod["prot"].varm["mofa"][:, 1]
    assert max(abs(p.get_width()) for p in ax.patches) == pytest.approx(np.abs(w).max())
    assert all(t.get_text().startswith("P") for t in ax.get_yticklabels())


def test_top_weights_bad_input(store):
    with pytest.raises(ValueError, match="n_top"):
        hm.pl.top_weights(store, 1, n_top=0)
    with pytest.raises(ValueError, match="hold no weights"):
        hm.pl.top_weights(store, 1, views=["meth"])
    with pytest.raises(KeyError, match="no column 'sym'"):
        hm.pl.top_weights(store, 1, gene_symbols="sym")
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="one panel"):
        hm.pl.top_weights(store, 1, ax=ax)
    for m in store.mod:
        del store.mod[m].varm["mofa"]
    with pytest.raises(MissingResultError, match="varm"):
        hm.pl.top_weights(store, 1)


# ---------------------------------------------------------------- elbo, factors_by_group
def test_elbo_draws_every_recorded_iteration(store):
    trace = np.array([-5000.0, -1200.0, -1000.0, -990.0, -989.5])
    store.uns["mofa"]["elbo"] = trace
    store.uns["mofa"]["elbo_iterations"] = np.array([1, 2, 4, 8, 9])
    store.uns["mofa"]["converged"] = True
    store.uns["mofa"]["n_iterations"] = 9
    fig = hm.pl.elbo(store)
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 4, 8, 9])
    np.testing.assert_array_equal(line.get_ydata(), trace)
    assert fig.axes[0].get_title(loc="left") == "converged after 9 iterations"
    assert fig.axes[0].get_yscale() == "linear"  # within a factor of 10


def test_elbo_without_a_trace_names_the_key(store):
    store.uns["mofa"].pop("elbo", None)
    with pytest.raises(MissingResultError, match="'mofa'"):
        hm.pl.elbo(store)


def test_factors_by_group_boxes_hold_each_groups_scores(store):
    fig = hm.pl.factors_by_group(store, "pam50", factors=["Factor1", "Factor2"])
    scores = hm.get.factor_scores(store).pivot(index="sample", columns="factor", values="score")
    groups = store.obs["pam50"].reindex(scores.index).astype(str)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in visible] == ["Factor1", "Factor2"]
    levels = [t.get_text() for t in visible[0].get_xticklabels()]
    assert set(levels) == set(groups.unique())
    # each group's points are exactly that group's scores
    offsets = visible[0].collections
    for i, level in enumerate(levels):
        ys = np.sort(offsets[i].get_offsets()[:, 1])
        np.testing.assert_allclose(ys, np.sort(scores.loc[groups == level, "Factor1"].to_numpy()))


def test_factors_by_group_unknown_factor(store):
    with pytest.raises(KeyError, match="Factor99"):
        hm.pl.factors_by_group(store, "pam50", factors=["Factor99"])
