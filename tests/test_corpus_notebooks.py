"""`loyaltylab notebooks` on the client-export corpus: the whole series runs on each
generated export (languages, formats, encodings, title rows, optional tables and columns
present or absent, broken rows, planted personal data), every notebook is rendered, the
survey and referral parts are shown or said to be skipped as the export's tables say, and
no planted personal value reaches any file written (HTML, executed notebooks, the Parquet
data copy, PNG metadata) nor what the command printed.

A run of the series takes one to two minutes, so the suite runs one export (``SUITE``):
a Spanish semicolon file with CR-only line endings, title rows, surveys and referrals,
where every notebook has all its parts to run. The notebooks' skipped parts (no surveys,
no referrals) are checked in the suite by tests/test_notebooks_client.py on a plain
client export. ``LOYALTYLAB_FULL_CORPUS=1`` runs every export of the corpus (the same
corpus, size and seed as ``test_corpus_report.py``), among them the German workbook with
title and totals rows (export 1) and the Dutch tab-separated cp1252 file with CR-only line
endings (export 4) that the suite ran before, and every platform export (indexes
36-48: Shopify, HubSpot in four languages, Stripe, Salesforce, both WooCommerce layouts,
Typeform, Zendesk, Mailchimp). The suite runs the series on a Shopify export already
(``test_presets_cli.py``), so it adds no platform export here.
"""

from __future__ import annotations

import os
import re

import nbformat
import pytest

from loyaltylab import _notebooks as N
from loyaltylab.cli import EXIT_OK, main
from loyaltylab.datasets import _exports as X

N_EXPORTS = 36
N_PLATFORMS = len(X.PLATFORM_CASES)
SUITE = {11: ("es-csv-semicolon", "-CR-", "title2h")}
"""Suite exports by index, with label parts that say they still have the shape chosen."""
RUN = (range(N_EXPORTS + N_PLATFORMS) if os.environ.get("LOYALTYLAB_FULL_CORPUS")
       else sorted(SUITE))
SALT = "corpus-salt"
NO_SURVEYS = "These data hold no survey answers (no surveys table)"
NO_REFERRALS = "No referrals table: the parts about referrals are left out."
NO_TOP_RUNG = "The top rung, advocate, is not shown: it needs a referrals table"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[X.ClientExport]:
    return X.client_export_corpus(tmp_path_factory.mktemp("client_exports"), n=N_EXPORTS,
                                  seed=0)


def _shown(nb: nbformat.NotebookNode) -> str:
    """Everything the executed notebook shows in its code cells' outputs."""
    return "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                   for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_suite_exports_keep_their_shape(corpus):
    for i, parts in SUITE.items():
        assert all(p in corpus[i].label for p in parts), (i, corpus[i].label)
    assert all({"surveys", "referrals"} <= set(corpus[i].truth) for i in SUITE)


@pytest.mark.parametrize("i", RUN, ids=lambda i: f"export_{i:02d}")
def test_notebooks_run_and_leak_nothing(corpus, i, tmp_path, capsys):
    ex = corpus[i]
    out = tmp_path / "notebooks"
    args = ["notebooks", str(ex.path), "--out", str(out), "--as-of",
            ex.as_of.strftime("%Y-%m-%d"), "--salt", SALT, "--jobs", "2", "--allow-rejects"]
    if ex.mapping:
        args += ["--mapping", str(ex.write_mapping(tmp_path / "mapping.toml"))]
    code = main(args)
    printed = capsys.readouterr()
    # rows rejected are allowed; a notebook part failing for a reason the data do not
    # explain would be exit 1 (named on stderr)
    assert code == EXIT_OK, (ex.label, printed.err[-2000:])
    assert "Traceback" not in printed.out + printed.err, ex.label
    # every notebook of the series executed and rendered, none with a raw error
    series = [p.stem for p in N.notebook_paths()]
    assert sorted(p.stem for p in out.glob("*.html")) == series, ex.label
    assert sorted(p.stem for p in out.glob("*.ipynb")) == series, ex.label
    for page in out.glob("*.html"):
        body = page.read_text(encoding="utf-8")
        assert "Traceback" not in body, (ex.label, page.name)
        assert not re.search(r"<script[^>]*\bsrc=", body), (ex.label, page.name)
    books = {p.stem[:2]: nbformat.read(p, as_version=4) for p in out.glob("*.ipynb")}
    for number, nb in books.items():
        errors = [o.get("ename") for c in nb.cells if c.cell_type == "code"
                  for o in c.outputs if o.output_type == "error"]
        assert not errors, (ex.label, number, errors)
    # the survey notebooks show the answers, or say in words that there are none
    surveys, predicting = books["07"], books["08"]
    has_surveys = "surveys" in ex.truth
    assert (NO_SURVEYS in _shown(surveys)) == (not has_surveys), ex.label
    assert (NO_SURVEYS in _shown(predicting)) == (not has_surveys), ex.label
    if not has_surveys:
        summary = surveys.cells[1]
        assert "loyaltylab_skipped" in summary.metadata.get("tags", []), ex.label
        assert "needs the 'surveys' table" in summary.source, ex.label
        # the planning of a first wave does not need answers, and is shown
        assert "invitations" in _shown(surveys), ex.label
    else:
        assert "answers from" in _shown(surveys), ex.label
    # without referrals: the ladder without its top rung, and notebook 08 says so
    has_referrals = "referrals" in ex.truth
    assert (NO_TOP_RUNG in _shown(books["03"])) == (not has_referrals), ex.label
    assert (NO_REFERRALS in _shown(predicting)) == (not has_referrals), ex.label
    # the call list of notebook 04 is the report's: ranked by p_stopped
    assert "p_stopped" in _shown(books["04"]) or any(
        "loyaltylab_skipped" in o.get("metadata", {}) for c in books["04"].cells
        if "at_risk_list(" in c.source for o in c.outputs), ex.label
    # no planted name, e-mail, phone, street or IBAN in any file the run wrote (HTML, the
    # executed notebooks, the Parquet data copy, PNG metadata), nor in what it printed
    assert ex.find_personal(out) == [], ex.label
    said = (printed.out + printed.err).casefold()
    assert not [p for p in ex.personal if p.casefold() in said], ex.label
