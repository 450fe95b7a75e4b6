"""Charts for loyaltylab.metrics results (being written)."""

__all__: list[str] = []
