"""``import loyaltylab`` and the command line's help stay fast (issue 17: under 0.5 s).

Wall times depend on the machine and its load, so the tests check what makes the time
instead: which modules a fresh interpreter has loaded. polars alone takes most of a second
to import; the others more. They load on first use of a name that needs them
(``ll.load``, ``ll.churn``), through the package's ``__getattr__`` (PEP 562).
"""

from __future__ import annotations

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
