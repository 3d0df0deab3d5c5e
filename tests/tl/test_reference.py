"""Our calls against published ones, on the real 121-patient TCGA-BRCA cohort (../shared/data/tcga_brca_121).

The expected numbers are the cohort README's and issue 15's measurements: PAM50 agrees with the Xena labels on
99/99 and with the TCGA-2012 labels on 63/67 (the 4 disagreements are TCGA-2012 Luminal B ×3 and Basal-like ×1,
all called LumA); our ESTIMATE purity tracks the published ESTIMATE purity (Aran et al. 2015) with Spearman 0.99
and a mean |difference| of 0.010; ER is Positive in 68 and Negative in 53 patients, HER2 Positive in 39.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import MissingResultError

PUBLISHED = [
    "er_status",
    "her2_status",
    "pam50_xena",
    "pam50_tcga2012",
    "purity_estimate",
    "purity_absolute",
    "purity_cpe",
]


def build_real_store(data_dir, *, calls: bool = True):
    """A MuData of the tcga_brca_121 files read with pandas: rna (log2 CPM, raw counts in layers), cnv (ESR1/ERBB2
    and neighbours from the hg19 segments), the published clinical columns and, with ``calls``, our PAM50 calls and
    ESTIMATE scores. Samples are the 121 patient barcodes."""
    import anndata as ad
    import mudata as md

    from harmonomics._annotation import gene_coordinates

    folder = data_dir / "tcga_brca_121"
    counts = pd.read_csv(folder / "rna_counts.tsv.gz", sep="\t", index_col=0)
    counts.columns = [c.replace(".", "-") for c in counts.columns]
    clinical = pd.read_csv(folder / "clinical.tsv", sep="\t", index_col="patient")
    x = counts.T.to_numpy(dtype=float)
    rna = ad.AnnData(
        np.log2(x / x.sum(axis=1, keepdims=True) * 1e6 + 1),
        obs=pd.DataFrame(index=counts.columns),
        var=pd.DataFrame(index=counts.index),
    )
    rna.layers["counts"] = x
    segments = pd.read_csv(folder / "cnv_segments.tsv.gz", sep="\t")
    segments = segments[segments["Chromosome"].astype(str).isin(["6", "17"])]
    genes = gene_coordinates("GRCh37", id_type="symbol").loc[["ESR1", "ERBB2", "GRB7", "TP53"]]
    cnv = hm.pp.segments_to_genes(segments, genes)
    cnv.obs_names = [s[:12] for s in cnv.obs_names]
    cnv.var["gene_name"] = (
        pd.Series(genes.index, index=genes["gene_id"]).reindex(cnv.var_names).to_numpy()
    )  # Ensembl IDs as var names
    mdata = md.MuData({"rna": rna, "cnv": cnv})
    for column in PUBLISHED:
        mdata.obs[column] = clinical[column].reindex(mdata.obs_names).to_numpy()
    alive = clinical["vital_status"].reindex(mdata.obs_names)
    mdata.obs["os_event"] = (alive == "dead").astype(float).to_numpy()
    mdata.obs["os_time"] = (
        clinical["days_to_death"].fillna(clinical["days_to_last_followup"]).reindex(mdata.obs_names).to_numpy()
    )
    if calls:
        hm.tl.pam50(mdata)
        hm.tl.immune_scores(mdata, methods=["estimate"], layer="counts")
    return mdata


@pytest.fixture(scope="module")
def real(shared_data):
    return build_real_store(shared_data)


def test_pam50_against_both_published_labels(real):
    stats = hm.tl.compare_labels(real).set_index("reference")
    assert list(stats.index) == ["pam50_xena", "pam50_tcga2012"]
    assert stats.loc["pam50_xena", ["n_compared", "n_agree"]].tolist() == [99, 99]
    assert stats.loc["pam50_xena", "agreement"] == 1.0 and stats.loc["pam50_xena", "kappa"] == pytest.approx(1.0)
    assert stats.loc["pam50_tcga2012", ["n_compared", "n_agree"]].tolist() == [67, 63]
    assert 0.85 < stats.loc["pam50_tcga2012", "kappa"] < stats.loc["pam50_tcga2012", "agreement"]
    confusion = hm.tl.label_confusion(real, "pam50_tcga2012").set_index(["ours", "reference"])["n"]
    off = confusion[[o != r for o, r in confusion.index]]
    assert off[off > 0].to_dict() == {("LumA", "LumB"): 3, ("LumA", "Basal"): 1}
    assert confusion.sum() == 67
    published = hm.tl._reference.normalize_pam50(real.obs["pam50_tcga2012"]).value_counts().to_dict()
    assert published == {"LumA": 23, "Basal": 21, "Her2": 11, "LumB": 10, "Normal": 2}  # the README's counts


def test_estimate_purity_against_published(real):
    stats = hm.tl.compare_purity(real).set_index("reference")
    assert stats["n"].to_dict() == {"purity_estimate": 121, "purity_absolute": 100, "purity_cpe": 121}
    est = stats.loc["purity_estimate"]
    assert est["spearman_rho"] > 0.99 and est["pearson_r"] > 0.99
    assert est["mean_abs_diff"] == pytest.approx(0.010, abs=0.001)
    assert stats.loc["purity_absolute", "spearman_rho"] > 0.5 and stats.loc["purity_cpe", "spearman_rho"] > 0.7
    for test in ("spearman", "pearson"):  # BH across the three references, by hand: min over k >= i of p_(k)·m/k
        p = stats[f"{test}_pvalue"].to_numpy()
        order = np.argsort(p)
        scaled = p[order] * len(p) / np.arange(1, len(p) + 1)
        expected = np.empty_like(p)
        expected[order] = np.minimum.accumulate(scaled[::-1])[::-1].clip(max=1)
        np.testing.assert_allclose(stats[f"{test}_fdr"].to_numpy(), expected, rtol=1e-12)
    pairs = hm.tl.purity_values(real)
    one = pairs[(pairs["reference"] == "purity_estimate") & (pairs["sample"] == "TCGA-A1-A0SD")]
    assert one["published"].item() == 0.7644  # the raw file value


def test_receptor_status_against_markers(real):
    from scipy.stats import false_discovery_control

    stats = hm.tl.compare_status(real)
    assert list(zip(stats["status_column"], stats["mod"], stats["feature"], strict=True)) == [
        ("er_status", "rna", "ESR1"),
        ("her2_status", "rna", "ERBB2"),
        ("her2_status", "cnv", "ERBB2"),
    ]
    by = stats.set_index(["status_column", "mod"])
    assert by.loc[("er_status", "rna"), ["n_positive", "n_negative"]].tolist() == [68, 53]
    assert by.loc[("her2_status", "rna"), ["n_positive", "n_negative"]].tolist() == [39, 82]
    assert by.loc[("her2_status", "cnv"), "n_positive"] + by.loc[("her2_status", "cnv"), "n_negative"] == 119
    assert (stats["auc"] > 0.75).all() and (stats["fdr"] < 1e-4).all()
    assert stats["fdr"].to_numpy() == pytest.approx(false_discovery_control(stats["pvalue"], method="bh"))
    values = hm.tl.status_values(real)
    assert set(values["status"]) == {"Positive", "Negative"}


def test_compare_without_published_columns_or_calls(real):
    bare = real.copy()
    for column in PUBLISHED:
        del bare.obs[column]
    assert hm.tl.compare_labels(bare).empty and hm.tl.compare_purity(bare).empty and hm.tl.compare_status(bare).empty
    no_calls = real.copy()
    del no_calls.obs["pam50"], no_calls.obsm["immune"]
    with pytest.raises(MissingResultError, match="hm.tl.pam50"):
        hm.tl.compare_labels(no_calls)
    with pytest.raises(MissingResultError, match="immune_scores"):
        hm.tl.compare_purity(no_calls)
    with pytest.raises(KeyError, match="not in obs"):
        hm.tl.compare_labels(real, references=["pam50_nope"])


def test_normalize_pam50_vocabulary():
    from harmonomics.tl._reference import normalize_pam50

    raw = pd.Series(["BRCA.Luminal A", "BRCA.HER2-enriched", "Not_Applicable", None, "Basal-like", "LumB", "odd"])
    out = normalize_pam50(raw)
    assert out.iloc[0] == "LumA" and out.iloc[1] == "Her2" and out.iloc[4] == "Basal" and out.iloc[5] == "LumB"
    assert out.iloc[2:4].isna().all() and out.iloc[6] == "odd"


def test_reference_plots(real):
    import matplotlib.pyplot as plt

    fig = hm.pl.label_confusion(real, "pam50_tcga2012")
    assert fig.axes[0].get_title(loc="left") == "63/67 agree, κ " + f"{hm.tl.compare_labels(real).iloc[1]['kappa']:.2f}"
    fig2 = hm.pl.purity_comparison(real)
    assert len(fig2.axes) == 3 and fig2.axes[0].get_title(loc="left").startswith("ESTIMATE: n 121, Spearman ρ 0.99")
    fig3 = hm.pl.status_markers(real)
    assert len(fig3.axes) == 3 and "AUC" in fig3.axes[0].get_title(loc="left")
    plt.close("all")
