"""loyaltylab.report (being written)."""

__all__: list[str] = []
