"""Mapping files: parsing, and the draft written by `loyaltylab init-mapping`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import loyaltylab as ll
from loyaltylab.data.mapping import draft_mapping, read_mapping
from loyaltylab.data.validation import normalize_name

EURO = Path(__file__).parent / "fixtures" / "euro_shop"


def test_fixture_mapping_parses():
    m = read_mapping(EURO / "mapping.toml")
    orders = m.table("orders")
    assert orders.source == ["Bestellungen.csv"]
    assert orders.columns["amount"] == "Betrag (EUR)"
    assert orders.formats["ordered_at"].timezone == "Europe/Berlin"
    assert m.defaults.decimal == "," and m.defaults.dayfirst is True
    assert m.table("contacts").values["direction"] == {"Eingehend": "inbound",
                                                       "Ausgehend": "outbound"}
    assert m.table("customers").encoding == "cp1252"


def test_draft_matches_files_columns_and_formats():
    text = draft_mapping(EURO)
    m = read_mapping(tomllib.loads(text))
    assert m.table("customers").source == ["Kunden.csv"]
    assert m.table("orders").source == ["Bestellungen.csv"]
    assert m.table("contacts").source == ["Kontakte.csv"]
    assert m.table("orders").columns == {
        "order_id": "BestellNr", "customer_id": "KundenNr", "ordered_at": "Bestelldatum",
        "amount": "Betrag (EUR)", "product_line": "Sparte"}
    assert m.table("contacts").columns["contacted_at"] == "Zeitpunkt"
    assert m.table("orders").delimiter == ";"
    assert m.table("orders").table_format.decimal == ","
    assert m.table("orders").table_format.date_format == "%d.%m.%Y %H:%M"
    assert m.table("customers").encoding == "cp1252"
    assert m.table("contacts").values["direction"] == {"Ausgehend": "outbound",
                                                       "Eingehend": "inbound"}
    # guesses are flagged for the user, personal columns are announced
    assert "CHECK" in text
    assert ('# "Name": personal data (names), dropped on load; keep_personal to keep\n'
            '# "E-Mail": personal data (e-mail addresses), dropped on load; keep_personal '
            'to keep\n') in text
    assert '# "Unbekannt" = "inbound" or "outbound"?' in text


def test_draft_loads_like_the_hand_written_mapping(tmp_path):
    draft = tmp_path / "draft.toml"
    draft.write_text(draft_mapping(EURO), encoding="utf-8")
    by_draft = ll.load(EURO, mapping=draft, as_of="2025-12-31").report.to_dict()
    by_hand = ll.load(EURO, mapping=EURO / "mapping.toml", as_of="2025-12-31").report.to_dict()
    assert by_draft == by_hand


def test_draft_for_canonical_files_needs_no_checks():
    text = draft_mapping(EURO.parent / "clean")
    m = read_mapping(tomllib.loads(text))
    assert m.table("orders").columns["amount"] == "amount"
    orders_block = text.split("[tables.orders.columns]")[1].split("[tables.")[0]
    assert "CHECK" not in orders_block


def test_draft_reports_a_missing_required_table(tmp_path):
    (tmp_path / "stuff.csv").write_text("x,y\n1,2\n")
    text = draft_mapping(tmp_path)
    assert "REQUIRED table 'customers' not found" in text
    assert "Not matched to any table (ignored unless you map them): ['stuff.csv']" in text


# ------------------------------------------------------------------ strict types

import pytest  # noqa: E402

from loyaltylab.cli import main  # noqa: E402
from loyaltylab.exceptions import MappingError  # noqa: E402

CLEAN = EURO.parent / "clean"


@pytest.mark.parametrize("mapping, message", [
    ({"tables": {"contacts": {"skip": "false"}}},
     r"^mapping: \[tables\.contacts\] skip must be true or false, got the string 'false' "
     r"\(write true or false without quotes\)$"),
    ({"tables": {"contacts": {"skip": 1}}}, r"skip must be true or false, got the integer 1"),
    ({"tables": {"orders": {"delimiter": 5}}},
     r"\[tables\.orders\] delimiter must be one character, got the integer 5$"),
    ({"tables": {"orders": {"delimiter": ";;"}}}, r"delimiter must be one character, got "
                                                  r"the string ';;'"),
    ({"defaults": {"delimiter": "\\t"}}, r"\[defaults\] delimiter must be one character, "
                                         r"got .*write \"\\t\" in double quotes for a tab"),
    ({"defaults": {"delimiter": ""}}, r"delimiter must be one character, got an empty "
                                      r"string"),
    ({"tables": {"orders": {"encoding": "utf9"}}},
     r"\[tables\.orders\] encoding must be a text encoding such as 'utf-8'.*got the "
     r"string 'utf9'"),
    ({"defaults": {"encoding": "rot13"}}, r"encoding must be a text encoding"),
    ({"defaults": {"encoding": 8}}, r"encoding must be a text encoding.*the integer 8"),
    ({"tables": {"orders": {"quote": "''"}}},
     r"quote must be one character, or \"\" for no quoting, got the string \"''\""),
    ({"tables": {"orders": {"header_row": -1}}},
     r"\[tables\.orders\] header_row must be a whole number, 0 or more .*got the integer "
     r"-1 \(the first line is 0\)"),
    ({"defaults": {"header_row": True}}, r"header_row must be a whole number.*got the "
                                         r"boolean true"),
    ({"defaults": {"header_row": 1.0}}, r"header_row must be .*got the number 1\.0"),
    ({"defaults": {"header_row": "2"}}, r"header_row must be .*got the string '2'"),
    ({"tables": {"orders": {"source": 5}}},
     r"\[tables\.orders\] source must be a string or a list of strings, got the integer 5"),
    ({"tables": {"orders": {"source": []}}}, r"source must be .*got an empty list"),
    ({"tables": {"orders": {"source": ["a.csv", 3]}}},
     r"source must be .*got the list \['a\.csv', 3\]"),
    ({"tables": {"orders": {"sheet": {"a": 1}}}},
     r"sheet must be a string or a list of strings, got a table with the keys \['a'\]"),
    ({"tables": {"orders": {"columns": "Betrag"}}},
     r"\[tables\.orders\] columns must be a table .*got the string 'Betrag'"),
    ({"tables": {"orders": {"columns": {"amount": 5}}}},
     r"\[tables\.orders\.columns\] amount must be the client column name as a string, got "
     r"the integer 5"),
    ({"tables": {"orders": {"columns": {"amount": " "}}}},
     r"\[tables\.orders\.columns\] amount must be the client column name"),
    ({"tables": {"orders": {"formats": {"ordered_at": "%d.%m.%Y"}}}},
     r"\[tables\.orders\.formats\] ordered_at must be a table"),
    ({"tables": {"orders": {"formats": {"ordered_at": {"dayfirst": "yes"}}}}},
     r"\[tables\.orders\.formats\.ordered_at\] dayfirst must be true or false, got the "
     r"string 'yes'"),
    ({"tables": {"orders": {"formats": {"ordered_at": {"date_fromat": "%d"}}}}},
     r"unknown setting 'date_fromat' in \[tables\.orders\.formats\.ordered_at\].*Did you "
     r"mean 'date_format'\?"),
    ({"tables": {"contacts": {"values": {"direction": "inbound"}}}},
     r"\[tables\.contacts\.values\] direction must be a table"),
    ({"tables": {"contacts": {"values": {"direction": {"Ein": 1}}}}},
     r"\[tables\.contacts\.values\.direction\] 'Ein' must be a string \(the canonical "
     r"value\), got the integer 1"),
    ({"tables": {"contacts": {"values": {"direction": {"Ein": True}}}}},
     r"'Ein' must be a string .*got the boolean true"),
    ({"defaults": {"decimal": ";"}}, r"\[defaults\] decimal must be \".\" or \",\", got "
                                     r"the string ';'"),
    ({"defaults": {"thousands": "x"}}, r"\[defaults\] thousands must be .*got the string "
                                       r"'x'"),
    ({"defaults": {"decimal": ",", "thousands": ","}},
     r"\[defaults\] decimal and thousands are both ','; they must differ"),
    ({"defaults": {"date_format": 5}},
     r"date_format must be a string or a list of strings .*got the integer 5"),
    ({"defaults": {"date_format": []}}, r"date_format must be .*got an empty list"),
    ({"tables": {"orders": {"dayfirst": 0}}}, r"\[tables\.orders\] dayfirst must be true "
                                              r"or false, got the integer 0"),
    ({"defaults": {"timezone": 1}}, r"timezone must be an IANA time zone .*the integer 1"),
    ({"defaults": ["x"]}, r"\[defaults\] must be a table of settings, got the list"),
    ({"defaults": {"date_format": __import__("datetime").date(2025, 1, 31)}},
     r"date_format must be .*got the date 2025-01-31$"),
    ({"tables": {"orders": {"columns": {"amount": ["Total", "Summe"]}}}},
     r"amount must be the client column name as a string, got the list \['Total', "
     r"'Summe'\] \(to take the first non-empty of several columns, derive it"),
    ({"tables": {"contacts": {"values": {"direction": {1: "inbound"}}}}},
     r"\[tables\.contacts\.values\.direction\] keys must be client values as strings, "
     r"got the integer 1"),
    ({"tables": 3}, r"\[tables\] must hold one \[tables\.<table>\] section per table, got "
                    r"the integer 3"),
    ({"tables": {"orders": 5}}, r"\[tables\.orders\] must be a table of settings, got the "
                                r"integer 5"),
])
def test_every_value_is_type_checked(mapping, message):
    with pytest.raises(MappingError, match=message):
        read_mapping(mapping)


def test_good_values_of_every_type_parse():
    m = read_mapping({
        "defaults": {"delimiter": "\t", "encoding": "latin-1", "quote": "", "header_row": 0,
                     "thousands": " ", "date_format": ["%d.%m.%Y", "excel"]},
        "tables": {"orders": {"source": ["a.csv", "b.csv"], "quote": "'", "header_row": 2,
                              "skip": False, "thousands": ""},
                   "contacts": {"skip": True, "sheet": "Kontakte"}}})
    assert m.delimiter == "\t" and m.encoding == "latin-1" and m.header_row == 0
    assert m.read_options("orders") == {"delimiter": "\t", "encoding": "latin-1",
                                        "quote": "'", "header_row": 2}
    # "" = no quoting, passed on as None; an unmapped table takes the defaults
    assert m.read_options("surveys")["quote"] is None
    assert read_mapping({}).read_options("orders")["quote"] == '"'
    assert m.table("contacts").skip and m.table("contacts").source == ["Kontakte"]
    assert m.defaults.date_format == ["%d.%m.%Y", "excel"]


@pytest.mark.parametrize("table", ["customers", "orders"])
def test_required_tables_cannot_be_skipped(table):
    with pytest.raises(MappingError, match=rf"\[tables\.{table}\] skip = true, but the "
                       rf"{table} table is required .*remove the skip line"):
        read_mapping({"tables": {table: {"skip": True}}})
    assert not read_mapping({"tables": {table: {"skip": False}}}).table(table).skip


def test_type_errors_name_the_mapping_file(tmp_path):
    p = tmp_path / "client.toml"
    p.write_text('[tables.contacts]\nskip = "false"\n', encoding="utf-8")
    with pytest.raises(MappingError, match=r"^client\.toml: \[tables\.contacts\] skip must "
                       r"be true or false, got the string 'false'"):
        read_mapping(p)


def test_control_characters_are_never_echoed_raw():
    for mapping in ({"tables": {"orders": {"sou\x1brce": "x"}}},
                    {"tables": {"ord\rers": {}}},
                    {"tables": {"orders": {"columns": {"amo\u202eunt": "x"}}}},
                    {"tables": {"orders": {"delimiter": "\x07\x07"}}},
                    {"tables": {"contacts": {"values": {"direction": {"E\x1b[31m": 1}}}}}):
        with pytest.raises(MappingError) as exc:
            read_mapping(mapping)
        text = str(exc.value)
        assert not any(ch in text for ch in "\x1b\r\x07\u202e"), text
        assert "\\x1b" in text or "\\r" in text or "\\u202e" in text or "\\x07" in text


def test_validate_exits_2_with_one_line_per_mapping_error(tmp_path, capsys):
    cases = {
        'skip = "false"': "[tables.contacts] skip must be true or false, got the string "
                          "'false'",
        "delimiter = 5": "[tables.contacts] delimiter must be one character, got the "
                         "integer 5",
        'encoding = "utf9"': "[tables.contacts] encoding must be a text encoding",
        "header_row = -2": "[tables.contacts] header_row must be a whole number",
        'values = { direction = { Ein = "inbound", EIN = "outbound" } }':
            "[tables.contacts.values.direction] keys 'Ein' and 'EIN' are the same value",
        "quote = 1": "[tables.contacts] quote must be one character",
        'values = { direction = { Ein = 1 } }': "[tables.contacts.values.direction] 'Ein' "
                                                "must be a string",
    }
    for line, expected in cases.items():
        p = tmp_path / "m.toml"
        p.write_text(f"[tables.contacts]\n{line}\n", encoding="utf-8")
        assert main(["validate", str(CLEAN), "--mapping", str(p)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("loyaltylab validate: error: m.toml: ")
        assert expected in err and err.count("\n") == 1 and "Traceback" not in err
    p.write_text("[tables.orders]\nskip = true\n", encoding="utf-8")
    assert main(["validate", str(CLEAN), "--mapping", str(p)]) == 2
    assert "the orders table is required" in capsys.readouterr().err


# ------------------------------------------------------------------ value maps, copies

def _contacts_folder(tmp_path, directions, extra_col="", extra_vals=None):
    (tmp_path / "customers.csv").write_text("customer_id,acquired_at\nC1,2025-01-01\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n1,C1,2025-02-01,3\n")
    head = "customer_id,contacted_at,channel,direction" + (f",{extra_col}" if extra_col
                                                           else "")
    rows = [f"C1,2025-03-{i + 1:02d},phone,{d}" + (f",{extra_vals[i]}" if extra_col else "")
            for i, d in enumerate(directions)]
    (tmp_path / "contacts.csv").write_bytes(("\n".join([head] + rows) + "\n")
                                            .encode("utf-8"))
    return tmp_path


def test_value_maps_ignore_case_and_blanks(tmp_path):
    _contacts_folder(tmp_path, [" eingehend", "EINGEHEND ", "Ausgehend", "ausgehend  ",
                                "Einge\u0301hend"])
    mapping = {"tables": {"contacts": {"values": {"direction": {
        " Eingehend ": "inbound", "ausGEHEND": "outbound"}}}}}
    data = ll.load(tmp_path, mapping=mapping, as_of="2025-12-31")
    tr = data.report.tables["contacts"]
    assert data.contacts["direction"].to_list() == ["inbound", "inbound", "outbound",
                                                    "outbound"]
    # a value the map does not cover is listed with its count (and rejected: direction)
    assert tr.reasons == {"direction: not inbound/outbound": 1}
    assert any(w.startswith("contacts.direction: 1 value not in the value map: "
                            "'Einge\u0301hend' (1); rows with it are rejected; add it under "
                            "[tables.contacts.values.direction]") for w in tr.warnings)


def test_value_map_keys_that_collide_after_folding(tmp_path):
    with pytest.raises(MappingError, match=r"\[tables\.contacts\.values\.direction\] keys "
                       r"'Eingehend' and 'EINGEHEND ' are the same value once blanks and "
                       r"case are ignored .*map to 'inbound' and 'outbound'"):
        read_mapping({"tables": {"contacts": {"values": {"direction": {
            "Eingehend": "inbound", "EINGEHEND ": "outbound"}}}}})
    # the same target twice is harmless
    m = read_mapping({"tables": {"contacts": {"values": {"direction": {
        "Eingehend": "inbound", "eingehend": "inbound"}}}}})
    assert m.table("contacts").values["direction"] == {"Eingehend": "inbound"}


def test_values_not_in_the_value_map_are_counted(tmp_path):
    segs = ["Gold"] * 3 + ["Silber"] * 2 + ["Bronze", "gold", "", "NULL", "max@example.com",
                                            "Tel\x1b[2J"]
    (tmp_path / "customers.csv").write_bytes(
        ("customer_id,acquired_at,Gruppe\n" + "".join(
            f"C{i},2025-01-01,{s}\n" for i, s in enumerate(segs))).encode())
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n1,C1,2025-02-01,3\n")
    data = ll.load(tmp_path, as_of="2025-12-31", mapping={"tables": {"customers": {
        "columns": {"segment": "Gruppe"}, "values": {"segment": {"GOLD": "gold",
                                                                 "Blei": ""}}}}})
    seg = data.customers["segment"].to_list()
    assert seg[:3] == ["gold"] * 3 and seg[6] == "gold" and seg[3] == "Silber"
    warning = next(w for w in data.report.tables["customers"].warnings
                   if "value map" in w)
    assert re.match(r"customers\.segment: [34] values not in the value map: 'Silber' "
                    r"\(2\), 'Bronze' \(1\), ", warning)
    # 'gold' is already the canonical value; blanks, null tokens and masked personal
    # values are not categories; a personal value is never shown
    assert "'gold'" not in warning and "NULL" not in warning
    assert "max@example.com" not in warning and "(personal data removed)" not in warning
    assert "\x1b" not in warning
    assert "'Tel\\x1b[2J' (1)" in warning
    assert warning.endswith("; they are kept as read; add them under "
                            "[tables.customers.values.segment]")


def test_value_map_to_empty_means_missing(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "customer_id,acquired_at,segment\nC1,2025-01-01,unbekannt\nC2,2025-01-01,A\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n1,C1,2025-02-01,3\n")
    data = ll.load(tmp_path, as_of="2025-12-31", mapping={"tables": {"customers": {
        "values": {"segment": {"Unbekannt": "", "a": "A"}}}}})
    assert data.customers["segment"].to_list() == [None, "A"]
    assert not any("value map" in w for w in data.report.tables["customers"].warnings)


def test_value_map_on_numbers_read_from_a_workbook(tmp_path):
    import polars as pl
    path = tmp_path / "crm.xlsx"
    with __import__("xlsxwriter").Workbook(path) as wb:
        for name, frame in {
            "customers": pl.DataFrame({"customer_id": ["C1"], "acquired_at": ["2025-01-01"]}),
            "orders": pl.DataFrame({"order_id": ["1"], "customer_id": ["C1"],
                                    "ordered_at": ["2025-02-01"], "amount": [3.0]}),
            "contacts": pl.DataFrame({"customer_id": ["C1"] * 3,
                                      "contacted_at": ["2025-03-01"] * 3,
                                      "channel": ["phone"] * 3,
                                      "direction": [1.0, 2.0, 3.0]})}.items():
            frame.write_excel(wb, worksheet=name)
    data = ll.load(path, as_of="2025-12-31", mapping={"tables": {"contacts": {"values": {
        "direction": {"1": "inbound", "2": "outbound"}}}}})
    assert data.contacts["direction"].to_list() == ["inbound", "outbound"]
    assert any("contacts.direction: 1 value not in the value map: '3' (1); rows with it "
               "are rejected" in w
               for w in data.report.tables["contacts"].warnings)


def test_one_client_column_feeds_two_canonical_columns(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "KundenNr,Seit,Kundengruppe,kind\nC1,2025-01-01,Handel,x\nC2,2025-01-02,Privat,y\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n1,C1,2025-02-01,3\n")
    data = ll.load(tmp_path, as_of="2025-12-31", mapping={"tables": {"customers": {
        "columns": {"customer_id": "KundenNr", "acquired_at": "Seit",
                    "segment": "Kundengruppe", "kind": "Kundengruppe"},
        "values": {"kind": {"handel": "distributor", "privat": "consumer"}}}}})
    c = data.customers
    assert c["segment"].to_list() == ["Handel", "Privat"]
    assert c["kind"].to_list() == ["distributor", "consumer"]
    # the client's own "kind" column, shadowed by the mapped one, is kept under a new name
    assert c["kind_client"].to_list() == ["x", "y"]


def test_mapped_column_matching_two_client_columns_is_an_error(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "customer_id,acquired_at,Betrag,BETRAG\nC1,2025-01-01,1,2\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n1,C1,2025-02-01,3\n")
    with pytest.raises(MappingError, match=r"acquisition_cost = 'betrag', but customers\.csv "
                       r"has several columns of that name .*: 'Betrag', 'BETRAG'; write "
                       r"the exact one"):
        ll.load(tmp_path, mapping={"tables": {"customers": {"columns": {
            "acquisition_cost": "betrag"}}}})


def test_unknown_client_column_with_control_characters_is_escaped(tmp_path):
    (tmp_path / "customers.csv").write_bytes(
        b"customer_id,acquired_at,Betr\x1b[31mag\nC1,2025-01-01,1\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n1,C1,2025-02-01,3\n")
    with pytest.raises(MappingError) as exc:
        ll.load(tmp_path, mapping={"tables": {"customers": {"columns": {
            "acquisition_cost": "Betrag"}}}})
    assert "\x1b" not in str(exc.value) and "'Betr\\x1b[31mag'" in str(exc.value)


def test_personal_values_are_never_shown_in_value_map_warnings():
    from loyaltylab.data.load import _show_value
    assert _show_value("Telefon") == "'Telefon'"
    for v in ("ann@example.org", "+49 30 1234567", "DE89 3704 0044 0532 0130 00"):
        assert _show_value(v) == "<a personal value, not shown>"
    assert _show_value("a\rb") == "'a\\rb'"


# ------------------------------------------------------------------ init-mapping drafts

SHOP_CUSTOMERS = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Total Spent,"
    "Total Orders,Tags,Phone\n"
    "5501,Anna,Berg,anna@example.org,yes,120.50,2,vip,+49 30 1234567\n"
    "5502,Ben,Cole,ben@example.org,no,35.00,1,,+49 40 7654321\n"
    "5503,Cara,Diaz,cara@example.org,yes,0.00,0,new,+49 221 555555\n")
SHOP_ORDERS = (
    "Name,Email,Financial Status,Paid at,Total,Subtotal,Order Date,Device ID,Customer ID,"
    "Billing Name\n"
    "#1001,anna@example.org,paid,2025-01-03,80.50,75.00,2025-01-03,77,5501,Anna Berg\n"
    "#1002,anna@example.org,paid,2025-02-03,40.00,40.00,2025-02-03,77,5501,Anna Berg\n"
    "#1003,ben@example.org,paid,2025-01-10,35.00,35.00,2025-01-10,78,5502,Ben Cole\n")


def _columns_block(text: str, table: str) -> str:
    return text.split(f"[tables.{table}.columns]")[1].split("\n\n")[0]


def test_draft_of_a_shop_export_guesses_no_column_from_a_personal_or_unfit_one(tmp_path):
    (tmp_path / "customers.csv").write_text(SHOP_CUSTOMERS)
    (tmp_path / "orders.csv").write_text(SHOP_ORDERS)
    text = draft_mapping(tmp_path)
    m = read_mapping(tomllib.loads(text))
    # no acquisition date from a first-name column, no order id from a device id
    assert "acquired_at" not in m.table("customers").columns
    assert "order_id" not in m.table("orders").columns
    assert m.table("orders").columns == {"customer_id": "Customer ID",
                                         "ordered_at": "Order Date", "amount": "Total"}
    block = _columns_block(text, "customers")
    assert '# "First Name": personal data (names), dropped on load; keep_personal to keep' \
        in block
    assert '# "Email": personal data (e-mail addresses), dropped on load' in block
    assert '# "Phone": personal data (phone numbers), dropped on load' in block
    # personal columns are never proposed for any canonical column
    for table in ("customers", "orders"):
        assert not set(m.table(table).columns.values()) & {
            "First Name", "Last Name", "Email", "Phone", "Name", "Billing Name"}


def test_draft_checks_content_before_proposing_a_column(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "Kundennummer;First seen;Anlagedatum\n"
        "1;Anna;01.02.2025\n2;Ben;03.02.2025\n3;Cara;04.02.2025\n")
    (tmp_path / "orders.csv").write_text(
        "order_id;customer_id;Datum;Betrag;Wert\n"
        "7;1;03.02.2025;n/a;12,50\n8;2;04.02.2025;offen;3,10\n9;1;kein Datum;-;9,99\n")
    text = draft_mapping(tmp_path)
    m = read_mapping(tomllib.loads(text))
    # "First seen" is like acquired_at by name, but holds names, not dates
    assert m.table("customers").columns["acquired_at"] == "Anlagedatum"
    # "Betrag" holds text, so the amount is "Wert"; "Datum" reads as dates mostly (2 of 3
    # are dates: below 80 %) and is left for the user, with the reason
    assert m.table("orders").columns["amount"] == "Wert"
    assert "ordered_at" not in m.table("orders").columns
    assert ("# ordered_at = \"<client column>\"  # required: When the order was placed.; not "
            "'Datum' looks like it by name, but only 67% of the sample reads as dates") in text


def test_draft_key_columns_must_be_mostly_distinct(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "Kundennummer,Anlagedatum\n1,2025-01-01\n2,2025-01-02\n3,2025-01-03\n4,2025-01-04\n")
    (tmp_path / "orders.csv").write_text(
        "Order No,Kundennummer,Bestelldatum,Betrag\n" + "".join(
            f"A,{i % 4 + 1},2025-02-01,1.5\n" for i in range(6)))
    text = draft_mapping(tmp_path)
    m = read_mapping(tomllib.loads(text))
    assert "order_id" not in m.table("orders").columns
    assert "'Order No' looks like it by name, but only 17% of the sample's values are " \
        "distinct" in text


@pytest.mark.parametrize("files", [
    {"Clients.csv": "Numéro client;Date de création\nC1;01/02/2025\n",
     "Commandes.csv": "N° de commande;Numéro client;Date de commande;Montant TTC\n"
                      "F1;C1;03/02/2025;12,50\n"},
    {"Kunder.csv": "Kundnummer;Kund sedan\nC1;2025-02-01\n",
     "Ordrar.csv": "Ordernummer;Kundnummer;Orderdatum;Belopp\nF1;C1;2025-02-03;12,50\n"},
    {"Kunder.csv": "Kundenummer;Oprettet\nC1;01-02-2025\n",
     "Ordrer.csv": "Ordrenummer;Kundenummer;Ordredato;Beløb\nF1;C1;03-02-2025;12,50\n"},
    {"Kunder.csv": "Kundenr;Opprettet\nC1;01.02.2025\n",
     "Ordrer.csv": "Ordrenr;Kundenr;Dato;Beløp\nF1;C1;03.02.2025;12,50\n"},
    {"Klanten.csv": "Klantnummer;Klant sinds\nC1;01-02-2025\n",
     "Bestellingen.csv": "Ordernummer;Klantnummer;Orderdatum;Bedrag\nF1;C1;03-02-2025;12,50\n"},
    {"Clientes.csv": "Número de cliente;Fecha de alta\nC1;01/02/2025\n",
     "Pedidos.csv": "Número de pedido;Número de cliente;Fecha;Importe\nF1;C1;03/02/2025;12,50\n"},
    {"Clienti.csv": "Codice cliente;Data registrazione\nC1;01/02/2025\n",
     "Ordini.csv": "Numero ordine;Codice cliente;Data ordine;Importo\nF1;C1;03/02/2025;12,50\n"},
    {"Clientes.csv": "Nº cliente;Data de cadastro\nC1;01/02/2025\n",
     "Encomendas.csv": "Nº encomenda;Nº cliente;Data da encomenda;Valor\n"
                       "F1;C1;03/02/2025;12,50\n"},
    {"Klienci.csv": "Numer klienta;Data rejestracji\nC1;01.02.2025\n",
     "Zamówienia.csv": "Numer zamówienia;Numer klienta;Data zamówienia;Kwota\n"
                       "F1;C1;03.02.2025;12,50\n"},
], ids=["fr", "sv", "da", "no", "nl", "es", "it", "pt", "pl"])
def test_draft_understands_european_exports(tmp_path, files):
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    customers_file, orders_file = files
    cust_head = files[customers_file].splitlines()[0].split(";")
    order_head = files[orders_file].splitlines()[0].split(";")
    text = draft_mapping(tmp_path)
    m = read_mapping(tomllib.loads(text))
    assert m.table("customers").source == [customers_file]
    assert m.table("orders").source == [orders_file]
    assert m.table("customers").columns == {"customer_id": cust_head[0],
                                            "acquired_at": cust_head[1]}
    assert m.table("orders").columns == {
        "order_id": order_head[0], "customer_id": order_head[1],
        "ordered_at": order_head[2], "amount": order_head[3]}
    data = ll.load(tmp_path, mapping=tomllib.loads(text), as_of="2025-12-31")
    assert data.orders["amount"].to_list() == [12.5]
    assert data.orders["ordered_at"].dt.strftime("%Y-%m-%d").to_list() == ["2025-02-03"]


def test_fold_name_removes_accents_and_spells_out_letters():
    from loyaltylab.data.mapping import _fold_name, _similarity
    assert _fold_name("Zamówienia") == "zamowienia"
    assert _fold_name("Beløb") == "belob" and _fold_name("Łódź") == "lodz"
    assert _similarity("Bestelldatum", ("ordered_at", "bestelldatum")) == 0.95
    assert _similarity("Aufträge", ("orders", "auftraege")) == 0.95
    # an identifier of something else is not the order id
    assert _similarity("Device ID", ("order_id", "order_no")) == 0.0
    assert _similarity("Id", ("order_id", "id")) == 0.95


def test_draft_writes_the_header_row_of_a_file_with_a_title(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "Kundenliste Export vom 03.03.2025\n\nKundennummer;Anlagedatum\n"
        "1;01.02.2025\n2;03.02.2025\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n7,1,2025-02-03,1.5\n")
    text = draft_mapping(tmp_path)
    assert "header_row = 2  # the header is on line 3" in text
    m = read_mapping(tomllib.loads(text))
    assert m.table("customers").header_row == 2 and m.table("orders").header_row is None
    data = ll.load(tmp_path, mapping=tomllib.loads(text), as_of="2025-12-31")
    assert data.customers["customer_id"].to_list() == ["1", "2"]


def test_draft_escapes_control_characters_in_headers(tmp_path):
    (tmp_path / "customers.csv").write_bytes(
        b"customer_id,acquired_at,Seg\x1b[31mment\x7f\n1,2025-01-01,A\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n7,1,2025-02-03,1.5\n")
    text = draft_mapping(tmp_path)
    assert "\x1b" not in text and "\x7f" not in text
    m = read_mapping(tomllib.loads(text))  # still valid TOML
    assert m.table("customers").columns["segment"] == "Seg\x1b[31mment\x7f"
    data = ll.load(tmp_path, mapping=tomllib.loads(text), as_of="2025-12-31")
    assert data.customers["segment"].to_list() == ["A"]


def test_draft_marks_columns_personal_by_content(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "customer_id,acquired_at,Kontakt\n1,2025-01-01,ann@example.org\n"
        "2,2025-01-02,bo@example.org\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n7,1,2025-02-03,1.5\n")
    text = draft_mapping(tmp_path)
    assert ('# "Kontakt": personal data (e-mail addresses found in the values), dropped '
            'on load') in text


def test_direction_words_in_several_languages():
    from loyaltylab.data.mapping import _direction_guess
    for word in ("Eingehend", "entrant", "Entrante", "Inkommande", "Indgående",
                 "Inkomend", "In arrivo", "Przychodzące", "inbound"):
        assert _direction_guess(word) == "inbound", word
    for word in ("Ausgehend", "sortant", "Saliente", "Utgående", "Udgående", "Uitgaand",
                 "In uscita", "Wychodzące", "outbound"):
        assert _direction_guess(word) == "outbound", word
    assert _direction_guess("Unbekannt") is None


# ------------------------------------------------------------------ header_row, sheet

ORDERS_CSV = "order_id,customer_id,ordered_at,amount\n7,1,2025-02-03,1.5\n"


def test_header_row_of_a_csv_file(tmp_path):
    (tmp_path / "customers.csv").write_bytes(
        b"Report: customers\r\nExported 2025-03-03;by;admin\r\nKundennummer;Anlagedatum\r\n"
        b"1;01.02.2025\r\n2;03.02.2025\r\n")
    (tmp_path / "orders.csv").write_text(ORDERS_CSV)
    mapping = {"tables": {"customers": {"header_row": 2, "columns": {
        "customer_id": "Kundennummer", "acquired_at": "Anlagedatum"}}}}
    data = ll.load(tmp_path, mapping=mapping, as_of="2025-12-31")
    assert data.customers["customer_id"].to_list() == ["1", "2"]
    assert data.report.tables["customers"].read == 2
    # [defaults] header_row applies to every file without its own
    (tmp_path / "orders.csv").write_text("Orders\n\n" + ORDERS_CSV)
    mapping["defaults"] = {"header_row": 2}
    del mapping["tables"]["customers"]["header_row"]
    data = ll.load(tmp_path, mapping=mapping, as_of="2025-12-31")
    assert data.orders["order_id"].to_list() == ["7"]
    assert data.customers["customer_id"].to_list() == ["1", "2"]


def _workbook(path, sheets: dict[str, list[list]]):
    import openpyxl
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)


def test_header_row_of_a_sheet(tmp_path):
    import datetime as dt
    path = tmp_path / "crm.xlsx"
    _workbook(path, {
        "Kunden": [["Kundenliste"], ["Stand: 03.03.2025"], [],
                   ["Kundennummer", "Anlagedatum"],
                   ["K1", dt.datetime(2025, 2, 1)], ["K2", dt.datetime(2025, 2, 3)]],
        "orders": [["order_id", "customer_id", "ordered_at", "amount"],
                   ["7", "K1", dt.datetime(2025, 2, 3), 1.5]]})
    data = ll.load(path, as_of="2025-12-31", mapping={"tables": {"customers": {
        "source": "Kunden", "header_row": 3,
        "columns": {"customer_id": "Kundennummer", "acquired_at": "Anlagedatum"}}}})
    assert data.customers["customer_id"].to_list() == ["K1", "K2"]
    # the draft finds the header row of the sheet and writes it
    text = draft_mapping(path)
    m = read_mapping(tomllib.loads(text))
    assert m.table("customers").header_row == 3
    assert m.table("customers").columns == {"customer_id": "Kundennummer",
                                            "acquired_at": "Anlagedatum"}


def test_sheet_of_a_workbook_in_a_folder(tmp_path):
    import datetime as dt
    _workbook(tmp_path / "shop.xlsx", {
        "Info": [["nothing here"]],
        "Kunden": [["customer_id", "acquired_at"], ["K1", dt.datetime(2025, 2, 1)]]})
    (tmp_path / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n"
                                         "7,K1,2025-02-03,1.5\n")
    data = ll.load(tmp_path, as_of="2025-12-31", mapping={"tables": {"customers": {
        "source": "shop.xlsx", "sheet": "Kunden"}}})
    assert data.customers["customer_id"].to_list() == ["K1"]
    with pytest.raises(MappingError, match=r"\[tables\.orders\] sheet = \['Orders'\], but "
                       r"'orders\.csv' is not an Excel workbook; remove the sheet line"):
        ll.load(tmp_path, mapping={"tables": {
            "customers": {"source": "shop.xlsx", "sheet": "Kunden"},
            "orders": {"source": "orders.csv", "sheet": "Orders"}}})


def test_source_and_sheet_in_a_workbook_is_an_error(tmp_path):
    import datetime as dt
    path = tmp_path / "crm.xlsx"
    _workbook(path, {"customers": [["customer_id", "acquired_at"],
                                   ["K1", dt.datetime(2025, 2, 1)]],
                     "orders": [["order_id", "customer_id", "ordered_at", "amount"],
                                ["7", "K1", dt.datetime(2025, 2, 3), 1.5]]})
    with pytest.raises(MappingError, match=r"\[tables\.orders\] has both source and sheet; "
                       r"in a workbook or database, source names the sheet or table"):
        ll.load(path, mapping={"tables": {"orders": {"source": "orders",
                                                     "sheet": "orders"}}})


def test_header_row_of_a_database_table_is_an_error(tmp_path):
    import sqlite3
    path = tmp_path / "crm.sqlite"
    con = sqlite3.connect(path)
    con.execute("create table customers (customer_id text, acquired_at text)")
    con.execute("insert into customers values ('C1', '2025-01-01')")
    con.execute("create table orders (order_id text, customer_id text, ordered_at text, "
                "amount real)")
    con.execute("insert into orders values ('1', 'C1', '2025-02-01', 3.0)")
    con.commit()
    con.close()
    with pytest.raises(MappingError, match=r"\[tables\.orders\] header_row = 1, but the "
                       r"orders table comes from a database table, which has no header "
                       r"row; remove the header_row line"):
        ll.load(path, mapping={"tables": {"orders": {"header_row": 1}}})
    # a default header_row is for the files and sheets, not database tables
    data = ll.load(path, mapping={"defaults": {"header_row": 1}}, as_of="2025-12-31")
    assert data.orders.height == 1


def test_source_hints_quote_client_file_names_safely(tmp_path):
    from loyaltylab.exceptions import MissingTableError
    (tmp_path / "Kunden\x1b.csv").write_text("customer_id,acquired_at\nC1,2025-01-01\n")
    (tmp_path / "orders.csv").write_text(ORDERS_CSV)
    with pytest.raises(MissingTableError) as exc:
        ll.load(tmp_path)
    text = str(exc.value)
    assert "\x1b" not in text and 'source = "Kunden\\u001b.csv"' in text


def test_header_row_of_a_parquet_file_is_an_error(tmp_path):
    import polars as pl
    pl.DataFrame({"customer_id": ["C1"], "acquired_at": ["2025-01-01"]}).write_parquet(
        tmp_path / "customers.parquet")
    (tmp_path / "orders.csv").write_text(ORDERS_CSV.replace(",1,", ",C1,"))
    with pytest.raises(MappingError, match=r"\[tables\.customers\] header_row = 0, but "
                       r"'customers\.parquet' is a Parquet file, which has no header row"):
        ll.load(tmp_path, mapping={"tables": {"customers": {"header_row": 0}}})
    data = ll.load(tmp_path, mapping={"defaults": {"header_row": 0}}, as_of="2025-12-31")
    assert data.customers.height == 1 and data.orders.height == 1


def test_quote_settings_reach_the_reader(tmp_path):
    (tmp_path / "customers.csv").write_text(
        'customer_id,acquired_at,segment\nC1,2025-01-01,"Gold\nC2,2025-01-01,B\n')
    (tmp_path / "orders.csv").write_text(ORDERS_CSV.replace(",1,", ",C1,"))
    # no quoting: a stray quote is an ordinary character
    data = ll.load(tmp_path, mapping={"defaults": {"quote": ""}}, as_of="2025-12-31")
    assert data.customers["segment"].to_list()[0] == '"Gold'
    # a table's own quote character wins over the default
    (tmp_path / "customers.csv").write_text(
        "customer_id,acquired_at,segment\nC1,2025-01-01,'A,B'\n")
    data = ll.load(tmp_path, as_of="2025-12-31", mapping={
        "defaults": {"quote": ""}, "tables": {"customers": {"quote": "'"}}})
    assert data.customers["segment"].to_list() == ["A,B"]


def test_draft_prefers_a_whole_word_match_and_reads_swiss_numbers(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "Customer No;Customer since;Sales region;Segment code\n"
        "1;2025-01-01;North;1001\n2;2025-01-02;South;1002\n3;2025-01-03;North;1003\n")
    (tmp_path / "orders.csv").write_text(
        "Order No;Customer No;Order date;Order total\n"
        "A1;1;2025-02-01;12'271.50\nA2;2;2025-02-02;2'344.00\nA3;3;2025-02-03;9.95\n")
    text = draft_mapping(tmp_path)
    m = read_mapping(tomllib.loads(text))
    # "Sales region" holds the word region: not the account manager ("sales rep")
    assert m.table("customers").columns == {"customer_id": "Customer No",
                                            "acquired_at": "Customer since",
                                            "region": "Sales region"}
    # mostly distinct numbers are not a segment
    assert "not 'Segment code' looks like it by name, but it holds mostly distinct " \
        "numbers, not categories" in text
    # the loader reads apostrophe grouping by itself, so the draft need not name it
    assert m.table("orders").table_format.thousands in (None, "'")
    data = ll.load(tmp_path, mapping=tomllib.loads(text), as_of="2025-12-31")
    assert data.orders["amount"].to_list() == [12271.5, 2344.0, 9.95]


def test_draft_takes_whole_numbers_from_excel_as_keys(tmp_path):
    import datetime as dt
    path = tmp_path / "crm.xlsx"
    _workbook(path, {
        "Klanten": [["Klantnummer", "Klant sinds"], [101, dt.datetime(2025, 1, 1)],
                    [102, dt.datetime(2025, 1, 2)]],
        "Bestellingen": [["Bestelnummer", "Klantnummer", "Besteldatum", "Bedrag"],
                         [5001, 101, dt.datetime(2025, 2, 1), 12.5],
                         [5002, 102, dt.datetime(2025, 2, 2), 3.0]]})
    m = read_mapping(tomllib.loads(draft_mapping(path)))
    assert m.table("customers").columns == {"customer_id": "Klantnummer",
                                            "acquired_at": "Klant sinds"}
    assert m.table("orders").columns["order_id"] == "Bestelnummer"


@pytest.mark.parametrize("seed, fmt", [(1, "xlsx"), (7, "csv"), (21, "csv"), (5, "duckdb"),
                                       (3, "parquet")])
def test_draft_of_a_generated_client_export_loads_the_truth(tmp_path, seed, fmt):
    """The draft alone (no hand edits) loads a generated client export faithfully: the
    rows and revenue of the truth, columns as the hand-written mapping maps them."""
    from loyaltylab.datasets._exports import make_client_export
    ex = make_client_export(tmp_path / "export", seed=seed, fmt=fmt)
    text = draft_mapping(ex.path)
    m = read_mapping(tomllib.loads(text))
    hand = (ex.mapping or {}).get("tables", {})
    for table, truth in ex.truth.items():
        want = hand.get(table, {}).get("columns", {})
        for canon in truth.columns:
            assert normalize_name(m.table(table).columns.get(canon, canon)) == \
                normalize_name(want.get(canon, canon)), (ex.label, table, canon)
    data = ll.load(ex.path, mapping=tomllib.loads(text), as_of=ex.as_of)
    for table, truth in ex.truth.items():
        assert getattr(data, table).height == truth.height, (ex.label, table)
    assert abs(data.orders["amount"].sum() - ex.truth["orders"]["amount"].sum()) < 0.005


def test_value_map_on_a_categorical_parquet_column(tmp_path):
    import polars as pl
    (tmp_path / "customers.csv").write_text("customer_id,acquired_at\nC1,2025-01-01\n")
    (tmp_path / "orders.csv").write_text(ORDERS_CSV.replace(",1,", ",C1,"))
    pl.DataFrame({"customer_id": ["C1"] * 3, "contacted_at": ["2025-03-01"] * 3,
                  "channel": ["Telefon", "telefon ", "Fax"]}).with_columns(
        pl.col("channel").cast(pl.Categorical)).write_parquet(tmp_path / "contacts.parquet")
    data = ll.load(tmp_path, as_of="2025-12-31", mapping={"tables": {"contacts": {
        "values": {"channel": {"TELEFON": "phone"}}}}})
    assert data.contacts["channel"].to_list() == ["phone", "phone", "Fax"]
    assert any("contacts.channel: 1 value not in the value map: 'Fax' (1); it is kept as "
               "read" in w for w in data.report.tables["contacts"].warnings)


def test_every_word_of_the_rule_vocabulary_is_documented_and_shown_in_notebook_01():
    """Issue 15: the vocabulary is documented in ``loyaltylab/data/mapping.py`` (every key
    and form the parser accepts, every preset) and shown in notebook 01 on one platform
    export, whose revenue is checked against the generator's truth (nbval)."""
    import nbformat

    from loyaltylab.data import _rules_parse as R
    from loyaltylab.data import mapping as M
    from loyaltylab.data.presets import PRESETS

    doc = M.__doc__
    words = (*R.RULE_KEYS, *R._WHERE_OPS, *R._DERIVE_OPS, *R._LINES_KEYS, *R._SPLIT_KEYS,
             *R._WIDE_KEYS, *R._ACQ_KEYS)
    undocumented = [w for w in words
                    if not re.search(rf"``(\[[^`]*\b)?{w}\b|\b{w} = ", doc)]
    assert undocumented == []
    assert [p for p in PRESETS if f'"{p}"' not in doc] == []
    nb = nbformat.read(Path(__file__).parents[1] / "notebooks" / "01-data.ipynb",
                       as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    shown = {c.source: "".join(o.get("text", "") for o in c.outputs) for c in code}
    assert any("make_platform_export(" in s for s in shown)
    loaded = [out for s, out in shown.items() if 'mapping={"preset": ' in s]
    assert loaded and "excluded by rule" in loaded[0]
    rules = [out for out in shown.values() if "[[tables.orders.where]]" in out]
    assert rules and "[tables.orders.derive]" in rules[0]
    checked = [out for s, out in shown.items()
               if s.startswith("# NBVAL_CHECK_OUTPUT") and "the generator's truth" in out]
    assert len(checked) == 1
    kept, truth = re.findall(r"[\d,]+\.\d\d", checked[0])
    assert kept == truth
