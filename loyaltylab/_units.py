"""Units of time, defined once: every module that turns durations into days, months or
years imports them from here.

A month is the average Gregorian month (365.25 / 12 = 30.4375 days) and a year the average
Julian year (365.25 days); polars durations are counted in microseconds.

Examples
--------
>>> DAYS_PER_MONTH, DAYS_PER_YEAR, US_PER_DAY
(30.4375, 365.25, 86400000000)
"""

from __future__ import annotations

__all__ = ["DAYS_PER_WEEK", "DAYS_PER_MONTH", "DAYS_PER_YEAR", "SECONDS_PER_DAY",
           "US_PER_DAY"]

DAYS_PER_WEEK = 7.0
DAYS_PER_YEAR = 365.25
"""Average year length in days (the Julian year)."""
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
"""Average month length in days (30.4375), used to turn days of exposure into months."""
SECONDS_PER_DAY = 86_400
US_PER_DAY = SECONDS_PER_DAY * 1_000_000
"""Microseconds per day (polars durations and datetimes count microseconds)."""
