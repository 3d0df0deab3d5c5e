"""tqdm progress bars that obey ``hm.settings.verbosity``."""

from __future__ import annotations

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
    return _tqdm()(iterable, desc=desc, total=total, unit=unit, disable=not settings.show_progress, leave=False, **kwargs)


def progress_bar(*, desc: str, total: int | None = None, unit: str = "it", **kwargs):
    """A manual ``tqdm.auto`` bar (call ``.update()``), silenced when verbosity < 2."""
    return _tqdm()(desc=desc, total=total, unit=unit, disable=not settings.show_progress, leave=False, **kwargs)
