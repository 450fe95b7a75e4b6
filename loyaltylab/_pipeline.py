"""The one-command client run behind ``loyaltylab report`` and ``make demo`` (not public API).

It loads a source (the bundled sample when none is given), pseudonymises identifiers, runs
each capability the data supports, and hands charts, tables and methods notes to
:class:`loyaltylab.report.Report`. A capability whose table is missing is skipped with a
line in the report saying why; the rest of the report is still produced.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402

from loyaltylab import churn, clv, funnel, metrics, plots, survey  # noqa: E402
from loyaltylab.data import schema as S  # noqa: E402
from loyaltylab.data.crmdata import CRMData  # noqa: E402
from loyaltylab.data.load import load  # noqa: E402
from loyaltylab.data.overview import activity_over_time, customer_mix, table_overview  # noqa: E402
from loyaltylab.datasets import data_path  # noqa: E402
from loyaltylab.exceptions import ConvergenceError, LoyaltyLabError  # noqa: E402
from loyaltylab.report import Footnote, Report  # noqa: E402

__all__ = ["RejectedRowsError", "ReportRun", "load_for_report", "build_report", "run_report"]

INACTIVITY = "180d"
COX_SAMPLE = 50_000
"""Above this many customers the Cox model is fitted on a random sample of this size: the
hazard ratios are already precise there, and lifelines' Schoenfeld residuals grow
quadratically with the rows. Every customer is still scored for the call list."""
WILSON = "95% Wilson score interval"


class RejectedRowsError(LoyaltyLabError):
    """The source loaded, but rows were rejected; the report stops until they are fixed."""

    def __init__(self, data: CRMData) -> None:
        self.data = data
        super().__init__(
            f"{data.report.n_rejected:,} rows were rejected on load, so the report was not "
            f"produced. Fix the rows listed below (run `loyaltylab validate SOURCE --rejects "
            f"DIR` to write them out with their reasons), or pass --allow-rejects to report "
            f"on the rows that were kept.\n\n{data.report}")


@dataclass
class ReportRun:
    """What a run produced: the report, its files, and the capabilities it skipped."""

    report: Report
    files: dict[str, Any]
    skipped: list[tuple[str, str]] = field(default_factory=list)


def load_for_report(source: str | Path | None = None, *, mapping: str | Path | None = None,
                    as_of: Any = None, salt: str | None = None,
                    allow_rejects: bool = False) -> CRMData:
    """Load ``source`` (the bundled sample when None) with identifiers pseudonymised.

    Raises :class:`RejectedRowsError` when rows were rejected and ``allow_rejects`` is
    False. Table-level problems raise the loader's own errors.
    """
    path = data_path("sample") if source is None else source
    data = load(path, mapping=mapping, as_of=as_of, pseudonymize=True,
                salt=salt or secrets.token_hex(16))
    if source is None:
        data.report.source = "bundled sample (simulated)"
    if not data.report.ok and not allow_rejects:
        raise RejectedRowsError(data)
    return data


def _period(data: CRMData) -> tuple[Any, Any]:
    dates = data.orders.get_column(S.ORDERED_AT)
    return dates.min(), data.as_of or dates.max()


def _overview(rep: Report, data: CRMData) -> None:
    start, end = _period(data)
    rep.add_heading("The data")
    rep.add_text("What the dataset holds, how many rows survived validation, who the "
                 "customers are, and how activity developed.")
    rep.add_table(table_overview(data), title="Tables in the dataset")
    rep.add_figure(plots.plot_load_report(data.report.summary()),
                   footnote=Footnote(n=sum(t.read for t in data.report.tables.values()),
                                     unit="rows read"))
    mix = customer_mix(data, by=S.KIND)
    rep.add_figure(plots.plot_customer_mix(mix),
                   footnote=Footnote(n=data.customers.height, start=start, end=end))
    activity = activity_over_time(data, period="quarter")
    rep.add_figure(plots.plot_activity(activity),
                   footnote=Footnote.from_frame(data.orders, date_col=S.ORDERED_AT,
                                                count_col=S.CUSTOMER_ID))


def _measure(rep: Report, data: CRMData) -> None:
    start, end = _period(data)
    buyers = data.orders.get_column(S.CUSTOMER_ID).n_unique()
    rep.add_heading("Measure everything")
    card = metrics.scorecard(data, period="year")
    rep.add_figure(plots.plot_scorecard(card),
                   footnote=Footnote(n=buyers, start=start, end=end, ci=WILSON))
    rep.add_table(card, title="Scorecard")
    defection = metrics.defection_rate(data)
    rep.add_figure(plots.plot_defection(defection),
                   footnote=Footnote(n=buyers, start=start, end=end, ci=WILSON,
                                     definition="typical band: 20-40 % a year"))
    cohorts = metrics.cohort_retention(data.orders, period="quarter")
    rep.add_figure(plots.plot_cohort_heatmap(cohorts),
                   footnote=Footnote(n=buyers, start=start, end=end,
                                     definition="active = ordered in the period"))
    rep.add_figure(plots.plot_whale_curve(metrics.whale_curve(data)),
                   footnote=Footnote(n=buyers, start=start, end=end,
                                     definition="profit = revenue - discounts - cost to "
                                                "serve - acquisition cost"))
    rep.add_methods("Rates carry their numerator and denominator and a 95 % Wilson score "
                    "interval. Cohort retention counts a customer as active in a period when "
                    "they ordered in it (the 'on period N' convention of product analytics).",
                    heading="Measure everything")
    with rep.capability("Contacts and conversion"):
        conv = metrics.contact_conversion(data)
        rep.add_figure(plots.plot_conversion(conv),
                       footnote=Footnote(start=start, end=end, ci=WILSON,
                                         definition="converted = order within 30 days"))
    with rep.capability("Complaint handling"):
        res = metrics.retention_by_resolution(data)
        rep.add_figure(plots.plot_resolution_retention(res),
                       footnote=Footnote(start=start, end=end, ci=WILSON))


def _ladder(rep: Report, data: CRMData) -> None:
    as_of = data.as_of or _period(data)[1]
    rep.add_heading("The loyalty ladder")
    fun = funnel.funnel(data, funnel.OFFLINE, as_of=as_of)
    rep.add_figure(plots.plot_funnel(fun),
                   footnote=Footnote(n=data.customers.height, end=as_of, ci=WILSON))
    rep.add_table(fun, title="Loyalty ladder funnel")
    moves = funnel.transition_matrix(data, funnel.OFFLINE, start=as_of - timedelta(days=365),
                                     end=as_of)
    rep.add_figure(plots.plot_transition_heatmap(moves),
                   footnote=Footnote(start=as_of - timedelta(days=365), end=as_of,
                                     definition="lapsed = no order and no contact for 365 "
                                                "days"))
    rep.add_methods("Stages follow the offline ladder's default rules (suspect, prospect, "
                    "first-time customer, repeat customer, client: 4+ orders or 2+ product "
                    "lines in 365 days, advocate: a client who referred in 730 days).",
                    heading="Loyalty ladder")


def _churn(rep: Report, data: CRMData) -> None:
    start, end = _period(data)
    definition = f"churned = no order for {INACTIVITY[:-1]} days"
    rep.add_heading("Churn and retention")
    table = churn.churn_table(data, inactivity=INACTIVITY)
    by = S.SEGMENT if S.SEGMENT in table.columns and table[S.SEGMENT].n_unique() > 1 else None
    km = churn.KaplanMeier().fit(table, by=by)
    rep.add_figure(plots.plot_retention(km, unit="months"),
                   footnote=Footnote(n=table.height, start=start, end=end,
                                     ci="95% exponential Greenwood band",
                                     definition=definition))
    rep.add_table(km.summary, title="Retention summary")
    candidates = [c for c in (S.SEGMENT, S.REWARD_SCHEME, S.ACQUISITION_CHANNEL, "orders_90d",
                              "emails_over_threshold")
                  if c in table.columns and table[c].drop_nulls().n_unique() > 1]
    if candidates:
        fit_on = table if table.height <= COX_SAMPLE else table.sample(COX_SAMPLE, seed=0)
        try:
            cox = churn.CoxModel(covariates=candidates).fit(fit_on)
        except ConvergenceError as exc:
            # a rare level or a near-separating covariate: shrink instead of failing the run
            cox = churn.CoxModel(covariates=candidates, penalizer=0.1).fit(fit_on)
            rep.add_text(f"The unpenalised Cox model did not converge ({exc}); the hazard "
                         f"ratios below are shrunk towards 1 (ridge penalty 0.1).")
        sampled = (f"fitted on a random {COX_SAMPLE:,} of {table.height:,} customers"
                   if fit_on.height < table.height else None)
        rep.add_figure(plots.plot_hazard_ratios(cox.summary),
                       footnote=Footnote(n=fit_on.height, start=start, end=end,
                                         ci="95% Wald interval", definition=definition,
                                         extra=[sampled] if sampled else ()))
        rep.add_text(cox.ph_verdict())
        calls = churn.at_risk_list(table, cox, horizon="90d", top=200)
        rep.add_figure(plots.plot_at_risk_list(calls, top=15),
                       footnote=Footnote(end=end, definition="P(lost in the next 90 days): "
                                         "BG/NBD given days silent under the "
                                         f"{INACTIVITY[:-1]}-day rule; drivers from the "
                                         "Cox model; identifiers pseudonymised"))
    rep.add_methods(f"Churn follows the non-contractual rule: {definition}; customers whose "
                    "window had not ended by the as-of date are censored, not counted as "
                    "loyal. The call list ranks active customers by the chance that the rule "
                    "declares them churned within 90 days (a BG/NBD model of their buying "
                    "rhythm, given how long they have been silent). Kaplan-Meier and Cox "
                    "models are fitted with lifelines; above "
                    f"{COX_SAMPLE:,} customers the Cox model is fitted on a random sample of "
                    f"{COX_SAMPLE:,} and then scores every customer.",
                    heading="Churn")


def _clv(rep: Report, data: CRMData) -> None:
    rep.add_heading("Repeat buying and customer value")
    rfm = clv.rfm_summary(data.orders, time_unit="W", observation_end=data.as_of)
    bg = clv.BetaGeo().fit(rfm)
    rep.add_table(bg.summary, title="BG/NBD parameters")
    rep.add_figure(plots.plot_alive_matrix(clv.probability_alive_matrix(bg)),
                   footnote=Footnote(n=rfm.height, unit="buyers",
                                     definition="BG/NBD, weekly time unit"))
    rep.add_methods("BG/NBD (Fader, Hardie & Lee 2005) fitted by maximum likelihood; time in "
                    "weeks; frequency counts repeat purchases on distinct weeks.",
                    heading="Customer value")


def _surveys(rep: Report, data: CRMData) -> None:
    data.require(S.SURVEYS, purpose="Survey scoring")
    rep.add_heading("What customers say")
    nps_answers = data.surveys.filter(pl.col(S.ITEM) == "nps")
    by = S.SEGMENT if S.SEGMENT in data.customers.columns else None
    scores = survey.nps(data.replace(surveys=nps_answers), by=by)
    rep.add_figure(plots.plot_nps(scores),
                   footnote=Footnote(n=nps_answers.height, unit="answers",
                                     ci="95% adjusted-Wald (Rocks 2016)"))
    trend = survey.score_trend(data)
    rep.add_figure(plots.plot_score_trend(trend),
                   footnote=Footnote(ci="95% adjusted-Wald (Rocks 2016)"))
    rep.add_methods("NPS = % promoters (9-10) - % detractors (0-6), with adjusted-Wald "
                    "intervals (Rocks 2016).", heading="Surveys")


SECTIONS = (
    ("Data overview", _overview),
    ("Measure everything", _measure),
    ("Loyalty ladder", _ladder),
    ("Churn and retention", _churn),
    ("Repeat buying and customer value", _clv),
    ("Survey scores", _surveys),
)


def build_report(data: CRMData, *, title: str = "Customer loyalty report",
                 progress: bool | None = None) -> Report:
    """Run every capability the data supports and assemble the report (nothing written)."""
    from tqdm import tqdm

    rep = Report.for_data(data, title=title)
    bar = tqdm(SECTIONS, desc="analyses", disable=None if progress is None else not progress)
    with plots.style_context():
        for name, section in bar:
            bar.set_description(name)
            with rep.capability(name):
                section(rep, data)
            plt.close("all")
    return rep


def run_report(source: str | Path | None = None, *, out: str | Path = "reports",
               mapping: str | Path | None = None, as_of: Any = None, salt: str | None = None,
               allow_rejects: bool = False, progress: bool | None = None) -> ReportRun:
    """Load, analyse and write the full report into ``out``.

    Returns
    -------
    ReportRun
        The report, the files written (``charts``, ``workbook``, ``html``, ``deck``) and the
        capabilities skipped with their reasons.
    """
    data = load_for_report(source, mapping=mapping, as_of=as_of, salt=salt,
                           allow_rejects=allow_rejects)
    rep = build_report(data, progress=progress)
    files = rep.write_all(out, progress=progress)
    return ReportRun(rep, files, rep.skipped)
