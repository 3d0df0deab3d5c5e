"""Gene coordinates shipped with the package, one table per genome build.

Segments become gene-level copy number only through coordinates of the *same* build: TCGA legacy and Firehose
segments are on hg19 (GRCh37), GDC's current files on GRCh38. :func:`normalize_build` turns the many spellings
of a build into one of :data:`BUILDS`, and :func:`gene_coordinates` returns the bundled table for it. Both tables
are copied from ``shared/data/annotation`` (see ``data/PROVENANCE.md``).
"""

from __future__ import annotations

import gzip
from functools import lru_cache

import pandas as pd

from ._errors import FormatError

BUILDS = ("GRCh37", "GRCh38")

_BUILD_ALIASES = {
    "grch37": "GRCh37",
    "hg19": "GRCh37",
    "37": "GRCh37",
    "b37": "GRCh37",
    "hs37d5": "GRCh37",
    "grch38": "GRCh38",
    "hg38": "GRCh38",
    "38": "GRCh38",
    "b38": "GRCh38",
}

# per build: file in data/annotation, its column names → ours, and where it comes from
_SOURCES = {
    "GRCh37": (
        "genes_hg19_grch37_ensembl.tsv.gz",
        {"gene_id": "gene_id", "gene_name": "gene_name", "chromosome": "chromosome", "start": "start", "end": "end"},
        "Ensembl 75 (GRCh37) via TCGAbiolinksGUI.data",
    ),
    "GRCh38": (
        "gencode.v36.annotation.gtf.gene.probemap.gz",
        {"id": "gene_id", "gene": "gene_name", "chrom": "chromosome", "chromStart": "start", "chromEnd": "end"},
        "GENCODE v36 (GRCh38) via xena-GDC-ETL",
    ),
}


def normalize_build(name: object) -> str | None:
    """``"hg19"``, ``"GRCh37"``, ``"37"``, ``"GRCh37-lite"`` … → ``"GRCh37"``; likewise for GRCh38.

    Returns ``None`` for an empty or missing value; raises :class:`ValueError` for a build that is neither.
    """
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return None
    text = str(name).strip()
    if not text:
        return None
    key = text.lower().replace("_", "").replace("-lite", "").replace(".p13", "")
    key = key.split(".")[0] if key.startswith(("grch", "hg")) else key
    if key in _BUILD_ALIASES:
        return _BUILD_ALIASES[key]
    raise ValueError(f"unknown genome build {text!r}; expected one of hg19/GRCh37 or hg38/GRCh38")


@lru_cache(maxsize=2)
def _read(build: str) -> pd.DataFrame:
    from .data import path

    filename, columns, _ = _SOURCES[build]
    with gzip.open(path("annotation", filename), "rt") as handle:
        table = pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False)
    table = table.rename(columns=columns)[list(columns.values())]
    table["start"] = table["start"].astype("int64")
    table["end"] = table["end"].astype("int64")
    return table


def gene_coordinates(build: str, *, id_type: str = "ensembl") -> pd.DataFrame:
    """The bundled gene coordinates of one genome build.

    Parameters
    ----------
    build
        ``"GRCh37"``/``"hg19"`` (Ensembl 75) or ``"GRCh38"``/``"hg38"`` (GENCODE v36, what GDC uses).
    id_type
        ``"ensembl"``: indexed by Ensembl gene ID, unversioned (GENCODE's ``_PAR_Y`` copies keep their suffix);
        ``"symbol"``: indexed by gene symbol, keeping the first gene of a symbol listed twice.

    Returns
    -------
    DataFrame with columns ``chromosome`` (as in the file, ``chr``-prefixed), ``start``, ``end`` (1-based,
    inclusive), ``gene_name`` (or ``gene_id`` when indexed by symbol) and ``build``; ready for
    :func:`harmonomics.pp.segments_to_genes`.
    """
    canonical = normalize_build(build)
    if canonical is None:
        raise ValueError("a genome build is needed: 'GRCh37' (hg19) or 'GRCh38' (hg38)")
    table = _read(canonical).copy()
    # GENCODE writes versioned IDs (ENSG….5, ENSG….14_PAR_Y); Ensembl 75 unversioned ones
    table["gene_id"] = table["gene_id"].str.replace(r"\.\d+(?=$|_PAR_Y$)", "", regex=True)
    if id_type == "ensembl":
        out = table.set_index("gene_id")
    elif id_type == "symbol":
        out = table.drop_duplicates("gene_name").set_index("gene_name")
    else:
        raise ValueError(f"id_type must be 'ensembl' or 'symbol', not {id_type!r}")
    if not out.index.is_unique:  # a shipped table that is broken is our bug, said plainly
        raise FormatError(f"bundled {canonical} coordinates list a gene twice: {out.index[out.index.duplicated()][0]}")
    out.index.name = None
    out["build"] = canonical
    return out


def gene_symbols() -> frozenset[str]:
    """Every gene symbol of both shipped annotations (GENCODE v36 and Ensembl 75): a vocabulary of gene names."""
    return frozenset(_read("GRCh38")["gene_name"]) | frozenset(_read("GRCh37")["gene_name"])
