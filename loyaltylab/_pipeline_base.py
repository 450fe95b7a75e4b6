"""The parts every section of the client run shares (not public API).

:class:`Section` (what a section shows and needs), the context a section runs in, and
:func:`_part`, which runs one part of a section and turns a failure into a plain sentence
in the report's "Not included" appendix. The sections themselves are in
``loyaltylab._pipeline_<section>``; the run that strings them together is
:mod:`loyaltylab._pipeline`.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

if "matplotlib.pyplot" not in sys.modules:
    # headless runs (the CLI, make demo); a notebook that imports this keeps its backend
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from loyaltylab.data import schema as S  # noqa: E402
from loyaltylab.data.crmdata import CRMData  # noqa: E402
from loyaltylab.exceptions import (ConvergenceError, LoyaltyLabError,  # noqa: E402
                                   MissingTableError)
from loyaltylab.report import Report, plain_words  # noqa: E402

__all__ = ["Section", "INACTIVITY", "HORIZON", "WILSON", "GROUPINGS"]

log = logging.getLogger("loyaltylab.report")

INACTIVITY = "180d"
HORIZON = "90d"
WILSON = "95% Wilson score interval"
GROUPINGS = (S.KIND, S.SEGMENT, S.ACQUISITION_CHANNEL, S.REGION, S.REWARD_SCHEME)
"""Optional customers columns a breakdown may use, in order of preference (the account
manager is an identifier and is not used to group charts)."""
_WORDS = {S.KIND: "kind of relationship", S.SEGMENT: "segment",
          S.ACQUISITION_CHANNEL: "acquisition channel", S.REGION: "region",
          S.REWARD_SCHEME: "reward scheme"}


def _setting(name: str) -> Any:
    """A run setting (``COX_SAMPLE``, ``WORKBOOK_CUSTOMERS``) as :mod:`loyaltylab._pipeline`
    holds it when a section runs: the settings live there, and a caller may change them
    there for one run (the tests make the Cox sample small)."""
    from loyaltylab import _pipeline

    return getattr(_pipeline, name)


@dataclass(frozen=True)
class Section:
    """One independent part of the report.

    Parameters
    ----------
    name : str
        Heading and the name in the skipped list.
    shows : str
        What it would show, in plain words ("what customers say: net promoter score ...").
    needs : tuple of (table, columns)
        Canonical tables and the columns of each the section cannot do without.
    run : callable
        ``run(ctx)`` adds the section's charts, tables and notes to ``ctx.report``.
    """

    name: str
    shows: str
    needs: tuple[tuple[str, tuple[str, ...]], ...]
    run: Callable[[_Context], None]

    def missing(self, data: CRMData) -> str | None:
        """What the data lack for this section, in words; None when it can run."""
        lacking = []
        for table, cols in self.needs:
            frame = data.tables.get(table)
            if frame is None:
                lacking.append(f"a {table} table ({_words(cols)})")
                continue
            absent = [c for c in cols if c not in frame.columns]
            if absent:
                lacking.append(f"the {_words(absent)} column{'s' * (len(absent) > 1)} of "
                               f"the {table} table")
        return " and ".join(lacking) or None

    def skip_reason(self, data: CRMData) -> str | None:
        """The plain sentence the report shows when the section cannot run."""
        lack = self.missing(data)
        if lack is None:
            return None
        return (f"This section would show {self.shows}. It needs {lack}, which this dataset "
                f"does not have.")


def _words(cols: Any) -> str:
    cols = [c.replace("_", " ") for c in cols]
    return cols[0] if len(cols) == 1 else ", ".join(cols[:-1]) + " and " + cols[-1]


@dataclass
class _Context:
    report: Report
    data: CRMData
    section: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def as_of(self) -> datetime:
        return self.data.as_of

    @property
    def start(self) -> datetime:
        return self.data.orders.get_column(S.ORDERED_AT).min()


_SINGULAR = ("the calculation has no unique answer for these data: two measures move "
             "together exactly, or a group holds too few customers")
_NO_CONVERGENCE = ("the model could not be fitted to these data: its estimation did not "
                   "settle (this happens with few repeat buyers or very uneven buying)")


def _reason(exc: BaseException) -> str:
    """A plain sentence for an anticipated failure."""
    from loyaltylab._notebooks import plain_text

    text = plain_text(str(exc)) or type(exc).__name__
    if isinstance(exc, ConvergenceError) or type(exc).__name__ == "ConvergenceError":
        return _NO_CONVERGENCE + "."
    if isinstance(exc, np.linalg.LinAlgError) or "singular" in text.lower():
        return _SINGULAR + "."
    said = _plain_reason(text)
    if isinstance(exc, MissingTableError):
        return said or _NOT_SUPPORTED + "."
    return f"{_NOT_SUPPORTED}: {said}." if said else _NOT_SUPPORTED + "."


_NOT_SUPPORTED = "the data do not support it"
_PREFIX = re.compile(r"^\s*[A-Za-z_][\w.]*(?:\[[^\]]*\]|\([^)]*\))?\s*:\s+")
_DOTTED = re.compile(r"\b([a-z]+(?:_[a-z]+)*)\.([a-z][a-z0-9]*(?:_[a-z0-9]+)*)\b")
_INSTRUCTION = re.compile(r"=|`|\w\(|\bpass\b|\brun\b|\bcall\b|\bdrop it\b")


def _plain_reason(message: str) -> str:
    """A library's error message as the report's "Not included" appendix says it: the
    function or class it starts with, the instructions addressed to a programmer (what to
    pass, drop or call) and ``table.column`` spellings removed or written in words; empty
    when nothing plain is left (the caller then says only that the data do not support
    the part).

    Examples
    --------
    >>> _plain_reason("CoxModel: covariate 'segment' has a level with 2 customers; drop it "
    ...               "from covariates=, merge the rare level into another (e.g. with "
    ...               "pl.when().then()), or pass penalizer=0.1 to shrink the estimate")
    "covariate 'segment' has a level with 2 customers"
    >>> _plain_reason("contact_conversion: needs contacts.direction")
    'needs the direction column of the contacts table'
    >>> _plain_reason("pass allow_refunds=True")
    ''
    """
    from loyaltylab.report import code_words

    text = str(message).strip()
    first = _PREFIX.match(text)
    if first and re.search(r"[_.]|[a-z][A-Z]", first.group(0)):
        text = text[first.end():]
    text = _DOTTED.sub(lambda m: (f"the {m.group(2)} column of the {m.group(1)} table"
                                  if m.group(1) in S.TABLES else m.group(0)), text)
    clauses = [c for c in re.split(r";\s+|\.\s+(?=[A-Z])", text) if c.strip()]
    kept = [c for c in clauses if not _INSTRUCTION.search(c)]
    out = plain_words("; ".join(kept)).strip().rstrip(".;,").strip()
    if not out or code_words([out]):
        return ""
    return out


_PACKAGE = str(Path(__file__).resolve().parent)


def _anticipated(exc: BaseException) -> bool:
    """A failure the library foresees: its own errors, a singular fit, no convergence, or a
    ValueError raised by loyaltylab's own checks (a ValueError from deep inside matplotlib
    or polars is a bug, logged as unexpected)."""
    if isinstance(exc, (LoyaltyLabError, np.linalg.LinAlgError)) \
            or type(exc).__name__ == "ConvergenceError":
        return True
    if not isinstance(exc, ValueError):
        return False
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last is not None and str(Path(last).resolve()).startswith(_PACKAGE)


@contextmanager
def _part(ctx: _Context, what: str, *, fallback: str | None = None) -> Iterator[None]:
    """Run one part of a section; on failure keep what was shown and say why the rest is
    missing (anticipated errors in plain words, others logged with their traceback)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - one part must never end the run
        if not _anticipated(exc):
            _unexpected(ctx, what, exc, fallback)
            return
        reason = _reason(exc)
        log.info("%s / %s not shown: %s", ctx.section, what, exc)
        ctx.report.add_skipped(f"{ctx.section}: {what}",
                               (fallback + " " if fallback else "") + reason[0].upper()
                               + reason[1:])
    finally:
        plt.close("all")


def _unexpected(ctx: _Context, what: str, exc: BaseException, fallback: str | None) -> None:
    line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    log.error("%s / %s failed", ctx.section, what, exc_info=exc)
    ctx.errors.append(f"{ctx.section}: {what}: {type(exc).__name__}: {line}")
    ctx.report.add_skipped(f"{ctx.section}: {what}",
                           (fallback + " " if fallback else "")
                           + "This part could not be produced because of an unexpected "
                             "problem in the software, not in the data; the run's log has "
                             "the details.")


def _pseudonymised(data: CRMData) -> bool:
    """Whether the data's identifiers were pseudonymised on load (the loader says so)."""
    return any(str(w).startswith("identifiers pseudonymised") for w in data.report.warnings)


def _per_customer(ctx: _Context, what: str) -> bool:
    """Whether a per-customer table may go into the workbook: only with pseudonymised
    identifiers (``loyaltylab report`` always pseudonymises); otherwise the appendix says
    why the sheet is missing."""
    if _pseudonymised(ctx.data):
        return True
    ctx.report.add_skipped(f"{ctx.section}: {what} in the workbook",
                           "Left out of the workbook because the customer numbers were not "
                           "replaced by pseudonyms when the data were loaded, and the "
                           "workbook may not carry the client's own customer numbers.")
    return False


def _groupings(frame: pl.DataFrame, limit: int = 50) -> list[str]:
    """The grouping columns present in ``frame`` with 2..limit distinct values."""
    out = []
    for c in GROUPINGS:
        if c in frame.columns:
            k = frame.get_column(c).drop_nulls().n_unique()
            if 1 < k <= limit:
                out.append(c)
    return out


def _plain_col(frame: pl.DataFrame, col: str) -> pl.DataFrame:
    """``col`` with coded values (``web_sessions``) in plain words (``web sessions``)."""
    return frame.with_columns(pl.col(col).cast(pl.String).str.replace_all("_", " "))


@contextmanager
def _noop() -> Iterator[None]:
    yield
