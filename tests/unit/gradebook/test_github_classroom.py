"""github-classroom/<file-id>/result.json: the runner result GitHub Classroom's reporter reads
(checker.gradebook.github_classroom)."""

from __future__ import annotations

from pathlib import Path

from checker.gradebook import github_classroom

from . import MASKED, read_json, sample_class

TEST_KEYS = ["name", "status", "message", "test_code", "filename", "line_no", "score"]


def results(tmp_path: Path) -> list[dict]:
    return [read_json(path) for path in github_classroom.write(sample_class(), tmp_path)]


def reported_points(result: dict) -> tuple[float, float]:
    """What autograding-grading-reporter's notify-classroom.js sends: tests' scores, max."""
    return sum(test["score"] for test in result["tests"]), result["max_score"]


def test_one_result_json_per_student(tmp_path: Path) -> None:
    assert github_classroom.write(sample_class(), tmp_path) == [
        tmp_path / "github-classroom" / name / "result.json"
        for name in ("student-ada", "student-zoe-o", "student-grace-co")]


def test_the_runner_result_of_version_1(tmp_path: Path) -> None:
    ada, zoe, grace = results(tmp_path)
    for result in (ada, zoe, grace):
        assert list(result) == ["version", "status", "max_score", "tests"]
        assert result["version"] == 1 and result["max_score"] == 10
        assert all(list(test) == TEST_KEYS for test in result["tests"])
    assert (ada["status"], zoe["status"], grace["status"]) == ("pass", "fail", "fail")
    assert [(t["name"], t["status"], t["score"]) for t in zoe["tests"]] == [
        ("configmaps: ConfigMap app-config exists", "pass", 2),
        ("configmaps: app-config has the keys color and mode", "fail", 0),
        ("secrets: Secret db-credentials exists", "pass", 1),
        ("secrets: no Secret value is written into a pod spec", "fail", 0)]
    assert zoe["tests"][3]["message"] == (
        f"{MASKED}\n\nHint: see lesson secrets, section 'Checking your work'")
    assert {(t["filename"], t["line_no"]) for t in zoe["tests"]} == {("", 0)}
    assert zoe["tests"][0]["test_code"] == "rwk check configmaps -n student-zoe-o"


def test_the_reporter_would_send_each_students_points(tmp_path: Path) -> None:
    ada, zoe, grace = results(tmp_path)
    assert [reported_points(r) for r in (ada, zoe, grace)] == [(10, 10), (3, 10), (0, 10)]

