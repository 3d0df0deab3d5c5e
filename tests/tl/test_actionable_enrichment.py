"""The enrichment test of hm.tl.actionable_by_group: a biomarker in one group against all other grouped samples.

Real data: PIK3CA therascreen hotspots (hm.tl.actionable) per published PAM50 call (``pam50_xena``). Carriers are
counted from the raw MAF lines and groups from the raw clinical.tsv, both read with pandas; the 2×2 table built
from them must give the counts, scipy's Fisher p and odds ratio. TCGA 2012 (Nature 490:61) found PIK3CA mutated
in 45% of luminal A and 9% of basal-like tumours, so the LumA row must be enriched and the Basal row depleted.
Synthetic tables check an exact p-value and the untestable cases.
"""

from __future__ import annotations

import math

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from scipy.stats.contingency import odds_ratio

import harmonomics as hm

#: The 11 PIK3CA mutations of the therascreen PIK3CA kit label (FDA PMA P190001), written out here.
THERASCREEN = {"C420R", "E542K", "E545A", "E545D", "E545G", "E545K", "Q546E", "Q546R", "H1047L", "H1047R", "H1047Y"}
ENRICHMENT = ["odds_ratio", "odds_ratio_low", "odds_ratio_high", "p", "fdr"]


@pytest.fixture(scope="module")
def cohort(brca121_base):
    mdata = brca121_base.copy()
    hm.tl.actionable(mdata)
    return mdata


def _raw_pik3ca_hotspot_patients(shared_data) -> set[str]:
    maf = pd.read_csv(shared_data / "tcga_brca_121" / "mutations.maf.gz", sep="\t", dtype=str, low_memory=False)
    change = maf["amino_acid_change_WU"].str.removeprefix("p.")
    hits = maf[(maf["Hugo_Symbol"] == "PIK3CA") & (maf["Variant_Classification"] == "Missense_Mutation")]
    hits = hits[change.loc[hits.index].isin(THERASCREEN)]
    return {barcode[:12] for barcode in hits["Tumor_Sample_Barcode"]}


def _bh_by_hand(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg step-up on the finite p-values: min over j >= i of p_(j) · m / j, capped at 1."""
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    order = finite[np.argsort(p[finite], kind="stable")]
    adjusted = np.minimum(1.0, p[order] * m / np.arange(1, m + 1))
    out[order] = np.minimum.accumulate(adjusted[::-1])[::-1]
    return out


def test_pik3ca_in_luma_against_the_raw_files(cohort, shared_data):
    carriers = _raw_pik3ca_hotspot_patients(shared_data)
    assert len(carriers) == 15
    clinical = pd.read_csv(shared_data / "tcga_brca_121" / "clinical.tsv", sep="\t", dtype=str)
    group = clinical.set_index("patient")["pam50_xena"].dropna()
    assert len(group) == 99  # 22 of the 121 patients have no published call
    # only patients with mutation data were assessed for a mutation: the others are unknown, not non-carriers
    maf = pd.read_csv(shared_data / "tcga_brca_121" / "mutations.maf.gz", sep="\t", dtype=str, usecols=[15])
    group = group[group.index.isin(set(maf.iloc[:, 0].str[:12]))]
    assert len(group) == 98
    carries = group.index.isin(carriers)

    table = hm.tl.actionable_by_group(cohort, groupby="pam50_xena")
    rows = table[table["biomarker"] == "PIK3CA_hotspot"].set_index("pam50_xena")
    for label in ("LumA", "Basal"):
        in_group = (group == label).to_numpy()
        a, b = int((carries & in_group).sum()), int((~carries & in_group).sum())
        c, d = int((carries & ~in_group).sum()), int((~carries & ~in_group).sum())
        row = rows.loc[label]
        assert (row["n_samples"], row["n_group"]) == (a, a + b)
        assert row["p"] == pytest.approx(fisher_exact([[a, b], [c, d]]).pvalue, rel=1e-12)
        assert row["odds_ratio"] == pytest.approx(odds_ratio([[a, b], [c, d]], kind="conditional").statistic)
        assert row["odds_ratio_low"] <= row["odds_ratio"] <= row["odds_ratio_high"]
    assert (rows.loc["LumA", "n_samples"], rows.loc["LumA", "n_group"]) == (10, 35)
    assert rows.loc["LumA", "odds_ratio_low"] > 1 and rows.loc["LumA", "fdr"] < 0.05  # enriched
    assert rows.loc["Basal", "n_samples"] == 0 and rows.loc["Basal", "odds_ratio_high"] < 1  # depleted
    # one BH family over every row of the table
    np.testing.assert_allclose(table["fdr"].to_numpy(), _bh_by_hand(table["p"].to_numpy()), rtol=1e-12)
    assert table.attrs["n_tests"] == len(table) and "Fisher exact" in table.attrs["test"]
    # the counts' columns stay first, in their order
    assert list(table.columns) == ["biomarker", "therapy_class", "pam50_xena", "n_samples", "n_group", "percent"] + (
        ENRICHMENT
    )


def _store(groups: list[str], carriers: dict[str, list[int]]) -> md.MuData:
    """A store of len(groups) samples with obs["grp"], and an actionable table: biomarker → carrier positions."""
    names = [f"S{i:02d}" for i in range(len(groups))]
    mdata = md.MuData({"rna": ad.AnnData(np.zeros((len(names), 1)), obs=pd.DataFrame(index=names))})
    mdata.obs["grp"] = pd.Categorical(groups)
    rows = [(names[i], biomarker, "drug") for biomarker, positions in carriers.items() for i in positions]
    mdata.uns["actionable"] = pd.DataFrame(rows, columns=["sample", "biomarker", "therapy_class"])
    return mdata


def test_all_carriers_in_one_group_has_the_exact_p():
    # 10/10 carriers in A, 0/10 in B: the two most extreme tables of the hypergeometric, each 1 / C(20, 10)
    mdata = _store(["A"] * 10 + ["B"] * 10, {"X": list(range(10)), "Y": list(range(20))})
    table = hm.tl.actionable_by_group(mdata, groupby="grp").set_index(["biomarker", "grp"])
    exact = 2 / math.comb(20, 10)
    assert table.loc[("X", "A"), "p"] == pytest.approx(exact, rel=1e-12)
    assert table.loc[("X", "B"), "p"] == pytest.approx(exact, rel=1e-12)
    assert np.isposinf(table.loc[("X", "A"), "odds_ratio"]) and table.loc[("X", "A"), "odds_ratio_low"] > 1
    assert table.loc[("X", "B"), "odds_ratio"] == 0 and table.loc[("X", "B"), "odds_ratio_high"] < 1
    # Y is carried by all 20 samples: no contrast, not tested, not counted in the BH family of 2
    assert table.loc["Y", ENRICHMENT].isna().all().all()
    assert table.loc["X", "fdr"].tolist() == pytest.approx([exact, exact])
    assert table.attrs["n_tests"] == 2


def test_a_single_group_is_not_tested():
    mdata = _store(["A"] * 8, {"X": [0, 1, 2]})
    table = hm.tl.actionable_by_group(mdata, groupby="grp")
    assert len(table) == 1 and table.loc[0, "n_samples"] == 3 and table.loc[0, "n_group"] == 8
    assert table[ENRICHMENT].isna().all().all()
    assert table.attrs["n_tests"] == 0


def test_empty_table_has_the_enrichment_columns():
    mdata = _store(["A"] * 4 + ["B"] * 4, {})
    table = hm.tl.actionable_by_group(mdata, groupby="grp")
    assert table.empty and list(table.columns[-5:]) == ENRICHMENT
