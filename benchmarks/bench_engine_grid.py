"""Engine grid: does the default fit (fast engine, randomized-SVD init, "factors" rule) reach mofapy2's default
solution?

Usage::

    python benchmarks/bench_engine_grid.py --quick     # three small points, mofapy2 itself on each (~5-10 min)
    python benchmarks/bench_engine_grid.py             # the full grid (N 200-5,000, D 2,000-50,000)

For every point of a grid of planted models (``harmonomics.models._fast_sim.simulate``: planted factors of
log-uniform strengths, weak ones included; samples missing per view; some points with a bernoulli view or with
30 % of the samples missing per view) it fits

* **default**: what ``hm.tl.mofa`` does by default with the fast engine: the randomized-SVD initialisation and
  the "factors" stopping rule;
* **reference**: mofapy2's default solution: mofapy2's PCA initialisation and its "medium" convergence test,
  computed by the fast engine in float64 (the same iterates as mofapy2 to round-off; tests/models/
  test_fast_engine.py::test_equivalence_float64), because mofapy2 itself takes minutes to hours on the larger points;
* **mofapy2**: mofapy2 itself, same options as the reference, on the points with N x D <= ``--mofapy2-max-cells``,
  which checks the reference.

and reports iterations, build and training time, planted-factor recovery (per planted factor, the best |r|
over fitted factors), and the agreement of the default with the reference: every planted factor the reference
learns (|r| >= 0.5) is carried by default and reference factors that correlate at |r| >= 0.99, and the
recovery of every planted factor is within 0.01 of the reference's. Writes ``results/engine_grid.json`` and
``engine_grid.md`` (``*.quick.*`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from harmonomics.models._fast_sim import fit, recovery, simulate  # noqa: E402

BRCA = (5000, 5000, 200, 2000, 200)
G3 = ("gaussian", "gaussian", "gaussian")
GB = ("gaussian", "gaussian", "gaussian", "gaussian", "bernoulli")


def _views(D: int, n: int) -> tuple:
    """Split D features over n views (one large, the rest smaller), like the TCGA design."""
    w = np.array([5, 5, 0.2, 2, 0.2][:n]) if n == 5 else np.array([5, 4, 1][:n])
    out = np.maximum(np.round(D * w / w.sum()).astype(int), 20)
    return tuple(int(x) for x in out)


# name, N, D, planted, fitted K, likelihoods, missing fraction of samples per view, strength range, sim seed
QUICK = [
    ("small gaussian", 200, 2000, 5, 10, G3, 0.1, (0.35, 1.2), 0),
    ("weak factors + bernoulli", 300, 2000, 10, 15, GB, 0.1, (0.2, 1.0), 2),
    ("missing views 30%", 300, 3000, 8, 12, G3, 0.3, (0.35, 1.2), 4),
]
FULL = QUICK + [
    ("slow weak factors (test model)", 500, 3100, 10, 15, GB, 0.1, (0.35, 1.2), 1),
    ("engine benchmark shape", 1000, 12400, 10, 15, GB, 0.1, (0.35, 1.2), 1),
    ("20 factors", 2000, 20000, 20, 25, GB, 0.1, (0.3, 1.2), 5),
    ("many samples, missing views", 5000, 5000, 15, 20, GB, 0.3, (0.3, 1.2), 6),
    ("wide", 500, 50000, 10, 15, G3, 0.1, (0.3, 1.2), 7),
]


def planted_matches(planted: np.ndarray, ref: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Per planted factor learned by ``ref`` (|r| >= 0.5): |corr| of the ``ref`` and ``new`` factors carrying it."""

    def unit(z):
        z = z - z.mean(axis=0)
        sd = np.sqrt((z * z).sum(axis=0))
        return z / np.where(sd > 0, sd, 1.0)

    p, a, b = unit(planted), unit(ref), unit(new)
    ca, cb = np.abs(p.T @ a), np.abs(p.T @ b)
    learned = ca.max(axis=1) >= 0.5
    ia, ib = ca.argmax(axis=1)[learned], cb.argmax(axis=1)[learned]
    return np.abs(np.einsum("nk,nk->k", a[:, ia], b[:, ib]))


def one_fit(sim, K, *, engine="fast", **kw) -> tuple[dict, np.ndarray]:
    res = fit(sim.data, sim.likelihoods, engine=engine, n_factors=K, seed=0, maxiter=3000, scale_views=True, **kw)
    rec = recovery(sim.Z, res.Z)
    info = res.engine_info or {}
    out = {
        "n_iter": int(res.n_iter),
        "build_s": round(res.time_build, 3),
        "train_s": round(res.time_train, 3),
        "total_s": round(res.time_build + res.time_train, 3),
        "recovery": [round(float(r), 4) for r in rec],
        "recovery_min": float(rec.min()),
        "recovery_mean": float(rec.mean()),
        "stopped_at": (info.get("stopping_state") or {}).get("stopped_at"),
    }
    Z = res.Z
    del res
    gc.collect()
    return out, Z


def run_point(point, *, mofapy2_max_cells: float) -> dict:
    name, N, D, planted, K, liks, miss, strength, seed = point
    views = _views(D, len(liks))
    sim = simulate(N, views, liks, n_factors=planted, missing_fraction=miss, strength_range=strength, seed=seed)
    row = {
        "name": name,
        "N": N,
        "D": int(sum(views)),
        "views": list(views),
        "likelihoods": list(liks),
        "planted": planted,
        "K": K,
        "missing_samples": miss,
        "strength_range": list(strength),
        "sim_seed": seed,
    }
    row["default"], z_new = one_fit(sim, K, stopping="factors", init="svd")
    row["reference"], z_ref = one_fit(sim, K, stopping=None, convergence_mode="medium", init="pca")
    m = planted_matches(sim.Z, z_ref, z_new)
    diff = np.abs(np.asarray(row["default"]["recovery"]) - np.asarray(row["reference"]["recovery"]))
    row["agreement"] = {
        "planted_learned_by_reference": int(m.size),
        "matched_corr_min": float(m.min()) if m.size else float("nan"),
        "recovery_max_abs_diff": float(diff.max()),
        "ok": bool((m.size == 0 or m.min() >= 0.99) and diff.max() <= 0.01),
    }
    if N * sum(views) <= mofapy2_max_cells:
        row["mofapy2"], z_m = one_fit(sim, K, engine="mofapy2", convergence_mode="medium", init="pca")
        mm = planted_matches(sim.Z, z_m, z_ref)
        row["reference_vs_mofapy2_matched_corr_min"] = float(mm.min()) if mm.size else float("nan")
        mn = planted_matches(sim.Z, z_m, z_new)
        dn = np.abs(np.asarray(row["default"]["recovery"]) - np.asarray(row["mofapy2"]["recovery"]))
        row["agreement_with_mofapy2"] = {
            "matched_corr_min": float(mn.min()) if mn.size else float("nan"),
            "recovery_max_abs_diff": float(dn.max()),
            "ok": bool((mn.size == 0 or mn.min() >= 0.99) and dn.max() <= 0.01),
        }
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="three small points")
    ap.add_argument("--only", type=int, nargs="*", help="indices of grid points to run (default: all)")
    ap.add_argument("--mofapy2-max-cells", type=float, default=1e6, help="run mofapy2 itself where N x D <= this")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    grid = QUICK if args.quick else FULL
    if args.only:
        grid = [grid[i] for i in args.only]
    result = {
        "benchmark": "engine_grid",
        "quick": args.quick,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_start": list(os.getloadavg()),
            "blas_threads": args.threads,
        },
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rows": [],
    }
    stem = "engine_grid" + (".quick" if args.quick else "")
    args.out.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for point in grid:
            row = run_point(point, mofapy2_max_cells=args.mofapy2_max_cells)
            row["loadavg"] = list(os.getloadavg())
            result["rows"].append(row)
            # written after every point: a long grid interrupted still leaves its finished points
            result["machine"]["loadavg_end"] = list(os.getloadavg())
            (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1))
            (args.out / f"{stem}.md").write_text(render_md(result))
            print(render_md(result).splitlines()[-1], flush=True)
    print((args.out / f"{stem}.md").read_text())


def render_md(r) -> str:
    mc = r["machine"]
    lines = [
        f"# Engine grid{' (quick)' if r['quick'] else ''}: the default fit against mofapy2's default solution",
        "",
        (
            f"{r['time_utc']}, {mc['cpus']} CPUs shared with other jobs (load average {mc['loadavg_start'][0]:.1f} at "
            f"start, {mc.get('loadavg_end', [float('nan')])[0]:.1f} at end), BLAS threads {mc['blas_threads']}. "
            "default = fast engine, randomized-SVD init, 'factors' rule (hm.tl.mofa's default); reference = mofapy2's "
            "PCA init and 'medium' test, computed by the fast engine in float64 (mofapy2's iterates to round-off); "
            "mofapy2 = mofapy2 itself (small points). Recovery: per planted factor, best |r| over fitted factors. "
            "matched |r|: for every planted factor the reference learns (|r| >= 0.5), the correlation of the default's "
            "and the reference's factors carrying it. Times in seconds (build + training), wall clock on a shared "
            "machine."
        ),
        "",
        "| point | N | D | planted / K | default: iter, build + train s | reference: iter, s | mofapy2: iter, s | "
        "recovery min / mean (default) | (reference) | matched \\|r\\| min | max \\|Δ recovery\\| | matches |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        d, ref, a = row["default"], row["reference"], row["agreement"]
        mp = row.get("mofapy2")
        mps = f"{mp['n_iter']}, {mp['total_s']:.1f}" if mp else "not run"
        ok = "yes" if a["ok"] else "**no**"
        if "agreement_with_mofapy2" in row:
            ok += " (mofapy2 itself: " + ("yes" if row["agreement_with_mofapy2"]["ok"] else "**no**") + ")"
        lines.append(
            f"| {row['name']} | {row['N']} | {row['D']} | {row['planted']} / {row['K']} | "
            f"{d['n_iter']}, {d['build_s']:.1f} + {d['train_s']:.1f} | {ref['n_iter']}, {ref['total_s']:.1f} | {mps} | "
            f"{d['recovery_min']:.3f} / {d['recovery_mean']:.3f} | {ref['recovery_min']:.3f} / "
            f"{ref['recovery_mean']:.3f} | {a['matched_corr_min']:.4f} | {a['recovery_max_abs_diff']:.4f} | {ok} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
