"""The package's `write`: which formats, bad names, and what no file may hold
(checker.gradebook)."""

from __future__ import annotations

from pathlib import Path

import pytest

import checker.gradebook
from checker.errors import UsageError
from checker.gradebook import ALWAYS, FORMATS, OPTIONAL, write

from . import MASKED, PLANTED, sample_class

ALWAYS_FILES = ["grades.json", "gradebook.csv", "criteria.csv", "canvas.csv",
                "feedback/student-ada.html", "feedback/student-zoe-o.html",
                "feedback/student-grace-co.html"]
OPTIONAL_FILES = [f"{folder}/{student}/{name}"
                  for folder, name in (("gradescope", "results.json"),
                                       ("github-classroom", "result.json"))
                  for student in ("student-ada", "student-zoe-o", "student-grace-co")]


def names(paths: list[Path], out: Path) -> list[str]:
    return [path.relative_to(out).as_posix() for path in paths]


def every_file(out: Path) -> list[str]:
    return sorted(path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file())


def test_the_formats_and_their_names() -> None:
    assert list(FORMATS) == [*ALWAYS, *OPTIONAL]
    assert ALWAYS == ("json", "gradebook", "criteria", "canvas", "feedback")
    assert OPTIONAL == ("gradescope", "github-classroom")
    assert sorted(checker.gradebook.__all__) == ["ALWAYS", "FORMATS", "OPTIONAL", "check_formats",
                                                "write"]


def test_by_default_only_the_always_written_files_are_written(tmp_path: Path) -> None:
    out = tmp_path / "grades" / "spring"
    written = write(sample_class(), out)
    assert names(written, out) == ALWAYS_FILES
    assert every_file(out) == sorted(ALWAYS_FILES)


def test_formats_add_the_optional_ones(tmp_path: Path) -> None:
    written = write(sample_class(), tmp_path, ["github-classroom", "gradescope"])
    assert names(written, tmp_path) == ALWAYS_FILES + OPTIONAL_FILES
    assert every_file(tmp_path) == sorted(ALWAYS_FILES + OPTIONAL_FILES)


def test_naming_an_always_written_format_changes_nothing(tmp_path: Path) -> None:
    assert names(write(sample_class(), tmp_path, ["canvas", "json"]), tmp_path) == ALWAYS_FILES


def test_an_unknown_format_is_a_usage_error_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as raised:
        write(sample_class(), tmp_path / "out", ["gradescope", "moodle"])
    assert raised.value.exit_code == 2
    message = str(raised.value)
    assert "'moodle'" in message
    assert all(name in message for name in FORMATS)
    assert not (tmp_path / "out").exists(), "nothing is written for bad input"


def test_a_masked_message_stays_masked_in_every_file_that_shows_messages(tmp_path: Path
                                                                          ) -> None:
    write(sample_class(), tmp_path, OPTIONAL)
    shown = ["grades.json", "criteria.csv", "feedback/student-zoe-o.html",
             "gradescope/student-zoe-o/results.json",
             "github-classroom/student-zoe-o/result.json"]
    for name in shown:
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "'***'" in text or "&#39;***&#39;" in text, name
    assert "'***'" in MASKED


def test_no_file_holds_what_writers_must_not_copy(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A report's rerun closure and the environment are no source of any gradebook."""
    monkeypatch.setenv("RWK_TEST_TOKEN", PLANTED)
    monkeypatch.setenv("KUBECONFIG", f"/tmp/{PLANTED}.kubeconfig")
    write(sample_class(), tmp_path, OPTIONAL)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(files) == len(ALWAYS_FILES + OPTIONAL_FILES)
    for path in files:
        assert PLANTED.encode() not in path.read_bytes(), path
