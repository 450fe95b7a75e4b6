"""The result of a synthetic client export, :class:`ClientExport`, and the scan of
written files for planted personal values."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from loyaltylab.datasets._export_vocab import _EXCEL, _SPREAD

__all__ = ["ClientExport"]


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


