"""Run every benchmark and assemble one table (benchmarks/README.md's results section and results/summary.json).

    python benchmarks/run_all.py            # the full suite (long: methylation at 450k probes, 1,000-patient runs)
    python benchmarks/run_all.py --quick    # every benchmark at its small size, for a smoke check
    python benchmarks/run_all.py --only engine loading

Each benchmark is a script `bench_<name>.py` that measures harmonomics against a baseline in the same run and
writes results/<name>.json and results/<name>.md. This runner calls them one after the other (each in its own
process, so that peak memory is its own) and stitches their markdown into README.md between the markers.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"

# (name, title) in the order of the data flow
BENCHMARKS = [
    ("import", "Import time"),
    ("synthetic", "Synthetic cohort writer"),
    ("loading", "Loading a GDC download folder"),
    ("scale", "Methylation out of core"),
    ("engine", "Factor engine vs mofapy2"),
    ("mofa_wrapper", "MOFA wrapper overhead vs a direct mofapy2 fit"),
    ("memory", "Factor-fit memory: estimate vs measured"),
    ("pam50", "PAM50 and the subtype classifier"),
    ("diablo", "DIABLO (multi-block sparse PLS-DA)"),
    ("immune", "Immune scores"),
    ("precision", "Precision medicine: receptor status"),
    ("mutations", "Precision medicine: mutations and TMB"),
    ("end_to_end", "End to end: `harmonomics run` on a 1,000-patient GDC folder"),
    ("real_cohort", "End to end on the real cohort: `harmonomics run` on tcga_brca_121 (the demo)"),
]
# assembled from results/ but never run here: long (the grid) or needing an environment of their own (MOFA-FLEX,
# `bench_mofaflex.py --mofaflex-python ...`); run them by hand
RESULTS_ONLY = [
    ("engine_grid", "Engine grid: the default fit against mofapy2's default solution"),
    ("mofaflex", "MOFA-FLEX whole fit on the engine benchmark's model"),
]


def run(names: list[str], quick: bool) -> dict:
    summary = {}
    for name, _ in BENCHMARKS:
        if name not in names:
            continue
        script = HERE / f"bench_{name}.py"
        if not script.exists():
            summary[name] = {"status": "missing script"}
            continue
        args = [sys.executable, str(script)] + (["--quick"] if quick else [])
        started = time.perf_counter()
        print(f"== {name}: {' '.join(args[1:])}", flush=True)
        result = subprocess.run(args, text=True, check=False)
        summary[name] = {
            "status": "ok" if result.returncode == 0 else f"failed (exit {result.returncode})",
            "seconds": round(time.perf_counter() - started, 1),
        }
    return summary


def assemble(summary: dict, quick: bool) -> str:
    parts = [
        f"_Produced by `python benchmarks/run_all.py{' --quick' if quick else ''}` on {time.strftime('%Y-%m-%d')}, "
        f"{platform.machine()}, Python {platform.python_version()}, {_cpus()} CPUs. Every ratio is against a baseline "
        "measured in the same run; peak memory is the resident set size of the benchmark's process unless stated._",
        "",
    ]
    for name, title in _sections():
        md = RESULTS / f"{name}.md"
        parts.append(f"### {title}")
        parts.append("")
        if md.exists():
            body = md.read_text().strip().splitlines()
            while body and body[0].startswith("# "):  # the section heading comes from this runner
                body = body[1:]
            parts.append("\n".join(body).strip())
        else:
            parts.append("_not run yet_")
        status = summary.get(name)
        if status and status.get("status") != "ok":
            parts.append(f"\n_last run: {status['status']}_")
        parts.append("")
    return "\n".join(parts)


def _sections() -> list[tuple[str, str]]:
    """Every section of the results block in the data flow's order: the results-only ones follow the engine's."""
    at = next(i for i, (name, _) in enumerate(BENCHMARKS) if name == "engine") + 1
    return [*BENCHMARKS[:at], *RESULTS_ONLY, *BENCHMARKS[at:]]


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="run all harmonomics benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    parser.add_argument("--only", nargs="+", help="only these benchmarks", choices=[n for n, _ in BENCHMARKS])
    parser.add_argument("--assemble-only", action="store_true", help="rebuild README.md from results/ without running")
    args = parser.parse_args(argv)
    names = args.only or [n for n, _ in BENCHMARKS]
    summary = {} if args.assemble_only else run(names, args.quick)
    RESULTS.mkdir(exist_ok=True)
    collected = {}
    for name, _ in BENCHMARKS:
        path = RESULTS / f"{name}.json"
        if path.exists():
            collected[name] = json.loads(path.read_text())
    (RESULTS / "summary.json").write_text(json.dumps({"runs": summary, "results": collected}, indent=1, default=str))
    text = README.read_text() if README.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(f"{head}{START}\n{assemble(summary, args.quick)}\n{END}{tail}")
    print(f"wrote {README}")


if __name__ == "__main__":
    main()
