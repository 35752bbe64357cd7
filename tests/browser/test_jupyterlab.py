"""What a learner sees, in a real browser: JupyterLab (started by the fixture, on the
sandbox) in headless chromium. An exercise notebook's check panel updates after a fix made
with kubectl and a click on Check again; a lesson's live view is caught redrawing in the page
while a rollout runs (a new pod not Ready yet), then leaves its timeline behind. Timings are
printed, never asserted."""

from __future__ import annotations

import subprocess
import time

import pytest

from checker.grading.progress import ALL

from .conftest import Lab, copy_notebook

pytestmark = [pytest.mark.cluster, pytest.mark.cost(70)]

RUN_TIMEOUT = 240_000
"""Milliseconds a notebook may take to reach what a test waits for."""
KERNEL_IDLE = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = widget && widget.sessionContext && widget.sessionContext.session
    && widget.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle';
}"""
SCORE = ".rwk-check-panel .rwk-score"


def kubectl(lab: Lab, *args: str) -> str:
    done = subprocess.run(["kubectl", *args], env=lab.env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done.stdout


def open_and_run_all(page, lab: Lab, relative: str) -> None:
    """Open the notebook, wait for its kernel, run every cell (as Run > Run All Cells)."""
    page.goto(lab.tree(relative))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=RUN_TIMEOUT)
    page.wait_for_function(KERNEL_IDLE, timeout=RUN_TIMEOUT)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def shut_down_kernel(page) -> None:
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")


def score(page) -> tuple[int, int]:
    text = page.inner_text(SCORE).split(":")[0]          # "score 1/5"
    earned, possible = text.removeprefix("score ").split("/")
    return int(earned), int(possible)


def test_check_again_shows_the_fix_in_the_panel(page, lab: Lab) -> None:
    namespace = "browser-ex-01"
    kubectl(lab, "delete", "namespace", namespace, "--ignore-not-found", "--wait=true")
    notebook = copy_notebook(lab, "exercises/01-namespaces.ipynb", namespace)
    open_and_run_all(page, lab, notebook)
    try:
        page.wait_for_selector(SCORE, timeout=RUN_TIMEOUT)
        before = score(page)
        assert before[0] < before[1], f"nothing is set up yet, yet the score is {before}"
        cell = page.locator(".rwk-check-panel td").first
        assert cell.evaluate("td => getComputedStyle(td).textAlign") in ("left", "start")

        kubectl(lab, "create", "namespace", namespace)
        kubectl(lab, "label", "namespace", namespace, "environment=production", "--overwrite")
        old_text = page.inner_text(SCORE)
        clicked = time.monotonic()
        page.click(".rwk-check-panel button:has-text('Check again')")
        page.wait_for_function(
            "([selector, old]) => document.querySelector(selector).innerText !== old",
            arg=[SCORE, old_text], polling="raf", timeout=60_000)
        took = time.monotonic() - clicked
        after = score(page)
        print(f"\n[browser] Check again: table updated {took * 1000:.0f} ms after the click "
              f"(score {before[0]}/{before[1]} -> {after[0]}/{after[1]})")
        assert after[0] > before[0], f"the fix did not raise the score: {before} -> {after}"
        assert "checked again in" in page.inner_text(".rwk-check-panel")

        page.click(".rwk-check-panel button:has-text('Wait until it passes')")
        page.wait_for_selector(".rwk-check-panel .rwk-progress", state="visible")
        page.click(".rwk-check-panel button:has-text('Stop')")
        page.wait_for_function(
            "() => /stopped after|passes, after/.test("
            "document.querySelector('.rwk-check-panel').innerText)", timeout=60_000)
    finally:
        shut_down_kernel(page)
        kubectl(lab, "delete", "namespace", namespace, "--ignore-not-found", "--wait=false")


WATCH_DRAWINGS = """() => {
  // Every drawing of a running live view that reaches the page: when, its clock, and whether
  // it shows a pod of the new ReplicaSet that is not Ready yet (a rollout caught midway).
  // Only the lesson's first view: the observer stops once a final drawing is in the page.
  window.rwkDrawings = [];
  const observer = new MutationObserver(() => note());
  const note = () => {
    if (document.querySelector(".rwk-live[data-view='rollout'][data-final='True']")) {
      observer.disconnect();
      return;
    }
    const view = document.querySelector(".rwk-live[data-view='rollout'][data-final='False']");
    if (!view) return;
    const clock = view.querySelector('.rwk-seconds').innerText;
    const last = window.rwkDrawings[window.rwkDrawings.length - 1];
    if (last && last.clock === clock) return;
    window.rwkDrawings.push({at: performance.now(), clock: clock, text: view.innerText,
                             newNotReady: view.querySelectorAll('tr.new td.no').length});
  };
  observer.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""
FINAL_ROLLOUT = ".rwk-live[data-view='rollout'][data-final='True']"


def test_a_lessons_live_view_redraws_while_the_rollout_runs(page, lab: Lab) -> None:
    namespace = "browser-lesson-08"
    notebook = copy_notebook(lab, "lessons/08-rolling-updates.ipynb", namespace)
    page.goto(lab.tree(notebook))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=RUN_TIMEOUT)
    page.evaluate(WATCH_DRAWINGS)
    page.wait_for_function(KERNEL_IDLE, timeout=RUN_TIMEOUT)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        final = page.locator(FINAL_ROLLOUT).first
        final.wait_for(timeout=RUN_TIMEOUT)
        # What the page showed before the first view's final drawing replaced it.
        drawings = page.evaluate("() => window.rwkDrawings")
        assert "timeline" in final.inner_text()
        assert len(drawings) >= 2, f"the running view was drawn {len(drawings)} time(s) in the page"
        assert len({d["text"] for d in drawings}) >= 2, "the running view never changed"
        midway = [d for d in drawings if d["newNotReady"]]
        assert midway, ("no drawing showed a pod of the new ReplicaSet not Ready yet: "
                        f"{[d['text'] for d in drawings]}")
        pairs = list(zip(drawings, drawings[1:]))
        gaps = sorted(b["at"] - a["at"] for a, b in pairs)
        long = [f"{a['clock']}->{b['clock']} s of the view in {b['at'] - a['at']:.0f} ms"
                for a, b in pairs if b["at"] - a["at"] > 1000]
        print(f"\n[browser] live rollout view: {len(drawings)} running drawings in the page, "
              f"{len(midway)} with a new pod not Ready; redraw interval median "
              f"{gaps[len(gaps) // 2]:.0f} ms, longest {gaps[-1]:.0f} ms"
              + (f"; gaps over 1 s: {', '.join(long)}" if long else ""))
    finally:
        shut_down_kernel(page)
        kubectl(lab, "delete", "namespace", namespace, "--ignore-not-found", "--wait=false")


PROGRESS = ".rwk-progress-panel"


def namespaces_score(page) -> int:
    """The namespaces exercise's points in the progress table (its row's score cell)."""
    row = page.locator(f"{PROGRESS} tr", has=page.locator("code", has_text="namespaces")).first
    return int(row.locator("td").nth(1).inner_text().split("/")[0])


def test_progress_panel_checks_every_exercise_again(page, lab: Lab) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    namespace = "browser-progress"
    kubectl(lab, "delete", "namespace", namespace, "--ignore-not-found", "--wait=true")
    notebook = new_notebook(cells=[
        new_code_cell(f'NAMESPACE = "{namespace}"'),
        new_code_cell("from checker import progress\n\nprogress(namespace=NAMESPACE)")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    nbformat.write(notebook, lab.root / "progress.ipynb")
    open_and_run_all(page, lab, "progress.ipynb")
    try:
        page.wait_for_selector(f"{PROGRESS} button:has-text('Check again')",
                               timeout=RUN_TIMEOUT)
        assert f"0 of {len(ALL)} exercises pass" in page.inner_text(PROGRESS)
        before = namespaces_score(page)

        kubectl(lab, "create", "namespace", namespace)
        kubectl(lab, "label", "namespace", namespace, "environment=production", "--overwrite")
        clicked = time.monotonic()
        page.click(f"{PROGRESS} button:has-text('Check again')")
        page.wait_for_function(
            "() => /checked again in/.test(document.querySelector("
            "'.rwk-progress-panel').innerText)", timeout=60_000)
        took = time.monotonic() - clicked
        after = namespaces_score(page)
        print(f"\n[browser] progress Check again: {took * 1000:.0f} ms "
              f"(namespaces {before} -> {after} points)")
        assert after > before, f"the label did not raise the namespaces score: {before}"
        assert "exercises pass" in page.inner_text(f"{PROGRESS} .rwk-panel-status")
    finally:
        shut_down_kernel(page)
        kubectl(lab, "delete", "namespace", namespace, "--ignore-not-found", "--wait=false")
