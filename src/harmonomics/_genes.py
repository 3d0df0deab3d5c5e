"""Gene identifiers: parse the forms public files use and match them to gene symbols.

Public expression files name genes in several ways:

* versioned or plain Ensembl IDs (``ENSG00000000003.15``, ``ENSG00000000003``, ``ENSG00000002586.20_PAR_Y``);
* ``SYMBOL|ENTREZ`` (Firehose, TCGAbiolinks: ``TSPAN6|7105``, ``?|100133144`` for unnamed genes);
* plain HGNC symbols, sometimes legacy ones (``KNTC2`` for ``NDC80``, ``ORC6L`` for ``ORC6``).

:func:`parse_gene_ids` splits any of these into symbol / Ensembl / Entrez columns and
:func:`match_symbols` finds a set of wanted genes in a cohort, using a symbol column of
``var`` when the index holds Ensembl IDs and the alias table shipped with the package.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

_ENSEMBL = re.compile(r"^(ENS[A-Z]*G\d{11})(?:\.\d+)?(_PAR_Y)?$")
_SYMBOL_ENTREZ = re.compile(r"^([^|]*)\|(\d+)$")

# var columns that readers use for gene symbols, in order of preference
SYMBOL_COLUMNS = ("gene_symbol", "gene_name", "Hugo_Symbol", "symbol")


def strip_ensembl_version(ids: Iterable[str]) -> pd.Index:
    """Remove the ``.N`` version (keeping a ``_PAR_Y`` suffix) from Ensembl gene IDs; other IDs pass unchanged."""
    index = pd.Index(ids, dtype=object).astype(str)
    return pd.Index(index.str.replace(r"^(ENS[A-Z]*G\d{11})\.\d+", r"\1", regex=True), dtype=object)


def parse_gene_ids(ids: Iterable[str]) -> pd.DataFrame:
    """Split gene identifiers into symbol, unversioned Ensembl ID and Entrez ID.

    Parameters
    ----------
    ids
        Gene identifiers in any mix of the supported forms.

    Returns
    -------
    DataFrame indexed by the original identifiers with columns ``symbol``, ``ensembl``, ``entrez``,
    ``par_y`` (bool) and ``id_type`` (``"ensembl"``, ``"symbol|entrez"`` or ``"symbol"``). Missing parts are None.
    """
    ids = pd.Index(ids, dtype=object).astype(str)
    symbol = pd.Series(None, index=ids, dtype=object)
    ensembl = pd.Series(None, index=ids, dtype=object)
    entrez = pd.Series(None, index=ids, dtype=object)
    id_type = pd.Series("symbol", index=ids, dtype=object)

    ens = ids.str.extract(_ENSEMBL.pattern)
    is_ens = ens[0].notna().to_numpy()
    ensembl[is_ens] = ens[0][is_ens].to_numpy()
    par_y = ens[1].notna().to_numpy()
    id_type[is_ens] = "ensembl"

    se = ids.str.extract(_SYMBOL_ENTREZ.pattern)
    is_se = se[1].notna().to_numpy() & ~is_ens
    sym = se[0].where(~se[0].isin(["", "?"]), None)
    symbol[is_se] = sym[is_se].to_numpy()
    entrez[is_se] = se[1][is_se].to_numpy()
    id_type[is_se] = "symbol|entrez"

    plain = ~is_ens & ~is_se
    symbol[plain] = np.asarray(ids)[plain]
    return pd.DataFrame(
        {
            "symbol": symbol.to_numpy(),
            "ensembl": ensembl.to_numpy(),
            "entrez": entrez.to_numpy(),
            "par_y": par_y,
            "id_type": id_type.to_numpy(),
        },
        index=ids,
    )


@lru_cache(maxsize=1)
def alias_table() -> dict[str, str]:
    """Legacy/alternative symbol -> current HGNC symbol for the genes harmonomics scores.

    Built from the tables shipped in ``harmonomics/data`` (PAM50 legacy names, ESTIMATE original
    symbols, Danaher current symbols) plus the three PAM50 renames that appear in older data.
    """
    from . import data

    aliases = {"KNTC2": "NDC80", "CDCA1": "NUF2", "ORC6L": "ORC6"}
    pam50 = pd.read_csv(data.path("signatures", "pam50_genes.tsv"), sep="\t", dtype=str)
    for old, new in zip(pam50["legacy_symbol_in_parker_files"], pam50["gene_name"], strict=True):
        if isinstance(old, str) and old != new:
            aliases[old] = new
    estimate = pd.read_csv(data.path("signatures", "estimate_SI_geneset_yoshihara2013.tsv"), sep="\t", dtype=str)
    for old, new in zip(estimate["gene_original"], estimate["gene_hgnc_tidyestimate"], strict=True):
        if isinstance(old, str) and isinstance(new, str) and old != new:
            aliases[old] = new
    danaher = pd.read_csv(data.path("signatures", "danaher2017_immune_cell_markers.tsv"), sep="\t", dtype=str)
    for old, new in zip(danaher["gene"], danaher["current_hgnc"], strict=True):
        if isinstance(old, str) and isinstance(new, str) and old != new:
            aliases[old] = new
    return aliases


@lru_cache(maxsize=1)
def known_ensembl_to_symbol() -> dict[str, str]:
    """Ensembl gene ID -> symbol for the genes whose IDs ship with the package (PAM50, MCP-counter)."""
    from . import data

    mapping: dict[str, str] = {}
    pam50 = pd.read_csv(data.path("signatures", "pam50_genes.tsv"), sep="\t", dtype=str)
    mapping.update(zip(pam50["gene_id"], pam50["gene_name"], strict=True))
    mcp = pd.read_csv(data.path("signatures", "mcpcounter_genes.txt"), sep="\t", dtype=str)
    for ens, sym in zip(mcp["ENSEMBL ID"], mcp["HUGO symbols"], strict=True):
        if isinstance(ens, str) and isinstance(sym, str):
            mapping.setdefault(ens, sym)
    return mapping


def symbols_for(var_names: Iterable[str], var: pd.DataFrame | None = None) -> pd.Series:
    """Best-known current symbol for every feature (None where unknown), indexed like ``var_names``.

    The symbol comes from, in order: a symbol column of ``var`` (see :data:`SYMBOL_COLUMNS`), the
    ``SYMBOL|ENTREZ`` form of the ID, the ID itself when it is a plain symbol, and the shipped
    Ensembl table for Ensembl IDs. Legacy symbols are translated with :func:`alias_table`.
    """
    parsed = parse_gene_ids(var_names)
    symbols = parsed["symbol"].copy()
    if var is not None:
        for column in SYMBOL_COLUMNS:
            if column in var.columns:
                from_var = pd.Series(var[column].astype(object).to_numpy(), index=parsed.index)
                symbols = from_var.where(from_var.notna() & (from_var.astype(str) != ""), symbols)
                break
    need = symbols.isna() & parsed["ensembl"].notna()
    if need.any():
        symbols[need] = parsed.loc[need, "ensembl"].map(known_ensembl_to_symbol()).to_numpy()
    aliases = alias_table()
    return symbols.map(lambda s: aliases.get(s, s) if isinstance(s, str) else None)


def match_symbols(
    wanted: Iterable[str],
    var_names: Iterable[str],
    var: pd.DataFrame | None = None,
    *,
    extra_aliases: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Find wanted gene symbols among a cohort's features.

    Parameters
    ----------
    wanted
        Current HGNC symbols to look for.
    var_names
        The cohort's feature IDs (any supported form).
    var
        The cohort's ``var`` table, used for a symbol column when IDs are Ensembl.
    extra_aliases
        More ``old -> current`` renames to apply to the cohort's symbols.

    Returns
    -------
    ``{wanted symbol: feature ID}`` for the genes found. When several features map to one
    symbol, the first one in ``var_names`` order is used.
    """
    var_names = pd.Index(var_names, dtype=object).astype(str)
    symbols = symbols_for(var_names, var)
    if extra_aliases:
        symbols = symbols.map(lambda s: extra_aliases.get(s, s) if isinstance(s, str) else None)
    wanted_set = set(wanted)
    found: dict[str, str] = {}
    for feature, symbol in zip(var_names, symbols.to_numpy(), strict=True):
        if symbol in wanted_set and symbol not in found:
            found[symbol] = feature
    return found


# --------------------------------------------------------------------------- recognising feature IDs
# Each rule names one kind of feature ID that public tables use for rows or columns.
_FEATURE_PATTERNS = {
    "ensembl": r"^ENS[A-Z]*[GT]\d{11}(?:\.\d+)?(?:_PAR_Y)?$",
    "symbol|entrez": r"^[^|]*\|\d+$",
    "mirna": r"^(?:[a-z]{3}-)?(?:miR|mir|let|MIR)-?\d*[a-z]?(?:-\d+)?(?:-[35]p)?(?:[-.]\d+)?$|^MIMAT\d{7}$|^MI\d{7}$",
    "cpg probe": r"^cg\d{8}$|^ch\.[0-9XY]{1,2}\.\d+[FR]?$|^rs\d+$",
    "array probe": r"^ILMN_\d+$|^\d+(?:_[a-z]+)*_at$|^A_\d+_P\d+$",
}
# RPPA antibody names (MD Anderson's naming, as TCGA, TCPA and Firehose write it): a protein name, optional
# phospho-sites (``_pS473``, ``_pT37_T46``), an optional source/validation suffix (``-R-V``), built of letters and
# digits joined by ``-`` or ``_``. The grammar alone would also fit free-form sample IDs, so a name counts as an
# antibody only with some evidence: a site, a suffix, an isoform or modification word, a protein-family form,
# or a protein name that is a gene symbol.
_ANTIBODY_GRAMMAR = re.compile(r"^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$")
_ANTIBODY_SITE = re.compile(r"[_-]p[STY]\d+")
_ANTIBODY_SUFFIX = re.compile(r"-[RMG]-[VCEQ]$")
_ANTIBODY_WORD = re.compile(
    r"(?:^|[-_])(?:alpha|beta|gamma|delta|epsilon|zeta|kappa|pan|cleaved\w*|total|acetyl"
    r"|Lys\d+|INK4a|MAPK)(?=$|[-_])",
    re.IGNORECASE,
)
_ANTIBODY_FAMILY = re.compile(r"^(?:[cpe]-?[A-Z][A-Za-z0-9]*|p\d+[A-Za-z0-9]*|\d+-\d+-\d+|CD\d+[A-Za-z]?)(?=$|[-_])")
# cBioPortal's RPPA rows: gene symbol(s), a bar, the antibody (``ACACA ACACB|ACC_pS79``)
_GENES_ANTIBODY = re.compile(r"^[A-Za-z0-9-]+(?: [A-Za-z0-9-]+)*\|[A-Za-z0-9_.-]+$")


@lru_cache(maxsize=1)
def symbol_vocabulary() -> frozenset[str]:
    """Gene symbols known to the package, upper case: both shipped annotations plus the legacy aliases."""
    from ._annotation import gene_symbols

    return frozenset(s.upper() for s in gene_symbols()) | frozenset(s.upper() for s in alias_table())


def _is_symbol(ids: pd.Series) -> np.ndarray:
    """Gene symbols as written, or as R's make.names writes them (``HLA.A``, ``X7SK``)."""
    vocab = symbol_vocabulary()
    upper = ids.str.upper()
    known = upper.isin(vocab).to_numpy(dtype=bool)
    mangled = ~known & upper.str.contains(r"^X\d|\.", regex=True).to_numpy(dtype=bool)
    if mangled.any():
        unmangled = upper[mangled].str.replace(r"^X(?=\d)", "", regex=True).str.replace(".", "-", regex=False)
        known[mangled] = unmangled.isin(vocab).to_numpy(dtype=bool)
    return known


def _is_antibody(ids: pd.Series) -> np.ndarray:
    vocab = symbol_vocabulary()
    grammar = ids.str.match(_ANTIBODY_GRAMMAR.pattern).to_numpy(dtype=bool)
    marked = (
        ids.str.contains(_ANTIBODY_SITE.pattern, regex=True)
        | ids.str.contains(_ANTIBODY_SUFFIX.pattern, regex=True)
        | ids.str.contains(_ANTIBODY_WORD.pattern, regex=True, flags=re.IGNORECASE)
        | ids.str.match(_ANTIBODY_FAMILY.pattern)
    ).to_numpy(dtype=bool)
    # the protein name (before the first "_" and any suffix) as a gene symbol: AR, Bcl-2 → BCL2, FOXO3a → FOXO3
    protein = ids.str.replace(_ANTIBODY_SUFFIX.pattern, "", regex=True).str.split("_").str[0].str.upper()
    for candidate in (protein, protein.str.replace("-", "", regex=False), protein.str.replace(r"A$", "", regex=True)):
        marked |= candidate.isin(vocab).to_numpy(dtype=bool)
    return grammar & marked


def feature_id_kinds(ids: Iterable[str]) -> np.ndarray:
    """The kind of each feature ID, or ``""`` when it is not recognised.

    Kinds: ``ensembl`` (versioned or not), ``symbol|entrez`` (``TP53|7157``, ``?|100130426``), ``mirna``
    (``hsa-miR-21-5p``, ``hsa-let-7a``, ``MIMAT0000062``), ``cpg probe`` (``cg00000029``, ``ch.2.5555R``),
    ``array probe`` (Illumina, Affymetrix, Agilent), ``gene symbol`` (any symbol of the shipped GENCODE v36 and
    Ensembl 75 annotations or a legacy alias, as written or R-mangled), ``genes|antibody`` (cBioPortal RPPA rows)
    and ``antibody`` (RPPA antibody names: ``AKT_pS473``, ``14-3-3_epsilon``, ``ER-alpha``, ``Akt_pS473-R-V``).
    """
    text = pd.Series(pd.Index(ids, dtype=object).astype(str), dtype=object).str.strip().str.strip('"')
    kinds = np.full(len(text), "", dtype=object)
    if not len(text):
        return kinds
    for kind, pattern in _FEATURE_PATTERNS.items():
        todo = kinds == ""
        kinds[todo & text.str.match(pattern).to_numpy(dtype=bool)] = kind
    todo = kinds == ""
    if todo.any():
        rest = text[todo]
        kinds[np.flatnonzero(todo)[_is_symbol(rest)]] = "gene symbol"
    todo = kinds == ""
    if todo.any():
        kinds[todo & text.str.match(_GENES_ANTIBODY.pattern).to_numpy(dtype=bool)] = "genes|antibody"
    todo = kinds == ""
    if todo.any():
        kinds[np.flatnonzero(todo)[_is_antibody(text[todo])]] = "antibody"
    return kinds
