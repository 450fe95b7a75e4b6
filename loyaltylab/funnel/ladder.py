"""Ladders: ordered stages with rules (:class:`Stage`, :class:`Ladder`), and the two standard
ladders :data:`OFFLINE` and :data:`ONLINE`."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from collections.abc import Mapping, Sequence

import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.exceptions import LadderError
from loyaltylab.funnel.conditions import (_SOURCES, All, AnyOf, Condition, Count, Not, _atoms,
                                          _check_condition, _dnf, _implies, _satisfiable)

if TYPE_CHECKING:
    from loyaltylab.funnel._timeline import AsOf, Timeline

__all__ = ["Stage", "Ladder", "RungChange", "offline_ladder", "online_ladder", "OFFLINE",
           "ONLINE", "LAPSED"]

LAPSED = "lapsed"
"""Name of the lapsed state in transition matrices, projections and stage mixes."""


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
    loyaltylab.exceptions.LadderError: ladder 'custom', stage 'a': the rule can never hold
    (orders >= 2 and no orders): contradictory thresholds on orders
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

    def with_stage(self, name: str, **changes: Any) -> Ladder:
        """A new ladder with stage ``name`` changed (``rule=``, ``label=``, ``requires=``)."""
        st = self.stage(name)
        return Ladder([replace(st, **changes) if s is st else s for s in self.stages],
                      name=self.name)

    def without(self, *names: str) -> Ladder:
        """A new ladder without the named stages (e.g. when the data has no referrals)."""
        for n in names:
            self.stage(n)
        return Ladder([s for s in self.stages if s.name not in names], name=self.name)

    def measurable(self, tables: CRMData | Mapping[str, Sequence[str]]
                   ) -> tuple[Ladder, list[RungChange]]:
        """The ladder as far as the data (or tables with these columns) can measure it, and
        what changed.

        A count of a missing table (or of distinct values of a missing column) is zero: it
        never holds, and its negation always does. So a rung whose rule needs a missing
        table is left out (without referrals the offline ladder ends at "client", and a
        rung that required it requires the one before), a part that only excludes events
        of a missing table ("no contacts") is dropped from the rule, and an alternative
        that needs a missing column ("or 2 product lines") is dropped.

        Parameters
        ----------
        tables : CRMData or mapping of str to sequence of str
            The data, or canonical table name -> its columns for the tables the data have
            (for data that are not in memory, such as a database).

        Returns
        -------
        (Ladder, list of RungChange)
            The ladder (this one when nothing changed) and one change per rung left out
            or measured by another rule, in ladder order; ``str()`` of a change says it in
            a plain sentence.

        Examples
        --------
        >>> from loyaltylab.funnel import OFFLINE
        >>> lad, changes = OFFLINE.measurable({"customers": ["customer_id"],
        ...     "orders": ["customer_id", "ordered_at"], "contacts": ["customer_id"]})
        >>> lad.names
        ['suspect', 'prospect', 'first_time_customer', 'repeat_customer', 'client']
        >>> [(c.stage.name, c.rule is None) for c in changes]
        [('client', False), ('advocate', True)]
        >>> str(changes[0].rule), changes[0].missing, changes[1].missing
        ('orders >= 4 within 365d', (('orders', 'product_line'),), (('referrals', None),))

        On data, here the sample without its referrals table:

        >>> import loyaltylab as ll
        >>> lad, changes = OFFLINE.measurable(ll.datasets.load_sample().replace(referrals=None))
        >>> lad.names[-1]
        'client'
        >>> print(*changes)
        The top rung, advocate, is not shown: it needs a referrals table (its rule: referrals
        >= 1 within 730 days), which this dataset does not have.
        """
        if isinstance(tables, CRMData):
            tables = {name: frame.columns for name, frame in tables.tables.items()}
        stages, changes, dropped = [], [], {}
        for st in self.stages:
            rule = _measurable_rule(st.rule, tables)
            missing = tuple(dict.fromkeys(m for c in st.rule.counts()
                                          if (m := _missing(c, tables)) is not None))
            if rule == _NEVER:
                dropped[st.name] = st.requires
                changes.append(RungChange(st, None, missing, st is self.stages[-1]))
                continue
            requires = st.requires
            while requires in dropped:
                requires = dropped[requires]
            if rule == _ALWAYS:
                rule = Count("customers")
            if str(rule) != str(st.rule):
                changes.append(RungChange(st, rule, missing, st is self.stages[-1]))
            stages.append(Stage(st.name, rule, label=st.label, requires=requires))
        if not changes:
            return self, []
        return Ladder(stages, name=self.name), changes

    def evaluate(self, data: CRMData, *, as_of: AsOf = None) -> Timeline:
        """Evaluate the ladder on ``data``: when each person first reached each stage.

        The evaluation is the costly step every analysis of :mod:`loyaltylab.funnel` needs;
        pass the returned timeline to them in place of ``(data, ladder)`` and it is done
        once (``funnel(timeline)``, ``transition_matrix(timeline, start=...)``, ...).

        Parameters
        ----------
        data : CRMData
            The data, with the tables the rules read (:attr:`tables`).
        as_of : date, datetime or ISO string, optional
            Only events up to this date count (default ``data.as_of``, else the last
            order).

        Returns
        -------
        Timeline
            The evaluated ladder; ``timeline.reached`` holds the dates (see
            :class:`~loyaltylab.funnel.Timeline`).

        Raises
        ------
        MissingTableError
            A table a rule reads is missing.
        ValueError
            ``as_of`` is before all data.

        Examples
        --------
        >>> import loyaltylab as ll
        >>> ll.funnel.OFFLINE.evaluate(ll.datasets.load_sample(), as_of="2024-12-31")
        Timeline of the offline ladder as of 2024-12-31: ...
        """
        from loyaltylab.funnel._timeline import Timeline, _inputs

        if isinstance(data, Timeline):
            raise TypeError("data: this is already a Timeline; pass it to the analyses "
                            "directly, or evaluate the ladder on its .data")
        source, ladder, when = _inputs(data, self, as_of)
        return Timeline._evaluate(source, ladder, when)

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


@dataclass(frozen=True)
class RungChange:
    """How :meth:`Ladder.measurable` changed one rung.

    Attributes
    ----------
    stage : Stage
        The rung as the ladder defines it.
    rule : Condition or None
        The rule it is measured by instead, or None when the rung is left out.
    missing : tuple of (str, str or None)
        What the data lack, in rule order: (table, None) for a missing table, (table,
        column) for a missing column.
    top : bool
        Whether the rung is the ladder's last.
    """

    stage: Stage
    rule: Condition | None
    missing: tuple[tuple[str, str | None], ...]
    top: bool = False

    def __str__(self) -> str:
        """The change in a plain sentence, for a reader of the report or a notebook.

        Examples
        --------
        >>> from loyaltylab.funnel import OFFLINE
        >>> _, changes = OFFLINE.measurable({"customers": ["customer_id"],
        ...     "orders": ["customer_id", "ordered_at"], "referrals": ["referrer_id"]})
        >>> print(changes[0])
        The rung suspect is measured as 'listed as a customer and no orders' instead of
        'listed as a customer and no contacts and no orders', because the data have no
        contacts table.
        """
        lack = " and ".join(f"a {t.replace('_', ' ')} table" if col is None else
                            f"a {col.replace('_', ' ')} column in the {t} table"
                            for t, col in self.missing)
        st = self.stage
        if self.rule is None:
            top = self.top
            return (f"{'The top rung, ' if top else 'The rung '}{st.display}"
                    f"{',' if top else ''} is not shown: it needs {lack} (its rule: "
                    f"{_rule_words(st.rule)}), which this dataset does not have.")
        return (f"The rung {st.display} is measured as '{_rule_words(self.rule)}' instead of "
                f"'{_rule_words(st.rule)}', because the data have no "
                f"{lack[2:] if lack.startswith('a ') else lack}.")


def _rule_words(cond: Condition) -> str:
    """A rung's rule in words: "referrals >= 1 within 730d" -> "referrals >= 1 within 730
    days"."""
    return re.sub(r"\b(\d+)d\b", r"\1 days", str(cond).replace("_", " "))


_NEVER, _ALWAYS = "never", "always"


def _missing(c: Count, tables: Mapping[str, Sequence[str]]) -> tuple[str, str | None] | None:
    """What the data lack to count ``c``: (table, None), (table, column) or None."""
    if c.table not in tables:
        return (c.table, None)
    if c.distinct not in (None, "day") and c.distinct not in tables[c.table]:
        return (c.table, c.distinct)
    return None


def _measurable_rule(cond: Condition, tables: Mapping[str, Sequence[str]]) -> Any:
    """``cond`` with the counts the data cannot measure replaced by zero: a Condition, or
    "never" / "always" when the rule becomes constant."""
    if isinstance(cond, Count):
        return _NEVER if _missing(cond, tables) else cond
    if isinstance(cond, Not):
        return _ALWAYS if _missing(cond.part, tables) else cond
    parts = [_measurable_rule(p, tables) for p in cond.parts]
    if isinstance(cond, All):
        if _NEVER in parts:
            return _NEVER
        parts = [p for p in parts if p != _ALWAYS]
        return _ALWAYS if not parts else parts[0] if len(parts) == 1 else All(*parts)
    if _ALWAYS in parts:
        return _ALWAYS
    parts = [p for p in parts if p != _NEVER]
    return _NEVER if not parts else parts[0] if len(parts) == 1 else AnyOf(*parts)


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

    Parameters
    ----------
    client_orders : int, default 4
        Orders within ``client_window`` that make a client.
    client_lines : int or None, default 2
        Distinct product lines a client must have bought from (None: no such rule).
    client_window : str, default "365d"
        Window of the client rule, as a duration ("365d", "12mo").
    advocate_referrals : int, default 1
        Referrals within ``advocate_window`` that make an advocate.
    advocate_window : str, default "730d"
        Window of the advocate rule.

    Returns
    -------
    Ladder
        The offline ladder with these rules.

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

    Parameters
    ----------
    client_orders : int, default 4
        Orders within ``client_window`` that make a client.
    client_lines : int or None, default 2
        Distinct product lines a client must have bought from (None: no such rule).
    client_window : str, default "365d"
        Window of the client rule, as a duration ("365d", "12mo").
    advocate_referrals : int, default 1
        Referrals within ``advocate_window`` that make an advocate.
    advocate_window : str, default "730d"
        Window of the advocate rule.

    Returns
    -------
    Ladder
        The online ladder with these rules.

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


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
