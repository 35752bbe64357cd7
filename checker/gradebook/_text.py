"""What a student reads under one criterion in an LMS that shows criteria one by one.

Gradescope and GitHub Classroom show one line of text per test; both show the same words, so
a student sees the same thing wherever their instructor uploads the grades.
"""

from __future__ import annotations

from ..grading.model import Result


def criterion_text(result: Result) -> str:
    """The report's message (Secret values already masked), and the hint when it failed."""
    parts = [result.message] if result.message else []
    if not result.passed and result.hint:
        parts.append(f"Hint: {result.hint}")
    return "\n\n".join(parts)
