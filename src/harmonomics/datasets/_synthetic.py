"""A synthetic TCGA-BRCA-like cohort written in the public file layouts, with its ground truth.

:func:`write_synthetic_cohort` draws one cohort from one ground-truth model (PAM50 subtypes with the real
centroids, immune and stromal infiltration, latent factors shared across six omics, subtype-dependent driver
mutations, ERBB2 amplification, a planted survival effect) and writes it as a GDC download, a cBioPortal
study, UCSC Xena matrices and Broad Firehose files, reproducing the mess of real data. ``truth/`` holds what
a correct reader or method must recover. The layouts are described in docs/synthetic.md.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _keys
from . import _synthetic_model as M
from . import _synthetic_write as W

logger = logging.getLogger(__name__)

LAYOUTS = ("gdc", "cbioportal", "xena", "firehose")
FIREHOSE_RSEM = "BRCA.rnaseqv2__illuminahiseq_rnaseqv2__unc_edu__Level_3__RSEM_genes_normalized__data.data.txt"


@dataclass(frozen=True)
class SyntheticCohort:
    """Paths of a written synthetic cohort.

    Attributes
    ----------
    root
        The output folder.
    gdc, cbioportal, xena, firehose
        The layout folders (None for a layout not written).
    truth
        The ``truth/`` folder.
    params
        The parameters the cohort was written with (also in ``truth/params.json``).
    """

    root: Path
    gdc: Path | None
    cbioportal: Path | None
    xena: Path | None
    firehose: Path | None
    truth: Path
    params: dict = field(default_factory=dict, compare=False)

    def __getitem__(self, key: str) -> Path | None:
        if key not in {"root", "truth", *LAYOUTS}:
            raise KeyError(f"no path {key!r}; available: root, truth, {', '.join(LAYOUTS)}")
        return getattr(self, key)

    def as_dict(self) -> dict[str, Path | None]:
        """``{name: path}`` for root, the layouts and truth."""
        d = asdict(self)
        d.pop("params")
        return d


def write_synthetic_cohort(
    out_dir: str | PathLike,
    *,
    n_patients: int = 100,
    seed: int = 0,
    layouts: Iterable[str] = LAYOUTS,
    omics: Iterable[str] | None = None,
    n_genes: int = 2000,
    n_mirnas: int = 200,
    n_probes: int = 1000,
    n_factors: int = 5,
    mess: bool = True,
    compresslevel: int = 1,
    annotations: bool = True,
    overwrite: bool = False,
) -> SyntheticCohort:
    """Write one synthetic breast-cancer cohort in several public layouts, plus its ground truth.

    Parameters
    ----------
    out_dir
        Folder to write into (created; must be empty unless ``overwrite``).
    n_patients
        Number of patients (clinical-only ones included), at least 10.
    seed
        Seed of every random draw; the same seed and parameters give byte-identical files.
    layouts
        Any of ``"gdc"``, ``"cbioportal"``, ``"xena"``, ``"firehose"``. ``truth/`` is always written.
    omics
        Omics to write, from ``rna, mirna, meth, cnv, mut, prot`` (default: all).
    n_genes
        Transcriptome size; all signature, driver and RPPA-target genes are always included.
    n_mirnas
        Number of miRNAs.
    n_probes
        Number of methylation probes.
    n_factors
        Number of planted latent factors (at least 4: subtype, immune, stromal, survival; then free factors).
    mess
        Reproduce the mess of real data (normals, metastases, duplicate aliquots, 01B vials, missing omics,
        clinical-only patients). ``False`` writes one primary aliquot per patient and omic.
    compresslevel
        gzip level (1-9) of the ``.gz`` files.
    annotations
        Also put an ``annotations.txt`` beside ~2 % of the GDC files, as real downloads sometimes have (not
        listed in the sample sheet, manifest or metadata; readers must ignore it).
    overwrite
        Allow writing into a non-empty folder (files of the same name are replaced).

    Returns
    -------
    :class:`SyntheticCohort` with the paths of ``root``, each layout folder and ``truth``.

    Raises
    ------
    ValueError
        On an unknown layout or omic, too few patients or genes, or a non-empty ``out_dir``.
    """
    t0 = time.perf_counter()
    layouts = tuple(layouts)
    bad = [x for x in layouts if x not in LAYOUTS]
    if bad:
        raise ValueError(f"unknown layout(s) {bad}; expected any of {list(LAYOUTS)}")
    omics = tuple(_keys.MODALITIES) if omics is None else tuple(omics)
    bad = [x for x in omics if x not in _keys.MODALITIES]
    if bad or not omics:
        raise ValueError(f"unknown or no omics {bad or list(omics)}; expected some of {list(_keys.MODALITIES)}")
    omics = tuple(o for o in _keys.MODALITIES if o in omics)
    for name, value, minimum in (
        ("n_patients", n_patients, 10),
        ("n_mirnas", n_mirnas, 10),
        ("n_probes", n_probes, 50),
        ("n_factors", n_factors, 4),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if not isinstance(n_genes, (int, np.integer)) or isinstance(n_genes, bool):
        raise ValueError(f"n_genes must be an integer, got {n_genes!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not 0 <= compresslevel <= 9:
        raise ValueError(f"compresslevel must be in 0..9, got {compresslevel!r}")
    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        raise ValueError(f"out_dir {root} exists and is not a folder")
    if root.exists() and any(root.iterdir()) and not overwrite:
        raise ValueError(f"out_dir {root} is not empty; pass overwrite=True or choose an empty folder")
    root.mkdir(parents=True, exist_ok=True)
    seed = int(seed)
    params = {
        "n_patients": int(n_patients),
        "seed": seed,
        "layouts": list(layouts),
        "omics": list(omics),
        "n_genes": int(n_genes),
        "n_mirnas": int(n_mirnas),
        "n_probes": int(n_probes),
        "n_factors": int(n_factors),
        "mess": bool(mess),
        "compresslevel": int(compresslevel),
        "annotations": bool(annotations),
    }

    # ---- the model
    genes = M.build_genes(int(n_genes), M.rng_for(seed, "genes"))
    patients, z = M.build_patients(int(n_patients), int(n_factors), seed, bool(mess))
    avail = M.omic_availability(patients, omics, seed, bool(mess))
    design = M.build_design(patients, avail, seed, bool(mess))
    W.file_names(design)
    zs = M.sample_factors(design, z, seed)
    omic_data: dict[str, M.Omic] = {}
    cnv = M.make_cnv(genes, design, zs, patients, seed)
    if "cnv" in omics:
        omic_data["cnv"] = cnv
    rna = M.make_rna(genes, design, zs, cnv.cont_all, seed)
    if "rna" in omics:
        omic_data["rna"] = rna
    if "mirna" in omics:
        omic_data["mirna"] = M.make_mirna(int(n_mirnas), design, zs, seed)
    if "meth" in omics:
        omic_data["meth"] = M.make_meth(int(n_probes), genes, design, zs, seed)
    if "prot" in omics:
        omic_data["prot"] = M.make_prot(design, zs, rna.latent, genes, seed)
    muts = M.make_mutations(genes, design, patients, seed) if "mut" in omics else None
    names = M.factor_names(int(n_factors))
    ctx = W.Context(
        root=root,
        seed=seed,
        omics=omics,
        patients=patients,
        factors=z,
        factor_names=names,
        design=design,
        genes=genes,
        data=omic_data,
        muts=muts,
        compresslevel=int(compresslevel),
        annotations=bool(annotations),
    )
    logger.info("synthetic cohort model drawn in %.1fs", time.perf_counter() - t0)

    # ---- the files
    out = {k: None for k in LAYOUTS}
    writers = {
        "gdc": W.write_gdc,
        "cbioportal": W.write_cbioportal,
        "xena": W.write_xena,
        "firehose": W.write_firehose,
    }
    for layout in LAYOUTS:
        if layout in layouts:
            out[layout] = writers[layout](ctx)
            logger.info("wrote %s layout (%.1fs)", layout, time.perf_counter() - t0)
    truth = _write_truth(ctx, params, avail, zs, cnv)
    logger.info("synthetic cohort of %d patients written to %s in %.1fs", n_patients, root, time.perf_counter() - t0)
    return SyntheticCohort(root=root, truth=truth, params=params, **out)


def _write_truth(ctx: W.Context, params: dict, avail: dict, zs: np.ndarray, cnv: M.Omic) -> Path:
    from .. import __version__

    root = ctx.root / "truth"
    root.mkdir(parents=True, exist_ok=True)
    p = ctx.patients
    design = ctx.design
    omics = ctx.omics

    def tsv(df: pd.DataFrame, name: str, float_format: str = "%.6g") -> None:
        W.write_bytes(root / name, df.to_csv(sep="\t", index=False, float_format=float_format, lineterminator="\n"))

    omic_list = [";".join(o for o in omics if avail[o][i]) for i in range(len(p))]
    pt = pd.DataFrame(
        {
            "patient": p["patient"],
            "case_id": p["case_id"],
            "subtype": p["subtype"],
            "immune_level": p["immune_level"],
            "stromal_level": p["stromal_level"],
            "age": p["age"].astype("Int64"),
            "stage": p["stage"],
            "os_time_days": p["os_time_days"],
            "os_event": p["os_event"],
            "vital_status": p["vital_status"],
            "clinical_only": p["clinical_only"].astype(int),
            "omics": omic_list,
        }
    )
    tsv(pt, "patients.tsv")

    al = design.aliquots
    s = design.samples.copy()
    s_omics = al.groupby("sample", sort=False)["omic"].agg(lambda x: ";".join(dict.fromkeys(x)))
    s["omics"] = s["sample"].map(s_omics).fillna("")
    clinical_only = p["clinical_only"].to_numpy()[s["p_index"].to_numpy()]
    s["in_cbioportal"] = ((s["code"] == "01") & ~clinical_only).astype(int)
    s["in_xena"] = ((s["omics"] != "") | ((s["code"] == "01") & clinical_only)).astype(int)
    s["sample_type"] = s["code"].map(M.SAMPLE_TYPE_LETTERS)
    st = s.rename(columns={"code": "sample_type_code"})[
        [
            "sample",
            "patient",
            "sample_type_code",
            "sample_type",
            "subtype",
            "omics",
            "in_cbioportal",
            "in_xena",
        ]
    ]
    tsv(st, "samples.tsv")

    fz = pd.DataFrame(ctx.factors, columns=ctx.factor_names)
    fz.insert(0, "sample", [f"{x}-01" for x in p["patient"]])
    fz.insert(0, "patient", p["patient"].to_numpy())
    tsv(fz, "factors.tsv")

    r2_rows = []
    prim = np.flatnonzero(((s["code"] == "01") & ~clinical_only).to_numpy())
    for omic in omics:
        if omic == "mut":
            continue
        od = ctx.data[omic]
        if omic in ("rna", "cnv"):
            feat, sym = od.features["gene_id"].tolist(), od.features["gene_name"].tolist()
        elif omic == "mirna":
            feat = sym = od.features["mirna"].tolist()
        elif omic == "meth":
            feat, sym = od.features["probe"].tolist(), od.features["gene"].tolist()
        else:
            feat, sym = od.features["agid"].tolist(), od.features["peptide_target"].tolist()
        wdf = pd.DataFrame(od.weights, columns=ctx.factor_names)
        wdf.insert(0, "symbol", sym)
        wdf.insert(0, "feature", feat)
        tsv(wdf, f"weights_{omic}.tsv")
        rows = prim[np.isin(s["sample"].to_numpy()[prim], al.loc[al["omic"] == omic, "sample"].to_numpy())]
        r2_rows += M.r2_table(omic, od, zs, rows, ctx.factor_names)
    tsv(pd.DataFrame(r2_rows, columns=["view", "component", "r2"]), "r2.tsv")

    g = ctx.genes
    tsv(
        g[
            [
                "gene_id",
                "gene_name",
                "entrez",
                "gene_type",
                "chromosome",
                "start",
                "end",
                "signatures",
                "named",
            ]
        ],
        "genes.tsv",
    )
    if ctx.muts is not None:
        tsv(
            ctx.muts[
                [
                    "sample",
                    "patient",
                    "gene",
                    "chromosome",
                    "start",
                    "variant_classification",
                    "hgvsp_short",
                    "protein_altering",
                    "driver",
                ]
            ],
            "mutations.tsv",
        )

    chosen_rows, dropped_rows = [], []
    for a in al.to_dict("records"):
        layouts = ["gdc"] + (["firehose"] if a["omic"] == "rna" else [])
        for layout in layouts:
            if layout == "gdc" and "gdc" not in params["layouts"]:
                continue
            if layout == "firehose" and "firehose" not in params["layouts"]:
                continue
            base = {
                "layout": layout,
                "omic": a["omic"],
                "sample": a["sample"],
                "aliquot": a["aliquot"],
                "file_id": a["file_id"] if layout == "gdc" else "",
                "file_name": a["file_name"] if layout == "gdc" else FIREHOSE_RSEM,
            }
            if a["chosen"]:
                chosen_rows.append({**base, "patient": a["patient"], "sample_type_code": a["code"]})
            else:
                detail = {
                    "vial": "vial B; vial A of the same sample exists",
                    "analyte": f"analyte {a['aliquot'][19]} ranks below {a['chosen_aliquot'][19]}",
                    "barcode_order": "lexicographically lower barcode than the chosen aliquot",
                }[a["reason"]]
                dropped_rows.append(
                    {**base, "chosen_aliquot": a["chosen_aliquot"], "reason": a["reason"], "detail": detail}
                )
    ccols = ["layout", "omic", "sample", "patient", "sample_type_code", "aliquot", "file_id", "file_name"]
    tsv(pd.DataFrame(chosen_rows, columns=ccols), "chosen_aliquots.tsv")
    dcols = [
        "layout",
        "omic",
        "sample",
        "aliquot",
        "file_id",
        "file_name",
        "chosen_aliquot",
        "reason",
        "detail",
    ]
    tsv(pd.DataFrame(dropped_rows, columns=dcols), "dropped_aliquots.tsv")

    spots = pd.DataFrame(
        ctx.spots,
        columns=[
            "layout",
            "omic",
            "path",
            "sample",
            "aliquot",
            "key_column",
            "feature",
            "column",
            "expected",
        ],
    )
    W.write_bytes(root / "spot_checks.tsv", spots.to_csv(sep="\t", index=False, lineterminator="\n"))

    subtype_counts = p["subtype"].value_counts().reindex(M.SUBTYPES, fill_value=0)
    meta = {
        "generator": "harmonomics.datasets.write_synthetic_cohort",
        "harmonomics_version": __version__,
        "date": W.DATE,
        "params": params,
        "factor_names": ctx.factor_names,
        "subtype_frequencies": dict(zip(M.SUBTYPES, M.SUBTYPE_FREQ, strict=True)),
        "subtype_counts": {k: int(v) for k, v in subtype_counts.items()},
        "survival": {
            "model": "exponential; h = h0 * exp(log_hr_subtype + log(hr_Z4) * Z4_survival + log(hr_immune) * "
            "immune_level); censoring uniform",
            "baseline_hazard_per_day": M.BASELINE_HAZARD_PER_DAY,
            "reference_subtype": "LumA",
            "hazard_ratio": {
                **{f"subtype[{k}]": v for k, v in M.HR_SUBTYPE.items() if k != "LumA"},
                "Z4_survival_per_sd": M.HR_Z4_PER_SD,
                "immune_level_per_sd": M.HR_IMMUNE_PER_SD,
            },
            "log_hr": {
                **{f"subtype[{k}]": float(np.log(v)) for k, v in M.HR_SUBTYPE.items() if k != "LumA"},
                "Z4_survival_per_sd": float(np.log(M.HR_Z4_PER_SD)),
                "immune_level_per_sd": float(np.log(M.HR_IMMUNE_PER_SD)),
            },
            "censoring_days": list(M.CENSOR_DAYS),
            "n_events": int(p["os_event"].sum()),
        },
        "drivers": {g_: dict(zip(M.SUBTYPES, pr, strict=True)) for g_, pr in M.DRIVERS.items()},
        "erbb2_amplicon": list(M.AMPLICON),
        "erbb2_amplified_patients": int(cnv.amplified.sum()),
        "rna_model": {
            "centroid_scale_log2": 1.5,
            "cnv_cis_per_log2_ratio": 0.8,
            "nb_dispersion": 0.05,
            "library_size": "1000 * n_genes * lognormal(0, 0.25)",
            "normalized_count": "unstranded / UQ * 1000, UQ = 75th percentile of non-zero counts",
        },
        "rppa": {
            "sets": list(M.RPPA_SETS),
            "batch1_only": list(M.RPPA_BATCH1_ONLY),
            "batch2_only": list(M.RPPA_BATCH2_ONLY),
        },
        "mess": design.mess_counts,
        "n_samples": {code: int((s["code"] == code).sum()) for code in ("01", "06", "11")},
        "n_aliquots": {o: int((al["omic"] == o).sum()) for o in omics},
        "n_spot_checks": len(spots),
    }
    W.write_bytes(root / "params.json", json.dumps(meta, indent=2, sort_keys=False) + "\n")
    W.write_bytes(root / "README.md", TRUTH_README)
    return root


TRUTH_README = """# Ground truth of a harmonomics synthetic cohort

Written by `harmonomics.datasets.write_synthetic_cohort`; see docs/synthetic.md for the full description.

- params.json: seed, parameters, factor names, survival model (hazard ratios), driver probabilities and
  mess counts.
- patients.tsv: patient, case_id, subtype, immune_level, stromal_level, age, stage, os_time_days, os_event,
  vital_status, clinical_only, omics.
- samples.tsv: every biological sample (sample_type_code 01 / 06 / 11) with its omics.
- factors.tsv: the planted factors Z (standardised) per patient; weights_<omic>.tsv: the planted weights.
- r2.tsv: R² of each factor (and extra term) per view on the latent scale.
- genes.tsv, mutations.tsv: gene annotation and every planted mutation.
- chosen_aliquots.tsv / dropped_aliquots.tsv: the aliquot a correct reader keeps per (sample, omic) and why
  the others are dropped (vial, analyte, barcode_order).
- spot_checks.tsv: cells as written in the files (layout, omic, path, sample, aliquot, key_column, feature,
  column, expected).
"""
