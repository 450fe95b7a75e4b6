"""The report's churn section: retention curves, the drivers of churn (Cox model) and the
call list, :func:`call_list` (not public API).
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

# the shared parts first: they pick matplotlib's headless backend before plots loads pyplot
from loyaltylab._pipeline_base import (HORIZON, INACTIVITY, _Context, _groupings, _noop, _part,
                                       _per_customer, _pseudonymised, _setting)
from loyaltylab import _summary, churn, plots
from loyaltylab.data import schema as S
from loyaltylab.exceptions import LoyaltyLabError, SeparationError
from loyaltylab.report import Footnote

__all__ = ["call_list"]  # and _churn, the section's run, used by loyaltylab._pipeline


def call_list(table: churn.ChurnTable | pl.DataFrame, cox: Any, *, horizon: str = HORIZON,
              inactivity: str = INACTIVITY, top: int | None = 200) -> pl.DataFrame:
    """The call list of the report: active customers ranked by the chance, given their own
    buying rhythm, that they have already stopped buying.

    :func:`loyaltylab.churn.at_risk_list` with ``rank_by="p_stopped"`` (see there for why
    this ranking rather than ``p_lapse``), as a frame.

    Returns
    -------
    pl.DataFrame
        The columns of :func:`~loyaltylab.churn.at_risk_list`, plus

        - p_stopped: 1 - p_alive, the ranking key (null when BG/NBD could not be fitted:
          the list is then ranked by ``p_churn``)
    """
    return churn.at_risk_list(table, cox, horizon=horizon, inactivity=inactivity, top=top,
                              rank_by="p_stopped").frame


_COVARIATE_WORDS = {
    S.SEGMENT: "segment", S.REWARD_SCHEME: "reward scheme",
    S.ACQUISITION_CHANNEL: "acquisition channel",
    "orders_90d": "orders in the first 90 days (each one more)",
    "emails_over_threshold": "months with more e-mails than the contact threshold (each one "
                             "more)",
}


_COVARIATE_SHORT = {"orders_90d": "orders in the first 90 days",
                    "emails_over_threshold": "many e-mails"}


def _driver_words(cox: Any) -> dict[str, str]:
    """Each Cox covariate (``reward_scheme=every_purchase``, ``orders_90d``) in short plain
    words (``reward scheme every purchase``, ``orders in the first 90 days``)."""
    out = {}
    for cov, var in cox.summary.select("covariate", "variable").iter_rows():
        name = _COVARIATE_SHORT.get(var, _COVARIATE_WORDS.get(var, var.replace("_", " ")))
        level = cov.split("=", 1)[1].replace("_", " ") if "=" in cov else ""
        out[cov] = f"{name} {level}".strip()
    return out


def _plain_drivers(calls: pl.DataFrame, cox: Any) -> pl.DataFrame:
    """The call list's ``drivers`` ("reward_scheme=none (x1.15), orders_90d (x1.41)") in
    plain words ("reward scheme none (risk ×1.15), orders in the first 90 days (risk
    ×1.41)")."""
    words = _driver_words(cox)
    expr = pl.col("drivers").fill_null("")
    for cov in sorted(words, key=len, reverse=True):
        expr = expr.str.replace_all(f"{cov} (x", f"{words[cov]} (risk ×", literal=True)
    return calls.with_columns(expr.alias("drivers"))


_SEPARATION_WORDS = {
    "orders_90d": "{value} orders in their first 90 days",
    "emails_over_threshold": "{value} months with more e-mails than the contact threshold",
}


def _separation_sentence(exc: SeparationError, fmt: Any) -> str:
    """Why the plain Cox model could not be fitted, in a client's words: "None of the 12
    customers whose reward scheme is none has left, so ..."."""
    name = _COVARIATE_WORDS.get(exc.covariate, exc.covariate.replace("_", " "))
    if exc.level is not None:
        level = exc.level.replace("_", " ")
        group = f"whose {name} is {'not ' if exc.other else ''}{level}"
    else:
        value = f"{exc.value:g}"
        words = _SEPARATION_WORDS.get(exc.covariate)
        group = ("with " + words.format(value=value)) if words else f"whose {name} is {value}"
    n = exc.n
    who = (f"None of the {fmt.count(n)} customers {group} has left"
           if n != 1 else f"The one customer {group} has not left")
    return (f"{who}, so how much this protects against leaving cannot be measured exactly "
            f"on these data.")


def _effects(cox: Any, table: pl.DataFrame) -> pl.DataFrame:
    """The Cox model's hazard ratios in plain words, one row per attribute: ``label``
    ("Reward scheme none (against every purchase)"), ``hazard_ratio``, ``ci_low``,
    ``ci_high``, ``p_value``."""
    summary = cox.summary
    refs: dict[str, str] = {}
    for var in summary.get_column("variable").unique().to_list():
        levels = [c.split("=", 1)[1] for c in summary.filter(pl.col("variable") == var)
                  .get_column("covariate").to_list() if "=" in c]
        if levels and var in table.columns:
            rest = [str(v) for v in table.get_column(var).drop_nulls().unique().to_list()
                    if str(v) not in levels]
            if len(rest) == 1:
                refs[var] = rest[0]

    def words(cov: str, var: str) -> str:
        name = _COVARIATE_WORDS.get(var, var.replace("_", " "))
        if "=" in cov:
            level = cov.split("=", 1)[1].replace("_", " ")
            ref = refs.get(var)
            text = f"{name} {level}" + (f" (against {ref.replace('_', ' ')})" if ref else "")
        else:
            text = name
        return text[:1].upper() + text[1:]

    labels = [words(c, v) for c, v in summary.select("covariate", "variable").iter_rows()]
    return pl.DataFrame({"label": labels}).hstack(
        summary.select(pl.col("hazard_ratio"), pl.col("hr_ci_low").alias("ci_low"),
                       pl.col("hr_ci_high").alias("ci_high"), pl.col("p_value")))


def _ph_sentence(cox: Any, effects: pl.DataFrame) -> str:
    """Whether each effect holds at every age of the relationship, in plain words."""
    ph = cox.check_proportional_hazards()
    failing = set(ph.filter(~pl.col("holds")).get_column("covariate").to_list())
    if not failing:
        return ("Each effect holds at every age of the relationship (a test of the model's "
                "assumption found no change over time).")
    names = [lab for lab, cov in zip(effects.get_column("label").to_list(),
                                     cox.summary.get_column("covariate").to_list())
             if cov in failing]
    names = [n[:1].lower() + n[1:] for n in names]
    if len(names) == 1:
        return (f"The effect of {names[0]} changes with the age of the relationship: its "
                f"number is an average over the customer's lifetime.")
    return (f"The effects of {'; of '.join(names[:-1])} and of {names[-1]} change with the "
            f"age of the relationship: their numbers are averages over the customer's "
            f"lifetime.")


def _retention(ctx: _Context, table: pl.DataFrame, *, by: str | None,
               definition: str) -> None:
    """The retention curve (Kaplan-Meier), its one-year sentence and summary table, from a
    frame with one row per customer and its ``duration`` and ``event``: the churn table in
    memory, or the per-customer rows the engine run brings back from the database."""
    rep, fmt = ctx.report, ctx.report.formats
    start, end = ctx.start, ctx.as_of
    with _part(ctx, "retention curve"):
        try:
            km = churn.KaplanMeier().fit(table, by=by)
        except (LoyaltyLabError, ValueError):
            if by is None:
                raise
            km = churn.KaplanMeier().fit(table)
            rep.add_text("Retention is shown for all customers together: the segments are "
                         "too small to draw one curve each.")
        rep.add_figure(plots.plot_retention(km, unit="months"),
                       title="Retention: share of customers still buying, by months since "
                             "their first order", name="retention",
                       footnote=Footnote(n=table.height, start=start, end=end,
                                         ci="95% exponential Greenwood band",
                                         definition=definition))
        summ = km.summary
        if "survival_1y" in summ.columns and summ.height:
            rows = summ.filter(pl.col("survival_1y").is_not_null()).sort("survival_1y")
            if rows.height == 1:
                r = rows.row(0, named=True)
                band = fmt.interval(r["survival_1y_ci_low"], r["survival_1y_ci_high"], "percent")
                rep.add_text(f"A year after their first order, {fmt.percent(r['survival_1y'])} "
                             f"of customers are still buying ({band}).")
            elif rows.height > 1:
                lo, hi = rows.row(0, named=True), rows.row(-1, named=True)
                rep.add_text(f"A year after their first order, between "
                             f"{fmt.percent(lo['survival_1y'])} ({lo['group']}) and "
                             f"{fmt.percent(hi['survival_1y'])} ({hi['group']}) of customers "
                             f"are still buying.")
        rep.add_text(f"A customer counts as lost after {INACTIVITY[:-1]} days without an "
                     f"order, so every curve starts flat: nobody can be lost in their first "
                     f"{INACTIVITY[:-1]} days.")
        keep = [c for c in summ.columns if not re.match(r"survival_3y", c)]
        rep.add_table(summ.select(keep), title="Retention summary")


CHURN_SECTION = "Churn and retention"
CHURN_QUESTION = ("How long do customers stay, what makes them leave, and whom should the "
                  "team call first?")
CHURN_DEFINITION = f"churned = no order for {INACTIVITY[:-1]} days"


def _churn(ctx: _Context) -> None:
    rep, data, fmt = ctx.report, ctx.data, ctx.report.formats
    rep.add_heading(CHURN_SECTION, question=CHURN_QUESTION)
    table = churn.churn_table(data, inactivity=INACTIVITY, orders_before_acquisition="report")
    early = table.report.n_orders_before_acquisition
    if early:
        rep.add_text(f"{fmt.count(early)} customers have an order dated before the date they "
                     f"were acquired; their lifetime starts at the first order.")
    _churn_parts(ctx, table)
    rep.add_methods(_churn_methods(fmt), heading="Churn")


def _churn_methods(fmt: Any, *, in_database: bool = False) -> str:
    """The churn section's methods paragraph (``in_database``: the engine run's words on
    where each customer's first and last order were computed)."""
    cox_sample = _setting("COX_SAMPLE")
    return (f"Churn follows the non-contractual rule: {CHURN_DEFINITION}; customers whose "
            "window had not ended by the measuring date are censored, not counted as "
            "loyal. Retention curves are Kaplan-Meier estimates with 95 % bands. What "
            "drives churn is a Cox proportional-hazards model: a hazard ratio above 1 "
            "means a higher risk of leaving at any moment, and an effect counts as "
            "measurable when its 95 % interval excludes 1. The call list ranks active "
            "customers by the BG/NBD probability that they have stopped buying, given "
            "the number and timing of their orders (not by their distance to the churn "
            "rule's threshold). Both models are fitted with lifelines; above "
            f"{fmt.count(cox_sample)} customers the Cox model is fitted on a random "
            f"sample of {fmt.count(cox_sample)} and then scores every customer."
            + (" Each customer's first and last order, order count and orders in the first "
               "90 days were computed inside the database; the customer attributes came "
               "back with them, one row per customer." if in_database else ""))


def _churn_parts(ctx: _Context, table: Any) -> None:
    """Retention curves, the drivers of churn and the call list from a table with one row
    per customer (the churn table in memory, or the rows the engine run brings back from
    the database with the customers' attributes)."""
    rep, fmt = ctx.report, ctx.report.formats
    cox_sample, workbook_customers = _setting("COX_SAMPLE"), _setting("WORKBOOK_CUSTOMERS")
    start, end = ctx.start, ctx.as_of
    section, definition = CHURN_SECTION, CHURN_DEFINITION
    by = S.SEGMENT if S.SEGMENT in _groupings(table, limit=12) else None
    _retention(ctx, table, by=by, definition=definition)
    candidates = [c for c in (S.SEGMENT, S.REWARD_SCHEME, S.ACQUISITION_CHANNEL, "orders_90d",
                              "emails_over_threshold")
                  if c in table.columns and table[c].drop_nulls().n_unique() > 1]
    if not candidates:
        rep.add_skipped(f"{ctx.section}: drivers and call list",
                        "What drives churn, and the list of customers to call, need at least "
                        "one customer attribute that differs between customers (segment, "
                        "reward scheme, acquisition channel, recent orders or e-mails "
                        "received); these data have none.")
    cox = None
    with _part(ctx, "drivers of churn") if candidates else _noop():
        if candidates:
            fit_on = table if table.height <= cox_sample else table.sample(cox_sample, seed=0)
            # a group nobody left (its effect is infinite), a rare level or a measure that
            # almost decides churn on its own: the fit shrinks the effects instead of failing
            cox = churn.CoxModel(covariates=candidates, penalizer="auto").fit(fit_on)
            if isinstance(cox.penalty_cause_, SeparationError):
                rep.add_text(_separation_sentence(cox.penalty_cause_, fmt) + " The effects "
                             "below are therefore shrunk towards 'no effect' to make the fit "
                             "possible: read them as directions rather than exact sizes.")
            elif cox.penalty_cause_ is not None:
                rep.add_text("The plain model of what drives churn could not be fitted (a "
                             "rare group or a measure that almost decides churn on its own); "
                             "the effects below are shrunk towards 'no effect' to make the "
                             "fit possible.")
            sampled = (f"fitted on a random {cox_sample:,} of {table.height:,} customers"
                       if fit_on.height < table.height else None)
            effects = _effects(cox, fit_on)
            shown = cox.summary.with_columns(effects.get_column("label").alias("covariate"))
            rep.add_figure(plots.plot_hazard_ratios(
                               shown, title=f"What changes the risk of leaving, "
                                            f"{fmt.count(shown.height)} attributes"),
                           title="What drives churn: what raises or lowers the risk of leaving",
                           name="drivers",
                           footnote=Footnote(n=fit_on.height, start=start, end=end,
                                             ci="95% Wald interval", definition=definition,
                                             extra=[sampled] if sampled else ()))
            finding = _summary.drivers_finding(effects, section=section, figure="drivers",
                                               fmt=fmt)
            if finding is not None:
                rep.add_finding(finding)
                rep.add_text(finding.headline + " " + finding.meaning)
            rep.add_text(_ph_sentence(cox, effects))
            rep.add_table(effects, title="Risk of leaving by attribute",
                          labels={"label": "Attribute",
                                  "hazard_ratio": "Risk of leaving, times"},
                          note="A value above 1 means customers with this attribute leave "
                               "sooner, below 1 later; an attribute matters when its 95 % "
                               "interval does not include 1.",
                          formats={"hazard_ratio": "ratio", "ci_low": "ratio",
                                   "ci_high": "ratio", "p_value": "pvalue"})
    if cox is not None and not table.filter(pl.col(cox.event_col) == 0).height:
        rep.add_skipped(f"{ctx.section}: call list",
                        f"Every customer had gone {INACTIVITY[:-1]} days without an order by "
                        f"the measuring date, so nobody is still active to call.")
    elif cox is not None:
        with _part(ctx, "call list"):
            calls = _plain_drivers(call_list(table, cox, horizon=HORIZON,
                                             top=workbook_customers), cox)
            ranked_by_rhythm = calls["p_stopped"].null_count() < calls.height
            rep.add_text(
                "The call list ranks customers who are still active under the "
                f"{INACTIVITY[:-1]}-day rule by the chance that they have already stopped "
                "buying, judged against their own buying rhythm: a customer who usually buys "
                "every few weeks and has been silent for two months ranks above one who buys "
                "twice a year and has been silent for five. Being close to the "
                f"{INACTIVITY[:-1]}-day mark does not by itself move a customer up the list. "
                "Customers with a single order have no rhythm to judge and come last. The "
                "reasons named beside each customer are the attributes that raise their risk "
                "most." if ranked_by_rhythm else
                "The call list ranks active customers by the chance that they churn within "
                "90 days given how long they have been customers and their attributes; "
                "their buying rhythm could not be modelled on these data.")
            # the chart names customers only by pseudonym; without pseudonyms it shows
            # their place on the list instead of the client's own customer numbers
            pseudonyms = _pseudonymised(ctx.data)
            shown = calls if pseudonyms else calls.with_columns(
                (pl.lit("Customer ") + pl.int_range(1, pl.len() + 1).cast(pl.String))
                .alias(S.CUSTOMER_ID))
            who = ("identifiers pseudonymised" if pseudonyms else
                   "customers shown by their place on the list: their numbers were not "
                   "pseudonymised")
            rep.add_figure(plots.plot_at_risk_list(shown, top=15),
                           title="Call list: the active customers most likely to have "
                                 "stopped buying", name="call-list",
                           footnote=Footnote(end=end, definition=(
                               "ranked by the chance the customer has stopped buying, given "
                               f"their own rhythm (BG/NBD); reasons from the Cox model; {who}"
                               if ranked_by_rhythm else
                               "ranked by the Cox model's chance of churning in 90 days; "
                               + who)))
            if _per_customer(ctx, "call list"):
                cols = [c for c in ("rank", S.CUSTOMER_ID, "tenure_days", "silent_days",
                                    "p_stopped", "p_alive", "p_lapse", "p_churn", "drivers")
                        if c in calls.columns]
                shares = [c for c in cols if c.startswith("p_")]
                rep.add_table(
                    calls.select(cols), title="Call list", workbook_only=True,
                    allow_identifiers=True,
                    formats={"tenure_days": "count", "silent_days": "count",
                             **{c: "percent" for c in shares}},
                    note=f"The {fmt.count(calls.height)} active customers most likely to have "
                         f"stopped buying, most urgent first (at most "
                         f"{fmt.count(workbook_customers)}): the chance that they have "
                         f"stopped, judged against their own buying rhythm, the chance that "
                         f"the {INACTIVITY[:-1]}-day rule counts them as lost within "
                         f"{HORIZON[:-1]} days, and the attributes that raise their risk "
                         f"most. Customer numbers are pseudonyms.")
