"""Readers: one per public source, each returning a MuData in the store layout with its harmonization report.

The formats are described in docs/readers.md.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "read_gdc": "._gdc",
        "read_cbioportal": "._cbioportal",
        "read_xena": "._xena",
        "read_firehose": "._firehose",
        "read_table": "._table",
        "read_tables": "._table",
        "read_maf": "._maf",
        "read_segments": "._segments",
        "detect_format": "._detect",
        "stream_to_zarr": "._stream",
    },
)
