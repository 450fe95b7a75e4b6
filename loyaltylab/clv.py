"""loyaltylab.clv (being written)."""

__all__: list[str] = []
