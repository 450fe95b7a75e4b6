"""Synthetic platform exports in the layout the platforms write, with the revenue truth.

:func:`make_platform_export` writes a folder of files the way Shopify, HubSpot or Stripe
export them (headers, one row per line item, statuses, refunds, test orders, guest
checkouts, multi-valued associations), and returns what a faithful load must find: the
revenue to the cent, the orders and customers kept, and the rows each rule of the preset
excludes. The same folder loads with ``ll.load(folder, mapping={"preset": platform})``.

All personal data (names, e-mail addresses, phone numbers, addresses) is invented.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# The shared helpers, the platform writers and the companion exports live in their own
# modules; their names are imported here, so ``_platforms.<name>`` keeps working.
from loyaltylab.datasets._platform_base import PLATFORMS, PlatformExport
from loyaltylab.datasets._platform_base import _people as _people  # used by _exports
from loyaltylab.datasets._platform_companions import (
    MAILCHIMP_MAPPING, make_email_export, make_survey_export, make_ticket_export,
    TYPEFORM_QUESTIONS,
)
from loyaltylab.datasets._platform_shops import (
    _hubspot, _salesforce, _shopify, _stripe, _woocommerce, _woocommerce_coe,
)

__all__ = ["PLATFORMS", "LOCALISED", "PlatformExport", "make_platform_export", "make_survey_export",
           "make_ticket_export", "make_email_export", "TYPEFORM_QUESTIONS",
           "MAILCHIMP_MAPPING"]


LOCALISED = ("hubspot",)
"""Platforms whose exports :func:`make_platform_export` can write in another language."""


def make_platform_export(platform: str, path: str | Path, *, n_customers: int = 40,
                         seed: int = 0, excel: bool = False,
                         language: str = "en") -> PlatformExport:
    """Write a synthetic export of ``platform`` into folder ``path``; return its truth.

    Parameters
    ----------
    platform : str
        One of :data:`PLATFORMS`.
    path : str or Path
        Folder to write into (created).
    n_customers : int
        Customers (contacts) to simulate; orders are about three per customer.
    seed : int
        Seed of ``np.random.default_rng``.
    excel : bool
        Write .xlsx workbooks instead of CSV (HubSpot's default export format): ids,
        amounts and dates become typed cells, the way Excel holds them.
    language : str
        ``"en"``, or for a platform in :data:`LOCALISED` one of the languages of its
        preset's ``[preset.labels]`` (``"de"``, ``"fr"``, ``"es"``, ``"nl"``): headers
        and stage labels are written in that language.

    Returns
    -------
    PlatformExport

    Examples
    --------
    >>> import tempfile, loyaltylab as ll
    >>> exp = make_platform_export("shopify", tempfile.mkdtemp(), n_customers=12)
    >>> data = ll.load(exp.path, mapping={"preset": "shopify"}, as_of=exp.as_of)
    >>> round(data.orders["amount"].sum(), 2) == exp.truth["revenue"]
    True
    """
    if platform not in PLATFORMS:
        raise ValueError(f"platform: expected one of {list(PLATFORMS)}, got {platform!r}")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    make = {"shopify": _shopify, "hubspot": _hubspot, "stripe": _stripe,
            "salesforce": _salesforce, "woocommerce": _woocommerce,
            "woocommerce_coe": _woocommerce_coe}[platform]
    if language != "en":
        from loyaltylab.data.presets import localise
        headers, values = localise(platform, language) if platform in LOCALISED \
            else ({}, {})
        if not headers:
            raise ValueError(f"language: {platform} exports can be written in "
                             f"{_languages(platform)}, got {language!r}")
    exp = make(folder, rng, n_customers)
    if language != "en":
        for f in exp.files:
            _translate(folder / f, headers, values)
        exp.truth["language"] = language
    if excel:
        exp.files = [_to_xlsx(folder / f) for f in exp.files]
    return exp


def _languages(platform: str) -> list[str]:
    from loyaltylab.data.presets import load_preset
    if platform not in LOCALISED:
        return ["en"]
    return ["en", *sorted(load_preset(platform)["preset"].get("labels", {}))]


def _translate(csv_path: Path, headers: dict[str, str], values: dict[str, str]) -> None:
    """Rewrite a CSV export with its headers and stage labels in another language."""
    import polars as pl
    df = pl.read_csv(csv_path, infer_schema=False)
    df = df.with_columns([pl.col(c).replace(values) for c in df.columns
                          if df.get_column(c).is_in(list(values)).any()])
    df.rename({c: headers[c] for c in df.columns if c in headers}).write_csv(csv_path)


def _to_xlsx(csv_path: Path) -> str:
    """Rewrite a CSV export as a one-sheet workbook with typed cells (numbers, dates)."""
    import polars as pl
    df = pl.read_csv(csv_path, infer_schema=False)
    typed = []
    for c in df.columns:
        s = df.get_column(c)
        filled = s.is_not_null() & (s.str.strip_chars() != "")
        n = int(filled.sum())
        num = s.cast(pl.Float64, strict=False)
        if n and int(num.is_not_null().sum()) == n and not s.str.contains(r"^0\d").any():
            typed.append(num.cast(pl.Int64) if bool((num.drop_nulls() % 1 == 0).all())
                         and not s.str.contains(r"\.").any() else num)
            continue
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            when = s.str.to_datetime(fmt, strict=False)
            if n and int(when.is_not_null().sum()) == n:
                typed.append(when)
                break
        else:  # text as text (e.g. times with a UTC offset, which Excel keeps as text)
            typed.append(s)
    df = pl.DataFrame(typed)
    out = csv_path.with_suffix(".xlsx")
    df.write_excel(out, worksheet="Sheet1")
    csv_path.unlink()
    return out.name
