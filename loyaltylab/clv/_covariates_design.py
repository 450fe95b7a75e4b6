"""The design matrix of the covariate models: :func:`covariate_matrix` codes numeric,
boolean and text columns (treatment coding, the first level the reference).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl

__all__ = ["covariate_matrix"]

_NUMERIC = (pl.Float64, pl.Float32, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8,
            pl.UInt16, pl.UInt32, pl.UInt64, pl.Boolean)


# ============================================================================ design matrix
def covariate_matrix(frame: Any, columns: Sequence[str], *,
                     table: str = "customers") -> tuple[np.ndarray, list[str]]:
    """Covariate columns as a float matrix, categorical ones dummy-coded.

    Parameters
    ----------
    frame : polars or pandas DataFrame
        One row per customer.
    columns : sequence of str
        Covariate columns. Numbers and booleans are used as they are (booleans as 0/1);
        text, categorical and enum columns are dummy-coded with their first level as the
        reference (the first in sorted order for text, the first category for categorical
        and enum columns), one column per other level, named ``column[level]``.
    table : str
        Name used in error messages.

    Returns
    -------
    (numpy.ndarray, list of str)
        The n x k matrix and the k coefficient names.

    Raises
    ------
    ValueError
        A column is missing, has missing or non-finite values, or is constant (its effect
        cannot be told apart from the baseline parameters).
    TypeError
        A column is neither numeric, boolean nor text/categorical (dates, lists ...).

    Examples
    --------
    >>> import polars as pl
    >>> X, names = covariate_matrix(pl.DataFrame({"age": [30, 40, 50],
    ...                                            "channel": ["web", "shop", "web"]}),
    ...                              ["age", "channel"])
    >>> names
    ['age', 'channel[web]']
    >>> X.tolist()
    [[30.0, 1.0], [40.0, 0.0], [50.0, 1.0]]
    """
    from loyaltylab._util import as_polars

    df = as_polars(frame, name=table)
    if isinstance(columns, str):
        columns = [columns]
    columns = list(columns)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{table}: covariate column(s) {missing} not found; columns are "
                         f"{df.columns}. Join the covariates to the summary frame first "
                         f"(rfm.join(customers, on='customer_id'))")
    if len(set(columns)) != len(columns):
        raise ValueError(f"{table}: covariate columns {columns} list a column twice")
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for c in columns:
        s = df.get_column(c)
        nulls = s.is_null()
        if s.dtype in (pl.Float32, pl.Float64):
            nulls = nulls | s.is_nan().fill_null(True) | s.is_infinite().fill_null(True)
        if nulls.any():
            idx = np.flatnonzero(nulls.to_numpy())
            raise ValueError(f"{table}.{c}: {idx.size} rows have a missing or non-finite "
                             f"covariate (first at rows {', '.join(map(str, idx[:5]))}); fill "
                             f"them (e.g. with a level 'unknown') or drop those customers")
        if s.dtype in _NUMERIC:
            v = s.cast(pl.Float64).to_numpy()
            if np.ptp(v) == 0:
                raise ValueError(f"{table}.{c}: the covariate is constant ({v[0]:g} for all "
                                 f"{v.size:,} customers), so its effect cannot be separated "
                                 f"from the baseline; drop it")
            blocks.append(v[:, None])
            names.append(c)
        elif s.dtype in (pl.String, pl.Categorical) or isinstance(s.dtype, pl.Enum):
            levels = _levels(s)
            if len(levels) < 2:
                raise ValueError(f"{table}.{c}: the covariate has a single level for all "
                                 f"{s.len():,} customers, so its effect cannot be separated "
                                 f"from the baseline; drop it")
            text = s.cast(pl.String)
            for lv in levels[1:]:
                blocks.append((text == lv).cast(pl.Float64).to_numpy()[:, None])
                names.append(f"{c}[{lv}]")
        else:
            raise TypeError(f"{table}.{c}: a covariate must be numeric, boolean, text or "
                            f"categorical, got {s.dtype}; convert it (e.g. a date to the "
                            f"customer's age in years)")
    if not blocks:
        return np.zeros((df.height, 0)), []
    X = np.hstack(blocks)
    if X.shape[1] > 1:
        full = np.column_stack([np.ones(X.shape[0]), X])
        if np.linalg.matrix_rank(full) < full.shape[1]:
            raise ValueError(f"{table}: the covariates {columns} are collinear (one is a "
                             f"combination of the others and the baseline, e.g. dummies of "
                             f"every level); drop one of them")
    return X, names


def _levels(s: pl.Series) -> list[str]:
    """Levels present in a text/categorical column, the reference (first) level first."""
    present = set(s.cast(pl.String).unique().to_list())
    if isinstance(s.dtype, pl.Enum):
        return [lv for lv in s.dtype.categories.to_list() if lv in present]
    if s.dtype == pl.Categorical:
        return [lv for lv in s.cat.get_categories().to_list() if lv in present]
    return sorted(present)
