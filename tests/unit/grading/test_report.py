"""Reports: totals, text, JSON and HTML from the one template: checker.grading.report."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import checker.grading
from checker.grading.model import Result
from checker.grading.report import Report

CONTRACT_KEYS = ["exercise", "namespace", "context", "passed", "score", "max_score",
                 "checked_at", "criteria"]
CRITERION_KEYS = ["id", "title", "passed", "points", "message", "hint"]
WHEN = datetime(2025, 6, 1, 10, 0, 0, tzinfo=timezone.utc)


def result(id_: str, passed: bool, points: int = 1, message: str = "",
           hint: str = "see lesson 02") -> Result:
    return Result(id=id_, title=f"title of {id_}", points=points, passed=passed,
                  message=message, hint=hint)


def report(*results: Result, **fields: object) -> Report:
    values = {"exercise": "configmaps", "namespace": "production", "context": "kind-rwk",
              "checked_at": WHEN, "results": results, **fields}
    return Report(**values)  # type: ignore[arg-type]


# --- derived totals ------------------------------------------------------------------

def test_totals_are_derived_from_the_results() -> None:
    partly = report(result("a", True, 2), result("b", False, 3), result("c", True, 1))
    assert (partly.passed, partly.score, partly.max_score) == (False, 3, 6)
    whole = report(result("a", True, 2), result("b", True, 3))
    assert (whole.passed, whole.score, whole.max_score) == (True, 5, 5)
    none = report(result("a", False, 2), result("b", False, 3))
    assert (none.passed, none.score, none.max_score) == (False, 0, 5)


def test_totals_are_not_stored_fields() -> None:
    names = {f.name for f in dataclasses.fields(Report)}
    assert not names & {"passed", "score", "max_score"}


def test_a_report_without_criteria_does_not_pass() -> None:
    empty = report()
    assert (empty.passed, empty.score, empty.max_score) == (False, 0, 0)


def test_results_given_as_a_list_become_a_tuple() -> None:
    assert report(*[]).results == ()
    assert isinstance(Report(exercise="x", namespace="n", context=None,
                             results=[result("a", True)]).results, tuple)  # type: ignore[arg-type]


def test_checked_at_defaults_to_now_in_utc() -> None:
    made = Report(exercise="x", namespace="n", context=None, results=())
    assert made.checked_at.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - made.checked_at) < timedelta(seconds=5)


@pytest.mark.parametrize(("moment", "text"), [
    (WHEN, "2025-06-01T10:00:00Z"),
    (datetime(2025, 6, 1, 12, 0, 0, 500, tzinfo=timezone(timedelta(hours=2))),
     "2025-06-01T10:00:00Z"),
    (datetime(2025, 6, 1, 10, 0, 0), "2025-06-01T10:00:00Z"),
])
def test_checked_at_is_iso8601_utc(moment: datetime, text: str) -> None:
    assert report(checked_at=moment).to_dict()["checked_at"] == text


# --- JSON ----------------------------------------------------------------------------

def test_to_dict_has_exactly_the_contract_keys() -> None:
    data = report(result("a", True), result("b", False, message="found"),
                  still_changing=("b",)).to_dict()
    assert list(data) == CONTRACT_KEYS
    assert all(list(entry) == CRITERION_KEYS for entry in data["criteria"])


def test_to_dict_values() -> None:
    data = report(result("a", True, 2), result("b", False, 1, message="x is 'y'")).to_dict()
    assert data["exercise"] == "configmaps"
    assert data["namespace"] == "production"
    assert data["context"] == "kind-rwk"
    assert (data["passed"], data["score"], data["max_score"]) == (False, 2, 3)
    assert [entry["id"] for entry in data["criteria"]] == ["a", "b"]
    assert data["criteria"][1]["message"] == "x is 'y'"


def test_to_json_round_trips_to_to_dict() -> None:
    made = report(result("a", True), result("b", False, message="naïve <x> \"q\""))
    text = made.to_json()
    assert json.loads(text) == made.to_dict()
    assert text.isascii()
    assert json.loads(made.to_json(indent=None)) == made.to_dict()
    assert "\n" not in made.to_json(indent=None)


def test_context_may_be_absent() -> None:
    assert report(context=None).to_dict()["context"] is None


# --- text ----------------------------------------------------------------------------

def test_text_has_a_line_per_criterion_and_the_score_last() -> None:
    text = report(result("a", True, 2), result("b", False, 1, message="found: 'x'",
                                                  hint="run kubectl get cm")).to_text()
    lines = text.splitlines()
    assert lines[0].startswith("configmaps: namespace production, context kind-rwk")
    assert lines[1].startswith("PASS  title of a")
    assert lines[2].startswith("FAIL  title of b")
    assert lines[3].strip() == "found: 'x'"
    assert lines[4].strip() == "hint: run kubectl get cm"
    assert lines[-1] == "score 2/3: NOT PASSED (1 of 2 criteria pass)"


def test_text_of_a_passing_report() -> None:
    text = report(result("a", True, 2, hint="never shown")).to_text()
    assert text.splitlines()[-1] == "score 2/2: PASSED (1 of 1 criteria pass)"
    assert "never shown" not in text
    assert "FAIL" not in text


def test_text_shows_a_note_on_pass() -> None:
    text = report(result("a", True, message="a single claim also works")).to_text()
    assert "note: a single claim also works" in text


def test_text_indents_every_line_of_a_long_message() -> None:
    text = report(result("a", False, message="first\nsecond")).to_text()
    assert "      first\n      second" in text


def test_text_has_colour_only_when_asked() -> None:
    made = report(result("a", True), result("b", False, message="m"))
    assert "\x1b[" not in made.to_text(color=False)
    coloured = made.to_text(color=True)
    assert "\x1b[32m" in coloured and "\x1b[31m" in coloured
    assert coloured.count("\x1b[0m") >= 3


def test_text_marks_criteria_still_changing() -> None:
    text = report(result("a", True), result("b", False, message="m"),
                  still_changing=("b",)).to_text()
    assert "title of b  (1 pt)  still changing" in text
    assert "title of a  (1 pt)\n" in text
    assert "still changing when the wait ended: b" in text


def test_text_without_still_changing_does_not_mention_it() -> None:
    assert "still changing" not in report(result("b", False, message="m")).to_text()


def test_repr_is_the_plain_text() -> None:
    made = report(result("a", True), result("b", False, message="m"))
    assert repr(made) == made.to_text(color=False)


# --- HTML ----------------------------------------------------------------------------

def test_html_is_rendered_from_the_one_template(monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.grading import report as report_module

    template = Path(checker.grading.__file__).parent / "templates" / "report.html.j2"
    assert template.is_file()
    seen = {}

    class Spy:
        def render(self, **values: object) -> str:
            seen.update(values)
            return "<p>from the template</p>"

    monkeypatch.setattr(report_module, "_template", lambda: Spy())
    made = report(result("a", True))
    assert made.to_html() == "<p>from the template</p>"
    assert seen == {"report": made}


def test_html_is_a_table_with_result_message_hint_and_score() -> None:
    html = report(result("a", True, 2), result("b", False, 3, message="found 'x'",
                                                  hint="see lesson 02")).to_html()
    assert "<table>" in html and "</table>" in html
    assert html.count("<tr>") == 3  # header and one row per criterion
    assert "PASS" in html and "FAIL" in html
    assert "title of a" in html and "title of b" in html
    assert "found &#39;x&#39;" in html
    assert "see lesson 02" in html
    assert "Score 2/5: NOT PASSED" in html


def test_html_shows_hints_only_for_failures() -> None:
    html = report(result("a", True, hint="hint for a"), result("b", False, hint="hint for b"),
                  ).to_html()
    assert "hint for a" not in html
    assert "hint for b" in html


def test_html_escapes_what_the_cluster_holds() -> None:
    html = report(result("<b>id</b>", False, message="<script>alert(1)</script> & more",
                         hint="use <kubectl>")).to_html()
    assert "<script>" not in html and "<b>id</b>" not in html and "<kubectl>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "use &lt;kubectl&gt;" in html


def test_html_marks_criteria_still_changing() -> None:
    changing = report(result("a", False), still_changing=("a",)).to_html()
    assert "still changing" in changing.lower()
    assert "still changing" not in report(result("a", False)).to_html().lower()


def test_html_of_a_passing_report() -> None:
    assert "Score 1/1: PASSED" in report(result("a", True)).to_html()


def test_repr_html_is_the_html() -> None:
    made = report(result("a", True))
    assert made._repr_html_() == made.to_html()
