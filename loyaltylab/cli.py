"""The ``loyaltylab`` command line: thin; it parses, calls the library, prints, exits.

Each subcommand is one ``add_<name>(subparsers)`` function that registers its parser and
sets ``func`` to a small ``cmd_<name>(args) -> int``; :data:`COMMANDS` lists them, and
:func:`build_parser` calls each. To add a subcommand, write both functions and append the
``add_`` function to :data:`COMMANDS`.

Exit codes: 0 everything ran; 1 the command ran but rows were rejected (``validate``;
``report`` and ``notebooks`` stop there unless ``--allow-rejects``), or a notebook part
failed for a reason the data do not explain (``notebooks``, which still writes them); 2 the
input or the output folder cannot be used, the disk is full, or an unexpected error
happened. A run never ends with a Python traceback: the message is one line on stderr, and
for an unexpected error the line names a
log file (in the system's temporary folder, never in the output) holding the traceback. A
run stopped by SIGTERM or Ctrl-C leaves the last complete output, or nothing, in its output
folder, and no partial files (exit 143 or 130).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

from loyaltylab.exceptions import LoyaltyLabError

__all__ = ["main", "build_parser", "COMMANDS", "add_validate", "cmd_validate",
           "add_init_mapping", "cmd_init_mapping", "add_report", "cmd_report",
           "add_notebooks", "cmd_notebooks", "add_scrub", "cmd_scrub", "EXIT_OK", "EXIT_REJECTED",
           "EXIT_UNUSABLE", "SALT_ENV"]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_UNUSABLE = 2
_EXIT_TERMINATED = 128 + signal.SIGTERM
_EXIT_INTERRUPTED = 128 + signal.SIGINT
SALT_ENV = "LOYALTYLAB_SALT"
"""Environment variable read for the pseudonymisation salt when neither ``--salt`` nor
``--salt-file`` is given."""
_EXIT_HELP = ("Exit code 0: everything ran; 1: rows were rejected on load (fix them, or "
              "pass --allow-rejects); 2: the input or the output folder cannot be used, the "
              "disk is full, or an unexpected error happened (one line on stderr; for an "
              "unexpected error it names a log file with the details).")


# ------------------------------------------------------------------ shared options

def _add_load_options(p: argparse.ArgumentParser) -> None:
    """The options of every command that loads a source (validate, report, notebooks)."""
    p.add_argument("--mapping", metavar="FILE",
                   help="TOML mapping file (draft one with `loyaltylab init-mapping`)")
    p.add_argument("--as-of", metavar="DATE",
                   help="extract date (YYYY-MM-DD); events after it are rejected")
    p.add_argument("--allow-refunds", action="store_true",
                   help="keep orders with negative amounts (refunds)")
    p.add_argument("--keep-personal", metavar="COLUMN", action="append", default=[],
                   help="keep this column although it looks like personal data (by its "
                        "name or its values); repeat for several columns. Use it only for "
                        "a column taken for personal data by mistake")


def _load_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for :func:`loyaltylab.load` beyond mapping and as_of."""
    out: dict[str, Any] = {"allow_refunds": args.allow_refunds}
    if args.keep_personal:
        out["keep_personal"] = tuple(args.keep_personal)
    return out


def _add_salt_options(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--salt", metavar="SECRET",
                       help="salt for the pseudonymised identifiers (visible in the shell "
                            "history: prefer --salt-file or the LOYALTYLAB_SALT variable); "
                            "reuse it to find the customers of the call list in the "
                            "client's system")
    group.add_argument("--salt-file", metavar="FILE",
                       help="read the salt from the first line of FILE")
    p.add_argument("--lookup", metavar="FILE",
                   help="where to write the lookup of pseudonyms to the client's customer "
                        "ids (default with a random salt: OUT.customer-lookup.csv beside "
                        "the output folder; never inside it)")


def _salt(args: argparse.Namespace) -> tuple[str, bool]:
    """The salt and whether it was drawn at random: --salt, --salt-file, $LOYALTYLAB_SALT,
    else random."""
    if args.salt:
        return args.salt, False
    if args.salt_file:
        path = Path(args.salt_file)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise LoyaltyLabError(f"--salt-file {path}: no such file") from None
        except UnicodeDecodeError:
            raise LoyaltyLabError(f"--salt-file {path}: not a UTF-8 text file") from None
        salt = lines[0].strip() if lines else ""
        if not salt:
            raise LoyaltyLabError(f"--salt-file {path}: the first line is empty; write the "
                                  f"salt on it")
        return salt, False
    env = os.environ.get(SALT_ENV, "").strip()
    if env:
        return env, False
    return secrets.token_hex(16), True


def _lookup_path(args: argparse.Namespace, out: Path, random_salt: bool) -> Path | None:
    """Where the pseudonym lookup goes (None: not written); never inside ``out`` or the
    source folder."""
    if args.lookup is None and not random_salt:
        return None
    path = (Path(os.path.abspath(args.lookup)) if args.lookup
            else out.parent / f"{out.name}.customer-lookup.csv")
    real = path.parent.resolve() / path.name
    for folder, what in ((out, "output"), (args.source, "source")):
        if folder is None:
            continue
        folder = Path(os.path.abspath(folder)).resolve()
        if (what == "output" or folder.is_dir()) and (real == folder
                                                      or folder in real.parents):
            raise LoyaltyLabError(f"--lookup {path} is inside the {what} folder; the lookup "
                                  f"holds the client's customer ids and must stay outside "
                                  f"it: choose another path")
    if path.is_symlink():
        raise LoyaltyLabError(f"--lookup {path} is a symbolic link; give a plain file path")
    return real


def _write_lookup(args: argparse.Namespace, path: Path, salt: str, *,
                  ids: Any = None) -> int:
    """Write pseudonym -> client customer id for every customer kept (``ids``: the
    customer ids when already read); returns the count."""
    import polars as pl

    from loyaltylab.data import schema as S
    from loyaltylab.data.load import load
    from loyaltylab.data.privacy import hash_series, neutralize_formulas
    from loyaltylab.datasets import data_path

    if ids is None:
        source = data_path("sample") if args.source is None else args.source
        raw = load(source, mapping=args.mapping, tables=(), **_load_options(args)).customers
        ids = raw.get_column(S.CUSTOMER_ID)
    ids = ids.cast(pl.String)
    table = neutralize_formulas(pl.DataFrame({
        "pseudonym": hash_series(ids, salt), "client_customer_id": ids}).sort("pseudonym"))
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # readable by the consultant only, from the first byte
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
            table.write_csv(fh)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return table.height


def _say_lookup(path: Path, n: int) -> None:
    print(f"wrote {path}: the client's real customer ids for {n:,} pseudonyms (CONFIDENTIAL: "
          f"keep it with you, never send it with the report)")


# ------------------------------------------------------------------ validate

def add_validate(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``loyaltylab validate``."""
    p = sub.add_parser(
        "validate", help="load and validate client exports; report kept and rejected rows",
        description="Load a folder of CSV/Parquet/.xlsx exports, an .xlsx workbook or a "
                    "DuckDB/SQLite database, validate every row, and print what was read, "
                    "kept and rejected per table. Exit code 0: everything loaded; 1: rows "
                    "were rejected; 2: the input cannot be used.")
    p.add_argument("source", help="folder, .xlsx workbook, .duckdb/.sqlite/.db file, or "
                   "duckdb://PATH / sqlite://PATH")
    _add_load_options(p)
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

    data = load(args.source, mapping=args.mapping, as_of=args.as_of, **_load_options(args))
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
    p.add_argument("source", help="folder, .xlsx workbook, .duckdb/.sqlite/.db file, or "
                   "duckdb://PATH / sqlite://PATH")
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
                    "missing is skipped with a line saying why. DIR must be new, empty, or "
                    "an earlier output: the files appear all at once at the end, replacing "
                    "those of the earlier run (files you added are kept); DIR may not lie "
                    "inside SOURCE or be a symbolic link. With a random salt (no --salt, "
                    "--salt-file or LOYALTYLAB_SALT), a lookup of pseudonyms to the client's "
                    "customer ids is written beside DIR. "
                    + _EXIT_HELP.replace("; 2:", ", or a part of the report failed for a "
                                         "reason the data do not explain (named on stderr; "
                                         "the report is still written); 2:"))
    p.add_argument("source", nargs="?", default=None,
                   help="folder, .xlsx workbook or database (default: the bundled sample)")
    _add_load_options(p)
    p.add_argument("--out", metavar="DIR", required=True, help="output folder")
    _add_salt_options(p)
    p.add_argument("--allow-rejects", action="store_true",
                   help="report on the kept rows even when rows were rejected")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.add_argument("--locale", default="en", type=_locale_arg, metavar="LANG",
                   help="how numbers, money and dates are written in the report: en "
                        "(default), de, fr, nl, es or another language code (de_CH)")
    p.add_argument("--brand", metavar="FILE",
                   help="a TOML file with the client's name, logo and accent colour, used "
                        "in the report, deck and workbook: client = \"Example Ltd\", logo = "
                        "\"logo.png\", accent = \"#0072B2\" (currency = \"EUR\" optional)")
    p.add_argument("--template", metavar="DECK.pptx",
                   help="a PowerPoint file whose master and layouts the deck uses instead of "
                        "the default 16:9 design")
    p.add_argument("--charts", default="png,svg,pdf", type=_charts_arg, metavar="FORMATS",
                   help="which chart files to write into charts/: png, svg and pdf "
                        "separated by commas (default: all three), or none for no chart "
                        "files (the report, deck and workbook are written either way)")
    p.add_argument("--in-engine", action="store_true",
                   help="compute the report inside a DuckDB database file (duckdb:///x.duckdb"
                        "): the orders stay in the database and only counts and one "
                        "pseudonymised row per customer come out; sections that need the "
                        "orders row by row are listed as not included. Chosen automatically "
                        "above 20 million orders. The mapping may only rename columns")
    p.add_argument("--memory-limit", metavar="SIZE", type=_memory_arg, default=None,
                   help="the most memory the database may use with --in-engine (8GB, "
                        "512MB; default: half the machine's memory); above it DuckDB "
                        "spills to disk where it can")
    p.set_defaults(func=cmd_report)
    return p


def _memory_arg(value: str) -> str:
    """``--memory-limit``: a size such as 8GB, else a one-line usage error (exit 2)."""
    from loyaltylab.warehouse import memory_size

    try:
        return memory_size(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _in_engine(args: argparse.Namespace) -> tuple[bool, str | None]:
    """Whether the report is computed inside the database, and the sentence saying why
    when that was chosen because the orders are many."""
    if args.in_engine:
        return True, None
    from loyaltylab.data.load import is_server

    if is_server(args.source):  # the orders stay in the server: always computed there
        return True, None
    if args.source is None:
        return False, None
    from loyaltylab.warehouse import parquet_tables

    source = Path(args.source)
    # CSV and Excel folders are read in memory; Parquet ones by the engine's own rule
    if not (source.is_file() or source.is_dir() and parquet_tables(source)):
        return False, None
    from loyaltylab import _pipeline_engine as engine

    try:
        n = engine.count_orders(args.source, mapping=args.mapping)
    except ImportError:  # Ibis not installed: the in-memory run, as before
        return False, None
    except Exception as exc:  # noqa: BLE001 - counting is a guess: the in-memory run
        # reads the same files and says what is wrong with them in its own words
        if source.is_file():
            raise
        import logging

        logging.getLogger("loyaltylab.report").info(
            "could not count the orders of %s in DuckDB (%s); reading it in memory", source,
            exc)
        return False, None
    if n is None or n <= engine.IN_ENGINE_ABOVE:
        return False, None
    return True, (f"It was computed there because the database holds {n:,} orders, more "
                  f"than the {engine.IN_ENGINE_ABOVE:,} above which the report is not read "
                  f"into memory.")


def _charts_arg(value: str) -> tuple[str, ...]:
    """``--charts``: chart file formats (``png,svg``) or ``none``, else a one-line usage
    error (exit 2)."""
    from loyaltylab.report import FORMATS

    words = [w.strip().lower() for w in value.split(",") if w.strip()]
    if words == ["none"]:
        return ()
    unknown = [w for w in words if w not in FORMATS]
    if unknown or not words:
        raise argparse.ArgumentTypeError(
            f"{value!r}: give chart formats from {', '.join(FORMATS)} separated by commas "
            "(for example png,svg), or none")
    return tuple(dict.fromkeys(words))


def _locale_arg(value: str) -> str:
    """``--locale``: a known language code, else a one-line usage error (exit 2)."""
    from loyaltylab.report import check_locale

    try:
        return check_locale(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_report(args: argparse.Namespace) -> int:
    """Run ``report``: 0 written with every part run or skipped for a reason the data give;
    1 stopped because rows were rejected, or written with a part left out because of an
    unexpected error (named on stderr, traceback in the log)."""
    from loyaltylab._pipeline import RejectedRowsError, run_report
    from loyaltylab.report import check_output_folder, deliverable_options

    from loyaltylab.data.load import is_server

    server = is_server(args.source)
    out = check_output_folder(args.out, source=None if server else args.source)
    salt, random_salt = _salt(args)
    lookup = _lookup_path(args, out, random_salt)
    engine, why = _in_engine(args)
    if args.memory_limit is not None and not engine:
        raise LoyaltyLabError("--memory-limit applies to the report computed inside a "
                              "database; add --in-engine (and a duckdb:///... source)")
    if args.memory_limit is not None and server:
        print("loyaltylab report: --memory-limit does not apply to a database server, "
              "which manages its own memory", file=sys.stderr)
    ids = None
    try:
        with deliverable_options(brand=args.brand, template=args.template), \
                _part_log("report") as part_log:
            if engine:
                from loyaltylab._pipeline_engine import run_engine_report

                if why:
                    print(f"loyaltylab report: computed inside the database: {why}")
                ignored = [flag for flag, given in (
                    ("--allow-refunds", args.allow_refunds),
                    ("--allow-rejects", args.allow_rejects),
                    ("--keep-personal", args.keep_personal)) if given]
                if ignored:
                    print(f"loyaltylab report: {', '.join(ignored)} do not apply inside the "
                          f"database: rows are counted there, not validated one by one; "
                          f"negative amounts are summed as they are and the report says "
                          f"how many; no personal column leaves the database",
                          file=sys.stderr)
                run = run_engine_report(args.source, out=out, mapping=args.mapping,
                                        as_of=args.as_of, salt=salt,
                                        memory_limit=args.memory_limit,
                                        progress=False if args.no_progress else None,
                                        locale=args.locale, charts=args.charts, why=why)
            else:
                run = run_report(args.source, out=out, mapping=args.mapping,
                                 as_of=args.as_of, salt=salt,
                                 allow_rejects=args.allow_rejects,
                                 progress=False if args.no_progress else None,
                                 locale=args.locale, charts=args.charts,
                                 **_load_options(args))
    except RejectedRowsError as exc:
        print(f"loyaltylab report: stopped: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    files = run.files
    print(f"wrote {len(files['charts'])} chart files to {out / 'charts'}")
    for key in ("html", "deck", "workbook"):
        print(f"wrote {files[key]}")
    for capability, reason in run.skipped:
        print(f"skipped {capability}: {reason}")
    if lookup is not None:
        if engine:  # the customers table alone comes out of the database, never the orders
            from loyaltylab._pipeline_engine import customer_ids, open_database

            ids = customer_ids(open_database(args.source, mapping=args.mapping,
                                             memory_limit=args.memory_limit))
        _say_lookup(lookup, _write_lookup(args, lookup, salt, ids=ids))
    where = f"; details in {part_log.path}" if part_log.path else ""
    for line in run.errors:
        print(f"loyaltylab report: not produced: {line}{where}", file=sys.stderr)
    return EXIT_REJECTED if run.errors else EXIT_OK


class _PartLog:
    """Where the tracebacks of the parts that failed unexpectedly went (``path`` is None
    when none failed: the empty log file is removed)."""

    path: Path | None = None


@contextmanager
def _part_log(command: str) -> Iterator[_PartLog]:
    """Collect the run's error records (parts left out unexpectedly, with tracebacks) in a
    log file in the temporary folder, never in the output folder."""
    import logging
    import tempfile

    result = _PartLog()
    logger = logging.getLogger("loyaltylab.report")
    fd, name = tempfile.mkstemp(prefix=f"loyaltylab-{command}-", suffix=".log")
    os.close(fd)
    handler = logging.FileHandler(name, encoding="utf-8")
    handler.setLevel(logging.ERROR)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    try:
        yield result
    finally:
        logger.removeHandler(handler)
        handler.close()
        if Path(name).stat().st_size:
            result.path = Path(name)
        else:
            Path(name).unlink(missing_ok=True)


# ------------------------------------------------------------------ notebooks

def add_notebooks(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``loyaltylab notebooks``."""
    p = sub.add_parser(
        "notebooks", help="run the notebook series on a dataset and render it to HTML",
        description="Execute every notebook of the series with papermill on SOURCE (the "
                    "bundled sample when omitted) and render each to HTML in DIR. DIR is "
                    "owned like the report's: new, empty or an earlier output, written all "
                    "at once, never inside SOURCE or through a symbolic link. "
                    + _EXIT_HELP.replace("; 2:", ", or a part of a notebook failed for a "
                                         "reason the data do not explain (named on stderr; "
                                         "the notebooks are still written); 2:"))
    p.add_argument("source", nargs="?", default=None,
                   help="folder, .xlsx workbook or database (default: the bundled sample)")
    _add_load_options(p)
    p.add_argument("--out", metavar="DIR", required=True, help="output folder")
    _add_salt_options(p)
    p.add_argument("--allow-rejects", action="store_true",
                   help="run the notebooks on the rows that were kept even when rows were "
                        "rejected on load")
    p.add_argument("--hide-code", action="store_true",
                   help="leave the code out of the HTML (client-facing copies)")
    p.add_argument("--jobs", type=_jobs_arg, default=1, metavar="N",
                   help="run N notebooks at the same time, each in its own kernel "
                        "(default 1; 2 on a two-core machine)")
    p.set_defaults(func=cmd_notebooks)
    return p


def _jobs_arg(value: str) -> int:
    """``--jobs``: a whole number of at least 1, else a one-line usage error (exit 2)."""
    if not value.strip().isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got "
                                         f"{value!r}")
    return int(value)


def cmd_notebooks(args: argparse.Namespace) -> int:
    """Run ``notebooks``: 0 every part ran or was skipped for a reason the data give; 1
    rows were rejected (nothing run; see ``--allow-rejects``), or a part failed
    unexpectedly (the notebooks are written, the failures named on stderr)."""
    from loyaltylab._notebooks import run_notebooks, unexpected_errors
    from loyaltylab._pipeline import RejectedRowsError
    from loyaltylab.report import OutputFolder

    folder = OutputFolder(args.out, source=args.source)
    salt, random_salt = _salt(args)
    lookup = _lookup_path(args, folder.out, random_salt) if args.source is not None else None
    failed: list[str] = []
    try:
        with folder as stage:
            pages = run_notebooks(args.source, stage, mapping=args.mapping, as_of=args.as_of,
                                  hide_code=args.hide_code, salt=salt, jobs=args.jobs,
                                  allow_rejects=args.allow_rejects, **_load_options(args))
            for page in pages:
                executed = Path(page).with_suffix(".ipynb")
                if executed.is_file():
                    failed += [f"{executed.stem}, {where}: {reason}"
                               for where, reason in unexpected_errors(executed)]
            written = [folder.final(p) for p in pages]
    except RejectedRowsError as exc:
        report = exc.data.report
        print(f"loyaltylab notebooks: stopped: {report.n_rejected:,} rows were rejected on "
              f"load, so the notebooks were not run. Fix the rows listed below (run "
              f"`loyaltylab validate SOURCE --rejects DIR` to write them out with their "
              f"reasons), or pass --allow-rejects to run the notebooks on the rows that were "
              f"kept.\n\n{report}", file=sys.stderr)
        return EXIT_REJECTED
    for path in written:
        print(f"wrote {path}")
    if lookup is not None:
        _say_lookup(lookup, _write_lookup(args, lookup, salt))
    for line in failed:
        print(f"loyaltylab notebooks: not produced: {line}", file=sys.stderr)
    return EXIT_REJECTED if failed else EXIT_OK


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


class _Terminated(BaseException):
    """SIGTERM, raised where the run is so that its staging folder is cleaned up (a
    BaseException: no ``except Exception`` of a section swallows it)."""


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise _Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _crash_log(command: str) -> Path | None:
    """Write the current traceback to a log file in the temporary folder; its path."""
    import tempfile
    from datetime import datetime

    from loyaltylab import __version__

    try:
        fd, name = tempfile.mkstemp(prefix="loyaltylab-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"loyaltylab {__version__}, command {command}, "
                     f"{datetime.now().isoformat(timespec='seconds')}, Python "
                     f"{sys.version.split()[0]}\n\n{traceback.format_exc()}")
        return Path(name)
    except OSError:
        return None


def _raised_by_loyaltylab(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by loyaltylab's own code (a message written for users)."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return last is not None and f"{os.sep}loyaltylab{os.sep}" in last.tb_frame.f_code.co_filename


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module notes).

    Errors loyaltylab raises on purpose (and bad values or missing files) are printed as
    ``loyaltylab <command>: error: <message>`` on stderr with exit code 2; a full disk or
    an unwritable folder as one line naming the file; an unexpected error as one line with
    the path of a log file holding the traceback, also exit code 2. SIGTERM and Ctrl-C
    stop the run cleanly (exit 143 and 130): no partial output is left.
    """
    args = build_parser().parse_args(argv)
    name = f"loyaltylab {args.command}"
    try:
        with _sigterm_raises():
            if getattr(args, "source", None) is not None:
                # duckdb://PATH and sqlite://PATH name a database file; the report of a
                # PostgreSQL server is computed inside it (every other command refuses it)
                from loyaltylab.data.load import is_server, source_path
                if not (args.command == "report" and is_server(args.source)):
                    args.source = source_path(args.source)
            return int(args.func(args) or 0)
    except _Terminated:
        print(f"{name}: stopped (terminated); the output folder holds the last complete "
              f"output, or nothing", file=sys.stderr)
        return _EXIT_TERMINATED
    except KeyboardInterrupt:
        print(f"{name}: stopped (interrupted); the output folder holds the last complete "
              f"output, or nothing", file=sys.stderr)
        return _EXIT_INTERRUPTED
    except LoyaltyLabError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except OSError as exc:
        # imported here: loyaltylab.report loads matplotlib, which `--help` must not wait for
        from loyaltylab.report import describe_os_error

        print(f"{name}: error: {describe_os_error(exc, out=getattr(args, 'out', None))}",
              file=sys.stderr)
        return EXIT_UNUSABLE
    except (ValueError, TypeError) as exc:
        if _raised_by_loyaltylab(exc):
            print(f"{name}: error: {exc}", file=sys.stderr)
            return EXIT_UNUSABLE
        return _unexpected(name, args.command, exc)
    except Exception as exc:  # noqa: BLE001 - a run never ends with a traceback
        return _unexpected(name, args.command, exc)


def _unexpected(name: str, command: str, exc: BaseException) -> int:
    from loyaltylab._util import safe_text

    log = _crash_log(command)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    where = f"; details in {log}" if log else ""
    print(f"{name}: unexpected error: {type(exc).__name__}"
          f"{': ' + safe_text(text[:200]) if text else ''}{where}", file=sys.stderr)
    return EXIT_UNUSABLE


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)


if __name__ == "__main__":
    sys.exit(main())
