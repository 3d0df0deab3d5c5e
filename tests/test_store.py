"""The store: layout, atomic writes under a killed writer, versions, and h5mu / netCDF / zarr / xarray round trips."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from harmonomics import _keys, store
from harmonomics._errors import StoreFormatError, StoreVersionError


@pytest.fixture
def mdata():
    """Two omics with different sample sets, obs of several dtypes, results in obsm/varm/uns."""
    rng = np.random.default_rng(0)
    rna = ad.AnnData(
        rng.normal(size=(4, 3)),
        obs=pd.DataFrame({"aliquot": [f"al{i}" for i in range(4)], "source_file": "rna.tsv"}, index=["s1", "s2", "s3", "s5"]),
        var=pd.DataFrame({"gene_name": ["A", "B", "C"]}, index=["ENSG1", "ENSG2", "ENSG3"]),
        layers={"counts": rng.poisson(5, size=(4, 3)).astype(float)},
    )
    prot = ad.AnnData(rng.normal(size=(2, 2)), obs=pd.DataFrame(index=["s2", "s4"]), var=pd.DataFrame(index=["p1", "p2"]))
    obs = pd.DataFrame(
        {
            "patient": ["P1", "P2", "P3", "P4", "P5"],
            "pam50": pd.Categorical(["LumA", "Basal", "LumA", None, "Her2"]),
            "os_time": [100.0, 2.5, np.nan, 4.0, 5.0],
            "os_event": [1, 0, 0, 1, 0],
            "er_positive": [True, False, True, True, False],
        },
        index=["s1", "s2", "s3", "s4", "s5"],
    )
    report = pd.DataFrame(
        [{"level": "aliquot", "item": "al9", "omic": "rna", "sample": "s9", "action": "dropped", "reason": "normal"}]
    )
    m = store.new_store({"rna": rna, "prot": prot}, obs=obs, reader="test", report=report)
    m.obsm["mofa"] = rng.normal(size=(m.n_obs, 2))
    m.obsm["immune"] = pd.DataFrame(rng.normal(size=(m.n_obs, 2)), index=m.obs_names, columns=["cyt", "tis"])
    m.mod["rna"].varm["mofa"] = rng.normal(size=(3, 2))
    m.uns["mofa"] = {
        "r2_per_view_factor": pd.DataFrame([[0.1, 0.2], [0.3, 0.0]], index=["rna", "prot"], columns=["Factor1", "Factor2"]),
        "elbo": np.array([-10.0, -5.0, -4.5]),
        "converged": True,
        "factor_names": ["Factor1", "Factor2"],
        "n_iterations": 3,
    }
    return m


def _assert_same_store(a, b):
    assert list(a.mod) == list(b.mod)
    assert list(a.obs_names) == list(b.obs_names)
    for name in a.mod:
        assert list(a[name].obs_names) == list(b[name].obs_names)
        assert list(a[name].var_names) == list(b[name].var_names)
        np.testing.assert_array_equal(np.asarray(a[name].X), np.asarray(b[name].X))
        for layer in a[name].layers:
            np.testing.assert_array_equal(a[name].layers[layer], b[name].layers[layer])
        pd.testing.assert_frame_equal(a[name].var, b[name].var, check_dtype=False, check_categorical=False)
        for column in a[name].obs.columns:
            assert list(a[name].obs[column].astype(str)) == list(b[name].obs[column].astype(str))
        for key in a[name].varm:
            np.testing.assert_array_equal(a[name].varm[key], b[name].varm[key])
    pd.testing.assert_frame_equal(a.obs, b.obs, check_categorical=False)
    np.testing.assert_array_equal(a.obsm["mofa"], b.obsm["mofa"])
    pd.testing.assert_frame_equal(a.obsm["immune"], b.obsm["immune"])
    pd.testing.assert_frame_equal(a.uns["mofa"]["r2_per_view_factor"], b.uns["mofa"]["r2_per_view_factor"])
    np.testing.assert_array_equal(a.uns["mofa"]["elbo"], b.uns["mofa"]["elbo"])
    assert list(b.uns["mofa"]["factor_names"]) == ["Factor1", "Factor2"]
    report = pd.DataFrame(b.uns[_keys.UNS_REPORT])
    assert report.loc[0, "reason"] == "normal"


def test_layout(mdata):
    assert list(mdata.obs_names) == ["s1", "s2", "s3", "s5", "s4"]
    assert mdata["prot"].n_obs == 2  # samples missing an omic are absent, not NaN-filled
    assert mdata.uns["harmonomics"]["format_version"] == store.FORMAT_VERSION
    assert mdata.uns["harmonomics"]["reader"] == "test"
    store.validate(mdata)


@pytest.mark.parametrize("suffix", ["h5mu", "nc", "zarr"])
def test_round_trip(mdata, tmp_path, suffix):
    path = store.write(mdata, tmp_path / f"cohort.{suffix}")
    back = store.read(path)
    _assert_same_store(mdata, back)
    assert back.uns["harmonomics"]["format_version"] == store.FORMAT_VERSION


def test_xarray_view(mdata):
    ds = store.to_xarray(mdata)
    assert ds["rna"].dims == ("sample", "rna_feature")
    assert ds["prot"].shape == (5, 2)
    # NaN where a sample lacks the omic, values where it has it
    assert np.isnan(ds["prot"].sel(sample="s1")).all()
    np.testing.assert_array_equal(ds["prot"].sel(sample="s4").values, mdata["prot"]["s4"].X.ravel())
    assert list(ds["prot_present"].values) == [0, 1, 0, 0, 1]
    _assert_same_store(mdata, store.from_xarray(ds))


def test_xarray_view_lazy_with_dask(mdata):
    pytest.importorskip("dask.array")
    ds = store.to_xarray(mdata, chunks=2)
    assert ds["rna"].chunks is not None
    np.testing.assert_array_equal(ds["rna"].values, store.to_xarray(mdata)["rna"].values)


def test_from_xarray_rejects_foreign_dataset():
    import xarray as xr

    with pytest.raises(StoreFormatError, match="to_xarray"):
        store.from_xarray(xr.Dataset({"x": ("a", [1, 2])}))


def test_newer_version_is_refused(mdata, tmp_path):
    path = store.write(mdata, tmp_path / "cohort.h5mu")
    import h5py

    with h5py.File(path, "r+") as handle:
        node = handle["uns/harmonomics/format_version"]
        node[()] = store.FORMAT_VERSION + 1
    with pytest.raises(StoreVersionError, match=f"version {store.FORMAT_VERSION + 1} is newer"):
        store.read(path)


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no store"):
        store.read(tmp_path / "missing.h5mu")
    junk = tmp_path / "junk.h5mu"
    junk.write_text("this is not HDF5")
    with pytest.raises(StoreFormatError, match="junk.h5mu"):
        store.read(junk)
    with pytest.raises(ValueError, match="cannot tell the store format"):
        store.read(junk.rename(tmp_path / "junk.txt"))


@pytest.mark.filterwarnings("ignore:Observation names are not unique")
def test_duplicate_samples_rejected():
    a = ad.AnnData(np.ones((2, 1)), obs=pd.DataFrame(index=["s1", "s1"]), var=pd.DataFrame(index=["g"]))
    with pytest.raises(ValueError, match="duplicate sample 's1'"):
        store.new_store({"rna": a})


def test_add_report_rows(mdata):
    store.add_report_rows(mdata, [{"level": "feature", "item": "g9", "omic": "rna", "sample": "", "action": "dropped", "reason": "zero variance"}])
    report = mdata.uns[_keys.UNS_REPORT]
    assert list(report["item"]) == ["al9", "g9"]


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np, anndata as ad, mudata
    from harmonomics import store
    from harmonomics._compat import configure_mudata
    configure_mudata()

    original = mudata.MuData.write_h5mu

    def slow_write(self, filename, **kwargs):
        original(self, filename, **kwargs)      # the temporary file is complete on disk...
        print("WRITING", flush=True)            # ...but not yet moved into place
        time.sleep(60)

    mudata.MuData.write_h5mu = slow_write
    rng = np.random.default_rng(1)
    new = store.new_store({"rna": ad.AnnData(rng.normal(size=(50, 40)))})
    store.write(new, sys.argv[1])
    """
)


def test_atomic_write_survives_killed_writer(mdata, tmp_path):
    path = store.write(mdata, tmp_path / "cohort.h5mu")
    before = path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        line = ""
        while "WRITING" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
        assert "WRITING" in line, "writer subprocess never reached the write"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before  # the old store is untouched
    _assert_same_store(mdata, store.read(path))
    # a crash during a first write leaves no file at the target name
    target = tmp_path / "fresh.h5mu"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert "WRITING" in proc.stdout.readline()
    proc.kill()
    proc.wait(timeout=30)
    proc.stdout.close()
    assert not target.exists()


def test_atomic_write_cleans_up_on_error(mdata, tmp_path, monkeypatch):
    import mudata

    path = store.write(mdata, tmp_path / "cohort.h5mu")
    before = path.read_bytes()

    def failing(self, filename, **kwargs):
        with open(filename, "wb") as handle:
            handle.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(mudata.MuData, "write_h5mu", failing)
    with pytest.raises(OSError, match="disk full"):
        store.write(mdata, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["cohort.h5mu"]  # no temporary left behind


def test_frozen_store_of_every_version_reads():
    """A file written by every released format version stays readable (tests/data/stores/v<N>.h5mu)."""
    from pathlib import Path

    folder = Path(__file__).parent / "data" / "stores"
    for version in range(1, store.FORMAT_VERSION + 1):
        mdata = store.read(folder / f"v{version}.h5mu")
        assert list(mdata.mod) == ["rna", "prot"]
        assert mdata["rna"].X[3, 2] == 11.0
        assert mdata["prot"].obs_names.tolist() == ["TCGA-AA-0002-01"]
        assert mdata.obs.loc["TCGA-AA-0001-01", "pam50"] == "Her2"
        assert mdata.obsm["mofa"].shape == (4, 2)
