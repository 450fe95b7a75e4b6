"""The customers table from the rules (not public API): the note of a subtracted amount,
the account of rows excluded by rules, and customers derived from the other tables when
a client sends none. Re-exported by :mod:`loyaltylab.data._rules`.
"""

from __future__ import annotations

import re
from typing import Any
from collections.abc import Callable

import polars as pl

from loyaltylab.data._parse import ColumnFormat, sample_values
from loyaltylab.data._rules_apply import _blank_to_null, _txt
from loyaltylab.data._rules_parse import _EVENT_DATE, _ROW, TableRules


# ------------------------------------------------------------------ report and customers

_AMOUNT_NOTE = re.compile(
    r"^(?P<column>.+?) = (?P<parts>.+): (?P<rows>[\d,]+) rows, (?P<gross>-?[\d,]+\.\d\d) "
    r"less (?P<deducted>-?[\d,]+\.\d\d) deducted = (?P<net>-?[\d,]+\.\d\d) "
    r"\(before validation\)$")


def amount_note(note: str) -> dict | None:
    """The numbers of the note :func:`apply` writes on how a subtracted amount was reached
    (``amount = Total minus Refunded Amount: 18 rows, 2,506.02 less 91.34 deducted =
    2,414.68 (before validation)``), or None for any other note.

    Parameters
    ----------
    note : str
        One warning of a :class:`~loyaltylab.data.TableReport`.

    Returns
    -------
    dict or None
        ``{"column", "gross_column", "deducted_columns", "rows", "gross", "deducted",
        "net"}``, or None when the note is about something else.

    Examples
    --------
    >>> amount_note("amount = Total minus Refunded Amount: 18 rows, 2,506.02 less 91.34 "
    ...             "deducted = 2,414.68 (before validation)")["deducted_columns"]
    ['Refunded Amount']
    >>> amount_note("something else") is None
    True
    """
    m = _AMOUNT_NOTE.match(str(note))
    if m is None:
        return None
    parts = m["parts"].split(" minus ")

    def num(x: str) -> float:
        return float(x.replace(",", ""))

    return {"column": m["column"], "gross_column": parts[0],
            "deducted_columns": parts[1:], "rows": int(m["rows"].replace(",", "")),
            "gross": num(m["gross"]), "deducted": num(m["deducted"]), "net": num(m["net"])}


def account(report: Any, excluded: dict[str, dict] | None) -> None:
    """Add a table's excluded rows to its report so that read = kept + rejected + excluded.

    ``report`` is a :class:`~loyaltylab.data.crmdata.TableReport` whose ``read`` counts
    the rows that reached validation.
    """
    if not excluded:
        return
    report.excluded = dict(excluded)
    report.read += sum(int(e["n"]) for e in excluded.values())


def customer_key_needs(rules: TableRules | None) -> list[str]:
    """The tables whose first events date the customers (``acquired_at.first_of``)."""
    return list(rules.first_of) if rules is not None else []


def _first_dates(inp: Any) -> pl.DataFrame | None:
    """(customer_id, first) from a mapped table input: each customer's first event."""
    from loyaltylab.data import schema as S
    col = _EVENT_DATE[inp.name]
    frame = inp.frame
    if S.CUSTOMER_ID not in frame.columns or col not in frame.columns:
        return None
    dates = _parse_dates(frame, col, inp)
    ids = _txt(frame, S.CUSTOMER_ID)
    return (frame.select(ids.alias(S.CUSTOMER_ID)).with_columns(dates.alias("first"))
            .drop_nulls().group_by(S.CUSTOMER_ID).agg(pl.col("first").min()))


def _parse_dates(frame: pl.DataFrame, col: str, inp: Any) -> pl.Series:
    from loyaltylab.data._parse import date_expr, sniff_date_formats
    s = frame.get_column(col)
    if isinstance(s.dtype, pl.Datetime):
        return s.dt.replace_time_zone(None) if s.dtype.time_zone else s
    if s.dtype == pl.Date:
        return s.cast(pl.Datetime("us"))
    fmt = inp.formats.get("*", ColumnFormat()).merged(inp.formats.get(col))
    text = s.cast(pl.String).str.strip_chars()
    if fmt.date_format is not None:
        given = [fmt.date_format] if isinstance(fmt.date_format, str) else fmt.date_format
        fmts = [(f, "%z" in f or "%#z" in f or "%:z" in f) for f in given]
    else:
        fmts, _ = sniff_date_formats(sample_values(text), dayfirst=fmt.dayfirst)
    return text.to_frame("v").select(
        date_expr("v", fmts, timezone=fmt.timezone).alias(col)).to_series()


def derive_customers(base: Callable[[], Any] | None, events: dict[str, Callable[[], Any]],
                     rules: TableRules, source: str) -> Any:
    """The customers table input with ``acquired_at`` = the earliest of the record's own
    date (when mapped) and the customer's first event in ``events`` (orders, contacts,
    ...); customers seen only in those tables (guest checkouts) are added when
    ``rules.add_missing``.

    A customer whose history starts before the record's creation date (a CRM migration)
    is normal: the earliest date wins.
    """
    from loyaltylab.data import schema as S
    from loyaltylab.data.validation import TableInput
    firsts = []
    for _name, read in events.items():
        got = _first_dates(read())
        if got is not None:
            firsts.append(got)
    first = (pl.concat(firsts).group_by(S.CUSTOMER_ID).agg(pl.col("first").min())
             if firsts else pl.DataFrame(schema={S.CUSTOMER_ID: pl.String,
                                                 "first": pl.Datetime("us")}))
    inp = base() if base is not None else TableInput(
        name=S.CUSTOMERS, frame=pl.DataFrame(schema={S.CUSTOMER_ID: pl.String}),
        source=f"customers derived from {', '.join(events)}")
    frame = inp.frame
    if S.CUSTOMER_ID not in frame.columns:
        return inp  # validation reports the missing key column
    rows = (inp.row_numbers if inp.row_numbers is not None
            else pl.Series(range(frame.height), dtype=pl.Int64))
    frame = frame.with_columns(rows.alias(_ROW))
    notes = list(inp.warnings)
    own = None
    if S.ACQUIRED_AT in frame.columns:
        own = _parse_dates(frame, S.ACQUIRED_AT, inp)
        had_text = frame.select(_blank_to_null(pl.col(S.ACQUIRED_AT)).is_not_null()
                                ).to_series()
        unread = int((had_text & own.is_null()).sum())
        if unread:
            notes.append(f"{unread:,} creation dates could not be read; their first "
                         f"event was used where there is one")
    f = frame.with_columns(_txt(frame, S.CUSTOMER_ID).alias("__k"))
    f = f.join(first.rename({S.CUSTOMER_ID: "__k"}), on="__k", how="left",
               maintain_order="left")
    acq = pl.col("first") if own is None else pl.min_horizontal(own, pl.col("first"))
    earlier = 0
    if own is not None:
        earlier = int(f.select((pl.col("first") < own).sum()).item())
    # the key as text, written alike in every table (an Excel 51000.0 is "51000")
    f = f.with_columns(acq.alias(S.ACQUIRED_AT), pl.col("__k").alias(S.CUSTOMER_ID)
                       ).drop("first", "__k")
    if earlier:
        notes.append(f"{earlier:,} customers have events before their record's creation "
                     f"date (e.g. a CRM migration); acquired_at is the earliest")
    if rules.add_missing and first.height:
        known = frame.select(_txt(frame, S.CUSTOMER_ID)).to_series()
        extra = first.filter(~pl.col(S.CUSTOMER_ID).is_in(known.drop_nulls().implode()))
        if extra.height:
            add = extra.rename({"first": S.ACQUIRED_AT})
            f = pl.concat([f, add], how="diagonal_relaxed")
            notes.append(f"{extra.height:,} customers found only in "
                         f"{' / '.join(events)} (guest checkouts or contacts without a "
                         f"record) added, acquired at their first event")
    # a record with no date of its own and no event cannot be dated: not a customer yet
    undated = pl.col(S.ACQUIRED_AT).is_null()
    if own is not None:
        f = f.with_columns(had_text.extend_constant(False, f.height - had_text.len())
                           .alias("__had"))
        undated = undated & ~pl.col("__had")
    mask = f.select(undated.alias("u")).to_series()
    n_undated = int(mask.sum())
    if n_undated:
        excluded = dict(inp.excluded)
        excluded[f"cannot be dated (no creation date, no {' or '.join(events)})"] = {
            "n": n_undated, "amount": None}
        inp.excluded = excluded
        f = f.filter(~mask)
    f = f.drop("__had", strict=False)
    inp.row_numbers = f.get_column(_ROW)
    inp.frame = f.drop(_ROW)
    inp.warnings = notes
    return inp


def wire_customers(inputs: dict[str, Any], rules: TableRules | None, *,
                   source: str) -> dict[str, Any]:
    """Replace the customers input by one whose ``acquired_at`` is derived
    (``acquired_at = {first_of = [...]}``); other inputs are returned unchanged.

    ``inputs`` maps table names to :class:`~loyaltylab.data.validation.TableInput` or to
    functions that read one. The event tables are read once more for their first dates.
    """
    from loyaltylab.data import schema as S
    from loyaltylab.exceptions import MissingTableError
    first_of = customer_key_needs(rules)
    if not first_of:
        return inputs

    def reader(inp: Any) -> Callable[[], Any]:
        return inp if callable(inp) else (lambda: inp)

    events = {t: reader(inputs[t]) for t in first_of if t in inputs}
    base = reader(inputs[S.CUSTOMERS]) if S.CUSTOMERS in inputs else None
    if not events and base is None:
        raise MissingTableError(f"{source}: the customers table is missing and none of "
                                f"{first_of} (acquired_at = {{first_of = ...}}) is there to "
                                f"derive it from; add the customers or orders export.")
    if not events:
        return inputs
    out = dict(inputs)
    out[S.CUSTOMERS] = lambda: derive_customers(base, events, rules, source)
    return out
