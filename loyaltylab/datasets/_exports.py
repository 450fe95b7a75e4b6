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

import csv
import io
import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from loyaltylab.data import schema as S

__all__ = ["ClientExport", "make_client_export", "client_export_corpus", "platform_corpus",
           "PLATFORM_CASES", "LANGUAGES",
           "FORMATS", "DELIMITERS", "ENCODINGS", "LINE_ENDINGS", "DECIMALS", "DATE_STYLES",
           "OPTIONAL_TABLES", "REASON_TOTALS", "FORMULAS", "ZONES"]

# ------------------------------------------------------------------ vocabulary
LANGUAGES = ("en", "de", "fr", "sv", "nl", "es")
#: "xlsx": one workbook, a sheet per table; "xlsx_files": a folder of workbooks, one per
#: table (each with one sheet named as Excel names it: Sheet1, Tabelle1, Feuil1, ...).
FORMATS = ("csv", "xlsx", "xlsx_files", "parquet", "sqlite", "duckdb")
_SHEET1 = {"en": "Sheet1", "de": "Tabelle1", "fr": "Feuil1", "sv": "Blad1", "nl": "Blad1",
           "es": "Hoja1"}
_EXCEL = ("xlsx", "xlsx_files")
_SPREAD = ("csv",) + _EXCEL
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16")
LINE_ENDINGS = ("\n", "\r\n", "\r")
#: Number styles: plain 1234.56; en 1,234.56; de 1.234,56; fr 1 234,56 (space or no-break
#: space); comma 1234,56; ch 1'234.56; plain_trim and comma_trim as Excel's "General"
#: format writes them (1234.5, 1500; 1234,5, 1500: no trailing zeros).
DECIMALS = ("plain", "en", "de", "fr", "comma", "ch", "plain_trim", "comma_trim")
#: Date styles: strftime formats as written in the export. ``local``: wall-clock time of
#: the client's zone (order times of day; the mapping names the zone); ``offset``: with
#: the zone's UTC offset (``2024-03-05 14:30:00 +0100``, as shop systems write).
DATE_STYLES = {"iso": "%Y-%m-%d", "iso_time": "%Y-%m-%d %H:%M:%S",
               "local": "%d.%m.%Y %H:%M", "offset": "%Y-%m-%d %H:%M:%S %z",
               "dmy": "%d.%m.%Y",
               "dmy_slash": "%d/%m/%Y", "dmy_dash": "%d-%m-%Y", "mdy": "%m/%d/%Y"}
OPTIONAL_TABLES = (S.CONTACTS, S.REFERRALS, S.SURVEYS, S.COMPLAINTS)
#: Key of :attr:`ClientExport.rejected` for totals rows (the loader's wording may differ:
#: match it on the word "total").
REASON_TOTALS = "totals row"

_COMMA_DECIMALS = ("de", "fr", "comma", "comma_trim")
_OPTIONAL_COLUMNS = {
    S.CUSTOMERS: (S.SEGMENT, S.REGION, S.KIND, S.ACQUISITION_CHANNEL, S.ACQUISITION_COST,
                  S.REWARD_SCHEME),
    S.ORDERS: (S.PRODUCT_LINE, S.DISCOUNT),
    S.CONTACTS: (S.DIRECTION, S.CAMPAIGN, S.CONTACT_COST),
    S.REFERRALS: (),
    S.SURVEYS: (),
    S.COMPLAINTS: (S.RESOLVED_AT, S.CATEGORY, S.OUTCOME),
}
_REQUIRED_COLUMNS = {t: tuple(S.TABLES[t].required_names) for t in _OPTIONAL_COLUMNS}
_MONEY = {S.AMOUNT, S.DISCOUNT, S.ACQUISITION_COST, S.CONTACT_COST}
_PERSONAL_KEYS = ("full_name", "first_name", "last_name", "email", "phone", "street",
                  "iban")

# Headers and table names as each language's systems write them. The canonical column of
# `customer_id` is the same header in every table (as in real exports).
_L: dict[str, dict[str, Any]] = {
    "en": dict(
        tables={S.CUSTOMERS: "Customers", S.ORDERS: "Orders", S.CONTACTS: "Contacts",
                S.REFERRALS: "Referrals", S.SURVEYS: "Survey answers",
                S.COMPLAINTS: "Complaints"},
        cols={S.CUSTOMER_ID: "Customer No", S.ACQUIRED_AT: "Customer since",
              S.SEGMENT: "Segment", S.REGION: "Sales region", S.KIND: "Customer type",
              S.ACQUISITION_CHANNEL: "Source", S.ACQUISITION_COST: "Acquisition cost",
              S.REWARD_SCHEME: "Loyalty programme", S.ORDER_ID: "Order No",
              S.ORDERED_AT: "Order date", S.AMOUNT: "Order total",
              S.PRODUCT_LINE: "Product line", S.DISCOUNT: "Discount",
              S.CONTACTED_AT: "Contact date", S.CHANNEL: "Channel",
              S.DIRECTION: "Direction", S.CAMPAIGN: "Campaign", S.CONTACT_COST: "Cost",
              S.REFERRER_ID: "Referred by", S.REFERRED_ID: "New customer",
              S.REFERRED_AT: "Referral date", S.SURVEY: "Survey", S.ITEM: "Question",
              S.ANSWERED_AT: "Answered on", S.SCORE: "Answer", S.OPENED_AT: "Opened",
              S.RESOLVED_AT: "Closed", S.CATEGORY: "Category", S.OUTCOME: "Outcome"},
        personal={"full_name": "Name", "first_name": "First name",
                  "last_name": "Last name", "email": "E-mail", "phone": "Phone",
                  "street": "Street", "iban": "IBAN"},
        directions=("Inbound", "Outbound"), totals="Total", title="Sales report",
        exported="Exported on", workbook="CRM export",
        first=("Oliver", "Amelia", "Zoë", "Isabella", "George", "Renée"),
        last=("Whitfield", "Ashworth", "Pemberton", "Hollings", "Blackwood", "Kingsley"),
        street="{n} Larkspur Lane", phone="+44 7700 9{s}", iban="GB", tld="co.uk"),
    "de": dict(
        tables={S.CUSTOMERS: "Kunden", S.ORDERS: "Bestellungen", S.CONTACTS: "Kontakte",
                S.REFERRALS: "Empfehlungen", S.SURVEYS: "Umfrage",
                S.COMPLAINTS: "Beschwerden"},
        cols={S.CUSTOMER_ID: "KundenNr", S.ACQUIRED_AT: "Kunde seit",
              S.SEGMENT: "Kundengruppe", S.REGION: "Gebiet", S.KIND: "Kundenart",
              S.ACQUISITION_CHANNEL: "Herkunft", S.ACQUISITION_COST: "Akquisekosten",
              S.REWARD_SCHEME: "Bonusprogramm", S.ORDER_ID: "BestellNr",
              S.ORDERED_AT: "Bestelldatum", S.AMOUNT: "Betrag",
              S.PRODUCT_LINE: "Produktlinie", S.DISCOUNT: "Rabatt",
              S.CONTACTED_AT: "Kontaktdatum", S.CHANNEL: "Kanal",
              S.DIRECTION: "Richtung", S.CAMPAIGN: "Kampagne", S.CONTACT_COST: "Kosten",
              S.REFERRER_ID: "Empfohlen von", S.REFERRED_ID: "Neukunde",
              S.REFERRED_AT: "Empfehlungsdatum", S.SURVEY: "Umfrage", S.ITEM: "Frage",
              S.ANSWERED_AT: "Antwortdatum", S.SCORE: "Wert",
              S.OPENED_AT: "Eröffnet am", S.RESOLVED_AT: "Erledigt am",
              S.CATEGORY: "Kategorie", S.OUTCOME: "Ergebnis"},
        personal={"full_name": "Name", "first_name": "Vorname",
                  "last_name": "Nachname", "email": "E-Mail", "phone": "Telefon",
                  "street": "Straße", "iban": "IBAN"},
        directions=("Eingehend", "Ausgehend"), totals="Summe", title="Umsatzbericht",
        exported="Exportiert am", workbook="CRM Export",
        first=("Annegret", "Henrike", "Wolfgang", "Friedrich", "Ottilie", "Jürgen"),
        last=("Müllerschön", "Brandtner", "Hüttenberg", "Weißgerber", "Kleinschmidt",
              "Oberländer"),
        street="Lindenstraße {n}", phone="+49 171 55{s}", iban="DE", tld="de"),
    "fr": dict(
        tables={S.CUSTOMERS: "Clients", S.ORDERS: "Commandes", S.CONTACTS: "Contacts",
                S.REFERRALS: "Parrainages", S.SURVEYS: "Enquête",
                S.COMPLAINTS: "Réclamations"},
        cols={S.CUSTOMER_ID: "Numéro client", S.ACQUIRED_AT: "Client depuis",
              S.SEGMENT: "Segment", S.REGION: "Région", S.KIND: "Type de client",
              S.ACQUISITION_CHANNEL: "Origine", S.ACQUISITION_COST: "Coût d'acquisition",
              S.REWARD_SCHEME: "Programme de fidélité", S.ORDER_ID: "Numéro de commande",
              S.ORDERED_AT: "Date de commande", S.AMOUNT: "Montant",
              S.PRODUCT_LINE: "Gamme", S.DISCOUNT: "Remise",
              S.CONTACTED_AT: "Date du contact", S.CHANNEL: "Canal", S.DIRECTION: "Sens",
              S.CAMPAIGN: "Campagne", S.CONTACT_COST: "Coût", S.REFERRER_ID: "Parrain",
              S.REFERRED_ID: "Filleul", S.REFERRED_AT: "Date de parrainage",
              S.SURVEY: "Enquête", S.ITEM: "Question", S.ANSWERED_AT: "Date de réponse",
              S.SCORE: "Note", S.OPENED_AT: "Ouverte le", S.RESOLVED_AT: "Résolue le",
              S.CATEGORY: "Catégorie", S.OUTCOME: "Issue"},
        personal={"full_name": "Nom complet", "first_name": "Prénom",
                  "last_name": "Nom", "email": "Courriel", "phone": "Téléphone",
                  "street": "Adresse", "iban": "IBAN"},
        directions=("Entrant", "Sortant"), totals="Total", title="Rapport des ventes",
        exported="Exporté le", workbook="Export CRM",
        first=("Geneviève", "Thibault", "Séverine", "Anatole", "Bérénice", "Lucienne"),
        last=("Duvernois", "Lefébure", "Beaumarchais", "Chassagne", "Delacroix",
              "Montcalm"),
        street="{n} rue des Lilas", phone="+33 6 {s[0]}{s[1]} {s[2]}{s[3]} {s[4]}0 78",
        iban="FR", tld="fr"),
    "sv": dict(
        tables={S.CUSTOMERS: "Kunder", S.ORDERS: "Ordrar", S.CONTACTS: "Kontakter",
                S.REFERRALS: "Rekommendationer", S.SURVEYS: "Enkät",
                S.COMPLAINTS: "Klagomål"},
        cols={S.CUSTOMER_ID: "Kundnummer", S.ACQUIRED_AT: "Kund sedan",
              S.SEGMENT: "Kundsegment", S.REGION: "Distrikt", S.KIND: "Kundtyp",
              S.ACQUISITION_CHANNEL: "Källa", S.ACQUISITION_COST: "Förvärvskostnad",
              S.REWARD_SCHEME: "Bonusprogram", S.ORDER_ID: "Ordernummer",
              S.ORDERED_AT: "Orderdatum", S.AMOUNT: "Belopp",
              S.PRODUCT_LINE: "Produktlinje", S.DISCOUNT: "Rabatt",
              S.CONTACTED_AT: "Kontaktdatum", S.CHANNEL: "Kanal",
              S.DIRECTION: "Riktning", S.CAMPAIGN: "Kampanj", S.CONTACT_COST: "Kostnad",
              S.REFERRER_ID: "Rekommenderad av", S.REFERRED_ID: "Ny kund",
              S.REFERRED_AT: "Rekommendationsdatum", S.SURVEY: "Enkät", S.ITEM: "Fråga",
              S.ANSWERED_AT: "Svarsdatum", S.SCORE: "Poäng", S.OPENED_AT: "Öppnad",
              S.RESOLVED_AT: "Löst", S.CATEGORY: "Kategori", S.OUTCOME: "Utfall"},
        personal={"full_name": "Namn", "first_name": "Förnamn",
                  "last_name": "Efternamn", "email": "E-post", "phone": "Telefon",
                  "street": "Gatuadress", "iban": "IBAN"},
        directions=("Inkommande", "Utgående"), totals="Totalt",
        title="Försäljningsrapport",
        exported="Exporterad", workbook="CRM-export",
        first=("Ingegerd", "Torbjörn", "Solveig", "Gunnar", "Margareta", "Henrik"),
        last=("Lindqvist", "Bergström", "Åkerlund", "Sjöberg", "Wallin", "Nordgren"),
        street="Storgatan {n}", phone="070-{s[0]}{s[1]}{s[2]} {s[3]}{s[4]} 67", iban="SE",
        tld="se"),
    "nl": dict(
        tables={S.CUSTOMERS: "Klanten", S.ORDERS: "Bestellingen", S.CONTACTS: "Contacten",
                S.REFERRALS: "Doorverwijzingen", S.SURVEYS: "Enquête",
                S.COMPLAINTS: "Klachten"},
        cols={S.CUSTOMER_ID: "Klantnummer", S.ACQUIRED_AT: "Klant sinds",
              S.SEGMENT: "Klantgroep", S.REGION: "Regio", S.KIND: "Klanttype",
              S.ACQUISITION_CHANNEL: "Herkomst", S.ACQUISITION_COST: "Acquisitiekosten",
              S.REWARD_SCHEME: "Spaarprogramma", S.ORDER_ID: "Bestelnummer",
              S.ORDERED_AT: "Besteldatum", S.AMOUNT: "Bedrag",
              S.PRODUCT_LINE: "Productlijn", S.DISCOUNT: "Korting",
              S.CONTACTED_AT: "Contactdatum", S.CHANNEL: "Kanaal",
              S.DIRECTION: "Richting", S.CAMPAIGN: "Campagne", S.CONTACT_COST: "Kosten",
              S.REFERRER_ID: "Doorverwezen door", S.REFERRED_ID: "Nieuwe klant",
              S.REFERRED_AT: "Verwijsdatum", S.SURVEY: "Enquête", S.ITEM: "Vraag",
              S.ANSWERED_AT: "Antwoorddatum", S.SCORE: "Cijfer", S.OPENED_AT: "Geopend",
              S.RESOLVED_AT: "Opgelost", S.CATEGORY: "Categorie", S.OUTCOME: "Uitkomst"},
        personal={"full_name": "Naam", "first_name": "Voornaam",
                  "last_name": "Achternaam", "email": "E-mailadres",
                  "phone": "Telefoonnummer", "street": "Straat", "iban": "IBAN"},
        directions=("Inkomend", "Uitgaand"), totals="Totaal", title="Verkooprapport",
        exported="Geëxporteerd op", workbook="CRM-export",
        first=("Willemijn", "Joost", "Marieke", "Gerrit", "Annelies", "Maarten"),
        last=("Verhoeven", "Bakkerveld", "Schoonhoven", "Dijkstra", "Hoogendoorn",
              "Kuipers"),
        street="Kerkstraat {n}", phone="06-{s}123", iban="NL", tld="nl"),
    "es": dict(
        tables={S.CUSTOMERS: "Clientes", S.ORDERS: "Pedidos", S.CONTACTS: "Contactos",
                S.REFERRALS: "Recomendaciones", S.SURVEYS: "Encuesta",
                S.COMPLAINTS: "Reclamaciones"},
        cols={S.CUSTOMER_ID: "Número de cliente", S.ACQUIRED_AT: "Cliente desde",
              S.SEGMENT: "Segmento", S.REGION: "Zona", S.KIND: "Tipo de cliente",
              S.ACQUISITION_CHANNEL: "Origen", S.ACQUISITION_COST: "Coste de captación",
              S.REWARD_SCHEME: "Programa de fidelización", S.ORDER_ID: "Número de pedido",
              S.ORDERED_AT: "Fecha de pedido", S.AMOUNT: "Importe",
              S.PRODUCT_LINE: "Línea de producto", S.DISCOUNT: "Descuento",
              S.CONTACTED_AT: "Fecha de contacto", S.CHANNEL: "Canal",
              S.DIRECTION: "Sentido", S.CAMPAIGN: "Campaña", S.CONTACT_COST: "Coste",
              S.REFERRER_ID: "Recomendado por", S.REFERRED_ID: "Cliente nuevo",
              S.REFERRED_AT: "Fecha de recomendación", S.SURVEY: "Encuesta",
              S.ITEM: "Pregunta", S.ANSWERED_AT: "Fecha de respuesta",
              S.SCORE: "Puntuación", S.OPENED_AT: "Abierta", S.RESOLVED_AT: "Resuelta",
              S.CATEGORY: "Categoría", S.OUTCOME: "Resultado"},
        personal={"full_name": "Nombre completo", "first_name": "Nombre",
                  "last_name": "Apellidos", "email": "Correo electrónico",
                  "phone": "Teléfono", "street": "Domicilio", "iban": "IBAN"},
        directions=("Entrante", "Saliente"), totals="Total", title="Informe de ventas",
        exported="Exportado el", workbook="Exportación CRM",
        first=("Inmaculada", "Gonzalo", "Remedios", "Florencio", "Milagros", "Fernando"),
        last=("Villanueva", "Castañeda", "Arrizabalaga", "Echeverría", "Santamaría",
              "Olmedilla"),
        street="Calle Mayor {n}", phone="+34 6{s[0]}{s[1]} {s[2]}{s[3]}{s[4]} 678",
        iban="ES", tld="es"),
}
#: Region names as each language's clients write them (kept as given: no value map).
_REGIONS = {"de": {"north": "Nord", "south": "Süd", "east": "Ost", "west": "West"},
            "fr": {"north": "Nord", "south": "Sud", "east": "Est",
                   "west": "Île-de-France"},
            "sv": {"north": "Norrland", "south": "Götaland", "east": "Östergötland",
                   "west": "Västergötland"},
            "nl": {"north": "Noord", "south": "Zuid", "east": "Oost", "west": "West"},
            "es": {"north": "Norte", "south": "Andalucía", "east": "Levante",
                   "west": "Galicia"}}
_NOTE_HEADER = {"en": "Note", "de": "Notiz", "fr": "Note interne", "sv": "Notering",
                "nl": "Notitie", "es": "Nota"}
#: Text a spreadsheet would run as a formula, planted in the notes of broken order rows.
FORMULAS = ('=HYPERLINK("http://example.invalid/x";"Gutschein")', "@SUM(1+1)", "=1+1",
            "-2+3", "+A1*2")
#: The time zone of each language's clients (``local`` and ``offset`` dates).
ZONES = {"en": "Europe/London", "de": "Europe/Berlin", "fr": "Europe/Paris",
         "sv": "Europe/Stockholm", "nl": "Europe/Amsterdam", "es": "Europe/Madrid"}
_NEUTRAL_HEADER = {"en": "Notes", "de": "Bemerkung", "fr": "Remarque", "sv": "Anteckning",
                   "nl": "Opmerking", "es": "Observaciones"}
_IBAN_LENGTH = {"GB": 22, "DE": 22, "FR": 27, "SE": 24, "NL": 18, "ES": 24}


# ------------------------------------------------------------------ the result
@dataclass(frozen=True)
class ClientExport:
    """One generated client export and what a faithful load of it must give.

    Attributes
    ----------
    path : Path
        What to pass to :func:`loyaltylab.load`: a folder (CSV, Parquet), a workbook
        (``.xlsx``) or a database file (``.sqlite``, ``.duckdb``).
    mapping : dict or None
        The mapping a user would write for it (None when file and column names are
        canonical and nothing needs saying).
    truth : dict[str, pl.DataFrame]
        Table -> the canonical rows a faithful load keeps (the exported canonical columns
        only; ids as written, before any pseudonymisation; timestamps naive UTC).
    as_of : datetime
        The extract date to load with.
    read : dict[str, int]
        Table -> data rows in the export (kept + rejected; title and header lines
        excluded).
    rejected : dict[str, dict[str, int]]
        Table -> reason -> rows the load must reject. Reasons use the loader's wording
        (``"customer_id: unknown customer"``); totals rows are under
        :data:`REASON_TOTALS`.
    personal : tuple[str, ...]
        Personal strings planted in the export (names, e-mail addresses, phones, streets,
        IBANs); none may appear in anything a pseudonymised load returns or writes.
    masked : dict[str, tuple[str, ...]]
        Table -> kept columns where a personal value was planted inside a category (its
        cell is null in ``truth``: the load must mask it, with any value but the planted
        one).
    stray_lines : dict[str, tuple[str, ...]]
        Table -> ids (as in ``truth``) of rows written as a line in cp1252 inside an
        otherwise UTF-8 file. A faithful load decodes that line on its own (the row is
        kept, as in ``truth``) or rejects it with a reason naming the encoding; it never
        re-decodes the rest of the file. These customers have no other rows, so a
        rejection does not cascade.
    spec : dict
        The shape drawn: language, fmt, delimiter, encoding, line_ending, decimal, dates,
        title_rows, header_hint, totals_row, excel_cells, id_style, tables, ... For a
        platform export (:func:`platform_corpus`): platform, language, fmt and tables.
    platform : PlatformExport or None
        For a platform export (a Shopify, HubSpot, ... layout loaded with its preset): the
        generator's result, whose ``truth`` holds the revenue to the cent and the rows
        each rule excludes. ``truth`` then names the tables the load gives, as empty
        frames (the platform truth is counts, not rows), and ``read`` the rows of the
        orders file.
    """

    path: Path
    mapping: dict | None
    truth: dict[str, pl.DataFrame]
    as_of: datetime
    read: dict[str, int]
    rejected: dict[str, dict[str, int]]
    personal: tuple[str, ...]
    masked: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stray_lines: dict[str, tuple[str, ...]] = field(default_factory=dict)
    spec: dict = field(default_factory=dict)
    platform: Any = None

    def find_personal(self, path: str | Path) -> list[tuple[str, str]]:
        """The planted personal strings found in a file or anywhere under a folder.

        Scans what an analysis run writes: text files (CSV, HTML, SVG, JSON, notebooks,
        logs; also their HTML entities and JSON ``\\u`` escapes), the XML inside Office
        files (``.xlsx``, ``.pptx``, ``.docx``) and the text columns of Parquet files.
        Matching ignores case. Returns ``(file, planted string)`` pairs; empty when none
        survives.

        Examples
        --------
        >>> import tempfile, pathlib, loyaltylab as ll
        >>> ex = ll.datasets.make_client_export(tempfile.mkdtemp(), seed=1, fmt="csv",
        ...                                     personal_columns=("email",), n_customers=12)
        >>> out = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (out / "clean.txt").write_text("no personal data here")
        >>> ex.find_personal(out)
        []
        >>> len(ex.find_personal(ex.path)) > 0
        True
        """
        return _find_personal(Path(path), self.personal)

    def mapping_toml(self) -> str:
        """The mapping as the TOML file a user would write (empty when none is needed).

        Examples
        --------
        >>> import tempfile, tomllib, loyaltylab as ll
        >>> ex = ll.datasets.make_client_export(tempfile.mkdtemp(), seed=2, language="fr",
        ...                                     fmt="sqlite", n_customers=15)
        >>> "[tables.customers.columns]" in ex.mapping_toml().splitlines()
        True
        >>> tomllib.loads(ex.mapping_toml()) == ex.mapping
        True
        """
        return _toml(self.mapping or {})

    def write_mapping(self, path: str | Path) -> Path:
        """Write :meth:`mapping_toml` to ``path`` (for ``loyaltylab validate --mapping``)."""
        path = Path(path)
        path.write_text(self.mapping_toml(), encoding="utf-8")
        return path

    @property
    def label(self) -> str:
        """A short name of the shape, e.g. ``de-csv-semicolon-cp1252-CR-de-dmy-title2``
        (``platform-hubspot-de-csv`` for a platform export)."""
        s = self.spec
        if s.get("platform"):
            return f"platform-{s['platform']}-{s['language']}-{s['fmt']}"
        parts = [s["language"], s["fmt"]]
        if s["fmt"] == "csv":
            parts += [_DELIM_NAMES[s["delimiter"]], s["encoding"],
                      _EOL_NAMES[s["line_ending"]]]
        if s["fmt"] in _SPREAD:
            parts += [s["decimal"]]
        if s["fmt"] in _EXCEL:
            parts += [f"cells-{s['excel_cells']}"]
        parts += [s["dates"]]
        if s["title_rows"]:
            parts.append(f"title{s['title_rows']}" + ("h" if s["header_hint"] else ""))
        if s["totals_row"]:
            parts.append("totals")
        if s["whole_amounts"]:
            parts.append("whole")
        if s.get("id_noise"):
            parts.append("idnoise")
        if self.stray_lines:
            parts.append("stray-cp1252-line")
        if s.get("stray_quote"):
            parts.append("unquoted-stray-quote")
        if s.get("currency") and s["fmt"] in _SPREAD:
            parts.append("currency")
        if s.get("hidden_personal"):
            parts.append(f"hidden-{s['hidden_personal']}")
        parts.append(f"id-{s['id_style']}")
        return "-".join(parts)

    def _repr_html_(self) -> str:
        import html
        rows = "".join(f"<tr><td>{t}</td><td>{self.read[t]:,}</td><td>{f.height:,}</td>"
                       f"<td>{sum(self.rejected.get(t, {}).values()):,}</td></tr>"
                       for t, f in self.truth.items() if t in self.read and f.width)
        return (f"<p><b>Client export</b> {html.escape(self.label)}: "
                f"<code>{html.escape(self.path.name)}</code>, {len(self.personal)} planted "
                f"personal strings</p><table><tr><th>table</th><th>rows read</th>"
                f"<th>to keep</th><th>to reject</th></tr>{rows}</table>")

    def __repr__(self) -> str:
        rows = ", ".join(f"{t}={self.read[t]}" for t in self.truth if t in self.read)
        n_rej = sum(sum(r.values()) for r in self.rejected.values())
        return (f"ClientExport({self.label}: {self.path.name}; rows read {rows}; "
                f"{n_rej} to reject; {len(self.personal)} personal strings)")


def _texts_of(file: Path) -> list[str]:
    """The text content of one file, in the forms a planted string could take there."""
    import html
    import zipfile

    suffix = file.suffix.lower()
    if suffix == ".parquet":
        try:
            frame = pl.read_parquet(file)
        except Exception:          # not readable as Parquet: scan its bytes
            frame = None
        if frame is not None:
            cols = [c for c, d in frame.schema.items() if d == pl.String]
            return [" ".join(frame.columns)] + [
                "\n".join(frame[c].drop_nulls().to_list()) for c in cols]
    raw = file.read_bytes()
    if raw[:8] == b"\x89PNG\r\n\x1a\n":
        # only the text chunks: compressed pixels hold any short byte string by chance
        texts = _png_texts(raw)
        return texts + [html.unescape(t) for t in texts]
    if raw[:5] == b"%PDF-":
        # the document outside its (compressed) content streams: metadata, names
        raw = re.sub(rb"stream\r?\n.*?endstream", b"", raw, flags=re.S)
        # metadata in UTF-16 (byte-order mark FE FF) inside literal strings
        wide = [re.sub(rb"\\(.)", rb"\1", m).decode("utf-16-be", "replace")
                for m in re.findall(rb"\(\xfe\xff((?:[^\\)]|\\.)*)\)", raw, flags=re.S)]
        raw += "\n".join(wide).encode("utf-8")
    if raw[:2] == b"PK" and zipfile.is_zipfile(file):
        with zipfile.ZipFile(file) as z:
            parts = [z.read(n) for n in z.namelist()
                     if n.endswith((".xml", ".rels", ".txt", ".csv", ".json", ".html"))]
        texts = [p.decode("utf-8", "replace") for p in parts]
    elif raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        texts = [raw.decode("utf-16", "replace")]
    else:
        texts = [raw.decode("utf-8", "replace"), raw.decode("cp1252", "replace")]
    return texts + [html.unescape(t) for t in texts]


def _png_texts(raw: bytes) -> list[str]:
    """The tEXt, zTXt and iTXt chunks of a PNG file, decoded."""
    import zlib

    out, i = [], 8
    while i + 8 <= len(raw):
        n = int.from_bytes(raw[i:i + 4], "big")
        kind, body = raw[i + 4:i + 8], raw[i + 8:i + 8 + n]
        i += 12 + n
        try:
            if kind == b"tEXt":
                out.append(body.replace(b"\0", b" ").decode("latin-1"))
            elif kind == b"zTXt":
                key, _, rest = body.partition(b"\0")
                out.append(key.decode("latin-1") + " "
                           + zlib.decompress(rest[1:]).decode("latin-1"))
            elif kind == b"iTXt":
                key, _, rest = body.partition(b"\0")
                flag, rest = rest[0], rest[2:]
                lang, _, rest = rest.partition(b"\0")
                label, _, text = rest.partition(b"\0")
                text = zlib.decompress(text) if flag else text
                out.append(" ".join(x.decode("utf-8", "replace")
                                    for x in (key, lang, label, text)))
        except (zlib.error, IndexError):
            out.append(body.decode("latin-1"))
    return out


def _find_personal(path: Path, personal: tuple[str, ...]) -> list[tuple[str, str]]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    forms = {p: {p.casefold(), json.dumps(p)[1:-1].casefold()} for p in personal}
    found = []
    for file in files:
        text = "\n".join(_texts_of(file)).casefold()
        name = str(file.relative_to(path)) if file != path else file.name
        found.extend((name, p) for p, fs in forms.items() if any(f in text for f in fs))
    return found


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):       # a JSON string is a TOML basic string
        return json.dumps(v, ensure_ascii=False)
    raise TypeError(f"no TOML form for {type(v).__name__}")


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_value(k)


def _toml(d: dict, prefix: str = "") -> str:
    """A nested dict of strings, ints and bools as TOML (tables after plain keys)."""
    plain = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in d.items()
             if not isinstance(v, dict)]
    out = []
    if plain and prefix:
        out.append(f"[{prefix}]")
    out.extend(plain)
    for k, v in d.items():
        if isinstance(v, dict):
            key = _toml_key(k)
            sub = _toml(v, f"{prefix}.{key}" if prefix else key)
            if sub:
                out.append(("\n" if out else "") + sub)
    return "\n".join(out)


_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_EOL_NAMES = {"\n": "LF", "\r\n": "CRLF", "\r": "CR"}


# ------------------------------------------------------------------ drawing a shape
def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


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


# ------------------------------------------------------------------ values
#: Branch codes of "branch" ids (KÖ-000012): accented letters, so that the same id may
#: arrive in two Unicode normal forms.
_BRANCHES = {"en": ("LDN", "MAN", "ZOË"), "de": ("KÖ", "MÜ", "DÜ"),
             "fr": ("ÉV", "LYO", "NÎM"), "sv": ("MÖ", "GÖ", "VÄ"),
             "nl": ("DH", "ÜT", "RÖ"), "es": ("CÓR", "MÁL", "LEÓ")}


def _ids(series: pl.Series, style: str, offset: int, language: str = "en") -> pl.Series:
    """Rewrite simulator ids (C000001, O0000001) in the export's id style."""
    digits = series.str.slice(1)
    if style == "prefix":
        return series
    if style == "branch":
        codes = _BRANCHES[language]
        branch = pl.Series(codes)[(digits.cast(pl.Int64) % len(codes))]
        return (branch + "-" + digits).alias(series.name)
    if style == "padded":
        return digits
    return (digits.cast(pl.Int64) + offset).cast(pl.String)


def _num_text(values: list[float | None], style: str, *, whole: bool = False,
              rng: np.random.Generator | None = None) -> list[str]:
    """Numbers as text in a decimal style (None -> empty)."""
    out = []
    fr_space = "\u00a0" if rng is None or rng.random() < 0.5 else " "
    for v in values:
        if v is None:
            out.append("")
            continue
        if style in ("plain_trim", "comma_trim"):
            t = f"{v:.2f}".rstrip("0").rstrip(".")
            t = t.replace(".", ",") if style == "comma_trim" else t
        elif style == "plain":
            t = f"{v:.0f}" if whole else f"{v:.2f}"
        else:
            t = f"{v:,.0f}" if whole else f"{v:,.2f}"
            if style == "de":
                t = t.replace(",", "\0").replace(".", ",").replace("\0", ".")
            elif style == "fr":
                t = t.replace(",", fr_space).replace(".", ",")
            elif style == "comma":
                t = t.replace(",", "").replace(".", ",")
            elif style == "ch":
                t = t.replace(",", "'")
        out.append(t)
    return out


def _iban(rng: np.random.Generator, country: str) -> str:
    """A random IBAN with valid check digits, printed in groups of four."""
    n = _IBAN_LENGTH[country] - 4
    bban = "".join(str(d) for d in rng.integers(0, 10, n))
    if country == "GB":
        bban = "NWBK" + bban[4:]
    rearranged = bban + country + "00"
    num = int("".join(str(int(c, 36)) for c in rearranged))
    iban = f"{country}{98 - num % 97:02d}{bban}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def _ascii(text: str) -> str:
    text = text.replace("ß", "ss").replace("Å", "A").replace("å", "a")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _personal_values(rng: np.random.Generator, lang: str, n: int, keys) -> dict[str, list]:
    L = _L[lang]
    first = [_pick(rng, L["first"]) for _ in range(n)]
    last = [_pick(rng, L["last"]) for _ in range(n)]
    serial = rng.choice(np.arange(10_000, 99_999), size=n, replace=False)
    vals: dict[str, list] = {}
    for k in keys:
        if k == "full_name":
            vals[k] = [f"{f} {s}" for f, s in zip(first, last)]
        elif k == "first_name":
            vals[k] = first
        elif k == "last_name":
            vals[k] = last
        elif k == "email":
            vals[k] = [f"{_ascii(f)}.{_ascii(s)}{d % 1000}@example.{L['tld']}"
                       for f, s, d in zip(first, last, serial)]
        elif k == "phone":
            vals[k] = [L["phone"].format(s=f"{int(d):05d}") for d in serial]
        elif k == "street":
            vals[k] = [L["street"].format(n=int(d) % 180 + 1) for d in serial]
        elif k == "iban":
            vals[k] = [_iban(rng, L["iban"]) for _ in range(n)]
    return vals


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


class _Builder:
    """Renders one export; state shared by the table writers."""

    def __init__(self, folder: Path, spec: dict, rng: np.random.Generator, data) -> None:
        self.folder, self.spec, self.rng, self.data = folder, spec, rng, data
        self.L = _L[spec["language"]]
        self.canonical = spec["canonical_names"]
        self.personal: list[str] = []
        self.masked: dict[str, tuple[str, ...]] = {}
        self.read: dict[str, int] = {}
        self.rejected: dict[str, dict[str, int]] = {}
        self.truth: dict[str, pl.DataFrame] = {}
        # rows to write: table -> list of dict(canonical or personal column -> value)
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.columns: dict[str, list[str]] = {}
        self.stray: dict[str, tuple[str, ...]] = {}
        self.written: dict[str, pl.DataFrame] = {}

    # -------------------------------------------------------------- names
    def table_name(self, table: str) -> str:
        return table if self.canonical else self.L["tables"][table]

    def header(self, col: str) -> str:
        if col == "notes":
            return "notes" if self.canonical else _NEUTRAL_HEADER[self.spec["language"]]
        if col == "note":
            return "note" if self.canonical else _NOTE_HEADER[self.spec["language"]]
        if col in _PERSONAL_KEYS:
            return col if self.canonical else self.L["personal"][col]
        return col if self.canonical else self.L["cols"][col]

    # -------------------------------------------------------------- truth
    def _truth_tables(self) -> None:
        s, d = self.spec, self.data
        wanted = (S.CUSTOMERS, S.ORDERS) + tuple(t for t in OPTIONAL_TABLES
                                                 if t in s["tables"])
        for t in wanted:
            frame = d.tables[t]
            if t == S.CONTACTS and frame.height > 150:
                idx = np.sort(self.rng.choice(frame.height, 150, replace=False))
                frame = frame[idx]
            cols = [c for c in S.TABLES[t].names
                    if c in _REQUIRED_COLUMNS[t] or c in s["columns"]]
            frame = frame.select(cols)
            for c in cols:
                if c in (S.CUSTOMER_ID, S.REFERRER_ID, S.REFERRED_ID):
                    frame = frame.with_columns(_ids(frame[c], s["id_style"], 100_000,
                                                    s["language"]))
                elif c == S.ORDER_ID:
                    style = "prefix" if s["id_style"] == "branch" else s["id_style"]
                    frame = frame.with_columns(_ids(frame[c], style, 5_000_000))
                elif c in _MONEY:
                    e = pl.col(c) * s["amount_scale"]
                    e = e.round(0) if s["whole_amounts"] else e.round(2)
                    frame = frame.with_columns(e)
                elif c == S.SCORE:
                    frame = frame.with_columns(pl.col(c).round(0))
                elif c == S.REGION and not self.canonical and s["language"] in _REGIONS:
                    frame = frame.with_columns(pl.col(c).replace(_REGIONS[s["language"]]))
            self.written[t], self.truth[t] = self._zoned(t, frame)

    def _zoned(self, table: str, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(what the export holds, the truth): equal unless dates are ``local`` or
        ``offset``; then the simulator's days are the client's wall-clock days (orders get
        a time of day) and the truth is that time in UTC."""
        style = self.spec["dates"]
        if style not in ("local", "offset"):
            return frame, frame
        zone = ZONES[self.spec["language"]]
        if table == S.ORDERS:
            minutes = self.rng.integers(8 * 60, 20 * 60, frame.height)
            frame = frame.with_columns(pl.col(S.ORDERED_AT)
                                       + pl.duration(minutes=pl.Series(minutes)))
        dates = [c for c, d in frame.schema.items() if isinstance(d, pl.Datetime)]
        aware = frame.with_columns([pl.col(c).dt.replace_time_zone(zone) for c in dates])
        truth = aware.with_columns([pl.col(c).dt.convert_time_zone("UTC")
                                    .dt.replace_time_zone(None) for c in dates])
        return (aware if style == "offset" else frame), truth

    # -------------------------------------------------------------- rows with plants
    def _plant(self) -> None:
        s, rng = self.spec, self.rng
        cust = self.truth[S.CUSTOMERS]
        rows_c = self.written[S.CUSTOMERS].to_dicts()
        pkeys = [k for k in s["personal_columns"]]
        if pkeys:
            vals = _personal_values(rng, s["language"], len(rows_c), pkeys)
            for k in pkeys:
                for r, v in zip(rows_c, vals[k]):
                    r[k] = v
                self.personal.extend(vals[k])
        if s["email_in_category"]:
            i = int(rng.integers(len(rows_c)))
            email = f"kontakt.{int(rng.integers(100, 999))}@client-mail.{self.L['tld']}"
            rows_c[i][S.SEGMENT] = email
            self.personal.append(email)
            self.truth[S.CUSTOMERS] = cust.with_columns(
                pl.when(pl.int_range(pl.len()) == i).then(None)
                .otherwise(pl.col(S.SEGMENT)).alias(S.SEGMENT))
            self.masked[S.CUSTOMERS] = (S.SEGMENT,)
        extra = []
        if s["hidden_personal"]:
            vals = _personal_values(rng, s["language"], len(rows_c), [s["hidden_personal"]])
            for r, v in zip(rows_c, vals[s["hidden_personal"]]):
                r["notes"] = v
            self.personal.extend(vals[s["hidden_personal"]])
            extra.append("notes")
        self.columns[S.CUSTOMERS] = cust.columns + pkeys + extra
        rej_c: dict[str, int] = {}
        if s["n_broken"] >= 3 and len(rows_c) > 5:    # a customer exported twice
            i = int(rng.integers(1, len(rows_c) - 1))
            rows_c.insert(int(rng.integers(i + 1, len(rows_c) + 1)), dict(rows_c[i]))
            rej_c[f"{S.CUSTOMER_ID}: duplicate"] = 1
        self.rows[S.CUSTOMERS] = rows_c
        self.rejected[S.CUSTOMERS] = rej_c

        orders = self.truth[S.ORDERS]
        rows_o = self.written[S.ORDERS].to_dicts()
        ocols = list(orders.columns)
        if s["email_in_orders"] and "email" in pkeys:
            by_id = {r[S.CUSTOMER_ID]: r["email"] for r in rows_c}
            for r in rows_o:
                r["email"] = by_id[r[S.CUSTOMER_ID]]
            ocols.append("email")
        self.columns[S.ORDERS] = ocols
        rej_o: dict[str, int] = {}
        kinds = ("date", "missing", "unknown", "duplicate")
        unknown = {"prefix": "C999999", "padded": "999999", "numeric": "999999",
                   "branch": f"{_BRANCHES[s['language']][0]}-999999"}
        originals = list(rows_o)
        broken = []
        for k in range(s["n_broken"]):
            kind = kinds[k % 4]
            if kind == "duplicate":     # a copy of a good row, somewhere below it
                orig = originals[int(rng.integers(len(originals)))]
                j = next(i for i, r in enumerate(rows_o) if r is orig)
                copy = dict(orig)
                rows_o.insert(int(rng.integers(j + 1, len(rows_o) + 1)), copy)
                broken.append(copy)
                reason = f"{S.ORDER_ID}: duplicate"
            else:
                src = dict(originals[int(rng.integers(len(originals)))])
                src[S.ORDER_ID] = self._new_order_id(k)
                if kind == "date":
                    src[S.ORDERED_AT] = "BAD_DATE"
                    reason = f"{S.ORDERED_AT}: unparseable date"
                elif kind == "missing":
                    src[S.CUSTOMER_ID] = None
                    reason = f"{S.CUSTOMER_ID}: missing"
                else:
                    src[S.CUSTOMER_ID] = unknown[s["id_style"]]
                    reason = f"{S.CUSTOMER_ID}: unknown customer"
                rows_o.insert(int(rng.integers(5, len(rows_o) + 1)), src)
                broken.append(src)
            rej_o[reason] = rej_o.get(reason, 0) + 1
        if s["formula_note"]:
            for k, r in enumerate(originals):
                r["note"] = _pick(rng, ("ok", "Express", "B2B")) if k % 9 == 4 else None
            # a file that is never quoted cannot hold a delimiter or a quote in a cell
            formulas = [f for f in FORMULAS if not s["stray_quote"]
                        or (s["delimiter"] not in f and '"' not in f)]
            for k, r in enumerate(broken):
                r["note"] = formulas[k % len(formulas)]
            if s["stray_quote"]:        # "Express: a quote opened and never closed
                dup = {r[S.ORDER_ID] for r in broken}
                for r in originals[len(originals) // 3:]:
                    if r[S.ORDER_ID] not in dup:
                        r["note"] = '"Express'
                        break
            ocols.append("note")
        if s["totals_row"]:
            total = round(float(orders[S.AMOUNT].sum()), 2)
            rows_o.append({S.ORDER_ID: self.L["totals"], S.AMOUNT: total, "_totals": True})
            rej_o[REASON_TOTALS] = 1
        if s["id_noise"] and (s["fmt"] in _SPREAD or s["id_style"] != "numeric"):
            # the zero-width space does not exist in the 8-bit code pages
            zw = not (s["fmt"] == "csv" and s["encoding"] in ("cp1252", "latin-1"))
            step = max(1, len(originals) // 4)
            for k, orig in enumerate(originals[3::step]):
                i = next(i for i, r in enumerate(rows_o) if r is orig)
                cid = rows_o[i][S.CUSTOMER_ID]
                nfd = unicodedata.normalize("NFD", cid)
                if zw and nfd != cid and k % 3 == 2:    # same id, decomposed accents
                    noisy = nfd
                else:
                    noisy = "\u200b" + cid if zw and k % 2 else cid + "\u00a0"
                rows_o[i] = dict(orig, **{S.CUSTOMER_ID: noisy})
        self.rows[S.ORDERS] = rows_o
        self.rejected[S.ORDERS] = rej_o
        for t, frame in list(self.truth.items()):
            if frame.height == 0:       # a system exports no file for an empty table
                del self.truth[t]
                continue
            if t not in self.rows:
                self.rows[t] = self.written[t].to_dicts()
                self.columns[t] = list(frame.columns)
                self.rejected[t] = {}
        for t in self.rows:
            self.read[t] = len(self.rows[t])

    def _new_order_id(self, k: int) -> str:
        style = self.spec["id_style"]
        if style in ("prefix", "branch"):
            return f"O{9_000_000 + k:07d}"
        if style == "padded":
            return f"{9_000_000 + k:07d}"
        return str(9_900_000 + k)

    # -------------------------------------------------------------- text rendering
    def _bad_date(self) -> str:
        f = DATE_STYLES[self.spec["dates"]]
        return (f.replace("%Y", "2024").replace("%m", "02").replace("%d", "31")
                .replace("%H:%M:%S", "00:00:00").replace("%H:%M", "00:00")
                .replace("%z", "+0100"))

    def _cell_text(self, col: str, v: Any, *, style: str | None = None) -> str:
        if v is None:
            return ""
        if isinstance(v, datetime):
            return v.strftime(DATE_STYLES[self.spec["dates"]])
        if v == "BAD_DATE":
            return self._bad_date()
        if isinstance(v, float):
            if col == S.SCORE:
                return f"{v:.0f}"
            text = _num_text([v], style or self.spec["decimal"],
                             whole=self.spec["whole_amounts"], rng=self.rng)[0]
            if self.spec["currency"] and col in _MONEY:
                text = self._with_currency(text)
            return text
        if col == S.DIRECTION and not self.canonical:
            return self.L["directions"][0 if v == "inbound" else 1]
        return str(v)

    def _with_currency(self, number: str) -> str:
        """"1.234,56 €", "£1,234.56", "€ 1.234,56", "1 234,56 kr": as the language writes
        money ("EUR" where the encoding has no euro sign)."""
        lang, enc = self.spec["language"], self.spec["encoding"]
        euro = "EUR" if self.spec["fmt"] == "csv" and enc == "latin-1" else "€"
        if lang == "en":
            return "£" + number
        if lang == "sv":
            return number + " kr"
        if lang == "nl":
            return f"{euro} {number}"
        return f"{number} {euro}"

    def _text_rows(self, table: str) -> tuple[list[str], list[list[str]]]:
        cols = self.columns[table]
        head = [self.header(c) for c in cols]
        body = []
        for r in self.rows[table]:
            if r.get("_totals"):
                line = [""] * len(cols)
                line[cols.index(S.ORDER_ID)] = r[S.ORDER_ID]
                line[cols.index(S.AMOUNT)] = self._cell_text(S.AMOUNT, r[S.AMOUNT])
            else:
                line = [self._cell_text(c, r.get(c)) for c in cols]
            body.append(line)
        return head, body

    def _title_lines(self, width: int) -> list[list[str]]:
        n = self.spec["title_rows"]
        lines = [[f"{self.L['title']} {self.data.as_of.year - 1}"],
                 [f"{self.L['exported']} {self.data.as_of.strftime('%d.%m.%Y')}"], []]
        lines = lines[:n] if n <= 2 else lines + [[]] * (n - 3)
        if self.rng.random() < 0.5:      # Excel's "Save as CSV" pads every line
            lines = [line + [""] * (width - len(line)) for line in lines]
        return lines

    # -------------------------------------------------------------- writers
    def _write_csv(self) -> Path:
        s = self.spec
        for t in self.rows:
            head, body = self._text_rows(t)
            buf = io.StringIO()
            w = csv.writer(buf, **self._dialect())
            for line in self._title_lines(len(head)):
                w.writerow(line)
            w.writerow(head)
            stray = self._stray_row(t, body) if s["stray_latin1"] else None
            w.writerows(body if stray is None else body[:stray])
            data = buf.getvalue().encode(s["encoding"])
            if stray is not None:
                parts = []
                for k, line in enumerate(body[stray:]):
                    buf = io.StringIO()
                    csv.writer(buf, **self._dialect()).writerow(line)
                    parts.append(buf.getvalue().encode("cp1252" if k == 0 else "utf-8"))
                data += b"".join(parts)
            name = self.table_name(t) + (".tsv" if s["delimiter"] == "\t"
                                         and self.rng.random() < 0.3 else ".csv")
            (self.folder / name).write_bytes(data)
        return self.folder

    def _dialect(self) -> dict[str, Any]:
        """csv.writer options: quoted where needed, or never quoted (``stray_quote``)."""
        s = self.spec
        if s["stray_quote"]:
            return dict(delimiter=s["delimiter"], lineterminator=s["line_ending"],
                        quoting=csv.QUOTE_NONE, quotechar=None, escapechar=None)
        return dict(delimiter=s["delimiter"], lineterminator=s["line_ending"],
                    quoting=csv.QUOTE_MINIMAL)

    def _stray_row(self, table: str, body: list[list[str]]) -> int | None:
        """Index of the customers line to write in cp1252: non-ASCII text, cp1252-safe,
        a customer with no other rows and written once; None when there is none."""
        if table != S.CUSTOMERS:
            return None
        cols = self.columns[table]
        i_id = cols.index(S.CUSTOMER_ID)
        used = set()
        for t, frame in self.truth.items():
            if t != S.CUSTOMERS:
                for c in (S.CUSTOMER_ID, S.REFERRER_ID, S.REFERRED_ID):
                    if c in frame.columns:
                        used.update(frame[c].drop_nulls().to_list())
        counts: dict[str, int] = {}
        for line in body:
            counts[line[i_id]] = counts.get(line[i_id], 0) + 1
        for k, line in enumerate(body[5:], start=5):
            text = "".join(line)
            cid = line[i_id]
            if cid in used or counts[cid] > 1 or text.isascii():
                continue
            try:
                text.encode("cp1252")
            except UnicodeEncodeError:
                continue
            self.stray[table] = (cid,)
            return k
        return None

    def _write_xlsx(self) -> Path:
        name = self.L["workbook"] if not self.canonical else "crm_export"
        path = self.folder / f"{name}.xlsx"
        self._workbook(path, {self.table_name(t)[:31]: t for t in self.rows})
        return path

    def _write_xlsx_files(self) -> Path:
        sheet = "Sheet1" if self.canonical else _SHEET1[self.spec["language"]]
        for t in self.rows:
            self._workbook(self.folder / f"{self.table_name(t)}.xlsx", {sheet: t})
        return self.folder

    def _workbook(self, path: Path, sheets: dict[str, str]) -> None:
        """Write one .xlsx with xlsxwriter: sheet name -> table."""
        import xlsxwriter

        s = self.spec
        wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                             "strings_to_formulas": False,
                                             "strings_to_urls": False})
        date_fmt = wb.add_format({"num_format": "dd.mm.yyyy" if s["language"] != "en"
                                  else "yyyy-mm-dd"})
        money_fmt = wb.add_format({"num_format": "#,##0.00"})
        bold = wb.add_format({"bold": True})
        for sheet, t in sheets.items():
            ws = wb.add_worksheet(sheet)
            cols = self.columns[t]
            r0 = 0
            for line in self._title_lines(len(cols)):
                if line and line[0]:
                    ws.write_string(r0, 0, line[0], bold)
                r0 += 1
            for j, c in enumerate(cols):
                ws.write_string(r0, j, self.header(c), bold)
            for i, row in enumerate(self.rows[t], start=r0 + 1):
                totals = row.get("_totals", False)
                for j, c in enumerate(cols):
                    v = row.get(c)
                    if v is None:
                        continue
                    self._xlsx_cell(ws, i, j, c, v, date_fmt, money_fmt, totals)
        wb.close()

    def _xlsx_cell(self, ws, i, j, col, v, date_fmt, money_fmt, totals) -> None:
        mode = self.spec["excel_cells"]
        as_text = mode == "text" or (mode == "mixed" and self.rng.random() < 0.3)
        if isinstance(v, datetime):
            if as_text:
                ws.write_string(i, j, self._cell_text(col, v))
            else:
                ws.write_datetime(i, j, v, date_fmt)
        elif isinstance(v, float):
            if as_text and not totals:
                ws.write_string(i, j, self._cell_text(col, v))
            else:
                ws.write_number(i, j, v, money_fmt if col in _MONEY else None)
        elif v == "BAD_DATE":
            ws.write_string(i, j, self._bad_date())
        elif col in (S.CUSTOMER_ID, S.ORDER_ID, S.REFERRER_ID, S.REFERRED_ID) \
                and self.spec["id_style"] == "numeric" and str(v).isdigit():
            ws.write_number(i, j, int(v))          # Excel keeps numeric ids as numbers
        else:
            ws.write_string(i, j, self._cell_text(col, v))

    def _typed_frame(self, table: str, *, text_dates: bool) -> pl.DataFrame:
        """The rows of a table with typed columns (for Parquet and databases)."""
        cols = self.columns[table]
        spec = S.TABLES[table]
        data: dict[str, list] = {c: [] for c in cols}
        for r in self.rows[table]:
            for c in cols:
                v = r.get(c)
                if v == "BAD_DATE":
                    v = self._bad_date()
                elif text_dates and isinstance(v, datetime):
                    v = v.strftime(DATE_STYLES[self.spec["dates"]])
                data[c].append(v)
        schema: dict[str, pl.DataType] = {}
        for c in cols:
            dtype = spec.schema.get(c, pl.String)
            if isinstance(dtype, pl.Datetime) and text_dates:
                dtype = pl.String
            elif isinstance(dtype, pl.Datetime) and self.spec["dates"] == "offset":
                dtype = pl.Datetime("us", ZONES[self.spec["language"]])
            if c in (S.CUSTOMER_ID, S.ORDER_ID, S.REFERRER_ID, S.REFERRED_ID) and \
                    self.spec["id_style"] == "numeric":
                dtype = pl.Int64
            schema[self.header(c)] = dtype
        frame = pl.DataFrame({self.header(c): data[c] for c in cols}, schema=schema,
                             strict=False)
        if S.DIRECTION in cols and not self.canonical:
            d = self.header(S.DIRECTION)
            frame = frame.with_columns(pl.col(d).replace(
                {"inbound": self.L["directions"][0], "outbound": self.L["directions"][1]}))
        return frame

    def _write_parquet(self) -> Path:
        for t in self.rows:
            text_dates = "BAD_DATE" in {r.get(S.ORDERED_AT) for r in self.rows[t]}
            self._typed_frame(t, text_dates=text_dates).write_parquet(
                self.folder / f"{self.table_name(t)}.parquet")
        return self.folder

    def _write_sqlite(self) -> Path:
        path = self.folder / ("crm.sqlite" if self.rng.random() < 0.5 else "crm.sqlite3")
        con = sqlite3.connect(path)
        try:
            for t in self.rows:
                frame = self._typed_frame(t, text_dates=True)
                types = {pl.Int64: "INTEGER", pl.Float64: "REAL"}
                cols = ", ".join(f'"{c}" {types.get(frame.schema[c], "TEXT")}'
                                 for c in frame.columns)
                name = self.table_name(t)
                con.execute(f'CREATE TABLE "{name}" ({cols})')
                marks = ", ".join("?" for _ in frame.columns)
                con.executemany(f'INSERT INTO "{name}" VALUES ({marks})', frame.rows())
            con.commit()
        finally:
            con.close()
        return path

    def _write_duckdb(self) -> Path:
        import duckdb

        path = self.folder / "crm.duckdb"
        con = duckdb.connect(str(path))
        try:
            for t in self.rows:
                text_dates = "BAD_DATE" in {r.get(S.ORDERED_AT) for r in self.rows[t]}
                frame = self._typed_frame(t, text_dates=text_dates)
                con.register("frame_view", frame.to_arrow())
                con.execute(f'CREATE TABLE "{self.table_name(t)}" AS '
                            f'SELECT * FROM frame_view')
                con.unregister("frame_view")
        finally:
            con.close()
        return path

    # -------------------------------------------------------------- mapping
    def _mapping(self, path: Path) -> dict | None:
        s = self.spec
        fmt = s["fmt"]
        text = fmt == "csv" or (fmt in _EXCEL and s["excel_cells"] != "native")
        defaults: dict[str, Any] = {}
        if s["title_rows"] and s["header_hint"]:
            defaults["header_row"] = s["title_rows"]
        if s["dates"] == "mdy":
            defaults["dayfirst"] = False
        if s["dates"] == "local":           # nothing in the file says which zone
            defaults["timezone"] = ZONES[s["language"]]
        if s["stray_quote"]:
            defaults["quote"] = ""
        if s["mapping_hints"]:
            if fmt == "csv":
                defaults["delimiter"] = s["delimiter"]
                defaults["encoding"] = s["encoding"]
            defaults["date_format"] = DATE_STYLES[s["dates"]]
            if text:
                dec = s["decimal"]
                defaults["decimal"] = "," if dec in _COMMA_DECIMALS else "."
                defaults["thousands"] = {"plain": "", "comma": "", "plain_trim": "",
                                         "comma_trim": "", "en": ",", "de": ".",
                                         "fr": " ", "ch": "'"}[dec]
        tables: dict[str, Any] = {}
        if not self.canonical:
            for t in self.rows:
                entry: dict[str, Any] = {"source": self._source_name(t, path)}
                entry["columns"] = {c: self.header(c) for c in self.columns[t]
                                    if c not in _PERSONAL_KEYS
                                    and c not in ("notes", "note")}
                if S.DIRECTION in self.columns[t]:
                    inb, outb = self.L["directions"]
                    entry["values"] = {S.DIRECTION: {inb: "inbound", outb: "outbound"}}
                tables[t] = entry
        elif fmt in _EXCEL or fmt in ("sqlite", "duckdb"):
            pass                               # sheet / table names are canonical
        mapping: dict[str, Any] = {}
        if defaults:
            mapping["defaults"] = defaults
        if tables:
            mapping["tables"] = tables
        return mapping or None

    def _source_name(self, table: str, path: Path) -> str:
        name = self.table_name(table)
        if self.spec["fmt"] == "csv":
            hits = [p.name for p in path.iterdir() if p.stem == name]
            return hits[0]
        if self.spec["fmt"] == "parquet":
            return f"{name}.parquet"
        if self.spec["fmt"] == "xlsx_files":
            return f"{name}.xlsx"
        if self.spec["fmt"] == "xlsx":
            return name[:31]
        return name

    # -------------------------------------------------------------- all
    def build(self) -> ClientExport:
        self._truth_tables()
        self._plant()
        writer = {"csv": self._write_csv, "xlsx": self._write_xlsx,
                  "xlsx_files": self._write_xlsx_files,
                  "parquet": self._write_parquet, "sqlite": self._write_sqlite,
                  "duckdb": self._write_duckdb}[self.spec["fmt"]]
        path = writer()
        mapping = self._mapping(self.folder)
        spec = dict(self.spec)
        spec["tables"] = tuple(t for t in self.rows if t not in (S.CUSTOMERS, S.ORDERS))
        return ClientExport(path=path, mapping=mapping, truth=dict(self.truth),
                            as_of=self.data.as_of, read=dict(self.read),
                            rejected={t: dict(r) for t, r in self.rejected.items()},
                            personal=tuple(dict.fromkeys(self.personal)),
                            masked=dict(self.masked), stray_lines=dict(self.stray),
                            spec=spec)


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
