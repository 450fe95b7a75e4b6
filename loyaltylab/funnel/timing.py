"""How long the climb takes: Kaplan-Meier time from one stage to the next ones."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import polars as pl

from loyaltylab._util import parse_window, resolve_as_of
from loyaltylab.data.crmdata import CRMData
from loyaltylab.funnel.ladder import OFFLINE, Ladder
from loyaltylab.funnel.stages import _stages_with_by

__all__ = ["time_to_stage", "time_to_stage_curves"]


def _durations(data, ladder, as_of, origin, by):
    names = ladder.names
    origin = origin or names[1]
    k0 = ladder.rank(origin)
    if k0 >= len(names) - 1:
        raise ValueError(f"origin={origin!r} is the top stage of the {ladder.name} ladder; "
                         f"pick a lower stage from {names[:-1]}")
    stages, cols = _stages_with_by(data, ladder, as_of, "365d", by)
    as_of = resolve_as_of(data, as_of)
    base = stages.filter(pl.col(f"reached_{origin}").is_not_null())
    frames = []
    for k in range(k0 + 1, len(names)):
        arrive = pl.min_horizontal([pl.col(f"reached_{n}") for n in names[k:]])
        frames.append(base.select(
            *cols, pl.lit(names[k]).alias("stage"), pl.lit(k, dtype=pl.Int64).alias("_k"),
            ((pl.coalesce(arrive, pl.lit(as_of)) - pl.col(f"reached_{origin}"))
             .dt.total_seconds() / 86400).alias("_days"),
            arrive.is_not_null().alias("_arrived")))
    return pl.concat(frames), cols, origin


def _km(days: np.ndarray, arrived: np.ndarray, confidence: float):
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter(alpha=1 - confidence)
    kmf.fit(days, event_observed=arrived)
    return kmf


def time_to_stage(data: CRMData, ladder: Ladder = OFFLINE, *, origin: str | None = None,
                  as_of: Any = None, by: str | Sequence[str] | None = None,
                  horizon: str = "365d", confidence: float = 0.95) -> pl.DataFrame:
    """How long people take from ``origin`` to each higher stage, with censoring.

    The clock starts when a person reached ``origin`` (default: the second stage, e.g.
    the first contact of a prospect); it stops when the person first reaches the target
    stage or any higher one (jumping past a stage counts as arriving). People who have not
    arrived by ``as_of`` are censored there. Kaplan-Meier estimates via lifelines.

    Parameters
    ----------
    origin : str, optional
        Stage the clock starts at; only persons who reached it are counted.
    horizon : str, default "365d"
        Also report the share that arrives within this time.

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
    from lifelines.utils import median_survival_times

    long, cols, origin = _durations(data, ladder, as_of, origin, by)
    h = parse_window(horizon, name="horizon").total_seconds() / 86400
    rows = []
    for key, part in long.group_by(*cols, "_k", "stage", maintain_order=True):
        days = part["_days"].to_numpy()
        arrived = part["_arrived"].to_numpy()
        kmf = _km(days, arrived, confidence)
        med = float(kmf.median_survival_time_)
        ci = median_survival_times(kmf.confidence_interval_)
        lo, hi = (float(v) for v in ci.iloc[0])
        sf = kmf.survival_function_at_times(h).iloc[0]
        band = kmf.confidence_interval_survival_function_
        idx = band.index.searchsorted(h, side="right") - 1
        s_lo, s_hi = (float(v) for v in band.iloc[max(idx, 0)])
        fin = lambda v: v if np.isfinite(v) else None  # noqa: E731
        row = dict(zip([*cols, "_k", "stage"], key))
        row.update(origin=origin, n=len(days), arrived=int(arrived.sum()),
                   median_days=fin(med), median_ci_low=fin(lo), median_ci_high=fin(hi),
                   share_within=1 - float(sf), share_ci_low=1 - s_hi,
                   share_ci_high=1 - s_lo)
        rows.append(row)
    out = pl.DataFrame(rows, schema_overrides={"median_days": pl.Float64,
                                               "median_ci_low": pl.Float64,
                                               "median_ci_high": pl.Float64})
    return (out.sort(*cols, "_k")
            .select(*cols, "origin", "stage", "n", "arrived", "median_days",
                    "median_ci_low", "median_ci_high", "share_within", "share_ci_low",
                    "share_ci_high"))


def time_to_stage_curves(data: CRMData, ladder: Ladder = OFFLINE, *,
                         origin: str | None = None, as_of: Any = None,
                         by: str | Sequence[str] | None = None,
                         confidence: float = 0.95) -> pl.DataFrame:
    """Kaplan-Meier curves of the share arrived at each stage by days since ``origin``
    (see :func:`time_to_stage`), for plotting.

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
        kmf = _km(part["_days"].to_numpy(), part["_arrived"].to_numpy(), confidence)
        sf = kmf.survival_function_.iloc[:, 0].to_numpy()
        band = kmf.confidence_interval_survival_function_.to_numpy()
        f = pl.DataFrame({"days": kmf.survival_function_.index.to_numpy().astype(float),
                          "share_arrived": 1 - sf, "ci_low": 1 - band[:, 1],
                          "ci_high": 1 - band[:, 0]})
        vals = dict(zip([*cols, "_k", "stage"], key))
        frames.append(f.with_columns([pl.lit(vals[c]).alias(c) for c in
                                      [*cols, "_k", "stage"]]))
    return (pl.concat(frames).sort(*cols, "_k", "days")
            .select(*cols, "stage", "days", "share_arrived", "ci_low", "ci_high"))
