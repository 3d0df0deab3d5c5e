"""Benchmark: how long `import harmonomics` takes, against `import numpy` measured in the same run.

Usage: python benchmarks/bench_import.py [--repeats N]
Writes benchmarks/results/import.json and benchmarks/results/import.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_S = 2.0


def _time_import(module: str) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MiB) of a fresh interpreter importing ``module``."""
    code = (
        f"import time, resource; t = time.perf_counter(); import {module}; "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    rows = {}
    for module in ("numpy", "pandas", "harmonomics", "anndata"):
        runs = [_time_import(module) for _ in range(repeats)]
        rows[module] = {
            "median_s": statistics.median(t for t, _ in runs),
            "peak_rss_mib": max(m for _, m in runs),
        }
    base = rows["numpy"]["median_s"]
    for row in rows.values():
        row["ratio_vs_numpy"] = row["median_s"] / base
    result = {
        "benchmark": "import",
        "repeats": repeats,
        "target_s": TARGET_S,
        "rows": rows,
        "meets_target": rows["harmonomics"]["median_s"] < TARGET_S,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import.json").write_text(json.dumps(result, indent=2))
    lines = [
        "| import | median time (s) | ratio vs `import numpy` | peak RSS (MiB) |",
        "|---|---|---|---|",
        *(
            f"| `{m}` | {r['median_s']:.3f} | {r['ratio_vs_numpy']:.2f} | {r['peak_rss_mib']:.0f} |"
            for m, r in rows.items()
        ),
        "",
        f"Target: `import harmonomics` under {TARGET_S:.0f} s — {'met' if result['meets_target'] else 'NOT met'}.",
    ]
    (RESULTS / "import.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
