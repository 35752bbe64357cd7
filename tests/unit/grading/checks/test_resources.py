"""The resources checks on a fake cluster state: what the running pods carry."""

from __future__ import annotations

import copy

import pytest

from checker.grading.checks import resources
from checker.grading.model import Failure

from ..fakes import FakeState, container, workload

TASK = {"requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"}}


def rolled_out(deployed: dict | None, running: dict | None) -> FakeState:
    """A Deployment of one replica, rolled out, whose one Ready pod runs `running`."""
    fields = {"resources": deployed} if deployed is not None else {}
    dep = workload(replicas=1, uid="dep", containers=[container(**fields)])
    dep["metadata"]["generation"] = 1
    dep["status"] = {"observedGeneration": 1, "updatedReplicas": 1, "readyReplicas": 1,
                     "availableReplicas": 1}
    rs = {"metadata": {"name": "api-server-1", "uid": "rs",
                       "ownerReferences": [{"kind": "Deployment", "uid": "dep"}]}}
    pod_fields = {"resources": running} if running is not None else {}
    pod = {"metadata": {"name": "api-server-1-a", "ownerReferences": [{"uid": "rs"}]},
           "spec": {"containers": [container(**pod_fields)]},
           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    return FakeState(deployment=[dep], replicaset=[rs], pod=[pod])


def test_pods_that_carry_the_deployments_resources_pass():
    assert resources.pods_carry_them(rolled_out(TASK, TASK)) is None


def test_a_pod_running_other_resources_fails():
    stale = copy.deepcopy(TASK)
    stale["limits"]["memory"] = "256Mi"
    with pytest.raises(Failure, match="pod api-server-1-a runs with limits.memory 256Mi"):
        resources.pods_carry_them(rolled_out(TASK, stale))


@pytest.mark.parametrize("deployed", [None, {}, {"requests": {}, "limits": {}}])
def test_a_deployment_without_resources_does_not_pass(deployed):
    """'The running pods carry these resources' must not hold of resources never set,
    even when the pods get some from a LimitRange."""
    for running in (None, TASK):
        with pytest.raises(Failure, match="container api-server of Deployment api-server "
                                          "sets no resources"):
            resources.pods_carry_them(rolled_out(deployed, running))
