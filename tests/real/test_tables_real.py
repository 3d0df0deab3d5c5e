"""read_table / read_tables / read_xena on real tables other projects wrote (R exports, RTCGA, UCSC Xena).

Values are compared with the raw file cells as pandas reads them, never with a re-implementation of the reader.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm


@pytest.fixture(scope="module")
def brca121(shared_data):
    return shared_data / "tcga_brca_121"


def _report(m):
    return m.uns["harmonomics_report"]


def test_r_exported_counts_genes_by_dotted_patient_barcodes(brca121, tmp_path):
    path = brca121 / "rna_counts.tsv.gz"
    raw = pd.read_csv(path, sep="\t", index_col=0)
    m = hm.io.read_table(path, omic="rna")
    rna = m.mod["rna"]
    assert rna.shape == (121, 20124) and raw.shape == (20124, 121)
    expected_keys = [c.replace(".", "-") for c in raw.columns]  # TCGA.A8.A08X → TCGA-A8-A08X
    assert sorted(m.obs_names) == sorted(expected_keys)
    assert (m.obs["patient"] == m.obs_names).all() and m.obs_names.str.len().unique().tolist() == [12]
    assert list(rna.var_names) == list(raw.index)
    # every value equals the raw cell
    ordered = rna[expected_keys, list(raw.index)]
    assert np.array_equal(ordered.X, raw.to_numpy(dtype=float).T)
    assert np.array_equal(ordered.layers["counts"], raw.to_numpy(dtype=float).T)
    assert rna.obs.loc["TCGA-A8-A08X", "id_as_written"] == "TCGA.A8.A08X"
    rep = _report(m)
    decision = rep[rep.reason.str.contains("orientation:")].reason.iloc[0]
    assert decision.startswith("features × samples table: 20124 features × 121 samples")
    assert "121 TCGA barcodes" in decision
    renamed = rep[rep.action == "renamed"]
    assert len(renamed) == 1 and "121 ID(s)" in renamed.reason.iloc[0]
    back = hm.store.read(hm.store.write(m, tmp_path / "rna.h5mu"))
    assert back.n_obs == 121 and back.obs["sample_type"].isna().all()


def test_r_write_table_header_without_the_gene_cell(brca121, tmp_path):
    # toy_data.txt of PathAnalyser was written so: the header has no cell for the gene column
    text = gzip.decompress((brca121 / "rna_counts.tsv.gz").read_bytes()).decode()
    header, body = text.split("\n", 1)
    assert header.startswith("gene\t")
    path = tmp_path / "toy_data.txt"
    path.write_text(header[len("gene\t") :] + "\n" + body)
    raw = pd.read_csv(brca121 / "rna_counts.tsv.gz", sep="\t", index_col=0)
    m = hm.io.read_table(path, omic="rna")
    assert m.mod["rna"].shape == (121, 20124)
    column = raw.columns[17]
    assert np.array_equal(m.mod["rna"][column.replace(".", "-")].X.ravel(), raw[column].to_numpy(dtype=float))
    assert _report(m).reason.str.contains("no cell for the row-name column").any()


def test_rtcga_rppa_samples_by_antibodies(brca121, tmp_path):
    path = brca121 / "rppa.tsv.gz"
    raw = pd.read_csv(path, sep="\t", index_col=0, float_precision="round_trip")
    m = hm.io.read_table(path, omic="prot")
    prot = m.mod["prot"]
    assert prot.shape == (100, 226) and list(prot.var_names) == list(raw.columns)
    keys = [b[:15] for b in raw.index]  # 27-character portion barcodes → sample keys
    assert sorted(m.obs_names) == sorted(keys)
    assert list(prot[keys].obs["aliquot"]) == list(raw.index)
    got = prot[keys, list(raw.columns)].X
    want = raw.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(got), np.isnan(want)) and np.isnan(want).sum() == 396
    assert np.array_equal(got[~np.isnan(got)], want[~np.isnan(want)])
    assert (m.obs["sample_type"] == "TP").all()
    decision = _report(m)[_report(m).reason.str.contains("orientation:")].reason.iloc[0]
    assert "the rows are sample IDs" in decision and "antibody" in decision
    hm.store.write(m, tmp_path / "rppa.h5mu")


def test_read_tables_joins_counts_and_rppa_on_patient(brca121, tmp_path):
    counts, rppa = brca121 / "rna_counts.tsv.gz", brca121 / "rppa.tsv.gz"
    rna_patients = {c.replace(".", "-") for c in pd.read_csv(counts, sep="\t", nrows=0).columns[1:]}
    rppa_patients = {b[:12] for b in pd.read_csv(rppa, sep="\t", usecols=[0]).iloc[:, 0]}
    both = rna_patients & rppa_patients
    assert len(both) == 100  # the README: 100 of the 121 patients have RPPA
    clinical = pd.read_csv(brca121 / "clinical.tsv", sep="\t", dtype=str, keep_default_na=False)
    m = hm.io.read_tables({"rna": counts, "prot": rppa}, join_on="patient", clinical=brca121 / "clinical.tsv")
    assert set(m.obs_names) == rna_patients | rppa_patients
    in_both = set(m.mod["rna"].obs_names) & set(m.mod["prot"].obs_names)
    assert in_both == both
    patient = sorted(both)[5]
    barcode = next(b for b in pd.read_csv(rppa, sep="\t", usecols=[0]).iloc[:, 0] if b.startswith(patient))
    assert m.obs.loc[patient, "sample"] == barcode[:15] and m.obs.loc[patient, "sample_type"] == "TP"
    raw_rppa = pd.read_csv(rppa, sep="\t", index_col=0, float_precision="round_trip")
    assert m.mod["prot"][patient, "Akt_pS473"].X[0, 0] == raw_rppa.loc[barcode, "Akt_pS473"]
    row = clinical.set_index("patient").loc[patient]
    assert m.obs.loc[patient, "er_status"] == row["er_status"]
    assert m.obs.loc[patient, "vital_status"] == row["vital_status"]
    if row["purity_cpe"]:
        assert m.obs.loc[patient, "purity_cpe"] == float(row["purity_cpe"])
    assert m.obs["pam50"].notna().sum() == (clinical["pam50_xena"] != "").sum()
    back = hm.store.read(hm.store.write(m, tmp_path / "joined.h5mu"))
    assert back.n_obs == len(rna_patients | rppa_patients)
    # keyed by sample, the two omics do not meet: counts carry patient barcodes only
    by_sample = hm.io.read_tables({"rna": counts, "prot": rppa})
    assert not set(by_sample.mod["rna"].obs_names) & set(by_sample.mod["prot"].obs_names)


def test_xena_clinical_matrix_values_equal_the_raw_file(shared_data, tmp_path):
    source = shared_data / "real_files" / "xena" / "LUAD_clinicalMatrix.gz"
    raw = pd.read_csv(source, sep="\t", dtype=str, keep_default_na=False).set_index("sampleID")
    tumours = [s for s in raw.index if s.endswith("-01")][:6]
    folder = tmp_path / "xena"
    folder.mkdir()
    (folder / "LUAD_clinicalMatrix.gz").write_bytes(source.read_bytes())
    values = np.arange(2 * len(tumours), dtype=float).reshape(2, -1)
    (folder / "HiSeqV2").write_text(
        "sample\t"
        + "\t".join(tumours)
        + "\n"
        + "".join(f"{g}\t" + "\t".join(map(str, v)) + "\n" for g, v in zip(["TP53", "EGFR"], values, strict=True))
    )
    m = hm.io.read_xena(folder)
    assert sorted(m.obs_names) == sorted(tumours)
    checked = 0
    for column in raw.columns:
        if column in ("_PATIENT", "sample_type") or column not in m.obs:
            continue
        for sample in tumours:
            cell, got = raw.at[sample, column], m.obs.at[sample, column]
            assert pd.isna(got) if cell == "" else str(got) == cell, (column, sample, cell, got)
            checked += 1
    assert checked > 6 * 100
    assert list(m.obs.loc[tumours, "sample_type_clinical"]) == list(raw.loc[tumours, "sample_type"])
    hm.store.write(m, tmp_path / "xena.h5mu")

    # the same matrix as read_tables' clinical table: numbers where a column holds only numbers
    frame = pd.DataFrame(values, index=["TP53", "EGFR"], columns=tumours)
    t = hm.io.read_tables({"rna": frame}, clinical=source)
    for column in ("OS.time", "Expression_Subtype", "age_at_initial_pathologic_diagnosis", "gender"):
        for sample in tumours:
            cell, got = raw.at[sample, column], t.obs.at[sample, column]
            if cell == "":
                assert pd.isna(got)
            elif isinstance(got, str):
                assert got == cell
            else:
                assert got == float(cell)
    hm.store.write(t, tmp_path / "tables.h5mu")


def test_antibody_rule_on_the_real_rppa_panel(brca121):
    from harmonomics._genes import feature_id_kinds

    names = pd.read_csv(brca121 / "rppa.tsv.gz", sep="\t", nrows=0).columns[1:]
    kinds = pd.Series(feature_id_kinds(names), index=names)
    assert len(names) == 226
    assert (kinds != "").mean() > 0.7  # 166 of 226 recognised: antibody 95, gene symbol 71
    assert kinds[["Akt_pS473", "14-3-3_epsilon", "ER-alpha", "c-Myc", "p53"]].eq("antibody").all()
    # the same rule recognises nothing among free-form sample IDs
    free = [f"patient{i}" for i in range(30)] + [f"S{i}" for i in range(30)] + [f"Tumour-{i}" for i in range(30)]
    assert (feature_id_kinds(free) == "").all()
