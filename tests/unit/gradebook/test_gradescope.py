"""gradescope/<file-id>/results.json: Gradescope's autograder results format
(checker.gradebook.gradescope)."""

from __future__ import annotations

from pathlib import Path

from checker.gradebook import gradescope

from . import MASKED, read_json, sample_class

TEST_KEYS = ["name", "number", "score", "max_score", "status", "output", "tags"]


def results(tmp_path: Path) -> list[dict]:
    return [read_json(path) for path in gradescope.write(sample_class(), tmp_path)]


def test_one_results_json_per_student(tmp_path: Path) -> None:
    assert gradescope.write(sample_class(), tmp_path) == [
        tmp_path / "gradescope" / name / "results.json"
        for name in ("student-ada", "student-zoe-o", "student-grace-co")]


def test_the_score_and_a_test_per_criterion(tmp_path: Path) -> None:
    ada, zoe, grace = results(tmp_path)
    assert [list(result) for result in (ada, zoe, grace)] == [["score", "tests"]] * 3
    assert (ada["score"], zoe["score"], grace["score"]) == (10, 3, 0)
    assert all(list(test) == TEST_KEYS for test in zoe["tests"])
    assert [(t["number"], t["name"], t["score"], t["max_score"], t["status"])
            for t in zoe["tests"]] == [
        ("1.1", "configmaps: ConfigMap app-config exists", 2, 2, "passed"),
        ("1.2", "configmaps: app-config has the keys color and mode", 0, 3, "failed"),
        ("2.1", "secrets: Secret db-credentials exists", 1, 1, "passed"),
        ("2.2", "secrets: no Secret value is written into a pod spec", 0, 4, "failed")]
    assert [t["tags"] for t in zoe["tests"]] == [
        ["configmaps", "configmap-exists"], ["configmaps", "configmap-keys"],
        ["secrets", "secret-exists"], ["secrets", "secret-not-in-env"]]


def test_output_is_the_message_and_on_failure_the_hint(tmp_path: Path) -> None:
    ada, zoe, grace = results(tmp_path)
    assert [t["output"] for t in ada["tests"]] == ["", "", "", "note: 1 key"]
    assert zoe["tests"][0]["output"] == ""
    assert zoe["tests"][3]["output"] == (
        f"{MASKED}\n\nHint: see lesson secrets, section 'Checking your work'")
    assert grace["tests"][0]["output"].startswith(
        "namespace 'student-grace-co' does not exist on context 'kind-rwk'")
    assert all(t["status"] == "failed" and t["score"] == 0 for t in grace["tests"])
