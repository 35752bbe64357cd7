"""`rwk grade ROSTER`, live, on a real sandbox: a class where one student passed, one made
mistakes and one never started is graded right, file by file; each verdict is the one
`rwk check` gives that namespace alone; the whole class costs a few LISTs; no Secret value
reaches a file; bad input exits 2 and an unreachable cluster 3."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from checker.classroom import load_roster
from checker.classroom.grading import ALL, grade_class, grade_snapshot
from checker.kube.client import Cluster
from checker.kube.snapshot import Snapshot

from .conftest import wait_for
from .exercise_helpers import apply_docs, create_secret, find, graded, reference

pytestmark = pytest.mark.cluster

DONE = ("configmaps", "secrets")
"""What the passing student did; the class is graded for every exercise."""


def rwk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "checker.cli", *args], capture_output=True,
                          text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=300)


@pytest.fixture(scope="module")
def school(sandbox, tmp_path_factory):
    """Three students: ada passed configmaps and secrets, zoe broke configmaps (and pasted
    her password into its ConfigMap), lee never started (no namespace)."""
    kubectl = sandbox.kubectl()
    tag = uuid.uuid4().hex[:5]
    ada, zoe, lee = (f"class-{who}-{tag}" for who in ("ada", "zoe", "lee"))
    for name in (ada, zoe):
        assert kubectl("create", "namespace", name).ok
    for exercise in DONE:
        apply_docs(kubectl, reference(exercise, ada))
    create_secret(kubectl, ada)
    password = create_secret(kubectl, zoe)
    broken = reference("configmaps", zoe)
    find(broken, "ConfigMap", "api-config")["data"]["LOG_LEVEL"] = password
    apply_docs(kubectl, broken)
    wait_for(lambda: all(graded(sandbox, e, ada).passed for e in DONE), 90, "ada's exercises")
    wait_for(lambda: [r.id for r in graded(sandbox, "configmaps", zoe).results
                      if not r.passed] == ["configmap-values"], 90, "zoe's rollout")
    roster = tmp_path_factory.mktemp("class") / "roster.csv"
    roster.write_text("student,name,email,namespace,ID,Section\n"
                      f"ada,\"Lovelace, Ada\",ada@example.com,{ada},101,S1\n"
                      f"zoe,Zoë Q,,{zoe},102,S2\nlee,Lee,,{lee},103,S2\n", encoding="utf-8")
    yield {"roster": roster, "ada": ada, "zoe": zoe, "lee": lee, "password": password}
    for name in (ada, zoe):
        kubectl("delete", "namespace", name, "--wait=false")


def _verdicts(report) -> list[tuple]:
    return [(r.id, r.passed, r.message) for r in report.results]


def test_every_verdict_is_the_one_rwk_check_gives_alone(sandbox, school):
    roster = load_roster(school["roster"])
    differing: list = []

    def agree():
        # The two reads are moments apart; a pod starting between them may differ once,
        # a difference of method would every time.
        grades = grade_class(roster, context=sandbox.context, kubeconfig=str(sandbox.kubeconfig))
        differing[:] = [(g.student.student, r.exercise) for g in grades.students
                        for r in g.reports if _verdicts(r) != _verdicts(
                            graded(sandbox, r.exercise, g.student.namespace))]
        return None if differing else grades
    try:
        grades = wait_for(agree, 60, "the class's verdicts to equal rwk check's", interval=2)
    except pytest.fail.Exception:
        pytest.fail(f"class grading and rwk check disagree on {differing}")
    assert grades.exercises == ALL and len(ALL) == 13
    by_student = {g.student.student: g for g in grades.students}
    assert all(by_student["ada"].report(e).passed for e in DONE)
    assert not by_student["zoe"].report("configmaps").passed
    lee = by_student["lee"]
    assert lee.score == 0 and all(
        f"namespace '{school['lee']}' does not exist" in result.message
        for report in lee.reports for result in report.results)


def test_the_class_costs_a_few_lists_not_one_per_student(sandbox, school):
    cluster = Cluster(sandbox.context, sandbox.kubeconfig)
    snapshot = Snapshot(cluster)
    grade_snapshot(snapshot, load_roster(school["roster"]).students, ALL)
    reviews = cluster.requests - len(snapshot.kinds_listed)
    assert len(snapshot.kinds_listed) <= 30, snapshot.kinds_listed
    assert reviews <= 4 * 3, reviews   # the namespaces exercise's access reviews at most


def test_the_files_of_a_class(sandbox, school, tmp_path):
    out = tmp_path / "grades"
    done = rwk("grade", str(school["roster"]), "--out", str(out), "--context",
               sandbox.context, "--kubeconfig", str(sandbox.kubeconfig),
               "--format", "gradescope,github-classroom")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"grading 3 student(s) x {len(ALL)} exercise(s)" in done.stderr
    assert "graded 3 student(s)" in done.stdout

    body = json.loads((out / "grades.json").read_text())
    assert list(body) == ["roster", "context", "graded_at", "exercises", "students"]
    assert body["exercises"] == list(ALL)
    ada = body["students"][0]
    assert (ada["student"], ada["name"], ada["namespace"]) == ("ada", "Lovelace, Ada",
                                                              school["ada"])
    assert ada["reports"]["configmaps"]["passed"] is True, ada["reports"]["configmaps"]

    with open(out / "gradebook.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["student"] for r in rows] == ["ada", "zoe", "lee"]
    assert rows[0]["configmaps"] == str(ada["reports"]["configmaps"]["max_score"])
    zoe = body["students"][1]["reports"]["configmaps"]
    assert rows[1]["configmaps"] == str(zoe["score"]) != str(zoe["max_score"])
    assert rows[2]["total"] == "0"
    assert (rows[0]["ID"], rows[2]["Section"]) == ("101", "S2")

    with open(out / "criteria.csv", encoding="utf-8", newline="") as handle:
        criteria = list(csv.DictReader(handle))
    zoe_level = next(r for r in criteria if r["student"] == "zoe"
                     and r["criterion"] == "configmap-values")
    assert zoe_level["passed"] == "false" and "data.LOG_LEVEL is '***'" in \
        zoe_level["message"]
    canvas = (out / "canvas.csv").read_text(encoding="utf-8").splitlines()
    assert canvas[0].startswith("Student,ID,SIS User ID,SIS Login ID,Section,")
    assert canvas[1].startswith("Points Possible")
    for student in ("ada", "zoe", "lee"):
        page = (out / "feedback" / f"{school[student]}.html").read_text(encoding="utf-8")
        assert "<html" in page.lower()
        assert (out / "gradescope" / school[student] / "results.json").is_file()

    files = [path for path in out.rglob("*") if path.is_file()]
    assert len(files) >= 4 + 3 * 3
    everything = "".join(path.read_text(encoding="utf-8") for path in files) + \
        done.stdout + done.stderr
    assert school["password"] not in everything


def test_bad_input_and_an_unreachable_cluster(sandbox, school, tmp_path):
    kc = ("--context", sandbox.context, "--kubeconfig", str(sandbox.kubeconfig))
    duplicate = tmp_path / "dup.csv"
    duplicate.write_text("student\nada\nada\n")
    cases = [(("grade", str(duplicate), *kc), "line 3: id 'ada' is already used"),
             (("grade", str(school["roster"]), "--exercises", "configmap", *kc),
              "unknown exercise 'configmap'"),
             (("grade", str(school["roster"]), "--format", "excel", *kc),
              "unknown gradebook format 'excel'")]
    for args, fragment in cases:
        done = rwk(*args, "--out", str(tmp_path / "none"))
        assert done.returncode == 2, (args, done.stderr)
        assert fragment in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "none").exists()

    conf = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    for cluster in conf["clusters"]:
        cluster["cluster"]["server"] = "https://127.0.0.1:1"
    gone = tmp_path / "unreachable"
    gone.write_text(yaml.safe_dump(conf))
    done = rwk("grade", str(school["roster"]), "--kubeconfig", str(gone),
               "--out", str(tmp_path / "none"))
    assert done.returncode == 3, done.stderr
    assert "cannot reach" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "none").exists()
