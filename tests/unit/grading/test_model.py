"""Criteria, results and failures: checker.grading.model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import checker.grading.model
from checker.grading.model import Criterion, Failure, Result

CRITERION_KEYS = ["id", "title", "passed", "points", "message", "hint"]


def result(id_: str, passed: bool, points: int = 1, message: str = "",
           hint: str = "see lesson 02") -> Result:
    return Result(id=id_, title=f"title of {id_}", points=points, passed=passed,
                  message=message, hint=hint)


# --- model ---------------------------------------------------------------------------

def test_criterion_and_result_are_frozen() -> None:
    criterion = Criterion("a", "A", 1, "hint", lambda context: None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        criterion.points = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result("a", True).passed = False  # type: ignore[misc]


@pytest.mark.parametrize("points", [-1, 1.5, True, "1"])
def test_criterion_rejects_bad_points(points: object) -> None:
    with pytest.raises(ValueError, match="points"):
        Criterion("a", "A", points, "hint", lambda context: None)  # type: ignore[arg-type]


def test_criterion_accepts_zero_points() -> None:
    assert Criterion("a", "A", 0, "hint", lambda context: None).points == 0


def test_every_field_has_a_docstring() -> None:
    # STYLE 1: one line per field; the source carries them, so read it.
    source = Path(checker.grading.model.__file__).read_text()
    for cls in (Criterion, Result):
        for name in (f.name for f in dataclasses.fields(cls)):
            block = source.split(f"class {cls.__name__}", 1)[1]
            after = block.split(f"\n    {name}:", 1)[1].splitlines()[1].strip()
            assert after.startswith('"""'), f"{cls.__name__}.{name} lacks a docstring"


def test_failure_carries_its_message() -> None:
    failure = Failure("data.LOG_LEVEL is 'INFO'")
    assert failure.message == "data.LOG_LEVEL is 'INFO'"
    assert str(failure) == "data.LOG_LEVEL is 'INFO'"


def test_result_to_dict_has_the_contract_keys_in_order() -> None:
    entry = result("keys", False, points=2, message="found x", hint="do y").to_dict()
    assert list(entry) == CRITERION_KEYS
    assert entry == {"id": "keys", "title": "title of keys", "passed": False, "points": 2,
                     "message": "found x", "hint": "do y"}
