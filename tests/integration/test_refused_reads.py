"""A read the grader's credentials may not make fails its own criterion, naming the missing
right; the run completes. Only refused credentials (or no server) stop it, with exit 3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checker.clusters.base import Kubectl
from checker.clusters.sandbox import Sandbox
from checker.grading.runner import grade

from .exercise_helpers import (apply_docs, by_id, create_secret, graded, kubeconfig_with,
                               read_only_kubeconfig, reference)

pytestmark = pytest.mark.cluster

REFUSED = ("secret-exists", "secret-keys")
"""The `secrets` criteria that read the Secret itself; the other two read the Deployment."""

# Everything the read-only helper's role allows, but Secrets: RBAC only adds rights, so the
# core group's resources are listed one by one, without secrets.
ALL_BUT_SECRETS = """
rules:
- apiGroups: [""]
  resources: [namespaces, nodes, pods, services, endpoints, configmaps, serviceaccounts,
              persistentvolumeclaims, persistentvolumes, resourcequotas, limitranges, events]
  verbs: [get, list, watch]
- apiGroups: [apps, batch, autoscaling, policy, networking.k8s.io, discovery.k8s.io,
              storage.k8s.io, rbac.authorization.k8s.io]
  resources: ["*"]
  verbs: [get, list, watch]
- apiGroups: [authorization.k8s.io]
  resources: [subjectaccessreviews]
  verbs: [create]
"""


def rwk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "checker.cli", *args], capture_output=True,
                          text=True, env=dict(os.environ), timeout=120)


def can_i(kubectl: Kubectl, config: Path, *what: str) -> bool:
    done = subprocess.run([kubectl.binary, "--kubeconfig", str(config), "auth", "can-i", *what],
                          capture_output=True, text=True)
    return done.stdout.strip() == "yes"


@pytest.fixture
def secrets_solved(sandbox: Sandbox, kubectl: Kubectl, namespace: str) -> str:
    """The `secrets` reference solution in `namespace`, every criterion passing."""
    create_secret(kubectl, namespace)
    apply_docs(kubectl, reference("secrets", namespace))
    report = graded(sandbox, "secrets", namespace, wait=30)
    assert report.passed, report.to_text()
    return namespace


@pytest.fixture
def no_secrets(sandbox: Sandbox, kubectl: Kubectl, namespace: str,
               tmp_path: Path) -> Iterator[Path]:
    """A kubeconfig for the read-only helper's ServiceAccount, its role narrowed to every
    read but Secrets (the helper still removes the role afterwards)."""
    with read_only_kubeconfig(sandbox, namespace, tmp_path / "no-secrets") as config:
        # The helper's role, by its name, given rules without secrets.
        narrowed = kubectl("apply", "-f", "-", input=(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
            f"metadata: {{name: reader-{namespace}}}\n" + ALL_BUT_SECRETS))
        assert narrowed.ok, narrowed.output
        deadline = time.monotonic() + 30   # the authorizer sees the new rules in a moment
        while can_i(kubectl, config, "get", "secrets", "-n", namespace):
            assert time.monotonic() < deadline, "the narrowed role still allows secrets"
            time.sleep(0.3)
        assert can_i(kubectl, config, "list", "deployments.apps", "-n", namespace)
        yield config


def test_a_refused_read_fails_its_criterion_and_the_rest_pass(secrets_solved, no_secrets):
    namespace = secrets_solved
    report = grade("secrets", namespace=namespace, kubeconfig=str(no_secrets))
    results = by_id(report)
    assert set(results) == {*REFUSED, "secret-env-refs", "no-literal-passwords"}
    assert results["secret-env-refs"].passed, results["secret-env-refs"].message
    assert results["no-literal-passwords"].passed, results["no-literal-passwords"].message
    for refused in REFUSED:
        message = results[refused].message
        assert not results[refused].passed
        assert message.startswith(f"the credentials may not get secrets in namespace "
                                  f"{namespace} (403 Forbidden on secrets/db-credentials, "
                                  f"as system:serviceaccount:{namespace}:reader"), message
        assert f"`kubectl auth can-i get secrets -n {namespace}`" in message
    assert report.score == report.max_score - sum(results[r].points for r in REFUSED)


def test_the_cli_exits_1_on_a_refused_read_and_3_on_refused_credentials(
        sandbox, secrets_solved, no_secrets, tmp_path):
    namespace = secrets_solved
    done = rwk("check", "secrets", "--namespace", namespace, "--kubeconfig", str(no_secrets),
               "--output", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    body = json.loads(done.stdout)
    failed = {c["id"]: c["message"] for c in body["criteria"] if not c["passed"]}
    assert sorted(failed) == sorted(REFUSED), failed
    assert all(m.startswith(f"the credentials may not get secrets in namespace {namespace}")
               for m in failed.values()), failed

    bogus = kubeconfig_with(sandbox, tmp_path / "bogus", {"token": "not-a-valid-token"})
    refused = rwk("check", "secrets", "--namespace", namespace, "--kubeconfig", str(bogus))
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "refused the credentials" in refused.stderr
    assert refused.stdout == ""   # no report: the run stopped
