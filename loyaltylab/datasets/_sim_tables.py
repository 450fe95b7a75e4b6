"""The make_crm simulator's tables (not public API): the simulated people and events turned
into the canonical frames (customers, orders, contacts, surveys, web sessions, ...) and
the planted truth that goes with them.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from loyaltylab._units import DAYS_PER_MONTH
from loyaltylab.data import schema as S
from loyaltylab.datasets._sim_base import (ACQ_COST_MEAN, CHANNEL_NAMES, COMPLAINT_CATEGORIES,
                                           COMPLAINT_FAST_DAYS, EARLY_DAYS, EMAIL_THRESHOLD,
                                           KIND_NAMES, LADDER, LINE_NAMES, LINE_P, LINE_PRICE,
                                           N_MANAGERS, REFERRAL_OR, REGION_NAMES, REWARD_NAMES,
                                           SATISFACTION_REF, SEGMENT_NAMES, STAGES_AT_CHANGE, WEB,
                                           _cat, _choice, _day_order, _expand, _id_series, _ts,
                                           _uniform_in)


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
        # to 1e-6 days (0.09 s): numpy's exp and log may differ in the last bit between
        # processors, and the bundled truth file must regenerate byte for byte everywhere
        pl.Series("defection_day", np.round(np.where(np.isfinite(defect), defect - first,
                                                     np.nan), 6)).fill_nan(None),
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
