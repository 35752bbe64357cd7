"""A course that lasts weeks (issue 14), on a real sandbox of this module's own: work made from
reference solutions survives `rwk stop` and `rwk up`, and a kill of every process (as a
reboot leaves it), each exercise graded the same before and after; `rwk progress` gives
`rwk check`'s verdicts; `rwk down` deletes nothing when it cannot ask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from checker.clusters.sandbox import Sandbox, _alive
from checker.grading.exercises import EXERCISES
from checker.grading.progress import progress

from ..conftest import sandbox_name
from ..sandboxes import fresh_sandbox
from .exercise_helpers import apply_docs, create_secret, graded, reference
from .rollout_helpers import fast

pytestmark = [pytest.mark.cluster, pytest.mark.cost(31)]

WORK = ("namespaces", "configmaps", "secrets", "resources", "probes", "storage", "disruptions")
"""The exercises solved, each in a namespace of its own (`ss-<exercise>`)."""


def _say(message: str) -> None:
    print(f"[stop-start] {message}", flush=True)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory):
    """A sandbox of this module's own: these tests stop and kill it."""
    kubeconfig = tmp_path_factory.mktemp("stop-start") / "config"
    with fresh_sandbox(f"{sandbox_name()}-ss", kubeconfig) as sandbox:
        yield sandbox


def verdicts(box: Sandbox) -> dict[tuple[str, str, str], bool]:
    """Every criterion of every exercise in each work namespace: passed or not."""
    found = {}
    for exercise in WORK:
        namespace = f"ss-{exercise}"
        done = progress(namespace, context=box.context, kubeconfig=str(box.kubeconfig))
        found |= {(namespace, report.exercise, result.id): result.passed
                  for report in done.reports for result in report.results}
    return found


@pytest.fixture(scope="module")
def work(box: Sandbox) -> dict[tuple[str, str, str], bool]:
    """Each exercise of WORK solved in its namespace, settled; the verdicts then."""
    kubectl = box.kubectl()
    for exercise in WORK:
        namespace = f"ss-{exercise}"
        assert kubectl("create", "namespace", namespace).ok
        if exercise in ("secrets", "storage"):
            create_secret(kubectl, namespace)
        apply_docs(kubectl, fast(reference(exercise, namespace)))
    deadline = time.monotonic() + 120
    while True:
        found = verdicts(box)
        own = {key: ok for key, ok in found.items() if key[0] == f"ss-{key[1]}"}
        if all(own.values()):
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"the reference solutions did not settle: "
                        f"{sorted(k for k, ok in own.items() if not ok)}")
        time.sleep(1)


def _differences(before: dict, after: dict) -> list[str]:
    return [f"{key}: {before.get(key)} -> {after.get(key)}"
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]


def _regraded(box: Sandbox, before: dict, settle: float = 20) -> dict:
    """The verdicts after a restart; pods the simulated kubelet brings back may take a moment,
    so read again for up to `settle` seconds until they equal `before`."""
    started = time.monotonic()
    reads = 0
    while True:
        after = verdicts(box)
        reads += 1
        if after == before or time.monotonic() > started + settle:
            _say(f"graded {reads} time(s) in {time.monotonic() - started:.1f} s after up: "
                 f"{'the same' if after == before else 'different'}")
            return after
        time.sleep(1)


def rwk(*args: str, box: Sandbox) -> subprocess.CompletedProcess:
    env = {**os.environ, "RWK_SANDBOX_NAME": box.name, "KUBECONFIG": str(box.kubeconfig)}
    return subprocess.run([sys.executable, "-m", "checker.cli", *args], capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)


def test_progress_gives_rwk_checks_verdicts(box, work):
    for exercise in ("configmaps", "storage"):
        namespace = f"ss-{exercise}"
        done = progress(namespace, context=box.context, kubeconfig=str(box.kubeconfig))
        for report in done.reports:
            alone = graded(box, report.exercise, namespace)
            assert [(r.id, r.passed, r.message) for r in report.results] == \
                [(r.id, r.passed, r.message) for r in alone.results], report.exercise
        assert done.first_failing is not None and done.first_failing.exercise == "namespaces"
        assert next(r for r in done.reports if r.exercise == exercise).passed


def test_rwk_progress_prints_the_table_with_n(box, work):
    done = rwk("progress", "-n", "ss-configmaps", "--context", box.context, box=box)
    assert done.returncode == 1, done.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in done.stdout.splitlines()[2:-1]}
    assert rows["configmaps"][1] == "yes" and rows["namespaces"][1] == "no"
    assert "lessons/01-namespaces.ipynb" in done.stdout.splitlines()[2]
    assert len(rows) == len(EXERCISES)


def test_down_deletes_nothing_when_it_cannot_ask(box, work):
    done = rwk("down", "--backend", "sandbox", box=box)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "namespace ss-configmaps:" in done.stderr and "rwk stop" in done.stderr
    assert "--yes" in done.stderr and "Traceback" not in done.stderr
    assert box.cluster_dir.is_dir() and box.kubectl().reachable()
    assert box.kubectl()("get", "namespace", "ss-configmaps").ok


def test_work_survives_stop_and_up_graded_the_same(box, work):
    pids = box.pids()
    done = rwk("stop", "--backend", "sandbox", box=box)
    assert done.returncode == 0, done.stderr
    assert not box.kubectl().reachable()
    assert not any(_alive(pid) for pid in pids.values())
    assert box.cluster_dir.is_dir()
    (line,) = box.work()
    assert "stopped sandbox" in line            # `down` would still ask

    box.up(_say)
    after = _regraded(box, work)
    assert not _differences(work, after), "\n".join(_differences(work, after))


def test_a_killed_sandbox_resumes_with_up(box, work):
    pids = box.pids()
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not box.kubectl().reachable()

    box.up(_say)
    assert set(box.pids().values()).isdisjoint(pids.values())   # started anew, not recreated
    after = _regraded(box, work)
    assert not _differences(work, after), "\n".join(_differences(work, after))
