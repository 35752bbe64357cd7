"""grades.json: the documented object, keys in contract order (checker.gradebook.grades_json)."""

from __future__ import annotations

from pathlib import Path

from checker.gradebook import grades_json

from . import ADA, GRACE, ZOE, read_json, sample_class

TOP_KEYS = ["roster", "context", "graded_at", "exercises", "students"]
STUDENT_KEYS = ["student", "name", "email", "namespace", "score", "max_score", "reports"]


def test_it_writes_one_file_and_returns_it(tmp_path: Path) -> None:
    assert grades_json.write(sample_class(), tmp_path) == [tmp_path / "grades.json"]


def test_the_top_level_object_is_the_documented_one(tmp_path: Path) -> None:
    grades_json.write(sample_class(), tmp_path)
    document = read_json(tmp_path / "grades.json")
    assert list(document) == TOP_KEYS
    assert document["roster"] == "rosters/spring.csv"
    assert document["context"] == "kind-rwk"
    assert document["graded_at"] == "2025-06-01T10:00:00Z"
    assert document["exercises"] == ["configmaps", "secrets"]


def test_each_student_carries_identity_totals_and_every_report(tmp_path: Path) -> None:
    grades = sample_class()
    grades_json.write(grades, tmp_path)
    students = read_json(tmp_path / "grades.json")["students"]
    assert [list(student) for student in students] == [STUDENT_KEYS] * 3
    identities = [(s["student"], s["name"], s["email"], s["namespace"], s["score"],
                   s["max_score"]) for s in students]
    assert identities == [
        ("ada", ADA.name, "ada@example.edu", "student-ada", 10, 10),
        ("zoe.o", ZOE.name, "zoe@example.edu", "student-zoe-o", 3, 10),
        (GRACE.student, "", "", "student-grace-co", 0, 10)]
    for written, graded in zip(students, grades.students):
        assert list(written["reports"]) == ["configmaps", "secrets"]
        assert written["reports"] == {r.exercise: r.to_dict() for r in graded.reports}


def test_a_missing_namespace_is_in_every_criterion_of_its_reports(tmp_path: Path) -> None:
    grades_json.write(sample_class(), tmp_path)
    grace = read_json(tmp_path / "grades.json")["students"][2]
    criteria = [c for report in grace["reports"].values() for c in report["criteria"]]
    assert len(criteria) == 4
    assert all(not c["passed"] and "namespace 'student-grace-co' does not exist" in c["message"]
               for c in criteria)


def test_non_ascii_is_written_as_utf8_and_reads_back(tmp_path: Path) -> None:
    grades_json.write(sample_class(), tmp_path)
    raw = (tmp_path / "grades.json").read_bytes()
    assert "Zoë".encode() in raw and "Ångström".encode() in raw
    assert read_json(tmp_path / "grades.json")["students"][1]["name"] == ZOE.name
