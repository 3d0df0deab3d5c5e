"""Out of core: streaming per-sample files into zarr, lazy stores, dask statistics, a dask.distributed cluster.

The in-memory path and the out-of-core path must give identical selected features and values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import FormatError

pytest.importorskip("dask.array")
pytest.importorskip("zarr")
stream_to_zarr = hm.io.stream_to_zarr
feature_stats = hm.pp.feature_stats
top_variance_features = hm.pp.top_variance_features

N_SAMPLES, N_PROBES = 24, 3000


@pytest.fixture(scope="module")
def methylation_files(tmp_path_factory):
    """GDC-style beta files (no header; probe, beta or NA) with known values."""
    folder = tmp_path_factory.mktemp("meth")
    rng = np.random.default_rng(7)
    probes = np.array([f"cg{i:08d}" for i in range(N_PROBES)])
    truth = np.round(rng.beta(2, 5, size=(N_SAMPLES, N_PROBES)), 4)
    truth[rng.random(truth.shape) < 0.02] = np.nan  # masked probes
    files = []
    for i, row in enumerate(truth):
        lines = [f"{p}\t{'NA' if np.isnan(v) else f'{v:.4f}'}" for p, v in zip(probes, row, strict=True)]
        path = folder / f"sample{i:02d}.methylation_array.sesame.level3betas.txt"
        path.write_text("\n".join(lines) + "\n")
        files.append(path)
    return files, probes, truth


def test_stream_to_zarr_values(methylation_files, tmp_path):
    files, probes, truth = methylation_files
    keys = [f"S{i:02d}" for i in range(N_SAMPLES)]
    out = stream_to_zarr(files, tmp_path / "meth.zarr", samples=keys, chunk_samples=5)
    lazy = hm.store.read(out, backed=True)
    matrix = lazy["meth"].X
    assert type(matrix).__module__.startswith("dask.")
    assert list(lazy["meth"].var_names) == list(probes)
    assert list(lazy.obs_names) == keys
    np.testing.assert_array_equal(np.asarray(matrix.compute()), truth.astype(np.float32))
    assert lazy["meth"].obs.loc["S03", "source_file"] == files[3].name
    # the xarray view stays lazy
    ds = hm.store.to_xarray(lazy)
    assert ds["meth"].chunks is not None
    np.testing.assert_array_equal(ds["meth"].sel(sample="S05").values, truth[5].astype(np.float32))


def test_out_of_core_equals_in_memory(methylation_files, tmp_path):
    files, _, truth = methylation_files
    out = stream_to_zarr(files, tmp_path / "meth.zarr", chunk_samples=7)
    lazy = hm.store.read(out, backed=True)
    eager = hm.store.read(out)
    lazy_stats = feature_stats(lazy, mod="meth")
    eager_stats = feature_stats(eager, mod="meth")
    pd.testing.assert_frame_equal(lazy_stats, eager_stats, rtol=1e-12)
    # against numpy's own nanvar on the planted values
    expected = np.nanvar(truth.astype(np.float32).astype(np.float64), axis=0, ddof=1)
    np.testing.assert_allclose(eager_stats["variance"].to_numpy(), expected, rtol=1e-9)
    np.testing.assert_array_equal(eager_stats["n_missing"].to_numpy(), np.isnan(truth).sum(axis=0))
    selected_lazy = top_variance_features(lazy_stats, 200)
    selected_eager = top_variance_features(eager_stats, 200)
    assert list(selected_lazy) == list(selected_eager)
    values_lazy = np.asarray(lazy["meth"][:, selected_lazy].X.compute())
    values_eager = eager["meth"][:, selected_eager].X
    np.testing.assert_array_equal(values_lazy, values_eager)


def test_distributed_cluster_gives_same_results(methylation_files, tmp_path):
    distributed = pytest.importorskip("distributed")
    files, _, _ = methylation_files
    reference = feature_stats(hm.store.read(stream_to_zarr(files, tmp_path / "local.zarr")), mod="meth")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        out = stream_to_zarr(files, tmp_path / "cluster.zarr", chunk_samples=6, client=client)
        stats = feature_stats(hm.store.read(out, backed=True), mod="meth", client=client)
    pd.testing.assert_frame_equal(stats, reference, rtol=1e-12)


def test_stream_bad_input(methylation_files, tmp_path):
    files, _, _ = methylation_files
    from harmonomics._errors import EmptyInputError

    with pytest.raises(EmptyInputError, match="no files"):
        stream_to_zarr([], tmp_path / "x.zarr")
    with pytest.raises(ValueError, match="one key per file"):
        stream_to_zarr(files[:2], tmp_path / "x.zarr", samples=["a"])
    with pytest.raises(ValueError, match="'a' is given for several files"):
        stream_to_zarr(files[:2], tmp_path / "x.zarr", samples=["a", "a"])
    with pytest.raises(ValueError, match="supports omics"):
        stream_to_zarr(files[:2], tmp_path / "x.zarr", omic="prot")
    odd = tmp_path / "odd.txt"
    odd.write_text("cg99999999\t0.5\n" + files[0].read_text().split("\n", 1)[1])
    with pytest.raises(FormatError, match="cg99999999"):
        stream_to_zarr([files[0], odd], tmp_path / "x.zarr")
    assert not (tmp_path / "x.zarr").exists()  # a failed stream leaves no store behind


def test_feature_stats_bad_input():
    mdata = hm.datasets.tcga_brca_mini()
    with pytest.raises(KeyError, match="no modality 'meth'"):
        feature_stats(mdata, mod="meth")
    with pytest.raises(KeyError, match="no layer 'counts'"):
        feature_stats(mdata, mod="rna", layer="counts")
    with pytest.raises(ValueError, match="n_top"):
        top_variance_features(feature_stats(mdata, mod="rna"), 0)


def test_read_gdc_streams_methylation_to_zarr(tmp_path):
    """read_gdc(stream=...) makes the same aliquot choice and gives the same values as the in-memory read."""
    cohort = hm.datasets.write_synthetic_cohort(tmp_path / "cohort", n_patients=30, seed=1, layouts=("gdc",))
    in_memory = hm.io.read_gdc(cohort.gdc)
    partial = hm.io.read_gdc(cohort.gdc, stream={"meth": tmp_path / "meth.zarr"})
    assert "meth" not in partial.mod and set(partial.mod) == set(in_memory.mod) - {"meth"}
    assert partial.uns["harmonomics"]["streamed"] == {"meth": str(tmp_path / "meth.zarr")}
    lazy = hm.store.read(tmp_path / "meth.zarr", backed=True)["meth"]
    expected = in_memory["meth"]
    assert sorted(lazy.obs_names) == sorted(expected.obs_names)
    lazy = lazy[expected.obs_names]
    np.testing.assert_array_equal(lazy.obs["aliquot"].to_numpy(), expected.obs["aliquot"].to_numpy())
    np.testing.assert_allclose(np.asarray(lazy.X.compute(), dtype=float), expected.X, atol=1e-7)
    report = partial.uns["harmonomics_report"]
    dropped = report[(report["omic"] == "meth") & (report["action"] == "dropped")]
    assert len(dropped) and dropped["reason"].str.len().gt(0).all()  # the aliquot choice is explained
    with pytest.raises(ValueError, match="stream supports the omics"):
        hm.io.read_gdc(cohort.gdc, stream={"prot": tmp_path / "prot.zarr"})


def test_select_features_out_of_core_loads_only_the_selection(methylation_files, tmp_path):
    files, _, truth = methylation_files
    out = stream_to_zarr(files, tmp_path / "meth.zarr")
    lazy = hm.store.read(out, backed=True)
    eager = hm.store.read(out)
    hm.pp.select_features(lazy, n_top=150, subset=True)
    hm.pp.select_features(eager, n_top=150, subset=True)
    assert isinstance(lazy["meth"].X, np.ndarray)  # the selected probes, now in memory
    assert list(lazy["meth"].var_names) == list(eager["meth"].var_names)
    np.testing.assert_array_equal(lazy["meth"].X, eager["meth"].X)
