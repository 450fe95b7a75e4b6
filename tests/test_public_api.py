"""The public face: what a module offers and what it documents."""

from __future__ import annotations

import pytest

# What ``import loyaltylab`` and the command line's help load is checked in
# tests/test_import_time.py.


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


# --------------------------------------------------------------- numpydoc sections

def _sections(doc: str) -> set[str]:
    """numpydoc section headers in ``doc``: a line of words underlined by dashes."""
    import re

    return set(re.findall(r"^\s*([A-Z][A-Za-z ]+)\n\s*-{3,}\s*$", doc, flags=re.M))


def _missing_sections(obj) -> list[str]:
    """The numpydoc sections ``obj``'s docstring lacks: Parameters when it takes any
    (Attributes counts for a class), Returns (or Yields) when a function returns a value."""
    import inspect

    doc = inspect.getdoc(obj) or ""
    sections = _sections(doc)
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    takes = [p for p in signature.parameters if p not in ("self", "cls")]
    missing = []
    if inspect.isclass(obj):
        if takes and not {"Parameters", "Attributes"} & sections:
            missing.append("Parameters")
        return missing
    if takes and "Parameters" not in sections:
        missing.append("Parameters")
    returns = signature.return_annotation
    if returns not in (None, "None") and not {"Returns", "Yields"} & sections:
        missing.append("Returns")
    return missing


def _public_callables() -> dict[str, object]:
    """Functions and classes in the ``__all__`` of loyaltylab and of the subpackages it
    lists (what ``ll.`` and ``ll.<package>.`` offer), exceptions left out, each once."""
    import inspect

    import loyaltylab as ll

    faces = [ll] + [getattr(ll, n) for n in ll.__all__ if inspect.ismodule(getattr(ll, n))]
    found = {}
    for module in faces:
        for attr in module.__all__:
            obj = getattr(module, attr)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            if obj.__module__.startswith("loyaltylab"):
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return found


def test_every_public_callable_has_parameters_and_returns_sections():
    callables = _public_callables()
    assert len(callables) > 150  # the walk reaches the API, not an empty list
    missing = {name: gaps for name, obj in callables.items() if (gaps := _missing_sections(obj))}
    assert not missing, f"numpydoc sections missing: {missing}"


def test_the_section_check_finds_a_missing_section():
    def documented(x: int) -> int:
        """Double.

        Parameters
        ----------
        x : int
            A number.

        Returns
        -------
        int
            Twice ``x``.
        """
        return 2 * x

    def undocumented(x: int) -> int:
        """Double ``x``."""
        return 2 * x

    assert _missing_sections(documented) == []
    assert _missing_sections(undocumented) == ["Parameters", "Returns"]


# --------------------------------------------------------------- one home for units

def test_day_month_and_year_lengths_are_written_only_in_the_units_module():
    """365.25, 30.4375, 86400 and 86_400_000_000 appear as numbers only in loyaltylab/_units.py
    (docstrings may name them); every other module imports them."""
    import tokenize
    from pathlib import Path

    import loyaltylab

    written = {"365.25", "30.4375", "91.3125", "86400", "86_400", "86400000000",
               "86_400_000_000", "86400e6", "86_400e6"}
    root = Path(loyaltylab.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "_units.py":
            continue
        with path.open("rb") as fh:
            found += [f"{path.relative_to(root)}:{tok.start[0]}"
                      for tok in tokenize.tokenize(fh.readline)
                      if tok.type == tokenize.NUMBER and tok.string in written]
    assert not found, f"import these from loyaltylab._units instead: {found}"


def test_the_units_are_the_calendar_averages():
    from loyaltylab import _units as U

    assert U.DAYS_PER_YEAR == 365.25  # Julian year
    assert U.DAYS_PER_MONTH * 12 == U.DAYS_PER_YEAR
    assert U.US_PER_DAY == 24 * 60 * 60 * 10**6
