"""Drive mofapy2's entry point: quiet stdout, progress bar over iterations, results as plain arrays.

Private module of :mod:`harmonomics.models.mofa`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._keys import CONVERGENCE_MODES, ENGINE_STOPPING_RULES, MOFAPY2_CONVERGENCE_MODES  # noqa: F401 (re-exported)
from .._progress import progress_bar
from ._mofa_data import Inputs

logger = logging.getLogger(__name__)

_ITER_ELBO = re.compile(r"^Iteration (\d+): time=[^,]*, ELBO=([^,]+),")
_ITER = re.compile(r"^Iteration (\d+):")


class _StdoutToLog(io.TextIOBase):
    """A text stream that sends mofapy2's prints to logging (DEBUG) and drives a progress bar."""

    def __init__(self, bar=None) -> None:
        self._buf = ""
        self._bar = bar
        self._last = 0
        self.converged_printed = False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self._buf += s
        while "\n" in self._buf:
            line, self._buf = self._buf.split("\n", 1)
            self._line(line)
        return len(s)

    def flush(self) -> None:
        pass

    def close_buffer(self) -> None:
        if self._buf:
            self._line(self._buf)
            self._buf = ""

    def _line(self, line: str) -> None:
        line = line.replace("\a", "").rstrip()
        if not line.strip():
            return
        logger.debug("mofapy2: %s", line)
        if line.strip() == "Converged!":
            self.converged_printed = True
        if self._bar is None:
            return
        m = _ITER_ELBO.match(line)
        if m:
            it = int(m.group(1))
            self._bar.update(it - self._last)
            self._last = it
            self._bar.set_postfix_str(f"ELBO={float(m.group(2)):.4g}", refresh=False)
            return
        m = _ITER.match(line)
        if m:
            it = int(m.group(1))
            self._bar.update(it - self._last)
            self._last = it


@contextlib.contextmanager
def quiet_mofapy2(bar=None):
    """Redirect stdout to logging (and the bar) and undo mofapy2's global ``warnings.filterwarnings('ignore')``."""
    stream = _StdoutToLog(bar)
    with warnings.catch_warnings(), contextlib.redirect_stdout(stream):
        # mofapy2's numerical noise (log(0) in the ELBO of the spike-and-slab, ...) is not the user's concern
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"mofapy2(\..*)?$")
        try:
            yield stream
        finally:
            stream.close_buffer()


def import_entry_point():
    """Import mofapy2's entry point without leaking its global warning filter or its banner."""
    with quiet_mofapy2():
        from mofapy2.run.entry_point import entry_point
    return entry_point


@dataclass
class FitOptions:
    n_factors: int
    scale_views: bool
    seed: int
    convergence: str
    max_iter: int
    float32: bool
    gpu: bool
    engine: str
    spikeslab_weights: bool = True
    ard_weights: bool = True
    ard_factors: bool = False
    start_elbo: int = 1
    freq_elbo: int = 5
    start_sparsity: int = 50
    init: str = "pca"

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class FitResult:
    """A fitted model as plain arrays, factors in the order mofapy2 writes them to its model file."""

    Z: np.ndarray  # n_fit x K (fit order)
    W: list[np.ndarray]  # per view D x K
    W2: list[np.ndarray]  # per view D x K, E[w^2]
    tau: list[np.ndarray]  # per view G x D (gaussian); bernoulli/poisson: G x D mean pseudo-precision
    Y: list[np.ndarray]  # per view n_fit x D, processed data (pseudo-data for non-gaussian); see mask
    mask: list[np.ndarray]  # per view n_fit x D, True where missing
    pseudo_means: list[np.ndarray | None]  # bernoulli: feature means regressed out of the pseudo-data
    alpha_z: np.ndarray  # G x K prior precision of the factors
    centre: list[np.ndarray]  # per view G x D training means (0 for non-gaussian)
    scale: list[float]  # per view training scale (1 for non-gaussian or scale_views=False)
    elbo: np.ndarray
    elbo_iterations: np.ndarray
    n_iterations: int
    converged: bool
    time_s: float
    order: np.ndarray  # permutation applied to mofapy2's factors
    extra: dict = field(default_factory=dict)


def check_gpu() -> object:
    """Return cupy when it is installed and sees a CUDA GPU, else raise MissingDependencyError."""
    from .._errors import MissingDependencyError, require

    cp = require("cupy", extra="gpu", purpose="MOFA with gpu=True")
    try:
        n = cp.cuda.runtime.getDeviceCount()
    except Exception as err:  # cupy raises CUDARuntimeError when no driver/device
        raise MissingDependencyError(
            f"MOFA with gpu=True needs a CUDA GPU, but cupy found none ({err}); use gpu=False to fit on the CPU"
        ) from err
    if n < 1:
        raise MissingDependencyError("MOFA with gpu=True needs a CUDA GPU, but cupy found none; use gpu=False")
    return cp


def _replicate_processing(inputs: Inputs, opts: FitOptions) -> tuple[list[np.ndarray], list[float]]:
    """The centring (per group) and view scaling mofapy2's process_data applies, recorded for projection."""
    centres, scales = [], []
    for v in inputs.views:
        G = len(inputs.groups)
        if v.likelihood != "gaussian":
            centres.append(np.zeros((G, v.data.shape[1])))
            scales.append(1.0)
            continue
        x = v.data.copy()
        c = np.zeros((G, x.shape[1]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a group without this view: all-NaN slice
            for gi, g in enumerate(inputs.groups):
                rows = inputs.sample_groups == g
                c[gi] = np.nanmean(x[rows], axis=0)
                x[rows] -= c[gi]
        c = np.nan_to_num(c)
        centres.append(c)
        scales.append(float(np.nanstd(x)) if opts.scale_views else 1.0)
    return centres, scales


def svd_initial_factors(data: list[np.ndarray], n_factors: int, *, seed: int, float32: bool) -> np.ndarray:
    """Initial factor means from a truncated randomized SVD of the concatenated views.

    The same construction as mofapy2's PCA initialisation (missing values imputed by the feature mean,
    features centred, scores of the leading components scaled to [-1, 1] per factor), with a randomized
    range finder (two power iterations) instead of sklearn's PCA, and in float32 when asked. Its cost is
    about that of two or three engine iterations; the initial subspace differs from the exact PCA by the
    randomized error only, which the training removes (tests/models/test_fast_engine.py, engine grid).
    """
    from sklearn.utils.extmath import randomized_svd

    dtype = np.float32 if float32 else np.float64
    X = np.concatenate([np.asarray(d, dtype=dtype) for d in data], axis=1)  # the one copy: imputed in place
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing column (a group without this view)
        mean = np.nanmean(X, axis=0)
    mean = np.nan_to_num(mean)
    holes = np.isnan(X)
    if holes.any():
        X[holes] = np.broadcast_to(mean, X.shape)[holes]
    del holes
    X -= mean
    K = min(int(n_factors), min(X.shape))
    U, S, _ = randomized_svd(X, K, n_oversamples=10, n_iter=2, random_state=int(seed))
    del X
    q = (U * S).astype(np.float64)
    if n_factors > K:  # fewer components than factors: fill with noise (mofapy2 cannot do better)
        rng = np.random.default_rng(seed)
        q = np.concatenate([q, rng.standard_normal((q.shape[0], n_factors - K))], axis=1)
    ptp = np.ptp(q, axis=0)
    return 2.0 * (q - q.min(axis=0)) / np.where(ptp > 0, ptp, 1.0) - 1.0


def random_initial_factors(n_samples: int, n_factors: int, *, seed: int) -> np.ndarray:
    """Seeded standard-normal initial factors scaled to [-1, 1] per factor (as mofapy2 scales its PCA).

    mofapy2 initialises E[Z] with the (deterministic) principal components of the data, so fits that
    differ only in ``seed`` come out (nearly) identical; drawing the initial factors from the seed makes
    refits with different seeds explore different starting points, as a stability analysis needs.
    """
    z = np.random.default_rng(seed).standard_normal((n_samples, n_factors))
    return 2.0 * (z - z.min(axis=0)) / np.ptp(z, axis=0) - 1.0


def _build_model(ent, initial_factors) -> None:
    """``entry_point.build``, the factors initialised by ``initial_factors(data)`` instead of sklearn's PCA.

    A subclass of mofapy2's model builder (no mofapy2 class is modified); everything but the initial mean of
    Z is built by mofapy2's own code, so the PCA of the full data is never computed.
    """
    from mofapy2.build_model.build_model import buildBiofam
    from mofapy2.core.BayesNet import BayesNet, StochasticBayesNet

    class _Builder(buildBiofam):
        def build_Z(self):
            if self.model_opts["spikeslab_factors"]:
                return super().build_Z()
            self.init_model.initZ(
                qmean=initial_factors(self.data),
                weight_views=self.train_opts["weight_views"],
            )

    tmp = _Builder(ent.data, ent.dimensionalities, ent.data_opts, ent.model_opts, ent.train_opts)
    tmp.main()
    ent.model_builder = tmp
    net = StochasticBayesNet if ent.train_opts["stochastic"] else BayesNet
    ent.model = net(ent.dimensionalities, tmp.get_nodes())


def build_entry_point(inputs: Inputs, opts: FitOptions, *, bar=None):
    """Create and build a mofapy2 entry point for ``inputs`` (what the benchmark's direct fit does too)."""
    entry_point = import_entry_point()
    with quiet_mofapy2(bar):
        ent = entry_point()
        ent.set_data_options(scale_views=opts.scale_views, use_float32=opts.float32)
        one_group = len(inputs.groups) == 1
        # one group: hand the views over as they are (mofapy2 copies them anyway); else one slice per group
        data = [
            [v.data] if one_group else [v.data[inputs.sample_groups == g] for g in inputs.groups] for v in inputs.views
        ]
        ent.set_data_matrix(
            data,
            likelihoods=[v.likelihood for v in inputs.views],
            views_names=[v.name for v in inputs.views],
            groups_names=list(inputs.groups),
            samples_names=[list(inputs.obs_names[inputs.fit_rows][inputs.sample_groups == g]) for g in inputs.groups],
            features_names=[list(v.features) for v in inputs.views],
        )
        del data
        ent.set_model_options(
            factors=opts.n_factors,
            spikeslab_weights=opts.spikeslab_weights,
            ard_weights=opts.ard_weights,
            ard_factors=opts.ard_factors,
        )
        ent.set_train_options(
            iter=opts.max_iter,
            # with the engine's own rules, mofapy2's test is replaced (accelerate(stopping=...))
            convergence_mode=opts.convergence if opts.convergence in MOFAPY2_CONVERGENCE_MODES else "medium",
            startELBO=opts.start_elbo,
            freqELBO=opts.freq_elbo,
            startSparsity=opts.start_sparsity,
            seed=opts.seed,
            gpu_mode=bool(opts.gpu and opts.engine == "mofapy2"),
            verbose=False,
            quiet=False,
        )
        if opts.init == "pca":
            ent.build()  # mofapy2's own PCA initialisation
        elif opts.init == "svd":
            K, seed, f32 = opts.n_factors, opts.seed, opts.float32
            _build_model(ent, lambda data: svd_initial_factors(data, K, seed=seed, float32=f32))
        elif opts.init == "random":
            K, seed = opts.n_factors, opts.seed
            _build_model(ent, lambda data: random_initial_factors(data[0].shape[0], K, seed=seed))
        else:
            raise ValueError(f"init must be one of {INITS[1:]} here, got {opts.init!r}")
    return ent


# "auto": "svd" with the fast engine, "pca" (mofapy2's own, bit for bit) with engine="mofapy2"
INITS = ("auto", "pca", "svd", "random")


def run(inputs: Inputs, opts: FitOptions) -> tuple[FitResult, object]:
    """Fit and extract the results. Returns (result, trained entry point)."""
    xp = check_gpu() if opts.gpu else None
    state = np.random.get_state()  # mofapy2 seeds numpy's global generator; leave the caller's untouched
    import_entry_point()
    from mofapy2 import config as _mofapy2_config  # a process-wide float32 switch set by set_data_options

    float32_before = _mofapy2_config.use_float32
    t0 = time.perf_counter()
    bar = progress_bar(desc=f"MOFA ({opts.engine})", total=opts.max_iter - 1, unit="iter")
    try:
        ent = build_entry_point(inputs, opts, bar=bar)
        stopping_info = None
        if opts.engine == "fast":
            from ._fast_engine import accelerate

            # xp is explicit: the engine would otherwise pick a visible GPU on its own
            info = accelerate(
                ent.model,
                float32=opts.float32,
                xp=xp if xp is not None else "numpy",
                stopping=opts.convergence if opts.convergence in ENGINE_STOPPING_RULES else None,
            )
            stopping_info = info
            engine_info = {
                "backend": str(info.get("backend", "")),
                "float32": bool(info.get("float32", opts.float32)),
            }
        else:
            engine_info = {"backend": "cupy" if opts.gpu else "numpy", "float32": bool(opts.float32)}
        t1 = time.perf_counter()  # end of the build: data handed over, processed, initialised; engine set up
        with quiet_mofapy2(bar) as stream:
            ent.run()
        if not ent.model.trained:
            raise RuntimeError("mofapy2 stopped before the end of training (interrupted)")
        t2 = time.perf_counter()
        res = extract(ent, inputs, opts, time_s=t2 - t0)
        res.extra["converged_printed"] = stream.converged_printed
        res.extra["engine_info"] = engine_info
        res.extra["time_build_s"] = t1 - t0
        res.extra["time_train_s"] = t2 - t1
        if stopping_info is not None and stopping_info.get("stopping"):
            st = stopping_info["stopping_state"]
            res.extra["stopping"] = {
                **stopping_info["stopping"],
                "stopped_at": st["stopped_at"],
                "last_elbo_rate": float(st["rates"][-1][1]) if st["rates"] else float("nan"),
                "last_factor_movement": float(st["movement"][-1][1]) if st["movement"] else float("nan"),
            }
    finally:
        bar.close()
        np.random.set_state(state)
        _mofapy2_config.use_float32 = float32_before
    return res, ent


def extract(ent, inputs: Inputs, opts: FitOptions, *, time_s: float) -> FitResult:
    """Collect the posterior moments from a trained entry point, factors ordered as mofapy2 saves them."""
    model = ent.model
    nodes = model.nodes
    r2 = model.calculate_variance_explained()
    r2a = np.array(r2)
    order = np.argsort(r2a.sum(axis=(0, 1), where=~np.isnan(r2a)))[::-1]

    Z = np.asarray(nodes["Z"].getExpectation(), dtype=np.float64)[:, order]
    Wexp = nodes["W"].getExpectations()
    W = [np.asarray(w["E"], dtype=np.float64)[:, order] for w in Wexp]
    W2 = [np.asarray(w["E2"], dtype=np.float64)[:, order] for w in Wexp]
    ynodes = nodes["Y"].getNodes()
    # the model's own arrays (no copy): only read, with missing entries masked where used
    Y = [np.asarray(y, dtype=np.float64) for y in nodes["Y"].getExpectation()]
    mask = [np.asarray(y.getMask(full=True), dtype=bool) for y in ynodes]

    G = len(inputs.groups)
    gidx = np.array([inputs.groups.index(g) for g in inputs.sample_groups])
    tau = []
    taunode = nodes["Tau"].getNodes() if hasattr(nodes["Tau"], "getNodes") else None
    for m, v in enumerate(inputs.views):
        if v.likelihood == "gaussian":
            t = np.asarray(taunode[m].getExpectations(expand=False)["E"], dtype=np.float64)
            tau.append(t.reshape(G, -1))
        else:
            t = np.asarray(taunode[m].getExpectation(), dtype=np.float64)
            t = np.where(mask[m], np.nan, t)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                tau.append(np.vstack([np.nanmean(t[gidx == g], axis=0) for g in range(G)]))
    pseudo_means = [
        np.asarray(getattr(y, "means", np.zeros(y.dim[1])), dtype=np.float64) if v.likelihood != "gaussian" else None
        for y, v in zip(ynodes, inputs.views, strict=False)
    ]
    if "AlphaZ" in nodes:
        az = np.asarray(nodes["AlphaZ"].getExpectation(), dtype=np.float64)
        az = az.reshape(G, -1)[:, order]
    else:
        az = np.ones((G, Z.shape[1]))
    centre, scale = _replicate_processing(inputs, opts)

    stats = model.getTrainingStats()
    elbo_all = np.asarray(stats["elbo"], dtype=np.float64)
    maxiter = ent.train_opts["maxiter"]
    converged = len(elbo_all) < maxiter  # mofapy2 truncates its traces at the converged iteration
    n_iter = len(elbo_all) if converged else maxiter - 1
    it = np.arange(len(elbo_all))
    keep = ~np.isnan(elbo_all)
    return FitResult(
        Z=Z,
        W=W,
        W2=W2,
        tau=tau,
        Y=Y,
        mask=mask,
        pseudo_means=pseudo_means,
        alpha_z=az,
        centre=centre,
        scale=scale,
        elbo=elbo_all[keep],
        elbo_iterations=it[keep],
        n_iterations=int(n_iter),
        converged=bool(converged),
        time_s=float(time_s),
        order=order,
    )
