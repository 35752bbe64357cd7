"""The check panel: in JupyterLab a report shows itself as an ipywidgets panel.

The panel holds the criteria table (pass or fail, points, what was found, the hint), the
score line `score X/Y`, a **Check again** button that reads the cluster once more and
updates the table in place (`Report.again()`), and **Wait until it passes**, which reads
again every `interval` seconds, as `rwk check --wait` does, with a progress bar, each
criterion turning green as it starts to pass and "still changing" beside those that flipped
in the last read, until every criterion passes, the time is up or **Stop** is pressed.

`progress()`'s table of every exercise shows the same way (`ProgressPanel`): the table and a
**Check again** that grades every exercise again in place.

`register()` (which `check()` and `progress()` call) tells IPython to display every `Report`
and every `Progress` this way. The
displayed bundle carries the widget and, beside it, the report's HTML and text, so where no
widget can render (nbconvert, GitHub's viewer, a terminal) the report reads as before.
The pure part, `rows` and `score_line`, is what the table shows; the widgets only hold it.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import RwkError
from ..grading.rendering import environment
from ..grading.report import Report
from ..grading.runner import still_changing

if TYPE_CHECKING:
    import jinja2

INTERVAL = 2.0
"""Seconds between two reads of Wait until it passes: `rwk check --wait`'s interval."""
LIMIT = 180.0
"""Seconds Wait until it passes goes on before it gives up."""
TICK = 0.25
"""Seconds between two updates of the progress bar while waiting."""


@dataclass(frozen=True)
class Row:
    """One criterion as the panel's table shows it."""

    id: str
    title: str
    passed: bool
    points: str
    """Earned over possible, e.g. `0/2`."""
    message: str
    """What was found (on a pass, the note, often empty)."""
    hint: str
    """What to do; empty on a pass, so a passing row shows no advice."""
    changing: bool = False
    """Its pass or fail differed from the read before."""
    newly_passed: bool = False
    """It failed in the read before and passes now."""

    @property
    def mark(self) -> str:
        return "PASS" if self.passed else "FAIL"


changed = still_changing
"""Ids of the criteria whose pass or fail differs between two reads (the grading loop's rule)."""


def rows(report: Report, previous: Report | None = None) -> tuple[Row, ...]:
    """The table's rows for `report`; with the read before, what changed since."""
    flipped = set(changed(previous, report)) | set(report.still_changing)
    return tuple(Row(id=result.id, title=result.title, passed=result.passed,
                     points=f"{result.points if result.passed else 0}/{result.points}",
                     message=result.message, hint="" if result.passed else result.hint,
                     changing=result.id in flipped,
                     newly_passed=result.passed and result.id in flipped)
                 for result in report.results)


def score_line(report: Report) -> str:
    """`score X/Y: PASSED (n of m criteria pass)`, as the text report ends."""
    passing = sum(result.passed for result in report.results)
    verdict = "PASSED" if report.passed else "NOT PASSED"
    return (f"score {report.score}/{report.max_score}: {verdict} "
            f"({passing} of {len(report.results)} criteria pass)")


_TABLE = """\
<div class="rwk-panel">
<style>
.rwk-panel table { border-collapse: collapse; margin: 0.2em 0; }
.rwk-panel th, .rwk-panel td { border: 1px solid #8884; padding: 0.3em 0.6em;
  text-align: left !important; vertical-align: top !important; }
.rwk-panel .rwk-mark { font-weight: bold; color: #fff; white-space: nowrap; }
.rwk-panel .rwk-pass { background: #2e7d32; }
.rwk-panel .rwk-fail { background: #c62828; }
.rwk-panel .rwk-new td { background: #2e7d3222; }
.rwk-panel .rwk-points { white-space: nowrap; }
.rwk-panel .rwk-id { opacity: 0.7; font-family: monospace; font-size: 0.85em; }
.rwk-panel .rwk-changing { color: #b26a00; font-style: italic; }
.rwk-panel .rwk-message { font-family: monospace; white-space: pre-wrap; margin-top: 0.2em; }
.rwk-panel .rwk-hint { opacity: 0.85; margin-top: 0.2em; }
</style>
<p><strong>{{ report.exercise }}</strong>: namespace <code>{{ report.namespace }}</code>,
context <code>{{ report.context or "(none)" }}</code>, checked {{ report.checked_at_text }}</p>
<table>
<thead><tr><th>Result</th><th>Points</th><th>Criterion: what was found, what to do</th></tr>
</thead>
<tbody>
{% for row in rows %}
<tr class="rwk-row{{ ' rwk-new' if row.newly_passed else '' }}" data-criterion="{{ row.id }}">
<td class="rwk-mark {{ 'rwk-pass' if row.passed else 'rwk-fail' }}">{{ row.mark }}</td>
<td class="rwk-points">{{ row.points }}</td>
<td>{{ row.title }} <span class="rwk-id">{{ row.id }}</span>
{% if row.changing %} <span class="rwk-changing">still changing</span>{% endif %}
{% if row.message %}<div class="rwk-message">{{ row.message }}</div>{% endif %}
{% if row.hint %}<div class="rwk-hint">hint: {{ row.hint }}</div>{% endif %}
</td>
</tr>
{% endfor %}
</tbody>
</table>
<p class="rwk-score"><strong>{{ score }}</strong></p>
</div>
"""


@functools.cache
def _table() -> jinja2.Template:
    return environment().from_string(_TABLE)


def table_html(report: Report, previous: Report | None = None) -> str:
    """The panel's table and score line as HTML (autoescaped: messages quote the cluster)."""
    return _table().render(report=report, rows=rows(report, previous),
                           score=score_line(report))


class _Reread:
    """What both panels share: the latest read (anything with `again()` and `rerun`), its
    table, Check again and a status line. A subclass lays them out in `widget` and says how a
    read becomes the table's HTML (`_html`).
    """

    def __init__(self, latest: Any, clock: Callable[[], float], *, tooltip: str,
                 cannot: str) -> None:
        import ipywidgets as widgets

        self._clock = clock
        self._lock = threading.Lock()
        self.last_check_seconds: float | None = None
        """How long the last Check again took, from the click to the table's update."""
        self.latest = latest
        self.table = widgets.HTML(self._html(latest, None))
        self.again_button = widgets.Button(description="Check again", icon="refresh",
                                           tooltip=tooltip)
        self.again_button.on_click(lambda _: self.check_again())
        self.status = widgets.HTML("")
        self.status.add_class("rwk-panel-status")
        self.again_button.disabled = latest.rerun is None
        if latest.rerun is None:
            self._say(cannot)

    def _html(self, latest: Any, previous: Any | None) -> str:
        raise NotImplementedError

    def check_again(self) -> Any:
        """Read the cluster once more and show the new read in place."""
        start = self._clock()
        with self._lock:
            previous = self.latest
            try:
                self.latest = previous.again()
            except RwkError as error:
                self._say(f"could not check: {error}")
                return previous
            self.table.value = self._html(self.latest, previous)
        self.last_check_seconds = self._clock() - start
        self._say(f"checked again in {self.last_check_seconds:.2f} s{self._summary()}")
        return self.latest

    def _summary(self) -> str:
        """What the status line adds after a read, e.g. how many exercises pass."""
        return ""

    def _say(self, text: str) -> None:
        import html

        self.status.value = f'<span class="rwk-status">{html.escape(text)}</span>'


class Panel(_Reread):
    """A report's widget: the table, the buttons, the progress bar; `report` is the latest."""

    def __init__(self, report: Report, *, interval: float = INTERVAL, limit: float = LIMIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        import ipywidgets as widgets

        super().__init__(report, clock, tooltip="read the cluster again",
                         cannot="this report was not made by check(); it cannot check again")
        self.interval, self.limit = interval, limit
        self._stop = threading.Event()
        self._waiter: threading.Thread | None = None
        self.wait_button = widgets.Button(description="Wait until it passes", icon="clock-o",
                                          tooltip=f"read again every {interval:g} s")
        self.stop_button = widgets.Button(description="Stop", icon="stop",
                                          button_style="warning",
                                          layout=widgets.Layout(display="none"))
        self.progress = widgets.FloatProgress(value=0, min=0, max=limit,
                                              description="waiting",
                                              layout=widgets.Layout(display="none"))
        self.wait_button.on_click(lambda _: self.start_waiting())
        self.stop_button.on_click(lambda _: self.stop())
        self.widget = widgets.VBox(
            [self.table, widgets.HBox([self.again_button, self.wait_button, self.stop_button]),
             widgets.HBox([self.progress, self.status])])
        self.widget.add_class("rwk-check-panel")
        self.progress.add_class("rwk-progress")     # a name the browser test finds it by
        self.wait_button.disabled = report.rerun is None

    # --- what the buttons do ------------------------------------------------------------

    @property
    def report(self) -> Report:
        """The latest report the table shows."""
        return self.latest

    def _html(self, latest: Report, previous: Report | None) -> str:
        return table_html(latest, previous)

    def start_waiting(self) -> None:
        """Read again every `interval` seconds in the background until it passes."""
        if self._waiter is not None and self._waiter.is_alive():
            return
        self._stop.clear()
        self._waiting(True)
        self._waiter = threading.Thread(target=self._wait, name="rwk-panel-wait", daemon=True)
        self._waiter.start()

    def stop(self) -> None:
        """Stop waiting (the table keeps the last read)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the background wait ends; whether it ended (for tests and cells)."""
        if self._waiter is None:
            return True
        self._waiter.join(timeout)
        return not self._waiter.is_alive()

    # --- plumbing -------------------------------------------------------------------------

    def _wait(self) -> None:
        start = self._clock()
        try:
            while True:
                self.check_again()
                elapsed = self._clock() - start
                self.progress.value = min(elapsed, self.limit)
                if self.report.passed:
                    self._say(f"passes, after {elapsed:.0f} s of waiting")
                    return
                if elapsed >= self.limit:
                    self._say(f"still not passing after {self.limit:.0f} s; fix what the "
                              "table says, then wait again")
                    return
                following = min(start + self.limit, self._clock() + self.interval)
                while (now := self._clock()) < following:
                    self.progress.value = min(now - start, self.limit)
                    self._say(f"waiting: {now - start:.0f} s of {self.limit:.0f} s, "
                              f"{score_line(self.report)}")
                    if self._stop.wait(min(TICK, following - now)):
                        self._say(f"stopped after {now - start:.0f} s")
                        return
        finally:
            self._waiting(False)

    def _waiting(self, on: bool) -> None:
        self.again_button.disabled = self.wait_button.disabled = on
        self.stop_button.layout.display = "" if on else "none"
        self.progress.layout.display = "" if on else "none"
        if on:
            self.progress.value = 0



class ProgressPanel(_Reread):
    """`progress()` as a widget: one row per exercise, and Check again, which grades every
    exercise again (one read of the cluster) and updates the table in place."""

    def __init__(self, progress: Any, *, clock: Callable[[], float] = time.monotonic) -> None:
        import ipywidgets as widgets

        super().__init__(progress, clock, tooltip="grade every exercise again",
                         cannot="this progress was not made by progress(); it cannot check "
                                "again")
        self.widget = widgets.VBox([self.table, widgets.HBox([self.again_button, self.status])])
        self.widget.add_class("rwk-progress-panel")

    @property
    def progress(self) -> Any:
        """The latest Progress the table shows."""
        return self.latest

    def _html(self, latest: Any, previous: Any | None) -> str:
        return latest.to_html()

    def _summary(self) -> str:
        return f": {self.latest.passed} of {len(self.latest.reports)} exercises pass"


def bundle(panel: Panel | ProgressPanel) -> dict[str, Any]:
    """What a displayed panel sends: the widget, with the read's HTML and text beside it
    for the front ends that cannot render widgets."""
    data = dict(panel.widget._repr_mimebundle_() or {})
    data["text/html"] = panel.latest.to_html()
    data["text/plain"] = panel.latest.to_text()
    return data


def show(report: Report) -> Panel:
    """Display `report` as a panel in the current notebook, and return the panel."""
    from IPython.display import display

    panel = Panel(report)
    display(bundle(panel), raw=True)
    return panel


def show_progress(progress: Any) -> ProgressPanel:
    """Display `progress` as a panel in the current notebook, and return the panel."""
    from IPython.display import display

    panel = ProgressPanel(progress)
    display(bundle(panel), raw=True)
    return panel


def register(shell: Any | None = None) -> bool:
    """Display every Report and Progress as a panel in this IPython kernel; whether it could (it needs
    IPython and ipywidgets; elsewhere reports keep their HTML and text)."""
    if shell is None and "IPython" not in sys.modules:
        return False    # not in a kernel: no need to pay for IPython's import
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = shell or get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return False
    formatter = shell.display_formatter.ipython_display_formatter
    formatter.for_type(Report, show)
    # By name: the notebook layer need not import the grading core's progress module.
    formatter.for_type_by_name("checker.grading.progress", "Progress", show_progress)
    return True
