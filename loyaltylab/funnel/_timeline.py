"""Shared steps of the analyses: checked inputs, stages at dates, lapsed states."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

import polars as pl

from loyaltylab._util import parse_window, resolve_as_of
from loyaltylab.data import schema as S
from loyaltylab.funnel._engine import (_KEY, _PID, _T, _VISITOR_PREFIX, _activity, _earliest,
                                       _ensure_data, _ensure_ladder, _reached,
                                       _require_tables)
from loyaltylab.funnel.ladder import LAPSED, Ladder

__all__: list[str] = []


def _prepare(data, ladder, as_of, lapse_after):
    data = _ensure_data(data)
    ladder = _ensure_ladder(ladder)
    _require_tables(data, ladder)
    as_of = resolve_as_of(data, as_of)
    first, where = _earliest(data, ladder)
    if first is None or as_of < first:
        raise ValueError(f"as_of={as_of:%Y-%m-%d} is before all data (the earliest date is "
                         f"{first} in {where or 'the data'}); pass an as_of on or after it")
    lapse = parse_window(lapse_after, name="lapse_after")
    return data, ladder, as_of, lapse


def _stage_columns(ladder: Ladder, at: datetime | None = None, *, suffix: str = "") -> list:
    """Expressions for stage, stage_rank from reached_* columns (as of ``at``)."""
    names = ladder.names
    rank = pl.lit(None, dtype=pl.Int64)
    for k, n in enumerate(names):
        hit = pl.col(f"reached_{n}").is_not_null()
        if at is not None:
            hit = hit & (pl.col(f"reached_{n}") <= at)
        rank = pl.when(hit).then(pl.lit(k, dtype=pl.Int64)).otherwise(rank)
    stage = pl.lit(pl.Series(names, dtype=ladder.enum)).get(rank)
    return [stage.alias(f"stage{suffix}"), rank.alias(f"stage_rank{suffix}")]


def _stage_expr(ladder: Ladder, rank: pl.Expr) -> pl.Expr:
    return pl.when(rank.is_not_null()).then(
        pl.lit(pl.Series(ladder.names, dtype=pl.String)).get(rank.fill_null(0)))


def _person_states(data, ladder, as_of, lapse, dates: Sequence[datetime]) -> pl.LazyFrame:
    """Reached dates at as_of, plus the state at each of ``dates`` (``_s0``, ``_s1`` ...):
    "lapsed" or the stage name (null when not yet on the ladder)."""
    reached, seed = _reached(data, ladder, as_of)
    act = _activity(data, as_of, seed)
    last = act.group_by(_KEY).agg(
        [pl.col(_T).filter(pl.col(_T) <= d).max().alias(f"_last{i}")
         for i, d in enumerate(dates)])
    out = reached.join(last, on=_KEY, how="left")
    names = ladder.names
    cols = []
    for i, d in enumerate(dates):
        rank = pl.lit(None, dtype=pl.Int64)
        for k, n in enumerate(names):
            hit = pl.col(f"reached_{n}").is_not_null() & (pl.col(f"reached_{n}") <= d)
            rank = pl.when(hit).then(pl.lit(k, dtype=pl.Int64)).otherwise(rank)
        lapsed = pl.col(f"_last{i}").is_not_null() & (pl.col(f"_last{i}") <= d - lapse)
        state = (pl.when(rank.is_null()).then(None)
                 .when(lapsed).then(pl.lit(LAPSED))
                 .otherwise(_stage_expr(ladder, rank)))
        cols += [state.alias(f"_s{i}"), rank.alias(f"_rank{i}")]
    return out.with_columns(cols)


def _ids(ladder: Ladder) -> list[pl.Expr]:
    online = "web_sessions" in ladder.tables
    is_vis = pl.col(_PID).str.starts_with(_VISITOR_PREFIX)
    cols = [pl.when(is_vis).then(None).otherwise(pl.col(_PID)).alias(S.CUSTOMER_ID)]
    if online:
        cols.append(pl.when(is_vis).then(pl.col(_PID).str.slice(1)).otherwise(None)
                    .alias(S.VISITOR_ID))
    return cols
