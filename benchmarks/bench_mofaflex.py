"""MOFA-FLEX whole fit on the engine benchmark's planted model: time, peak memory and recovery.

Usage::

    python benchmarks/bench_mofaflex.py            # N=1000, D=12,400 (the engine benchmark's shape; minutes)
    python benchmarks/bench_mofaflex.py --quick    # N=300, D=3,000 (about a minute)

MOFA-FLEX (PyPI ``mofaflex``) needs PyTorch and pyro, which harmonomics does not depend on, so it runs in its
own environment (``--mofaflex-python``, default ``/tmp/venv-mofaflex/bin/python``; set up with
``python3 -m venv /tmp/venv-mofaflex && /tmp/venv-mofaflex/bin/pip install torch mofaflex==0.1.2``, a CPU
build of torch is enough). This script, run with harmonomics' environment:

1. draws the planted model of ``bench_engine.py`` (``harmonomics.models._fast_sim.simulate``: N=1000; views
   of 5000, 5000, 200, 2000 gaussian + 200 bernoulli features; 10 planted factors; 10% of the samples absent
   per view; seed 1) and writes the views, the missing-sample masks and the planted factors to a temporary
   ``.npz`` (plain float/bool arrays, loaded with ``allow_pickle=False``);
2. runs this same file with ``--worker`` in the MOFA-FLEX environment: it builds a MuData in which samples
   absent from a view are absent from that modality (as ``bench_engine.py`` does for ``hm.tl.mofa``) and
   times ``mofaflex.MOFAFLEX(mdata, *presets.MOFA, ...)``: the MOFA preset (Horseshoe weight prior, Normal
   factor prior, learning rate 0.05), K=15 factors as in the engine benchmark's other fits, the bernoulli view
   given the Bernoulli likelihood, CPU, seed 0, MOFA-FLEX's default stop (early stopper, patience 100). The
   whole constructor is timed (preprocessing, initialisation, training and post-processing); peak memory is
   the worker's peak resident set size (``resource.getrusage``), reported whole and above its size before
   the fit (after torch, mofaflex and the data were loaded). MOFA-FLEX saves each fit to
   ``./mofaflex_<time>.h5`` by default; that save is part of the timed call and goes to the temporary folder;
3. computes recovery (per planted factor, the best |Pearson r| over fitted factors, as ``bench_engine.py``
   does) and writes ``results/mofaflex.json`` and ``.md`` (``mofaflex.quick.*`` with ``--quick``), with the
   ``hm.tl.mofa`` and mofapy2 rows of ``results/engine.json`` beside it (not re-run here).

``--threads`` (default 1, as ``bench_engine.py``) limits torch's and BLAS's threads in the worker.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
VIEW_NAMES = ("rna", "meth", "prot", "cnv", "mut")
DEFAULT_MOFAFLEX_PYTHON = os.environ.get("MOFAFLEX_PYTHON", "/tmp/venv-mofaflex/bin/python")


# ---------------------------------------------------------------------------------------------------------------
# worker: runs in the MOFA-FLEX environment; imports neither harmonomics nor anything it does not need
# ---------------------------------------------------------------------------------------------------------------
def worker(in_path: Path, out_path: Path, *, n_factors: int, seed: int, threads: int) -> None:
    import resource

    import torch

    torch.set_num_threads(threads)
    import anndata as ad
    import mofaflex
    import mudata as md
    import pandas as pd
    from mofaflex import DataOptions, presets

    with np.load(in_path, allow_pickle=False) as f:
        likelihoods = [str(x) for x in f["likelihoods"]]
        views = [f[f"view{m}"] for m in range(len(likelihoods))]
        missing = [f[f"missing{m}"] for m in range(len(likelihoods))]
    n = views[0].shape[0]
    obs_names = np.array([f"s{i}" for i in range(n)])
    mods = {}
    mf_likelihoods = {}
    for m, (y, gone) in enumerate(zip(views, missing, strict=False)):
        keep = ~gone
        name = VIEW_NAMES[m]
        var = pd.DataFrame(index=[f"{name}_{j}" for j in range(y.shape[1])])
        mods[name] = ad.AnnData(y[keep].astype(np.float32), obs=pd.DataFrame(index=obs_names[keep]), var=var)
        mf_likelihoods[name] = "Bernoulli" if likelihoods[m] == "bernoulli" else "Normal"
    mdata = md.MuData(mods)
    del views

    model_preset, training_preset = presets.MOFA
    # dataclasses.replace, not the options' `|`: in 0.1.2 `__or__` calls a missing `asdict` method
    options = (
        dataclasses.replace(model_preset, n_factors=n_factors, likelihoods=mf_likelihoods),
        dataclasses.replace(training_preset, device="cpu", seed=seed),
        DataOptions(plot_data_overview=False),
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    c0 = time.process_time()
    model = mofaflex.MOFAFLEX(mdata, *options)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    factors = model.get_factors(return_type="pandas")
    (group,) = factors.values()  # one group
    Z = group.reindex(obs_names).to_numpy(dtype=np.float64)
    loss = np.asarray(model.training_loss, dtype=np.float64)
    np.savez(out_path, Z=Z, loss=loss)
    info = {
        "wall_s": wall,
        "cpu_s": cpu,
        "epochs": int(loss.size),
        "final_loss": float(loss[-1]) if loss.size else float("nan"),
        "rss_before_fit_bytes": int(rss_before),
        "peak_rss_bytes": int(rss_peak),
        "n_factors": n_factors,
        "likelihoods": mf_likelihoods,
        "options": {
            "preset": "mofaflex.presets.MOFA",
            "weight_prior": str(options[0].weight_prior),
            "factor_prior": str(options[0].factor_prior),
            "init_factors": str(options[0].init_factors),
            "lr": options[1].lr,
            "max_epochs": options[1].max_epochs,
            "early_stopper_patience": options[1].early_stopper_patience,
            "batch_size": "all samples",
            "device": "cpu",
            "seed": seed,
            "torch_threads": torch.get_num_threads(),
        },
        "versions": {
            "mofaflex": mofaflex.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }
    Path(str(out_path) + ".json").write_text(json.dumps(info))


# ---------------------------------------------------------------------------------------------------------------
# driver: runs in harmonomics' environment
# ---------------------------------------------------------------------------------------------------------------
def run(args) -> dict:
    sys.path.insert(0, str(HERE.parent / "src"))
    from harmonomics.models._fast_sim import recovery, simulate

    if args.quick:
        N, views, K = 300, (1000, 1000, 50, 900, 50), 15
    else:
        N, views, K = 1000, (5000, 5000, 200, 2000, 200), 15
    liks = ("gaussian", "gaussian", "gaussian", "gaussian", "bernoulli")
    sim = simulate(N, views, liks, n_factors=10, missing_fraction=0.1, seed=args.sim_seed)

    result = {
        "benchmark": "mofaflex",
        "quick": args.quick,
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
            "threads": args.threads,
        },
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with tempfile.TemporaryDirectory(prefix="bench_mofaflex_") as tmp:
        in_path, out_path = Path(tmp) / "planted.npz", Path(tmp) / "fit.npz"
        arrays = {f"view{m}": y for m, y in enumerate(sim.data)}
        arrays.update({f"missing{m}": g for m, g in enumerate(sim.missing)})
        np.savez(in_path, likelihoods=np.array(liks), **arrays)
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
        env["TQDM_DISABLE"] = "1"
        env.pop("PYTHONPATH", None)  # the worker must see only its own environment
        cmd = [
            str(args.mofaflex_python),
            str(Path(__file__).resolve()),
            "--worker",
            str(in_path),
            str(out_path),
            "--n-factors",
            str(K),
            "--threads",
            str(args.threads),
        ]
        t0 = time.perf_counter()
        # cwd: MOFA-FLEX saves every fit to ./mofaflex_<time>.h5 by default (kept, and timed, as its default)
        proc = subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True, check=False)
        subprocess_wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"MOFA-FLEX worker failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        info = json.loads(Path(str(out_path) + ".json").read_text())
        with np.load(out_path, allow_pickle=False) as f:
            Z = f["Z"]
    rec = recovery(sim.Z, Z)
    mb = 1024**2
    result["mofaflex"] = {
        **info,
        "subprocess_wall_s": subprocess_wall,
        "peak_rss_mib": info["peak_rss_bytes"] / mb,
        "peak_rss_above_before_fit_mib": (info["peak_rss_bytes"] - info["rss_before_fit_bytes"]) / mb,
        "recovery": [round(float(r), 4) for r in rec],
        "recovery_min": float(rec.min()),
        "recovery_mean": float(rec.mean()),
    }
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    engine_json = HERE / "results" / ("engine.quick.json" if args.quick else "engine.json")
    if engine_json.exists():
        e = json.loads(engine_json.read_text())
        if e.get("shape", {}).get("N") == N and "full_fit" in e:
            h = e["full_fit"]["hm_default"]
            m = e["full_fit"]["mofapy2_medium_extrapolated"]
            result["engine_rows_not_rerun"] = {
                "source": f"results/{engine_json.name} ({e.get('time_utc', '?')})",
                "hm_default": {k: h[k] for k in ("n_iter", "wall_s", "recovery_min", "recovery_mean", "peak_bytes")},
                "mofapy2_medium_extrapolated": {
                    "n_iter": m["n_iter"],
                    "total_s": m["total_s"],
                    "recovery_min": m["recovery_min"],
                    "recovery_mean": m["recovery_mean"],
                    "peak_bytes_fixed_iteration_run": e["per_iteration"]["mofapy2"]["peak_bytes"],
                },
            }
    return result


def render_md(r: dict) -> str:
    s, f = r["shape"], r["mofaflex"]
    mb = 1024**2
    lines = [
        f"# MOFA-FLEX whole fit{' (quick)' if r['quick'] else ''}",
        "",
        (
            f"N={s['N']}, views={s['views']} ({', '.join(s['likelihoods'])}), K={s['K']}, {s['planted']} planted "
            f"factors (seed {s['sim_seed']}), {int(s['missing_samples'] * 100)}% samples missing per view: the "
            f"planted model of `bench_engine.py`. Machine: {r['machine']['cpus']} CPUs shared with other jobs, "
            f"{f['options']['torch_threads']} torch thread(s), load average {r['machine']['loadavg_start'][0]:.1f} "
            f"at start, {r['machine']['loadavg_end'][0]:.1f} at end, {r['time_utc']}. MOFA-FLEX "
            f"{f['versions']['mofaflex']}, torch {f['versions']['torch']}, in its own environment."
        ),
        "",
        (
            f"Call: `mofaflex.MOFAFLEX(mdata, *presets.MOFA)` with n_factors={f['n_factors']}, the bernoulli view "
            f"as Bernoulli, device cpu, seed {f['options']['seed']}; weight prior {f['options']['weight_prior']}, "
            f"factor prior {f['options']['factor_prior']}, init {f['options']['init_factors']}, lr "
            f"{f['options']['lr']}, default stop (early stopper, patience {f['options']['early_stopper_patience']}, "
            f"max {f['options']['max_epochs']} epochs), full batch."
        ),
        "",
        "| fit | iterations / epochs | whole fit s | recovery min | recovery mean | peak MiB |",
        "|---|---|---|---|---|---|",
        (
            f"| MOFA-FLEX {f['versions']['mofaflex']} (CPU, MOFA preset, default stop) | {f['epochs']} epochs | "
            f"**{f['wall_s']:.1f}** (CPU {f['cpu_s']:.1f}) | {f['recovery_min']:.4f} | {f['recovery_mean']:.4f} | "
            f"{f['peak_rss_mib']:.0f} (process RSS; {f['peak_rss_above_before_fit_mib']:.0f} above its size "
            f"before the fit) |"
        ),
    ]
    e = r.get("engine_rows_not_rerun")
    if e:
        h, m = e["hm_default"], e["mofapy2_medium_extrapolated"]
        lines += [
            (
                f"| hm.tl.mofa default (from {e['source']}, not re-run) | {h['n_iter']} iterations | "
                f"{h['wall_s']:.1f} | {h['recovery_min']:.4f} | {h['recovery_mean']:.4f} | "
                f"{h['peak_bytes'] / mb:.0f} (tracemalloc) |"
            ),
            (
                f'| mofapy2 0.7.5 "medium" (from {e["source"]}, extrapolated) | {m["n_iter"]} iterations | '
                f"{m['total_s']:.0f} | {m['recovery_min']:.4f} | {m['recovery_mean']:.4f} | "
                f"{m['peak_bytes_fixed_iteration_run'] / mb:.0f} (tracemalloc, 10 iterations) |"
            ),
        ]
    lines += [
        "",
        (
            "Recovery: per planted factor, the best |Pearson r| over the fitted factors (posterior means, "
            "`get_factors()`), as in `bench_engine.py`. Per factor: "
            + ", ".join(f"{x:.3f}" for x in f["recovery"])
            + "."
        ),
        "",
        (
            "Peak memory is not measured the same way for the rows: MOFA-FLEX's is the worker process's peak "
            "resident set size (torch included), the engine rows' the tracemalloc peak of numpy allocations."
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N=300, D=3,000 (about a minute)")
    ap.add_argument("--sim-seed", type=int, default=1, help="seed of the planted model (default 1, as bench_engine.py)")
    ap.add_argument("--threads", type=int, default=1, help="torch / BLAS threads of the MOFA-FLEX fit (default 1)")
    ap.add_argument(
        "--mofaflex-python",
        type=Path,
        default=Path(DEFAULT_MOFAFLEX_PYTHON),
        help="python of an environment with mofaflex installed (default $MOFAFLEX_PYTHON or /tmp/venv-mofaflex)",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results", help="output folder")
    ap.add_argument("--worker", nargs=2, type=Path, metavar=("IN_NPZ", "OUT_NPZ"), help=argparse.SUPPRESS)
    ap.add_argument("--n-factors", type=int, default=15, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(*args.worker, n_factors=args.n_factors, seed=0, threads=args.threads)
        return
    if not args.mofaflex_python.exists():
        raise SystemExit(f"no MOFA-FLEX environment at {args.mofaflex_python} (see --help)")
    result = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "mofaflex.quick" if args.quick else "mofaflex"
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1))
    (args.out / f"{stem}.md").write_text(render_md(result))
    sys.stdout.write((args.out / f"{stem}.md").read_text())


if __name__ == "__main__":
    main()
