"""Reader for a cBioPortal study folder, driven by its ``meta_*.txt`` files."""

from __future__ import annotations

import logging
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import EmptyInputError, FormatError, MixedProjectsError
from . import _parsers as P
from ._build import Block, Report, assemble, feature_names, file_records, md5_and_bytes, read_input, uns_table
from ._clinical import pam50_column, survival_from_months
from ._detect import detect_bytes

if TYPE_CHECKING:  # pragma: no cover
    import mudata as md

logger = logging.getLogger(__name__)

_ANNOTATION_COLUMNS = {"Hugo_Symbol", "Entrez_Gene_Id", "Composite.Element.REF", "ENTITY_STABLE_ID", "NAME",
                       "DESCRIPTION", "URL", "TRANSCRIPT_ID", "Cytoband"}


def _omic_of(meta: dict[str, str]) -> str | None:
    """The modality a meta file describes (None for data harmonomics does not read, e.g. z-scores)."""
    gat = meta.get("genetic_alteration_type", "").upper()
    dt = meta.get("datatype", "").upper()
    sid = meta.get("stable_id", "").lower()
    fname = meta.get("data_filename", "").lower()
    if gat == "CLINICAL":
        return "clinical"
    if "zscore" in sid or "zscore" in fname or dt == "Z-SCORE":
        return None
    if "mirna" in sid or "mirna" in fname:
        return _keys.MIRNA
    if gat == "MRNA_EXPRESSION":
        return _keys.RNA
    if gat == "COPY_NUMBER_ALTERATION" and dt in ("DISCRETE", "LOG2-VALUE", "CONTINUOUS"):
        return _keys.CNV
    if gat == "METHYLATION" or ("methylation" in sid or "methylation" in fname):
        return _keys.METH
    if gat in ("PROTEIN_LEVEL", "PROTEIN_ARRAY_PROTEIN_LEVEL"):
        return _keys.PROT
    if gat == "MUTATION_EXTENDED":
        return _keys.MUT
    return None


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
    ``stable_id``, ``data_filename``); each data file's content is checked against its meta file.

    Parameters
    ----------
    study_folder
        The study folder (with ``meta_study.txt``, ``meta_*.txt``, ``data_*.txt``, ``case_lists/``).
    sample_types
        Sample-type policy (see :func:`read_gdc`); cBioPortal sample IDs are 15-character barcodes.
    join
        ``"union"`` or ``"intersection"`` of samples across omics.
    omics
        Restrict to these modalities.
    cnv
        ``"log2"`` (``data_log2_cna.txt`` in ``X``, GISTIC in ``layers["gistic"]``) or ``"gistic"`` (the reverse).
    maf_columns
        Columns of the long mutation table kept in ``mod["mut"].uns["maf"]``.

    Returns
    -------
    MuData: rna (RSEM as written), mirna, meth (betas), cnv, mut
    (0/1 protein-altering; samples of ``case_lists/cases_sequenced.txt`` without variants are all-zero rows;
    ``uns["maf"]``), prot. Global obs: patient, sample_type, sample_type_code, ``pam50`` (from ``SUBTYPE``),
    ``os_time`` (days = OS_MONTHS × 30.4375), ``os_event``, ``age``, ``stage`` and the other clinical columns.
    ``uns["harmonomics"]`` and ``uns["harmonomics_report"]``.

    Raises
    ------
    EmptyInputError
        No meta files, or an empty data file.
    FormatError
        A malformed meta or data file, or a data file whose content disagrees with its meta file.
    MixedProjectsError
        Meta files name several ``cancer_study_identifier`` values.
    """
    folder = Path(study_folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such study folder")
    metas = sorted(folder.glob("meta_*.txt"))
    if not metas:
        if not any(folder.iterdir()):
            raise EmptyInputError("the study folder is empty; expected meta_*.txt and data_*.txt files", path=folder)
        raise EmptyInputError("no meta_*.txt files; expected a cBioPortal study folder", path=folder)
    report = Report()
    records = []
    studies: dict[str, list[str]] = {}
    parsed_meta = []
    for mpath in metas:
        meta = P.parse_key_value(mpath)
        study = meta.get("cancer_study_identifier")
        if study:
            studies.setdefault(study, []).append(mpath.name)
        parsed_meta.append((mpath, meta))
        md5, size, _ = md5_and_bytes(mpath)
        records.append((mpath, md5, size, "cbioportal_meta"))
    if len(studies) > 1:
        detail = "; ".join(f"{s}: {', '.join(f)}" for s, f in studies.items())
        raise MixedProjectsError(f"{folder}: meta files name {len(studies)} studies ({detail}); expected one "
                                 "cancer_study_identifier per study folder")
    case_lists = {}
    for cpath in sorted((folder / "case_lists").glob("*.txt")) if (folder / "case_lists").is_dir() else []:
        kv = P.parse_key_value(cpath)
        ids = [x for x in kv.get("case_list_ids", "").replace(" ", "\t").split("\t") if x]
        case_lists[cpath.stem] = (kv, ids)
        md5, size, _ = md5_and_bytes(cpath)
        records.append((cpath, md5, size, "cbioportal_case_list"))

    wanted = set(omics) if omics is not None else None
    blocks: dict[str, Block] = {}
    extra_layers: dict[str, tuple[str, Block]] = {}
    patient_clin, sample_clin = None, None
    for mpath, meta in parsed_meta:
        fname = meta.get("data_filename")
        if not fname:
            if meta.get("genetic_alteration_type") or mpath.name != "meta_study.txt":
                report.add("file", mpath.name, "", "", "kept", "meta file without data_filename")
            continue
        dpath = folder / fname
        if not dpath.is_file():
            raise FormatError(f"data_filename {fname!r} does not exist in the study folder", path=mpath)
        omic = _omic_of(meta)
        md5, size, data = read_input(dpath, empty="the data file is empty")
        fmt = detect_bytes(data, dpath)
        records.append((dpath, md5, size, fmt))
        if omic is None:
            report.add("file", fname, "", "", "dropped",
                       f"{meta.get('genetic_alteration_type')}/{meta.get('datatype')} ({meta.get('stable_id')}) "
                       "is not read by harmonomics (z-scores or unsupported type)")
            continue
        if omic == "clinical":
            if fmt != "cbioportal_clinical":
                raise FormatError(f"{mpath.name} says this is a clinical file, but its content looks like {fmt}; "
                                  "expected 4 # lines then a PATIENT_ID/SAMPLE_ID header", path=dpath)
            df, _ = P.parse_cbio_clinical(dpath, data=data)
            dt = meta.get("datatype", "").upper()
            if "SAMPLE_ID" in df.columns and dt != "PATIENT_ATTRIBUTES":
                sample_clin = _sample_clinical(df)
            else:
                patient_clin = _patient_clinical(df)
            report.add("file", fname, "clinical", "", "kept", f"clinical ({dt.lower()}), {len(df)} rows")
            continue
        if wanted is not None and omic not in wanted:
            report.add("file", fname, omic, "", "dropped", f"omic {omic!r} not requested")
            continue
        if omic == _keys.MUT:
            if fmt not in ("cbioportal_mutations", "gdc_maf"):
                raise FormatError(f"{mpath.name} says MUTATION_EXTENDED but the content looks like {fmt}; expected "
                                  "a MAF (#version line, Hugo_Symbol … Tumor_Sample_Barcode header)", path=dpath)
            maf, _ = P.parse_maf(dpath, columns=maf_columns, data=data)
            universe = None
            for key in ("cases_sequenced", f"{meta.get('cancer_study_identifier', '')}_sequenced"):
                if key in case_lists:
                    universe = case_lists[key][1]
            blocks[omic] = _mut_block(maf, universe, fname, report)
            report.add("file", fname, omic, "", "kept", f"mutations, {len(maf)} variants")
            continue
        if fmt not in ("cbioportal_matrix", "cbioportal_generic_assay", "cbioportal_rppa", "xena_matrix", "table"):
            raise FormatError(f"{mpath.name} describes a genes × samples matrix but the content looks like {fmt}; "
                              "expected Hugo_Symbol / Entrez_Gene_Id (or ENTITY_STABLE_ID, Composite.Element.REF) "
                              "then sample columns", path=dpath)
        block = _matrix_block(dpath, data, meta, omic, fname)
        report.add("file", fname, omic, "", "kept",
                   f"{meta.get('genetic_alteration_type')}/{meta.get('datatype')}: {block.values.shape[1]} features × "
                   f"{block.values.shape[0]} samples")
        if omic == _keys.CNV:
            is_gistic = meta.get("datatype", "").upper() == "DISCRETE"
            primary = (cnv == "gistic") == is_gistic
            layer_name = "gistic" if is_gistic else "log2"
            if omic in blocks and not primary:
                extra_layers[layer_name] = (fname, block)
                continue
            if omic in blocks and primary:
                prev = blocks[omic]
                extra_layers["log2" if is_gistic else "gistic"] = (blocks[omic].source_files[0], prev)
            elif not primary:
                extra_layers[layer_name] = (fname, block)
                continue
        if omic in blocks:
            report.add("file", fname, omic, "", "dropped", f"a second {omic} matrix; {blocks[omic].source_files[0]} is used")
            continue
        blocks[omic] = block
    # a copy-number layer without its primary matrix becomes the matrix
    for name, (fname, block) in list(extra_layers.items()):
        if _keys.CNV not in blocks:
            blocks[_keys.CNV] = block
            del extra_layers[name]
    if _keys.CNV in blocks:
        base = blocks[_keys.CNV]
        for name, (fname, block) in extra_layers.items():
            rows = pd.Index(block.ids).get_indexer(base.ids)
            cols = block.var.index.get_indexer(base.var.index)
            layer = np.full(base.values.shape, np.nan)
            ok_r, ok_c = rows >= 0, cols >= 0
            layer[np.ix_(ok_r, ok_c)] = block.values[np.ix_(rows[ok_r], cols[ok_c])]
            base.layers[name] = layer
            report.add("file", fname, _keys.CNV, "", "kept", f"copy number kept as mod['cnv'].layers[{name!r}]")
    if not blocks:
        raise EmptyInputError("the study folder has no omic data file that harmonomics reads", path=folder)
    _report_case_lists(case_lists, blocks, report)
    mdata = assemble(list(blocks.values()), report=report, reader="harmonomics.io.read_cbioportal",
                     files=file_records(records),
                     parameters={"folder": str(folder), "study": next(iter(studies), ""), "cnv": cnv,
                                 "omics": list(omics) if omics else "all"},
                     sample_types=sample_types, join=join, patient_clinical=patient_clin, sample_clinical=sample_clin)
    if _keys.MUT in mdata.mod:
        mut = mdata.mod[_keys.MUT]
        maf = mut.uns["maf"]
        maf = maf[maf["Tumor_Sample_Barcode"].isin(mut.obs_names)].reset_index(drop=True)
        maf.insert(0, "sample", maf["Tumor_Sample_Barcode"].to_numpy())
        mut.uns["maf"] = uns_table(maf)
    return mdata


def _matrix_block(dpath: Path, data: bytes, meta: dict, omic: str, fname: str) -> Block:
    props = {p.strip() for p in meta.get("generic_entity_meta_properties", "").split(",") if p.strip()}
    tf = P.open_text(dpath, data=data)
    header = tf.header()
    ann = tuple(c for c in header if c in _ANNOTATION_COLUMNS or c in props)
    if not ann:
        raise FormatError(f"wrong header: found {header[:4]}; expected Hugo_Symbol and/or Entrez_Gene_Id (or "
                          "ENTITY_STABLE_ID, Composite.Element.REF) before the sample columns", path=dpath,
                          line=tf.header_line)
    mat = P.parse_matrix(dpath, id_columns=ann, tf=tf, what=f"a cBioPortal {omic} matrix")
    ra = mat.row_annotation
    if "ENTITY_STABLE_ID" in ra:
        ids, _ = feature_names(ra["ENTITY_STABLE_ID"], path=dpath, header_line=mat.header_line)
        var = pd.DataFrame(index=ids)
        for c in ("NAME", "DESCRIPTION", "TRANSCRIPT_ID"):
            if c in ra:
                var[c.lower()] = ra[c]
    elif "Composite.Element.REF" in ra:
        ids, var = feature_names(ra["Composite.Element.REF"], path=dpath, header_line=mat.header_line)
        var = pd.DataFrame(index=ids)
        parts = pd.Series(ra["Composite.Element.REF"]).str.split("|", n=1, expand=True)
        var["genes"] = parts[0].to_numpy()
        var["peptide_target"] = parts[1].to_numpy() if parts.shape[1] > 1 else None
    else:
        ids, var = feature_names(ra.get("Hugo_Symbol", ra.get("Entrez_Gene_Id")), ra.get("Entrez_Gene_Id")
                                 if "Hugo_Symbol" in ra else None, path=dpath, header_line=mat.header_line)
    analyte = {"rna": "rna", "mirna": "rna", "meth": "dna", "cnv": "dna", "mut": "dna"}.get(omic)
    return Block(omic=omic, ids=list(mat.columns), source_files=[fname] * len(mat.columns),
                 values=np.ascontiguousarray(mat.values.T), var=var, analyte_kind=analyte)


def _mut_block(maf: pd.DataFrame, universe, fname: str, report: Report) -> Block:
    from ..pp._transforms import _mutation_arrays

    in_maf = list(pd.unique(maf["Tumor_Sample_Barcode"])) if len(maf) else []
    if universe is None:
        samples = in_maf
        report.add("file", fname, _keys.MUT, "", "kept",
                   "no case_lists/cases_sequenced.txt: only samples with at least one variant are known")
    else:
        extra = [s for s in in_maf if s not in set(universe)]
        for s in extra:
            report.add("sample", s, _keys.MUT, s, "kept", "in data_mutations.txt but not in cases_sequenced; added")
        samples = list(universe) + extra
    matrix, _, var = _mutation_arrays(maf, sample_column="Tumor_Sample_Barcode", samples=samples)
    return Block(omic=_keys.MUT, ids=samples, source_files=[fname] * len(samples), values=matrix, var=var,
                 uns={"maf": maf}, analyte_kind="dna")


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
    for c in out.columns:
        if c not in ("PATIENT_ID",) and c.lower() not in res.columns:
            res[c.lower()] = out[c].to_numpy()
    return res


def _report_case_lists(case_lists, blocks, report: Report) -> None:
    all_ids = set(case_lists.get("cases_all", ({}, []))[1])
    if not all_ids:
        return
    for omic, block in blocks.items():
        for s in block.ids:
            if s not in all_ids:
                report.add("sample", s, omic, s, "kept", "sample is not in case_lists/cases_all.txt")
