"""Moves between stages: transition matrices, Markov projections of the mix, the
outlook of reaching the top, and the stage mix over time."""

from __future__ import annotations

from datetime import date, datetime
from collections.abc import Sequence

import numpy as np
import polars as pl

from loyaltylab._util import (attach_by, normalize_by, parse_window, period_every,
                              to_datetime)
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.funnel._engine import _PID, _earliest, _ensure_data
from loyaltylab.funnel._timeline import AsOf, Timeline, _at, _inputs, _person_states, _prepare
from loyaltylab.funnel.ladder import LAPSED, Ladder

__all__ = ["transition_matrix", "project_mix", "advocacy_outlook", "stage_mix"]


def _states(ladder: Ladder) -> list[str]:
    return [*ladder.names, LAPSED]


def transition_matrix(data: CRMData | Timeline, ladder: Ladder | None = None, *,
                      start: date | datetime | str, end: AsOf = None,
                      by: str | Sequence[str] | None = None, lapse_after: str = "365d",
                      normalize: bool = True) -> pl.DataFrame:
    """Stage at ``start`` against state at ``end``, with lapsed as its own state.

    Only persons on the ladder at ``start`` are counted. Since a stage is the highest rung
    reached, people only move up or lapse (and a lapsed person who is active again
    returns to the stage reached).

    Parameters
    ----------
    data : CRMData or Timeline
        The data, or a :class:`Timeline` from :meth:`Ladder.evaluate` evaluated on or
        after ``end``.
    ladder : Ladder, optional
        As in :func:`assign_stages` (default :data:`OFFLINE`).
    start, end : date, datetime or ISO string
        ``start < end <= as_of``; ``end`` defaults to the date of the data (or of the
        timeline).
    by : str or list of str, optional
        Customer attribute(s): one matrix per group.
    normalize : bool, default True
        Row shares (each row sums to 1); False gives counts.

    Returns
    -------
    pl.DataFrame
        One row per (group and) state at ``start`` that occurs:

        - ``by`` columns, when given
        - from_state: stage (or "lapsed") at ``start``
        - n: persons in that state at ``start``
        - one column per state (stages in ladder order, then "lapsed"): share (or count)
          of them in that state at ``end``

    Examples
    --------
    >>> import loyaltylab as ll
    >>> m = ll.funnel.transition_matrix(ll.datasets.load_sample(), start="2024-01-01",
    ...                                 end="2025-01-01")
    >>> m.columns[:3], m.columns[-1]
    (['from_state', 'n', 'suspect'], 'lapsed')
    """
    if not isinstance(data, Timeline):
        data = _ensure_data(data)
    start = to_datetime(start, name="start")
    if end is not None:
        end = to_datetime(end, name="end")
        if not start < end:
            raise ValueError(f"start={start:%Y-%m-%d} must be before end={end:%Y-%m-%d}")
    source, ladder, end = _inputs(data, ladder, end)
    if not start < end:
        raise ValueError(f"start={start:%Y-%m-%d} must be before end={end:%Y-%m-%d}")
    lapse = parse_window(lapse_after, name="lapse_after")
    customers = source.data.customers if isinstance(source, Timeline) else source.customers
    first, _ = _earliest(source.data if isinstance(source, Timeline) else source, ladder)
    if start < first:
        raise ValueError(f"start={start:%Y-%m-%d} is before all data (the earliest date is "
                         f"{first}); pass a later start")
    states = _person_states(_at(source, ladder, end), lapse, [start, end])
    cols = normalize_by(by)
    frame = states.filter(pl.col("_s0").is_not_null())
    if cols:
        ids = frame.select(pl.col(_PID).alias(S.CUSTOMER_ID), "_s0", "_s1").collect()
        frame = attach_by(ids, customers, cols).with_columns(
            [pl.col(c).cast(pl.String).fill_null("(missing)") for c in cols]).lazy()
    return _matrix(frame.select(*cols, "_s0", "_s1").collect(), ladder, cols, normalize)


def _matrix(pairs: pl.DataFrame, ladder: Ladder, cols: list[str],
            normalize: bool) -> pl.DataFrame:
    states = _states(ladder)
    counts = pairs.group_by(*cols, "_s0", "_s1").agg(pl.len().alias("_n"))
    wide = counts.pivot(on="_s1", index=[*cols, "_s0"], values="_n")
    for s in states:
        if s not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.UInt32).alias(s))
    wide = wide.with_columns([pl.col(s).fill_null(0).cast(pl.Int64) for s in states])
    wide = wide.with_columns(pl.sum_horizontal(states).alias("n"))
    if normalize:
        wide = wide.with_columns([(pl.col(s) / pl.col("n")) for s in states])
    order = {s: k for k, s in enumerate(states)}
    return (wide.rename({"_s0": "from_state"})
            .with_columns(pl.col("from_state").replace_strict(order, return_dtype=pl.Int64)
                          .alias("_k"))
            .sort(*cols, "_k").select(*cols, "from_state", "n", *states))


def _markov(matrix: pl.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    if "from_state" not in matrix.columns or "n" not in matrix.columns:
        raise ValueError("matrix: expected the output of transition_matrix (columns "
                         "from_state, n and one per state)")
    states = [c for c in matrix.columns[matrix.columns.index("n") + 1:]]
    extra = [c for c in matrix.columns[:matrix.columns.index("from_state")]]
    if extra:
        raise ValueError(f"matrix: has by= columns {extra}; filter one group first, e.g. "
                         f"matrix.filter(pl.col({extra[0]!r}) == ...)")
    rows = {r["from_state"]: r for r in matrix.iter_rows(named=True)}
    P = np.zeros((len(states), len(states)))
    n = np.zeros(len(states))
    for i, s in enumerate(states):
        r = rows.get(s)
        if r is None or not r["n"]:
            P[i, i] = 1.0                      # unobserved state: assumed to stay
            continue
        vals = np.array([float(r[t]) for t in states])
        P[i] = vals / vals.sum()
        n[i] = r["n"]
    return states, P, n


def project_mix(matrix: pl.DataFrame, *, periods: int = 5,
                start: dict[str, float] | None = None) -> pl.DataFrame:
    """Project the state mix ``periods`` steps ahead, treating the transition matrix as a
    time-homogeneous first-order Markov chain.

    One period is the span between the matrix's ``start`` and ``end`` dates. Assumptions:
    the moves observed in that period repeat unchanged (same probabilities each period,
    no memory beyond the current state), the population is closed (no new customers), and a
    state observed for nobody at the start keeps its members.

    Parameters
    ----------
    matrix : pl.DataFrame
        Output of :func:`transition_matrix` (one group; shares or counts).
    periods : int, default 5
    start : dict, optional
        State -> count or share at period 0; default the matrix's own starting mix (``n``).

    Returns
    -------
    pl.DataFrame
        - period: 0 .. periods
        - state: stage name or "lapsed"
        - share: expected share of the population in that state, ``mix_0 @ P^period``

    Examples
    --------
    >>> import polars as pl
    >>> m = pl.DataFrame({"from_state": ["a", "b", "lapsed"], "n": [10, 10, 0],
    ...                   "a": [0.5, 0.0, 0.0], "b": [0.5, 1.0, 0.0],
    ...                   "lapsed": [0.0, 0.0, 1.0]})
    >>> project_mix(m, periods=2).filter(pl.col("period") == 2)["share"].to_list()
    [0.125, 0.875, 0.0]
    """
    states, P, n = _markov(matrix)
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 0:
        raise ValueError(f"periods: expected a whole number >= 0, got {periods!r}")
    if start is None:
        mix = n
    else:
        unknown = set(start) - set(states)
        if unknown:
            raise ValueError(f"start: unknown states {sorted(unknown)}; states: {states}")
        mix = np.array([float(start.get(s, 0.0)) for s in states])
    if mix.sum() <= 0:
        raise ValueError("start: the starting mix is empty (all counts zero)")
    mix = mix / mix.sum()
    rows = []
    for t in range(periods + 1):
        rows += [{"period": t, "state": s, "share": float(v)} for s, v in zip(states, mix)]
        mix = mix @ P
    return pl.DataFrame(rows, schema={"period": pl.Int64, "state": pl.String,
                                      "share": pl.Float64})


def advocacy_outlook(matrix: pl.DataFrame, *, target: str | None = None,
                     lapsed_absorbing: bool = True, periods: int | None = None
                     ) -> pl.DataFrame:
    """From each state: the chance of ever reaching ``target`` (default the top stage)
    and the expected number of periods to get there, by absorbing-chain algebra.

    ``target`` is made absorbing; with ``lapsed_absorbing=True`` lapsing is treated as
    leaving the ladder for good, so each person ends either at the target or lapsed.
    With Q the transient-to-transient block and R the transient-to-absorbing block, the
    fundamental matrix is N = (I - Q)^-1, the absorption probabilities B = N R, and the
    expected number of periods to reach the target given that it is reached is
    (N b)_i / b_i, with b the target column of B (Kemeny & Snell 1960, ch. III).

    Parameters
    ----------
    matrix : pl.DataFrame
        Output of :func:`transition_matrix` (one group).
    target : str, optional
        Stage to reach (default the last state before "lapsed").
    lapsed_absorbing : bool, default True
        False keeps the observed moves out of lapsed (reactivation).
    periods : int, optional
        Also report the chance of reaching ``target`` within this many periods.

    Returns
    -------
    pl.DataFrame
        One row per starting state, plus a row "(all)" weighted by the starting mix:

        - from_state: state now
        - n: persons in it at the matrix's start
        - p_reach: probability of ever reaching ``target``
        - expected_periods: expected periods to reach it, given that it is reached (null
          when it cannot be)
        - p_within: probability of being at ``target`` within ``periods`` (only when
          ``periods`` is given)

    Examples
    --------
    >>> import polars as pl
    >>> m = pl.DataFrame({"from_state": ["a", "top", "lapsed"], "n": [10, 0, 0],
    ...                   "a": [0.5, 0.0, 0.0], "top": [0.25, 1.0, 0.0],
    ...                   "lapsed": [0.25, 0.0, 1.0]})
    >>> advocacy_outlook(m)["p_reach"].to_list()[0]
    0.5
    """
    states, P, n = _markov(matrix)
    target = target or [s for s in states if s != LAPSED][-1]
    if target not in states:
        raise ValueError(f"target={target!r} is not a state of the matrix; states: {states}")
    P = P.copy()
    t = states.index(target)
    absorbing = {t}
    if lapsed_absorbing and LAPSED in states:
        absorbing.add(states.index(LAPSED))
    for a in absorbing:
        P[a] = 0.0
        P[a, a] = 1.0
    # states from which the target can be reached at all
    reach = {t}
    changed = True
    while changed:
        changed = False
        for i in range(len(states)):
            if i not in reach and i not in absorbing and any(P[i, j] > 0 for j in reach):
                reach.add(i)
                changed = True
    trans = [i for i in range(len(states)) if i not in absorbing and i in reach]
    p_reach = np.zeros(len(states))
    exp_t = np.full(len(states), np.nan)
    p_reach[t], exp_t[t] = 1.0, 0.0
    if trans:
        Q = P[np.ix_(trans, trans)]
        b_direct = P[trans, t]
        N = np.linalg.inv(np.eye(len(trans)) - Q)
        b = N @ b_direct
        with np.errstate(divide="ignore", invalid="ignore"):
            e = (N @ b) / b
        p_reach[trans] = b
        exp_t[trans] = np.where(b > 0, e, np.nan)
    rows = [{"from_state": s, "n": int(n[i]), "p_reach": float(p_reach[i]),
             "expected_periods": None if not np.isfinite(exp_t[i]) else float(exp_t[i])}
            for i, s in enumerate(states)]
    w = n / n.sum() if n.sum() > 0 else np.zeros_like(n)
    finite = np.isfinite(exp_t) & (p_reach > 0)
    tot = float((w * p_reach).sum())
    exp_all = (float((w * p_reach * np.where(finite, exp_t, 0)).sum() / tot)
               if tot > 0 else None)
    rows.append({"from_state": "(all)", "n": int(n.sum()), "p_reach": tot,
                 "expected_periods": exp_all})
    out = pl.DataFrame(rows, schema={"from_state": pl.String, "n": pl.Int64,
                                     "p_reach": pl.Float64, "expected_periods": pl.Float64})
    if periods is not None:
        Pk = np.linalg.matrix_power(P, int(periods))
        within = list(Pk[:, t]) + [float((w * Pk[:, t]).sum())]
        out = out.with_columns(pl.Series("p_within", within, dtype=pl.Float64))
    return out


def stage_mix(data: CRMData | Timeline, ladder: Ladder | None = None, *,
              every: str = "month", start: AsOf = None, as_of: AsOf = None,
              lapse_after: str = "365d") -> pl.DataFrame:
    """How many people stand at each stage (or are lapsed) at the end of each period.

    Parameters
    ----------
    data : CRMData or Timeline
        The data, or a :class:`Timeline` from :meth:`Ladder.evaluate`.
    ladder : Ladder, optional
        As in :func:`assign_stages` (default :data:`OFFLINE`).
    every : str, default "month"
        Period length ("day", "week", "month", "quarter", "year").
    start : date, datetime or ISO string, optional
        First period (default: the earliest date in the data).
    as_of, lapse_after
        As in :func:`assign_stages`.

    Returns
    -------
    pl.DataFrame
        One row per date and state:

        - date: end of the period (the first instant of the next period, capped at as_of)
        - state: stage name or "lapsed"
        - n: persons in that state at ``date``
        - share: n / persons on the ladder at ``date``

    Examples
    --------
    >>> import loyaltylab as ll
    >>> mix = ll.funnel.stage_mix(ll.datasets.load_sample(), every="year")
    >>> mix["date"].n_unique()
    3
    """
    timeline, lapse = _prepare(data, ladder, as_of, lapse_after)
    ladder, as_of = timeline.ladder, timeline.as_of
    first, _ = _earliest(timeline.data, ladder)
    start = to_datetime(start, name="start") if start is not None else first
    every_ = period_every(every)
    dates = pl.datetime_range(start, as_of, every_, eager=True).dt.truncate(every_)
    dates = sorted({d for d in dates.dt.offset_by(every_).to_list() if d <= as_of}
                   | ({as_of} if every_ == "1d" else set()))
    if not dates:
        dates = [as_of]
    states = _person_states(timeline, lapse, dates).collect()
    frames = []
    for i, d in enumerate(dates):
        frames.append(states.filter(pl.col(f"_s{i}").is_not_null())
                      .group_by(pl.col(f"_s{i}").alias("state"))
                      .agg(pl.len().cast(pl.Int64).alias("n"))
                      .with_columns(pl.lit(d, dtype=pl.Datetime("us")).alias("date")))
    order = {s: k for k, s in enumerate(_states(ladder))}
    grid = pl.DataFrame({"date": dates}, schema={"date": pl.Datetime("us")}).join(
        pl.DataFrame({"state": _states(ladder)}), how="cross")
    out = grid.join(pl.concat(frames), on=["date", "state"], how="left").with_columns(
        pl.col("n").fill_null(0))
    return (out.with_columns((pl.col("n") / pl.col("n").sum().over("date")).alias("share"),
                             pl.col("state").replace_strict(order, return_dtype=pl.Int64)
                             .alias("_k"))
            .sort("date", "_k").select("date", "state", "n", "share"))


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
