"""Peak-memory model of a MOFA fit, for the mofapy2 engine and the fast engine.

:func:`estimate_memory` predicts the peak of the memory *allocated by the fit* (not counting the input
matrices the caller already holds), from the problem shape alone. The model counts the arrays each phase
holds at its peak; its constants were checked against ``tracemalloc`` peaks (numpy allocations) in
``benchmarks/bench_engine.py`` (see ``benchmarks/results/engine.md``, column "predicted").

Phases
------
build (both engines, mofapy2 code)
    the float copy of the data (``S = N * sum(D) * itemsize``), the missing-value masks (1 byte per entry),
    and the PCA initialisation of Z, which concatenates the views, mean-imputes and centres them
    (about four float64 ``N x sum(D)`` arrays alive at once).
training, mofapy2
    ``S`` + masks + the noise precision expanded to ``N x D`` for every view in the Z update, + about 2.5
    ``N x D_max`` temporaries of the largest view (Tau update), + ``N x D`` float64 pseudo-data arrays for
    every non-gaussian view (pseudo-data, zeta, tau and the ELBO temporaries).
training, fast
    ``S`` + masks + (float32 only) a float32 copy of the gaussian views, + ``N x K x K`` summary matrices,
    + the same non-gaussian ``N x D`` arrays as mofapy2, + ``O((N + sum D) * K)``. No ``N x D x K`` array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["estimate_memory", "memory_breakdown"]

_PCA_COPIES = 4.0  # float64 N x sum(D) arrays alive at the peak of mofapy2's PCA initialisation
_TAU_TEMPS = 2.5  # N x D_max temporaries alive at the peak of a mofapy2 node update (measured)
_DENSE_ARRAYS = 6.0  # float64 N x D arrays per non-gaussian view (E, zeta, tau, ELBO temporaries)


def _check(n_samples, n_features_per_view, n_factors, likelihoods):
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if isinstance(n_features_per_view, (int, np.integer)):
        n_features_per_view = [n_features_per_view]
    if not isinstance(n_features_per_view, Sequence) and not isinstance(n_features_per_view, np.ndarray):
        raise ValueError(  # noqa: TRY004 - a bad shape description is a ValueError for the caller
            f"n_features_per_view must be a sequence of positive integers, got {n_features_per_view!r}"
        )
    D = [int(d) for d in n_features_per_view]
    if (
        not D
        or any(d < 1 for d in D)
        or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in n_features_per_view)
    ):
        raise ValueError(
            f"n_features_per_view must be a non-empty sequence of positive integers, got {n_features_per_view!r}"
        )
    if isinstance(n_factors, bool) or not isinstance(n_factors, (int, np.integer)) or n_factors < 1:
        raise ValueError(f"n_factors must be a positive integer, got {n_factors!r}")
    if likelihoods is None:
        likelihoods = ["gaussian"] * len(D)
    likelihoods = list(likelihoods)
    if len(likelihoods) != len(D):
        raise ValueError(f"likelihoods has {len(likelihoods)} entries for {len(D)} views")
    bad = [lk for lk in likelihoods if lk not in ("gaussian", "bernoulli", "poisson")]
    if bad:
        raise ValueError(f"unknown likelihood(s) {bad}; expected 'gaussian', 'bernoulli' or 'poisson'")
    return int(n_samples), D, int(n_factors), likelihoods


def memory_breakdown(
    n_samples: int,
    n_features_per_view: Sequence[int],
    n_factors: int,
    float32: bool = False,
    *,
    engine: str = "fast",
    likelihoods: Sequence[str] | None = None,
) -> dict:
    """Per-phase byte counts behind :func:`estimate_memory` (keys ``build``, ``train``, ``peak``)."""
    if engine not in ("fast", "mofapy2"):
        raise ValueError(f"engine must be 'fast' or 'mofapy2', got {engine!r}")
    N, D, K, lik = _check(n_samples, n_features_per_view, n_factors, likelihoods)
    # mofapy2 stores the data in float32 only with its own use_float32 option; the fast engine's float32
    # flag keeps mofapy2's float64 copy and adds a float32 one of the gaussian views
    item = 8
    sumD = sum(D)
    gaussD = sum(d for d, lk in zip(D, lik, strict=False) if lk == "gaussian")
    denseD = sumD - gaussD
    data = N * sumD * item
    masks = N * sumD  # numpy bool
    small = 8 * (N + sumD) * K * 20
    build = data + masks + _PCA_COPIES * N * sumD * 8
    dense = _DENSE_ARRAYS * N * denseD * 8
    if engine == "mofapy2":
        train = data + masks + N * sumD * 8 + _TAU_TEMPS * N * max(D) * 8 + dense + small
    else:
        copy32 = N * gaussD * 4 if float32 else 0
        train = data + masks + copy32 + N * K * K * 8 * 2 + dense + small
    return {"build": int(build), "train": int(train), "peak": int(max(build, train))}


def estimate_memory(
    n_samples: int,
    n_features_per_view: Sequence[int],
    n_factors: int,
    float32: bool = False,
    *,
    engine: str = "fast",
    likelihoods: Sequence[str] | None = None,
) -> int:
    """Estimated peak memory (bytes) a MOFA fit allocates, for the fast or the mofapy2 engine.

    Parameters
    ----------
    n_samples
        Number of samples N (all groups).
    n_features_per_view
        Number of features per view, e.g. ``[5000, 5000, 200, 2000, 200]``.
    n_factors
        Number of factors K.
    float32
        The fast engine's ``float32=True`` (adds a float32 copy of the gaussian views).
    engine
        ``"fast"`` (default) or ``"mofapy2"``.
    likelihoods
        Likelihood per view (default all gaussian); non-gaussian views hold dense ``N x D`` pseudo-data.

    Returns
    -------
    int
        Bytes: the larger of the build-phase peak (mofapy2's PCA initialisation, shared by both engines)
        and the training-phase peak. See :func:`memory_breakdown` for the parts.
    """
    return memory_breakdown(n_samples, n_features_per_view, n_factors, float32, engine=engine, likelihoods=likelihoods)[
        "peak"
    ]
