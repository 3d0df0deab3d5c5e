"""`harmonomics run`, the step subcommands, the config schema and the Snakemake workflow."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import harmonomics as hm
from harmonomics import cli, pipeline
from harmonomics.pipeline import ConfigError

REPO = Path(__file__).resolve().parents[1]
FAST_FIT = {"n_factors": 4, "convergence": "fast", "features_per_omic": 60, "seed": 0}


def _write_config(folder: Path, cohorts: dict, **sections) -> Path:
    config = {"out": "results", "cohorts": cohorts, "fit": dict(FAST_FIT)}
    config.update(sections)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


# ---------------------------------------------------------------------------------------------------------------
# the config schema
# ---------------------------------------------------------------------------------------------------------------
def test_example_config_is_valid():
    config = pipeline.load_config(REPO / "workflows" / "config.example.yaml")
    assert config["cohorts"]["brca_demo"]["source"] == "tcga_brca_mini"
    assert config["fit"]["n_factors"] == 10
    assert Path(config["out"]).is_absolute()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"cohorts": {"a": {"source": "tcga_brca_mini"}}, "fitt": {}},
            "unknown config key 'fitt'; allowed keys: annotate, cohorts, dask, export, fit, out, report",
        ),
        (
            {"cohorts": {"a": {"source": "tcga_brca_mini"}}, "fit": {"n_factor": 3}},
            "unknown config key 'fit.n_factor'; allowed keys in fit: convergence",
        ),
        (
            {"cohorts": {"a": {"source": "tcga_brca_mini"}}, "fit": {"n_factors": "ten"}},
            "'fit.n_factors' must be int, got str 'ten'",
        ),
        ({"cohorts": {"a": {"source": "tcga"}}}, "'cohorts.a.source' is 'tcga'; allowed: gdc, cbioportal"),
        ({"cohorts": {"a": {"source": "gdc"}}}, "'cohorts.a.path' is required for source 'gdc'"),
        ({"cohorts": {"a": {"source": "gdc", "path": "x", "opts": {}}}}, "unknown config key 'cohorts.a.opts'"),
        ({}, "config key 'cohorts' is required"),
        (
            {"cohorts": {"a": {"source": "tcga_brca_mini"}}, "fit": {"engine": "gpu"}},
            "'fit.engine' is 'gpu'; allowed: fast, mofapy2",
        ),
        (
            {"cohorts": {"a": {"source": "tcga_brca_mini"}}, "annotate": {"panel_size_mb": {"IMPACT505": 0}}},
            "'annotate.panel_size_mb.IMPACT505' must be a positive number of megabases, got 0",
        ),
        (
            {"cohorts": {"a": {"source": "tcga_brca_mini"}}, "annotate": {"exome_size_mb": "38"}},
            "'annotate.exome_size_mb' must be Real, got str '38'",
        ),
    ],
)
def test_bad_config_names_the_key(config, message):
    with pytest.raises(ConfigError) as info:
        pipeline.load_config(config)
    assert message in str(info.value)


def test_cli_bad_config_is_one_line_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"cohorts": {"a": {"source": "tcga_brca_mini"}}, "reprot": {}}))
    result = subprocess.run(
        [sys.executable, "-m", "harmonomics.cli", "run", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown config key 'reprot'" in lines[0] and "allowed keys" in lines[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "no/such/config.yaml"], "no config file"),
        (["load", "gdc", "no/such/folder", "--out", "x.h5mu"], "no such file or folder"),
        (["load", "gdc"], "--out is required"),
        (["fit", "missing.h5mu", "--out", "y.h5mu"], "no store"),
        (["load", "table", "x.tsv", "--out", "y.h5mu", "--option", "novalue"], "--option expects key=value"),
    ],
)
def test_cli_user_mistakes(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["-q", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_cli_unknown_format_is_rejected(capsys):
    assert cli.main(["load", "vcf", "x"]) == 2  # argparse's errors are one line and a return, not SystemExit
    assert "invalid choice: 'vcf'" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------------------------------
def test_run_then_reuse_then_force(tmp_path):
    path = _write_config(tmp_path, {"mini": {"source": "tcga_brca_mini"}}, export={"formats": ["tsv"]})
    results = pipeline.run(path)
    folder = results["mini"]
    for name in ("loaded.h5mu", "fitted.h5mu", "annotated.h5mu", "report.html"):
        assert (folder / name).is_file(), name
    assert (folder / "exports" / "MANIFEST.json").is_file()
    annotated = hm.store.read(folder / "annotated.h5mu")
    assert annotated.obsm["mofa"].shape == (220, 4)
    assert annotated.uns["harmonomics_annotate"]["associations"] == "done"
    assert annotated.uns["harmonomics_annotate"]["pam50"].startswith("skipped")  # no PAM50 genes in this cohort

    stamps = {p.name: p.stat().st_mtime_ns for p in (folder / ".harmonomics").iterdir()}
    outputs = {name: (folder / name).stat().st_mtime_ns for name in ("fitted.h5mu", "report.html")}
    pipeline.run(path)  # same config: every step reused
    assert {p.name: p.stat().st_mtime_ns for p in (folder / ".harmonomics").iterdir()} == stamps
    assert {name: (folder / name).stat().st_mtime_ns for name in outputs} == outputs

    # a changed fit parameter recomputes fit and everything downstream, not load
    config = yaml.safe_load(path.read_text())
    config["fit"]["n_factors"] = 3
    path.write_text(yaml.safe_dump(config))
    pipeline.run(path)
    assert (folder / ".harmonomics" / "load.json").stat().st_mtime_ns == stamps["load.json"]
    assert hm.store.read(folder / "fitted.h5mu").obsm["mofa"].shape == (220, 3)

    pipeline.run(path, force=True)
    assert (folder / ".harmonomics" / "load.json").stat().st_mtime_ns != stamps["load.json"]


def test_real_cohort_runs_every_step_with_nothing_skipped(tmp_path, monkeypatch):
    from harmonomics import cli

    monkeypatch.setattr(hm.settings, "cache_dir", tmp_path / "cache")
    covariates, _ = cli._DEMO_COHORTS["tcga_brca_121"]  # the demo's own covariates
    path = _write_config(tmp_path, {"real": {"source": "tcga_brca_121"}}, export={"formats": ["tsv", "gmt"]})
    config = yaml.safe_load(path.read_text())
    config["fit"].update({"n_factors": 4, "features_per_omic": 500})
    config["annotate"] = {"covariates": covariates}
    path.write_text(yaml.safe_dump(config))
    folder = pipeline.run(path)["real"]
    back = hm.store.read(folder / "annotated.h5mu")
    status = back.uns["harmonomics_annotate"]
    assert status == {
        step: "done"
        for step in (
            "pam50",
            "immune_scores",
            "immune_status",
            "receptor_status",
            "tmb",
            "actionable",
            "associations",
            "survival",
            "signatures",
            "enrichment",
        )
    }
    assert {m: a.n_obs for m, a in back.mod.items()} == {"rna": 121, "cnv": 119, "mut": 110, "prot": 100}
    assert back.obsm["mofa"].shape == (121, 4)
    # the precision layer ran on every gene of the loaded store, not only the fit's selected features
    assert back.obs["er_call"].notna().sum() >= 110 and back.obs["tmb"].notna().sum() == 110
    assert len(back.uns["actionable"]) > 0
    # our calls (obs["pam50"], with confidence and ROR) agree with the published Xena labels
    labelled = back.obs["pam50_xena"].notna()
    assert (back.obs.loc[labelled, "pam50"].astype(str) == back.obs.loc[labelled, "pam50_xena"].astype(str)).sum() >= 97
    for column in ("pam50_confidence", "pam50_ror_s", "immune_class", "immune_pdl1_status"):
        assert back.obs[column].notna().all(), column
    # ESTIMATE ran on the counts: purity tracks the published values
    purity = back.obsm["immune"]["estimate_purity"]
    assert purity.corr(back.obs["purity_estimate"], method="spearman") >= 0.97
    table = back.uns["mofa_associations"]
    assert {"pam50", "pam50_xena", "pam50_tcga2012", "er_status", "her2_status", "immune_class"} <= set(
        table["covariate"]
    )
    assert len(back.uns["mofa_survival"]) == 4 and len(back.uns["mofa_enrichment"]) > 0
    assert back.obsm["signature_scores"].shape[0] == 121
    assert (folder / "report.html").stat().st_size > 100_000
    assert (folder / "exports" / "signature_scores.tsv").is_file()


def test_bundled_cohorts_need_no_path():
    config = pipeline.load_config({"cohorts": {"a": {"source": "tcga_brca_121"}, "b": {"source": "tcga_brca_mini"}}})
    assert config["cohorts"]["a"]["path"] is None and set(pipeline.BUNDLED_COHORTS) <= set(pipeline.SOURCES)


def test_step_subcommands_chain(tmp_path, capsys):
    store = tmp_path / "mini.h5mu"
    assert cli.main(["-q", "load", "tcga_brca_mini", "--out", str(store)]) == 0
    assert (
        cli.main(
            [
                "-q",
                "fit",
                str(store),
                "--out",
                str(tmp_path / "fit.h5mu"),
                "--n-factors",
                "3",
                "--convergence",
                "fast",
                "--features-per-omic",
                "50",
            ]
        )
        == 0
    )
    assert (
        cli.main(
            [
                "-q",
                "annotate",
                str(tmp_path / "fit.h5mu"),
                "--out",
                str(tmp_path / "ann.h5mu"),
                "--covariates",
                "pam50",
                "--no-immune",
            ]
        )
        == 0
    )
    assert (
        cli.main(["-q", "export", str(tmp_path / "ann.h5mu"), "--out", str(tmp_path / "exports"), "--formats", "csv"])
        == 0
    )
    assert (tmp_path / "exports" / "mofa_factor_scores.csv").is_file()
    out = capsys.readouterr().out
    assert "fitted 3 factors" in out and "associations: done" in out


# ---------------------------------------------------------------------------------------------------------------
# Snakemake
# ---------------------------------------------------------------------------------------------------------------
def _snakemake(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("snakemake")
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "workflows" / "Snakefile"), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_snakemake_plan_covers_every_cohort(tmp_path):
    path = _write_config(tmp_path, {"a": {"source": "tcga_brca_mini"}, "b": {"source": "tcga_brca_mini"}})
    result = _snakemake("--configfile", str(path), "-n", "--cores", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    table = result.stdout.split("Job stats:")[1].split("\n\n")[0]
    counts = {
        line.split()[0]: int(line.split()[1])
        for line in table.splitlines()
        if len(line.split()) == 2 and line.split()[1].isdigit()
    }
    assert counts == {"all": 1, "annotate": 2, "export": 2, "fit": 2, "load": 2, "report": 2, "total": 11}


def test_snakemake_runs_the_synthetic_gdc_cohort(tmp_path):
    cohort = hm.datasets.write_synthetic_cohort(tmp_path / "synthetic", n_patients=40, seed=3, layouts=("gdc",))
    gdc = Path(cohort["gdc"]) if isinstance(cohort, dict) else Path(cohort.gdc)
    path = _write_config(tmp_path, {"synth": {"source": "gdc", "path": str(gdc)}}, export={"formats": ["tsv", "gmt"]})
    result = _snakemake("--configfile", str(path), "--cores", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / "results" / "synth"
    assert (folder / "report.html").is_file()
    assert json.loads((folder / "exports" / "MANIFEST.json").read_text())
    mdata = hm.store.read(folder / "annotated.h5mu")
    assert "mofa" in mdata.obsm and mdata.uns["harmonomics_annotate"]["pam50"] == "done"
    shutil.rmtree(tmp_path / "synthetic")


def test_run_with_methylation_streamed_to_zarr(tmp_path):
    """A cohort read with stream={"meth": ...}: the fit loads only the selected probes from the zarr store."""
    cohort = hm.datasets.write_synthetic_cohort(tmp_path / "synthetic", n_patients=40, seed=5, layouts=("gdc",))
    options = {"stream": {"meth": str(tmp_path / "meth.zarr")}, "omics": ["rna", "meth", "prot"]}
    path = _write_config(
        tmp_path,
        {"s": {"source": "gdc", "path": str(cohort.gdc), "options": options}},
        export={"formats": ["tsv"]},
        annotate={"immune": False},
    )
    folder = pipeline.run(path)["s"]
    loaded = hm.store.read(folder / "loaded.h5mu")
    assert "meth" not in loaded.mod and (tmp_path / "meth.zarr").is_dir()
    fitted = hm.store.read(folder / "fitted.h5mu")
    assert "meth" in fitted.uns["mofa"]["views"]
    assert fitted["meth"].n_vars == FAST_FIT["features_per_omic"]


def _annotate_only_pam50(monkeypatch, error):
    import anndata as ad

    from harmonomics.pipeline import annotate_step

    def failing_pam50(mdata, **kwargs):
        raise error

    monkeypatch.setattr(hm.tl, "pam50", failing_pam50)
    samples, genes = pd.DataFrame(index=["s1", "s2", "s3"]), pd.DataFrame(index=["A", "B"])
    rna = ad.AnnData(np.ones((3, 2)), obs=samples, var=genes)
    mdata = hm.store.new_store({"rna": rna})
    annotate = {"pam50": True, "immune": False, "covariates": [], "survival": False, "precision": False}
    return mdata, annotate_step(mdata, annotate)


def test_tmb_sizes_reach_tl_tmb_from_the_config_and_the_cli(shared_data, tmp_path, capsys):
    config = pipeline.load_config(
        {"cohorts": {"a": {"source": "tcga_brca_mini"}}, "annotate": {"exome_size_mb": 30, "panel_size_mb": None}}
    )
    assert config["annotate"]["exome_size_mb"] == 30 and config["annotate"]["panel_size_mb"] is None
    study = shared_data / "real_files" / "cbioportal" / "study_es_0"
    loaded = tmp_path / "es0.h5mu"
    assert cli.main(["-q", "load", "cbioportal", str(study), "--out", str(loaded)]) == 0
    out = tmp_path / "annotated.h5mu"
    argv = ["-q", "annotate", str(loaded), "--out", str(out), "--no-pam50", "--no-immune", "--no-survival"]
    argv += ["--exome-size-mb", "30", "--panel-size", "TESTPANEL1=0.05", "--panel-size", "TESTPANEL2=0.04"]
    assert cli.main(argv) == 0
    annotated = hm.store.read(out)
    obs = annotated.obs
    # TEST_SAMPLE_4 (TESTPANEL1) has one coding variant, TEST_SAMPLE_1 (exome) one, in the raw MAF
    assert obs.at["TEST_SAMPLE_4", "tmb"] == pytest.approx(1 / 0.05)
    assert obs.at["TEST_SAMPLE_1", "tmb"] == pytest.approx(1 / 30)
    assert annotated.uns["harmonomics_annotate"]["tmb"] == "done"
    capsys.readouterr()
    assert cli.main(["-q", "annotate", str(loaded), "--out", str(out), "--panel-size", "IMPACT505"]) == 2
    assert "expected PANEL=MB (e.g. IMPACT505=1.3), got 'IMPACT505'" in capsys.readouterr().err


def test_annotate_records_a_package_error_by_its_reason(monkeypatch):
    from harmonomics._errors import GeneMappingError

    error = GeneMappingError(
        "PAM50: too few genes; missing: ['ESR1', 'PGR']", reason="PAM50: too few genes", missing=["ESR1", "PGR"]
    )
    mdata, status = _annotate_only_pam50(monkeypatch, error)
    assert status == {"pam50": "skipped: PAM50: too few genes"}
    assert mdata.uns["harmonomics_annotate"] == status


@pytest.mark.parametrize("bug", [KeyError("obs column"), ValueError("could not broadcast")])
def test_annotate_does_not_hide_a_programming_error(monkeypatch, bug):
    with pytest.raises(type(bug)):
        _annotate_only_pam50(monkeypatch, bug)


def test_a_stamp_that_cannot_be_read_means_run_again(tmp_path, caplog):
    caplog.set_level("INFO", logger="harmonomics.pipeline")
    paths = pipeline.CohortPaths(tmp_path)
    paths.loaded.write_bytes(b"")
    stamp = paths.stamp("load")
    stamp.parent.mkdir()
    stamp.write_text(json.dumps({"digest": "abc"}))
    assert pipeline._is_fresh(paths, "load", "abc")
    assert not pipeline._is_fresh(paths, "load", "other")
    for text in ('{"digest": "ab', '["abc"]'):  # cut short by a crash; not a stamp
        stamp.write_text(text)
        assert not pipeline._is_fresh(paths, "load", "abc")
    assert "cannot be read" in caplog.text
