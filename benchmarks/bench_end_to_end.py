"""Benchmark: the whole analysis of a 1,000-patient synthetic GDC download folder with `harmonomics run`.

Steps timed: load (read + harmonize the GDC folder), fit (feature selection + fast MOFA engine), annotate (PAM50,
immune, associations, survival), export, report. Baseline in the same run: a plain ``pandas.read_csv`` loop over
the same data files (what reading alone costs a user without harmonomics). Target: the full analysis under 3
minutes on this 2-core machine.

Usage: python benchmarks/bench_end_to_end.py [--patients 1000] [--quick]
Writes results/end_to_end.json and results/end_to_end.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DATA = HERE / "_data"
TARGET_S = 180.0

_PANDAS_LOOP = """
import json, resource, sys, time
from pathlib import Path
import pandas as pd
folder = Path(sys.argv[1])
t = time.perf_counter()
n = 0
for path in sorted(folder.rglob("*")):
    if not path.is_file() or path.suffix == ".json":
        continue
    name = path.name
    if name.endswith(".maf.gz"):
        frame = pd.read_csv(path, sep="\\t", comment="#", low_memory=False)
    elif "level3betas" in name:
        frame = pd.read_csv(path, sep="\\t", header=None)
    elif name.startswith("gdc_manifest"):
        continue
    else:
        frame = pd.read_csv(path, sep="\\t", comment="#", low_memory=False)
    n += len(frame)
print(json.dumps({"seconds": time.perf_counter() - t, "rows": n,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="end-to-end benchmark")
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="200 patients")
    args = parser.parse_args(argv)
    n = 200 if args.quick else args.patients

    import harmonomics as hm

    hm.settings.verbosity = 0
    cohort_dir = DATA / f"e2e_{n}"
    if not (cohort_dir / "COMPLETE").exists():
        shutil.rmtree(cohort_dir, ignore_errors=True)
        hm.datasets.write_synthetic_cohort(cohort_dir, n_patients=n, seed=11, layouts=("gdc",))
        (cohort_dir / "COMPLETE").write_text("ok\n")
    gdc = cohort_dir / "gdc"
    n_files = sum(1 for p in gdc.rglob("*") if p.is_file())
    size_mb = sum(p.stat().st_size for p in gdc.rglob("*") if p.is_file()) / 1e6

    baseline_out = subprocess.run(
        [sys.executable, "-c", _PANDAS_LOOP, str(gdc)], capture_output=True, text=True, check=True
    )
    baseline = json.loads(baseline_out.stdout.strip().splitlines()[-1])

    work = DATA / f"e2e_{n}_run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    config = work / "config.yaml"
    config.write_text(
        "out: results\n"
        f"cohorts:\n  synth:\n    source: gdc\n    path: {gdc}\n"
        "fit:\n  n_factors: 10\n  features_per_omic: 2000\n"
        "export:\n  formats: [tsv, gmt, gct, cbioportal, hdf5]\n"
    )
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run(
        [sys.executable, "-m", "harmonomics.cli", "-q", "run", str(config)], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"harmonomics run failed:\n{result.stderr[-3000:]}")
    peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    steps = {
        p.stem: json.loads(p.read_text())["seconds"]
        for p in (work / "results" / "synth" / ".harmonomics").glob("*.json")
    }

    out = {
        "benchmark": "end_to_end",
        "patients": n,
        "files": n_files,
        "folder_mb": round(size_mb, 1),
        "baseline_pandas_read": baseline,
        "harmonomics_run_seconds": seconds,
        "steps_seconds": steps,
        "peak_rss_mb": peak_mb,
        "ratio_vs_pandas_read": seconds / baseline["seconds"],
        "target_s": TARGET_S,
        "meets_target": seconds < TARGET_S,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "end_to_end.json").write_text(json.dumps(out, indent=2))
    lines = [
        f"{n:,} synthetic patients, GDC layout: {n_files:,} files, {size_mb:,.0f} MB.",
        "",
        "| run | time (s) | ratio vs pandas read | peak RSS (MB) |",
        "|---|---|---|---|",
        f"| baseline: plain `pandas.read_csv` loop over the files (reading only) | {baseline['seconds']:.1f} | 1.00 | "
        f"{baseline['peak_rss_mb']:.0f} |",
        f"| `harmonomics run`: load + fit + annotate + export + report | {seconds:.1f} | "
        f"{out['ratio_vs_pandas_read']:.2f} | {peak_mb:.0f} |",
        *(
            f"| — {step} | {steps[step]:.1f} | | |"
            for step in ("load", "fit", "annotate", "export", "report")
            if step in steps
        ),
        "",
        f"Target: full analysis under {TARGET_S:.0f} s — {'met' if out['meets_target'] else 'NOT met'}.",
    ]
    (RESULTS / "end_to_end.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return out


if __name__ == "__main__":
    main()
