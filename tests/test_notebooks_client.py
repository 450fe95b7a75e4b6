"""`loyaltylab notebooks` on client data: derived parameters, the pseudonymised data copy,
self-contained HTML, plain sentences instead of tracebacks, and `scrub`."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import nbformat
import polars as pl
import pytest

from loyaltylab import _notebooks as N
from loyaltylab import cli
from loyaltylab.report import scan_for_personal_data, scrub_notebook

from test_pipeline import minimal_export

EMAILS = ["jürgen.weiß@example.de", "sofía.núñez@example.es"]
PHONES = ["+49 221 9876543", "+34 91 7654321"]


def _client(folder: Path, **kwargs) -> Path:
    """A minimal export with an e-mail, a phone and an undeclared note column added."""
    minimal_export(folder, **kwargs)
    customers = pl.read_csv(folder / "customers.csv", infer_schema=False)
    n = customers.height
    customers.with_columns(
        pl.Series("email", [EMAILS[i % 2] for i in range(n)]),
        pl.Series("telefon", [PHONES[i % 2] for i in range(n)]),
        pl.Series("notiz", ["rief an, Frau Weiß" for _ in range(n)]),
    ).write_csv(folder / "customers.csv")
    return folder


def test_derived_parameters_come_from_the_data(tmp_path):
    import loyaltylab as ll

    data = ll.load(minimal_export(tmp_path / "src"))
    params = N.derived_parameters(data)
    # last order 2025-06-29 17:45: measured at the end of that day
    assert params["AS_OF"] == params["OBSERVATION_END"] == "2025-06-30"
    first = data.orders["ordered_at"].min()
    mid = first + (datetime(2025, 6, 30) - first) / 2
    assert params["CALIBRATION_END"] == f"{mid:%Y-%m-%d}"
    assert params["CHANGE_DATE"] == "2024-06-01"
    given = N.derived_parameters(data, as_of="2025-03-31", calibration_end="2024-12-31",
                                 change_date="2024-10-01")
    assert given == {"AS_OF": "2025-04-01", "OBSERVATION_END": "2025-04-01",
                     "CALIBRATION_END": "2024-12-31", "CHANGE_DATE": "2024-10-01"}


def test_no_notebook_hard_codes_dates_outside_the_sample_branch():
    date = re.compile(r"""["'](19|20)\d\d-\d\d-\d\d["']""")
    # notebook 01's dated lines read its bundled messy-export fixture, not the data analysed
    for path in [p for p in N.notebook_paths() if not p.name.startswith("01-")]:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            if re.search(r"^(?!data\b)\w+ = ll\.datasets\.load_", source, flags=re.M):
                continue  # a side demonstration on a bundled dataset, whatever SOURCE is
            lines = source.splitlines()
            in_sample = False
            for line in lines:
                code = line.split("#")[0]
                if re.match(r"\s*if SOURCE is None", code):
                    in_sample = True
                elif in_sample and code and not code.startswith((" ", "\t")):
                    in_sample = False
                if "parameters" in cell["metadata"].get("tags", []) or not in_sample:
                    assert not date.search(code), f"{path.name}: {line.strip()}"


def test_the_data_copy_holds_only_pseudonymised_canonical_columns(tmp_path):
    src = _client(tmp_path / "src", surveys=True)
    surveys = pl.read_csv(src / "surveys.csv").with_columns(
        pl.lit("bitte rufen Sie +49 221 9876543 an").alias("comment"))
    surveys.write_csv(src / "surveys.csv")
    copy = N.pseudonymized_copy(src, tmp_path / "copy", salt="s")
    assert sorted(p.name for p in copy.iterdir()) == [
        "contacts.parquet", "customers.parquet", "orders.parquet", "surveys.parquet"]
    customers = pl.read_parquet(copy / "customers.parquet")
    assert customers.columns == ["customer_id", "acquired_at"]
    assert "comment" not in pl.read_parquet(copy / "surveys.parquet").columns
    raw = pl.read_csv(src / "customers.csv")["customer_id"].to_list()
    assert not set(raw) & set(customers["customer_id"].to_list())
    findings = scan_for_personal_data(sorted(copy.iterdir()),
                                      needles=[*EMAILS, *PHONES, "Frau Weiß", *raw[:20]])
    assert findings.height == 0, findings


def test_html_is_self_contained():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title\n\nA formula $x^2$."),
        nbformat.v4.new_code_cell("1 + 1", outputs=[nbformat.v4.new_output(
            "execute_result", data={"text/plain": "2"}, execution_count=1)])])
    body, _ = N.html_exporter().from_notebook_node(nb)
    assert not re.search(r"<script[^>]*\bsrc=", body)
    assert "cdnjs" not in body and "unpkg" not in body
    hidden, _ = N.html_exporter(hide_code=True).from_notebook_node(nb)
    assert "1 + 1" not in hidden


def test_errors_become_plain_sentences_and_a_summary():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Ladder"),
        nbformat.v4.new_markdown_cell("## 4. Advocates"),
        nbformat.v4.new_code_cell("adv = F.funnel(data)", outputs=[nbformat.v4.new_output(
            "error", ename="MissingTableError",
            evalue="The offline ladder needs the 'referrals' table, which this dataset "
                   "does not have.", traceback=["Traceback ..."])]),
        nbformat.v4.new_code_cell("adv.head()", outputs=[nbformat.v4.new_output(
            "error", ename="NameError", evalue="name 'adv' is not defined",
            traceback=["..."])]),
        nbformat.v4.new_markdown_cell("## 5. Model"),
        nbformat.v4.new_code_cell("fit()", outputs=[nbformat.v4.new_output(
            "error", ename="ConvergenceError", evalue="BetaGeo: optimiser stuck",
            traceback=["..."])]),
    ])
    skipped = N.explain_errors(nb)
    assert [w for w, _ in skipped] == ["4. Advocates", "4. Advocates", "5. Model"]
    assert skipped[0][1].startswith("The offline ladder needs the 'referrals' table")
    assert skipped[1][1] == ("it builds on an earlier part that could not be produced on "
                             "these data")
    assert "could not be fitted" in skipped[2][1] and "optimiser" not in skipped[2][1]
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert all(o.output_type == "display_data" for o in outputs)
    summary = N.skipped_summary(skipped)
    assert summary.startswith("**Parts not shown on these data.**")
    assert summary.count("\n- ") == 3


def test_scrub_strips_attachments_and_authorship(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(
            "![screenshot](attachment:crm.png)",
            attachments={"crm.png": {"image/png": "iVBORw0KGgo="}},
            metadata={"colab": {"base_uri": "https://localhost"},
                      "executionInfo": {"user": {"displayName": "Jürgen Weiß"}}}),
            nbformat.v4.new_code_cell("1", metadata={"outputId": "abc", "tags": ["keep"]})],
        metadata={"authors": [{"name": "Jürgen Weiß"}], "vscode": {"interpreter": {}},
                  "kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    text = scrub_notebook(path).read_text(encoding="utf-8")
    assert "Jürgen" not in text and "attachments" not in text and "iVBOR" not in text
    clean = nbformat.read(path, as_version=4)
    assert "kernelspec" in clean.metadata and "authors" not in clean.metadata
    assert clean.cells[1].metadata == {"tags": ["keep"]}


@pytest.mark.slow
def test_cli_notebooks_runs_the_series_on_a_plain_client_export(tmp_path, monkeypatch,
                                                                capsys):
    """No referrals, no surveys, no optional columns, a relative --out: every notebook
    runs to the end, says what it could not show, and leaks nothing."""
    src = _client(tmp_path / "src", n=150, seed=8)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["notebooks", str(src), "--out", "run"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK, out
    run = tmp_path / "run"
    html = sorted(run.glob("*.html"))
    assert [p.stem for p in html] == [p.stem for p in N.notebook_paths()]
    for page in html:
        body = page.read_text(encoding="utf-8")
        assert "Traceback" not in body, page.name
        assert not re.search(r"<script[^>]*\bsrc=", body), page.name
    # the ladder without referrals is the ladder without its top rung, shown and said so
    ladder = nbformat.read(run / "03-loyalty-ladder.ipynb", as_version=4)
    shown = "".join(o.get("text", "") for c in ladder.cells if c.cell_type == "code"
                    for o in c.outputs)
    assert "The top rung, advocate, is not shown: it needs a referrals table" in shown
    # the offline funnel (on the data, or on the ladder's evaluated timeline)
    funnel = [c for c in ladder.cells
              if re.search(r"F\.funnel\((data, OFFLINE|timeline)\b", c.source)][0]
    assert funnel.outputs and not any("loyaltylab_skipped" in o.get("metadata", {})
                                      for o in funnel.outputs)
    # a notebook whose table is missing says so in a markdown cell under its title
    surveys = nbformat.read(run / "07-survey-scoring.ipynb", as_version=4)
    assert surveys.cells[1].cell_type == "markdown"
    assert "loyaltylab_skipped" in surveys.cells[1].metadata["tags"]
    assert "needs the 'surveys' table" in surveys.cells[1].source
    assert "Traceback" not in json.dumps(surveys)
    for path in run.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                  if o.output_type == "error"]
        assert not errors, path.name
    raw = pl.read_csv(src / "customers.csv")["customer_id"].to_list()
    findings = scan_for_personal_data(sorted(p for p in run.rglob("*") if p.is_file()),
                                      needles=[*EMAILS, *PHONES, "Frau Weiß", *raw],
                                      emails=False, phones=False)
    assert findings.height == 0, findings


def _tiny_notebook(path: Path, *code: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# {path.stem}"),
        nbformat.v4.new_code_cell("SOURCE = None", metadata={"tags": ["parameters"]}),
        *[nbformat.v4.new_code_cell(c) for c in code]],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    nbformat.write(nb, path)
    return path


def test_jobs_run_notebooks_side_by_side_in_series_order(tmp_path):
    import time

    slow = _tiny_notebook(tmp_path / "00-slow.ipynb", "import time; time.sleep(4)",
                          "print('slow done')")
    fast = _tiny_notebook(tmp_path / "01-fast.ipynb", "print('fast done')",
                          "from loyaltylab.exceptions import MissingTableError\n"
                          "raise MissingTableError(\"NPS needs the 'surveys' table\")")
    start = time.perf_counter()
    written = N.run_notebooks(None, tmp_path / "out", notebooks=[slow, fast], jobs=2,
                              progress=False)
    assert [p.name for p in written] == ["00-slow.html", "01-fast.html"]
    assert "slow done" in written[0].read_text(encoding="utf-8")
    body = written[1].read_text(encoding="utf-8")
    assert "fast done" in body and "Traceback" not in body
    assert "Not shown on these data" in body
    assert time.perf_counter() - start < 60


def test_kernels_talk_over_their_own_sockets_and_a_failed_start_is_retried(tmp_path,
                                                                          monkeypatch):
    """Kernels started side by side over TCP can pick the same free port; one then dies
    before it replies (seen on corpus export 33 with --jobs 2: "Address already in use").
    On POSIX each kernel's channels are Unix sockets in a folder of its own, and a kernel
    that dies while starting is started again (a run of no cell is lost). nbclient's exit
    hook of the failed start is removed, so no traceback is printed when Python exits."""
    import atexit
    import os

    import nbclient

    code = ("import ipykernel, os\n"
            "info = ipykernel.get_connection_info(unpack=True)\n"
            "print('transport', info['transport'], os.path.isabs(info['ip']))")
    books = [_tiny_notebook(tmp_path / f"0{i}-t.ipynb", code) for i in range(2)]
    real, calls = nbclient.NotebookClient.execute, []

    def dies_once(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 1:  # as nbclient says it when the kernel dies at start
            atexit.register(self._cleanup_kernel)
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(nbclient.NotebookClient, "execute", dies_once)
    hooks: list = []  # nbclient's exit hooks registered and not removed
    register, unregister = atexit.register, atexit.unregister

    def spy_register(f, *args, **kwargs):
        if isinstance(getattr(f, "__self__", None), nbclient.NotebookClient):
            hooks.append(f)
        return register(f, *args, **kwargs)

    def spy_unregister(f):
        hooks[:] = [h for h in hooks if h != f]
        unregister(f)

    monkeypatch.setattr(atexit, "register", spy_register)
    monkeypatch.setattr(atexit, "unregister", spy_unregister)
    written = N.run_notebooks(None, tmp_path / "out", notebooks=books, jobs=2,
                              progress=False)
    assert len(calls) == 3  # two notebooks, one of them started twice
    assert hooks == []
    expected = "transport ipc True" if os.name == "posix" else "transport tcp"
    for page in written:
        assert expected in page.read_text(encoding="utf-8")

    def always_dies(self, *args, **kwargs):
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(nbclient.NotebookClient, "execute", always_dies)
    with pytest.raises(RuntimeError, match="Kernel died"):
        N.run_notebooks(None, tmp_path / "out2", notebooks=books[:1], progress=False)


def test_a_failing_notebook_stops_the_others_at_once(tmp_path):
    """With --jobs, a notebook that cannot run (here: not a notebook file) ends the run
    without waiting for the others: their kernels are killed."""
    import threading
    import time

    sleeper = _tiny_notebook(tmp_path / "00-sleep.ipynb", "import time; time.sleep(600)")
    broken = tmp_path / "01-broken.ipynb"
    broken.write_text("not json", encoding="utf-8")
    start = time.perf_counter()
    def waited_for_at_exit() -> int:  # non-daemon threads (the pool's workers)
        return sum(not t.daemon for t in threading.enumerate())

    before = waited_for_at_exit()
    with pytest.raises(Exception):  # noqa: B017 - whichever error the broken notebook gives
        N.run_notebooks(None, tmp_path / "out", notebooks=[sleeper, broken], jobs=2,
                        progress=False)
    assert time.perf_counter() - start < 120
    # the sleeper's thread ends too, even when its kernel was still starting when the
    # broken notebook failed (it runs no cell): Python does not wait 600 s at exit
    while waited_for_at_exit() > before and time.perf_counter() - start < 120:
        time.sleep(0.2)
    assert waited_for_at_exit() <= before


def test_jobs_must_be_a_whole_number(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["notebooks", "--out", "x", "--jobs", "0"])
    assert stop.value.code == 2
    assert "--jobs: expected a whole number of at least 1, got '0'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="jobs: expected a whole number of at least 1"):
        N.run_notebooks(None, "never-created", jobs=0)


def test_a_missing_grouping_column_or_rung_is_explained_in_plain_words():
    # notebook 03 on a client export without a segment column or a contacts table
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## 6. Time to the next rung"),
        nbformat.v4.new_code_cell("tts", outputs=[nbformat.v4.new_output(
            "error", ename="ValueError", evalue="ladder 'offline' has no stage 'prospect'; "
            "stages: ['suspect', 'first_time_customer', 'repeat_customer', 'client']",
            traceback=["..."])]),
        nbformat.v4.new_markdown_cell("## 9. Segments"),
        nbformat.v4.new_code_cell("seg", outputs=[nbformat.v4.new_output(
            "error", ename="ValueError", evalue="by=['segment', 'acquisition_channel']: not "
            "a customer attribute; available: ['acquired_at']", traceback=["..."])])])
    assert N.explain_errors(nb) == [
        ("6. Time to the next rung", "it starts from the prospect rung, which these data do "
                                     "not measure (see the notes on the ladder above)"),
        ("9. Segments", "the split by segment and acquisition channel needs segment and "
                        "acquisition channel columns in the customers table, which this "
                        "dataset does not have")]


def test_the_first_answers_of_notebook_00_on_data_shorter_than_a_year(tmp_path, capsys):
    """Notebook 00's headline cell on an export whose Kaplan-Meier curve stops before one
    year (the Salesforce, Zendesk, Typeform and French HubSpot exports of the corpus): the
    annual defection is said to be unmeasured instead of failing to format None."""
    import loyaltylab as ll

    (tmp_path / "customers.csv").write_text(
        "customer_id,acquired_at\nA,2025-06-01\nB,2025-07-01\nC,2025-08-01\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n1,A,2025-06-01,10\n2,A,2025-07-15,12\n"
        "3,B,2025-07-01,9\n4,C,2025-08-01,20\n")
    data = ll.load(tmp_path, as_of="2025-12-01")
    assert ll.churn.KaplanMeier().fit(ll.churn.churn_table(data)).summary[
        "annual_defection"].to_list() == [None]
    nb = nbformat.read(N.notebook_paths()[0], as_version=4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code"
                and "annual_defection" in c.source)
    exec(compile(cell, "00-start-here", "exec"), {"ll": ll, "pl": pl, "data": data})
    shown = capsys.readouterr().out
    assert ("Annual defection: not measured, no customer in these data was followed for "
            "a whole year") in shown
    assert "Repeat buyers: 33.3% of 3 buyers" in shown  # A of A, B, C bought twice


def test_the_loyalty_index_of_notebook_02_when_the_correlation_is_not_measurable(
        tmp_path, capsys):
    """Notebook 02's loyalty-index cell on an export where every buyer has one order of
    the same amount (the Zendesk export of the corpus is alike): the rank correlation of
    index and profit is undefined (null), and the cell says so instead of failing to
    format None."""
    import loyaltylab as ll

    (tmp_path / "customers.csv").write_text(
        "customer_id,acquired_at\nA,2025-06-01\nB,2025-07-01\nC,2025-08-01\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n1,A,2025-06-01,10\n2,B,2025-07-01,10\n"
        "3,C,2025-08-01,10\n")
    data = ll.load(tmp_path, as_of="2025-12-01")
    assert ll.metrics.loyalty_profitability(data, margin=0.4)["spearman_rho"][0] is None
    nb = nbformat.read(N.notebook_paths()[2], as_version=4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code"
                and "spearman_rho" in c.source)
    names = {"ll": ll, "pl": pl, "data": data, "M": ll.metrics, "MARGIN": 0.4,
             "CHANGE_DATE": None, "rnd": lambda frame, digits=3: frame}
    exec(compile(cell, "02-measure-everything", "exec"), names)
    assert ("Spearman correlation of index and profit: not measurable (the index or the "
            "profit is the same for every buyer)") in capsys.readouterr().out
