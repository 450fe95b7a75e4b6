"""Stages from a CRM's own lifecycle field (HubSpot and others), on the rungs of a ladder."""

from __future__ import annotations

from typing import Any

import polars as pl

from loyaltylab._util import as_polars, resolve_as_of
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.exceptions import SchemaError
from loyaltylab.funnel._engine import _ensure_ladder
from loyaltylab.funnel._timeline import AsOf, _stage_expr
from loyaltylab.funnel.ladder import OFFLINE, Ladder

__all__ = ["stages_from_crm", "HUBSPOT_LIFECYCLE", "HUBSPOT_LIFECYCLE_DATES"]


HUBSPOT_LIFECYCLE: dict[str, str | None] = {
    "subscriber": "suspect", "lead": "prospect", "marketingqualifiedlead": "prospect",
    "salesqualifiedlead": "prospect", "opportunity": "prospect",
    "customer": "first_time_customer", "evangelist": "advocate", "other": None,
}
"""HubSpot's default lifecycle stages (in their order, see
https://knowledge.hubspot.com/contacts/use-lifecycle-stages) on the rungs of
:data:`OFFLINE`: a subscriber is a suspect; leads, qualified leads and opportunities are
prospects (in touch, no purchase); a customer has bought (the CRM does not say how often);
an evangelist advocates; "other" is not on the ladder. Keys are compared without case,
spaces, hyphens or underscores, so the export's labels ("Marketing Qualified Lead") and the
internal values ("marketingqualifiedlead") both match."""

HUBSPOT_LIFECYCLE_DATES: dict[str, str] = {
    "subscriber": "Became a Subscriber Date", "lead": "Became a Lead Date",
    "marketingqualifiedlead": "Became a Marketing Qualified Lead Date",
    "salesqualifiedlead": "Became a Sales Qualified Lead Date",
    "opportunity": "Became an Opportunity Date", "customer": "Became a Customer Date",
    "evangelist": "Became an Evangelist Date",
    "other": "Became an Other Lifecycle Stage Date",
}
"""The columns of a HubSpot contacts export that date each lifecycle stage (HubSpot's
default property labels; an export holds them when they were chosen or "all properties"
were exported). Pass the ones the export has as ``dates=``."""


def _crm_key(value: str) -> str:
    import re
    return re.sub(r"[\s_\-]+", "", str(value).strip().lower())


def _crm_dates(frame: pl.DataFrame, col: str) -> pl.Expr:
    """A date column of a CRM export as naive datetimes; raises on unreadable text."""
    dtype = frame.schema[col]
    if isinstance(dtype, pl.Datetime):
        e = pl.col(col)
        if dtype.time_zone is not None:
            e = e.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return e.cast(pl.Datetime("us"))
    if dtype == pl.Date:
        return pl.col(col).cast(pl.Datetime("us"))
    text = pl.col(col).cast(pl.String).str.strip_chars()
    text = pl.when(text == "").then(None).otherwise(text)
    parsed = text.str.to_datetime(strict=False, time_unit="us")
    bad = frame.select((text.is_not_null() & parsed.is_null()).sum()).item()
    if bad:
        first = frame.filter(text.is_not_null() & parsed.is_null()).get_column(col)[0]
        raise ValueError(f"dates: column {col!r} has {bad:,} values that are not dates "
                         f"(first {str(first)[:40]!r}); pass a frame with the column read "
                         f"as dates, or ISO text such as '2025-03-15 10:30'")
    return parsed


def stages_from_crm(data: Any, *, stage_col: str = "Lifecycle Stage",
                    mapping: dict[str, str | None] | None = None,
                    dates: dict[str, str] | None = None, ladder: Ladder = OFFLINE,
                    as_of: AsOf = None, id_col: str = S.CUSTOMER_ID) -> pl.DataFrame:
    """Place customers on a loyalty ladder by their CRM's own lifecycle stage.

    A CRM (HubSpot, Salesforce, ...) keeps its own stage per contact (subscriber, lead,
    opportunity, customer, evangelist, ...) and often the date each stage was reached.
    ``mapping`` says which rung of ``ladder`` each CRM stage is; ``dates`` names the
    column that dates a CRM stage. The result has the columns of :func:`assign_stages`,
    so the CRM's view can be compared with the ladder measured from orders and contacts.

    Parameters
    ----------
    data : CRMData or DataFrame
        A CRMData (its customers table, with the CRM's columns kept as loaded) or a
        contacts frame (polars or pandas) with ``id_col`` and ``stage_col``.
    stage_col : str, default "Lifecycle Stage"
        The column holding the CRM's current stage.
    mapping : dict, optional
        CRM stage -> ladder stage name, or None for a CRM stage that is not on the ladder
        (e.g. HubSpot's "other"). Default :data:`HUBSPOT_LIFECYCLE`; for another CRM
        (a Salesforce lead status or account type, ...) write the client's own values.
        CRM stages are compared without case, spaces, hyphens or underscores. Several CRM
        stages may share a rung; a rung may have none (it is then never dated, and never counted as
        skipped).
    dates : dict, optional
        CRM stage -> column with the date the contact entered it (HubSpot: see
        :data:`HUBSPOT_LIFECYCLE_DATES`). Without it only the current stage is known.
    ladder : Ladder, default :data:`OFFLINE`
    as_of : date, datetime or ISO string, optional
        Only stages dated up to this date count (default ``data.as_of`` for a CRMData,
        else no cut). A current stage whose own date is after ``as_of`` does not count; an
        undated current stage always counts.
    id_col : str, default "customer_id"
        The person id column.

    Returns
    -------
    pl.DataFrame
        One row per row of the contacts:

        - customer_id: the person (``id_col``)
        - stage: the highest rung reached by ``as_of``: the rung of the current CRM stage
          or of any dated CRM stage (Enum in ladder order; null for a CRM stage mapped to
          None, or no stage)
        - stage_rank: 0 for the lowest rung
        - lapsed: always null (a lifecycle stage says nothing about recent activity)
        - last_active_at: always null, for the same reason
        - reached_<stage>: one column per rung, the earliest date of a CRM stage mapped
          to it, up to ``as_of`` (null when undated or not reached)
        - skipped: rungs below ``stage`` that a dated CRM stage maps to but that the
          person never reached
        - crm_stage: the CRM's current stage as written

    Raises
    ------
    SchemaError
        ``id_col``, ``stage_col`` or a ``dates`` column is missing.
    ValueError
        The data holds CRM stages the mapping does not know, a mapping value is not a rung
        of the ladder, or a date column holds text that is not a date.

    Notes
    -----
    The ladder's own rules are not checked: a HubSpot "customer" is a first-time customer
    whatever the number of orders, since the CRM does not say. :func:`assign_stages` on
    the orders measures the rungs above; comparing the two shows where the CRM's stage
    lags behind the purchases.

    Examples
    --------
    >>> import polars as pl
    >>> contacts = pl.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "Lifecycle Stage": ["Lead", "Customer", "Evangelist", "Other"],
    ...     "Became a Lead Date": ["2025-01-05", "2024-11-02", None, None],
    ...     "Became a Customer Date": [None, "2025-02-10", "2024-06-01", None]})
    >>> st = stages_from_crm(contacts, dates={"lead": "Became a Lead Date",
    ...                                       "customer": "Became a Customer Date"})
    >>> st.select("customer_id", "stage", "skipped").rows()
    [('a', 'prospect', []), ('b', 'first_time_customer', []), \
('c', 'advocate', ['prospect']), ('d', None, [])]
    >>> st["reached_first_time_customer"].dt.date().to_list()[:3]
    [None, datetime.date(2025, 2, 10), datetime.date(2024, 6, 1)]
    """
    ladder = _ensure_ladder(ladder)
    frame = data.customers if isinstance(data, CRMData) else as_polars(data, name="data")
    cut = resolve_as_of(data if isinstance(data, CRMData) else frame, as_of, latest_order=False)
    mapping = HUBSPOT_LIFECYCLE if mapping is None else mapping
    if not isinstance(mapping, dict) or not mapping:
        raise TypeError("mapping: expected a dict of CRM stage -> ladder stage name (or "
                        "None), e.g. {'lead': 'prospect', 'customer': "
                        "'first_time_customer'}")
    names = ladder.names
    norm: dict[str, str | None] = {}
    for k, v in mapping.items():
        if v is not None and v not in names:
            from loyaltylab.data.validation import closest
            guess = closest(str(v), names, cutoff=0.4)
            raise ValueError(f"mapping: {k!r} -> {v!r}, but {v!r} is not a stage of the "
                             f"{ladder.name} ladder; its stages are {names}"
                             + (f". Did you mean {guess!r}?" if guess else ""))
        norm[_crm_key(k)] = v
    dates = dict(dates or {})
    missing = [c for c in [id_col, stage_col, *dates.values()] if c not in frame.columns]
    if missing:
        from loyaltylab.data.validation import closest
        hints = [f"{c!r}" + (f" (did you mean {g!r}?)" if (g := closest(c, frame.columns))
                             else "") for c in missing]
        raise SchemaError(f"stages_from_crm: the contacts have no column {', '.join(hints)};"
                          f" columns are {frame.columns[:12]}"
                          f"{' ...' if frame.width > 12 else ''}")
    date_of: dict[str, str] = {}
    for k, col in dates.items():
        key = _crm_key(k)
        if key not in norm:
            raise ValueError(f"dates: {k!r} is not a CRM stage of the mapping; its stages "
                             f"are {list(mapping)}")
        date_of[key] = col

    key = (pl.col(stage_col).cast(pl.String).str.strip_chars().str.to_lowercase()
           .str.replace_all(r"[\s_\-]+", ""))
    key = pl.when(key == "").then(None).otherwise(key)
    seen = frame.select(key.alias("k")).get_column("k")
    unknown = seen.filter(seen.is_not_null() & ~seen.is_in(list(norm))).value_counts(
        sort=True)
    if unknown.height:
        shown = ", ".join(f"{v!r} ({n:,})" for v, n in unknown.head(8).rows())
        raise ValueError(f"stages_from_crm: {stage_col!r} holds CRM stages the mapping does "
                         f"not know: {shown}; add each to mapping= with its ladder stage, "
                         f"or None to leave it off the ladder")

    parsed = {k: _crm_dates(frame, c) for k, c in date_of.items()}

    def upto(e: pl.Expr) -> pl.Expr:
        return e if cut is None else pl.when(e <= cut).then(e).otherwise(None)

    reached = []
    for rung in names:
        cands = [upto(parsed[k]) for k, v in norm.items() if v == rung and k in parsed]
        e = (pl.min_horizontal(cands) if len(cands) > 1 else cands[0]) if cands else \
            pl.lit(None, dtype=pl.Datetime("us"))
        reached.append(e.alias(f"reached_{rung}"))
    rank_of = {k: (None if v is None else names.index(v)) for k, v in norm.items()}
    crm = pl.col("_crm")
    cur_rank = crm.replace_strict(rank_of, default=None, return_dtype=pl.Int64)
    cur_ok = cur_rank.is_not_null()
    own = (pl.coalesce([pl.when(key == k).then(parsed[k]) for k in parsed]) if parsed
           else pl.lit(None, dtype=pl.Datetime("us")))
    if cut is not None:
        cur_ok = cur_ok & ~(pl.col("_own").is_not_null() & (pl.col("_own") > cut))
    ranks = [pl.when(pl.col(f"reached_{n}").is_not_null()).then(pl.lit(i, pl.Int64))
             for i, n in enumerate(names)]
    rank = pl.max_horizontal(pl.when(cur_ok).then(cur_rank), *ranks)
    dated = {v for k, v in norm.items() if k in parsed and v is not None}
    skipped = pl.concat_list([
        pl.when(pl.col(f"reached_{n}").is_null() & (pl.col("stage_rank") > i))
        .then(pl.lit(n)).otherwise(None) for i, n in enumerate(names) if n in dated]
        or [pl.lit(None, pl.String)]).list.drop_nulls()
    return (frame.select(pl.col(id_col).alias(S.CUSTOMER_ID),
                         pl.col(stage_col).cast(pl.String).alias("crm_stage"),
                         key.alias("_crm"), own.alias("_own"), *reached)
            .with_columns(rank.alias("stage_rank"))
            .with_columns(_stage_expr(ladder, pl.col("stage_rank")).cast(ladder.enum)
                          .alias("stage"),
                          pl.lit(None, pl.Boolean).alias("lapsed"),
                          pl.lit(None, pl.Datetime("us")).alias("last_active_at"),
                          skipped.alias("skipped"))
            .select(S.CUSTOMER_ID, "stage", "stage_rank", "lapsed", "last_active_at",
                    *[f"reached_{n}" for n in names], "skipped", "crm_stage"))


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
