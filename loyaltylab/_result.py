"""Result objects: a polars frame together with what it means (not public API).

Polars drops any attribute set on a frame at its next operation, so a result that needs
more than a frame (the rule that built it, a report of what was left out) is a small frozen
object holding the frame and that information. :class:`FrameResult` is their base: the
frame is ``.frame`` (or ``.to_polars()``), read-only frame access (``columns``, ``height``,
``select``, ``get_column``, ``result["col"]``, ``to_pandas`` ...) passes through to it,
and the row operations listed in ``_KEEPS_MEANING`` return the same kind of result, so an
ordinary filter keeps the meaning. Every other polars operation returns a plain frame.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

__all__ = ["FrameResult", "html_summary"]

# Operations that select, order or extend rows without changing what a row means.
_KEEPS_MEANING = ("filter", "sort", "head", "tail", "sample", "drop_nulls", "with_columns")


@dataclass(frozen=True, eq=False, repr=False)
class FrameResult:
    """Base of the result objects: a frame plus what it means.

    Subclasses add their own fields and a ``_summary()`` returning ``(title, lines)``.
    """

    frame: pl.DataFrame

    def __post_init__(self) -> None:
        if not isinstance(self.frame, pl.DataFrame):
            raise TypeError(f"frame: expected a polars DataFrame, got "
                            f"{type(self.frame).__name__}")

    def to_polars(self) -> pl.DataFrame:
        """The result as a plain polars DataFrame (the same object as ``.frame``)."""
        return self.frame

    # ------------------------------------------------------------ frame pass-through
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "frame":
            raise AttributeError(name)
        attr = getattr(self.frame, name)
        if name in _KEEPS_MEANING:
            def keep(*args: Any, **kwargs: Any) -> Any:
                out = attr(*args, **kwargs)
                return replace(self, frame=out) if isinstance(out, pl.DataFrame) else out
            keep.__doc__ = attr.__doc__
            return keep
        return attr

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {n for n in dir(self.frame)
                                                if not n.startswith("_")})

    def __getitem__(self, key: Any) -> Any:
        return self.frame[key]

    def __len__(self) -> int:
        return self.frame.height

    def __iter__(self) -> Iterator[Any]:
        return iter(self.frame)

    # ------------------------------------------------------------------- display
    def _summary(self) -> tuple[str, list[str]]:
        return (f"{type(self).__name__}: {self.frame.height:,} rows", [])

    def __repr__(self) -> str:
        title, lines = self._summary()
        cols = ", ".join(self.frame.columns)
        return "\n".join([title, *[f"  {x}" for x in lines], f"  columns: {cols}",
                          "  (the rows: .frame)"])

    def _repr_html_(self) -> str:
        title, lines = self._summary()
        return html_summary(title, lines, self.frame.columns)


def html_summary(title: str, lines: list[str], columns: list[str] | None = None) -> str:
    """A small, escaped HTML block: a bold title, a list of lines and the column names."""
    items = "".join(f"<li>{html.escape(x)}</li>" for x in lines)
    out = f"<div><p><b>{html.escape(title)}</b></p>"
    if items:
        out += f"<ul>{items}</ul>"
    if columns is not None:
        out += (f"<p>columns: <code>{html.escape(', '.join(columns))}</code> "
                f"(the rows: <code>.frame</code>)</p>")
    return out + "</div>"
