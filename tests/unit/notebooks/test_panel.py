"""The check panel: a report's rows, score line and HTML, and the buttons' behaviour with a
report whose `again()` is a scripted sequence (checker.notebooks.panel)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from checker.errors import ClusterUnreachable
from checker.grading.model import Result
from checker.grading.report import Report
from checker.notebooks import panel

WHEN = datetime(2025, 6, 1, 10, 0, 0, tzinfo=timezone.utc)


def result(id_: str, passed: bool, points: int = 1, message: str = "",
           hint: str = "see lesson 02") -> Result:
    return Result(id=id_, title=f"title of {id_}", points=points, passed=passed,
                  message=message, hint=hint)


def report(*passes: bool, rerun=None, **fields) -> Report:
    results = tuple(result(f"c{i}", ok, points=i + 1, message="" if ok else f"c{i} is wrong")
                    for i, ok in enumerate(passes))
    return Report(exercise="configmaps", namespace="production", context="kind-rwk",
                  checked_at=WHEN, results=results, rerun=rerun, **fields)


def scripted(*reads: tuple[bool, ...]) -> Report:
    """A report whose again() returns, read after read, reports passing as `reads` say
    (the last one repeats)."""
    queue = list(reads)

    def again() -> Report:
        passes = queue.pop(0) if len(queue) > 1 else queue[0]
        return report(*passes, rerun=again)

    return again()


# --- rows and the score line: pure ---------------------------------------------------

def test_rows_show_points_earned_and_keep_hints_off_passing_rows() -> None:
    shown = panel.rows(report(True, False))
    assert [(r.id, r.mark, r.points) for r in shown] == [("c0", "PASS", "1/1"),
                                                        ("c1", "FAIL", "0/2")]
    assert shown[0].hint == "" and shown[0].message == ""
    assert (shown[1].hint, shown[1].message) == ("see lesson 02", "c1 is wrong")
    assert not any(r.changing or r.newly_passed for r in shown)


def test_rows_mark_what_flipped_since_the_read_before() -> None:
    before, now = report(False, False, True), report(True, False, False)
    shown = panel.rows(now, before)
    assert [(r.changing, r.newly_passed) for r in shown] == [(True, True), (False, False),
                                                            (True, False)]
    assert panel.changed(None, now) == ()
    assert panel.changed(before, now) == ("c0", "c2")


def test_rows_take_still_changing_from_a_waited_report() -> None:
    waited = report(True, False, still_changing=("c1",))
    assert [r.changing for r in panel.rows(waited)] == [False, True]


def test_score_line() -> None:
    assert panel.score_line(report(True, False)) == (
        "score 1/3: NOT PASSED (1 of 2 criteria pass)")
    assert panel.score_line(report(True, True)) == "score 3/3: PASSED (2 of 2 criteria pass)"


def test_table_html_is_one_row_per_criterion_escaped_with_the_score() -> None:
    bad = dataclasses.replace(report(True, False), results=(
        result("a", True), result("b", False, message="<script>x</script>")))
    html = panel.table_html(bad)
    assert html.count('<tr class="rwk-row') == 2
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "score 1/2: NOT PASSED" in html
    assert "hint: see lesson 02" in html and html.count("hint:") == 1
    assert "text-align: left !important" in html


# --- the widget ------------------------------------------------------------------------

widgets = pytest.importorskip("ipywidgets")


def test_check_again_updates_the_table_in_place() -> None:
    shown = panel.Panel(scripted((False, False), (True, False)))
    table = shown.table
    assert "score 0/3" in table.value
    shown.again_button.click()
    assert shown.table is table and "score 1/3" in table.value
    assert "rwk-new" in table.value and "still changing" in table.value
    assert shown.last_check_seconds is not None
    assert "checked again in" in shown.status.value


def test_check_again_says_when_the_cluster_cannot_be_reached() -> None:
    def again() -> Report:
        raise ClusterUnreachable("cannot reach the cluster")

    shown = panel.Panel(report(False, rerun=again))
    shown.check_again()
    assert "could not check: cannot reach the cluster" in shown.status.value
    assert "score 0/1" in shown.table.value


def test_a_report_without_rerun_has_its_buttons_disabled() -> None:
    shown = panel.Panel(report(False))
    assert shown.again_button.disabled and shown.wait_button.disabled


def test_wait_until_it_passes_reads_until_every_criterion_passes() -> None:
    shown = panel.Panel(scripted((False, False), (False, False), (True, False), (True, True)),
                        interval=0.01, limit=30)
    shown.wait_button.click()
    assert shown.wait(10)
    assert shown.report.passed and "score 3/3: PASSED" in shown.table.value
    assert "passes, after" in shown.status.value
    assert shown.stop_button.layout.display == "none"
    assert not shown.again_button.disabled


def test_wait_gives_up_at_the_limit_and_stop_stops_it() -> None:
    shown = panel.Panel(scripted((False,)), interval=0.01, limit=0.05)
    shown.start_waiting()
    assert shown.wait(10) and "still not passing after" in shown.status.value
    stopped = panel.Panel(scripted((False,)), interval=5, limit=60)
    stopped.start_waiting()
    assert stopped.stop_button.layout.display == ""
    stopped.stop_button.click()
    assert stopped.wait(10) and "stopped after" in stopped.status.value


def test_the_bundle_carries_the_widget_and_the_report_for_other_front_ends() -> None:
    data = panel.bundle(panel.Panel(report(True, False)))
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "Score 1/3: NOT PASSED" in data["text/html"]
    assert data["text/plain"].endswith("(1 of 2 criteria pass)")


def test_register_needs_a_kernel() -> None:
    assert panel.register(shell=object()) is False


# --- progress() as a panel ------------------------------------------------------------

def scripted_progress(*reads: tuple[bool, ...]):
    """A Progress whose again() returns, read after read, one exercise per flag (the last
    read repeats)."""
    from checker.grading.progress import Progress

    queue = list(reads)

    def again() -> Progress:
        passes = queue.pop(0) if len(queue) > 1 else queue[0]
        reports = tuple(dataclasses.replace(report(ok), exercise=name)
                        for name, ok in zip(("namespaces", "configmaps", "secrets"), passes))
        return Progress(namespace="production", context="kind-rwk", reports=reports,
                        checked_at=WHEN, rerun=again)

    return again()


def test_progress_check_again_updates_the_table_in_place() -> None:
    shown = panel.ProgressPanel(scripted_progress((True, False, False), (True, True, False)))
    table = shown.table
    assert "1 of 3 exercises pass" in table.value
    shown.again_button.click()
    assert shown.table is table and "2 of 3 exercises pass" in table.value
    assert shown.progress.passed == 2
    assert "exercises pass" in shown.status.value and "checked again in" in shown.status.value


def test_progress_panel_says_when_the_cluster_cannot_be_reached() -> None:
    from checker.grading.progress import Progress

    def again() -> Progress:
        raise ClusterUnreachable("cannot reach the cluster")

    first = scripted_progress((True, False, False))
    shown = panel.ProgressPanel(dataclasses.replace(first, rerun=again))
    shown.check_again()
    assert "could not check: cannot reach the cluster" in shown.status.value
    assert "1 of 3 exercises pass" in shown.table.value and shown.progress is not None


def test_a_progress_without_rerun_cannot_check_again() -> None:
    shown = panel.ProgressPanel(dataclasses.replace(scripted_progress((True,)), rerun=None))
    assert shown.again_button.disabled and "cannot check again" in shown.status.value


def test_the_progress_bundle_keeps_its_html_and_text() -> None:
    data = panel.bundle(panel.ProgressPanel(scripted_progress((True, False))))
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "1 of 2 exercises pass" in data["text/html"]
    assert data["text/plain"].splitlines()[-1].startswith("1 of 2 exercises pass")


def test_register_shows_reports_and_progress_as_panels() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from checker.grading.progress import Progress

    class Kernel:
        pass

    shell = InteractiveShell.instance()
    shell.kernel = Kernel()
    try:
        assert panel.register(shell) is True
        formatter = shell.display_formatter.ipython_display_formatter
        assert formatter.lookup_by_type(Report) is panel.show
        assert formatter.lookup_by_type(Progress) is panel.show_progress
    finally:
        del shell.kernel
        InteractiveShell.clear_instance()
