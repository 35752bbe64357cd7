"""`gradebook.csv`: one row per student, for a spreadsheet (CLASSROOM.md).

Columns, in this order:

    student,name,email,namespace,<exercise>...,total,max_total,<the roster's other columns>...

- one column per exercise graded, in course order, named by the exercise (`configmaps`),
  holding the points the student earned on it (blank if it was not graded for them);
- `total` is the points earned over all exercises, `max_total` the points they are worth;
- then the roster's own other columns (an LMS's `ID`, `Section`, ...), names and values as
  the roster has them, in roster order, so the sheet can be joined back to the LMS.

UTF-8 without a byte-order mark, a header row, quoting by Python's csv module (a name with
commas, quotes or line breaks reads back unchanged).
"""

from __future__ import annotations

from pathlib import Path

from ._files import write_csv
from .model import ClassGrades, StudentGrades

FILE = "gradebook.csv"
IDENTITY = ("student", "name", "email", "namespace")


def write(grades: ClassGrades, out: Path) -> list[Path]:
    """Write `out/gradebook.csv`; return the file written."""
    header = [*IDENTITY, *grades.exercises, "total", "max_total", *grades.roster.columns]
    rows = (_row(student, grades) for student in grades.students)
    return [write_csv(out / FILE, header, rows)]


def _row(grades: StudentGrades, whole: ClassGrades) -> list[object]:
    who = grades.student
    scores = [_score(grades, exercise) for exercise in whole.exercises]
    extra = [who.column(name) for name in whole.roster.columns]
    return [who.student, who.name, who.email, who.namespace, *scores,
            grades.score, grades.max_score, *extra]


def _score(grades: StudentGrades, exercise: str) -> int | str:
    report = grades.report(exercise)
    return "" if report is None else report.score
