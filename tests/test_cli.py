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


def test_demo_runs_the_whole_chain(tmp_path, capsys):
    assert cli.main(["-q", "demo", "--out", str(tmp_path / "demo"), "--n-factors", "5"]) == 0
    out = capsys.readouterr().out
    assert "220 samples" in out and "associations: done" in out and "survival: done" in out
    folder = tmp_path / "demo" / "tcga_brca_mini"
    back = hm.store.read(folder / "annotated.h5mu")
    assert back.n_obs == 220 and back["prot"].n_obs == 150
    assert back.obsm["mofa"].shape == (220, 5)
    assert (folder / "report.html").stat().st_size > 100_000
    assert (folder / "exports" / "MANIFEST.json").is_file()


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
