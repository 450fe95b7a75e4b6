"""The make_crm simulator: a business whose true customer behaviour is known.

Everything is vectorised numpy driven by one ``np.random.default_rng(seed)``; the frames are
assembled in polars and validated through :func:`loyaltylab.from_frames`, the same path as
client data.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.data.load import from_frames
from loyaltylab._util import to_datetime
from loyaltylab.datasets._sim_base import (BASELINE_ANNUAL_DEFECTION, BASE_CHANNEL_P,
                                           BUSINESS_CHANGE_HR, CHANNEL_NAMES, COMPLAINT_FAST_DAYS,
                                           EARLY_DAYS, EMAIL_THRESHOLD, HAZARD_RATIOS, KIND_NAMES,
                                           KIND_P, LADDER, N_LEAVERS, N_MANAGERS, REFERRAL,
                                           REFERRAL_OR, REGION_P, REWARD_P, SATISFACTION_REF,
                                           SEGMENT_NAMES, SEGMENT_P, STAGES_AT_CHANGE, WEB,
                                           _choice, _id_series, _months_add, _uniform_in)
from loyaltylab.datasets._sim_tables import _assemble

__all__ = ["make_crm", "simulate_tables"]


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
