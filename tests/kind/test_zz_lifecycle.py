"""`rwk stop`, `up`, `reset` and `down` on the real kind cluster, last in the suite: handed
out last, on one worker, they wait until every other kind test has finished on whichever
worker ran it (groups.py), then run in file order. A stopped cluster keeps its nodes' containers and
everything in it, `up` brings it back with its workloads, `reset` deletes the learner's
namespaces and keeps the system's, and `down` deletes the cluster."""

from __future__ import annotations

import json

import pytest

from ..integration.conftest import wait_for
from . import shared
from .conftest import KIND_TEST_COST
from .groups import LIFECYCLE, SUITE

pytestmark = [pytest.mark.cluster, pytest.mark.cost(KIND_TEST_COST)]


def _say(message: str) -> None:
    print(f"[kind] {message}", flush=True)


OTHERS_TIMEOUT = 45 * 60
"""How long the lifecycle waits for the rest of the kind suite (in CI it has taken about
half of that) before it fails, naming what has not finished."""


@pytest.fixture(scope="module", autouse=True)
def alone(request: pytest.FixtureRequest) -> None:
    """The cluster to these tests alone: every other kind test has finished."""
    shared.others_finished([item.nodeid for item in request.session.items], SUITE, LIFECYCLE,
                           OTHERS_TIMEOUT, _say)


@pytest.fixture(scope="module")
def kept(kubectl):
    """A namespace with a running pod that must outlive `stop` and `up`."""
    for command in (("create", "namespace", "kept"),
                    ("run", "survivor", "-n", "kept", "--image=busybox:1.36",
                     "--restart=Always", "--", "sh", "-c", "sleep 3600")):
        done = kubectl(*command)
        assert done.ok, done.output
    done = kubectl("wait", "-n", "kept", "pod/survivor", "--for=condition=Ready",
                   "--timeout=120s", timeout=140)
    assert done.ok, done.output
    return "kept"


def test_stop_then_up_brings_the_cluster_back_with_its_work(kind_cluster, kubectl, kept):
    kind_cluster.stop(_say)
    assert not kubectl.reachable()
    stopped = kind_cluster.runner(["docker", "ps", "-a", "--filter",
                                   f"label=io.x-k8s.kind.cluster={kind_cluster.name}",
                                   "--format", "{{.Status}}"], timeout=30)
    assert stopped.ok and stopped.stdout.strip(), stopped.output
    assert all(line.startswith("Exited") for line in stopped.stdout.splitlines()), stopped.stdout
    kind_cluster.up(_say)
    assert kind_cluster.status().healthy, kind_cluster.status().render()

    def survivor_ready() -> bool:
        done = kubectl("get", "pod", "survivor", "-n", kept, "-o", "json")
        return done.ok and any(c["type"] == "Ready" and c["status"] == "True"
                               for c in json.loads(done.stdout)["status"].get("conditions", []))

    wait_for(survivor_ready, 180, "the pod made before `stop` running again")


def test_reset_deletes_the_learners_namespaces_and_keeps_the_systems(kind_cluster, kubectl,
                                                                       kept):
    removed = kind_cluster.reset(_say)
    assert kept in removed
    names = {n["metadata"]["name"] for n in
             json.loads(kubectl("get", "namespaces", "-o", "json").stdout)["items"]}
    assert kept not in names
    assert {"kube-system", "local-path-storage", "default"} <= names


def test_down_deletes_the_cluster(kind_cluster):
    kind_cluster.down(_say)
    assert not kind_cluster.exists()
    left = kind_cluster.runner(["docker", "ps", "-a", "-q", "--filter",
                                f"label=io.x-k8s.kind.cluster={kind_cluster.name}"], timeout=30)
    assert left.ok and not left.stdout.strip(), left.output
