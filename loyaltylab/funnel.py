"""Loyalty ladders: who is at which stage, how many climb, who skips, who lapses, and where
the base is heading.

A ladder is an ordered list of named stages, each with a rule written from event counts
(orders, contacts, referrals, web sessions, ...). :data:`OFFLINE` and :data:`ONLINE` are the
two standard ladders; :func:`offline_ladder` and :func:`online_ladder` build them with other
thresholds, and :class:`Ladder`, :class:`Stage` and :class:`Count` build any other.

Every stage is evaluated on events up to ``as_of``; a customer's stage is the highest stage
reached by then. :func:`stages_from_crm` places customers by a CRM's own lifecycle stage
instead (HubSpot's subscriber, lead, ..., evangelist, with their dates), mapped onto the
rungs, for comparison with the ladder measured from the events. Being *lapsed* (no order
and no contact for ``lapse_after``) is a separate flag: a lapsed customer keeps the highest
stage reached.
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Sequence

import numpy as np
import polars as pl

from loyaltylab._stats import wilson_exprs
from loyaltylab._util import (as_polars, attach_by, normalize_by, parse_window, period_every,
                              resolve_as_of, to_datetime)
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.exceptions import SchemaError

__all__ = [
    "Condition", "Count", "All", "AnyOf", "Not", "Stage", "Ladder", "LadderError",
    "offline_ladder", "online_ladder", "OFFLINE", "ONLINE", "LAPSED",
    "assign_stages", "funnel", "compare_groups", "skipped_stages", "stage_jumps",
    "time_to_stage", "attention_by_stage",
    "time_to_stage_curves", "transition_matrix", "project_mix", "advocacy_outlook",
    "business_change_effect", "stage_mix", "stages_from_crm", "HUBSPOT_LIFECYCLE",
    "HUBSPOT_LIFECYCLE_DATES",
]

LAPSED = "lapsed"
"""Name of the lapsed state in transition matrices, projections and stage mixes."""

_PID, _T, _A, _V = "_pid", "_t", "_atom", "_val"
_KEY = "_key"  # 64-bit hash of _PID: persons are grouped and sorted on it, not on text
_KEY_SEEDS = (0x10ADDE12, 0x5EED2026, 0x0C0FFEE5)
_VISITOR_PREFIX = "\x00"

# source name -> (canonical table, person id column, date column, what it is)
_SOURCES: dict[str, tuple[str, str, str, str]] = {
    "customers": (S.CUSTOMERS, S.CUSTOMER_ID, S.ACQUIRED_AT, "listed in the customers table"),
    "orders": (S.ORDERS, S.CUSTOMER_ID, S.ORDERED_AT, "orders"),
    "contacts": (S.CONTACTS, S.CUSTOMER_ID, S.CONTACTED_AT, "contacts"),
    "referrals": (S.REFERRALS, S.REFERRER_ID, S.REFERRED_AT, "referrals made"),
    "surveys": (S.SURVEYS, S.CUSTOMER_ID, S.ANSWERED_AT, "survey answers"),
    "complaints": (S.COMPLAINTS, S.CUSTOMER_ID, S.OPENED_AT, "complaints"),
    "subscriptions": (S.SUBSCRIPTIONS, S.CUSTOMER_ID, S.STARTED_AT, "subscriptions"),
    "sessions": (S.WEB_SESSIONS, S.CUSTOMER_ID, S.STARTED_AT, "identified web sessions"),
    "anonymous_sessions": (S.WEB_SESSIONS, S.VISITOR_ID, S.STARTED_AT,
                           "anonymous web sessions"),
}


class LadderError(ValueError):
    """A ladder's stages or rules are malformed, overlapping or contradictory."""


# ============================================================================ conditions
class Condition:
    """A rule about a person's event history at a date; combine with ``&``, ``|``, ``~``."""

    def __and__(self, other: "Condition") -> "Condition":
        return All(self, other)

    def __or__(self, other: "Condition") -> "Condition":
        return AnyOf(self, other)

    def __invert__(self) -> "Condition":
        return Not(self)


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
    """All parts hold."""

    parts: tuple[Condition, ...]

    def __init__(self, *parts: Condition) -> None:
        object.__setattr__(self, "parts", tuple(_check_condition(p) for p in parts))

    def __str__(self) -> str:
        return " and ".join(f"({p})" if isinstance(p, AnyOf) else str(p) for p in self.parts)


@dataclass(frozen=True, eq=False)
class AnyOf(Condition):
    """At least one part holds."""

    parts: tuple[Condition, ...]

    def __init__(self, *parts: Condition) -> None:
        object.__setattr__(self, "parts", tuple(_check_condition(p) for p in parts))

    def __str__(self) -> str:
        return " or ".join(f"({p})" if isinstance(p, All) else str(p) for p in self.parts)


@dataclass(frozen=True, eq=False)
class Not(Condition):
    """The count is below its threshold (e.g. ``~Count("orders")``: no order yet)."""

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


# ============================================================================ ladders
@dataclass(frozen=True, eq=False)
class Stage:
    """One rung of a ladder.

    Parameters
    ----------
    name : str
        Identifier (letters, digits, underscores), used in column names ``reached_<name>``.
    rule : Condition
        When the rule first holds (on events up to that date), the stage is reached.
    label : str, optional
        Name for charts (default: ``name`` with spaces).
    requires : str, optional
        An earlier stage that must have been reached first (e.g. a client is a repeat
        customer who ...); the rule is then searched from that date on.
    """

    name: str
    rule: Condition
    label: str | None = None
    requires: str | None = None

    @property
    def display(self) -> str:
        """The label, or the name with spaces."""
        return self.label or self.name.replace("_", " ")


class Ladder:
    """An ordered list of stages, checked when built.

    Raises :class:`LadderError` for duplicate or malformed names, a ``requires`` that does
    not name an earlier stage, a rule that can never hold (contradiction, e.g. "orders >= 2
    and no orders"), and overlapping rules: a lower stage whose rule implies a higher
    stage's rule (whoever meets it meets the higher one at the same time, so nobody could
    ever stand at the lower stage; identical rules are the simplest case).

    Parameters
    ----------
    stages : sequence of Stage
        From the lowest rung (rank 0) to the highest.
    name : str
        Name used in messages ("offline", "online", "b2b", ...).

    Examples
    --------
    >>> from loyaltylab.funnel import Ladder, Stage, Count
    >>> lad = Ladder([Stage("buyer", Count("orders")),
    ...               Stage("regular", Count("orders", at_least=6, within="365d"),
    ...                     requires="buyer")], name="simple")
    >>> lad.names
    ['buyer', 'regular']
    >>> Ladder([Stage("a", Count("orders", at_least=2) & ~Count("orders")),
    ...         Stage("b", Count("orders"))])
    Traceback (most recent call last):
    ...
    loyaltylab.funnel.LadderError: ladder 'custom', stage 'a': the rule can never hold (orders >= 2 and no orders): contradictory thresholds on orders
    """

    def __init__(self, stages: Sequence[Stage], *, name: str = "custom") -> None:
        stages = list(stages)
        self.name = name
        if len(stages) < 2:
            raise LadderError(f"ladder {name!r}: needs at least two stages, got "
                              f"{len(stages)}")
        seen: list[str] = []
        for st in stages:
            if not isinstance(st, Stage):
                raise LadderError(f"ladder {name!r}: expected Stage objects, got {st!r}")
            if not st.name.isidentifier() or st.name == LAPSED:
                raise LadderError(f"ladder {name!r}: stage name {st.name!r} must be an "
                                  f"identifier (letters, digits, underscores) other than "
                                  f"{LAPSED!r}")
            if st.name in seen:
                raise LadderError(f"ladder {name!r}: stage {st.name!r} appears twice; "
                                  f"stage names must be unique")
            _check_condition(st.rule)
            if st.requires is not None and st.requires not in seen:
                raise LadderError(f"ladder {name!r}, stage {st.name!r}: requires="
                                  f"{st.requires!r} must name an earlier stage (earlier: "
                                  f"{seen})")
            if not any(_satisfiable(b) for b in _dnf(st.rule)):
                fams = sorted({c.source for c in _atoms(st.rule)})
                raise LadderError(f"ladder {name!r}, stage {st.name!r}: the rule can never "
                                  f"hold ({st.rule}): contradictory thresholds on "
                                  f"{', '.join(fams)}")
            seen.append(st.name)
        for i, j in itertools.combinations(range(len(stages)), 2):
            low, high = stages[i], stages[j]
            if high.requires is not None:
                continue
            bl = [b for b in _dnf(low.rule) if _satisfiable(b)]
            bh = [b for b in _dnf(high.rule) if _satisfiable(b)]
            if all(any(_implies(a, b) for b in bh) for a in bl):
                same = str(low.rule) == str(high.rule)
                raise LadderError(
                    f"ladder {name!r}: stages {low.name!r} and {high.name!r} overlap"
                    + (" (identical rules)" if same else "")
                    + f": everyone meeting {low.name!r} ({low.rule}) also meets the higher "
                    f"stage {high.name!r} ({high.rule}), so nobody could stand at "
                    f"{low.name!r}. Tighten {high.name!r} or add requires=")
        self.stages: tuple[Stage, ...] = tuple(stages)

    # ------------------------------------------------------------------ accessors
    @property
    def names(self) -> list[str]:
        """Stage names from the lowest to the highest."""
        return [s.name for s in self.stages]

    @property
    def labels(self) -> list[str]:
        """Stage labels for charts."""
        return [s.display for s in self.stages]

    @property
    def enum(self) -> pl.Enum:
        """The polars Enum of stage names, in ladder order."""
        return pl.Enum(self.names)

    @property
    def tables(self) -> dict[str, list[str]]:
        """Canonical table -> the stages whose rules need it."""
        out: dict[str, list[str]] = {}
        for st in self.stages:
            for c in _atoms(st.rule):
                out.setdefault(_SOURCES[c.source][0], [])
                if st.name not in out[_SOURCES[c.source][0]]:
                    out[_SOURCES[c.source][0]].append(st.name)
        return out

    def stage(self, name: str) -> Stage:
        """The stage called ``name``."""
        for st in self.stages:
            if st.name == name:
                return st
        raise ValueError(f"ladder {self.name!r} has no stage {name!r}; stages: "
                         f"{self.names}")

    def rank(self, name: str) -> int:
        """0-based rank of stage ``name``."""
        return self.names.index(self.stage(name).name)

    def with_stage(self, name: str, **changes: Any) -> "Ladder":
        """A new ladder with stage ``name`` changed (``rule=``, ``label=``, ``requires=``)."""
        st = self.stage(name)
        return Ladder([replace(st, **changes) if s is st else s for s in self.stages],
                      name=self.name)

    def without(self, *names: str) -> "Ladder":
        """A new ladder without the named stages (e.g. when the data has no referrals)."""
        for n in names:
            self.stage(n)
        return Ladder([s for s in self.stages if s.name not in names], name=self.name)

    def describe(self) -> pl.DataFrame:
        """The ladder as a table.

        Returns
        -------
        pl.DataFrame
            - stage_rank: 0 for the lowest stage
            - stage: stage name
            - label: label used on charts
            - rule: the rule in words
            - requires: earlier stage that must be reached first (null if none)
            - tables: canonical tables the rule reads
        """
        return pl.DataFrame({
            "stage_rank": list(range(len(self.stages))),
            "stage": self.names, "label": self.labels,
            "rule": [str(s.rule) for s in self.stages],
            "requires": [s.requires for s in self.stages],
            "tables": [", ".join(sorted({_SOURCES[c.source][0] for c in _atoms(s.rule)}))
                       for s in self.stages],
        }, schema_overrides={"stage_rank": pl.Int64, "requires": pl.String})

    def __repr__(self) -> str:
        return f"Ladder({self.name!r}: {' -> '.join(self.names)})"


def _client_rule(client_orders: int, client_lines: int | None, window: str) -> Condition:
    by_orders = Count("orders", at_least=client_orders, within=window)
    if client_lines is None:
        return by_orders
    return by_orders | Count("orders", at_least=client_lines, within=window,
                             distinct=S.PRODUCT_LINE)


def offline_ladder(*, client_orders: int = 4, client_lines: int | None = 2,
                   client_window: str = "365d", advocate_referrals: int = 1,
                   advocate_window: str = "730d") -> Ladder:
    """The offline ladder suspect -> prospect -> first-time customer -> repeat customer ->
    client -> advocate, with its thresholds as parameters.

    Rules (the defaults are :data:`OFFLINE`), evaluated on events up to the date:

    - suspect: in the customers table, with no contact and no order;
    - prospect: at least one contact, no order;
    - first-time customer: an order (exactly one, while no higher stage is reached);
    - repeat customer: orders on at least two distinct days (two orders on the same day
      are one purchase occasion);
    - client: a repeat customer with at least ``client_orders`` orders in the trailing
      ``client_window``, or orders in at least ``client_lines`` product lines in it
      (``client_lines=None`` drops the product-line rule, for data without
      ``orders.product_line``);
    - advocate: a client who made at least ``advocate_referrals`` referrals in the
      trailing ``advocate_window``.

    Examples
    --------
    >>> offline_ladder(client_orders=6).stage("client").rule.parts[0].at_least
    6
    """
    return Ladder([
        Stage("suspect", Count("customers") & ~Count("contacts") & ~Count("orders")),
        Stage("prospect", Count("contacts") & ~Count("orders")),
        Stage("first_time_customer", Count("orders"), label="first-time customer"),
        Stage("repeat_customer", Count("orders", at_least=2, distinct="day"),
              label="repeat customer"),
        Stage("client", _client_rule(client_orders, client_lines, client_window),
              requires="repeat_customer"),
        Stage("advocate", Count("referrals", at_least=advocate_referrals,
                                within=advocate_window), requires="client"),
    ], name="offline")


def online_ladder(*, client_orders: int = 4, client_lines: int | None = 2,
                  client_window: str = "365d", advocate_referrals: int = 1,
                  advocate_window: str = "730d") -> Ladder:
    """The online ladder surfer -> first-time visitor -> repeat visitor -> first-time buyer
    -> repeat buyer -> client -> advocate.

    Rules (the defaults are :data:`ONLINE`), evaluated on events up to the date:

    - surfer: an anonymous web session (a visitor_id without customer_id; sessions of a
      visitor who later identifies are attributed to that customer), with no identified
      session and no order yet;
    - first-time visitor: an identified session, no order (one identified session, while
      no higher stage is reached);
    - repeat visitor: two or more identified sessions and no order;
    - first-time buyer: an order; repeat buyer: two or more orders;
    - client and advocate: as in :func:`offline_ladder`.

    A buyer whose first order falls on the first identified visit skips both visitor
    stages. Visitors who never identify themselves appear as surfers with a ``visitor_id``
    and no ``customer_id``; customers with neither sessions nor orders are not on this
    ladder (null stage).

    Examples
    --------
    >>> online_ladder().names[:3]
    ['surfer', 'first_time_visitor', 'repeat_visitor']
    """
    return Ladder([
        Stage("surfer", Count("anonymous_sessions") & ~Count("sessions") & ~Count("orders")),
        Stage("first_time_visitor", Count("sessions") & ~Count("orders"),
              label="first-time visitor"),
        Stage("repeat_visitor", Count("sessions", at_least=2) & ~Count("orders"),
              label="repeat visitor"),
        Stage("first_time_buyer", Count("orders"), label="first-time buyer"),
        Stage("repeat_buyer", Count("orders", at_least=2), label="repeat buyer"),
        Stage("client", _client_rule(client_orders, client_lines, client_window),
              requires="repeat_buyer"),
        Stage("advocate", Count("referrals", at_least=advocate_referrals,
                                within=advocate_window), requires="client"),
    ], name="online")


OFFLINE = offline_ladder()
"""The default offline ladder (see :func:`offline_ladder`)."""
ONLINE = online_ladder()
"""The default online ladder (see :func:`online_ladder`)."""


# ============================================================================ the engine
def _ensure_data(data: Any) -> CRMData:
    if not isinstance(data, CRMData):
        raise TypeError(f"data: expected a CRMData (from ll.load, ll.from_frames or "
                        f"ll.datasets), got {type(data).__name__}")
    return data


def _ensure_ladder(ladder: Any) -> Ladder:
    if not isinstance(ladder, Ladder):
        raise TypeError(f"ladder: expected a Ladder such as ll.funnel.OFFLINE, got "
                        f"{type(ladder).__name__}")
    return ladder


def _require_tables(data: CRMData, ladder: Ladder) -> None:
    for table, stages in ladder.tables.items():
        rules = "; ".join(f"{s}: {ladder.stage(s).rule}" for s in stages)
        data.require(table, purpose=f"The {ladder.name} ladder (stage "
                     f"{', '.join(repr(s) for s in stages)}, rule {rules})")


def _visitor_links(ws: pl.LazyFrame) -> pl.LazyFrame:
    """visitor_id -> the customer it first identified as (sessions up to as_of)."""
    return (ws.filter(pl.col(S.CUSTOMER_ID).is_not_null())
            .sort(S.STARTED_AT)
            .group_by(S.VISITOR_ID)
            .agg(pl.col(S.CUSTOMER_ID).first().alias("_linked")))


def _source_events(data: CRMData, c: Count, as_of: datetime, idx: int,
                   seed: int = _KEY_SEEDS[0], *, text: bool = False) -> pl.LazyFrame:
    """Events counted by ``c``: person key (and its text when ``text``), time, value."""
    table, id_col, date_col, _ = _SOURCES[c.source]
    frame = getattr(data, table).lazy().filter(pl.col(date_col) <= as_of)
    if c.where is not None:
        frame = frame.filter(c.where)
    if c.source == "sessions":
        frame = frame.filter(pl.col(S.CUSTOMER_ID).is_not_null())
        pid = pl.col(S.CUSTOMER_ID)
    elif c.source == "anonymous_sessions":
        ws = data.web_sessions.lazy().filter(pl.col(S.STARTED_AT) <= as_of)
        frame = (frame.filter(pl.col(S.CUSTOMER_ID).is_null())
                 .join(_visitor_links(ws), on=S.VISITOR_ID, how="left"))
        pid = pl.coalesce(pl.col("_linked"), pl.lit(_VISITOR_PREFIX) + pl.col(S.VISITOR_ID))
    else:
        pid = pl.col(id_col)
    if c.distinct is None:
        val = pl.lit(None, dtype=pl.String)
    elif c.distinct == "day":
        val = pl.col(date_col).dt.date()
    else:
        if c.distinct not in getattr(data, table).columns:
            hint = (" (for the standard ladders pass client_lines=None to offline_ladder() "
                    "or online_ladder() to drop the product-line rule)"
                    if c.distinct == S.PRODUCT_LINE else "")
            raise ValueError(f"{table}.{c.distinct}: the rule '{c}' counts distinct "
                             f"{c.distinct} values but {table} has no such column; "
                             f"columns: {getattr(data, table).columns}{hint}")
        val = pl.col(c.distinct)
    if text:
        return frame.select(pid.alias(_PID)).filter(pl.col(_PID).is_not_null())
    out = frame.select(pid.hash(seed).alias(_KEY), pl.col(date_col).alias(_T),
                       pl.lit(idx, dtype=pl.Int32).alias(_A), val.alias(_V))
    if c.distinct is not None:
        out = out.filter(pl.col(_V).is_not_null())
    return out


def _unique_atoms(ladder: Ladder) -> list[Count]:
    atoms: list[Count] = []
    for st in ladder.stages:
        for c in _atoms(st.rule):
            if not any(a.family == c.family for a in atoms):
                atoms.append(c)
    return atoms


def _compile(cond: Condition, atoms: list[Count]) -> pl.Expr:
    if isinstance(cond, Count):
        i = next(k for k, a in enumerate(atoms) if a.family == cond.family)
        return pl.col(f"_n{i}") >= cond.at_least
    if isinstance(cond, Not):
        return ~_compile(cond.part, atoms)
    parts = [_compile(p, atoms) for p in cond.parts]
    out = parts[0]
    for p in parts[1:]:
        out = (out & p) if isinstance(cond, All) else (out | p)
    return out


def _in_part(part: tuple[int, int] | None) -> pl.Expr:
    """Rows of the persons in slice ``part = (k, b)``: key modulo k equals b."""
    return pl.lit(True) if part is None else (pl.col(_KEY) % part[0]) == part[1]


def _within(expr: pl.Expr) -> pl.Expr:
    """Cumulative sum of ``expr`` restarting at each person, on a frame sorted by person
    (a global cumulative sum minus its value where each person's rows begin; no window
    partitioning needed)."""
    cs = expr.cum_sum()
    first = pl.col(_KEY) != pl.col(_KEY).shift(1)
    base = pl.when(first.fill_null(True)).then(cs - expr).otherwise(None).forward_fill()
    return cs - base


def _deltas(data: CRMData, c: Count, as_of: datetime, i: int, seed: int,
            part: tuple[int, int] | None = None) -> pl.LazyFrame:
    """Step changes of counted quantity ``i``: +1 when an event enters the count, -1 when
    it leaves a trailing window. The quantity at time t is the sum of steps up to t."""
    ev = _source_events(data, c, as_of, i, seed).filter(_in_part(part))
    col = f"_d{i}"
    if c.distinct is not None and c.within is None:
        # distinct values since the start: +1 at each value's first occurrence
        return (ev.group_by(_KEY, _V).agg(pl.col(_T).min())
                .select(_KEY, _T, pl.lit(1, dtype=pl.Int32).alias(col)))
    if c.within is None:
        return ev.select(_KEY, _T, pl.lit(1, dtype=pl.Int32).alias(col))
    w = parse_window(c.within)
    if c.distinct is None:
        # an event counts in (t - w, t] for t in [s, s + w)
        steps = [ev.select(_KEY, _T, pl.lit(1, dtype=pl.Int32).alias(col)),
                 ev.select(_KEY, (pl.col(_T) + w).alias(_T),
                           pl.lit(-1, dtype=pl.Int32).alias(col))]
    else:
        # a value counts while covered by [s, s + w) of one of its events: merge the
        # overlapping intervals of each (person, value), +1 at a start, -1 at an end
        srt = ev.sort(_KEY, _V, _T)
        new = ((pl.col(_KEY) != pl.col(_KEY).shift(1))
               | (pl.col(_V) != pl.col(_V).shift(1))).fill_null(True)
        srt = srt.with_columns(
            (new | ((pl.col(_T) - pl.col(_T).shift(1)) >= w)).fill_null(True)
            .alias("_start"))
        srt = srt.with_columns(pl.col("_start").shift(-1).fill_null(True).alias("_end"))
        steps = [srt.filter("_start").select(_KEY, _T, pl.lit(1, dtype=pl.Int32).alias(col)),
                 srt.filter("_end").select(_KEY, (pl.col(_T) + w).alias(_T),
                                           pl.lit(-1, dtype=pl.Int32).alias(col))]
    return pl.concat(steps).filter(pl.col(_T) <= as_of)


def _timeline(data: CRMData, ladder: Ladder, as_of: datetime,
              atoms: list[Count], seed: int,
              part: tuple[int, int] | None = None) -> pl.LazyFrame:
    """Per person and time point: the value ``_n<i>`` of every counted quantity (lazy).

    Time points are the person's event dates (plus the dates an event leaves a trailing
    window); a stage rule can only become true at an event date, because counts in
    trailing windows only fall at the other points and negated counts have no window.
    """
    cols = [f"_d{i}" for i in range(len(atoms))]
    parts = []
    for i, c in enumerate(atoms):
        d = _deltas(data, c, as_of, i, seed, part)
        parts.append(d.select(_KEY, _T, *[pl.col(x) if x == f"_d{i}" else
                                          pl.lit(0, dtype=pl.Int32).alias(x) for x in cols]))
    # every listed customer appears on the timeline from acquired_at, even without events
    parts.append(data.customers.lazy()
                 .filter(pl.col(S.ACQUIRED_AT) <= as_of)
                 .select(pl.col(S.CUSTOMER_ID).hash(seed).alias(_KEY),
                         pl.col(S.ACQUIRED_AT).alias(_T),
                         *[pl.lit(0, dtype=pl.Int32).alias(x) for x in cols])
                 .filter(_in_part(part)))
    steps = (pl.concat(parts, how="vertical")
             .group_by(_KEY, _T).agg([pl.col(x).sum() for x in cols])
             .sort(_KEY, _T))
    return steps.select(_KEY, _T, *[_within(pl.col(f"_d{i}").cast(pl.Int32)).alias(f"_n{i}")
                                    for i in range(len(atoms))])


def _reached(data: CRMData, ladder: Ladder, as_of: datetime) -> tuple[pl.LazyFrame, int]:
    """One row per person: _key, _pid, _first_seen, and reached_<stage> first-reached
    dates; and the seed of the person keys (for :func:`_activity`).

    The last evaluation is remembered (one entry, keyed on the very frames, ladder and
    date), so a funnel and a transition matrix of the same data and date evaluate the
    ladder once.
    """
    frames = [getattr(data, t) for t in S.TABLES]
    memo_key = (tuple(None if f is None else f.shape for f in frames), as_of)
    if _MEMO and _MEMO[0] == memo_key and all(
            (r is None and f is None) or (r is not None and r() is f)
            for r, f in zip(_MEMO[1], frames + [ladder])):
        return _MEMO[2].lazy(), _MEMO[3]
    names_frame, seed = _person_names(data, ladder, as_of)
    atoms = _unique_atoms(ladder)
    # Large data are evaluated in slices of persons (by key), each a fraction of the
    # memory of the whole timeline; a person's events all fall in one slice.
    events = sum(getattr(data, _SOURCES[c.source][0]).height for c in atoms)
    slices = max(1, -(-events // _SLICE_EVENTS))
    parts = [_reached_slice(data, ladder, as_of, atoms, seed,
                            None if slices == 1 else (slices, b)).collect()
             for b in range(slices)]
    per = pl.concat(parts) if slices > 1 else parts[0]
    per = per.join(names_frame, on=_KEY, how="left")
    if per.get_column(_PID).null_count():  # persons outside the customers table
        per = per.drop(_PID).join(_person_names(data, ladder, as_of, seed=seed,
                                                everyone=True)[0], on=_KEY, how="left")
    per = per.select(_KEY, _PID, pl.exclude(_KEY, _PID))
    _MEMO[:] = [memo_key, [None if f is None else weakref.ref(f) for f in frames + [ladder]],
                per, seed]
    return per.lazy(), seed


_SLICE_EVENTS = 8_000_000
"""Counted events per slice of persons when the ladder is evaluated in slices."""


def _reached_slice(data: CRMData, ladder: Ladder, as_of: datetime, atoms: list[Count],
                   seed: int, part: tuple[int, int] | None) -> pl.LazyFrame:
    """:func:`_reached` for the persons whose key is ``b`` modulo ``k`` (``part = (k, b)``;
    everyone when None)."""
    tl = _timeline(data, ladder, as_of, atoms, seed, part)
    names = ladder.names
    ok: dict[str, pl.Expr] = {}
    for st in ladder.stages:
        cond = _compile(st.rule, atoms)
        if st.requires is not None:
            # the required stage was reached at this time point or earlier
            cond = cond & pl.col(f"_by_{st.requires}")
        ok[st.name] = cond
        if any(s.requires == st.name for s in ladder.stages):
            tl = tl.with_columns((_within(cond.cast(pl.Int32)) > 0).alias(f"_by_{st.name}"))
    per = tl.group_by(_KEY).agg(pl.col(_T).min().alias("_first_seen"),
                                *[pl.col(_T).filter(ok[n]).min().alias(f"_r_{n}")
                                  for n in names])
    # a stage reached only after a higher stage was reached was skipped
    out = []
    for k, n in enumerate(names):
        higher = [pl.col(f"_r_{m}") for m in names[k + 1:]]
        if higher:
            m = pl.min_horizontal(higher)
            out.append(pl.when(m.is_not_null() & (m < pl.col(f"_r_{n}")))
                       .then(None).otherwise(pl.col(f"_r_{n}")).alias(f"reached_{n}"))
        else:
            out.append(pl.col(f"_r_{n}").alias(f"reached_{n}"))
    return per.select(_KEY, "_first_seen", *out)


_MEMO: list = []
"""The last ladder evaluation: [shapes of the frames and the date, weak references to the
frames and ladder it was computed from, result, seed]. A hit needs the very same objects,
still alive and of the same shapes; the weak references never keep a dataset alive."""


def _person_names(data: CRMData, ladder: Ladder, as_of: datetime, *, seed: int | None = None,
                  everyone: bool = False) -> tuple[pl.DataFrame, int]:
    """Person key -> person id text (_key, _pid), and the hash seed of the keys.

    Persons are the customers (and, on ladders that count anonymous web sessions, the
    visitors never identified); with ``everyone`` also anyone else the ladder's sources
    name (only in data that bypassed validation). The seed is the first of
    :data:`_KEY_SEEDS` under which no two of these ids share a 64-bit key, so persons
    are never merged by a hash collision.
    """
    parts = [data.customers.select(pl.col(S.CUSTOMER_ID).alias(_PID))]
    atoms = _unique_atoms(ladder)
    for i, c in enumerate(atoms):
        if c.source == "anonymous_sessions" or (everyone and c.source != "customers"):
            parts.append(_source_events(data, c, as_of, i, text=True).collect())
    ids = pl.concat(parts).get_column(_PID).drop_nulls()
    if len(parts) > 1:
        ids = ids.unique()
    for s in ((seed,) if seed is not None else _KEY_SEEDS):
        keys = ids.hash(s)
        if keys.n_unique() == keys.len() or ids.n_unique() == keys.n_unique():
            return pl.DataFrame({_KEY: keys, _PID: ids}).unique(_KEY), s
    raise RuntimeError("loyalty ladder: person ids collide under every 64-bit hash seed")




def _activity(data: CRMData, as_of: datetime, seed: int) -> pl.LazyFrame:
    """Orders and contacts (the lapse rule's activity), up to as_of, by person key."""
    parts = [data.orders.lazy().select(pl.col(S.CUSTOMER_ID).hash(seed).alias(_KEY),
                                       pl.col(S.ORDERED_AT).alias(_T))]
    if data.contacts is not None:
        parts.append(data.contacts.lazy().select(pl.col(S.CUSTOMER_ID).hash(seed).alias(_KEY),
                                                 pl.col(S.CONTACTED_AT).alias(_T)))
    return pl.concat(parts).filter(pl.col(_T) <= as_of)


def _earliest(data: CRMData, ladder: Ladder) -> tuple[datetime | None, str]:
    best, where = None, ""
    tables = set(ladder.tables) | {S.CUSTOMERS, S.ORDERS}
    for src, (table, _, date_col, _) in _SOURCES.items():
        frame = getattr(data, table)
        if table not in tables or frame is None or frame.height == 0:
            continue
        v = frame.get_column(date_col).min()
        if v is not None and (best is None or v < best):
            best, where = v, f"{table}.{date_col}"
    return best, where


def _prepare(data, ladder, as_of, lapse_after):
    data = _ensure_data(data)
    ladder = _ensure_ladder(ladder)
    _require_tables(data, ladder)
    as_of = resolve_as_of(data, as_of)
    first, where = _earliest(data, ladder)
    if first is None or as_of < first:
        raise ValueError(f"as_of={as_of:%Y-%m-%d} is before all data (the earliest date is "
                         f"{first} in {where or 'the data'}); pass an as_of on or after it")
    lapse = parse_window(lapse_after, name="lapse_after")
    return data, ladder, as_of, lapse


def _stage_columns(ladder: Ladder, at: datetime | None = None, *, suffix: str = "") -> list:
    """Expressions for stage, stage_rank from reached_* columns (as of ``at``)."""
    names = ladder.names
    rank = pl.lit(None, dtype=pl.Int64)
    for k, n in enumerate(names):
        hit = pl.col(f"reached_{n}").is_not_null()
        if at is not None:
            hit = hit & (pl.col(f"reached_{n}") <= at)
        rank = pl.when(hit).then(pl.lit(k, dtype=pl.Int64)).otherwise(rank)
    stage = pl.lit(pl.Series(names, dtype=ladder.enum)).get(rank)
    return [stage.alias(f"stage{suffix}"), rank.alias(f"stage_rank{suffix}")]


def _stage_expr(ladder: Ladder, rank: pl.Expr) -> pl.Expr:
    return pl.when(rank.is_not_null()).then(
        pl.lit(pl.Series(ladder.names, dtype=pl.String)).get(rank.fill_null(0)))


def _person_states(data, ladder, as_of, lapse, dates: Sequence[datetime]) -> pl.LazyFrame:
    """Reached dates at as_of, plus the state at each of ``dates`` (``_s0``, ``_s1`` ...):
    "lapsed" or the stage name (null when not yet on the ladder)."""
    reached, seed = _reached(data, ladder, as_of)
    act = _activity(data, as_of, seed)
    last = act.group_by(_KEY).agg(
        [pl.col(_T).filter(pl.col(_T) <= d).max().alias(f"_last{i}")
         for i, d in enumerate(dates)])
    out = reached.join(last, on=_KEY, how="left")
    names = ladder.names
    cols = []
    for i, d in enumerate(dates):
        rank = pl.lit(None, dtype=pl.Int64)
        for k, n in enumerate(names):
            hit = pl.col(f"reached_{n}").is_not_null() & (pl.col(f"reached_{n}") <= d)
            rank = pl.when(hit).then(pl.lit(k, dtype=pl.Int64)).otherwise(rank)
        lapsed = pl.col(f"_last{i}").is_not_null() & (pl.col(f"_last{i}") <= d - lapse)
        state = (pl.when(rank.is_null()).then(None)
                 .when(lapsed).then(pl.lit(LAPSED))
                 .otherwise(_stage_expr(ladder, rank)))
        cols += [state.alias(f"_s{i}"), rank.alias(f"_rank{i}")]
    return out.with_columns(cols)


def _ids(ladder: Ladder) -> list[pl.Expr]:
    online = "web_sessions" in ladder.tables
    is_vis = pl.col(_PID).str.starts_with(_VISITOR_PREFIX)
    cols = [pl.when(is_vis).then(None).otherwise(pl.col(_PID)).alias(S.CUSTOMER_ID)]
    if online:
        cols.append(pl.when(is_vis).then(pl.col(_PID).str.slice(1)).otherwise(None)
                    .alias(S.VISITOR_ID))
    return cols


# ============================================================================ public API
def assign_stages(data: CRMData, ladder: Ladder = OFFLINE, *, as_of: Any = None,
                  lapse_after: str | int | timedelta = "365d") -> pl.DataFrame:
    """Place every customer on a loyalty ladder at ``as_of``.

    Parameters
    ----------
    data : CRMData
    ladder : Ladder, default :data:`OFFLINE`
        :data:`OFFLINE`, :data:`ONLINE` or a custom :class:`Ladder`.
    as_of : date, datetime or ISO string, optional
        Only events up to this date count (default ``data.as_of``, else the last order).
    lapse_after : str, default "365d"
        A person with at least one order or contact, but none in the trailing
        ``lapse_after`` (the window (as_of - lapse_after, as_of]), is lapsed.

    Returns
    -------
    pl.DataFrame
        One row per person known at ``as_of`` (customers acquired or active by then; on the
        online ladder also visitors who never identified themselves):

        - customer_id: customer (null for a never-identified visitor)
        - visitor_id: only on ladders that read web sessions; the visitor id of a
          never-identified visitor, null for customers
        - stage: highest stage reached by ``as_of`` (Enum in ladder order; null when no
          stage rule ever held, e.g. a customer with no web session and no order on the
          online ladder)
        - stage_rank: 0 for the lowest stage
        - lapsed: had an order or contact, but none in the trailing ``lapse_after``
        - last_active_at: last order or contact up to ``as_of`` (null if none)
        - reached_<stage>: one column per stage, when it was first reached (null when it
          never was, or was skipped)
        - skipped: list of the stages below ``stage`` that were never reached

    Notes
    -----
    A stage is reached on the first date its rule holds on the events up to that date
    (trailing windows are measured back from that date); a stage with ``requires`` is
    searched only from the date the required stage was reached. A stage first reached
    only after a higher stage had been reached counts as skipped. The stage is the highest
    rung reached: a client whose ordering later slows stays a client, and the ``lapsed``
    flag, :func:`transition_matrix` and :func:`business_change_effect` show who fell away.

    The rules run as one polars lazy query: every counted quantity becomes a series of
    step changes (+1 when an event enters the count, -1 when it leaves a trailing window),
    summed per person along time, so no rolling windows or per-person loops are needed.
    Persons are grouped and sorted on a 64-bit hash of their id (a seed under which no
    two known ids collide is chosen first); data with many events are evaluated in
    slices of persons, which bounds memory (1 million customers and 30 million events:
    about 20 s and 1.2 GB on two cores). The last evaluation is remembered, so a
    :func:`funnel` and a :func:`transition_matrix` of the same data and date share it.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> st = ll.funnel.assign_stages(ll.datasets.load_sample())
    >>> st.columns[:6]
    ['customer_id', 'stage', 'stage_rank', 'lapsed', 'last_active_at', 'reached_suspect']
    >>> st.height
    5000
    """
    data, ladder, as_of, lapse = _prepare(data, ladder, as_of, lapse_after)
    return _assign(data, ladder, as_of, lapse).collect()


def _assign(data, ladder, as_of, lapse) -> pl.LazyFrame:
    reached, seed = _reached(data, ladder, as_of)
    last = (_activity(data, as_of, seed).group_by(_KEY)
            .agg(pl.col(_T).max().alias("last_active_at")))
    names = ladder.names
    rank_cols = _stage_columns(ladder)
    skipped = pl.concat_list([
        pl.when(pl.col(f"reached_{n}").is_null() & (pl.col("stage_rank") > k))
        .then(pl.lit(n)).otherwise(None) for k, n in enumerate(names)]).list.drop_nulls()
    return (reached.join(last, on=_KEY, how="left")
            .with_columns(rank_cols)
            .with_columns(
                (pl.col("last_active_at").is_not_null()
                 & (pl.col("last_active_at") <= as_of - lapse)).alias("lapsed"),
                skipped.alias("skipped"))
            .select(*_ids(ladder), "stage", "stage_rank", "lapsed", "last_active_at",
                    *[f"reached_{n}" for n in names], "skipped")
            .sort([S.CUSTOMER_ID] + ([S.VISITOR_ID] if "web_sessions" in ladder.tables
                                     else []), nulls_last=True))


def _stages_with_by(data, ladder, as_of, lapse_after, by):
    stages = assign_stages(data, ladder, as_of=as_of, lapse_after=lapse_after)
    cols = normalize_by(by)
    if cols:
        stages = attach_by(stages, data.customers, cols)
        stages = stages.with_columns([pl.col(c).cast(pl.String).fill_null("(missing)")
                                      for c in cols])
    return stages, cols


def _chi2(table: np.ndarray) -> tuple[float, float, int]:
    from scipy.stats import chi2_contingency

    table = table[table.sum(axis=1) > 0]
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return float("nan"), float("nan"), 0
    res = chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue), int(res.dof)


def funnel(data: CRMData, ladder: Ladder = OFFLINE, *, as_of: Any = None,
           by: str | Sequence[str] | None = None, lapse_after: str = "365d",
           confidence: float = 0.95) -> pl.DataFrame:
    """The ladder funnel: how many reached each stage or beyond, and the step conversions.

    Parameters
    ----------
    data : CRMData
    ladder : Ladder, default :data:`OFFLINE`
    as_of, lapse_after
        As in :func:`assign_stages`.
    by : str or list of str, optional
        Customer attribute(s) to split by (segment, acquisition_channel, ...); adds a
        test per step of whether the groups convert at the same rate.
    confidence : float, default 0.95
        Coverage of the Wilson intervals.

    Returns
    -------
    pl.DataFrame
        One row per (group and) stage, lowest stage first:

        - ``by`` columns, when given (missing values as "(missing)")
        - stage: stage name; stage_rank: 0 for the lowest
        - reached: persons whose highest stage is this one or a higher one
        - share_of_top: reached / persons on the ladder (reached at rank 0)
        - at_stage: persons whose highest stage is this one
        - lapsed: of those at this stage, how many are lapsed
        - converted: of ``reached``, how many reached the next stage or beyond (null on
          the top stage)
        - conversion: converted / reached, the step conversion to the next stage
        - ci_low, ci_high: Wilson interval of ``conversion``
        - chi2, dof, p_value (only with ``by``): Pearson chi-square test (no continuity
          correction) that all groups share the step's conversion; with two groups it is
          the pooled two-proportion z-test (chi2 = z^2)

    Examples
    --------
    >>> import loyaltylab as ll
    >>> f = ll.funnel.funnel(ll.datasets.load_sample())
    >>> f["stage"].to_list()[:3]
    ['suspect', 'prospect', 'first_time_customer']
    >>> bool((f["reached"].diff().drop_nulls() <= 0).all())
    True
    """
    stages, cols = _stages_with_by(data, ladder, as_of, lapse_after, by)
    stages = stages.filter(pl.col("stage_rank").is_not_null())
    grid = pl.DataFrame({"stage_rank": list(range(len(ladder.names))),
                         "stage": ladder.names},
                        schema={"stage_rank": pl.Int64, "stage": pl.String})
    if cols:
        grid = stages.select(cols).unique().join(grid, how="cross")
    counts = (stages.group_by(*cols, "stage_rank")
              .agg(pl.len().alias("at_stage"), pl.col("lapsed").sum().alias("lapsed")))
    top = len(ladder.names) - 1
    out = (grid.join(counts, on=[*cols, "stage_rank"], how="left")
           .with_columns(pl.col("at_stage").fill_null(0).cast(pl.Int64),
                         pl.col("lapsed").fill_null(0).cast(pl.Int64))
           .sort(*cols, "stage_rank")
           .with_columns(pl.col("at_stage").reverse().cum_sum().reverse()
                         .over(cols or pl.lit(1)).alias("reached")))
    out = out.with_columns(
        (pl.col("reached") / pl.col("reached").first().over(cols or pl.lit(1)))
        .alias("share_of_top"),
        pl.when(pl.col("stage_rank") < top)
        .then(pl.col("reached").shift(-1).over(cols or pl.lit(1))).alias("converted"))
    out = out.with_columns(
        pl.when(pl.col("reached") > 0).then(pl.col("converted") / pl.col("reached"))
        .alias("conversion"),
        *wilson_exprs("converted", "reached", confidence=confidence))
    select = [*cols, "stage", "stage_rank", "reached", "share_of_top", "at_stage", "lapsed",
              "converted", "conversion", "ci_low", "ci_high"]
    if cols:
        tests = []
        for k in range(top):
            step = out.filter(pl.col("stage_rank") == k)
            conv = step["converted"].to_numpy().astype(float)
            tab = np.column_stack([conv, step["reached"].to_numpy() - conv])
            chi2, p, dof = _chi2(tab)
            tests.append({"stage_rank": k, "chi2": chi2, "dof": dof, "p_value": p})
        tests.append({"stage_rank": top, "chi2": None, "dof": None, "p_value": None})
        test = pl.DataFrame(tests, schema={"stage_rank": pl.Int64, "chi2": pl.Float64,
                                           "dof": pl.Int64, "p_value": pl.Float64})
        out = out.join(test, on="stage_rank", how="left").with_columns(
            pl.col("chi2").fill_nan(None), pl.col("p_value").fill_nan(None))
        select += ["chi2", "dof", "p_value"]
    return out.select(select).sort(*cols, "stage_rank")


def compare_groups(data: CRMData, ladder: Ladder = OFFLINE, *, by: str,
                   groups: tuple[str, str], as_of: Any = None, lapse_after: str = "365d",
                   confidence: float = 0.95) -> pl.DataFrame:
    """Two groups' step conversions side by side, with the difference, its interval and a test.

    The ``by=`` :func:`funnel` tests whether *all* groups convert alike at each step; this
    answers the usual follow-up question: does group A convert better than group B, by how
    much, and at which steps?

    Parameters
    ----------
    data : CRMData
    ladder : Ladder, default :data:`OFFLINE`
    by : str
        Customer attribute that holds the groups (segment, reward_scheme, ...).
    groups : (str, str)
        The two values of ``by`` to compare, A first.
    as_of, lapse_after
        As in :func:`assign_stages`.
    confidence : float, default 0.95
        Coverage of the intervals.

    Returns
    -------
    pl.DataFrame
        One row per step (every stage but the top one), lowest first:

        - stage, next_stage: the step from ``stage`` to ``next_stage`` or beyond
        - group_a, group_b: the two groups compared
        - reached_a, converted_a, conversion_a: group A's persons who reached the stage,
          of whom converted, and the share (likewise ``_b`` for group B)
        - difference: conversion_a - conversion_b
        - ci_low, ci_high: Newcombe's hybrid score interval of the difference (method 10
          of Newcombe 1998, built on the Wilson intervals of the two shares)
        - z, p_value: pooled two-proportion z-test of equal conversions (two-sided)
        - p_holm: p-values adjusted for testing every step (Holm 1979)

    Raises
    ------
    ValueError
        A group that is not a value of ``by`` (the values present are named).

    Examples
    --------
    >>> import loyaltylab as ll
    >>> c = ll.funnel.compare_groups(ll.datasets.load_sample(), by="reward_scheme",
    ...                              groups=("every_purchase", "first_time_discount"))
    >>> c.columns[:4]
    ['stage', 'next_stage', 'group_a', 'group_b']
    >>> bool((c["ci_low"] <= c["difference"]).all() and (c["difference"] <= c["ci_high"]).all())
    True
    """
    from loyaltylab._stats import holm, newcombe_interval, two_proportion_test

    if not isinstance(groups, (tuple, list)) or len(groups) != 2:
        raise ValueError(f"groups: expected two values of {by!r}, e.g. "
                         f"groups=('every_purchase', 'first_time_discount'); got {groups!r}")
    f = funnel(data, ladder, as_of=as_of, by=by, lapse_after=lapse_after,
               confidence=confidence)
    present = sorted(str(v) for v in f.get_column(by).unique().to_list())
    for g in groups:
        if str(g) not in present:
            raise ValueError(f"groups: {g!r} is not a value of {by!r}; values: {present}")
    a, b = (f.filter(pl.col(by) == str(g)).sort("stage_rank") for g in groups)
    names = _ensure_ladder(ladder).names
    rows = []
    for ra, rb in zip(a.iter_rows(named=True), b.iter_rows(named=True)):
        if ra["stage_rank"] + 1 >= len(names):
            continue
        k1, n1, k2, n2 = ra["converted"] or 0, ra["reached"], rb["converted"] or 0, rb["reached"]
        lo, hi = newcombe_interval(k1, n1, k2, n2, confidence=confidence)
        z, p = two_proportion_test(k1, n1, k2, n2)
        rows.append({
            "stage": ra["stage"], "next_stage": names[ra["stage_rank"] + 1],
            "group_a": str(groups[0]), "group_b": str(groups[1]),
            "reached_a": n1, "converted_a": k1, "conversion_a": k1 / n1 if n1 else None,
            "reached_b": n2, "converted_b": k2, "conversion_b": k2 / n2 if n2 else None,
            "difference": (k1 / n1 - k2 / n2) if n1 and n2 else None,
            "ci_low": None if lo != lo else lo, "ci_high": None if hi != hi else hi,
            "z": None if z != z else z, "p_value": None if p != p else p})
    out = pl.DataFrame(rows, schema={
        "stage": pl.String, "next_stage": pl.String, "group_a": pl.String,
        "group_b": pl.String, "reached_a": pl.Int64, "converted_a": pl.Int64,
        "conversion_a": pl.Float64, "reached_b": pl.Int64, "converted_b": pl.Int64,
        "conversion_b": pl.Float64, "difference": pl.Float64, "ci_low": pl.Float64,
        "ci_high": pl.Float64, "z": pl.Float64, "p_value": pl.Float64})
    return out.with_columns(pl.Series("p_holm", holm(out.get_column("p_value").to_list()),
                                      dtype=pl.Float64))


def skipped_stages(data: CRMData, ladder: Ladder = OFFLINE, *, as_of: Any = None,
                   by: str | Sequence[str] | None = None,
                   confidence: float = 0.95) -> pl.DataFrame:
    """How often each stage is jumped over.

    A stage is *passed* by everyone whose highest stage is above it, and *skipped* by those
    of them who never reached it (a walk-in buyer skips suspect and prospect).

    Returns
    -------
    pl.DataFrame
        One row per (group and) stage below the top:

        - ``by`` columns, when given
        - stage, stage_rank
        - passed: persons whose highest stage is above this one
        - skipped: of them, persons who never reached this stage
        - share: skipped / passed
        - ci_low, ci_high: Wilson interval of ``share``

    Examples
    --------
    >>> import loyaltylab as ll
    >>> sk = ll.funnel.skipped_stages(ll.datasets.load_sample())
    >>> sk.columns
    ['stage', 'stage_rank', 'passed', 'skipped', 'share', 'ci_low', 'ci_high']
    """
    stages, cols = _stages_with_by(data, ladder, as_of, "365d", by)
    stages = stages.filter(pl.col("stage_rank").is_not_null())
    frames = []
    for k, n in enumerate(ladder.names[:-1]):
        passed = stages.filter(pl.col("stage_rank") > k)
        grp = (passed.group_by(cols) if cols else passed.group_by(pl.lit(1).alias("_all")))
        agg = grp.agg(pl.len().cast(pl.Int64).alias("passed"),
                      pl.col(f"reached_{n}").is_null().sum().cast(pl.Int64)
                      .alias("skipped"))
        if not cols:
            agg = agg.drop("_all")
        frames.append(agg.with_columns(pl.lit(n).alias("stage"),
                                       pl.lit(k, dtype=pl.Int64).alias("stage_rank")))
    out = pl.concat(frames, how="vertical")
    return (out.with_columns(
                pl.when(pl.col("passed") > 0).then(pl.col("skipped") / pl.col("passed"))
                .alias("share"),
                *wilson_exprs("skipped", "passed", confidence=confidence))
            .select(*cols, "stage", "stage_rank", "passed", "skipped", "share", "ci_low",
                    "ci_high")
            .sort(*cols, "stage_rank"))


def stage_jumps(data: CRMData, ladder: Ladder = OFFLINE, *, as_of: Any = None,
                by: str | Sequence[str] | None = None) -> pl.DataFrame:
    """Every step between consecutive stages a person reached, with the stages jumped.

    Returns
    -------
    pl.DataFrame
        One row per (group,) from-stage and to-stage observed:

        - ``by`` columns, when given
        - from_stage: the stage left ("(entry)" for the first stage a person reached)
        - to_stage: the next stage the person reached
        - stages_skipped: how many stages lie between them
        - n: persons who made this step
        - share: n / all persons who left ``from_stage`` (entered, for "(entry)")
        - same_day: of them, how many reached ``to_stage`` on the day they reached
          ``from_stage`` (e.g. a buyer on the first identified visit)
        - median_days: median days between the two stages

    Examples
    --------
    >>> import loyaltylab as ll
    >>> j = ll.funnel.stage_jumps(ll.datasets.load_sample())
    >>> int(j.filter(j["from_stage"] == "(entry)")["n"].sum()) == 5000
    True
    """
    stages, cols = _stages_with_by(data, ladder, as_of, "365d", by)
    names = ladder.names
    long = (stages.filter(pl.col("stage_rank").is_not_null())
            .with_row_index("_row")
            .unpivot(index=["_row", *cols], on=[f"reached_{n}" for n in names],
                     variable_name="_stage", value_name="_at")
            .filter(pl.col("_at").is_not_null())
            .with_columns(pl.col("_stage").str.slice(len("reached_")).alias("to_stage"))
            .with_columns(pl.col("to_stage").replace_strict(
                {n: k for k, n in enumerate(names)}, return_dtype=pl.Int64).alias("_k"))
            .sort("_row", "_k")
            .with_columns(pl.col("to_stage").shift(1).over("_row").alias("from_stage"),
                          pl.col("_k").shift(1).over("_row").alias("_kfrom"),
                          pl.col("_at").shift(1).over("_row").alias("_from_at")))
    long = long.with_columns(
        pl.col("from_stage").fill_null("(entry)"),
        (pl.col("_k") - pl.col("_kfrom").fill_null(-1) - 1).alias("stages_skipped"),
        (pl.col("_at") - pl.col("_from_at")).dt.total_days().alias("_days"))
    out = (long.group_by(*cols, "from_stage", "to_stage", "stages_skipped", "_kfrom", "_k")
           .agg(pl.len().cast(pl.Int64).alias("n"),
                (pl.col("_days") == 0).sum().cast(pl.Int64).alias("same_day"),
                pl.col("_days").median().alias("median_days")))
    out = out.with_columns((pl.col("n") / pl.col("n").sum().over(*cols, "from_stage"))
                           .alias("share"))
    return (out.sort(*cols, pl.col("_kfrom").fill_null(-1), "_k")
            .select(*cols, "from_stage", "to_stage", "stages_skipped", "n", "share",
                    "same_day", "median_days"))


def _durations(data, ladder, as_of, origin, by):
    names = ladder.names
    origin = origin or names[1]
    k0 = ladder.rank(origin)
    if k0 >= len(names) - 1:
        raise ValueError(f"origin={origin!r} is the top stage of the {ladder.name} ladder; "
                         f"pick a lower stage from {names[:-1]}")
    stages, cols = _stages_with_by(data, ladder, as_of, "365d", by)
    as_of = resolve_as_of(data, as_of)
    base = stages.filter(pl.col(f"reached_{origin}").is_not_null())
    frames = []
    for k in range(k0 + 1, len(names)):
        arrive = pl.min_horizontal([pl.col(f"reached_{n}") for n in names[k:]])
        frames.append(base.select(
            *cols, pl.lit(names[k]).alias("stage"), pl.lit(k, dtype=pl.Int64).alias("_k"),
            ((pl.coalesce(arrive, pl.lit(as_of)) - pl.col(f"reached_{origin}"))
             .dt.total_seconds() / 86400).alias("_days"),
            arrive.is_not_null().alias("_arrived")))
    return pl.concat(frames), cols, origin


def _km(days: np.ndarray, arrived: np.ndarray, confidence: float):
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter(alpha=1 - confidence)
    kmf.fit(days, event_observed=arrived)
    return kmf


def time_to_stage(data: CRMData, ladder: Ladder = OFFLINE, *, origin: str | None = None,
                  as_of: Any = None, by: str | Sequence[str] | None = None,
                  horizon: str = "365d", confidence: float = 0.95) -> pl.DataFrame:
    """How long people take from ``origin`` to each higher stage, with censoring.

    The clock starts when a person reached ``origin`` (default: the second stage, e.g.
    the first contact of a prospect); it stops when the person first reaches the target
    stage or any higher one (jumping past a stage counts as arriving). People who have not
    arrived by ``as_of`` are censored there. Kaplan-Meier estimates via lifelines.

    Parameters
    ----------
    origin : str, optional
        Stage the clock starts at; only persons who reached it are counted.
    horizon : str, default "365d"
        Also report the share that arrives within this time.

    Returns
    -------
    pl.DataFrame
        One row per (group and) target stage:

        - ``by`` columns, when given
        - origin: the starting stage
        - stage: the target stage
        - n: persons who reached ``origin``
        - arrived: of them, persons who reached the stage (or beyond) by ``as_of``
        - median_days: Kaplan-Meier median days to arrive (null when fewer than half
          ever arrive within the follow-up)
        - median_ci_low, median_ci_high: its confidence interval (lifelines'
          ``median_survival_times`` on the Greenwood log(-log) band; null when unbounded)
        - share_within: Kaplan-Meier share arrived within ``horizon``
        - share_ci_low, share_ci_high: its pointwise interval

    Examples
    --------
    >>> import loyaltylab as ll
    >>> t = ll.funnel.time_to_stage(ll.datasets.load_sample())
    >>> t["stage"].to_list()
    ['first_time_customer', 'repeat_customer', 'client', 'advocate']
    """
    from lifelines.utils import median_survival_times

    long, cols, origin = _durations(data, ladder, as_of, origin, by)
    h = parse_window(horizon, name="horizon").total_seconds() / 86400
    rows = []
    for key, part in long.group_by(*cols, "_k", "stage", maintain_order=True):
        days = part["_days"].to_numpy()
        arrived = part["_arrived"].to_numpy()
        kmf = _km(days, arrived, confidence)
        med = float(kmf.median_survival_time_)
        ci = median_survival_times(kmf.confidence_interval_)
        lo, hi = (float(v) for v in ci.iloc[0])
        sf = kmf.survival_function_at_times(h).iloc[0]
        band = kmf.confidence_interval_survival_function_
        idx = band.index.searchsorted(h, side="right") - 1
        s_lo, s_hi = (float(v) for v in band.iloc[max(idx, 0)])
        fin = lambda v: v if np.isfinite(v) else None  # noqa: E731
        row = dict(zip([*cols, "_k", "stage"], key))
        row.update(origin=origin, n=len(days), arrived=int(arrived.sum()),
                   median_days=fin(med), median_ci_low=fin(lo), median_ci_high=fin(hi),
                   share_within=1 - float(sf), share_ci_low=1 - s_hi,
                   share_ci_high=1 - s_lo)
        rows.append(row)
    out = pl.DataFrame(rows, schema_overrides={"median_days": pl.Float64,
                                               "median_ci_low": pl.Float64,
                                               "median_ci_high": pl.Float64})
    return (out.sort(*cols, "_k")
            .select(*cols, "origin", "stage", "n", "arrived", "median_days",
                    "median_ci_low", "median_ci_high", "share_within", "share_ci_low",
                    "share_ci_high"))


def time_to_stage_curves(data: CRMData, ladder: Ladder = OFFLINE, *,
                         origin: str | None = None, as_of: Any = None,
                         by: str | Sequence[str] | None = None,
                         confidence: float = 0.95) -> pl.DataFrame:
    """Kaplan-Meier curves of the share arrived at each stage by days since ``origin``
    (see :func:`time_to_stage`), for plotting.

    Returns
    -------
    pl.DataFrame
        - ``by`` columns, when given
        - stage: the target stage
        - days: days since reaching ``origin``
        - share_arrived: 1 - Kaplan-Meier survival
        - ci_low, ci_high: pointwise interval

    Examples
    --------
    >>> import loyaltylab as ll
    >>> c = ll.funnel.time_to_stage_curves(ll.datasets.load_sample())
    >>> c.columns
    ['stage', 'days', 'share_arrived', 'ci_low', 'ci_high']
    """
    long, cols, _ = _durations(data, ladder, as_of, origin, by)
    frames = []
    for key, part in long.group_by(*cols, "_k", "stage", maintain_order=True):
        kmf = _km(part["_days"].to_numpy(), part["_arrived"].to_numpy(), confidence)
        sf = kmf.survival_function_.iloc[:, 0].to_numpy()
        band = kmf.confidence_interval_survival_function_.to_numpy()
        f = pl.DataFrame({"days": kmf.survival_function_.index.to_numpy().astype(float),
                          "share_arrived": 1 - sf, "ci_low": 1 - band[:, 1],
                          "ci_high": 1 - band[:, 0]})
        vals = dict(zip([*cols, "_k", "stage"], key))
        frames.append(f.with_columns([pl.lit(vals[c]).alias(c) for c in
                                      [*cols, "_k", "stage"]]))
    return (pl.concat(frames).sort(*cols, "_k", "days")
            .select(*cols, "stage", "days", "share_arrived", "ci_low", "ci_high"))


def _states(ladder: Ladder) -> list[str]:
    return [*ladder.names, LAPSED]


def transition_matrix(data: CRMData, ladder: Ladder = OFFLINE, *, start: Any, end: Any,
                      by: str | Sequence[str] | None = None, lapse_after: str = "365d",
                      normalize: bool = True) -> pl.DataFrame:
    """Stage at ``start`` against state at ``end``, with lapsed as its own state.

    Only persons on the ladder at ``start`` are counted. Since a stage is the highest rung
    reached, people only move up or lapse (and a lapsed person who is active again
    returns to the stage reached).

    Parameters
    ----------
    start, end : date, datetime or ISO string
        ``start < end <= as_of``.
    by : str or list of str, optional
        Customer attribute(s): one matrix per group.
    normalize : bool, default True
        Row shares (each row sums to 1); False gives counts.

    Returns
    -------
    pl.DataFrame
        One row per (group and) state at ``start`` that occurs:

        - ``by`` columns, when given
        - from_state: stage (or "lapsed") at ``start``
        - n: persons in that state at ``start``
        - one column per state (stages in ladder order, then "lapsed"): share (or count)
          of them in that state at ``end``

    Examples
    --------
    >>> import loyaltylab as ll
    >>> m = ll.funnel.transition_matrix(ll.datasets.load_sample(), start="2024-01-01",
    ...                                 end="2025-01-01")
    >>> m.columns[:3], m.columns[-1]
    (['from_state', 'n', 'suspect'], 'lapsed')
    """
    data = _ensure_data(data)
    start, end = to_datetime(start, name="start"), to_datetime(end, name="end")
    if not start < end:
        raise ValueError(f"start={start:%Y-%m-%d} must be before end={end:%Y-%m-%d}")
    data, ladder, _, lapse = _prepare(data, ladder, end, lapse_after)
    first, _ = _earliest(data, ladder)
    if start < first:
        raise ValueError(f"start={start:%Y-%m-%d} is before all data (the earliest date is "
                         f"{first}); pass a later start")
    states = _person_states(data, ladder, end, lapse, [start, end])
    cols = normalize_by(by)
    frame = states.filter(pl.col("_s0").is_not_null())
    if cols:
        ids = frame.select(pl.col(_PID).alias(S.CUSTOMER_ID), "_s0", "_s1").collect()
        frame = attach_by(ids, data.customers, cols).with_columns(
            [pl.col(c).cast(pl.String).fill_null("(missing)") for c in cols]).lazy()
    return _matrix(frame.select(*cols, "_s0", "_s1").collect(), ladder, cols, normalize)


def _matrix(pairs: pl.DataFrame, ladder: Ladder, cols: list[str],
            normalize: bool) -> pl.DataFrame:
    states = _states(ladder)
    counts = pairs.group_by(*cols, "_s0", "_s1").agg(pl.len().alias("_n"))
    wide = counts.pivot(on="_s1", index=[*cols, "_s0"], values="_n")
    for s in states:
        if s not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.UInt32).alias(s))
    wide = wide.with_columns([pl.col(s).fill_null(0).cast(pl.Int64) for s in states])
    wide = wide.with_columns(pl.sum_horizontal(states).alias("n"))
    if normalize:
        wide = wide.with_columns([(pl.col(s) / pl.col("n")) for s in states])
    order = {s: k for k, s in enumerate(states)}
    return (wide.rename({"_s0": "from_state"})
            .with_columns(pl.col("from_state").replace_strict(order, return_dtype=pl.Int64)
                          .alias("_k"))
            .sort(*cols, "_k").select(*cols, "from_state", "n", *states))


def _markov(matrix: pl.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    if "from_state" not in matrix.columns or "n" not in matrix.columns:
        raise ValueError("matrix: expected the output of transition_matrix (columns "
                         "from_state, n and one per state)")
    states = [c for c in matrix.columns[matrix.columns.index("n") + 1:]]
    extra = [c for c in matrix.columns[:matrix.columns.index("from_state")]]
    if extra:
        raise ValueError(f"matrix: has by= columns {extra}; filter one group first, e.g. "
                         f"matrix.filter(pl.col({extra[0]!r}) == ...)")
    rows = {r["from_state"]: r for r in matrix.iter_rows(named=True)}
    P = np.zeros((len(states), len(states)))
    n = np.zeros(len(states))
    for i, s in enumerate(states):
        r = rows.get(s)
        if r is None or not r["n"]:
            P[i, i] = 1.0                      # unobserved state: assumed to stay
            continue
        vals = np.array([float(r[t]) for t in states])
        P[i] = vals / vals.sum()
        n[i] = r["n"]
    return states, P, n


def project_mix(matrix: pl.DataFrame, *, periods: int = 5,
                start: dict[str, float] | None = None) -> pl.DataFrame:
    """Project the state mix ``periods`` steps ahead, treating the transition matrix as a
    time-homogeneous first-order Markov chain.

    One period is the span between the matrix's ``start`` and ``end`` dates. Assumptions:
    the moves observed in that period repeat unchanged (same probabilities each period,
    no memory beyond the current state), the population is closed (no new customers), and a
    state observed for nobody at the start keeps its members.

    Parameters
    ----------
    matrix : pl.DataFrame
        Output of :func:`transition_matrix` (one group; shares or counts).
    periods : int, default 5
    start : dict, optional
        State -> count or share at period 0; default the matrix's own starting mix (``n``).

    Returns
    -------
    pl.DataFrame
        - period: 0 .. periods
        - state: stage name or "lapsed"
        - share: expected share of the population in that state, ``mix_0 @ P^period``

    Examples
    --------
    >>> import polars as pl
    >>> m = pl.DataFrame({"from_state": ["a", "b", "lapsed"], "n": [10, 10, 0],
    ...                   "a": [0.5, 0.0, 0.0], "b": [0.5, 1.0, 0.0],
    ...                   "lapsed": [0.0, 0.0, 1.0]})
    >>> project_mix(m, periods=2).filter(pl.col("period") == 2)["share"].to_list()
    [0.125, 0.875, 0.0]
    """
    states, P, n = _markov(matrix)
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 0:
        raise ValueError(f"periods: expected a whole number >= 0, got {periods!r}")
    if start is None:
        mix = n
    else:
        unknown = set(start) - set(states)
        if unknown:
            raise ValueError(f"start: unknown states {sorted(unknown)}; states: {states}")
        mix = np.array([float(start.get(s, 0.0)) for s in states])
    if mix.sum() <= 0:
        raise ValueError("start: the starting mix is empty (all counts zero)")
    mix = mix / mix.sum()
    rows = []
    for t in range(periods + 1):
        rows += [{"period": t, "state": s, "share": float(v)} for s, v in zip(states, mix)]
        mix = mix @ P
    return pl.DataFrame(rows, schema={"period": pl.Int64, "state": pl.String,
                                      "share": pl.Float64})


def advocacy_outlook(matrix: pl.DataFrame, *, target: str | None = None,
                     lapsed_absorbing: bool = True, periods: int | None = None
                     ) -> pl.DataFrame:
    """From each state: the chance of ever reaching ``target`` (default the top stage)
    and the expected number of periods to get there, by absorbing-chain algebra.

    ``target`` is made absorbing; with ``lapsed_absorbing=True`` lapsing is treated as
    leaving the ladder for good, so each person ends either at the target or lapsed.
    With Q the transient-to-transient block and R the transient-to-absorbing block, the
    fundamental matrix is N = (I - Q)^-1, the absorption probabilities B = N R, and the
    expected number of periods to reach the target given that it is reached is
    (N b)_i / b_i, with b the target column of B (Kemeny & Snell 1960, ch. III).

    Parameters
    ----------
    matrix : pl.DataFrame
        Output of :func:`transition_matrix` (one group).
    target : str, optional
        Stage to reach (default the last state before "lapsed").
    lapsed_absorbing : bool, default True
        False keeps the observed moves out of lapsed (reactivation).
    periods : int, optional
        Also report the chance of reaching ``target`` within this many periods.

    Returns
    -------
    pl.DataFrame
        One row per starting state, plus a row "(all)" weighted by the starting mix:

        - from_state: state now
        - n: persons in it at the matrix's start
        - p_reach: probability of ever reaching ``target``
        - expected_periods: expected periods to reach it, given that it is reached (null
          when it cannot be)
        - p_within: probability of being at ``target`` within ``periods`` (only when
          ``periods`` is given)

    Examples
    --------
    >>> import polars as pl
    >>> m = pl.DataFrame({"from_state": ["a", "top", "lapsed"], "n": [10, 0, 0],
    ...                   "a": [0.5, 0.0, 0.0], "top": [0.25, 1.0, 0.0],
    ...                   "lapsed": [0.25, 0.0, 1.0]})
    >>> advocacy_outlook(m)["p_reach"].to_list()[0]
    0.5
    """
    states, P, n = _markov(matrix)
    target = target or [s for s in states if s != LAPSED][-1]
    if target not in states:
        raise ValueError(f"target={target!r} is not a state of the matrix; states: {states}")
    P = P.copy()
    t = states.index(target)
    absorbing = {t}
    if lapsed_absorbing and LAPSED in states:
        absorbing.add(states.index(LAPSED))
    for a in absorbing:
        P[a] = 0.0
        P[a, a] = 1.0
    # states from which the target can be reached at all
    reach = {t}
    changed = True
    while changed:
        changed = False
        for i in range(len(states)):
            if i not in reach and i not in absorbing and any(P[i, j] > 0 for j in reach):
                reach.add(i)
                changed = True
    trans = [i for i in range(len(states)) if i not in absorbing and i in reach]
    p_reach = np.zeros(len(states))
    exp_t = np.full(len(states), np.nan)
    p_reach[t], exp_t[t] = 1.0, 0.0
    if trans:
        Q = P[np.ix_(trans, trans)]
        b_direct = P[trans, t]
        N = np.linalg.inv(np.eye(len(trans)) - Q)
        b = N @ b_direct
        with np.errstate(divide="ignore", invalid="ignore"):
            e = (N @ b) / b
        p_reach[trans] = b
        exp_t[trans] = np.where(b > 0, e, np.nan)
    rows = [{"from_state": s, "n": int(n[i]), "p_reach": float(p_reach[i]),
             "expected_periods": None if not np.isfinite(exp_t[i]) else float(exp_t[i])}
            for i, s in enumerate(states)]
    w = n / n.sum() if n.sum() > 0 else np.zeros_like(n)
    finite = np.isfinite(exp_t) & (p_reach > 0)
    tot = float((w * p_reach).sum())
    exp_all = (float((w * p_reach * np.where(finite, exp_t, 0)).sum() / tot)
               if tot > 0 else None)
    rows.append({"from_state": "(all)", "n": int(n.sum()), "p_reach": tot,
                 "expected_periods": exp_all})
    out = pl.DataFrame(rows, schema={"from_state": pl.String, "n": pl.Int64,
                                     "p_reach": pl.Float64, "expected_periods": pl.Float64})
    if periods is not None:
        Pk = np.linalg.matrix_power(P, int(periods))
        within = list(Pk[:, t]) + [float((w * Pk[:, t]).sum())]
        out = out.with_columns(pl.Series("p_within", within, dtype=pl.Float64))
    return out


def business_change_effect(data: CRMData, ladder: Ladder = OFFLINE, *, date: Any,
                           window: str = "365d", lapse_after: str = "365d",
                           confidence: float = 0.95) -> pl.DataFrame:
    """Movement between stages in the ``window`` before a business change (price rise,
    rebrand, policy change) against the ``window`` after it, by stage at the window start.

    The "before" cohort is everyone on the ladder (and not lapsed) at ``date - window``,
    followed to ``date``; the "after" cohort everyone on the ladder (not lapsed) at
    ``date``, followed to ``date + window``. For each stage, the share that lapsed and the
    share that moved up in each period are compared with a pooled two-proportion z-test.
    This is a before/after comparison: seasonality or a trend in the base also shows up in
    it.

    Returns
    -------
    pl.DataFrame
        One row per stage with persons in both cohorts:

        - stage, stage_rank
        - n_before, n_after: cohort sizes
        - lapsed_before, lapsed_after: share lapsed by the end of the window
        - lapsed_ci_low_after, lapsed_ci_high_after: Wilson interval of lapsed_after
        - lapse_ratio: lapsed_after / lapsed_before
        - lapse_p_value: two-proportion z-test of lapsed_after == lapsed_before
        - up_before, up_after: share that reached a higher stage
        - up_p_value: the same test for moving up

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()
    >>> e = ll.funnel.business_change_effect(d, date="2024-10-01", window="180d")
    >>> "lapse_ratio" in e.columns
    True
    """
    from loyaltylab._stats import two_proportion_test

    data = _ensure_data(data)
    date = to_datetime(date, name="date")
    w = parse_window(window, name="window")
    end = date + w
    data, ladder, as_of, lapse = _prepare(data, ladder, None, lapse_after)
    if end > as_of:
        raise ValueError(f"date + window = {end:%Y-%m-%d} is after as_of={as_of:%Y-%m-%d}; "
                         f"pass a shorter window= (at most {(as_of - date).days} days)")
    states = _person_states(data, ladder, end, lapse, [date - w, date, end]).collect()
    frames = []
    for period, (a, b) in {"before": (0, 1), "after": (1, 2)}.items():
        s = states.filter(pl.col(f"_s{a}").is_not_null() & (pl.col(f"_s{a}") != LAPSED))
        frames.append(s.group_by(pl.col(f"_rank{a}").alias("stage_rank")).agg(
            pl.len().cast(pl.Int64).alias(f"n_{period}"),
            (pl.col(f"_s{b}") == LAPSED).sum().cast(pl.Int64).alias(f"_l_{period}"),
            ((pl.col(f"_rank{b}") > pl.col(f"_rank{a}")) & (pl.col(f"_s{b}") != LAPSED))
            .sum().cast(pl.Int64).alias(f"_u_{period}")))
    out = frames[0].join(frames[1], on="stage_rank", how="inner").sort("stage_rank")
    rows = []
    for r in out.iter_rows(named=True):
        _, pl_ = two_proportion_test(r["_l_after"], r["n_after"], r["_l_before"],
                                     r["n_before"])
        _, pu = two_proportion_test(r["_u_after"], r["n_after"], r["_u_before"],
                                    r["n_before"])
        rows.append({"stage_rank": r["stage_rank"], "lapse_p_value": pl_,
                     "up_p_value": pu})
    tests = pl.DataFrame(rows, schema={"stage_rank": pl.Int64, "lapse_p_value": pl.Float64,
                                       "up_p_value": pl.Float64})
    out = out.join(tests, on="stage_rank").with_columns(
        _stage_expr(ladder, pl.col("stage_rank")).alias("stage"),
        (pl.col("_l_before") / pl.col("n_before")).alias("lapsed_before"),
        (pl.col("_l_after") / pl.col("n_after")).alias("lapsed_after"),
        (pl.col("_u_before") / pl.col("n_before")).alias("up_before"),
        (pl.col("_u_after") / pl.col("n_after")).alias("up_after"),
        *[e.name.prefix("lapsed_").name.suffix("_after")
          for e in wilson_exprs("_l_after", "n_after", confidence=confidence)])
    out = out.with_columns(
        pl.when(pl.col("lapsed_before") > 0)
        .then(pl.col("lapsed_after") / pl.col("lapsed_before")).alias("lapse_ratio"),
        pl.col("lapse_p_value").fill_nan(None), pl.col("up_p_value").fill_nan(None))
    return out.select("stage", "stage_rank", "n_before", "n_after", "lapsed_before",
                      "lapsed_after", "lapsed_ci_low_after", "lapsed_ci_high_after",
                      "lapse_ratio", "lapse_p_value", "up_before", "up_after", "up_p_value")


def stage_mix(data: CRMData, ladder: Ladder = OFFLINE, *, every: str = "month",
              start: Any = None, as_of: Any = None,
              lapse_after: str = "365d") -> pl.DataFrame:
    """How many people stand at each stage (or are lapsed) at the end of each period.

    Returns
    -------
    pl.DataFrame
        One row per date and state:

        - date: end of the period (the first instant of the next period, capped at as_of)
        - state: stage name or "lapsed"
        - n: persons in that state at ``date``
        - share: n / persons on the ladder at ``date``

    Examples
    --------
    >>> import loyaltylab as ll
    >>> mix = ll.funnel.stage_mix(ll.datasets.load_sample(), every="year")
    >>> mix["date"].n_unique()
    3
    """
    data, ladder, as_of, lapse = _prepare(data, ladder, as_of, lapse_after)
    first, _ = _earliest(data, ladder)
    start = to_datetime(start, name="start") if start is not None else first
    every_ = period_every(every)
    dates = pl.datetime_range(start, as_of, every_, eager=True).dt.truncate(every_)
    dates = sorted({d for d in dates.dt.offset_by(every_).to_list() if d <= as_of}
                   | ({as_of} if every_ == "1d" else set()))
    if not dates:
        dates = [as_of]
    states = _person_states(data, ladder, as_of, lapse, dates).collect()
    frames = []
    for i, d in enumerate(dates):
        frames.append(states.filter(pl.col(f"_s{i}").is_not_null())
                      .group_by(pl.col(f"_s{i}").alias("state"))
                      .agg(pl.len().cast(pl.Int64).alias("n"))
                      .with_columns(pl.lit(d, dtype=pl.Datetime("us")).alias("date")))
    order = {s: k for k, s in enumerate(_states(ladder))}
    grid = pl.DataFrame({"date": dates}, schema={"date": pl.Datetime("us")}).join(
        pl.DataFrame({"state": _states(ladder)}), how="cross")
    out = grid.join(pl.concat(frames), on=["date", "state"], how="left").with_columns(
        pl.col("n").fill_null(0))
    return (out.with_columns((pl.col("n") / pl.col("n").sum().over("date")).alias("share"),
                             pl.col("state").replace_strict(order, return_dtype=pl.Int64)
                             .alias("_k"))
            .sort("date", "_k").select("date", "state", "n", "share"))


def attention_by_stage(data: CRMData, ladder: Ladder = OFFLINE, *, window: str = "365d",
                       as_of: Any = None, direction: str | None = "outbound",
                       lapse_after: str = "365d", confidence: float = 0.95) -> pl.DataFrame:
    """How much contact each ladder stage gets: persons by their state at the start of
    ``window``, and the contacts they received during it.

    Parameters
    ----------
    data : CRMData
        Needs contacts.
    ladder : Ladder
    window : str
        The period measured, ending at ``as_of`` (default a year).
    as_of : optional
    direction : str or None
        Count only contacts in this direction (default "outbound": the attention the
        business gives); None counts all.
    lapse_after : str
        As in :func:`assign_stages`; lapsed persons form their own row.
    confidence : float

    Returns
    -------
    pl.DataFrame
        One row per state (ladder stages in order, then "lapsed"):

        - state, stage_rank (null for lapsed)
        - persons: persons in that state at ``as_of - window``
        - contacts: contacts they received in the window
        - value, ci_low, ci_high: contacts per person-month, with the exact (Garwood)
          Poisson interval
        - contacted: persons with at least one contact in the window
        - contacted_share: contacted / persons
        - spend_per_person: contact cost per person (``contacts.cost``; null without it)
        - definition

    Notes
    -----
    The stage is fixed at the start of the window, so a contact that moved a prospect up
    counts for the prospects. Persons who were not yet known at the start are left out.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> a = ll.funnel.attention_by_stage(ll.datasets.load_sample())
    >>> a.columns[:4]
    ['state', 'stage_rank', 'persons', 'contacts']
    """
    from loyaltylab.metrics._base import DAYS_PER_MONTH, poisson_ci

    data = _ensure_data(data)
    data.require(S.CONTACTS, purpose="attention by ladder stage")
    w = parse_window(window, name="window")
    _, ladder, cut, _ = _prepare(data, ladder, as_of, lapse_after)
    start = cut - w
    st = (assign_stages(data, ladder, as_of=start, lapse_after=lapse_after)
          .select(S.CUSTOMER_ID, pl.when(pl.col("lapsed")).then(pl.lit(LAPSED))
                  .otherwise(pl.col("stage").cast(pl.String)).alias("state")))
    c = data.contacts.lazy().filter((pl.col(S.CONTACTED_AT) > start)
                                    & (pl.col(S.CONTACTED_AT) <= cut))
    if direction is not None:
        if S.DIRECTION not in data.contacts.columns:
            raise SchemaError(f"attention by ladder stage with direction={direction!r} needs "
                              f"contacts.{S.DIRECTION}; pass direction=None to count all "
                              f"contacts")
        c = c.filter(pl.col(S.DIRECTION) == direction)
    has_cost = S.CONTACT_COST in data.contacts.columns
    per = (c.group_by(S.CUSTOMER_ID)
           .agg(pl.len().alias("_n"),
                (pl.col(S.CONTACT_COST).fill_null(0.0).sum() if has_cost
                 else pl.lit(None, dtype=pl.Float64)).alias("_cost"))
           .collect())
    months = w.total_seconds() / 86400 / DAYS_PER_MONTH
    joined = st.join(per, on=S.CUSTOMER_ID, how="left", nulls_equal=False)
    res = (joined.group_by("state")
           .agg(pl.len().cast(pl.Int64).alias("persons"),
                pl.col("_n").fill_null(0).sum().cast(pl.Int64).alias("contacts"),
                (pl.col("_n").fill_null(0) > 0).sum().cast(pl.Int64).alias("contacted"),
                (pl.col("_cost").fill_null(0.0).sum() if has_cost
                 else pl.lit(None, dtype=pl.Float64)).alias("_spend")))
    grid = pl.DataFrame({"state": _states(ladder)})
    res = (grid.join(res, on="state", how="left")
           .with_columns(pl.col("persons", "contacts", "contacted").fill_null(0),
                         (pl.col("persons") * months).alias("_exposure")))
    res = poisson_ci(res, "contacts", "_exposure", confidence=confidence)
    rank = {s: i for i, s in enumerate(ladder.names)}
    return res.with_columns(
        pl.col("state").replace_strict(rank, default=None, return_dtype=pl.Int64)
        .alias("stage_rank"),
        pl.when(pl.col("persons") > 0).then(pl.col("contacted") / pl.col("persons"))
        .alias("contacted_share"),
        pl.when(pl.col("persons") > 0).then(pl.col("_spend") / pl.col("persons"))
        .alias("spend_per_person"),
        pl.lit(f"{direction or 'all'} contacts in ({start:%Y-%m-%d}, {cut:%Y-%m-%d}] per "
               f"person-month, persons by their state on {start:%Y-%m-%d}")
        .alias("definition"),
    ).select("state", "stage_rank", "persons", "contacts", "value", "ci_low", "ci_high",
             "contacted", "contacted_share", "spend_per_person", "definition")


# ====================================================================== CRM lifecycle
HUBSPOT_LIFECYCLE: dict[str, str | None] = {
    "subscriber": "suspect", "lead": "prospect", "marketingqualifiedlead": "prospect",
    "salesqualifiedlead": "prospect", "opportunity": "prospect",
    "customer": "first_time_customer", "evangelist": "advocate", "other": None,
}
"""HubSpot's default lifecycle stages (in their order, see
https://knowledge.hubspot.com/contacts/use-lifecycle-stages) on the rungs of
:data:`OFFLINE`: a subscriber is a suspect; leads, qualified leads and opportunities are
prospects (in touch, no purchase); a customer has bought (the CRM does not say how often);
an evangelist advocates; "other" is not on the ladder. Keys are compared without case,
spaces, hyphens or underscores, so the export's labels ("Marketing Qualified Lead") and the
internal values ("marketingqualifiedlead") both match."""

HUBSPOT_LIFECYCLE_DATES: dict[str, str] = {
    "subscriber": "Became a Subscriber Date", "lead": "Became a Lead Date",
    "marketingqualifiedlead": "Became a Marketing Qualified Lead Date",
    "salesqualifiedlead": "Became a Sales Qualified Lead Date",
    "opportunity": "Became an Opportunity Date", "customer": "Became a Customer Date",
    "evangelist": "Became an Evangelist Date",
    "other": "Became an Other Lifecycle Stage Date",
}
"""The columns of a HubSpot contacts export that date each lifecycle stage (HubSpot's
default property labels; an export holds them when they were chosen or "all properties"
were exported). Pass the ones the export has as ``dates=``."""


def _crm_key(value: str) -> str:
    import re
    return re.sub(r"[\s_\-]+", "", str(value).strip().lower())


def _crm_dates(frame: pl.DataFrame, col: str) -> pl.Expr:
    """A date column of a CRM export as naive datetimes; raises on unreadable text."""
    dtype = frame.schema[col]
    if isinstance(dtype, pl.Datetime):
        e = pl.col(col)
        if dtype.time_zone is not None:
            e = e.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return e.cast(pl.Datetime("us"))
    if dtype == pl.Date:
        return pl.col(col).cast(pl.Datetime("us"))
    text = pl.col(col).cast(pl.String).str.strip_chars()
    text = pl.when(text == "").then(None).otherwise(text)
    parsed = text.str.to_datetime(strict=False, time_unit="us")
    bad = frame.select((text.is_not_null() & parsed.is_null()).sum()).item()
    if bad:
        first = frame.filter(text.is_not_null() & parsed.is_null()).get_column(col)[0]
        raise ValueError(f"dates: column {col!r} has {bad:,} values that are not dates "
                         f"(first {str(first)[:40]!r}); pass a frame with the column read "
                         f"as dates, or ISO text such as '2025-03-15 10:30'")
    return parsed


def stages_from_crm(data: Any, *, stage_col: str = "Lifecycle Stage",
                    mapping: dict[str, str | None] | None = None,
                    dates: dict[str, str] | None = None, ladder: Ladder = OFFLINE,
                    as_of: Any = None, id_col: str = S.CUSTOMER_ID) -> pl.DataFrame:
    """Place customers on a loyalty ladder by their CRM's own lifecycle stage.

    A CRM (HubSpot, Salesforce, ...) keeps its own stage per contact (subscriber, lead,
    opportunity, customer, evangelist, ...) and often the date each stage was reached.
    ``mapping`` says which rung of ``ladder`` each CRM stage is; ``dates`` names the
    column that dates a CRM stage. The result has the columns of :func:`assign_stages`,
    so the CRM's view can be compared with the ladder measured from orders and contacts.

    Parameters
    ----------
    data : CRMData or DataFrame
        A CRMData (its customers table, with the CRM's columns kept as loaded) or a
        contacts frame (polars or pandas) with ``id_col`` and ``stage_col``.
    stage_col : str, default "Lifecycle Stage"
        The column holding the CRM's current stage.
    mapping : dict, optional
        CRM stage -> ladder stage name, or None for a CRM stage that is not on the ladder
        (e.g. HubSpot's "other"). Default :data:`HUBSPOT_LIFECYCLE`; for another CRM
        (a Salesforce lead status or account type, ...) write the client's own values.
        CRM stages are compared without case, spaces, hyphens or underscores. Several CRM
        stages may share a rung; a rung may have none (it is then never dated, and never counted as
        skipped).
    dates : dict, optional
        CRM stage -> column with the date the contact entered it (HubSpot: see
        :data:`HUBSPOT_LIFECYCLE_DATES`). Without it only the current stage is known.
    ladder : Ladder, default :data:`OFFLINE`
    as_of : date, datetime or ISO string, optional
        Only stages dated up to this date count (default ``data.as_of`` for a CRMData,
        else no cut). A current stage whose own date is after ``as_of`` does not count; an
        undated current stage always counts.
    id_col : str, default "customer_id"
        The person id column.

    Returns
    -------
    pl.DataFrame
        One row per row of the contacts:

        - customer_id: the person (``id_col``)
        - stage: the highest rung reached by ``as_of``: the rung of the current CRM stage
          or of any dated CRM stage (Enum in ladder order; null for a CRM stage mapped to
          None, or no stage)
        - stage_rank: 0 for the lowest rung
        - lapsed: always null (a lifecycle stage says nothing about recent activity)
        - last_active_at: always null, for the same reason
        - reached_<stage>: one column per rung, the earliest date of a CRM stage mapped
          to it, up to ``as_of`` (null when undated or not reached)
        - skipped: rungs below ``stage`` that a dated CRM stage maps to but that the
          person never reached
        - crm_stage: the CRM's current stage as written

    Raises
    ------
    SchemaError
        ``id_col``, ``stage_col`` or a ``dates`` column is missing.
    ValueError
        The data holds CRM stages the mapping does not know, a mapping value is not a rung
        of the ladder, or a date column holds text that is not a date.

    Notes
    -----
    The ladder's own rules are not checked: a HubSpot "customer" is a first-time customer
    whatever the number of orders, since the CRM does not say. :func:`assign_stages` on
    the orders measures the rungs above; comparing the two shows where the CRM's stage
    lags behind the purchases.

    Examples
    --------
    >>> import polars as pl
    >>> contacts = pl.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "Lifecycle Stage": ["Lead", "Customer", "Evangelist", "Other"],
    ...     "Became a Lead Date": ["2025-01-05", "2024-11-02", None, None],
    ...     "Became a Customer Date": [None, "2025-02-10", "2024-06-01", None]})
    >>> st = stages_from_crm(contacts, dates={"lead": "Became a Lead Date",
    ...                                       "customer": "Became a Customer Date"})
    >>> st.select("customer_id", "stage", "skipped").rows()
    [('a', 'prospect', []), ('b', 'first_time_customer', []), \
('c', 'advocate', ['prospect']), ('d', None, [])]
    >>> st["reached_first_time_customer"].dt.date().to_list()[:3]
    [None, datetime.date(2025, 2, 10), datetime.date(2024, 6, 1)]
    """
    ladder = _ensure_ladder(ladder)
    if isinstance(data, CRMData):
        frame = data.customers
        if as_of is None:
            as_of = data.as_of
    else:
        frame = as_polars(data, name="data")
    cut = None if as_of is None else to_datetime(as_of)
    mapping = HUBSPOT_LIFECYCLE if mapping is None else mapping
    if not isinstance(mapping, dict) or not mapping:
        raise TypeError("mapping: expected a dict of CRM stage -> ladder stage name (or "
                        "None), e.g. {'lead': 'prospect', 'customer': "
                        "'first_time_customer'}")
    names = ladder.names
    norm: dict[str, str | None] = {}
    for k, v in mapping.items():
        if v is not None and v not in names:
            from loyaltylab.data.validation import closest
            guess = closest(str(v), names, cutoff=0.4)
            raise ValueError(f"mapping: {k!r} -> {v!r}, but {v!r} is not a stage of the "
                             f"{ladder.name} ladder; its stages are {names}"
                             + (f". Did you mean {guess!r}?" if guess else ""))
        norm[_crm_key(k)] = v
    dates = dict(dates or {})
    missing = [c for c in [id_col, stage_col, *dates.values()] if c not in frame.columns]
    if missing:
        from loyaltylab.data.validation import closest
        hints = [f"{c!r}" + (f" (did you mean {g!r}?)" if (g := closest(c, frame.columns))
                             else "") for c in missing]
        raise SchemaError(f"stages_from_crm: the contacts have no column {', '.join(hints)};"
                          f" columns are {frame.columns[:12]}"
                          f"{' ...' if frame.width > 12 else ''}")
    date_of: dict[str, str] = {}
    for k, col in dates.items():
        key = _crm_key(k)
        if key not in norm:
            raise ValueError(f"dates: {k!r} is not a CRM stage of the mapping; its stages "
                             f"are {list(mapping)}")
        date_of[key] = col

    key = (pl.col(stage_col).cast(pl.String).str.strip_chars().str.to_lowercase()
           .str.replace_all(r"[\s_\-]+", ""))
    key = pl.when(key == "").then(None).otherwise(key)
    seen = frame.select(key.alias("k")).get_column("k")
    unknown = seen.filter(seen.is_not_null() & ~seen.is_in(list(norm))).value_counts(
        sort=True)
    if unknown.height:
        shown = ", ".join(f"{v!r} ({n:,})" for v, n in unknown.head(8).rows())
        raise ValueError(f"stages_from_crm: {stage_col!r} holds CRM stages the mapping does "
                         f"not know: {shown}; add each to mapping= with its ladder stage, "
                         f"or None to leave it off the ladder")

    parsed = {k: _crm_dates(frame, c) for k, c in date_of.items()}

    def upto(e: pl.Expr) -> pl.Expr:
        return e if cut is None else pl.when(e <= cut).then(e).otherwise(None)

    reached = []
    for rung in names:
        cands = [upto(parsed[k]) for k, v in norm.items() if v == rung and k in parsed]
        e = (pl.min_horizontal(cands) if len(cands) > 1 else cands[0]) if cands else \
            pl.lit(None, dtype=pl.Datetime("us"))
        reached.append(e.alias(f"reached_{rung}"))
    rank_of = {k: (None if v is None else names.index(v)) for k, v in norm.items()}
    crm = pl.col("_crm")
    cur_rank = crm.replace_strict(rank_of, default=None, return_dtype=pl.Int64)
    cur_ok = cur_rank.is_not_null()
    own = (pl.coalesce([pl.when(key == k).then(parsed[k]) for k in parsed]) if parsed
           else pl.lit(None, dtype=pl.Datetime("us")))
    if cut is not None:
        cur_ok = cur_ok & ~(pl.col("_own").is_not_null() & (pl.col("_own") > cut))
    ranks = [pl.when(pl.col(f"reached_{n}").is_not_null()).then(pl.lit(i, pl.Int64))
             for i, n in enumerate(names)]
    rank = pl.max_horizontal(pl.when(cur_ok).then(cur_rank), *ranks)
    dated = {v for k, v in norm.items() if k in parsed and v is not None}
    skipped = pl.concat_list([
        pl.when(pl.col(f"reached_{n}").is_null() & (pl.col("stage_rank") > i))
        .then(pl.lit(n)).otherwise(None) for i, n in enumerate(names) if n in dated]
        or [pl.lit(None, pl.String)]).list.drop_nulls()
    return (frame.select(pl.col(id_col).alias(S.CUSTOMER_ID),
                         pl.col(stage_col).cast(pl.String).alias("crm_stage"),
                         key.alias("_crm"), own.alias("_own"), *reached)
            .with_columns(rank.alias("stage_rank"))
            .with_columns(_stage_expr(ladder, pl.col("stage_rank")).cast(ladder.enum)
                          .alias("stage"),
                          pl.lit(None, pl.Boolean).alias("lapsed"),
                          pl.lit(None, pl.Datetime("us")).alias("last_active_at"),
                          skipped.alias("skipped"))
            .select(S.CUSTOMER_ID, "stage", "stage_rank", "lapsed", "last_active_at",
                    *[f"reached_{n}" for n in names], "skipped", "crm_stage"))
