"""Benchmark: all immune scores for 1,000 samples × 20,000 genes, against a per-sample ESTIMATE loop.

The baseline is ESTIMATE written the way the R package computes it: for each sample, rank,
order and accumulate the running sums (one Python iteration per sample, numpy inside),
measured in the same run on the same matrix. harmonomics scores the whole cohort with one
rank and one argsort.

Usage: python benchmarks/bench_immune.py [--quick]   (--quick: 200 samples)
Writes benchmarks/results/immune.json and benchmarks/results/immune.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_S = 10.0
N_GENES = 20_000


def _cohort(n_samples: int, seed: int = 0):
    """Counts-like matrix with the real TCGA gene IDs (SYMBOL|ENTREZ), every signature gene included."""
    import anndata as ad

    from harmonomics import data
    from harmonomics.tl._immune import gene_sets

    ids = pd.read_csv(data.path("tcga_brca_rnaseq10", "dataBRCA_rsem_counts.tsv.gz"), sep="\t", usecols=[0]).iloc[:, 0]
    wanted = set(gene_sets()["gene"])
    symbols = ids.str.split("|").str[0]
    keep = symbols.isin(wanted)
    others = ids[~keep].iloc[: N_GENES - int(keep.sum())]
    var_names = pd.Index(pd.concat([ids[keep], others]).to_numpy(), dtype=object)
    rng = np.random.default_rng(seed)
    gene_mean = rng.lognormal(3.0, 2.0, size=len(var_names))
    sample_depth = rng.uniform(0.5, 2.0, size=(n_samples, 1))
    counts = rng.poisson(gene_mean[None, :] * sample_depth).astype(np.float64)
    return ad.AnnData(
        counts,
        obs=pd.DataFrame(index=[f"s{i}" for i in range(n_samples)]),
        var=pd.DataFrame(index=var_names.astype(str)),
    )


def _baseline_estimate(adata) -> np.ndarray:
    """ESTIMATE immune score, one sample at a time (the R package's loop)."""
    from scipy.stats import rankdata

    from harmonomics._genes import symbols_for
    from harmonomics.tl import _estimate

    matched = _estimate.match_common_genes(symbols_for(adata.var_names, adata.var))
    values = np.asarray(adata.X)[:, matched["position"].to_numpy()]
    genes = pd.Index(matched["hgnc_symbol"])
    hits = np.isin(genes, list(_estimate.signatures()["immune"]))
    out = np.empty(values.shape[0])
    for i, row in enumerate(values):
        scaled = 10000.0 * rankdata(row, method="average") / row.size
        order = np.argsort(-row, kind="stable")
        hit = hits[order]
        weight = scaled[order] ** 0.25
        reward = np.cumsum(np.where(hit, weight, 0.0) / weight[hit].sum())
        penalty = np.cumsum(~hit / (~hit).sum())
        out[i] = (reward - penalty).sum()
    return out


def _timed(func, *args, repeats: int = 1, **kwargs):
    """Median wall time of ``repeats`` untraced calls, then peak traced memory (tracemalloc) of one call."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = func(*args, **kwargs)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    func(*args, **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, float(np.median(times)), peak / 2**20


def main(argv: list[str] | None = None) -> dict:
    import harmonomics as hm

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 samples instead of 1,000")
    parser.add_argument("--samples", type=int, default=None)
    args = parser.parse_args(argv)
    n_samples = args.samples or (200 if args.quick else 1000)
    hm.settings.verbosity = 0

    adata = _cohort(n_samples)
    hm.tl.immune_scores(adata[:5].copy())  # warm caches (gene-set tables, imports)
    _, ours_s, ours_mib = _timed(hm.tl.immune_scores, adata, repeats=3)
    ours_immune = adata.obsm["immune"]["estimate_immune"].to_numpy()
    base_immune, base_s, base_mib = _timed(_baseline_estimate, adata)
    max_diff = float(np.abs(ours_immune - base_immune).max())
    _, est_s, est_mib = _timed(hm.tl.immune_scores, adata, repeats=3, methods=["estimate"], key_added="only_estimate")

    rows = {
        "harmonomics immune_scores (all methods)": {"seconds": ours_s, "peak_traced_mib": ours_mib},
        "harmonomics immune_scores (ESTIMATE only)": {"seconds": est_s, "peak_traced_mib": est_mib},
        "baseline: per-sample ESTIMATE loop (immune score only)": {
            "seconds": base_s,
            "peak_traced_mib": base_mib,
        },
    }
    for row in rows.values():
        row["ratio_vs_baseline"] = row["seconds"] / base_s
    result = {
        "benchmark": "immune",
        "samples": n_samples,
        "genes": adata.n_vars,
        "target_s": TARGET_S,
        "rows": rows,
        "max_abs_diff_estimate_immune_vs_baseline": max_diff,
        "meets_target": ours_s < TARGET_S if n_samples >= 1000 else None,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "immune.json").write_text(json.dumps(result, indent=2))
    lines = [
        f"Immune scores on {n_samples:,} samples × {adata.n_vars:,} genes (counts, SYMBOL|ENTREZ IDs).",
        "",
        "Times: median of 3 runs (baseline: 1 run), wall clock on a shared machine.",
        "",
        "| run | time (s) | ratio vs baseline | peak traced memory (MiB, second traced run) |",
        "|---|---|---|---|",
        *(
            f"| {name} | {r['seconds']:.2f} | {r['ratio_vs_baseline']:.2f} | {r['peak_traced_mib']:.0f} |"
            for name, r in rows.items()
        ),
        "",
        f"ESTIMATE immune score, vectorised vs loop: max abs difference {max_diff:.2e}.",
        f"Process peak RSS {result['peak_rss_mib']:.0f} MiB; {os.cpu_count()} CPUs.",
    ]
    if n_samples >= 1000:
        lines.append(f"Target: all scores under {TARGET_S:.0f} s — {'met' if result['meets_target'] else 'NOT met'}.")
    (RESULTS / "immune.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
