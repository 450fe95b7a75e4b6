"""`loyaltylab report duckdb:///x.duckdb --in-engine`: the report computed inside the
database, against the in-memory report of the same database."""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from loyaltylab import _pipeline_engine as engine
from loyaltylab._pipeline import build_report, load_for_report
from loyaltylab.churn import CoxModel, KaplanMeier, churn_table
from loyaltylab.cli import SALT_ENV, main
from loyaltylab.data import schema as S
from loyaltylab.data.privacy import hash_series
from loyaltylab.datasets import make_crm

pytest.importorskip("ibis")

SALT = "engine-test-salt"
WHY = "It was computed there for this test."


def _client_tables(data) -> Iterator[tuple[str, pl.DataFrame]]:
    """The simulated CRM's tables as a client's database holds them: the customers with a
    personal column (e-mail) beside the canonical ones."""
    for name, frame in data.tables.items():
        if frame is None:
            continue
        if name == S.CUSTOMERS:
            frame = frame.with_columns((pl.col(S.CUSTOMER_ID).str.to_lowercase()
                                        + "@mail.example").alias("email"))
        yield name, frame


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> tuple[Path, object]:
    """A DuckDB file holding every table of a small simulated CRM, with a personal column
    (e-mail) beside the canonical ones."""
    root = tmp_path_factory.mktemp("engine")
    data = make_crm(300, years=3, seed=5)
    path = root / "shop.duckdb"
    con = duckdb.connect(str(path))
    try:
        for name, frame in _client_tables(data):
            con.register("f", frame.to_arrow())
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
            con.unregister("f")
    finally:
        con.close()
    return path, data


@pytest.fixture(scope="module")
def runs(shop, tmp_path_factory):
    """The engine run (written, no chart files) and the in-memory report (not written)."""
    path, _ = shop
    out = tmp_path_factory.mktemp("engine-out") / "report"
    run = engine.run_engine_report(path, out=out, salt=SALT, charts=(), progress=False,
                                   memory_limit="1GB", why=WHY)
    data = load_for_report(path, salt=SALT)
    memory = build_report(data, progress=False)
    return run, memory, data, out


def _table(rep, title: str) -> pl.DataFrame:
    """A table the report holds, workbook-only ones included."""
    found = [i.frame for i in rep._state.items if getattr(i, "title", None) == title
             and hasattr(i, "frame")]
    assert found, f"no table {title!r}"
    return found[0]


def test_engine_report_counts_match_the_in_memory_report(runs):
    run, memory, data, _ = runs
    assert run.errors == []
    text = " ".join(t.text for t in run.report._state.items if hasattr(t, "text")
                    and isinstance(t.text, str))
    revenue = run.report.formats.money(float(data.orders.get_column(S.AMOUNT).sum()))
    assert (f"The database holds {data.customers.height} customers and "
            f"{data.orders.height:,} orders worth {revenue}") in text
    buyers = data.orders.get_column(S.CUSTOMER_ID).n_unique()
    assert f"{buyers} customers have at least one order" in text
    assert WHY in text
    rows = dict(run.report.tables["Tables in the database"].select("table", "rows").rows())
    assert rows["customers"] == data.customers.height
    assert rows["orders"] == data.orders.height


def test_engine_ladder_rungs_equal_the_in_memory_ladder(runs):
    run, memory, _, _ = runs
    got = run.report.tables["Loyalty ladder"].select("rung", "reached", "at_stage")
    want = memory.tables["Loyalty ladder"].select("rung", "reached", "at_stage")
    assert got.rows() == want.rows()
    assert got.height >= 5


def test_engine_retention_equals_kaplan_meier_on_the_loaded_data(runs):
    run, memory, data, _ = runs
    got = run.report.tables["Retention summary"]
    # by segment, as the in-memory report shows it
    assert got.columns == memory.tables["Retention summary"].columns
    table = churn_table(data, inactivity="180d")
    groups = got.get_column("group").to_list()
    assert sorted(groups) == sorted(table.get_column(S.SEGMENT).unique().to_list())
    for row in got.iter_rows(named=True):
        km = KaplanMeier().fit(table.filter(pl.col(S.SEGMENT) == row["group"]))
        want = km.summary.row(0, named=True)
        checked = [c for c in want if c.startswith("survival_") and want[c] is not None]
        assert checked
        for col in checked:
            assert math.isclose(row[col], want[col], rel_tol=1e-9), (row["group"], col)


def test_engine_drivers_of_churn_equal_a_cox_fit_on_the_loaded_data(runs):
    """The drivers model runs on the rows that came back from the database: its hazard
    ratios are those of lifelines on the in-memory churn table with the same covariates
    (the engine run has no e-mail covariate: contacts stay in the database)."""
    run, _, data, _ = runs
    table = churn_table(data, inactivity="180d")
    covs = [c for c in (S.SEGMENT, S.REWARD_SCHEME, S.ACQUISITION_CHANNEL, "orders_90d")
            if c in table.columns and table[c].drop_nulls().n_unique() > 1]
    assert len(covs) >= 3
    want = sorted(CoxModel(covariates=covs).fit(table).summary.get_column("hazard_ratio"))
    got = sorted(run.report.tables["Risk of leaving by attribute"].get_column("hazard_ratio"))
    assert got == pytest.approx(want, rel=1e-6)


def test_engine_call_list_equals_the_in_memory_one(runs):
    """Ranked by the chance each customer has stopped buying (BG/NBD on their orders),
    which does not depend on the Cox covariates: same customers, same order."""
    run, memory, _, _ = runs
    cols = ["rank", S.CUSTOMER_ID, "p_stopped"]
    got = _table(run.report, "Call list").select(cols)
    want = _table(memory, "Call list").select(cols)
    assert got.height == want.height > 0
    assert got.select("rank", S.CUSTOMER_ID).rows() == want.select("rank", S.CUSTOMER_ID).rows()
    assert got.get_column("p_stopped").to_list() == pytest.approx(
        want.get_column("p_stopped").to_list(), rel=1e-6)
    titles = [title for title, _ in run.report.figures]
    assert "Call list: the active customers most likely to have stopped buying" in titles
    assert "What drives churn: what raises or lowers the risk of leaving" in titles


def test_engine_buying_model_parameters_equal_the_in_memory_fit(runs):
    run, memory, _, _ = runs
    got = _table(run.report, "Buying model parameters")
    want = _table(memory, "Buying model parameters")
    assert got.columns == want.columns
    assert got.get_column("parameter").to_list() == want.get_column("parameter").to_list()
    assert got.get_column("n").to_list() == want.get_column("n").to_list()
    # Both fits start from the same customers in the same order, but the engine's recency
    # and T (weeks) differ from polars' in the last bits (up to 3e-14; the parity tests
    # allow 1e-9), so L-BFGS-B stops at a slightly different point of the same flat
    # optimum (seen: 3.6275051 against 3.6275015). Same optimum: the maximised
    # log-likelihoods agree to 1e-9; the estimates and interval ends differ by under a
    # thousandth of their standard error.
    for g, w in zip(got.iter_rows(named=True), want.iter_rows(named=True)):
        assert math.isclose(g["log_likelihood"], w["log_likelihood"], rel_tol=1e-9)
        assert math.isclose(g["std_error"], w["std_error"], rel_tol=1e-3), g["parameter"]
        for col in ("estimate", "ci_low", "ci_high"):
            assert abs(g[col] - w[col]) <= 1e-3 * w["std_error"], (g["parameter"], col)
    repeat = dict(run.report.tables["Repeat buying in the data"].select("measure", "value")
                  .rows())
    same = dict(memory.tables["Repeat buying in the data"].select("measure", "value").rows())
    assert repeat == pytest.approx(same, rel=1e-12)


def test_engine_cohorts_and_value_of_each_customer_are_there(runs):
    run, memory, _, _ = runs
    names = [f for f, _ in run.report.figures]
    for title in ("Cohort retention by quarter", "Loyalty scorecard",
                  "Defection: customers lost per year", "Active customers per quarter"):
        assert title in names
    values = _table(run.report, "Value of each customer")
    assert values.height == _table(memory, "Value of each customer").height
    assert set(values.get_column(S.CUSTOMER_ID)) == \
        set(_table(memory, "Value of each customer").get_column(S.CUSTOMER_ID))


def test_parts_that_need_rows_are_skipped_with_a_sentence(runs):
    run, *_ = runs
    skipped = dict(run.skipped)
    for part in ("Survey scores", "Loyalty ladder: moves between rungs",
                 "Measure everything: profit by customer",
                 "Data overview: rows kept and rejected per table"):
        assert part in skipped, part
        reason = skipped[part]
        assert reason.endswith(".") and "_" not in reason and "Error" not in reason
    assert "stay in the database" in skipped["Loyalty ladder: moves between rungs"]
    assert not [p for p in skipped if p.startswith("Churn and retention")]


def _texts(out: Path) -> str:
    parts = [(out / "report.html").read_text(encoding="utf-8")]
    for name in ("tables.xlsx", "deck.pptx"):
        with zipfile.ZipFile(out / name) as z:
            parts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()
                      if n.endswith(".xml")]
    return "\n".join(parts)


def test_no_raw_customer_id_or_personal_value_leaves(runs, shop):
    run, _, _, out = runs
    _, data = shop
    text = _texts(out)
    raw = data.customers.get_column(S.CUSTOMER_ID).to_list()
    assert not [i for i in raw if i in text]
    assert "@mail.example" not in text
    assert "AM11" not in text  # account managers are identifiers too
    # the data-quality appendix says how the rows were counted, and claims no rejections
    appendix = text[text.index('id="data-quality"'):]
    appendix = appendix[:appendix.index("</section>")]
    assert "counted there, not read and checked one by one" in appendix
    assert "rejected by validation" not in appendix


def test_a_source_that_is_not_a_database_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(SALT_ENV, "x")
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "orders.csv").write_text("order_id\n1\n", encoding="utf-8")
    assert main(["report", str(folder), "--out", str(tmp_path / "o"), "--in-engine"]) == 2
    err = capsys.readouterr().err
    assert "a folder without Parquet files" in err and "without --in-engine" in err
    (folder / "orders.parquet").write_text("not parquet", encoding="utf-8")
    assert main(["report", str(folder), "--out", str(tmp_path / "o"), "--in-engine"]) == 2
    assert "export/orders.parquet: not readable as Parquet" in capsys.readouterr().err
    fake = tmp_path / "fake.duckdb"
    fake.write_text("not a database", encoding="utf-8")
    assert main(["report", f"duckdb://{fake}", "--out", str(tmp_path / "o"),
                 "--in-engine"]) == 2
    assert "not a DuckDB database file" in capsys.readouterr().err


def test_a_mapping_rule_the_engine_cannot_apply_exits_2(shop, tmp_path, capsys, monkeypatch):
    path, _ = shop
    monkeypatch.setenv(SALT_ENV, "x")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[[tables.orders.where]]\ncolumn = "amount"\nin = [1.0]\n', encoding="utf-8")
    code = main(["report", f"duckdb://{path}", "--mapping", str(mapping), "--out",
                 str(tmp_path / "o"), "--in-engine"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "orders table uses where" in err and "in-memory" in err
    with pytest.raises(SystemExit) as exc:
        main(["report", f"duckdb://{path}", "--out", str(tmp_path / "o"), "--in-engine",
              "--memory-limit", "lots"])
    assert exc.value.code == 2
    assert "expected a size such as 8GB" in capsys.readouterr().err


def test_renames_are_applied_inside_the_database(tmp_path):
    path = tmp_path / "renamed.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE kunden AS SELECT 'K1' AS nr, TIMESTAMP '2024-01-01' AS seit")
    con.execute("CREATE TABLE bestellungen AS SELECT 'K1' AS nr, "
                "TIMESTAMP '2024-02-01' AS datum, 9.5 AS betrag")
    con.close()
    db = engine.open_database(path, mapping={"tables": {
        "customers": {"source": "kunden", "columns": {"customer_id": "nr",
                                                      "acquired_at": "seit"}},
        "orders": {"source": "bestellungen", "columns": {
            "customer_id": "nr", "ordered_at": "datum", "amount": "betrag"}}}})
    assert list(db.orders.columns) == [S.CUSTOMER_ID, S.ORDERED_AT, S.AMOUNT]
    assert db.names == {"customers": "kunden", "orders": "bestellungen"}


def test_above_the_threshold_the_report_is_computed_in_the_database(
        shop, runs, tmp_path, capsys, monkeypatch):
    path, data = shop
    run = runs[0]
    seen = {}

    def fake(source, **kwargs):
        seen.update(kwargs)
        return run

    monkeypatch.setattr(engine, "IN_ENGINE_ABOVE", 100)
    monkeypatch.setattr(engine, "run_engine_report", fake)
    monkeypatch.delenv(SALT_ENV, raising=False)
    lookup = tmp_path / "lookup.csv"
    assert main(["report", f"duckdb://{path}", "--out", str(tmp_path / "o"),
                 "--lookup", str(lookup)]) == 0
    said = capsys.readouterr().out
    assert f"holds {data.orders.height:,} orders, more than the 100" in said
    assert "more than the 100" in seen["why"]
    # the lookup of pseudonyms comes from the customers table of the database
    table = pl.read_csv(lookup)
    assert table.height == data.customers.height
    ids = table.get_column("client_customer_id")
    assert table.get_column("pseudonym").to_list() == hash_series(ids, seen["salt"]).to_list()


def test_ladder_counts_in_parts_equal_one_query(shop):
    from loyaltylab import warehouse

    path, _ = shop
    db = engine.open_database(path)
    whole = warehouse.ladder_counts(dict(db.tables), as_of="2026-01-01")
    for parts in (2, 5):
        assert warehouse.ladder_counts(dict(db.tables), as_of="2026-01-01",
                                       parts=parts).equals(whole)
    with pytest.raises(ValueError, match="parts: expected a whole number"):
        warehouse.ladder_counts(dict(db.tables), parts=0)


def test_negative_amounts_are_summed_and_said_and_the_load_options_are_said_not_to_apply(
        shop, tmp_path, capsys, monkeypatch):
    """The in-memory run rejects negative amounts unless refunds are allowed; inside the
    database rows are not validated, so the report says how many orders have a negative
    amount and how much they take off, and the command says that the load options do
    not apply there instead of ignoring them without a word."""
    import shutil

    path = tmp_path / "refunds.duckdb"
    shutil.copy(shop[0], path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE orders SET amount = -amount WHERE order_id IN "
                "(SELECT order_id FROM orders ORDER BY order_id LIMIT 2)")
    negative, total = con.execute("SELECT sum(amount) FILTER (WHERE amount < 0), "
                                  "sum(amount) FROM orders").fetchone()
    con.close()
    monkeypatch.setenv(SALT_ENV, SALT)
    out = tmp_path / "o"
    code = main(["report", f"duckdb://{path}", "--out", str(out), "--in-engine",
                 "--charts", "none", "--allow-refunds", "--no-progress"])
    err = capsys.readouterr().err
    assert code in (0, 1), err
    assert "--allow-refunds do not apply inside the database" in err
    page = next(out.glob("*.html")).read_text(encoding="utf-8")
    from loyaltylab.report import Formats

    fmt = Formats("en")
    assert (f"2 orders have a negative amount (refunds or credit notes, "
            f"{fmt.money(negative)} in all); they were summed as they are") in page
    assert f"worth {fmt.money(total)}" in page


# ---------------------------------------------------------------------------- a server

def _same_rows(got: pl.DataFrame, want: pl.DataFrame, title: str) -> None:
    assert got.columns == want.columns and got.height == want.height > 0, title
    for a, b in zip(got.rows(), want.rows()):
        for x, y in zip(a, b):
            assert x == (pytest.approx(y, rel=1e-6) if isinstance(y, float) else y), title


def test_the_report_is_computed_inside_a_postgres_server(shop, runs, tmp_path, capsys,
                                                         monkeypatch):
    """`loyaltylab report postgresql://...`: the same tables in a PostgreSQL server give
    the same report as the DuckDB file, no raw id, e-mail or password leaves, and the
    lookup file still lets the consultant find the call list's customers."""
    from test_warehouse_parity import postgres_url

    path, data = shop
    run = runs[0]
    with postgres_url() as url:
        import ibis

        con = ibis.connect(url)
        for name, frame in _client_tables(data):
            con.create_table(name, frame, overwrite=True)
        # a password in the address (the test server trusts local users and never asks)
        secret = "pw-do-not-show"
        with_password = url.replace("loyaltylab@", f"loyaltylab:{secret}@", 1)
        monkeypatch.setenv(SALT_ENV, SALT)
        out = tmp_path / "pg-report"
        lookup = tmp_path / "lookup.csv"
        code = main(["report", with_password, "--out", str(out), "--no-progress", "--charts",
                     "none", "--lookup", str(lookup), "--memory-limit", "1GB"])
        said = capsys.readouterr()
        # the same report as computed inside the DuckDB file
        pg = engine.run_engine_report(with_password, out=tmp_path / "pg-direct", salt=SALT,
                                      charts=(), progress=False, why=WHY)
    assert code == 0, said.err
    assert "does not apply to a database server" in said.err
    text = _texts(out)
    assert secret not in text + said.out + said.err
    assert engine.server_label(url) in text  # the report names where it was computed
    assert not [i for i in data.customers.get_column(S.CUSTOMER_ID).to_list() if i in text]
    assert "@mail.example" not in text
    assert pg.errors == [] and dict(pg.skipped).keys() == dict(run.skipped).keys()
    for title in ("Loyalty ladder", "Retention summary", "Risk of leaving by attribute",
                  "Tables in the database", "Buying model parameters"):
        _same_rows(_table(pg.report, title), _table(run.report, title), title)
    ids = pl.read_csv(lookup)
    assert ids.height == data.customers.height
    assert set(ids.get_column(ids.columns[0]).cast(pl.String)) == set(
        hash_series(data.customers.get_column(S.CUSTOMER_ID), SALT).to_list())


def test_a_server_that_cannot_be_reached_is_one_line_without_the_password(
        tmp_path, capsys, monkeypatch):
    pytest.importorskip("psycopg")
    monkeypatch.setenv(SALT_ENV, "x")
    code = main(["report", "postgresql://analyst:pw-do-not-show@127.0.0.1:1/crm", "--out",
                 str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "could not connect to the database server" in err
    assert "postgresql://127.0.0.1:1/crm" in err
    assert "pw-do-not-show" not in err and "Traceback" not in err
    assert len(err.splitlines()) == 1


# ---------------------------------------------------------------------------- Parquet

def test_a_folder_of_parquet_files_is_summarised_where_it_lies(shop, runs, tmp_path,
                                                              capsys, monkeypatch):
    """Files too large for memory: a folder of Parquet files (the orders as a folder of
    parts, as Spark writes them) becomes views of an in-memory DuckDB under the memory
    limit, and gives the report the DuckDB file gives; above the threshold the report
    goes there without --in-engine."""
    _, data = shop
    run = runs[0]
    folder = tmp_path / "lake"
    folder.mkdir()
    for name, frame in _client_tables(data):
        if name == S.ORDERS:
            (folder / "orders").mkdir()
            half = frame.height // 2
            frame.head(half).write_parquet(folder / "orders" / "part-0.parquet")
            frame.tail(frame.height - half).write_parquet(folder / "orders" / "part-1.parquet")
        else:
            frame.write_parquet(folder / f"{name}.parquet")
    lake = engine.run_engine_report(folder, out=tmp_path / "lake-out", salt=SALT, charts=(),
                                    progress=False, memory_limit="1GB", why=WHY)
    assert lake.errors == [] and dict(lake.skipped).keys() == dict(run.skipped).keys()
    for title in ("Loyalty ladder", "Retention summary", "Risk of leaving by attribute",
                  "Tables in the database", "Buying model parameters"):
        _same_rows(_table(lake.report, title), _table(run.report, title), title)
    text = _texts(tmp_path / "lake-out")
    assert "@mail.example" not in text
    assert not [i for i in data.customers.get_column(S.CUSTOMER_ID).to_list() if i in text]
    # above the threshold, without --in-engine
    monkeypatch.setattr(engine, "IN_ENGINE_ABOVE", 100)
    monkeypatch.setenv(SALT_ENV, SALT)
    out = tmp_path / "auto"
    assert main(["report", str(folder), "--out", str(out), "--no-progress", "--charts",
                 "none"]) == 0
    said = capsys.readouterr().out
    assert f"holds {data.orders.height:,} orders, more than the 100" in said
    assert "the orders did not leave it" in (out / "report.html").read_text(encoding="utf-8")
