"""Writers of the synthetic cohort's files: GDC, cBioPortal, Xena and Firehose (see docs/synthetic.md)."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import data
from .._clinical import DAYS_PER_MONTH  # the convention of the readers
from . import _synthetic_model as M
from . import _synthetic_text as T

DATE = "2024-06-01"
PROJECT = "TCGA-BRCA"
STUDY = "brca_synthetic"
NA_GDC = "'--"


# --------------------------------------------------------------------------------------------- text helpers
def fmt_float(values, decimals: int, na: str = "NA") -> list[str]:
    """Fixed-decimal strings; NaN -> ``na``."""
    f = f"%.{decimals}f"
    return [na if v != v else f % v for v in np.asarray(values, dtype=float).ravel().tolist()]


def write_bytes(path: Path, text: str | bytes, *, gz: bool = False, compresslevel: int = 1) -> tuple[str, int]:
    """Write ``text`` (UTF-8; gzip with mtime 0 if ``gz``); return (md5, size) of the bytes on disk."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if gz:
        raw = gzip.compress(raw, compresslevel=compresslevel, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return hashlib.md5(raw).hexdigest(), len(raw)


def lines_of(columns: list[list[str]]) -> str:
    return "\n".join("\t".join(row) for row in zip(*columns, strict=True)) + "\n"


def write_matrix(
    path: Path,
    header: list[str],
    ids: list[list[str]],
    values: np.ndarray,
    decimals: int,
    na: str = "NA",
    extra_rows: list[str] | None = None,
) -> None:
    """features x samples text matrix: id columns, then one column per sample (rendered in row chunks)."""
    parts = [("\n".join(["\t".join(header)] + (extra_rows or [])) + "\n").encode()]
    n_rows, n_cols = values.shape
    step = max(1, 400_000 // max(n_cols, 1))  # ~400k cells per chunk bounds the renderer's memory
    for lo in range(0, n_rows, step):
        hi = min(n_rows, lo + step)
        blocks = [T.strings(c[lo:hi]) for c in ids] + [T.matrix(values[lo:hi], decimals, na)]
        parts.append(T.render(blocks))
    write_bytes(path, b"".join(parts))


@dataclass
class Context:
    """Everything the writers need."""

    root: Path
    seed: int
    omics: tuple[str, ...]
    patients: pd.DataFrame
    factors: np.ndarray
    factor_names: list[str]
    design: M.Design
    genes: pd.DataFrame
    data: dict[str, M.Omic]
    muts: pd.DataFrame | None
    compresslevel: int
    annotations: bool = False
    spots: list[dict] = field(default_factory=list)
    n_spot: int = 6

    def rows(self, omic: str) -> pd.DataFrame:
        al = self.design.aliquots
        return al[al["omic"] == omic]

    def chosen_primary(self, omic: str) -> pd.DataFrame:
        """Chosen aliquots of primary samples, with ``row`` = position in the omic's observation arrays."""
        r = self.rows(omic).copy()
        r["row"] = np.arange(len(r))
        return r[r["chosen"].to_numpy() & (r["code"] == "01").to_numpy()]

    def chosen_all(self, omic: str) -> pd.DataFrame:
        r = self.rows(omic).copy()
        r["row"] = np.arange(len(r))
        return r[r["chosen"].to_numpy()]

    def spot(self, layout, omic, path, sample, aliquot, feature, column, expected):
        self.spots.append(
            {
                "layout": layout,
                "omic": omic,
                "path": path.relative_to(self.root).as_posix(),
                "sample": sample,
                "aliquot": aliquot,
                "key_column": key_column(layout, omic, path.name),
                "feature": feature,
                "column": column,
                "expected": expected,
            }
        )

    def spot_rng(self, name: str) -> np.random.Generator:
        return M.rng_for(self.seed, "spots_" + name)


def key_column(layout: str, omic: str, file_name: str) -> str:
    """The column whose value equals a spot check's ``feature`` ("" for the header-less methylation file)."""
    if layout == "gdc":
        return {
            "rna": "gene_id",
            "mirna": "miRNA_ID",
            "meth": "",
            "cnv": "gene_id",
            "mut": "Hugo_Symbol",
            "prot": "AGID",
            "clinical": "cases.submitter_id",
        }[omic]
    if layout == "cbioportal":
        if omic == "clinical":
            return "PATIENT_ID" if "patient" in file_name else "SAMPLE_ID"
        return {
            "rna": "Entrez_Gene_Id",
            "cnv": "Entrez_Gene_Id",
            "meth": "ENTITY_STABLE_ID",
            "prot": "Composite.Element.REF",
            "mirna": "Hugo_Symbol",
            "mut": "Hugo_Symbol",
        }[omic]
    if layout == "xena":
        return "sampleID" if omic == "clinical" else "sample"
    return "gene" if file_name.endswith("normalized_log2.txt") else "Hybridization REF"


def gistic(cn: np.ndarray) -> np.ndarray:
    out = np.zeros(cn.shape)
    out[cn <= 0] = -2
    out[cn == 1] = -1
    out[(cn >= 3) & (cn <= 4)] = 1
    out[cn >= 5] = 2
    out[np.isnan(cn)] = np.nan
    return out


# ------------------------------------------------------------------------------------------------------ GDC
GDC_TYPES = {
    "rna": (
        "Transcriptome Profiling",
        "Gene Expression Quantification",
        "TSV",
        "RNA-Seq",
        "{u}.rna_seq.augmented_star_gene_counts.tsv",
    ),
    "mirna": (
        "Transcriptome Profiling",
        "miRNA Expression Quantification",
        "TXT",
        "miRNA-Seq",
        "{u}.mirbase21.mirnas.quantification.txt",
    ),
    "meth": (
        "DNA Methylation",
        "Methylation Beta Value",
        "TXT",
        "Methylation Array",
        "{u}.methylation_array.sesame.level3betas.txt",
    ),
    "cnv": (
        "Copy Number Variation",
        "Gene Level Copy Number",
        "TSV",
        "Genotyping Array",
        "TCGA-BRCA.{u}.ascat3.gene_level_copy_number.v36.tsv",
    ),
    "mut": (
        "Simple Nucleotide Variation",
        "Masked Somatic Mutation",
        "MAF",
        "WXS",
        "{u}.wxs.aliquot_ensemble_masked.maf.gz",
    ),
    "prot": (
        "Proteome Profiling",
        "Protein Expression Quantification",
        "TSV",
        "Reverse Phase Protein Array",
        "TCGA-BRCA.{u}.RPPA_data.tsv",
    ),
}
SHEET_COLUMNS = [
    "File ID",
    "File Name",
    "Data Category",
    "Data Type",
    "Project ID",
    "Case ID",
    "Sample ID",
    "Tissue Type",
    "Tumor Descriptor",
    "Specimen Type",
    "Preservation Method",
]


def file_names(design: M.Design) -> None:
    al = design.aliquots
    al["file_name"] = [GDC_TYPES[o][4].format(u=f) for o, f in zip(al["omic"], al["file_id"], strict=True)]


def _sample_cells(code: str) -> tuple[str, str, str]:
    if code == "11":
        return "Normal", "Not Applicable", "Solid Tissue"
    if code == "06":
        return "Tumor", "Metastatic", "Solid Tissue"
    return "Tumor", "Primary", "Solid Tissue"


def write_gdc(ctx: Context) -> Path:
    root = ctx.root / "gdc"
    root.mkdir(parents=True, exist_ok=True)
    sheet, meta, manifest = [], [], []
    case_uuid = dict(zip(ctx.patients["patient"], ctx.patients["case_id"], strict=True))
    pair_order = M.rng_for(ctx.seed, "gdc_pair_order")  # its own stream: the other draws stay as they were
    writers = {
        "rna": _gdc_star,
        "mirna": _gdc_mirna,
        "meth": _gdc_meth,
        "cnv": _gdc_cnv,
        "mut": _gdc_maf,
        "prot": _gdc_rppa,
    }
    for omic in ctx.omics:
        rows = ctx.rows(omic)
        spot_rows = set(_pick_spot_rows(ctx, omic))
        write_one = writers[omic]
        prep = write_one(ctx, None, None, None, prepare=True)
        for row_i, a in enumerate(rows.to_dict("records")):
            path = root / a["file_id"] / a["file_name"]
            md5, size = write_one(ctx, a, row_i, path, prep=prep, spot=row_i in spot_rows)
            cat, dtype, fmt, strategy, _ = GDC_TYPES[omic]
            tissue, descriptor, specimen = _sample_cells(a["code"])
            cells = [a["patient"], a["aliquot"][:16], tissue, descriptor, specimen, a["preservation"]]
            entities = [
                {
                    "entity_submitter_id": a["aliquot"],
                    "entity_type": "portion" if omic == "prot" else "aliquot",
                    "entity_id": a["aliquot_uuid"],
                    "case_id": case_uuid[a["patient"]],
                }
            ]
            if a["normal_aliquot"]:
                # a tumour–normal pair's file (ASCAT gene-level CN, masked MAF): GDC lists both samples in one row,
                # each cell "x, y", and in the metadata both entities, the tumour first or second
                normal = [
                    a["patient"],
                    a["normal_aliquot"][:16],
                    "Normal",
                    "Not Applicable",
                    "Peripheral Whole Blood",
                    "Unknown",
                ]
                entities.append(
                    {
                        "entity_submitter_id": a["normal_aliquot"],
                        "entity_type": "aliquot",
                        "entity_id": a["normal_uuid"],
                        "case_id": case_uuid[a["patient"]],
                    }
                )
                pair = [cells, normal]
                if pair_order.random() < 0.5:
                    pair.reverse()
                    entities.reverse()
                cells = [f"{x}, {y}" for x, y in zip(*pair, strict=True)]
            sheet.append([a["file_id"], a["file_name"], cat, dtype, PROJECT, *cells])
            meta.append(
                {
                    "file_id": a["file_id"],
                    "file_name": a["file_name"],
                    "data_category": cat,
                    "data_type": dtype,
                    "data_format": fmt,
                    "experimental_strategy": strategy,
                    "md5sum": md5,
                    "file_size": size,
                    "state": "released",
                    "access": "open",
                    "associated_entities": entities,
                }
            )
            manifest.append([a["file_id"], a["file_name"], md5, str(size), "released"])
    write_bytes(
        root / f"gdc_sample_sheet.{DATE}.tsv",
        "\t".join(SHEET_COLUMNS) + "\n" + "".join("\t".join(r) + "\n" for r in sheet),
    )
    write_bytes(root / f"metadata.cart.{DATE}.json", json.dumps(meta, indent=2) + "\n")
    write_bytes(
        root / f"gdc_manifest.{DATE}.txt",
        "id\tfilename\tmd5\tsize\tstate\n" + "".join("\t".join(r) + "\n" for r in manifest),
    )
    _gdc_clinical(ctx, root)
    if ctx.annotations:
        _gdc_annotations(ctx, root, meta)
    return root


ANNOTATIONS = (
    ("Prior malignancy", "Notification", "Prior invasive malignancy of a different site."),
    ("Neoadjuvant therapy", "Notification", "Patient received neoadjuvant treatment."),
    ("Item may not meet study protocol", "Observation", "Tumor nuclei below the usual threshold."),
)


def _gdc_annotations(ctx: Context, root: Path, meta: list[dict]) -> None:
    """``annotations.txt`` beside a few files (real downloads have them; readers must ignore them)."""
    rng = M.rng_for(ctx.seed, "annotations")
    n = max(1, int(round(0.02 * len(meta))))
    uids = M.uuids(rng, n)
    for k, j in enumerate(sorted(rng.choice(len(meta), min(n, len(meta)), replace=False).tolist())):
        m = meta[j]
        ent = m["associated_entities"][0]
        category, classification, notes = ANNOTATIONS[int(rng.integers(len(ANNOTATIONS)))]
        text = (
            "id\tsubmitter_id\tentity_type\tentity_id\tentity_submitter_id\tcategory\tclassification\t"
            "created_datetime\tstatus\tnotes\n"
            f"{uids[k]}\t{ent['entity_submitter_id'][:12]}\tcase\t{ent['case_id']}\t"
            f"{ent['entity_submitter_id'][:12]}\t{category}\t{classification}\t2012-03-14T00:00:00\t"
            f"Approved\t{notes}\n"
        )
        write_bytes(root / m["file_id"] / "annotations.txt", text)


def _pick_spot_rows(ctx: Context, omic: str) -> list[int]:
    r = ctx.rows(omic)
    ok = np.flatnonzero(r["chosen"].to_numpy() & (r["code"] == "01").to_numpy())
    rng = ctx.spot_rng("gdc_" + omic)
    return sorted(rng.choice(ok, min(len(ok), ctx.n_spot), replace=False).tolist()) if len(ok) else []


def _gdc_star(ctx, a, i, path, *, prepare=False, prep=None, spot=False):
    g = ctx.genes
    if prepare:
        order = np.argsort(g["gene_id"].to_numpy(), kind="stable")
        # two PAR_Y rows after their chrX genes (never signature genes)
        cand = [
            j
            for j in order
            if g["chromosome"].iat[j] == "chrX" and g["signatures"].iat[j] == "" and g["named"].iat[j] == 1
        ][:2]
        prefix, src = [], []
        gid, gname, gtype = g["gene_id"].to_numpy(), g["gene_name"].to_numpy(), g["gene_type"].to_numpy()
        for j in order:
            prefix.append(f"{gid[j]}\t{gname[j]}\t{gtype[j]}")
            src.append(j)
            if j in cand:
                prefix.append(f"{gid[j]}_PAR_Y\t{gname[j]}\t{gtype[j]}")
                src.append(-1)
        src = np.array(src)
        return {
            "prefix": T.strings(prefix),
            "ids": [x.split("\t", 1)[0] for x in prefix],
            "src": src,
            "par": src < 0,
            "take": np.where(src < 0, 0, src),
        }
    o = ctx.data["rna"].obs
    par, take = prep["par"], prep["take"]
    vals = {}
    derived = M.rna_row(o, i)
    for name in ("unstranded", "stranded_first", "stranded_second", "tpm", "fpkm", "fpkm_uq"):
        v = (o[name][i] if name in o else derived[name])[take].astype(float)
        v[par] = 0
        vals[name] = v
    blocks = [
        prep["prefix"],
        T.matrix(np.stack([vals[c] for c in ("unstranded", "stranded_first", "stranded_second")], axis=1), 0),
        T.matrix(np.stack([vals[c] for c in ("tpm", "fpkm", "fpkm_uq")], axis=1), 4),
    ]
    head = [
        "# gene-model: GENCODE v36",
        "gene_id\tgene_name\tgene_type\tunstranded\tstranded_first\tstranded_second\ttpm_unstranded\t"
        "fpkm_unstranded\tfpkm_uq_unstranded",
    ]
    for k, name in enumerate(("N_unmapped", "N_multimapping", "N_noFeature", "N_ambiguous")):
        head.append(f"{name}\t\t\t{o['n_unstranded'][i, k]}\t{o['n_first'][i, k]}\t{o['n_second'][i, k]}\t\t\t")
    md5 = write_bytes(path, T.render(blocks, head))
    if spot:
        rng = ctx.spot_rng("star" + a["aliquot"])
        ids = prep["ids"]
        for j in rng.choice(len(ids), 3, replace=False):
            ctx.spot(
                "gdc",
                "rna",
                path,
                a["sample"],
                a["aliquot"],
                ids[j],
                "unstranded",
                T.fmt1(vals["unstranded"][j], 0),
            )
        j = int(rng.integers(len(ids)))
        ctx.spot("gdc", "rna", path, a["sample"], a["aliquot"], ids[j], "tpm_unstranded", T.fmt1(vals["tpm"][j], 4))
        ctx.spot(
            "gdc",
            "rna",
            path,
            a["sample"],
            a["aliquot"],
            "N_unmapped",
            "unstranded",
            str(o["n_unstranded"][i, 0]),
        )
    return md5


def _gdc_mirna(ctx, a, i, path, *, prepare=False, prep=None, spot=False):
    om = ctx.data["mirna"]
    if prepare:
        return {"ids": T.strings(om.features["mirna"]), "xm": T.strings(om.features["cross_mapped"])}
    cnt, rpm = om.obs["count"][i], om.obs["rpm"][i]
    md5 = write_bytes(
        path,
        T.render(
            [prep["ids"], T.numbers(cnt, 0), T.numbers(rpm, 6), prep["xm"]],
            ["miRNA_ID\tread_count\treads_per_million_miRNA_mapped\tcross-mapped"],
        ),
    )
    if spot:
        ids = om.features["mirna"].tolist()
        rng = ctx.spot_rng("mir" + a["aliquot"])
        for j in rng.choice(len(ids), 2, replace=False):
            ctx.spot("gdc", "mirna", path, a["sample"], a["aliquot"], ids[j], "read_count", T.fmt1(cnt[j], 0))
        j = int(rng.integers(len(ids)))
        ctx.spot(
            "gdc",
            "mirna",
            path,
            a["sample"],
            a["aliquot"],
            ids[j],
            "reads_per_million_miRNA_mapped",
            T.fmt1(rpm[j], 6),
        )
    return md5


def _gdc_meth(ctx, a, i, path, *, prepare=False, prep=None, spot=False):
    om = ctx.data["meth"]
    if prepare:
        return {"ids": T.strings(om.features["probe"])}
    beta = om.obs["beta"][i]
    md5 = write_bytes(path, T.render([prep["ids"], T.numbers(beta, 6)]))
    if spot:
        ids = om.features["probe"].tolist()
        rng = ctx.spot_rng("meth" + a["aliquot"])
        picks = list(rng.choice(len(ids), 3, replace=False))
        na = np.flatnonzero(np.isnan(beta))
        if len(na):
            picks.append(int(na[int(rng.integers(len(na)))]))
        for j in picks:
            ctx.spot("gdc", "meth", path, a["sample"], a["aliquot"], ids[j], "beta", T.fmt1(beta[j], 6))
    return md5


def _gdc_cnv(ctx, a, i, path, *, prepare=False, prep=None, spot=False):
    g = ctx.genes
    if prepare:
        order = np.argsort(g["gene_id"].to_numpy(), kind="stable")
        cols = [g[c].to_numpy()[order] for c in ("gene_id", "gene_name", "chromosome", "start", "end")]
        prefix = ["\t".join(map(str, r)) for r in zip(*cols, strict=True)]
        return {
            "order": order,
            "rng": M.rng_for(ctx.seed, "cnv_minmax"),
            "prefix": T.strings(prefix),
            "ids": cols[0].tolist(),
            "erbb2": int(np.flatnonzero(cols[1] == "ERBB2")[0]),
        }
    order = prep["order"]
    cn = ctx.data["cnv"].obs["cn"][i][order]
    lower = prep["rng"].random(len(cn)) < 0.03
    mn = np.where(lower, np.maximum(cn - 1, 0), cn)
    text = T.render(
        [prep["prefix"], T.matrix(np.stack([cn, mn, cn], axis=1), 0, "")],
        ["gene_id\tgene_name\tchromosome\tstart\tend\tcopy_number\tmin_copy_number\tmax_copy_number"],
    )
    md5 = write_bytes(path, text)
    if spot:
        ids = prep["ids"]
        rng = ctx.spot_rng("cnv" + a["aliquot"])
        picks = list(rng.choice(len(ids), 3, replace=False)) + [prep["erbb2"]]
        for j in picks:
            ctx.spot("gdc", "cnv", path, a["sample"], a["aliquot"], ids[j], "copy_number", T.fmt1(cn[j], 0, ""))
    return md5


MAF_COLUMNS = None


def maf_columns() -> list[str]:
    global MAF_COLUMNS
    if MAF_COLUMNS is None:
        MAF_COLUMNS = data.path("formats_gdc_masked_maf_columns.tsv").read_text().strip().split("\t")
    return MAF_COLUMNS


def _maf_frame(
    ctx, m: pd.DataFrame, tumour: str, normal: str, t_uuid: str, n_uuid: str, case_id: str, chrom_prefix: bool
) -> dict[str, list[str]]:
    n = len(m)
    rng = M.rng_for(ctx.seed, "maf" + tumour)
    vc = m["variant_classification"].tolist()
    impact = {
        "Missense_Mutation": "MODERATE",
        "In_Frame_Del": "MODERATE",
        "In_Frame_Ins": "MODERATE",
        "Silent": "LOW",
        "3'UTR": "MODIFIER",
        "5'UTR": "MODIFIER",
        "Intron": "MODIFIER",
    }
    chrom = m["chromosome"].tolist() if chrom_prefix else [c[3:] for c in m["chromosome"]]
    hgvsp_short = m["hgvsp_short"].tolist()
    hgvsp = []
    for h in hgvsp_short:
        if not h:
            hgvsp.append("")
            continue
        core = h[2:]
        if core[0] in M.AA3 and core[-1] in M.AA3 and core[1:-1].isdigit():
            hgvsp.append(f"p.{M.AA3[core[0]]}{core[1:-1]}{M.AA3[core[-1]]}")
        else:
            hgvsp.append(h)
    depth = m["t_depth"].to_numpy()
    alt_c = m["t_alt_count"].to_numpy()
    nd = m["n_depth"].to_numpy()
    cols: dict[str, list[str]] = {
        "Hugo_Symbol": m["gene"].tolist(),
        "Entrez_Gene_Id": m["entrez"].astype(str).tolist(),
        "Center": ["WUGSC"] * n,
        "NCBI_Build": ["GRCh38"] * n,
        "Chromosome": chrom,
        "Start_Position": [str(x) for x in m["start"]],
        "End_Position": [str(x) for x in m["end"]],
        "Strand": ["+"] * n,
        "Variant_Classification": vc,
        "Variant_Type": m["variant_type"].tolist(),
        "Reference_Allele": m["ref"].tolist(),
        "Tumor_Seq_Allele1": m["ref"].tolist(),
        "Tumor_Seq_Allele2": m["alt"].tolist(),
        "dbSNP_RS": ["novel"] * n,
        "Tumor_Sample_Barcode": [tumour] * n,
        "Matched_Norm_Sample_Barcode": [normal] * n,
        "Match_Norm_Seq_Allele1": m["ref"].tolist(),
        "Match_Norm_Seq_Allele2": m["ref"].tolist(),
        "Mutation_Status": ["Somatic"] * n,
        "Sequencer": ["Illumina HiSeq 2000"] * n,
        "Tumor_Sample_UUID": [t_uuid] * n,
        "Matched_Norm_Sample_UUID": [n_uuid] * n,
        "HGVSp": hgvsp,
        "HGVSp_Short": hgvsp_short,
        "Transcript_ID": [f"ENST009{int(e[7:]):08d}" for e in m["ensembl"]],
        "t_depth": [str(x) for x in depth],
        "t_ref_count": [str(x) for x in depth - alt_c],
        "t_alt_count": [str(x) for x in alt_c],
        "n_depth": [str(x) for x in nd],
        "n_ref_count": [str(x) for x in nd],
        "n_alt_count": ["0"] * n,
        "Gene": m["ensembl"].tolist(),
        "SYMBOL": m["gene"].tolist(),
        "BIOTYPE": ["protein_coding"] * n,
        "IMPACT": [impact.get(v, "HIGH") for v in vc],
        "VARIANT_CLASS": [{"SNP": "SNV", "DEL": "deletion", "INS": "insertion"}[t] for t in m["variant_type"]],
        "case_id": [case_id] * n,
        "hotspot": ["Y" if d else "N" for d in m["driver"]],
        "callers": [
            ";".join(sorted(rng.choice(["muse", "mutect2", "pindel", "varscan2"], 2, replace=False))) for _ in range(n)
        ],
        "GDC_FILTER": [""] * n,
    }
    return cols


def _gdc_maf(ctx, a, i, path, *, prepare=False, prep=None, spot=False):
    if prepare:
        return {"by_row": {k: v for k, v in ctx.muts.groupby("aliquot_row").indices.items()}}
    m = ctx.muts.iloc[prep["by_row"].get(i, [])]
    case_id = dict(zip(ctx.patients["patient"], ctx.patients["case_id"], strict=True))[a["patient"]]
    cols = _maf_frame(ctx, m, a["aliquot"], a["normal_aliquot"], a["aliquot_uuid"], a["normal_uuid"], case_id, True)
    header = maf_columns()
    n = len(m)
    empty = [""] * n
    table = [cols.get(c, empty) for c in header]
    head = [
        "#version gdc-1.0.0",
        f"#filedate {DATE.replace('-', '')}",
        "#annotation.spec gdc-2.0.0-aliquot-merged-masked",
        "#n.analyzed.samples 1",
        f"#tumor.aliquot {a['aliquot_uuid']}",
        f"#normal.aliquot {a['normal_uuid']}",
        "\t".join(header),
    ]
    text = "\n".join(head) + "\n" + lines_of(table)
    md5 = write_bytes(path, text, gz=True, compresslevel=ctx.compresslevel)
    if spot:
        genes = cols["Hugo_Symbol"]
        uniq = [j for j, gname in enumerate(genes) if genes.count(gname) == 1]
        rng = ctx.spot_rng("maf" + a["aliquot"])
        for j in rng.choice(uniq, min(2, len(uniq)), replace=False):
            ctx.spot(
                "gdc",
                "mut",
                path,
                a["sample"],
                a["aliquot"],
                genes[j],
                "Variant_Classification",
                cols["Variant_Classification"][j],
            )
            ctx.spot(
                "gdc",
                "mut",
                path,
                a["sample"],
                a["aliquot"],
                genes[j],
                "Start_Position",
                cols["Start_Position"][j],
            )
    return md5


def _gdc_rppa(ctx, a, i, path, *, prepare=False, prep=None, spot=False):
    om = ctx.data["prot"]
    f = om.features
    if prepare:
        out = {}
        for batch in (1, 2):
            fs = f[f[f"in_batch{batch}"]]
            set_id = M.RPPA_SETS[batch - 1]
            out[batch] = T.strings(
                [
                    "\t".join(r)
                    for r in zip(
                        fs["agid"],
                        fs["lab_id"],
                        fs["catalog_number"],
                        [set_id] * len(fs),
                        fs["peptide_target"],
                        strict=True,
                    )
                ]
            )
        return out
    batch = int(a["batch"])
    inpanel = f[f"in_batch{batch}"].to_numpy()
    vals = om.obs["value"][i][inpanel]
    md5 = write_bytes(
        path,
        T.render(
            [prep[batch], T.numbers(vals, 6)],
            ["AGID\tlab_id\tcatalog_number\tset_id\tpeptide_target\tprotein_expression"],
        ),
    )
    if spot:
        rng = ctx.spot_rng("rppa" + a["aliquot"])
        ids = f["agid"].to_numpy()[inpanel]
        for j in rng.choice(len(ids), 3, replace=False):
            ctx.spot(
                "gdc",
                "prot",
                path,
                a["sample"],
                a["aliquot"],
                ids[j],
                "protein_expression",
                T.fmt1(vals[j], 6),
            )
    return md5


CLINICAL_COLUMNS = [
    "project.project_id",
    "cases.case_id",
    "cases.submitter_id",
    "demographic.age_at_index",
    "demographic.days_to_birth",
    "demographic.days_to_death",
    "demographic.ethnicity",
    "demographic.gender",
    "demographic.race",
    "demographic.vital_status",
    "diagnoses.age_at_diagnosis",
    "diagnoses.ajcc_pathologic_stage",
    "diagnoses.days_to_last_follow_up",
    "diagnoses.primary_diagnosis",
    "diagnoses.tissue_or_organ_of_origin",
    "treatments.treatment_or_therapy",
    "treatments.treatment_type",
]


def _gdc_clinical(ctx: Context, root: Path) -> None:
    p = ctx.patients
    rng = M.rng_for(ctx.seed, "gdc_clinical")
    n = len(p)
    race = rng.choice(["white", "black or african american", "asian", "not reported"], n, p=[0.7, 0.17, 0.06, 0.07])
    eth = rng.choice(["not hispanic or latino", "hispanic or latino", "not reported"], n, p=[0.8, 0.04, 0.16])
    extra_days = rng.integers(0, 365, n)
    lobular = set()
    if ctx.muts is not None:
        lobular = set(ctx.muts.loc[(ctx.muts["gene"] == "CDH1") & (ctx.muts["driver"] == 1), "patient"])
    lines = ["\t".join(CLINICAL_COLUMNS)]
    for i, r in enumerate(p.to_dict("records")):
        age = r["age"]
        has_age = age == age
        dead = r["os_event"] == 1
        fu = r["_fu_before_death"]
        base = {
            "project.project_id": PROJECT,
            "cases.case_id": r["case_id"],
            "cases.submitter_id": r["patient"],
            "demographic.age_at_index": str(int(age)) if has_age else NA_GDC,
            "demographic.days_to_birth": str(-int(round(age * 365.25)) - int(extra_days[i])) if has_age else NA_GDC,
            "demographic.days_to_death": str(r["os_time_days"]) if dead else NA_GDC,
            "demographic.ethnicity": eth[i],
            "demographic.gender": "female",
            "demographic.race": race[i],
            "demographic.vital_status": r["vital_status"],
            "diagnoses.age_at_diagnosis": str(int(round(age * 365.25)) + int(extra_days[i])) if has_age else NA_GDC,
            "diagnoses.ajcc_pathologic_stage": r["stage"] if isinstance(r["stage"], str) else NA_GDC,
            "diagnoses.days_to_last_follow_up": (str(fu) if fu >= 0 else NA_GDC) if dead else str(r["os_time_days"]),
            "diagnoses.primary_diagnosis": "Lobular carcinoma, NOS"
            if r["patient"] in lobular
            else "Infiltrating duct carcinoma, NOS",
            "diagnoses.tissue_or_organ_of_origin": "Breast, NOS",
        }
        for ttype, treated in zip(r["_treatments"].split(";"), r["_treated"].split(";"), strict=True):
            row = dict(base)
            row["treatments.treatment_or_therapy"] = treated
            row["treatments.treatment_type"] = ttype
            lines.append("\t".join(row[c] for c in CLINICAL_COLUMNS))
    path = root / "clinical.tsv"
    write_bytes(path, "\n".join(lines) + "\n")
    srng = ctx.spot_rng("gdc_clinical")
    for i in srng.choice(n, min(n, 8), replace=False):
        r = p.iloc[i]
        dead = r["os_event"] == 1
        ctx.spot(
            "gdc",
            "clinical",
            path,
            r["patient"],
            "",
            r["patient"],
            "demographic.vital_status",
            r["vital_status"],
        )
        days_column = "demographic.days_to_death" if dead else "diagnoses.days_to_last_follow_up"
        ctx.spot("gdc", "clinical", path, r["patient"], "", r["patient"], days_column, str(r["os_time_days"]))
        if not dead:
            ctx.spot("gdc", "clinical", path, r["patient"], "", r["patient"], "demographic.days_to_death", NA_GDC)


# ------------------------------------------------------------------------------------------ shared matrices
def _matrix_spots(ctx, layout, omic, path, ids, cols, values, decimals, name, k=None, col_to_sample=None, na="NA"):
    """Spot checks of random cells of a features x samples matrix."""
    rng = ctx.spot_rng(layout + name)
    k = k or 2 * ctx.n_spot
    if not len(ids) or not len(cols):
        return
    for _ in range(k):
        r = int(rng.integers(len(ids)))
        c = int(rng.integers(len(cols)))
        sample = col_to_sample(cols[c]) if col_to_sample else cols[c]
        ctx.spot(
            layout,
            omic,
            path,
            sample,
            cols[c] if len(cols[c]) == 28 else "",
            ids[r],
            cols[c],
            T.fmt1(values[r, c], decimals, na),
        )


def rna_values(ctx: Context, rows: pd.DataFrame, kind: str) -> np.ndarray:
    """genes x samples: normalised (kind='norm') or log2(norm + 1) values of the given aliquot rows."""
    v = M.rna_normalized(ctx.data["rna"].obs, rows["row"].to_numpy()).T
    return np.log2(v + 1) if kind == "log" else v


def unique_named(genes: pd.DataFrame, skip_y: bool = False) -> np.ndarray:
    ok = (genes["named"] == 1).to_numpy() & ~genes["gene_name"].duplicated().to_numpy()
    if skip_y:
        ok &= (genes["chromosome"] != "chrY").to_numpy()
    return np.flatnonzero(ok)


# ----------------------------------------------------------------------------------------------- cBioPortal
def _meta(path: Path, items: list[tuple[str, str]]) -> None:
    write_bytes(path, "".join(f"{k}: {v}\n" for k, v in items))


def _profile_meta(
    root: Path,
    name: str,
    kind: tuple[str, str, str],
    profile_name: str,
    description: str,
    *,
    tab: bool = False,
) -> None:
    """meta_<name>.txt of a molecular profile whose data are in data_<name>.txt.

    ``kind`` is (genetic_alteration_type, datatype, stable_id); ``tab``: show_profile_in_analysis_tab.
    """
    alteration, datatype, stable_id = kind
    _meta(
        root / f"meta_{name}.txt",
        [
            ("cancer_study_identifier", STUDY),
            ("genetic_alteration_type", alteration),
            ("datatype", datatype),
            ("stable_id", stable_id),
            ("show_profile_in_analysis_tab", "true" if tab else "false"),
            ("profile_name", profile_name),
            ("profile_description", description),
            ("data_filename", f"data_{name}.txt"),
        ],
    )


def write_cbioportal(ctx: Context) -> Path:
    root = ctx.root / "cbioportal"
    (root / "case_lists").mkdir(parents=True, exist_ok=True)
    _meta(
        root / "meta_study.txt",
        [
            ("type_of_cancer", "brca"),
            ("cancer_study_identifier", STUDY),
            ("name", "Breast Invasive Carcinoma (harmonomics synthetic)"),
            ("description", "Synthetic cohort written by harmonomics.datasets.write_synthetic_cohort"),
            ("short_name", "BRCA (synthetic)"),
            ("add_global_case_list", "true"),
            ("reference_genome", "hg38"),
        ],
    )
    p = ctx.patients
    samples = ctx.design.samples
    prim = samples[(samples["code"] == "01") & ~p["clinical_only"].to_numpy()[samples["p_index"].to_numpy()]]
    _cbio_clinical(ctx, root, prim)

    case_lists = {"all": ("All samples", prim["sample"].tolist())}
    for write in _CBIO_DATA:
        write(ctx, root, case_lists)
    _cbio_case_lists(root, case_lists)
    return root


def _cbio_clinical(ctx: Context, root: Path, prim: pd.DataFrame) -> None:
    """Patient and sample clinical files (with their meta files) of the primary tumours."""
    p = ctx.patients
    _meta(
        root / "meta_clinical_patient.txt",
        [
            ("cancer_study_identifier", STUDY),
            ("genetic_alteration_type", "CLINICAL"),
            ("datatype", "PATIENT_ATTRIBUTES"),
            ("data_filename", "data_clinical_patient.txt"),
        ],
    )
    _meta(
        root / "meta_clinical_sample.txt",
        [
            ("cancer_study_identifier", STUDY),
            ("genetic_alteration_type", "CLINICAL"),
            ("datatype", "SAMPLE_ATTRIBUTES"),
            ("data_filename", "data_clinical_sample.txt"),
        ],
    )
    na = "[Not Available]"
    months = fmt_float(p["os_time_days"].to_numpy() / DAYS_PER_MONTH, 2)
    pcols = [
        p["patient"].tolist(),
        [str(int(a)) if a == a else na for a in p["age"]],
        ["Female"] * len(p),
        [s.upper() if isinstance(s, str) else na for s in p["stage"]],
        ["1:DECEASED" if e else "0:LIVING" for e in p["os_event"]],
        months,
    ]
    phead = [
        "#Patient Identifier\tDiagnosis Age\tSex\t"
        "Neoplasm Disease Stage American Joint Committee on Cancer Code\t"
        "Overall Survival Status\tOverall Survival (Months)",
        "#Identifier to uniquely specify a patient.\tAge at which a condition or disease was first diagnosed."
        "\tSex\tStage\tOverall patient survival status.\tOverall survival in months since initial diagnosis.",
        "#STRING\tNUMBER\tSTRING\tSTRING\tSTRING\tNUMBER",
        "#1\t1\t1\t1\t1\t1",
        "PATIENT_ID\tAGE\tSEX\tAJCC_PATHOLOGIC_TUMOR_STAGE\tOS_STATUS\tOS_MONTHS",
    ]
    path = root / "data_clinical_patient.txt"
    write_bytes(path, "\n".join(phead) + "\n" + lines_of(pcols))
    rng = ctx.spot_rng("cbio_clin")
    for i in rng.choice(len(p), min(len(p), 8), replace=False):
        ctx.spot(
            "cbioportal",
            "clinical",
            path,
            p["patient"].iat[i],
            "",
            p["patient"].iat[i],
            "OS_MONTHS",
            months[i],
        )
        ctx.spot(
            "cbioportal",
            "clinical",
            path,
            p["patient"].iat[i],
            "",
            p["patient"].iat[i],
            "OS_STATUS",
            pcols[4][i],
        )
    scols = [
        prim["sample"].tolist(),
        prim["patient"].tolist(),
        ["BRCA_" + s for s in prim["subtype"]],
        ["Breast Cancer"] * len(prim),
        ["Breast Invasive Carcinoma"] * len(prim),
        ["Primary"] * len(prim),
    ]
    shead = [
        "#Sample Identifier\tPatient Identifier\tSubtype\tCancer Type\tCancer Type Detailed\tSample Type",
        "#A unique sample identifier.\tIdentifier to uniquely specify a patient.\tMolecular subtype."
        "\tCancer type.\tCancer type detailed.\tThe type of sample.",
        "#STRING\tSTRING\tSTRING\tSTRING\tSTRING\tSTRING",
        "#1\t1\t1\t1\t1\t1",
        "SAMPLE_ID\tPATIENT_ID\tSUBTYPE\tCANCER_TYPE\tCANCER_TYPE_DETAILED\tSAMPLE_TYPE",
    ]
    path = root / "data_clinical_sample.txt"
    write_bytes(path, "\n".join(shead) + "\n" + lines_of(scols))
    for i in rng.choice(len(prim), min(len(prim), 8), replace=False):
        ctx.spot("cbioportal", "clinical", path, scols[0][i], "", scols[0][i], "SUBTYPE", scols[2][i])


def _cbio_rna(ctx: Context, root: Path, case_lists: dict) -> None:
    """The RSEM mRNA matrix (Hugo symbol and Entrez columns)."""
    if "rna" not in ctx.omics:
        return
    g = ctx.genes
    rows = ctx.chosen_primary("rna")
    cols = rows["sample"].tolist()
    vals = rna_values(ctx, rows, "norm")
    ids = [
        [s if n else "" for s, n in zip(g["gene_name"], g["named"], strict=True)],
        g["entrez"].tolist(),
    ]
    path = root / "data_mrna_seq_v2_rsem.txt"
    write_matrix(path, ["Hugo_Symbol", "Entrez_Gene_Id"] + cols, ids, vals, 4)
    _profile_meta(
        root,
        "mrna_seq_v2_rsem",
        ("MRNA_EXPRESSION", "CONTINUOUS", "rna_seq_v2_mrna"),
        "mRNA Expression, RSEM (Batch normalized from Illumina HiSeq_RNASeqV2)",
        "mRNA expression (RSEM-style upper-quartile normalised)",
    )
    # Entrez identifies the row (symbols repeat or are blank)
    _matrix_spots(ctx, "cbioportal", "rna", path, g["entrez"].tolist(), cols, vals, 4, "rna")
    case_lists["rna_seq_v2_mrna"] = ("Samples with mRNA data (RNA Seq V2)", cols)


def _cbio_cnv(ctx: Context, root: Path, case_lists: dict) -> None:
    """The GISTIC and log2 copy-number matrices (no chrY)."""
    if "cnv" not in ctx.omics:
        return
    g = ctx.genes
    rows = ctx.chosen_primary("cnv")
    cols = rows["sample"].tolist()
    keep = np.flatnonzero((g["chromosome"] != "chrY").to_numpy())
    cn = ctx.data["cnv"].obs["cn"][rows["row"].to_numpy()][:, keep].T
    cont = ctx.data["cnv"].obs["cont"][rows["row"].to_numpy()][:, keep].T
    ids = [
        [s if n else "" for s, n in zip(g["gene_name"].to_numpy()[keep], g["named"].to_numpy()[keep], strict=True)],
        g["entrez"].to_numpy()[keep].tolist(),
    ]
    vals = gistic(cn)
    path = root / "data_cna.txt"
    write_matrix(path, ["Hugo_Symbol", "Entrez_Gene_Id"] + cols, ids, vals, 0)
    _matrix_spots(ctx, "cbioportal", "cnv", path, ids[1], cols, vals, 0, "cna")
    vals2 = np.log2(cont / 2.0)
    path2 = root / "data_log2_cna.txt"
    write_matrix(path2, ["Hugo_Symbol", "Entrez_Gene_Id"] + cols, ids, vals2, 4)
    _matrix_spots(ctx, "cbioportal", "cnv", path2, ids[1], cols, vals2, 4, "log2cna", k=ctx.n_spot)
    _profile_meta(
        root,
        "cna",
        ("COPY_NUMBER_ALTERATION", "DISCRETE", "gistic"),
        "Putative copy-number alterations from GISTIC",
        "Putative copy-number calls: -2 deep loss, -1 loss, 0 diploid, 1 gain, 2 amp",
        tab=True,
    )
    _profile_meta(
        root,
        "log2_cna",
        ("COPY_NUMBER_ALTERATION", "LOG2-VALUE", "log2CNA"),
        "Log2 copy-number values",
        "Log2 copy-number values",
    )
    case_lists["cna"] = ("Samples with CNA data", cols)


def _cbio_meth(ctx: Context, root: Path, case_lists: dict) -> None:
    """The HM450 methylation matrix, a generic assay."""
    if "meth" not in ctx.omics:
        return
    rows = ctx.chosen_primary("meth")
    cols = rows["sample"].tolist()
    f = ctx.data["meth"].features
    vals = ctx.data["meth"].obs["beta"][rows["row"].to_numpy()].T
    ids = [f["probe"].tolist(), f["probe"].tolist(), f["gene"].tolist(), f["transcript"].tolist()]
    path = root / "data_methylation_hm450.txt"
    write_matrix(path, ["ENTITY_STABLE_ID", "NAME", "DESCRIPTION", "TRANSCRIPT_ID"] + cols, ids, vals, 4)
    _matrix_spots(ctx, "cbioportal", "meth", path, ids[0], cols, vals, 4, "meth")
    _meta(
        root / "meta_methylation_hm450.txt",
        [
            ("cancer_study_identifier", STUDY),
            ("genetic_alteration_type", "GENERIC_ASSAY"),
            ("generic_assay_type", "METHYLATION"),
            ("datatype", "LIMIT-VALUE"),
            ("stable_id", "methylation_hm450"),
            ("profile_name", "Methylation (HM450)"),
            ("profile_description", "Methylation beta values (HM450)"),
            ("generic_entity_meta_properties", "NAME,DESCRIPTION,TRANSCRIPT_ID"),
            ("show_profile_in_analysis_tab", "false"),
            ("data_filename", "data_methylation_hm450.txt"),
        ],
    )
    case_lists["methylation_hm450"] = ("Samples with methylation data (HM450)", cols)


def _cbio_single_id_matrices(ctx: Context, root: Path, case_lists: dict) -> None:
    """The RPPA and miRNA matrices, one ID column each."""
    # single-ID matrices: (omic, value field, transform, ID column, header label, profile, meta, case list)
    simple_matrices = [
        (
            "prot",
            "value",
            None,
            "composite",
            "Composite.Element.REF",
            "rppa",
            ("PROTEIN_LEVEL", "LOG2-VALUE", "rppa"),
            "Protein expression (RPPA)",
            "Protein expression (RPPA)",
            "Samples with protein data (RPPA)",
        ),
        (
            "mirna",
            "rpm",
            lambda v: np.log2(v + 1),
            "mirna",
            "Hugo_Symbol",
            "mirna",
            ("MRNA_EXPRESSION", "CONTINUOUS", "mirna"),
            "microRNA expression",
            "miRNA expression, log2(RPM + 1)",
            "Samples with microRNA data",
        ),
    ]
    for omic, value_field, transform, id_column, label, profile, kind, name, description, case_text in simple_matrices:
        if omic not in ctx.omics:
            continue
        rows = ctx.chosen_primary(omic)
        cols = rows["sample"].tolist()
        vals = ctx.data[omic].obs[value_field][rows["row"].to_numpy()].T
        vals = transform(vals) if transform is not None else vals
        ids = [ctx.data[omic].features[id_column].tolist()]
        path = root / f"data_{profile}.txt"
        write_matrix(path, [label] + cols, ids, vals, 4)
        _matrix_spots(ctx, "cbioportal", omic, path, ids[0], cols, vals, 4, profile)
        _profile_meta(root, profile, kind, name, description)
        case_lists[profile] = (case_text, cols)


def _cbio_mut(ctx: Context, root: Path, case_lists: dict) -> None:
    """The MAF (``data_mutations.txt``, version 2.4)."""
    if "mut" not in ctx.omics:
        return
    rows = ctx.chosen_primary("mut")
    cols = rows["sample"].tolist()
    m = ctx.muts[ctx.muts["sample"].isin(set(cols))]
    frame = _maf_frame(ctx, m, "", "", "", "", "", False)
    frame["Tumor_Sample_Barcode"] = m["sample"].tolist()
    frame["Matched_Norm_Sample_Barcode"] = [f"{x}-10" for x in m["patient"]]
    mcols = maf_columns()[:32] + [
        "HGVSp_Short",
        "t_ref_count",
        "t_alt_count",
        "n_ref_count",
        "n_alt_count",
    ]
    empty = [""] * len(m)
    path = root / "data_mutations.txt"
    write_bytes(path, "#version 2.4\n" + "\t".join(mcols) + "\n" + lines_of([frame.get(c, empty) for c in mcols]))
    rng = ctx.spot_rng("cbio_mut")
    key = list(zip(frame["Tumor_Sample_Barcode"], frame["Hugo_Symbol"], strict=True))
    counts = pd.Series(key).value_counts()
    uniq = [j for j, kk in enumerate(key) if counts[kk] == 1]
    for j in rng.choice(uniq, min(len(uniq), 2 * ctx.n_spot), replace=False):
        ctx.spot("cbioportal", "mut", path, key[j][0], "", key[j][1], "HGVSp_Short", frame["HGVSp_Short"][j])
    _profile_meta(
        root,
        "mutations",
        ("MUTATION_EXTENDED", "MAF", "mutations"),
        "Mutations",
        "Somatic mutations (synthetic)",
        tab=True,
    )
    case_lists["sequenced"] = ("Samples with mutation data", cols)


def _cbio_case_lists(root: Path, case_lists: dict) -> None:
    """One case-list file per profile, plus ``3way_complete`` when mutation, CNA and mRNA data exist."""
    if all(k in case_lists for k in ("rna_seq_v2_mrna", "cna", "sequenced")):
        three = sorted(
            set(case_lists["rna_seq_v2_mrna"][1]) & set(case_lists["cna"][1]) & set(case_lists["sequenced"][1])
        )
        case_lists["3way_complete"] = ("Samples with mutation, CNA and mRNA data", three)
    for name, (title, ids) in case_lists.items():
        _meta(
            root / "case_lists" / f"cases_{name}.txt",
            [
                ("cancer_study_identifier", STUDY),
                ("stable_id", f"{STUDY}_{name}"),
                ("case_list_name", title),
                ("case_list_description", f"{title} ({len(ids)} samples)"),
                ("case_list_ids", "\t".join(ids)),
            ],
        )


# the data files of a study, in the order they are written
_CBIO_DATA = (_cbio_rna, _cbio_cnv, _cbio_meth, _cbio_single_id_matrices, _cbio_mut)


# ----------------------------------------------------------------------------------------------------- Xena
def write_xena(ctx: Context) -> Path:
    root = ctx.root / "xena"
    root.mkdir(parents=True, exist_ok=True)
    g = ctx.genes
    if "rna" in ctx.omics:
        rows = ctx.chosen_all("rna")
        cols = rows["sample"].tolist()
        keep = unique_named(g)
        vals = rna_values(ctx, rows, "log")[keep]
        ids = [g["gene_name"].to_numpy()[keep].tolist()]
        path = root / "HiSeqV2"
        write_matrix(path, ["sample"] + cols, ids, vals, 4)
        _matrix_spots(ctx, "xena", "rna", path, ids[0], cols, vals, 4, "rna")
    if "mirna" in ctx.omics:
        rows = ctx.chosen_all("mirna")
        cols = rows["sample"].tolist()
        vals = np.log2(ctx.data["mirna"].obs["rpm"][rows["row"].to_numpy()].T + 1)
        ids = [ctx.data["mirna"].features["mirna"].tolist()]
        path = root / "miRNA_HiSeq_gene"
        write_matrix(path, ["sample"] + cols, ids, vals, 4)
        _matrix_spots(ctx, "xena", "mirna", path, ids[0], cols, vals, 4, "mirna")
    if "meth" in ctx.omics:
        rows = ctx.chosen_all("meth")
        cols = rows["sample"].tolist()
        vals = ctx.data["meth"].obs["beta"][rows["row"].to_numpy()].T
        ids = [ctx.data["meth"].features["probe"].tolist()]
        path = root / "HumanMethylation450"
        write_matrix(path, ["sample"] + cols, ids, vals, 4)
        _matrix_spots(ctx, "xena", "meth", path, ids[0], cols, vals, 4, "meth")
    if "cnv" in ctx.omics:
        rows = ctx.chosen_all("cnv")
        cols = rows["sample"].tolist()
        keep = unique_named(g, skip_y=True)
        vals = gistic(ctx.data["cnv"].obs["cn"][rows["row"].to_numpy()][:, keep].T)
        ids = [g["gene_name"].to_numpy()[keep].tolist()]
        path = root / "Gistic2_CopyNumber_Gistic2_all_thresholded.by_genes"
        write_matrix(path, ["sample"] + cols, ids, vals, 0)
        _matrix_spots(ctx, "xena", "cnv", path, ids[0], cols, vals, 0, "cnv")
    if "mut" in ctx.omics:
        rows = ctx.chosen_all("mut")
        cols = rows["sample"].tolist()
        m = ctx.muts[ctx.muts["sample"].isin(set(cols))]
        mgenes = sorted(set(m["gene"]))
        mat = np.zeros((len(mgenes), len(cols)), dtype=np.int64)
        gi = {x: j for j, x in enumerate(mgenes)}
        ci = {x: j for j, x in enumerate(cols)}
        pa = m[m["protein_altering"] == 1]
        mat[[gi[x] for x in pa["gene"]], [ci[x] for x in pa["sample"]]] = 1
        path = root / "mutation_broad_gene"
        write_matrix(path, ["sample"] + cols, [mgenes], mat, 0)
        _matrix_spots(ctx, "xena", "mut", path, mgenes, cols, mat, 0, "mut")
        # make sure a few 1s are checked
        rng = ctx.spot_rng("xena_mut_ones")
        ones = np.argwhere(mat == 1)
        for r, c in ones[rng.choice(len(ones), min(len(ones), 4), replace=False)] if len(ones) else []:
            ctx.spot("xena", "mut", path, cols[c], "", mgenes[r], cols[c], "1")
    if "prot" in ctx.omics:
        rows = ctx.chosen_all("prot")
        cols = rows["sample"].tolist()
        vals = ctx.data["prot"].obs["value"][rows["row"].to_numpy()].T
        ids = [ctx.data["prot"].features["peptide_target"].tolist()]
        path = root / "RPPA"
        write_matrix(path, ["sample"] + cols, ids, vals, 4)
        _matrix_spots(ctx, "xena", "prot", path, ids[0], cols, vals, 4, "prot")
    # clinical matrix: every sample of the design + clinical-only patients' -01
    p = ctx.patients.set_index("patient")
    s = ctx.design.samples
    type_name = {"01": "Primary Tumor", "06": "Metastatic", "11": "Solid Tissue Normal"}
    lines = [
        "sampleID\t_PATIENT\tsample_type\tPAM50Call_RNAseq\tvital_status\tdays_to_death\t"
        "days_to_last_followup\tage_at_initial_pathologic_diagnosis\tpathologic_stage\tgender"
    ]
    path = root / "BRCA_clinicalMatrix"
    rng = ctx.spot_rng("xena_clin")
    pick = set(rng.choice(len(s), min(len(s), 8), replace=False).tolist())
    for j, (sample, patient, code) in enumerate(zip(s["sample"], s["patient"], s["code"], strict=True)):
        r = p.loc[patient]
        dead = r["os_event"] == 1
        call = "" if code == "11" else r["subtype"]
        lines.append(
            "\t".join(
                [
                    sample,
                    patient,
                    type_name[code],
                    call,
                    "DECEASED" if dead else "LIVING",
                    str(r["os_time_days"]) if dead else "",
                    "" if dead else str(r["os_time_days"]),
                    str(int(r["age"])) if r["age"] == r["age"] else "",
                    r["stage"] if isinstance(r["stage"], str) else "",
                    "FEMALE",
                ]
            )
        )
        if j in pick:
            ctx.spot("xena", "clinical", path, sample, "", sample, "PAM50Call_RNAseq", call)
    write_bytes(path, "\n".join(lines) + "\n")
    return root


# ------------------------------------------------------------------------------------------------- Firehose
def write_firehose(ctx: Context) -> Path:
    root = ctx.root / "firehose"
    root.mkdir(parents=True, exist_ok=True)
    g = ctx.genes
    ids = [f"{s if n else '?'}|{e}" for s, n, e in zip(g["gene_name"], g["named"], g["entrez"], strict=True)]
    if "rna" in ctx.omics:
        r = ctx.rows("rna").copy()
        r["row"] = np.arange(len(r))
        cols = r["aliquot"].tolist()
        vals = M.rna_normalized(ctx.data["rna"].obs, r["row"].to_numpy()).T
        path = root / "BRCA.rnaseqv2__illuminahiseq_rnaseqv2__unc_edu__Level_3__RSEM_genes_normalized__data.data.txt"
        write_matrix(
            path,
            ["Hybridization REF"] + cols,
            [ids],
            vals,
            4,
            extra_rows=["\t".join(["gene_id"] + ["normalized_count"] * len(cols))],
        )
        _matrix_spots(ctx, "firehose", "rna", path, ids, cols, vals, 4, "rna", col_to_sample=lambda a: a[:15])
        rows = ctx.chosen_primary("rna")
        cols = rows["sample"].tolist()
        vals = rna_values(ctx, rows, "log")
        path = root / "BRCA.uncv2.mRNAseq_RSEM_normalized_log2.txt"
        write_matrix(path, ["gene"] + cols, [ids], vals, 4)
        _matrix_spots(ctx, "firehose", "rna", path, ids, cols, vals, 4, "rnalog", k=ctx.n_spot)
    # clinical (transposed; one column per patient, lowercase barcodes)
    p = ctx.patients
    cols = [x.lower() for x in p["patient"]]
    rows_ = {
        "Composite Element REF": ["value"] * len(p),
        "years_to_birth": [str(int(a)) if a == a else "NA" for a in p["age"]],
        "vital_status": [str(e) for e in p["os_event"]],
        "days_to_death": [str(t) if e else "NA" for t, e in zip(p["os_time_days"], p["os_event"], strict=True)],
        "days_to_last_followup": [
            ("NA" if e else str(t)) for t, e in zip(p["os_time_days"], p["os_event"], strict=True)
        ],
        "pathologic_stage": [s.lower() if isinstance(s, str) else "NA" for s in p["stage"]],
        "gender": ["female"] * len(p),
    }
    lines = ["\t".join(["Hybridization REF"] + cols)] + ["\t".join([k] + v) for k, v in rows_.items()]
    path = root / "BRCA.clin.merged.picked.txt"
    write_bytes(path, "\n".join(lines) + "\n")
    rng = ctx.spot_rng("fh_clin")
    for i in rng.choice(len(p), min(len(p), 6), replace=False):
        ctx.spot(
            "firehose",
            "clinical",
            path,
            p["patient"].iat[i],
            "",
            "vital_status",
            cols[i],
            rows_["vital_status"][i],
        )
    return root
