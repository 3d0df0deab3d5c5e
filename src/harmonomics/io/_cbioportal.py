"""Reader for a cBioPortal study folder, driven by its ``meta_*.txt`` files.

Each meta file's ``genetic_alteration_type`` and ``datatype`` (or ``generic_assay_type``, ``resource_type``) say
what its data file holds; :data:`META_KINDS` maps them to what the reader does: read into a modality, or list
the file in the report as not read, with its type. Nothing a study may hold is fatal for being there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _keys
from .._clinical import pam50_column, survival_from_months
from .._errors import EmptyInputError, FormatError, MixedProjectsError, UnknownFormatError
from .._text import arrow_table, locate_row, open_text, require_columns
from . import _cbioportal_panels as _panels
from . import _parsers as P
from ._build import Block, Report, assemble, feature_names, md5_and_bytes, read_input, uns_table
from ._detect import FORMATS, detect_bytes

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)

_ANNOTATION_COLUMNS = {
    "Hugo_Symbol",
    "Entrez_Gene_Id",
    "Composite.Element.REF",
    "ENTITY_STABLE_ID",
    "NAME",
    "DESCRIPTION",
    "URL",
    "TRANSCRIPT_ID",
    "Cytoband",
}

DEFAULT_REFERENCE_GENOME = "hg19"
"""What cBioPortal assumes when ``meta_study.txt`` has no ``reference_genome`` (its File-Formats documentation)."""

SEGMENTS_MODALITY = "cnv_segments"
"""Where gene-level values of a ``.seg`` file go when the study also has gene-level copy-number files."""


@dataclass(frozen=True)
class Kind:
    """What the reader does with one type of cBioPortal data file."""

    handler: str | None  # key of _HANDLERS, or None: listed in the report as not read
    description: str
    omic: str | None = None
    role: str = ""  # copy number: "log2" or "gistic"


def _not_read(description: str) -> Kind:
    return Kind(None, description)


# (genetic_alteration_type, datatype) → what is done; cBioPortal's File-Formats documentation lists the pairs
META_KINDS: dict[tuple[str, str], Kind] = {
    ("CLINICAL", "PATIENT_ATTRIBUTES"): Kind("clinical", "clinical patient attributes"),
    ("CLINICAL", "SAMPLE_ATTRIBUTES"): Kind("clinical", "clinical sample attributes"),
    ("CLINICAL", "MIXED_ATTRIBUTES"): Kind("clinical", "clinical attributes"),
    ("CLINICAL", "TIMELINE"): _not_read("timeline (clinical events)"),
    ("MRNA_EXPRESSION", "CONTINUOUS"): Kind("matrix", "mRNA expression", _keys.RNA),
    ("MRNA_EXPRESSION", "Z-SCORE"): _not_read("mRNA z-scores (derived from an expression file)"),
    ("MRNA_EXPRESSION", "DISCRETE"): _not_read("mRNA outlier calls"),
    ("COPY_NUMBER_ALTERATION", "DISCRETE"): Kind(
        "matrix", "discrete copy number (GISTIC), matrix", _keys.CNV, "gistic"
    ),
    ("COPY_NUMBER_ALTERATION", "DISCRETE_LONG"): Kind(
        "cna_long", "discrete copy number (GISTIC), long format", _keys.CNV, "gistic"
    ),
    ("COPY_NUMBER_ALTERATION", "LOG2-VALUE"): Kind("matrix", "log2 copy number", _keys.CNV, "log2"),
    ("COPY_NUMBER_ALTERATION", "CONTINUOUS"): Kind("matrix", "continuous copy number", _keys.CNV, "log2"),
    ("COPY_NUMBER_ALTERATION", "SEG"): Kind("segments", "copy-number segments (.seg)", _keys.CNV, "segments"),
    ("COPY_NUMBER_ALTERATION", "Z-SCORE"): _not_read("copy-number z-scores"),
    ("METHYLATION", "CONTINUOUS"): Kind("matrix", "methylation (beta values)", _keys.METH),
    ("PROTEIN_LEVEL", "LOG2-VALUE"): Kind("matrix", "protein level (RPPA)", _keys.PROT),
    ("PROTEIN_LEVEL", "CONTINUOUS"): Kind("matrix", "protein level (RPPA)", _keys.PROT),
    ("PROTEIN_LEVEL", "Z-SCORE"): _not_read("protein-level z-scores"),
    ("PROTEIN_ARRAY_PROTEIN_LEVEL", "LOG2-VALUE"): Kind("matrix", "protein level (RPPA)", _keys.PROT),
    ("MUTATION_EXTENDED", "MAF"): Kind("maf", "mutations (MAF)", _keys.MUT),
    ("MUTATION_UNCALLED", "MAF"): _not_read("uncalled mutations (MAF)"),
    ("STRUCTURAL_VARIANT", "SV"): _not_read("structural variants"),
    ("STRUCTURAL_VARIANT", "FUSION"): _not_read("structural variants (fusions)"),
    ("FUSION", "FUSION"): _not_read("fusions"),
    ("GENE_PANEL_MATRIX", "GENE_PANEL_MATRIX"): Kind("gene_panel_matrix", "gene panel matrix"),
    ("GENESET_SCORE", "GSVA-SCORE"): _not_read("GSVA scores"),
    ("GENESET_SCORE", "P-VALUE"): _not_read("GSVA p-values"),
    ("GISTIC_GENES_AMP", "Q-VALUE"): _not_read("GISTIC genes (amplified peaks)"),
    ("GISTIC_GENES_DEL", "Q-VALUE"): _not_read("GISTIC genes (deleted peaks)"),
    ("MUTSIG", "Q-VALUE"): _not_read("MutSig significantly mutated genes"),
    ("CANCER_TYPE", "CANCER_TYPE"): _not_read("cancer type definitions"),
}

# GENERIC_ASSAY files are told apart by generic_assay_type
GENERIC_ASSAY_KINDS: dict[str, Kind] = {
    "METHYLATION": Kind("matrix", "methylation (generic assay)", _keys.METH),
    "TREATMENT_RESPONSE": _not_read("treatment response (e.g. IC50/EC50)"),
    "MUTATIONAL_SIGNATURE": _not_read("mutational signatures"),
    "ARMLEVEL_CNA": _not_read("arm-level copy number"),
}


def kind_of(meta: dict[str, str]) -> Kind:
    """What the reader does with the data file a meta file describes (see :data:`META_KINDS`)."""
    gat = meta.get("genetic_alteration_type", "").strip().upper()
    datatype = meta.get("datatype", "").strip().upper()
    stable_id = meta.get("stable_id", "").lower()
    if not gat and meta.get("resource_type"):
        return _not_read(f"resource links ({meta['resource_type'].strip().lower()})")
    if gat == "GENERIC_ASSAY":
        assay = meta.get("generic_assay_type", "").strip().upper()
        return GENERIC_ASSAY_KINDS.get(assay, _not_read(f"generic assay ({assay or 'no generic_assay_type'})"))
    kind = META_KINDS.get((gat, datatype))
    if kind is None:
        return _not_read(f"unknown type {gat or '?'}/{datatype or '?'}")
    if kind.handler == "matrix" and "zscore" in stable_id:  # a z-score profile declared CONTINUOUS
        return _not_read(f"z-scores (stable_id {meta.get('stable_id')})")
    if kind.omic == _keys.RNA and "mirna" in stable_id:
        return Kind("matrix", "miRNA expression", _keys.MIRNA)
    return kind


@dataclass
class _Study:
    """What the handlers read into, and the provenance of each file."""

    folder: Path
    report: Report
    reference_genome: str
    case_lists: dict[str, tuple[dict, list[str]]]
    maf_columns: Any
    records: list[dict] = field(default_factory=list)
    blocks: dict[str, Block] = field(default_factory=dict)
    cnv_parts: list[tuple[str, str, Block]] = field(default_factory=list)  # (role, file, block)
    patient_clinical: pd.DataFrame | None = None
    sample_clinical: pd.DataFrame | None = None
    panel_matrix: pd.DataFrame | None = None
    panel_matrix_file: str = ""
    panel_definitions: dict[str, _panels.PanelDefinition] = field(default_factory=dict)
    meta_panels: dict[str, str] = field(default_factory=dict)  # profile stable_id → gene_panel: of its meta file
    mutation_profile: str = "mutations"

    def record(self, path: Path, md5: str, size: int, fmt: str, build: str = "") -> None:
        self.records.append({"path": str(path), "md5": md5, "size": int(size), "format": fmt, "build": build})


def read_cbioportal(
    study_folder: str | PathLike,
    *,
    sample_types: str | tuple[str, ...] | None = "primary",
    join: str = "union",
    omics: tuple[str, ...] | None = None,
    cnv: str = "log2",
    maf_columns: str | tuple[str, ...] = "key",
) -> md.MuData:
    """Read a cBioPortal study folder into a harmonized store.

    The ``meta_*.txt`` files say which data file holds what (``genetic_alteration_type``, ``datatype``,
    ``generic_assay_type``, ``stable_id``, ``data_filename``); each data file's content is checked against its
    meta file. Gene panels (the gene panel matrix, panel definitions and ``gene_panel:`` meta properties) say
    which samples were sequenced on which targeted panel: genes off a sample's panel are missing in ``mut``, not
    0 (docs/readers.md, "Gene panels"). Files of a type harmonomics does not read (cancer type, resources,
    generic assays, treatments, GSVA, structural variants, mutational signatures, timelines, z-scores, GISTIC
    genes) and files without a meta file are listed in the report as not read, with their type; none of them
    stops the read.

    Parameters
    ----------
    study_folder
        The study folder (with ``meta_study.txt``, ``meta_*.txt``, ``data_*.txt``, ``case_lists/``).
    sample_types
        Sample-type policy (see :func:`read_gdc`) for TCGA barcodes; other sample IDs are used as they are.
    join
        ``"union"`` or ``"intersection"`` of samples across omics.
    omics
        Restrict to these modalities.
    cnv
        ``"log2"`` (log2 copy number in ``X``, GISTIC in ``layers["gistic"]``) or ``"gistic"`` (the reverse).
    maf_columns
        Columns of the long mutation table kept in ``mod["mut"].uns["maf"]``.

    Returns
    -------
    MuData: rna (as written), mirna, meth (betas), cnv (log2 and GISTIC: discrete matrix or long format), mut (0/1
    protein-altering; samples of ``case_lists/cases_sequenced.txt`` without variants are all-zero rows; NaN for
    genes not on a sample's gene panel; ``obs["gene_panel"]``; ``uns["maf"]``), prot. A ``.seg`` file becomes
    gene-level copy number through the shipped gene coordinates of its own build: modality ``cnv`` when the study
    has no gene-level copy-number file, else ``cnv_segments``. Global obs: patient, sample_type, sample_type_code,
    ``pam50`` (from ``SUBTYPE``), ``os_time`` (days = OS_MONTHS × 30.4375), ``os_event``, ``age``, ``stage`` and the
    other clinical columns. ``uns["harmonomics"]`` (each file with its genome build), ``uns["harmonomics_report"]``
    and, when the study has gene panels, ``uns["gene_panels"]`` (``panels``, ``genes``, ``samples``, ``profiles``
    tables).

    Raises
    ------
    EmptyInputError
        No meta files, or an empty data file.
    FormatError
        A malformed meta or data file (quotation marks included), or a data file whose content disagrees with
        its meta file.
    MixedProjectsError
        Meta files name several ``cancer_study_identifier`` values.
    """
    folder = Path(study_folder)
    parsed_meta, studies = _parsed_metas(folder)
    report = Report()
    study_meta = _study_meta(folder, parsed_meta, report)
    reference = _reference_genome(study_meta, report)
    state = _Study(
        folder=folder,
        report=report,
        reference_genome=reference,
        case_lists=_case_lists(folder),
        maf_columns=maf_columns,
    )
    for mpath, _meta in parsed_meta:
        md5, size, _ = md5_and_bytes(mpath)
        state.record(mpath, md5, size, "cbioportal_meta")
    for cpath in sorted((folder / "case_lists").glob("*.txt")) if (folder / "case_lists").is_dir() else []:
        md5, size, _ = md5_and_bytes(cpath)
        state.record(cpath, md5, size, "cbioportal_case_list")

    wanted = set(omics) if omics is not None else None
    named = _read_data_files(state, parsed_meta, study_meta, wanted, reference)
    tags = study_meta.get("tags_file", "")
    if tags and (folder / tags).is_file():
        md5, size, _ = md5_and_bytes(folder / tags)
        state.record(folder / tags, md5, size, "cbioportal_study_tags")
        report.add("file", tags, "", "", "dropped", "not read: study tags (YAML named by meta_study.txt tags_file)")
    _report_unlisted(folder, named, report, state)
    _apply_gene_panels(state, {m.get("stable_id", "").strip() for _, m in parsed_meta} - {""})

    _combine_cnv(state, cnv)
    if not state.blocks:
        raise EmptyInputError("the study folder has no omic data file that harmonomics reads", path=folder)
    _report_case_lists(state.case_lists, state.blocks, report)
    mdata = assemble(
        list(state.blocks.values()),
        report=report,
        reader="harmonomics.io.read_cbioportal",
        files=state.records,
        parameters={
            "folder": str(folder),
            "study": next(iter(studies), ""),
            "cnv": cnv,
            "omics": list(omics) if omics else "all",
            "reference_genome": reference,
        },
        sample_types=sample_types,
        join=join,
        patient_clinical=state.patient_clinical,
        sample_clinical=state.sample_clinical,
    )
    _patients_of_other_ids(mdata, state.patient_clinical)
    if state.panel_definitions or state.panel_matrix is not None or state.meta_panels:
        mdata.uns[_keys.UNS_GENE_PANELS] = _panels.panel_tables(
            state.panel_definitions, state.panel_matrix, state.meta_panels
        )
    if _keys.MUT in mdata.mod:
        mut = mdata.mod[_keys.MUT]
        maf = mut.uns["maf"]
        maf = maf[maf["Tumor_Sample_Barcode"].isin(mut.obs_names)].reset_index(drop=True)
        maf.insert(0, "sample", maf["Tumor_Sample_Barcode"].to_numpy())
        mut.uns["maf"] = uns_table(maf)
        if "n_mutated" in mut.var:  # over the samples kept (the block counted those the policy then dropped)
            mut.var["n_mutated"] = np.nansum(np.asarray(mut.X, dtype=float), axis=0)
        if _keys.OBS_GENE_PANEL in mut.obs:  # categorical: "no panel" stays NaN through h5mu, not None
            mut.obs[_keys.OBS_GENE_PANEL] = pd.Categorical(mut.obs[_keys.OBS_GENE_PANEL].astype(object))
    return mdata


def _parsed_metas(folder: Path) -> tuple[list[tuple[Path, dict[str, str]]], dict[str, list[str]]]:
    """Every ``meta_*.txt`` file, parsed, and ``{cancer_study_identifier: [meta file names]}`` (one study only)."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such study folder")
    metas = sorted(folder.glob("meta_*.txt"))
    if not metas:
        if not any(folder.iterdir()):
            raise EmptyInputError("the study folder is empty; expected meta_*.txt and data_*.txt files", path=folder)
        raise EmptyInputError("no meta_*.txt files; expected a cBioPortal study folder", path=folder)
    parsed_meta = [(mpath, P.parse_key_value(mpath)) for mpath in metas]
    studies: dict[str, list[str]] = {}
    for mpath, meta in parsed_meta:
        if meta.get("cancer_study_identifier"):
            studies.setdefault(meta["cancer_study_identifier"], []).append(mpath.name)
    if len(studies) > 1:
        detail = "; ".join(f"{s}: {', '.join(f)}" for s, f in studies.items())
        raise MixedProjectsError(
            f"{folder}: meta files name {len(studies)} studies ({detail}); expected one "
            "cancer_study_identifier per study folder"
        )
    return parsed_meta, studies


def _reference_genome(study_meta: dict[str, str], report: Report) -> str:
    """The study's reference genome (cBioPortal's default when meta_study.txt names none, with a report row)."""
    reference = study_meta.get("reference_genome", "").strip()
    if not reference:
        reference = DEFAULT_REFERENCE_GENOME
        if study_meta:
            report.add(
                "file",
                "meta_study.txt",
                "",
                "",
                "kept",
                f"no reference_genome: cBioPortal's default {DEFAULT_REFERENCE_GENOME} assumed",
            )
    return reference


def _read_data_files(state: _Study, parsed_meta, study_meta: dict[str, str], wanted: set[str] | None, reference: str):
    """Read each meta file's data file into ``state`` (with its handler); returns the file names the metas name.

    Files of kinds harmonomics does not read, and omics not requested, are recorded and listed in the report.
    """
    folder, report = state.folder, state.report
    named = {study_meta.get("tags_file", "")} - {""}
    for mpath, meta in parsed_meta:
        if meta.get("stable_id") and meta.get("gene_panel"):
            state.meta_panels[meta["stable_id"].strip()] = meta["gene_panel"].strip()
        fname = meta.get("data_filename")
        if not fname:
            if meta is not study_meta:
                report.add("file", mpath.name, "", "", "kept", "meta file without data_filename")
            continue
        named.add(fname)
        dpath = folder / fname
        if not dpath.is_file():
            raise FormatError(f"data_filename {fname!r} does not exist in the study folder", path=mpath)
        kind = kind_of(meta)
        if kind.handler is None:
            md5, size, data = md5_and_bytes(dpath)
            fmt = _format_or_unknown(data, dpath)
            state.record(
                dpath,
                md5,
                size,
                fmt if fmt != "unknown" else f"cbioportal {_meta_type(meta)}",
                _build_of(meta, reference),
            )
            report.add(
                "file", fname, "", "", "dropped", f"not read: {kind.description} ({_meta_type(meta)}, {mpath.name})"
            )
            continue
        if wanted is not None and kind.omic is not None and kind.omic not in wanted:
            report.add("file", fname, kind.omic, "", "dropped", f"not read: omic {kind.omic!r} not requested")
            continue
        md5, size, data = read_input(dpath, empty="the data file is empty")
        fmt = detect_bytes(data, dpath)
        state.record(dpath, md5, size, fmt, _build_of(meta, reference))
        reject_quotes(dpath, data)
        _HANDLERS[kind.handler](state, dpath, data, fmt, meta, mpath, kind)
    return named


# --------------------------------------------------------------------------- study-level files
def _study_meta(folder: Path, parsed_meta, report: Report) -> dict[str, str]:
    """meta_study.txt (found by content: the meta file with ``type_of_cancer`` and no ``data_filename``)."""
    for _, meta in parsed_meta:
        if "type_of_cancer" in meta and "data_filename" not in meta:
            return meta
    logger.warning("%s: no meta_study.txt; reference genome %s assumed", folder, DEFAULT_REFERENCE_GENOME)
    report.add(
        "file",
        "meta_study.txt",
        "",
        "",
        "dropped",
        f"missing: no study description; cBioPortal's default reference genome {DEFAULT_REFERENCE_GENOME} assumed",
    )
    return {}


def _case_lists(folder: Path) -> dict[str, tuple[dict, list[str]]]:
    out = {}
    for cpath in sorted((folder / "case_lists").glob("*.txt")) if (folder / "case_lists").is_dir() else []:
        reject_quotes(cpath, cpath.read_bytes(), comment=None)
        kv = P.parse_key_value(cpath)
        ids = [x for x in kv.get("case_list_ids", "").replace(" ", "\t").split("\t") if x]
        out[cpath.stem] = (kv, ids)
    return out


def _meta_type(meta: dict[str, str]) -> str:
    if meta.get("genetic_alteration_type"):
        parts = [meta["genetic_alteration_type"], meta.get("generic_assay_type", ""), meta.get("datatype", "")]
        return "/".join(p for p in parts if p)
    if meta.get("resource_type"):
        return f"resource_type {meta['resource_type']}"
    return "no genetic_alteration_type"


_WITHOUT_BUILD = {"", "CLINICAL", "CANCER_TYPE", "GENE_PANEL_MATRIX"}


def _build_of(meta: dict[str, str], reference: str) -> str:
    """The genome build of a data file: its meta file's ``reference_genome_id``, else the study's
    (``""`` for files without genomic content: clinical, cancer types, gene panel matrix, resources)."""
    from .._annotation import normalize_build

    if meta and meta.get("genetic_alteration_type", "").upper() in _WITHOUT_BUILD:
        return ""
    name = meta.get("reference_genome_id") or reference
    try:
        return normalize_build(name) or ""
    except ValueError:
        return str(name)


def _format_or_unknown(data: bytes, path: Path) -> str:
    if not data.strip():
        return "empty"
    try:
        return detect_bytes(data, path)
    except (UnknownFormatError, EmptyInputError):
        return "unknown"


def _report_unlisted(folder: Path, named: set[str], report: Report, state: _Study) -> None:
    """Every other file of the folder: a report row and a warning (a data file whose meta file is missing)."""
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.name in named or (path.name.startswith("meta_") and path.suffix == ".txt"):
            continue
        md5, size, raw = md5_and_bytes(path)
        fmt = _format_or_unknown(raw, path)
        state.record(path, md5, size, fmt)
        what = FORMATS[fmt][2] if fmt in FORMATS else "unrecognised content"
        if fmt == "cbioportal_gene_panel":
            definition = _panels.parse_panel_definition(path)
            state.panel_definitions[definition.stable_id] = definition
            report.add(
                "file",
                path.name,
                "",
                "",
                "kept",
                f"gene panel {definition.stable_id}: {len(definition.genes)} genes",
            )
            continue
        logger.warning("%s: no meta file names this file (content: %s); not read", path, what)
        reason = f"not read: no meta file names this file; its content looks like: {what}"
        report.add("file", path.name, "", "", "dropped", reason)


def reject_quotes(path: Path, data: bytes, *, comment: str | None = "#") -> None:
    """Raise FormatError at the first double quote outside leading ``#`` lines.

    cBioPortal files are tab-separated without quoting; cBioPortal's validator rejects quotation marks, and a
    stray one would shift fields silently.
    """
    at = data.find(b'"')
    if at < 0:
        return
    line_start = data.rfind(b"\n", 0, at) + 1
    line_no = data.count(b"\n", 0, at) + 1
    if comment and data.startswith(comment.encode(), line_start):
        # quotes in the comment header (clinical display names) are allowed: look after the leading # lines
        tf = open_text(path, comment=comment, data=data)
        rest = data.find(b'"', tf.header_offset)
        if rest < 0:
            return
        at, line_start = rest, data.rfind(b"\n", 0, rest) + 1
        line_no = data.count(b"\n", 0, at) + 1
    first = data[: data.find(b"\n")].decode("utf-8", "replace")
    field_no = data.count(b"\t", line_start, at) + 1
    header = open_text(path, comment=comment, data=data).header() if comment else first.split("\t")
    column = header[field_no - 1] if 0 < field_no <= len(header) else field_no
    end = data.find(b"\n", at)
    cell = data[line_start : len(data) if end < 0 else end].decode("utf-8", "replace").split("\t")[field_no - 1]
    raise FormatError(
        f"quotation mark in {cell.strip()!r}; cBioPortal files are tab-separated without quotes "
        "(cBioPortal's validator rejects them too): remove the quotes",
        path=path,
        line=line_no,
        column=column,
    )


# --------------------------------------------------------------------------- handlers
def _read_clinical(state: _Study, dpath: Path, data: bytes, fmt: str, meta: dict, mpath: Path, kind: Kind) -> None:
    if fmt != "cbioportal_clinical":
        raise FormatError(
            f"{mpath.name} says this is a clinical file, but its content looks like {fmt}; "
            "expected 4 # lines then a PATIENT_ID/SAMPLE_ID header",
            path=dpath,
        )
    df, _ = P.parse_cbio_clinical(dpath, data=data)
    key = "SAMPLE_ID" if "SAMPLE_ID" in df.columns else "PATIENT_ID"
    for column, row, line, value in df.attrs.pop("not_numbers", []):
        state.report.add(
            "value",
            f"{dpath.name} line {line}",
            "clinical",
            str(df[key].iat[row]),
            "dropped",
            f"{column} is declared NUMBER but holds {value!r}: read as missing",
        )
    datatype = meta.get("datatype", "").upper()
    if "SAMPLE_ID" in df.columns and datatype != "PATIENT_ATTRIBUTES":
        state.sample_clinical = _sample_clinical(df)
    else:
        state.patient_clinical = _patient_clinical(df)
    state.report.add("file", dpath.name, "clinical", "", "kept", f"clinical ({datatype.lower()}), {len(df)} rows")


def _read_maf(state: _Study, dpath: Path, data: bytes, fmt: str, meta: dict, mpath: Path, kind: Kind) -> None:
    if fmt not in ("cbioportal_mutations", "gdc_maf"):
        raise FormatError(
            f"{mpath.name} says MUTATION_EXTENDED but the content looks like {fmt}; expected "
            "a MAF (#version line, Hugo_Symbol … Tumor_Sample_Barcode header)",
            path=dpath,
        )
    maf, _ = P.parse_maf(dpath, columns=state.maf_columns, data=data)
    universe = None
    for key in ("cases_sequenced", f"{meta.get('cancer_study_identifier', '')}_sequenced"):
        if key in state.case_lists:
            universe = state.case_lists[key][1]
    builds = sorted(pd.unique(maf["NCBI_Build"].dropna().astype(str))) if "NCBI_Build" in maf else []
    if builds:
        state.records[-1]["build"] = ",".join(builds)
    state.mutation_profile = meta.get("stable_id", "mutations").strip() or "mutations"
    state.blocks[_keys.MUT] = _mut_block(maf, universe, dpath.name, state.report)
    state.report.add("file", dpath.name, _keys.MUT, "", "kept", f"mutations, {len(maf)} variants")


def _read_gene_panel_matrix(
    state: _Study, dpath: Path, data: bytes, fmt: str, meta: dict, mpath: Path, kind: Kind
) -> None:
    if fmt != "cbioportal_gene_panel_matrix":
        raise FormatError(
            f"{mpath.name} says GENE_PANEL_MATRIX but the content looks like {fmt}; expected SAMPLE_ID then one "
            "column of panel IDs per profile",
            path=dpath,
        )
    state.panel_matrix = _panels.parse_panel_matrix(dpath, data)
    state.panel_matrix_file = dpath.name
    state.report.add(
        "file",
        dpath.name,
        "",
        "",
        "kept",
        f"gene panel matrix: {len(state.panel_matrix)} samples × profiles {list(state.panel_matrix.columns)}",
    )


def _apply_gene_panels(state: _Study, profiles: set[str]) -> None:
    """Panels of the mutation profile onto the mut block (untested genes NaN); report rows for the rest."""
    matrix, report = state.panel_matrix, state.report
    for profile in [] if matrix is None else matrix.columns:
        if profile not in profiles:
            reason = f"column {profile!r} names no profile of this study (no meta file has that stable_id)"
        elif profile != state.mutation_profile and matrix[profile].notna().any():
            reason = (
                f"gene panels of profile {profile!r} are recorded in uns[{_keys.UNS_GENE_PANELS!r}]; only the "
                "mutation profile's untested genes are marked missing"
            )
        else:
            continue
        report.add("file", state.panel_matrix_file, "", "", "kept", reason)
    block = state.blocks.get(_keys.MUT)
    meta_panel = state.meta_panels.get(state.mutation_profile, "")
    if block is None or (not meta_panel and (matrix is None or state.mutation_profile not in matrix.columns)):
        return
    panels = _panels.mutation_panels(
        matrix, state.mutation_profile, meta_panel, block, report, state.panel_matrix_file or "meta gene_panel"
    )
    state.blocks[_keys.MUT] = _panels.apply_mutation_panels(block, panels, state.panel_definitions, report)


def _read_matrix(state: _Study, dpath: Path, data: bytes, fmt: str, meta: dict, mpath: Path, kind: Kind) -> None:
    if fmt not in ("cbioportal_matrix", "cbioportal_generic_assay", "cbioportal_rppa", "xena_matrix", "table"):
        raise FormatError(
            f"{mpath.name} describes a genes × samples matrix but the content looks like {fmt}; "
            "expected Hugo_Symbol / Entrez_Gene_Id (or ENTITY_STABLE_ID, Composite.Element.REF) "
            "then sample columns",
            path=dpath,
        )
    block = _matrix_block(dpath, data, meta, kind.omic, dpath.name, state.report)
    state.report.add(
        "file",
        dpath.name,
        kind.omic,
        "",
        "kept",
        f"{_meta_type(meta)}: {block.values.shape[1]} features × {block.values.shape[0]} samples",
    )
    _add_block(state, kind, dpath.name, block)


def _read_cna_long(state: _Study, dpath: Path, data: bytes, fmt: str, meta: dict, mpath: Path, kind: Kind) -> None:
    """Discrete copy number in the long format: one row per gene and sample (Hugo_Symbol, Entrez_Gene_Id,
    Sample_Id, Value, then optional driver annotation and namespace columns, which are not read)."""
    if fmt != "cbioportal_cna_long":
        raise FormatError(
            f"{mpath.name} says DISCRETE_LONG but the content looks like {fmt}; expected "
            "Hugo_Symbol, Entrez_Gene_Id, Sample_Id, Value columns",
            path=dpath,
        )
    tf = open_text(dpath, data=data)
    header = tf.header()
    require_columns(tf, header, ("Sample_Id", "Value"), "a discrete copy-number file (long format)")
    genes = [c for c in ("Hugo_Symbol", "Entrez_Gene_Id") if c in header]
    table = arrow_table(
        tf,
        column_names=header,
        include=[*genes, "Sample_Id", "Value"],
        numeric=["Value"],
        strings=[*genes, "Sample_Id"],
        what="a discrete copy-number file (long format)",
    ).to_pandas()
    for column in ("Sample_Id", *genes[:1]):
        missing = np.flatnonzero(table[column].isna().to_numpy()) if len(genes) == 1 or column == "Sample_Id" else []
        if len(missing):
            raise FormatError(
                f"empty {column}; expected an identifier on every row",
                path=dpath,
                line=locate_row(tf, int(missing[0])),
                column=column,
            )
    symbol = table["Hugo_Symbol"] if "Hugo_Symbol" in table else table["Entrez_Gene_Id"]
    entrez = table["Entrez_Gene_Id"] if "Hugo_Symbol" in table and "Entrez_Gene_Id" in table else None
    gene_key = symbol.fillna("").astype(str) + ("|" + entrez.fillna("").astype(str) if entrez is not None else "")
    twice = np.flatnonzero(pd.DataFrame({"g": gene_key, "s": table["Sample_Id"]}).duplicated().to_numpy())
    if len(twice):
        row = int(twice[0])
        raise FormatError(
            f"gene {symbol.iat[row]!r} of sample {table['Sample_Id'].iat[row]!r} appears twice; "
            "expected one value per gene and sample",
            path=dpath,
            line=locate_row(tf, row),
        )
    gene_codes, gene_keys = pd.factorize(gene_key)
    sample_codes, samples = pd.factorize(table["Sample_Id"])
    first_row = pd.Series(np.arange(len(table))).groupby(gene_codes).first().to_numpy()
    ids, var = feature_names(
        symbol.to_numpy()[first_row],
        None if entrez is None else entrez.to_numpy()[first_row],
        path=dpath,
        header_line=tf.header_line,
    )
    values = np.full((len(samples), len(gene_keys)), np.nan)
    values[sample_codes, gene_codes] = table["Value"].to_numpy(dtype=float)
    block = Block(
        omic=_keys.CNV,
        ids=[str(s) for s in samples],
        source_files=[dpath.name] * len(samples),
        values=values,
        var=var.set_axis(ids),
        analyte_kind="dna",
    )
    unread = [c for c in header if c not in (*genes, "Sample_Id", "Value")]
    state.report.add(
        "file",
        dpath.name,
        _keys.CNV,
        "",
        "kept",
        f"discrete copy number (long format): {len(gene_keys)} genes × {len(samples)} samples"
        + (f"; columns not read: {', '.join(unread)}" if unread else ""),
    )
    _add_block(state, kind, dpath.name, block)


def _read_segments(state: _Study, dpath: Path, data: bytes, fmt: str, meta: dict, mpath: Path, kind: Kind) -> None:
    """A ``.seg`` file → gene-level segment means through the shipped coordinates of the file's own build."""
    from .._annotation import gene_coordinates, normalize_build
    from .._segments import segments_to_genes

    if fmt not in ("cbioportal_segments", "gdc_segments"):
        raise FormatError(
            f"{mpath.name} says SEG but the content looks like {fmt}; expected the columns "
            "ID chrom loc.start loc.end num.mark seg.mean",
            path=dpath,
        )
    declared = meta.get("reference_genome_id") or state.reference_genome
    try:
        build = normalize_build(declared)
    except ValueError:
        build = None
    if build is None:
        state.report.add(
            "file",
            dpath.name,
            _keys.CNV,
            "",
            "dropped",
            f"not read: segments on genome build {declared!r}, for which harmonomics ships no gene "
            "coordinates (hg19/GRCh37 and hg38/GRCh38 only)",
        )
        return
    study_build = _build_of({}, state.reference_genome)
    if study_build and study_build != build:
        state.report.add(
            "file",
            dpath.name,
            _keys.CNV,
            "",
            "kept",
            f"{mpath.name} gives reference_genome_id {declared}, meta_study.txt {state.reference_genome}:"
            f" the file's own build ({build}) is used",
        )
    segments = P.parse_segments(dpath, data=data)
    coords = gene_coordinates(build, id_type="symbol").rename(columns={"gene_id": "ensembl_id"})
    genes = segments_to_genes(segments, coords, value="Segment_Mean", sample_column="aliquot")
    touched = ~np.isnan(genes.layers["min"]).all(axis=0)
    var = genes.var.loc[touched].copy()
    var["ensembl_id"] = coords["ensembl_id"].reindex(var.index).to_numpy()
    var["build"] = build
    block = Block(
        omic=_keys.CNV,
        ids=list(genes.obs_names),
        source_files=[dpath.name] * genes.n_obs,
        values=np.asarray(genes.X)[:, touched],
        var=var,
        layers={"segment_min": genes.layers["min"][:, touched], "segment_max": genes.layers["max"][:, touched]},
        uns={"segments_to_genes": {**genes.uns["segments_to_genes"], "build": build}, "segments": uns_table(segments)},
        analyte_kind="dna",
    )
    state.report.add(
        "file",
        dpath.name,
        _keys.CNV,
        "",
        "kept",
        f"copy-number segments on {build}: {len(segments)} segments of {genes.n_obs} samples → "
        f"{int(touched.sum())} genes (shipped {build} coordinates; each gene takes the seg.mean of the "
        "segment overlapping the most of it)",
    )
    state.cnv_parts.append(("segments", dpath.name, block))


_HANDLERS = {
    "gene_panel_matrix": _read_gene_panel_matrix,
    "clinical": _read_clinical,
    "maf": _read_maf,
    "matrix": _read_matrix,
    "cna_long": _read_cna_long,
    "segments": _read_segments,
}


def _add_block(state: _Study, kind: Kind, fname: str, block: Block) -> None:
    if kind.omic == _keys.CNV:
        state.cnv_parts.append((kind.role, fname, block))
        return
    if kind.omic in state.blocks:
        state.report.add(
            "file",
            fname,
            kind.omic,
            "",
            "dropped",
            f"not read: a second {kind.omic} file; {state.blocks[kind.omic].source_files[0]} is used",
        )
        return
    state.blocks[kind.omic] = block


# --------------------------------------------------------------------------- copy number
def _combine_cnv(state: _Study, cnv: str) -> None:
    """cnv: log2 (``X``) and GISTIC (``layers["gistic"]``) on the union of their samples and genes.

    ``cnv="gistic"`` swaps them. Segments become ``cnv`` when there is no gene-level file, else
    :data:`SEGMENTS_MODALITY`.
    """
    if cnv not in ("log2", "gistic"):
        raise ValueError(f"cnv must be 'log2' or 'gistic', got {cnv!r}")
    by_role: dict[str, tuple[str, Block]] = {}
    for role, fname, block in state.cnv_parts:
        if role in by_role:
            state.report.add(
                "file",
                fname,
                _keys.CNV,
                "",
                "dropped",
                f"not read: a second {role} copy-number file; {by_role[role][0]} is used",
            )
            continue
        by_role[role] = (fname, block)
    gene_level = [r for r in (cnv, "gistic" if cnv == "log2" else "log2") if r in by_role]
    if gene_level:
        parts = [(r, *by_role[r]) for r in gene_level]
        ids = list(dict.fromkeys(i for _, _, b in parts for i in b.ids))
        genes = pd.Index(list(dict.fromkeys(g for _, _, b in parts for g in b.var.index)), dtype=object)
        var = pd.concat([b.var for _, _, b in parts])
        var = var[~var.index.duplicated()].reindex(genes)
        arrays = {}
        for role, _, block in parts:
            out = np.full((len(ids), len(genes)), np.nan)
            rows = pd.Index(ids).get_indexer(block.ids)
            cols = genes.get_indexer(block.var.index)
            out[np.ix_(rows, cols)] = block.values
            arrays[role] = out
        main = gene_level[0]
        source = {i: f for _, f, b in reversed(parts) for i in b.ids}
        state.blocks[_keys.CNV] = Block(
            omic=_keys.CNV,
            ids=ids,
            source_files=[source[i] for i in ids],
            values=arrays.pop(main),
            var=var,
            layers=arrays,
            uns={"scale": "gistic" if main == "gistic" else "log2"},
            analyte_kind="dna",
        )
        for role, fname, _ in parts[1:]:
            state.report.add("file", fname, _keys.CNV, "", "kept", f"copy number kept as mod['cnv'].layers[{role!r}]")
    if "segments" in by_role:
        fname, block = by_role["segments"]
        block.uns["scale"] = "log2"
        if gene_level:
            block.omic = SEGMENTS_MODALITY
            state.report.add(
                "file",
                fname,
                SEGMENTS_MODALITY,
                "",
                "kept",
                f"gene-level segment means in mod[{SEGMENTS_MODALITY!r}] (the study has gene-level "
                "copy-number files for mod['cnv'])",
            )
        state.blocks[block.omic] = block


# --------------------------------------------------------------------------- matrices and mutations
def _blank_body_comments(data: bytes, header_offset: int) -> tuple[bytes, list[int]]:
    """Empty the ``#`` lines after the header (cBioPortal's importer skips them), keeping line numbers."""
    body_start = data.find(b"\n", header_offset) + 1
    if body_start <= 0 or data.find(b"\n#", body_start - 1) < 0:
        return data, []
    lines = data[body_start:].split(b"\n")
    first_line = data.count(b"\n", 0, body_start) + 1
    skipped = [first_line + i for i, ln in enumerate(lines) if ln.startswith(b"#")]
    kept = b"\n".join(b"" if ln.startswith(b"#") else ln for ln in lines)
    return data[:body_start] + kept, skipped


def _matrix_block(dpath: Path, data: bytes, meta: dict, omic: str, fname: str, report: Report) -> Block:
    props = {p.strip() for p in meta.get("generic_entity_meta_properties", "").split(",") if p.strip()}
    tf = open_text(dpath, data=data)
    data, skipped = _blank_body_comments(tf.data, tf.header_offset)
    if skipped:
        tf = open_text(dpath, data=data)
        report.add(
            "file",
            fname,
            omic,
            "",
            "kept",
            f"{len(skipped)} '#' comment line(s) inside the data skipped (lines {', '.join(map(str, skipped[:10]))}"
            f"{' …' if len(skipped) > 10 else ''})",
        )
    header = tf.header()
    ann = tuple(c for c in header if c in _ANNOTATION_COLUMNS or c in props)
    if not ann:
        raise FormatError(
            f"wrong header: found {header[:4]}; expected Hugo_Symbol and/or Entrez_Gene_Id (or "
            "ENTITY_STABLE_ID, Composite.Element.REF) before the sample columns",
            path=dpath,
            line=tf.header_line,
        )
    mat = P.parse_matrix(dpath, id_columns=ann, tf=tf, what=f"a cBioPortal {omic} matrix")
    ra = mat.row_annotation
    values = mat.values
    if "ENTITY_STABLE_ID" in ra:
        ids, _ = feature_names(ra["ENTITY_STABLE_ID"], path=dpath, header_line=mat.header_line)
        var = pd.DataFrame(index=ids)
        for c in ("NAME", "DESCRIPTION", "TRANSCRIPT_ID"):
            if c in ra:
                var[c.lower()] = ra[c]
    elif "Composite.Element.REF" in ra:
        keep = _usable_rppa_rows(ra["Composite.Element.REF"], tf, fname, omic, report)
        refs = ra["Composite.Element.REF"][keep]
        values = values[keep]
        ids, var = feature_names(refs, path=dpath, header_line=mat.header_line)
        var = pd.DataFrame(index=ids)
        parts = pd.Series(refs).str.split("|", n=1, expand=True)
        var["genes"] = parts[0].str.strip().to_numpy()
        if parts.shape[1] > 1:
            var["peptide_target"] = parts[1].fillna("").to_numpy()
    else:
        ids, var = feature_names(
            ra.get("Hugo_Symbol", ra.get("Entrez_Gene_Id")),
            ra.get("Entrez_Gene_Id") if "Hugo_Symbol" in ra else None,
            path=dpath,
            header_line=mat.header_line,
        )
    analyte = {"rna": "rna", "mirna": "rna", "meth": "dna", "cnv": "dna", "mut": "dna"}.get(omic)
    return Block(
        omic=omic,
        ids=list(mat.columns),
        source_files=[fname] * len(mat.columns),
        values=np.ascontiguousarray(values.T),
        var=var,
        analyte_kind=analyte,
    )


_NOT_AN_ANTIBODY = {"", "///", "---", "NA"}


def _usable_rppa_rows(refs: np.ndarray, tf, fname: str, omic: str, report: Report) -> np.ndarray:
    """RPPA rows cBioPortal's importer skips: no gene (blank, ``///``, ``---``, ``NA|…``) or a repeated
    ``Composite.Element.REF`` (the first is kept). Each gets a report row naming its line."""
    keep = np.ones(len(refs), dtype=bool)
    seen: dict[str, int] = {}
    for i, ref in enumerate(refs):
        text = "" if ref is None else str(ref).strip()
        gene = text.split("|", 1)[0].strip()
        if gene in _NOT_AN_ANTIBODY:
            keep[i] = False
            report.add(
                "feature",
                text,
                omic,
                "",
                "dropped",
                f"{fname} line {locate_row(tf, i)}: no gene symbol in Composite.Element.REF; row not read",
            )
        elif text in seen:
            keep[i] = False
            report.add(
                "feature",
                text,
                omic,
                "",
                "dropped",
                f"{fname} line {locate_row(tf, i)}: repeats line {locate_row(tf, seen[text])}; the first is read",
            )
        else:
            seen[text] = i
    return keep


def _mut_block(maf: pd.DataFrame, universe, fname: str, report: Report) -> Block:
    from .._mutations import mutation_arrays

    in_maf = list(pd.unique(maf["Tumor_Sample_Barcode"])) if len(maf) else []
    if universe is None:
        samples = in_maf
        report.add(
            "file",
            fname,
            _keys.MUT,
            "",
            "kept",
            "no case_lists/cases_sequenced.txt: only samples with at least one variant are known",
        )
    else:
        extra = [s for s in in_maf if s not in set(universe)]
        for s in extra:
            report.add("sample", s, _keys.MUT, s, "kept", "in data_mutations.txt but not in cases_sequenced; added")
        samples = list(universe) + extra
    matrix, _, var = mutation_arrays(maf, sample_column="Tumor_Sample_Barcode", samples=samples)
    # Entrez_Gene_Id (and Gene) are often blank or 0 in cBioPortal MAFs: keep the IDs that exist, as strings
    for column, source in (("entrez", "Entrez_Gene_Id"), ("gene_id", "Gene")):
        if column not in var:
            continue
        ids = var[column].astype(object).where(var[column].notna(), "").astype(str).str.strip()
        ids = ids.where(~ids.isin(["0", "nan", "None", "NA"]), "")
        if (ids == "").all():
            var = var.drop(columns=column)
            report.add("file", fname, _keys.MUT, "", "kept", f"{source} is blank or 0 on every row: not kept")
        else:
            var[column] = ids.to_numpy(dtype=object)
    return Block(
        omic=_keys.MUT,
        ids=samples,
        source_files=[fname] * len(samples),
        values=matrix,
        var=var,
        uns={"maf": maf},
        analyte_kind="dna",
    )


# --------------------------------------------------------------------------- clinical
_PAM50_COLUMNS = ("SUBTYPE", "PAM50", "PAM50_SUBTYPE")


def _patient_clinical(df: pd.DataFrame) -> pd.DataFrame:
    out = df.set_index("PATIENT_ID")
    out.index.name = None
    res = pd.DataFrame(index=out.index)
    if "OS_STATUS" in out and "OS_MONTHS" in out:
        surv = survival_from_months(out["OS_STATUS"], out["OS_MONTHS"])
        res["os_time"] = surv["os_time"].to_numpy()
        res["os_event"] = surv["os_event"].to_numpy()
    if "AGE" in out:
        res["age"] = pd.to_numeric(out["AGE"], errors="coerce").to_numpy()
    if "AJCC_PATHOLOGIC_TUMOR_STAGE" in out:
        res["stage"] = out["AJCC_PATHOLOGIC_TUMOR_STAGE"].to_numpy()
    pam50 = pam50_column(out, _PAM50_COLUMNS)
    if pam50 is not None:
        res["pam50"] = pam50
    for c in out.columns:
        if c.lower() not in res.columns:
            res[c.lower()] = out[c].to_numpy()
    return res


def _sample_clinical(df: pd.DataFrame) -> pd.DataFrame:
    out = df.set_index("SAMPLE_ID")
    out.index.name = None
    res = pd.DataFrame(index=out.index)
    pam50 = pam50_column(out, _PAM50_COLUMNS)
    if pam50 is not None:
        res["pam50"] = pam50
    if "PATIENT_ID" in out:
        res["patient_id"] = out["PATIENT_ID"].to_numpy()
    for c in out.columns:
        if c not in ("PATIENT_ID",) and c.lower() not in res.columns:
            res[c.lower()] = out[c].to_numpy()
    return res


def _patients_of_other_ids(mdata, patient_clinical: pd.DataFrame | None) -> None:
    """Samples whose ID is not a TCGA barcode take their patient from the clinical sample file's PATIENT_ID,
    and that patient's clinical columns (assemble keys patients by the sample ID for such samples)."""
    if "patient_id" not in mdata.obs:
        return
    obs = mdata.obs
    given = obs["patient_id"]
    differs = given.notna() & (given.astype(str) != obs["patient"].astype(str)) & (obs["patient"] == obs.index)
    if not differs.any():
        return
    obs.loc[differs, "patient"] = given[differs].to_numpy()
    # those patients do have a sample now: drop assemble's "without any omic sample" rows for them
    rep = mdata.uns[_keys.UNS_REPORT]
    matched = (
        (rep["level"] == "patient")
        & rep["item"].isin(set(given[differs]))
        & rep["reason"].str.contains("without any omic sample")
    )
    mdata.uns[_keys.UNS_REPORT] = rep.loc[~matched].reset_index(drop=True)
    if patient_clinical is not None and len(patient_clinical):
        extra = patient_clinical.reindex(obs.loc[differs, "patient"].to_numpy())
        for c in extra.columns:
            if c in obs.columns:
                fill = obs.loc[differs, c].isna().to_numpy()
                rows = obs.index[differs][fill]
                obs.loc[rows, c] = extra[c].to_numpy()[fill]


def _report_case_lists(case_lists, blocks, report: Report) -> None:
    all_ids = set(case_lists.get("cases_all", ({}, []))[1])
    if not all_ids:
        return
    for omic, block in blocks.items():
        for s in block.ids:
            if s not in all_ids:
                report.add("sample", s, omic, s, "kept", "sample is not in case_lists/cases_all.txt")
