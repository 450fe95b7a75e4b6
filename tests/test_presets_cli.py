"""`loyaltylab report` runs on each preset's generated export (tiny data): exit 0 with a
report whose data-quality section shows how the revenue was reached, or exit 1 with the
rejected rows named; never a traceback."""

from __future__ import annotations

import pytest

from loyaltylab.cli import main
from loyaltylab.datasets._platforms import (MAILCHIMP_MAPPING, PLATFORMS,
                                            TYPEFORM_QUESTIONS, make_email_export,
                                            make_platform_export, make_survey_export,
                                            make_ticket_export)

pytestmark = pytest.mark.slow

_CASES = [*PLATFORMS, "typeform", "zendesk", "mailchimp"]


def _export(case, folder):
    if case == "typeform":
        exp = make_survey_export(folder, n_customers=20, seed=2)
        lines = ["[tables.surveys]", 'preset = "typeform"', "[tables.surveys.wide.questions]"]
        lines += [f'"{q}" = "{item}"' for q, item in TYPEFORM_QUESTIONS.items()]
        return exp, "\n".join(lines) + "\n"
    if case == "mailchimp":
        return make_email_export(folder, n_customers=20, seed=2), MAILCHIMP_MAPPING
    if case == "zendesk":
        exp = make_ticket_export(folder, n_customers=20, seed=2)
        return exp, '[tables.complaints]\npreset = "zendesk"\n'
    exp = make_platform_export(case, folder, n_customers=20, seed=2)
    return exp, f'preset = "{case}"\n'


@pytest.mark.parametrize("case", _CASES)
def test_report_runs_on_each_preset_export(case, tmp_path, capsys):
    exp, mapping = _export(case, tmp_path / "export")
    m = tmp_path / "mapping.toml"
    m.write_text(mapping, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["report", str(exp.path), "--mapping", str(m), "--as-of",
                 exp.as_of.strftime("%Y-%m-%d"), "--out", str(out), "--salt", "s3cret",
                 "--no-progress", "--charts", "none"])  # chart files: test_pipeline
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    assert "Traceback" not in captured.err + captured.out
    if code == 1:
        assert "rejected" in captured.err
        return
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="data-quality"' in page
    if case in PLATFORMS:  # revenue-bearing exports reconcile in the report
        assert "How the revenue was reached" in page
        import re
        (n, shown), = re.findall(r"<tr class=total><td>Revenue kept</td><td class=num>"
                                 r"([^<]*)</td><td class=num>([^<]*)</td></tr>", page)
        assert n == f"{exp.truth['orders']:,}"
        # equal to the truth to the cent, as the client's dashboard shows it: money in the
        # reconciliation keeps its cents however large
        assert re.fullmatch(r"-?[\d,]+\.\d\d", shown), shown
        assert shown == f"{exp.truth['revenue']:,.2f}", shown
    assert "@example.com" not in page


def test_workbook_writes_nan_and_infinity_as_empty_cells(tmp_path):
    # an unbounded interval (a BG/NBD fit on a tiny CRM export) made the run fail
    import math

    import openpyxl
    import polars as pl

    from loyaltylab.report._excel import export_tables
    df = pl.DataFrame({"param": ["r", "alpha", "a"], "ci_high": [1.5, math.inf, math.nan]})
    export_tables({"BG/NBD parameters": df}, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["BG_NBD parameters"]
    assert [r for r in ws.iter_rows(min_row=2, values_only=True)] == [
        ("r", 1.5), ("alpha", None), ("a", None)]


def test_notebooks_run_on_a_shopify_export_and_leak_nothing(tmp_path, capsys, monkeypatch):
    """`loyaltylab notebooks SRC --mapping ... --out DIR` on a Shopify export: exit 0 (or
    1 with rejected rows named), no traceback, and no planted e-mail address, name, phone
    or street in any notebook, HTML page or anything else it wrote or printed.

    The notebooks that read the export's own shapes run here: 01 (the data and its
    mapping), 02 (the measures) and 05 (repeat buying and CLV on line-item orders). The
    whole series runs on every platform export under ``LOYALTYLAB_FULL_CORPUS=1``
    (tests/test_corpus_notebooks.py) and on plain client exports in the suite."""
    import numpy as np

    from loyaltylab import _notebooks as N
    from loyaltylab.datasets import _exports as X
    from loyaltylab.datasets._platforms import _people
    exp = make_platform_export("shopify", tmp_path / "export", n_customers=40, seed=5)
    personal = [v for p in _people(np.random.default_rng(5), 40)
                for v in (p["email"], f"{p['first']} {p['last']}", p["phone"])]
    personal.append("Hauptstrasse 1")
    m = tmp_path / "mapping.toml"
    m.write_text('preset = "shopify"\n', encoding="utf-8")
    out = tmp_path / "notebooks"
    chosen = [p for p in N.notebook_paths() if p.name[:2] in ("01", "02", "05")]
    assert len(chosen) == 3
    monkeypatch.setattr(N, "notebook_paths", lambda *a, **k: chosen)
    code = main(["notebooks", str(exp.path), "--mapping", str(m), "--as-of",
                 exp.as_of.strftime("%Y-%m-%d"), "--out", str(out), "--salt", "s3cret",
                 "--allow-rejects", "--jobs", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    assert "Traceback" not in captured.err + captured.out
    assert sorted(p.stem for p in out.glob("*.html")) == [p.stem for p in chosen]
    scan = X.ClientExport(path=exp.path, mapping=None, truth={}, as_of=exp.as_of, read={},
                          rejected={}, personal=tuple(personal))
    assert scan.find_personal(out) == []
    printed = (captured.out + captured.err).casefold()
    assert not [p for p in personal if p.casefold() in printed]


def test_reconciliation_keeps_the_cents_of_large_amounts(tmp_path):
    # a consultant matches the revenue to the client's dashboard: 148,178.64, not 148,179
    import re

    from loyaltylab import load
    from loyaltylab.report import Report
    exp = make_platform_export("shopify", tmp_path / "export", n_customers=12, seed=4)
    data = load(exp.path, mapping={"preset": "shopify"}, as_of=exp.as_of)
    rep = Report.for_data(data)
    rep._state.revenue = 148_178.64
    page = rep._html()
    kept = re.findall(r"<tr class=total><td>Revenue kept</td><td class=num>[^<]*</td>"
                      r"<td class=num>([^<]*)</td></tr>", page)
    assert kept == ["148,178.64"]
    # elsewhere in the report large amounts stay rounded to the unit
    assert rep.formats.money(148_178.64) == "148,179"
    assert rep.formats.money(148_178.64, cents=True) == "148,178.64"
