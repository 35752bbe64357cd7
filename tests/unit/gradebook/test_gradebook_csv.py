"""gradebook.csv: a row per student, the documented columns (checker.gradebook.gradebook_csv)."""

from __future__ import annotations

from pathlib import Path

from checker.gradebook import gradebook_csv

from . import GRACE, ZOE, read_csv, sample_class

HEADER = ["student", "name", "email", "namespace", "configmaps", "secrets", "total",
          "max_total", "ID", "SIS User ID", "SIS Login ID", "Section", "Lab group"]


def test_it_writes_one_file_and_returns_it(tmp_path: Path) -> None:
    assert gradebook_csv.write(sample_class(), tmp_path) == [tmp_path / "gradebook.csv"]


def test_header_and_rows_are_the_documented_columns(tmp_path: Path) -> None:
    gradebook_csv.write(sample_class(), tmp_path)
    assert read_csv(tmp_path / "gradebook.csv") == [
        HEADER,
        ["ada", "Ada Lovelace", "ada@example.edu", "student-ada", "5", "5", "10", "10",
         "101", "S-101", "ada", "Mon A", "1"],
        ["zoe.o", ZOE.name, "zoe@example.edu", "student-zoe-o", "2", "1", "3", "10",
         "102", "S-102", "zoe.o", "Mon, B", "2\nmoved to 3"],
        [GRACE.student, "", "", "student-grace-co", "0", "0", "0", "10", "", "", "", "", ""],
    ]


def test_commas_quotes_line_breaks_and_non_ascii_round_trip(tmp_path: Path) -> None:
    gradebook_csv.write(sample_class(), tmp_path)
    raw = (tmp_path / "gradebook.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "UTF-8 without a byte-order mark"
    assert '"O\'Brien, Zoë ""Zee"" Ångström"'.encode() in raw
    zoe = read_csv(tmp_path / "gradebook.csv")[2]
    assert (zoe[1], zoe[11], zoe[12]) == (ZOE.name, "Mon, B", "2\nmoved to 3")
