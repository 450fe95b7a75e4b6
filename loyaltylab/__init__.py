"""loyaltylab: customer-loyalty analytics on polars.

``import loyaltylab as ll`` gives the whole public API:

- ``ll.load`` / ``ll.from_frames`` -> :class:`CRMData` (validated canonical tables + report)
- ``ll.datasets``: the bundled sample, CDNOW, and the ``make_crm`` simulator
- ``ll.metrics``: loyalty KPIs; ``ll.funnel``: loyalty ladders; ``ll.churn``: survival
  models; ``ll.clv``: sBG, BG/NBD, Pareto/NBD, Gamma-Gamma, BG/BB; ``ll.survey``: NPS, CSAT,
  CES, Likert, reliability
- ``ll.plots``: charts; ``ll.report``: exports
"""

from loyaltylab import exceptions
from loyaltylab.data import CRMData, LoadReport, TableReport, from_frames, load, schema
from loyaltylab import datasets, metrics, funnel, churn, clv, survey, plots, report

__version__ = "0.1.0"

__all__ = [
    "CRMData", "LoadReport", "TableReport", "load", "from_frames", "schema", "exceptions",
    "datasets", "metrics", "funnel", "churn", "clv", "survey", "plots", "report",
    "__version__",
]
