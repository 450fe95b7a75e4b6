"""Where people stand: stages, the funnel and its step conversions, group comparisons,
skipped stages and jumps."""

from __future__ import annotations

from datetime import timedelta
from collections.abc import Sequence

import numpy as np
import polars as pl

from loyaltylab._stats import wilson_exprs
from loyaltylab._util import attach_by, normalize_by
from loyaltylab.data.crmdata import CRMData
from loyaltylab.funnel._engine import _KEY, _T, _activity
from loyaltylab.funnel._timeline import (AsOf, Timeline, _id_columns, _ids, _prepare,
                                         _stage_columns)
from loyaltylab.funnel.ladder import OFFLINE, Ladder

__all__ = ["assign_stages", "funnel", "compare_groups", "skipped_stages", "stage_jumps"]


def assign_stages(data: CRMData | Timeline, ladder: Ladder | None = None, *,
                  as_of: AsOf = None,
                  lapse_after: str | int | timedelta = "365d") -> pl.DataFrame:
    """Place every customer on a loyalty ladder at ``as_of``.

    Parameters
    ----------
    data : CRMData or Timeline
        The data, or a :class:`Timeline` from :meth:`Ladder.evaluate` (the ladder is then
        not evaluated again).
    ladder : Ladder, optional
        :data:`OFFLINE` (the default with data), :data:`ONLINE` or a custom
        :class:`Ladder`; with a timeline, its own ladder.
    as_of : date, datetime or ISO string, optional
        Only events up to this date count (default ``data.as_of``, else the last order;
        with a timeline, its date; an earlier date is read off the timeline).
    lapse_after : str, default "365d"
        A person with at least one order or contact, but none in the trailing
        ``lapse_after`` (the window (as_of - lapse_after, as_of]), is lapsed.

    Returns
    -------
    pl.DataFrame
        One row per person known at ``as_of`` (customers acquired or active by then; on the
        online ladder also visitors who never identified themselves):

        - customer_id: customer (null for a never-identified visitor)
        - visitor_id: only on ladders that read web sessions; the visitor id of a
          never-identified visitor, null for customers
        - stage: highest stage reached by ``as_of`` (Enum in ladder order; null when no
          stage rule ever held, e.g. a customer with no web session and no order on the
          online ladder)
        - stage_rank: 0 for the lowest stage
        - lapsed: had an order or contact, but none in the trailing ``lapse_after``
        - last_active_at: last order or contact up to ``as_of`` (null if none)
        - reached_<stage>: one column per stage, when it was first reached (null when it
          never was, or was skipped)
        - skipped: list of the stages below ``stage`` that were never reached

    Notes
    -----
    A stage is reached on the first date its rule holds on the events up to that date
    (trailing windows are measured back from that date); a stage with ``requires`` is
    searched only from the date the required stage was reached. A stage first reached
    only after a higher stage had been reached counts as skipped. The stage is the highest
    rung reached: a client whose ordering later slows stays a client, and the ``lapsed``
    flag, :func:`transition_matrix` and :func:`business_change_effect` show who fell away.

    The rules run as one polars lazy query: every counted quantity becomes a series of
    step changes (+1 when an event enters the count, -1 when it leaves a trailing window),
    summed per person along time, so no rolling windows or per-person loops are needed.
    Persons are grouped and sorted on a 64-bit hash of their id (a seed under which no
    two known ids collide is chosen first); data with many events are evaluated in
    slices of persons, which bounds memory (1 million customers and 30 million events:
    about 20 s and 1.2 GB on two cores). That evaluation is the costly part: evaluate once
    with :meth:`Ladder.evaluate` and pass the :class:`Timeline` to every analysis.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> st = ll.funnel.assign_stages(ll.datasets.load_sample())
    >>> st.columns[:6]
    ['customer_id', 'stage', 'stage_rank', 'lapsed', 'last_active_at', 'reached_suspect']
    >>> st.height
    5000
    """
    timeline, lapse = _prepare(data, ladder, as_of, lapse_after)
    return _assign(timeline, lapse).collect()


def _assign(timeline: Timeline, lapse: timedelta) -> pl.LazyFrame:
    ladder, as_of = timeline.ladder, timeline.as_of
    reached = timeline._per.lazy()
    last = (_activity(timeline.data, as_of, timeline._seed).group_by(_KEY)
            .agg(pl.col(_T).max().alias("last_active_at")))
    names = ladder.names
    rank_cols = _stage_columns(ladder)
    skipped = pl.concat_list([
        pl.when(pl.col(f"reached_{n}").is_null() & (pl.col("stage_rank") > k))
        .then(pl.lit(n)).otherwise(None) for k, n in enumerate(names)]).list.drop_nulls()
    return (reached.join(last, on=_KEY, how="left")
            .with_columns(rank_cols)
            .with_columns(
                (pl.col("last_active_at").is_not_null()
                 & (pl.col("last_active_at") <= as_of - lapse)).alias("lapsed"),
                skipped.alias("skipped"))
            .select(*_ids(ladder), "stage", "stage_rank", "lapsed", "last_active_at",
                    *[f"reached_{n}" for n in names], "skipped")
            .sort(_id_columns(ladder), nulls_last=True))


def _stages_with_by(data, ladder, as_of, lapse_after, by
                    ) -> tuple[pl.DataFrame, list[str], Timeline]:
    """The stages (with the ``by`` columns attached) and the timeline they come from."""
    timeline, lapse = _prepare(data, ladder, as_of, lapse_after)
    stages = _assign(timeline, lapse).collect()
    cols = normalize_by(by)
    if cols:
        stages = attach_by(stages, timeline.data.customers, cols)
        stages = stages.with_columns([pl.col(c).cast(pl.String).fill_null("(missing)")
                                      for c in cols])
    return stages, cols, timeline


def _chi2(table: np.ndarray) -> tuple[float, float, int]:
    from scipy.stats import chi2_contingency

    table = table[table.sum(axis=1) > 0]
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return float("nan"), float("nan"), 0
    res = chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue), int(res.dof)


def funnel(data: CRMData | Timeline, ladder: Ladder | None = None, *,
           as_of: AsOf = None,
           by: str | Sequence[str] | None = None, lapse_after: str = "365d",
           confidence: float = 0.95) -> pl.DataFrame:
    """The ladder funnel: how many reached each stage or beyond, and the step conversions.

    Parameters
    ----------
    data : CRMData or Timeline
        The data, or a :class:`Timeline` from :meth:`Ladder.evaluate` (the ladder is then
        not evaluated again).
    ladder : Ladder, optional
        :data:`OFFLINE` (the default with data), :data:`ONLINE` or a custom
        :class:`Ladder`; with a timeline, its own ladder.
    as_of, lapse_after
        As in :func:`assign_stages`.
    by : str or list of str, optional
        Customer attribute(s) to split by (segment, acquisition_channel, ...); adds a
        test per step of whether the groups convert at the same rate.
    confidence : float, default 0.95
        Coverage of the Wilson intervals.

    Returns
    -------
    pl.DataFrame
        One row per (group and) stage, lowest stage first:

        - ``by`` columns, when given (missing values as "(missing)")
        - stage: stage name; stage_rank: 0 for the lowest
        - reached: persons whose highest stage is this one or a higher one
        - share_of_top: reached / persons on the ladder (reached at rank 0)
        - at_stage: persons whose highest stage is this one
        - lapsed: of those at this stage, how many are lapsed
        - converted: of ``reached``, how many reached the next stage or beyond (null on
          the top stage)
        - conversion: converted / reached, the step conversion to the next stage
        - ci_low, ci_high: Wilson interval of ``conversion``
        - chi2, dof, p_value (only with ``by``): Pearson chi-square test (no continuity
          correction) that all groups share the step's conversion; with two groups it is
          the pooled two-proportion z-test (chi2 = z^2)

    Examples
    --------
    >>> import loyaltylab as ll
    >>> f = ll.funnel.funnel(ll.datasets.load_sample())
    >>> f["stage"].to_list()[:3]
    ['suspect', 'prospect', 'first_time_customer']
    >>> bool((f["reached"].diff().drop_nulls() <= 0).all())
    True
    """
    stages, cols, timeline = _stages_with_by(data, ladder, as_of, lapse_after, by)
    ladder = timeline.ladder
    stages = stages.filter(pl.col("stage_rank").is_not_null())
    grid = pl.DataFrame({"stage_rank": list(range(len(ladder.names))),
                         "stage": ladder.names},
                        schema={"stage_rank": pl.Int64, "stage": pl.String})
    if cols:
        grid = stages.select(cols).unique().join(grid, how="cross")
    counts = (stages.group_by(*cols, "stage_rank")
              .agg(pl.len().alias("at_stage"), pl.col("lapsed").sum().alias("lapsed")))
    top = len(ladder.names) - 1
    out = (grid.join(counts, on=[*cols, "stage_rank"], how="left")
           .with_columns(pl.col("at_stage").fill_null(0).cast(pl.Int64),
                         pl.col("lapsed").fill_null(0).cast(pl.Int64))
           .sort(*cols, "stage_rank")
           .with_columns(pl.col("at_stage").reverse().cum_sum().reverse()
                         .over(cols or pl.lit(1)).alias("reached")))
    out = out.with_columns(
        (pl.col("reached") / pl.col("reached").first().over(cols or pl.lit(1)))
        .alias("share_of_top"),
        pl.when(pl.col("stage_rank") < top)
        .then(pl.col("reached").shift(-1).over(cols or pl.lit(1))).alias("converted"))
    out = out.with_columns(
        pl.when(pl.col("reached") > 0).then(pl.col("converted") / pl.col("reached"))
        .alias("conversion"),
        *wilson_exprs("converted", "reached", confidence=confidence))
    select = [*cols, "stage", "stage_rank", "reached", "share_of_top", "at_stage", "lapsed",
              "converted", "conversion", "ci_low", "ci_high"]
    if cols:
        tests = []
        for k in range(top):
            step = out.filter(pl.col("stage_rank") == k)
            conv = step["converted"].to_numpy().astype(float)
            tab = np.column_stack([conv, step["reached"].to_numpy() - conv])
            chi2, p, dof = _chi2(tab)
            tests.append({"stage_rank": k, "chi2": chi2, "dof": dof, "p_value": p})
        tests.append({"stage_rank": top, "chi2": None, "dof": None, "p_value": None})
        test = pl.DataFrame(tests, schema={"stage_rank": pl.Int64, "chi2": pl.Float64,
                                           "dof": pl.Int64, "p_value": pl.Float64})
        out = out.join(test, on="stage_rank", how="left").with_columns(
            pl.col("chi2").fill_nan(None), pl.col("p_value").fill_nan(None))
        select += ["chi2", "dof", "p_value"]
    return out.select(select).sort(*cols, "stage_rank")


def compare_groups(data: CRMData | Timeline, ladder: Ladder | None = None, *,
                   by: str, groups: tuple[str, str], as_of: AsOf = None, lapse_after: str = "365d",
                   confidence: float = 0.95) -> pl.DataFrame:
    """Two groups' step conversions side by side, with the difference, its interval and a test.

    The ``by=`` :func:`funnel` tests whether *all* groups convert alike at each step; this
    answers the usual follow-up question: does group A convert better than group B, by how
    much, and at which steps?

    Parameters
    ----------
    data : CRMData or Timeline
        The data, or a :class:`Timeline` from :meth:`Ladder.evaluate` (the ladder is then
        not evaluated again).
    ladder : Ladder, optional
        :data:`OFFLINE` (the default with data), :data:`ONLINE` or a custom
        :class:`Ladder`; with a timeline, its own ladder.
    by : str
        Customer attribute that holds the groups (segment, reward_scheme, ...).
    groups : (str, str)
        The two values of ``by`` to compare, A first.
    as_of, lapse_after
        As in :func:`assign_stages`.
    confidence : float, default 0.95
        Coverage of the intervals.

    Returns
    -------
    pl.DataFrame
        One row per step (every stage but the top one), lowest first:

        - stage, next_stage: the step from ``stage`` to ``next_stage`` or beyond
        - group_a, group_b: the two groups compared
        - reached_a, converted_a, conversion_a: group A's persons who reached the stage,
          of whom converted, and the share (likewise ``_b`` for group B)
        - difference: conversion_a - conversion_b
        - ci_low, ci_high: Newcombe's hybrid score interval of the difference (method 10
          of Newcombe 1998, built on the Wilson intervals of the two shares)
        - z, p_value: pooled two-proportion z-test of equal conversions (two-sided)
        - p_holm: p-values adjusted for testing every step (Holm 1979)

    Raises
    ------
    ValueError
        A group that is not a value of ``by`` (the values present are named).

    Examples
    --------
    >>> import loyaltylab as ll
    >>> c = ll.funnel.compare_groups(ll.datasets.load_sample(), by="reward_scheme",
    ...                              groups=("every_purchase", "first_time_discount"))
    >>> c.columns[:4]
    ['stage', 'next_stage', 'group_a', 'group_b']
    >>> bool((c["ci_low"] <= c["difference"]).all() and (c["difference"] <= c["ci_high"]).all())
    True
    """
    from loyaltylab._stats import holm, newcombe_interval, two_proportion_test

    if not isinstance(groups, (tuple, list)) or len(groups) != 2:
        raise ValueError(f"groups: expected two values of {by!r}, e.g. "
                         f"groups=('every_purchase', 'first_time_discount'); got {groups!r}")
    f = funnel(data, ladder, as_of=as_of, by=by, lapse_after=lapse_after,
               confidence=confidence)
    present = sorted(str(v) for v in f.get_column(by).unique().to_list())
    for g in groups:
        if str(g) not in present:
            raise ValueError(f"groups: {g!r} is not a value of {by!r}; values: {present}")
    a, b = (f.filter(pl.col(by) == str(g)).sort("stage_rank") for g in groups)
    names = (data.ladder if isinstance(data, Timeline)
             else OFFLINE if ladder is None else ladder).names
    rows = []
    for ra, rb in zip(a.iter_rows(named=True), b.iter_rows(named=True)):
        if ra["stage_rank"] + 1 >= len(names):
            continue
        k1, n1, k2, n2 = ra["converted"] or 0, ra["reached"], rb["converted"] or 0, rb["reached"]
        lo, hi = newcombe_interval(k1, n1, k2, n2, confidence=confidence)
        z, p = two_proportion_test(k1, n1, k2, n2)
        rows.append({
            "stage": ra["stage"], "next_stage": names[ra["stage_rank"] + 1],
            "group_a": str(groups[0]), "group_b": str(groups[1]),
            "reached_a": n1, "converted_a": k1, "conversion_a": k1 / n1 if n1 else None,
            "reached_b": n2, "converted_b": k2, "conversion_b": k2 / n2 if n2 else None,
            "difference": (k1 / n1 - k2 / n2) if n1 and n2 else None,
            "ci_low": None if lo != lo else lo, "ci_high": None if hi != hi else hi,
            "z": None if z != z else z, "p_value": None if p != p else p})
    out = pl.DataFrame(rows, schema={
        "stage": pl.String, "next_stage": pl.String, "group_a": pl.String,
        "group_b": pl.String, "reached_a": pl.Int64, "converted_a": pl.Int64,
        "conversion_a": pl.Float64, "reached_b": pl.Int64, "converted_b": pl.Int64,
        "conversion_b": pl.Float64, "difference": pl.Float64, "ci_low": pl.Float64,
        "ci_high": pl.Float64, "z": pl.Float64, "p_value": pl.Float64})
    return out.with_columns(pl.Series("p_holm", holm(out.get_column("p_value").to_list()),
                                      dtype=pl.Float64))


def skipped_stages(data: CRMData | Timeline, ladder: Ladder | None = None, *,
                   as_of: AsOf = None,
                   by: str | Sequence[str] | None = None,
                   confidence: float = 0.95) -> pl.DataFrame:
    """How often each stage is jumped over.

    A stage is *passed* by everyone whose highest stage is above it, and *skipped* by those
    of them who never reached it (a walk-in buyer skips suspect and prospect).

    Parameters
    ----------
    data, ladder, as_of
        As in :func:`assign_stages` (``data`` may be a :class:`Timeline`).
    by : str or list of str, optional
        Customer attribute(s) to split by.
    confidence : float, default 0.95
        Coverage of the Wilson intervals.

    Returns
    -------
    pl.DataFrame
        One row per (group and) stage below the top:

        - ``by`` columns, when given
        - stage, stage_rank
        - passed: persons whose highest stage is above this one
        - skipped: of them, persons who never reached this stage
        - share: skipped / passed
        - ci_low, ci_high: Wilson interval of ``share``

    Examples
    --------
    >>> import loyaltylab as ll
    >>> sk = ll.funnel.skipped_stages(ll.datasets.load_sample())
    >>> sk.columns
    ['stage', 'stage_rank', 'passed', 'skipped', 'share', 'ci_low', 'ci_high']
    """
    stages, cols, timeline = _stages_with_by(data, ladder, as_of, "365d", by)
    ladder = timeline.ladder
    stages = stages.filter(pl.col("stage_rank").is_not_null())
    frames = []
    for k, n in enumerate(ladder.names[:-1]):
        passed = stages.filter(pl.col("stage_rank") > k)
        grp = (passed.group_by(cols) if cols else passed.group_by(pl.lit(1).alias("_all")))
        agg = grp.agg(pl.len().cast(pl.Int64).alias("passed"),
                      pl.col(f"reached_{n}").is_null().sum().cast(pl.Int64)
                      .alias("skipped"))
        if not cols:
            agg = agg.drop("_all")
        frames.append(agg.with_columns(pl.lit(n).alias("stage"),
                                       pl.lit(k, dtype=pl.Int64).alias("stage_rank")))
    out = pl.concat(frames, how="vertical")
    return (out.with_columns(
                pl.when(pl.col("passed") > 0).then(pl.col("skipped") / pl.col("passed"))
                .alias("share"),
                *wilson_exprs("skipped", "passed", confidence=confidence))
            .select(*cols, "stage", "stage_rank", "passed", "skipped", "share", "ci_low",
                    "ci_high")
            .sort(*cols, "stage_rank"))


def stage_jumps(data: CRMData | Timeline, ladder: Ladder | None = None, *,
                as_of: AsOf = None,
                by: str | Sequence[str] | None = None) -> pl.DataFrame:
    """Every step between consecutive stages a person reached, with the stages jumped.

    Parameters
    ----------
    data, ladder, as_of
        As in :func:`assign_stages` (``data`` may be a :class:`Timeline`).
    by : str or list of str, optional
        Customer attribute(s) to split by.

    Returns
    -------
    pl.DataFrame
        One row per (group,) from-stage and to-stage observed:

        - ``by`` columns, when given
        - from_stage: the stage left ("(entry)" for the first stage a person reached)
        - to_stage: the next stage the person reached
        - stages_skipped: how many stages lie between them
        - n: persons who made this step
        - share: n / all persons who left ``from_stage`` (entered, for "(entry)")
        - same_day: of them, how many reached ``to_stage`` on the day they reached
          ``from_stage`` (e.g. a buyer on the first identified visit)
        - median_days: median days between the two stages

    Examples
    --------
    >>> import loyaltylab as ll
    >>> j = ll.funnel.stage_jumps(ll.datasets.load_sample())
    >>> int(j.filter(j["from_stage"] == "(entry)")["n"].sum()) == 5000
    True
    """
    stages, cols, timeline = _stages_with_by(data, ladder, as_of, "365d", by)
    ladder = timeline.ladder
    names = ladder.names
    long = (stages.filter(pl.col("stage_rank").is_not_null())
            .with_row_index("_row")
            .unpivot(index=["_row", *cols], on=[f"reached_{n}" for n in names],
                     variable_name="_stage", value_name="_at")
            .filter(pl.col("_at").is_not_null())
            .with_columns(pl.col("_stage").str.slice(len("reached_")).alias("to_stage"))
            .with_columns(pl.col("to_stage").replace_strict(
                {n: k for k, n in enumerate(names)}, return_dtype=pl.Int64).alias("_k"))
            .sort("_row", "_k")
            .with_columns(pl.col("to_stage").shift(1).over("_row").alias("from_stage"),
                          pl.col("_k").shift(1).over("_row").alias("_kfrom"),
                          pl.col("_at").shift(1).over("_row").alias("_from_at")))
    long = long.with_columns(
        pl.col("from_stage").fill_null("(entry)"),
        (pl.col("_k") - pl.col("_kfrom").fill_null(-1) - 1).alias("stages_skipped"),
        (pl.col("_at") - pl.col("_from_at")).dt.total_days().alias("_days"))
    out = (long.group_by(*cols, "from_stage", "to_stage", "stages_skipped", "_kfrom", "_k")
           .agg(pl.len().cast(pl.Int64).alias("n"),
                (pl.col("_days") == 0).sum().cast(pl.Int64).alias("same_day"),
                pl.col("_days").median().alias("median_days")))
    out = out.with_columns((pl.col("n") / pl.col("n").sum().over(*cols, "from_stage"))
                           .alias("share"))
    return (out.sort(*cols, pl.col("_kfrom").fill_null(-1), "_k")
            .select(*cols, "from_stage", "to_stage", "stages_skipped", "n", "share",
                    "same_day", "median_days"))


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
