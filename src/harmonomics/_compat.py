"""Compatibility shims for the versions of our dependencies we support."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType


def _adopt_mudata_future_update(mudata: ModuleType) -> None:
    major, minor = (int(part) for part in mudata.__version__.split(".")[:2])
    if (major, minor) < (0, 4):
        mudata.set_options(pull_on_update=False)


def configure_mudata() -> None:
    """Adopt mudata's future ``update()`` behaviour (no pulling of obs/var columns) on mudata < 0.4.

    mudata 0.3 warns on every ``update()`` unless ``pull_on_update`` is set; 0.4 (Python >= 3.12) makes
    ``pull_on_update=False`` the default. harmonomics keeps global and per-modality obs columns apart on purpose
    (docs/store.md), so the new behaviour is the one we want on every version. This imports mudata; prefer
    :func:`install_mudata_hook`, which configures mudata only when something imports it.
    """
    import mudata

    _adopt_mudata_future_update(mudata)


class _ConfigureMudataOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; when ``mudata`` is first imported it wraps the loader to configure the module."""

    def find_spec(self, fullname, path, target=None):  # noqa: ANN001 - importlib protocol
        if fullname != "mudata":
            return None
        sys.meta_path.remove(self)  # one shot; also keeps find_spec below from finding this finder again
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original(module)
            _adopt_mudata_future_update(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install_mudata_hook() -> None:
    """Configure mudata (see :func:`configure_mudata`) as soon as it is imported, without importing it now."""
    if "mudata" in sys.modules:
        _adopt_mudata_future_update(sys.modules["mudata"])
    elif not any(isinstance(finder, _ConfigureMudataOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ConfigureMudataOnImport())


@contextlib.contextmanager
def quiet_mudata() -> Iterator[None]:
    """Silence mudata's warning about feature IDs shared between omics.

    A gene in both ``rna`` and ``cnv`` is expected in a multi-omics store (IDs are unique within each omic),
    but mudata warns about it on every update.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="var_names are not unique", category=UserWarning)
        warnings.filterwarnings("ignore", message="var_names is not unique", category=UserWarning)
        yield
