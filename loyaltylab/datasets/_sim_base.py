"""The make_crm simulator's planted parameters and array helpers (not public API): the
shares, hazard ratios and ladder rules the simulated business is built on, and the small
numpy and polars helpers (random choices, days to timestamps, codes to text) that
:mod:`loyaltylab.datasets._simulate` and :mod:`loyaltylab.datasets._sim_tables` share.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from loyaltylab._units import US_PER_DAY

# ------------------------------------------------------------------ planted parameters

KIND_NAMES = ("consumer", "business partner", "distributor", "supplier",
              "co-operation partner", "employee")
KIND_P = (0.78, 0.08, 0.05, 0.03, 0.02, 0.04)
SEGMENT_NAMES = ("relationship", "convenience", "price")
SEGMENT_P = (0.35, 0.35, 0.30)
REGION_NAMES = ("north", "south", "east", "west")
REGION_P = (0.30, 0.25, 0.25, 0.20)
REWARD_NAMES = ("every_purchase", "first_time_discount", "none")
REWARD_P = (0.30, 0.35, 0.35)
# acquisition channels; "referral" customers come only from referrals by other customers
CHANNEL_NAMES = ("advertising", "partnership", "personal", "web", "referral")
BASE_CHANNEL_P = (0.35, 0.15, 0.20, 0.30)
WEB = 3
REFERRAL = 4
ACQ_COST_MEAN = (45.0, 30.0, 120.0, 15.0, 10.0)
LINE_NAMES = ("core", "accessories", "service", "premium")
LINE_P = (0.50, 0.20, 0.20, 0.10)
LINE_PRICE = (60.0, 25.0, 90.0, 180.0)
STAGES_AT_CHANGE = ("first-time customer", "repeat customer", "client")
COMPLAINT_CATEGORIES = ("delivery", "billing", "product", "service")
N_MANAGERS = 20
N_LEAVERS = 3

HAZARD_RATIOS: dict[str, Any] = {
    "satisfaction": 0.85,
    "complaint_fast": 0.70,
    "complaint_slow": 1.80,
    "manager_left": 2.00,
    "email_over_contact": 1.15,
    "reward_every_purchase": 0.75,
    "reward_none": 1.10,
    "segment": {"relationship": 1.00, "convenience": 1.15, "price": 1.40},
    "early_life": {"advertising": 2.0, "partnership": 1.5, "personal": 1.3, "web": 2.5,
                   "referral": 1.2},
}
BUSINESS_CHANGE_HR = {"first-time customer": 1.0, "repeat customer": 1.4, "client": 2.0}
SATISFACTION_REF = 7.0
EMAIL_THRESHOLD = 4.0
EARLY_DAYS = 90
COMPLAINT_FAST_DAYS = 7
BASELINE_ANNUAL_DEFECTION = 0.17
REFERRAL_OR = 1.6
LADDER = {
    "p_suspect_offline": 0.20,
    "p_prospect_buys_offline": 0.65,
    "p_visitor_buys_online": 0.55,
    "p_referred_buys": 0.80,
    "p_offline_skip_prospect": 0.30,
    "p_online_first_visit_buy": 0.30,
    "mean_days_prospect_to_first_order": 30.0,
    "mean_days_visitor_to_first_order": 20.0,
    "mean_order_gap_days": {"relationship": 32.0, "convenience": 38.0, "price": 45.0},
}


def _months_add(d: datetime, years: int) -> datetime:
    y = d.year + years
    day = min(d.day, calendar.monthrange(y, d.month)[1])
    return d.replace(year=y, day=day)


def _choice(rng: np.random.Generator, k: int, p, n: int) -> np.ndarray:
    """Categorical draws as small ints (fast inverse-cdf)."""
    cdf = np.cumsum(np.asarray(p, dtype=float))
    cdf /= cdf[-1]
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int8)


def _day_order(day: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Row order by whole day (stable radix sort on 16-bit days), optionally only the rows
    where ``keep``; within a day rows keep their generation order."""
    idx = np.arange(day.size) if keep is None else np.flatnonzero(keep)
    d = np.floor(day[idx])
    small = d.size == 0 or (d.min() >= 0 and d.max() < 32767)
    d = d.astype(np.int16 if small else np.int64)
    return idx[np.argsort(d, kind="stable")]


def _expand(counts: np.ndarray) -> np.ndarray:
    """Owner index of each event when owner i has counts[i] events."""
    dtype = np.int32 if counts.size < 2**31 - 1 else np.int64
    return np.repeat(np.arange(counts.size, dtype=dtype), counts)


def _uniform_in(rng, lo, hi, counts):
    """Event times uniform in [lo_i, hi_i) for each owner, repeated counts_i times."""
    owner = _expand(counts)
    t = rng.random(owner.size)
    t *= (hi - lo)[owner]                  # in place: fewer temporaries for big tables
    t += lo[owner]
    return owner, t


# ------------------------------------------------------------------ frame helpers
def _id_series(prefix: str, idx: np.ndarray, width: int, name: str) -> pl.Series:
    s = pl.Series(name, np.asarray(idx, dtype=np.int64) + 1)
    return pl.select((pl.lit(prefix) + s.cast(pl.String).str.zfill(width)).alias(name)
                     ).to_series()


def _ts(days: np.ndarray, start_us: int, name: str) -> pl.Series:
    """Whole days since start -> Datetime("us"); NaN -> null."""
    if np.issubdtype(np.asarray(days).dtype, np.integer):
        us = np.asarray(days, dtype=np.int64) * US_PER_DAY
        us += start_us
        return pl.Series(name, us, dtype=pl.Int64).cast(pl.Datetime("us"))
    days = np.asarray(days, dtype=float)
    mask = np.isnan(days)
    us = np.where(mask, 0, np.floor(np.nan_to_num(days)).astype(np.int64) * US_PER_DAY
                  + start_us)
    s = pl.Series(name, us, dtype=pl.Int64)
    if mask.any():
        s = s.scatter(np.flatnonzero(mask), None)
    return s.cast(pl.Datetime("us"))


def _cat(names, codes, name: str, mask: np.ndarray | None = None) -> pl.Series:
    """Small-int codes -> String series via an Enum (fast for millions of rows); rows where
    ``mask`` is False become null."""
    s = pl.Series(name, list(names), dtype=pl.String).gather(
        np.asarray(codes, dtype=np.uint32))
    if mask is not None and not np.all(mask):
        s = s.scatter(np.flatnonzero(~np.asarray(mask)), None)
    return s
