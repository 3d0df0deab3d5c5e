"""MOFA+ factor models through mofapy2, with the whole fit written into the store.

Public functions (re-exported as ``hm.tl.mofa``, ``hm.tl.load_mofa``, ``hm.tl.project``,
``hm.tl.mofa_stability`` and ``hm.get.factor_scores``, ``hm.get.weights``,
``hm.get.variance_explained``):

- :func:`mofa` fits MOFA+ on the modalities of a MuData store. Views may hold different sample sets:
  a sample absent from a view is passed to mofapy2 as missing (never imputed, never dropped).
- :func:`load_mofa` reattaches a model file (mofapy2's HDF5) to the store.
- :func:`project` scores new samples with a trained model.
- :func:`mofa_stability` refits with several seeds and reports how reproducible each factor is.

The layout written to the store is documented in ``docs/models.md``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _keys, _results
from .._errors import FormatError, MissingResultError, StoreFormatError

if TYPE_CHECKING:  # pragma: no cover
    from mudata import MuData

logger = logging.getLogger(__name__)

ENGINES = ("fast", "mofapy2")
_PROJECTION_METHOD = (
    "posterior mean of Z given the trained weights E[W], E[W^2], noise precision tau and factor prior, "
    "using each sample's observed features only (fixed point of mofapy2's Z update); bernoulli views via "
    "the Jaakkola bound"
)

__all__ = ["factor_scores", "load_mofa", "mofa", "mofa_stability", "project", "variance_explained", "weights"]


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------
def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from .._version import __version__

    out = {"harmonomics": str(__version__)}
    for pkg in ("mofapy2", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover
            out[pkg] = "unknown"
    return out


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_key(name: str, key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"{name} must be a non-empty string, got {key!r}")
    return key


def _fast_engine_available() -> bool:
    try:
        from . import _fast_engine  # noqa: F401
    except ImportError:
        return False
    return True


def _factor_names(k: int) -> list[str]:
    return [f"Factor{i + 1}" for i in range(k)]


def _get_uns(mdata, key: str) -> dict:
    uns = mdata.uns.get(key)
    if not isinstance(uns, Mapping) or "factor_names" not in uns:
        raise MissingResultError(
            f"no MOFA result under key {key!r} in this store (uns[{key!r}] is missing); "
            f"run hm.tl.mofa(mdata, key_added={key!r}) or hm.tl.load_mofa(mdata, path, key_added={key!r}) first"
        )
    return uns


def _fit(
    mdata,
    *,
    n_factors,
    mods,
    likelihoods,
    groups_key,
    scale_views,
    seed,
    convergence,
    max_iter,
    float32,
    gpu,
    engine,
    init="auto",
):
    """Validate, build the inputs, check memory and fit. Returns (inputs, result, options, entry point)."""
    from ._mofa_data import build_inputs, check_memory, check_n_factors, resolve_likelihoods, resolve_mods
    from ._mofa_run import CONVERGENCE_MODES, ENGINE_STOPPING_RULES, INITS, FitOptions, run

    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    n_factors = _check_int("n_factors", n_factors, 1)
    seed = _check_int("seed", seed, 0)
    max_iter = _check_int("max_iter", max_iter, 2)
    if convergence not in CONVERGENCE_MODES:
        raise ValueError(f"convergence must be one of {CONVERGENCE_MODES}, got {convergence!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "fast" and not _fast_engine_available():
        logger.warning(
            "the fast engine (harmonomics.models._fast_engine) is not available; fitting with mofapy2's own updates"
        )
        engine = "mofapy2"
    if convergence in ENGINE_STOPPING_RULES and engine != "fast":
        raise ValueError(
            f"convergence={convergence!r} is a stopping rule of the fast engine; use engine='fast' or a mofapy2 mode"
        )
    if init == "auto":
        init = "svd" if engine == "fast" else "pca"
    mods = resolve_mods(mdata, mods)
    liks = resolve_likelihoods(mods, likelihoods)
    inputs = build_inputs(mdata, mods, liks, groups_key)
    check_n_factors(inputs, n_factors, init)
    convergence, stopping_reason = _resolve_convergence(
        convergence, engine, inputs.n_fit, sum(v.data.shape[1] for v in inputs.views)
    )
    check_memory(
        inputs.n_fit,
        [v.data.shape[1] for v in inputs.views],
        n_factors,
        float32,
        engine=engine,
        likelihoods=[v.likelihood for v in inputs.views],
    )
    opts = FitOptions(
        n_factors=n_factors,
        scale_views=bool(scale_views),
        seed=seed,
        convergence=convergence,
        max_iter=max_iter,
        float32=bool(float32),
        gpu=bool(gpu),
        engine=engine,
        ard_factors=len(inputs.groups) > 1,
        init=init,
    )
    res, ent = run(inputs, opts)
    res.extra["stopping_reason"] = stopping_reason
    return inputs, res, opts, ent


# the largest model (samples, features) on which convergence="factors" was checked against mofapy2's default
# ("medium") solution; benchmarks/results/engine_grid.md. Beyond it "auto" takes the stricter rule.
FACTORS_RULE_CHECKED_UP_TO = (5000, 50000)


def _resolve_convergence(convergence: str, engine: str, n_samples: int, n_features: int) -> tuple[str, str]:
    """The stopping rule "auto" stands for, and why (recorded in ``uns[key]['stopping']``)."""
    if convergence != "auto":
        return convergence, "asked for"
    if engine != "fast":
        return "medium", "auto: mofapy2's default mode with engine='mofapy2'"
    max_n, max_d = FACTORS_RULE_CHECKED_UP_TO
    if n_samples <= max_n and n_features <= max_d:
        return "factors", f"auto: checked against mofapy2's default solution up to N={max_n}, D={max_d}"
    reason = (
        f"auto: N={n_samples}, D={n_features} is beyond the sizes where the 'factors' rule was checked "
        f"against mofapy2 (N<={max_n}, D<={max_d}); using the stricter 'factors_strict' rule"
    )
    logger.info("MOFA stopping rule: %s", reason)
    return "factors_strict", reason


def _uns_record(inputs, res, opts, model_file: str) -> dict:
    """The ``uns[key]`` dict (h5mu-writable: dicts, DataFrames, arrays, lists, strings, numbers)."""
    from ._mofa_math import r2_per_factor, r2_tables

    views = [v.name for v in inputs.views]
    K = res.Z.shape[1]
    names = _factor_names(K)
    r2_vf, r2_v, ss = r2_tables(res.Z, res.W, res.Y, res.mask)
    r2_f = r2_per_factor(r2_vf, ss)
    rows = []
    for g in inputs.groups:
        sel = inputs.sample_groups == g
        gvf, _, _ = r2_tables(res.Z[sel], res.W, [y[sel] for y in res.Y], [mk[sel] for mk in res.mask])
        for m, v in enumerate(views):
            for k in range(K):
                rows.append((g, v, names[k], float(gvf[m, k])))
    r2_group = pd.DataFrame(rows, columns=["group", "view", "factor", "r2"])
    r2_view_factor = pd.DataFrame(r2_vf, index=pd.Index(views, name="view"), columns=names)

    projection: dict[str, Any] = {
        "groups": list(inputs.groups),
        "alpha_z": np.asarray(res.alpha_z, dtype=np.float64),
        "views": {},
    }
    for m, v in enumerate(inputs.views):
        counts = np.array(
            [(~np.isnan(v.data[inputs.sample_groups == g])).sum(axis=0) for g in inputs.groups], dtype=float
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            centre_all = np.where(counts.sum(0) > 0, (res.centre[m] * counts).sum(0) / counts.sum(0), 0.0)
        pm = res.pseudo_means[m]
        projection["views"][v.name] = {
            "features": np.asarray([str(f) for f in v.features], dtype=object),
            "likelihood": v.likelihood,
            "centre": np.asarray(res.centre[m], dtype=np.float64),
            "centre_all": np.asarray(centre_all, dtype=np.float64),
            "scale": float(res.scale[m]),
            "tau": np.asarray(res.tau[m], dtype=np.float64),
            "w2": np.asarray(res.W2[m], dtype=np.float64),
            "pseudo_mean": np.zeros(len(v.features)) if pm is None else np.asarray(pm, dtype=np.float64),
        }
    options = opts.as_dict()
    options["mods"] = views
    options["groups_key"] = inputs.groups_key or ""
    return {
        "factor_names": names,
        "views": views,
        "likelihoods": {v.name: v.likelihood for v in inputs.views},
        "groups_key": inputs.groups_key or "",
        "groups": list(inputs.groups),
        "r2_per_view_factor": r2_view_factor,
        "r2_per_view": {v: float(r2_v[m]) for m, v in enumerate(views)},
        "r2_per_factor": {names[k]: float(r2_f[k]) for k in range(K)},
        "r2_per_group_view_factor": r2_group,
        "view_total_ss": {v: float(ss[m]) for m, v in enumerate(views)},
        "elbo": np.asarray(res.elbo, dtype=np.float64),
        "elbo_iterations": np.asarray(res.elbo_iterations, dtype=np.int64),
        "n_iterations": int(res.n_iterations),
        "converged": bool(res.converged),
        "options": options,
        "seed": int(opts.seed),
        "engine": opts.engine,
        "engine_info": dict(res.extra.get("engine_info", {})),
        "time_s": float(res.time_s),
        "time_build_s": float(res.extra.get("time_build_s", float("nan"))),
        "time_train_s": float(res.extra.get("time_train_s", float("nan"))),
        "stopping": _stopping_record(opts, res),
        "versions": _versions(),
        "model_file": model_file,
        "n_samples": int(inputs.n_fit),
        "n_samples_per_view": {v.name: int(v.n_present) for v in inputs.views},
        "n_features_per_view": {v.name: len(v.features) for v in inputs.views},
        "features_left_out": {v.name: sum(len(f) for f in v.left_out.values()) for v in inputs.views},
        "samples_without_data": np.asarray(inputs.no_data, dtype=object) if inputs.no_data else np.zeros(0, dtype="U1"),
        "feature_names_prefixed": bool(inputs.prefixed),
        "projection": projection,
    }


def _stopping_record(opts, res) -> dict:
    """The stopping rule of a fit, its thresholds and where it stopped (no None: uns is written to h5mu)."""
    st = res.extra.get("stopping") or {}
    nan = float("nan")
    factor_tol = st.get("factor_tol")
    stopped_at = st.get("stopped_at")
    return {
        "rule": str(st.get("rule", opts.convergence)),
        "convergence": str(opts.convergence),
        "reason": str(res.extra.get("stopping_reason", "asked for")),
        "elbo_tol": float(st.get("tol", nan)),
        "factor_tol": float(factor_tol) if factor_tol is not None else nan,
        "stopped_at": int(stopped_at) if stopped_at is not None else -1,
        "last_elbo_rate": float(st.get("last_elbo_rate", nan)),
        "last_factor_movement": float(st.get("last_factor_movement", nan)),
    }


def _write_back(mdata, inputs, res, uns: dict, key: str) -> None:
    K = res.Z.shape[1]
    scores = np.full((len(inputs.obs_names), K), np.nan)
    scores[inputs.fit_rows] = res.Z
    mdata.obsm[key] = scores
    for m, v in enumerate(inputs.views):
        # features left out of the fit have no weight: NaN rows keep varm aligned with var
        w = np.full((v.n_vars, K), np.nan)
        w[v.fitted] = np.asarray(res.W[m], dtype=np.float64)
        mdata.mod[v.name].varm[key] = w
    mdata.uns[key] = uns
    _report_left_out(mdata, inputs, key)


_EXAMPLES = 5


def _report_left_out(mdata, inputs, key: str) -> None:
    """One report row per view and reason for the features left out of the fit under ``key``.

    Rows of an earlier fit under the same key are replaced, so refitting does not pile them up.
    """
    from ..store import add_report_rows
    from ._mofa_data import LEFT_OUT_REASONS

    marker = f"left out of the MOFA fit {key!r}"
    report = mdata.uns.get(_keys.UNS_REPORT)
    if report is not None and len(report):
        report = pd.DataFrame(report)
        earlier = report["reason"].astype(str).str.endswith(marker)
        mdata.uns[_keys.UNS_REPORT] = report[~earlier].reset_index(drop=True)
    rows = []
    for v in inputs.views:
        for reason, feats in v.left_out.items():
            examples = ", ".join(feats[:_EXAMPLES]) + (", ..." if len(feats) > _EXAMPLES else "")
            rows.append(
                {
                    "level": "feature",
                    "item": f"{len(feats)} features",
                    "omic": v.name,
                    "sample": "",
                    "action": "dropped",
                    "reason": f"{LEFT_OUT_REASONS[reason].format(n=v.n_present)} (e.g. {examples}); "
                    f"weights NaN; {marker}",
                }
            )
    if rows:
        add_report_rows(mdata, rows)


def _write_model_file(ent, path: Path, uns: dict) -> None:
    """mofapy2's model file plus the /harmonomics group, written atomically."""
    import h5py

    from ._mofa_io import H5_GROUP, write_value
    from ._mofa_run import quiet_mofapy2

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with quiet_mofapy2():
            ent.save(outfile=str(tmp), save_data=True)
        with h5py.File(tmp, "a") as f:
            write_value(f, H5_GROUP, uns)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _resolve_model_file(model_file) -> Path | None:
    if model_file is None:
        return None
    if not isinstance(model_file, (str, os.PathLike)) or str(model_file) == "":
        raise TypeError(f"model_file must be a path (str or os.PathLike), got {model_file!r}")
    path = Path(model_file).expanduser().resolve()
    if path.is_dir():
        raise ValueError(f"model_file {str(path)!r} is a folder; give a file name such as {str(path / 'mofa.hdf5')!r}")
    return path


# --------------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------------
def mofa(
    mdata: MuData,
    *,
    n_factors: int = 15,
    mods: str | Sequence[str] | None = None,
    likelihoods: str | Sequence[str] | Mapping[str, str] | None = None,
    groups_key: str | None = None,
    scale_views: bool = True,
    seed: int = 0,
    convergence: str = "auto",
    max_iter: int = 1000,
    init: str = "auto",
    float32: bool = False,
    gpu: bool = False,
    engine: str = "fast",
    model_file: str | os.PathLike | None = None,
    key_added: str = _keys.KEY_MOFA,
    copy: bool = False,
) -> MuData | None:
    """Fit MOFA+ (mofapy2) on the modalities of a MuData store and write the fit back.

    Views may hold different sample sets: the samples of ``mdata.obs`` form the common sample axis and a
    sample absent from a view is missing in that view (never imputed, never dropped). Samples with no
    value in any fitted view are not fitted and get NaN scores (listed in ``uns[key]['samples_without_data']``).

    Features that carry no information among the fitted samples (missing in all of them, or constant, such as
    unexpressed genes or a gene mutated nowhere) are left out of the fit rather than stopping it: their
    weights are NaN, they are counted in ``uns[key]['features_left_out']`` and each view and reason gets one
    ``feature``/``dropped`` row in the harmonization report (with a few examples).

    Parameters
    ----------
    mdata
        The store; every modality in ``mods`` is one view (``X``, samples x features).
    n_factors
        Number of factors K (>= 1). No factor is dropped during training.
    mods
        Modalities to fit (default: all, in store order).
    likelihoods
        Override per view: one string for all, a sequence (one per view) or ``{mod: likelihood}``.
        Default: ``"bernoulli"`` for the mutation modality ``mut``, ``"gaussian"`` otherwise.
    groups_key
        Column of ``mdata.obs`` giving sample groups (multi-group MOFA+, ARD prior on the factors).
    scale_views
        Scale each Gaussian view to unit total variance (after centring each feature per group).
    seed
        Seed of mofapy2's initialisation. Same seed, same result.
    convergence
        When to stop. ``"auto"`` (default): ``"factors"`` with the fast engine (``"factors_strict"`` beyond
        the sizes where ``"factors"`` was checked against mofapy2, logged and recorded in
        ``uns[key]['stopping']``), ``"medium"`` with mofapy2. ``"fast"``, ``"medium"``, ``"slow"``: mofapy2's
        modes (relative ELBO change thresholds 0.0005 %, 0.00005 %, 0.000005 %). Fast engine only:
        ``"factors"``: the relative ELBO change per iteration over 10 iterations below 5e-7 *and* factor
        scores and weights at rest (every factor's 1 - |corr| between checks 5 iterations apart below 1e-5),
        at two consecutive checks; ``"factors_strict"``: the same with 2e-7 and 1e-6; ``"window"``: the
        ELBO part alone (stops early when a weak factor is still being learned; docs/engine.md).
    max_iter
        Maximum number of iterations.
    init
        Initial factors: ``"auto"`` (default): ``"svd"`` with the fast engine, ``"pca"`` with mofapy2.
        ``"pca"``: mofapy2's own (sklearn PCA of the mean-imputed data; the result hardly depends on
        ``seed``); ``"svd"``: the same scores from a truncated randomized SVD (two power iterations, float32
        with ``float32=True``), several times cheaper on wide data; ``"random"``: standard-normal draws from
        ``seed``.
    float32
        Compute in single precision (less memory, faster; slightly different numbers).
    gpu
        Use the GPU (cupy). Raises :class:`~harmonomics._errors.MissingDependencyError` when cupy or a
        CUDA GPU is missing; never falls back to the CPU silently.
    engine
        ``"fast"`` (harmonomics' vectorised node updates on top of mofapy2; falls back to ``"mofapy2"`` with a
        warning where unavailable) or ``"mofapy2"`` (mofapy2's own updates).
    model_file
        Where to write the mofapy2 HDF5 model file (opens in mofax / MOFA2). Nothing is written when None.
    key_added
        Key of the result in ``obsm``, ``varm`` and ``uns``.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None`` (or the modified copy with ``copy=True``); writes

    - ``mdata.obsm[key_added]``: factor scores, float array n_obs x K, rows in ``mdata.obs`` order
      (NaN for samples without data);
    - ``mdata.mod[m].varm[key_added]``: weights E[W], float array n_vars x K, for each fitted modality
      (NaN rows for the features left out of the fit);
    - ``mdata.uns[key_added]``: dict with ``factor_names``, ``views``, ``likelihoods``, ``groups_key``,
      ``groups``, ``r2_per_view_factor`` (DataFrame view x factor, 0..1), ``r2_per_view`` (dict),
      ``r2_per_factor`` (dict; ``sum_m SS_m R2_mk / sum_m SS_m``), ``r2_per_group_view_factor`` (tidy),
      ``view_total_ss``, ``elbo``, ``elbo_iterations``, ``n_iterations``, ``converged``, ``options``,
      ``seed``, ``engine``, ``engine_info``, ``time_s`` (whole fit), ``time_build_s`` (before the first
      iteration: data hand-over, processing, initialisation), ``time_train_s``, ``stopping`` (rule,
      ``reason``, thresholds, ``stopped_at``), ``versions``, ``model_file`` ("" when none),
      ``n_samples``, ``n_samples_per_view``, ``n_features_per_view`` (fitted), ``features_left_out``
      (per view), ``samples_without_data``, ``feature_names_prefixed`` and ``projection`` (training
      centring, scaling, noise precision, E[W^2] and factor prior needed by :func:`project`).

    Raises
    ------
    MissingResultError
        A modality in ``mods`` or the ``groups_key`` column does not exist.
    FormatError
        A view holds infinite values, or values its likelihood cannot model.
    InsufficientDataError
        Fewer than 2 samples with data (in all or in one view), a view with no feature that varies among
        its samples, or more factors than samples; the message says what to change.
    InsufficientMemoryError
        The memory estimate for N, D and K exceeds the available memory.
    """
    key_added = _check_key("key_added", key_added)
    path = _resolve_model_file(model_file)
    if copy:
        mdata = mdata.copy()
    inputs, res, opts, ent = _fit(
        mdata,
        n_factors=n_factors,
        mods=mods,
        likelihoods=likelihoods,
        groups_key=groups_key,
        scale_views=scale_views,
        seed=seed,
        convergence=convergence,
        max_iter=max_iter,
        float32=float32,
        gpu=gpu,
        engine=engine,
        init=init,
    )
    uns = _uns_record(inputs, res, opts, "" if path is None else str(path))
    if path is not None:
        _write_model_file(ent, path, uns)
        logger.info("MOFA model file written to %s", path)
    _write_back(mdata, inputs, res, uns, key_added)
    logger.info(
        "MOFA: %d factors on %d samples, %d views, %d iterations (%s, %s) in %.1f s (build %.1f s)",
        res.Z.shape[1],
        inputs.n_fit,
        len(inputs.views),
        res.n_iterations,
        "converged" if res.converged else "not converged",
        opts.convergence,
        res.time_s,
        uns["time_build_s"],
    )
    if not res.converged:
        logger.warning(
            "MOFA did not converge in %d iterations (convergence=%r); raise max_iter or loosen convergence",
            opts.max_iter,
            opts.convergence,
        )
    return mdata if copy else None


def load_mofa(
    mdata: MuData, path: str | os.PathLike, *, key_added: str = _keys.KEY_MOFA, copy: bool = False
) -> MuData | None:
    """Reattach a MOFA model file (mofapy2 HDF5) to the store.

    Files written by :func:`mofa` carry the full ``uns`` record and load back identically. Files written
    by mofapy2 or MOFA2 directly are accepted too: R² is recomputed from the data saved in the file, and
    the projection parameters are approximated (training means from the file's intercepts, view scale
    from the store's data, noise precision from the residuals, E[W^2] = E[W]^2).

    Parameters
    ----------
    mdata
        The store the model was fitted on (samples matched by name; features by name within each view).
    path
        The model file.
    key_added
        Key of the result in ``obsm``, ``varm`` and ``uns``.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None`` (or the modified copy); writes ``mdata.obsm[key_added]``, ``mdata.mod[m].varm[key_added]``
    and ``mdata.uns[key_added]`` in the layout of :func:`mofa` (``model_file`` is the absolute path).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    FormatError
        The file is not a MOFA model file, or its samples/views/features are not in the store.
    """
    from ._mofa_io import read_model_file

    key_added = _check_key("key_added", key_added)
    p = Path(path).expanduser().resolve()
    if not p.is_file():
        raise FileNotFoundError(f"MOFA model file {str(p)!r} does not exist")
    try:
        f = read_model_file(p)
    except (OSError, KeyError) as err:
        raise FormatError(
            f"not a MOFA model file (missing {err}); expected the HDF5 file mofapy2 writes", path=p
        ) from err
    if copy:
        mdata = mdata.copy()

    obs_names = pd.Index(mdata.obs_names)
    views = f["views"]
    for m in views:
        if m not in mdata.mod:
            raise FormatError(
                f"view {m!r} of the model file is not a modality of the store ({list(mdata.mod)})", path=p
            )
    K = next(iter(f["Z"].values())).shape[1]
    scores = np.full((len(obs_names), K), np.nan)
    n_found = 0
    file_samples = []
    for g in f["groups"]:
        pos = obs_names.get_indexer(pd.Index(f["samples"][g]))
        ok = pos >= 0
        scores[pos[ok]] = f["Z"][g][ok]
        n_found += int(ok.sum())
        file_samples.extend(f["samples"][g])
    if n_found == 0:
        raise FormatError(
            f"none of the {len(file_samples)} samples of the model file is in the store (e.g. {file_samples[0]!r})",
            path=p,
        )
    if n_found < len(file_samples):
        logger.warning(
            "%d of %d samples of the model file are not in the store; their scores are not attached",
            len(file_samples) - n_found,
            len(file_samples),
        )

    uns = f["harmonomics"]
    weights_by_view, store_names = {}, {}
    for m in views:
        var = pd.Index(mdata.mod[m].var_names)
        feats = pd.Index(f["features"][m])
        pos = var.get_indexer(feats)
        if (pos < 0).any():
            stripped = pd.Index([s[len(m) + 1 :] if s.startswith(f"{m}:") else s for s in feats])
            pos = var.get_indexer(stripped)
            feats = stripped
        if (pos < 0).all():
            raise FormatError(
                f"none of the features of view {m!r} in the model file is in mod[{m!r}].var_names", path=p
            )
        if (pos < 0).any():
            logger.warning("%d features of view %r in the model file are not in the store", int((pos < 0).sum()), m)
        w = np.full((len(var), K), np.nan)
        w[pos[pos >= 0]] = f["W"][m][pos >= 0]
        weights_by_view[m] = w
        store_names[m] = [str(x) for x in feats]
    if uns is None:
        uns = _uns_from_foreign_file(mdata, f, store_names)
    uns["model_file"] = str(p)
    mdata.obsm[key_added] = scores
    for m in views:
        mdata.mod[m].varm[key_added] = weights_by_view[m]
    mdata.uns[key_added] = uns
    return mdata if copy else None


def _uns_from_foreign_file(mdata, f: dict, store_names: dict) -> dict:
    """Rebuild the ``uns`` record for a model file written without harmonomics."""
    from ._mofa_math import r2_per_factor, r2_tables

    views, groups = f["views"], f["groups"]
    K = next(iter(f["Z"].values())).shape[1]
    names = _factor_names(K)
    Z = np.vstack([f["Z"][g] for g in groups])
    sample_groups = np.concatenate([[g] * len(f["samples"][g]) for g in groups])
    Y, mask, proj = [], [], {}
    for m in views:
        if "data" in f:
            y = np.vstack([f["data"][m][g] for g in groups])
        else:
            y = np.full((len(Z), f["W"][m].shape[0]), np.nan)
        mk = np.isnan(y)
        Y.append(np.where(mk, 0.0, y))
        mask.append(mk)
        W = f["W"][m]
        res = np.where(mk, np.nan, y - Z @ W.T)
        tau = []
        for g in groups:
            with np.errstate(invalid="ignore", divide="ignore"):
                var = np.nanmean(res[sample_groups == g] ** 2, axis=0)
            tau.append(np.where(np.isfinite(var) & (var > 0), 1.0 / var, 1.0))
        centre = (
            np.vstack([f["intercepts"][m][g] for g in groups])
            if "intercepts" in f
            else np.zeros((len(groups), W.shape[0]))
        )
        centre = np.nan_to_num(centre)
        scale = 1.0
        lik = f["likelihoods"].get(m, "gaussian")
        if lik == "gaussian" and "data" in f:
            # the file keeps centred+scaled data and the raw means: recover the view scale from the store
            ad = mdata.mod[m]
            sd_file = np.nanstd(y)
            x = ad.X.toarray() if hasattr(ad.X, "toarray") else np.asarray(ad.X, dtype=float)
            sd_raw = np.nanstd(x - np.nanmean(x, axis=0))
            if sd_file > 0 and np.isfinite(sd_raw):
                scale = float(sd_raw / sd_file)
        counts = np.array([(~mk[sample_groups == g]).sum(axis=0) for g in groups], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            centre_all = np.where(counts.sum(0) > 0, (centre * counts).sum(0) / counts.sum(0), 0.0)
        proj[m] = {
            "features": np.asarray(store_names[m], dtype=object),
            "likelihood": lik,
            "centre": centre,
            "centre_all": centre_all,
            "scale": scale,
            "tau": np.vstack(tau),
            "w2": W**2,
            "pseudo_mean": np.zeros(W.shape[0]),
        }
    r2_vf, r2_v, ss = r2_tables(Z, [f["W"][m] for m in views], Y, mask)
    r2_f = r2_per_factor(r2_vf, ss)
    rows = []
    for g in groups:
        sel = sample_groups == g
        gvf, _, _ = r2_tables(Z[sel], [f["W"][m] for m in views], [y[sel] for y in Y], [mk[sel] for mk in mask])
        rows += [(g, v, names[k], float(gvf[i, k])) for i, v in enumerate(views) for k in range(K)]
    elbo = f.get("elbo", np.zeros(0))
    keep = ~np.isnan(elbo)
    topts = f.get("training_opts", {})
    return {
        "factor_names": names,
        "views": list(views),
        "likelihoods": dict(f["likelihoods"]),
        "groups_key": "",
        "groups": list(groups),
        "r2_per_view_factor": pd.DataFrame(r2_vf, index=pd.Index(views, name="view"), columns=names),
        "r2_per_view": {v: float(r2_v[i]) for i, v in enumerate(views)},
        "r2_per_factor": {names[k]: float(r2_f[k]) for k in range(K)},
        "r2_per_group_view_factor": pd.DataFrame(rows, columns=["group", "view", "factor", "r2"]),
        "view_total_ss": {v: float(ss[i]) for i, v in enumerate(views)},
        "elbo": elbo[keep],
        "elbo_iterations": np.flatnonzero(keep).astype(np.int64),
        "n_iterations": len(elbo) - 1,
        "converged": bool(len(elbo) < topts.get("maxiter", np.inf)),
        "options": {k: float(v) for k, v in topts.items()},
        "seed": int(topts.get("seed", -1)),
        "engine": "external",
        "time_s": float("nan"),
        "versions": _versions(),
        "model_file": "",
        "n_samples": len(Z),
        "n_samples_per_view": {v: int((~mask[i].all(axis=1)).sum()) for i, v in enumerate(views)},
        "samples_without_data": np.zeros(0, dtype="U1"),
        "feature_names_prefixed": False,
        "projection": {"groups": list(groups), "alpha_z": np.ones((len(groups), K)), "views": proj},
    }


PROJECTION_MIN_OVERLAP = 0.5
"""Fraction of a view's trained features the new data should share; :func:`project` warns below it."""


def _id_system(ids: Sequence[str]) -> str:
    """What most of ``ids`` look like, in words (for messages)."""
    from .._genes import parse_gene_ids

    kinds = parse_gene_ids([str(i) for i in ids[:1000]])["id_type"].value_counts()
    top = str(kinds.index[0]) if len(kinds) else ""
    return {"ensembl": "Ensembl gene IDs", "symbol|entrez": "SYMBOL|ENTREZ IDs"}.get(top, "names such as symbols")


def _check_overlap(view: str, trained: list[str], new: list[str], positions: np.ndarray) -> None:
    """Raise when a present view shares no trained feature; warn when it shares fewer than the threshold."""
    import warnings

    from .._errors import GeneMappingError

    shared = int((positions >= 0).sum())
    if shared == 0:
        was, now = _id_system(trained), _id_system(new)
        cause = f"trained on {was}, given {now}" if was != now else "the two stores name the features differently"
        to = "ensembl" if was.startswith("Ensembl") else "symbol"
        raise GeneMappingError(
            f"view {view!r}: none of the {len(trained)} trained features (e.g. {trained[0]!r}) is among the "
            f"{len(new)} features of the new data (e.g. {new[0]!r}); likely cause: different ID systems ({cause}). "
            f"Put the new data on the training IDs with hm.pp.harmonize_feature_ids(new_mdata, to={to!r}) (or fit "
            "on a store harmonized the same way), or leave the modality out of the new data to project without it"
        )
    fraction = shared / len(trained)
    if fraction < PROJECTION_MIN_OVERLAP:
        warnings.warn(
            f"view {view!r}: the new data has only {shared} of the {len(trained)} trained features "
            f"({fraction:.0%}, below {PROJECTION_MIN_OVERLAP:.0%}); the others are treated as missing, so the "
            "projected scores rest on few features. Check the feature IDs (hm.pp.harmonize_feature_ids)",
            UserWarning,
            stacklevel=3,
        )
    elif shared < len(trained):
        logger.info(
            "view %r: %d of %d trained features missing from the new data (treated as missing)",
            view,
            len(trained) - shared,
            len(trained),
        )


def project(
    new_mdata: MuData,
    trained_mdata: MuData,
    *,
    key: str = _keys.KEY_MOFA,
    key_added: str | None = None,
    copy: bool = False,
) -> MuData | None:
    """Score new samples with a trained MOFA model.

    Method: for each new sample, the posterior mean of its factors given the trained weights (E[W],
    E[W^2]), the trained noise precision tau per feature and the factor prior, using only the views and
    features the sample has. That is the fixed point of mofapy2's update of Z with every other node held
    at its trained value::

        z_n = (diag(alpha) + sum_m W_m' T_nm W_m + diag(sum_m T_nm (E[W_m^2] - W_m^2)))^-1 sum_m W_m' T_nm y_nm

    where ``y_nm`` is the sample's data transformed as in training (minus the training feature mean,
    divided by the training view scale) and ``T_nm`` the diagonal of tau over its observed features.
    Bernoulli views use the Jaakkola bound (iterated). With a ``groups_key`` in training, a new sample
    whose ``obs[groups_key]`` names a training group uses that group's mean, tau and prior; otherwise the
    pooled training mean, the groups' average tau and prior. Samples with no observed feature in any
    trained view get NaN. Projecting the training samples reproduces the fitted scores.

    Parameters
    ----------
    new_mdata
        Store with the new samples (modalities named as the trained views; features matched by name,
        missing features are treated as missing values; a missing modality as a missing view). A modality
        that is present must share features with the trained view: sharing none raises, sharing fewer than
        :data:`PROJECTION_MIN_OVERLAP` (50 %) of them warns.
    trained_mdata
        Store holding the fit under ``key``.
    key
        Key of the trained fit.
    key_added
        Key for the projected scores in ``new_mdata`` (default: ``key``).
    copy
        Return a modified copy of ``new_mdata`` instead of writing into it.

    Returns
    -------
    ``None`` (or the modified copy); writes ``new_mdata.obsm[key_added]`` (n_obs x K, rows in
    ``new_mdata.obs`` order) and ``new_mdata.uns[key_added]`` (dict with ``factor_names``, ``projected_from``
    (= key), ``method``, ``views_used`` (samples with data per view), ``groups_used``).

    Raises
    ------
    MissingResultError
        No fit under ``key`` in ``trained_mdata``.
    GeneMappingError
        A modality of ``new_mdata`` shares no feature with its trained view (typically Ensembl IDs against
        gene symbols); the message suggests :func:`harmonomics.pp.harmonize_feature_ids`.

    Warns
    -----
    UserWarning
        A modality shares fewer than :data:`PROJECTION_MIN_OVERLAP` of its trained view's features.
    """
    from ._mofa_math import project_views

    key = _check_key("key", key)
    key_added = key if key_added is None else _check_key("key_added", key_added)
    uns = _get_uns(trained_mdata, key)
    if new_mdata is trained_mdata and key_added == key:
        raise ValueError(
            f"projecting into the training store under the training key {key!r} would overwrite the fit; "
            "pass key_added='...' (a different key)"
        )
    proj = uns.get("projection")
    if not isinstance(proj, Mapping) or "views" not in proj:
        raise MissingResultError(
            f"uns[{key!r}] has no 'projection' record; refit with hm.tl.mofa or reload with hm.tl.load_mofa"
        )
    names = list(uns["factor_names"])
    K = len(names)
    if copy:
        new_mdata = new_mdata.copy()
    obs = pd.Index(new_mdata.obs_names)
    n = len(obs)
    groups = [str(g) for g in proj["groups"]]
    gkey = uns.get("groups_key", "") or ""
    gi = np.full(n, -1)
    if gkey and gkey in new_mdata.obs.columns:
        lab = new_mdata.obs[gkey].astype(str).to_numpy()
        gi = np.array([groups.index(x) if x in groups else -1 for x in lab])
    alpha_tab = np.asarray(proj["alpha_z"], dtype=np.float64).reshape(len(groups), K)
    alpha = np.where(gi[:, None] >= 0, alpha_tab[np.maximum(gi, 0)], alpha_tab.mean(axis=0)[None, :])

    views, used = [], {}
    for m in uns["views"]:
        pv = proj["views"][m]
        if m not in trained_mdata.mod or key not in trained_mdata.mod[m].varm:
            raise MissingResultError(f"the trained store has no weights mod[{m!r}].varm[{key!r}]")
        tr_var = pd.Index(trained_mdata.mod[m].var_names)
        feats = [str(x) for x in np.asarray(pv["features"]).ravel()]
        pref = f"{m}:"
        feats = [
            x[len(pref) :] if uns.get("feature_names_prefixed", False) and x.startswith(pref) else x for x in feats
        ]
        wpos = tr_var.get_indexer(pd.Index(feats))
        if (wpos < 0).any():
            raise StoreFormatError(
                f"feature {feats[int(np.flatnonzero(wpos < 0)[0])]!r} of the fit is missing from trained mod[{m!r}]"
            )
        W = np.asarray(trained_mdata.mod[m].varm[key], dtype=np.float64)[wpos]
        W2 = np.asarray(pv["w2"], dtype=np.float64)
        D = len(feats)
        y = np.full((n, D), np.nan)
        if m in new_mdata.mod:
            ad = new_mdata.mod[m]
            rpos = obs.get_indexer(pd.Index(ad.obs_names))
            if (rpos < 0).any():
                raise FormatError(
                    f"sample {ad.obs_names[int(np.flatnonzero(rpos < 0)[0])]!r} of mod {m!r} is not in new_mdata.obs; "
                    "call mdata.update()"
                )
            cpos = pd.Index(ad.var_names).get_indexer(pd.Index(feats))
            if ad.n_obs and ad.n_vars:
                _check_overlap(m, feats, list(ad.var_names), cpos)
                x = ad.X.toarray() if hasattr(ad.X, "toarray") else np.asarray(ad.X, dtype=np.float64)
                x = np.asarray(x, dtype=np.float64)
                y[np.ix_(rpos, np.flatnonzero(cpos >= 0))] = x[:, cpos[cpos >= 0]]
        lik = str(pv["likelihood"])
        centre = np.asarray(pv["centre"], dtype=np.float64).reshape(len(groups), D)
        tau_tab = np.asarray(pv["tau"], dtype=np.float64).reshape(len(groups), D)
        if lik == "gaussian":
            c = np.where(gi[:, None] >= 0, centre[np.maximum(gi, 0)], np.asarray(pv["centre_all"])[None, :])
            y = (y - c) / float(pv["scale"])
        tau = np.where(gi[:, None] >= 0, tau_tab[np.maximum(gi, 0)], tau_tab.mean(axis=0)[None, :])
        views.append(
            {
                "y": y,
                "W": W,
                "W2": W2,
                "tau": tau,
                "likelihood": lik,
                "pseudo_mean": np.asarray(pv["pseudo_mean"], dtype=np.float64),
            }
        )
        used[m] = int((~np.isnan(y).all(axis=1)).sum())
    z, _ = project_views(views, alpha)
    new_mdata.obsm[key_added] = z
    new_mdata.uns[key_added] = {
        "factor_names": names,
        "projected_from": key,
        "method": _PROJECTION_METHOD,
        "views_used": used,
        "groups_used": gkey if (gi >= 0).any() else "",
        "views": list(uns["views"]),
    }
    return new_mdata if copy else None


def mofa_stability(
    mdata: MuData,
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    n_factors: int = 15,
    init: str = "random",
    key_added: str = "mofa_stability",
    copy: bool = False,
    **kwargs: Any,
) -> pd.DataFrame | tuple[MuData, pd.DataFrame]:
    """Refit MOFA with several seeds and measure how reproducible each factor is.

    Each seed is fitted with the same options; the fit with the best final ELBO is the consensus. Every
    other fit's factors are matched one-to-one to the consensus factors by the Hungarian algorithm on the
    absolute Pearson correlation of the scores (``scipy.optimize.linear_sum_assignment``); the sign of each
    match is reported so that matched factors can be aligned.

    Parameters
    ----------
    mdata
        The store.
    seeds
        Seeds to fit (at least 2, distinct).
    n_factors
        Number of factors of each fit.
    init
        Initial factors of each fit (see :func:`mofa`). Default ``"random"``: mofapy2's PCA initialisation
        makes refits with different seeds (nearly) identical, which would hide instability.
    key_added
        Key under which the consensus fit is written (layout of :func:`mofa`).
    copy
        Work on a copy and return ``(copy, table)``.
    **kwargs
        Passed to :func:`mofa` (``mods``, ``likelihoods``, ``groups_key``, ``scale_views``, ``convergence``,
        ``max_iter``, ``float32``, ``gpu``, ``engine``).

    Returns
    -------
    Tidy DataFrame, one row per consensus factor x other seed: ``factor``, ``seed``, ``matched_factor``,
    ``corr`` (signed), ``abs_corr``. Writes the consensus fit to ``obsm[key_added]``,
    ``mod[m].varm[key_added]`` and ``uns[key_added]`` (as :func:`mofa`) with
    ``uns[key_added]['stability']``: ``matches`` (the table), ``reproducibility`` (per factor:
    ``mean_abs_corr``, ``min_abs_corr``), ``seeds``, ``final_elbo`` (per seed), ``consensus_seed``.
    """
    from scipy.optimize import linear_sum_assignment

    key_added = _check_key("key_added", key_added)
    allowed = {
        "mods",
        "likelihoods",
        "groups_key",
        "scale_views",
        "convergence",
        "max_iter",
        "float32",
        "gpu",
        "engine",
    }
    bad = set(kwargs) - allowed
    if bad:
        raise TypeError(f"mofa_stability got unexpected argument(s) {sorted(bad)}; allowed: {sorted(allowed)}")
    seeds = [_check_int("seed", s, 0) for s in seeds]
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must hold at least 2 distinct seeds, got {seeds}")
    n_factors = _check_int("n_factors", n_factors, 1)
    params = {
        "mods": None,
        "likelihoods": None,
        "groups_key": None,
        "scale_views": True,
        "convergence": "auto",
        "max_iter": 1000,
        "float32": False,
        "gpu": False,
        "engine": "fast",
        "init": init,
    }
    params.update(kwargs)
    if copy:
        mdata = mdata.copy()
    fits = []
    for s in seeds:
        logger.info("MOFA stability: fitting seed %d", s)
        fits.append(_fit(mdata, n_factors=n_factors, seed=s, **params)[:3])
    final = np.array([r.elbo[-1] if len(r.elbo) else -np.inf for _, r, _ in fits])
    best = int(np.argmax(final))
    inputs, ref, opts = fits[best]
    names = _factor_names(ref.Z.shape[1])

    def _corr(a, b):
        a = (a - a.mean(0)) / np.where(a.std(0) > 0, a.std(0), 1)
        b = (b - b.mean(0)) / np.where(b.std(0) > 0, b.std(0), 1)
        return a.T @ b / len(a)

    rows = []
    for i, (_, r, o) in enumerate(fits):
        if i == best:
            continue
        c = _corr(ref.Z, r.Z)
        ri, ci = linear_sum_assignment(-np.abs(c))
        for a, b in zip(ri, ci, strict=False):
            rows.append((names[a], int(o.seed), f"Factor{b + 1}", float(c[a, b]), float(abs(c[a, b]))))
    table = pd.DataFrame(rows, columns=["factor", "seed", "matched_factor", "corr", "abs_corr"])
    summ = table.groupby("factor", sort=False)["abs_corr"].agg(["mean", "min"]).reindex(names)
    summ.columns = ["mean_abs_corr", "min_abs_corr"]
    summ.index.name = "factor"
    uns = _uns_record(inputs, ref, opts, "")
    uns["stability"] = {
        "matches": table.copy(),
        "reproducibility": summ,
        "seeds": np.asarray(seeds, dtype=np.int64),
        "final_elbo": final.astype(np.float64),
        "consensus_seed": int(seeds[best]),
    }
    _write_back(mdata, inputs, ref, uns, key_added)
    return (mdata, table) if copy else table


# --------------------------------------------------------------------------------------------------
# hm.get tables
# --------------------------------------------------------------------------------------------------
def factor_scores(mdata: MuData, *, key: str = _keys.KEY_MOFA, wide: bool = False) -> pd.DataFrame:
    """Factor scores as a table.

    Parameters
    ----------
    mdata
        Store with a fit (or projection) under ``key``.
    key
        Result key.
    wide
        Return samples x factors instead of the tidy long table.

    Returns
    -------
    Tidy DataFrame with columns ``sample``, ``factor``, ``score`` (and ``group`` for multi-group fits),
    samples in ``mdata.obs`` order; or, with ``wide=True``, a samples x factors DataFrame.
    """
    uns = _get_uns(mdata, key)
    w = _results.factor_scores(mdata, key)
    names = list(w.columns)
    if wide:
        return w
    long = w.reset_index().melt(id_vars=_results.SAMPLE_INDEX, var_name="factor", value_name="score")
    gkey = uns.get("groups_key", "") or ""
    if gkey and gkey in mdata.obs.columns:
        long.insert(1, "group", mdata.obs[gkey].astype(str).reindex(long[_results.SAMPLE_INDEX]).to_numpy())
    long["factor"] = pd.Categorical(long["factor"], categories=names, ordered=True)
    return long.reset_index(drop=True)


def weights(
    mdata: MuData, *, key: str = _keys.KEY_MOFA, mods: str | Sequence[str] | None = None, wide: bool = False
) -> pd.DataFrame:
    """Feature weights as a table.

    Parameters
    ----------
    mdata
        Store with a fit under ``key``.
    key
        Result key.
    mods
        Views to include (default: all fitted views).
    wide
        Return one row per (view, feature) and one column per factor instead of the tidy long table.

    Returns
    -------
    Tidy DataFrame with columns ``view``, ``feature``, ``factor``, ``weight``; or, with ``wide=True``,
    columns ``view``, ``feature`` and one per factor.
    """
    uns = _get_uns(mdata, key)
    names = list(uns["factor_names"])
    views = list(uns["views"])
    if mods is not None:
        mods = [mods] if isinstance(mods, str) else list(mods)
        bad = [m for m in mods if m not in views]
        if bad:
            raise MissingResultError(f"view {bad[0]!r} is not part of the fit under {key!r}; fitted views: {views}")
        views = mods
    parts = []
    for m in views:
        w = _results.view_weights(mdata, key, m).rename_axis("feature").reset_index()
        w.insert(0, "view", m)
        parts.append(w)
    wide_df = pd.concat(parts, ignore_index=True)
    if wide:
        return wide_df
    long = wide_df.melt(id_vars=["view", "feature"], var_name="factor", value_name="weight")
    long["factor"] = pd.Categorical(long["factor"], categories=names, ordered=True)
    return long


def variance_explained(mdata: MuData, *, key: str = _keys.KEY_MOFA, level: str = "view_factor") -> pd.DataFrame:
    """Variance explained (R², fraction 0..1) as a tidy table.

    Parameters
    ----------
    mdata
        Store with a fit under ``key``.
    key
        Result key.
    level
        ``"view_factor"`` (columns ``view``, ``factor``, ``r2``), ``"view"`` (``view``, ``r2``: all factors
        together), ``"factor"`` (``factor``, ``r2``: across views, ``sum_m SS_m R2_mk / sum_m SS_m``) or
        ``"group"`` (``group``, ``view``, ``factor``, ``r2``).

    Returns
    -------
    Tidy DataFrame as described for ``level``.
    """
    uns = _get_uns(mdata, key)
    if "r2_per_view_factor" not in uns:
        raise MissingResultError(f"uns[{key!r}] holds no variance explained (a projection, not a fit?)")
    names = list(uns["factor_names"])
    if level == "view_factor":
        t = pd.DataFrame(uns["r2_per_view_factor"]).copy()
        t.index.name = "view"
        out = t.reset_index().melt(id_vars="view", var_name="factor", value_name="r2")
        out["factor"] = pd.Categorical(out["factor"], categories=names, ordered=True)
        return out
    if level == "view":
        d = dict(uns["r2_per_view"])
        return pd.DataFrame({"view": list(d), "r2": [float(v) for v in d.values()]})
    if level == "factor":
        d = dict(uns["r2_per_factor"])
        return pd.DataFrame(
            {
                "factor": pd.Categorical(list(d), categories=names, ordered=True),
                "r2": [float(v) for v in d.values()],
            }
        )
    if level == "group":
        out = pd.DataFrame(uns["r2_per_group_view_factor"]).reset_index(drop=True)
        out["factor"] = pd.Categorical(out["factor"], categories=names, ordered=True)
        return out
    raise ValueError(f"level must be 'view_factor', 'view', 'factor' or 'group', got {level!r}")
