"""The report's section "Measure everything": the scorecard, defection, cohort retention
and profit by customer (not public API).
"""

from __future__ import annotations

from typing import Any

import polars as pl

# the shared parts first: they pick matplotlib's headless backend before plots loads pyplot
from loyaltylab._pipeline_base import WILSON, _Context, _part
from loyaltylab import _summary, metrics, plots
from loyaltylab.data import schema as S
from loyaltylab.report import Footnote

__all__: list[str] = []  # and _measure, the section's run, used by loyaltylab._pipeline


_SCORECARD_COLUMNS = ("metric", "unit", "previous", "current", "change", "change_ci_low",
                      "change_ci_high", "p_value")


def _scorecard_table(card: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """The scorecard as a client reads it: the measure, the two years, the change with
    its interval and p-value (definitions go to the glossary), with year headings."""
    cols = [c for c in _SCORECARD_COLUMNS if c in card.columns]
    labels = {"change_ci_low": "Change: 95 % interval"}
    for col, period in (("previous", "previous_period"), ("current", "current_period")):
        if period in card.columns and card.height:
            start = card.get_column(period).drop_nulls()
            if start.len():
                value = start[0]
                labels[col] = (str(value.year) if hasattr(value, "year") else str(value))
    return card.select(cols), labels


def _significant_changes(card: pl.DataFrame, fmt: Any) -> str | None:
    """One sentence: which scorecard measures changed beyond chance (p < 0.05)."""
    if "p_value" not in card.columns:
        return None
    tested = card.filter(pl.col("p_value").is_not_null())
    sig = tested.filter(pl.col("p_value") < 0.05)
    if tested.height == 0:
        return None
    if sig.height == 0:
        return (f"None of the {fmt.count(tested.height)} measures with an interval changed "
                f"by more than chance would explain (p < 0.05) between the last two years.")
    moves = [f"{r['metric'].lower()} {'rose' if r['change'] > 0 else 'fell'}"
             for r in sig.iter_rows(named=True)]
    return (f"{fmt.count(sig.height)} of {fmt.count(tested.height)} measures with an interval "
            f"changed by more than chance would explain (p < 0.05) between the last two "
            f"years: {', '.join(moves)}.")


def _show_cohorts(ctx: _Context, cohorts: pl.DataFrame, *, n: int) -> None:
    """The cohort heatmap and its sentence, from quarterly cohort retention (computed in
    memory, or from the counts the engine run brings back from the database)."""
    rep, fmt = ctx.report, ctx.report.formats
    start, end = ctx.start, ctx.as_of
    rep.add_figure(plots.plot_cohort_heatmap(cohorts), title="Cohort retention by quarter",
                   name="cohorts",
                   footnote=Footnote(n=n, start=start, end=end,
                                     definition="active = ordered in the period"))
    pooled = (cohorts.filter(pl.col("period").is_in([1, 4]))
              .group_by("period").agg(pl.col("active").sum(), pl.col("cohort_size").sum())
              .sort("period"))
    when = {1: "in the quarter after their first", 4: "four quarters later"}
    said = [f"{fmt.percent(r['active'] / r['cohort_size'])} {when[r['period']]}"
            for r in pooled.iter_rows(named=True) if r["cohort_size"]]
    if said:
        rep.add_text("Across all cohorts, customers ordered again: " + ", and ".join(said)
                     + ". Each row of the chart is the customers who first bought in "
                     "one quarter.")


def _measure(ctx: _Context) -> None:
    rep, data, fmt = ctx.report, ctx.data, ctx.report.formats
    start, end = ctx.start, ctx.as_of
    # revenue per buyer, most first: its rows are the buyers (one pass for both figures)
    per_buyer = (data.orders.lazy().group_by(S.CUSTOMER_ID)
                 .agg(pl.col(S.AMOUNT).sum().alias("revenue"))
                 .sort("revenue", descending=True).collect())
    buyers = per_buyer.height
    section = "Measure everything"
    rep.add_heading(section, question="How did the headline loyalty figures move, how many "
                                      "customers are lost each year, and who brings the "
                                      "profit?")
    with _part(ctx, "scorecard"):
        card = metrics.scorecard(data, period="year")
        rep.add_figure(plots.plot_scorecard(card), title="Loyalty scorecard",
                       name="scorecard",
                       footnote=Footnote(n=buyers, start=start, end=end, ci=WILSON))
        reading = _significant_changes(card, fmt)
        if reading:
            rep.add_text(reading)
        table, labels = _scorecard_table(card)
        rep.add_table(table, title="Scorecard", labels=labels, row_kinds="unit")
    with _part(ctx, "defection rate"):
        defection = metrics.defection_rate(data)
        rep.add_figure(plots.plot_defection(defection), title="Defection: customers lost per year",
                       name="defection",
                       footnote=Footnote(n=buyers, start=start, end=end, ci=WILSON,
                                         definition="typical band: 20-40 % a year"))
        done = defection.filter(pl.col("denominator") > 0)
        if done.height:
            last = done.row(-1, named=True)
            year = str(last["period_start"].year) if hasattr(last["period_start"], "year") \
                else str(last["period_start"])
            rate = last.get("annualized", last["value"])
            finding = _summary.defection_finding(
                rate, last["ci_low"], last["ci_high"], lost=int(last["numerator"]),
                base=int(last["denominator"]), year=year, section=section,
                figure="defection", fmt=fmt)
            rep.add_finding(finding)
            rep.add_text(finding.headline + " " + finding.meaning)
    with _part(ctx, "cohort retention"):
        cohorts = metrics.cohort_retention(data.orders, period="quarter")
        _show_cohorts(ctx, cohorts, n=buyers)
    with _part(ctx, "profit by customer"):
        whale = metrics.whale_curve(data)
        rep.add_figure(plots.plot_whale_curve(whale), title="Profit by customer (whale curve)",
                       name="whale-curve",
                       footnote=Footnote(n=buyers, start=start, end=end,
                                         definition="profit = revenue - discounts - cost to "
                                                    "serve - acquisition cost"))
        n_loss = int((whale.get_column("profit") < 0).sum())
        finding = _summary.unprofitable_finding(n_loss, whale.height, section=section,
                                                figure="whale-curve", fmt=fmt)
        if finding is not None:
            rep.add_finding(finding)
            rep.add_text(finding.headline + " " + finding.meaning)
    with _part(ctx, "revenue concentration"):
        total = float(per_buyer.get_column("revenue").sum() or 0.0)
        k = int(per_buyer.height * _summary.TOP_SHARE)
        if total > 0 and k > 0:
            top = float(per_buyer.get_column("revenue").head(k).sum()) / total
            finding = _summary.concentration_finding(top, buyers=per_buyer.height,
                                                     section=section, figure="whale-curve",
                                                     fmt=fmt)
            rep.add_finding(finding)
            rep.add_text(finding.headline + " " + finding.meaning)
    rep.add_methods("Rates carry their numerator and denominator and a 95 % Wilson score "
                    "interval. Cohort retention counts a customer as active in a period when "
                    "they ordered in it. The scorecard compares the last complete year with "
                    "the one before; a change is called significant when its p-value is "
                    "below 0.05.", heading="Measure everything")
    if data.contacts is None:
        rep.add_skipped(f"{ctx.section}: contacts and conversion",
                        "Conversion of contacts into orders needs a contacts table "
                        "(customer, contact date and channel), which this dataset does not "
                        "have.")
    else:
        with _part(ctx, "contacts and conversion"):
            by = S.CHANNEL if S.CHANNEL in data.contacts.columns else None
            conv = metrics.contact_conversion(data, by=by)
            rep.add_figure(plots.plot_conversion(conv),
                           title="Contact-to-sale conversion: contacts followed by an order",
                           name="conversion",
                           footnote=Footnote(start=start, end=end, ci=WILSON,
                                             definition="converted = order within 30 days"))
    if data.complaints is None or S.RESOLVED_AT not in data.complaints.columns:
        what = ("a complaints table (customer, opened and resolved dates)"
                if data.complaints is None else "the resolved date of each complaint")
        rep.add_skipped(f"{ctx.section}: complaint handling",
                        f"Retention by how fast complaints were resolved needs {what}, "
                        f"which this dataset does not have.")
    else:
        with _part(ctx, "complaint handling"):
            res = metrics.retention_by_resolution(data)
            rep.add_figure(plots.plot_resolution_retention(res),
                           title="Retention by how fast complaints were resolved",
                           name="complaints",
                           footnote=Footnote(start=start, end=end, ci=WILSON))
            finding = _summary.complaints_finding(res, section=section, figure="complaints",
                                                  fmt=fmt)
            if finding is not None:
                rep.add_finding(finding)
                rep.add_text(finding.headline + " " + finding.meaning)
            else:
                rep.add_text("Retention after a complaint does not differ measurably between "
                             "fast and slow resolution (p of 0.05 or more).")
