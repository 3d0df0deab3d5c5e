"""Readers against the synthetic cohort in all layouts: spot checks, chosen/dropped aliquots, cross-layout agreement."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import harmonomics as hm


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    hm.settings.verbosity = 1
    return hm.datasets.write_synthetic_cohort(
        root / "cohort", n_patients=24, seed=7, n_genes=700, n_mirnas=60, n_probes=200
    )


@pytest.fixture(scope="module")
def stores(cohort):
    hm.settings.verbosity = 1
    return {
        "gdc": hm.io.read_gdc(cohort.gdc, sample_types="all"),
        "gdc_primary": hm.io.read_gdc(cohort.gdc),
        "cbioportal": hm.io.read_cbioportal(cohort.cbioportal),
        "xena": hm.io.read_xena(cohort.xena, sample_types="all"),
        "xena_primary": hm.io.read_xena(cohort.xena),
        "firehose": hm.io.read_firehose(cohort.firehose, sample_types="all"),
        "firehose_log2": hm.io.read_firehose(cohort.firehose, sample_types="all", rna="log2"),
        # every aliquot (dropped duplicates included), for the spot checks of aliquots a reader does not keep
        "gdc_all": hm.io.read_gdc(cohort.gdc, sample_types="all", keep_all_aliquots=True),
        "firehose_all": hm.io.read_firehose(cohort.firehose, sample_types="all", keep_all_aliquots=True),
    }


def _truth(cohort, name):
    return pd.read_csv(cohort.truth / name, sep="\t", dtype=str, keep_default_na=False)


def _same(value, expected: str) -> bool:
    if expected in ("", "NA", "'--", "[Not Available]"):
        return value is None or value == "" or (isinstance(value, float) and math.isnan(value))
    try:
        return float(value) == float(expected)
    except (TypeError, ValueError):
        return str(value) == expected


def _row_of(adata, *, aliquot=None, sample=None):
    if aliquot:
        hits = np.flatnonzero(adata.obs["aliquot"].to_numpy() == aliquot)
        return int(hits[0]) if len(hits) else None
    return adata.obs_names.get_loc(sample) if sample in adata.obs_names else None


def _matrix_value(adata, row, feature, *, layer=None, by="index"):
    if by == "index":
        col = adata.var_names.get_loc(feature)
    else:
        hits = np.flatnonzero(adata.var[by].astype(str).to_numpy() == feature)
        assert len(hits) == 1, (by, feature)
        col = int(hits[0])
    X = adata.layers[layer] if layer else adata.X
    return float(np.asarray(X[row, col]).ravel()[0])


def _lookup(stores, r) -> object:
    layout, omic, feature, column = r.layout, r.omic, r.feature, r.column
    if omic == "clinical":
        m = stores[layout]
        name = column.split(".", 1)[-1] if layout == "gdc" else column
        table = m.uns.get("clinical_patients")
        key = r.sample if layout != "firehose" else r.sample.upper()
        if layout == "firehose":
            name = feature
        if layout == "xena" or (layout == "cbioportal" and r.key_column == "SAMPLE_ID"):
            table = m.uns["clinical_samples"]
        if layout == "cbioportal":
            name = column.lower()
        return table.loc[key, name]
    if omic == "mut" and layout in ("gdc", "cbioportal"):
        maf = stores[layout].mod["mut"].uns["maf"]
        sel = (maf["Hugo_Symbol"] == feature) & (maf["sample"] == r.sample)
        if r.aliquot:
            sel &= maf["aliquot"] == r.aliquot
        hits = maf.loc[sel, column]
        assert len(hits) == 1, (r.sample, feature, len(hits))
        return hits.iloc[0]
    if layout == "firehose":
        m = stores["firehose_all" if r.key_column == "Hybridization REF" else "firehose_log2"]
        a = m.mod["rna"]
        row = _row_of(a, aliquot=r.aliquot) if len(r.column) == 28 else _row_of(a, sample=r.column)
        assert row is not None, f"{r.column} not read from {r.path}"
        return _matrix_value(a, row, feature)
    m = stores["gdc_all" if layout == "gdc" else layout]
    a = m.mod[omic]
    if layout == "gdc":
        row = _row_of(a, aliquot=r.aliquot)
        assert row is not None, f"aliquot {r.aliquot} not read"
        if feature.startswith("N_"):
            return a.obs[feature].iloc[row]
        layer = {
            "unstranded": "counts",
            "tpm_unstranded": "tpm_unstranded",
            "read_count": "counts",
            "reads_per_million_miRNA_mapped": "rpm",
        }.get(column)
        return _matrix_value(a, row, feature, layer=layer)
    row = _row_of(a, sample=column)
    assert row is not None, f"sample {column} not read"
    if layout == "cbioportal":
        by = "entrez" if r.key_column == "Entrez_Gene_Id" else "index"
        layer = "gistic" if omic == "cnv" and r.path.endswith("data_cna.txt") else None
        return _matrix_value(a, row, feature, layer=layer, by=by)
    by = "peptide_target" if omic == "prot" else "index"
    return _matrix_value(a, row, feature, by=by)


def test_every_spot_check_reads_back_exactly(cohort, stores):
    checks = _truth(cohort, "spot_checks.tsv")
    assert len(checks) > 50
    failures = []
    for r in checks.itertuples(index=False):
        value = _lookup(stores, r)
        if not _same(value, r.expected):
            failures.append((r.layout, r.omic, r.sample, r.feature, r.column, r.expected, value))
    assert not failures, failures[:10]


@pytest.mark.parametrize("layout", ["gdc", "firehose"])
def test_chosen_aliquots_match_truth(cohort, stores, layout):
    chosen = _truth(cohort, "chosen_aliquots.tsv")
    chosen = chosen[chosen["layout"] == layout]
    m = stores[layout]
    for omic, grp in chosen.groupby("omic"):
        a = m.mod[omic]
        got = a.obs["aliquot"].to_dict()
        want = dict(zip(grp["sample"], grp["aliquot"], strict=True))
        assert got == want, omic


def test_primary_policy_keeps_primaries_only(cohort, stores):
    chosen = _truth(cohort, "chosen_aliquots.tsv")
    chosen = chosen[(chosen["layout"] == "gdc") & (chosen["sample_type_code"] == "01")]
    m = stores["gdc_primary"]
    assert set(m.obs["sample_type_code"]) == {"01"}
    for omic, grp in chosen.groupby("omic"):
        assert m.mod[omic].obs["aliquot"].to_dict() == dict(zip(grp["sample"], grp["aliquot"], strict=True))


@pytest.mark.parametrize("layout", ["gdc", "firehose"])
def test_report_explains_every_dropped_aliquot(cohort, stores, layout):
    dropped = _truth(cohort, "dropped_aliquots.tsv")
    dropped = dropped[dropped["layout"] == layout]
    assert len(dropped)
    report = stores[layout].uns["harmonomics_report"]
    words = {"vial": "vial", "analyte": "analyte", "barcode_order": "barcode"}
    for r in dropped.itertuples(index=False):
        rows = report[(report["item"] == r.aliquot) & (report["omic"] == r.omic)]
        assert (rows["action"] == "dropped").any(), r.aliquot
        reason = " ".join(rows["reason"])
        assert words[r.reason] in reason and r.chosen_aliquot in reason, (r.aliquot, reason)


def test_layouts_agree_on_samples_and_subtypes(cohort, stores):
    samples = _truth(cohort, "samples.tsv")
    gdc, cbio, xena = stores["gdc_primary"], stores["cbioportal"], stores["xena_primary"]
    assert set(gdc.obs_names) == set(cbio.obs_names) == set(xena.obs_names)
    for omic in ("rna", "mirna", "meth", "cnv", "mut", "prot"):
        assert set(gdc.mod[omic].obs_names) == set(cbio.mod[omic].obs_names) == set(xena.mod[omic].obs_names), omic
    truth = samples.set_index("sample")["subtype"]
    idx = cbio.obs_names
    assert (cbio.obs["pam50"].astype(str) == xena.obs.loc[idx, "pam50"].astype(str)).all()
    assert (cbio.obs["pam50"].astype(str) == truth.loc[idx]).all()


def test_survival_agrees_with_truth(cohort, stores):
    patients = _truth(cohort, "patients.tsv").set_index("patient")
    for layout in ("gdc_primary", "xena_primary", "cbioportal"):
        obs = stores[layout].obs
        want_event = patients.loc[obs["patient"], "os_event"].astype(float).to_numpy()
        assert np.array_equal(obs["os_event"].to_numpy(dtype=float), want_event), layout
        want_time = patients.loc[obs["patient"], "os_time_days"].astype(float).to_numpy()
        tol = 0.01 * 30.5 if layout == "cbioportal" else 1e-9  # OS_MONTHS has 2 decimals
        assert np.allclose(
            obs["os_time"].to_numpy(dtype=float),
            want_time,
            atol=tol + 0.01 * want_time.max() * (layout == "cbioportal"),
        ), layout


def test_mutation_matrix_matches_truth(cohort, stores):
    muts = _truth(cohort, "mutations.tsv")
    altering = muts[muts["protein_altering"] == "1"]
    for layout in ("gdc_primary", "cbioportal"):
        a = stores[layout].mod["mut"]
        for r in altering[altering["sample"].isin(a.obs_names)].itertuples(index=False):
            assert a[r.sample, r.gene].X[0, 0] == 1.0
        # non-altering only genes are zero
        silent = muts[(muts["protein_altering"] == "0") & muts["sample"].isin(a.obs_names)]
        for r in silent.itertuples(index=False):
            hit = altering[(altering["sample"] == r.sample) & (altering["gene"] == r.gene)]
            if len(hit) == 0 and r.gene in a.var_names:
                assert a[r.sample, r.gene].X[0, 0] == 0.0


# mudata warns when two modalities share feature IDs (a gene in rna and cnv); expected in a multi-omics store
@pytest.mark.filterwarnings("ignore:var_names are not unique:UserWarning")
@pytest.mark.filterwarnings("ignore:var_names is not unique:UserWarning")
def test_store_round_trip(stores, tmp_path):
    from harmonomics import store

    m = stores["gdc_primary"]
    path = store.write(m, tmp_path / "s.h5mu")
    back = store.read(path)
    assert list(back.mod) == list(m.mod)
    assert back.uns["harmonomics_report"].shape == m.uns["harmonomics_report"].shape
    np.testing.assert_array_equal(back.mod["rna"].layers["counts"], m.mod["rna"].layers["counts"])
    pd.testing.assert_frame_equal(
        back.mod["mut"].uns["maf"].reset_index(drop=True),
        m.mod["mut"].uns["maf"].reset_index(drop=True),
        check_dtype=False,
    )


@pytest.mark.parametrize("layout", ["gdc_primary", "cbioportal", "xena_primary"])
def test_harmonize_every_layout(stores, layout):
    m = hm.pp.harmonize(stores[layout], n_top=50, balance=True, copy=True)
    assert set(m.obs_names) == set(stores[layout].obs_names)
    chosen = {k: int(a.var["highly_variable"].sum()) for k, a in m.mod.items()}
    assert len(set(chosen.values())) == 1 and next(iter(chosen.values())) == 50, chosen
    rna = m.mod["rna"]
    assert rna.uns["scale"] != "counts" or rna.uns["transform"]["method"] == "log2cpm"
    if layout == "gdc_primary":
        assert not any("." in v for v in rna.var_names if v.startswith("ENSG"))  # versions stripped
        assert np.array_equal(
            rna.layers["counts"],
            stores[layout]
            .mod["rna"]
            .layers["counts"][
                :, [stores[layout].mod["rna"].var_names.get_loc(v) for v in rna.var["gene_id_versioned"]]
            ],
        )
        # mutation symbols mapped to the STAR files' Ensembl IDs
        tp53 = rna.var_names[rna.var["symbol"] == "TP53"]
        assert len(tp53) == 1 and tp53[0] in m.mod["mut"].var_names


def test_tumour_normal_pair_files_belong_to_the_tumour(cohort, stores):
    """GDC lists an ASCAT copy-number file and a masked MAF with the tumour and its blood normal, in either order:
    every tumour with such a file has its values, under its own aliquot, with the normal recorded beside it."""
    import json

    sheet = pd.read_csv(next(cohort.gdc.glob("gdc_sample_sheet.*.tsv")), sep="\t", dtype=str, keep_default_na=False)
    meta = {m["file_id"]: m for m in json.loads(next(cohort.gdc.glob("metadata.cart.*.json")).read_text())}
    store = stores["gdc"]
    for data_type, omic in (("Gene Level Copy Number", "cnv"), ("Masked Somatic Mutation", "mut")):
        rows = sheet[sheet["Data Type"] == data_type]
        listed = [s.split(", ") for s in rows["Sample ID"]]
        assert all(len(x) == 2 for x in listed)
        assert {x[0][13:15] for x in listed} == {"01", "10"}  # the normal comes first in some rows
        a = store.mod[omic]
        for fid, samples in zip(rows["File ID"], listed, strict=True):
            tumour_entity = next(
                e["entity_submitter_id"]
                for e in meta[fid]["associated_entities"]
                if e["entity_submitter_id"][13:15] != "10"
            )
            normal_entity = next(
                e["entity_submitter_id"]
                for e in meta[fid]["associated_entities"]
                if e["entity_submitter_id"][13:15] == "10"
            )
            tumour = next(s for s in samples if s[13:15] != "10")
            assert tumour[:15] in a.obs_names, (omic, fid, samples)
            hits = a.obs.index[a.obs["aliquot"] == tumour_entity]
            if len(hits):  # (a duplicate aliquot of the sample may have been chosen instead; reported elsewhere)
                assert a.obs.loc[hits[0], "matched_normal"] == normal_entity
        assert not a.obs["aliquot"].str[13:15].eq("10").any()
        assert not a.obs_names.str.endswith("-10").any()
    # the truth's chosen copy-number aliquot of every tumour is the one read
    chosen = _truth(cohort, "chosen_aliquots.tsv")
    cnv = chosen[(chosen["layout"] == "gdc") & (chosen["omic"] == "cnv")]
    a = store.mod["cnv"]
    assert len(cnv) > 10
    assert a.obs.loc[cnv["sample"], "aliquot"].tolist() == cnv["aliquot"].tolist()
    assert np.isfinite(np.asarray(a.X)).any(axis=1).all()
    report = store.uns["harmonomics_report"]
    assert not report["reason"].str.contains("sample type 10").any()
    assert report["reason"].str.contains("the matched normal .* is recorded in obs\\['matched_normal'\\]").sum() >= len(
        cnv
    )
