"""Running criteria into results, polling until they pass, and keeping secrets out of both.

Checks state facts; this module decides. Each criterion runs in its own try: a `Failure`
becomes a failed result with its message, a read the credentials may not make
(`AccessDenied`) a failed result naming the missing right, any other exception a failed result
that says the checker hit an unexpected error, so one broken check never takes the whole
report down. Only `ClusterUnreachable` (no server, or credentials refused) stops the run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from ..errors import AccessDenied, ClusterUnreachable, UsageError
from ..kube.client import Cluster
from . import exercises
from .masking import masked_values, redact
from .model import Criterion, Failure, Result
from .report import Report
from .state import ClusterState

# Errors that make every result meaningless: the whole check stops and the CLI reports them.
# A refused read (AccessDenied) is not one of them: it fails the criterion that needed it.
_ABORTS = (ClusterUnreachable,)


def run_criteria(criteria: Iterable[Criterion], context: object,
                 secrets: Iterable[str | bytes] | None = None) -> tuple[Result, ...]:
    """Run each criterion against `context` and return its results, secrets masked.

    `context` is what the checks read (the state view, or a test's stand-in); the runner
    itself asks nothing of it but, when it is a `SecretSource`, its secret values. The values
    masked are `secrets` plus those, asked after the checks ran so that secrets the context
    read during them are included. If that call fails, every message is withheld rather than
    risk printing a secret, but for the refusals of the criteria's own reads (which name a
    right, never a value).
    """
    criteria = tuple(criteria)
    ids = [criterion.id for criterion in criteria]
    duplicates = sorted({id_ for id_ in ids if ids.count(id_) > 1})
    if duplicates:
        raise ValueError(f"criterion ids must be unique; repeated: {', '.join(duplicates)}")
    outcomes = [_outcome(criterion, context) for criterion in criteria]
    known, withheld = masked_values(context, secrets)
    return tuple(
        Result(id=criterion.id, title=redact(criterion.title, known), points=criterion.points,
               passed=passed, message=redact(message, known) if refusal or not withheld
               else withheld, hint=redact(criterion.hint, known))
        for criterion, (passed, message, refusal) in zip(criteria, outcomes))


def _outcome(criterion: Criterion, context: object) -> tuple[bool, str, bool]:
    """Whether the criterion passed, its message (the note on pass), and whether that message
    is the refusal of a read (which names a right, never a value)."""
    try:
        note = criterion.check(context)
        if note is not None and not isinstance(note, str):
            raise TypeError(f"check {criterion.id!r} returned {type(note).__name__}; "
                            "a check returns None or a note string, or raises Failure")
    except Failure as failure:
        return False, failure.message, False
    except AccessDenied as refused:
        return False, str(refused), True
    except _ABORTS:
        raise
    except Exception as error:
        return (False, f"the checker hit an unexpected error: {type(error).__name__}: {error}",
                False)
    return True, note or "", False


Read = TypeVar("Read")


def settle(read: Callable[[], Read], wait_seconds: float, interval: float = 2.0, *,
           passed: Callable[[Read], bool],
           at_rest: Callable[[Read, Read], bool] = lambda latest, previous: False,
           clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep) -> tuple[Read | None, Read]:
    """The one grading loop: `read` until what it read `passed`, or is `at_rest` (given the
    read before, later reads would only agree), or `wait_seconds` pass; (the read before the
    last, or None when there was one read; the last read). With `wait_seconds` 0 it reads once.

    `rwk check --wait`, `rwk grade --wait` and the handed-in notebooks' settling all wait
    through it; what they read (one report, a class, one student) is theirs.
    """
    if wait_seconds < 0:
        raise ValueError(f"wait must be 0 or more seconds, got {wait_seconds}")
    if interval <= 0:
        raise ValueError(f"poll interval must be more than 0 seconds, got {interval}")
    deadline = clock() + wait_seconds
    previous, latest = None, read()
    while not passed(latest) and (remaining := deadline - clock()) > 0:
        if previous is not None and at_rest(latest, previous):
            break
        sleep(min(interval, remaining))
        previous, latest = latest, read()
    return previous, latest


def still_changing(previous: Report | None, report: Report) -> tuple[str, ...]:
    """Ids of the criteria whose pass or fail differs between two reads of one exercise."""
    if previous is None:
        return ()
    before = {result.id: result.passed for result in previous.results}
    return tuple(result.id for result in report.results
                 if result.id in before and before[result.id] != result.passed)


def poll(run_once: Callable[[], Report], wait_seconds: float, interval: float = 2.0, *,
         clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> Report:
    """Run until every criterion passes or `wait_seconds` pass; return the last report.

    The report's `still_changing` names the criteria whose pass/fail differed between the
    last two runs. With `wait_seconds` 0 it runs once.
    """
    previous, report = settle(run_once, wait_seconds, interval,
                              passed=lambda latest: latest.passed, clock=clock, sleep=sleep)
    if previous is None:
        return report
    return dataclasses.replace(report, still_changing=still_changing(previous, report))


DEFAULT_NAMESPACE = "production"


def grade(exercise: str, namespace: str | None = None, context: str | None = None,
          kubeconfig: str | None = None, wait: float = 0, interval: float = 2.0) -> Report:
    """Check one exercise against the live cluster: connect, read, run, report.

    With `wait` > 0, poll until every criterion passes or `wait` seconds pass.
    """
    criteria = exercises.criteria(exercise)
    if wait < 0:
        raise UsageError(f"--wait must be 0 or more seconds, got {wait:g}")
    target = namespace or DEFAULT_NAMESPACE
    cluster = Cluster(context=context, kubeconfig=kubeconfig)

    def run_once() -> Report:
        state = ClusterState(cluster, target)
        return Report(exercise=exercise, namespace=target, context=cluster.context,
                      results=run_criteria(criteria, state))

    report = poll(run_once, wait, interval=interval)
    # Check again reads once: a wait is the caller's to make (the panel's Wait button, or
    # `--wait`), never a wait inside a wait.
    return dataclasses.replace(report, rerun=lambda: grade(exercise, namespace, context,
                                                           kubeconfig))
