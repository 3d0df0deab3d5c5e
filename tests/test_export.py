"""Every export is re-read by an independent parser: pandas (tables), strict GMT/GCT/cBioPortal
readers written here, and mofax for the MOFA HDF5 model file."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics._errors import MissingResultError

# ----------------------------------------------------------------------------------------------
# Fixture: a small store with a planted fit, calls, signature and immune scores
# ----------------------------------------------------------------------------------------------


def make_store(seed: int = 0):
    import anndata as ad
    import mudata as md

    rng = np.random.default_rng(seed)
    n, k = 24, 3
    samples = [f"TCGA-E2-A{i:03d}-01" for i in range(n)]
    genes = ["ESR1", "KRT5", "FOXA1", "CD8A", "GZMA", "PRF1", "MKI67", "ERBB2"]
    var_names = [f"ENSG{i:011d}.{i % 4 + 1}" for i in range(len(genes))] + ["ENSG99999999999.1"]
    symbols = [*genes, None]  # one feature without a symbol
    rna = ad.AnnData(
        rng.normal(5, 2, size=(n, len(var_names))),
        obs=pd.DataFrame(index=samples),
        var=pd.DataFrame({"gene_name": symbols}, index=var_names),
    )
    rna.X[3, 2] = np.nan  # a missing value
    rna.varm["mofa"] = rng.normal(size=(len(var_names), k))
    prot_samples = samples[:-4]  # four samples without protein data
    prot = ad.AnnData(
        rng.normal(size=(n - 4, 5)),
        obs=pd.DataFrame(index=prot_samples),
        var=pd.DataFrame(index=[f"P{i}" for i in range(5)]),
    )
    prot.varm["mofa"] = rng.normal(size=(5, k))
    prot.varm["mofa"][4] = np.nan  # a feature not in the fit
    mdata = md.MuData({"rna": rna, "prot": prot})
    names = [f"Factor{i + 1}" for i in range(k)]
    mdata.obsm["mofa"] = rng.normal(size=(n, k))
    mdata.uns["mofa"] = {
        "factor_names": names,
        "views": ["rna", "prot"],
        "r2_per_view_factor": pd.DataFrame(
            [[0.20, 0.05, 0.01], [0.10, 0.15, 0.02]], index=["rna", "prot"], columns=names
        ),
        "r2_per_view": {"rna": 0.26, "prot": 0.27},
        "elbo": np.linspace(-2000.0, -1500.0, 12),
        "likelihoods": {"rna": "gaussian", "prot": "gaussian"},
        "options": {"maxiter": 1000, "freqELBO": 1},
        "seed": 7,
        "n_iterations": 12,
    }
    mdata.obs["patient"] = [s[:12] for s in samples]
    mdata.obs["pam50"] = pd.Categorical(
        rng.choice(["LumA", "Basal", "Her2"], n), categories=["LumA", "LumB", "Her2", "Basal", "Normal"]
    )
    mdata.obs.loc[samples[5], "pam50"] = np.nan
    mdata.obs["immune_class"] = pd.Categorical(rng.choice(["hot", "cold"], n))
    mdata.obs["age"] = rng.normal(60, 10, n)
    mdata.obsm["signature_scores"] = pd.DataFrame(
        rng.normal(size=(n, 2)), index=mdata.obs_names, columns=["Factor1_rna_up", "CYT_rooney2015"]
    )
    mdata.obsm["immune"] = pd.DataFrame(
        rng.normal(size=(n, 2)), index=mdata.obs_names, columns=["ESTIMATE_immune", "TIS"]
    )
    return mdata


@pytest.fixture
def mdata():
    return make_store()


# ----------------------------------------------------------------------------------------------
# Independent strict readers
# ----------------------------------------------------------------------------------------------


def strict_gmt(path):
    sets = {}
    raw = path.read_bytes().decode("utf-8")
    assert raw.endswith("\n") and "\r" not in raw
    for number, line in enumerate(raw.split("\n")[:-1], start=1):
        fields = line.split("\t")
        assert len(fields) >= 3, f"line {number}: {fields}"
        assert all(f != "" and f == f.strip() for f in fields), f"line {number} has empty/padded fields"
        assert fields[0] not in sets, f"duplicate set {fields[0]}"
        sets[fields[0]] = (fields[1], fields[2:])
    return sets


def strict_gct(path):
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and lines[0] == "#1.2"
    n_rows, n_cols = (int(x) for x in lines[1].split("\t"))
    header = lines[2].split("\t")
    assert header[:2] == ["Name", "Description"] and len(header) == n_cols + 2
    body = lines[3:-1]
    assert len(body) == n_rows
    names, descriptions, values = [], [], []
    for line in body:
        fields = line.split("\t")
        assert len(fields) == n_cols + 2
        names.append(fields[0])
        descriptions.append(fields[1])
        values.append([float(v) if v != "" else np.nan for v in fields[2:]])
    return header[2:], names, descriptions, np.array(values)


def strict_meta(path):
    fields = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition(": ")
        assert sep and key and value and key not in fields, line
        fields[key] = value
    return fields


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "tsv", "parquet"])
def test_factor_scores_table(mdata, tmp_path, suffix):
    path = hm.export.factor_scores(mdata, tmp_path / f"scores.{suffix}")
    if suffix == "parquet":
        table = pd.read_parquet(path)
    else:
        table = pd.read_csv(path, sep="," if suffix == "csv" else "\t", float_precision="round_trip")
    assert list(table.columns) == ["sample_id", "patient", "Factor1", "Factor2", "Factor3"]
    assert list(table["sample_id"]) == list(mdata.obs_names)
    assert table["sample_id"].str.fullmatch(r"TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}-\d{2}").all()
    assert list(table["patient"]) == [s[:12] for s in mdata.obs_names]
    np.testing.assert_array_equal(table[["Factor1", "Factor2", "Factor3"]].to_numpy(), mdata.obsm["mofa"])


def test_calls_signature_and_immune_tables(mdata, tmp_path):
    path = hm.export.calls(mdata, tmp_path / "calls.tsv")
    text = path.read_text().splitlines()
    assert text[0] == "sample_id\tpatient\tpam50\timmune_class"
    table = pd.read_csv(path, sep="\t", keep_default_na=False)
    assert table.loc[5, "pam50"] == "NA"  # R reads NA as missing
    assert list(table["pam50"].drop(5)) == list(mdata.obs["pam50"].astype(str).drop(mdata.obs_names[5]))
    sig = pd.read_csv(hm.export.signature_scores(mdata, tmp_path / "sig.csv"), float_precision="round_trip")
    assert list(sig.columns) == ["sample_id", "patient", "Factor1_rna_up", "CYT_rooney2015"]
    np.testing.assert_allclose(
        sig[["Factor1_rna_up", "CYT_rooney2015"]].to_numpy(), mdata.obsm["signature_scores"].to_numpy()
    )
    imm = pd.read_parquet(hm.export.immune_scores(mdata, tmp_path / "imm.parquet"))
    assert list(imm["sample_id"]) == list(mdata.obs_names)


def test_table_bad_input(mdata, tmp_path):
    with pytest.raises(ValueError, match="table format"):
        hm.export.factor_scores(mdata, tmp_path / "scores.xlsx")
    with pytest.raises(MissingResultError):
        hm.export.factor_scores(mdata, tmp_path / "s.tsv", key="nope")
    with pytest.raises(MissingResultError):
        hm.export.signature_scores(mdata, tmp_path / "s.tsv", key="nope")
    with pytest.raises(MissingResultError):
        hm.export.calls(mdata, tmp_path / "c.tsv", columns=["nope"])
    bare = mdata.copy()
    del bare.obs["pam50"], bare.obs["immune_class"]
    with pytest.raises(MissingResultError, match="no subtype or immune calls"):
        hm.export.calls(bare, tmp_path / "c.tsv")


# ----------------------------------------------------------------------------------------------
# GMT and GCT
# ----------------------------------------------------------------------------------------------


def test_gmt_of_factor_signatures(mdata, tmp_path):
    table = hm.tl.factor_signatures(mdata, n_top=3)
    sets = strict_gmt(hm.export.gmt(mdata, tmp_path / "sig.gmt"))
    assert set(sets) == {
        f"Factor{k}_{v}_{s}" for k in (1, 2, 3) for v in ("rna", "prot") for s in ("up", "down")
    } & set(sets)
    expected = table[
        (table["factor"] == "Factor1") & (table["view"] == "rna") & (table["side"] == "positive")
    ].sort_values("rank")
    description, genes = sets["Factor1_rna_up"]
    assert genes == expected["symbol"].tolist() and "Factor1 rna" in description
    assert all(not g.startswith("ENSG") for g in genes if g != "ENSG99999999999.1")
    ids = strict_gmt(hm.export.gmt(mdata, tmp_path / "ids.gmt", ids="feature"))
    assert ids["Factor1_rna_up"][1] == expected["feature"].tolist()
    with pytest.raises(ValueError, match="ids"):
        hm.export.gmt(mdata, tmp_path / "x.gmt", ids="entrez")


def test_gct_for_gsea(mdata, tmp_path):
    samples, names, descriptions, values = strict_gct(hm.export.gct(mdata, tmp_path / "rna.gct"))
    rna = mdata.mod["rna"]
    assert samples == list(rna.obs_names)
    assert names == [
        "ESR1",
        "KRT5",
        "FOXA1",
        "CD8A",
        "GZMA",
        "PRF1",
        "MKI67",
        "ERBB2",
    ]  # the symbol-less feature is left out
    assert descriptions == list(rna.var_names[:8])
    np.testing.assert_array_equal(values, rna.X[:, :8].T)  # exact round trip, NaN as an empty cell
    assert np.isnan(values[2, 3])
    samples, names, descriptions, values = strict_gct(
        hm.export.gct(mdata, tmp_path / "prot.gct", mod="prot", names="feature")
    )
    assert (
        len(samples) == 20 and names == [f"P{i}" for i in range(5)] and descriptions == ["P0", "P1", "P2", "P3", "P4"]
    )
    with pytest.raises(KeyError, match="cnv"):
        hm.export.gct(mdata, tmp_path / "x.gct", mod="cnv")


# ----------------------------------------------------------------------------------------------
# cBioPortal
# ----------------------------------------------------------------------------------------------


def test_cbioportal_files(mdata, tmp_path):
    paths = hm.export.cbioportal(mdata, tmp_path / "study", study_id="brca_tcga_pan_can_atlas_2018")
    assert set(paths) == {"clinical_data", "clinical_meta", "generic_assay_data", "generic_assay_meta"}
    meta = strict_meta(paths["clinical_meta"])
    assert meta == {
        "cancer_study_identifier": "brca_tcga_pan_can_atlas_2018",
        "genetic_alteration_type": "CLINICAL",
        "datatype": "SAMPLE_ATTRIBUTES",
        "data_filename": paths["clinical_data"].name,
    }
    lines = paths["clinical_data"].read_text().split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert all(line.startswith("#") for line in lines[:4]) and not lines[4].startswith("#")
    width = len(lines[4].split("\t"))
    assert all(len(line.split("\t")) == width for line in lines)
    header = lines[4].split("\t")
    assert header[:2] == ["PATIENT_ID", "SAMPLE_ID"]
    assert header[2:] == [
        "MOFA_FACTOR1",
        "MOFA_FACTOR2",
        "MOFA_FACTOR3",
        "HARMONOMICS_PAM50",
        "HARMONOMICS_IMMUNE_CLASS",
    ]
    assert all(h == h.upper() for h in header)
    assert lines[2].lstrip("#").split("\t") == [
        "STRING",
        "STRING",
        "NUMBER",
        "NUMBER",
        "NUMBER",
        "STRING",
        "STRING",
    ]
    assert all(p.isdigit() for p in lines[3].lstrip("#").split("\t"))
    clinical = pd.read_csv(
        paths["clinical_data"], sep="\t", comment="#", keep_default_na=False, float_precision="round_trip"
    )
    assert list(clinical["SAMPLE_ID"]) == list(mdata.obs_names)
    assert list(clinical["PATIENT_ID"]) == [s[:12] for s in mdata.obs_names]
    np.testing.assert_array_equal(
        clinical[["MOFA_FACTOR1", "MOFA_FACTOR2", "MOFA_FACTOR3"]].to_numpy(float), mdata.obsm["mofa"]
    )
    assert clinical.loc[5, "HARMONOMICS_PAM50"] == "NA"

    gmeta = strict_meta(paths["generic_assay_meta"])
    assert gmeta["genetic_alteration_type"] == "GENERIC_ASSAY"
    assert gmeta["datatype"] == "LIMIT-VALUE"
    assert gmeta["show_profile_in_analysis_tab"] == "true"
    assert gmeta["data_filename"] == paths["generic_assay_data"].name
    assert re.fullmatch(r"[A-Za-z0-9_-]+", gmeta["stable_id"])
    assert re.fullmatch(r"[A-Z_]+", gmeta["generic_assay_type"])
    assert set(gmeta) == {
        "cancer_study_identifier",
        "genetic_alteration_type",
        "generic_assay_type",
        "datatype",
        "stable_id",
        "profile_name",
        "profile_description",
        "generic_entity_meta_properties",
        "show_profile_in_analysis_tab",
        "data_filename",
    }
    properties = gmeta["generic_entity_meta_properties"].split(",")
    assay = pd.read_csv(paths["generic_assay_data"], sep="\t", keep_default_na=False, float_precision="round_trip")
    assert list(assay.columns[: 1 + len(properties)]) == ["ENTITY_STABLE_ID", *properties]
    assert list(assay.columns[1 + len(properties) :]) == list(mdata.obs_names)
    assert assay["ENTITY_STABLE_ID"].is_unique and assay["ENTITY_STABLE_ID"].str.fullmatch(r"[A-Za-z0-9_-]+").all()
    factors = assay.set_index("ENTITY_STABLE_ID").loc[
        ["mofa_Factor1", "mofa_Factor2", "mofa_Factor3"], list(mdata.obs_names)
    ]
    np.testing.assert_array_equal(factors.to_numpy(float), mdata.obsm["mofa"].T)
    assert "signature_CYT_rooney2015" in set(assay["ENTITY_STABLE_ID"])
    assert "rna 20.0%" in assay.set_index("ENTITY_STABLE_ID").loc["mofa_Factor1", "DESCRIPTION"]


def test_cbioportal_bad_input(mdata, tmp_path):
    with pytest.raises(ValueError, match="study_id"):
        hm.export.cbioportal(mdata, tmp_path, study_id="bad id")
    bad = mdata.copy()
    bad.obs["patient"] = ["patient one"] * bad.n_obs
    with pytest.raises(ValueError, match="patient ID 'patient one'"):
        hm.export.cbioportal(bad, tmp_path)
    with pytest.raises(MissingResultError):
        hm.export.cbioportal(mdata, tmp_path, key="nope")


# ----------------------------------------------------------------------------------------------
# MOFA HDF5 (read with mofax)
# ----------------------------------------------------------------------------------------------


def test_mofa_hdf5_opens_in_mofax(mdata, tmp_path):
    mofax = pytest.importorskip("mofax")
    path = hm.export.mofa_hdf5(mdata, tmp_path / "model.hdf5")
    model = mofax.mofa_model(str(path))
    try:
        assert model.views == ["rna", "prot"] and model.groups == ["group1"]
        assert list(model.samples["group1"]) == list(mdata.obs_names)
        assert list(model.features["rna"]) == list(mdata.mod["rna"].var_names)
        assert list(model.features["prot"]) == ["P0", "P1", "P2", "P3"]  # the unfitted feature is left out
        assert model.nfactors == 3 and model.shape == (24, 13)
        factors = model.get_factors(df=True)
        assert list(factors.columns) == ["Factor1", "Factor2", "Factor3"]
        np.testing.assert_allclose(factors.loc[list(mdata.obs_names)].to_numpy(), mdata.obsm["mofa"])
        weights = model.get_weights(views="rna", df=True)
        np.testing.assert_allclose(weights.to_numpy(), mdata.mod["rna"].varm["mofa"])
        np.testing.assert_allclose(model.get_weights(views="prot"), mdata.mod["prot"].varm["mofa"][:4])
        r2 = model.get_variance_explained()
        assert set(r2.columns) >= {"Factor", "View", "Group", "R2"}
        value = r2[(r2["Factor"] == "Factor2") & (r2["View"] == "prot")]["R2"].iloc[0]
        assert value == pytest.approx(15.0)  # MOFA stores percent
        np.testing.assert_allclose(model.model["variance_explained"]["r2_total"]["group1"][()], [26.0, 27.0])
        data = model.get_data(views="prot", df=True)
        assert data.loc[mdata.obs_names[-1]].isna().all()  # absent sample
        assert model.likelihoods == ["gaussian", "gaussian"]
        np.testing.assert_allclose(model.training_stats["elbo"], mdata.uns["mofa"]["elbo"])
        metadata = model.metadata
        assert list(metadata.index) == list(mdata.obs_names)
        assert metadata["pam50"].iloc[0] == str(mdata.obs["pam50"].iloc[0])
        np.testing.assert_allclose(metadata["age"].to_numpy(float), mdata.obs["age"].to_numpy())
    finally:
        model.close()


def test_mofa_hdf5_without_r2_or_data(mdata, tmp_path, caplog):
    mofax = pytest.importorskip("mofax")
    del mdata.uns["mofa"]["r2_per_view_factor"]
    path = hm.export.mofa_hdf5(mdata, tmp_path / "bare.hdf5", include_data=False, metadata=["age"])
    assert "variance explained not written" in caplog.text
    model = mofax.mofa_model(str(path))
    try:
        # (mofax's shape is wrong without a data group, a mofax quirk: keep include_data=True for mofax)
        assert model.data is None and model.nfactors == 3
        np.testing.assert_allclose(model.get_factors(), mdata.obsm["mofa"])
        assert "variance_explained" not in model.model
        assert list(model.metadata.columns) == ["group", "age"]
    finally:
        model.close()
    with pytest.raises(KeyError, match="bmi"):
        hm.export.mofa_hdf5(mdata, tmp_path / "x.hdf5", metadata=["bmi"])


def test_mofa_hdf5_groups_and_training_centring(mdata, tmp_path):
    mofax = pytest.importorskip("mofax")
    names = ["Factor1", "Factor2", "Factor3"]
    mdata.obs["batch"] = ["B" if i % 3 == 0 else "A" for i in range(mdata.n_obs)]
    rows = [
        (g, v, f, 0.01 * (i + 1))
        for i, (g, v, f) in enumerate((g, v, f) for g in "AB" for v in ("rna", "prot") for f in names)
    ]
    rna = mdata.mod["rna"]
    centre = np.vstack([np.full(rna.n_vars, 5.0), np.full(rna.n_vars, 4.0)])
    mdata.uns["mofa"].update(
        groups=["A", "B"],
        groups_key="batch",
        r2_per_group_view_factor=pd.DataFrame(rows, columns=["group", "view", "factor", "r2"]),
        projection={
            "views": {"rna": {"features": np.array(rna.var_names, dtype=object), "centre": centre, "scale": 2.0}}
        },
    )
    path = hm.export.mofa_hdf5(mdata, tmp_path / "groups.hdf5")
    model = mofax.mofa_model(str(path))
    try:
        assert model.groups == ["A", "B"]
        in_b = [s for s, b in zip(mdata.obs_names, mdata.obs["batch"], strict=True) if b == "B"]
        assert list(model.samples["B"]) == in_b
        factors = model.get_factors(df=True)
        np.testing.assert_allclose(factors.loc[list(mdata.obs_names)].to_numpy(), mdata.obsm["mofa"])
        r2 = model.get_variance_explained()
        assert r2[(r2["Group"] == "B") & (r2["View"] == "rna") & (r2["Factor"] == "Factor1")]["R2"].iloc[
            0
        ] == pytest.approx(7.0)
        assert set(model.model["variance_explained"]["r2_total"]) == {"A", "B"}  # MOFA2's load_model reads it
        data = model.get_data(views="rna", groups="B", df=True)
        expected = (pd.DataFrame(rna.X, index=rna.obs_names, columns=rna.var_names).loc[in_b] - 4.0) / 2.0
        np.testing.assert_allclose(data[list(rna.var_names)].to_numpy(), expected.to_numpy())
    finally:
        model.close()
    del mdata.obs["batch"]
    with pytest.raises(MissingResultError, match="groups_key"):
        hm.export.mofa_hdf5(mdata, tmp_path / "x.hdf5")


# ----------------------------------------------------------------------------------------------
# Everything
# ----------------------------------------------------------------------------------------------


def test_export_all(mdata, tmp_path):
    written = hm.export.export_all(
        mdata, tmp_path / "out", formats=("tsv", "parquet", "gmt", "gct", "cbioportal", "hdf5")
    )
    assert set(written) == {
        "mofa_factor_scores.tsv",
        "signature_scores.tsv",
        "immune_scores.tsv",
        "calls.tsv",
        "mofa_factor_scores.parquet",
        "signature_scores.parquet",
        "immune_scores.parquet",
        "calls.parquet",
        "mofa_signatures.gmt",
        "rna.gct",
        "cbioportal.clinical_data",
        "cbioportal.clinical_meta",
        "cbioportal.generic_assay_data",
        "cbioportal.generic_assay_meta",
        "mofa_model.hdf5",
    }
    assert all(path.is_file() and path.stat().st_size > 0 for path in written.values())
    assert not list((tmp_path / "out").rglob("*.tmp"))
    with pytest.raises(ValueError, match="unknown export format"):
        hm.export.export_all(mdata, tmp_path / "x", formats=("xlsx",))
    with pytest.raises(MissingResultError):
        hm.export.export_all(mdata, tmp_path / "x", key="nope")


def test_manifest_paths_are_relative_to_the_export_folder(mdata, tmp_path):
    import json
    import shutil

    out = tmp_path / "out"
    written = hm.export.export_all(mdata, out, formats=("tsv", "cbioportal"))
    manifest = hm.export.write_manifest(written, out)
    entries = json.loads(manifest.read_text())
    assert set(entries) == set(written)
    assert entries["cbioportal.clinical_data"] == Path(written["cbioportal.clinical_data"]).relative_to(out).as_posix()
    assert entries["cbioportal.clinical_data"].startswith("cbioportal/")
    assert not [p for p in entries.values() if p.startswith("/") or ".." in p.split("/")]
    moved = tmp_path / "moved"
    shutil.move(out, moved)  # the manifest stays true when the folder moves
    assert all((moved / p).is_file() for p in entries.values())
    with pytest.raises(ValueError, match="not inside the export folder"):
        hm.export.write_manifest({"stray": tmp_path / "elsewhere.tsv"}, moved)
