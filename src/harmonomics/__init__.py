"""harmonomics: multi-omics integration for breast-cancer precision medicine.

The package is read top-down in the order the data flows::

    io  ->  pp  ->  store  ->  models / tl  ->  pl / export / report

``import harmonomics as hm`` is cheap: the submodules (and the heavy libraries
they use: anndata, mudata, mofapy2) are imported on first attribute
access, e.g. ``hm.io.read_gdc`` or ``hm.tl.mofa``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._settings import settings
from ._version import __version__

# Submodules loaded lazily (PEP 562) so that `import harmonomics` stays fast.
_LAZY_SUBMODULES = (
    "barcodes",
    "io",
    "pp",
    "store",
    "models",
    "tl",
    "get",
    "pl",
    "export",
    "datasets",
)

if TYPE_CHECKING:  # pragma: no cover - for static analysers only
    from . import barcodes, datasets, export, get, io, models, pl, pp, store, tl  # noqa: F401
    from ._card import report  # noqa: F401

__all__ = ["__version__", "settings", "report", *_LAZY_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name == "report":
        # `hm.report(mdata, path)` is a function; it lives in a private module so that no submodule named `report`
        # can shadow it on the package: _card, which writes the patient card and hands the cohort report to _report
        from ._card import report

        return report
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'harmonomics' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
