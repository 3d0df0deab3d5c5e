"""Modality names and store keys, in one place.

Every module refers to these constants instead of spelling the strings, so the
store layout (docs/store.md) is defined once.
"""

from __future__ import annotations

# Modality (omic) names in the MuData store, in the order readers emit them.
RNA = "rna"
MIRNA = "mirna"
METH = "meth"
CNV = "cnv"
MUT = "mut"
PROT = "prot"
MODALITIES = (RNA, MIRNA, METH, CNV, MUT, PROT)
MODALITY_DESCRIPTIONS = {
    RNA: "mRNA expression",
    MIRNA: "miRNA expression",
    METH: "DNA methylation (beta values)",
    CNV: "copy number",
    MUT: "somatic mutations (gene x sample 0/1)",
    PROT: "protein (RPPA)",
}

# Global obs columns.
OBS_PATIENT = "patient"
OBS_SAMPLE_TYPE = "sample_type"  # short letter code, e.g. "TP", "NT"
OBS_SAMPLE_TYPE_CODE = "sample_type_code"  # two digits, e.g. "01"

# Per-modality obs columns.
MOD_OBS_ALIQUOT = "aliquot"
MOD_OBS_SOURCE_FILE = "source_file"
OBS_GENE_PANEL = "gene_panel"  # mut: the targeted panel a sample was sequenced on (NaN: exome/genome-wide)

# uns keys.
UNS_PROVENANCE = "harmonomics"  # provenance: files, reader, versions, parameters, time
UNS_REPORT = "harmonomics_report"  # harmonization report (tidy table of kept/dropped items)
UNS_GENE_PANELS = "gene_panels"  # cBioPortal gene panels: {"panels", "genes", "samples", "profiles"} tables
UNS_FORMAT_VERSION = "format_version"  # inside uns[UNS_PROVENANCE]

# Default result keys.
KEY_MOFA = "mofa"
KEY_PAM50 = "pam50"
KEY_IMMUNE = "immune"
KEY_RECEPTOR = "receptor"
KEY_DIABLO = "diablo"

# Columns of the actionable-alterations table (hm.tl.actionable, docs/precision.md), one row per sample x alteration.
ACTIONABLE_COLUMNS = (
    "sample",
    "gene",
    "alteration",
    "alteration_type",
    "evidence",
    "biomarker",
    "therapy_class",
    "evidence_level",
    "source",
)

# Canonical PAM50 labels.
PAM50_LABELS = ("LumA", "LumB", "Her2", "Basal", "Normal")

# MOFA convergence modes: mofapy2's own, and the fast engine's stopping rules (docs/engine.md,
# models/_fast_engine.STOPPING_RULES). "auto": "factors" for the fast engine ("factors_strict" beyond the sizes where
# it was checked against mofapy2), "medium" otherwise.
MOFAPY2_CONVERGENCE_MODES = ("fast", "medium", "slow")
ENGINE_STOPPING_RULES = ("factors", "factors_strict", "window")
CONVERGENCE_MODES = ("auto", *MOFAPY2_CONVERGENCE_MODES, *ENGINE_STOPPING_RULES)
KEY_TMB = "tmb"
KEY_ACTIONABLE = "actionable"
