"""`rwk grade --submissions` on a real sandbox: handed-in notebooks re-run with papermill, each
student in a fresh namespace with their own restricted kubeconfig, then graded.

One batch (a module fixture, the whole `rwk grade` process) of eleven students handing in
the first three exercises' notebooks (or the first of them, up to the one their case is
about: HANDED_IN): three hand in the solutions; the others a wrong value,
a missing step (with a Secret value printed), a cell that raises, an endless loop (the cell
interrupted at its timeout), a cell that ignores the interrupt (the notebook killed at its
timeout), a cell that deletes another student's namespace and reads its Secrets and prints
its own kubeconfig, a look at the kernel's environment, an empty folder, and a misnamed
notebook beside a file that is not one. Each test then reads the files.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from checker.clusters.sandbox import Sandbox

pytestmark = [pytest.mark.cluster, pytest.mark.cost(18)]

ROOT = Path(__file__).resolve().parents[2]
RWK = Path(sys.executable).parent / "rwk"
EXERCISES = ("namespaces", "configmaps", "secrets")
FILES = {"namespaces": "01-namespaces.ipynb", "configmaps": "02-configmaps.ipynb",
         "secrets": "03-secrets.ipynb"}
CELL_TIMEOUT, NOTEBOOK_TIMEOUT = 50, 150
# Both must hold on a loaded machine, six notebooks graded at once beside five test workers:
# a passing notebook's slowest cell within CELL_TIMEOUT (a cold CI run saw one past 40 s), and
# the looping notebook's other cells within NOTEBOOK_TIMEOUT - CELL_TIMEOUT (at 60 and 120,
# they took more than 60 s in one run).
CANARY = f"canary-{uuid.uuid4().hex}"
PASSING = ("ann", "bea", "cid")


def _solution(name: str) -> dict:
    return json.loads((ROOT / "solutions" / name).read_text())


def _code(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": source}


def _index(notebook: dict, needle: str) -> int:
    return next(i for i, cell in enumerate(notebook["cells"])
                if needle in "".join(cell["source"]))


def _edited(name: str, *, insert_after: str | None = None, cell: str | None = None,
            replace: tuple[str, str] | None = None, drop: str | None = None) -> dict:
    notebook = copy.deepcopy(_solution(name))
    if replace:
        at = _index(notebook, replace[0])
        source = "".join(notebook["cells"][at]["source"])
        notebook["cells"][at]["source"] = source.replace(*replace)
    if drop:
        del notebook["cells"][_index(notebook, drop)]
    if cell is not None:
        at = _index(notebook, insert_after) + 1 if insert_after else len(notebook["cells"]) - 1
        notebook["cells"].insert(at, _code(cell))
    return notebook


def _write(folder: Path, name: str, notebook: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(notebook, indent=1))


def _hand_in(root: Path, ns: dict[str, str]) -> None:
    solutions = list(FILES.values())
    for student in (*PASSING, "wrong", "missing", "raises", "loop", "hang", "attacker",
                    "envprobe"):
        for name in solutions[:HANDED_IN.get(student, len(solutions))]:
            _write(root / student, name, _solution(name))
    _write(root / "wrong", "02-configmaps.ipynb", _edited(
        "02-configmaps.ipynb", replace=('LOG_LEVEL: "info"', 'LOG_LEVEL: "debug"')))
    _write(root / "missing", "03-secrets.ipynb", _edited(
        "03-secrets.ipynb", drop="kubectl patch deployment api-server",
        replace=('password=$(head -c 24 /dev/urandom | base64 | tr -d \'/+=\')',
                 f"password={CANARY}"),
        insert_after="kubectl create secret generic db-credentials",
        cell='%%bash -s "$NAMESPACE"\n'
             "kubectl get secret db-credentials -n \"$1\" -o jsonpath='{.data.password}'"
             " | base64 -d; echo\n"
             "kubectl get secret db-credentials -n \"$1\" -o yaml\n"))
    _write(root / "raises", "01-namespaces.ipynb", _edited(
        "01-namespaces.ipynb", insert_after="name: compute-quota",
        cell='raise RuntimeError("the student\'s own typo")\n'))
    _write(root / "loop", "01-namespaces.ipynb", _edited(
        "01-namespaces.ipynb", insert_after="name: compute-quota",
        cell="import time\nwhile True:\n    time.sleep(1)\n"))
    _write(root / "hang", "02-configmaps.ipynb", _edited(
        "02-configmaps.ipynb", insert_after="name: api-config",
        cell="import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
             "while True:\n    time.sleep(1)\n"))
    victim = ns["ann"]
    _write(root / "attacker", "01-namespaces.ipynb", _edited(
        "01-namespaces.ipynb", insert_after="name: deployer-manages-deployments",
        cell=f"%%bash\nkubectl get secrets -n {victim} -o yaml\n"
             "cat \"$KUBECONFIG\"\n"
             f"kubectl delete namespace {victim} --wait=false\n"))
    _write(root / "envprobe", "01-namespaces.ipynb", _edited(
        "01-namespaces.ipynb", cell="import json, os, subprocess\n"
        "print('ENVIRONMENT=' + json.dumps(dict(os.environ), sort_keys=True))\n"
        "nodes = subprocess.run(['kubectl', 'get', 'nodes'], capture_output=True, "
        "text=True)\nprint('NODES=' + json.dumps(nodes.returncode) + ' ' + nodes.stderr)\n"
        "home = os.path.expanduser('~/.kube/config')\n"
        "print('HOME_KUBECONFIG=' + str(os.path.exists(home)))\n"))
    (root / "empty").mkdir()
    (root / "odd").mkdir()
    (root / "odd" / "02-configmap.ipynb").write_text(
        json.dumps(_solution("02-configmaps.ipynb")))
    (root / "odd" / "03-secrets.ipynb").write_text("print('not a notebook')\n")
    (root / "odd" / "notes.txt").write_text("my notes\n")


HANDED_IN = {"wrong": 2, "raises": 1, "attacker": 1, "envprobe": 1}
"""How many of the solutions, in course order, a student hands in (the others all three)
before their case edits one: only as far as the notebook their case is about (each builds
on the one before), so the batch runs 23 notebooks, not 30."""


STUDENTS = ("hang", "loop", *PASSING, "wrong", "missing", "raises", "attacker", "envprobe",
            "empty", "odd")
"""In roster order, which is the order they start in: the slowest first."""


@pytest.fixture(scope="module")
def batch(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One `rwk grade --submissions` process for the whole class; what it wrote and said."""
    tag = uuid.uuid4().hex[:5]
    ns = {student: f"subm-{tag}-{student}" for student in STUDENTS}
    base = tmp_path_factory.mktemp("submissions")
    roster = base / "roster.csv"
    roster.write_text("student,name,email,namespace\n" + "".join(
        f"{s},Student {s},{s}@example.org,{ns[s]}\n" for s in STUDENTS))
    handed = base / "handed-in"
    _hand_in(handed, ns)
    out = base / "grades"
    env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig),
           "RWK_CELL_TIMEOUT": str(CELL_TIMEOUT), "RWK_NOTEBOOK_TIMEOUT": str(NOTEBOOK_TIMEOUT)}
    done = subprocess.run(
        [str(RWK), "grade", str(roster), "--submissions", str(handed), "--out", str(out),
         "--exercises", ",".join(EXERCISES), "--format", "gradescope", "--jobs", "6",
         "--context", sandbox.context, "--kubeconfig", str(sandbox.kubeconfig)],
        env=env, capture_output=True, text=True, timeout=900, cwd=base)
    grades = json.loads((out / "grades.json").read_text()) if (out / "grades.json").is_file() \
        else None
    return {"done": done, "out": out, "ns": ns, "grades": grades, "sandbox": sandbox}


def _student(batch: dict, student: str) -> dict:
    assert batch["grades"] is not None, batch["done"].stderr[-3000:]
    return next(s for s in batch["grades"]["students"] if s["student"] == student)


def _criterion(batch: dict, student: str, exercise: str, criterion: str) -> dict:
    report = _student(batch, student)["reports"][exercise]
    return next(c for c in report["criteria"] if c["id"] == criterion)


def _failing(batch: dict, student: str, exercise: str) -> set[str]:
    report = _student(batch, student)["reports"][exercise]
    return {c["id"] for c in report["criteria"] if not c["passed"]}


def _executed(batch: dict, student: str, name: str) -> str:
    notebook = json.loads((batch["out"] / "executed" / batch["ns"][student] / name).read_text())
    return "\n".join("".join(o.get("text", "")) + "".join(o.get("traceback", [])) +
                     o.get("evalue", "") for cell in notebook["cells"]
                     for o in cell.get("outputs", []))


def test_the_batch_finishes_with_every_student_graded(batch):
    done = batch["done"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert [s["student"] for s in batch["grades"]["students"]] == list(STUDENTS)
    for student in STUDENTS:
        reports = _student(batch, student)["reports"]
        assert list(reports) == list(EXERCISES)
    for name in ("gradebook.csv", "criteria.csv", "canvas.csv"):
        assert (batch["out"] / name).is_file()


def test_the_solutions_pass_every_exercise(batch):
    for student in PASSING:
        graded = _student(batch, student)
        failing = [(e, c["id"], c["message"]) for e, r in graded["reports"].items()
                   for c in r["criteria"] if not c["passed"]]
        assert graded["score"] == graded["max_score"] > 0, (student, failing)
        for exercise in EXERCISES:
            assert _failing(batch, student, exercise) == set()
            ran = _criterion(batch, student, exercise, "notebook-ran")
            assert ran["points"] == 0 and FILES[exercise] in ran["message"]
            assert (batch["out"] / "executed" / batch["ns"][student] / FILES[exercise]).is_file()


def test_reports_keep_the_rwk_check_json_shape(batch):
    report = _student(batch, "ann")["reports"]["configmaps"]
    assert list(report) == ["exercise", "namespace", "context", "passed", "score",
                            "max_score", "checked_at", "criteria"]
    assert report["namespace"] == batch["ns"]["ann"]
    assert all(list(c) == ["id", "title", "passed", "points", "message", "hint"]
               for c in report["criteria"])


def test_a_wrong_value_fails_its_criterion_naming_it(batch):
    assert _failing(batch, "wrong", "configmaps") == {"configmap-values"}, \
        _student(batch, "wrong")["reports"]["configmaps"]["criteria"]
    message = _criterion(batch, "wrong", "configmaps", "configmap-values")["message"]
    assert "LOG_LEVEL" in message and "debug" in message
    assert _failing(batch, "wrong", "namespaces") == set()


def test_a_missing_step_fails_what_it_would_have_done(batch):
    failing = _failing(batch, "missing", "secrets")
    assert "secret-env-refs" in failing and "secret-exists" not in failing
    assert "DB_PASSWORD" in _criterion(batch, "missing", "secrets", "secret-env-refs")["message"]


def test_a_raising_cell_is_named_and_the_rest_of_the_notebook_runs(batch):
    ran = _criterion(batch, "raises", "namespaces", "notebook-ran")
    assert not ran["passed"]
    assert "RuntimeError: the student's own typo" in ran["message"]
    assert "code cell 5" in ran["message"], ran["message"]
    # the cells after it ran: the LimitRange and the deployer's rights are there
    assert _failing(batch, "raises", "namespaces") == {"notebook-ran"}
    feedback = (batch["out"] / "feedback" / f"{batch['ns']['raises']}.html").read_text()
    assert "the student&#39;s own typo" in feedback or "the student's own typo" in feedback
    results = json.loads((batch["out"] / "gradescope" / batch["ns"]["raises"] /
                          "results.json").read_text())
    test = next(t for t in results["tests"] if t["tags"] == ["namespaces", "notebook-ran"])
    assert test["status"] == "failed" and test["max_score"] == 0


def test_an_endless_loop_is_interrupted_at_the_cell_timeout(batch):
    ran = _criterion(batch, "loop", "namespaces", "notebook-ran")
    assert not ran["passed"]
    assert f"ran past its {CELL_TIMEOUT} s timeout and was interrupted" in ran["message"]
    assert _failing(batch, "loop", "namespaces") == {"notebook-ran"}
    run = json.loads((batch["out"] / "executed" / batch["ns"]["loop"] / "run.json").read_text())
    assert [n["outcome"] for n in run["notebooks"]] == ["failed", "ran", "ran"]


def test_a_hang_is_killed_at_the_notebook_timeout_and_the_next_notebook_runs(batch):
    ran = _criterion(batch, "hang", "configmaps", "notebook-ran")
    assert not ran["passed"]
    assert f"stopped at its {NOTEBOOK_TIMEOUT} s timeout" in ran["message"], ran["message"]
    run = json.loads((batch["out"] / "executed" / batch["ns"]["hang"] / "run.json").read_text())
    outcomes = {n["exercise"]: n for n in run["notebooks"]}
    assert outcomes["configmaps"]["outcome"] == "timeout"
    assert outcomes["configmaps"]["seconds"] < NOTEBOOK_TIMEOUT + 30
    assert outcomes["secrets"]["outcome"] == "ran"
    # the ConfigMap was applied before the hang; the Deployment's update after it never was
    failing = _failing(batch, "hang", "configmaps")
    assert "configmap-values" not in failing and "configmap-envfrom" in failing


def test_touching_another_namespace_is_refused_and_visible(batch):
    ran = _criterion(batch, "attacker", "namespaces", "notebook-ran")
    assert not ran["passed"] and "Forbidden" in ran["message"], ran["message"]
    shown = _executed(batch, "attacker", "01-namespaces.ipynb")
    victim = batch["ns"]["ann"]
    assert f'cannot list resource "secrets" in API group "" in the namespace "{victim}"' \
        in shown
    assert 'cannot delete resource "namespaces"' in shown
    assert _failing(batch, "ann", "namespaces") == set()   # the victim's work was intact


def test_the_kernel_cannot_see_the_instructors_kubeconfig(batch):
    shown = _executed(batch, "envprobe", "01-namespaces.ipynb")
    line = next(x for x in shown.splitlines() if x.startswith("ENVIRONMENT="))
    environment = json.loads(line[len("ENVIRONMENT="):])
    instructor = str(batch["sandbox"].kubeconfig)
    assert os.environ.get("KUBECONFIG") != environment["KUBECONFIG"]
    assert environment["KUBECONFIG"].endswith(f"{batch['ns']['envprobe']}.kubeconfig")
    assert not any(instructor in value for value in environment.values()), environment
    assert not any(key.startswith(("RWK_", "KUBERNETES_")) for key in environment)
    assert "HOME_KUBECONFIG=False" in shown
    nodes = next(x for x in shown.splitlines() if x.startswith("NODES="))
    assert nodes.startswith("NODES=1") and "forbidden" in nodes.lower()


def test_an_empty_folder_is_graded_as_not_started(batch):
    for exercise in EXERCISES:
        ran = _criterion(batch, "empty", exercise, "notebook-ran")
        assert not ran["passed"] and f"no notebook {FILES[exercise]}" in ran["message"]
    assert _criterion(batch, "empty", "configmaps", "configmap-values")["passed"] is False
    for budget in ("resource-quota", "limit-range"):   # the classroom's are not theirs
        found = _criterion(batch, "empty", "namespaces", budget)
        assert found["passed"] is False and "the classroom's budget" in found["message"]
    assert _student(batch, "empty")["score"] < _student(batch, "ann")["score"]


def test_misnamed_and_non_notebook_files_are_reported(batch):
    configmaps = _criterion(batch, "odd", "configmaps", "notebook-ran")["message"]
    assert "found 02-configmap.ipynb, which names no exercise" in configmaps
    secrets = _criterion(batch, "odd", "secrets", "notebook-ran")["message"]
    assert "03-secrets.ipynb is not a notebook" in secrets
    run = json.loads((batch["out"] / "executed" / batch["ns"]["odd"] / "run.json").read_text())
    assert any(line.startswith("notes.txt: not a notebook") for line in run["ignored"])
    assert "notes.txt: not a notebook" in batch["done"].stderr


def test_no_secret_value_or_token_in_any_file(batch):
    shown = _executed(batch, "missing", "03-secrets.ipynb")
    assert "***" in shown   # the notebook printed the password; the copy masks it
    forms = {CANARY, base64.b64encode(CANARY.encode()).decode()}
    for path in batch["out"].rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not any(form in text for form in forms), path
            assert "eyJhbGciOi" not in text, f"a token in {path}"   # a JWT's header
    assert "client-key-data" not in _executed(batch, "attacker", "01-namespaces.ipynb")
    assert CANARY not in batch["done"].stdout + batch["done"].stderr


def test_the_namespaces_are_removed_afterwards(batch):
    kubectl = batch["sandbox"].kubectl()
    listed = kubectl("get", "namespaces", "-o", "json")
    assert listed.ok, listed.output
    left = {item["metadata"]["name"] for item in json.loads(listed.stdout)["items"]
            if item["status"].get("phase") != "Terminating"}
    assert not left & set(batch["ns"].values())
