"""The shipped gene coordinates agree with the raw annotation files and with known loci."""

import gzip

import pandas as pd
import pytest

from harmonomics._annotation import gene_coordinates, gene_symbols, normalize_build


@pytest.mark.parametrize(
    "spelling, build",
    [
        ("hg19", "GRCh37"),
        ("GRCh37-lite", "GRCh37"),
        ("37", "GRCh37"),
        ("hg38", "GRCh38"),
        ("GRCh38", "GRCh38"),
        ("", None),
    ],
)
def test_build_spellings(spelling, build):
    assert normalize_build(spelling) == build


def test_unknown_build_is_refused():
    with pytest.raises(ValueError, match="unknown genome build 'mm10'"):
        normalize_build("mm10")


def test_erbb2_and_tp53_on_both_builds():
    # loci from the annotation README (Ensembl GRCh37) and GENCODE v36
    hg19 = gene_coordinates("hg19")
    assert hg19.loc["ENSG00000141736", ["chromosome", "start", "end"]].tolist() == ["chr17", 37844167, 37886679]
    assert hg19.loc["ENSG00000141510", ["start", "end"]].tolist() == [7565097, 7590856]
    hg38 = gene_coordinates("GRCh38", id_type="symbol")
    assert hg38.loc["ERBB2", ["gene_id", "start", "end"]].tolist() == ["ENSG00000141736", 39687914, 39730426]
    assert set(hg19["build"]) == {"GRCh37"} and set(hg38["build"]) == {"GRCh38"}


def test_tables_hold_every_row_of_the_raw_files(shared_data):
    for name, build in [
        ("gencode.v36.annotation.gtf.gene.probemap.gz", "GRCh38"),
        ("genes_hg19_grch37_ensembl.tsv.gz", "GRCh37"),
    ]:
        with gzip.open(shared_data / "annotation" / name, "rt") as handle:
            raw = pd.read_csv(handle, sep="\t", dtype=str)
        assert len(gene_coordinates(build)) == len(raw)
    assert {"ERBB2", "ESR1", "CD274"} <= gene_symbols()
