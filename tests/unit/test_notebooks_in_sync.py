"""The committed notebooks: exercises generated from their solutions (STYLE 11), stored
without outputs, and parameterised the same way."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("lessons", "exercises", "solutions")


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_exercises",
                                                  ROOT / "scripts" / "make_exercises.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_exercises = _load_generator()
ALL_NOTEBOOKS = sorted(p for folder in FOLDERS for p in (ROOT / folder).glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --- the committed files ------------------------------------------------------------------

def test_there_are_notebooks() -> None:
    assert SOLUTIONS and ALL_NOTEBOOKS


@pytest.mark.parametrize("solution", SOLUTIONS, ids=_name)
def test_exercise_is_what_the_generator_makes(solution: Path) -> None:
    exercise = ROOT / "exercises" / solution.name
    assert exercise.is_file(), f"{_name(exercise)} is missing; run python scripts/make_exercises.py"
    want = json.loads(make_exercises.render(solution))
    have = json.loads(exercise.read_text())
    assert have == want, (f"{_name(exercise)} differs from what {_name(solution)} generates; "
                          "edit the solution, then run python scripts/make_exercises.py")


def test_every_exercise_has_a_solution() -> None:
    orphans = [p.name for p in (ROOT / "exercises").glob("*.ipynb")
               if not (ROOT / "solutions" / p.name).is_file()]
    assert not orphans, f"exercises without a solution to generate them from: {orphans}"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_name)
def test_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(str(path), as_version=4)
    nbformat.validate(notebook)
    dirty = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{_name(path)}: cells {dirty} have outputs or execution counts; run "
                       f"jupyter nbconvert --clear-output --inplace {_name(path)}")


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_name)
def test_every_cell_has_its_own_id(path: Path) -> None:
    # Read as stored: nbformat's reader would add missing ids itself (with a warning that
    # future versions make an error).
    cells = json.loads(path.read_text())["cells"]
    ids = [cell.get("id") for cell in cells]
    missing = [i for i, id_ in enumerate(ids) if not id_]
    assert not missing, f"{_name(path)}: cells {missing} have no id (nbformat 4.5 wants one)"
    assert len(set(ids)) == len(ids), f"{_name(path)}: cell ids repeat"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_name)
def test_first_code_cell_sets_the_namespace_parameter(path: Path) -> None:
    notebook = nbformat.read(str(path), as_version=4)
    first = next(c for c in notebook.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", []), f"{_name(path)}: not tagged parameters"
    assert "NAMESPACE = " in first.source


@pytest.mark.parametrize("path", sorted((ROOT / "exercises").glob("*.ipynb")), ids=_name)
def test_exercises_hold_no_solution_and_a_check(path: Path) -> None:
    notebook = nbformat.read(str(path), as_version=4)
    assert not [c for c in notebook.cells if "solution" in c.metadata.get("tags", [])]
    assert any("check(" in c.source for c in notebook.cells if c.cell_type == "code")


# --- the generator ------------------------------------------------------------------------

def _solution(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=list(cells))
    for i, cell in enumerate(notebook.cells):
        cell.id = f"c{i}"
    return notebook


def test_solution_code_becomes_a_placeholder_keeping_magic_and_stored_hint() -> None:
    answer = nbformat.v4.new_code_cell(
        '%%bash -s "$NAMESPACE"\nkubectl apply -f answer.yaml',
        metadata={"tags": ["solution"], "rwk": {"hint": "Apply the manifest.\nThen wait."}})
    answer.outputs = [nbformat.v4.new_output("stream", text="done")]
    answer.execution_count = 3
    [placeholder] = make_exercises.exercise_from_solution(_solution(answer)).cells
    assert placeholder.source == ('%%bash -s "$NAMESPACE"\n'
                                  "# Your turn: Apply the manifest.\n# Then wait.")
    assert placeholder.metadata == {"tags": ["exercise"]}
    assert placeholder.outputs == [] and placeholder.execution_count is None
    assert placeholder.id == "c0"


def test_hint_falls_back_to_the_first_comment_line() -> None:
    answer = nbformat.v4.new_code_cell("# Create the ConfigMap.\nconfig = make()\n# not this",
                                       metadata={"tags": ["solution", "keep-me"]})
    [placeholder] = make_exercises.exercise_from_solution(_solution(answer)).cells
    assert placeholder.source == "# Your turn: Create the ConfigMap."
    assert placeholder.metadata["tags"] == ["keep-me", "exercise"]


def test_solution_markdown_is_dropped_and_the_rest_copied_clean() -> None:
    intro = nbformat.v4.new_markdown_cell("# Task")
    note = nbformat.v4.new_markdown_cell("How the answer works", metadata={"tags": ["solution"]})
    given = nbformat.v4.new_code_cell("report = check('namespaces')")
    given.outputs = [nbformat.v4.new_output("stream", text="PASS")]
    given.execution_count = 7
    solution = _solution(intro, note, given)
    exercise = make_exercises.exercise_from_solution(solution)
    assert [c.source for c in exercise.cells] == ["# Task", "report = check('namespaces')"]
    assert exercise.cells[1].outputs == [] and exercise.cells[1].execution_count is None
    assert solution.cells[2].outputs, "the solution itself is left unchanged"


def test_check_mode_names_a_stale_exercise(tmp_path: Path) -> None:
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    answer = nbformat.v4.new_code_cell("x = 1  # the answer", metadata={"tags": ["solution"]})
    nbformat.write(_solution(answer), str(tmp_path / "solutions" / "01-demo.ipynb"))
    assert make_exercises.stale(tmp_path) == [tmp_path / "exercises" / "01-demo.ipynb"]
    (tmp_path / "exercises" / "01-demo.ipynb").write_text(
        make_exercises.render(tmp_path / "solutions" / "01-demo.ipynb"))
    assert make_exercises.stale(tmp_path) == []


# --- hints and lessons --------------------------------------------------------------------

HINT_TARGET = re.compile(r"(lessons/[\w.-]+\.ipynb), '([^']+)'")


def _headings(path: Path) -> set[str]:
    notebook = nbformat.read(str(path), as_version=4)
    return {line.lstrip("#").strip() for cell in notebook.cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("#")}


def test_hints_point_at_lesson_sections_that_exist() -> None:
    """A hint "see lessons/NN-x.ipynb, 'Section'" must name a lesson that exists and one of
    its headings."""
    from checker.grading.exercises import EXERCISES
    broken = []
    for exercise in EXERCISES:
        for criterion in exercise.criteria:
            for lesson, section in HINT_TARGET.findall(criterion.hint):
                path = ROOT / lesson
                if not path.is_file():
                    broken.append(f"{exercise.name}/{criterion.id}: no lesson {lesson}")
                elif section not in _headings(path):
                    broken.append(f"{exercise.name}/{criterion.id}: {lesson} has no heading "
                                  f"{section!r}")
    assert not broken, "\n".join(broken)
