"""`rwk grade ROSTER`, live: every student of a class, every exercise, from one read.

The cluster is read through a `Snapshot` (one LIST per kind for the whole class); each
student's exercises are graded by the same criteria and runner as `rwk check`, against a
state view of their namespace's slice of it, so a verdict here is the verdict `rwk check`
gives that namespace alone. Students are graded from a few threads at once, only so that
the access reviews of the `namespaces` exercise overlap; the rest is pure Python.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from ..errors import UsageError
from ..gradebook.model import ClassGrades, Roster, Student, StudentGrades
from ..grading.progress import ALL, grade_all   # ALL: what `--exercises all` grades
from ..grading.report import Report
from ..grading.runner import settle, still_changing
from ..kube.client import Cluster
from ..kube.snapshot import Snapshot


JOBS = 8
"""Students graded at once: enough to overlap the access reviews, few enough to be polite."""


def chosen(text: str | None) -> tuple[str, ...]:
    """The exercises `--exercises` names (`all`, or NAME,NAME...), in course order."""
    if not text or text.strip() == "all":
        return ALL
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ALL]
    if unknown or not names:
        raise UsageError(f"--exercises {text!r}: unknown exercise "
                         f"{', '.join(map(repr, unknown)) or '(none named)'}; "
                         f"choose from all, {', '.join(ALL)}")
    return tuple(name for name in ALL if name in names)


def grade_class(roster: Roster, exercises: Iterable[str] = ALL, *, wait: float = 0,
                interval: float = 2.0, context: str | None = None,
                kubeconfig: str | None = None, jobs: int = JOBS,
                say: Callable[[str], None] = lambda line: None) -> ClassGrades:
    """Grade every student of `roster` for `exercises`, live; with `wait`, read again every
    `interval` seconds until every report passes or `wait` seconds pass.

    `ClusterUnreachable` (exit 3) when the cluster cannot be read at all; a student whose
    namespace is missing gets reports whose every criterion says so.
    """
    names = tuple(exercises)
    if wait < 0:
        raise UsageError(f"--wait must be 0 or more seconds, got {wait:g}")
    cluster = Cluster(context=context, kubeconfig=kubeconfig)

    def read() -> list[StudentGrades]:
        started = time.monotonic()
        graded = grade_snapshot(Snapshot(cluster), roster.students, names, jobs)
        passed = sum(all(r.passed for r in g.reports) for g in graded)
        say(f"graded {len(graded)} student(s) x {len(names)} exercise(s) in "
            f"{time.monotonic() - started:.1f} s: {passed} passed everything")
        return graded

    previous, graded = settle(read, wait, interval, passed=lambda latest: all(
        r.passed for g in latest for r in g.reports))
    before = {(g.student.student, r.exercise): r for g in previous or () for r in g.reports}
    graded = [_with_changes(g, before) for g in graded]
    return ClassGrades(roster=roster, context=cluster.context, exercises=names,
                       students=tuple(graded))


def grade_snapshot(snapshot: Snapshot, students: Iterable[Student], names: tuple[str, ...],
                   jobs: int = JOBS) -> list[StudentGrades]:
    """Every student graded for `names` from one snapshot of the cluster (`jobs` at once)."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda student: _grade_student(snapshot, student, names),
                             students))


def _grade_student(snapshot: Snapshot, student: Student,
                   names: tuple[str, ...]) -> StudentGrades:
    # The same path as `rwk progress`: one state view per exercise, from the one snapshot.
    return StudentGrades(student=student, reports=grade_all(snapshot, student.namespace, names))


def _with_changes(grades: StudentGrades, previous: dict[tuple[str, str], Report]
                  ) -> StudentGrades:
    """The student's reports, each saying which criteria flipped since the last read."""
    reports = []
    for report in grades.reports:
        before = previous.get((grades.student.student, report.exercise))
        if before is not None:
            report = dataclasses.replace(report, still_changing=still_changing(before, report))
        reports.append(report)
    return dataclasses.replace(grades, reports=tuple(reports))
