"""Running criteria into results, polling until they pass, and keeping secrets out of both.

Checks state facts; this module decides. Each criterion runs in its own try: a `Failure`
becomes a failed result with its message, a read the credentials may not make
(`AccessDenied`) a failed result naming the missing right, any other exception a failed result
that says the checker hit an unexpected error, so one broken check never takes the whole
report down. Only `ClusterUnreachable` (no server, or credentials refused) stops the run.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from ..errors import AccessDenied, ClusterUnreachable, UsageError
from ..kube.client import Cluster
from . import exercises
from .model import Criterion, Failure, Result
from .report import Report
from .state import ClusterState

MASK = "***"
"""What a secret value is replaced with in every message."""

# Errors that make every result meaningless: the whole check stops and the CLI reports them.
# A refused read (AccessDenied) is not one of them: it fails the criterion that needed it.
_ABORTS = (ClusterUnreachable,)


def redact(text: str, secrets: Iterable[str | bytes]) -> str:
    """`text` with every secret value, in plain, quoted-escaped or base64 form, masked."""
    forms: set[str] = set()
    for secret in secrets:
        forms.update(_spellings(secret))
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def _spellings(secret: str | bytes) -> set[str]:
    """The ways a message may spell a secret: itself, escaped by repr or JSON, base64."""
    if isinstance(secret, bytes):
        raw = secret
        plain = secret.decode("utf-8", errors="replace")
        escaped = {repr(secret)[2:-1]}
    else:
        raw = secret.encode("utf-8", errors="surrogatepass")
        plain = secret
        escaped = {repr(secret)[1:-1], json.dumps(secret)[1:-1],
                   json.dumps(secret, ensure_ascii=False)[1:-1]}
    if not raw:
        return set()
    encoded = {base64.b64encode(raw).decode("ascii"), base64.urlsafe_b64encode(raw).decode("ascii")}
    forms = {plain, *escaped, *encoded, *(form.rstrip("=") for form in encoded)}
    return {form for form in forms if form}


@runtime_checkable
class SecretSource(Protocol):
    """A context that can say which secret values it has read (the state view does)."""

    def secret_values(self) -> Iterable[str | bytes]:
        """Every secret value read so far."""
        ...


def run_criteria(criteria: Iterable[Criterion], context: object,
                 secrets: Iterable[str | bytes] | None = None) -> tuple[Result, ...]:
    """Run each criterion against `context` and return its results, secrets masked.

    `context` is what the checks read (the state view, or a test's stand-in); the runner
    itself asks nothing of it but, when it is a `SecretSource`, its secret values. The values
    masked are `secrets` plus those, asked after the checks ran so that secrets the context
    read during them are included. If that call fails, messages are withheld rather than risk
    printing a secret.
    """
    criteria = tuple(criteria)
    ids = [criterion.id for criterion in criteria]
    duplicates = sorted({id_ for id_ in ids if ids.count(id_) > 1})
    if duplicates:
        raise ValueError(f"criterion ids must be unique; repeated: {', '.join(duplicates)}")
    outcomes = [_outcome(criterion, context) for criterion in criteria]
    known = set(secrets or ())
    withheld = None
    if isinstance(context, SecretSource) and callable(context.secret_values):
        try:
            known.update(context.secret_values())
        except _ABORTS:
            raise
        except Exception as error:
            withheld = ("message withheld: the checker could not list the secret values it "
                        f"must hide ({type(error).__name__})")
    return tuple(
        Result(id=criterion.id, title=redact(criterion.title, known), points=criterion.points,
               passed=passed, message=withheld or redact(message, known),
               hint=redact(criterion.hint, known))
        for criterion, (passed, message) in zip(criteria, outcomes))


def _outcome(criterion: Criterion, context: object) -> tuple[bool, str]:
    """Whether the criterion passed, and its message (the note on pass)."""
    try:
        note = criterion.check(context)
        if note is not None and not isinstance(note, str):
            raise TypeError(f"check {criterion.id!r} returned {type(note).__name__}; "
                            "a check returns None or a note string, or raises Failure")
    except Failure as failure:
        return False, failure.message
    except AccessDenied as refused:
        return False, str(refused)
    except _ABORTS:
        raise
    except Exception as error:
        return False, f"the checker hit an unexpected error: {type(error).__name__}: {error}"
    return True, note or ""


def poll(run_once: Callable[[], Report], wait_seconds: float, interval: float = 2.0, *,
         clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> Report:
    """Run until every criterion passes or `wait_seconds` pass; return the last report.

    The report's `still_changing` names the criteria whose pass/fail differed between the
    last two runs. With `wait_seconds` 0 it runs once.
    """
    if wait_seconds < 0:
        raise ValueError(f"wait must be 0 or more seconds, got {wait_seconds}")
    if interval <= 0:
        raise ValueError(f"poll interval must be more than 0 seconds, got {interval}")
    deadline = clock() + wait_seconds
    previous, report = None, run_once()
    while not report.passed and (remaining := deadline - clock()) > 0:
        sleep(min(interval, remaining))
        previous, report = report, run_once()
    if previous is None:
        return report
    before = {result.id: result.passed for result in previous.results}
    changing = tuple(result.id for result in report.results
                     if result.id in before and before[result.id] != result.passed)
    return dataclasses.replace(report, still_changing=changing)


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
    return dataclasses.replace(report, rerun=lambda: grade(exercise, namespace, context,
                                                           kubeconfig, wait, interval))
