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


class NotFittedError(LoyaltyLabError, AttributeError):
    """A model was used before ``fit``."""


class LadderError(LoyaltyLabError, ValueError):
    """A ladder's stages or rules are malformed, overlapping or contradictory."""


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
