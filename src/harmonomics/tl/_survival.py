"""Survival: clinical fields -> overall survival, Cox models per factor, Kaplan–Meier curves.

Clinical fields are mapped to ``os_time`` (days) and ``os_event`` (0/1) by
:func:`harmonomics._clinical.survival_from_clinical` (re-exported here as ``survival_from_clinical``);
the mapping is described in that module's docstring.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .._clinical import DAYS_PER_MONTH, MISSING_VALUES, survival_from_clinical  # noqa: F401 (re-exported)
from .._errors import MissingResultError, require
from .._results import factor_names, factor_scores, select
from ._associations import resolve_covariate
from ._multitest import bh_fdr

if TYPE_CHECKING:  # pragma: no cover
    from mudata import MuData

logger = logging.getLogger(__name__)


def add_clinical_survival(
    mdata: MuData,
    clinical: pd.DataFrame | str | os.PathLike,
    *,
    source: str = "auto",
    on: str = "patient",
    time_key: str = "os_time",
    event_key: str = "os_event",
    copy: bool = False,
) -> MuData | None:
    """Add overall survival from a clinical table to ``mdata.obs``, matching samples to patients.

    Parameters
    ----------
    mdata
        The store; ``obs[on]`` holds each sample's patient ID. Where that column is missing and the
        obs index holds TCGA barcodes, the patient is the barcode's first 12 characters.
    clinical
        Clinical table or file, see :func:`survival_from_clinical`.
    source
        ``"gdc"``, ``"cbioportal"`` or ``"auto"``.
    on
        obs column with the patient ID.
    time_key, event_key
        obs columns to write.
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None`` or the copy. Writes ``obs[time_key]`` (days, float) and ``obs[event_key]`` (0/1 float;
    NaN for samples whose patient is not in the table).
    """
    target = mdata.copy() if copy else mdata
    table = survival_from_clinical(clinical, source=source)
    if on in target.obs.columns:
        patients = target.obs[on].astype(str)
    else:
        names = pd.Series(target.obs_names.astype(str), index=target.obs_names)
        if not names.str.match(r"^TCGA-[0-9A-Z]{2}-[0-9A-Z]{4}").all():
            raise MissingResultError(f"obs has no {on!r} column and the sample IDs are not TCGA barcodes")
        patients = names.str.slice(0, 12)
    matched = patients.isin(table.index)
    logger.info(
        "survival: %d of %d samples matched a patient in the clinical table",
        int(matched.sum()),
        len(patients),
    )
    target.obs[time_key] = patients.map(table["os_time"]).astype(float).to_numpy()
    target.obs[event_key] = patients.map(table["os_event"]).astype(float).to_numpy()
    return target if copy else None


# ---------------------------------------------------------------------------------------------
# Cox models and Kaplan–Meier curves
# ---------------------------------------------------------------------------------------------


def _outcome(mdata: MuData, time: str, event: str) -> tuple[pd.Series, pd.Series]:
    for column in (time, event):
        if column not in mdata.obs.columns:
            raise MissingResultError(
                f"obs has no {column!r} column; add overall survival with "
                "harmonomics.tl._survival.add_clinical_survival(mdata, clinical) or pass time=/event="
            )
    t = pd.to_numeric(mdata.obs[time], errors="coerce").astype(float)
    e_raw = mdata.obs[event]
    e = e_raw.astype(float) if e_raw.dtype == bool else pd.to_numeric(e_raw, errors="coerce").astype(float)
    bad = e.notna() & ~e.isin([0.0, 1.0])
    if bad.any():
        raise ValueError(f"obs[{event!r}] must be 0/1; sample {e.index[bad][0]!r} has {e[bad].iloc[0]!r}")
    negative = t < 0
    if negative.any():
        raise ValueError(f"obs[{time!r}] has negative times (sample {t.index[negative][0]!r}: {t[negative].iloc[0]})")
    t.index = e.index = pd.Index(mdata.obs_names.astype(str))
    return t, e


def _covariate_frame(mdata: MuData, covariates: Iterable[str] | str | None) -> pd.DataFrame:
    if covariates is None:
        return pd.DataFrame(index=pd.Index(mdata.obs_names.astype(str)))
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    missing = [c for c in covariates if c not in mdata.obs.columns]
    if missing:
        raise KeyError(f"covariate(s) {missing} not in obs; obs columns: {list(mdata.obs.columns)}")
    parts = []
    for column in covariates:
        values = mdata.obs[column]
        if pd.api.types.is_bool_dtype(values) or (
            pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype)
        ):
            parts.append(pd.DataFrame({column: values.astype(float).to_numpy()}))
        else:
            levels = values.astype(object).where(values.notna())
            counts = levels.value_counts()
            if len(counts) < 2:
                logger.info("covariate %r has fewer than two levels; left out", column)
                continue
            reference = min(counts.index[counts == counts.max()].astype(str))
            dummies = {}
            for level in sorted(counts.index.astype(str)):
                if level == reference:
                    continue
                dummy = (levels.astype(str) == level).astype(float)
                dummy[levels.isna().to_numpy()] = np.nan
                dummies[f"{column}[{level}]"] = dummy.to_numpy()
            parts.append(pd.DataFrame(dummies))
    frame = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=range(mdata.n_obs))
    frame.index = pd.Index(mdata.obs_names.astype(str))
    return frame


def survival(
    mdata: MuData,
    *,
    key: str = _keys.KEY_MOFA,
    time: str = "os_time",
    event: str = "os_event",
    covariates: Iterable[str] | str | None = None,
    factors: Iterable[str] | str | None = None,
    standardize: bool = True,
    penalizer: float = 0.0,
    quantile: float = 0.5,
    key_added: str | None = None,
) -> pd.DataFrame:
    """Cox proportional-hazards model of survival on each factor, with a log-rank test beside it.

    One model per factor: ``hazard ~ factor + covariates`` (lifelines ``CoxPHFitter``), fitted on
    the samples with a time, an event, a factor score and every covariate. On the same samples the
    factor is also split at its ``quantile`` (default: the median) and the two groups are compared
    with the log-rank test (unadjusted), so that a reader can see when the two tests disagree.
    Each test's p-values are Benjamini–Hochberg adjusted over the factors (one family per test).

    Parameters
    ----------
    mdata
        Store with factor scores in ``obsm[key]`` (a factor model, or any DataFrame of scores such
        as ``obsm["signature_scores"]``) and survival columns in ``obs``.
    key
        Key of the factor model (or of a DataFrame in obsm).
    time
        obs column with the survival time (days; see :func:`survival_from_clinical`).
    event
        obs column with the event indicator (1 death, 0 censored).
    covariates
        obs columns to adjust for. Numeric ones enter as they are (e.g. ``age``); the others
        (``stage``, ``pam50``) as indicator variables against their most frequent level.
    factors
        Factors to test (default: all).
    standardize
        Scale each factor to unit standard deviation first, so the hazard ratio is per 1 SD.
    penalizer
        L2 penalty passed to lifelines (0: none).
    quantile
        Where each factor is split for the log-rank test: ``low`` (<= cut) vs ``high`` (> cut).
    key_added
        Where the table is written in ``uns`` (default ``f"{key}_survival"``).

    Returns
    -------
    Tidy table, one row per factor: ``factor``, ``n``, ``n_events``, ``hr`` (hazard ratio per 1 SD
    of the factor, or per unit with ``standardize=False``), ``hr_lower``, ``hr_upper`` (95% CI),
    ``pvalue`` (Cox Wald test), ``fdr`` (Benjamini–Hochberg over the factors), ``logrank_pvalue``
    (log-rank test of the ``quantile`` split), ``logrank_fdr`` (Benjamini–Hochberg over the
    factors), ``concordance`` (Harrell's C of the fitted Cox model), ``covariates`` (the adjustment
    terms, ``;``-separated), ``note`` (convergence messages, empty if none).

    Writes ``mdata.uns[key_added]``: the same table.

    Raises
    ------
    MissingResultError
        No scores under ``key`` or no survival columns in obs.
    ValueError
        Events are not 0/1, times are negative, or there are no events to model.
    """
    lifelines = require("lifelines", extra="survival", purpose="Cox survival models")
    from lifelines.exceptions import ConvergenceError

    _check_quantile(quantile)
    if penalizer < 0:
        raise ValueError(f"penalizer must be >= 0; got {penalizer}")
    scores = factor_scores(mdata, key)
    factors = select(factors, list(scores.columns), "factor(s)")
    t, e = _outcome(mdata, time, event)
    cov = _covariate_frame(mdata, covariates)
    if e[t.notna()].sum() == 0:
        raise ValueError(f"no events in obs[{event!r}] among samples with a survival time: nothing to model")
    rows = []
    for factor in factors:
        frame = pd.concat([t.rename("_T"), e.rename("_E"), scores[factor].rename("_factor"), cov], axis=1).dropna()
        n, n_events = len(frame), int(frame["_E"].sum())
        row = {
            "factor": factor,
            "n": n,
            "n_events": n_events,
            "hr": np.nan,
            "hr_lower": np.nan,
            "hr_upper": np.nan,
            "pvalue": np.nan,
            "logrank_pvalue": np.nan,
            "concordance": np.nan,
            "covariates": ";".join(cov.columns),
            "note": "",
        }
        if n_events == 0 or n < 3:
            row["note"] = f"not fitted: {n} samples, {n_events} events"
            logger.warning(
                "survival: factor %r not fitted (%d samples with complete data, %d events)",
                factor,
                n,
                n_events,
            )
            rows.append(row)
            continue
        sd = frame["_factor"].std(ddof=1)
        if not sd > 0:
            row["note"] = "not fitted: the factor is constant"
            rows.append(row)
            continue
        row["logrank_pvalue"] = _split_logrank(frame, quantile)
        if standardize:
            frame["_factor"] = (frame["_factor"] - frame["_factor"].mean()) / sd
        constant = [c for c in cov.columns if frame[c].nunique() < 2]
        frame = frame.drop(columns=constant)
        model = lifelines.CoxPHFitter(penalizer=penalizer)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model.fit(frame, duration_col="_T", event_col="_E")
            except (ConvergenceError, np.linalg.LinAlgError, ValueError, ZeroDivisionError) as err:
                row["note"] = f"not fitted: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
                logger.warning("survival: factor %r: %s", factor, row["note"])
                rows.append(row)
                continue
        notes = sorted({str(w.message).splitlines()[0] for w in caught if issubclass(w.category, Warning)})
        summary = model.summary.loc["_factor"]
        row.update(
            hr=float(summary["exp(coef)"]),
            hr_lower=float(summary["exp(coef) lower 95%"]),
            hr_upper=float(summary["exp(coef) upper 95%"]),
            pvalue=float(summary["p"]),
            concordance=float(model.concordance_index_),
            note="; ".join(notes)[:500],
        )
        if constant:
            row["note"] = (row["note"] + "; " if row["note"] else "") + f"dropped constant terms {constant}"
        rows.append(row)
    table = pd.DataFrame(
        rows,
        columns=[
            "factor",
            "n",
            "n_events",
            "hr",
            "hr_lower",
            "hr_upper",
            "pvalue",
            "logrank_pvalue",
            "concordance",
            "covariates",
            "note",
        ],
    )
    table.insert(7, "fdr", bh_fdr(table["pvalue"]))
    table.insert(9, "logrank_fdr", bh_fdr(table["logrank_pvalue"]))
    mdata.uns[key_added or f"{key}_survival"] = table
    return table


def _check_quantile(quantile: float | Sequence[float]) -> None:
    if isinstance(quantile, (int, float, np.floating)) and not isinstance(quantile, bool):
        if not 0 < float(quantile) < 1:
            raise ValueError(f"quantile must lie strictly between 0 and 1; got {quantile}")
        return
    quantiles = [float(x) for x in quantile]
    if len(quantiles) != 2 or not 0 < quantiles[0] <= quantiles[1] < 1:
        raise ValueError(f"quantile must be a number in (0, 1) or two increasing numbers in (0, 1); got {quantile!r}")


def _split_groups(values: pd.Series, quantile: float | Sequence[float]) -> tuple[pd.Series, str]:
    _check_quantile(quantile)
    if isinstance(quantile, (int, float, np.floating)):
        cut = float(values.quantile(float(quantile)))
        groups = pd.Series(np.where(values > cut, "high", "low"), index=values.index)
        return groups, f"{cut:.6g}"
    lo, hi = (float(values.quantile(float(q))) for q in quantile)
    groups = pd.Series(np.where(values <= lo, "low", np.where(values > hi, "high", "")), index=values.index)
    return groups[groups != ""], f"{lo:.6g};{hi:.6g}"


def _logrank(times: pd.Series, events: pd.Series, groups: pd.Series) -> tuple[float, float]:
    """Log-rank test across the groups: (statistic, p-value); NaN with fewer than two groups."""
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    labels = list(dict.fromkeys(groups))
    if len(labels) < 2:
        return np.nan, np.nan
    if len(labels) == 2:
        a, b = (groups == labels[0]).to_numpy(), (groups == labels[1]).to_numpy()
        test = logrank_test(times[a], times[b], event_observed_A=events[a], event_observed_B=events[b])
    else:
        test = multivariate_logrank_test(times, groups, events)
    return float(test.test_statistic), float(test.p_value)


def _split_logrank(frame: pd.DataFrame, quantile: float) -> float:
    """Log-rank p-value of a complete-case frame (``_T``, ``_E``, ``_factor``) split at ``quantile``."""
    groups, _ = _split_groups(frame["_factor"], quantile)
    return _logrank(frame["_T"], frame["_E"], groups)[1]


def _grouping(mdata: MuData, groupby: str, key: str) -> pd.Series:
    """A factor of ``key``, an obs column or an ``"<obsm key>:<column>"`` column, indexed by sample."""
    if key in mdata.obsm and groupby in factor_names(mdata, key):
        return factor_scores(mdata, key)[groupby]
    try:
        values = resolve_covariate(mdata, groupby)
    except KeyError as err:
        available = factor_names(mdata, key) if key in mdata.obsm else []
        raise KeyError(
            f"{groupby!r} is neither a factor of {key!r} ({available}) nor a per-sample variable: {err}"
        ) from None
    values = values.copy()
    values.index = pd.Index(mdata.obs_names.astype(str))
    return values


def _levels(values: pd.Series) -> list[str]:
    present = [str(v) for v in pd.unique(values.dropna())]
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories if str(c) in present]
    if set(present) <= set(_keys.PAM50_LABELS):
        return [lv for lv in _keys.PAM50_LABELS if lv in present]
    return sorted(present)


def kaplan_meier(
    mdata: MuData,
    groupby: str,
    *,
    key: str = _keys.KEY_MOFA,
    time: str = "os_time",
    event: str = "os_event",
    quantile: float | Sequence[float] = 0.5,
) -> pd.DataFrame:
    """Kaplan–Meier curves per group, and the log-rank test between the groups.

    Parameters
    ----------
    mdata
        Store with survival columns in obs (see :func:`survival`).
    groupby
        What defines the groups: a factor of the model ``key`` (e.g. ``"Factor1"``) or a numeric
        per-sample variable, split at ``quantile`` into ``low`` and ``high``; or a categorical
        per-sample variable (``"pam50"``, ``"immune_class"``), one group per level. Per-sample
        variables are obs columns or ``"<obsm key>:<column>"`` columns of obsm DataFrames.
    key
        Key of the factor model (or of a DataFrame of scores in obsm).
    time, event
        obs columns with survival time (days) and event (0/1).
    quantile
        Numeric variables only. ``0.5`` splits at the median: ``low`` (<= cut) vs ``high`` (> cut).
        A pair such as ``(1/3, 2/3)`` compares the bottom and top groups and leaves the middle out.

    Returns
    -------
    Tidy table, one row per group x time point of the step curve (starting at time 0):
    ``variable`` (``groupby``), ``group``, ``threshold`` (the cut value(s); empty for categories),
    ``time``, ``survival``, ``ci_lower``, ``ci_upper`` (95%, exponential Greenwood), ``at_risk``,
    ``events`` and ``censored`` at that time, ``n`` and ``n_events`` of the group, and
    ``logrank_stat`` / ``logrank_pvalue`` of the log-rank test across all groups (the same on every
    row; two groups: the two-sample test, more: the multivariate test). Groups appear in their
    natural order (``low`` then ``high``; categorical order; PAM50 order; else sorted). Samples
    without a time, an event or a group are left out.
    """
    lifelines = require("lifelines", extra="survival", purpose="Kaplan–Meier curves")

    if not isinstance(groupby, str):
        raise TypeError(f"groupby must be a name (e.g. 'Factor1' or 'pam50'); got {groupby!r}")
    values = _grouping(mdata, groupby, key)
    t, e = _outcome(mdata, time, event)
    categorical = (
        isinstance(values.dtype, pd.CategoricalDtype)
        or not pd.api.types.is_numeric_dtype(values)
        or pd.api.types.is_bool_dtype(values)
    )
    frame = pd.concat([t.rename("T"), e.rename("E"), values.rename("x")], axis=1).dropna()
    if frame.empty or frame["E"].sum() == 0:
        raise ValueError(f"no samples with {time!r}, {event!r} and {groupby!r}, or no events among them")
    if categorical:
        order = _levels(values)
        groups, threshold = frame["x"].astype(str), ""
    else:
        groups, threshold = _split_groups(frame["x"].astype(float), quantile)
        order = ["low", "high"]
        if groups.nunique() < 2:
            raise ValueError(
                f"splitting {groupby!r} at quantile {quantile} gave a single group (too many tied scores?)"
            )
    frame = frame.loc[groups.index].assign(group=groups)
    stat, pvalue = _logrank(frame["T"], frame["E"], frame["group"])
    parts = []
    for name in [g for g in order if g in set(frame["group"])]:
        sub = frame[frame["group"] == name]
        km = lifelines.KaplanMeierFitter().fit(sub["T"], sub["E"], label=name)
        curve = km.survival_function_[name]
        ci = km.confidence_interval_
        table = km.event_table.reindex(curve.index)
        parts.append(
            pd.DataFrame(
                {
                    "variable": groupby,
                    "group": name,
                    "threshold": threshold,
                    "time": curve.index.to_numpy(float),
                    "survival": curve.to_numpy(float),
                    "ci_lower": ci.iloc[:, 0].to_numpy(float),
                    "ci_upper": ci.iloc[:, 1].to_numpy(float),
                    "at_risk": table["at_risk"].to_numpy(int),
                    "events": table["observed"].to_numpy(int),
                    "censored": table["censored"].to_numpy(int),
                    "n": len(sub),
                    "n_events": int(sub["E"].sum()),
                    "logrank_stat": stat,
                    "logrank_pvalue": pvalue,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
