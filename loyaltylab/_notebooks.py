"""The notebook series: titles, the README table of contents, and the run of the series
on client data behind ``loyaltylab notebooks`` (not public API)."""

from __future__ import annotations

import atexit
import json
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

__all__ = ["NOTEBOOK_DIR", "notebook_paths", "notebook_title", "readme_toc", "update_readme",
           "run_notebooks", "pseudonymized_copy", "derived_parameters", "html_exporter",
           "explain_errors", "skipped_summary", "unexpected_errors", "plain_text",
           "PERSONAL_TEXT"]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
_START, _END = "<!-- toc:start -->", "<!-- toc:end -->"


def notebook_paths(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks (``NN-topic.ipynb``) in order, solutions excluded."""
    return sorted(p for p in directory.glob("[0-9][0-9]-*.ipynb"))


def notebook_title(path: Path) -> str:
    """The text of the first ``#`` heading in the notebook's first markdown cell."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
            break
    raise ValueError(f"{path}: the first markdown cell has no '# Title' line; add one")


def readme_toc(directory: Path = NOTEBOOK_DIR) -> str:
    """The README's table of contents: one numbered line per notebook, linked."""
    lines = []
    for path in notebook_paths(directory):
        number = path.name[:2]
        lines.append(f"{int(number)}. [{notebook_title(path)}](notebooks/{path.name})")
    return "\n".join(lines)


def update_readme(readme: Path = ROOT / "README.md") -> bool:
    """Rewrite the block between the toc markers; returns True when it changed."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(_START) + r".*?" + re.escape(_END), flags=re.S)
    new = pattern.sub(f"{_START}\n{readme_toc()}\n{_END}", text)
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text



_HTML_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{% block html_head_js_requirejs %}{% endblock %}
{% block html_head_js_mathjax %}{% endblock %}
{% block html_head_js_mermaidjs %}{% endblock %}
{% block jupyter_widgets %}{% endblock %}
"""
"""The lab template without the scripts nbconvert loads from a CDN (require.js, MathJax,
Mermaid, widgets): the rendered page needs no network and sends no request. Formulas in
markdown show as their TeX source."""

_SKIP_KEY = "loyaltylab_skipped"


def html_exporter(*, hide_code: bool = False) -> Any:
    """An nbconvert HTML exporter whose pages are self-contained (no CDN scripts).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Hi")])
    >>> body, _ = html_exporter().from_notebook_node(nb)
    >>> "<script src=" in body, "cdnjs" in body
    (False, False)
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(extra_loaders=[DictLoader({"loyaltylab.html.j2": _HTML_TEMPLATE})],
                        template_file="loyaltylab.html.j2", embed_images=True,
                        exclude_input=hide_code, exclude_input_prompt=hide_code,
                        exclude_output_prompt=hide_code)


def derived_parameters(data: Any, *, as_of: Any = None, calibration_end: Any = None,
                       observation_end: Any = None, change_date: Any = None
                       ) -> dict[str, str]:
    """The dates every notebook needs, from the data where not given (ISO strings).

    - ``AS_OF``: the measuring date of the report (the end of the last event's day, see
      :func:`loyaltylab._pipeline.measuring_date`);
    - ``OBSERVATION_END``: the measuring date; ``CALIBRATION_END``: halfway between the
      first order and it, so models learn on the first half and are checked on the second
      (the 39/39-week split of Fader, Hardie & Lee 2005 on CDNOW; see
      :func:`loyaltylab.clv.holdout_dates`);
    - ``CHANGE_DATE``: a year before the measuring date (first of that month), so
      before/after comparisons contrast the last twelve months with the twelve before;
      pass a real change date (a price rise, a rebrand) to test it.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> derived_parameters(ll.datasets.load_sample())
    {'AS_OF': '2026-01-01', 'OBSERVATION_END': '2026-01-01', 'CALIBRATION_END': '2024-07-02',
     'CHANGE_DATE': '2025-01-01'}
    """
    from datetime import datetime, timedelta

    from loyaltylab._pipeline import measuring_date
    from loyaltylab._util import to_datetime
    from loyaltylab.clv import holdout_dates

    when = (measuring_date(data, as_of)[0] if as_of is not None
            else data.as_of or measuring_date(data)[0])
    cal, end = holdout_dates(data, calibration_end=calibration_end,
                             observation_end=when if observation_end is None
                             else observation_end)
    if change_date is not None:
        change = to_datetime(change_date)
    else:
        year_ago = when - timedelta(days=365)
        change = datetime(year_ago.year, year_ago.month, 1)
    def iso(d: datetime) -> str:
        return d.strftime("%Y-%m-%d") if d.time() == datetime.min.time() else d.isoformat()

    return {"AS_OF": iso(when), "OBSERVATION_END": iso(end), "CALIBRATION_END": iso(cal),
            "CHANGE_DATE": iso(change)}


def run_notebooks(source: str | Path | None, out: str | Path, *,
                  mapping: str | Path | None = None, as_of: str | None = None,
                  hide_code: bool = False, notebooks: list[Path] | None = None,
                  progress: bool | None = None, salt: str | None = None,
                  parameters: dict[str, Any] | None = None, timeout: int = 1800,
                  jobs: int = 1, allow_rejects: bool = True,
                  **load_options: Any) -> list[Path]:
    """Execute the series on a dataset and render each notebook to self-contained HTML.

    On client data the notebooks run on a pseudonymised copy of the canonical columns
    they use (see :func:`pseudonymized_copy`), with every date they need derived from the
    data when not given (:func:`derived_parameters`). A cell that cannot run on the data
    (a missing table, a model that does not converge, or a cell building on one of those)
    does not stop its notebook: its error is replaced by a plain sentence, the following
    cells still run, and a markdown cell under the title lists what was not shown.

    Parameters
    ----------
    source : str or Path or None
        The client's folder, workbook or database; None runs on the bundled sample.
    out : str or Path
        Folder for the executed notebooks (``NN-*.ipynb``) and their HTML renderings
        (relative paths are taken from the current folder).
    mapping, as_of
        The mapping file and the measuring date (default: from the data).
    hide_code : bool
        Leave the code out of the HTML, for client-facing copies.
    notebooks : list of Path, optional
        A subset of the series (default: all of it).
    salt : str, optional
        Salt of the pseudonymised identifiers (default: random).
    parameters : dict, optional
        Extra notebook parameters (e.g. ``{"CHANGE_DATE": "2024-10-01"}``); they win over
        the derived ones.
    jobs : int
        How many notebooks run at the same time, each in its own kernel (default 1). The
        notebooks are independent, and most of a notebook's time is its kernel's Python
        work (imports of about 3 s CPU per kernel, model fits), so more jobs than cores
        gains nothing. A notebook that cannot run stops the others at once (their
        kernels are killed); cells that fail on the data do not.
    allow_rejects : bool, default True
        With False, rows rejected on load stop the run before any notebook runs
        (:class:`loyaltylab._pipeline.RejectedRowsError`, as ``loyaltylab report`` does);
        with True the notebooks run on the rows that were kept.
    **load_options
        Passed to :func:`loyaltylab.load` (e.g. ``allow_refunds=True``).

    Returns
    -------
    list of Path
        The HTML files written, in series order. :func:`unexpected_errors` lists the
        cells of the executed notebooks (written beside them) that failed for a reason
        the library does not foresee.
    """
    import nbformat
    from nbclient import NotebookClient
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook
    from tqdm import tqdm

    if jobs < 1:
        raise ValueError(f"jobs: expected a whole number of at least 1, got {jobs!r}")
    out_dir = Path(out).expanduser().resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    params: dict[str, Any] = {"SOURCE": None, "MAPPING": None, "AS_OF": as_of}
    if source is not None:
        # The notebooks see a pseudonymised copy of the client's data, never the original:
        # identifiers hashed, personal and undeclared columns dropped, mapping applied.
        from loyaltylab.data.load import load

        copy, loaded = _copy(source, out_dir / "_data", mapping=mapping, as_of=as_of,
                             salt=salt, **load_options)
        if loaded.report.n_rejected and not allow_rejects:
            from loyaltylab._pipeline import RejectedRowsError

            raise RejectedRowsError(loaded)
        params["SOURCE"] = str(copy)
        params.update(derived_parameters(load(copy), as_of=as_of))
    params.update(parameters or {})
    paths = [Path(p).resolve() for p in (notebooks or notebook_paths())]

    clients: list[Any] = []
    stop = threading.Event()

    def check_stop(**_: Any) -> None:
        # before each cell: a notebook whose kernel was still starting when the run was
        # stopped (another notebook failed, SIGTERM, Ctrl-C) runs none of its cells
        if stop.is_set():
            raise RuntimeError("the run was stopped")

    def run_one(path: Path) -> Path:
        for attempt in range(_KERNEL_STARTS):
            nb = load_notebook_node(str(path))  # nbformat.read, with a tags list on every cell
            declared = _declared_parameters(nb)
            nb = parameterize_notebook(nb, {k: v for k, v in params.items() if k in declared},
                                       kernel_name="python3", language="python")
            with tempfile.TemporaryDirectory(prefix="ll-kernel-") as sockets:
                client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                        allow_errors=True, config=_kernel_config(sockets),
                                        on_cell_execute=check_stop,
                                        resources={"metadata": {"path": str(path.parent)}})
                clients.append(client)
                try:
                    client.execute()
                    break
                except RuntimeError as exc:
                    # a kernel that died while starting ran no cell: start a fresh one
                    if "before replying" not in str(exc) or attempt + 1 == _KERNEL_STARTS:
                        raise
                finally:
                    # nbclient's exit hook would clean up again, and fail, after a failed
                    # start (a traceback printed when Python exits)
                    atexit.unregister(client._cleanup_kernel)
        skipped = explain_errors(nb)
        if skipped:
            nb.cells.insert(1, nbformat.v4.new_markdown_cell(skipped_summary(skipped),
                                                             metadata={"tags": [_SKIP_KEY]}))
        executed = out_dir / path.name
        nbformat.write(nb, str(executed))
        body, _ = html_exporter(hide_code=hide_code).from_notebook_node(nb)
        html = executed.with_suffix(".html")
        html.write_text(body, encoding="utf-8")
        return html

    bar = tqdm(total=len(paths), desc="notebooks",
               disable=None if progress is None else not progress)
    with bar:
        if jobs == 1 or len(paths) == 1:
            written = []
            for path in paths:
                written.append(run_one(path))
                bar.update()
            return written
        # Each notebook has its own client and kernel (nbclient keeps no shared state, and
        # its kernels keep their history in memory), so they can run side by side.
        from concurrent.futures import ThreadPoolExecutor, as_completed

        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            futures = [pool.submit(run_one, path) for path in paths]
            for future in as_completed(futures):
                future.result()
                bar.update()
        except BaseException:
            # SIGTERM, Ctrl-C or a failed notebook: stop now, not when the notebooks still
            # running end (their threads cannot be interrupted, their kernels can be killed)
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            for client in list(clients):
                _kill_kernel(client)
            raise
        pool.shutdown()
        written = [future.result() for future in futures]
    return written


_KERNEL_STARTS = 3
"""Attempts to start a notebook's kernel before its failure to start ends the run."""


def _kernel_config(sockets: str) -> Any:
    """The kernel's channels as Unix sockets in the folder ``sockets`` (POSIX).

    With TCP, each kernel asks the system for free ports and binds them a moment later;
    kernels started side by side (``jobs`` > 1, or another program on the machine) can
    pick the same port, and the kernel then dies before it replies ("Address already in
    use"). Sockets in a folder of their own cannot collide. On Windows: TCP.
    """
    from traitlets.config import Config

    if os.name != "posix":
        return Config()
    return Config({"KernelManager": {"transport": "ipc",
                                     "ip": os.path.join(sockets, "k")}})


def _kill_kernel(client: Any) -> None:
    """Kill the kernel process of a running notebook client, if it has one."""
    provisioner = getattr(getattr(client, "km", None), "provisioner", None)
    process = getattr(provisioner, "process", None)
    if process is not None and process.poll() is None:
        process.kill()
        # nbclient's exit hook would clean up the kernel killed here, and fail
        atexit.unregister(client._cleanup_kernel)


def _declared_parameters(nb: Any) -> set[str]:
    """Names assigned in the cell tagged ``parameters``."""
    import ast

    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                return set()
            return {t.id for node in tree.body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
    return set()


_NOT_RUN = ("it builds on an earlier part that could not be produced on these data")
_LISTING = re.compile(r"\s*[;,]?\s*\(?\b(?:valid )?(?:columns|available)\s*:\s*\[[^\]]*\]\)?")


def plain_text(message: str) -> str:
    """The first line of an error message, without the listing of available columns that
    helps a developer but not a reader of the report.

    Examples
    --------
    >>> plain_text("by=['segment']: not a customer attribute; available: ['acquired_at'].")
    "by=['segment']: not a customer attribute."
    >>> plain_text("needs contacts.direction, which this dataset does not have (columns: "
    ...            "['customer_id', 'channel']); add it to the contacts file")
    'needs contacts.direction, which this dataset does not have; add it to the contacts file'
    """
    text = str(message).strip()
    first = text.splitlines()[0] if text else ""
    return _LISTING.sub("", first).strip()


_NO_ATTRIBUTE = re.compile(r"by=\[([^\]]*)\]: not a customer attribute")
_NO_STAGE = re.compile(r"ladder '([^']*)' has no stage '([^']*)'")


def _plain_reason(ename: str, evalue: str, earlier_failed: bool) -> str:
    """A plain sentence for a cell's error (see :func:`explain_errors`).

    Examples
    --------
    >>> print(_plain_reason("ValueError", "by=['segment']: not a customer attribute; "
    ...                     "available: ['acquired_at']", False)[:56])
    the split by segment needs a segment column in the custo
    >>> print(_plain_reason("ValueError", "ladder 'offline' has no stage 'prospect'; "
    ...                     "stages: ['suspect']", False)[:58])
    it starts from the prospect rung, which these data do not
    """
    first = plain_text(evalue or "") or ename
    if ename in ("NameError", "UnboundLocalError") and earlier_failed:
        return _NOT_RUN
    attribute = _NO_ATTRIBUTE.search(first)
    if attribute and ename in ("ValueError", "SchemaError"):
        names = [n.strip(" '\"").replace("_", " ") for n in attribute.group(1).split(",")]
        words = " and ".join(names)
        return (f"the split by {words} needs {'a ' if len(names) == 1 else ''}{words} "
                f"column{'s' * (len(names) > 1)} in the customers table, which this dataset "
                f"does not have")
    stage = _NO_STAGE.search(first)
    if stage and ename in ("ValueError", "LadderError"):
        return (f"it starts from the {stage.group(2).replace('_', ' ')} rung, which these "
                f"data do not measure (see the notes on the ladder above)")
    if ename == "MissingTableError":
        return first
    if ename == "ConvergenceError":
        return ("the model could not be fitted to these data: its estimation did not "
                "settle (this happens with few repeat buyers or very uneven buying)")
    if ename == "LinAlgError" or "singular" in first.lower():
        return ("the calculation has no unique answer for these data: two measures move "
                "together exactly, or a group holds too few customers")
    if ename in ("SchemaError", "LoyaltyLabError", "ValueError", "LadderError"):
        return f"the data do not support it: {first}"
    return f"{_UNFORESEEN} ({ename}: {first})"


_UNFORESEEN = "it could not be produced on these data"
_UNEXPECTED_KEY = "loyaltylab_unexpected"


def unexpected_errors(notebook: str | Path) -> list[tuple[str, str]]:
    """The cells of an executed notebook (as :func:`run_notebooks` writes it) that failed
    for a reason the library does not foresee (a bug, not a property of the data): (section
    heading, plain reason) for each. Cells that could not run for want of a table, a
    model that did not converge, or data that do not support an analysis are not listed.

    Examples
    --------
    >>> import nbformat, tempfile
    >>> from pathlib import Path
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_markdown_cell("## 4. Value"),
    ...     nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
    ...         "error", ename="TypeError", evalue="unsupported format string passed to "
    ...         "NoneType.__format__", traceback=["..."])]),
    ...     nbformat.v4.new_code_cell("y", outputs=[nbformat.v4.new_output(
    ...         "error", ename="MissingTableError", evalue="needs the 'surveys' table",
    ...         traceback=["..."])])])
    >>> _ = explain_errors(nb)
    >>> path = Path(tempfile.mkdtemp()) / "05-value.ipynb"
    >>> nbformat.write(nb, str(path))
    >>> unexpected_errors(path)  # doctest: +NORMALIZE_WHITESPACE
    [('4. Value', 'it could not be produced on these data (TypeError: unsupported format
      string passed to NoneType.__format__)')]
    """
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    found = []
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            where = o.get("metadata", {}).get(_UNEXPECTED_KEY)
            if where is not None:
                found.append((where, str(o.get("data", {}).get("text/plain", ""))
                              .removeprefix("Not shown on these data: ").rstrip(".")))
    return found


def explain_errors(nb: Any) -> list[tuple[str, str]]:
    """Replace every error output of an executed notebook by a plain sentence.

    Returns (where, reason) for each cell that failed, ``where`` being the heading of the
    section the cell belongs to. The replacement is a markdown output, so the rendered
    page shows "Not shown on these data: <reason>." instead of a traceback.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_markdown_cell("## Referrals"),
    ...     nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
    ...         "error", ename="MissingTableError", evalue="referral rate needs the "
    ...         "'referrals' table", traceback=["..."])])])
    >>> explain_errors(nb)
    [('Referrals', "referral rate needs the 'referrals' table")]
    >>> nb.cells[1].outputs[0].output_type, nb.cells[1].outputs[0].data["text/markdown"][:22]
    ('display_data', '**Not shown on these d')
    """
    import nbformat

    heading, out, failed = "", [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
            continue
        if cell.cell_type != "code":
            continue
        outputs = []
        for o in cell.get("outputs", []):
            if o.get("output_type") != "error":
                outputs.append(o)
                continue
            reason = _plain_reason(o.get("ename", ""), o.get("evalue", ""), failed)
            failed = True
            out.append((heading or "the start", reason))
            meta: dict[str, Any] = {_SKIP_KEY: True}
            if reason.startswith(_UNFORESEEN):
                meta[_UNEXPECTED_KEY] = heading or "the start"
            outputs.append(nbformat.v4.new_output(
                "display_data",
                data={"text/markdown": f"**Not shown on these data:** {reason.rstrip('.')}.",
                      "text/plain": f"Not shown on these data: {reason.rstrip('.')}."},
                metadata=meta))
        cell.outputs = outputs
    return out


_NEEDS_TABLE = re.compile(r"^[^.]*? needs the '(\w+)' table")


def skipped_summary(skipped: list[tuple[str, str]]) -> str:
    """The markdown cell listing what a notebook could not show on the data: one line per
    reason, naming every section it applies to (a missing surveys table empties a whole
    survey notebook: one line says so, not one per section).

    Examples
    --------
    >>> print(skipped_summary([("1. Scores", "NPS needs the 'surveys' table, which this "
    ...                                      "dataset does not have."),
    ...                        ("2. Waves", _NOT_RUN), ("3. Segments", _NOT_RUN),
    ...                        ("4. Scale", "alpha needs the 'surveys' table, which this "
    ...                                     "dataset does not have.")]))
    **Parts not shown on these data.** The rest of the notebook ran; each part below is marked
    where it would have appeared.
    - *1. Scores*, *4. Scale*: it needs the 'surveys' table, which this dataset does not have.
    - *2. Waves*, *3. Segments*: it builds on an earlier part that could not be produced on
    these data.
    """
    lines = ["**Parts not shown on these data.** The rest of the notebook ran; each part "
             "below is marked where it would have appeared."]
    where_by_reason: dict[str, list[str]] = {}
    for where, reason in skipped:
        # "contact frequency needs the 'contacts' table ..." and "channel mix needs the
        # 'contacts' table ...": one line for the table, naming every section it empties
        reason = _NEEDS_TABLE.sub(r"it needs the '\1' table", reason, count=1)
        places = where_by_reason.setdefault(reason.rstrip("."), [])
        if where not in places:
            places.append(where)
    for reason, places in where_by_reason.items():
        lines.append(f"- {', '.join(f'*{w}*' for w in places)}: {reason}.")
    return "\n".join(lines)


PERSONAL_TEXT = ("comment",)
"""Canonical free-text columns left out of the notebooks' data copy: clients write names,
phone numbers and addresses into them, and no notebook reads them."""


def pseudonymized_copy(source: str | Path, folder: str | Path, *,
                       mapping: str | Path | None = None, as_of: str | None = None,
                       salt: str | None = None, **load_options: Any) -> Path:
    """Load ``source`` with identifiers pseudonymised, and write the canonical columns the
    notebooks use as Parquet files into ``folder`` (which ``ll.load`` reads as is).

    Only canonical columns are copied: personal columns, columns the client's export has
    beyond the canonical model (notes, internal codes) and free-text comments
    (:data:`PERSONAL_TEXT`) are left out. Rows the loader rejected are not copied; the
    load report says how many and why.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> from pathlib import Path
    >>> src = Path(tempfile.mkdtemp())
    >>> pl.DataFrame({"customer_id": ["A1", "B2"], "acquired_at": ["2024-01-02"] * 2,
    ...               "email": ["a@example.org", "b@example.org"],
    ...               "notiz": ["VIP", "rief an"]}).write_csv(src / "customers.csv")
    >>> pl.DataFrame({"order_id": ["o1"], "customer_id": ["A1"], "ordered_at": ["2024-02-01"],
    ...               "amount": [9.5]}).write_csv(src / "orders.csv")
    >>> out = pseudonymized_copy(src, Path(tempfile.mkdtemp()) / "copy", salt="s")
    >>> copy = pl.read_parquet(out / "customers.parquet")
    >>> copy.columns, "A1" in copy["customer_id"].to_list()
    (['customer_id', 'acquired_at'], False)
    """
    return _copy(source, folder, mapping=mapping, as_of=as_of, salt=salt,
                 **load_options)[0]


def _copy(source: str | Path, folder: str | Path, *, mapping: str | Path | None = None,
          as_of: str | None = None, salt: str | None = None,
          **load_options: Any) -> tuple[Path, Any]:
    """:func:`pseudonymized_copy`, also returning the loaded data (for its load report)."""
    import secrets

    from loyaltylab.data import schema as S
    from loyaltylab.data.load import load

    data = load(source, mapping=mapping, as_of=as_of, pseudonymize=True,
                salt=salt or secrets.token_hex(16), **load_options)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.parquet"):
        old.unlink()
    for name, frame in data.tables.items():
        keep = [c for c in S.TABLES[name].names
                if c in frame.columns and c not in PERSONAL_TEXT]
        frame.select(keep).write_parquet(out / f"{name}.parquet")
    return out, data


if __name__ == "__main__":
    print("README updated" if update_readme() else "README already up to date")
