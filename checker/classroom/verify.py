"""`rwk classroom verify`: with each student's own kubeconfig, ask the API server whether the
token works (SelfSubjectReview: who it says the student is) and whether each right of
`rights.RIGHTS` is allowed or refused as it must be (SelfSubjectAccessReview, answered by
the cluster's authorizers, not read from role YAML); then check the budget is in place.

What the admission policy refuses (rights.ADMISSION_RULES) happens after authorization and
cannot be asked this way; the table's footnote says so.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RwkError
from ..gradebook.model import Roster, Student
from ..kube.writer import Writer
from . import kubeconfigs
from .names import LIMITS, QUOTA, SELECTOR, username
from .parallel import WORKERS, for_each
from .rights import ADMISSION_RULES, CLUSTER, OTHER, OWN, RIGHTS, Right

Say = Callable[[str], None]
FALLBACK_OTHER = "default"
"""The other namespace a right is asked in when the class has one student."""


@dataclass
class Row:
    """One student's verification."""

    student: Student
    token: str = "ok"
    """"ok", or what is wrong with the kubeconfig or its token."""
    failed: list[str] = field(default_factory=list)
    """The rights answered wrongly, each as `Right.label` says it."""
    allowed: int = 0
    refused: int = 0

    @property
    def ok(self) -> bool:
        return self.token == "ok" and not self.failed


def verify(roster: Roster, kubeconfigs_dir: str | os.PathLike = "kubeconfigs",
           context: str | None = None, kubeconfig: str | os.PathLike | None = None,
           say: Say = print, out: Say = print, workers: int = WORKERS) -> bool:
    """Verify every student's kubeconfig; print the table with `out`; True when all hold."""
    instructor = Writer(context, kubeconfig)
    instructor.server_version()       # an unreachable cluster stops here (exit 3)
    classroom = [ns["metadata"]["name"]
                 for ns in instructor.list_labelled("v1", "Namespace", SELECTOR)]
    directory = Path(kubeconfigs_dir)
    say(f"classroom: verifying {len(roster.students)} kubeconfig(s) in {directory}/, "
        f"{len(RIGHTS)} rights each")

    def check(student: Student) -> Row:
        other = next((ns for ns in classroom if ns != student.namespace), FALLBACK_OTHER)
        return _verify_one(student, kubeconfigs.path_of(directory, student), other)

    rows = for_each(roster.students, check, workers)
    out(render(rows))
    return all(row.ok for row in rows)


def _verify_one(student: Student, path: Path, other: str) -> Row:
    row = Row(student)
    if not path.is_file():
        row.token = f"no file {path.name}"
        return row
    try:
        writer = Writer(kubeconfig=path, connections=2)
        who = writer.whoami()
        if who != username(student):
            row.token = f"token is {who or 'anonymous'}, not {username(student)}"
            return row
        for right in RIGHTS:
            if _ask(writer, right, student.namespace, other) == right.allowed:
                row.allowed += right.allowed
                row.refused += not right.allowed
            else:
                row.failed.append(("refused: " if right.allowed else "allowed: ")
                                  + right.label)
        for kind, name in (("ResourceQuota", QUOTA), ("LimitRange", LIMITS)):
            if writer.fetch("v1", kind, name, student.namespace) is None:
                row.failed.append(f"missing: {kind} {name}")
    except RwkError as error:   # refused credentials, an unreachable --server, a broken file
        row.token = " ".join(str(error).split())[:160]
    return row


def _ask(writer: Writer, right: Right, own: str, other: str) -> bool:
    namespace = {OWN: own, OTHER: other, CLUSTER: None}[right.where]
    name = {OWN: own, OTHER: other}.get(right.name or "", right.name)
    if right.resource == "namespaces" and name:
        namespace = name   # the API server asks about a namespace in that namespace
    return writer.allowed(right.verb, right.resource, right.group, namespace=namespace,
                          name=name, subresource=right.subresource)


def render(rows: list[Row]) -> str:
    """The table: one row per student, the failed checks last."""
    wanted_allowed = sum(r.allowed for r in RIGHTS)
    wanted_refused = len(RIGHTS) - wanted_allowed
    header = ("student", "namespace", "token", "allowed", "refused", "failed")
    lines = [header] + [
        (row.student.student, row.student.namespace,
         "ok" if row.token == "ok" else "FAILED",
         f"{row.allowed}/{wanted_allowed}" if row.token == "ok" else "-",
         f"{row.refused}/{wanted_refused}" if row.token == "ok" else "-",
         "; ".join(row.failed) if row.token == "ok" else row.token)
        for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1]
            for line in lines]
    passed = sum(row.ok for row in rows)
    text.append(f"{passed} of {len(rows)} student(s) hold every right.")
    text += textwrap.wrap(
        f"Asked with SelfSubjectAccessReview as each student: {len(RIGHTS)} rights "
        f"({wanted_allowed} allowed, {wanted_refused} refused; docs/instructors.md describes "
        "them). Held by the admission policy, which an access review cannot ask (the test "
        "suite proves it with real requests): a student may not "
        + "; ".join(ADMISSION_RULES) + ".", width=99)
    return "\n".join(line.rstrip() for line in text)
