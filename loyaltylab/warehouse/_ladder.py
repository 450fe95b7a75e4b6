"""The loyalty-ladder stage per customer, computed inside a database engine (Ibis) or in
polars: the funnel's rules (Count / All / AnyOf / Not) compiled to one Ibis query."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from collections.abc import Mapping

import polars as pl

from loyaltylab._util import parse_window, resolve_as_of, to_datetime
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.funnel import OFFLINE, All, Condition, Count, Ladder, Not, Stage
from loyaltylab.warehouse import _engine as E

__all__ = ["ladder_stages", "ladder_counts", "measurable_ladder"]

def measurable_ladder(ladder: Ladder, tables: Mapping[str, list[str]]
                      ) -> tuple[Ladder, list[str]]:
    """The ladder as far as tables with these columns can measure it, and what changed.

    A rung whose rule needs a missing table (or column) is left out (without referrals the
    offline ladder ends at "client"); a rule that only excludes events of a missing table
    ("no contacts") holds for everyone and is dropped from the rule; an alternative that
    needs a missing column ("or 2 product lines") is dropped. This is what the report does
    with the polars data.

    Parameters
    ----------
    ladder : Ladder
    tables : mapping of str to list of str
        Canonical table name -> its columns, for the tables the data have.

    Returns
    -------
    (Ladder, list of str)
        The ladder and one sentence per rung left out or changed.

    Examples
    --------
    >>> from loyaltylab.funnel import OFFLINE
    >>> lad, notes = measurable_ladder(OFFLINE, {"customers": ["customer_id"],
    ...     "orders": ["customer_id", "ordered_at", "product_line"],
    ...     "contacts": ["customer_id", "contacted_at"]})
    >>> lad.names[-1], notes
    ('client', ["the rung 'advocate' is left out: it needs a referrals table"])
    """
    lad, changes = ladder.measurable(tables)
    notes = []
    for change in changes:
        lacking = " and ".join(sorted({f"a {t} table" if col is None else f"the column {t}.{col}"
                                       for t, col in change.missing}))
        name = change.stage.name
        notes.append(f"the rung {name!r} is left out: it needs {lacking}"
                     if change.rule is None else
                     f"the rung {name!r} is measured as '{change.rule}' instead of "
                     f"'{change.stage.rule}': the data have no {lacking}")
    return lad, notes


def _crm_tables(data: CRMData) -> dict[str, list[str]]:
    out = {}
    for table in S.TABLES:
        frame = getattr(data, table, None)
        if isinstance(frame, pl.DataFrame):
            out[table] = frame.columns
    return out


def _check_supported(ladder: Ladder) -> None:
    """Refuse rules the engine compiler does not handle, naming the stage and the rule."""
    for st in ladder.stages:
        for c in st.rule.counts():
            if c.where is not None:
                raise ValueError(
                    f"ladder {ladder.name!r}, stage {st.name!r}: the rule '{st.rule}' filters "
                    f"with where= (a polars expression), which cannot be run inside a "
                    f"database; filter the table in the database instead (e.g. "
                    f"tables['surveys'] = t.filter(...)) and drop where=, or run the ladder "
                    f"in polars")
            if c.source == "anonymous_sessions":
                raise ValueError(
                    f"ladder {ladder.name!r}, stage {st.name!r}: counting anonymous web "
                    f"sessions (attributed to the customer a visitor later becomes) is not "
                    f"supported inside a database; use ladder.without({st.name!r}) or run "
                    f"the ladder in polars")


# ---------------------------------------------------------------------------- the query

def _unique_atoms(ladder: Ladder) -> list[Count]:
    atoms: list[Count] = []
    for st in ladder.stages:
        for c in st.rule.counts():
            if not any(a.family == c.family for a in atoms):
                atoms.append(c)
    return atoms


def _in_part(rel: Any, part: tuple[int, int] | None) -> Any:
    """The rows of ``rel`` whose person (``_pid``) falls in part ``i`` of ``k`` (by a hash
    of the id), or all rows when ``part`` is None."""
    if part is None:
        return rel
    i, k = part
    h = rel._pid.hash()
    return rel.filter((h % k + k) % k == i)


def _events(tables: Mapping[str, Any], c: Count, T_us: int, backend: str | None,
            dialect: str | None, part: tuple[int, int] | None = None) -> Any:
    """(_pid, _t, _v) of the events ``c`` counts up to ``as_of`` (``_v`` null unless
    distinct values are counted)."""
    ibis = E.ibis_module()
    table, id_col, date_col = c.table, c.person_column, c.date_column
    t = tables[table]
    E.require_columns(t, [id_col, date_col], name=table)
    if c.source == "sessions":
        t = t.filter(t[S.CUSTOMER_ID].notnull())
    ts = E.timestamp(t, date_col, name=table)
    if c.distinct is None:
        v = ibis.null().cast("string")
    elif c.distinct == "day":
        v = E.day_number(ts).cast("string")
    else:
        v = t[c.distinct].cast("string")
    ev = t.select(_pid=t[id_col].cast("string"), _t=E.epoch_us(ts, backend, dialect), _v=v)
    ev = _in_part(ev.filter(ev._t <= T_us), part)
    if c.distinct is not None:
        ev = ev.filter(ev._v.notnull())
    return ev


def _steps(ev: Any, c: Count, T_us: int, backend: str | None) -> Any:
    """(_pid, _t, _d) step changes of the quantity ``c`` counts: +1 when an event enters
    the count, -1 when it leaves a trailing window (as the polars engine builds them)."""
    ibis = E.ibis_module()
    one = ibis.literal(1, type="int64")
    if c.within is None:
        if c.distinct is None:
            return ev.select("_pid", "_t", _d=one)
        first = ev.group_by(["_pid", "_v"]).aggregate(_t=ev._t.min())
        return first.select("_pid", "_t", _d=one)
    w = int(parse_window(c.within) / timedelta(microseconds=1))
    if c.distinct is None:
        up = ev.select("_pid", "_t", _d=one)
        down = ev.select("_pid", _t=ev._t + w, _d=-one)
    else:
        # a value counts while one of its events is less than w old: merge the events of
        # each (person, value) that lie less than w apart into one interval
        d = ev.select("_pid", "_v", "_t").distinct()
        if backend == "polars":  # no window functions there: neighbours by self-joins
            a = d.rename(_p2="_pid", _v2="_v", _t2="_t")
            pairs = d.join(a, [d._pid == a._p2, d._v == a._v2])
            nb = pairs.group_by(["_pid", "_v", "_t"]).aggregate(
                _prev=pairs._t2.max(where=pairs._t2 < pairs._t),
                _next=pairs._t2.min(where=pairs._t2 > pairs._t))
        else:
            win = ibis.window(group_by=["_pid", "_v"], order_by="_t")
            nb = d.mutate(_prev=d._t.lag().over(win), _next=d._t.lead().over(win))
        starts = nb.filter(nb._prev.isnull() | (nb._t - nb._prev >= w))
        ends = nb.filter(nb._next.isnull() | (nb._next - nb._t >= w))
        up = starts.select("_pid", "_t", _d=one)
        down = ends.select("_pid", _t=ends._t + w, _d=-one)
    steps = up.union(down, distinct=False)
    return steps.filter(steps._t <= T_us)


def _compile(cond: Condition, atoms: list[Count], tl: Any) -> Any:
    if isinstance(cond, Count):
        i = next(k for k, a in enumerate(atoms) if a.family == cond.family)
        return tl[f"_n{i}"] >= cond.at_least
    if isinstance(cond, Not):
        return ~_compile(cond.part, atoms, tl)
    parts = [_compile(p, atoms, tl) for p in cond.parts]
    out = parts[0]
    for p in parts[1:]:
        out = (out & p) if isinstance(cond, All) else (out | p)
    return out


def _ladder_query(tables: Mapping[str, Any], ladder: Ladder, *, T_us: int,
                  backend: str | None, dialect: str | None = None,
                  part: tuple[int, int] | None = None) -> Any:
    """One row per person on the timeline: ``_pid`` and ``_rank``, the highest stage
    reached by ``as_of`` (null when none).

    The polars engine's method, in SQL: each counted quantity becomes step changes at the
    person's event times, summed per person along time (a cumulative window sum; a
    self-join on Ibis' Polars backend); a stage is reached at the first time point its
    rule holds (for a stage with ``requires``, at or after the required stage's). The
    highest stage reached is the highest stage with a date: a stage is skipped only when
    a higher one came first, so it is never the highest. With ``part=(i, k)`` only the
    people whose id hashes to ``i`` modulo ``k`` are computed (each person's stage depends
    on their own events only, so the parts add up to the whole).
    """
    ibis = E.ibis_module()
    atoms = _unique_atoms(ladder)
    zero = ibis.literal(0, type="int64")
    dcols = [f"_d{i}" for i in range(len(atoms))]
    parts = []
    for i, c in enumerate(atoms):
        st = _steps(_events(tables, c, T_us, backend, dialect, part), c, T_us, backend)
        parts.append(st.select("_pid", "_t", **{x: (st._d if x == f"_d{i}" else zero)
                                                for x in dcols}))
    # every listed customer is on the timeline from acquired_at, even without events
    cust = tables[S.CUSTOMERS]
    E.require_columns(cust, [S.CUSTOMER_ID, S.ACQUIRED_AT], name=S.CUSTOMERS)
    cts = E.epoch_us(E.timestamp(cust, S.ACQUIRED_AT, name=S.CUSTOMERS), backend, dialect)
    listed = cust.select(_pid=cust[S.CUSTOMER_ID].cast("string"), _t=cts,
                         **{x: zero for x in dcols})
    parts.append(_in_part(listed.filter(listed._t <= T_us), part))
    allsteps = ibis.union(*parts, distinct=False)
    pts = allsteps.group_by(["_pid", "_t"]).aggregate(
        **{x: allsteps[x].sum().cast("int64") for x in dcols})
    if backend == "polars":
        b = pts.rename(**{"_p2": "_pid", "_t2": "_t"}, **{f"_e{i}": x
                                                         for i, x in enumerate(dcols)})
        j = pts.join(b, pts._pid == b._p2)  # equality joins only on that backend
        j = j.filter(j._t2 <= j._t)
        tl = j.group_by(["_pid", "_t"]).aggregate(
            **{f"_n{i}": j[f"_e{i}"].sum().cast("int64") for i in range(len(atoms))})
    else:
        win = ibis.cumulative_window(group_by="_pid", order_by="_t")
        tl = pts.select("_pid", "_t", **{f"_n{i}": pts[x].sum().over(win)
                                         for i, x in enumerate(dcols)})
    required = {s.requires for s in ladder.stages if s.requires is not None}
    null = ibis.null().cast("int64")

    def when_ok(st: Stage, tl: Any) -> Any:
        ok = _compile(st.rule, atoms, tl)
        if st.requires is not None:  # searched from the date the required stage was reached
            r = tl[f"_r_{st.requires}"]
            ok = ok & r.notnull() & (tl._t >= r)
        return ibis.ifelse(ok, tl._t, null)

    for st in ladder.stages:
        if st.name in required:  # the date it was reached, beside every time point
            per = tl.group_by("_pid").aggregate(**{f"_r_{st.name}": when_ok(st, tl).min()})
            per = per.rename(_rp="_pid")
            tl = tl.join(per, tl._pid == per._rp).drop("_rp")
    per = tl.group_by("_pid").aggregate(
        **{f"_r{k}": when_ok(st, tl).min() for k, st in enumerate(ladder.stages)})
    rank = ibis.null().cast("int64")
    for k in range(len(ladder.names)):
        rank = ibis.ifelse(per[f"_r{k}"].notnull(), ibis.literal(k, type="int64"), rank)
    return per.select("_pid", _rank=rank)



# ---------------------------------------------------------------------------- public

def unbound_tables() -> dict[str, Any]:
    """Unbound tables with the canonical columns the default ladders read (to compile
    SQL without a connection)."""
    ibis = E.ibis_module()
    ts = "timestamp(6)"
    return {
        S.CUSTOMERS: ibis.table({S.CUSTOMER_ID: "string", S.ACQUIRED_AT: ts}, name=S.CUSTOMERS),
        S.ORDERS: ibis.table({S.CUSTOMER_ID: "string", S.ORDERED_AT: ts, S.AMOUNT: "float64",
                              S.PRODUCT_LINE: "string"}, name=S.ORDERS),
        S.CONTACTS: ibis.table({S.CUSTOMER_ID: "string", S.CONTACTED_AT: ts}, name=S.CONTACTS),
        S.REFERRALS: ibis.table({S.REFERRER_ID: "string", S.REFERRED_AT: ts},
                                name=S.REFERRALS),
    }


def _engine_inputs(tables: Any, ladder: Ladder | None, as_of: Any
                   ) -> tuple[dict[str, Any], Ladder, list[str], datetime, str | None]:
    """Checked tables, the measurable ladder, its notes, the date and the backend."""
    if not isinstance(tables, Mapping) or not all(E.is_ibis_table(t) for t in
                                                  tables.values()):
        raise TypeError(f"data: expected a CRMData or a mapping of canonical table names to "
                        f"ibis.Table (e.g. {{'customers': con.table('customers'), 'orders': "
                        f"con.table('orders')}}), got {type(tables).__name__}")
    unknown = sorted(set(tables) - set(S.TABLES))
    if unknown:
        raise ValueError(f"data: unknown table name(s) {unknown}; use the canonical names "
                         f"{sorted(S.TABLES)}")
    for need in (S.CUSTOMERS, S.ORDERS):
        if need not in tables:
            raise ValueError(f"data: the ladder needs a {need!r} table; pass "
                             f"{{'{need}': con.table(...), ...}}")
    tables = dict(tables)
    lad, notes = measurable_ladder(_ladder_arg(ladder),
                                   {k: list(t.columns) for k, t in tables.items()})
    _check_supported(lad)
    backends = {E.backend_name(t) for t in tables.values()}
    if len(backends) > 1:
        raise ValueError(f"data: the tables live in different engines "
                         f"({sorted(map(str, backends))}); put them in one database")
    backend = backends.pop()
    if as_of is None:
        o = tables[S.ORDERS]
        E.require_columns(o, [S.ORDERED_AT])
        hi = o.aggregate(_hi=E.epoch_us(E.timestamp(o, S.ORDERED_AT), backend).max()) \
            .to_polars().item()
        if hi is None:
            raise ValueError("as_of: the orders table is empty, so no default date exists; "
                             "pass as_of explicitly")
        when = datetime(1970, 1, 1) + timedelta(microseconds=int(hi))
    else:
        when = to_datetime(as_of)
    _check_date(tables, lad, when, backend)
    return tables, lad, notes, when, backend


def _check_date(tables: Mapping[str, Any], ladder: Ladder, when: datetime,
                backend: str | None) -> None:
    """Refuse an ``as_of`` before every date the ladder reads, as the polars ladder does
    (one small query per table)."""
    used = set(ladder.tables) | {S.CUSTOMERS, S.ORDERS}
    first, where = None, ""
    for table, spec in S.TABLES.items():
        date_col = spec.event
        if table not in used or table not in tables or date_col not in tables[table].columns:
            continue
        t = tables[table]
        lo = t.aggregate(_lo=E.epoch_us(E.timestamp(t, date_col, name=table),
                                        backend).min()).to_polars().item()
        if lo is not None and (first is None or lo < first):
            first, where = lo, f"{table}.{date_col}"
    if first is None or E.to_us(when) < first:
        day = "no dates" if first is None else \
            f"{datetime(1970, 1, 1) + timedelta(microseconds=int(first)):%Y-%m-%d}"
        raise ValueError(f"as_of={when:%Y-%m-%d} is before all data (the earliest date is "
                         f"{day} in {where or 'the tables'}); pass an as_of on or after it")


def _ladder_arg(ladder: Any) -> Ladder:
    if ladder is None:
        return OFFLINE
    if not isinstance(ladder, Ladder):
        raise TypeError(f"ladder: expected a Ladder such as ll.funnel.OFFLINE, got "
                        f"{type(ladder).__name__}")
    return ladder


def _reference(data: CRMData, ladder: Ladder | None, as_of: Any):
    lad, _ = measurable_ladder(_ladder_arg(ladder), _crm_tables(data))
    return lad.evaluate(data, as_of=resolve_as_of(data, as_of))


def ladder_stages(data: Any, ladder: Ladder | None = None, *, as_of: Any = None,
                  salt: str | None = None, keep_ids: bool = False) -> pl.DataFrame:
    """Each customer's highest loyalty-ladder rung as of a date, computed where the data
    are.

    Given CRMData (polars), this is the stage of :func:`loyaltylab.funnel.assign_stages`
    (the reference). Given ``ibis.Table`` s in a database, the ladder's rules are compiled
    to one query that runs inside that engine, and only one row per person comes back,
    its id pseudonymised there (``salt``).

    Parameters
    ----------
    data : CRMData or mapping of str to ibis.Table
        The tables the rules read, by canonical name: ``customers`` and ``orders``
        always, ``contacts`` and ``referrals`` for the offline ladder's prospect and
        advocate rungs.
    ladder : Ladder, optional
        Default :data:`loyaltylab.funnel.OFFLINE`. Rungs the tables cannot measure are
        left out or simplified as the report does (without a referrals table the offline
        ladder ends at "client"); see :func:`measurable_ladder`. Inside a database, rules
        with ``where=`` and counts of anonymous web sessions are refused.
    as_of : date, datetime or ISO string, optional
        Only events up to this moment count; default the CRMData's ``as_of``, else the
        latest order.
    salt, keep_ids
        As in :func:`rfm_summary`.

    Returns
    -------
    pl.DataFrame
        One row per person on the timeline at ``as_of`` (customers acquired by then and
        anyone with a counted event), sorted by id:

        - ``customer_id``: the person (its pseudonym with ``salt``).
        - ``stage``: the highest rung reached (null when no rule ever held).
        - ``stage_rank``: 0 for the lowest rung of the measured ladder (Int64); without a
          contacts table the offline ladder has no prospect rung, so a client is rank 3.

    Raises
    ------
    ValueError
        A rule the engine cannot run (``where=``, anonymous sessions), a missing
        customers or orders table, ids that could not leave the engine pseudonymised.

    Notes
    -----
    The engine query follows :meth:`loyaltylab.funnel.Ladder.evaluate`: every counted
    quantity becomes step changes at the person's event times (+1 when an event enters
    the count, -1 when it leaves a trailing window; overlapping windows of one product
    line are merged first), summed per person along time with a cumulative window; a rung
    is reached at the first time point its rule holds, a rung with ``requires`` only from
    the date the required rung was reached. Times are compared in whole microseconds
    since 1970 (milliseconds on SQLite). ``tests/test_warehouse_ladder.py`` checks that
    the result equals the polars ladder on DuckDB, SQLite, Ibis' Polars backend and
    PostgreSQL.

    Examples
    --------
    >>> import ibis
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.warehouse import ladder_stages
    >>> con = ibis.duckdb.connect()
    >>> customers = con.create_table("customers", pl.DataFrame({
    ...     "customer_id": ["a", "b", "c"], "acquired_at": [datetime(2024, 1, 1)] * 3}))
    >>> orders = con.create_table("orders", pl.DataFrame({
    ...     "customer_id": ["a", "a", "b"], "product_line": ["x", "y", "x"],
    ...     "ordered_at": [datetime(2024, 2, 1), datetime(2024, 3, 1), datetime(2024, 2, 1)]}))
    >>> ladder_stages({"customers": customers, "orders": orders}, as_of="2024-12-31",
    ...               keep_ids=True).rows()
    [('a', 'client', 3), ('b', 'first_time_customer', 1), ('c', 'suspect', 0)]
    """
    if isinstance(data, CRMData):
        from loyaltylab.funnel import assign_stages
        from loyaltylab.warehouse._summaries import _hash_ids
        tl = _reference(data, ladder, as_of)
        out = assign_stages(tl).filter(pl.col(S.CUSTOMER_ID).is_not_null()).select(
            S.CUSTOMER_ID, pl.col("stage").cast(pl.String), "stage_rank")
        return _hash_ids(out, salt).sort(S.CUSTOMER_ID)
    tables, lad, _, when, backend = _engine_inputs(data, ladder, as_of)
    E.ids_out(tables[S.CUSTOMERS][S.CUSTOMER_ID], salt=salt, keep_ids=keep_ids,
              backend=backend, what="customers")
    q = _ladder_query(tables, lad, T_us=E.to_us(when), backend=backend)
    q = q.select(**{S.CUSTOMER_ID: E.ids_out(q._pid, salt=salt, keep_ids=keep_ids,
                                             backend=backend)}, _rank=q._rank)
    rows = q.to_polars()
    rank = pl.col("_rank").cast(pl.Int64)
    names = pl.lit(pl.Series(lad.names, dtype=pl.String))
    return rows.select(pl.col(S.CUSTOMER_ID).cast(pl.String),
                       pl.when(rank.is_not_null()).then(names.get(rank.fill_null(0)))
                       .alias("stage"), rank.alias("stage_rank")).sort(S.CUSTOMER_ID)


def ladder_counts(data: Any, ladder: Ladder | None = None, *,
                  as_of: Any = None, parts: int = 1) -> pl.DataFrame:
    """People by their highest loyalty-ladder rung as of a date; inside a database only the
    counts leave it (no id, so no salt is needed).

    Parameters
    ----------
    data : CRMData or mapping of str to ibis.Table
        As in :func:`ladder_stages`.
    ladder : Ladder, optional
        As in :func:`ladder_stages` (rungs the data cannot measure are left out).
    as_of : date, datetime or ISO string, optional
        As in :func:`ladder_stages`.
    parts : int, default 1
        Inside a database, count the people in this many queries, each over the people
        whose id hashes to one part: the engine then holds only that part's events at
        once (the query's running sums per person cannot spill to disk in DuckDB, so at
        100M orders one query runs out of an 8 GB memory limit). The counts are the same
        for any number of parts.

    Returns
    -------
    pl.DataFrame
        One row per rung of the measured ladder, lowest first, as
        :meth:`loyaltylab.funnel.Timeline.stage_counts`:

        - ``stage``: rung name
        - ``persons``: people whose highest rung reached is this one (Int64)

    Examples
    --------
    >>> import ibis
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.warehouse import ladder_counts
    >>> con = ibis.duckdb.connect()
    >>> customers = con.create_table("customers", pl.DataFrame({
    ...     "customer_id": ["a", "b", "c"], "acquired_at": [datetime(2024, 1, 1)] * 3}))
    >>> orders = con.create_table("orders", pl.DataFrame({
    ...     "customer_id": ["a", "a", "b"], "product_line": ["x", "y", "x"],
    ...     "ordered_at": [datetime(2024, 2, 1), datetime(2024, 3, 1), datetime(2024, 2, 1)]}))
    >>> ladder_counts({"customers": customers, "orders": orders}, as_of="2024-12-31").rows()
    [('suspect', 1), ('first_time_customer', 1), ('repeat_customer', 0), ('client', 1)]
    """
    if isinstance(data, CRMData):
        return _reference(data, ladder, as_of).stage_counts()
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise ValueError(f"parts: expected a whole number of at least 1, got {parts!r}")
    tables, lad, _, when, backend = _engine_inputs(data, ladder, as_of)
    got: dict[int, int] = {}
    for i in range(parts):
        q = _ladder_query(tables, lad, T_us=E.to_us(when), backend=backend,
                          part=None if parts == 1 else (i, parts))
        counts = q.group_by("_rank").aggregate(_n=q.count()).to_polars()
        for r, n in counts.iter_rows():
            if r is not None:
                got[int(r)] = got.get(int(r), 0) + int(n)
    return pl.DataFrame({"stage": lad.names,
                         "persons": [got.get(k, 0) for k in range(len(lad.names))]},
                        schema={"stage": pl.String, "persons": pl.Int64})
