"""`grades.json`: the whole class in one JSON document, for scripts (CLASSROOM.md).

    {"roster": <the roster file's path, as given>, "context": <kube context or null>,
     "graded_at": "2025-06-01T10:00:00Z", "exercises": ["<exercise>", ...],
     "students": [{"student", "name", "email", "namespace", "score", "max_score",
                   "reports": {"<exercise>": <the JSON object of `rwk check` for it>}}]}

Keys in that order. Each report is `Report.to_dict()`, so a script that reads the output
of `rwk check --output json` reads these reports unchanged. The roster's other columns are
not copied here: gradebook.csv carries them.
"""

from __future__ import annotations

from pathlib import Path

from ._files import write_json
from .model import ClassGrades, StudentGrades

FILE = "grades.json"


def write(grades: ClassGrades, out: Path) -> list[Path]:
    """Write `out/grades.json`; return the file written."""
    return [write_json(out / FILE, _document(grades))]


def _document(grades: ClassGrades) -> dict[str, object]:
    """The grades.json object, keys in contract order."""
    return {"roster": grades.roster.path, "context": grades.context,
            "graded_at": grades.graded_at_text, "exercises": list(grades.exercises),
            "students": [_student(student) for student in grades.students]}


def _student(grades: StudentGrades) -> dict[str, object]:
    who = grades.student
    return {"student": who.student, "name": who.name, "email": who.email,
            "namespace": who.namespace, "score": grades.score, "max_score": grades.max_score,
            "reports": {report.exercise: report.to_dict() for report in grades.reports}}
