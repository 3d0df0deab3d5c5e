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


@pytest.fixture(autouse=True)
def _quiet_settings():
    import harmonomics as hm
    from harmonomics._compat import configure_mudata

    configure_mudata()
    previous = hm.settings.verbosity
    hm.settings.verbosity = 1  # no progress bars in test logs
    yield
    hm.settings.verbosity = previous


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's shared real-data folder (../shared/data)."""
    if not SHARED_DATA.is_dir():
        message = f"shared data folder not found at {SHARED_DATA}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + " (CI must run with ../shared/data beside the clone)")
        pytest.skip(message)
    return SHARED_DATA
