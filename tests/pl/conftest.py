"""Fixtures for the plotting and report tests: small seeded stores with every result slot filled in.

``make_store`` is also used by tests/test_report.py (imported from this file by path).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

PAM50 = ["LumA", "LumB", "Her2", "Basal", "Normal"]


def make_store(n: int = 60, k: int = 4, *, seed: int = 0, with_prot_for: float = 0.7):
    """A MuData (rna, mirna, prot) with a planted factor model and every downstream result filled in.

    Factor1 separates Basal from the rest, Factor2 tracks the immune class, Factor3 drives survival;
    prot is measured for only a fraction of samples (absent otherwise), like the bundled cohort.
    """
    import anndata as ad
    import mudata as md

    rng = np.random.default_rng(seed)
    samples = [f"TCGA-AA-{i:04d}-01" for i in range(n)]
    pam50 = np.array(PAM50)[rng.integers(0, 5, n)]
    pam50[:5] = PAM50  # every level present
    immune = np.array(["hot", "intermediate", "cold"])[rng.integers(0, 3, n)]
    z = rng.normal(size=(n, k))
    z[:, 0] += 2.5 * (pam50 == "Basal")
    z[:, 1] += 1.5 * (immune == "hot") - 1.5 * (immune == "cold")
    hazard = np.exp(0.9 * z[:, min(2, k - 1)])
    os_time = rng.exponential(2000.0 / hazard)
    censor = rng.uniform(200, 4000, n)
    os_event = (os_time <= censor).astype(int)
    os_time = np.minimum(os_time, censor).round(0)

    mods = {}
    names = {
        "rna": [f"GENE{i}" for i in range(40)],
        "mirna": [f"hsa-mir-{i}" for i in range(25)],
        "prot": [f"PROT{i}" for i in range(15)],
    }
    weights = {}
    for m, feats in names.items():
        w = rng.normal(scale=0.3, size=(len(feats), k))
        w[:3, 0] += 2.0
        weights[m] = w
        x = z @ w.T + rng.normal(scale=0.5, size=(n, len(feats)))
        keep = np.ones(n, bool) if m != "prot" else rng.uniform(size=n) < with_prot_for
        a = ad.AnnData(
            x[keep].astype(np.float32), obs=pd.DataFrame(index=np.array(samples)[keep]), var=pd.DataFrame(index=feats)
        )
        a.obs["aliquot"] = [s + "A-01R-0001-07" for s in a.obs_names]
        a.obs["source_file"] = f"{m}.tsv"
        a.varm["mofa"] = w
        mods[m] = a
    mdata = md.MuData(mods)
    mdata.obs["patient"] = [s[:12] for s in mdata.obs_names]
    mdata.obs["sample_type"] = "TP"
    mdata.obs["pam50"] = pd.Categorical(pam50, categories=PAM50)
    mdata.obs["immune_class"] = pd.Categorical(immune, categories=["hot", "intermediate", "cold"])
    mdata.obs["os_time"] = os_time
    mdata.obs["os_event"] = os_event
    mdata.obs["age"] = rng.normal(58, 12, n).round(0)
    mdata.obs["split"] = np.where(np.arange(n) < int(0.7 * n), "train", "test")
    factors = [f"Factor{i + 1}" for i in range(k)]
    mdata.obsm["mofa"] = z
    mdata.obsm["immune"] = pd.DataFrame(
        {"CYT": z[:, 1] + rng.normal(scale=0.3, size=n), "IFNG": rng.normal(size=n)}, index=mdata.obs_names
    )
    views = list(names)
    r2 = pd.DataFrame(rng.uniform(0.0, 0.25, size=(3, k)), index=views, columns=factors)
    elbo = -1e5 / np.arange(1, 31) - 2e4
    mdata.uns["mofa"] = {
        "factor_names": factors,
        "views": views,
        "r2_per_view_factor": r2,
        "r2_per_view": dict(zip(views, r2.sum(axis=1).to_numpy() * 0.98, strict=True)),
        "r2_per_factor": dict(zip(factors, r2.mean(axis=0).to_numpy(), strict=True)),
        "elbo": elbo,
        "n_iterations": 30,
        "converged": True,
        "seed": 0,
        "time_s": 3.2,
        "likelihoods": {"rna": "gaussian", "mirna": "gaussian", "prot": "gaussian"},
        "options": {"n_factors": k, "convergence_mode": "fast"},
    }
    mdata.uns["harmonomics"] = {
        "format_version": "1",
        "reader": "test",
        "time": "2026-11-27T03:00:00Z",
        "files": pd.DataFrame({"path": ["rna.tsv", "mirna.tsv"], "md5": ["0" * 32, "1" * 32], "size": [10, 20]}),
        "versions": {"harmonomics": "0.1", "mudata": "0.3"},
    }
    mdata.uns["harmonomics_report"] = pd.DataFrame(
        {
            "level": ["file", "aliquot", "sample", "sample", "feature", "feature", "sample"],
            "item": [
                "rna.tsv",
                "TCGA-AA-9999-01A-01R",
                "TCGA-AA-9998-11",
                "TCGA-AA-9997-01",
                "GENE_X",
                "GENE_Y",
                samples[0],
            ],
            "omic": ["rna", "rna", "rna", "mirna", "rna", "mirna", "rna"],
            "sample": ["", "TCGA-AA-9999-01", "TCGA-AA-9998-11", "TCGA-AA-9997-01", "", "", samples[0]],
            "action": ["kept", "dropped", "dropped", "dropped", "dropped", "renamed", "kept"],
            "reason": [
                "",
                "duplicate aliquot: kept the one with more reads",
                "normal tissue (sample type 11)",
                "no clinical record",
                "zero variance",
                "old symbol",
                "",
            ],
        }
    )
    return mdata


@pytest.fixture
def store():
    return make_store()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
