"""Immune status: single-sample immune scores, PD-L1, immune classes and factor <-> immune mapping.

Every score here is computed from one sample's own expression values: adding or removing
other samples never changes a sample's score (no cohort centring, no cohort ranks, no
cohort-level normalisation). The expression scale is detected (or declared), checked and
converted per method; a wrong scale raises :class:`~harmonomics._errors.ScaleError`, and a
score left with too few of its genes is NaN with a warning (never an empty table).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import GeneMappingError, MissingResultError, ScaleError
from .._genes import symbols_for
from .._keys import KEY_IMMUNE, KEY_MOFA, RNA
from . import _estimate

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData
    from mudata import MuData

logger = logging.getLogger(__name__)

SCALES = ("auto", "counts", "tpm", "log2")

#: A sample whose largest value is at most this is taken as log2 scale (log2(1e6 TPM + 1) = 19.9).
LOG2_MAX = 30.0
#: Relative tolerance on the per-sample sum of TPM values (1e6).
TPM_SUM_TOLERANCE = 0.01
#: Fewer ESTIMATE common genes than this in the data: warn that scores are off the published scale.
MIN_COMMON_GENES = 5000
#: Offset of the cytolytic activity geometric mean (Rooney et al. 2015: TPM, 0.01 offset).
CYT_OFFSET = 0.01
#: Default PD-L1 (CD274) call: "high" at or above this many TPM.
PDL1_TPM_THRESHOLD = 5.0
#: Default thresholds of :func:`immune_status` (see docs/immune.md).
DEFAULT_CLASS_THRESHOLDS: dict[str, tuple[float, float]] = {
    "estimate_immune": (0.0, 1000.0),
    "cyt": (2.0, 10.0),
    "tis": (-0.9, -0.5),
}
#: Scores whose mean |Spearman rho| names the most immune-related factor.
CORE_SCORES = ("estimate_immune", "cyt", "tis")
#: var columns holding gene lengths (bp), used to turn counts into TPM.
LENGTH_COLUMNS = ("length", "gene_length", "effective_length")
PURITY_NOTE = (
    "ESTIMATE purity uses cos(0.6049872018 + 0.0001467884 * ESTIMATE score), a formula calibrated on "
    "Affymetrix arrays (Yoshihara et al. 2013); on RNA-seq it is an approximation."
)


# --------------------------------------------------------------------------------------------- gene sets
def _snake(label: str) -> str:
    out = "".join(ch if ch.isalnum() else "_" for ch in label.strip()).strip("_")
    while "__" in out:
        out = out.replace("__", "_")
    return out


@lru_cache(maxsize=1)
def gene_sets() -> pd.DataFrame:
    """All gene sets of :func:`immune_scores` as a tidy table.

    Returns
    -------
    DataFrame with columns ``method``, ``score`` (the output column), ``gene`` (current HGNC symbol),
    ``role`` (``"signature"`` or ``"housekeeping"``) and ``weight`` (TIS weights; NaN elsewhere).
    """
    from .. import data

    rows: list[dict[str, Any]] = []
    for name, genes in _estimate.signatures().items():
        rows += [{"method": "estimate", "score": f"estimate_{name}", "gene": g, "role": "signature"} for g in genes]
    other = pd.read_csv(data.path("signatures", "other_immune_gene_sets.tsv"), sep="\t", dtype=str)
    for gene in other.loc[other["signature"] == "CYT_rooney2015", "gene"]:
        rows.append({"method": "cyt", "score": "cyt", "gene": gene, "role": "signature"})
    for gene in other.loc[other["signature"] == "PDL1_CD274", "gene"]:
        rows.append({"method": "pdl1", "score": "pdl1", "gene": gene, "role": "signature"})
    tis = pd.read_csv(data.path("signatures", "tis_tcell_inflamed_gep_ayers2017_cristescu2018.tsv"), sep="\t")
    for gene, role, weight in zip(tis["gene"], tis["role"], tis["weight"], strict=True):
        rows.append({"method": "tis", "score": "tis", "gene": gene, "role": role, "weight": weight})
    mcp = pd.read_csv(data.path("signatures", "mcpcounter_genes.txt"), sep="\t", dtype=str)
    for gene, population, entrez, _ensembl in zip(
        mcp["HUGO symbols"], mcp["Cell population"], mcp["ENTREZID"], mcp["ENSEMBL ID"], strict=True
    ):
        entrez = entrez if isinstance(entrez, str) and entrez.isdigit() else None
        rows.append(
            {
                "method": "mcp",
                "score": f"mcp_{_snake(population).lower()}",
                "gene": gene,
                "role": "signature",
                "entrez": entrez,
            }
        )
    danaher = pd.read_csv(data.path("signatures", "danaher2017_immune_cell_markers.tsv"), sep="\t", dtype=str)
    for gene, cell_type in zip(danaher["current_hgnc"], danaher["cell_type"], strict=True):
        rows.append(
            {
                "method": "danaher",
                "score": f"danaher_{_snake(cell_type).lower()}",
                "gene": gene,
                "role": "signature",
            }
        )
    table = pd.DataFrame(rows, columns=["method", "score", "gene", "role", "weight", "entrez"])
    table["weight"] = table["weight"].astype(float)
    table["entrez"] = table["entrez"].astype(object).where(table["entrez"].notna(), None)
    return table.drop_duplicates(["score", "gene", "role"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------- input
def _get_adata(mdata, mod: str):
    from anndata import AnnData

    if isinstance(mdata, AnnData):
        return mdata
    try:
        from mudata import MuData
    except ImportError:  # pragma: no cover
        MuData = ()  # noqa: N806
    if isinstance(mdata, MuData):
        if mod not in mdata.mod:
            raise MissingResultError(
                f"immune_scores needs expression in modality {mod!r}, but the MuData holds "
                f"{list(mdata.mod)}; "
                "pass mod= naming the mRNA modality"
            )
        return mdata.mod[mod]
    raise TypeError(f"expected a MuData or AnnData, got {type(mdata).__name__}")


def _dense_columns(matrix, columns: np.ndarray | slice) -> np.ndarray:
    sub = matrix[:, columns]
    if hasattr(sub, "toarray"):
        sub = sub.toarray()
    return np.asarray(sub, dtype=float)


def _check_finite(values: np.ndarray, obs_names: pd.Index, var_names: pd.Index) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = (int(k[0]) for k in np.nonzero(bad))
        raise ScaleError(
            f"expression has {int(bad.sum())} missing or infinite values (first: sample {obs_names[i]!r}, "
            f"feature {var_names[j]!r}); immune scores need complete per-sample expression: drop or fill "
            "those features first"
        )


def _detect_scale(values: np.ndarray, obs_names: pd.Index, declared: str) -> str:
    """Per-sample scale detection and check; every sample must agree."""
    if declared not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {declared!r}")
    negative = (values < 0).any(axis=1)
    if negative.any():
        first = obs_names[np.flatnonzero(negative)[0]]
        raise ScaleError(
            f"expression has negative values in {int(negative.sum())} sample(s) (first: {first!r}, minimum "
            f"{values.min():.3g}): this looks gene-centred or log-ratio data, which makes a sample's score "
            "depend on "
            "the other samples; immune_scores needs per-sample expression: counts, TPM or log2(TPM + 1)"
        )
    row_max = values.max(axis=1)
    row_sum = values.sum(axis=1)
    is_log = row_max <= LOG2_MAX
    is_tpm = ~is_log & (np.abs(row_sum - 1e6) <= TPM_SUM_TOLERANCE * 1e6)
    per_sample = np.where(is_log, "log2", np.where(is_tpm, "tpm", "counts"))
    if declared == "auto":
        kinds = pd.unique(per_sample)
        if len(kinds) > 1:
            examples = {k: str(obs_names[np.flatnonzero(per_sample == k)[0]]) for k in kinds}
            raise ScaleError(
                f"samples are on different scales ({examples}): log2 where the largest value is "
                f"<= {LOG2_MAX:g}, "
                "TPM where values sum to 1e6, counts otherwise; bring them to one scale or pass scale="
            )
        return str(kinds[0])
    if declared == "log2" and not is_log.all():
        i = int(np.flatnonzero(~is_log)[0])
        raise ScaleError(
            f"scale='log2' but sample {obs_names[i]!r} has values up to {row_max[i]:.4g} "
            "(log2 expression stays "
            f"below {LOG2_MAX:g}); these look like linear counts or TPM: pass scale='counts' or scale='tpm'"
        )
    if declared in ("counts", "tpm") and is_log.any():
        i = int(np.flatnonzero(is_log)[0])
        raise ScaleError(
            f"scale={declared!r} but sample {obs_names[i]!r} has no value above {row_max[i]:.4g}: this looks "
            "log-transformed; pass scale='log2' (log2(TPM + 1) or log2 array intensities)"
        )
    if declared == "tpm":
        over = row_sum > (1 + TPM_SUM_TOLERANCE) * 1e6
        if over.any():
            i = int(np.flatnonzero(over)[0])
            raise ScaleError(
                f"scale='tpm' but sample {obs_names[i]!r} sums to {row_sum[i]:.4g} "
                "(TPM sum to at most 1e6 per "
                "sample); these look like counts: pass scale='counts'"
            )
    return declared


def _gene_lengths(var: pd.DataFrame) -> np.ndarray | None:
    for column in LENGTH_COLUMNS:
        if column in var.columns:
            lengths = pd.to_numeric(var[column], errors="coerce").to_numpy(dtype=float)
            if np.isfinite(lengths).all() and (lengths > 0).all():
                return lengths
            logger.warning("var[%r] has missing or non-positive gene lengths; TPM approximated by CPM", column)
    return None


def _feature_entrez(var_names: pd.Index, var: pd.DataFrame) -> np.ndarray | None:
    """Entrez ID of every feature (None where unknown) from ``var["entrez"]`` or ``SYMBOL|ENTREZ`` IDs."""
    if "entrez" in var.columns:
        values = var["entrez"].astype(object).to_numpy()
        return np.array([None if v is None or pd.isna(v) else str(v).split(".")[0] for v in values], dtype=object)
    if var_names.str.contains("|", regex=False).any():
        from .._genes import parse_gene_ids

        return parse_gene_ids(var_names)["entrez"].to_numpy(dtype=object)
    return None


# --------------------------------------------------------------------------------------------- scoring
def _too_few(score: str, n_found: int, n_wanted: int, need: int, missing: Sequence[str]) -> str:
    """The warning for a score left with too few of its genes."""
    return (
        f"immune score {score!r}: only {n_found} of its {n_wanted} genes were found "
        f"(at least {need} needed); "
        f"the score is NaN. Missing: {', '.join(missing[:20])}{' ...' if len(missing) > 20 else ''}"
    )


def _needed(n_wanted: int, min_fraction: float) -> int:
    return max(1, int(np.ceil(min_fraction * n_wanted)))


@dataclass
class _Expression:
    """One modality's expression on its detected scale, with TPM-like and log2(TPM + 1) views of its columns."""

    values: np.ndarray
    scale: str
    lengths: np.ndarray | None

    def __post_init__(self) -> None:
        self.rate_sum = None
        if self.scale == "counts":
            # per-sample denominators, computed once: TPM from counts / length, else counts per million
            values, lengths = self.values, self.lengths
            rate_sum = (values / lengths[None, :]).sum(axis=1) if lengths is not None else values.sum(axis=1)
            self.rate_sum = np.where(rate_sum > 0, rate_sum, np.nan)[:, None]

    def linear(self, cols: np.ndarray) -> np.ndarray:
        """TPM-like values for the given columns."""
        if self.scale == "log2":
            return np.clip(np.exp2(self.values[:, cols]) - 1.0, 0.0, None)
        if self.scale == "tpm":
            return self.values[:, cols]
        numerator = (
            self.values[:, cols] / self.lengths[None, cols] if self.lengths is not None else self.values[:, cols]
        )
        return numerator / self.rate_sum * 1e6

    def log2p(self, cols: np.ndarray) -> np.ndarray:
        """log2(TPM + 1) (or the log2 input itself)."""
        if self.scale == "log2":
            return self.values[:, cols]
        return np.log2(self.linear(cols) + 1.0)


@dataclass
class _Run:
    """What every immune method reads (expression, located genes, options) and writes (scores, summary)."""

    expression: _Expression
    symbols: pd.Series
    first_pos: pd.Series
    var_names: pd.Index
    sets: pd.DataFrame
    mod: str
    min_fraction: float
    estimate_genes: str
    n_obs: int
    results: dict[str, np.ndarray] = field(default_factory=dict)
    summary: list[dict[str, Any]] = field(default_factory=list)
    estimate_info: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # emitted by immune_scores, in the order they arose

    def nan(self) -> np.ndarray:
        return np.full(self.n_obs, np.nan)

    def needed(self, n_wanted: int) -> int:
        return _needed(n_wanted, self.min_fraction)

    def record(self, method: str, score: str, wanted: int, found: int, need: int, ok: bool, missing: list[str]) -> None:
        self.summary.append(
            {
                "method": method,
                "score": score,
                "n_genes": wanted,
                "n_found": found,
                "min_genes": need,
                "status": "ok" if ok else "too few genes",
                "missing": ",".join(missing),
            }
        )
        if missing:
            logger.info("immune score %r: %d of %d genes missing: %s", score, len(missing), wanted, ", ".join(missing))
        if not ok:
            self.warnings.append(_too_few(score, found, wanted, need, missing))

    def signature_scores(self, method: str, block: pd.DataFrame, *, all_genes: bool):
        """Each score of ``block`` with enough signature genes found, with those genes; NaN for the others."""
        for score, genes_block in block.groupby("score", sort=False):
            signature = genes_block[genes_block["role"] == "signature"]
            found = signature[signature["found"]]
            missing = signature.loc[~signature["found"], "gene"].tolist()
            need = len(signature) if all_genes else self.needed(len(signature))
            ok = len(found) >= need
            self.record(method, score, len(signature), len(found), need, ok, missing)
            if ok:
                yield score, found
            else:
                self.results[score] = self.nan()


#: ``{method: function(run, genes of the method)}``: each writes its scores into ``run.results``.
_METHODS: dict[str, Callable[[_Run, pd.DataFrame], None]] = {}


def _method(name: str):
    """Register an immune score method under ``name`` (the order of registration is the order of METHODS)."""

    def register(function):
        _METHODS[name] = function
        return function

    return register


@_method("estimate")
def _estimate_scores(run: _Run, block: pd.DataFrame) -> None:
    """ESTIMATE stromal and immune ssGSEA scores, their sum and purity (Yoshihara et al. 2013)."""
    matched = _estimate.match_common_genes(run.symbols)
    n_common = len(matched)
    n_total = _estimate.common_genes()["hgnc_symbol"].nunique()
    if run.estimate_genes == "common":
        columns = matched["position"].to_numpy(dtype=int)
        lookup = pd.Series(np.arange(n_common), index=pd.Index(matched["hgnc_symbol"]))
        found_map = dict(zip(matched["hgnc_symbol"], matched["feature"], strict=True))
    else:  # every measured feature is in the ranking; signature genes by symbol
        columns = np.arange(len(run.var_names))
        lookup = run.first_pos
        found_map = {g: run.var_names[int(p)] for g, p in run.first_pos.items()}
    idx, usable = {}, {}
    sets = run.sets
    for name, genes in _estimate.signatures().items():
        score = f"estimate_{name}"
        hit = lookup.reindex(list(genes)).to_numpy(dtype=float)
        missing = [g for g, h in zip(genes, hit, strict=True) if not np.isfinite(h)]
        need = run.needed(len(genes))
        ok = (len(genes) - len(missing)) >= need
        run.record("estimate", score, len(genes), len(genes) - len(missing), need, ok, missing)
        # the block's found/feature columns follow the match used (synonyms included)
        rows = block.index[block["score"] == score]
        sets.loc[rows, "found"] = [g in found_map for g in sets.loc[rows, "gene"]]
        sets.loc[rows, "feature"] = [found_map.get(g, "") for g in sets.loc[rows, "gene"]]
        idx[name] = hit[np.isfinite(hit)].astype(int)
        usable[name] = ok
    if run.estimate_genes == "common" and n_common < MIN_COMMON_GENES and any(usable.values()):
        run.warnings.append(
            f"ESTIMATE: only {n_common} of the {n_total} ESTIMATE common genes are in modality {run.mod!r}; "
            "the scores are not on the published ESTIMATE scale and the stromal and immune genes "
            "compete for ranks in so small a gene universe. For a small gene panel pass "
            "estimate_genes='all' (rank every measured gene) or use a full transcriptome."
        )
    wanted_sets = {name: cols for name, cols in idx.items() if usable[name]}
    scores = _estimate.ssgsea_scores(run.expression.values[:, columns], wanted_sets) if wanted_sets else {}
    for name in ("stromal", "immune"):
        run.results[f"estimate_{name}"] = scores.get(name, run.nan())
    run.results["estimate_score"] = run.results["estimate_stromal"] + run.results["estimate_immune"]
    run.results["estimate_purity"] = _estimate.purity(run.results["estimate_score"])
    run.estimate_info = {
        "genes": run.estimate_genes,
        "n_genes_ranked": int(len(columns)),
        "n_common_genes": int(n_common),
        "n_common_genes_total": int(n_total),
        "n_via_synonym": int((matched["via"] == "synonym").sum()) if run.estimate_genes == "common" else 0,
        "input": "values as given (ranks per sample: counts, CPM, log2 counts give the same scores)",
        "purity_formula": "cos(0.6049872018 + 0.0001467884 * estimate_score)",
        "purity_note": PURITY_NOTE,
    }


@_method("cyt")
def _cytolytic_activity(run: _Run, block: pd.DataFrame) -> None:
    """Geometric mean of GZMA and PRF1 in TPM + 0.01 (Rooney et al. 2015); every gene is needed."""
    for score, found in run.signature_scores("cyt", block, all_genes=True):
        tpm = run.expression.linear(found["position"].to_numpy(dtype=int)) + CYT_OFFSET
        run.results[score] = np.sqrt(tpm.prod(axis=1))


@_method("tis")
def _tumour_inflammation_signature(run: _Run, block: pd.DataFrame) -> None:
    """Weighted sum of log10 signature genes less the mean of log10 housekeeping genes (Danaher et al. 2018)."""
    for score, genes_block in block.groupby("score", sort=False):
        signature = genes_block[genes_block["role"] == "signature"]
        found = signature[signature["found"]]
        need = run.needed(len(signature))
        ok = len(found) >= need
        hk = genes_block[genes_block["role"] == "housekeeping"]
        hk_found = hk[hk["found"]]
        hk_need = run.needed(len(hk))
        ok_hk = len(hk_found) >= hk_need
        run.record(
            "tis", score, len(signature), len(found), need, ok, signature.loc[~signature["found"], "gene"].tolist()
        )
        run.record(
            "tis", "tis_housekeeping", len(hk), len(hk_found), hk_need, ok_hk, hk.loc[~hk["found"], "gene"].tolist()
        )
        if not (ok and ok_hk):
            run.results[score] = run.nan()
            continue
        log10 = run.expression.log2p(found["position"].to_numpy(dtype=int)) * np.log10(2.0)
        hk_mean = (run.expression.log2p(hk_found["position"].to_numpy(dtype=int)) * np.log10(2.0)).mean(
            axis=1, keepdims=True
        )
        run.results[score] = ((log10 - hk_mean) * found["weight"].to_numpy()[None, :]).sum(axis=1)


def _mean_log2(method: str):
    """Mean log2(TPM + 1) of each population's markers (MCP-counter, Danaher cell types)."""

    def mean_log2(run: _Run, block: pd.DataFrame) -> None:
        for score, found in run.signature_scores(method, block, all_genes=False):
            run.results[score] = run.expression.log2p(found["position"].to_numpy(dtype=int)).mean(axis=1)

    mean_log2.__doc__ = f"{method}: mean log2(TPM + 1) of each population's markers."
    return mean_log2


_method("mcp")(_mean_log2("mcp"))
_method("danaher")(_mean_log2("danaher"))


@_method("pdl1")
def _pdl1(run: _Run, block: pd.DataFrame) -> None:
    """log2(TPM + 1) of CD274."""
    for score, found in run.signature_scores("pdl1", block, all_genes=True):
        run.results[score] = run.expression.log2p(found["position"].to_numpy(dtype=int))[:, 0]


METHODS = tuple(_METHODS)


def _locate_genes(sets: pd.DataFrame, first_pos: pd.Series, var_names: pd.Index, var: pd.DataFrame) -> pd.DataFrame:
    """The gene-set table with ``found``, ``feature`` and ``position`` of each gene: by symbol, else by Entrez ID."""
    sets = sets.copy()
    pos = first_pos.reindex(sets["gene"].to_numpy())
    sets["found"] = pos.notna().to_numpy()
    sets["feature"] = [var_names[int(p)] if np.isfinite(p) else "" for p in pos.to_numpy(dtype=float)]
    sets["position"] = pos.to_numpy(dtype=float)
    # genes not found by symbol but with a known Entrez ID (MCP-counter): SYMBOL|ENTREZ IDs or var["entrez"]
    retry = ~sets["found"].to_numpy() & sets["entrez"].notna().to_numpy()
    if retry.any():
        entrez_ids = _feature_entrez(var_names, var)
        if entrez_ids is not None:
            by_entrez = pd.Series(np.arange(len(var_names)), index=pd.Index(entrez_ids))
            by_entrez = by_entrez[by_entrez.index.notna() & ~by_entrez.index.duplicated(keep="first")]
            hit = by_entrez.reindex(sets.loc[retry, "entrez"].to_numpy()).to_numpy(dtype=float)
            rows = sets.index[retry][np.isfinite(hit)]
            hit = hit[np.isfinite(hit)]
            sets.loc[rows, "found"] = True
            sets.loc[rows, "position"] = hit
            sets.loc[rows, "feature"] = [var_names[int(p)] for p in hit]
    return sets.drop(columns="entrez")


def immune_scores(
    mdata: MuData | AnnData,
    *,
    mod: str = RNA,
    methods: Sequence[str] | None = None,
    key_added: str = KEY_IMMUNE,
    layer: str | None = None,
    scale: str = "auto",
    pdl1_threshold: float = PDL1_TPM_THRESHOLD,
    min_fraction: float = 0.5,
    estimate_genes: str = "common",
    copy: bool = False,
) -> MuData | AnnData | None:
    """Single-sample immune scores: ESTIMATE, cytolytic activity, TIS, MCP-counter, Danaher cell types, PD-L1.

    Every score uses only the sample's own values, so adding or removing samples never changes
    another sample's score.

    Parameters
    ----------
    mdata
        MuData (expression in ``mdata.mod[mod]``) or an AnnData (samples × genes).
    mod
        Modality holding mRNA expression (ignored for an AnnData).
    methods
        Subset of ``("estimate", "cyt", "tis", "mcp", "danaher", "pdl1")``; all by default.
    key_added
        Result key: ``obsm[key_added]``, ``uns[key_added]``, ``obs[f"{key_added}_pdl1_status"]``.
    layer
        Layer of the modality to use instead of ``X`` (e.g. ``"counts"``).
    scale
        Expression scale of the input: ``"counts"`` (RNA-seq counts, e.g. RSEM expected counts),
        ``"tpm"`` (TPM, each sample sums to 1e6), ``"log2"`` (log2(TPM + 1) or log2 array intensities)
        or ``"auto"`` (detect per sample: log2 when the largest value is <= 30, TPM when the values
        sum to 1e6 ± 1 %, counts otherwise; all samples must agree). Negative values (gene-centred
        data) are refused. Counts are turned into TPM with ``var["length"]`` (or ``gene_length``,
        ``effective_length``) when present, otherwise into counts per million (CPM).
    pdl1_threshold
        PD-L1 (CD274) expression, in TPM, at or above which a sample is called ``"high"``.
    min_fraction
        Fraction of a score's genes that must be found; fewer gives NaN and a warning.
    estimate_genes
        Genes ranked by ESTIMATE: ``"common"`` (the published method: the 10,391 ESTIMATE common genes,
        old symbols matched through synonyms; needed to reproduce published scores and purity) or
        ``"all"`` (every measured gene; for gene panels that hold few common genes). With ``"common"``
        and fewer than 5,000 common genes found, a warning says the scores are off the published scale.
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None`` (or the modified copy with ``copy=True``). Writes:

    ``obsm[key_added]``
        DataFrame samples × scores (float; NaN for samples absent from ``mod``): ``estimate_stromal``,
        ``estimate_immune``, ``estimate_score``, ``estimate_purity``, ``cyt``, ``tis``, ``mcp_*`` (10
        populations), ``danaher_*`` (14 cell types), ``pdl1`` (log2(TPM + 1) of CD274).
    ``obs[f"{key_added}_pdl1_status"]``
        Categorical ``"high"`` / ``"low"`` PD-L1 call (with ``"pdl1"`` among the methods).
    ``uns[key_added]``
        ``params`` (methods, scale given and detected, TPM source, thresholds), ``genes`` (tidy table:
        score, gene, role, weight, found, feature), ``summary`` (per score: genes wanted/found, status),
        ``estimate`` (common genes used, synonym matches, purity note).

    Raises
    ------
    ScaleError
        Negative, missing or infinite values, samples on different scales, or a declared scale the
        data contradict.
    GeneMappingError
        Ensembl IDs without gene symbols in ``var``, or no score with enough genes.
    """
    methods = _checked_methods(methods, min_fraction, estimate_genes, pdl1_threshold)

    if copy:
        mdata = mdata.copy()
    adata = _get_adata(mdata, mod)
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise GeneMappingError(f"modality {mod!r} is empty ({adata.n_obs} samples × {adata.n_vars} genes)")
    matrix = adata.layers[layer] if layer is not None else adata.X
    if matrix is None:
        raise MissingResultError(f"modality {mod!r} has no expression matrix X; pass layer=")
    obs_names = pd.Index(adata.obs_names.astype(str))
    var_names = pd.Index(adata.var_names.astype(str))

    # ---- gene identifiers
    symbols = _gene_symbols(adata, var_names, mod)

    # ---- values, scale
    values = _dense_columns(matrix, slice(None))
    _check_finite(values, obs_names, var_names)
    detected = _detect_scale(values, obs_names, scale)
    lengths = _gene_lengths(adata.var) if detected == "counts" else None
    tpm_source = _tpm_source(detected, lengths, methods)

    # ---- genes: first feature per symbol, then each method from the registry
    known = symbols.notna().to_numpy()
    first_pos = pd.Series(np.flatnonzero(known), index=pd.Index(symbols.to_numpy()[known]))
    first_pos = first_pos[~first_pos.index.duplicated(keep="first")]
    sets = gene_sets()
    sets = _locate_genes(sets[sets["method"].isin(methods)], first_pos, var_names, adata.var)
    run = _Run(
        expression=_Expression(values, detected, lengths),
        symbols=symbols,
        first_pos=first_pos,
        var_names=var_names,
        sets=sets,
        mod=mod,
        min_fraction=min_fraction,
        estimate_genes=estimate_genes,
        n_obs=len(obs_names),
    )
    for method in methods:
        _METHODS[method](run, run.sets[run.sets["method"] == method])
    for message in run.warnings:
        warnings.warn(message, UserWarning, stacklevel=2)
    results, sets = run.results, run.sets

    summary_df = pd.DataFrame(run.summary)
    if not any(np.isfinite(v).any() for v in results.values()):
        raise GeneMappingError(
            f"no immune score could be computed on modality {mod!r}: too few signature genes found "
            f"({summary_df[['score', 'n_found', 'n_genes']].to_dict('records')}); check the gene IDs "
            "(symbols, SYMBOL|ENTREZ, or Ensembl IDs with var['gene_name'])"
        )

    frame = pd.DataFrame(results, index=obs_names, dtype=float)
    order = [c for c in _column_order() if c in frame.columns]
    frame = frame[order]

    genes_table = sets.drop(columns="position").reset_index(drop=True)
    genes_table["found"] = genes_table["found"].astype(bool)
    genes_table["feature"] = genes_table["feature"].astype(str)
    genes_table = genes_table.astype({"method": str, "score": str, "gene": str, "role": str})
    params = {
        "mod": mod,
        "layer": "" if layer is None else layer,
        "methods": list(methods),
        "scale": scale,
        "scale_detected": detected,
        "tpm_source": tpm_source,
        "pdl1_threshold_tpm": float(pdl1_threshold),
        "cyt_offset_tpm": CYT_OFFSET,
        "min_fraction": float(min_fraction),
        "estimate_genes": estimate_genes,
        "columns": list(frame.columns),
    }
    uns = {"params": params, "genes": genes_table, "summary": summary_df}
    if run.estimate_info:
        uns["estimate"] = run.estimate_info

    _write(mdata, adata, frame, key_added, uns, pdl1_threshold if "pdl1" in methods else None)
    return mdata if copy else None


def _checked_methods(methods, min_fraction: float, estimate_genes: str, pdl1_threshold: float) -> list[str]:
    """Validate the arguments; returns the methods, in order, without repeats (default: all)."""
    methods = list(METHODS) if methods is None else list(dict.fromkeys(methods))
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"unknown immune score method(s) {unknown}; choose from {METHODS}")
    if not 0 < min_fraction <= 1:
        raise ValueError(f"min_fraction must be in (0, 1], got {min_fraction}")
    if estimate_genes not in ("common", "all"):
        raise ValueError(f"estimate_genes must be 'common' or 'all', got {estimate_genes!r}")
    if not np.isfinite(pdl1_threshold) or pdl1_threshold < 0:
        raise ValueError(f"pdl1_threshold must be a non-negative number of TPM, got {pdl1_threshold}")
    return methods


def _gene_symbols(adata: AnnData, var_names: pd.Index, mod: str) -> pd.Series:
    """The gene symbol of each feature (NaN where unknown); mostly Ensembl IDs without symbols raise."""
    symbols = symbols_for(var_names, adata.var)
    symbols.index = var_names
    is_ensembl = np.asarray(var_names.str.match(r"^ENS[A-Z]*G\d{11}"), dtype=bool)
    ensembl_only = is_ensembl & symbols.isna().to_numpy()
    if ensembl_only.mean() > 0.5:
        raise GeneMappingError(
            f"{int(ensembl_only.sum())} of {len(var_names)} features of modality {mod!r} are Ensembl IDs "
            f"(e.g. {var_names[np.flatnonzero(ensembl_only)[0]]!r}) and var has no gene-symbol column "
            "(gene_name, gene_symbol, Hugo_Symbol or symbol); immune gene sets are defined by symbols: "
            "add var['gene_name'] (GDC expression files carry it)"
        )
    return symbols


def _tpm_source(detected: str, lengths, methods: list[str]) -> str:
    """How TPM-based scores get TPM from values of the detected scale."""
    if detected == "log2":
        return "2^x - 1 of log2 input"
    if detected == "tpm":
        return "tpm"
    if lengths is None and any(m in methods for m in ("cyt", "pdl1")):
        logger.info("counts without gene lengths: TPM-based scores (cyt, pdl1) use counts per million instead of TPM")
    return "counts / gene length" if lengths is not None else "cpm"


@lru_cache(maxsize=1)
def _column_order() -> tuple[str, ...]:
    names = ["estimate_stromal", "estimate_immune", "estimate_score", "estimate_purity", "cyt", "tis"]
    table = gene_sets()
    for method in ("mcp", "danaher"):
        names += list(dict.fromkeys(table.loc[table["method"] == method, "score"]))
    return (*names, "pdl1")


def _write(mdata, adata, frame: pd.DataFrame, key: str, uns: dict, pdl1_threshold: float | None) -> None:
    target_names = pd.Index(mdata.obs_names.astype(str))
    full = frame.reindex(target_names)
    full.index = mdata.obs_names
    mdata.obsm[key] = full
    mdata.uns[key] = uns
    if pdl1_threshold is not None and "pdl1" in full.columns:
        cut = float(np.log2(pdl1_threshold + 1.0))
        call = pd.Series(pd.NA, index=full.index, dtype=object)
        finite = full["pdl1"].notna()
        call[finite] = np.where(full.loc[finite, "pdl1"] >= cut, "high", "low")
        mdata.obs[f"{key}_pdl1_status"] = pd.Categorical(call, categories=["low", "high"])


# --------------------------------------------------------------------------------------------- status
def immune_status(
    mdata: MuData | AnnData,
    *,
    key: str = KEY_IMMUNE,
    factors_key: str | None = KEY_MOFA,
    thresholds: Mapping[str, tuple[float, float]] | None = None,
    copy: bool = False,
) -> MuData | AnnData | None:
    """Immune class per sample (hot / intermediate / cold) and the factor <-> immune association table.

    Each score in ``thresholds`` votes per sample: -1 below its low threshold, +1 at or above its
    high threshold, 0 in between. The class follows the mean vote over the scores available
    for the sample: ``hot`` at >= 0.5, ``cold`` at <= -0.5, ``intermediate`` otherwise. The thresholds
    are absolute (no cohort quantiles), so a sample's class never depends on the other samples.

    Parameters
    ----------
    mdata
        MuData (or AnnData) with :func:`immune_scores` results in ``obsm[key]``.
    key
        Key of the immune scores.
    factors_key
        Key of the factor scores (``obsm[factors_key]``, e.g. a MOFA fit). ``None`` computes the classes only.
    thresholds
        ``{score: (low, high)}``; defaults to :data:`DEFAULT_CLASS_THRESHOLDS`
        (ESTIMATE immune score 0 / 1000, cytolytic activity 2 / 10 TPM, TIS -0.9 / -0.5).
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None`` (or the modified copy). Writes:

    ``obs[f"{key}_class"]``
        Categorical ``cold`` / ``intermediate`` / ``hot`` (missing where no score is available).
    ``uns[key]["status"]``
        ``thresholds`` (DataFrame score, low, high), ``vote`` per sample (DataFrame) and, with factors,
        ``associations`` (the :func:`harmonomics.tl.associate` table of every factor against every immune
        score: Spearman rho, p-value, BH FDR), ``factor_summary`` (per factor: mean |rho| and mean rho over
        the core scores estimate_immune, cyt, tis, whose sign tells the factor's direction; best FDR) and
        ``most_immune_factor`` (largest mean |rho|; "" when no factor could be tested).

    Raises
    ------
    MissingResultError
        No immune scores in ``obsm[key]`` or no factors in ``obsm[factors_key]``.
    """
    if key not in mdata.obsm or not isinstance(mdata.obsm[key], pd.DataFrame):
        raise MissingResultError(
            f"immune_status needs immune scores in obsm[{key!r}] (a DataFrame); "
            f"run hm.tl.immune_scores(mdata, key_added={key!r}) first"
        )
    if factors_key is not None and factors_key not in mdata.obsm:
        raise MissingResultError(
            f"immune_status needs factor scores in obsm[{factors_key!r}]; run hm.tl.mofa first, "
            "or pass factors_key=None for the immune classes only"
        )
    thresholds = dict(DEFAULT_CLASS_THRESHOLDS if thresholds is None else thresholds)
    scores: pd.DataFrame = mdata.obsm[key]
    usable = {name: cut for name, cut in thresholds.items() if name in scores.columns}
    ignored = [name for name in thresholds if name not in usable]
    if ignored and usable:
        logger.info("immune_status: scores %s are not in obsm[%r]; classes use %s", ignored, key, list(usable))
    bad = [name for name, (low, high) in thresholds.items() if not low <= high]
    if bad:
        raise ValueError(f"thresholds must be (low, high) with low <= high; not so for {bad}")
    if not usable:
        raise MissingResultError(
            f"none of the classification scores {list(thresholds)} are in obsm[{key!r}] "
            f"(columns {list(scores.columns)})"
        )
    if copy:
        mdata = mdata.copy()
        scores = mdata.obsm[key]

    votes = pd.DataFrame(index=scores.index)
    for name, (low, high) in usable.items():
        value = scores[name].to_numpy(dtype=float)
        vote = np.where(value >= high, 1.0, np.where(value < low, -1.0, 0.0))
        votes[name] = np.where(np.isfinite(value), vote, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        mean_vote = np.nanmean(votes.to_numpy(), axis=1) if votes.shape[1] else np.full(len(votes), np.nan)
    label = np.where(mean_vote >= 0.5, "hot", np.where(mean_vote <= -0.5, "cold", "intermediate")).astype(object)
    label[~np.isfinite(mean_vote)] = None
    votes["mean_vote"] = mean_vote
    mdata.obs[f"{key}_class"] = pd.Categorical(label, categories=["cold", "intermediate", "hot"])

    status: dict[str, Any] = {
        "thresholds": pd.DataFrame(
            [{"score": s, "low": float(lo), "high": float(hi)} for s, (lo, hi) in usable.items()]
        ),
        "rule": "vote -1 below low, +1 at or above high, 0 between; hot if mean vote >= 0.5, cold if <= -0.5",
        "vote": votes,
    }
    if factors_key is not None:
        table = _factor_associations(mdata, key=key, factors_key=factors_key)
        status["associations"] = _storable(table)
        summary, best = _most_immune_factor(table)
        status["factor_summary"] = summary
        status["most_immune_factor"] = best
        logger.info("most immune-related factor: %s", best)
    uns = mdata.uns.get(key)
    if not isinstance(uns, dict):
        uns = {}
    uns = dict(uns)
    uns["status"] = status
    mdata.uns[key] = uns
    return mdata if copy else None


def _factor_associations(mdata, *, key: str, factors_key: str) -> pd.DataFrame:
    """Spearman rho and BH FDR of every factor against every immune score, via hm.tl.associate."""
    from ._associations import associate

    columns = [c for c in mdata.obsm[key].columns if pd.api.types.is_numeric_dtype(mdata.obsm[key][c])]
    covariates = [f"{key}:{c}" for c in columns]
    table = associate(mdata, key=factors_key, covariates=covariates)
    return table


def _storable(table: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text columns hold only strings (None -> ""), as h5ad/h5mu writers need."""
    table = table.copy()
    for column in table.columns:
        if table[column].dtype == object or pd.api.types.is_string_dtype(table[column]):
            table[column] = [
                "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in table[column]
            ]
    return table


def _most_immune_factor(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    numeric = table[table["kind"] == "numeric"].copy()
    numeric["score"] = numeric["covariate"].astype(str).str.split(":").str[-1]
    core = numeric[numeric["score"].isin(CORE_SCORES)]
    if core.empty:
        core = numeric
    summary = (
        core.assign(abs_rho=core["rho"].abs())
        .groupby("factor", sort=False)
        .agg(
            mean_abs_rho=("abs_rho", "mean"),
            mean_rho=("rho", "mean"),
            min_fdr=("fdr", "min"),
            n_scores=("abs_rho", "size"),
        )
        .reset_index()
        .sort_values(["mean_abs_rho", "min_fdr"], ascending=[False, True], kind="stable")
        .reset_index(drop=True)
    )
    best = str(summary["factor"].iloc[0]) if len(summary) and np.isfinite(summary["mean_abs_rho"].iloc[0]) else ""
    return summary, best
