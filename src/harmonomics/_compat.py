"""Compatibility shims for the versions of our dependencies we support.

mudata 0.3 (the last release for Python 3.11) pulls every modality's obs/var columns into the global tables on
each ``update()`` and warns that 0.4 will stop doing so; harmonomics keeps global and per-modality columns apart on
purpose (docs/store.md), so its own calls run with mudata's future behaviour. The option is set only around the
package's own calls (:func:`mudata_options`, :func:`uses_mudata`) and restored afterwards: importing harmonomics
never changes how mudata behaves for the user's code or for other libraries.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def _needs_future_update(mudata: Any) -> bool:
    major, minor = (int(part) for part in mudata.__version__.split(".")[:2])
    return (major, minor) < (0, 4)


@contextlib.contextmanager
def mudata_options() -> Iterator[None]:
    """Run the enclosed code with mudata's future ``update()`` (no column pulling) and without its shared-ID warning.

    A gene in both ``rna`` and ``cnv`` is expected in a multi-omics store (IDs are unique within each omic), but
    mudata warns about it on every update. The previous mudata options and warning filters are restored on exit.
    """
    import mudata

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="var_names are not unique", category=UserWarning)
        warnings.filterwarnings("ignore", message="var_names is not unique", category=UserWarning)
        if _needs_future_update(mudata):
            with mudata.set_options(pull_on_update=False):
                yield
        else:
            yield


def align_index_names(mdata: Any) -> None:
    """Give a store's modalities the global obs/var index names, so that mudata can join the tables again.

    A store the user sliced or copied under mudata 0.3's default ``update()`` loses the global index's name while its
    modalities keep theirs (``sample``); every later ``update()`` or ``copy()`` then fails in pandas ("cannot join
    with no overlapping index names"). The names carry no data. When all modalities agree on a name and the global
    index has none, the global index takes it; otherwise the modalities take the global one. Views are left alone.
    """
    if getattr(mdata, "is_view", False):
        return
    for axis in ("obs", "var"):
        frame = getattr(mdata, axis)
        names = {getattr(adata, axis).index.name for adata in mdata.mod.values()}
        if names <= {frame.index.name}:
            continue
        if frame.index.name is None and len(names) == 1:
            frame.index.name = names.pop()
            continue
        for adata in mdata.mod.values():
            getattr(adata, axis).index.name = frame.index.name


@contextlib.contextmanager
def package_call(args: tuple, kwargs: dict) -> Iterator[None]:
    """The context of one public call: :func:`mudata_options`, with the stores among the arguments given index
    names mudata can join (:func:`align_index_names`)."""
    with mudata_options():
        import mudata

        for value in (*args, *kwargs.values()):
            if isinstance(value, mudata.MuData):
                align_index_names(value)
        yield


def uses_mudata(func: F) -> F:
    """Decorate a public function so that its body runs inside :func:`package_call`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with package_call(args, kwargs):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
