"""Package-wide settings: verbosity, parallelism, cache folder."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("harmonomics")


@dataclass
class Settings:
    """Global settings, reachable as ``hm.settings``.

    Attributes
    ----------
    verbosity
        0 = errors only, 1 = warnings, 2 = info (default; progress bars shown), 3 = debug.
    n_jobs
        Number of worker threads/processes used by parallel steps (default: all cores).
    cache_dir
        Folder for intermediate files. Nothing is written here unless a function is asked to cache.
    """

    _verbosity: int = 2
    n_jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    cache_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("HARMONOMICS_CACHE", "~/.cache/harmonomics")).expanduser()
    )

    @property
    def verbosity(self) -> int:
        return self._verbosity

    @verbosity.setter
    def verbosity(self, level: int) -> None:
        if level not in (0, 1, 2, 3):
            raise ValueError(f"verbosity must be 0, 1, 2 or 3, got {level!r}")
        self._verbosity = level
        logger.setLevel({0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}[level])

    @property
    def show_progress(self) -> bool:
        """Whether tqdm progress bars are shown (verbosity >= 2)."""
        return self._verbosity >= 2


settings = Settings()
