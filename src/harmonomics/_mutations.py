"""Mutation calls → samples × genes 0/1 matrix of protein-altering variants.

The core shared by the MAF readers (``hm.io``) and :func:`harmonomics.pp.mutation_matrix`, so it lives below both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._errors import FormatError

PROTEIN_ALTERING = (
    "Missense_Mutation",
    "Nonsense_Mutation",
    "Frame_Shift_Del",
    "Frame_Shift_Ins",
    "In_Frame_Del",
    "In_Frame_Ins",
    "Splice_Site",
    "Translation_Start_Site",
    "Nonstop_Mutation",
)
"""Variant classifications counted as protein-altering (FORMATS.md)."""

NOT_PROTEIN_ALTERING = ("Silent", "3'UTR", "5'UTR", "3'Flank", "5'Flank", "Intron", "IGR", "RNA", "Splice_Region")


def mutation_arrays(
    maf: pd.DataFrame,
    *,
    sample_column: str = "Tumor_Sample_Barcode",
    gene_column: str = "Hugo_Symbol",
    samples: Sequence[str] | None = None,
    variant_classes: Sequence[str] = PROTEIN_ALTERING,
) -> tuple[np.ndarray, pd.Index, pd.DataFrame]:
    """Samples × genes 0/1 float matrix of protein-altering variants, built with factorize + indexing."""
    if len(maf) == 0 or gene_column not in maf:
        samples_idx = pd.Index(list(samples) if samples is not None else [], dtype=object)
        return (
            np.zeros((len(samples_idx), 0)),
            pd.Index([], dtype=object),
            pd.DataFrame(index=pd.Index([], dtype=object)),
        )
    keep = maf["Variant_Classification"].isin(list(variant_classes)).to_numpy() & maf[gene_column].notna().to_numpy()
    sub = maf.loc[keep]
    gene_codes, genes = pd.factorize(sub[gene_column], sort=True)
    if samples is None:
        uniq = pd.Index(pd.unique(maf[sample_column]), dtype=object)
    else:
        uniq = pd.Index(pd.unique(pd.Index(list(samples), dtype=object)), dtype=object)
    sample_codes = uniq.get_indexer(sub[sample_column])
    if (sample_codes < 0).any():
        missing = sub[sample_column].to_numpy()[sample_codes < 0][0]
        raise FormatError(f"MAF sample {missing!r} is not among the expected samples")
    matrix = np.zeros((len(uniq), len(genes)), dtype=np.float64)
    matrix[sample_codes, gene_codes] = 1.0
    if samples is not None and len(uniq) != len(samples):
        matrix = matrix[uniq.get_indexer(pd.Index(list(samples), dtype=object))]
    var = pd.DataFrame(index=pd.Index(np.asarray(genes, dtype=object).astype(str), name=None))
    for col, name in (("Entrez_Gene_Id", "entrez"), ("Gene", "gene_id")):
        if col in sub:
            first_val = sub.groupby(gene_column, sort=True)[col].first()
            var[name] = first_val.reindex(genes).to_numpy().astype(object)
    var["n_mutated"] = matrix.sum(axis=0)
    return matrix, var.index, var


def mutation_matrix(
    maf: pd.DataFrame,
    *,
    samples: Sequence[str] | None = None,
    sample_column: str = "Tumor_Sample_Barcode",
    gene_column: str = "Hugo_Symbol",
    variant_classes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Gene × sample presence of protein-altering mutations, as a samples × genes 0/1 table.

    Parameters
    ----------
    maf
        The long MAF table (GDC masked MAF, cBioPortal ``data_mutations.txt``, or ``mod["mut"].uns["maf"]``).
    samples
        The samples that were sequenced (rows of the result, all-zero where a sample has no qualifying
        variant). Default: the samples that appear in ``maf``.
    sample_column, gene_column
        Columns naming the sample and the gene.
    variant_classes
        ``Variant_Classification`` values that count (default :data:`PROTEIN_ALTERING`: Missense, Nonsense,
        Frame_Shift_Del/Ins, In_Frame_Del/Ins, Splice_Site, Translation_Start_Site, Nonstop). Silent, UTR,
        Intron, Flank, IGR, RNA and Splice_Region never count by default.

    Returns
    -------
    DataFrame (int8) indexed by sample, one column per gene with at least one qualifying variant.
    """
    for col in (sample_column, gene_column, "Variant_Classification"):
        if col not in maf.columns:
            raise FormatError(
                f"the MAF table lacks column {col!r}; expected {sample_column}, {gene_column} and "
                "Variant_Classification"
            )
    matrix, genes, _ = mutation_arrays(
        maf,
        sample_column=sample_column,
        gene_column=gene_column,
        samples=samples,
        variant_classes=tuple(variant_classes or PROTEIN_ALTERING),
    )
    index = pd.Index(list(samples) if samples is not None else pd.unique(maf[sample_column]), dtype=object)
    return pd.DataFrame(matrix.astype(np.int8), index=index, columns=genes)


# ---------------------------------------------------------------------------------------------------------------
# protein changes, for rules that name a residue (PIK3CA H1047R, ESR1 D538G, ...)
# ---------------------------------------------------------------------------------------------------------------
PROTEIN_CHANGE_COLUMNS = (
    "protein_change",
    "HGVSp_Short",
    "Protein_Change",
    "amino_acid_change_WU",
    "amino_acid_change",
    "HGVSp",
)
"""Where MAFs write the protein change, in the order looked at (the readers' ``protein_change`` first)."""

_THREE_TO_ONE = {
    "Ala": "A",
    "Arg": "R",
    "Asn": "N",
    "Asp": "D",
    "Cys": "C",
    "Gln": "Q",
    "Glu": "E",
    "Gly": "G",
    "His": "H",
    "Ile": "I",
    "Leu": "L",
    "Lys": "K",
    "Met": "M",
    "Phe": "F",
    "Pro": "P",
    "Ser": "S",
    "Thr": "T",
    "Trp": "W",
    "Tyr": "Y",
    "Val": "V",
    "Sec": "U",
    "Ter": "*",
}
_THREE_LETTER = "|".join(_THREE_TO_ONE)


def normalize_protein_change(values: pd.Series | Sequence[str]) -> pd.Series:
    """Protein changes in one-letter form without ``p.``: ``p.His1047Arg``, ``p.H1047R``, ``H1047R`` → ``H1047R``.

    HGVS three-letter residues (``Ter`` → ``*``) become one-letter codes; ``fs*12``-style frame-shift tails and
    parentheses are kept as written apart from the residue codes. Empty, ``.``, ``NA`` and ``NULL`` give NA.
    """
    text = pd.Series(values, dtype=object).astype("string").str.strip()
    text = text.mask(text.isin(["", ".", "NA", "NULL", "nan", "None"]))
    text = text.str.replace(r"^p\.", "", regex=True).str.replace(r"[()]", "", regex=True)
    return text.str.replace(_THREE_LETTER, lambda m: _THREE_TO_ONE[m.group(0)], regex=True)


def protein_changes(maf: pd.DataFrame) -> pd.Series:
    """Each MAF row's protein change, normalised (:func:`normalize_protein_change`); NA where no column has one.

    A row without a value in the first column of :data:`PROTEIN_CHANGE_COLUMNS` takes the next column's.
    """
    change = pd.Series(pd.NA, index=maf.index, dtype="string")
    for column in PROTEIN_CHANGE_COLUMNS:
        if column in maf:
            change = change.fillna(normalize_protein_change(maf[column].to_numpy()).set_axis(maf.index))
    return change
