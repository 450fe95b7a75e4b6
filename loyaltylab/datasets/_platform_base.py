"""What the synthetic platform exports share: the platforms, the result object
(:class:`PlatformExport`), invented people and products, and the CSV writer."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from loyaltylab._units import SECONDS_PER_DAY


__all__ = ["PLATFORMS", "PlatformExport"]


PLATFORMS = ("shopify", "hubspot", "stripe", "salesforce", "woocommerce", "woocommerce_coe")

_FIRST = ["Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ida", "Jonas",
          "Lena", "Max", "Nora", "Oskar", "Paula", "Rosa", "Sven", "Tilda"]
_LAST = ["Berg", "Falk", "Hahn", "Koch", "Lang", "Meyer", "Roth", "Stein", "Vogel", "Wolf"]
_PRODUCTS = [("Coffee beans 1 kg", 2490), ("Espresso cups (2)", 1800),
             ("Milk frother", 3999), ("Filter papers", 450), ("Grinder", 8900),
             ("Tea sampler", 1250)]


@dataclass
class PlatformExport:
    """A written platform export and its truth.

    Attributes
    ----------
    platform : str
        One of :data:`PLATFORMS`.
    path : Path
        The folder holding the export files.
    files : list[str]
        The files written.
    as_of : datetime
        The extract date (every event is before it).
    truth : dict
        - ``revenue``: the revenue a faithful load keeps, rounded to the cent;
        - ``orders``: orders (deals, payments) kept;
        - ``customers``: customers kept;
        - ``excluded``: rule name -> ``{"n": rows, "amount": amount or None}`` for the
          orders table, in the preset's rule order;
        - ``read``: table -> rows in the file (line items for Shopify).
    """

    platform: str
    path: Path
    files: list[str]
    as_of: datetime
    truth: dict[str, Any] = field(default_factory=dict)


def _csv(path: Path, header: list[str], rows: list[dict[str, Any]], *,
         newline: str = "\n") -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    w.writerow(header)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in header])
    path.write_bytes(buf.getvalue().encode("utf-8"))


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _people(rng: np.random.Generator, n: int) -> list[dict[str, str]]:
    out = []
    for i in range(n):
        first = _FIRST[int(rng.integers(len(_FIRST)))]
        last = _LAST[int(rng.integers(len(_LAST)))]
        out.append({"first": first, "last": last,
                    "email": f"{first.lower()}.{last.lower()}{i}@example.com",
                    "phone": f"+49 30 {1000000 + i * 7919:07d}"})
    return out


_START = datetime(2024, 1, 1)
_AS_OF = datetime(2026, 1, 1)


def _when(rng: np.random.Generator, days: int = 700) -> datetime:
    return _START + timedelta(seconds=int(rng.integers(0, days * SECONDS_PER_DAY)))
