"""A self-contained HTML report of a harmonomics store.

``hm.report(mdata, "report.html")`` (or ``harmonomics report``) writes one HTML file: figures are embedded
as PNG data URIs, the style sheet is inline, there is no script and no external resource, and a
Content-Security-Policy forbids the page from loading anything at all — it opens the same offline, in a
mail attachment or on an air-gapped machine.

It covers the cohort (samples × omics, what harmonization dropped and why), the factor model (R²,
convergence), what each factor means (subtypes, immune status, survival, top weights), links to the
exported files and the provenance. Each section shows what is in the store; a missing result gives a
short note saying which function produces it, never an error. The report reads the store and never
modifies it: cheap, read-only analyses (factor ↔ covariate tests, log-rank tests) are computed on the
fly, expensive ones (MOFA, PAM50, immune scores) are only reported when present.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import logging
import os
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _keys, _results
from ._errors import HarmonomicsError, MissingResultError
from ._version import __version__

logger = logging.getLogger(__name__)

__all__ = ["report"]

# Figures are rendered at this resolution and shown at 2/3 of their pixel size: sharp on HiDPI screens.
_DPI = 144
_DISPLAY_SCALE = 96 / _DPI
_MAX_FACTOR_DETAILS = 15
_MAX_TABLE_ROWS = 500
_TECHNICAL = {"split", "batch", "sample_type", "plate", "center", "tss"}  # covariates that flag batch effects
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
#: Findings and highlights: a test is called when its Benjamini–Hochberg FDR (within its family) is below this.
_ALPHA = 0.05
_SURVIVAL_COLUMNS = (
    "factor",
    "n",
    "n_events",
    "hr",
    "hr_lower",
    "hr_upper",
    "pvalue",
    "fdr",
    "logrank_pvalue",
    "logrank_fdr",
)
_TEST_NAMES = {"kruskal": "Kruskal–Wallis", "spearman": "Spearman", "": "test"}
_ACTIONABLE = _keys.KEY_ACTIONABLE  # uns key of hm.tl.actionable's table
#: Biomarker enrichment in a PAM50 call is listed when its Benjamini–Hochberg FDR is below this (exploratory: a
#: small cohort has little power, and the table says how many tests the correction covered).
_ENRICHMENT_FDR = 0.25


# --------------------------------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------------------------------
def store_argument(mdata: Any, key: str) -> Any:
    """The store a report or card is written from: a MuData, or read from its path; ``key`` checked."""
    if isinstance(mdata, (str, os.PathLike)):
        from .store import read

        mdata = read(mdata)
    if not hasattr(mdata, "mod") or not hasattr(mdata, "obs"):
        raise TypeError(f"mdata must be a MuData or the path of a store, got {type(mdata).__name__}")
    if not isinstance(key, str) or not key:
        raise ValueError(f"key must be a non-empty string, got {key!r}")
    return mdata


def report(
    mdata: Any,
    path: str | os.PathLike,
    *,
    key: str = _keys.KEY_MOFA,
    exports: str | os.PathLike | Sequence[str | os.PathLike] | Mapping[str, str | os.PathLike] | None = None,
    title: str | None = None,
) -> Path:
    """Write a self-contained HTML report of a store.

    Parameters
    ----------
    mdata
        The store: a MuData in the harmonomics layout, or the path of a store file (read with
        :func:`harmonomics.store.read`). It is not modified.
    path
        The HTML file to write (written atomically; parent folders are created). An existing folder
        receives ``harmonomics_report.html``.
    key
        Result key of the factor model (``obsm[key]``, ``mod[m].varm[key]``, ``uns[key]``).
    exports
        Exported files to link to: a folder (every file in it, recursively), a list of files, or a
        ``{label: file}`` dict. Links are relative to the report's folder when possible, so the report and
        the exports can be moved together. Default: the files recorded in
        ``uns["harmonomics_exports"]``, if any.
    title
        Page title (default: "harmonomics report — <n> samples").

    Returns
    -------
    The path of the written HTML file.
    """
    mdata = store_argument(mdata, key)
    out = Path(path)
    if out.is_dir():
        out = out / "harmonomics_report.html"
    if out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"report path must end in .html, got {str(out)!r}")
    out.parent.mkdir(parents=True, exist_ok=True)

    builder = _Report(mdata, key=key, out=out, exports=exports, title=title)
    document = builder.render()
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(document, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    logger.info("wrote report to %s (%.1f MB)", out, out.stat().st_size / 1e6)
    return out


# --------------------------------------------------------------------------------------------------------------
# HTML helpers
# --------------------------------------------------------------------------------------------------------------
def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return "–"
        if float(value).is_integer() and abs(value) < 1e6:
            return f"{int(value):,}"
        if value != 0 and (abs(value) < 10 ** -(digits - 1) or abs(value) >= 1e6):
            return f"{value:.{max(digits - 1, 1)}e}"
        return f"{value:.{digits}g}" if abs(value) < 1 else f"{value:,.{max(digits - 2, 0)}f}"
    return str(value)


def _fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "–"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def _pct(x: float) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.1f}%"


def _with_interval(value: float, low: float, high: float, digits: int = 3) -> str:
    """``0.918 (0.864–0.964)``; "–" for a missing estimate, the estimate alone when the interval is missing."""
    if value is None or not np.isfinite(value):
        return "–"
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"


def _odds(x: float) -> str:
    return "∞" if np.isposinf(x) else f"{x:.3g}"


def _table(
    df: pd.DataFrame,
    *,
    max_rows: int = _MAX_TABLE_ROWS,
    index: bool = False,
    numeric_digits: int = 3,
    raw: Sequence[str] = (),
    cls: str = "",
) -> str:
    """An HTML table; cells are escaped unless their column is listed in ``raw`` (pre-built HTML)."""
    shown = df.head(max_rows)
    if index:
        shown = shown.reset_index()
    head = "".join(f"<th>{_e(c)}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        cells = []
        for col, value in zip(shown.columns, row, strict=True):
            if col in raw:
                cells.append(f"<td>{value}</td>")
            else:
                num = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
                text = _fmt(value, numeric_digits) if num else ("" if _isna(value) else str(value))
                cells.append(f'<td class="num">{_e(text)}</td>' if num else f"<td>{_e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(df) > max_rows:
        more = f'<p class="muted">Showing the first {max_rows:,} of {len(df):,} rows.</p>'
    rows = "".join(body)
    return (
        f'<div class="table-wrap"><table class="{cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>{more}"
    )


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _note(text: str, kind: str = "info") -> str:
    return f'<div class="note {kind}">{text}</div>'


def _code(text: str) -> str:
    return f"<code>{_e(text)}</code>"


def _figure(fig: Any, alt: str, caption: str = "") -> str:
    """Embed a matplotlib figure as a PNG data URI and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        # every harmonomics figure uses constrained layout: no second "tight" drawing pass needed
        fig.savefig(buf, format="png", dpi=_DPI, facecolor="white")
    finally:
        plt.close(fig)
    data = buf.getvalue()
    width, height = _png_size(data)
    b64 = base64.b64encode(data).decode("ascii")
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (
        f'<figure><img src="data:image/png;base64,{b64}" alt="{_e(alt)}" '
        f'width="{round(width * _DISPLAY_SCALE)}" height="{round(height * _DISPLAY_SCALE)}">{cap}</figure>'
    )


def _png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _slot(attr: str, name: str) -> str:
    return _code(f'{attr}["{name}"]')


def _chip(color: str) -> str:
    return f'<span class="chip" style="background:{_e(color)}"></span>'


# --------------------------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------------------------
class _Report:
    def __init__(self, mdata: Any, *, key: str, out: Path, exports: Any, title: str | None) -> None:
        self.mdata = mdata
        self.key = key
        self.out = out
        self.exports = exports
        self.title = title or f"harmonomics report — {mdata.n_obs:,} samples"
        self.has_model = key in mdata.obsm and isinstance(mdata.uns.get(key), Mapping)
        self._assoc: pd.DataFrame | None = None
        self._assoc_note = ""
        self._assoc_done = False
        self._surv: pd.DataFrame | None = None
        self._surv_note = ""
        self._surv_done = False

    # ---- shared computations (each at most once) ------------------------------------------------------------
    def factor_names(self) -> list[str]:
        return _results.factor_names(self.mdata, self.key)

    def scores(self) -> pd.DataFrame:
        return _results.factor_scores(self.mdata, self.key)

    def covariates(self) -> list[str]:
        """Per-sample variables worth testing against the factors, present in this store."""
        obs = self.mdata.obs
        wanted = [_keys.KEY_PAM50, "immune_class", "age", "stage", "pathology", "split", _keys.OBS_SAMPLE_TYPE]
        out = []
        for c in wanted:
            if c in obs.columns and obs[c].notna().sum() >= 3 and obs[c].nunique(dropna=True) >= 2:
                out.append(c)
        return out + self._immune_score_names()

    def _immune_score_names(self) -> list[str]:
        """Columns of obsm["immune"], as covariate names (bare unless another obsm table has the same column)."""
        m = self.mdata
        immune = m.obsm.get(_keys.KEY_IMMUNE)
        if not isinstance(immune, pd.DataFrame):
            return []
        others = {
            str(c)
            for k in m.obsm
            if k != _keys.KEY_IMMUNE and isinstance(m.obsm[k], pd.DataFrame)
            for c in m.obsm[k].columns
        }
        names = []
        for c in immune.columns:
            c = str(c)
            clash = c in others or c in m.obs.columns
            names.append(f"{_keys.KEY_IMMUNE}:{c}" if clash else c)
        return names

    def associations(self) -> pd.DataFrame | None:
        """Factor ↔ covariate table from hm.tl.associate (computed once, read-only)."""
        if self._assoc_done:
            return self._assoc
        self._assoc_done = True
        if not self.has_model:
            self._assoc_note = "No factor model in the store."
            return None
        covs = self.covariates()
        if not covs:
            self._assoc_note = "The store has no clinical or molecular covariates to test against the factors."
            return None
        try:
            from .tl import associate
        except ImportError as err:
            self._assoc_note = f"Factor ↔ covariate tests are unavailable in this installation ({_e(err)})."
            return None
        try:
            self._assoc = associate(self.mdata, key=self.key, covariates=tuple(covs))
        except HarmonomicsError as err:  # the store's data do not allow the tests; the page says why
            logger.warning("report: hm.tl.associate failed: %s", err)
            self._assoc_note = f"hm.tl.associate failed on this store: {_e(type(err).__name__)}: {_e(err)}"
            self._assoc = None
        return self._assoc

    def assoc_summary(self) -> pd.DataFrame | None:
        table = self.associations()
        if table is None or len(table) == 0:
            return None
        from .tl import association_summary

        value = "fdr" if "fdr" in table.columns else "pvalue"
        return association_summary(table, value=value)

    def has_survival(self) -> bool:
        obs = self.mdata.obs
        if "os_time" not in obs.columns or "os_event" not in obs.columns:
            return False
        ok = (
            pd.to_numeric(obs["os_time"], errors="coerce").notna()
            & pd.to_numeric(
                obs["os_event"].astype(float) if obs["os_event"].dtype == bool else obs["os_event"], errors="coerce"
            ).notna()
        )
        return int(ok.sum()) >= 5

    def factor_survival(self) -> pd.DataFrame | None:
        """Per factor, from :func:`harmonomics.tl.survival`: the Cox model (HR per SD, Wald p, BH FDR over the
        factors) and the log-rank test of a median split (p, BH FDR over the factors).

        A table already in ``uns[f"{key}_survival"]`` with those columns is used as it is; otherwise it is
        computed and the store is left as it was (the report never modifies the store).
        """
        if self._surv_done:
            return self._surv
        self._surv_done = True
        if not self.has_model or not self.has_survival():
            return None
        stored = self.mdata.uns.get(f"{self.key}_survival")
        if isinstance(stored, pd.DataFrame) and set(_SURVIVAL_COLUMNS) <= set(stored.columns):
            table = stored
        else:
            try:
                from . import tl
                from ._errors import require

                require("lifelines", extra="survival", purpose="survival tests in the report")
            except ImportError as err:
                self._surv_note = f"Survival tests need lifelines: {_e(err)}"
                return None
            tmp_key = f"_{self.key}_survival_report"
            had = tmp_key in self.mdata.uns
            try:
                table = tl.survival(self.mdata, key=self.key, key_added=tmp_key)
            except HarmonomicsError as err:  # e.g. too few events; the page says why
                logger.warning("report: survival tests failed: %s", err)
                self._surv_note = f"Survival tests failed on this store: {_e(type(err).__name__)}: {_e(err)}"
                return None
            finally:
                if not had and tmp_key in self.mdata.uns:
                    del self.mdata.uns[tmp_key]
        table = table[[*_SURVIVAL_COLUMNS, *(c for c in ("covariates", "note") if c in table.columns)]].copy()
        table["factor"] = table["factor"].astype(str)
        table["called"] = table["fdr"] < _ALPHA
        table["agreement"] = [_agreement(r.fdr, r.logrank_fdr, r.pvalue, r.logrank_pvalue) for r in table.itertuples()]
        self._surv = table
        return table

    # ---- sections -----------------------------------------------------------------------------------------
    def render(self) -> str:
        sections: list[tuple[str, str, Callable[[], str]]] = [
            ("summary", "At a glance", self.section_summary),
            ("cohort", "Cohort", self.section_cohort),
            ("model", "Factor model", self.section_model),
            ("factors", "Factors and clinical variables", self.section_factors),
            ("subtypes", "Subtypes", self.section_subtypes),
            ("actionable", "Actionable alterations by subtype", self.section_actionable),
            ("tmb", "Tumour mutational burden", self.section_tmb),
            ("immune", "Immune status", self.section_immune),
            ("survival", "Survival", self.section_survival),
            ("factor-details", "Factor by factor", self.section_factor_details),
            ("exports", "Exported files", self.section_exports),
            ("provenance", "Provenance", self.section_provenance),
        ]
        if self.diablo_keys():  # shown only when the store holds a DIABLO fit
            sections.insert(-2, ("diablo", "DIABLO: multi-omics signatures of the subtypes", self.section_diablo))
        return render_page(self.title, sections, what="section")

    def section_summary(self) -> str:
        m = self.mdata
        cards = [("samples", f"{m.n_obs:,}"), ("omics", ", ".join(m.mod) or "none")]
        if self.has_model:
            info = m.uns[self.key]
            conv = info.get("converged")
            cards.append(("factors", str(len(self.factor_names()))))
            if conv is not None:
                cards.append(("converged", "yes" if bool(conv) else "NO"))
        else:
            cards.append(("factor model", "not run"))
        from ._style import category_levels

        for col, label in ((_keys.KEY_PAM50, "PAM50 subtypes"), ("immune_class", "immune classes")):
            if col in m.obs.columns and m.obs[col].notna().any():
                counts = m.obs[col].astype(str)[m.obs[col].notna()].value_counts()
                levels = category_levels(m.obs[col])
                cards.append((label, ", ".join(f"{k} {int(counts.get(k, 0))}" for k in levels)))
        if self.has_survival():
            e = pd.to_numeric(m.obs["os_event"], errors="coerce")
            cards.append(("survival", f"{int(e.notna().sum())} with follow-up, {int(e.sum())} deaths"))
        html_cards = "".join(
            f'<div class="card"><div class="card-label">{_e(k)}</div><div class="card-value">{_e(v)}</div></div>'
            for k, v in cards
        )
        highlights = self._highlights()
        return f'<div class="cards">{html_cards}</div>{highlights}'

    def _highlights(self) -> str:
        """Key findings: only tests whose BH FDR (within their family) is below _ALPHA, each with its effect size,
        its test and its FDR."""
        items = []
        summary = self.assoc_summary() if self.has_model else None
        if summary is not None:
            sig = summary[summary["p"] < _ALPHA].sort_values("p")
            n_tests = summary.groupby("test")["p"].apply(lambda p: int(p.notna().sum())).to_dict()
            for row in sig.head(6).itertuples():
                test = _TEST_NAMES.get(row.test, row.test)
                if row.level:
                    effect = (
                        f"{'higher' if row.auc >= 0.5 else 'lower'} in {_e(row.level)}, one-vs-rest AUC {row.auc:.2f}"
                    )
                else:
                    effect = f"Spearman ρ = {row.rho:+.2f}" if np.isfinite(row.rho) else "no effect size"
                batch = " — a possible batch effect" if row.covariate in _TECHNICAL else ""
                items.append(
                    f"<li><b>{_e(row.factor)}</b> is associated with <b>{_e(row.covariate)}</b> "
                    f"({effect}; {_e(test)} test, FDR {_fmt_p(row.p)}, Benjamini–Hochberg over "
                    f"{n_tests.get(row.test, 0)} {_e(test)} tests){batch}</li>"
                )
        surv = self.factor_survival() if self.has_model else None
        if surv is not None:
            for row in surv[surv["called"]].sort_values("fdr").head(3).itertuples():
                disagree = "" if row.logrank_fdr < _ALPHA else " — the log-rank test of a median split does not agree"
                items.append(
                    f"<li><b>{_e(row.factor)}</b> is associated with overall survival (HR "
                    f"{row.hr:.2f} per SD, 95% CI {row.hr_lower:.2f}–{row.hr_upper:.2f}; Cox model, "
                    f"Wald p {_fmt_p(row.pvalue)}, FDR {_fmt_p(row.fdr)} over {int(surv['pvalue'].notna().sum())} "
                    f"factors; log-rank FDR {_fmt_p(row.logrank_fdr)}){disagree}</li>"
                )
        if not items:
            return (
                '<div class="highlights"><h3>Key findings</h3><p class="muted">No test passes the threshold '
                f"(Benjamini–Hochberg FDR &lt; {_ALPHA:g} within its family of tests).</p></div>"
                if self.has_model
                else ""
            )
        return (
            '<div class="highlights"><h3>Key findings</h3><ul>' + "".join(items) + "</ul>"
            f'<p class="muted">Listed: tests with a Benjamini–Hochberg FDR below {_ALPHA:g} within their family '
            "(one family per test: Kruskal–Wallis, Spearman, Cox, log-rank).</p></div>"
        )

    # -- cohort
    def section_cohort(self) -> str:
        from .pl import omics_overview
        from .tl import omics_presence

        m = self.mdata
        presence = omics_presence(m)
        rows = []
        for mod in m.mod:
            a = m.mod[mod]
            rows.append(
                {
                    "omic": mod,
                    "data": _keys.MODALITY_DESCRIPTIONS.get(mod, ""),
                    "samples": int(presence[mod].sum()),
                    "of cohort": _pct(presence[mod].mean()),
                    "features": int(a.n_vars),
                }
            )
        parts = [
            f"<p>{m.n_obs:,} samples; {int(presence.all(axis=1).sum()):,} have every omic "
            f"({', '.join(_e(x) for x in m.mod)}). A sample missing an omic is absent from it, not filled in; "
            "the factor model treats it as missing.</p>",
            _table(pd.DataFrame(rows)),
        ]
        groupby = next((c for c in ("split", _keys.KEY_PAM50) if c in m.obs.columns and m.obs[c].nunique() > 1), None)
        caption = "Which omics each sample has: bars count the samples with exactly the combination shown by the dots"
        caption += f", stacked by {_e(groupby)}." if groupby else "."
        parts.append(_figure(omics_overview(m, groupby=groupby), "omics per sample", caption))
        parts.append(self._clinical_table())
        parts.append("<h3>Harmonization: what was dropped and why</h3>")
        parts.append(self._harmonization())
        return "".join(parts)

    def _clinical_table(self) -> str:
        obs = self.mdata.obs
        cols = [c for c in obs.columns if ":" not in str(c)]
        if not cols:
            return ""
        rows = []
        for c in cols:
            s = obs[c]
            n = int(s.notna().sum())
            n_unique = int(s.nunique(dropna=True))
            if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or s.dtype == bool or n_unique <= 2:
                present = s[s.notna()]
                if pd.api.types.is_numeric_dtype(present) and not isinstance(s.dtype, pd.CategoricalDtype):
                    present = present.map(_fmt)
                vc = present.astype(str).value_counts()
                if n_unique > 12 and n_unique > 0.5 * max(n, 1):
                    summary = f"{n_unique:,} distinct values (e.g. {', '.join(map(str, vc.index[:2]))})"
                else:
                    summary = ", ".join(f"{k}: {v}" for k, v in vc.head(8).items())
                    if len(vc) > 8:
                        summary += f", … ({len(vc)} values)"
            else:
                num = pd.to_numeric(s, errors="coerce")
                unit = " days" if c == "os_time" else ""
                summary = (
                    f"median {_fmt(float(num.median()))}{unit}, range {_fmt(float(num.min()))}–"
                    f"{_fmt(float(num.max()))}{unit}"
                    if num.notna().any()
                    else ""
                )
            rows.append({"column": c, "samples with a value": n, "values": summary})
        return "<h3>Sample annotations</h3>" + _table(pd.DataFrame(rows), max_rows=80)

    def _harmonization(self) -> str:
        rep = self.mdata.uns.get(_keys.UNS_REPORT)
        if rep is None:
            return _note(
                f"The store has no harmonization report ({_slot('uns', 'harmonomics_report')}); "
                "it is written by the readers in hm.io."
            )
        rep = pd.DataFrame(rep)
        if rep.empty:
            return _note("The harmonization report is empty: nothing was dropped, merged or renamed.")
        for c in ("level", "item", "omic", "sample", "action", "reason"):
            if c not in rep.columns:
                rep[c] = ""
        rep = rep.astype({c: str for c in ("level", "omic", "action", "reason")})
        counts = rep.groupby(["level", "action"]).size().unstack(fill_value=0)
        counts.columns = [str(c) for c in counts.columns]
        parts = [
            "<p>Every file, aliquot, sample and feature the readers saw, and what happened to it.</p>",
            _table(counts.reset_index()),
        ]
        notable = rep[~rep["action"].isin(["kept"])]
        kept_with_reason = rep[(rep["action"] == "kept") & (rep["reason"].str.strip() != "")]
        notable = pd.concat([notable, kept_with_reason])
        if notable.empty:
            parts.append(_note("Nothing was dropped, merged or renamed."))
            return "".join(parts)
        # one line per kind of decision: the reasons name barcodes and files, which would make every row unique
        notable = notable.assign(reason=notable["reason"].map(_reason_kind))
        grouped = (
            notable.groupby(["action", "level", "omic", "reason"], sort=False)
            .agg(
                count=("item", "size"),
                examples=("item", lambda s: ", ".join(map(_short_item, s.head(3))) + (" …" if len(s) > 3 else "")),
            )
            .reset_index()
            .sort_values(["action", "count"], ascending=[True, False])
        )
        parts.append(_table(grouped))
        parts.append(
            f"<details><summary>All {len(notable):,} rows that were not simply kept</summary>"
            f"{_table(notable[['level', 'item', 'omic', 'sample', 'action', 'reason']], max_rows=2000)}</details>"
        )
        return "".join(parts)

    # -- model
    def section_model(self) -> str:
        if not self.has_model:
            return _note(
                f"No factor model under key {_code(self.key)}: "
                f"run {_code(f'hm.tl.mofa(mdata, key_added={self.key!r})')} "
                "to fit one. The factor, subtype, immune and survival sections need it.",
                "warn",
            )
        from ._results import r2_table, r2_total
        from .pl import elbo as pl_elbo
        from .pl import variance_explained

        m, info = self.mdata, self.mdata.uns[self.key]
        names = self.factor_names()
        conv = info.get("converged")
        n_iter = info.get("n_iterations")
        facts = [("factors", len(names))]
        views = [m_ for m_ in m.mod if self.key in m.mod[m_].varm]
        facts.append(("views", ", ".join(views)))
        lik = info.get("likelihoods")
        if isinstance(lik, Mapping):
            facts.append(("likelihoods", ", ".join(f"{k}: {v}" for k, v in lik.items())))
        scores = self.scores()
        facts.append(("samples with factor scores", int(np.isfinite(scores.to_numpy()).all(axis=1).sum())))
        if n_iter is not None:
            facts.append(("iterations", int(n_iter)))
        if conv is not None:
            facts.append(("converged", "yes" if bool(conv) else "no"))
        for k, label in (("seed", "seed"), ("time_s", "fit time (s)")):
            if info.get(k) is not None:
                facts.append((label, info[k]))
        parts = []
        if conv is not None and not bool(conv):
            parts.append(
                _note(
                    "The model did <b>not</b> converge within the iteration limit: factors may change "
                    "with more iterations (raise the limit or loosen the tolerance).",
                    "warn",
                )
            )
        parts.append(_table(pd.DataFrame(facts, columns=["", "value"]), cls="kv"))
        try:
            r2 = r2_table(m, self.key)
        except MissingResultError as err:
            logger.info("report: no variance-explained table: %s", err)
            parts.append(_note(f"No variance-explained table: {_e(err)}", "warn"))
            r2 = None
        if r2 is not None:
            parts.append("<h3>Variance explained</h3>")
            parts.append(
                _figure(
                    variance_explained(m, key=self.key),
                    "variance explained per view and factor",
                    "R² (%) of each view explained by each factor; bars: total per factor (top) and per view (right).",
                )
            )
            tbl = (r2 * 100).round(1).T
            tot = r2_total(m, self.key)
            if tot is not None:
                tbl["all views"] = (tot * 100).round(1).to_numpy()
            tbl.index.name = "factor"
            parts.append("<details><summary>R² table (%)</summary>" + _table(tbl, index=True) + "</details>")
        elbo = info.get("elbo")
        if elbo is not None and np.asarray(elbo).size > 1:
            parts.append("<h3>Convergence</h3>")
            parts.append(
                _figure(
                    pl_elbo(m, key=self.key),
                    "ELBO per iteration",
                    "Evidence lower bound per training iteration.",
                )
            )
        opts = info.get("options")
        if isinstance(opts, Mapping) and opts:
            flat = pd.DataFrame(
                [
                    (k, _fmt(v) if not isinstance(v, (list, tuple, np.ndarray)) else ", ".join(map(str, v)))
                    for k, v in opts.items()
                ],
                columns=["option", "value"],
            )
            parts.append("<details><summary>Training options</summary>" + _table(flat) + "</details>")
        return "".join(parts)

    # -- factors × covariates
    def section_factors(self) -> str:
        if not self.has_model:
            return _note("Needs a factor model (see above).")
        from .pl import associations

        parts = [
            "<p>One row per factor: how much variance it explains, and its strongest link to subtype, immune "
            "status and survival. Associations are Kruskal–Wallis (categorical) or Spearman (numeric) tests, "
            "Benjamini–Hochberg adjusted within each test family. Survival: a univariate Cox model per standard "
            "deviation of the factor (the call) and a log-rank test of samples above vs below its median, each "
            f"Benjamini–Hochberg adjusted over the factors. Green: FDR &lt; {_ALPHA:g} (for survival: the Cox "
            "FDR); where the two survival tests disagree the cell says so.</p>"
        ]
        parts.append(self._factor_table())
        table = self.associations()
        if table is None:
            parts.append(_note(self._assoc_note or "No associations computed."))
        elif len(table):
            value = "fdr" if "fdr" in table.columns else "pvalue"
            parts.append(
                _figure(
                    associations(table, value=value),
                    "factor covariate association heatmap",
                    "Colour: −log10 FDR. Numbers: Spearman ρ. Labels: the level with the highest (↑) "
                    "or lowest (↓) scores. *: FDR &lt; 0.05.",
                )
            )
            cols = [
                c
                for c in (
                    "factor",
                    "covariate",
                    "level",
                    "test",
                    "statistic",
                    "pvalue",
                    "fdr",
                    "auc",
                    "mean_diff",
                    "rho",
                )
                if c in table.columns
            ]
            parts.append(
                "<details><summary>Full association table</summary>"
                + _table(table[cols].sort_values(cols[:2]), max_rows=2000)
                + "</details>"
            )
        return "".join(parts)

    def _factor_table(self) -> str:
        from ._results import r2_table, r2_total

        names = self.factor_names()
        df = pd.DataFrame({"factor": names})
        try:
            r2 = r2_table(self.mdata, self.key)
            tot = r2_total(self.mdata, self.key)
            df["R² (all views)"] = [_pct(tot[f]) if tot is not None and f in tot.index else "–" for f in names]
            df["main view"] = [f"{r2[f].idxmax()} ({_pct(r2[f].max())})" if f in r2.columns else "–" for f in names]
        except MissingResultError as err:  # R² is optional here
            logger.info("report: factor table without R²: %s", err)
        summary = self.assoc_summary()
        for label, covs in (("subtype", [_keys.KEY_PAM50]), ("immune", self._immune_covariates())):
            if summary is None or not covs:
                continue
            sub = summary[summary["covariate"].isin(covs)]
            if sub.empty:
                continue
            texts = []
            for f in names:
                g = sub[sub["factor"] == f].sort_values("p")
                if g.empty or not np.isfinite(g["p"].iloc[0]):
                    texts.append("–")
                    continue
                r = g.iloc[0]
                what = (
                    f"{'↑' if r['auc'] >= 0.5 else '↓'} {r['level']}"
                    if r["level"]
                    else (f"ρ {r['rho']:+.2f}" if np.isfinite(r["rho"]) else "")
                )
                cov = "" if len(covs) == 1 else f"{r['covariate']} "
                mark = "sig" if r["p"] < _ALPHA else "ns"
                texts.append(f'<span class="{mark}">{_e(cov)}{_e(what)} (FDR {_fmt_p(r["p"])})</span>')
            df[label] = texts
        surv = self.factor_survival()
        raw = ["subtype", "immune"]
        if surv is not None:
            s = surv.set_index("factor")
            texts = []
            for f in names:
                if f not in s.index or not np.isfinite(s.at[f, "hr"]):
                    texts.append("–")
                    continue
                r = s.loc[f]
                txt = f"HR {r['hr']:.2f}/SD (Cox FDR {_fmt_p(r['fdr'])}); log-rank FDR {_fmt_p(r['logrank_fdr'])}"
                if r["agreement"] not in ("both significant", "neither"):
                    txt += f" — {r['agreement']}"
                texts.append(f'<span class="{"sig" if bool(r["called"]) else "ns"}">{_e(txt)}</span>')
            df["survival"] = texts
            raw.append("survival")
        df["factor"] = [f'<a href="#factor-{_slug(f)}">{_e(f)}</a>' for f in names]
        return _table(df, raw=[*raw, "factor"], cls="factors")

    def _immune_covariates(self) -> list[str]:
        covs = []
        if "immune_class" in self.mdata.obs.columns:
            covs.append("immune_class")
        return covs + self._immune_score_names()

    def _top_factors(self, covariates: Sequence[str], n: int = 2) -> list[str]:
        names = self.factor_names()
        summary = self.assoc_summary()
        if summary is not None:
            sub = summary[summary["covariate"].isin(covariates)].sort_values("p")
            ranked = list(dict.fromkeys(sub["factor"]))
            ranked += [f for f in names if f not in ranked]
        else:
            ranked = names
        return ranked[: max(min(n, len(ranked)), 1)]

    def _skipped(self, *steps: str) -> str:
        """Why the pipeline's annotate step skipped an analysis (``uns["harmonomics_annotate"]``), as HTML."""
        status = self.mdata.uns.get("harmonomics_annotate")
        if not isinstance(status, Mapping):
            return ""
        reasons = [
            f"{_code(step)}: {_e(status[step])}"
            for step in steps
            if isinstance(status.get(step), str) and status[step].startswith("skipped")
        ]
        return ("<br>The pipeline reported: " + "; ".join(reasons)) if reasons else ""

    def _by_group_section(self, column: str, missing_html: str, colors_intro: str, steps: Sequence[str] = ()) -> str:
        m = self.mdata
        if column not in m.obs.columns or m.obs[column].notna().sum() == 0:
            return _note(missing_html + self._skipped(*steps))
        from ._style import category_colors, category_levels
        from .pl import factor_scatter, factors_by_group

        values = m.obs[column]
        levels = category_levels(values)
        colors = category_colors(levels)
        counts = values.astype(str)[values.notna()].value_counts()
        rows = [
            {
                "": _chip(colors[lv]),
                column: lv,
                "samples": int(counts.get(lv, 0)),
                "share": _pct(counts.get(lv, 0) / max(int(values.notna().sum()), 1)),
            }
            for lv in levels
        ]
        n_missing = int(values.isna().sum())
        parts = [f"<p>{colors_intro}</p>", _table(pd.DataFrame(rows), raw=[""])]
        if n_missing:
            parts.append(f'<p class="muted">{n_missing} samples have no {_e(column)} call.</p>')
        if "split" in m.obs.columns and m.obs["split"].nunique() > 1:
            ct = pd.crosstab(values.astype(str).where(values.notna(), "NA"), m.obs["split"].astype(str))
            ct.index.name = column
            parts.append("<details><summary>By split</summary>" + _table(ct, index=True) + "</details>")
        if not self.has_model:
            parts.append(_note("Fit a factor model to see how the factors relate to these groups."))
            return "".join(parts)
        top = self._top_factors([column], n=3)
        x, y = (top[0], top[1]) if len(top) > 1 else (top[0], top[0])
        if x != y:
            parts.append(
                _figure(
                    factor_scatter(m, x, y, key=self.key, color=column),
                    f"factor scatter by {column}",
                    f"{_e(x)} vs {_e(y)}, the factors most associated with {_e(column)}.",
                )
            )
        parts.append(
            _figure(
                factors_by_group(m, column, key=self.key, palette=colors),
                f"factor scores by {column}",
                f"Factor scores per {_e(column)} group (every factor; box: quartiles, whiskers: 1.5 IQR).",
            )
        )
        return "".join(parts)

    def section_subtypes(self) -> str:
        m = self.mdata
        info = m.uns.get(_keys.KEY_PAM50)
        if isinstance(info, Mapping) and info.get("genes_used") is not None:
            n_genes = len(np.asarray(info["genes_used"]).ravel())
            intro = (
                f"PAM50 intrinsic subtypes called by {_code('hm.tl.pam50')} from {n_genes} of the 50 genes "
                "(nearest centroid by Spearman correlation, Parker et al. 2009)."
            )
        else:
            intro = "PAM50 intrinsic subtypes, as given in the sample annotations (not called by harmonomics)."
        body = self._by_group_section(
            _keys.KEY_PAM50,
            f"No PAM50 calls in the store ({_slot('obs', 'pam50')}): run {_code('hm.tl.pam50(mdata)')} on "
            "RNA data that covers the PAM50 genes, or add published calls to obs.",
            intro,
            steps=("pam50",),
        )
        ror = f"{_keys.KEY_PAM50}_ror_s_group"
        if _keys.KEY_PAM50 in m.obs.columns and ror in m.obs.columns and m.obs[ror].notna().any():
            both = m.obs[_keys.KEY_PAM50].notna() & m.obs[ror].notna()
            # crosstab drops missing values itself; say how many, never show them as a "nan" row
            ct = pd.crosstab(m.obs.loc[both, _keys.KEY_PAM50].astype(str), m.obs.loc[both, ror].astype(str))
            order = [g for g in ("low", "medium", "high") if g in ct.columns]
            ct = ct[order + [c for c in ct.columns if c not in order]]
            ct.index.name = "pam50 (rows) × ROR-S group"
            body += "<h3>Risk of recurrence (ROR-S)</h3>" + _table(ct, index=True)
            if int((~both).sum()):
                body += (
                    f'<p class="muted">{int((~both).sum())} samples without a PAM50 call or an ROR-S group are '
                    "not counted.</p>"
                )
        body += self._published_labels() + self._receptor_status()
        return body

    def section_actionable(self) -> str:
        """Per PAM50 call, how many samples carry each actionable biomarker (hm.tl.actionable_by_group)."""
        from . import tl

        m = self.mdata
        if not isinstance(m.uns.get(_ACTIONABLE), pd.DataFrame):
            return _note(f"Actionable alterations: not computed — run {_code('hm.tl.actionable(mdata)')}.")
        if _keys.KEY_PAM50 not in m.obs.columns or m.obs[_keys.KEY_PAM50].isna().all():
            return _note(
                f"The store has actionable alterations ({_slot('uns', _ACTIONABLE)}) but no PAM50 calls to group "
                f"them by: not computed — run {_code('hm.tl.pam50(mdata)')}."
            )
        counts = tl.actionable_by_group(m, groupby=_keys.KEY_PAM50, key=_ACTIONABLE)
        intro = (
            f"<p>Samples carrying each biomarker of {_slot('uns', _ACTIONABLE)} ({_code('hm.tl.actionable')}), per "
            f"PAM50 call ({_code('hm.tl.actionable_by_group')}): n with the biomarker / n samples of that call "
            "assessed for it, and the percentage; the column heading gives every sample with that call. A sample "
            "counts once per biomarker. A sample is assessed when it has the omic the biomarker is read from and, "
            "for a mutation, when its sequencing covered the gene (a gene panel without it: not assessed); the "
            "others are unknown, not non-carriers.</p>"
            + _note("<b>For research, not for treatment decisions.</b>", "warn")
        )
        if counts.empty:
            return intro + _note("No sample with a PAM50 call carries an actionable biomarker.")
        groups = counts[_keys.KEY_PAM50].cat.categories
        sizes = m.obs[_keys.KEY_PAM50].astype(str)[m.obs[_keys.KEY_PAM50].notna()].value_counts()
        index = ["biomarker", "therapy_class"]
        wide = counts.pivot(index=index, columns=_keys.KEY_PAM50, values="n_samples")
        assessed = counts.pivot(index=index, columns=_keys.KEY_PAM50, values="n_group")
        percent = counts.pivot(index=index, columns=_keys.KEY_PAM50, values="percent")
        rows = list(dict.fromkeys(zip(counts["biomarker"], counts["therapy_class"], strict=True)))
        table = pd.DataFrame({"biomarker": [b for b, _ in rows], "therapy class": [t for _, t in rows]})
        for g in groups:
            table[f"{g} (n={int(sizes.get(g, 0))})"] = [
                f"{int(wide.at[row, g])} / {int(assessed.at[row, g])}"
                + (f" ({percent.at[row, g]:.0f}%)" if np.isfinite(percent.at[row, g]) else "")
                for row in rows
            ]
        n_without = int(m.obs[_keys.KEY_PAM50].isna().sum())
        without = f'<p class="muted">{n_without} samples without a PAM50 call are not counted.</p>' if n_without else ""
        return intro + _table(table) + without + self._actionable_enrichment(counts)

    @staticmethod
    def _actionable_enrichment(counts: pd.DataFrame) -> str:
        """The enrichment tests of hm.tl.actionable_by_group that pass the FDR cut, or a sentence saying none does."""
        tested = counts[np.isfinite(counts["p"].to_numpy(dtype=float))]
        n_tests, n_untested = len(tested), len(counts) - len(tested)
        method = (
            "<p>Enrichment: each biomarker in each PAM50 call against all other samples with a call, by a two-sided "
            "Fisher exact test of carriers / non-carriers; the odds ratio is the conditional maximum-likelihood "
            "estimate with its exact 95% confidence interval (above 1: more frequent in that call). p-values are "
            f"adjusted by Benjamini–Hochberg over the {n_tests} tests of this table; rows with FDR &lt; "
            f"{_ENRICHMENT_FDR:g} are listed, by p. An unadjusted p alone is not a finding.</p>"
        )
        if n_untested:
            method += (
                f'<p class="muted">{n_untested} biomarker × call rows have no contrast to test (a single PAM50 call, '
                "or a biomarker every sample carries) and are not counted among the tests.</p>"
            )
        passed = tested[tested["fdr"] < _ENRICHMENT_FDR].sort_values(["p", "biomarker"], kind="stable")
        if passed.empty:
            if not n_tests:
                return "<h3>Enrichment by PAM50 call</h3>" + method + _note("No enrichment test could be run.")
            return (
                "<h3>Enrichment by PAM50 call</h3>"
                + method
                + _note(f"No biomarker is enriched in a subtype at FDR &lt; {_ENRICHMENT_FDR:g} ({n_tests} tests).")
            )
        n_all = passed["biomarker"].map(counts.groupby("biomarker")["n_group"].sum()).to_numpy()
        carriers = counts.groupby("biomarker")["n_samples"].sum()
        rest_carriers = passed["biomarker"].map(carriers).to_numpy() - passed["n_samples"].to_numpy()
        table = pd.DataFrame(
            {
                "biomarker": passed["biomarker"].to_numpy(),
                "PAM50 call": passed[_keys.KEY_PAM50].astype(str).to_numpy(),
                "in the call": [f"{a} / {n}" for a, n in zip(passed["n_samples"], passed["n_group"], strict=True)],
                "in the other calls": [
                    f"{c} / {total - n}" for c, total, n in zip(rest_carriers, n_all, passed["n_group"], strict=True)
                ],
                "odds ratio (95% CI)": [
                    f"{_odds(o)} ({_odds(lo)}–{_odds(hi)})"
                    for o, lo, hi in zip(
                        passed["odds_ratio"], passed["odds_ratio_low"], passed["odds_ratio_high"], strict=True
                    )
                ],
                "Fisher p": [_fmt_p(v) for v in passed["p"]],
                "BH FDR": [_fmt_p(v) for v in passed["fdr"]],
            }
        )
        return "<h3>Enrichment by PAM50 call</h3>" + method + _table(table)

    def section_tmb(self) -> str:
        """TMB across the cohort (hm.tl.tmb) and per PAM50 call with one Kruskal–Wallis test (hm.tl.tmb_by_group)."""
        from . import tl

        m = self.mdata
        if _keys.KEY_TMB not in m.obs.columns:
            return _note(f"Tumour mutational burden: not computed — run {_code('hm.tl.tmb(mdata)')}.")
        info = m.uns.get(_keys.KEY_TMB)
        info = info if isinstance(info, Mapping) else {}
        burden = pd.to_numeric(m.obs[_keys.KEY_TMB], errors="coerce")
        known = burden.dropna()
        threshold = info.get("threshold", 10.0)
        hyper = int((known >= threshold).sum())
        facts = [
            ("samples with a TMB", f"{len(known):,} of {m.n_obs:,}"),
            (
                "median (IQR), mutations/Mb",
                f"{known.median():.2f} ({known.quantile(0.25):.2f}–{known.quantile(0.75):.2f})" if len(known) else "–",
            ),
            (
                f"hypermutated (≥ {_fmt(float(threshold))}/Mb)",
                f"{hyper} ({_pct(hyper / len(known)) if len(known) else '–'})",
            ),
            ("exome size (Mb)", _fmt(info.get("exome_size_mb"))),
        ]
        body = (
            f"<p>Non-synonymous coding mutations per Mb ({_code('hm.tl.tmb')}; docs/precision.md). Samples "
            "without mutation data, and panel-sequenced samples whose panel size is unknown, have no TMB.</p>"
            + _table(pd.DataFrame(facts, columns=["", "value"]))
        )
        panels = info.get("panels")
        if isinstance(panels, pd.DataFrame) and len(panels):
            body += "<p>Samples sequenced on gene panels are divided by their panel's coding size:</p>" + _table(
                panels.rename(columns={"size_mb": "size (Mb)", "n_samples": "samples"})
            )
        if info.get("caveat"):
            body += _note(_e(info["caveat"]), "warn")
        if _keys.KEY_PAM50 not in m.obs.columns or m.obs[_keys.KEY_PAM50].isna().all():
            return body + _note(f"No PAM50 calls to group by: run {_code('hm.tl.pam50(mdata)')}.")
        table = tl.tmb_by_group(m, groupby=_keys.KEY_PAM50)
        if table.empty:
            return body
        test = table.attrs
        shown = pd.DataFrame(
            {
                "PAM50": table[_keys.KEY_PAM50],
                "samples": table["n"],
                "median TMB (IQR)": [
                    f"{md:.2f} ({a:.2f}–{b:.2f})"
                    for md, a, b in zip(table["median"], table["q1"], table["q3"], strict=True)
                ],
                "hypermutated": table["n_hypermutated"],
            }
        )
        if np.isfinite(test["p"]):
            verdict = "differs between" if test["p"] < 0.05 else "does not differ detectably between"
            sentence = (
                f"TMB {verdict} the PAM50 subtypes: Kruskal–Wallis H = {test['statistic']:.2f} over "
                f"{test['n_groups']} subtypes with at least 2 samples (n = {test['n']}), effect size ε² = "
                f"{test['epsilon_squared']:.3f}, p = {_fmt_p(test['p'])}. This is the section's one test, so "
                "its p-value needs no multiple-testing correction."
            )
        else:
            sentence = "Too few subtypes with at least 2 samples, or no spread in TMB, for a test across subtypes."
        return body + "<h3>By PAM50 call</h3>" + _table(shown) + f"<p>{sentence}</p>"

    def section_immune(self) -> str:
        m = self.mdata
        body = self._by_group_section(
            "immune_class",
            f"No immune classes in the store ({_slot('obs', 'immune_class')}): run "
            f"{_code('hm.tl.immune_scores(mdata)')} and {_code('hm.tl.immune_status(mdata)')} on RNA data that "
            "covers the immune signature genes.",
            "Immune status from expression signatures: hot, intermediate or cold.",
            steps=("immune_scores", "immune_status"),
        )
        immune = m.obsm.get(_keys.KEY_IMMUNE) if _keys.KEY_IMMUNE in m.obsm else None
        if isinstance(immune, pd.DataFrame) and immune.shape[1]:
            desc = immune.apply(pd.to_numeric, errors="coerce").describe().T[["count", "mean", "50%", "std"]]
            desc.columns = ["samples", "mean", "median", "sd"]
            desc.index.name = "score"
            body += "<h3>Immune scores</h3>" + _table(desc, index=True)
            summary = self.assoc_summary()
            if summary is not None:
                sub = summary[summary["covariate"].isin(self._immune_score_names())]
                if not sub.empty:
                    best = sub.sort_values("p").groupby("covariate", sort=False).head(1)
                    best = best.assign(**{"Spearman ρ": best["rho"], "FDR": best["p"]})[
                        ["covariate", "factor", "Spearman ρ", "FDR"]
                    ].rename(columns={"covariate": "score", "factor": "closest factor"})
                    body += "<p>The factor most correlated with each score:</p>" + _table(best)
        body += self._published_purity()
        return body

    # -- our calls against published ones (tl.compare_*; shown only when the store carries published columns)
    def _published_labels(self) -> str:
        from . import tl

        m = self.mdata
        try:
            stats = tl.compare_labels(m, key=_keys.KEY_PAM50)
        except MissingResultError:
            return (
                '<h3>Against published PAM50 labels</h3><p class="muted">The store carries published PAM50 labels '
                f"but no calls of ours to compare: run {_code('hm.tl.pam50(mdata)')}.</p>"
            )
        if stats.empty:
            return ""
        from .pl import label_confusion

        table = pd.DataFrame(
            {
                "published label": stats["reference"],
                "agree / compared": [f"{a} / {n}" for a, n in zip(stats["n_agree"], stats["n_compared"], strict=True)],
                "agreement": [_pct(x) for x in stats["agreement"]],
                "Cohen's κ": [f"{k:.3f}" if np.isfinite(k) else "–" for k in stats["kappa"]],
            }
        )
        figs = [
            _figure(
                label_confusion(m, r, key=_keys.KEY_PAM50),
                f"PAM50 confusion against {r}",
                f"Our calls (rows) against {_e(r)} (columns); samples with both.",
            )
            for r in stats.loc[stats["n_compared"] > 0, "reference"]
        ]
        return (
            "<h3>Against published PAM50 labels</h3>"
            f"<p>Our calls ({_code('hm.tl.pam50')}) against each published label ({_code('hm.tl.compare_labels')}): "
            "samples with both a call and a label; agreement is the share of identical labels, Cohen's κ the "
            "agreement beyond chance (unweighted). TCGA 2012 names are mapped to the PAM50 labels (Luminal A → "
            "LumA, …); Not_Applicable counts as no label.</p>"
            + _table(table)
            + '<div class="grid2">'
            + "".join(figs)
            + "</div>"
        )

    def _receptor_status(self) -> str:
        m = self.mdata
        statuses = [c for c in ("er_status", "her2_status") if c in m.obs.columns and m.obs[c].notna().any()]
        if not statuses:
            return ""
        return self._receptor_calls() + self._receptor_markers(statuses)

    def _receptor_calls(self) -> str:
        """Our ER/PR/HER2 calls (hm.tl.receptor_status) against the clinical status, when both are in the store."""
        from . import tl

        m = self.mdata
        if not {"er_call", "her2_call"} & set(m.obs.columns):
            return ""
        seed, n_boot = 0, 2000
        scores = tl.compare_receptor_status(m, seed=seed, n_boot=n_boot)
        if scores.empty:
            return ""
        table = pd.DataFrame(
            {
                "call": scores["marker"],
                "clinical status": scores["reference"],
                "positive / negative": [
                    f"{p} / {n}" for p, n in zip(scores["n_positive"], scores["n_negative"], strict=True)
                ],
                "called": [f"{c} ({_pct(v)})" for c, v in zip(scores["n_called"], scores["coverage"], strict=True)],
                **{
                    f"{column.replace('_', ' ')} (95% CI)": [
                        _with_interval(v, lo, hi)
                        for v, lo, hi in zip(
                            scores[column], scores[f"{column}_low"], scores[f"{column}_high"], strict=True
                        )
                    ]
                    for column in ("sensitivity", "specificity", "balanced_accuracy")
                },
                "balanced accuracy (called only)": [
                    _with_interval(v, np.nan, np.nan) for v in scores["balanced_accuracy_called"]
                ],
            }
        )
        return (
            "<h3>Our receptor calls against the clinical status</h3>"
            f"<p>ER/HER2 calls of {_code('hm.tl.receptor_status')} (expression mixtures and ERBB2 copy number; no "
            "threshold is fitted on these labels) against the clinical status "
            f"({_code('hm.tl.compare_receptor_status')}). Our Equivocal and missing calls count as wrong in "
            "sensitivity, specificity and balanced accuracy; the last column scores the called samples only. "
            "95% confidence intervals: Wilson score intervals for sensitivity and specificity; for the balanced "
            f"accuracy, the 2.5th–97.5th percentiles of {n_boot:,} bootstrap resamples drawn within each clinical "
            f"class (seed {seed}). docs/precision.md explains the method and its limits.</p>" + _table(table)
        )

    def _receptor_markers(self, statuses: list[str]) -> str:
        from . import tl

        m = self.mdata
        stats = tl.compare_status(m)
        if stats.empty:
            return (
                '<h3>Receptor status against marker genes</h3><p class="muted">The store has '
                f"{_e(', '.join(statuses))} but no ESR1/ERBB2 feature in its rna or cnv modality.</p>"
            )
        from .pl import status_markers

        table = pd.DataFrame(
            {
                "status": stats["status_column"],
                "marker": [f"{f} ({md})" for f, md in zip(stats["feature"], stats["mod"], strict=True)],
                "positive / negative": [
                    f"{p} / {n}" for p, n in zip(stats["n_positive"], stats["n_negative"], strict=True)
                ],
                "median positive": stats["median_positive"],
                "median negative": stats["median_negative"],
                "AUC": [f"{a:.3f}" for a in stats["auc"]],
                "Mann–Whitney p": [_fmt_p(p) for p in stats["pvalue"]],
                "FDR": [_fmt_p(p) for p in stats["fdr"]],
            }
        )
        return (
            "<h3>Receptor status against marker genes</h3>"
            f"<p>Published ER and HER2 status against ESR1 and ERBB2 expression and ERBB2 copy number "
            f"({_code('hm.tl.compare_status')}). AUC: the probability that a Positive sample has the higher value "
            "(0.5: no separation). p: two-sided Mann–Whitney U test; FDR: Benjamini–Hochberg across the "
            f"{len(stats)} comparisons of this table.</p>"
            + _table(table)
            + _figure(
                status_markers(m),
                "marker values by receptor status",
                "Marker values per status (box: quartiles; points: samples).",
            )
        )

    def _published_purity(self) -> str:
        from . import tl
        from .pl import purity_comparison

        m = self.mdata
        try:
            stats = tl.compare_purity(m)
        except MissingResultError:
            return (
                '<h3>Purity against published estimates</h3><p class="muted">The store carries published purity '
                f"but no ESTIMATE purity of ours: run {_code('hm.tl.immune_scores(mdata)')}.</p>"
            )
        if stats.empty:
            return ""
        table = pd.DataFrame(
            {
                "published": stats["reference"],
                "samples": stats["n"],
                "Spearman ρ": stats["spearman_rho"],
                "Spearman p": [_fmt_p(p) for p in stats["spearman_pvalue"]],
                "Spearman FDR": [_fmt_p(p) for p in stats["spearman_fdr"]],
                "Pearson r": stats["pearson_r"],
                "Pearson p": [_fmt_p(p) for p in stats["pearson_pvalue"]],
                "Pearson FDR": [_fmt_p(p) for p in stats["pearson_fdr"]],
                "mean |difference|": stats["mean_abs_diff"],
                "mean difference (ours − published)": stats["mean_diff"],
            }
        )
        parts = [
            "<h3>Purity against published estimates</h3>",
            f"<p>Our ESTIMATE purity ({_slot('obsm', 'immune')}, column {_code('estimate_purity')}) "
            "against the published "
            "ESTIMATE, ABSOLUTE and CPE purity (Aran et al. 2015) where the store has them "
            f"({_code('hm.tl.compare_purity')}); samples with both values. ESTIMATE against ESTIMATE checks the "
            "implementation; ABSOLUTE (from copy number) and CPE (a consensus) are independent estimates. FDR: "
            "Benjamini–Hochberg across the references of this table, per test.</p>",
            _table(table, numeric_digits=3),
        ]
        if (stats["n"] >= 3).any():
            parts.append(
                _figure(
                    purity_comparison(m, references=list(stats.loc[stats["n"] >= 3, "reference"])),
                    "purity against published purity",
                    "Dashed: identity line.",
                )
            )
        return "".join(parts)

    def section_survival(self) -> str:
        m = self.mdata
        if not self.has_survival():
            return _note(
                f"No overall-survival data in the store ({_slot('obs', 'os_time')} in days and "
                f"{_slot('obs', 'os_event')} 0/1, for at least 5 samples)."
            )
        try:
            from ._errors import require

            require("lifelines", extra="survival", purpose="Kaplan–Meier curves in the report")
        except ImportError as err:
            return _note(_e(err), "warn")
        from .pl import kaplan_meier

        t = pd.to_numeric(m.obs["os_time"], errors="coerce")
        e = pd.to_numeric(m.obs["os_event"], errors="coerce")
        ok = t.notna() & e.notna()
        parts = [
            f"<p>{int(ok.sum()):,} samples with follow-up, {int(e[ok].sum()):,} deaths; median follow-up "
            f"{t[ok].median() / 365.25:.1f} years (all samples). Curves: Kaplan–Meier estimates; ticks mark "
            "censored samples; p: log-rank test.</p>"
        ]
        figs = []
        groupings = [
            c for c in (_keys.KEY_PAM50, "immune_class") if c in m.obs.columns and m.obs.loc[ok, c].nunique() > 1
        ]
        # the figures show each log-rank p; its FDR (BH over these groupings) goes in the caption
        from .tl import bh_fdr
        from .tl import kaplan_meier as km_table

        group_p = [float(km_table(m, c, key=self.key)["logrank_pvalue"].iloc[0]) for c in groupings]
        for col, fdr in zip(groupings, bh_fdr(group_p), strict=True):
            figs.append(
                _figure(
                    kaplan_meier(m, col, key=self.key),
                    f"Kaplan–Meier by {col}",
                    f"Overall survival by {_e(col)}; log-rank FDR {_fmt_p(fdr)} (Benjamini–Hochberg "
                    f"over the {len(groupings)} groupings shown).",
                )
            )
        surv = self.factor_survival()
        if surv is not None and len(surv):
            for row in surv.sort_values("pvalue").head(2).itertuples():
                figs.append(
                    _figure(
                        kaplan_meier(m, row.factor, key=self.key),
                        f"Kaplan–Meier by {row.factor}",
                        f"Overall survival, samples above vs below the median of {_e(row.factor)}; "
                        f"log-rank FDR {_fmt_p(row.logrank_fdr)} (Benjamini–Hochberg over the factors, "
                        "as in the table).",
                    )
                )
            parts.append(
                f"<p>Per factor (from {_code('hm.tl.survival')}): a univariate Cox model (hazard ratio per "
                "standard deviation, Wald p) and a log-rank test of the samples above vs below the factor's "
                "median. Each test's p-values are Benjamini–Hochberg adjusted over the factors. A factor is "
                f"called associated with survival when its Cox FDR is below {_ALPHA:g}; the last column shows "
                "where the two tests disagree.</p>"
            )
            table = pd.DataFrame(
                {
                    "factor": surv["factor"],
                    "samples": surv["n"],
                    "events": surv["n_events"],
                    "HR per SD": [f"{v:.2f}" if np.isfinite(v) else "–" for v in surv["hr"].astype(float)],
                    "95% CI": [
                        f"{a:.2f}–{b:.2f}" if np.isfinite(a) else "–"
                        for a, b in zip(surv["hr_lower"], surv["hr_upper"], strict=True)
                    ],
                    "Cox p": [_fmt_p(v) for v in surv["pvalue"].astype(float)],
                    "Cox FDR": [_fmt_p(v) for v in surv["fdr"].astype(float)],
                    "log-rank p (median split)": [_fmt_p(v) for v in surv["logrank_pvalue"].astype(float)],
                    "log-rank FDR": [_fmt_p(v) for v in surv["logrank_fdr"].astype(float)],
                    "called": ["yes" if c else "no" for c in surv["called"]],
                    "Cox vs log-rank": surv["agreement"],
                }
            )
            parts.append(_table(table))
            covs = surv["covariates"].iloc[0] if "covariates" in surv.columns and len(surv) else ""
            if isinstance(covs, str) and covs:
                parts.append(f'<p class="muted">Cox models adjusted for {_e(covs.replace(";", ", "))}.</p>')
        if self._surv_note:
            parts.append(_note(self._surv_note))
        parts.append('<div class="grid2">' + "".join(figs) + "</div>")
        return "".join(parts)

    def section_factor_details(self) -> str:
        if not self.has_model:
            return _note("Needs a factor model.")
        from .pl import top_weights

        names = self.factor_names()
        views = [v for v in self.mdata.mod if self.key in self.mdata.mod[v].varm]
        summary = self.assoc_summary()
        surv = self.factor_survival()
        r2 = None
        try:
            from ._results import r2_table

            r2 = r2_table(self.mdata, self.key)
        except MissingResultError as err:  # R² is optional here
            logger.info("report: factor details without R²: %s", err)
        parts = [
            "<p>The features with the largest weights on each factor, per view (scaled to the view's largest "
            "absolute weight; red: positive, blue: negative). Samples with high scores on a factor have high "
            "values of its positive-weight features.</p>"
        ]
        shown = names[:_MAX_FACTOR_DETAILS]
        if len(names) > len(shown):
            parts.append(_note(f"Showing the first {len(shown)} of {len(names)} factors."))
        for f in shown:
            bits = []
            if r2 is not None and f in r2.columns:
                bits.append("R² " + ", ".join(f"{v} {_pct(r2.at[v, f])}" for v in r2.index))
            if summary is not None:
                g = summary[(summary["factor"] == f) & (summary["p"] < _ALPHA)].sort_values("p")
                for r in g.head(4).itertuples():
                    what = (
                        f"{'↑' if r.auc >= 0.5 else '↓'} {r.level}"
                        if r.level
                        else (f"ρ {r.rho:+.2f}" if np.isfinite(r.rho) else "")
                    )
                    bits.append(f"{r.covariate}: {what} (FDR {_fmt_p(r.p)})")
            if surv is not None and f in set(surv["factor"]):
                s = surv.set_index("factor").loc[f]
                if np.isfinite(s["hr"]):
                    bits.append(
                        f"survival: HR {s['hr']:.2f}/SD (Cox p {_fmt_p(s['pvalue'])}, FDR {_fmt_p(s['fdr'])}; "
                        f"log-rank FDR {_fmt_p(s['logrank_fdr'])})"
                    )
            body = f'<h3 id="factor-{_slug(f)}">{_e(f)}</h3><p class="muted">{_e(" · ".join(bits))}</p>'
            if views:
                body += _figure(top_weights(self.mdata, f, key=self.key, views=views, n_top=10), f"top weights of {f}")
            parts.append(f'<div class="factor-card">{body}</div>')
        return "".join(parts)

    # -- DIABLO
    def diablo_keys(self) -> list[str]:
        """The ``uns`` keys of DIABLO fits."""
        return _results.diablo_keys(self.mdata)

    def section_diablo(self) -> str:
        keys = self.diablo_keys()
        parts = [
            "<p>DIABLO (multiblock sparse PLS-DA, mixOmics) finds, per omic block, a few features whose "
            "combination separates the classes and agrees across blocks. Below: the fit's parameters, the "
            "features it selected, how much of each block the components explain, and the samples and "
            "features in the component space.</p>"
        ]
        for key in keys:
            if len(keys) > 1:
                parts.append(f'<h3 id="diablo-{_slug(key)}">{_e(key)}</h3>')
            parts.append(self._diablo_fit(key))
        return "".join(parts)

    def _diablo_fit(self, key: str) -> str:
        from .pl import diablo_circle, diablo_heatmap, diablo_samples
        from .tl import diablo_selected

        m, info = self.mdata, self.mdata.uns[key]
        blocks = [str(b) for b in np.asarray(info.get("blocks", []), dtype=object).ravel()]
        classes = [str(c) for c in np.asarray(info.get("classes", []), dtype=object).ravel()]
        facts = [
            ("result key", key),
            ("label", info.get("label", "")),
            ("classes", ", ".join(classes)),
            ("blocks", ", ".join(blocks)),
            ("components", info.get("n_components", "")),
            ("scaled", info.get("scale", "")),
            ("seed", info.get("seed", "")),
        ]
        params = info.get("params")
        if isinstance(params, Mapping):
            facts += [(str(k), _param_text(v)) for k, v in params.items()]
        facts = [(name, _param_text(value)) for name, value in facts]
        parts = ["<h3>Parameters</h3>", _table(pd.DataFrame(facts, columns=["", "value"]), cls="kv")]
        design = info.get("design")
        if isinstance(design, pd.DataFrame):
            parts.append(
                "<details><summary>Design (weight of each pair of blocks)</summary>"
                + _table(design.rename_axis("block"), index=True)
                + "</details>"
            )

        selected = diablo_selected(m, key=key)
        keep = info.get("keep")
        rows = []
        for (block, component), frame in selected.groupby(["block", "component"], sort=False):
            kept = keep.get(block) if isinstance(keep, Mapping) else None
            n_keep = np.asarray(kept).ravel()[component - 1] if kept is not None and np.size(kept) >= component else ""
            rows.append(
                {
                    "block": block,
                    "component": f"comp{component}",
                    "keep": n_keep,
                    "selected": len(frame),
                    "features (largest |loading| first)": ", ".join(frame["feature"]),
                }
            )
        parts.append("<h3>Selected features</h3>")
        if rows:
            parts.append(_table(pd.DataFrame(rows)))
        else:
            parts.append(_note("The fit selected no feature.", "warn"))
        parts.append("<details><summary>Loadings of every selected feature</summary>" + _table(selected) + "</details>")

        explained = info.get("explained_variance")
        if isinstance(explained, pd.DataFrame) and explained.size:
            shown = (explained.astype(float) * 100).round(1).rename_axis("block")
            parts.append("<h3>Explained variance (% of each block)</h3>" + _table(shown, index=True))
        outcome = info.get("outcome_correlation")
        if isinstance(outcome, pd.DataFrame) and outcome.size:
            parts.append(
                "<details><summary>Correlation of each block's variate with the outcome's</summary>"
                + _table(outcome.astype(float).round(3).rename_axis("block"), index=True)
                + "</details>"
            )
        parts.append(self._diablo_errors(key, info))

        n_components = int(info.get("n_components") or 1)
        if n_components >= 2:
            parts.append("<h3>Samples</h3>")
            parts.append(
                _figure(
                    diablo_samples(m, key=key),
                    "DIABLO sample plots",
                    "Samples on components 1 and 2 of each block and of the consensus (mean of each sample's "
                    "block variates), coloured by class.",
                )
            )
            parts.append("<h3>Correlation circle</h3>")
            parts.append(
                _figure(
                    diablo_circle(m, key=key, labels=len(selected) <= 80),
                    "DIABLO correlation circle",
                    "Each selected feature at its correlations with its block's components 1 and 2 "
                    "(circles of radius 0.5 and 1).",
                )
            )
        parts.append("<h3>Clustered heatmap</h3>")
        parts.append(
            _figure(
                diablo_heatmap(m, key=key),
                "DIABLO clustered heatmap",
                "Selected features (rows, block on the left) × samples having every block (columns, class on "
                "top), z-scored; rows and columns ordered by hierarchical clustering.",
            )
        )
        return "".join(parts)

    def _diablo_errors(self, key: str, info: Mapping[str, Any]) -> str:
        """Balanced error of a ``predict_diablo`` result in this store, and the fit's tuning table."""
        from .tl import balanced_error

        m = self.mdata
        parts = []
        label = str(info.get("label", _keys.KEY_PAM50))
        predictions = [
            str(k)
            for k, v in m.uns.items()
            if isinstance(v, Mapping) and "per_block" in v and "vote" in v and str(k) in m.obs.columns
        ]
        for pkey in predictions:
            if label not in m.obs.columns:
                continue
            truth = m.obs[label].astype(object)
            known = truth.notna().to_numpy()
            if not known.any():
                continue
            pred = m.obs[pkey].astype(object)
            rows = [("all blocks (vote)", int(known.sum()), balanced_error(truth[known], pred[known]))]
            per_block = m.uns[pkey].get("per_block")
            if isinstance(per_block, pd.DataFrame):
                per_block = per_block.reindex(m.obs_names)
                for block in per_block.columns:
                    has = known & per_block[block].notna().to_numpy()
                    if has.any():
                        rows.append((str(block), int(has.sum()), balanced_error(truth[has], per_block[block][has])))
            table = pd.DataFrame(rows, columns=["prediction", "samples", "balanced error"])
            parts.append(
                f"<h3>Prediction ({_code(pkey)})</h3><p>Balanced error rate of "
                f"{_code('hm.tl.predict_diablo')} against {_slot('obs', label)} (mean over classes of the "
                f"fraction misclassified; distance {_e(m.uns[pkey].get('distance', ''))}, vote "
                f"{_e(m.uns[pkey].get('vote', ''))}).</p>" + _table(table)
            )
        tuning = info.get("tuning")
        if isinstance(tuning, pd.DataFrame) and not tuning.empty:
            error_columns = [c for c in tuning.columns if "error" in str(c).lower()]
            shown = tuning.sort_values(error_columns[0]) if error_columns else tuning
            best = ""
            if error_columns:
                value = float(shown[error_columns[0]].iloc[0])
                best = f"<p>Lowest cross-validated {_e(error_columns[0])}: <b>{_fmt(value)}</b>.</p>"
            parts.append(
                f"<h3>Tuning</h3>{best}<details><summary>Cross-validation grid "
                f"({len(tuning):,} rows, best first)</summary>{_table(shown, max_rows=100)}</details>"
            )
        if not parts:
            tune = _code('keep="tune"')
            parts.append(
                _note(
                    f"No prediction error in the store: {_code('hm.tl.predict_diablo(new, mdata)')} on a held-out "
                    f"cohort, or {tune} in {_code('hm.tl.diablo')}, gives one."
                )
            )
        return "".join(parts)

    # -- exports
    def _export_items(self) -> list[tuple[str, Path]]:
        ex = self.exports
        if ex is None:
            rec = self.mdata.uns.get("harmonomics_exports")
            if isinstance(rec, pd.DataFrame) and "path" in rec.columns:
                ex = list(rec["path"].astype(str))
            elif isinstance(rec, Mapping):
                ex = {str(k): str(v) for k, v in rec.items() if isinstance(v, (str, os.PathLike))}
            else:
                return []
        if isinstance(ex, Mapping):
            return [(str(k), Path(v)) for k, v in ex.items()]
        if isinstance(ex, (str, os.PathLike)):
            p = Path(ex)
            if p.is_dir():
                return [(str(f.relative_to(p)), f) for f in sorted(p.rglob("*")) if f.is_file()]
            return [(p.name, p)]
        return [(Path(x).name, Path(x)) for x in ex]

    def section_exports(self) -> str:
        items = self._export_items()
        if not items:
            return _note(
                f"No exported files were given. {_code('hm.export')} writes tables for R, GSEA (GMT/GCT), "
                f"cBioPortal and MOFA; pass them with {_code('hm.report(..., exports=folder)')} to link them "
                "here."
            )
        rows = []
        for label, p in items:
            exists = p.exists()
            try:
                rel = os.path.relpath(p.resolve(), self.out.parent.resolve())
            except ValueError:  # another drive on Windows
                rel = str(p.resolve())
            href = urllib.parse.quote(Path(rel).as_posix())
            link = f'<a href="{_e(href)}">{_e(label)}</a>' if exists else f"{_e(label)} (missing)"
            size = _human_size(p.stat().st_size) if exists and p.is_file() else ""
            rows.append({"file": link, "kind": _kind(p), "size": size, "path": Path(rel).as_posix()})
        return "<p>Links are relative to this report: keep the report next to the exported files.</p>" + _table(
            pd.DataFrame(rows), raw=["file"]
        )

    # -- provenance
    def section_provenance(self) -> str:
        prov = self.mdata.uns.get(_keys.UNS_PROVENANCE)
        if not isinstance(prov, Mapping):
            return _note(f"The store has no provenance record ({_slot('uns', 'harmonomics')}).")
        facts = []
        for k in (_keys.UNS_FORMAT_VERSION, "reader", "created", "time"):
            if prov.get(k) not in (None, ""):
                facts.append((k.replace("_", " "), _fmt(prov[k])))
        params = prov.get("parameters") or prov.get("params")
        if isinstance(params, Mapping):
            for k, v in params.items():
                facts.append((f"parameter: {k}", str(v)))
        parts = [_table(pd.DataFrame(facts, columns=["", "value"]), cls="kv")] if facts else []
        versions = prov.get("versions")
        if isinstance(versions, Mapping) and versions:
            parts.append(
                "<h3>Package versions</h3>"
                + _table(pd.DataFrame(list(versions.items()), columns=["package", "version"]))
            )
        files = prov.get("files")
        if files is not None:
            files = pd.DataFrame(files)
            if len(files):
                parts.append(f"<h3>Input files ({len(files):,})</h3>" + _table(files, max_rows=200))
        if self.has_model:
            info = self.mdata.uns[self.key]
            v = info.get("versions")
            if isinstance(v, Mapping) and v:
                parts.append(
                    "<h3>Factor model versions</h3>"
                    + _table(pd.DataFrame(list(v.items()), columns=["package", "version"]))
                )
        return "".join(parts) or _note("The provenance record is empty.")


def _agreement(cox_fdr: float, logrank_fdr: float, cox_p: float, logrank_p: float) -> str:
    """How the Cox and log-rank tests of one factor compare: both called, one only, or nominal disagreement."""
    cox_sig, lr_sig = bool(cox_fdr < _ALPHA), bool(logrank_fdr < _ALPHA)
    if cox_sig and lr_sig:
        return "both significant"
    if cox_sig:
        return "Cox only (log-rank FDR ≥ 0.05)"
    if lr_sig:
        return "log-rank only (Cox FDR ≥ 0.05): not called"
    if (cox_p < _ALPHA) != (logrank_p < _ALPHA):
        which = "Cox" if cox_p < _ALPHA else "log-rank"
        return f"neither after FDR; nominal {which} p < 0.05 only"
    return "neither"


def _param_text(value: Any) -> str:
    """A fit parameter as short text: numbers formatted, lists comma-joined, dicts as ``key: value`` pairs."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_param_text(v)}" for k, v in value.items())
    if isinstance(value, str) or np.ndim(value) == 0:
        return _fmt(value)
    return ", ".join(_param_text(v) for v in np.asarray(value, dtype=object).ravel())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-") or "x"


def _human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def _kind(p: Path) -> str:
    name = p.name.lower()
    if "cbioportal" in (part.lower() for part in p.parts):
        return "cBioPortal " + ("meta file" if name.startswith("meta_") else "data file")
    for suffix, kind in (
        (".gmt", "gene sets (GMT)"),
        (".gct", "expression (GCT)"),
        (".tsv", "table (TSV)"),
        (".csv", "table (CSV)"),
        (".parquet", "table (Parquet)"),
        (".hdf5", "MOFA model (HDF5)"),
        (".h5", "HDF5"),
        (".h5mu", "store (h5mu)"),
        (".txt", "text"),
        (".rnk", "ranked list"),
        (".json", "JSON"),
        (".gz", "compressed"),
    ):
        if name.endswith(suffix):
            return kind
    return p.suffix.lstrip(".") or "file"


_CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --accent:#3d5a80; --bg:#f7f8fa; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.55 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: var(--bg); }
header { background: #243b55; color: #fff; padding: 28px 40px 18px; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 600; }
header .sub { color: #c9d6e3; font-size: 13px; }
nav { position: sticky; top: 0; z-index: 5; background: #fff; border-bottom: 1px solid var(--line);
      padding: 8px 40px; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 13px; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
main { max-width: 1180px; margin: 0 auto; padding: 12px 40px 60px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px 28px 22px;
          margin: 22px 0; scroll-margin-top: 48px; }
h2 { font-size: 20px; margin: 18px 0 10px; color: #243b55; border-bottom: 2px solid #e8edf3; padding-bottom: 6px; }
h3 { font-size: 16px; margin: 22px 0 8px; color: #334e68; scroll-margin-top: 48px; }
p { margin: 8px 0; }
.muted { color: var(--muted); font-size: 13px; }
code { background: #f0f3f7; padding: 1px 5px; border-radius: 4px; font-size: 13px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { flex: 1 1 160px; background: #f4f7fb; border: 1px solid #dde5ee; border-radius: 8px; padding: 10px 14px; }
.card-label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card-value { font-size: 17px; font-weight: 600; margin-top: 2px; }
.highlights { background: #f3f9f4; border-left: 4px solid #3a9e4a; padding: 4px 18px; border-radius: 4px;
  margin-top: 14px; }
.highlights h3 { margin-top: 10px; }
.table-wrap { overflow-x: auto; margin: 10px 0; }
table { border-collapse: collapse; font-size: 13px; min-width: 40%; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 12px; text-align: left; vertical-align: top; }
th { background: #f4f6f9; font-weight: 600; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv td:first-child { color: var(--muted); white-space: nowrap; }
table.kv td.num { text-align: left; }
table.kv thead { display: none; }
table.factors td { white-space: nowrap; }
.sig { color: #0b6b2f; font-weight: 600; }
.ns { color: var(--muted); }
figure { margin: 16px 0; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; max-width: 900px; }
.grid2 { display: flex; flex-wrap: wrap; gap: 0 28px; }
.grid2 figure { flex: 0 1 auto; }
.factor-card { border-top: 1px solid var(--line); padding-top: 4px; }
.note { border-radius: 6px; padding: 10px 14px; margin: 10px 0; font-size: 14px; }
.note.info { background: #eef4fb; border-left: 4px solid #5b8bd0; }
.note.warn { background: #fff7e6; border-left: 4px solid #e0a030; }
.note.error { background: #fdecea; border-left: 4px solid #c0392b; }
details { margin: 10px 0; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
.chip { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: middle; }
footer { text-align: center; color: var(--muted); font-size: 12px; padding: 20px; }
@media print { nav { display: none; } section { break-inside: avoid-page; border: none; } body { background: #fff; } }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="harmonomics">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header><h1>{title}</h1><div class="sub">{subtitle}</div></header>
<nav>{nav}</nav>
<main>
{body}
</main>
<footer>Self-contained report: every figure is embedded; the page loads nothing from the network.</footer>
</body>
</html>
"""


_BARCODE_IN_TEXT = re.compile(
    r"TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}(?:-[0-9]{2}[A-Z]?)?(?:-[0-9]{2}[A-Z]?)?(?:-[A-Z0-9]{4}-[0-9]{2})?"
)
_FILE_IN_TEXT = re.compile(r"\s*\(file [^)]*\)|\s*\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\S*")
_PATH_IN_TEXT = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s,;()'\"]+)+")
# a count before a plural noun ("1,234 variants", "12 rows"): varies per file, not per kind of decision
_COUNT_IN_TEXT = re.compile(r"\b\d[\d,]*(?=\s+(?:[A-Za-z]+\s+)?[A-Za-z]+s\b)")


def _reason_kind(reason: str) -> str:
    """A report reason without the barcodes, file names, paths and counts it mentions, so that like decisions group
    together (e.g. every "masked somatic MAF, N variants")."""
    text = _FILE_IN_TEXT.sub("", str(reason))
    text = _PATH_IN_TEXT.sub("…", text)
    text = _COUNT_IN_TEXT.sub("N", text)
    return _BARCODE_IN_TEXT.sub("…", text).strip()


def _short_item(item: Any) -> str:
    """A report item for an examples column: the file name of a path, the item itself otherwise."""
    text = str(item)
    return Path(text).name if ("/" in text or "\\" in text) else text


# --------------------------------------------------------------------------------------------------------------
def render_page(title: str, sections: Sequence[tuple[str, str, Any]], *, what: str, note: str = "") -> str:
    """One self-contained page: every ``(id, heading, build)`` section in order, with the navigation bar.

    A section whose data cannot support it (a :class:`HarmonomicsError`) becomes a note saying why, and the others
    are still shown; figures a failed section left open are closed. ``note`` follows the "Generated ..." line.
    """
    import matplotlib.pyplot as plt

    parts = []
    for sid, heading, build in sections:
        open_before = set(plt.get_fignums())
        try:
            body = build()
        except HarmonomicsError as err:  # the store's data cannot support this part; the others still show
            logger.warning("%s %r could not be built: %s", what, sid, err, exc_info=True)
            body = _note(f"This {what} could not be built: {_e(type(err).__name__)}: {_e(err)}", "error")
        finally:  # figures left open by a failure must not pile up (or pop up in a notebook)
            for num in set(plt.get_fignums()) - open_before:
                plt.close(num)
        parts.append(f'<section id="{sid}"><h2>{_e(heading)}</h2>{body}</section>')
    nav = "".join(f'<a href="#{sid}">{_e(h)}</a>' for sid, h, _ in sections)
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"Generated {now} by harmonomics {__version__}" + (f" · {note}" if note else "")
    return _PAGE.format(csp=_CSP, title=_e(title), css=_CSS, nav=nav, subtitle=_e(subtitle), body="".join(parts))


# the page toolkit under public names, for the other page of the report layer: the patient card (harmonomics._card)
# --------------------------------------------------------------------------------------------------------------
escape = _e
format_value = _fmt
html_table = _table
html_note = _note
html_code = _code
