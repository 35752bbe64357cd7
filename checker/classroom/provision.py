"""`rwk classroom create`: for each student of a roster, a namespace, a ServiceAccount and its
rights, a budget, and a kubeconfig; plus the admission policy every classroom namespace
shares.

The recipe: read what the classroom already made (one LIST per kind, by label), apply the
shared policy, then for every student at once apply what is missing or differs and write the
kubeconfig when it would change. Running it again changes nothing that is right and repairs
what is not: an object is applied (server-side apply) only when the live one lacks something
of what it should hold.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ClusterUnreachable, RwkError, UsageError
from ..gradebook.model import Roster, Student
from ..grading.checks.ingress import ROUTES as INGRESS_ROUTES
from ..kube.kinds import named
from ..kube.writer import Endpoint, Writer
from . import kubeconfigs
from .budget import BUDGETS, budget_objects
from .names import (MANAGED_BY, MANAGER, POD_SECURITY, POLICY, SELECTOR, SERVICE_ACCOUNT,
                    STUDENT, labels)
from .parallel import WORKERS, for_each
from .rights import policy_objects, student_objects

Say = Callable[[str], None]
MIN_SECONDS = 600
"""The shortest token the TokenRequest API issues."""
SLACK = 60
"""Seconds a token may fall short of what was asked before we call it shortened."""
POLICY_WAIT = 60.0
"""Seconds `create` waits for the API server to enforce the admission policy."""
POLICY_POLL = 0.5
KINDS = tuple((kind.api_version, kind.kind) for kind in map(named, (
    "Namespace", "ServiceAccount", "ResourceQuota", "LimitRange", "Role", "RoleBinding",
    "ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding")))
"""Every kind the classroom makes (apiVersion, kind): read once, by label, at the start."""


@dataclass
class Outcome:
    """What `create` did for one student."""

    student: Student
    changes: list[str] = field(default_factory=list)
    """What was created or repaired; empty when everything was right."""
    error: str | None = None
    granted: int | None = None
    """A new token's lifetime in seconds, when the cluster gave less than was asked."""


def create(roster: Roster, kubeconfigs_dir: str | os.PathLike = "kubeconfigs",
           budget: str = "small", hours: float = 12, server: str | None = None,
           context: str | None = None, kubeconfig: str | os.PathLike | None = None,
           say: Say = print, workers: int = WORKERS) -> bool:
    """Provision every student of `roster`; True when all of them are ready."""
    if budget not in BUDGETS:
        raise UsageError(f"--budget {budget}: no such budget; choose {', '.join(BUDGETS)}")
    seconds = int(hours * 3600) if hours == hours else 0
    if seconds < MIN_SECONDS:
        raise UsageError(f"--hours {hours}: a token lasts at least 10 minutes (0.17 hours)")
    directory = Path(kubeconfigs_dir)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--kubeconfigs {directory}: a file, not a directory")
    if server is not None and not server.startswith(("https://", "http://")):
        raise UsageError(f"--server {server}: give the API server's URL, https://HOST:PORT")
    writer = Writer(context, kubeconfig, connections=workers)
    endpoint = writer.endpoint()
    live = _Live.read(writer)
    for change in filter(None, (live.ensure(writer, obj) for obj in policy_objects())):
        say(f"classroom: {change} {POLICY}")
    say(f"classroom: {len(roster.students)} student(s), budget {budget}, tokens for "
        f"{hours:g} h, kubeconfigs in {directory}/")

    def provision(student: Student) -> Outcome:
        outcome = _provision(writer, live, endpoint, student, directory, budget, seconds,
                             server)
        if outcome.error:
            say(f"{student.namespace}: FAILED: {outcome.error}")
        else:
            say(f"{student.namespace}: {describe(outcome.changes)}")
        return outcome

    outcomes = for_each(roster.students, provision, workers)
    _summary(outcomes, seconds, say)
    made = [o for o in outcomes if o.changes and not o.error]
    if made:
        _wait_for_the_policy(kubeconfigs.path_of(directory, made[0].student), made[0].student,
                             say)
    if len(roster.students) > 1:
        say(shared_hosts_note())
    return not any(o.error for o in outcomes)


def _provision(writer: Writer, live: _Live, endpoint: Endpoint, student: Student,
               directory: Path, budget: str, seconds: int, server: str | None) -> Outcome:
    outcome = Outcome(student)
    try:
        problem = live.foreign_namespace(writer, student)
        if problem:
            outcome.error = problem
            return outcome
        namespace = {"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": student.namespace,
                                  "labels": {**labels(student), **POD_SECURITY}}}
        account_uid = ""
        for obj in [namespace, *student_objects(student), *budget_objects(student, budget)]:
            change = live.ensure(writer, obj)
            if change:
                outcome.changes.append(change)
            if obj["kind"] == "ServiceAccount":
                account_uid = live.uid(obj)
        _kubeconfig(writer, endpoint, student, directory, seconds, server, account_uid,
                    outcome)
    except ClusterUnreachable:
        raise
    except RwkError as error:
        outcome.error = str(error)
    return outcome


def _kubeconfig(writer: Writer, endpoint: Endpoint, student: Student, directory: Path,
                seconds: int, server: str | None, account_uid: str, outcome: Outcome) -> None:
    path = kubeconfigs.path_of(directory, student)
    existing = kubeconfigs.read(path)
    wanted = kubeconfigs.build(student, endpoint, "", server)
    token = kubeconfigs.reusable_token(existing, wanted, student, account_uid, seconds)
    if token is None:
        issued = writer.request_token(student.namespace, SERVICE_ACCOUNT, seconds)
        kubeconfigs.write(path, kubeconfigs.build(student, endpoint, issued.value, server))
        outcome.changes.append(f"wrote {path.name} (a new token, {issued.seconds / 3600:.3g} h)")
        if issued.seconds < seconds - SLACK:
            outcome.granted = issued.seconds
    elif stat.S_IMODE(path.stat().st_mode) != 0o600:
        os.chmod(path, 0o600)
        outcome.changes.append(f"repaired {path.name}'s mode (0600)")


def describe(changes: list[str]) -> str:
    """'created Namespace, Role; repaired RoleBinding' from 'created Namespace', ..."""
    if not changes:
        return "unchanged"
    groups: dict[str, list[str]] = {}
    for change in changes:
        verb, _, what = change.partition(" ")
        groups.setdefault(verb, []).append(what)
    return "; ".join(f"{verb} {', '.join(whats)}" for verb, whats in groups.items())


def _wait_for_the_policy(kubeconfig: Path, student: Student, say: Say,
                         limit: float = POLICY_WAIT) -> None:
    """Until the API server enforces the admission policy on a classroom namespace just made
    (it loads a new policy, and sees a new namespace, some moments after they are stored),
    a student could change what it forbids. Ask, as a student, for a change it refuses (a
    server-side dry run) until it is refused."""
    start = time.monotonic()
    try:
        writer = Writer(kubeconfig=kubeconfig, connections=1)
        while writer.may_patch("v1", "Namespace", student.namespace, {"metadata": {"labels": {
                "pod-security.kubernetes.io/enforce": "privileged"}}}):
            if time.monotonic() - start > limit:
                say(f"classroom: warning: after {limit:.0f} s the API server still does not "
                    f"enforce {POLICY}; run `rwk classroom verify` before handing out the "
                    "kubeconfigs")
                return
            time.sleep(POLICY_POLL)
    except RwkError as error:   # a --server this machine cannot reach, say
        say(f"classroom: could not ask, as {student.namespace}, whether {POLICY} is in force "
            f"({' '.join(str(error).split())[:160]})")
        return
    if time.monotonic() - start > POLICY_POLL:
        say(f"classroom: {POLICY} in force after {time.monotonic() - start:.0f} s")


def shared_hosts_note() -> str:
    """What two students' identical Ingress hosts do on one cluster."""
    return (f"classroom: every student's Ingress routes the hosts the ingress exercise fixes "
            f"({', '.join(INGRESS_ROUTES)}), and nothing refuses two students the same host: "
            "where an Ingress controller runs (Traefik on the course's kind), each request for "
            "one goes to some student's pods, which one is not defined. Grading reads each "
            "namespace's own objects and is not affected; requests through the Ingress show "
            "a student their own work only on a cluster of their own (docs/instructors.md, "
            "\"One host, many students\")")


def _summary(outcomes: list[Outcome], seconds: int, say: Say) -> None:
    failed = [o for o in outcomes if o.error]
    changed = [o for o in outcomes if o.changes and not o.error]
    say(f"classroom: {len(outcomes)} student(s): {len(changed)} created or repaired, "
        f"{len(outcomes) - len(changed) - len(failed)} unchanged, {len(failed)} failed")
    granted = [o.granted for o in outcomes if o.granted]
    if granted:
        say(f"classroom: the cluster shortened the tokens to {min(granted) / 3600:.3g} h "
            f"(asked for {seconds / 3600:.3g} h): it caps tokens "
            "(--service-account-max-token-expiration); run `rwk classroom create` again "
            "before they expire for fresh ones")


class _Live:
    """What the classroom has made, as the cluster holds it: one LIST per kind, by label,
    then kept up to date by `ensure` as objects are applied."""

    def __init__(self, objects: dict[tuple[str, str | None, str], dict]) -> None:
        self._objects = objects

    @classmethod
    def read(cls, writer: Writer) -> _Live:
        objects = {}
        for api_version, kind in KINDS:
            for obj in writer.list_labelled(api_version, kind, SELECTOR):
                objects[_key(obj)] = obj
        return cls(objects)

    def ensure(self, writer: Writer, obj: dict) -> str | None:
        """Apply `obj` unless the live object already holds all of it; what was done."""
        current = self._objects.get(_key(obj))
        if current is not None and holds(current, obj):
            return None
        self._objects[_key(obj)] = writer.apply(obj)
        return f"{'created' if current is None else 'repaired'} {obj['kind']}"

    def uid(self, obj: dict) -> str:
        return self._objects.get(_key(obj), {}).get("metadata", {}).get("uid", "")

    def foreign_namespace(self, writer: Writer, student: Student) -> str | None:
        """Why the student's namespace may not be used: it exists but `create` did not make
        it for this student, or it is being deleted. None when it may."""
        found = self._objects.get(("Namespace", None, student.namespace))
        if found is None:
            found = writer.fetch("v1", "Namespace", student.namespace)
            if found is None:
                return None
        own = (found["metadata"].get("labels") or {})
        if own.get(MANAGED_BY) != MANAGER or own.get(STUDENT) != student.file_id:
            return (f"namespace {student.namespace} exists and `rwk classroom create` did "
                    f"not make it for {student.student!r}; give the student another one "
                    "(the roster's `namespace` column) or delete it")
        if (found.get("status") or {}).get("phase") == "Terminating":
            return (f"namespace {student.namespace} is being deleted; wait until it is "
                    "gone, then run `rwk classroom create` again")
        return None


def _key(obj: dict) -> tuple[str, str | None, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace"), meta["name"]


def holds(live: object, desired: object) -> bool:
    """Whether `live` holds everything of `desired`: every key of a mapping (more is fine:
    the API server's defaults and status), lists item by item, values equal."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(
            key in live and holds(live[key], value) for key, value in desired.items())
    if isinstance(desired, list):
        return (isinstance(live, list) and len(live) == len(desired)
                and all(holds(a, b) for a, b in zip(live, desired)))
    return live == desired
