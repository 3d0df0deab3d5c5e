"""Tumour mutational burden (TMB): non-synonymous coding mutations per megabase, from the long MAF table.

The variants counted are the protein-altering classes of :data:`harmonomics._mutations.PROTEIN_ALTERING`
(Missense, Nonsense, Frame_Shift_Del/Ins, In_Frame_Del/Ins, Splice_Site, Translation_Start_Site, Nonstop): the
"non-synonymous" TMB of whole-exome studies, where synonymous (Silent), UTR, intronic, flanking, intergenic, RNA
and Splice_Region variants do not count. The denominator is the size of the captured exome.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import FormatError, MissingResultError
from .._mutations import PROTEIN_ALTERING

if TYPE_CHECKING:  # pragma: no cover
    from mudata import MuData

logger = logging.getLogger(__name__)

#: Size of the exome, in megabases, used as the TMB denominator for whole-exome MAFs. 38 Mb is the exome size that
#: Chalmers et al. 2017 (Genome Med 9:34, "Analysis of 100,000 human cancer genomes reveals the landscape of
#: tumor mutational burden") used to express whole-exome mutation counts per Mb.
EXOME_SIZE_MB = 38.0
#: TMB at or above which a tumour is called hypermutated / TMB-high: 10 mutations/Mb, the cut-off of the FDA
#: tumour-agnostic approval of pembrolizumab for TMB-H solid tumours (June 2020, KEYNOTE-158).
TMB_HIGH = 10.0
#: The MAF columns that identify one variant of a sample.
VARIANT_KEY = ("Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele2")
TMB_SOURCE = (
    "non-synonymous coding variants (Variant_Classification in the protein-altering classes) per Mb of exome; "
    "exome size after Chalmers et al. 2017, Genome Med 9:34; TMB-high >= 10 mut/Mb after the FDA pembrolizumab "
    "TMB-H approval (2020, KEYNOTE-158)"
)


def maf_table(mdata, mod: str = _keys.MUT) -> tuple[pd.DataFrame, str]:
    """The long MAF table of ``mdata.mod[mod].uns["maf"]`` and the name of its sample column.

    Raises
    ------
    MissingResultError
        No such modality, or it holds no MAF table (the message says how to get one).
    FormatError
        The table lacks ``Variant_Classification`` or a sample column.
    """
    if mod not in getattr(mdata, "mod", {}):
        have = list(getattr(mdata, "mod", {}))
        raise MissingResultError(
            f"the store has no {mod!r} modality (it has {have}); read a MAF with hm.io.read_maf, a GDC download "
            "with masked somatic mutations (hm.io.read_gdc) or a cBioPortal study with data_mutations "
            "(hm.io.read_cbioportal)"
        )
    maf = mdata.mod[mod].uns.get("maf")
    if not isinstance(maf, pd.DataFrame):
        raise MissingResultError(
            f"mdata.mod[{mod!r}].uns['maf'] is absent: the long mutation table is needed (the 0/1 gene matrix "
            "alone gives no variant classes or protein changes); build the store with hm.io.read_maf, "
            "hm.io.read_gdc or hm.io.read_cbioportal, which keep it"
        )
    sample_column = next((c for c in ("sample", "Tumor_Sample_Barcode") if c in maf), None)
    for column, present in (("Variant_Classification", "Variant_Classification" in maf), ("sample", sample_column)):
        if not present:
            raise FormatError(
                f"the MAF table lacks column {column!r} (expected 'sample' or 'Tumor_Sample_Barcode', and "
                f"'Variant_Classification'); it has {list(maf.columns)[:12]}",
                path=f"mdata.mod[{mod!r}].uns['maf']",
                column=column,
            )
    return maf, sample_column


def tmb(
    mdata: MuData,
    *,
    mod: str = _keys.MUT,
    exome_size_mb: float = EXOME_SIZE_MB,
    hypermutated: float = TMB_HIGH,
    key_added: str = _keys.KEY_TMB,
    copy: bool = False,
) -> MuData | None:
    """Tumour mutational burden: non-synonymous coding mutations per megabase of exome.

    Counts, per sample, the rows of the long MAF table (``mdata.mod[mod].uns["maf"]``) whose
    ``Variant_Classification`` is protein-altering — Missense_Mutation, Nonsense_Mutation, Frame_Shift_Del,
    Frame_Shift_Ins, In_Frame_Del, In_Frame_Ins, Splice_Site, Translation_Start_Site, Nonstop_Mutation — and
    divides by ``exome_size_mb``. Silent, UTR, Intron, Flank, IGR, RNA and Splice_Region variants do not count.
    A variant written on several rows for one sample (same ``Chromosome``, ``Start_Position``,
    ``Reference_Allele`` and ``Tumor_Seq_Allele2``, where the MAF has them) counts once.

    Parameters
    ----------
    mdata
        Store with a mutation modality that keeps the long MAF (``hm.io.read_maf``, ``read_gdc``,
        ``read_cbioportal`` and ``hm.datasets.tcga_brca_121`` do).
    mod
        The mutation modality.
    exome_size_mb
        Denominator in Mb. Default 38 Mb, the exome size of Chalmers et al. 2017 (*Genome Med* 9:34); use the
        targeted size of your capture (e.g. ~30 Mb of coding sequence, or a gene panel's size) when it is known.
    hypermutated
        TMB (mutations/Mb) at or above which ``obs["hypermutated"]`` is True. Default 10, the TMB-high cut-off of
        the FDA tumour-agnostic pembrolizumab approval (2020).
    key_added
        Name of the TMB column in ``obs`` and of the ``uns`` entry.
    copy
        Return a modified copy instead of writing in place.

    Returns
    -------
    ``None`` (or the copy with ``copy=True``). Writes to ``mdata.obs`` (every sample of the store):

    ``obs[key_added]``
        float, mutations/Mb; 0 for a sample of ``mod`` with no qualifying variant; NaN for a sample without
        mutation data.
    ``obs[f"{key_added}_mutations"]``
        the count used (pandas nullable ``Int64``; NA without mutation data).
    ``obs["hypermutated"]``
        pandas ``boolean``: TMB ≥ ``hypermutated``; NA without mutation data.
    ``uns[key_added]``
        ``exome_size_mb``, ``threshold``, ``variant_classes`` (list), ``source`` (the convention and citations),
        ``n_samples`` (with mutation data), ``mod``, ``repeated_rows_counted_once``.

    Raises
    ------
    MissingResultError
        No ``mod`` modality, or no ``uns["maf"]`` in it.
    FormatError
        The MAF lacks ``Variant_Classification`` or a sample column, or names a sample not in ``mod``.
    ValueError
        ``exome_size_mb`` is not positive.
    """
    if not np.isfinite(exome_size_mb) or exome_size_mb <= 0:
        raise ValueError(f"exome_size_mb must be a positive number of megabases, got {exome_size_mb!r}")
    from ..store import add_report_rows, store_to_modify

    mdata = store_to_modify(mdata, copy)
    maf, sample_column = maf_table(mdata, mod)
    sequenced = pd.Index(mdata.mod[mod].obs_names.astype(str))
    qualifying = maf.loc[maf["Variant_Classification"].isin(PROTEIN_ALTERING)]
    # a variant written twice for one sample (the WUSTL TCGA-BRCA MAF repeats 273 rows) is one mutation
    variant = [sample_column, *(c for c in VARIANT_KEY if c in maf)]
    unique = qualifying.drop_duplicates(variant) if len(variant) > 1 else qualifying
    n_repeated = len(qualifying) - len(unique)
    if n_repeated:
        logger.info("TMB: %d repeated MAF rows (same sample and variant %s) counted once", n_repeated, variant[1:])
        repeats = (
            qualifying[sample_column].astype(str).value_counts() - unique[sample_column].astype(str).value_counts()
        )
        add_report_rows(
            mdata,
            [
                {
                    "level": "sample",
                    "item": sample,
                    "omic": mod,
                    "sample": sample,
                    "action": "merged",
                    "reason": f"TMB: {int(n)} repeated MAF rows (same {', '.join(variant[1:])}) counted once",
                }
                for sample, n in repeats[repeats > 0].items()
            ],
        )
    counted = unique[sample_column].astype(str)
    unknown = sorted(set(counted) - set(sequenced))
    if unknown:
        raise FormatError(
            f"MAF sample {unknown[0]!r} (and {len(unknown) - 1} more) is not a sample of mdata.mod[{mod!r}]",
            path=f"mdata.mod[{mod!r}].uns['maf']",
            column=sample_column,
        )
    counts = counted.value_counts().reindex(sequenced, fill_value=0)
    # the store's samples: a sample of mod without variants is 0; one missing from mod has no data (NaN)
    per_sample = counts.reindex(pd.Index(mdata.obs_names.astype(str)))
    per_sample.index = mdata.obs_names
    burden = per_sample.astype(float) / float(exome_size_mb)
    mdata.obs[key_added] = burden.to_numpy()
    mdata.obs[f"{key_added}_mutations"] = pd.array(per_sample.to_numpy(), dtype="Int64")
    high = pd.array(np.where(burden.isna(), None, burden.to_numpy() >= hypermutated), dtype="boolean")
    mdata.obs["hypermutated"] = high
    mdata.uns[key_added] = {
        "exome_size_mb": float(exome_size_mb),
        "threshold": float(hypermutated),
        "variant_classes": list(PROTEIN_ALTERING),
        "source": TMB_SOURCE,
        "n_samples": int(burden.notna().sum()),
        "mod": mod,
        "repeated_rows_counted_once": int(n_repeated),
    }
    panels = _unread_gene_panels(mdata)
    if panels:
        caveat = (
            f"the source has gene-panel files that were not read ({', '.join(panels)}): samples sequenced with a "
            f"targeted panel were divided by the exome size ({exome_size_mb:g} Mb), so their TMB is too low; "
            "pass exome_size_mb= the panel's coding size for a panel-only cohort"
        )
        mdata.uns[key_added]["caveat"] = caveat
        warnings.warn(f"TMB: {caveat}", UserWarning, stacklevel=2)
    logger.info(
        "TMB of %d samples: median %.2f mut/Mb, %d at or above %.1f",
        int(burden.notna().sum()),
        float(np.nanmedian(burden)) if burden.notna().any() else float("nan"),
        int(np.nansum(burden.to_numpy() >= hypermutated)),
        hypermutated,
    )
    return mdata if copy else None


def _unread_gene_panels(mdata: MuData) -> list[str]:
    """Gene-panel files the reader listed as not read (cBioPortal ``data_gene_panel*``), from the store's report."""
    report = mdata.uns.get(_keys.UNS_REPORT)
    if not isinstance(report, pd.DataFrame) or not {"item", "reason"} <= set(report.columns):
        return []
    rows = report[report["reason"].astype(str).str.contains("gene panel", case=False)]
    return sorted({str(item) for item in rows["item"]})
