"""``import loyaltylab`` and the command line's help stay fast (issue 17: under 0.5 s).

Wall times depend on the machine and its load, so the tests check what makes the time
instead: which modules a fresh interpreter has loaded. polars alone takes most of a second
to import; the others more. They load on first use of a name that needs them
(``ll.load``, ``ll.churn``), through the package's ``__getattr__`` (PEP 562).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loyaltylab.cli import COMMANDS

HEAVY = (
    "polars",
    "numpy",
    "pandas",
    "scipy",
    "matplotlib",
    "lifelines",
    "statsmodels",
    "ibis",
    "pyarrow",
    "pptx",
    "openpyxl",
    "xlsxwriter",
    "babel",
    "seaborn",
)
SUBCOMMANDS = [register.__name__.removeprefix("add_").replace("_", "-") for register in COMMANDS]
ENV = {**os.environ, "MPLBACKEND": "Agg"}


def _top_level(names) -> set[str]:
    return {name.split(".")[0] for name in names}


def _run_python(code: str) -> list[dict]:
    """Run ``code`` in a fresh interpreter; the values it prints as ``@@`` + JSON."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert out.returncode == 0, out.stderr
    return [json.loads(line[2:]) for line in out.stdout.splitlines() if line.startswith("@@")]


def _imported_by(argv: list[str]) -> set[str]:
    """Top-level modules a command imports, read from ``-X importtime`` output (works for
    the console script too, which we cannot ask for its ``sys.modules``)."""
    out = subprocess.run(
        argv, capture_output=True, text=True, env={**ENV, "PYTHONPROFILEIMPORTTIME": "1"}
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("usage: loyaltylab")
    names = [
        line.rsplit("|", 1)[1].strip()
        for line in out.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    ]
    assert "loyaltylab.cli" in names  # the probe sees the imports
    return _top_level(names)


# One fresh interpreter: what `import loyaltylab` loads, then what first use gives.
PROBE = """
import json, sys
import loyaltylab
print("@@" + json.dumps(sorted(sys.modules)))
import loyaltylab as ll
from loyaltylab import CRMData, load, schema, churn
from loyaltylab.survey import nps
from loyaltylab.data import CRMData as data_CRMData
print("@@" + json.dumps({
    "version": ll.__version__,
    "churn_km": ll.churn.KaplanMeier.__name__,
    "churn_is_module": churn is sys.modules["loyaltylab.churn"],
    "same_class": CRMData is data_CRMData and ll.CRMData is CRMData,
    "load": load.__module__,
    "schema": schema.__name__,
    "nps": nps.__module__,
    "cached": sorted(n for n in ("CRMData", "load", "schema", "churn") if n in vars(ll)),
    "data": ll.data.overview.__name__,
    "dir": dir(ll) == sorted(ll.__all__),
    "all": all(hasattr(ll, name) for name in ll.__all__),
    "loaded": sorted(m.split(".")[0] for m in sys.modules),
}))
"""


@pytest.fixture(scope="module")
def probe() -> tuple[set[str], dict]:
    modules, after = _run_python(PROBE)
    return _top_level(modules), after


def test_import_loyaltylab_loads_no_heavy_module(probe):
    loaded, _ = probe
    assert "loyaltylab" in loaded
    assert sorted(loaded & set(HEAVY)) == []


def test_names_are_imported_on_first_use(probe):
    _, after = probe
    assert after["version"] == "0.1.0"
    assert after["churn_km"] == "KaplanMeier"
    assert after["churn_is_module"] and after["same_class"]
    assert after["load"].startswith("loyaltylab.data")
    assert after["schema"] == "loyaltylab.data.schema"
    assert after["nps"].startswith("loyaltylab.survey")
    assert after["cached"] == ["CRMData", "churn", "load", "schema"]
    assert after["data"] == "loyaltylab.data.overview"
    assert after["dir"] and after["all"]


def test_the_probe_sees_heavy_modules_once_a_name_is_used(probe):
    """The checks on ``import loyaltylab`` can fail: first use does load polars & co."""
    _, after = probe
    assert {"polars", "numpy", "scipy"} <= set(after["loaded"])


def test_an_unknown_name_is_an_attribute_error():
    import loyaltylab as ll

    with pytest.raises(AttributeError, match="module 'loyaltylab' has no attribute 'nope'"):
        ll.nope  # noqa: B018
    with pytest.raises(ImportError, match="cannot import name 'nope'"):
        from loyaltylab import nope  # noqa: F401


@pytest.mark.parametrize("argv", [["--help"], ["report", "--help"]])
def test_python_m_loyaltylab_help_loads_no_heavy_module(argv):
    assert sorted(_imported_by([sys.executable, "-m", "loyaltylab", *argv]) & set(HEAVY)) == []


def test_console_script_help_loads_no_heavy_module():
    script = Path(sys.executable).parent / "loyaltylab"
    if not script.exists():
        pytest.skip("the loyaltylab console script is not installed beside this Python")
    assert sorted(_imported_by([str(script), "--help"]) & set(HEAVY)) == []


def test_every_subcommand_help_loads_no_heavy_module():
    code = (
        "import json, sys\nfrom loyaltylab.cli import main\n"
        f"for name in {SUBCOMMANDS!r}:\n"
        "    try:\n        main([name, '--help'])\n"
        "    except SystemExit as exc:\n        assert exc.code == 0, (name, exc.code)\n"
        "print('@@' + json.dumps(sorted(sys.modules)))\n"
    )
    assert len(SUBCOMMANDS) >= 5
    (modules,) = _run_python(code)
    assert sorted(_top_level(modules) & set(HEAVY)) == []



def _module_level_imports(tree: ast.Module) -> list[str]:
    """Names imported when the module runs (not inside functions, not for type checkers)."""
    found: list[str] = []

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                walk(node.body)
                walk(node.orelse)
                for handler in getattr(node, "handlers", []):
                    walk(handler.body)
                walk(getattr(node, "finalbody", []))
            elif isinstance(node, ast.Import):
                found.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append(node.module)
                found.extend(f"{node.module}.{alias.name}" for alias in node.names)

    walk(tree.body)
    return found


def _import_cycles(root: Path) -> list[list[str]]:
    """Groups of loyaltylab modules that import each other in a circle when they load
    (Tarjan's strongly connected components). A package's modules importing their own
    package's ``__init__`` are not counted: that init is already running."""
    modules = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                target = ".".join(parts[:i])
                if target in modules and target != name and not name.startswith(target + "."):
                    targets.add(target)
        edges[name] = targets
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in sorted(modules):
        if v not in index:
            visit(v)
    return cycles


def test_no_modules_import_each_other_in_a_circle(tmp_path):
    # with the package import lazy, nothing loads loyaltylab.data ahead of other modules
    # any more, so a circle (loyaltylab._util -> loyaltylab.data -> data.overview ->
    # loyaltylab._util) broke `import loyaltylab.funnel` as a session's first import
    root = Path(__file__).resolve().parents[1] / "loyaltylab"
    assert _import_cycles(root) == []
    # the check sees such a circle: two modules that import each other at load time
    pkg = tmp_path / "loyaltylab"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "_util.py").write_text("from loyaltylab.data import schema\n")
    (pkg / "data" / "__init__.py").write_text("from loyaltylab.data import overview, schema\n")
    (pkg / "data" / "schema.py").write_text("")
    (pkg / "data" / "overview.py").write_text("from loyaltylab._util import x\n"
                                              "from loyaltylab.data import schema\n")
    assert _import_cycles(pkg) == [["loyaltylab._util", "loyaltylab.data",
                                    "loyaltylab.data.overview"]]


def test_the_utilities_import_first_in_a_fresh_interpreter():
    # the module notebooks import privately, and the package whose first import showed
    # the circle
    _run_python("import loyaltylab._util; import loyaltylab.funnel")
