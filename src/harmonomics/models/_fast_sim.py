"""Planted-factor simulator and a thin mofapy2 driver used by the engine tests and benchmark.

Private helpers: ``simulate`` draws multi-view data from a known MOFA model (seeded), ``fit`` builds a mofapy2
model on it, optionally accelerates it with :func:`harmonomics.models._fast_engine.accelerate`, trains it and
returns the fitted expectations, ELBO trace and timings; ``recovery`` scores planted-factor recovery.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)

# TCGA-BRCA-sized design of issue 5: mRNA, methylation, RPPA, copy number (gaussian) + mutations (bernoulli)
BRCA_VIEWS = (5000, 5000, 200, 2000, 200)
BRCA_LIKELIHOODS = ("gaussian", "gaussian", "gaussian", "gaussian", "bernoulli")


@dataclass
class Simulated:
    data: list  # per view (N x D) float64 with NaN rows for missing samples
    likelihoods: list
    Z: np.ndarray  # planted factors (N x K_planted)
    W: list  # planted weights per view (D x K_planted)
    missing: list  # per view boolean (N,) of missing samples


def simulate(
    n_samples: int = 1000,
    n_features=BRCA_VIEWS,
    likelihoods=BRCA_LIKELIHOODS,
    *,
    n_factors: int = 10,
    missing_fraction: float = 0.1,
    scattered_fraction: float = 0.0,
    noise_sd: float = 1.0,
    strength_range: tuple = (0.35, 1.2),
    seed: int = 0,
    dtype=np.float64,
) -> Simulated:
    """Draw data from a sparse multi-view factor model with known factors.

    Each planted factor is active in a random non-empty subset of views and, within an active view, on a
    random 20% of the features, with a factor-specific strength (log-uniform, so some factors are weak).
    ``missing_fraction`` of the samples are absent (all-NaN rows) in every view, drawn per view;
    ``scattered_fraction`` additionally sets that fraction of single entries of present rows to NaN.
    """
    if len(n_features) != len(likelihoods):
        raise ValueError("n_features and likelihoods must have the same length")
    rng = np.random.default_rng(seed)
    N, K, M = int(n_samples), int(n_factors), len(n_features)
    Z = rng.standard_normal((N, K))
    strength = np.exp(rng.uniform(np.log(strength_range[0]), np.log(strength_range[1]), size=K))
    active = rng.random((M, K)) < 0.6
    for k in range(K):
        if not active[:, k].any():
            active[rng.integers(M), k] = True
    data, Ws, miss = [], [], []
    for m, (D, lik) in enumerate(zip(n_features, likelihoods, strict=False)):
        W = np.zeros((D, K))
        for k in range(K):
            if active[m, k]:
                on = rng.random(D) < 0.2
                W[on, k] = rng.standard_normal(on.sum()) * strength[k]
        X = Z @ W.T
        if lik == "gaussian":
            Y = X + noise_sd * rng.standard_normal((N, D))
        elif lik == "bernoulli":
            Y = (rng.random((N, D)) < 1.0 / (1.0 + np.exp(-(1.5 * X - 1.0)))).astype(np.float64)
        elif lik == "poisson":
            Y = rng.poisson(np.log1p(np.exp(X))).astype(np.float64)
        else:
            raise ValueError(f"unsupported likelihood {lik!r}")
        gone = rng.random(N) < missing_fraction
        Y[gone] = np.nan
        if scattered_fraction > 0:
            holes = (rng.random((N, D)) < scattered_fraction) & ~gone[:, None]
            Y[holes] = np.nan
        data.append(Y.astype(dtype))
        Ws.append(W)
        miss.append(gone)
    return Simulated(data=data, likelihoods=list(likelihoods), Z=Z, W=Ws, missing=miss)


def recovery(Z_true: np.ndarray, Z_fit: np.ndarray) -> np.ndarray:
    """Per planted factor, the best absolute Pearson correlation with any fitted factor."""
    a = (Z_true - Z_true.mean(0)) / Z_true.std(0)
    sd = Z_fit.std(0)
    keep = sd > 1e-8 * max(sd.max(), 1e-300)  # ignore factors switched off (spike-and-slab / ARD)
    b = (Z_fit[:, keep] - Z_fit[:, keep].mean(0)) / sd[keep]
    c = np.abs(a.T @ b) / a.shape[0]
    return c.max(axis=1) if c.size else np.zeros(Z_true.shape[1])


@dataclass
class FitResult:
    Z: np.ndarray
    W: list
    elbo: np.ndarray
    n_iter: int
    time_build: float
    time_train: float
    iter_times: np.ndarray
    engine_info: dict | None = None
    extra: dict = field(default_factory=dict)


def build(
    data: list,
    likelihoods: list,
    *,
    n_factors: int = 15,
    seed: int = 1,
    maxiter: int = 1000,
    convergence_mode: str = "medium",
    freq_elbo: int = 5,
    start_elbo: int = 1,
    start_sparsity: int = 50,
    spikeslab_weights: bool = True,
    ard_weights: bool = True,
    spikeslab_factors: bool = False,
    ard_factors: bool = False,
    groups: np.ndarray | None = None,
    use_float32: bool = False,
    nostop: bool = False,
    weight_views: bool = False,
    scale_views: bool = False,
    init: str = "pca",
):
    """Build (not train) a mofapy2 entry point on ``data``; mofapy2's console output is swallowed.

    ``init``: ``"pca"`` (mofapy2's own build and PCA initialisation) or ``"svd"`` (what ``hm.tl.mofa`` does
    with the fast engine: the truncated randomized SVD of ``_mofa_run.svd_initial_factors``).
    """
    from mofapy2.run.entry_point import entry_point

    data = [np.array(d, dtype=np.float64, copy=True) for d in data]
    if groups is None:
        nested = [[d] for d in data]
        gnames = ["group0"]
    else:
        groups = np.asarray(groups)
        gnames = list(dict.fromkeys(groups.tolist()))
        nested = [[d[groups == g] for g in gnames] for d in data]
    with contextlib.redirect_stdout(io.StringIO()):
        ent = entry_point()
        ent.set_data_options(scale_views=scale_views, center_groups=True, use_float32=use_float32)
        ent.set_data_matrix(
            nested,
            likelihoods=list(likelihoods),
            views_names=[f"view{m}" for m in range(len(data))],
            groups_names=[str(g) for g in gnames],
        )
        ent.set_model_options(
            factors=n_factors,
            spikeslab_weights=spikeslab_weights,
            ard_weights=ard_weights,
            spikeslab_factors=spikeslab_factors,
            ard_factors=ard_factors,
        )
        ent.set_train_options(
            iter=maxiter,
            convergence_mode=convergence_mode,
            freqELBO=freq_elbo,
            startELBO=start_elbo,
            startSparsity=start_sparsity,
            dropR2=None,
            seed=seed,
            quiet=True,
            verbose=False,
            nostop=nostop,
            weight_views=weight_views,
        )
        if init == "pca":
            ent.build()
        elif init == "svd":
            from ._mofa_run import _build_model, svd_initial_factors

            _build_model(ent, lambda d: svd_initial_factors(d, n_factors, seed=seed, float32=use_float32))
        else:
            raise ValueError(f"init must be 'pca' or 'svd', got {init!r}")
    return ent


def fit(
    data: list,
    likelihoods: list,
    *,
    engine: str = "fast",
    float32: bool = False,
    stopping=None,
    xp=None,
    **build_kw,
) -> FitResult:
    """Build, optionally accelerate, and train; return expectations, ELBO trace and timings."""
    t0 = time.perf_counter()
    ent = build(data, likelihoods, **build_kw)
    info = None
    if engine == "fast":
        from harmonomics.models._fast_engine import accelerate

        info = accelerate(ent.model, float32=float32, xp=xp, stopping=stopping)
    elif engine != "mofapy2":
        raise ValueError(f"engine must be 'fast' or 'mofapy2', got {engine!r}")
    import tracemalloc

    tracing = tracemalloc.is_tracing()
    if tracing:  # separate the build peak from the training peak
        build_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
    t1 = time.perf_counter()
    c1 = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        ent.run()
    t2 = time.perf_counter()
    cpu_train = time.process_time() - c1
    train_peak = tracemalloc.get_traced_memory()[1] if tracing else None
    stats = ent.model.getTrainingStats()
    elbo = np.asarray(stats["elbo"], dtype=np.float64)
    times = np.asarray(stats["time"], dtype=np.float64)
    # mofapy2 truncates its statistics at the converging iteration (which ran but is not timed)
    converged = times.size < int(ent.model.options["maxiter"]) + 1
    n_iter = int(np.sum(~np.isnan(times[1:]))) + (1 if converged else 0)
    Z = np.array(ent.model.nodes["Z"].getExpectation(), dtype=np.float64)
    W = [np.array(w, dtype=np.float64) for w in ent.model.nodes["W"].getExpectation()]
    res = FitResult(
        Z=Z,
        W=W,
        elbo=elbo,
        n_iter=n_iter,
        time_build=t1 - t0,
        time_train=t2 - t1,
        iter_times=times[1:][~np.isnan(times[1:])],
        engine_info=info,
    )
    res.extra["ent"] = ent
    res.extra["cpu_train"] = cpu_train
    if tracing:
        res.extra["build_peak"] = build_peak
        res.extra["train_peak"] = train_peak
    return res
