"""Input preparation for the MOFA+ wrapper: views, likelihoods, groups, validation, memory check.

Private module of :mod:`harmonomics.models.mofa`. Nothing here imports mofapy2.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import FormatError, InsufficientDataError, InsufficientMemoryError, MissingResultError
from ._memory import estimate_memory

logger = logging.getLogger(__name__)

LIKELIHOODS = ("gaussian", "bernoulli", "poisson")

LEFT_OUT_REASONS = {
    "all_missing": "missing in all {n} fitted samples of this omic",
    "constant": "constant across the {n} fitted samples of this omic (zero variance)",
}
"""Why a feature is left out of a fit: it carries no information and would break the per-view scaling."""


@dataclass
class View:
    """One modality as mofapy2 will see it (rows: the fitted samples in fit order, NaN where absent)."""

    name: str
    features: list[str]
    likelihood: str
    data: np.ndarray  # n_fit x D, float64, NaN where the sample lacks the view
    n_present: int
    n_vars: int = 0  # features of the modality, fitted or not
    fitted: np.ndarray | None = None  # positions in the modality's var of the D fitted features
    left_out: dict[str, list[str]] = field(default_factory=dict)  # reason -> features left out of the fit


@dataclass
class Inputs:
    """Everything mofapy2 needs, plus the bookkeeping to map results back into the store."""

    views: list[View]
    obs_names: pd.Index  # mdata.obs_names (store order)
    fit_rows: np.ndarray  # positions (in store order) of the fitted samples, in fit (group-concatenated) order
    groups: list[str]  # group names ("group" when no groups_key)
    sample_groups: np.ndarray  # group name of each fitted sample, fit order
    groups_key: str | None
    no_data: list[str] = field(default_factory=list)  # samples with no value in any view (not fitted)
    prefixed: bool = False  # feature names passed to mofapy2 as "view:feature" (names clashed across views)

    @property
    def n_fit(self) -> int:
        return len(self.fit_rows)


def _dense(x) -> np.ndarray:
    if hasattr(x, "toarray"):
        x = x.toarray()
    return np.asarray(x, dtype=np.float64)


def resolve_mods(mdata, mods: str | Sequence[str] | None) -> list[str]:
    """Validate ``mods`` against ``mdata.mod`` (default: every modality, store order)."""
    available = list(mdata.mod.keys())
    if mods is None:
        if not available:
            raise MissingResultError("the MuData object holds no modality; MOFA needs at least one view")
        return available
    if isinstance(mods, str):
        mods = [mods]
    mods = list(mods)
    if not mods:
        raise ValueError("mods is empty: name at least one modality, e.g. mods=['rna', 'prot']")
    unknown = [m for m in mods if m not in mdata.mod]
    if unknown:
        raise MissingResultError(
            f"modality {unknown[0]!r} is not in the MuData object; available modalities: {available}"
        )
    if len(set(mods)) != len(mods):
        raise ValueError(f"mods lists a modality twice: {mods}")
    return mods


def default_likelihood(mod: str) -> str:
    """Mutation matrices (modality ``mut``) are Bernoulli; every other modality Gaussian."""
    return "bernoulli" if mod == _keys.MUT else "gaussian"


def resolve_likelihoods(mods: list[str], likelihoods: str | Sequence[str] | Mapping[str, str] | None) -> dict[str, str]:
    """Likelihood per view: the defaults, overridden by a mapping, a sequence (one per view) or one string."""
    out = {m: default_likelihood(m) for m in mods}
    if likelihoods is None:
        return out
    if isinstance(likelihoods, str):
        given = {m: likelihoods for m in mods}
    elif isinstance(likelihoods, Mapping):
        unknown = [m for m in likelihoods if m not in out]
        if unknown:
            raise ValueError(f"likelihoods names modality {unknown[0]!r}, which is not among the fitted views {mods}")
        given = dict(likelihoods)
    else:
        seq = list(likelihoods)
        if len(seq) != len(mods):
            raise ValueError(f"likelihoods has {len(seq)} entries but {len(mods)} views are fitted ({mods})")
        given = dict(zip(mods, seq, strict=False))
    for m, lik in given.items():
        if lik not in LIKELIHOODS:
            raise ValueError(f"likelihood {lik!r} for view {m!r} is not one of {LIKELIHOODS}")
        out[m] = lik
    return out


def build_inputs(mdata, mods: list[str], likelihoods: dict[str, str], groups_key: str | None) -> Inputs:
    """Build the per-view matrices in one common sample order (union of samples, NaN where absent).

    Samples are taken in ``mdata.obs`` order; with ``groups_key`` they are stably regrouped (mofapy2
    concatenates groups). Samples without a value in any fitted view are not given to mofapy2; their
    scores are written as NaN.
    """
    obs_names = pd.Index(mdata.obs_names)
    if obs_names.has_duplicates:
        dup = obs_names[obs_names.duplicated()][0]
        raise FormatError(f"mdata.obs has duplicated sample {dup!r}; sample keys must be unique")

    # groups
    if groups_key is not None:
        if groups_key not in mdata.obs.columns:
            raise MissingResultError(
                f"groups_key {groups_key!r} is not a column of mdata.obs; columns are {list(mdata.obs.columns)}"
            )
        col = mdata.obs[groups_key]
        if col.isna().any():
            sample = col.index[col.isna()][0]
            raise ValueError(
                f"groups_key column {groups_key!r} is missing for sample {sample!r}; every sample needs a group"
            )
        labels = col.astype(str).to_numpy()
        if isinstance(col.dtype, pd.CategoricalDtype):
            groups = [str(c) for c in col.cat.categories if (labels == str(c)).any()]
        else:
            groups = sorted(set(labels))
    else:
        labels = np.full(len(obs_names), "group")
        groups = ["group"]

    # raw matrices in store order
    full: dict[str, np.ndarray] = {}
    present = np.zeros(len(obs_names), dtype=bool)
    for m in mods:
        ad = mdata.mod[m]
        if ad.n_vars == 0:
            raise FormatError(f"modality {m!r} has no features")
        pos = obs_names.get_indexer(pd.Index(ad.obs_names))
        if (pos < 0).any():
            s = ad.obs_names[np.flatnonzero(pos < 0)[0]]
            raise FormatError(
                f"sample {s!r} of modality {m!r} is not in mdata.obs; call mdata.update() to sync the global obs"
            )
        x = _dense(ad.X)
        if np.isinf(x).any():
            i, j = np.argwhere(np.isinf(x))[0]
            raise FormatError(
                f"modality {m!r} holds an infinite value (sample {ad.obs_names[i]!r}, feature {ad.var_names[j]!r}); "
                "expected finite numbers or NaN"
            )
        mat = np.full((len(obs_names), ad.n_vars), np.nan)
        mat[pos] = x
        full[m] = mat
        present |= ~np.isnan(mat).all(axis=1)

    no_data = list(obs_names[~present])
    if no_data:
        logger.warning(
            "%d sample(s) have no value in any fitted view (e.g. %r); they are not fitted and get NaN scores",
            len(no_data),
            no_data[0],
        )

    order = []
    sample_groups = []
    for g in groups:
        idx = np.flatnonzero((labels == g) & present)
        order.append(idx)
        sample_groups.extend([g] * len(idx))
    fit_rows = np.concatenate(order) if order else np.zeros(0, dtype=int)
    groups = [g for g, idx in zip(groups, order, strict=False) if len(idx)]
    if len(fit_rows) < 2:
        raise InsufficientDataError(
            f"MOFA needs at least 2 samples with data in the fitted views {mods}; found {len(fit_rows)}: "
            "add samples or fit other modalities (mods=[...])"
        )

    # feature names must be unique across views for mofapy2; prefix with the view name only if they clash
    all_feats = [f for m in mods for f in mdata.mod[m].var_names]
    clash = len(all_feats) != len(set(all_feats))

    views = []
    for m in mods:
        ad = mdata.mod[m]
        if ad.var_names.has_duplicates:
            dup = ad.var_names[ad.var_names.duplicated()][0]
            raise FormatError(f"modality {m!r} has duplicated feature {dup!r}")
        mat = full[m][fit_rows]
        names = [str(f) for f in ad.var_names]
        fitted, left_out = _informative_features(m, mat, names, mods)
        mat = mat[:, fitted]
        _check_values(m, mat, likelihoods[m])
        feats = [f"{m}:{names[j]}" if clash else names[j] for j in fitted]
        views.append(
            View(
                m,
                feats,
                likelihoods[m],
                mat,
                int((~np.isnan(mat).all(axis=1)).sum()),
                n_vars=ad.n_vars,
                fitted=fitted,
                left_out=left_out,
            )
        )
    return Inputs(views, obs_names, fit_rows, groups, np.asarray(sample_groups), groups_key, no_data, clash)


def _informative_features(m: str, mat: np.ndarray, names: list[str], mods: list[str]):
    """Positions of the features that vary among the fitted samples, and the others by reason.

    Features that are missing in every fitted sample or constant carry no information; they are left out of
    the fit (reported by the caller) instead of stopping it. A view left with no feature, or with fewer than
    two samples, cannot be fitted at all.
    """
    others = [x for x in mods if x != m]
    without = f"fit without it (mods={others!r})" if others else "fit other modalities (mods=[...])"
    n_present = int((~np.isnan(mat).all(axis=1)).sum())
    if n_present < 2:
        raise InsufficientDataError(
            f"view {m!r} has data for {n_present} of the {len(mat)} fitted sample(s); MOFA needs at least 2: {without}"
        )
    all_missing = np.isnan(mat).all(axis=0)
    with np.errstate(invalid="ignore"):
        # max - min instead of the standard deviation: exact for constant columns, no rounding to 1e-17
        filled = np.where(all_missing, 0.0, mat)
        spread = np.nanmax(filled, axis=0) - np.nanmin(filled, axis=0)
    constant = ~all_missing & (spread == 0)
    fitted = np.flatnonzero(~all_missing & ~constant)
    left_out = {
        reason: [names[j] for j in np.flatnonzero(mask)]
        for reason, mask in (("all_missing", all_missing), ("constant", constant))
        if mask.any()
    }
    if len(fitted) == 0:
        raise InsufficientDataError(
            f"view {m!r} has no feature that varies among its {n_present} samples "
            f"({int(constant.sum())} constant, {int(all_missing.sum())} never observed): check what the modality "
            f"holds, or {without}"
        )
    if left_out:
        logger.info(
            "view %r: %d of %d features left out of the fit (%s)",
            m,
            len(names) - len(fitted),
            len(names),
            ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in left_out.items()),
        )
    return fitted, left_out


def _check_values(m: str, mat: np.ndarray, lik: str) -> None:
    obs = mat[~np.isnan(mat)]
    if lik == "bernoulli" and not np.isin(obs, (0.0, 1.0)).all():
        bad = obs[~np.isin(obs, (0.0, 1.0))][0]
        raise FormatError(f"view {m!r} uses the bernoulli likelihood but holds the value {bad!r}; expected 0/1")
    if lik == "poisson" and ((obs < 0).any() or (obs % 1 != 0).any()):
        raise FormatError(f"view {m!r} uses the poisson likelihood but holds non-count values; expected integers >= 0")


def check_n_factors(inputs: Inputs, n_factors: int, init: str) -> None:
    """Raise :class:`InsufficientDataError` when the data cannot support ``n_factors`` factors.

    More factors than fitted samples cannot be told apart, and the PCA initialisation needs at least as many
    samples and features as factors (so does the truncated SVD one).
    """
    n_features = sum(len(v.features) for v in inputs.views)
    limit = min(inputs.n_fit, n_features) if init in ("pca", "svd") else inputs.n_fit
    if n_factors > limit:
        what = f"{inputs.n_fit} fitted samples" if limit == inputs.n_fit else f"{n_features} informative features"
        raise InsufficientDataError(
            f"n_factors={n_factors} is more than the {what} can support; use n_factors={limit} or fewer"
        )


def available_memory() -> int:
    """Bytes of memory available now (psutil)."""
    import psutil

    return int(psutil.virtual_memory().available)


MEMORY_MARGIN = 1.25
"""Factor applied to :func:`estimate_memory` before comparing it with the available memory."""


def check_memory(
    n_samples: int,
    n_features_per_view: Sequence[int],
    n_factors: int,
    float32: bool,
    *,
    engine: str = "fast",
    likelihoods: Sequence[str] | None = None,
) -> int:
    """Raise :class:`InsufficientMemoryError` when the estimate exceeds the available memory.

    The estimate was measured 6–23 % below the real peak of whole fits (benchmarks/results/memory.md: the
    wrapper's own copy of the views and Python overhead come on top of the engine's arrays), so the check keeps
    a margin of :data:`MEMORY_MARGIN`.
    """
    need = int(
        MEMORY_MARGIN
        * estimate_memory(
            n_samples,
            list(n_features_per_view),
            n_factors,
            float32,
            engine=engine,
            likelihoods=None if likelihoods is None else list(likelihoods),
        )
    )
    have = available_memory()
    if need > have:
        raise InsufficientMemoryError(
            f"a MOFA fit of {n_samples} samples x {sum(n_features_per_view)} features "
            f"({len(n_features_per_view)} views) with {n_factors} factors needs about {need / 2**30:.2f} GiB, "
            f"but only {have / 2**30:.2f} GiB are available; reduce the features (e.g. highly variable ones), "
            "the number of factors, or use float32=True"
        )
    logger.debug("memory estimate %.1f MiB, available %.1f MiB", need / 2**20, have / 2**20)
    return need
