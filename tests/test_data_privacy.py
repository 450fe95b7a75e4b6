"""Privacy on load: personal columns dropped, identifiers pseudonymised consistently."""

from __future__ import annotations

import hashlib
import sys

import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab.data import schema as S
from loyaltylab.data.privacy import hash_id, is_personal, pseudonymize_frames

AS_OF = "2025-12-31"


def tables():
    customers = pl.DataFrame({
        S.CUSTOMER_ID: ["a", "b", "c"], S.ACQUIRED_AT: ["2025-01-01"] * 3,
        "Name": ["Ann Smith", "Bo Lee", "Cy Young"], "E-Mail": ["a@x.org", "b@x.org", "c@x"],
        "phone_number": ["+49 1", "+49 2", "+49 3"], "industry": ["retail", "b2b", "b2b"]})
    orders = pl.DataFrame({S.ORDER_ID: ["1", "2", "3"], S.CUSTOMER_ID: ["a", "b", "zz"],
                           S.ORDERED_AT: ["2025-02-01"] * 3, S.AMOUNT: [1.0, 2.0, 3.0]})
    referrals = pl.DataFrame({S.REFERRER_ID: ["a"], S.REFERRED_ID: ["b"],
                              S.REFERRED_AT: ["2025-03-01"]})
    return {"customers": customers, "orders": orders, "referrals": referrals}


@pytest.mark.parametrize("name, personal", [
    ("name", True), ("E-Mail", True), ("phone_number", True), ("Street", True),
    ("date_of_birth", True), ("IBAN", True), ("campaign_name", False), ("industry", False),
    ("customer_id", False), ("mailing_campaign", False),
])
def test_is_personal(name, personal):
    assert is_personal(name) is personal


def test_personal_columns_dropped_with_a_note():
    data = ll.from_frames(tables(), as_of=AS_OF)
    assert data.customers.columns == [S.CUSTOMER_ID, S.ACQUIRED_AT, "industry"]
    note = " ".join(data.report.tables["customers"].warnings)
    assert "dropped personal columns ['Name', 'E-Mail', 'phone_number']" in note
    text = str(data.report) + repr(data)
    for secret in ("Ann Smith", "a@x.org", "+49 1"):
        assert secret not in text


def test_keep_personal_keeps_what_is_listed():
    data = ll.from_frames(tables(), as_of=AS_OF, keep_personal=["e_mail"])
    assert "E-Mail" in data.customers.columns and "Name" not in data.customers.columns


def test_pseudonymised_ids_are_consistent_across_tables():
    data = ll.from_frames(tables(), as_of=AS_OF, pseudonymize=True, salt="pepper")
    # the pseudonym is sha256(salt + "\x1f" + value), first 16 hex digits (computed here
    # independently with hashlib)
    expected_a = hashlib.sha256(b"pepper\x1fa").hexdigest()[:16]
    assert hash_id("a", "pepper") == expected_a
    assert data.customers[S.CUSTOMER_ID].to_list()[0] == expected_a
    assert data.referrals[S.REFERRER_ID][0] == expected_a
    assert data.referrals[S.REFERRED_ID][0] == hash_id("b", "pepper")
    assert data.orders[S.ORDER_ID].to_list() == [hash_id("1", "pepper"), hash_id("2", "pepper")]
    # joins still work
    joined = data.orders.join(data.customers, on=S.CUSTOMER_ID)
    assert joined.height == 2
    # the rejected order's ids are hashed too
    rej = data.report.tables["orders"].rejects
    assert rej[S.CUSTOMER_ID].to_list() == [hash_id("zz", "pepper")]
    assert "zz" not in str(data.report)


def test_same_salt_same_hashes_and_random_salt_noted():
    one = ll.from_frames(tables(), as_of=AS_OF, pseudonymize=True, salt="s")
    two = ll.from_frames(tables(), as_of=AS_OF, pseudonymize=True, salt="s")
    other = ll.from_frames(tables(), as_of=AS_OF, pseudonymize=True, salt="t")
    assert one.customers.equals(two.customers)
    assert not one.customers[S.CUSTOMER_ID].equals(other.customers[S.CUSTOMER_ID])
    rnd = ll.from_frames(tables(), as_of=AS_OF, pseudonymize=True)
    assert any("random salt" in w for w in rnd.report.warnings)
    assert "a" not in rnd.customers[S.CUSTOMER_ID].to_list()


def test_pseudonymize_frames_leaves_other_columns_alone():
    frames = {"customers": pl.DataFrame({S.CUSTOMER_ID: ["x", None], "v": [1, 2]})}
    out, salt = pseudonymize_frames(frames, salt="k")
    assert out["customers"]["v"].to_list() == [1, 2]
    assert out["customers"][S.CUSTOMER_ID].to_list() == [hash_id("x", "k"), None]
    assert salt == "k"


def test_load_drops_personal_columns_from_files(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "customer_id,acquired_at,first_name,Telephone\nC1,2025-01-01,Ann,0123\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n1,C1,2025-02-01,1\n")
    data = ll.load(tmp_path, as_of=AS_OF)
    assert data.customers.columns == [S.CUSTOMER_ID, S.ACQUIRED_AT]


@pytest.mark.parametrize("lookup", [True, False])
def test_loaded_pseudonyms_equal_hash_id_in_every_table(tmp_path, monkeypatch, lookup):
    # customer references take their pseudonym from the customers' lookup (an integer
    # join); without it (a 64-bit collision among customer ids) every id is hashed
    # directly. Both give hash_id of the raw id, in every table.
    if not lookup:
        loader = sys.modules["loyaltylab.data.load"]  # the module, not ll.data.load
        monkeypatch.setattr(loader, "_distinct", lambda keys: False)
    (tmp_path / "customers.csv").write_text("customer_id,acquired_at\nC1,2025-01-02\n"
                                            "C2,2025-01-03\n C3 ,2025-01-04\n")
    (tmp_path / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n"
                                         "O1,C2,2025-02-01,5\nO2,C3,2025-02-02,6\n"
                                         "O3,C9,2025-02-03,7\n")
    (tmp_path / "referrals.csv").write_text("referrer_id,referred_id,referred_at\n"
                                            "C1,C3,2025-01-04\n")
    data = ll.load(tmp_path, as_of="2025-12-31", pseudonymize=True, salt="pepper")
    h = {v: hash_id(v, "pepper") for v in ("C1", "C2", "C3", "C9", "O1", "O2", "O3")}
    assert data.customers[S.CUSTOMER_ID].to_list() == [h["C1"], h["C2"], h["C3"]]
    assert data.orders[S.CUSTOMER_ID].to_list() == [h["C2"], h["C3"]]
    assert data.orders[S.ORDER_ID].to_list() == [h["O1"], h["O2"]]
    assert data.referrals.row(0)[:2] == (h["C1"], h["C3"])
    rej = data.report.tables["orders"].rejects
    assert rej[S.ORDER_ID].to_list() == [h["O3"]] and rej[S.CUSTOMER_ID].to_list() == [h["C9"]]


# ---------------------------------------------------------------- headers, 11 languages
PERSONAL_HEADERS = [
    # en
    "name", "Name", "E-Mail", "email", "eMail", "Mail", "phone_number", "Telephone",
    "Mobile", "Fax", "Street", "Address", "postcode", "ZIP", "zip code", "City",
    "date_of_birth", "Birth date", "DOB", "IBAN", "first_name", "FirstName", "LastName",
    "Surname", "full name", "contact name", "Contact person", "customer_email",
    "Customer Phone", "Home address line 1", "billing_address", "SSN",
    "Social security number", "tax_id", "bank account", "Email 2", "Account manager name",
    # de
    "Vorname", "Nachname", "Ansprechpartner", "Telefon", "Handy", "Strasse", "Straße",
    "STRASSE", "PLZ", "Ort", "Geburtsdatum", "Kundenname", "Kundentelefon",
    "Telefonnummer", "Handynummer", "Mobilnummer", "Rechnungsadresse", "E-Mail-Adresse",
    "Emailadresse", "Hausnummer", "Hausnr.", "Postleitzahl", "Wohnort", "PLZ/Ort",
    "Telefon (privat)", "Tel.", "Kontonummer", "Steuernummer", "Sozialversicherungsnummer",
    "Ortsteil", "Strassenname", "E-Mail (geschäftlich)", "Ansprechpartner Telefon",
    "Anschrift",
    # fr
    "Prénom", "Nom", "Courriel", "Téléphone", "Adresse", "Code postal", "Ville",
    "Date de naissance", "Nom du client", "Nom de famille", "Téléphone portable",
    "Numéro de téléphone", "Adresse e-mail",
    # sv
    "Förnamn", "Efternamn", "Gatuadress", "Postnummer", "Postort", "E-post",
    "E-postadress", "Personnummer", "Födelsedatum", "Kundnamn",
    # da, no
    "Fornavn", "Efternavn", "Etternavn", "Postnr. og by", "Fødselsdato", "CPR-nummer",
    "Tlf.", "Poststed", "Kundenavn",
    # nl
    "Voornaam", "Achternaam", "Straat", "Woonplaats", "Geboortedatum", "Telefoonnummer",
    "Huisnummer", "Klantnaam", "BSN",
    # es
    "Nombre", "Apellido", "Apellidos", "Correo electrónico", "Teléfono", "Dirección",
    "Código postal", "Ciudad", "Fecha de nacimiento", "Móvil", "DNI", "Nombre del cliente",
    # it
    "Cognome", "Indirizzo", "CAP", "Nome", "Città", "Data di nascita", "Cellulare",
    "Codice fiscale", "Telefono",
    # pt
    "Sobrenome", "Morada", "Endereço", "Telemóvel", "Celular", "CEP",
    "Data de nascimento", "Cidade", "NIF",
    # pl
    "Imię", "Nazwisko", "Ulica", "Kod pocztowy", "Miejscowość", "Miasto",
    "Telefon komórkowy", "Adres e-mail", "Data urodzenia", "PESEL", "Imię i nazwisko",
]

BUSINESS_HEADERS = [
    "customer_id", "campaign_name", "product_name", "segment_name", "number_of_orders",
    "Nombre de pedidos", "Nombre de commandes", "Nombre de clients", "Kundennummer",
    "order_number", "Anzahl", "Company name", "Firmenname", "Produktname",
    "Kampagnenname", "mailing_campaign", "email_campaign", "email_opt_in",
    "email_verified", "phone_calls", "Phone type", "Anzahl Telefonate",
    "Telefonkampagne", "Region", "Land", "Country", "Bundesland", "Provincia",
    "Standort", "Kundensegment", "Kundengruppe", "Kundentyp", "Kundenart",
    "customer_type", "contact_channel", "Kontaktart", "Kontaktkanal", "Kontaktdatum",
    "Kontakt", "Contact", "Kunde", "Manager", "Sales rep", "user_id", "Betrag",
    "Bestelldatum", "Bestellnummer", "Rechnungsnummer", "Rechnungsbetrag", "Datum",
    "Umsatz", "Name der Kampagne", "Nom de la campagne", "Nome prodotto",
    "Nazwa produktu", "Produktnavn", "address_type", "Mailing", "Kanal", "Montant",
    "Quantité", "Beløb", "Belopp", "Bedrag", "Importe", "Importo", "Valor", "Kwota",
    "Kampanj", "Campaña", "store_name", "branch_name", "Filiale", "Sales region",
    "account_name", "Tarif", "age", "Alter", "gender", "Geschlecht", "Anrede",
    "test_cell", "device", "Transport", "Report", "Hotel", "Mobilfunkvertrag",
    "Postversand", "Versandart", "Zahlungsart", "Kommentar", "Rabatt",
]


@pytest.mark.parametrize("header", PERSONAL_HEADERS)
def test_personal_headers_in_eleven_languages(header):
    assert is_personal(header), header


@pytest.mark.parametrize("header", BUSINESS_HEADERS)
def test_business_look_alikes_are_not_personal(header):
    assert not is_personal(header), header


def test_canonical_names_and_schema_examples():
    from loyaltylab.data.privacy import personal_columns
    assert not any(is_personal(c) for t in S.TABLES.values() for c in t.names)
    assert all(is_personal(c) for c in S.PERSONAL_COLUMNS)
    # keep_personal matches after folding case, accents and punctuation
    assert personal_columns(["Straße", "E-Mail", "Vorname"], keep=["strasse", "e mail"]) \
        == ["Vorname"]


# ---------------------------------------------------------------- values
from loyaltylab.data.privacy import (PLACEHOLDER, neutralize_formulas,  # noqa: E402
                                     personal_kinds, personal_values, screen_personal)

PERSONAL_VALUES = [
    "ann@example.org", "Ann Lee <ann.lee@mail.co.uk>", "jörg.müller@beispiel.de",
    "+49 30 1234567", "+49 (0)30 1234567", "+33 1 23 45 67 89", "+4917612345678",
    "0049 30 1234567", "030 1234567", "0171-2345678", "(030) 1234567", "030/1234567",
    "06 12 34 56 78", "01.23.45.67.89", "070-123 45 67", "020 7946 0958",
    "(555) 123-4567", "555-123-4567", "+1 555 123 4567", "call +44 20 7946 0958 please",
    "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", "NL91ABNA0417164300",
    "FR14 2004 1010 0505 0001 3M02 606", "NO9386011117947", "DE89370400440532013000",
    "IBAN: DE89 3704 0044 0532 0130 00",
]
PLAIN_VALUES = [
    "-12.50", "1.234,56", "+12.345.678,90", "1 234 567", "12.5", "0.5", "+3", "1e5",
    "2025-03-01", "01.03.2025", "03/01/2025", "2025-03-01 10:00:00", "10:30",
    "C000123", "00012345", "O-2025-000123", "123456789", "Q1-2025", "+10 %", "Gold",
    "VIP 2024", "ISO 9001", "A@B", "user@localhost", "+49",
    # IBAN shape with a wrong check digit
    "DE88 3704 0044 0532 0130 00", "GB83WEST12345698765432",
    # plain digit strings and national numbers without a trunk 0 are not recognised
    "01711234567", "612 345 678",
]


@pytest.mark.parametrize("value", PERSONAL_VALUES)
def test_personal_values_found(value):
    assert personal_values(pl.Series([value])).to_list() == [True]


@pytest.mark.parametrize("value", PLAIN_VALUES)
def test_plain_values_not_taken_for_personal(value):
    assert personal_values(pl.Series([value])).to_list() == [False]


def test_iban_checksum_against_a_hand_computation():
    from loyaltylab.data.privacy import _iban_ok
    # DE89 3704 0044 0532 0130 00: move DE89 to the end, D=13, E=14:
    # 370400440532013000131489 mod 97 = 1 (the ISO 13616 example)
    assert int("370400440532013000131489") % 97 == 1
    assert _iban_ok("DE89 3704 0044 0532 0130 00")
    assert not _iban_ok("DE89 3704 0044 0532 0130 01")
    assert personal_kinds(pl.Series(["DE89370400440532013000", "x@y.org", "x"])) == \
        {"IBANs": 1, "e-mail addresses": 1}


# ---------------------------------------------------------------- on load
def _write(path, text, *, encoding="utf-8-sig", newline="\r\n"):
    # as Excel's "CSV UTF-8" writes it: BOM, CRLF line endings
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def _client_export(folder, n_customers=40):
    rows = ["KundenNr;Kundensegment;Angelegt;Vorname;Nachname;Straße;PLZ;Ort;Telefon;"
            "Kontakt;Branche"]
    for i in range(n_customers):
        seg = "ann.secret@example.org" if i == 7 else ("Gold" if i % 2 else "Silber")
        rows.append(f"K{i:03d};{seg};01.03.2025;Anna{i};Muster{i};Hauptstraße {i};"
                    f"1011{i % 10};Berlin;030 123456{i % 10};kunde{i}@example.org;"
                    f"Handel")
    _write(folder / "Kunden.csv", "\n".join(rows) + "\n")
    orders = ["BestellNr;KundenNr;Datum;Betrag;Kampagne"]
    for i in range(n_customers):
        camp = "+49 170 9876543" if i == 3 else "Frühjahr"
        orders.append(f"B{i};K{i:03d};02.03.2025;{i},50;{camp}")
    orders.append("B999;K999;02.03.2025;-1,00;=HYPERLINK(\"http://x\")")
    _write(folder / "Bestellungen.csv", "\n".join(orders) + "\n")
    return {"tables": {
        "customers": {"source": "Kunden.csv", "columns": {
            "customer_id": "KundenNr", "segment": "Kundensegment",
            "acquired_at": "Angelegt"}},
        "orders": {"source": "Bestellungen.csv", "columns": {
            "order_id": "BestellNr", "customer_id": "KundenNr", "ordered_at": "Datum",
            "amount": "Betrag", "product_line": "Kampagne"}}}}


SECRETS = ("ann.secret@example.org", "+49 170 9876543", "Anna1", "Muster1", "Hauptstraße",
           "kunde1@example.org", "030 1234561")


def test_german_export_personal_data_stops_at_the_door(tmp_path):
    mapping = _client_export(tmp_path)
    data = ll.load(tmp_path, mapping=mapping, as_of=AS_OF)
    cust = data.customers
    assert cust.columns == [S.CUSTOMER_ID, S.ACQUIRED_AT, S.SEGMENT, "Branche"]
    # the e-mail address in the segment column is masked, the other values kept
    assert cust[S.SEGMENT].to_list()[7] == PLACEHOLDER
    assert cust[S.SEGMENT].value_counts().sort(S.SEGMENT).rows() == [
        (PLACEHOLDER, 1), ("Gold", 19), ("Silber", 20)]
    assert data.orders[S.PRODUCT_LINE].to_list()[3] == PLACEHOLDER
    notes = data.report.tables["customers"].warnings
    assert ("dropped personal columns ['Vorname', 'Nachname', 'Straße', 'PLZ', 'Ort', "
            "'Telefon'] (to keep one: --keep-personal NAME, or keep_personal=[...] in "
            "Python)") in notes
    assert ("dropped column 'Kontakt' (holds e-mail addresses); to keep it: "
            "--keep-personal 'Kontakt', or keep_personal=['Kontakt'] in Python") in notes
    assert ("segment: 1 cell held personal data (e-mail addresses) and now reads "
            "'(personal data removed)'") in notes
    assert ("product_line: 1 cell held personal data (phone numbers) and now reads "
            "'(personal data removed)'") in data.report.tables["orders"].warnings
    text = str(data.report) + repr(data)
    for frame in data.tables.values():
        text += frame.write_csv()
    for secret in SECRETS:
        assert secret not in text


def test_keep_personal_keeps_a_content_detected_column_as_it_is(tmp_path):
    mapping = _client_export(tmp_path)
    data = ll.load(tmp_path, mapping=mapping, as_of=AS_OF,
                   keep_personal=["Kontakt", "Kundensegment"])
    assert data.customers["Kontakt"][1] == "kunde1@example.org"
    # kept by its client name: the canonical segment is not masked either
    assert data.customers[S.SEGMENT][7] == "ann.secret@example.org"
    assert "Vorname" not in data.customers.columns


def test_content_checks_skip_id_date_and_number_columns(tmp_path):
    # ids that are e-mail addresses stay ids (pseudonymize=True hashes them)
    customers = pl.DataFrame({S.CUSTOMER_ID: ["a@x.org", "b@x.org"],
                              S.ACQUIRED_AT: ["2025-01-01"] * 2})
    orders = pl.DataFrame({S.ORDER_ID: ["030 1234567", "2"],
                           S.CUSTOMER_ID: ["a@x.org", "b@x.org"],
                           S.ORDERED_AT: ["2025-02-01"] * 2, S.AMOUNT: ["1", "2"]})
    data = ll.from_frames({"customers": customers, "orders": orders}, as_of=AS_OF)
    assert data.customers[S.CUSTOMER_ID].to_list() == ["a@x.org", "b@x.org"]
    assert data.orders[S.ORDER_ID].to_list() == ["030 1234567", "2"]
    assert not data.report.tables["orders"].warnings


def test_rare_personal_value_outside_the_sample_is_masked():
    # a categorical column of 20,000 rows: the e-mail address sits where the sample
    # (head and an even spread) does not look, yet the distinct values are all checked
    n = 20_000
    seg = ["retail"] * n
    seg[12_345] = "jo@example.org"
    notes_col = [f"note {i}" for i in range(n)]
    notes_col[15_001] = "write to jo@example.org"
    frame = pl.DataFrame({S.CUSTOMER_ID: [f"C{i}" for i in range(n)],
                          S.ACQUIRED_AT: ["2025-01-01"] * n, S.SEGMENT: seg,
                          "Notiz": notes_col})
    out, notes = screen_personal(frame, "customers")
    assert out[S.SEGMENT][12_345] == PLACEHOLDER and out[S.SEGMENT][0] == "retail"
    assert out["Notiz"][15_001] == PLACEHOLDER and out["Notiz"][0] == "note 0"
    assert any(n.startswith("'Notiz': 1 cell held") for n in notes)
    assert frame[S.SEGMENT][12_345] == "jo@example.org"  # the input is not changed


def test_survey_comments_with_contact_details_are_masked():
    customers = pl.DataFrame({S.CUSTOMER_ID: ["a"], S.ACQUIRED_AT: ["2025-01-01"]})
    orders = pl.DataFrame({S.ORDER_ID: ["1"], S.CUSTOMER_ID: ["a"],
                           S.ORDERED_AT: ["2025-02-01"], S.AMOUNT: [1.0]})
    surveys = pl.DataFrame({S.CUSTOMER_ID: ["a", "a"], S.SURVEY: ["s1", "s1"],
                            S.ITEM: ["nps", "csat"], S.ANSWERED_AT: ["2025-03-01"] * 2,
                            S.SCORE: [9, 4], S.COMMENT: ["great", "call me: +41 44 668 18 00"]})
    data = ll.from_frames({"customers": customers, "orders": orders, "surveys": surveys},
                          as_of=AS_OF)
    assert data.surveys[S.COMMENT].to_list() == ["great", PLACEHOLDER]


def test_control_characters_in_a_dropped_header_are_not_echoed(tmp_path):
    customers = pl.DataFrame({S.CUSTOMER_ID: ["a", "b"], S.ACQUIRED_AT: ["2025-01-01"] * 2,
                              "Info\x1b[31m": ["a@x.org", "b@y.org"]})
    data = ll.from_frames({"customers": customers, "orders": tables()["orders"]},
                          as_of=AS_OF)
    text = str(data.report)
    assert "\x1b" not in text and "Info\\x1b[31m" in text


# ---------------------------------------------------------------- rejects files
def _read_rejects(path):
    return pl.read_csv(path, infer_schema=False)


def test_rejects_files_leave_out_personal_data_and_formulas(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    mapping = _client_export(src)
    # the orders rows of unknown customers carry a formula and a plain negative amount
    data = ll.load(src, mapping=mapping, as_of=AS_OF, keep_personal=["Telefon"])
    assert "Telefon" in data.customers.columns
    out = tmp_path / "rej"
    written = data.report.write_rejects(out)
    assert [p.name for p in written] == ["orders_rejects.csv"]
    rej = _read_rejects(written[0])
    row = rej.row(0, named=True)
    assert row[S.PRODUCT_LINE] == "'=HYPERLINK(\"http://x\")"
    assert row[S.AMOUNT] == "-1,00"  # a plain number stays as it is
    assert row[S.CUSTOMER_ID] == "K999"
    # the in-memory rejects are the rows as read
    assert data.report.tables["orders"].rejects[S.PRODUCT_LINE][0] == '=HYPERLINK("http://x")'


def test_rejects_files_of_a_pseudonymised_load(tmp_path):
    customers = pl.DataFrame({S.CUSTOMER_ID: ["a", "b"], S.ACQUIRED_AT: ["2025-01-01"] * 2,
                              "Vorname": ["Ann", "Bo"], "Telefon": ["030 1234567", "x"]})
    orders = pl.DataFrame({
        S.ORDER_ID: ["1", "2", "3"], S.CUSTOMER_ID: ["a", "zz", "b"],
        S.ORDERED_AT: ["2025-02-01", "2025-02-01", "2025-02-30"], S.AMOUNT: [1.0, 2.0, 3.0],
        "Bemerkung": ["ok", "+49 170 1234567", "@SUM(A1)"], "E-Mail": ["a@x.org"] * 3})
    data = ll.from_frames({"customers": customers, "orders": orders}, as_of=AS_OF,
                          pseudonymize=True, salt="pepper",
                          keep_personal=["E-Mail", "Bemerkung"])
    [path] = data.report.write_rejects(tmp_path)
    rej = _read_rejects(path)
    assert "E-Mail" not in rej.columns  # kept on load, never in a rejects file
    assert rej[S.CUSTOMER_ID].to_list() == [hash_id("zz", "pepper"), hash_id("b", "pepper")]
    assert rej[S.ORDER_ID].to_list() == [hash_id("2", "pepper"), hash_id("3", "pepper")]
    assert rej["Bemerkung"].to_list() == [PLACEHOLDER, "'@SUM(A1)"]
    text = path.read_text()
    for secret in ("zz", "a@x.org", "170 1234567"):
        assert secret not in text


def test_printed_examples_never_show_personal_values():
    customers = pl.DataFrame({S.CUSTOMER_ID: ["a@x.org"], S.ACQUIRED_AT: ["2025-01-01"]})
    orders = pl.DataFrame({S.ORDER_ID: ["1", "2"], S.CUSTOMER_ID: ["a@x.org", "bo@y.org"],
                           S.ORDERED_AT: ["2025-02-01"] * 2, S.AMOUNT: [1.0, 2.0]})
    contacts = pl.DataFrame({S.CUSTOMER_ID: ["a@x.org"] * 2, S.CONTACTED_AT: ["2025-03-01"] * 2,
                             S.CHANNEL: ["phone"] * 2, S.DIRECTION: ["in", "0171 2345678"]})
    data = ll.from_frames({"customers": customers, "orders": orders, "contacts": contacts},
                          as_of=AS_OF)
    text = str(data.report)
    assert "customer_id: unknown customer  (row 1: (personal data))" in text
    assert "direction: not inbound/outbound  (row 1: (personal data))" in text
    assert "bo@y.org" not in text and "2345678" not in text


# ---------------------------------------------------------------- formulas
@pytest.mark.parametrize("cell, written", [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-1+1", "'-1+1"), ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("-12.50", "-12.50"), ("+3", "+3"), ("-1.234,56", "-1.234,56"), ("-1e5", "-1e5"),
    ("-", "'-"), ("- 12", "'- 12"), ("a=b", "a=b"), ("text", "text"), ("", ""),
])
def test_neutralize_formulas(cell, written):
    frame = pl.DataFrame({"v": [cell]})
    assert neutralize_formulas(frame)["v"].to_list() == [written]
    assert frame["v"].to_list() == [cell]  # input unchanged


def test_neutralize_formulas_headers_and_typed_columns():
    frame = pl.DataFrame({"=x": ["a"], "n": [-3], "f": [-1.5], "s": [None]},
                         schema={"=x": pl.String, "n": pl.Int64, "f": pl.Float64,
                                 "s": pl.String})
    out = neutralize_formulas(frame)
    assert out.columns == ["'=x", "n", "f", "s"]
    assert out.row(0) == ("a", -3, -1.5, None)
    # written to CSV and read back, no cell starts with a formula character
    back = pl.read_csv(out.write_csv().encode(), infer_schema=False)
    assert back.columns[0] == "'=x"


def test_swedish_workbook_written_by_xlsxwriter(tmp_path):
    import xlsxwriter
    path = tmp_path / "export.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    cust = wb.add_worksheet("customers")
    cust.write_row(0, 0, ["customer_id", "acquired_at", "Förnamn", "Efternamn", "E-post",
                          "Kontaktuppgift", "Segment"])
    for i in range(1, 31):
        cust.write_row(i, 0, [f"C{i}", "2025-01-15", f"Sven{i}", f"Svensson{i}",
                              f"sven{i}@exempel.se", f"070-123 45 {i:02d}",
                              "070-765 43 21" if i == 30 else "Guld"])
    orders = wb.add_worksheet("orders")
    orders.write_row(0, 0, ["order_id", "customer_id", "ordered_at", "amount"])
    for i in range(1, 31):
        orders.write_row(i, 0, [f"O{i}", f"C{i}", "2025-02-01", 10.5])
    wb.close()
    data = ll.load(path, as_of=AS_OF)
    assert data.customers.columns == [S.CUSTOMER_ID, S.ACQUIRED_AT, S.SEGMENT]
    assert data.customers[S.SEGMENT].to_list()[-1] == PLACEHOLDER
    notes = " ".join(data.report.tables["customers"].warnings)
    assert "dropped personal columns ['Förnamn', 'Efternamn', 'E-post']" in notes
    assert "dropped column 'Kontaktuppgift' (holds phone numbers)" in notes
    assert "070-765 43 21" not in str(data.report)


def test_header_kind():
    from loyaltylab.data.privacy import header_kind
    assert [header_kind(h) for h in ("Kundentelefon", "Date de naissance", "Nom du client",
                                     "Kod pocztowy", "Miejscowość", "Kontonummer",
                                     "Codice fiscale", "Umsatz")] == \
        ["phone", "birth date", "name", "postcode", "city", "bank account", "national id",
         None]


def test_neutralize_formulas_categorical_and_enum():
    frame = pl.DataFrame({"c": ["=1+1", "ok"], "e": ["@x", "ok"]},
                         schema={"c": pl.Categorical, "e": pl.Enum(["@x", "ok"])})
    out = neutralize_formulas(frame)
    assert out.schema["c"] == pl.Categorical and out["c"].to_list() == ["'=1+1", "ok"]
    assert out.schema["e"] == pl.String and out["e"].to_list() == ["'@x", "ok"]


def test_shadowed_identifier_column_is_not_kept(tmp_path):
    # the mapping takes KundenNr as the customer id; the export also has a column literally
    # called customer_id (the shop's internal id): it must not ride along with raw ids
    (tmp_path / "customers.csv").write_text(
        "KundenNr,customer_id,acquired_at\nK1,internal-77,2025-01-02\n"
        "K2,internal-78,2025-01-03\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,KundenNr,ordered_at,amount\nO1,K1,2025-02-01,10\n")
    mapping = {"tables": {"customers": {"columns": {"customer_id": "KundenNr"}},
                          "orders": {"columns": {"customer_id": "KundenNr"}}}}
    data = ll.load(tmp_path, mapping=mapping, as_of="2025-12-31", pseudonymize=True,
                   salt="s")
    assert data.customers.columns == ["customer_id", "acquired_at"]
    text = str(data.report) + data.customers.write_csv()
    assert "internal-77" not in text
    assert data.customers["customer_id"].to_list() == [hash_id("K1", "s"), hash_id("K2", "s")]
    assert any("a second identifier column" in w
               for w in data.report.tables["customers"].warnings)
