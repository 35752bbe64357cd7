"""`rwk grade ROSTER --submissions DIR`: each student's handed-in notebooks re-run in a fresh
namespace with their own restricted credentials, then graded as live `rwk grade` grades.

The recipe, per class: find what each student handed in (`handed_in.find`, before any
cluster is touched); the grading cluster (`--context`/`--kubeconfig`, else a sandbox of its
own, `rwk-grade-<pid>`, on a free port with a throwaway kubeconfig, so a learner's `rwk up`
sandbox is never touched); the classroom's `create` for the roster (namespace, rights,
budget, a kubeconfig per student in a private temporary folder). Then per student, `jobs`
at once: run their notebooks in course order, each with papermill in a process of its own
(`_papermill_main.py`) and a fresh kernel of its own, the next one's process and kernel
started while the previous notebook runs (and told to go when it ends); then grade their
namespace from one snapshot with the same criteria as `rwk check`
(`grading.grade_snapshot`), reading again until every report passes, or two reads agree
while nothing in the namespace is on its way (`at_rest`), or `max(wait, SETTLE)` seconds
pass; and delete the namespace. At the end the classroom's `delete` (or the sandbox goes).

What a notebook runs with (`kernel_env`): PATH (the sandbox's kubectl, this Python's bin
folder with `rwk`, the system's), HOME and TMPDIR in a scratch folder of the student's,
KUBECONFIG the student's restricted kubeconfig, LANG; nothing else of the grader's
environment, so the instructor's kubeconfig is never in the kernel's environment. The
working folder is a copy of the student's folder. The grader's local user runs it: notebooks
are code, so this belongs on a throwaway machine (docs/instructors.md).

A cell that raises does not stop its notebook: every cell runs, as "Run All" with errors
allowed, and the state they leave is graded. A cell that runs past `cell_timeout` is
interrupted (the notebook goes on); a notebook that runs past `notebook_timeout` is killed
with its kernel (the rest of its cells do not run; the student's next notebook does). What
happened is the 0-point criterion `notebook-ran` of the exercise's report (naming the cell
and why), and `executed/<file-id>/run.json`; the executed copies are
`executed/<file-id>/NN-exercise.ipynb`, Secret values and the student's token masked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from ..errors import ClusterUnreachable, RwkError, UsageError
from ..gradebook._files import write_text
from ..gradebook.model import ClassGrades, Roster, Student, StudentGrades
from ..grading.masking import redact
from ..grading.report import Report
from ..grading.checks.common import rollout_problem
from ..grading.runner import settle
from ..grading.state import ClusterState
from ..kube.client import Cluster
from ..kube.snapshot import Snapshot
from ..kube.writer import Writer
from . import _papermill_main, handed_in, kubeconfigs
from .grading import ALL, grade_snapshot
from .parallel import for_each
from .provision import create
from .teardown import delete

Say = Callable[[str], None]

CELL_TIMEOUT = 300.0
"""Seconds a cell may run before it is interrupted (the solutions wait up to 180 s for a
rollout in one cell). $RWK_CELL_TIMEOUT overrides it."""
NOTEBOOK_TIMEOUT = 900.0
"""Seconds a notebook may run before it is killed with its kernel. $RWK_NOTEBOOK_TIMEOUT."""
KERNEL_TROUBLE = "kernel-trouble"
"""A run's outcome, for a moment, when its kernel did not answer before a cell ran
(`_papermill_main` exit 4): the notebook is run once more; a second time it is `not-run`."""
SETTLE = 90.0
"""Seconds grading reads again after a student's last notebook, until every report passes
(rollouts a notebook started without waiting for), when `--wait` asks for less. A student
whose namespace is at rest and whose verdicts do not change is graded sooner, so the full
time is spent only on a namespace still on its way. 90 s: an HPA re-applied last needs two
of metrics-server's 15 s scrapes and a 15 s HPA sync before it scales from metrics, and with
8 students at once 30 s was not enough (benchmarks/submissions.py)."""
INTERVAL = 3.0
TOKEN_HOURS = 6.0
JOBS = 8
"""Students at once. A notebook mostly waits for the cluster (rollouts, the HPA's metrics);
8 keeps two cores busy and the sandbox's simulated nodes within their CPU (8 students'
capstones request 7.6 of the 12 cores of its 3 nodes). benchmarks/submissions.py measures."""
SCRATCH = "rwk-grade-"


@dataclass(frozen=True)
class Timeouts:
    cell: float = CELL_TIMEOUT
    notebook: float = NOTEBOOK_TIMEOUT

    @classmethod
    def from_environment(cls, cell: float | None = None,
                         notebook: float | None = None) -> Timeouts:
        """The given figures, else $RWK_CELL_TIMEOUT / $RWK_NOTEBOOK_TIMEOUT, else defaults."""
        def pick(given: float | None, variable: str, default: float) -> float:
            if given is not None:
                value = given
            else:
                text = os.environ.get(variable, "").strip()
                if not text:
                    return default
                try:
                    value = float(text)
                except ValueError:
                    raise UsageError(f"${variable}={text!r}: not a number of seconds") from None
            if not value > 0 or value == float("inf"):
                raise UsageError(f"{variable.lower()[4:]}: must be more than 0 seconds, "
                                 f"got {value:g}")
            return value
        return cls(pick(cell, "RWK_CELL_TIMEOUT", CELL_TIMEOUT),
                   pick(notebook, "RWK_NOTEBOOK_TIMEOUT", NOTEBOOK_TIMEOUT))


@dataclass(frozen=True)
class _Grader:
    """Everything a student's run needs, shared by all students of one class."""

    cluster: Cluster
    writer: Writer
    """The grader's own credentials on the grading cluster: to delete each namespace."""
    out: Path
    scratch: Path
    kubeconfigs: Path
    bin_dir: Path
    names: tuple[str, ...]
    timeouts: Timeouts
    settle: float
    say: Say


def grade_submissions(roster: Roster, submissions: str | os.PathLike,
                      exercises: Iterable[str] = ALL, *, out: str | os.PathLike = "grades",
                      wait: float = 0, context: str | None = None,
                      kubeconfig: str | os.PathLike | None = None, jobs: int = JOBS,
                      cell_timeout: float | None = None, notebook_timeout: float | None = None,
                      settle: float = SETTLE, say: Say = print) -> ClassGrades:
    """Re-run and grade every student's handed-in notebooks; write `executed/` into `out`.

    UsageError (exit 2) for a missing submissions folder or namespaces that already exist on
    a given cluster; ClusterUnreachable (exit 3) when the grading cluster cannot be used.
    """
    root = Path(submissions)
    if not root.is_dir():
        raise UsageError(f"--submissions {root}: no such folder; give the folder that holds "
                         "a folder per student (their id or namespace)")
    if wait < 0:
        raise UsageError(f"--wait must be 0 or more seconds, got {wait:g}")
    names = tuple(exercises)
    timeouts = Timeouts.from_environment(cell_timeout, notebook_timeout)
    _need_papermill()
    handed = {s.student: handed_in.find(root, s, names) for s in roster.students}
    for student in roster.students:
        for line in handed[student.student].ignored:
            say(f"{student.namespace}: not graded: {line}")
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=SCRATCH)))
        os.chmod(scratch, 0o700)
        where = stack.enter_context(_grading_cluster(context, kubeconfig, scratch, say))
        cluster = Cluster(context=where.context, kubeconfig=where.kubeconfig)
        if not where.own:
            _refuse_existing(cluster, where.kubeconfig, roster)
        say(f"grading cluster: context {cluster.context}; provisioning "
            f"{len(roster.students)} namespace(s)")
        create(roster, scratch / "kubeconfigs", hours=TOKEN_HOURS, context=where.context,
               kubeconfig=where.kubeconfig, say=lambda line: None)
        if not where.own:
            stack.callback(lambda: delete(roster, yes=True, context=where.context,
                                          kubeconfig=where.kubeconfig, say=lambda line: None))
        writer = Writer(where.context, where.kubeconfig)
        grader = _Grader(cluster, writer, Path(out), scratch, scratch / "kubeconfigs",
                         _bin_dir(scratch), names, timeouts, max(wait, settle), say)
        graded = for_each(roster.students,
                          lambda student: _grade_one(grader, student, handed[student.student]),
                          jobs)
    return ClassGrades(roster=roster, context=cluster.context, exercises=names,
                       students=tuple(graded))


def _need_papermill() -> None:
    import importlib.util

    missing = [name for name in ("papermill", "ipykernel")
               if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"--submissions runs notebooks with papermill and an IPython kernel; "
                         f"{' and '.join(missing)} not installed here: "
                         f"`{sys.executable} -m pip install papermill ipykernel`")


@dataclass(frozen=True)
class _Where:
    context: str | None
    kubeconfig: str | None
    own: bool
    """A sandbox started for this grading (and stopped after it)."""


@contextlib.contextmanager
def _grading_cluster(context: str | None, kubeconfig: str | os.PathLike | None,
                     scratch: Path, say: Say) -> Iterator[_Where]:
    """The cluster given, or a sandbox of this grading's own, stopped and removed after."""
    if context or kubeconfig:
        yield _Where(context, str(kubeconfig) if kubeconfig else None, False)
        return
    from ..clusters.sandbox import GRADING_FLAGS, Sandbox, merged

    box = Sandbox(name=f"rwk-grade-{os.getpid()}", port=0,
                  kubeconfig=scratch / "grader.kubeconfig")
    box.flags = merged(box.flags, GRADING_FLAGS)
    say(f"starting sandbox {box.name!r} for grading (a free port, its own kubeconfig, HPAs "
        "synced every 5 s; a course sandbox of `rwk up` is left alone)")
    try:
        box.up(lambda line: None)
    except RwkError as error:
        with contextlib.suppress(Exception):
            box.down(lambda line: None)
        raise ClusterUnreachable(f"could not start a sandbox to grade on: {error}") from None
    try:
        yield _Where(box.context, str(box.kubeconfig), True)
    finally:
        box.down(lambda line: None)
        say(f"sandbox {box.name!r} stopped and removed")


def _refuse_existing(cluster: Cluster, kubeconfig: str | None, roster: Roster) -> None:
    """A given cluster must not hold the roster's namespaces: they are re-made fresh there,
    and a live class's work is never deleted for it."""
    names = {ns["metadata"]["name"] for ns in cluster.list("namespace")}
    taken = [s.namespace for s in roster.students if s.namespace in names]
    if taken:
        shown = ", ".join(taken[:5]) + (", ..." if len(taken) > 5 else "")
        raise UsageError(
            f"{len(taken)} of the roster's namespaces already exist on context "
            f"{cluster.context}: {shown}. --submissions re-runs each student in a fresh "
            "namespace of that name; grade on a cluster without them (leave out --context "
            "and --kubeconfig: a sandbox of its own), or remove them first "
            "(`rwk classroom delete ROSTER`).")


def _bin_dir(scratch: Path) -> Path:
    """A folder with the sandbox's kubectl, first on the notebooks' PATH."""
    from ..clusters.binaries import cached_path
    from ..clusters.versions import load

    folder = scratch / "bin"
    folder.mkdir()
    kubectl = cached_path("kubectl", load().kubernetes)
    if kubectl.is_file():
        (folder / "kubectl").symlink_to(kubectl)
    return folder


def kernel_env(kubeconfig: Path, bin_dir: Path, home: Path) -> dict[str, str]:
    """The whole environment a student's notebook runs in: nothing of the grader's but
    LANG, so no credential of the instructor's reaches the kernel."""
    tmp = home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent),
                            "/usr/local/bin", "/usr/bin", "/bin"])
    return {"PATH": path, "HOME": str(home), "TMPDIR": str(tmp),
            "KUBECONFIG": str(kubeconfig), "LANG": os.environ.get("LANG", "C.UTF-8"),
            "PYTHONNOUSERSITE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1", "NO_COLOR": "1"}


def _grade_one(grader: _Grader, student: Student, handed: handed_in.Handed) -> StudentGrades:
    started = time.monotonic()
    config = kubeconfigs.path_of(grader.kubeconfigs, student)
    runs: dict[str, handed_in.NotebookRun] = {}
    problems = dict(handed.problems)
    executed: dict[str, dict] = {}
    if not config.is_file():
        problems = {e: "the grader could not make this student's namespace on the grading "
                       "cluster; the notebooks were not run" for e in grader.names}
    elif handed.notebooks:
        home = grader.scratch / "students" / student.file_id
        work = home / "work"
        shutil.copytree(handed.folder, work, symlinks=True)
        env = kernel_env(config, grader.bin_dir, home)
        outputs = [home / "executed" / path.name for _, path in handed.notebooks]
        ready: list[subprocess.Popen] = []
        try:
            for index, (exercise, path) in enumerate(handed.notebooks):
                child = ready.pop() if ready else _ready(grader, student, work / path.name,
                                                         outputs[index], env, work)
                if index + 1 < len(handed.notebooks):   # the next one gets ready meanwhile
                    following = handed.notebooks[index + 1][1]
                    ready.append(_ready(grader, student, work / following.name,
                                        outputs[index + 1], env, work))
                run, document = _run_notebook(grader, exercise, child, outputs[index])
                if run.outcome == KERNEL_TROUBLE:   # the machine's trouble: once more
                    grader.say(f"{student.namespace}: {run.file}: {run.note}; running it "
                               "again with a new kernel")
                    run, document = _run_notebook(
                        grader, exercise, _ready(grader, student, work / path.name,
                                                 outputs[index], env, work), outputs[index])
                    if run.outcome == KERNEL_TROUBLE:
                        run = dataclasses.replace(run, outcome="not-run")
                runs[exercise] = run
                if document is not None:
                    executed[exercise] = document
                grader.say(f"{student.namespace}: {run.file}: {run.outcome} in "
                           f"{run.seconds:.0f} s" + (f", {len(run.failed)} failed cell(s)"
                                                     if run.failed else ""))
        finally:
            for child in ready:
                _kill(child)
    grades, secrets = _grade_state(grader, student)
    secrets += [token for token in [kubeconfigs.token_of(kubeconfigs.read(config))] if token]
    reports = tuple(_with_notebook(report, runs.get(report.exercise),
                                   problems.get(report.exercise), secrets)
                    for report in grades.reports)
    _write_executed(grader.out, student, handed, runs, executed, secrets)
    with contextlib.suppress(RwkError):
        grader.writer.delete("v1", "Namespace", student.namespace)
    graded = dataclasses.replace(grades, reports=reports)
    grader.say(f"{student.namespace}: graded {graded.score}/{graded.max_score} in "
               f"{time.monotonic() - started:.0f} s")
    return graded


def _ready(grader: _Grader, student: Student, source: Path, output: Path,
           env: dict[str, str], work: Path) -> subprocess.Popen:
    """The papermill process of one notebook, in a process group of its own, getting ready
    (papermill imported, the notebook's own fresh kernel started) until `_run_notebook`
    tells it to run: so the previous notebook's waits hide that cost."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).with_name("_papermill_main.py")),
               str(source), str(output), student.namespace,
               f"{grader.timeouts.cell:g}", str(work), "--ready"]
    sockets = grader.scratch / "sockets"   # short, and removed with the scratch folder
    sockets.mkdir(exist_ok=True)
    env = {**env, _papermill_main.SOCKETS_IN: str(sockets)}
    return subprocess.Popen(command, env=env, cwd=work, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _kill(child: subprocess.Popen) -> None:
    """A ready papermill process never told to run: the end of its input tells it to shut
    its kernel down and exit; killed after 10 s."""
    try:
        child.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        _killed(child)
    else:
        _ended(child)


STDERR_WAIT = 10.0
"""Seconds to read a killed papermill's stderr to its end before giving up on it."""


def _killed(child: subprocess.Popen) -> str:
    """Kill `child` with its process group and the kernels it started; return what it wrote
    on stderr, read for at most STDERR_WAIT seconds. jupyter_client starts each kernel in a
    session of its own, which the group does not reach; a kernel left alive keeps the stderr
    pipe open, and reading it to its end would then never return (a whole batch hung so)."""
    _ended(child)
    try:
        return child.communicate(timeout=STDERR_WAIT)[1] or ""
    except subprocess.TimeoutExpired:
        child.wait()
        if child.stderr:
            child.stderr.close()
        return ""


def _ended(child: subprocess.Popen) -> None:
    """Kill what is left of a papermill process: its process group and the kernels it
    started, each in a session of its own. A no-op for a run that ended cleanly."""
    _kill_kernels_of(child.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)


def _kill_kernels_of(pid: int) -> None:
    """Kill every kernel (with its session) that papermill process `pid` started: jupyter
    sets JPY_PARENT_PID in a kernel's environment. A kernel whose environment cannot be read
    stays (it exits by itself once it sees its parent gone)."""
    parent = str(pid)
    for process in psutil.process_iter():
        try:
            if process.environ().get("JPY_PARENT_PID") == parent:
                os.killpg(process.pid, signal.SIGKILL)
        except (psutil.Error, OSError):
            continue


def _run_notebook(grader: _Grader, exercise: str, child: subprocess.Popen, output: Path
                  ) -> tuple[handed_in.NotebookRun, dict | None]:
    """Tell a ready papermill process to run its notebook; killed, kernel and all, at the
    notebook timeout, counted from the go."""
    started = time.monotonic()
    killed = False
    try:
        _, stderr = child.communicate(input="go\n", timeout=grader.timeouts.notebook)
    except subprocess.TimeoutExpired:
        killed = True
        stderr = _killed(child)
    finally:
        if not killed:   # a kernel left behind, if any; also when the grader is interrupted
            _ended(child)
    seconds = time.monotonic() - started
    document = _read_json(output)
    note = ""
    if child.returncode in (2, 4) and not killed:
        note = next((line for line in reversed(stderr.splitlines())
                     if line.startswith("papermill could not")), "papermill failed")
    run = handed_in.summarize(exercise, document, seconds=seconds, killed=killed,
                              cell_timeout=grader.timeouts.cell,
                              notebook_timeout=grader.timeouts.notebook, note=note)
    if child.returncode == 4 and not killed:
        run = dataclasses.replace(run, outcome=KERNEL_TROUBLE)
    if killed and not note:
        run = dataclasses.replace(run, note=f"killed at its {grader.timeouts.notebook:g} s "
                                  "timeout")
    return run, document


def _read_json(path: Path) -> dict | None:
    """papermill's output; None when it wrote none, or was killed in the middle of a write."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _grade_state(grader: _Grader, student: Student) -> tuple[StudentGrades, list[str]]:
    """The student's reports, read again until all pass or the settle time is up; and the
    Secret values of their namespace, to mask."""
    def read() -> tuple[Snapshot, StudentGrades]:
        snapshot = Snapshot(grader.cluster)
        return snapshot, grade_snapshot(snapshot, [student], grader.names, jobs=1)[0]

    def verdicts(grades: StudentGrades) -> list:
        return [(r.exercise, [(c.id, c.passed) for c in r.results]) for r in grades.reports]

    def settled(latest: tuple[Snapshot, StudentGrades],
                previous: tuple[Snapshot, StudentGrades]) -> bool:
        # Two reads agree and nothing is on its way: later reads would agree too.
        return (verdicts(latest[1]) == verdicts(previous[1])
                and at_rest(latest[0], student.namespace))

    _, (snapshot, grades) = settle(read, grader.settle, INTERVAL, at_rest=settled,
                                   passed=lambda latest: all(r.passed for r in latest[1].reports))
    try:
        secrets = list(ClusterState(snapshot, student.namespace).secret_values())
    except RwkError:
        secrets = []
    return grades, secrets


def at_rest(snapshot: Snapshot, namespace: str) -> bool:
    """Nothing in the namespace is on its way to another state: every Deployment and
    StatefulSet has caught up with its spec (generation observed, every replica updated,
    ready and available), no pod is pending or being deleted, every claim is bound, and
    every HorizontalPodAutoscaler is scaling from its metrics. False when any of it cannot
    be read."""
    try:
        workloads = [*snapshot.list("deployment", namespace),
                     *snapshot.list("statefulset", namespace)]
        pods = snapshot.list("pod", namespace)
        claims = snapshot.list("persistentvolumeclaim", namespace)
        scalers = snapshot.list("horizontalpodautoscaler", namespace)
    except RwkError:
        return False
    if any(rollout_problem(workload) for workload in workloads):
        return False
    if any(pod["metadata"].get("deletionTimestamp")
           or (pod.get("status") or {}).get("phase") == "Pending" for pod in pods):
        return False
    if any((claim.get("status") or {}).get("phase") != "Bound" for claim in claims):
        return False
    return all(_scaling_active(scaler) for scaler in scalers)


def _scaling_active(scaler: dict) -> bool:
    """The HPA computed its replicas from its metrics at its last sync (condition
    ScalingActive True). A failed read of the metrics leaves currentMetrics holding empty
    entries and the condition False, so the list alone does not tell."""
    conditions = (scaler.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "ScalingActive" and c.get("status") == "True"
               for c in conditions)


def _with_notebook(report: Report, run: handed_in.NotebookRun | None, problem: str | None,
                   secrets: list[str]) -> Report:
    result = handed_in.masked(handed_in.criterion(report.exercise, run, problem), secrets)
    return dataclasses.replace(report, results=(*report.results, result))


def _write_executed(out: Path, student: Student, handed: handed_in.Handed,
                    runs: dict[str, handed_in.NotebookRun], executed: dict[str, dict],
                    secrets: list[str]) -> None:
    folder = out / "executed" / student.file_id
    for exercise, document in executed.items():
        write_text(folder / handed_in.NOTEBOOKS[exercise],
                   json.dumps(handed_in.mask(document, secrets), indent=1,
                              ensure_ascii=False) + "\n")
    summary = {"student": student.student, "namespace": student.namespace,
               "folder": handed.folder.name if handed.folder else None,
               "notebooks": [run.to_dict() for run in runs.values()],
               "not_run": dict(sorted(handed.problems.items())),
               "ignored": list(handed.ignored)}
    write_text(folder / "run.json",
               redact(json.dumps(summary, indent=2, ensure_ascii=False), secrets) + "\n")
