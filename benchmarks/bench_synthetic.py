"""Benchmark of hm.datasets.write_synthetic_cohort: wall time, CPU time, peak memory and output size.

Usage: python benchmarks/bench_synthetic.py [--quick]

Each cohort is written in a fresh subprocess (so peak RSS is that write's own). The baselines, measured in
the same run: the 100-patient cohort (for the scaling ratio) and, for the text renderer, writing the same
genes x samples RNA matrix with ``pandas.DataFrame.to_csv(float_format="%.4f")``.
Writes benchmarks/results/synthetic.json and benchmarks/results/synthetic.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, os, resource, sys, time
from harmonomics.datasets._synthetic import write_synthetic_cohort
kw = json.loads(sys.argv[1]); out = sys.argv[2]
t0, c0 = time.perf_counter(), time.process_time()
write_synthetic_cohort(out, **kw)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
n_files = sum(len(fs) for _, _, fs in os.walk(out))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak,
                  "size_mb": size / 2**20, "n_files": n_files}))
"""

RENDER_CHILD = r"""
import json, time, io
import numpy as np, pandas as pd
from harmonomics.datasets import _synthetic_text as T
n_genes, n_samples = map(int, __import__("sys").argv[1:3])
rng = np.random.default_rng(0)
values = rng.lognormal(5, 2, (n_genes, n_samples))
ids = [f"GENE{i}" for i in range(n_genes)]
cols = [f"S{i}" for i in range(n_samples)]
t0 = time.perf_counter()
T.render([T.strings(ids), T.matrix(values, 4)], ["\t".join(["gene"] + cols)])
ours = time.perf_counter() - t0
t0 = time.perf_counter()
buf = io.StringIO()
frame = pd.DataFrame(values, index=pd.Index(ids, name="gene"), columns=cols)
frame.to_csv(buf, sep="\t", float_format="%.4f")
buf.getvalue().encode()
pandas = time.perf_counter() - t0
print(json.dumps({"ours_s": ours, "pandas_s": pandas}))
"""


def run_child(code: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONHASHSEED="0")
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (for a smoke run)")
    args = parser.parse_args()
    configs = [("100 patients (baseline)", {"n_patients": 100, "seed": 0})]
    if args.quick:
        configs.append(("300 patients", {"n_patients": 300, "seed": 0}))
    else:
        configs.append(("1,000 patients", {"n_patients": 1000, "seed": 0}))
        configs.append(("1,000 patients, 5,000 genes", {"n_patients": 1000, "seed": 0, "n_genes": 5000}))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, kw) in enumerate(configs):
            r = run_child(CHILD, json.dumps(kw), str(Path(tmp) / f"c{i}"))
            rows.append({"case": name, **kw, **r})
            print(
                f"{name}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, {r['peak_rss_mb']:.0f} MB peak, "
                f"{r['size_mb']:.0f} MB in {r['n_files']} files",
                flush=True,
            )
    base = rows[0]
    for r in rows:
        r["wall_ratio_vs_baseline"] = r["wall_s"] / base["wall_s"]
        r["cpu_ratio_vs_baseline"] = r["cpu_s"] / base["cpu_s"]
    n_samples = 300 if args.quick else 1000
    render = run_child(RENDER_CHILD, "2000", str(n_samples))
    print(f"render 2000 x {n_samples}: ours {render['ours_s']:.2f} s, pandas to_csv {render['pandas_s']:.2f} s")
    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover
        load = (float("nan"),) * 3
    result = {
        "benchmark": "synthetic",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average": load,
        "quick": args.quick,
        "cohorts": rows,
        "render_matrix": {
            "shape": [2000, n_samples],
            **render,
            "ratio": render["ours_s"] / render["pandas_s"],
        },
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "synthetic.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Synthetic cohort writer",
        "",
        f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} at start of the report; Python "
        f"{platform.python_version()}. Each cohort is written in its own process (all 4 layouts + truth).",
        "",
        "| case | wall (s) | CPU (s) | ratio vs baseline (wall) | peak RSS (MB) | output (MB) | files |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['wall_ratio_vs_baseline']:.2f} | "
            f"{r['peak_rss_mb']:.0f} | {r['size_mb']:.0f} | {r['n_files']} |"
        )
    lines += [
        "",
        f"| text rendering of a 2000 x {n_samples} matrix | seconds | ratio |",
        "|---|---|---|",
        f"| pandas `to_csv(float_format='%.4f')` (baseline) | {render['pandas_s']:.2f} | 1.00 |",
        f"| harmonomics vectorised renderer | {render['ours_s']:.2f} | {render['ours_s'] / render['pandas_s']:.2f} |",
        "",
    ]
    (out / "synthetic.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
