"""criteria.csv: a row per student, exercise and criterion (checker.gradebook.criteria_csv)."""

from __future__ import annotations

from pathlib import Path

from checker.gradebook import criteria_csv

from . import GRACE, MASKED, read_csv, sample_class

HEADER = ["student", "namespace", "exercise", "criterion", "passed", "points", "max_points",
          "message"]
GONE = ("namespace 'student-grace-co' does not exist on context 'kind-rwk'; create it (or "
        "pass --namespace)")


def test_it_writes_one_file_and_returns_it(tmp_path: Path) -> None:
    assert criteria_csv.write(sample_class(), tmp_path) == [tmp_path / "criteria.csv"]


def test_header_and_rows_are_the_documented_columns(tmp_path: Path) -> None:
    criteria_csv.write(sample_class(), tmp_path)
    rows = read_csv(tmp_path / "criteria.csv")
    assert rows[0] == HEADER
    assert rows[1:] == [
        ["ada", "student-ada", "configmaps", "configmap-exists", "true", "2", "2", ""],
        ["ada", "student-ada", "configmaps", "configmap-keys", "true", "3", "3", ""],
        ["ada", "student-ada", "secrets", "secret-exists", "true", "1", "1", ""],
        ["ada", "student-ada", "secrets", "secret-not-in-env", "true", "4", "4", "note: 1 key"],
        ["zoe.o", "student-zoe-o", "configmaps", "configmap-exists", "true", "2", "2", ""],
        ["zoe.o", "student-zoe-o", "configmaps", "configmap-keys", "false", "0", "3",
         "data['color'] is 'bleu', expected 'blue'"],
        ["zoe.o", "student-zoe-o", "secrets", "secret-exists", "true", "1", "1", ""],
        ["zoe.o", "student-zoe-o", "secrets", "secret-not-in-env", "false", "0", "4", MASKED],
        [GRACE.student, "student-grace-co", "configmaps", "configmap-exists", "false", "0",
         "2", GONE],
        [GRACE.student, "student-grace-co", "configmaps", "configmap-keys", "false", "0", "3",
         GONE],
        [GRACE.student, "student-grace-co", "secrets", "secret-exists", "false", "0", "1",
         GONE],
        [GRACE.student, "student-grace-co", "secrets", "secret-not-in-env", "false", "0", "4",
         GONE],
    ]


def test_points_add_up_to_each_students_score(tmp_path: Path) -> None:
    grades = sample_class()
    criteria_csv.write(grades, tmp_path)
    rows = read_csv(tmp_path / "criteria.csv")[1:]
    for student in grades.students:
        mine = [row for row in rows if row[0] == student.student.student]
        assert sum(int(row[5]) for row in mine) == student.score
        assert sum(int(row[6]) for row in mine) == student.max_score
