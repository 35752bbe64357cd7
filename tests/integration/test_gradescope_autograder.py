"""autograders/gradescope/run_autograder, run here as Gradescope runs it: a temporary folder laid
out as Gradescope's /autograder (submission/, submission_metadata.json, results/), the one
submission graded by `rwk grade --submissions`, and results.json checked field by field
against Gradescope's Autograder Specifications
(gradescope-autograders.readthedocs.io/en/latest/specs/) and the checker's own reports.

The grading runs on this test process's sandbox (`RWK_GRADE_OPTIONS="--context ...
--kubeconfig ..."`, which run_autograder passes on), not on one of its own: starting one
cost this file about 90 s of CI. What that leaves out is run_autograder's default, `rwk
grade` without --context starting a sandbox for itself: the same Sandbox.up on a free port
with a kubeconfig of its own that every test worker's sandbox runs (tests/sandboxes.py),
with binaries setup.sh downloads beforehand.

The submission is a repository-like upload: the first two exercises' solution notebooks in
an `exercises/` folder, the second with a wrong value, plus a README.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from checker.clusters.sandbox import Sandbox

pytestmark = [pytest.mark.cluster, pytest.mark.cost(13)]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "autograders" / "gradescope" / "run_autograder"
EMAIL = f"ada-{uuid.uuid4().hex[:6]}@example.edu"


@pytest.fixture(scope="module")
def graded(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict:
    autograder = tmp_path_factory.mktemp("autograder")
    upload = autograder / "submission" / "exercises"
    upload.mkdir(parents=True)
    (autograder / "submission" / "README.md").write_text("my work\n")
    (upload / "01-namespaces.ipynb").write_text(
        (ROOT / "solutions" / "01-namespaces.ipynb").read_text())
    wrong = json.loads((ROOT / "solutions" / "02-configmaps.ipynb").read_text())
    for cell in wrong["cells"]:
        cell["source"] = "".join(cell["source"]).replace('MAX_CONNECTIONS: "100"',
                                                         'MAX_CONNECTIONS: "10"')
    (upload / "02-configmaps.ipynb").write_text(json.dumps(wrong))
    (autograder / "submission_metadata.json").write_text(json.dumps({
        "id": 123456, "created_at": "2026-12-01T10:00:00.000000-08:00",
        "assignment": {"id": 25828, "title": "Kubernetes exercises 1-2"},
        "submission_method": "upload",
        "users": [{"email": EMAIL, "id": 1234, "name": "Ada Lovelace"}],
        "previous_submissions": []}))
    (autograder / "results").mkdir()
    env = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
    env.update({"RWK_AUTOGRADER_ROOT": str(autograder), "RWK": str(Path(sys.executable).parent
                                                                  / "rwk"),
                "RWK_EXERCISES": "namespaces,configmaps",
                "RWK_GRADE_OPTIONS": f"--context {sandbox.context} "
                                     f"--kubeconfig {sandbox.kubeconfig}"})
    done = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True,
                          text=True, timeout=600, cwd=autograder)
    path = autograder / "results" / "results.json"
    return {"done": done, "results": json.loads(path.read_text()) if path.is_file() else None}


def test_run_autograder_exits_0_and_writes_results(graded):
    assert graded["done"].returncode == 0, graded["done"].stderr[-3000:]
    assert graded["results"] is not None


def test_results_json_field_by_field(graded):
    results = graded["results"]
    assert set(results) == {"score", "tests", "output"}
    tests = results["tests"]
    namespaces = [t for t in tests if t["tags"][0] == "namespaces"]
    configmaps = [t for t in tests if t["tags"][0] == "configmaps"]
    assert len(namespaces) + len(configmaps) == len(tests)
    for number, group in ((1, namespaces), (2, configmaps)):
        assert [t["number"] for t in group] == [f"{number}.{i}"
                                                for i in range(1, len(group) + 1)]
    for test in tests:
        assert set(test) == {"name", "number", "score", "max_score", "status", "output",
                             "tags"}
        assert isinstance(test["score"], int) and isinstance(test["max_score"], int)
        assert test["status"] in ("passed", "failed")
        assert test["score"] == (test["max_score"] if test["status"] == "passed" else 0)
        assert test["name"].startswith(f"{test['tags'][0]}: ")
    assert results["score"] == sum(t["score"] for t in tests)
    by_id = {tuple(t["tags"]): t for t in tests}
    assert all(t["status"] == "passed" for t in namespaces)
    assert by_id[("configmaps", "configmap-values")]["status"] == "failed"
    assert "MAX_CONNECTIONS" in by_id[("configmaps", "configmap-values")]["output"]
    ran = by_id[("configmaps", "notebook-ran")]
    assert ran["status"] == "passed" and ran["max_score"] == 0
    assert ran["name"] == ("configmaps: The handed-in notebook 02-configmaps.ipynb runs "
                           "without an error")
    assert 0 < results["score"] < sum(t["max_score"] for t in tests)


def test_the_output_says_which_notebooks_ran(graded):
    output = graded["results"]["output"]
    assert "- 01-namespaces.ipynb: ran" in output and "- 02-configmaps.ipynb: ran" in output
    assert "exercises/01-namespaces.ipynb" in graded["done"].stdout


def test_a_broken_layout_still_writes_a_results_json(tmp_path):
    env = {**os.environ, "RWK_AUTOGRADER_ROOT": str(tmp_path)}
    done = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["tests"] == []
    assert "no submission folder" in results["output"]
