"""A subtype classifier on latent factors: fit on one cohort, label another.

The classifier is a multinomial logistic regression on standardised factor scores, its
regularisation strength chosen by stratified cross-validation (balanced error). It is stored in
the store as plain arrays (coefficients, intercepts, classes, scaler mean and scale), so a store
never needs unpickling to be used, and :func:`predict_subtype` applies it to new samples, after
projecting them onto the trained factors when needed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import MissingResultError
from .._results import factor_scores

if TYPE_CHECKING:  # pragma: no cover
    from mudata import MuData

logger = logging.getLogger(__name__)

KEY_CLASSIFIER = "subtype_classifier"
DEFAULT_CS = tuple(float(c) for c in np.logspace(-3, 3, 13))


def balanced_error(y_true: Sequence, y_pred: Sequence) -> float:
    """Balanced error rate: the mean over true classes of the fraction of that class misclassified.

    Samples whose prediction is missing count as errors. Classes are those present in ``y_true``.

    Parameters
    ----------
    y_true
        The true labels (missing labels are ignored).
    y_pred
        The predicted labels, aligned with ``y_true``.

    Returns
    -------
    The balanced error rate, between 0 and 1 (the DIABLO case study's BER).
    """
    truth = pd.Series(np.asarray(y_true, dtype=object))
    pred = pd.Series(np.asarray(y_pred, dtype=object))
    if truth.size != pred.size:
        raise ValueError(f"balanced_error: {truth.size} true labels but {pred.size} predictions")
    keep = truth.notna()
    truth, pred = truth[keep].astype(str), pred[keep]
    if truth.empty:
        raise ValueError("balanced_error: no true labels")
    errors = [float((pred[truth == c].astype(object) != c).mean()) for c in sorted(truth.unique())]
    return float(np.mean(errors))


def _softmax_proba(x: np.ndarray, coef: np.ndarray, intercept: np.ndarray, n_classes: int) -> np.ndarray:
    logits = x @ coef.T + intercept
    if n_classes == 2 and coef.shape[0] == 1:  # binary logistic regression stores one row
        p1 = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        return np.column_stack([1.0 - p1, p1])
    logits = logits - logits.max(axis=1, keepdims=True)
    expd = np.exp(logits)
    return expd / expd.sum(axis=1, keepdims=True)


def _select_factors(scores: pd.DataFrame, factors: int | Sequence[str] | None, key: str) -> pd.DataFrame:
    if factors is None:
        return scores
    if isinstance(factors, (int, np.integer)) and not isinstance(factors, bool):
        if not 1 <= factors <= scores.shape[1]:
            raise ValueError(f"factors={factors} but obsm[{key!r}] has {scores.shape[1]} factors")
        return scores.iloc[:, : int(factors)]
    factors = [factors] if isinstance(factors, str) else list(factors)
    unknown = [f for f in factors if f not in scores.columns]
    if unknown:
        raise KeyError(f"factors {unknown} not in obsm[{key!r}]; factors: {list(scores.columns)}")
    return scores[factors]


def _call_project(new_mdata, trained_mdata, *, key: str, views: Sequence[str] | None = None):
    """Project ``new_mdata`` (restricted to ``views`` when given) onto the factors of ``trained_mdata``.

    Returns a projected copy; ``new_mdata`` is left unchanged.
    """
    from ..models.mofa import project

    query = _restrict_mods(new_mdata, views) if views is not None else new_mdata
    projected = project(query, trained_mdata, key=key, copy=True)
    return query if projected is None else projected


def _restrict_mods(mdata, views: Sequence[str]):
    import mudata as md

    missing = [v for v in views if v not in mdata.mod]
    if missing:
        raise KeyError(f"views {missing} not in the store; it holds {sorted(mdata.mod)}")
    restricted = md.MuData({v: mdata.mod[v].copy() for v in views})
    restricted.obs = restricted.obs.join(
        mdata.obs.drop(columns=[c for c in mdata.obs.columns if c in restricted.obs.columns]), how="left"
    )
    return restricted


def _projected_training_scores(mdata, key: str, views: Sequence[str]) -> pd.DataFrame:
    """Scores of the training samples re-derived by projection from ``views`` only."""
    views = list(views)
    unknown = [v for v in views if v not in mdata.mod]
    if unknown:
        raise KeyError(f"project_views {unknown} not in the store; it holds {sorted(mdata.mod)}")
    # projected from a copy holding only `views`, so the scores are computed afresh from those views
    projected = _call_project(mdata, mdata, key=key, views=views)
    scores = factor_scores(projected, key)
    trained_names = factor_scores(mdata, key).columns
    if scores.shape[1] == len(trained_names):
        scores.columns = trained_names
    return scores.reindex(pd.Index(mdata.obs_names))


def subtype_classifier(
    mdata: MuData,
    *,
    key: str = _keys.KEY_MOFA,
    label: str = _keys.KEY_PAM50,
    factors: int | Sequence[str] | None = None,
    project_views: Sequence[str] | None = None,
    Cs: Sequence[float] = DEFAULT_CS,
    n_splits: int = 5,
    n_repeats: int = 3,
    class_weight: str | None = "balanced",
    standardize: bool = True,
    random_state: int = 0,
    key_added: str = KEY_CLASSIFIER,
    copy: bool = False,
) -> MuData | None:
    """Fit a multinomial logistic regression that predicts a subtype from factor scores.

    Factor scores are standardised (mean 0, SD 1 per factor on the training samples); the
    inverse regularisation strength ``C`` (L2 penalty) is chosen among ``Cs`` by stratified
    ``n_splits``-fold cross-validation repeated ``n_repeats`` times (folds shuffled with
    ``random_state``, so the fit is deterministic): the C with the lowest mean out-of-fold
    balanced error, ties broken by the lower log-loss. The scaler is fitted inside each fold.
    The final model is refitted on all labelled samples.

    Parameters
    ----------
    mdata
        Store with factor scores ``obsm[key]`` and labels ``obs[label]``. Samples with a
        missing label or missing scores are not used.
    key
        Factor result key.
    label
        obs column with the classes (e.g. the PAM50 call).
    factors
        Use only these factors: an int ``k`` takes the first ``k``, or give factor names.
    project_views
        Train on scores re-derived by projecting the training samples from these views only
        (e.g. ``("rna", "mirna")`` when the cohort to label has no protein). Fitted scores use
        every view and differ systematically from scores projected from fewer views; training
        on projected scores removes that shift. Needs :func:`harmonomics.tl.project`.
    Cs
        Candidate inverse regularisation strengths (L2 penalty).
    n_splits
        Cross-validation folds (reduced to the smallest class size when needed, at least 2).
    n_repeats
        Repetitions of the cross-validation with different fold assignments.
    class_weight
        ``"balanced"`` (default: classes weighted inversely to their frequency) or ``None``.
    standardize
        Scale each factor to unit SD before the penalised fit (default). With ``False`` factors
        keep their own scale (they are only centred), so the penalty favours high-variance factors.
    random_state
        Seed of the fold shuffling.
    key_added
        Key of the stored classifier.
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None``, or the modified copy with ``copy=True``. Writes ``uns[key_added]``, a dict of
    plain arrays and values: ``coef`` (classes x factors; one row for two classes),
    ``intercept``, ``classes``, ``scaler_mean``, ``scaler_scale``, ``factor_names``,
    ``factor_key``, ``label``, ``C``, ``Cs``, ``cv_balanced_error`` (mean over repeats, at
    the chosen C), ``cv_balanced_error_per_C``, ``cv_log_loss_per_C``, ``cv_confusion``
    (DataFrame true x predicted class, out-of-fold, each row the fraction of that true class,
    averaged over repeats), ``n_splits``, ``n_repeats``, ``random_state``, ``class_weight``, ``standardize``,
    ``n_train``, ``class_counts``, ``project_views``, ``training_scores`` ("fitted" or
    "projected"), ``model`` and ``solver``.

    Raises
    ------
    MissingResultError
        No factor scores ``obsm[key]``.
    KeyError
        ``label`` not in ``obs``.
    ValueError
        Fewer than two classes, or a class with a single sample.
    """
    from functools import partial

    from sklearn.model_selection import RepeatedStratifiedKFold

    if copy:
        mdata = mdata.copy()
    Cs = _checked_arguments(mdata, label, class_weight, Cs, n_splits, n_repeats)

    scores, X, y, classes, counts = _training_set(mdata, key, label, factors, project_views)
    folds = int(min(n_splits, counts.min()))
    if folds < n_splits:
        logger.info("subtype_classifier: smallest class has %d samples; using %d folds", counts.min(), folds)

    # Newton steps are fastest for a few dozen factors; the Hessian grows as (features x classes)^2
    solver = "newton-cholesky" if (X.shape[1] + 1) * classes.size <= 400 else "lbfgs"

    fit = partial(_fit_logistic, class_weight=class_weight, solver=solver, standardize=standardize)

    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=n_repeats, random_state=random_state)
    splits = list(splitter.split(X, y))
    codes = np.searchsorted(classes, y)  # integer labels: less per-fit overhead in scikit-learn
    errors, losses, confusions = _cross_validate(fit, X, codes, classes, Cs, splits, folds, n_repeats)
    errors = np.round(errors, 12)  # equal error rates must compare equal
    best = int(np.lexsort((losses, errors))[0])
    C = float(Cs[best])
    model, mean, scale = fit(X, codes, C)
    confusion = pd.DataFrame(
        confusions[best],
        index=pd.Index([str(c) for c in classes], name="true"),
        columns=pd.Index([str(c) for c in classes], name="predicted"),
    )

    mdata.uns[key_added] = {
        "coef": np.asarray(model.coef_, dtype=float),
        "intercept": np.asarray(model.intercept_, dtype=float),
        "classes": np.asarray([str(c) for c in classes[model.classes_]], dtype=object),
        "scaler_mean": np.asarray(mean, dtype=float),
        "scaler_scale": np.asarray(scale, dtype=float),
        "factor_names": [str(f) for f in scores.columns],
        "factor_key": key,
        "label": label,
        "C": C,
        "Cs": Cs,
        "cv_balanced_error": float(errors[best]),
        "cv_balanced_error_per_C": errors,
        "cv_log_loss_per_C": losses,
        "cv_confusion": confusion,
        "n_splits": folds,
        "n_repeats": int(n_repeats),
        "random_state": int(random_state),
        "class_weight": class_weight or "none",
        "standardize": bool(standardize),
        "n_train": int(y.size),
        "class_counts": {str(c): int(n) for c, n in zip(classes, counts, strict=True)},
        "project_views": [str(v) for v in project_views] if project_views is not None else [],
        "training_scores": "projected" if project_views is not None else "fitted",
        "model": "multinomial logistic regression (L2) on standardised factor scores",
        "solver": solver,
    }
    logger.info(
        "subtype_classifier: %d samples, %d factors, classes %s; C=%.3g chosen by %dx%d-fold CV, balanced error %.4f",
        y.size,
        X.shape[1],
        classes.tolist(),
        C,
        n_repeats,
        folds,
        errors[best],
    )
    return mdata if copy else None


def _checked_arguments(mdata: MuData, label: str, class_weight, Cs, n_splits: int, n_repeats: int) -> np.ndarray:
    """Validate the arguments; returns ``Cs`` as an array."""
    if label not in mdata.obs.columns:
        raise KeyError(f"subtype_classifier: label column {label!r} not in obs; columns: {list(mdata.obs.columns)}")
    if class_weight not in ("balanced", None):
        raise ValueError(f"subtype_classifier: class_weight must be 'balanced' or None, got {class_weight!r}")
    Cs = np.asarray(list(Cs), dtype=float)
    if Cs.size == 0 or not np.all(Cs > 0):
        raise ValueError(f"subtype_classifier: Cs must be positive numbers, got {Cs.tolist()}")
    if n_splits < 2:
        raise ValueError(f"subtype_classifier: n_splits must be at least 2, got {n_splits}")
    if n_repeats < 1:
        raise ValueError(f"subtype_classifier: n_repeats must be at least 1, got {n_repeats}")
    return Cs


def _training_set(mdata: MuData, key: str, label: str, factors, project_views):
    """(scores, X, y, classes, class counts) of the samples with a label and finite scores; at least two classes
    of at least two samples each."""
    scores = factor_scores(mdata, key)
    if project_views is not None:
        projected = _projected_training_scores(mdata, key, project_views)
        scores = projected[scores.columns] if set(scores.columns) <= set(projected.columns) else projected
    scores = _select_factors(scores, factors, key)
    labels = mdata.obs[label].reindex(scores.index)
    usable = labels.notna().to_numpy() & np.isfinite(scores.to_numpy()).all(axis=1)
    X = scores.to_numpy()[usable]
    y = labels[usable].astype(str).to_numpy()
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise ValueError(
            f"subtype_classifier: need at least two classes in obs[{label!r}] among samples with scores, "
            f"found {classes.tolist()}"
        )
    if counts.min() < 2:
        rare = classes[counts < 2].tolist()
        raise ValueError(
            f"subtype_classifier: classes {rare} have a single sample; need at least 2 per class for cross-validation"
        )
    return scores, X, y, classes, counts


def _fit_logistic(Xtr: np.ndarray, ytr: np.ndarray, C: float, *, class_weight, solver: str, standardize: bool):
    """A logistic regression on standardised (or only centred) columns: (model, column means, scales)."""
    from sklearn.linear_model import LogisticRegression

    mean = Xtr.mean(axis=0)
    scale = Xtr.std(axis=0) if standardize else np.ones(Xtr.shape[1])
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, class_weight=class_weight, solver=solver, max_iter=1000)
    model.fit((Xtr - mean) / scale, ytr)
    return model, mean, scale


def _cross_validate(fit, X, codes, classes, Cs, splits, folds: int, n_repeats: int):
    """Out-of-fold balanced error, log loss and confusion (rows: fraction of each true class) per C."""
    import sklearn
    from sklearn.metrics import balanced_accuracy_score, log_loss

    errors, losses = np.zeros(Cs.size), np.zeros(Cs.size)
    confusions = []
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        for i, C in enumerate(Cs):
            confusion = np.zeros((classes.size, classes.size))
            for repeat in range(n_repeats):
                proba = np.zeros((codes.size, classes.size))
                for train_idx, test_idx in splits[repeat * folds : (repeat + 1) * folds]:
                    model, mean, scale = fit(X[train_idx], codes[train_idx], C)
                    proba[np.ix_(test_idx, model.classes_)] = model.predict_proba((X[test_idx] - mean) / scale)
                pred = proba.argmax(axis=1)
                errors[i] += (1.0 - balanced_accuracy_score(codes, pred)) / n_repeats
                losses[i] += log_loss(codes, np.clip(proba, 1e-15, 1.0), labels=np.arange(classes.size)) / n_repeats
                for t in range(classes.size):
                    confusion[t] += np.bincount(pred[codes == t], minlength=classes.size) / (codes == t).sum()
            confusions.append(confusion / n_repeats)
    return errors, losses, confusions


def _classifier_params(trained: Any, classifier_key: str) -> dict:
    uns = trained.uns if hasattr(trained, "uns") else trained
    if classifier_key not in uns:
        raise MissingResultError(
            f"no classifier uns[{classifier_key!r}] in the trained store; run "
            f"hm.tl.subtype_classifier(mdata, key_added={classifier_key!r}) first"
        )
    params = uns[classifier_key]
    needed = ("coef", "intercept", "classes", "scaler_mean", "scaler_scale", "factor_names")
    absent = [k for k in needed if k not in params]
    if absent:
        raise MissingResultError(
            f"classifier uns[{classifier_key!r}] lacks {absent}; refit it with hm.tl.subtype_classifier"
        )
    return params


def predict_subtype(
    new_mdata: MuData,
    trained_mdata: MuData,
    *,
    key: str = _keys.KEY_MOFA,
    classifier_key: str = KEY_CLASSIFIER,
    project: bool | None = None,
    key_added: str = "subtype_pred",
    copy: bool = False,
) -> MuData | None:
    """Label new samples with a classifier fitted by :func:`subtype_classifier`.

    Parameters
    ----------
    new_mdata
        Samples to label. Their factor scores ``obsm[key]`` are used when present (e.g. after
        ``hm.tl.project(new_mdata, trained_mdata)``); otherwise they are projected here.
    trained_mdata
        The store holding the factor model (``obsm``/``varm``/``uns[key]``) and the classifier
        ``uns[classifier_key]``.
    key
        Factor result key, in both stores.
    classifier_key
        Key of the stored classifier.
    project
        ``True``: always project ``new_mdata`` onto the trained factors (with
        :func:`harmonomics.tl.project`), ignoring scores it may hold; ``False``: use
        ``obsm[key]`` as it is; ``None`` (default): project only when ``obsm[key]`` is absent.
    key_added
        Prefix of the result slots.
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None``, or the modified copy with ``copy=True``. Written into ``new_mdata``:

    ``obs[key_added]``
        categorical predicted class (NaN for samples without scores).
    ``obs[key_added + "_confidence"]``
        probability of the predicted class.
    ``obsm[key_added + "_proba"]``
        DataFrame samples x classes of class probabilities.
    ``obsm[key]``, ``uns[key]``
        the projected factor scores, when projected here.
    ``uns[key_added]``
        dict: ``classifier_key``, ``classes``, ``factor_names``, ``projected`` (bool).

    Raises
    ------
    MissingResultError
        No classifier in ``trained_mdata`` or no scores and no projection.
    ValueError
        The scores' factors do not match those the classifier was trained on.
    """
    params = _classifier_params(trained_mdata, classifier_key)
    if copy:
        new_mdata = new_mdata.copy()
    do_project = (key not in new_mdata.obsm) if project is None else bool(project)
    projected = False
    if do_project:
        result = _call_project(new_mdata, trained_mdata, key=key, views=None)
        new_mdata.obsm[key] = np.asarray(factor_scores(result, key).reindex(pd.Index(new_mdata.obs_names)), dtype=float)
        if key in result.uns and key not in new_mdata.uns:
            new_mdata.uns[key] = result.uns[key]
        projected = True
    elif key not in new_mdata.obsm:
        raise MissingResultError(
            f"no factor scores obsm[{key!r}] in the new samples and project=False; run hm.tl.project first"
        )
    scores = factor_scores(new_mdata, key)
    names = [str(f) for f in np.asarray(params["factor_names"]).tolist()]
    if not set(names) <= set(scores.columns):
        trained_names = list(factor_scores(trained_mdata, key).columns) if key in trained_mdata.obsm else names
        if scores.shape[1] == len(trained_names):
            scores.columns = trained_names
        if not set(names) <= set(scores.columns):
            raise ValueError(
                f"predict_subtype: the classifier uses factors {names} but obsm[{key!r}] of the new samples has "
                f"{list(scores.columns)}; project the new samples onto the trained model first"
            )
    X = scores[names].to_numpy()
    coef = np.asarray(params["coef"], dtype=float)
    intercept = np.asarray(params["intercept"], dtype=float)
    classes = np.asarray(params["classes"]).astype(str)
    mean = np.asarray(params["scaler_mean"], dtype=float)
    scale = np.asarray(params["scaler_scale"], dtype=float)
    ok = np.isfinite(X).all(axis=1)
    proba = np.full((X.shape[0], classes.size), np.nan)
    if ok.any():
        proba[ok] = _softmax_proba((X[ok] - mean) / scale, coef, intercept, classes.size)
    pred = np.full(X.shape[0], np.nan, dtype=object)
    pred[ok] = classes[np.argmax(proba[ok], axis=1)]
    index = pd.Index(new_mdata.obs_names)
    categories = [c for c in _keys.PAM50_LABELS if c in classes] + [c for c in classes if c not in _keys.PAM50_LABELS]
    new_mdata.obs[key_added] = pd.Categorical(pred, categories=categories)
    new_mdata.obs[f"{key_added}_confidence"] = np.where(
        ok, np.nanmax(np.where(ok[:, None], proba, 0.0), axis=1), np.nan
    )
    new_mdata.obsm[f"{key_added}_proba"] = pd.DataFrame(proba, index=index, columns=list(classes))
    new_mdata.uns[key_added] = {
        "classifier_key": classifier_key,
        "classes": list(classes),
        "factor_names": names,
        "projected": projected,
    }
    logger.info(
        "predict_subtype: labelled %d of %d samples: %s",
        int(ok.sum()),
        ok.size,
        pd.Series(pred[ok]).value_counts().to_dict(),
    )
    return new_mdata if copy else None
