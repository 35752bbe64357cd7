"""What a student handed in, and what their notebooks did when re-run: the pure part of
`rwk grade --submissions` (no cluster, no processes), so it is tested on its own.

- `find`: the student's folder (`DIR/<student id>/`, else `DIR/<namespace>/`), the exercise
  notebooks in it (`NN-exercise.ipynb` as in `exercises/`), in course order, and every other
  file, reported: a file that is not a notebook, or names no exercise;
- `summarize`: from the copy papermill wrote, which cells failed and why, whether a cell was
  interrupted at its timeout, where a notebook killed at its own timeout stopped;
- `criterion`: that, as the 0-point criterion `notebook-ran` added to the exercise's report,
  so every gradebook format (criteria.csv, feedback, Gradescope's tests) names the cell
  that failed, while the points stay those of the cluster's state;
- `mask`: an executed notebook with every Secret value (and the student's token) masked in
  its sources and outputs, before it is written into `--out`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..gradebook.model import Student
from ..grading.exercises import EXERCISES, Exercise
from ..grading.masking import redact
from ..grading.model import Result


def notebooks(exercises: Iterable[Exercise]) -> dict[str, str]:
    """Exercise name to notebook file, in course order (the files' numbers)."""
    return dict(sorted(((e.name, e.notebook) for e in exercises), key=lambda pair: pair[1]))


NOTEBOOKS: dict[str, str] = notebooks(EXERCISES)
"""Each exercise's notebook, as `exercises/` names it; from the registry
(checker/grading/exercises.py)."""

CRITERION = "notebook-ran"
"""The id of the criterion `rwk grade --submissions` adds to each report (0 points)."""
HINT = ("Restart the kernel and run the notebook top to bottom on a fresh namespace (Kernel, "
        "Restart Kernel and Run All Cells), then fix the first cell that fails. The grader "
        "re-ran the notebook as handed in, every cell even after an error, and graded the "
        "state it left.")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ERROR_LINE = re.compile(r"error|forbidden|denied|refused|invalid|not found", re.I)
_SKIPPED = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}


@dataclass(frozen=True)
class Handed:
    """What one student handed in."""

    folder: Path | None
    """Their folder, or None when the submissions hold none for them (not started)."""
    notebooks: tuple[tuple[str, Path], ...] = ()
    """(exercise, file) for each exercise notebook found, in course order."""
    problems: dict[str, str] = field(default_factory=dict)
    """Exercise to what is wrong with its notebook: missing, misnamed, not a notebook."""
    ignored: tuple[str, ...] = ()
    """The other files, each with why it was not run (relative to the folder)."""


def folder_of(root: Path, student: Student) -> Path | None:
    """`root/<student id>/` when it exists, else `root/<namespace>/`, else None."""
    for name in (student.student, student.namespace):
        if name and name not in (".", "..") and "/" not in name and (root / name).is_dir():
            return root / name
    return None


def find(root: Path, student: Student, exercises: Sequence[str]) -> Handed:
    """What `student` handed in under `root`, for the exercises graded."""
    folder = folder_of(root, student)
    if folder is None:
        return Handed(None, problems={e: f"no notebook {NOTEBOOKS[e]} was handed in (no "
                                         f"folder {student.student} or {student.namespace} "
                                         "in the submissions): not started"
                                      for e in exercises})
    by_name = {notebook: exercise for exercise, notebook in NOTEBOOKS.items()}
    found: dict[str, Path] = {}
    strays: list[Path] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in _SKIPPED or part.startswith(".") for part in relative.parts):
            continue
        if path.is_dir():
            continue
        exercise = by_name.get(str(relative))
        if exercise is not None:
            found[exercise] = path
        else:
            strays.append(relative)
    problems: dict[str, str] = {}
    notebooks = []
    for exercise in sorted(exercises, key=lambda e: NOTEBOOKS[e]):
        if exercise in found:
            trouble = not_a_notebook(found[exercise])
            if trouble:
                problems[exercise] = f"{NOTEBOOKS[exercise]} is not a notebook: {trouble}"
            else:
                notebooks.append((exercise, found[exercise]))
            continue
        near = [str(s) for s in strays if s.name[:3] == NOTEBOOKS[exercise][:3]
                or NOTEBOOKS[exercise][3:-6] in s.name.lower()]
        problems[exercise] = f"no notebook {NOTEBOOKS[exercise]} was handed in" + (
            f"; found {', '.join(near)}, which names no exercise (rename it "
            f"{NOTEBOOKS[exercise]})" if near else "")
    ignored = tuple(f"{s}: {_why_ignored(s)}" for s in strays)
    return Handed(folder, tuple(notebooks), problems, ignored)


def _why_ignored(relative: Path) -> str:
    if relative.suffix != ".ipynb":
        return "not a notebook; kept in the notebooks' working folder, not run"
    if len(relative.parts) > 1:
        return ("in a subfolder; exercise notebooks are graded at the top of the student's "
                "folder")
    return f"names no exercise (the notebooks are {', '.join(NOTEBOOKS.values())})"


def not_a_notebook(path: Path) -> str | None:
    """Why the file cannot be run as a notebook, or None when it can.

    nbformat's own validation, with `relax_add_props`: papermill runs notebooks that carry keys
    the schema does not name (cell ids under nbformat_minor < 5, as VS Code and jupytext write
    them; keys an editor added), and those are graded, not refused as "not a notebook".
    """
    import warnings

    import nbformat
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return f"not notebook JSON ({type(error).__name__}: {str(error)[:120]})"
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list) or \
            not isinstance(document.get("nbformat"), int) or document["nbformat"] < 4:
        return "JSON, but not a Jupyter notebook of format 4 (no cells, or no nbformat 4)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")    # nbformat's notes on ids it would add
            nbformat.validate(document, relax_add_props=True)
    except nbformat.ValidationError as error:
        return f"a notebook that breaks the notebook format ({str(error.message)[:160]})"
    return None


@dataclass(frozen=True)
class FailedCell:
    """A cell of an executed notebook that raised, was interrupted, or was cut off."""

    number: int
    """Its position among the notebook's code cells as handed in, from 1."""
    execution_count: int | None
    """Its `In [n]` in the executed copy."""
    first_line: str
    """The first line of its source that says something (not a magic or a comment)."""
    error: str
    """`ename: evalue`, or what stopped it."""
    stderr: str = ""
    """The last line it wrote to stderr (a refused kubectl says why there)."""


@dataclass(frozen=True)
class NotebookRun:
    """What re-running one handed-in notebook did."""

    exercise: str
    file: str
    outcome: str
    """`ran` (no error), `failed` (a cell raised), `timeout` (killed at the notebook's
    timeout), `not-run` (papermill could not run it)."""
    seconds: float = 0.0
    cells: int = 0
    """Code cells that ran (the injected parameters cell not counted)."""
    failed: tuple[FailedCell, ...] = ()
    note: str = ""
    """What papermill said when it could not run the notebook, or the timeout's figure."""

    def to_dict(self) -> dict[str, object]:
        return {"exercise": self.exercise, "file": self.file, "outcome": self.outcome,
                "seconds": round(self.seconds, 1), "cells": self.cells, "note": self.note,
                "failed_cells": [{"cell": c.number, "execution_count": c.execution_count,
                                  "source": c.first_line, "error": c.error,
                                  "stderr": c.stderr} for c in self.failed]}


def summarize(exercise: str, executed: dict | None, *, seconds: float, killed: bool,
              cell_timeout: float, notebook_timeout: float, note: str = "") -> NotebookRun:
    """What the executed copy `executed` (papermill's output, as JSON; None when it wrote
    none) says of the run: every failed cell, and where a killed run stopped."""
    file = NOTEBOOKS[exercise]
    if executed is None:
        outcome = "timeout" if killed else "not-run"
        return NotebookRun(exercise, file, outcome, seconds, note=note or (
            f"stopped at its {notebook_timeout:g} s timeout before papermill saved it"
            if killed else "papermill wrote no output"))
    failed: list[FailedCell] = []
    number = ran = 0
    for cell in executed.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata") or {}
        if "injected-parameters" in (meta.get("tags") or []):
            continue
        number += 1
        status = (meta.get("papermill") or {}).get("status")
        if status in ("completed", "failed") or cell.get("execution_count"):
            ran += 1
        found = _failure(cell, number, status, killed, cell_timeout, notebook_timeout)
        if found:
            failed.append(found)
    outcome = "timeout" if killed else ("failed" if failed else "ran")
    return NotebookRun(exercise, file, outcome, seconds, ran, tuple(failed), note)


def _failure(cell: dict, number: int, status: str | None, killed: bool, cell_timeout: float,
             notebook_timeout: float) -> FailedCell | None:
    outputs = cell.get("outputs") or []
    stderr = "".join(_text(o.get("text")) for o in outputs
                     if o.get("output_type") == "stream" and o.get("name") == "stderr")
    said = [line.strip() for line in stderr.splitlines() if line.strip()]
    # A stream arrives in pieces: join them first; prefer the last line that says an error.
    last_err = next((line for line in reversed(said) if _ERROR_LINE.search(line)),
                    said[-1] if said else "")
    first = _first_line(_text(cell.get("source")))
    count = cell.get("execution_count")
    if killed and status == "running":
        return FailedCell(number, count, first, f"still running when the notebook was "
                          f"stopped at its {notebook_timeout:g} s timeout; the cells after it "
                          "did not run", last_err)
    for output in outputs:
        if output.get("output_type") != "error":
            continue
        name, value = output.get("ename", "Error"), _ANSI.sub("", output.get("evalue", ""))
        if name == "SystemExit" and value in ("", "0"):
            return None
        duration = (cell.get("metadata", {}).get("papermill") or {}).get("duration") or 0
        if name == "KeyboardInterrupt" and duration >= cell_timeout - 1:
            error = (f"ran past its {cell_timeout:g} s timeout and was interrupted (an "
                     "endless loop, or a wait that never ends); the notebook went on")
        else:
            error = f"{name}: {value}".strip().rstrip(":")
        return FailedCell(number, count, first, error[:500], last_err[:300])
    return None


def _text(value: object) -> str:
    text = "".join(value) if isinstance(value, list) else str(value or "")
    return _ANSI.sub("", text)


def _first_line(source: str) -> str:
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    telling = [line for line in lines if not line.startswith(("%%", "#"))]
    line = (telling or lines or [""])[0]
    return line if len(line) <= 70 else line[:67] + "..."


def criterion(exercise: str, run: NotebookRun | None, problem: str | None = None) -> Result:
    """The 0-point `notebook-ran` result of one exercise: passed when its notebook ran every
    cell without an error; else failed, naming the first cell that failed and why."""
    title = f"The handed-in notebook {NOTEBOOKS[exercise]} runs without an error"
    if run is None:
        return Result(CRITERION, title, 0, False, problem or "the notebook was not run", HINT)
    if run.outcome == "ran":
        return Result(CRITERION, title, 0, True,
                      f"{run.file} ran {run.cells} code cell(s) in {run.seconds:.0f} s", HINT)
    if run.outcome == "not-run":
        return Result(CRITERION, title, 0, False,
                      f"{run.file} could not be run: {run.note}", HINT)
    parts = []
    if run.outcome == "timeout" and not any("still running" in c.error for c in run.failed):
        parts.append(f"{run.file} was stopped at its timeout ({run.note or 'no cell running'})")
    if run.failed:
        first = run.failed[0]
        said = f"{run.file}: code cell {first.number}"
        if first.execution_count:
            said += f" (In [{first.execution_count}])"
        if first.first_line:
            said += f", `{first.first_line}`,"
        said += f" {'failed: ' if not first.error.startswith(('ran past', 'still')) else ''}"
        said += first.error
        if first.stderr and first.stderr not in first.error:
            said += f"; it printed: {first.stderr}"
        parts.append(said)
        others = [str(c.number) for c in run.failed[1:]]
        if others:
            parts.append(f"code cell(s) {', '.join(others)} failed too")
    return Result(CRITERION, title, 0, False, "; ".join(parts) + " (graded as the cells "
                  "that ran left the namespace)", HINT)


def masked(result: Result, secrets: Iterable[str]) -> Result:
    """`result` with every secret value masked in its message."""
    values = list(secrets)
    return Result(result.id, result.title, result.points, result.passed,
                  redact(result.message, values), result.hint)


def mask(notebook: dict, secrets: Iterable[str]) -> dict:
    """A copy of the notebook JSON with every secret value masked in every cell's source and
    outputs (text, data, error values and tracebacks)."""
    values = [value for value in secrets if value]
    if not values:
        return json.loads(json.dumps(notebook))

    def hide(value: object) -> object:
        if isinstance(value, str):
            return redact(value, values)
        if isinstance(value, list):
            if all(isinstance(v, str) for v in value) and value:
                joined = redact("".join(value), values)
                return joined.splitlines(keepends=True)
            return [hide(v) for v in value]
        if isinstance(value, dict):
            return {k: hide(v) for k, v in value.items()}
        return value

    copy = json.loads(json.dumps(notebook))
    for cell in copy.get("cells", []):
        if cell.get("outputs"):
            cell["outputs"] = _coalesced(cell["outputs"])
    copy["cells"] = [hide(cell) for cell in copy.get("cells", [])]
    return copy


def _coalesced(outputs: list[dict]) -> list[dict]:
    """Consecutive pieces of one stream joined, as Jupyter shows them: a value printed
    across two messages is then masked whole."""
    joined: list[dict] = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (previous is not None and output.get("output_type") == "stream"
                and previous.get("output_type") == "stream"
                and previous.get("name") == output.get("name")):
            previous["text"] = _text(previous.get("text")) + _text(output.get("text"))
        else:
            joined.append(dict(output))
    return joined
