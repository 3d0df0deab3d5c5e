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
