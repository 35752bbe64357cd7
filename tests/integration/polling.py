"""How the integration tests poll the cluster: often at first, then less.

Each poll is a kubectl process or a full grading read, and six workers share two cores: a
fixed 0.3 s poll of an HPA that takes two minutes to act cost about half a core on its own.
The pause grows by half each time, up to CEILING, so a quick change is still seen at once."""

from __future__ import annotations

from collections.abc import Iterator

CEILING = 2.0
"""Seconds: the longest pause between two polls."""


def pauses(first: float) -> Iterator[float]:
    """first, first * 1.5, ... up to CEILING, forever."""
    pause = first
    while True:
        yield pause
        pause = min(pause * 1.5, max(first, CEILING))
