"""The ``harmonomics`` command: a thin layer over the public Python API.

Every subcommand calls public functions only. A user mistake (a missing option, a bad value, a wrong suffix, a
missing file, a step that cannot run on the data) ends with one line on stderr and exit status 2, never a
traceback; ``--debug``, anywhere on the line, shows the traceback. ``-q`` silences warnings, log lines and
progress bars; log lines and warnings are written between progress bars, never through them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ._compat import mudata_options
from ._errors import HarmonomicsError
from ._keys import CONVERGENCE_MODES, KEY_MOFA
from ._version import __version__
from .pipeline import SOURCES

logger = logging.getLogger("harmonomics")

EXIT_USER_ERROR = 2

# what a user can get wrong: the package's own errors, and files that are missing or can't be opened
USER_ERRORS = (
    HarmonomicsError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
    FileExistsError,
)


class CLIError(HarmonomicsError):
    """A user mistake detected by the command line itself (bad option value, missing option)."""


class UsageError(CLIError):
    """A command line argparse cannot parse; the message starts with the (sub)command it concerns."""


# ---------------------------------------------------------------------------------------------------------------
# subcommands: each parses its options and calls the public API
# ---------------------------------------------------------------------------------------------------------------
def _from_config(args: argparse.Namespace, step: str) -> bool:
    """Run ``step`` from ``--config/--cohort`` (as the Snakemake rules do); False when not asked to."""
    if not getattr(args, "config", None):
        return False
    from . import pipeline

    config = pipeline.load_config(args.config)
    cohort = args.cohort or _only_cohort(config)
    output = pipeline.run_step(step, config, cohort, force=args.force)
    print(f"{step} [{cohort}]: {output}")
    return True


def _only_cohort(config) -> str:
    names = list(config["cohorts"])
    if len(names) != 1:
        raise CLIError(f"the config has several cohorts ({', '.join(names)}); choose one with --cohort")
    return names[0]


def _require(value, option: str, step: str):
    if value is None:
        raise CLIError(f"{option} is required (or give --config and --cohort to take it from a pipeline config)")
    return value


def _store_path(value: str, option: str) -> Path:
    """``value`` as a store path, refused up front (before any work) when its suffix names no store format."""
    from .store import SUFFIXES

    path = Path(value)
    if path.suffix.lower() not in SUFFIXES:
        raise CLIError(
            f"{option} {value!r}: a store ends in one of {', '.join(sorted(SUFFIXES))}, "
            f"not {path.suffix or 'no suffix'!r}"
        )
    return path


def _store_and_out(args: argparse.Namespace, step: str, *, out_is_store: bool = True) -> tuple[Path, Path]:
    """The input store and the ``--out`` path of a step run without a config."""
    store = Path(_require(args.store, "STORE", step))
    out = _require(args.out, "--out", step)
    return store, _store_path(out, "--out") if out_is_store else Path(out)


def _check_reader_options(source: str, path: str | None, options: dict) -> None:
    """Refuse, before reading, reader options that are missing or unknown, naming them as ``--option`` flags."""
    import inspect

    import harmonomics as hm

    reader = hm.store.read if source == "store" else getattr(hm.io, f"read_{source}", None)
    if reader is None:
        return
    parameters = inspect.signature(reader).parameters
    first = next(iter(parameters))  # the path, given as PATH, never as an option
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    allowed = [name for name, p in parameters.items() if name != first and p.kind is not inspect.Parameter.VAR_KEYWORD]
    unknown = [key for key in options if key == first or key not in parameters]
    if unknown and not takes_any:
        raise CLIError(f"load {source}: unknown --option {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    missing = [
        name
        for name, p in list(parameters.items())[1:]
        if p.default is inspect.Parameter.empty and p.kind is inspect.Parameter.KEYWORD_ONLY and name not in options
    ]
    if missing:
        raise CLIError(f"load {source} needs {' '.join(f'--option {name}=VALUE' for name in missing)}")


def _parse_options(pairs: Sequence[str] | None) -> dict:
    """``key=value`` reader options; values are YAML scalars/lists (``sample_types=[TP,NT]``)."""
    import yaml

    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CLIError(f"--option expects key=value, got {pair!r}")
        try:
            options[key] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise CLIError(
                f"--option {pair!r}: the value is not valid YAML ({getattr(err, 'problem', None) or err})"
            ) from err
    return options


def _cmd_load(args: argparse.Namespace) -> int:
    if _from_config(args, "load"):
        return 0
    import harmonomics as hm

    from .pipeline import load_cohort

    source = _require(args.source, "SOURCE", "load")
    out = _store_path(_require(args.out, "--out", "load"), "--out")
    options = _parse_options(args.option)
    _check_reader_options(source, args.path, options)
    mdata = load_cohort(source, args.path, options=options)
    hm.store.write(mdata, out)
    print(
        f"loaded {mdata.n_obs} samples, omics "
        f"{', '.join(f'{m} ({a.n_obs}×{a.n_vars})' for m, a in mdata.mod.items())} -> {out}"
    )
    return 0


def _cmd_fit(args: argparse.Namespace) -> int:
    if _from_config(args, "fit"):
        return 0
    import harmonomics as hm

    from .pipeline import SCHEMA, fit_step

    store, out = _store_and_out(args, "fit")
    fit = {key: spec[1] for key, spec in SCHEMA["fit"].items()}
    fit.update(
        n_factors=args.n_factors,
        engine=args.engine,
        seed=args.seed,
        convergence=args.convergence,
        float32=args.float32,
        mods=args.mods,
        features_per_omic=args.features_per_omic,
    )
    mdata = hm.store.read(store)
    fit_step(mdata, fit)
    hm.store.write(mdata, out)
    r2 = mdata.uns[KEY_MOFA].get("r2_per_view")
    print(f"fitted {fit['n_factors']} factors on {', '.join(mdata.uns[KEY_MOFA]['views'])} -> {out}")
    if r2 is not None:
        print("variance explained per omic: " + ", ".join(f"{k} {float(v):.2f}" for k, v in dict(r2).items()))
    return 0


def _cmd_annotate(args: argparse.Namespace) -> int:
    if _from_config(args, "annotate"):
        return 0
    import harmonomics as hm

    from .pipeline import annotate_step

    store, out = _store_and_out(args, "annotate")
    mdata = hm.store.read(store)
    expression = hm.store.read(_store_path(args.expression, "--expression")) if args.expression else None
    status = annotate_step(
        mdata,
        {
            "pam50": not args.no_pam50,
            "immune": not args.no_immune,
            "covariates": args.covariates,
            "survival": not args.no_survival,
            "exome_size_mb": args.exome_size_mb,
            "panel_size_mb": dict(args.panel_size or []) or None,
        },
        expression=expression,
    )
    hm.store.write(mdata, out)
    for name, outcome in status.items():
        print(f"{name}: {outcome}")
    print(f"annotated store -> {out}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    if _from_config(args, "export"):
        return 0
    import harmonomics as hm

    store, out = _store_and_out(args, "export", out_is_store=False)
    mdata = hm.store.read(store)
    written = hm.export.export_all(mdata, out, formats=args.formats, key=args.key)
    for name, path in written.items():
        print(f"{name}\t{path}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    if args.patient and getattr(args, "config", None):
        raise CLIError("report: --patient writes one patient's card from a STORE; it cannot be used with --config")
    if _from_config(args, "report"):
        return 0
    import harmonomics as hm

    store, out = _store_and_out(args, "report", out_is_store=False)
    path = hm.report(
        hm.store.read(store), out, exports=args.exports, title=args.title, key=args.key, patient=args.patient
    )
    print(f"{'card' if args.patient else 'report'} -> {path}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from . import pipeline

    results = pipeline.run(args.config, cohorts=args.cohort, force=args.force)
    for cohort, folder in results.items():
        print(f"{cohort}: {folder}")
    return 0


_DEMO_COHORTS = {
    # cohort: (association covariates, report title)
    "tcga_brca_121": (
        ["pam50", "pam50_xena", "pam50_tcga2012", "er_status", "her2_status", "immune_class", "stage", "age"],
        "harmonomics demo: TCGA-BRCA, 121 patients (RNA-seq counts, RPPA, copy number, mutations)",
    ),
    "tcga_brca_mini": (["pam50", "split", "stage", "age"], "harmonomics demo: TCGA-BRCA (mixOmics cohort)"),
}


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import pipeline

    out = Path(args.out)
    cohort = getattr(args, "cohort", "tcga_brca_121")
    covariates, title = _DEMO_COHORTS[cohort]
    config = {
        "out": str(out.resolve()),
        "cohorts": {cohort: {"source": cohort}},
        "fit": {"n_factors": args.n_factors, "features_per_omic": 2000},
        "annotate": {"covariates": covariates},
        "report": {"title": title},
    }
    results = pipeline.run(config, force=args.force)
    folder = results[cohort]
    import harmonomics as hm

    mdata = hm.store.read(folder / "annotated.h5mu")
    print(f"harmonomics demo ({cohort}): {mdata.n_obs} samples, {len(mdata.mod)} omics")
    print(_omics_summary(mdata).to_string())
    for name, outcome in dict(mdata.uns.get("harmonomics_annotate", {})).items():
        print(f"{name}: {outcome}")
    print(f"store:   {folder / 'annotated.h5mu'}")
    print(f"exports: {folder / 'exports'}")
    print(f"report:  {folder / 'report.html'}")
    return 0


def _omics_summary(mdata):
    import pandas as pd

    rows = []
    for name, adata in mdata.mod.items():
        rows.append(
            {
                "omic": name,
                "samples": adata.n_obs,
                "features": adata.n_vars,
                "missing_samples": mdata.n_obs - adata.n_obs,
            }
        )
    return pd.DataFrame(rows).set_index("omic")


# ---------------------------------------------------------------------------------------------------------------
# parser
# ---------------------------------------------------------------------------------------------------------------
Command = Callable[[argparse.Namespace], int]


class _ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that raises :class:`UsageError` instead of printing the usage and exiting."""

    def error(self, message: str):  # noqa: D102 - argparse API
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def _positive_int(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 0, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _common_options() -> argparse.ArgumentParser:
    """-v, -q and --debug, accepted before and after the subcommand (defaults are set in :func:`main`)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output (-vv for debug)"
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="only errors: no warnings, log lines or progress bars",
    )
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks on errors"
    )
    return common


def _add_subcommand(
    subparsers: argparse._SubParsersAction, name: str, func: Command, *, help: str, examples: Sequence[str]
) -> argparse.ArgumentParser:
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    parser = subparsers.add_parser(
        name,
        parents=[_common_options()],
        help=help,
        description=help,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``harmonomics`` command."""
    parser = _ArgumentParser(
        prog="harmonomics",
        parents=[_common_options()],
        description=textwrap.dedent(
            """\
            harmonomics: multi-omics integration for breast-cancer precision medicine.
            Load TCGA-style data into one store, fit cross-omic factors, map them to subtypes,
            immune status and survival, and export the results."""
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"harmonomics {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    for add in _SUBCOMMANDS:
        add(subparsers)
    return parser


def _step_options(sub: argparse.ArgumentParser) -> None:
    """The options of a pipeline step run from a config (as the Snakemake workflow calls it)."""
    group = sub.add_argument_group("from a pipeline config (as the Snakemake workflow calls it)")
    group.add_argument("--config", help="pipeline config (YAML); paths and parameters come from it")
    group.add_argument("--cohort", help="cohort name in the config (needed when it has several)")
    group.add_argument("--force", action="store_true", help="recompute even if the output is up to date")


def _add_load(subparsers) -> None:
    """``harmonomics load``: read a source into a store."""
    load = _add_subcommand(
        subparsers,
        "load",
        _cmd_load,
        help="read a GDC folder, cBioPortal study, Xena/Firehose matrix or table into a store",
        examples=[
            "harmonomics load gdc gdc_download/ --out brca.h5mu",
            "harmonomics load cbioportal brca_tcga_pan_can_atlas_2018/ --out brca.h5mu --option join=intersection",
            "harmonomics load table rnaseq.tsv --out rna.h5mu --option omic=rna "
            "--option orientation=features_x_samples",
            "harmonomics load --config config.yaml --cohort brca",
        ],
    )
    load.add_argument("source", nargs="?", choices=list(SOURCES), help="kind of input")
    load.add_argument("path", nargs="?", help="folder or file to read")
    load.add_argument("--out", help="store to write (.h5mu, .zarr or .nc)")
    load.add_argument("--option", action="append", metavar="KEY=VALUE", help="reader option, repeatable")
    _step_options(load)


def _add_fit(subparsers) -> None:
    """``harmonomics fit``: select features and fit factors."""
    fit = _add_subcommand(
        subparsers,
        "fit",
        _cmd_fit,
        help="select features and fit MOFA+ factors, written into the store",
        examples=[
            "harmonomics fit brca.h5mu --out brca.fitted.h5mu --n-factors 10",
            "harmonomics fit brca.h5mu --out fitted.h5mu --engine mofapy2 --mods rna prot",
        ],
    )
    fit.add_argument("store", nargs="?", help="input store")
    fit.add_argument("--out", help="output store")
    fit.add_argument("--n-factors", type=_positive_int, default=10)
    fit.add_argument("--engine", choices=["fast", "mofapy2"], default="fast")
    fit.add_argument("--seed", type=_non_negative_int, default=0)
    fit.add_argument(
        "--convergence",
        choices=list(CONVERGENCE_MODES),
        default="auto",
        help="stopping rule (default: the window rule with the fast engine, medium with mofapy2)",
    )
    fit.add_argument("--float32", action="store_true", help="fit in single precision")
    fit.add_argument("--mods", nargs="+", help="omics to use (default: all)")
    fit.add_argument(
        "--features-per-omic", type=_positive_int, default=2000, help="top-variance features kept per omic"
    )
    _step_options(fit)


def _add_annotate(subparsers) -> None:
    """``harmonomics annotate``: subtypes, immune status, associations and survival."""
    annotate = _add_subcommand(
        subparsers,
        "annotate",
        _cmd_annotate,
        help="PAM50 subtypes, immune status, factor associations and survival",
        examples=[
            "harmonomics annotate brca.fitted.h5mu --out brca.annotated.h5mu",
            "harmonomics annotate fitted.h5mu --out annotated.h5mu --expression loaded.h5mu",
            "harmonomics annotate fitted.h5mu --out annotated.h5mu --covariates pam50 stage --no-immune",
        ],
    )
    annotate.add_argument("store", nargs="?", help="input store (with a factor fit)")
    annotate.add_argument("--out", help="output store")
    annotate.add_argument("--covariates", nargs="+", default=["pam50", "immune_class"], help="obs columns to associate")
    annotate.add_argument(
        "--expression", help="store with every gene (e.g. the one given to fit) for PAM50 and immune scores"
    )
    annotate.add_argument("--no-pam50", action="store_true")
    annotate.add_argument("--no-immune", action="store_true")
    annotate.add_argument("--no-survival", action="store_true")
    annotate.add_argument(
        "--exome-size-mb", type=_positive_float, default=38.0, help="TMB denominator of exome-sequenced samples"
    )
    annotate.add_argument(
        "--panel-size",
        type=_panel_size,
        action="append",
        metavar="PANEL=MB",
        help="coding size of a gene panel for the TMB of its samples (repeatable), e.g. --panel-size IMPACT505=1.3",
    )
    _step_options(annotate)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of megabases, got {text!r}")
    return value


def _panel_size(text: str) -> tuple[str, float]:
    panel, sep, size = text.partition("=")
    if not sep or not panel.strip():
        raise argparse.ArgumentTypeError(f"expected PANEL=MB (e.g. IMPACT505=1.3), got {text!r}")
    return panel.strip(), _positive_float(size)


def _add_export(subparsers) -> None:
    """``harmonomics export``: write the results for other tools."""
    export = _add_subcommand(
        subparsers,
        "export",
        _cmd_export,
        help="write factor scores, calls, signatures and models for R, GSEA, cBioPortal and MOFA2",
        examples=[
            "harmonomics export brca.annotated.h5mu --out exports/",
            "harmonomics export annotated.h5mu --out exports/ --formats csv parquet gmt",
        ],
    )
    export.add_argument("store", nargs="?", help="input store")
    export.add_argument("--out", help="output folder")
    export.add_argument(
        "--formats",
        nargs="+",
        default=["tsv", "gmt", "gct", "cbioportal", "hdf5"],
        help="any of csv tsv parquet gmt gct cbioportal hdf5",
    )
    export.add_argument("--key", default=KEY_MOFA, help="factor model to export")
    _step_options(export)


def _add_report(subparsers) -> None:
    """``harmonomics report``: the HTML report."""
    report = _add_subcommand(
        subparsers,
        "report",
        _cmd_report,
        help="write a self-contained HTML report",
        examples=[
            "harmonomics report brca.annotated.h5mu --out report.html --exports exports/",
            "harmonomics report brca.annotated.h5mu --out card.html --patient TCGA-A1-A0SK",
        ],
    )
    report.add_argument("store", nargs="?", help="input store")
    report.add_argument("--out", help="HTML file to write")
    report.add_argument("--exports", help="folder of exported files to link")
    report.add_argument("--title")
    report.add_argument("--key", default=KEY_MOFA)
    report.add_argument(
        "--patient",
        metavar="SAMPLE",
        help="write the one-patient card of this sample ID or TCGA patient barcode instead of the cohort report",
    )
    _step_options(report)


def _add_run(subparsers) -> None:
    """``harmonomics run``: every step for every cohort of a config."""
    run = _add_subcommand(
        subparsers,
        "run",
        _cmd_run,
        help="run load, fit, annotate, export and report for every cohort of a config",
        examples=["harmonomics run config.yaml", "harmonomics run config.yaml --cohort brca --force"],
    )
    run.add_argument("config", help="pipeline config (YAML); see workflows/config.example.yaml")
    run.add_argument("--cohort", action="append", help="only this cohort (repeatable)")
    run.add_argument("--force", action="store_true", help="recompute every step")


def _add_demo(subparsers) -> None:
    """``harmonomics demo``: the whole analysis on a bundled cohort."""
    demo = _add_subcommand(
        subparsers,
        "demo",
        _cmd_demo,
        help="run the whole analysis on the bundled real TCGA-BRCA cohort",
        examples=[
            "harmonomics demo",
            "harmonomics demo --out results/demo",
            "harmonomics demo --cohort tcga_brca_mini",
        ],
    )
    demo.add_argument("--out", default="harmonomics-demo", help="output folder (default: ./harmonomics-demo)")
    demo.add_argument("--n-factors", type=_positive_int, default=10)
    demo.add_argument("--force", action="store_true", help="recompute every step")
    demo.add_argument(
        "--cohort",
        choices=list(_DEMO_COHORTS),
        default="tcga_brca_121",
        help="bundled cohort (default: tcga_brca_121; tcga_brca_mini is the mixOmics DIABLO split)",
    )


# the subcommands, in the order ``harmonomics --help`` lists them
_SUBCOMMANDS = (_add_load, _add_fit, _add_annotate, _add_export, _add_report, _add_run, _add_demo)


def _one_line(err: BaseException | str) -> str:
    """An error's message on one line (YAML and other parsers write several)."""
    return " ".join(line.strip() for line in str(err).splitlines() if line.strip()) or type(err).__name__


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001 - warnings API
    """Python warnings as one log line (no source line), written like the log between progress bars."""
    logger.warning("%s: %s", category.__name__, _one_line(message))


@contextlib.contextmanager
def _console(verbose: int, quiet: bool) -> Iterator[None]:
    """Log lines and warnings for the length of one command: through tqdm (never inside a progress bar), at the
    asked verbosity; ``quiet`` ignores warnings. Everything is put back afterwards."""
    from ._progress import TqdmLoggingHandler
    from ._settings import settings

    saved_verbosity, saved_level = settings.verbosity, logger.level
    saved_handlers, saved_propagate = logger.handlers[:], logger.propagate
    handler = TqdmLoggingHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if verbose else "%(message)s"))
    try:
        settings.verbosity = 0 if quiet else min(3, 2 + verbose)
        logger.handlers[:] = [handler]
        logger.propagate = False
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore")
            else:
                warnings.showwarning = _show_warning
            yield
    finally:
        settings.verbosity = saved_verbosity
        logger.setLevel(saved_level)
        logger.handlers[:] = saved_handlers
        logger.propagate = saved_propagate


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``harmonomics`` command; returns the exit status.

    User mistakes (the package's own errors, files that are missing, command lines argparse cannot parse) print one
    line on stderr and return :data:`EXIT_USER_ERROR`; with ``--debug`` they raise, with the traceback.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as err:
        print(_one_line(err), file=sys.stderr)
        return EXIT_USER_ERROR
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    debug = getattr(args, "debug", False)
    try:
        with _console(getattr(args, "verbose", 0), getattr(args, "quiet", False)), mudata_options():
            return args.func(args)
    except USER_ERRORS as err:
        if debug:
            raise
        print(f"harmonomics {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:  # pragma: no cover - interactive
        print("harmonomics: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
