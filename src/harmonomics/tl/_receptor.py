"""ER, PR and HER2 status per sample from expression and copy number, with no clinical label used.

Method (docs/precision.md, "Receptor status"):

- **Expression.** Each marker gene (ESR1 for ER, PGR for PR, ERBB2 for HER2) is taken on a log2 scale (raw counts
  → log2(CPM + 1) over all genes of the sample; linear normalised values such as TPM or RSEM → log2(x + 1); log2
  values as they are). A two-component Gaussian mixture with one shared (tied) variance is fitted to the cohort's
  own values (scikit-learn ``GaussianMixture``, seed 0, 10 starts). The score is the posterior probability of the
  higher component. A tied variance makes the posterior monotone in expression: a sample with lower expression
  never gets a higher score. The mixture is only used when its two components are separated (Ashman's D ≥ 2,
  Ashman et al. 1994) and the cohort has at least :data:`MIN_SAMPLES` profiles; otherwise the marker is not called
  from expression (NaN, warning and report row).
- **Calls.** score > 0.9 → Positive, score < 0.1 → Negative, otherwise Equivocal.
- **HER2 copy number.** ERBB2 amplified → Positive, score 1. Amplified is GISTIC 2 (high-level amplification,
  Mermel et al. 2011) when the store has GISTIC values (``layers["gistic"]``, ``X`` on the GISTIC scale, or the
  output of ``hm.pp.harmonize(..., cnv="gistic")``), else log2(CN/2) ≥ 1.0: at least twice the diploid copy
  number, as in the ASCO/CAP 2018 ISH positive ratio HER2/CEP17 ≥ 2.0 (Wolff et al. 2018, J Clin Oncol
  36:2105). Absolute copy numbers are first turned into log2(CN/2), so CN ≥ 4 is amplified. Not amplified → the
  expression call, Equivocal included (impurity shrinks log2 ratios, so "not amplified" is not taken as proof
  against an equivocal expression). No expression score → Negative (score 0) when not amplified, as an
  ISH-negative tumour is HER2-negative. GRB7, the amplicon partner, is recorded in the evidence but does not
  change the call (the amplicon boundary can fall between the two genes).
- **Clinical group.** HER2 Positive → ``HER2+``; HER2 Negative with ER or PR Positive → ``HR+/HER2-``; HER2, ER and
  PR all Negative → ``triple-negative``; anything else (a missing or Equivocal call that decides) → NaN.

A marker gene missing from a modality is not an error: the marker's evidence from that modality is absent (NaN
call where nothing else is there), a warning is logged and a report row written. A store with neither ``rna`` nor
``cnv`` raises :class:`~harmonomics._errors.MissingResultError`; a cohort too small for a mixture raises
:class:`~harmonomics._errors.InsufficientDataError` (one patient cannot set a threshold; no reference threshold is
shipped, since RNA-seq pipelines differ in scale).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import InsufficientDataError, MissingResultError
from ..store import add_report_rows, store_to_modify

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData
    from mudata import MuData

logger = logging.getLogger(__name__)

CALLS = ("Positive", "Equivocal", "Negative")
CLINICAL_GROUPS = ("HR+/HER2-", "HER2+", "triple-negative")
#: Posterior of Positive above which a sample is called Positive, and below which Negative.
POSITIVE_POSTERIOR = 0.9
NEGATIVE_POSTERIOR = 0.1
#: Fewest expression profiles a mixture is fitted on.
MIN_SAMPLES = 20
#: Least separation of the mixture's two components (Ashman's D) for a threshold to be set.
MIN_SEPARATION = 2.0
#: log2(CN/2) at or above which ERBB2 is amplified (ASCO/CAP 2018 ISH ratio ≥ 2.0).
AMPLIFICATION_LOG2 = 1.0
#: GISTIC discrete value of a high-level amplification.
GISTIC_AMPLIFIED = 2
SEED = 0
N_INIT = 10
_CITATION_MIXTURE = "two-component Gaussian mixture (tied variance) on this cohort's log2 expression; no labels"
_CITATION_LOG2 = "fixed: ASCO/CAP 2018 ISH HER2/CEP17 ratio >= 2.0 (Wolff et al. 2018, J Clin Oncol 36:2105)"
_CITATION_GISTIC = "fixed: GISTIC 2.0 high-level amplification (Mermel et al. 2011, Genome Biol 12:R41)"


@dataclass(frozen=True)
class Marker:
    """One receptor: its name, obs prefix, expression gene and copy-number genes (first decides, rest support)."""

    name: str
    prefix: str
    expression_gene: str
    copy_number_genes: tuple[str, ...] = ()


#: The receptors called, in order.
MARKERS = (
    Marker("ER", "er", "ESR1"),
    Marker("PR", "pr", "PGR"),
    Marker("HER2", "her2", "ERBB2", ("ERBB2", "GRB7")),
)


# --------------------------------------------------------------------------------------------- expression
def _column(adata: AnnData, gene: str) -> int | None:
    """Position of a gene among var names or ``var["symbol"]`` / ``var["gene_name"]``; None when absent."""
    names = pd.Index(adata.var_names.astype(str))
    if gene in names:
        return int(names.get_indexer([gene])[0])
    for column in ("symbol", "gene_name"):
        if column in adata.var.columns:
            hits = np.flatnonzero(adata.var[column].astype(str).to_numpy() == gene)
            if hits.size:
                return int(hits[0])
    return None


def _dense(matrix) -> np.ndarray:
    return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=float)


def _expression_scale(adata: AnnData) -> str:
    """``"log2"``, ``"counts"`` or ``"linear"``: from the store's own record, else from the values."""
    transform = adata.uns.get("transform")
    if transform is not None and str(dict(transform).get("method", "")).startswith("log2"):
        return "log2"
    scale = str(adata.uns.get("scale", ""))
    if scale in ("log2", "counts", "linear"):
        return scale
    values = _dense(adata.X)
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.min() < 0 or finite.max() <= 50:
        return "log2"
    return "counts" if np.all(finite == np.round(finite)) else "linear"


def _to_log2(adata: AnnData, positions: list[int], scale: str) -> np.ndarray:
    """The marker columns on a log2 scale (samples × markers)."""
    values = _dense(adata.X[:, positions])
    if scale == "log2":
        return values
    if scale == "counts":
        matrix = adata.X
        totals = matrix.sum(axis=1) if hasattr(matrix, "toarray") else np.nansum(np.asarray(matrix), axis=1)
        library = np.asarray(totals, dtype=float).reshape(-1, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log2(values / np.where(library > 0, library, np.nan) * 1e6 + 1.0)
    return np.log2(values + 1.0)


_TRANSFORM_TEXT = {
    "log2": "log2 values as stored",
    "counts": "log2(CPM + 1) of the raw counts",
    "linear": "log2(x + 1) of the normalised values",
}


@dataclass
class _Mixture:
    posterior: pd.Series  # P(Positive) per sample with a value
    low: float  # expression at which the posterior reaches NEGATIVE_POSTERIOR
    high: float  # ... and POSITIVE_POSTERIOR
    separation: float  # Ashman's D
    means: tuple[float, float]
    sd: float
    weight_high: float


def _fit_mixture(values: pd.Series) -> _Mixture:
    """Tied-variance two-component mixture on one marker's log2 values; posterior of the higher component."""
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    x = values.to_numpy(dtype=float).reshape(-1, 1)
    # one value per sample: BLAS threads only add overhead here (10x slower with the default pools on 2 cores)
    with threadpool_limits(limits=1):
        model = GaussianMixture(n_components=2, covariance_type="tied", n_init=N_INIT, random_state=SEED).fit(x)
    means = model.means_.ravel()
    high = int(np.argmax(means))
    sd = float(np.sqrt(np.ravel(model.covariances_)[0]))
    separation = float(abs(means[1] - means[0]) / sd)  # Ashman's D with equal variances: sqrt(2)|Δ|/sqrt(2 s²)
    posterior = pd.Series(model.predict_proba(x)[:, high], index=values.index)
    # with a tied variance the log posterior odds are linear in x: solve for the two cut points
    weights = model.weights_
    slope = (means[high] - means[1 - high]) / sd**2
    intercept = np.log(weights[high] / weights[1 - high]) - (means[high] ** 2 - means[1 - high] ** 2) / (2 * sd**2)

    def at(probability: float) -> float:
        return float((np.log(probability / (1 - probability)) - intercept) / slope)

    return _Mixture(
        posterior=posterior,
        low=at(NEGATIVE_POSTERIOR),
        high=at(POSITIVE_POSTERIOR),
        separation=separation,
        means=(float(means[1 - high]), float(means[high])),
        sd=sd,
        weight_high=float(weights[high]),
    )


def _call(score: pd.Series) -> pd.Series:
    """Positive / Equivocal / Negative from the posterior; NaN where there is no score."""
    out = pd.Series(np.nan, index=score.index, dtype=object)
    known = score.notna()
    out[known & (score > POSITIVE_POSTERIOR)] = "Positive"
    out[known & (score < NEGATIVE_POSTERIOR)] = "Negative"
    out[known & (score >= NEGATIVE_POSTERIOR) & (score <= POSITIVE_POSTERIOR)] = "Equivocal"
    return out


# --------------------------------------------------------------------------------------------- copy number
def _copy_number_source(adata: AnnData) -> tuple[str, np.ndarray, bool]:
    """How to read the copy number: (``"gistic"`` or ``"log2"``, the matrix, whether it holds absolute copies).

    GISTIC values win when the store has them (``layers["gistic"]``, or ``X`` on the GISTIC scale); otherwise the
    log2 ratio in ``X``. Absolute copy numbers (a GDC download read as is) are turned into log2(CN/2) the way
    :func:`harmonomics.pp.harmonize` does (``cnv="log2ratio"``), so a raw and a harmonized store give the same calls.
    """
    transform = str(dict(adata.uns.get("transform") or {}).get("method", ""))
    scale = str(adata.uns.get("scale", ""))
    if "gistic" in adata.layers:
        return "gistic", adata.layers["gistic"], False
    if transform == "gistic" or (scale == "gistic" and transform in ("", "none")):
        return "gistic", adata.X, False
    if transform in ("log2ratio", "none") or scale in ("log2", "relative", ""):
        return "log2", adata.X, False
    if scale == "copy_number":
        return "log2", adata.X, True
    raise MissingResultError(
        f"mod['cnv'] holds values on scale {scale!r}; receptor_status reads log2(CN/2), absolute copy numbers or "
        "GISTIC values (layers['gistic'])"
    )


def _amplification_cut(source: str) -> float:
    return float(GISTIC_AMPLIFIED) if source == "gistic" else AMPLIFICATION_LOG2  # any log2 source


def _amplification_verdict(values: pd.Series, source: str) -> pd.Series:
    """``"amplified"`` / ``"not amplified"`` per sample; NaN where there is no value."""
    verdict = pd.Series(np.nan, index=values.index, dtype=object)
    verdict[values >= _amplification_cut(source)] = "amplified"
    verdict[values < _amplification_cut(source)] = "not amplified"
    return verdict


# --------------------------------------------------------------------------------------------- helpers
def _clinical_group(er: pd.Series, pr: pd.Series, her2: pd.Series) -> pd.Series:
    hormone_positive = (er == "Positive") | (pr == "Positive")
    group = pd.Series(np.nan, index=er.index, dtype=object)
    group[(her2 == "Negative") & hormone_positive] = "HR+/HER2-"
    group[(her2 == "Negative") & (er == "Negative") & (pr == "Negative")] = "triple-negative"
    group[her2 == "Positive"] = "HER2+"
    return pd.Series(pd.Categorical(group, categories=list(CLINICAL_GROUPS)), index=er.index)


THRESHOLD_COLUMNS = ["marker", "feature", "rule", "value", "how_set"]
EVIDENCE_COLUMNS = ["sample", "marker", "source", "feature", "value", "call"]
MIXTURE_COLUMNS = ["marker", "feature", "n", "mean_negative", "mean_positive", "sd", "weight_positive"]


@dataclass
class _Record:
    """What one run collects for ``uns``: thresholds, evidence and report rows."""

    thresholds: list[dict] = field(default_factory=list)
    mixtures: list[dict] = field(default_factory=list)
    evidence: list[pd.DataFrame] = field(default_factory=list)
    report: list[dict] = field(default_factory=list)

    def feature_left_out(self, item: str, omic: str, action: str, reason: str) -> None:
        self.report.append(
            {"level": "feature", "item": item, "omic": omic, "sample": "", "action": action, "reason": reason}
        )
        logger.warning("receptor_status: %s: %s", item, reason)

    def modality_absent(self, mod: str, reason: str) -> None:
        self.report.append(
            {"level": "modality", "item": mod, "omic": mod, "sample": "", "action": "absent", "reason": reason}
        )

    def add_evidence(self, marker: str, source: str, feature: str, values: pd.Series, calls: pd.Series) -> None:
        calls = calls.reindex(values.index).astype(object)
        self.evidence.append(
            pd.DataFrame(
                {
                    "sample": values.index.astype(str),
                    "marker": marker,
                    "source": source,
                    "feature": feature,
                    "value": values.to_numpy(dtype=float),
                    "call": calls.where(calls.notna(), "").to_numpy(),
                }
            )
        )


# --------------------------------------------------------------------------------------------- steps
def _expression(mdata: MuData, rna: str, record: _Record) -> tuple[str, dict[str, pd.Series]]:
    """The expression scale found and each marker gene's log2 values (indexed by the modality's samples)."""
    adata = mdata.mod[rna]
    if adata.n_obs < MIN_SAMPLES:
        raise InsufficientDataError(
            f"mod[{rna!r}] has {adata.n_obs} expression profile(s); receptor_status sets each marker's "
            f"threshold on the cohort's own expression and needs at least {MIN_SAMPLES} samples (a mixture "
            "cannot be fitted on one patient). Call it on the whole cohort, then subset"
        )
    scale = _expression_scale(adata)
    wanted = [m.expression_gene for m in MARKERS]
    positions = {g: _column(adata, g) for g in wanted}
    found = [g for g in wanted if positions[g] is not None]
    for gene in wanted:
        if positions[gene] is None:
            record.feature_left_out(
                gene, rna, "absent", f"marker gene {gene} not in mod[{rna!r}]; not called from expression"
            )
    if not found:
        return scale, {}
    log2 = _to_log2(adata, [positions[g] for g in found], scale)
    index = pd.Index(adata.obs_names.astype(str))
    return scale, {gene: pd.Series(log2[:, j], index=index) for j, gene in enumerate(found)}


def _copy_number(mdata: MuData, cnv: str, record: _Record) -> tuple[str, dict[str, pd.Series]]:
    """The copy-number source (``"gistic"`` / ``"log2"``) and the values of the HER2 amplicon genes present."""
    adata = mdata.mod[cnv]
    source, matrix, absolute = _copy_number_source(adata)
    index = pd.Index(adata.obs_names.astype(str))
    out = {}
    for gene in dict.fromkeys(g for m in MARKERS for g in m.copy_number_genes):
        position = _column(adata, gene)
        if position is None:
            record.feature_left_out(
                gene, cnv, "absent", f"gene {gene} not in mod[{cnv!r}]; its copy number is not used"
            )
            continue
        values = _dense(matrix[:, [position]]).ravel()
        if absolute:  # copies → log2(CN/2), copy number 0 floored at 0.1 (as hm.pp.harmonize)
            values = np.log2(np.maximum(values, 0.1) / 2.0)
        out[gene] = pd.Series(values, index=index)
    return ("log2 from copy number" if absolute else source), out


def _expression_score(marker: Marker, values: pd.Series, scale: str, rna: str, record: _Record) -> pd.Series:
    """Posterior of Positive from the cohort's mixture; NaN (and a report row) when no threshold can be set."""
    gene = marker.expression_gene
    finite = values.dropna()
    mixture = _fit_mixture(finite) if len(finite) >= MIN_SAMPLES else None
    score = pd.Series(np.nan, index=values.index, dtype=float)
    if mixture is None or mixture.separation < MIN_SEPARATION:
        reason = (
            f"{len(finite)} finite values (fewer than {MIN_SAMPLES})"
            if mixture is None
            else f"the cohort's {gene} expression is not bimodal (Ashman's D {mixture.separation:.2f} < "
            f"{MIN_SEPARATION:g})"
        )
        record.feature_left_out(gene, rna, "not used", f"{marker.name} not called from expression: {reason}")
    else:
        score = mixture.posterior.reindex(values.index)
        record.mixtures.append(
            {
                "marker": marker.name,
                "feature": gene,
                "n": len(finite),
                "mean_negative": mixture.means[0],
                "mean_positive": mixture.means[1],
                "sd": mixture.sd,
                "weight_positive": mixture.weight_high,
            }
        )
        how = f"{_CITATION_MIXTURE} (n={len(finite)}, seed {SEED}; {_TRANSFORM_TEXT[scale]})"
        for rule, value in (
            (f"posterior > {POSITIVE_POSTERIOR:g}: Positive (log2 expression above)", mixture.high),
            (f"posterior < {NEGATIVE_POSTERIOR:g}: Negative (log2 expression below)", mixture.low),
            (f"component separation, Ashman's D (>= {MIN_SEPARATION:g} required)", mixture.separation),
        ):
            record.thresholds.append(
                {"marker": marker.name, "feature": gene, "rule": rule, "value": value, "how_set": how}
            )
    record.add_evidence(marker.name, rna, gene, values, _call(score))
    return score


def _with_copy_number(
    marker: Marker, score: pd.Series, copy_number: dict[str, pd.Series], source: str, cnv: str, record: _Record
) -> pd.Series:
    """HER2: amplified → score 1; not amplified → the expression score, or 0 where there is none."""
    decisive = marker.copy_number_genes[0]
    if decisive in copy_number:
        values = copy_number[decisive].reindex(score.index)
        cut = _amplification_cut(source)
        score = score.mask(values >= cut, 1.0).mask((values < cut) & score.isna(), 0.0)
        record.thresholds.append(
            {
                "marker": marker.name,
                "feature": decisive,
                "rule": f"{'GISTIC' if source == 'gistic' else 'log2(CN/2)'} >= {cut:g}: amplified, Positive",
                "value": float(cut),
                "how_set": _CITATION_GISTIC if source == "gistic" else _CITATION_LOG2,
            }
        )
    for gene in marker.copy_number_genes:
        if gene in copy_number:
            verdict = _amplification_verdict(copy_number[gene], source)
            if gene != decisive:
                verdict = verdict + " (supporting only)"  # the amplicon boundary can fall between the genes
            record.add_evidence(marker.name, f"{cnv} ({source})", gene, copy_number[gene], verdict)
    return score


# --------------------------------------------------------------------------------------------- the tool
def receptor_status(
    mdata: MuData,
    *,
    rna: str = _keys.RNA,
    cnv: str = _keys.CNV,
    key_added: str = _keys.KEY_RECEPTOR,
    copy: bool = False,
) -> MuData | None:
    """Call ER, PR and HER2 status per sample from marker expression and ERBB2 copy number, without labels.

    Thresholds are set on the cohort itself (a two-component Gaussian mixture per marker gene, tied variance,
    seed 0) and fixed published copy-number cut-offs; clinical columns in obs are never read. The method and
    every threshold are in the module docstring and docs/precision.md.

    Parameters
    ----------
    mdata
        Store with expression in ``mod[rna]`` (raw counts, linear normalised values or log2; ``uns["transform"]``
        and ``uns["scale"]`` say which, else the values do) and/or copy number in ``mod[cnv]`` (log2(CN/2) in
        ``X``; GISTIC discrete values in ``layers["gistic"]`` are used instead when present).
    rna, cnv
        Modality names. A store may lack one of them: calls are then made from what is there and the evidence
        table says which source each call rests on.
    key_added
        ``uns`` key of the method record.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None`` (or the copy). Writes to ``obs``: ``er_call``, ``pr_call``, ``her2_call`` (categorical Positive /
    Equivocal / Negative, NaN without evidence), ``er_score``, ``pr_score``, ``her2_score`` (posterior
    probability of Positive; for HER2, 1 where ERBB2 is amplified, and 0 where copy number alone says not
    amplified), ``clinical_group`` (``HR+/HER2-``, ``HER2+``, ``triple-negative`` or NaN). ``uns[key_added]``:
    ``method``, ``thresholds`` (marker, feature, rule, value, how_set), ``mixtures`` (each fitted mixture: marker,
    feature, n, mean_negative, mean_positive, sd, weight_positive), ``evidence`` (sample, marker, source,
    feature, value, call: one row per sample, marker and feature read) and ``params``. Markers or modalities
    left out get a row in ``uns["harmonomics_report"]``.

    Raises
    ------
    TypeError
        ``mdata`` is not a MuData.
    MissingResultError
        The store has neither ``mod[rna]`` nor ``mod[cnv]``, or its copy number is on a scale other than log2
        ratio or GISTIC.
    InsufficientDataError
        Fewer than :data:`MIN_SAMPLES` expression profiles: no threshold can be set on so few samples without
        labels.
    """
    if not hasattr(mdata, "mod"):
        raise TypeError(
            f"receptor_status needs a MuData store (expression and copy number as modalities), got "
            f"{type(mdata).__name__}; wrap an AnnData as mudata.MuData({{'rna': adata}})"
        )
    mdata = store_to_modify(mdata, copy)
    samples = pd.Index(mdata.obs_names.astype(str))
    has_rna, has_cnv = rna in mdata.mod, cnv in mdata.mod
    if not (has_rna or has_cnv):
        raise MissingResultError(
            f"receptor_status needs expression (mod[{rna!r}]) or copy number (mod[{cnv!r}]); the store holds "
            f"{list(mdata.mod)}: pass rna= / cnv= naming them"
        )
    record = _Record()
    scale, expression = _expression(mdata, rna, record) if has_rna else (None, {})
    if not has_rna:
        record.modality_absent(rna, "no expression modality: HER2 called from copy number only; ER and PR not called")
    cn_source, copy_number = _copy_number(mdata, cnv, record) if has_cnv else (None, {})
    if not has_cnv:
        record.modality_absent(cnv, "no copy-number modality: HER2 called from ERBB2 expression only")

    for marker in MARKERS:
        score = pd.Series(np.nan, index=samples, dtype=float)
        if marker.expression_gene in expression:
            score = _expression_score(marker, expression[marker.expression_gene], scale, rna, record).reindex(samples)
        if marker.copy_number_genes and copy_number:
            score = _with_copy_number(marker, score, copy_number, cn_source, cnv, record)
        calls = _call(score)
        mdata.obs[f"{marker.prefix}_call"] = pd.Categorical(calls.to_numpy(), categories=list(CALLS))
        mdata.obs[f"{marker.prefix}_score"] = score.to_numpy(dtype=float)

    obs = mdata.obs
    mdata.obs["clinical_group"] = _clinical_group(
        obs["er_call"].astype(object).set_axis(samples),
        obs["pr_call"].astype(object).set_axis(samples),
        obs["her2_call"].astype(object).set_axis(samples),
    ).array
    if record.report:
        add_report_rows(mdata, record.report)
    mdata.uns[key_added] = {
        "method": "receptor_status",
        "thresholds": pd.DataFrame(record.thresholds, columns=THRESHOLD_COLUMNS),
        "mixtures": pd.DataFrame(record.mixtures, columns=MIXTURE_COLUMNS),
        "evidence": (
            pd.concat(record.evidence, ignore_index=True) if record.evidence else pd.DataFrame(columns=EVIDENCE_COLUMNS)
        ),
        "params": {
            "rna": rna if has_rna else "",
            "cnv": cnv if has_cnv else "",
            "expression_scale": scale or "",
            "copy_number_source": cn_source or "",
            "positive_posterior": POSITIVE_POSTERIOR,
            "negative_posterior": NEGATIVE_POSTERIOR,
            "min_samples": MIN_SAMPLES,
            "min_separation": MIN_SEPARATION,
            "seed": SEED,
            "n_init": N_INIT,
        },
    }
    return mdata if copy else None


#: Clinical status columns our calls are compared with, per marker (those a store has are used).
CLINICAL_STATUS = {"ER": "er_status", "PR": "pr_status", "HER2": "her2_status"}


def compare_receptor_status(
    mdata: MuData,
    *,
    references: dict[str, str] | None = None,
    seed: int = 0,
    n_boot: int = 2000,
) -> pd.DataFrame:
    """Accuracy of :func:`receptor_status` calls against clinical receptor status, with 95% confidence intervals.

    Only samples whose clinical status is Positive or Negative are evaluated (Equivocal, Indeterminate and
    missing clinical values are left out). Our Equivocal calls and missing calls **count as wrong** in
    ``accuracy``, ``sensitivity``, ``specificity`` and ``balanced_accuracy``; ``coverage`` says how many got a
    Positive/Negative call, and ``balanced_accuracy_called`` is computed on those only.

    Sensitivity and specificity carry Wilson score 95% intervals (:meth:`scipy.stats.binomtest` ``proportion_ci``,
    ``method="wilson"``) on the same counts as the estimates (Equivocal and missing calls wrong). The balanced
    accuracy carries a 95% percentile interval from a stratified bootstrap: the clinical Positives and Negatives
    are resampled separately with replacement (their numbers kept), ``n_boot`` times, with a generator seeded by
    ``seed`` afresh for each marker, and the 2.5th and 97.5th percentiles of the resampled balanced accuracies
    are reported. Intervals are NaN where the estimate is (no clinical Positive or no Negative).

    Parameters
    ----------
    mdata
        Store with ``obs["er_call"]`` etc. (run :func:`receptor_status`) and clinical columns in obs.
    references
        ``{marker: obs column}`` (default :data:`CLINICAL_STATUS`); markers whose column the store lacks are
        left out.
    seed
        Seed of the bootstrap of the balanced accuracy (the same seed gives the same interval).
    n_boot
        Number of bootstrap resamples.

    Returns
    -------
    Tidy table, one row per marker: ``marker``, ``reference``, ``n_labelled``, ``n_positive``, ``n_negative``,
    ``n_called``, ``coverage``, ``accuracy``, ``sensitivity``, ``specificity``, ``balanced_accuracy``,
    ``balanced_accuracy_called``, then the 95% intervals ``sensitivity_low``, ``sensitivity_high``,
    ``specificity_low``, ``specificity_high`` (Wilson) and ``balanced_accuracy_low``, ``balanced_accuracy_high``
    (stratified bootstrap percentiles).

    Raises
    ------
    MissingResultError
        The store has a clinical column but not our calls.
    """
    from ._classifier import balanced_error
    from ._reference import _status

    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    columns = [
        "marker",
        "reference",
        "n_labelled",
        "n_positive",
        "n_negative",
        "n_called",
        "coverage",
        "accuracy",
        "sensitivity",
        "specificity",
        "balanced_accuracy",
        "balanced_accuracy_called",
        *INTERVAL_COLUMNS,
    ]
    rows = []
    prefixes = {m.name: m.prefix for m in MARKERS}
    for marker, reference in (references or CLINICAL_STATUS).items():
        if reference not in mdata.obs.columns:
            continue
        call_column = f"{prefixes[marker]}_call"
        if call_column not in mdata.obs.columns:
            raise MissingResultError(f"no calls obs[{call_column!r}] in the store; run hm.tl.receptor_status(mdata)")
        truth = _status(mdata.obs[reference]).to_numpy(dtype=object)
        ours = mdata.obs[call_column].astype(object).to_numpy()
        labelled = pd.notna(truth)
        truth, ours = truth[labelled], ours[labelled]
        called = np.isin(ours, ["Positive", "Negative"])
        positive, negative = truth == "Positive", truth == "Negative"
        row = {
            "marker": marker,
            "reference": reference,
            "n_labelled": int(labelled.sum()),
            "n_positive": int(positive.sum()),
            "n_negative": int(negative.sum()),
            "n_called": int(called.sum()),
            "coverage": float(called.mean()) if called.size else np.nan,
            "accuracy": float((ours == truth).mean()) if truth.size else np.nan,
            "sensitivity": float((ours[positive] == "Positive").mean()) if positive.any() else np.nan,
            "specificity": float((ours[negative] == "Negative").mean()) if negative.any() else np.nan,
            "balanced_accuracy": np.nan,
            "balanced_accuracy_called": np.nan,
        }
        if positive.any() and negative.any():
            row["balanced_accuracy"] = 1.0 - balanced_error(truth, ours)
            sub_truth = truth[called]
            if (sub_truth == "Positive").any() and (sub_truth == "Negative").any():
                row["balanced_accuracy_called"] = 1.0 - balanced_error(sub_truth, ours[called])
        right_positive, right_negative = ours[positive] == "Positive", ours[negative] == "Negative"
        row["sensitivity_low"], row["sensitivity_high"] = _wilson(right_positive)
        row["specificity_low"], row["specificity_high"] = _wilson(right_negative)
        row["balanced_accuracy_low"], row["balanced_accuracy_high"] = _bootstrap_balanced_accuracy(
            right_positive, right_negative, n_boot=int(n_boot), seed=seed
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


#: The 95% intervals :func:`compare_receptor_status` appends to its point estimates.
INTERVAL_COLUMNS = (
    "sensitivity_low",
    "sensitivity_high",
    "specificity_low",
    "specificity_high",
    "balanced_accuracy_low",
    "balanced_accuracy_high",
)


def _wilson(right: np.ndarray) -> tuple[float, float]:
    """Wilson score 95% interval of the share of ``right`` that is True; NaN for no sample."""
    if right.size == 0:
        return np.nan, np.nan
    from scipy.stats import binomtest

    interval = binomtest(int(right.sum()), int(right.size)).proportion_ci(0.95, method="wilson")
    return float(interval.low), float(interval.high)


def _bootstrap_balanced_accuracy(
    right_positive: np.ndarray, right_negative: np.ndarray, *, n_boot: int, seed: int
) -> tuple[float, float]:
    """95% percentile interval of (sensitivity + specificity) / 2, resampling each clinical class on its own."""
    if right_positive.size == 0 or right_negative.size == 0:
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    for i in range(n_boot):  # per draw, Positives then Negatives: one stream whatever the class sizes
        draws[i] = (
            rng.choice(right_positive, right_positive.size).mean()
            + rng.choice(right_negative, right_negative.size).mean()
        ) / 2.0
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)
