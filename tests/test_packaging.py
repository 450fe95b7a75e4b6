"""Set-up stays reproducible: pyproject, constraints.txt and environment.yml agree, and the
README's two commands are what CI runs."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONDA_ALIASES = {"duckdb": "python-duckdb"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!\[ ;]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pyproject_deps() -> list[str]:
    """The core and dev dependencies, with the dev extra's references to other extras of
    loyaltylab itself ("loyaltylab[warehouse]") replaced by what those extras list."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    out = list(meta["dependencies"])
    for dep in extras["dev"]:
        if _name(dep) == meta["name"]:
            for extra in re.search(r"\[(.*)\]", dep).group(1).split(","):
                out += extras[extra.strip()]
        else:
            out.append(dep)
    return out


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def _conda_deps() -> dict[str, str]:
    deps, inside = {}, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            inside = True
            continue
        if inside and line.startswith("  - "):
            name, _, version = line[4:].strip().partition("=")
            deps[name] = version
        elif inside and line.strip() and not line.startswith(" "):
            inside = False
    return deps


def test_every_dependency_is_pinned_exactly():
    pins = _pins()
    missing = [d for d in _pyproject_deps() if _name(d) not in pins]
    assert not missing, f"constraints.txt lacks exact pins for {missing}: run `make lock`"


def test_environment_yml_lists_the_same_dependencies_at_the_same_versions():
    conda = _conda_deps()
    conda.pop("python")
    pins = _pins()
    expected = {CONDA_ALIASES.get(_name(d), _name(d)): pins[_name(d)] for d in _pyproject_deps()}
    assert conda == expected


def test_pinned_versions_are_the_installed_ones():
    from importlib.metadata import PackageNotFoundError, version

    pins = _pins()
    wrong = {}
    for dep in _pyproject_deps():
        name = _name(dep)
        try:
            installed = version(name)
        except PackageNotFoundError:
            wrong[name] = "not installed"
            continue
        if installed != pins[name]:
            wrong[name] = f"installed {installed}, pinned {pins[name]}"
    assert not wrong, wrong


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, flags=re.M)


def _subcommands() -> list[str]:
    import argparse

    from loyaltylab.cli import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return sorted(action.choices)
    return []


def test_the_documented_subcommands_exist():
    assert {"validate", "init-mapping", "report"} <= set(_subcommands())


@pytest.mark.parametrize("command", [None, *_subcommands()])
def test_every_subcommand_has_help(command):
    args = ["--help"] if command is None else [command, "--help"]
    out = subprocess.run([sys.executable, "-m", "loyaltylab.cli", *args], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "usage: loyaltylab" in out.stdout
