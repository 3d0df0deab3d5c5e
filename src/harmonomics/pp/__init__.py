"""Preprocessing / harmonization: sample matching, feature IDs, per-omic transforms, feature selection."""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "harmonize": "._harmonize",
        "select_features": "._features",
        "normalize_rna": "._transforms",
        "beta_to_m": "._transforms",
        "mutation_matrix": "._transforms",
        "harmonize_feature_ids": "._feature_ids",
        "segments_to_genes": ".._segments",  # the core lives below io and pp
        "feature_stats": "._outofcore",
        "top_variance_features": "._outofcore",
    },
)
