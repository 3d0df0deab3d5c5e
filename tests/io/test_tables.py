"""read_table / read_tables on tables as people have them: any sample ID, recognised feature IDs, R exports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import AmbiguousOrientationError, FormatError

GENES = ["TP53", "ESR1", "ERBB2", "GATA3"]


def _values(n_rows: int, n_cols: int, seed: int = 0) -> np.ndarray:
    return np.round(np.random.default_rng(seed).normal(5, 2, size=(n_rows, n_cols)), 4)


def _write(path, rows, columns, values, *, first="gene", sep="\t"):
    lines = [sep.join([first, *columns])]
    lines += [sep.join([r, *(repr(float(v)) for v in vals)]) for r, vals in zip(rows, values, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _report(m):
    return m.uns["harmonomics_report"]


def test_30_samples_by_4_genes_with_metabric_ids_is_read_as_30_samples_and_written(tmp_path):
    samples = [f"MB-{i:04d}" for i in range(1, 31)]
    values = _values(4, 30)
    path = _write(tmp_path / "metabric.tsv", GENES, samples, values)
    m = hm.io.read_table(path, omic="rna")
    rna = m.mod["rna"]
    assert rna.shape == (30, 4) and list(rna.var_names) == GENES
    assert sorted(m.obs_names) == samples
    assert rna["MB-0007", "ERBB2"].X[0, 0] == values[2, 6]
    assert m.obs.loc["MB-0007", "patient"] == "MB-0007" and pd.isna(m.obs.loc["MB-0007", "sample_type"])
    rep = _report(m)
    decision = rep[(rep.level == "file") & rep.reason.str.contains("orientation")].reason.iloc[0]
    assert "columns are sample IDs" in decision and "4 gene symbol" in decision and "30 METABRIC IDs" in decision
    counted = rep[rep.reason.str.contains("not TCGA barcodes")].reason.iloc[0]
    assert counted.startswith("30 sample ID(s)") and "30 METABRIC" in counted
    out = hm.store.write(m, tmp_path / "metabric.h5mu")
    back = hm.store.read(out)
    assert sorted(back.obs_names) == samples
    assert np.array_equal(back.mod["rna"]["MB-0007"].X, rna["MB-0007"].X)
    assert back.obs["sample_type"].isna().all()


def test_geo_free_form_and_tcga_ids_mixed_in_one_table(tmp_path):
    samples = ["GSM123456", "GSM123457", "patient 3", "ctrl_04", "TCGA-A1-A0SB-01", "tcga-a2-a0cm-01", "MB-0001"]
    values = _values(4, len(samples), seed=1)
    m = hm.io.read_table(_write(tmp_path / "mixed.csv", GENES, samples, values, sep=","), omic="rna")
    keys = ["GSM123456", "GSM123457", "patient 3", "ctrl_04", "TCGA-A1-A0SB-01", "TCGA-A2-A0CM-01", "MB-0001"]
    assert sorted(m.obs_names) == sorted(keys)
    assert m.mod["rna"]["TCGA-A2-A0CM-01", "GATA3"].X[0, 0] == values[3, 5]
    assert m.obs.loc["TCGA-A1-A0SB-01", "sample_type"] == "TP" and pd.isna(m.obs.loc["GSM123456", "sample_type"])
    assert m.obs.loc["TCGA-A2-A0CM-01", "patient"] == "TCGA-A2-A0CM"
    rep = _report(m)
    counted = rep[rep.reason.str.contains("not TCGA barcodes")].reason.iloc[0]
    assert counted.startswith("5 sample ID(s)") and "2 GEO sample" in counted and "2 other" in counted
    assert rep[rep.action == "renamed"].reason.str.contains("lower-case barcodes").any()
    hm.store.write(m, tmp_path / "mixed.h5mu")
    assert sorted(hm.store.read(tmp_path / "mixed.h5mu").obs_names) == sorted(keys)


def test_rppa_antibody_columns_mean_samples_by_features(tmp_path):
    antibodies = ["ACC1", "AKT_pS473", "14-3-3_epsilon", "ER-alpha", "Akt_pS473-R-V", "Caspase-7_cleavedD198"]
    samples = [f"patient{i}" for i in range(1, 9)]
    values = _values(len(samples), len(antibodies), seed=2)
    m = hm.io.read_table(_write(tmp_path / "rppa.tsv", samples, antibodies, values, first="sample"), omic="prot")
    prot = m.mod["prot"]
    assert prot.shape == (8, 6) and list(prot.var_names) == antibodies
    assert prot["patient3", "ER-alpha"].X[0, 0] == values[2, 3]
    assert "columns are feature IDs" in _report(m).reason.str.cat(sep=" ")


@pytest.mark.parametrize(
    ("features", "kind"),
    [
        (["hsa-miR-21-5p", "hsa-let-7a-5p", "hsa-mir-200c", "MIMAT0000062"], "mirna"),
        (["cg00000029", "cg00000108", "cg00000109", "ch.2.5555R"], "cpg probe"),
        (["ENSG00000141510.18", "ENSG00000091831", "ENSG00000141736.14", "ENSG00000107485"], "ensembl"),
        (["TP53|7157", "ESR1|2099", "?|100130426", "GATA3|2625"], "symbol|entrez"),
    ],
)
def test_feature_ids_decide_either_orientation(tmp_path, features, kind):
    samples = [f"S{i}" for i in range(1, 11)]
    values = _values(len(features), len(samples), seed=3)
    rows_are_features = hm.io.read_table(_write(tmp_path / "fs.tsv", features, samples, values), omic="rna")
    assert rows_are_features.n_obs == 10 and rows_are_features.mod["rna"].n_vars == 4
    assert f"4 {kind}" in _report(rows_are_features).reason.str.cat(sep=" ")
    columns_are_features = hm.io.read_table(_write(tmp_path / "sf.tsv", samples, features, values.T), omic="rna")
    assert columns_are_features.n_obs == 10
    assert columns_are_features.mod["rna"]["S4", features[2]].X[0, 0] == values[2, 3]


def test_ambiguous_tables_ask_for_orientation(tmp_path):
    free = _write(tmp_path / "free.tsv", ["a1", "a2", "a3"], ["b1", "b2"], _values(3, 2))
    with pytest.raises(AmbiguousOrientationError, match=r"free.tsv: cannot tell.*orientation='features_x_samples'"):
        hm.io.read_table(free, omic="rna")
    m = hm.io.read_table(free, omic="rna", orientation="samples_x_features")
    assert sorted(m.obs_names) == ["a1", "a2", "a3"]
    assert "given as orientation=" in _report(m).reason.str.cat(sep=" ")
    correlation = _write(tmp_path / "genes.tsv", GENES, GENES, _values(4, 4))  # genes × genes
    with pytest.raises(AmbiguousOrientationError, match="4 gene symbol"):
        hm.io.read_table(correlation, omic="rna")
    assert issubclass(AmbiguousOrientationError, FormatError)


def test_r_write_table_header_and_r_style_aliquot_barcodes(tmp_path):
    aliquots = ["TCGA.A1.A0SB.01A.11R.A144.07", "TCGA.A1.A0SB.01A.21R.A144.07", "TCGA.A2.A0CM.11A.22R.A034.07"]
    values = _values(4, 3, seed=4)
    text = (
        "\t".join(aliquots)
        + "\n"
        + "".join("\t".join([g, *map(repr, map(float, v))]) + "\n" for g, v in zip(GENES, values, strict=True))
    )
    path = tmp_path / "r_export.txt"
    path.write_text(text)  # header one cell short: R's write.table(row.names=TRUE)
    m = hm.io.read_table(path, omic="rna", sample_types="tumor_normal")
    rna = m.mod["rna"]
    assert sorted(m.obs_names) == ["TCGA-A1-A0SB-01", "TCGA-A2-A0CM-11"]
    assert rna.obs.loc["TCGA-A1-A0SB-01", "aliquot"] == "TCGA-A1-A0SB-01A-21R-A144-07"  # the highest barcode
    assert rna.obs.loc["TCGA-A1-A0SB-01", "id_as_written"] == "TCGA.A1.A0SB.01A.21R.A144.07"
    assert rna["TCGA-A1-A0SB-01", "ESR1"].X[0, 0] == values[1, 1]
    assert m.obs.loc["TCGA-A2-A0CM-11", "sample_type"] == "NT"
    rep = _report(m)
    renamed = rep[rep.action == "renamed"]
    assert len(renamed) == 1 and renamed.reason.iloc[0].startswith("R-style barcodes")
    assert "3 ID(s), e.g. TCGA.A1.A0SB.01A.11R.A144.07 → TCGA-A1-A0SB-01A-11R-A144-07" in renamed.reason.iloc[0]
    assert rep.reason.str.contains("no cell for the row-name column").any()
    assert rep[rep.item == "TCGA-A1-A0SB-01A-11R-A144-07"].action.tolist() == ["dropped"]


@pytest.mark.parametrize("entrez", [["7157", "2099", "2064", "2625"], ["", "", "", ""], ["0", "0", "0", "0"]])
def test_hugo_symbol_and_entrez_columns(tmp_path, entrez):
    samples = ["TCGA-A1-A0SB-01", "TCGA-A2-A0CM-01"]
    values = _values(4, 2, seed=5)
    lines = ["Hugo_Symbol\tEntrez_Gene_Id\t" + "\t".join(samples)]
    lines += [f"{g}\t{e}\t{v[0]}\t{v[1]}" for g, e, v in zip(GENES, entrez, values, strict=True)]
    (tmp_path / "data_mrna.txt").write_text("\n".join(lines) + "\n")
    m = hm.io.read_table(tmp_path / "data_mrna.txt", omic="rna")
    rna = m.mod["rna"]
    assert list(rna.var_names) == GENES and rna["TCGA-A2-A0CM-01", "ERBB2"].X[0, 0] == values[2, 1]
    column = rna.var["entrez"]
    assert all(isinstance(v, str) for v in column)
    expected = entrez if entrez[0] not in ("", "0") else ["", "", "", ""]
    assert list(column) == expected
    back = hm.store.read(hm.store.write(m, tmp_path / "entrez.h5mu"))
    assert list(back.mod["rna"].var["entrez"].astype(str)) == expected


def test_dataframes_and_read_tables_join_on_patient(tmp_path):
    rna = pd.DataFrame(
        _values(4, 3, seed=6),
        index=GENES,
        columns=["TCGA-A1-A0SB-01A-11R-A144-07", "TCGA-A2-A0CM-01A-11R-A034-07", "TCGA-A2-A0CM-06A-11R-A034-07"],
    )
    meth = pd.DataFrame(
        _values(2, 3, seed=7),
        index=["TCGA.A1.A0SB.01", "TCGA.BH.A0B3.01"],
        columns=["cg00000029", "cg00000108", "cg00000109"],
    )
    by_sample = hm.io.read_tables({"rna": rna, "meth": meth}, sample_types="tumor")
    assert sorted(by_sample.obs_names) == ["TCGA-A1-A0SB-01", "TCGA-A2-A0CM-01", "TCGA-A2-A0CM-06", "TCGA-BH-A0B3-01"]
    clinical = pd.DataFrame(
        {
            "patient": ["tcga-a1-a0sb", "tcga-a2-a0cm", "tcga-zz-zzzz"],
            "age": [50, 61, 70],
            "PAM50Call_RNAseq": ["LumA", "Basal", "Her2"],
        }
    )
    m = hm.io.read_tables({"rna": rna, "meth": meth}, join_on="patient", sample_types="tumor", clinical=clinical)
    assert sorted(m.obs_names) == ["TCGA-A1-A0SB", "TCGA-A2-A0CM", "TCGA-BH-A0B3"]
    assert m.mod["rna"].obs.loc["TCGA-A2-A0CM", "aliquot"] == "TCGA-A2-A0CM-01A-11R-A034-07"  # 01 before 06
    assert m.mod["rna"]["TCGA-A2-A0CM", "ESR1"].X[0, 0] == rna.loc["ESR1", "TCGA-A2-A0CM-01A-11R-A034-07"]
    assert m.mod["meth"]["TCGA-A1-A0SB", "cg00000108"].X[0, 0] == meth.iloc[0, 1]
    assert m.obs.loc["TCGA-A1-A0SB", "sample"] == "TCGA-A1-A0SB-01" and m.obs.loc["TCGA-A1-A0SB", "sample_type"] == "TP"
    assert m.obs.loc["TCGA-A2-A0CM", "age"] == 61 and m.obs.loc["TCGA-A2-A0CM", "pam50"] == "Basal"
    rep = _report(m)
    dropped = rep[(rep.action == "dropped") & (rep.omic == "rna")]
    assert dropped.item.tolist() == ["TCGA-A2-A0CM-06"] and "rule: sample type" in dropped.reason.iloc[0]
    assert rep[(rep.item == "TCGA-ZZ-ZZZZ") & (rep.action == "dropped")].shape[0] == 1
    hm.store.write(m, tmp_path / "joined.h5mu")


def test_sample_keyed_clinical_with_join_on_patient(tmp_path):
    rna = pd.DataFrame(_values(4, 2, seed=8), index=GENES, columns=["TCGA.A1.A0SB", "MB-0001"])
    clinical = tmp_path / "clinical.tsv"
    clinical.write_text(
        "sampleID\tstage\tvital_status\tdays_to_death\tdays_to_last_followup\n"
        "TCGA-A1-A0SB-11\tI\tAlive\t\t20\nTCGA-A1-A0SB-01\tII\tDead\t300\t\nMB-0001\tIII\tAlive\t\t40\n"
    )
    m = hm.io.read_tables({"rna": rna}, join_on="patient", clinical=clinical)
    assert m.obs.loc["TCGA-A1-A0SB", "stage"] == "II" and m.obs.loc["TCGA-A1-A0SB", "os_event"] == 1
    assert m.obs.loc["MB-0001", "stage"] == "III" and m.obs.loc["MB-0001", "os_time"] == 40
    rep = _report(m)
    assert rep[(rep.item == "TCGA-A1-A0SB-11") & (rep.action == "dropped")].shape[0] == 1


def test_bad_dataframe_and_duplicate_ids():
    frame = pd.DataFrame({"TCGA-A1-A0SB-01": [1.0, 2.0], "TCGA-A2-A0CM-01": ["3", "high"]}, index=["TP53", "ESR1"])
    with pytest.raises(FormatError, match=r"column 'TCGA-A2-A0CM-01': expected a number, found 'high'"):
        hm.io.read_table(frame, omic="rna")
    with pytest.raises(ValueError, match="at least one table"):
        hm.io.read_tables({})
    with pytest.raises(ValueError, match="join_on"):
        hm.io.read_tables({"rna": frame.iloc[:, :1]}, join_on="aliquot")
