"""DIABLO: multi-block sparse PLS discriminant analysis (mixOmics ``block.splsda``).

DIABLO (Singh et al. 2019, *Bioinformatics* 35:3055) finds, per component, one sparse weight vector per omic
block and one for the outcome (the dummy-coded classes) that maximise the design-weighted sum of covariances
between the block variates (sparse generalised CCA, Tenenhaus et al. 2014; the "horst" scheme, the mixOmics
default for ``block.splsda``; "centroid" and "factorial" replace each covariance by its absolute value or its
square, :data:`SCHEMES`)::

    maximise  sum_{j<k} c_jk cov(X_j a_j, X_k a_k)   subject to  ||a_j|| = 1,  ||a_j||_0 = keep_j

The design ``c_jk`` is ``design`` between every pair of omic blocks and 1 between every block and the outcome.

The algorithm, written here from the published method:

1. Each block is centred and (``scale=True``) scaled to unit variance (SD with ``ddof=1``) on the training
   samples that have it; the outcome ``Y`` is the class indicator matrix, centred and scaled the same way.
2. Per component, the weights start at the leading left singular vector of ``X_jᵀY`` (the outcome's at the
   leading right singular vector of ``[X_1 … X_J]ᵀY``) and are updated block after block:
   ``a_j ← soft(X_jᵀ Σ_k c_jk g(cov(X_j a_j, X_k a_k)) X_k a_k, λ_j)`` (``g`` = 1 for horst, the sign of the
   covariance for centroid, the covariance for factorial), normalised to unit length, where ``λ_j`` is the
   ``(keep_j + 1)``-th largest absolute entry, so exactly ``keep_j`` weights are non-zero. Iterations stop
   when no weight moves by more than ``tol`` (or after ``max_iter``).
3. Each omic block is deflated on its own variate ``t_j = X_j a_j``: ``X_j ← X_j − t_j p_jᵀ`` with
   ``p_j = X_jᵀ t_j / t_jᵀ t_j``, so successive variates of a block are orthogonal. The outcome is deflated as
   in mixOmics' regression mode (the ``block.splsda`` default): the mean of its residuals after regression on
   each omic block's variate.

**Samples missing a block.** mixOmics needs complete cases. Here a sample lacking block ``j`` has a zero row in
the centred block ``X_j``: it adds nothing to any cross-product ``X_jᵀ X_k`` or ``X_jᵀ Y``, so every covariance
term is computed over the samples that have both blocks, nothing is imputed, and no sample is dropped. Its
variate for that block is not defined (the sample is absent from ``mod[block].obsm``); its consensus variate
(``obsm[key]``) is the mean of the variates of the blocks it has.

**Prediction** (:func:`predict_diablo`). New samples are standardised with the training means and SDs; their
variates are ``X_new W (PᵀW)⁻¹`` (``W`` the block's weights, ``P`` its deflation loadings), which reproduces the
fitted variates exactly on the training samples. Each block present then names a class by a distance in
:data:`DISTANCES` and the blocks vote by a rule in :data:`VOTES`; ``"weighted"`` weights each block by the
correlation of its variates with the outcome variates on the training samples, averaged over components
(mixOmics' WeightedVote).

Everything prediction needs lives in ``uns[key]["model"]`` as plain arrays (nothing is pickled)::

    model = {
        "blocks": {block: {"features": [...] (features used, in order),
                           "mean": (p,), "scale": (p,),          # training standardisation
                           "weights": (p, K), "loadings": (p, K),  # W and deflation loadings P
                           "projection": (p, K),                  # W (PᵀW)⁻¹
                           "centroids": (classes, K),             # class means of the training variates
                           "variate_cov": (K, K),                 # pooled within-class covariance of them
                           "outcome_coef": (K, classes)}},        # regression of standardised Y on the variates
        "y_mean": (classes,), "y_scale": (classes,), "y_weights": (classes, K),
        "block_weights": {block: float},                          # weighted-vote weights
    }
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import InsufficientDataError, MissingResultError
from .._progress import progress_bar
from ..store import add_report_rows, store_to_modify

if TYPE_CHECKING:  # pragma: no cover
    from mudata import MuData

logger = logging.getLogger(__name__)

KEY_DIABLO = _keys.KEY_DIABLO
DEFAULT_GRID = (5, 10, 15, 20, 30)
# how the outcome is deflated between components: "regression" (on the omic blocks' variates, mixOmics'
# block.splsda default mode) or "canonical" (on its own variate)
OUTCOME_DEFLATION = "regression"


# ---------------------------------------------------------------------------------------------------------------
# core numerics (arrays only; shared by the fit and the tuning)
# ---------------------------------------------------------------------------------------------------------------
def _soft_threshold_keep(values: np.ndarray, keep: int) -> np.ndarray:
    """Soft-threshold ``values`` at its ``(keep + 1)``-th largest absolute entry: ``keep`` entries stay non-zero."""
    if keep >= values.size:
        return values
    magnitude = np.abs(values)
    threshold = np.partition(magnitude, values.size - keep - 1)[values.size - keep - 1]
    return np.sign(values) * np.maximum(magnitude - threshold, 0.0)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _leading_singular(matrix: np.ndarray, side: str) -> np.ndarray:
    u, _, vt = np.linalg.svd(matrix, full_matrices=False)
    return u[:, 0] if side == "left" else vt[0]


#: sGCCA schemes (Tenenhaus et al. 2014; mixOmics' ``scheme``): the factor by which a block's update weighs a
#: linked block's variate, from the covariance of the two variates. "horst" maximises the sum of covariances,
#: "centroid" the sum of their absolute values, "factorial" the sum of their squares.
SCHEMES: dict[str, Callable[[float], float]] = {}


def _scheme(name: str):
    def register(function: Callable[[float], float]):
        SCHEMES[name] = function
        return function

    return register


@_scheme("horst")
def _horst(covariance: float) -> float:
    return 1.0


@_scheme("centroid")
def _centroid(covariance: float) -> float:
    return float(np.sign(covariance))


@_scheme("factorial")
def _factorial(covariance: float) -> float:
    return covariance


def _fit_component(
    blocks: list[np.ndarray],
    design: np.ndarray,
    keep: Sequence[int],
    *,
    max_iter: int,
    tol: float,
    scheme: str = "horst",
) -> tuple[list[np.ndarray], int, bool]:
    """One sGCCA component over ``blocks`` (the outcome last). Returns weights, iterations, converged."""
    weigh = SCHEMES[scheme]
    n = blocks[0].shape[0]
    outcome = blocks[-1]
    weights = [
        _unit(_soft_threshold_keep(_leading_singular(x.T @ outcome, "left"), k))
        for x, k in zip(blocks[:-1], keep[:-1], strict=True)
    ]
    weights.append(_unit(_leading_singular(np.hstack(blocks[:-1]).T @ outcome, "right")))
    variates = [x @ a for x, a in zip(blocks, weights, strict=True)]
    converged = False
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        shift = 0.0
        for j, x in enumerate(blocks):
            inner = sum(
                design[j, k] * weigh(float(variates[j] @ variates[k]) / n) * variates[k]
                for k in range(len(blocks))
                if design[j, k] != 0
            )
            new = _unit(_soft_threshold_keep(x.T @ inner, keep[j]))
            if not np.any(new):  # nothing left to explain (a fully deflated block): keep the start
                new = weights[j]
            shift = max(shift, float(np.max(np.abs(new - weights[j]))))
            weights[j] = new
            variates[j] = x @ new
        if shift < tol:
            converged = True
            break
    # a deterministic sign: the largest weight of the first block is positive (flipping every block together
    # leaves the criterion unchanged)
    first = weights[0]
    if first[np.argmax(np.abs(first))] < 0:
        weights = [-a for a in weights]
    return weights, iteration, converged


def _deflate(x: np.ndarray, variate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Regress ``x`` on its own ``variate``; return the residual and the loading ``p = xᵀt / tᵀt``."""
    norm = float(variate @ variate)
    loading = x.T @ variate / norm if norm > 0 else np.zeros(x.shape[1])
    return x - np.outer(variate, loading), loading


class _Fit:
    """The arrays of a fitted model (blocks then the outcome), built component by component."""

    def __init__(self, blocks: list[np.ndarray]) -> None:
        self.residuals = [b.copy() for b in blocks]
        self.weights: list[list[np.ndarray]] = [[] for _ in blocks]
        self.loadings: list[list[np.ndarray]] = [[] for _ in blocks]
        self.variates: list[list[np.ndarray]] = [[] for _ in blocks]
        self.iterations: list[int] = []
        self.converged: list[bool] = []

    def add_component(
        self,
        design: np.ndarray,
        keep: Sequence[int],
        *,
        max_iter: int,
        tol: float,
        outcome_deflation: str,
        scheme: str = "horst",
    ) -> None:
        weights, iterations, converged = _fit_component(
            self.residuals, design, keep, max_iter=max_iter, tol=tol, scheme=scheme
        )
        variates = [r @ a for r, a in zip(self.residuals, weights, strict=True)]
        outcome = self.residuals[-1]
        for j, (a, t) in enumerate(zip(weights, variates, strict=True)):
            self.residuals[j], p = _deflate(self.residuals[j], t)
            self.weights[j].append(a)
            self.loadings[j].append(p)
            self.variates[j].append(t)
        if outcome_deflation == "regression":
            # mixOmics' regression mode: the outcome is deflated on the omic blocks' variates (the mean of its
            # residuals after regressing on each), so later components keep predicting the classes
            self.residuals[-1] = np.mean([_deflate(outcome, t)[0] for t in variates[:-1]], axis=0)
        self.iterations.append(iterations)
        self.converged.append(converged)

    def copy(self) -> _Fit:
        out = _Fit.__new__(_Fit)
        out.residuals = [r.copy() for r in self.residuals]
        out.weights = [list(w) for w in self.weights]
        out.loadings = [list(p) for p in self.loadings]
        out.variates = [list(t) for t in self.variates]
        out.iterations = list(self.iterations)
        out.converged = list(self.converged)
        return out

    def matrix(self, what: str, j: int, n_comp: int | None = None) -> np.ndarray:
        columns = getattr(self, what)[j][:n_comp]
        return np.column_stack(columns)


def _projection(weights: np.ndarray, loadings: np.ndarray) -> np.ndarray:
    """``W (PᵀW)⁻¹``: maps a standardised (undeflated) block onto its variates."""
    return weights @ np.linalg.pinv(loadings.T @ weights)


def _class_model(variates: np.ndarray, codes: np.ndarray, n_classes: int, outcome: np.ndarray) -> dict:
    """Centroids, covariance and outcome regression of one block's training variates (rows present only)."""
    centroids = np.vstack([variates[codes == c].mean(axis=0) for c in range(n_classes)])
    within = variates - centroids[codes]  # pooled within-class covariance, as mixOmics' mahalanobis.dist
    cov = np.atleast_2d(within.T @ within / variates.shape[0])
    coef, *_ = np.linalg.lstsq(variates, outcome, rcond=None)
    return {"centroids": centroids, "variate_cov": cov, "outcome_coef": coef}


# distances: each maps (new variates, block model) to class scores, higher = closer
def _score_max(variates: np.ndarray, block: Mapping) -> np.ndarray:
    """max.dist: the class whose predicted (standardised) indicator value is largest."""
    return variates @ np.asarray(block["outcome_coef"])


def _score_centroids(variates: np.ndarray, block: Mapping) -> np.ndarray:
    """centroids.dist: minus the Euclidean distance to each class centroid of the training variates."""
    centroids = np.asarray(block["centroids"])
    return -np.sqrt(((variates[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))


def _score_mahalanobis(variates: np.ndarray, block: Mapping) -> np.ndarray:
    """mahalanobis.dist: minus the Mahalanobis distance to each centroid (pooled within-class covariance)."""
    centroids = np.asarray(block["centroids"])
    precision = np.linalg.pinv(np.atleast_2d(np.asarray(block["variate_cov"])))
    diff = variates[:, None, :] - centroids[None, :, :]
    return -np.sqrt(np.maximum(np.einsum("nck,kl,ncl->nc", diff, precision, diff), 0.0))


DISTANCES: dict[str, Callable[[np.ndarray, Mapping], np.ndarray]] = {
    "max": _score_max,
    "centroids": _score_centroids,
    "mahalanobis": _score_mahalanobis,
}


# votes: each maps (per-block scores [blocks x samples x classes], presence [blocks x samples], weights) to
# combined class scores (samples x classes); the class is their argmax
def _one_hot_winners(scores: np.ndarray) -> np.ndarray:
    winners = np.nan_to_num(scores, nan=-np.inf).argmax(axis=2)
    return np.eye(scores.shape[2])[winners]


def _vote_majority(scores: np.ndarray, present: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Fraction of the blocks present that name each class (ties go to the weighted vote's choice)."""
    votes = (_one_hot_winners(scores) * present[:, :, None]).sum(axis=0)
    tie_break = _vote_weighted(scores, present, weights) * 1e-6
    return votes / np.maximum(present.sum(axis=0), 1)[:, None] + tie_break


def _vote_weighted(scores: np.ndarray, present: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each block's vote weighted by its correlation with the outcome; scores are the weight share per class."""
    w = present * np.clip(weights, 0.0, None)[:, None]
    votes = (_one_hot_winners(scores) * w[:, :, None]).sum(axis=0)
    return votes / np.maximum(w.sum(axis=0), 1e-300)[:, None]


def _vote_average(scores: np.ndarray, present: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The mean over the blocks present of each block's class scores."""
    filled = np.where(present[:, :, None], np.nan_to_num(scores), 0.0)
    return filled.sum(axis=0) / np.maximum(present.sum(axis=0), 1)[:, None]


VOTES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "majority": _vote_majority,
    "weighted": _vote_weighted,
    "average": _vote_average,
}


def _check_choice(name: str, value: str, registry: Mapping) -> None:
    if value not in registry:
        raise ValueError(f"diablo: {name}={value!r} is not known; expected one of {list(registry)}")


def _combine(scores: np.ndarray, present: np.ndarray, weights: np.ndarray, vote: str) -> tuple[np.ndarray, np.ndarray]:
    """Combined class scores and the winning class index (-1 where no block is present)."""
    combined = VOTES[vote](scores, present, weights)
    winner = combined.argmax(axis=1)
    none = ~present.any(axis=0)
    combined[none] = np.nan
    winner[none] = -1
    return combined, winner


# ---------------------------------------------------------------------------------------------------------------
# preparing the data of a store
# ---------------------------------------------------------------------------------------------------------------
def _dense(matrix) -> np.ndarray:
    return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=float)


def _block_matrix(mdata: MuData, block: str, samples: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """The block's values over ``samples`` (NaN rows where a sample lacks the block) and the presence mask."""
    adata = mdata.mod[block]
    position = pd.Index(adata.obs_names).get_indexer(samples)
    present = position >= 0
    values = np.full((samples.size, adata.n_vars), np.nan)
    if present.any():
        values[present] = _dense(adata.X[position[present]])
    return values, present


def _standardise(values: np.ndarray, present: np.ndarray, scale: bool) -> dict:
    """Centre and scale a block over the samples that have it; zero rows for the others and for missing values."""
    rows = values[present]
    counts = np.isfinite(rows).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, np.nansum(rows, axis=0) / np.maximum(counts, 1), np.nan)
        sd = np.sqrt(np.nansum((rows - mean) ** 2, axis=0) / np.maximum(counts - 1, 1))
    usable = (counts >= 2) & (sd > 1e-12 * np.maximum(np.abs(mean), 1.0))
    mean, sd = mean[usable], (sd[usable] if scale else np.ones(int(usable.sum())))
    standardised = (values[:, usable] - mean) / sd
    standardised[~present] = 0.0
    n_missing = int((~np.isfinite(standardised[present])).sum())
    standardised = np.nan_to_num(standardised, nan=0.0)
    return {"x": standardised, "usable": usable, "mean": mean, "scale": sd, "n_missing": n_missing}


def _outcome(codes: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    indicator = np.eye(n_classes)[codes]
    mean = indicator.mean(axis=0)
    sd = indicator.std(axis=0, ddof=1)
    return (indicator - mean) / sd, mean, sd


def _design_matrix(design: float | pd.DataFrame | np.ndarray, blocks: list[str]) -> np.ndarray:
    """Blocks + outcome square design: ``design`` between omic blocks, 1 between each block and the outcome."""
    n = len(blocks)
    full = np.ones((n + 1, n + 1))
    if isinstance(design, pd.DataFrame):
        missing = [b for b in blocks if b not in design.index or b not in design.columns]
        if missing:
            raise ValueError(f"diablo: design lacks blocks {missing}; expected a DataFrame over {blocks}")
        full[:n, :n] = design.loc[blocks, blocks].to_numpy(dtype=float)
    elif np.ndim(design) == 2:
        matrix = np.asarray(design, dtype=float)
        if matrix.shape != (n, n):
            raise ValueError(f"diablo: design has shape {matrix.shape}; expected ({n}, {n}) for blocks {blocks}")
        full[:n, :n] = matrix
    else:
        value = float(design)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"diablo: design={value} must lie between 0 and 1")
        full[:n, :n] = value
    np.fill_diagonal(full, 0.0)
    return full


def _resolve_blocks(mdata: MuData, mods: Sequence[str] | None) -> list[str]:
    if mods is None:
        blocks = [m for m in mdata.mod if m != _keys.MUT]
    else:
        blocks = [mods] if isinstance(mods, str) else list(mods)
        unknown = [b for b in blocks if b not in mdata.mod]
        if unknown:
            raise MissingResultError(
                f"diablo: block(s) {unknown} not in the store; expected modalities among {list(mdata.mod)}"
            )
    if not blocks:
        raise InsufficientDataError(f"diablo: no blocks to fit; the store holds {list(mdata.mod)}")
    return blocks


def _resolve_labels(mdata: MuData, label: str) -> tuple[pd.Series, list[str]]:
    if label not in mdata.obs.columns:
        raise MissingResultError(
            f"diablo: label column {label!r} not in obs; expected one of {list(mdata.obs.columns)}"
        )
    labels = mdata.obs[label]
    if isinstance(labels.dtype, pd.CategoricalDtype):
        present = set(labels.dropna().astype(str))
        classes = [str(c) for c in labels.cat.categories if str(c) in present]
    else:
        classes = sorted(labels.dropna().astype(str).unique())
    labels = labels.astype(object).where(labels.notna(), None)
    if len(classes) < 2:
        raise InsufficientDataError(
            f"diablo: obs[{label!r}] has {len(classes)} class(es) {classes}; expected at least two classes"
        )
    return labels, classes


def _resolve_keep(
    keep: int | Mapping[str, int | Sequence[int]] | None, blocks: list[str], n_features: Mapping[str, int], n_comp: int
) -> dict[str, list[int]]:
    out = {}
    for block in blocks:
        value = keep.get(block) if isinstance(keep, Mapping) else keep
        if value is None:
            values = [n_features[block]] * n_comp
        elif np.ndim(value) == 0:
            values = [int(value)] * n_comp
        else:
            values = [int(v) for v in value]
            if len(values) != n_comp:
                raise ValueError(f"diablo: keep[{block!r}] has {len(values)} values; expected n_components={n_comp}")
        for v in values:
            if not 1 <= v <= n_features[block]:
                raise InsufficientDataError(
                    f"diablo: keep={v} for block {block!r}, which has {n_features[block]} usable features; "
                    f"expected 1 to {n_features[block]}"
                )
        out[block] = values
    if isinstance(keep, Mapping):
        unknown = [b for b in keep if b not in blocks]
        if unknown:
            raise MissingResultError(f"diablo: keep names block(s) {unknown} that are not fitted; blocks: {blocks}")
    return out


class _Prepared:
    """The training data of a store: labelled samples, class codes, standardised blocks and the outcome."""

    def __init__(self, mdata: MuData, label: str, blocks: list[str], scale: bool) -> None:
        labels, classes = _resolve_labels(mdata, label)
        labelled = labels.notna().to_numpy()
        has_block = np.zeros(mdata.n_obs, dtype=bool)
        for block in blocks:
            has_block |= pd.Index(mdata.obs_names).isin(mdata.mod[block].obs_names)
        used = labelled & has_block
        self.unused = {
            "no label": list(mdata.obs_names[~labelled]),
            "none of the blocks": list(mdata.obs_names[labelled & ~has_block]),
        }
        self.samples = pd.Index(mdata.obs_names[used])
        self.classes = classes
        self.codes = pd.Index(classes).get_indexer(labels[used].astype(str))
        counts = np.bincount(self.codes, minlength=len(classes))
        if (counts == 0).any():
            raise InsufficientDataError(
                f"diablo: classes {[c for c, n in zip(classes, counts, strict=True) if n == 0]} of obs[{label!r}] "
                "have no sample with a block; expected every class present"
            )
        self.blocks = blocks
        self.values: dict[str, np.ndarray] = {}
        self.present: dict[str, np.ndarray] = {}
        for block in blocks:
            self.values[block], self.present[block] = _block_matrix(mdata, block, self.samples)
            if self.present[block].sum() < 3:
                raise InsufficientDataError(
                    f"diablo: block {block!r} has {int(self.present[block].sum())} labelled samples; expected at "
                    "least 3"
                )
        self.scale = scale

    def standardised(self, rows: np.ndarray | None = None) -> dict[str, dict]:
        rows = np.arange(self.samples.size) if rows is None else rows
        return {b: _standardise(self.values[b][rows], self.present[b][rows], self.scale) for b in self.blocks}


def _fit_arrays(
    standardised: Mapping[str, dict],
    codes: np.ndarray,
    n_classes: int,
    design: np.ndarray,
    keep: Mapping[str, list[int]],
    *,
    n_comp: int,
    max_iter: int,
    tol: float,
    start: _Fit | None = None,
    scheme: str = "horst",
) -> _Fit:
    blocks = list(standardised)
    if start is None:
        outcome, _, _ = _outcome(codes, n_classes)
        start = _Fit([standardised[b]["x"] for b in blocks] + [outcome])
    fit = start
    for h in range(len(fit.iterations), n_comp):
        fit.add_component(
            design,
            [keep[b][h] for b in blocks] + [n_classes],
            max_iter=max_iter,
            tol=tol,
            outcome_deflation=OUTCOME_DEFLATION,
            scheme=scheme,
        )
    return fit


def _block_models(
    fit: _Fit,
    standardised: Mapping[str, dict],
    present: Mapping[str, np.ndarray],
    codes: np.ndarray,
    n_classes: int,
    n_comp: int,
) -> dict[str, dict]:
    """Per block: projection, centroids, covariance and outcome regression of the first ``n_comp`` components."""
    outcome, _, _ = _outcome(codes, n_classes)
    y_variates = fit.matrix("variates", len(standardised), n_comp)
    models = {}
    for j, block in enumerate(standardised):
        weights, loadings = fit.matrix("weights", j, n_comp), fit.matrix("loadings", j, n_comp)
        rows = present[block]
        variates = fit.matrix("variates", j, n_comp)[rows]
        model = {"weights": weights, "loadings": loadings, "projection": _projection(weights, loadings)}
        model.update(_class_model(variates, codes[rows], n_classes, outcome[rows]))
        correlations = [
            float(np.corrcoef(variates[:, h], y_variates[rows, h])[0, 1]) if np.std(variates[:, h]) > 0 else 0.0
            for h in range(n_comp)
        ]
        model["outcome_correlation"] = np.asarray(correlations)
        models[block] = model
    return models


def _predict_arrays(
    new_standardised: Mapping[str, np.ndarray],
    present: Mapping[str, np.ndarray],
    models: Mapping[str, Mapping],
    distance: str,
    vote: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-block class scores, combined scores and winners for standardised new blocks."""
    blocks = list(models)
    scores = np.stack(
        [DISTANCES[distance](new_standardised[b] @ np.asarray(models[b]["projection"]), models[b]) for b in blocks]
    )
    presence = np.stack([present[b] for b in blocks])
    weights = np.asarray([float(np.mean(models[b]["outcome_correlation"])) for b in blocks])
    combined, winner = _combine(scores, presence, weights, vote)
    return scores, combined, winner


def _balanced_error(codes: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    return float(np.mean([np.mean(predicted[codes == c] != c) for c in range(n_classes) if (codes == c).any()]))


# ---------------------------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------------------------
def diablo(
    mdata: MuData,
    *,
    label: str = _keys.KEY_PAM50,
    mods: Sequence[str] | None = None,
    n_components: int = 2,
    keep: int | Mapping[str, int | Sequence[int]] | str | pd.DataFrame | None = None,
    design: float | pd.DataFrame | np.ndarray = 0.1,
    scale: bool = True,
    scheme: str = "horst",
    max_iter: int = 100,
    tol: float = 1e-6,
    seed: int = 0,
    key_added: str = KEY_DIABLO,
    copy: bool = False,
) -> MuData | None:
    """Fit DIABLO (multi-block sparse PLS-DA) to classes in ``obs[label]`` from several omic blocks.

    Parameters
    ----------
    mdata
        The store. Samples with a label and at least one block are fitted; the others are listed in the
        harmonization report (their block variates are still projected).
    label
        obs column with the classes (e.g. the PAM50 call).
    mods
        The blocks (modalities). Default: every modality except ``mut``.
    n_components
        Number of components.
    keep
        Features kept per block and component: ``None`` (all, no sparsity), an int for every block and
        component, a dict ``{block: int or [n per component]}``, ``"tune"`` to choose them with
        :func:`diablo_tune` (default settings), or a table returned by :func:`diablo_tune` (its ``best`` rows);
        with either of the last two the table is stored in ``uns[key_added]["tuning"]``.
    design
        Link between omic blocks (0 to 1; mixOmics recommends 0.1 for prediction), or a square DataFrame over
        the blocks. Every block is linked to the outcome with 1.
    scale
        Scale each feature to unit variance (else only centre).
    scheme
        How linked variates' covariances are combined (:data:`SCHEMES`, mixOmics' ``scheme``): ``"horst"`` (the
        sum of covariances; mixOmics' default), ``"centroid"`` (the sum of their absolute values) or
        ``"factorial"`` (the sum of their squares).
    max_iter, tol
        Iteration limit and convergence tolerance (largest change of a weight) per component.
    seed
        Seed of the tuning folds (the fit itself is deterministic).
    key_added
        Result key.
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None``, or the modified copy with ``copy=True``. Writes ``mod[block].obsm[key_added]`` (block variates),
    ``obsm[key_added]`` (consensus variates), ``mod[block].varm[key_added]`` (weights; 0 where not selected,
    NaN for features left out) and ``uns[key_added]`` (see the module docstring and docs/models.md).

    Raises
    ------
    MissingResultError
        ``label`` is not an obs column, or a block is not in the store.
    InsufficientDataError
        Fewer than two classes, or ``keep`` above a block's number of usable features.
    """
    _check_choice("scheme", scheme, SCHEMES)
    mdata = store_to_modify(mdata, copy)
    if n_components < 1:
        raise ValueError(f"diablo: n_components={n_components}; expected at least 1")
    blocks = _resolve_blocks(mdata, mods)
    prepared = _Prepared(mdata, label, blocks, scale)
    design_matrix = _design_matrix(design, blocks)
    tuning = None
    if isinstance(keep, str):
        if keep != "tune":
            raise ValueError(f"diablo: keep={keep!r}; expected None, an int, a dict, 'tune' or a tuning table")
        keep = diablo_tune(
            mdata,
            label=label,
            mods=blocks,
            n_components=n_components,
            design=design,
            seed=seed,
            scale=scale,
            scheme=scheme,
        )
    if isinstance(keep, pd.DataFrame):
        tuning = keep
        keep = _best_keep(tuning, blocks, n_components)
    standardised = prepared.standardised()
    n_features = {b: int(standardised[b]["usable"].sum()) for b in blocks}
    keep = _resolve_keep(keep, blocks, n_features, n_components)
    n_classes = len(prepared.classes)
    fit = _fit_arrays(
        standardised,
        prepared.codes,
        n_classes,
        design_matrix,
        keep,
        n_comp=n_components,
        max_iter=max_iter,
        tol=tol,
        scheme=scheme,
    )
    if not all(fit.converged):
        logger.warning(
            "diablo: components %s did not converge in %d iterations (tol=%g)",
            [h + 1 for h, ok in enumerate(fit.converged) if not ok],
            max_iter,
            tol,
        )
    models = _block_models(fit, standardised, prepared.present, prepared.codes, n_classes, n_components)
    _write_fit(mdata, prepared, standardised, fit, models, keep, design_matrix, tuning, key_added, locals())
    return mdata if copy else None


def _write_fit(mdata, prepared, standardised, fit, models, keep, design_matrix, tuning, key_added, args) -> None:
    blocks, classes, n_comp = prepared.blocks, prepared.classes, len(fit.iterations)
    columns = [f"comp{h + 1}" for h in range(n_comp)]
    consensus_sum = pd.DataFrame(0.0, index=mdata.obs_names, columns=columns)
    consensus_count = pd.Series(0, index=mdata.obs_names)
    selected, explained, report_rows = [], {}, []
    model_blocks = {}
    for j, block in enumerate(blocks):
        adata = mdata.mod[block]
        info = standardised[block]
        features = adata.var_names[info["usable"]]
        # every sample of the modality gets variates by projection; on the fitted samples this equals the fit
        values = _dense(adata.X)[:, info["usable"]]
        x = np.nan_to_num((values - info["mean"]) / info["scale"], nan=0.0)
        variates = pd.DataFrame(x @ models[block]["projection"], index=adata.obs_names, columns=columns)
        adata.obsm[key_added] = variates
        consensus_sum.loc[variates.index] += variates.to_numpy()
        consensus_count.loc[variates.index] += 1
        weights = models[block]["weights"]
        loadings = pd.DataFrame(np.nan, index=adata.var_names, columns=columns)
        loadings.loc[features] = weights
        adata.varm[key_added] = loadings
        for h in range(n_comp):
            nonzero = np.flatnonzero(weights[:, h])
            order = nonzero[np.argsort(-np.abs(weights[nonzero, h]), kind="stable")]
            selected.extend(
                {"feature": str(features[i]), "block": block, "component": h + 1, "loading": float(weights[i, h])}
                for i in order
            )
        # fraction of the standardised block's variance explained by a regression on each variate
        rows = prepared.present[block]
        total = float((info["x"][rows] ** 2).sum())
        fitted_t = fit.matrix("variates", j)[rows]
        explained[block] = [
            float(np.sum((info["x"][rows].T @ fitted_t[:, h]) ** 2) / (fitted_t[:, h] @ fitted_t[:, h]) / total)
            if total > 0 and fitted_t[:, h] @ fitted_t[:, h] > 0
            else 0.0
            for h in range(n_comp)
        ]
        report_rows.extend(
            {
                "level": "feature",
                "item": str(feature),
                "omic": block,
                "sample": "",
                "action": "excluded",
                "reason": f"diablo ({key_added}): constant or fewer than 2 values among the fitted samples",
            }
            for feature in adata.var_names[~info["usable"]]
        )
        if info["n_missing"]:
            logger.info("diablo: block %r: %d missing values set to the feature mean", block, info["n_missing"])
        model_blocks[block] = {
            "features": [str(f) for f in features],
            "mean": np.asarray(info["mean"], dtype=float),
            "scale": np.asarray(info["scale"], dtype=float),
            **{k: np.asarray(v, dtype=float) for k, v in models[block].items() if k != "outcome_correlation"},
        }
    for reason, samples in prepared.unused.items():
        report_rows.extend(
            {
                "level": "sample",
                "item": str(s),
                "omic": "",
                "sample": str(s),
                "action": "not fitted",
                "reason": f"diablo ({key_added}): {reason}",
            }
            for s in samples
        )
    if report_rows:
        add_report_rows(mdata, report_rows)
    consensus = consensus_sum.div(consensus_count.replace(0, np.nan), axis=0)
    mdata.obsm[key_added] = consensus
    outcome_correlation = pd.DataFrame({b: models[b]["outcome_correlation"] for b in blocks}, index=columns).T
    _, y_mean, y_scale = _outcome(prepared.codes, len(classes))
    selected_table = pd.DataFrame(selected, columns=["feature", "block", "component", "loading"])
    result = {
        "method": "diablo",
        "label": args["label"],
        "classes": list(classes),
        "blocks": list(blocks),
        "n_components": int(n_comp),
        "keep": {b: [int(v) for v in keep[b]] for b in blocks},
        "design": pd.DataFrame(design_matrix[:-1, :-1], index=blocks, columns=blocks),
        "scale": bool(args["scale"]),
        "seed": int(args["seed"]),
        "params": {
            "max_iter": int(args["max_iter"]),
            "tol": float(args["tol"]),
            "scheme": str(args["scheme"]),
            "deflation": "each omic block on its own variate; the outcome on the blocks' variates (mean)",
            "outcome_design": 1.0,
            "n_samples": int(prepared.samples.size),
            "n_samples_per_block": {b: int(prepared.present[b].sum()) for b in blocks},
            "iterations": [int(i) for i in fit.iterations],
            "converged": [bool(c) for c in fit.converged],
        },
        "selected": selected_table,
        "explained_variance": pd.DataFrame(explained, index=columns).T,
        "outcome_correlation": outcome_correlation,
        "model": {
            "blocks": model_blocks,
            "y_mean": np.asarray(y_mean, dtype=float),
            "y_scale": np.asarray(y_scale, dtype=float),
            "y_weights": fit.matrix("weights", len(blocks)),
            "block_weights": {b: float(np.mean(models[b]["outcome_correlation"])) for b in blocks},
        },
    }
    if tuning is not None:
        result["tuning"] = tuning
    mdata.uns[key_added] = result
    logger.info(
        "diablo: %d samples, blocks %s, classes %s, keep %s", prepared.samples.size, blocks, classes, result["keep"]
    )


def predict_diablo(
    new: MuData,
    trained: MuData,
    *,
    key: str = KEY_DIABLO,
    distance: str = "centroids",
    vote: str = "weighted",
    key_added: str = "diablo_prediction",
    copy: bool = False,
) -> MuData | None:
    """Classify new samples with a DIABLO fit from :func:`diablo`.

    Each block of the fit that the new store holds is standardised with the training means and SDs (features
    absent from the new block count as the training mean, and are logged), projected onto the block's
    variates, and names a class by ``distance``; the blocks a sample has then vote.

    Parameters
    ----------
    new
        Samples to classify (a sample may lack some blocks; one without any fitted block gets no class).
    trained
        The store holding ``uns[key]`` from :func:`diablo`.
    key
        Key of the fit.
    distance
        ``"centroids"`` (nearest class centroid of the training variates, Euclidean), ``"mahalanobis"``
        (the same with the pooled within-class covariance of the training variates) or ``"max"`` (largest
        predicted class indicator).
    vote
        ``"weighted"`` (blocks weighted by the correlation of their variates with the outcome's), ``"majority"``
        or ``"average"`` (mean of the blocks' class scores).
    key_added
        Key of the prediction.
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None``, or the modified copy with ``copy=True``. Writes ``obs[key_added]`` (categorical, the training
    classes), ``obsm[key_added]`` (samples × classes, the combined scores) and ``uns[key_added]``
    (``per_block``, ``distance``, ``vote``, ``weights``).

    Raises
    ------
    MissingResultError
        No DIABLO fit ``uns[key]`` in ``trained``, or none of its blocks in ``new``.
    """
    _check_choice("distance", distance, DISTANCES)
    _check_choice("vote", vote, VOTES)
    uns = trained.uns if hasattr(trained, "uns") else trained
    fit = uns.get(key)
    if not isinstance(fit, Mapping) or fit.get("method") != "diablo":
        raise MissingResultError(f"predict_diablo: no DIABLO fit uns[{key!r}] in the trained store; run hm.tl.diablo")
    new = store_to_modify(new, copy)
    model = fit["model"]
    classes = [str(c) for c in fit["classes"]]
    blocks = [b for b in fit["blocks"] if b in new.mod]
    if not blocks:
        raise MissingResultError(
            f"predict_diablo: the new store holds none of the fitted blocks {list(fit['blocks'])}; it holds "
            f"{list(new.mod)}"
        )
    samples = pd.Index(new.obs_names)
    standardised, present, models = {}, {}, {}
    for block in blocks:
        block_model = model["blocks"][block]
        features = pd.Index([str(f) for f in block_model["features"]])
        values, present[block] = _block_matrix(new, block, samples)
        position = pd.Index(new.mod[block].var_names).get_indexer(features)
        absent = int((position < 0).sum())
        if absent:
            logger.warning(
                "predict_diablo: %d of %d features of block %r absent; set to the training mean",
                absent,
                features.size,
                block,
            )
        aligned = np.full((samples.size, features.size), np.nan)
        aligned[:, position >= 0] = values[:, position[position >= 0]]
        x = (aligned - np.asarray(block_model["mean"])) / np.asarray(block_model["scale"])
        standardised[block] = np.nan_to_num(x, nan=0.0)
        models[block] = {**block_model, "outcome_correlation": [model["block_weights"][block]]}
    scores, combined, winner = _predict_arrays(standardised, present, models, distance, vote)
    labels = np.array([classes[w] if w >= 0 else None for w in winner], dtype=object)
    new.obs[key_added] = pd.Categorical(labels, categories=classes)
    new.obsm[key_added] = pd.DataFrame(combined, index=samples, columns=classes)
    per_block = pd.DataFrame(
        {
            b: np.where(present[b], np.asarray(classes, dtype=object)[scores[i].argmax(axis=1)], None)
            for i, b in enumerate(blocks)
        },
        index=samples,
    )
    new.uns[key_added] = {
        "per_block": per_block,
        "distance": distance,
        "vote": vote,
        "weights": {b: float(model["block_weights"][b]) for b in blocks},
        "key": key,
        "classes": classes,
    }
    logger.info("predict_diablo: %d of %d samples classified", int((winner >= 0).sum()), winner.size)
    return new if copy else None


# ---------------------------------------------------------------------------------------------------------------
# tuning
# ---------------------------------------------------------------------------------------------------------------
def _grid_for(
    grid: Mapping[str, Sequence[int]] | Sequence[int] | None, blocks: list[str], n_features: Mapping[str, int]
) -> dict[str, list[int]]:
    out = {}
    for block in blocks:
        values = grid.get(block, DEFAULT_GRID) if isinstance(grid, Mapping) else (grid or DEFAULT_GRID)
        values = sorted({int(v) for v in values if 1 <= int(v) <= n_features[block]})
        out[block] = values or [n_features[block]]
    return out


def _best_keep(table: pd.DataFrame, blocks: list[str], n_components: int) -> dict[str, list[int]]:
    """The keep values of the ``best`` rows of a :func:`diablo_tune` table, per block and component."""
    needed = ["component", "best", *(f"keep_{b}" for b in blocks)]
    absent = [c for c in needed if c not in table.columns]
    if absent:
        raise ValueError(f"diablo: the tuning table lacks columns {absent}; expected a hm.tl.diablo_tune table")
    best = table.loc[table["best"].astype(bool)].drop_duplicates("component").set_index("component").sort_index()
    if list(best.index) != list(range(1, n_components + 1)):
        raise ValueError(
            f"diablo: the tuning table has best rows for components {list(best.index)}; expected 1 to {n_components}"
        )
    return {b: [int(v) for v in best[f"keep_{b}"]] for b in blocks}


def diablo_tune(
    mdata: MuData,
    *,
    label: str = _keys.KEY_PAM50,
    mods: Sequence[str] | None = None,
    n_components: int = 2,
    grid: Mapping[str, Sequence[int]] | Sequence[int] | None = None,
    folds: int = 5,
    repeats: int = 3,
    distance: str = "centroids",
    design: float | pd.DataFrame | np.ndarray = 0.1,
    seed: int = 0,
    scale: bool = True,
    vote: str = "weighted",
    predict_mods: Sequence[str] | None = None,
    scheme: str = "horst",
    max_iter: int = 100,
    tol: float = 1e-6,
) -> pd.DataFrame:
    """Choose DIABLO's ``keep`` by repeated stratified cross-validation (balanced error rate).

    As in mixOmics ``tune.block.splsda``, components are tuned one at a time: every combination of the grid's
    values across blocks is tried for component ``h`` with the keep of components ``1..h-1`` fixed at their
    best; a combination is scored by the balanced error rate (BER) of the ``vote`` over the blocks, predicting
    each held-out fold with ``h`` components (standardisation refitted inside each fold). The best row has the
    lowest mean BER (ties: fewest features kept).

    Parameters
    ----------
    mdata, label, mods, design, scale, scheme, max_iter, tol
        As in :func:`diablo`.
    n_components
        Number of components to tune.
    grid
        Values of keep to try: one list for every block, or ``{block: [...]}``. Default 5, 10, 15, 20, 30
        (values above a block's number of features are dropped).
    folds, repeats
        Stratified K-fold cross-validation (scikit-learn ``StratifiedKFold``), repeated with seeds
        ``seed, seed + 1, ...``.
    distance, vote
        The prediction rule scored (see :func:`predict_diablo`).
    predict_mods
        Predict the held-out samples from these blocks only (default: every block). Tuning for the blocks the
        new samples will have (e.g. ``["rna", "mirna"]`` when they lack protein) scores the rule that will be
        used; the model is still fitted on every block.
    seed
        Seed of the fold assignment.

    Returns
    -------
    Tidy table: ``component``, ``keep_<block>`` per block, ``distance``, ``vote``, ``predict_mods``, ``mean_ber``,
    ``sd_ber`` (over repeats), ``repeats``, ``folds``, ``best`` (the row chosen for that component).
    """
    _check_choice("distance", distance, DISTANCES)
    _check_choice("vote", vote, VOTES)
    _check_choice("scheme", scheme, SCHEMES)
    blocks = _resolve_blocks(mdata, mods)
    predict_blocks = blocks if predict_mods is None else _resolve_blocks(mdata, predict_mods)
    outside = [b for b in predict_blocks if b not in blocks]
    if outside:
        raise MissingResultError(f"diablo_tune: predict_mods {outside} are not fitted blocks; blocks: {blocks}")
    prepared = _Prepared(mdata, label, blocks, scale)
    design_matrix = _design_matrix(design, blocks)
    n_classes = len(prepared.classes)
    counts = np.bincount(prepared.codes, minlength=n_classes)
    n_folds = int(min(folds, counts.min()))
    if n_folds < 2:
        raise InsufficientDataError(
            f"diablo_tune: the smallest class of obs[{label!r}] has {counts.min()} sample(s); expected at least 2"
        )
    full = prepared.standardised()
    n_features = {b: int(full[b]["usable"].sum()) for b in blocks}
    values = _grid_for(grid, blocks, n_features)
    combinations = list(pd.MultiIndex.from_product([values[b] for b in blocks]))

    splits = _cv_splits(prepared, blocks, predict_blocks, n_folds=n_folds, repeats=repeats, seed=seed)
    fits: list[_Fit | None] = [None] * len(splits)

    def extend(s: int, keep: dict[str, list[int]], n_comp: int) -> _Fit:
        """Fold ``s``'s fit of the components chosen so far, extended to ``n_comp`` (its start is copied)."""
        _, train, _, train_std, _, _ = splits[s]
        start = fits[s].copy() if fits[s] is not None else None
        return _fit_arrays(
            train_std,
            prepared.codes[train],
            n_classes,
            design_matrix,
            keep,
            n_comp=n_comp,
            max_iter=max_iter,
            tol=tol,
            start=start,
            scheme=scheme,
        )

    chosen: dict[str, list[int]] = {b: [] for b in blocks}
    rows = []
    bar = progress_bar(desc="diablo_tune", total=n_components * len(combinations) * len(splits), unit="fit")
    try:
        for h in range(n_components):
            errors = np.zeros((len(combinations), repeats))
            for s, (r, train, test, train_std, test_x, test_present) in enumerate(splits):
                for c, combination in enumerate(combinations):
                    keep = {b: [*chosen[b], int(v)] for b, v in zip(blocks, combination, strict=True)}
                    fit = extend(s, keep, h + 1)
                    present = {b: prepared.present[b][train] for b in blocks}
                    models = _block_models(fit, train_std, present, prepared.codes[train], n_classes, h + 1)
                    _, _, winner = _predict_arrays(test_x, test_present, models, distance, vote)
                    codes = prepared.codes[test]
                    # a held-out sample with no block is an error, never skipped
                    errors[c, r] += _balanced_error(codes, winner, n_classes) / n_folds
                    bar.update()
            mean, sd = errors.mean(axis=1), errors.std(axis=1, ddof=1) if repeats > 1 else np.zeros(len(combinations))
            total_keep = np.asarray([sum(c) for c in combinations])
            best = int(np.lexsort((total_keep, np.round(mean, 12)))[0])
            for c, combination in enumerate(combinations):
                rows.append(
                    {
                        "component": h + 1,
                        **{f"keep_{b}": int(v) for b, v in zip(blocks, combination, strict=True)},
                        "distance": distance,
                        "vote": vote,
                        "predict_mods": ",".join(predict_blocks),
                        "mean_ber": float(mean[c]),
                        "sd_ber": float(sd[c]),
                        "repeats": int(repeats),
                        "folds": n_folds,
                        "best": c == best,
                    }
                )
            for b, v in zip(blocks, combinations[best], strict=True):
                chosen[b].append(int(v))
            keep = {b: list(chosen[b]) for b in blocks}
            fits = [extend(s, keep, h + 1) for s in range(len(splits))]
            logger.info(
                "diablo_tune: component %d: keep %s, mean BER %.4f",
                h + 1,
                {b: chosen[b][-1] for b in blocks},
                mean[best],
            )
    finally:
        bar.close()
    return pd.DataFrame(rows)


def _cv_splits(prepared, blocks: list[str], predict_blocks: list[str], *, n_folds: int, repeats: int, seed: int):
    """Seeded repeated stratified folds, each ``(repeat, train, test, training standardisation, held-out blocks
    standardised with it, held-out presence)``."""
    from sklearn.model_selection import StratifiedKFold

    splits = []
    for r in range(repeats):
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed + r)
        for train, test in splitter.split(np.zeros(prepared.codes.size), prepared.codes):
            train_std = prepared.standardised(train)
            test_x, test_present = {}, {}
            for b in blocks:
                info = train_std[b]
                x = (prepared.values[b][test][:, info["usable"]] - info["mean"]) / info["scale"]
                test_x[b] = np.nan_to_num(x, nan=0.0)
                # held-out samples are predicted from `predict_mods` only (the blocks new samples will have)
                test_present[b] = prepared.present[b][test] & (b in predict_blocks)
            splits.append((r, train, test, train_std, test_x, test_present))
    return splits
