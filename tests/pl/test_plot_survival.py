"""hm.pl.kaplan_meier: curves, log-rank p-value and the number-at-risk table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import harmonomics as hm
from harmonomics._errors import MissingResultError


def _curve(ax, label_start):
    return next(line for line in ax.get_lines() if line.get_label().startswith(label_start))


def test_kaplan_meier_matches_hand_computed_estimate(store):
    # 6 samples in group A with a known product-limit estimate, the rest in group B
    obs = store.obs
    a = obs.index[:6]
    obs["grp"] = pd.Categorical(np.where(obs.index.isin(a), "A", "B"))
    obs.loc[a, "os_time"] = [365.25 * t for t in (1, 2, 3, 4, 5, 6)]
    obs.loc[a, "os_event"] = [1, 0, 1, 1, 0, 1]
    fig = hm.pl.kaplan_meier(store, "grp")
    assert isinstance(fig, Figure)
    main, table = fig.axes
    line = _curve(main, "A (n=6, 4 events)")
    # S(t): 1 → 5/6 at 1y; censored at 2y; ×3/4 at 3y; ×2/3 at 4y; censored at 5y; 0 at 6y
    want = {0.0: 1.0, 1.0: 5 / 6, 3.0: 5 / 6 * 3 / 4, 4.0: 5 / 6 * 3 / 4 * 2 / 3, 6.0: 0.0}
    got = dict(zip(line.get_xdata(), line.get_ydata(), strict=True))
    for t, s in want.items():
        assert got[t] == pytest.approx(s)
    assert main.get_xlabel() == "time (years)"
    # number at risk in group A at each tick of the time axis
    ticks = [x for x in main.get_xticks()]
    risk = {(round(t.get_position()[0], 6), t.get_position()[1]): t.get_text() for t in table.texts}
    for x in ticks:
        assert risk[(round(x, 6), 0)] == str(int((np.arange(1, 7) >= x).sum()))
    assert main.get_title(loc="right").startswith("log-rank p = ")


def test_kaplan_meier_factor_split_logrank(store):
    from lifelines.statistics import logrank_test

    fig, ax = plt.subplots()
    out = hm.pl.kaplan_meier(store, "Factor3", years=False, risk_table=False, ax=ax)
    assert out is ax
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels[0].startswith("Factor3 low (n=30") and labels[1].startswith("Factor3 high (n=30")
    z = store.obsm["mofa"][:, 2]
    high = z > np.median(z)
    t, e = store.obs["os_time"].to_numpy(), store.obs["os_event"].to_numpy()
    p = logrank_test(t[high], t[~high], e[high], e[~high]).p_value
    assert ax.get_title(loc="right") == f"log-rank p = {p:.2g}"
    assert ax.get_xlabel() == "time (days)"


def test_kaplan_meier_drops_samples_without_follow_up(store):
    store.obs.loc[store.obs_names[:10], "os_time"] = np.nan
    fig = hm.pl.kaplan_meier(store, "immune_class", ci=True)
    n = sum(
        int(line.get_label().split("n=")[1].split(",")[0])
        for line in fig.axes[0].get_lines()
        if "n=" in line.get_label()
    )
    assert n == store.n_obs - 10


def test_kaplan_meier_bad_input(store):
    with pytest.raises(KeyError, match="neither a factor"):
        hm.pl.kaplan_meier(store, "nope")
    with pytest.raises(ValueError, match="quantile"):
        hm.pl.kaplan_meier(store, "Factor1", quantile=1.5)
    bad = store.copy()
    bad.obs.loc[bad.obs_names[3], "os_event"] = 2
    with pytest.raises(ValueError, match="must be 0/1"):
        hm.pl.kaplan_meier(bad, "pam50")
    bad = store.copy()
    bad.obs.loc[bad.obs_names[0], "os_time"] = -5
    with pytest.raises(ValueError, match="negative times"):
        hm.pl.kaplan_meier(bad, "pam50")
    del store.obs["os_time"]
    with pytest.raises(MissingResultError, match="os_time"):
        hm.pl.kaplan_meier(store, "pam50")
