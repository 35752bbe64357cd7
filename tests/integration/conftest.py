"""Integration tests run against the real sandbox of their test process (`sandbox`, in
tests/conftest.py), a fresh namespace per test. Nothing has to be running before the tests."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from checker.clusters.base import Kubectl
from checker.clusters.sandbox import Sandbox

from ..sandboxes import KUBECTL_ENV
from .polling import pauses


@pytest.fixture(scope="session")
def kubectl(sandbox: Sandbox) -> Kubectl:
    return dataclasses.replace(sandbox.kubectl(), env={**os.environ, **KUBECTL_ENV})


@pytest.fixture(scope="session")
def api(sandbox: Sandbox) -> client.ApiClient:
    """The official Python client, bound to the sandbox's context."""
    return config.new_client_from_config(config_file=str(sandbox.kubeconfig),
                                         context=sandbox.context)


@contextmanager
def fresh_namespace(api: client.ApiClient, label: str) -> Iterator[str]:
    """A new namespace named after `label` (made unique), deleted afterwards without waiting.
    Through the client, not kubectl: about 200 tests use one, and a kubectl process costs
    0.1 CPU-s."""
    slug = re.sub(r"[^a-z0-9]+", "-", label[:30].lower()).strip("-")
    name = f"t-{slug}-{uuid.uuid4().hex[:5]}"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        try:
            core.delete_namespace(name)
        except ApiException as error:
            if error.status not in (404, 409):   # the test removed it, or it is going already
                raise


@pytest.fixture
def namespace(api: client.ApiClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test (`fresh_namespace`)."""
    with fresh_namespace(api, request.node.name) as name:
        yield name


def apply(kubectl: Kubectl, manifest: str, namespace: str) -> None:
    result = kubectl("apply", "-n", namespace, "-f", "-", input=manifest)
    assert result.ok, result.output


def get(kubectl: Kubectl, namespace: str, *what: str) -> dict:
    result = kubectl("get", "-n", namespace, *what, "-o", "json")
    assert result.ok, result.output
    return json.loads(result.stdout)


def wait_for(predicate: Callable[[], object], timeout: float, what: str,
             interval: float = 0.3) -> object:
    """Poll `predicate` until it returns something truthy, every `interval` seconds at
    first and less often later (polling.py); fail naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    waits = pauses(interval)
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(next(waits))
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def rolled_out(kubectl: Kubectl, namespace: str, name: str = "api-server") -> bool:
    """EXERCISES.md's definition: observed generation caught up, all replicas updated,
    ready and available."""
    d = get(kubectl, namespace, "deployment", name)
    s, want = d.get("status", {}), d["spec"]["replicas"]
    return (s.get("observedGeneration", 0) >= d["metadata"]["generation"]
            and s.get("updatedReplicas") == want and s.get("readyReplicas") == want
            and s.get("availableReplicas") == want)
