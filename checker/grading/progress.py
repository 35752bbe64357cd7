"""`rwk progress` and `progress()`: every exercise graded in one namespace, from one read.

The class grader's reading path for one learner: a `Snapshot` (one LIST per kind) serves a
fresh state view per exercise, and each exercise runs through the same criteria and runner as
`rwk check`, so every verdict here is the one `rwk check EXERCISE` gives. Where the
credentials may not LIST a kind across the cluster (a classroom student's), that kind is read
live instead, as `rwk check` reads it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import AccessDenied
from ..kube.client import Cluster
from ..kube.snapshot import Snapshot
from . import exercises
from .rendering import environment
from .report import Report
from .runner import DEFAULT_NAMESPACE, run_criteria
from .state import ClusterState
from .timestamps import now, utc_iso

if TYPE_CHECKING:
    import jinja2

ALL: tuple[str, ...] = tuple(exercise.name for exercise in exercises.EXERCISES)
"""Every exercise of EXERCISES.md, in course order (exercises.EXERCISES)."""

_LESSON = re.compile(r"(lessons/[\w.-]+\.ipynb)(?:, '([^']+)')?")


def next_lesson(report: Report) -> str:
    """Where to read for a failing report: the lesson (and section) its first failing
    criterion's hint names, else the first lesson any of its hints names, else ""."""
    failing = [r for r in report.results if not r.passed]
    for result in (*failing, *report.results):
        match = _LESSON.search(result.hint)
        if match:
            return f"{match[1]}, '{match[2]}'" if match[2] else match[1]
    return ""


@dataclass(frozen=True, kw_only=True, repr=False)
class Progress:
    """Every exercise's report for one namespace; totals derived from them."""

    namespace: str
    """The namespace that was graded."""
    context: str | None
    """The kube context that was graded."""
    reports: tuple[Report, ...]
    """One report per exercise, in course order."""
    checked_at: datetime = field(default_factory=now)
    """When the cluster was read (a naive datetime is taken as UTC)."""
    rerun: Callable[[], Progress] | None = field(default=None, compare=False)
    """Grades the same namespace again; what `again()` calls."""

    @property
    def passed(self) -> int:
        """How many exercises pass."""
        return sum(report.passed for report in self.reports)

    @property
    def first_failing(self) -> Report | None:
        """The first exercise, in course order, that does not pass yet."""
        return next((report for report in self.reports if not report.passed), None)

    @property
    def next_lesson(self) -> str:
        """The lesson (and section) to read next: for the first failing exercise."""
        failing = self.first_failing
        return next_lesson(failing) if failing else ""

    @property
    def checked_at_text(self) -> str:
        """`checked_at` in ISO 8601, UTC, to the second (e.g. `2025-06-01T10:00:00Z`)."""
        return utc_iso(self.checked_at)

    def again(self) -> Progress:
        """Grade the same namespace again and return the new progress."""
        if self.rerun is None:
            raise RuntimeError("this progress was not made by progress(); it cannot re-run")
        return self.rerun()

    def rows(self) -> list[dict[str, object]]:
        """One row per exercise: exercise, score, max_score, passed, next (the lesson to read,
        for the first failing exercise only)."""
        first = self.first_failing
        return [{"exercise": r.exercise, "score": r.score, "max_score": r.max_score,
                 "passed": r.passed, "next": next_lesson(r) if r is first else ""}
                for r in self.reports]

    def to_dict(self) -> dict[str, object]:
        """What `rwk progress --output json` prints."""
        return {"namespace": self.namespace, "context": self.context,
                "checked_at": self.checked_at_text, "passed": self.passed,
                "exercises": len(self.reports),
                "next": ({"exercise": self.first_failing.exercise, "lesson": self.next_lesson}
                         if self.first_failing else None),
                "reports": [{**row, "failing": [x.id for x in r.results if not x.passed]}
                            for row, r in zip(self.rows(), self.reports)]}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_text(self) -> str:
        """A table: exercise, score, passed, and the lesson to read next."""
        rows = self.rows()
        width = max([len("exercise"), *(len(str(row["exercise"])) for row in rows)])
        lines = [f"progress: namespace {self.namespace}, context {self.context or '(none)'}, "
                 f"checked {self.checked_at_text}",
                 f"{'exercise':{width}}  {'score':>7}  passed  next"]
        for row in rows:
            score = f"{row['score']}/{row['max_score']}"
            lines.append(f"{row['exercise']:{width}}  {score:>7}  "
                         f"{'yes' if row['passed'] else 'no':6}  {row['next']}".rstrip())
        failing = self.first_failing
        lines.append(f"{self.passed} of {len(self.reports)} exercises pass"
                     + (f"; next: `rwk check {failing.exercise} -n {self.namespace}` and "
                        f"{self.next_lesson or 'its lesson'}" if failing else ""))
        return "\n".join(lines)

    def to_html(self) -> str:
        """The table as HTML, rendered from `templates/progress.html.j2`."""
        return _template().render(progress=self, rows=self.rows())

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.to_text()


class _LearnerSnapshot(Snapshot):
    """A Snapshot that reads live whatever kind the credentials may not LIST across the
    cluster, so a student confined to one namespace gets `rwk check`'s verdicts too."""

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        try:
            return super().get(kind, name, namespace)
        except AccessDenied:
            return self.cluster.get(kind, name, namespace)

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        try:
            return super().list(kind, namespace, selector, field_selector)
        except AccessDenied:
            return self.cluster.list(kind, namespace, selector, field_selector)


def grade_all(reader: object, namespace: str, names: Iterable[str] = ALL) -> tuple[Report, ...]:
    """Each exercise of `names` graded in `namespace` through one reader (a snapshot)."""
    context = getattr(reader, "context", None)
    return tuple(Report(exercise=name, namespace=namespace, context=context,
                        results=run_criteria(exercises.criteria(name),
                                             ClusterState(reader, namespace)))
                 for name in names)


def progress(namespace: str | None = None, context: str | None = None,
             kubeconfig: str | None = None) -> Progress:
    """Grade every exercise in `namespace` (default: production) from one read."""
    target = namespace or DEFAULT_NAMESPACE
    cluster = Cluster(context=context, kubeconfig=kubeconfig)
    reports = grade_all(_LearnerSnapshot(cluster), target)
    return Progress(namespace=target, context=cluster.context, reports=reports,
                    rerun=lambda: progress(namespace, context, kubeconfig))


@functools.cache
def _template() -> jinja2.Template:
    return environment().get_template("progress.html.j2")
