"""A real sandbox cluster for the integration tests: started once per session, a fresh
namespace per test, stopped at the end. Nothing has to be running before the tests."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from kubernetes import client, config

from checker.backends.base import Kubectl
from checker.backends.sandbox import Sandbox

from ..sandboxes import fresh_sandbox

PODINFO = "ghcr.io/stefanprodan/podinfo"


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A running sandbox named $RWK_TEST_SANDBOX (default rwk-test), with its own kubeconfig.

    Under pytest-xdist each worker starts its own, named after the worker.
    """
    name = os.environ.get("RWK_TEST_SANDBOX", "rwk-test")
    if worker := os.environ.get("PYTEST_XDIST_WORKER"):
        name = f"{name}-{worker}"
    with fresh_sandbox(name, tmp_path_factory.mktemp("kube") / "config") as box:
        yield box


@pytest.fixture(scope="session")
def kubectl(sandbox: Sandbox) -> Kubectl:
    return sandbox.kubectl()


@pytest.fixture(scope="session")
def api(sandbox: Sandbox) -> client.ApiClient:
    """The official Python client, bound to the sandbox's context."""
    return config.new_client_from_config(config_file=str(sandbox.kubeconfig),
                                         context=sandbox.context)


@pytest.fixture
def namespace(kubectl: Kubectl, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"t-{request.node.name[:30].lower().replace('_', '-').strip('-')}-{uuid.uuid4().hex[:5]}"
    result = kubectl("create", "namespace", name)
    assert result.ok, result.output
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


def apply(kubectl: Kubectl, manifest: str, namespace: str) -> None:
    result = kubectl("apply", "-n", namespace, "-f", "-", input=manifest)
    assert result.ok, result.output


def get(kubectl: Kubectl, namespace: str, *what: str) -> dict:
    result = kubectl("get", "-n", namespace, *what, "-o", "json")
    assert result.ok, result.output
    return json.loads(result.stdout)


def wait_for(predicate: Callable[[], object], timeout: float, what: str,
             interval: float = 0.3) -> object:
    """Poll `predicate` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def deployment(name: str = "api-server", replicas: int = 3, tag: str = "6.7.0",
               max_surge: int = 1, max_unavailable: int = 0, extra_spec: str = "") -> str:
    """The course's api-server Deployment and Service (podinfo on 8080)."""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: {max_surge}, maxUnavailable: {max_unavailable}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: {name}
        image: {PODINFO}:{tag}
        args: ["--port=8080"]
        ports: [{{name: http, containerPort: 8080}}]
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: 500m, memory: 512Mi}}
{extra_spec}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def rolled_out(kubectl: Kubectl, namespace: str, name: str = "api-server") -> bool:
    """EXERCISES.md's definition: observed generation caught up, all replicas updated,
    ready and available."""
    d = get(kubectl, namespace, "deployment", name)
    s, want = d.get("status", {}), d["spec"]["replicas"]
    return (s.get("observedGeneration", 0) >= d["metadata"]["generation"]
            and s.get("updatedReplicas") == want and s.get("readyReplicas") == want
            and s.get("availableReplicas") == want)
