"""Charts for loyaltylab.survey results (being written)."""

__all__: list[str] = []
