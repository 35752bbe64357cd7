#!/usr/bin/env python3
"""Generate each exercises/NN-*.ipynb from solutions/NN-*.ipynb, so the two never drift.

In a solution notebook, a cell tagged `solution` is (part of) the answer:
- a code cell becomes a cell for the student to fill: its cell magic line, if any (such as
  `%%bash -s "$NAMESPACE"`), is kept, followed by the hint as comments. The hint is the cell's
  metadata `rwk.hint` if present, else the cell's first comment line;
- a markdown cell is dropped (it talks about the answer).
Every other cell is copied as it is, without outputs.

    python scripts/make_exercises.py           # (re)write exercises/ from solutions/
    python scripts/make_exercises.py --check   # exit 1, naming them, if any exercise is stale
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_TAG = "solution"
EXERCISE_TAG = "exercise"
GENERIC_HINT = "Your code here."


def hint_of(cell: dict) -> str:
    """The hint a placeholder shows: metadata rwk.hint, else the first comment line."""
    stored = (cell.get("metadata", {}).get("rwk") or {}).get("hint")
    if stored:
        return stored.strip()
    for line in cell["source"].splitlines():
        if line.startswith("#") and not line.startswith("#!"):
            return line.lstrip("#").strip() or GENERIC_HINT
    return GENERIC_HINT


def placeholder(cell: dict) -> dict:
    """The empty cell a student fills in place of a `solution` code cell."""
    lines = cell["source"].splitlines()
    magic = [lines[0]] if lines and lines[0].startswith("%%") else []
    hint = hint_of(cell).splitlines()
    body = [f"# Your turn: {hint[0]}", *(f"# {line}".rstrip() for line in hint[1:])]
    metadata = {k: v for k, v in cell.get("metadata", {}).items() if k != "rwk"}
    tags = [t for t in metadata.get("tags", []) if t != SOLUTION_TAG] + [EXERCISE_TAG]
    metadata["tags"] = tags
    return nbformat.v4.new_code_cell(source="\n".join(magic + body), metadata=metadata,
                                     id=cell.get("id"))


def _cleared(cell: dict) -> dict:
    cell = copy.deepcopy(cell)
    if cell["cell_type"] == "code":
        cell["outputs"], cell["execution_count"] = [], None
    return cell


def exercise_from_solution(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The exercise notebook derived from a solution notebook (which is left unchanged)."""
    exercise = nbformat.v4.new_notebook(metadata=copy.deepcopy(solution.metadata))
    exercise.nbformat, exercise.nbformat_minor = solution.nbformat, solution.nbformat_minor
    for cell in solution.cells:
        if SOLUTION_TAG not in cell.get("metadata", {}).get("tags", []):
            exercise.cells.append(_cleared(cell))
        elif cell["cell_type"] == "code":
            exercise.cells.append(placeholder(cell))
    nbformat.validate(exercise)
    return exercise


def pairs(root: Path = ROOT) -> list[tuple[Path, Path]]:
    """(solution, exercise) paths for every solution notebook."""
    return [(path, root / "exercises" / path.name)
            for path in sorted((root / "solutions").glob("[0-9][0-9]-*.ipynb"))]


def render(solution_path: Path) -> str:
    """The exact text the exercise file of this solution must have."""
    solution = nbformat.read(str(solution_path), as_version=4)
    return nbformat.writes(exercise_from_solution(solution)) + "\n"


def stale(root: Path = ROOT) -> list[Path]:
    """Exercise files that are missing or differ from what their solution generates."""
    out = []
    for solution, exercise in pairs(root):
        want = json.loads(render(solution))
        have = json.loads(exercise.read_text()) if exercise.is_file() else None
        if have != want:
            out.append(exercise)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if any exercise is out of date")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for path in out_of_date:
            print(f"out of date: {path.relative_to(ROOT)}", file=sys.stderr)
        if out_of_date:
            print("run: python scripts/make_exercises.py", file=sys.stderr)
        return 1 if out_of_date else 0
    for solution, exercise in pairs():
        exercise.write_text(render(solution))
        print(f"{solution.relative_to(ROOT)} -> {exercise.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
