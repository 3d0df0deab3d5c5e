"""Timing and peak-memory helpers shared by the benchmark scripts (``from _measure import measure, compare``).

Peak memory is the process's resident set size sampled every 5 ms from a background thread (psutil), reported
above its level when the call starts: far cheaper than tracemalloc, so the time of the same call stays usable. It
is a lower bound in a process that has run earlier steps: memory those steps freed but the allocator kept (the
heap, pools) is reused without growing the resident size.
"""

from __future__ import annotations

import gc
import statistics
import threading
import time
from collections.abc import Callable

MIB = 2**20
SAMPLE_INTERVAL_S = 0.005


def measure(fn, *args, **kwargs):
    """Run ``fn``; return (result, seconds, peak resident memory above the level at the start, in MiB).

    Garbage left by earlier steps is collected first (untimed): freed during the call, it would hide the call's own
    growth.
    """
    import psutil

    gc.collect()
    process = psutil.Process()
    start_rss = process.memory_info().rss
    peak = [start_rss]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            done.wait(SAMPLE_INTERVAL_S)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    start = time.perf_counter()
    try:
        result = fn(*args, **kwargs)
    finally:
        seconds = time.perf_counter() - start
        done.set()
        thread.join()
    peak[0] = max(peak[0], process.memory_info().rss)
    return result, seconds, (peak[0] - start_rss) / MIB


def compare(
    ours: Callable,
    baseline: Callable,
    *,
    repeats: int = 3,
    setup: Callable | None = None,
    threads: int | None = 1,
) -> tuple[dict, object, object]:
    """Time ``ours`` against ``baseline`` in this process, alternating the two ``repeats`` times.

    ``setup`` (untimed), when given, is called before each run of ``ours`` and its return value passed to it (a
    fresh store for a function that writes into its input); ``baseline`` takes no argument. Returns the summary
    ``{"ours": {...}, "baseline": {...}, "ratio": ours / baseline, "ratio_fastest", "repeats", "threads"}`` (each side:
    ``seconds`` = the median, ``seconds_all``, ``peak_mib`` = the largest peak above the start of a run;
    ``ratio_fastest`` = ours' fastest run / the baseline's fastest) and the two functions' last results.
    Alternating spreads the machine's load drift over both sides. ``threads`` caps the BLAS/OpenMP thread pools
    of both sides (threadpoolctl; ``None``: as configured): on a small shared machine, oversubscribed pools make
    small fits several times slower and their times erratic.
    """
    from threadpoolctl import threadpool_limits

    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    runs: dict[str, list[tuple[float, float]]] = {"ours": [], "baseline": []}
    ours_result = baseline_result = None
    for _ in range(repeats):
        argument = () if setup is None else (setup(),)
        with threadpool_limits(limits=threads):
            ours_result, seconds, peak = measure(ours, *argument)
            runs["ours"].append((seconds, peak))
            baseline_result, seconds, peak = measure(baseline)
            runs["baseline"].append((seconds, peak))
    summary: dict = {"repeats": repeats, "threads": threads}
    for side, values in runs.items():
        summary[side] = {
            "seconds": statistics.median(s for s, _ in values),
            "seconds_all": [s for s, _ in values],
            "peak_mib": max(p for _, p in values),
        }
    summary["ratio"] = summary["ours"]["seconds"] / summary["baseline"]["seconds"]
    # the fastest runs are the least disturbed by other jobs on a shared machine
    summary["ratio_fastest"] = min(summary["ours"]["seconds_all"]) / min(summary["baseline"]["seconds_all"])
    return summary, ours_result, baseline_result
