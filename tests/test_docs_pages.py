"""The pages in docs/ hold: every loyaltylab code block runs (as a doctest, from the
repository root, blocks of one page sharing their names in order) and the numbers a page
states in its table of published values are the ones its code printed, within one unit of
the last digit shown of the published value."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def _blocks(text: str) -> list[str]:
    """The page's python code blocks, in order (other fences are not run)."""
    return [body for lang, body in FENCE.findall(text) if lang == "python"]


def _run(page: Path, monkeypatch) -> str:
    """Run the page's python blocks as one doctest; return the output they printed."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT)
    source = "\n".join(_blocks(page.read_text(encoding="utf-8")))
    test = doctest.DocTestParser().get_doctest(source, {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE
                                   | doctest.ELLIPSIS)
    out: list[str] = []
    runner.run(test, out=out.append)
    failed = runner.summarize(verbose=False).failed
    assert failed == 0, f"{page.name}: {failed} examples failed\n" + "".join(out)
    return "\n".join(ex.want for ex in test.examples)


def test_there_is_a_peers_page():
    page = ROOT / "docs" / "coming-from-peers.md"
    assert page in PAGES
    assert len(_blocks(page.read_text(encoding="utf-8"))) >= 5
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/coming-from-peers.md)" in readme


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_code_runs(page, monkeypatch):
    _run(page, monkeypatch)


def _unit(token: str) -> float:
    """One unit of the last digit shown: 0.001 for '4.414', 1e-12 for '1.07869e-07'."""
    mant, _, exp = token.partition("e")
    dec = len(mant.split(".")[1]) if "." in mant else 0
    return 10.0 ** (-dec + (int(exp) if exp else 0))


def test_peers_page_numbers_are_the_printed_ones(monkeypatch):
    page = ROOT / "docs" / "coming-from-peers.md"
    printed = set(NUMBER.findall(_run(page, monkeypatch)))
    table = page.read_text(encoding="utf-8").split("## The same numbers", 1)[1]
    rows = [r for r in table.splitlines() if r.startswith("| ") and "---" not in r][1:]
    assert len(rows) >= 12
    for row in rows:
        quantity, published, ours = (c.strip() for c in row.strip("|").split("|"))
        pub = NUMBER.findall(published.split("(", 1)[0])
        got = NUMBER.findall(ours)
        assert len(pub) == len(got) > 0, row
        for p, g in zip(pub, got):
            assert g in printed, f"{quantity}: {g} is not printed by the page's code"
            tol = max(_unit(p), _unit(g)) * 1.0001
            assert abs(float(p) - float(g)) <= tol, f"{quantity}: {p} published, {g} here"
