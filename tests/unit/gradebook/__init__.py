"""Tests of checker.gradebook, one module per format, all against one sample class.

The class is built from real Report and Result objects, no cluster: three students, one who
passed everything, one who failed some criteria, one whose namespace was missing; a roster
with an LMS's id columns and a custom one; a name with a comma, quotes and non-ASCII letters,
a roster value with a line break, and an id with HTML's special characters.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

from checker.gradebook.model import ClassGrades, Roster, Student, StudentGrades
from checker.grading.model import Result
from checker.grading.report import Report

WHEN = datetime(2025, 6, 1, 10, 0, 0, tzinfo=timezone.utc)
CONTEXT = "kind-rwk"
EXERCISES = ("configmaps", "secrets")
COLUMNS = ("ID", "SIS User ID", "SIS Login ID", "Section", "Lab group")
PLANTED = "planted-3f9c1e-never-copied"
"""A value only a report's `rerun` closure holds: no writer may ever put it in a file."""
MASKED = "env DB_PASSWORD of container web is '***' in plain text\nuse a secretKeyRef"

CRITERIA = {
    "configmaps": (("configmap-exists", "ConfigMap app-config exists", 2),
                   ("configmap-keys", "app-config has the keys color and mode", 3)),
    "secrets": (("secret-exists", "Secret db-credentials exists", 1),
                ("secret-not-in-env", "no Secret value is written into a pod spec", 4)),
}
HINT = "see lesson {}, section 'Checking your work'"

ADA = Student(student="ada", namespace="student-ada", name="Ada Lovelace",
              email="ada@example.edu",
              columns=(("ID", "101"), ("SIS User ID", "S-101"), ("SIS Login ID", "ada"),
                       ("Section", "Mon A"), ("Lab group", "1")))
ZOE = Student(student="zoe.o", namespace="student-zoe-o",
              name='O\'Brien, Zoë "Zee" Ångström', email="zoe@example.edu",
              columns=(("ID", "102"), ("SIS User ID", "S-102"), ("SIS Login ID", "zoe.o"),
                       ("Section", "Mon, B"), ("Lab group", "2\nmoved to 3")))
GRACE = Student(student="<grace & co>", namespace="student-grace-co")
"""No name, no email, no LMS ids; her namespace was never created."""


def result(exercise: str, index: int, passed: bool, message: str = "") -> Result:
    """The sample criterion `index` of `exercise`, passed or failed with `message`."""
    id_, title, points = CRITERIA[exercise][index]
    return Result(id=id_, title=title, points=points, passed=passed, message=message,
                  hint=HINT.format(exercise))


def report(student: Student, exercise: str, *outcomes: tuple[bool, str]) -> Report:
    """A report of `exercise` for `student`: one (passed, message) per criterion, in order."""
    results = [result(exercise, index, passed, message)
               for index, (passed, message) in enumerate(outcomes)]
    return Report(exercise=exercise, namespace=student.namespace, context=CONTEXT,
                  results=results, checked_at=WHEN, rerun=lambda: PLANTED)  # type: ignore


def missing(student: Student, exercise: str) -> Report:
    """The report of a student whose namespace does not exist: every criterion fails."""
    message = (f"namespace {student.namespace!r} does not exist on context {CONTEXT!r}; "
               "create it (or pass --namespace)")
    return report(student, exercise, *[(False, message)] * len(CRITERIA[exercise]))


def sample_class() -> ClassGrades:
    """Ada passed everything (10/10), Zoë some (3/10), Grace's namespace was missing (0/10)."""
    ada = StudentGrades(ADA, (report(ADA, "configmaps", (True, ""), (True, "")),
                              report(ADA, "secrets", (True, ""), (True, "note: 1 key"))))
    zoe = StudentGrades(ZOE, (
        report(ZOE, "configmaps", (True, ""),
               (False, "data['color'] is 'bleu', expected 'blue'")),
        report(ZOE, "secrets", (True, ""), (False, MASKED))))
    grace = StudentGrades(GRACE, (missing(GRACE, "configmaps"), missing(GRACE, "secrets")))
    roster = Roster(path="rosters/spring.csv", students=(ADA, ZOE, GRACE), columns=COLUMNS)
    return ClassGrades(roster=roster, context=CONTEXT, exercises=EXERCISES,
                       students=(ada, zoe, grace), graded_at=WHEN)


def read_csv(path: Path) -> list[list[str]]:
    """A CSV file's rows, header first, read back as UTF-8 with the csv module."""
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def read_json(path: Path) -> object:
    """A JSON file, read back as UTF-8."""
    return json.loads(path.read_text(encoding="utf-8"))
