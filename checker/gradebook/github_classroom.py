"""`github-classroom/<file-id>/result.json`: a student's grade as a GitHub Classroom runner result.

What GitHub Classroom reads: its autograding workflow runs grader actions
(classroom-resources/autograding-io-grader, -command-grader, -python-grader), each of which
sets a step output `result`, the base64 of one JSON object; the last step,
classroom-resources/autograding-grading-reporter, reads each runner's object from an
environment variable `<RUNNER-ID>_RESULTS`, prints it, and reports `Points <sum of the tests'
score>/<max_score>` to Classroom (its src/notify-classroom.js). This file is that object, in
the shape autograding-io-grader's src/main.js writes (`version: 1`):

    {"version": 1, "status": "pass" | "fail", "max_score": <points of all exercises>,
     "tests": [{"name": "<exercise>: <criterion title>", "status": "pass" | "fail",
                "message": "<message>", "test_code": "rwk check <exercise> -n <namespace>",
                "filename": "", "line_no": 0, "score": <points earned>}, ...]}

- one test per criterion, exercises in course order; the reporter adds up the tests' `score`
  and the runner's `max_score`, so each test's score is the points earned on it;
- `status` is `fail` when any criterion fails: the reporter then marks the run failed;
- `message` is the report's message (Secret values already masked) and, on a failure, the
  criterion's hint; `test_code` is what the reporter prints as "Test code": the command that
  grades the exercise again in the student's namespace; `line_no` is 0 because the reporter
  prints a line number for any other value.
A workflow hands it to the reporter with a step `id: rwk` that runs
`echo "result=$(base64 -w0 result.json)" >> "$GITHUB_OUTPUT"`, then `RWK_RESULTS:
${{ steps.rwk.outputs.result }}` and `runners: rwk` on the reporter. The README of
autograding-grading-reporter says the GitHub Classroom application has been sunset and the
reporter deprecated; the format is the last one it read.
"""

from __future__ import annotations

from pathlib import Path

from ..grading.model import Result
from ._files import write_json
from ._text import criterion_text
from .model import ClassGrades, StudentGrades

FOLDER = "github-classroom"
FILE = "result.json"


def write(grades: ClassGrades, out: Path) -> list[Path]:
    """Write one result.json per student under `out/github-classroom/`; return the files."""
    return [write_json(out / FOLDER / student.student.file_id / FILE, _result(student))
            for student in grades.students]


def _result(grades: StudentGrades) -> dict[str, object]:
    namespace = grades.student.namespace
    tests = [_test(report.exercise, namespace, result)
             for report in grades.reports for result in report.results]
    passed = all(report.passed for report in grades.reports)
    return {"version": 1, "status": "pass" if passed else "fail",
            "max_score": grades.max_score, "tests": tests}


def _test(exercise: str, namespace: str, result: Result) -> dict[str, object]:
    return {"name": f"{exercise}: {result.title}",
            "status": "pass" if result.passed else "fail", "message": criterion_text(result),
            "test_code": f"rwk check {exercise} -n {namespace}",
            "filename": "", "line_no": 0, "score": result.points if result.passed else 0}
