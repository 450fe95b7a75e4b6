"""The evaluated ladder, :class:`Timeline`: who reached which stage when, computed once and
held by the user, and the steps the analyses share on it (checked inputs, stages and lapsed
states at dates)."""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from typing import Any
from collections.abc import Sequence

import polars as pl

from loyaltylab._util import parse_window, resolve_as_of
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.funnel._engine import (_KEY, _PID, _T, _VISITOR_PREFIX, _activity, _earliest,
                                       _ensure_data, _ensure_ladder, _reached,
                                       _require_tables)
from loyaltylab.funnel.ladder import LAPSED, OFFLINE, Ladder

__all__ = ["Timeline"]

AsOf = date | datetime | str | None
"""A date an analysis is measured at: a date, a datetime, an ISO string, or None (the
data's own date)."""


class Timeline:
    """A ladder evaluated on data at a date: when each person first reached each stage.

    Build it with :meth:`Ladder.evaluate` (``timeline = OFFLINE.evaluate(data)``) and pass it
    to any analysis of :mod:`loyaltylab.funnel` in place of ``(data, ladder)``: the
    evaluation, the costly part, is then done once for all of them, the way a fitted model
    is used by its ``predict`` and ``plot`` methods. An analysis given ``(data, ladder)``
    evaluates the ladder once itself.

    A timeline also answers for an earlier date (a transition matrix's start, a business
    change): a rule only reads events up to the date it is checked at, so the stages reached
    by then are the same. On a ladder that counts anonymous web sessions the attribution of
    a visitor depends on the evaluation date (a visitor who identifies later carries their
    sessions over), so there an analysis at an earlier date evaluates the ladder afresh.

    Attributes
    ----------
    data : CRMData
        The data evaluated.
    ladder : Ladder
        The ladder evaluated.
    as_of : datetime
        Only events up to this date were read.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> data = ll.datasets.load_sample()
    >>> timeline = ll.funnel.OFFLINE.evaluate(data)
    >>> timeline.as_of
    datetime.datetime(2026, 1, 1, 0, 0)
    >>> len(timeline)
    5000
    >>> ll.funnel.funnel(timeline)["stage"].to_list()[:2]
    ['suspect', 'prospect']
    """

    __slots__ = ("_data", "_ladder", "_as_of", "_per", "_seed")

    def __init__(self, data: CRMData, ladder: Ladder, as_of: datetime, per: pl.DataFrame,
                 seed: int) -> None:
        self._data, self._ladder, self._as_of = data, ladder, as_of
        self._per, self._seed = per, seed

    @classmethod
    def _evaluate(cls, data: CRMData, ladder: Ladder, as_of: datetime) -> Timeline:
        per, seed = _reached(data, ladder, as_of)
        return cls(data, ladder, as_of, per, seed)

    # ------------------------------------------------------------------ read-only state
    @property
    def data(self) -> CRMData:
        """The data evaluated."""
        return self._data

    @property
    def ladder(self) -> Ladder:
        """The ladder evaluated."""
        return self._ladder

    @property
    def as_of(self) -> datetime:
        """The date of the evaluation: only events up to it were read."""
        return self._as_of

    def __len__(self) -> int:
        return self._per.height

    @property
    def reached(self) -> pl.DataFrame:
        """When each person first reached each stage.

        Returns
        -------
        pl.DataFrame
            One row per person known at ``as_of``, sorted by person:

            - customer_id: customer (null for a never-identified visitor)
            - visitor_id: only on ladders that read web sessions; the visitor id of a
              never-identified visitor, null for customers
            - first_seen_at: the person's first date on the timeline (acquisition or
              first counted event)
            - reached_<stage>: one column per stage, when it was first reached (null when
              it never was, or was skipped)
        """
        return (self._per.lazy()
                .select(*_ids(self._ladder), pl.col("_first_seen").alias("first_seen_at"),
                        *[f"reached_{n}" for n in self._ladder.names])
                .sort(_id_columns(self._ladder), nulls_last=True).collect())

    def stage_counts(self) -> pl.DataFrame:
        """Persons by their highest stage at ``as_of``.

        Returns
        -------
        pl.DataFrame
            One row per stage, lowest first:

            - stage: stage name
            - persons: persons whose highest stage reached is this one
        """
        rank = self._per.lazy().select(_stage_columns(self._ladder)[1]).collect()
        counts = dict(rank.get_column("stage_rank").drop_nulls().value_counts().rows())
        return pl.DataFrame({"stage": self._ladder.names,
                             "persons": [counts.get(k, 0)
                                         for k in range(len(self._ladder.names))]},
                            schema={"stage": pl.String, "persons": pl.Int64})

    def __repr__(self) -> str:
        counts = self.stage_counts()
        on = int(counts.get_column("persons").sum())
        mix = ", ".join(f"{s} {n:,}" for s, n in counts.iter_rows())
        return (f"Timeline of the {self._ladder.name} ladder as of {self._as_of:%Y-%m-%d}: "
                f"{len(self):,} persons, {on:,} on the ladder ({mix})")

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(s)}</td><td style='text-align:right'>{n:,}"
                       f"</td></tr>" for s, n in self.stage_counts().iter_rows())
        return (f"<p>Timeline of the {html.escape(self._ladder.name)} ladder as of "
                f"{self._as_of:%Y-%m-%d}: {len(self):,} persons</p>"
                f"<table><tr><th>highest stage</th><th>persons</th></tr>{rows}</table>")

    # ------------------------------------------------------------------ other dates
    def _at(self, when: datetime) -> Timeline:
        """The timeline as evaluated at ``when`` (on or before ``as_of``)."""
        if when == self._as_of:
            return self
        if when > self._as_of:
            raise ValueError(f"the timeline was evaluated as of {self._as_of:%Y-%m-%d}, "
                             f"before {when:%Y-%m-%d}; evaluate the ladder at the later "
                             f"date: ladder.evaluate(data, as_of='{when:%Y-%m-%d}')")
        if "anonymous_sessions" in {c.source for c in _counts(self._ladder)}:
            return Timeline._evaluate(self._data, self._ladder, when)
        names = [f"reached_{n}" for n in self._ladder.names]
        per = (self._per.lazy().filter(pl.col("_first_seen") <= when)
               .with_columns([pl.when(pl.col(c) <= when).then(pl.col(c)) for c in names])
               .collect())
        return Timeline(self._data, self._ladder, when, per, self._seed)


def _counts(ladder: Ladder) -> list:
    from loyaltylab.funnel.conditions import _atoms

    return [c for st in ladder.stages for c in _atoms(st.rule)]


# ====================================================================== shared steps
def _same_ladder(timeline: Timeline, ladder: Any) -> None:
    if ladder is None or ladder is timeline.ladder:
        return
    _ensure_ladder(ladder)
    if not ladder.describe().equals(timeline.ladder.describe()):
        raise ValueError(f"ladder: the timeline was evaluated on the {timeline.ladder.name} "
                         f"ladder ({' -> '.join(timeline.ladder.names)}), not on {ladder!r}; "
                         f"pass the timeline alone, or the data with the other ladder")


def _check_date(data: CRMData, ladder: Ladder, as_of: datetime) -> None:
    first, where = _earliest(data, ladder)
    if first is None or as_of < first:
        raise ValueError(f"as_of={as_of:%Y-%m-%d} is before all data (the earliest date is "
                         f"{first} in {where or 'the data'}); pass an as_of on or after it")


def _inputs(data: Any, ladder: Any, as_of: AsOf
            ) -> tuple[CRMData | Timeline, Ladder, datetime]:
    """Checked inputs of an analysis, nothing evaluated yet: the data (or the timeline
    given in its place), the ladder and the resolved date."""
    if isinstance(data, Timeline):
        _same_ladder(data, ladder)
        when = resolve_as_of(data, as_of)
        if when > data.as_of:
            data._at(when)  # raises, naming the fix
        _check_date(data.data, data.ladder, when)
        return data, data.ladder, when
    data = _ensure_data(data)
    ladder = _ensure_ladder(OFFLINE if ladder is None else ladder)
    _require_tables(data, ladder)
    when = resolve_as_of(data, as_of)
    _check_date(data, ladder, when)
    return data, ladder, when


def _at(source: CRMData | Timeline, ladder: Ladder, when: datetime) -> Timeline:
    """The timeline at ``when``: ``source`` moved there when it is a timeline, else the
    ladder evaluated on ``source`` (the one evaluation of the call)."""
    if isinstance(source, Timeline):
        return source._at(when)
    return Timeline._evaluate(source, ladder, when)


def _prepare(data: Any, ladder: Any, as_of: AsOf,
             lapse_after: str | int | timedelta) -> tuple[Timeline, timedelta]:
    """The timeline at ``as_of`` (evaluated once when ``data`` is not one) and the lapse
    window."""
    source, ladder, as_of = _inputs(data, ladder, as_of)
    lapse = parse_window(lapse_after, name="lapse_after")
    return _at(source, ladder, as_of), lapse


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


def _person_states(timeline: Timeline, lapse: timedelta,
                   dates: Sequence[datetime]) -> pl.LazyFrame:
    """Reached dates at the timeline's as_of, plus the state at each of ``dates`` (``_s0``,
    ``_s1`` ...): "lapsed" or the stage name (null when not yet on the ladder)."""
    ladder = timeline.ladder
    act = _activity(timeline.data, timeline.as_of, timeline._seed)
    last = act.group_by(_KEY).agg(
        [pl.col(_T).filter(pl.col(_T) <= d).max().alias(f"_last{i}")
         for i, d in enumerate(dates)])
    out = timeline._per.lazy().join(last, on=_KEY, how="left")
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


def _id_columns(ladder: Ladder) -> list[str]:
    return [S.CUSTOMER_ID] + ([S.VISITOR_ID] if "web_sessions" in ladder.tables else [])


def _ids(ladder: Ladder) -> list[pl.Expr]:
    online = "web_sessions" in ladder.tables
    is_vis = pl.col(_PID).str.starts_with(_VISITOR_PREFIX)
    cols = [pl.when(is_vis).then(None).otherwise(pl.col(_PID)).alias(S.CUSTOMER_ID)]
    if online:
        cols.append(pl.when(is_vis).then(pl.col(_PID).str.slice(1)).otherwise(None)
                    .alias(S.VISITOR_ID))
    return cols
