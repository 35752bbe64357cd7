"""The gradebook writers: one module per format, each turning a class's reports into its files.

Every format is written from one `model.ClassGrades`, so no two can disagree. Each module has
`write(grades, out) -> list[Path]` and documents its file's columns in its docstring:

    json              grades_json       grades.json: the class and every report's JSON
    gradebook         gradebook_csv     gradebook.csv: a row per student
    criteria          criteria_csv      criteria.csv: a row per student and criterion
    canvas            canvas            canvas.csv: Canvas's gradebook import
    feedback          feedback          feedback/<file-id>.html: a page per student
    gradescope        gradescope        gradescope/<file-id>/results.json (with --format)
    github-classroom  github_classroom  github-classroom/<file-id>/result.json (with --format)

`write` writes the first five always (CLASSROOM.md) and the others when asked. Files are
replaced atomically (`_files`); nothing here adds to a file what the reports do not hold, so
the Secret values the runner masked stay masked.

Below the classroom and above the grading core (.importlinter): a writer reads reports and
never the cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import UsageError
from . import (canvas, criteria_csv, feedback, github_classroom, grades_json, gradebook_csv,
               gradescope)
from .model import ClassGrades

__all__ = ["ALWAYS", "FORMATS", "OPTIONAL", "check_formats", "write"]

Writer = Callable[[ClassGrades, Path], list[Path]]

FORMATS: dict[str, Writer] = {
    "json": grades_json.write,
    "gradebook": gradebook_csv.write,
    "criteria": criteria_csv.write,
    "canvas": canvas.write,
    "feedback": feedback.write,
    "gradescope": gradescope.write,
    "github-classroom": github_classroom.write,
}
"""Every format by the name `rwk grade --format` and this module use, in writing order."""
ALWAYS: tuple[str, ...] = ("json", "gradebook", "criteria", "canvas", "feedback")
"""The formats every `rwk grade` writes."""
OPTIONAL: tuple[str, ...] = ("gradescope", "github-classroom")
"""The formats written only when `--format` names them."""


def check_formats(formats: Iterable[str]) -> set[str]:
    """The format names, or a UsageError naming the unknown ones (before anything is read)."""
    wanted = set(formats)
    unknown = sorted(wanted - FORMATS.keys())
    if unknown:
        raise UsageError(f"unknown gradebook format {', '.join(map(repr, unknown))}: --format "
                         f"takes {', '.join(OPTIONAL)} ({', '.join(ALWAYS)} are always written)")
    return wanted


def write(grades: ClassGrades, out: Path, formats: Iterable[str] = ()) -> list[Path]:
    """Write the always-written formats and `formats` into `out` (created); return the files.

    Naming an always-written format in `formats` is allowed and changes nothing. An unknown
    name is a UsageError raised before any file is written.
    """
    wanted = check_formats(formats)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, writer in FORMATS.items():
        if name in ALWAYS or name in wanted:
            written.extend(writer(grades, out))
    return written
