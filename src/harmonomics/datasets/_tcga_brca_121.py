"""The real 121-patient TCGA-BRCA cohort shipped in the package (harmonomics/data/tcga_brca_121/, its README.md).

Each omic is read by one small function from the package's own readers; the store is harmonized by the standard
path (:func:`harmonomics.pp.harmonize`) and cached in ``hm.settings.cache_dir``.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys, barcodes, data
from .._compat import mudata_options, uses_mudata
from .._errors import FormatError
from .._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    import anndata as ad
    import mudata as md

logger = logging.getLogger(__name__)

_FOLDER = "tcga_brca_121"
FILES = {
    _keys.RNA: "rna_counts.tsv.gz",
    _keys.PROT: "rppa.tsv.gz",
    _keys.CNV: "cnv_segments.tsv.gz",
    _keys.MUT: "mutations.maf.gz",
    "clinical": "clinical.tsv.gz",
    "samples": "samples.tsv.gz",
}
_SOURCES = {
    _keys.RNA: "PathAnalyser raw-count objects (primary tumours only)",
    _keys.PROT: "RTCGA.RPPA.20160128 (primary-tumour portions)",
    _keys.CNV: "RTCGA.CNV.20160128 hg19 segments (primary-tumour aliquots)",
    _keys.MUT: "RTCGA.mutations.20160128 MAF (WUSTL calls)",
}
_PRIMARY_TUMOUR = "01"  # every sample of the cohort is a primary solid tumour (data README)
_BUILD_VERSION = 2  # bump when the store built from the same files changes, so that old caches are not reused

# Source aliquots left out when the cohort was assembled (data README, "Choosing samples and the aliquots not
# used"); they are not in the shipped files, so the report lists them from here.
_LEFT_OUT_AT_SOURCE = (
    *(
        (_keys.PROT, b)
        for b in (
            "TCGA-A7-A4SE-11A-71-A43O-20",
            "TCGA-BH-A0DK-11A-21-A43O-20",
            "TCGA-BH-A0DP-11A-21-A43O-20",
            "TCGA-BH-A18P-11A-51-A43O-20",
            "TCGA-BH-A18Q-11A-41-A43O-20",
            "TCGA-BH-A1EW-11B-41-A43O-20",
            "TCGA-BH-A1F8-11B-31-A43O-20",
            "TCGA-E9-A1N8-11A-51-A43O-20",
            "TCGA-E9-A1N9-11A-81-A43O-20",
            "TCGA-E9-A1ND-11A-51-A43O-20",
        )
    ),
    *(
        (_keys.CNV, b)
        for b in (
            "TCGA-A7-A4SE-11A-61D-A26F-01",
            "TCGA-A7-A5ZX-11A-51D-A29M-01",
            "TCGA-BH-A0AU-11A-11D-A12N-01",
            "TCGA-BH-A0DK-11A-13D-A092-01",
            "TCGA-BH-A0DP-11A-12D-A092-01",
            "TCGA-BH-A0E0-11A-13D-A092-01",
            "TCGA-BH-A18M-11A-33D-A12A-01",
            "TCGA-BH-A18Q-11A-34D-A12A-01",
            "TCGA-BH-A1EW-11B-33D-A134-01",
            "TCGA-BH-A1F8-11B-21D-A13N-01",
            "TCGA-E2-A1LB-11A-22D-A141-01",
            "TCGA-E2-A1LL-11A-21D-A141-01",
        )
    ),
    (_keys.MUT, "TCGA-AC-A2QH-01B-04D-A22N-09"),
    ("purity", "TCGA-AC-A2QH-01B"),
    ("purity", "TCGA-AC-A3QQ-01B"),
)
_LEFT_OUT_REASONS = {
    _keys.MUT: "second primary-tumour vial (01B) of the patient; vial 01A was kept (FORMATS.md aliquot rule)",
    "purity": "second primary-tumour vial (01B) with only an IHC purity; the 01A row was kept",
}
_BLOOD_NORMAL_CNV = 110  # blood-derived normal (10) CNV aliquots of the patients, not shipped (data README)


# ---------------------------------------------------------------------------------------------------------------
# one small function per omic: each returns (AnnData keyed by the 15-character sample barcode, report rows)
# ---------------------------------------------------------------------------------------------------------------
def _row(level: str, item: str, omic: str, sample: str, action: str, reason: str) -> dict:
    return {"level": level, "item": item, "omic": omic, "sample": sample, "action": action, "reason": reason}


def _report_of(store: md.MuData) -> list[dict]:
    """The reader's report rows other than plain "kept" ones (what was renamed, dropped or chosen)."""
    report = store.uns[_keys.UNS_REPORT]
    return report[report["action"] != "kept"].to_dict("records")


def _read_rna() -> tuple[ad.AnnData, list[dict]]:
    """Raw counts, genes × 121 patients; columns are R-style dotted patient barcodes (``TCGA.A8.A08X``)."""
    from ..io import read_table

    path = data.path(_FOLDER, FILES[_keys.RNA])
    with mudata_options():
        store = read_table(path, omic=_keys.RNA)  # dotted barcodes → dashed patient barcodes, reported
    rna = store[_keys.RNA].copy()
    patients = rna.obs_names
    parsed = barcodes.parse_barcodes(patients)
    if (parsed["level"] != "patient").any():
        bad = rna.obs["id_as_written"].to_numpy()[(parsed["level"] != "patient").to_numpy()][0]
        raise FormatError(f"RNA column {bad!r}: expected a patient barcode", path=path, line=1)
    # the source holds primary tumours only (data README): a patient's RNA is its primary-tumour sample (type 01)
    rna.obs_names = pd.Index([f"{p}-{_PRIMARY_TUMOUR}" for p in patients], dtype=object)
    rows = _report_of(store)
    rows.append(
        _row(
            "sample",
            f"{len(patients)} patients",
            _keys.RNA,
            "",
            "renamed",
            f"the RNA columns are patient barcodes (e.g. {patients[0]}); the source holds primary tumours "
            f"only, so each is keyed as the patient's primary-tumour sample (e.g. {rna.obs_names[0]})",
        )
    )
    return rna, rows


def _read_prot() -> tuple[ad.AnnData, list[dict]]:
    """RPPA, 100 primary-tumour portions × 226 antibodies (27-character portion barcodes)."""
    from ..io import read_table

    path = data.path(_FOLDER, FILES[_keys.PROT])
    with mudata_options():
        store = read_table(path, omic=_keys.PROT, sample_types="primary")
    return store[_keys.PROT].copy(), _report_of(store)


def _read_cnv(genes: pd.Index) -> tuple[ad.AnnData, list[dict]]:
    """hg19 segments (``Segment_Mean`` = log2(CN/2)) → gene level through the shipped GRCh37 coordinates.

    Only the genes of the RNA table are kept, so that rna and cnv share one gene space (ERBB2 in both).
    """
    from ..io import read_segments

    path = data.path(_FOLDER, FILES[_keys.CNV])
    with mudata_options():
        store = read_segments(path, build="hg19")  # nothing in the file says its build: the data README does
    cnv = store[_keys.CNV]
    located = cnv.var_names.isin(genes)
    cnv = cnv[:, located].copy()
    rows = _report_of(store)
    n_unlocated = len(genes) - int(located.sum())
    rows.append(
        _row(
            "feature",
            f"{n_unlocated} genes",
            _keys.CNV,
            "",
            "dropped",
            f"{n_unlocated} RNA genes have no GRCh37 (Ensembl 75) coordinate under their symbol, so no copy "
            "number; cnv keeps the genes of the RNA table",
        )
    )
    return cnv, rows


def _read_mut() -> tuple[ad.AnnData, list[dict]]:
    """The MAF → samples × genes 0/1 (protein-altering variants); ``uns["maf"]`` the long table."""
    from ..io import read_maf

    path = data.path(_FOLDER, FILES[_keys.MUT])
    with mudata_options():
        store = read_maf(path, columns="all")
    return store[_keys.MUT].copy(), _report_of(store)


def _read_clinical() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-patient clinical columns under the store's names, and the verbatim table (for ``uns``)."""
    from .._clinical import normalize_pam50, survival_from_days

    path = data.path(_FOLDER, FILES["clinical"])
    raw = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False).set_index("patient")
    raw = raw.replace("", np.nan)
    survival = survival_from_days(
        raw["vital_status"], raw["days_to_death"], raw["days_to_last_followup"], path=str(path)
    )
    status = pd.CategoricalDtype(["Negative", "Positive"])
    clinical = pd.DataFrame(index=raw.index)
    clinical["pam50_xena"] = normalize_pam50(raw["pam50_xena"]).to_numpy()
    # Not_Applicable (and an absent row) is NaN; the verbatim TCGA-2012 text stays beside it
    clinical["pam50_tcga2012"] = normalize_pam50(raw["pam50_tcga2012"]).to_numpy()
    clinical["pam50_tcga2012_label"] = raw["pam50_tcga2012"].to_numpy(dtype=object)
    clinical["er_status"] = raw["er_status"].astype(status).to_numpy()
    clinical["her2_status"] = raw["her2_status"].astype(status).to_numpy()
    clinical["os_time"] = survival["os_time"].to_numpy()
    clinical["os_event"] = survival["os_event"].to_numpy()
    clinical["vital_status"] = raw["vital_status"].to_numpy(dtype=object)
    clinical["age"] = pd.to_numeric(raw["age_at_diagnosis"]).to_numpy(dtype=float)
    clinical["stage"] = raw["pathologic_stage"].to_numpy(dtype=object)
    for column in ("purity_estimate", "purity_absolute", "purity_cpe"):
        clinical[column] = pd.to_numeric(raw[column]).to_numpy(dtype=float)
    for column in ("er_status", "her2_status"):
        if clinical[column].isna().any():
            patient = clinical.index[clinical[column].isna().to_numpy()][0]
            raise FormatError(
                f"patient {patient}: {column} {raw.at[patient, column]!r}; expected Positive or Negative",
                path=path,
                column=column,
            )
    return clinical, raw


# ---------------------------------------------------------------------------------------------------------------
# the store
# ---------------------------------------------------------------------------------------------------------------
def _report_rows(modalities: dict[str, ad.AnnData], keys: pd.Index) -> list[dict]:
    rows = []
    for omic, barcode in _LEFT_OUT_AT_SOURCE:
        sample_type = barcodes.parse_barcode(barcode)["sample_type_code"]
        reason = _LEFT_OUT_REASONS.get(omic) or (
            f"sample type {sample_type} (solid-tissue normal); the cohort keeps primary tumours (01) only"
        )
        rows.append(
            _row(
                "aliquot",
                barcode,
                omic,
                barcodes.to_sample(barcode),
                "dropped",
                f"{reason}; left out when the cohort was assembled (data README)",
            )
        )
    rows.append(
        _row(
            "file",
            FILES[_keys.CNV],
            _keys.CNV,
            "",
            "dropped",
            f"{_BLOOD_NORMAL_CNV} blood-derived normal (10) aliquots of these patients were left out when the "
            "cohort was assembled (data README); the cohort keeps primary tumours (01) only",
        )
    )
    for omic, adata in modalities.items():
        for sample in keys[~keys.isin(adata.obs_names)]:
            rows.append(
                _row(
                    "sample",
                    sample,
                    omic,
                    sample,
                    "absent",
                    f"no primary-tumour profile of this patient in the {omic} source ({_SOURCES[omic]})",
                )
            )
    for sample in keys:
        omics = [m for m, a in modalities.items() if sample in a.obs_names]
        rows.append(
            _row(
                "sample", sample, ",".join(omics), sample, "kept", f"sample in {len(omics)} omic(s): {', '.join(omics)}"
            )
        )
    return rows


def _build() -> md.MuData:
    from ..pp import harmonize
    from ..store import new_store

    rna, rna_rows = _read_rna()
    prot, prot_rows = _read_prot()
    cnv, cnv_rows = _read_cnv(rna.var_names)
    mut, mut_rows = _read_mut()
    modalities = {_keys.RNA: rna, _keys.CNV: cnv, _keys.MUT: mut, _keys.PROT: prot}
    keys = pd.Index(sorted(set().union(*(a.obs_names for a in modalities.values()))), dtype=object)

    clinical, raw = _read_clinical()
    parsed = barcodes.parse_barcodes(keys)
    obs = pd.DataFrame(
        {
            _keys.OBS_PATIENT: parsed["patient"].to_numpy(),
            _keys.OBS_SAMPLE_TYPE: parsed["sample_type"].to_numpy(),
            _keys.OBS_SAMPLE_TYPE_CODE: parsed["sample_type_code"].to_numpy(),
        },
        index=keys,
    )
    missing = sorted(set(obs[_keys.OBS_PATIENT]) - set(clinical.index))
    if missing:
        raise FormatError(
            f"patient {missing[0]} has omics but no clinical row; expected one row per patient",
            path=data.path(_FOLDER, FILES["clinical"]),
        )
    per_sample = clinical.reindex(obs[_keys.OBS_PATIENT].to_numpy())
    for column in per_sample.columns:
        obs[column] = (
            per_sample[column].to_numpy()
            if per_sample[column].dtype != "category"
            else pd.Categorical(per_sample[column].to_numpy(), dtype=per_sample[column].dtype)
        )

    report = pd.DataFrame([*rna_rows, *prot_rows, *cnv_rows, *mut_rows, *_report_rows(modalities, keys)])
    folder = data.path(_FOLDER)
    files = [
        {
            "path": f"harmonomics/data/{_FOLDER}/{name}",
            "md5": _md5(folder / name),
            "size": (folder / name).stat().st_size,
        }
        for name in FILES.values()
    ]
    with mudata_options():
        mdata = new_store(
            modalities,
            obs=obs,
            reader="harmonomics.datasets.tcga_brca_121",
            files=files,
            parameters={
                "source": "harmonomics/data/tcga_brca_121 (README.md there)",
                "sample_key": "15-character sample barcode; every sample is the patient's "
                "primary tumour (01), so the patient-level RNA joins on patient",
                "cnv_genes": "GRCh37 (Ensembl 75) coordinates of the RNA genes",
            },
            report=report,
        )
        # the standard path: RNA counts → log2 CPM (raw counts stay in layers["counts"]); symbols stay symbols
        harmonize(mdata, feature_ids="symbol")
    from .._clinical import uns_table

    mdata.uns["clinical_patients"] = uns_table(raw)
    return mdata


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _cache_path():
    from .._settings import settings

    digest = hashlib.md5()
    folder = data.path(_FOLDER)
    for name in sorted(FILES.values()):
        digest.update(name.encode())
        digest.update(_md5(folder / name).encode())
    return settings.cache_dir / "datasets" / f"{_FOLDER}-{__version__}-b{_BUILD_VERSION}-{digest.hexdigest()[:16]}.h5mu"


@uses_mudata
def tcga_brca_121(*, cache: bool = True) -> md.MuData:
    """The real 121-patient TCGA-BRCA cohort: RNA counts, RPPA, copy number, mutations, clinical and published labels.

    Built from the files in ``harmonomics/data/tcga_brca_121/`` (sources, licences and the samples left out are in
    its README.md) with the package's own readers, then harmonized by :func:`harmonomics.pp.harmonize`.

    Every sample is a primary tumour; the sample key is the 15-character barcode ``TCGA-XX-XXXX-01``. The RNA
    source names patients only (``TCGA.A8.A08X``); it holds primary tumours only, so each patient's RNA is keyed
    as its primary-tumour sample and joins the sample-level omics on the patient.

    Parameters
    ----------
    cache
        Keep the built store in ``hm.settings.cache_dir/datasets`` (keyed by the package version and the md5 of
        the data files; written atomically) and read it from there next time.

    Returns
    -------
    MuData with modalities

    ``rna``
        121 × 20,124 genes (symbols): ``X`` log2(CPM + 1), ``layers["counts"]`` the raw counts;
    ``cnv``
        119 × 19,358 genes: log2(CN/2) of the hg19 segment covering most of each gene (GRCh37 coordinates of the
        RNA genes), ``layers["min"]``/``["max"]`` over all overlapping segments;
    ``mut``
        110 samples × genes, 1 = a protein-altering variant; ``uns["maf"]`` the long MAF table (column ``sample``
        added);
    ``prot``
        100 × 226 RPPA antibodies (relative log scale, NaN where a batch lacks an antibody).

    Global ``obs``: ``patient``, ``sample_type``, ``sample_type_code``, ``pam50_xena`` and ``pam50_tcga2012``
    (published calls as LumA/LumB/Her2/Basal/Normal; NaN where absent or ``Not_Applicable``),
    ``pam50_tcga2012_label`` (verbatim), ``er_status`` and ``her2_status`` (Positive/Negative), ``os_time``
    (days: to death, else to last follow-up), ``os_event`` (1 = dead), ``vital_status``, ``age``, ``stage``
    (verbatim, e.g. ``stage iia``), ``purity_estimate``, ``purity_absolute``, ``purity_cpe`` (Aran et al. 2015).
    ``uns["harmonomics_report"]`` lists every sample or aliquot not used and every omic a sample lacks;
    ``uns["clinical_patients"]`` the verbatim clinical table.

    Examples
    --------
    >>> import harmonomics as hm
    >>> mdata = hm.datasets.tcga_brca_121()
    >>> {m: a.n_obs for m, a in mdata.mod.items()}
    {'rna': 121, 'cnv': 119, 'mut': 110, 'prot': 100}
    """
    from .. import store

    if not cache:
        return _build()
    path = _cache_path()
    if path.is_file():
        try:
            return store.read(path)
        except (OSError, ValueError, KeyError) as err:  # a damaged cache is rebuilt, never trusted
            logger.warning("tcga_brca_121: cached store %s unreadable (%s); rebuilding", path, err)
    mdata = _build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        store.write(mdata, path)
    except OSError as err:
        logger.warning("tcga_brca_121: could not cache the store at %s (%s)", path, err)
        return mdata
    return store.read(path)  # the same object on the first and every later call
