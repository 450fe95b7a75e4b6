"""Privacy: the scanner finds e-mails, phone numbers and seeded raw values in every output
format, finds nothing in a report built from data seeded with names, e-mails and phone
numbers, and scrub_notebook strips notebooks for sharing."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402

import loyaltylab as ll  # noqa: E402
from loyaltylab.data import schema as S  # noqa: E402
from loyaltylab.data.overview import (  # noqa: E402
    activity_over_time, customer_mix, table_overview,
)
from loyaltylab.exceptions import SourceError  # noqa: E402
from loyaltylab.plots.data import (  # noqa: E402
    plot_activity, plot_customer_mix, plot_load_report,
)
from loyaltylab.report import (  # noqa: E402
    Footnote, Report, mask_value, personal_needles, scan_for_personal_data, scrub,
    scrub_notebook,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
FIRST = ["Anneliese", "Bartholomew", "Cordelia", "Dietrich", "Evangeline", "Fitzgerald",
         "Gwendolyn", "Hieronymus"]
LAST = ["Vogelsang", "Pemberton", "Quisenberry", "Zwanziger", "Oakenshield", "Lindqvist"]


def _seeded_customers(n: int = 120, seed: int = 8) -> pl.DataFrame:
    """The first n sample customers with fake names, e-mails and phone numbers added."""
    rng = np.random.default_rng(seed)
    customers = pl.read_csv(SAMPLE / "customers.csv", infer_schema=False).head(n)
    first = rng.choice(FIRST, n)
    last = rng.choice(LAST, n)
    names = [f"{f} {s}" for f, s in zip(first, last)]
    emails = [f"{f.lower()}.{s.lower()}{i}@example.org" for i, (f, s) in
              enumerate(zip(first, last))]
    phones = [f"+49 30 {rng.integers(1_000_000, 9_999_999)}" for _ in range(n)]
    return customers.with_columns(pl.Series("name", names), pl.Series("email", emails),
                                  pl.Series("phone", phones))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    raw_customers = _seeded_customers()
    ids = raw_customers.get_column(S.CUSTOMER_ID)
    orders = (pl.read_csv(SAMPLE / "orders.csv", infer_schema=False)
              .filter(pl.col(S.CUSTOMER_ID).is_in(ids.implode())))
    data = ll.from_frames({S.CUSTOMERS: raw_customers, S.ORDERS: orders},
                          source="seeded client export", as_of="2026-01-01")
    needles = personal_needles(raw_customers)
    return raw_customers, data, needles, tmp_path_factory.mktemp("privacy")


def _report_on(data) -> Report:
    rep = Report.for_data(data, title="Loyalty report")
    rep.add_heading("The data")
    rep.add_table(table_overview(data), title="Tables")
    activity = activity_over_time(data)
    rep.add_figure(plot_activity(activity),
                   footnote=Footnote.from_frame(data.orders, date_col=S.ORDERED_AT,
                                                count_col=S.CUSTOMER_ID))
    mix = customer_mix(data, by=S.SEGMENT)
    rep.add_figure(plot_customer_mix(mix), footnote=Footnote(n=data.customers.height))
    rep.add_table(mix, title="Customers by segment")
    rep.add_figure(plot_load_report(data.report.summary()))
    with rep.capability("Survey scores"):
        data.require(S.SURVEYS, purpose="survey scoring")
    return rep


def test_needles_cover_names_emails_phones_and_ids(seeded):
    raw, _, needles, _ = seeded
    assert len(needles) == (raw.select(pl.col("name").n_unique()).item()
                            + 120 * 3)  # 120 ids, e-mails and phone numbers
    assert "C000001" in needles and raw["email"][0] in needles


def test_report_on_seeded_data_leaks_nothing(seeded):
    raw, data, needles, tmp = seeded
    assert not {"name", "email", "phone"} & set(data.customers.columns)  # dropped on load
    out = _report_on(data).write_all(tmp / "clean", progress=False)
    written = {p.suffix for p in (tmp / "clean").rglob("*") if p.is_file()}
    assert written == {".png", ".svg", ".pdf", ".xlsx", ".html", ".pptx", ".json"}  # + manifest
    findings = scan_for_personal_data(tmp / "clean", needles=needles)
    assert findings.height == 0, findings
    # the scan really read the outputs: a non-personal word from each format is found
    for path in [out["html"], out["deck"], out["workbook"], *out["charts"][1:3]]:
        hits = scan_for_personal_data(path, needles=["customers"], emails=False,
                                      phones=False)
        assert hits.height > 0, path.name


def test_scan_finds_seeded_values_in_a_leaky_report(seeded):
    raw, data, needles, tmp = seeded
    email, phone, name = raw["email"][3], raw["phone"][5], raw["name"][7]
    rep = Report("Leaky report", subtitle=f"prepared for {name}")
    fig, ax = plt.subplots()
    ax.bar(["a", "b"], [1, 2])
    ax.set_title(f"Orders of {email}")
    rep.add_figure(ax, footnote=f"call {phone}")
    rep.add_table(raw.select(S.CUSTOMER_ID, "name", "email", "phone").head(5),
                  title="Top customers", allow_identifiers=True)
    rep.write_all(tmp / "leaky", progress=False)
    findings = scan_for_personal_data(tmp / "leaky", needles=needles)
    found = {(f, k) for f, k in findings.select("file", "kind").iter_rows()}
    for file in ("report.html", "deck.pptx", "tables.xlsx",
                 "charts/01-orders-of-" + email.split("@")[0].replace(".", "-")
                 + "-example-org.svg"):
        assert any(f == file for f, _ in found), (file, findings)
    assert {k for _, k in found} == {"email", "phone", "needle"}
    pdf = findings.filter(pl.col("file").str.ends_with(".pdf"))
    assert set(pdf["kind"]) >= {"email", "phone"}
    # the findings themselves do not repeat the raw values
    assert not findings.filter(pl.col("match").str.contains(email, literal=True)
                               | pl.col("match").str.contains(name, literal=True)).height


@pytest.mark.parametrize("text", [
    "anna.schmidt@example.com", "Mail: j_doe+crm@mail.example.co.uk.",
    "+49 30 1234567", "+1 (415) 555-0100", "030 1234567", "(030) 123 45 67",
    "06-12345678", "0612345678", "415-555-0100", "+44 20 7946 0958",
])
def test_detectors_find_personal_shapes(tmp_path, text):
    (tmp_path / "a.txt").write_text(f"row 1: {text} end")
    assert scan_for_personal_data(tmp_path).height == 1


@pytest.mark.parametrize("text", [
    "2023-01-01 to 2025-12-31", "2023-01-01 00:00:00", "01/02/2023", "31.12.2025",
    "n = 4,812 customers", "revenue 1,234,567.89", "0.123 (0.101-0.145)", "+12.5%",
    "version 0.21.0", "p = 0.0001234", "HR 0.85 [0.80, 0.91]", "12 345 678 orders",
    "9144000 5143500", "user@localhost", "ids 1 2 3 4 5 6 7 8 9",
    "05.01.2025 10:15", "12/31/2025 08:00", "2025-12-31 23:59",
])
def test_detectors_ignore_report_numbers(tmp_path, text):
    (tmp_path / "a.txt").write_text(f"row 1: {text} end")
    assert scan_for_personal_data(tmp_path).height == 0, text


def test_needles_match_whole_words_case_insensitively(tmp_path):
    (tmp_path / "a.md").write_text("Contact ANNELIESE.vogelsang today; C0000012 is other.\n"
                                   "Mr Vogelsangs and C000001x are not matches.")
    hits = scan_for_personal_data(tmp_path, needles=["Anneliese Vogelsang", "C000001",
                                                     "Vogelsang", "ab"])
    assert hits.select("kind", "match", "n").rows() == [
        ("needle", "A****************** (19 chars)", 1),  # "ANNELIESE.vogelsang"
        ("needle", "v******** (9 chars)", 1),  # the same name, as the word Vogelsang
    ]


def test_scan_reads_png_text_chunks_and_notebook_outputs(tmp_path):
    fig, ax = plt.subplots()
    fig.savefig(tmp_path / "chart.png", metadata={"Author": "anna@example.com"})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "show()", outputs=[nbformat.v4.new_output(
            "display_data", data={"text/html": "<td>+49 30 7654321</td>",
                                  "image/png": "iVBORw0KGgo="})])])
    nbformat.write(nb, tmp_path / "nb.ipynb")
    hits = scan_for_personal_data(tmp_path)
    assert hits.select("file", "kind").rows() == [("chart.png", "email"),
                                                  ("nb.ipynb", "phone")]
    scrub_notebook(tmp_path / "nb.ipynb")
    assert scan_for_personal_data(tmp_path / "nb.ipynb").height == 0


def test_scan_decodes_svg_embedded_in_html(tmp_path):
    import base64

    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><text>bob@example.net</text></svg>'
    page = f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg).decode()}">'
    (tmp_path / "r.html").write_text(page)
    hits = scan_for_personal_data(tmp_path / "r.html")
    assert hits.select("part", "kind").rows() == [("r.html (embedded SVG 1)", "email")]


def test_mask_value_hides_the_value():
    assert mask_value("0612345678", "phone") == "********78"
    assert mask_value("x@y.io", "email") == "x***@y***.io"


def test_scan_errors(tmp_path):
    with pytest.raises(SourceError, match=r"does not exist; pass the output folder"):
        scan_for_personal_data(tmp_path / "missing")
    with pytest.raises(TypeError, match=r"needles must be a list of strings"):
        scan_for_personal_data(tmp_path, needles="Anna")
    with pytest.raises(ValueError, match=r"columns \['mail'\] are not in the frame"):
        personal_needles(pl.DataFrame({"a": ["x"]}), columns=["mail"])


# ---------------------------------------------------------------- scrub
def _executed_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("SOURCE = None", metadata={"tags": ["parameters"]})
    injected = nbformat.v4.new_code_cell('SOURCE = "/clients/acme/export"',
                                         metadata={"tags": ["injected-parameters"]})
    code = nbformat.v4.new_code_cell("print(1 + 1)", execution_count=3, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="2\n")])
    code.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
    code.metadata["papermill"] = {"duration": 0.1}
    md = nbformat.v4.new_markdown_cell("# Title")
    nb.cells = [md, params, injected, code]
    nb.metadata["papermill"] = {"parameters": {"SOURCE": "/clients/acme/export"}}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def test_scrub_notebook_strips_outputs_and_run_metadata(tmp_path):
    src, dst = tmp_path / "in.ipynb", tmp_path / "shared" / "out.ipynb"
    nbformat.write(_executed_notebook(), src)
    before = src.read_text()
    assert scrub_notebook(src, dst) == dst
    assert src.read_text() == before  # the original is untouched
    nb = nbformat.read(dst, as_version=4)
    assert [c.source for c in nb.cells] == ["# Title", "SOURCE = None", "print(1 + 1)"]
    code = nb.cells[2]
    assert code.outputs == [] and code.execution_count is None
    assert "execution" not in code.metadata and "papermill" not in code.metadata
    assert nb.cells[1].metadata["tags"] == ["parameters"]
    assert "papermill" not in nb.metadata and nb.metadata["kernelspec"]["name"] == "python3"
    assert "acme" not in dst.read_text()
    # idempotent, and in place by default
    scrub_notebook(dst)
    assert nbformat.read(dst, as_version=4) == nb
    keep = scrub_notebook(src, tmp_path / "keep.ipynb", drop_injected_parameters=False)
    assert len(nbformat.read(keep, as_version=4).cells) == 4


def test_scrub_folder_in_place_and_to_out_dir(tmp_path):
    (tmp_path / "nbs" / "solutions").mkdir(parents=True)
    for rel in ("nbs/01-a.ipynb", "nbs/solutions/01-a.ipynb"):
        nbformat.write(_executed_notebook(), tmp_path / rel)
    copies = scrub(tmp_path / "nbs", out_dir=tmp_path / "clean")
    assert sorted(p.relative_to(tmp_path / "clean").as_posix() for p in copies) == [
        "01-a.ipynb", "solutions/01-a.ipynb"]
    assert json.loads((tmp_path / "nbs" / "01-a.ipynb").read_text())["cells"][3]["outputs"]
    written = scrub(tmp_path / "nbs")
    assert len(written) == 2
    assert all(not c.get("outputs") for p in written
               for c in json.loads(p.read_text())["cells"])


def test_scrub_errors(tmp_path):
    with pytest.raises(SourceError, match=r"does not exist; pass a notebook or a folder"):
        scrub(tmp_path / "nope")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json")
    with pytest.raises(SourceError, match=r"is not a readable Jupyter notebook"):
        scrub_notebook(bad)
    with pytest.raises(SourceError, match=r"is not a file; pass a \.ipynb notebook"):
        scrub_notebook(tmp_path)
