"""hm.pl.diablo_samples / diablo_loadings / diablo_circle / diablo_network / diablo_heatmap.

Drawn from a hand-made fit in the contract layout (tests/diablo_fixture.py); the drawn values are checked
against the stored variates and loadings and against numpy correlations of the stored X.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch

import harmonomics as hm
from harmonomics._errors import MissingResultError

_spec = importlib.util.spec_from_file_location("_diablo_fixture", Path(__file__).parents[1] / "diablo_fixture.py")
F = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(F)

BASAL, HER2, LUMA = "#d7301f", "#d14a9c", "#1f5fa8"  # pl._utils.PAM50_COLORS


@pytest.fixture
def dstore():
    return F.make_diablo_store()


def _x(mdata, block, feature):
    adata = mdata.mod[block]
    return np.asarray(adata.X, dtype=float)[:, list(adata.var_names).index(feature)]


def _r(x, y):
    ok = np.isfinite(x) & np.isfinite(y)
    return np.corrcoef(x[ok], y[ok])[0, 1]


def test_samples_one_panel_per_block_and_consensus(dstore):
    fig = hm.pl.diablo_samples(dstore)
    assert isinstance(fig, Figure)
    panels = fig.axes
    assert [ax.get_title(loc="left") for ax in panels] == [
        "rna (n=48)",
        "mirna (n=48)",
        "prot (n=36)",
        "consensus (n=48)",
    ]
    basal = (dstore.obs["pam50"] == "Basal").to_numpy()
    for ax, holder in zip(panels, [dstore.mod["rna"], dstore.mod["mirna"], dstore.mod["prot"], dstore], strict=True):
        variates = holder.obsm["diablo"]
        is_basal = dstore.obs["pam50"].reindex(holder.obs_names).to_numpy() == "Basal"
        points = next(c for c in ax.collections if c.get_label() == "Basal")
        np.testing.assert_allclose(points.get_offsets(), variates[["comp1", "comp2"]].to_numpy()[is_basal])
        np.testing.assert_allclose(points.get_facecolor()[0][:3], to_rgb(BASAL))
    assert basal.sum() == 16
    assert [t.get_text() for t in panels[-1].get_legend().get_texts()] == ["Basal", "Her2", "LumA"]


def test_samples_into_ax_and_bad_input(dstore, tmp_path):
    fig, ax = plt.subplots()
    out = hm.pl.diablo_samples(dstore, blocks="prot", consensus=False, x=2, y="comp1", ax=ax)
    assert out is ax and ax.get_xlabel() == "comp2"
    offsets = np.concatenate([c.get_offsets() for c in ax.collections])
    assert offsets.shape == (36, 2)
    with pytest.raises(ValueError, match="ax= can hold one panel"):
        hm.pl.diablo_samples(dstore, ax=ax)
    with pytest.raises(ValueError, match=r"block\(s\) \['cnv'\]"):
        hm.pl.diablo_samples(dstore, blocks=["cnv"])
    with pytest.raises(ValueError, match="out of range"):
        hm.pl.diablo_samples(dstore, x=3)
    del dstore.uns["diablo"]
    with pytest.raises(MissingResultError, match="hm.tl.diablo"):
        hm.pl.diablo_samples(dstore)


def test_loadings_bars_are_the_selected_loadings_coloured_by_class(dstore, tmp_path):
    path = tmp_path / "loadings.png"
    fig = hm.pl.diablo_loadings(dstore, block="rna", component=1, save=path)
    assert path.read_bytes()[:4] == b"\x89PNG"
    (ax,) = fig.axes
    chosen = F.SELECTED[("rna", 1)]
    bars = sorted(ax.patches, key=lambda p: -p.get_y())  # top bar first
    np.testing.assert_allclose([p.get_width() for p in bars], list(chosen.values()))
    by_height = sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])
    assert [t.get_text() for t in by_height] == list(chosen)
    # colour: the class with the highest mean of that feature over the rna samples
    labels = dstore.obs["pam50"].astype(str).to_numpy()
    colours = {"Basal": BASAL, "Her2": HER2, "LumA": LUMA}
    for bar, feature in zip(bars, chosen, strict=True):
        x = _x(dstore, "rna", feature)
        best = max(F.CLASSES, key=lambda c: np.nanmean(x[labels == c]))
        np.testing.assert_allclose(bar.get_facecolor()[:3], to_rgb(colours[best]))
    top2 = hm.pl.diablo_loadings(dstore, block="prot", component="comp2", n_top=1)
    assert len(top2.axes[0].patches) == 1 and top2.axes[0].patches[0].get_width() == pytest.approx(-0.90)


def test_circle_points_are_feature_variate_correlations(dstore):
    fig = hm.pl.diablo_circle(dstore, labels=False)
    (ax,) = fig.axes
    points = {c.get_label(): c for c in ax.collections}
    assert set(points) == set(F.BLOCKS)
    for block in F.BLOCKS:
        variates = dstore.mod[block].obsm["diablo"]
        features = sorted(dict.fromkeys([*F.SELECTED[(block, 1)], *F.SELECTED[(block, 2)]]))
        want = [[_r(_x(dstore, block, f), variates[f"comp{k}"].to_numpy()) for k in (1, 2)] for f in features]
        got = points[block].get_offsets()
        assert len(got) == len(features)
        # drawn in the tidy table's pivot order (features sorted): compare as sets of rows
        np.testing.assert_allclose(sorted(map(tuple, got)), sorted(map(tuple, want)), atol=1e-12)
    assert ax.get_xlabel() == "correlation with comp1" and ax.get_ylabel() == "correlation with comp2"


def test_network_draws_one_chord_per_correlated_pair(dstore):
    cutoff = 0.8
    fig = hm.pl.diablo_network(dstore, cutoff=cutoff)
    (ax,) = fig.axes
    chords = [p for p in ax.patches if isinstance(p, PathPatch)]
    expected = {}
    for i, a in enumerate(F.BLOCKS):
        for b in F.BLOCKS[i + 1 :]:
            shared = dstore.mod[a].obs_names.intersection(dstore.mod[b].obs_names)
            rows_a = dstore.mod[a].obs_names.get_indexer(shared)
            rows_b = dstore.mod[b].obs_names.get_indexer(shared)
            for fa in dict.fromkeys([*F.SELECTED[(a, 1)], *F.SELECTED[(a, 2)]]):
                for fb in dict.fromkeys([*F.SELECTED[(b, 1)], *F.SELECTED[(b, 2)]]):
                    r = _r(_x(dstore, a, fa)[rows_a], _x(dstore, b, fb)[rows_b])
                    if abs(r) >= cutoff:
                        expected[f"{a}:{fa}|{b}:{fb}"] = r
    assert 5 < len(expected) == len(chords)
    for chord in chords:
        r = expected[chord.get_gid()]
        np.testing.assert_allclose(chord.get_edgecolor()[:3], to_rgb("#c0392b" if r > 0 else "#2e6fb5"))
    assert f"({len(expected)} links)" in ax.get_title()
    labels = {t.get_text() for t in ax.texts}
    assert {"rna", "mirna", "prot", "GENE20", "hsa-mir-11", "PROT8"} <= labels
    only_comp1 = hm.pl.diablo_network(dstore, components=1, cutoff=cutoff, labels=False)
    assert "GENE20" not in {t.get_text() for t in only_comp1.axes[0].texts}


def test_heatmap_shows_the_clustered_zscores(dstore):
    fig = hm.pl.diablo_heatmap(dstore)
    clustered = hm.tl.diablo_clustered(dstore)
    images = {im.get_array().shape: im for ax in fig.axes for im in ax.get_images()}
    heat = images[clustered.matrix.shape]
    np.testing.assert_allclose(np.ma.filled(heat.get_array(), np.nan), clustered.matrix.to_numpy(), equal_nan=True)
    row_labels = [t.get_text() for t in heat.axes.get_yticklabels()]
    assert row_labels == list(clustered.matrix.index.get_level_values("feature"))
    # the class strip: one cell per sample, in the matrix's sample order
    strip = images[(1, clustered.matrix.shape[1])]
    codes = np.ma.filled(strip.get_array(), -1)[0]
    want = [F.CLASSES.index(c) for c in dstore.obs["pam50"].reindex(clustered.matrix.columns).astype(str)]
    np.testing.assert_array_equal(codes, want)
    fig2, ax = plt.subplots()
    assert hm.pl.diablo_heatmap(dstore, components=1, ax=ax) is ax
    n_comp1 = len({(b, f) for (b, k), chosen in F.SELECTED.items() if k == 1 for f in chosen})
    assert ax.get_images()[0].get_array().shape[0] == n_comp1


def test_samples_coloured_by_a_number(dstore):
    dstore.obs["age"] = np.linspace(30, 80, dstore.n_obs)
    fig = hm.pl.diablo_samples(dstore, blocks="mirna", consensus=False, color="age")
    panel = fig.axes[0]
    (points,) = panel.collections
    np.testing.assert_allclose(points.get_array(), dstore.obs["age"].to_numpy())
    assert len(fig.axes) == 2  # the panel and its colour bar
