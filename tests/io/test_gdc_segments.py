"""read_gdc on a download with copy-number segments and no gene-level copy-number files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gdc_files import GENES as FIXTURE_GENES
from gdc_files import write_gdc

import harmonomics as hm
from harmonomics._errors import SampleMismatchError


def _segments_instead_of_gene_level(files, rows):
    fid = "30000000-0000-4000-8000-000000000000"
    key = next(k for k in files if k.startswith(fid))
    del files[key]
    files[f"{fid}/TCGA-BRCA.{fid}.ascat3.allelic_specific.seg.txt"] = (
        "GDC_Aliquot\tChromosome\tStart\tEnd\tCopy_Number\tMajor_Copy_Number\tMinor_Copy_Number\n"
        + "".join(f"{a}\t{c}\t{s}\t{e}\t{n}\t{n}\t0\n" for a, c, s, e, n in rows)
    )


def _coordinates():
    return pd.DataFrame(
        {
            "gene_id": [g[0] for g in FIXTURE_GENES[:4]],
            "gene_name": [g[1] for g in FIXTURE_GENES[:4]],
            "chromosome": "chr1",
            "start": [0, 100, 200, 300],
            "end": [50, 150, 250, 350],
        }
    )


def test_read_gdc_builds_gene_level_copy_number_from_segments(tmp_path):
    """The fixture's gene-level file is replaced by segments; with coordinates read_gdc rebuilds the genes."""
    aliquot = "TCGA-A2-A0CM-01A-31D-A034-01"
    rows = [(aliquot, "chr1", 1, 120, 2), (aliquot, "chr1", 121, 260, 3), (aliquot, "chr1", 261, 5000, 5)]
    folder = write_gdc(tmp_path / "g", mutate=lambda f: _segments_instead_of_gene_level(f, rows))

    m = hm.io.read_gdc(folder, gene_coordinates=_coordinates())
    cnv = m.mod["cnv"]
    assert list(cnv.obs["aliquot"]) == [aliquot]
    # TNMD (100–150) lies 21 bp in the CN-2 segment and 30 bp in the CN-3 one
    np.testing.assert_array_equal(np.asarray(cnv.X)[0], [2, 3, 3, 5])
    np.testing.assert_array_equal(cnv.layers["segment_min"][0], [2, 2, 3, 5])
    np.testing.assert_array_equal(cnv.layers["segment_max"][0], [2, 3, 3, 5])
    assert cnv.uns["segments_to_genes"]["value"] == "Copy_Number"
    assert list(cnv.var["gene_name"]) == ["TSPAN6", "TNMD", "TP53", "PIK3CA"]
    hm.pp.harmonize(m)  # integer copy numbers → log2(CN / 2), as for gene-level files
    np.testing.assert_allclose(np.asarray(m.mod["cnv"].X)[0], np.log2(np.array([2, 3, 3, 5]) / 2))
    kept = m.uns["harmonomics_report"]
    assert kept["reason"].str.contains("gene-level Copy_Number from the segment that overlaps the most").any()
    # coordinates whose build cannot be told from their positions are taken as GDC's, and the report says so
    assert kept["reason"].str.contains("could not be told from their positions: assumed to be GRCh38").any()
    assert m.mod["cnv"].uns["build"] == "GRCh38"


# ERBB2 on GRCh38 (GENCODE v36): chr17:39,687,914-39,730,426
_ERBB2_ROWS = [("chr17", 39_000_000, 39_700_000, 4), ("chr17", 39_700_001, 40_000_000, 6)]


def test_read_gdc_maps_segments_on_the_shipped_grch38_coordinates(tmp_path):
    aliquot = "TCGA-A2-A0CM-01A-31D-A034-01"
    rows = [(aliquot, *r) for r in _ERBB2_ROWS]
    folder = write_gdc(tmp_path / "g", mutate=lambda f: _segments_instead_of_gene_level(f, rows))
    m = hm.io.read_gdc(folder)  # no gene_coordinates: GDC files are GRCh38, the shipped GENCODE v36 table is used
    cnv = m.mod["cnv"]
    assert cnv.uns["build"] == "GRCh38"
    erbb2 = cnv[:, "ENSG00000141736"]  # var names: GDC's gene IDs (unversioned in the shipped table)
    assert erbb2.var["gene_name"].iat[0] == "ERBB2"
    # 12,087 bases of ERBB2 lie in the CN-4 segment, 30,426 in the CN-6 one
    assert float(np.asarray(erbb2.X)[0, 0]) == 6
    assert float(erbb2.layers["segment_min"][0, 0]) == 4 and float(erbb2.layers["segment_max"][0, 0]) == 6
    files = m.uns["harmonomics"]["files"]
    seg = files[files["path"].str.endswith(".seg.txt")]
    assert seg["build"].tolist() == ["GRCh38"]
    report = m.uns["harmonomics_report"]
    assert report["reason"].str.contains("the shipped GRCh38 table").any()


def test_read_gdc_refuses_hg19_coordinates_for_gdc_segments(tmp_path):
    from harmonomics._annotation import gene_coordinates
    from harmonomics._errors import GenomeBuildError

    aliquot = "TCGA-A2-A0CM-01A-31D-A034-01"
    folder = write_gdc(
        tmp_path / "g", mutate=lambda f: _segments_instead_of_gene_level(f, [(aliquot, *r) for r in _ERBB2_ROWS])
    )
    with pytest.raises(GenomeBuildError, match="segments are on GRCh38 but the gene coordinates given are GRCh37"):
        hm.io.read_gdc(folder, gene_coordinates=gene_coordinates("hg19"))

    def hg19_name(files):
        _segments_instead_of_gene_level(files, [(aliquot, *r) for r in _ERBB2_ROWS])
        key = next(k for k in files if k.endswith(".seg.txt"))
        files[key.replace(".seg.txt", ".hg19.seg.txt")] = files.pop(key)

    with pytest.raises(
        GenomeBuildError, match=r"read this file on its own with hm.io.read_segments\(path, build='GRCh37'\)"
    ):
        hm.io.read_gdc(write_gdc(tmp_path / "h", mutate=hg19_name))


def test_read_gdc_segment_barcode_must_match_metadata(tmp_path):
    rows = [("TCGA-A1-A0SB-01A-11D-A142-01", "chr1", 1, 5000, 2)]  # another patient than the metadata says
    folder = write_gdc(tmp_path / "g", mutate=lambda f: _segments_instead_of_gene_level(f, rows))
    with pytest.raises(SampleMismatchError, match="TCGA-A1-A0SB-01A-11D-A142-01"):
        hm.io.read_gdc(folder, gene_coordinates=_coordinates())
