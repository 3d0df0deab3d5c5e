"""Format detection is a registry of one sniff per format (hm.io's ``_detect.SNIFFERS``), tried in order."""

from __future__ import annotations

import pytest

from harmonomics._errors import UnknownFormatError
from harmonomics.io._detect import FORMATS, JSON_SNIFFERS, SNIFFERS, detect_text


def test_every_registered_format_is_a_documented_format():
    names = [name for name, _ in SNIFFERS + JSON_SNIFFERS]
    assert set(names) <= set(FORMATS)
    assert len(names) == len(set(names)), "one sniff per format"
    assert SNIFFERS[-1][0] == "table", "the plain delimited table is the fallback, tried last"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # UCSC Xena's mutation table (sample chr start end reference alt gene effect ...): before the Xena matrix,
        # whose first header cell is also `sample`
        (
            "sample\tchr\tstart\tend\treference\talt\tgene\teffect\tDNA_VAF\n"
            "TCGA-A1-A0SB-01\tchr17\t7675088\t7675088\tC\tT\tTP53\tmissense_variant\t0.41\n",
            "xena_mutations",
        ),
        ("sample\tTCGA-A1-A0SB-01\nTP53\t10.5\n", "xena_matrix"),
        # cBioPortal timeline files: PATIENT_ID START_DATE STOP_DATE EVENT_TYPE; before the clinical files (PATIENT_ID)
        (
            "PATIENT_ID\tSTART_DATE\tSTOP_DATE\tEVENT_TYPE\tTREATMENT_TYPE\nTCGA-A1-A0SB\t0\t120\tTREATMENT\tChemotherapy\n",
            "cbioportal_timeline",
        ),
        (
            "#Patient Identifier\tOverall Survival Status\n#x\tx\n#STRING\tSTRING\n#1\t1\nPATIENT_ID\tOS_STATUS\n"
            "TCGA-A1-A0SB\t0:LIVING\n",
            "cbioportal_clinical",
        ),
    ],
)
def test_the_first_sniff_that_says_yes_names_the_file(text, expected):
    assert detect_text(text) == expected


def test_a_json_file_that_is_no_gdc_export_is_rejected():
    assert detect_text('[{"file_id": "0a1b", "file_name": "x.tsv"}]') == "gdc_metadata"
    with pytest.raises(UnknownFormatError, match="not a GDC metadata export"):
        detect_text('{"name": "something else", "rows": [1, 2, 3]}')
