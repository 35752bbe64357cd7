"""canvas.csv: the columns Canvas's gradebook import reads (checker.gradebook.canvas)."""

from __future__ import annotations

from pathlib import Path

from checker.gradebook import canvas

from . import GRACE, ZOE, read_csv, sample_class

HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "configmaps", "secrets"]


def test_it_writes_one_file_and_returns_it(tmp_path: Path) -> None:
    assert canvas.write(sample_class(), tmp_path) == [tmp_path / "canvas.csv"]


def test_header_points_possible_and_student_rows(tmp_path: Path) -> None:
    canvas.write(sample_class(), tmp_path)
    assert read_csv(tmp_path / "canvas.csv") == [
        HEADER,
        ["Points Possible", "", "", "", "", "5", "5"],
        ["Ada Lovelace", "101", "S-101", "ada", "Mon A", "5", "5"],
        [ZOE.name, "102", "S-102", "zoe.o", "Mon, B", "2", "1"],
        [GRACE.student, "", "", "", "", "0", "0"],
    ]


def test_the_rosters_other_columns_are_left_out(tmp_path: Path) -> None:
    """Canvas would take any column after Section for an assignment."""
    canvas.write(sample_class(), tmp_path)
    text = (tmp_path / "canvas.csv").read_text(encoding="utf-8")
    assert "Lab group" not in text and "moved to 3" not in text
    assert "@example.edu" not in text


def test_a_student_without_a_name_is_shown_by_id(tmp_path: Path) -> None:
    canvas.write(sample_class(), tmp_path)
    assert read_csv(tmp_path / "canvas.csv")[4][0] == "<grace & co>"
