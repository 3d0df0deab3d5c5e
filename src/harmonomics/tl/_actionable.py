"""Actionable alterations: biomarkers with a therapy in public labels or guidelines, per sample. For research only.

Each biomarker family is one small rule (:data:`RULES`): it reads the store (the long MAF, copy number,
expression, TMB) and returns the samples' alterations as a tidy table; :func:`actionable` joins them with the
therapy table shipped in ``harmonomics/data/precision/biomarkers.tsv`` (one citation per row; see
:func:`therapy_table`). Nothing here is a treatment recommendation: labels apply to given indications, lines of
therapy and companion diagnostics that research data do not establish (docs/precision.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys, data
from .._errors import FormatError, MissingResultError
from .._mutations import protein_changes

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData
    from mudata import MuData

logger = logging.getLogger(__name__)

COLUMNS = _keys.ACTIONABLE_COLUMNS
"""Columns of the table :func:`actionable` returns (docs/precision.md)."""
ALTERATION_TYPES = ("mutation", "amplification", "deletion", "high_expression", "tmb_high")
EVIDENCE_LEVELS = ("approved_breast", "guideline", "investigational")
THERAPY_COLUMNS = (
    "biomarker",
    "gene",
    "alteration_rule",
    "therapy_class",
    "example_agents",
    "evidence_level",
    "source",
)
RESEARCH_ONLY = "For research only; not for treatment decisions."

#: Truncating variant classes (BRCA1/2, PTEN): stop-gain, frame shift, splice site.
TRUNCATING = ("Nonsense_Mutation", "Frame_Shift_Del", "Frame_Shift_Ins", "Splice_Site")
#: The 11 PIK3CA mutations of the therascreen PIK3CA companion diagnostic of alpelisib (FDA 2019; SOLAR-1):
#: exon 7 C420R; exon 9 E542K, E545A/D/G/K, Q546E/R; exon 20 H1047L/R/Y.
PIK3CA_HOTSPOTS = (
    "C420R",
    "E542K",
    "E545A",
    "E545D",
    "E545G",
    "E545K",
    "Q546E",
    "Q546R",
    "H1047L",
    "H1047R",
    "H1047Y",
)
#: ERBB2 activating hotspots in HER2-non-amplified breast cancer (Bose et al., Cancer Discov 2013; SUMMIT, Hyman
#: et al., Nature 2018); exon 20 in-frame insertions count too.
ERBB2_ACTIVATING = ("S310F", "S310Y", "L755S", "V777L", "D769H", "D769Y", "V842I", "L869R")
#: ESR1 ligand-binding domain: missense in codons 310-547 (the ESR1 region of elacestrant's companion diagnostic,
#: EMERALD; recurrent E380Q, S463P, L536H/P/R, Y537C/N/S, D538G: Toy et al. and Robinson et al., Nat Genet 2013).
ESR1_LBD_CODONS = (310, 547)
#: log2(CN/2) at or above which a gene is amplified without GISTIC calls: a doubling of the diploid copy number,
#: the ERBB2:CEP17 ratio >= 2.0 of the ASCO/CAP HER2 guideline (Wolff et al., J Clin Oncol 2018).
AMPLIFICATION_LOG2 = 1.0
#: log2(CN/2) at or below which a gene is deeply (homozygously) deleted without GISTIC calls: CNVkit's default
#: threshold for 0 copies (``cnvkit.py call -m threshold``, -1.1).
DEEP_DELETION_LOG2 = -1.1
#: Cohort z-score of log expression at or above which a gene is "high" (about the top 2.3% of a normal
#: distribution); needs :data:`MIN_COHORT` samples with a value.
HIGH_EXPRESSION_Z = 2.0
MIN_COHORT = 10


# ---------------------------------------------------------------------------------------------------------------
# the therapy table
# ---------------------------------------------------------------------------------------------------------------
def therapy_table(path=None) -> pd.DataFrame:
    """The biomarker → therapy table (``harmonomics/data/precision/biomarkers.tsv``; for research only).

    Columns ``biomarker, gene, alteration_rule, therapy_class, example_agents, evidence_level`` (approved_breast /
    guideline / investigational) and ``source`` (label, trial or guideline, with year). Lines starting with ``#``
    are comments (the research-only statement).

    Parameters
    ----------
    path
        Another table in the same layout (default: the shipped one).

    Returns
    -------
    DataFrame with the columns above, one row per biomarker and therapy.

    Raises
    ------
    FormatError
        A column is missing, a row has no source or an unknown evidence level (file and line named).
    """
    path = data.path("precision", "biomarkers.tsv") if path is None else path
    table = pd.read_csv(path, sep="\t", comment="#", dtype=str, keep_default_na=False)
    missing = [c for c in THERAPY_COLUMNS if c not in table.columns]
    if missing:
        raise FormatError(f"the therapy table lacks columns {missing}; expected {list(THERAPY_COLUMNS)}", path=path)
    with open(path, encoding="utf-8") as handle:
        n_comments = sum(1 for line in handle if line.startswith("#"))
    for k, row in table.iterrows():
        line = n_comments + 2 + int(k)  # comments, header, then 1-based rows
        if row["evidence_level"] not in EVIDENCE_LEVELS:
            raise FormatError(
                f"evidence level {row['evidence_level']!r}; expected one of {list(EVIDENCE_LEVELS)}",
                path=path,
                line=line,
                column="evidence_level",
            )
        if not row["source"].strip():
            raise FormatError("empty source: every row needs a citation", path=path, line=line, column="source")
    return table[list(THERAPY_COLUMNS)]


# ---------------------------------------------------------------------------------------------------------------
# what the rules read
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class _Cohort:
    """The store's evidence, read once: the long MAF (with normalised protein changes), copy number, expression."""

    mdata: MuData
    maf: pd.DataFrame | None = None
    _burden: tuple[pd.Series, float] | None = None

    def mutations(self, gene: str, classes=None) -> pd.DataFrame:
        rows = self.maf[self.maf["gene"] == gene]
        return rows if classes is None else rows[rows["Variant_Classification"].isin(classes)]

    def copy_number(self, gene: str) -> tuple[pd.Series, pd.Series] | None:
        """(GISTIC call, log2(CN/2)) of a gene per cnv sample; either all-NaN where the store lacks it."""
        cnv = self.mdata.mod.get(_keys.CNV)
        if cnv is None:
            return None
        column = _gene_index(cnv, gene)
        if column is None:
            return None
        scale = cnv.uns.get("scale")
        main = _column(cnv.X, column, cnv.obs_names)
        nan = pd.Series(np.nan, index=cnv.obs_names)
        gistic = _column(cnv.layers["gistic"], column, cnv.obs_names) if "gistic" in cnv.layers else nan
        if scale == "gistic":
            gistic, main = main, (_column(cnv.layers["log2"], column, cnv.obs_names) if "log2" in cnv.layers else nan)
        elif scale == "copy_number":  # absolute copies → log2(CN/2)
            main = np.log2(main.where(main > 0) / 2.0)
        return gistic, main

    def expression_z(self, gene: str) -> pd.Series | None:
        """Cohort z-score of a gene's log expression (rna), or None without rna, the gene, or enough samples."""
        rna = self.mdata.mod.get(_keys.RNA)
        if rna is None or (column := _gene_index(rna, gene)) is None:
            return None
        values = _column(rna.X, column, rna.obs_names)
        scale = rna.uns.get("scale")
        if scale == "counts":  # log2(CPM + 1): library sizes from every gene
            totals = np.asarray(rna.X.sum(axis=1)).ravel()
            values = np.log2(values / np.where(totals > 0, totals, np.nan) * 1e6 + 1.0)
        elif scale == "linear":
            values = np.log2(values.clip(lower=0) + 1.0)
        values = values[np.isfinite(values)]
        if len(values) < MIN_COHORT or values.std(ddof=1) == 0:
            return None
        return (values - values.mean()) / values.std(ddof=1)

    # -- which samples a rule could have found its alteration in (the denominators of hm.tl.actionable_by_group)
    def sequenced_for(self, gene: str) -> pd.Index:
        """Samples of mut whose sequencing covered ``gene``: all but those on a defined gene panel without it."""
        mut = self.mdata.mod.get(_keys.MUT)
        if mut is None or self.maf is None:
            return pd.Index([], dtype=object)
        samples = pd.Index(mut.obs_names.astype(str))
        tables = self.mdata.uns.get(_keys.UNS_GENE_PANELS)
        genes = tables.get("genes") if isinstance(tables, Mapping) else None
        if _keys.OBS_GENE_PANEL not in mut.obs or not isinstance(genes, pd.DataFrame) or genes.empty:
            return samples
        panel = mut.obs[_keys.OBS_GENE_PANEL].astype(object).to_numpy()
        defined = set(genes["panel"].astype(str))
        with_gene = set(genes.loc[genes["gene"].astype(str) == gene, "panel"].astype(str))
        untested = np.array([pd.notna(p) and str(p) in defined and str(p) not in with_gene for p in panel], dtype=bool)
        return samples[~untested]

    def assessed(self, need: str, gene: str) -> pd.Index:
        """Samples with the input ``need`` (mut, cnv, rna, tmb) for ``gene``."""
        if need == "mut":
            return self.sequenced_for(gene)
        if need == "cnv":
            calls = self.copy_number(gene)
            return pd.Index([]) if calls is None else calls[0].index[(calls[0].notna() | calls[1].notna()).to_numpy()]
        if need == "rna":
            status = f"{_keys.KEY_IMMUNE}_pdl1_status"
            if gene == "CD274" and status in self.mdata.obs:
                return self.mdata.obs_names[self.mdata.obs[status].notna().to_numpy()]
            z = self.expression_z(gene)
            return pd.Index([]) if z is None else z.index
        burden, _ = self.burden()  # tmb
        return burden.index[burden.notna().to_numpy()]

    def burden(self) -> tuple[pd.Series, float]:
        """TMB per sample and the TMB-high threshold: the store's ``obs["tmb"]``, else computed once on a store of
        the mutations alone (copying the whole store would cost more than the TMB)."""
        if self._burden is None:
            import mudata as md

            from ._tmb import TMB_HIGH, tmb

            obs = self.mdata.obs
            if _keys.KEY_TMB in obs:
                threshold = float(self.mdata.uns.get(_keys.KEY_TMB, {}).get("threshold", TMB_HIGH))
                self._burden = (obs[_keys.KEY_TMB].astype(float), threshold)
            else:
                alone = md.MuData({_keys.MUT: self.mdata.mod[_keys.MUT].copy()})
                for key in (_keys.UNS_GENE_PANELS, _keys.UNS_REPORT):
                    if key in self.mdata.uns:
                        alone.uns[key] = self.mdata.uns[key]
                tmb(alone)
                burden = alone.obs[_keys.KEY_TMB].astype(float).reindex(self.mdata.obs_names)
                self._burden = (burden, TMB_HIGH)
        return self._burden


def _gene_index(adata: AnnData, gene: str) -> int | None:
    """Position of a gene symbol among var_names, or else in var ``symbol`` / ``gene_name``."""
    candidates = [adata.var_names.to_numpy()]
    candidates += [
        adata.var[c].astype(str).to_numpy() for c in ("symbol", "gene_name", "hugo_symbol") if c in adata.var
    ]
    for names in candidates:
        hits = np.flatnonzero(names == gene)
        if len(hits):
            return int(hits[0])
    return None


def _column(matrix, j: int, index: pd.Index) -> pd.Series:
    values = matrix[:, j]
    values = values.toarray() if hasattr(values, "toarray") else np.asarray(values)
    return pd.Series(values.ravel().astype(float), index=index)


def _read_maf(mdata) -> pd.DataFrame | None:
    if _keys.MUT not in mdata.mod:
        return None
    from ._tmb import maf_table

    maf, sample_column = maf_table(mdata, _keys.MUT)
    table = pd.DataFrame(
        {
            "sample": maf[sample_column].astype(str).to_numpy(),
            "gene": maf["Hugo_Symbol"].astype(str).to_numpy() if "Hugo_Symbol" in maf else "",
            "Variant_Classification": maf["Variant_Classification"].astype(str).to_numpy(),
            "change": protein_changes(maf).to_numpy(),
        }
    )
    return table


# ---------------------------------------------------------------------------------------------------------------
# the rules: one small function per biomarker family
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """A biomarker family: its therapy-table key, the inputs it needs and the function that finds it."""

    biomarker: str
    needs: tuple[str, ...]
    find: Callable[[_Cohort], pd.DataFrame]
    description: str
    genes: tuple[str, ...] = ()  # what a sample must have been assessed for (every one of them)


RULES: dict[str, Rule] = {}


def _rule(name: str, biomarker: str, needs: tuple[str, ...], description: str, genes: tuple[str, ...] = ()):
    def register(function: Callable[[_Cohort], pd.DataFrame]):
        RULES[name] = Rule(biomarker, needs, function, description, genes)
        return function

    return register


def _rows(samples, gene: str, alterations, kind: str, evidence) -> pd.DataFrame:
    frame = pd.DataFrame({"sample": list(samples), "alteration": list(alterations), "evidence": list(evidence)})
    frame.insert(1, "gene", gene)
    frame.insert(3, "alteration_type", kind)
    return frame


def _mutation_rows(found: pd.DataFrame, gene: str) -> pd.DataFrame:
    """One row per MAF line: ``p.H1047R`` where the MAF gives a protein change, else the class and what it says."""
    classes = found["Variant_Classification"].astype(str).to_numpy()
    alterations, evidence = [], []
    for vc, change in zip(classes, found["change"].astype(object), strict=True):
        written = change if isinstance(change, str) else ""
        protein = bool(_PROTEIN.match(written))
        alterations.append(f"p.{written}" if protein else f"{vc} {written}".strip())
        evidence.append(f"MAF: {vc} p.{written}" if protein else f"MAF: {vc} {written}".strip())
    return _rows(found["sample"], gene, alterations, "mutation", evidence)


_PROTEIN = re.compile(r"^[A-Z*]\d")


def _codon(change: pd.Series) -> pd.Series:
    return pd.to_numeric(change.astype("string").str.extract(r"^[A-Z*](\d+)", expand=False), errors="coerce")


@_rule("erbb2_amplification", "HER2_positive", ("cnv",), "ERBB2 GISTIC 2, else log2(CN/2) >= 1.0", ("ERBB2",))
def _erbb2_amplification(cohort: _Cohort) -> pd.DataFrame:
    return _amplified(cohort, "ERBB2")


def _amplified(cohort: _Cohort, gene: str) -> pd.DataFrame:
    calls = cohort.copy_number(gene)
    if calls is None:
        return _rows([], gene, [], "amplification", [])
    gistic, log2 = calls
    by_gistic = gistic == 2
    by_log2 = gistic.isna() & (log2 >= AMPLIFICATION_LOG2)
    evidence = [
        "cnv GISTIC 2" if g else f"cnv log2(CN/2)={v:.2f} >= {AMPLIFICATION_LOG2}"
        for g, v in zip(by_gistic[by_gistic | by_log2], log2[by_gistic | by_log2], strict=True)
    ]
    samples = gistic.index[(by_gistic | by_log2).to_numpy()]
    return _rows(samples, gene, ["amplification"] * len(samples), "amplification", evidence)


@_rule(
    "erbb2_high_expression",
    "HER2_positive",
    ("rna",),
    f"ERBB2 cohort z >= {HIGH_EXPRESSION_Z} where the sample has no ERBB2 copy number",
    ("ERBB2",),
)
def _erbb2_high_expression(cohort: _Cohort) -> pd.DataFrame:
    calls = cohort.copy_number("ERBB2")
    has_cn = set() if calls is None else set(calls[0].index[(calls[0].notna() | calls[1].notna()).to_numpy()])
    frame = _high_expression(cohort, "ERBB2")
    return frame[~frame["sample"].isin(has_cn)]


def _high_expression(cohort: _Cohort, gene: str) -> pd.DataFrame:
    z = cohort.expression_z(gene)
    if z is None:
        return _rows([], gene, [], "high_expression", [])
    high = z[z >= HIGH_EXPRESSION_Z]
    rank = z.rank(ascending=False, method="min")
    evidence = [
        f"rna z={value:.1f} (cohort top {100 * rank[s] / len(z):.0f}%, n={len(z)})" for s, value in high.items()
    ]
    return _rows(high.index, gene, ["high expression"] * len(high), "high_expression", evidence)


@_rule(
    "erbb2_activating_mutation",
    "ERBB2_activating_mutation",
    ("mut",),
    "ERBB2 activating hotspots, exon 20 ins",
    ("ERBB2",),
)
def _erbb2_mutation(cohort: _Cohort) -> pd.DataFrame:
    found = cohort.mutations("ERBB2")
    change = found["change"].astype("string")
    hotspot = change.isin(ERBB2_ACTIVATING).fillna(False).to_numpy(dtype=bool)
    codon = _codon(found["change"])
    exon20_ins = (found["Variant_Classification"] == "In_Frame_Ins") & codon.between(769, 781).to_numpy()
    return _mutation_rows(found[hotspot | exon20_ins.to_numpy(dtype=bool)], "ERBB2")


@_rule(
    "brca_truncating",
    "BRCA_truncating",
    ("mut",),
    "BRCA1/BRCA2 Nonsense, Frame_Shift_Del/Ins, Splice_Site",
    ("BRCA1", "BRCA2"),
)
def _brca_truncating(cohort: _Cohort) -> pd.DataFrame:
    return pd.concat([_mutation_rows(cohort.mutations(g, TRUNCATING), g) for g in ("BRCA1", "BRCA2")])


@_rule("pik3ca_hotspot", "PIK3CA_hotspot", ("mut",), "PIK3CA therascreen hotspots (exons 7, 9, 20)", ("PIK3CA",))
def _pik3ca_hotspot(cohort: _Cohort) -> pd.DataFrame:
    found = cohort.mutations("PIK3CA", ("Missense_Mutation",))
    return _mutation_rows(found[found["change"].isin(PIK3CA_HOTSPOTS).fillna(False).to_numpy(bool)], "PIK3CA")


@_rule("akt1_e17k", "AKT1_E17K", ("mut",), "AKT1 p.E17K", ("AKT1",))
def _akt1_e17k(cohort: _Cohort) -> pd.DataFrame:
    found = cohort.mutations("AKT1", ("Missense_Mutation",))
    return _mutation_rows(found[(found["change"] == "E17K").fillna(False).to_numpy(bool)], "AKT1")


@_rule("pten_truncating", "PTEN_loss", ("mut",), "PTEN Nonsense, Frame_Shift_Del/Ins, Splice_Site", ("PTEN",))
def _pten_truncating(cohort: _Cohort) -> pd.DataFrame:
    return _mutation_rows(cohort.mutations("PTEN", TRUNCATING), "PTEN")


@_rule(
    "pten_deep_deletion", "PTEN_loss", ("cnv",), f"PTEN GISTIC -2, else log2(CN/2) <= {DEEP_DELETION_LOG2}", ("PTEN",)
)
def _pten_deletion(cohort: _Cohort) -> pd.DataFrame:
    calls = cohort.copy_number("PTEN")
    if calls is None:
        return _rows([], "PTEN", [], "deletion", [])
    gistic, log2 = calls
    by_gistic = gistic == -2
    hit = by_gistic | (gistic.isna() & (log2 <= DEEP_DELETION_LOG2))
    evidence = [
        "cnv GISTIC -2" if g else f"cnv log2(CN/2)={v:.2f} <= {DEEP_DELETION_LOG2}"
        for g, v in zip(by_gistic[hit], log2[hit], strict=True)
    ]
    return _rows(gistic.index[hit.to_numpy()], "PTEN", ["deep deletion"] * int(hit.sum()), "deletion", evidence)


@_rule("esr1_lbd", "ESR1_LBD_mutation", ("mut",), "ESR1 missense in codons 310-547 (ligand-binding domain)", ("ESR1",))
def _esr1_lbd(cohort: _Cohort) -> pd.DataFrame:
    found = cohort.mutations("ESR1", ("Missense_Mutation",))
    in_lbd = _codon(found["change"]).between(*ESR1_LBD_CODONS).to_numpy(dtype=bool)
    return _mutation_rows(found[in_lbd], "ESR1")


@_rule(
    "pdl1_high",
    "PDL1_high",
    ("rna",),
    f"obs['immune_pdl1_status'] high, else CD274 cohort z >= {HIGH_EXPRESSION_Z}",
    ("CD274",),
)
def _pdl1_high(cohort: _Cohort) -> pd.DataFrame:
    status = f"{_keys.KEY_IMMUNE}_pdl1_status"
    if status in cohort.mdata.obs:
        high = cohort.mdata.obs.index[(cohort.mdata.obs[status] == "high").to_numpy(dtype=bool)]
        evidence = [f"CD274 TPM >= threshold of hm.tl.immune_status (obs[{status!r}] high)"] * len(high)
        return _rows(high, "CD274", ["high expression"] * len(high), "high_expression", evidence)
    return _high_expression(cohort, "CD274")


@_rule("tmb_high", "TMB_high", ("tmb",), "obs['tmb'] >= 10 mut/Mb (computed by hm.tl.tmb when absent)")
def _tmb_high(cohort: _Cohort) -> pd.DataFrame:

    burden, threshold = cohort.burden()
    high = burden[burden >= threshold]
    evidence = [f"TMB {v:.1f} mut/Mb >= {threshold:g}" for v in high]
    return _rows(high.index, "", [f"TMB {v:.1f} mut/Mb" for v in high], "tmb_high", evidence)


# ---------------------------------------------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------------------------------------------
def _available(mdata, maf: pd.DataFrame | None) -> dict[str, str | None]:
    """For each input a rule may need: None when present, else why it is absent."""
    return {
        "mut": None if maf is not None else f"no {_keys.MUT!r} modality (read a MAF: hm.io.read_maf/read_gdc)",
        "cnv": None if _keys.CNV in mdata.mod else f"no {_keys.CNV!r} modality",
        "rna": None if _keys.RNA in mdata.mod else f"no {_keys.RNA!r} modality",
        "tmb": None
        if (_keys.KEY_TMB in mdata.obs or maf is not None)
        else f"no obs[{_keys.KEY_TMB!r}] and no MAF to compute it",
    }


def actionable(mdata: MuData, *, key_added: str = _keys.KEY_ACTIONABLE, copy: bool = False) -> pd.DataFrame:
    """Actionable alterations per sample, joined with the therapy table. **For research only.**

    Runs every rule of :data:`RULES` whose inputs the store has (a rule without its input is listed as skipped in
    ``uns[f"{key_added}_rules"]``, never silently):

    - ``erbb2_amplification``: ERBB2 GISTIC 2 (``cnv.layers["gistic"]`` or a GISTIC ``X``), else log2(CN/2) ≥ 1.0
      (a doubling of the diploid copy number; ASCO/CAP HER2 ratio ≥ 2.0);
    - ``erbb2_high_expression``: ERBB2 cohort z ≥ 2 of log expression, for samples without ERBB2 copy number;
    - ``erbb2_activating_mutation``: S310F/Y, L755S, V777L, D769H/Y, V842I, L869R, exon 20 in-frame insertions;
    - ``brca_truncating``: BRCA1/BRCA2 Nonsense, Frame_Shift_Del/Ins, Splice_Site (a somatic MAF cannot tell
      the germline status the PARP-inhibitor labels need);
    - ``pik3ca_hotspot``: the 11 therascreen mutations C420R, E542K, E545A/D/G/K, Q546E/R, H1047L/R/Y;
    - ``akt1_e17k``; ``pten_truncating``; ``pten_deep_deletion`` (GISTIC −2, else log2(CN/2) ≤ −1.1);
    - ``esr1_lbd``: ESR1 missense in codons 310–547;
    - ``pdl1_high``: ``obs["immune_pdl1_status"] == "high"`` (:func:`immune_status`) when present, else CD274
      cohort z ≥ 2;
    - ``tmb_high``: ``obs["tmb"]`` ≥ the threshold of ``uns["tmb"]`` (10 mut/Mb), computed when absent.

    Protein changes are compared in one-letter form (``p.His1047Arg`` and ``p.H1047R`` are both ``H1047R``).

    Parameters
    ----------
    mdata
        The store.
    key_added
        Where the table goes in ``uns``.
    copy
        Write into a copy (the table is returned either way).

    Returns
    -------
    DataFrame with columns ``sample, gene, alteration, alteration_type, evidence, biomarker, therapy_class,
    evidence_level, source``: one row per sample, alteration and therapy-table row. Also stored in
    ``uns[key_added]``; ``obs["n_actionable"]`` (int) counts each sample's distinct actionable alterations;
    ``uns[f"{key_added}_rules"]`` lists every rule with its status (``applied`` / ``skipped: <why>``) and the
    number of samples it found. ``obsm[f"{key_added}_assessed"]`` (samples × biomarkers, bool) says which
    samples were assessed for each biomarker: those with the rule's input for its genes — mutation data whose
    sequencing covered the gene (a sample on a gene panel without it was not tested), copy number or expression
    of the gene, a TMB — by any rule of the biomarker. These are the denominators of
    :func:`actionable_by_group`.

    Raises
    ------
    MissingResultError
        The store has none of mut (with its MAF), cnv and rna; or a ``mut`` modality without ``uns["maf"]``.
    """
    from ..store import store_to_modify

    target = store_to_modify(mdata, copy)
    if not any(m in target.mod for m in (_keys.MUT, _keys.CNV, _keys.RNA)):
        raise MissingResultError(
            f"actionable alterations need mutations (mod {_keys.MUT!r} with uns['maf']), copy number "
            f"({_keys.CNV!r}) or expression ({_keys.RNA!r}); the store has {list(target.mod)}"
        )
    maf = _read_maf(target)  # raises when mut exists without its MAF
    cohort = _Cohort(target, maf)
    available = _available(target, maf)
    found, status = [], []
    assessed = _Assessed(target.obs_names.astype(str))
    for name, rule in RULES.items():
        missing = [available[n] for n in rule.needs if available[n] is not None]
        if missing:
            status.append({"rule": name, "biomarker": rule.biomarker, "status": f"skipped: {missing[0]}"})
            logger.info("actionable: rule %s skipped (%s)", name, missing[0])
            continue
        rows = rule.find(cohort).assign(biomarker=rule.biomarker)
        assessed = assessed.union(_assessed_by(cohort, rule).assign(biomarker=rule.biomarker))
        found.append(rows)
        status.append({"rule": name, "biomarker": rule.biomarker, "status": "applied"})
        status[-1]["n_samples"] = int(rows["sample"].nunique())
    alterations = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=list(COLUMNS[:6]))
    alterations = alterations.drop_duplicates(["sample", "gene", "alteration", "biomarker"])
    table = _join_therapies(alterations)
    target.uns[key_added] = table
    rules = pd.DataFrame(status)
    rules["n_samples"] = rules.get("n_samples", pd.Series(dtype=float)).fillna(0).astype(int)
    rules["description"] = [RULES[r].description for r in rules["rule"]]
    target.uns[f"{key_added}_rules"] = rules
    target.obsm[f"{key_added}_assessed"] = assessed.frame(sorted({r.biomarker for r in RULES.values()}))
    per_sample = alterations.drop_duplicates(["sample", "gene", "alteration"])["sample"].value_counts()
    target.obs["n_actionable"] = per_sample.reindex(target.obs_names.astype(str), fill_value=0).to_numpy(dtype=int)
    logger.info(
        "actionable: %d alterations in %d samples (%s)",
        len(alterations),
        alterations["sample"].nunique(),
        RESEARCH_ONLY,
    )
    return table


def _assessed_by(cohort: _Cohort, rule: Rule) -> pd.DataFrame:
    """The samples a rule assessed: those with its input for every one of its genes (``sample`` column)."""
    samples = None
    for need in rule.needs:
        for gene in rule.genes or ("",):
            have = cohort.assessed(need, gene)
            samples = have if samples is None else samples.intersection(have)
    return pd.DataFrame({"sample": (samples if samples is not None else pd.Index([])).astype(str)})


@dataclass
class _Assessed:
    """Which samples were assessed for each biomarker: a sample counts when any rule of the biomarker assessed it."""

    samples: pd.Index
    pairs: set[tuple[str, str]] = field(default_factory=set)

    def union(self, frame: pd.DataFrame) -> _Assessed:
        self.pairs |= set(zip(frame["sample"].astype(str), frame["biomarker"].astype(str), strict=True))
        return self

    def frame(self, biomarkers: list[str]) -> pd.DataFrame:
        out = pd.DataFrame(False, index=self.samples, columns=biomarkers)
        for sample, biomarker in self.pairs:
            if sample in out.index:
                out.at[sample, biomarker] = True
        return out


def _join_therapies(alterations: pd.DataFrame) -> pd.DataFrame:
    therapies = therapy_table()[["biomarker", "gene", "therapy_class", "evidence_level", "source"]]
    joined = alterations.merge(therapies, on="biomarker", how="inner", suffixes=("", "_table"))
    # a row of the table naming a gene (BRCA1 or BRCA2) applies to that gene's alterations only
    joined = joined[(joined["gene_table"] == "") | (joined["gene_table"] == joined["gene"])]
    joined = joined.drop_duplicates(["sample", "gene", "alteration", "biomarker", "therapy_class", "source"])
    table = joined[list(COLUMNS)].astype(str)
    return table.sort_values(["sample", "gene", "alteration", "therapy_class"], kind="stable").reset_index(drop=True)
