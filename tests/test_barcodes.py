"""TCGA barcodes: every level, malformed barcodes, vectorised use and the aliquot rules."""

from __future__ import annotations

import pandas as pd
import pytest

from harmonomics import barcodes
from harmonomics.barcodes import BarcodeError

ALIQUOT = "TCGA-BH-A0B3-01A-11R-A056-07"


@pytest.mark.parametrize(
    ("barcode", "level"),
    [
        ("TCGA-BH-A0B3", "patient"),
        ("TCGA-BH-A0B3-01", "sample"),
        ("TCGA-BH-A0B3-01A", "vial"),
        ("TCGA-BH-A0B3-01A-11", "portion"),
        ("TCGA-BH-A0B3-01A-11R", "analyte"),
        (ALIQUOT, "aliquot"),
        ("TCGA-CM-5341-01A-21-1933-20", "aliquot"),  # RPPA: portion with plate/center, no analyte letter
    ],
)
def test_every_level_parses(barcode, level):
    parsed = barcodes.parse_barcode(barcode)
    assert parsed["level"] == level
    assert parsed["patient"] == barcode[:12]
    assert len(barcode) in (12, 15, 16, 19, 20, 27, 28)
    if level != "patient":
        assert parsed["sample"] == barcode[:15]


def test_aliquot_fields():
    parsed = barcodes.parse_barcode(ALIQUOT)
    assert parsed == {
        "project": "TCGA",
        "tss": "BH",
        "participant": "A0B3",
        "sample_type_code": "01",
        "vial": "A",
        "portion": "11",
        "analyte": "R",
        "plate": "A056",
        "center": "07",
        "level": "aliquot",
        "patient": "TCGA-BH-A0B3",
        "sample": "TCGA-BH-A0B3-01",
        "sample_vial": "TCGA-BH-A0B3-01A",
        "sample_type": "TP",
        "analyte_kind": "rna",
    }


def test_rppa_portion_has_no_analyte():
    parsed = barcodes.parse_barcode("TCGA-CM-5341-01A-21-1933-20")
    assert parsed["analyte"] is None and parsed["portion"] == "21" and parsed["plate"] == "1933"


@pytest.mark.parametrize(
    ("barcode", "field"),
    [
        ("TCGA-BH-A0B", "participant"),
        ("TCGA-BH", "at least project-TSS-participant"),
        ("TCGA-BH-A0B3-1A", "sample type"),
        ("TCGA-BH-A0B3-33A", "sample type"),  # 33 is no sample-type code
        ("TCGA-BH-A0B3-01A-11Q-A056-07", "analyte"),
        ("TCGA-BH-A0B3-01A-11R-A056", "center"),
        ("TCGA-BH-A0B3-01A-11R-A05-07", "plate"),
        ("TCGA-BH-A0B3-01a", "sample type"),
        ("", "at least project-TSS-participant"),
    ],
)
def test_malformed_barcode_names_barcode_and_field(barcode, field):
    with pytest.raises(ValueError, match="barcode") as info:
        barcodes.parse_barcode(barcode)
    assert isinstance(info.value, BarcodeError)
    assert repr(barcode) in str(info.value)
    assert field in str(info.value)


def test_non_string_is_rejected():
    with pytest.raises(BarcodeError, match="must be a string"):
        barcodes.parse_barcode(None)  # type: ignore[arg-type]


def test_vectorised_parse_matches_scalar():
    values = ["TCGA-BH-A0B3", "TCGA-BH-A0B3-11", "TCGA-E9-A1NG-11A-52R-A14M-07", "TCGA-CM-5341-01A-21-1933-20"]
    table = barcodes.parse_barcodes(pd.Series(values))
    assert list(table.index) == values
    for value in values:
        assert table.loc[value].to_dict() == barcodes.parse_barcode(value)


def test_vectorised_parse_rejects_first_bad():
    with pytest.raises(BarcodeError, match="'TCGA-XX-1'"):
        barcodes.parse_barcodes(["TCGA-BH-A0B3-01", "TCGA-XX-1", "bad"])


def test_to_sample_and_patient_keep_container_type():
    series = pd.Series([ALIQUOT, "TCGA-E9-A1NG-11A"], index=["a", "b"], name="barcode")
    samples = barcodes.to_sample(series)
    assert isinstance(samples, pd.Series) and list(samples.index) == ["a", "b"]
    assert list(samples) == ["TCGA-BH-A0B3-01", "TCGA-E9-A1NG-11"]
    assert list(barcodes.to_patient(pd.Index([ALIQUOT]))) == ["TCGA-BH-A0B3"]
    assert barcodes.to_sample(ALIQUOT) == "TCGA-BH-A0B3-01"
    with pytest.raises(BarcodeError, match="patient barcode; it has no sample part"):
        barcodes.to_sample("TCGA-BH-A0B3")


def test_is_valid():
    assert barcodes.is_valid(ALIQUOT)
    assert list(barcodes.is_valid([ALIQUOT, "nope"])) == [True, False]


def test_sample_type_and_analyte_tables():
    assert barcodes.SAMPLE_TYPES.loc["01", "letter_code"] == "TP"
    assert barcodes.SAMPLE_TYPES.loc["11", "letter_code"] == "NT"
    assert barcodes.SAMPLE_TYPES.loc["06", "name"] == "Metastatic"
    assert barcodes.SAMPLE_TYPES.loc["10", "category"] == "normal"
    assert set(barcodes.ANALYTES.index) == set("DGWXHRT")
    assert barcodes.ANALYTES.loc["H", "kind"] == "rna"


# ---------------------------------------------------------------------------------------------------------------
# choose_aliquots: each rule decides at least one case
# ---------------------------------------------------------------------------------------------------------------
def _decision(report, aliquot):
    row = report.set_index("aliquot").loc[aliquot]
    return row["action"], row["rule"]


def test_rule1_sample_type_filter():
    chosen, report = barcodes.choose_aliquots(
        ["TCGA-AA-0001-01A-11R-A000-07", "TCGA-AA-0001-11A-11R-A000-07", "TCGA-AA-0002-06A-11R-A000-07"],
        analyte_kind="rna",
    )
    assert list(chosen.index) == ["TCGA-AA-0001-01"]
    assert _decision(report, "TCGA-AA-0001-11A-11R-A000-07") == ("dropped", "sample type")
    assert "Solid Tissue Normal" in report.set_index("aliquot").loc["TCGA-AA-0001-11A-11R-A000-07", "reason"]
    assert _decision(report, "TCGA-AA-0002-06A-11R-A000-07") == ("dropped", "sample type")


def test_rule1_configurable_keeps_normals_as_own_samples():
    chosen, _ = barcodes.choose_aliquots(
        ["TCGA-AA-0001-01A-11R-A000-07", "TCGA-AA-0001-11A-11R-A000-07"], analyte_kind="rna", sample_types=("TP", "NT")
    )
    assert list(chosen.index) == ["TCGA-AA-0001-01", "TCGA-AA-0001-11"]
    assert list(chosen["sample_type"]) == ["TP", "NT"]


def test_rule2_vial_a_before_b():
    # the B vial has a "better" analyte and a higher barcode, but vial decides first
    chosen, report = barcodes.choose_aliquots(
        ["TCGA-AA-0001-01B-21H-Z999-07", "TCGA-AA-0001-01A-11R-A000-07"], analyte_kind="rna"
    )
    assert chosen.loc["TCGA-AA-0001-01", "aliquot"] == "TCGA-AA-0001-01A-11R-A000-07"
    assert _decision(report, "TCGA-AA-0001-01B-21H-Z999-07") == ("dropped", "vial")


@pytest.mark.parametrize(
    ("kind", "candidates", "winner"),
    [
        ("rna", ["TCGA-AA-0001-01A-11T-A000-07", "TCGA-AA-0001-01A-11R-A000-07", "TCGA-AA-0001-01A-11H-A000-07"], "H"),
        ("rna", ["TCGA-AA-0001-01A-99T-Z000-07", "TCGA-AA-0001-01A-11R-A000-07"], "R"),
        ("dna", ["TCGA-AA-0001-01A-99W-Z000-07", "TCGA-AA-0001-01A-11D-A000-07"], "D"),
    ],
)
def test_rule3_analyte_priority(kind, candidates, winner):
    chosen, report = barcodes.choose_aliquots(candidates, analyte_kind=kind)
    kept = chosen.loc["TCGA-AA-0001-01", "aliquot"]
    assert kept[19] == winner
    dropped = report[report["action"] == "dropped"]
    assert set(dropped["rule"]) == {"analyte"}


def test_rule4_highest_barcode():
    chosen, report = barcodes.choose_aliquots(
        ["TCGA-AA-0001-01A-11R-A000-07", "TCGA-AA-0001-01A-21R-A001-07", "TCGA-AA-0001-01A-11R-A001-07"],
        analyte_kind="rna",
    )
    assert chosen.loc["TCGA-AA-0001-01", "aliquot"] == "TCGA-AA-0001-01A-21R-A001-07"
    assert chosen.loc["TCGA-AA-0001-01", "n_candidates"] == 3
    assert _decision(report, "TCGA-AA-0001-01A-11R-A000-07") == ("dropped", "barcode order")
    # every input aliquot is explained, once
    assert len(report) == 3 and report["reason"].str.len().gt(0).all()


def test_dna_amplified_analytes_rank_equal():
    chosen, report = barcodes.choose_aliquots(
        ["TCGA-AA-0001-01A-11G-A000-07", "TCGA-AA-0001-01A-11W-A001-07"], analyte_kind="dna"
    )
    assert chosen.loc["TCGA-AA-0001-01", "aliquot"] == "TCGA-AA-0001-01A-11W-A001-07"
    assert _decision(report, "TCGA-AA-0001-01A-11G-A000-07") == ("dropped", "barcode order")


def test_rppa_portions_without_analyte():
    chosen, _ = barcodes.choose_aliquots(["TCGA-CM-5341-01A-21-1933-20", "TCGA-CM-5341-01A-31-1934-20"])
    assert chosen.loc["TCGA-CM-5341-01", "aliquot"] == "TCGA-CM-5341-01A-31-1934-20"


def test_choose_aliquots_bad_input():
    with pytest.raises(BarcodeError, match="portion- or aliquot-level"):
        barcodes.choose_aliquots(["TCGA-AA-0001-01"])
    with pytest.raises(ValueError, match="unknown sample type 'XX'"):
        barcodes.choose_aliquots(["TCGA-AA-0001-01A-11R-A000-07"], sample_types=("XX",))
    with pytest.raises(ValueError, match="analyte_kind"):
        barcodes.choose_aliquots(["TCGA-AA-0001-01A-11R-A000-07"], analyte_kind="protein")
    chosen, report = barcodes.choose_aliquots([])
    assert chosen.empty and report.empty


def test_duplicate_inputs_count_once():
    chosen, report = barcodes.choose_aliquots([ALIQUOT, ALIQUOT], analyte_kind="rna")
    assert len(chosen) == 1 and len(report) == 1 and report.loc[0, "rule"] == "only candidate"


def test_r_style_and_lower_case_barcodes_are_normalised():
    ids = pd.Series(
        [
            "TCGA.A1.A0SH.01A.11R.A084.07",
            "tcga-a1-a0sd",
            "tcga.a1.a0sd.01",
            "TCGA_A1_A0SE",
            "TCGA-A1-A0SB-01",
            "MB-0001",
            "GSM123456",
            "free.form.id",
        ]
    )
    norm = barcodes.normalize_barcodes(ids)
    assert list(norm["barcode"]) == [
        "TCGA-A1-A0SH-01A-11R-A084-07",
        "TCGA-A1-A0SD",
        "TCGA-A1-A0SD-01",
        "TCGA-A1-A0SE",
        "TCGA-A1-A0SB-01",
        "MB-0001",
        "GSM123456",
        "free.form.id",
    ]
    assert list(norm["change"]) == ["dots", "lower case", "dots, lower case", "underscores", "", "", "", ""]
    assert set(norm["change"]) - {""} <= set(barcodes.NORMALIZATIONS)
    assert barcodes.parse_barcodes(norm["barcode"][:5])["level"].tolist() == [
        "aliquot",
        "patient",
        "sample",
        "patient",
        "sample",
    ]


def test_sample_id_kinds_and_barcode_lookalikes():
    ids = [
        "TCGA.A1.A0SH.01A",
        "tcga-a1-a0sd",
        "GSM123456",
        "MB-0001",
        "MB-AD-0042",
        "TEST_SAMPLE_1",
        "TEST-A23C-01",
        "TCGA-XX",
        "TCGA-A1-A0SB-33",
    ]
    assert list(barcodes.sample_id_kinds(ids)) == [
        "tcga",
        "tcga",
        "geo",
        "metabric",
        "metabric",
        "other",
        "other",
        "other",
        "other",
    ]
    # TCGA-XX and an unknown sample-type code are meant as barcodes: readers report them as malformed
    assert list(barcodes.looks_like_barcode(ids)) == [True, True, False, False, False, False, False, True, True]


def test_choose_samples_uses_other_ids_as_they_are_and_counts_them():
    from harmonomics._errors import FormatError
    from harmonomics.samples import choose_samples, sample_table

    ids = ["TCGA.A1.A0SB.01A.11R.A144.07", "MB-0001", "GSM1", "tumour 3", "TCGA-A1-A0SB-01A-21R-A144-07"]
    pos, keys, report = choose_samples(ids, omic="rna", analyte_kind="rna", sample_types=("01",))
    assert list(keys) == ["MB-0001", "GSM1", "tumour 3", "TCGA-A1-A0SB-01"] and list(pos) == [1, 2, 3, 4]
    counted = report[report["item"] == "3 IDs"]["reason"].iloc[0]
    assert "1 METABRIC, 1 GEO sample, 1 other" in counted
    assert (report["action"] == "renamed").sum() == 1
    table = sample_table(list(keys))
    assert table.loc["MB-0001", "patient"] == "MB-0001" and pd.isna(table.loc["MB-0001", "sample_type"])
    assert table.loc["TCGA-A1-A0SB-01", "sample_type"] == "TP"
    assert all(isinstance(v, str) for v in table["sample_type"].dropna())
    only_other = sample_table(["MB-0001", "MB-0002"])
    assert only_other["sample_type"].isna().all() and str(only_other["sample_type"].dtype) == "category"
    with pytest.raises(FormatError, match="TCGA-A1-A0SB-33"):
        choose_samples(["MB-0001", "TCGA-A1-A0SB-33"], omic="rna", analyte_kind=None, sample_types=None)
    pos, keys, report = choose_samples(
        ["TCGA-A1-A0SB-01A-11D-A144-01", "TCGA-A1-A0SB-11A-11D-A144-01", "TCGA-A1-A0SB-06A-11D-A144-01"],
        omic="cnv",
        analyte_kind="dna",
        sample_types=None,
        key_level="patient",
    )
    assert list(keys) == ["TCGA-A1-A0SB"] and list(pos) == [0]
    assert sorted(report[report["action"] == "dropped"]["item"]) == ["TCGA-A1-A0SB-06", "TCGA-A1-A0SB-11"]
