"""The one Jinja2 environment every HTML view renders through."""

from __future__ import annotations

import jinja2
import pytest

from checker.grading.rendering import environment


def test_the_environment_is_made_once() -> None:
    assert environment() is environment()


def test_it_escapes_and_keeps_block_tags_off_their_own_lines() -> None:
    page = environment().from_string("{% for x in items %}\n<b>{{ x }}</b>\n{% endfor %}")
    assert page.render(items=["<i>"]) == "<b>&lt;i&gt;</b>\n"


def test_a_name_the_template_does_not_get_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("{{ missing }}").render()


def test_it_finds_the_grading_templates_by_name() -> None:
    assert environment().get_template("report.html.j2").name == "report.html.j2"
