"""PAM50 caller: the UNC reference test set must be reproduced exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics import data
from harmonomics._errors import GeneMappingError, ScaleError

LABELS = {"luminal_a": "LumA", "luminal_b": "LumB", "her2": "Her2", "basal": "Basal", "normal": "Normal"}
ROR = {"s": "subtype", "p": "prolif", "c": "clinical", "pt": "prolif_clinical"}


@pytest.fixture(scope="module")
def reference():
    expr = pd.read_csv(data.path("pam50", "pam50_testdata.tsv"), sep="\t", index_col=0)
    expected = pd.read_csv(data.path("pam50", "pam50_testdata_assignments.tsv"), sep="\t", index_col=0)
    sheet = pd.read_csv(data.path("pam50", "pam50_testdata_samplesheet.tsv"), sep="\t", index_col=0)
    return expr, expected, sheet


def _store(expr: pd.DataFrame, obs: pd.DataFrame | None = None, var: pd.DataFrame | None = None):
    """MuData with one `rna` modality from a genes x samples table."""
    import anndata as ad
    import mudata as md

    hm.tl  # noqa: B018 - configures mudata like every harmonomics entry point
    rna = ad.AnnData(
        expr.T.to_numpy(dtype=float),
        obs=pd.DataFrame(index=expr.columns.astype(str)),
        var=var if var is not None else pd.DataFrame(index=expr.index.astype(str)),
    )
    mdata = md.MuData({"rna": rna})
    if obs is not None:
        for column in obs.columns:
            mdata.obs[column] = obs[column].reindex(mdata.obs_names)
    return mdata


def test_reference_reproduced_exactly(reference):
    expr, expected, sheet = reference
    mdata = _store(expr, obs=sheet)
    hm.tl.pam50(mdata, tumor_size="tumor_size")

    calls = mdata.obs["pam50"]
    assert list(calls.cat.categories) == ["LumA", "LumB", "Her2", "Basal", "Normal"]
    assert (calls.astype(str) == expected["assignment"].map(LABELS)).all()  # all 200 calls

    corr = mdata.obsm["pam50_corr"]
    for ref_name, label in LABELS.items():
        np.testing.assert_allclose(corr[label], expected[ref_name], atol=1e-3, rtol=0)
    np.testing.assert_allclose(mdata.obs["pam50_proliferation"], expected["prolif_scores"], atol=1e-3, rtol=0)
    for suffix, ref_name in ROR.items():
        ours = mdata.obs[f"pam50_ror_{suffix}"]
        theirs = expected[f"ror_{ref_name}"]
        assert (ours.isna() == theirs.isna()).all()
        np.testing.assert_allclose(ours[theirs.notna()], theirs.dropna(), atol=1e-3, rtol=0)
        groups = mdata.obs[f"pam50_ror_{suffix}_group"].astype(object).where(ours.notna(), "NA")
        assert (groups == expected[f"ror_group_{ref_name}"].fillna("NA")).all(), suffix
    # in fact the agreement is to rounding error
    assert np.abs(corr["LumA"] - expected["luminal_a"]).max() < 1e-9

    top2 = np.sort(corr.to_numpy(), axis=1)[:, -2:]
    np.testing.assert_allclose(mdata.obs["pam50_confidence"], top2[:, 1] - top2[:, 0])
    info = mdata.uns["pam50"]
    assert len(info["genes_used"]) == 50 and info["genes_missing"] == []
    assert info["params"]["centering"] == "median" and info["log_transformed"] is False


def test_gene_id_forms_give_identical_calls(reference):
    expr, _, _ = reference
    genes = pd.read_csv(data.path("signatures", "pam50_genes.tsv"), sep="\t", dtype=str).set_index("gene_name")
    base = _store(expr)
    hm.tl.pam50(base)

    # versioned Ensembl IDs
    ens = expr.copy()
    ens.index = [f"{genes.loc[g, 'gene_id']}.{i % 7 + 1}" for i, g in enumerate(expr.index)]
    # SYMBOL|ENTREZ with the legacy names KNTC2 (NDC80), CDCA1 (NUF2), ORC6L (ORC6)
    legacy = {"NDC80": "KNTC2", "NUF2": "CDCA1", "ORC6": "ORC6L"}
    se = expr.copy()
    se.index = [f"{legacy.get(g, g)}|{genes.loc[g, 'EntrezGene.ID']}" for g in expr.index]
    # plain legacy symbols, in shuffled order
    plain = expr.rename(index=legacy).sample(frac=1.0, random_state=1)
    # arbitrary feature IDs with a gene-symbol column in var
    probes = expr.copy()
    probes.index = [f"probe{i}" for i in range(len(expr))]
    probe_var = pd.DataFrame({"gene_name": list(expr.index)}, index=probes.index)
    for table, var in ((ens, None), (se, None), (plain, None), (probes, probe_var)):
        mdata = _store(table, var=var)
        hm.tl.pam50(mdata)
        assert (mdata.obs["pam50"] == base.obs["pam50"]).all()
        np.testing.assert_allclose(mdata.obsm["pam50_corr"], base.obsm["pam50_corr"], atol=1e-12)
        assert mdata.uns["pam50"]["genes_missing"] == []
        assert mdata.uns["pam50"]["genes_used"] == base.uns["pam50"]["genes_used"]
    assert "probe25" in mdata.uns["pam50"]["features_used"]


def test_missing_genes_warn_and_are_listed(reference):
    expr, expected, _ = reference
    dropped = ["MKI67", "ESR1", "KRT5", "MIA", "BAG1"]
    mdata = _store(expr.drop(index=dropped))
    with pytest.warns(UserWarning, match=r"5 of the 50 PAM50 genes missing.*MKI67"):
        hm.tl.pam50(mdata)
    assert sorted(mdata.uns["pam50"]["genes_missing"]) == sorted(dropped)
    assert len(mdata.uns["pam50"]["genes_used"]) == 45
    agreement = (mdata.obs["pam50"].astype(str) == expected["assignment"].map(LABELS)).mean()
    assert agreement > 0.9


def test_fewer_than_40_genes_raise(reference):
    expr, _, _ = reference
    mdata = _store(expr.iloc[:39])
    with pytest.raises(GeneMappingError, match=r"only 39 of the 50 PAM50 genes.*at least 40"):
        hm.tl.pam50(mdata)
    # a gene measured in no sample counts as missing
    expr = expr.copy()
    expr.iloc[:11] = np.nan
    with pytest.raises(GeneMappingError, match="only 39"):
        hm.tl.pam50(_store(expr))


def test_counts_are_log_transformed(reference):
    expr, expected, _ = reference
    counts = np.round(2.0 ** (expr + 12.0))  # linear scale, like RNA-seq counts
    mdata = _store(counts)
    hm.tl.pam50(mdata)
    assert mdata.uns["pam50"]["log_transformed"] is True
    agreement = (mdata.obs["pam50"].astype(str) == expected["assignment"].map(LABELS)).mean()
    assert agreement >= 0.99
    # forcing no transform on counts changes the answer; forcing it on log data with negatives is refused
    hm.tl.pam50(mdata, log_transform=False, key_added="raw")
    assert mdata.uns["raw"]["log_transformed"] is False
    with pytest.raises(ScaleError, match="negative values"):
        hm.tl.pam50(_store(expr), log_transform=True)


def test_centering_none_on_precentred_data(reference):
    expr, expected, _ = reference
    centred = expr.sub(expr.median(axis=1), axis=0)
    mdata = _store(centred)
    hm.tl.pam50(mdata, centering="none")
    assert (mdata.obs["pam50"].astype(str) == expected["assignment"].map(LABELS)).all()
    assert np.all(mdata.uns["pam50"]["centers"] == 0)
    # a single pre-centred sample can be called alone
    one = _store(centred.iloc[:, :1])
    hm.tl.pam50(one, centering="none")
    assert one.obs["pam50"].iloc[0] == LABELS[expected["assignment"].iloc[0]]
    with pytest.raises(ValueError, match="at least 2 samples"):
        hm.tl.pam50(_store(centred.iloc[:, :1]))


def _skewed(expr, expected, n_basal):
    calls = expected["assignment"].map(LABELS)
    keep = list(calls.index[calls.isin(["LumA", "LumB"])]) + list(calls.index[calls == "Basal"][:n_basal])
    keep += list(calls.index[calls.isin(["Her2", "Normal"])][:10])
    return expr[keep], calls[keep]


def test_er_balanced_centering_fixes_skewed_cohorts(reference):
    expr, expected, _ = reference
    sub, truth = _skewed(expr, expected, n_basal=10)  # ER+ heavy: 90 luminal, 10 basal
    median = _store(sub)
    hm.tl.pam50(median)
    balanced = _store(sub)
    hm.tl.pam50(balanced, centering="er_balanced")
    acc_median = (median.obs["pam50"].astype(str) == truth).mean()
    acc_balanced = (balanced.obs["pam50"].astype(str) == truth).mean()
    assert acc_balanced >= 0.85 and acc_balanced > acc_median + 0.15
    params = balanced.uns["pam50"]["params"]
    assert params["centering"] == "er_balanced" and "Otsu" in params["er_source"]
    assert params["n_centering_subset"] == 2 * min(params["n_er_positive"], params["n_er_negative"])

    # ER status from a column: the reference calls stand in for IHC (luminal and normal-like ER+)
    er = truth.map(lambda c: "Positive" if c in ("LumA", "LumB", "Normal") else "Negative")
    from_column = _store(sub, obs=pd.DataFrame({"er": er}))
    hm.tl.pam50(from_column, centering="er_balanced", er_status="er")
    assert (from_column.obs["pam50"].astype(str) == truth).mean() >= 0.85
    assert from_column.uns["pam50"]["params"]["er_source"] == "obs column 'er'"

    bad = _store(sub, obs=pd.DataFrame({"er": er.replace("Positive", "maybe")}))
    with pytest.raises(ValueError, match="neither positive"):
        hm.tl.pam50(bad, centering="er_balanced", er_status="er")
    with pytest.raises(KeyError, match="er_status column 'nope'"):
        hm.tl.pam50(bad, centering="er_balanced", er_status="nope")
    only_pos = _store(sub, obs=pd.DataFrame({"er": "pos"}, index=sub.columns))
    with pytest.raises(ValueError, match="at least 3 ER"):
        hm.tl.pam50(only_pos, centering="er_balanced", er_status="er")
    with pytest.warns(UserWarning, match="ESR1"), pytest.raises(GeneMappingError, match="needs ER status"):
        hm.tl.pam50(_store(sub.drop(index="ESR1")), centering="er_balanced")


def test_store_layout_copy_and_absent_samples(reference):
    import anndata as ad
    import mudata as md

    expr, expected, _ = reference
    rna = ad.AnnData(
        expr.iloc[:, :150].T.to_numpy(dtype=float),
        obs=pd.DataFrame(index=expr.columns[:150]),
        var=pd.DataFrame(index=expr.index),
    )
    mirna = ad.AnnData(np.zeros((200, 2)), obs=pd.DataFrame(index=expr.columns), var=pd.DataFrame(index=["m1", "m2"]))
    mdata = md.MuData({"rna": rna, "mirna": mirna})
    out = hm.tl.pam50(mdata, copy=True)
    assert "pam50" not in mdata.obs.columns and "pam50" in out.obs.columns
    assert out.obs["pam50"].iloc[150:].isna().all() and out.obs["pam50"].iloc[:150].notna().all()
    assert out.obsm["pam50_corr"].shape == (200, 5) and out.obsm["pam50_corr"].iloc[150:].isna().all().all()
    assert "pam50_ror_c" not in out.obs.columns  # no tumour size, no clinical variants
    assert hm.tl.pam50(mdata, key_added="called") is None
    assert {
        "called",
        "called_confidence",
        "called_proliferation",
        "called_ror_s",
        "called_ror_p_group",
    } <= set(mdata.obs.columns)
    # AnnData input works too
    adata = ad.AnnData(
        expr.T.to_numpy(dtype=float), obs=pd.DataFrame(index=expr.columns), var=pd.DataFrame(index=expr.index)
    )
    hm.tl.pam50(adata)
    assert (adata.obs["pam50"].astype(str) == expected["assignment"].map(LABELS)).all()


def test_store_roundtrip(reference, tmp_path):
    """The results are plain arrays, tables and strings: they survive h5mu."""
    import mudata as md

    expr, _, sheet = reference
    mdata = _store(expr, obs=sheet)
    hm.tl.pam50(mdata, tumor_size="tumor_size")
    path = tmp_path / "pam50.h5mu"
    mdata.write(path)
    back = md.read_h5mu(path)
    assert (back.obs["pam50"] == mdata.obs["pam50"]).all()
    assert list(back.uns["pam50"]["genes_used"]) == mdata.uns["pam50"]["genes_used"]


def test_bad_inputs(reference):
    expr, _, sheet = reference
    mdata = _store(expr, obs=sheet.assign(size_cm=sheet["tumor_size"] * 3.5))
    with pytest.raises(ValueError, match="centering must be"):
        hm.tl.pam50(mdata, centering="mean")
    with pytest.raises(KeyError, match="modality 'prot' not in the store"):
        hm.tl.pam50(mdata, mod="prot")
    with pytest.raises(KeyError, match="layer 'counts'"):
        hm.tl.pam50(mdata, layer="counts")
    with pytest.raises(ValueError, match="indicator of tumour size > 2 cm"):
        hm.tl.pam50(mdata, tumor_size="size_cm")
    with pytest.raises(KeyError, match="tumor_size column 'nope'"):
        hm.tl.pam50(mdata, tumor_size="nope")
    with pytest.raises(TypeError, match="MuData or AnnData"):
        hm.tl.pam50(expr)
    unrelated = _store(pd.DataFrame(np.ones((3, 4)), index=["A", "B", "C"], columns=list("wxyz")))
    with pytest.raises(GeneMappingError, match="only 0 of the 50"):
        hm.tl.pam50(unrelated)


@pytest.fixture(scope="module")
def synthetic_gdc(tmp_path_factory):
    """A small synthetic cohort in the GDC layout (STAR counts, versioned Ensembl IDs) read back into a store."""
    root = tmp_path_factory.mktemp("synthetic_pam50")
    cohort = hm.datasets.write_synthetic_cohort(
        root / "cohort", n_patients=80, seed=11, layouts=("gdc",), omics=("rna",)
    )
    mdata = hm.io.read_gdc(cohort.gdc)
    samples = pd.read_csv(cohort.truth / "samples.tsv", sep="\t", index_col="sample")
    factors = pd.read_csv(cohort.truth / "factors.tsv", sep="\t").set_index("sample").drop(columns="patient")
    return mdata, samples, factors


def test_synthetic_cohort_calls_match_planted_subtypes(synthetic_gdc):
    mdata, samples, factors = synthetic_gdc
    mdata = mdata.copy()
    hm.tl.pam50(mdata)
    assert mdata.uns["pam50"]["log_transformed"] is True  # STAR counts
    assert mdata.uns["pam50"]["features_used"][0].startswith("ENSG")
    planted = samples["subtype"].reindex(mdata.obs_names)
    assert planted.notna().all()
    assert (mdata.obs["pam50"].astype(str) == planted).mean() >= 0.9

    # the planted subtype factor is the one most associated with the calls
    order = list(factors.columns[::-1])  # not first by position
    mdata.obsm["mofa"] = factors.reindex(mdata.obs_names)[order].to_numpy()
    mdata.uns["mofa"] = {"factor_names": order}
    table = hm.tl.associate(mdata, covariates=("pam50",))
    assert table["factor"].iloc[0] == "Z1_subtype"
