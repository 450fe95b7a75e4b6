"""loyaltylab.survey (being written)."""

__all__: list[str] = []
