"""A graded exercise: its results, with totals derived from them, shown as text, JSON or HTML."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from .model import Result
from .rendering import environment
from .timestamps import now, utc_iso

if TYPE_CHECKING:
    import jinja2

_TEMPLATE = "report.html.j2"
_GREEN, _RED, _YELLOW, _DIM, _BOLD, _RESET = (
    "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[1m", "\x1b[0m")


@dataclass(frozen=True, kw_only=True, repr=False)
class Report:
    """The results of one exercise checked against one namespace of one cluster."""

    exercise: str
    """The exercise's name, as `rwk check` takes it (e.g. `configmaps`)."""
    namespace: str
    """The namespace that was graded."""
    context: str | None
    """The kube context that was graded (None if the kubeconfig names none)."""
    results: tuple[Result, ...]
    """One result per criterion, in the exercise's order."""
    checked_at: datetime = field(default_factory=now)
    """When the cluster was read (a naive datetime is taken as UTC)."""
    still_changing: tuple[str, ...] = ()
    """Ids of criteria whose pass/fail flipped between the last two runs of `--wait`."""
    rerun: Callable[[], Report] | None = field(default=None, compare=False)
    """Checks the same exercise again; what `again()` calls."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", tuple(self.results))
        object.__setattr__(self, "still_changing", tuple(self.still_changing))

    @property
    def passed(self) -> bool:
        """Whether every criterion passes (a report without criteria does not pass)."""
        return bool(self.results) and all(result.passed for result in self.results)

    @property
    def score(self) -> int:
        """The points of the criteria that pass."""
        return sum(result.points for result in self.results if result.passed)

    @property
    def max_score(self) -> int:
        """The points of all criteria."""
        return sum(result.points for result in self.results)

    @property
    def checked_at_text(self) -> str:
        """`checked_at` in ISO 8601, UTC, to the second (e.g. `2025-06-01T10:00:00Z`)."""
        return utc_iso(self.checked_at)

    def again(self) -> Report:
        """Check the same exercise again, against the same target, and return the new report."""
        if self.rerun is None:
            raise RuntimeError("this report was not made by check(); it cannot re-run itself")
        return self.rerun()

    def to_dict(self) -> dict[str, object]:
        """Exactly the JSON object of the contract in EXERCISES.md, keys in its order."""
        return {"exercise": self.exercise, "namespace": self.namespace,
                "context": self.context, "passed": self.passed, "score": self.score,
                "max_score": self.max_score, "checked_at": self.checked_at_text,
                "criteria": [result.to_dict() for result in self.results]}

    def to_json(self, indent: int | None = 2) -> str:
        """`to_dict()` as JSON text (ASCII only, so any terminal can print it)."""
        return json.dumps(self.to_dict(), indent=indent)

    def to_text(self, color: bool = False) -> str:
        """One line per criterion with PASS or FAIL, details under failures, the score last."""
        def paint(text: str, *codes: str) -> str:
            return "".join(codes) + text + _RESET if color else text

        lines = [paint(f"{self.exercise}", _BOLD)
                 + f": namespace {self.namespace}, context {self.context or '(none)'}, "
                 f"checked {self.checked_at_text}"]
        for result in self.results:
            mark = paint("PASS", _GREEN, _BOLD) if result.passed else paint("FAIL", _RED, _BOLD)
            line = f"{mark}  {result.title}  ({result.points} pt{'s' * (result.points != 1)})"
            if result.id in self.still_changing:
                line += "  " + paint("still changing", _YELLOW)
            lines.append(line)
            if result.message:
                lines.extend(_indent(result.message if not result.passed
                                     else f"note: {result.message}"))
            if not result.passed and result.hint:
                lines.extend(paint(text, _DIM) for text in _indent(f"hint: {result.hint}"))
        if self.still_changing:
            lines.append(paint("still changing when the wait ended: "
                               + ", ".join(self.still_changing), _YELLOW))
        verdict = (paint("PASSED", _GREEN, _BOLD) if self.passed
                   else paint("NOT PASSED", _RED, _BOLD))
        failed = sum(not result.passed for result in self.results)
        lines.append(f"score {self.score}/{self.max_score}: {verdict} "
                     f"({len(self.results) - failed} of {len(self.results)} criteria pass)")
        return "\n".join(lines)

    def to_html(self) -> str:
        """The report as an HTML table, rendered from `templates/report.html.j2`."""
        return _template().render(report=self)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.to_text(color=False)


def _indent(text: str) -> list[str]:
    return ["      " + line for line in text.splitlines() or [""]]


@functools.cache
def _template() -> jinja2.Template:
    return environment().get_template(_TEMPLATE)
