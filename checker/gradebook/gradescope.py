"""`gradescope/<file-id>/results.json`: each student's grade as a Gradescope autograder's result.

The format is Gradescope's "Autograder Specifications" (gradescope-autograders.readthedocs.io
/en/latest/specs/, source docs/specs.md in gradescope/autograder_samples): a programming
assignment's autograder writes /autograder/results/results.json, and Gradescope reads it.
A `run_autograder` script that copies the student's file there reports these grades without
grading anything twice. What is written:

    {"score": <points earned over all exercises>,
     "tests": [{"name": "<exercise>: <criterion title>", "number": "<e>.<c>",
                "score": <points earned>, "max_score": <points it is worth>,
                "status": "passed" | "failed", "output": "<message>",
                "tags": ["<exercise>", "<criterion id>"]}, ...]}

- one test per criterion, exercises in course order; `number` is the exercise's position in
  the graded list and the criterion's in the exercise, from 1 (`"2.3"`), a string as in the
  specification's own example;
- the top-level `score` is what Gradescope records (it overrides the sum of the tests);
- `status` is set explicitly, as the specification's "Test case status" allows, so a
  criterion worth 0 points still shows as failed when it fails;
- `output` is the report's message (Secret values already masked), followed on a failure by
  the criterion's hint; the default `text` output format shows it as written.
"""

from __future__ import annotations

from pathlib import Path

from ..grading.model import Result
from ._files import write_json
from ._text import criterion_text
from .model import ClassGrades, StudentGrades

FOLDER = "gradescope"
FILE = "results.json"


def write(grades: ClassGrades, out: Path) -> list[Path]:
    """Write one results.json per student under `out/gradescope/`; return the files."""
    return [write_json(out / FOLDER / student.student.file_id / FILE, _results(student))
            for student in grades.students]


def _results(grades: StudentGrades) -> dict[str, object]:
    tests = [_test(report.exercise, f"{number}.{index}", result)
             for number, report in enumerate(grades.reports, start=1)
             for index, result in enumerate(report.results, start=1)]
    return {"score": grades.score, "tests": tests}


def _test(exercise: str, number: str, result: Result) -> dict[str, object]:
    return {"name": f"{exercise}: {result.title}", "number": number,
            "score": result.points if result.passed else 0, "max_score": result.points,
            "status": "passed" if result.passed else "failed", "output": criterion_text(result),
            "tags": [exercise, result.id]}

