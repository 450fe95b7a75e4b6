"""The public face: what ``import loyaltylab`` loads, what a module offers, what it documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Modules that take most of a second each to import; ``import loyaltylab`` and the command
# line's help must not load them (issue 17: the import took 2.3-2.5 s with them).
HEAVY = ("scipy", "matplotlib", "pandas", "lifelines", "statsmodels", "pptx", "openpyxl",
         "xlsxwriter", "babel", "seaborn")


def _loaded_after(code: str) -> list[str]:
    """The heavy top-level modules present in ``sys.modules`` after ``code`` ran in a fresh
    interpreter."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env={**os.environ, "MPLBACKEND": "Agg"})
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    return [m for m in HEAVY if m in loaded]


def test_import_loyaltylab_loads_no_heavy_dependency():
    assert _loaded_after("import loyaltylab") == []


@pytest.mark.parametrize("argv", [["--help"], ["report", "--help"], ["validate", "--help"]])
def test_cli_help_loads_no_heavy_dependency(argv):
    code = (f"from loyaltylab.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit as exc:\n    assert exc.code == 0\n")
    assert _loaded_after(code) == []


def test_the_probe_sees_a_heavy_import():
    """The check above can fail: touching a subpackage does load its dependencies."""
    assert "scipy" in _loaded_after("import loyaltylab as ll\nll.metrics")


def test_subpackages_are_reachable_as_attributes_and_listed():
    import loyaltylab as ll

    for name in ("datasets", "metrics", "funnel", "churn", "clv", "survey", "plots", "report"):
        assert getattr(ll, name).__name__ == f"loyaltylab.{name}"
        assert name in dir(ll)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ll.nope  # noqa: B018


def _public_modules() -> list[str]:
    """Every importable loyaltylab module whose dotted name has no ``_``-prefixed part."""
    import pkgutil

    import loyaltylab

    names = ["loyaltylab"]
    for info in pkgutil.walk_packages(loyaltylab.__path__, "loyaltylab."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


PUBLIC_MODULES = _public_modules()


def test_the_module_walk_finds_the_public_modules():
    assert {"loyaltylab.funnel", "loyaltylab.funnel.stages", "loyaltylab.metrics.buying",
            "loyaltylab.cli", "loyaltylab.data.schema"} <= set(PUBLIC_MODULES)
    assert not any("._" in name for name in PUBLIC_MODULES)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_a_module_namespace_shows_only_its_public_names(name):
    import importlib

    module = importlib.import_module(name)
    public = set(module.__all__)
    shown = {n for n in dir(module) if not n.startswith("__")}
    assert shown == public - {"__version__"}, (
        f"{name}: dir() shows {sorted(shown - public)} beyond __all__; "
        f"add `def __dir__(): return sorted(__all__)`")
    missing = [n for n in public if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names {missing}, which the module does not define"
