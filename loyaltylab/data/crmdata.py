"""CRMData, the validated dataset every analysis takes, and its LoadReport."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.data.privacy import (PLACEHOLDER, is_personal, mask_personal_values,
                                     neutralize_formulas, personal_values)
from loyaltylab.exceptions import MissingTableError

__all__ = ["CRMData", "LoadReport", "TableReport"]

# What each optional table is for and how to supply it; used in MissingTableError messages.
_HOW_TO_SUPPLY = {
    S.CONTACTS: "a contacts file (customer_id, contacted_at, channel[, direction, campaign])",
    S.REFERRALS: "a referrals file (referrer_id, referred_id, referred_at)",
    S.SURVEYS: "a surveys file, one answer per row (customer_id, survey, item, answered_at, "
               "score)",
    S.COMPLAINTS: "a complaints file (customer_id, opened_at[, resolved_at, category, "
                  "outcome])",
    S.SUBSCRIPTIONS: "a subscriptions file (customer_id, started_at[, ended_at, plan])",
    S.ASSIGNMENTS: "an assignments file of account-manager history (customer_id, "
                   "account_manager, assigned_from[, assigned_to, end_reason])",
    S.WEB_SESSIONS: "a web_sessions file (visitor_id, started_at[, customer_id])",
}


@dataclass
class TableReport:
    """What happened to one table on load: rows read = kept + rejected.

    Attributes
    ----------
    read, kept, rejected : int
        Row counts. ``read == kept + rejected + excluded`` always holds (``excluded``
        sums the rows excluded by the mapping's rules).
    reasons : dict[str, int]
        Rejection reason -> number of rows rejected for it (a row counts once, under its
        first reason).
    rejects : pl.DataFrame or None
        The rejected rows as read (all columns as strings), plus ``_row`` (0-based row number
        in the source, header excluded) and ``_reason``.
    source : str
        File, sheet or database table the rows came from.
    warnings : list[str]
        Things worth knowing that did not reject rows (dropped personal columns, ...).
    excluded : dict[str, dict]
        Rows the mapping's rules excluded (cancelled, test, lost, ...): rule name ->
        ``{"n": rows, "amount": their amount or None}``.
    """

    read: int = 0
    kept: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    rejects: pl.DataFrame | None = None
    source: str = ""
    warnings: list[str] = field(default_factory=list)
    excluded: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready summary: read, kept, rejected and reasons, and ``excluded``
        (rule -> ``{"n", "amount"}``) when the mapping's rules excluded rows."""
        out = {"read": self.read, "kept": self.kept, "rejected": self.rejected,
               "reasons": dict(self.reasons)}
        if self.excluded:
            out["excluded"] = {k: dict(v) for k, v in self.excluded.items()}
        return out

    def shareable_rejects(self) -> pl.DataFrame | None:
        """The rejected rows made fit to leave the building (None when there are none).

        - columns whose header denotes personal data (names, e-mail, phone, address,
          ...) are left out, also those kept on load with ``keep_personal``;
        - text cells holding an e-mail address, a phone number or an IBAN read
          ``"(personal data removed)"``;
        - text cells a spreadsheet would run as a formula (starting with ``=``, ``+``,
          ``-``, ``@``, a tab or a carriage return) get a leading single quote, except
          plain numbers such as ``-12.50`` (see
          :func:`~loyaltylab.data.privacy.neutralize_formulas`).

        Identifiers are pseudonymised when the load was (``pseudonymize=True``).

        Examples
        --------
        >>> rej = pl.DataFrame({"order_id": ["=1+1"], "amount": ["-5"], "Name": ["Ann"],
        ...                     "note": ["ann@example.org"], "_row": [3],
        ...                     "_reason": ["amount: negative"]})
        >>> TableReport(rejected=1, rejects=rej).shareable_rejects().row(0)
        ("'=1+1", '-5', '(personal data removed)', 3, 'amount: negative')
        """
        if self.rejects is None or self.rejects.height == 0:
            return None
        frame = self.rejects
        frame = frame.drop([c for c in frame.columns
                            if c not in ("_row", "_reason") and is_personal(c)])
        texts = [c for c, t in frame.schema.items() if t == pl.String and c != "_reason"]
        frame, _ = mask_personal_values(frame, columns=texts)
        return neutralize_formulas(frame)


@dataclass
class LoadReport:
    """The account of a load: one :class:`TableReport` per table found.

    Attributes
    ----------
    tables : dict[str, TableReport]
        Canonical table name -> its report.
    source : str
        What was loaded.
    warnings : list[str]
        Dataset-level warnings (tables not found, unknown files, ...).
    """

    tables: dict[str, TableReport] = field(default_factory=dict)
    source: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row of any table was rejected."""
        return all(t.rejected == 0 for t in self.tables.values())

    @property
    def n_rejected(self) -> int:
        """Rows rejected over all tables."""
        return sum(t.rejected for t in self.tables.values())

    def to_dict(self) -> dict[str, Any]:
        """``{"tables": {name: {"read", "kept", "rejected", "reasons"}}}``."""
        return {"tables": {k: v.to_dict() for k, v in self.tables.items()}}

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), **kwargs)

    def summary(self) -> pl.DataFrame:
        """One row per table and rejection reason.

        Returns
        -------
        pl.DataFrame
            - table: canonical table name
            - read: rows read from the source
            - kept: rows kept
            - rejected: rows rejected
            - reason: a rejection reason (null on the table's total row)
            - n: rows rejected for that reason (null on the total row)
        """
        rows = []
        for name, t in self.tables.items():
            rows.append({"table": name, "read": t.read, "kept": t.kept,
                         "rejected": t.rejected, "reason": None, "n": None})
            for reason, n in t.reasons.items():
                rows.append({"table": name, "read": t.read, "kept": t.kept,
                             "rejected": t.rejected, "reason": reason, "n": n})
        schema = {"table": pl.String, "read": pl.Int64, "kept": pl.Int64,
                  "rejected": pl.Int64, "reason": pl.String, "n": pl.Int64}
        return pl.DataFrame(rows, schema=schema)

    def write_rejects(self, directory: str | Path) -> list[Path]:
        """Write each table's rejected rows with their reasons to ``DIR/<table>_rejects.csv``.

        The files are deliverables a consultant may forward: personal columns are left
        out, personal values masked and spreadsheet formulas neutralised (see
        :meth:`TableReport.shareable_rejects`); identifiers are pseudonymised when the load
        was. Returns the paths written (none when nothing was rejected).
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, t in self.tables.items():
            frame = t.shareable_rejects()
            if frame is not None:
                path = out / f"{name}_rejects.csv"
                frame.write_csv(path)
                written.append(path)
        return written

    def __str__(self) -> str:
        name = Path(self.source).name if "/" in self.source or "\\" in self.source \
            else self.source
        lines = [f"Load report for {name or 'data'}"]
        if self.n_rejected:
            lines.append("  (rows are numbered from 0 in each source, header excluded)")
        for name, t in self.tables.items():
            lines.append(f"  {name:<14} read {t.read:>9,}  kept {t.kept:>9,}  "
                         f"rejected {t.rejected:>7,}")
            for reason, n in t.reasons.items():
                lines.append(f"      {n:>7,} x {reason}{_examples(t.rejects, reason)}")
            for rule, e in t.excluded.items():
                amount = "" if e.get("amount") is None else f", amount {e['amount']:,.2f}"
                lines.append(f"      excluded by rule {rule}: {e['n']:,} rows{amount}")
            for w in t.warnings:
                lines.append(f"      note: {w}")
        for w in self.warnings:
            lines.append(f"  note: {w}")
        return "\n".join(lines)


# Columns whose values are never echoed in printed reports (nor any personal header).
_NEVER_PRINTED = (S.COMMENT,) + tuple(S.PERSONAL_COLUMNS)


def _examples(rejects: pl.DataFrame | None, reason: str, k: int = 3) -> str:
    """" (rows 4, 17: '31.02.2025', 'gestern')" for the first k rows with this reason.

    The value shown is that of the column the reason names ("amount: negative" -> amount),
    never a comment or personal column, and never a value that holds personal data (an
    e-mail address, phone number or IBAN, shown as "(personal data)").
    """
    if rejects is None or "_reason" not in rejects.columns or "_row" not in rejects.columns:
        return ""
    rows = rejects.filter(pl.col("_reason") == reason).head(k)
    if rows.height == 0:
        return ""
    nums = ", ".join(str(r) for r in rows.get_column("_row").to_list())
    label = "row" if rows.height == 1 else "rows"
    col = reason.split(":", 1)[0].strip()
    if col in rows.columns and col not in _NEVER_PRINTED and not is_personal(col):
        values = rows.get_column(col).cast(pl.String)
        hidden = personal_values(values) | (values == PLACEHOLDER).fill_null(False)
        vals = ", ".join("empty" if v is None else "(personal data)" if h
                         else repr(str(v)[:30])
                         for v, h in zip(values.to_list(), hidden.to_list()))
        return f"  ({label} {nums}: {vals})"
    return f"  ({label} {nums})"


@dataclass
class CRMData:
    """A validated CRM dataset: canonical polars tables, the load report, and (for
    simulated data) the planted truth.

    Only ``customers`` and ``orders`` are required; other tables are ``None`` when absent.
    Column names and types follow :mod:`loyaltylab.data.schema`.

    Attributes
    ----------
    customers, orders, contacts, referrals, surveys, complaints, subscriptions, assignments,
    web_sessions : pl.DataFrame or None
        The canonical tables.
    report : LoadReport
        What happened on load.
    as_of : datetime or None
        The date the data describes (the extract date); analyses default to it.
    truth : dict or None
        For data from :func:`loyaltylab.datasets.make_crm`: the effects planted by the
        simulation (hazard ratios, rates), so methods can be checked against them.
    """

    customers: pl.DataFrame
    orders: pl.DataFrame
    contacts: pl.DataFrame | None = None
    referrals: pl.DataFrame | None = None
    surveys: pl.DataFrame | None = None
    complaints: pl.DataFrame | None = None
    subscriptions: pl.DataFrame | None = None
    assignments: pl.DataFrame | None = None
    web_sessions: pl.DataFrame | None = None
    report: LoadReport = field(default_factory=LoadReport)
    as_of: datetime | None = None
    truth: dict[str, Any] | None = None

    @property
    def tables(self) -> dict[str, pl.DataFrame]:
        """Canonical table name -> frame, for the tables present."""
        return {name: getattr(self, name) for name in S.TABLES
                if getattr(self, name) is not None}

    def require(self, *tables: str, purpose: str = "this analysis") -> None:
        """Raise :class:`MissingTableError` unless every named table is present.

        Examples
        --------
        >>> import polars as pl
        >>> d = CRMData(customers=pl.DataFrame(), orders=pl.DataFrame())
        >>> d.require("contacts", purpose="contact-to-sale conversion")
        Traceback (most recent call last):
        ...
        loyaltylab.exceptions.MissingTableError: contact-to-sale conversion needs the \
'contacts' table, which this dataset does not have. Supply a contacts file (customer_id, \
contacted_at, channel[, direction, campaign]) in the source folder, or map an existing file \
to 'contacts' in the mapping file.
        """
        for name in tables:
            if name not in S.TABLES:
                raise ValueError(f"unknown table {name!r}; tables are {list(S.TABLES)}")
            if getattr(self, name) is None:
                how = _HOW_TO_SUPPLY.get(name, f"a {name} file")
                raise MissingTableError(
                    f"{purpose} needs the {name!r} table, which this dataset does not have. "
                    f"Supply {how} in the source folder, or map an existing file to "
                    f"{name!r} in the mapping file."
                )

    def replace(self, **changes: Any) -> CRMData:
        """A copy with some attributes replaced (frames are immutable, so this is cheap)."""
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        current.update(changes)
        return CRMData(**current)

    def __repr__(self) -> str:
        parts = [f"{name}={frame.height:,}" for name, frame in self.tables.items()]
        as_of = f", as_of={self.as_of:%Y-%m-%d}" if self.as_of else ""
        return f"CRMData({', '.join(parts)}{as_of})"

    def _repr_html_(self) -> str:
        import html

        as_of = f" as of {self.as_of:%Y-%m-%d}" if self.as_of else ""
        rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{frame.height:,}</td>"
                       f"<td>{frame.width:,}</td></tr>" for name, frame in self.tables.items())
        rejected = int(getattr(self.report, "n_rejected", 0) or 0)
        note = (f"<p>{rejected:,} rows were rejected on load (see <code>.report</code>)</p>"
                if rejected else "")
        return (f"<div><p><b>CRMData{html.escape(as_of)}</b>: {len(self.tables)} tables</p>"
                f"<table><tr><th>table</th><th>rows</th><th>columns</th></tr>{rows}</table>"
                f"{note}</div>")


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
