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
