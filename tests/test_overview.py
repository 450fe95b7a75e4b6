"""Dataset overview tables, checked by hand on a tiny dataset."""

from __future__ import annotations

from datetime import datetime

import matplotlib
import polars as pl
import pytest

matplotlib.use("Agg")

from loyaltylab.data import schema as S  # noqa: E402
from loyaltylab.data.crmdata import CRMData, LoadReport, TableReport  # noqa: E402
from loyaltylab.data.overview import activity_over_time, customer_mix, table_overview  # noqa: E402
from loyaltylab import plots  # noqa: E402


@pytest.fixture()
def tiny() -> CRMData:
    customers = pl.DataFrame({
        S.CUSTOMER_ID: ["a", "b", "c"],
        S.ACQUIRED_AT: [datetime(2024, 1, 1), datetime(2024, 1, 5), datetime(2024, 2, 1)],
        S.KIND: ["consumer", "consumer", None],
    })
    orders = pl.DataFrame({
        S.ORDER_ID: ["1", "2", "3", "4"],
        S.CUSTOMER_ID: ["a", "a", "b", "a"],
        S.ORDERED_AT: [datetime(2024, 1, 3), datetime(2024, 1, 20), datetime(2024, 2, 2),
                       datetime(2024, 3, 1)],
        S.AMOUNT: [10.0, 20.0, 5.0, 7.5],
    })
    report = LoadReport(tables={S.ORDERS: TableReport(read=5, kept=4, rejected=1,
                                                       reasons={"bad date": 1})})
    return CRMData(customers=customers, orders=orders, report=report,
                   as_of=datetime(2024, 3, 31))


def test_table_overview_counts_rows_customers_dates_and_rejects(tiny):
    ov = table_overview(tiny)
    orders = ov.filter(pl.col("table") == S.ORDERS).row(0, named=True)
    assert (orders["rows"], orders["customers"], orders["rejected"]) == (4, 2, 1)
    assert orders["first"] == datetime(2024, 1, 3) and orders["last"] == datetime(2024, 3, 1)
    contacts = ov.filter(pl.col("table") == S.CONTACTS).row(0, named=True)
    assert contacts["present"] is False and contacts["rows"] == 0
    assert ov.height == len(S.TABLES)


def test_activity_per_month_by_hand(tiny):
    act = activity_over_time(tiny)
    # January: orders 1 and 2 by a (a's first order) -> 2 orders, 30.0, 1 active, 1 new
    # February: order 3 by b (b's first) -> 1 order, 5.0, 1 active, 1 new
    # March: order 4 by a -> 1 order, 7.5, 1 active, 0 new
    assert act["orders"].to_list() == [2, 1, 1]
    assert act["revenue"].to_list() == [30.0, 5.0, 7.5]
    assert act["active_customers"].to_list() == [1, 1, 1]
    assert act["new_customers"].to_list() == [1, 1, 0]


def test_activity_respects_as_of(tiny):
    act = activity_over_time(tiny, as_of=datetime(2024, 2, 15))
    assert act["orders"].sum() == 3


def test_customer_mix_counts_missing_values_and_buyers(tiny):
    mix = customer_mix(tiny, by=S.KIND)
    rows = {r[S.KIND]: r for r in mix.iter_rows(named=True)}
    assert rows["consumer"]["customers"] == 2 and rows["consumer"]["buyers"] == 2
    assert rows["(missing)"]["customers"] == 1 and rows["(missing)"]["buyers"] == 0
    assert rows["consumer"]["share"] == pytest.approx(2 / 3)


def test_customer_mix_unknown_attribute_names_the_alternatives(tiny):
    with pytest.raises(ValueError, match=r"customers.colour: no such column; available: "):
        customer_mix(tiny, by="colour")


def test_overview_plots_draw_what_the_frames_hold(tiny):
    ax = plots.plot_activity(activity_over_time(tiny), metric="orders")
    assert [p.get_height() for p in ax.patches] == [2, 1, 1]
    ax = plots.plot_customer_mix(customer_mix(tiny, by=S.KIND))
    assert "3 customers" in ax.get_title()
    ax = plots.plot_load_report(tiny.report.summary())
    assert "1 rejected" in ax.get_title()
    with pytest.raises(ValueError, match="metric='profit' is not a column"):
        plots.plot_activity(activity_over_time(tiny), metric="profit")
