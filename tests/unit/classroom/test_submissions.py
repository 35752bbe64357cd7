"""The pure logic of `rwk grade --submissions` (checker/classroom/handed_in.py and the parts
of submissions.py that need no cluster): finding what a student handed in, reading what an
executed notebook says, the `notebook-ran` criterion, masking, the kernel's environment."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from checker.classroom import handed_in, submissions
from checker.classroom.grading import ALL
from checker.classroom.submissions import Timeouts, kernel_env
from checker.errors import UsageError
from checker.gradebook.model import Student

ROOT = Path(__file__).resolve().parents[3]
ANN = Student(student="ann.b@uni.edu", namespace="student-ann-b-uni-edu")


def _notebook(*cells: dict) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}


def _cell(source: str, *outputs: dict, status: str = "completed", count: int | None = 1,
          duration: float = 0.5, tags: list[str] | None = None) -> dict:
    return {"cell_type": "code", "source": source, "execution_count": count,
            "outputs": list(outputs),
            "metadata": {"tags": tags or [],
                         "papermill": {"status": status, "duration": duration}}}


def _error(name: str, value: str) -> dict:
    return {"output_type": "error", "ename": name, "evalue": value,
            "traceback": [f"\x1b[31m{name}\x1b[0m: {value}"]}


def _stderr(text: str) -> dict:
    return {"output_type": "stream", "name": "stderr", "text": text}


def test_the_notebook_names_are_those_of_exercises_in_the_repository():
    assert set(handed_in.NOTEBOOKS) == set(ALL)
    assert sorted(handed_in.NOTEBOOKS.values()) == sorted(
        p.name for p in (ROOT / "exercises").glob("[0-9][0-9]-*.ipynb"))


def test_find_by_id_then_namespace_in_course_order(tmp_path):
    folder = tmp_path / ANN.namespace
    folder.mkdir()
    for name in ("11-capstone.ipynb", "04-ingress.ipynb", "05-resources.ipynb"):
        (folder / name).write_text(json.dumps(_notebook()))
    found = handed_in.find(tmp_path, ANN, ALL)
    assert found.folder == folder
    # file order, not ALL's order (resources comes before ingress there)
    assert [e for e, _ in found.notebooks] == ["ingress", "resources", "capstone"]
    assert found.problems["secrets"] == "no notebook 03-secrets.ipynb was handed in"
    (tmp_path / ANN.student).mkdir()
    assert handed_in.find(tmp_path, ANN, ALL).folder == tmp_path / ANN.student


def test_a_missing_folder_is_not_started(tmp_path):
    found = handed_in.find(tmp_path, ANN, ("configmaps",))
    assert found.folder is None and found.notebooks == ()
    assert "not started" in found.problems["configmaps"]


def test_strays_are_reported_and_a_near_name_is_pointed_at(tmp_path):
    folder = tmp_path / ANN.student
    (folder / "sub").mkdir(parents=True)
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "02-configmaps-checkpoint.ipynb").write_text("{}")
    (folder / "02-configmap.ipynb").write_text(json.dumps(_notebook()))
    (folder / "sub" / "03-secrets.ipynb").write_text(json.dumps(_notebook()))
    (folder / "notes.txt").write_text("x")
    (folder / "01-namespaces.ipynb").write_text("not json")
    found = handed_in.find(tmp_path, ANN, ("namespaces", "configmaps", "secrets"))
    assert found.notebooks == ()
    assert found.problems["namespaces"].startswith("01-namespaces.ipynb is not a notebook")
    assert "found 02-configmap.ipynb, which names no exercise" in found.problems["configmaps"]
    assert "sub/03-secrets.ipynb" in found.problems["secrets"]
    assert sorted(line.split(":")[0] for line in found.ignored) == [
        "02-configmap.ipynb", "notes.txt", "sub/03-secrets.ipynb"]
    assert any("in a subfolder" in line for line in found.ignored)


@pytest.mark.parametrize(("text", "fragment"), [
    ("{", "not notebook JSON"), ("[1, 2]", "not a Jupyter notebook"),
    ('{"cells": [], "nbformat": 3}', "not a Jupyter notebook"),
])
def test_not_a_notebook(tmp_path, text, fragment):
    path = tmp_path / "x.ipynb"
    path.write_text(text)
    assert fragment in handed_in.not_a_notebook(path)


def test_a_notebook_papermill_runs_is_a_notebook_though_it_breaks_the_schema(tmp_path):
    # Cell ids under nbformat_minor 4, as VS Code and jupytext write them: nbformat.validate
    # refuses it unless relax_add_props, papermill runs it, so it is graded.
    document = {**_notebook(), "nbformat_minor": 4,
                "cells": [{**_cell("print(1)"), "id": "c1"}]}
    path = tmp_path / "02-configmaps.ipynb"
    path.write_text(json.dumps(document))
    assert handed_in.not_a_notebook(path) is None


def test_keys_an_editor_added_do_not_make_it_not_a_notebook(tmp_path):
    document = {**_notebook(), "metadata": {"vscode": {"interpreter": {"hash": "x"}}},
                "cells": [{**_cell("print(1)"), "jupytext": {"lines": 1}}]}
    path = tmp_path / "02-configmaps.ipynb"
    path.write_text(json.dumps(document))
    assert handed_in.not_a_notebook(path) is None


@pytest.mark.parametrize(("change", "fragment"), [
    ({"source": 5}, "breaks the notebook format"),
    ({"cell_type": "spreadsheet"}, "breaks the notebook format"),
])
def test_nbformat_refuses_a_cell_no_kernel_can_run(tmp_path, change, fragment):
    document = {**_notebook(), "cells": [{**_cell("print(1)"), **change}]}
    path = tmp_path / "02-configmaps.ipynb"
    path.write_text(json.dumps(document))
    assert fragment in (handed_in.not_a_notebook(path) or "")


def test_a_clean_run_passes_with_zero_points():
    executed = _notebook(_cell("NAMESPACE = 'x'", tags=["injected-parameters"]),
                         _cell("print(1)"), _cell("print(2)"))
    run = handed_in.summarize("configmaps", executed, seconds=12.4, killed=False,
                              cell_timeout=300, notebook_timeout=900)
    assert (run.outcome, run.cells, run.failed) == ("ran", 2, ())
    result = handed_in.criterion("configmaps", run)
    assert result.passed and result.points == 0 and result.id == "notebook-ran"
    assert result.message == "02-configmaps.ipynb ran 2 code cell(s) in 12 s"


def test_the_first_failed_cell_is_named_with_what_it_printed_and_the_others_counted():
    executed = _notebook(
        _cell("NAMESPACE = 'x'", tags=["injected-parameters"]),
        _cell("%%bash\n# apply\nkubectl delete namespace other", _stderr(
            'Error from server (Forbidden): namespaces "oth'), _stderr('er" is forbidden\n'),
            _stderr("\n"),
            _error("CalledProcessError", "Command 'b'kubectl delete'' returned non-zero"),
            count=2),
        _cell("print(1)"), _cell("1/0", _error("ZeroDivisionError", "division by zero"),
                                 count=4))
    run = handed_in.summarize("namespaces", executed, seconds=3, killed=False,
                              cell_timeout=300, notebook_timeout=900)
    assert run.outcome == "failed" and [c.number for c in run.failed] == [1, 3]
    message = handed_in.criterion("namespaces", run).message
    assert message.startswith("01-namespaces.ipynb: code cell 1 (In [2]), `kubectl delete "
                              "namespace other`, failed: CalledProcessError: Command")
    assert 'it printed: Error from server (Forbidden): namespaces "other" is forbidden' \
        in message
    assert "code cell(s) 3 failed too" in message
    assert "\x1b" not in message


def test_an_interrupted_cell_and_a_killed_notebook():
    executed = _notebook(
        _cell("while True: pass", _error("KeyboardInterrupt", ""), duration=40.2),
        _cell("sleep_forever()", status="running", count=None), _cell("never()", count=None,
                                                                       status="pending"))
    run = handed_in.summarize("secrets", executed, seconds=150, killed=True, cell_timeout=40,
                              notebook_timeout=150)
    assert run.outcome == "timeout" and run.cells == 1
    first, second = run.failed
    assert first.error.startswith("ran past its 40 s timeout and was interrupted")
    assert second.error.startswith("still running when the notebook was stopped at its "
                                   "150 s timeout")
    message = handed_in.criterion("secrets", run).message
    assert "ran past its 40 s timeout" in message and "code cell(s) 2 failed too" in message
    assert "failed: ran past" not in message


def test_a_killed_notebook_without_a_saved_copy_and_one_papermill_could_not_run():
    run = handed_in.summarize("storage", None, seconds=900, killed=True, cell_timeout=300,
                              notebook_timeout=900)
    assert run.outcome == "timeout"
    assert "stopped at its 900 s timeout" in handed_in.criterion("storage", run).message
    run = handed_in.summarize("storage", None, seconds=1, killed=False, cell_timeout=300,
                              notebook_timeout=900, note="papermill could not run: NoSuchKernel")
    assert run.outcome == "not-run"
    assert "NoSuchKernel" in handed_in.criterion("storage", run).message


def test_a_clean_sys_exit_is_no_failure():
    executed = _notebook(_cell("import sys; sys.exit(0)", _error("SystemExit", "0")))
    run = handed_in.summarize("probes", executed, seconds=1, killed=False, cell_timeout=300,
                              notebook_timeout=900)
    assert run.outcome == "ran"


def test_masking_a_notebook_and_a_result():
    secret = "s3cr3t-Value"
    executed = _notebook(_cell(f"password = '{secret}'\nprint(password)",
                               {"output_type": "stream", "name": "stdout",
                                "text": [f"{secret}\n", "done\n"]},
                               {"output_type": "execute_result", "execution_count": 1,
                                "metadata": {},
                                "data": {"text/plain": ["'czNjcjN0LVZhbHVl'"]}}))
    masked = json.dumps(handed_in.mask(executed, [secret]))
    assert secret not in masked and "czNjcjN0LVZhbHVl" not in masked and "***" in masked
    assert handed_in.mask(executed, [])["cells"] == executed["cells"]
    result = handed_in.criterion("secrets", handed_in.NotebookRun(
        "secrets", "03-secrets.ipynb", "failed", 1, 1, (handed_in.FailedCell(
            1, 1, f"x = '{secret}'", f"NameError: {secret}"),)))
    assert secret not in handed_in.masked(result, [secret]).message


def test_the_kernel_environment_holds_nothing_of_the_graders(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/home/instructor/.kube/admin")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nope")
    env = kernel_env(tmp_path / "s.kubeconfig", tmp_path / "bin", tmp_path / "home")
    assert env["KUBECONFIG"] == str(tmp_path / "s.kubeconfig")
    assert env["HOME"] == str(tmp_path / "home") and (tmp_path / "home" / "tmp").is_dir()
    assert env["PATH"].split(os.pathsep)[:2] == [str(tmp_path / "bin"),
                                                 str(Path(sys.executable).parent)]
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert not any("/home/instructor" in value for value in env.values())


def test_timeouts_from_arguments_environment_and_defaults(monkeypatch):
    monkeypatch.delenv("RWK_CELL_TIMEOUT", raising=False)
    monkeypatch.setenv("RWK_NOTEBOOK_TIMEOUT", "120")
    assert Timeouts.from_environment() == Timeouts(300, 120)
    assert Timeouts.from_environment(cell=5, notebook=9) == Timeouts(5, 9)
    monkeypatch.setenv("RWK_CELL_TIMEOUT", "soon")
    with pytest.raises(UsageError, match="RWK_CELL_TIMEOUT"):
        Timeouts.from_environment()
    with pytest.raises(UsageError, match="more than 0"):
        Timeouts.from_environment(cell=0, notebook=1)


def test_a_secret_printed_in_two_pieces_of_a_stream_is_masked_whole():
    token = "eyJhbGciOiJSUzI1NiJ9.payload.signature"
    executed = _notebook(_cell("!cat $KUBECONFIG",
                               {"output_type": "stream", "name": "stdout",
                                "text": f"token: {token[:12]}"},
                               {"output_type": "stream", "name": "stdout",
                                "text": f"{token[12:]}\n"}))
    masked = handed_in.mask(executed, [token])
    assert masked["cells"][0]["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "token: ***\n"}]


class _Listed:
    """A snapshot's Reader for one namespace: `list(kind, namespace)` from fixed objects."""

    def __init__(self, **kinds: list[dict]) -> None:
        self.kinds = kinds

    def list(self, kind: str, namespace: str | None = None) -> list[dict]:
        return [o for o in self.kinds.get(kind, []) if o["metadata"]["namespace"] == namespace]


def _deployment(replicas: int = 2, generation: int = 3, **status: int) -> dict:
    counts = {"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2,
              "readyReplicas": 2, "availableReplicas": 2, **status}
    return {"metadata": {"namespace": "ns", "name": "api", "generation": generation},
            "spec": {"replicas": replicas}, "status": counts}


def test_a_namespace_at_rest_is_one_whose_workloads_caught_up():
    from checker.classroom.submissions import at_rest

    assert at_rest(_Listed(deployment=[_deployment()]), "ns")
    assert at_rest(_Listed(), "ns")   # nothing in it
    assert not at_rest(_Listed(deployment=[_deployment(generation=4)]), "ns")
    assert not at_rest(_Listed(deployment=[_deployment(readyReplicas=1)]), "ns")
    assert not at_rest(_Listed(statefulset=[_deployment(replicas=3)]), "ns")
    assert not at_rest(_Listed(deployment=[_deployment(updatedReplicas=1, replicas=3)]), "ns")
    assert at_rest(_Listed(deployment=[{**_deployment(), "metadata": {
        "namespace": "other", "name": "api", "generation": 9}}]), "ns")


def test_pending_or_deleted_pods_unbound_claims_and_hpas_without_metrics_are_on_their_way():
    from checker.classroom.submissions import at_rest

    def pod(**extra: object) -> dict:
        return {"metadata": {"namespace": "ns", "name": "p", **extra.pop("meta", {})},
                "status": {"phase": "Running", **extra}}

    assert at_rest(_Listed(pod=[pod()]), "ns")
    assert not at_rest(_Listed(pod=[pod(phase="Pending")]), "ns")
    assert not at_rest(_Listed(pod=[pod(meta={"deletionTimestamp": "2026-12-02T05:00:00Z"})]),
                       "ns")
    claim = {"metadata": {"namespace": "ns", "name": "data"}, "status": {"phase": "Pending"}}
    assert not at_rest(_Listed(persistentvolumeclaim=[claim]), "ns")
    hpa = {"metadata": {"namespace": "ns", "name": "h"}, "status": {}}
    assert not at_rest(_Listed(horizontalpodautoscaler=[hpa]), "ns")
    # The controller's status after a failed metrics read: entries without values.
    hpa["status"] = {"currentMetrics": [{"type": ""}], "conditions": [
        {"type": "AbleToScale", "status": "True"},
        {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric"}]}
    assert not at_rest(_Listed(horizontalpodautoscaler=[hpa]), "ns")
    hpa["status"]["conditions"][1] = {"type": "ScalingActive", "status": "True"}
    assert at_rest(_Listed(horizontalpodautoscaler=[hpa]), "ns")


def test_a_refused_read_is_never_at_rest():
    from checker.classroom.submissions import at_rest
    from checker.errors import AccessDenied

    class Refusing(_Listed):
        def list(self, kind: str, namespace: str | None = None) -> list[dict]:
            raise AccessDenied("list", kind, namespace)

    assert not at_rest(Refusing(), "ns")


def test_a_kernel_that_never_answers_is_the_machines_trouble_and_nothing_else_is() -> None:
    import importlib.util

    path = ROOT / "checker" / "classroom" / "_papermill_main.py"
    spec = importlib.util.spec_from_file_location("_papermill_main", path)
    main = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main)
    assert main._kernel_trouble(RuntimeError("Kernel didn't respond in 60 seconds"))
    assert main._kernel_trouble(RuntimeError("Kernel died before replying to kernel_info"))
    assert not main._kernel_trouble(RuntimeError("the student's own error"))
    assert not main._kernel_trouble(ValueError("Kernel didn't respond"))
    assert main.START_TIMEOUT >= 120


def _tiny_notebook(*sources: str) -> dict:
    cells = [{"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
              "execution_count": None, "id": f"c{i}"} for i, source in enumerate(sources)]
    cells[0]["metadata"]["tags"] = ["parameters"]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                        "display_name": "Python 3"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.mark.parametrize("ready", [True, False], ids=["ready", "started-by-papermill"])
def test_a_graded_kernel_talks_over_sockets_in_the_graders_folder_not_tcp_ports(
        tmp_path: Path, ready: bool) -> None:
    # jupyter_client's TCP ports are picked, let go and bound again by the kernel: with
    # notebooks graded at once, another process took one in between and a kernel died at its
    # start. A real papermill run: the kernel reports its own connection.
    source, output, sockets = tmp_path / "in.ipynb", tmp_path / "out.ipynb", tmp_path / "s"
    sockets.mkdir()
    source.write_text(json.dumps(_tiny_notebook(
        'NAMESPACE = "x"', "import json, os\nfrom ipykernel import get_connection_info\n"
                           "info = json.loads(get_connection_info())\n"
                           "info['rwk'] = sorted(k for k in os.environ if k.startswith('RWK_'))\n"
                           "print(json.dumps(info))")))
    main = ROOT / "checker" / "classroom" / "_papermill_main.py"
    done = subprocess.run(
        [sys.executable, str(main), str(source), str(output), "ns", "60", str(tmp_path),
         *(["--ready"] if ready else [])], input="go\n", capture_output=True, text=True,
        timeout=120, env={**os.environ, "RWK_KERNEL_SOCKETS_IN": str(sockets)})
    assert done.returncode == 0, done.stderr
    text = json.loads(output.read_text())["cells"][-1]["outputs"][0]["text"]
    printed = json.loads("".join(text))   # a string, or a list of lines
    assert printed["transport"] == "ipc"
    assert Path(printed["ip"]).parent.parent == sockets
    assert list(sockets.iterdir()) == []   # its folder is gone with it
    assert "RWK_KERNEL_SOCKETS_IN" not in printed["rwk"]   # nothing of the grader's


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped does not count)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups (POSIX)")
def test_a_killed_run_takes_its_kernel_along_and_does_not_wait_on_its_pipe():
    # A stand-in for papermill (real processes): it starts a "kernel" in a session of its
    # own with JPY_PARENT_PID set, as jupyter_client does; the kernel shares its stderr.
    # A batch once hung on reading that pipe to its end after killing papermill's group.
    script = ("import os, subprocess, sys, time\n"
              "kernel = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
              " start_new_session=True, env={**os.environ, 'JPY_PARENT_PID': str(os.getpid())})\n"
              "print(kernel.pid, flush=True)\n"
              "time.sleep(120)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    kernel = int(child.stdout.readline())
    try:
        started = time.monotonic()
        submissions._killed(child)
        assert time.monotonic() - started < submissions.STDERR_WAIT
        assert child.returncode is not None
        deadline = time.monotonic() + 5
        while _alive(kernel) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(kernel), "the kernel outlived the papermill process it belonged to"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(kernel, signal.SIGKILL)
