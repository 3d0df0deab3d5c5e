"""The `harmonomics` command: version, demo, one-line errors for user mistakes, --debug, -q, logs between bars."""

from __future__ import annotations

import inspect
import logging
import subprocess
import sys
import textwrap
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import harmonomics as hm
from harmonomics import _progress, cli


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
    assert (
        cli.main(["-q", "demo", "--cohort", "tcga_brca_mini", "--out", str(tmp_path / "demo"), "--n-factors", "3"]) == 0
    )
    out = capsys.readouterr().out
    assert "harmonomics demo (tcga_brca_mini): 220 samples" in out and "associations: done" in out
    # a step that cannot run on this cohort says why, in one line
    assert (
        "pam50: skipped: PAM50: only 0 of the 50 PAM50 genes found in modality 'rna' (need at least 40)"
        in out.splitlines()
    )
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


# --------------------------------------------------------------------------------------------------------------
# user mistakes: one line on stderr, exit status 2; a traceback only with --debug, anywhere on the line
# --------------------------------------------------------------------------------------------------------------
@pytest.fixture
def files(tmp_path):
    """A samples × genes table (METABRIC-style IDs) and a small store, in a folder of their own."""
    table = tmp_path / "expression.tsv"
    table.write_text("gene\tMB-0001\tMB-0002\tMB-0003\nESR1\t1.5\t2.0\t0.1\nERBB2\t3.0\t0.5\t1.1\n")
    rna = ad.AnnData(
        np.arange(12.0).reshape(4, 3),
        obs=pd.DataFrame(index=["MB-0001", "MB-0002", "MB-0003", "MB-0004"]),
        var=pd.DataFrame(index=["ESR1", "ERBB2", "MKI67"]),
    )
    store = hm.store.write(hm.store.new_store({"rna": rna}), tmp_path / "cohort.h5mu")
    return {"table": str(table), "store": str(store), "dir": tmp_path}


_MISTAKES = {
    "load table without --option omic": (["load", "table", "{table}", "--out", "{dir}/x.h5mu"], "--option omic=VALUE"),
    "unknown reader option": (
        ["load", "table", "{table}", "--out", "{dir}/x.h5mu", "--option", "omic=rna", "--option", "colour=red"],
        "unknown --option colour",
    ),
    "option value that is not YAML": (
        ["load", "table", "{table}", "--out", "{dir}/x.h5mu", "--option", "omic=[rna"],
        "not valid YAML",
    ),
    "--out with a wrong suffix": (
        ["load", "table", "{table}", "--out", "{dir}/x.txt", "--option", "omic=rna"],
        "'.txt'",
    ),
    "negative --n-factors": (["fit", "{store}", "--out", "{dir}/fit.h5mu", "--n-factors", "-3"], "--n-factors"),
    "--n-factors not a number": (["fit", "{store}", "--out", "{dir}/fit.h5mu", "--n-factors", "ten"], "'ten'"),
    "load of a missing folder": (
        ["load", "gdc", "{dir}/no_such_download", "--out", "{dir}/x.h5mu"],
        "no_such_download",
    ),
    "folder given without its source": (["load", "{dir}/no_such_download", "--out", "{dir}/x.h5mu"], "invalid choice"),
    "missing store": (["fit", "{dir}/none.h5mu", "--out", "{dir}/fit.h5mu"], "none.h5mu"),
    "missing STORE": (["fit", "--out", "{dir}/fit.h5mu"], "STORE is required"),
    "fit of omics the store lacks": (["fit", "{store}", "--out", "{dir}/fit.h5mu", "--mods", "meth"], "meth"),
    "export before a fit": (["export", "{store}", "--out", "{dir}/exports"], "run hm.tl.mofa"),
    "unknown subcommand": (["fitt", "{store}"], "invalid choice: 'fitt'"),
}


def _stderr_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("mistake", list(_MISTAKES))
def test_user_mistake_is_one_line_and_exit_2(mistake, files, capsys):
    argv, expected = _MISTAKES[mistake]
    status = cli.main([arg.format(**files) for arg in argv])
    captured = capsys.readouterr()
    lines = _stderr_lines(captured.err)
    assert status == 2
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("harmonomics") and ": error: " in lines[0]
    assert expected in lines[0]
    assert "Traceback" not in captured.err and captured.out == ""


def test_user_mistake_in_a_real_process(files):
    """The 14-line traceback of `load table` without `--option omic=…` is now one line, in a real process."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "harmonomics.cli",
            "load",
            "table",
            files["table"],
            "--out",
            str(files["dir"] / "x.h5mu"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert _stderr_lines(result.stderr) == ["harmonomics load: error: load table needs --option omic=VALUE"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_anywhere_gives_the_traceback(where, files):
    argv = ["fit", str(files["dir"] / "none.h5mu"), "--out", str(files["dir"] / "fit.h5mu")]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    with pytest.raises(FileNotFoundError, match="none.h5mu"):
        cli.main(argv)
    result = subprocess.run(
        [sys.executable, "-m", "harmonomics.cli", *argv], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback") and "FileNotFoundError: no store at" in result.stderr


def _noisy_report(args):
    """A stand-in step that shows a progress bar, logs, and meets a dependency's warning half way."""
    with _progress.progress_bar(desc="reading", total=2) as bar:
        bar.update(1)
        logging.getLogger("harmonomics.io").info("halfway there")
        warnings.warn("a dependency\nspeaks", UserWarning, stacklevel=1)
        bar.update(1)
    print("done")
    return 0


def test_quiet_silences_warnings_logs_and_bars(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_cmd_report", _noisy_report)
    for argv in (["-q", "report", "s.h5mu", "--out", "r.html"], ["report", "s.h5mu", "--out", "r.html", "-q"]):
        assert cli.main(argv) == 0
        captured = capsys.readouterr()
        assert captured.err == "" and captured.out == "done\n"


def test_log_lines_and_warnings_go_between_progress_bars(tmp_path):
    """Each log line and warning starts on a cleared line (tqdm.write), not in the middle of the bar; a warning is
    one line, without the source line Python prints."""
    script = tmp_path / "noisy.py"
    script.write_text(
        "import sys\nfrom harmonomics import cli\nfrom tests_noisy import _noisy_report\n"
        "cli._cmd_report = _noisy_report\nsys.exit(cli.main(['report', 's.h5mu', '--out', 'r.html']))\n"
    )
    (tmp_path / "tests_noisy.py").write_text(
        "import logging, warnings\nfrom harmonomics import _progress\n"
        + textwrap.dedent(inspect.getsource(_noisy_report))
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, check=False, cwd=tmp_path)
    stderr = result.stderr.decode()  # bytes: text mode would turn the bars' carriage returns into newlines
    assert result.returncode == 0, stderr
    assert "reading:" in stderr  # the bar was drawn
    for message in ("halfway there", "UserWarning: a dependency speaks"):
        assert message in stderr
        before = stderr.split(message)[0]
        *_, drawn, cleared = before.rsplit("\r", 2)
        assert cleared == "" and drawn.strip() == "", repr(before[-80:])  # the bar was wiped before the line
    assert "warnings.warn" not in stderr


def test_main_leaves_logging_and_settings_as_it_found_them(capsys):
    before = (hm.settings.verbosity, logging.getLogger("harmonomics").handlers[:])
    cli.main(["-q", "fit", "none.h5mu", "--out", "fit.h5mu"])
    capsys.readouterr()
    assert (hm.settings.verbosity, logging.getLogger("harmonomics").handlers[:]) == before
