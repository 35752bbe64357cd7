"""Grading a variant once the cluster has caught up, and asserting which criterion it breaks."""

from __future__ import annotations

import time
from collections.abc import Iterable

import pytest

from checker.clusters.sandbox import Sandbox
from checker.grading.report import Report

from .exercise_helpers import by_id, graded
from .polling import pauses


def settled(sandbox: Sandbox, exercise: str, namespace: str, failing: Iterable[str] = (),
            timeout: float = 30, interval: float = 0.5) -> Report:
    """The report once every criterion outside `failing` passes (pods started, endpoints
    filled, controllers synced); fails the test, showing the last report, at `timeout`."""
    failing = set(failing)
    deadline = time.monotonic() + timeout
    waits = pauses(interval)
    while True:
        report = graded(sandbox, exercise, namespace)
        if all(r.passed for r in report.results if r.id not in failing):
            return report
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout}s, criteria other than {sorted(failing)} still fail:\n"
                        + report.to_text())
        time.sleep(next(waits))


def assert_fails(report: Report, failing: str, *fragments: str,
                 also: Iterable[str] = ()) -> None:
    """`failing` fails with a message holding every fragment; every criterion but it and
    `also` (criteria the same mistake breaks by nature) passes."""
    results = by_id(report)
    assert not results[failing].passed, f"{failing} passed but the variant breaks it"
    for fragment in fragments:
        assert fragment in results[failing].message, results[failing].message
    others = [(r.id, r.message) for r in report.results
              if r.id not in {failing, *also} and not r.passed]
    assert not others, others


def expect_failure(sandbox: Sandbox, exercise: str, namespace: str, failing: str,
                   *fragments: str, also: Iterable[str] = (), timeout: float = 30,
                   interval: float = 0.5) -> Report:
    """Grade until the report is as `assert_fails` wants it (pods may still be starting
    when the variant is applied); at `timeout`, fail with the last report's mismatch."""
    deadline = time.monotonic() + timeout
    waits = pauses(interval)
    while True:
        report = graded(sandbox, exercise, namespace)
        try:
            assert_fails(report, failing, *fragments, also=also)
            return report
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(next(waits))
