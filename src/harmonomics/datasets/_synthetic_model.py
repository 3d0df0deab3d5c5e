"""Ground-truth model of the synthetic cohort: genes, patients, samples, aliquots and latent omics.

Everything here is vectorised numpy; nothing touches the disk. The writers in
``_synthetic_write`` turn the arrays into files. See docs/synthetic.md.
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import data
from .._mutations import PROTEIN_ALTERING

SUBTYPES = ("LumA", "LumB", "Her2", "Basal", "Normal")
SUBTYPE_FREQ = (0.38, 0.22, 0.12, 0.18, 0.10)
CENTROID_COLUMNS = {
    "LumA": "luminal_a",
    "LumB": "luminal_b",
    "Her2": "her2",
    "Basal": "basal",
    "Normal": "normal",
}
TSS = (
    "A1",
    "A2",
    "A7",
    "A8",
    "AC",
    "AN",
    "AO",
    "AQ",
    "AR",
    "B6",
    "BH",
    "C8",
    "D8",
    "E2",
    "E9",
    "EW",
    "GM",
    "LL",
    "OL",
    "S3",
)
SAMPLE_TYPE_LETTERS = {"01": "TP", "06": "TM", "11": "NT", "10": "NB"}

# survival model (hazard ratios; reference subtype LumA)
HR_SUBTYPE = {"LumA": 1.0, "LumB": 1.6, "Her2": 1.8, "Basal": 2.0, "Normal": 1.0}
HR_Z4_PER_SD = 1.6
HR_IMMUNE_PER_SD = 0.8
BASELINE_HAZARD_PER_DAY = 1.0 / 6000.0
CENSOR_DAYS = (365, 4380)

# driver probabilities per subtype (LumA, LumB, Her2, Basal, Normal)
DRIVERS = {
    "TP53": (0.12, 0.30, 0.70, 0.80, 0.15),
    "PIK3CA": (0.45, 0.30, 0.35, 0.08, 0.30),
    "GATA3": (0.15, 0.15, 0.03, 0.02, 0.05),
    "CDH1": (0.20, 0.07, 0.03, 0.02, 0.10),
    "MAP3K1": (0.12, 0.05, 0.02, 0.01, 0.05),
    "KMT2C": (0.08, 0.08, 0.08, 0.08, 0.08),
}
AMPLICON = ("ERBB2", "GRB7", "STARD3", "PGAP3", "MIEN1")
AMP_PROB = {"Her2": 0.85}
AMP_PROB_OTHER = 0.05

# real GRCh38 coordinates for the genes whose position matters
KNOWN_POSITIONS = {
    "TP53": ("chr17", 7661779, 7687538),
    "PIK3CA": ("chr3", 179148114, 179240093),
    "GATA3": ("chr10", 8045378, 8075198),
    "CDH1": ("chr16", 68737292, 68835537),
    "MAP3K1": ("chr5", 56815574, 56896152),
    "KMT2C": ("chr7", 152134922, 152436005),
    "ERBB2": ("chr17", 39687914, 39730426),
    "GRB7": ("chr17", 39737938, 39747285),
    "STARD3": ("chr17", 39637119, 39663431),
    "PGAP3": ("chr17", 39671115, 39687146),
    "MIEN1": ("chr17", 39728496, 39730564),
    "ESR1": ("chr6", 151656691, 152129619),
    "MYC": ("chr8", 127735434, 127742951),
    "CCND1": ("chr11", 69641156, 69654474),
}
CHROM_LENGTHS = {
    "chr1": 248956422,
    "chr2": 242193529,
    "chr3": 198295559,
    "chr4": 190214555,
    "chr5": 181538259,
    "chr6": 170805979,
    "chr7": 159345973,
    "chr8": 145138636,
    "chr9": 138394717,
    "chr10": 133797422,
    "chr11": 135086622,
    "chr12": 133275309,
    "chr13": 114364328,
    "chr14": 107043718,
    "chr15": 101991189,
    "chr16": 90338345,
    "chr17": 83257441,
    "chr18": 80373285,
    "chr19": 58617616,
    "chr20": 64444167,
    "chr21": 46709983,
    "chr22": 50818468,
    "chrX": 156040895,
    "chrY": 57227415,
}

# RPPA antibodies: (peptide_target, genes)
ANTIBODIES = (
    ("Akt", "AKT1 AKT2 AKT3"),
    ("Akt_pS473", "AKT1 AKT2 AKT3"),
    ("Akt_pT308", "AKT1 AKT2 AKT3"),
    ("AMPK_alpha", "PRKAA1"),
    ("Bcl-2", "BCL2"),
    ("Caveolin-1", "CAV1"),
    ("CD20", "MS4A1"),
    ("Cyclin_B1", "CCNB1"),
    ("Cyclin_D1", "CCND1"),
    ("Cyclin_E1", "CCNE1"),
    ("E-Cadherin", "CDH1"),
    ("EGFR", "EGFR"),
    ("EGFR_pY1068", "EGFR"),
    ("ER-alpha", "ESR1"),
    ("ER-alpha_pS118", "ESR1"),
    ("GATA3", "GATA3"),
    ("HER2", "ERBB2"),
    ("HER2_pY1248", "ERBB2"),
    ("HER3", "ERBB3"),
    ("Ki-67", "MKI67"),
    ("MEK1", "MAP2K1"),
    ("MAPK_pT202_Y204", "MAPK1 MAPK3"),
    ("mTOR", "MTOR"),
    ("p53", "TP53"),
    ("PR", "PGR"),
    ("PTEN", "PTEN"),
    ("PI3K-p110-alpha", "PIK3CA"),
    ("S6_pS235_S236", "RPS6"),
    ("STAT3_pY705", "STAT3"),
    ("Src", "SRC"),
    ("beta-Catenin", "CTNNB1"),
    ("Claudin-7", "CLDN7"),
    ("Collagen_VI", "COL6A1"),
    ("Fibronectin", "FN1"),
    ("PD-L1", "CD274"),
    ("Lck", "LCK"),
    ("Syk", "SYK"),
    ("FOXM1", "FOXM1"),
    ("AR", "AR"),
    ("BRCA2", "BRCA2"),
    ("c-Myc", "MYC"),
    ("Rb_pS807_S811", "RB1"),
    ("XRCC1", "XRCC1"),
    ("YAP", "YAP1"),
    ("4E-BP1", "EIF4EBP1"),
    ("4E-BP1_pT37_T46", "EIF4EBP1"),
    ("ACC1", "ACACA"),
    ("ACC_pS79", "ACACA ACACB"),
    ("Bax", "BAX"),
    ("Bim", "BCL2L11"),
    ("CDK1", "CDK1"),
    ("Chk1", "CHEK1"),
    ("Chk2", "CHEK2"),
    ("GSK3-alpha-beta", "GSK3A GSK3B"),
    ("IGFBP2", "IGFBP2"),
    ("INPP4B", "INPP4B"),
    ("MSH6", "MSH6"),
    ("Notch1", "NOTCH1"),
    ("PCNA", "PCNA"),
    ("PKC-alpha", "PRKCA"),
    ("Rad51", "RAD51"),
    ("Smad4", "SMAD4"),
    ("Transglutaminase", "TGM2"),
    ("VEGFR2", "KDR"),
    ("N-Cadherin", "CDH2"),
    ("Annexin-1", "ANXA1"),
)
RPPA_BATCH1_ONLY = ("N-Cadherin", "Annexin-1", "Transglutaminase")
RPPA_BATCH2_ONLY = ("Akt_pT308", "Notch1", "4E-BP1_pT37_T46", "VEGFR2")
RPPA_SETS = ("Set12", "Set15")
RPPA_RNA_LINK = {
    "ER-alpha": "ESR1",
    "ER-alpha_pS118": "ESR1",
    "PR": "PGR",
    "GATA3": "GATA3",
    "Bcl-2": "BCL2",
    "Cyclin_B1": "CCNB1",
    "Ki-67": "MKI67",
    "EGFR": "EGFR",
    "c-Myc": "MYC",
    "HER2": "ERBB2",
    "HER2_pY1248": "ERBB2",
}

NAMED_MIRNAS = (
    "hsa-let-7a-1",
    "hsa-let-7a-2",
    "hsa-let-7a-3",
    "hsa-let-7b",
    "hsa-let-7c",
    "hsa-let-7d",
    "hsa-let-7e",
    "hsa-let-7f-1",
    "hsa-let-7f-2",
    "hsa-let-7g",
    "hsa-let-7i",
    "hsa-mir-1-1",
    "hsa-mir-9-1",
    "hsa-mir-9-2",
    "hsa-mir-10a",
    "hsa-mir-10b",
    "hsa-mir-17",
    "hsa-mir-18a",
    "hsa-mir-19a",
    "hsa-mir-20a",
    "hsa-mir-21",
    "hsa-mir-22",
    "hsa-mir-25",
    "hsa-mir-29a",
    "hsa-mir-30a",
    "hsa-mir-93",
    "hsa-mir-99a",
    "hsa-mir-100",
    "hsa-mir-125b-1",
    "hsa-mir-135b",
    "hsa-mir-142",
    "hsa-mir-143",
    "hsa-mir-145",
    "hsa-mir-146a",
    "hsa-mir-150",
    "hsa-mir-155",
    "hsa-mir-182",
    "hsa-mir-183",
    "hsa-mir-190b",
    "hsa-mir-200a",
    "hsa-mir-200b",
    "hsa-mir-200c",
    "hsa-mir-203a",
    "hsa-mir-205",
    "hsa-mir-210",
    "hsa-mir-221",
    "hsa-mir-222",
    "hsa-mir-342",
    "hsa-mir-375",
    "hsa-mir-505",
    "hsa-mir-577",
    "hsa-mir-934",
)
IMMUNE_MIRNAS = ("hsa-mir-142", "hsa-mir-150", "hsa-mir-155", "hsa-mir-146a", "hsa-mir-342")

DUPLICATE_NAMES = (("Y_RNA", 4, "misc_RNA"), ("Metazoa_SRP", 2, "misc_RNA"), ("SNORA70", 2, "snoRNA"))


def rng_for(seed: int, name: str) -> np.random.Generator:
    """An independent generator for one component, so adding a component never shifts the others."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def uuids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` deterministic version-4 UUID strings."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    return [str(uuid.UUID(bytes=bytes(r), version=4)) for r in raw]


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


def factor_names(k: int) -> list[str]:
    base = ["Z1_subtype", "Z2_immune", "Z3_stromal", "Z4_survival", "Z5_free"]
    return base[:k] + [f"Z{i + 1}_free" for i in range(5, k)]


# ---------------------------------------------------------------------------------------------------- genes
def signature_genes() -> dict[str, dict]:
    """Required genes: symbol -> {ensembl, entrez, signatures}."""
    genes: dict[str, dict] = {}

    def add(symbol, sig, ensembl=None, entrez=None):
        if not isinstance(symbol, str) or not symbol:
            return
        entry = genes.setdefault(symbol, {"ensembl": None, "entrez": None, "signatures": []})
        if ensembl and not entry["ensembl"]:
            entry["ensembl"] = ensembl
        if entrez and not entry["entrez"]:
            entry["entrez"] = str(entrez)
        if sig not in entry["signatures"]:
            entry["signatures"].append(sig)

    pam = pd.read_csv(data.path("signatures", "pam50_genes.tsv"), sep="\t", dtype=str)
    for _, r in pam.iterrows():
        add(r["gene_name"], "pam50", r["gene_id"], r["EntrezGene.ID"])
    mcp = pd.read_csv(data.path("signatures", "mcpcounter_genes.txt"), sep="\t", dtype=str)
    for _, r in mcp.iterrows():
        sym = r["HUGO symbols"]
        if sym == "C":  # a truncated symbol in the source table (ENSG00000168497 is CAVIN2)
            sym = "CAVIN2"
        pop = r["Cell population"]
        sig = "mcp_" + pop.lower().replace(" ", "_")
        ens = r["ENSEMBL ID"] if isinstance(r["ENSEMBL ID"], str) and r["ENSEMBL ID"].startswith("ENSG") else None
        add(sym, sig, ens, r["ENTREZID"] if isinstance(r["ENTREZID"], str) and r["ENTREZID"] != "NA" else None)
    est = pd.read_csv(data.path("signatures", "estimate_SI_geneset_yoshihara2013.tsv"), sep="\t", dtype=str)
    for _, r in est.iterrows():
        add(
            r["gene_hgnc_tidyestimate"],
            "estimate_" + ("immune" if r["signature"].startswith("Immune") else "stromal"),
        )
    tis = pd.read_csv(
        data.path("signatures", "tis_tcell_inflamed_gep_ayers2017_cristescu2018.tsv"), sep="\t", dtype=str
    )
    for _, r in tis.iterrows():
        add(r["gene"], "tis_" + r["role"])
    dan = pd.read_csv(data.path("signatures", "danaher2017_immune_cell_markers.tsv"), sep="\t", dtype=str)
    for _, r in dan.iterrows():
        add(r["current_hgnc"], "danaher")
    oth = pd.read_csv(data.path("signatures", "other_immune_gene_sets.tsv"), sep="\t", dtype=str)
    for _, r in oth.iterrows():
        add(r["gene"], "immune_other")
    for g in DRIVERS:
        add(g, "driver")
    for g in AMPLICON:
        add(g, "erbb2_amplicon")
    for _, genes_ in ANTIBODIES:
        for g in genes_.split():
            add(g, "rppa_target")
    return genes


IMMUNE_SIGS = {
    "estimate_immune",
    "tis_signature",
    "danaher",
    "immune_other",
    "mcp_t_cells",
    "mcp_cd8_t_cells",
    "mcp_cytotoxic_lymphocytes",
    "mcp_b_lineage",
    "mcp_nk_cells",
    "mcp_monocytic_lineage",
    "mcp_myeloid_dendritic_cells",
    "mcp_neutrophils",
}
STROMAL_SIGS = {"estimate_stromal", "mcp_endothelial_cells", "mcp_fibroblasts"}


def build_genes(n_genes: int, rng: np.random.Generator) -> pd.DataFrame:
    req = signature_genes()
    n_req = len(req)
    n_dup = sum(n for _, n, _ in DUPLICATE_NAMES)
    n_y = 5
    if n_genes < n_req + n_dup + n_y + 20:
        raise ValueError(
            f"n_genes={n_genes} is too small: the signature and driver genes alone need "
            f"{n_req + n_dup + n_y + 20} genes (got {n_genes}); use n_genes >= {n_req + n_dup + n_y + 20}"
        )
    rows = []
    for sym, e in req.items():
        rows.append(
            {
                "gene_name": sym,
                "ensembl": e["ensembl"],
                "entrez": e["entrez"],
                "gene_type": "protein_coding",
                "signatures": ";".join(sorted(e["signatures"])),
                "named": 1,
            }
        )
    n_filler = n_genes - n_req
    for name, n, gtype in DUPLICATE_NAMES:
        for _ in range(n):
            rows.append(
                {
                    "gene_name": name,
                    "ensembl": None,
                    "entrez": None,
                    "gene_type": gtype,
                    "signatures": "",
                    "named": 1,
                }
            )
    n_rest = n_filler - n_dup
    types = rng.choice(
        ["protein_coding", "lncRNA", "processed_pseudogene", "snRNA"], size=n_rest, p=[0.70, 0.20, 0.07, 0.03]
    )
    unnamed = rng.random(n_rest) < 0.10
    for i in range(n_rest):
        if unnamed[i]:
            name = f"AC{100000 + i:06d}.1"
            types[i] = "lncRNA"
        else:
            name = f"SYNG{i + 1:05d}"
        rows.append(
            {
                "gene_name": name,
                "ensembl": None,
                "entrez": None,
                "gene_type": str(types[i]),
                "signatures": "",
                "named": int(not unnamed[i]),
            }
        )
    genes = pd.DataFrame(rows)
    g = len(genes)
    # made-up Ensembl / Entrez IDs for the rest
    made = genes["ensembl"].isna().to_numpy()
    made_idx = np.flatnonzero(made)
    genes.loc[made, "ensembl"] = [f"ENSG009{j + 1:08d}" for j in range(len(made_idx))]
    no_entrez = genes["entrez"].isna().to_numpy()
    genes.loc[no_entrez, "entrez"] = [str(9000001 + j) for j in range(int(no_entrez.sum()))]
    versions = rng.integers(1, 20, size=g)
    genes["gene_id"] = [f"{e}.{v}" for e, v in zip(genes["ensembl"], versions, strict=True)]
    # positions
    chroms = [c for c in CHROM_LENGTHS if c != "chrY"]
    lens = np.array([CHROM_LENGTHS[c] for c in chroms], dtype=float)
    chrom = rng.choice(chroms, size=g, p=lens / lens.sum()).astype(object)
    filler_idx = np.flatnonzero(genes["signatures"].to_numpy() == "")
    y_idx = filler_idx[-n_y:]
    chrom[y_idx] = "chrY"
    glen = np.exp(rng.normal(np.log(15000), 0.9, size=g)).astype(np.int64) + 500
    start = np.array([rng.integers(100000, CHROM_LENGTHS[c] - 3_000_000) for c in chrom], dtype=np.int64)
    for i, sym in enumerate(genes["gene_name"]):
        if sym in KNOWN_POSITIONS:
            c, s, e = KNOWN_POSITIONS[sym]
            chrom[i], start[i], glen[i] = c, s, e - s
    genes["chromosome"] = chrom
    genes["start"] = start
    genes["end"] = start + glen
    genes["length"] = glen
    centro = {c: CHROM_LENGTHS[c] // 2 for c in CHROM_LENGTHS}
    genes["arm"] = [f"{c}{'p' if s < centro[c] else 'q'}" for c, s in zip(chrom, start, strict=True)]
    return genes[
        [
            "gene_id",
            "ensembl",
            "gene_name",
            "entrez",
            "gene_type",
            "chromosome",
            "start",
            "end",
            "length",
            "arm",
            "signatures",
            "named",
        ]
    ]


# ------------------------------------------------------------------------------------------------- patients
def distinct_ints(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    """``n`` distinct integers in [low, high), in draw order (fast for n << high - low)."""
    out: list[int] = []
    seen: set[int] = set()
    while len(out) < n:
        for v in rng.integers(low, high, size=2 * (n - len(out)) + 8).tolist():
            if v not in seen:
                seen.add(v)
                out.append(v)
                if len(out) == n:
                    break
    return np.array(out, dtype=np.int64)


def _participants(rng: np.random.Generator, n: int) -> list[str]:
    alphabet = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    codes = distinct_ints(rng, 0, 36**4, n)
    out = []
    for c in codes:
        digits = []
        for _ in range(4):
            digits.append(alphabet[c % 36])
            c //= 36
        out.append("".join(reversed(digits)))
    return out


def build_patients(n: int, k: int, seed: int, mess: bool) -> tuple[pd.DataFrame, np.ndarray]:
    rng = rng_for(seed, "patients")
    tss = rng.choice(TSS, size=n)
    parts = _participants(rng, n)
    barcodes = np.array([f"TCGA-{t}-{p}" for t, p in zip(tss, parts, strict=True)])
    order = np.argsort(barcodes, kind="stable")
    barcodes = barcodes[order]
    sub = rng.choice(len(SUBTYPES), size=n, p=SUBTYPE_FREQ)
    for s in range(len(SUBTYPES)):  # every subtype present
        if not (sub == s).any():
            counts = np.bincount(sub, minlength=len(SUBTYPES))
            donors = np.flatnonzero(sub == counts.argmax())
            sub[rng.choice(donors)] = s
    subtype = np.array(SUBTYPES)[sub]
    z = np.zeros((n, k))
    z1_mean = np.array([-0.8, -0.3, 0.6, 1.8, 0.1])
    z[:, 0] = z1_mean[sub] + rng.normal(0, 0.45, n)
    imm_mean = np.array([-0.2, -0.1, 0.4, 0.6, 0.0])
    z[:, 1] = imm_mean[sub] + rng.normal(0, 1, n)
    z[:, 2] = np.where(subtype == "Normal", 0.6, 0.0) + rng.normal(0, 1, n)
    z[:, 3:] = rng.normal(0, 1, (n, k - 3))
    z = _standardise(z)
    # survival
    lp = np.log([HR_SUBTYPE[s] for s in subtype]) + np.log(HR_Z4_PER_SD) * z[:, 3] + np.log(HR_IMMUNE_PER_SD) * z[:, 1]
    t_event = rng.exponential(1.0 / (BASELINE_HAZARD_PER_DAY * np.exp(lp)))
    t_cens = rng.uniform(*CENSOR_DAYS, n)
    os_time = np.maximum(np.round(np.minimum(t_event, t_cens)), 1).astype(int)
    os_event = (t_event <= t_cens).astype(int)
    age = np.clip(np.round(rng.normal(58, 12, n)), 26, 89).astype(float)
    stages = [
        "Stage I",
        "Stage IA",
        "Stage IIA",
        "Stage IIB",
        "Stage IIIA",
        "Stage IIIB",
        "Stage IIIC",
        "Stage IV",
    ]
    stage = rng.choice(stages, size=n, p=[0.08, 0.08, 0.33, 0.24, 0.14, 0.04, 0.06, 0.03]).astype(object)
    clinical_only = np.zeros(n, dtype=bool)
    if mess:
        n_co = max(1, int(round(0.03 * n)))
        clinical_only[rng.choice(n, n_co, replace=False)] = True
        n_miss = max(1, int(round(0.02 * n)))
        age[rng.choice(n, n_miss, replace=False)] = np.nan
        stage[rng.choice(n, n_miss, replace=False)] = None
    # dead patients: sometimes an earlier follow-up day in GDC
    fu_before_death = np.where(
        (os_event == 1) & (rng.random(n) < 0.3),
        np.maximum(1, (os_time * rng.uniform(0.3, 0.9, n)).astype(int)),
        -1,
    )
    patients = pd.DataFrame(
        {
            "patient": barcodes,
            "case_id": uuids(rng, n),
            "subtype": subtype,
            "immune_level": z[:, 1],
            "stromal_level": z[:, 2],
            "age": age,
            "stage": stage,
            "os_time_days": os_time,
            "os_event": os_event,
            "vital_status": np.where(os_event == 1, "Dead", "Alive"),
            "clinical_only": clinical_only,
        }
    )
    patients["_fu_before_death"] = fu_before_death
    patients["_n_treatments"] = rng.integers(1, 4, n)
    patients["_treatments"] = [
        ";".join(rng.choice(["Pharmaceutical Therapy, NOS", "Radiation Therapy, NOS"], size=m))
        for m in patients["_n_treatments"]
    ]
    patients["_treated"] = [
        ";".join(rng.choice(["yes", "no", "'--"], size=m, p=[0.6, 0.3, 0.1])) for m in patients["_n_treatments"]
    ]
    return patients, z


OMIC_MISSING_RATE = {"rna": 0.03, "mirna": 0.06, "meth": 0.08, "cnv": 0.04, "mut": 0.05, "prot": 0.25}


def omic_availability(patients: pd.DataFrame, omics: tuple[str, ...], seed: int, mess: bool) -> dict[str, np.ndarray]:
    rng = rng_for(seed, "availability")
    n = len(patients)
    has_data = ~patients["clinical_only"].to_numpy()
    avail = {}
    for omic in omics:
        a = has_data.copy()
        if mess:
            cand = np.flatnonzero(has_data)
            n_miss = max(1, int(round(OMIC_MISSING_RATE[omic] * n)))
            n_miss = min(n_miss, max(len(cand) - 5, 0))
            a[rng.choice(cand, n_miss, replace=False)] = False
        avail[omic] = a
    # every non-clinical-only patient keeps at least one omic
    any_omic = np.zeros(n, dtype=bool)
    for a in avail.values():
        any_omic |= a
    lost = has_data & ~any_omic
    if lost.any() and omics:
        avail[omics[0]][lost] = True
    return avail


# --------------------------------------------------------------------------------------- samples & aliquots
OMIC_ALIQUOT = {  # analyte, center, plate prefix
    "rna": ("R", "07"),
    "mirna": ("R", "13"),
    "meth": ("D", "05"),
    "cnv": ("D", "01"),
    "mut": ("D", "09"),
    "prot": ("", "20"),
}


def _plates(rng: np.random.Generator, n: int) -> list[str]:
    alphabet = list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
    return ["A" + "".join(rng.choice(alphabet, 3)) for _ in range(n)]


def aliquot_rank_key(aliquot: str) -> tuple:
    """Sort key: the best aliquot of one sample sorts LAST (FORMATS.md choice rules 2-4)."""
    vial = aliquot[15]
    analyte = aliquot[19] if len(aliquot) >= 20 and aliquot[19].isalpha() else ""
    rna_rank = {"H": 3, "R": 2, "T": 1}
    dna_rank = {"D": 3, "G": 1, "W": 1, "X": 1}
    a_rank = rna_rank.get(analyte, dna_rank.get(analyte, 0))
    return (-(ord(vial) - ord("A")), a_rank, aliquot)


def choose(aliquots: list[str]) -> tuple[str, dict[str, str]]:
    """Chosen aliquot and ``{dropped: reason}`` following FORMATS.md."""
    best = max(aliquots, key=aliquot_rank_key)
    reasons = {}
    kb = aliquot_rank_key(best)
    for a in aliquots:
        if a == best:
            continue
        ka = aliquot_rank_key(a)
        if ka[0] != kb[0]:
            reasons[a] = "vial"
        elif ka[1] != kb[1]:
            reasons[a] = "analyte"
        else:
            reasons[a] = "barcode_order"
    return best, reasons


@dataclass
class Design:
    """Samples and aliquots of the cohort."""

    samples: pd.DataFrame  # sample, patient, code, subtype, p_index
    aliquots: pd.DataFrame  # omic, sample, patient, code, aliquot, ..., chosen, reason, chosen_aliquot
    mess_counts: dict = field(default_factory=dict)


def build_design(patients: pd.DataFrame, avail: dict[str, np.ndarray], seed: int, mess: bool) -> Design:
    rng = rng_for(seed, "aliquots")
    n = len(patients)
    pats = patients["patient"].to_numpy()
    has_data = ~patients["clinical_only"].to_numpy()
    omics = tuple(avail)
    plates = {o: _plates(rng, 12) for o in omics}
    plates_normal = _plates(rng, 4)

    mess_sets, norm_omics, met_omics = _mess_sets(rng, avail, omics, has_data, n, mess)
    ms = {k: set(v) for k, v in mess_sets.items()}

    samples = _sample_rows(patients, ms)
    s_index = {s: j for j, s in enumerate(samples["sample"])}

    arows = _aliquot_rows(rng, avail, pats, plates, plates_normal, ms, mess_sets, norm_omics, met_omics, s_index)
    aliquots = pd.DataFrame(arows)
    aliquots = aliquots.sort_values(["omic", "sample", "aliquot"], kind="stable").reset_index(drop=True)
    aliquots["omic"] = pd.Categorical(aliquots["omic"], categories=list(omics))
    aliquots = aliquots.sort_values(["omic", "sample", "aliquot"], kind="stable").reset_index(drop=True)
    aliquots["omic"] = aliquots["omic"].astype(str)
    _mark_chosen(aliquots)
    frng = rng_for(seed, "file_ids")
    aliquots["file_id"] = uuids(frng, len(aliquots))
    aliquots["aliquot_uuid"] = uuids(frng, len(aliquots))
    aliquots["normal_uuid"] = uuids(frng, len(aliquots))
    counts = {k: len(v) for k, v in mess_sets.items()}
    counts["clinical_only"] = int(patients["clinical_only"].sum())
    for o in omics:
        counts[f"missing_{o}"] = int((has_data & ~avail[o]).sum())
    return Design(samples=samples, aliquots=aliquots, mess_counts=counts)


def _mess_sets(rng, avail: dict[str, np.ndarray], omics: tuple, has_data: np.ndarray, n: int, mess: bool):
    """The patients given each kind of mess (duplicate aliquots, vial B, normals, metastases; disjoint where it
    matters): ``({kind: [patient index]}, omics with normals, omics with metastases)``."""
    pool = list(rng.permutation(np.flatnonzero(has_data)))

    def take(m, omic=None):
        out = []
        for i in list(pool):
            if len(out) >= m:
                break
            if omic is None or avail[omic][i]:
                out.append(i)
                pool.remove(i)
        return out

    mess_sets: dict[str, list[int]] = {}
    if mess:

        def nn(rate, minimum=1):
            return max(minimum, int(round(rate * n)))

        if "rna" in omics:
            mess_sets["rna_dup_same"] = take(nn(0.02), "rna")
            mess_sets["rna_dup_H"] = take(nn(0.01), "rna")
            mess_sets["rna_dup_T"] = take(nn(0.01), "rna")
            mess_sets["rna_vial_B_and_A"] = take(nn(0.02), "rna")
            mess_sets["rna_vial_B_only"] = take(nn(0.01), "rna")
        if "mirna" in omics:
            mess_sets["mirna_dup_same"] = take(nn(0.01), "mirna")
            mess_sets["mirna_dup_H"] = take(nn(0.01), "mirna")
        if "meth" in omics:
            mess_sets["meth_dup_same"] = take(nn(0.01), "meth")
            mess_sets["meth_dup_G"] = take(nn(0.01), "meth")
        norm_omics = [o for o in ("rna", "mirna", "meth") if o in omics]
        met_omics = [o for o in ("rna", "meth") if o in omics]
        cand = np.flatnonzero(has_data)
        mess_sets["normal_11A"] = (
            sorted(rng.choice(cand, min(len(cand), nn(0.08, 2)), replace=False).tolist()) if norm_omics else []
        )
        rest = [i for i in cand if i not in mess_sets["normal_11A"]]
        mess_sets["metastatic_06A"] = (
            sorted(rng.choice(rest, min(len(rest), nn(0.01)), replace=False).tolist()) if met_omics else []
        )
    else:
        norm_omics, met_omics = [], []
    return mess_sets, norm_omics, met_omics


def _sample_rows(patients: pd.DataFrame, ms: dict[str, set]) -> pd.DataFrame:
    """One row per sample: each patient's primary tumour, plus the metastases and normals of the mess sets."""
    pats = patients["patient"].to_numpy()
    n = len(patients)
    srows = []
    for i in range(n):
        p = pats[i]
        srows.append(
            {
                "sample": f"{p}-01",
                "patient": p,
                "code": "01",
                "subtype": patients["subtype"].iat[i],
                "p_index": i,
            }
        )
        if i in ms.get("metastatic_06A", ()):
            srows.append(
                {
                    "sample": f"{p}-06",
                    "patient": p,
                    "code": "06",
                    "subtype": patients["subtype"].iat[i],
                    "p_index": i,
                }
            )
        if i in ms.get("normal_11A", ()):
            srows.append({"sample": f"{p}-11", "patient": p, "code": "11", "subtype": "", "p_index": i})
    samples = pd.DataFrame(srows)
    samples["s_index"] = np.arange(len(samples))
    return samples


def _aliquot_rows(rng, avail, pats, plates, plates_normal, ms, mess_sets, norm_omics, met_omics, s_index) -> list:
    """One row per aliquot of each omic: the primary's aliquot, then the mess sets' extra aliquots."""
    omics = tuple(avail)
    arows = []

    def portion():
        return str(rng.choice(["11", "12", "13", "21"]))

    def add(omic, i, code, vial, port, analyte, plate, extra=None):
        p = pats[i]
        center = OMIC_ALIQUOT[omic][1]
        if omic == "prot":
            barcode = f"{p}-{code}{vial}-{port}-{plate}-{center}"
        else:
            barcode = f"{p}-{code}{vial}-{port}{analyte}-{plate}-{center}"
        row = {
            "omic": omic,
            "sample": f"{p}-{code}",
            "patient": p,
            "code": code,
            "vial": vial,
            "aliquot": barcode,
            "s_index": s_index[f"{p}-{code}"],
            "p_index": i,
            "normal_aliquot": "",
            "batch": 0,
            "preservation": "FFPE" if vial == "B" else "Frozen",
        }
        if extra:
            row.update(extra)
        arows.append(row)

    for omic in omics:
        analyte = OMIC_ALIQUOT[omic][0]
        pl = plates[omic]
        for i in np.flatnonzero(avail[omic]):
            base_vial = "B" if i in ms.get(f"{omic}_vial_B_only", ()) else "A"
            port = portion()
            plate = str(rng.choice(pl[:8]))
            extra = {}
            if omic in ("cnv", "mut"):
                extra["normal_aliquot"] = f"{pats[i]}-10A-01D-{rng.choice(plates_normal)}-{OMIC_ALIQUOT[omic][1]}"
            if omic == "prot":
                extra["batch"] = int(rng.integers(1, 3))
                plate = pl[extra["batch"] - 1]
            add(omic, i, "01", base_vial, port, analyte, plate, extra)
            if i in ms.get(f"{omic}_dup_same", ()):
                add(omic, i, "01", "A", str(rng.choice(["31", "41"])), analyte, str(rng.choice(pl[8:])))
            if i in ms.get(f"{omic}_dup_H", ()):
                add(omic, i, "01", "A", "01", "H", str(rng.choice(pl[8:])))
            if i in ms.get(f"{omic}_dup_T", ()):
                add(omic, i, "01", "A", "61", "T", str(rng.choice(pl[8:])))
            if i in ms.get(f"{omic}_dup_G", ()):
                add(omic, i, "01", "A", "21", "G", "ZZ" + str(rng.choice(pl[8:]))[2:])
            if i in ms.get(f"{omic}_vial_B_and_A", ()):
                add(omic, i, "01", "B", port, analyte, str(rng.choice(pl[:8])))
        if omic in met_omics:
            for i in mess_sets["metastatic_06A"]:
                add(omic, i, "06", "A", portion(), analyte, str(rng.choice(pl[:8])))
        if omic in norm_omics:
            for i in mess_sets["normal_11A"]:
                add(omic, i, "11", "A", portion(), analyte, str(rng.choice(pl[:8])))
    return arows


def _mark_chosen(aliquots: pd.DataFrame) -> None:
    """The aliquot the Firehose / cBioPortal rules choose per omic and sample, and why the others lose."""
    chosen = np.zeros(len(aliquots), dtype=bool)
    reason = np.array([""] * len(aliquots), dtype=object)
    chosen_al = np.array([""] * len(aliquots), dtype=object)
    for (_, _), idx in aliquots.groupby(["omic", "sample"], sort=False).indices.items():
        names = aliquots["aliquot"].to_numpy()[idx].tolist()
        best, reasons = choose(names)
        for j, a in zip(idx, names, strict=True):
            chosen[j] = a == best
            reason[j] = reasons.get(a, "")
            chosen_al[j] = best
    aliquots["chosen"] = chosen
    aliquots["reason"] = reason
    aliquots["chosen_aliquot"] = chosen_al


def sample_factors(design: Design, z: np.ndarray, seed: int) -> np.ndarray:
    """Sample-level factors: primaries = the patient's, metastases = patient's + noise, normals fixed."""
    rng = rng_for(seed, "sample_factors")
    s = design.samples
    zs = z[s["p_index"].to_numpy()].copy()
    met = (s["code"] == "06").to_numpy()
    zs[met] += rng.normal(0, 0.3, (met.sum(), z.shape[1]))
    nt = (s["code"] == "11").to_numpy()
    zs[nt] = 0.0
    zs[nt, 0] = -0.5
    zs[nt, 1] = -1.0
    zs[nt, 2] = 1.5
    return zs


# ---------------------------------------------------------------------------------------- weights & latents
def sparse_weights(rng, n_feat, k, active: dict[int, tuple[float, float]]) -> np.ndarray:
    """Weights with factor ``f`` loading on a fraction ``frac`` of features with sd ``sd``."""
    w = np.zeros((n_feat, k))
    for f, (frac, sd) in active.items():
        if f >= k:
            continue
        m = max(1, int(round(frac * n_feat)))
        idx = rng.choice(n_feat, m, replace=False)
        w[idx, f] = rng.normal(0, sd, m)
    return w


@dataclass
class Omic:
    """One omic's features, planted weights, sample latents and per-aliquot observations."""

    features: pd.DataFrame
    weights: np.ndarray  # features x K
    latent: np.ndarray  # design samples x features (biological, before technical noise)
    extras: dict[str, np.ndarray]  # named additive terms (samples x features), for R²
    obs: dict[str, np.ndarray]  # per-aliquot arrays, rows = aliquots of this omic (design order)


def _nb(rng, mean, phi):
    """Negative-binomial (gamma-Poisson) integers with dispersion ``phi``."""
    shape = 1.0 / phi
    lam = rng.gamma(shape, mean / shape)
    return rng.poisson(lam)


def _rows_for(design: Design, omic: str) -> pd.DataFrame:
    return design.aliquots[design.aliquots["omic"] == omic]


def make_cnv(genes, design, zs, patients, seed) -> Omic:
    rng = rng_for(seed, "cnv")
    k = zs.shape[1]
    arms = np.array(sorted(set(genes["arm"])))
    arm_idx = np.searchsorted(arms, genes["arm"].to_numpy())
    w_arm = sparse_weights(
        rng,
        len(arms),
        k,
        {0: (0.4, 0.25), 3: (0.3, 0.2), 4: (0.3, 0.2), **{f: (0.2, 0.15) for f in range(5, k)}},
    )
    s = design.samples
    ns = len(s)
    arm_lr = zs @ w_arm.T + rng.normal(0, 0.08, (ns, len(arms)))
    lr = arm_lr[:, arm_idx] + rng.normal(0, 0.04, (ns, len(genes)))
    # metastases share the primary's genome; normals are diploid
    prim = {p: j for j, (p, c) in enumerate(zip(s["patient"], s["code"], strict=True)) if c == "01"}
    for j, (p, c) in enumerate(zip(s["patient"], s["code"], strict=True)):
        if c == "06":
            lr[j] = lr[prim[p]]
    normal = (s["code"] == "11").to_numpy()
    lr[normal] = 0.0
    base_lr = lr.copy()
    amp_genes = np.flatnonzero(genes["gene_name"].isin(AMPLICON).to_numpy())
    sub = patients["subtype"].to_numpy()
    p_amp = np.where(sub == "Her2", AMP_PROB["Her2"], AMP_PROB_OTHER)
    amplified = rng.random(len(patients)) < p_amp
    level = rng.uniform(6, 20, len(patients))
    samp_amp = amplified[s["p_index"].to_numpy()] & ~normal
    amp_lr = np.log2(level[s["p_index"].to_numpy()] / 2)[:, None] + rng.normal(0, 0.05, (ns, len(amp_genes)))
    lr[np.ix_(samp_amp, amp_genes)] = amp_lr[samp_amp]
    cont = (2.0 * np.exp2(lr)).astype(np.float32)
    cn = np.round(cont)
    chr_y = (genes["chromosome"] == "chrY").to_numpy()
    cn[:, chr_y] = np.nan
    cont[:, chr_y] = np.nan
    w = w_arm[arm_idx]
    extras = {"erbb2_amplification": (lr - base_lr).astype(np.float32)}
    del base_lr
    lr = lr.astype(np.float32)
    rows = _rows_for(design, "cnv")
    idx = rows["s_index"].to_numpy()
    obs = {"cn": cn[idx], "cont": cont[idx]}
    omic = Omic(features=genes, weights=w, latent=lr, extras=extras, obs=obs)
    omic.amplified = amplified  # type: ignore[attr-defined]
    omic.cn_all = cn  # type: ignore[attr-defined]
    omic.cont_all = cont  # type: ignore[attr-defined]
    return omic


def make_rna(genes, design, zs, cont_all, seed) -> Omic:
    rng = rng_for(seed, "rna")
    k = zs.shape[1]
    g = len(genes)
    sigs = genes["signatures"].str.split(";")
    is_pam = sigs.map(lambda x: "pam50" in x).to_numpy()
    is_imm = sigs.map(lambda x: bool(IMMUNE_SIGS & set(x))).to_numpy() & ~is_pam
    is_str = sigs.map(lambda x: bool(STROMAL_SIGS & set(x))).to_numpy() & ~is_pam
    is_hk = sigs.map(lambda x: "tis_housekeeping" in x).to_numpy()
    is_sig = (genes["signatures"] != "").to_numpy()
    chr_y = (genes["chromosome"] == "chrY").to_numpy()
    mu = np.where(is_sig, rng.normal(1.5, 1.2, g), rng.normal(0.0, 1.8, g))
    mu[is_hk] = rng.normal(5.0, 0.5, is_hk.sum())
    mu[chr_y] = -40.0
    free = ~is_pam & ~is_imm & ~is_str & ~is_hk & ~chr_y
    free_idx = np.flatnonzero(free)
    w = np.zeros((g, k))

    def load(f, frac, sd):
        if f >= k:
            return
        m = max(1, int(round(frac * len(free_idx))))
        sel = rng.choice(free_idx, m, replace=False)
        w[sel, f] = rng.normal(0, sd, m)

    load(0, 0.08, 0.8)
    w[is_imm, 1] = rng.uniform(0.6, 1.4, is_imm.sum())
    w[is_str, 2] = rng.uniform(0.6, 1.4, is_str.sum())
    load(3, 0.06, 0.7)
    load(4, 0.06, 0.7)
    for f in range(5, k):
        load(f, 0.05, 0.6)
    cent = pd.read_csv(data.path("pam50", "pam50_centroids.tsv"), sep="\t", index_col=0)
    s = design.samples
    ns = len(s)
    centroid = np.zeros((ns, g))
    pam_idx = np.flatnonzero(is_pam)
    pam_names = genes["gene_name"].to_numpy()[pam_idx]
    for sub, col in CENTROID_COLUMNS.items():
        rows_ = (s["subtype"] == sub).to_numpy()
        centroid[np.ix_(rows_, pam_idx)] = 1.5 * cent.loc[pam_names, col].to_numpy()[None, :]
    nt = (s["code"] == "11").to_numpy()
    centroid[np.ix_(nt, pam_idx)] = 1.5 * cent.loc[pam_names, "normal"].to_numpy()[None, :]
    cis = 0.8 * np.log2(np.nan_to_num(cont_all, nan=2.0) / 2.0)
    latent = mu[None, :] + zs @ w.T + centroid + cis + rng.normal(0, 0.35, (ns, g))
    centroid = centroid.astype(np.float32)
    cis = cis.astype(np.float32)
    rows = _rows_for(design, "rna")
    idx = rows["s_index"].to_numpy()
    na = len(idx)
    counts = np.empty((na, g), dtype=np.int32)
    for lo in range(0, na, 256):  # in blocks, to bound memory for large transcriptomes
        hi = min(na, lo + 256)
        lat_a = latent[idx[lo:hi]] + rng.normal(0, 0.1, (hi - lo, g))
        lat_a[:, chr_y] = -40.0
        e = np.exp2(lat_a - lat_a.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        lib = 1000.0 * g * np.exp(rng.normal(0, 0.25, hi - lo))
        counts[lo:hi] = _nb(rng, lib[:, None] * p, 0.05)
        del lat_a, e, p
    first = rng.binomial(counts, 0.02).astype(np.int32)
    second = rng.binomial(counts - first, 0.95).astype(np.int32)
    total = counts.sum(axis=1, dtype=np.int64)
    n_rows = np.stack(
        [
            (total * rng.uniform(0.02, 0.06, na)).astype(np.int64),  # N_unmapped
            (total * rng.uniform(0.05, 0.12, na)).astype(np.int64),  # N_multimapping
            (total * rng.uniform(0.02, 0.05, na)).astype(np.int64),  # N_noFeature
            (total * rng.uniform(0.01, 0.03, na)).astype(np.int64),  # N_ambiguous
        ],
        axis=1,
    )
    n_first = np.stack([n_rows[:, 0], n_rows[:, 1], (total * 0.9).astype(np.int64), n_rows[:, 3] // 10], axis=1)
    n_second = np.stack(
        [n_rows[:, 0], n_rows[:, 1], n_rows[:, 2] + (total * 0.01).astype(np.int64), n_rows[:, 3] // 8],
        axis=1,
    )
    uq = np.array([np.percentile(c[c > 0], 75) for c in counts])
    length = genes["length"].to_numpy().astype(float)
    rate_sum = (counts / (length / 1000.0)[None, :]).sum(axis=1)
    obs = {
        "unstranded": counts,
        "stranded_first": first,
        "stranded_second": second,
        "total": total,
        "uq": uq,
        "length": length,
        "rate_sum": rate_sum,
        "n_unstranded": n_rows,
        "n_first": n_first,
        "n_second": n_second,
    }
    extras = {"subtype_centroids": centroid, "cnv_cis": cis}
    return Omic(features=genes, weights=w, latent=latent, extras=extras, obs=obs)


def rna_row(obs: dict, i: int) -> dict[str, np.ndarray]:
    """STAR values of aliquot row ``i``: tpm, fpkm, fpkm_uq (see docs/synthetic.md)."""
    c = obs["unstranded"][i].astype(float)
    length = obs["length"]
    return {
        "tpm": c / (length / 1000.0) / obs["rate_sum"][i] * 1e6,
        "fpkm": c / (length / 1000.0) / (obs["total"][i] / 1e6),
        "fpkm_uq": c * 1e9 / (length * obs["uq"][i] * len(length)),
    }


def rna_normalized(obs: dict, rows: np.ndarray) -> np.ndarray:
    """RSEM-style normalised values (aliquot rows x genes): unstranded / UQ * 1000."""
    return obs["unstranded"][rows] / obs["uq"][rows][:, None] * 1000.0


def build_mirnas(n: int, rng) -> pd.DataFrame:
    names = list(NAMED_MIRNAS[: min(n, len(NAMED_MIRNAS))])
    used = set(names)
    num = 300
    while len(names) < n:
        num += int(rng.integers(1, 15))
        name = f"hsa-mir-{num}"
        if name not in used:
            names.append(name)
            used.add(name)
    names = sorted(names)
    return pd.DataFrame({"mirna": names, "cross_mapped": np.where(rng.random(len(names)) < 0.1, "Y", "N")})


def make_mirna(n_mirnas, design, zs, seed) -> Omic:
    rng = rng_for(seed, "mirna")
    k = zs.shape[1]
    feats = build_mirnas(n_mirnas, rng)
    m = len(feats)
    mu = rng.normal(2.0, 2.5, m)
    hi = feats["mirna"].isin(["hsa-mir-21", "hsa-let-7a-1", "hsa-let-7b", "hsa-mir-22", "hsa-mir-143"]).to_numpy()
    mu[hi] += 6
    w = sparse_weights(
        rng,
        m,
        k,
        {
            0: (0.15, 0.8),
            1: (0.05, 0.5),
            2: (0.05, 0.5),
            4: (0.15, 0.7),
            **{f: (0.05, 0.5) for f in range(5, k)},
        },
    )
    imm = feats["mirna"].isin(IMMUNE_MIRNAS).to_numpy()
    if k > 1:
        w[imm, 1] = rng.uniform(0.5, 1.2, imm.sum())
    s = design.samples
    latent = mu[None, :] + zs @ w.T + rng.normal(0, 0.4, (len(s), m))
    rows = _rows_for(design, "mirna")
    idx = rows["s_index"].to_numpy()
    na = len(idx)
    lat_a = latent[idx] + rng.normal(0, 0.1, (na, m))
    e = np.exp2(lat_a - lat_a.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    lib = 3e6 * np.exp(rng.normal(0, 0.3, na))
    counts = _nb(rng, lib[:, None] * p, 0.05).astype(np.int64)
    tot = counts.sum(axis=1, keepdims=True)
    rpm = counts / np.maximum(tot, 1) * 1e6
    return Omic(features=feats, weights=w, latent=latent, extras={}, obs={"count": counts, "rpm": rpm})


def build_probes(n: int, genes: pd.DataFrame, rng) -> pd.DataFrame:
    n_ch = max(1, int(round(0.02 * n)))
    n_rs = max(1, int(round(0.01 * n)))
    n_cg = n - n_ch - n_rs
    cg = distinct_ints(rng, 10**7, 3 * 10**7, n_cg)
    ids = [f"cg{c:08d}" for c in sorted(cg)]
    chrom = rng.integers(1, 23, n_ch)
    posn = rng.integers(10**5, 10**8, n_ch)
    ids += [f"ch.{c}.{p}{'F' if p % 2 else 'R'}" for c, p in zip(chrom, posn, strict=True)]
    ids += [f"rs{r}" for r in sorted(distinct_ints(rng, 10**6, 10**7, n_rs))]
    named = genes[genes["named"] == 1]
    gene_pick = rng.integers(0, len(named), n)
    return pd.DataFrame(
        {
            "probe": ids,
            "kind": ["cg"] * n_cg + ["ch"] * n_ch + ["rs"] * n_rs,
            "gene": named["gene_name"].to_numpy()[gene_pick],
            "transcript": [f"ENST009{t:08d}" for t in rng.integers(1, 10**7, n)],
        }
    )


def make_meth(n_probes, genes, design, zs, seed) -> Omic:
    rng = rng_for(seed, "meth")
    k = zs.shape[1]
    feats = build_probes(n_probes, genes, rng)
    p = len(feats)
    hyper = rng.random(p) < 0.6
    mu = np.where(hyper, rng.normal(2.5, 0.8, p), rng.normal(-3.0, 0.8, p))
    w = sparse_weights(
        rng,
        p,
        k,
        {
            0: (0.2, 1.0),
            2: (0.08, 0.6),
            3: (0.10, 0.7),
            4: (0.05, 0.6),
            **{f: (0.05, 0.6) for f in range(5, k)},
        },
    )
    if k > 1:
        sel = rng.choice(p, max(1, int(round(0.10 * p))), replace=False)
        w[sel, 1] = rng.normal(-0.8, 0.3, len(sel))
    rs = (feats["kind"] == "rs").to_numpy()
    w[rs] = 0.0
    s = design.samples
    ns = len(s)
    latent = mu[None, :] + zs @ w.T + rng.normal(0, 0.3, (ns, p))
    # genotype probes: 0/1/2 alleles per patient, shared by the patient's samples
    geno = rng.integers(0, 3, (int(s["p_index"].max()) + 1, rs.sum()))
    latent[:, rs] = np.array([-3.0, 0.0, 3.0])[geno[s["p_index"].to_numpy()]]
    rows = _rows_for(design, "meth")
    idx = rows["s_index"].to_numpy()
    na = len(idx)
    m = latent[idx] + rng.normal(0, 0.1, (na, p))
    beta = np.exp2(m) / (1 + np.exp2(m))
    masked_probe = rng.random(p) < 0.02
    mask = (rng.random((na, p)) < 0.01) | masked_probe[None, :]
    beta[mask] = np.nan
    feats["always_masked"] = masked_probe
    return Omic(features=feats, weights=w, latent=latent, extras={}, obs={"beta": beta})


def antibody_table(rng) -> pd.DataFrame:
    t = pd.DataFrame(ANTIBODIES, columns=["peptide_target", "genes"])
    t["agid"] = [f"AGID{i + 1:05d}" for i in range(len(t))]
    t["lab_id"] = rng.integers(100, 999, len(t)).astype(str)
    t["catalog_number"] = [f"{c}" for c in rng.integers(1000, 9999, len(t))]
    t["composite"] = t["genes"] + "|" + t["peptide_target"]
    t["in_batch1"] = ~t["peptide_target"].isin(RPPA_BATCH2_ONLY)
    t["in_batch2"] = ~t["peptide_target"].isin(RPPA_BATCH1_ONLY)
    return t


def make_prot(design, zs, rna_latent, genes, seed) -> Omic:
    rng = rng_for(seed, "prot")
    k = zs.shape[1]
    feats = antibody_table(rng)
    a = len(feats)
    w = sparse_weights(
        rng,
        a,
        k,
        {
            0: (0.3, 0.5),
            2: (0.05, 0.4),
            3: (0.1, 0.4),
            4: (0.2, 0.4),
            **{f: (0.05, 0.4) for f in range(5, k)},
        },
    )
    imm = feats["peptide_target"].isin(["PD-L1", "Lck", "CD20", "Syk"]).to_numpy()
    strm = feats["peptide_target"].isin(["Collagen_VI", "Fibronectin", "Caveolin-1"]).to_numpy()
    if k > 2:
        w[imm, 1] = rng.uniform(0.4, 0.8, imm.sum())
        w[strm, 2] = rng.uniform(0.4, 0.8, strm.sum())
    s = design.samples
    ns = len(s)
    link = np.zeros((ns, a))
    if rna_latent is not None:
        gidx = {gname: j for j, gname in enumerate(genes["gene_name"])}
        for j, target in enumerate(feats["peptide_target"]):
            gene = RPPA_RNA_LINK.get(target)
            if gene in gidx:
                col = rna_latent[:, gidx[gene]]
                link[:, j] = 0.5 * (col - col.mean())
    latent = zs @ w.T + link + rng.normal(0, 0.25, (ns, a))
    rows = _rows_for(design, "prot")
    idx = rows["s_index"].to_numpy()
    na = len(idx)
    batch_off = rng.normal(0, 0.15, (2, a))
    batch = rows["batch"].to_numpy()
    val = latent[idx] + batch_off[batch - 1] + rng.normal(0, 0.05, (na, a))
    inpanel = np.where(
        batch[:, None] == 1, feats["in_batch1"].to_numpy()[None, :], feats["in_batch2"].to_numpy()[None, :]
    )
    val[~inpanel] = np.nan
    val[rng.random((na, a)) < 0.005] = np.nan
    return Omic(
        features=feats,
        weights=w,
        latent=latent,
        extras={"rna_link": link},
        obs={"value": val, "inpanel": inpanel},
    )


AA = "ACDEFGHIKLMNPQRSTVWY"
AA3 = {
    "A": "Ala",
    "C": "Cys",
    "D": "Asp",
    "E": "Glu",
    "F": "Phe",
    "G": "Gly",
    "H": "His",
    "I": "Ile",
    "K": "Lys",
    "L": "Leu",
    "M": "Met",
    "N": "Asn",
    "P": "Pro",
    "Q": "Gln",
    "R": "Arg",
    "S": "Ser",
    "T": "Thr",
    "V": "Val",
    "W": "Trp",
    "Y": "Tyr",
    "*": "Ter",
}
HOTSPOTS = {
    "TP53": [
        ("R175H", "Missense_Mutation"),
        ("R248Q", "Missense_Mutation"),
        ("R273H", "Missense_Mutation"),
        ("R273C", "Missense_Mutation"),
        ("Y220C", "Missense_Mutation"),
        ("G245S", "Missense_Mutation"),
        ("R213*", "Nonsense_Mutation"),
        ("R306*", "Nonsense_Mutation"),
        ("P72fs", "Frame_Shift_Del"),
    ],
    "PIK3CA": [
        ("H1047R", "Missense_Mutation"),
        ("E545K", "Missense_Mutation"),
        ("E542K", "Missense_Mutation"),
        ("N345K", "Missense_Mutation"),
        ("H1047L", "Missense_Mutation"),
    ],
    "GATA3": [("D336fs", "Frame_Shift_Ins"), ("S408fs", "Frame_Shift_Del"), ("M294K", "Missense_Mutation")],
    "CDH1": [("Q23*", "Nonsense_Mutation"), ("S195fs", "Frame_Shift_Del"), ("R63*", "Nonsense_Mutation")],
    "MAP3K1": [("S939fs", "Frame_Shift_Del"), ("E303*", "Nonsense_Mutation"), ("T949fs", "Frame_Shift_Ins")],
    "KMT2C": [
        ("K2797fs", "Frame_Shift_Del"),
        ("R4549*", "Nonsense_Mutation"),
        ("V321I", "Missense_Mutation"),
    ],
}
PASSENGER_CLASSES = (
    ("Missense_Mutation", 0.50),
    ("Silent", 0.20),
    ("Nonsense_Mutation", 0.05),
    ("Frame_Shift_Del", 0.04),
    ("Frame_Shift_Ins", 0.02),
    ("Splice_Site", 0.03),
    ("In_Frame_Del", 0.02),
    ("3'UTR", 0.06),
    ("Intron", 0.05),
    ("5'UTR", 0.03),
)


def make_mutations(genes, design, patients, seed) -> pd.DataFrame:
    """One row per mutation of every sequenced (mut aliquot) sample."""
    rng = rng_for(seed, "mut")
    rows = _rows_for(design, "mut")
    first = ~genes["gene_name"].duplicated().to_numpy()
    ginfo = {
        r[0]: r[1:]
        for r in zip(
            genes["gene_name"].to_numpy()[first],
            genes["entrez"].to_numpy()[first],
            genes["ensembl"].to_numpy()[first],
            genes["chromosome"].to_numpy()[first],
            genes["start"].to_numpy()[first],
            genes["length"].to_numpy()[first],
            strict=True,
        )
    }
    sub_idx = {s: i for i, s in enumerate(SUBTYPES)}
    pool_mask = (
        (genes["gene_type"] == "protein_coding")
        & (genes["named"] == 1)
        & ~genes["gene_name"].isin(list(DRIVERS))
        & (genes["chromosome"] != "chrY")
    ).to_numpy()
    pool = genes["gene_name"].to_numpy()[pool_mask]
    classes = [c for c, _ in PASSENGER_CLASSES]
    probs = np.array([p for _, p in PASSENGER_CLASSES])
    probs = probs / probs.sum()
    subtypes = patients["subtype"].to_numpy()
    pnames = patients["patient"].to_numpy()
    bases = np.array(list("ACGT"))
    out = []
    for ai, (sample, pidx) in enumerate(zip(rows["sample"].tolist(), rows["p_index"].tolist(), strict=True)):
        sub = subtypes[pidx]
        recs = _sample_variants(rng, sub, sub_idx[sub], pool, classes, probs)
        out.extend(_variant_rows(rng, recs, ginfo, bases, ai, sample, pnames[pidx]))
    cols = [
        "aliquot_row",
        "sample",
        "patient",
        "gene",
        "entrez",
        "ensembl",
        "chromosome",
        "start",
        "end",
        "variant_classification",
        "variant_type",
        "ref",
        "alt",
        "hgvsp_short",
        "protein_altering",
        "driver",
        "t_depth",
        "t_alt_count",
        "n_depth",
    ]
    muts = pd.DataFrame(out, columns=cols)
    return muts.sort_values(["aliquot_row", "chromosome", "start"], kind="stable").reset_index(drop=True)


def _sample_variants(rng, sub: str, subtype_index: int, pool, classes, probs) -> list[tuple]:
    """One sample's (gene, variant class, protein change, is driver): hotspot drivers by subtype, then passengers."""
    recs = []
    u = rng.random(len(DRIVERS))
    for (gene, pr), uu in zip(DRIVERS.items(), u, strict=True):
        if uu < pr[subtype_index]:
            change, vc = HOTSPOTS[gene][rng.integers(len(HOTSPOTS[gene]))]
            recs.append((gene, vc, change, 1))
    n_pass = max(1, int(rng.poisson(37 if sub == "Basal" else 25)))
    gsel = rng.integers(0, len(pool), n_pass)
    csel = rng.choice(len(classes), n_pass, p=probs)
    pos_ = rng.integers(20, 1200, n_pass)
    aa = rng.integers(0, 20, (n_pass, 2))
    seen = set()
    for gi, ci, pos, (r1, r2) in zip(gsel, csel, pos_, aa, strict=True):
        gene = pool[gi]
        vc = classes[ci]
        ref = AA[r1]
        change = _protein_change(vc, ref, pos, r1, r2)
        key = (gene, change)
        if key in seen:
            continue
        seen.add(key)
        recs.append((gene, vc, change, 0))
    return recs


def _protein_change(vc: str, ref: str, pos: int, r1: int, r2: int) -> str:
    """The HGVSp short change (without ``p.``) of a passenger of variant class ``vc``."""
    if vc == "Missense_Mutation":
        alt = AA[r2] if r2 != r1 else AA[(r1 + 1) % 20]
        return f"{ref}{pos}{alt}"
    if vc == "Silent":
        return f"{ref}{pos}="
    if vc == "Nonsense_Mutation":
        return f"{ref}{pos}*"
    if vc.startswith("Frame_Shift"):
        return f"{ref}{pos}fs"
    if vc == "In_Frame_Del":
        return f"{ref}{pos}del"
    if vc == "Splice_Site":
        return f"X{pos}_splice"
    return ""


def _variant_rows(rng, recs: list[tuple], ginfo: dict, bases, ai: int, sample: str, patient: str) -> list[tuple]:
    """Genomic position, alleles and read counts of each of a sample's variants."""
    out = []
    m = len(recs)
    offs = rng.random(m)
    b1 = rng.integers(0, 4, m)
    b2 = (b1 + rng.integers(1, 4, m)) % 4
    depth = rng.integers(30, 250, m)
    frac = rng.uniform(0.08, 0.6, m)
    nd = rng.integers(30, 200, m)
    for j, (gene, vc, change, driver) in enumerate(recs):
        entrez, ens, chrom, gstart, glen = ginfo[gene]
        start = int(gstart + int(offs[j] * max(1, int(glen))))
        if vc in ("Frame_Shift_Del", "In_Frame_Del"):
            vtype, alt = "DEL", "-"
            ref = bases[b1[j]] if vc == "Frame_Shift_Del" else bases[b1[j]] + bases[b2[j]] + bases[b1[j]]
        elif vc == "Frame_Shift_Ins":
            vtype, ref, alt = "INS", "-", bases[b2[j]]
        else:
            vtype, ref, alt = "SNP", bases[b1[j]], bases[b2[j]]
        end = start + (len(ref) - 1 if vtype != "INS" else 1)
        d = int(depth[j])
        out.append(
            (
                ai,
                sample,
                patient,
                gene,
                entrez,
                ens,
                chrom,
                start,
                end,
                vc,
                vtype,
                str(ref),
                str(alt),
                f"p.{change}" if change else "",
                int(vc in PROTEIN_ALTERING),
                driver,
                d,
                max(3, int(d * frac[j])),
                int(nd[j]),
            )
        )
    return out


def r2_table(view: str, omic: Omic, zs: np.ndarray, rows: np.ndarray, names: list[str]) -> list[dict]:
    """MOFA-style R² of each planted factor (and extra term) on the centred latent matrix of ``rows``."""
    y = omic.latent[rows]
    ok = np.isfinite(y).all(axis=0)
    y = y[:, ok]
    y = y - y.mean(axis=0)
    ss = float((y**2).sum())
    if ss == 0:
        return []
    w = omic.weights[ok]
    z = zs[rows]
    out = []
    full = z @ w.T
    full -= full.mean(axis=0)
    out.append({"view": view, "component": "all_factors", "r2": 1 - float(((y - full) ** 2).sum()) / ss})
    for f, name in enumerate(names):
        part = np.outer(z[:, f], w[:, f])
        part -= part.mean(axis=0)
        out.append({"view": view, "component": name, "r2": 1 - float(((y - part) ** 2).sum()) / ss})
    for name, term in omic.extras.items():
        t = term[rows][:, ok]
        t = t - t.mean(axis=0)
        out.append({"view": view, "component": name, "r2": 1 - float(((y - t) ** 2).sum()) / ss})
    for row in out:  # round-off of exactly-zero contributions
        if abs(row["r2"]) < 1e-10:
            row["r2"] = 0.0
    return out
