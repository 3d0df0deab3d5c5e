"""Low-level text reading shared by the per-format parsers: bytes, gzip, comment lines, pyarrow tables.

The fast path parses with :mod:`pyarrow.csv`. When pyarrow rejects a file (a row with the wrong number of
fields, a cell that is not a number), a slow line-by-line pass finds the first offending line and column so
that the :class:`~harmonomics._errors.FormatError` names them.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from ._errors import EmptyInputError, FormatError

# Strings read as missing values across the public formats.
NULL_VALUES = ["", "NA", "NaN", "nan", "'--", "--", "[Not Available]", "[Not Applicable]", "[Unknown]", "null", "None"]
_NULL_SET = frozenset(NULL_VALUES)
_NON_SPACE = re.compile(rb"\S")


def read_bytes(path: str | PathLike) -> bytes:
    """The file's bytes, gunzipped when it is gzip-compressed (by magic number, not by name)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError as err:
        raise FormatError("expected a file, found a folder", path=path) from err
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as err:
            raise FormatError(
                f"the gzip stream is truncated or corrupt ({err}); expected a complete gzip file", path=path
            ) from err
    return raw


def head_text(path: str | PathLike, n_bytes: int = 65536) -> str:
    """The first ``n_bytes`` of the (decompressed) file as text, for format sniffing."""
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as fh:
                data = fh.read(n_bytes)
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as err:
            # a truncated stream still yields its beginning
            data = b""
            try:
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data = d.decompress(path.read_bytes()[: 4 * n_bytes + 1024], n_bytes)
            except zlib.error:
                raise FormatError(f"the gzip stream is corrupt ({err})", path=path) from err
    else:
        with open(path, "rb") as fh:
            data = fh.read(n_bytes)
    return data.decode("utf-8", errors="replace")


@dataclass
class TextFile:
    """A text table split into its leading comment lines, header and body."""

    path: Path
    data: bytes
    comments: list[str]  # leading comment lines, without the newline
    header_offset: int  # byte offset of the first non-comment line
    header_line: int  # 1-based line number of that line

    @property
    def first_line(self) -> str:
        end = self.data.find(b"\n", self.header_offset)
        end = len(self.data) if end < 0 else end
        return self.data[self.header_offset : end].decode("utf-8", errors="replace").rstrip("\r")

    def header(self, sep: str = "\t") -> list[str]:
        return self.first_line.split(sep)

    @property
    def body_offset(self) -> int:
        end = self.data.find(b"\n", self.header_offset)
        return len(self.data) if end < 0 else end + 1

    def has_body(self, offset: int | None = None) -> bool:
        start = self.body_offset if offset is None else offset
        return _NON_SPACE.search(self.data, start) is not None


def open_text(path: str | PathLike, *, comment: str | None = "#", data: bytes | None = None) -> TextFile:
    """Read a file and split off its leading comment lines (all of them, however many there are)."""
    path = path if isinstance(path, Path) else Path(path)  # Path(Path) re-parses: thousands of files per read
    if data is None:
        data = read_bytes(path)
    if _NON_SPACE.search(data) is None:
        raise EmptyInputError("the file is empty; expected a header and data rows", path=path)
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    offset = 0
    comments: list[str] = []
    if comment:
        cb = comment.encode()
        while data.startswith(cb, offset) or data.startswith(b"\n", offset) and comments:
            end = data.find(b"\n", offset)
            end = len(data) if end < 0 else end
            line = data[offset:end].decode("utf-8", errors="replace").rstrip("\r")
            comments.append(line)
            offset = end + 1
            if offset >= len(data):
                break
    if offset >= len(data) or _NON_SPACE.search(data, offset) is None:
        raise EmptyInputError(
            f"the file has only {len(comments)} comment line(s) and no header; expected a header and data rows",
            path=path,
            line=len(comments) + 1,
        )
    return TextFile(path=path, data=data, comments=comments, header_offset=offset, header_line=len(comments) + 1)


def require_columns(tf: TextFile, header: Sequence[str], required: Sequence[str], what: str) -> None:
    """Raise a FormatError naming the missing columns when ``header`` lacks any of ``required``."""
    missing = [c for c in required if c not in header]
    if missing:
        shown = "\t".join(header[:12]) + ("\t..." if len(header) > 12 else "")
        raise FormatError(
            f"wrong header for {what}: missing column(s) {missing}; expected columns {list(required)}, found {shown!r}",
            path=tf.path,
            line=tf.header_line,
        )
    counts = Counter(header)
    dupes = sorted(c for c in set(required) if counts[c] > 1)
    if dupes:
        raise FormatError(f"duplicate column(s) {dupes} in the header of {what}", path=tf.path, line=tf.header_line)


def arrow_options(
    column_names: Sequence[str],
    *,
    include: Sequence[str] | None = None,
    numeric: Sequence[str] = (),
    strings: Sequence[str] = (),
    integer: Sequence[str] = (),
    dictionary: Sequence[str] = (),
    null_values: Sequence[str] = NULL_VALUES,
    use_threads: bool = False,
    delimiter: str = "\t",
):
    """The pyarrow CSV options every parse uses: explicit column types, our null strings, no quoting in TSV.

    ``dictionary`` columns (feature IDs repeated across many files) are read dictionary-encoded.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    column_types = {c: pa.float64() for c in numeric}
    column_types.update({c: pa.string() for c in strings})
    column_types.update({c: pa.int64() for c in integer})
    column_types.update({c: pa.dictionary(pa.int32(), pa.string()) for c in dictionary})
    read_options = pacsv.ReadOptions(column_names=list(column_names), use_threads=use_threads, block_size=1 << 24)
    parse_options = pacsv.ParseOptions(
        delimiter=delimiter,
        quote_char='"' if delimiter == "," else False,
        double_quote=delimiter == ",",
        newlines_in_values=False,
    )
    convert_options = pacsv.ConvertOptions(
        column_types=column_types,
        include_columns=list(include) if include is not None else None,
        null_values=list(null_values),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        check_utf8=False,
    )
    return read_options, parse_options, convert_options


def arrow_table(
    tf: TextFile,
    *,
    column_names: Sequence[str],
    skip_header: bool = True,
    include: Sequence[str] | None = None,
    numeric: Sequence[str] = (),
    strings: Sequence[str] = (),
    integer: Sequence[str] = (),
    null_values: Sequence[str] = NULL_VALUES,
    what: str = "table",
    use_threads: bool = False,
    delimiter: str = "\t",
):
    """Parse the body with pyarrow; on failure find the offending line/column and raise FormatError.

    ``numeric`` columns are parsed as float64, ``strings`` as string; others are inferred unless ``include``
    restricts the columns read.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    start = tf.body_offset if skip_header else tf.header_offset
    first_data_line = tf.header_line + (1 if skip_header else 0)
    if not tf.has_body(start):
        raise EmptyInputError(
            f"{what} has a header but no data rows; the file may be truncated", path=tf.path, line=first_data_line
        )
    read_options, parse_options, convert_options = arrow_options(
        column_names,
        include=include,
        numeric=numeric,
        strings=strings,
        integer=integer,
        null_values=null_values,
        use_threads=use_threads,
        delimiter=delimiter,
    )
    buf = pa.py_buffer(memoryview(tf.data)[start:])
    try:
        return pacsv.read_csv(
            buf, read_options=read_options, parse_options=parse_options, convert_options=convert_options
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowKeyError) as err:
        diagnose(
            tf,
            column_names=column_names,
            start=start,
            first_line=first_data_line,
            numeric=numeric,
            what=what,
            delimiter=delimiter,
            integer=integer,
        )
        raise FormatError(f"could not parse {what}: {err}", path=tf.path) from err


def diagnose(
    tf: TextFile,
    *,
    column_names: Sequence[str],
    start: int,
    first_line: int,
    numeric: Sequence[str] = (),
    what: str = "table",
    null_values: Sequence[str] = NULL_VALUES,
    delimiter: str = "\t",
    integer: Sequence[str] = (),
) -> None:
    """Slow pass: raise FormatError at the first row with a wrong field count or a non-numeric number cell."""
    nulls = frozenset(null_values)
    names = list(column_names)
    # (field index, column, parser, what the parser expects): number cells first, then integer cells
    checks = [(names.index(c), c, float, "a number") for c in numeric if c in names]
    checks += [(names.index(c), c, int, "an integer") for c in integer if c in names]
    text = tf.data[start:].decode("utf-8", errors="replace")
    lines = text.split("\n")
    n_lines = len(lines)
    for i, line in enumerate(lines):
        line = line.rstrip("\r")
        if not line:
            continue
        fields = line.split(delimiter)
        lineno = first_line + i
        if len(fields) != len(names):
            is_last = all(not rest.strip() for rest in lines[i + 1 :]) if i >= n_lines - 3 else False
            hint = "; the file looks truncated" if is_last else ""
            raise FormatError(
                f"expected {len(names)} {'tab' if delimiter == chr(9) else repr(delimiter)}-separated fields in "
                f"{what}, found {len(fields)}{hint}",
                path=tf.path,
                line=lineno,
            )
        for j, col, parse, expected in checks:
            value = fields[j]
            if value in nulls:
                continue
            try:
                parse(value)
            except ValueError:
                raise FormatError(
                    f"expected {expected} in {what}, found {value!r}", path=tf.path, line=lineno, column=col
                ) from None


def locate_row(tf: TextFile, row: int, *, skip_header: bool = True) -> int:
    """1-based file line number of 0-based data row ``row`` (counting non-empty lines after the header)."""
    start = tf.body_offset if skip_header else tf.header_offset
    first = tf.header_line + (1 if skip_header else 0)
    seen = -1
    for i, line in enumerate(tf.data[start:].split(b"\n")):
        if line.strip(b"\r"):
            seen += 1
            if seen == row:
                return first + i
    return first + row


def column_numpy(table, name: str, dtype=np.float64) -> np.ndarray:
    """A pyarrow column as a numpy array (NaN for nulls when float)."""
    col = table.column(name)
    if dtype is object:
        return np.asarray(col.to_pylist(), dtype=object)
    return col.to_numpy(zero_copy_only=False).astype(dtype, copy=False)


def column_strings(table, name: str) -> np.ndarray:
    """A string column as an object array (None for nulls)."""
    return table.column(name).to_numpy(zero_copy_only=False)


def is_null_text(value: str) -> bool:
    return value in _NULL_SET
