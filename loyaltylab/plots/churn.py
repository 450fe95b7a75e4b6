"""Charts for loyaltylab.churn results (being written)."""

__all__: list[str] = []
