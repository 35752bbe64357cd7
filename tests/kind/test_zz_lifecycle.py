"""`rwk stop`, `up`, `reset` and `down` on the real kind cluster, last in the suite (its
tests run in file order on one worker): a stopped cluster keeps its nodes' containers and
everything in it, `up` brings it back with its workloads, `reset` deletes the learner's
namespaces and keeps the system's, and `down` deletes the cluster."""

from __future__ import annotations

import json

import pytest

from ..integration.conftest import wait_for
from .conftest import KIND_TEST_COST

pytestmark = [pytest.mark.cluster, pytest.mark.cost(KIND_TEST_COST)]


def _say(message: str) -> None:
    print(f"[kind] {message}", flush=True)


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
