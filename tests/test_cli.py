"""The command line: exit codes, JSON shape, rejected-row files, help on every subcommand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loyaltylab.cli import COMMANDS, build_parser, main

FIX = Path(__file__).parent / "fixtures"
EURO = FIX / "euro_shop"


def test_validate_clean_exits_0(capsys):
    assert main(["validate", str(FIX / "clean"), "--as-of", "2025-01-01"]) == 0
    out = capsys.readouterr().out
    assert "orders         read         6  kept         6  rejected       0" in out


def test_validate_json_shape_and_exit_1(capsys):
    code = main(["validate", str(EURO), "--mapping", str(EURO / "mapping.toml"),
                 "--as-of", "2025-12-31", "--json"])
    assert code == 1
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert list(doc) == ["tables"]
    assert doc["tables"]["orders"] == {
        "read": 11, "kept": 4, "rejected": 7,
        "reasons": {"ordered_at: unparseable date": 1, "amount: unparseable number": 1,
                    "ordered_at: after as_of": 1, "amount: negative": 1,
                    "customer_id: unknown customer": 2, "order_id: duplicate": 1}}
    for t in doc["tables"].values():
        assert set(t) == {"read", "kept", "rejected", "reasons"}
        assert t["read"] == t["kept"] + t["rejected"] == t["kept"] + sum(t["reasons"].values())


def test_validate_writes_rejects(tmp_path, capsys):
    code = main(["validate", str(EURO), "--mapping", str(EURO / "mapping.toml"),
                 "--as-of", "2025-12-31", "--rejects", str(tmp_path / "rej")])
    assert code == 1
    import polars as pl
    rej = pl.read_csv(tmp_path / "rej" / "orders_rejects.csv", infer_schema=False)
    assert rej.height == 7 and rej.columns[-2:] == ["_row", "_reason"]
    assert sorted(p.name for p in (tmp_path / "rej").iterdir()) == [
        "contacts_rejects.csv", "customers_rejects.csv", "orders_rejects.csv"]


def test_validate_refunds_flag(tmp_path, capsys):
    (tmp_path / "customers.csv").write_text("customer_id,acquired_at\nC1,2025-01-01\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n1,C1,2025-02-01,-3\n")
    assert main(["validate", str(tmp_path), "--as-of", "2025-12-31"]) == 1
    assert main(["validate", str(tmp_path), "--as-of", "2025-12-31", "--allow-refunds"]) == 0


def test_unusable_input_exits_2_with_a_message(capsys):
    code = main(["validate", str(EURO)])  # no mapping: no customers file
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("loyaltylab validate: error: euro_shop: the required customers "
                          "table is missing")
    assert "Traceback" not in err


def test_bad_as_of_exits_2(capsys):
    assert main(["validate", str(FIX / "clean"), "--as-of", "yesterday"]) == 2
    assert "cannot read 'yesterday' as a date" in capsys.readouterr().err


def test_init_mapping_prints_and_writes(tmp_path, capsys):
    assert main(["init-mapping", str(EURO)]) == 0
    assert "[tables.orders]" in capsys.readouterr().out
    out = tmp_path / "m.toml"
    assert main(["init-mapping", str(EURO), "--out", str(out)]) == 0
    assert out.exists()
    assert main(["init-mapping", str(EURO), "--out", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert main(["validate", str(EURO), "--mapping", str(out), "--as-of", "2025-12-31"]) == 1


def test_every_subcommand_has_help(capsys):
    parser = build_parser()
    names = [register.__name__.removeprefix("add_").replace("_", "-") for register in COMMANDS]
    assert {"validate", "init-mapping"} <= set(names)
    for name in names:
        with pytest.raises(SystemExit) as exc:
            parser.parse_args([name, "--help"])
        assert exc.value.code == 0
        assert f"usage: loyaltylab {name}" in capsys.readouterr().out


def test_entry_point_runs_as_a_process():
    proc = subprocess.run([sys.executable, "-m", "loyaltylab.cli", "validate",
                           str(FIX / "nope")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "no such file or folder" in proc.stderr and "Traceback" not in proc.stderr


def test_init_mapping_of_a_messy_export_validates(tmp_path, capsys):
    src = tmp_path / "export"
    src.mkdir()
    (src / "Kunden.csv").write_bytes(
        "Kundenliste\r\nStand 03.03.2025\r\nKundennummer;Vorname;E-Mail;Kunde seit\r\n"
        "K1;Anna;anna@example.org;01.02.2025\r\nK2;Ben;ben@example.org;03.02.2025\r\n"
        .encode("cp1252"))
    (src / "Commandes.csv").write_text(
        "N° de commande;Numéro client;Date de commande;Montant TTC\n"
        "F1;K1;03/02/2025;12,50\nF2;K2;04/02/2025;1.234,00\n", encoding="utf-8")
    out = tmp_path / "m.toml"
    assert main(["init-mapping", str(src), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "header_row = 2" in text
    assert '# "Vorname": personal data (names), dropped on load' in text
    assert '# "E-Mail": personal data (e-mail addresses), dropped on load' in text
    assert 'order_id = "N° de commande"' in text and 'customer_id = "Kundennummer"' in text
    capsys.readouterr()
    assert main(["validate", str(src), "--mapping", str(out), "--as-of", "2025-12-31",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["tables"]["orders"]["kept"] == 2 and doc["tables"]["customers"]["kept"] == 2


def test_init_mapping_of_a_missing_source_exits_2(tmp_path, capsys):
    assert main(["init-mapping", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "no such file or folder" in err and "Traceback" not in err
