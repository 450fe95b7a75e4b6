"""Bundled and simulated data (being written)."""

__all__: list[str] = []
