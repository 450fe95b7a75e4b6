"""Vectorised parsing of text columns into canonical types (not public API).

Each parser looks at a sample of the column to decide the format (date order, decimal
separator, time zones, Excel serial numbers), then returns one polars expression that
parses the whole column; values that do not parse become null, and the validator turns
"was not null, is now null" into a row rejection with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

__all__ = ["ColumnFormat", "date_expr", "number_expr", "sniff_date_formats",
           "sniff_decimal", "EXCEL_EPOCH", "sample_values"]

from datetime import datetime

EXCEL_EPOCH = datetime(1899, 12, 30)
"""Day 0 of Excel's (1900, Windows) date system; serial 45000 is 2023-03-15."""

# Formats tried when sniffing a date column, in order of preference on ties.
# (name, strftime format, has_offset, orientation) ; orientation: "d" day-first,
# "m" month-first, "" unambiguous.
_ISO = [
    ("%Y-%m-%d", False), ("%Y-%m-%d %H:%M:%S", False), ("%Y-%m-%d %H:%M", False),
    ("%Y-%m-%d %H:%M:%S%.f", False), ("%Y-%m-%dT%H:%M:%S", False),
    ("%Y-%m-%dT%H:%M:%S%.f", False), ("%Y-%m-%dT%H:%M", False),
    ("%Y-%m-%dT%H:%M:%S%#z", True), ("%Y-%m-%dT%H:%M:%S%.f%#z", True),
    ("%Y-%m-%d %H:%M:%S%#z", True), ("%Y-%m-%d %H:%M:%S%.f%#z", True),
    ("%Y/%m/%d", False), ("%Y/%m/%d %H:%M:%S", False), ("%Y%m%d", False),
]
_DAYFIRST = [
    "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%y",
    "%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y", "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
]
_MONTHFIRST = [
    "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p",
    "%m-%d-%Y", "%m.%d.%Y",
]
EXCEL = "excel"
_EXCEL_RE = r"^\d{1,6}(\.\d+)?$"
_EXCEL_MIN, _EXCEL_MAX = 1.0, 2958465.0  # 1900-01-01 .. 9999-12-31


def _candidates(dayfirst: bool) -> list[tuple[str, bool, str]]:
    first, second = (_DAYFIRST, _MONTHFIRST) if dayfirst else (_MONTHFIRST, _DAYFIRST)
    first_o, second_o = ("d", "m") if dayfirst else ("m", "d")
    out = [(f, tz, "") for f, tz in _ISO]
    out += [(f, False, first_o) for f in first]
    out += [(f, False, second_o) for f in second]
    out.append((EXCEL, False, ""))
    return out


@dataclass
class ColumnFormat:
    """How to read one text column; every field None means "sniff it".

    Attributes
    ----------
    date_format : str or list of str or None
        strftime format(s) (chrono flavour, e.g. ``"%d.%m.%Y"``), or ``"excel"`` for Excel
        serial day numbers.
    dayfirst : bool or None
        For ambiguous dates such as 03/04/2026: True reads 3 April. Default: day-first.
    timezone : str or None
        IANA zone (``"Europe/Berlin"``) of timestamps written without an offset; they are
        converted to UTC. Timestamps with an offset are always converted to UTC.
    decimal : str or None
        Decimal separator, ``"."`` or ``","``.
    thousands : str or None
        Thousands separator to strip (``"."``, ``","``, ``" "`` or ``"'"``).
    """

    date_format: str | list[str] | None = None
    dayfirst: bool | None = None
    timezone: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    notes: list[str] = field(default_factory=list)

    def merged(self, other: "ColumnFormat | None") -> "ColumnFormat":
        """This format with the fields ``other`` sets taking precedence."""
        if other is None:
            return self
        return ColumnFormat(
            date_format=other.date_format if other.date_format is not None
            else self.date_format,
            dayfirst=other.dayfirst if other.dayfirst is not None else self.dayfirst,
            timezone=other.timezone if other.timezone is not None else self.timezone,
            decimal=other.decimal if other.decimal is not None else self.decimal,
            thousands=other.thousands if other.thousands is not None else self.thousands,
        )


def sample_values(col: pl.Series, n: int = 600) -> pl.Series:
    """Up to about ``3 n`` non-null, stripped values: the head, the tail and an even
    spread from the middle (so formats that change half-way are seen)."""
    s = col.drop_nulls()
    if s.len() <= 3 * n:
        out = s
    else:
        step = max(1, s.len() // n)
        out = pl.concat([s.head(n), s.gather_every(step).head(n), s.tail(n)])
    out = out.str.strip_chars()
    return out.filter(out != "")


def _parse_one(e: pl.Expr, fmt: str, has_tz: bool, timezone: str | None,
               cache: bool = True) -> pl.Expr:
    """Parse with one format into naive-UTC Datetime("us"); failures are null."""
    if fmt == EXCEL:
        num = e.cast(pl.Float64, strict=False)
        num = pl.when(e.str.contains(_EXCEL_RE) & (num >= _EXCEL_MIN)
                      & (num <= _EXCEL_MAX)).then(num)
        return excel_serial_expr(num)
    if has_tz:
        return (e.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC",
                                  cache=cache).dt.replace_time_zone(None))
    out = e.str.to_datetime(fmt, strict=False, time_unit="us", cache=cache)
    if timezone:
        out = localize_expr(out, timezone)
    return out


def localize_expr(e: pl.Expr, timezone: str) -> pl.Expr:
    """Naive local timestamps in ``timezone`` -> naive UTC (DST gaps become null, repeated
    autumn hours take the earlier instant)."""
    return (e.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC").dt.replace_time_zone(None))


def excel_serial_expr(num: pl.Expr) -> pl.Expr:
    """Excel serial day numbers (float) -> Datetime("us"), 1900 date system."""
    micros = (num * 86_400_000_000.0).round().cast(pl.Int64, strict=False)
    return pl.lit(EXCEL_EPOCH, dtype=pl.Datetime("us")) + pl.duration(microseconds=micros)


def sniff_date_formats(sample: pl.Series, *, dayfirst: bool | None = None,
                       timezone: str | None = None) -> tuple[list[tuple[str, bool]], list[str]]:
    """Pick the formats that parse a sample of date strings.

    Greedy: the format that parses most of the sample, then the one that parses most of
    the rest, ... (at most four). Day-first and month-first readings are never mixed.

    Returns
    -------
    (formats, notes)
        ``formats`` is a list of ``(format, has_offset)``; ``notes`` explains ambiguous
        choices (e.g. all dates could be day- or month-first).
    """
    notes: list[str] = []
    if sample.len() == 0:
        return [("%Y-%m-%d", False)], notes
    prefer_day = True if dayfirst is None else dayfirst
    cands = _candidates(prefer_day)
    frame = sample.to_frame("v")
    parsed = frame.select([
        _parse_one(pl.col("v"), f, tz, None).is_not_null().alias(str(i))
        for i, (f, tz, _) in enumerate(cands)
    ])
    hits = {i: parsed.get_column(str(i)) for i in range(len(cands))}
    remaining = pl.Series([True] * sample.len())
    chosen: list[tuple[str, bool]] = []
    orientation = ""
    for _ in range(4):
        best, best_n = None, 0
        for i, (f, tz, o) in enumerate(cands):
            if orientation and o and o != orientation:
                continue
            if dayfirst is not None and o and o != ("d" if dayfirst else "m"):
                continue
            n = int((hits[i] & remaining).sum())
            if n > best_n:
                best, best_n = i, n
        if best is None:
            break
        f, tz, o = cands[best]
        if o and not orientation:
            orientation = o
            other = [i for i, c in enumerate(cands) if c[2] and c[2] != o]
            # Would the other reading have parsed just as much? Then it is ambiguous.
            other_n = max((int((hits[i] & remaining).sum()) for i in other), default=0)
            if other_n == best_n and dayfirst is None:
                notes.append("dates such as 03/04/2026 are ambiguous; read them "
                             "day-first (3 April). Set dayfirst = false in the mapping "
                             "if they are month-first")
        chosen.append((f, tz))
        remaining = remaining & ~hits[best]
        if not remaining.any():
            break
    if not chosen:
        chosen = [("%Y-%m-%d", False)]
    return chosen, notes


def date_expr(name: str, formats: list[tuple[str, bool]], *,
              timezone: str | None = None, cache: bool = True) -> pl.Expr:
    """Expression parsing text column ``name`` (already stripped) with the given formats
    (the first that works), into naive-UTC Datetime("us"). ``cache=False`` is faster for
    columns of mostly distinct timestamps."""
    e = pl.col(name)
    parts = [_parse_one(e, f, tz, timezone, cache) for f, tz in formats]
    return parts[0] if len(parts) == 1 else pl.coalesce(parts)


_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def sniff_decimal(sample: pl.Series, *, hint_comma: bool = False) -> tuple[str, str | None]:
    """Decide the decimal separator and thousands separator of a sample of number strings.

    Returns ``(decimal, thousands)``; thousands is None when no grouping is seen.
    ``hint_comma`` (e.g. the file is semicolon-delimited) breaks ties such as ``1,234``
    toward a decimal comma.
    """
    vals = [v for v in sample.to_list() if v]
    has_comma = [v for v in vals if "," in v]
    has_dot = [v for v in vals if "." in v]
    if not has_comma:
        # 1.234.567 has repeated dots: thousands dot, decimal comma (none seen)
        if any(v.count(".") > 1 for v in has_dot):
            return ",", "."
        return ".", None
    both = [v for v in vals if "," in v and "." in v]
    if both:
        last_comma = sum(v.rfind(",") > v.rfind(".") for v in both)
        if last_comma * 2 >= len(both):
            return ",", "."
        return ".", ","
    if any(v.count(",") > 1 for v in has_comma):
        return ".", ","
    # only single commas: a group of exactly three digits after it is ambiguous
    not_three = [v for v in has_comma if not re.search(r",\d{3}$", v.strip())]
    if not_three or hint_comma or has_dot:
        # decimals like 12,5 or 0,75; or dots elsewhere (1.234 with 5,5) mean comma
        return ",", ("." if any(re.search(r"\d\.\d{3}(,|$)", v) for v in has_dot)
                     else None)
    return ".", ","


def number_expr(name: str, sample: pl.Series, fmt: ColumnFormat, *,
                hint_comma: bool = False) -> pl.Expr:
    """Expression turning text column ``name`` (already stripped) into Float64 (null when
    unreadable)."""
    e = pl.col(name)
    plain = all(_PLAIN_NUMBER.match(v) for v in sample.to_list() if v)
    if fmt.decimal is None and fmt.thousands is None and plain:
        return e.cast(pl.Float64, strict=False)
    if fmt.decimal is None:
        decimal, thousands = sniff_decimal(sample, hint_comma=hint_comma)
    else:
        decimal = fmt.decimal
        # grouping is stripped only where it matches d{1,3}(.ddd)+ exactly, so it is safe
        # to allow the other separator as the thousands mark
        thousands = "." if decimal == "," else ","
    if fmt.thousands is not None:
        thousands = fmt.thousands
    # strip currency symbols, codes and (non-breaking) spaces
    e = e.str.replace_all(r"[€$£¥\s\u00a0\u202f]|EUR|USD|GBP|CHF", "")
    if thousands:
        group = re.escape(thousands)
        dec = re.escape(decimal)
        grouped = rf"^[+-]?\d{{1,3}}({group}\d{{3}})+({dec}\d*)?$"
        e = pl.when(e.str.contains(grouped)).then(e.str.replace_all(group, "",
                                                                        literal=False)
                                                  ).otherwise(e)
    if decimal == ",":
        e = pl.when(e.str.contains(r"\.")).then(pl.lit(None, pl.String)).otherwise(
            e.str.replace(",", ".", literal=True))
    # a trailing minus (SAP style 12.50-) means negative
    e = pl.when(e.str.ends_with("-")).then(pl.lit("-") + e.str.strip_suffix("-")).otherwise(e)
    return e.cast(pl.Float64, strict=False)
