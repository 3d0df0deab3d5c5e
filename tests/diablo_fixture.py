"""A small hand-made DIABLO fit in exactly the layout of /work/notes/contracts.md section A (docstring of
``tl/_diablo.py``), for the figures, exports and report tests — written without ``hm.tl.diablo``.

Blocks ``rna`` (with missing values and one feature left out of the fit), ``mirna`` and ``prot`` (measured for
only some samples, absent otherwise); a ``cnv`` modality that shares gene names with ``rna`` is in the store
but not in the fit. Loadings, selected features and variates are fixed here, so tests can recompute every
expected number with numpy from ``X`` and the stored variates.

Load it by path (tests/ is not a package):
``spec_from_file_location("_diablo_fixture", Path(__file__).parents[k] / "diablo_fixture.py")``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CLASSES = ["Basal", "Her2", "LumA"]
BLOCKS = ["rna", "mirna", "prot"]
# selected features per block and component, with their loadings (ordered by |loading| descending)
SELECTED = {
    ("rna", 1): {"GENE3": 0.62, "GENE0": -0.55, "GENE7": 0.41, "GENE1": -0.30, "GENE12": 0.12},
    ("rna", 2): {"GENE5": 0.70, "GENE9": -0.52, "GENE0": 0.33, "GENE20": -0.15},
    ("mirna", 1): {"hsa-mir-4": -0.71, "hsa-mir-0": 0.60, "hsa-mir-11": 0.36},
    ("mirna", 2): {"hsa-mir-2": 0.81, "hsa-mir-6": -0.59},
    ("prot", 1): {"PROT1": 0.77, "PROT4": -0.64},
    ("prot", 2): {"PROT2": -0.90, "PROT8": 0.44},
}
N_FEATURES = {"rna": 30, "mirna": 18, "prot": 10}
FEATURE_NAMES = {
    "rna": [f"GENE{i}" for i in range(30)],
    "mirna": [f"hsa-mir-{i}" for i in range(18)],
    "prot": [f"PROT{i}" for i in range(10)],
}
LEFT_OUT = ("rna", "GENE29")  # constant: NaN loadings, a harmonization-report row


def make_diablo_store(n: int = 48, *, seed: int = 0, key: str = "diablo"):
    """The store: obs ``pam50`` (Basal/Her2/LumA), blocks as described above, the fit under ``key``."""
    import anndata as ad
    import mudata as md

    rng = np.random.default_rng(seed)
    samples = [f"TCGA-D{i // 100}-{i:04d}-01" for i in range(n)]
    labels = np.array(CLASSES)[np.arange(n) % 3]
    latent = rng.normal(size=(n, 2))
    latent[:, 0] += 2.0 * (labels == "Basal") - 1.5 * (labels == "LumA")
    latent[:, 1] += 1.5 * (labels == "Her2")
    present = {
        "rna": np.ones(n, bool),
        "mirna": np.ones(n, bool),
        "prot": np.arange(n) % 4 != 3,  # a quarter of the samples have no protein
    }
    mods = {}
    for block in BLOCKS:
        names = FEATURE_NAMES[block]
        weights = rng.normal(scale=0.4, size=(len(names), 2))
        for (b, k), chosen in SELECTED.items():
            if b == block:
                for feature, loading in chosen.items():
                    weights[names.index(feature), k - 1] += 3.0 * loading
        x = latent @ weights.T + rng.normal(scale=0.6, size=(n, len(names)))
        if block == "rna":
            x[:, names.index("GENE29")] = 1.0
            x[[2, 9, 17], names.index("GENE3")] = np.nan  # missing values in a selected feature
            x[5, names.index("GENE9")] = np.nan
        keep = present[block]
        mods[block] = ad.AnnData(
            x[keep], obs=pd.DataFrame(index=np.array(samples)[keep]), var=pd.DataFrame(index=names)
        )
    cnv = rng.normal(size=(n, 6))
    mods["cnv"] = ad.AnnData(cnv, obs=pd.DataFrame(index=samples), var=pd.DataFrame(index=FEATURE_NAMES["rna"][:6]))
    mdata = md.MuData(mods)
    mdata.obs["pam50"] = pd.Categorical(labels, categories=CLASSES)
    mdata.obs["split"] = np.where(np.arange(n) < int(0.75 * n), "train", "test")
    add_diablo_fit(mdata, key=key, seed=seed)
    return mdata


def add_diablo_fit(mdata, *, key: str = "diablo", seed: int = 0) -> None:
    """Write the fit of ``SELECTED`` into ``mdata`` in the contract layout."""
    rng = np.random.default_rng(seed + 1)
    comps = ["comp1", "comp2"]
    consensus = pd.DataFrame(0.0, index=mdata.obs_names.astype(str), columns=comps)
    counts = pd.Series(0, index=consensus.index)
    for block in BLOCKS:
        adata = mdata.mod[block]
        names = list(adata.var_names)
        loadings = pd.DataFrame(0.0, index=names, columns=comps)
        for (b, k), chosen in SELECTED.items():
            if b == block:
                for feature, loading in chosen.items():
                    loadings.loc[feature, f"comp{k}"] = loading
        if block == LEFT_OUT[0]:
            loadings.loc[LEFT_OUT[1]] = np.nan
        x = np.asarray(adata.X, dtype=float)
        centred = np.nan_to_num(x - np.nanmean(x, axis=0))
        # the variates of a hand-made fit: data times loadings, plus a little noise so they are not exact sums
        variates = centred @ np.nan_to_num(loadings.to_numpy()) + rng.normal(scale=0.05, size=(adata.n_obs, 2))
        adata.obsm[key] = pd.DataFrame(variates, index=adata.obs_names, columns=comps)
        adata.varm[key] = loadings
        consensus.loc[adata.obs_names.astype(str)] += variates
        counts.loc[adata.obs_names.astype(str)] += 1
    consensus = consensus.div(counts.replace(0, np.nan), axis=0)
    consensus.index = mdata.obs_names
    mdata.obsm[key] = consensus
    selected = pd.DataFrame(
        [
            (feature, block, k, loading)
            for block in BLOCKS
            for k in (1, 2)
            for feature, loading in SELECTED[(block, k)].items()
        ],
        columns=["feature", "block", "component", "loading"],
    )
    mdata.uns[key] = {
        "method": "diablo",
        "label": "pam50",
        "classes": list(CLASSES),
        "blocks": list(BLOCKS),
        "n_components": 2,
        "keep": {b: [len(SELECTED[(b, 1)]), len(SELECTED[(b, 2)])] for b in BLOCKS},
        "design": pd.DataFrame(0.1, index=BLOCKS, columns=BLOCKS) + np.eye(3) * 0.9,
        "scale": True,
        "seed": seed,
        "params": {"max_iter": 100, "tol": 1e-6, "mods": list(BLOCKS)},
        "selected": selected,
        "explained_variance": pd.DataFrame([[0.21, 0.08], [0.17, 0.06], [0.25, 0.11]], index=BLOCKS, columns=comps),
        "outcome_correlation": pd.DataFrame([[0.91, 0.62], [0.88, 0.55], [0.93, 0.71]], index=BLOCKS, columns=comps),
        "model": {"note": "hand-made test fit; no prediction weights"},
    }
