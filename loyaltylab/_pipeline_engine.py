"""The client report computed inside a database: ``loyaltylab report duckdb:///x.duckdb
--in-engine`` (or a folder of Parquet files), or ``loyaltylab report postgresql://...``
(not public API).

The orders never come into memory. The per-customer and per-period aggregations run inside
DuckDB through :mod:`loyaltylab.warehouse` (customer ids pseudonymised there with the run's
salt); only counts and one row per customer come back, and the report's sections that can
work on those rows run on them, sharing their code with the in-memory run:

- the data: customers, orders and revenue counted in the database, activity per quarter
  and customers per group (:func:`loyaltylab.warehouse.period_counts`);
- measure everything: a scorecard and the defection rate from the yearly counts, cohort
  retention (:func:`~loyaltylab.warehouse.cohort_retention`);
- the loyalty ladder: people per rung (:func:`~loyaltylab.warehouse.ladder_counts`);
- churn and retention: the Kaplan-Meier curves (by segment where the customers have one),
  the drivers of churn (Cox model) and the call list, from each customer's row with their
  attributes (:func:`~loyaltylab.warehouse.churn_base`);
- repeat buying and customer value: BG/NBD and Gamma-Gamma
  (:func:`~loyaltylab.warehouse.rfm_summary`).

What needs row-level data that stay in the database (profit per customer, moves between
rungs, contacts, complaints, surveys) is listed in
the report's "Not included" appendix with one plain sentence each. Only the mapping's
column renames can be applied inside the database: any other rule stops the run before
it starts, naming the rule (:func:`engine_mapping`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from collections.abc import Callable, Sequence

import polars as pl

# the shared parts first: they pick matplotlib's headless backend before plots loads pyplot
from loyaltylab._pipeline_base import (_WORDS, GROUPINGS, INACTIVITY, WILSON, _Context,
                                       _part)
from loyaltylab import _summary, funnel, plots, warehouse
from loyaltylab._pipeline import GLOSSARY, ReportRun, _measured_at
from loyaltylab._pipeline_churn import (CHURN_QUESTION, CHURN_SECTION, _churn_methods,
                                        _churn_parts)
from loyaltylab._pipeline_clv import _clv_from_rfm
from loyaltylab._pipeline_ladder import _ladder_methods, _show_funnel
from loyaltylab._pipeline_overview import _activity_sentence
from loyaltylab._pipeline_measure import _scorecard_table, _show_cohorts
from loyaltylab._stats import newcombe_interval, rate_columns, two_proportion_test
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData, LoadReport
from loyaltylab.data.load import is_server, source_path
from loyaltylab.data.mapping import read_mapping
from loyaltylab.exceptions import MappingError, MissingTableError, SourceError
from loyaltylab.report import Footnote, Report

__all__ = ["IN_ENGINE_ABOVE", "EngineData", "engine_mapping", "open_database",
           "default_memory_limit", "count_orders", "run_engine_report", "customer_ids",
           "server_label"]

log = logging.getLogger("loyaltylab.report")

IN_ENGINE_ABOVE = 20_000_000
"""Above this many orders in a DuckDB file, ``loyaltylab report`` computes the report
inside the database even without ``--in-engine`` (the in-memory run needs about 4.5 GB
per million customers)."""

LADDER_PART_ORDERS = 10_000_000
"""The ladder's people per rung are counted in one query per this many orders, each over
a part of the people (DuckDB's running sums per person cannot spill to disk: at 103M orders
one query ran out of an 8 GB memory limit)."""

ENGINE_TABLES = (S.CUSTOMERS, S.ORDERS, S.CONTACTS, S.REFERRALS)
"""The tables the engine run reads: the orders and customers, and the contacts and
referrals the ladder's prospect and advocate rungs count."""

_TITLE = "Customer loyalty report"


def default_memory_limit() -> str:
    """Half the machine's memory, as DuckDB's ``memory_limit`` reads it ("7812MB")."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(total // 2 // 1_000_000, 256)}MB"


# ============================================================================ mapping

def _rules_used(tm: Any) -> list[str]:
    """The mapping rules of one table that are more than column renames, in the words of
    the mapping file."""
    used = []
    if tm.values:
        used.append("values (value maps of " + ", ".join(sorted(tm.values)) + ")")
    if tm.formats:
        used.append("formats of " + ", ".join(sorted(tm.formats)))
    rules = tm.rules
    if rules is not None:
        for name, value in (("where", rules.where), ("derive", rules.derive),
                            ("fill_down", rules.fill_down), ("lines", rules.lines_key),
                            ("split", rules.split), ("wide", rules.wide),
                            ("first_of", rules.first_of), ("drop", rules.drop),
                            ("headers", rules.headers)):
            if value:
                used.append(name)
    if tm.source is not None and len(tm.source) > 1:
        used.append("several source tables")
    return used


def engine_mapping(mapping: str | Path | dict | None) -> Any:
    """The parsed mapping, when every rule it uses can be applied inside the database
    (column renames and table names); otherwise a MappingError naming the rule.

    Raises
    ------
    MappingError
        A rule other than a column rename (where, derive, fill_down, value maps, formats,
        several source tables for one canonical table ...).
    """
    m = read_mapping(mapping)
    for table in ENGINE_TABLES:
        tm = m.tables.get(table)
        if tm is None or tm.skip:
            continue
        used = _rules_used(tm)
        if used:
            raise MappingError(
                f"{m.origin}: the {table} table uses {', '.join(used)}, which can only be "
                f"applied when the data are read into memory; the report computed inside "
                f"the database applies column renames only. Run the report without "
                f"--in-engine (the normal, in-memory run), or do that step in the database "
                f"(a view) and map the view's columns")
    return m


# ============================================================================ database

@dataclass
class EngineData:
    """The database tables the engine run reads, under their canonical names.

    ``tables`` maps canonical table names to ``ibis.Table`` (canonical columns only, renamed
    by the mapping); ``names`` the database table each one came from.
    """

    con: Any
    source: str
    tables: dict[str, Any]
    names: dict[str, str] = field(default_factory=dict)

    @property
    def orders(self) -> Any:
        return self.tables[S.ORDERS]

    @property
    def customers(self) -> Any:
        return self.tables[S.CUSTOMERS]


def server_label(url: str) -> str:
    """A server address without its user name and password, to show in the report, the
    log and messages.

    Examples
    --------
    >>> server_label("postgresql://analyst:s3cret@db.example.com:5432/shop?sslmode=require")
    'postgresql://db.example.com:5432/shop'
    """
    parts = urlsplit(url.strip())
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.split('+')[0]}://{host}{port}{parts.path}"


def _connect_server(url: str) -> tuple[Any, str]:
    """An Ibis connection to a database server, and its label; a SourceError in plain
    words (never the password) when it cannot be made."""
    label = server_label(url)
    try:
        import ibis
    except ImportError:
        raise SourceError(f"{label}: computing the report inside a database server needs "
                          f"Ibis with the server's driver: pip install "
                          f"'loyaltylab[postgres]'") from None
    try:
        return ibis.connect(url.strip()), label
    except Exception as exc:  # noqa: BLE001 - a driver's own error types vary
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        secret = urlsplit(url.strip()).password
        if secret:
            detail = detail.replace(secret, "***")
        if isinstance(exc, ImportError):
            detail = "the PostgreSQL driver is not installed: pip install 'loyaltylab[postgres]'"
        raise SourceError(f"{label}: could not connect to the database server ({detail}). "
                          f"Check the address, the user and the password, and that the "
                          f"server accepts connections from here") from None


def _database_file(source: Any) -> Path:
    if source is None:
        raise SourceError("the report computed inside a database needs a DuckDB database "
                          "file (duckdb:///path/to/file.duckdb), a folder of Parquet files "
                          "or a postgresql:// server; the bundled sample is read in memory: "
                          "leave out --in-engine")
    return Path(source_path(source) if isinstance(source, str) else source)


def open_database(source: str | Path, *, mapping: str | Path | dict | None = None,
                  memory_limit: str | None = None) -> EngineData:
    """Open a DuckDB file read-only with a memory limit, or a folder of Parquet files as
    views of an in-memory DuckDB with that limit, or connect to a PostgreSQL server
    (``postgresql://user@host/database``), and find its tables.

    Raises
    ------
    SourceError
        Not a DuckDB database file.
    MappingError
        A mapping rule other than a column rename, or a renamed column the table lacks.
    MissingTableError
        No customers or orders table.
    """
    m = engine_mapping(mapping)
    if is_server(source):  # the server manages its own memory: no limit is set
        con, label = _connect_server(str(source))
        names = sorted(con.list_tables())
    else:
        path = _database_file(source)
        label = path.name
        con = warehouse.connect_duckdb(path, memory_limit=memory_limit)
        names = warehouse.table_names(con)
    lower = {n.lower(): n for n in names}
    tables: dict[str, Any] = {}
    found: dict[str, str] = {}
    for canon in ENGINE_TABLES:
        tm = m.table(canon)
        if tm.skip:
            continue
        wanted = tm.source[0] if tm.source else canon
        name = lower.get(str(wanted).lower())
        if name is None:
            if canon in (S.CUSTOMERS, S.ORDERS):
                raise MissingTableError(
                    f"{label}: no {canon} table (looked for {wanted!r}; the database "
                    f"has {names}); name it in the mapping: [tables.{canon}] source = "
                    f"\"...\"")
            continue
        raw = con.table(name)
        have = {c.lower(): c for c in raw.columns}
        cols: dict[str, Any] = {}
        for spec in S.TABLES[canon].columns:
            client = tm.columns.get(spec.name)
            if client is not None:
                if client not in raw.columns:
                    raise MappingError(f"{m.origin}: [tables.{canon}.columns] {spec.name} = "
                                       f"{client!r}, but the database table {name} has no "
                                       f"such column; it has {list(raw.columns)}")
                cols[spec.name] = raw[client]
            elif spec.name.lower() in have:
                cols[spec.name] = raw[have[spec.name.lower()]]
        tables[canon] = raw.select(**cols)
        found[canon] = name
    return EngineData(con, label, tables, found)


def count_orders(source: str | Path, *, mapping: str | Path | dict | None = None) -> int | None:
    """The number of rows of the orders table of a DuckDB file; None when ``source`` is not
    a DuckDB file or its mapping cannot be applied inside the database (the report then
    runs in memory as always)."""
    try:
        db = open_database(source, mapping=mapping)
    except (SourceError, MappingError, MissingTableError):
        return None
    return int(db.orders.count().to_pyarrow().as_py())


# ============================================================================ the date

def _event_columns(db: EngineData) -> list[tuple[str, str]]:
    out = []
    for name, table in db.tables.items():
        for col, dtype in table.schema().items():
            if dtype.is_timestamp() or dtype.is_date():
                out.append((name, col))
    return out


def _last_event(db: EngineData) -> datetime | None:
    """The latest date or time in any table read (as the in-memory run takes it)."""
    latest = None
    for name, col in _event_columns(db):
        t = db.tables[name]
        value = t.aggregate(_m=t[col].cast("timestamp").max()).to_pyarrow().column(0)[0]
        value = value.as_py()
        if value is not None and (latest is None or value > latest):
            latest = value
    return latest


# ============================================================================ the run

@dataclass
class _EngineContext(_Context):
    """A section's context in the engine run: the database instead of loaded tables."""

    db: EngineData | None = None
    salt: str = ""
    first_order: datetime | None = None

    @property
    def start(self) -> datetime:
        return self.first_order


def _quality_note(db: EngineData, counts: dict[str, int], fmt: Any, *,
                  negative: int = 0, negative_sum: float = 0.0) -> str:
    tables = ", ".join(f"{fmt.count(n)} {plain}" for plain, n in counts.items())
    refunds = ""
    if negative:
        # the in-memory run rejects negative amounts unless refunds are allowed; here
        # they are summed, and the reader must know by how much
        refunds = (f" {fmt.count(negative)} orders have a negative amount (refunds or "
                   f"credit notes, {fmt.money(negative_sum)} in all); they were summed as "
                   f"they are, so the revenue shown is net of them. The in-memory run "
                   f"would have stopped on them unless refunds were allowed.")
    return (f"The data were summarised inside the database ({db.source}): {tables} were "
            f"counted there, not read and checked one by one, so this report says nothing "
            f"about rows that validation would have rejected.{refunds} Only counts and "
            f"per-customer summaries left the database, with customer numbers replaced "
            f"there by pseudonyms.")


def run_engine_report(source: str | Path, *, out: str | Path, mapping: Any = None,
                      as_of: Any = None, salt: str, memory_limit: str | None = None,
                      progress: bool | None = None, locale: str = "en",
                      charts: Sequence[str] = ("png", "svg", "pdf"),
                      why: str | None = None) -> ReportRun:
    """Compute the report inside a DuckDB database and write it into ``out``.

    ``memory_limit`` is DuckDB's (default :func:`default_memory_limit`); ``why`` is a
    sentence the report shows on why it was computed in the database (when chosen
    automatically).
    """
    from tqdm import tqdm

    from loyaltylab.report import Formats

    fmt = Formats(locale)
    db = open_database(source, mapping=mapping,
                       memory_limit=memory_limit or default_memory_limit())
    when, date_note = _measured_at(as_of, lambda: _last_event(db), fmt,
                                   holder="the orders table")
    o = db.orders
    for col in (S.CUSTOMER_ID, S.ORDERED_AT, S.AMOUNT):
        if col not in o.columns:
            raise MissingTableError(f"the orders table ({db.names[S.ORDERS]}) has no "
                                    f"{col.replace('_', ' ')} column; map it: "
                                    f"[tables.orders.columns] {col} = \"...\"")
    ts = o[S.ORDERED_AT].cast("timestamp")
    refund = o[S.AMOUNT] < 0
    row = o.aggregate(n=o.count(), revenue=o[S.AMOUNT].sum(),
                      buyers=o[S.CUSTOMER_ID].nunique(), first=ts.min(),
                      negative=o.count(where=refund),
                      negative_sum=o[S.AMOUNT].sum(where=refund)).to_pyarrow()
    n_orders, revenue, buyers, first, negative, negative_sum = (
        row.column(k)[0].as_py() for k in ("n", "revenue", "buyers", "first", "negative",
                                           "negative_sum"))
    counts = {f"{t} rows": int(db.tables[t].count().to_pyarrow().as_py())
              for t in db.tables}
    customers = counts[f"{S.CUSTOMERS} rows"]
    quality = _quality_note(db, {t.replace(" rows", ""): n for t, n in counts.items()}, fmt,
                            negative=int(negative or 0),
                            negative_sum=float(negative_sum or 0.0))
    load_report = LoadReport(source=db.source, warnings=[
        quality, "identifiers pseudonymised with a salted hash inside the database"])
    rep = Report(_TITLE, source=db.source, as_of=when, locale=locale)
    rep.add_data_quality(load_report)
    rep.add_text(date_note)
    rep.add_text("This report was computed inside the client's database: the orders did "
                 "not leave it, only counts and one summary row per customer did."
                 + (" " + why if why else ""))
    rep.add_methods(quality, heading="Data quality")
    for term, definition in GLOSSARY.items():
        rep.add_glossary(term, definition)
    data = CRMData(customers=pl.DataFrame(), orders=pl.DataFrame(), report=load_report,
                   as_of=when)
    facts = {"customers": customers, "orders": int(n_orders or 0),
             "revenue": float(revenue or 0.0), "buyers": int(buyers or 0)}
    errors: list[str] = []
    sections: list[tuple[str, Callable[..., None]]] = [
        ("Data overview", _overview), ("Measure everything", _measure),
        ("Loyalty ladder", _ladder), ("Churn and retention", _churn),
        ("Repeat buying and customer value", _clv), ("Survey scores", _surveys)]
    bar = tqdm(sections, desc="analyses", disable=None if progress is None else not progress)
    with plots.style_context():
        for name, run in bar:
            bar.set_description(name)
            ctx = _EngineContext(rep, data, name, errors, db=db, salt=salt,
                                 first_order=first)
            with _part(ctx, "this section"):
                with rep.capability(name):
                    run(ctx, facts)
    files = rep.write_all(out, progress=progress, formats=charts)
    return ReportRun(rep, files, rep.skipped, errors)


def _not_here(ctx: _EngineContext, what: str, shows: str, needs: str) -> None:
    """Say in the "Not included" appendix that a part needs rows that stay in the
    database."""
    ctx.report.add_skipped(f"{ctx.section}: {what}",
                           f"This part would show {shows}. It needs {needs} one by one, "
                           f"which stay in the database when the report is computed there; "
                           f"the normal (in-memory) report shows it.")


# ============================================================================ sections

def _overview(ctx: _EngineContext, facts: dict[str, Any]) -> None:
    rep, db, fmt = ctx.report, ctx.db, ctx.report.formats
    rep.add_heading("The data", question="What does the dataset hold, who are the customers, "
                                         "and how has buying developed?")
    rep.add_text(f"The database holds {fmt.count(facts['customers'])} customers and "
                 f"{fmt.count(facts['orders'])} orders worth {fmt.money(facts['revenue'])}; "
                 f"{fmt.count(facts['buyers'])} customers have at least one order.")
    rows = pl.DataFrame({"table": [t.replace("_", " ") for t in db.tables],
                         "database table": [db.names[t] for t in db.tables],
                         "rows": [int(t.count().to_pyarrow().as_py())
                                  for t in db.tables.values()]})
    rep.add_table(rows, title="Tables in the database")
    _not_here(ctx, "rows kept and rejected per table",
              "how many rows of each table passed validation", "the rows of every table")
    with _part(ctx, "customers by group"):
        _customer_groups(ctx)
    with _part(ctx, "activity over time"):
        quarters = warehouse.period_counts(db.orders, period="quarter", as_of=ctx.as_of)
        activity = quarters.filter(pl.col("period_start") < ctx.as_of).select(
            "period_start", "orders", "revenue",
            pl.col("buyers").alias("active_customers"),
            pl.col("new_buyers").alias("new_customers"))
        rep.add_figure(plots.plot_activity(activity, period="quarter"),
                       title="Active customers per quarter", name="activity",
                       footnote=Footnote(n=facts["buyers"], unit="customers",
                                         start=ctx.start, end=ctx.as_of))
        _activity_sentence(rep, activity)


def _customer_groups(ctx: _EngineContext) -> None:
    """Customers per value of each grouping column, counted in the database."""
    rep, db, fmt = ctx.report, ctx.db, ctx.report.formats
    c = db.customers
    groups = [g for g in GROUPINGS if g in c.columns]
    if not groups:
        rep.add_text("The customers table has no grouping column (kind of relationship, "
                     "segment, acquisition channel, region or reward scheme), so customers "
                     "are not broken down into groups.")
        return
    ids = db.orders.select(_b=db.orders[S.CUSTOMER_ID]).distinct()
    marked = c.left_join(ids, c[S.CUSTOMER_ID] == ids._b)
    mixes = []
    for by in groups:
        counts = (marked.group_by(by).aggregate(customers=marked.count(),
                                                buyers=marked._b.notnull().sum())
                  .to_polars())
        if not 1 < counts.height <= 50:
            continue
        total = int(counts.get_column("customers").sum())
        mix = (counts.with_columns(pl.col(by).cast(pl.String).fill_null("(missing)")
                                   .str.replace_all("_", " "),
                                   pl.col("customers").cast(pl.Int64),
                                   pl.col("buyers").cast(pl.Int64))
               .with_columns((pl.col("customers") / total).alias("share"))
               .sort("customers", descending=True))
        rep.add_figure(plots.plot_customer_mix(mix), title=f"Customers by {_WORDS[by]}",
                       name=f"customers-by-{by}",
                       footnote=Footnote(n=total, start=ctx.start, end=ctx.as_of))
        top = mix.row(0, named=True)
        mixes.append(f"the largest {_WORDS[by]} is {top[by]} "
                     f"({fmt.percent(top['share'])} of customers)")
    if mixes:
        rep.add_text("By group, " + "; ".join(mixes) + ".")


def _year(value: Any) -> str:
    return str(value.year) if hasattr(value, "year") else str(value)


def _engine_scorecard(years: pl.DataFrame) -> pl.DataFrame:
    """The scorecard's figures that the yearly counts give: the last complete year against
    the one before, with Newcombe intervals and z-tests for the shares."""
    done = years.filter(pl.col("complete"))
    if done.height < 2:
        raise MissingTableError("the scorecard compares two complete years, and the data "
                                "cover fewer")
    prev, cur = done.row(-2, named=True), done.row(-1, named=True)
    rows = []

    def count(metric: str, unit: str, a: float, b: float) -> None:
        rows.append({"metric": metric, "unit": unit, "previous": float(a), "current": float(b),
                     "change": float(b - a), "change_ci_low": None, "change_ci_high": None,
                     "p_value": None})

    def share(metric: str, k1: int, n1: int, k2: int, n2: int) -> None:
        if min(n1, n2) <= 0:
            return
        lo, hi = newcombe_interval(k2, n2, k1, n1)
        p = two_proportion_test(k2, n2, k1, n1)[1]
        rows.append({"metric": metric, "unit": "share", "previous": k1 / n1,
                     "current": k2 / n2, "change": k2 / n2 - k1 / n1, "change_ci_low": lo,
                     "change_ci_high": hi, "p_value": None if p != p else p})

    count("Active customers", "count", prev["buyers"], cur["buyers"])
    count("New customers", "count", prev["new_buyers"], cur["new_buyers"])
    share("Returning customers (share of active)", prev["repeat_buyers"], prev["buyers"],
          cur["repeat_buyers"], cur["buyers"])
    share("Defection rate", prev["lost"], prev["at_risk"], cur["lost"], cur["at_risk"])
    count("Orders", "count", prev["orders"], cur["orders"])
    count("Revenue", "currency", prev["revenue"], cur["revenue"])
    if prev["buyers"] and cur["buyers"]:
        count("Orders per active customer", "orders", prev["orders"] / prev["buyers"],
              cur["orders"] / cur["buyers"])
        count("Revenue per active customer", "currency", prev["revenue"] / prev["buyers"],
              cur["revenue"] / cur["buyers"])
    schema = {"metric": pl.String, "unit": pl.String, "previous": pl.Float64,
              "current": pl.Float64, "change": pl.Float64, "change_ci_low": pl.Float64,
              "change_ci_high": pl.Float64, "p_value": pl.Float64}
    return pl.DataFrame(rows, schema=schema).with_columns(
        pl.lit(prev["period_start"]).alias("previous_period"),
        pl.lit(cur["period_start"]).alias("current_period"))


def _engine_defection(years: pl.DataFrame) -> pl.DataFrame:
    """Yearly defection from the counts: buyers of the year before with no order in the
    year, over the buyers of the year before (Wilson interval)."""
    from loyaltylab.metrics import BAND_HIGH, BAND_LOW

    return (years.filter(pl.col("complete") & (pl.col("at_risk") > 0))
            .select("period_start", "period_end", pl.col("lost").alias("numerator"),
                    pl.col("at_risk").alias("denominator"))
            .with_columns(rate_columns("numerator", "denominator"))
            .with_columns((1 - pl.col("value")).alias("retention"),
                          pl.col("value").alias("annualized"),
                          pl.lit(BAND_LOW).alias("band_low"),
                          pl.lit(BAND_HIGH).alias("band_high"))
            .with_columns(pl.col("annualized").is_between(pl.col("band_low"),
                                                          pl.col("band_high"))
                          .alias("in_band")))


def _measure(ctx: _EngineContext, facts: dict[str, Any]) -> None:
    rep, db, fmt = ctx.report, ctx.db, ctx.report.formats
    start, end, buyers = ctx.start, ctx.as_of, facts["buyers"]
    section = "Measure everything"
    rep.add_heading(section, question="How did the headline loyalty figures move, how many "
                                      "customers are lost each year, and who brings the "
                                      "profit?")
    years = warehouse.period_counts(db.orders, period="year", as_of=end)
    with _part(ctx, "scorecard"):
        card = _engine_scorecard(years)
        rep.add_figure(plots.plot_scorecard(card), title="Loyalty scorecard",
                       name="scorecard",
                       footnote=Footnote(n=buyers, start=start, end=end,
                                         ci="Newcombe interval of the change"))
        table, labels = _scorecard_table(card)
        rep.add_table(table, title="Scorecard", labels=labels, row_kinds="unit")
        rep.add_text("The scorecard computed in the database holds the figures that yearly "
                     "counts give; figures that need each customer's orders (spend per "
                     "customer with its interval, product lines, referrals, contacts and "
                     "survey scores) are in the normal report.")
    with _part(ctx, "defection rate"):
        defection = _engine_defection(years)
        if defection.height == 0:
            raise MissingTableError("no complete year follows a year with buyers, so no "
                                    "defection rate can be measured")
        rep.add_figure(plots.plot_defection(defection),
                       title="Defection: customers lost per year", name="defection",
                       footnote=Footnote(n=buyers, start=start, end=end, ci=WILSON,
                                         definition="lost = bought the year before, not "
                                                    "this year; typical band: 20-40 % a "
                                                    "year"))
        last = defection.row(-1, named=True)
        finding = _summary.defection_finding(
            last["annualized"], last["ci_low"], last["ci_high"], lost=int(last["numerator"]),
            base=int(last["denominator"]), year=_year(last["period_start"]), section=section,
            figure="defection", fmt=fmt)
        rep.add_finding(finding)
        rep.add_text(finding.headline + " " + finding.meaning)
    with _part(ctx, "cohort retention"):
        _show_cohorts(ctx, warehouse.cohort_retention(db.orders, period="quarter"), n=buyers)
    _not_here(ctx, "profit by customer", "how profit is spread over the customers (the "
              "whale curve) and how concentrated revenue is", "each customer's revenue and "
              "costs")
    _not_here(ctx, "contacts and conversion", "how many contacts are followed by an order",
              "the contacts and the orders")
    _not_here(ctx, "complaint handling", "retention by how fast complaints were resolved",
              "the complaints")
    rep.add_methods("Rates carry their numerator and denominator and a 95 % Wilson score "
                    "interval. Cohort retention counts a customer as active in a period when "
                    "they ordered in it. The scorecard compares the last complete year with "
                    "the one before; a change in a share is called significant when its "
                    "p-value is below 0.05. Computed inside the database, defection counts "
                    "the customers who bought in one year and not in the next.",
                    heading="Measure everything")


def _ladder(ctx: _EngineContext, facts: dict[str, Any]) -> None:
    rep, db = ctx.report, ctx.db
    section = "The loyalty ladder"
    rep.add_heading(section, question="How far up the loyalty ladder do people get, and "
                                      "where are most of them lost?")
    tables = dict(db.tables)
    ladder, notes = warehouse.measurable_ladder(funnel.OFFLINE, {k: list(t.columns) for k, t
                                                                 in tables.items()})
    for note in notes:
        rep.add_text(str(note))
    display = {st.name: st.display for st in ladder.stages}
    with _part(ctx, "ladder funnel"):
        try:
            # DuckDB under a memory limit counts the ladder in parts; a server manages its
            # own memory (and Ibis hashes ids for the parts only on some engines)
            parts = (max(1, -(-facts["orders"] // LADDER_PART_ORDERS))
                     if ctx.db.con.name == "duckdb" else 1)
            counts = warehouse.ladder_counts(tables, ladder, as_of=ctx.as_of, parts=parts)
        except Exception as exc:  # noqa: BLE001 - only the database's out-of-memory stop
            if "out of memory" not in str(exc).lower() and \
                    type(exc).__name__ != "OutOfMemoryException":
                raise
            log.info("ladder counts out of memory: %s", exc)
            rep.add_skipped(f"{ctx.section}: ladder funnel",
                            "The people on each rung could not be counted inside the "
                            "database within its memory limit; give the database more "
                            "memory, or see the normal (in-memory) report.")
            counts = None
        if counts is not None:
            _show_funnel(ctx, _funnel_from_counts(counts), display,
                         n=facts["customers"], section=section)
    _not_here(ctx, "moves between rungs", "where the people on each rung a year ago stand "
              "today", "each person's orders, contacts and referrals")
    _ladder_methods(rep, ladder)


def _funnel_from_counts(counts: pl.DataFrame) -> pl.DataFrame:
    """The funnel frame (:func:`loyaltylab.funnel.funnel`'s columns, without the lapsed
    count) from the people whose highest rung is each one."""
    from loyaltylab._stats import wilson_exprs

    top = counts.height - 1
    out = (counts.with_row_index("stage_rank")
           .select("stage", pl.col("stage_rank").cast(pl.Int64),
                   pl.col("persons").alias("at_stage"))
           .with_columns(pl.col("at_stage").reverse().cum_sum().reverse().alias("reached")))
    out = out.with_columns(
        (pl.col("reached") / pl.col("reached").first()).alias("share_of_top"),
        pl.when(pl.col("stage_rank") < top).then(pl.col("reached").shift(-1))
        .alias("converted"))
    return out.with_columns(
        pl.when(pl.col("reached") > 0).then(pl.col("converted") / pl.col("reached"))
        .alias("conversion"), *wilson_exprs("converted", "reached"))


def _churn(ctx: _EngineContext, facts: dict[str, Any]) -> None:
    rep, db = ctx.report, ctx.db
    rep.add_heading(CHURN_SECTION, question=CHURN_QUESTION)
    # the covariates of the drivers model and the groups of the retention chart come back
    # with each customer's row; the contacts-based ones (e-mails) are not computed here
    attributes = [c for c in (S.SEGMENT, S.KIND, S.ACQUISITION_CHANNEL, S.REWARD_SCHEME)
                  if c in db.customers.columns]
    base = warehouse.churn_base(db.orders, db.customers, as_of=ctx.as_of,
                                inactivity=INACTIVITY, salt=ctx.salt, attributes=attributes)
    _churn_parts(ctx, base.frame)
    rep.add_methods(_churn_methods(rep.formats, in_database=True), heading="Churn")


def _clv(ctx: _EngineContext, facts: dict[str, Any]) -> None:
    section = "Repeat buying and customer value"
    ctx.report.add_heading(section, question="How many buyers come back, and how likely is "
                                             "each one still active?")
    rfm = warehouse.rfm_summary(ctx.db.orders, time_unit="W", observation_end=ctx.as_of,
                                salt=ctx.salt)
    _clv_from_rfm(ctx, rfm, section=section)


def _surveys(ctx: _EngineContext, facts: dict[str, Any]) -> None:
    ctx.report.add_skipped(ctx.section, "This section would show what customers say: the net "
                                        "promoter score and survey scores over time. Survey "
                                        "answers are not summarised inside the database; "
                                        "the normal (in-memory) report shows them.")


def customer_ids(db: EngineData) -> pl.Series:
    """The client's customer ids (raw, for the consultant's lookup file only): the
    customers table alone comes out of the database, never the orders."""
    c = db.customers
    return (c.select(_id=c[S.CUSTOMER_ID].cast("string")).distinct().to_polars()
            .get_column("_id").drop_nulls().alias(S.CUSTOMER_ID))
