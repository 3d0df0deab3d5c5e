"""Benchmark: methylation at array scale, out of core.

A synthetic GDC methylation folder (default 1,000 samples × 450,000 probes, ~8 GB of text) is
1. read once with plain pyarrow (the baseline: parse every file, keep nothing), and
2. streamed into a chunked zarr store by ``hm.io.stream_to_zarr``, then reduced out of core by
   ``hm.pp.feature_stats`` and ``hm.pp.top_variance_features`` to 5,000 probes, whose values are loaded.

Each step runs in its own subprocess so that its peak resident memory (ru_maxrss) is its own.
Targets (issue 10): peak memory under 2 GB; time comparable to reading the files once with pyarrow.

Usage:
    python benchmarks/bench_scale.py                 # 1,000 × 450,000 (needs ~9 GB of disk, ~10 min)
    python benchmarks/bench_scale.py --quick         # 100 × 50,000
Writes benchmarks/results/scale.json and benchmarks/results/scale.md. The folder is kept in
benchmarks/_data/ (git-ignored) and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DATA = HERE / "_data"
MEMORY_TARGET_GB = 2.0


def write_methylation_folder(folder: Path, n_samples: int, n_probes: int, seed: int = 0) -> list[Path]:
    """GDC-style beta files: no header, ``cgXXXXXXXX<TAB>0.1234`` or ``<TAB>NA`` for masked probes."""
    marker = folder / "COMPLETE"
    files = [folder / f"{i:05d}" / f"sample{i:05d}.methylation_array.sesame.level3betas.txt" for i in range(n_samples)]
    if marker.exists():
        return files
    shutil.rmtree(folder, ignore_errors=True)
    rng = np.random.default_rng(seed)
    # fixed-width rows (10 + 1 + 6 + 1 bytes) built as a byte matrix; NA rows are shortened by a keep-mask
    probe_ids = np.array([f"cg{i:08d}" for i in range(n_probes)], dtype="S10").view(np.uint8).reshape(n_probes, 10)
    probe_means = rng.beta(2, 3, size=n_probes)
    digits = np.array(list(b"0123456789"), dtype=np.uint8)
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        values = np.clip(probe_means + rng.normal(0, 0.08, n_probes), 0, 1)
        ticks = np.rint(values * 10_000).astype(np.int64)
        rows = np.empty((n_probes, 18), dtype=np.uint8)
        rows[:, :10] = probe_ids
        rows[:, 10] = ord("\t")
        rows[:, 11] = np.where(ticks == 10_000, ord("1"), ord("0"))
        rows[:, 12] = ord(".")
        frac = ticks % 10_000
        for position, divisor in zip(range(13, 17), (1000, 100, 10, 1), strict=True):
            rows[:, position] = digits[(frac // divisor) % 10]
        rows[:, 17] = ord("\n")
        masked = rng.random(n_probes) < 0.01
        rows[masked, 11:14] = np.frombuffer(b"NA\n", dtype=np.uint8)
        keep = np.ones_like(rows, dtype=bool)
        keep[masked, 14:] = False
        path.write_bytes(rows[keep].tobytes())
    marker.write_text(f"{n_samples} {n_probes} {seed}\n")
    return files


# Each step is a small script run in a fresh interpreter; it prints one JSON line.
_BASELINE = """
import json, resource, sys, time
import pyarrow as pa, pyarrow.csv as csv
files = sys.argv[1:]
t = time.perf_counter()
n = 0
opts = csv.ReadOptions(column_names=["probe", "beta"])
parse = csv.ParseOptions(delimiter="\\t")
conv = csv.ConvertOptions(column_types={"probe": pa.string(), "beta": pa.float32()}, null_values=["NA"])
for f in files:
    n += csv.read_csv(f, read_options=opts, parse_options=parse, convert_options=conv).num_rows
print(json.dumps({"seconds": time.perf_counter() - t, "rows": n,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_HARMONOMICS = """
import json, resource, sys, time
import numpy as np
import harmonomics as hm
hm.settings.verbosity = 0
out, n_top, chunk, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
t0 = time.perf_counter()
hm.io.stream_to_zarr(files, out, chunk_samples=chunk)
t1 = time.perf_counter()
lazy = hm.store.read(out, backed=True)
stats = hm.pp.feature_stats(lazy, mod="meth")
selected = hm.pp.top_variance_features(stats, n_top)
values = np.asarray(lazy["meth"][:, selected].X.compute())
t2 = time.perf_counter()
print(json.dumps({"stream_seconds": t1 - t0, "select_seconds": t2 - t1, "seconds": t2 - t0,
                  "selected_shape": list(values.shape),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(script: str, *args: str) -> dict:
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"benchmark step failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="methylation out-of-core benchmark")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--probes", type=int, default=450_000)
    parser.add_argument("--top", type=int, default=5000)
    parser.add_argument("--chunk-samples", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="100 samples × 50,000 probes")
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.probes = 100, 50_000

    folder = DATA / f"meth_{args.samples}x{args.probes}"
    t = time.perf_counter()
    files = write_methylation_folder(folder, args.samples, args.probes)
    generate_s = time.perf_counter() - t
    size_gb = sum(f.stat().st_size for f in files) / 1e9
    file_args = [str(f) for f in files]

    baseline = _run(_BASELINE, *file_args)
    out = DATA / f"meth_{args.samples}x{args.probes}.zarr"
    ours = _run(_HARMONOMICS, str(out), str(args.top), str(args.chunk_samples), *file_args)
    shutil.rmtree(out, ignore_errors=True)

    result = {
        "benchmark": "scale_methylation",
        "samples": args.samples,
        "probes": args.probes,
        "text_gb": round(size_gb, 2),
        "generate_seconds": round(generate_s, 1),
        "baseline_pyarrow_read": baseline,
        "harmonomics_stream_select": ours,
        "time_ratio_vs_pyarrow": ours["seconds"] / baseline["seconds"],
        "memory_target_gb": MEMORY_TARGET_GB,
        "meets_memory_target": ours["peak_rss_mb"] / 1024 < MEMORY_TARGET_GB,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(result, indent=2))
    lines = [
        f"Methylation, {args.samples:,} samples × {args.probes:,} probes ({size_gb:.1f} GB of text), "
        f"top-variance selection to {args.top:,} probes.",
        "",
        "| step | time (s) | ratio vs pyarrow read | peak RSS (MB) |",
        "|---|---|---|---|",
        f"| baseline: read every file once with pyarrow | {baseline['seconds']:.1f} | 1.00 | "
        f"{baseline['peak_rss_mb']:.0f} |",
        f"| harmonomics: stream to chunked zarr | {ours['stream_seconds']:.1f} | "
        f"{ours['stream_seconds'] / baseline['seconds']:.2f} | |",
        f"| harmonomics: out-of-core variance + load {args.top:,} probes | {ours['select_seconds']:.1f} | "
        f"{ours['select_seconds'] / baseline['seconds']:.2f} | |",
        f"| harmonomics: total | {ours['seconds']:.1f} | {result['time_ratio_vs_pyarrow']:.2f} | "
        f"{ours['peak_rss_mb']:.0f} |",
        "",
        f"Memory target (< {MEMORY_TARGET_GB:.0f} GB peak RSS): "
        f"{'met' if result['meets_memory_target'] else 'NOT met'}.",
    ]
    (RESULTS / "scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
