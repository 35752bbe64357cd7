"""Criteria per topic: each module exposes CRITERIA, a tuple of `Criterion` values."""
