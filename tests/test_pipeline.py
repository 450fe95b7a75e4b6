"""The one-command client run: `loyaltylab report` end to end on a small client folder
seeded with personal data, which must never reach an output."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from pptx import Presentation

from loyaltylab import cli
from loyaltylab._pipeline import RejectedRowsError, run_report
from loyaltylab.data import schema as S
from loyaltylab.datasets._bundled import write_sample
from loyaltylab.report import scan_for_personal_data

NAMES = ["Annegret Vollmer", "Bartholomew Quince", "Cosima Okonkwo"]
EMAILS = ["annegret.vollmer@example.org", "b.quince@example.com", "cosima.o@example.net"]
PHONES = ["+49 89 7654321", "+44 20 7946 0958", "+1 415 555 0132"]


@pytest.fixture(scope="module")
def client_folder(tmp_path_factory) -> Path:
    """A small simulated client export, with name, e-mail and phone columns added."""
    folder = tmp_path_factory.mktemp("client")
    write_sample(folder, n_customers=400, years=2, seed=11)
    customers = pl.read_csv(folder / "customers.csv", infer_schema=False)
    n = customers.height
    customers = customers.with_columns(
        pl.Series("name", [NAMES[i % 3] for i in range(n)]),
        pl.Series("email", [EMAILS[i % 3] for i in range(n)]),
        pl.Series("phone", [PHONES[i % 3] for i in range(n)]),
    )
    customers.write_csv(folder / "customers.csv")
    return folder


@pytest.fixture(scope="module")
def run(client_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return run_report(client_folder, out=out, progress=False), out


def test_report_writes_every_output(run):
    result, out = run
    assert (out / "report.html").stat().st_size > 10_000
    charts = sorted((out / "charts").iterdir())
    n_figures = len(result.report.figures)
    assert n_figures >= 12
    assert len(charts) == 3 * n_figures  # PNG, SVG and PDF of each
    deck = Presentation(out / "deck.pptx")
    assert len(deck.slides) > 1  # its structure is checked in tests/test_report_deck.py
    sheets = load_workbook(out / "tables.xlsx", read_only=True).sheetnames
    assert len(sheets) >= len(result.report.tables)


def test_no_personal_data_or_raw_identifier_in_any_output(run, client_folder):
    _, out = run
    raw_ids = pl.read_csv(client_folder / "customers.csv", infer_schema=False)[
        S.CUSTOMER_ID].to_list()
    findings = scan_for_personal_data(out, needles=[*NAMES, *EMAILS, *PHONES, *raw_ids[:50]])
    assert findings.height == 0, findings


def test_the_scan_would_see_a_leak(run, tmp_path):
    # the privacy check can fail: a copy of the report with one e-mail added is caught
    _, out = run
    leaky = tmp_path / "leaky.html"
    leaky.write_text((out / "report.html").read_text() + f"<p>{EMAILS[0]}</p>")
    assert scan_for_personal_data(leaky).height >= 1


def test_a_missing_table_skips_its_capability_and_the_rest_is_produced(client_folder,
                                                                        tmp_path):
    folder = tmp_path / "nosurveys"
    folder.mkdir()
    for path in client_folder.glob("*.csv"):
        if path.stem != S.SURVEYS:
            (folder / path.name).write_bytes(path.read_bytes())
    result = run_report(folder, out=tmp_path / "out", progress=False, charts=())
    skipped = dict(result.skipped)
    assert "Survey scores" in skipped and "a surveys table" in skipped["Survey scores"]
    assert skipped["Survey scores"].startswith("This section would show what customers say")
    assert len(result.report.figures) >= 10
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Survey scores" in html


def _folder_with_a_bad_order(client_folder, tmp_path) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    for path in client_folder.glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    orders = pl.read_csv(folder / "orders.csv", infer_schema=False)
    orders = orders.with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("not a date"))
        .otherwise(pl.col(S.ORDERED_AT)).alias(S.ORDERED_AT))
    orders.write_csv(folder / "orders.csv")
    return folder


def test_rejected_rows_stop_the_report_with_the_validation_report(client_folder, tmp_path,
                                                                   capsys):
    folder = _folder_with_a_bad_order(client_folder, tmp_path)
    with pytest.raises(RejectedRowsError, match=r"1 rows were rejected on load"):
        run_report(folder, out=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    code = cli.main(["report", str(folder), "--out", str(tmp_path / "out2"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_REJECTED
    assert "--allow-rejects" in err and "orders" in err


def test_cli_report_unusable_source_exits_2(tmp_path, capsys):
    code = cli.main(["report", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert code == cli.EXIT_UNUSABLE
    assert "error" in capsys.readouterr().err


def test_notebook_run_on_client_data_leaks_nothing(client_folder, tmp_path):
    """`loyaltylab notebooks` executes the series on a client's folder (here the start and
    reporting notebooks, to keep the suite fast) and renders HTML without any personal value
    or raw identifier in the executed notebooks or their HTML."""
    from loyaltylab._notebooks import notebook_paths, run_notebooks

    chosen = [p for p in notebook_paths() if p.name[:2] in ("00", "09")]
    html = run_notebooks(client_folder, tmp_path / "run", notebooks=chosen, hide_code=True,
                         progress=False)
    assert [p.name for p in html] == [p.with_suffix(".html").name for p in chosen]
    page = html[0].read_text()
    assert "400" in page  # the notebook ran on the client's 400 customers, not the sample
    assert "import loyaltylab" not in page  # code hidden for the client-facing copy
    raw_ids = pl.read_csv(client_folder / "customers.csv", infer_schema=False)[
        S.CUSTOMER_ID].to_list()
    outputs = [p for p in (tmp_path / "run").iterdir() if p.suffix in (".html", ".ipynb")]
    findings = scan_for_personal_data(outputs, needles=[*NAMES, *EMAILS, *PHONES, *raw_ids],
                                      emails=False, phones=False)
    assert findings.height == 0, findings


def test_large_bases_fit_the_cox_model_on_a_sample_and_say_so(client_folder, monkeypatch):
    from loyaltylab import _pipeline

    monkeypatch.setattr(_pipeline, "COX_SAMPLE", 150)
    data = _pipeline.load_for_report(client_folder)
    rep = _pipeline.build_report(data, progress=False)
    footnotes = [fn for _, fn in rep.figures if fn and "fitted on a random 150 of" in fn]
    assert len(footnotes) == 1 and "n = 150 customers" in footnotes[0]


# =========================================================================== client shapes
# A plain client export: customers (customer_id, acquired_at), orders (order_id,
# customer_id, ordered_at, amount) and one contacts file, written with polars the way a
# client's system would, with non-English values. Optional tables and columns are added per
# test to check that they change what is shown, never whether the run finishes.

import logging  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402

import numpy as np  # noqa: E402

from loyaltylab import _pipeline as P  # noqa: E402
from loyaltylab.exceptions import ConvergenceError  # noqa: E402

SEGMENTS = ["Privatkunde", "Großkunde", "Ärzte & Praxen"]
REGIONS = ["Île-de-France", "Bayern", "Łódź"]


def minimal_export(folder: Path, *, n: int = 200, seed: int = 3, contacts: bool = True,
                   referrals: bool = False, surveys: bool = False, complaints: bool = False,
                   columns: tuple[str, ...] = ()) -> Path:
    """Write a small client export into ``folder`` and return it."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    start, end = datetime(2023, 1, 1), datetime(2025, 6, 29, 17, 45)
    ids = [f"KD-{i:04d}-ü" for i in range(n)]
    acquired = [start + timedelta(days=int(d)) for d in rng.integers(0, 500, n)]
    rows = []
    for cid, acq in zip(ids, acquired):
        rate, life = rng.gamma(1.0, 1 / 40), rng.exponential(rng.gamma(1.0, 400))
        t = acq
        while True:
            t = t + timedelta(days=float(rng.exponential(1 / rate)) + 1)
            if t > min(end, acq + timedelta(days=life)):
                break
            rows.append((f"B-{len(rows) + 1}", cid, t.strftime("%Y-%m-%d %H:%M"),
                         round(float(rng.gamma(2, 30)), 2)))
    rows.append(("B-last", ids[0], end.strftime("%Y-%m-%d %H:%M"), 12.5))
    customers = {"customer_id": ids, "acquired_at": [a.strftime("%Y-%m-%d") for a in acquired]}
    if "kind" in columns:
        customers["kind"] = rng.choice(["Verbraucher", "business partner"], n).tolist()
    if "segment" in columns:
        customers["segment"] = rng.choice(SEGMENTS, n).tolist()
    if "region" in columns:
        customers["region"] = rng.choice(REGIONS, n).tolist()
    pl.DataFrame(customers).write_csv(folder / "customers.csv")
    pl.DataFrame(rows, schema=["order_id", "customer_id", "ordered_at", "amount"],
                 orient="row").write_csv(folder / "orders.csv")

    def some(m: int, days: int = 880) -> tuple[list[str], list[str]]:
        who = [ids[i] for i in rng.integers(0, n, m)]
        when = [(start + timedelta(days=int(d))).strftime("%Y-%m-%d")
                for d in rng.integers(0, days, m)]
        return who, when

    if contacts:
        who, when = some(2 * n)
        pl.DataFrame({"customer_id": who, "contacted_at": when,
                      "channel": rng.choice(["Téléphone", "E-Mail", "Brief/Straße"],
                                            2 * n).tolist()}).write_csv(folder / "contacts.csv")
    if referrals:
        who, when = some(n // 4)
        pl.DataFrame({"referrer_id": who, "referred_id": [ids[i] for i in
                                                          rng.integers(0, n, n // 4)],
                      "referred_at": when}).write_csv(folder / "referrals.csv")
    if surveys:
        who, when = some(n)
        pl.DataFrame({"customer_id": who, "survey": "Zufriedenheit 2024", "item": "nps",
                      "answered_at": when, "score": rng.integers(0, 11, n).tolist()}
                     ).write_csv(folder / "surveys.csv")
    if complaints:
        who, when = some(n // 5)
        opened = pl.Series(when).str.to_date()
        resolved = opened + pl.duration(days=pl.Series(rng.integers(0, 60, n // 5)))
        pl.DataFrame({"customer_id": who, "opened_at": opened}).with_columns(
            resolved_at=resolved).write_csv(folder / "complaints.csv")
    return folder


def _build(folder: Path, **kwargs):
    data = P.load_for_report(folder, **kwargs)
    rep, errors = P._build(data, title="t", progress=False, date_note=None,
                           sections=P.SECTIONS)
    return data, rep, errors


def _texts(rep) -> list[str]:
    return [i.text for i in rep._state.items if hasattr(i, "text")]


@pytest.fixture(scope="module")
def minimal(tmp_path_factory) -> Path:
    return minimal_export(tmp_path_factory.mktemp("minimal"))


def test_report_on_a_minimal_client_export_finishes_with_exit_0(minimal, tmp_path, capsys):
    # the run that stopped on the absent optional column `kind` now finishes
    code = cli.main(["report", str(minimal), "--out", str(tmp_path / "out"), "--no-progress",
                     "--charts", "svg"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK, out
    assert (tmp_path / "out" / "report.html").exists()
    # --charts svg: chart files in that one format only
    charts = {p.suffix for p in (tmp_path / "out" / "charts").iterdir()}
    assert charts == {".svg"}
    assert "skipped Survey scores: This section would show" in out
    html = (tmp_path / "out" / "report.html").read_text()
    assert "the date of the last event in the data" in html
    assert "The top rung, advocate, is not shown: it needs a referrals table" in html
    assert "no grouping column" in html
    assert "KD-0001" not in html  # identifiers pseudonymised


def test_minimal_export_shows_every_section_it_can(minimal):
    data, rep, errors = _build(minimal)
    assert errors == []
    skipped = dict(rep.skipped)
    # the export's spend per order is alike for everyone, so the spend model behind the
    # value of each customer (a workbook sheet) has nothing to fit, and says so
    assert set(skipped) == {"Survey scores", "Measure everything: complaint handling",
                            "Repeat buying and customer value: value of each customer"}
    assert skipped["Repeat buying and customer value: value of each customer"].startswith(
        "The model could not be fitted to these data")
    titles = " | ".join(t for t, _ in rep.figures)
    for needle in ("Loyalty scorecard", "Loyalty ladder", "Retention", "Call list",
                   "Contact-to-sale conversion", "still active"):
        assert needle in titles, titles


def test_the_measuring_date_is_the_end_of_the_last_event_day(minimal):
    data, rep, _ = _build(minimal)
    # last order 2025-06-29 17:45 -> measured at the end of that day
    assert data.as_of == datetime(2025, 6, 30)
    assert _texts(rep)[0] == (
        "Figures are measured at the end of June 29, 2025, the date of the last event in the "
        "data (taken as the extract date), so a period ending that day counts as complete.")


def test_the_sample_scorecard_compares_the_last_two_complete_years():
    # the sample's last events fall at 00:00 on 31 Dec 2025: 2025 is complete
    from loyaltylab import metrics

    data = P.load_for_report(None)
    assert data.as_of == datetime(2026, 1, 1)
    card = metrics.scorecard(data, period="year")
    assert card["current_period"][0] == datetime(2025, 1, 1)
    assert card["previous_period"][0] == datetime(2024, 1, 1)


def test_a_given_date_means_the_end_of_that_day(minimal):
    data = P.load_for_report(minimal, as_of="2025-06-29")
    assert data.as_of == datetime(2025, 6, 30)
    assert data.report.n_rejected == 0  # the order at 17:45 that day is not "after as_of"
    when, why = P.measuring_date(data, "2025-06-29")
    assert why == ("Figures are measured at the end of 29 June 2025, the date given when "
                   "the report was run.")
    assert P.measuring_date(data, "2025-03-01T12:00")[0] == datetime(2025, 3, 1, 12)


@pytest.mark.parametrize("shape", [
    dict(contacts=False),
    dict(referrals=True),
    dict(surveys=True),
    dict(complaints=True),
    dict(columns=("kind",)),
    dict(columns=("region",)),
    dict(columns=("segment", "region", "kind"), referrals=True, surveys=True,
         complaints=True),
], ids=["no-contacts", "referrals", "surveys", "complaints", "kind", "region", "everything"])
def test_every_client_shape_finishes_and_shows_what_its_data_support(tmp_path, shape):
    folder = minimal_export(tmp_path / "src", n=150, seed=5, **shape)
    data, rep, errors = _build(folder)
    assert errors == []
    skipped = dict(rep.skipped)
    titles = " | ".join(t for t, _ in rep.figures)
    texts = " | ".join(_texts(rep))
    assert "Loyalty ladder" in titles and "Retention" in titles
    assert ("Survey scores" in skipped) != bool(shape.get("surveys"))
    assert ("Measure everything: complaint handling" in skipped) != bool(
        shape.get("complaints"))
    assert ("Measure everything: contacts and conversion" in skipped) == (
        shape.get("contacts") is False)
    assert ("advocate, is not shown" in texts) != bool(shape.get("referrals"))
    if shape.get("contacts") is False:
        assert "The rung prospect is not shown: it needs a contacts table" in texts
    for col, words in (("kind", "kind"), ("region", "region"), ("segment", "segment")):
        shown = any(t.lower().startswith(f"customers by {words}") for t, _ in rep.figures)
        assert shown == (col in shape.get("columns", ())), titles
    if shape.get("surveys"):
        assert "Net Promoter" in titles or "NPS" in titles


def test_a_missing_required_column_ends_the_run_with_exit_2(minimal, tmp_path, capsys):
    folder = tmp_path / "broken"
    folder.mkdir()
    for path in minimal.glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    pl.read_csv(folder / "orders.csv").drop("amount").write_csv(folder / "orders.csv")
    code = cli.main(["report", str(folder), "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_UNUSABLE
    assert "amount" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3


def test_a_model_that_does_not_converge_keeps_the_summary_and_says_why(minimal, monkeypatch):
    from loyaltylab import clv

    def fail(self, *args, **kwargs):
        raise ConvergenceError("BetaGeo: the optimiser did not converge after 200 steps")

    monkeypatch.setattr(clv.BetaGeo, "fit", fail)
    _, rep, errors = _build(minimal)
    assert errors == []
    assert "Repeat buying in the data" in rep.tables  # the data summary is still shown
    assert "BG/NBD parameters" not in rep.tables
    reason = dict(rep.skipped)["Repeat buying and customer value: buying model"]
    assert reason.startswith("The repeat-buying summary above is shown without the model. "
                             "The model could not be fitted to these data")
    assert "optimiser" not in reason  # plain words, not the library's message
    assert any(t.startswith("Loyalty ladder") for t, _ in rep.figures)  # the run went on


def test_a_singular_fit_removes_only_the_drivers_and_the_call_list(tmp_path, monkeypatch):
    from loyaltylab import churn

    def singular(self, *args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(churn.CoxModel, "fit", singular)
    folder = minimal_export(tmp_path / "src", n=150, columns=("segment",))
    _, rep, errors = _build(folder)
    assert errors == []
    reason = dict(rep.skipped)["Churn and retention: drivers of churn"]
    assert "no unique answer" in reason and "too few customers" in reason
    titles = [t for t, _ in rep.figures]
    assert any(t.startswith("Retention") for t in titles)
    assert not any(t.startswith("Call list") for t in titles)


def test_an_unexpected_error_in_one_section_is_logged_and_the_run_goes_on(minimal,
                                                                          monkeypatch,
                                                                          caplog):
    from loyaltylab import metrics

    def broken(*args, **kwargs):
        raise KeyError("weird")

    monkeypatch.setattr(metrics, "scorecard", broken)
    with caplog.at_level(logging.ERROR, logger="loyaltylab.report"):
        _, rep, errors = _build(minimal)
    assert errors == ["Measure everything: scorecard: KeyError: 'weird'"]
    assert dict(rep.skipped)["Measure everything: scorecard"] == (
        "This part could not be produced because of an unexpected problem in the software, "
        "not in the data; the run's log has the details.")  # the error's name is logged
    assert "Traceback" in caplog.text or caplog.records[0].exc_info
    assert any(t.startswith("Defection") for t, _ in rep.figures)
    assert any(t.startswith("Retention") for t, _ in rep.figures)


def test_a_library_error_is_said_in_plain_words_in_the_appendix(minimal, monkeypatch):
    # a loyaltylab check that fails on these data: its message addresses a programmer
    # ("drop it from covariates=, ... pass penalizer=0.1"); the appendix keeps only what
    # a reader can use
    from loyaltylab import metrics
    from loyaltylab.report._browser import code_words

    def refuses(*args, **kwargs):
        raise ValueError("CoxModel: covariate 'segment' has a level with 2 customers; drop "
                         "it from covariates=, merge the rare level into another (e.g. with "
                         "pl.when().then()), or pass penalizer=0.1 to shrink the estimate")

    from loyaltylab import _pipeline_base  # where _part looks it up

    monkeypatch.setattr(_pipeline_base, "_anticipated", lambda exc: True)  # as if a check
    monkeypatch.setattr(metrics, "defection_rate", refuses)
    _, rep, errors = _build(minimal)
    reasons = dict(rep.skipped)
    assert reasons["Measure everything: defection rate"] == (
        "The data do not support it: covariate 'segment' has a level with 2 customers.")
    assert errors == []
    assert code_words([f"{c}: {r}" for c, r in rep.skipped]) == []
    page = rep._html().split('<section id="not-included"')[1]
    assert "covariate &#x27;segment&#x27; has a level with 2 customers" in page
    assert "penalizer" not in page and "covariates=" not in page


def test_a_whole_section_failing_does_not_stop_the_others(minimal, monkeypatch):
    def broken(ctx):
        raise RuntimeError("boom")

    sections = tuple(P.Section(s.name, s.shows, s.needs, broken if i == 0 else s.run)
                     for i, s in enumerate(P.SECTIONS))
    data = P.load_for_report(minimal)
    rep, errors = P._build(data, title="t", progress=False, date_note=None,
                           sections=sections)
    assert errors == ["Data overview: this section: RuntimeError: boom"]
    assert any(t.startswith("Loyalty ladder") for t, _ in rep.figures)


def test_section_skip_reason_names_what_it_shows_and_needs(minimal):
    data = P.load_for_report(minimal)
    surveys = [s for s in P.SECTIONS if s.name == "Survey scores"][0]
    assert surveys.skip_reason(data) == (
        "This section would show what customers say: the net promoter score and survey "
        "scores over time. It needs a surveys table (customer id, item, answered at and "
        "score), which this dataset does not have.")
    overview = P.SECTIONS[0]
    assert overview.skip_reason(data) is None
    no_amount = data.replace(orders=data.orders.drop(S.AMOUNT))
    assert "the amount column of the orders table" in overview.skip_reason(no_amount)


# ------------------------------------------------------------------ ladder without tables
def test_the_ladder_without_referrals_is_the_ladder_without_its_top_rung():
    from loyaltylab import datasets, funnel

    data = datasets.load_sample()
    ladder, notes = P.ladder_for_data(data.replace(referrals=None))
    assert ladder.names == funnel.OFFLINE.names[:-1]
    assert notes == ["The top rung, advocate, is not shown: it needs a referrals table (its "
                     "rule: referrals >= 1 within 730 days), which this dataset does not "
                     "have."]
    assert P.ladder_for_data(data) == (funnel.OFFLINE, [])


def test_the_ladder_without_contacts_or_product_lines_changes_only_those_rules():
    from loyaltylab import datasets, funnel

    data = datasets.load_sample()
    data = data.replace(contacts=None, referrals=None,
                        orders=data.orders.drop(S.PRODUCT_LINE))
    ladder, notes = P.ladder_for_data(data)
    assert ladder.names == ["suspect", "first_time_customer", "repeat_customer", "client"]
    assert str(ladder.stage("suspect").rule) == "listed as a customer and no orders"
    assert str(ladder.stage("client").rule) == "orders >= 4 within 365d"
    assert any("The rung prospect is not shown: it needs a contacts table" in n for n in notes)
    assert any("because the data have no product line column in the orders table" in n
               for n in notes)
    fun = funnel.funnel(data, ladder, as_of=datetime(2026, 1, 1))
    # everyone is a suspect; without contacts, nobody is counted as a prospect
    assert fun["stage"].to_list() == ladder.names
    assert fun["reached"][0] == data.customers.height


# ------------------------------------------------------------------ call list
def test_the_call_list_is_not_led_by_customers_near_the_churn_threshold():
    from loyaltylab import churn

    data = P.load_for_report(None)
    table = churn.churn_table(data, inactivity=P.INACTIVITY)
    cox = churn.CoxModel(covariates=[S.SEGMENT, S.REWARD_SCHEME, "orders_90d"]).fit(table)
    by_rule = churn.at_risk_list(table, cox, horizon=P.HORIZON, top=100)
    calls = P.call_list(table, cox, top=100)
    assert calls["p_stopped"].is_sorted(descending=True)
    assert calls["rank"].to_list() == list(range(1, 101))
    assert np.allclose(calls["p_stopped"], 1 - calls["p_alive"])
    # the rule's own ranking only lists customers within 90 days of the 180-day mark;
    # ranked by their rhythm, customers far from it who broke their rhythm appear too
    assert by_rule["silent_days"].min() >= 90
    assert calls["silent_days"].min() < 90
    near = lambda f: int((f["silent_days"] >= 150).sum())  # noqa: E731
    assert near(calls) < near(by_rule)


def test_a_value_error_from_outside_loyaltylab_is_a_bug_not_a_data_problem(minimal,
                                                                           monkeypatch):
    # e.g. matplotlib refusing an error bar: logged as unexpected, not blamed on the data
    from loyaltylab import plots

    def broken(*args, **kwargs):
        raise ValueError("'yerr' must not contain negative values")

    monkeypatch.setattr(plots, "plot_defection", broken)
    _, rep, errors = _build(minimal)
    assert errors == ["Measure everything: defection rate: ValueError: 'yerr' must not "
                      "contain negative values"]
    assert dict(rep.skipped)["Measure everything: defection rate"].startswith(
        "This part could not be produced")


def test_complaints_without_resolved_dates_skip_only_the_resolution_chart(tmp_path):
    folder = minimal_export(tmp_path / "src", n=150, complaints=True)
    data = P.load_for_report(folder)
    data = data.replace(complaints=data.complaints.drop(S.RESOLVED_AT))
    rep, errors = P._build(data, title="t", progress=False, date_note=None,
                           sections=P.SECTIONS)
    assert errors == []
    assert dict(rep.skipped)["Measure everything: complaint handling"] == (
        "Retention by how fast complaints were resolved needs the resolved date of each "
        "complaint, which this dataset does not have.")


def test_a_cox_model_that_does_not_converge_is_refitted_with_shrinkage_and_said_so(
        tmp_path, monkeypatch):
    from loyaltylab import churn

    original = churn.CoxModel._fit

    def flaky(self, table, penalizer):
        if not penalizer:
            raise ConvergenceError("Convergence halted: delta contains nan values")
        return original(self, table, penalizer)

    monkeypatch.setattr(churn.CoxModel, "_fit", flaky)
    folder = minimal_export(tmp_path / "src", n=150, columns=("segment",))
    _, rep, errors = _build(folder)
    assert errors == []
    assert any(t.startswith("The plain model of what drives churn could not be fitted")
               for t in _texts(rep))
    titles = [t for t, _ in rep.figures]
    assert any(t.startswith("What drives churn") for t in titles)
    assert any(t.startswith("Call list") for t in titles)


def test_a_group_in_which_nobody_left_is_said_in_words_and_fitted_with_shrinkage(tmp_path):
    # three customers who ordered in the last 120 days form their own segment: nobody in
    # it has left, so the plain Cox model cannot be fitted (its hazard ratio would be 0)
    folder = minimal_export(tmp_path / "src", n=150, columns=("segment",))
    orders = pl.read_csv(folder / "orders.csv").with_columns(
        pl.col("ordered_at").str.to_datetime("%Y-%m-%d %H:%M"))
    recent = (orders.group_by("customer_id").agg(pl.col("ordered_at").max())
              .filter(pl.col("ordered_at") > datetime(2025, 6, 29) - timedelta(days=120))
              .sort("customer_id").get_column("customer_id").head(3).to_list())
    assert len(recent) == 3
    customers = pl.read_csv(folder / "customers.csv").with_columns(
        pl.when(pl.col("customer_id").is_in(recent)).then(pl.lit("Stammkunde"))
        .otherwise(pl.col("segment")).alias("segment"))
    customers.write_csv(folder / "customers.csv")
    _, rep, errors = _build(folder)
    assert errors == []
    said = " ".join(_texts(rep))
    assert ("None of the 3 customers whose segment is Stammkunde has left, so how much this "
            "protects against leaving cannot be measured exactly on these data. The effects "
            "below are therefore shrunk towards 'no effect'") in said
    assert "segment" in said and "covariate" not in said and "penalizer" not in said
    skipped = dict(rep.skipped)
    assert "Churn and retention: drivers of churn" not in skipped
    titles = [t for t, _ in rep.figures]
    assert any(t.startswith("What drives churn") for t in titles)
    assert any(t.startswith("Call list") for t in titles)


def test_no_active_customer_left_skips_the_call_list_in_words(tmp_path):
    # measured two years after the last order: every customer has been silent for more
    # than 180 days, so there is no one to call (lifelines used to fail on zero rows)
    folder = minimal_export(tmp_path / "src", n=120, columns=("segment",))
    _, rep, errors = _build(folder, as_of="2027-07-01")
    assert errors == []
    assert dict(rep.skipped)["Churn and retention: call list"] == (
        "Every customer had gone 180 days without an order by the measuring date, so "
        "nobody is still active to call.")
    assert any(t.startswith("What drives churn") for t, _ in rep.figures)


# ------------------------------------------------------------------ the story first
def test_the_run_computes_its_executive_summary_from_the_results(run):
    result, out = run
    rep = result.report
    found = rep.findings
    assert 5 <= len(found) <= 9
    assert [f.weight for f in found] == sorted((f.weight for f in found), reverse=True)
    headings = {i.text for i in rep._state.items if type(i).__name__ == "_Heading"}
    figures = {i.name for i in rep._state.items if type(i).__name__ == "_Figure"}
    for f in found:  # every finding links to a section and, where it names one, its chart
        assert f.section in headings | {"Data quality"}, f.section
        assert f.figure is None or f.figure in figures, f.figure
    # the defection finding carries the rate with its interval and counts
    defection = [f for f in found if "typical of most firms" in f.headline]
    assert len(defection) == 1 and re.search(r"About \d+% of customers were lost in \d{4} "
                                              r"\(\d+(\.\d)?%–\d+(\.\d)?%; [\d,]+ of [\d,]+\)",
                                              defection[0].headline)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.index('id="summary"') < page.index('<h2 id="s-the-data">')


def test_locale_writes_numbers_and_dates_the_clients_way(minimal, tmp_path, capsys):
    code = cli.main(["report", str(minimal), "--out", str(tmp_path / "de"), "--no-progress",
                     "--locale", "de", "--charts", "none"])
    assert code == 0
    # --charts none: no chart files, the three deliverables still written
    assert not (tmp_path / "de" / "charts").exists()
    assert {p.name for p in (tmp_path / "de").iterdir()} >= {"report.html", "deck.pptx",
                                                             "tables.xlsx"}
    page = (tmp_path / "de" / "report.html").read_text(encoding="utf-8")
    assert "Figures are measured at the end of 29. Juni 2025" in page
    assert re.search(r"\d+&nbsp;%|\d+\xa0%", page)  # 27 %: German percent spacing
    assert re.search(r">\d{1,3}\.\d{3}<", page)  # 1.234: German thousands separator


def test_unknown_locale_is_a_usage_error(minimal, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["report", str(minimal), "--out", str(tmp_path / "x"), "--locale", "zz_QQ"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "locale 'zz_QQ' is not known" in err and "Traceback" not in err


def test_unknown_chart_format_is_a_usage_error(minimal, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["report", str(minimal), "--out", str(tmp_path / "x"), "--charts", "png,bmp"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "give chart formats from png, svg, pdf" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
