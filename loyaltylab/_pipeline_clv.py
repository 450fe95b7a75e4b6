"""The report's section on repeat buying and customer value: the BG/NBD buying model and
the workbook's value of each customer (not public API).
"""

from __future__ import annotations

from typing import Any

import polars as pl

# the shared parts first: they pick matplotlib's headless backend before plots loads pyplot
from loyaltylab._pipeline_base import _Context, _part, _per_customer, _setting
from loyaltylab import _summary, clv, plots
from loyaltylab.data import schema as S
from loyaltylab.report import Footnote

__all__: list[str] = []  # and _clv, the section's run, used by loyaltylab._pipeline


def _clv(ctx: _Context) -> None:
    rep, data = ctx.report, ctx.data
    section = "Repeat buying and customer value"
    rep.add_heading(section, question="How many buyers come back, and how likely is each "
                                      "one still active?")
    rfm = clv.rfm_summary(data.orders, time_unit="W", observation_end=ctx.as_of)
    _clv_from_rfm(ctx, rfm, section=section)


def _clv_from_rfm(ctx: _Context, rfm: pl.DataFrame, *, section: str) -> None:
    """The section's content from the per-customer frequency, recency and T in weeks (the
    in-memory run computes them from the orders; the engine run brings them back from the
    database, where the orders stay)."""
    rep, fmt = ctx.report, ctx.report.formats
    repeat = int((rfm.get_column("frequency") > 0).sum())
    finding = _summary.repeat_finding(repeat, rfm.height, section=section, fmt=fmt)
    if finding is not None:
        rep.add_finding(finding)
        rep.add_text(finding.headline + " " + finding.meaning)
    summary = pl.DataFrame({
        "measure": ["Buyers", "Repeat buyers", "Repeat purchases per buyer (mean)",
                    "Weeks observed per buyer (mean)"],
        "unit": ["count", "count", "number", "number"],
        "value": [float(rfm.height), float(repeat),
                  float(rfm.get_column("frequency").mean() or 0.0),
                  float(rfm.get_column("T").mean() or 0.0)],
    })
    rep.add_table(summary, title="Repeat buying in the data", row_kinds="unit")
    bg = None
    with _part(ctx, "buying model",
               fallback="The repeat-buying summary above is shown without the model."):
        bg = clv.BetaGeo().fit(rfm)
        rep.add_table(bg.summary, title="Buying model parameters", workbook_only=True)
        rep.add_figure(plots.plot_alive_matrix(clv.probability_alive_matrix(bg)),
                       title="Chance that a buyer is still active, by how often and how "
                             "recently they bought", name="alive",
                       footnote=Footnote(n=rfm.height, unit="buyers",
                                         definition="BG/NBD, weekly time unit"))
        rep.add_text("Buyers who bought often but not recently are the ones most likely to "
                     "have stopped: read the chart from its top-left corner. Customers with a "
                     "single order count as active until the model has evidence otherwise.")
    if bg is not None and _per_customer(ctx, "value of each customer"):
        with _part(ctx, "value of each customer"):
            values, note = _customer_values(rfm, bg, fmt)
            rep.add_table(values, title="Value of each customer", note=note,
                          workbook_only=True, allow_identifiers=True,
                          formats={"p_alive": "percent", "expected_purchases": "number",
                                   "expected_spend": "money", "clv": "money",
                                   "clv_low": "money", "clv_high": "money"})
    rep.add_methods("The chance that a buyer is still active comes from the BG/NBD model "
                    "(Fader, Hardie & Lee 2005), fitted by maximum likelihood on the number "
                    "and timing of each buyer's repeat purchases, counted in weeks; its "
                    "parameters are in the workbook.", heading="Customer value")


def _customer_values(rfm: pl.DataFrame, bg: Any, fmt: Any) -> tuple[pl.DataFrame, str]:
    """The workbook's value of each customer: the
    :data:`loyaltylab._pipeline.WORKBOOK_CUSTOMERS` most valuable, with the chance they are
    still active, their expected purchases and spend per purchase over the next year, and
    the discounted value with its 95 % interval (delta method, on the most valuable only:
    the interval is the slow part). Returns the table and its note."""
    workbook_customers = _setting("WORKBOOK_CUSTOMERS")
    spend = clv.GammaGamma().fit(rfm.filter((pl.col("frequency") > 0)
                                            & (pl.col("monetary_value") > 0)))
    value = clv.customer_lifetime_value(rfm, purchase_model=bg, spend_model=spend,
                                        horizon=52.0, interval=None)
    top = value.sort("clv", descending=True).head(workbook_customers).select(S.CUSTOMER_ID)
    value = clv.customer_lifetime_value(rfm.join(top, on=S.CUSTOMER_ID, how="semi"),
                                        purchase_model=bg, spend_model=spend, horizon=52.0,
                                        interval="delta")
    table = (value.sort("clv", descending=True)
             .select(S.CUSTOMER_ID, "p_alive", "expected_purchases", "expected_spend", "clv",
                     "clv_low", "clv_high"))
    note = (f"The {fmt.count(table.height)} most valuable of {fmt.count(rfm.height)} buyers "
            f"(at most {fmt.count(workbook_customers)}), most valuable first: the chance "
            f"they still buy, the purchases expected in the next 52 weeks, the expected "
            f"amount per purchase, and their value (the expected spend of the next 52 weeks, "
            f"discounted at 10 % a year; revenue, not margin) with its 95 % interval. "
            f"Customer numbers are pseudonyms.")
    return table, note
