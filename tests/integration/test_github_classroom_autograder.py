"""autograders/github-classroom/grade, run as the workflow classroom.yml runs it on GitHub's
runner: a temporary folder laid out as a GitHub Actions checkout of a student's repository
(GITHUB_WORKSPACE with the student's notebooks in `exercises/`, the course's own checkout in
`.rwk-course/` beside them, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY as the empty files Actions
provides, GITHUB_REPOSITORY and GITHUB_ACTOR), graded by `rwk grade --submissions` on this
test process's sandbox (the script's --context/--kubeconfig). The step output `result` is
decoded as the reporter decodes it (base64, then JSON) and checked field by field against
the runner-result shape the reporter reads (checker/gradebook/github_classroom.py), and
against the points the reporter would send to Classroom.

The one path not run here is the script's default of a sandbox `rwk grade` starts for itself:
it is `rwk grade` without --context (the same Sandbox.up on a free port with a kubeconfig of
its own that every test worker's sandbox runs, tests/sandboxes.py), with the binaries the
workflow downloads in a step of its own (`rwk binaries --binary-source download`).
"""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from checker.clusters.sandbox import Sandbox

pytestmark = [pytest.mark.cluster, pytest.mark.cost(5)]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "autograders" / "github-classroom" / "grade"
TEST_KEYS = ["name", "status", "message", "test_code", "filename", "line_no", "score"]


@pytest.fixture(scope="module")
def run(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("actions")
    workspace = base / "work" / "kubernetes-lab"
    exercises = workspace / "exercises"
    exercises.mkdir(parents=True)
    (workspace / "README.md").write_text("my lab\n")
    shutil.copy(ROOT / "solutions" / "01-namespaces.ipynb", exercises)
    wrong = json.loads((ROOT / "solutions" / "02-configmaps.ipynb").read_text())
    for cell in wrong["cells"]:
        cell["source"] = "".join(cell["source"]).replace('MAX_CONNECTIONS: "100"',
                                                         'MAX_CONNECTIONS: "10"')
    (exercises / "02-configmaps.ipynb").write_text(json.dumps(wrong))
    # The course's checkout, as the workflow makes it: its own notebooks must not be graded.
    course = workspace / ".rwk-course" / "solutions"
    course.mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "02-configmaps.ipynb", course)
    temp = base / "_temp"
    temp.mkdir()
    output, summary = temp / "_runner_file_commands" / "set_output", temp / "step_summary"
    output.parent.mkdir()
    output.touch()
    summary.touch()
    repository = f"kubernetes-lab-ada-{uuid.uuid4().hex[:6]}"
    env = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
    env.update({"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_WORKSPACE": str(workspace),
                "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_REPOSITORY": f"kubernetes-course/{repository}",
                "GITHUB_ACTOR": "ada-l", "RUNNER_TEMP": str(temp),
                "RWK_EXERCISES": "namespaces,configmaps"})
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--context", sandbox.context, "--kubeconfig",
         str(sandbox.kubeconfig)], env=env, capture_output=True, text=True, timeout=600,
        cwd=workspace)
    return {"done": done, "output": output.read_text(), "summary": summary.read_text(),
            "grades": temp / "rwk-grades", "namespace": f"student-{repository}",
            "sandbox": sandbox}


def _outputs(run: dict) -> dict[str, str]:
    assert run["done"].returncode == 0, run["done"].stderr[-3000:]
    return dict(line.split("=", 1) for line in run["output"].splitlines())


def _result(run: dict) -> dict:
    return json.loads(base64.b64decode(_outputs(run)["result"], validate=True).decode("utf-8"))


def test_the_step_outputs_are_result_and_points_on_one_line_each(run):
    outputs = _outputs(run)
    assert list(outputs) == ["result", "points"]
    assert "\n" not in outputs["result"] and outputs["result"].isascii()
    result = _result(run)
    earned = sum(test["score"] for test in result["tests"])
    assert outputs["points"] == f"{earned}/{result['max_score']}"
    assert f"Points {earned}/{result['max_score']}" in run["done"].stdout


def test_the_result_is_the_runner_result_the_reporter_reads(run):
    result = _result(run)
    assert list(result) == ["version", "status", "max_score", "tests"]
    assert result["version"] == 1
    tests = result["tests"]
    assert all(list(test) == TEST_KEYS for test in tests)
    exercises = [test["name"].split(": ", 1)[0] for test in tests]
    assert exercises == sorted(exercises, key=["namespaces", "configmaps"].index)
    for test in tests:
        assert test["status"] in ("pass", "fail")
        assert (test["filename"], test["line_no"]) == ("", 0)
        assert isinstance(test["score"], int) and test["score"] >= 0
        exercise = test["name"].split(": ", 1)[0]
        assert test["test_code"] == f"rwk check {exercise} -n {run['namespace']}"
        if test["status"] == "fail":
            assert test["score"] == 0 and "Hint:" in test["message"]
    by_name = {test["name"]: test for test in tests}
    values = next(t for n, t in by_name.items() if n.startswith("configmaps: ")
                  and "MAX_CONNECTIONS" in t["message"])
    assert values["status"] == "fail"
    assert by_name["configmaps: The handed-in notebook 02-configmaps.ipynb runs without an "
                   "error"]["status"] == "pass"
    assert all(t["status"] == "pass" for n, t in by_name.items() if n.startswith("namespaces"))
    assert result["status"] == "fail"   # a criterion failed: the reporter fails the run


def test_the_points_are_those_rwk_grade_gave(run):
    result = _result(run)
    grades = json.loads((run["grades"] / "grades.json").read_text())
    [student] = grades["students"]
    assert student["namespace"] == run["namespace"]
    assert student["student"] == run["namespace"][len("student-"):]
    assert student["name"] == "ada-l"
    with (run["grades"] / "gradebook.csv").open(newline="") as file:
        [row] = list(csv.DictReader(file))
    assert row["repository"] == f"kubernetes-course/{student['student']}"
    assert result["max_score"] == student["max_score"]
    assert sum(test["score"] for test in result["tests"]) == student["score"]
    assert 0 < student["score"] < student["max_score"]
    criteria = [c for r in student["reports"].values() for c in r["criteria"]]
    assert len(result["tests"]) == len(criteria)


def test_only_the_students_notebooks_ran(run):
    stdout = run["done"].stdout
    assert "grading 2 notebook(s)" in stdout
    assert "exercises/01-namespaces.ipynb" in stdout and ".rwk-course" not in stdout
    executed = run["grades"] / "executed" / run["namespace"]
    assert sorted(p.name for p in executed.glob("*.ipynb")) == ["01-namespaces.ipynb",
                                                                "02-configmaps.ipynb"]
    assert (run["grades"] / "feedback" / f"{run['namespace']}.html").is_file()


def test_the_step_summary_is_a_table_per_exercise(run):
    summary = run["summary"]
    result = _result(run)
    earned = sum(test["score"] for test in result["tests"])
    assert summary.startswith("## Kubernetes exercises\n")
    assert f"**{earned} / {result['max_score']} points.**" in summary
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Exercise | Points | Criteria failing |"
    assert [row.split(" | ")[0][2:] for row in rows[1:]] == ["namespaces", "configmaps"]
    assert rows[1].endswith("| none |") and "none" not in rows[2]
    assert "- `01-namespaces.ipynb`: ran" in summary
    assert "- `02-configmaps.ipynb`: ran" in summary


def test_the_namespace_is_gone_from_the_grading_cluster_afterwards(run):
    _outputs(run)
    kubectl = run["sandbox"].kubectl()
    shown = kubectl("get", "namespace", run["namespace"], "-o",
                    "jsonpath={.status.phase}")
    assert not shown.ok or shown.stdout.strip() == "Terminating", shown.output
