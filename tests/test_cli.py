"""The command line: exit codes, JSON shape, rejected-row files, help on every subcommand."""

from __future__ import annotations

import glob
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from loyaltylab.cli import COMMANDS, EXIT_OK, EXIT_REJECTED, build_parser, main

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


# ------------------------------------------------------------------ report and notebooks
import errno  # noqa: E402
import os  # noqa: E402

import polars as pl  # noqa: E402

import loyaltylab._pipeline as pipeline  # noqa: E402
from loyaltylab.cli import SALT_ENV  # noqa: E402


class _FakeRun:
    """Stands in for run_report: records its arguments and writes a tiny report."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.kwargs: dict = {}
        self.fail = fail

    def __call__(self, source, *, out, **kwargs):
        from loyaltylab.report import Report

        self.kwargs = dict(kwargs, source=source, out=out)
        if self.fail is not None:
            raise self.fail
        rep = Report("Demo")
        rep.add_table(pl.DataFrame({"segment": ["a"], "buyers": [1]}), title="Buyers")
        files = rep.write_all(out, formats=("png",), progress=False)
        return pipeline.ReportRun(rep, files, [], [])


@pytest.fixture
def fake_run(monkeypatch):
    fake = _FakeRun()
    monkeypatch.setattr(pipeline, "run_report", fake)
    monkeypatch.delenv(SALT_ENV, raising=False)
    return fake


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_report_takes_every_load_option_of_validate(fake_run, tmp_path, capsys):
    parser = build_parser()
    options = {a.dest for a in parser._subparsers._group_actions[0].choices["validate"]._actions}
    for command in ("report", "notebooks"):
        sub = parser._subparsers._group_actions[0].choices[command]
        assert options - {"json", "rejects", "help"} <= {a.dest for a in sub._actions}
    assert main(["report", str(FIX / "clean"), "--out", str(tmp_path / "o"),
                 "--allow-refunds", "--as-of", "2025-12-31", "--salt", "s"]) == 0
    assert fake_run.kwargs["allow_refunds"] is True and fake_run.kwargs["salt"] == "s"
    assert fake_run.kwargs["as_of"] == "2025-12-31"


def test_report_refunds_flag_on_a_real_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(SALT_ENV, "test-salt")
    src = tmp_path / "src"
    src.mkdir()
    (src / "customers.csv").write_text("customer_id,acquired_at\nC1,2025-01-01\n"
                                       "C2,2025-01-03\n")
    (src / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n"
                                    "1,C1,2025-02-01,-3\n2,C1,2025-03-01,10\n"
                                    "3,C2,2025-03-05,12\n")
    args = ["report", str(src), "--no-progress", "--charts", "none"]
    # log files go to a temporary folder of this test's own, so that runs elsewhere on the
    # machine (other tests, other users) cannot add one between the two globs below
    own_tmp = tmp_path / "tmp"
    own_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(own_tmp))
    assert main(args + ["--out", str(tmp_path / "a")]) == 1
    assert "1 rows were rejected on load" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
    lookup = tmp_path / "ids.csv"
    logs = str(Path(tempfile.gettempdir()) / "loyaltylab-report-*.log")
    before = set(glob.glob(logs))
    assert main(args + ["--out", str(tmp_path / "b"), "--allow-refunds", "--lookup",
                        str(lookup)]) == 0
    assert set(glob.glob(logs)) == before  # no part failed: no log file is left behind
    assert (tmp_path / "b" / "report.html").is_file()
    # the lookup gives the pseudonyms the run used (same salt, same loader)
    from loyaltylab.data.load import load

    hashed = load(src, pseudonymize=True, salt="test-salt", allow_refunds=True).customers
    table = pl.read_csv(lookup, infer_schema=False)
    assert table.columns == ["pseudonym", "client_customer_id"]
    assert dict(table.iter_rows()) == dict(zip(hashed["customer_id"], ["C1", "C2"]))
    assert "CONFIDENTIAL" in capsys.readouterr().out


def test_a_random_salt_writes_the_lookup_beside_the_output(fake_run, tmp_path, capsys):
    out = tmp_path / "deliverables"
    assert main(["report", "--out", str(out)]) == 0
    lookup = tmp_path / "deliverables.customer-lookup.csv"
    assert lookup.is_file() and not any(out.rglob("*lookup*"))
    assert oct(lookup.stat().st_mode & 0o777) == "0o600"
    table = pl.read_csv(lookup, infer_schema=False)
    assert table.height == 5000 and table["client_customer_id"][0].startswith("C")
    from loyaltylab.data.privacy import hash_id

    salt = fake_run.kwargs["salt"]
    assert len(salt) == 32
    assert all(hash_id(c, salt) == p for p, c in table.head(20).iter_rows())
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    assert printed.startswith(f"wrote {lookup}: the client's real customer ids for 5,000 "
                              f"pseudonyms (CONFIDENTIAL")


def test_salt_from_a_file_or_the_environment(fake_run, tmp_path, monkeypatch, capsys):
    secret = tmp_path / "salt.txt"
    secret.write_text("from-file\n")
    assert main(["report", "--out", str(tmp_path / "a"), "--salt-file", str(secret)]) == 0
    assert fake_run.kwargs["salt"] == "from-file"
    monkeypatch.setenv(SALT_ENV, "from-env")
    assert main(["report", "--out", str(tmp_path / "b")]) == 0
    assert fake_run.kwargs["salt"] == "from-env"
    assert not list(tmp_path.glob("*lookup*"))  # a known salt: no lookup unless asked
    secret.write_text("\n")
    assert main(["report", "--out", str(tmp_path / "c"), "--salt-file", str(secret)]) == 2
    assert _one_line(capsys.readouterr().err).endswith("the first line is empty; write the "
                                                       "salt on it")
    with pytest.raises(SystemExit) as exc:
        main(["report", "--out", str(tmp_path / "d"), "--salt", "x", "--salt-file",
              str(secret)])
    assert exc.value.code == 2


def test_the_lookup_never_goes_inside_the_deliverables(fake_run, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["report", "--out", str(out), "--lookup", str(out / "ids.csv")]) == 2
    assert "inside the output folder" in _one_line(capsys.readouterr().err)
    assert not out.exists()


def test_unsafe_output_folders_exit_2_with_one_line(fake_run, tmp_path, capsys):
    src = tmp_path / "client"
    src.mkdir()
    (src / "orders.csv").write_text("x")
    assert main(["report", str(src), "--out", str(src / "report")]) == 2
    assert "inside the source folder" in _one_line(capsys.readouterr().err)
    assert fake_run.kwargs == {}  # refused before loading anything
    (tmp_path / "link").symlink_to(tmp_path / "x", target_is_directory=True)
    assert main(["report", "--out", str(tmp_path / "link")]) == 2
    assert "is a symbolic link" in _one_line(capsys.readouterr().err)
    assert main(["notebooks", str(src), "--out", str(src)]) == 2
    assert "is the source folder" in _one_line(capsys.readouterr().err)
    assert main(["report", "--out", str(src)]) == 2
    assert "not empty and was not written by loyaltylab" in _one_line(
        capsys.readouterr().err)


def test_a_full_disk_is_one_line_and_exit_2(fake_run, tmp_path, capsys, monkeypatch):
    from loyaltylab.report import Report

    out = tmp_path / "o"
    assert main(["report", "--out", str(out), "--salt", "s"]) == 0
    before = sorted(p.name for p in out.rglob("*"))

    def full(self, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(Report, "write_pptx", full)
    assert main(["report", "--out", str(out), "--salt", "s"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("loyaltylab report: error: the disk is full: writing ")
    assert line.endswith(f"deck.pptx failed; free some space or choose another output "
                         f"folder ({out} was left as it was)")
    assert sorted(p.name for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_unwritable_folder_is_one_line_and_exit_2(fake_run, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: use a read-only file system instead
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs",
                               str(locked)], capture_output=True)
        if proc.returncode != 0:
            pytest.skip("cannot mount a read-only tmpfs here")
    else:
        locked.chmod(0o500)
    try:
        assert main(["report", "--out", str(locked / "o"), "--salt", "s"]) == 2
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(locked)], check=False)
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"loyaltylab report: error: cannot write to {locked}")
    assert "permission denied or a read-only disk; choose a folder you can write to" in line


def test_an_unexpected_error_prints_one_line_and_a_log(fake_run, tmp_path, capsys):
    fake_run.fail = RuntimeError("boom\nsecond line")
    assert main(["report", "--out", str(tmp_path / "o"), "--salt", "s"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("loyaltylab report: unexpected error: RuntimeError: boom; "
                           "details in ")
    log = Path(line.rsplit("details in ", 1)[1])
    text = log.read_text()
    assert "Traceback" in text and "RuntimeError: boom" in text and "--salt" not in text
    assert not (tmp_path / "o").exists() and tmp_path not in log.parents
    log.unlink()
    # a ValueError from outside loyaltylab is unexpected too; one of ours is a message
    fake_run.fail = ValueError("some library complained")
    assert main(["report", "--out", str(tmp_path / "o"), "--salt", "s"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "unexpected error: ValueError: some library complained; details in" in line
    Path(line.rsplit("details in ", 1)[1]).unlink()


def test_a_part_that_failed_unexpectedly_is_exit_1_named_with_its_log(tmp_path, capsys,
                                                                     monkeypatch):
    # like `notebooks`: the report is written without the part, stderr names it and the
    # log file holding its traceback (outside the output), and the exit code is 1, not 0
    from loyaltylab import metrics

    def broken(*args, **kwargs):
        raise KeyError("weird")

    monkeypatch.setattr(metrics, "scorecard", broken)
    monkeypatch.setenv(SALT_ENV, "test-salt")
    src = tmp_path / "src"
    src.mkdir()
    (src / "customers.csv").write_text("customer_id,acquired_at\nC1,2025-01-01\n"
                                       "C2,2025-01-03\n")
    (src / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n"
                                    "1,C1,2025-02-01,3\n2,C1,2025-03-01,10\n"
                                    "3,C2,2025-03-05,12\n")
    out = tmp_path / "out"
    assert main(["report", str(src), "--no-progress", "--out", str(out), "--charts",
                 "none"]) == 1
    err = capsys.readouterr().err
    line = _one_line(err)
    assert line.startswith("loyaltylab report: not produced: Measure everything: scorecard: "
                           "KeyError: 'weird'; details in "), line
    log = Path(line.rsplit("details in ", 1)[1])
    assert "Traceback" in log.read_text() and "KeyError: 'weird'" in log.read_text()
    assert out not in log.parents and (out / "report.html").is_file()
    log.unlink()


def test_help_documents_the_exit_codes(capsys):
    for command in ("report", "notebooks"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "Exit code 0: everything ran" in text and "names a log file" in text
        assert "--salt-file" in text and "LOYALTYLAB_SALT" in text


def test_notebooks_write_an_owned_folder_all_at_once(tmp_path, capsys, monkeypatch):
    import loyaltylab._notebooks as nbs

    calls = {}

    def fake(source, out, **kwargs):
        calls.update(kwargs, source=source, out=out)
        assert "unfinished" in Path(out).name  # written into the staging folder
        page = Path(out) / "01-demo.html"
        page.write_text("<p>demo</p>")
        return [page]

    monkeypatch.setattr(nbs, "run_notebooks", fake)
    monkeypatch.delenv(SALT_ENV, raising=False)
    out = tmp_path / "nb"
    assert main(["notebooks", str(FIX / "clean"), "--out", str(out), "--allow-refunds",
                 "--as-of", "2025-12-31"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"wrote {out.resolve() / '01-demo.html'}"
    assert "CONFIDENTIAL" in printed[1] and (tmp_path / "nb.customer-lookup.csv").is_file()
    assert calls["allow_refunds"] is True and len(calls["salt"]) == 32
    assert sorted(p.name for p in out.iterdir()) == [".loyaltylab-manifest.json",
                                                     "01-demo.html"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_notebooks_stop_with_exit_1_on_rejected_rows_unless_allowed(tmp_path, capsys,
                                                                    monkeypatch):
    # like report: the euro shop has 10 rejected rows (7 of its 11 orders), so nothing runs
    import loyaltylab._notebooks as nbs

    ran = []
    monkeypatch.setattr(nbs, "notebook_paths", lambda: ran.append(1) or [])
    out = tmp_path / "nb"
    args = ["notebooks", str(EURO), "--mapping", str(EURO / "mapping.toml"), "--as-of",
            "2025-12-31", "--out", str(out), "--salt", "s"]
    assert main(args) == EXIT_REJECTED
    err = capsys.readouterr().err
    assert "stopped: 10 rows were rejected on load, so the notebooks were not run" in err
    assert "pass --allow-rejects" in err and "Traceback" not in err
    assert ran == [] and not out.exists()
    # with --allow-rejects the series runs on the kept rows (here: an empty series)
    assert main([*args, "--allow-rejects"]) == EXIT_OK
    assert ran == [1]


def test_notebooks_exit_1_when_a_part_failed_unexpectedly(tmp_path, capsys, monkeypatch):
    import nbformat

    import loyaltylab._notebooks as nbs

    def fake(source, out, **kwargs):
        nb = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_markdown_cell("## 4. Value of each customer"),
            nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
                "error", ename="TypeError", evalue="unsupported format string passed to "
                "NoneType.__format__", traceback=["..."])])])
        if kwargs.get("hide_code"):  # the second run: a part skipped for want of data
            nb.cells[1].outputs[0].ename = "MissingTableError"
        nbs.explain_errors(nb)
        nbformat.write(nb, str(Path(out) / "05-value.ipynb"))
        page = Path(out) / "05-value.html"
        page.write_text("<p>value</p>")
        return [page]

    monkeypatch.setattr(nbs, "run_notebooks", fake)
    out = tmp_path / "nb"
    base = ["notebooks", str(FIX / "clean"), "--as-of", "2025-12-31", "--salt", "s"]
    assert main([*base, "--out", str(out)]) == EXIT_REJECTED
    printed = capsys.readouterr()
    assert (out / "05-value.html").is_file() and "wrote" in printed.out  # still written
    assert ("loyaltylab notebooks: not produced: 05-value, 4. Value of each customer: it "
            "could not be produced on these data (TypeError: unsupported format string "
            "passed to NoneType.__format__)") in printed.err
    # a part the data cannot support (a missing table) is said in the notebook: exit 0
    assert main([*base, "--out", str(tmp_path / "nb2"), "--hide-code"]) == EXIT_OK
    assert "not produced" not in capsys.readouterr().err


def _run_notebook(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('C000123 anna@example.org')")
    cell.outputs = [nbformat.v4.new_output("stream", text="C000123 anna@example.org\n")]
    cell.execution_count = 3
    cell.metadata["execution"] = {"iopub.status.busy": "2025-01-01T10:00:00"}
    cell.metadata["papermill"] = {"duration": 1.0}
    nb.cells = [nbformat.v4.new_markdown_cell("# Demo"), cell]
    nb.metadata["papermill"] = {"parameters": {"SOURCE": "/clients/acme"}}
    nbformat.write(nb, str(path))


def test_scrub_strips_outputs_in_place_or_into_a_folder(tmp_path, capsys):
    import nbformat

    src = tmp_path / "nbs"
    (src / "sub").mkdir(parents=True)
    _run_notebook(src / "01-a.ipynb")
    _run_notebook(src / "sub" / "02-b.ipynb")
    assert main(["scrub", str(src), "--out", str(tmp_path / "clean")]) == 0
    assert capsys.readouterr().out.strip() == "scrubbed 2 notebooks"
    for path in (tmp_path / "clean" / "01-a.ipynb", tmp_path / "clean" / "sub" / "02-b.ipynb"):
        text = path.read_text()
        nb = nbformat.read(str(path), as_version=4)
        code = nb.cells[1]
        assert code.outputs == [] and code.execution_count is None
        assert "execution" not in code.metadata and "papermill" not in nb.metadata
        assert "/clients/acme" not in text
    assert nbformat.read(str(src / "01-a.ipynb"), as_version=4).cells[1].outputs  # untouched
    assert main(["scrub", str(src / "01-a.ipynb")]) == 0
    assert capsys.readouterr().out.strip() == "scrubbed 1 notebook"
    assert nbformat.read(str(src / "01-a.ipynb"), as_version=4).cells[1].outputs == []
    assert main(["scrub", str(tmp_path / "missing.ipynb")]) == 2
    assert "does not exist" in _one_line(capsys.readouterr().err)


def test_keep_personal_option_keeps_a_column_taken_for_personal_data(tmp_path, capsys):
    # "Nombre" is a Spanish first name to the header check; here the client says it is not
    (tmp_path / "customers.csv").write_text(
        "customer_id,acquired_at,Nombre\nC1,2025-01-02,3\nC2,2025-01-03,4\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\nO1,C1,2025-02-01,10\n")
    assert main(["validate", str(tmp_path), "--as-of", "2025-12-31"]) == 0
    assert "dropped personal columns ['Nombre']" in capsys.readouterr().out
    assert main(["validate", str(tmp_path), "--as-of", "2025-12-31",
                 "--keep-personal", "Nombre"]) == 0
    assert "dropped personal columns" not in capsys.readouterr().out
