"""Exceptions raised by loyaltylab.

Every message names the thing that is wrong, what was expected, what was found, and the fix.
"""

from __future__ import annotations

__all__ = [
    "LoyaltyLabError",
    "SchemaError",
    "MissingTableError",
    "SourceError",
    "MappingError",
    "ConvergenceError",
    "SeparationError",
    "NotFittedError",
    "LadderError",
]


class LoyaltyLabError(Exception):
    """Base class of every error loyaltylab raises on purpose."""


class SchemaError(LoyaltyLabError, ValueError):
    """A table lacks a required column, or a column cannot be read as its canonical type."""


class MissingTableError(LoyaltyLabError, ValueError):
    """An analysis needs a table that the data does not hold."""


class SourceError(LoyaltyLabError, ValueError):
    """A source (folder, file, workbook, database) cannot be read at all."""


class MappingError(LoyaltyLabError, ValueError):
    """A mapping file is malformed or refers to columns that do not exist."""


class ConvergenceError(LoyaltyLabError, RuntimeError):
    """A model fit did not converge; the message says what to try."""


class SeparationError(LoyaltyLabError, ValueError):
    """A covariate separates churners perfectly: in one of its groups nobody churned, so
    its hazard ratio is 0 or infinite (a penalizer above 0 keeps it finite).

    Attributes
    ----------
    covariate : str
        The covariate (a column of the table).
    level : str or None
        The categorical level that separates, or None for a numeric covariate.
    value : float or None
        For a numeric covariate with two values, the value of the separating group.
    other : bool
        True when the group is every level *other than* ``level`` (a binary categorical).
    n : int
        Customers in the group (none of whom churned).
    """

    def __init__(self, message: str, *, covariate: str, level: str | None = None,
                 value: float | None = None, other: bool = False, n: int = 0) -> None:
        super().__init__(message)
        self.covariate = covariate
        self.level = level
        self.value = value
        self.other = other
        self.n = n


class NotFittedError(LoyaltyLabError, AttributeError):
    """A model was used before ``fit``."""


class LadderError(LoyaltyLabError, ValueError):
    """A ladder's stages or rules are malformed, overlapping or contradictory."""


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
