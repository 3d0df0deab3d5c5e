"""The one reader of a fitted factor model (harmonomics._results), checked against the raw values of the frozen
v1 store file and shared by hm.get, tl, pl and export."""

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics import _results, store
from harmonomics._errors import MissingResultError, StoreFormatError

FROZEN = Path(__file__).parent / "data" / "stores" / "v1.h5mu"


@pytest.fixture
def frozen():
    with h5py.File(FROZEN, "r") as f:
        raw = f["obsm"]["mofa"][()]
    return store.read(FROZEN), raw


def test_old_store_scores_read_as_written(frozen):
    mdata, raw = frozen
    scores = _results.factor_scores(mdata)
    assert raw.shape == (4, 2)
    np.testing.assert_array_equal(scores.to_numpy(), raw)
    assert scores.index.name == "sample"
    assert scores.index.tolist() == [f"TCGA-AA-000{i}-01" for i in range(4)]
    # written before factor names were stored: Factor1..K
    assert list(scores.columns) == ["Factor1", "Factor2"]


def test_every_reader_gives_the_same_numbers(frozen, tmp_path):
    mdata, raw = frozen
    mdata.uns["mofa"] = {"factor_names": ["Factor1", "Factor2"]}
    wide = hm.get.factor_scores(mdata, wide=True)
    pd.testing.assert_frame_equal(wide, _results.factor_scores(mdata))
    long = hm.get.factor_scores(mdata)
    assert list(long.columns) == ["sample", "factor", "score"]
    assert long.loc[(long["sample"] == "TCGA-AA-0002-01") & (long["factor"] == "Factor1"), "score"].item() == -1.0
    written = pd.read_csv(hm.export.factor_scores(mdata, tmp_path / "scores.tsv"), sep="\t")
    assert written.columns.tolist() == ["sample_id", "patient", "Factor1", "Factor2"]
    np.testing.assert_array_equal(written[["Factor1", "Factor2"]].to_numpy(), raw)


def test_one_exception_for_a_missing_result(frozen, tmp_path):
    mdata, _ = frozen
    del mdata.obsm["mofa"]
    mdata.uns["mofa"] = {"factor_names": ["Factor1", "Factor2"]}
    for read in (
        lambda: _results.factor_scores(mdata),
        lambda: hm.get.factor_scores(mdata),
        lambda: hm.tl.associate(mdata, covariates=("pam50",)),
        lambda: hm.export.factor_scores(mdata, tmp_path / "unused.tsv"),
        lambda: hm.pl.factor_scatter(mdata),
    ):
        with pytest.raises(MissingResultError, match=r"obsm\['mofa'\]"):
            read()
    with pytest.raises(MissingResultError, match=r"uns\['nope'\]"):
        _results.model_info(mdata, "nope")


def test_names_that_do_not_match_the_scores(frozen):
    mdata, _ = frozen
    mdata.uns["mofa"] = {"factor_names": ["Factor1", "Factor2", "Factor3"]}
    with pytest.raises(StoreFormatError, match="has 3 names but obsm\\['mofa'\\] has 2 columns"):
        _results.factor_scores(mdata)
