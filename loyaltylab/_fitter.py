"""The fitter contract shared by every model (not public API).

``Model(**options)`` stores options; ``fit`` sets the learned state (trailing ``_``) and
returns ``self``. :class:`Fitter` gives the models one fitted check, one ``__repr__``
pattern and one small ``_repr_html_`` for Jupyter:

- not fitted: ``KaplanMeier(confidence=0.95) (not fitted)``
- fitted: ``KaplanMeier: fitted on 432 customers, 318 censored``

A subclass names the attribute that ``fit`` sets (``_fitted_attr``) and writes
``_options()`` and ``_describe()``; the error names what ``fit`` takes (its first
parameter, or ``_fit_args``).
"""

from __future__ import annotations

import html
import inspect
import math
from typing import Any

import polars as pl

from loyaltylab.exceptions import NotFittedError

__all__ = ["Fitter", "html_table"]

_HTML_ROWS = 20


class Fitter:
    """Base of the fitted models: ``_check_fitted``, ``__repr__`` and ``_repr_html_``."""

    _fitted_attr = "params_"
    _fit_args: str | None = None  # what fit takes, for the message; default: its signature
    _fit_hint = ""

    def _is_fitted(self) -> bool:
        return hasattr(self, self._fitted_attr)

    def _check_fitted(self) -> None:
        if not self._is_fitted():
            args = self._fit_args
            if args is None:
                fit = getattr(type(self), "fit", None)
                names = list(inspect.signature(fit).parameters)[1:2] if fit else []
                args = names[0] if names else ""
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call "
                                 f".fit({args}) first{self._fit_hint}")

    def _options(self) -> str:
        """The options worth showing before the fit, as ``name=value`` pairs."""
        return ""

    def _describe(self) -> str:
        """What the fitted model was fitted on, in words (after ``Name: ``)."""
        return "fitted"

    def __repr__(self) -> str:
        name = type(self).__name__
        if not self._is_fitted():
            return f"{name}({self._options()}) (not fitted)"
        return f"{name}: {self._describe()}"

    def _repr_html_(self) -> str:
        out = f"<div><p><b>{html.escape(repr(self))}</b></p>"
        if self._is_fitted() and isinstance(getattr(type(self), "summary", None), property):
            try:
                summary = self.summary  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - the text above is enough
                summary = None
            if isinstance(summary, pl.DataFrame):
                out += html_table(summary)
        return out + "</div>"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return html.escape(str(value))


def html_table(frame: pl.DataFrame, *, max_rows: int = _HTML_ROWS) -> str:
    """A small escaped HTML table of ``frame``'s first ``max_rows`` rows (numbers to four
    significant digits), saying how many rows were left out."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in frame.head(max_rows).iter_rows())
    more = (f"<p>{frame.height - max_rows:,} more rows</p>"
            if frame.height > max_rows else "")
    return f"<table><tr>{head}</tr>{body}</table>{more}"
