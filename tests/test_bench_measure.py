"""The benchmarks' shared timing and peak-memory helpers (benchmarks/_measure.py)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "_measure.py"


@pytest.fixture(scope="module")
def measure_module():
    spec = importlib.util.spec_from_file_location("_bench_measure", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measure_sees_a_held_allocation(measure_module):
    def allocate():
        block = np.ones(64 * 2**20 // 8)  # 64 MiB, written so the pages are resident
        time.sleep(0.05)  # long enough for several 5 ms samples
        return float(block[-1])

    result, seconds, peak = measure_module.measure(allocate)
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
