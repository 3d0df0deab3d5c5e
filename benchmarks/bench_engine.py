"""Factor-engine benchmark: mofapy2 0.7.5 vs the fast engine (float64, float32) on TCGA-BRCA-sized data.

Usage::

    python benchmarks/bench_engine.py            # full benchmark (~15-25 min on 2 cores)
    python benchmarks/bench_engine.py --quick    # small shapes, ~1-2 min

Data: a seeded planted-factor model (``harmonomics.models._fast_sim.simulate``): N=1000 samples; views of
5000, 5000, 200, 2000 gaussian features + 200 bernoulli; 10% of the samples missing per view; 10 planted
factors; K=15 fitted. Options: mofapy2's ``set_train_options`` defaults (freqELBO=5, startSparsity=50,
ARD + spike-and-slab on the weights), seed 1.

Reported (all measured in the same run, same process):

* time per iteration: median over a fixed number of iterations (mofapy2: ``--mofapy2-iters``, default 10;
  the fast engine: 20);
* the matmul floor: the three ``N x D x K`` products an iteration needs per view (Y W, Z^T Y, Z^T Y,
  6 N D K flops) timed alone on the same shapes and dtype;
* full fits of the fast engine to mofapy2's "medium" convergence and with the window stopping rule
  (iterations, seconds, planted-factor recovery). mofapy2's full fit is NOT run: its time is extrapolated as
  (its measured time per iteration) x (iterations of the equivalent float64 "medium" fit) + its build time,
  and labelled as extrapolated;
* peak memory (tracemalloc, numpy allocations) of build + fixed-iteration training for every engine, next
  to the prediction of ``harmonomics.models._memory.estimate_memory``;
* a scaling sweep of the fast engine's time per iteration over N, D and K (few iterations each).

Writes ``benchmarks/results/engine.json`` and ``engine.md`` (``engine.threads<n>.*`` with ``--threads n``,
``*.quick.*`` with ``--quick``). ``--threads`` (default 1) sets the BLAS threads of every engine and of the floor.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from harmonomics.models._fast_engine import accelerate
from harmonomics.models._fast_sim import build, fit, recovery, simulate
from harmonomics.models._memory import memory_breakdown


def _median_ms(ts) -> float:
    return float(np.median(ts) * 1e3)


def matmul_floor(sim, K: int, dtype, repeats: int = 7) -> tuple[float, float]:
    """(wall s, CPU s) for the 6 N D K flops of one iteration: per view Y W, Z^T Y, Z^T Y (missing rows as zeros)."""
    rng = np.random.default_rng(0)
    Ys = [np.nan_to_num(y).astype(dtype) for y in sim.data]
    Z = rng.standard_normal((Ys[0].shape[0], K)).astype(dtype)
    Ws = [rng.standard_normal((y.shape[1], K)).astype(dtype) for y in Ys]
    Zt = np.ascontiguousarray(Z.T)

    def once():
        for y, w in zip(Ys, Ws, strict=False):
            y @ w
            Zt @ y
            Zt @ y

    once()
    ts, cs = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        once()
        ts.append(time.perf_counter() - t)
        cs.append(time.process_time() - c)
    return float(np.median(ts)), float(np.median(cs))


def warm_up():
    """Import mofapy2/sklearn and build once, so import-time allocations do not count as fit memory."""
    sim = simulate(40, (20, 20), ("gaussian", "bernoulli"), n_factors=2, seed=0)
    fit(sim.data, sim.likelihoods, engine="fast", n_factors=2, maxiter=3, nostop=True)
    fit(sim.data, sim.likelihoods, engine="mofapy2", n_factors=2, maxiter=3, nostop=True)


def timed_fit(sim, *, engine, float32=False, n_iter, K, track_memory=True, **kw):
    """Build + train a fixed number of iterations; return per-iteration times and tracemalloc peak."""
    gc.collect()
    if track_memory:
        tracemalloc.start()
    t0 = time.perf_counter()
    res = fit(
        sim.data,
        sim.likelihoods,
        engine=engine,
        float32=float32,
        n_factors=K,
        maxiter=n_iter + 1,
        nostop=True,
        **kw,
    )
    total = time.perf_counter() - t0
    peak = None
    if track_memory:
        _, peak = tracemalloc.get_traced_memory()
        peak = max(peak, res.extra["build_peak"])
        tracemalloc.stop()
    it = res.iter_times
    out = {
        "engine": engine,
        "float32": float32,
        "n_iter": int(res.n_iter),
        "per_iter_ms": _median_ms(it),
        "per_iter_ms_all": [round(float(x) * 1e3, 2) for x in it],
        "cpu_per_iter_ms": res.extra["cpu_train"] / max(res.n_iter, 1) * 1e3,
        "build_s": res.time_build,
        "train_s": res.time_train,
        "total_s": total,
        "peak_bytes": int(peak) if peak is not None else None,
        "train_peak_bytes": int(res.extra["train_peak"]) if track_memory else None,
    }
    del res
    gc.collect()
    return out


def full_fit(sim, *, float32, K, stopping, convergence_mode="medium", maxiter=1000, **kw):
    res = fit(
        sim.data,
        sim.likelihoods,
        engine="fast",
        float32=float32,
        n_factors=K,
        maxiter=maxiter,
        convergence_mode=convergence_mode,
        stopping=stopping,
        **kw,
    )
    rec = recovery(sim.Z, res.Z)
    out = {
        "float32": float32,
        "stopping": stopping if isinstance(stopping, (str, type(None))) else dict(stopping),
        "convergence_mode": convergence_mode,
        "init": kw.get("init", "pca"),
        "n_iter": int(res.n_iter),
        "build_s": res.time_build,
        "train_s": res.time_train,
        "cpu_train_s": res.extra["cpu_train"],
        "total_s": res.time_build + res.time_train,
        "per_iter_ms": _median_ms(res.iter_times),
        "recovery": [round(float(r), 4) for r in rec],
        "recovery_mean": float(rec.mean()),
        "recovery_min": float(rec.min()),
        "final_elbo": float(res.elbo[~np.isnan(res.elbo)][-1]),
    }
    Z = res.Z
    del res
    gc.collect()
    return out, Z


def hm_default_fit(sim, *, K, sim_names=("rna", "meth", "prot", "cnv", "mut")):
    """``hm.tl.mofa(mdata)`` with its defaults (only ``n_factors`` set) on the planted data as a MuData store.

    Samples absent from a view are absent from that modality (as in real data). Returns the whole-fit wall
    time, the build / training split recorded in ``uns``, recovery and the tracemalloc peak of the call.
    """
    import anndata as ad
    import mudata as md
    import pandas as pd

    import harmonomics as hm

    obs = np.array([f"s{i}" for i in range(sim.Z.shape[0])])
    mods = {}
    for m, (y, gone) in enumerate(zip(sim.data, sim.missing, strict=False)):
        keep = ~gone
        var = pd.DataFrame(index=[f"{sim_names[m]}_{j}" for j in range(y.shape[1])])
        mods[sim_names[m]] = ad.AnnData(y[keep], obs=pd.DataFrame(index=obs[keep]), var=var)
    mdata = md.MuData(mods)
    # peak memory from a second, identical call under tracemalloc (it slows mofapy2's Python code)
    gc.collect()
    tracemalloc.start()
    hm.tl.mofa(mdata.copy(), n_factors=K)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()
    t0 = time.perf_counter()
    hm.tl.mofa(mdata, n_factors=K)
    wall = time.perf_counter() - t0
    u = mdata.uns["mofa"]
    pos = pd.Index(obs).get_indexer(mdata.obs_names)
    rec = recovery(sim.Z[pos], np.asarray(mdata.obsm["mofa"]))
    out = {
        "call": "hm.tl.mofa(mdata, n_factors=K), all other arguments default",
        "convergence": str(u["options"]["convergence"]),
        "init": str(u["options"]["init"]),
        "n_iter": int(u["n_iterations"]),
        "wall_s": wall,
        "time_s": float(u["time_s"]),
        "time_build_s": float(u["time_build_s"]),
        "time_train_s": float(u["time_train_s"]),
        "stopping": {k: (v if isinstance(v, str) else float(v)) for k, v in u["stopping"].items()},
        "recovery": [round(float(r), 4) for r in rec],
        "recovery_mean": float(rec.mean()),
        "recovery_min": float(rec.min()),
        "peak_bytes": int(peak),
    }
    del mdata
    gc.collect()
    return out


def scaling(quick: bool, K0: int):
    """Fast-engine float64 time per iteration over N, D and K (gaussian views, 10% missing samples)."""
    if quick:
        grid_N, grid_D, grid_K, n_it = [150, 300], [1000, 3000], [5, 15], 3
        baseN, baseD = 300, 2000
    else:
        grid_N, grid_D, grid_K, n_it = (
            [250, 500, 1000, 2000],
            [2000, 5000, 10000, 20000, 50000],
            [5, 10, 15, 20, 30],
            5,
        )
        baseN, baseD = 1000, 10000
    rows = []

    def one(N, D, K):
        views = [D // 2, D // 2 - D // 10, D // 10]
        sim = simulate(N, views, ["gaussian"] * 3, n_factors=min(10, K), seed=2)
        ent = build(sim.data, sim.likelihoods, n_factors=K, maxiter=n_it + 1, nostop=True)
        accelerate(ent.model)
        with contextlib.redirect_stdout(io.StringIO()):
            ent.run()
        it = np.asarray(ent.model.getTrainingStats()["time"], dtype=float)[1:]
        it = it[~np.isnan(it)]
        floors = [matmul_floor(sim, K, np.float64, repeats=1)[0] for _ in range(5)]
        del ent, sim
        gc.collect()
        # minimum over iterations / repeats: the least perturbed by other jobs on a shared machine
        return {
            "N": N,
            "D": D,
            "K": K,
            "per_iter_ms": float(np.min(it) * 1e3),
            "per_iter_ms_median": _median_ms(it),
            "floor_ms": float(np.min(floors) * 1e3),
        }

    for N in grid_N:
        rows.append({"sweep": "N", **one(N, baseD, K0)})
    for D in grid_D:
        rows.append({"sweep": "D", **one(baseN, D, K0)})
    for K in grid_K:
        rows.append({"sweep": "K", **one(baseN, baseD, K)})

    def slope(sweep, x):
        r = [row for row in rows if row["sweep"] == sweep]
        xs = np.log([row[x] for row in r])
        ys = np.log([row["per_iter_ms"] for row in r])
        return float(np.polyfit(xs, ys, 1)[0]) if len(r) > 1 else float("nan")

    return rows, {"N": slope("N", "N"), "D": slope("D", "D"), "K": slope("K", "K")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small shapes, a minute or two")
    ap.add_argument(
        "--mofapy2-iters", type=int, default=None, help="iterations timed for mofapy2 (default 10; quick 5)"
    )
    ap.add_argument("--no-scaling", action="store_true", help="skip the scaling sweep")
    ap.add_argument(
        "--sim-seed",
        type=int,
        default=1,
        help="seed of the planted model (default 1: its weakest factor is the hardest, max |r| 0.93 at convergence)",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results", help="output folder")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads for every engine and the floor (default 1: on a shared, oversubscribed machine "
        "multi-threaded BLAS is 2-5x slower for all engines; use 2 on an idle 2-core machine)",
    )
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.threads, user_api="blas"):
        run(args)


def run(args):

    quick = args.quick
    if quick:
        N, views, K, n_fast, n_ref = 300, (1000, 1000, 50, 400, 50), 10, 10, args.mofapy2_iters or 5
    else:
        N, views, K, n_fast, n_ref = 1000, (5000, 5000, 200, 2000, 200), 15, 20, args.mofapy2_iters or 10
    liks = ("gaussian", "gaussian", "gaussian", "gaussian", "bernoulli")
    sim = simulate(N, views, liks, n_factors=10, missing_fraction=0.1, seed=args.sim_seed)
    window = "window"
    # whole fits use hm.tl.mofa's defaults: views scaled, seed 0
    hm_opts = {"scale_views": True, "seed": 0}

    result = {
        "benchmark": "engine",
        "quick": quick,
        "shape": {
            "N": N,
            "views": list(views),
            "likelihoods": list(liks),
            "K": K,
            "planted": 10,
            "missing_samples": 0.1,
            "sim_seed": args.sim_seed,
        },
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_start": list(os.getloadavg()),
            "python": platform.python_version(),
            "blas_threads": args.threads,
            "numpy": np.__version__,
        },
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    warm_up()
    # --- matmul floor (before) ------------------------------------------------------------------------
    f64a, f32a = matmul_floor(sim, K, np.float64), matmul_floor(sim, K, np.float32)
    # --- fixed-iteration timing + memory ------------------------------------------------------------------
    per = {}
    per["mofapy2"] = timed_fit(sim, engine="mofapy2", n_iter=n_ref, K=K)
    per["fast64"] = timed_fit(sim, engine="fast", n_iter=n_fast, K=K)
    per["fast32"] = timed_fit(sim, engine="fast", float32=True, n_iter=n_fast, K=K)
    f64b, f32b = matmul_floor(sim, K, np.float64), matmul_floor(sim, K, np.float32)
    floor64, floor32 = min(f64a[0], f64b[0]), min(f32a[0], f32b[0])
    cfloor64, cfloor32 = min(f64a[1], f64b[1]), min(f32a[1], f32b[1])
    result["matmul_floor_ms"] = {
        "float64": floor64 * 1e3,
        "float32": floor32 * 1e3,
        "float64_cpu": cfloor64 * 1e3,
        "float32_cpu": cfloor32 * 1e3,
        "float64_before_after": [f64a[0] * 1e3, f64b[0] * 1e3],
        "float32_before_after": [f32a[0] * 1e3, f32b[0] * 1e3],
    }
    for r in per.values():
        fl = floor32 if r["float32"] else floor64
        cfl = cfloor32 if r["float32"] else cfloor64
        r["ratio_vs_floor"] = r["per_iter_ms"] / (fl * 1e3)
        r["cpu_ratio_vs_floor"] = r["cpu_per_iter_ms"] / (cfl * 1e3)
        r["speedup_vs_mofapy2"] = per["mofapy2"]["per_iter_ms"] / r["per_iter_ms"]
        r["cpu_speedup_vs_mofapy2"] = per["mofapy2"]["cpu_per_iter_ms"] / r["cpu_per_iter_ms"]
        mem = memory_breakdown(
            N,
            list(views),
            K,
            r["float32"],
            engine="fast" if r["engine"] == "fast" else "mofapy2",
            likelihoods=liks,
        )
        r["predicted_peak_bytes"] = mem["peak"]
        r["predicted_train_bytes"] = mem["train"]
    result["per_iteration"] = per
    # --- full fits -------------------------------------------------------------------------------------
    fits = {}
    Zs = {}
    fits["hm_default"] = hm_default_fit(sim, K=K)
    fits["fast64_factors_svd"], Zs["fast64_factors_svd"] = full_fit(
        sim, float32=False, K=K, stopping="factors", init="svd", **hm_opts
    )
    fits["fast32_factors_svd"], _ = full_fit(sim, float32=True, K=K, stopping="factors", init="svd", **hm_opts)
    fits["fast64_medium"], Zs["fast64_medium"] = full_fit(sim, float32=False, K=K, stopping=None, **hm_opts)
    fits["fast32_medium"], Zs["fast32_medium"] = full_fit(sim, float32=True, K=K, stopping=None, **hm_opts)
    fits["fast64_window"], _ = full_fit(sim, float32=False, K=K, stopping=window, **hm_opts)
    fits["fast64_fast"], _ = full_fit(sim, float32=False, K=K, stopping=None, convergence_mode="fast", **hm_opts)
    ten = 10 * per["mofapy2"]["per_iter_ms"] / 1e3
    fits["budget_ten_mofapy2_iterations_s"] = ten
    fits["hm_default_within_budget"] = bool(fits["hm_default"]["wall_s"] <= ten)
    # float32 vs float64 factors (same options, "medium")
    z64, z32 = Zs["fast64_medium"], Zs["fast32_medium"]
    from bench_engine_grid import planted_matches

    pm = planted_matches(sim.Z, Zs["fast64_medium"], Zs["fast64_factors_svd"])
    fits["default_vs_medium_planted_matched_corr_min"] = float(pm.min()) if pm.size else float("nan")
    if z64.shape == z32.shape:
        c = [
            abs(np.corrcoef(z64[:, k], z32[:, k])[0, 1])
            if z64[:, k].std() > 0 and z32[:, k].std() > 0
            else float("nan")
            for k in range(z64.shape[1])
        ]
        fits["float32_vs_float64_factor_corr"] = [round(float(x), 6) for x in c]
    ref_iter = fits["fast64_medium"]["n_iter"]
    fits["mofapy2_medium_extrapolated"] = {
        "extrapolated": True,
        "n_iter": ref_iter,
        "total_s": per["mofapy2"]["build_s"] + ref_iter * per["mofapy2"]["per_iter_ms"] / 1e3,
        "recovery_min": fits["fast64_medium"]["recovery_min"],
        "recovery_mean": fits["fast64_medium"]["recovery_mean"],
        "note": (
            f"mofapy2 was timed for {n_ref} iterations only; total = its build time + {ref_iter} iterations "
            "(the iteration count of the numerically equivalent fast float64 'medium' fit) x its median time per "
            "iteration"
        ),
    }
    result["full_fit"] = fits
    # --- scaling ------------------------------------------------------------------------------------------
    stem = "engine" if args.threads == 1 else f"engine.threads{args.threads}"
    if args.quick:  # never overwrite the full results with a quick run
        stem += ".quick"
    if not args.no_scaling:
        rows, slopes = scaling(quick, K)
        result["scaling"] = {"rows": rows, "loglog_slopes": slopes, "time_utc": result["time_utc"]}
    else:  # keep the last sweep, with its date, so that the README stitched from results/ loses nothing
        previous = args.out / f"{stem}.json"
        if previous.exists() and "scaling" in (old := json.loads(previous.read_text())):
            result["scaling"] = {"time_utc": old.get("time_utc", "an earlier run"), **old["scaling"]}
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1))
    (args.out / f"{stem}.md").write_text(render_md(result))
    print((args.out / f"{stem}.md").read_text())


def render_md(r) -> str:
    s = r["shape"]
    per = r["per_iteration"]
    fl = r["matmul_floor_ms"]
    mb = 1024**2
    lines = [
        f"# Factor engine benchmark{' (quick)' if r['quick'] else ''}",
        "",
        (
            f"N={s['N']}, views={s['views']} ({', '.join(s['likelihoods'])}), K={s['K']}, {s['planted']} planted "
            f"factors, {int(s['missing_samples'] * 100)}% samples missing per view. Machine: {r['machine']['cpus']} "
            f"CPUs, BLAS threads {r['machine'].get('blas_threads', '?')}, "
            f"load average {r['machine']['loadavg_start'][0]:.1f} at start, "
            f"{r['machine']['loadavg_end'][0]:.1f} at end (shared machine), {r['time_utc']}."
        ),
        "",
        (
            f"Matmul floor (6·N·D·K flops: Y·W, Zᵀ·Y, Zᵀ·Y per view, same shapes): float64 {fl['float64']:.1f} ms, "
            f"float32 {fl['float32']:.1f} ms (CPU time: {fl['float64_cpu']:.1f} / {fl['float32_cpu']:.1f} ms)."
        ),
        "",
        "## Time per iteration (median over a fixed number of iterations; baseline = mofapy2 in the same run)",
        "",
        "| engine | iterations timed | ms / iteration | speed-up vs mofapy2 | × matmul floor | CPU ms / iteration | "
        "CPU speed-up | CPU × floor | peak memory MiB (predicted) | training-phase peak MiB (predicted) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    names = {"mofapy2": "mofapy2 0.7.5", "fast64": "fast float64", "fast32": "fast float32"}
    for k, v in per.items():
        lines.append(
            f"| {names[k]} | {v['n_iter']} | {v['per_iter_ms']:.1f} | {v['speedup_vs_mofapy2']:.1f}× | "
            f"{v['ratio_vs_floor']:.2f} | {v['cpu_per_iter_ms']:.1f} | {v['cpu_speedup_vs_mofapy2']:.1f}× | "
            f"{v['cpu_ratio_vs_floor']:.2f} | {v['peak_bytes'] / mb:.0f} ({v['predicted_peak_bytes'] / mb:.0f}) | "
            f"{v['train_peak_bytes'] / mb:.0f} ({v['predicted_train_bytes'] / mb:.0f}) |"
        )
    f = r["full_fit"]
    lines += [
        "",
        (
            "Wall-clock times depend on the other jobs sharing the machine; CPU time (process time of the training "
            "loop per iteration, all threads) is less sensitive to that. Peak memory: tracemalloc peak of build + "
            "training (numpy allocations, after a warm-up so import-time allocations are excluded); the build "
            "(mofapy2's PCA initialisation, same code for both engines) is the peak of both. Training-phase peak: "
            "tracemalloc peak during ent.run() alone (includes the data and state held since the build)."
        ),
        "",
        "## Whole fits (build included; hm.tl.mofa's defaults: views scaled, seed 0)",
        "",
        "| fit | init | stopping | iterations | total s | build s | train s | recovery mean | recovery min | peak MiB "
        "|",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    h = f["hm_default"]
    lines.append(
        f"| **hm.tl.mofa default** (fast float64) | {h['init']} | {h['convergence']} | {h['n_iter']} | "
        f"**{h['wall_s']:.1f}** (uns time_s {h['time_s']:.1f}) | {h['time_build_s']:.1f} | {h['time_train_s']:.1f} | "
        f"{h['recovery_mean']:.4f} | {h['recovery_min']:.4f} | {h['peak_bytes'] / mb:.0f} |"
    )
    m = f["mofapy2_medium_extrapolated"]
    lines.append(
        f"| mofapy2 0.7.5 float64 | pca | medium | {m['n_iter']} | **{m['total_s']:.0f} (extrapolated)** | "
        f"{per['mofapy2']['build_s']:.1f} | – | {m['recovery_mean']:.4f} | {m['recovery_min']:.4f} | "
        f"{per['mofapy2']['peak_bytes'] / mb:.0f} (fixed-iteration run) |"
    )
    for key, label in [
        ("fast64_factors_svd", "fast float64"),
        ("fast32_factors_svd", "fast float32"),
        ("fast64_medium", "fast float64"),
        ("fast32_medium", "fast float32"),
        ("fast64_window", "fast float64"),
        ("fast64_fast", "fast float64"),
    ]:
        if key not in f:
            continue
        v = f[key]
        stop = v["stopping"] or v["convergence_mode"]
        lines.append(
            f"| {label} | {v.get('init', 'pca')} | {stop} | {v['n_iter']} | {v['total_s']:.1f} | {v['build_s']:.1f} | "
            f"{v['train_s']:.1f} | {v['recovery_mean']:.4f} | {v['recovery_min']:.4f} | – |"
        )
    lines += [
        "",
        (
            f"Budget of the issue: ten mofapy2 iterations in this run = {f['budget_ten_mofapy2_iterations_s']:.1f} s; "
            f"hm.tl.mofa's default whole fit {h['wall_s']:.1f} s: "
            + ("within" if f["hm_default_within_budget"] else "**over**")
            + " budget. MOFA-FLEX: `bench_mofaflex.py` (results/mofaflex.md), in its own environment."
        ),
    ]
    lines += ["", m["note"] + ".", ""]
    if "default_vs_medium_planted_matched_corr_min" in f:
        lines += [
            (
                "Default (svd init, factors rule) vs mofapy2's default solution (fast float64 medium, pca init): "
                "factors carrying the planted factors correlate at |r| >= "
                f"{f['default_vs_medium_planted_matched_corr_min']:.4f}."
            ),
            "",
        ]
    if r.get("note"):
        lines += [f"Note: {r['note']}.", ""]
    if "float32_vs_float64_factor_corr" in f:
        c = np.asarray(f["float32_vs_float64_factor_corr"], dtype=float)
        lines.append(
            f"float32 vs float64 ('medium'): per-factor |corr| min {np.nanmin(c):.6f}, median {np.nanmedian(c):.6f}."
        )
        lines.append("")
    if "scaling" in r:
        sl = r["scaling"]["loglog_slopes"]
        lines += [
            f"## Scaling ({r['scaling'].get('time_utc', r['time_utc'])[:10]}; fast float64, time per iteration: "
            "minimum over the timed iterations; floor: minimum of 5)",
            "",
            f"log-log slopes: N {sl['N']:.2f}, D {sl['D']:.2f}, K {sl['K']:.2f}",
            "",
            "| sweep | N | D | K | ms / iteration | matmul floor ms | × floor |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in r["scaling"]["rows"]:
            lines.append(
                f"| {row['sweep']} | {row['N']} | {row['D']} | {row['K']} | {row['per_iter_ms']:.1f} | "
                f"{row['floor_ms']:.1f} | {row.get('x_floor', row['per_iter_ms'] / row['floor_ms']):.2f} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
