"""Shared reader machinery: per-omic blocks, the harmonization report, stacking profiles, assembling the store."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _keys
from .. import barcodes as _bc
from .._clinical import normalize_pam50, uns_table
from .._compat import mudata_options
from .._errors import EmptyInputError, FormatError
from .._settings import settings
from ..samples import KEY_LEVELS, choose_samples, resolve_sample_types, sample_table, writable_strings

logger = logging.getLogger(__name__)

REPORT_COLUMNS = ["level", "item", "omic", "sample", "action", "reason"]
JOINS = ("union", "intersection")


class Report:
    """Accumulates harmonization report rows (level, item, omic, sample, action, reason)."""

    def __init__(self) -> None:
        self._rows: list[dict] = []
        self._frames: list[pd.DataFrame] = []

    def add(
        self, level: str, item: str, omic: str = "", sample: str = "", action: str = "kept", reason: str = ""
    ) -> None:
        self._rows.append(
            {
                "level": level,
                "item": str(item),
                "omic": omic,
                "sample": sample or "",
                "action": action,
                "reason": reason,
            }
        )

    def extend(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self._frames.append(frame[REPORT_COLUMNS])

    def frame(self) -> pd.DataFrame:
        parts = [*self._frames, pd.DataFrame(self._rows, columns=REPORT_COLUMNS)]
        out = pd.concat([p for p in parts if len(p)] or [parts[-1]], ignore_index=True)
        return out.astype(object).where(out.notna(), "").astype(str)


@dataclass
class Block:
    """One omic's values before sample choice: rows are aliquots (or sample IDs), columns features."""

    omic: str
    ids: list[str]
    source_files: list[str]
    values: np.ndarray
    var: pd.DataFrame  # index = feature IDs
    layers: dict[str, np.ndarray] = field(default_factory=dict)
    obs: pd.DataFrame | None = None  # extra per-row columns, positional
    uns: dict[str, Any] = field(default_factory=dict)
    analyte_kind: str | None = None
    universe: list[str] | None = None  # (mutations) IDs known to be profiled even without rows


def md5_and_bytes(path: Path) -> tuple[str, int, bytes]:
    raw = path.read_bytes()
    return hashlib.md5(raw, usedforsecurity=False).hexdigest(), len(raw), raw


def read_input(path: Path, *, empty: str = "the file is empty") -> tuple[str, int, bytes]:
    """md5, size and the decompressed content of an input file; an empty file raises EmptyInputError(``empty``)."""
    md5, size, raw = md5_and_bytes(path)
    if size == 0:
        raise EmptyInputError(empty, path=path)
    return md5, size, decompress(path, raw)


def decompress(path: Path, raw: bytes) -> bytes:
    if raw[:2] == b"\x1f\x8b":
        import gzip
        import zlib

        try:
            return gzip.decompress(raw)
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as err:
            raise FormatError(
                f"the gzip stream is truncated or corrupt ({err}); expected a complete gzip file", path=path
            ) from err
    return raw


def parallel_map(func: Callable, items: Sequence, *, desc: str | None = None, unit: str = "file", bar=None) -> list:
    """Map ``func`` over ``items`` with a thread pool (pyarrow and hashlib release the GIL).

    Progress goes to a new bar named ``desc``, or to ``bar`` (a running :func:`~harmonomics._progress.progress_bar`).
    """
    from .._progress import progress

    n_jobs = max(1, min(settings.n_jobs, len(items)))
    if n_jobs == 1:
        results = (func(x) for x in items)
    else:
        pool = ThreadPoolExecutor(max_workers=n_jobs)
        results = pool.map(func, items)
    try:
        if bar is None:
            return list(results if desc is None else progress(results, desc=desc, total=len(items), unit=unit))
        out = []
        for result in results:
            out.append(result)
            bar.update(1)
        return out
    finally:
        if n_jobs > 1:
            pool.shutdown(cancel_futures=True)


def _all_same_features(features: list) -> bool:
    """Whether every file lists the same features in the same order (files of a batch share one array)."""
    from ._parsers import same_values

    ref = features[0]
    checked = {id(ref)}
    for f in features[1:]:
        if id(f) not in checked:
            if not same_values(f, ref):
                return False
            checked.add(id(f))
    return True


def stack_profiles(
    omic: str, items: list[tuple[str, str, Any]], *, analyte_kind: str | None, outer: bool = False, what: str = "file"
) -> Block:
    """Stack per-file :class:`~harmonomics.io._parsers.Profile` objects into one Block.

    ``items`` are ``(aliquot, source file, Profile)``. Without ``outer``, every file must list the same
    features (a file with fewer rows is reported as truncated); with ``outer`` features are joined outer.
    """
    from ._parsers import as_numpy

    ref = items[0][2]
    ref_np = as_numpy(ref.features)
    ref_features = pd.Index(ref_np, dtype=object)
    if not ref_features.is_unique:
        dup = ref_features[ref_features.duplicated()][0]
        raise FormatError(f"duplicate feature {dup!r}; expected each feature once", path=items[0][1])
    same = _all_same_features([p.features for _, _, p in items])
    if same:
        features = ref_features
        values = np.empty((len(items), len(features)), dtype=np.float64)
        layers = {k: np.empty((len(items), len(features)), dtype=np.float64) for k in ref.layers}
        for i, (_, _, p) in enumerate(items):
            values[i] = p.values
            for k, layer in layers.items():
                layer[i] = p.layers[k]
        annotated = next((p for _, _, p in items if p.var), ref)
        var = pd.DataFrame({k: as_numpy(v) for k, v in annotated.var.items()}, index=features)
    else:
        if not outer:
            counts = pd.Series([len(p.features) for _, _, p in items])
            typical = int(counts.mode().iloc[0])
            for (_, path, _p), n in zip(items, counts, strict=True):
                if n < typical:
                    raise FormatError(
                        f"has {n} features where the other {what}s of this type have {typical}; the file looks "
                        "truncated",
                        path=path,
                        line=n + 1,
                    )
            for _, path, p in items:
                f = as_numpy(p.features)
                if not np.array_equal(f, ref_np):
                    diff = np.flatnonzero(f[: len(ref_np)] != ref_np[: len(f)])
                    at = int(diff[0]) if len(diff) else min(len(f), len(ref_np))
                    found = f[at] if at < len(f) else "<end of file>"
                    raise FormatError(
                        f"feature {found!r} where {items[0][1]} has {ref_np[at] if at < len(ref_np) else '<end>'!r}; "
                        f"expected the same features in the same order in every {what}",
                        path=path,
                    )
        union = pd.Index(pd.unique(np.concatenate([as_numpy(p.features).astype(object) for _, _, p in items])))
        features = union
        values = np.full((len(items), len(features)), np.nan)
        layers = {k: np.full((len(items), len(features)), np.nan) for k in ref.layers}
        for i, (_, path, p) in enumerate(items):
            f = pd.Index(as_numpy(p.features), dtype=object)
            if not f.is_unique:
                dup = f[f.duplicated()][0]
                raise FormatError(f"duplicate feature {dup!r}; expected each feature once", path=path)
            idx = features.get_indexer(f)
            values[i, idx] = p.values
            for k in layers:
                layers[k][i, idx] = p.layers[k]
        # feature annotation: the first file that has a feature describes it
        keys = list(dict.fromkeys(k for _, _, p in items for k in p.var))
        long = pd.DataFrame(
            {
                "_feature": np.concatenate([as_numpy(p.features).astype(object) for _, _, p in items]),
                **{
                    k: np.concatenate(
                        [
                            as_numpy(p.var[k]).astype(object)
                            if k in p.var
                            else np.full(len(p.features), None, dtype=object)
                            for _, _, p in items
                        ]
                    )
                    for k in keys
                },
            }
        )
        long = long.drop_duplicates("_feature").set_index("_feature").reindex(features)
        var = pd.DataFrame({k: long[k].to_numpy() for k in keys}, index=features)
    qc_keys = sorted({k for _, _, p in items for k in p.qc})
    obs = pd.DataFrame({k: [p.qc.get(k, np.nan) for _, _, p in items] for k in qc_keys}) if qc_keys else None
    return Block(
        omic=omic,
        ids=[a for a, _, _ in items],
        source_files=[s for _, s, _ in items],
        values=values,
        var=var,
        layers=layers,
        obs=obs,
        analyte_kind=analyte_kind,
    )


def assemble(
    blocks: list[Block],
    *,
    report: Report,
    reader: str,
    files: list[dict],
    parameters: dict[str, Any],
    sample_types,
    join: str,
    patient_clinical: pd.DataFrame | None = None,
    sample_clinical: pd.DataFrame | None = None,
    keep_all_aliquots: bool = False,
    join_on: str = "sample",
):
    """Choose one aliquot per sample per omic, apply the join, add clinical columns and build the store.

    ``join_on="patient"`` keys every omic by patient (one row per patient and omic, see
    :func:`~harmonomics.samples.choose_samples`), so that omics keyed by aliquot, sample or patient meet.
    """
    import anndata as ad

    from ..store import new_store

    if join not in JOINS:
        raise ValueError(f"join must be one of {JOINS}, got {join!r}")
    if join_on not in KEY_LEVELS:
        raise ValueError(f"join_on must be one of {KEY_LEVELS}, got {join_on!r}")
    codes = resolve_sample_types(sample_types)
    adatas: dict[str, ad.AnnData] = {}
    for block in blocks:
        if block.values.shape[0] == 0:
            continue
        a = _block_modality(block, report, codes, sample_types, keep_all_aliquots=keep_all_aliquots, join_on=join_on)
        if a is not None:
            adatas[block.omic] = a
    if not adatas:
        raise FormatError(f"no samples left after the sample-type policy {sample_types!r}; the report lists why")
    all_keys = _apply_join(adatas, join, report)

    obs = sample_table(all_keys)
    if join_on == "patient":
        _samples_of_patients(obs, adatas, report)
        if sample_clinical is not None and len(sample_clinical):
            sample_clinical = _clinical_by_patient(sample_clinical, obs, report)
    obs = _add_sample_clinical(obs, sample_clinical, report)
    obs = _add_patient_clinical(obs, patient_clinical, report)
    if "pam50" in obs:
        obs["pam50"] = normalize_pam50(obs["pam50"]).to_numpy()
    obs = writable_obs(obs)
    for k in all_keys:
        omics = [n for n, a in adatas.items() if k in a.obs_names]
        report.add("sample", k, ",".join(omics), k, "kept", f"sample in {len(omics)} omic(s): {', '.join(omics)}")
    clinical_uns = {}
    if patient_clinical is not None and len(patient_clinical):
        clinical_uns["clinical_patients"] = uns_table(patient_clinical)
    if sample_clinical is not None and len(sample_clinical):
        clinical_uns["clinical_samples"] = uns_table(sample_clinical)
    order = [m for m in _keys.MODALITIES if m in adatas] + [m for m in adatas if m not in _keys.MODALITIES]
    # new_store adds obs columns one at a time; the clinical columns (a Xena matrix has ~150) are joined at once
    base = [c for c in obs.columns if c in ("patient", "sample", "sample_type", "sample_type_code")]
    with mudata_options():
        mdata = new_store(
            {m: adatas[m] for m in order},
            obs=obs[base],
            reader=reader,
            files=files,
            parameters={
                **parameters,
                "sample_types": _jsonable(sample_types),
                "join": join,
                "keep_all_aliquots": bool(keep_all_aliquots),
                "join_on": join_on,
            },
            report=report.frame(),
        )
    rest = [c for c in obs.columns if c not in base and c not in mdata.obs.columns]
    if rest:
        mdata.obs = pd.concat([mdata.obs, obs[rest].reindex(mdata.obs_names)], axis=1)
    for k, v in clinical_uns.items():
        mdata.uns[k] = v
    return mdata


def _block_modality(block: Block, report: Report, codes, sample_types, *, keep_all_aliquots: bool, join_on: str):
    """One block's AnnData, one row per chosen sample (sorted by key); None when no sample passes the policy."""
    import anndata as ad

    pos, keys, rep = choose_samples(
        block.ids,
        omic=block.omic,
        analyte_kind=block.analyte_kind,
        sample_types=codes,
        source_files=block.source_files,
        keep_all_aliquots=keep_all_aliquots,
        key_level=join_on,
    )
    report.extend(rep)
    if len(pos) == 0:
        report.add(
            "file",
            block.omic,
            block.omic,
            "",
            "dropped",
            f"no {block.omic} sample passed the sample-type policy {sample_types!r}",
        )
        return None
    order = np.argsort(np.asarray(keys, dtype=str), kind="stable")
    pos, keys = pos[order], keys[order]
    written = np.asarray(block.ids, dtype=object)[pos]
    norm = _bc.normalize_barcodes(written)
    obs = pd.DataFrame(
        {
            _keys.MOD_OBS_ALIQUOT: norm["barcode"].to_numpy(dtype=object),
            _keys.MOD_OBS_SOURCE_FILE: np.asarray(block.source_files, dtype=object)[pos],
        },
        index=pd.Index(keys, dtype=object).astype(str),
    )
    if (norm["change"] != "").any():  # the ID as the file wrote it (R-style, lower case)
        obs["id_as_written"] = norm["id"].to_numpy(dtype=object)
    if block.obs is not None:
        for c in block.obs.columns:
            obs[c] = block.obs[c].to_numpy()[pos]
    identity = len(pos) == block.values.shape[0] and np.array_equal(pos, np.arange(len(pos)))
    X = block.values if identity else block.values[pos]
    layers = {k: (v if identity else v[pos]) for k, v in block.layers.items()}
    var = block.var.copy()
    var.index = var.index.astype(str)
    a = ad.AnnData(X=X, obs=obs, var=var, layers=layers or None)
    a.uns["scale"] = block.uns.pop("scale", None) or guess_scale(block.omic, X)
    for k, v in block.uns.items():
        a.uns[k] = v
    # release the source arrays early
    block.values = np.empty((0, 0))
    block.layers = {}
    return a


def _apply_join(adatas: dict, join: str, report: Report) -> list[str]:
    """The sorted sample keys of the store; ``join="intersection"`` drops (and reports) samples lacking an omic."""
    all_keys = sorted(set().union(*[set(a.obs_names) for a in adatas.values()]))
    if join == "intersection":
        common = set.intersection(*[set(a.obs_names) for a in adatas.values()])
        for name, a in list(adatas.items()):
            drop = [k for k in a.obs_names if k not in common]
            for k in drop:
                report.add(
                    "sample",
                    k,
                    name,
                    k,
                    "dropped",
                    f"join='intersection': sample lacks at least one of the omics {sorted(adatas)}",
                )
            if drop:
                adatas[name] = a[a.obs_names.isin(list(common))].copy()
        all_keys = sorted(common)
    return all_keys


def _add_sample_clinical(obs: pd.DataFrame, sample_clinical: pd.DataFrame | None, report: Report) -> pd.DataFrame:
    """``obs`` with the sample-level clinical columns (rows without omic data are reported)."""
    if sample_clinical is None or not len(sample_clinical):
        return obs
    for s in sample_clinical.index[~sample_clinical.index.isin(obs.index)]:
        report.add("sample", s, "clinical", s, "dropped", "clinical row without any omic data kept")
    extra = sample_clinical.reindex(obs.index)
    added = {}
    for c in extra.columns:
        # the barcode's own values win; the source's spelling ("Primary Tumor") goes beside them
        if c in ("patient", "sample", "sample_type", "sample_type_code") and c in obs and obs[c].notna().any():
            added[f"{c}_clinical"] = extra[c].to_numpy()
        elif c in obs.columns:
            obs[c] = extra[c].to_numpy()
        else:
            added[c] = extra[c].to_numpy()
    obs = _with_columns(obs, added)
    return obs


def _add_patient_clinical(obs: pd.DataFrame, patient_clinical: pd.DataFrame | None, report: Report) -> pd.DataFrame:
    """``obs`` with the patient-level clinical columns (filling gaps only; patients without samples are reported)."""
    if patient_clinical is None or not len(patient_clinical):
        return obs
    extra = patient_clinical.reindex(obs["patient"].to_numpy())
    added = {}
    for c in extra.columns:
        if c in ("patient", "sample", "sample_type", "sample_type_code") and c in obs and obs[c].notna().any():
            added[f"{c}_clinical"] = extra[c].to_numpy()
        elif c in obs.columns:
            if obs[c].isna().all():
                obs[c] = extra[c].to_numpy()
            else:
                obs[c] = obs[c].where(obs[c].notna(), pd.Series(extra[c].to_numpy(), index=obs.index))
        else:
            added[c] = extra[c].to_numpy()
    obs = _with_columns(obs, added)
    have = set(obs["patient"])
    for p in patient_clinical.index:
        if p not in have:
            report.add("patient", p, "clinical", "", "dropped", "clinical record without any omic sample kept")
    return obs


def guess_scale(omic: str, X: np.ndarray) -> str:
    """The scale of a modality's values as read: counts, linear, log2, beta, copy_number, gistic, binary, rppa."""
    finite = X[np.isfinite(X)] if X.size else X
    if omic == _keys.MUT:
        return "binary"
    if omic == _keys.PROT:
        return "rppa"
    if finite.size == 0:
        return "unknown"
    lo, hi = float(finite.min()), float(finite.max())
    integer = bool(np.all(finite == np.round(finite)))
    if omic == _keys.METH:
        return "beta" if lo >= 0 and hi <= 1 else "m_value"
    if omic == _keys.CNV:
        if integer and lo >= -2 and hi <= 2 and lo < 0:
            return "gistic"
        if lo >= 0 and integer:
            return "copy_number"
        return "log2"
    if lo < 0:
        return "log2" if omic in (_keys.RNA, _keys.MIRNA) else "relative"
    if integer:
        return "counts"
    return "linear" if hi > 50 else "log2"


def _jsonable(v):
    if v is None or isinstance(v, str):
        return v if v is not None else "all"
    return list(v)


def file_records(entries: Iterable[tuple[Path, str, int, str]]) -> list[dict]:
    """Provenance rows from ``(path, md5, size, format)``."""
    return [{"path": str(p), "md5": m, "size": int(s), "format": f} for p, m, s, f in entries]


def feature_names(symbols, entrez=None, *, path=None, header_line: int = 1) -> tuple[pd.Index, pd.DataFrame]:
    """Unique feature IDs from symbol (and Entrez) columns, with a var table ``symbol``, ``entrez``.

    A blank symbol becomes ``?|ENTREZ``; a symbol that repeats becomes ``SYMBOL|ENTREZ``. IDs of the
    ``SYMBOL|ENTREZ`` form are split into the two columns. Raises FormatError when IDs still repeat.
    """
    from .._genes import parse_gene_ids

    sym = pd.Series(symbols, dtype=object).where(pd.notna(symbols), "").astype(str).str.strip().to_numpy(dtype=object)
    ent = (
        None if entrez is None else pd.Series(entrez, dtype=object).where(pd.notna(entrez), "").astype(str).str.strip()
    )
    if ent is not None:
        ent = ent.str.replace(r"\.0$", "", regex=True).to_numpy(dtype=object)
    names = sym.copy()
    if ent is not None:
        blank = (names == "") | (names == "NA")
        names[blank] = np.array([f"?|{e}" if e else "" for e in ent[blank]], dtype=object)
        dup = pd.Index(names).duplicated(keep=False)
        if dup.any():
            names[dup] = np.array(
                [f"{s or '?'}|{e}" if e else s for s, e in zip(sym[dup], ent[dup], strict=True)], dtype=object
            )
    idx = pd.Index(names, dtype=object)
    empty = np.flatnonzero(idx == "")
    if len(empty):
        raise FormatError(
            "a row has no feature ID (blank symbol and no Entrez ID); expected an identifier on every row",
            path=path,
            line=header_line + 1 + int(empty[0]),
        )
    if not idx.is_unique:
        dup = idx[idx.duplicated()][0]
        rows = np.flatnonzero(idx == dup)
        raise FormatError(
            f"duplicate feature {dup!r} (rows at lines {header_line + 1 + rows[0]} and "
            f"{header_line + 1 + rows[1]}); expected unique feature IDs",
            path=path,
            line=header_line + 1 + int(rows[1]),
        )
    parsed = parse_gene_ids(idx)
    var = pd.DataFrame(index=idx)
    symbol = (
        np.where(
            parsed["id_type"].to_numpy() == "symbol|entrez", parsed["symbol"].to_numpy(), np.where(sym != "", sym, None)
        )
        if ent is not None
        else parsed["symbol"].to_numpy()
    )
    var["symbol"] = _id_strings(symbol)
    if ent is not None:
        # Entrez IDs stay strings; blank and 0 (MAF's "unknown") are missing
        var["entrez"] = _id_strings(np.where((ent != "") & (ent != "0"), ent, None))
    elif (parsed["entrez"].notna()).any():
        var["entrez"] = _id_strings(parsed["entrez"].to_numpy())
    return idx, var


def _with_columns(obs: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """``obs`` with new columns added at once (a clinical table can bring hundreds)."""
    if not columns:
        return obs
    return pd.concat([obs, pd.DataFrame(columns, index=obs.index)], axis=1)


def writable_obs(obs: pd.DataFrame) -> pd.DataFrame:
    """Object columns as strings with missing values (never a mix of numbers and strings, never all None)."""
    for c in obs.columns:
        if obs[c].dtype == object:
            values = obs[c].to_numpy(dtype=object)
            present = values[~pd.isna(values)]
            if len(present) and all(isinstance(v, (bool, np.bool_)) for v in present):
                continue
            if len(present) and all(isinstance(v, (int, float, np.number)) for v in present):
                obs[c] = pd.to_numeric(obs[c], errors="coerce")
                continue
            obs[c] = writable_strings(values)
    return obs


def _clinical_by_patient(clinical: pd.DataFrame, obs: pd.DataFrame, report: Report) -> pd.DataFrame:
    """A sample-keyed clinical table re-keyed by patient: the row of the sample the omics used, else the patient's
    only row, else the lowest sample-type code; other rows are reported."""
    ids = pd.Index(clinical.index.astype(str))
    kinds = _bc.sample_id_kinds(ids)
    patient = np.asarray(ids, dtype=object).copy()
    if (kinds == "tcga").any():
        patient[kinds == "tcga"] = _bc.parse_barcodes(ids[kinds == "tcga"])["patient"].to_numpy()
    used = obs["sample"].astype(object).to_dict() if "sample" in obs else {}
    table = pd.DataFrame(
        {
            "pos": np.arange(len(ids)),
            "id": ids,
            "patient": patient,
            "used": [str(used.get(p)) == i[:15] for p, i in zip(patient, ids, strict=True)],
        }
    )
    table = table.sort_values(["patient", "used", "id"], ascending=[True, False, True], kind="mergesort")
    keep = ~table["patient"].duplicated().to_numpy()
    for r in table[~keep].itertuples(index=False):
        report.add(
            "sample",
            r.id,
            "clinical",
            r.patient,
            "dropped",
            "join_on='patient': another clinical row of this patient was used (the sample its omics came from, "
            "or the lowest sample-type code)",
        )
    out = clinical.iloc[table["pos"][keep].to_numpy()].copy()
    out.index = pd.Index(table["patient"][keep].to_numpy(), dtype=object)
    if "sample" not in out.columns:
        out.insert(0, "sample", table["id"][keep].to_numpy())
    return out


def _id_strings(values) -> np.ndarray:
    """An ID column for var: strings, None where missing; "" everywhere when every value is missing.

    h5py cannot write an object column that holds no string at all (an all-blank Entrez column).
    """
    arr = np.asarray(values, dtype=object)
    missing = pd.isna(arr)
    if missing.all():
        return np.full(len(arr), "", dtype=object)
    return arr


def _samples_of_patients(obs: pd.DataFrame, adatas: dict, report: Report) -> None:
    """With one row per patient: the sample each omic used, and the sample type where the omics agree."""
    used = pd.DataFrame(
        {
            name: pd.Series(
                _bc.normalize_barcodes(a.obs[_keys.MOD_OBS_ALIQUOT])["barcode"].to_numpy(), index=a.obs_names
            )
            for name, a in adatas.items()
        }
    ).reindex(obs.index)
    samples = pd.DataFrame(index=obs.index)
    for name in used.columns:
        column = used[name]
        tcga = column.notna().to_numpy() & (_bc.sample_id_kinds(column.fillna("")) == "tcga")
        values = np.full(len(column), None, dtype=object)
        if tcga.any():
            values[tcga] = _bc.parse_barcodes(column[tcga])["sample"].to_numpy()
        samples[name] = values
    distinct = samples.apply(lambda row: sorted({v for v in row if isinstance(v, str)}), axis=1)
    sample = np.array([",".join(v) if v else None for v in distinct], dtype=object)
    one = np.array([len(v) == 1 for v in distinct], dtype=bool)
    for key, values in zip(obs.index[~one], distinct[~one], strict=True):
        if len(values) > 1:
            report.add(
                "patient",
                key,
                ",".join(used.columns),
                key,
                "kept",
                f"join_on='patient': the omics come from different samples of this patient ({', '.join(values)}); "
                "no single sample type",
            )
    codes = np.array([v[0][13:15] if len(v) == 1 else None for v in distinct], dtype=object)
    obs["sample"] = writable_strings(sample)
    obs["sample_type_code"] = writable_strings(codes)
    obs["sample_type"] = writable_strings(
        pd.Series(codes, dtype=object).map(_bc.SAMPLE_TYPES["letter_code"]).to_numpy()
    )


def matrix_block(
    omic: str, matrix, *, source_file: str, analyte_kind: str | None, var: pd.DataFrame, path=None
) -> Block:
    """A features × samples :class:`~harmonomics.io._parsers.Matrix` as a Block (rows = samples)."""
    return Block(
        omic=omic,
        ids=list(matrix.columns),
        source_files=[source_file] * len(matrix.columns),
        values=np.ascontiguousarray(matrix.values.T),
        var=var,
        analyte_kind=analyte_kind,
    )
