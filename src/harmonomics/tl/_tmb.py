"""Tumour mutational burden (TMB): non-synonymous coding mutations per megabase, from the long MAF table.

The variants counted are the protein-altering classes of :data:`harmonomics._mutations.PROTEIN_ALTERING`
(Missense, Nonsense, Frame_Shift_Del/Ins, In_Frame_Del/Ins, Splice_Site, Translation_Start_Site, Nonstop): the
"non-synonymous" TMB of whole-exome studies, where synonymous (Silent), UTR, intronic, flanking, intergenic, RNA
and Splice_Region variants do not count. The denominator is the size of the captured exome.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
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


def panel_sizes(panel_size_mb: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Coding size (Mb) of targeted panels: the shipped table (``data/precision/gene_panel_sizes.tsv``, one
    citation per row) updated with ``panel_size_mb``.

    Parameters
    ----------
    panel_size_mb
        ``{panel ID: coding size in Mb}``: added to the table, replacing a shipped row of the same panel.

    Returns
    -------
    DataFrame with columns ``panel``, ``size_mb`` and ``source`` (the citation, or "given (panel_size_mb)").

    Raises
    ------
    ValueError
        A size in ``panel_size_mb`` is not a positive number.
    """
    from .. import data

    table = pd.read_csv(data.path("precision", "gene_panel_sizes.tsv"), sep="\t", comment="#", dtype={"panel": str})
    for panel, size in (panel_size_mb or {}).items():
        if not isinstance(size, int | float) or not np.isfinite(size) or size <= 0:
            raise ValueError(f"panel_size_mb[{panel!r}] must be a positive number of megabases, got {size!r}")
        table = table[table["panel"] != str(panel)]
        row = pd.DataFrame({"panel": [str(panel)], "size_mb": [float(size)], "source": ["given (panel_size_mb)"]})
        table = pd.concat([table, row], ignore_index=True)
    return table.reset_index(drop=True)


def tmb(
    mdata: MuData,
    *,
    mod: str = _keys.MUT,
    exome_size_mb: float = EXOME_SIZE_MB,
    panel_size_mb: Mapping[str, float] | None = None,
    hypermutated: float = TMB_HIGH,
    key_added: str = _keys.KEY_TMB,
    copy: bool = False,
) -> MuData | None:
    """Tumour mutational burden: non-synonymous coding mutations per megabase of exome (or of the gene panel).

    Counts, per sample, the rows of the long MAF table (``mdata.mod[mod].uns["maf"]``) whose
    ``Variant_Classification`` is protein-altering — Missense_Mutation, Nonsense_Mutation, Frame_Shift_Del,
    Frame_Shift_Ins, In_Frame_Del, In_Frame_Ins, Splice_Site, Translation_Start_Site, Nonstop_Mutation — and
    divides by ``exome_size_mb``. Silent, UTR, Intron, Flank, IGR, RNA and Splice_Region variants do not count.
    A variant written on several rows for one sample (same ``Chromosome``, ``Start_Position``,
    ``Reference_Allele`` and ``Tumor_Seq_Allele2``, where the MAF has them) counts once.

    **Gene panels.** A sample sequenced on a targeted panel (``mdata.mod[mod].obs["gene_panel"]``, which
    :func:`harmonomics.io.read_cbioportal` fills from the study's gene panel matrix) is divided by its panel's
    coding size instead: ``panel_size_mb`` first, then the shipped table (:func:`panel_sizes`: MSK-IMPACT
    341/410/468). Only its variants in the panel's genes count when the panel's gene list is in the store
    (``mdata.uns["gene_panels"]``). A panel of unknown size gives its samples NaN, a warning and a report row —
    never a number divided by the exome size.

    Parameters
    ----------
    mdata
        Store with a mutation modality that keeps the long MAF (``hm.io.read_maf``, ``read_gdc``,
        ``read_cbioportal`` and ``hm.datasets.tcga_brca_121`` do).
    mod
        The mutation modality.
    exome_size_mb
        Denominator in Mb of samples not on a panel. Default 38 Mb, the exome size of Chalmers et al. 2017
        (*Genome Med* 9:34); use the targeted size of your capture (e.g. ~30 Mb of coding sequence) when known.
    panel_size_mb
        ``{panel ID: coding size in Mb}`` for the gene panels of ``obs["gene_panel"]``; overrides the shipped
        sizes.
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
    ``obs[f"{key_added}_size_mb"]``
        the denominator used: the exome size, or the sample's panel size (NaN when unknown).
    ``uns[key_added]``
        ``exome_size_mb``, ``threshold``, ``variant_classes`` (list), ``source`` (the convention and citations),
        ``n_samples`` (with a TMB), ``mod``, ``repeated_rows_counted_once``, ``off_panel_rows_not_counted`` and
        ``panels`` (one row per panel of the store: ``panel``, ``size_mb``, ``source``, ``n_samples``).

    Raises
    ------
    MissingResultError
        No ``mod`` modality, or no ``uns["maf"]`` in it.
    FormatError
        The MAF lacks ``Variant_Classification`` or a sample column, or names a sample not in ``mod``.
    ValueError
        ``exome_size_mb`` or a ``panel_size_mb`` value is not positive.
    """
    if not np.isfinite(exome_size_mb) or exome_size_mb <= 0:
        raise ValueError(f"exome_size_mb must be a positive number of megabases, got {exome_size_mb!r}")
    sizes = panel_sizes(panel_size_mb)
    from ..store import store_to_modify

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
        same = ", ".join(variant[1:])
        _report_samples(
            mdata,
            mod,
            "merged",
            {s: f"TMB: {int(n)} repeated MAF rows (same {same}) counted once" for s, n in repeats[repeats > 0].items()},
        )
    unknown = sorted(set(unique[sample_column].astype(str)) - set(sequenced))
    if unknown:
        raise FormatError(
            f"MAF sample {unknown[0]!r} (and {len(unknown) - 1} more) is not a sample of mdata.mod[{mod!r}]",
            path=f"mdata.mod[{mod!r}].uns['maf']",
            column=sample_column,
        )
    panel_of = sample_panels(mdata, mod)
    unique, n_off_panel = _panel_gene_rows(mdata, unique, sample_column, panel_of, mod)
    counted = unique[sample_column].astype(str)
    counts = counted.value_counts().reindex(sequenced, fill_value=0)
    size, panels = _denominators(mdata, panel_of, exome_size_mb, sizes, mod)
    # the store's samples: a sample of mod without variants is 0; one missing from mod has no data (NaN)
    store_index = pd.Index(mdata.obs_names.astype(str))
    per_sample = counts.reindex(store_index)
    per_sample.index = mdata.obs_names
    size_mb = size.reindex(store_index).to_numpy(dtype=float)
    burden = per_sample.astype(float) / size_mb
    mdata.obs[key_added] = burden.to_numpy()
    mdata.obs[f"{key_added}_mutations"] = pd.array(per_sample.to_numpy(), dtype="Int64")
    mdata.obs[f"{key_added}_size_mb"] = size_mb
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
        "off_panel_rows_not_counted": int(n_off_panel),
        "panels": panels,
    }
    unread = _unread_gene_panels(mdata)
    if unread:
        caveat = (
            f"the source has gene-panel files that were not read ({', '.join(unread)}): samples sequenced with a "
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


def _report_samples(mdata: MuData, mod: str, action: str, reasons: Mapping[str, str]) -> None:
    """One harmonization-report row per sample of ``reasons`` (sample → reason)."""
    from ..store import add_report_rows

    if reasons:
        add_report_rows(
            mdata,
            [
                {"level": "sample", "item": s, "omic": mod, "sample": s, "action": action, "reason": reason}
                for s, reason in reasons.items()
            ],
        )


def _unread_gene_panels(mdata: MuData) -> list[str]:
    """Gene-panel files a reader listed as not read (stores written before gene panels were read)."""
    report = mdata.uns.get(_keys.UNS_REPORT)
    if not isinstance(report, pd.DataFrame) or not {"item", "reason"} <= set(report.columns):
        return []
    reason = report["reason"].astype(str)
    rows = report[reason.str.startswith("not read") & reason.str.contains("gene panel", case=False)]
    return sorted({str(item) for item in rows["item"]})


def sample_panels(mdata: MuData, mod: str = _keys.MUT) -> pd.Series:
    """The gene panel of each sample of ``mod`` (``obs["gene_panel"]``; NaN: not on a panel), by sample name."""
    obs = mdata.mod[mod].obs
    index = pd.Index(obs.index.astype(str))
    if _keys.OBS_GENE_PANEL not in obs:
        return pd.Series(np.nan, index=index, dtype=object)
    values = obs[_keys.OBS_GENE_PANEL].astype(object).to_numpy()
    return pd.Series(values, index=index, dtype=object).where(pd.notna(values), np.nan)


def _panel_gene_rows(
    mdata: MuData, rows: pd.DataFrame, sample_column: str, panel_of: pd.Series, mod: str
) -> tuple[pd.DataFrame, int]:
    """Drop the variants of panel-sequenced samples in genes off their (defined) panel; how many were dropped."""
    tables = mdata.uns.get(_keys.UNS_GENE_PANELS)
    genes = tables.get("genes") if isinstance(tables, Mapping) else None
    if not isinstance(genes, pd.DataFrame) or genes.empty or panel_of.isna().all() or "Hugo_Symbol" not in rows:
        return rows, 0
    defined = set(genes["panel"].astype(str))
    panel = rows[sample_column].astype(str).map(panel_of)
    on_defined = panel.isin(defined).to_numpy()
    listed = set(zip(genes["panel"].astype(str), genes["gene"].astype(str), strict=True))
    pairs = zip(panel.astype(str), rows["Hugo_Symbol"].astype(str), strict=True)
    off = on_defined & ~np.fromiter((p in listed for p in pairs), dtype=bool, count=len(rows))
    if off.any():
        logger.info("TMB: %d variants in genes off the sample's gene panel not counted", int(off.sum()))
        per_sample = rows.loc[off, sample_column].astype(str).value_counts()
        _report_samples(
            mdata,
            mod,
            "dropped",
            {
                s: f"TMB: {int(n)} variants in genes not on the sample's gene panel {panel_of[s]} not counted"
                for s, n in per_sample.items()
            },
        )
    return rows.loc[~off], int(off.sum())


def _denominators(
    mdata: MuData, panel_of: pd.Series, exome_size_mb: float, sizes: pd.DataFrame, mod: str
) -> tuple[pd.Series, pd.DataFrame]:
    """Per-sample TMB denominator (Mb; NaN for a panel of unknown size) and the table of the store's panels."""
    known = dict(zip(sizes["panel"], sizes["size_mb"], strict=True))
    source = dict(zip(sizes["panel"], sizes["source"], strict=True))
    size = pd.Series(float(exome_size_mb), index=panel_of.index)
    on_panel = panel_of.notna()
    size[on_panel] = panel_of[on_panel].map(lambda p: known.get(str(p), np.nan)).astype(float)
    used = panel_of[on_panel].astype(str).value_counts().sort_index()
    panels = pd.DataFrame(
        {
            "panel": used.index.astype(str),
            "size_mb": [float(known.get(p, np.nan)) for p in used.index],
            "source": [str(source.get(p, "unknown: pass panel_size_mb")) for p in used.index],
            "n_samples": used.to_numpy(dtype=int),
        }
    )
    unknown = [p for p in used.index if p not in known]
    if unknown:
        message = (
            f"TMB: no coding size for gene panel(s) {', '.join(unknown)} ({int(used[unknown].sum())} samples): their "
            "TMB is NaN; pass panel_size_mb={panel: Mb}"
        )
        warnings.warn(message, UserWarning, stacklevel=3)
        _report_samples(
            mdata,
            mod,
            "dropped",
            {
                s: f"TMB: gene panel {panel_of[s]} has no known coding size; TMB not computed"
                for s in panel_of.index[panel_of.isin(unknown)]
            },
        )
    return size, panels


def tmb_by_group(
    mdata: MuData,
    *,
    groupby: str = _keys.KEY_PAM50,
    key: str = _keys.KEY_TMB,
) -> pd.DataFrame:
    """TMB per group (e.g. PAM50 subtype), with a Kruskal–Wallis test of whether it differs between groups.

    Parameters
    ----------
    mdata
        Store with ``obs[key]`` (run :func:`tmb`) and ``obs[groupby]``.
    groupby
        Column of ``obs`` that defines the groups.
    key
        The TMB column of ``obs``.

    Returns
    -------
    One row per group with a TMB (groups in category order): ``groupby`` (named after the column), ``n``,
    ``median``, ``q1``, ``q3`` (mutations/Mb) and ``n_hypermutated`` (``obs["hypermutated"]`` True, when the
    column exists). ``attrs`` holds the test across groups of at least 2 samples: ``test`` ("Kruskal-Wallis H"),
    ``statistic``, ``p`` (``scipy.stats.kruskal``; NaN with fewer than 2 such groups or no spread), the effect size
    ``epsilon_squared`` ((H − k + 1)/(n − k), Tomczak & Tomczak 2014), ``n_groups``, ``n`` and ``n_tests`` (1:
    one omnibus test, so its p needs no multiple-testing correction).

    Raises
    ------
    MissingResultError
        No ``obs[key]`` or no ``obs[groupby]``.
    """
    from scipy.stats import kruskal

    from .._style import category_levels

    for column, hint in ((key, "hm.tl.tmb(mdata)"), (groupby, "hm.tl.pam50(mdata)")):
        if column not in mdata.obs.columns:
            raise MissingResultError(f"no column obs[{column!r}]; run {hint} first")
    obs = mdata.obs
    burden = pd.to_numeric(obs[key], errors="coerce")
    both = burden.notna() & obs[groupby].notna()
    groups = obs.loc[both, groupby].astype(str)
    values = burden[both]
    hyper = obs.loc[both, "hypermutated"].astype("boolean") if "hypermutated" in obs else None
    rows = []
    for level in [lv for lv in category_levels(obs[groupby]) if (groups == lv).any()]:
        v = values[groups == level]
        rows.append(
            {
                groupby: level,
                "n": len(v),
                "median": float(v.median()),
                "q1": float(v.quantile(0.25)),
                "q3": float(v.quantile(0.75)),
                "n_hypermutated": int(hyper[groups == level].fillna(False).sum()) if hyper is not None else -1,
            }
        )
    table = pd.DataFrame(rows, columns=[groupby, "n", "median", "q1", "q3", "n_hypermutated"])
    tested = [values[groups == g].to_numpy() for g in table[groupby] if (groups == g).sum() >= 2]
    n = int(sum(len(t) for t in tested))
    statistic = p = epsilon = np.nan
    if len(tested) >= 2 and np.ptp(np.concatenate(tested)) > 0:
        statistic, p = (float(x) for x in kruskal(*tested))
        epsilon = (statistic - len(tested) + 1) / (n - len(tested)) if n > len(tested) else np.nan
    table.attrs.update(
        {
            "test": "Kruskal-Wallis H",
            "statistic": statistic,
            "p": p,
            "epsilon_squared": epsilon,
            "n_groups": len(tested),
            "n": n,
            "n_tests": 1,
            "groupby": groupby,
        }
    )
    return table
