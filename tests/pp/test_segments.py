"""Copy-number segments → gene-level values (hm.pp.segments_to_genes and read_gdc(gene_coordinates=...))."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import FormatError

GENES = pd.DataFrame(
    {
        "chromosome": ["chr1", "chr1", "chr2", "chrX"],
        "start": [100, 250, 50, 1000],
        "end": [200, 400, 80, 1100],
        "gene_name": ["A", "B", "C", "D"],
    },
    index=pd.Index(["ENSG1", "ENSG2", "ENSG3", "ENSG4"]),
)


def segments(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["GDC_Aliquot", "Chromosome", "Start", "End", "Copy_Number"])


def test_each_gene_takes_the_segment_overlapping_it_most():
    seg = segments(
        [
            ("s1", "chr1", 1, 300, 3),
            ("s1", "chr1", 301, 1000, 1),
            ("s1", "chrX", 900, 2000, 2),
            ("s2", "1", 1, 5000, 4),
            ("s2", "23", 1, 5000, 1),  # SNP6 naming: 1 and 23 (X)
        ]
    )
    out = hm.pp.segments_to_genes(seg, GENES)
    assert list(out.obs_names) == ["s1", "s2"] and list(out.var_names) == list(GENES.index)
    # gene B (250–400) crosses the breakpoint at 300: 51 bp in CN 3, 100 bp in CN 1
    np.testing.assert_array_equal(out.X, [[3, 1, np.nan, 2], [4, 4, np.nan, 1]])
    np.testing.assert_array_equal(out.layers["min"], [[3, 1, np.nan, 2], [4, 4, np.nan, 1]])
    np.testing.assert_array_equal(out.layers["max"], [[3, 3, np.nan, 2], [4, 4, np.nan, 1]])
    assert out.uns["segments_to_genes"]["value"] == "Copy_Number"
    assert out.uns["segments_to_genes"]["n_genes_without_segment"] == 1  # C: no segment on chr2


def test_planted_copy_number_is_recovered_exactly():
    """Random genomes: genes inside piecewise-constant segments get their segment's value; genes in gaps NaN."""
    rng = np.random.default_rng(7)
    rows, genes = [], []
    for chrom in ("chr1", "chr2", "chr3"):
        starts = np.cumsum(rng.integers(2_000, 50_000, 400))
        ends = starts + rng.integers(100, 1_500, 400)
        genes += [(f"{chrom}_g{i}", chrom, int(s), int(e)) for i, (s, e) in enumerate(zip(starts, ends, strict=True))]
    genes = pd.DataFrame(genes, columns=["gene_id", "chromosome", "start", "end"])
    truth = np.full((5, len(genes)), np.nan)
    for k in range(5):
        for chrom, g in genes.groupby("chromosome", sort=False):
            cut = np.sort(rng.choice(np.arange(1, len(g)), 12, replace=False))
            for piece in np.split(np.arange(len(g)), cut):
                if rng.random() < 0.1:
                    continue  # no segment over these genes
                cn = int(rng.integers(0, 7))
                first, last = g.index[piece[0]], g.index[piece[-1]]
                # the segment spans from just after the previous gene to just before the next one
                lo = int(genes.at[first, "start"]) - 50
                hi = int(genes.at[last, "end"]) + 50
                rows.append((f"s{k}", chrom.replace("chr", ""), lo, hi, cn))
                truth[k, piece + genes.index.get_loc(g.index[0])] = cn
    out = hm.pp.segments_to_genes(segments(rows), genes)
    assert list(out.obs_names) == [f"s{k}" for k in range(5)]
    np.testing.assert_array_equal(out.X, truth)


def test_snp6_segment_means_are_used_when_there_is_no_copy_number():
    seg = pd.DataFrame(
        {
            "Sample": ["TCGA-A1-A0SB-01A-11D-A142-01"] * 2,
            "Chromosome": ["1", "2"],
            "Start": [1, 1],
            "End": [10_000, 10_000],
            "Num_Probes": [500, 40],
            "Segment_Mean": [0.5849, -1.0],
        }
    )
    out = hm.pp.segments_to_genes(seg, GENES)
    assert out.uns["segments_to_genes"]["value"] == "Segment_Mean"
    np.testing.assert_allclose(out.X[0, :3], [0.5849, 0.5849, -1.0])


def test_bad_segments_are_named():
    with pytest.raises(ValueError, match=r"sample 's1'.*chr1:1-300 and chr1:200-400 overlap"):
        hm.pp.segments_to_genes(segments([("s1", "chr1", 1, 300, 3), ("s1", "chr1", 200, 400, 1)]), GENES)
    with pytest.raises(ValueError, match=r"sample 's1' \(chr1:300-100.*Start ≤ End"):
        hm.pp.segments_to_genes(segments([("s1", "chr1", 300, 100, 3)]), GENES)
    with pytest.raises(ValueError, match="Copy_Number"):
        hm.pp.segments_to_genes(segments([("s1", "chr1", 1, 100, "three")]), GENES)
    with pytest.raises(ValueError, match="need a sample column"):
        hm.pp.segments_to_genes(pd.DataFrame({"Chromosome": ["1"], "Start": [1], "End": [2]}), GENES)


def test_bad_gene_coordinates_are_named(tmp_path):
    path = tmp_path / "genes.tsv"
    path.write_text("gene_id\tchromosome\tstart\tend\nENSG1\tchr1\t100\t200\nENSG2\tchr1\t400\t300\n")
    with pytest.raises(FormatError, match=r"genes.tsv, line 3.*'ENSG2' has start '400' and end '300'"):
        hm.pp.segments_to_genes(segments([("s1", "chr1", 1, 300, 3)]), path)
    path.write_text("gene_id\tchrom\tstart\tend\nENSG1\tchr1\t100\t200\n")
    with pytest.raises(FormatError, match="chromosome, start, end"):
        hm.pp.segments_to_genes(segments([("s1", "chr1", 1, 300, 3)]), path)
