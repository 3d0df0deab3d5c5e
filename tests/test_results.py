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


def test_r2_totals_in_each_stored_form(frozen):
    mdata, _ = frozen
    r2 = pd.DataFrame([[0.1, 0.2], [0.3, 0.0]], index=["rna", "cnv"], columns=["Factor1", "Factor2"])
    mdata.uns["mofa"] = {"factor_names": ["Factor1", "Factor2"], "r2_per_view_factor": r2}
    assert _results.r2_total(mdata) is None  # a fit may leave the totals out
    mdata.uns["mofa"]["r2_per_factor"] = {"Factor2": 0.15, "Factor1": 0.25}  # as hm.tl.mofa writes it
    mdata.uns["mofa"]["r2_per_view"] = np.array([0.3, 0.25])  # in the views' order
    assert _results.r2_total(mdata).to_dict() == {"Factor1": 0.25, "Factor2": 0.15}
    assert _results.r2_total(mdata, per="view").to_dict() == {"rna": 0.3, "cnv": 0.25}
    mdata.uns["mofa"]["r2_per_view"] = np.array([0.3, 0.25, 0.1])  # not one value per view
    assert _results.r2_total(mdata, per="view") is None
    with pytest.raises(ValueError, match="per must be"):
        _results.r2_total(mdata, per="sample")
    del mdata.uns["mofa"]["r2_per_view_factor"]
    with pytest.raises(MissingResultError, match="r2_per_view_factor"):
        _results.r2_total(mdata)
