"""Tools: factor models and what they mean (subtypes, immune status, survival, signatures).

Scanpy-style: ``hm.tl.f(mdata, *, key_added=..., copy=False)`` writes results into the store
and returns ``None`` (or a new MuData with ``copy=True``); functions that naturally give a
table return a tidy :class:`pandas.DataFrame`.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        # factor models (implemented in harmonomics.models)
        "mofa": "..models.mofa",
        "load_mofa": "..models.mofa",
        "project": "..models.mofa",
        "mofa_stability": "..models.mofa",
        # the cohort
        "omics_presence": "._cohort",
        # subtypes
        "pam50": "._pam50",
        "associate": "._associations",
        "association_summary": "._associations",
        "subtype_classifier": "._classifier",
        "predict_subtype": "._classifier",
        "balanced_error": "._classifier",
        # multi-block sparse PLS-DA (DIABLO)
        "diablo": "._diablo",
        "diablo_tune": "._diablo",
        "predict_diablo": "._diablo",
        # immune
        "immune_scores": "._immune",
        "immune_status": "._immune",
        # precision medicine
        "receptor_status": "._receptor",
        "compare_receptor_status": "._receptor",
        # signatures, enrichment, survival
        "factor_signatures": "._signatures",
        "signature_table": "._signatures",
        "score_signatures": "._signatures",
        "builtin_gene_sets": "._signatures",
        "enrichment": "._enrichment",
        "survival": "._survival",
        "kaplan_meier": "._survival",
        "survival_from_clinical": "._survival",
        "add_clinical_survival": "._survival",
        # precision medicine
        "tmb": "._tmb",
        "panel_sizes": "._tmb",
        "tmb_by_group": "._tmb",
        "actionable": "._actionable",
        "therapy_table": "._actionable",
        # our calls against published ones
        "compare_labels": "._reference",
        "bh_fdr": "._multitest",
        "label_confusion": "._reference",
        "compare_purity": "._reference",
        "purity_values": "._reference",
        "compare_status": "._reference",
        "status_values": "._reference",
        # what a DIABLO fit shows (the figures, exports and report draw these)
        "diablo_selected": "._diablo_summary",
        "diablo_correlations": "._diablo_summary",
        "diablo_contributions": "._diablo_summary",
        "diablo_clustered": "._diablo_summary",
        # one patient against the cohort (the patient card)
        "nearest_samples": "._neighbours",
        "actionable_by_group": "._neighbours",
    },
)
