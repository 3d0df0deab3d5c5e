"""Numerics of the MOFA wrapper that do not need mofapy2: variance explained and projection.

Private module of :mod:`harmonomics.models.mofa`.
"""

from __future__ import annotations

import numpy as np


def r2_tables(Z: np.ndarray, W: list[np.ndarray], Y: list[np.ndarray], mask: list[np.ndarray]):
    """Variance explained on the (processed) training data, pooled over samples.

    Returns ``(r2_vf, r2_v, ss)``: ``r2_vf[m, k] = 1 - RSS_mk / SS_m`` with ``RSS_mk`` the residual sum of
    squares of view m after removing factor k alone, ``r2_v[m] = 1 - RSS_m / SS_m`` using all factors, and
    ``ss[m] = SS_m`` the total sum of squares of view m (observed entries only; data centred per feature).
    """
    M, K = len(W), Z.shape[1]
    r2_vf = np.zeros((M, K))
    r2_v = np.zeros(M)
    ss = np.zeros(M)
    for m in range(M):
        y = np.where(mask[m], 0.0, Y[m])
        obs = (~mask[m]).astype(np.float64)
        ss[m] = float(np.sum(y * y))
        if ss[m] == 0:
            r2_vf[m] = np.nan
            r2_v[m] = np.nan
            continue
        yw = y @ W[m]  # N x K
        ow2 = obs @ (W[m] ** 2)  # N x K
        rss_k = ss[m] - 2.0 * np.sum(Z * yw, axis=0) + np.sum(Z**2 * ow2, axis=0)
        r2_vf[m] = 1.0 - rss_k / ss[m]
        pred = Z @ W[m].T
        res = np.where(mask[m], 0.0, y - pred)
        r2_v[m] = 1.0 - float(np.sum(res * res)) / ss[m]
    return r2_vf, r2_v, ss


def r2_per_factor(r2_vf: np.ndarray, ss: np.ndarray) -> np.ndarray:
    """Total variance explained per factor across views: ``sum_m SS_m R2_mk / sum_m SS_m``."""
    w = ss / ss.sum() if ss.sum() > 0 else np.full(len(ss), 1.0 / len(ss))
    return np.nansum(r2_vf * w[:, None], axis=0)


def _lambda(zeta: np.ndarray) -> np.ndarray:
    zeta = np.maximum(np.abs(zeta), 1e-8)
    return np.tanh(zeta / 2.0) / (4.0 * zeta)


def _solve(prec: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Batched solve of (n, K, K) systems."""
    return np.linalg.solve(prec, rhs[..., None])[..., 0]


def project_views(
    views: list[dict], alpha: np.ndarray, *, n_iter: int = 50, tol: float = 1e-8
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean (and mean-field variance) of Z for new samples given trained W and noise.

    Each ``views`` entry: ``y`` (n x D processed data, NaN where missing), ``W`` (D x K, E[w]), ``W2`` (D x K,
    E[w^2]), ``tau`` (n x D noise precision, gaussian) and ``likelihood``; bernoulli views also carry
    ``pseudo_mean`` (D). ``alpha`` (n x K) is the prior precision of each sample's factors.

    The mean solves the fixed point of mofapy2's Z update with the other nodes fixed::

        (diag(alpha_n) + sum_m W_m' T_nm W_m + diag(sum_m T_nm (E[W_m^2] - W_m^2))) z_n = sum_m W_m' T_nm y_nm

    with ``T_nm`` the precision of sample n's observed features (0 where missing). Bernoulli views use
    the Jaakkola bound, iterating pseudo-data and precision with ``z_n``. Samples with no observed value
    in any view get NaN.
    """
    n, K = alpha.shape
    any_obs = np.zeros(n, dtype=bool)
    for v in views:
        any_obs |= ~np.isnan(v["y"]).all(axis=1)
    nongauss = any(v["likelihood"] != "gaussian" for v in views)
    z = np.zeros((n, K))
    zvar = 1.0 / alpha
    for _it in range(n_iter if nongauss else 1):
        prec = np.zeros((n, K, K))
        idx = np.arange(K)
        prec[:, idx, idx] = alpha
        rhs = np.zeros((n, K))
        for v in views:
            obs = ~np.isnan(v["y"])
            W, W2 = v["W"], v["W2"]
            if v["likelihood"] == "gaussian":
                t = np.where(obs, v["tau"], 0.0)
                y = np.where(obs, v["y"], 0.0)
            else:  # bernoulli, Jaakkola pseudo-data
                e_zw2 = (z @ W.T) ** 2 - (z**2) @ (W**2).T + (z**2 + zvar) @ W2.T
                zeta = np.sqrt(np.maximum(e_zw2, 1e-12))
                lam = _lambda(zeta)
                t = np.where(obs, 2.0 * lam, 0.0)
                yraw = np.where(obs, v["y"], 0.0)
                y = np.where(obs, (2.0 * yraw - 1.0) / (4.0 * lam) - v["pseudo_mean"], 0.0)
            prec += np.einsum("nd,dk,dl->nkl", t, W, W, optimize=True)
            prec[:, idx, idx] += t @ (W2 - W**2)
            rhs += (t * y) @ W
        znew = _solve(prec, rhs)
        zvar = 1.0 / np.diagonal(prec, axis1=1, axis2=2)
        delta = np.max(np.abs(znew - z)) if n else 0.0
        z = znew
        if nongauss and delta < tol:
            break
    z[~any_obs] = np.nan
    zvar = np.array(zvar, dtype=np.float64)
    zvar[~any_obs] = np.nan
    return z, zvar
