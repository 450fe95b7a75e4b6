"""Charts for loyaltylab.data results (being written)."""

__all__: list[str] = []
