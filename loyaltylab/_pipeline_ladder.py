"""The report's loyalty-ladder section, and :func:`ladder_for_data`, the ladder as far as
the data can measure it (not public API).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

# the shared parts first: they pick matplotlib's headless backend before plots loads pyplot
from loyaltylab._pipeline_base import WILSON, _Context, _part
from loyaltylab import _summary, funnel, plots
from loyaltylab.data.crmdata import CRMData
from loyaltylab.report import Footnote

__all__ = ["ladder_for_data"]  # and _ladder, the section's run, used by loyaltylab._pipeline


def ladder_for_data(data: CRMData, ladder: funnel.Ladder = funnel.OFFLINE
                    ) -> tuple[funnel.Ladder, list[str]]:
    """The ladder as far as the data can measure it, and a plain sentence per change.

    A rung whose rule needs a table (or column) the data lack is left out (without
    referrals the offline ladder ends at "client"); a rule that merely excludes events of
    a missing table ("no contacts") holds for everyone, and is dropped from the rule; an
    alternative that needs a missing column ("or 2 product lines") is dropped.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> data = ll.datasets.load_sample()
    >>> lad, notes = ladder_for_data(data.replace(referrals=None))
    >>> lad.names[-1]
    'client'
    >>> notes
    ['The top rung, advocate, is not shown: it needs a referrals table (its rule:
    referrals >= 1 within 730 days), which this dataset does not have.']
    """
    lad, changes = ladder.measurable(data)
    return lad, [str(c) for c in changes]


def _show_funnel(ctx: _Context, fun: pl.DataFrame, display: dict[str, str], *, n: int,
                 section: str) -> None:
    """The ladder funnel's chart, sentence, finding and table, from the funnel frame
    (:func:`loyaltylab.funnel.funnel` in memory; built from the people per rung that the
    engine run counts inside the database)."""
    rep, as_of, fmt = ctx.report, ctx.as_of, ctx.report.formats
    rep.add_figure(plots.plot_funnel(fun), title="Loyalty ladder: people on each rung",
                   name="ladder",
                   footnote=Footnote(n=n, end=as_of, ci=WILSON))
    shown = fun.with_columns(pl.col("stage").replace(display).alias("rung"))
    finding = _summary.ladder_finding(shown, section=section, figure="ladder", fmt=fmt)
    top = shown.row(-1, named=True)
    rep.add_text(f"{fmt.count(shown.row(0, named=True)['reached'])} people are on the "
                 f"ladder; {fmt.count(top['reached'])} "
                 f"({fmt.percent(top['share_of_top'])}) reached the top rung, "
                 f"{top['rung']}." + (" " + finding.headline if finding else ""))
    if finding is not None:
        rep.add_finding(finding)
    cols = [c for c in ("rung", "reached", "share_of_top", "at_stage", "lapsed",
                        "conversion", "ci_low", "ci_high") if c in shown.columns]
    rep.add_table(shown.select(cols), title="Loyalty ladder",
                  labels={"conversion": "Moved up to the next rung"})


def _ladder(ctx: _Context) -> None:
    rep, data, as_of = ctx.report, ctx.data, ctx.as_of
    section = "The loyalty ladder"
    rep.add_heading(section, question="How far up the loyalty ladder do people get, and "
                                      "where are most of them lost?")
    ladder, notes = ladder_for_data(data)
    for note in notes:
        rep.add_text(note)
    display = {st.name: st.display for st in ladder.stages}
    timeline = None
    with _part(ctx, "ladder funnel"):
        # evaluated once for the funnel and the moves (the costly step at scale)
        timeline = ladder.evaluate(data, as_of=as_of)
        fun = funnel.funnel(timeline)
        _show_funnel(ctx, fun, display, n=data.customers.height, section=section)
    with _part(ctx, "moves between rungs"):
        year_ago = as_of - timedelta(days=365)
        moves = (funnel.transition_matrix(timeline, start=year_ago) if timeline is not None
                 else funnel.transition_matrix(data, ladder, start=year_ago, end=as_of))
        rep.add_figure(plots.plot_transition_heatmap(moves),
                       title="Moves between rungs in the last year", name="ladder-moves",
                       footnote=Footnote(start=year_ago, end=as_of,
                                         definition="lapsed = no order and no contact for 365 "
                                                    "days"))
        states = [c for c in moves.columns if c not in ("from_state", "n")]
        names = {c: display.get(c, c.replace("_", " ")) for c in states}
        sheet = (moves.with_columns(pl.col("from_state").cast(pl.String)
                                    .replace(names).alias("rung a year ago"))
                 .select("rung a year ago", pl.col("n").alias("people"),
                         *[pl.col(c).alias(names[c]) for c in states]))
        rep.add_table(sheet, title="Moves between rungs", workbook_only=True,
                      formats={names[c]: "percent" for c in states},
                      note="Where the people on each rung a year ago stood at the measuring "
                           "date: each row's shares add up to 100 %; lapsed means no order "
                           "and no contact for 365 days.")
    _ladder_methods(rep, ladder)


def _ladder_methods(rep: Any, ladder: funnel.Ladder) -> None:
    """The methods note on the rungs shown."""
    rungs = ", ".join(s.display for s in ladder.stages)
    rep.add_methods(f"Rungs shown: {rungs}. Stages follow the offline ladder's default rules "
                    "(suspect, prospect, first-time customer, repeat customer, client: 4 or "
                    "more orders or 2 or more product lines in 365 days, advocate: a client "
                    "who referred someone in 730 days); a rung whose data are missing is left "
                    "out and said so.", heading="Loyalty ladder")
