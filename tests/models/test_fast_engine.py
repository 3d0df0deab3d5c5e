"""Tests of the fast factor engine (``harmonomics.models._fast_engine``) against plain mofapy2."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from harmonomics.models._fast_engine import EngineError, StoppingRule, accelerate
from harmonomics.models._fast_sim import build, fit, recovery, simulate
from harmonomics.models._memory import estimate_memory, memory_breakdown

pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),  # mofapy2 log/exp of zero spike probabilities
    pytest.mark.filterwarnings("ignore::FutureWarning:sklearn.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:sklearn.*"),
]

# small problem of the issue: N=120, a few views incl. one bernoulli, 10% missing samples, K=5
VIEWS = (80, 50, 40)
LIKS = ("gaussian", "gaussian", "bernoulli")
FAST_OPTS = {
    "n_factors": 5,
    "seed": 1,
    "maxiter": 200,
    "convergence_mode": "medium",
    "freq_elbo": 1,
    "start_sparsity": 1,
}


def _assert_equivalent(ref, new, *, min_corr=0.999, elbo_rtol=1e-6, min_checked=2):
    # same iteration count
    assert new.n_iter == ref.n_iter
    # ELBO trace (every evaluated iteration) to 1e-6 relative
    assert ref.elbo.shape == new.elbo.shape
    ok = ~np.isnan(ref.elbo)
    np.testing.assert_array_equal(ok, ~np.isnan(new.elbo))
    rel = np.abs(new.elbo[ok] - ref.elbo[ok]) / np.abs(ref.elbo[ok])
    assert rel.max() <= elbo_rtol
    # factors, matched by index (same initialisation): |corr| >= 0.999 for every non-degenerate factor
    assert new.Z.shape == ref.Z.shape
    n_checked = 0
    for k in range(ref.Z.shape[1]):
        a, b = ref.Z[:, k], new.Z[:, k]
        if a.std() < 1e-10 and b.std() < 1e-10:  # factor switched off in both (spike-and-slab)
            continue
        assert abs(np.corrcoef(a, b)[0, 1]) >= min_corr, f"factor {k}"
        n_checked += 1
    assert n_checked >= min_checked
    for wa, wb in zip(ref.W, new.W, strict=True):
        assert wa.shape == wb.shape


@pytest.fixture(scope="module")
def small():
    return simulate(120, VIEWS, LIKS, n_factors=4, missing_fraction=0.1, seed=3)


@pytest.fixture(scope="module")
def small_ref(small):
    return fit(small.data, small.likelihoods, engine="mofapy2", **FAST_OPTS)


@pytest.fixture(scope="module")
def small_fast(small):
    return fit(small.data, small.likelihoods, engine="fast", **FAST_OPTS)


def test_equivalence_float64(small, small_ref, small_fast):
    _assert_equivalent(small_ref, small_fast)
    # in float64 the updates are the same equations: agreement to round-off, not just 1e-6
    np.testing.assert_allclose(small_fast.Z, small_ref.Z, atol=1e-8)
    for wa, wb in zip(small_ref.W, small_fast.W, strict=True):
        np.testing.assert_allclose(wb, wa, atol=1e-8)
    # planted factors are recovered equally
    np.testing.assert_allclose(recovery(small.Z, small_fast.Z), recovery(small.Z, small_ref.Z), atol=1e-6)
    info = small_fast.engine_info
    assert info["engine"] == "fast" and info["views"] == ["gaussian", "gaussian", "bernoulli"]
    assert info["backend"] in ("numpy", "cupy")


def test_variance_explained_matches(small_ref, small_fast):
    m0, m1 = small_ref.extra["ent"].model, small_fast.extra["ent"].model
    for total in (False, True):
        a, b = m0.calculate_variance_explained(total=total), m1.calculate_variance_explained(total=total)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_allclose(y, x, atol=1e-10)


def test_equivalence_groups_scattered_spikeslab_factors():
    """Two groups, scattered missing entries, spike-and-slab + ARD on the factors, mofapy2 default schedule."""
    sim = simulate(120, (60, 40, 30), LIKS, n_factors=4, seed=5, scattered_fraction=0.05)
    groups = np.array(["b"] * 70 + ["a"] * 50)  # unsorted names: group index != order in the data
    opts = dict(FAST_OPTS, groups=groups, spikeslab_factors=True, ard_factors=True, maxiter=120)
    ref = fit(sim.data, sim.likelihoods, engine="mofapy2", **opts)
    new = fit(sim.data, sim.likelihoods, engine="fast", **opts)
    _assert_equivalent(ref, new)
    np.testing.assert_allclose(new.Z, ref.Z, atol=1e-8)


def test_equivalence_ard_weights_poisson_weighted_views():
    """ARD-only weights (W_Node), a poisson view (Seeger pseudo-data) and weight_views=True."""
    sim = simulate(
        100, (60, 40, 30), ("gaussian", "poisson", "bernoulli"), n_factors=3, seed=7, scattered_fraction=0.02
    )
    opts = dict(FAST_OPTS, spikeslab_weights=False, weight_views=True, maxiter=40)
    ref = fit(sim.data, sim.likelihoods, engine="mofapy2", **opts)
    new = fit(sim.data, sim.likelihoods, engine="fast", **opts)
    _assert_equivalent(ref, new)


def test_float32_recovers_same_factors(small, small_fast):
    new = fit(small.data, small.likelihoods, engine="fast", float32=True, **FAST_OPTS)
    assert new.engine_info["float32"] is True
    for k in range(small_fast.Z.shape[1]):
        a, b = small_fast.Z[:, k], new.Z[:, k]
        if a.std() < 1e-10:
            continue
        assert abs(np.corrcoef(a, b)[0, 1]) >= 0.999
    np.testing.assert_allclose(recovery(small.Z, new.Z), recovery(small.Z, small_fast.Z), atol=1e-3)
    e32, e64 = new.elbo[~np.isnan(new.elbo)][-1], small_fast.elbo[~np.isnan(small_fast.elbo)][-1]
    assert abs(e32 - e64) <= 1e-4 * abs(e64)
    # parameters stay float64
    assert new.Z.dtype == np.float64


def test_no_n_by_d_by_k_allocation():
    """Training allocates far less than one N x D x K array (and less than mofapy2's N x D temporaries)."""
    N, views, K = 500, (2500, 500), 10
    sim = simulate(N, views, ("gaussian", "gaussian"), n_factors=5, seed=11, scattered_fraction=0.001)
    ent = build(sim.data, sim.likelihoods, n_factors=K, maxiter=4, nostop=True, freq_elbo=1)
    accelerate(ent.model)
    import contextlib
    import io

    tracemalloc.start()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            ent.run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    ndk = N * max(views) * K * 8
    nd = N * max(views) * 8
    assert peak < ndk / 10
    assert peak < nd / 2  # not even one N x D float64 temporary of the largest view


def test_window_stopping_rule(small):
    opts = dict(FAST_OPTS, maxiter=400)
    res = fit(
        small.data,
        small.likelihoods,
        engine="fast",
        stopping={"tol": 1e-4, "window": 5, "min_iter": 10},
        **opts,
    )
    state = res.engine_info["stopping_state"]
    assert res.engine_info["stopping"]["rule"] == "elbo_window"
    assert state["stopped_at"] is not None and 10 <= state["stopped_at"] < 400
    assert res.n_iter == state["stopped_at"]
    assert len(state["trace"]) >= res.n_iter  # ELBO recorded at every evaluation (freqELBO=1)
    assert state["rates"][-1][1] < 1e-4
    # a tighter tolerance never stops earlier
    res2 = fit(
        small.data,
        small.likelihoods,
        engine="fast",
        stopping=StoppingRule(tol=1e-6, window=5, min_iter=10),
        **opts,
    )
    assert res2.n_iter >= res.n_iter


# A planted model on which the ELBO-only window rule stops while two planted factors are still being learned
# (max |r| 0.71 and 0.76 at its stop; 0.997 and 0.998 once the factors are at rest): the TCGA-BRCA view design
# at a quarter of the width, N=500, simulator seed 1, hm.tl.mofa's defaults (K=15, scale_views, seed 0).
SLOW_WEAK = {"n_factors": 15, "seed": 0, "maxiter": 1000, "scale_views": True}
SLOW_FACTORS = [3, 7]  # the planted factors the window rule leaves half-learned


@pytest.fixture(scope="module")
def slow_weak():
    views = (1250, 1250, 50, 500, 50)
    return simulate(500, views, ("gaussian",) * 4 + ("bernoulli",), n_factors=10, missing_fraction=0.1, seed=1)


@pytest.fixture(scope="module")
def slow_weak_factors(slow_weak):
    """The fast engine's default: randomized-SVD initialisation and the "factors" rule."""
    return fit(slow_weak.data, slow_weak.likelihoods, stopping="factors", init="svd", **SLOW_WEAK)


def _planted_matches(planted: np.ndarray, ref: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Per planted factor learned by ``ref`` (max |r| >= 0.5): |corr| of the ``ref`` and ``new`` factors that match it.

    The factors that carry no planted signal (K=15 fitted for 10 planted) model noise and depend on the
    initialisation; they are not compared.
    """

    def unit(z):
        z = z - z.mean(axis=0)
        sd = np.sqrt((z * z).sum(axis=0))
        return z / np.where(sd > 0, sd, 1.0)

    p, a, b = unit(planted), unit(ref), unit(new)
    ca, cb = np.abs(p.T @ a), np.abs(p.T @ b)
    learned = ca.max(axis=1) >= 0.5
    ia, ib = ca.argmax(axis=1)[learned], cb.argmax(axis=1)[learned]
    return np.abs(np.einsum("nk,nk->k", a[:, ia], b[:, ib]))


def test_factors_rule_learns_what_the_window_rule_leaves_half_learned(slow_weak, slow_weak_factors):
    window = fit(slow_weak.data, slow_weak.likelihoods, stopping="window", init="svd", **SLOW_WEAK)
    rec_window = recovery(slow_weak.Z, window.Z)
    rec_factors = recovery(slow_weak.Z, slow_weak_factors.Z)
    assert rec_window[SLOW_FACTORS].max() < 0.8  # the ELBO curve said stop; two factors were half-learned
    assert rec_factors[SLOW_FACTORS].min() > 0.99  # the factors rule waits until they are learned
    assert slow_weak_factors.n_iter > window.n_iter
    state = slow_weak_factors.engine_info["stopping_state"]
    assert slow_weak_factors.engine_info["stopping"]["rule"] == "factors"
    assert state["stopped_at"] == slow_weak_factors.n_iter
    # at the window rule's stop a factor was still moving, and faster and faster (leaving a saddle); at the
    # factors rule's own stop every watched factor was at rest
    moving, growing = dict(state["movement"]), dict(state["growing"])
    assert moving[window.n_iter] > 1e-5 or window.n_iter in growing
    assert sum(window.n_iter <= it < state["stopped_at"] for it in growing) >= 5
    assert state["movement"][-1][1] < 1e-5 and state["movement"][-2][1] < 1e-5
    assert state["stopped_at"] not in growing


def test_factors_rule_reaches_mofapy2s_default_solution(slow_weak, slow_weak_factors):
    """Against mofapy2's default fit (its PCA initialisation, "medium"): same factors, same recovery.

    The reference runs the fast engine under mofapy2's own convergence test, which is mofapy2's fit to
    round-off (test_equivalence_float64).
    """
    ref = fit(slow_weak.data, slow_weak.likelihoods, convergence_mode="medium", init="pca", **SLOW_WEAK)
    corr = _planted_matches(slow_weak.Z, ref.Z, slow_weak_factors.Z)
    assert corr.size == 10 and corr.min() >= 0.99
    rec_ref, rec_new = recovery(slow_weak.Z, ref.Z), recovery(slow_weak.Z, slow_weak_factors.Z)
    np.testing.assert_allclose(rec_new, rec_ref, atol=0.01)


def test_svd_initialisation_spans_the_pca_subspace(small):
    """The randomized SVD gives the leading principal subspace of mofapy2's PCA initialisation."""
    pca = build(small.data, small.likelihoods, n_factors=5, seed=1, maxiter=3, init="pca")
    svd = build(small.data, small.likelihoods, n_factors=5, seed=1, maxiter=3, init="svd")
    a = np.asarray(pca.model.nodes["Z"].getExpectation())
    b = np.asarray(svd.model.nodes["Z"].getExpectation())
    assert a.shape == b.shape == (120, 5)
    assert np.allclose(b.min(axis=0), -1) and np.allclose(b.max(axis=0), 1)  # scaled as mofapy2 scales
    qa, _ = np.linalg.qr(a - a.mean(axis=0))
    qb, _ = np.linalg.qr(b - b.mean(axis=0))
    cosines = np.linalg.svd(qa.T @ qb, compute_uv=False)  # cosines of the principal angles
    assert cosines[:2].min() > 0.99  # the leading components; the rest differ by the randomized error
    assert (
        cosines.min() > 0.8
    )  # a random 5-dimensional subspace of R^120 has its largest cosine near 0.3, its smallest near 0


@pytest.fixture(scope="module")
def unbuilt_model(small):
    """A built, never accelerated model: argument validation happens before accelerate() touches it."""
    return build(small.data, small.likelihoods, n_factors=3, maxiter=3).model


@pytest.mark.parametrize(
    "bad",
    [
        "sometimes",
        {"tol": -1},
        {"window": 0},
        {"patience": 1.5},
        {"min_iter": -3},
        {"factor_tol": 0},
        {"bogus": 1},
        3,
    ],
)
def test_bad_stopping(bad, unbuilt_model):
    with pytest.raises(ValueError):
        accelerate(unbuilt_model, stopping=bad)
    assert not hasattr(unbuilt_model, "_hm_engine")


def test_bad_inputs(small, unbuilt_model):
    with pytest.raises(TypeError, match="BayesNet"):
        accelerate(object())
    with pytest.raises(TypeError, match="float32"):
        accelerate(unbuilt_model, float32="yes")
    with pytest.raises(ValueError, match="xp"):
        accelerate(unbuilt_model, xp="tensorflow")
    with pytest.raises(ValueError, match="xp"):
        accelerate(unbuilt_model, xp=42)
    assert not hasattr(unbuilt_model, "_hm_engine")
    ent = build(small.data, small.likelihoods, n_factors=3, maxiter=3)
    accelerate(ent.model, xp="numpy")
    with pytest.raises(EngineError, match="already accelerated"):
        accelerate(ent.model)
    ent2 = build(small.data, small.likelihoods, n_factors=3, maxiter=3)
    ent2.model.trained = True
    with pytest.raises(EngineError, match="already trained"):
        accelerate(ent2.model)


def test_stochastic_refused(unbuilt_model):
    from mofapy2.core.BayesNet import StochasticBayesNet

    stoch = StochasticBayesNet(unbuilt_model.dim, unbuilt_model.nodes)
    with pytest.raises(EngineError, match="stochastic"):
        accelerate(stoch)


def test_estimate_memory():
    brca = (1000, [5000, 5000, 200, 2000, 200], 15)
    liks = ["gaussian"] * 4 + ["bernoulli"]
    fast = memory_breakdown(*brca, engine="fast", likelihoods=liks)
    ref = memory_breakdown(*brca, engine="mofapy2", likelihoods=liks)
    assert fast["train"] < ref["train"]
    assert estimate_memory(*brca, likelihoods=liks) <= estimate_memory(*brca, engine="mofapy2", likelihoods=liks)
    assert estimate_memory(*brca, True) >= estimate_memory(*brca, False)  # float32 adds a float32 copy
    assert estimate_memory(2000, [5000], 15) > estimate_memory(1000, [5000], 15)
    # order of magnitude: data are 1000 x 12400 float64 = 99 MB; the PCA initialisation holds a few copies
    assert 2e8 < estimate_memory(*brca) < 2e9
    assert isinstance(estimate_memory(10, 5, 2), int)


@pytest.mark.parametrize(
    "args,kw",
    [
        ((0, [10], 2), {}),
        ((10, [], 2), {}),
        ((10, [10, -1], 2), {}),
        ((10, [10], 0), {}),
        ((10, "abc", 2), {}),
        ((10, [10], 2), {"engine": "gpu"}),
        ((10, [10], 2), {"likelihoods": ["gaussian", "gaussian"]}),
        ((10, [10], 2), {"likelihoods": ["zero_inflated"]}),
        ((True, [10], 2), {}),
    ],
)
def test_estimate_memory_bad_inputs(args, kw):
    with pytest.raises(ValueError):
        estimate_memory(*args, **kw)


@pytest.mark.gpu
def test_gpu_equivalence(small, small_ref):
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"no usable CUDA device ({err})")
    new = fit(small.data, small.likelihoods, engine="fast", xp=cupy, **FAST_OPTS)
    assert new.engine_info["backend"] == "cupy"
    _assert_equivalent(small_ref, new)
    new32 = fit(small.data, small.likelihoods, engine="fast", xp=cupy, float32=True, **FAST_OPTS)
    for k in range(small_ref.Z.shape[1]):
        if small_ref.Z[:, k].std() > 1e-10:
            assert abs(np.corrcoef(small_ref.Z[:, k], new32.Z[:, k])[0, 1]) >= 0.999


def test_auto_takes_the_strict_rule_beyond_the_checked_sizes(caplog):
    from harmonomics.models.mofa import FACTORS_RULE_CHECKED_UP_TO, _resolve_convergence

    max_n, max_d = FACTORS_RULE_CHECKED_UP_TO
    assert _resolve_convergence("auto", "fast", max_n, max_d)[0] == "factors"
    assert _resolve_convergence("auto", "mofapy2", 10 * max_n, max_d)[0] == "medium"
    assert _resolve_convergence("window", "fast", 10 * max_n, max_d) == ("window", "asked for")
    with caplog.at_level("INFO", logger="harmonomics.models.mofa"):
        rule, reason = _resolve_convergence("auto", "fast", max_n + 1, max_d)
    assert rule == "factors_strict" and "beyond the sizes" in reason
    assert reason in caplog.text
    assert _resolve_convergence("auto", "fast", max_n, max_d + 1)[0] == "factors_strict"
