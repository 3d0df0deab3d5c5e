"""Benchmark of the precision-medicine layer on the real cohort tcga_brca_121.

Run ``python benchmarks/bench_precision.py``; writes ``benchmarks/results/precision.json`` and ``precision.md``.

Receptor status (:func:`receptor_accuracy`): ``hm.tl.receptor_status`` against the clinical ER and HER2 status of
the 121 patients, from expression only, copy number only and both. Our Equivocal (and missing) calls count as
wrong in accuracy, sensitivity, specificity and balanced accuracy; coverage (the share with a Positive/Negative
call) and the balanced accuracy among called samples are reported beside them. No threshold sees the labels; the
"label-fitted ceiling" rows are the best single threshold on ERBB2 chosen ON the labels, for reference only.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
CALL_ROWS = ["Positive", "Equivocal", "Negative", "no call"]
LABELS = ["Positive", "Negative"]
VARIANTS = {"combined": ("rna", "cnv"), "rna_only": ("rna",), "cn_only": ("cnv",)}


# ------------------------------------------------------------------------------------------- receptor status
def _variant(cohort, mods: tuple[str, ...]):
    import mudata as md

    from harmonomics._compat import mudata_options

    with mudata_options():  # rna and cnv share gene names; mudata warns about it
        store = md.MuData({m: cohort.mod[m].copy() for m in mods})
    for column in ("er_status", "her2_status", "pam50_xena"):
        store.obs[column] = cohort.obs[column].reindex(store.obs_names).to_numpy()
    return store


def _confusion(store, marker_prefix: str, reference: str) -> dict:
    """Our call (rows, with "no call") × clinical status (columns), from hm.tl.label_confusion plus the NaN calls."""
    import harmonomics as hm

    call = f"{marker_prefix}_call"
    table = pd.DataFrame(0, index=CALL_ROWS, columns=LABELS)
    if store.obs[call].notna().any():
        long = hm.tl.label_confusion(store, reference, key=call)
        wide = long.pivot(index="ours", columns="reference", values="n")
        table.loc[:, :] = wide.reindex(index=CALL_ROWS, columns=LABELS).fillna(0).to_numpy()
    missing = store.obs[call].isna()
    for label in LABELS:
        table.loc["no call", label] = int((missing & (store.obs[reference].astype(object) == label)).sum())
    return {row: {col: int(table.loc[row, col]) for col in LABELS} for row in CALL_ROWS}


def _ceiling(values: pd.Series, truth: pd.Series) -> dict:
    """Best balanced accuracy of one threshold chosen on the labels (a reference, never used by the method)."""
    values = values.dropna()
    truth = truth.reindex(values.index).astype(object)
    best = (0.0, np.nan)
    for cut in np.unique(values):
        call = np.where(values > cut, "Positive", "Negative")
        ba = np.mean([(call[truth.to_numpy() == c] == c).mean() for c in LABELS])
        best = max(best, (float(ba), float(cut)))
    return {"balanced_accuracy": best[0], "threshold": best[1], "n": int(values.size)}


def _ba_interval(table: pd.DataFrame, marker: str) -> list[float]:
    """95% stratified-bootstrap interval of the balanced accuracy (Equivocal = wrong), from compare_receptor_status."""
    row = table.set_index("marker").loc[marker]
    return [float(row["balanced_accuracy_low"]), float(row["balanced_accuracy_high"])]


def _full_covariance_ba(values: pd.Series, truth: pd.Series) -> float:
    """BA (Equivocal = wrong) of the same rule with a two-variance mixture: the design choice, checked."""
    from sklearn.mixture import GaussianMixture

    x = values.to_numpy(dtype=float).reshape(-1, 1)
    model = GaussianMixture(n_components=2, covariance_type="full", n_init=10, random_state=0).fit(x)
    posterior = model.predict_proba(x)[:, int(np.argmax(model.means_.ravel()))]
    call = pd.Series(np.where(posterior > 0.9, "Positive", np.where(posterior < 0.1, "Negative", "Equivocal")))
    truth = truth.reindex(values.index).astype(object).to_numpy()
    return float(np.mean([(call.to_numpy()[truth == c] == c).mean() for c in LABELS]))


def receptor_accuracy() -> dict:
    """Accuracy of hm.tl.receptor_status on tcga_brca_121, per evidence source, with confusion tables."""
    import harmonomics as hm

    cohort = hm.datasets.tcga_brca_121()
    import sklearn.mixture  # noqa: F401  (imported before timing: the import is not the method's cost)

    out: dict = {"n_patients": int(cohort.n_obs), "variants": {}}
    for name, mods in VARIANTS.items():
        store = _variant(cohort, mods)
        start = time.perf_counter()
        hm.tl.receptor_status(store)
        seconds = time.perf_counter() - start
        table = hm.tl.compare_receptor_status(store)
        out["variants"][name] = {
            "modalities": list(mods),
            "seconds": seconds,
            "metrics": table.to_dict("records"),
            "confusion": {
                "ER": _confusion(store, "er", "er_status"),
                "HER2": _confusion(store, "her2", "her2_status"),
            },
            "balanced_accuracy_95ci": {
                "ER": _ba_interval(table, "ER") if "rna" in mods else [np.nan, np.nan],
                "HER2": _ba_interval(table, "HER2"),
            },
            "pr_calls": {k: int(v) for k, v in store.obs["pr_call"].value_counts(dropna=False).items() if k == k},
        }
        if name == "combined":
            out["thresholds"] = store.uns["receptor"]["thresholds"].to_dict("records")
            out["clinical_group_by_pam50"] = (
                pd.crosstab(store.obs["clinical_group"], store.obs["pam50_xena"]).astype(int).to_dict("index")
            )
            out["pr_call_by_er_status"] = (
                pd.crosstab(store.obs["pr_call"], store.obs["er_status"]).astype(int).to_dict("index")
            )
    truth = cohort.obs["her2_status"].set_axis(cohort.obs_names.astype(str))
    rna, cnv = cohort.mod["rna"], cohort.mod["cnv"]
    er_truth = cohort.obs["er_status"].set_axis(cohort.obs_names.astype(str))
    out["full_covariance_mixture_ba"] = {
        "ER (ESR1)": _full_covariance_ba(
            pd.Series(np.asarray(rna[:, "ESR1"].X).ravel(), index=rna.obs_names), er_truth
        ),
        "HER2 (ERBB2 expression only)": _full_covariance_ba(
            pd.Series(np.asarray(rna[:, "ERBB2"].X).ravel(), index=rna.obs_names), truth
        ),
    }
    # independent protein evidence (RPPA HER2 antibody, not used by the method) for the clinical Positives we miss
    combined = _variant(cohort, VARIANTS["combined"])
    hm.tl.receptor_status(combined)
    prot = cohort.mod["prot"]
    her2_protein = pd.Series(np.asarray(prot[:, "HER2"].X).ravel(), index=prot.obs_names.astype(str))
    status = truth.reindex(her2_protein.index).astype(object)
    called = combined.obs["her2_call"].astype(object).reindex(her2_protein.index)
    groups = {
        "clinical Negative": status == "Negative",
        "clinical Positive, called Positive": (status == "Positive") & (called == "Positive"),
        "clinical Positive, called Negative": (status == "Positive") & (called == "Negative"),
    }
    out["her2_rppa_by_group"] = {
        name: {
            "n": int(mask.sum()),
            "median": float(her2_protein[mask].median()),
            "min": float(her2_protein[mask].min()),
            "max": float(her2_protein[mask].max()),
        }
        for name, mask in groups.items()
    }
    out["her2_label_fitted_ceiling"] = {
        "ERBB2 expression": _ceiling(pd.Series(np.asarray(rna[:, "ERBB2"].X).ravel(), index=rna.obs_names), truth),
        "ERBB2 copy number": _ceiling(pd.Series(np.asarray(cnv[:, "ERBB2"].X).ravel(), index=cnv.obs_names), truth),
    }
    return out


def receptor_markdown(r: dict) -> list[str]:
    lines = [
        "## Precision medicine: receptor status (tcga_brca_121)",
        "",
        f"`hm.tl.receptor_status` against the clinical ER and HER2 status of {r['n_patients']} patients (PathAnalyser "
        "labels: ER 68 Positive / 53 Negative, HER2 39 / 82; no PR label). Thresholds never see the labels. "
        "**Our Equivocal and missing calls count as wrong** in accuracy, sensitivity, specificity and balanced "
        "accuracy (BA); coverage = share with a Positive/Negative call; BA (called) = on those only.",
        "",
        "| evidence | marker | coverage | accuracy | sensitivity | specificity | **BA** (95 % CI) | BA (called) "
        "| target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    targets = {"ER": 0.90, "HER2": 0.85}
    for name, v in r["variants"].items():
        for m in v["metrics"]:
            if m["n_called"] == 0 and "rna" not in v["modalities"]:
                lines.append(f"| {name} | {m['marker']} | not called from copy number | | | | | | |")
                continue
            target = targets.get(m["marker"])
            ci = v["balanced_accuracy_95ci"][m["marker"]]
            met = (
                ""
                if target is None
                else (f"≥ {target:.2f}: " + ("met" if m["balanced_accuracy"] >= target else "**not met**"))
            )
            lines.append(
                f"| {name} | {m['marker']} | {m['coverage']:.3f} ({m['n_called']}/{m['n_labelled']}) | "
                f"{m['accuracy']:.3f} | {m['sensitivity']:.3f} | {m['specificity']:.3f} | "
                f"**{m['balanced_accuracy']:.3f}** ({ci[0]:.3f}–{ci[1]:.3f}) | {m['balanced_accuracy_called']:.3f} | "
                f"{met} |"
            )
    lines += [
        "",
        "cn_only covers the 119 patients with a copy-number profile (2 have none); the other rows cover all 121. "
        "95 % CI: percentile bootstrap, 2,000 resamples within each clinical class, seed 0.",
    ]
    lines += ["", "Confusion tables (rows: our call; columns: clinical status):", ""]
    for name, v in r["variants"].items():
        for marker, table in v["confusion"].items():
            if all(table["no call"][c] == sum(table[row][c] for row in CALL_ROWS) for c in LABELS):
                continue  # never called from this evidence (ER from copy number)
            cells = " / ".join(f"{row} {table[row]['Positive']}, {table[row]['Negative']}" for row in CALL_ROWS)
            lines.append(f"- {name}, {marker} (clinical Positive, Negative): {cells}")
    ceiling = r["her2_label_fitted_ceiling"]
    lines += [
        "",
        "HER2 ceiling: the best single threshold chosen **on the labels** reaches BA "
        + ", ".join(
            f"{k} {c['balanced_accuracy']:.3f} (cut {c['threshold']:.3g}, n={c['n']})" for k, c in ceiling.items()
        )
        + ". 18 of the 39 clinical HER2-Positive tumours have neither ERBB2 amplification nor high ERBB2 "
        "expression, so no ERBB2-based rule reaches the 0.85 target on these labels; all 21 amplified tumours are "
        "clinical Positive and none of the 82 Negatives is called Positive.",
        "",
        "RPPA HER2 protein (relative log scale; not used by the method) in the 100 patients with RPPA: "
        + "; ".join(
            f"{k}: n={g['n']}, median {g['median']:.2f} (range {g['min']:.2f} to {g['max']:.2f})"
            for k, g in r["her2_rppa_by_group"].items()
        )
        + ". The clinical Positives we call Negative have no more HER2 protein than the clinical Negatives.",
        "",
        "Design check: the same rule with a two-variance (full) mixture instead of the shared variance gives BA "
        + ", ".join(f"{k} {v:.3f}" for k, v in r["full_covariance_mixture_ba"].items())
        + " (the shared variance was chosen for a monotone posterior, not for accuracy).",
        "",
        "Thresholds (combined run):",
        "",
        "| marker | feature | rule | value |",
        "|---|---|---|---|",
    ]
    for t in r["thresholds"]:
        lines.append(f"| {t['marker']} | {t['feature']} | {t['rule']} | {t['value']:.3f} |")
    lines += ["", f"Run time of `receptor_status` (combined): {r['variants']['combined']['seconds']:.2f} s."]
    return lines


# ------------------------------------------------------------------------------------------- main
def write_markdown(results: dict, path: Path) -> None:
    lines = [
        "# Precision medicine benchmark",
        "",
        f"Machine: {results['machine']}; run {results['date']}.",
        "",
    ]
    if "receptor" in results:
        lines += receptor_markdown(results["receptor"])
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="accepted for run_all.py; the cohort is small")
    parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.ERROR)
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
    }
    print("receptor status on tcga_brca_121 ...", flush=True)
    results["receptor"] = receptor_accuracy()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "precision.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    write_markdown(results, RESULTS / "precision.md")
    print((RESULTS / "precision.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
