"""Reader for a MAF (Mutation Annotation Format) file that names its own samples: GDC, legacy TCGA, Firehose."""

from __future__ import annotations

import logging
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .. import _keys
from . import _parsers as P
from ._build import Block, Report, assemble, read_input, uns_table

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)


def read_maf(
    path: str | PathLike,
    *,
    sample_types: str | tuple[str, ...] | None = "primary",
    columns: str | tuple[str, ...] = "key",
    keep_all_aliquots: bool = False,
) -> md.MuData:
    """Read a MAF whose ``Tumor_Sample_Barcode`` names each variant's sample, without a sample sheet.

    Reads GDC masked MAFs, cBioPortal ``data_mutations`` files and legacy TCGA MAFs (no ``#version`` line;
    12-, 15/16- or 28-character barcodes; few columns, e.g. maftools' examples or Firehose's
    ``Mutation_Packager_Calls``). One aliquot per sample is chosen as everywhere else (vial A before B, DNA
    analyte D before G/W/X, then the highest barcode: :func:`harmonomics.barcodes.choose_aliquots`); every
    aliquot not chosen gets a report row.

    Parameters
    ----------
    path
        The MAF (plain or gzip-compressed). Leading ``#`` lines are skipped.
    sample_types
        Sample-type policy, as in :func:`harmonomics.io.read_gdc` (default ``"primary"``: type 01). Patient-level
        barcodes (12 characters) carry no sample type and are kept.
    columns
        Columns kept in the long table: ``"key"`` (default; the key MAF columns present, including
        ``NCBI_Build`` and the protein change: ``HGVSp_Short``, ``Protein_Change`` or ``amino_acid_change_WU``),
        ``"all"``, or a tuple of names.
    keep_all_aliquots
        Keep every tumour aliquot as its own row instead of choosing one per sample.

    Returns
    -------
    MuData with one modality ``mut``: samples × genes 0/1 of protein-altering variants (Missense, Nonsense,
    frame shifts, in-frame indels, splice site, translation start, nonstop), ``var`` with ``n_mutated`` (and
    ``entrez``/``gene_id`` when the file has them). ``mod["mut"].obs``: ``aliquot``, ``source_file`` and
    ``matched_normal`` (``Matched_Norm_Sample_Barcode``, when present; a tumour called against two normals lists
    both, comma-separated). ``mod["mut"].uns["maf"]``: the long
    table of every variant of the chosen aliquots, with ``sample`` and ``aliquot`` columns and a
    ``protein_change`` column taken from the first protein-change column present. ``mod["mut"].uns["build"]``:
    the genome build from ``NCBI_Build`` (``GRCh37``/``GRCh38``), when the file says; it is also recorded per
    file in the provenance.

    Raises
    ------
    FormatError
        A required column (``Hugo_Symbol``, ``Variant_Classification``, ``Tumor_Sample_Barcode``) is missing (the
        message names them and the header line), or a barcode cell is empty.
    EmptyInputError
        The file is empty or holds only a header (no variant names a sample).
    """
    from .._errors import EmptyInputError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    md5, size, data = read_input(path)
    maf, _comments = P.parse_maf(path, columns=columns, data=data)
    if maf.empty:
        raise EmptyInputError("the MAF holds a header and no variant: no sample can be read from it", path=path)
    report = Report()
    maf["aliquot"] = maf["Tumor_Sample_Barcode"].astype(str).str.strip().to_numpy()
    maf["source_file"] = path.name
    build = maf_build(maf, path, report)
    block = mut_block(maf, report=report)
    mdata = assemble(
        [block],
        report=report,
        reader="harmonomics.io.read_maf",
        files=[{"path": str(path), "md5": md5, "size": int(size), "format": "maf", "build": build or ""}],
        parameters={"path": str(path), "columns": columns if isinstance(columns, str) else list(columns)},
        sample_types=sample_types,
        join="union",
        keep_all_aliquots=keep_all_aliquots,
    )
    finish_mut(mdata)
    if build is not None:
        mdata.mod[_keys.MUT].uns["build"] = build
    return mdata


def maf_build(maf: pd.DataFrame, path, report: Report) -> str | None:
    """The genome build a MAF's ``NCBI_Build`` column gives (``GRCh37``/``GRCh38``), reported; None when absent."""
    from .._annotation import normalize_build
    from .._errors import FormatError

    if "NCBI_Build" not in maf:
        report.add("file", str(path), _keys.MUT, "", "kept", "no NCBI_Build column: the genome build is not recorded")
        return None
    written = [str(v).strip() for v in pd.unique(maf["NCBI_Build"].dropna()) if str(v).strip() not in ("", "NA")]
    try:
        builds = sorted({normalize_build(v) for v in written})
    except ValueError as err:
        raise FormatError(f"{err} in NCBI_Build", path=path, column="NCBI_Build") from None
    if len(builds) > 1:
        raise FormatError(
            f"NCBI_Build mixes the genome builds {builds}; expected one build per MAF", path=path, column="NCBI_Build"
        )
    if not builds:
        return None
    report.add("file", str(path), _keys.MUT, "", "kept", f"genome build {builds[0]} (NCBI_Build {written[0]!r})")
    return builds[0]


def add_protein_change(maf: pd.DataFrame) -> pd.DataFrame:
    """A ``protein_change`` column from the first of :data:`~harmonomics.io._parsers.PROTEIN_CHANGE_COLUMNS`."""
    present = [c for c in P.PROTEIN_CHANGE_COLUMNS if c in maf]
    if not present or "protein_change" in maf:
        return maf
    change = pd.Series(None, index=maf.index, dtype=object)
    for column in present:  # a row without the first column's value takes the next one's
        values = maf[column].astype(object)
        values = values.where(values.notna() & ~values.isin(["", ".", "NA", "NULL"]))
        change = change.where(change.notna(), values)
    maf["protein_change"] = change.to_numpy()
    return maf


def mut_block(
    maf: pd.DataFrame,
    *,
    report: Report,
    ids: list[str] | None = None,
    files: list[str] | None = None,
    normals: list[str] | None = None,
) -> Block:
    """The mutation Block of a long MAF table with ``aliquot`` and ``source_file`` columns.

    Rows are ``ids`` (default: the distinct aliquots; a listed aliquot without variants is a row of zeros), from
    ``files``. ``obs["matched_normal"]`` holds ``normals`` or, by default, each aliquot's
    ``Matched_Norm_Sample_Barcode``.
    """
    from .._mutations import mutation_arrays

    maf = add_protein_change(maf)
    if ids is None:
        ids = [str(a) for a in pd.unique(maf["aliquot"].astype(str))]
        first = maf.drop_duplicates("aliquot").set_index("aliquot")["source_file"]
        files = [str(first.at[a]) for a in ids]
    files = files if files is not None else [""] * len(ids)
    if normals is None and "Matched_Norm_Sample_Barcode" in maf:
        written = maf[["aliquot", "Matched_Norm_Sample_Barcode"]].dropna()
        written = written[written["Matched_Norm_Sample_Barcode"].astype(str).str.strip() != ""]
        # a tumour called against two normals (e.g. blood 10A and tissue 11A) lists both, in order of appearance
        normal_of = (
            written.assign(normal=written["Matched_Norm_Sample_Barcode"].astype(str).str.strip())
            .groupby("aliquot", sort=False)["normal"]
            .agg(lambda x: ", ".join(dict.fromkeys(x)))
            .to_dict()
        )
        normals = [normal_of.get(a, "") for a in ids]
    obs = pd.DataFrame({"matched_normal": normals}) if normals is not None and any(normals) else None
    matrix, _, var = mutation_arrays(maf, sample_column="aliquot", samples=ids)
    for column in var.columns:  # h5mu cannot write an object column holding None (e.g. a blank Entrez_Gene_Id)
        if var[column].dtype == object:
            var[column] = var[column].where(var[column].notna(), "").astype(str)
    counts = maf["aliquot"].value_counts() if len(maf) else pd.Series(dtype=int)
    for k, (aliquot, file) in enumerate(zip(ids, files, strict=True)):
        normal = normals[k] if normals is not None else ""
        pair = f"; matched normal {normal} (obs['matched_normal'], never a sample of its own)" if normal else ""
        report.add(
            "aliquot",
            aliquot,
            _keys.MUT,
            "",
            "kept",
            f"MAF rows of tumour aliquot {aliquot} in {file}: {int(counts.get(aliquot, 0))} variants{pair}",
        )
    return Block(
        omic=_keys.MUT,
        ids=list(ids),
        source_files=list(files),
        values=matrix,
        var=var,
        obs=obs,
        uns={"maf": maf},
        analyte_kind="dna",
    )


def finish_mut(mdata) -> None:
    """Keep only the chosen aliquots' rows in the long MAF table and add the sample key."""
    if _keys.MUT not in mdata.mod:
        return
    mut = mdata.mod[_keys.MUT]
    maf = mut.uns.get("maf")
    if maf is None or not isinstance(maf, pd.DataFrame) or "aliquot" not in maf:
        return
    to_sample = pd.Series(mut.obs_names.to_numpy(), index=mut.obs["aliquot"].to_numpy())
    maf = maf[maf["aliquot"].isin(to_sample.index)].copy()
    maf.insert(0, "sample", maf["aliquot"].map(to_sample).to_numpy())
    mut.uns["maf"] = uns_table(maf.reset_index(drop=True))
    if "n_mutated" in mut.var:  # counted before the aliquot choice: count the kept samples only
        import numpy as np

        mut.var["n_mutated"] = np.asarray(mut.X.sum(axis=0)).ravel()


__all__ = ["read_maf"]
