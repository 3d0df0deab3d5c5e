"""Fast factor engine: blocked, vectorised node updates for a mofapy2 ``BayesNet``.

:func:`accelerate` takes a mofapy2 model (``entry_point.model`` after ``ent.build()``, before
``ent.run()``) and replaces, *on that model object only*, the slow node updates with blocked equivalents
that implement the same update equations:

* ``Z`` (``Z_Node`` and spike-and-slab ``SZ_Node``),
* ``W`` per view (``W_Node`` and spike-and-slab ``SW_Node``),
* ``Tau`` per gaussian view (``TauD_Node``),
* the bernoulli pseudo-data parameter ``zeta`` of ``Bernoulli_PseudoY_Jaakkola``,
* the gaussian ``Y_Node`` ELBO term and ``BayesNet.calculate_variance_explained``.

mofapy2's ELBO, convergence logic, factor dropping, training statistics and model saving are untouched
(they call the replaced methods through the usual node interface). No mofapy2 class is patched.

Where mofapy2 loops over factors and builds an ``N x D`` temporary per factor, the engine forms per
iteration and gaussian view two ``N x D x K`` products of the data with the current weights / factors (BLAS
GEMMs: ``Y (tau W)`` in the Z update, ``Z^T Y`` in the Tau update, the latter reused by the next W update)
plus small ``K x K`` summary matrices, and runs the coordinate-wise (factor by factor) updates, in
mofapy2's order, on ``N x K`` / ``D x K`` arrays only. Missing values follow mofapy2 exactly (``tau`` is zero
where ``Y`` is missing): samples absent from a view are handled through the per-view "present rows" summaries; scattered
missing entries inside present rows are corrected with sparse terms whose cost is proportional to their
number. Nothing of size ``N x D x K`` is allocated.

See ``docs/engine.md`` for the equations, the stopping rule, float32 and the memory model.
"""

from __future__ import annotations

import logging
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import HarmonomicsError

logger = logging.getLogger(__name__)

__all__ = ["STOPPING_RULES", "EngineError", "StoppingRule", "accelerate", "factor_movement"]

# entries gathered at a time when correcting for scattered missing values (bounds temporaries to
# _CHUNK x K floats)
_CHUNK = 1 << 16


class EngineError(HarmonomicsError, ValueError):
    """The model uses a mofapy2 feature the fast engine does not implement."""


# --------------------------------------------------------------------------------------------------
# array backend
# --------------------------------------------------------------------------------------------------
def _resolve_xp(xp):
    """Return the array module to run the heavy products on (numpy or cupy)."""
    if xp is None:
        try:
            import cupy  # type: ignore[import-not-found]

            if cupy.cuda.runtime.getDeviceCount() > 0:
                return cupy
        except Exception as err:  # noqa: BLE001 - any failure (no package, driver or device) means CPU
            logger.debug("cupy not usable (%s); the fast engine runs on numpy", err)
        return np
    if isinstance(xp, str):
        if xp == "numpy":
            return np
        if xp == "cupy":
            import importlib

            try:
                return importlib.import_module("cupy")
            except ImportError as err:
                from harmonomics._errors import MissingDependencyError

                raise MissingDependencyError(
                    "the fast engine on GPU needs the optional package 'cupy': install it with "
                    "`pip install harmonomics[gpu]` (cupy-cuda12x)"
                ) from err
        raise ValueError(f"xp must be None, 'numpy', 'cupy' or an array module, got {xp!r}")
    if not hasattr(xp, "asarray") or not hasattr(xp, "matmul"):
        raise ValueError(f"xp must be None, 'numpy', 'cupy' or an array module, got {xp!r}")
    return xp


def _host(a) -> np.ndarray:
    """Device (or host) array -> host float64 ndarray."""
    if hasattr(a, "get") and not isinstance(a, np.ndarray):
        a = a.get()
    return np.asarray(a, dtype=np.float64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------------------------------
# per-view precomputed structure
# --------------------------------------------------------------------------------------------------
@dataclass
class _GaussView:
    """Precomputed, constant structure of one gaussian view (mofapy2 ``Y_Node`` + ``TauD_Node``)."""

    m: int
    D: int
    Y: Any  # xp array (N x D), zeros where missing, engine dtype
    present: np.ndarray  # (N,) bool: sample has at least one observed value in this view
    group_slices: list  # per group: slice or index array of its rows
    present_g: list  # per group: bool (N_g,) present mask of its rows (host)
    ysq_g: np.ndarray  # (G, D) sum over observed rows of Y^2 (float64, exact)
    nobs_g: np.ndarray  # (G, D) number of observed values
    # scattered missing entries inside present rows
    e_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    e_cols: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    e_grp: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    csr_indptr: np.ndarray | None = None
    csr_indices: np.ndarray | None = None
    # cache of Y_g^T Z_g, valid for one Z state
    ytz: list | None = None
    ytz_key: tuple | None = None

    @property
    def n_scattered(self) -> int:
        return int(self.e_rows.size)


@dataclass
class _DenseView:
    """A view whose noise precision is a full N x D array (bernoulli/Jaakkola, poisson/Seeger)."""

    m: int
    D: int
    mask: np.ndarray  # (N, D) bool (host)


class _Engine:
    """State shared by the replaced node methods of one model."""

    def __init__(self, model, *, float32: bool, xp):
        from mofapy2.core.BayesNet import BayesNet, StochasticBayesNet
        from mofapy2.core.nodes.nongaussian_nodes import (
            Bernoulli_PseudoY_Jaakkola,
            Poisson_PseudoY,
            Tau_Jaakkola,
            Tau_Seeger,
        )
        from mofapy2.core.nodes.Tau_nodes import TauD_Node
        from mofapy2.core.nodes.W_nodes import SW_Node, W_Node
        from mofapy2.core.nodes.Y_nodes import Y_Node
        from mofapy2.core.nodes.Z_nodes import SZ_Node, Z_Node

        if not isinstance(model, BayesNet):
            raise TypeError(
                "accelerate() needs a mofapy2 BayesNet (entry_point.model after ent.build()), got "
                f"{type(model).__name__}"
            )
        if isinstance(model, StochasticBayesNet):
            raise EngineError("accelerate(): stochastic variational inference is not supported by the fast engine")
        nodes = model.nodes
        for required in ("Y", "Z", "W", "Tau"):
            if required not in nodes:
                raise EngineError(
                    f"accelerate(): the model has no {required!r} node; build the model first (ent.build())"
                )
        for unsupported in ("Sigma", "U", "MuZ", "MuW"):
            if unsupported in nodes:
                raise EngineError(
                    f"accelerate(): the model has a {unsupported!r} node (MEFISTO/smooth or covariate prior), "
                    "which the fast engine does not implement; run it with engine='mofapy2'"
                )
        z = nodes["Z"]
        if type(z) not in (Z_Node, SZ_Node):
            raise EngineError(f"accelerate(): unsupported Z node type {type(z).__name__}")

        self.model = model
        self.xp = xp
        self.float32 = bool(float32)
        self.z_version = 0
        self.Y_nodes = list(nodes["Y"].getNodes())
        self.tau_nodes = list(nodes["Tau"].getNodes())
        self.W_nodes = list(nodes["W"].getNodes())
        self.M = len(self.Y_nodes)
        self.groups = np.asarray(self.Y_nodes[0].groups, dtype=np.int64)
        self.N = int(self.groups.size)
        self.G = int(self.groups.max()) + 1 if self.N else 1
        self.views: list = []
        self.kinds: list[str] = []
        self._slices = self._group_slices()

        data_dtype = None
        for m in range(self.M):
            y, t, w = self.Y_nodes[m], self.tau_nodes[m], self.W_nodes[m]
            if type(w) not in (W_Node, SW_Node):
                raise EngineError(f"accelerate(): unsupported W node type {type(w).__name__} in view {m}")
            if type(y) is Y_Node and type(t) is TauD_Node:
                self.views.append(self._gauss_view(m, y))
                self.kinds.append("gaussian")
                data_dtype = y.value.dtype
            elif (type(y) is Bernoulli_PseudoY_Jaakkola and type(t) is Tau_Jaakkola) or (
                type(y) is Poisson_PseudoY and type(t) is Tau_Seeger
            ):
                self.views.append(_DenseView(m=m, D=int(y.dim[1]), mask=np.asarray(y.getMask(), dtype=bool)))
                self.kinds.append("bernoulli" if type(y) is Bernoulli_PseudoY_Jaakkola else "poisson")
            else:
                raise EngineError(
                    f"accelerate(): view {m} uses {type(y).__name__}/{type(t).__name__} "
                    "(e.g. the zero-inflated likelihood), which the fast engine does not implement"
                )
        # compute dtype for the heavy products
        if self.float32 or data_dtype == np.float32:
            self.dtype = np.float32
        else:
            self.dtype = np.float64
        self._finish_gauss_views()

    # ---------------------------------------------------------------- setup
    def _group_slices(self):
        out = []
        for g in range(self.G):
            rows = np.flatnonzero(self.groups == g)
            if rows.size and rows[-1] - rows[0] + 1 == rows.size:
                out.append(slice(int(rows[0]), int(rows[-1]) + 1))
            else:
                out.append(rows)
        return out

    def _gauss_view(self, m, ynode):
        mask = np.asarray(ynode.getMask(full=True), dtype=bool)
        value = ynode.value  # mofapy2 already set missing entries to 0
        N, D = mask.shape
        n_miss_row = mask.sum(axis=1)
        present = n_miss_row < D
        partial = present & (n_miss_row > 0)
        slices = self._slices
        ysq_g = np.zeros((self.G, D))
        nobs_g = np.zeros((self.G, D))
        for g, sl in enumerate(slices):
            yg = value[sl]
            ysq_g[g] = np.einsum("nd,nd->d", yg, yg, dtype=np.float64)
            nobs_g[g] = (~mask[sl]).sum(axis=0)
        view = _GaussView(
            m=m,
            D=D,
            Y=value,
            present=present,
            group_slices=slices,
            present_g=[present[sl] for sl in slices],
            ysq_g=ysq_g,
            nobs_g=nobs_g,
        )
        if partial.any():
            sub = np.flatnonzero(partial)
            r, c = np.nonzero(mask[sub])
            view.e_rows = sub[r].astype(np.int64)
            view.e_cols = c.astype(np.int64)
            view.e_grp = self.groups[view.e_rows]
            counts = np.bincount(view.e_rows, minlength=N)
            view.csr_indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            view.csr_indices = view.e_cols
        return view

    def _finish_gauss_views(self):
        xp = self.xp
        for v in self.views:
            if isinstance(v, _GaussView):
                if xp is np:
                    if v.Y.dtype != self.dtype:
                        v.Y = np.ascontiguousarray(v.Y, dtype=self.dtype)
                else:
                    v.Y = xp.asarray(np.ascontiguousarray(v.Y, dtype=self.dtype))

    # ---------------------------------------------------------------- helpers
    def dev(self, a):
        """Host array -> xp array in the engine dtype."""
        return self.xp.asarray(np.ascontiguousarray(a, dtype=self.dtype))

    def weights(self):
        z = self.model.nodes["Z"]
        M = self.M
        if getattr(z, "weight_views", False) and M > 1:
            D = np.asarray([self.Y_nodes[m].dim[1] for m in range(M)], dtype=np.float64)
            w = D.sum() / (M * D)
            return w / w.sum() * M
        return np.ones(M)

    def tau_gauss(self, m) -> np.ndarray:
        """(G, D) expected precision of a gaussian view (host float64)."""
        return np.asarray(self.tau_nodes[m].Q.getExpectations()["E"], dtype=np.float64)

    def tau_dense(self, view: _DenseView) -> np.ndarray:
        """(N, D) precision of a dense view with zeros at missing entries (mofapy2: tau[mask] = 0)."""
        tau = np.asarray(self.tau_nodes[view.m].getExpectation(), dtype=np.float64)
        return np.where(view.mask, 0.0, tau)

    def z_key(self, Z: np.ndarray) -> tuple:
        return (self.z_version, Z.shape, float(Z.sum()))

    def ytz(self, v: _GaussView, Z: np.ndarray) -> list:
        """Per-group Y_g^T Z_g (host float64 D x K), cached for the current Z."""
        key = self.z_key(Z)
        if v.ytz_key == key and v.ytz is not None:
            return v.ytz
        Zt = self.dev(Z.T)  # (K x N): K x N @ N x D reads Y row-major, faster than Y^T @ Z
        out = [_host(Zt[:, sl] @ v.Y[sl]).T for sl in v.group_slices]
        v.ytz, v.ytz_key = out, key
        return out

    def sparse_tau(self, v: _GaussView, tau_g: np.ndarray):
        """CSR (N x D) with tau at the scattered missing entries of present rows."""
        import scipy.sparse as sp

        vals = tau_g[v.e_grp, v.e_cols]
        return sp.csr_matrix((vals, v.csr_indices, v.csr_indptr), shape=(self.N, v.D))

    @staticmethod
    def rowdot(A: np.ndarray, ia: np.ndarray, B: np.ndarray, ib: np.ndarray) -> np.ndarray:
        """out[e] = A[ia[e]] . B[ib[e]], chunked (no nnz x K temporary beyond _CHUNK x K)."""
        out = np.empty(ia.size)
        for s in range(0, ia.size, _CHUNK):
            e = slice(s, s + _CHUNK)
            out[e] = np.einsum("ek,ek->e", A[ia[e]], B[ib[e]])
        return out

    def gauss_sums(self, v: _GaussView, Z, ZZ, W, WW, tau_g=None):
        """Per group, sum over observed entries of E[(y - z w)^2] (the mofapy2 Tau 'tmp'), shape (G, D).

        tmp = y^2 + ZZ.WW - Z^2.W^2 + (Z.W)^2 - 2 (Z.W) y, summed over observed entries.
        """
        ytz = self.ytz(v, Z)
        out = np.empty((self.G, v.D))
        Z2, W2 = Z * Z, W * W
        for g, sl in enumerate(v.group_slices):
            pg = v.present_g[g]
            Zg = Z[sl][pg]
            sZZ = ZZ[sl][pg].sum(axis=0)
            sZ2 = Z2[sl][pg].sum(axis=0)
            Gg = Zg.T @ Zg
            out[g] = (
                v.ysq_g[g]
                + WW @ sZZ
                - W2 @ sZ2
                + np.einsum("dk,dk->d", W @ Gg, W)
                - 2.0 * np.einsum("dk,dk->d", W, ytz[g])
            )
        if v.n_scattered:
            # remove the scattered missing entries that the present-row sums included
            r = self.rowdot(Z, v.e_rows, W, v.e_cols)
            a = self.rowdot(ZZ, v.e_rows, WW, v.e_cols)
            b = self.rowdot(Z2, v.e_rows, W2, v.e_cols)
            corr = np.bincount(v.e_grp * v.D + v.e_cols, weights=a - b + r * r, minlength=self.G * v.D)
            out -= corr.reshape(self.G, v.D)
        return out


# --------------------------------------------------------------------------------------------------
# Z update
# --------------------------------------------------------------------------------------------------
def _z_terms(eng: _Engine, Wexp: list, Z: np.ndarray):
    """Return pbar (N x K), foo (N x K), A (N x K x K) and the scattered-entry corrections.

    pbar[n,k] = sum_m w_m sum_d tau[n,d] y[n,d] W[d,k]
    foo[n,k]  = sum_m w_m sum_d tau[n,d] E[W^2][d,k]
    A[n]      = sum_m w_m sum_d tau[n,d] W[d] W[d]^T      (present-row part for gaussian views)
    """
    N, K = Z.shape
    wts = eng.weights()
    pbar = np.zeros((N, K))
    # present-row parts of foo and A, per group: (present indicator x weight) @ (per-view K / K x K summaries)
    pres = [[] for _ in range(eng.G)]
    summ_foo = [[] for _ in range(eng.G)]
    summ_A = [[] for _ in range(eng.G)]
    scattered = []
    for v in eng.views:
        if not isinstance(v, _GaussView):
            continue
        m = v.m
        W, WW = np.asarray(Wexp[m]["E"], np.float64), np.asarray(Wexp[m]["E2"], np.float64)
        wm = wts[m]
        tau_g = eng.tau_gauss(m)
        for g, sl in enumerate(v.group_slices):
            tg = tau_g[g]
            TWt = np.ascontiguousarray((W * tg[:, None]).T)  # K x D
            # (TW^T Y^T)^T: K x D @ D x N reads Y row-major; faster than Y @ TW on OpenBLAS
            pbar[sl] += wm * _host(eng.dev(TWt) @ v.Y[sl].T).T
            pres[g].append(wm * v.present_g[g])
            summ_foo[g].append(tg @ WW)
            summ_A[g].append((TWt @ W).ravel())
        if v.n_scattered:
            S = eng.sparse_tau(v, tau_g)
            r = eng.rowdot(Z, v.e_rows, W, v.e_cols)
            scattered.append((wm, v, W, S, r))
    foo = np.zeros((N, K))
    A = np.zeros((N, K * K))
    for g, sl in enumerate(eng._slices):
        if pres[g]:
            P = np.stack(pres[g], axis=1)  # N_g x M_gauss
            foo[sl] = P @ np.stack(summ_foo[g])
            A[sl] = P @ np.stack(summ_A[g])
    A = A.reshape(N, K, K)
    for wm, v, _W, S, _r in scattered:
        foo -= wm * (S @ np.asarray(Wexp[v.m]["E2"], np.float64))
    scattered = [(wm, v, W, S.data, r) for wm, v, W, S, r in scattered]
    for v in eng.views:
        if isinstance(v, _GaussView):
            continue
        m = v.m
        W, WW = np.asarray(Wexp[m]["E"], np.float64), np.asarray(Wexp[m]["E2"], np.float64)
        wm = wts[m]
        T = eng.tau_dense(v)
        Yv = np.asarray(eng.Y_nodes[m].getExpectation(), dtype=np.float64)
        Td = eng.dev(T)
        pbar += wm * _host((Td * eng.dev(Yv)) @ eng.dev(W))
        foo += wm * _host(Td @ eng.dev(WW))
        iu, ju = np.triu_indices(K)
        Asym = _host(Td @ eng.dev(W[:, iu] * W[:, ju]))  # N x K(K+1)/2, A is symmetric
        A[:, iu, ju] += wm * Asym
        A[:, ju[iu != ju], iu[iu != ju]] += wm * Asym[:, iu != ju]
        del Td
    return pbar, foo, A, scattered


def _scatter_corr_z(scattered, k, Zk, N):
    """Correction of sum_{j!=k} A[n,k,j] Z[n,j] for scattered missing entries (they must not count)."""
    corr = np.zeros(N)
    for wm, v, W, t, r in scattered:
        wk = W[v.e_cols, k]
        corr += wm * np.bincount(v.e_rows, weights=t * wk * (r - Zk[v.e_rows] * wk), minlength=N)
    return corr


def _scatter_update_z(scattered, k, dZk):
    for _wm, v, W, _t, r in scattered:
        r += dZk[v.e_rows] * W[v.e_cols, k]


def _update_Z(self, ix=None, ro=1.0):
    """Blocked replacement of ``Z_Node.updateParameters`` (same equations, factor by factor)."""
    eng: _Engine = self._hm_engine
    if ix is not None:
        raise EngineError("the fast engine does not support stochastic (mini-batch) updates")
    Wexp = self.markov_blanket["W"].getExpectations()
    Q = self.Q.getParameters()
    Qmean, Qvar = Q["mean"], Q["var"]
    Mu = self.P.getParameters()["mean"]
    if "AlphaZ" in self.markov_blanket:
        Alpha = np.asarray(self.markov_blanket["AlphaZ"].get_mini_batch(), dtype=np.float64)
    else:
        Alpha = 1.0 / np.asarray(self.P.params["var"], dtype=np.float64)
    Alpha = np.broadcast_to(Alpha, Qmean.shape)
    Mu = np.broadcast_to(np.asarray(Mu, dtype=np.float64), Qmean.shape)

    Z = np.array(Qmean, dtype=np.float64)  # working copy, updated factor by factor
    N, K = Z.shape
    pbar, foo, A, scattered = _z_terms(eng, Wexp, Z)
    var = 1.0 / (Alpha + foo)
    for k in range(K):
        s = np.einsum("nj,nj->n", A[:, k, :], Z) - A[:, k, k] * Z[:, k]
        if scattered:
            s -= _scatter_corr_z(scattered, k, Z[:, k], N)
        new = var[:, k] * (pbar[:, k] - s + Alpha[:, k] * Mu[:, k])
        if scattered:
            _scatter_update_z(scattered, k, new - Z[:, k])
        Z[:, k] = new
    Qmean[...] = Z
    Qvar[...] = var
    self.Q.setParameters(mean=Qmean, var=Qvar)
    eng.z_version += 1


def _update_SZ(self, ix=None, ro=1.0):
    """Blocked replacement of ``SZ_Node.updateParameters`` (spike-and-slab factors)."""
    eng: _Engine = self._hm_engine
    if ix is not None:
        raise EngineError("the fast engine does not support stochastic (mini-batch) updates")
    Wexp = self.markov_blanket["W"].getExpectations()
    if "AlphaZ" in self.markov_blanket:
        Alpha = np.asarray(self.markov_blanket["AlphaZ"].get_mini_batch(), dtype=np.float64)
    else:
        Alpha = 1.0 / np.asarray(self.P.params["var_B1"], dtype=np.float64)
    thetatmp = self.markov_blanket["ThetaZ"].get_mini_batch()
    theta_lnE, theta_lnEInv = thetatmp["lnE"], thetatmp["lnEInv"]
    Q = self.Q.getParameters()
    SZexp = self.Q.getExpectations()["E"]
    Qmean_T1, Qvar_T1, Qtheta = Q["mean_B1"], Q["var_B1"], Q["theta"]
    Alpha = np.broadcast_to(Alpha, Qmean_T1.shape)

    SZ = np.array(SZexp, dtype=np.float64)
    N, K = SZ.shape
    pbar, foo, A, scattered = _z_terms(eng, Wexp, SZ)
    tmp3 = Alpha + foo
    lt = np.asarray(theta_lnE - theta_lnEInv, dtype=np.float64)
    lt = np.broadcast_to(lt, SZ.shape)
    mean = np.empty_like(SZ)
    theta = np.empty_like(SZ)
    for k in range(K):
        s = np.einsum("nj,nj->n", A[:, k, :], SZ) - A[:, k, k] * SZ[:, k]
        if scattered:
            s -= _scatter_corr_z(scattered, k, SZ[:, k], N)
        diff = pbar[:, k] - s
        term1 = lt[:, k]
        term2 = 0.5 * np.log(Alpha[:, k])
        term3 = 0.5 * np.log(tmp3[:, k])
        term4 = 0.5 * np.square(diff) / tmp3[:, k]
        theta[:, k] = np.nan_to_num(_sigmoid(term1 + term2 - term3 + term4))
        mean[:, k] = diff / tmp3[:, k]
        new = theta[:, k] * mean[:, k]
        if scattered:
            _scatter_update_z(scattered, k, new - SZ[:, k])
        SZ[:, k] = new
    Qtheta[...] = theta
    Qvar_T1[...] = 1.0 / tmp3
    Qmean_T1[...] = mean
    SZexp[...] = SZ
    Q["var_B0"] = 1.0 / Alpha
    eng.z_version += 1


# --------------------------------------------------------------------------------------------------
# W update
# --------------------------------------------------------------------------------------------------
def _w_terms(eng: _Engine, view, Zexp):
    """t1 (D x K), foo (D x K) and a function t2(k, Wcur) = sum_n tau Z_k sum_{j!=k} Z_j Wcur_j."""
    m = view.m
    Z = np.asarray(Zexp["E"], dtype=np.float64)
    ZZ = np.asarray(Zexp["E2"], dtype=np.float64)
    K = Z.shape[1]
    if isinstance(view, _GaussView):
        tau_g = eng.tau_gauss(m)
        ytz = eng.ytz(view, Z)
        t1 = np.zeros((view.D, K))
        foo = np.zeros((view.D, K))
        Gs = []
        for g, sl in enumerate(view.group_slices):
            pg = view.present_g[g]
            tg = tau_g[g]
            t1 += tg[:, None] * ytz[g]
            foo += tg[:, None] * ZZ[sl][pg].sum(axis=0)[None, :]
            Zg = Z[sl][pg]
            Gs.append((tg, Zg.T @ Zg))
        scat = None
        if view.n_scattered:
            S = eng.sparse_tau(view, tau_g)
            foo -= S.T @ ZZ
            scat = (S.data, view.e_rows, view.e_cols)

        def t2(k, Wc, r):
            out = np.zeros(view.D)
            for tg, Gg in Gs:
                out += tg * (Wc @ Gg[:, k] - Wc[:, k] * Gg[k, k])
            if scat is not None:
                t, er, ec = scat
                zk = Z[er, k]
                out -= np.bincount(ec, weights=t * zk * (r - zk * Wc[ec, k]), minlength=view.D)
            return out

        return Z, t1, foo, t2, scat
    # dense view
    T = eng.tau_dense(view)
    Yv = np.asarray(eng.Y_nodes[m].getExpectation(), dtype=np.float64)
    Td = eng.dev(T)
    Zd = eng.dev(Z)
    t1 = _host((Td * eng.dev(Yv)).T @ Zd)
    foo = _host(Td.T @ eng.dev(ZZ))
    iu, ju = np.triu_indices(K)
    Csym = _host(Td.T @ eng.dev(Z[:, iu] * Z[:, ju]))  # D x K(K+1)/2, C[d] is symmetric
    C = np.empty((view.D, K, K))
    C[:, iu, ju] = Csym
    C[:, ju, iu] = Csym
    del Td, Zd

    def t2(k, Wc, r):
        return np.einsum("dj,dj->d", C[:, k, :], Wc) - C[:, k, k] * Wc[:, k]

    return Z, t1, foo, t2, None


def _update_SW(self, ix=None, ro=1.0):
    """Blocked replacement of ``SW_Node.updateParameters`` (spike-and-slab weights, one view)."""
    eng: _Engine = self._hm_engine
    view = eng.views[self._hm_view]
    if ix is not None or (ro is not None and ro != 1.0):
        raise EngineError("the fast engine does not support stochastic (mini-batch) updates")
    Zexp = self.markov_blanket["Z"].get_mini_batch()
    if "AlphaW" in self.markov_blanket:
        alpha = np.asarray(self.markov_blanket["AlphaW"].getExpectation(expand=False), dtype=np.float64)
    else:
        alpha = 1.0 / np.asarray(self.P.params["var_B1"], dtype=np.float64)
    th = self.markov_blanket["ThetaW"].getExpectations(expand=False)
    lt = np.asarray(th["lnE"] - th["lnEInv"], dtype=np.float64)
    Q = self.Q.getParameters()
    SWexp = self.Q.getExpectations()["E"]
    Qmean_S1, Qvar_S1, Qvar_S0, Qtheta = Q["mean_B1"], Q["var_B1"], Q["var_B0"], Q["theta"]
    D, K = Qmean_S1.shape
    alpha = np.broadcast_to(alpha, (D, K))
    lt = np.broadcast_to(lt, (D, K))

    Z, t1, foo, t2fn, scat = _w_terms(eng, view, Zexp)
    SW = np.array(SWexp, dtype=np.float64)
    r = eng.rowdot(Z, scat[1], SW, scat[2]) if scat is not None else None
    tmp3 = foo + alpha
    # factor-independent parts of the logit, term1 + term2 - term3 (D x K), and 1/tmp3, computed once;
    # per-factor rows of the transposed (K x D) copies are contiguous
    base_t = np.ascontiguousarray((lt + 0.5 * np.log(alpha) - 0.5 * np.log(tmp3)).T)
    inv_t = np.ascontiguousarray((1.0 / tmp3).T)
    t1_t = np.ascontiguousarray(t1.T)
    SW = np.asfortranarray(SW)  # contiguous columns for the factor loop, still usable as SW @ G
    mean_t = np.empty((K, D))
    theta_t = np.empty((K, D))
    for k in range(K):
        diff = t1_t[k] - t2fn(k, SW, r)
        logit = base_t[k] + 0.5 * np.square(diff) * inv_t[k]
        theta_t[k] = _sigmoid(logit)
        mean_t[k] = diff * inv_t[k]
        new = theta_t[k] * mean_t[k]
        if r is not None:
            r += Z[scat[1], k] * (new - SW[:, k])[scat[2]]
        SW[:, k] = new
    theta, mean = theta_t.T, mean_t.T
    Qtheta[...] = theta
    Qvar_S1[...] = 1.0 / tmp3
    Qmean_S1[...] = mean
    Qvar_S0[...] = 1.0 / alpha
    SWexp[...] = SW
    self.Q.setParameters(
        mean_B0=np.zeros((self.dim[0], self.dim[1])),
        var_B0=Qvar_S0,
        mean_B1=Qmean_S1,
        var_B1=Qvar_S1,
        theta=Qtheta,
    )


def _update_W(self, ix=None, ro=1.0):
    """Blocked replacement of ``W_Node.updateParameters`` (ARD-only weights, one view)."""
    eng: _Engine = self._hm_engine
    view = eng.views[self._hm_view]
    if ix is not None or (ro is not None and ro != 1.0):
        raise EngineError("the fast engine does not support stochastic (mini-batch) updates")
    Zexp = self.markov_blanket["Z"].get_mini_batch()
    Mu = np.asarray(self.P.getParameters()["mean"], dtype=np.float64)
    if "AlphaW" in self.markov_blanket:
        alpha = np.asarray(self.markov_blanket["AlphaW"].getExpectation(expand=False), dtype=np.float64)
    else:
        alpha = 1.0 / np.asarray(self.P.params["var"], dtype=np.float64)
    Q = self.Q.getParameters()
    Qmean, Qvar = Q["mean"], Q["var"]
    D, K = Qmean.shape
    alpha = np.broadcast_to(alpha, (D, K))
    Mu = np.broadcast_to(Mu, (D, K))

    Z, t1, foo, t2fn, scat = _w_terms(eng, view, Zexp)
    Wm = np.array(Qmean, dtype=np.float64)
    r = eng.rowdot(Z, scat[1], Wm, scat[2]) if scat is not None else None
    var = 1.0 / (alpha + foo)
    for k in range(K):
        bar = t1[:, k] - t2fn(k, Wm, r)
        new = var[:, k] * (bar + alpha[:, k] * Mu[:, k])
        if r is not None:
            r += Z[scat[1], k] * (new - Wm[:, k])[scat[2]]
        Wm[:, k] = new
    Qmean[...] = Wm
    Qvar[...] = var


# --------------------------------------------------------------------------------------------------
# Tau, Y (ELBO), bernoulli pseudo-data, variance explained
# --------------------------------------------------------------------------------------------------
def _update_TauD(self, ix=None, ro=1.0):
    """Blocked replacement of ``TauD_Node.updateParameters`` (gaussian noise precision, one view)."""
    eng: _Engine = self._hm_engine
    view = eng.views[self._hm_view]
    if ix is not None or (ro is not None and ro != 1.0):
        raise EngineError("the fast engine does not support stochastic (mini-batch) updates")
    Wtmp = self.markov_blanket["W"].getExpectations()
    Ztmp = self.markov_blanket["Z"].get_mini_batch()
    P = self.P.getParameters()
    Pa, Pb = P["a"], P["b"]
    Q = self.Q.getParameters()
    Qa, Qb = Q["a"], Q["b"]
    sums = eng.gauss_sums(
        view,
        np.asarray(Ztmp["E"], np.float64),
        np.asarray(Ztmp["E2"], np.float64),
        np.asarray(Wtmp["E"], np.float64),
        np.asarray(Wtmp["E2"], np.float64),
    )
    for g in range(self.n_groups):
        if self.n_per_group[g] == 0:
            continue
        Qa[g, :] = Pa[g, :] + 0.5 * view.nobs_g[g]
        Qb[g, :] = Pb[g, :] + 0.5 * sums[g]
    self.Q.setParameters(a=Qa, b=Qb)


def _y_elbo(self):
    """``Y_Node.calculateELBO`` with cached observed counts (and no N x D temporaries)."""
    eng: _Engine = self._hm_engine
    view = eng.views[self._hm_view]
    tau = self.markov_blanket["Tau"]
    Tau = tau.getExpectations(expand=False)
    elbo = self.likconst
    if self.TauTrick:
        tq, tp = tau.getParameters("Q"), tau.getParameters("P")
        for g in range(eng.G):
            elbo += 0.5 * (Tau["lnE"][g, :] * view.nobs_g[g]).sum() - np.dot(
                Tau["E"][g, :], (tq["b"][g, :] - tp["b"][g, :])
            )
    else:
        Wt = self.markov_blanket["W"].getExpectations()
        Zt = self.markov_blanket["Z"].getExpectations()
        sums = eng.gauss_sums(
            view,
            np.asarray(Zt["E"], np.float64),
            np.asarray(Zt["E2"], np.float64),
            np.asarray(Wt["E"], np.float64),
            np.asarray(Wt["E2"], np.float64),
        )
        for g in range(eng.G):
            elbo += 0.5 * (Tau["lnE"][g, :] * view.nobs_g[g]).sum() - (Tau["E"][g, :] * 0.5 * sums[g]).sum()
    return elbo


def _update_bernoulli_zeta(self, ix=None, ro=None):
    """``Bernoulli_PseudoY_Jaakkola.updateParameters``: zeta = sqrt(E[(z w)^2]).

    E[(z.w)^2] = (E[z].E[w])^2 - E[z]^2.E[w]^2 + E[z^2].E[w^2]; the last two terms as one product
    [E[z^2], -E[z]^2] @ [E[w^2], E[w]^2]^T.
    """
    eng: _Engine = self._hm_engine
    Z = self.markov_blanket["Z"].getExpectations()
    W = self.markov_blanket["W"].getExpectations()
    ZE, WE = np.asarray(Z["E"], np.float64), np.asarray(W["E"], np.float64)
    left = np.concatenate([np.asarray(Z["E2"], np.float64), -ZE * ZE], axis=1)
    right = np.concatenate([np.asarray(W["E2"], np.float64), WE * WE], axis=1)
    ZW = eng.dev(ZE) @ eng.dev(WE).T
    zeta2 = ZW * ZW
    zeta2 += eng.dev(left) @ eng.dev(right).T
    self.params["zeta"] = _host(eng.xp.sqrt(zeta2))


def _variance_explained(self, total=False):
    """Blocked ``BayesNet.calculate_variance_explained`` (same definition, incl. mofapy2's masking)."""
    eng: _Engine = self._hm_engine
    Z = np.asarray(self.nodes["Z"].getExpectation(), dtype=np.float64)
    Wl = self.nodes["W"].getExpectation()
    Yl = self.nodes["Y"].getExpectation()
    groups = self.nodes["Y"].nodes[0].groups
    unique_groups, idx = np.unique(groups, return_index=True)
    unique_groups = unique_groups[np.argsort(idx)]
    G, M, K = self.dim["G"], self.dim["M"], Z.shape[1]
    r2 = [np.zeros(M) for _ in range(G)] if total else [np.zeros([M, K]) for _ in range(G)]
    for m in range(M):
        v = eng.views[m]
        W = np.asarray(Wl[m], dtype=np.float64)
        for gi in range(G):
            g = int(unique_groups[gi])
            if isinstance(v, _GaussView):
                sl = v.group_slices[g]
                SS = v.ysq_g[g].sum()
                ytz = eng.ytz(v, Z)[g]  # (D, K) = Y_g^T Z_g (Y is zero where missing)
                pg = v.present_g[g]
                Zg = Z[sl][pg]
                sel = v.e_grp == g if v.n_scattered else None
                if total:
                    quad = np.einsum("dk,dk->", W @ (Zg.T @ Zg), W)
                    if sel is not None and sel.any():
                        r = eng.rowdot(Z, v.e_rows[sel], W, v.e_cols[sel])
                        quad -= (r * r).sum()
                    cross = np.einsum("dk,dk->", W, ytz)
                    r2[gi][m] = 1.0 - (SS - 2.0 * cross + quad) / SS
                else:
                    z2 = (Zg * Zg).sum(axis=0)  # (K,)
                    quad = (W * W).sum(axis=0) * z2
                    if sel is not None and sel.any():
                        er, ec = v.e_rows[sel], v.e_cols[sel]
                        for k in range(K):
                            quad[k] -= np.sum(np.square(Z[er, k] * W[ec, k]))
                    cross = np.einsum("dk,dk->k", W, ytz)
                    r2[gi][m] = 1.0 - (SS - 2.0 * cross + quad) / SS
            else:
                gg = groups == g
                Y = np.asarray(Yl[m], dtype=np.float64)[gg]
                mask = v.mask[gg]
                observed = (~mask).astype(np.float64)
                Zg = Z[gg]
                SS = np.square(Y).sum()
                if total:
                    Ypred = Zg @ W.T
                    Ypred[mask] = 0.0
                    r2[gi][m] = 1.0 - np.sum((Y - Ypred) ** 2.0) / SS
                else:
                    cross = np.einsum("dk,dk->k", W, (Y * observed).T @ Zg)
                    quad = np.einsum("dk,dk->k", W * W, observed.T @ (Zg * Zg))
                    r2[gi][m] = 1.0 - (SS - 2.0 * cross + quad) / SS
    return r2


# --------------------------------------------------------------------------------------------------
# stopping rule
# --------------------------------------------------------------------------------------------------
@dataclass
class StoppingRule:
    """Stopping rule judged by the ELBO curve and, optionally, by the answer (the factors) itself.

    At every ELBO evaluation ``t`` (every ``freqELBO`` iterations) the rule computes the mean relative
    ELBO gain per iteration over the last ``window`` iterations,

        rate_t = (ELBO_t - ELBO_{t-window}) / (window * |ELBO_t - ELBO_0|)

    (the scale ``|ELBO_t - ELBO_0|`` is the total gain since initialisation, so the rule does not depend on
    the arbitrary offset of the ELBO). With ``factor_tol`` set it also measures how far the answer moved
    since the previous evaluation,

        move_t = max over factors k with share_k >= min_share of
                 max(1 - |corr(Z_t[:, k], Z_{t-1}[:, k])|, 1 - |cos(W_t[:, k], W_{t-1}[:, k])|)

    (W: all views stacked; ``share_k = |Z_k|^2 |W_k|^2 / sum_j |Z_j|^2 |W_j|^2``, the factor's part of the
    fitted signal). An ELBO curve can be flat while a weak factor is still being learned; the factors then
    still move, and ``move_t`` says so. A factor being learned leaves a saddle: its movement grows from tiny
    values, so a watched factor whose movement grows (and exceeds ``factor_tol / 100``) also blocks the stop.
    Surplus factors that model noise (a share of ~1e-4) keep rotating slowly long after the others have
    settled; ``min_share`` leaves them out. The fit stops when ``rate_t < tol`` (and ``move_t < factor_tol``
    with no watched factor speeding up) at ``patience`` consecutive evaluations, never before ``min_iter``
    iterations nor before one full window after mofapy2 starts the spike-and-slab (``ThetaW``) updates
    (``startSparsity``). ``maxiter`` still bounds the fit.

    Parameters
    ----------
    tol
        Threshold on the relative ELBO gain per iteration.
    window
        Window length in iterations (rounded up to a multiple of freqELBO).
    patience
        Consecutive evaluations below the thresholds needed to stop.
    min_iter
        Never stop before this iteration.
    factor_tol
        Threshold on ``move_t`` (``None``: ELBO only, the former "window" rule).
    min_share
        Factors below this share of the fitted signal are not watched (0: all factors).
    name
        Label recorded with the fit.
    """

    tol: float = 5e-7
    window: int = 10
    patience: int = 2
    min_iter: int = 50
    factor_tol: float | None = None
    min_share: float = 0.0
    name: str = "elbo_window"

    def __post_init__(self):
        if not (isinstance(self.tol, (int, float)) and np.isfinite(self.tol) and self.tol > 0):
            raise ValueError(f"StoppingRule.tol must be a positive number, got {self.tol!r}")
        for name in ("window", "patience"):
            val = getattr(self, name)
            if not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"StoppingRule.{name} must be a positive integer, got {val!r}")
        if not isinstance(self.min_iter, (int, np.integer)) or self.min_iter < 0:
            raise ValueError(f"StoppingRule.min_iter must be a non-negative integer, got {self.min_iter!r}")
        if self.factor_tol is not None and not (
            isinstance(self.factor_tol, (int, float)) and np.isfinite(self.factor_tol) and self.factor_tol > 0
        ):
            raise ValueError(f"StoppingRule.factor_tol must be None or a positive number, got {self.factor_tol!r}")
        if not (isinstance(self.min_share, (int, float)) and 0 <= self.min_share < 1):
            raise ValueError(f"StoppingRule.min_share must be a number in [0, 1), got {self.min_share!r}")

    def as_dict(self) -> dict:
        return {
            "rule": self.name,
            "tol": self.tol,
            "window": self.window,
            "patience": self.patience,
            "min_iter": self.min_iter,
            "factor_tol": self.factor_tol,
            "min_share": self.min_share,
        }


# named rules. "factors" (the default of hm.tl.mofa with the fast engine): ELBO window and the factors that
# carry >= 0.1 % of the fitted signal at rest (1e-5 per check); "factors_strict": every factor, ten times
# stricter, used where the default was not checked against mofapy2 (benchmarks/results/engine_grid.md);
# "window": the ELBO-only rule of earlier releases.
STOPPING_RULES = {
    "window": {"name": "elbo_window"},
    "factors": {"factor_tol": 1e-5, "min_share": 1e-3, "name": "factors"},
    "factors_strict": {"factor_tol": 1e-6, "tol": 2e-7, "min_share": 0.0, "name": "factors_strict"},
}
_RULE_FIELDS = {"tol", "window", "patience", "min_iter", "factor_tol", "min_share", "name"}


def _parse_stopping(stopping) -> StoppingRule | None:
    if stopping is None or stopping == "mofapy2":
        return None
    if isinstance(stopping, StoppingRule):
        return stopping
    if isinstance(stopping, str):
        key = {"elbo_window": "window", "auto": "factors"}.get(stopping, stopping)
        if key in STOPPING_RULES:
            return StoppingRule(**STOPPING_RULES[key])
    if isinstance(stopping, dict):
        kw = dict(stopping)
        rule = kw.pop("rule", None)
        unknown = set(kw) - _RULE_FIELDS
        if unknown:
            raise ValueError(f"unknown stopping option(s) {sorted(unknown)}; expected {sorted(_RULE_FIELDS)}")
        if rule is not None and "name" not in kw:
            kw["name"] = str(rule)
        return StoppingRule(**kw)
    raise ValueError(
        f"stopping must be None/'mofapy2' (mofapy2's convergence_mode), one of {sorted(STOPPING_RULES)}, "
        f"a dict of StoppingRule fields or a StoppingRule, got {stopping!r}"
    )


def _unit_columns(a: np.ndarray, *, centre: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns scaled to unit norm (centred first when asked), their norms, the mask of non-zero columns."""
    a = np.asarray(a, dtype=np.float64)
    if centre:
        a = a - a.mean(axis=0)
    norm = np.sqrt(np.einsum("ij,ij->j", a, a))
    ok = norm > 1e-12 * max(float(norm.max(initial=0.0)), 1e-300)
    return a / np.where(ok, norm, 1.0), norm, ok


def factor_movement(model, state: dict, min_share: float = 0.0) -> np.ndarray:
    """Per factor, how far Z and W moved since the previous call (NaN: not watched or not comparable).

    Returns an empty array the first time and after factors were dropped (nothing to compare with).
    """
    Z = model.nodes["Z"].getExpectation()
    W = np.concatenate([np.asarray(w) for w in model.nodes["W"].getExpectation()], axis=0)
    z, zn, zok = _unit_columns(Z, centre=True)
    w, wn, wok = _unit_columns(W, centre=False)
    prev = state.get("previous")
    state["previous"] = (z, zok, w, wok)
    if prev is None or prev[0].shape != z.shape or prev[2].shape != w.shape:
        return np.zeros(0)  # first check, or factors were dropped: no comparison
    signal = (zn * wn) ** 2
    total = signal.sum()
    watched = signal >= min_share * total if total > 0 else np.ones(signal.size, dtype=bool)
    mz = np.where(zok & prev[1], 1.0 - np.abs(np.einsum("ij,ij->j", z, prev[0])), 0.0)
    mw = np.where(wok & prev[3], 1.0 - np.abs(np.einsum("ij,ij->j", w, prev[2])), 0.0)
    return np.where(watched, np.maximum(mz, mw), np.nan)


def _install_stopping(model, rule: StoppingRule, state: dict) -> None:
    orig_calc = model.calculateELBO  # bound method of the instance's class

    def calculateELBO(self, *nodes):
        out = orig_calc(*nodes)
        if not nodes:
            state["trace"].append(float(out["total"]))
        return out

    def assess_convergence(self, delta_elbo, first_elbo, convergence_token):
        tr = state["trace"]
        freq = max(int(self.options.get("freqELBO", 1)), 1)
        start = int(self.options.get("start_elbo", 1))
        t = len(tr) - 1  # index of the current ELBO in the trace; tr[0] is the pre-training ELBO
        it = start + (t - 1) * freq  # current iteration
        lag = max(1, -(-rule.window // freq))  # evaluations spanning >= window iterations
        converged = False
        # never before min_iter, nor before a full window after the spike-and-slab updates start
        earliest = max(rule.min_iter, int(self.options.get("start_sparsity", 0)) + lag * freq)
        move, growing_now = None, False
        if rule.factor_tol is not None:
            per_factor = factor_movement(self, state, rule.min_share)
            before = state.get("per_factor")
            state["per_factor"] = per_factor
            if per_factor.size == 0 or np.isnan(per_factor).all():
                move = float("inf") if per_factor.size == 0 else 0.0
            else:
                move = float(np.nanmax(per_factor))
                # a factor whose movement grows is leaving a saddle (being learned), however small the
                # movement still is: not at rest. Below factor_tol / 100 the movement is round-off.
                if before is not None and before.shape == per_factor.shape:
                    with np.errstate(invalid="ignore"):
                        growing = (per_factor > before) & (per_factor > rule.factor_tol * 1e-2)
                    if growing.any():
                        state["growing"].append((it, int(np.flatnonzero(growing)[0])))
                        growing_now = True
        if t - lag >= 1 and it >= earliest:
            gain = tr[t] - tr[t - lag]
            scale = abs(tr[t] - tr[0]) or 1.0
            rate = gain / (lag * freq * scale)
            state["rates"].append((it, rate))
            ok = rate < rule.tol
            if move is not None:
                state["movement"].append((it, move))
                ok = ok and move < rule.factor_tol and not growing_now
            state["below"] = state["below"] + 1 if ok else 0
            converged = state["below"] >= rule.patience
        if converged:
            state["stopped_at"] = it
        return convergence_token, converged

    model.calculateELBO = types.MethodType(calculateELBO, model)
    model.assess_convergence = types.MethodType(assess_convergence, model)


# --------------------------------------------------------------------------------------------------
# public entry
# --------------------------------------------------------------------------------------------------
def accelerate(model, *, float32: bool = False, xp=None, stopping=None) -> dict:
    """Replace the slow node updates of one mofapy2 model with the fast blocked engine.

    Call after ``ent.build()`` and before ``ent.run()``. Only the given model object is changed:
    its nodes get instance-level replacements of ``updateParameters`` (Z, W per view, Tau per gaussian
    view, bernoulli ``zeta``), the gaussian ``Y`` nodes a replacement ``calculateELBO``, and the model a
    replacement ``calculate_variance_explained`` (used by mofapy2's ``save``). With a ``stopping`` rule
    the model's ``assess_convergence`` and ``calculateELBO`` are wrapped as well.

    Parameters
    ----------
    model
        ``mofapy2.core.BayesNet.BayesNet`` (``entry_point.model``), built, not yet trained.
    float32
        Run the products with the data (the ``N x D`` work) in float32. The data are copied once to float32
        (half their float64 size); the ``K``-sized bookkeeping and all model parameters stay float64.
    xp
        Array module for the heavy products: ``None`` (cupy if importable with a visible GPU, else
        numpy), ``"numpy"``, ``"cupy"`` or the module itself.
    stopping
        ``None`` or ``"mofapy2"``: keep mofapy2's ``convergence_mode`` rule. A name of
        :data:`STOPPING_RULES` (``"factors"``: ELBO window and factors at rest; ``"factors_strict"``;
        ``"window"``: ELBO only), a dict of :class:`StoppingRule` fields or a :class:`StoppingRule`: use
        that rule instead (``forceiter``/``min_iter``/``maxiter`` still apply).

    Returns
    -------
    dict
        Engine description, also stored as ``model._hm_fast_engine_info``: ``engine``, ``float32``,
        ``backend`` ("numpy"/"cupy"), ``views`` (likelihood per view), ``n_scattered_missing`` (per view),
        ``stopping`` (dict or None) and ``stopping_state`` (live dict: ``trace`` of ELBO totals, ``rates``,
        ``movement``, ``stopped_at``).

    Raises
    ------
    TypeError
        If ``model`` is not a mofapy2 BayesNet.
    EngineError
        For models the engine does not implement (stochastic inference, MEFISTO/smooth, zero-inflated).
    """
    from mofapy2.core.nodes.nongaussian_nodes import Bernoulli_PseudoY_Jaakkola
    from mofapy2.core.nodes.W_nodes import SW_Node
    from mofapy2.core.nodes.Z_nodes import SZ_Node

    if not isinstance(float32, (bool, np.bool_)):
        raise TypeError(f"float32 must be a bool, got {float32!r}")
    if hasattr(model, "_hm_engine"):
        raise EngineError("accelerate(): this model is already accelerated")
    if getattr(model, "trained", False):
        raise EngineError("accelerate(): the model is already trained; call it after ent.build() and before ent.run()")
    rule = _parse_stopping(stopping)
    xpm = _resolve_xp(xp)
    eng = _Engine(model, float32=bool(float32), xp=xpm)

    z = model.nodes["Z"]
    z._hm_engine = eng
    z.updateParameters = types.MethodType(_update_SZ if isinstance(z, SZ_Node) else _update_Z, z)
    for m in range(eng.M):
        w = eng.W_nodes[m]
        w._hm_engine, w._hm_view = eng, m
        w.updateParameters = types.MethodType(_update_SW if isinstance(w, SW_Node) else _update_W, w)
        if eng.kinds[m] == "gaussian":
            t, y = eng.tau_nodes[m], eng.Y_nodes[m]
            t._hm_engine, t._hm_view = eng, m
            t.updateParameters = types.MethodType(_update_TauD, t)
            y._hm_engine, y._hm_view = eng, m
            y.calculateELBO = types.MethodType(_y_elbo, y)
        elif isinstance(eng.Y_nodes[m], Bernoulli_PseudoY_Jaakkola):
            y = eng.Y_nodes[m]
            y._hm_engine = eng
            y.updateParameters = types.MethodType(_update_bernoulli_zeta, y)
    model._hm_engine = eng
    model.calculate_variance_explained = types.MethodType(_variance_explained, model)

    orig_remove = model.removeInactiveFactors

    def removeInactiveFactors(self, *args, **kwargs):
        out = orig_remove(*args, **kwargs)
        eng.z_version += 1  # factor dropping changes Z: invalidate cached products
        return out

    model.removeInactiveFactors = types.MethodType(removeInactiveFactors, model)

    state = {"trace": [], "rates": [], "movement": [], "growing": [], "below": 0, "stopped_at": None}
    if rule is not None:
        _install_stopping(model, rule, state)
    info = {
        "engine": "fast",
        "float32": bool(float32),
        "backend": "cupy" if xpm is not np and xpm.__name__.startswith("cupy") else "numpy",
        "views": list(eng.kinds),
        "n_scattered_missing": [v.n_scattered if isinstance(v, _GaussView) else int(v.mask.sum()) for v in eng.views],
        "stopping": rule.as_dict() if rule is not None else None,
        "stopping_state": state,
    }
    model._hm_fast_engine_info = info
    logger.debug("fast engine installed: %s", {k: v for k, v in info.items() if k != "stopping_state"})
    return info
