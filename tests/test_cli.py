"""The `harmonomics` command: version, demo, and one-line errors for user mistakes."""

from __future__ import annotations

import subprocess
import sys

import harmonomics as hm
from harmonomics import cli


def test_version(capsys):
    try:
        cli.main(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0
    assert capsys.readouterr().out.strip() == f"harmonomics {hm.__version__}"


def test_demo_defaults_to_the_real_cohort():
    # the whole chain on tcga_brca_121 is run by tests/test_pipeline.py (the demo's config, smaller fit)
    args = cli.build_parser().parse_args(["demo"])
    assert args.cohort == "tcga_brca_121"
    covariates, title = cli._DEMO_COHORTS["tcga_brca_121"]
    assert {"pam50", "pam50_xena", "pam50_tcga2012", "er_status", "her2_status", "immune_class"} <= set(covariates)
    assert "121 patients" in title


def test_demo_runs_the_mini_cohort_on_request(tmp_path, capsys):
    assert cli.main(["-q", "demo", "--cohort", "tcga_brca_mini", "--out", str(tmp_path / "demo"), "--n-factors", "3"]) == 0
    out = capsys.readouterr().out
    assert "harmonomics demo (tcga_brca_mini): 220 samples" in out and "associations: done" in out
    # a step that cannot run on this cohort says why, in one line
    assert "pam50: skipped: PAM50: only 0 of the 50 PAM50 genes found in modality 'rna' (need at least 40)" in out.splitlines()
    assert any(line.startswith("immune_scores: skipped: expression has negative values") for line in out.splitlines())
    back = hm.store.read(tmp_path / "demo" / "tcga_brca_mini" / "annotated.h5mu")
    assert back.n_obs == 220 and back["prot"].n_obs == 150


def test_user_error_is_one_line_without_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = subprocess.run(
        [sys.executable, "-m", "harmonomics.cli", "-q", "demo", "--out", str(blocker / "sub")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("harmonomics demo: error:")


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "usage: harmonomics" in capsys.readouterr().out


def test_every_subcommand_has_help_with_examples(capsys):
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subparsers.choices.items():
        assert "examples:" in sub.format_help(), name
