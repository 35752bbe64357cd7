"""What a class's grading produces, in memory: the roster's students and each one's reports.

Every gradebook format is written from one `ClassGrades` (DESIGN.md, "Teaching a class"), so
the formats can never disagree. The roster is parsed in `checker.classroom.roster`; these are
only its values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..grading.report import Report
from ..grading.timestamps import now, utc_iso


@dataclass(frozen=True)
class Student:
    """One row of the roster (CLASSROOM.md, "The roster")."""

    student: str
    """The student's id, as gradebooks show it; unique in the roster."""
    namespace: str
    """The student's namespace (the roster's, or derived from the id)."""
    name: str = ""
    email: str = ""
    columns: tuple[tuple[str, str], ...] = ()
    """The roster's other columns and this row's values, in roster order."""

    @property
    def file_id(self) -> str:
        """What names this student's files (kubeconfig, feedback): the namespace name."""
        return self.namespace

    def column(self, name: str) -> str:
        """The value of one of the roster's other columns ('' when the roster has none)."""
        return dict(self.columns).get(name, "")


@dataclass(frozen=True)
class Roster:
    """A parsed roster: its students in file order, and the names of its other columns."""

    path: str
    students: tuple[Student, ...]
    columns: tuple[str, ...] = ()
    """The roster's columns other than student, name, email and namespace, in order."""


@dataclass(frozen=True)
class StudentGrades:
    """One student's reports, one per exercise graded, in the order graded."""

    student: Student
    reports: tuple[Report, ...]

    @property
    def score(self) -> int:
        return sum(report.score for report in self.reports)

    @property
    def max_score(self) -> int:
        return sum(report.max_score for report in self.reports)

    def report(self, exercise: str) -> Report | None:
        return next((r for r in self.reports if r.exercise == exercise), None)


@dataclass(frozen=True)
class ClassGrades:
    """A whole class graded: what every gradebook format is written from."""

    roster: Roster
    context: str | None
    """The kube context that was graded."""
    exercises: tuple[str, ...]
    """The exercises graded, in course order; every student has a report for each."""
    students: tuple[StudentGrades, ...]
    graded_at: datetime = field(default_factory=now)

    @property
    def graded_at_text(self) -> str:
        """`graded_at` in ISO 8601, UTC, to the second (a naive datetime is taken as UTC)."""
        return utc_iso(self.graded_at)

    def max_points(self, exercise: str) -> int:
        """The points an exercise is worth (the same for every student)."""
        for grades in self.students:
            found = grades.report(exercise)
            if found is not None:
                return found.max_score
        return 0
