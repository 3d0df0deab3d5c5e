"""The ``harmonomics`` command: a thin layer over the public Python API.

Every subcommand calls public functions only. User mistakes (a wrong path, a bad option, a malformed file)
end with one clear line on stderr and a non-zero exit, never a traceback; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

from ._version import __version__

logger = logging.getLogger("harmonomics")

EXIT_USER_ERROR = 2


class CLIError(Exception):
    """A user mistake detected by the command line itself (bad option value, missing file)."""


# ---------------------------------------------------------------------------------------------------------------
# subcommands
# ---------------------------------------------------------------------------------------------------------------
def _cmd_demo(args: argparse.Namespace) -> int:
    import harmonomics as hm

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    logger.info("loading the bundled TCGA-BRCA cohort (mixOmics breast.TCGA)")
    mdata = hm.datasets.tcga_brca_mini()
    store_path = hm.store.write(mdata, out / "tcga_brca_mini.h5mu")
    summary = _omics_summary(mdata)
    (out / "samples_by_omic.tsv").write_text(summary.to_csv(sep="\t"))
    print(f"harmonomics demo: {mdata.n_obs} samples, {len(mdata.mod)} omics")
    print(summary.to_string())
    print(f"store written to {store_path}")
    return 0


def _omics_summary(mdata):
    import pandas as pd

    rows = []
    for name, adata in mdata.mod.items():
        rows.append({"omic": name, "samples": adata.n_obs, "features": adata.n_vars, "missing_samples": mdata.n_obs - adata.n_obs})
    return pd.DataFrame(rows).set_index("omic")


# ---------------------------------------------------------------------------------------------------------------
# parser
# ---------------------------------------------------------------------------------------------------------------
Command = Callable[[argparse.Namespace], int]


def _add_subcommand(
    subparsers: argparse._SubParsersAction, name: str, func: Command, *, help: str, examples: Sequence[str]
) -> argparse.ArgumentParser:
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    parser = subparsers.add_parser(
        name,
        help=help,
        description=help,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``harmonomics`` command."""
    parser = argparse.ArgumentParser(
        prog="harmonomics",
        description=textwrap.dedent(
            """\
            harmonomics: multi-omics integration for breast-cancer precision medicine.
            Load TCGA-style data into one store, fit cross-omic factors, map them to subtypes,
            immune status and survival, and export the results."""
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"harmonomics {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors; no progress bars")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = _add_subcommand(
        subparsers,
        "demo",
        _cmd_demo,
        help="run the analysis on the bundled real TCGA-BRCA cohort",
        examples=["harmonomics demo", "harmonomics demo --out results/demo"],
    )
    demo.add_argument("--out", default="harmonomics-demo", help="output folder (default: ./harmonomics-demo)")
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    from ._settings import settings

    if args.quiet:
        settings.verbosity = 0
    else:
        settings.verbosity = min(3, 2 + args.verbose) if args.verbose else 2
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if args.verbose else "%(message)s"))
    root = logging.getLogger("harmonomics")
    root.handlers[:] = [handler]
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``harmonomics`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    _configure_logging(args)
    from ._errors import HarmonomicsError

    try:
        return args.func(args)
    except (HarmonomicsError, CLIError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as err:
        if args.debug:
            raise
        print(f"harmonomics {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:  # pragma: no cover - interactive
        print("harmonomics: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
