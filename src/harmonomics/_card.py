"""The one-patient card, and ``hm.report``, which writes either it or the cohort report.

``hm.report(mdata, "card.html", patient="TCGA-A1-A0SK")`` writes a self-contained HTML page about one sample, in
the cohort report's style (same style sheet, no script, nothing loaded from anywhere): its identifiers and omics,
PAM50 subtype and risk of recurrence, receptor calls beside the clinical status, immune status and PD-L1, tumour
mutational burden, the actionable alterations found for it and its nearest patients in factor space. Every part
reads results already in the store; a part whose results are absent says "not computed — run hm.tl.X(mdata)".
Without ``patient`` it writes the cohort report (:mod:`harmonomics._report`).

This module sits above :mod:`harmonomics._report` (it uses the report's page toolkit), which is why ``hm.report``
itself lives here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import _keys
from ._compat import uses_mudata
from ._errors import InsufficientDataError, MissingResultError
from ._lookup import resolve_sample
from ._report import (
    escape,
    format_value,
    html_code,
    html_note,
    html_table,
    render_page,
    store_argument,
)
from ._report import report as cohort_report

logger = logging.getLogger(__name__)

__all__ = ["report", "patient_card"]

RESEARCH_ONLY = "For research, not for treatment decisions."
#: Receptor calls of hm.tl.receptor_status (contract B) and the clinical status columns shown beside them.
RECEPTORS = (
    ("ER", "er_call", "er_score", "er_status"),
    ("PR", "pr_call", "pr_score", "pr_status"),
    ("HER2", "her2_call", "her2_score", "her2_status"),
)
#: Immune scores shown on the card (columns of obsm["immune"] from hm.tl.immune_scores), with their meaning.
IMMUNE_SCORES = {
    "pdl1": "PD-L1 (CD274) expression, log2(TPM + 1)",
    "cyt": "cytolytic activity (GZMA, PRF1)",
    "tis": "tumour inflammation signature",
    "estimate_immune": "ESTIMATE immune score",
    "estimate_purity": "ESTIMATE tumour purity",
}
ACTIONABLE_KEY = _keys.KEY_ACTIONABLE
TMB_KEY = _keys.KEY_TMB
ACTIONABLE_SHOWN = tuple(c for c in _keys.ACTIONABLE_COLUMNS if c != "sample")
EVIDENCE_LEVELS = {
    "approved_breast": "a therapy approved for breast cancer with this biomarker",
    "guideline": "recommended by a clinical guideline",
    "investigational": "in clinical trials",
}


@uses_mudata
def report(
    mdata: Any,
    path: str | os.PathLike,
    *,
    patient: str | None = None,
    key: str = _keys.KEY_MOFA,
    exports: str | os.PathLike | Sequence[str | os.PathLike] | Mapping[str, str | os.PathLike] | None = None,
    title: str | None = None,
    n_neighbours: int = 5,
    metric: str = "euclidean",
) -> Path:
    """Write a self-contained HTML report of a store, or with ``patient`` the card of one patient.

    Parameters
    ----------
    mdata
        The store: a MuData in the harmonomics layout, or the path of a store file. It is not modified.
    path
        The HTML file to write (atomically; parent folders are created). An existing folder receives
        ``harmonomics_report.html`` (``harmonomics_card_<sample>.html`` for a card).
    patient
        A sample ID or a TCGA barcode (a 12-character patient barcode means that patient's sample, its primary
        tumour when it has several): write that patient's card instead of the cohort report.
    key
        Result key of the factor model (``obsm[key]``; the card's nearest patients are computed in it).
    exports
        Cohort report only: exported files to link to (see :func:`harmonomics._report.report`).
    title
        Page title (default: "harmonomics report — <n> samples", or "Patient card — <sample>").
    n_neighbours, metric
        Card only: how many nearest patients to list, and the distance (see :func:`harmonomics.tl.nearest_samples`).

    Returns
    -------
    The path of the written HTML file.

    Raises
    ------
    UnknownSampleError
        ``patient`` is not in the store (the message lists the closest IDs).
    """
    if patient is None:
        return cohort_report(mdata, path, key=key, exports=exports, title=title)
    if exports is not None:
        logger.info("report: exports are linked from the cohort report only; the patient card ignores them")
    return patient_card(mdata, path, patient, key=key, title=title, n_neighbours=n_neighbours, metric=metric)


def patient_card(
    mdata: Any,
    path: str | os.PathLike,
    patient: str,
    *,
    key: str = _keys.KEY_MOFA,
    title: str | None = None,
    n_neighbours: int = 5,
    metric: str = "euclidean",
) -> Path:
    """Write the self-contained HTML card of one patient (what ``hm.report(..., patient=...)`` calls).

    Parameters are those of :func:`report`.
    """
    mdata = store_argument(mdata, key)
    sample = resolve_sample(mdata, patient)
    out = Path(path)
    if out.is_dir():
        out = out / f"harmonomics_card_{sample}.html"
    if out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"card path must end in .html, got {str(out)!r}")
    document = _Card(mdata, sample, key=key, n_neighbours=n_neighbours, metric=metric, title=title).render()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(document, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    logger.info("wrote the card of %s to %s", sample, out)
    return out


def _not_computed(what: str, call: str) -> str:
    return html_note(f"{escape(what)}: not computed — run {html_code(call)}.")


def _value(obs: pd.DataFrame, sample: str, column: str) -> Any:
    """The obs value, or None when the column is absent or the value missing."""
    if column not in obs.columns:
        return None
    value = obs.at[sample, column]
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):  # an array-like cell
        return value


def _shown(value: Any, digits: int = 3) -> str:
    return "–" if value is None else format_value(value, digits)


def _facts(rows: Sequence[tuple[str, Any]]) -> str:
    """A two-column key/value table in the report's style."""
    return html_table(pd.DataFrame([(k, _shown(v)) for k, v in rows], columns=["", "value"]), cls="kv")


class _Card:
    def __init__(self, mdata: Any, sample: str, *, key: str, n_neighbours: int, metric: str, title: str | None):
        self.mdata = mdata
        self.sample = sample
        self.key = key
        self.n_neighbours = n_neighbours
        self.metric = metric
        self.obs = mdata.obs
        self.title = title or f"Patient card — {sample}"

    def render(self) -> str:
        sections: list[tuple[str, str, Callable[[], str]]] = [
            ("patient", "Patient and data", self.section_patient),
            ("subtype", "Subtype and risk of recurrence", self.section_subtype),
            ("receptors", "Receptor status", self.section_receptors),
            ("immune", "Immune status and PD-L1", self.section_immune),
            ("tmb", "Tumour mutational burden", self.section_tmb),
            ("actionable", "Actionable alterations", self.section_actionable),
            ("neighbours", "Nearest patients in factor space", self.section_neighbours),
        ]
        return render_page(self.title, sections, what="part", note=RESEARCH_ONLY)

    # -- identifiers and omics
    def section_patient(self) -> str:
        m, s = self.mdata, self.sample
        facts = [
            ("sample", s),
            ("patient", _value(self.obs, s, _keys.OBS_PATIENT)),
            ("sample type", _value(self.obs, s, _keys.OBS_SAMPLE_TYPE)),
        ]
        for column, label in (
            ("age", "age at diagnosis"),
            ("stage", "stage"),
            ("vital_status", "vital status"),
            ("os_time", "overall survival (days)"),
        ):
            if column in self.obs.columns:
                facts.append((label, _value(self.obs, s, column)))
        rows = []
        for mod, adata in m.mod.items():
            held = s in adata.obs_names
            aliquot = adata.obs.at[s, _keys.MOD_OBS_ALIQUOT] if held and _keys.MOD_OBS_ALIQUOT in adata.obs else None
            rows.append(
                {
                    "omic": mod,
                    "data": _keys.MODALITY_DESCRIPTIONS.get(mod, ""),
                    "held for this sample": "yes" if held else "no",
                    "aliquot": "" if aliquot is None or pd.isna(aliquot) else str(aliquot),
                }
            )
        held = [r["omic"] for r in rows if r["held for this sample"] == "yes"]
        return (
            self._glance()
            + _facts(facts)
            + f"<h3>Omics in the store</h3><p>This sample has {len(held)} of the store's {len(rows)} omics"
            + (f" ({escape(', '.join(held))})" if held else "")
            + ".</p>"
            + html_table(pd.DataFrame(rows))
        )

    def _glance(self) -> str:
        """One line of tiles: the calls a reader looks for first ("not computed" where absent)."""
        s, obs = self.sample, self.obs
        actionable = self.mdata.uns.get(ACTIONABLE_KEY)
        n_actionable = (
            str(int((actionable["sample"].astype(str) == s).sum()))
            if isinstance(actionable, pd.DataFrame) and "sample" in actionable.columns
            else None
        )
        tmb = _value(obs, s, "tmb") if "tmb" in obs.columns else None
        tiles = [
            ("PAM50", _value(obs, s, _keys.KEY_PAM50), _keys.KEY_PAM50),
            ("clinical group", _value(obs, s, "clinical_group"), "clinical_group"),
            ("immune class", _value(obs, s, f"{_keys.KEY_IMMUNE}_class"), f"{_keys.KEY_IMMUNE}_class"),
            ("TMB / Mb", None if tmb is None else format_value(tmb), "tmb"),
            ("actionable alterations", n_actionable, None),
        ]
        html_tiles = []
        for label, value, column in tiles:
            computed = value is not None or (column is not None and column in obs.columns)
            text = str(value) if value is not None else ("–" if computed else "not computed")
            html_tiles.append(
                f'<div class="card"><div class="card-label">{escape(label)}</div>'
                f'<div class="card-value">{escape(text)}</div></div>'
            )
        return f'<div class="cards">{"".join(html_tiles)}</div>'

    # -- PAM50 and ROR
    def section_subtype(self) -> str:
        s, obs, pam50 = self.sample, self.obs, _keys.KEY_PAM50
        published = [
            (f"published PAM50 ({c.removeprefix('pam50_')})", _value(obs, s, c))
            for c in ("pam50_xena", "pam50_tcga2012")
            if c in obs.columns
        ]
        if pam50 not in obs.columns:
            return _not_computed("PAM50 subtype", "hm.tl.pam50(mdata)") + (_facts(published) if published else "")
        facts = [
            ("PAM50 call", _value(obs, s, pam50) if _value(obs, s, pam50) is not None else "no call"),
            ("confidence (correlation to the centroid)", _value(obs, s, f"{pam50}_confidence")),
            ("proliferation score", _value(obs, s, f"{pam50}_proliferation")),
        ]
        for suffix, label in (("ror_s", "ROR-S (subtype)"), ("ror_p", "ROR-P (subtype + proliferation)")):
            score = _value(obs, s, f"{pam50}_{suffix}")
            if f"{pam50}_{suffix}" in obs.columns:
                group = _value(obs, s, f"{pam50}_{suffix}_group")
                text = _shown(score) + (f" ({group} risk)" if group is not None else "")
                facts.append((f"risk of recurrence, {label}, 0–100", text))
        if not any(f"{pam50}_ror_{x}" in obs.columns for x in ("s", "p")):
            facts.append(("risk of recurrence", "not computed"))
        return (
            f"<p>PAM50 intrinsic subtype called by {html_code('hm.tl.pam50')} (nearest centroid, Parker et al. "
            "2009); ROR scores on the 0–100 scale with their low / medium / high group.</p>" + _facts(facts + published)
        )

    # -- ER, PR, HER2
    def section_receptors(self) -> str:
        s, obs = self.sample, self.obs
        computed = any(call in obs.columns for _, call, _, _ in RECEPTORS)
        parts = []
        if not computed:
            parts.append(_not_computed("Receptor calls from the omics", "hm.tl.receptor_status(mdata)"))
        rows = []
        for marker, call, score, status in RECEPTORS:
            if not computed and status not in obs.columns:
                continue
            called = _value(obs, s, call) if call in obs.columns else "not computed"
            known = _value(obs, s, status) if status in obs.columns else "not in the store"
            rows.append(
                {
                    "receptor": marker,
                    "call from the omics": "no call" if called is None else str(called),
                    "P(Positive)": _shown(_value(obs, s, score)),
                    "clinical status": "unknown" if known is None else str(known),
                }
            )
        if rows:
            parts.append(
                "<p>Receptor calls from expression and copy number "
                f"({html_code('hm.tl.receptor_status')}; P(Positive): the posterior probability of a Positive "
                "status) beside the clinical (immunohistochemistry / ISH) status recorded for the patient.</p>"
                + html_table(pd.DataFrame(rows))
            )
        if "clinical_group" in obs.columns:
            group = _value(obs, s, "clinical_group")
            parts.append(
                _facts([("clinical group", group if group is not None else "no group (a call missing or Equivocal)")])
            )
        elif computed:
            parts.append(_not_computed("Clinical group", "hm.tl.receptor_status(mdata)"))
        return "".join(parts)

    # -- immune
    def section_immune(self) -> str:
        s, obs, m = self.sample, self.obs, self.mdata
        immune = m.obsm.get(_keys.KEY_IMMUNE) if _keys.KEY_IMMUNE in m.obsm else None
        has_scores = isinstance(immune, pd.DataFrame)
        parts = []
        facts = []
        klass = f"{_keys.KEY_IMMUNE}_class"
        if klass in obs.columns:
            facts.append(("immune class", _value(obs, s, klass) or "no class"))
        pdl1 = f"{_keys.KEY_IMMUNE}_pdl1_status"
        if pdl1 in obs.columns:
            facts.append(("PD-L1 (CD274) expression call", _value(obs, s, pdl1) or "no call"))
        if has_scores:
            row = immune.reindex([s]).iloc[0]
            for column, meaning in IMMUNE_SCORES.items():
                if column in immune.columns:
                    facts.append((meaning, _shown(row[column] if pd.notna(row[column]) else None)))
        if not has_scores:
            parts.append(_not_computed("Immune scores and PD-L1", "hm.tl.immune_scores(mdata)"))
        if klass not in obs.columns:
            parts.append(_not_computed("Immune class (hot / intermediate / cold)", "hm.tl.immune_status(mdata)"))
        if facts:
            parts.append(
                f"<p>Expression-based immune status ({html_code('hm.tl.immune_scores')}, "
                f"{html_code('hm.tl.immune_status')}). The PD-L1 call is on CD274 mRNA, not the "
                "immunohistochemistry assay used to select treatment.</p>" + _facts(facts)
            )
        if has_scores and immune.reindex([s]).isna().all(axis=None):
            parts.append(html_note("This sample has no immune scores (no expression data for it)."))
        elif has_scores:
            every = immune.loc[[s]].T.reset_index()
            every.columns = ["score", "value"]
            parts.append(f"<details><summary>All {len(every)} immune scores</summary>{html_table(every)}</details>")
        return "".join(parts)

    # -- TMB
    def section_tmb(self) -> str:
        s, obs = self.sample, self.obs
        if "tmb" not in obs.columns:
            return _not_computed("Tumour mutational burden", "hm.tl.tmb(mdata)")
        info = self.mdata.uns.get(TMB_KEY)
        info = info if isinstance(info, Mapping) else {}
        tmb = _value(obs, s, "tmb")
        panel = self._gene_panel()
        if tmb is None:
            held = _keys.MUT in self.mdata.mod and s in self.mdata.mod[_keys.MUT].obs_names
            why = "" if held else " (the store has no mutation data for it)"
            if held and panel:
                why = f" (sequenced on gene panel {panel}, whose coding size is unknown: pass panel_size_mb=)"
            return html_note(f"No tumour mutational burden for this sample{escape(why)}.")
        threshold = info.get("threshold")
        facts = [
            ("TMB (mutations per Mb)", tmb),
            ("mutations counted", _value(obs, s, "tmb_mutations")),
            (
                "hypermutated" + (f" (TMB ≥ {format_value(threshold)}/Mb)" if threshold is not None else ""),
                _value(obs, s, "hypermutated"),
            ),
        ]
        size = _value(obs, s, "tmb_size_mb") if "tmb_size_mb" in obs.columns else info.get("exome_size_mb")
        if panel:
            facts.append((f"gene panel {panel}: coding size used (Mb)", size))
        elif size is not None:
            facts.append(("exome size used (Mb)", size))
        return f"<p>From the sample's somatic mutations ({html_code('hm.tl.tmb')}).</p>" + _facts(facts)

    def _gene_panel(self) -> str:
        """The targeted panel the sample's mutations were sequenced on ("" when exome/genome-wide or unknown)."""
        mut = self.mdata.mod.get(_keys.MUT) if hasattr(self.mdata, "mod") else None
        if mut is None or _keys.OBS_GENE_PANEL not in mut.obs or self.sample not in mut.obs_names:
            return ""
        value = mut.obs.at[self.sample, _keys.OBS_GENE_PANEL]
        return "" if pd.isna(value) else str(value)

    # -- actionable alterations
    def section_actionable(self) -> str:
        table = self.mdata.uns.get(ACTIONABLE_KEY)
        warning = html_note(f"<b>{escape(RESEARCH_ONLY)}</b>", "warn")
        if not isinstance(table, pd.DataFrame):
            return _not_computed("Actionable alterations", "hm.tl.actionable(mdata)") + warning
        if "sample" not in table.columns:
            raise MissingResultError(f"uns[{ACTIONABLE_KEY!r}] has no 'sample' column; rerun hm.tl.actionable(mdata)")
        mine = table[table["sample"].astype(str) == self.sample]
        intro = (
            f"<p>Alterations of this sample that match a biomarker of the therapy table "
            f"({html_code('hm.tl.actionable')}), with the therapy class, the level of evidence and its source. "
            "Levels: " + "; ".join(f"{html_code(k)} {escape(v)}" for k, v in EVIDENCE_LEVELS.items()) + ".</p>"
        )
        unassessed = self._not_assessed()
        if mine.empty:
            return (
                intro
                + html_note(
                    "No alteration of this sample matches a biomarker of the table "
                    f"({len(table):,} matches in the whole store)."
                )
                + unassessed
                + warning
            )
        shown = [c for c in ACTIONABLE_SHOWN if c in mine.columns]
        return intro + html_table(mine[shown].reset_index(drop=True)) + unassessed + warning

    def _not_assessed(self) -> str:
        """The biomarkers this sample could not be assessed for (obsm of hm.tl.actionable): unknown, not absent."""
        assessed = self.mdata.obsm.get(f"{ACTIONABLE_KEY}_assessed") if hasattr(self.mdata, "obsm") else None
        if not isinstance(assessed, pd.DataFrame) or self.sample not in assessed.index.astype(str):
            return ""
        row = assessed.set_axis(assessed.index.astype(str)).loc[self.sample]
        missing = [str(b) for b, flag in row.items() if not (pd.notna(flag) and bool(flag))]
        if not missing:
            return ""
        panel = self._gene_panel()
        why = f"no data for it, or the gene is not on its gene panel {panel}" if panel else "no data for it"
        return html_note(
            f"Not assessed for this sample ({escape(why)}), so unknown rather than absent: "
            + ", ".join(escape(b) for b in missing)
            + "."
        )

    # -- nearest patients
    def section_neighbours(self) -> str:
        from . import tl

        if self.key not in self.mdata.obsm:
            return _not_computed(f"Factor scores (obsm[{self.key!r}])", f"hm.tl.mofa(mdata, key_added={self.key!r})")
        try:
            near = tl.nearest_samples(self.mdata, self.sample, key=self.key, n=self.n_neighbours, metric=self.metric)
        except InsufficientDataError as err:
            return html_note(escape(err))
        own = [
            f"{label} {escape(_value(self.obs, self.sample, c))}"
            for c, label in ((_keys.KEY_PAM50, "PAM50"), ("clinical_group", "clinical group"))
            if _value(self.obs, self.sample, c) is not None
        ]
        intro = (
            f"<p>The {len(near)} samples closest to this one in the factor space of {html_code(self.key)} "
            f"({escape(self.metric)} distance over every factor; {html_code('hm.tl.nearest_samples')})"
            + (f". This sample: {', '.join(own)}" if own else "")
            + ".</p>"
        )
        return intro + html_table(near, numeric_digits=3)
