"""loyaltylab.metrics (being written)."""

__all__: list[str] = []
