"""Plots: one module per figure family. Each function takes ``ax=`` where that makes sense,
returns the Figure or Axes, and never saves unless given ``save=``."""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "variance_explained": "._factors",
        "factor_scatter": "._factors",
        "top_weights": "._factors",
        "elbo": "._factors",
        "factors_by_group": "._factors",
        "associations": "._associations",
        "kaplan_meier": "._survival",
        "omics_overview": "._cohort",
        "label_confusion": "._reference",
        "purity_comparison": "._reference",
        "status_markers": "._reference",
        "diablo_samples": "._diablo",
        "diablo_loadings": "._diablo",
        "diablo_circle": "._diablo",
        "diablo_network": "._diablo",
        "diablo_heatmap": "._diablo",
    },
)
