"""The checker reads only and meets bad input with a clear line (that it never shows a secret:
test_secret_safety.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from checker.grading.runner import grade

from .exercise_helpers import (apply_docs, create_secret, graded, kubeconfig_with,
                               read_only_kubeconfig, reference)

pytestmark = pytest.mark.cluster

EXERCISES = ("namespaces", "configmaps", "secrets")


def rwk(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "checker.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


@pytest.fixture
def all_three(sandbox, kubectl, namespace) -> str:
    """A namespace where the three reference solutions are applied; returns the password."""
    apply_docs(kubectl, reference("namespaces", namespace))
    password = create_secret(kubectl, namespace)
    apply_docs(kubectl, reference("secrets", namespace))
    assert graded(sandbox, "configmaps", namespace, wait=60).passed
    return password


def test_checks_pass_under_a_read_only_service_account(sandbox, kubectl, namespace, all_three,
                                                       tmp_path):
    with read_only_kubeconfig(sandbox, namespace, tmp_path / "grader") as config:
        # The credentials really are read-only: a write is refused.
        refused = subprocess.run([kubectl.binary, "--kubeconfig", str(config), "create",
                                  "configmap", "probe", "-n", namespace],
                                 capture_output=True, text=True)
        assert refused.returncode != 0 and "forbidden" in refused.stderr
        for exercise in EXERCISES:
            report = grade(exercise, namespace=namespace, kubeconfig=str(config))
            assert report.passed, report.to_text()


def test_cli_bad_input_gives_one_line_and_the_contract_code(sandbox, namespace, tmp_path):
    kc = str(sandbox.kubeconfig)
    broken = tmp_path / "broken"
    broken.write_text("apiVersion: v1\nclusters: [\n")
    unreachable = tmp_path / "unreachable"
    conf = yaml.safe_load(Path(kc).read_text())
    for cluster in conf["clusters"]:
        cluster["cluster"]["server"] = "https://127.0.0.1:1"
    unreachable.write_text(yaml.safe_dump(conf))
    refused = kubeconfig_with(sandbox, tmp_path / "refused", {"token": "not-a-valid-token"})
    cases = [
        (("check", "nope"), {}, 2, "unknown exercise 'nope'"),
        (("check", "secrets", "--output", "xml"), {}, 2, "invalid choice: 'xml'"),
        (("check", "secrets", "--wait", "soon"), {}, 2, "not a number of seconds"),
        (("check", "secrets", "--kubeconfig", str(tmp_path / "none")), {}, 2, "no such file"),
        (("check", "secrets", "--kubeconfig", kc, "--context", "nope"), {}, 2,
         "no such context"),
        (("check", "secrets"), {"KUBECONFIG": str(tmp_path / "absent")}, 3,
         "cannot load a kubeconfig"),
        (("check", "secrets", "--kubeconfig", str(broken)), {}, 3, "is broken"),
        (("check", "secrets", "--kubeconfig", str(unreachable)), {}, 3, "cannot reach"),
        (("check", "secrets", "--kubeconfig", str(refused)), {}, 3, "refused the credentials"),
    ]
    for args, env, code, fragment in cases:
        done = rwk(*args, env=env)
        assert done.returncode == code, (args, done.returncode, done.stderr)
        assert fragment in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.startswith("rwk")]
        assert len(lines) == 1, done.stderr

    absent = rwk("check", "configmaps", "--namespace", "absent-ns", "--kubeconfig", kc,
                 "--output", "json")
    assert absent.returncode == 1
    body = json.loads(absent.stdout)
    assert body["passed"] is False and body["namespace"] == "absent-ns"
    assert "namespace 'absent-ns' does not exist" in body["criteria"][0]["message"]


def test_cli_json_contract_and_wait(sandbox, kubectl, namespace):
    apply_docs(kubectl, reference("configmaps", namespace))
    done = rwk("check", "configmaps", "--namespace", namespace, "--kubeconfig",
               str(sandbox.kubeconfig), "--wait", "60", "--output", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    body = json.loads(done.stdout)
    assert list(body) == ["exercise", "namespace", "context", "passed", "score", "max_score",
                          "checked_at", "criteria"]
    assert body["context"] == sandbox.context and body["passed"] is True
    assert body["score"] == body["max_score"] == sum(c["points"] for c in body["criteria"])
    assert all(list(c) == ["id", "title", "passed", "points", "message", "hint"]
               for c in body["criteria"])
