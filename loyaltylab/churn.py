"""loyaltylab.churn (being written)."""

__all__: list[str] = []
