"""Parse many files of one format in a single pyarrow pass (the fast path of :func:`~harmonomics.io.read_gdc`).

A GDC download holds thousands of small files in a handful of formats. Parsed one by one, each file costs a
fixed ~0.3 ms of pyarrow set-up and Python, which for the small ones (RPPA, miRNA, MAF) is more than the
parsing itself. Here the bodies of all files that share a format and a header line are joined into one
buffer, parsed once, and cut back into each file's rows; the checks the per-file parsers make (IDs present,
counts integer, betas in [0, 1], ...) run once over the whole column.

The batch is a fast path, never a different rule: any file it cannot vouch for (no body, a missing ID, a value
a per-file check would reject) and every file of a group whose joint parse fails is handed to its per-file
parser in :mod:`harmonomics.io._parsers`, which gives the same result or raises the precise error
naming the file, line and column. ``tests/io/test_batch.py`` checks that both paths agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._text import TextFile, arrow_options, open_text
from . import _parsers as P

# (path, decompressed bytes) of one file
Item = tuple[Path, bytes]


@dataclass
class TableBatch:
    """The rows of several files parsed together: file ``members[k]``'s rows are ``starts[k]:starts[k + 1]``."""

    table: Any  # pyarrow.Table
    starts: np.ndarray
    members: list[int]  # positions of the files in the caller's list

    def file_of_rows(self, rows: np.ndarray) -> np.ndarray:
        """The batch position (index into ``members``) of each row."""
        return np.searchsorted(self.starts, rows, side="right") - 1

    def column_numpy(self, name: str) -> np.ndarray:
        return self.table.column(name).to_numpy()

    def ids(self, name: str):
        """A dictionary-encoded ID column as (dictionary, int32 codes); a null ID has code -1."""
        column = self.table.column(name)
        if column.num_chunks > 1:
            column = column.unify_dictionaries()  # each parse block has its own dictionary
        if column.num_chunks == 0:
            import pyarrow as pa

            return pa.array([], type=pa.string()), np.empty(0, dtype=np.int32)
        dictionary = column.chunk(0).dictionary
        codes = np.concatenate([chunk.indices.fill_null(-1).to_numpy() for chunk in column.chunks])
        return dictionary, codes.astype(np.int32, copy=False)


# A row that no public file holds (its ID cell is a control character) is put after each file's body: after the
# joint parse, these rows mark where each file's rows end, whatever blank lines or line endings the files have.
SENTINEL = "\x01"


def batch_tables(
    texts: Sequence[TextFile | None],
    options: Callable[[list[str]], dict | None],
    *,
    marker_column: str,
    skip_header: bool = True,
    column_names: Sequence[str] | None = None,
) -> list[TableBatch]:
    """Group ``texts`` by their header line and parse each group's bodies in one pyarrow pass.

    ``options(header)`` gives the :func:`~harmonomics._text.arrow_options` keywords for a header, or
    ``None`` when files with that header must be parsed one by one (e.g. a required column is missing, so that
    the per-file parser names it). ``marker_column`` is a string column that is read (it carries the marker
    rows that separate the files). Files that are ``None`` or have no body are left out; so is every file of a
    group whose joint parse fails (each file's own parse will name the offending line).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    groups: dict[bytes, list[int]] = {}
    for i, tf in enumerate(texts):
        if tf is None:
            continue
        start = tf.body_offset if skip_header else tf.header_offset
        if tf.has_body(start):
            key = tf.data[tf.header_offset : tf.body_offset] if skip_header else b""
            groups.setdefault(key, []).append(i)
    batches = []
    for key, members in groups.items():
        names = (
            list(column_names)
            if column_names is not None
            else key.decode("utf-8", errors="replace").rstrip("\r\n").split("\t")
        )
        kwargs = options(names)
        if kwargs is None or marker_column not in names:
            continue
        if kwargs.get("include") is not None and marker_column not in kwargs["include"]:
            raise ValueError(f"the marker column {marker_column!r} must be among the columns read")
        marker_row = ("\t".join(SENTINEL if name == marker_column else "" for name in names) + "\n").encode()
        parts: list[Any] = []
        for i in members:
            tf = texts[i]
            parts.append(memoryview(tf.data)[tf.body_offset if skip_header else tf.header_offset :])
            if not tf.data.endswith(b"\n"):
                parts.append(b"\n")
            parts.append(marker_row)
        read_options, parse_options, convert_options = arrow_options(names, use_threads=True, **kwargs)
        try:
            table = pacsv.read_csv(
                pa.py_buffer(b"".join(parts)),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowKeyError):
            continue
        is_marker = _is_marker(table.column(marker_column))
        ends = np.flatnonzero(is_marker)
        if len(ends) != len(members) or ends[-1] != table.num_rows - 1:
            continue  # a file held the marker itself: leave the group to the per-file parsers
        table = table.filter(pa.array(~is_marker))
        starts = np.concatenate([[0], ends + 1]) - np.arange(len(members) + 1)  # positions once markers are gone
        batches.append(TableBatch(table=table, starts=starts, members=members))
    return batches


def _is_marker(column) -> np.ndarray:
    """Where a (string or dictionary-encoded) column holds the marker."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            code = chunk.dictionary.index(SENTINEL).as_py()  # compare the small codes, not the strings
            hit = pc.equal(chunk.indices, code) if code >= 0 else pa.array(np.zeros(len(chunk), dtype=bool))
        else:
            hit = pc.equal(chunk, SENTINEL)
        parts.append(hit.fill_null(False).to_numpy(zero_copy_only=False))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _open_all(items: Sequence[Item], comment: str | None) -> list[TextFile | None]:
    """Each file split into comments, header and body; ``None`` for a file its per-file parser must judge."""
    texts: list[TextFile | None] = []
    for path, data in items:
        try:
            texts.append(open_text(path, comment=comment, data=data))
        except Exception:  # noqa: BLE001 - empty or comment-only: the per-file parser raises the precise error
            texts.append(None)
    return texts


def _excluded(starts: np.ndarray, bad_rows: np.ndarray) -> set[int]:
    """Batch positions of the files (rows ``starts[k]:starts[k + 1]``) that own any of the ``bad_rows`` mask."""
    rows = np.flatnonzero(bad_rows)
    return set(np.unique(np.searchsorted(starts, rows, side="right") - 1).tolist())


def _profiles(
    batch: TableBatch,
    texts: Sequence[TextFile | None],
    out: list,
    *,
    id_column: str,
    value_column: str,
    layer_columns: dict[str, str],
    var_columns: Sequence[str] = (),
    bad_value: Callable[[np.ndarray], np.ndarray] | None = None,
    qc_prefix: str | None = None,
    meta_from_comments: bool = False,
) -> None:
    """Cut a batch of one-value-per-feature files into :class:`~harmonomics.io._parsers.Profile` objects in ``out``.

    Files whose rows hold a null ID or a value ``bad_value`` flags are left as ``None`` (the per-file parser
    raises). Files that list the same features in the same order share one features array.
    """
    if var_columns and qc_prefix is not None:
        raise ValueError("annotation columns are not cut per file when QC rows are dropped")
    dictionary, codes = batch.ids(id_column)
    values = batch.column_numpy(value_column)
    layers = {name: batch.column_numpy(column) for name, column in layer_columns.items()}
    starts = batch.starts
    n_files = len(batch.members)
    excluded = _excluded(starts, codes < 0)

    qc: list[dict[str, float]] = [{} for _ in range(n_files)]
    if qc_prefix is not None:
        import pyarrow.compute as pc

        # STAR's N_ rows: per-file numbers, not genes
        is_qc_entry = pc.starts_with(dictionary, qc_prefix).to_numpy(zero_copy_only=False)
        is_qc = np.zeros(len(codes), dtype=bool) if not len(is_qc_entry) else is_qc_entry[codes] & (codes >= 0)
        qc_rows = np.flatnonzero(is_qc)
        qc_names = dictionary.take(codes[qc_rows]).to_pylist()
        for k, name, value in zip(
            batch.file_of_rows(qc_rows).tolist(), qc_names, values[qc_rows].tolist(), strict=True
        ):
            qc[k][str(name)] = float(value)
        keep = ~is_qc
        kept_per_file = np.bincount(batch.file_of_rows(np.flatnonzero(keep)), minlength=n_files)
        excluded |= set(np.flatnonzero(kept_per_file == 0).tolist())  # no gene rows: the per-file parser says so
        codes, values = codes[keep], values[keep]
        layers = {name: layer[keep] for name, layer in layers.items()}
        starts = np.concatenate([[0], np.cumsum(kept_per_file)])
    if bad_value is not None:
        excluded |= _excluded(starts, bad_value(values))

    shared_features: dict[bytes, Any] = {}  # one features array per distinct feature list
    var_data = {c: batch.table.column(c) for c in var_columns}
    for k, member in enumerate(batch.members):
        if k in excluded:
            continue
        lo, hi = int(starts[k]), int(starts[k + 1])
        file_codes = codes[lo:hi]
        key = file_codes.tobytes()
        features = shared_features.get(key)
        if features is None:
            features = shared_features[key] = dictionary.take(file_codes)
        profile = P.Profile(
            features=features,
            values=values[lo:hi],
            layers={name: layer[lo:hi] for name, layer in layers.items()},
            qc=qc[k],
        )
        for c in var_columns:
            profile.var[c] = var_data[c].slice(lo, hi - lo).combine_chunks()
        if meta_from_comments:
            profile.meta = P.comment_meta(texts[member].comments)
        out[member] = profile


# ------------------------------------------------------------------------------------------- per format
def _star(items: Sequence[Item], out: list, *, layers: tuple[str, ...]) -> None:
    texts = _open_all(items, "#")

    def options(header: list[str]) -> dict | None:
        if any(c not in header for c in P.STAR_REQUIRED) or len(set(header)) != len(header):
            return None
        numeric = ["unstranded", *(c for c in layers if c in header)]
        return {"include": ["gene_id", *numeric], "numeric": numeric, "dictionary": ["gene_id"]}

    for batch in batch_tables(texts, options, marker_column="gene_id"):
        header = batch.table.column_names
        _profiles(
            batch,
            texts,
            out,
            id_column="gene_id",
            value_column="unstranded",
            layer_columns={c: c for c in layers if c in header},
            bad_value=P.bad_count,
            qc_prefix="N_",
            meta_from_comments=True,
        )


def _simple(
    items: Sequence[Item],
    out: list,
    *,
    required: Sequence[str],
    id_column: str,
    value_column: str,
    layer_columns: dict[str, str] | None = None,
    var_columns: Sequence[str] = (),
    bad_value=None,
) -> None:
    texts = _open_all(items, "#")
    layer_columns = layer_columns or {}

    def options(header: list[str]) -> dict | None:
        if any(c not in header for c in required) or len(set(header)) != len(header):
            return None
        numeric = [value_column, *layer_columns.values()]
        annotation = [c for c in var_columns if c in header]
        return {
            "include": [id_column, *annotation, *numeric],
            "numeric": numeric,
            "strings": annotation,
            "dictionary": [id_column],
        }

    for batch in batch_tables(texts, options, marker_column=id_column):
        _profiles(
            batch,
            texts,
            out,
            id_column=id_column,
            value_column=value_column,
            layer_columns=layer_columns,
            var_columns=[c for c in var_columns if c in batch.table.column_names],
            bad_value=bad_value,
        )


def _meth(items: Sequence[Item], out: list) -> None:
    texts = _open_all(items, None)
    # the per-file parser checks the first line (no header; a probe ID and a beta): files that fail it go there
    for i, tf in enumerate(texts):
        if tf is not None:
            first = tf.first_line.split("\t")
            if len(first) != 2 or not P.looks_like_probe(first[0]):
                texts[i] = None

    def options(_header: list[str]) -> dict:
        return {"numeric": ["beta"], "dictionary": ["probe"]}

    for batch in batch_tables(texts, options, marker_column="probe", skip_header=False, column_names=["probe", "beta"]):
        _profiles(batch, texts, out, id_column="probe", value_column="beta", layer_columns={}, bad_value=P.bad_beta)


def _maf(items: Sequence[Item], out: list, *, columns) -> None:
    texts = _open_all(items, "#")

    def options(header: list[str]) -> dict | None:
        if any(c not in header for c in P.MAF_REQUIRED):
            return None
        keep = P.maf_keep_columns(header, columns)
        integer = [c for c in P.MAF_INTEGER_COLUMNS if c in keep]
        return {"include": keep, "integer": integer, "strings": [c for c in keep if c not in integer]}

    for batch in batch_tables(texts, options, marker_column="Hugo_Symbol"):
        missing_barcode = batch.table.column("Tumor_Sample_Barcode").is_null().to_numpy(zero_copy_only=False)
        excluded = _excluded(batch.starts, missing_barcode)
        for k, member in enumerate(batch.members):
            if k not in excluded:
                out[member] = batch.table.slice(int(batch.starts[k]), int(batch.starts[k + 1] - batch.starts[k]))


def parse_many(
    fmt: str,
    items: Sequence[Item],
    *,
    rna_layers: tuple[str, ...] = ("tpm_unstranded",),
    maf_columns: str | tuple[str, ...] = "key",
    annotate_first: bool = True,
) -> list:
    """Parse every file of one GDC format; the result for each file equals its per-file parser's.

    Parameters
    ----------
    fmt
        A format name of :data:`~harmonomics.io._detect.FORMATS` (``gdc_star_counts``, ``gdc_maf``, ...).
    items
        ``(path, decompressed bytes)`` of each file.
    rna_layers, maf_columns
        As in :func:`~harmonomics.io.read_gdc`.
    annotate_first
        Read the feature annotation (gene names, types, positions) from the first file, which is then parsed
        on its own; the others skip it.

    Returns
    -------
    One parsed object per file, in order: a :class:`~harmonomics.io._parsers.Profile`, or a pyarrow Table for
    MAFs.
    """
    out: list = [None] * len(items)
    if fmt == "gdc_star_counts":
        _star(items, out, layers=tuple(rna_layers))
    elif fmt == "gdc_gene_copy_number":
        _simple(
            items,
            out,
            required=("gene_id", "gene_name", "copy_number"),
            id_column="gene_id",
            value_column="copy_number",
        )
    elif fmt == "gdc_mirna":
        _simple(
            items,
            out,
            required=("miRNA_ID", "read_count", "reads_per_million_miRNA_mapped"),
            id_column="miRNA_ID",
            value_column="read_count",
            layer_columns={"rpm": "reads_per_million_miRNA_mapped"},
        )
    elif fmt == "gdc_rppa":
        _simple(
            items,
            out,
            required=("AGID", "peptide_target", "protein_expression"),
            id_column="AGID",
            value_column="protein_expression",
            var_columns=P.RPPA_ANNOTATION,
        )
    elif fmt == "gdc_meth_betas":
        _meth(items, out)
    elif fmt == "gdc_maf":
        _maf(items, out, columns=maf_columns)
    if annotate_first and items and fmt in ("gdc_star_counts", "gdc_gene_copy_number"):
        out[0] = None  # parsed below with its annotation
    for i, (path, data) in enumerate(items):
        if out[i] is None:
            out[i] = parse_one(
                fmt, path, data, rna_layers=rna_layers, maf_columns=maf_columns, annotate=annotate_first and i == 0
            )
    return out


def parse_one(
    fmt: str,
    path: Path,
    data: bytes,
    *,
    rna_layers: tuple[str, ...] = ("tpm_unstranded",),
    maf_columns: str | tuple[str, ...] = "key",
    annotate: bool = True,
):
    """One file through its per-file parser (the reference the batch path must agree with)."""
    if fmt == "gdc_star_counts":
        return P.parse_star_counts(path, layers=tuple(rna_layers), data=data, annotate=annotate)
    if fmt == "gdc_gene_copy_number":
        return P.parse_gene_copy_number(path, data=data, annotate=annotate)
    if fmt == "gdc_mirna":
        return P.parse_mirna(path, data=data)
    if fmt == "gdc_rppa":
        return P.parse_rppa(path, data=data)
    if fmt == "gdc_meth_betas":
        return P.parse_meth_betas(path, data=data)
    if fmt == "gdc_maf":
        return P.parse_maf(path, columns=maf_columns, data=data, as_arrow=True)[0]
    raise ValueError(f"no parser for format {fmt!r}")
