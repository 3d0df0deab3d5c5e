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
        obs=pd.DataFrame(
            {"aliquot": [f"al{i}" for i in range(4)], "source_file": "rna.tsv"}, index=["s1", "s2", "s3", "s5"]
        ),
        var=pd.DataFrame({"gene_name": ["A", "B", "C"]}, index=["ENSG1", "ENSG2", "ENSG3"]),
        layers={"counts": rng.poisson(5, size=(4, 3)).astype(float)},
    )
    prot = ad.AnnData(
        rng.normal(size=(2, 2)), obs=pd.DataFrame(index=["s2", "s4"]), var=pd.DataFrame(index=["p1", "p2"])
    )
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
        "r2_per_view_factor": pd.DataFrame(
            [[0.1, 0.2], [0.3, 0.0]], index=["rna", "prot"], columns=["Factor1", "Factor2"]
        ),
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
    store.add_report_rows(
        mdata,
        [
            {
                "level": "feature",
                "item": "g9",
                "omic": "rna",
                "sample": "",
                "action": "dropped",
                "reason": "zero variance",
            }
        ],
    )
    report = mdata.uns[_keys.UNS_REPORT]
    assert list(report["item"]) == ["al9", "g9"]


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np, anndata as ad, mudata
    from harmonomics import store
    mudata.set_options(pull_on_update=False)

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
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(f".cohort.h5mu.{proc.pid}.")  # the killed writer's temp
    # the next write to the same path removes it: no temporary file is left in the folder
    store.write(mdata, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.h5mu"]
    _assert_same_store(mdata, store.read(path))
    # a crash during a first write leaves no file at the target name
    target = tmp_path / "fresh.h5mu"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert "WRITING" in proc.stdout.readline()
    proc.kill()
    proc.wait(timeout=30)
    proc.stdout.close()
    assert not target.exists()
    store.write(mdata, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.h5mu", "fresh.h5mu"]


def test_only_stale_temporaries_are_removed(mdata, tmp_path):
    """A live writer's temporary stays; one of a finished process, or an unnamed one older than this process, goes."""
    import os

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    try:
        names = {
            "live": f".cohort.h5mu.{live.pid}.abc123.tmp",
            "dead": f".cohort.h5mu.{dead.pid}.def456.tmp",
            "legacy": ".cohort.h5mu.k3j2h1g0.tmp",  # written before temporaries carried a process ID
            "other": f".other.h5mu.{dead.pid}.abc123.tmp",  # another store's temporary
        }
        for name in names.values():
            (tmp_path / name).mkdir()
            (tmp_path / name / "cohort.h5mu").write_bytes(b"half a store")
        old = store._PROCESS_STARTED - 3600
        os.utime(tmp_path / names["legacy"], (old, old))
        store.write(mdata, tmp_path / "cohort.h5mu")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["cohort.h5mu", names["live"], names["other"]])
    finally:
        live.kill()
        live.wait(timeout=30)


def test_zarr_moved_aside_by_a_killed_writer_is_put_back(mdata, tmp_path):
    """Killed between its two moves, a zarr writer leaves the old store beside the path; the next write recovers it."""
    pytest.importorskip("zarr")
    path = store.write(mdata, tmp_path / "cohort.zarr")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    aside = tmp_path / f".cohort.zarr.old-{dead.pid}"
    path.rename(aside)
    assert store.clean_stale_temporaries(path) == []
    assert not aside.exists()
    _assert_same_store(mdata, store.read(path))


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


# --------------------------------------------------------------------------------------------------------------
# any sample ID; columns of mixed, all-None or all-NaN values (docs/store.md, "Columns of mixed or missing values")
# --------------------------------------------------------------------------------------------------------------
_IDS = ["MB-0001", "GSM123456", "TCGA-A1-A0SB-01", "patient 7 / relapse (2019)"]


@pytest.fixture
def awkward():
    """METABRIC, GEO, TCGA and free-form sample IDs; every kind of column anndata cannot write as it is, in every
    table of the store; and a modality whose sample order differs from the global one."""
    rna = ad.AnnData(
        np.arange(12.0).reshape(4, 3),
        obs=pd.DataFrame({"batch": [None, "b1", None, "b2"]}, index=_IDS),
        var=pd.DataFrame(
            {"symbol": ["ESR1", "ERBB2", "MKI67"], "mixed": [7, "x", None], "chromosome": ["6", "17", "6"]},
            index=["g1", "g2", "g3"],
        ),
    )
    mut = ad.AnnData(  # samples in an order of their own, and a MAF's blank Entrez_Gene_Id column
        np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
        obs=pd.DataFrame(index=[_IDS[2], _IDS[0], _IDS[3]]),
        var=pd.DataFrame({"entrez": [None, None], "score": [np.nan, np.nan]}, index=["TP53", "PIK3CA"]),
    )
    mut.obsm["flags"] = pd.DataFrame({"note": [None, None, None], "vaf": [0.1, np.nan, 0.3]}, index=mut.obs_names)
    obs = pd.DataFrame(
        {
            "sample_type": [None, None, "TP", None],  # only the TCGA barcode has a sample type
            "sample_type_all_none": [None] * 4,
            "mixed": [1, "x", 2.5, None],
            "all_nan": [np.nan] * 4,
            "ints": np.array([3, None, 5, 6], dtype=object),
            "flags": np.array([True, None, False, True], dtype=object),
            "numbers": np.array([1, 2.5, None, 4], dtype=object),
            "text": pd.array(["a", None, "c", "d"], dtype="string"),
        },
        index=_IDS,
    )
    m = store.new_store({"rna": rna, "mut": mut}, obs=obs, reader="test")
    m.obsm["clinical"] = pd.DataFrame(
        {"grade": [None, "G2", None, 3], "age": [50.0, np.nan, 61.0, 70.0]}, index=m.obs_names
    )
    # plain bools in a global obsm table (hm.tl.actionable's assessed samples): mudata's read-time alignment
    # used to turn them into objects
    m.obsm["assessed"] = pd.DataFrame({"PIK3CA": [True, False, True, True]}, index=m.obs_names)
    m.obs["sequenced"] = np.array([True, False, True, True])
    m.uns["extra"] = {"table": pd.DataFrame({"none": [None, None], "mixed": [1, "a"], "ids": ["MB-0001", None]})}
    return m


_EXPECTED_OBS = {
    "sample_type": [None, None, "TP", None],
    "sample_type_all_none": [None] * 4,
    "mixed": ["1", "x", "2.5", None],  # a mix of types comes back as text
    "ints": [3, None, 5, 6],
    "flags": [True, None, False, True],
    "numbers": [1.0, 2.5, None, 4.0],
}


@pytest.mark.parametrize("suffix", ["h5mu", "zarr", "nc"])
def test_any_sample_id_and_awkward_columns_round_trip(awkward, tmp_path, suffix):
    before = {name: awkward[name].obs_names.tolist() for name in awkward.mod}
    obs_before = awkward.obs.copy()
    back = store.read(store.write(awkward, tmp_path / f"cohort.{suffix}"))

    assert back.obs_names.tolist() == _IDS
    for name, order in before.items():
        assert back[name].obs_names.tolist() == order  # each omic keeps its own sample order
        np.testing.assert_array_equal(back[name].X, awkward[name].X)
    for column, values in _EXPECTED_OBS.items():
        assert back.obs[column].dtype == object, column
        assert back.obs[column].tolist() == values, column
    assert [type(v) for v in back.obs["ints"] if v is not None] == [int, int, int]
    assert np.isnan(back.obs["all_nan"].to_numpy(dtype=float)).all()
    assert back.obs["text"].dtype == "string" and back.obs["text"].isna().tolist() == [False, True, False, False]
    assert back.obs["text"].dropna().tolist() == ["a", "c", "d"]
    assert back["rna"].obs["batch"].tolist() == [None, "b1", None, "b2"]
    assert back["rna"].var["mixed"].tolist() == ["7", "x", None]
    assert back["rna"].var["symbol"].astype(str).tolist() == ["ESR1", "ERBB2", "MKI67"]
    assert back["rna"].var["chromosome"].astype(str).tolist() == ["6", "17", "6"]
    assert back["mut"].var["entrez"].tolist() == [None, None]
    assert np.isnan(back["mut"].var["score"].to_numpy(dtype=float)).all()
    assert back.obsm["assessed"]["PIK3CA"].dtype == bool
    assert back.obsm["assessed"]["PIK3CA"].tolist() == [True, False, True, True]
    assert back.obs["sequenced"].dtype == bool and back.obs["sequenced"].tolist() == [True, False, True, True]
    clinical = back.obsm["clinical"]
    assert clinical["grade"].tolist() == [None, "G2", None, "3"]
    np.testing.assert_array_equal(clinical["age"].to_numpy(dtype=float), [50.0, np.nan, 61.0, 70.0])
    table = back.uns["extra"]["table"]
    assert table["none"].tolist() == [None, None]
    assert table["mixed"].tolist() == ["1", "a"]
    assert table["ids"].tolist() == ["MB-0001", None]
    if suffix != "nc":  # the xarray view keeps global obsm and uns, not the per-omic obsm
        assert back["mut"].obsm["flags"]["note"].tolist() == [None, None, None]
    assert store._ENCODINGS_KEY not in back.uns["harmonomics"]  # the bookkeeping is consumed on read
    # the store in memory is left as it was
    pd.testing.assert_frame_equal(awkward.obs, obs_before)
    assert awkward.obs["ints"].tolist() == [3, None, 5, 6]
    assert awkward["mut"].var["entrez"].tolist() == [None, None]
    assert awkward["rna"].var["chromosome"].dtype == object  # not turned into a categorical by the writer


def test_netcdf_keeps_each_omics_sample_order(mdata, tmp_path):
    """prot holds s4 before s2 while the global order has s2 first; the .nc round trip keeps prot's order."""
    mdata.mod["prot"] = mdata["prot"][["s4", "s2"]].copy()
    mdata.update()
    assert mdata["prot"].obs_names.tolist() == ["s4", "s2"]
    assert mdata.obs_names.get_loc("s2") < mdata.obs_names.get_loc("s4")
    back = store.read(store.write(mdata, tmp_path / "cohort.nc"))
    assert back["prot"].obs_names.tolist() == ["s4", "s2"]
    np.testing.assert_array_equal(back["prot"].X, mdata["prot"].X)
    assert back.obs_names.tolist() == mdata.obs_names.tolist()
