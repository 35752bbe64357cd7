"""Atomic writes: a crash never leaves half a file under its final name
(checker.gradebook._files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from checker.gradebook import _files

from . import read_csv


def test_a_file_is_written_whole_and_its_folder_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "grades.json"
    assert _files.write_json(path, {"name": "Zoë"}) == path
    assert path.read_text(encoding="utf-8") == '{\n  "name": "Zoë"\n}\n'
    assert os.listdir(path.parent) == ["grades.json"]


def test_a_crash_before_the_rename_leaves_the_old_file_and_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "gradebook.csv"
    path.write_text("the old gradebook\n", encoding="utf-8")

    def crash(source: str, target: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(_files.os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        _files.write_csv(path, ["student"], [["ada"]])
    assert path.read_text(encoding="utf-8") == "the old gradebook\n"
    assert os.listdir(tmp_path) == ["gradebook.csv"]


def test_a_crash_while_writing_leaves_no_file_under_the_final_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(descriptor: int) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(_files.os, "fsync", crash)
    with pytest.raises(OSError, match="power cut"):
        _files.write_text(tmp_path / "criteria.csv", "student\r\nada\r\n")
    assert os.listdir(tmp_path) == []


def test_csv_quotes_whatever_a_cell_holds(tmp_path: Path) -> None:
    cells = ['O\'Brien, Zoë "Zee"', "two\nlines", "tab\there", " spaced ", ""]
    _files.write_csv(tmp_path / "x.csv", ["a", "b", "c", "d", "e"], [cells])
    assert read_csv(tmp_path / "x.csv")[1] == cells


def test_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    path = _files.write_text(tmp_path / "grades.json", "{}")
    assert path.stat().st_mode & 0o777 == 0o600
