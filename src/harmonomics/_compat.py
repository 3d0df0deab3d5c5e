"""Compatibility shims for the versions of our dependencies we support."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def configure_mudata() -> None:
    """Adopt mudata's future ``update()`` behaviour (no pulling of obs/var columns) on mudata < 0.4.

    mudata 0.3 warns on every ``update()`` unless ``pull_on_update`` is set; 0.4 (Python >= 3.12)
    makes ``pull_on_update=False`` the default. harmonomics keeps global and per-modality obs columns
    apart on purpose (docs/store.md), so the new behaviour is the one we want on every version.
    """
    import mudata

    major, minor = (int(part) for part in mudata.__version__.split(".")[:2])
    if (major, minor) < (0, 4):
        mudata.set_options(pull_on_update=False)
