"""Exports for other tools: tables for R, GMT and GCT for GSEA, cBioPortal files, MOFA HDF5 models.

Every writer takes the store and a target path and returns the path(s) written; nothing is
ever pickled. :func:`export_all` writes everything that the store holds into one folder (the
``harmonomics export`` command calls it).

Tables (:func:`factor_scores`, :func:`signature_scores`, :func:`calls`, :func:`immune_scores`)
have one row per sample and ``sample_id`` as first column (the store's obs index, e.g. the
15-character TCGA sample barcode), then ``patient`` where known; missing values are ``NA``.
The format follows the suffix: ``.csv``, ``.tsv``/``.txt`` or ``.parquet``.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _keys, _results
from ._errors import MissingResultError

if TYPE_CHECKING:  # pragma: no cover
    from mudata import MuData

logger = logging.getLogger(__name__)

TABLE_FORMATS = ("csv", "tsv", "parquet")
FORMATS = (*TABLE_FORMATS, "gmt", "gct", "cbioportal", "hdf5")  # what export_all(formats=...) accepts
DEFAULT_FORMATS = ("tsv", "gmt", "gct", "cbioportal", "hdf5")
_CBIO_ID = re.compile(r"^[A-Za-z0-9._-]+$")
_TCGA_SAMPLE = re.compile(r"^(TCGA-[0-9A-Z]{2}-[0-9A-Z]{4})-\d{2}")

__all__ = [
    "calls",
    "cbioportal",
    "diablo_gmt",
    "diablo_table",
    "export_all",
    "factor_scores",
    "gct",
    "gmt",
    "immune_scores",
    "mofa_hdf5",
    "signature_scores",
    "write_manifest",
    "write_table",
]


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def _table_format(path: Path, format: str | None) -> str:
    if format is None:
        suffix = path.suffix.lower().lstrip(".")
        format = {"txt": "tsv", "tab": "tsv"}.get(suffix, suffix)
    if format not in TABLE_FORMATS:
        raise ValueError(
            f"table format must be one of {TABLE_FORMATS} (from the file suffix or format=); got {format!r} for {path}"
        )
    return format


def _atomic(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextmanager
def _writing(path: Path):
    """Yield a temporary path beside ``path``; rename it into place on success, remove it on failure."""
    tmp = _atomic(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_table(table: pd.DataFrame, path: str | os.PathLike, *, format: str | None = None) -> Path:
    """Write a DataFrame as CSV, TSV or Parquet without its index (``NA`` for missing values in text).

    Parameters
    ----------
    table
        The table; the index is not written (put IDs in a column).
    path
        Output file; the suffix picks the format unless ``format`` is given.
    format
        ``"csv"``, ``"tsv"`` or ``"parquet"``.

    Returns
    -------
    The path written.
    """
    path = Path(path)
    format = _table_format(path, format)
    if table.columns.has_duplicates:
        raise ValueError(
            f"duplicate column names {list(table.columns[table.columns.duplicated()])}; cannot write {path}"
        )
    with _writing(path) as tmp:
        if format == "parquet":
            out = table.copy()
            for column in out.columns:
                if isinstance(out[column].dtype, pd.CategoricalDtype):
                    out[column] = out[column].astype(object).where(out[column].notna(), None)
            out.to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, sep="," if format == "csv" else "\t", index=False, na_rep="NA", lineterminator="\n")
    return path


def _sample_frame(mdata: MuData) -> pd.DataFrame:
    """``sample_id`` (and ``patient`` where known) for every sample, in obs order."""
    frame = pd.DataFrame({"sample_id": mdata.obs_names.astype(str).to_numpy()})
    if "patient" in mdata.obs.columns:
        frame["patient"] = mdata.obs["patient"].astype(object).where(mdata.obs["patient"].notna(), None).to_numpy()
    return frame


def _with_ids(mdata: MuData, values: pd.DataFrame) -> pd.DataFrame:
    reserved = {"sample_id", "patient"} & set(map(str, values.columns))
    if reserved:
        raise ValueError(f"value columns {sorted(reserved)} clash with the ID columns")
    values = values.reset_index(drop=True)
    values.columns = [str(c) for c in values.columns]
    return pd.concat([_sample_frame(mdata), values], axis=1)


def _obsm_frame(mdata: MuData, key: str, what: str) -> pd.DataFrame:
    if key not in mdata.obsm:
        raise MissingResultError(f"no {what} in the store: mdata.obsm[{key!r}] is missing")
    value = mdata.obsm[key]
    if isinstance(value, pd.DataFrame):
        return value.copy()
    array = np.asarray(value)
    return pd.DataFrame(array, index=mdata.obs_names, columns=[f"{key}_{i + 1}" for i in range(array.shape[1])])


def factor_scores(
    mdata: MuData, path: str | os.PathLike, *, key: str = _keys.KEY_MOFA, format: str | None = None
) -> Path:
    """Write factor scores (samples x factors) as a table.

    Columns: ``sample_id``, ``patient`` (where known), then one column per factor (``Factor1``, ...).

    Parameters
    ----------
    mdata
        The store.
    path
        Output file (``.csv``, ``.tsv``/``.txt`` or ``.parquet``).
    key
        Factor model (``obsm[key]``).
    format
        Table format, overriding the suffix.

    Returns
    -------
    The path written.
    """
    return write_table(_with_ids(mdata, _results.factor_scores(mdata, key)), path, format=format)


def signature_scores(
    mdata: MuData, path: str | os.PathLike, *, key: str = "signature_scores", format: str | None = None
) -> Path:
    """Write per-sample signature scores (``obsm[key]`` from ``hm.tl.score_signatures``) as a table.

    Parameters
    ----------
    mdata
        The store.
    path
        Output file (``.csv``, ``.tsv``/``.txt`` or ``.parquet``).
    key
        obsm key of the scores.
    format
        Table format, overriding the suffix.

    Returns
    -------
    The path written.
    """
    return write_table(_with_ids(mdata, _obsm_frame(mdata, key, "signature scores")), path, format=format)


def immune_scores(mdata: MuData, path: str | os.PathLike, *, key: str = "immune", format: str | None = None) -> Path:
    """Write per-sample immune scores (``obsm[key]`` from ``hm.tl.immune_scores``) as a table.

    Parameters
    ----------
    mdata
        The store.
    path
        Output file (``.csv``, ``.tsv``/``.txt`` or ``.parquet``).
    key
        obsm key of the scores.
    format
        Table format, overriding the suffix.

    Returns
    -------
    The path written.
    """
    return write_table(_with_ids(mdata, _obsm_frame(mdata, key, "immune scores")), path, format=format)


# subtype, immune and receptor calls, clinical group and mutational burden (those a store holds)
CALL_COLUMNS = (
    "pam50",
    "pam50_confidence",
    "pam50_predicted",
    "immune_class",
    "er_call",
    "pr_call",
    "her2_call",
    "clinical_group",
    "tmb",
    "hypermutated",
)


def calls(
    mdata: MuData,
    path: str | os.PathLike,
    *,
    columns: Iterable[str] | None = None,
    format: str | None = None,
) -> Path:
    """Write subtype, immune and receptor calls and the mutational burden (obs columns) as a table.

    Parameters
    ----------
    mdata
        The store.
    path
        Output file (``.csv``, ``.tsv``/``.txt`` or ``.parquet``).
    columns
        obs columns to write; default: those of :data:`CALL_COLUMNS` that exist (``pam50``, ``pam50_confidence``,
        ``pam50_predicted``, ``immune_class``, ``er_call``, ``pr_call``, ``her2_call``, ``clinical_group``, ``tmb``,
        ``hypermutated``).
    format
        Table format, overriding the suffix.

    Returns
    -------
    The path written.

    Raises
    ------
    MissingResultError
        None of the columns is in obs.
    """
    if columns is None:
        columns = [c for c in CALL_COLUMNS if c in mdata.obs.columns]
        if not columns:
            raise MissingResultError(
                f"no subtype or immune calls in obs (looked for {list(CALL_COLUMNS)}); "
                "run hm.tl.pam50 / hm.tl.immune_status"
            )
    else:
        columns = list(columns)
        missing = [c for c in columns if c not in mdata.obs.columns]
        if missing:
            raise MissingResultError(f"obs has no column(s) {missing}")
    values = pd.DataFrame({c: _plain(mdata.obs[c]) for c in columns})
    return write_table(_with_ids(mdata, values), path, format=format)


def _plain(series: pd.Series) -> np.ndarray:
    nullable_bool = isinstance(series.dtype, pd.BooleanDtype)
    if (
        nullable_bool
        or isinstance(series.dtype, pd.CategoricalDtype)
        or series.dtype == object
        or pd.api.types.is_string_dtype(series)
    ):
        return series.astype(object).where(series.notna(), None).to_numpy()
    return series.to_numpy()


# ---------------------------------------------------------------------------------------------
# GSEA: GMT and GCT
# ---------------------------------------------------------------------------------------------


def gmt(
    mdata: MuData,
    path: str | os.PathLike,
    *,
    key: str = _keys.KEY_MOFA,
    n_top: int = 50,
    ids: str = "symbol",
) -> Path:
    """Write the factor signatures as a GMT file (one gene set per factor, view and side).

    Uses ``uns[f"{key}_signatures"]`` when present (from ``hm.tl.factor_signatures``), else computes
    the top ``n_top`` features per side. Set names are ``<factor>_<view>_up`` (positive weights) and
    ``<factor>_<view>_down`` (negative); the description says where the set comes from.

    Parameters
    ----------
    mdata
        The store.
    path
        Output ``.gmt`` file.
    key
        Factor model.
    n_top
        Genes per set when the signatures are computed here.
    ids
        ``"symbol"`` (gene symbols where known, as GSEA expects) or ``"feature"`` (the store's IDs).

    Returns
    -------
    The path written.
    """
    from ._gmt import write_gmt
    from .tl import signature_table

    if ids not in ("symbol", "feature"):
        raise ValueError(f"ids must be 'symbol' or 'feature'; got {ids!r}")
    table = mdata.uns.get(f"{key}_signatures")
    if not isinstance(table, pd.DataFrame) or table.empty:
        table = signature_table(mdata, key=key, n_top=n_top)
    sets: dict[str, list[str]] = {}
    descriptions: dict[str, str] = {}
    for (factor, view, side), frame in table.groupby(["factor", "view", "side"], sort=False):
        name = f"{factor}_{view}_{'up' if side == 'positive' else 'down'}"
        frame = frame.sort_values("rank")
        sets[name] = frame[ids].astype(str).tolist()
        descriptions[name] = f"harmonomics {key} {factor} {view}: top {len(frame)} {side} weights"
    if not sets:
        raise MissingResultError(f"the factor model {key!r} has no non-zero weights to write as signatures")
    return write_gmt(sets, path, descriptions=descriptions)


def gct(
    mdata: MuData,
    path: str | os.PathLike,
    *,
    mod: str = "rna",
    layer: str | None = None,
    names: str = "symbol",
) -> Path:
    """Write one modality as a GCT 1.2 expression file (for GSEA / GenePattern).

    Layout: ``#1.2``; ``<rows>\\t<columns>``; ``Name\\tDescription\\t<sample IDs>``; then one line
    per feature. Missing values are empty cells (allowed by GCT 1.2).

    Parameters
    ----------
    mdata
        The store.
    path
        Output ``.gct`` file.
    mod
        Modality to write (its own samples, in its obs order).
    layer
        Layer instead of ``X``.
    names
        ``"symbol"``: Name = gene symbol (features without a symbol, and repeats of a symbol after
        its first feature, are left out), Description = feature ID. ``"feature"``: Name = feature
        ID, Description = symbol (or ``na``).

    Returns
    -------
    The path written.
    """
    from ._genes import symbols_for

    if names not in ("symbol", "feature"):
        raise ValueError(f"names must be 'symbol' or 'feature'; got {names!r}")
    if mod not in mdata.mod:
        raise KeyError(f"no modality {mod!r} in the store; modalities: {list(mdata.mod)}")
    adata = mdata.mod[mod]
    matrix = adata.layers[layer] if layer is not None else adata.X
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    values = np.asarray(matrix, dtype=float).T  # features x samples
    features = adata.var_names.astype(str).to_numpy()
    symbols = symbols_for(features, adata.var).to_numpy()
    if names == "symbol":
        keep, seen = [], set()
        for i, symbol in enumerate(symbols):
            if isinstance(symbol, str) and symbol and symbol not in seen:
                seen.add(symbol)
                keep.append(i)
        dropped = len(features) - len(keep)
        if dropped:
            logger.info("GCT %s: %d features without a symbol or with a repeated symbol left out", path, dropped)
        row_names = [symbols[i] for i in keep]
        descriptions = [features[i] for i in keep]
        values = values[keep]
    else:
        row_names = list(features)
        descriptions = [s if isinstance(s, str) and s else "na" for s in symbols]
    samples = adata.obs_names.astype(str).tolist()
    for text in [*row_names, *descriptions, *samples]:
        if any(ch in text for ch in "\t\r\n"):
            raise ValueError(f"identifier {text!r} contains a tab or newline; GCT cannot hold it")
    path = Path(path)
    table = pd.DataFrame(values, columns=samples)
    table.insert(0, "Description", descriptions)
    table.insert(0, "Name", row_names)
    with _writing(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("#1.2\n")
        handle.write(f"{len(row_names)}\t{len(samples)}\n")
        # pandas writes floats at full (round-trip) precision; missing values as empty cells
        table.to_csv(handle, sep="\t", index=False, na_rep="", lineterminator="\n")
    return path


# ---------------------------------------------------------------------------------------------
# DIABLO: the selected features as a table and as gene sets
# ---------------------------------------------------------------------------------------------


def diablo_table(
    mdata: MuData, path: str | os.PathLike, *, key: str = _keys.KEY_DIABLO, format: str | None = None
) -> Path:
    """Write the features a DIABLO fit selected as a table.

    Columns: ``feature``, ``block``, ``component`` (1-based), ``loading``; one row per selected feature and
    component, ordered by block, component and decreasing ``|loading|`` (``hm.tl.diablo_selected``).

    Parameters
    ----------
    mdata
        The store, with a fit of ``hm.tl.diablo`` under ``key``.
    path
        Output file (``.csv``, ``.tsv``/``.txt`` or ``.parquet``).
    key
        Result key of the fit.
    format
        Table format, overriding the suffix.

    Returns
    -------
    The path written.
    """
    from .tl import diablo_selected

    return write_table(diablo_selected(mdata, key=key), path, format=format)


def diablo_gmt(
    mdata: MuData,
    path: str | os.PathLike,
    *,
    key: str = _keys.KEY_DIABLO,
    blocks: Iterable[str] | None = None,
) -> Path:
    """Write the features a DIABLO fit selected as a GMT file: one gene set per block, component and sign.

    Set names are ``<key>_comp<k>_<block>_up`` (features with a positive loading on component ``k`` of
    ``block``) and ``<key>_comp<k>_<block>_down`` (negative loadings), e.g. ``diablo_comp1_rna_up``; members
    are the store's feature IDs in decreasing ``|loading|``; the description names the fit, block, component
    and side. A side without features writes no set.

    The sets score a new cohort with ``hm.tl.score_signatures(new, path, mod=<block>)``: a GMT carries no
    modality, so score each block's sets in that block's modality (``blocks=`` writes one block per file) —
    sets of other blocks find no features there and get NaN scores. The ``up`` minus ``down`` score of a
    component follows that block's variate.

    Parameters
    ----------
    mdata
        The store, with a fit of ``hm.tl.diablo`` under ``key``.
    path
        Output ``.gmt`` file.
    key
        Result key of the fit (also the prefix of the set names).
    blocks
        Only these blocks (default: every block of the fit).

    Returns
    -------
    The path written.

    Raises
    ------
    MissingResultError
        No DIABLO fit under ``key``, or it selected no feature (in ``blocks``).
    """
    from ._gmt import write_gmt
    from .tl import diablo_selected

    table = diablo_selected(mdata, key=key)
    if blocks is not None:
        blocks = [blocks] if isinstance(blocks, str) else list(blocks)
        fit_blocks = list(dict.fromkeys(np.asarray(mdata.uns[key]["blocks"], dtype=object).astype(str)))
        unknown = [b for b in blocks if b not in fit_blocks]
        if unknown:
            raise ValueError(f"block(s) {unknown} are not blocks of the DIABLO fit {key!r}: {fit_blocks}")
        table = table[table["block"].isin(blocks)]
    sets: dict[str, list[str]] = {}
    descriptions: dict[str, str] = {}
    for (block, component), frame in table.groupby(["block", "component"], sort=False):
        for side, members in (("up", frame[frame["loading"] > 0]), ("down", frame[frame["loading"] < 0])):
            if members.empty:
                continue
            order = np.argsort(-members["loading"].abs().to_numpy(), kind="stable")
            name = f"{key}_comp{component}_{block}_{side}"
            sets[name] = members["feature"].iloc[order].tolist()
            sign = "positive" if side == "up" else "negative"
            descriptions[name] = f"harmonomics DIABLO {key} comp{component} {block}: {len(members)} {sign} loadings"
    if not sets:
        raise MissingResultError(f"the DIABLO fit {key!r} selected no feature to write as gene sets")
    return write_gmt(sets, path, descriptions=descriptions)


# ---------------------------------------------------------------------------------------------
# cBioPortal
# ---------------------------------------------------------------------------------------------


def _patients(mdata: MuData) -> list[str]:
    samples = mdata.obs_names.astype(str)
    if "patient" in mdata.obs.columns:
        patients = mdata.obs["patient"].astype(object)
        out = [str(p) if isinstance(p, str) and p else s for p, s in zip(patients, samples, strict=True)]
    else:
        out = []
        for s in samples:
            match = _TCGA_SAMPLE.match(s)
            out.append(match.group(1) if match else s)
    return out


def _check_cbio_ids(ids: Iterable[str], what: str) -> None:
    for value in ids:
        if not _CBIO_ID.match(value):
            raise ValueError(
                f"{what} {value!r} cannot be used in cBioPortal: "
                "only letters, digits, points, underscores and hyphens are allowed"
            )


def _cbio_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "NA"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    text = str(value)
    if any(ch in text for ch in "\t\r\n"):
        raise ValueError(f"value {text!r} contains a tab or newline")
    return text if text else "NA"


def _write_lines(path: Path, lines: list[str]) -> Path:
    with _writing(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_meta(path: Path, fields: Mapping[str, str]) -> Path:
    for name, value in fields.items():
        if "\n" in str(value) or not str(value).strip():
            raise ValueError(f"meta field {name!r} is empty or has a newline: {value!r}")
    return _write_lines(path, [f"{name}: {value}" for name, value in fields.items()])


def _r2_text(mdata: MuData, key: str, factor: str) -> str:
    info = mdata.uns.get(key, {})
    r2 = info.get("r2_per_view_factor") if isinstance(info, Mapping) else None
    if isinstance(r2, pd.DataFrame) and factor in r2.columns:
        parts = [f"{view} {100 * float(v):.1f}%" for view, v in r2[factor].items() if np.isfinite(v)]
        return "; variance explained: " + ", ".join(parts) if parts else ""
    return ""


def cbioportal(
    mdata: MuData,
    out_dir: str | os.PathLike,
    *,
    key: str = _keys.KEY_MOFA,
    study_id: str = "brca_tcga_pan_can_atlas_2018",
    calls: bool = True,
    signatures: str | None = "signature_scores",
) -> dict[str, Path]:
    """Write cBioPortal files that add factor scores to an existing study.

    Two data files, each with its meta file:

    - clinical sample attributes ``data_clinical_supp_<key>.txt`` (``SAMPLE_ATTRIBUTES``): the four
      ``#`` header lines (display names, descriptions, datatypes, priorities), then ``PATIENT_ID``,
      ``SAMPLE_ID``, ``<KEY>_FACTOR1``... (NUMBER) and, with ``calls=True``, ``HARMONOMICS_PAM50`` /
      ``HARMONOMICS_IMMUNE_CLASS`` (STRING) where the store has them;
    - a generic assay ``data_generic_assay_<key>.txt`` (``GENERIC_ASSAY``, ``LIMIT-VALUE``): columns
      ``ENTITY_STABLE_ID``, ``NAME``, ``DESCRIPTION``, then one column per sample; one row per factor
      (``<key>_Factor1``...) and, when ``obsm[signatures]`` exists, one per signature score.

    Missing values are ``NA``. Sample IDs are the store's obs index (15-character barcodes for TCGA);
    patient IDs come from ``obs["patient"]`` or the barcode.

    Parameters
    ----------
    mdata
        The store.
    out_dir
        Folder (created if needed); typically the study folder.
    key
        Factor model to export.
    study_id
        ``cancer_study_identifier`` of the study the files join.
    calls
        Also write PAM50 and immune calls as clinical attributes.
    signatures
        obsm key of signature scores to add to the generic assay (None: factors only).

    Returns
    -------
    ``{"clinical_data", "clinical_meta", "generic_assay_data", "generic_assay_meta": path}``.
    """
    if not _CBIO_ID.match(study_id):
        raise ValueError(f"study_id {study_id!r} may only hold letters, digits, points, underscores and hyphens")
    if not re.match(r"^[A-Za-z0-9_-]+$", key):
        raise ValueError(f"key {key!r} cannot form cBioPortal attribute and stable IDs (letters, digits, _ and - only)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = _results.factor_scores(mdata, key)
    samples = mdata.obs_names.astype(str).tolist()
    patients = _patients(mdata)
    _check_cbio_ids(samples, "sample ID")
    _check_cbio_ids(patients, "patient ID")

    # clinical sample attributes
    attributes = _cbio_attributes(mdata, key, scores, samples, patients, calls=calls)
    header = [
        "#" + "\t".join(a[1] for a in attributes),
        "#" + "\t".join(a[2] for a in attributes),
        "#" + "\t".join(a[3] for a in attributes),
        "#" + "\t".join("1" for _ in attributes),
        "\t".join(a[0] for a in attributes),
    ]
    body = ["\t".join(_cbio_value(a[4][i]) for a in attributes) for i in range(len(samples))]
    clinical_name = f"data_clinical_supp_{key}.txt"
    paths = {
        "clinical_data": _write_lines(out_dir / clinical_name, header + body),
        "clinical_meta": _write_meta(
            out_dir / f"meta_clinical_supp_{key}.txt",
            {
                "cancer_study_identifier": study_id,
                "genetic_alteration_type": "CLINICAL",
                "datatype": "SAMPLE_ATTRIBUTES",
                "data_filename": clinical_name,
            },
        ),
    }

    # generic assay
    entities = _cbio_entities(mdata, key, scores, signatures)
    lines = ["\t".join(["ENTITY_STABLE_ID", "NAME", "DESCRIPTION", *samples])]
    for entity, name, description, values in entities:
        lines.append(
            "\t".join(
                [
                    entity,
                    _cbio_value(name),
                    _cbio_value(description),
                    *(_cbio_value(v) for v in np.asarray(values, dtype=float)),
                ]
            )
        )
    assay_name = f"data_generic_assay_{key}.txt"
    paths["generic_assay_data"] = _write_lines(out_dir / assay_name, lines)
    paths["generic_assay_meta"] = _write_meta(
        out_dir / f"meta_generic_assay_{key}.txt",
        {
            "cancer_study_identifier": study_id,
            "genetic_alteration_type": "GENERIC_ASSAY",
            "generic_assay_type": "FACTOR_SCORE",
            "datatype": "LIMIT-VALUE",
            "stable_id": f"{key}_factor_scores",
            "profile_name": f"{key.upper()} factor scores",
            "profile_description": f"Per-sample scores of the {key} multi-omics factor model (harmonomics)",
            "generic_entity_meta_properties": "NAME,DESCRIPTION",
            "show_profile_in_analysis_tab": "true",
            "data_filename": assay_name,
        },
    )
    return paths


def _cbio_attributes(
    mdata: MuData, key: str, scores: pd.DataFrame, samples: list[str], patients: list[str], *, calls: bool
) -> list[tuple[str, str, str, str, list[Any]]]:
    """The clinical sample attributes: (attribute ID, display name, description, datatype, values per sample)."""
    tag = key.upper().replace("-", "_")
    attributes: list[tuple[str, str, str, str, list[Any]]] = [
        ("PATIENT_ID", "Patient Identifier", "Patient identifier", "STRING", patients),
        ("SAMPLE_ID", "Sample Identifier", "Sample identifier", "STRING", samples),
    ]
    for factor in scores.columns:
        attributes.append(
            (
                f"{tag}_{factor.upper()}",
                f"{key.upper()} {factor}",
                f"Score of {factor} of the {key} factor model (harmonomics){_r2_text(mdata, key, factor)}",
                "NUMBER",
                scores[factor].tolist(),
            )
        )
    if calls:
        for column, label, datatype in _CBIO_CALLS:
            if column in mdata.obs.columns:
                values = mdata.obs[column].astype(object).where(mdata.obs[column].notna(), None).tolist()
                attributes.append(
                    (
                        f"HARMONOMICS_{column.upper()}",
                        f"{label} (harmonomics)",
                        f"{label} called by harmonomics",
                        datatype,
                        values,
                    )
                )
    return attributes


# obs columns written as cBioPortal clinical sample attributes: (column, display name, datatype)
_CBIO_CALLS = (
    ("pam50", "PAM50 subtype", "STRING"),
    ("immune_class", "Immune class", "STRING"),
    ("er_call", "ER status from the omics", "STRING"),
    ("pr_call", "PR status from the omics", "STRING"),
    ("her2_call", "HER2 status from the omics", "STRING"),
    ("clinical_group", "Clinical group from the omics", "STRING"),
    ("tmb", "Tumour mutational burden (mutations per Mb)", "NUMBER"),
)


def _cbio_entities(mdata: MuData, key: str, scores: pd.DataFrame, signatures: str | None) -> list[tuple]:
    """The generic-assay entities: (stable ID, name, description, values per sample), factors then signatures."""
    entities = [
        (
            f"{key}_{factor}",
            f"{key.upper()} {factor}",
            f"Score of {factor} of the {key} factor model{_r2_text(mdata, key, factor)}",
            scores[factor],
        )
        for factor in scores.columns
    ]
    if signatures is not None and signatures in mdata.obsm and isinstance(mdata.obsm[signatures], pd.DataFrame):
        for column in mdata.obsm[signatures].columns:
            entity = re.sub(r"[^A-Za-z0-9_-]", "_", f"signature_{column}")
            entities.append(
                (
                    entity,
                    str(column),
                    f"Signature score {column} (harmonomics score_signatures)",
                    mdata.obsm[signatures][column],
                )
            )
    ids = [e[0] for e in entities]
    if len(set(ids)) != len(ids):
        raise ValueError(f"generic-assay entity IDs repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    return entities


# ---------------------------------------------------------------------------------------------
# MOFA-format HDF5 (readable by mofax and MOFA2's load_model)
# ---------------------------------------------------------------------------------------------


def _model_groups(mdata: MuData, info: Mapping, samples: pd.Index) -> tuple[list[str], np.ndarray]:
    """Group names and each sample's group, from ``uns[key]["groups"]`` / ``["groups_key"]``."""
    groups = [str(g) for g in np.asarray(info.get("groups", []), dtype=object).ravel()]
    groups_key = info.get("groups_key") or None
    if len(groups) > 1:
        if groups_key is None or groups_key not in mdata.obs.columns:
            raise MissingResultError(
                f"the fit has groups {groups} but obs has no groups_key column {groups_key!r} "
                "saying which sample is in which"
            )
        assignment = mdata.obs[groups_key].astype(str).reindex(samples).to_numpy()
        unknown = sorted(set(assignment) - set(groups))
        if unknown:
            raise MissingResultError(f"obs[{groups_key!r}] has groups {unknown} that the fit does not know ({groups})")
        return groups, assignment
    group = groups[0] if groups else "group1"
    return [group], np.array([group] * len(samples), dtype=object)


def _training_data(
    mdata: MuData, info: Mapping, view: str, features: pd.Index, samples: list[str], assignment, groups
) -> np.ndarray:
    """The view's data for the model file: centred and scaled as in training when the fit recorded how."""
    adata = mdata.mod[view]
    matrix = adata[:, features].X
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    frame = pd.DataFrame(np.asarray(matrix, dtype=float), index=adata.obs_names.astype(str), columns=features)
    values = frame.reindex(samples).to_numpy(float)
    projection = info.get("projection")
    views = projection.get("views") if isinstance(projection, Mapping) else None
    record = views.get(view) if isinstance(views, Mapping) else None
    if not isinstance(record, Mapping):
        return values
    fitted = [str(f) for f in np.asarray(record.get("features", []), dtype=object)]
    centre = np.asarray(record.get("centre", []), dtype=float)
    if fitted != list(features) or centre.ndim != 2 or centre.shape != (len(groups), len(features)):
        logger.info("mofa_hdf5: view %r written uncentred (the fit's centring does not match its features)", view)
        return values
    scale = float(record.get("scale", 1.0)) or 1.0
    for g, name in enumerate(groups):
        rows = assignment == name
        values[rows] = (values[rows] - centre[g]) / scale
    return values


def mofa_hdf5(
    mdata: MuData,
    path: str | os.PathLike,
    *,
    key: str = _keys.KEY_MOFA,
    include_data: bool = True,
    metadata: Iterable[str] | None = None,
) -> Path:
    """Write a factor model from the store in the MOFA+ HDF5 layout that mofax and MOFA2 read.

    Written: ``groups/groups``, ``views/views``, ``samples/<group>``, ``features/<view>``,
    ``expectations/Z/<group>`` (factors x samples), ``expectations/W/<view>`` (factors x features),
    ``variance_explained/r2_per_factor/<group>`` (views x factors, percent) and ``r2_total``
    when the fit has them, ``model_options/likelihoods``, ``training_opts``, ``training_stats``
    (ELBO), ``samples_metadata/<group>`` (obs columns) and, with ``include_data``,
    ``data/<view>/<group>``: the store's values, centred and scaled as in training when the fit
    recorded how (``uns[key]["projection"]``), NaN for samples absent from a view. Groups follow
    ``uns[key]["groups"]`` and ``obs[uns[key]["groups_key"]]``. Samples without any factor score
    and features without weights are left out. Nothing needs a mofapy2 model file.

    Parameters
    ----------
    mdata
        The store.
    path
        Output file (``.hdf5``).
    key
        Factor model to export.
    include_data
        Also write the modalities' values (mofax needs them for its data plots and shapes).
    metadata
        obs columns to write as sample metadata (default: all string, categorical, numeric and
        boolean columns).

    Returns
    -------
    The path written.
    """
    import h5py

    scores = _results.factor_scores(mdata, key)
    views = _results.fit_views(mdata, key)
    info = mdata.uns.get(key, {})
    info = info if isinstance(info, Mapping) else {}
    scores = scores.loc[np.isfinite(scores.to_numpy()).any(axis=1)]
    groups, assignment = _model_groups(mdata, info, scores.index)
    factors = list(scores.columns)
    obs = mdata.obs.copy()
    obs.index = obs.index.astype(str)
    columns = list(metadata) if metadata is not None else list(obs.columns)
    missing = [c for c in columns if c not in obs.columns]
    if missing:
        raise KeyError(f"obs has no column(s) {missing}")
    string = h5py.string_dtype(encoding="utf-8")
    path = Path(path)
    members = {g: np.flatnonzero(assignment == g) for g in groups}
    with _writing(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_group("groups").create_dataset("groups", data=np.array(groups, dtype=object), dtype=string)
        f.create_group("views").create_dataset("views", data=np.array(views, dtype=object), dtype=string)
        samples_grp = f.create_group("samples")
        z_grp = f.create_group("expectations").create_group("Z")
        for g in groups:
            rows = members[g]
            samples_grp.create_dataset(g, data=np.array(scores.index[rows].tolist(), dtype=object), dtype=string)
            z_grp.create_dataset(g, data=scores.to_numpy(float)[rows].T)
        features_grp = f.create_group("features")
        w_grp = f["expectations"].create_group("W")
        data_grp = f.create_group("data") if include_data else None
        samples = scores.index.tolist()
        r2_total: dict[str, dict[str, float]] = {g: {} for g in groups}  # from the written data, per group
        for view in views:
            weights = _results.view_weights(mdata, key, view)
            weights = weights.loc[np.isfinite(weights.to_numpy()).any(axis=1)]
            features_grp.create_dataset(
                view, data=np.array(weights.index.astype(str).tolist(), dtype=object), dtype=string
            )
            w_grp.create_dataset(view, data=weights.to_numpy(float).T)
            if data_grp is not None:
                values = _training_data(mdata, info, view, weights.index, samples, assignment, groups)
                view_grp = data_grp.create_group(view)
                for g in groups:
                    view_grp.create_dataset(g, data=values[members[g]], compression="gzip")
                    r2 = _explained(values[members[g]], scores.to_numpy(float)[members[g]], weights.to_numpy(float))
                    if r2 is not None:
                        r2_total[g][view] = r2
        _write_variance_explained(f, info, key, views, factors, groups, r2_total)
        _write_training(f, info, views, factors)
        _write_samples_metadata(f, groups, members, scores.index, obs, columns)
    return path


def _explained(y: np.ndarray, z: np.ndarray, w: np.ndarray) -> float | None:
    """R² of the factors ``z @ w.T`` on the observed values ``y`` (centred per feature); None without signal."""
    fitted_values = z @ w.T
    observed = np.isfinite(y)
    if not observed.any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        centred = y - np.nan_to_num(np.nanmean(y, axis=0))
    total = float(np.sum(np.where(observed, centred, 0.0) ** 2))
    residual = float(np.sum(np.where(observed, centred - fitted_values, 0.0) ** 2))
    return max(0.0, 1.0 - residual / total) if total > 0 else None


def _write_training(f, info: Mapping, views: list[str], factors: list[str]) -> None:
    """``model_options/likelihoods``, ``training_opts`` and ``training_stats`` (ELBO) as mofapy2 writes them."""
    likelihoods = info.get("likelihoods")
    if isinstance(likelihoods, Mapping):
        likelihoods = [str(likelihoods.get(v, "gaussian")) for v in views]
    elif likelihoods is None or len(np.asarray(likelihoods).ravel()) != len(views):
        likelihoods = ["gaussian"] * len(views)
    likelihoods = [str(x) for x in np.asarray(likelihoods).ravel()]
    f.create_group("model_options").create_dataset("likelihoods", data=np.array(likelihoods, dtype="S"))
    options = info.get("options") if isinstance(info.get("options"), Mapping) else {}
    aliases = {
        "maxiter": ("maxiter", "max_iter"),
        "freqELBO": ("freqELBO", "freq_elbo"),
        "start_elbo": ("start_elbo",),
        "gpu_mode": ("gpu_mode", "gpu"),
        "stochastic": ("stochastic",),
        "seed": ("seed",),
    }
    values = []
    for name, candidates in aliases.items():
        value = next((options[c] for c in candidates if c in options), info.get(name))
        try:
            values.append(float(value))
        except (TypeError, ValueError):
            values.append(np.nan)
    f.create_dataset("training_opts", data=np.array(values, dtype=float))
    f["training_opts"].attrs["names"] = np.array(list(aliases), dtype="S")
    stats = f.create_group("training_stats")
    elbo = np.asarray(info.get("elbo", []), dtype=float).ravel()
    stats.create_dataset("elbo", data=elbo)
    stats.create_dataset("number_factors", data=np.full(len(elbo), float(len(factors))))
    stats.create_dataset("time", data=np.full(len(elbo), np.nan))


def _write_samples_metadata(f, groups: list[str], members: dict, index: pd.Index, obs: pd.DataFrame, columns) -> None:
    """``samples_metadata/<group>``: strings as UTF-8 bytes, numbers as floats, as mofapy2 writes them."""
    meta_root = f.create_group("samples_metadata")
    for g in groups:
        rows = members[g]
        meta = meta_root.create_group(g)
        group_samples = [str(x) for x in index[rows]]
        meta.create_dataset("sample", data=_utf8(group_samples))
        meta.create_dataset("group", data=_utf8([g] * len(rows)))
        sub = obs.loc[group_samples]
        for column in columns:
            if column in ("sample", "group"):
                continue
            series = sub[column]
            if pd.api.types.is_bool_dtype(series) or (
                pd.api.types.is_numeric_dtype(series) and not isinstance(series.dtype, pd.CategoricalDtype)
            ):
                meta.create_dataset(str(column), data=series.to_numpy(float))
            elif (
                isinstance(series.dtype, pd.CategoricalDtype)
                or pd.api.types.is_string_dtype(series)
                or series.dtype == object
            ):
                text = [
                    "" if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v)
                    for v in series.astype(object)
                ]
                meta.create_dataset(str(column), data=_utf8(text))
            else:
                logger.info("mofa_hdf5: obs column %r (%s) not written as sample metadata", column, series.dtype)


def _utf8(values: list[str]) -> np.ndarray:
    if not values:
        return np.array([], dtype="S1")
    return np.char.encode(np.array(values, dtype="U"), "utf-8")


def _write_variance_explained(
    f,
    info: Mapping,
    key: str,
    views: list[str],
    factors: list[str],
    groups: list[str],
    from_data: Mapping[str, Mapping[str, float]],
) -> None:
    """``variance_explained/r2_per_factor/<group>`` (views x factors) and ``r2_total/<group>`` in percent.

    MOFA2's ``load_model`` reads both datasets whenever the group exists. ``r2_total`` is the fit's
    ``r2_per_view`` for a single group; for several groups it is computed from the written data
    (``1 - SS(Y - Z W') / SS(Y)``), or, without data, the fit's overall value is repeated per group.
    """
    per_group: dict[str, np.ndarray] = {}
    r2 = info.get("r2_per_view_factor")
    by_group = info.get("r2_per_group_view_factor")
    if (
        len(groups) > 1
        and isinstance(by_group, pd.DataFrame)
        and {"group", "view", "factor", "r2"}.issubset(by_group.columns)
    ):
        for g in groups:
            table = by_group[by_group["group"].astype(str) == g].pivot(index="view", columns="factor", values="r2")
            table.index, table.columns = table.index.astype(str), table.columns.astype(str)
            if set(views).issubset(table.index) and set(factors).issubset(table.columns):
                per_group[g] = table.loc[views, factors].to_numpy(float)
    elif len(groups) == 1 and isinstance(r2, pd.DataFrame):
        r2 = r2.copy()
        r2.index, r2.columns = r2.index.astype(str), r2.columns.astype(str)
        if set(views).issubset(r2.index) and set(factors).issubset(r2.columns):
            per_group[groups[0]] = r2.loc[views, factors].to_numpy(float)
    if len(per_group) != len(groups):
        logger.warning(
            "mofa_hdf5: uns[%r] has no variance-explained table covering every group, view and factor; "
            "variance explained not written",
            key,
        )
        return
    ve = f.create_group("variance_explained")
    per_factor = ve.create_group("r2_per_factor")
    for g in groups:
        per_factor.create_dataset(g, data=100 * per_group[g])
    overall = info.get("r2_per_view")
    if overall is not None:
        overall = overall if isinstance(overall, pd.Series) else pd.Series(overall)
        if isinstance(overall.index, pd.RangeIndex) and len(overall) == len(views):
            overall.index = pd.Index(views)
        overall.index = overall.index.astype(str)
        overall = overall.reindex(views)
    totals = ve.create_group("r2_total")
    for g in groups:
        if len(groups) == 1 and overall is not None and overall.notna().all():
            values = overall.to_numpy(float)
        elif all(v in from_data.get(g, {}) for v in views):
            values = np.array([from_data[g][v] for v in views])
        elif overall is not None and overall.notna().all():
            logger.info("mofa_hdf5: group %r: total variance explained per view taken from the whole fit", g)
            values = overall.to_numpy(float)
        else:  # no total recorded and no data: the sum over factors (exact only for uncorrelated factors)
            values = per_group[g].sum(axis=1)
        totals.create_dataset(g, data=100 * values)


# ---------------------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------------------


def export_all(
    mdata: MuData,
    out_dir: str | os.PathLike,
    *,
    key: str = _keys.KEY_MOFA,
    formats: Iterable[str] = DEFAULT_FORMATS,
    study_id: str = "brca_tcga_pan_can_atlas_2018",
    mod: str = "rna",
) -> dict[str, Path]:
    """Export everything the store holds into one folder.

    Parameters
    ----------
    mdata
        The store.
    out_dir
        Output folder (created if needed).
    key
        Factor model to export.
    formats
        Any of ``"csv"``, ``"tsv"``, ``"parquet"`` (tables: factor scores, signature scores,
        immune scores, subtype/immune calls, in each table format asked for), ``"gmt"`` (factor
        signatures), ``"gct"`` (modality ``mod`` as GCT 1.2), ``"cbioportal"`` (clinical and
        generic-assay files with meta files, under ``cbioportal/``) and ``"hdf5"`` (MOFA model file).
        Each DIABLO fit in the store (a ``uns`` dict with ``"method": "diablo"``) adds its selected features
        (:func:`diablo_table`, ``<fit>_selected.<format>`` per table format) and gene sets (:func:`diablo_gmt`,
        ``<fit>_signatures.gmt`` with ``"gmt"``).
    study_id
        cBioPortal ``cancer_study_identifier``.
    mod
        Modality written as GCT.

    Returns
    -------
    ``{name: path}`` of every file written, e.g. ``"factor_scores.tsv"``, ``"signatures.gmt"``,
    ``"rna.gct"``, ``"cbioportal.generic_assay_meta"``, ``"model.hdf5"``. Results the store lacks
    are skipped with a log message; a factor model under ``key`` is required.

    Raises
    ------
    ValueError
        An unknown format.
    MissingResultError
        No factor model under ``key``.
    """

    formats = [formats] if isinstance(formats, str) else list(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export format(s) {unknown}; choose from {FORMATS}")
    _results.factor_names(mdata, key)  # fail early without a model
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for table_format in [f for f in formats if f in TABLE_FORMATS]:
        suffix = table_format
        written[f"{key}_factor_scores.{suffix}"] = factor_scores(
            mdata, out_dir / f"{key}_factor_scores.{suffix}", key=key
        )
        for name, writer in (("signature_scores", signature_scores), ("immune_scores", immune_scores)):
            obsm_key = "signature_scores" if name == "signature_scores" else "immune"
            if obsm_key in mdata.obsm:
                written[f"{name}.{suffix}"] = writer(mdata, out_dir / f"{name}.{suffix}")
            else:
                logger.info("export: no obsm[%r]; %s not written", obsm_key, name)
        if any(c in mdata.obs.columns for c in CALL_COLUMNS):
            written[f"calls.{suffix}"] = calls(mdata, out_dir / f"calls.{suffix}")
        else:
            logger.info("export: no subtype or immune calls in obs; calls table not written")
    if "gmt" in formats:
        written[f"{key}_signatures.gmt"] = gmt(mdata, out_dir / f"{key}_signatures.gmt", key=key)
    for fit in _results.diablo_keys(mdata):  # every DIABLO fit in the store: its selected features
        for table_format in [f for f in formats if f in TABLE_FORMATS]:
            name = f"{fit}_selected.{table_format}"
            written[name] = diablo_table(mdata, out_dir / name, key=fit)
        if "gmt" in formats:
            written[f"{fit}_signatures.gmt"] = diablo_gmt(mdata, out_dir / f"{fit}_signatures.gmt", key=fit)
    if "gct" in formats:
        if mod in mdata.mod:
            written[f"{mod}.gct"] = gct(mdata, out_dir / f"{mod}.gct", mod=mod)
        else:
            logger.info("export: no modality %r; GCT not written", mod)
    if "cbioportal" in formats:
        for name, path in cbioportal(mdata, out_dir / "cbioportal", key=key, study_id=study_id).items():
            written[f"cbioportal.{name}"] = path
    if "hdf5" in formats:
        written[f"{key}_model.hdf5"] = mofa_hdf5(mdata, out_dir / f"{key}_model.hdf5", key=key)
    logger.info("exported %d files to %s", len(written), out_dir)
    return written


def write_manifest(written: Mapping[str, str | os.PathLike], out_dir: str | os.PathLike) -> Path:
    """Write ``MANIFEST.json`` into ``out_dir``: ``{name: path}`` of the exported files, paths relative to ``out_dir``.

    Relative paths keep the manifest true when the folder is moved, copied or archived.

    Parameters
    ----------
    written
        ``{name: path}`` as returned by :func:`export_all`.
    out_dir
        The export folder; every path must lie inside it.

    Returns
    -------
    The path of the manifest.

    Raises
    ------
    ValueError
        A path lies outside ``out_dir``.
    """
    import json

    root = Path(out_dir).resolve()
    entries = {}
    for name, path in written.items():
        full = Path(path).resolve()
        if not full.is_relative_to(root):
            raise ValueError(f"MANIFEST.json: {name!r} at {str(path)!r} is not inside the export folder {str(root)!r}")
        entries[str(name)] = full.relative_to(root).as_posix()
    target = Path(out_dir) / "MANIFEST.json"
    with _writing(target) as tmp:
        tmp.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    return target
