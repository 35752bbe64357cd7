"""feedback/<file-id>.html: a standalone page per student (checker.gradebook.feedback)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from checker.gradebook import feedback

from . import sample_class


class _Headings(HTMLParser):
    """The text of every h1 and h2, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("h1", "h2"):
            self._inside = True
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2"):
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.found[-1] += data


def headings(page: str) -> list[str]:
    parser = _Headings()
    parser.feed(page)
    return parser.found


def pages(tmp_path: Path) -> list[str]:
    grades = sample_class()
    return [path.read_text(encoding="utf-8") for path in feedback.write(grades, tmp_path)]


def test_one_page_per_student_named_by_file_id(tmp_path: Path) -> None:
    written = feedback.write(sample_class(), tmp_path)
    assert written == [tmp_path / "feedback" / f"{name}.html"
                       for name in ("student-ada", "student-zoe-o", "student-grace-co")]


def test_a_page_is_standalone_html_with_a_heading_per_report(tmp_path: Path) -> None:
    ada, zoe, grace = pages(tmp_path)
    assert ada.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in ada
    assert ada.rstrip().endswith("</html>")
    assert headings(ada) == ["Feedback for Ada Lovelace", "configmaps: 5/5", "secrets: 5/5"]
    assert headings(zoe)[1:] == ["configmaps: 2/5", "secrets: 1/5"]
    assert headings(grace) == ["Feedback for <grace & co>", "configmaps: 0/5", "secrets: 0/5"]


def test_each_report_is_shown_as_its_template_renders_it(tmp_path: Path) -> None:
    grades = sample_class()
    for student, page in zip(grades.students, pages(tmp_path)):
        for report in student.reports:
            assert report.to_html() in page


def test_the_total_and_the_hints_of_failures_are_on_the_page(tmp_path: Path) -> None:
    ada, zoe, grace = pages(tmp_path)
    assert "Total: 10/10" in ada and "Total: 3/10" in zoe and "Total: 0/10" in grace
    assert "see lesson secrets, section &#39;Checking your work&#39;" in zoe
    assert "namespace &#39;student-grace-co&#39; does not exist" in grace


def test_what_comes_from_the_roster_is_escaped(tmp_path: Path) -> None:
    ada, zoe, grace = pages(tmp_path)
    assert "<grace & co>" not in grace
    assert "&lt;grace &amp; co&gt;" in grace
    assert "O&#39;Brien, Zoë &#34;Zee&#34; Ångström" in zoe
