"""Which sample a GDC file belongs to: tumour–normal pairs, and the aliquot a file's metadata or sheet names.

GDC lists a tumour–normal pair's file (ASCAT gene-level copy number, masked MAF, segments) with both samples, in
either order; such a file belongs to the tumour. The metadata JSON names aliquots, the sample sheet only vials.
"""

from __future__ import annotations

from pathlib import Path

from .._errors import FormatError, SampleMismatchError
from ._build import Report


def _sample_kind(barcode: str) -> str | None:
    """``"tumour"`` (sample type 01–09), ``"normal"`` (10–19) or None (another type, or not a TCGA barcode)."""
    import re

    found = re.match(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}-(\d{2})", barcode.strip(), re.IGNORECASE)
    if found is None:
        return None
    code = int(found.group(1))
    return "tumour" if 1 <= code <= 9 else "normal" if 10 <= code <= 19 else None


def _pair(listed: list[str]) -> tuple[str, str]:
    """(tumour, matched normal) among the samples a file lists; the normal is '' for a single-sample file.

    GDC lists a tumour–normal pair's file (ASCAT gene-level copy number, masked MAF, segments) with both samples,
    in either order: such a file describes the tumour, never the normal.
    """
    listed = [x.strip() for x in listed if x and x.strip()]
    if len(listed) <= 1:
        return (listed[0] if listed else ""), ""
    tumours = [x for x in listed if _sample_kind(x) == "tumour"]
    tumour = tumours[0] if tumours else listed[0]
    return tumour, ", ".join(x for x in listed if x != tumour)


def _pair_note(normal: str) -> str:
    if not normal:
        return ""
    return (
        f"; a tumour–normal pair's file: it belongs to the tumour, the matched normal {normal} is recorded in "
        "obs['matched_normal'] and never chosen as a sample"
    )


def _listed_samples(m: dict | None, s: dict | None) -> tuple[list[str] | None, str]:
    """The samples the metadata JSON (aliquots) or else the sample sheet (vial-level IDs) list for a file."""
    if m is not None:
        ents = [e.get("entity_submitter_id") for e in m.get("associated_entities", []) if e.get("entity_submitter_id")]
        if not ents:
            raise FormatError(
                f"metadata record {m['file_id']} has no associated_entities[].entity_submitter_id; "
                "expected the aliquot barcode",
                path=m.get("_json"),
            )
        return ents, "metadata"
    if s is not None:
        return [x.strip() for x in str(s["Sample ID"]).split(",") if x.strip()], "sheet"
    return None, ""


def _check_sheet(path: Path, s: dict | None, m: dict | None, aliquot: str) -> None:
    if s is None or m is None:
        return
    sheet_ids = [x.strip() for x in str(s["Sample ID"]).split(",")]
    if aliquot[:16] not in sheet_ids:
        raise SampleMismatchError(
            f"{s['_sheet']}, line {s['_line']}: the sample sheet says file {path.name} is sample "
            f"{s['Sample ID']!r}, but the metadata JSON ({m.get('_json')}) gives aliquot {aliquot!r} "
            f"(sample {aliquot[:16]}); expected them to agree"
        )


def _aliquot_for(path: Path, m: dict | None, s: dict | None, omic: str, report: Report) -> tuple[str | None, str]:
    """The aliquot barcode a file belongs to and its matched normal ('' if none), cross-checked with the sheet."""
    listed, source = _listed_samples(m, s)
    if listed is None:
        report.add(
            "file",
            str(path),
            omic,
            "",
            "dropped",
            "not in the sample sheet nor in the metadata JSON: cannot tell which sample it belongs to",
        )
        return None, ""
    aliquot, normal = _pair(listed)
    _check_sheet(path, s, m, aliquot)
    if source == "sheet":
        report.add(
            "file",
            str(path),
            omic,
            aliquot[:15],
            "kept",
            "no metadata JSON record: sample from the sample sheet (vial level; no aliquot choice by analyte)",
        )
    return aliquot, normal
