"""`criteria.csv`: one row per student, exercise and criterion, to see who missed what.

Columns, in this order:

    student,namespace,exercise,criterion,passed,points,max_points,message

- `criterion` is the criterion's id, as EXERCISES.md and `rwk check --output json` name it;
- `passed` is `true` or `false`: lower case, the same words as the JSON of `rwk check`;
- `points` is what the student earned (the criterion's points, or 0), `max_points` what the
  criterion is worth;
- `message` is the report's message for it, as the report has it (Secret values already
  masked): what was found on failure, an optional note on pass. It may span lines.

Rows follow the roster, then each student's exercises in course order, then the criteria in
the exercise's order. UTF-8 without a byte-order mark, a header row, csv-module quoting.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ._files import write_csv
from .model import ClassGrades

FILE = "criteria.csv"
HEADER = ("student", "namespace", "exercise", "criterion", "passed", "points", "max_points",
          "message")


def write(grades: ClassGrades, out: Path) -> list[Path]:
    """Write `out/criteria.csv`; return the file written."""
    return [write_csv(out / FILE, HEADER, _rows(grades))]


def _rows(grades: ClassGrades) -> Iterator[list[object]]:
    for student in grades.students:
        for report in student.reports:
            for result in report.results:
                yield [student.student.student, student.student.namespace, report.exercise,
                       result.id, "true" if result.passed else "false",
                       result.points if result.passed else 0, result.points, result.message]
