"""hm.tl.nearest_samples and hm.tl.actionable_by_group on the real 121-patient TCGA-BRCA cohort.

Factor scores are written by the test (principal components of the real RNA): nearest_samples must agree with the
distances numpy computes on those stored scores. The actionable table is written by the test from the real
mutation and copy-number values (hm.tl.actionable is another slice's): actionable_by_group must agree with a
pandas crosstab of the same carriers. Sample lookup accepts IDs, patient barcodes in any written form and deeper
barcodes, and fails naming the sample and the closest IDs.
"""

from __future__ import annotations

import logging

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import (
    AmbiguousSampleError,
    InsufficientDataError,
    MissingResultError,
    StoreFormatError,
    UnknownSampleError,
)

QUERY = "TCGA-A1-A0SK-01"  # a Basal-like tumour of the cohort (published PAM50: Basal)


def principal_components(mdata, k: int = 6, n_genes: int = 2000) -> np.ndarray:
    """The first k principal-component scores of the real RNA (top-variance genes), in obs order."""
    rna = mdata["rna"]
    x = np.asarray(rna.X, dtype=float)
    x = x[:, np.argsort(-x.var(axis=0), kind="stable")[:n_genes]]
    x = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    scores = pd.DataFrame(u[:, :k] * s[:k], index=rna.obs_names)
    return scores.reindex(mdata.obs_names).to_numpy()


@pytest.fixture(scope="module")
def cohort(brca121_base):
    mdata = brca121_base.copy()
    hm.tl.pam50(mdata)
    mdata.obsm["mofa"] = principal_components(mdata)  # a bare array: names from uns, as a fit writes them
    mdata.uns["mofa"] = {"factor_names": [f"Factor{i + 1}" for i in range(6)]}
    return mdata


def _numpy_neighbours(scores: np.ndarray, ids: np.ndarray, query: str, metric: str) -> pd.Series:
    q = int(np.flatnonzero(ids == query)[0])
    keep = np.isfinite(scores).all(axis=1)
    keep[q] = False
    if metric == "euclidean":
        d = np.sqrt(((scores[keep] - scores[q]) ** 2).sum(axis=1))
    else:
        d = 1.0 - np.array([np.corrcoef(scores[q], row)[0, 1] for row in scores[keep]])
    return pd.Series(d, index=ids[keep]).sort_values(kind="stable")


@pytest.mark.parametrize("metric", ["euclidean", "correlation"])
def test_nearest_samples_agree_with_numpy_on_the_stored_scores(cohort, metric):
    near = hm.tl.nearest_samples(cohort, QUERY, n=7, metric=metric)
    expected = _numpy_neighbours(cohort.obsm["mofa"], np.asarray(cohort.obs_names), QUERY, metric).head(7)
    assert list(near["sample"]) == list(expected.index)
    np.testing.assert_allclose(near["distance"], expected.to_numpy(), rtol=1e-10)
    assert list(near["rank"]) == list(range(1, 8))
    assert QUERY not in set(near["sample"])
    # the neighbours' own labels, copied from obs
    assert list(near["pam50"].astype(str)) == list(cohort.obs.loc[near["sample"], "pam50"].astype(str))
    assert list(near["patient"]) == [s[:12] for s in near["sample"]]
    assert "clinical_group" not in near.columns  # not in this store
    assert near.attrs["query"] == QUERY and near.attrs["metric"] == metric


def test_nearest_neighbours_of_a_basal_tumour_are_mostly_basal(cohort):
    # the first principal components of breast-tumour RNA separate basal-like tumours (Perou et al. 2000)
    near = hm.tl.nearest_samples(cohort, QUERY, n=5)
    assert cohort.obs.at[QUERY, "pam50"] == "Basal"
    assert (near["pam50"] == "Basal").sum() >= 4


@pytest.mark.parametrize(
    "spelling",
    [
        "TCGA-A1-A0SK",
        "tcga.a1.a0sk",
        "TCGA_A1_A0SK",
        " TCGA-A1-A0SK-01 ",
        "TCGA-A1-A0SK-01A",
        "TCGA-A1-A0SK-01A-12R-A084-07",
    ],
)
def test_a_patient_barcode_or_deeper_barcode_names_the_sample(cohort, spelling):
    near = hm.tl.nearest_samples(cohort, spelling, n=3)
    assert near.attrs["query"] == QUERY
    assert list(near["sample"]) == list(hm.tl.nearest_samples(cohort, QUERY, n=3)["sample"])


def test_unknown_sample_names_it_and_lists_close_matches(cohort):
    with pytest.raises(UnknownSampleError, match=r"'TCGA-A1-A0SX' is not in the store.*closest: TCGA-A1-A0SK") as err:
        hm.tl.nearest_samples(cohort, "TCGA-A1-A0SX")
    assert isinstance(err.value, KeyError)
    assert err.value.sample == "TCGA-A1-A0SX" and "TCGA-A1-A0SK" in err.value.close_matches
    with pytest.raises(UnknownSampleError, match=r"'nobody' is not in the store \(121 samples"):
        hm.tl.nearest_samples(cohort, "nobody")
    with pytest.raises(UnknownSampleError, match="TCGA-A1-A0SK-11"):  # the patient's normal tissue is not stored
        hm.tl.nearest_samples(cohort, "TCGA-A1-A0SK-11")


def _tiny_store(ids, patients=None, codes=None):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(len(ids), 3))
    mdata = md.MuData({"rna": ad.AnnData(x, obs=pd.DataFrame(index=ids))})
    if patients is not None:
        mdata.obs["patient"] = patients
    if codes is not None:
        mdata.obs["sample_type_code"] = codes
    mdata.obsm["mofa"] = pd.DataFrame(x, index=mdata.obs_names, columns=["Factor1", "Factor2", "Factor3"])
    return mdata


def test_a_patient_with_tumour_and_normal_means_the_primary_tumour():
    mdata = _tiny_store(["TCGA-AA-0001-01", "TCGA-AA-0001-11", "TCGA-AA-0002-01", "TCGA-AA-0003-06"])
    assert hm.tl.nearest_samples(mdata, "TCGA-AA-0001", n=1).attrs["query"] == "TCGA-AA-0001-01"
    assert hm.tl.nearest_samples(mdata, "TCGA-AA-0003", n=1).attrs["query"] == "TCGA-AA-0003-06"  # its only one
    mdata = _tiny_store(["TCGA-AA-0001-06", "TCGA-AA-0001-11", "TCGA-AA-0002-01"])
    with pytest.raises(AmbiguousSampleError, match="TCGA-AA-0001-06, TCGA-AA-0001-11") as err:
        hm.tl.nearest_samples(mdata, "TCGA-AA-0001")
    assert err.value.candidates == ["TCGA-AA-0001-06", "TCGA-AA-0001-11"]


def test_a_store_keyed_by_patient_or_by_other_ids():
    mdata = _tiny_store(["TCGA-AA-0001", "TCGA-AA-0002", "TCGA-AA-0003"])
    assert hm.tl.nearest_samples(mdata, "TCGA-AA-0001-01A", n=1).attrs["query"] == "TCGA-AA-0001"
    # IDs that are no barcodes: the patient column maps a patient barcode to them
    mdata = _tiny_store(["s1", "s2", "s3"], patients=["TCGA-AA-0001", "TCGA-AA-0002", "TCGA-AA-0003"])
    assert hm.tl.nearest_samples(mdata, "TCGA-AA-0002", n=1).attrs["query"] == "s2"
    mdata = _tiny_store(["s1", "s2", "s3"], patients=["P1", "P2", "P2"], codes=["01", "01", "11"])
    assert hm.tl.nearest_samples(mdata, "P2", n=1).attrs["query"] == "s2"
    with pytest.raises(UnknownSampleError, match="closest: s1"):
        hm.tl.nearest_samples(mdata, "s1x")


def test_samples_without_scores_are_left_out(cohort, caplog):
    mdata = cohort.copy()
    scores = mdata.obsm["mofa"].copy()
    gone = ["TCGA-E9-A1N8-01", "TCGA-AN-A0FJ-01"]  # the query's two nearest samples
    for sample in gone:
        scores[mdata.obs_names.get_loc(sample), 2] = np.nan
    mdata.obsm["mofa"] = scores
    before = hm.tl.nearest_samples(cohort, QUERY, n=4)
    assert list(before["sample"][:2]) == gone
    with caplog.at_level(logging.INFO, logger="harmonomics.tl._neighbours"):
        near = hm.tl.nearest_samples(mdata, QUERY, n=2)
    assert list(near["sample"]) == list(before["sample"][2:4])
    assert "2 samples without complete factor scores left out" in caplog.text
    with pytest.raises(InsufficientDataError, match="'TCGA-E9-A1N8-01' has no complete factor scores"):
        hm.tl.nearest_samples(mdata, "TCGA-E9-A1N8")


def test_nearest_samples_bad_input(cohort):
    mdata = _tiny_store(["TCGA-AA-0001-01", "TCGA-AA-0002-01", "TCGA-AA-0003-01"])
    assert len(hm.tl.nearest_samples(mdata, "TCGA-AA-0001", n=10)) == 2  # every other sample
    with pytest.raises(ValueError, match="metric must be one of"):
        hm.tl.nearest_samples(cohort, QUERY, metric="cosine")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        hm.tl.nearest_samples(cohort, QUERY, n=0)
    with pytest.raises(MissingResultError, match="obsm\\['other'\\]"):
        hm.tl.nearest_samples(cohort, QUERY, key="other")


# ------------------------------------------------------------------------------------------ actionable_by_group
def _actionable_from_real_values(mdata) -> pd.DataFrame:
    """An actionable table in the layout of hm.tl.actionable (contract B), from the cohort's real values:
    PIK3CA-mutated samples (mutation matrix), ERBB2 gains (log2(CN/2) > 0.8 in cnv), and a second PIK3CA row
    for one sample, which must count once."""
    mut = mdata["mut"]
    pik3ca = list(mut.obs_names[np.asarray(mut[:, "PIK3CA"].X).ravel() > 0])
    cnv = mdata["cnv"]
    erbb2 = list(cnv.obs_names[np.asarray(cnv[:, "ERBB2"].X).ravel() > 0.8])
    rows = [(s, "PIK3CA", "mutation", "PIK3CA activating mutation", "PI3K-alpha inhibitor") for s in pik3ca]
    rows.append((pik3ca[0], "PIK3CA", "mutation", "PIK3CA activating mutation", "PI3K-alpha inhibitor"))
    rows += [(s, "ERBB2", "amplification", "ERBB2 amplification", "anti-HER2 antibody") for s in erbb2]
    rows.append(("TCGA-ZZ-9999-01", "ERBB2", "amplification", "ERBB2 amplification", "anti-HER2 antibody"))
    table = pd.DataFrame(rows, columns=["sample", "gene", "alteration_type", "biomarker", "therapy_class"])
    table["alteration"] = table["alteration_type"]
    table["evidence"] = "test"
    table["evidence_level"] = "approved_breast"
    table["source"] = "test"
    return table


def test_actionable_by_group_equals_a_crosstab(cohort, caplog):
    mdata = cohort.copy()
    table = _actionable_from_real_values(mdata)
    mdata.uns["actionable"] = table
    with caplog.at_level(logging.WARNING, logger="harmonomics.tl._neighbours"):
        counts = hm.tl.actionable_by_group(mdata)
    assert "1 samples of uns['actionable'] are not in the store (e.g. TCGA-ZZ-9999-01)" in caplog.text

    pam50 = mdata.obs["pam50"].astype(str)
    known = table[table["sample"].isin(mdata.obs_names)].drop_duplicates(["sample", "biomarker"])
    expected = pd.crosstab(known["biomarker"], pam50.loc[known["sample"]].to_numpy())
    sizes = pam50.value_counts()
    assert list(counts.columns[:6]) == ["biomarker", "therapy_class", "pam50", "n_samples", "n_group", "percent"]
    assert list(counts.columns[6:]) == ["odds_ratio", "odds_ratio_low", "odds_ratio_high", "p", "fdr"]
    assert list(counts["pam50"].cat.categories) == ["LumA", "LumB", "Her2", "Basal", "Normal"]
    for row in counts.itertuples():
        want = int(expected.at[row.biomarker, row.pam50]) if row.pam50 in expected.columns else 0
        assert row.n_samples == want, (row.biomarker, row.pam50)
        assert row.n_group == sizes[row.pam50]
        assert row.percent == pytest.approx(100 * want / sizes[row.pam50])
    assert len(counts) == 2 * 5
    assert counts.groupby("biomarker")["n_samples"].sum().to_dict() == known["biomarker"].value_counts().to_dict()
    assert set(counts["therapy_class"]) == {"PI3K-alpha inhibitor", "anti-HER2 antibody"}
    # the biology the real values must show (TCGA 2012: PIK3CA mutated in 45% of LumA, 9% of basal-like tumours;
    # ERBB2 amplified in most HER2-enriched tumours)
    pct = counts.set_index(["biomarker", "pam50"])["percent"]
    assert pct["PIK3CA activating mutation", "LumA"] > 2 * pct["PIK3CA activating mutation", "Basal"]
    assert pct["ERBB2 amplification", "Her2"] > 2 * pct["ERBB2 amplification", "LumA"]


def test_actionable_by_group_counts_only_samples_with_a_group(cohort):
    mdata = cohort.copy()
    mdata.uns["actionable"] = _actionable_from_real_values(mdata)
    mdata.obs["subgroup"] = pd.Categorical(np.where(np.arange(mdata.n_obs) % 3 == 0, None, "b"), categories=["b"])
    counts = hm.tl.actionable_by_group(mdata, groupby="subgroup")
    assert set(counts["subgroup"]) == {"b"}
    assert set(counts["n_group"]) == {int(mdata.obs["subgroup"].notna().sum())}


def test_actionable_by_group_missing_inputs(cohort):
    mdata = cohort.copy()
    with pytest.raises(MissingResultError, match=r"run hm.tl.actionable\(mdata"):
        hm.tl.actionable_by_group(mdata)
    mdata.uns["actionable"] = pd.DataFrame({"sample": [QUERY], "gene": ["ERBB2"]})
    with pytest.raises(StoreFormatError, match=r"lacks the column\(s\) \['biomarker', 'therapy_class'\]"):
        hm.tl.actionable_by_group(mdata)
    mdata.uns["actionable"] = _actionable_from_real_values(mdata)
    del mdata.obs["pam50"]
    with pytest.raises(MissingResultError, match=r"run hm.tl.pam50\(mdata\) first"):
        hm.tl.actionable_by_group(mdata)
    empty = _actionable_from_real_values(cohort).iloc[:0]
    mdata = cohort.copy()
    mdata.uns["actionable"] = empty
    assert hm.tl.actionable_by_group(mdata).empty
