"""Pure helpers of the rolling-updates checks: the strategy's fields resolved as the
Deployment controller resolves them, image tags; and the replica rule with and without an
HPA, on a fake cluster state."""

from __future__ import annotations

import pytest

from checker.grading.checks import rollouts
from checker.grading.model import Failure

from ..fakes import FakeState, hpa, workload


def test_rolling_bounds_meaning():
    assert rollouts.rolling_bounds({"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                                   3) == (1, 0)
    assert rollouts.rolling_bounds({"rollingUpdate": {"maxSurge": "1", "maxUnavailable": "0"}},
                                   3) == (1, 0)
    assert rollouts.rolling_bounds({}, 3) == (1, 0)      # 25% / 25% at 3 replicas
    assert rollouts.rolling_bounds({}, 8) == (2, 2)
    assert rollouts.rolling_bounds({}, 4) == (1, 1)      # unset: 25% up, 25% down
    # Both come to 0: the controller lets one pod be unavailable, or nothing could move.
    assert rollouts.rolling_bounds({"rollingUpdate": {"maxSurge": "10%",
                                                      "maxUnavailable": "10%"}}, 1) == (1, 0)
    assert rollouts.rolling_bounds({"rollingUpdate": {"maxSurge": "0%",
                                                      "maxUnavailable": "10%"}}, 3) == (0, 1)


@pytest.mark.parametrize("image, tag", [
    ("ghcr.io/stefanprodan/podinfo:6.7.1", "6.7.1"),
    ("ghcr.io/stefanprodan/podinfo", "latest"),
    ("localhost:5000/podinfo:6.7.0", "6.7.0"),
    ("localhost:5000/podinfo", "latest"),
    ("ghcr.io/stefanprodan/podinfo:6.7.0@sha256:abc", "6.7.0"),
    ("ghcr.io/stefanprodan/podinfo@sha256:abc", ""),
])
def test_image_tag(image, tag):
    assert rollouts.image_tag(image) == tag


def test_replicas_three_without_hpa():
    assert rollouts.replica_count(FakeState(deployment=[workload(replicas=3)])) is None
    with pytest.raises(Failure, match="spec.replicas is 2, expected 3"):
        rollouts.replica_count(FakeState(deployment=[workload(replicas=2)]))


def test_replicas_follow_the_hpa():
    note = rollouts.replica_count(FakeState(deployment=[workload(replicas=7)],
                                            horizontalpodautoscaler=[hpa(2, 20)]))
    assert "HorizontalPodAutoscaler api-server-hpa decides" in note
    with pytest.raises(Failure, match="outside HorizontalPodAutoscaler api-server-hpa's "
                                      "bounds 2..5"):
        rollouts.replica_count(FakeState(deployment=[workload(replicas=7)],
                                         horizontalpodautoscaler=[hpa(2, 5)]))
