"""Moments as every output of the course shows them: taken in UTC, printed in ISO 8601 to the
second with a `Z` (`2025-06-01T10:00:00Z`), in reports, `rwk progress`, `rwk audit` and the
gradebook alike."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    """This moment, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def utc_iso(moment: datetime) -> str:
    """`moment` in ISO 8601, in UTC, to the second, with a `Z` (e.g. `2025-06-01T10:00:00Z`).

    A naive datetime is taken as UTC, never as the machine's local time. Microseconds are
    dropped, not rounded.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
