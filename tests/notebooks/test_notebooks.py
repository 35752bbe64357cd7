"""Every lesson, exercise and solution notebook runs top to bottom, and then a second time on
the state the first run left (DESIGN.md: notebooks are idempotent; STYLE 12: examples are
tests); after each pass of the solutions, `rwk check` passes for every exercise.

One test per notebook and pass, so pytest-xdist spreads them over its workers, each with its
own sandbox (tests/conftest.py). Each lesson and exercise runs in a namespace of its own; the
solutions build on one another, so they run in course order in one namespace, as one group.
papermill writes the parameterised copy (NAMESPACE injected after the `parameters` cell) and
nbval executes it, in a pytest session of its own inside the worker: nbval is the gate that
fails on a cell error.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import papermill
import pytest
from jupyter_client.manager import KernelManager

from checker.clusters.binaries import cached_path
from checker.clusters.sandbox import Sandbox
from checker.clusters.versions import load

from ..sandboxes import KUBECTL_ENV

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
PASSES = ("first", "second")
SOLUTIONS_NAMESPACE = "nb-solutions"
CELL_TIMEOUT = 480
"""Seconds a cell may run: above the longest wait a lesson bounds itself (lesson 07 on kind
waits up to 420 s for the HPA under load), so the lesson's own message shows when it fails."""
NOTEBOOK_TIMEOUT = 900
CONVERGE_WAIT = 120
"""Seconds `rwk check` may wait for the solutions' namespace to converge before it fails."""

COSTS = {"lessons/00-setup": 80, "lessons/02-configmaps": 27, "lessons/03-secrets": 22,
         "lessons/04-ingress": 30, "lessons/05-resources": 70, "lessons/06-probes": 65,
         "lessons/07-autoscaling": 165, "lessons/08-rolling-updates": 55, "lessons/09-storage": 40,
         "lessons/10-pitfalls": 110, "lessons/11-capstone": 65, "lessons/12-gateway-api": 30}
"""Seconds of one run, where it is well off the default (20; 10 for an unfilled exercise), as
a CI run of 2026-12-03 measured them (under load): longest groups are scheduled first, so a
long one underrated here starts late and ends the suite alone."""


@dataclass(frozen=True)
class NotebookRun:
    """One pass of one notebook."""
    notebook: Path
    """Relative to the repository, e.g. lessons/08-rolling-updates.ipynb."""
    namespace: str
    """Injected as the notebook's NAMESPACE parameter."""
    attempt: str
    """"first" or "second": the second runs on the state the first left."""
    group: str
    """Runs of one group go to one worker, in order."""

    @property
    def cost(self) -> float:
        default = 10 if self.notebook.parts[0] == "exercises" else 20
        return COSTS.get(str(self.notebook.with_suffix("")), default)

    def __str__(self) -> str:
        return f"{self.notebook}-{self.attempt}-run"


LOCKED_DOWN = ("13-security",)
"""Solutions that leave their namespace enforcing Pod Security `restricted`: each runs in a
namespace of its own, since the other solutions' next pass (pods of plain templates) would be
refused there, as a learner's would."""


def solution_namespace(notebook: Path) -> str:
    """Where a solution notebook runs and is checked: the solutions' one namespace, or, for
    one that locks its namespace down, a namespace of its own."""
    stem = Path(notebook).stem
    return f"{SOLUTIONS_NAMESPACE}-{stem[:2]}" if stem in LOCKED_DOWN else SOLUTIONS_NAMESPACE


@dataclass(frozen=True)
class ReferenceCheck:
    """`rwk check` of one exercise, in its solution's namespace, after a pass of them: every
    solution notebook (NN-name.ipynb) must make its exercise (name) pass."""
    exercise: str
    attempt: str
    group: str = "solutions"
    cost: float = 1
    namespace: str = SOLUTIONS_NAMESPACE

    def __str__(self) -> str:
        return f"rwk-check-{self.exercise}-after-{self.attempt}-run"


def _notebooks(folder: str) -> list[Path]:
    return sorted(path.relative_to(ROOT) for path in (ROOT / folder).glob("[0-9][0-9]-*.ipynb"))


def steps() -> list[NotebookRun | ReferenceCheck]:
    """Everything the suite runs, in order within each group."""
    found: list[NotebookRun | ReferenceCheck] = []
    for attempt in PASSES:
        found += [NotebookRun(path, solution_namespace(path), attempt, "solutions")
                  for path in _notebooks("solutions")]
        found += [ReferenceCheck(path.stem[3:], attempt, namespace=solution_namespace(path))
                  for path in _notebooks("solutions")]
    for folder, prefix in (("lessons", "nb-lesson"), ("exercises", "nb-exercise")):
        for path in _notebooks(folder):
            number = path.name[:2]
            found += [NotebookRun(path, f"{prefix}-{number}", attempt, f"{folder}/{number}")
                      for attempt in PASSES]
    return found


STEPS = steps()


@pytest.fixture(scope="session")
def env(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment the notebooks' kernels and shell cells run in.

    KUBECONFIG points at this worker's sandbox; RWK_SANDBOX_NAME makes `rwk up` and
    `rwk status` in 00-setup find that sandbox, not a learner's; kubectl is the sandbox's own
    build, whose version matches the server, ahead of any other kubectl on PATH, and runs
    with KUBECTL_ENV (tests/sandboxes.py).
    """
    return kernel_env(sandbox.kubeconfig, tmp_path_factory.mktemp("bin"),
                      RWK_SANDBOX_NAME=sandbox.name, RWK_SANDBOX_PORT="0")


def kernel_env(kubeconfig: Path, bin_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment for a notebook's kernel: KUBECONFIG, PATH with the
    Kubernetes release's own kubectl (linked into `bin_dir`) and this venv first,
    KUBECTL_ENV, and `extra`."""
    kubectl = cached_path("kubectl", load().kubernetes)
    if kubectl.is_file():
        (bin_dir / "kubectl").symlink_to(kubectl)
    path = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent),
                            os.environ.get("PATH", "")])
    return {**os.environ, "KUBECONFIG": str(kubeconfig), "PATH": path, **extra,
            **KUBECTL_ENV}


def prepare(run: NotebookRun, workdir: Path) -> Path:
    return parameterised(run.notebook, workdir, NAMESPACE=run.namespace)


def parameterised(notebook: Path, workdir: Path, **parameters: str) -> Path:
    """papermill's copy of `notebook` with `parameters` injected, in a folder that mirrors the
    notebook's own (its other files linked in), so relative paths in cells still resolve."""
    folder = workdir / notebook.parent
    folder.mkdir(parents=True, exist_ok=True)
    for sibling in (ROOT / notebook.parent).iterdir():
        if sibling.suffix != ".ipynb" and not (folder / sibling.name).exists():
            (folder / sibling.name).symlink_to(sibling)
    copy = folder / notebook.name
    papermill.execute_notebook(str(ROOT / notebook), str(copy), prepare_only=True,
                               parameters=parameters, progress_bar=False, log_output=False)
    return copy


class _InnerSession:
    """A plugin for the nbval session `run_nbval` starts in this process: it keeps what failed,
    and stops the session when the notebook overruns NOTEBOOK_TIMEOUT."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.session: pytest.Session | None = None
        self.notebooks: list[pytest.Collector] = []
        self.timed_out = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.notebooks = list({id(item.parent): item.parent for item in items}.values())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failures.append(f"{report.nodeid} ({report.when}):\n{report.longreprtext}")

    def stop(self) -> None:
        """From the watchdog thread: no cell starts after the running one, which is
        interrupted (it fails with its traceback; one that ignores the interrupt still ends at
        the cell timeout)."""
        self.timed_out = True
        if self.session is not None:
            self.session.shouldstop = f"the notebook ran past {NOTEBOOK_TIMEOUT} s"
        for notebook in self.notebooks:
            manager = getattr(getattr(notebook, "kernel", None), "km", None)
            process = getattr(getattr(manager, "provisioner", None), "process", None)
            if process is not None:
                process.send_signal(signal.SIGINT)


@dataclass(frozen=True)
class NbvalResult:
    exit_code: int
    failures: list[str]
    timed_out: bool


def _on_unix_sockets(folder: str) -> Callable[..., KernelManager]:
    """nbval's KernelManager, with the kernel on unix sockets in `folder` (ZeroMQ's ipc
    transport) instead of TCP ports, as `rwk grade` runs its kernels (see
    checker/classroom/_papermill_main.py): jupyter_client picks a TCP kernel's ports by binding
    and closing them, the kernel binds them again later, and in between another process of the
    suite can take one; the kernel then dies before it answers (jupyter/jupyter_client#154)."""
    return functools.partial(KernelManager, transport="ipc", ip=os.path.join(folder, "kernel"))


def run_nbval(notebook: Path, env: dict[str, str]) -> NbvalResult:
    """nbval on one notebook, in a pytest session of its own inside this process: each run
    then pays only for its kernel, not for a Python with pytest, nbformat and jupyter_client
    imported again (about 1.5 of the 2.6 CPU seconds an empty notebook cost in a child
    process; benchmarks/notebook_cpu.py). Its kernel inherits `env`, starts in the
    notebook's folder, and listens on unix sockets (`_on_unix_sockets`)."""
    inner = _InnerSession()
    watchdog = threading.Timer(NOTEBOOK_TIMEOUT, inner.stop)
    watchdog.daemon = True
    args = ["--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={CELL_TIMEOUT}",
            "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:faulthandler", "-q",
            "--rootdir", str(notebook.parent), str(notebook)]
    with (mock.patch.dict(os.environ, env, clear=True),   # the kernel inherits it
          tempfile.TemporaryDirectory(prefix="nbk-") as sockets,
          mock.patch("nbval.kernel.KernelManager", _on_unix_sockets(sockets))):
        watchdog.start()
        try:
            exit_code = pytest.main(args, plugins=[inner])
        finally:
            watchdog.cancel()
    return NbvalResult(int(exit_code), inner.failures, inner.timed_out)


def check_result(done: NbvalResult, what: str) -> None:
    """Fail, naming `what` ran and each failed cell, unless nbval passed in time."""
    overran = f" (stopped at {NOTEBOOK_TIMEOUT} s)" if done.timed_out else ""
    assert done.exit_code == 0 and not done.timed_out, (
        f"nbval failed on {what} (exit {done.exit_code}){overran}:\n" + "\n".join(done.failures))


def run_notebook(run: NotebookRun, env: dict[str, str], workdir: Path) -> None:
    check_result(run_nbval(prepare(run, workdir), env),
                 f"the {run.attempt} run of {run.notebook} in namespace {run.namespace}")


def check_reference(step: ReferenceCheck, env: dict[str, str]) -> None:
    rwk = shutil.which("rwk", path=env["PATH"]) or "rwk"
    # --wait, as a learner would after the last solution: the capstone's second pass rolls
    # api-server again, and the HPA's ScalingActive reads False until metrics-server has
    # figures for the new pods (up to a minute). A solution that never converges still fails.
    graded = subprocess.run([rwk, "check", step.exercise, "--namespace", step.namespace,
                             "--wait", str(CONVERGE_WAIT)],
                            cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=CONVERGE_WAIT + 60)
    assert graded.returncode == 0, (
        f"after the {step.attempt} run, the reference solution of {step.exercise!r} does not "
        f"pass:\n{graded.stdout}\n{graded.stderr}")


@pytest.mark.parametrize("step", [
    pytest.param(step, id=f"{step}@{step.group}", marks=pytest.mark.cost(step.cost))
    for step in STEPS])
def test_course(step: NotebookRun | ReferenceCheck, env: dict[str, str],
                tmp_path: Path) -> None:
    if isinstance(step, NotebookRun):
        run_notebook(step, env, tmp_path)
    else:
        check_reference(step, env)

