"""`feedback/<file-id>.html`: one standalone page per student to hand back (CLASSROOM.md).

Each page names the student, gives their total, and shows every report under a heading of its
exercise, as the report template renders it (`Report.to_html()`, hints included), so what a
student reads here is what `check()` showed them in the notebook. `<file-id>` is the
student's namespace name (`Student.file_id`), which is safe as a file name.

The page is one Jinja2 template with autoescaping on: the name, id and email come from the
roster and may hold any characters. The report HTML goes in unescaped because the report
template has already escaped everything in it. The template lives in this module rather than
a file beside it so that it ships with the package without package data.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from ..grading.rendering import environment
from ._files import write_text
from .model import ClassGrades, StudentGrades

if TYPE_CHECKING:
    import jinja2

FOLDER = "feedback"
_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Feedback for {{ who.name or who.student }}</title>
</head>
<body>
<h1>Feedback for {{ who.name or who.student }}</h1>
<p>Student <code>{{ who.student }}</code>{% if who.email %} ({{ who.email }}){% endif %},
namespace <code>{{ who.namespace }}</code>, graded {{ graded_at }}.</p>
<p class="rwk-total"><strong>Total: {{ grades.score }}/{{ grades.max_score }}</strong></p>
{% for report in grades.reports %}
<section>
<h2>{{ report.exercise }}: {{ report.score }}/{{ report.max_score }}</h2>
{{ report.to_html() | safe }}
</section>
{% endfor %}
</body>
</html>
"""


def write(grades: ClassGrades, out: Path) -> list[Path]:
    """Write one page per student into `out/feedback/`; return the files written."""
    return [write_text(out / FOLDER / f"{student.student.file_id}.html",
                       _page(student, grades.graded_at_text))
            for student in grades.students]


def _page(grades: StudentGrades, graded_at: str) -> str:
    return _template().render(who=grades.student, grades=grades, graded_at=graded_at)


@functools.cache
def _template() -> jinja2.Template:
    return environment().from_string(_PAGE)
