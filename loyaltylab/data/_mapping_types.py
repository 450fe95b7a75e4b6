"""Value types and setting tables of the mapping vocabulary (not public API): how a
message shows a value, what type each setting of ``[defaults]`` and ``[tables.<table>]``
takes, and the check of a value and of a table's keys. Re-exported by
:mod:`loyaltylab.data.mapping`, which documents the vocabulary.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

from loyaltylab.data import _rules
from loyaltylab.exceptions import MappingError


# ------------------------------------------------------------------ showing values

def show(value: Any, limit: int = 60) -> str:
    """A value as it may appear in a message: quoted, control characters escaped, cut.

    Text from client files (headers, values) can hold control characters (a carriage
    return, an ANSI escape, a right-to-left override) that would garble a terminal or a
    log; ``repr`` escapes them.

    Examples
    --------
    >>> print(show("Betrag\\x1b[31m"))
    'Betrag\\x1b[31m'
    >>> print(show("x" * 80, limit=10))
    'xxxxxxx...'
    """
    if isinstance(value, str):
        text = repr(value)
        if len(text) > limit:
            text = repr(value[:max(1, limit - 3)])[:-1] + "...'"
        return text
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _describe(value: Any) -> str:
    """``the string 'false'``, ``the integer 5``, ... for 'got ...' in messages."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {show(value)}" if value else "an empty string"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return f"the list {show(value)}" if value else "an empty list"
    if isinstance(value, dict):
        return f"a table with the keys {show(list(value))}" if value else "an empty table"
    if hasattr(value, "isoformat"):  # TOML dates and times
        return f"the {type(value).__name__} {value.isoformat()}"
    return f"the {type(value).__name__} {show(value)}"


# ------------------------------------------------------------------ value types

@dataclass(frozen=True)
class ValueType:
    """The expected type of a mapping value, for :func:`check_value`.

    Attributes
    ----------
    expected : str
        How a message names it: ``"true or false"``, ``"one character"``.
    check : callable
        ``check(value)`` returns None when the value is fine, else a hint to append to
        the message ("" for none).

    Examples
    --------
    >>> positive = ValueType("a number above 0", lambda v: None if (
    ...     isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0) else "")
    >>> check_value(0, positive, key="cost", where="[defaults]")
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.MappingError: mapping: [defaults] cost must be a number above 0,
    got the integer 0
    """

    expected: str
    check: Callable[[Any], str | None]


def check_value(value: Any, expected: ValueType, *, key: str, where: str,
                origin: str = "mapping") -> Any:
    """Check one mapping value against its expected type; return it or raise.

    Parameters
    ----------
    value
        The value as read from TOML.
    expected : ValueType
        What it must be (e.g. ``BOOL``, ``CHAR``; see :data:`TABLE_KEYS`).
    key : str
        The setting's name, for the message.
    where : str
        The section it is in (``"[tables.orders]"``), for the message.
    origin : str
        The mapping file's name, for the message.

    Raises
    ------
    MappingError
        ``<origin>: <where> <key> must be <expected>, got <value>`` plus a hint.

    Examples
    --------
    >>> check_value(True, BOOL, key="skip", where="[tables.contacts]")
    True
    >>> check_value("false", BOOL, key="skip", where="[tables.orders]", origin="m.toml")
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.MappingError: m.toml: [tables.orders] skip must be true or false,
    got the string 'false' (write true or false without quotes)
    """
    hint = expected.check(value)
    if hint is None:
        return value
    raise MappingError(f"{origin}: {where} {key} must be {expected.expected}, got "
                       f"{_describe(value)}" + (f" ({hint})" if hint else ""))


def check_keys(d: dict, allowed, *, where: str, origin: str = "mapping") -> None:
    """Raise MappingError for a key of ``d`` not in ``allowed`` (closest name suggested).

    Examples
    --------
    >>> check_keys({"delimeter": ";"}, TABLE_KEYS, where="[tables.orders]")
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.MappingError: mapping: unknown setting 'delimeter' in
    [tables.orders]; settings are [...]. Did you mean 'delimiter'?
    """
    for k in d:
        if k not in allowed:
            raise MappingError(f"{origin}: unknown setting {show(k)} in {where}; settings "
                               f"are {list(allowed)}.{_suggest(str(k), list(allowed))}")


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _bool(v: Any) -> str | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, str) and v.strip().lower() in ("true", "false", "yes", "no"):
        return "write true or false without quotes"
    return ""


def _char(v: Any) -> str | None:
    if _is_str(v) and len(v) == 1:
        return None
    if v in ("\\t", "tab", "TAB"):
        return 'write "\\t" in double quotes for a tab'
    return ""


def _quote(v: Any) -> str | None:
    return None if _is_str(v) and len(v) <= 1 else ""


def _encoding(v: Any) -> str | None:
    if not _is_str(v):
        return ""
    try:
        info = codecs.lookup(v)
    except LookupError:
        return "see https://docs.python.org/3/library/codecs.html#standard-encodings"
    return None if getattr(info, "_is_text_encoding", True) else ""


def _row_index(v: Any) -> str | None:
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        return "the first line is 0"
    return ""


def _strings(v: Any) -> str | None:
    if _is_str(v) and v:
        return None
    if isinstance(v, list) and v and all(_is_str(s) and s for s in v):
        return None
    return ""


def _date_formats(v: Any) -> str | None:
    if _strings(v) is None:
        return None
    return ""


def _timezone(v: Any) -> str | None:
    if not _is_str(v) or not v:
        return ""
    try:
        from zoneinfo import ZoneInfo
        ZoneInfo(v)
    except Exception:  # noqa: BLE001 - any failure means: not a zone
        return "see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones"
    return None


def _one_of(*options: str) -> Callable[[Any], str | None]:
    return lambda v: None if _is_str(v) and v in options else ""


def _table(v: Any) -> str | None:
    return None if isinstance(v, dict) else ""


def _nonempty_str(v: Any) -> str | None:
    if _is_str(v) and v.strip():
        return None
    if isinstance(v, list):
        return ("to take the first non-empty of several columns, derive it: "
                "derive = {<column> = {first_non_empty = [...]}}")
    return ""


def _value_target(v: Any) -> str | None:
    return None if _is_str(v) else 'write "" to read the value as missing'


BOOL = ValueType("true or false", _bool)
CHAR = ValueType("one character", _char)
QUOTE = ValueType('one character, or "" for no quoting', _quote)
ENCODING = ValueType("a text encoding such as 'utf-8', 'latin-1', 'cp1252' or 'utf-16'",
                     _encoding)
ROW_INDEX = ValueType("a whole number, 0 or more (0-based: the first line is 0)",
                      _row_index)
NAMES = ValueType("a string or a list of strings", _strings)
DATE_FORMATS = ValueType("a string or a list of strings (strftime formats such as "
                         "'%d.%m.%Y', or 'excel')", _date_formats)
TIMEZONE = ValueType("an IANA time zone such as 'Europe/Berlin' or 'UTC'", _timezone)
DECIMAL = ValueType('"." or ","', _one_of(".", ","))
THOUSANDS = ValueType('".", ",", " ", "\'" or "" (no grouping)',
                      _one_of(".", ",", " ", "'", "", "\u00a0", "\u202f"))
TABLE = ValueType("a table ([section] or { key = value })", _table)
CLIENT_COLUMN = ValueType("the client column name as a string", _nonempty_str)
VALUE_TARGET = ValueType("a string (the canonical value)", _value_target)

FORMAT_KEYS = ("date_format", "dayfirst", "timezone", "decimal", "thousands")
"""Settings that say how to read dates and numbers (table or column level)."""

_FORMAT_TYPES: dict[str, ValueType] = {
    "date_format": DATE_FORMATS, "dayfirst": BOOL, "timezone": TIMEZONE,
    "decimal": DECIMAL, "thousands": THOUSANDS,
}
_READ_TYPES: dict[str, ValueType] = {
    "delimiter": CHAR, "encoding": ENCODING, "quote": QUOTE, "header_row": ROW_INDEX,
}
DEFAULT_KEYS: dict[str, ValueType] = {**_READ_TYPES, **_FORMAT_TYPES}
"""Settings of ``[defaults]`` and their types."""
TABLE_KEYS: dict[str, ValueType] = {
    "source": NAMES, "sheet": NAMES, "columns": TABLE, "formats": TABLE, "values": TABLE,
    "skip": BOOL, **_READ_TYPES, **_FORMAT_TYPES,
}
"""Settings of ``[tables.<table>]`` and their types (nested tables are checked item by
item: ``columns`` values are client column names, ``formats`` hold format settings,
``values`` hold tables of strings)."""
# the vocabulary that says what counts (where, derive, lines, ...): checked by _rules
TABLE_KEYS.update({k: ValueType("a rule of the mapping vocabulary (see above)",
                                lambda v: None) for k in _rules.RULE_KEYS})


def _suggest(word: str, options) -> str:
    from loyaltylab.data.validation import closest
    guess = closest(word, list(options), cutoff=0.4)
    return f" Did you mean {guess!r}?" if guess else ""
