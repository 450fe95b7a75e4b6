"""Small helpers shared by the analyses (not public API): input frames, dates, windows,
periods and ``by=`` attributes."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Literal, overload
from collections.abc import Sequence

import polars as pl

from loyaltylab._result import FrameResult
from loyaltylab._units import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR

__all__ = ["as_polars", "to_datetime", "resolve_as_of", "parse_window", "period_every",
           "attach_by", "normalize_by", "safe_text"]

_PERIODS = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}


def as_polars(frame: Any, *, name: str = "frame") -> pl.DataFrame:
    """Accept a polars DataFrame/LazyFrame, a pandas DataFrame or a result object (its
    ``.frame``); return a polars DataFrame.

    Raises ``TypeError`` naming ``name`` for anything else.
    """
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, FrameResult):
        return frame.frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if type(frame).__module__.startswith("pandas"):
        return pl.from_pandas(frame)
    raise TypeError(f"{name}: expected a polars or pandas DataFrame, got "
                    f"{type(frame).__name__}")


def to_datetime(value: Any, *, name: str = "as_of") -> datetime:
    """Turn a date, datetime or ISO string ("2026-11-22") into a naive datetime."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else (
            value.astimezone(tz=None).replace(tzinfo=None))
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{name}: cannot read {value!r} as a date; use ISO format "
                             f"such as '2026-11-22'") from None
    raise TypeError(f"{name}: expected a date, datetime or ISO string, got "
                    f"{type(value).__name__}")


@overload
def resolve_as_of(data: Any, as_of: Any = None, *, latest_order: Literal[True] = True
                  ) -> datetime: ...
@overload
def resolve_as_of(data: Any, as_of: Any = None, *, latest_order: bool) -> datetime | None: ...


def resolve_as_of(data: Any, as_of: Any = None, *, latest_order: bool = True
                  ) -> datetime | None:
    """The measurement date: ``as_of`` if given, else ``data.as_of``, else the latest order.

    The one place where an ``as_of`` argument is read. ``data`` is a CRMData, a funnel
    Timeline (anything with an ``as_of``) or an orders frame. With ``latest_order=False``
    there is no third step: None when neither date is known (then nothing is cut).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> orders = pl.DataFrame({"ordered_at": [datetime(2024, 3, 1), datetime(2024, 5, 2)]})
    >>> resolve_as_of(orders), resolve_as_of(orders, "2024-04-01")
    (datetime.datetime(2024, 5, 2, 0, 0), datetime.datetime(2024, 4, 1, 0, 0))
    >>> resolve_as_of(orders, latest_order=False) is None
    True
    """
    if as_of is not None:
        return to_datetime(as_of)
    if getattr(data, "as_of", None) is not None:
        return data.as_of
    if not latest_order:
        return None
    from loyaltylab.data import schema as S  # here: loyaltylab.data imports this module

    orders = data.orders if hasattr(data, "orders") else as_polars(data, name="orders")
    latest = orders.get_column(S.ORDERED_AT).max()
    if latest is None:
        raise ValueError("as_of: the orders table is empty, so no default date exists; "
                         "pass as_of explicitly")
    return latest


def parse_window(window: str | int | float | timedelta, *, name: str = "window") -> timedelta:
    """Read a window such as ``"30d"``, ``"12w"``, ``"6mo"`` (30.4375 days each), ``"1y"``
    (365.25 days), a number of days, or a timedelta.

    Examples
    --------
    >>> parse_window("180d")
    datetime.timedelta(days=180)
    >>> parse_window(30)
    datetime.timedelta(days=30)
    """
    if isinstance(window, timedelta):
        td = window
    elif isinstance(window, (int, float)) and not isinstance(window, bool):
        td = timedelta(days=float(window))
    elif isinstance(window, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(d|w|mo|y)\s*", window.lower())
        if not m:
            raise ValueError(f"{name}: cannot read {window!r}; use a number of days or a "
                             f"string such as '30d', '12w', '6mo' or '1y'")
        n, unit = float(m.group(1)), m.group(2)
        days = {"d": 1.0, "w": DAYS_PER_WEEK, "mo": DAYS_PER_MONTH, "y": DAYS_PER_YEAR}[unit] * n
        td = timedelta(days=days)
    else:
        raise TypeError(f"{name}: expected a string like '30d', a number of days or a "
                        f"timedelta, got {type(window).__name__}")
    if td <= timedelta(0):
        raise ValueError(f"{name}: must be positive, got {window!r}")
    return td


def period_every(period: str) -> str:
    """The polars ``dt.truncate`` interval for "day", "week", "month", "quarter", "year"."""
    try:
        return _PERIODS[period]
    except KeyError:
        raise ValueError(f"period: expected one of {list(_PERIODS)}, got {period!r}") from None


def normalize_by(by: str | Sequence[str] | None) -> list[str]:
    """``by=`` as a list of column names (empty for None)."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def attach_by(frame: pl.DataFrame | pl.LazyFrame, customers: pl.DataFrame | None,
              by: str | Sequence[str] | None, *, key: str | None = None):
    """Join the customer attributes named in ``by`` onto ``frame`` (by ``key``, the
    customer id column when None).

    Attributes already on ``frame`` are kept as they are. Raises ``ValueError`` naming the
    unknown attribute and the available ones.
    """
    from loyaltylab.data import schema as S  # here: loyaltylab.data imports this module

    key = S.CUSTOMER_ID if key is None else key
    cols = normalize_by(by)
    existing = frame.collect_schema().names() if isinstance(frame, pl.LazyFrame) else frame.columns
    missing = [c for c in cols if c not in existing]
    if not missing:
        return frame
    if customers is None:
        raise ValueError(f"by={missing}: these attributes need the customers table")
    unknown = [c for c in missing if c not in customers.columns]
    if unknown:
        raise ValueError(f"by={unknown}: not a customer attribute; available: "
                         f"{[c for c in customers.columns if c != S.CUSTOMER_ID]}")
    attrs = customers.select([S.CUSTOMER_ID, *missing]).rename({S.CUSTOMER_ID: key})
    if isinstance(frame, pl.LazyFrame):
        return frame.join(attrs.lazy(), on=key, how="left")
    return frame.join(attrs, on=key, how="left")


_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def safe_text(text: Any, limit: int = 60) -> str:
    """Client text (a header, a file or sheet name) made safe to echo in a message.

    ANSI escape sequences are removed; other control and invisible formatting characters
    (newlines, tabs, bidi overrides, zero-width spaces) are shown as escapes such as
    ``\\n`` or ``\\u202e``; the result is cut to ``limit`` characters with "…".

    Examples
    --------
    >>> safe_text("Umsatz\\x1b[31m (EUR)\\n")
    'Umsatz (EUR)\\\\n'
    >>> safe_text("x" * 80, limit=10)
    'xxxxxxxxx…'
    """
    s = _ANSI.sub("", str(text))
    if not s.isprintable():
        s = "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)
    if len(s) > limit:
        s = s[:max(limit - 1, 0)] + "…"
    return s
