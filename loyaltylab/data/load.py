"""Loading client exports into a validated CRMData (being written: see issue 2)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from loyaltylab.data.crmdata import CRMData

__all__ = ["load", "from_frames"]


def load(source: str | Path, *, mapping: str | Path | dict | None = None,
         as_of: datetime | str | None = None, allow_refunds: bool = False,
         pseudonymize: bool = False, salt: str | None = None,
         keep_personal: tuple[str, ...] = ()) -> CRMData:
    """Load a folder, workbook or database of CRM exports into a validated CRMData."""
    raise NotImplementedError("load() is being written (issue 2)")


def from_frames(tables: dict[str, pl.DataFrame], *, as_of: datetime | str | None = None,
                allow_refunds: bool = False, pseudonymize: bool = False,
                salt: str | None = None, keep_personal: tuple[str, ...] = (),
                source: str = "frames", truth: dict[str, Any] | None = None) -> CRMData:
    """Validate in-memory frames with canonical names into a CRMData."""
    raise NotImplementedError("from_frames() is being written (issue 2)")
