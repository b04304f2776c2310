"""Evaluation protocols: labels (shared topics), co-read (same reader), MIND impressions."""

__all__: list[str] = []
