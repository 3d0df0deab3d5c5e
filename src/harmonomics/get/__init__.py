"""Plain tables out of the store, for R and pandas users."""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "factor_scores": "..models.mofa",
        "weights": "..models.mofa",
        "variance_explained": "..models.mofa",
    },
)
