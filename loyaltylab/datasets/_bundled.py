"""The data shipped in the repository's ``data/`` folder: the simulated sample, CDNOW and
the donations table."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData

__all__ = ["data_path", "load_sample", "load_cdnow", "load_donations", "write_sample",
           "SAMPLE_ARGS"]

SAMPLE_ARGS = {"n_customers": 5000, "years": 3, "seed": 2026, "start": "2023-01-01"}
"""The arguments of :func:`make_crm` that produce the committed ``data/sample``."""

_TRUTH_JSON = "truth.json"
_TRUTH_DIR = "truth"
_TRUTH_CUSTOMERS = "customers.csv"
_DATE_FMT = "%Y-%m-%d"
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def data_path(*parts: str) -> Path:
    """Path of a folder or file under the repository's ``data/`` folder.

    The folder is looked for next to the package (``<repo>/data``), which is where it is
    in a clone or an editable install.

    Parameters
    ----------
    *parts : str
        Path components below ``data/``, e.g. ``"cdnow", "CDNOW_master.txt"``.

    Returns
    -------
    pathlib.Path
        The existing path.

    Raises
    ------
    FileNotFoundError
        When the path does not exist, naming where it was looked for.

    Examples
    --------
    >>> from loyaltylab.datasets import data_path
    >>> data_path("cdnow", "CDNOW_sample.txt").name
    'CDNOW_sample.txt'
    """
    root = Path(__file__).resolve().parents[2] / "data"
    path = root.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"bundled data not found: {path} does not exist. The bundled data ship with the "
            f"loyaltylab repository (folder data/ next to the loyaltylab package); use an "
            f"editable install of a clone (pip install -e .), or regenerate the sample "
            f"with `python -m loyaltylab.datasets.build_sample`.")
    return path


# ------------------------------------------------------------------ sample
def _to_jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in obj]
    if isinstance(obj, datetime):
        return obj.strftime("%Y-%m-%dT%H:%M:%S")
    if hasattr(obj, "item"):          # numpy scalars
        return obj.item()
    return obj


def _from_jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _from_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_from_jsonable(v) for v in obj]
    if isinstance(obj, str) and _ISO_RE.match(obj):
        return datetime.fromisoformat(obj)
    return obj


def write_sample(directory: str | Path, **kwargs: Any) -> list[Path]:
    """Simulate the sample and write it as the files of ``data/sample``.

    Parameters
    ----------
    directory : str or Path
        Folder to write to (created if needed).
    **kwargs
        Overrides of :data:`SAMPLE_ARGS` (n_customers, years, seed, start).

    Returns
    -------
    list of Path
        The files written: one CSV per canonical table (table name as file stem, dates as
        ``YYYY-MM-DD``, nulls as empty fields), ``truth/customers.csv`` (the per-customer
        truth) and ``truth.json`` (every other truth key, ``as_of`` and the generating
        arguments; datetimes as ``YYYY-MM-DDTHH:MM:SS``). The bytes depend only on the
        arguments.
    """
    from loyaltylab.datasets._simulate import simulate_tables

    args = {**SAMPLE_ARGS, **kwargs}
    n = args.pop("n_customers")
    years = args.pop("years")
    seed = args.pop("seed")
    tables, truth, as_of = simulate_tables(n, years, seed, **args)
    out = Path(directory)
    (out / _TRUTH_DIR).mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = out / f"{name}.csv"
        frame.write_csv(path, datetime_format=_DATE_FMT)
        written.append(path)
    path = out / _TRUTH_DIR / _TRUTH_CUSTOMERS
    truth["customers"].write_csv(path, datetime_format=_DATE_FMT)
    written.append(path)
    meta = {k: v for k, v in truth.items() if k != "customers"}
    meta["as_of"] = as_of
    meta["generated_by"] = {"function": "loyaltylab.datasets.make_crm",
                            "n_customers": n, "years": years, "seed": seed, **args}
    path = out / _TRUTH_JSON
    path.write_text(json.dumps(_to_jsonable(meta), indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")
    written.append(path)
    return written


def _read_truth(folder: Path) -> tuple[dict[str, Any], datetime]:
    meta = _from_jsonable(json.loads((folder / _TRUTH_JSON).read_text(encoding="utf-8")))
    as_of = meta.pop("as_of")
    meta.pop("generated_by", None)
    ts = pl.Datetime("us")
    customers = pl.read_csv(
        folder / _TRUTH_DIR / _TRUTH_CUSTOMERS,
        schema_overrides={S.CUSTOMER_ID: pl.String, "first_manager": pl.String,
                          "stage_at_change": pl.String, "defection_day": pl.Float64},
        try_parse_dates=False)
    date_cols = ["first_order_at", "defected_at", "complaint_at", "complaint_effect_from",
                 "manager_left_at"]
    customers = customers.with_columns(
        pl.col(c).cast(pl.String).str.strptime(ts, _DATE_FMT) for c in date_cols)
    meta["customers"] = customers
    return meta, as_of


def load_sample() -> CRMData:
    """The committed sample: 5,000 simulated customers over three years (2023-2025), with
    the planted truth.

    Loads ``data/sample`` through :func:`loyaltylab.load`, the path client exports take,
    and attaches the truth of the simulation (``truth.json`` and
    ``truth/customers.csv``). It is ``make_crm(5000, years=3, seed=2026)`` written to CSV;
    see :func:`loyaltylab.datasets.make_crm` for every table and truth key.

    Returns
    -------
    CRMData
        Nine tables, ``as_of`` = 2026-01-01, ``report`` from the loader, ``truth``.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> data = ll.datasets.load_sample()
    >>> data.customers.height
    5000
    >>> data.report.ok
    True
    >>> round(data.truth["annual_defection"], 2)
    0.28
    """
    from loyaltylab.data.load import load

    folder = data_path("sample")
    truth, as_of = _read_truth(folder)
    data = load(folder, as_of=as_of)
    return data.replace(truth=truth, as_of=as_of)


# ------------------------------------------------------------------ CDNOW
def _read_cdnow_text(path: Path, sample: bool) -> pl.DataFrame:
    """Parse the whitespace-separated CDNOW text into typed columns."""
    lines = pl.read_csv(path, has_header=False, new_columns=["line"], separator="\x1f",
                        infer_schema=False, quote_char=None)
    if not sample:
        lines = lines.slice(1)          # the master file has a header line
    parts = lines.select(pl.col("line").str.extract_all(r"\S+"))
    p = parts.to_series()
    off = 1 if sample else 0
    return pl.DataFrame({
        "cust": p.list.get(0),
        "date": p.list.get(1 + off),
        "cds": p.list.get(2 + off).cast(pl.Int64),
        "dollars": p.list.get(3 + off).cast(pl.Float64),
    })


def load_cdnow(*, sample: bool = False) -> CRMData:
    """The CDNOW transaction log as a CRMData with customers and orders.

    The customers first bought at the online music retailer CDNOW in the first quarter of
    1997; the log runs to the end of June 1998 (Fader & Hardie 2001; Fader, Hardie & Lee
    2005). The text ships with the ``lifetimes`` package (0.11.3, MIT) and is committed in
    ``data/cdnow/``. It goes through :func:`loyaltylab.from_frames`, the validation path
    client data take.

    Parameters
    ----------
    sample : bool, default False
        False: the full log (``CDNOW_master.txt``, 23,570 customers, 69,659 orders).
        True: the 1/10th systematic sample used by Fader, Hardie & Lee (2005)
        (``CDNOW_sample.txt``, 2,357 customers, 6,919 orders).

    Returns
    -------
    CRMData
        ``customers``: customer_id (the file's id, zero-padded to five digits as in the
        file), acquired_at (date of the first order). ``orders``: order_id
        (``<customer_id>-<n>``, the n-th line of that customer in file order, from 1),
        customer_id, ordered_at (the date, midnight), amount (``dollar_value``, US$),
        and the extra column ``number_of_cds`` where the loader keeps extra columns.
        ``as_of`` = 1998-07-01 (the day after the last date of the log).

    Notes
    -----
    Several orders of one customer can share a day: they are kept as separate orders, as
    in the file. Some lines have a dollar value of 0.00; they are kept.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy
    way: an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> cd = ll.datasets.load_cdnow(sample=True)
    >>> cd.customers.height, cd.orders.height
    (2357, 6919)
    """
    from loyaltylab.datasets._simulate import _validated

    path = data_path("cdnow", "CDNOW_sample.txt" if sample else "CDNOW_master.txt")
    raw = _read_cdnow_text(path, sample)
    ts = pl.Datetime("us")
    orders = (raw.with_columns(
        pl.col("cust").alias(S.CUSTOMER_ID),
        pl.col("date").str.strptime(ts, "%Y%m%d").alias(S.ORDERED_AT),
        pl.col("dollars").alias(S.AMOUNT),
        pl.col("cds").alias("number_of_cds"),
    ).with_columns(
        (pl.col(S.CUSTOMER_ID) + "-"
         + (pl.int_range(pl.len()).over(S.CUSTOMER_ID) + 1).cast(pl.String))
        .alias(S.ORDER_ID))
        .select(S.ORDER_ID, S.CUSTOMER_ID, S.ORDERED_AT, S.AMOUNT, "number_of_cds"))
    customers = (orders.group_by(S.CUSTOMER_ID, maintain_order=True)
                 .agg(pl.col(S.ORDERED_AT).min().alias(S.ACQUIRED_AT))
                 .sort(S.CUSTOMER_ID))
    as_of = datetime(1998, 7, 1)
    name = "CDNOW_sample" if sample else "CDNOW_master"
    return _validated({S.CUSTOMERS: customers, S.ORDERS: orders}, None, as_of, source=name)


# ------------------------------------------------------------------ donations
def load_donations() -> pl.DataFrame:
    """The donations data of Fader, Hardie & Shang (2010) for the BG/BB model.

    11,104 members of the 1995 donor cohort of a non-profit, with their repeat donations
    over 6 annual opportunities, grouped by pattern (``donations.csv`` from ``lifetimes``
    0.11.3, MIT).

    Returns
    -------
    pl.DataFrame
        - frequency: number of years (of 6) with a repeat donation
        - recency: the last year with a repeat donation (0 if none)
        - periods: number of repeat opportunities (6)
        - weights: number of donors with this (frequency, recency) pattern

    Examples
    --------
    >>> import loyaltylab as ll
    >>> don = ll.datasets.load_donations()
    >>> don.height, int(don["weights"].sum())
    (22, 11104)
    """
    return pl.read_csv(data_path("donations", "donations.csv"),
                       schema={"frequency": pl.Int64, "recency": pl.Int64,
                               "periods": pl.Int64, "weights": pl.Int64})
