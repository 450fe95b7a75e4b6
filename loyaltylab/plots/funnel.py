"""Charts for loyaltylab.funnel results (being written)."""

__all__: list[str] = []
