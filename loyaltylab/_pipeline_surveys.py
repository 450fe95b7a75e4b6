"""The report's survey section: the net promoter score, customer satisfaction and survey
scores over time (not public API).
"""

from __future__ import annotations

import polars as pl

# the shared parts first: they pick matplotlib's headless backend before plots loads pyplot
from loyaltylab._pipeline_base import _Context, _groupings, _part, _plain_col
from loyaltylab import _summary, plots, survey
from loyaltylab.data import schema as S
from loyaltylab.report import Footnote

__all__: list[str] = []  # and _surveys, the section's run, used by loyaltylab._pipeline


def _surveys(ctx: _Context) -> None:
    rep, data, fmt = ctx.report, ctx.data, ctx.report.formats
    section = "What customers say"
    rep.add_heading(section, question="Would customers recommend the firm, and is that "
                                      "changing?")
    nps_answers = data.surveys.filter(pl.col(S.ITEM) == "nps")
    if nps_answers.height == 0:
        rep.add_skipped(f"{ctx.section}: net promoter score",
                        "The surveys hold no answers to the recommendation question, so no "
                        "net promoter score is shown.")
    else:
        with _part(ctx, "net promoter score"):
            by = S.SEGMENT if S.SEGMENT in _groupings(data.customers, limit=12) else None
            scores = survey.nps(data.replace(surveys=nps_answers), by=by)
            rep.add_figure(plots.plot_nps(scores), title="Net Promoter Score (NPS)", name="nps",
                           footnote=Footnote(n=nps_answers.height, unit="answers",
                                             ci="95% adjusted-Wald (Rocks 2016)"))
            overall = survey.nps(data.replace(surveys=nps_answers)) if by else scores
            o = overall.row(0, named=True)
            finding = _summary.nps_finding(
                o["nps"], o["ci_low"], o["ci_high"], n=int(o["n"]),
                promoters=o["promoters_pct"] / 100, detractors=o["detractors_pct"] / 100,
                section=section, figure="nps", fmt=fmt)
            rep.add_finding(finding)
            rep.add_text(finding.headline + " " + finding.meaning)
            cols = [c for c in (by, "n", "promoters_pct", "passives_pct", "detractors_pct",
                                "nps", "ci_low", "ci_high") if c and c in scores.columns]
            rep.add_table(scores.select(cols), title="Net promoter score",
                          labels={"n": "Answers"})
    csat_answers = data.surveys.filter(pl.col(S.ITEM) == "csat")
    if csat_answers.height:
        with _part(ctx, "customer satisfaction"):
            by = S.SEGMENT if S.SEGMENT in _groupings(data.customers, limit=12) else None
            sat = survey.csat(data.replace(surveys=csat_answers))
            if by is not None:
                sat = pl.concat([sat.select(pl.lit("all customers").alias(by), pl.all()),
                                 survey.csat(data.replace(surveys=csat_answers), by=by)
                                 .with_columns(pl.col(by).cast(pl.String))],
                                how="vertical_relaxed")
            rep.add_table(sat, title="Customer satisfaction", workbook_only=True,
                          formats={"n": "count", "satisfied": "count"},
                          note="Customer satisfaction: the percentage of answers in the top "
                               "two boxes of the 1-5 scale (4 or 5) with its 95 % Wilson "
                               "interval, and the mean answer with its 95 % interval.")
    with _part(ctx, "scores over time"):
        trend = survey.score_trend(data)
        wave = trend.columns[0]
        trend = _plain_col(trend, wave)
        rep.add_figure(plots.plot_score_trend(trend), title="Survey scores over time",
                       name="score-trend",
                       footnote=Footnote(ci="95% adjusted-Wald (Rocks 2016)"))
        cols = [c for c in (wave, "started_at", "n", "promoters_pct", "passives_pct",
                            "detractors_pct", "nps", "ci_low", "ci_high", "change",
                            "change_p_value") if c in trend.columns]
        rep.add_table(trend.select(cols), title="Survey scores over time", workbook_only=True,
                      formats={c: f for c, f in (("started_at", "date"), ("nps", "0.0"),
                                                 ("ci_low", "0.0"), ("ci_high", "0.0"),
                                                 ("change", "0.0"),
                                                 ("change_p_value", "pvalue"))
                               if c in cols},
                      note="The net promoter score of each survey wave, in points from -100 "
                           "to 100, with its 95 % adjusted-Wald interval, the change from "
                           "the wave before and that change's p-value.")
    rep.add_methods("Net promoter score = share of promoters (answers 9-10) minus share of "
                    "detractors (0-6), in points from -100 to 100, with adjusted-Wald "
                    "intervals (Rocks 2016).", heading="Surveys")
