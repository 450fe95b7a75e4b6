"""Privacy checks on outputs: scan files for personal data; scrub notebooks for sharing."""

from __future__ import annotations

import base64
import json
import re
import struct
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Iterator, Sequence

import polars as pl

from loyaltylab.exceptions import SourceError

__all__ = ["scan_for_personal_data", "personal_needles", "scrub_notebook", "scrub",
           "mask_value"]

_EMAIL = re.compile(r"(?<![\w.+%-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}(?![A-Za-z])")
_SEP = r"[ .\-/]"
_PHONES = [
    # international: +49 30 1234567, +1 (415) 555-0100, +44 20 7946 0958
    re.compile(rf"(?<![\w+])\+\d{{1,3}}(?:{_SEP}?\(?\d{{1,5}}\)?){{2,6}}(?![\w])"),
    # national with a trunk 0: 030 1234567, (030) 123 45 67, 06-12345678, 0612345678
    re.compile(rf"(?<![\w.,])\(?0\d{{1,4}}\)?{_SEP}?\d{{2,8}}(?:{_SEP}?\d{{2,4}}){{0,3}}"
               rf"(?![\w]|[.,]\d)"),
    # North American: (415) 555-0100, 415-555-0100, 415.555.0100
    re.compile(r"(?<![\w.,])\(?\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}(?![\w]|[.,]\d)"),
]
_DATE_LIKE = re.compile(r"\(?\d{1,4}[./\- ]\d{1,2}[./\- ]\d{1,4}\)?")
# a date (31.12.2025, 12/31/2025, 2025-12-31) at the start of a candidate: a timestamp
# such as "05.01.2025 10:15", not a phone number
_DATE_PREFIX = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}(?!\d)|\d{4}([./-])\d{1,2}\2\d{1,2}"
                          r"(?!\d)")
_WORD = re.compile(r"[^\W_]+")
_TEXT_SUFFIXES = {".html", ".htm", ".md", ".txt", ".csv", ".tsv", ".json", ".toml", ".yaml",
                  ".yml", ".log", ".py", ".tex", ".rst", ".xml", ".svg"}
_ZIP_SUFFIXES = {".pptx", ".xlsx", ".docx", ".xlsm", ".odt", ".ods", ".odp"}
_B64_IMAGE = re.compile(r"data:image/(png|jpe?g|gif|webp|svg\+xml);base64,([A-Za-z0-9+/=\s]+)")
_TAG = re.compile(r"<[^>]*>")
_PDF_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]+>", re.S)
# one text-showing operator: [ (..) kern (..) ] TJ, or (..) Tj / ' / "
_PDF_SHOW = re.compile(rb"\[(?:\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>|[^\]])*\]\s*TJ"
                       rb"|(?:\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>)\s*(?:Tj|'|\")", re.S)
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_GEOMETRY_ATTRS = frozenset({
    "d", "points", "transform", "viewbox", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy",
    "r", "rx", "ry", "width", "height", "style", "stroke-dasharray", "clip-path", "id",
    "offset", "class"})


def mask_value(value: str, kind: str) -> str:
    """Mask a found value so that the findings themselves leak nothing.

    Parameters
    ----------
    value : str
        The value found.
    kind : {"email", "phone", "needle"}
        What kind of value it is (as in the findings' ``kind`` column).

    Returns
    -------
    str
        The masked value: the first character (an e-mail's top-level domain, a phone
        number's last two digits) kept, the rest starred.

    Examples
    --------
    >>> mask_value("anna.schmidt@example.com", "email")
    'a***@e***.com'
    >>> mask_value("+49 30 1234567", "phone")
    '+** ** *****67'
    >>> mask_value("Schmidt", "needle")
    'S****** (7 chars)'
    """
    if kind == "email":
        local, _, domain = value.partition("@")
        tld = domain.rsplit(".", 1)[-1]
        return f"{local[:1]}***@{domain[:1]}***.{tld}"
    if kind == "phone":
        digits = [i for i, ch in enumerate(value) if ch.isdigit()]
        keep = set(digits[-2:])
        return "".join(ch if (not ch.isdigit() or i in keep) else "*"
                       for i, ch in enumerate(value))
    return f"{value[:1]}{'*' * (len(value) - 1)} ({len(value)} chars)"


def personal_needles(frame: Any, *, columns: Sequence[str] | None = None,
                     min_length: int = 4) -> list[str]:
    """The distinct values of personal and identifier columns of a raw client table, to
    pass as ``needles`` to :func:`scan_for_personal_data`.

    Parameters
    ----------
    frame : DataFrame
        A table as the client supplied it (before personal columns are dropped).
    columns : sequence of str, optional
        Columns to take values from; default every column whose name denotes personal
        data (name, e-mail, phone, address, ...) or a customer identifier.
    min_length : int
        Values shorter than this are left out (they would match ordinary numbers).

    Returns
    -------
    list of str
        The distinct values, sorted.

    Examples
    --------
    >>> raw = pl.DataFrame({"customer_id": ["C0001", "C0002"], "name": ["Ann Lee", "Bo"],
    ...                     "segment": ["retail", "retail"]})
    >>> personal_needles(raw)
    ['Ann Lee', 'C0001', 'C0002']
    """
    from loyaltylab._util import as_polars
    from loyaltylab.report._excel import check_no_identifiers

    df = as_polars(frame)
    if columns is None:
        columns = []
        for col in df.columns:
            try:
                check_no_identifiers(df.select(col))
            except ValueError:
                columns.append(col)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"personal_needles: columns {missing} are not in the frame "
                         f"(columns: {df.columns})")
    values: set[str] = set()
    for col in columns:
        s = df.get_column(col).drop_nulls().cast(pl.String).str.strip_chars()
        values.update(v for v in s.unique().to_list() if len(v) >= min_length)
    return sorted(values)


# ---------------------------------------------------------------- text extraction
def _xml_texts(xml: str) -> str:
    """Text nodes and attribute values of an XML/HTML document, one per line, so that
    numbers in neighbouring attributes or cells cannot run together. Geometry attributes
    (path data, coordinates, sizes) are left out: they are numbers, never personal data."""
    import html as _html

    attrs = [v1 or v2 for name, v1, v2 in _ATTR.findall(xml)
             if name.lower().split(":")[-1] not in _GEOMETRY_ATTRS]
    texts = [t for t in _TAG.sub("\n", xml).split("\n") if t.strip()]
    return "\n".join(_html.unescape(t) for t in texts + attrs)


def _html_parts(text: str, name: str) -> Iterator[tuple[str, str]]:
    svgs = []

    def _strip(m: re.Match[str]) -> str:
        if m.group(1) == "svg+xml":
            try:
                svgs.append(base64.b64decode(m.group(2)).decode("utf-8", "replace"))
            except ValueError:
                pass
        return "data:image/..."

    stripped = _B64_IMAGE.sub(_strip, text)
    yield name, _xml_texts(stripped)
    for k, svg in enumerate(svgs, start=1):
        yield f"{name} (embedded SVG {k})", _xml_texts(svg)


def _png_texts(data: bytes) -> str:
    out, pos = [], 8
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if ctype == b"tEXt":
            out.append(chunk.replace(b"\x00", b": ").decode("latin-1"))
        elif ctype == b"zTXt":
            key, _, rest = chunk.partition(b"\x00")
            try:
                out.append(key.decode("latin-1") + ": " +
                           zlib.decompress(rest[1:]).decode("latin-1"))
            except zlib.error:
                pass
        elif ctype == b"iTXt":
            key, _, rest = chunk.partition(b"\x00")
            compressed = rest[:1] == b"\x01"
            rest = rest[2:].split(b"\x00", 2)[-1]
            try:
                rest = zlib.decompress(rest) if compressed else rest
                out.append(key.decode("latin-1") + ": " + rest.decode("utf-8", "replace"))
            except zlib.error:
                pass
        pos += 12 + length
    return "\n".join(out)


def _pdf_string(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):  # backslash
            n = raw[i + 1]
            if n in b"nrtbf":
                out += {0x6E: b"\n", 0x72: b"\r", 0x74: b"\t", 0x62: b"\b",
                        0x66: b"\f"}[n]
                i += 2
            elif 0x30 <= n <= 0x37:
                m = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
                out.append(int(m.group(), 8) & 0xFF)
                i += 1 + len(m.group())
            else:
                out.append(n)
                i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def _decode_pdf_bytes(b: bytes) -> str:
    if len(b) >= 2 and len(b) % 2 == 0 and b[0::2].count(0) >= len(b) // 4:
        return b.decode("utf-16-be", "replace")
    return b.decode("latin-1")


def _pdf_strings(block: bytes) -> str:
    pieces = []
    for s in _PDF_STRING.findall(block):
        if s.startswith(b"("):
            pieces.append(_decode_pdf_bytes(_pdf_string(s[1:-1])))
        else:
            try:
                pieces.append(_decode_pdf_bytes(bytes.fromhex(
                    re.sub(rb"\s", b"", s[1:-1]).decode())))
            except ValueError:
                continue
    return "".join(pieces)


def _pdf_texts(data: bytes) -> str:
    """The text a PDF shows (one line per text-showing operator of every content stream)
    and the strings of its objects outside streams (document information, annotations).
    Font programs, images and other binary streams are skipped."""
    lines = []
    outside = re.sub(rb"stream\r?\n.*?\r?\nendstream", b"\n", data, flags=re.S)
    lines += [_pdf_strings(s) for s in _PDF_STRING.findall(outside)]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            stream = zlib.decompress(m.group(1))
        except zlib.error:
            stream = m.group(1)
        for block in re.findall(rb"\bBT\b(.*?)\bET\b", stream, re.S):
            for op in _PDF_SHOW.findall(block):
                lines.append(_pdf_strings(op))
    return "\n".join(line for line in lines if line)


def _notebook_parts(text: str, name: str) -> Iterator[tuple[str, str]]:
    try:
        nb = json.loads(text)
    except json.JSONDecodeError:
        yield name, text
        return
    yield f"{name} (metadata)", json.dumps(nb.get("metadata", {}), ensure_ascii=False)
    for k, cell in enumerate(nb.get("cells", []), start=1):
        where = f"{name} (cell {k})"
        src = cell.get("source", "")
        yield where, "".join(src) if isinstance(src, list) else str(src)
        yield where, json.dumps(cell.get("metadata", {}), ensure_ascii=False)
        for out in cell.get("outputs", []) or []:
            for key in ("text", "traceback", "evalue", "ename"):
                if key in out:
                    v = out[key]
                    yield where, "\n".join(v) if isinstance(v, list) else str(v)
            for mime, v in (out.get("data") or {}).items():
                v = "".join(v) if isinstance(v, list) else v
                if not isinstance(v, str):
                    v = json.dumps(v, ensure_ascii=False)
                if mime.startswith("image/") and mime != "image/svg+xml":
                    continue
                if mime in ("text/html", "image/svg+xml"):
                    yield from _html_parts(v, where)
                else:
                    yield where, v


def _file_parts(path: Path, name: str) -> Iterator[tuple[str, str]]:
    suffix = path.suffix.lower()
    if suffix in _ZIP_SUFFIXES:
        try:
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    if member.lower().endswith((".xml", ".rels", ".vml", ".txt", ".svg",
                                                ".csv", ".json")):
                        xml = z.read(member).decode("utf-8", "replace")
                        yield f"{name}:{member}", _xml_texts(xml)
        except zipfile.BadZipFile:
            yield name, path.read_bytes().decode("utf-8", "replace")
        return
    if suffix == ".pdf":
        yield name, _pdf_texts(path.read_bytes())
        return
    if suffix == ".png":
        yield name, _png_texts(path.read_bytes())
        return
    if suffix == ".ipynb":
        yield from _notebook_parts(path.read_text(encoding="utf-8", errors="replace"), name)
        return
    if suffix in (".html", ".htm", ".svg", ".xml"):
        yield from _html_parts(path.read_text(encoding="utf-8", errors="replace"), name)
        return
    if suffix in _TEXT_SUFFIXES:
        yield name, path.read_text(encoding="utf-8", errors="replace")


# ---------------------------------------------------------------- detection
def _phones(text: str) -> Iterator[str]:
    seen_spans: list[tuple[int, int]] = []
    for pattern in _PHONES:
        for m in pattern.finditer(text):
            value = m.group().strip()
            n_digits = sum(ch.isdigit() for ch in value)
            if not 8 <= n_digits <= 15:
                continue
            if not value.startswith("+") and (_DATE_LIKE.fullmatch(value)
                                              or _DATE_PREFIX.match(value)):
                continue
            if any(a <= m.start() < b for a, b in seen_spans):
                continue
            seen_spans.append(m.span())
            yield value


class _NeedleIndex:
    """Needles as word sequences (case-insensitive, separators ignored), indexed by their
    first word so that thousands of needles scan in one pass over the text."""

    def __init__(self, needles: Iterable[str], min_length: int) -> None:
        self.index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for needle in needles:
            needle = str(needle).strip()
            words = tuple(w.lower() for w in _WORD.findall(needle))
            if not words or sum(map(len, words)) < min_length:
                continue
            self.index.setdefault(words[0], []).append((words, needle))

    def find(self, text: str) -> Iterator[str]:
        if not self.index:
            return
        matches = list(_WORD.finditer(text))
        words = [m.group().lower() for m in matches]
        for i, w in enumerate(words):
            for seq, _needle in self.index.get(w, ()):
                if tuple(words[i:i + len(seq)]) == seq:
                    # the words must be adjacent (only separators between them)
                    gap = text[matches[i].end():matches[i + len(seq) - 1].start()]
                    if len(gap) <= 3 * (len(seq) - 1):
                        yield text[matches[i].start():matches[i + len(seq) - 1].end()]


def _collect(paths_or_dir: Any) -> list[tuple[Path, str]]:
    items = [paths_or_dir] if isinstance(paths_or_dir, (str, Path)) else list(paths_or_dir)
    out = []
    for item in items:
        p = Path(item)
        if not p.exists():
            raise SourceError(f"scan_for_personal_data: {str(p)!r} does not exist; pass "
                              f"the output folder or files to scan")
        if p.is_dir():
            out += [(f, str(f.relative_to(p))) for f in sorted(p.rglob("*"))
                    if f.is_file() and ".ipynb_checkpoints" not in f.parts]
        else:
            out.append((p, p.name))
    return out


def scan_for_personal_data(paths_or_dir: Any, *, needles: Iterable[str] = (),
                           emails: bool = True, phones: bool = True,
                           min_needle_length: int = 4) -> pl.DataFrame:
    """Scan output files for e-mail addresses, phone numbers and given raw values.

    Reads the text inside HTML (and SVG images embedded in it as base64), SVG, PPTX/XLSX/
    DOCX (every XML part of the zip: slides, notes, shared strings, sheets, properties),
    PDF (text objects of the decompressed content streams, and metadata), notebooks (cell
    sources, text, HTML and SVG outputs, metadata), the text chunks of PNG files, and plain
    text files (CSV, JSON, Markdown, ...).

    Parameters
    ----------
    paths_or_dir : path or iterable of paths
        Files, or folders scanned recursively.
    needles : iterable of str
        Raw values that must not appear: customer names, identifiers, e-mails (see
        :func:`personal_needles`). Matched case-insensitively as whole words, with any
        punctuation between the words (``"Anna Schmidt"`` also finds ``anna.schmidt``).
    emails, phones : bool
        Look for anything shaped like an e-mail address / phone number.
    min_needle_length : int
        Needles with fewer letters and digits than this are ignored (they would match
        ordinary numbers in the report).

    Returns
    -------
    pl.DataFrame
        One row per distinct finding, empty when the files are clean:

        - file: file path (relative to the folder scanned)
        - part: where in the file (zip member, notebook cell, embedded image)
        - kind: "email", "phone" or "needle"
        - match: the value found, masked (:func:`mask_value`) so the findings leak nothing
        - n: how many times it was found there

    Notes
    -----
    Pixels are not read: a name rendered into a PNG is only found in the SVG or PDF
    version of the same chart, so export charts in those formats too (the report does).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "ok.html").write_text("<p>4,812 customers; call 2023-01-05</p>")
    >>> _ = (d / "leak.csv").write_text("name,mail\\nAnna Schmidt,anna@example.com\\n")
    >>> scan_for_personal_data(d, needles=["Anna Schmidt"]).select("file", "kind", "match")
    shape: (2, 3)
    ┌──────────┬────────┬─────────────────────────┐
    │ file     ┆ kind   ┆ match                   │
    │ ---      ┆ ---    ┆ ---                     │
    │ str      ┆ str    ┆ str                     │
    ╞══════════╪════════╪═════════════════════════╡
    │ leak.csv ┆ email  ┆ a***@e***.com           │
    │ leak.csv ┆ needle ┆ A*********** (12 chars) │
    └──────────┴────────┴─────────────────────────┘
    """
    if isinstance(needles, str):
        raise TypeError("needles must be a list of strings, not one string; pass "
                        "needles=[value]")
    index = _NeedleIndex(needles, min_needle_length)
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for path, name in _collect(paths_or_dir):
        for part, text in _file_parts(path, name):
            if not text:
                continue
            found: list[tuple[str, str]] = []
            if emails:
                found += [("email", m.group()) for m in _EMAIL.finditer(text)]
            if phones:
                found += [("phone", v) for v in _phones(text)]
            found += [("needle", v) for v in index.find(text)]
            for kind, value in found:
                counts[(name, part, kind, mask_value(value, kind))] += 1
    rows = [{"file": f, "part": p, "kind": k, "match": m, "n": n}
            for (f, p, k, m), n in counts.items()]
    schema = {"file": pl.String, "part": pl.String, "kind": pl.String, "match": pl.String,
              "n": pl.Int64}
    return pl.DataFrame(rows, schema=schema).sort("file", "part", "kind", "match")


# ---------------------------------------------------------------- scrubbing notebooks
_AUTHORSHIP_KEYS = ("authors", "author", "colab", "executionInfo", "outputId", "vscode",
                    "lastEditStatus", "collaborators", "signature")
"""Notebook and cell metadata that record who wrote or ran a notebook (names, e-mails,
Colab/VS Code session details); :func:`scrub_notebook` removes them."""


def scrub_notebook(path_in: str | Path, path_out: str | Path | None = None, *,
                   drop_injected_parameters: bool = True) -> Path:
    """Strip a notebook for sharing: no outputs, no execution counts, no run metadata.

    Removes every code cell's outputs and execution count, the per-cell execution and
    papermill metadata, the notebook's papermill and widget metadata (they record the data
    paths and parameters of the run), cell attachments (pasted images), authorship
    metadata (authors, Colab and VS Code session details, see ``_AUTHORSHIP_KEYS``) and,
    by default, the cell papermill injected with the run's parameters (it names the
    client's folder). Sources, tags and the kernel specification are kept.

    Parameters
    ----------
    path_in : str or Path
        The notebook.
    path_out : str or Path, optional
        Where to write the scrubbed copy; default: overwrite ``path_in``.
    drop_injected_parameters : bool
        Remove cells tagged ``injected-parameters``.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile, nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1",
    ...     execution_count=1, outputs=[nbformat.v4.new_output("execute_result",
    ...     data={"text/plain": "2"}, execution_count=1)])])
    >>> path = Path(tempfile.mkdtemp()) / "nb.ipynb"
    >>> nbformat.write(nb, path)
    >>> cell = nbformat.read(scrub_notebook(path), as_version=4).cells[0]
    >>> cell.outputs, cell.execution_count, cell.source
    ([], None, '1 + 1')
    """
    import nbformat

    path_in = Path(path_in)
    if not path_in.is_file():
        raise SourceError(f"scrub: {str(path_in)!r} is not a file; pass a .ipynb notebook "
                          f"or a folder of them")
    try:
        nb = nbformat.read(str(path_in), as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types on bad files
        raise SourceError(f"scrub: {str(path_in)!r} is not a readable Jupyter notebook "
                          f"({type(exc).__name__}: {exc}); pass a .ipynb file") from None
    cells = []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if drop_injected_parameters and "injected-parameters" in tags:
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        meta = cell.get("metadata", {})
        for key in ("execution", "papermill", "collapsed", "scrolled", "ExecuteTime",
                    *_AUTHORSHIP_KEYS):
            meta.pop(key, None)
        cell.pop("attachments", None)  # pasted images: screenshots of client systems
        cells.append(cell)
    nb.cells = cells
    for key in ("papermill", "widgets", "execution", *_AUTHORSHIP_KEYS):
        nb.metadata.pop(key, None)
    nbformat.validate(nb)
    out = Path(path_out) if path_out is not None else path_in
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".scrub-tmp")
    nbformat.write(nb, str(tmp))
    tmp.replace(out)
    return out


def scrub(path: str | Path, *, out_dir: str | Path | None = None,
          drop_injected_parameters: bool = True) -> list[Path]:
    """Scrub one notebook or every notebook under a folder (see :func:`scrub_notebook`).

    With ``out_dir`` the scrubbed copies go there (keeping the folder structure);
    otherwise the notebooks are scrubbed in place. Returns the files written.

    Parameters
    ----------
    path : str or Path
        A notebook, or a folder searched for notebooks.
    out_dir : str or Path, optional
        Folder for the scrubbed copies; the notebooks are scrubbed in place when omitted.
    drop_injected_parameters : bool, default True
        Remove cells tagged ``injected-parameters``.

    Returns
    -------
    list of Path
        The notebooks written.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(f"scrub: {str(path)!r} does not exist; pass a notebook or a "
                          f"folder of notebooks")
    if path.is_dir():
        files = [f for f in sorted(path.rglob("*.ipynb"))
                 if ".ipynb_checkpoints" not in f.parts]
        rel = [f.relative_to(path) for f in files]
    else:
        files, rel = [path], [Path(path.name)]
    written = []
    for f, r in zip(files, rel):
        target = Path(out_dir) / r if out_dir is not None else None
        written.append(scrub_notebook(f, target,
                                      drop_injected_parameters=drop_injected_parameters))
    return written
