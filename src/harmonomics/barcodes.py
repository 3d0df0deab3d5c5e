"""TCGA barcodes: parsing, validation, sample-type and analyte tables, and the choice of one aliquot per sample.

A full aliquot barcode such as ``TCGA-BH-A0B3-01A-11R-A056-07`` reads::

    TCGA  - BH  - A0B3        - 01          A     - 11      R       - A056  - 07
    project tissue-source-site participant  sample-type vial  portion analyte plate   center

Shorter barcodes stop at a field boundary. The levels and their lengths:

========== ====== =================================
level      length example
========== ====== =================================
patient    12     ``TCGA-BH-A0B3``
sample     15     ``TCGA-BH-A0B3-01``
vial       16     ``TCGA-BH-A0B3-01A``
portion    19     ``TCGA-BH-A0B3-01A-11`` (RPPA portions continue as ``-21-1933-20``, with no analyte)
analyte    20     ``TCGA-BH-A0B3-01A-11R``
aliquot    28     ``TCGA-BH-A0B3-01A-11R-A056-07``
========== ====== =================================

Every function accepts one string or a pandas Series/Index (vectorised).

Barcodes as other tools write them are recognised too: R's ``make.names`` turns dashes into dots
(``TCGA.A1.A0SH.01A.11R.A084.07``) and some sources write lower case (``tcga-a1-a0sd``).
:func:`normalize_barcodes` turns both into the dashed upper-case form and says what it changed;
:func:`sample_id_kinds` tells TCGA barcodes from GEO (``GSM…``), METABRIC (``MB-…``) and other sample IDs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ._errors import HarmonomicsError

__all__ = [
    "ANALYTES",
    "SAMPLE_TYPES",
    "BarcodeError",
    "barcode_level",
    "choose_aliquots",
    "is_valid",
    "looks_like_barcode",
    "normalize_barcodes",
    "parse_barcode",
    "parse_barcodes",
    "sample_id_kinds",
    "to_patient",
    "to_sample",
]


class BarcodeError(HarmonomicsError, ValueError):
    """A TCGA barcode is malformed; the message names the barcode and the field that is wrong."""


# Sample-type codes (GDC / TCGA code tables).
SAMPLE_TYPES = pd.DataFrame(
    [
        ("01", "Primary Solid Tumor", "TP", "tumor"),
        ("02", "Recurrent Solid Tumor", "TR", "tumor"),
        ("03", "Primary Blood Derived Cancer - Peripheral Blood", "TB", "tumor"),
        ("04", "Recurrent Blood Derived Cancer - Bone Marrow", "TRBM", "tumor"),
        ("05", "Additional - New Primary", "TAP", "tumor"),
        ("06", "Metastatic", "TM", "tumor"),
        ("07", "Additional Metastatic", "TAM", "tumor"),
        ("08", "Human Tumor Original Cells", "THOC", "tumor"),
        ("09", "Primary Blood Derived Cancer - Bone Marrow", "TBM", "tumor"),
        ("10", "Blood Derived Normal", "NB", "normal"),
        ("11", "Solid Tissue Normal", "NT", "normal"),
        ("12", "Buccal Cell Normal", "NBC", "normal"),
        ("13", "EBV Immortalized Normal", "NEBV", "normal"),
        ("14", "Bone Marrow Normal", "NBM", "normal"),
        ("15", "sample type 15", "15SH", "other"),
        ("16", "sample type 16", "16SH", "other"),
        ("20", "Control Analyte", "CELLC", "control"),
        ("40", "Recurrent Blood Derived Cancer - Peripheral Blood", "TRB", "tumor"),
        ("50", "Cell Lines", "CELL", "control"),
        ("60", "Primary Xenograft Tissue", "XP", "xenograft"),
        ("61", "Cell Line Derived Xenograft Tissue", "XCL", "xenograft"),
        ("99", "sample type 99", "99SH", "other"),
    ],
    columns=["code", "name", "letter_code", "category"],
).set_index("code")
"""Sample-type code table: index = two-digit code; columns name, letter_code (TP, NT, ...), category."""

ANALYTES = pd.DataFrame(
    [
        ("D", "DNA", "dna"),
        ("G", "Whole Genome Amplification (WGA) produced using GenomePlex (Rubicon) DNA", "dna"),
        ("W", "Whole Genome Amplification (WGA) produced using Repli-G (Qiagen) DNA", "dna"),
        ("X", "Whole Genome Amplification (WGA) produced using Repli-G X (Qiagen) DNA", "dna"),
        ("H", "mirVana RNA (Allprep DNA) produced by hybrid protocol", "rna"),
        ("R", "RNA", "rna"),
        ("T", "Total RNA", "rna"),
    ],
    columns=["code", "name", "kind"],
).set_index("code")
"""Analyte code table: index = letter; columns name, kind ("dna" or "rna")."""

# Analyte preference when several aliquots of one sample exist (FORMATS.md; Firehose / cBioPortal practice).
ANALYTE_PRIORITY = {"rna": ("H", "R", "T"), "dna": ("D", "G", "W", "X")}

LEVELS = ("patient", "sample", "vial", "portion", "analyte", "aliquot")
_LEVEL_BY_LENGTH = {12: "patient", 15: "sample", 16: "vial", 19: "portion", 20: "analyte", 28: "aliquot"}

# One regex for every level: each group after the patient is optional, but only at field boundaries.
_BARCODE = re.compile(
    r"^(?P<project>[A-Za-z0-9]{4})-(?P<tss>[A-Za-z0-9]{2})-(?P<participant>[A-Za-z0-9]{4})"
    r"(?:-(?P<sample_type_code>\d{2})(?P<vial>[A-Z])?"
    r"(?:-(?P<portion>\d{2})(?P<analyte>[A-Z])?"
    r"(?:-(?P<plate>[A-Za-z0-9]{4})-(?P<center>[A-Za-z0-9]{2}))?)?)?$"
)
_FIELDS = ("project", "tss", "participant", "sample_type_code", "vial", "portion", "analyte", "plate", "center")

# What each position of a barcode should look like, used to say which field is wrong.
_FIELD_SPECS = [
    ("project", r"[A-Za-z0-9]{4}", "4 letters or digits (e.g. 'TCGA')"),
    ("tissue source site", r"[A-Za-z0-9]{2}", "2 letters or digits (e.g. 'BH')"),
    ("participant", r"[A-Za-z0-9]{4}", "4 letters or digits (e.g. 'A0B3')"),
    ("sample type + vial", r"\d{2}[A-Z]?", "a 2-digit sample type and an optional vial letter (e.g. '01A')"),
    ("portion + analyte", r"\d{2}[A-Z]?", "a 2-digit portion and an optional analyte letter (e.g. '11R')"),
    ("plate", r"[A-Za-z0-9]{4}", "4 letters or digits (e.g. 'A056')"),
    ("center", r"[A-Za-z0-9]{2}", "2 letters or digits (e.g. '07')"),
]


def _explain_malformed(barcode: object) -> str:
    """Say which field of a barcode is wrong."""
    if not isinstance(barcode, str):
        return f"TCGA barcode must be a string, got {type(barcode).__name__} {barcode!r}"
    parts = barcode.split("-")
    if len(parts) < 3:
        return (
            f"malformed TCGA barcode {barcode!r}: expected at least project-TSS-participant "
            f"(e.g. 'TCGA-BH-A0B3'), found {len(parts)} dash-separated field(s)"
        )
    if len(parts) > len(_FIELD_SPECS):
        return f"malformed TCGA barcode {barcode!r}: too many fields ({len(parts)}; at most {len(_FIELD_SPECS)})"
    for part, (name, pattern, expected) in zip(parts, _FIELD_SPECS, strict=False):
        if not re.fullmatch(pattern, part):
            return f"malformed TCGA barcode {barcode!r}: field '{name}' is {part!r}, expected {expected}"
    if len(parts) == 6:
        return f"malformed TCGA barcode {barcode!r}: plate {parts[5]!r} is not followed by a center field"
    return f"malformed TCGA barcode {barcode!r}"


def _check_codes(barcode: str, fields: dict[str, str | None]) -> None:
    code = fields.get("sample_type_code")
    if code is not None and code not in SAMPLE_TYPES.index:
        raise BarcodeError(
            f"malformed TCGA barcode {barcode!r}: field 'sample type' is {code!r}, "
            f"expected one of {', '.join(SAMPLE_TYPES.index)}"
        )
    analyte = fields.get("analyte")
    if analyte is not None and analyte not in ANALYTES.index:
        raise BarcodeError(
            f"malformed TCGA barcode {barcode!r}: field 'analyte' is {analyte!r}, "
            f"expected one of {', '.join(ANALYTES.index)}"
        )


def _level_of(fields: dict[str, str | None]) -> str:
    if fields["plate"] is not None:
        return "aliquot"
    if fields["analyte"] is not None:
        return "analyte"
    if fields["portion"] is not None:
        return "portion"
    if fields["vial"] is not None:
        return "vial"
    if fields["sample_type_code"] is not None:
        return "sample"
    return "patient"


def parse_barcode(barcode: str) -> dict[str, str | None]:
    """Parse one TCGA barcode at any level.

    Parameters
    ----------
    barcode
        A TCGA barcode of 12, 15, 16, 19, 20 or 28 characters, or an RPPA portion barcode
        (``TCGA-CM-5341-01A-21-1933-20``).

    Returns
    -------
    A dict with the fields ``project``, ``tss``, ``participant``, ``sample_type_code``, ``vial``,
    ``portion``, ``analyte``, ``plate``, ``center`` (None where the barcode stops earlier), and the derived
    ``level``, ``patient`` (12 chars), ``sample`` (15 chars or None), ``sample_vial`` (16 chars or None),
    ``sample_type`` (letter code such as ``TP``) and ``analyte_kind`` (``dna``/``rna``).

    Raises
    ------
    BarcodeError
        If the barcode is malformed; the message names the barcode and the field that is wrong.
    """
    if not isinstance(barcode, str):
        raise BarcodeError(_explain_malformed(barcode))
    match = _BARCODE.match(barcode)
    if match is None:
        raise BarcodeError(_explain_malformed(barcode))
    fields = {name: match.group(name) for name in _FIELDS}
    _check_codes(barcode, fields)
    patient = f"{fields['project']}-{fields['tss']}-{fields['participant']}"
    code = fields["sample_type_code"]
    sample = f"{patient}-{code}" if code else None
    return {
        **fields,
        "level": _level_of(fields),
        "patient": patient,
        "sample": sample,
        "sample_vial": f"{sample}{fields['vial']}" if fields["vial"] else None,
        "sample_type": SAMPLE_TYPES.at[code, "letter_code"] if code else None,
        "analyte_kind": ANALYTES.at[fields["analyte"], "kind"] if fields["analyte"] else None,
    }


def parse_barcodes(barcodes: Iterable[str] | pd.Series | pd.Index) -> pd.DataFrame:
    """Parse many barcodes at once (vectorised).

    Parameters
    ----------
    barcodes
        Barcodes of any level, possibly mixed.

    Returns
    -------
    DataFrame indexed by the barcodes, with the columns of :func:`parse_barcode`.

    Raises
    ------
    BarcodeError
        For the first malformed barcode, naming it and the wrong field.
    """
    values = pd.Index(barcodes if not isinstance(barcodes, str) else [barcodes], dtype=object)
    as_text = pd.Series(values.astype(str), index=values)
    non_strings = [b for b in values if not isinstance(b, str)]
    if non_strings:
        raise BarcodeError(_explain_malformed(non_strings[0]))
    parsed = as_text.str.extract(_BARCODE.pattern)
    bad = parsed["project"].isna().to_numpy()
    if bad.any():
        raise BarcodeError(_explain_malformed(values[np.flatnonzero(bad)[0]]))
    parsed = parsed.astype(object).where(parsed.notna(), None)
    codes = parsed["sample_type_code"].dropna()
    unknown_code = ~codes.isin(SAMPLE_TYPES.index)
    if unknown_code.any():
        first = codes.index[unknown_code.to_numpy()][0]
        _check_codes(first, {"sample_type_code": codes[first]})
    analytes = parsed["analyte"].dropna()
    unknown_analyte = ~analytes.isin(ANALYTES.index)
    if unknown_analyte.any():
        first = analytes.index[unknown_analyte.to_numpy()][0]
        _check_codes(first, {"analyte": analytes[first]})

    patient = parsed["project"] + "-" + parsed["tss"] + "-" + parsed["participant"]
    has_code = parsed["sample_type_code"].notna()
    sample = (patient + "-" + parsed["sample_type_code"].fillna("")).where(has_code, None)
    has_vial = parsed["vial"].notna()
    sample_vial = (sample.fillna("") + parsed["vial"].fillna("")).where(has_vial, None)
    level = np.select(
        [parsed["plate"].notna(), parsed["analyte"].notna(), parsed["portion"].notna(), has_vial, has_code],
        ["aliquot", "analyte", "portion", "vial", "sample"],
        default="patient",
    )
    result = parsed.assign(
        level=level,
        patient=patient,
        sample=sample,
        sample_vial=sample_vial,
        sample_type=parsed["sample_type_code"].map(SAMPLE_TYPES["letter_code"]),
        analyte_kind=parsed["analyte"].map(ANALYTES["kind"]),
    )
    return result.astype(object).where(result.notna(), None)


def is_valid(barcodes: str | Iterable[str]) -> bool | np.ndarray:
    """Whether barcodes are well-formed TCGA barcodes (a bool, or a bool array for many)."""

    def check(b: object) -> bool:
        try:
            parse_barcode(b)  # type: ignore[arg-type]
        except BarcodeError:
            return False
        return True

    if isinstance(barcodes, str):
        return check(barcodes)
    return np.array([check(b) for b in barcodes], dtype=bool)


def barcode_level(barcode: str) -> str:
    """The level of one barcode: patient, sample, vial, portion, analyte or aliquot."""
    return parse_barcode(barcode)["level"]


# A TCGA barcode as other tools write it: any case, fields joined by dashes, dots (R make.names) or underscores.
_TCGA_ANY_FORM = re.compile(r"^tcga[-._][a-z0-9]{2}[-._][a-z0-9]{4}(?:$|[-._])", re.IGNORECASE)
# The start of a dashed barcode of any project (project-TSS-participant), as written by the portals.
_DASHED_START = re.compile(r"^[A-Za-z0-9]{4}-[A-Za-z0-9]{2}-[A-Za-z0-9]{4}(?:$|-)")
_GEO_SAMPLE = re.compile(r"^GSM\d+$")
_METABRIC = re.compile(r"^MB-[A-Z0-9-]*\d$", re.IGNORECASE)

NORMALIZATIONS = {
    "dots": "R-style barcodes (dots, as make.names writes them) read with dashes",
    "lower case": "lower-case barcodes read in upper case",
    "dots, lower case": "R-style lower-case barcodes read with dashes, in upper case",
    "underscores": "barcodes with underscores read with dashes",
}
"""The kinds of change :func:`normalize_barcodes` makes, with a sentence for the report."""


def normalize_barcodes(ids: Iterable[str] | pd.Series | pd.Index) -> pd.DataFrame:
    """TCGA barcodes written with dots (R ``make.names``), underscores or in lower case, in the dashed upper-case form.

    Parameters
    ----------
    ids
        Sample IDs of any kind. Only IDs that begin like a TCGA barcode (``TCGA``, two, then four letters or digits,
        joined by ``-``, ``.`` or ``_``, any case) are changed; every other ID is returned as it is.

    Returns
    -------
    DataFrame with one row per input ID (positional index): ``id`` (as given), ``barcode`` (the dashed upper-case
    form, or the ID as it is) and ``change`` (``""`` when nothing changed, else a key of :data:`NORMALIZATIONS`).
    Whether the result is a well-formed barcode is not checked here (:func:`parse_barcodes` does that).
    """
    text = pd.Series(pd.Index(ids if not isinstance(ids, str) else [ids], dtype=object).astype(str), dtype=object)
    text = text.reset_index(drop=True)
    tcga = text.str.match(_TCGA_ANY_FORM.pattern, case=False).to_numpy(dtype=bool)
    dots = tcga & text.str.contains(".", regex=False).to_numpy(dtype=bool)
    underscores = tcga & text.str.contains("_", regex=False).to_numpy(dtype=bool)
    lower = tcga & (text != text.str.upper()).to_numpy(dtype=bool)
    barcode = text.copy()
    barcode[tcga] = text[tcga].str.replace(r"[._]", "-", regex=True).str.upper()
    change = np.select(
        [dots & lower, dots, underscores, lower], ["dots, lower case", "dots", "underscores", "lower case"], default=""
    )
    return pd.DataFrame({"id": text.to_numpy(), "barcode": barcode.to_numpy(), "change": change.astype(object)})


def looks_like_barcode(ids: Iterable[str]) -> np.ndarray:
    """Whether each ID is meant as a TCGA barcode: it begins with ``TCGA`` and a separator, or like ``XXXX-XX-XXXX``.

    Such an ID that does not parse is a malformed barcode (a reader reports it as an error); any other ID is
    a sample ID of another kind and is used as it is.
    """
    text = pd.Series(pd.Index(ids, dtype=object).astype(str), dtype=object)
    if not len(text):
        return np.zeros(0, dtype=bool)
    return (text.str.match(r"^tcga[-._]", case=False) | text.str.match(_DASHED_START.pattern)).to_numpy(dtype=bool)


def sample_id_kinds(ids: Iterable[str]) -> np.ndarray:
    """The kind of each sample ID: ``"tcga"`` (a well-formed barcode in any written form, see
    :func:`normalize_barcodes`), ``"geo"`` (``GSM123456``), ``"metabric"`` (``MB-0001``) or ``"other"``."""
    norm = normalize_barcodes(ids)
    kinds = np.full(len(norm), "other", dtype=object)
    if not len(norm):
        return kinds
    candidates = looks_like_barcode(norm["barcode"])
    if candidates.any():
        kinds[np.flatnonzero(candidates)[_valid_mask(norm["barcode"][candidates])]] = "tcga"
    text = norm["id"]
    other = kinds == "other"
    kinds[other & text.str.match(_GEO_SAMPLE.pattern).to_numpy(dtype=bool)] = "geo"
    kinds[other & text.str.match(_METABRIC.pattern, case=False).to_numpy(dtype=bool)] = "metabric"
    return kinds


def _valid_mask(barcodes: pd.Series) -> np.ndarray:
    """Vectorised :func:`is_valid` (well-formed fields and known sample-type and analyte codes)."""
    parsed = barcodes.astype(str).str.extract(_BARCODE.pattern)
    ok = parsed["project"].notna()
    ok &= parsed["sample_type_code"].isna() | parsed["sample_type_code"].isin(SAMPLE_TYPES.index)
    ok &= parsed["analyte"].isna() | parsed["analyte"].isin(ANALYTES.index)
    return ok.to_numpy(dtype=bool)


def _truncate(barcodes, field: str, min_level: str):
    if isinstance(barcodes, str):
        parsed = parse_barcode(barcodes)
        if parsed[field] is None:
            raise BarcodeError(f"TCGA barcode {barcodes!r} is a {parsed['level']} barcode; it has no {min_level} part")
        return parsed[field]
    parsed = parse_barcodes(barcodes)
    missing = parsed[field].isna()
    if missing.any():
        first = parsed.index[missing.to_numpy()][0]
        raise BarcodeError(
            f"TCGA barcode {first!r} is a {parsed.at[first, 'level']} barcode; it has no {min_level} part"
        )
    out = parsed[field].to_numpy()
    if isinstance(barcodes, pd.Series):
        return pd.Series(out, index=barcodes.index, name=barcodes.name)
    return pd.Index(out)


def to_patient(barcodes: str | pd.Series | pd.Index | Sequence[str]):
    """The 12-character patient barcode of each barcode (same type as the input: str, Series or Index)."""
    return _truncate(barcodes, "patient", "patient")


def to_sample(barcodes: str | pd.Series | pd.Index | Sequence[str]):
    """The 15-character sample barcode (``TCGA-BH-A0B3-01``) of each barcode of sample level or deeper."""
    return _truncate(barcodes, "sample", "sample")


def choose_aliquots(
    aliquots: Iterable[str],
    *,
    analyte_kind: str | None = None,
    sample_types: Sequence[str] | None = ("01",),
    keep_vials_apart: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pick one aliquot per sample by the Firehose / cBioPortal rules.

    The rules, applied in this order (FORMATS.md):

    1. keep only the wanted sample types (primary solid tumour ``01`` by default; ``None`` keeps all);
    2. vial A before B (the lowest vial letter wins);
    3. analyte priority: RNA ``H > R > T``; DNA ``D > G, W, X`` (``G``, ``W`` and ``X`` rank equal);
    4. then the lexicographically highest barcode (latest portion or plate).

    Parameters
    ----------
    aliquots
        Barcodes of portion level or deeper (aliquots; RPPA portion barcodes are fine). Duplicates count once.
    analyte_kind
        ``"rna"`` or ``"dna"``: which analyte priority applies. ``None`` infers it per sample from the analyte
        letters (no analyte letter, as for RPPA portions, skips rule 3).
    sample_types
        Two-digit codes (``"01"``) or letter codes (``"TP"``) to keep; ``None`` keeps every type.
    keep_vials_apart
        Key samples by their 16-character vial barcode instead of merging vials of one sample.

    Returns
    -------
    chosen
        DataFrame indexed by sample key (15 characters, or 16 with ``keep_vials_apart``) with columns
        ``aliquot``, ``patient``, ``sample_type_code``, ``sample_type`` and ``n_candidates``.
    report
        One row per distinct input aliquot: ``aliquot``, ``sample``, ``action`` (``kept``/``dropped``), ``rule``
        (the rule that decided: ``only candidate``, ``sample type``, ``vial``, ``analyte``, ``barcode order``) and
        ``reason`` (a sentence naming the aliquot that was preferred).

    Raises
    ------
    BarcodeError
        If a barcode is malformed or shorter than portion level.
    ValueError
        If ``analyte_kind`` or a sample type is unknown.
    """
    if analyte_kind not in (None, "rna", "dna"):
        raise ValueError(f"analyte_kind must be 'rna', 'dna' or None, got {analyte_kind!r}")
    wanted_codes = _normalise_sample_types(sample_types)
    unique = list(dict.fromkeys(aliquots))
    parsed = parse_barcodes(unique) if unique else pd.DataFrame(columns=["level"])
    too_short = parsed.index[parsed["level"].isin(["patient", "sample", "vial"]).to_numpy()] if unique else []
    if len(too_short):
        raise BarcodeError(
            f"choose_aliquots needs portion- or aliquot-level barcodes; {too_short[0]!r} is a "
            f"{parsed.at[too_short[0], 'level']} barcode"
        )

    if not unique:
        return _empty_choice(), pd.DataFrame(columns=["aliquot", "sample", "action", "rule", "reason"])

    key_column = "sample_vial" if keep_vials_apart else "sample"
    table = parsed.reset_index(names="aliquot")
    table["key"] = table[key_column]
    table["vial"] = table["vial"].fillna("A")
    table["order"] = np.arange(len(table))
    reports = []

    # Rule 1: sample type.
    if wanted_codes is not None:
        off_type = ~table["sample_type_code"].isin(wanted_codes).to_numpy()
        dropped = table[off_type]
        reports.append(_off_type_rows(dropped, wanted_codes))
        table = table[~off_type]

    # Rules 2-4 in one sort: lowest vial, best analyte, highest barcode first within each sample.
    table = table.assign(analyte_rank=_analyte_ranks(table["analyte"], analyte_kind))
    table = table.sort_values(
        ["key", "vial", "analyte_rank", "aliquot"], ascending=[True, True, True, False], kind="mergesort"
    )
    is_winner = ~table["key"].duplicated().to_numpy()
    winners = table[is_winner].set_index("key")
    n_candidates = table.groupby("key", sort=True).size()

    kept = winners.assign(n=n_candidates.reindex(winners.index).to_numpy())
    reports.append(
        pd.DataFrame(
            {
                "aliquot": kept["aliquot"].to_numpy(),
                "sample": kept.index.to_numpy(),
                "action": "kept",
                "rule": np.where(kept["n"] == 1, "only candidate", "chosen"),
                "reason": np.where(
                    kept["n"] == 1,
                    "only aliquot of this sample",
                    "preferred over " + (kept["n"] - 1).astype(str) + " other aliquot(s) of this sample",
                ),
                "order": kept["order"].to_numpy(),
            }
        )
    )

    losers = table[~is_winner]
    if len(losers):
        reports.append(_duplicate_rows(losers, winners))

    chosen = pd.DataFrame(
        {
            "aliquot": winners["aliquot"],
            "patient": winners["patient"],
            "sample_type_code": winners["sample_type_code"],
            "sample_type": winners["sample_type"],
            "n_candidates": n_candidates.reindex(winners.index).astype(int),
        }
    ).rename_axis("sample")
    report = pd.concat(reports, ignore_index=True).sort_values("order", kind="mergesort")
    report = report.drop(columns="order").reset_index(drop=True).astype(object)
    return chosen, report


def _off_type_rows(dropped: pd.DataFrame, wanted_codes) -> pd.DataFrame:
    """Report rows of the aliquots whose sample type is not kept (rule 1)."""
    return pd.DataFrame(
        {
            "aliquot": dropped["aliquot"],
            "sample": dropped["sample"],
            "action": "dropped",
            "rule": "sample type",
            "reason": "sample type "
            + dropped["sample_type_code"]
            + " ("
            + dropped["sample_type_code"].map(SAMPLE_TYPES["name"])
            + ") is not among the kept types "
            + ", ".join(sorted(wanted_codes)),
            "order": dropped["order"],
        }
    )


def _duplicate_rows(losers: pd.DataFrame, winners: pd.DataFrame) -> pd.DataFrame:
    """Report rows of the aliquots that lost to another aliquot of their sample, naming the rule that decided."""
    best = winners.loc[losers["key"].to_numpy()]
    other_vial = losers["vial"].to_numpy() != best["vial"].to_numpy()
    other_analyte = losers["analyte_rank"].to_numpy() != best["analyte_rank"].to_numpy()
    rule = np.select([other_vial, other_analyte], ["vial", "analyte"], default="barcode order")
    why = np.select(
        [other_vial, other_analyte],
        [
            "vial "
            + losers["vial"].to_numpy().astype(object)
            + " ranks after vial "
            + best["vial"].to_numpy().astype(object),
            "analyte "
            + losers["analyte"].fillna("").to_numpy().astype(object)
            + " ranks after "
            + best["analyte"].fillna("").to_numpy().astype(object),
        ],
        default="a lexicographically higher barcode (later portion or plate) exists",
    )
    return pd.DataFrame(
        {
            "aliquot": losers["aliquot"].to_numpy(),
            "sample": losers["key"].to_numpy(),
            "action": "dropped",
            "rule": rule,
            "reason": "duplicate aliquot of "
            + losers["key"].to_numpy().astype(object)
            + ": "
            + why
            + "; kept "
            + best["aliquot"].to_numpy().astype(object),
            "order": losers["order"].to_numpy(),
        }
    )


def _empty_choice() -> pd.DataFrame:
    return pd.DataFrame(columns=["aliquot", "patient", "sample_type_code", "sample_type", "n_candidates"]).rename_axis(
        "sample"
    )


def _normalise_sample_types(sample_types: Sequence[str] | None) -> set[str] | None:
    if sample_types is None:
        return None
    if isinstance(sample_types, str):
        sample_types = [sample_types]
    letters = dict(zip(SAMPLE_TYPES["letter_code"], SAMPLE_TYPES.index, strict=True))
    codes = set()
    for value in sample_types:
        if value in SAMPLE_TYPES.index:
            codes.add(value)
        elif value in letters:
            codes.add(letters[value])
        else:
            raise ValueError(
                f"unknown sample type {value!r}: expected a two-digit code ({', '.join(SAMPLE_TYPES.index)}) "
                f"or a letter code ({', '.join(SAMPLE_TYPES['letter_code'])})"
            )
    return codes


def _analyte_ranks(analytes: pd.Series, analyte_kind: str | None) -> np.ndarray:
    """Rank of each analyte letter under the priority rules (lower is better; no letter ranks 0)."""
    kinds = analytes.map(ANALYTES["kind"]) if analyte_kind is None else pd.Series(analyte_kind, index=analytes.index)
    rna = analytes.map({letter: rank for rank, letter in enumerate(ANALYTE_PRIORITY["rna"])}).fillna(3)
    # DNA: D first; G, W and X (amplified DNA) rank equal after it
    dna = analytes.map({"D": 0, "G": 1, "W": 1, "X": 1}).fillna(2)
    ranks = np.where(kinds.to_numpy() == "dna", dna.to_numpy(), rna.to_numpy())
    return np.where(analytes.isna().to_numpy(), 0, ranks).astype(int)
