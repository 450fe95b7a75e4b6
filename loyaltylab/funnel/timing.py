"""How long the climb takes: Kaplan-Meier time from one stage to the next ones (through
:class:`loyaltylab.churn.KaplanMeier`, the library's one survival path)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from collections.abc import Sequence

import polars as pl

from loyaltylab._units import SECONDS_PER_DAY
from loyaltylab._util import parse_window
from loyaltylab.data.crmdata import CRMData
from loyaltylab.funnel._engine import _ensure_ladder
from loyaltylab.funnel._timeline import AsOf, Timeline
from loyaltylab.funnel.ladder import OFFLINE, Ladder
from loyaltylab.funnel.stages import _stages_with_by

if TYPE_CHECKING:
    from loyaltylab.churn import KaplanMeier

__all__ = ["time_to_stage", "time_to_stage_curves"]


def _durations(data, ladder, as_of, origin, by):
    lad = _ensure_ladder(data.ladder if isinstance(data, Timeline)
                         else OFFLINE if ladder is None else ladder)
    names = lad.names
    origin = origin or names[1]
    k0 = lad.rank(origin)
    if k0 >= len(names) - 1:
        raise ValueError(f"origin={origin!r} is the top stage of the {lad.name} ladder; "
                         f"pick a lower stage from {names[:-1]}")
    stages, cols, timeline = _stages_with_by(data, ladder, as_of, "365d", by)
    as_of = timeline.as_of
    base = stages.filter(pl.col(f"reached_{origin}").is_not_null())
    frames = []
    for k in range(k0 + 1, len(names)):
        arrive = pl.min_horizontal([pl.col(f"reached_{n}") for n in names[k:]])
        frames.append(base.select(
            *cols, pl.lit(names[k]).alias("stage"), pl.lit(k, dtype=pl.Int64).alias("_k"),
            ((pl.coalesce(arrive, pl.lit(as_of)) - pl.col(f"reached_{origin}"))
             .dt.total_seconds() / SECONDS_PER_DAY).alias("_days"),
            arrive.is_not_null().alias("_arrived")))
    return pl.concat(frames), cols, origin


def _km(part: pl.DataFrame, confidence: float) -> KaplanMeier:
    """Kaplan-Meier of the days to arrive (arrival is the event; not yet is censored)."""
    from loyaltylab.churn import KaplanMeier

    return KaplanMeier(confidence=confidence, duration_col="_days",
                       event_col="_arrived").fit(part.select("_days", "_arrived"))


def time_to_stage(data: CRMData | Timeline, ladder: Ladder | None = None, *,
                  origin: str | None = None, as_of: AsOf = None,
                  by: str | Sequence[str] | None = None, horizon: str = "365d",
                  confidence: float = 0.95) -> pl.DataFrame:
    """How long people take from ``origin`` to each higher stage, with censoring.

    The clock starts when a person reached ``origin`` (default: the second stage, e.g.
    the first contact of a prospect); it stops when the person first reaches the target
    stage or any higher one (jumping past a stage counts as arriving). People who have not
    arrived by ``as_of`` are censored there. Kaplan-Meier estimates by
    :class:`loyaltylab.churn.KaplanMeier` (lifelines underneath).

    Parameters
    ----------
    data : CRMData or Timeline
        The data, or a :class:`Timeline` from :meth:`Ladder.evaluate` (the ladder is then
        not evaluated again).
    ladder : Ladder, optional
        As in :func:`assign_stages` (default :data:`OFFLINE`).
    origin : str, optional
        Stage the clock starts at; only persons who reached it are counted.
    as_of : date, datetime or ISO string, optional
        Follow-up ends (and people not yet arrived are censored) at this date (default the
        date of the data or of the timeline).
    by : str or list of str, optional
        Customer attribute(s) to split by.
    horizon : str, default "365d"
        Also report the share that arrives within this time.
    confidence : float, default 0.95
        Coverage of the intervals.

    Returns
    -------
    pl.DataFrame
        One row per (group and) target stage:

        - ``by`` columns, when given
        - origin: the starting stage
        - stage: the target stage
        - n: persons who reached ``origin``
        - arrived: of them, persons who reached the stage (or beyond) by ``as_of``
        - median_days: Kaplan-Meier median days to arrive (null when fewer than half
          ever arrive within the follow-up)
        - median_ci_low, median_ci_high: its confidence interval (lifelines'
          ``median_survival_times`` on the Greenwood log(-log) band; null when unbounded)
        - share_within: Kaplan-Meier share arrived within ``horizon``
        - share_ci_low, share_ci_high: its pointwise interval

    Examples
    --------
    >>> import loyaltylab as ll
    >>> t = ll.funnel.time_to_stage(ll.datasets.load_sample())
    >>> t["stage"].to_list()
    ['first_time_customer', 'repeat_customer', 'client', 'advocate']
    """
    long, cols, origin = _durations(data, ladder, as_of, origin, by)
    h = parse_window(horizon, name="horizon").total_seconds() / SECONDS_PER_DAY
    rows = []
    for key, part in long.group_by(*cols, "_k", "stage", maintain_order=True):
        km = _km(part, confidence)
        med = km.summary.row(0, named=True)
        at = km.survival_at([h]).row(0, named=True)
        row = dict(zip([*cols, "_k", "stage"], key))
        row.update(origin=origin, n=part.height, arrived=int(part["_arrived"].sum()),
                   median_days=med["median_days"], median_ci_low=med["median_ci_low"],
                   median_ci_high=med["median_ci_high"],
                   share_within=1 - at["survival"], share_ci_low=1 - at["ci_high"],
                   share_ci_high=1 - at["ci_low"])
        rows.append(row)
    out = pl.DataFrame(rows, schema_overrides={"median_days": pl.Float64,
                                               "median_ci_low": pl.Float64,
                                               "median_ci_high": pl.Float64})
    return (out.sort(*cols, "_k")
            .select(*cols, "origin", "stage", "n", "arrived", "median_days",
                    "median_ci_low", "median_ci_high", "share_within", "share_ci_low",
                    "share_ci_high"))


def time_to_stage_curves(data: CRMData | Timeline, ladder: Ladder | None = None, *,
                         origin: str | None = None, as_of: AsOf = None,
                         by: str | Sequence[str] | None = None,
                         confidence: float = 0.95) -> pl.DataFrame:
    """Kaplan-Meier curves of the share arrived at each stage by days since ``origin``
    (see :func:`time_to_stage`), for plotting.

    Parameters
    ----------
    data, ladder, origin, as_of, by, confidence
        As in :func:`time_to_stage`.

    Returns
    -------
    pl.DataFrame
        - ``by`` columns, when given
        - stage: the target stage
        - days: days since reaching ``origin``
        - share_arrived: 1 - Kaplan-Meier survival
        - ci_low, ci_high: pointwise interval

    Examples
    --------
    >>> import loyaltylab as ll
    >>> c = ll.funnel.time_to_stage_curves(ll.datasets.load_sample())
    >>> c.columns
    ['stage', 'days', 'share_arrived', 'ci_low', 'ci_high']
    """
    long, cols, _ = _durations(data, ladder, as_of, origin, by)
    frames = []
    for key, part in long.group_by(*cols, "_k", "stage", maintain_order=True):
        f = _km(part, confidence).curves_.select(
            pl.col("timeline").alias("days"), (1 - pl.col("survival")).alias("share_arrived"),
            (1 - pl.col("ci_high")).alias("ci_low"), (1 - pl.col("ci_low")).alias("ci_high"))
        vals = dict(zip([*cols, "_k", "stage"], key))
        frames.append(f.with_columns([pl.lit(vals[c]).alias(c) for c in
                                      [*cols, "_k", "stage"]]))
    return (pl.concat(frames).sort(*cols, "_k", "days")
            .select(*cols, "stage", "days", "share_arrived", "ci_low", "ci_high"))


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
