"""Write the frozen store of the current format version (run once per new version; the files are committed).

python tests/data/stores/make_frozen.py
"""

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from harmonomics import store

HERE = Path(__file__).resolve().parent


def frozen_store():
    rna = ad.AnnData(
        np.arange(12, dtype=float).reshape(4, 3),
        obs=pd.DataFrame(
            {"aliquot": [f"TCGA-AA-000{i}-01A-11R-A000-07" for i in range(4)]},
            index=[f"TCGA-AA-000{i}-01" for i in range(4)],
        ),
        var=pd.DataFrame(
            {"gene_symbol": ["ESR1", "ERBB2", "MKI67"]}, index=["ENSG00000091831", "ENSG00000141736", "ENSG00000148773"]
        ),
    )
    prot = ad.AnnData(
        np.array([[0.5, -0.5]]),
        obs=pd.DataFrame(index=["TCGA-AA-0002-01"]),
        var=pd.DataFrame(index=["ER-alpha", "HER2"]),
    )
    obs = pd.DataFrame(
        {"patient": [f"TCGA-AA-000{i}" for i in range(4)], "pam50": ["LumA", "Her2", "Basal", "LumB"]},
        index=rna.obs_names,
    )
    mdata = store.new_store({"rna": rna, "prot": prot}, obs=obs, reader="frozen")
    mdata.uns["harmonomics"]["created"] = "2026-11-27T00:00:00+00:00"
    mdata.obsm["mofa"] = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    return mdata


if __name__ == "__main__":
    store.write(frozen_store(), HERE / f"v{store.FORMAT_VERSION}.h5mu")
