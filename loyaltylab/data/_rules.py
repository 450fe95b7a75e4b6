"""The mapping vocabulary that says what counts (not public API; documented in
:mod:`loyaltylab.data.mapping`).

Each table of a mapping may carry rules that reshape and filter its rows *as read*, before
client columns are renamed to canonical ones. Every form is parsed strictly here (types,
unknown keys with the closest valid name) and compiled to polars expressions; nothing is
evaluated as code.

Stages, always in this order:

0. ``headers``: a header written in another language (``{"Close Date" = ["Schlusstermin",
   "Date de fermeture"]}``) is read under the name the rest of the mapping uses (case and
   spacing forgiven; a header already present under that name is left alone);
1. ``fill_down`` (within ``fill_down_by``): blank cells take the value of the row above in
   the same group (order-level fields written only on an order's first line item);
2. ``derive``: new columns from ``subtract``/``add``/``multiply`` (numbers read with the
   table's decimal format), ``first_non_empty``, ``constant``, and ``email``/``phone``
   (a customer key: normalised, then pseudonymised at once with a salted hash; the source
   columns are dropped right away);
3. ``split``: a multi-valued column (``"123;456"``) becomes one row per value
   (``keep = "first"`` keeps the first value only: the orders table must use it, or each
   deal would count once per linked contact);
4. ``wide``: one column per survey question becomes one answer per row
   (``item``/``score``); blank answers are excluded as "no answer";
5. ``lines``: line items grouped into one row per ``key`` (the order): every column takes
   the first non-empty value of the order's lines, the amount is taken ``"once"`` or
   ``"sum"``-med over the lines;
6. ``where``: rows that break a rule are excluded and counted under the rule's name with
   their amount (with ``lines`` the rules see one row per order);
7. ``drop``: columns (glob patterns) removed before mapping.

A table report then reads ``read = kept + rejected + excluded``: rows merged into their
order count as excluded under "line items merged into their order" (with no amount: it is
in the order), and rows added by ``split``/``wide`` count as read.
"""

from __future__ import annotations

from loyaltylab.data._rules_apply import RulesResult, apply
from loyaltylab.data._rules_customers import (account, amount_note, customer_key_needs,
                                              derive_customers, wire_customers)
from loyaltylab.data._rules_parse import (MERGED, NO_ANSWER, RULE_KEYS, Rule, TableRules,
                                          parse_table_rules)

# a private name that moved out, still reachable here (tests/test_schema.py reads it)
from loyaltylab.data._rules_parse import _EVENT_DATE as _EVENT_DATE

__all__ = ["TableRules", "Rule", "RulesResult", "RULE_KEYS", "parse_table_rules", "apply",
           "account", "customer_key_needs", "derive_customers", "wire_customers", "MERGED",
           "NO_ANSWER", "amount_note"]
