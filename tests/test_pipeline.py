"""The one-command client run: `loyaltylab report` end to end on a small client folder
seeded with personal data, which must never reach an output."""

from __future__ import annotations

import json
import zipfile
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
    assert len(deck.slides) == n_figures + 1  # a title slide, then one chart per slide
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
    result = run_report(folder, out=tmp_path / "out", progress=False)
    skipped = dict(result.skipped)
    assert "Survey scores" in skipped and "'surveys' table" in skipped["Survey scores"]
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
