"""Every notebook of the series has a solutions notebook that matches it.

nbval executes the solutions themselves (they live under ``notebooks/``); these tests keep
them in step with the series: same title, same parameters, one answer per exercise.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from loyaltylab import _notebooks

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _parameters(path: Path) -> set[str]:
    tagged = [c for c in _cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected exactly one cell tagged 'parameters'"
    tree = ast.parse(_source(tagged[0]))
    return {t.id for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)}


def _exercise_count(path: Path) -> int:
    """Numbered items after the notebook's ``## Exercises`` heading."""
    for cell in reversed(_cells(path)):
        text = _source(cell)
        if cell["cell_type"] == "markdown" and "## Exercises" in text:
            return len(re.findall(r"^\d+\. ", text.split("## Exercises", 1)[1], flags=re.M))
    return 0


def _solution_path(path: Path) -> Path:
    return SOLUTIONS / f"{path.stem}-solutions.ipynb"


def test_exercise_counter_reads_numbered_items(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "metadata": {},
                     "source": "## Summary\n\n1. not an exercise\n\n## Exercises\n\n"
                               "1. first\n   more text\n2. second\n3. third"}]}
    (tmp_path / "00-x.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    assert _exercise_count(tmp_path / "00-x.ipynb") == 3


@pytest.mark.parametrize("path", _notebooks.notebook_paths(), ids=lambda p: p.name)
def test_every_notebook_has_matching_solutions(path):
    solution = _solution_path(path)
    assert solution.is_file(), f"no solutions notebook {solution.name} in notebooks/solutions/"
    title = _notebooks.notebook_title(path)
    assert _notebooks.notebook_title(solution) == f"Solutions: {title}", (
        f"{solution.name}: first heading should be 'Solutions: {title}'")
    assert _parameters(solution) == _parameters(path), (
        f"{solution.name}: parameters differ from {path.name}")
    n = _exercise_count(path)
    assert n >= 2, f"{path.name}: expected 2-3 numbered exercises under '## Exercises'"
    answered = sum(1 for c in _cells(solution) if c["cell_type"] == "markdown"
                   and re.match(r"## Exercise \d+\b", _source(c)))
    assert answered == n, f"{solution.name}: {answered} exercises answered, {path.name} has {n}"
