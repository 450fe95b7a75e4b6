"""No module imports a private module or name of another loyaltylab package.

Within a package (``loyaltylab/churn/...``) modules share private helpers freely; across
packages only public names travel (shared/ARCHITECTURE.md), so a package can reorganise
its insides without breaking another. The top-level private modules (``loyaltylab._util``,
``_stats``, ``_units``, ``_result``, ``_fitter``, ``_cohorts``) are the shared helper layer
every package may use; the other top-level modules (``cli``, ``_pipeline``, ``_notebooks``,
``_summary``) are the client run, one package of their own.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import loyaltylab

ROOT = Path(loyaltylab.__file__).parent
SHARED = {"_util", "_stats", "_units", "_result", "_fitter", "_cohorts"}

# Known private imports still to remove, (importing file, imported module) -> why it is
# still there. The list may only shrink: an entry that no longer occurs fails the test.
KNOWN: dict[tuple[str, str], str] = {}


def _package(path: Path) -> str:
    """The package a module belongs to: ``churn`` for loyaltylab/churn/_km.py, ``""`` (the
    root) for a top-level module such as loyaltylab/cli.py."""
    rel = path.relative_to(ROOT).parts
    return rel[0] if len(rel) > 1 else ""


def _target(name: str) -> str:
    """The package of an imported top-level name (``""`` for a top-level module)."""
    return name if (ROOT / name).is_dir() else ""


def _module_name(path: Path) -> list[str]:
    parts = ["loyaltylab", *path.relative_to(ROOT).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path: Path) -> list[tuple[int, list[str], list[str]]]:
    """(line, absolute module path, imported names) of every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path)
    is_init = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name.split("."), []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if is_init else here[:-1]
                base = base[:len(base) - (node.level - 1)]
                mod = base + (node.module.split(".") if node.module else [])
            else:
                mod = (node.module or "").split(".")
            out.append((node.lineno, mod, [a.name for a in node.names]))
    return out


def private_imports_across_packages() -> list[tuple[str, str, str]]:
    """(file, imported module, what) of every private import across packages."""
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        pkg = _package(path)
        for line, mod, names in _imports(path):
            if mod[:1] != ["loyaltylab"]:
                continue
            if len(mod) == 1:  # from loyaltylab import x
                for n in names:
                    if (n.startswith("_") and not n.startswith("__") and n not in SHARED
                            and _target(n) != pkg):
                        bad.append((str(path.relative_to(ROOT)), "loyaltylab",
                                    f"line {line}: {n}"))
                continue
            if mod[1] in SHARED or _target(mod[1]) == pkg:
                continue
            private = [p for p in mod[2:] if p.startswith("_")]
            private += [n for n in names if n.startswith("_") and not n.startswith("__")]
            if mod[1].startswith("_") or private:
                bad.append((str(path.relative_to(ROOT)), ".".join(mod),
                            f"line {line}: {', '.join(names)}".rstrip(": ")))
    return bad


def test_no_private_import_across_packages():
    found = private_imports_across_packages()
    new = [f"{f}: {m} ({what})" for f, m, what in found if (f, m) not in KNOWN]
    assert not new, ("private imports across packages (make the helper public in its "
                     "package, or move it to the shared layer):\n" + "\n".join(new))
    gone = set(KNOWN) - {(f, m) for f, m, _ in found}
    assert not gone, f"fixed, so remove from KNOWN: {sorted(gone)}"


def test_the_check_sees_relative_and_absolute_private_imports(tmp_path, monkeypatch):
    pkg = tmp_path / "loyaltylab"
    (pkg / "churn").mkdir(parents=True)
    (pkg / "metrics").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "metrics" / "_base.py").write_text("X = 1\n")
    (pkg / "churn" / "__init__.py").write_text("")
    (pkg / "churn" / "ok.py").write_text(
        "from loyaltylab._util import as_polars\nfrom . import _km\n"
        "from loyaltylab.metrics import rates\n")
    (pkg / "churn" / "bad.py").write_text(
        "from loyaltylab.metrics._base import X\nfrom ..metrics import _base\n"
        "from loyaltylab.metrics.rates import _hidden\nimport loyaltylab.report._locale\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", pkg)
    bad = private_imports_across_packages()
    assert [(f, m, w.split(":")[0]) for f, m, w in bad] == [
        ("churn/bad.py", "loyaltylab.metrics._base", "line 1"),
        ("churn/bad.py", "loyaltylab.metrics", "line 2"),
        ("churn/bad.py", "loyaltylab.metrics.rates", "line 3"),
        ("churn/bad.py", "loyaltylab.report._locale", "line 4")]


# ------------------------------------------------------------------ notebooks
NOTEBOOKS = ROOT.parent / "notebooks"
_PRIVATE_USE = re.compile(
    r"\b(?:loyaltylab|ll)(?:\.[A-Za-z]\w*)*\.(_(?!_)\w*)"                 # ll._util, ...
    r"|^\s*from\s+loyaltylab(?:\.\w+)*\s+import\s+[^#\n]*?\b(_(?!_)\w*)",  # import _x
    flags=re.M)

# Notebooks still to fix, name -> why. The list may only shrink.
KNOWN_NOTEBOOKS: dict[str, str] = {}


def private_uses(source: str) -> list[str]:
    """What a notebook code cell's source takes from loyaltylab's private modules or names
    (``from loyaltylab._pipeline import x``, ``ll._util.to_datetime``, ``from
    loyaltylab.funnel import _engine``)."""
    return [m.group(0).strip() for m in _PRIVATE_USE.finditer(source)]


def test_no_notebook_uses_private_modules():
    paths = sorted(NOTEBOOKS.rglob("*.ipynb"))
    assert len(paths) >= 10, f"found only {len(paths)} notebooks under {NOTEBOOKS}"
    found = {}
    for path in paths:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        uses = [u for c in cells if c["cell_type"] == "code"
                for u in private_uses("".join(c["source"]))]
        if uses:
            found[path.name] = uses
    new = {name: uses for name, uses in found.items() if name not in KNOWN_NOTEBOOKS}
    assert not new, ("notebooks use private loyaltylab names (call the public API, or make "
                     f"the helper public with a docstring and a test): {new}")
    gone = set(KNOWN_NOTEBOOKS) - set(found)
    assert not gone, f"fixed, so remove from KNOWN_NOTEBOOKS: {sorted(gone)}"


def test_the_notebook_check_finds_private_uses():
    cell = ("%matplotlib inline\nimport loyaltylab as ll\n"
            "from loyaltylab._pipeline import ladder_for_data  # the report's ladder\n"
            "as_of = ll._util.to_datetime(AS_OF)\n"
            "from loyaltylab.funnel import Ladder, _engine\n"
            "import loyaltylab._notebooks as N\n"
            "x = loyaltylab.churn._risk.at_risk_list\n")
    assert private_uses(cell) == [
        "loyaltylab._pipeline", "ll._util", "from loyaltylab.funnel import Ladder, _engine",
        "loyaltylab._notebooks", "loyaltylab.churn._risk"]
    assert private_uses("import loyaltylab as ll\nll.funnel.OFFLINE.measurable(data)\n"
                        "ll.__version__, ll.churn.at_risk_list(t, cox, rank_by='p_stopped')\n"
                        "from loyaltylab.clv import holdout_dates  # not _private\n") == []
