"""One formatter for every moment the course prints: UTC, ISO 8601, to the second, `Z`."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from checker.gradebook.model import ClassGrades, Roster
from checker.grading.audit import AuditReport
from checker.grading.progress import Progress
from checker.grading.report import Report
from checker.grading.timestamps import now, utc_iso

PARIS_SUMMER = timezone(timedelta(hours=2))


def test_an_aware_moment_is_shown_in_utc() -> None:
    assert utc_iso(datetime(2025, 6, 1, 10, 0, tzinfo=timezone.utc)) == "2025-06-01T10:00:00Z"
    assert utc_iso(datetime(2025, 6, 1, 12, 0, tzinfo=PARIS_SUMMER)) == "2025-06-01T10:00:00Z"


def test_an_aware_moment_crosses_midnight_into_the_utc_date() -> None:
    assert utc_iso(datetime(2025, 1, 1, 1, 30, tzinfo=PARIS_SUMMER)) == "2024-12-31T23:30:00Z"


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch):
    """A local time zone other than UTC, where reading a naive moment as local would show."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_naive_moment_is_taken_as_utc_not_local_time(far_from_utc) -> None:
    assert utc_iso(datetime(2025, 6, 1, 10, 0)) == "2025-06-01T10:00:00Z"


def test_every_output_shows_a_naive_moment_the_same_way(far_from_utc) -> None:
    naive = datetime(2025, 6, 1, 10, 0)
    shown = {
        Report(exercise="x", namespace="n", context=None, results=(),
               checked_at=naive).checked_at_text,
        Progress(namespace="n", context=None, reports=(), checked_at=naive).checked_at_text,
        AuditReport(namespace="n", context=None, findings=(), checked_at=naive).checked_at_text,
        ClassGrades(roster=Roster(path="roster.csv", students=()), context=None, exercises=(),
                    students=(), graded_at=naive).graded_at_text,
    }
    assert shown == {"2025-06-01T10:00:00Z"}


def test_microseconds_are_dropped_not_rounded() -> None:
    moment = datetime(2025, 6, 1, 10, 0, 59, 999_999, tzinfo=timezone.utc)
    assert utc_iso(moment) == "2025-06-01T10:00:59Z"
    assert utc_iso(moment.replace(tzinfo=None)) == "2025-06-01T10:00:59Z"


def test_now_is_aware_and_in_utc() -> None:
    moment = now()
    assert moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - moment) < timedelta(seconds=5)
