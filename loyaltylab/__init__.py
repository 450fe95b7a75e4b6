"""loyaltylab: customer-loyalty analytics on polars.

``import loyaltylab as ll`` gives the whole public API:

- ``ll.load`` / ``ll.from_frames`` -> :class:`CRMData` (validated canonical tables + report)
- ``ll.datasets``: the bundled sample, CDNOW, and the ``make_crm`` simulator
- ``ll.metrics``: loyalty KPIs; ``ll.funnel``: loyalty ladders; ``ll.churn``: survival
  models; ``ll.clv``: sBG, BG/NBD, Pareto/NBD, Gamma-Gamma, BG/BB; ``ll.survey``: NPS, CSAT,
  CES, Likert, reliability
- ``ll.plots``: charts; ``ll.report``: exports
- ``ll.warehouse``: the per-customer summaries inside a database engine through Ibis
  (optional extra ``loyaltylab[warehouse]``; Ibis is imported only when an engine is used)

The analysis subpackages are imported on first use (``ll.metrics`` imports
:mod:`loyaltylab.metrics` then), so ``import loyaltylab`` and ``loyaltylab --help`` do not
load scipy, matplotlib, pandas or lifelines.
"""

import importlib as _importlib

from loyaltylab import exceptions
from loyaltylab.data import CRMData, LoadReport, TableReport, from_frames, load, schema

__version__ = "0.1.0"

_LAZY_SUBPACKAGES = ("datasets", "metrics", "funnel", "churn", "clv", "survey", "plots",
                     "report", "warehouse")

__all__ = [
    "CRMData", "LoadReport", "TableReport", "load", "from_frames", "schema", "exceptions",
    "datasets", "metrics", "funnel", "churn", "clv", "survey", "plots", "report",
    "warehouse", "__version__",
]


def __getattr__(name: str):
    """Import an analysis subpackage on first access (PEP 562)."""
    if name in _LAZY_SUBPACKAGES:
        module = _importlib.import_module(f"loyaltylab.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'loyaltylab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
