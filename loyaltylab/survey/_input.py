"""Input handling shared by the survey scorers (not public API).

Turns the long ``surveys`` table, a wide frame or a :class:`~loyaltylab.CRMData` into one
numeric column per answer, with text answers mapped, scales checked, ``by=`` attributes
attached, unknown customers reported and post-stratification weights validated.
"""

from __future__ import annotations

import math
import warnings
from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from loyaltylab._util import as_polars, attach_by, normalize_by
from loyaltylab.data import schema as S

__all__ = ["ROW", "VALUE", "STRATUM", "responses_and_customers", "prepare_item", "map_text",
           "check_scale", "validate_weights", "iter_groups", "stratum_shares", "fmt_rows",
           "report_unknown_customers", "by_schema"]

ROW = "_row"
"""0-based row number of an answer in the frame the user passed (used in messages)."""
VALUE = "_value"
"""The numeric answer after text mapping."""
STRATUM = "_stratum"


def fmt_rows(rows: Sequence[int], limit: int = 5) -> str:
    """``'3, 7, 9'`` or ``'3, 7, 9, 12, 15 and 4 more'``."""
    rows = list(rows)
    head = ", ".join(str(r) for r in rows[:limit])
    return head if len(rows) <= limit else f"{head} and {len(rows) - limit} more"


def _fmt_values(values: Sequence[Any], limit: int = 5) -> str:
    uniq = list(dict.fromkeys(values))
    head = ", ".join(repr(v) for v in uniq[:limit])
    return head if len(uniq) <= limit else f"{head}, ..."


def responses_and_customers(responses: Any, customers: Any = None
                            ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Unpack a CRMData (its surveys and customers) or a frame (+ optional customers)."""
    if hasattr(responses, "surveys") and hasattr(responses, "customers"):
        responses.require(S.SURVEYS, purpose="survey scoring")
        if customers is None:
            customers = responses.customers
        responses = responses.surveys
    frame = as_polars(responses, name="responses")
    cust = None if customers is None else as_polars(customers, name="customers")
    return frame, cust


def report_unknown_customers(frame: pl.DataFrame, customers: pl.DataFrame | None) -> int:
    """Warn (never drop) when answers come from customer ids absent from ``customers``.

    Returns the number of such answers.
    """
    if customers is None or S.CUSTOMER_ID not in frame.columns:
        return 0
    unknown = frame.join(customers.select(S.CUSTOMER_ID).unique(), on=S.CUSTOMER_ID,
                         how="anti")
    if unknown.height:
        ids = unknown.get_column(S.CUSTOMER_ID).unique(maintain_order=True).to_list()
        rows = unknown.get_column(ROW).to_list() if ROW in unknown.columns else []
        warnings.warn(
            f"surveys: {unknown.height} answers (rows {fmt_rows(rows)}) come from "
            f"{len(ids)} customer_id(s) not in the customers table "
            f"(first: {_fmt_values(ids, 3)}); they are kept in the scores, with null "
            f"by= attributes. Add those customers to the customers table to attribute them.",
            UserWarning, stacklevel=3)
    return unknown.height


def _label(frame: pl.DataFrame, rows: pl.DataFrame) -> str:
    if S.SURVEY in rows.columns:
        surveys = rows.get_column(S.SURVEY).unique(maintain_order=True).to_list()
        return f"survey {_fmt_values(surveys, 3)}"
    return "wide frame"


def map_text(frame: pl.DataFrame, column: str, mapping: Mapping[str, float] | None, *,
             item: str) -> pl.DataFrame:
    """Add ``_value``: ``column`` as Float64, text answers mapped through ``mapping``.

    Matching ignores case and surrounding blanks. Numeric strings ("4") are read as
    numbers. An answer that is neither raises ``ValueError`` naming survey, item, rows and
    values.
    """
    dtype = frame.schema[column]
    if dtype.is_numeric():
        return frame.with_columns(pl.col(column).cast(pl.Float64).alias(VALUE))
    if dtype == pl.Boolean:
        return frame.with_columns(pl.col(column).cast(pl.Float64).alias(VALUE))
    if dtype not in (pl.String, pl.Categorical) and not isinstance(dtype, pl.Enum):
        raise TypeError(f"{item}: answers must be numbers or text, got dtype {dtype}")
    norm = {str(k).strip().casefold(): float(v) for k, v in (mapping or {}).items()}
    key = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    mapped = key.replace_strict(list(norm), list(norm.values()), default=None,
                                return_dtype=pl.Float64) if norm else pl.lit(None, pl.Float64)
    numeric = key.cast(pl.Float64, strict=False)
    out = frame.with_columns(pl.coalesce(mapped, numeric).alias(VALUE))
    bad = out.filter(pl.col(column).is_not_null() & pl.col(VALUE).is_null())
    if bad.height:
        values = bad.get_column(column).cast(pl.String).to_list()
        raise ValueError(
            f"{_label(frame, bad)}, item {item!r}: {bad.height} text answers are not in "
            f"the mapping (rows {fmt_rows(bad.get_column(ROW).to_list())}; values "
            f"{_fmt_values(values)}); add them to mapping=, e.g. "
            f"mapping={{{values[0]!r}: 5, ...}}")
    return out


def check_scale(frame: pl.DataFrame, scale: tuple[float, float], *, item: str,
                integer: bool = True) -> None:
    """Raise ``ValueError`` naming survey, item, rows and values for answers off the scale."""
    lo, hi = scale
    v = pl.col(VALUE)
    off = (v < lo) | (v > hi) | v.is_nan()
    if integer:
        off = off | (v.round(0) != v)
    bad = frame.filter(v.is_not_null() & off)
    if bad.height:
        kind = "whole-number " if integer else ""
        raise ValueError(
            f"{_label(frame, bad)}, item {item!r}: {bad.height} answers lie outside the "
            f"{kind}{lo:g}-{hi:g} scale (rows {fmt_rows(bad.get_column(ROW).to_list())}; "
            f"values {_fmt_values(bad.get_column(VALUE).to_list())}); correct or drop "
            f"them, or pass scale= if the survey used another scale")


def prepare_item(responses: Any, *, item: str | None, score_col: str, by: Any = None,
                 customers: Any = None, scale: tuple[float, float],
                 mapping: Mapping[str, float] | None = None, integer: bool = True,
                 extra: Sequence[str] = ()) -> tuple[pl.DataFrame, list[str]]:
    """One item's answers as ``[*by, *extra, _row, _value]`` (nulls = item non-response).

    Long input (has an ``item`` column): rows with ``item == item`` are kept and
    ``score_col`` is read. Wide input: ``score_col`` is read, or the column named ``item``
    when ``score_col`` is absent.
    """
    frame, cust = responses_and_customers(responses, customers)
    frame = frame.with_row_index(ROW)
    col = score_col
    if S.ITEM in frame.columns and item is not None:
        if score_col not in frame.columns:
            raise ValueError(f"responses: no column {score_col!r} holding the answers; "
                             f"columns are {frame.columns}; pass score_col=")
        present = frame.get_column(S.ITEM).unique().to_list()
        if frame.height and item not in present:
            raise ValueError(f"responses: no answers to item {item!r}; items present: "
                             f"{sorted(str(p) for p in present if p is not None)}; "
                             f"pass item=")
        frame = frame.filter(pl.col(S.ITEM) == item)
    else:
        if col not in frame.columns and item is not None and item in frame.columns:
            col = item
        if col not in frame.columns:
            raise ValueError(f"responses: no column {score_col!r}; columns are "
                             f"{frame.columns}; pass score_col= (wide frame) or a long "
                             f"surveys table with an {S.ITEM!r} column")
    label = item if item is not None else col
    frame = map_text(frame, col, mapping, item=label)
    check_scale(frame, scale, item=label, integer=integer)
    by_cols = normalize_by(by)
    report_unknown_customers(frame, cust)
    frame = attach_by(frame, cust, [*by_cols, *[e for e in extra if e not in frame.columns]])
    keep = list(dict.fromkeys([*by_cols, *extra, ROW, VALUE]))
    missing = [c for c in keep if c not in frame.columns]
    if missing:
        raise ValueError(f"responses: columns {missing} not found; columns are "
                         f"{frame.columns}")
    return frame.select(keep), by_cols


def validate_weights(weights: Mapping[str, Mapping[Any, float]] | None,
                     frame: pl.DataFrame, customers: pl.DataFrame | None = None
                     ) -> tuple[str | None, dict[Any, float] | None, pl.DataFrame]:
    """Check ``weights={column: {group: share}}``; add ``_stratum`` to ``frame``.

    Shares may be population counts; they are normalised to sum to 1. Groups present in
    the answers but missing from the weights, or weighted groups without answers, raise
    ``ValueError`` naming them.
    """
    if weights is None:
        return None, None, frame
    if not isinstance(weights, Mapping) or len(weights) != 1:
        raise TypeError("weights: expected {column: {group: population share}}, e.g. "
                        "weights={'segment': {'A': 0.6, 'B': 0.4}}")
    (column, shares), = weights.items()
    if not isinstance(shares, Mapping) or not shares:
        raise TypeError(f"weights[{column!r}]: expected a non-empty {{group: share}} dict")
    bad = {k: v for k, v in shares.items()
           if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0}
    if bad:
        raise ValueError(f"weights[{column!r}]: shares must be positive numbers; got {bad}")
    if column not in frame.columns:
        frame = attach_by(frame, customers, [column])
    total = float(sum(shares.values()))
    shares = {k: float(v) / total for k, v in shares.items()}
    present = [g for g in frame.get_column(column).unique(maintain_order=True).to_list()]
    uncovered = [g for g in present if g not in shares]
    if uncovered:
        raise ValueError(f"weights[{column!r}]: no population share for the groups "
                         f"{sorted(map(str, uncovered))} found in the answers; add them to "
                         f"weights (or drop those answers)")
    empty = [g for g in shares if g not in present]
    if empty:
        raise ValueError(f"weights[{column!r}]: the groups {sorted(map(str, empty))} have "
                         f"no answers, so they cannot be re-weighted; merge them with "
                         f"another group or drop them from weights")
    return column, shares, frame.with_columns(pl.col(column).alias(STRATUM))


def stratum_shares(strata: np.ndarray, shares: Mapping[Any, float]
                   ) -> tuple[list[Any], np.ndarray]:
    """The strata present in one group and their shares renormalised over those present."""
    levels = [g for g in shares if np.any(strata == g)]
    w = np.array([shares[g] for g in levels], dtype=float)
    missing = [g for g in shares if g not in levels]
    if missing and len(levels):
        warnings.warn(f"weights: strata {sorted(map(str, missing))} have no answers in one "
                      f"by= group; their shares were spread over the strata present",
                      UserWarning, stacklevel=4)
    return levels, w / w.sum() if len(w) else w


def iter_groups(frame: pl.DataFrame, by: list[str]):
    """Yield ``(key_dict, sub_frame)`` per ``by`` group, sorted; for a single Enum ``by``
    column, levels without answers are yielded with an empty frame (the n = 0 row)."""
    if not by:
        yield {}, frame
        return
    parts = frame.partition_by(by, as_dict=True, maintain_order=True)
    keys = list(parts)
    if len(by) == 1 and isinstance(frame.schema[by[0]], pl.Enum):
        levels = frame.schema[by[0]].categories.to_list()
        keys = [(lv,) for lv in levels] + [k for k in keys if k[0] not in levels]
    else:
        keys = sorted(keys, key=lambda k: tuple((v is None, str(v) if v is not None else "")
                                                for v in k))
    empty = frame.clear()
    for key in keys:
        yield dict(zip(by, key)), parts.get(key, empty)


def by_schema(frame: pl.DataFrame, by: list[str]) -> dict[str, pl.DataType]:
    """Schema of the ``by`` columns, for building result frames."""
    return {c: frame.schema[c] for c in by}
