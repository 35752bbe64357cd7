"""`rwk grade --submissions` with no cluster named, as the Gradescope and GitHub Classroom
autograders run it: it starts a sandbox of its own (tuned to answer sooner: GRADING_FLAGS),
grades on it, and removes it. One student hands in the solutions of exercises 01 and 07
(the autoscaling one waits for its HPA's first metrics)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker.clusters import binaries

pytestmark = [pytest.mark.cluster, pytest.mark.cost(60)]

ROOT = Path(__file__).resolve().parents[2]
RWK = Path(sys.executable).parent / "rwk"
HANDED_IN = ("01-namespaces.ipynb", "07-autoscaling.ipynb")


def test_without_a_cluster_it_grades_on_a_sandbox_of_its_own_and_removes_it(tmp_path):
    (tmp_path / "roster.csv").write_text("student,name\nsolo,Solo Student\n")
    for name in HANDED_IN:
        (tmp_path / "handed-in" / "solo").mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "solutions" / name, tmp_path / "handed-in" / "solo" / name)
    env = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
    env["KUBECONFIG"] = str(tmp_path / "no-such-kubeconfig")   # nothing else to reach
    done = subprocess.run(
        [str(RWK), "grade", "roster.csv", "--submissions", "handed-in", "--out", "grades",
         "--exercises", "namespaces,autoscaling"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    said = done.stdout + done.stderr
    assert done.returncode == 0, said[-3000:]

    started = re.search(r"starting sandbox '(rwk-grade-\d+)' for grading", said)
    assert started, said[-3000:]
    assert "HPAs synced every 5 s" in said
    assert f"sandbox {started[1]!r} stopped and removed" in said
    assert not (binaries.cache_dir() / "kwok" / "clusters" / started[1]).exists()

    student = json.loads((tmp_path / "grades" / "grades.json").read_text())["students"][0]
    failing = [(exercise, c["id"], c["message"]) for exercise, report in
               student["reports"].items() for c in report["criteria"] if not c["passed"]]
    assert student["score"] == student["max_score"] > 0, failing
    scaling = next(c for c in student["reports"]["autoscaling"]["criteria"]
                   if c["id"] == "hpa-scaling-active")
    assert scaling["passed"], scaling
