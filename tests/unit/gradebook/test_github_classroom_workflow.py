"""autograders/github-classroom/classroom.yml, the workflow a template repository copies, read as
GitHub Actions reads it: it runs the course's grader as the step `rwk` and hands that step's
`result` to classroom-resources/autograding-grading-reporter as its README documents
(`runners: <id>`, the runner's base64 JSON in `<ID>_RESULTS`). And the grader's own paths
that need no cluster: bad input, and a grading that cannot run still giving the reporter a
result to show."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
FOLDER = ROOT / "autograders" / "github-classroom"
SCRIPT = FOLDER / "grade"


def workflow() -> dict:
    return yaml.safe_load((FOLDER / "classroom.yml").read_text())


def steps() -> list[dict]:
    return workflow()["jobs"]["run-autograding-tests"]["steps"]


def step(uses_or_id: str) -> dict:
    return next(s for s in steps() if s.get("id") == uses_or_id
                or s.get("uses", "").split("@")[0] == uses_or_id)


def test_it_runs_on_push_with_the_permissions_the_reporter_needs():
    flow = workflow()
    assert "push" in flow["on"]
    assert flow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    job = flow["jobs"]["run-autograding-tests"]
    assert job["runs-on"] == "ubuntu-latest"
    assert "github-classroom[bot]" in job["if"]   # Classroom's own first commit is not graded


def test_the_course_is_checked_out_where_the_grader_never_looks():
    checkouts = [s for s in steps() if s.get("uses", "").startswith("actions/checkout@")]
    assert len(checkouts) == 2 and "with" not in checkouts[0]
    course = checkouts[1]["with"]
    assert course["path"].startswith(".")   # the grader skips folders starting with "."
    assert course["repository"] == "${{ env.COURSE_REPOSITORY }}"
    assert set(workflow()["env"]) == {"COURSE_REPOSITORY", "COURSE_REF"}


def test_the_grader_step_runs_the_script_from_the_course_checkout():
    path = step("actions/checkout")   # the student's repository first
    assert path == steps()[0]
    course_path = steps()[1]["with"]["path"]
    grade = step("rwk")
    assert re.fullmatch(rf'python {re.escape(course_path)}/autograders/github-classroom/grade'
                        r' --out "\$RUNNER_TEMP/rwk-grades"', grade["run"])
    names = [s.get("id") or s.get("uses", s.get("run", "")) for s in steps()]
    assert names.index("rwk") > next(i for i, s in enumerate(steps())
                                     if "rwk binaries" in s.get("run", ""))
    assert any("pip install" in s.get("run", "") and f"./{course_path}[course]" in s["run"]
               and "papermill" in s["run"] for s in steps())


def test_the_reporter_reads_the_grader_steps_result():
    reporter = step("classroom-resources/autograding-grading-reporter")
    assert reporter["uses"].endswith("@v1")
    assert reporter["if"] == "always()"   # also when the grader step failed
    runners = reporter["with"]["runners"]
    assert re.fullmatch(r"([a-zA-Z0-9]+,)*[a-zA-Z0-9]+", runners)   # the reporter's pattern
    assert runners.split(",") == ["rwk"]
    assert reporter["env"] == {"RWK_RESULTS": "${{ steps.rwk.outputs.result }}"}
    assert steps()[-1] == reporter


def _run(tmp_path: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess, Path]:
    output = tmp_path / "github_output"
    output.touch()
    environment = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output),
                   "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), **env}
    done = subprocess.run([sys.executable, str(SCRIPT), *args], env=environment,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    return done, output


def test_a_grader_that_cannot_run_still_hands_the_reporter_an_error(tmp_path: Path):
    workspace = tmp_path / "checkout"
    workspace.mkdir()
    done, output = _run(tmp_path, "--workspace", str(workspace), "--out",
                        str(tmp_path / "grades"), RWK=str(tmp_path / "no-such-rwk"))
    assert done.returncode == 1
    lines = dict(line.split("=", 1) for line in output.read_text().splitlines())
    result = json.loads(base64.b64decode(lines["result"]))
    assert result["status"] == "error" and result["max_score"] == 0
    assert [t["status"] for t in result["tests"]] == ["error"]
    assert "could not run" in result["tests"][0]["message"]
    assert lines["points"] == "0/0"
    assert "could not grade this repository" in (tmp_path / "summary").read_text()
    assert "Traceback" not in done.stderr


def test_bad_input_is_exit_2_with_a_message(tmp_path: Path):
    done, output = _run(tmp_path, "--workspace", str(tmp_path / "missing"))
    assert done.returncode == 2 and "no such folder" in done.stderr
    assert "Traceback" not in done.stderr and output.read_text() == ""
    inside = tmp_path / "checkout"
    inside.mkdir()
    done, _ = _run(tmp_path, "--workspace", str(inside), "--out", str(inside / "grades"))
    assert done.returncode == 2 and "inside the checkout" in done.stderr
