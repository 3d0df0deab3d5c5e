"""The real TCGA-BRCA data shipped inside the package (see harmonomics/data/PROVENANCE.md)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys, data
from .._clinical import survival_from_days
from .._compat import uses_mudata

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)

_MINI = "tcga_brca_mini"
# mixOmics block name -> store modality
_MINI_BLOCKS = {"mrna": _keys.RNA, "mirna": _keys.MIRNA, "protein": _keys.PROT}


def _read_block(split: str, block: str) -> pd.DataFrame:
    path = data.path(_MINI, f"{split}_{block}.tsv.gz")
    frame = pd.read_csv(path, sep="\t", index_col=0, engine="pyarrow")
    frame.index = frame.index.astype(str)
    return frame.astype(np.float64)


def tcga_brca_clinical() -> pd.DataFrame:
    """Clinical table and overall survival of the bundled cohort's patients (TCGAbiolinks, 224 patients).

    Returns
    -------
    DataFrame indexed by the 12-character patient barcode, with the source columns (vital_status, days_to_death,
    days_to_last_followup, age_at_initial_pathologic_diagnosis, pathologic_stage, BRCA_Pathology,
    BRCA_Subtype_PAM50) and the derived ``os_time`` (days) and ``os_event`` (1 = died). Overall survival time is
    days_to_death for patients who died and days_to_last_followup for the others (censored).
    """
    clinical = pd.read_csv(data.path("tcga_brca_labels", "clinical_pam50.tsv"), sep="\t", index_col="patient")
    survival = survival_from_days(
        clinical["vital_status"], clinical["days_to_death"], clinical["days_to_last_followup"]
    )
    clinical["os_time"] = survival["os_time"]
    clinical["os_event"] = survival["os_event"]
    return clinical


@uses_mudata
def tcga_brca_mini() -> md.MuData:
    """The real TCGA-BRCA three-omics cohort of the mixOmics case study, as a store.

    220 primary breast tumours in a fixed train/test split: mRNA (200 genes, log2), miRNA (184, log) for all;
    protein (RPPA, 142 antibodies, centred) for the 150 training samples only — the 70 test samples are absent
    from ``prot``, not filled in.

    Returns
    -------
    MuData with modalities ``rna``, ``mirna`` and ``prot``. The sample key is the mixOmics 4-character TCGA
    participant code. Global ``obs`` holds ``split`` (train/test), ``pam50`` (Basal, Her2, LumA), ``patient``
    (12-character barcode, 218 of 220 known), ``sample_type`` ("TP"), the TCGAbiolinks clinical columns
    ``age``, ``stage``, ``pathology``, and overall survival ``os_time`` (days) / ``os_event`` (1 = died) where known.
    ``uns["harmonomics"]`` records the provenance.

    Examples
    --------
    >>> import harmonomics as hm
    >>> mdata = hm.datasets.tcga_brca_mini()
    >>> mdata.n_obs, sorted(mdata.mod)
    (220, ['mirna', 'prot', 'rna'])
    """
    import anndata as ad

    from ..store import new_store

    blocks: dict[str, list[pd.DataFrame]] = {mod: [] for mod in _MINI_BLOCKS.values()}
    for split in ("train", "test"):
        for block, mod in _MINI_BLOCKS.items():
            if split == "test" and block == "protein":
                continue  # the real missing omic: the test split has no protein data
            blocks[mod].append(_read_block(split, block))
    modalities = {}
    for mod, frames in blocks.items():
        matrix = pd.concat(frames)
        modalities[mod] = ad.AnnData(
            X=matrix.to_numpy(),
            obs=pd.DataFrame({_keys.MOD_OBS_SOURCE_FILE: f"{_MINI}/{mod}"}, index=matrix.index),
            var=pd.DataFrame(index=matrix.columns.astype(str)),
        )

    sample_map = pd.read_csv(
        data.path(_MINI, "sample_map_tcga_barcodes.tsv.gz"), sep="\t", index_col="sample", dtype=str
    )
    clinical = tcga_brca_clinical()
    obs = pd.DataFrame(index=sample_map.index)
    obs["split"] = pd.Categorical(sample_map["split"], categories=["train", "test"])
    obs["pam50"] = pd.Categorical(sample_map["subtype"], categories=list(_keys.PAM50_LABELS)).remove_unused_categories()
    obs[_keys.OBS_PATIENT] = sample_map["tcga_patient"]
    obs[_keys.OBS_SAMPLE_TYPE] = "TP"
    patient_clinical = clinical.reindex(obs[_keys.OBS_PATIENT])
    patient_clinical.index = obs.index
    obs["age"] = patient_clinical["age_at_initial_pathologic_diagnosis"]
    obs["stage"] = patient_clinical["pathologic_stage"]
    obs["pathology"] = patient_clinical["BRCA_Pathology"]
    obs["os_time"] = patient_clinical["os_time"]
    obs["os_event"] = patient_clinical["os_event"]

    report = pd.DataFrame(
        [
            {
                "level": "sample",
                "item": sample,
                "omic": _keys.PROT,
                "sample": sample,
                "action": "absent",
                "reason": "test split of the mixOmics case study has no protein (RPPA) block",
            }
            for sample in sample_map.index[sample_map["split"] == "test"]
        ]
        + [
            {
                "level": "sample",
                "item": sample,
                "omic": "",
                "sample": sample,
                "action": "kept",
                "reason": "no TCGA patient barcode known for this participant code; clinical columns are missing",
            }
            for sample in sample_map.index[sample_map["tcga_patient"].isna()]
        ]
    )
    mdata = new_store(
        modalities,
        obs=obs,
        reader="harmonomics.datasets.tcga_brca_mini",
        files=[
            {"path": f"harmonomics/data/{_MINI}/{p.name}", "size": p.stat().st_size}
            for p in sorted(data.path(_MINI).iterdir())
        ],
        parameters={"source": "mixOmics breast.TCGA (mixOmicsTeam/mixOmics, data/breast.TCGA.rda)"},
        report=report,
    )
    # global sample order: the published order, training samples first
    return mdata[sample_map.index].copy() if not mdata.obs_names.equals(sample_map.index) else mdata


@uses_mudata
def tcga_brca_rnaseq10() -> md.MuData:
    """Full transcriptome (RSEM estimated counts) of 10 TCGA-BRCA samples: 5 primary tumours, 5 normals.

    Returns
    -------
    MuData with one modality ``rna``: 20,530 genes with ``SYMBOL|ENTREZ`` IDs (``var`` has ``gene_symbol``
    and ``entrez``; unnamed genes ``?|…`` have no symbol). ``X`` and ``layers["counts"]`` hold the RSEM counts.
    The sample key is the 15-character sample barcode; ``obs`` has ``patient``, ``sample_type`` (TP / NT) and
    ``sample_type_code``; ``mod["rna"].obs["aliquot"]`` the 28-character aliquot barcode.
    """
    import anndata as ad

    from .. import barcodes
    from .._genes import parse_gene_ids
    from ..store import new_store

    path = data.path("tcga_brca_rnaseq10", "dataBRCA_rsem_counts.tsv.gz")
    counts = pd.read_csv(path, sep="\t", index_col=0)
    aliquots = pd.Index(counts.columns.astype(str))
    parsed = barcodes.parse_barcodes(aliquots)
    samples = pd.Index(parsed["sample"].to_numpy(), dtype=object)
    ids = parse_gene_ids(counts.index)
    var = pd.DataFrame(
        {"gene_symbol": ids["symbol"].to_numpy(), "entrez": ids["entrez"].to_numpy()}, index=counts.index.astype(str)
    )
    matrix = counts.to_numpy(dtype=np.float64).T
    rna = ad.AnnData(
        X=matrix.copy(),
        obs=pd.DataFrame(
            {_keys.MOD_OBS_ALIQUOT: aliquots.to_numpy(), _keys.MOD_OBS_SOURCE_FILE: path.name}, index=samples
        ),
        var=var,
        layers={"counts": matrix},
    )
    obs = pd.DataFrame(
        {
            _keys.OBS_PATIENT: parsed["patient"].to_numpy(),
            _keys.OBS_SAMPLE_TYPE: parsed["sample_type"].to_numpy(),
            _keys.OBS_SAMPLE_TYPE_CODE: parsed["sample_type_code"].to_numpy(),
        },
        index=samples,
    )
    return new_store(
        {_keys.RNA: rna},
        obs=obs,
        reader="harmonomics.datasets.tcga_brca_rnaseq10",
        files=[{"path": f"harmonomics/data/tcga_brca_rnaseq10/{path.name}", "size": path.stat().st_size}],
        parameters={"source": "TCGAbiolinks dataBRCA (RSEM estimated counts)", "scale": "counts"},
    )
