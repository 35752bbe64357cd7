"""`canvas.csv`: the class's scores in the CSV that Canvas's gradebook import reads.

    Student,ID,SIS User ID,SIS Login ID,Section,<exercise>...
    Points Possible,,,,,<points the exercise is worth>...
    <name>,<ID>,<SIS User ID>,<SIS Login ID>,<Section>,<points earned>...

- `Student` is the roster's name, or the student's id when the roster gives no name;
- `ID`, `SIS User ID`, `SIS Login ID` and `Section` are the roster's own columns of those
  names (empty when the roster has no such column): Canvas finds the student by `ID` (its
  own user id), then `SIS User ID`, then `SIS Login ID`, and only then by name;
- one column per exercise, headed by the exercise's name: Canvas gives the scores to the
  assignment of that exact title, or creates an assignment of that title when there is none
  (an `Assignment (1234)` header from Canvas's own export would pin its id instead);
- the first data row, `Points Possible`, holds each exercise's maximum points, its identity
  cells blank; a blank score cell is a student who was not graded on that exercise.
The roster's other columns are left out: Canvas would take any further column for an
assignment (only its own custom columns and totals are recognised).

Where these rules come from: Canvas's importer, `GradebookImporter` in instructure/canvas-lms
(app/models/gradebook_importer.rb). Its header check wants `Student` first, `ID` second,
`SIS User ID` and `SIS Login ID` together, and `Section` as the last identity column; a row
whose first cell contains `Points Possible` sets each assignment's points from the cell under
its header (hence the blank identity cells, which keep the columns aligned); an assignment
header is read as `title (id)`, else matched by title, else a new assignment. Canvas's own
export (`GradebookExporter`) writes the same five columns and indents the label by four
spaces, which the importer does not need: it looks for the label anywhere in the cell.
Instructors' guides to importing a CSV into Canvas Grades (e.g. Ohio State's, at
teaching.resources.osu.edu) name the same required columns (a student name or id, SIS Login
ID, Section, then assignments) and warn that an unknown assignment column creates one.

UTF-8 without a byte-order mark, comma-separated (the importer guesses the separator from
the first lines), quoting by Python's csv module.
"""

from __future__ import annotations

from pathlib import Path

from ._files import write_csv
from .model import ClassGrades, StudentGrades

FILE = "canvas.csv"
IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"


def write(grades: ClassGrades, out: Path) -> list[Path]:
    """Write `out/canvas.csv`; return the file written."""
    header = [*IDENTITY, *grades.exercises]
    points = [POINTS_POSSIBLE, *[""] * (len(IDENTITY) - 1),
              *[grades.max_points(exercise) for exercise in grades.exercises]]
    rows = [points, *(_row(student, grades.exercises) for student in grades.students)]
    return [write_csv(out / FILE, header, rows)]


def _row(grades: StudentGrades, exercises: tuple[str, ...]) -> list[object]:
    who = grades.student
    ids = [who.column(column) for column in IDENTITY[1:]]
    scores = ["" if (report := grades.report(exercise)) is None else report.score
              for exercise in exercises]
    return [who.name or who.student, *ids, *scores]
