"""The report's first section, the data: what the dataset holds, who the customers are,
and how activity developed (not public API).
"""

from __future__ import annotations

import polars as pl

# the shared parts first: they pick matplotlib's headless backend before plots loads pyplot
from loyaltylab._pipeline_base import _WORDS, _Context, _groupings, _part, _plain_col
from loyaltylab import plots
from loyaltylab.data import schema as S
from loyaltylab.data.overview import activity_over_time, customer_mix, table_overview
from loyaltylab.report import Footnote, Report, plain_words

__all__: list[str] = []  # and _overview, the section's run, used by loyaltylab._pipeline


def _overview(ctx: _Context) -> None:
    rep, data, fmt = ctx.report, ctx.data, ctx.report.formats
    rep.add_heading("The data", question="What does the dataset hold, who are the customers, "
                                         "and how has buying developed?")
    with _part(ctx, "tables in the dataset"):
        overview = table_overview(data)
        read = sum(t.read for t in data.report.tables.values())
        rep.add_figure(plots.plot_load_report(_plain_col(data.report.summary(), "table")),
                       title="Rows kept and rejected per table", name="rows-per-table",
                       footnote=Footnote(n=read, unit="rows read"))
        present = overview.filter(pl.col("present")) if "present" in overview.columns \
            else overview
        rejected = data.report.n_rejected
        rep.add_text(f"The export holds {fmt.count(present.height)} tables with "
                     f"{fmt.count(read)} rows; "
                     + (f"{fmt.count(rejected)} rows were rejected on load (the data-quality "
                        f"appendix says why). " if rejected else
                        "every row passed validation. ")
                     + f"{fmt.count(data.customers.height)} customers are on file, "
                     f"{fmt.count(data.orders.get_column(S.CUSTOMER_ID).n_unique())} of them "
                     f"with at least one order.")
        rep.add_table(_plain_col(overview, "table"), title="Tables in the dataset")
    groups = _groupings(data.customers)
    if not groups:
        rep.add_text("The customers table has no grouping column (kind of relationship, "
                     "segment, acquisition channel, region or reward scheme), so customers "
                     "are not broken down into groups.")
    mixes = []
    for by in groups:
        with _part(ctx, f"customers by {_WORDS[by]}"):
            mix = _plain_col(customer_mix(data, by=by), by)
            rep.add_figure(plots.plot_customer_mix(mix),
                           title=f"Customers by {_WORDS[by]}", name=f"customers-by-{by}",
                           footnote=Footnote(n=data.customers.height, start=ctx.start,
                                             end=ctx.as_of))
            if "share" in mix.columns and mix.height:
                top = mix.sort("share", descending=True).row(0, named=True)
                mixes.append(f"the largest {_WORDS[by]} is {plain_words(str(top[by]))} "
                             f"({fmt.percent(top['share'])} of customers)")
    if mixes:
        rep.add_text("By group, " + "; ".join(mixes) + ".")
    with _part(ctx, "activity over time"):
        activity = activity_over_time(data, period="quarter", as_of=ctx.as_of)
        rep.add_figure(plots.plot_activity(activity), title="Active customers per quarter",
                       name="activity",
                       footnote=Footnote.from_frame(data.orders, date_col=S.ORDERED_AT,
                                                    count_col=S.CUSTOMER_ID))
        _activity_sentence(rep, activity)


def _activity_sentence(rep: Report, activity: pl.DataFrame) -> None:
    """How active customers per quarter moved from the first quarter to the last."""
    fmt = rep.formats
    if activity.height >= 2 and "active_customers" in activity.columns:
        first, last = activity.row(0, named=True), activity.row(-1, named=True)
        change = ("rose" if last["active_customers"] > first["active_customers"] else
                  "fell" if last["active_customers"] < first["active_customers"] else
                  "stayed")
        rep.add_text(f"Active customers per quarter {change} from "
                     f"{fmt.count(first['active_customers'])} in the quarter starting "
                     f"{fmt.date(first['period_start'])} to "
                     f"{fmt.count(last['active_customers'])} in the quarter starting "
                     f"{fmt.date(last['period_start'])}.")
