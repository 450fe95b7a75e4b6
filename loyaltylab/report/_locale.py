"""Numbers and dates for a client to read, in the client's locale (Babel's CLDR data).

One :class:`Formats` object carries the locale and the currency; the report, its tables,
the executive summary and the readings of the charts all format through it, so a run with
``--locale de`` shows ``1.234``, ``27 %`` and ``31.12.2025`` everywhere. The words of the
report stay English; only numbers, money and dates follow the locale.

Rules (all tested in ``tests/test_findings.py``):

- shares (0..1) are shown as percentages, rounded to whole percent from 10 % up and to one
  decimal below;
- counts get thousands separators; other numbers two significant decimals below 10, one
  below 100, none above;
- money gets the currency when it is known (``currency="EUR"``), else two decimals;
- nothing is ever written in scientific notation; p-values below 0.001 read "< 0.001".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["Formats", "check_locale", "KINDS"]

KINDS = ("percent", "count", "money", "number", "points", "date", "p_value", "ratio",
         "days", "text")
"""The kinds of value a table column may hold (see :meth:`Formats.cell`)."""

_MINUS = "\u2212"


def check_locale(locale: str) -> str:
    """The locale name normalised (``"de-DE"`` -> ``"de_DE"``), or a ValueError naming it.

    Parameters
    ----------
    locale : str
        A language code, optionally with a territory (``"de"``, ``"de-DE"``, ``"fr_CH"``).

    Returns
    -------
    str
        The name in Babel's form (``"de_DE"``).

    Examples
    --------
    >>> check_locale("de-DE")
    'de_DE'
    """
    from babel import Locale, UnknownLocaleError

    if not isinstance(locale, str) or not locale.strip():
        raise ValueError("locale must be a language code such as 'en', 'de', 'fr', 'nl' or "
                         "'es'")
    name = locale.strip().replace("-", "_")
    try:
        return str(Locale.parse(name))
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"locale {locale!r} is not known; use a language code such as "
                         f"'en', 'de', 'fr', 'nl' or 'es' (optionally with a country, "
                         f"'de_CH')") from None


def _half_up(value: float, digits: int) -> Decimal:
    """``value`` rounded half away from zero to ``digits`` decimals, as people round
    (0.925 -> 93 %, where Python and Babel round half to even: 92 %)."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)


def _finite(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


@dataclass(frozen=True)
class Formats:
    """How numbers, money and dates are written for one client.

    Parameters
    ----------
    locale : str
        A language (``"en"``, ``"de"``, ``"fr"``, ``"nl"``, ``"es"``...), optionally with a
        country (``"de_CH"``).
    currency : str, optional
        ISO 4217 code of the client's money (``"EUR"``), or a word written after amounts
        (``"kr"``); without it amounts carry no sign.

    Examples
    --------
    >>> en, de = Formats("en"), Formats("de", currency="EUR")
    >>> en.percent(0.2734), de.percent(0.2734), en.percent(0.0123)
    ('27%', '27\\xa0%', '1.2%')
    >>> en.count(1234567), de.count(1234567)
    ('1,234,567', '1.234.567')
    >>> en.money(1234.5), de.money(1234.5), de.money(1093225.4)
    ('1,234.50', '1.234,50\\xa0€', '1.093.225\\xa0€')
    >>> en.date(date(2025, 12, 31)), de.date(date(2025, 12, 31))
    ('Dec 31, 2025', '31.12.2025')
    >>> en.p_value(1.3e-06), en.number(0.000012)
    ('< 0.001', '0.000012')
    """

    locale: str = "en"
    currency: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "locale", check_locale(self.locale))
        if self.currency is not None:
            code = str(self.currency).strip()
            if not code:
                raise ValueError("currency must be an ISO code such as 'EUR', 'USD' or "
                                 "'CHF', or a word such as 'kr'")
            object.__setattr__(self, "currency",
                               code.upper() if re.fullmatch(r"[A-Za-z]{3}", code) else code)

    # ------------------------------------------------------------------ numbers
    def _decimal(self, value: float, digits: int) -> str:
        from babel.numbers import format_decimal

        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        text = format_decimal(_half_up(value, digits), format=pattern, locale=self.locale,
                              decimal_quantization=True)
        return text.replace("-", _MINUS)

    def number(self, value: Any, digits: int | None = None) -> str:
        """A plain number; ``digits`` decimals, or by size (2 below 10, 1 below 100, 0)."""
        if not _finite(value):
            return ""
        value = float(value)
        if digits is None:
            a = abs(value)
            if a == 0 or a >= 100:
                digits = 0
            elif a >= 10:
                digits = 1
            elif a >= 0.01:
                digits = 2
            else:  # small but not zero: two significant digits, never 0.00 or 1e-05
                digits = min(12, 1 - int(math.floor(math.log10(a))))
        if value == round(value) and abs(value) >= 100:
            digits = 0
        out = self._decimal(value, digits)
        return out if out.strip(_MINUS) != self._decimal(0, digits) else self._decimal(0, digits)

    def count(self, value: Any) -> str:
        """A whole number with thousands separators."""
        if not _finite(value):
            return ""
        return self._decimal(round(float(value)), 0)

    def percent(self, share: Any, digits: int | None = None) -> str:
        """A share (0..1) as a percentage: whole percent from 10 % up, one decimal below."""
        from babel.numbers import format_percent

        if not _finite(share):
            return ""
        share = float(share)
        if digits is None:
            digits = 0 if abs(share) >= 0.095 or share == 0 else 1
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        text = format_percent(_half_up(share, digits + 2), format=pattern,
                              locale=self.locale, decimal_quantization=True)
        # CLDR's per-locale percent pattern (spacing, sign position) applied to our digits
        from babel import Locale

        loc_pattern = Locale.parse(self.locale).percent_formats[None].pattern
        if "\xa0%" in loc_pattern or " %" in loc_pattern or "\u202f%" in loc_pattern:
            space = "\u202f" if "\u202f%" in loc_pattern else "\xa0"
            text = text.replace("%", space + "%")
        elif loc_pattern.startswith("%"):
            text = "%" + text.replace("%", "")
        if not re.search(r"[1-9]", text):  # -0.0 % rounds to zero: no sign
            text = text.replace("-", "")
        return text.replace("-", _MINUS)

    def points(self, value: Any) -> str:
        """A score in points (the net promoter score): whole points, one decimal below 10."""
        if not _finite(value):
            return ""
        return self.number(value, 0 if abs(float(value)) >= 10 else 1)

    def ratio(self, value: Any) -> str:
        """A ratio such as a hazard ratio: two decimals."""
        return "" if not _finite(value) else self.number(value, 2)

    def money(self, value: Any, *, cents: bool = False) -> str:
        """An amount: with the currency when known, two decimals (none from 100,000 up,
        unless ``cents``: an amount a reader checks against another system, such as the
        revenue reconciliation, keeps its cents however large).

        Examples
        --------
        >>> Formats("en").money(148_178.64), Formats("en").money(148_178.64, cents=True)
        ('148,179', '148,178.64')
        """
        from babel.numbers import format_currency

        if not _finite(value):
            return ""
        value = float(value)
        digits = 0 if abs(value) >= 100_000 and not cents else 2
        if self.currency is None:
            return self._decimal(value, digits)
        if not re.fullmatch(r"[A-Z]{3}", self.currency):  # a word such as "kr": after
            return f"{self._decimal(value, digits)}\xa0{self.currency}"
        from babel import Locale

        base = Locale.parse(self.locale).currency_formats["standard"].pattern.split(";")[0]
        pattern = base.replace("#,##0.00", "#,##0" + (".00" if digits else ""))
        text = format_currency(_half_up(value, digits), self.currency, format=pattern,
                               locale=self.locale, currency_digits=False,
                               decimal_quantization=True)
        if not re.search(r"[1-9]", text):
            text = text.replace("-", "")
        return text.replace("-", _MINUS)

    def p_value(self, value: Any) -> str:
        """A p-value: "< 0.001" below a thousandth, else three decimals."""
        if not _finite(value):
            return ""
        value = float(value)
        return "< " + self._decimal(0.001, 3) if value < 0.001 else self._decimal(value, 3)

    def days(self, value: Any) -> str:
        """A number of days, whole."""
        return "" if not _finite(value) else self.count(value)

    # ------------------------------------------------------------------ dates
    def date(self, value: Any, *, style: str = "medium") -> str:
        """A date in the locale (``style`` "medium": Dec 31, 2025; "long": December 31,
        2025); a datetime with a time of day keeps its hours and minutes."""
        from babel.dates import format_date, format_time

        if value is None:
            return ""
        if isinstance(value, datetime):
            if value.hour or value.minute:
                return (format_date(value.date(), format=style, locale=self.locale) + ", "
                        + format_time(value.time(), format="short", locale=self.locale))
            value = value.date()
        if isinstance(value, date):
            return format_date(value, format=style, locale=self.locale)
        return str(value)

    def month(self, value: Any) -> str:
        """Month and year (Jan 2025)."""
        from babel.dates import format_date

        if value is None:
            return ""
        return format_date(value, format="MMM y", locale=self.locale)

    # ------------------------------------------------------------------ helpers
    def interval(self, low: Any, high: Any, kind: str = "number") -> str:
        """An interval in the unit of ``kind``: "24%–30%", "−30 to −20"."""
        if not (_finite(low) and _finite(high)):
            return ""
        a, b = self.cell(low, kind), self.cell(high, kind)
        sep = " to " if (a.startswith(_MINUS) or b.startswith(_MINUS)) else "\u2013"
        return f"{a}{sep}{b}"

    def cell(self, value: Any, kind: str | None) -> str:
        """``value`` written as a ``kind`` (one of :data:`KINDS`); None: by its type."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if kind == "date" or isinstance(value, (date, datetime)):
            return self.date(value) if isinstance(value, (date, datetime)) else str(value)
        if isinstance(value, str):
            return value
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        writer = {"percent": self.percent, "count": self.count, "money": self.money,
                  "points": self.points, "p_value": self.p_value, "ratio": self.ratio,
                  "days": self.days, "number": self.number}.get(kind or "")
        if writer is not None:
            return writer(value)
        if isinstance(value, int):
            return self.count(value)
        if isinstance(value, float):
            return self.number(value)
        return str(value)
