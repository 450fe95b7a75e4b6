"""The evaluation engine: the date each person first reached each stage, as one polars
lazy query per slice of persons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from loyaltylab._util import parse_window
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.funnel.conditions import _SOURCES, All, Condition, Count, Not, _atoms
from loyaltylab.funnel.ladder import Ladder

__all__: list[str] = []

_PID, _T, _A, _V = "_pid", "_t", "_atom", "_val"
_KEY = "_key"  # 64-bit hash of _PID: persons are grouped and sorted on it, not on text
_KEY_SEEDS = (0x10ADDE12, 0x5EED2026, 0x0C0FFEE5)
_VISITOR_PREFIX = "\x00"


# ============================================================================ the engine
def _ensure_data(data: Any) -> CRMData:
    if not isinstance(data, CRMData):
        raise TypeError(f"data: expected a CRMData (from ll.load, ll.from_frames or "
                        f"ll.datasets), got {type(data).__name__}")
    return data


def _ensure_ladder(ladder: Any) -> Ladder:
    if not isinstance(ladder, Ladder):
        raise TypeError(f"ladder: expected a Ladder such as ll.funnel.OFFLINE, got "
                        f"{type(ladder).__name__}")
    return ladder


def _require_tables(data: CRMData, ladder: Ladder) -> None:
    for table, stages in ladder.tables.items():
        rules = "; ".join(f"{s}: {ladder.stage(s).rule}" for s in stages)
        data.require(table, purpose=f"The {ladder.name} ladder (stage "
                     f"{', '.join(repr(s) for s in stages)}, rule {rules})")


def _visitor_links(ws: pl.LazyFrame) -> pl.LazyFrame:
    """visitor_id -> the customer it first identified as (sessions up to as_of)."""
    return (ws.filter(pl.col(S.CUSTOMER_ID).is_not_null())
            .sort(S.STARTED_AT)
            .group_by(S.VISITOR_ID)
            .agg(pl.col(S.CUSTOMER_ID).first().alias("_linked")))


def _source_events(data: CRMData, c: Count, as_of: datetime, idx: int,
                   seed: int = _KEY_SEEDS[0], *, text: bool = False) -> pl.LazyFrame:
    """Events counted by ``c``: person key (and its text when ``text``), time, value."""
    table, id_col, date_col, _ = _SOURCES[c.source]
    frame = getattr(data, table).lazy().filter(pl.col(date_col) <= as_of)
    if c.where is not None:
        frame = frame.filter(c.where)
    if c.source == "sessions":
        frame = frame.filter(pl.col(S.CUSTOMER_ID).is_not_null())
        pid = pl.col(S.CUSTOMER_ID)
    elif c.source == "anonymous_sessions":
        ws = data.web_sessions.lazy().filter(pl.col(S.STARTED_AT) <= as_of)
        frame = (frame.filter(pl.col(S.CUSTOMER_ID).is_null())
                 .join(_visitor_links(ws), on=S.VISITOR_ID, how="left"))
        pid = pl.coalesce(pl.col("_linked"), pl.lit(_VISITOR_PREFIX) + pl.col(S.VISITOR_ID))
    else:
        pid = pl.col(id_col)
    if c.distinct is None:
        val = pl.lit(None, dtype=pl.String)
    elif c.distinct == "day":
        val = pl.col(date_col).dt.date()
    else:
        if c.distinct not in getattr(data, table).columns:
            hint = (" (for the standard ladders pass client_lines=None to offline_ladder() "
                    "or online_ladder() to drop the product-line rule)"
                    if c.distinct == S.PRODUCT_LINE else "")
            raise ValueError(f"{table}.{c.distinct}: the rule '{c}' counts distinct "
                             f"{c.distinct} values but {table} has no such column; "
                             f"columns: {getattr(data, table).columns}{hint}")
        val = pl.col(c.distinct)
    if text:
        return frame.select(pid.alias(_PID)).filter(pl.col(_PID).is_not_null())
    out = frame.select(pid.hash(seed).alias(_KEY), pl.col(date_col).alias(_T),
                       pl.lit(idx, dtype=pl.Int32).alias(_A), val.alias(_V))
    if c.distinct is not None:
        out = out.filter(pl.col(_V).is_not_null())
    return out


def _unique_atoms(ladder: Ladder) -> list[Count]:
    atoms: list[Count] = []
    for st in ladder.stages:
        for c in _atoms(st.rule):
            if not any(a.family == c.family for a in atoms):
                atoms.append(c)
    return atoms


def _compile(cond: Condition, atoms: list[Count]) -> pl.Expr:
    if isinstance(cond, Count):
        i = next(k for k, a in enumerate(atoms) if a.family == cond.family)
        return pl.col(f"_n{i}") >= cond.at_least
    if isinstance(cond, Not):
        return ~_compile(cond.part, atoms)
    parts = [_compile(p, atoms) for p in cond.parts]
    out = parts[0]
    for p in parts[1:]:
        out = (out & p) if isinstance(cond, All) else (out | p)
    return out


def _in_part(part: tuple[int, int] | None) -> pl.Expr:
    """Rows of the persons in slice ``part = (k, b)``: key modulo k equals b."""
    return pl.lit(True) if part is None else (pl.col(_KEY) % part[0]) == part[1]


def _within(expr: pl.Expr) -> pl.Expr:
    """Cumulative sum of ``expr`` restarting at each person, on a frame sorted by person
    (a global cumulative sum minus its value where each person's rows begin; no window
    partitioning needed)."""
    cs = expr.cum_sum()
    first = pl.col(_KEY) != pl.col(_KEY).shift(1)
    base = pl.when(first.fill_null(True)).then(cs - expr).otherwise(None).forward_fill()
    return cs - base


def _deltas(data: CRMData, c: Count, as_of: datetime, i: int, seed: int,
            part: tuple[int, int] | None = None) -> pl.LazyFrame:
    """Step changes of counted quantity ``i``: +1 when an event enters the count, -1 when
    it leaves a trailing window. The quantity at time t is the sum of steps up to t."""
    ev = _source_events(data, c, as_of, i, seed).filter(_in_part(part))
    col = f"_d{i}"
    if c.distinct is not None and c.within is None:
        # distinct values since the start: +1 at each value's first occurrence
        return (ev.group_by(_KEY, _V).agg(pl.col(_T).min())
                .select(_KEY, _T, pl.lit(1, dtype=pl.Int32).alias(col)))
    if c.within is None:
        return ev.select(_KEY, _T, pl.lit(1, dtype=pl.Int32).alias(col))
    w = parse_window(c.within)
    if c.distinct is None:
        # an event counts in (t - w, t] for t in [s, s + w)
        steps = [ev.select(_KEY, _T, pl.lit(1, dtype=pl.Int32).alias(col)),
                 ev.select(_KEY, (pl.col(_T) + w).alias(_T),
                           pl.lit(-1, dtype=pl.Int32).alias(col))]
    else:
        # a value counts while covered by [s, s + w) of one of its events: merge the
        # overlapping intervals of each (person, value), +1 at a start, -1 at an end
        srt = ev.sort(_KEY, _V, _T)
        new = ((pl.col(_KEY) != pl.col(_KEY).shift(1))
               | (pl.col(_V) != pl.col(_V).shift(1))).fill_null(True)
        srt = srt.with_columns(
            (new | ((pl.col(_T) - pl.col(_T).shift(1)) >= w)).fill_null(True)
            .alias("_start"))
        srt = srt.with_columns(pl.col("_start").shift(-1).fill_null(True).alias("_end"))
        steps = [srt.filter("_start").select(_KEY, _T, pl.lit(1, dtype=pl.Int32).alias(col)),
                 srt.filter("_end").select(_KEY, (pl.col(_T) + w).alias(_T),
                                           pl.lit(-1, dtype=pl.Int32).alias(col))]
    return pl.concat(steps).filter(pl.col(_T) <= as_of)


def _timeline(data: CRMData, ladder: Ladder, as_of: datetime,
              atoms: list[Count], seed: int,
              part: tuple[int, int] | None = None) -> pl.LazyFrame:
    """Per person and time point: the value ``_n<i>`` of every counted quantity (lazy).

    Time points are the person's event dates (plus the dates an event leaves a trailing
    window); a stage rule can only become true at an event date, because counts in
    trailing windows only fall at the other points and negated counts have no window.
    """
    cols = [f"_d{i}" for i in range(len(atoms))]
    parts = []
    for i, c in enumerate(atoms):
        d = _deltas(data, c, as_of, i, seed, part)
        parts.append(d.select(_KEY, _T, *[pl.col(x) if x == f"_d{i}" else
                                          pl.lit(0, dtype=pl.Int32).alias(x) for x in cols]))
    # every listed customer appears on the timeline from acquired_at, even without events
    parts.append(data.customers.lazy()
                 .filter(pl.col(S.ACQUIRED_AT) <= as_of)
                 .select(pl.col(S.CUSTOMER_ID).hash(seed).alias(_KEY),
                         pl.col(S.ACQUIRED_AT).alias(_T),
                         *[pl.lit(0, dtype=pl.Int32).alias(x) for x in cols])
                 .filter(_in_part(part)))
    steps = (pl.concat(parts, how="vertical")
             .group_by(_KEY, _T).agg([pl.col(x).sum() for x in cols])
             .sort(_KEY, _T))
    return steps.select(_KEY, _T, *[_within(pl.col(f"_d{i}").cast(pl.Int32)).alias(f"_n{i}")
                                    for i in range(len(atoms))])


def _reached(data: CRMData, ladder: Ladder, as_of: datetime) -> tuple[pl.DataFrame, int]:
    """One row per person: _key, _pid, _first_seen, and reached_<stage> first-reached
    dates; and the seed of the person keys (for :func:`_activity`).

    This is the whole evaluation of a ladder; :meth:`Ladder.evaluate` calls it once and
    keeps the result in a :class:`~loyaltylab.funnel.Timeline` that the analyses share.
    """
    names_frame, seed = _person_names(data, ladder, as_of)
    atoms = _unique_atoms(ladder)
    # Large data are evaluated in slices of persons (by key), each a fraction of the
    # memory of the whole timeline; a person's events all fall in one slice.
    events = sum(getattr(data, _SOURCES[c.source][0]).height for c in atoms)
    slices = max(1, -(-events // _SLICE_EVENTS))
    parts = [_reached_slice(data, ladder, as_of, atoms, seed,
                            None if slices == 1 else (slices, b)).collect()
             for b in range(slices)]
    per = pl.concat(parts) if slices > 1 else parts[0]
    per = per.join(names_frame, on=_KEY, how="left")
    if per.get_column(_PID).null_count():  # persons outside the customers table
        per = per.drop(_PID).join(_person_names(data, ladder, as_of, seed=seed,
                                                everyone=True)[0], on=_KEY, how="left")
    return per.select(_KEY, _PID, pl.exclude(_KEY, _PID)), seed


_SLICE_EVENTS = 8_000_000
"""Counted events per slice of persons when the ladder is evaluated in slices."""


def _reached_slice(data: CRMData, ladder: Ladder, as_of: datetime, atoms: list[Count],
                   seed: int, part: tuple[int, int] | None) -> pl.LazyFrame:
    """:func:`_reached` for the persons whose key is ``b`` modulo ``k`` (``part = (k, b)``;
    everyone when None)."""
    tl = _timeline(data, ladder, as_of, atoms, seed, part)
    names = ladder.names
    ok: dict[str, pl.Expr] = {}
    for st in ladder.stages:
        cond = _compile(st.rule, atoms)
        if st.requires is not None:
            # the required stage was reached at this time point or earlier
            cond = cond & pl.col(f"_by_{st.requires}")
        ok[st.name] = cond
        if any(s.requires == st.name for s in ladder.stages):
            tl = tl.with_columns((_within(cond.cast(pl.Int32)) > 0).alias(f"_by_{st.name}"))
    per = tl.group_by(_KEY).agg(pl.col(_T).min().alias("_first_seen"),
                                *[pl.col(_T).filter(ok[n]).min().alias(f"_r_{n}")
                                  for n in names])
    # a stage reached only after a higher stage was reached was skipped
    out = []
    for k, n in enumerate(names):
        higher = [pl.col(f"_r_{m}") for m in names[k + 1:]]
        if higher:
            m = pl.min_horizontal(higher)
            out.append(pl.when(m.is_not_null() & (m < pl.col(f"_r_{n}")))
                       .then(None).otherwise(pl.col(f"_r_{n}")).alias(f"reached_{n}"))
        else:
            out.append(pl.col(f"_r_{n}").alias(f"reached_{n}"))
    return per.select(_KEY, "_first_seen", *out)


def _person_names(data: CRMData, ladder: Ladder, as_of: datetime, *, seed: int | None = None,
                  everyone: bool = False) -> tuple[pl.DataFrame, int]:
    """Person key -> person id text (_key, _pid), and the hash seed of the keys.

    Persons are the customers (and, on ladders that count anonymous web sessions, the
    visitors never identified); with ``everyone`` also anyone else the ladder's sources
    name (only in data that bypassed validation). The seed is the first of
    :data:`_KEY_SEEDS` under which no two of these ids share a 64-bit key, so persons
    are never merged by a hash collision.
    """
    parts = [data.customers.select(pl.col(S.CUSTOMER_ID).alias(_PID))]
    atoms = _unique_atoms(ladder)
    for i, c in enumerate(atoms):
        if c.source == "anonymous_sessions" or (everyone and c.source != "customers"):
            parts.append(_source_events(data, c, as_of, i, text=True).collect())
    ids = pl.concat(parts).get_column(_PID).drop_nulls()
    if len(parts) > 1:
        ids = ids.unique()
    for s in ((seed,) if seed is not None else _KEY_SEEDS):
        keys = ids.hash(s)
        if keys.n_unique() == keys.len() or ids.n_unique() == keys.n_unique():
            return pl.DataFrame({_KEY: keys, _PID: ids}).unique(_KEY), s
    raise RuntimeError("loyalty ladder: person ids collide under every 64-bit hash seed")




def _activity(data: CRMData, as_of: datetime, seed: int) -> pl.LazyFrame:
    """Orders and contacts (the lapse rule's activity), up to as_of, by person key."""
    parts = [data.orders.lazy().select(pl.col(S.CUSTOMER_ID).hash(seed).alias(_KEY),
                                       pl.col(S.ORDERED_AT).alias(_T))]
    if data.contacts is not None:
        parts.append(data.contacts.lazy().select(pl.col(S.CUSTOMER_ID).hash(seed).alias(_KEY),
                                                 pl.col(S.CONTACTED_AT).alias(_T)))
    return pl.concat(parts).filter(pl.col(_T) <= as_of)


def _earliest(data: CRMData, ladder: Ladder) -> tuple[datetime | None, str]:
    best, where = None, ""
    tables = set(ladder.tables) | {S.CUSTOMERS, S.ORDERS}
    for table, _, date_col, _ in _SOURCES.values():
        frame = getattr(data, table)
        if table not in tables or frame is None or frame.height == 0:
            continue
        v = frame.get_column(date_col).min()
        if v is not None and (best is None or v < best):
            best, where = v, f"{table}.{date_col}"
    return best, where
