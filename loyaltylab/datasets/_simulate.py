"""The make_crm simulator: a business whose true customer behaviour is known.

Everything is vectorised numpy driven by one ``np.random.default_rng(seed)``; the frames are
assembled in polars and validated through :func:`loyaltylab.from_frames`, the same path as
client data.
"""

from __future__ import annotations

import calendar
import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from loyaltylab._units import DAYS_PER_MONTH, US_PER_DAY
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.data.load import from_frames
from loyaltylab._util import to_datetime

__all__ = ["make_crm", "simulate_tables"]

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


# ------------------------------------------------------------------ one block of people
def _block(rng: np.random.Generator, acq: np.ndarray, channel: np.ndarray, D: int,
           bc_day: int, leave_day: np.ndarray, h0: float, HR: dict[str, Any]
           ) -> dict[str, Any]:
    """Simulate the attributes, orders, complaints, managers and defection of a block of
    people with given acquisition day (float) and channel code."""
    n = acq.size
    b = {"acq": acq, "channel": channel}
    b["kind"] = _choice(rng, len(KIND_NAMES), KIND_P, n)
    b["segment"] = seg = _choice(rng, 3, SEGMENT_P, n)
    b["region"] = _choice(rng, 4, REGION_P, n)
    b["reward"] = reward = _choice(rng, 3, REWARD_P, n)
    b["sat"] = sat = np.clip(rng.normal(6.8, 1.8, n), 0.0, 10.0).round(2)
    b["email"] = email = rng.gamma(0.5, 2.4, n).round(2)
    online = channel == WEB
    referred = channel == REFERRAL
    # ---- ladder: suspect / prospect / buyer; first order day
    u = rng.random(n)
    suspect = (~online) & (~referred) & (u < LADDER["p_suspect_offline"])
    p_buy = np.where(online, LADDER["p_visitor_buys_online"],
                     np.where(referred, LADDER["p_referred_buys"],
                              LADDER["p_prospect_buys_offline"]))
    wants = (~suspect) & (rng.random(n) < p_buy)
    skip = wants & (rng.random(n) < np.where(online, LADDER["p_online_first_visit_buy"],
                                             LADDER["p_offline_skip_prospect"]))
    mean_delay = np.where(online, LADDER["mean_days_visitor_to_first_order"],
                          LADDER["mean_days_prospect_to_first_order"])
    delay = np.where(skip, 0.0, 1.0 + np.floor(rng.exponential(1.0, n) * mean_delay))
    acq_day = np.floor(acq)
    first = acq_day + delay
    buyer = wants & (first < D)
    b["acq_day"] = acq_day
    b["suspect"], b["buyer"], b["skip"] = suspect, buyer, skip & buyer
    b["first"] = first = np.where(buyer, first, np.nan)
    # ---- order process (as if alive until as_of; truncated at defection later)
    gap = np.asarray([LADDER["mean_order_gap_days"][s] for s in SEGMENT_NAMES])[seg]
    gap = gap * rng.lognormal(-0.045, 0.3, n)     # customer heterogeneity, mean ~1
    b["gap"] = gap
    span = np.where(buyer, D - first - 1.0, 0.0)
    n_rep = rng.poisson(np.maximum(span, 0.0) / gap)
    own, t = _uniform_in(rng, np.nan_to_num(first) + 1.0, np.nan_to_num(first) + 1.0 + span,
                         n_rep)
    t = np.floor(t)
    # first orders then repeats
    bidx = np.flatnonzero(buyer)
    o_owner = np.concatenate([bidx, own])
    o_day = np.concatenate([first[bidx], t])
    o_first = np.concatenate([np.ones(bidx.size, bool), np.zeros(own.size, bool)])
    # stage at the business change: orders placed before the change day
    before = np.bincount(o_owner[o_day < bc_day], minlength=n)
    stage = np.where(before >= 5, 2, np.where(before >= 2, 1, 0)).astype(np.int8)
    at_change = buyer & (first < bc_day)
    b["stage"] = np.where(at_change, stage, -1).astype(np.int8)
    # ---- one complaint at most, rate falls with satisfaction
    c_rate = 0.30 / 365.0 * np.exp(-0.25 * (sat - SATISFACTION_REF))
    c_day = np.floor(np.nan_to_num(first, nan=D) + rng.exponential(1.0, n) / c_rate)
    has_c = buyer & (c_day < D)
    fast = rng.random(n) < 0.60
    res_days = np.where(fast, rng.integers(0, COMPLAINT_FAST_DAYS + 1, n),
                        COMPLAINT_FAST_DAYS + 1 + np.floor(rng.exponential(25.0, n)))
    never = (~fast) & (rng.random(n) < 0.15)
    b["c_day"] = np.where(has_c, c_day, np.nan)
    b["c_fast"] = fast
    b["c_res"] = np.where(has_c & ~never, c_day + res_days, np.nan)
    b["c_cat"] = _choice(rng, 4, (0.3, 0.2, 0.3, 0.2), n)
    c_from = c_day + COMPLAINT_FAST_DAYS          # effect switches on a week after opening
    # ---- account manager at first order; leavers' clients are reassigned
    mgr = rng.integers(0, N_MANAGERS, n)
    stayers = np.setdiff1d(np.arange(N_MANAGERS), np.flatnonzero(np.isfinite(leave_day)))
    redraw = buyer & (leave_day[mgr] <= np.nan_to_num(first, nan=0.0))
    mgr = np.where(redraw, stayers[rng.integers(0, stayers.size, n)], mgr)
    b["mgr"] = mgr
    b["mgr2"] = stayers[rng.integers(0, stayers.size, n)]
    m_day = leave_day[mgr]                       # inf for stayers
    # ---- defection: piecewise-constant proportional hazard from the first order
    f0 = np.nan_to_num(first, nan=0.0)
    lin = (np.log(HR["satisfaction"]) * (sat - SATISFACTION_REF)
           + np.log(HR["email_over_contact"]) * np.maximum(email - EMAIL_THRESHOLD, 0.0)
           + np.where(reward == 0, np.log(HR["reward_every_purchase"]),
                      np.where(reward == 2, np.log(HR["reward_none"]), 0.0))
           + np.log(np.asarray([HR["segment"][s] for s in SEGMENT_NAMES]))[seg])
    b["lin_static"] = lin
    early = np.log(np.asarray([HR["early_life"][c] for c in CHANNEL_NAMES]))[channel]
    c_log = np.where(fast, np.log(HR["complaint_fast"]), np.log(HR["complaint_slow"]))
    bc_log = np.log(np.asarray([BUSINESS_CHANGE_HR[s] for s in STAGES_AT_CHANGE]))[
        np.maximum(stage, 0)]
    T = D - f0                                    # follow-up to as_of
    tc = np.where(has_c, c_from - f0, np.inf)
    tm = np.where(m_day > f0, m_day - f0, np.inf)
    tb = np.where(at_change, bc_day - f0, np.inf)
    pts = np.stack([np.zeros(n), np.full(n, float(EARLY_DAYS)), tc, tm, tb, T], axis=1)
    pts = np.sort(np.minimum(pts, T[:, None]), axis=1)
    start_ = pts[:, :-1]
    length = np.diff(pts, axis=1)
    logr = (lin[:, None] + early[:, None] * (start_ < EARLY_DAYS)
            + c_log[:, None] * (start_ >= tc[:, None])
            + np.log(HR["manager_left"]) * (start_ >= tm[:, None])
            + bc_log[:, None] * (start_ >= tb[:, None]))
    rate = h0 * np.exp(logr)
    cum = np.cumsum(rate * length, axis=1)
    e = rng.exponential(1.0, n)
    j = np.minimum((cum < e[:, None]).sum(axis=1), length.shape[1] - 1)
    rows = np.arange(n)
    prev = np.where(j > 0, cum[rows, j - 1], 0.0)
    tdef = start_[rows, j] + (e - prev) / rate[rows, j]
    dead = buyer & (cum[:, -1] >= e)
    b["defect"] = defect = np.where(dead, f0 + tdef, np.nan)   # continuous day
    end = np.where(dead, defect, float(D))                        # end of active life
    b["end"] = np.where(buyer, end, np.nan)
    # stage at the change only for customers still active on that day
    b["stage"] = np.where(at_change & (end > bc_day), b["stage"], -1).astype(np.int8)
    # complaints, manager departures only observed while the customer is active
    b["c_day"] = np.where(b["c_day"] < end, b["c_day"], np.nan)
    b["c_res"] = np.where(np.isfinite(b["c_day"]) & (b["c_res"] < D), b["c_res"], np.nan)
    b["c_effect"] = np.where(np.isfinite(b["c_day"]) & (c_from < end), c_from, np.nan)
    b["m_left"] = np.where(buyer & (m_day > f0) & (m_day < end), m_day, np.nan)
    # keep orders placed before defection
    keep = o_day < end[o_owner]
    b["o_owner"], b["o_day"], b["o_first"] = o_owner[keep], o_day[keep], o_first[keep]
    b["early_log"] = early
    return b


def _concat_blocks(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    offset = 0
    for blk in blocks:
        n = blk["acq"].size
        for k, v in blk.items():
            if k == "o_owner":
                v = v + offset
            out.setdefault(k, []).append(v)
        offset += n
    return {k: np.concatenate(v) for k, v in out.items()}


def _take(b: dict[str, Any], order: np.ndarray) -> dict[str, Any]:
    """Reorder per-person arrays by ``order`` and remap event owners."""
    n = order.size
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)
    out = {}
    for k, v in b.items():
        if k.startswith("o_"):
            out[k] = v
        else:
            out[k] = v[order]
    out["o_owner"] = inv[b["o_owner"]]
    return out


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


# ------------------------------------------------------------------ the simulator
def make_crm(n_customers: int = 5000, years: int = 3, seed: int = 2026, *,
             start: str | datetime = "2023-01-01",
             hazard_ratios: dict[str, Any] | None = None,
             baseline_annual_defection: float = BASELINE_ANNUAL_DEFECTION) -> CRMData:
    """Simulate the CRM data of a business whose true customer behaviour is known.

    A population of ``n_customers`` relationships is acquired uniformly over ``years``
    years from ``start``. Offline customers climb suspect -> prospect -> first-time
    customer -> repeat customer -> client -> advocate, online ones surfer -> visitor ->
    repeat visitor -> first-time buyer -> ...; some skip stages (walk-in buyers with no
    prior contact, first-visit buyers). Buyers order at their own rhythm (mean gap 32-45
    days by segment) until they defect; defection follows a proportional-hazards model
    whose effects are returned in ``data.truth``. All nine canonical tables are built and
    validated through :func:`loyaltylab.from_frames`, the path client data takes.

    Parameters
    ----------
    n_customers : int, default 5000
        Rows of the customers table (suspects, prospects and buyers; at least 10).
    years : int, default 3
        Length of the simulated history; ``as_of`` is ``start`` plus ``years``.
    seed : int, default 2026
        Seed of ``np.random.default_rng``; the same arguments give identical frames.
    start : str or datetime, default "2023-01-01"
        First day of the history.
    hazard_ratios : dict, optional
        Planted effects to change, e.g. ``{"complaint_fast": 1.0}`` (fast handling makes
        no difference) or ``{"early_life": {"web": 4.0}}``; keys as in
        ``truth["hazard_ratios"]`` below, values positive. Unnamed effects keep their
        defaults; ``truth`` reports the values used.
    baseline_annual_defection : float, default 0.17
        Annual defection of the reference customer after early life; sets ``h0``.

    Returns
    -------
    CRMData
        All nine tables (customers, orders, contacts, referrals, surveys, complaints,
        subscriptions, assignments, web_sessions) with canonical columns, ``as_of`` and
        ``truth``. Timestamps fall on whole days (midnight); amounts are rounded to cents;
        ids are strings ``C000001`` (customers, in order of acquisition), ``O0000001``
        (orders), ``V0000001`` (web visitors), ``AM01`` (account managers).

    Notes
    -----
    **The defection model.** A buyer is at risk from the first order. Time since the first
    order is ``t`` (days); the hazard is piecewise constant,
    ``h(t) = h0 * exp(x'beta + z(t)'gamma)``, with ``h0 = -log(1 - 0.17) / 365`` (a
    reference customer loses 17 % a year) and hazard ratios ``exp(beta)``, ``exp(gamma)``
    in ``truth["hazard_ratios"]``. Static covariates: latent satisfaction (centred at 7),
    e-mails per month above 4, reward scheme (reference ``first_time_discount``), segment
    (reference ``relationship``). Time-varying covariates: the first 90 days after the
    first order (``early_life``, by acquisition channel); a complaint, from
    ``opened_at + 7 days`` on (fast if ``resolved_at - opened_at <= 7 days``, slow if later
    or never); the account manager leaving (from the ``assigned_to`` date of the
    assignments row with ``end_reason == "manager_left"``); the business change (from its
    date, by the stage at that date). A customer has at most one complaint. Orders,
    contacts, complaints, surveys and web sessions stop at defection; the subscriptions
    table holds one spell per buyer from the first order to the true defection (``ended_at``
    null while alive), so contractual churn sees the true lifetimes.

    **The truth** (``data.truth``, a dict):

    - ``hazard_ratios``: ``satisfaction`` (HR per latent satisfaction point, 0.85),
      ``complaint_fast`` (0.70), ``complaint_slow`` (1.80), ``manager_left`` (2.00),
      ``email_over_contact`` (HR per e-mail per month above 4, 1.15),
      ``reward_every_purchase`` (0.75) and ``reward_none`` (1.10) vs
      ``first_time_discount``, ``segment`` (dict: relationship 1.00, convenience 1.15,
      price 1.40), ``early_life`` (dict channel -> extra HR in the first 90 days:
      advertising 2.0, partnership 1.5, personal 1.3, web 2.5, referral 1.2).
    - ``baseline_annual_defection``: 1 - exp(-365 h0) = 0.17 for the reference customer
      after early life.
    - ``annual_defection``: realised share of buyers whose first order is at least 365
      days before ``as_of`` who defected within 365 days of it (between 0.20 and 0.40;
      NaN when ``years=1`` leaves no buyer a full year of observation).
    - ``referral_odds_ratio_satisfaction``: odds ratio (1.6) per satisfaction point of a
      buyer being an advocate (``truth["customers"]["is_advocate"]``); advocates refer new
      customers at one per 240 active days on average (observed referrals are thinned so
      that 10 % of customers come through referral).
    - ``business_change``: ``date`` (the first of the month 60 % through the history),
      ``hazard_ratio_by_stage`` (first-time customer 1.0, repeat customer 1.4, client 2.0:
      loyal customers are hit hardest) and ``stage_rule`` (stage by orders before the date:
      1, 2-4, 5 or more).
    - ``managers_left``: account manager -> date they left (three of twenty).
    - ``ladder``: planted stage behaviour: ``p_suspect_offline`` (share of offline people
      never contacted), ``p_prospect_buys_offline``, ``p_visitor_buys_online``,
      ``p_referred_buys`` (probability to ever buy), ``p_offline_skip_prospect`` (buyers
      with no contact before the first order), ``p_online_first_visit_buy`` (online buyers
      who buy on the first identified visit), ``mean_days_prospect_to_first_order``,
      ``mean_days_visitor_to_first_order``, ``mean_order_gap_days`` and
      ``monthly_repeat_probability`` by segment, and the realised
      ``observed_share_first_visit_buyers_online``.
    - ``reference``: the reference levels of the hazard model.
    - ``customers``: a polars frame, one row per customer: customer_id, status (suspect,
      prospect, buyer), ladder (offline, online), satisfaction (latent, 0-10),
      emails_per_month, mean_order_gap_days, cross_line_propensity (probability an order
      is outside the customer's main line), is_advocate, skipped_stage, first_order_at,
      defected_at (true defection, null if alive at ``as_of`` or never bought),
      defection_day (days from first order to defection), complaint_at,
      complaint_fast, complaint_effect_from, first_manager, manager_left_at (when the
      manager left while the customer was active), stage_at_change (stage at the
      business change, null unless an active buyer on that day), log_hazard_static
      (x'beta of the static covariates).

    Survey waves are quarterly (``relationship_YYYYqN``, 10 % of active buyers answer):
    ``nps`` = latent satisfaction + N(0, 1.2) rounded to 0-10, ``csat`` 1-5, ``ces`` 1-7
    (lower is less effort; falls with satisfaction), ``q1``-``q4`` Likert 1-5 with ``q4``
    reverse-coded; 5 % straight-liners (q1-q4 identical) and 4 % speeders (12-40 seconds,
    random answers). E-mail volume follows each customer's ``emails_per_month`` while on
    the list (buyers until defection, prospects for 90 days); their campaign is
    ``news-YYYY-MM``.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> data = ll.datasets.make_crm(500, years=2, seed=1)
    >>> data.customers.height, data.as_of
    (500, datetime.datetime(2025, 1, 1, 0, 0))
    >>> data.truth["hazard_ratios"]["manager_left"]
    2.0
    """
    tables, truth, as_of = simulate_tables(
        n_customers, years, seed, start=start, hazard_ratios=hazard_ratios,
        baseline_annual_defection=baseline_annual_defection)
    return _validated(tables, truth, as_of, source=f"make_crm(n_customers={n_customers}, "
                      f"years={years}, seed={seed})")


def _validated(tables: dict[str, pl.DataFrame], truth: dict[str, Any] | None,
               as_of: datetime, *, source: str) -> CRMData:
    """Build the CRMData through the loader's validation (``from_frames``)."""
    return from_frames(tables, as_of=as_of, source=source, truth=truth)


def _resolve_hazard_ratios(overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The default hazard ratios updated by ``overrides`` (nested for segment and
    early_life), each checked to be a positive number."""
    hr = {k: (dict(v) if isinstance(v, dict) else v) for k, v in HAZARD_RATIOS.items()}
    if overrides is None:
        return hr
    if not isinstance(overrides, dict):
        raise TypeError(f"hazard_ratios: expected a dict such as {{'manager_left': 1.5}}, "
                        f"got {type(overrides).__name__}")

    def check(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                value > 0 and math.isfinite(value)):
            raise ValueError(f"hazard_ratios[{name!r}]: expected a positive number, got "
                             f"{value!r}")
        return float(value)

    for key, value in overrides.items():
        if key not in hr:
            raise ValueError(f"hazard_ratios: unknown effect {key!r}; the effects are "
                             f"{sorted(hr)}")
        if isinstance(hr[key], dict):
            if not isinstance(value, dict):
                raise TypeError(f"hazard_ratios[{key!r}]: expected a dict over "
                                f"{sorted(hr[key])}, got {type(value).__name__}")
            for sub, v in value.items():
                if sub not in hr[key]:
                    raise ValueError(f"hazard_ratios[{key!r}]: unknown level {sub!r}; "
                                     f"levels are {sorted(hr[key])}")
                hr[key][sub] = check(f"{key}.{sub}", v)
        else:
            hr[key] = check(key, value)
    return hr


def simulate_tables(n_customers: int = 5000, years: int = 3, seed: int = 2026, *,
                    start: str | datetime = "2023-01-01",
                    hazard_ratios: dict[str, Any] | None = None,
                    baseline_annual_defection: float = BASELINE_ANNUAL_DEFECTION,
                    ) -> tuple[dict[str, pl.DataFrame], dict[str, Any], datetime]:
    """Simulate the nine canonical tables and the truth (no validation)."""
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)):
        raise TypeError(f"n_customers: expected an integer, got {type(n_customers).__name__}")
    if n_customers < 10:
        raise ValueError(f"n_customers: need at least 10 customers, got {n_customers}")
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise ValueError(f"years: expected a whole number of years >= 1, got {years!r}")
    start_dt = to_datetime(start, name="start").replace(hour=0, minute=0, second=0,
                                                        microsecond=0)
    as_of = _months_add(start_dt, int(years))
    D = (as_of - start_dt).days
    start_us = int((start_dt - datetime(1970, 1, 1)).total_seconds()) * 1_000_000
    rng = np.random.default_rng(seed)
    HR = _resolve_hazard_ratios(hazard_ratios)
    if not isinstance(baseline_annual_defection, (int, float)) or not (
            0.0 < baseline_annual_defection < 1.0):
        raise ValueError(f"baseline_annual_defection: expected a share between 0 and 1 "
                         f"(e.g. 0.17), got {baseline_annual_defection!r}")
    h0 = -math.log(1.0 - baseline_annual_defection) / 365.0
    # the business change: first of the month 60 % through the window
    bc_guess = start_dt + timedelta(days=int(0.6 * D))
    bc_date = bc_guess.replace(day=1)
    bc_day = (bc_date - start_dt).days
    leave_day = np.full(N_MANAGERS, np.inf)
    leavers = np.sort(rng.choice(N_MANAGERS, N_LEAVERS, replace=False))
    leave_day[leavers] = np.floor(np.array([0.30, 0.50, 0.75]) * D)
    # ---- base customers (all channels but referral)
    n = int(n_customers)
    n_ref_target = int(round(0.10 * n))
    n_base = n - n_ref_target
    acq = rng.random(n_base) * D
    ch = _choice(rng, 4, BASE_CHANNEL_P, n_base)
    base = _block(rng, acq, ch, D, bc_day, leave_day, h0, HR)
    # ---- referrals: advocacy propensity driven by satisfaction (logistic, odds ratio)
    a_logit = -0.9 + math.log(REFERRAL_OR) * (base["sat"] - SATISFACTION_REF)
    base_adv = base["buyer"] & (rng.random(n_base) < 1.0 / (1.0 + np.exp(-a_logit)))
    base["advocate"] = base_adv
    life = np.where(base_adv, base["end"] - base["first"], 0.0)
    r_cnt = rng.poisson(np.nan_to_num(life) / 240.0)
    r_owner, r_day = _uniform_in(rng, np.nan_to_num(base["first"]),
                                 np.nan_to_num(base["end"]), r_cnt)
    r_day = np.floor(r_day)
    okr = r_day < D
    r_owner, r_day = r_owner[okr], r_day[okr]
    if r_owner.size > n_ref_target:
        pick = np.sort(rng.choice(r_owner.size, n_ref_target, replace=False))
        r_owner, r_day = r_owner[pick], r_day[pick]
    n_ref = r_owner.size
    blocks = [base]
    ref = _block(rng, r_day + rng.random(n_ref) * 0.999, np.full(n_ref, REFERRAL, np.int8),
                 D, bc_day, leave_day, h0, HR)
    ref["advocate"] = np.zeros(n_ref, bool)
    blocks.append(ref)
    if n_ref < n_ref_target:               # too few referrals (tiny n): fill with base people
        k = n_ref_target - n_ref
        extra = _block(rng, rng.random(k) * D, _choice(rng, 4, BASE_CHANNEL_P, k), D,
                       bc_day, leave_day, h0, HR)
        extra["advocate"] = np.zeros(k, bool)
        blocks.append(extra)
    P = _concat_blocks(blocks)
    # ---- order people by acquisition: ids C000001... in acquisition order
    order = np.lexsort((np.arange(n), P["acq"]))
    P = _take(P, order)
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)
    ref_rows = inv[np.arange(n_base, n_base + n_ref)]       # referred people, new index
    referrer_rows = inv[r_owner]                              # their referrers, new index
    cid = _id_series("C", np.arange(n), max(6, len(str(n))), S.CUSTOMER_ID)

    tables, truth = _assemble(rng, P, n, D, start_us, cid, ref_rows, referrer_rows)
    truth["baseline_annual_defection"] = float(baseline_annual_defection)
    truth["hazard_ratios"] = HR
    truth["business_change"] = {
        "date": bc_date,
        "hazard_ratio_by_stage": dict(BUSINESS_CHANGE_HR),
        "stage_rule": "stage by orders placed before the change date: 1 = first-time "
                      "customer, 2-4 = repeat customer, 5 or more = client; only customers "
                      "whose first order precedes the change are affected",
    }
    truth["managers_left"] = {f"AM{m + 1:02d}": start_dt + timedelta(days=int(leave_day[m]))
                              for m in leavers}
    return tables, truth, as_of


def _assemble(rng, P, n, D, start_us, cid, ref_rows, referrer_rows):
    buyer = P["buyer"]
    kind, seg = P["kind"], P["segment"]
    business = (kind >= 1) & (kind <= 4)
    # ---------------- customers
    acq_out = np.where(P["skip"], P["first"], P["acq_day"])
    cost = (np.asarray(ACQ_COST_MEAN)[P["channel"]] * rng.lognormal(-0.08, 0.4, n)).round(2)
    m_left = P["m_left"]
    cur_mgr = np.where(np.isfinite(m_left), P["mgr2"], P["mgr"])
    mgr_names = [f"AM{m + 1:02d}" for m in range(N_MANAGERS)]
    customers = pl.DataFrame([
        cid,
        _ts(acq_out, start_us, S.ACQUIRED_AT),
        _cat(KIND_NAMES, kind, S.KIND),
        _cat(SEGMENT_NAMES, seg, S.SEGMENT),
        _cat(CHANNEL_NAMES, P["channel"], S.ACQUISITION_CHANNEL),
        _cat(REGION_NAMES, P["region"], S.REGION),
        _cat(mgr_names, cur_mgr, S.ACCOUNT_MANAGER, buyer),
        pl.Series(S.ACQUISITION_COST, cost),
        _cat(REWARD_NAMES, P["reward"], S.REWARD_SCHEME),
    ])
    # ---------------- orders
    ow, od, ofirst = P["o_owner"], P["o_day"], P["o_first"]
    oo = _day_order(od)
    ow, od, ofirst = ow[oo], od[oo], ofirst[oo]
    m = ow.size
    sat = P["sat"]
    p_cross = 1.0 / (1.0 + np.exp(-(-1.2 + 0.35 * (sat - SATISFACTION_REF))))
    main_line = _choice(rng, 4, LINE_P, n)
    cross = rng.random(m) < p_cross[ow]
    other = (main_line[ow] + rng.integers(1, 4, m)) % 4
    line = np.where(cross, other, main_line[ow]).astype(np.int8)
    list_price = (np.asarray(LINE_PRICE)[line] * np.where(business[ow], 3.0, 1.0)
                  * rng.lognormal(-0.125, 0.5, m)).round(2)
    reward = P["reward"][ow]
    rate = np.where(reward == 0, 0.20, np.where((reward == 1) & ofirst, 0.20, 0.0))
    discount = (list_price * rate).round(2)
    amount = (list_price - discount).round(2)
    owidth = max(7, len(str(m)))
    orders = pl.DataFrame([
        _id_series("O", np.arange(m), owidth, S.ORDER_ID),
        cid.gather(ow),
        _ts(od, start_us, S.ORDERED_AT),
        pl.Series(S.AMOUNT, amount),
        _cat(LINE_NAMES, line, S.PRODUCT_LINE),
        pl.Series(S.DISCOUNT, discount),
    ])
    # ---------------- subscriptions: one spell per buyer, first order to defection
    bi = np.flatnonzero(buyer)
    plan = np.where(business[bi], 2, (rng.random(bi.size) < 0.3).astype(int))
    subscriptions = pl.DataFrame([
        cid.gather(bi),
        _ts(P["first"][bi], start_us, S.STARTED_AT),
        _ts(P["defect"][bi], start_us, S.ENDED_AT),
        _cat(("standard", "premium", "business"), plan, S.PLAN),
    ])
    # ---------------- assignments
    ml = np.isfinite(m_left[bi])
    a_cust = np.concatenate([bi, bi[ml]])
    a_mgr = np.concatenate([P["mgr"][bi], P["mgr2"][bi][ml]])
    a_from = np.concatenate([P["first"][bi], m_left[bi][ml]])
    a_to = np.concatenate([np.where(ml, m_left[bi], np.nan), np.full(ml.sum(), np.nan)])
    a_left = np.concatenate([ml, np.zeros(ml.sum(), bool)])
    ao = np.lexsort((a_from, a_cust))
    assignments = pl.DataFrame([
        cid.gather(a_cust[ao]),
        _cat(mgr_names, a_mgr[ao], S.ACCOUNT_MANAGER),
        _ts(a_from[ao], start_us, S.ASSIGNED_FROM),
        _ts(a_to[ao], start_us, S.ASSIGNED_TO),
        _cat([S.MANAGER_LEFT], np.zeros(ao.size, int), S.END_REASON, a_left[ao]),
    ])
    # ---------------- complaints
    ci = np.flatnonzero(np.isfinite(P["c_day"]))
    resolved = P["c_res"][ci]
    outcome = _choice(rng, 3, (0.65, 0.25, 0.10), ci.size)   # resolved, refund, rejected
    complaints = pl.DataFrame([
        cid.gather(ci),
        _ts(P["c_day"][ci], start_us, S.OPENED_AT),
        _ts(resolved, start_us, S.RESOLVED_AT),
        _cat(COMPLAINT_CATEGORIES, P["c_cat"][ci], S.CATEGORY),
        _cat(("resolved", "refund", "rejected"), outcome, S.OUTCOME, ~np.isnan(resolved)),
    ]).sort([S.OPENED_AT, S.CUSTOMER_ID])
    # ---------------- referrals
    rd = P["acq_day"][ref_rows]
    ro = np.lexsort((ref_rows, rd))
    referrals = pl.DataFrame([
        cid.gather(referrer_rows[ro]).alias(S.REFERRER_ID),
        cid.gather(ref_rows[ro]).alias(S.REFERRED_ID),
        _ts(rd[ro], start_us, S.REFERRED_AT),
    ])
    # ---------------- contacts
    contacts = _contacts(rng, P, n, D, start_us, cid, business, ow, od)
    # ---------------- surveys
    surveys = _surveys(rng, P, n, D, start_us, cid)
    # ---------------- web sessions
    web_sessions = _web(rng, P, n, D, start_us, cid, ow, od)

    tables = {S.CUSTOMERS: customers, S.ORDERS: orders, S.CONTACTS: contacts,
              S.REFERRALS: referrals, S.SURVEYS: surveys, S.COMPLAINTS: complaints,
              S.SUBSCRIPTIONS: subscriptions, S.ASSIGNMENTS: assignments,
              S.WEB_SESSIONS: web_sessions}
    truth = _truth(P, n, D, start_us, cid, p_cross)
    return tables, truth


def _contacts(rng, P, n, D, start_us, cid, business, ow, od):
    buyer, suspect = P["buyer"], P["suspect"]
    acq = P["acq_day"]
    online = P["channel"] == WEB
    end_active = np.where(buyer, P["end"], np.minimum(acq + 90.0, D))
    parts = []   # (owner, day, channel, direction, campaign-kind, cost)

    def add(o, d, *rest):
        # whole days and owners as int32 keep the ~10 million e-mail rows of a big run small
        parts.append((o.astype(np.int32), np.floor(d).astype(np.int32), *rest))  # noqa: F821 (bound above; deleted only after its last use)

    # outbound e-mail at the customer's own rate while on the list
    listed = ~suspect
    span = np.where(listed, np.maximum(end_active - acq, 0.0), 0.0)
    k = rng.poisson(P["email"] * span / DAYS_PER_MONTH)
    o, d = _uniform_in(rng, acq, acq + span, k)
    add(o, d, 0, 1, 0, 0.02)
    # acquisition contacts before the first order (offline prospects and converted ones)
    pre = (~online) & (~suspect) & ~P["skip"]
    pre_end = np.where(buyer, P["first"], end_active)
    k = np.where(pre, 1 + rng.poisson(0.8, n), 0)
    o, d = _uniform_in(rng, acq, np.maximum(pre_end, acq + 1.0), k)
    d = np.minimum(d, np.maximum(pre_end[o] - 1.0, acq[o]))
    chan = _choice(rng, 3, (0.6, 0.2, 0.2), o.size)          # phone, meeting, visit
    add(o, d, np.array([1, 3, 2])[chan], 1, 1, np.array([3.0, 40.0, 60.0])[chan])
    # after-sale feedback calls (15 % of orders, three days later)
    call = rng.random(ow.size) < 0.15
    o, d = ow[call], od[call] + 3.0
    ok = (d < P["end"][o]) & (d < D)
    add(o[ok], d[ok], 1, 1, 2, 3.0)
    # account reviews: visits to business partners, distributors, suppliers, partners
    acct = buyer & business
    span2 = np.where(acct, P["end"] - P["first"], 0.0)
    k = rng.poisson(np.nan_to_num(span2) / 91.0)
    o, d = _uniform_in(rng, np.nan_to_num(P["first"]), np.nan_to_num(P["end"]), k)
    add(o, d, 2, 1, 3, 60.0)
    # inbound: a call when a complaint is opened, plus occasional questions
    ci = np.flatnonzero(np.isfinite(P["c_day"]))
    add(ci, P["c_day"][ci], 1, 0, 4, 5.0)
    span3 = np.where(buyer, P["end"] - P["first"], 0.0)
    k = rng.poisson(np.nan_to_num(span3) / DAYS_PER_MONTH * 0.08)
    o, d = _uniform_in(rng, np.nan_to_num(P["first"]), np.nan_to_num(P["end"]), k)
    chan = _choice(rng, 3, (0.5, 0.3, 0.2), o.size)          # phone, email, web
    add(o, d, np.array([1, 0, 4])[chan], 0, 4, 2.0)

    owner = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts])
    size = [p[0].size for p in parts]

    def col(i, dtype):
        return np.concatenate([np.broadcast_to(np.asarray(p[i], dtype=dtype), (s,))
                               for p, s in zip(parts, size)])  # noqa: F821 (as above)
    channel = col(2, np.int8)
    direction = col(3, np.int8)
    camp = col(4, np.int8)
    cost = col(5, float)
    del parts
    order = _day_order(day, day < D)
    owner, day, channel, direction, camp, cost = (x[order] for x in
                                                  (owner, day, channel, direction, camp, cost))
    # campaign: e-mails by month (news-YYYY-MM), fixed names otherwise, none when inbound
    start = np.datetime64(datetime(1970, 1, 1) + timedelta(microseconds=start_us), "D")
    m0 = start.astype("datetime64[M]")
    month_of_day = ((start + np.arange(D)).astype("datetime64[M]") - m0).astype(np.int16)
    m_idx = month_of_day[day]
    n_months = int(month_of_day[-1]) + 1
    labels = ["acquisition", "after_sale_call", "account_review"] + [
        f"news-{str(m0 + np.timedelta64(i, 'M'))}" for i in range(n_months)]
    code = np.where(camp == 0, 3 + m_idx, np.maximum(camp.astype(np.int16) - 1, 0))
    del m_idx
    return pl.DataFrame([
        cid.gather(owner),
        _ts(day, start_us, S.CONTACTED_AT),
        _cat(("email", "phone", "visit", "meeting", "web"), channel, S.CHANNEL),
        _cat(("inbound", "outbound"), direction, S.DIRECTION),
        _cat(labels, code, S.CAMPAIGN, camp != 4),
        pl.Series(S.CONTACT_COST, cost),
    ])


def _surveys(rng, P, n, D, start_us, cid):
    """Quarterly relationship-survey waves to active buyers."""
    buyer = P["buyer"]
    rows_o, rows_d, rows_w = [], [], []
    wave_names = []
    start = datetime(1970, 1, 1) + timedelta(microseconds=start_us)
    q_start = 0
    w = 0
    while True:
        q_date = start + timedelta(days=q_start)
        wave_day = q_start + 45
        if wave_day + 14 >= D:
            break
        alive = buyer & (P["first"] < wave_day) & (P["end"] > wave_day)
        idx = np.flatnonzero(alive & (rng.random(n) < 0.10))
        ans = wave_day + np.floor(rng.random(idx.size) * 14)
        ok = ans < P["end"][idx]
        rows_o.append(idx[ok])
        rows_d.append(ans[ok])
        rows_w.append(np.full(ok.sum(), w))
        wave_names.append(f"relationship_{q_date.year}q{(q_date.month - 1) // 3 + 1}")
        w += 1
        # next quarter
        nm = q_date.month + 3
        nxt = q_date.replace(year=q_date.year + (nm - 1) // 12, month=(nm - 1) % 12 + 1)
        q_start = (nxt - start).days
    o = np.concatenate(rows_o) if rows_o else np.zeros(0, np.int64)
    d = np.concatenate(rows_d) if rows_d else np.zeros(0)
    wv = np.concatenate(rows_w) if rows_w else np.zeros(0, np.int64)
    r = o.size
    s = P["sat"][o]
    kind = _choice(rng, 3, (0.91, 0.05, 0.04), r)   # 0 normal, 1 straight-liner, 2 speeder
    secs = np.where(kind == 2, rng.uniform(12, 40, r), rng.lognormal(np.log(150), 0.4, r))
    nps = np.clip(np.round(s + rng.normal(0, 1.2, r)), 0, 10)
    csat = np.clip(np.round(1 + 4 * s / 10 + rng.normal(0, 0.6, r)), 1, 5)
    ces = np.clip(np.round(7 - 6 * s / 10 + rng.normal(0, 0.9, r)), 1, 7)
    lat = 1 + 4 * s / 10
    q = [np.clip(np.round(lat + rng.normal(0, 0.8, r)), 1, 5) for _ in range(3)]
    q4 = np.clip(np.round(6 - lat + rng.normal(0, 0.8, r)), 1, 5)      # reverse-coded
    flat = rng.integers(1, 6, r).astype(float)
    sl = kind == 1
    q = [np.where(sl, flat, x) for x in q]
    q4 = np.where(sl, flat, q4)
    sp = kind == 2
    nps = np.where(sp, rng.integers(0, 11, r), nps)
    csat = np.where(sp, rng.integers(1, 6, r), csat)
    ces = np.where(sp, rng.integers(1, 8, r), ces)
    q = [np.where(sp, rng.integers(1, 6, r), x) for x in q]
    q4 = np.where(sp, rng.integers(1, 6, r), q4)
    items = ("nps", "csat", "ces", "q1", "q2", "q3", "q4")
    scores = np.stack([nps, csat, ces, q[0], q[1], q[2], q4], axis=1).astype(float)
    k = len(items)
    resp = np.repeat(np.arange(r), k)
    order = np.lexsort((np.tile(np.arange(k), r), resp, o[resp], d[resp]))
    resp = resp[order]
    item_code = np.tile(np.arange(k), r)[order]
    # scores are row-major (response, item): flat index resp * k + item
    flat_scores = scores.reshape(-1)[resp * k + item_code]
    return pl.DataFrame([
        cid.gather(o[resp]),
        _cat(wave_names if wave_names else ["none"], wv[resp], S.SURVEY),
        _cat(items, item_code, S.ITEM),
        _ts(d[resp], start_us, S.ANSWERED_AT),
        pl.Series(S.SCORE, flat_scores, dtype=pl.Float64),
        pl.Series(S.RESPONSE_SECONDS, np.round(secs[resp], 1), dtype=pl.Float64),
    ])


def _web(rng, P, n, D, start_us, cid, ow, od):
    """Online ladder: anonymous surfers, identified visitors, first-visit buyers."""
    online = P["channel"] == WEB
    wi = np.flatnonzero(online)
    nv = wi.size
    acq = P["acq_day"][wi]
    buyer = P["buyer"][wi]
    first = P["first"][wi]
    # anonymous sessions before identification (same visitor id, customer unknown)
    k = rng.poisson(0.8, nv)
    o1, d1 = _uniform_in(rng, acq - 60.0, acq, k)
    anon1 = np.ones(o1.size, bool)
    # identified visits: first identified visit at acquisition, then browsing until the
    # first order (buyers) or for up to 120 days (visitors who never buy)
    o2 = np.arange(nv)
    d2 = acq.copy()
    browse_end = np.where(buyer, first, np.minimum(acq + 120.0, D))
    k = np.where(P["skip"][wi], 0, rng.poisson(1.5, nv))
    o3, d3 = _uniform_in(rng, acq + 1.0, np.maximum(browse_end, acq + 1.0), k)
    # one session per online order
    pos = np.full(n, -1, np.int64)
    pos[wi] = np.arange(nv)
    mo = pos[ow] >= 0
    o4, d4 = pos[ow[mo]], od[mo]
    owner = np.concatenate([o1, o2, o3, o4])
    day = np.floor(np.concatenate([d1, d2, d3, d4]))
    anon = np.concatenate([anon1, np.zeros(o2.size + o3.size + o4.size, bool)])
    # surfers who never identify themselves
    ns = int(round(0.6 * nv))
    k = 1 + rng.poisson(0.5, ns)
    so = _expand(k)
    sd = np.floor(rng.random(so.size) * D)
    keep = (day >= 0) & (day < D)
    owner, day, anon = owner[keep], day[keep], anon[keep]
    vis = np.concatenate([owner, nv + so])
    day = np.concatenate([day, sd])
    cust_row = np.concatenate([np.where(anon, -1, wi[owner]), np.full(so.size, -1)])
    order = _day_order(day)
    vis, day, cust_row = vis[order], day[order], cust_row[order]
    vwidth = max(7, len(str(nv + ns)))
    known = cust_row >= 0
    cust = cid.gather(np.where(known, cust_row, 0))
    cust = pl.select(pl.when(pl.Series(known)).then(cust).otherwise(None)
                     .alias(S.CUSTOMER_ID)).to_series()
    return pl.DataFrame([
        _id_series("V", vis, vwidth, S.VISITOR_ID),
        cust,
        _ts(day, start_us, S.STARTED_AT),
    ])


def _truth(P, n, D, start_us, cid, p_cross):
    buyer = P["buyer"]
    first, defect = P["first"], P["defect"]
    # realised annual defection of first-time buyers observed for a full year
    obs = buyer & (first <= D - 365)
    lost = obs & np.isfinite(defect) & (defect - first < 365)
    annual = float(lost.sum() / obs.sum()) if obs.any() else float("nan")
    status = np.where(P["suspect"], 0, np.where(buyer, 2, 1))
    stage = P["stage"]
    mgr_names = [f"AM{m + 1:02d}" for m in range(N_MANAGERS)]
    customers = pl.DataFrame([
        cid,
        _cat(("suspect", "prospect", "buyer"), status, "status"),
        _cat(("offline", "online"), (P["channel"] == WEB).astype(int), "ladder"),
        pl.Series("satisfaction", P["sat"]),
        pl.Series("emails_per_month", P["email"]),
        pl.Series("mean_order_gap_days", np.round(P["gap"], 2)),
        pl.Series("cross_line_propensity", np.round(p_cross, 4)),
        pl.Series("is_advocate", P["advocate"]),
        pl.Series("skipped_stage", P["skip"] & buyer),
        _ts(first, start_us, "first_order_at"),
        _ts(np.where(np.isfinite(defect), defect, np.nan), start_us, "defected_at"),
        pl.Series("defection_day", np.where(np.isfinite(defect), defect - first, np.nan))
        .fill_nan(None),
        _ts(P["c_day"], start_us, "complaint_at"),
        pl.Series("complaint_fast", P["c_fast"]).scatter(
            np.flatnonzero(~np.isfinite(P["c_day"])), None),
        _ts(P["c_effect"], start_us, "complaint_effect_from"),
        _cat(mgr_names, P["mgr"], "first_manager", buyer),
        _ts(P["m_left"], start_us, "manager_left_at"),
        _cat(STAGES_AT_CHANGE, np.maximum(stage, 0), "stage_at_change", stage >= 0),
        pl.Series("log_hazard_static", np.round(P["lin_static"], 6)),
    ])
    ladder = dict(LADDER)
    ladder["mean_order_gap_days"] = dict(LADDER["mean_order_gap_days"])
    ladder["monthly_repeat_probability"] = {
        s: round(1 - math.exp(-DAYS_PER_MONTH / g), 4)
        for s, g in LADDER["mean_order_gap_days"].items()}
    ladder["observed_share_first_visit_buyers_online"] = float(
        (P["skip"] & buyer & (P["channel"] == WEB)).sum()
        / max((buyer & (P["channel"] == WEB)).sum(), 1))
    return {
        "annual_defection": annual,
        "referral_odds_ratio_satisfaction": REFERRAL_OR,
        "ladder": ladder,
        "customers": customers,
        "reference": {"satisfaction": SATISFACTION_REF, "email_threshold": EMAIL_THRESHOLD,
                      "early_life_days": EARLY_DAYS,
                      "complaint_fast_days": COMPLAINT_FAST_DAYS,
                      "complaint_effect_lag_days": COMPLAINT_FAST_DAYS,
                      "reward": "first_time_discount", "segment": "relationship"},
    }
