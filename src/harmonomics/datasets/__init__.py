"""Data sets: the bundled real TCGA-BRCA cohorts and a synthetic cohort writer with known truth."""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "tcga_brca_mini": "._tcga_brca_mini",
        "tcga_brca_rnaseq10": "._tcga_brca_mini",
        "tcga_brca_clinical": "._tcga_brca_mini",
        "tcga_brca_121": "._tcga_brca_121",
        "write_synthetic_cohort": "._synthetic",
    },
)
