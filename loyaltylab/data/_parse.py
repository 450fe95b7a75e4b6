"""Vectorised parsing of text columns into canonical types (not public API).

Each parser looks at a sample of the column to decide the format (date order, decimal
separator, time zones, Excel serial numbers), then returns one polars expression that
parses the whole column; values that do not parse become null, and the validator turns
"was not null, is now null" into a row rejection with a reason.

Numbers are the exception where a sample is not enough: "1.500" reads as 1.5 or as 1500,
and one such value among integers is easy to miss. :func:`decide_number_format` counts
the evidence over the whole column (a few vectorised passes, over the values with a
separator only) when the sample decides nothing, and reports a column that stays
ambiguous instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from loyaltylab._units import US_PER_DAY

__all__ = ["ColumnFormat", "NumberFormat", "date_expr", "number_expr", "sniff_date_formats",
           "sniff_decimal", "decide_number_format", "number_evidence", "EXCEL_EPOCH",
           "sample_values"]

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
_EXCEL_RE = r"^\d{1,6}(\.\d+)?$|^\d{1,22}e-\d{1,2}$"  # 45000.25 or 4500025e-2 (Excel)
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

    def merged(self, other: ColumnFormat | None) -> ColumnFormat:
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
    micros = (num * float(US_PER_DAY)).round().cast(pl.Int64, strict=False)
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
        for i, (_f, _tz, o) in enumerate(cands):
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


# currency symbols, ISO codes and the local words written beside amounts (1.478 kr,
# 12,50 zł), and (non-breaking) spaces
_CURRENCY = (r"[€$£¥₹₽₺\s\u00a0\u202f]|EUR|USD|GBP|CHF|SEK|NOK|DKK|ISK|PLN|CZK|HUF|"
             r"JPY|AUD|CAD|NZD|kr\.?|zł|Kč|Ft|Fr\.")
_SWISS_GROUPED = r"^[+-]?\d{1,3}(['’]\d{3})+([.,]\d*)?-?$"
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")

# Number evidence: each value is reduced to its digits, separators and sign (currency,
# spaces and letters dropped), then classified. "dot3"/"comma3" values (1.500, 2,300: one
# separator followed by exactly three digits, not after a leading 0) could be either a
# decimal or a thousands separator; every other value with a separator says which it is.
_KEEP = r"[^0-9.,\-]"
_EVIDENCE = {
    "dot3": r"^-?[1-9]\d{0,2}\.\d{3}-?$",
    "comma3": r"^-?[1-9]\d{0,2},\d{3}-?$",
    "dot_dec": r"^-?\d*\.\d+-?$",  # one dot and no comma (dot3 excluded below)
    "comma_dec": r"^-?\d*,\d+-?$",
    "dot_groups": r"^-?\d{1,3}(\.\d{3}){2,}-?$",  # 1.234.567: dots group thousands
    "comma_groups": r"^-?\d{1,3}(,\d{3}){2,}-?$",
    "comma_last": r"^-?[\d.]*\.[\d.]*,\d*-?$",  # 1.234,56
    "dot_last": r"^-?[\d,]*,[\d,]*\.\d*-?$",  # 1,234.56
}


@dataclass
class NumberFormat:
    """The decimal and thousands separators chosen for a column, and why.

    Attributes
    ----------
    decimal : str
        ``"."`` or ``","``.
    thousands : str or None
        Separator stripped where it groups digits in threes; None: no grouping seen.
    ambiguous : list of str
        Example values that could be read either way, when nothing decided (empty when the
        column or the mapping decided).
    evidence : dict
        Counts of values by kind (see ``_EVIDENCE``), over the sample or the column.
    notes : list of str
        What was decided and from what, for the report.
    unchecked : bool
        The sample held no separator and the column was not looked at
        (``scan_plain=False``): the caller checks the parsed values instead.
    """

    decimal: str = "."
    thousands: str | None = None
    ambiguous: list[str] = field(default_factory=list)
    evidence: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unchecked: bool = False


def number_evidence(values: pl.Series) -> dict:
    """Counts of number strings by kind: ``dot3``/``comma3`` (ambiguous, e.g. "1.500"),
    ``dot``/``comma`` (values that show that separator is the decimal one: "12.50",
    "0.500", "1,234.56" for dot; "12,5", "1.234.567", "1.234,56" for comma) and up to five
    ``examples`` of the ambiguous values. One vectorised pass; values without any
    separator are skipped first.

    Examples
    --------
    >>> import polars as pl
    >>> ev = number_evidence(pl.Series(["1.500", "2.300", "12", "1.234,56 €"]))
    >>> ev["dot3"], ev["comma"], ev["dot"]
    (2, 1, 0)
    """
    s = values.drop_nulls()
    s = s.filter(s.str.contains_any([".", ","]))
    if s.len() == 0:
        return {"dot3": 0, "comma3": 0, "dot": 0, "comma": 0, "examples": []}
    v = s.str.replace_all(_KEEP, "")
    flags = pl.DataFrame({"v": v}).select(
        [pl.col("v").str.contains(rx).alias(k) for k, rx in _EVIDENCE.items()])
    f = {k: flags.get_column(k) for k in _EVIDENCE}
    counts = pl.DataFrame({
        "dot3": f["dot3"], "comma3": f["comma3"],
        "dot": (f["dot_dec"] & ~f["dot3"]) | f["dot_last"] | f["comma_groups"],
        "comma": (f["comma_dec"] & ~f["comma3"]) | f["comma_last"] | f["dot_groups"],
    }).sum().row(0, named=True)
    amb = s.filter(f["dot3"] | f["comma3"]).unique(maintain_order=True).head(5)
    counts = {k: int(n) for k, n in counts.items()}
    counts["examples"] = amb.str.strip_chars().to_list()
    return counts


def decide_number_format(sample: pl.Series, fmt: ColumnFormat, *,
                         hint_comma: bool = False, column: pl.Series | None = None,
                         table_decimal: str | None = None,
                         scan_plain: bool = True) -> NumberFormat:
    """Choose a text column's decimal and thousands separators from its evidence.

    The mapping's ``decimal``/``thousands`` win. Otherwise the values that can only be
    read one way decide (the majority when they disagree): "12.50" or "0.500" say the dot
    is the decimal separator, "12,5", "1.234,56" or "1.234.567" say the comma is. When
    the sample decides nothing, the whole ``column`` is looked at (one pass, only over
    values with a separator; with ``scan_plain=False`` not when the sample holds no
    separator at all: ``unchecked`` is then set, and the caller checks the parsed values,
    which costs less). Values such as "1.500" or "2,300" (one separator, then
    exactly three digits) are ambiguous: they are decided by the column's other values,
    then by ``table_decimal`` (what the table's other number columns showed), and a
    column of "2,300"s in a semicolon-delimited file (``hint_comma``) reads the comma as
    the decimal separator; otherwise the result lists them in ``ambiguous`` and the
    caller must not guess.

    Examples
    --------
    >>> import polars as pl
    >>> f = decide_number_format(pl.Series(["1.500", "12,50"]), ColumnFormat())
    >>> f.decimal, f.thousands
    (',', '.')
    >>> decide_number_format(pl.Series(["1.500", "2.300"]), ColumnFormat()).ambiguous
    ['1.500', '2.300']
    """
    out = NumberFormat()
    if fmt.decimal is not None or fmt.thousands is not None:
        if fmt.decimal is not None:
            out.decimal = fmt.decimal
            # grouping is stripped only where it matches d{1,3}(.ddd)+ exactly, so it is
            # safe to allow the other separator as the thousands mark
            out.thousands = "." if fmt.decimal == "," else ","
        else:
            out.decimal = {".": ",", ",": "."}.get(fmt.thousands, ".")
            if fmt.thousands not in (".", ","):
                out.decimal = decide_number_format(sample, ColumnFormat(),
                                                   hint_comma=hint_comma).decimal
        if fmt.thousands is not None:
            out.thousands = fmt.thousands
        return out
    ev = number_evidence(sample)
    if not (ev["dot"] or ev["comma"]) and column is not None \
            and column.len() > sample.len():
        if scan_plain or ev["dot3"] or ev["comma3"]:
            ev = number_evidence(column)  # the sample decides nothing: look at everything
        else:
            out.unchecked = True
    out.evidence = ev
    dot, comma = ev["dot"], ev["comma"]
    if dot or comma:
        out.decimal = "," if comma > dot or (comma == dot and hint_comma) else "."
        out.thousands = "." if out.decimal == "," else ","
        if dot and comma:
            out.notes.append(f"numbers written both ways ({dot:,} with a decimal point, "
                             f"{comma:,} with a decimal comma): read with a decimal "
                             f"{'comma' if out.decimal == ',' else 'point'}; the others "
                             f"are rejected as unparseable")
        return out
    if not (ev["dot3"] or ev["comma3"]):
        return out  # no separator anywhere: plain numbers
    if table_decimal is not None:
        out.decimal = table_decimal
        out.thousands = "." if table_decimal == "," else ","
        out.notes.append(f"values such as {ev['examples'][0]!r} read with a decimal "
                         f"{'comma' if table_decimal == ',' else 'point'}, as in the "
                         f"table's other number columns")
        return out
    if ev["comma3"] and not ev["dot3"] and hint_comma:
        out.decimal, out.thousands = ",", "."
        out.notes.append(f"values such as {ev['examples'][0]!r} read with a decimal comma "
                         f"(the file is semicolon-delimited)")
        return out
    out.ambiguous = ev["examples"]
    return out


def sniff_decimal(sample: pl.Series, *, hint_comma: bool = False) -> tuple[str, str | None]:
    """Decide the decimal separator and thousands separator of a sample of number strings.

    Returns ``(decimal, thousands)``; thousands is None when no grouping is seen.
    ``hint_comma`` (e.g. the file is semicolon-delimited) breaks ties such as ``1,234``
    toward a decimal comma. A sample that stays ambiguous (only values like "1.500")
    gives the best guess here; :func:`decide_number_format` says it is ambiguous.
    """
    f = decide_number_format(sample, ColumnFormat(), hint_comma=hint_comma)
    if f.ambiguous:
        ev = f.evidence
        if ev["dot3"] and not ev["comma3"]:
            return (",", ".") if hint_comma else (".", None)
        return (",", None) if hint_comma else (".", ",")
    if f.decimal == "." and not (f.evidence.get("comma") or f.evidence.get("dot")):
        return ".", None
    return f.decimal, f.thousands


def number_expr(name: str, sample: pl.Series, fmt: ColumnFormat, *,
                hint_comma: bool = False, decided: NumberFormat | None = None,
                fast: bool = True) -> pl.Expr:
    """Expression turning text column ``name`` (already stripped) into Float64 (null when
    unreadable). ``decided`` is the format chosen by :func:`decide_number_format` (when
    None it is decided from ``sample``, guessing on ambiguous samples). A column whose
    sample holds plain numbers only is cast directly unless ``fast=False`` (then grouping,
    currency and trailing minus signs are handled in every value)."""
    e = pl.col(name)
    plain = all(_PLAIN_NUMBER.match(v) for v in sample.to_list() if v)
    if decided is None:
        decimal, thousands = (sniff_decimal(sample, hint_comma=hint_comma)
                              if fmt.decimal is None and fmt.thousands is None else
                              (None, None))
        if fmt.decimal is not None or fmt.thousands is not None:
            d = decide_number_format(sample, fmt, hint_comma=hint_comma)
            decimal, thousands = d.decimal, d.thousands
    else:
        decimal, thousands = decided.decimal, decided.thousands
    if fast and fmt.decimal is None and fmt.thousands is None and plain and decimal == ".":
        return e.cast(pl.Float64, strict=False)
    # strip currency symbols, codes and (non-breaking) spaces
    e = e.str.replace_all(_CURRENCY, "")
    # Swiss grouping (1'234.50, 1’234,50): an apostrophe between groups of three digits is
    # never a decimal mark, whatever the column's convention
    e = pl.when(e.str.contains(_SWISS_GROUPED)).then(e.str.replace_all(r"['’]", "")
                                                      ).otherwise(e)
    if thousands:
        group = re.escape(thousands)
        dec = re.escape(decimal)
        grouped = rf"^[+-]?\d{{1,3}}({group}\d{{3}})+({dec}\d*)?-?$"
        e = pl.when(e.str.contains(grouped)).then(e.str.replace_all(group, "",
                                                                        literal=False)
                                                  ).otherwise(e)
    if decimal == ",":
        e = pl.when(e.str.contains(r"\.")).then(pl.lit(None, pl.String)).otherwise(
            e.str.replace(",", ".", literal=True))
    # a trailing minus (SAP style 12.50-) means negative
    e = pl.when(e.str.ends_with("-")).then(pl.lit("-") + e.str.strip_suffix("-")).otherwise(e)
    return e.cast(pl.Float64, strict=False)
