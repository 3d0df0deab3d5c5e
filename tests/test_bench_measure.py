"""The benchmarks' shared timing and peak-memory helpers (benchmarks/_measure.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "_measure.py"


@pytest.fixture(scope="module")
def measure_module():
    spec = importlib.util.spec_from_file_location("_bench_measure", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ALLOCATE = """
import sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from _measure import measure

def allocate():
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, written so the pages are resident
    time.sleep(0.05)  # long enough for several 5 ms samples
    return float(block[-1])

result, seconds, peak = measure(allocate)
print(result, seconds, peak)
"""


def test_measure_sees_a_held_allocation():
    # a fresh process: a long-lived one (this test session) may serve the block from memory it already holds
    done = subprocess.run(
        [sys.executable, "-c", _ALLOCATE, str(_PATH.parent)], capture_output=True, text=True, check=True, timeout=60
    )
    result, seconds, peak = (float(v) for v in done.stdout.split())
    assert result == 1.0
    assert seconds >= 0.05
    assert peak >= 48  # resident growth, less whatever the allocator reused


def test_compare_alternates_and_reports_medians(measure_module):
    calls = []

    def ours(store):
        calls.append(("ours", store))
        time.sleep(0.02)
        return "ours"

    def baseline():
        calls.append(("baseline", None))
        return "baseline"

    fresh = iter(range(10))
    summary, ours_result, baseline_result = measure_module.compare(ours, baseline, repeats=3, setup=lambda: next(fresh))
    assert calls == [("ours", 0), ("baseline", None), ("ours", 1), ("baseline", None), ("ours", 2), ("baseline", None)]
    assert (ours_result, baseline_result) == ("ours", "baseline")
    assert summary["threads"] == 1  # BLAS pools capped by default
    for side in ("ours", "baseline"):
        assert len(summary[side]["seconds_all"]) == 3
        assert summary[side]["seconds"] == sorted(summary[side]["seconds_all"])[1]
    assert summary["ratio"] == summary["ours"]["seconds"] / summary["baseline"]["seconds"]
    assert min(summary["ours"]["seconds_all"]) >= 0.02
    with pytest.raises(ValueError, match="repeats"):
        measure_module.compare(ours, baseline, repeats=0)
