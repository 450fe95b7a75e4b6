"""Result frames rounded for reading on screen (notebooks, the console)."""

from __future__ import annotations

from typing import Any

import polars as pl
import polars.selectors as cs

__all__ = ["rounded"]


def rounded(frame: Any, digits: int = 3, *, p_value_digits: int = 2) -> pl.DataFrame:
    """A result frame with its decimals rounded for reading.

    Float columns are rounded to ``digits`` places, except p-values (columns whose name
    contains ``p_value``), which keep ``p_value_digits`` significant figures so that a
    small p-value stays readable (0.00012, not 0.0). Other columns are unchanged; the
    input is not modified. Use it to show results, never to compute with them.

    Parameters
    ----------
    frame : pl.DataFrame or a result object with ``.frame`` (ChurnTable, AtRiskList ...)
        The table to show.
    digits : int
        Decimal places of the float columns (default 3).
    p_value_digits : int
        Significant figures of the p-value columns (default 2).

    Returns
    -------
    pl.DataFrame
        The same columns in the same order, floats rounded.

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.report import rounded
    >>> t = pl.DataFrame({"group": ["a"], "rate": [0.123456], "p_value": [0.000123456],
    ...                   "n": [12]})
    >>> rounded(t).row(0)
    ('a', 0.123, 0.00012, 12)
    >>> rounded(t, 1)["rate"][0]
    0.1
    """
    frame = getattr(frame, "frame", frame)
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"rounded: expected a polars DataFrame, got {type(frame).__name__}")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"rounded: digits must be a whole number of at least 0, got "
                         f"{digits!r}")
    p = cs.contains("p_value")
    return frame.with_columns((cs.float() - p).round(digits),
                              (cs.float() & p).round_sig_figs(p_value_digits))
