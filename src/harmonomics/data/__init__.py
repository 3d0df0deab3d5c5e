"""Reference tables shipped inside the package (see PROVENANCE.md in this folder).

Use :func:`path` to locate a file; nothing here is ever unpickled: every file is
plain text (TSV, JSON), optionally gzip-compressed.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def path(*parts: str) -> Path:
    """Path of a bundled data file, e.g. ``path("pam50", "pam50_centroids.tsv")``.

    Raises
    ------
    FileNotFoundError
        If no such file ships with the package; the message lists the folder's contents.
    """
    target = Path(str(resources.files(__name__).joinpath(*parts)))
    if not target.exists():
        folder = target.parent
        available = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        raise FileNotFoundError(f"no bundled data file {'/'.join(parts)!r}; {folder} holds: {available}")
    return target
