"""Lazy re-export of public functions from private submodules (PEP 562).

Each namespace (``hm.tl``, ``hm.pl``, ``hm.io``, ...) maps public names to the private module
that defines them. A function's module is imported on first use, so a namespace stays cheap to
import and one module's heavy dependencies never load for another's functions.

Functions are handed out wrapped by :func:`harmonomics._compat.uses_mudata`: each public call runs with the
package's mudata options, which are restored when it returns (the user's own mudata settings are never changed).
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ._compat import package_call


def _public_call(module: Any, name: str, func: Callable) -> Callable:
    """``func`` run inside :func:`harmonomics._compat.package_call`; the module's attribute is looked up at each call,
    so the public name always runs what the module defines now (patched in a test, reloaded in a notebook)."""

    @functools.wraps(func)
    def public(*args: Any, **kwargs: Any) -> Any:
        with package_call(args, kwargs):
            return getattr(module, name)(*args, **kwargs)

    return public


def attach(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return ``__getattr__``, ``__dir__`` and ``__all__`` for a package re-exporting ``exports``.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        ``{public name: submodule}``, the submodule relative to ``package`` (e.g. ``"._pam50"``).
    """

    wrapped: dict[str, Any] = {}

    def __getattr__(name: str) -> Any:
        if name in wrapped:
            return wrapped[name]
        if name in exports:
            module = importlib.import_module(exports[name], package)
            value = getattr(module, name)
            if inspect.isfunction(value):
                value = _public_call(module, name, value)
            wrapped[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__, sorted(exports)
