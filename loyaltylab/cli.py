"""The ``loyaltylab`` command line: thin; it parses, calls the library, prints, exits.

Each subcommand is one ``add_<name>(subparsers)`` function that registers its parser and
sets ``func`` to a small ``cmd_<name>(args) -> int``; :data:`COMMANDS` lists them, and
:func:`build_parser` calls each. To add a subcommand, write both functions and append the
``add_`` function to :data:`COMMANDS`.

Exit codes: 0 success; 1 the command ran but found problems (``validate``: rows were
rejected); 2 the input cannot be used (the message goes to stderr, without a traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from loyaltylab.exceptions import LoyaltyLabError

__all__ = ["main", "build_parser", "COMMANDS", "add_validate", "cmd_validate",
           "add_init_mapping", "cmd_init_mapping", "add_report", "cmd_report",
           "add_notebooks", "cmd_notebooks", "add_scrub", "cmd_scrub", "EXIT_OK", "EXIT_REJECTED",
           "EXIT_UNUSABLE"]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_UNUSABLE = 2


# ------------------------------------------------------------------ validate

def add_validate(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``loyaltylab validate``."""
    p = sub.add_parser(
        "validate", help="load and validate client exports; report kept and rejected rows",
        description="Load a folder of CSV/Parquet/.xlsx exports, an .xlsx workbook or a "
                    "DuckDB/SQLite database, validate every row, and print what was read, "
                    "kept and rejected per table. Exit code 0: everything loaded; 1: rows "
                    "were rejected; 2: the input cannot be used.")
    p.add_argument("source", help="folder, .xlsx workbook, or .duckdb/.sqlite/.db file")
    p.add_argument("--mapping", metavar="FILE",
                   help="TOML mapping file (draft one with `loyaltylab init-mapping`)")
    p.add_argument("--as-of", metavar="DATE",
                   help="extract date (YYYY-MM-DD); events after it are rejected")
    p.add_argument("--allow-refunds", action="store_true",
                   help="keep orders with negative amounts (refunds)")
    p.add_argument("--json", action="store_true",
                   help='print {"tables": {name: {read, kept, rejected, reasons}}} as JSON')
    p.add_argument("--rejects", metavar="DIR",
                   help="write each table's rejected rows with their reasons to "
                        "DIR/<table>_rejects.csv")
    p.set_defaults(func=cmd_validate)
    return p


def cmd_validate(args: argparse.Namespace) -> int:
    """Run ``validate``: 0 all rows kept, 1 rows rejected (2 is raised as an error)."""
    from loyaltylab.data.load import load

    data = load(args.source, mapping=args.mapping, as_of=args.as_of,
                allow_refunds=args.allow_refunds)
    report = data.report
    if args.json:
        print(report.to_json())
    else:
        print(report)
    if args.rejects:
        written = report.write_rejects(args.rejects)
        msg = (f"wrote rejected rows to {', '.join(str(p) for p in written)}" if written
               else "no rejected rows to write")
        print(msg, file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK if report.ok else EXIT_REJECTED


# ------------------------------------------------------------------ init-mapping

def add_init_mapping(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``loyaltylab init-mapping``."""
    p = sub.add_parser(
        "init-mapping", help="draft a TOML mapping file for a client source",
        description="Look at a client source (folder, workbook or database), match its "
                    "files and columns to the canonical tables and columns by name, sniff "
                    "delimiter, encoding, decimal separator and date format, and write a "
                    "draft mapping file with comments for you to check and correct.")
    p.add_argument("source", help="folder, .xlsx workbook, or .duckdb/.sqlite/.db file")
    p.add_argument("--out", metavar="FILE",
                   help="where to write the draft (default: print it)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(func=cmd_init_mapping)
    return p


def cmd_init_mapping(args: argparse.Namespace) -> int:
    """Run ``init-mapping``: print or write the draft."""
    from loyaltylab.data.mapping import draft_mapping

    text = draft_mapping(args.source)
    if args.out:
        out = Path(args.out)
        if out.exists() and not args.force:
            raise LoyaltyLabError(f"{out} exists; pass --force to overwrite it")
        out.write_text(text, encoding="utf-8")
        print(f"wrote a draft mapping to {out}; check every line marked CHECK, then run "
              f"`loyaltylab validate {args.source} --mapping {out}`")
    else:
        print(text)
    return EXIT_OK


# ------------------------------------------------------------------ report

def add_report(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``loyaltylab report``."""
    p = sub.add_parser(
        "report", help="run the full analysis and write charts, workbook, HTML and deck",
        description="Load a dataset (the bundled sample when SOURCE is omitted) with "
                    "identifiers pseudonymised, run every analysis its tables support, and "
                    "write into DIR: charts/ (PNG 300 dpi, SVG, PDF), tables.xlsx, a "
                    "self-contained report.html and deck.pptx. A capability whose table is "
                    "missing is skipped with a line saying why. Exit code 1 when rows were "
                    "rejected on load (fix them, or pass --allow-rejects), 2 when the input "
                    "cannot be used.")
    p.add_argument("source", nargs="?", default=None,
                   help="folder, .xlsx workbook or database (default: the bundled sample)")
    p.add_argument("--mapping", metavar="FILE", help="TOML mapping file")
    p.add_argument("--as-of", metavar="DATE", help="date to measure at (YYYY-MM-DD)")
    p.add_argument("--out", metavar="DIR", required=True, help="output folder")
    p.add_argument("--salt", metavar="SECRET",
                   help="salt for the pseudonymised identifiers; keep it secret and reuse "
                        "it to find customers of the call list in your own system "
                        "(default: a random salt)")
    p.add_argument("--allow-rejects", action="store_true",
                   help="report on the kept rows even when rows were rejected")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=cmd_report)
    return p


def cmd_report(args: argparse.Namespace) -> int:
    """Run ``report``: 0 written, 1 stopped because rows were rejected."""
    from loyaltylab._pipeline import RejectedRowsError, run_report

    try:
        run = run_report(args.source, out=args.out, mapping=args.mapping, as_of=args.as_of,
                         salt=args.salt, allow_rejects=args.allow_rejects,
                         progress=False if args.no_progress else None)
    except RejectedRowsError as exc:
        print(f"loyaltylab report: stopped: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    files = run.files
    print(f"wrote {len(files['charts'])} chart files to {Path(args.out) / 'charts'}")
    for key in ("html", "deck", "workbook"):
        print(f"wrote {files[key]}")
    for capability, reason in run.skipped:
        print(f"skipped {capability}: {reason}")
    return EXIT_OK


# ------------------------------------------------------------------ notebooks

def add_notebooks(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``loyaltylab notebooks``."""
    p = sub.add_parser(
        "notebooks", help="run the notebook series on a dataset and render it to HTML",
        description="Execute every notebook of the series with papermill on SOURCE (the "
                    "bundled sample when omitted) and render each to HTML in DIR.")
    p.add_argument("source", nargs="?", default=None,
                   help="folder, .xlsx workbook or database (default: the bundled sample)")
    p.add_argument("--mapping", metavar="FILE", help="TOML mapping file")
    p.add_argument("--as-of", metavar="DATE", help="date to measure at (YYYY-MM-DD)")
    p.add_argument("--out", metavar="DIR", required=True, help="output folder")
    p.add_argument("--hide-code", action="store_true",
                   help="leave the code out of the HTML (client-facing copies)")
    p.set_defaults(func=cmd_notebooks)
    return p


def cmd_notebooks(args: argparse.Namespace) -> int:
    """Run ``notebooks``."""
    from loyaltylab._notebooks import run_notebooks

    for path in run_notebooks(args.source, args.out, mapping=args.mapping, as_of=args.as_of,
                              hide_code=args.hide_code):
        print(f"wrote {path}")
    return EXIT_OK


# ------------------------------------------------------------------ scrub

def add_scrub(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``loyaltylab scrub``."""
    p = sub.add_parser(
        "scrub", help="strip outputs from notebooks before they are shared",
        description="Remove outputs, execution counts, run metadata and papermill's "
                    "injected parameters from a notebook, or from every notebook under a "
                    "folder, in place or into --out.")
    p.add_argument("path", help="a notebook or a folder of notebooks")
    p.add_argument("--out", metavar="DIR", help="write scrubbed copies here instead")
    p.set_defaults(func=cmd_scrub)
    return p


def cmd_scrub(args: argparse.Namespace) -> int:
    """Run ``scrub``."""
    from loyaltylab.report import scrub

    written = scrub(args.path, out_dir=args.out)
    print(f"scrubbed {len(written)} notebook{'s' * (len(written) != 1)}")
    return EXIT_OK


COMMANDS: list[Callable[[argparse._SubParsersAction], argparse.ArgumentParser]] = [
    add_validate, add_init_mapping, add_report, add_notebooks, add_scrub,
]
"""Subcommand registrars, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="loyaltylab", description="Customer-loyalty analytics.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Errors loyaltylab raises on purpose (and bad values or missing files) are printed as
    ``loyaltylab: error: <message>`` on stderr with exit code 2.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (LoyaltyLabError, ValueError, TypeError, OSError) as exc:
        print(f"loyaltylab {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
