"""Benchmark of DIABLO (``hm.tl.diablo``): the published TCGA-BRCA split and a CV on the real cohort.

Run ``python benchmarks/bench_diablo.py [--quick]``; writes ``benchmarks/results/diablo.json`` and ``diablo.md``.

1. The mixOmics DIABLO case study split (``hm.datasets.tcga_brca_mini``): tune ``keep`` on the 150 training
   samples (mRNA, miRNA, protein; seeded repeated stratified 5-fold CV), fit, predict the 70 test samples (no
   protein), report the test balanced error rate (BER) beside the published DIABLO 0.0254 (mixOmics case study,
   mixomics.org mixDIABLO; Singh et al. 2019, Bioinformatics 35:3055) and beside the MOFA path of
   ``bench_pam50.py`` (MOFA factors + ``hm.tl.subtype_classifier`` trained on scores projected from mRNA + miRNA,
   ``hm.tl.predict_subtype`` on the projected test samples) run here, in the same process. Fit time and peak
   memory (tracemalloc) of each step.
2. The real cohort ``hm.datasets.tcga_brca_121``: 5-fold stratified CV balanced error for PAM50 (``pam50_xena``)
   from rna + prot + cnv (2,000 most variable genes of rna and cnv, all proteins; samples lacking prot or cnv
   kept), with keep fixed in advance (no tuning inside the folds, so no tuning leak).
3. Speed against a baseline in the same process (``--only speed`` runs this part alone, with the keep tuned by the
   last full run, and updates ``diablo.json``/``.md``; a full run takes about 15 minutes): one ``hm.tl.diablo``
   fit on the 150 training samples with the tuned keep against one scikit-learn ``PLSRegression`` (2 components)
   on the concatenated standardised blocks against one-hot labels (a single-block PLS-DA, the closest method
   available in Python; R and mixOmics are not). Median of 3 alternating runs, ratio, peak resident memory
   (``_measure.py``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DIABLO_BER = 0.0254  # mixOmics DIABLO case study, test split (Singh et al. 2019; mixomics.org mixDIABLO)
BLOCKS = ["rna", "mirna", "prot"]
REPEATS = 3
PARTS = ("split", "real_cohort", "speed")

sys.path.insert(0, str(HERE))  # the shared helpers, also when this file is imported from elsewhere
import _measure


def timed(fn, *args, **kwargs):
    """Run ``fn``; return (result, seconds, NaN): for steps where tracemalloc's per-allocation cost would distort
    the time (the tuning's thousands of small fits)."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start, float("nan")


def measure(fn, *args, **kwargs):
    """Run ``fn``; return (result, seconds, peak Python-allocated memory in MiB by tracemalloc)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = fn(*args, **kwargs)
    finally:
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, seconds, peak / 2**20


def best_keep(table: pd.DataFrame, blocks: list[str]) -> dict[str, list[int]]:
    best = table[table["best"]].sort_values("component")
    return {b: best[f"keep_{b}"].astype(int).tolist() for b in blocks}


def bench_split(quick: bool) -> dict:
    import harmonomics as hm

    mdata = hm.datasets.tcga_brca_mini()
    train = mdata[mdata.obs["split"] == "train"].copy()
    test = mdata[mdata.obs["split"] == "test"].copy()
    repeats = 1 if quick else 3
    rows = []

    def ber(store, column):
        return hm.tl.balanced_error(store.obs["pam50"], store.obs[column])

    # tuning scored on the blocks the test samples have (rna + miRNA), and mixOmics' way (every block)
    for predict_mods in (["rna", "mirna"], None):
        table, tune_s, tune_mib = timed(
            hm.tl.diablo_tune, train, mods=BLOCKS, n_components=2, repeats=repeats, seed=0, predict_mods=predict_mods
        )
        fitted = train.copy()
        _, fit_s, fit_mib = measure(hm.tl.diablo, fitted, mods=BLOCKS, n_components=2, keep=table)
        _, pred_s, _ = measure(hm.tl.predict_diablo, test, fitted)
        best = table[table["best"]].sort_values("component")
        rows.append(
            {
                "method": "DIABLO (hm.tl.diablo), keep tuned",
                "tuned_on": "rna+mirna (the test blocks)" if predict_mods else "every block (mixOmics)",
                "keep": best_keep(table, BLOCKS),
                "cv_ber": [float(v) for v in best["mean_ber"]],
                "test_ber": ber(test, "diablo_prediction"),
                "per_distance_test_ber": {
                    d: ber(hm.tl.predict_diablo(test, fitted, distance=d, copy=True), "diablo_prediction")
                    for d in ("centroids", "mahalanobis", "max")
                },
                "tune_seconds": tune_s,
                "tune_peak_mib": tune_mib,
                "fit_seconds": fit_s,
                "fit_peak_mib": fit_mib,
                "predict_seconds": pred_s,
                "grid_size": int(len(table)),
            }
        )
        print(
            f"  DIABLO tuned on {rows[-1]['tuned_on']}: keep {rows[-1]['keep']}, test BER {rows[-1]['test_ber']:.4f}",
            flush=True,
        )
        if predict_mods:
            tuning_table = table

    # the MOFA path of bench_pam50.py, in this process
    ks = (10,) if quick else (10, 20)
    seeds = (0,) if quick else (0, 1, 2)
    for k in ks:
        for seed in seeds:
            fit = train.copy()
            _, mofa_s, mofa_mib = measure(hm.tl.mofa, fit, n_factors=k, seed=seed)
            _, clf_s, clf_mib = measure(hm.tl.subtype_classifier, fit, project_views=("rna", "mirna"))
            labelled = hm.tl.predict_subtype(test, fit, copy=True, project=True)
            rows.append(
                {
                    "method": f"MOFA {k} factors + multinomial LR (projected rna+mirna training scores), seed {seed}",
                    "tuned_on": "",
                    "keep": {},
                    "cv_ber": [float(fit.uns["subtype_classifier"]["cv_balanced_error"])],
                    "test_ber": ber(labelled, "subtype_pred"),
                    "per_distance_test_ber": {},
                    "tune_seconds": clf_s,
                    "tune_peak_mib": clf_mib,
                    "fit_seconds": mofa_s,
                    "fit_peak_mib": mofa_mib,
                    "predict_seconds": float("nan"),
                    "grid_size": 0,
                }
            )
            print(f"  MOFA K={k} seed={seed}: test BER {rows[-1]['test_ber']:.4f}", flush=True)
    return {
        "rows": rows,
        "tuning_top": tuning_table.sort_values(["component", "mean_ber"])
        .groupby("component")
        .head(5)
        .to_dict("records"),
    }


def bench_real_cohort(quick: bool) -> dict:
    from sklearn.model_selection import StratifiedKFold

    import harmonomics as hm

    label = "pam50_xena"
    mdata = hm.datasets.tcga_brca_121()
    blocks = ["rna", "prot", "cnv"]
    n_top = {"rna": 2000, "cnv": 2000, "prot": 10_000}
    hm.pp.select_features(mdata, n_top=n_top, mods=blocks, subset=True)
    counts = mdata.obs[label].value_counts()
    rare = [str(c) for c, n in counts.items() if n < 5]
    labels = mdata.obs[label].astype(object).where(~mdata.obs[label].isin(rare) & mdata.obs[label].notna(), None)
    mdata.obs["pam50_cv"] = pd.Categorical(labels)
    labelled = mdata.obs_names[mdata.obs["pam50_cv"].notna()]
    y = mdata.obs.loc[labelled, "pam50_cv"].astype(str).to_numpy()
    keep = {"rna": 20, "prot": 10, "cnv": 20}
    n_components = 3
    predictions = pd.Series(index=labelled, dtype=object)
    fit_seconds, fit_peaks = [], []
    for train_idx, test_idx in StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(labelled, y):
        train = mdata[labelled[train_idx]].copy()
        test = mdata[labelled[test_idx]].copy()
        _, seconds, peak = measure(
            hm.tl.diablo, train, label="pam50_cv", mods=blocks, n_components=n_components, keep=keep
        )
        fit_seconds.append(seconds)
        fit_peaks.append(peak)
        hm.tl.predict_diablo(test, train)
        predictions.loc[test.obs_names] = test.obs["diablo_prediction"].astype(object).to_numpy()
    ber = hm.tl.balanced_error(y, predictions.loc[labelled].to_numpy())
    block_counts = {
        b: int(mdata.obs_names[mdata.obs["pam50_cv"].notna()].isin(mdata.mod[b].obs_names).sum()) for b in blocks
    }
    print(f"  tcga_brca_121 5-fold CV BER {ber:.4f}")
    return {
        "label": label,
        "classes": {str(c): int(n) for c, n in pd.Series(y).value_counts().items()},
        "left_out_classes": rare,
        "n_samples": int(labelled.size),
        "samples_per_block": block_counts,
        "features": {b: int(mdata.mod[b].n_vars) for b in blocks},
        "keep": keep,
        "n_components": n_components,
        "cv_ber": float(ber),
        "chance_ber": float(1 - 1 / len(set(y))),
        "fit_seconds_mean": float(np.mean(fit_seconds)),
        "fit_peak_mib_max": float(np.max(fit_peaks)),
    }


def baseline_plsda(blocks: list[np.ndarray], labels: np.ndarray):
    """Single-block PLS-DA: each block standardised (SD ddof=1), concatenated, PLSRegression on one-hot labels."""
    from sklearn.cross_decomposition import PLSRegression

    standardised = [(x - x.mean(axis=0)) / x.std(axis=0, ddof=1) for x in blocks]
    outcome = pd.get_dummies(pd.Series(labels)).to_numpy(dtype=float)
    return PLSRegression(n_components=2, scale=False).fit(np.hstack(standardised), outcome)


def bench_speed(keep: dict[str, list[int]]) -> dict:
    """One hm.tl.diablo fit with the tuned keep vs one PLSRegression fit on the same training data."""
    import sklearn.cross_decomposition  # noqa: F401  (imported before timing: the import is neither side's cost)

    import harmonomics as hm

    mdata = hm.datasets.tcga_brca_mini()
    train = mdata[mdata.obs["split"] == "train"].copy()
    samples = train.obs_names
    # the baseline gets the blocks as matrices, rows in the store's sample order (every training sample has all)
    blocks = [np.asarray(train.mod[b][samples].X, dtype=float) for b in BLOCKS]
    labels = train.obs["pam50"].astype(str).to_numpy()

    def ours(store):
        hm.tl.diablo(store, mods=BLOCKS, n_components=2, keep=keep)
        return store

    summary, fitted, pls = _measure.compare(
        ours, lambda: baseline_plsda(blocks, labels), repeats=REPEATS, setup=train.copy
    )
    train_pred = hm.tl.predict_diablo(train, fitted, copy=True).obs["diablo_prediction"].astype(str).to_numpy()
    classes = np.asarray(sorted(set(labels)))
    standardised = np.hstack([(x - x.mean(axis=0)) / x.std(axis=0, ddof=1) for x in blocks])
    pls_pred = classes[np.argmax(pls.predict(standardised), axis=1)]
    return {
        **summary,
        "keep": keep,
        "n_samples": int(len(samples)),
        "features": {b: int(x.shape[1]) for b, x in zip(BLOCKS, blocks, strict=True)},
        "training_ber": {
            "diablo": float(hm.tl.balanced_error(labels, train_pred)),
            "plsda": float(hm.tl.balanced_error(labels, pls_pred)),
        },
    }


def speed_markdown(s: dict) -> list[str]:
    keep = " / ".join(",".join(str(v) for v in s["keep"][b]) for b in BLOCKS)
    features = " + ".join(f"{n} {b}" for b, n in s["features"].items())
    return [
        "",
        "## Speed against a baseline in the same process",
        "",
        f"Run {s['date']}. One fit on the {s['n_samples']} training samples of the split ({features} "
        f"features), median of {s['repeats']} runs, ours and the baseline alternating, BLAS/OpenMP pools capped "
        f"at {s['threads']} thread(s) for both; ratio = ours / baseline "
        "(above 1: ours slower); peak = resident memory above the start of the call (psutil, sampled every 5 ms; "
        "the largest of the runs; a lower bound: memory that earlier steps freed is reused without growing it). "
        "R is not available, so the baseline is scikit-learn's `PLSRegression` (2 "
        "components) on the concatenated blocks, each standardised, against one-hot labels: a single-block "
        "PLS-DA, the closest method in Python.",
        "",
        "| fit | time (s) | ratio | ratio, fastest runs | peak (MiB) | training BER |",
        "|---|---|---|---|---|---|",
        f"| baseline: `PLSRegression(n_components=2)` on the standardised, concatenated blocks | "
        f"{s['baseline']['seconds']:.3f} | 1.00 | 1.00 | {s['baseline']['peak_mib']:.0f} | "
        f"{s['training_ber']['plsda']:.4f} |",
        f"| `hm.tl.diablo`, 2 components, keep {keep} (tuned on rna+mirna) | {s['ours']['seconds']:.3f} | "
        f"{s['ratio']:.2f} | {s['ratio_fastest']:.2f} | {s['ours']['peak_mib']:.0f} | "
        f"{s['training_ber']['diablo']:.4f} |",
        "",
        "DIABLO does more per fit: a sparse weight vector per block (soft-thresholding to the kept features), the "
        "design linking the blocks, per-block variates and deflation, the prediction model and the record in "
        "`uns`. Training BER: each model predicting its own training samples (DIABLO: centroids distance, "
        "weighted vote; PLS-DA: largest predicted indicator), a sanity check, not a test error.",
    ]


def write_markdown(results: dict, path: Path) -> None:
    lines = [
        "# DIABLO (multi-block sparse PLS-DA)",
        "",
        f"Machine: {results['machine']}; run {results['date']}; quick={results['quick']}. Peak memory: tracemalloc "
        "(Python-allocated, incl. numpy) during the step, except in the speed section.",
    ]
    if "split" in results:
        lines += split_markdown(results)
    if "real_cohort" in results:
        lines += real_cohort_markdown(results["real_cohort"])
    if "speed" in results:
        lines += speed_markdown(results["speed"])
    path.write_text("\n".join(lines) + "\n")


def split_markdown(results: dict) -> list[str]:
    rows = pd.DataFrame(results["split"]["rows"])
    diablo = rows[rows["method"].str.startswith("DIABLO")]
    mofa = rows[rows["method"].str.startswith("MOFA")]
    lines = [
        "",
        "## The mixOmics case study split (tcga_brca_mini: 150 train with protein, 70 test without)",
        "",
        f"Published DIABLO (mixOmics case study, Singh et al. 2019): test balanced error **{DIABLO_BER}**.",
        "",
        "| method | keep tuned on | keep (rna / mirna / prot per component) | CV BER "
        "| test BER (centroids, weighted vote) | mahalanobis | max | ratio to published | tune (s) "
        "| fit (s) | fit peak (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in diablo.iterrows():
        keep = " / ".join(",".join(str(v) for v in r["keep"][b]) for b in BLOCKS)
        per = r["per_distance_test_ber"]
        lines.append(
            f"| {r['method']} | {r['tuned_on']} | {keep} | {r['cv_ber'][-1]:.4f} | **{r['test_ber']:.4f}** | "
            f"{per['mahalanobis']:.4f} | {per['max']:.4f} | {r['test_ber'] / DIABLO_BER:.2f} | "
            f"{r['tune_seconds']:.1f} | {r['fit_seconds']:.2f} | {r['fit_peak_mib']:.1f} |"
        )
    lines += [
        "",
        "The MOFA path of `bench_pam50.py`, run in the same process (MOFA on the 150, classifier trained on scores "
        "projected from rna + miRNA, the 70 test samples projected):",
        "",
        "| method | CV BER | test BER | ratio to published | MOFA fit (s) | MOFA peak (MiB) | classifier (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in mofa.iterrows():
        lines.append(
            f"| {r['method']} | {r['cv_ber'][0]:.4f} | {r['test_ber']:.4f} | {r['test_ber'] / DIABLO_BER:.2f} | "
            f"{r['fit_seconds']:.1f} | {r['fit_peak_mib']:.0f} | {r['tune_seconds']:.1f} |"
        )
    if len(mofa):
        lines += ["", f"MOFA path mean test BER: {mofa['test_ber'].mean():.4f} over {len(mofa)} fits."]
    return lines


def real_cohort_markdown(c: dict) -> list[str]:
    return [
        "",
        "## The real cohort (tcga_brca_121): 5-fold stratified CV, PAM50 from rna + prot + cnv",
        "",
        f"Label `{c['label']}`: {c['n_samples']} samples ({', '.join(f'{k} {v}' for k, v in c['classes'].items())}; "
        f"classes with < 5 samples left out: {c['left_out_classes'] or 'none'}); samples per block "
        f"{c['samples_per_block']} (samples lacking a block are kept); features {c['features']} (most variable); "
        f"keep {c['keep']} per component, {c['n_components']} components, fixed in advance.",
        "",
        "| CV balanced error | chance | fit (s, mean per fold) | fit peak (MiB) |",
        "|---|---|---|---|",
        f"| **{c['cv_ber']:.4f}** | {c['chance_ber']:.2f} | {c['fit_seconds_mean']:.2f} | "
        f"{c['fit_peak_mib_max']:.0f} |",
        "",
        "Times and peaks of the fits were taken under tracemalloc (it slows the MOFA fits several-fold; `pam50` has "
        "their untraced times). The tuning (every keep combination × 2 components × repeated 5-fold CV) is timed "
        "without it. One error among the 14 Her2 test samples moves the balanced error by 0.024.",
    ]


def tuned_keep(results: dict) -> dict[str, list[int]]:
    """The keep tuned on rna + miRNA (the test blocks) by the split part, else tuned here the same way."""
    for row in results.get("split", {}).get("rows", []):
        if row["method"].startswith("DIABLO") and row["tuned_on"].startswith("rna+mirna"):
            return {b: [int(v) for v in row["keep"][b]] for b in BLOCKS}
    import harmonomics as hm

    mdata = hm.datasets.tcga_brca_mini()
    train = mdata[mdata.obs["split"] == "train"].copy()
    table = hm.tl.diablo_tune(train, mods=BLOCKS, n_components=2, repeats=3, seed=0, predict_mods=["rna", "mirna"])
    return best_keep(table, BLOCKS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one tuning repeat, one MOFA fit")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS,
        help="run only these parts and update them in the existing results (the full run takes ~15 minutes)",
    )
    args = parser.parse_args(argv)
    import logging

    import harmonomics as hm

    logging.basicConfig(level=logging.WARNING)
    hm.settings.verbosity = 1
    # subsetting a store whose rna and cnv share gene names makes mudata warn about the (unused) global var
    warnings.filterwarnings("ignore", message="var_names are not unique", category=UserWarning)
    parts = args.only or list(PARTS)
    path = RESULTS / "diablo.json"
    results = json.loads(path.read_text()) if args.only and path.exists() else {}
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    machine = f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}"
    if not args.only or not results:
        results.update(date=now, machine=machine, quick=args.quick, published_diablo_test_ber=DIABLO_BER)
    if "split" in parts:
        print("DIABLO on the tcga_brca_mini split ...", flush=True)
        results["split"] = bench_split(args.quick)
    if "real_cohort" in parts:
        print("DIABLO 5-fold CV on tcga_brca_121 ...", flush=True)
        results["real_cohort"] = bench_real_cohort(args.quick)
    if "speed" in parts:
        print("DIABLO fit vs a PLSRegression fit, same process ...", flush=True)
        results["speed"] = {**bench_speed(tuned_keep(results)), "date": now, "machine": machine}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=float) + "\n")
    write_markdown(results, RESULTS / "diablo.md")
    print((RESULTS / "diablo.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
