"""Data layer: the canonical schema, loading and validation of client exports, CRMData."""

from loyaltylab.data import overview, schema
from loyaltylab.data.crmdata import CRMData, LoadReport, TableReport
from loyaltylab.data.load import from_frames, load

__all__ = ["schema", "overview", "CRMData", "LoadReport", "TableReport", "load", "from_frames"]


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
