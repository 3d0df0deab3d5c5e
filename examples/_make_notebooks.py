"""Write the example notebooks owned by this script (run from the repository root; outputs are not committed).

    python examples/_make_notebooks.py
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def notebook(cells):
    nb = new_notebook(cells=[new_markdown_cell(c[3:]) if c.startswith("md:") else new_code_cell(c.strip()) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


QUICKSTART = [
    """md:# harmonomics quick start: the bundled real TCGA-BRCA cohort

Load the real 121-patient cohort that ships with harmonomics (RNA-seq counts, RPPA, copy number, mutations, and the
published clinical data), call PAM50 subtypes and compare them with the published calls, score immune infiltration
and check purity against the published values, fit cross-omic factors, see what they mean, and export the results.""",
    """
import tempfile
from pathlib import Path

import pandas as pd

import harmonomics as hm

hm.settings.verbosity = 1  # no progress bars in the rendered notebook
out = Path(tempfile.mkdtemp(prefix="harmonomics-quickstart-"))
""",
    """md:## Load
`tcga_brca_121()` returns a MuData store: one AnnData per omic. Samples without an omic are absent from it, not
filled with NaN (100 of the 121 have RPPA). RNA holds log2(CPM + 1) in `X` and the raw counts in `layers["counts"]`.""",
    """
mdata = hm.datasets.tcga_brca_121()
mdata
""",
    """
mdata.obs[["pam50_xena", "pam50_tcga2012", "er_status", "her2_status", "os_time", "os_event", "purity_estimate"]].head()
""",
    """md:## PAM50 subtypes, against the published calls
Our calls go to `obs["pam50"]`, with a confidence, the proliferation score and the risk of recurrence (ROR-S, ROR-P).""",
    """
hm.tl.pam50(mdata)
pd.crosstab(mdata.obs["pam50"], mdata.obs["pam50_xena"])
""",
    """
both = mdata.obs.dropna(subset=["pam50_tcga2012"])
print(f"agreement with TCGA 2012: {(both['pam50'].astype(str) == both['pam50_tcga2012'].astype(str)).sum()} of {len(both)}")
mdata.obs[["pam50", "pam50_confidence", "pam50_ror_s", "pam50_ror_s_group"]].head()
""",
    """md:## Immune infiltration and purity
ESTIMATE, cytolytic activity, TIS, MCP-counter, Danaher cell types and PD-L1 (CD274), from the raw counts. ESTIMATE
purity is compared with the published ESTIMATE purity of the same tumours.""",
    """
hm.tl.immune_scores(mdata, layer="counts")
immune = mdata.obsm["immune"]
print("Spearman vs published ESTIMATE purity:", round(immune["estimate_purity"].corr(mdata.obs["purity_estimate"], method="spearman"), 3))
immune[["estimate_immune", "estimate_purity", "cyt", "tis", "pdl1"]].describe().round(2)
""",
    """md:## Fit cross-omic factors
MOFA+ (fast engine) over RNA, copy number, mutations and protein, on the 2,000 most variable features per omic.""",
    """
hm.pp.select_features(mdata, n_top=2000, subset=True)
hm.tl.mofa(mdata, n_factors=8, convergence="fast", seed=0)
hm.tl.immune_status(mdata)  # hot / intermediate / cold, and the most immune-related factor
hm.get.variance_explained(mdata).head(8)
""",
    """
hm.pl.variance_explained(mdata)
""",
    """md:## What the factors mean
`associate` tests every factor against our PAM50 calls, the published labels, ER/HER2 status and the immune class
(Kruskal–Wallis per factor, one-vs-rest AUCs, BH FDR).""",
    """
assoc = hm.tl.associate(mdata, covariates=("pam50", "pam50_xena", "er_status", "her2_status", "immune_class"))
best = assoc[assoc["level"] == "Basal"].sort_values("auc", key=lambda a: (a - 0.5).abs(), ascending=False).head(3)
best[["factor", "covariate", "level", "auc", "pvalue", "fdr"]]
""",
    """
top = best["factor"].iloc[0]
hm.pl.factor_scatter(mdata, x=top, y=[f for f in mdata.uns["mofa"]["factor_names"] if f != top][0], color="pam50")
""",
    """md:## Survival and export
13 of the 121 patients died during follow-up: a Cox model per factor, with its FDR.""",
    """
hm.tl.survival(mdata)[["factor", "hr", "hr_lower", "hr_upper", "pvalue", "fdr", "concordance"]]
""",
    """
written = hm.export.export_all(mdata, out / "exports", formats=("csv", "gmt", "hdf5"))
sorted(written)
""",
]

GDC_TO_REPORT = [
    """md:# From a GDC download folder to a report

A synthetic cohort written in the exact GDC layout (sample sheet, metadata JSON, STAR counts, masked MAFs, copy
number, methylation, RPPA, miRNA, clinical.tsv) with the mess of real downloads, read with `hm.io.read_gdc`, then
analysed and reported.""",
    """
import tempfile
from pathlib import Path

import pandas as pd

import harmonomics as hm

hm.settings.verbosity = 1
work = Path(tempfile.mkdtemp(prefix="harmonomics-gdc-"))
cohort = hm.datasets.write_synthetic_cohort(work / "cohort", n_patients=60, seed=2, layouts=("gdc",))
sorted(p.name for p in cohort.gdc.iterdir())[:8]
""",
    """md:## Read the folder
Every file, aliquot and sample appears in the harmonization report, kept or dropped, with the reason.""",
    """
mdata = hm.io.read_gdc(cohort.gdc)
mdata
""",
    """
report = mdata.uns["harmonomics_report"]
report[report["action"] != "kept"].groupby(["level", "action"]).size()
""",
    """
report[report["action"] == "dropped"].head(10)
""",
    """md:## Factors, subtypes, immune status""",
    """
hm.tl.pam50(mdata)                    # gene-level scores first, on every gene
hm.tl.immune_scores(mdata)
hm.pp.select_features(mdata, n_top=500, subset=True)   # then the most variable features for the factor model
hm.tl.mofa(mdata, n_factors=5, convergence="fast", seed=0)
hm.tl.immune_status(mdata)
mdata.obs[["pam50", "immune_class"]].value_counts().head(10)
""",
    """
truth = pd.read_csv(cohort.truth / "patients.tsv", sep="\\t", index_col="patient")
called = mdata.obs.dropna(subset=["pam50"])
agreement = (called["pam50"].astype(str).to_numpy() == truth.loc[called["patient"], "subtype"].to_numpy()).mean()
f"PAM50 calls agree with the planted subtype for {agreement:.0%} of samples"
""",
    """md:## The report
One self-contained HTML file: figures embedded, no network needed.""",
    """
hm.tl.associate(mdata, covariates=("pam50", "immune_class"))
path = hm.report(mdata, work / "report.html", title="Synthetic GDC cohort")
path.stat().st_size > 10_000
""",
]

PROJECTION = [
    """md:# Projecting a new cohort onto trained factors

Train factors on the 150 training samples of the bundled cohort (mRNA, miRNA, protein), then score the 70 test
samples, which have no protein, on those factors and label their subtype with a classifier trained on the factors.
This is the mixOmics DIABLO case study's split (published test balanced error rate 0.0254).""",
    """
import harmonomics as hm

hm.settings.verbosity = 1
mdata = hm.datasets.tcga_brca_mini()
train = mdata[mdata.obs["split"] == "train"].copy()
test = mdata[mdata.obs["split"] == "test"].copy()
{"train": train.n_obs, "test": test.n_obs, "test omics": [m for m, a in test.mod.items() if a.n_obs]}
""",
    """
hm.tl.mofa(train, n_factors=10, seed=0)
hm.tl.project(test, train)
test.obsm["mofa"].shape
""",
    """md:Projection uses the trained weights, noise precisions and the training centring/scaling; the posterior mean of
the factors is computed from the views each new sample has. Projecting the training samples themselves gives back
their fitted scores:""",
    """
import numpy as np

again = train.copy()
hm.tl.project(again, train, key_added="mofa_projected")
[round(float(np.corrcoef(train.obsm["mofa"][:, k], again.obsm["mofa_projected"][:, k])[0, 1]), 3) for k in range(3)]
""",
    """md:## Label the new cohort
The classifier is trained on training scores projected from the views the test samples have (mRNA and miRNA), so
that fitted and projected scores are on the same footing.""",
    """
hm.tl.subtype_classifier(train, label="pam50", project_views=("rna", "mirna"))
hm.tl.predict_subtype(test, train)
hm.tl.balanced_error(test.obs["pam50"].astype(str), test.obs["subtype_pred"].astype(str))
""",
    """md:## DIABLO on the same split
MOFA+ is unsupervised: it finds the main axes of variation, and a classifier then learns the subtypes from them.
DIABLO (multiblock sparse PLS-DA, Singh et al. 2019) is supervised: per omic it selects a few features whose
combination separates the subtypes and agrees across omics. Fit it on the same training samples (20 mRNA, 10 miRNA
and 10 protein features per component) and predict the test samples from the omics they have.""",
    """
keep = {"rna": [20, 20], "mirna": [10, 10], "prot": [10, 10]}
hm.tl.diablo(train, label="pam50", n_components=2, keep=keep, seed=0)
hm.tl.diablo_selected(train).groupby(["block", "component"]).size()
""",
    """
hm.tl.predict_diablo(test, train)
truth = test.obs["pam50"].astype(str)
for name, column in (("MOFA+ factors + classifier", "subtype_pred"), ("DIABLO", "diablo_prediction")):
    print(f"{name:27s} balanced error {hm.tl.balanced_error(truth, test.obs[column].astype(str)):.4f}")
""",
    """md:The training samples on the first two DIABLO components of each omic and of their consensus, and the mRNA
features selected on component 1, each coloured by the subtype where its mean is highest.""",
    """
hm.pl.diablo_samples(train)
""",
    """
hm.pl.diablo_loadings(train, block="rna", component=1)
""",
    """md:The selected features and the exported gene sets (one per omic, component and sign) go to other tools with
`hm.export.diablo_table` and `hm.export.diablo_gmt`; `hm.report` shows a DIABLO section when the store holds a fit.""",
]


if __name__ == "__main__":
    for name, cells in {"quickstart": QUICKSTART, "gdc_to_report": GDC_TO_REPORT, "projection": PROJECTION}.items():
        nbformat.write(notebook(cells), HERE / f"{name}.ipynb")
        print(f"wrote examples/{name}.ipynb")
