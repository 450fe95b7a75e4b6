"""Synthetic client exports: the truth of :func:`make_crm`, written the way real systems do.

A consultant rarely gets ``customers.csv`` with canonical columns.
:func:`make_client_export` takes the tables of a small
:func:`~loyaltylab.datasets.make_crm` business and writes them as one client might have
exported them: German, French, Swedish, Dutch, Spanish or English headers and file names;
CSV with any delimiter, encoding, line ending, decimal and date convention; an Excel
workbook (or a folder of workbooks) with a title above the header, numbers stored partly
as text and a totals row; Parquet files; a SQLite or DuckDB database. Personal columns
(names, e-mail addresses, phones, streets, IBANs) are planted under localised headers, and
a known number of broken rows (an impossible date, a missing or unknown customer, a
repeated order number, a totals row). The returned :class:`ClientExport` says what a
faithful load must give: the canonical tables, the rows rejected by reason, and the
personal strings that must not survive it. :func:`client_export_corpus` draws many such
exports of varied shapes.

Building one messy export
-------------------------
A German CSV export saved on an old Mac (CR line endings, cp1252), semicolons, decimal
commas with thousands points, day-first dates, a title line above the header and a totals
row under the orders:

>>> import tempfile, loyaltylab as ll
>>> ex = ll.datasets.make_client_export(
...     tempfile.mkdtemp(), seed=7, language="de", fmt="csv", delimiter=";",
...     encoding="cp1252", line_ending="\\r", decimal="de", dates="dmy", title_rows=2,
...     totals_row=True, tables=("contacts",), personal_columns=("full_name", "email"),
...     n_broken=4, n_customers=30)
>>> sorted(p.name for p in ex.path.iterdir())
['Bestellungen.csv', 'Kontakte.csv', 'Kunden.csv']
>>> ex.mapping["tables"]["orders"]["columns"]["amount"]
'Betrag'
>>> ex.path.joinpath("Bestellungen.csv").read_bytes().count(b"\\n")
0
>>> ex.rejected["orders"]
{'ordered_at: unparseable date': 1, 'customer_id: missing': 1, \
'customer_id: unknown customer': 1, 'order_id: duplicate': 1, 'totals row': 1}

Load it with the mapping a user would write for it (``ex.mapping``); the kept rows are
the truth, every broken row is rejected, and no planted personal string survives:

>>> data = ll.load(ex.path, mapping=ex.mapping, as_of=ex.as_of, pseudonymize=True)
>>> round(data.orders["amount"].sum(), 2) == round(ex.truth["orders"]["amount"].sum(), 2)
True
>>> data.report.tables["orders"].rejected == sum(ex.rejected["orders"].values())
True
>>> any(p in str(data.report) for p in ex.personal)
False
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from loyaltylab.data import schema as S

# The vocabulary, the result object and the writer live in their own modules; their names
# are imported here, so ``_exports.<name>`` keeps working.
from loyaltylab.datasets._export_builder import _Builder, _pick
from loyaltylab.datasets._export_result import ClientExport
from loyaltylab.datasets._export_vocab import (
    _COMMA_DECIMALS, _EXCEL, _OPTIONAL_COLUMNS, _PERSONAL_KEYS, _SPREAD, DATE_STYLES, DECIMALS,
    DELIMITERS, ENCODINGS, FORMATS, FORMULAS, LANGUAGES, LINE_ENDINGS, OPTIONAL_TABLES,
    REASON_TOTALS, ZONES,
)

__all__ = ["ClientExport", "make_client_export", "client_export_corpus", "platform_corpus",
           "PLATFORM_CASES", "LANGUAGES",
           "FORMATS", "DELIMITERS", "ENCODINGS", "LINE_ENDINGS", "DECIMALS", "DATE_STYLES",
           "OPTIONAL_TABLES", "REASON_TOTALS", "FORMULAS", "ZONES"]


# ------------------------------------------------------------------ drawing a shape
def _draw_spec(rng: np.random.Generator, given: dict[str, Any]) -> dict[str, Any]:
    """Fill the unspecified parameters (None) with draws; make the combination coherent."""
    s = dict(given)

    def draw(key, options):
        if s.get(key) is None:
            s[key] = _pick(rng, options)

    draw("language", LANGUAGES)
    draw("fmt", FORMATS)
    draw("delimiter", DELIMITERS)
    draw("encoding", ENCODINGS)
    draw("line_ending", LINE_ENDINGS)
    if s.get("decimal") is None:
        options = DECIMALS if s["delimiter"] != "," else ("plain", "en", "ch", "plain_trim")
        s["decimal"] = _pick(rng, options)
    draw("dates", tuple(DATE_STYLES))
    if s.get("title_rows") is None:
        s["title_rows"] = int(_pick(rng, (0, 0, 1, 2, 3))) if s["fmt"] in _SPREAD \
            else 0
    draw("header_hint", (True, False))
    if s.get("totals_row") is None:
        s["totals_row"] = s["fmt"] in _SPREAD and bool(rng.random() < 0.5)
    draw("excel_cells", ("native", "text", "mixed"))
    draw("id_style", ("prefix", "numeric", "padded", "branch"))
    if s.get("canonical_names") is None:
        s["canonical_names"] = s["language"] == "en" and bool(rng.random() < 0.4)
    if s.get("tables") is None:
        s["tables"] = tuple(t for t in OPTIONAL_TABLES if rng.random() < 0.5)
    if s.get("columns") is None:
        s["columns"] = tuple(c for t in (S.CUSTOMERS, S.ORDERS) + tuple(s["tables"])
                             for c in _OPTIONAL_COLUMNS[t] if rng.random() < 0.6)
    if s.get("personal_columns") is None:
        s["personal_columns"] = tuple(k for k in _PERSONAL_KEYS if rng.random() < 0.5)
    draw("email_in_category", (True, False))
    draw("email_in_orders", (True, False, False))
    draw("stray_latin1", (True, False))
    draw("formula_note", (True, False))
    draw("stray_quote", (True, False, False, False))
    draw("currency", (True, False, False))
    if s.get("hidden_personal") is None:
        s["hidden_personal"] = _pick(rng, ("", "", "email", "phone"))
    draw("id_noise", (True, False, False))
    draw("whole_amounts", (False, False, False, True))
    draw("amount_scale", (1, 1, 10, 100))
    draw("mapping_hints", (True, False))
    if s.get("n_broken") is None:
        s["n_broken"] = int(rng.integers(0, 6))
    if s.get("n_customers") is None:
        s["n_customers"] = int(rng.integers(30, 60))
    # coherence: two explicit choices that cannot go together are an error; a drawn one
    # gives way
    def clash(a: str, b: str, why: str) -> None:
        if given.get(a) is not None and given.get(b) is not None:
            raise ValueError(f"make_client_export: {a}={given[a]!r} cannot go with "
                             f"{b}={given[b]!r}: {why}")

    if s["fmt"] == "csv" and s["delimiter"] == "," and s["decimal"] in _COMMA_DECIMALS:
        clash("delimiter", "decimal", "a decimal comma in a comma-delimited file")
    if s["fmt"] in _EXCEL and s["dates"] == "offset":
        clash("fmt", "dates", "Excel cells hold no UTC offset")
    if s["fmt"] not in _SPREAD:
        s["title_rows"], s["totals_row"] = 0, False
    if s["fmt"] == "csv" and s["delimiter"] == "," and s["decimal"] in _COMMA_DECIMALS:
        s["decimal"] = "en"
    if s["whole_amounts"] and s["fmt"] in _SPREAD:
        s["mapping_hints"] = True        # "1.500" can only be read with the mapping's help
    if s["canonical_names"]:
        s["language"] = "en"
    if S.SEGMENT not in s["columns"]:
        s["email_in_category"] = False
    if s["fmt"] in _EXCEL and s["dates"] == "offset":
        s["dates"] = "local"
    if s["fmt"] != "csv" or s["encoding"] != "utf-8":
        s["stray_latin1"] = False
    if s["fmt"] != "csv" or s["delimiter"] == ",":
        s["stray_quote"] = False        # a comma file cannot go unquoted (1,234.56)
    if s["stray_quote"]:
        s["formula_note"] = True
    if s["encoding"] in ("cp1252", "latin-1") and s["decimal"] == "fr":
        pass                            # the no-break space exists in both
    return s


# ------------------------------------------------------------------ the generator
def make_client_export(path: str | Path, *, seed: int, language: str | None = None,
                       fmt: str | None = None, delimiter: str | None = None,
                       encoding: str | None = None, line_ending: str | None = None,
                       decimal: str | None = None, dates: str | None = None,
                       title_rows: int | None = None, header_hint: bool | None = None,
                       totals_row: bool | None = None, excel_cells: str | None = None,
                       id_style: str | None = None, canonical_names: bool | None = None,
                       tables: tuple[str, ...] | None = None,
                       columns: tuple[str, ...] | None = None,
                       personal_columns: tuple[str, ...] | None = None,
                       email_in_category: bool | None = None,
                       email_in_orders: bool | None = None,
                       hidden_personal: str | None = None, id_noise: bool | None = None,
                       stray_latin1: bool | None = None, formula_note: bool | None = None,
                       stray_quote: bool | None = None, currency: bool | None = None,
                       whole_amounts: bool | None = None, amount_scale: int | None = None,
                       mapping_hints: bool | None = None, n_broken: int | None = None,
                       n_customers: int | None = None) -> ClientExport:
    """Write the data of a small simulated business as one client would have exported it.

    Every shape parameter left at None is drawn from ``seed``, so ``make_client_export(p,
    seed=3)`` gives a random shape and naming parameters fixes them.

    Parameters
    ----------
    path : str or Path
        A new or empty folder to write into (created). CSV, Parquet and ``xlsx_files``
        exports are this folder (one file per table); a workbook or database is one file
        inside it.
    seed : int
        Seed of the business (:func:`~loyaltylab.datasets.make_crm`) and of every draw.
    language : {"en", "de", "fr", "sv", "nl", "es"}
        Language of table (file, sheet) names, column headers, personal headers, the
        title, the totals label and the contact directions.
    fmt : {"csv", "xlsx", "xlsx_files", "parquet", "sqlite", "duckdb"}
        File format: CSV files in a folder, one workbook with a sheet per table, a folder
        of workbooks (one per table), Parquet files in a folder, a SQLite or DuckDB
        database.
    delimiter : {",", ";", "\\t", "|"}
        CSV field separator.
    encoding : {"utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"}
        CSV text encoding.
    line_ending : {"\\n", "\\r\\n", "\\r"}
        CSV line ending (``"\\r"``: classic Mac).
    decimal : {"plain", "en", "de", "fr", "comma", "ch", "plain_trim", "comma_trim"}
        How numbers are written as text: 1234.56, 1,234.56, 1.234,56, 1 234,56 (space or
        no-break space), 1234,56, 1'234.56, and Excel's "General" 1234.5 / 1234,5 (no
        trailing zeros). A decimal comma is never combined with a comma delimiter.
    dates : {"iso", "iso_time", "local", "offset", "dmy", "dmy_slash", "dmy_dash", "mdy"}
        How dates are written as text (see :data:`DATE_STYLES`); month-first exports get
        ``dayfirst = false`` in the mapping, as a user would write. ``local``: orders
        get a time of day, every timestamp is the client's wall-clock time (the mapping
        says ``timezone``) and ``truth`` holds it in UTC; ``offset``: the same with the
        UTC offset written (typed formats: zone-aware timestamps); not for Excel.
    title_rows : int
        Lines above the header (a report title, the export date, sometimes a blank line);
        CSV and xlsx only.
    header_hint : bool
        Whether the mapping says where the header is (``header_row``); otherwise the
        loader must detect it.
    totals_row : bool
        A totals row under the orders (label and the sum of the amounts); CSV and xlsx.
    excel_cells : {"native", "text", "mixed"}
        xlsx: numbers and dates stored as numbers and dates, as text, or a mix of both in
        one column.
    id_style : {"prefix", "numeric", "padded", "branch"}
        Customer ids as ``C000012``, ``100012`` (a number), ``000012`` (leading zeros
        that must survive) or ``KÖ-000012`` (a branch code with accents; with
        ``id_noise`` some orders carry it decomposed, NFD).
    canonical_names : bool
        English canonical file and column names (``orders.csv``, ``amount``): no column
        mapping needed.
    tables : tuple of str
        Optional tables to include, from :data:`OPTIONAL_TABLES`.
    columns : tuple of str
        Optional canonical columns to include (e.g. ``"segment"``, ``"discount"``).
    personal_columns : tuple of str
        Personal columns planted in the customers table: ``"full_name"``,
        ``"first_name"``, ``"last_name"``, ``"email"``, ``"phone"``, ``"street"``,
        ``"iban"``.
    email_in_category : bool
        Plant an e-mail address in one cell of the customers' segment column.
    email_in_orders : bool
        An e-mail column in the orders table too (a shop export).
    hidden_personal : {"", "email", "phone"}
        A customers column under a neutral header ("Notes", "Bemerkung", ...) holding
        e-mail addresses or phone numbers: only its content says it is personal.
        ``""``: none.
    id_noise : bool
        A few orders carry their customer id with a trailing no-break space or a
        leading zero-width space (copied from a web page or a PDF): the same customer.
    stray_latin1 : bool
        CSV in UTF-8 only: one customers line holding non-ASCII text is written in cp1252
        (a record pasted in from another system); see ``ClientExport.stray_lines``.
    formula_note : bool
        A notes column in the orders whose cells in the broken rows are spreadsheet
        formulas (:data:`FORMULAS`): the rejects files must neutralise them.
    currency : bool
        Money written with its currency as the language does (``1.234,56 €``,
        ``£1,234.56``, ``€ 1.234,56``, ``1 234,56 kr``; ``EUR`` in latin-1 files), in CSV
        and in the text cells of workbooks.
    stray_quote : bool
        CSV (not comma-delimited, no title lines) written by a tool that never quotes
        fields, one order's note reading ``"Express`` (a quote opened and never closed);
        the mapping says ``quote = ""`` as the loader's message asks.
    whole_amounts : bool
        Amounts rounded to whole currency units and written without decimals ("1.500");
        the mapping then states the decimal and thousands separators.
    amount_scale : int
        Factor on the simulator's money columns (10 or 100 give thousands separators).
    mapping_hints : bool
        Whether the mapping states the formats (delimiter, encoding, decimal, thousands,
        date format) or leaves them to be sniffed.
    n_broken : int
        Broken order rows to plant (cycling through an impossible date, a missing
        customer, an unknown customer, a repeated order number); the duplicate of a
        customer row is planted when ``n_broken >= 3``.
    n_customers : int
        Customers of the simulated business (30 to 60 drawn).

    Returns
    -------
    ClientExport
        The path to load, the mapping, the truth, the expected rejections and the planted
        personal strings.

    Examples
    --------
    >>> import tempfile, loyaltylab as ll
    >>> ex = ll.datasets.make_client_export(tempfile.mkdtemp(), seed=1, language="sv",
    ...                                     fmt="xlsx", title_rows=1, totals_row=True,
    ...                                     n_broken=4, n_customers=30)
    >>> ex.path.suffix, ex.spec["language"]
    ('.xlsx', 'sv')
    >>> ex.rejected["orders"]["totals row"]
    1
    """
    from loyaltylab.datasets._simulate import make_crm

    folder = Path(path)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValueError(f"make_client_export: {folder} is not an empty folder; give a new "
                         f"or empty folder (the export's files would mix with its files)")
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 20260412])
    given = dict(language=language, fmt=fmt, delimiter=delimiter, encoding=encoding,
                 line_ending=line_ending, decimal=decimal, dates=dates,
                 title_rows=title_rows, header_hint=header_hint, totals_row=totals_row,
                 excel_cells=excel_cells, id_style=id_style,
                 canonical_names=canonical_names, tables=tables, columns=columns,
                 personal_columns=personal_columns, email_in_category=email_in_category,
                 email_in_orders=email_in_orders, hidden_personal=hidden_personal,
                 id_noise=id_noise, stray_latin1=stray_latin1, formula_note=formula_note,
                 stray_quote=stray_quote, currency=currency,
                 whole_amounts=whole_amounts,
                 amount_scale=amount_scale, mapping_hints=mapping_hints, n_broken=n_broken,
                 n_customers=n_customers)
    _check_given(given)
    spec = _draw_spec(rng, given)
    data = make_crm(spec["n_customers"], years=2, seed=int(seed) % (2**31))
    builder = _Builder(folder, spec, rng, data)
    return builder.build()


def _check_given(g: dict[str, Any]) -> None:
    checks = {"language": LANGUAGES, "fmt": FORMATS, "delimiter": DELIMITERS,
              "encoding": ENCODINGS, "line_ending": LINE_ENDINGS, "decimal": DECIMALS,
              "dates": tuple(DATE_STYLES), "excel_cells": ("native", "text", "mixed"),
              "id_style": ("prefix", "numeric", "padded", "branch")}
    for key, options in checks.items():
        if g[key] is not None and g[key] not in options:
            raise ValueError(f"make_client_export: {key} must be one of {list(options)}, "
                             f"got {g[key]!r}")
    for t in g["tables"] or ():
        if t not in OPTIONAL_TABLES:
            raise ValueError(f"make_client_export: tables must be among "
                             f"{list(OPTIONAL_TABLES)}, got {t!r}")
    for k in g["personal_columns"] or ():
        if k not in _PERSONAL_KEYS:
            raise ValueError(f"make_client_export: personal_columns must be among "
                             f"{list(_PERSONAL_KEYS)}, got {k!r}")
    if g["n_customers"] is not None and g["n_customers"] < 10:
        raise ValueError("make_client_export: n_customers must be at least 10")


# ------------------------------------------------------------------ platform exports
PLATFORM_CASES = (("shopify", "en", "csv"), ("hubspot", "de", "csv"),
                  ("stripe", "en", "csv"), ("salesforce", "en", "csv"),
                  ("woocommerce", "en", "csv"), ("woocommerce_coe", "en", "csv"),
                  ("typeform", "en", "csv"),
                  ("zendesk", "en", "csv"), ("mailchimp", "en", "csv"),
                  ("hubspot", "fr", "xlsx"), ("shopify", "en", "xlsx"),
                  ("hubspot", "es", "csv"), ("hubspot", "nl", "csv"))
"""The platform exports :func:`platform_corpus` writes: (platform, language, format)."""


def platform_corpus(folder: str | Path, seed: int = 0,
                    n_customers: int = 30) -> list[ClientExport]:
    """The platform layouts as corpus entries: one :class:`ClientExport` per
    :data:`PLATFORM_CASES` entry, with the preset mapping a user (or ``init-mapping``)
    would write, the planted personal strings (e-mail addresses, names, phones, streets)
    and the generator's truth in ``platform``.

    Examples
    --------
    >>> import tempfile, loyaltylab as ll
    >>> corpus = platform_corpus(tempfile.mkdtemp(), n_customers=8)
    >>> [ex.label for ex in corpus][:2]
    ['platform-shopify-en-csv', 'platform-hubspot-de-csv']
    >>> ex = corpus[0]
    >>> data = ll.load(ex.path, mapping=ex.mapping, as_of=ex.as_of)
    >>> round(data.orders["amount"].sum(), 2) == ex.platform.truth["revenue"]
    True
    """
    from loyaltylab.datasets import _platforms as P
    import tomllib
    folder = Path(folder)
    out = []
    for k, (name, lang, fmt) in enumerate(PLATFORM_CASES):
        where = folder / f"platform_{k:02d}_{name}"
        sub = seed * 1000 + k
        people = P._people(np.random.default_rng(sub), n_customers)
        if name == "typeform":
            exp = P.make_survey_export(where, n_customers=n_customers, seed=sub)
            mapping = {"tables": {"surveys": {"preset": "typeform",
                                              "wide": {"questions":
                                                       dict(P.TYPEFORM_QUESTIONS)}}}}
            people, tables = [], ("customers", "orders", "surveys")
        elif name == "zendesk":
            exp = P.make_ticket_export(where, n_customers=n_customers, seed=sub)
            mapping = {"tables": {"complaints": {"preset": "zendesk"}}}
            tables = ("customers", "orders", "complaints")
        elif name == "mailchimp":
            exp = P.make_email_export(where, n_customers=n_customers, seed=sub)
            mapping = tomllib.loads(P.MAILCHIMP_MAPPING)
            people = P._people(np.random.default_rng(sub), n_customers + max(
                2, n_customers // 4))
            tables = ("customers", "orders", "contacts")
        else:
            exp = P.make_platform_export(name, where, n_customers=n_customers, seed=sub,
                                         excel=fmt == "xlsx", language=lang)
            mapping = {"preset": name}
            tables = {"hubspot": ("customers", "orders", "complaints"),
                      "stripe": ("customers", "orders", "subscriptions"),
                      "salesforce": ("customers", "orders", "contacts")}.get(
                name, ("customers", "orders"))
            if name == "salesforce":
                people = []  # accounts are companies; no person is named
        personal = [v for p in people for v in (p["email"], f"{p['first']} {p['last']}",
                                                p["phone"])]
        if name in ("shopify", "woocommerce", "mailchimp"):
            personal.append("Hauptstrasse 1")
        read = {"orders": exp.truth["read"]["orders"]} if "read" in exp.truth else {}
        out.append(ClientExport(
            path=exp.path, mapping=mapping,
            truth={t: pl.DataFrame() for t in tables}, as_of=exp.as_of, read=read,
            rejected={}, personal=tuple(dict.fromkeys(personal)),
            spec={"platform": name, "language": lang, "fmt": fmt,
                  "tables": tuple(t for t in tables if t not in (S.CUSTOMERS, S.ORDERS))},
            platform=exp))
    return out


# ------------------------------------------------------------------ the corpus
def client_export_corpus(folder: str | Path, n: int = 36, seed: int = 0,
                         platforms: bool = True, **fixed: Any) -> list[ClientExport]:
    """Many client exports of varied shapes, every option of each axis covered.

    Languages, formats, CSV delimiters, encodings, line endings, decimal styles, date
    styles and id styles cycle through all their values (so ``n >= 30`` covers each of
    them at least once); the rest of each shape is drawn from ``seed``.

    Parameters
    ----------
    folder : str or Path
        Parent folder; export ``i`` is written to ``folder/export_<i>``.
    n : int, default 36
        Number of exports.
    seed : int, default 0
        Seed of the draws; the same arguments give the same files.
    platforms : bool, default True
        Append the platform exports of :func:`platform_corpus` (Shopify, HubSpot in four
        languages, Stripe, Salesforce, both WooCommerce layouts, Typeform, Zendesk,
        Mailchimp) after
        the ``n`` drawn ones, written to ``folder/platforms``.
    **fixed
        Parameters of :func:`make_client_export` to hold fixed for every export (for
        example ``n_customers=20``).

    Returns
    -------
    list[ClientExport]
        The ``n`` drawn exports, then the platform exports.

    Examples
    --------
    >>> import tempfile, loyaltylab as ll
    >>> corpus = ll.datasets.client_export_corpus(tempfile.mkdtemp(), n=6, n_customers=20,
    ...                                           platforms=False)
    >>> sorted({ex.spec["language"] for ex in corpus})
    ['de', 'en', 'es', 'fr', 'nl', 'sv']
    """
    folder = Path(folder)
    rng = np.random.default_rng([seed, 77])
    fmts = ("csv", "xlsx", "csv", "parquet", "csv", "sqlite", "xlsx_files", "csv",
            "duckdb", "xlsx", "csv", "csv")
    n_csv = n_comma = n_other = 0
    out = []
    for i in range(n):
        given: dict[str, Any] = {
            "language": LANGUAGES[i % len(LANGUAGES)],
            "fmt": fmts[i % len(fmts)],
            "dates": tuple(DATE_STYLES)[(i // 2) % len(DATE_STYLES)],
            "id_style": ("prefix", "numeric", "padded", "branch")[(i // 3) % 4],
        }
        if given["fmt"] == "csv":
            given["delimiter"] = DELIMITERS[n_csv % len(DELIMITERS)]
            given["encoding"] = ENCODINGS[n_csv % len(ENCODINGS)]
            given["line_ending"] = LINE_ENDINGS[n_csv % len(LINE_ENDINGS)]
            if given["delimiter"] == ",":       # no decimal comma in a comma file
                options = ("plain", "en", "ch", "plain_trim")
                given["decimal"] = options[n_comma % len(options)]
                n_comma += 1
            else:
                given["decimal"] = DECIMALS[n_other % len(DECIMALS)]
                given["stray_quote"] = n_other % 4 == 1
                n_other += 1
            if given["encoding"] == "utf-8":   # with and without the encoding stated
                given["stray_latin1"] = True
                given["mapping_hints"] = (n_csv // len(ENCODINGS)) % 2 == 1
            n_csv += 1
        elif given["fmt"] in _EXCEL:
            given["decimal"] = ("de", "fr", "en", "plain")[(i // 10) % 4]
        if given["fmt"] in _EXCEL and given["dates"] == "offset":
            given["dates"] = "local"             # Excel cells hold no UTC offset
        if given.get("decimal") in ("en", "de", "fr", "ch"):
            given["amount_scale"] = 10           # amounts in the thousands: grouped
        given.update(fixed)
        sub_seed = int(rng.integers(2**31 - 1))
        out.append(make_client_export(folder / f"export_{i:03d}", seed=sub_seed, **given))
    if platforms:
        out.extend(platform_corpus(folder / "platforms", seed=seed))
    return out
