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

Everything but ``exceptions`` and ``__version__`` is imported on first use (PEP 562): the
first ``ll.metrics`` imports :mod:`loyaltylab.metrics`, the first ``ll.load`` imports
:mod:`loyaltylab.data`. So ``import loyaltylab`` and ``loyaltylab --help`` load no polars,
numpy, scipy, matplotlib, pandas or lifelines (tests/test_import_time.py keeps it so).

Examples
--------
>>> import loyaltylab as ll
>>> ll.__version__
'0.1.0'
>>> ll.churn.KaplanMeier.__name__
'KaplanMeier'
>>> from loyaltylab import CRMData, load
>>> CRMData.__name__, load.__name__
('CRMData', 'load')
"""

import importlib as _importlib
from typing import TYPE_CHECKING

from loyaltylab import exceptions

__version__ = "0.1.0"

# Names defined in a subpackage and re-exported here: name -> the module that holds it.
_LAZY_NAMES = {
    "CRMData": "loyaltylab.data",
    "LoadReport": "loyaltylab.data",
    "TableReport": "loyaltylab.data",
    "load": "loyaltylab.data",
    "from_frames": "loyaltylab.data",
    "schema": "loyaltylab.data",
}
# Subpackages reachable as ``ll.<name>`` (``data`` is not in ``__all__`` but was always
# reachable, and notebooks use ``ll.data.overview``).
_LAZY_SUBPACKAGES = ("data", "datasets", "metrics", "funnel", "churn", "clv", "survey",
                     "plots", "report", "warehouse")

__all__ = [
    "CRMData", "LoadReport", "TableReport", "load", "from_frames", "schema", "exceptions",
    "datasets", "metrics", "funnel", "churn", "clv", "survey", "plots", "report",
    "warehouse", "__version__",
]

if TYPE_CHECKING:  # the eager imports, for type checkers and IDE completion only
    from loyaltylab import data as data  # reachable, not in __all__
    from loyaltylab import (churn, clv, datasets, funnel, metrics, plots, report,
                            survey, warehouse)
    from loyaltylab.data import CRMData, LoadReport, TableReport, from_frames, load, schema


def __getattr__(name: str):
    """Import a subpackage or a re-exported name on first access and keep it (PEP 562)."""
    if name in _LAZY_SUBPACKAGES:
        value = _importlib.import_module(f"loyaltylab.{name}")
    elif name in _LAZY_NAMES:
        value = getattr(_importlib.import_module(_LAZY_NAMES[name]), name)
    else:
        raise AttributeError(f"module 'loyaltylab' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
