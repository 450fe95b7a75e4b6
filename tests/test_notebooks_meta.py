"""The notebook series stays coherent: README table of contents in sync, outputs small."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loyaltylab import _notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
MAX_BYTES = 500_000
MAX_OUTPUT_LINES = 60  # a cell printing more than this is printing a whole table


def test_readme_table_of_contents_is_in_sync():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"<!-- toc:start -->\n{_notebooks.readme_toc()}\n<!-- toc:end -->" in readme, (
        "README table of contents is stale: run `python -m loyaltylab._notebooks`")


def test_notebooks_are_numbered_without_gaps():
    numbers = [int(p.name[:2]) for p in _notebooks.notebook_paths()]
    assert numbers == list(range(len(numbers)))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_small_and_prints_no_whole_table(path):
    assert path.stat().st_size < MAX_BYTES
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            lines = "".join(text).count("\n")
            assert lines <= MAX_OUTPUT_LINES, f"a cell of {path.name} prints {lines} lines"


@pytest.mark.parametrize("path", _notebooks.notebook_paths(), ids=lambda p: p.name)
def test_notebook_opens_with_a_title_and_has_a_parameters_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert _notebooks.notebook_title(path)
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"


# Notebooks whose parameters differ from SOURCE / MAPPING / AS_OF, and why.
PARAMETER_EXCEPTIONS = {
    "05-repeat-buying-clv.ipynb": {"AS_OF"},  # OBSERVATION_END plays the as-of role
    "06-contract-retention.ipynb": {"SOURCE", "MAPPING", "AS_OF"},  # published cohorts
}


@pytest.mark.parametrize("path", _notebooks.notebook_paths(), ids=lambda p: p.name)
def test_papermill_reads_every_parameter(path):
    import logging

    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.ERROR)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    cell = next(c for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    assigned = {line.split("=")[0].strip() for line in "".join(cell["source"]).splitlines()
                if line and not line.startswith((" ", "#", "}", "]")) and "=" in line}
    seen = set(pm.inspect_notebook(str(path)))
    assert seen == assigned, f"papermill cannot read {assigned - seen} (no '=' in comments)"
    expected = {"SOURCE", "MAPPING", "AS_OF"} - PARAMETER_EXCEPTIONS.get(path.name, set())
    assert expected <= seen


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_client_data_is_pseudonymised_on_load(path):
    # a notebook run on a client's exports must not print or plot their real ids
    import re

    code = "".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))
                   ["cells"] if c["cell_type"] == "code")
    calls = re.findall(r"ll\.load\(SOURCE[^)]*\)", code)
    assert all("pseudonymize=True" in c for c in calls), calls


def test_business_change_date_can_be_set_for_client_data(tmp_path):
    # on a client's data there is no planted change: CHANGE_DATE (a string, as papermill
    # and the command line pass it) must drive the before/after comparison
    import logging

    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.ERROR)
    out = tmp_path / "ladder.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "03-loyalty-ladder.ipynb"), str(out),
                        parameters={"CHANGE_DATE": "2024-06-01"}, progress_bar=False,
                        cwd=str(ROOT / "notebooks"))
    text = "".join("".join(o.get("text", "")) for c in json.loads(out.read_text())["cells"]
                   for o in c.get("outputs", []))
    assert "change on 2024-06-01, windows of 365 days" in text
