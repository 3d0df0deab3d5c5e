"""Gene panels of cBioPortal's reference study (study_es_0), against the raw panel files read with pandas."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics import store
from harmonomics._errors import FormatError


@pytest.fixture(scope="module")
def study(study_es0_raw) -> Path:
    return study_es0_raw.folder


@pytest.fixture(scope="module")
def es0(study):
    return hm.io.read_cbioportal(study)


def test_each_mutation_sample_carries_its_panel_from_the_matrix(es0, study_es0_raw):
    raw = study_es0_raw.panel_matrix["mutations"]
    mut = es0.mod["mut"]
    panel = mut.obs["gene_panel"]
    assert isinstance(panel.dtype, pd.CategoricalDtype)
    for sample in mut.obs_names:
        expected = raw.get(sample, "NA")
        assert (panel[sample] if pd.notna(panel[sample]) else "NA") == expected, sample
    # samples NA in the matrix and absent from cases_sequenced are not profiled: no mutation row for them
    assert not {"TEST_SAMPLE_7", "TEST_SAMPLE_8", "TEST_SAMPLE_9"} & set(mut.obs_names)


def test_genes_off_a_samples_panel_are_missing_not_wild_type(es0, study_es0_raw):
    panels = study_es0_raw.panel_genes
    raw = study_es0_raw.panel_matrix["mutations"]
    maf = study_es0_raw.coding_maf
    mut = es0.mod["mut"]
    genes = list(mut.var_names)
    checked = 0
    for sample in mut.obs_names:
        row = mut[sample].X.ravel()
        hit = set(maf.loc[maf["Tumor_Sample_Barcode"] == sample, "Hugo_Symbol"])
        panel = raw.get(sample, "NA")
        for gene, value in zip(genes, row, strict=True):
            if gene in hit:
                assert value == 1.0, (sample, gene)
            elif panel != "NA" and gene not in panels[panel]:
                assert np.isnan(value), (sample, gene)  # not tested
                checked += 1
            else:
                assert value == 0.0, (sample, gene)
    # TESTPANEL2 lacks 8 of the matrix's genes, TESTPANEL1 one (PIEZO1): 2 × 8 + 9 × 1 untested cells
    assert checked == 25
    np.testing.assert_array_equal(mut.var["n_mutated"], np.nansum(mut.X, axis=0))


def test_panel_tables_are_in_the_store_and_survive_h5mu(es0, study, study_es0_raw, tmp_path):
    tables = es0.uns["gene_panels"]
    panels = tables["panels"].set_index("panel")
    assert set(study_es0_raw.panel_genes) == {"TESTPANEL1", "TESTPANEL2"}
    for stable_id, genes in study_es0_raw.panel_genes.items():
        assert panels.loc[stable_id, "n_genes"] == len(genes)
        assert set(tables["genes"].loc[tables["genes"]["panel"] == stable_id, "gene"]) == genes
    raw = study_es0_raw.panel_matrix
    samples = tables["samples"].set_index("sample")
    assert list(samples.columns) == list(raw.columns)
    assert (samples.replace("", "NA") == raw.loc[samples.index]).all().all()
    # the structural-variant meta file carries gene_panel: it applies to every sample of that profile
    meta = dict(
        line.split(":", 1) for line in (study / "meta_structural_variants.txt").read_text().splitlines() if ":" in line
    )
    profiles = tables["profiles"].set_index("profile")["gene_panel"]
    assert profiles[meta["stable_id"].strip()] == meta["gene_panel"].strip()
    store.write(es0, tmp_path / "es0.h5mu")
    back = store.read(tmp_path / "es0.h5mu")
    pd.testing.assert_frame_equal(back.uns["gene_panels"]["genes"], tables["genes"], check_dtype=False)
    got = back.mod["mut"].obs["gene_panel"].astype(object)
    want = es0.mod["mut"].obs["gene_panel"].astype(object)
    assert got.isna().equals(want.isna()) and (got[want.notna()] == want[want.notna()]).all()


def test_every_panel_choice_has_a_report_row(es0):
    rep = es0.uns["harmonomics_report"]
    reasons = rep["reason"].astype(str)
    assert reasons.str.contains("not on gene panel TESTPANEL1 .*missing \\(not tested\\) for its 9 samples").any()
    assert reasons.str.contains("gene panels of profile 'gistic' are recorded").any()
    assert rep.loc[rep["item"] == "data_gene_panel_testpanel1.txt", "reason"].str.contains("17 genes").all()


def _copy_study(study: Path, tmp_path: Path) -> Path:
    target = tmp_path / "study"
    shutil.copytree(study, target)
    return target


def test_a_sample_only_the_panel_matrix_names_is_added_as_profiled(study, study_es0_raw, tmp_path):
    folder = _copy_study(study, tmp_path)
    matrix = folder / "data_gene_panel_matrix.txt"
    matrix.write_text(matrix.read_text() + "TEST_SAMPLE_NEW\tTESTPANEL1\tNA\n")
    mdata = hm.io.read_cbioportal(folder, sample_types=None)
    mut = mdata.mod["mut"]
    assert mut.obs.at["TEST_SAMPLE_NEW", "gene_panel"] == "TESTPANEL1"
    row = mut["TEST_SAMPLE_NEW"].X.ravel()
    on_panel = np.asarray(mut.var_names.isin(study_es0_raw.panel_genes["TESTPANEL1"]))
    assert (row[on_panel] == 0).all() and np.isnan(row[~on_panel]).all()
    rep = mdata.uns["harmonomics_report"]
    assert rep.loc[rep["item"] == "TEST_SAMPLE_NEW", "reason"].str.contains("not in cases_sequenced; added").any()


def test_an_undefined_panel_is_reported_and_its_genes_stay_zero(study, tmp_path):
    folder = _copy_study(study, tmp_path)
    (folder / "data_gene_panel_testpanel2.txt").unlink()
    mdata = hm.io.read_cbioportal(folder)
    mut = mdata.mod["mut"]
    on_two = mut.obs_names[mut.obs["gene_panel"].astype(object) == "TESTPANEL2"]
    assert len(on_two) and not np.isnan(mut[on_two].X).any()
    rep = mdata.uns["harmonomics_report"]
    assert rep["reason"].str.contains("gene panel TESTPANEL2 .* has no definition file").any()


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ("SAMPLE\tmutations\nS1\tP1\n", "unknown format", 1),
        ("SAMPLE_ID\tmutations\nS1\tP1\nS1\tP1\n", "'S1' is listed twice", 3),
        ("SAMPLE_ID\tmutations\tgistic\nS1\tP1\n", "2 cells; expected 3", 2),
        ("SAMPLE_ID\tmutations\tmutations\nS1\tP1\tP1\n", "'mutations' is repeated", 1),
    ],
)
def test_a_malformed_panel_matrix_names_file_and_line(study, tmp_path, content, message, line):
    folder = _copy_study(study, tmp_path)
    (folder / "data_gene_panel_matrix.txt").write_text(content)
    with pytest.raises(FormatError, match=message) as err:
        hm.io.read_cbioportal(folder)
    assert "data_gene_panel_matrix.txt" in str(err.value) and f"line {line}" in str(err.value)


def test_a_panel_file_without_genes_is_rejected(study, tmp_path):
    folder = _copy_study(study, tmp_path)
    (folder / "data_gene_panel_testpanel1.txt").write_text("stable_id: TESTPANEL1\ndescription: x\ngene_list: \n")
    with pytest.raises(FormatError, match="non-empty 'gene_list'") as err:
        hm.io.read_cbioportal(folder)
    assert "data_gene_panel_testpanel1.txt" in str(err.value)
