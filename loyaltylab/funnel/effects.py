"""Effects around the ladder: a business change before and after, and the attention each
stage gets."""

from __future__ import annotations

import polars as pl

from loyaltylab._stats import wilson_exprs
from loyaltylab._units import DAYS_PER_MONTH, SECONDS_PER_DAY
from loyaltylab._util import parse_window, to_datetime
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.exceptions import SchemaError
from loyaltylab.funnel._engine import _ensure_data
from loyaltylab.funnel._timeline import AsOf, Timeline, _at, _inputs, _person_states, _stage_expr
from loyaltylab.funnel.ladder import LAPSED, Ladder
from loyaltylab.funnel.movement import _states
from loyaltylab.funnel.stages import assign_stages

__all__ = ["business_change_effect", "attention_by_stage"]


def business_change_effect(data: CRMData | Timeline, ladder: Ladder | None = None, *,
                           date: AsOf,
                           window: str = "365d", lapse_after: str = "365d",
                           confidence: float = 0.95) -> pl.DataFrame:
    """Movement between stages in the ``window`` before a business change (price rise,
    rebrand, policy change) against the ``window`` after it, by stage at the window start.

    The "before" cohort is everyone on the ladder (and not lapsed) at ``date - window``,
    followed to ``date``; the "after" cohort everyone on the ladder (not lapsed) at
    ``date``, followed to ``date + window``. For each stage, the share that lapsed and the
    share that moved up in each period are compared with a pooled two-proportion z-test.
    This is a before/after comparison: seasonality or a trend in the base also shows up in
    it.

    Parameters
    ----------
    data : CRMData or Timeline
        The data, or a :class:`Timeline` from :meth:`Ladder.evaluate`.
    ladder : Ladder, optional
        As in :func:`assign_stages` (default :data:`OFFLINE`).
    date : date, datetime or ISO string
        The day of the change.
    window : str, default "365d"
        Length of each period; ``date + window`` must not be after the data's date.
    lapse_after : str, default "365d"
        As in :func:`assign_stages`.
    confidence : float, default 0.95
        Coverage of the Wilson interval.

    Returns
    -------
    pl.DataFrame
        One row per stage with persons in both cohorts:

        - stage, stage_rank
        - n_before, n_after: cohort sizes
        - lapsed_before, lapsed_after: share lapsed by the end of the window
        - lapsed_ci_low_after, lapsed_ci_high_after: Wilson interval of lapsed_after
        - lapse_ratio: lapsed_after / lapsed_before
        - lapse_p_value: two-proportion z-test of lapsed_after == lapsed_before
        - up_before, up_after: share that reached a higher stage
        - up_p_value: the same test for moving up

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()
    >>> e = ll.funnel.business_change_effect(d, date="2024-10-01", window="180d")
    >>> "lapse_ratio" in e.columns
    True
    """
    from loyaltylab._stats import two_proportion_test

    if not isinstance(data, Timeline):
        data = _ensure_data(data)
    date = to_datetime(date, name="date")
    w = parse_window(window, name="window")
    end = date + w
    source, ladder, as_of = _inputs(data, ladder, None)
    lapse = parse_window(lapse_after, name="lapse_after")
    if end > as_of:
        raise ValueError(f"date + window = {end:%Y-%m-%d} is after as_of={as_of:%Y-%m-%d}; "
                         f"pass a shorter window= (at most {(as_of - date).days} days)")
    states = _person_states(_at(source, ladder, end), lapse,
                            [date - w, date, end]).collect()
    frames = []
    for period, (a, b) in {"before": (0, 1), "after": (1, 2)}.items():
        s = states.filter(pl.col(f"_s{a}").is_not_null() & (pl.col(f"_s{a}") != LAPSED))
        frames.append(s.group_by(pl.col(f"_rank{a}").alias("stage_rank")).agg(
            pl.len().cast(pl.Int64).alias(f"n_{period}"),
            (pl.col(f"_s{b}") == LAPSED).sum().cast(pl.Int64).alias(f"_l_{period}"),
            ((pl.col(f"_rank{b}") > pl.col(f"_rank{a}")) & (pl.col(f"_s{b}") != LAPSED))
            .sum().cast(pl.Int64).alias(f"_u_{period}")))
    out = frames[0].join(frames[1], on="stage_rank", how="inner").sort("stage_rank")
    rows = []
    for r in out.iter_rows(named=True):
        _, pl_ = two_proportion_test(r["_l_after"], r["n_after"], r["_l_before"],
                                     r["n_before"])
        _, pu = two_proportion_test(r["_u_after"], r["n_after"], r["_u_before"],
                                    r["n_before"])
        rows.append({"stage_rank": r["stage_rank"], "lapse_p_value": pl_,
                     "up_p_value": pu})
    tests = pl.DataFrame(rows, schema={"stage_rank": pl.Int64, "lapse_p_value": pl.Float64,
                                       "up_p_value": pl.Float64})
    out = out.join(tests, on="stage_rank").with_columns(
        _stage_expr(ladder, pl.col("stage_rank")).alias("stage"),
        (pl.col("_l_before") / pl.col("n_before")).alias("lapsed_before"),
        (pl.col("_l_after") / pl.col("n_after")).alias("lapsed_after"),
        (pl.col("_u_before") / pl.col("n_before")).alias("up_before"),
        (pl.col("_u_after") / pl.col("n_after")).alias("up_after"),
        *[e.name.prefix("lapsed_").name.suffix("_after")
          for e in wilson_exprs("_l_after", "n_after", confidence=confidence)])
    out = out.with_columns(
        pl.when(pl.col("lapsed_before") > 0)
        .then(pl.col("lapsed_after") / pl.col("lapsed_before")).alias("lapse_ratio"),
        pl.col("lapse_p_value").fill_nan(None), pl.col("up_p_value").fill_nan(None))
    return out.select("stage", "stage_rank", "n_before", "n_after", "lapsed_before",
                      "lapsed_after", "lapsed_ci_low_after", "lapsed_ci_high_after",
                      "lapse_ratio", "lapse_p_value", "up_before", "up_after", "up_p_value")


def attention_by_stage(data: CRMData | Timeline, ladder: Ladder | None = None, *,
                       window: str = "365d", as_of: AsOf = None,
                       direction: str | None = "outbound",
                       lapse_after: str = "365d", confidence: float = 0.95) -> pl.DataFrame:
    """How much contact each ladder stage gets: persons by their state at the start of
    ``window``, and the contacts they received during it.

    Parameters
    ----------
    data : CRMData or Timeline
        The data (needs contacts), or a :class:`Timeline` from :meth:`Ladder.evaluate`.
    ladder : Ladder, optional
        As in :func:`assign_stages` (default :data:`OFFLINE`).
    window : str
        The period measured, ending at ``as_of`` (default a year).
    as_of : date, datetime or ISO string, optional
        End of the window (default the date of the data or of the timeline).
    direction : str or None
        Count only contacts in this direction (default "outbound": the attention the
        business gives); None counts all.
    lapse_after : str
        As in :func:`assign_stages`; lapsed persons form their own row.
    confidence : float

    Returns
    -------
    pl.DataFrame
        One row per state (ladder stages in order, then "lapsed"):

        - state, stage_rank (null for lapsed)
        - persons: persons in that state at ``as_of - window``
        - contacts: contacts they received in the window
        - value, ci_low, ci_high: contacts per person-month, with the exact (Garwood)
          Poisson interval
        - contacted: persons with at least one contact in the window
        - contacted_share: contacted / persons
        - spend_per_person: contact cost per person (``contacts.cost``; null without it)
        - definition

    Notes
    -----
    The stage is fixed at the start of the window, so a contact that moved a prospect up
    counts for the prospects. Persons who were not yet known at the start are left out.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> a = ll.funnel.attention_by_stage(ll.datasets.load_sample())
    >>> a.columns[:4]
    ['state', 'stage_rank', 'persons', 'contacts']
    """
    from loyaltylab._stats import poisson_ci

    source = data
    data = data.data if isinstance(data, Timeline) else _ensure_data(data)
    data.require(S.CONTACTS, purpose="attention by ladder stage")
    w = parse_window(window, name="window")
    source, ladder, cut = _inputs(source, ladder, as_of)
    parse_window(lapse_after, name="lapse_after")
    start = cut - w
    st = (assign_stages(source, ladder, as_of=start, lapse_after=lapse_after)
          .select(S.CUSTOMER_ID, pl.when(pl.col("lapsed")).then(pl.lit(LAPSED))
                  .otherwise(pl.col("stage").cast(pl.String)).alias("state")))
    c = data.contacts.lazy().filter((pl.col(S.CONTACTED_AT) > start)
                                    & (pl.col(S.CONTACTED_AT) <= cut))
    if direction is not None:
        if S.DIRECTION not in data.contacts.columns:
            raise SchemaError(f"attention by ladder stage with direction={direction!r} needs "
                              f"contacts.{S.DIRECTION}; pass direction=None to count all "
                              f"contacts")
        c = c.filter(pl.col(S.DIRECTION) == direction)
    has_cost = S.CONTACT_COST in data.contacts.columns
    per = (c.group_by(S.CUSTOMER_ID)
           .agg(pl.len().alias("_n"),
                (pl.col(S.CONTACT_COST).fill_null(0.0).sum() if has_cost
                 else pl.lit(None, dtype=pl.Float64)).alias("_cost"))
           .collect())
    months = w.total_seconds() / SECONDS_PER_DAY / DAYS_PER_MONTH
    joined = st.join(per, on=S.CUSTOMER_ID, how="left", nulls_equal=False)
    res = (joined.group_by("state")
           .agg(pl.len().cast(pl.Int64).alias("persons"),
                pl.col("_n").fill_null(0).sum().cast(pl.Int64).alias("contacts"),
                (pl.col("_n").fill_null(0) > 0).sum().cast(pl.Int64).alias("contacted"),
                (pl.col("_cost").fill_null(0.0).sum() if has_cost
                 else pl.lit(None, dtype=pl.Float64)).alias("_spend")))
    grid = pl.DataFrame({"state": _states(ladder)})
    res = (grid.join(res, on="state", how="left")
           .with_columns(pl.col("persons", "contacts", "contacted").fill_null(0),
                         (pl.col("persons") * months).alias("_exposure")))
    res = poisson_ci(res, "contacts", "_exposure", confidence=confidence)
    rank = {s: i for i, s in enumerate(ladder.names)}
    return res.with_columns(
        pl.col("state").replace_strict(rank, default=None, return_dtype=pl.Int64)
        .alias("stage_rank"),
        pl.when(pl.col("persons") > 0).then(pl.col("contacted") / pl.col("persons"))
        .alias("contacted_share"),
        pl.when(pl.col("persons") > 0).then(pl.col("_spend") / pl.col("persons"))
        .alias("spend_per_person"),
        pl.lit(f"{direction or 'all'} contacts in ({start:%Y-%m-%d}, {cut:%Y-%m-%d}] per "
               f"person-month, persons by their state on {start:%Y-%m-%d}")
        .alias("definition"),
    ).select("state", "stage_rank", "persons", "contacts", "value", "ci_low", "ci_high",
             "contacted", "contacted_share", "spend_per_person", "definition")


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
