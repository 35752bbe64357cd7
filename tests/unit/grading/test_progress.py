"""`rwk progress` / `progress()`: the table, the lesson to read next, JSON and HTML, and the
snapshot that falls back to live reads where the credentials may not list the cluster."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from checker import progress as exported
from checker.errors import AccessDenied
from checker.grading import exercises
from checker.grading.model import Result
from checker.grading.progress import ALL, Progress, _LearnerSnapshot, grade_all, next_lesson
from checker.grading.report import Report

WHEN = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def _report(name: str, *passed: bool, hints: tuple[str, ...] = ()) -> Report:
    hints = hints or tuple(f"see lessons/02-configmaps.ipynb, 'Step {i}'"
                           for i in range(len(passed)))
    return Report(exercise=name, namespace="production", context="kwok-rwk", checked_at=WHEN,
                  results=tuple(Result(id=f"c{i}", title=f"criterion {i}", points=2,
                                       passed=ok, message="" if ok else "found <nothing>",
                                       hint=hint)
                                for i, (ok, hint) in enumerate(zip(passed, hints))))


def _progress(*reports: Report) -> Progress:
    return Progress(namespace="production", context="kwok-rwk", reports=reports,
                    checked_at=WHEN)


def test_next_lesson_is_the_first_failing_criterions_section():
    report = _report("configmaps", True, False, False,
                     hints=("see lessons/02-configmaps.ipynb, 'Creating a ConfigMap'",
                            "see lessons/02-configmaps.ipynb, 'Environment variables'",
                            "see lessons/02-configmaps.ipynb, 'Mounting'"))
    assert next_lesson(report) == "lessons/02-configmaps.ipynb, 'Environment variables'"


def test_next_lesson_falls_back_to_any_lesson_the_exercise_names():
    report = _report("probes", True, False,
                     hints=("see lessons/06-probes.ipynb", "run kubectl describe"))
    assert next_lesson(report) == "lessons/06-probes.ipynb"
    assert next_lesson(_report("x", False, hints=("no lesson here",))) == ""


def test_rows_name_the_lesson_only_for_the_first_failing_exercise():
    progress = _progress(_report("namespaces", True, True), _report("configmaps", True, False),
                         _report("secrets", False, False))
    rows = progress.rows()
    assert [(r["exercise"], r["score"], r["max_score"], r["passed"]) for r in rows] == [
        ("namespaces", 4, 4, True), ("configmaps", 2, 4, False), ("secrets", 0, 4, False)]
    assert [bool(r["next"]) for r in rows] == [False, True, False]
    assert rows[1]["next"] == "lessons/02-configmaps.ipynb, 'Step 1'"
    assert progress.passed == 1 and progress.first_failing.exercise == "configmaps"


def test_text_is_a_table_with_the_command_to_run_next():
    text = _progress(_report("namespaces", True), _report("configmaps", False)).to_text()
    lines = text.splitlines()
    assert lines[0] == ("progress: namespace production, context kwok-rwk, "
                        "checked 2026-12-01T10:00:00Z")
    assert lines[1].split() == ["exercise", "score", "passed", "next"]
    assert lines[2].split() == ["namespaces", "2/2", "yes"]
    assert lines[3].split()[:3] == ["configmaps", "0/2", "no"]
    assert "lessons/02-configmaps.ipynb, 'Step 0'" in lines[3]
    assert lines[-1] == ("1 of 2 exercises pass; next: `rwk check configmaps -n production` "
                         "and lessons/02-configmaps.ipynb, 'Step 0'")


def test_all_passing_says_so_and_names_nothing_next():
    progress = _progress(_report("namespaces", True), _report("configmaps", True))
    assert progress.to_text().splitlines()[-1] == "2 of 2 exercises pass"
    assert progress.to_dict()["next"] is None


def test_json_holds_every_exercise_with_its_failing_criteria():
    data = json.loads(_progress(_report("namespaces", True),
                                _report("configmaps", True, False)).to_json())
    assert data["namespace"] == "production" and data["context"] == "kwok-rwk"
    assert data["passed"] == 1 and data["exercises"] == 2
    assert data["next"] == {"exercise": "configmaps",
                            "lesson": "lessons/02-configmaps.ipynb, 'Step 1'"}
    assert data["reports"][1] == {"exercise": "configmaps", "score": 2, "max_score": 4,
                                  "passed": False, "next": "lessons/02-configmaps.ipynb, "
                                  "'Step 1'", "failing": ["c1"]}


def test_html_is_a_table_from_the_template_and_escapes():
    html = _progress(_report("namespaces", True), _report("con<b>figmaps", False)).to_html()
    assert html.count("<tr>") == 3 and "rwk-progress" in html
    assert "con&lt;b&gt;figmaps" in html and "con<b>figmaps" not in html
    assert "1 of 2 exercises pass" in html
    assert _progress(_report("namespaces", True))._repr_html_() == \
        _progress(_report("namespaces", True)).to_html()


def test_again_needs_a_progress_made_by_progress():
    with pytest.raises(RuntimeError):
        _progress(_report("namespaces", True)).again()


# --- grading every exercise from one reader -----------------------------------------------

class EmptyCluster:
    """A reachable cluster holding nothing: no namespace, no object, no right."""

    context = "fake"

    def __init__(self):
        self.reads: list[tuple] = []

    def get(self, kind, name, namespace=None):
        self.reads.append(("get", kind, name, namespace))
        return None

    def list(self, kind, namespace=None, selector=None, field_selector=None):
        self.reads.append(("list", kind, namespace))
        return []

    def can_i(self, *args, **kwargs):
        return False


def test_every_exercise_is_graded_and_a_missing_namespace_points_at_lesson_01():
    reports = grade_all(EmptyCluster(), "production")
    assert [r.exercise for r in reports] == list(ALL) == [e.name for e in exercises.EXERCISES]
    assert all(not r.passed for r in reports)
    assert all("namespace 'production' does not exist" in r.results[0].message
               for r in reports)
    progress = _progress(*reports)
    assert progress.next_lesson.startswith("lessons/01-namespaces.ipynb")


class StudentCluster(EmptyCluster):
    """Credentials confined to one namespace: any LIST across the cluster is refused."""

    def list(self, kind, namespace=None, selector=None, field_selector=None):
        self.reads.append(("list", kind, namespace))
        if namespace is None:
            raise AccessDenied("list", kind, all_namespaces=True)
        return [{"metadata": {"name": "api-config", "namespace": namespace}}]

    def get(self, kind, name, namespace=None):
        self.reads.append(("get", kind, name, namespace))
        return {"metadata": {"name": name, "namespace": namespace}}


def test_the_snapshot_reads_live_what_it_may_not_list():
    cluster = StudentCluster()
    snapshot = _LearnerSnapshot(cluster)
    assert snapshot.get("configmap", "api-config", "student-a") == {
        "metadata": {"name": "api-config", "namespace": "student-a"}}
    assert snapshot.list("configmap", "student-a") == [
        {"metadata": {"name": "api-config", "namespace": "student-a"}}]
    assert cluster.reads == [("list", "configmap", None), ("get", "configmap", "api-config",
                                                             "student-a"),
                             ("list", "configmap", "student-a")]


def test_the_snapshot_lists_each_kind_once_when_it_may():
    cluster = EmptyCluster()
    grade_all(_LearnerSnapshot(cluster), "production")
    lists = [read for read in cluster.reads if read[0] == "list"]
    assert len(lists) == len(set(lists)) and all(read[2] is None for read in lists)
    assert not [read for read in cluster.reads if read[0] == "get"]


def test_progress_is_exported_beside_check():
    import checker
    assert checker.__all__ == ["check", "progress"]
    assert exported.__doc__.startswith("Grade every exercise")
