"""Fixtures of the reader tests; the small GDC files themselves are written by gdc_files.py."""

from pathlib import Path

import pytest
from gdc_files import write_gdc


@pytest.fixture
def gdc_folder(tmp_path) -> Path:
    return write_gdc(tmp_path / "gdc")
