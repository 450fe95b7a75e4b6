"""The rules that turn a run's results into the findings of the executive summary.

Each rule takes numbers a section computed (a rate and its interval, a model's hazard
ratios, the ladder's funnel) and returns a :class:`~loyaltylab.report.Finding`, or None
when the rule does not fire. Nothing here is written by hand for a client: the numbers,
the comparison with a typical band and the verdict on significance all come from the
inputs, and ``tests/test_findings.py`` checks each rule on hand-computed inputs.

Rules and their business weights (larger first in the summary):

===================  =====================================================  ==========
rule                 fires when                                             weight
===================  =====================================================  ==========
data quality         more than 1 % of the rows read were rejected           9 (> 5 %)
                                                                            else 4
defection            a yearly defection rate is known; compared with the    10 above,
                     20-40 % a year typical of most firms (DOMAIN.md,       7 inside,
                     ``metrics.BAND_LOW``/``BAND_HIGH``) by its interval    6 below
drivers of churn     the churn model was fitted; an attribute is a driver   8 with one,
                     when its hazard ratio's 95 % interval excludes 1       3 without
ladder drop          two rungs or more; the step with the lowest share      7
                     moving up
net promoter score   answers to the recommendation question; verdict by     7 below 0,
                     whether the interval lies below, above or across 0     5 above, 4
complaints           fastest against slowest resolution differ at p < 0.05  6
revenue              the top 20 % of buyers bring at least half of revenue  6, else 3
concentration
repeat buying        buyers exist; share of buyers with a second order,     5
                     95 % Wilson interval
unprofitable         customers whose profit is below zero                   4 (>= 5 %),
customers                                                                   else 2
===================  =====================================================  ==========

No typical band is used that DOMAIN.md does not give: only defection has one; the other
rules compare with zero (NPS), with "no effect" (hazard ratio 1) or between groups.
"""

from __future__ import annotations

import math
import polars as pl

from loyaltylab._stats import wilson_interval
from loyaltylab.metrics import BAND_HIGH, BAND_LOW
from loyaltylab.report import Finding
from loyaltylab.report import Formats

__all__ = ["WEIGHTS", "REJECT_CAVEAT", "TOP_SHARE", "defection_finding", "drivers_finding",
           "ladder_finding", "nps_finding", "complaints_finding", "concentration_finding",
           "repeat_finding", "unprofitable_finding", "data_quality_finding",
           "hazard_change"]

WEIGHTS = {
    "data quality high": 9.0, "data quality": 4.0,
    "defection above": 10.0, "defection inside": 7.0, "defection below": 6.0,
    "drivers": 8.0, "no drivers": 3.0, "ladder": 7.0,
    "nps below": 7.0, "nps above": 5.0, "nps around": 4.0, "complaints": 6.0,
    "concentration high": 6.0, "concentration": 3.0, "repeat": 5.0,
    "unprofitable high": 4.0, "unprofitable": 2.0,
}
"""Business weight of each rule's outcome: the summary ranks findings by it."""

REJECT_CAVEAT = 0.01
"""A data-quality caveat is a finding when more than this share of rows was rejected."""

TOP_SHARE = 0.20
"""The share of buyers whose part of revenue the concentration rule reports (top 20 %)."""

_ALPHA = 0.05


def _pct(fmt: Formats, x: float) -> str:
    return fmt.percent(x)


def defection_finding(rate: float, low: float, high: float, *, lost: int, base: int,
                      year: str, section: str, figure: str | None = None,
                      band: tuple[float, float] = (BAND_LOW, BAND_HIGH),
                      fmt: Formats | None = None) -> Finding:
    """The yearly defection rate against the band typical of most firms.

    Above the band when the whole interval lies above it, below when it lies below,
    otherwise inside.

    Examples
    --------
    >>> f = defection_finding(0.313, 0.288, 0.339, lost=391, base=1249, year="2025",
    ...                       section="Measure everything")
    >>> f.headline
    'About 31% of customers were lost in 2025 (29%–34%; 391 of 1,249), inside the 20%–40% a
    year typical of most firms.'
    >>> f.weight
    7.0
    """
    fmt = fmt or Formats()
    lo_b, hi_b = band
    where = "above" if low > hi_b else "below" if high < lo_b else "inside"
    band_text = f"{fmt.percent(lo_b)}–{fmt.percent(hi_b)}"
    headline = (f"About {_pct(fmt, rate)} of customers were lost in {year} "
                f"({fmt.interval(low, high, 'percent')}; {fmt.count(lost)} of "
                f"{fmt.count(base)}), {where} the {band_text} a year typical of most firms.")
    per_point = base / 100
    keep = (f"Each percentage point less defection keeps about {fmt.count(per_point)} "
            f"more customer{'s' * (round(per_point) != 1)} a year.")
    meaning = {
        "above": "More customers leave than at most firms: keeping them is cheaper than "
                 "winning new ones, so retention is the first lever. " + keep,
        "inside": "A typical rate, so there is room to do better than most firms. " + keep,
        "below": "Fewer customers leave than at most firms: the base is loyal, and keeping "
                 "it so is worth more than winning new customers.",
    }[where]
    return Finding(headline, meaning, section, WEIGHTS[f"defection {where}"], figure)


def hazard_change(hr: float) -> str:
    """A hazard ratio as a change in the risk of leaving: 1.22 -> "raises ... by 22%".

    Examples
    --------
    >>> hazard_change(1.22), hazard_change(0.8)
    ('raises the risk of leaving by 22%', 'lowers the risk of leaving by 20%')
    """
    fmt = Formats()
    if hr >= 1:
        return f"raises the risk of leaving by {fmt.percent(hr - 1)}"
    return f"lowers the risk of leaving by {fmt.percent(1 - hr)}"


def drivers_finding(effects: pl.DataFrame, *, section: str, figure: str | None = None,
                    fmt: Formats | None = None) -> Finding | None:
    """Which attributes change the risk of leaving: a hazard ratio whose 95 % interval
    excludes 1 is a driver; the strongest (largest distance from 1 on the log scale) is
    named with its interval.

    ``effects`` has one row per attribute: ``label`` (plain words, e.g. "Reward scheme
    every purchase, against first purchase only"), ``hazard_ratio``, ``ci_low``,
    ``ci_high``. None when it is empty.

    Examples
    --------
    >>> eff = pl.DataFrame({"label": ["Orders in the last 90 days (each)", "Segment price"],
    ...                     "hazard_ratio": [0.86, 1.15], "ci_low": [0.83, 0.97],
    ...                     "ci_high": [0.90, 1.37]})
    >>> drivers_finding(eff, section="Churn").headline
    '1 of 2 customer attributes tested changes the risk of leaving measurably: orders in the
    last 90 days (each) lowers the risk of leaving by 14% (10%–17%).'
    """
    fmt = fmt or Formats()
    if effects.height == 0:
        return None
    rows = effects.to_dicts()
    sig = [r for r in rows if r["ci_low"] is not None and r["ci_high"] is not None
           and (r["ci_low"] > 1 or r["ci_high"] < 1)]
    n = len(rows)
    noun = f"customer attribute{'s' * (n != 1)} tested"
    if not sig:
        names = "; ".join(r["label"] for r in rows[:4]) + ("; ..." if n > 4 else "")
        return Finding(f"None of the {fmt.count(n)} {noun} changes the risk of leaving "
                       f"measurably (every 95% interval includes 'no effect').",
                       f"In these data, customers leave at much the same pace whatever their "
                       f"{names.lower()}; what drives defection lies in something not "
                       f"recorded here (service, price, competitors).", section,
                       WEIGHTS["no drivers"], figure)
    top = max(sig, key=lambda r: abs(math.log(r["hazard_ratio"])))
    hr, lo, hi = top["hazard_ratio"], top["ci_low"], top["ci_high"]
    # the interval of the change in risk: from the bounds of the hazard ratio
    a, b = (lo - 1, hi - 1) if hr >= 1 else (1 - hi, 1 - lo)
    verb = "changes" if len(sig) == 1 else "change"
    headline = (f"{fmt.count(len(sig))} of {fmt.count(n)} {noun} {verb} the risk of leaving "
                f"measurably: {_lower_first(top['label'])} {hazard_change(hr)} "
                f"({fmt.interval(a, b, 'percent')}).")
    others = [r["label"] for r in sig if r is not top]
    more = (f" The other{'s' * (len(others) > 1)}: {'; '.join(_lower_first(o) for o in others)}."
            if others else "")
    meaning = ("These are the levers worth acting on: they hold when the other attributes "
               "are taken into account." + more)
    return Finding(headline, meaning, section, WEIGHTS["drivers"], figure)


def _lower_first(text: str) -> str:
    """"Orders in ..." -> "orders in ..."; an abbreviation ("NPS group") stays."""
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def ladder_finding(funnel: pl.DataFrame, *, section: str, figure: str | None = None,
                   fmt: Formats | None = None) -> Finding | None:
    """The biggest drop on the loyalty ladder: the step with the lowest share moving up.

    ``funnel`` has, per rung in order, ``rung`` (plain name), ``reached``, ``converted``,
    ``conversion``, ``ci_low``, ``ci_high`` (null on the top rung). None with fewer than
    two rungs.

    Examples
    --------
    >>> fun = pl.DataFrame({"rung": ["prospect", "first-time customer", "client", "advocate"],
    ...     "reached": [4094, 2691, 2299, 284], "converted": [2691, 2299, 284, None],
    ...     "conversion": [0.657, 0.854, 0.124, None], "ci_low": [0.643, 0.84, 0.111, None],
    ...     "ci_high": [0.672, 0.87, 0.138, None]})
    >>> ladder_finding(fun, section="The loyalty ladder").headline
    'The biggest drop on the loyalty ladder is from client to advocate: 12% move up
    (11%–14%; 284 of 2,299).'
    """
    fmt = fmt or Formats()
    steps = funnel.with_columns(pl.col("rung").shift(-1).alias("_next")) \
        .filter(pl.col("conversion").is_not_null() & pl.col("_next").is_not_null())
    if steps.height == 0:
        return None
    low = steps.sort("conversion").row(0, named=True)
    headline = (f"The biggest drop on the loyalty ladder is from {low['rung']} to "
                f"{low['_next']}: {fmt.percent(low['conversion'])} move up "
                f"({fmt.interval(low['ci_low'], low['ci_high'], 'percent')}; "
                f"{fmt.count(low['converted'])} of {fmt.count(low['reached'])}).")
    meaning = ("Progress up the ladder is the measure of loyalty work; this step loses the "
               "most people, so effort here moves the most customers up.")
    return Finding(headline, meaning, section, WEIGHTS["ladder"], figure)


def nps_finding(nps: float, low: float, high: float, *, n: int, promoters: float,
                detractors: float, section: str, figure: str | None = None,
                fmt: Formats | None = None) -> Finding:
    """The net promoter score with its interval; the verdict by where the interval lies
    against zero (``promoters`` and ``detractors`` are shares, 0..1).

    Examples
    --------
    >>> f = nps_finding(-25.1, -29.6, -20.4, n=1076, promoters=0.203, detractors=0.454,
    ...                 section="What customers say")
    >>> f.headline
    'The net promoter score is −25 (−30 to −20, from 1,076 answers): more customers would
    warn others off than recommend the firm.'
    >>> f.weight
    7.0
    """
    fmt = fmt or Formats()
    where = "below" if high < 0 else "above" if low > 0 else "around"
    verdict = {"below": "more customers would warn others off than recommend the firm",
               "above": "more customers would recommend the firm than warn others off",
               "around": "about as many customers would recommend the firm as would warn "
                         "others off"}[where]
    headline = (f"The net promoter score is {fmt.points(nps)} "
                f"({fmt.interval(low, high, 'points')}, from {fmt.count(n)} answers): "
                f"{verdict}.")
    meaning = (f"{fmt.percent(promoters)} are promoters (9–10) and {fmt.percent(detractors)} "
               f"detractors (0–6). " + (
                   "Satisfaction is an attitude and loyalty a behaviour: detractors who still "
                   "buy are the customers a competitor's offer takes first."
                   if where != "above" else
                   "Promoters are the source of referrals; asking them to refer is the "
                   "cheapest way to win customers."))
    return Finding(headline, meaning, section, WEIGHTS[f"nps {where}"], figure)


def complaints_finding(bands: pl.DataFrame, *, section: str, figure: str | None = None,
                       fmt: Formats | None = None) -> Finding | None:
    """Retention after a complaint, fastest against slowest resolution, when they differ
    at p < 0.05. ``bands`` (from :func:`loyaltylab.metrics.retention_by_resolution`):
    ``band``, ``band_order``, ``numerator``, ``denominator``, ``value``, ``ci_low``,
    ``ci_high``, ``p_value`` (fastest against slowest)."""
    fmt = fmt or Formats()
    b = bands.filter(pl.col("denominator") > 0).sort("band_order")
    if b.height < 2:
        return None
    fast, slow = b.row(0, named=True), b.row(b.height - 1, named=True)
    p = fast.get("p_value")
    if p is None or not p < _ALPHA:
        return None
    more = fast["value"] > slow["value"]
    headline = (f"Customers whose complaint was resolved within "
                f"{_band_words(fast['band'])} stay {'more' if more else 'less'} often: "
                f"{fmt.percent(fast['value'])} "
                f"({fmt.interval(fast['ci_low'], fast['ci_high'], 'percent')}) "
                f"against {fmt.percent(slow['value'])} "
                f"({fmt.interval(slow['ci_low'], slow['ci_high'], 'percent')}) when it took "
                f"{_band_words(slow['band'], slow=True)}.")
    meaning = ("A complaint handled quickly and well makes a customer more loyal, not less: "
               "resolution speed is a retention lever." if more else
               "Fast resolution does not keep customers here: how complaints are resolved "
               "deserves a closer look than how fast.")
    return Finding(headline, meaning, section, WEIGHTS["complaints"], figure)


def _band_words(band: str, *, slow: bool = False) -> str:
    text = str(band).replace("<=", "").replace("d", " days").strip()
    if slow:
        text = text.replace(">", "over").replace(" or open", ", or is still open")
    return " ".join(text.split())


def concentration_finding(top_share: float, *, buyers: int, section: str,
                          figure: str | None = None, top: float = TOP_SHARE,
                          fmt: Formats | None = None) -> Finding:
    """The share of revenue that the top ``top`` (20 %) of buyers bring.

    Examples
    --------
    >>> concentration_finding(0.58, buyers=2691, section="Measure everything").headline
    'The top 20% of buyers (538 of 2,691) bring 58% of the revenue.'
    """
    fmt = fmt or Formats()
    k = int(math.floor(buyers * top))
    headline = (f"The top {fmt.percent(top)} of buyers ({fmt.count(k)} of {fmt.count(buyers)}) "
                f"bring {fmt.percent(top_share)} of the revenue.")
    high = top_share >= 0.5
    meaning = ("Losing one of these customers costs as much as losing several others: they "
               "belong at the top of every retention effort." if high else
               "Revenue is spread widely across buyers: retention work pays across the base, "
               "not only among the biggest buyers.")
    return Finding(headline, meaning, section,
                   WEIGHTS["concentration high" if high else "concentration"], figure)


def repeat_finding(repeat: int, buyers: int, *, section: str, figure: str | None = None,
                   fmt: Formats | None = None) -> Finding | None:
    """The share of buyers who bought more than once, with its 95 % Wilson interval.

    Examples
    --------
    >>> repeat_finding(2490, 2691, section="Repeat buying").headline
    '93% of buyers bought more than once (91%–93%; 2,490 of 2,691).'
    """
    fmt = fmt or Formats()
    if buyers <= 0:
        return None
    low, high = wilson_interval(repeat, buyers)
    share = repeat / buyers
    headline = (f"{fmt.percent(share)} of buyers bought more than once "
                f"({fmt.interval(float(low), float(high), 'percent')}; {fmt.count(repeat)} of "
                f"{fmt.count(buyers)}).")
    meaning = ("Most buyers come back: the existing base, above all those who bought more "
               "than once, deserves most of the attention." if share >= 0.5 else
               "Most buyers buy only once: the weeks after a first order are where loyalty "
               "is won or lost.")
    return Finding(headline[0].upper() + headline[1:], meaning, section, WEIGHTS["repeat"],
                   figure)


def unprofitable_finding(n_unprofitable: int, customers: int, *, section: str,
                         figure: str | None = None,
                         fmt: Formats | None = None) -> Finding | None:
    """Customers who cost more than they bring (profit below zero); None when none do.

    Examples
    --------
    >>> unprofitable_finding(143, 2691, section="Measure everything").headline
    '143 customers (5.3%) cost more than they bring.'
    """
    fmt = fmt or Formats()
    if n_unprofitable <= 0 or customers <= 0:
        return None
    share = n_unprofitable / customers
    headline = (f"{fmt.count(n_unprofitable)} customer{'s' * (n_unprofitable != 1)} "
                f"({fmt.percent(share)}) cost more than they bring.")
    meaning = ("Their discounts, service and acquisition cost exceed their revenue: serve "
               "them differently, or let them go where keeping them costs more.")
    return Finding(headline, meaning, section,
                   WEIGHTS["unprofitable high" if share >= 0.05 else "unprofitable"], figure)


def data_quality_finding(rejected: int, read: int, *, section: str,
                         fmt: Formats | None = None) -> Finding | None:
    """A caveat when more than :data:`REJECT_CAVEAT` of the rows read were rejected.

    Examples
    --------
    >>> data_quality_finding(600, 10_000, section="Data quality").headline
    '6.0% of the rows read (600 of 10,000) were rejected on load; the figures describe the
    rows kept.'
    >>> data_quality_finding(50, 10_000, section="Data quality") is None
    True
    """
    fmt = fmt or Formats()
    if read <= 0 or rejected / read <= REJECT_CAVEAT:
        return None
    share = rejected / read
    headline = (f"{fmt.percent(share)} of the rows read ({fmt.count(rejected)} of "
                f"{fmt.count(read)}) were rejected on load; the figures describe the rows "
                f"kept.")
    meaning = ("Counts and revenue may understate the business by up to that share until the "
               "rows are fixed; the data-quality appendix lists the reasons.")
    return Finding(headline, meaning, section,
                   WEIGHTS["data quality high" if share > 0.05 else "data quality"])

