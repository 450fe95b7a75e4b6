"""Charts for loyaltylab.clv results (being written)."""

__all__: list[str] = []
