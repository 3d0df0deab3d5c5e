"""Shared test configuration: headless matplotlib, quiet progress bars, paths to the shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the repository (read-only real data). Tests needing it fail in CI (CI=true) when it is
# absent, and skip only outside CI, so a green CI always means the truth tests ran.
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# Optional dependencies a test may skip without, outside CI as inside: the `gpu` extra (cupy) is not part of
# `.[all]`, which CI installs. Every other extra is in `all`, so a missing import there is a broken install.
SKIPPABLE_IN_CI = ("cupy",)


def _import_skip_forbidden(report) -> bool:
    """A skip from ``pytest.importorskip`` of a module CI must have."""
    if not (_in_ci() and report.skipped and isinstance(report.longrepr, tuple)):
        return False
    reason = str(report.longrepr[2])
    return "could not import" in reason and not any(f"'{name}" in reason for name in SKIPPABLE_IN_CI)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if _import_skip_forbidden(report):
        report.outcome = "failed"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _import_skip_forbidden(report):
        report.outcome = "failed"


@pytest.fixture(scope="session", autouse=True)
def _mudata_future_update():
    """The suite's own code (building stores by hand, slicing them) runs as a user who adopted mudata 0.4's
    ``update()``; the package sets nothing process-wide, and tests/test_mudata_options.py checks it under mudata's
    own defaults."""
    import mudata

    from harmonomics._compat import _needs_future_update

    if not _needs_future_update(mudata):
        yield
        return
    with mudata.set_options(pull_on_update=False):
        yield


@pytest.fixture(autouse=True)
def _quiet_settings():
    import harmonomics as hm

    previous = hm.settings.verbosity
    hm.settings.verbosity = 1  # no progress bars in test logs
    yield
    hm.settings.verbosity = previous


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's shared real-data folder (../shared/data)."""
    if not SHARED_DATA.is_dir():
        message = f"shared data folder not found at {SHARED_DATA}"
        if _in_ci():
            pytest.fail(message + " (CI must run with ../shared/data beside the clone)")
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture(scope="session")
def brca121_base():
    """The bundled tcga_brca_121 store, read once for the session. Never modify it: take ``.copy()``."""
    import harmonomics as hm

    return hm.datasets.tcga_brca_121()


#: Protein-altering (non-synonymous coding) MAF classes, written out from FORMATS.md, not imported from the package.
PROTEIN_ALTERING = (
    "Missense_Mutation",
    "Nonsense_Mutation",
    "Frame_Shift_Del",
    "Frame_Shift_Ins",
    "In_Frame_Del",
    "In_Frame_Ins",
    "Splice_Site",
    "Translation_Start_Site",
    "Nonstop_Mutation",
)


@pytest.fixture(scope="session")
def study_es0_raw(shared_data):
    """cBioPortal's reference study as written, read with pandas: its folder, gene panel matrix (SAMPLE_ID index,
    "NA" as written), the genes of each panel file, and the protein-altering lines of its MAF."""
    from types import SimpleNamespace

    import pandas as pd

    folder = shared_data / "real_files" / "cbioportal" / "study_es_0"
    matrix = pd.read_csv(folder / "data_gene_panel_matrix.txt", sep="\t", dtype=str, keep_default_na=False)
    genes = {}
    for path in sorted(folder.glob("data_gene_panel_testpanel*.txt")):
        fields = dict(line.split(":", 1) for line in path.read_text().splitlines() if ":" in line)
        genes[fields["stable_id"].strip()] = set(fields["gene_list"].split())
    maf = pd.read_csv(folder / "data_mutations_extended.maf", sep="\t", dtype=str, keep_default_na=False, comment="#")
    return SimpleNamespace(
        folder=folder,
        panel_matrix=matrix.set_index("SAMPLE_ID"),
        panel_genes=genes,
        coding_maf=maf[maf["Variant_Classification"].isin(PROTEIN_ALTERING)],
    )
