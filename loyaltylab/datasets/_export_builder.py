"""The writer of one synthetic client export (:class:`_Builder`) and the values it
plants (ids, localised numbers, IBANs, personal values)."""

from __future__ import annotations

import csv
import io
import sqlite3
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.datasets._export_result import ClientExport
from loyaltylab.datasets._export_vocab import (
    _COMMA_DECIMALS, DATE_STYLES, _EXCEL, FORMULAS, _IBAN_LENGTH, _L, _MONEY, _NEUTRAL_HEADER,
    _NOTE_HEADER, OPTIONAL_TABLES, _PERSONAL_KEYS, REASON_TOTALS, _REGIONS, _REQUIRED_COLUMNS,
    _SHEET1, _SPREAD, ZONES,
)

__all__ = ["_Builder", "_pick"]


# ------------------------------------------------------------------ drawing a shape
def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


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


