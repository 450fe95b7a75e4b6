"""How result tables and notes are shown to a client: plain headings, numbers written by
kind, intervals in one column, no code words.

The HTML report writes every table through :func:`table_columns`: a column's heading is
taken from the table's own ``labels``, else from :data:`LABELS`, else its name with the
underscores turned into spaces; its numbers are written by kind (:data:`KINDS` of
:mod:`loyaltylab.report._locale`): the kind a table gives (``formats``, the same hints the
workbook takes), else what the column's name says (share, rate, conversion ... in 0..1 are
percentages; amounts and revenue are money; counts are whole numbers); and a pair
``x_ci_low`` / ``x_ci_high`` becomes one column "95 % interval" written "24%–30%".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from loyaltylab.report._locale import Formats

__all__ = ["LABELS", "client_note", "plain_words", "reader_text", "table_columns", "Column"]

LABELS = {
    "as_of": "Measured on", "table": "Table", "present": "In the data", "rows": "Rows",
    "customers": "Customers", "first": "First date", "last": "Last date",
    "rejected": "Rejected", "read": "Rows read", "kept": "Kept",
    "stage": "Rung", "stage_rank": "Step", "reached": "Reached the rung",
    "share_of_top": "Share of all people", "at_stage": "Now on this rung",
    "lapsed": "Lapsed", "converted": "Moved up", "conversion": "Moved up (share)",
    "group": "Group", "n": "Customers", "events": "Lost", "censored": "Still active",
    "median_days": "Median time to loss (days)", "survival_1y": "Still buying after 1 year",
    "survival_2y": "Still buying after 2 years", "survival_3y": "Still buying after 3 years",
    "annual_defection": "Lost per year", "metric": "Measure", "measure": "Measure",
    "value": "Value", "p_value": "p-value", "numerator": "Count", "denominator": "Out of",
    "hazard_ratio": "Risk of leaving, times", "covariate": "Attribute",
    "previous": "Previous year", "current": "Latest year", "change": "Change",
    "period_start": "From", "period_end": "Up to", "nps": "Net promoter score",
    "promoters_pct": "Promoters", "passives_pct": "Passives",
    "detractors_pct": "Detractors", "promoters": "Promoters", "passives": "Passives",
    "detractors": "Detractors", "band": "Resolved within", "definition": "Definition",
}
"""Plain headings of the column names the analyses return (the table's own ``labels`` win)."""

_UNIT_KINDS = {"share": "percent", "currency": "money", "money": "money", "count": "count",
               "points": "points", "orders": "number", "days": "days", "ratio": "ratio"}
"""Row units of a scorecard -> the kind its numbers are written as (others: number)."""

_HINT_KINDS = {"percent": "percent", "share": "percent", "count": "count",
               "integer": "count", "money": "money", "currency": "money",
               "number": "number", "decimal": "number", "days": "days", "ratio": "ratio",
               "date": "date", "datetime": "date", "pvalue": "p_value", "p_value": "p_value",
               "text": "text", "points": "points"}

_SHARE = re.compile(r"\b(share|rate|pct|percent|proportion|probability|retention|churn|"
                    r"conversion|survival|defection|alive|stopped|lapse)\b")
_MONEY = re.compile(r"\b(amount|revenue|spend|clv|monetary|profit|margin|price|cost|"
                    r"costs|sales|income)\b")
_SNAKE = re.compile(r"\b([A-Za-z][A-Za-z0-9]*)(?:_([A-Za-z0-9]+))+\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b(?![-:\d])")
_SCI = re.compile(r"(?<![\w.])(p\s*[=<]\s*)?([-+]?\d+(?:\.\d+)?[eE][-+]?\d+)\b")


def _words(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(name).lower()).strip()


def plain_words(text: Any) -> str:
    """``text`` with code-like words made plain: underscores between letters become spaces
    (``web_sessions`` -> ``web sessions``) and ``name=value`` reads ``name value``.

    Parameters
    ----------
    text : object
        Any text (turned into a string).

    Returns
    -------
    str
        The text for a client to read.

    Examples
    --------
    >>> plain_words("reward_scheme=every_purchase")
    'reward scheme every purchase'
    >>> plain_words("12 rows in web_sessions: ordered_at is not a date")
    '12 rows in web sessions: ordered at is not a date'
    """
    out = _SNAKE.sub(lambda m: m.group(0).replace("_", " "), str(text))
    out = re.sub(r"(?<=\w)\(\)", "", out)           # name() -> name
    out = re.sub(r"(?<=[A-Za-z])\((?=\S)", " (", out)  # name(x -> name (x
    return re.sub(r"(?<=[A-Za-z])\s?=\s?(?=[A-Za-z'\"])", " ", out)


def client_note(text: Any) -> str:
    """A loader's note made fit for a client: the clauses that tell the analyst what to pass
    or run (they hold ``=``, backticks or a call) are left out, the rest in plain words.

    Examples
    --------
    >>> client_note("as_of not given: rows dated after the load time were rejected; pass "
    ...             "as_of= the extract date")
    'No extract date was given: rows dated after the load time were rejected'
    """
    parts = [p for p in re.split(r";\s+", str(text))
             if not re.search(r"=|`|\w\(|\bpass\b|\brun\b", p)]
    out = "; ".join(parts).strip() or ""
    out = re.sub(r"^as_of not given", "No extract date was given", out)
    return plain_words(out)


def reader_text(text: Any, fmt: Formats | None = None) -> str:
    """``text`` for a reader: ISO dates written in the locale, no scientific notation
    (a p-value below 0.001 reads "p < 0.001").

    Examples
    --------
    >>> reader_text("2023-01-02 to 2026-01-01; fastest vs slowest p = 1.3e-06")
    'Jan 2, 2023 to Jan 1, 2026; fastest vs slowest p < 0.001'
    >>> reader_text("revenue 1.09e6", Formats("de"))
    'revenue 1.090.000'
    """
    fmt = fmt or Formats()
    from datetime import date

    def iso(m: re.Match) -> str:
        try:
            return fmt.date(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            return m.group(0)

    def sci(m: re.Match) -> str:
        value = float(m.group(2))
        if m.group(1):
            return ("p < " + fmt.number(0.001, 3)) if value < 0.001 else \
                m.group(1) + fmt.p_value(value)
        return fmt.number(value)

    return _SCI.sub(sci, _ISO_DATE.sub(iso, str(text)))


def label(name: str, labels: dict[str, str] | None = None) -> str:
    """A column's heading in plain words.

    Examples
    --------
    >>> label("survival_1y"), label("orders_90d"), label("share_of_top", {"share_of_top": "Of all"})
    ('Still buying after 1 year', 'Orders 90 days', 'Of all')
    """
    if labels and name in labels:
        return labels[name]
    if name in LABELS:
        return LABELS[name]
    words = str(name).replace("_", " ").strip()
    words = re.sub(r"\b(\d+)y\b", lambda m: f"{m.group(1)} year" + "s" * (m.group(1) != "1"),
                   words)
    words = re.sub(r"\b(\d+)d\b", r"\1 days", words)
    words = re.sub(r"\bpct\b", "%", words)
    return words[:1].upper() + words[1:] if words else str(name)


def _kind(name: str, dtype: pl.DataType, series: pl.Series, hint: str | None) -> str | None:
    if hint is not None:
        return _HINT_KINDS.get(str(hint))
    words = _words(name)
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return "date"
    if not dtype.is_numeric():
        return "text"
    if re.search(r"\bp value\b", words):
        return "p_value"
    if dtype.is_integer():
        return "plain" if words in ("year", "rank", "stage rank") else "count"
    if re.search(r"\b(hazard ratio|ratio)\b", words):
        return "ratio"
    if re.search(r"\b(nps|score|points)\b", words):
        return "points"
    if re.search(r"\bdays\b", words):
        return "days"
    if words.endswith("pct"):
        return "pct"
    if _MONEY.search(words):
        return "money"
    if _SHARE.search(words):
        s = series.drop_nulls().drop_nans() if series.dtype.is_float() else series.drop_nulls()
        if s.len() == 0 or (float(s.min()) >= 0 and float(s.max()) <= 1):
            return "percent"
    return "number"


@dataclass
class Column:
    """One shown column: its heading, whether it is numeric, and how to write a cell."""

    label: str
    numeric: bool
    source: str
    kind: str | None
    high: str | None = None  # the partner of an interval column

    def render(self, row: dict[str, Any], fmt: Formats, unit_kind: str | None = None) -> str:
        kind = unit_kind if (unit_kind and self.kind not in ("count", "p_value", "date",
                                                              "text")) else self.kind
        if self.high is not None:
            return fmt.interval(row[self.source], row[self.high], kind or "number")
        value = row[self.source]
        if kind == "plain" and isinstance(value, int):
            return str(value)
        if kind == "pct":  # already in percent (0..100)
            return "" if value is None else fmt.percent(float(value) / 100)
        if kind == "text" and isinstance(value, str):
            return plain_words(value) if _SNAKE.fullmatch(value) else value
        if isinstance(value, str):
            return plain_words(value) if _SNAKE.fullmatch(value) else value
        if isinstance(value, float) and math.isnan(value):
            return ""
        return fmt.cell(value, None if kind in ("plain", "text") else kind)


def table_columns(frame: pl.DataFrame, *, labels: dict[str, str] | None = None,
                  formats: dict[str, str] | None = None,
                  row_kinds: str | None = None) -> list[Column]:
    """The columns a reader sees: headings in plain words, intervals merged.

    Examples
    --------
    >>> df = pl.DataFrame({"stage": ["client"], "conversion": [0.12], "ci_low": [0.11],
    ...                    "ci_high": [0.14], "reached": [2299]})
    >>> cols = table_columns(df)
    >>> [c.label for c in cols]
    ['Rung', 'Moved up (share)', '95 % interval', 'Reached the rung']
    >>> [c.render(df.row(0, named=True), Formats()) for c in cols]
    ['client', '12%', '11%–14%', '2,299']
    """
    formats = formats or {}
    names = [c for c in frame.columns if c != row_kinds]
    kinds = {c: _kind(c, frame.schema[c], frame.get_column(c), formats.get(c))
             for c in names}
    out: list[Column] = []
    skip: set[str] = set()
    for c in names:
        if c in skip:
            continue
        m = re.fullmatch(r"(.*?)_?ci_low", c)
        high = None if m is None else (m.group(1) + "_ci_high" if m.group(1) else "ci_high")
        if m is not None and high in frame.columns:
            base = m.group(1)
            previous = out[-1].source if out else None
            estimate = base if base in frame.columns else previous
            follows = estimate is not None and estimate == previous
            text = "95 % interval" if follows or estimate is None else \
                f"{label(estimate, labels)}: 95 % interval"
            if labels and c in labels:
                text = labels[c]
            kind = kinds.get(estimate) if estimate else kinds[c]
            out.append(Column(text, True, c, kind, high=high))
            skip.add(high)
            continue
        dtype = frame.schema[c]
        out.append(Column(label(c, labels), dtype.is_numeric(), c, kinds[c]))
    return out
