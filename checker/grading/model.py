"""The core values of grading: a criterion, the failure a check raises, and a result.

A check states facts and raises `Failure` when one does not hold; only the runner
(`checker.grading.run_criteria`) turns outcomes into `Result`s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: A check reads the cluster through its context; it returns None or a note on pass.
Check = Callable[[Any], "str | None"]


class Failure(Exception):
    """A criterion does not hold; the message names the field path and the value found."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = str(message)


@dataclass(frozen=True)
class Criterion:
    """One graded statement about the cluster, and how to verify it."""

    id: str
    """Stable identifier, part of the JSON contract (e.g. `configmap-keys`)."""
    title: str
    """What must hold, in one line a student reads."""
    points: int
    """Points earned when the criterion passes."""
    hint: str
    """What to do when it fails, pointing at the lesson section."""
    check: Check
    """Reads the context; returns None or a note on pass, raises `Failure` otherwise."""

    def __post_init__(self) -> None:
        if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points < 0:
            raise ValueError(f"criterion {self.id!r}: points must be an int >= 0, "
                             f"got {self.points!r}")


@dataclass(frozen=True)
class Result:
    """The outcome of one criterion, as a report shows it."""

    id: str
    """The criterion's id."""
    title: str
    """The criterion's title."""
    points: int
    """Points the criterion is worth (earned only when passed)."""
    passed: bool
    """Whether the criterion holds."""
    message: str
    """On failure, what was found; on pass, an optional note (else empty)."""
    hint: str
    """The criterion's hint: what to do when it fails."""

    def to_dict(self) -> dict[str, object]:
        """The criterion entry of the JSON contract, keys in contract order."""
        return {"id": self.id, "title": self.title, "passed": self.passed,
                "points": self.points, "message": self.message, "hint": self.hint}
