"""Benchmark: the factor fit's memory estimate against measured peak memory, N up to 10,000 and D up to 50,000.

Each fit runs in a fresh process: it builds a random store of N samples and views summing to D features (four
gaussian views and one bernoulli view of 1/20 of the features), records the resident memory, fits with the fast
engine for a few iterations (the peak is reached in the build phase and the first iteration), and reports the
peak resident memory above that starting point. ``estimate_memory`` predicts that number from (N, D, K) alone.
The last rows extrapolate the same cost model, on paper, to sizes this 24 GB machine cannot hold.

Usage: python benchmarks/bench_memory.py [--quick]
Writes results/memory.json and results/memory.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

_FIT = """
import json, resource, sys
import numpy as np, anndata as ad, pandas as pd
import harmonomics as hm
from harmonomics.store import new_store
hm.settings.verbosity = 0
N, sizes, K, float32 = int(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
D = sum(sizes)
rng = np.random.default_rng(0)
Z = rng.normal(size=(N, K))
mods = {}
for i, d in enumerate(sizes):
    W = rng.normal(size=(K, d)) * (rng.random((K, d)) < 0.3)
    X = Z @ W + rng.normal(size=(N, d))
    name = "mut" if i == len(sizes) - 1 else f"view{i}"
    if name == "mut":
        X = (X > 1.0).astype(np.float64)
    obs = pd.DataFrame(index=[f"s{j}" for j in range(N)])
    mods[name] = ad.AnnData(X, obs=obs, var=pd.DataFrame(index=[f"{name}_{j}" for j in range(d)]))
mdata = new_store(mods)
del Z, W, X
import gc; gc.collect()
import mofapy2.run.entry_point, harmonomics.models.mofa, harmonomics.models._fast_engine  # imports are not the fit
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
from harmonomics.models._memory import estimate_memory
likelihoods = ["gaussian"] * (len(sizes) - 1) + ["bernoulli"]
predicted = estimate_memory(N, sizes, K, float32, likelihoods=likelihoods)
hm.tl.mofa(mdata, n_factors=K, max_iter=3, float32=float32, seed=0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"N": N, "D": D, "K": K, "float32": float32, "predicted": predicted, "measured": peak - start,
                  "rss_before_fit": start, "peak_rss": peak}))
"""

GRID = [(1000, 5000), (2000, 12400), (5000, 5000), (2000, 50000), (10000, 5000), (5000, 20000), (10000, 10000)]
QUICK_GRID = [(500, 2000), (1000, 5000)]
PAPER = [(11000, 50000), (11000, 100000), (1000, 485000), (11000, 485000)]


def view_sizes(d: int) -> list[int]:
    """Four gaussian views (mRNA-, methylation-, RPPA- and copy-number-like) and a bernoulli one of d/20."""
    sizes = [int(d * 0.4), int(d * 0.3), int(d * 0.05), int(d * 0.2)]
    return [*sizes, d - sum(sizes)]


def _measure(n: int, d: int, k: int, float32: bool) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _FIT, str(n), json.dumps(view_sizes(d)), str(k), "1" if float32 else "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return {"N": n, "D": d, "K": k, "float32": float32, "error": result.stderr.strip().splitlines()[-1][:200]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="fit memory: estimate vs measured")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--factors", type=int, default=15)
    args = parser.parse_args(argv)
    from harmonomics.models._memory import estimate_memory

    rows = [_measure(n, d, args.factors, False) for n, d in (QUICK_GRID if args.quick else GRID)]
    gb = 1024**3
    lines = [
        f"Fast engine, K = {args.factors}, float64; views: 4 gaussian + 1 bernoulli (D/20). Peak RSS above the "
        "process's size before the fit, against `harmonomics.models._memory.estimate_memory`.",
        "",
        "| N | D | predicted (GB) | measured (GB) | measured / predicted |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['N']:,} | {row['D']:,} | | failed: {row['error']} | |")
            continue
        row["ratio"] = row["measured"] / row["predicted"]
        lines.append(
            f"| {row['N']:,} | {row['D']:,} | {row['predicted'] / gb:.2f} | {row['measured'] / gb:.2f} | "
            f"{row['ratio']:.2f} |"
        )
    paper = []
    for n, d in PAPER:
        predicted = estimate_memory(n, view_sizes(d), args.factors, False, likelihoods=["gaussian"] * 4 + ["bernoulli"])
        measured = [r for r in rows if "ratio" in r]
        largest = max(measured, key=lambda r: r["N"] * r["D"]) if measured else None
        scale = largest["ratio"] if largest else 1.0
        paper.append({"N": n, "D": d, "predicted": predicted, "predicted_times_ratio": predicted * scale})
    lines += [
        "",
        "On paper, from the same cost model (scaled by the measured/predicted ratio of the largest measured fit):",
        "",
        "| N | D | predicted (GB) | × measured ratio (GB) |",
        "|---|---|---|---|",
        *(
            f"| {p['N']:,} | {p['D']:,} | {p['predicted'] / gb:.1f} | {p['predicted_times_ratio'] / gb:.1f} |"
            for p in paper
        ),
    ]
    out = {"benchmark": "memory", "rows": rows, "paper": paper}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps(out, indent=2))
    (RESULTS / "memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return out


if __name__ == "__main__":
    main()
