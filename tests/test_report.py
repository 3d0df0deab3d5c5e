"""hm.report: the self-contained HTML report (content, self-containment, partial stores, a real browser)."""

from __future__ import annotations

import base64
import html
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import harmonomics as hm

matplotlib.use("Agg")

_spec = importlib.util.spec_from_file_location("_pl_fixtures", Path(__file__).parent / "pl" / "conftest.py")
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
make_store = _fixtures.make_store

SECTIONS = [
    "summary",
    "cohort",
    "model",
    "factors",
    "subtypes",
    "actionable",
    "tmb",
    "immune",
    "survival",
    "factor-details",
    "exports",
    "provenance",
]


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """One report of a store holding every result, with an exports folder beside it."""
    root = tmp_path_factory.mktemp("report")
    exports = root / "exports"
    (exports / "gsea").mkdir(parents=True)
    (exports / "factors.tsv").write_text("sample\tFactor1\n")
    (exports / "gsea" / "factor 1.gmt").write_text("set\tdesc\tA\n")
    mdata = make_store(n=60, k=3)
    before = {k: (type(v).__name__) for k, v in mdata.uns.items()}
    path = hm.report(mdata, root / "out" / "report.html", exports=exports, title="Test cohort <&>")
    return {
        "path": path,
        "text": path.read_text(encoding="utf-8"),
        "mdata": mdata,
        "before": before,
        "exports": exports,
    }


def _section(text: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', text, flags=re.S)
    assert match, f"section {sid} missing"
    return match.group(1)


def test_report_has_every_section_and_no_errors(full):
    text = full["text"]
    assert full["path"].name == "report.html"
    for sid in SECTIONS:
        _section(text, sid)
    assert 'class="note error"' not in text
    assert "<title>Test cohort &lt;&amp;&gt;</title>" in text  # escaped
    cohort = _section(text, "cohort")
    # harmonization: what was dropped and why
    assert "normal tissue (sample type 11)" in cohort and "duplicate aliquot" in cohort
    # samples × omics
    n_prot = full["mdata"].mod["prot"].n_obs
    assert re.search(rf"<td>prot</td><td>protein \(RPPA\)</td><td class=\"num\">{n_prot}</td>", cohort)
    model = _section(text, "model")
    assert "converged" in model and "Variance explained" in model and "ELBO" in model
    factors = _section(text, "factors")
    assert "Basal (FDR" in factors  # Factor1's planted subtype link
    assert "HR " in factors  # survival per factor (Cox)
    assert "Factor by factor" in text and 'id="factor-Factor3"' in text


def test_report_is_self_contained(full):
    text = full["text"]
    urls = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', text)
    assert urls
    assert not [u for u in urls if re.match(r"(?i)(https?:)?//", u)]
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    images = re.findall(r'<img src="([^"]+)"', text)
    assert len(images) >= 8
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_links_exports_relative_to_the_report(full):
    exports = _section(full["text"], "exports")
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', exports)]
    assert sorted(hrefs) == ["../exports/factors.tsv", "../exports/gsea/factor%201.gmt"]
    from urllib.parse import unquote

    for h in hrefs:
        assert (full["path"].parent / unquote(h)).is_file()


def test_report_leaves_the_store_unchanged(full):
    assert {k: type(v).__name__ for k, v in full["mdata"].uns.items()} == full["before"]


@pytest.mark.parametrize("strip", ["everything", "results"])
def test_report_on_partial_store(tmp_path, strip):
    mdata = make_store(n=30, k=2)
    for key in ("immune",):
        del mdata.obsm[key]
    for col in ("pam50", "immune_class", "os_time", "os_event"):
        del mdata.obs[col]
    if strip == "everything":
        del mdata.obsm["mofa"], mdata.uns["mofa"], mdata.uns["harmonomics_report"], mdata.uns["harmonomics"]
        for m in mdata.mod:
            del mdata.mod[m].varm["mofa"]
    path = hm.report(mdata, tmp_path)
    assert path == tmp_path / "harmonomics_report.html"
    text = path.read_text()
    assert 'class="note error"' not in text
    for sid in SECTIONS:
        _section(text, sid)
    assert "hm.tl.pam50(mdata)" in _section(text, "subtypes")
    assert "hm.tl.immune_status(mdata)" in _section(text, "immune")
    assert "No overall-survival data" in _section(text, "survival")
    if strip == "everything":
        assert "No factor model" in _section(text, "model")
        assert "no harmonization report" in _section(text, "cohort")
    else:
        assert "Variance explained" in _section(text, "model")


def test_report_survives_a_failing_analysis(tmp_path, monkeypatch, caplog):
    """An analysis the store's data cannot support (a harmonomics error) becomes a note on the page."""
    from harmonomics._errors import InsufficientDataError
    from harmonomics.tl import _associations

    def too_few(*args, **kwargs):
        raise InsufficientDataError("simulated: too few samples")

    monkeypatch.setattr(_associations, "associate", too_few)
    mdata = make_store(n=30, k=2)
    for col in ("pam50", "immune_class", "os_time", "os_event"):  # fewer figures: keep the test fast
        del mdata.obs[col]
    del mdata.uns["mofa"]["r2_per_view_factor"]
    text = hm.report(mdata, tmp_path / "r.html").read_text()
    assert "hm.tl.associate failed on this store: InsufficientDataError: simulated: too few samples" in text
    assert "No variance-explained table" in text
    for sid in SECTIONS:
        _section(text, sid)
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []  # no figure left open


def test_report_does_not_hide_a_programming_error(tmp_path, monkeypatch):
    from harmonomics.tl import _associations

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(_associations, "associate", boom)
    mdata = make_store(n=30, k=2)
    for col in ("pam50", "immune_class", "os_time", "os_event"):
        del mdata.obs[col]
    with pytest.raises(RuntimeError, match="simulated bug"):
        hm.report(mdata, tmp_path / "r.html")
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []  # figures of the failed section are closed


def test_report_reads_a_store_file(tmp_path):
    mdata = make_store(n=24, k=2)
    for col in ("pam50", "immune_class", "os_time", "os_event"):  # a cheap report: the point is reading
        del mdata.obs[col]
    del mdata.obsm["mofa"], mdata.uns["mofa"]
    store = tmp_path / "s.h5mu"
    hm.store.write(mdata, store)
    text = hm.report(store, tmp_path / "r.html").read_text()
    assert "<h2>Cohort</h2>" in text and "normal tissue (sample type 11)" in text


def test_report_bad_input(tmp_path, store_small):
    with pytest.raises(TypeError, match="MuData"):
        hm.report(pd.DataFrame(), tmp_path / "r.html")
    with pytest.raises(ValueError, match=r"\.html"):
        hm.report(store_small, tmp_path / "r.pdf")
    with pytest.raises(ValueError, match="key"):
        hm.report(store_small, tmp_path / "r.html", key="")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_hm_report_is_the_function(tmp_path, store_small):
    import types

    import harmonomics._report  # noqa: F401 - binds the private module on the package, not `report`

    assert isinstance(hm.report, types.FunctionType) and type(harmonomics._report) is types.ModuleType
    assert hm.report(store_small, tmp_path / "a.html").is_file()


@pytest.fixture
def store_small():
    """A store without results (a cheap report)."""
    mdata = make_store(n=20, k=2)
    for col in ("pam50", "immune_class", "os_time", "os_event"):
        del mdata.obs[col]
    del mdata.obsm["mofa"], mdata.uns["mofa"]
    return mdata


# ---------------------------------------------------------------- in a real browser
_PROBE_HEAD = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push(e.message ? 'js: ' + e.message
    : 'resource: ' + (e.target && (e.target.alt || e.target.src || e.target.tagName)));
}, true);
document.addEventListener('securitypolicyviolation', function (e) {
  window.__errors.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI);
});
</script>"""
_PROBE_TAIL = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var out = {
    images: imgs.length,
    broken: imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
      .map(function (i) { return i.alt; }),
    hidden: imgs.filter(function (i) { var r = i.getBoundingClientRect(); return !(r.width > 0 && r.height > 0); })
      .map(function (i) { return i.alt; }),
    sections: Array.prototype.slice.call(document.querySelectorAll('section[id] > h2'))
      .map(function (h) { return h.parentNode.id + ':' + h.textContent; }),
    errors: window.__errors,
    title: document.title
  };
  var pre = document.createElement('pre');
  pre.id = '__probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.browser
def test_report_renders_in_headless_chromium(full, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    text = full["text"]
    # a probe copy: the page's own policy plus inline scripts for the probe only
    probe = text.replace("style-src 'unsafe-inline'", "style-src 'unsafe-inline'; script-src 'unsafe-inline'", 1)
    probe = probe.replace("<head>", "<head>" + _PROBE_HEAD, 1).replace("</body>", _PROBE_TAIL + "</body>", 1)
    page = full["path"].with_name("probe.html")
    page.write_text(probe, encoding="utf-8")
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,2000",
        "--virtual-time-budget=5000",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    match = re.search(r'<pre id="__probe">(.*?)</pre>', done.stdout, flags=re.S)
    assert match, f"the page did not finish loading in chromium (rc {done.returncode}): {done.stderr[-2000:]}"
    result = json.loads(html.unescape(match.group(1)))
    assert result["errors"] == []
    assert result["images"] == text.count("<img ")
    assert result["broken"] == [] and result["hidden"] == []
    assert [s.split(":")[0] for s in result["sections"]] == SECTIONS
    assert result["title"] == "Test cohort <&>"
    assert not _console_problems(done.stderr)
    # the report itself (no probe) must not trip its own Content-Security-Policy
    done2 = subprocess.run([*cmd[:-1], full["path"].as_uri()], capture_output=True, text=True, timeout=90, check=False)
    assert "<h2>Provenance</h2>" in done2.stdout
    assert not _console_problems(done2.stderr)


def _console_problems(stderr: str) -> list[str]:
    """Console messages about errors, blocked loads or policy violations in chromium's log."""
    bad = ("error", "uncaught", "refused", "violates", "failed to load", "blocked")
    return [
        line
        for line in stderr.splitlines()
        if ("CONSOLE" in line or "Uncaught" in line) and any(b in line.lower() for b in bad)
    ]


def test_report_exports_as_mapping_with_a_missing_file(tmp_path, store_small):
    (tmp_path / "scores.tsv").write_text("x\n")
    exports = {"factor scores": tmp_path / "scores.tsv", "model": tmp_path / "gone.hdf5"}
    text = hm.report(store_small, tmp_path / "sub" / "r.html", exports=exports).read_text()
    section = _section(text, "exports")
    assert '<a href="../scores.tsv">factor scores</a>' in section
    assert "model (missing)" in section and "gone.hdf5" in section


# ---------------------------------------------------------------- findings need FDR < 0.05
def _survival_store(seed: int = 13, n: int = 160, k: int = 12):
    """12 factors: Factor1 drives survival strongly, Factor7 weakly (raw Cox p < 0.05 but FDR > 0.05 for this seed)."""
    import anndata as ad
    import mudata as md
    import numpy as np

    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k))
    hazard = np.exp(0.9 * z[:, 0] + 0.2 * z[:, 6])
    event_time, censor_time = rng.exponential(2000 / hazard), rng.uniform(300, 4000, n)
    samples = [f"S{i:03d}" for i in range(n)]
    rna = ad.AnnData(
        rng.normal(size=(n, 8)).astype("float32"),
        obs=pd.DataFrame(index=samples),
        var=pd.DataFrame(index=[f"G{i}" for i in range(8)]),
    )
    rna.varm["mofa"] = rng.normal(size=(8, k))
    mdata = md.MuData({"rna": rna})
    mdata.obsm["mofa"] = z
    mdata.uns["mofa"] = {"factor_names": [f"Factor{i + 1}" for i in range(k)], "views": ["rna"]}
    mdata.obs["os_time"] = np.minimum(event_time, censor_time).round()
    mdata.obs["os_event"] = (event_time <= censor_time).astype(int)
    return mdata


def test_report_calls_only_fdr_significant_survival_factors(tmp_path):
    mdata = _survival_store()
    cox = hm.tl.survival(mdata.copy()).set_index("factor")
    # the planted case: Factor7 is nominally significant but not after Benjamini–Hochberg over 12 factors
    assert cox.at["Factor7", "pvalue"] < 0.05 < cox.at["Factor7", "fdr"]
    assert cox.at["Factor1", "fdr"] < 1e-6
    assert (cox.drop(["Factor1"])["fdr"] > 0.05).all()
    text = hm.report(mdata, tmp_path / "r.html").read_text()
    summary = _section(text, "summary")
    findings = re.findall(r"<li>(.*?)</li>", summary, flags=re.S)
    assert len(findings) == 1 and "<b>Factor1</b> is associated with overall survival" in findings[0]
    f1 = cox.loc["Factor1"]
    assert f"HR {f1['hr']:.2f} per SD" in findings[0] and "Cox model" in findings[0]
    assert re.search(r"FDR [0-9.e-]+ over 12 factors", findings[0])
    assert "Factor7" not in summary
    # the factor table: green (sig) for Factor1's Cox FDR only; Factor7 is shown, not highlighted
    factors = _section(text, "factors")
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r'href="#factor-(Factor\d+)">.*?</a></td>(.*?)</tr>', factors, flags=re.S)
    }
    assert 'class="sig"' in rows["Factor1"]
    assert 'class="sig"' not in rows["Factor7"] and "nominal Cox p &lt; 0.05 only" in rows["Factor7"]
    assert factors.count('class="sig"') == 1
    survival = _section(text, "survival")
    assert "Cox FDR" in survival and "log-rank FDR" in survival and "Cox vs log-rank" in survival
    # each Kaplan–Meier figure's caption carries the FDR of the log-rank p drawn in it (the table's value)
    f1_logrank = cox.at["Factor1", "logrank_fdr"]
    fmt = f"{f1_logrank:.2g}" if f1_logrank >= 1e-4 else f"{f1_logrank:.1e}"
    assert f"median of Factor1; log-rank FDR {fmt}" in survival


def test_report_findings_always_cite_an_fdr(full):
    summary = _section(full["text"], "summary")
    findings = re.findall(r"<li>(.*?)</li>", summary, flags=re.S)
    assert findings
    for item in findings:
        assert "FDR" in item and ("test" in item or "Cox model" in item)
        assert re.search(r"AUC|ρ|HR", item)  # an effect size


# ---------------------------------------------------------------- our calls against published labels (real data)
def test_report_compares_with_published_labels(tmp_path, shared_data):
    spec = importlib.util.spec_from_file_location(
        "_reference_tests", Path(__file__).parent / "tl" / "test_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mdata = module.build_real_store(shared_data)
    text = hm.report(mdata, tmp_path / "real.html").read_text()
    assert 'class="note error"' not in text
    subtypes = _section(text, "subtypes")
    assert "Against published PAM50 labels" in subtypes
    assert re.search(r"<td>pam50_xena</td><td>99 / 99</td><td>100.0%</td><td>1.000</td>", subtypes)
    assert re.search(r"<td>pam50_tcga2012</td><td>63 / 67</td><td>94.0%</td><td>0\.9\d\d</td>", subtypes)
    assert subtypes.count('alt="PAM50 confusion against') == 2
    assert "Receptor status against marker genes" in subtypes and "ERBB2 (cnv)" in subtypes
    assert "68 / 53" in subtypes and "39 / 82" in subtypes  # ER and HER2 positive / negative
    immune = _section(text, "immune")
    assert "Purity against published estimates" in immune
    assert re.search(r"<td>purity_estimate</td><td class=\"num\">121</td><td class=\"num\">0\.99\d*</td>", immune)
    assert 'alt="purity against published purity"' in immune
    # a store without published columns says nothing about them
    assert "Against published" not in _section(_plain_report(tmp_path), "subtypes")


def _plain_report(tmp_path) -> str:
    mdata = make_store(n=20, k=2)
    for col in ("immune_class", "os_time", "os_event"):
        del mdata.obs[col]
    del mdata.obsm["mofa"], mdata.uns["mofa"]
    return hm.report(mdata, tmp_path / "plain.html").read_text()


# ---------------------------------------------------------------- polish: harmonization kinds, ROR table, ELBO axis
def test_report_groups_harmonization_reasons_and_ror_has_no_nan(tmp_path, store_small):
    mdata = store_small
    rep = pd.DataFrame(mdata.uns["harmonomics_report"])
    uuids = [f"{i:08x}-1111-2222-3333-{i:012x}" for i in range(30)]
    mafs = pd.DataFrame(
        {
            "level": "file",
            "item": [f"/data/gdc/{u}/{u}.wxs.aliquot_ensemble_masked.maf.gz" for u in uuids],
            "omic": "mut",
            "sample": "",
            "action": "kept",
            "reason": [f"masked somatic MAF, {100 + 7 * i:,} variants" for i in range(30)],
        }
    )
    mdata.uns["harmonomics_report"] = pd.concat([rep, mafs], ignore_index=True)
    mdata.obs["pam50"] = pd.Categorical(["LumA", "Basal", None, "LumB"] * 5)
    mdata.obs["pam50_ror_s_group"] = pd.Categorical(["low", "high", "high", None] * 5)
    text = hm.report(mdata, tmp_path / "r.html").read_text()
    cohort = _section(text, "cohort")
    grouped = cohort.split("<details>")[0]
    rows = re.findall(
        r"<tr><td>kept</td><td>file</td><td>mut</td><td>(.*?)</td><td class=\"num\">(\d+)</td><td>(.*?)</td>", grouped
    )
    assert rows == [
        (
            "masked somatic MAF, N variants",
            "30",
            f"{uuids[0]}.wxs.aliquot_ensemble_masked.maf.gz, "
            f"{uuids[1]}.wxs.aliquot_ensemble_masked.maf.gz, {uuids[2]}.wxs.aliquot_ensemble_masked.maf.gz …",
        )
    ]
    assert "/data/gdc/" not in grouped
    subtypes = _section(text, "subtypes")
    ror = subtypes.split("Risk of recurrence")[1]
    assert ">nan<" not in ror and "10 samples without a PAM50 call or an ROR-S group" in ror
    assert re.search(r"<th>low</th><th>high</th>", ror)  # low → high order, only the groups present


def test_elbo_figure_shows_every_iteration():
    elbo = -np.concatenate([[5e7, 2e6, 4e5], np.linspace(2e5, 1.5e5, 40)])
    mdata = make_store(n=30, k=2)
    mdata.uns["mofa"].update(elbo=elbo, converged=True, n_iterations=43)
    mdata.uns["mofa"].pop("elbo_iterations", None)
    fig = hm.pl.elbo(mdata)
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    assert len(line.get_xdata()) == 43 and line.get_xdata()[0] == 1
    low, high = ax.get_ylim()
    assert low <= elbo.min() and high >= elbo.max()  # nothing cut off
    assert ax.get_yscale() == "symlog"
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_report_says_when_no_biomarker_is_enriched(tmp_path):
    mdata = make_store(n=30, k=2)
    # one carrier in each of the five PAM50 calls (the store's first five samples, one per call): no contrast
    first = [str(s) for s in mdata.obs_names[:5]]
    mdata.uns["actionable"] = pd.DataFrame({"sample": first, "biomarker": "X_marker", "therapy_class": "drug"})
    counts = hm.tl.actionable_by_group(mdata)
    assert counts.attrs["n_tests"] == 5 and (counts["fdr"] >= 0.25).all()
    section = html.unescape(_section(hm.report(mdata, tmp_path / "r.html").read_text(), "actionable"))
    assert "No biomarker is enriched in a subtype at FDR < 0.25 (5 tests)." in section
    assert "Benjamini–Hochberg over the 5 tests" in section
    assert "X_marker" in section and "Fisher p" not in section
