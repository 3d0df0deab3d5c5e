"""The exceptions harmonomics raises.

Every message says what was wrong, where (file, line, column, sample) and what
was expected. Subclasses also derive from the matching builtin (ValueError,
ImportError, ...) so that generic ``except ValueError`` code keeps working.
"""

from __future__ import annotations

from os import PathLike


class HarmonomicsError(Exception):
    """Base class of every harmonomics error.

    Parameters
    ----------
    *args
        The message (what was wrong, where, and what was expected).
    reason
        A one-line summary for tables and status records (e.g. the pipeline's ``"skipped: <reason>"``), when
        the message is longer or carries details (gene lists) that belong in the log only. Default: the
        message's first line.
    """

    def __init__(self, *args: object, reason: str | None = None) -> None:
        super().__init__(*args)
        self._reason = reason

    @property
    def reason(self) -> str:
        """One line saying what went wrong, without the details of the full message."""
        if self._reason is not None:
            return self._reason
        first = str(self.args[0]).strip().splitlines() if self.args else []
        return first[0] if first else type(self).__name__


class FormatError(HarmonomicsError, ValueError):
    """An input file is malformed or not in the expected format.

    Parameters
    ----------
    message
        What was wrong and what was expected.
    path
        The file (or folder) concerned.
    line
        1-based line number, when known.
    column
        Column name or 1-based column number, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike | None = None,
        line: int | None = None,
        column: str | int | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class UnknownFormatError(FormatError):
    """A file or folder is in no format harmonomics recognises."""


class EmptyInputError(FormatError):
    """A file or folder holds no data."""


class SampleMismatchError(HarmonomicsError, ValueError):
    """Samples disagree between sources (e.g. a barcode differs from the sample sheet)."""


class MixedProjectsError(HarmonomicsError, ValueError):
    """One folder mixes files from several projects (e.g. TCGA-BRCA and TCGA-LUAD)."""


class GenomeBuildError(HarmonomicsError, ValueError):
    """The genome build of positional data is unknown, or data of one build (e.g. hg19 segments) would be
    mapped onto coordinates of another (GRCh38)."""


class StoreVersionError(HarmonomicsError, ValueError):
    """A store was written by a newer, unknown version of the format."""


class StoreFormatError(HarmonomicsError, ValueError):
    """A store file does not follow the harmonomics layout."""


class GeneMappingError(HarmonomicsError, ValueError):
    """Too few of the genes a method needs could be found in the data.

    ``missing`` holds the genes that were not found (empty when not given).
    """

    def __init__(self, *args: object, reason: str | None = None, missing: list[str] | None = None) -> None:
        super().__init__(*args, reason=reason)
        self.missing = list(missing or [])


class ScaleError(HarmonomicsError, ValueError):
    """The data are on a different scale from the one a method expects."""


class InsufficientDataError(HarmonomicsError, ValueError):
    """The data are too few for a step (e.g. fewer than 2 samples, a view without any variable feature).

    The message says what is lacking and what to do about it.
    """


class MissingResultError(HarmonomicsError, KeyError):
    """A function needs a result (e.g. a MOFA fit) that is not in the store."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class UnknownSampleError(HarmonomicsError, KeyError):
    """A sample (ID or patient barcode) asked for is not in the store.

    ``sample`` holds the ID as given, ``close_matches`` the store's IDs closest to it (possibly empty).
    """

    def __init__(self, *args: object, sample: str = "", close_matches: list[str] | None = None) -> None:
        super().__init__(*args)
        self.sample = sample
        self.close_matches = list(close_matches or [])

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class AmbiguousSampleError(HarmonomicsError, ValueError):
    """A patient barcode names several samples of the store and none of them is the one primary tumour.

    ``candidates`` holds the sample IDs it could mean.
    """

    def __init__(self, *args: object, candidates: list[str] | None = None) -> None:
        super().__init__(*args)
        self.candidates = list(candidates or [])


class InsufficientMemoryError(HarmonomicsError, MemoryError):
    """A computation would need more memory than is available."""


class MissingDependencyError(HarmonomicsError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def require(module: str, *, extra: str, purpose: str):
    """Import an optional dependency or raise :class:`MissingDependencyError` naming the extra.

    Parameters
    ----------
    module
        Module to import, e.g. ``"lifelines"``.
    extra
        The harmonomics extra that installs it, e.g. ``"survival"``.
    purpose
        What it is needed for, used in the message.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:  # pragma: no cover - exercised only where the extra is missing
        raise MissingDependencyError(
            f"{purpose} needs the optional package {module!r}: install it with `pip install harmonomics[{extra}]`"
        ) from err


class AmbiguousOrientationError(FormatError):
    """A table's orientation (features × samples or samples × features) cannot be told from its IDs.

    The message gives what was recognised on each axis and asks for ``orientation=``.
    """
