"""The rule language of loyalty ladders: :class:`Count` and its combinations (:class:`All`,
:class:`AnyOf`, :class:`Not`), with the checks a ladder runs on them when built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from loyaltylab._util import parse_window
from loyaltylab.data import schema as S
from loyaltylab.exceptions import LadderError

__all__ = ["Condition", "Count", "All", "AnyOf", "Not"]

def _source(table: str, person: str, what: str) -> tuple[str, str, str, str]:
    event = S.TABLES[table].event
    if event is None:  # every canonical table has one (tests/test_schema.py)
        raise LookupError(f"schema.TABLES[{table!r}] names no event column")
    return (table, person, event, what)


# source name -> (canonical table, person id column, date column (the table's event, from
# its TableSpec), what it is)
_SOURCES: dict[str, tuple[str, str, str, str]] = {
    "customers": _source(S.CUSTOMERS, S.CUSTOMER_ID, "listed in the customers table"),
    "orders": _source(S.ORDERS, S.CUSTOMER_ID, "orders"),
    "contacts": _source(S.CONTACTS, S.CUSTOMER_ID, "contacts"),
    "referrals": _source(S.REFERRALS, S.REFERRER_ID, "referrals made"),
    "surveys": _source(S.SURVEYS, S.CUSTOMER_ID, "survey answers"),
    "complaints": _source(S.COMPLAINTS, S.CUSTOMER_ID, "complaints"),
    "subscriptions": _source(S.SUBSCRIPTIONS, S.CUSTOMER_ID, "subscriptions"),
    "sessions": _source(S.WEB_SESSIONS, S.CUSTOMER_ID, "identified web sessions"),
    "anonymous_sessions": _source(S.WEB_SESSIONS, S.VISITOR_ID, "anonymous web sessions"),
}



# ============================================================================ conditions
class Condition:
    """A rule about a person's event history at a date; combine with ``&``, ``|``, ``~``."""

    def __and__(self, other: Condition) -> Condition:
        return All(self, other)

    def __or__(self, other: Condition) -> Condition:
        return AnyOf(self, other)

    def __invert__(self) -> Condition:
        return Not(self)

    def counts(self) -> list[Count]:
        """The counts the rule reads, in order (a negation reads the count it negates).

        Returns
        -------
        list of Count

        Examples
        --------
        >>> rule = Count("orders", at_least=4) | ~Count("contacts")
        >>> [c.source for c in rule.counts()]
        ['orders', 'contacts']
        """
        return _atoms(self)


@dataclass(frozen=True, eq=False)
class Count(Condition):
    """At least ``at_least`` events of ``source`` (optionally in a trailing window, counting
    distinct days or distinct values of a column, filtered by ``where``).

    Parameters
    ----------
    source : str
        One of "customers" (listed, dated by acquired_at), "orders", "contacts",
        "referrals" (referrals the person made), "surveys", "complaints", "subscriptions",
        "sessions" (identified web sessions), "anonymous_sessions" (web sessions without a
        customer_id, attributed to the customer the visitor later identified as).
    at_least : int, default 1
        Threshold (>= 1).
    within : str, optional
        Trailing window such as "365d": count only events in (t - within, t].
    distinct : str, optional
        "day" to count distinct calendar days, or a column of the table (e.g.
        "product_line") to count its distinct values.
    where : pl.Expr, optional
        Filter on the source table's rows, e.g. ``pl.col("channel") == "phone"``.
    label : str, optional
        What is counted, in words, for :meth:`Ladder.describe` and messages (e.g.
        "promoter answers" for surveys filtered to nps >= 9).

    Examples
    --------
    >>> import polars as pl
    >>> str(Count("orders", at_least=4, within="365d"))
    'orders >= 4 within 365d'
    >>> str(Count("surveys", within="365d", label="promoter answers",
    ...           where=(pl.col("item") == "nps") & (pl.col("score") >= 9)))
    'promoter answers >= 1 within 365d'
    """

    source: str
    at_least: int = 1
    within: str | None = None
    distinct: str | None = None
    where: pl.Expr | None = None
    label: str | None = None

    @property
    def table(self) -> str:
        """The canonical table the count reads (``"web_sessions"`` for both session
        sources)."""
        return _SOURCES[self.source][0]

    @property
    def person_column(self) -> str:
        """The column naming whose event it is (``referrer_id`` for referrals,
        ``visitor_id`` for anonymous sessions, else ``customer_id``)."""
        return _SOURCES[self.source][1]

    @property
    def date_column(self) -> str:
        """The column dating each event (the table's event column)."""
        return _SOURCES[self.source][2]

    def __post_init__(self) -> None:
        if self.source not in _SOURCES:
            raise LadderError(f"Count: unknown source {self.source!r}; use one of "
                              f"{sorted(_SOURCES)}")
        if isinstance(self.at_least, bool) or not isinstance(self.at_least, int) \
                or self.at_least < 1:
            raise LadderError(f"Count({self.source!r}): at_least must be a whole number "
                              f">= 1, got {self.at_least!r}; write 'no {self.source}' as "
                              f"~Count({self.source!r})")
        if self.within is not None:
            parse_window(self.within, name=f"Count({self.source!r}).within")
        if self.distinct is not None and not isinstance(self.distinct, str):
            raise LadderError(f"Count({self.source!r}).distinct: expected 'day' or a column "
                              f"name, got {self.distinct!r}")

    @property
    def family(self) -> tuple:
        """What is counted (everything but the threshold)."""
        where = None if self.where is None else str(self.where)
        window = None if self.within is None else parse_window(self.within)
        return (self.source, window, self.distinct, where)

    def __str__(self) -> str:
        what = self.source if self.distinct is None else (
            f"distinct {self.distinct}s of {self.source}" if self.distinct == "day"
            else f"distinct {self.distinct} values of {self.source}")
        if self.label:
            what = self.label
        if self.source == "customers" and not self.label:
            text = "listed as a customer"
        else:
            text = f"{what} >= {self.at_least}"
        if self.within:
            text += f" within {self.within}"
        if self.where is not None and not self.label:
            text += f" where {self.where}"
        return text


@dataclass(frozen=True, eq=False)
class All(Condition):
    """All parts hold.

    Parameters
    ----------
    *parts : Condition
        The conditions that must all hold.
    """

    parts: tuple[Condition, ...]

    def __init__(self, *parts: Condition) -> None:
        object.__setattr__(self, "parts", tuple(_check_condition(p) for p in parts))

    def __str__(self) -> str:
        return " and ".join(f"({p})" if isinstance(p, AnyOf) else str(p) for p in self.parts)


@dataclass(frozen=True, eq=False)
class AnyOf(Condition):
    """At least one part holds.

    Parameters
    ----------
    *parts : Condition
        The conditions of which at least one must hold.
    """

    parts: tuple[Condition, ...]

    def __init__(self, *parts: Condition) -> None:
        object.__setattr__(self, "parts", tuple(_check_condition(p) for p in parts))

    def __str__(self) -> str:
        return " or ".join(f"({p})" if isinstance(p, All) else str(p) for p in self.parts)


@dataclass(frozen=True, eq=False)
class Not(Condition):
    """The count is below its threshold (e.g. ``~Count("orders")``: no order yet).

    Parameters
    ----------
    part : Condition
        The condition that must not hold.
    """

    part: Condition

    def __post_init__(self) -> None:
        if not isinstance(self.part, Count):
            raise LadderError(f"Not: negate single counts only (got {self.part}); write "
                              f"~(a | b) as ~a & ~b")
        if self.part.within is not None:
            raise LadderError(f"Not({self.part}): a negated count cannot have a trailing "
                              f"window, because the date it first holds would depend on "
                              f"events dropping out of the window; use it without within=")

    def __str__(self) -> str:
        c = self.part
        if c.at_least == 1 and c.distinct is None:
            if c.label:
                return f"no {c.label}"
            return f"no {c.source}" + (f" where {c.where}" if c.where is not None else "")
        return str(c).replace(">=", "<")


def _check_condition(p: Any) -> Condition:
    if not isinstance(p, Condition):
        raise LadderError(f"expected a Count/All/AnyOf/Not condition, got {p!r}")
    return p


def _atoms(cond: Condition) -> list[Count]:
    if isinstance(cond, Count):
        return [cond]
    if isinstance(cond, Not):
        return [cond.part]
    return [a for p in cond.parts for a in _atoms(p)]


def _dnf(cond: Condition) -> list[list[tuple[bool, Count]]]:
    """Disjunctive normal form: a list of branches, each a list of (positive, Count)."""
    if isinstance(cond, Count):
        return [[(True, cond)]]
    if isinstance(cond, Not):
        return [[(False, cond.part)]]
    if isinstance(cond, AnyOf):
        return [b for p in cond.parts for b in _dnf(p)]
    out: list[list[tuple[bool, Count]]] = [[]]
    for p in cond.parts:
        out = [a + b for a in out for b in _dnf(p)]
    return out


def _bounds(branch: list[tuple[bool, Count]]) -> dict[tuple, tuple[int, float]]:
    """Per counted family: (lowest count allowed, count must stay below)."""
    out: dict[tuple, tuple[int, float]] = {}
    for positive, c in branch:
        lo, hi = out.get(c.family, (0, np.inf))
        out[c.family] = (max(lo, c.at_least), hi) if positive else (lo, min(hi, c.at_least))
    return out


def _satisfiable(branch) -> bool:
    return all(lo < hi for lo, hi in _bounds(branch).values())


def _implies(a, b) -> bool:
    """Whether branch ``a`` implies branch ``b`` (on the same counted families)."""
    ba, bb = _bounds(a), _bounds(b)
    for fam, (lo_b, hi_b) in bb.items():
        lo_a, hi_a = ba.get(fam, (0, np.inf))
        if lo_a < lo_b or hi_a > hi_b:
            return False
    return True


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
