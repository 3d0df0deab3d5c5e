"""Benchmark of the precision-medicine layer on the real 121-patient TCGA-BRCA cohort: mutations and TMB
(receptor status: bench_precision.py).

Run ``python benchmarks/bench_mutations.py``; writes ``benchmarks/results/mutations.json`` and ``.md``.

``mutation_frequencies()``: PIK3CA and TP53 mutation frequencies (protein-altering variants of ``mod["mut"]``) by
PAM50 subtype (the published TCGA 2012 calls, ``obs["pam50_tcga2012"]``, else ``pam50_xena``) and PIK3CA by clinical
group (``er_status`` / ``her2_status``), with exact (Clopper-Pearson) binomial 95% confidence intervals since the
groups are small, next to published frequencies; and the cohort's TMB (``hm.tl.tmb``) by subtype.

Published frequencies (mutation, by PAM50 subtype): The Cancer Genome Atlas Network, "Comprehensive molecular
portraits of human breast tumours", Nature 490:61-70 (2012), Figure 6 — PIK3CA 49% LumA, 32% LumB, 42% HER2E,
7% Basal-like; TP53 12% LumA, 32% LumB, 75% HER2E, 84% Basal-like. (The paper's text gives PIK3CA 45% in LumA
and TP53 80% in basal-like on the sequenced subset.) PIK3CA in HR+/HER2- disease: about 40% (André et al., SOLAR-1,
N Engl J Med 380:1929, 2019).

``speed()``: the frequency table computed through harmonomics (``hm.io.read_maf`` of the raw MAF, then
``mutation_frequencies``) against a baseline in the same process (``pandas.read_csv`` of the same file, a
``pandas.crosstab`` of sample × gene over the protein-altering rows, the same groups and exact CIs); median of 3
alternating runs after one untimed warm-up of each, ratio, peak resident memory (``_measure.py``), and a check that
both give the same table.
"""

from __future__ import annotations

import json
import logging
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
REPEATS = 3
LABEL_COLUMNS = ["pam50_tcga2012", "pam50_xena", "er_status", "her2_status"]

sys.path.insert(0, str(HERE))  # the shared helpers, also when this file is imported from elsewhere
from _facts import PROTEIN_ALTERING
from _measure import compare

TCGA_2012 = "TCGA Network, Nature 490:61 (2012), Fig. 6"
PUBLISHED = {
    ("PIK3CA", "LumA"): (0.49, TCGA_2012),
    ("PIK3CA", "LumB"): (0.32, TCGA_2012),
    ("PIK3CA", "Her2"): (0.42, TCGA_2012),
    ("PIK3CA", "Basal"): (0.07, TCGA_2012),
    ("TP53", "LumA"): (0.12, TCGA_2012),
    ("TP53", "LumB"): (0.32, TCGA_2012),
    ("TP53", "Her2"): (0.75, TCGA_2012),
    ("TP53", "Basal"): (0.84, TCGA_2012),
    ("PIK3CA", "HR+/HER2-"): (0.40, "André et al., N Engl J Med 380:1929 (2019), SOLAR-1: ~40%"),
}


def clinical_group(obs: pd.DataFrame) -> pd.Series:
    """HR+/HER2- (ER+, HER2-), HER2+ (any ER), ER-/HER2- ("TNBC": the cohort has no PR column) from clinical obs."""
    er, her2 = obs["er_status"].astype(str), obs["her2_status"].astype(str)
    group = pd.Series(np.nan, index=obs.index, dtype=object)
    group[(er == "Positive") & (her2 == "Negative")] = "HR+/HER2-"
    group[her2 == "Positive"] = "HER2+"
    group[(er == "Negative") & (her2 == "Negative")] = "TNBC (ER-/HER2-)"
    return group


def _frequency_rows(mutated: pd.Series, groups: pd.Series, gene: str, grouping: str) -> list[dict]:
    from scipy.stats import binomtest

    rows = []
    for group in sorted(groups.dropna().unique()):
        members = groups.index[groups == group]
        n, k = len(members), int(mutated.reindex(members).sum())
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        published, source = PUBLISHED.get((gene, group), (np.nan, ""))
        rows.append(
            {
                "gene": gene,
                "grouping": grouping,
                "group": group,
                "n": n,
                "mutated": k,
                "frequency": k / n,
                "ci_low": ci.low,
                "ci_high": ci.high,
                "published": published,
                "published_in_ci": bool(ci.low <= published <= ci.high) if np.isfinite(published) else None,
                "source": source,
            }
        )
    return rows


def mutation_frequencies(mdata=None) -> pd.DataFrame:
    """PIK3CA and TP53 mutation frequencies by PAM50 subtype and PIK3CA by clinical group, with 95% CIs.

    Samples: those of ``mod["mut"]`` (sequenced) with the grouping known. A sample is mutated when it has a
    protein-altering variant of the gene (``mod["mut"]`` = 1).
    """
    import harmonomics as hm

    mdata = hm.datasets.tcga_brca_121() if mdata is None else mdata
    mut = mdata.mod["mut"]
    sequenced = mdata.obs.loc[mut.obs_names]
    pam50 = sequenced["pam50_tcga2012"].astype(object)
    pam50 = pam50.where(pam50.notna(), sequenced["pam50_xena"].astype(object))
    pam50 = pam50[pam50.isin(["LumA", "LumB", "Her2", "Basal"])]
    rows = []
    for gene in ("PIK3CA", "TP53"):
        values = np.asarray(mut[:, gene].X.todense() if hasattr(mut.X, "todense") else mut[:, gene].X).ravel()
        mutated = pd.Series(values > 0, index=mut.obs_names)
        rows += _frequency_rows(mutated, pam50, gene, "PAM50 (TCGA 2012, else Xena)")
        if gene == "PIK3CA":
            rows += _frequency_rows(mutated, clinical_group(sequenced), gene, "clinical group (ER/HER2)")
    return pd.DataFrame(rows)


def tmb_by_subtype(mdata) -> pd.DataFrame:
    """Median and range of ``hm.tl.tmb`` (38 Mb exome) by PAM50 subtype, and the hypermutated count."""
    import harmonomics as hm

    hm.tl.tmb(mdata)
    obs = mdata.obs[mdata.obs["tmb"].notna()]
    pam50 = obs["pam50_tcga2012"].astype(object).where(obs["pam50_tcga2012"].notna(), obs["pam50_xena"])
    pam50 = pam50.astype(object).where(pam50.notna(), "no PAM50 call").astype(str)
    table = obs.assign(pam50=pam50).groupby("pam50")["tmb"]
    out = table.agg(["count", "median", "min", "max"]).reset_index()
    flags = obs["hypermutated"].astype(bool)
    out["hypermutated"] = flags.groupby(pam50).sum().reindex(out["pam50"]).to_numpy()
    return out


INTRO = (
    "`bench_mutations.py` `mutation_frequencies()` (and `main`: `results/mutations.json`/`.md`): on the real "
    "121-patient TCGA-BRCA cohort (`hm.datasets.tcga_brca_121()`, 110 samples with a MAF; WUSTL calls), the share of "
    "tumours with a protein-altering PIK3CA or TP53 variant by published PAM50 subtype (`pam50_tcga2012`, else "
    '`pam50_xena`) and PIK3CA by clinical group (`er_status`/`her2_status`; the cohort has no PR column, so "TNBC" is '
    'ER−/HER2−), with exact binomial 95% CIs, next to published frequencies: TCGA Network, "Comprehensive molecular '
    'portraits of human breast tumours", *Nature* 490:61 (2012), Figure 6 (the text gives PIK3CA 45% in LumA and TP53 '
    "80% in basal-like on the sequenced subset); PIK3CA in HR+/HER2− ~40% (André et al., SOLAR-1, *N Engl J Med* "
    "380:1929, 2019). TMB: `hm.tl.tmb` (non-synonymous coding variants per 38 Mb; hypermutated ≥ 10 mut/Mb)."
)


def tmb_summary(mdata) -> dict:
    """Cohort-wide TMB figures for the text (after ``hm.tl.tmb``): median, hypermutated count, the highest tumour."""
    obs = mdata.obs[mdata.obs["tmb"].notna()]
    top = obs["tmb"].idxmax()
    return {
        "n": int(len(obs)),
        "median": float(obs["tmb"].median()),
        "hypermutated": int(obs["hypermutated"].astype(bool).sum()),
        "highest_sample": str(top),
        "highest_tmb": float(obs.loc[top, "tmb"]),
        "highest_mutations": int(obs.loc[top, "tmb_mutations"]),
    }


def _findings(frequencies: pd.DataFrame, tmb: pd.DataFrame, summary: dict) -> str:
    compared = frequencies[frequencies["published_in_ci"].notna()]
    outside = compared[~compared["published_in_ci"].astype(bool)]
    text = f"{int(compared['published_in_ci'].astype(bool).sum())} of the {len(compared)} published frequencies lie "
    text += "inside our 95% CI."
    if len(outside):
        text += " Outside: " + "; ".join(
            f"{r.gene} in {r.group} ({r.mutated}/{r.n} = {r.frequency:.0%}, CI {r.ci_low:.0%}–{r.ci_high:.0%}, "
            f"published {r.published:.0%})"
            for r in outside.itertuples()
        )
        text += (
            ": small groups, and the WUSTL calls of 2016 are not the consensus calls of the 2012 paper; reported, "
            "not tuned."
        )
    basal = frequencies[(frequencies["gene"] == "PIK3CA") & (frequencies["group"] == "Basal")]
    if len(basal):
        b = basal.iloc[0]
        text += (
            f" PIK3CA in basal-like tumours: {b['mutated']}/{b['n']} (CI {b['ci_low']:.0%}–{b['ci_high']:.0%}; "
            f"published {b['published']:.0%})."
        )
    medians = tmb.set_index("pam50")["median"]
    text += (
        f" The cohort's median TMB is {summary['median']:.1f} mut/Mb (LumA {medians.get('LumA', np.nan):.2f}, "
        f"basal-like {medians.get('Basal', np.nan):.2f}), the low TMB of breast cancer; {summary['hypermutated']} of "
        f"{summary['n']} tumours are hypermutated (≥ 10 mut/Mb), the highest {summary['highest_sample']} "
        f"({summary['highest_mutations']:,} distinct coding variants, {summary['highest_tmb']:.0f} mut/Mb)."
    )
    return text


def _markdown(frequencies: pd.DataFrame, tmb: pd.DataFrame, summary: dict) -> str:
    lines = [
        INTRO,
        "",
        "| gene | grouping | group | n | mutated | frequency (95% CI) | published | in CI |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in frequencies.itertuples():
        published = f"{r.published:.0%}" if np.isfinite(r.published) else "—"
        in_ci = {True: "yes", False: "no", None: "—"}[r.published_in_ci]
        lines.append(
            f"| {r.gene} | {r.grouping} | {r.group} | {r.n} | {r.mutated} | {r.frequency:.0%} "
            f"({r.ci_low:.0%}–{r.ci_high:.0%}) | {published} | {in_ci} |"
        )
    lines += ["", "| PAM50 | n | median TMB (mut/Mb) | range | hypermutated (≥ 10) |", "|---|---|---|---|---|"]
    for r in tmb.itertuples():
        lines.append(f"| {r.pam50} | {r.count} | {r.median:.2f} | {r.min:.2f}–{r.max:.2f} | {int(r.hypermutated)} |")
    lines += ["", _findings(frequencies, tmb, summary)]
    return "\n".join(lines) + "\n"


def _pam50_groups(obs: pd.DataFrame) -> pd.Series:
    pam50 = obs["pam50_tcga2012"].astype(object)
    pam50 = pam50.where(pam50.notna(), obs["pam50_xena"].astype(object))
    return pam50[pam50.isin(["LumA", "LumB", "Her2", "Basal"])]


def baseline_frequencies(path, labels: pd.DataFrame) -> pd.DataFrame:
    """The frequency table with pandas alone: read the MAF, crosstab sample × gene, group, exact binomial CIs."""
    maf = pd.read_csv(path, sep="\t", comment="#", low_memory=False)
    sample = maf["Tumor_Sample_Barcode"].str[:15]  # TCGA-XX-XXXX-01: the sample of the aliquot
    coding = maf["Variant_Classification"].isin(PROTEIN_ALTERING)
    table = pd.crosstab(sample[coding], maf.loc[coding, "Hugo_Symbol"]).reindex(sample.unique(), fill_value=0)
    obs = labels.reindex(table.index)
    pam50 = _pam50_groups(obs)
    rows = []
    for gene in ("PIK3CA", "TP53"):
        mutated = table[gene] > 0
        rows += _frequency_rows(mutated, pam50, gene, "PAM50 (TCGA 2012, else Xena)")
        if gene == "PIK3CA":
            rows += _frequency_rows(mutated, clinical_group(obs), gene, "clinical group (ER/HER2)")
    return pd.DataFrame(rows)


def harmonomics_frequencies(path, labels: pd.DataFrame) -> pd.DataFrame:
    """The frequency table through harmonomics: ``hm.io.read_maf`` of the raw MAF, then mutation_frequencies."""
    import harmonomics as hm
    from harmonomics._compat import mudata_options

    with mudata_options():
        store = hm.io.read_maf(path)
    for column in LABEL_COLUMNS:
        store.obs[column] = labels[column].reindex(store.obs_names.astype(str)).to_numpy()
    return mutation_frequencies(store)


def speed(mdata) -> dict:
    """Frequencies through harmonomics vs a pandas crosstab of the raw MAF, same process, same table."""
    from harmonomics import data
    from harmonomics._mutations import PROTEIN_ALTERING as PACKAGE_PROTEIN_ALTERING

    if PROTEIN_ALTERING != PACKAGE_PROTEIN_ALTERING:
        raise RuntimeError("the baseline's protein-altering classes differ from the package's: update them")
    path = data.path("tcga_brca_121", "mutations.maf.gz")
    labels = mdata.obs[LABEL_COLUMNS].set_axis(mdata.obs_names.astype(str))
    # one untimed run of each: imports made on first use are neither side's cost
    harmonomics_frequencies(path, labels)
    baseline_frequencies(path, labels)
    summary, ours, base = compare(
        lambda: harmonomics_frequencies(path, labels), lambda: baseline_frequencies(path, labels), repeats=REPEATS
    )
    key = ["gene", "grouping", "group", "n", "mutated", "ci_low", "ci_high"]
    return {
        **summary,
        "maf": f"harmonomics/data/tcga_brca_121/{path.name}",
        "n_rows": int(len(ours)),
        "tables_equal": bool(ours[key].reset_index(drop=True).equals(base[key].reset_index(drop=True))),
    }


def _speed_markdown(s: dict) -> str:
    lines = [
        "",
        "## Speed against a baseline in the same process",
        "",
        f"The frequency table above from the raw MAF (`{s['maf']}`): median of {s['repeats']} runs, ours and the "
        f"baseline alternating, after one untimed warm-up of each, BLAS/OpenMP pools capped at {s['threads']} "
        "thread(s) for both; ratio = ours / baseline (above 1: ours slower); "
        "peak = resident memory above the start of the call (psutil, sampled every 5 ms; the largest of the runs; "
        "a lower bound: memory that earlier steps freed is reused without growing it).",
        "",
        "| run | time (s) | ratio | ratio, fastest runs | peak (MiB) |",
        "|---|---|---|---|---|",
        f"| baseline: `pandas.read_csv` + `pandas.crosstab` (protein-altering rows) + groups + exact CIs | "
        f"{s['baseline']['seconds']:.3f} | 1.00 | 1.00 | {s['baseline']['peak_mib']:.0f} |",
        f"| harmonomics: `hm.io.read_maf` + `mutation_frequencies` | {s['ours']['seconds']:.3f} | "
        f"{s['ratio']:.2f} | {s['ratio_fastest']:.2f} | {s['ours']['peak_mib']:.0f} |",
        "",
        f"Same table ({s['n_rows']} rows: n, mutated, CI): {'yes' if s['tables_equal'] else '**no**'}. "
        '`read_maf` keeps only the key MAF columns (its default `columns="key"`; the baseline parses all of '
        "them), and also validates the file, hashes it, chooses one aliquot per sample, keeps primary tumours and "
        "builds the samples × genes matrix of every gene and the harmonization report; the baseline takes the "
        "first 15 characters of the barcode as the sample.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    import harmonomics as hm

    logging.basicConfig(level=logging.WARNING)
    mdata = hm.datasets.tcga_brca_121()
    frequencies = mutation_frequencies(mdata)
    tmb = tmb_by_subtype(mdata)
    summary = tmb_summary(mdata)
    speed_record = speed(mdata)
    RESULTS.mkdir(exist_ok=True)
    record = {
        "python": platform.python_version(),
        "harmonomics": hm.__version__,
        "mutation_frequencies": frequencies.replace({np.nan: None}).to_dict("records"),
        "tmb_by_subtype": tmb.to_dict("records"),
        "tmb_summary": summary,
        "speed": speed_record,
    }
    (RESULTS / "mutations.json").write_text(json.dumps(record, indent=1, default=float))
    text = _markdown(frequencies, tmb, summary) + _speed_markdown(speed_record)
    (RESULTS / "mutations.md").write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
