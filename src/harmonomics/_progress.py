"""tqdm progress bars that obey ``hm.settings.verbosity``, and a logging handler that writes between them."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TypeVar

from ._settings import settings

T = TypeVar("T")


def _tqdm():
    """``tqdm.auto`` where Jupyter widgets can draw it, else the plain text bar (no IProgress warning)."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        from tqdm import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm


def progress(iterable: Iterable[T], *, desc: str, total: int | None = None, unit: str = "it", **kwargs) -> Iterable[T]:
    """Wrap ``iterable`` in a ``tqdm.auto`` bar, silenced when verbosity < 2."""
    return _tqdm()(
        iterable, desc=desc, total=total, unit=unit, disable=not settings.show_progress, leave=False, **kwargs
    )


def progress_bar(*, desc: str, total: int | None = None, unit: str = "it", **kwargs):
    """A manual ``tqdm.auto`` bar (call ``.update()``), silenced when verbosity < 2."""
    return _tqdm()(desc=desc, total=total, unit=unit, disable=not settings.show_progress, leave=False, **kwargs)


class TqdmLoggingHandler(logging.Handler):
    """A logging handler that writes with ``tqdm.write``: each line goes between progress bars, never through one.

    The stream is looked up at each record (``sys.stderr`` by default), so a redirected stderr is honoured.
    """

    def __init__(self, stream=None, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _tqdm().write(self.format(record), file=self._stream or sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)
