"""The kind suite: one real kind cluster, real containers, for the whole test session.

The cluster is the course's own (`Kind.up`: three nodes, metrics-server, the `standard`
StorageClass), named rwk-test with a kubeconfig of its own. Where no registry answers (these
machines, CI) its node image and every image it runs are built here first (`rwk node-image`,
cached). One cluster at a time: a second kind cluster on a cgroup v1 host can fail (kind
#3340), so the pytest-xdist workers share this one (shared.py): the first kind test creates
it, the others wait for it, and the session deletes it at its end. The tests run in the groups
groups.py gives, each in namespaces of its own; test_zz_lifecycle.py stops, restarts and
deletes the cluster after all the others.

Without a Docker daemon the suite is skipped, saying so; under CI=true a missing daemon fails
it instead, since .ci/run starts one.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest
from kubernetes import client, config

from checker.clusters import _proc
from checker.clusters.base import Kubectl
from checker.clusters.kind import Kind

from ..integration.conftest import fresh_namespace
from ..sandboxes import KUBECTL_ENV
from . import shared
from .groups import SUITE

KIND_TEST_COST = 10.0
"""Rough seconds a test of this suite takes (a variant's, say), for the order groups are
handed out in (tests/conftest.py); the lessons and the cluster's creation declare their own."""


def _say(message: str) -> None:
    print(f"[kind] {message}", flush=True)


def docker_answers() -> bool:
    return _proc.run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=20).ok


def _create(cluster: Kind) -> None:
    if cluster.exists():        # left over from an interrupted session
        cluster.down(_say)
    cluster.up(_say)
    shared.favour_the_nodes(_say)


@pytest.fixture(scope="session")
def kind_cluster() -> Kind:
    """The session's kind cluster, created by the first kind test of any worker, waited for
    by the others (shared.py), deleted when the session ends (test_zz_lifecycle.py deletes
    it earlier, and says so)."""
    if not docker_answers():
        if os.environ.get("CI") == "true":
            pytest.fail("no Docker daemon answers, and CI must run the kind suite (.ci/run "
                        "starts dockerd)")
        pytest.skip("the kind suite needs a Docker daemon, and none answers here")
    cluster, state = shared.created(_create)
    if state != shared.UP:
        pytest.fail(f"another worker could not create the kind cluster: {state}")
    return cluster


def pytest_runtest_logfinish(nodeid: str) -> None:
    """Each kind test, once done (passed, failed or skipped), for the lifecycle to wait on."""
    shared.record_finished(nodeid)


@pytest.fixture(scope="session")
def sandbox(kind_cluster: Kind) -> Kind:
    """The kind cluster, under the name the sandbox suite's tests take their cluster by
    (test_variants_on_kind.py runs them here): they read its context and kubeconfig."""
    return kind_cluster


@pytest.fixture(scope="session")
def kubectl(kind_cluster: Kind) -> Kubectl:
    return dataclasses.replace(kind_cluster.kubectl(), env={**os.environ, **KUBECTL_ENV})


@pytest.fixture(scope="session")
def api(kind_cluster: Kind) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kind_cluster.kubeconfig),
                                         context=kind_cluster.context)


@pytest.fixture
def namespace(api: client.ApiClient, request: pytest.FixtureRequest) -> Iterator[str]:
    with fresh_namespace(api, request.node.name) as name:
        yield name


VARIANTS_THAT_DIFFER_ON_KIND = {
    "test_ingress_variant[backend pods never Ready]":
        "the variant makes pods unready through the sandbox's readiness switch (a label), "
        "which a real kubelet ignores",
    "test_probes_variant[readiness path /ready]":
        "the real readiness probe fails too, so probes-pods-ready also fails, as it should",
    "test_probes_variant[named port of another number]":
        "the real probes fail too, so probes-pods-ready also fails, as it should",
    "test_storage_variant[claim ReadWriteMany]":
        "local-path-provisioner refuses ReadWriteMany: the claim stays Pending and the "
        "claims-bound criterion fails too, as it should",
    "test_storage_variant[image postgres:16]":
        "no registry answers here, so the pod never starts and more criteria fail",
}
"""Variant tests of the sandbox suite whose exact expectation (this criterion fails, every
other passes) does not hold on a real cluster, and why: on kind the same mistake has real
consequences the sandbox does not simulate. They are not run here; the sandbox suite runs
them."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        differs = (item.nodeid.startswith("tests/kind/test_variants_on_kind.py::")
                   and item.name in VARIANTS_THAT_DIFFER_ON_KIND)
        (dropped if differs else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
