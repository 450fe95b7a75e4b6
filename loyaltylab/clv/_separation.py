"""Separation checks for the customer-base models with covariates.

A group of customers (a level of a text covariate, or one value of a two-valued numeric
one) in which nobody bought again has no finite purchase or dropout coefficient: the
likelihood keeps rising as the group's purchase rate goes to 0 or its dropout rate to
infinity. The optimiser then wanders for minutes and stops anywhere (a purchase
coefficient of -8 to -11). Checking the groups before the fit says at once which
covariate and level it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from loyaltylab.exceptions import SeparationError

__all__: list[str] = []

_NUMERIC = (pl.Float64, pl.Float32, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8,
            pl.UInt16, pl.UInt32, pl.UInt64, pl.Boolean)


def _groups(s: pl.Series) -> list[tuple[str | None, float | None, np.ndarray]]:
    """(level, value, mask) of each group of a covariate whose coefficient(s) a group
    alone can send to infinity: every level of a text or categorical column, both values
    of a two-valued numeric one; none for a numeric column with more values (its linear
    effect is pinned by the other values)."""
    if s.dtype in _NUMERIC:
        v = s.cast(pl.Float64).to_numpy()
        vals = np.unique(v)
        if vals.size != 2:
            return []
        return [(None, float(u), v == u) for u in vals]
    if s.dtype in (pl.String, pl.Categorical) or isinstance(s.dtype, pl.Enum):
        text = s.cast(pl.String).to_numpy()
        return [(str(lv), None, text == lv) for lv in sorted(set(text.tolist()))]
    return []


def check_repeat_buyers(df: pl.DataFrame, frequency: np.ndarray, weights: np.ndarray,
                        blocks: dict[str, Sequence[str]], *, model: str) -> None:
    """Raise :class:`~loyaltylab.exceptions.SeparationError` for a covariate group in
    which no customer made a repeat purchase.

    Parameters
    ----------
    df : polars.DataFrame
        The fitted frame (covariates already validated: no missing values).
    frequency, weights : numpy.ndarray
        Repeat purchases and the customers each row stands for.
    blocks : dict
        Covariate columns by process (``purchase``, ``dropout``).
    model : str
        Model name for the message.

    Examples
    --------
    >>> rfm = pl.DataFrame({"frequency": [0, 2, 0, 0, 1], "tier": list("aabba")})
    >>> check_repeat_buyers(rfm, rfm["frequency"].to_numpy(), np.ones(5),
    ...                     {"purchase": ["tier"], "dropout": []}, model="m")
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.SeparationError: m: covariate 'tier' separates ...
    """
    repeat = np.where(np.asarray(frequency) > 0, np.asarray(weights, dtype=float), 0.0)
    columns = list(dict.fromkeys([*blocks.get("purchase", []), *blocks.get("dropout", [])]))
    for c in columns:
        for level, value, mask in _groups(df.get_column(c)):
            if repeat[mask].sum() > 0:
                continue
            n = int(round(float(np.asarray(weights, dtype=float)[mask].sum())))
            shown = repr(level) if level is not None else f"{value:g}"
            procs = [b for b in ("purchase", "dropout") if c in blocks.get(b, [])]
            which = " and ".join({"purchase": "purchase rate",
                                  "dropout": "dropout rate"}[b] for b in procs)
            fix = (f"merge level {level!r} with a similar level (e.g. pl.when(pl.col({c!r}) "
                   f"== {level!r}).then(pl.lit('other'))...)" if level is not None else
                   "merge those customers into a larger group")
            raise SeparationError(
                f"{model}: covariate {c!r} separates repeat buyers: none of the {n:,} "
                f"customers with {c} = {shown} bought again, so the data cannot say how low "
                f"their {which} is (the coefficient has no finite estimate; the fit would "
                f"run for minutes and stop anywhere). Fix: {fix}, or drop {c!r} from the "
                f"covariates (these models have no penalty to keep it finite)",
                covariate=c, level=level, value=value, n=n)
