"""The client run on the client-export corpus: `loyaltylab report` on every generated
export (languages, formats, encodings, title rows, optional tables and columns present or
absent, broken rows, planted personal data) finishes, shows or skips the survey section as
the export's tables say, and writes no planted personal value into any file.

The corpus is the same as in ``test_client_exports.py`` (same size and seed), built again
here so this slow file can run on its own xdist worker. A report takes about 10 s, so the
suite runs the first 18 exports: they cover every language, format, delimiter, encoding
and line ending (the generator cycles through them), and one platform export (the
WooCommerce one, 30 customers, whose churn drivers need the separation fallback).
``LOYALTYLAB_FULL_CORPUS=1`` runs all 36 and every platform export (indexes 36-48:
Shopify, HubSpot in four languages, Stripe, Salesforce, both WooCommerce layouts,
Typeform, Zendesk, Mailchimp).
"""

from __future__ import annotations

import os

import pytest

from loyaltylab.cli import main
from loyaltylab.datasets import _exports as X

N_EXPORTS = 36
N_PLATFORMS = len(X.PLATFORM_CASES)
WOOCOMMERCE = N_EXPORTS + X.PLATFORM_CASES.index(("woocommerce", "en", "csv"))
RUN = (range(N_EXPORTS + N_PLATFORMS) if os.environ.get("LOYALTYLAB_FULL_CORPUS")
       else [*range(18), WOOCOMMERCE])
SALT = "corpus-salt"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[X.ClientExport]:
    return X.client_export_corpus(tmp_path_factory.mktemp("client_exports"), n=N_EXPORTS,
                                  seed=0)


def test_the_corpus_ends_with_the_platform_exports(corpus):
    assert len(corpus) == N_EXPORTS + N_PLATFORMS
    assert [ex.label.startswith("platform-") for ex in corpus] == \
        [False] * N_EXPORTS + [True] * N_PLATFORMS
    assert corpus[WOOCOMMERCE].label == "platform-woocommerce-en-csv"


@pytest.mark.parametrize("i", RUN, ids=lambda i: f"export_{i:02d}")
def test_report_runs_and_leaks_nothing(corpus, i, tmp_path, capsys):
    ex = corpus[i]
    out = tmp_path / "deliverables"
    args = ["report", str(ex.path), "--out", str(out), "--as-of",
            ex.as_of.strftime("%Y-%m-%d"), "--salt", SALT, "--allow-rejects",
            "--no-progress"]
    # chart files in every format for every sixth export, SVG alone (text kept as text, so
    # the scan reads every word of the chart) for the others: the formats draw the same text
    # and the PNG and PDF files take twice as long as the rest of a small run
    formats = ("png", "svg", "pdf") if i % 6 == 0 else ("svg",)
    args += ["--charts", ",".join(formats)]
    if ex.mapping:
        args += ["--mapping", str(ex.write_mapping(tmp_path / "mapping.toml"))]
    code = main(args)
    printed = capsys.readouterr()
    assert code == 0, (ex.label, printed.err[-2000:])
    assert "Traceback" not in printed.out + printed.err, ex.label
    # every part ran or was skipped for a reason the data give, none failed unexpectedly
    assert "This part could not be produced" not in printed.out, (ex.label, printed.out)
    for name in ("report.html", "deck.pptx", "tables.xlsx"):
        assert (out / name).is_file(), (ex.label, name)
    assert {p.suffix[1:] for p in (out / "charts").iterdir()} == set(formats), ex.label
    # a section is skipped for want of its table exactly when the export lacks it
    skipped_surveys = "skipped Survey scores: This section would show" in printed.out
    assert skipped_surveys == ("surveys" not in ex.truth), (ex.label, printed.out)
    # no planted name, e-mail, phone, street or IBAN in any file the run wrote (HTML, SVG,
    # PNG metadata, the workbook's and the deck's XML), nor in what it printed
    assert ex.find_personal(out) == [], ex.label
    assert not [p for p in ex.personal if p.casefold() in printed.out.casefold()], ex.label
